"""The closed-form matting Laplacian of Levin, Lischinski and Weiss.

For every square window :math:`w_k` of radius ``r`` that lies fully inside the image, the
alpha matte is modelled as an affine function of the colour, which gives (TPAMI 2008, eq. 12)

.. math::

    L_{ij} = \\sum_{k \\mid (i, j) \\in w_k} \\Big( \\delta_{ij} - \\frac{1}{|w_k|}
    \\big(1 + (I_i - \\mu_k)^T (\\Sigma_k + \\tfrac{\\varepsilon}{|w_k|} I_3)^{-1}
    (I_j - \\mu_k)\\big) \\Big)

with :math:`\\mu_k` and :math:`\\Sigma_k` the mean and (biased) covariance of the colours in
:math:`w_k` and :math:`|w_k| = (2r + 1)^2`. This is what the authors' MATLAB ``getLaplacian1``
computes.

How it is assembled
-------------------
Two pixels share a window only if they are at most ``2r`` apart in each axis, so row ``i`` of
``L`` lives on a fixed ``(4r+1) x (4r+1)`` stencil around pixel ``i``. We accumulate window
blocks into a dense ``rows x stencil`` buffer that holds only the pixels some active window
touches (so memory follows the number of active windows, not the image size), then compact that
buffer in place into CSR. Stencil offsets in row-major order are also increasing column indices,
so the CSR comes out sorted and duplicate-free without a sort.

Windows are swept in bands of centre rows, even bands in parallel and then odd ones. Bands are
at least ``2r`` rows high, so two bands of the same parity never touch the same pixel: no races,
and every entry receives its contributions in the same order whatever the thread count, which
keeps the result deterministic. Each unordered pixel pair of a window is computed once and
added to both ``L[i, j]`` and ``L[j, i]``, so ``L`` is exactly symmetric.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage
import scipy.sparse
from numba import njit, prange

from matting._inputs import _as_array, as_finite, as_image, as_integer

from ._windows import (
    active_windows,
    box_any,
    buffer_rows,
    buffer_to_csr,
    buffer_to_system,
    check_mask,
    check_window_fits,
    whiten_window,
    zeroed_buffer,
)

__all__ = ["matting_laplacian", "matting_laplacian_system"]

#: Centre rows per band in the parallel sweep: enough bands to share among threads, tall enough
#: that a band's buffer rows are reused from cache as its windows slide along.
_BAND_ROWS = 16

# --------------------------------------------------------------------------------------------
# Numba kernels. Two of them only, because cold compilation time is part of what a user waits
# for on first use.
# --------------------------------------------------------------------------------------------


@njit(cache=True, parallel=True, nogil=True)
def _accumulate_windows(
    image, centers, band_start, radius, eps, row_of_pixel, values
):  # pragma: no cover - compiled
    """Add the block of every window in ``centers`` into ``values`` (rows x stencil, flat).

    ``centers`` holds the flat indices of the active window centres in raster order, cut
    into bands of centre rows: band ``b`` is ``centers[band_start[b]:band_start[b + 1]]``.
    Bands are at least ``2r`` rows high, so the windows of band ``b`` and band ``b + 2`` share
    no pixel: even bands run in parallel, then odd bands. ``row_of_pixel`` maps a flat pixel
    index to its row in ``values``.
    """
    width = image.shape[1]
    size = 2 * radius + 1
    n = size * size
    stencil = 4 * radius + 1
    n_stencil = stencil * stencil
    last_slot = n_stencil - 1
    centre_slot = 2 * radius * stencil + 2 * radius
    inv_n = 1.0 / n
    n_bands = band_start.shape[0] - 1

    for parity in range(2):
        for half in prange((n_bands - parity + 1) // 2):
            band = 2 * half + parity
            # Scratch per band, not per window, to keep allocation out of the hot loop.
            centred = np.empty((n, 3))
            row_base = np.empty(n, np.int64)
            # Raster order inside a band: consecutive windows overlap, so the buffer rows
            # they update are still in cache (the buffer itself is far larger than cache).
            for t in range(band_start[band], band_start[band + 1]):
                center = centers[t]
                ky = center // width
                kx = center - ky * width

                # Gather colours and buffer rows, then centre them on the window mean
                # (centring first avoids the cancellation of the E[I I^T] - mu mu^T form).
                m0 = 0.0
                m1 = 0.0
                m2 = 0.0
                a = 0
                for y in range(ky - radius, ky + radius + 1):
                    for x in range(kx - radius, kx + radius + 1):
                        c0 = image[y, x, 0]
                        c1 = image[y, x, 1]
                        c2 = image[y, x, 2]
                        centred[a, 0] = c0
                        centred[a, 1] = c1
                        centred[a, 2] = c2
                        m0 += c0
                        m1 += c1
                        m2 += c2
                        row_base[a] = row_of_pixel[y * width + x] * n_stencil
                        a += 1
                m0 *= inv_n
                m1 *= inv_n
                m2 *= inv_n

                # M = |w_k| (Sigma_k + eps/|w_k| I_3) = sum_a c_a c_a^T + eps I_3, so the pair
                # term (1 + c_a^T (Sigma_k + eps/|w_k| I)^-1 c_b) / |w_k| is 1/|w_k| + z_a . z_b.
                whiten_window(centred, n, m0, m1, m2, eps)

                # Each unordered pair (a, b) once, added to L[a, b] and L[b, a] with the same
                # value: half the arithmetic, and L comes out exactly symmetric. The slot of
                # b in a's stencil is s, and that of a in b's stencil is the mirror last - s.
                a = 0
                for ay in range(size):
                    for ax in range(size):
                        base_a = row_base[a]
                        z0 = centred[a, 0]
                        z1 = centred[a, 1]
                        z2 = centred[a, 2]
                        values[base_a + centre_slot] += (1.0 - inv_n) - (
                            z0 * z0 + z1 * z1 + z2 * z2
                        )
                        b = a + 1
                        for by in range(ay, size):
                            slot_row = (by - ay + 2 * radius) * stencil + 2 * radius - ax
                            for bx in range(ax + 1 if by == ay else 0, size):
                                v = -inv_n - (
                                    z0 * centred[b, 0] + z1 * centred[b, 1] + z2 * centred[b, 2]
                                )
                                slot = slot_row + bx
                                values[base_a + slot] += v
                                values[row_base[b] + last_slot - slot] += v
                                b += 1
                        a += 1


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def matting_laplacian(
    image,
    *,
    radius: int = 1,
    eps: float = 1e-7,
    window_mask=None,
) -> scipy.sparse.csr_matrix:
    """The closed-form matting Laplacian (Levin, Lischinski and Weiss, TPAMI 2008, eq. 12).

    .. math::

        L_{ij} = \\sum_{k \\mid (i, j) \\in w_k} \\Big( \\delta_{ij} - \\frac{1}{|w_k|}
        \\big(1 + (I_i - \\mu_k)^T (\\Sigma_k + \\tfrac{\\varepsilon}{|w_k|} I_3)^{-1}
        (I_j - \\mu_k)\\big) \\Big)

    summed over the square windows :math:`w_k` of radius ``r`` that lie fully inside the
    image, as the authors' MATLAB ``getLaplacian1`` does. :math:`\\mu_k` and
    :math:`\\Sigma_k` are the mean and biased (divide by :math:`|w_k|`) covariance of the
    window's colours.

    Parameters
    ----------
    image : array_like, shape (H, W, 3)
        The image, anything :func:`matting._inputs.as_image` accepts (float in [0, 1], uint8,
        uint16, gray or RGBA); it is converted to float64 RGB in [0, 1].
    radius : int, optional
        Window radius ``r``; windows have :math:`|w_k| = (2r+1)^2` pixels. Default 1, the
        paper's 3x3 windows.
    eps : float, optional
        The regulariser :math:`\\varepsilon` (paper and code: 1e-7). Larger values favour
        smoother mattes. It enters as :math:`\\varepsilon / |w_k|` on the covariance diagonal,
        as in the authors' code.
    window_mask : array_like of bool, shape (H, W), optional
        If given, only windows whose *centre* ``k`` has ``window_mask[k]`` True contribute;
        centres closer than ``r`` to the border are ignored in any case. Use
        :func:`matting.trimap.windows_touching` (of the unknown mask) to get the windows touching the unknown pixels: the
        matrix then has nonzero rows only near the unknown region, and memory and time grow
        with that region rather than with the image. Default: all windows.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (H*W, H*W)
        float64, exactly symmetric and positive semidefinite, in canonical CSR format (sorted
        indices, no duplicates). Pixel ``(row, col)`` has index ``row * W + col``. Entries
        that are exactly zero are not stored; rows of pixels that no active window touches
        are empty. With all windows, every row sums to zero (constant alpha costs nothing).

    Raises
    ------
    ValueError
        If the image is not a valid image (see :func:`matting._inputs.as_image`), is smaller
        than one window (``2r+1`` pixels) in either dimension, if ``radius`` is not a positive
        integer, ``eps`` not a finite positive number, or ``window_mask`` not a boolean array
        of shape (H, W).

    Notes
    -----
    Row ``i`` has at most :math:`(4r+1)^2` entries. Assembly uses a rows x stencil buffer for
    the touched pixels only, compacted in place into the CSR data, so peak memory is about
    :math:`12 (4r+1)^2` bytes per touched pixel plus :math:`O(HW)` bookkeeping (row pointers,
    a pixel-to-row map and the float64 image copy, about 40 bytes per pixel).
    Windows are computed in parallel with Numba (``numba.set_num_threads`` controls it); the
    result does not depend on the thread count.

    The 3x3 inverse is applied through a closed-form Cholesky factorisation of the
    regularised covariance rather than the adjugate formula: when a window's colours lie on a
    line (the situation the paper's colour line model is about) and ``eps`` is small, the
    covariance is nearly singular and the adjugate's determinant loses most of its digits,
    whereas Cholesky stays accurate (``L @ alpha`` decreases in proportion to ``eps`` down to
    at least 1e-9 for a two-colour image).

    References
    ----------
    .. [1] A. Levin, D. Lischinski and Y. Weiss, "A Closed-Form Solution to Natural Image
       Matting", IEEE TPAMI 30(2), pp. 228-242, 2008. (CVPR 2006 for the conference version.)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> image = rng.random((6, 7, 3))
    >>> L = matting_laplacian(image, radius=1, eps=1e-7)
    >>> L.shape
    (42, 42)
    >>> bool(abs(L @ np.ones(42)).max() < 1e-6)
    True
    """
    image, radius, eps = _checked(image, radius, eps)
    height, width = image.shape[:2]
    values, touched = _window_buffer(
        image, radius, eps, active_windows((height, width), radius, window_mask)
    )
    return buffer_to_csr(values, touched, width, radius, height * width)


def matting_laplacian_system(image, free, fixed_values, *, radius: int = 1, eps: float = 1e-7):
    """The linear system of the free pixels when the others are fixed: ``A = L[free][:, free]``
    and ``b = -L[free][:, fixed] @ fixed_values[fixed]``, with ``L`` the matting Laplacian of
    :func:`matting_laplacian`, built without ``L``.

    Minimising ``a^T L a`` with the fixed pixels held at their values means solving
    ``A a_free = b`` (Levin et al., TPAMI 2008, Sec. 3.1): what
    :func:`matting.linalg.split_system` returns from ``matting_laplacian(image,
    window_mask=windows_touching(free))``, bit for bit, but the window blocks are compacted
    straight into ``A`` and ``b``, so time and memory are those of the unknowns' system
    alone (on 0.3 MP photographs the compaction and split took 4-8 ms instead of 11-19 ms).

    Parameters
    ----------
    image : array_like, shape (H, W, 3)
        As for :func:`matting_laplacian`.
    free : array_like of bool, shape (H, W)
        The pixels to solve for (a trimap's unknown pixels).
    fixed_values : array_like, shape (H, W)
        Finite values of the other pixels (a trimap's 0 and 1, or any fractional values);
        entries at free pixels are not read.
    radius, eps
        As for :func:`matting_laplacian`.

    Returns
    -------
    A : scipy.sparse.csr_matrix, shape (n, n)
        n = number of free pixels, in row-major order (``np.flatnonzero(free)``); canonical,
        symmetric positive semidefinite.
    b : ndarray, float64, shape (n,)

    Raises
    ------
    ValueError
        As :func:`matting_laplacian` does, and if ``free`` is not a boolean array of shape
        (H, W) or ``fixed_values`` not a finite array of that shape.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.random.default_rng(0).random((8, 9, 3))
    >>> free = np.zeros((8, 9), bool); free[2:6, 3:7] = True
    >>> fixed = np.where(np.arange(9) < 5, 0.0, 1.0) * np.ones((8, 1))
    >>> A, b = matting_laplacian_system(image, free, fixed)
    >>> A.shape, b.shape
    ((16, 16), (16,))
    """
    image, radius, eps = _checked(image, radius, eps)
    height, width = image.shape[:2]
    free = check_mask(free, (height, width), "free")
    fixed_values = _as_array(fixed_values, "fixed_values")
    if fixed_values.dtype.kind not in "biuf":
        raise ValueError(f"fixed_values must be real numbers, got dtype {fixed_values.dtype}")
    if fixed_values.shape != (height, width):
        raise ValueError(
            f"fixed_values has shape {fixed_values.shape} but {(height, width)} was expected"
        )
    fixed_values = np.asarray(fixed_values, dtype=np.float64)
    if not np.all(np.isfinite(fixed_values) | free):
        raise ValueError("fixed_values contains NaN or infinite values at fixed pixels")
    system, right_hand_side = system_from_checked(image, free, fixed_values, radius, eps)
    if not np.all(np.isfinite(right_hand_side)):
        raise ValueError("fixed_values are too large: the right-hand side overflows")
    return system, right_hand_side


def system_from_checked(image, free, fixed_values, radius: int, eps: float):
    """:func:`matting_laplacian_system` for arguments its caller has already checked: a
    float64 C-contiguous image in [0, 1], a boolean ``free`` and float64 ``fixed_values`` of
    its size, finite where fixed, an integer radius and a finite eps. Closed-form matting
    checks its inputs once; checking them again cost 2-3 ms of a 0.1 s solve at 0.3 MP."""
    check_window_fits(image.shape, radius)
    height, width = image.shape[:2]
    # Only windows touching a free pixel add to the free pixels' rows.
    values, touched = _window_buffer(
        image, radius, eps, active_windows((height, width), radius, box_any(free, radius))
    )
    return buffer_to_system(values, touched, width, radius, free, fixed_values)


def _checked(image, radius, eps):
    image = as_image(image)
    radius = as_integer(radius, "radius")
    eps = as_finite(eps, "eps")
    check_window_fits(image.shape, radius)
    return image, radius, eps


def _window_buffer(image, radius: int, eps: float, active: np.ndarray):
    """The rows x stencil buffer summing the blocks of the windows centred where ``active``,
    and the flat indices of its rows' pixels (ascending)."""
    height, width = image.shape[:2]
    touched, row_of_pixel = buffer_rows(active, radius)

    # Window centres in raster order, cut into bands of _BAND_ROWS (at least 2r) centre rows
    # for the kernel's two-phase parallel sweep.
    centers = np.flatnonzero(active).astype(np.int64, copy=False)
    band_rows = max(_BAND_ROWS, 2 * radius)
    n_bands = -(-height // band_rows)
    band_start = np.searchsorted(centers, np.arange(n_bands + 1) * (band_rows * width))

    stencil = 4 * radius + 1
    # One flat owning array: after compaction it is shrunk in place to become the CSR data.
    values = zeroed_buffer(touched.size * stencil * stencil)
    if centers.size:
        _accumulate_windows(
            image, centers, band_start.astype(np.int64), radius, eps, row_of_pixel, values
        )
    return values, touched
