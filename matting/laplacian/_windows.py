"""Building blocks shared by the local (window-based) Laplacians: argument checks, the set of
windows, the whitening of a window's colours, and the in-place compaction into CSR.

The matting Laplacian (:mod:`matting.laplacian.closed_form`) and the learning-based Laplacian
(:mod:`matting.laplacian.learning_based`) both sum per-window blocks built from the window's
whitened colours into a rows x stencil buffer, then compact it; both use these.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.sparse
from numba import njit

from matting._inputs import _as_array
from matting.linalg.constraints import index_map


@njit(cache=True, nogil=True)
def whiten_window(centred, n, m0, m1, m2, regulariser):  # pragma: no cover - compiled
    """Centre the window's ``n`` colours (rows of ``centred``) on their mean ``(m0, m1, m2)``
    and replace each centred colour ``c_a`` by ``z_a = R^-1 c_a``, where
    ``R R^T = M = sum_a c_a c_a^T + regulariser I_3`` (R lower triangular), so that
    ``c_a^T M^-1 c_b = z_a . z_b``, symmetric by construction.

    ``M`` is ``|w|`` times the regularised window covariance ``Sigma + (regulariser/|w|) I``
    of Levin et al. (eps) and Zheng and Kambhamettu (lambda).
    """
    s00 = regulariser
    s01 = 0.0
    s02 = 0.0
    s11 = regulariser
    s12 = 0.0
    s22 = regulariser
    for a in range(n):
        c0 = centred[a, 0] - m0
        c1 = centred[a, 1] - m1
        c2 = centred[a, 2] - m2
        centred[a, 0] = c0
        centred[a, 1] = c1
        centred[a, 2] = c2
        s00 += c0 * c0
        s01 += c0 * c1
        s02 += c0 * c2
        s11 += c1 * c1
        s12 += c1 * c2
        s22 += c2 * c2
    # The closed-form Cholesky factor, not the adjugate inverse: with a small regulariser and
    # colours on a line (the case the papers are about) M is nearly singular, and the
    # adjugate's determinant cancels catastrophically (errors of 1e-4 at eps = 1e-7,
    # unbounded at 1e-9), while Cholesky is backward stable. Every pivot of M is at least its
    # smallest eigenvalue, which is >= regulariser; clamping there only absorbs rounding.
    r00 = np.sqrt(s00)
    r10 = s01 / r00
    r20 = s02 / r00
    r11 = np.sqrt(max(s11 - r10 * r10, regulariser))
    r21 = (s12 - r20 * r10) / r11
    r22 = np.sqrt(max(s22 - r20 * r20 - r21 * r21, regulariser))
    for a in range(n):
        z0 = centred[a, 0] / r00
        z1 = (centred[a, 1] - r10 * z0) / r11
        z2 = (centred[a, 2] - r20 * z0 - r21 * z1) / r22
        centred[a, 0] = z0
        centred[a, 1] = z1
        centred[a, 2] = z2


@njit(cache=True, nogil=True)
def compress_to_csr(values, touched, width, radius, indptr, indices):  # pragma: no cover
    """Compact the rows x stencil buffer ``values`` in place into CSR data.

    ``touched`` lists the flat pixel index of each buffer row, ascending. Stencil slots that
    are exactly zero (never touched by a window, or outside the image) are dropped. On return
    ``values[:indptr[-1]]`` holds the CSR data. The write position never overtakes the read
    position, so the compaction is safe in place.
    """
    n_stencil = (4 * radius + 1) ** 2
    n_pixels = indptr.shape[0] - 1
    pos = 0
    next_row = 0
    indptr[0] = 0
    for t in range(touched.shape[0]):
        i = touched[t]
        for p in range(next_row, i):  # rows no active window touches are empty
            indptr[p + 1] = pos
        slot = t * n_stencil
        for dy in range(-2 * radius, 2 * radius + 1):
            for dx in range(-2 * radius, 2 * radius + 1):
                v = values[slot]
                if v != 0.0:
                    values[pos] = v
                    indices[pos] = i + dy * width + dx
                    pos += 1
                slot += 1
        indptr[i + 1] = pos
        next_row = i + 1
    for p in range(next_row, n_pixels):
        indptr[p + 1] = pos


@njit(cache=True, nogil=True)
def compress_to_system(
    values, touched, width, radius, new_index, fixed_values, indptr, indices, right_hand_side
):  # pragma: no cover - compiled
    """Compact the rows of the free pixels of the rows x stencil buffer ``values`` in place
    into the CSR data of ``A = M[free][:, free]``, and write ``b = -M[free][:, fixed] @
    x_fixed`` into ``right_hand_side`` (see :func:`buffer_to_system`).

    ``new_index`` maps a flat pixel index to its row of ``A`` (-1 for fixed pixels). Returns
    the number of stored entries. As in :func:`compress_to_csr`, the write position never
    overtakes the read position.
    """
    n_stencil = (4 * radius + 1) ** 2
    n_free = indptr.shape[0] - 1
    position = 0
    next_row = 0
    indptr[0] = 0
    for t in range(touched.shape[0]):
        pixel = touched[t]
        row = new_index[pixel]
        if row < 0:
            continue
        for empty in range(next_row, row):  # free pixels no active window touches
            indptr[empty + 1] = position
            right_hand_side[empty] = 0.0
        slot = t * n_stencil
        total = 0.0
        for dy in range(-2 * radius, 2 * radius + 1):
            for dx in range(-2 * radius, 2 * radius + 1):
                v = values[slot]
                slot += 1
                if v != 0.0:
                    column_pixel = pixel + dy * width + dx
                    column = new_index[column_pixel]
                    if column >= 0:
                        values[position] = v
                        indices[position] = column
                        position += 1
                    else:
                        total -= v * fixed_values[column_pixel]
        right_hand_side[row] = total
        indptr[row + 1] = position
        next_row = row + 1
    for empty in range(next_row, n_free):
        indptr[empty + 1] = position
        right_hand_side[empty] = 0.0
    return position


def check_mask(mask, shape: tuple[int, int], name: str) -> np.ndarray:
    array = _as_array(mask, name)  # refuses None, masked arrays, file names
    if array.dtype != np.bool_:
        raise ValueError(
            f"{name} must be a boolean array, got dtype {array.dtype}; pass e.g. "
            f"trimap == 0.5 or {name}.astype(bool)"
        )
    if array.shape != tuple(shape):
        raise ValueError(
            f"{name} has shape {array.shape} but {tuple(shape)} was expected; they must match"
        )
    return array


def interior(shape: tuple[int, int], radius: int) -> np.ndarray:
    """Boolean mask of the centres whose window lies fully inside the image."""
    inside = np.zeros(shape, dtype=bool)
    inside[radius : shape[0] - radius, radius : shape[1] - radius] = True
    return inside


def box_any(mask: np.ndarray, radius: int) -> np.ndarray:
    """True where the (2r+1)^2 box around a pixel contains a True (a maximum filter with
    pixels outside the image False)."""
    mask = np.asarray(mask, dtype=bool)
    if radius > _SHIFTED_OR_MAX_RADIUS:
        return scipy.ndimage.maximum_filter(mask, size=2 * radius + 1, mode="constant", cval=False)
    # Separable, as OR-ed shifted slices: for the small radii of local windows about ten times
    # faster than scipy's filter on boolean images (0.15 against 1.5 ms at 0.3 MP, r = 1),
    # and called on every closed-form solve.
    result = mask.copy()
    for view in (result, result.T):  # rows, then columns through the transposed view
        source = view.copy(order="K")  # same memory layout as the view, so the ORs stream
        for shift in range(1, radius + 1):
            view[shift:] |= source[:-shift]
            view[:-shift] |= source[shift:]
    return result


#: Largest radius for which :func:`box_any` ORs shifted slices (4r passes over the image)
#: rather than calling scipy's maximum filter (a fixed cost whatever the radius).
_SHIFTED_OR_MAX_RADIUS = 4


def check_window_fits(shape: tuple[int, int], radius: int) -> None:
    """ValueError unless an image of ``shape`` holds at least one whole window."""
    height, width = shape[:2]
    size = 2 * radius + 1
    if height < size or width < size:
        raise ValueError(
            f"image is {height}x{width} but a window of radius {radius} needs at least "
            f"{size}x{size} pixels"
        )


def active_windows(shape: tuple[int, int], radius: int, window_mask=None) -> np.ndarray:
    """Centres of the windows to sum: fully inside the image (as in the authors'
    ``getLaplacian1``) and, if given, in ``window_mask``."""
    active = interior(shape, radius)
    if window_mask is not None:
        active &= check_mask(window_mask, shape, "window_mask")
    return active


def buffer_rows(active: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """The pixels some active window touches (ascending flat indices) and, for every pixel,
    its row in the rows x stencil buffer (-1 for untouched pixels, which get no row)."""
    touched = np.flatnonzero(box_any(active, radius))
    row_of_pixel = np.full(active.size, -1, dtype=np.int64)
    row_of_pixel[touched] = np.arange(touched.size, dtype=np.int64)
    return touched, row_of_pixel


def zeroed_buffer(size: int) -> np.ndarray:
    """A float64 array of zeros whose memory is already mapped, for a parallel kernel to add
    into.

    ``numpy.zeros`` of a large array maps fresh pages that the kernel's threads would then
    fault in concurrently, which costs far more than one thread writing them first. For the
    8 MB buffer of a 0.3 MP photograph (two threads, a Linux virtual machine) the closed-form
    kernel took a median 19-20 ms inside :func:`matting.closed_form` on fresh pages, and 6 ms
    after the 2.5 ms that writing them here costs.
    """
    values = np.empty(size, dtype=np.float64)
    values.fill(0.0)
    return values


def _index_arrays(values: np.ndarray, n_rows: int, capacity: int):
    """Empty ``indices`` (``capacity`` long, an upper bound) and ``indptr`` for compacting
    ``values`` into a CSR matrix of ``n_rows`` rows: int32 while that can index them.

    The upper bound spares a counting pass: pages past the final length are never written,
    so they cost no physical memory, and :func:`_shrunk_csr` shrinks the arrays in place.
    """
    index_dtype = np.int32 if max(values.size, n_rows) < np.iinfo(np.int32).max else np.int64
    return np.empty(capacity, dtype=index_dtype), np.empty(n_rows + 1, dtype=index_dtype)


def _shrunk_csr(values, indices, indptr, nnz: int, n: int) -> scipy.sparse.csr_matrix:
    """The square CSR matrix of the first ``nnz`` compacted entries, its arrays shrunk in
    place (they have no other reference) and marked canonical: the compaction writes each
    row once, in increasing column order, one entry per column."""
    values.resize(nnz, refcheck=False)
    indices.resize(nnz, refcheck=False)
    matrix = scipy.sparse.csr_matrix((values, indices, indptr), shape=(n, n), copy=False)
    matrix.has_canonical_format = True
    return matrix


def buffer_to_csr(values, touched, width: int, radius: int, n_pixels: int):
    """The rows x stencil buffer ``values`` (filled by a window kernel) as a canonical CSR
    matrix of ``n_pixels`` rows, compacted in place (:func:`compress_to_csr`)."""
    indices, indptr = _index_arrays(values, n_pixels, values.size)
    compress_to_csr(values, touched, width, radius, indptr, indices)
    return _shrunk_csr(values, indices, indptr, int(indptr[-1]), n_pixels)


def buffer_to_system(values, touched, width: int, radius: int, free: np.ndarray, fixed_values):
    """The unknowns' system of the matrix ``M`` in the rows x stencil buffer ``values``,
    without building ``M``: ``A = M[free][:, free]`` (canonical CSR, free pixels in row-major
    order) and ``b = -M[free][:, fixed] @ fixed_values[fixed]``, what
    :func:`matting.linalg.split_system` gives from :func:`buffer_to_csr`'s matrix, bit for
    bit. The buffer is compacted in place into ``A``'s data (:func:`compress_to_system`).

    One pass instead of two (compaction, then the split) and never the whole matrix in
    memory: on a 0.3 MP photograph 4-8 ms instead of 11-19 ms.

    Parameters
    ----------
    free : ndarray of bool, HxW
    fixed_values : ndarray of float64, HxW
        Values of the fixed pixels (entries at free pixels are not read).
    """
    free_pixels = np.flatnonzero(free.ravel())
    n_free = free_pixels.size
    n_stencil = (4 * radius + 1) ** 2
    indices, indptr = _index_arrays(values, n_free, min(values.size, n_free * n_stencil))
    right_hand_side = np.empty(n_free, dtype=np.float64)
    nnz = compress_to_system(
        values,
        touched,
        width,
        radius,
        index_map(free_pixels, free.size),
        np.ascontiguousarray(fixed_values, dtype=np.float64).ravel(),
        indptr,
        indices,
        right_hand_side,
    )
    return _shrunk_csr(values, indices, indptr, nnz, n_free), right_hand_side
