"""The graph Laplacian of random-walk matting (Grady, Schiwietz, Aharon, Westermann, 2005).

Pixels are the nodes of a 4- (or 8-) connected lattice; neighbours ``i`` and ``j`` are joined
by an edge of weight

.. math::

    w_{ij} = \\exp\\big(-\\beta \\, \\lVert Q (I_i - I_j) \\rVert^2\\big),
    \\qquad \\beta = 1 / \\sigma^2,

with colours in RGB scaled to [0, 1] and ``Q`` a linear map of colours learnt from the image
by locality preserving projections (:func:`lpp_colour_transform`; the identity gives Grady's
plain RGB weight). The Laplacian is ``L = D - W`` (``D`` the diagonal of
weighted degrees). The probability that a random walker leaving an unknown pixel first
reaches the foreground is the solution of the Dirichlet problem ``L_UU a_U = -L_UK a_K``
(Grady 2006, Grady et al. 2005), which is what
:func:`matting.methods.random_walk.random_walk` solves.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse
from numba import njit

from matting._inputs import SCALE_LIMITS, as_finite, as_image

__all__ = ["edge_weights", "lpp_colour_transform", "random_walk_laplacian"]

#: sigma of :func:`matting.methods.random_walk.random_walk` and of the builders here:
#: beta = 1 / sigma^2 = 900 for colours in [0, 1].
DEFAULT_SIGMA = 1.0 / 30.0

#: Smallest edge weight kept. ``exp(-beta d^2)`` underflows to exactly 0 for colour distances
#: above about 0.9 (beta = 900); a region walled off by such edges would make the system
#: singular. Weights are raised to this floor instead, which changes no weight that is not
#: already negligible next to the neighbouring ones.
MIN_WEIGHT = 1e-10

#: Smallest variance of the colours along any direction, relative to the largest, in the
#: projection of :func:`lpp_colour_transform`. The projection scales each direction by one
#: over its standard deviation; for a gray image (no variance across channels) or a nearly
#: gray one (only noise there), this bounds that scale to about 30 times that of the
#: dominant direction. The four benchmark photographs have ratios of 1.2e-3 to 2.8e-2, so
#: the floor does not touch them.
LPP_MIN_VARIANCE_RATIO = 1e-3

# A largest colour variance at most this (a standard deviation of 1e-7, far below 16-bit
# quantisation) is rounding in the mean of a uniform image, not colour spread.
_NO_COLOUR_SPREAD = 1e-14

#: Neighbour offsets (dy, dx) in increasing flat-index order, so CSR rows come out sorted.
_OFFSETS = {
    4: np.array([(-1, 0), (0, -1), (0, 0), (0, 1), (1, 0)], dtype=np.int64),
    8: np.array(
        [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 0), (0, 1), (1, -1), (1, 0), (1, 1)],
        dtype=np.int64,
    ),
}


@njit(cache=True, nogil=True, inline="always")
def _edge_weight(image, y, x, ny, nx, beta, min_weight):  # pragma: no cover - compiled
    # exp(-beta ||I_i - I_j||^2), floored. (I_i - I_j) and (I_j - I_i) square to the same
    # floats, so W is exactly symmetric.
    d0 = image[y, x, 0] - image[ny, nx, 0]
    d1 = image[y, x, 1] - image[ny, nx, 1]
    d2 = image[y, x, 2] - image[ny, nx, 2]
    return max(np.exp(-beta * (d0 * d0 + d1 * d1 + d2 * d2)), min_weight)


@njit(cache=True, nogil=True)
def _assemble(image, offsets, beta, min_weight, selected):  # pragma: no cover - compiled
    """CSR arrays of ``D - W`` for the lattice given by ``offsets`` (which include (0, 0)).

    Only the rows of pixels with ``selected`` True (flat, row-major) are filled.
    """
    height, width = image.shape[:2]
    n = height * width
    n_offsets = offsets.shape[0]
    indptr = np.empty(n + 1, dtype=np.int64)
    indptr[0] = 0
    for y in range(height):
        for x in range(width):
            count = 0
            if not selected[y * width + x]:
                indptr[y * width + x + 1] = indptr[y * width + x]
                continue
            for t in range(n_offsets):
                ny = y + offsets[t, 0]
                nx = x + offsets[t, 1]
                if 0 <= ny < height and 0 <= nx < width:
                    count += 1
            i = y * width + x
            indptr[i + 1] = indptr[i] + count
    indices = np.empty(indptr[n], dtype=np.int32)
    data = np.empty(indptr[n], dtype=np.float64)
    for y in range(height):
        for x in range(width):
            i = y * width + x
            if not selected[i]:
                continue
            position = indptr[i]
            diagonal_position = position
            degree = 0.0
            for t in range(n_offsets):
                ny = y + offsets[t, 0]
                nx = x + offsets[t, 1]
                if not (0 <= ny < height and 0 <= nx < width):
                    continue
                j = ny * width + nx
                indices[position] = j
                if j == i:
                    diagonal_position = position
                else:
                    weight = _edge_weight(image, y, x, ny, nx, beta, min_weight)
                    data[position] = -weight
                    degree += weight
                position += 1
            data[diagonal_position] = degree
    return indptr, indices, data


@njit(cache=True, nogil=True)
def _lpp_moments(image, half_offsets, beta, min_weight):  # pragma: no cover - compiled
    """``X^T L X`` and ``X^T D X``, both over ``trace(D)``, of the lattice graph with RGB
    heat-kernel weights (``X``: the colours centred on their degree-weighted mean)."""
    height, width = image.shape[:2]
    degree = np.zeros((height, width))
    local_scatter = np.zeros((3, 3))  # the weighted scatter of the steps between neighbours
    for y in range(height):
        for x in range(width):
            for t in range(half_offsets.shape[0]):
                ny = y + half_offsets[t, 0]
                nx = x + half_offsets[t, 1]
                if not (0 <= ny < height and 0 <= nx < width):
                    continue
                weight = _edge_weight(image, y, x, ny, nx, beta, min_weight)
                degree[y, x] += weight
                degree[ny, nx] += weight
                step = (
                    image[y, x, 0] - image[ny, nx, 0],
                    image[y, x, 1] - image[ny, nx, 1],
                    image[y, x, 2] - image[ny, nx, 2],
                )
                for a in range(3):
                    for b in range(3):
                        local_scatter[a, b] += weight * step[a] * step[b]
    total = degree.sum()
    mean = np.zeros(3)
    for y in range(height):
        for x in range(width):
            for c in range(3):
                mean[c] += degree[y, x] * image[y, x, c]
    mean /= total
    covariance = np.zeros((3, 3))
    for y in range(height):
        for x in range(width):
            for a in range(3):
                for b in range(3):
                    covariance[a, b] += (
                        degree[y, x] * (image[y, x, a] - mean[a]) * (image[y, x, b] - mean[b])
                    )
    return local_scatter / total, covariance / total


def _check_connectivity(connectivity) -> int:
    # Checked by type first: a list or an array is unhashable and cannot be looked up.
    if (
        not isinstance(connectivity, (int, np.integer))
        or isinstance(connectivity, (bool, np.bool_))
        or connectivity not in _OFFSETS
    ):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    return int(connectivity)


def lpp_colour_transform(
    image, *, sigma: float = DEFAULT_SIGMA, connectivity: int = 4
) -> np.ndarray:
    """The colour map ``Q`` of random-walk matting, learnt from the image by locality
    preserving projections (LPP).

    Grady et al. measure colour differences as ``||Q (I_i - I_j)||`` with ``Q`` the LPP of
    the image's colours (He and Niyogi): with ``X`` the pixel colours (one row each, centred
    on their degree-weighted mean) and ``L = D - W`` the lattice graph, the projections
    ``q`` solve the generalised eigenproblem

    .. math::

        X^T L X \\, q = \\lambda \\, X^T D X \\, q,

    and the smallest ``lambda`` belong to the colour directions that vary least between
    neighbouring pixels relative to their spread over the image: directions along which
    colour steps mark real boundaries rather than texture or noise.

    Parameters
    ----------
    image : array_like, HxW, HxWx3 or HxWx4
        Anything :func:`matting._inputs.as_image` accepts.
    sigma : float, optional
        Colour scale of the graph's heat-kernel weights ``exp(-||I_i - I_j||^2 / sigma^2)``
        on RGB, the walker's own weights before the map. Default 1/30 (beta = 900).
    connectivity : {4, 8}, optional
        The lattice of the graph, as for the walker.

    Returns
    -------
    ndarray, float64, shape (3, 3)
        ``Q``: its rows are the three projections, by increasing ``lambda``.

    Raises
    ------
    ValueError
        For an invalid image (or one of a single pixel), ``sigma`` or ``connectivity``.

    Notes
    -----
    All three projections are kept (colours are three-dimensional and the walker needs
    every colour difference), which makes the metric of the weights the inverse of the
    colours' degree-weighted covariance ``C = X^T D X / trace(D)``: ``Q^T Q`` is
    proportional to ``C^{-1}``, so that a step counts by how unusual it is against the
    image's own colour spread. Two choices the paper leaves open are ours:

    - Scale. LPP normalises each projection to unit variance, ``Q C Q^T = I``, a scale on
      which the paper's beta (set once for all images) would mean something different for
      every image. ``Q`` is multiplied by ``sqrt(trace(C) / 3)`` (``C`` after the floor
      below), so that the mapped colours keep the total variance of the RGB ones and
      beta = 900 keeps its meaning on [0, 1] colours. On the four benchmark composites
      (0.3 MP) this gave SAD 3.69 / 1.87 / 10.42 / 27.70 against 4.47 / 2.28 / 10.43 /
      28.29 with plain RGB.
    - Floor. Variances below ``LPP_MIN_VARIANCE_RATIO`` (1e-3) times the largest are raised
      to it before the eigenproblem, so that a gray or nearly gray image does not blow up
      its channel noise (see :data:`LPP_MIN_VARIANCE_RATIO`). A uniform image, with no
      colour spread at all, gets the identity.

    References
    ----------
    .. [1] L. Grady, T. Schiwietz, S. Aharon, R. Westermann, "Random Walks for Interactive
       Alpha-Matting", Proc. VIIP 2005, pp. 423-429.
    .. [2] X. He, P. Niyogi, "Locality Preserving Projections", NIPS 2003.

    Examples
    --------
    >>> import numpy as np
    >>> from matting.laplacian.random_walk import lpp_colour_transform
    >>> image = np.random.default_rng(0).random((20, 30, 3))
    >>> lpp_colour_transform(image).shape
    (3, 3)
    """
    image = as_image(image)
    if image.shape[0] * image.shape[1] < 2:
        raise ValueError("image must have at least 2 pixels to learn a colour map from")
    beta = 1.0 / as_finite(sigma, "sigma", limits=SCALE_LIMITS) ** 2
    connectivity = _check_connectivity(connectivity)
    # Each edge once: the offsets after (0, 0), whose mirror images give the other half.
    offsets = _OFFSETS[connectivity]
    local_scatter, covariance = _lpp_moments(
        image, offsets[len(offsets) // 2 + 1 :], beta, MIN_WEIGHT
    )
    variances, axes = np.linalg.eigh(covariance)
    if not variances[-1] > _NO_COLOUR_SPREAD:
        return np.eye(3)
    variances = np.maximum(variances, LPP_MIN_VARIANCE_RATIO * variances[-1])
    covariance = (axes * variances) @ axes.T
    # eigh(A, B) returns B-orthonormal eigenvectors, by increasing eigenvalue: Q C Q^T = I.
    _, projections = scipy.linalg.eigh(local_scatter, covariance)
    return projections.T * np.sqrt(variances.sum() / 3.0)


def random_walk_laplacian(
    image,
    *,
    sigma: float = DEFAULT_SIGMA,
    connectivity: int = 4,
    row_mask=None,
    colour_transform="lpp",
) -> scipy.sparse.csr_matrix:
    """The weighted graph Laplacian ``L = D - W`` of random-walk matting.

    .. math::

        W_{ij} = \\exp\\big(-\\lVert Q (I_i - I_j) \\rVert^2 / \\sigma^2\\big)

    for lattice neighbours ``i`` and ``j`` (0 otherwise), ``D_ii = sum_j W_ij``.

    Parameters
    ----------
    image : array_like, shape (H, W, 3)
        Anything :func:`matting._inputs.as_image` accepts; converted to float64 RGB in [0, 1].
    sigma : float, optional
        Colour scale sigma; the paper's beta is ``1 / sigma^2``. Default 1/30 (beta = 900).
    connectivity : {4, 8}, optional
        4: horizontal and vertical neighbours (the paper's lattice); 8: diagonal ones too.
    colour_transform : "lpp", None or array_like of shape (k, 3) with k <= 3, optional
        A linear map ``Q`` applied to the colours first, so that
        ``w_ij = exp(-||Q (I_i - I_j)||^2 / sigma^2)``, the general weight of Grady et al.
        ``"lpp"`` (default): their map, learnt from the image by locality preserving
        projections (:func:`lpp_colour_transform` with the same ``sigma`` and
        ``connectivity``); None: plain RGB distances (Grady's earlier weight); a matrix:
        that map.
    row_mask : array_like of bool, shape (H, W), optional
        If given, only the rows of pixels where it is True are filled; the other rows are
        empty. A Dirichlet problem on the unknown pixels reads only their rows, so passing
        the unknown mask makes time and memory follow the unknown region (the matrix is
        then not symmetric). Default: all rows.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (H*W, H*W)
        float64, exactly symmetric (without ``row_mask``), rows summing to zero, canonical
        CSR (sorted indices, no duplicates, int32 indices). Pixel ``(row, col)`` has index
        ``row * W + col``.

    Raises
    ------
    ValueError
        For an invalid image, ``sigma`` not finite and positive, ``connectivity`` not 4
        or 8, ``row_mask`` not a boolean array of shape (H, W), or ``colour_transform`` not
        "lpp", None or a finite k x 3 matrix.

    Notes
    -----
    Weights below ``MIN_WEIGHT`` (1e-10) are raised to it, so that no part of the lattice
    is cut off completely by underflow (see :data:`MIN_WEIGHT`).

    References
    ----------
    .. [1] L. Grady, T. Schiwietz, S. Aharon, R. Westermann, "Random Walks for Interactive
       Alpha-Matting", Proc. VIIP 2005, pp. 423-429.

    Examples
    --------
    >>> import numpy as np
    >>> from matting.laplacian.random_walk import random_walk_laplacian
    >>> L = random_walk_laplacian(np.zeros((3, 4, 3)))
    >>> L.shape, L.nnz, float(L[5, 5])
    ((12, 12), 46, 4.0)
    """
    image = as_image(image)
    sigma = as_finite(sigma, "sigma", limits=SCALE_LIMITS)
    connectivity = _check_connectivity(connectivity)
    if isinstance(colour_transform, str):
        if colour_transform != "lpp":
            raise ValueError(
                f"colour_transform must be 'lpp', None or a k x 3 matrix, got {colour_transform!r}"
            )
        colour_transform = lpp_colour_transform(image, sigma=sigma, connectivity=connectivity)
    if colour_transform is not None:
        transform = np.asarray(colour_transform, dtype=np.float64)
        if not (
            transform.ndim == 2
            and 1 <= transform.shape[0] <= 3
            and transform.shape[1] == 3
            and np.all(np.isfinite(transform))
        ):
            raise ValueError(
                "colour_transform must be a finite k x 3 matrix with k in 1..3, got shape "
                f"{transform.shape}"
            )
        # Differences of mapped colours are mapped differences. Zero rows pad k to 3, so
        # one compiled kernel serves every k.
        padded = np.zeros((3, 3))
        padded[: transform.shape[0]] = transform
        image = np.ascontiguousarray(image @ padded.T)
    shape = image.shape[:2]
    if row_mask is None:
        selected = np.ones(shape[0] * shape[1], dtype=np.bool_)
    else:
        selected = np.asarray(row_mask)
        if selected.dtype != np.bool_ or selected.shape != shape:
            raise ValueError(
                f"row_mask must be a boolean array of shape {shape}, got dtype "
                f"{selected.dtype} and shape {selected.shape}"
            )
        selected = np.ascontiguousarray(selected).ravel()
    indptr, indices, data = _assemble(
        image, _OFFSETS[connectivity], 1.0 / sigma**2, MIN_WEIGHT, selected
    )
    n = image.shape[0] * image.shape[1]
    if indptr[-1] <= np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    laplacian = scipy.sparse.csr_matrix((data, indices, indptr), shape=(n, n), copy=False)
    laplacian.has_canonical_format = True
    return laplacian


def edge_weights(laplacian: scipy.sparse.csr_matrix) -> scipy.sparse.csr_matrix:
    """The weight matrix ``W`` of a graph Laplacian ``L = D - W`` (off-diagonal, positive).

    For inspecting :func:`random_walk_laplacian`: ``edge_weights(L)[i, j]`` is ``w_ij``.
    """
    weights = -scipy.sparse.csr_matrix(laplacian, copy=True)
    weights.setdiag(0.0)
    weights.eliminate_zeros()
    return weights
