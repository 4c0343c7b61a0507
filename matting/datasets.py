"""Test and benchmark data: synthetic composites with exact ground truth, and the shipped sample.

A synthetic composite is made the way Composition-1k is: a foreground colour field F, a
background photograph B and an alpha matte a, combined as ``I = a F + (1 - a) B``. For that
image ``a`` is the exact answer, so methods can be scored without hand-made ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
from scipy import ndimage

from ._inputs import as_image
from .trimap import _trimap_from_regions

__all__ = ["Composite", "load_sample", "synthetic_composite"]

#: Photographs bundled with scikit-image (no download needed).
_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field")

#: Supersampling factor used to render thin strands with exact fractional coverage.
_SUPERSAMPLE = 4


@dataclass(frozen=True)
class Composite:
    """An image with its exact decomposition.

    Attributes
    ----------
    image : ndarray, float64 HxWx3
        ``alpha * foreground + (1 - alpha) * background``.
    alpha : ndarray, float64 HxW
        The true matte, exactly 0 or 1 on the trimap's known pixels.
    foreground, background : ndarray, float64 HxWx3
    trimap : ndarray, float64 HxW
        0 background, 0.5 unknown, 1 foreground.
    """

    image: np.ndarray
    alpha: np.ndarray
    foreground: np.ndarray
    background: np.ndarray
    trimap: np.ndarray


def _photo(name_or_array, shape: tuple[int, int], argument: str) -> np.ndarray:
    """A photograph resized (with anti-aliasing) to ``shape``, as float64 HxWx3."""
    from skimage import data, transform

    if isinstance(name_or_array, str):
        if name_or_array not in _PHOTOS:
            raise ValueError(f"{argument} must be one of {_PHOTOS} or an image, got {name_or_array!r}")
        picture = as_image(getattr(data, name_or_array)(), name=argument)
    else:
        picture = as_image(name_or_array, name=argument)
    resized = transform.resize(picture, shape, order=1, anti_aliasing=True, mode="reflect")
    return np.clip(resized, 0.0, 1.0)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, C1-smooth in between (a soft edge with compact support)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _body_alpha(shape, rng, radius):
    """A wobbly blob whose edge softness varies around it (sharp on one side, defocused or
    furry on the other), so methods meet both hard and soft edges."""
    height, width = shape
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    centre_row, centre_col = 0.5 * height, 0.45 * width
    angle = np.arctan2(rows - centre_row, cols - centre_col)
    distance = np.hypot(rows - centre_row, cols - centre_col)
    phases = rng.uniform(0, 2 * np.pi, size=2)
    boundary = radius * (1 + 0.08 * np.sin(3 * angle + phases[0]) + 0.04 * np.sin(7 * angle + phases[1]))
    softness = 1.0 + 5.0 * (0.5 + 0.5 * np.cos(angle - phases[0]))  # from 1 to 6 pixels
    body = _smoothstep((boundary - distance) / softness + 0.5)
    return body, (centre_row, centre_col)


def _strands_alpha(shape, rng, centre, radius, n_strands):
    """Hair-like strands a fraction of a pixel wide, rendered at supersampled resolution and
    box-averaged, so their alpha is the exact fractional coverage."""
    height, width = shape
    scale = _SUPERSAMPLE
    canvas = np.zeros((height * scale, width * scale), dtype=bool)
    thick = np.zeros_like(canvas)
    for strand in range(n_strands):
        start_angle = rng.uniform(0, 2 * np.pi)
        heading = start_angle + rng.normal(0, 0.4)
        length = radius * rng.uniform(0.3, 0.7)
        steps = int(length * scale * 2)
        bend = rng.normal(0, 0.5) / steps  # a total turn of about half a radian
        row = centre[0] + 0.9 * radius * np.sin(start_angle)
        col = centre[1] + 0.9 * radius * np.cos(start_angle)
        headings = heading + bend * np.arange(steps)
        rows = (row + np.cumsum(np.sin(headings)) / (2 * scale)) * scale
        cols = (col + np.cumsum(np.cos(headings)) / (2 * scale)) * scale
        inside = (rows >= 0) & (rows < height * scale) & (cols >= 0) & (cols < width * scale)
        target = thick if strand % 3 == 0 else canvas
        target[rows[inside].astype(int), cols[inside].astype(int)] = True
    # Two strand widths: about 1/4 and 3/4 of a pixel.
    canvas |= ndimage.binary_dilation(thick, iterations=1)
    coverage = canvas.reshape(height, scale, width, scale).mean(axis=(1, 3))
    return coverage


def _glass_alpha(shape, rng, radius):
    """A semi-transparent ellipse (glass, smoke) with smoothly varying opacity."""
    height, width = shape
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    centre_row, centre_col = 0.35 * height, 0.78 * width
    ellipse = np.hypot((rows - centre_row) / (0.5 * radius), (cols - centre_col) / (0.3 * radius))
    phase = rng.uniform(0, 2 * np.pi)
    opacity = 0.45 + 0.2 * np.sin(rows / 9.0 + phase) * np.cos(cols / 13.0)
    edge = _smoothstep((1.0 - ellipse) * 0.5 * radius / 3.0 + 0.5)
    return opacity * edge


def synthetic_composite(
    shape: tuple[int, int] = (240, 320),
    *,
    background="coffee",
    foreground="chelsea",
    band: float = 3,
    n_strands: int = 40,
    seed: int = 0,
) -> Composite:
    """Make an image with exactly known alpha: soft edges, hair-like strands and a
    semi-transparent region over a real photograph.

    The matte combines (with the "over" rule, ``1 - prod(1 - a_i)``) a blob whose edge
    softness varies from 1 to 6 pixels, ``n_strands`` thin strands leaving it (about a quarter
    and three quarters of a pixel wide, exact coverage from 4x supersampling) and a glass-like
    ellipse of opacity 0.25-0.65. The foreground colours come from one photograph, the
    background from another (both ship with scikit-image), and ``I = a F + (1 - a) B`` exactly
    (float64, no rounding). The trimap marks every fractional pixel unknown and widens that
    region by ``band`` pixels into both known regions. The result depends only on the
    arguments.

    Parameters
    ----------
    shape : (int, int)
        Height and width, at least 16 x 16.
    background, foreground : str or array_like
        A scikit-image photograph name (one of "astronaut", "chelsea", "coffee", "rocket",
        "immunohistochemistry", "hubble_deep_field") or an image; resized to ``shape``.
    band : float
        Extra unknown band in pixels around the fractional region.
    n_strands : int
        Number of hair-like strands.
    seed : int
        Seed of the random shape details.

    Returns
    -------
    Composite
        ``image``, ``alpha``, ``foreground``, ``background`` and ``trimap``.

    Examples
    --------
    >>> from matting.datasets import synthetic_composite
    >>> case = synthetic_composite((60, 80), n_strands=5)
    >>> case.image.shape, case.trimap.shape
    ((60, 80, 3), (60, 80))
    """
    height, width = (int(size) for size in shape)
    if height < 16 or width < 16:
        raise ValueError(f"shape must be at least (16, 16), got {tuple(shape)}")
    if n_strands < 0:
        raise ValueError(f"n_strands must be >= 0, got {n_strands}")
    rng = np.random.default_rng(seed)
    radius = 0.28 * min(height, width)
    body, centre = _body_alpha((height, width), rng, radius)
    strands = _strands_alpha((height, width), rng, centre, radius, n_strands)
    glass = _glass_alpha((height, width), rng, radius)
    alpha = 1.0 - (1.0 - body) * (1.0 - strands) * (1.0 - glass)
    foreground_colours = _photo(foreground, (height, width), "foreground")
    background_colours = _photo(background, (height, width), "background")
    weight = alpha[:, :, np.newaxis]
    image = weight * foreground_colours + (1.0 - weight) * background_colours
    trimap = _trimap_from_regions(alpha == 1.0, alpha == 0.0, band)
    return Composite(image, alpha, foreground_colours, background_colours, trimap)


#: Size of the shipped sample.
SAMPLE_SHAPE = (300, 400)


def load_sample() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sample shipped with the package (used by ``matting demo``).

    It is ``synthetic_composite(SAMPLE_SHAPE, seed=0)`` saved as 8-bit PNGs, so ``alpha`` is
    the exact matte of ``image`` up to 8-bit rounding.

    Returns
    -------
    image : ndarray, float64 HxWx3
    trimap : ndarray, float64 HxW
    alpha : ndarray, float64 HxW
    """
    from .io import read_image, read_trimap

    folder = resources.files("matting") / "data"
    with resources.as_file(folder / "sample.png") as path:
        image = read_image(path)
    with resources.as_file(folder / "sample_trimap.png") as path:
        trimap = read_trimap(path)
    with resources.as_file(folder / "sample_alpha.png") as path:
        alpha = read_image(path)[:, :, 0]
    return image, trimap, alpha
