"""The local-learning Laplacian of learning-based digital matting (Zheng and Kambhamettu 2009).

In every square window :math:`w_k` of radius ``r`` (fully inside the image), alpha is fitted
as a linear function of colour by ridge regression,
:math:`\\min_{\\beta, \\beta_0} \\sum_{j \\in w_k} (\\alpha_j - \\beta^T I_j - \\beta_0)^2 +
\\lambda \\|\\beta\\|^2`, with the offset :math:`\\beta_0` not penalised (the paper's
:math:`I_0`). The fitted model predicts the window's alphas as :math:`F_k \\alpha_{w_k}` with

.. math::

    F_k = \\tilde X_k (\\tilde X_k^T \\tilde X_k + \\lambda I_0)^{-1} \\tilde X_k^T
        = \\tfrac{1}{|w_k|} \\mathbf{1}\\mathbf{1}^T
          + X_k (X_k^T X_k + \\lambda I_3)^{-1} X_k^T ,

where :math:`\\tilde X_k = [I_j^T, 1]_{j \\in w_k}` and :math:`X_k` holds the colours centred
on the window mean (eliminating the unpenalised offset centres the data). The local learning
cost is the prediction error :math:`\\sum_k \\|\\alpha_{w_k} - F_k \\alpha_{w_k}\\|^2 =
\\alpha^T L \\alpha` with

.. math::

    L = \\sum_k S_k^T (I - F_k)^T (I - F_k) S_k ,

:math:`S_k` selecting the window's pixels. :math:`I - F_k` is exactly the window block of the
closed-form matting Laplacian with :math:`\\varepsilon = \\lambda`, so each window adds the
*square* of Levin et al.'s block.

How it is assembled
-------------------
The 9x9 (for r = 1) blocks of all active windows are computed in parallel with Numba into one
array, scattered sequentially into a rows x stencil buffer that holds only the pixels some
active window touches, and compacted into CSR with the closed-form builder's compaction
kernel (:mod:`matting.laplacian.closed_form`), which this module reuses rather than repeats.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
from numba import njit, prange

from .._inputs import as_finite, as_image, as_integer
from ._windows import (
    active_windows,
    buffer_rows,
    buffer_to_csr,
    check_window_fits,
    whiten_window,
)

__all__ = ["learning_based_laplacian"]


@njit(cache=True, parallel=True, nogil=True)
def _window_blocks(image, centers, radius, lambda_):  # pragma: no cover - compiled
    """``(I - F_k)^2`` for every window centre in ``centers``, flattened to ``n * n`` values."""
    width = image.shape[1]
    size = 2 * radius + 1
    n = size * size
    inv_n = 1.0 / n
    blocks = np.empty((centers.shape[0], n * n))
    for t in prange(centers.shape[0]):
        ky = centers[t] // width
        kx = centers[t] - ky * width
        centred = np.empty((n, 3))
        a = 0
        m0 = m1 = m2 = 0.0
        for y in range(ky - radius, ky + radius + 1):
            for x in range(kx - radius, kx + radius + 1):
                centred[a, 0] = image[y, x, 0]
                centred[a, 1] = image[y, x, 1]
                centred[a, 2] = image[y, x, 2]
                m0 += image[y, x, 0]
                m1 += image[y, x, 1]
                m2 += image[y, x, 2]
                a += 1
        m0 *= inv_n
        m1 *= inv_n
        m2 *= inv_n
        # z_a = R^-1 (c_a - mean) with R R^T = X^T X + lambda I_3 over the centred colours X.
        whiten_window(centred, n, m0, m1, m2, lambda_)
        # G = I - F with F_ab = 1/n + z_a . z_b (symmetric), then the block G G.
        g = np.empty((n, n))
        for a in range(n):
            for b in range(a, n):
                value = -inv_n - (
                    centred[a, 0] * centred[b, 0]
                    + centred[a, 1] * centred[b, 1]
                    + centred[a, 2] * centred[b, 2]
                )
                if a == b:
                    value += 1.0
                g[a, b] = value
                g[b, a] = value
        for a in range(n):
            for b in range(a, n):
                total = 0.0
                for c in range(n):
                    total += g[a, c] * g[c, b]
                blocks[t, a * n + b] = total
                blocks[t, b * n + a] = total
    return blocks


@njit(cache=True, nogil=True)
def _scatter_blocks(blocks, centers, width, radius, row_of_pixel, values):  # pragma: no cover
    """Add each window block into the rows x stencil buffer ``values`` (flat)."""
    size = 2 * radius + 1
    stencil = 4 * radius + 1
    n_stencil = stencil * stencil
    for t in range(centers.shape[0]):
        ky = centers[t] // width
        kx = centers[t] - ky * width
        a = 0
        for ay in range(size):
            for ax in range(size):
                base = row_of_pixel[(ky - radius + ay) * width + kx - radius + ax] * n_stencil
                b = 0
                for by in range(size):
                    # Offset of b from a is (by - ay, bx - ax); its stencil slot is that offset
                    # plus 2r in each axis.
                    slot_row = (by - ay + 2 * radius) * stencil + 2 * radius - ax
                    for bx in range(size):
                        values[base + slot_row + bx] += blocks[t, a * size * size + b]
                        b += 1
                a += 1


def learning_based_laplacian(
    image,
    *,
    radius: int = 1,
    lambda_: float = 1e-7,
    window_mask=None,
) -> scipy.sparse.csr_matrix:
    """The local-learning Laplacian of learning-based matting (Zheng and Kambhamettu 2009).

    .. math::

        L = \\sum_k S_k^T (I - F_k)^T (I - F_k) S_k, \\qquad
        F_k = \\tilde X_k (\\tilde X_k^T \\tilde X_k + \\lambda I_0)^{-1} \\tilde X_k^T

    summed over the square windows :math:`w_k` of radius ``r`` that lie fully inside the
    image. :math:`\\tilde X_k` has one row :math:`[I_j^T, 1]` per window pixel and
    :math:`I_0 = \\mathrm{diag}(1, 1, 1, 0)`, so the ridge penalty leaves the offset of the
    local linear model free. ``F_k`` maps the window's alphas to the model's predictions and
    ``alpha^T L alpha`` is the total prediction error.

    Parameters
    ----------
    image : array_like, shape (H, W, 3)
        Anything :func:`matting._inputs.as_image` accepts; converted to float64 RGB in [0, 1].
    radius : int, optional
        Window radius ``r``; windows have :math:`(2r+1)^2` pixels. Default 1, the paper's 3x3
        windows.
    lambda_ : float, optional
        Ridge parameter :math:`\\lambda` of the local linear models. Default 1e-7, the
        authors' code. Larger values give smoother mattes.
    window_mask : array_like of bool, shape (H, W), optional
        Only windows whose centre has ``window_mask`` True contribute (centres closer than
        ``r`` to the border never do). Pass
        ``matting.trimap.windows_touching(unknown, radius)`` to build only what a trimap's
        unknown pixels need. Default: all windows.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (H*W, H*W)
        float64, exactly symmetric, positive semidefinite, canonical CSR. With all windows,
        every row sums to zero (constant alpha is predicted exactly). Rows of pixels no
        active window touches are empty.

    Raises
    ------
    ValueError
        For a bad image, an image smaller than one window, a radius that is not a positive
        integer, ``lambda_`` not finite and positive, or a bad ``window_mask``.

    Notes
    -----
    The window block :math:`I - F_k` equals the closed-form matting Laplacian's window block
    with :math:`\\varepsilon = \\lambda` (:func:`matting.laplacian.matting_laplacian`), so this
    Laplacian is the sum of the squares of those blocks. Blocks are computed through a
    Cholesky factor of the regularised 3x3 colour scatter, accurate for tiny ``lambda_``.

    The authors' MATLAB code forms :math:`F_k` in the dual (kernel) form and zeroes the last
    *pixel's* entry of the regulariser instead of the offset's; pymatting regularises the
    offset too. Both differ from the formula above only by terms of order ``lambda_``.

    References
    ----------
    .. [1] Y. Zheng and C. Kambhamettu, "Learning Based Digital Matting", ICCV 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from matting.laplacian.learning_based import learning_based_laplacian
    >>> L = learning_based_laplacian(np.random.default_rng(0).random((6, 7, 3)))
    >>> L.shape, bool(abs(L @ np.ones(42)).max() < 1e-6)
    ((42, 42), True)
    """
    image = as_image(image)
    radius = as_integer(radius, "radius")
    lambda_ = as_finite(lambda_, "lambda_")
    height, width = image.shape[:2]
    check_window_fits((height, width), radius)
    active = active_windows((height, width), radius, window_mask)
    n_pixels = height * width
    touched, row_of_pixel = buffer_rows(active, radius)
    centers = np.flatnonzero(active).astype(np.int64, copy=False)
    del active

    stencil = 4 * radius + 1
    values = np.zeros(touched.size * stencil * stencil, dtype=np.float64)
    if centers.size:
        blocks = _window_blocks(image, centers, radius, lambda_)
        _scatter_blocks(blocks, centers, width, radius, row_of_pixel, values)
        del blocks
    del row_of_pixel, centers

    return buffer_to_csr(values, touched, width, radius, n_pixels)
