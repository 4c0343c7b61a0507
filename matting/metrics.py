"""Error measures for alpha mattes: SAD, MSE, gradient and connectivity errors.

The four measures are the ones introduced by Rhemann et al. for the alphamatting.com benchmark
(gradient and connectivity errors are theirs), computed the way the Deep Image Matting
evaluation code (Xu et al., MATLAB, ``compute_sad_loss.m``, ``compute_mse_loss.m``,
``compute_gradient_loss.m``, ``compute_connectivity_error.m`` and ``evaluate.m``) computes them.
That code is what matting papers report numbers with, so matching it matters more than any
other variant of the definitions.

What "exactly following the DIM code" means here
------------------------------------------------
- Only the unknown pixels of the trimap are scored (``trimap == 128`` in the DIM code; here any
  value strictly between background and foreground, which is the same set for 0/128/255
  trimaps). Without a trimap every pixel is scored. Gradients and connected components are
  always computed on the whole image and only then restricted, as in the DIM code, so the
  known region still influences the unknown pixels next to it.
- Scaling: SAD, gradient and connectivity errors are sums over the unknown pixels divided by
  1000 (``compute_sad_loss.m`` divides SAD itself; ``evaluate.m`` divides the gradient and
  connectivity sums). MSE is the mean over the unknown pixels, unscaled. The numbers are
  therefore directly comparable with the tables of matting papers, which also average these
  per-image values over a test set.
- Gradient: the DIM code's ``gaussgradient`` (first-order Gaussian derivative filters,
  sigma = 1.4, half size ``ceil(sigma * sqrt(-2 log(sqrt(2 pi) sigma 0.01)))`` = 4, kernel
  normalised to unit L2 norm, ``imfilter(..., 'replicate', 'conv')``), reproduced tap for tap
  including the convolution's orientation.
- Connectivity: thresholds ``0:step:1``, largest 4-connected component of the pixels where
  both mattes reach the threshold (ties broken like MATLAB's ``bwconncomp`` + ``max``: the
  component whose first pixel comes first in column-major order), theta = 0.15.
- Gradient: each matte is first stretched to [0, 1] with MATLAB's ``mat2gray`` (minimum to 0,
  maximum to 1; a constant matte is left as it is), as ``compute_gradient_loss.m`` does. For a
  matte containing both 0 and 1 this changes nothing.
- Alphas are floats in [0, 1]; ``uint8`` and ``uint16`` mattes are divided by 255 and 65535
  (the DIM code reads 8-bit PNGs and divides by 255).

Known, deliberate differences from the MATLAB code, all invisible on real benchmark data:

- Everything is computed in float64; the MATLAB code uses ``single`` in places (connectivity,
  the gradient error map), so its results differ in about the seventh significant digit.
- With no unknown pixel, every measure returns 0.0 (the MATLAB MSE would be 0/0 = NaN).
- A threshold at which no pixel of either matte qualifies gives an empty component (the
  MATLAB code does not handle this case explicitly).
- The thresholds are ``np.arange(11) / 10``, the doubles nearest to 0.0, 0.1, ..., 1.0;
  MATLAB's colon operator may differ from them in the last bit, which matters only for an
  alpha lying exactly on a threshold.

References
----------
.. [1] N. Xu, B. Price, S. Cohen, T. Huang, "Deep Image Matting", CVPR 2017, and its MATLAB
   evaluation code (the reference behaviour reproduced here).
.. [2] C. Rhemann, C. Rother, J. Wang, M. Gelautz, P. Kohli, P. Rott, "A Perceptually
   Motivated Online Benchmark for Image Matting", CVPR 2009 (definition of the gradient and
   connectivity errors).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import ndimage

from ._inputs import UNKNOWN, as_alpha, as_finite, as_trimap, check_same_shape

__all__ = ["connectivity_error", "gradient_error", "mse", "sad"]

# Errors that are sums over pixels are divided by this, as in the DIM evaluation code (whose
# comment says the scaling is "due to the large images used in our experiment").
_SCALE = 1000.0

# gaussgradient.m truncates the Gaussian where it falls below this fraction of its peak.
_GAUSS_EPSILON = 1e-2

# Smallest sigma of the gradient error: below about 0.026 the kernel's taps at +-1 underflow
# to zero; from 0.1 on they are at least exp(-50) of the peak.
_MIN_SIGMA = 0.1

# Smallest threshold spacing of the connectivity error (1 000 thresholds, each a connected-
# component labelling of the image; the DIM code uses 0.1).
_MIN_STEP = 1e-3

# 4-connectivity, as bwconncomp(..., 4) in the DIM code.
_FOUR_CONNECTED = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)


def _prepare(alpha, gt, trimap) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Normalise the inputs; return (alpha, gt, unknown mask or None when all pixels count)."""
    alpha = as_alpha(alpha, name="alpha")
    gt = as_alpha(gt, name="gt")
    check_same_shape(alpha, gt, ("alpha", "gt"))
    if trimap is None:
        return alpha, gt, None
    # require_known=False: scoring a crop that lies entirely in the unknown band is legitimate.
    trimap = as_trimap(trimap, require_known=False)
    check_same_shape(trimap, alpha, ("trimap", "alpha"))
    return alpha, gt, trimap == UNKNOWN


def _masked_sum(values: np.ndarray, unknown: np.ndarray | None) -> float:
    return float(values.sum() if unknown is None else values[unknown].sum())


def sad(alpha, gt, trimap=None) -> float:
    """Sum of absolute differences over the unknown region, divided by 1000.

    Parameters
    ----------
    alpha : array_like, HxW
        The estimated matte: float in [0, 1], ``uint8`` (0..255) or ``uint16`` (0..65535).
    gt : array_like, HxW
        The ground-truth matte, same encodings and shape as ``alpha``.
    trimap : array_like, HxW, optional
        Only its unknown pixels (strictly between background and foreground, e.g. 128 in a
        ``uint8`` trimap) are scored; every pixel is scored when ``trimap`` is None.

    Returns
    -------
    float
        ``sum(|alpha - gt|) / 1000`` over the unknown pixels; 0.0 if there are none.

    Raises
    ------
    ValueError
        If the shapes differ (the message names both), or on NaN or out-of-range values.

    References
    ----------
    N. Xu, B. Price, S. Cohen, T. Huang, "Deep Image Matting", CVPR 2017 (evaluation code).

    Examples
    --------
    >>> import numpy as np
    >>> sad(np.full((10, 10), 0.5), np.zeros((10, 10)))
    0.05
    """
    alpha, gt, unknown = _prepare(alpha, gt, trimap)
    return _masked_sum(np.abs(alpha - gt), unknown) / _SCALE


def mse(alpha, gt, trimap=None) -> float:
    """Mean squared error over the unknown region (not scaled).

    Parameters
    ----------
    alpha, gt, trimap
        As in :func:`sad`.

    Returns
    -------
    float
        ``sum((alpha - gt)**2) / |U|`` over the unknown pixels U; 0.0 if U is empty (the DIM
        code would divide 0 by 0).

    Raises
    ------
    ValueError
        If the shapes differ (the message names both), or on NaN or out-of-range values.

    References
    ----------
    N. Xu, B. Price, S. Cohen, T. Huang, "Deep Image Matting", CVPR 2017 (evaluation code).

    Examples
    --------
    >>> import numpy as np
    >>> mse(np.full((10, 10), 0.5), np.zeros((10, 10)))
    0.25
    """
    alpha, gt, unknown = _prepare(alpha, gt, trimap)
    count = alpha.size if unknown is None else int(np.count_nonzero(unknown))
    if count == 0:
        return 0.0
    return _masked_sum((alpha - gt) ** 2, unknown) / count


def _gaussian_gradient_kernel(sigma: float) -> np.ndarray:
    """The x-derivative kernel ``hx`` of gaussgradient.m (rows i, columns j).

    ``hx[i, j] = gauss(u_i) * dgauss(u_j)`` with offsets ``u = -halfsize..halfsize``, scaled
    to unit L2 norm; the y-derivative kernel is its transpose.
    """
    halfsize = math.ceil(
        sigma * math.sqrt(-2.0 * math.log(math.sqrt(2.0 * math.pi) * sigma * _GAUSS_EPSILON))
    )
    offsets = np.arange(-halfsize, halfsize + 1, dtype=np.float64)
    gauss = np.exp(-(offsets**2) / (2.0 * sigma**2)) / (sigma * math.sqrt(2.0 * math.pi))
    dgauss = -offsets * gauss / sigma**2
    hx = np.outer(gauss, dgauss)
    return hx / np.sqrt(np.sum(hx * hx))


def _gaussian_gradient(image: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """``[gx, gy] = gaussgradient(image, sigma)`` of the DIM code.

    MATLAB's ``imfilter(im, h, 'replicate', 'conv')`` is a true convolution (kernel flipped)
    with edge replication, which for an odd-sized kernel is exactly ``ndimage.convolve`` with
    ``mode='nearest'``; flipping only changes the sign of the derivative, but we keep it to
    match the reference gradients themselves and not just their magnitude.
    """
    hx = _gaussian_gradient_kernel(sigma)
    gx = ndimage.convolve(image, hx, mode="nearest")
    gy = ndimage.convolve(image, np.ascontiguousarray(hx.T), mode="nearest")
    return gx, gy


def _mat2gray(matte: np.ndarray) -> np.ndarray:
    """MATLAB's ``mat2gray``: stretch to [0, 1]; a constant matte is returned unchanged."""
    low, high = matte.min(), matte.max()
    return matte if high == low else (matte - low) / (high - low)


def gradient_error(alpha, gt, trimap=None, *, sigma: float = 1.4) -> float:
    """Gradient error: squared difference of Gaussian-gradient magnitudes, divided by 1000.

    Both mattes are filtered with first-order Gaussian derivative kernels (``gaussgradient``
    of the DIM code: half size ``ceil(sigma * sqrt(-2 log(sqrt(2 pi) sigma 0.01)))``, i.e. 4
    for sigma = 1.4, unit L2 norm, replicated borders) over the whole image; the error is
    ``sum((|grad alpha| - |grad gt|)**2) / 1000`` over the unknown pixels.

    Parameters
    ----------
    alpha, gt, trimap
        As in :func:`sad`.
    sigma : float
        Standard deviation of the Gaussian in pixels (1.4 in the DIM code and in Rhemann et
        al.). Must be in [0.1, 39.89): above, the truncation rule gives no kernel; below, its
        taps underflow.

    Returns
    -------
    float
        The gradient error; 0.0 if there are no unknown pixels.

    Raises
    ------
    ValueError
        If the shapes differ (the message names both), on NaN or out-of-range values, or for
        an invalid ``sigma``.

    Notes
    -----
    As in the DIM code, each matte is first stretched to [0, 1] with ``mat2gray``; that is the
    identity for any matte containing both 0 and 1.

    References
    ----------
    N. Xu, B. Price, S. Cohen, T. Huang, "Deep Image Matting", CVPR 2017 (evaluation code).
    C. Rhemann et al., "A Perceptually Motivated Online Benchmark for Image Matting",
    CVPR 2009 (definition of the gradient error).

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.tile(np.linspace(0, 1, 20), (20, 1))
    >>> gradient_error(gt, gt)
    0.0
    """
    sigma = as_finite(sigma, "sigma")
    # Beyond sigma_max, sqrt(2 pi) sigma epsilon >= 1 and the half-size formula has no real
    # value; below _MIN_SIGMA the kernel's taps at +-1 underflow and it would be all zero.
    sigma_max = 1.0 / (math.sqrt(2.0 * math.pi) * _GAUSS_EPSILON)
    if not (_MIN_SIGMA <= sigma < sigma_max):
        raise ValueError(f"sigma must be in [{_MIN_SIGMA:g}, {sigma_max:.4g}), got {sigma!r}")
    alpha, gt, unknown = _prepare(alpha, gt, trimap)
    if unknown is not None and not unknown.any():
        return 0.0
    alpha_x, alpha_y = _gaussian_gradient(_mat2gray(alpha), sigma)
    gt_x, gt_y = _gaussian_gradient(_mat2gray(gt), sigma)
    difference = np.sqrt(alpha_x**2 + alpha_y**2) - np.sqrt(gt_x**2 + gt_y**2)
    return _masked_sum(difference**2, unknown) / _SCALE


def _thresholds(step: float) -> np.ndarray:
    """The thresholds ``0:step:1``, each the double nearest its decimal value when 1/step is
    an integer.

    ``np.arange(11) / 10`` gives the doubles nearest to 0.0, 0.1, ..., 1.0 (``k * 0.1`` would
    give 0.30000000000000004, which would put an alpha of exactly 0.3 below the threshold).
    """
    count = 1.0 / step
    if abs(count - round(count)) < 1e-9 * count:
        intervals = round(count)
        return np.arange(intervals + 1) / intervals
    return np.arange(math.floor(count) + 1) * step


def _largest_component(mask: np.ndarray) -> np.ndarray:
    """Largest 4-connected component of ``mask`` (all False if ``mask`` is empty).

    Ties are broken as in MATLAB (``bwconncomp`` numbers components in column-major order and
    ``max`` returns the first maximum): labelling the transpose makes scipy's raster-order
    numbering column-major in the original image, and ``argmax`` returns the first maximum.
    """
    labels, count = ndimage.label(mask.T, structure=_FOUR_CONNECTED)
    if count == 0:
        return np.zeros(mask.shape, dtype=bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0  # label 0 is the background, never a component
    return (labels == int(np.argmax(sizes))).T


def connectivity_error(alpha, gt, trimap=None, *, step: float = 0.1, theta: float = 0.15) -> float:
    """Connectivity error of Rhemann et al. as computed by the DIM code, divided by 1000.

    For each threshold ``t_i`` of ``0:step:1`` (i >= 1), take the largest 4-connected
    component of the pixels where both ``alpha >= t_i`` and ``gt >= t_i``. A pixel's level
    ``l`` is the last threshold ``t_{i-1}`` before it first drops out of that component (1 if
    it never does). With ``d = alpha - l``, ``phi(alpha) = 1 - d * (d >= theta)``, and the
    error is ``sum(|phi(alpha) - phi(gt)|) / 1000`` over the unknown pixels. Pixels whose
    value is far above the level at which they stay connected to the main foreground (e.g.
    opaque islands) get a low ``phi``.

    Parameters
    ----------
    alpha, gt, trimap
        As in :func:`sad`.
    step : float
        Threshold spacing, in [0.001, 1] (0.1 in the DIM code).
    theta : float
        Differences below ``theta`` (>= 0) are not penalised (0.15 in the DIM code and in
        Rhemann et al.).

    Returns
    -------
    float
        The connectivity error; 0.0 if there are no unknown pixels.

    Raises
    ------
    ValueError
        If the shapes differ (the message names both), on NaN or out-of-range values, or for
        an invalid ``step`` or ``theta``.

    References
    ----------
    N. Xu, B. Price, S. Cohen, T. Huang, "Deep Image Matting", CVPR 2017 (evaluation code).
    C. Rhemann et al., "A Perceptually Motivated Online Benchmark for Image Matting",
    CVPR 2009 (definition of the connectivity error).

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((8, 8)); gt[2:5, 2:5] = 1.0
    >>> island = gt.copy(); island[7, 7] = 1.0   # an opaque pixel cut off from the object
    >>> connectivity_error(island, gt)
    0.001
    """
    step = as_finite(step, "step")
    theta = as_finite(theta, "theta", positive=False)
    if not (_MIN_STEP <= step <= 1.0):
        raise ValueError(f"step must be in [{_MIN_STEP:g}, 1], got {step!r}")
    alpha, gt, unknown = _prepare(alpha, gt, trimap)
    if unknown is not None and not unknown.any():
        return 0.0
    thresholds = _thresholds(step)
    level = np.full(alpha.shape, -1.0)
    for previous, threshold in itertools.pairwise(thresholds):
        omega = _largest_component((alpha >= threshold) & (gt >= threshold))
        # Pixels leaving the main component for the first time keep the previous threshold.
        level[(level == -1.0) & ~omega] = previous
    level[level == -1.0] = 1.0  # connected at every threshold
    d_alpha = alpha - level
    d_gt = gt - level
    phi_alpha = 1.0 - d_alpha * (d_alpha >= theta)
    phi_gt = 1.0 - d_gt * (d_gt >= theta)
    return _masked_sum(np.abs(phi_alpha - phi_gt), unknown) / _SCALE
