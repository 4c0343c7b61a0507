"""The information flows of information-flow matting (Aksoy, Aydin, Pollefeys, CVPR 2017).

Alpha is asked to agree with several predictions of itself, each a *flow* of information
between pixels; every flow is a quadratic form in alpha:

colour-mixture flow, :func:`color_mixture_laplacian`
    Each unknown pixel's colour is written as a mixture of its ``K_CM = 20`` nearest
    neighbours in (r, g, b, x, y) by locally linear embedding (LLE) weights, and its alpha
    should be the same mixture of theirs:
    :math:`E_{CM} = \\sum_{p \\in U} (\\alpha_p - \\sum_q w^{CM}_{p,q} \\alpha_q)^2
    = \\alpha^T (I_U - W_{CM})^T (I_U - W_{CM}) \\alpha`.
K-to-U flow, :func:`known_to_unknown_prior`
    Each unknown pixel is mixed (LLE again) from its ``K_KU = 7`` nearest foreground and 7
    nearest background pixels; the foreground share is an estimate :math:`\\hat\\alpha_p`
    with confidence :math:`\\eta_p = \\|\\hat F_p - \\hat B_p\\|^2 / 3` (how different the
    mixed foreground and background colours are):
    :math:`E_{KU} = \\sum_{p \\in U} \\eta_p (\\alpha_p - \\hat\\alpha_p)^2`.
intra-U flow, :func:`intra_unknown_laplacian`
    Unknown pixels are tied to their ``K_U = 5`` nearest unknown pixels in a feature space
    with weak position, with the KNN-matting kernel: a Laplacian :math:`L_{IU}`.
local flow
    The closed-form matting Laplacian :func:`matting.laplacian.matting_laplacian` over the
    3x3 windows touching the unknown region, divided by the window size 9: the authors' code
    normalises each pixel's local affinities to sum to one, as the colour-mixture weights
    do, and a pixel inside the region lies in 9 windows whose affinities sum to 2 x 9 once
    symmetrised (see :func:`information_flow_laplacian`).

:func:`information_flow_laplacian` sums the three Laplacians with their weights; the K-to-U
flow is a data term, not a Laplacian, and enters the linear system of
:func:`matting.methods.information_flow.information_flow` on its diagonal.

Neighbour searches
------------------
Every search uses :func:`matting.neighbors.knn_query` (exact): the intra-U flow searches the
unknown pixels among themselves, the colour-mixture and K-to-U flows search them among
another set (all pixels, the foreground, the background) with its ``queries=``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
from numba import njit, prange

from .._inputs import UNKNOWN, as_finite, as_image, as_integer, as_trimap
from ..neighbors import knn_query
from ..trimap import windows_touching
from .closed_form import matting_laplacian
from .knn import assemble_knn_laplacian, check_spatial_weight

__all__ = [
    "LLE_CONDITIONER",
    "LOCAL_WINDOW_SIZE",
    "color_mixture_laplacian",
    "flow_features",
    "information_flow_laplacian",
    "intra_unknown_laplacian",
    "known_to_unknown_prior",
    "lle_weights",
]

#: Multiple of the identity added to the LLE Gram matrices before solving (authors' code:
#: 1e-10). With 20 neighbours in 3-D colour the Gram matrix has rank 3 at most; this picks the
#: smallest-norm mixture among the exact ones.
LLE_CONDITIONER = 1e-10

#: Pixels per window of the local flow (3x3); its matting Laplacian is divided by this, the
#: sum of each pixel's normalised local affinities (see :func:`information_flow_laplacian`).
LOCAL_WINDOW_SIZE = 9


# --------------------------------------------------------------------------------------------
# Features and neighbours
# --------------------------------------------------------------------------------------------


def flow_features(image, spatial_weight: float) -> np.ndarray:
    """(r, g, b, s x / W, s y / H) per pixel, row-major: the paper's features, with the
    position normalised by the image width and height and scaled by ``s = spatial_weight``.

    Returns
    -------
    ndarray, float64, shape (H*W, 5)
    """
    image = as_image(image)
    check_spatial_weight(spatial_weight, "spatial_weight")
    height, width = image.shape[:2]
    rows, cols = np.divmod(np.arange(height * width, dtype=np.float64), width)
    return np.column_stack(
        [
            image.reshape(-1, 3),
            cols * (spatial_weight / width),
            rows * (spatial_weight / height),
        ]
    )


def _neighbours_among(features, search, queries, k, exclude_self):
    """The ``k`` nearest pixels of the set ``search`` (pixel indices) to each pixel of
    ``queries`` (pixel indices), as pixel indices, shape (len(queries), k).

    With ``exclude_self``, a query pixel that belongs to ``search`` is not its own neighbour.
    """
    query_k = k + 1 if exclude_self else k
    found, _ = knn_query(features[search], query_k, queries=features[queries])
    found = search[found]
    if not exclude_self:
        return found
    drop = found == queries[:, np.newaxis]
    # A query hidden among more than k duplicates of itself: drop the last one instead (at
    # distance zero too, so the neighbour set is still exact).
    drop[~drop.any(axis=1), -1] = True
    return found[~drop].reshape(queries.size, k)


# --------------------------------------------------------------------------------------------
# Locally linear embedding
# --------------------------------------------------------------------------------------------


@njit(cache=True, parallel=True, nogil=True)
def _lle_kernel(colours, queries, neighbours, conditioner):  # pragma: no cover - compiled
    # For each query p: minimise ||c_p - sum_j w_j c_j||^2 + conditioner ||w||^2 subject to
    # sum_j w_j = 1. With sum w = 1 the residual is sum_j w_j (c_j - c_p), so the weights are
    # G^-1 1 normalised, G the Gram matrix of the differences c_j - c_p (plus conditioner I):
    # the centred form of the same problem, better conditioned than the uncentred one.
    m, k = neighbours.shape
    dims = colours.shape[1]
    weights = np.empty((m, k))
    for i in prange(m):
        p = queries[i]
        diff = np.empty((k, dims))
        for j in range(k):
            for c in range(dims):
                diff[j, c] = colours[neighbours[i, j], c] - colours[p, c]
        # Lower Cholesky factor of G, built column by column (G is k x k, k <= ~20).
        chol = np.zeros((k, k))
        for a in range(k):
            for b in range(a + 1):
                value = 0.0
                for c in range(dims):
                    value += diff[a, c] * diff[b, c]
                if a == b:
                    value += conditioner
                for t in range(b):
                    value -= chol[a, t] * chol[b, t]
                if a == b:
                    # G's pivots are at least `conditioner`; clamping only absorbs rounding.
                    chol[a, a] = np.sqrt(max(value, conditioner))
                else:
                    chol[a, b] = value / chol[b, b]
        # Solve G x = 1 by forward then backward substitution.
        x = np.empty(k)
        for a in range(k):
            value = 1.0
            for t in range(a):
                value -= chol[a, t] * x[t]
            x[a] = value / chol[a, a]
        for a in range(k - 1, -1, -1):
            value = x[a]
            for t in range(a + 1, k):
                value -= chol[t, a] * x[t]
            x[a] = value / chol[a, a]
        total = 0.0
        for a in range(k):
            total += x[a]
        for a in range(k):
            weights[i, a] = x[a] / total
    return weights


def lle_weights(points, queries, neighbours, conditioner: float = LLE_CONDITIONER) -> np.ndarray:
    """Locally-linear-embedding weights (Roweis and Saul 2000) of each query on its
    neighbours: ``w = argmin ||x_p - sum_j w_j x_j||^2 + conditioner ||w||^2`` subject to
    ``sum_j w_j = 1``.

    Parameters
    ----------
    points : ndarray, float64, shape (n, d)
        All points (colours, for the flows).
    queries : ndarray of int, shape (m,)
        Index of each query point.
    neighbours : ndarray of int, shape (m, k)
        Indices of each query's neighbours.
    conditioner : float
        Ridge added to the Gram matrix (authors' code: 1e-10).

    Returns
    -------
    ndarray, float64, shape (m, k)
        Rows sum to one. Weights may be negative (extrapolating mixtures).
    """
    points = np.ascontiguousarray(points, dtype=np.float64)
    queries = np.ascontiguousarray(queries, dtype=np.int64)
    neighbours = np.ascontiguousarray(neighbours, dtype=np.int64)
    conditioner = as_finite(conditioner, "conditioner")
    if neighbours.ndim != 2 or neighbours.shape[0] != queries.size:
        raise ValueError(f"neighbours has shape {neighbours.shape}; expected ({queries.size}, k)")
    if neighbours.shape[1] == 0 or queries.size == 0:
        return np.zeros(neighbours.shape)
    return _lle_kernel(points, queries, neighbours, conditioner)


# --------------------------------------------------------------------------------------------
# The flows
# --------------------------------------------------------------------------------------------


def _image_trimap(image, trimap):
    image = as_image(image)
    trimap = as_trimap(trimap, image.shape[:2], require_known=False)
    return image, trimap


def _embed(matrix_on_subset, subset: np.ndarray, n: int) -> scipy.sparse.csr_matrix:
    """A matrix over the pixels ``subset`` as an n x n matrix over all pixels."""
    coo = matrix_on_subset.tocoo()
    return scipy.sparse.csr_matrix((coo.data, (subset[coo.row], subset[coo.col])), shape=(n, n))


def color_mixture_laplacian(
    image, trimap, *, k_cm: int = 20, spatial_weight: float = 1.0
) -> scipy.sparse.csr_matrix:
    """The colour-mixture flow ``(I_U - W_CM)^T (I_U - W_CM)``.

    Parameters
    ----------
    image : array_like, HxWx3
    trimap : array_like, HxW
        Its unknown pixels get colour-mixture rows; any encoding :func:`matting._inputs.
        as_trimap` accepts.
    k_cm : int
        :math:`K_{CM}`, neighbours per unknown pixel among all pixels. Paper: 20.
    spatial_weight : float
        Weight of the normalised position (x / W, y / H) in the neighbour search (authors'
        code: 1). The LLE weights themselves are computed on colour only, as in the
        authors' code.

    Returns
    -------
    scipy.sparse.csr_matrix, (H*W) x (H*W)
        Symmetric positive semidefinite; zero rows for pixels no unknown pixel reaches.
    """
    image, trimap = _image_trimap(image, trimap)
    n = trimap.size
    k_cm = min(as_integer(k_cm, "k_cm"), n - 1)
    features = flow_features(image, spatial_weight)
    unknown = np.flatnonzero(trimap.ravel() == UNKNOWN)
    if unknown.size == 0 or k_cm == 0:
        return scipy.sparse.csr_matrix((n, n))
    neighbours = _neighbours_among(features, np.arange(n), unknown, k_cm, exclude_self=True)
    weights = lle_weights(features[:, :3], unknown, neighbours)
    m = unknown.size
    # Rows of I_U - W_CM for the unknown pixels only: 1 at the pixel, -w at its neighbours.
    columns = np.column_stack([unknown, neighbours]).ravel()
    values = np.column_stack([np.ones(m), -weights]).ravel()
    residual = scipy.sparse.csr_matrix(
        (values, columns, np.arange(0, m * (k_cm + 1) + 1, k_cm + 1)), shape=(m, n)
    )
    residual.sum_duplicates()
    return (residual.T @ residual).tocsr()


def known_to_unknown_prior(
    image, trimap, *, k_ku: int = 7, spatial_weight: float = 10.0
) -> tuple[np.ndarray, np.ndarray]:
    """The K-to-U flow's alpha estimate and confidence.

    Each unknown pixel's colour is mixed (LLE) from its ``k_ku`` nearest foreground and
    ``k_ku`` nearest background pixels in (r, g, b, s x / W, s y / H); the foreground weights
    sum to the estimate :math:`\\hat\\alpha_p`, and the confidence is
    :math:`\\eta_p = \\|\\sum_{q \\in F} w_q c_q - \\sum_{q \\in B} w_q c_q\\|^2 / 3`.

    Parameters
    ----------
    image : array_like, HxWx3
    trimap : array_like, HxW
        Needs at least one foreground and one background pixel.
    k_ku : int
        :math:`K_{KU}`, neighbours in each of the foreground and background. Paper: 7.
    spatial_weight : float
        Weight of the normalised position in the search (authors' code: 10).

    Returns
    -------
    alpha_hat : ndarray, float64 HxW
        The estimate on unknown pixels (not clipped; LLE weights can be negative), the
        trimap's value on known ones.
    confidence : ndarray, float64 HxW
        :math:`\\eta_p` on unknown pixels, 0 on known ones.
    """
    image = as_image(image)
    trimap = as_trimap(trimap, image.shape[:2])
    flat = trimap.ravel()
    unknown = np.flatnonzero(flat == UNKNOWN)
    alpha_hat = trimap.copy()
    confidence = np.zeros(trimap.shape)
    k_ku = as_integer(k_ku, "k_ku")
    features = flow_features(image, spatial_weight)
    if unknown.size == 0:
        return alpha_hat, confidence
    found = []
    for value in (1.0, 0.0):
        known = np.flatnonzero(flat == value)
        found.append(_neighbours_among(features, known, unknown, min(k_ku, known.size), False))
    n_foreground = found[0].shape[1]
    neighbours = np.hstack(found)
    colours = features[:, :3]
    weights = lle_weights(colours, unknown, neighbours)
    mixed = weights[:, :, np.newaxis] * colours[neighbours]
    foreground = mixed[:, :n_foreground].sum(axis=1)
    background = mixed[:, n_foreground:].sum(axis=1)
    alpha_hat.ravel()[unknown] = weights[:, :n_foreground].sum(axis=1)
    confidence.ravel()[unknown] = ((foreground - background) ** 2).sum(axis=1) / 3.0
    return alpha_hat, confidence


def intra_unknown_laplacian(
    image, trimap, *, k_u: int = 5, spatial_weight: float = 0.05
) -> scipy.sparse.csr_matrix:
    """The intra-U flow Laplacian.

    Each unknown pixel is joined to its ``k_u`` nearest unknown pixels in
    (r, g, b, s x / W, s y / H) with the KNN-matting kernel
    :math:`w_{p,q} = \\max(1 - \\|f_p - f_q\\|_1 / 5, 0)`, symmetrised as
    :math:`(W + W^T) / 2`; the Laplacian is :math:`D - (W + W^T) / 2`.

    Parameters
    ----------
    image : array_like, HxWx3
    trimap : array_like, HxW
    k_u : int
        :math:`K_U`, neighbours per unknown pixel among the unknown ones. Paper: 5.
    spatial_weight : float
        Weight ``s`` of the normalised position (authors' code: 0.05).

    Returns
    -------
    scipy.sparse.csr_matrix, (H*W) x (H*W)
        Symmetric, rows summing to zero, nonzero only between unknown pixels.
    """
    image, trimap = _image_trimap(image, trimap)
    n = trimap.size
    unknown = np.flatnonzero(trimap.ravel() == UNKNOWN)
    if unknown.size < 2:
        as_integer(k_u, "k_u")
        return scipy.sparse.csr_matrix((n, n))
    k_u = min(as_integer(k_u, "k_u"), unknown.size - 1)
    features = np.ascontiguousarray(flow_features(image, spatial_weight)[unknown])
    neighbours, _ = knn_query(features, k_u)
    # The KNN-matting assembly (kernel 1 - L1 / dims, clipped at 0, and (W + W^T) / 2).
    indptr, indices, data = assemble_knn_laplacian(features, neighbours)
    local = scipy.sparse.csr_matrix((data, indices, indptr), shape=(unknown.size,) * 2)
    return _embed(local, unknown, n)


def information_flow_laplacian(
    image,
    trimap,
    *,
    k_cm: int = 20,
    k_u: int = 5,
    sigma_cm: float = 1.0,
    sigma_iu: float = 0.01,
    sigma_l: float = 1.0,
    eps: float = 1e-6,
    cm_spatial_weight: float = 1.0,
    iu_spatial_weight: float = 0.05,
) -> scipy.sparse.csr_matrix:
    """The Laplacian part of information-flow matting's energy,
    :math:`\\sigma_{CM} L_{CM} + \\sigma_L L_L + \\sigma_{IU} L_{IU}` (the paper's energy
    without its K-to-U and trimap terms).

    The local flow :math:`L_L` is the matting Laplacian of Levin et al. (3x3 windows, those
    touching the unknown region) divided by the window size, 9. The authors' code
    (``mattingAffinity.m``) sums the window affinities
    :math:`(1 + (c_p - \\mu)^T (\\Sigma + \\varepsilon / 9 I)^{-1} (c_q - \\mu)) / 9`,
    symmetrises them (:math:`W + W^T`) and divides each row by its sum; a pixel that lies in
    9 active windows (every unknown pixel at least two pixels from the image border) has
    the row sum 2 x 9, so its row of that Laplacian is the matting Laplacian's row divided
    by 9, which is what this matrix holds. It differs from the authors' row-normalised (and
    so non-symmetric) matrix only on rows of known pixels next to the region and of pixels
    within two pixels of the image border, where fewer windows are active; this one stays
    symmetric for conjugate gradients.

    Parameters
    ----------
    image : array_like, HxWx3
    trimap : array_like, HxW
    k_cm, k_u : int
        Neighbour counts :math:`K_{CM}` (20) and :math:`K_U` (5).
    sigma_cm, sigma_iu, sigma_l : float
        Flow weights; paper: 1, 0.01, 1.
    eps : float
        Regulariser of the local flow's matting Laplacian (3x3 windows, :math:`\\varepsilon
        / 9` on the window covariances); 1e-6 as in the authors' code.
    cm_spatial_weight, iu_spatial_weight : float
        Position weights of the colour-mixture (1) and intra-U (0.05) neighbour searches.

    Returns
    -------
    scipy.sparse.csr_matrix, (H*W) x (H*W)
        Symmetric positive semidefinite.
    """
    image, trimap = _image_trimap(image, trimap)
    sigma_cm = as_finite(sigma_cm, "sigma_cm", positive=False)
    sigma_iu = as_finite(sigma_iu, "sigma_iu", positive=False)
    sigma_l = as_finite(sigma_l, "sigma_l", positive=False)
    check_spatial_weight(cm_spatial_weight, "cm_spatial_weight")
    check_spatial_weight(iu_spatial_weight, "iu_spatial_weight")
    unknown = trimap == UNKNOWN
    laplacian = sigma_cm * color_mixture_laplacian(
        image, trimap, k_cm=k_cm, spatial_weight=cm_spatial_weight
    )
    if min(trimap.shape) >= 3:
        local = matting_laplacian(
            image, radius=1, eps=eps, window_mask=windows_touching(unknown, 1)
        )
        laplacian = laplacian + (sigma_l / LOCAL_WINDOW_SIZE) * local
    laplacian = laplacian + sigma_iu * intra_unknown_laplacian(
        image, trimap, k_u=k_u, spatial_weight=iu_spatial_weight
    )
    laplacian = laplacian.tocsr()
    laplacian.sort_indices()
    return laplacian
