"""Compositing a foreground onto a new background, and RGBA cut-outs."""

from __future__ import annotations

import numpy as np

from ._inputs import as_alpha, as_color, as_image, check_same_shape

__all__ = ["composite", "cutout"]


def composite(foreground, alpha, background) -> np.ndarray:
    """Blend a foreground over a background with the compositing equation
    ``I = alpha F + (1 - alpha) B``.

    Parameters
    ----------
    foreground : array_like, HxWx3
        Foreground colours F (ideally estimated with :func:`matting.estimate_foreground`;
        the original image works but keeps the old background's colour in soft pixels).
    alpha : array_like, HxW
        The matte, in [0, 1].
    background : array_like or colour
        An HxWx3 image, or a single colour: a gray level, an (R, G, B) triple in [0, 1], or a
        name matplotlib knows ("white", "#1f77b4").

    Returns
    -------
    image : ndarray, float64 HxWx3 in [0, 1]
    """
    foreground = as_image(foreground, name="foreground")
    alpha = as_alpha(alpha, foreground.shape[:2])
    if isinstance(background, str) or np.ndim(background) <= 1:
        background = np.broadcast_to(as_color(background), foreground.shape)
    else:
        background = as_image(background, name="background")
        check_same_shape(background, foreground, ("background", "foreground"))
    weight = alpha[:, :, np.newaxis]
    return weight * foreground + (1.0 - weight) * background


def cutout(image, alpha, foreground=None) -> np.ndarray:
    """Cut the foreground out as an RGBA image (straight, not premultiplied, alpha).

    Parameters
    ----------
    image : array_like, HxWx3
        The photograph.
    alpha : array_like, HxW
        Its matte.
    foreground : array_like, HxWx3, optional
        Foreground colours. If omitted they are estimated from ``image`` and ``alpha`` with
        :func:`matting.estimate_foreground`, so that soft pixels (hair, glass) do not carry the
        old background's colour.

    Returns
    -------
    rgba : ndarray, float64 HxWx4 in [0, 1]
    """
    image = as_image(image)
    alpha = as_alpha(alpha, image.shape[:2])
    if foreground is None:
        from .foreground import estimate_foreground

        foreground, _ = estimate_foreground(image, alpha)
    else:
        foreground = as_image(foreground, name="foreground")
        check_same_shape(foreground, image, ("foreground", "image"))
    return np.dstack([foreground, alpha])
