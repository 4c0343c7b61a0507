"""The KNN matting Laplacian (Chen, Li, Tang, CVPR 2012 / TPAMI 2013).

Every pixel is joined to its ``K`` nearest neighbours in a feature space of colour and
position, found with a KD-tree (:func:`matting.neighbors.knn_query`), whatever their distance
in the image: the affinity is non-local, so a colour seen in a known region informs distant
unknown pixels of the same colour.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
from numba import get_num_threads, njit, prange

from .._inputs import as_finite, as_image, as_integer
from ..neighbors import knn_query

__all__ = ["knn_features", "knn_laplacian"]

#: Accepted values of ``features=``.
FEATURES = ("hsv", "rgb")

#: Largest accepted weight of the normalised pixel position in a feature vector. Far beyond
#: any useful value (colour no longer matters from about 1e3 on), it keeps the features well
#: inside what the neighbour search can compare (:data:`matting.neighbors.MAX_COORDINATE`).
MAX_SPATIAL_WEIGHT = 1e100


def check_spatial_weight(value, name: str = "spatial_weight") -> float:
    """The weight of the normalised pixel position in a feature vector, as a float in
    ``[0, MAX_SPATIAL_WEIGHT]`` (ValueError naming ``name`` otherwise)."""
    return as_finite(value, name, positive=False, limits=(0.0, MAX_SPATIAL_WEIGHT))


def _check_features(features: str, spatial_weight: float) -> None:
    if not isinstance(features, str) or features not in FEATURES:
        raise ValueError(f"features must be one of {FEATURES}, got {features!r}")
    check_spatial_weight(spatial_weight)


def knn_features(image, *, features: str = "hsv", spatial_weight: float = 1.0) -> np.ndarray:
    """Per-pixel feature vectors of KNN matting.

    Parameters
    ----------
    image : array_like, HxW, HxWx3 or HxWx4
        ``uint8``, ``uint16`` or float in [0, 1].
    features : {"hsv", "rgb"}
        ``"hsv"``: X(i) = (cos h, sin h, s, v, x, y), the paper's choice (hue as an angle, so
        that reds near 0 and 2 pi are close); ``"rgb"``: X(i) = (r, g, b, x, y), as the
        authors' main code.
    spatial_weight : float
        Weight of the position (x, y), which are the pixel's row and column divided by the
        image diagonal (so in [0, 1)), as in the authors' code (``level`` there: 1 in its
        demo, which uses RGB; their HSV script uses 2 and halves s and v). The paper only
        says the spatial weight is small; 1 keeps the authors' demo value and the paper's
        unscaled (cos h, sin h, s, v).

    Returns
    -------
    ndarray, float64, shape (H*W, 6) or (H*W, 5)
        One row per pixel in row-major order.
    """
    _check_features(features, spatial_weight)
    image = as_image(image)
    height, width = image.shape[:2]
    scale = spatial_weight / np.hypot(height, width)
    return _features(image, scale, features == "hsv")


@njit(cache=True, nogil=True)
def _features(image, scale, hsv):  # pragma: no cover
    # One pass over the pixels (several times faster than the same steps in NumPy, which
    # gave the same values; serial, as a few milliseconds do not pay for a parallel
    # kernel's compilation). Hue is the usual hexcone hue, as an angle in radians; 0 for
    # grays, where it is undefined (and saturation is 0).
    height, width = image.shape[:2]
    out = np.empty((height * width, 6 if hsv else 5))
    for y in range(height):
        for x in range(width):
            i = y * width + x
            red, green, blue = image[y, x, 0], image[y, x, 1], image[y, x, 2]
            if hsv:
                value = max(red, green, blue)
                spread = value - min(red, green, blue)
                if spread > 0:
                    if value == red:
                        sixth = (green - blue) / spread
                    elif value == green:
                        sixth = 2.0 + (blue - red) / spread
                    else:
                        sixth = 4.0 + (red - green) / spread
                else:
                    sixth = 0.0
                hue = sixth * (np.pi / 3.0)
                out[i, 0] = np.cos(hue)
                out[i, 1] = np.sin(hue)
                out[i, 2] = spread / value if value > 0 else 0.0
                out[i, 3] = value
            else:
                out[i, 0] = red
                out[i, 1] = green
                out[i, 2] = blue
            out[i, out.shape[1] - 2] = y * scale
            out[i, out.shape[1] - 1] = x * scale
    return out


def knn_laplacian(
    image,
    *,
    n_neighbors: int = 10,
    features: str = "hsv",
    spatial_weight: float = 1.0,
) -> scipy.sparse.csr_matrix:
    """The KNN matting Laplacian ``L = D - A`` of an image.

    Parameters
    ----------
    image : array_like, HxW, HxWx3 or HxWx4
        ``uint8``, ``uint16`` or float in [0, 1].
    n_neighbors : int
        K, the neighbours of each pixel in feature space, not counting itself. Paper: 10.
    features : {"hsv", "rgb"}
        Feature space, see :func:`knn_features`. Paper: HSV.
    spatial_weight : float
        Weight of the normalised pixel position in the features, see :func:`knn_features`.

    Returns
    -------
    scipy.sparse.csr_matrix, float64, (H*W) x (H*W)
        Symmetric, rows summing to zero, positive semidefinite; at most ``2 K`` off-diagonal
        entries per row (a neighbour relation need not be mutual).

    Raises
    ------
    ValueError
        For a bad image, ``n_neighbors`` outside ``1 .. H*W - 1``, an unknown ``features``
        name or a negative ``spatial_weight``.

    Notes
    -----
    With ``knn(i)`` the K nearest neighbours of pixel i (Euclidean distance in feature space,
    the pixel itself left out), the kernel is the paper's ``k(i, j) = 1 - ||X(i) - X(j)|| / C``
    for ``j`` in ``knn(i)``. As in the authors' code, the norm is the L1 norm, ``C`` the number
    of feature dimensions, and negative values are clipped to 0 (so ``k`` is in [0, 1]; it
    would only be negative for opposite hues at full saturation and value). The affinity is
    made symmetric as in the paper, ``A = (W + W^T) / 2`` with ``W_ij = k(i, j)`` for
    ``j`` in ``knn(i)``, and ``D`` is the diagonal of row sums of ``A``.

    References
    ----------
    .. [1] Q. Chen, D. Li, C.-K. Tang, "KNN Matting", CVPR 2012; IEEE TPAMI 35(9), 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from matting.laplacian.knn import knn_laplacian
    >>> L = knn_laplacian(np.random.default_rng(0).random((8, 8, 3)), n_neighbors=4)
    >>> L.shape, bool(abs(L.sum(axis=1)).max() < 1e-12)
    ((64, 64), True)
    """
    _check_features(features, spatial_weight)
    image = as_image(image)
    n = image.shape[0] * image.shape[1]
    n_neighbors = as_integer(n_neighbors, "n_neighbors")
    if not 1 <= n_neighbors < n:
        raise ValueError(
            f"n_neighbors must be between 1 and the number of pixels minus one ({n - 1}), "
            f"got {n_neighbors}"
        )
    feature = knn_features(image, features=features, spatial_weight=spatial_weight)
    neighbours, _ = knn_query(feature, n_neighbors)
    indptr, indices, data = assemble_knn_laplacian(feature, neighbours)
    if indptr[-1] < np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)  # the layout the solvers' kernels use
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(n, n))


def assemble_knn_laplacian(feature, neighbours):
    """CSR arrays ``(indptr, indices, data)`` of ``L = D - (W + W^T) / 2``, where
    ``W_ij = max(1 - ||X_i - X_j||_1 / d, 0)`` for ``j`` in row ``i`` of ``neighbours``.

    The KNN Laplacian's kernel, shared with information-flow matting's intra-unknown flow.
    """
    return _assemble(feature, neighbours, get_num_threads())


@njit(cache=True, nogil=True, parallel=True)
def _assemble(feature, neighbours, parts):  # pragma: no cover
    # Built straight into sorted CSR arrays: scipy's transpose, sum and diagonal steps take
    # several times longer and hold several copies of the N x 2K entries. parts: how many
    # ranges of rows W^T is built in, in parallel (the thread count: any gives the same).
    n, k = neighbours.shape
    dims = feature.shape[1]
    # Kernel values of the one-way relation W (authors' code: L1 distance over C = dims).
    weights = np.empty((n, k))
    for i in prange(n):
        for t in range(k):
            j = neighbours[i, t]
            distance = 0.0
            for c in range(dims):
                distance += abs(feature[i, c] - feature[j, c])
            weights[i, t] = max(1.0 - distance / dims, 0.0)
    # W^T by rows: row j lists the pixels i that have j as a neighbour, by increasing i.
    # Each thread counts and fills its own range of rows, reading all of W: the scattered
    # writes, not the reads, are what costs.
    bounds = np.empty(parts + 1, np.int64)
    for p in range(parts + 1):
        bounds[p] = n * p // parts
    rstart = np.zeros(n + 1, np.int64)
    for p in prange(parts):
        low, high = bounds[p], bounds[p + 1]
        for i in range(n):
            for t in range(k):
                j = neighbours[i, t]
                if low <= j < high:
                    rstart[j + 1] += 1
    for i in range(n):
        rstart[i + 1] += rstart[i]
    rcol = np.empty(rstart[n], np.int32)
    rval = np.empty(rstart[n])
    for p in prange(parts):
        low, high = bounds[p], bounds[p + 1]
        fill = rstart[low:high].copy()
        for i in range(n):
            for t in range(k):
                j = neighbours[i, t]
                if low <= j < high:
                    rcol[fill[j - low]] = i
                    rval[fill[j - low]] = 0.5 * weights[i, t]
                    fill[j - low] += 1
    # Row i of L: W's row (sorted by column) merged with W^T's (already sorted), mutual
    # pairs summed, and the diagonal (the row sum, summed by increasing column). Counted
    # first, then written.
    counts = np.zeros(n + 1, np.int64)
    for i in prange(n):
        fcol = np.empty(k, np.int64)
        _sorted_row(neighbours, i, fcol)
        a, b = 0, rstart[i]
        bend = rstart[i + 1]
        distinct = 1
        while a < k or b < bend:
            if b == bend or (a < k and fcol[a] < rcol[b]):
                a += 1
            elif a == k or rcol[b] < fcol[a]:
                b += 1
            else:
                a += 1
                b += 1
            distinct += 1
        counts[i + 1] = distinct
    for i in range(n):
        counts[i + 1] += counts[i]
    out_indices = np.empty(counts[n], dtype=np.int32)
    out_data = np.empty(counts[n])
    for i in prange(n):
        fcol = np.empty(k, np.int64)
        fval = np.empty(k)
        order = _sorted_row(neighbours, i, fcol)
        for t in range(k):
            fval[t] = 0.5 * weights[i, order[t]]
        position = counts[i]
        diagonal_position = -1
        total = 0.0
        a, b = 0, rstart[i]
        bend = rstart[i + 1]
        while a < k or b < bend:
            if b == bend or (a < k and fcol[a] < rcol[b]):
                j = fcol[a]
                value = fval[a]
                total += value
                a += 1
            elif a == k or rcol[b] < fcol[a]:
                j = rcol[b]
                value = rval[b]
                total += value
                b += 1
            else:
                j = fcol[a]
                # A mutual pair: its two halves enter the row sum lower row's first.
                if j < i:
                    total += rval[b]
                    total += fval[a]
                else:
                    total += fval[a]
                    total += rval[b]
                value = fval[a] + rval[b]
                a += 1
                b += 1
            if diagonal_position < 0 and j > i:
                diagonal_position = position
                out_indices[position] = i
                position += 1
            out_indices[position] = j
            out_data[position] = -value
            position += 1
        if diagonal_position < 0:
            diagonal_position = position
            out_indices[position] = i
        out_data[diagonal_position] = total
    return counts, out_indices, out_data


@njit(cache=True, nogil=True, inline="always")
def _sorted_row(neighbours, i, columns):  # pragma: no cover
    # Row i's neighbours sorted (insertion sort, k is small) into columns; returns the order.
    k = neighbours.shape[1]
    order = np.empty(k, np.int64)
    for t in range(k):
        column = neighbours[i, t]
        f = t
        while f > 0 and columns[f - 1] > column:
            columns[f] = columns[f - 1]
            order[f] = order[f - 1]
            f -= 1
        columns[f] = column
        order[f] = t
    return order
