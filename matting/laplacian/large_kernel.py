"""The matting Laplacian with large windows, applied matrix-free (He, Sun and Tang, CVPR 2010).

The closed-form matting Laplacian (:mod:`matting.laplacian.closed_form`) with windows of
radius ``r`` has :math:`(4r+1)^2` entries per row: 1681 at ``r = 10``, too many to store. He
et al. observe that the product ``L p`` never needs the matrix. For the window :math:`w_k`
with colour mean :math:`\\mu_k`, covariance :math:`\\Sigma_k` and
:math:`\\Delta_k = \\Sigma_k + \\tfrac{\\varepsilon}{|w|} I_3`, let

.. math::

    \\bar p_k = \\frac{1}{|w|} \\sum_{j \\in w_k} p_j, \\qquad
    a_k = \\Delta_k^{-1} \\Big( \\frac{1}{|w|} \\sum_{j \\in w_k} I_j p_j
          - \\mu_k \\bar p_k \\Big), \\qquad
    b_k = \\bar p_k - a_k^T \\mu_k .

Then, as He et al. derive,

.. math::

    (L p)_i = c_i \\, p_i - \\sum_{k \\mid i \\in w_k} \\big( a_k^T I_i + b_k \\big),

with :math:`c_i` the number of windows containing pixel ``i``. Every sum over a window is a
box filter, computed here with running sums, so one product costs O(N) whatever the radius.
The diagonal of ``L`` (for Jacobi preconditioning) is also a handful of box filters:

.. math::

    L_{ii} = \\sum_{k \\mid i \\in w_k} \\Big( 1 - \\frac{1}{|w|}
             - (I_i - \\mu_k)^T \\frac{\\Delta_k^{-1}}{|w|} (I_i - \\mu_k) \\Big).

As in :func:`matting.laplacian.matting_laplacian` (and the authors' closed-form code), only
windows lying fully inside the image count, so this operator is exactly
``matting_laplacian(image, radius=r, eps=eps)`` without forming it.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.sparse.linalg import LinearOperator

from matting._inputs import as_finite, as_image, as_integer

from ._windows import check_window_fits

__all__ = ["LargeKernelLaplacian", "large_kernel_laplacian", "large_kernel_product"]

#: Window radius of :func:`matting.methods.large_kernel.large_kernel` and of the builders here.
DEFAULT_RADIUS = 10

# --------------------------------------------------------------------------------------------
# Numba kernels. Window sums are separable running sums streamed row by row: a vertical
# accumulator (one image row wide) gains the row entering the window and loses the row
# leaving it, then a horizontal running sum over the accumulator gives one row of window
# sums. O(1) work per pixel and channel for any r, and no image-sized scratch.
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def _add_moments(acc, x, r, g, b, sign):  # pragma: no cover - compiled
    acc[x, 0] += sign * r
    acc[x, 1] += sign * g
    acc[x, 2] += sign * b
    acc[x, 3] += sign * (r * r)
    acc[x, 4] += sign * (r * g)
    acc[x, 5] += sign * (r * b)
    acc[x, 6] += sign * (g * g)
    acc[x, 7] += sign * (g * b)
    acc[x, 8] += sign * (b * b)


@njit(cache=True, nogil=True, inline="always")
def _horizontal_valid(acc, radius, row):  # pragma: no cover - compiled
    """``row[xv] = sum of acc[xv : xv + 2r + 1]`` for every window column, per channel."""
    n_windows, channels = row.shape
    for c in range(channels):
        total = 0.0
        for x in range(2 * radius + 1):
            total += acc[x, c]
        row[0, c] = total
        for xv in range(1, n_windows):
            total += acc[xv + 2 * radius, c] - acc[xv - 1, c]
            row[xv, c] = total


@njit(cache=True, nogil=True)
def _window_statistics(image, radius, eps, mean, inverse):  # pragma: no cover - compiled
    """Mean and inverse regularised covariance of every window fully inside the image.

    ``mean`` is (hv, wv, 3); ``inverse`` is (hv, wv, 6) holding the upper triangle of
    ``(Sigma_k + eps/|w| I)^-1`` as (00, 01, 02, 11, 12, 22).
    """
    width = image.shape[1]
    hv, wv = mean.shape[:2]
    span = 2 * radius
    n = (span + 1) ** 2
    regulariser = eps / n
    acc = np.zeros((width, 9))
    row = np.empty((wv, 9))
    for y in range(span + 1):
        for x in range(width):
            _add_moments(acc, x, image[y, x, 0], image[y, x, 1], image[y, x, 2], 1.0)
    for yv in range(hv):
        if yv > 0:
            for x in range(width):
                enter = yv + span
                leave = yv - 1
                _add_moments(
                    acc, x, image[enter, x, 0], image[enter, x, 1], image[enter, x, 2], 1.0
                )
                _add_moments(
                    acc, x, image[leave, x, 0], image[leave, x, 1], image[leave, x, 2], -1.0
                )
        _horizontal_valid(acc, radius, row)
        for xv in range(wv):
            m0 = row[xv, 0] / n
            m1 = row[xv, 1] / n
            m2 = row[xv, 2] / n
            mean[yv, xv, 0] = m0
            mean[yv, xv, 1] = m1
            mean[yv, xv, 2] = m2
            s00 = row[xv, 3] / n - m0 * m0 + regulariser
            s01 = row[xv, 4] / n - m0 * m1
            s02 = row[xv, 5] / n - m0 * m2
            s11 = row[xv, 6] / n - m1 * m1 + regulariser
            s12 = row[xv, 7] / n - m1 * m2
            s22 = row[xv, 8] / n - m2 * m2 + regulariser
            # Inverse of the symmetric 3x3 matrix by cofactors. Delta_k >= eps/|w| I, and
            # with colours in [0, 1] its determinant stays far above underflow.
            c00 = s11 * s22 - s12 * s12
            c01 = s02 * s12 - s01 * s22
            c02 = s01 * s12 - s02 * s11
            c11 = s00 * s22 - s02 * s02
            c12 = s01 * s02 - s00 * s12
            c22 = s00 * s11 - s01 * s01
            inv_det = 1.0 / (s00 * c00 + s01 * c01 + s02 * c02)
            inverse[yv, xv, 0] = c00 * inv_det
            inverse[yv, xv, 1] = c01 * inv_det
            inverse[yv, xv, 2] = c02 * inv_det
            inverse[yv, xv, 3] = c11 * inv_det
            inverse[yv, xv, 4] = c12 * inv_det
            inverse[yv, xv, 5] = c22 * inv_det


@njit(cache=True, nogil=True, inline="always")
def _add_weighted_colour(acc, x, value, image, y, sign):  # pragma: no cover - compiled
    v = sign * value
    acc[x, 0] += v
    acc[x, 1] += v * image[y, x, 0]
    acc[x, 2] += v * image[y, x, 1]
    acc[x, 3] += v * image[y, x, 2]


@njit(cache=True, nogil=True)
def _apply_laplacian(image, p, radius, mean, inverse, coefficients, out):  # pragma: no cover
    """``out = L p`` for an (h, w) vector ``p`` (as He et al. derive it).

    ``coefficients`` is (hv, wv, 4) scratch for the per-window ``(a_k, b_k)``.
    """
    height, width = p.shape
    hv, wv = mean.shape[:2]
    span = 2 * radius
    inv_n = 1.0 / (span + 1) ** 2
    # 1. Window sums of p and p I, and from them a_k = Delta_k^-1 cov(I, p), b_k.
    acc = np.zeros((width, 4))
    row = np.empty((wv, 4))
    for y in range(span + 1):
        for x in range(width):
            _add_weighted_colour(acc, x, p[y, x], image, y, 1.0)
    for yv in range(hv):
        if yv > 0:
            for x in range(width):
                _add_weighted_colour(acc, x, p[yv + span, x], image, yv + span, 1.0)
                _add_weighted_colour(acc, x, p[yv - 1, x], image, yv - 1, -1.0)
        _horizontal_valid(acc, radius, row)
        for xv in range(wv):
            p_mean = row[xv, 0] * inv_n
            m0 = mean[yv, xv, 0]
            m1 = mean[yv, xv, 1]
            m2 = mean[yv, xv, 2]
            e0 = row[xv, 1] * inv_n - m0 * p_mean
            e1 = row[xv, 2] * inv_n - m1 * p_mean
            e2 = row[xv, 3] * inv_n - m2 * p_mean
            a0 = inverse[yv, xv, 0] * e0 + inverse[yv, xv, 1] * e1 + inverse[yv, xv, 2] * e2
            a1 = inverse[yv, xv, 1] * e0 + inverse[yv, xv, 3] * e1 + inverse[yv, xv, 4] * e2
            a2 = inverse[yv, xv, 2] * e0 + inverse[yv, xv, 4] * e1 + inverse[yv, xv, 5] * e2
            coefficients[yv, xv, 0] = a0
            coefficients[yv, xv, 1] = a1
            coefficients[yv, xv, 2] = a2
            coefficients[yv, xv, 3] = p_mean - (a0 * m0 + a1 * m1 + a2 * m2)
    # 2. Sum (a_k, b_k) over the windows containing each pixel and combine:
    #    (L p)_i = c_i p_i - (sum_k a_k) . I_i - sum_k b_k.
    column = np.zeros((wv, 4))
    for y in range(height):
        if y < hv:
            for xv in range(wv):
                for c in range(4):
                    column[xv, c] += coefficients[y, xv, c]
        if y - span - 1 >= 0:
            for xv in range(wv):
                for c in range(4):
                    column[xv, c] -= coefficients[y - span - 1, xv, c]
        rows_covering = min(y, hv - 1) - max(y - span, 0) + 1
        t0 = 0.0
        t1 = 0.0
        t2 = 0.0
        t3 = 0.0
        for x in range(width):
            if x < wv:
                t0 += column[x, 0]
                t1 += column[x, 1]
                t2 += column[x, 2]
                t3 += column[x, 3]
            if x - span - 1 >= 0:
                t0 -= column[x - span - 1, 0]
                t1 -= column[x - span - 1, 1]
                t2 -= column[x - span - 1, 2]
                t3 -= column[x - span - 1, 3]
            count = rows_covering * (min(x, wv - 1) - max(x - span, 0) + 1)
            out[y, x] = count * p[y, x] - (
                t0 * image[y, x, 0] + t1 * image[y, x, 1] + t2 * image[y, x, 2] + t3
            )


@njit(cache=True, nogil=True, inline="always")
def _add_diagonal_terms(column, mean, inverse, yv, xv, inv_n, sign):  # pragma: no cover
    """Add ``sign`` times window k's terms of diag(L): V = Delta^-1 / n (6), V mu (3) and
    1 - 1/n - mu^T V mu (1)."""
    v00 = inverse[yv, xv, 0] * inv_n
    v01 = inverse[yv, xv, 1] * inv_n
    v02 = inverse[yv, xv, 2] * inv_n
    v11 = inverse[yv, xv, 3] * inv_n
    v12 = inverse[yv, xv, 4] * inv_n
    v22 = inverse[yv, xv, 5] * inv_n
    m0 = mean[yv, xv, 0]
    m1 = mean[yv, xv, 1]
    m2 = mean[yv, xv, 2]
    vm0 = v00 * m0 + v01 * m1 + v02 * m2
    vm1 = v01 * m0 + v11 * m1 + v12 * m2
    vm2 = v02 * m0 + v12 * m1 + v22 * m2
    column[xv, 0] += sign * v00
    column[xv, 1] += sign * v01
    column[xv, 2] += sign * v02
    column[xv, 3] += sign * v11
    column[xv, 4] += sign * v12
    column[xv, 5] += sign * v22
    column[xv, 6] += sign * vm0
    column[xv, 7] += sign * vm1
    column[xv, 8] += sign * vm2
    column[xv, 9] += sign * (1.0 - inv_n - (m0 * vm0 + m1 * vm1 + m2 * vm2))


@njit(cache=True, nogil=True)
def _diagonal(image, radius, mean, inverse, out):  # pragma: no cover - compiled
    """``out = diag(L)``: the per-window terms summed over the windows containing each pixel
    (see the module docstring)."""
    height, width = image.shape[:2]
    hv, wv = mean.shape[:2]
    span = 2 * radius
    inv_n = 1.0 / (span + 1) ** 2
    column = np.zeros((wv, 10))
    s = np.empty(10)
    for y in range(height):
        if y < hv:
            for xv in range(wv):
                _add_diagonal_terms(column, mean, inverse, y, xv, inv_n, 1.0)
        if y - span - 1 >= 0:
            for xv in range(wv):
                _add_diagonal_terms(column, mean, inverse, y - span - 1, xv, inv_n, -1.0)
        s[:] = 0.0
        for x in range(width):
            if x < wv:
                for c in range(10):
                    s[c] += column[x, c]
            if x - span - 1 >= 0:
                for c in range(10):
                    s[c] -= column[x - span - 1, c]
            r = image[y, x, 0]
            g = image[y, x, 1]
            b = image[y, x, 2]
            quadratic = (
                s[0] * r * r
                + s[3] * g * g
                + s[5] * b * b
                + 2.0 * (s[1] * r * g + s[2] * r * b + s[4] * g * b)
            )
            linear = s[6] * r + s[7] * g + s[8] * b
            out[y, x] = s[9] - quadratic + 2.0 * linear


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


class LargeKernelLaplacian(LinearOperator):
    """The matting Laplacian of windows of radius ``r`` as a matrix-free ``LinearOperator``.

    Build it with :func:`large_kernel_laplacian`. ``L @ p`` (or ``L.matvec(p)``) costs O(N)
    for any radius; :meth:`diagonal` gives ``diag(L)``. The operator is symmetric, so
    ``rmatvec`` is ``matvec``. Pixel ``(row, col)`` has index ``row * W + col``.

    Attributes
    ----------
    image_shape : (int, int)
        (H, W) of the image.
    radius : int
    eps : float
    """

    def __init__(self, image: np.ndarray, radius: int, eps: float):
        height, width = image.shape[:2]
        super().__init__(dtype=np.float64, shape=(height * width, height * width))
        self.image_shape = (height, width)
        self.radius = radius
        self.eps = eps
        self._image = image
        span = 2 * radius
        hv, wv = height - span, width - span
        self._mean = np.empty((hv, wv, 3))
        self._inverse = np.empty((hv, wv, 6))
        _window_statistics(image, radius, eps, self._mean, self._inverse)
        # Scratch for the per-window coefficients, allocated once: CG calls matvec hundreds
        # of times.
        self._coefficients = np.empty((hv, wv, 4))
        self._diagonal = None

    def _matvec(self, p):
        p = np.asarray(p, dtype=np.float64).reshape(self.image_shape)
        if not (p.flags.c_contiguous and p.flags.writeable):
            # A read-only array would make Numba compile a second specialisation.
            p = np.array(p, order="C")
        out = np.empty(self.image_shape)
        _apply_laplacian(
            self._image, p, self.radius, self._mean, self._inverse, self._coefficients, out
        )
        return out.ravel()

    def _rmatvec(self, p):
        return self._matvec(p)

    def _adjoint(self):
        return self

    def diagonal(self) -> np.ndarray:
        """The diagonal of ``L`` (length H*W), computed with box filters and cached."""
        if self._diagonal is None:
            out = np.empty(self.image_shape)
            _diagonal(self._image, self.radius, self._mean, self._inverse, out)
            self._diagonal = out.ravel()
        return self._diagonal.copy()

    def __repr__(self) -> str:
        height, width = self.image_shape
        return f"<LargeKernelLaplacian {height}x{width} radius={self.radius} eps={self.eps:g}>"


def large_kernel_laplacian(
    image, *, radius: int = DEFAULT_RADIUS, eps: float = 1e-7
) -> LargeKernelLaplacian:
    """The matting Laplacian with (2r+1) x (2r+1) windows, as a matrix-free operator.

    This is the operator of He, Sun and Tang [1]_: exactly
    :func:`matting.laplacian.matting_laplacian` ``(image, radius=radius, eps=eps)`` (Levin et
    al.'s Laplacian summed over the windows fully inside the image), but applied through box
    filters, so a product costs O(N) time and memory whatever the radius, where the sparse
    matrix would hold :math:`(4r+1)^2` entries per row.

    Parameters
    ----------
    image : array_like, shape (H, W, 3)
        Anything :func:`matting._inputs.as_image` accepts; converted to float64 RGB in [0, 1].
    radius : int, optional
        Window radius ``r`` (windows of :math:`(2r+1)^2` pixels). Default 10.
    eps : float, optional
        Regulariser :math:`\\varepsilon` of the colour covariance, entering as
        :math:`\\varepsilon / |w|` on its diagonal as in Levin et al.'s code. Default 1e-7.

    Returns
    -------
    LargeKernelLaplacian
        A :class:`scipy.sparse.linalg.LinearOperator` of shape (H*W, H*W) with a
        :meth:`~LargeKernelLaplacian.diagonal` method. Symmetric positive semidefinite;
        rows sum to zero.

    Raises
    ------
    ValueError
        For an invalid image, a radius that is not a positive integer or leaves no window
        inside the image, or an ``eps`` that is not finite and positive.

    Notes
    -----
    Window sums are running sums streamed row by row (a one-row vertical accumulator gains
    the entering row and loses the leaving one, then a horizontal running sum), so their
    rounding error grows with the image size rather than with ``r``; with colours in [0, 1]
    it stays around 1e-13, far below what ``eps`` regularises. The covariance is formed as
    :math:`E[I I^T] - \\mu \\mu^T`, whose cancellation in flat windows is likewise far below
    :math:`\\varepsilon / |w|`. Memory: the operator keeps each window's mean, inverse
    covariance and a 4-value scratch (13 float64, 104 bytes per window) besides the image;
    the products need no other image-sized scratch.

    References
    ----------
    .. [1] K. He, J. Sun, X. Tang, "Fast Matting Using Large Kernel Matting Laplacian
       Matrices", CVPR 2010.
    .. [2] A. Levin, D. Lischinski, Y. Weiss, "A Closed-Form Solution to Natural Image
       Matting", IEEE TPAMI 30(2), 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from matting.laplacian.large_kernel import large_kernel_laplacian
    >>> image = np.random.default_rng(0).random((30, 40, 3))
    >>> L = large_kernel_laplacian(image, radius=5)
    >>> L.shape
    (1200, 1200)
    >>> bool(np.abs(L @ np.ones(1200)).max() < 1e-6)
    True
    """
    image = as_image(image)
    radius = as_integer(radius, "radius")
    eps = as_finite(eps, "eps")
    check_window_fits(image.shape, radius)
    return LargeKernelLaplacian(image, radius, eps)


def large_kernel_product(
    image, p, *, radius: int = DEFAULT_RADIUS, eps: float = 1e-7
) -> np.ndarray:
    """``L p`` for the large-window matting Laplacian ``L``, without forming ``L``.

    A one-off convenience around :func:`large_kernel_laplacian` (which to prefer when
    multiplying several vectors with the same image).

    Parameters
    ----------
    image : array_like, shape (H, W, 3)
    p : array_like, shape (H, W) or (H*W,)
        The vector, in row-major pixel order.
    radius, eps
        As in :func:`large_kernel_laplacian`.

    Returns
    -------
    ndarray, float64, the same shape as ``p``.
    """
    laplacian = large_kernel_laplacian(image, radius=radius, eps=eps)
    vector = np.asarray(p, dtype=np.float64)
    if vector.size != laplacian.shape[0] or vector.ndim not in (1, 2):
        raise ValueError(
            f"p has shape {vector.shape}; expected {laplacian.image_shape} or "
            f"({laplacian.shape[0]},)"
        )
    if vector.ndim == 2 and vector.shape != laplacian.image_shape:
        raise ValueError(f"p has shape {vector.shape}; expected {laplacian.image_shape}")
    if not np.all(np.isfinite(vector)):
        raise ValueError("p contains NaN or infinite values")
    return laplacian.matvec(vector.ravel()).reshape(vector.shape)
