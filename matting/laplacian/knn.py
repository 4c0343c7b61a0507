"""The KNN matting Laplacian (Chen, Li, Tang, CVPR 2012 / TPAMI 2013).

Every pixel is joined to its ``K`` nearest neighbours in a feature space of colour and
position, found with a KD-tree (:func:`matting.neighbors.knn_query`), whatever their distance
in the image: the affinity is non-local, so a colour seen in a known region informs distant
unknown pixels of the same colour.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
from numba import njit, prange

from .._inputs import as_image
from ..neighbors import knn_query

__all__ = ["knn_features", "knn_laplacian"]

#: Accepted values of ``features=``.
FEATURES = ("hsv", "rgb")


def _check_features(features: str, spatial_weight: float) -> None:
    if not isinstance(features, str) or features not in FEATURES:
        raise ValueError(f"features must be one of {FEATURES}, got {features!r}")
    try:
        valid = bool(np.isfinite(spatial_weight) and spatial_weight >= 0)
    except TypeError:
        valid = False
    if not valid:
        raise ValueError(f"spatial_weight must be a number >= 0, got {spatial_weight!r}")


def _rgb_to_hsv(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue as an angle in radians, saturation and value, all HxW (hue 0 for grays)."""
    value = image.max(axis=2)
    spread = value - image.min(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        saturation = np.where(value > 0, spread / value, 0.0)
        red, green, blue = (image[:, :, c] for c in range(3))
        # The usual hexcone hue in sixths of a turn; divisions by a zero spread give NaN,
        # replaced by 0 below (hue is undefined for grays, and saturation is 0 there).
        sixth = np.where(
            value == red,
            (green - blue) / spread,
            np.where(value == green, 2.0 + (blue - red) / spread, 4.0 + (red - green) / spread),
        )
    sixth = np.where(spread > 0, sixth, 0.0)
    return sixth * (np.pi / 3.0), saturation, value


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
    rows, cols = np.divmod(np.arange(height * width, dtype=np.float64), width)
    scale = spatial_weight / np.hypot(height, width)
    if features == "rgb":
        colour = [image[:, :, c].ravel() for c in range(3)]
    else:
        hue, saturation, value = _rgb_to_hsv(image)
        colour = [np.cos(hue).ravel(), np.sin(hue).ravel(), saturation.ravel(), value.ravel()]
    return np.column_stack(colour + [rows * scale, cols * scale])


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
    if isinstance(n_neighbors, bool) or int(n_neighbors) != n_neighbors:
        raise ValueError(f"n_neighbors must be a whole number, got {n_neighbors!r}")
    n_neighbors = int(n_neighbors)
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


@njit(cache=True, parallel=True)
def assemble_knn_laplacian(feature, neighbours):  # pragma: no cover
    """CSR arrays ``(indptr, indices, data)`` of ``L = D - (W + W^T) / 2``, where
    ``W_ij = max(1 - ||X_i - X_j||_1 / d, 0)`` for ``j`` in row ``i`` of ``neighbours``.

    The KNN Laplacian's kernel, shared with information-flow matting's intra-unknown flow.
    """
    # Built straight into sorted CSR arrays: scipy's transpose, sum and diagonal steps take
    # several times longer and hold several copies of the N x 2K entries.
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
    # Row i of W + W^T: its own K neighbours, plus every pixel that has i as a neighbour.
    start = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        start[i + 1] = k
    for i in range(n):
        for t in range(k):
            start[neighbours[i, t] + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    columns = np.empty(start[n], dtype=np.int64)
    values = np.empty(start[n])
    fill = start[:-1].copy()
    for i in range(n):
        for t in range(k):
            j = neighbours[i, t]
            half = 0.5 * weights[i, t]
            columns[fill[i]] = j
            values[fill[i]] = half
            fill[i] += 1
            columns[fill[j]] = i
            values[fill[j]] = half
            fill[j] += 1
    # Sort each row by column, merge mutual pairs, and add the diagonal (the row sum).
    counts = np.zeros(n + 1, dtype=np.int64)
    for i in prange(n):
        begin, end = start[i], start[i + 1]
        # Insertion sort in place: rows hold about 2 K entries.
        for e in range(begin + 1, end):
            column, value = columns[e], values[e]
            f = e
            while f > begin and columns[f - 1] > column:
                columns[f] = columns[f - 1]
                values[f] = values[f - 1]
                f -= 1
            columns[f] = column
            values[f] = value
        distinct = 1  # the diagonal
        for e in range(begin, end):
            if e == begin or columns[e] != columns[e - 1]:
                distinct += 1
        counts[i + 1] = distinct
    for i in range(n):
        counts[i + 1] += counts[i]
    out_indices = np.empty(counts[n], dtype=np.int32)
    out_data = np.empty(counts[n])
    for i in prange(n):
        position = counts[i]
        diagonal_done = False
        total = 0.0
        diagonal_position = -1
        previous = -1
        for e in range(start[i], start[i + 1]):
            j = columns[e]
            if not diagonal_done and j > i:
                diagonal_position = position
                out_indices[position] = i
                position += 1
                diagonal_done = True
            if j == previous:
                out_data[position - 1] -= values[e]
            else:
                out_indices[position] = j
                out_data[position] = -values[e]
                position += 1
                previous = j
            total += values[e]
        if not diagonal_done:
            diagonal_position = position
            out_indices[position] = i
            position += 1
        out_data[diagonal_position] = total
    return counts, out_indices, out_data
