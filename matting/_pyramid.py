"""Image pyramids for coarse-to-fine solving: halving an image, and carrying a coarse alpha
(or any matte-like layer) back to full size through the local affine model of closed-form
matting, ``alpha = a . I + b`` in every window.

Closed-form matting's coarse-to-fine and tiled solves and spectral matting's downscaled
components use these.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.transform import resize


def downsample(values: np.ndarray) -> np.ndarray:
    """Blur with the binomial [1 4 6 4 1]/16 filter and keep every second pixel, as the
    authors' ``downSmpIm`` does."""
    weights = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    blurred = ndimage.correlate1d(values, weights, axis=0, mode="reflect")
    blurred = ndimage.correlate1d(blurred, weights, axis=1, mode="reflect")
    return blurred[::2, ::2]


def affine_coefficients(coarse_alpha, coarse_image, radius, eps):
    """Per-pixel coefficients ``(a_r, a_g, a_b, b)`` of the local model ``alpha = a.I + b``.

    The coefficients of every coarse window are fitted by regularised least squares (the
    closed-form model itself) and averaged over the windows containing each pixel (as in He et
    al.'s guided filter, where the authors' ``upSampleAlphaUsingImg`` takes the centre
    window's).
    """
    size = 2 * radius + 1

    def mean(values):
        return ndimage.uniform_filter(values, size=size, mode="reflect")

    colour_mean = np.stack([mean(coarse_image[:, :, c]) for c in range(3)], axis=2)
    alpha_mean = mean(coarse_alpha)
    covariance = np.empty(coarse_alpha.shape + (3, 3))
    for i in range(3):
        for j in range(i, 3):
            value = mean(coarse_image[:, :, i] * coarse_image[:, :, j])
            value -= colour_mean[:, :, i] * colour_mean[:, :, j]
            covariance[:, :, i, j] = covariance[:, :, j, i] = value
    covariance += eps / size**2 * np.eye(3)
    cross = (
        np.stack([mean(coarse_image[:, :, c] * coarse_alpha) for c in range(3)], axis=2)
        - colour_mean * alpha_mean[:, :, np.newaxis]
    )
    slope = np.linalg.solve(covariance, cross[..., np.newaxis])[..., 0]
    offset = alpha_mean - np.einsum("hwc,hwc->hw", slope, colour_mean)
    coefficients = np.dstack([slope, offset])
    return np.dstack([mean(coefficients[:, :, c]) for c in range(4)])


def affine_upsample(coarse_alpha, coarse_image, image, radius, eps):
    """Carry a coarse alpha to full resolution through the local model ``alpha = a.I + b``:
    the coefficients (:func:`affine_coefficients`) are interpolated bilinearly to full size
    and applied to the full-size colours."""
    coefficients = affine_coefficients(coarse_alpha, coarse_image, radius, eps)
    coefficients = resize(coefficients, image.shape[:2], order=1, mode="edge")
    alpha = np.einsum("hwc,hwc->hw", coefficients[:, :, :3], image) + coefficients[:, :, 3]
    return np.clip(alpha, 0.0, 1.0)


def affine_upsample_window(coefficients, image, rows: slice, cols: slice):
    """:func:`affine_upsample` restricted to ``image[rows, cols]``, from the coarse
    coefficients: the same bilinear interpolation as ``skimage.transform.resize`` (order 1,
    edge mode, pixel centres aligned), evaluated only where it is needed, so the tiled solve
    never holds full-size coefficient arrays."""
    height, width = image.shape[:2]
    scale_rows = coefficients.shape[0] / height
    scale_cols = coefficients.shape[1] / width
    source_rows = (np.arange(rows.start, rows.stop) + 0.5) * scale_rows - 0.5
    source_cols = (np.arange(cols.start, cols.stop) + 0.5) * scale_cols - 0.5
    grid = np.meshgrid(source_rows, source_cols, indexing="ij")
    window = image[rows, cols]
    alpha = ndimage.map_coordinates(coefficients[:, :, 3], grid, order=1, mode="nearest")
    for c in range(3):
        slope = ndimage.map_coordinates(coefficients[:, :, c], grid, order=1, mode="nearest")
        alpha += slope * window[:, :, c]
    return np.clip(alpha, 0.0, 1.0)
