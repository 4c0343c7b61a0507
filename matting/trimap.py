"""Trimap and scribble helpers, and the unknown-region utilities methods share.

A normalised trimap (see :func:`matting._inputs.as_trimap`) is float64 HxW with 0 for
background, 1 for foreground and 0.5 for unknown pixels. Scribble maps use the same encoding
with most pixels unknown.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ._inputs import UNKNOWN, as_alpha, as_finite, as_image, as_integer, as_trimap

__all__ = [
    "scribbles_from_image",
    "trimap_from_mask",
    "trimap_from_probability",
    "unknown_bounding_box",
    "unknown_mask",
    "windows_touching",
]


def _check_width(width: float) -> float:
    return as_finite(width, "width", positive=False)


def _band_around(region: np.ndarray, width: float) -> np.ndarray:
    """Pixels of ``region`` within ``width`` pixels (Euclidean) of a pixel outside it."""
    if width == 0 or region.all() or not region.any():
        # With no outside pixel the distance transform has nothing to measure from.
        return np.zeros_like(region)
    return ndimage.distance_transform_edt(region) <= width


def _trimap_from_regions(foreground: np.ndarray, background: np.ndarray, width: float):
    """Trimap whose known regions are ``foreground`` and ``background`` shrunk by ``width``."""
    trimap = np.full(foreground.shape, UNKNOWN)
    trimap[foreground & ~_band_around(foreground, width)] = 1.0
    trimap[background & ~_band_around(background, width)] = 0.0
    return trimap


def trimap_from_mask(mask, width: float = 10) -> np.ndarray:
    """Make a trimap from a binary segmentation mask.

    Pixels within ``width`` pixels (Euclidean distance) of the mask boundary, on either side,
    become unknown; the rest of the mask is foreground and the rest of the image background.

    Parameters
    ----------
    mask : array_like, HxW
        Boolean, integer (non-zero is foreground: label images and 0/1 or 0/255 masks alike)
        or float (values > 0.5 are foreground).
    width : float, optional
        Half-width of the unknown band in pixels. 0 gives a trimap without unknown pixels.

    Returns
    -------
    trimap : ndarray, float64 HxW
        0 background, 0.5 unknown, 1 foreground.

    Examples
    --------
    >>> import numpy as np, matting
    >>> mask = np.zeros((40, 40), bool); mask[10:30, 10:30] = True
    >>> trimap = matting.trimap_from_mask(mask, width=3)
    >>> np.unique(trimap).tolist()
    [0.0, 0.5, 1.0]
    """
    width = _check_width(width)
    array = np.asarray(mask)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"mask has shape {array.shape}; expected a non-empty HxW array")
    if np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_:
        array = array != 0
    else:
        array = as_alpha(array, name="mask") > 0.5
    return _trimap_from_regions(array, ~array, width)


def trimap_from_probability(
    probability, fg_threshold: float = 0.9, bg_threshold: float = 0.1, width: float = 0
) -> np.ndarray:
    """Make a trimap from a soft segmentation (a network's foreground probability).

    This is the usual "segment, then matte" pipeline: confident pixels become known, the rest
    unknown. Pixels with ``probability >= fg_threshold`` are foreground, those with
    ``probability <= bg_threshold`` background, everything else unknown. With ``width > 0``
    the known regions are further shrunk by ``width`` pixels, widening the unknown band
    (useful when the network's edges are too sharp).

    Parameters
    ----------
    probability : array_like, HxW
        Float in [0, 1], or uint8 / uint16 (scaled to [0, 1]).
    fg_threshold, bg_threshold : float
        Confidence thresholds, ``0 <= bg_threshold < fg_threshold <= 1``.
    width : float
        Extra band in pixels taken from each known region.

    Returns
    -------
    trimap : ndarray, float64 HxW
        0 background, 0.5 unknown, 1 foreground.
    """
    width = _check_width(width)
    fg_threshold = as_finite(fg_threshold, "fg_threshold", positive=False)
    bg_threshold = as_finite(bg_threshold, "bg_threshold", positive=False)
    if not 0.0 <= bg_threshold < fg_threshold <= 1.0:
        raise ValueError(
            "thresholds must satisfy 0 <= bg_threshold < fg_threshold <= 1, got "
            f"bg_threshold={bg_threshold}, fg_threshold={fg_threshold}"
        )
    probability = as_alpha(probability, name="probability")
    return _trimap_from_regions(probability >= fg_threshold, probability <= bg_threshold, width)


def scribbles_from_image(scribbled, image, threshold: float = 0.1) -> np.ndarray:
    """Turn an image with white (foreground) and black (background) strokes into constraints.

    A pixel is a foreground scribble where the painted image differs from the original by
    more than ``threshold`` (largest channel difference) and is white within ``threshold`` in
    every channel; a background scribble likewise for black. Everything else is unknown.
    Anti-aliased stroke edges (blends of stroke and photo) are neither white nor black and
    so stay unknown; JPEG noise changes pixels by less than ``threshold`` and is ignored.

    Parameters
    ----------
    scribbled : array_like
        The image with strokes painted over it (same size as ``image``).
    image : array_like
        The original image.
    threshold : float
        Tolerance in (0, 1) on the colour scale, for both the change and the stroke colour.

    Returns
    -------
    scribbles : ndarray, float64 HxW
        1 on white strokes, 0 on black strokes, 0.5 elsewhere.

    Notes
    -----
    Levin et al.'s code marks every changed pixel and takes its gray level as the
    constraint value; we require a clean stroke colour instead, so blended edges do not
    become wrong constraints. A stroke painted over a region of nearly the same colour
    (white over white) cannot be seen and is not marked.
    """
    if not as_finite(threshold, "threshold") < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    scribbled = as_image(scribbled, name="scribbled")
    image = as_image(image)
    if scribbled.shape != image.shape:
        raise ValueError(
            f"scribbled has shape {scribbled.shape[:2]} but image has shape "
            f"{image.shape[:2]}; they must match"
        )
    changed = np.abs(scribbled - image).max(axis=2) > threshold
    white = scribbled.min(axis=2) >= 1.0 - threshold
    black = scribbled.max(axis=2) <= threshold
    scribbles = np.full(image.shape[:2], UNKNOWN)
    scribbles[changed & white] = 1.0
    scribbles[changed & black] = 0.0
    return scribbles


def unknown_mask(trimap) -> np.ndarray:
    """Boolean HxW mask of the unknown pixels of a trimap (any encoding)."""
    return as_trimap(trimap, require_known=False) == UNKNOWN


def unknown_bounding_box(trimap, margin: int = 0) -> tuple[slice, slice] | None:
    """Row and column slices of the smallest box holding every unknown pixel.

    Parameters
    ----------
    trimap : array_like
        Any trimap encoding.
    margin : int
        Pixels added on each side (clipped to the image).

    Returns
    -------
    (rows, cols) : tuple of slice, or None when there is no unknown pixel.
    """
    margin = as_integer(margin, "margin", 0)
    unknown = unknown_mask(trimap)
    rows = np.flatnonzero(unknown.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(unknown.any(axis=0))
    height, width = unknown.shape
    return (
        slice(max(rows[0] - margin, 0), min(rows[-1] + margin + 1, height)),
        slice(max(cols[0] - margin, 0), min(cols[-1] + margin + 1, width)),
    )


def windows_touching(mask: np.ndarray, radius: int) -> np.ndarray:
    """Centres of the (2r+1)x(2r+1) windows, fully inside the image, that contain a mask pixel.

    Local methods (closed-form and its relatives) only need windows that touch an unknown
    pixel: a window entirely inside the known region adds nothing to the unknowns' equations.

    Parameters
    ----------
    mask : ndarray of bool, HxW
        Typically the unknown mask.
    radius : int
        Window radius r.
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ValueError(f"mask has shape {mask.shape}; expected HxW")
    if radius < 0 or int(radius) != radius:
        raise ValueError(f"radius must be a whole number >= 0, got {radius}")
    radius = int(radius)
    # Imported here: the Laplacian builders import this module.
    from .laplacian._windows import box_any

    touching = box_any(mask, radius)
    if radius:
        # Windows must lie inside the image, as in Levin et al.'s code.
        touching[:radius] = touching[-radius:] = False
        touching[:, :radius] = touching[:, -radius:] = False
    return touching
