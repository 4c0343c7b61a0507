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

Then (He et al., eqs. 8-10)

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

import numbers

import numpy as np
from numba import njit
from scipy.sparse.linalg import LinearOperator

from matting._inputs import as_image

__all__ = ["LargeKernelLaplacian", "large_kernel_laplacian", "large_kernel_product"]

#: Window radius of :func:`matting.large_kernel` and of the builders here.
DEFAULT_RADIUS = 10

# --------------------------------------------------------------------------------------------
# Numba kernels: separable box sums by running sums (O(1) work per pixel and channel, any r).
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _box_valid(src, radius, column_sums, out):  # pragma: no cover - compiled
    """``out[y, x] = sum of src over the window of radius r centred at (y + r, x + r)``.

    ``src`` is (h, w, c); ``out`` is (h - 2r, w - 2r, c), the windows fully inside;
    ``column_sums`` is scratch of shape (h - 2r, w, c).
    """
    height, width, channels = src.shape
    size = 2 * radius + 1
    # Vertical running sums, one image row at a time (rows are contiguous in memory).
    for x in range(width):
        for c in range(channels):
            total = 0.0
            for y in range(size):
                total += src[y, x, c]
            column_sums[0, x, c] = total
    for y in range(1, height - 2 * radius):
        for x in range(width):
            for c in range(channels):
                column_sums[y, x, c] = (
                    column_sums[y - 1, x, c] + src[y + 2 * radius, x, c] - src[y - 1, x, c]
                )
    for y in range(height - 2 * radius):
        for c in range(channels):
            total = 0.0
            for x in range(size):
                total += column_sums[y, x, c]
            out[y, 0, c] = total
            for x in range(1, width - 2 * radius):
                total += column_sums[y, x + 2 * radius, c] - column_sums[y, x - 1, c]
                out[y, x, c] = total


@njit(cache=True, nogil=True)
def _box_full(src, radius, column_sums, out):  # pragma: no cover - compiled
    """Scatter per-window values back to pixels: ``out[i] = sum of src[k]`` over the windows
    ``k`` containing pixel ``i`` (the transpose of :func:`_box_valid`).

    ``src`` is (hv, wv, c) indexed by window (centre minus r); ``out`` is (hv + 2r, wv + 2r, c);
    ``column_sums`` is scratch of shape (hv + 2r, wv, c).
    """
    hv, wv, channels = src.shape
    span = 2 * radius
    for y in range(hv + span):
        # Windows k with y - 2r <= k <= y, clipped to [0, hv).
        for x in range(wv):
            for c in range(channels):
                total = column_sums[y - 1, x, c] if y > 0 else 0.0
                if y < hv:
                    total += src[y, x, c]
                if y - span - 1 >= 0:
                    total -= src[y - span - 1, x, c]
                column_sums[y, x, c] = total
    for y in range(hv + span):
        for c in range(channels):
            total = 0.0
            for x in range(wv + span):
                if x < wv:
                    total += column_sums[y, x, c]
                if x - span - 1 >= 0:
                    total -= column_sums[y, x - span - 1, c]
                out[y, x, c] = total


@njit(cache=True, nogil=True)
def _window_statistics(
    image, radius, eps, work_valid, column_sums, mean, inverse
):  # pragma: no cover - compiled
    """Mean and inverse regularised covariance of every window fully inside the image.

    ``mean`` is (hv, wv, 3); ``inverse`` is (hv, wv, 6) holding the upper triangle of
    ``(Sigma_k + eps/|w| I)^-1`` as (00, 01, 02, 11, 12, 22).
    """
    height, width = image.shape[:2]
    n = (2 * radius + 1) ** 2
    moments = np.empty((height, width, 9))
    for y in range(height):
        for x in range(width):
            r = image[y, x, 0]
            g = image[y, x, 1]
            b = image[y, x, 2]
            moments[y, x, 0] = r
            moments[y, x, 1] = g
            moments[y, x, 2] = b
            moments[y, x, 3] = r * r
            moments[y, x, 4] = r * g
            moments[y, x, 5] = r * b
            moments[y, x, 6] = g * g
            moments[y, x, 7] = g * b
            moments[y, x, 8] = b * b
    _box_valid(moments, radius, column_sums, work_valid)
    hv, wv = mean.shape[:2]
    regulariser = eps / n
    for y in range(hv):
        for x in range(wv):
            m0 = work_valid[y, x, 0] / n
            m1 = work_valid[y, x, 1] / n
            m2 = work_valid[y, x, 2] / n
            mean[y, x, 0] = m0
            mean[y, x, 1] = m1
            mean[y, x, 2] = m2
            s00 = work_valid[y, x, 3] / n - m0 * m0 + regulariser
            s01 = work_valid[y, x, 4] / n - m0 * m1
            s02 = work_valid[y, x, 5] / n - m0 * m2
            s11 = work_valid[y, x, 6] / n - m1 * m1 + regulariser
            s12 = work_valid[y, x, 7] / n - m1 * m2
            s22 = work_valid[y, x, 8] / n - m2 * m2 + regulariser
            # Inverse of the symmetric 3x3 matrix by cofactors. Delta_k >= eps/|w| I, and
            # with colours in [0, 1] its determinant stays far above underflow.
            c00 = s11 * s22 - s12 * s12
            c01 = s02 * s12 - s01 * s22
            c02 = s01 * s12 - s02 * s11
            c11 = s00 * s22 - s02 * s02
            c12 = s01 * s02 - s00 * s12
            c22 = s00 * s11 - s01 * s01
            inv_det = 1.0 / (s00 * c00 + s01 * c01 + s02 * c02)
            inverse[y, x, 0] = c00 * inv_det
            inverse[y, x, 1] = c01 * inv_det
            inverse[y, x, 2] = c02 * inv_det
            inverse[y, x, 3] = c11 * inv_det
            inverse[y, x, 4] = c12 * inv_det
            inverse[y, x, 5] = c22 * inv_det


@njit(cache=True, nogil=True)
def _apply_laplacian(
    image,
    p,
    radius,
    mean,
    inverse,
    count,
    stacked,
    column_valid,
    sums,
    coefficients,
    column_full,
    scattered,
    out,
):  # pragma: no cover - compiled
    """``out = L p`` for an (h, w) vector ``p`` (He et al., eqs. 8-10).

    The remaining arguments are preallocated scratch: ``stacked`` (h, w, 4), ``column_valid``
    (hv, w, 4), ``sums`` and ``coefficients`` (hv, wv, 4), ``column_full`` (h, wv, 4),
    ``scattered`` (h, w, 4).
    """
    height, width = p.shape
    n = (2 * radius + 1) ** 2
    inv_n = 1.0 / n
    for y in range(height):
        for x in range(width):
            value = p[y, x]
            stacked[y, x, 0] = value
            stacked[y, x, 1] = value * image[y, x, 0]
            stacked[y, x, 2] = value * image[y, x, 1]
            stacked[y, x, 3] = value * image[y, x, 2]
    _box_valid(stacked, radius, column_valid, sums)
    hv, wv = mean.shape[:2]
    for y in range(hv):
        for x in range(wv):
            p_mean = sums[y, x, 0] * inv_n
            m0 = mean[y, x, 0]
            m1 = mean[y, x, 1]
            m2 = mean[y, x, 2]
            # Cross-covariance of colour and p in the window, then a_k = Delta_k^-1 of it.
            e0 = sums[y, x, 1] * inv_n - m0 * p_mean
            e1 = sums[y, x, 2] * inv_n - m1 * p_mean
            e2 = sums[y, x, 3] * inv_n - m2 * p_mean
            a0 = inverse[y, x, 0] * e0 + inverse[y, x, 1] * e1 + inverse[y, x, 2] * e2
            a1 = inverse[y, x, 1] * e0 + inverse[y, x, 3] * e1 + inverse[y, x, 4] * e2
            a2 = inverse[y, x, 2] * e0 + inverse[y, x, 4] * e1 + inverse[y, x, 5] * e2
            coefficients[y, x, 0] = a0
            coefficients[y, x, 1] = a1
            coefficients[y, x, 2] = a2
            coefficients[y, x, 3] = p_mean - (a0 * m0 + a1 * m1 + a2 * m2)
    _box_full(coefficients, radius, column_full, scattered)
    for y in range(height):
        for x in range(width):
            out[y, x] = count[y, x] * p[y, x] - (
                scattered[y, x, 0] * image[y, x, 0]
                + scattered[y, x, 1] * image[y, x, 1]
                + scattered[y, x, 2] * image[y, x, 2]
                + scattered[y, x, 3]
            )


@njit(cache=True, nogil=True)
def _diagonal(image, radius, mean, inverse, column_full, out):  # pragma: no cover - compiled
    """``out = diag(L)`` through box filters of per-window quantities (see module docstring)."""
    height, width = image.shape[:2]
    hv, wv = mean.shape[:2]
    n = (2 * radius + 1) ** 2
    inv_n = 1.0 / n
    # Per window: V = Delta^-1 / n (6), V mu (3), 1 - 1/n - mu^T V mu (1).
    per_window = np.empty((hv, wv, 10))
    for y in range(hv):
        for x in range(wv):
            v00 = inverse[y, x, 0] * inv_n
            v01 = inverse[y, x, 1] * inv_n
            v02 = inverse[y, x, 2] * inv_n
            v11 = inverse[y, x, 3] * inv_n
            v12 = inverse[y, x, 4] * inv_n
            v22 = inverse[y, x, 5] * inv_n
            m0 = mean[y, x, 0]
            m1 = mean[y, x, 1]
            m2 = mean[y, x, 2]
            vm0 = v00 * m0 + v01 * m1 + v02 * m2
            vm1 = v01 * m0 + v11 * m1 + v12 * m2
            vm2 = v02 * m0 + v12 * m1 + v22 * m2
            per_window[y, x, 0] = v00
            per_window[y, x, 1] = v01
            per_window[y, x, 2] = v02
            per_window[y, x, 3] = v11
            per_window[y, x, 4] = v12
            per_window[y, x, 5] = v22
            per_window[y, x, 6] = vm0
            per_window[y, x, 7] = vm1
            per_window[y, x, 8] = vm2
            per_window[y, x, 9] = 1.0 - inv_n - (m0 * vm0 + m1 * vm1 + m2 * vm2)
    scattered = np.empty((height, width, 10))
    _box_full(per_window, radius, column_full, scattered)
    for y in range(height):
        for x in range(width):
            r = image[y, x, 0]
            g = image[y, x, 1]
            b = image[y, x, 2]
            s = scattered[y, x]
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


def _check_radius(radius) -> int:
    is_int = isinstance(radius, numbers.Integral) and not isinstance(radius, (bool, np.bool_))
    if not (is_int and radius >= 1):
        raise ValueError(f"radius must be a positive integer, got {radius!r}")
    return int(radius)


def _check_eps(eps) -> float:
    is_real = isinstance(eps, numbers.Real) and not isinstance(eps, (bool, np.bool_))
    if not (is_real and np.isfinite(eps) and eps > 0.0):
        raise ValueError(f"eps must be a finite positive number, got {eps!r}")
    return float(eps)


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
        _window_statistics(
            image,
            radius,
            eps,
            np.empty((hv, wv, 9)),
            np.empty((hv, width, 9)),
            self._mean,
            self._inverse,
        )
        # Windows containing each pixel: the full box filter of ones.
        count = np.empty((height, width, 1))
        _box_full(np.ones((hv, wv, 1)), radius, np.empty((height, wv, 1)), count)
        self._count = np.ascontiguousarray(count[:, :, 0])
        # Scratch for the products, allocated once: CG calls matvec hundreds of times.
        self._scratch = (
            np.empty((height, width, 4)),
            np.empty((hv, width, 4)),
            np.empty((hv, wv, 4)),
            np.empty((hv, wv, 4)),
            np.empty((height, wv, 4)),
            np.empty((height, width, 4)),
        )
        self._diagonal = None

    def _matvec(self, p):
        p = np.ascontiguousarray(np.asarray(p, dtype=np.float64).reshape(self.image_shape))
        out = np.empty(self.image_shape)
        _apply_laplacian(
            self._image,
            p,
            self.radius,
            self._mean,
            self._inverse,
            self._count,
            *self._scratch,
            out,
        )
        return out.ravel()

    def _rmatvec(self, p):
        return self._matvec(p)

    def _adjoint(self):
        return self

    def diagonal(self) -> np.ndarray:
        """The diagonal of ``L`` (length H*W), computed with box filters and cached."""
        if self._diagonal is None:
            height, width = self.image_shape
            out = np.empty((height, width))
            column_full = np.empty((height, self._mean.shape[1], 10))
            _diagonal(self._image, self.radius, self._mean, self._inverse, column_full, out)
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
    Window sums are running sums (add the entering pixel, subtract the leaving one), so their
    rounding error grows with the image width rather than with ``r``; with colours in [0, 1]
    it stays around 1e-13, far below what ``eps`` regularises. The covariance is formed as
    :math:`E[I I^T] - \\mu \\mu^T`, whose cancellation in flat windows is likewise far below
    :math:`\\varepsilon / |w|`.

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
    radius = _check_radius(radius)
    eps = _check_eps(eps)
    height, width = image.shape[:2]
    size = 2 * radius + 1
    if height < size or width < size:
        raise ValueError(
            f"image is {height}x{width} but a window of radius {radius} needs at least "
            f"{size}x{size} pixels"
        )
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
