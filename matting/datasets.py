"""Test and benchmark data: synthetic composites with exact ground truth, and the shipped sample.

A synthetic composite is made the way Composition-1k is: a foreground colour field F, a
background photograph B and an alpha matte a, combined as ``I = a F + (1 - a) B``. For that
image ``a`` is the exact answer, so methods can be scored without hand-made ground truth.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from scipy import ndimage

from ._inputs import as_image
from .trimap import _trimap_from_regions

__all__ = [
    "AlphamattingDataset",
    "Composite",
    "Sample",
    "alphamatting",
    "default_data_folder",
    "load_sample",
    "synthetic_composite",
    "synthetic_dataset",
    "write_alphamatting_layout",
]

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
            raise ValueError(
                f"{argument} must be one of {_PHOTOS} or an image, got {name_or_array!r}"
            )
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
    boundary = radius * (
        1 + 0.08 * np.sin(3 * angle + phases[0]) + 0.04 * np.sin(7 * angle + phases[1])
    )
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


def synthetic_dataset(
    n: int = 8, shape: tuple[int, int] = (240, 320), *, seed: int = 0
) -> list[Composite]:
    """A reproducible set of synthetic composites with exact alpha, for comparing methods.

    Image ``i`` is ``synthetic_composite(shape, seed=seed + i)`` with the foreground and
    background photographs taken in turn from scikit-image's bundled photographs (never the
    same one for both), and the band and number of strands varied, so the set covers easy and
    hard cases.

    Parameters
    ----------
    n : int
        Number of composites.
    shape : (int, int)
        Height and width of each.
    seed : int
        Seed of the first composite.

    Returns
    -------
    list of Composite
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    composites = []
    for index in range(n):
        foreground = _PHOTOS[index % len(_PHOTOS)]
        background = _PHOTOS[(index + 1 + index // len(_PHOTOS)) % len(_PHOTOS)]
        if background == foreground:
            background = _PHOTOS[(index + 2) % len(_PHOTOS)]
        composites.append(
            synthetic_composite(
                shape,
                foreground=foreground,
                background=background,
                band=2 + index % 4,
                n_strands=20 + 10 * (index % 4),
                seed=seed + index,
            )
        )
    return composites


# --- alphamatting.com (Rhemann et al. 2009) ---------------------------------------------------

#: The official training archives: (url, size in bytes, SHA-256). The checksums are those of
#: the archives as served since 2009 (also pinned by pymatting's test-data script). The
#: high-resolution archives have no pinned checksum here, so they are not downloaded
#: automatically; unpack them by hand into the same layout and the loader reads them.
ALPHAMATTING_ARCHIVES = {
    "input_training_lowres": (
        "http://www.alphamatting.com/datasets/zip/input_training_lowres.zip",
        18218854,
        "78d403b0671424cd6e6a01b5489a4d26e53c40b1b9b98ea33f3ee02a09ccb5db",
    ),
    "trimap_training_lowres": (
        "http://www.alphamatting.com/datasets/zip/trimap_training_lowres.zip",
        375510,
        "819a095689057c3747df5d18492b4ef42f13f2d8d58b18de1411938229a3f4b6",
    ),
    "gt_training_lowres": (
        "http://www.alphamatting.com/datasets/zip/gt_training_lowres.zip",
        2268429,
        "686d560ea2b6e920b97485a34b64c24657b049e751cf97b05c962ebd5f1f7569",
    ),
}


@dataclass(frozen=True)
class Sample:
    """One image of a dataset on disk: its name, image, trimap and (if known) true alpha."""

    name: str
    image: np.ndarray
    trimap: np.ndarray
    alpha: np.ndarray | None


def default_data_folder() -> Path:
    """Where downloaded datasets are kept: ``$MATTING_DATA`` or ``~/.cache/matting``."""
    return Path(os.environ.get("MATTING_DATA", Path.home() / ".cache" / "matting"))


def _alphamatting_folders(root: Path, resolution: str, trimap: int) -> tuple[Path, Path, Path]:
    if resolution not in ("lowres", "highres"):
        raise ValueError(f"resolution must be 'lowres' or 'highres', got {resolution!r}")
    if trimap not in (1, 2):
        raise ValueError(f"trimap must be 1 or 2 (Trimap1 or Trimap2), got {trimap!r}")
    return (
        root / f"input_training_{resolution}",
        root / f"trimap_training_{resolution}" / f"Trimap{trimap}",
        root / f"gt_training_{resolution}",
    )


class AlphamattingDataset(Sequence):
    """The alphamatting.com training set (Rhemann et al., CVPR 2009) in a local folder.

    The layout is the one the official archives unpack to, each archive into a folder named
    after it::

        root/input_training_lowres/GT01.png ... GT27.png
        root/trimap_training_lowres/Trimap1/GT01.png ...   (and Trimap2/)
        root/gt_training_lowres/GT01.png ...

    (``highres`` in place of ``lowres`` for the full-size set). Indexing by position or by
    name (``dataset["GT04"]``) reads one :class:`Sample` from disk; nothing is cached in
    memory. Made by :func:`alphamatting`.
    """

    def __init__(self, root, resolution: str = "lowres", trimap: int = 1):
        self.root = Path(root)
        self.resolution = resolution
        self.trimap = trimap
        self._inputs, self._trimaps, self._truths = _alphamatting_folders(
            self.root, resolution, trimap
        )
        if not self._inputs.is_dir():
            raise ValueError(
                f"root {str(self.root)!r} has no {self._inputs.name}/ folder; expected the "
                "alphamatting.com layout (or pass download=True)"
            )
        if not self._trimaps.is_dir():
            raise ValueError(f"root {str(self.root)!r} has no {self._trimaps} folder")
        self.names = sorted(
            path.stem for path in self._inputs.glob("*.png") if (self._trimaps / path.name).exists()
        )
        if not self.names:
            raise ValueError(f"{self._inputs} holds no PNG image with a matching trimap")

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, key):
        if isinstance(key, slice):
            return [self[index] for index in range(*key.indices(len(self)))]
        name = self.names[key] if isinstance(key, (int, np.integer)) else key
        if name not in self.names:
            raise KeyError(f"no image named {name!r} in {self._inputs}")
        from .io import read_image, read_trimap

        image = read_image(self._inputs / f"{name}.png")
        trimap = read_trimap(self._trimaps / f"{name}.png")
        truth_path = self._truths / f"{name}.png"
        alpha = read_image(truth_path)[:, :, 0] if truth_path.exists() else None
        return Sample(name, image, trimap, alpha)

    def __repr__(self) -> str:
        return (
            f"AlphamattingDataset({str(self.root)!r}, resolution={self.resolution!r}, "
            f"trimap={self.trimap}, {len(self)} images)"
        )


def alphamatting(
    root=None, *, resolution: str = "lowres", trimap: int = 1, download: bool = False
) -> AlphamattingDataset:
    """The alphamatting.com training set: 27 images with two trimaps each and true alpha.

    Parameters
    ----------
    root : path, optional
        The folder holding the unpacked archives (see :class:`AlphamattingDataset` for the
        layout). Default: :func:`default_data_folder` ``/ "alphamatting"``.
    resolution : {"lowres", "highres"}
        Which set. Only ``"lowres"`` can be downloaded automatically.
    trimap : {1, 2}
        The benchmark's small (1) or large (2) trimaps.
    download : bool
        Download the official archives that are missing from ``root`` (about 21 MB for
        ``lowres``), check their size and SHA-256, and unpack them. Archives are kept in
        ``root`` so a later call does not download again.

    Returns
    -------
    AlphamattingDataset
        A sequence of :class:`Sample` (``name``, ``image``, ``trimap``, ``alpha``).

    References
    ----------
    C. Rhemann, C. Rother, J. Wang, M. Gelautz, P. Kohli, P. Rott. A Perceptually Motivated
    Online Benchmark for Image Matting. CVPR 2009. http://www.alphamatting.com
    """
    root = default_data_folder() / "alphamatting" if root is None else Path(root)
    _alphamatting_folders(root, resolution, trimap)  # check the arguments before any download
    if download:
        if resolution != "lowres":
            raise ValueError(
                "only resolution='lowres' can be downloaded (its archives have pinned "
                "checksums); unpack the highres archives into root by hand"
            )
        for name in ALPHAMATTING_ARCHIVES:
            if not (root / name).is_dir():
                _download_and_unpack(name, root)
    return AlphamattingDataset(root, resolution, trimap)


def _download_and_unpack(name: str, root: Path) -> None:
    """Fetch one official archive (unless a verified copy is in ``root``) and unpack it."""
    import tempfile
    import urllib.request
    import zipfile

    url, size, sha256 = ALPHAMATTING_ARCHIVES[name]
    root.mkdir(parents=True, exist_ok=True)
    archive = root / f"{name}.zip"
    if not archive.exists() or _sha256(archive) != sha256:
        partial = root / f".{name}.zip.part"
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
                shutil.copyfileobj(response, out)
            got_size, got_sha256 = partial.stat().st_size, _sha256(partial)
            if (got_size, got_sha256) != (size, sha256):
                raise OSError(
                    f"download of {url} is corrupt: expected {size} bytes with SHA-256 "
                    f"{sha256}, got {got_size} bytes with {got_sha256}"
                )
            partial.replace(archive)
        finally:
            partial.unlink(missing_ok=True)
    # Unpack next to the target and rename, so an interrupted unpack leaves no half folder.
    staging = Path(tempfile.mkdtemp(dir=root, prefix=f".{name}-"))
    try:
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(staging)
        entries = list(staging.iterdir())
        unpacked = entries[0] if len(entries) == 1 and entries[0].name == name else staging
        unpacked.replace(root / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_alphamatting_layout(
    root, composites, *, resolution: str = "lowres", names=None
) -> AlphamattingDataset:
    """Save composites as 8-bit PNGs in the alphamatting.com layout and open them as a dataset.

    Each composite's trimap is written as both ``Trimap1`` and ``Trimap2``. This makes a small
    local stand-in for the real benchmark (tests use it), or packages your own data so the
    same loader and benchmark scripts read it.

    Parameters
    ----------
    root : path
        The folder to write into (created if needed).
    composites : iterable of Composite or Sample
        Anything with ``image``, ``trimap`` and ``alpha`` attributes.
    resolution : {"lowres", "highres"}
    names : list of str, optional
        File stems; default ``GT01``, ``GT02``, ...

    Returns
    -------
    AlphamattingDataset
    """
    from .io import save_image

    root = Path(root)
    composites = list(composites)
    names = [f"GT{index + 1:02d}" for index in range(len(composites))] if names is None else names
    if len(names) != len(composites):
        raise ValueError(f"names has {len(names)} entries for {len(composites)} composites")
    for trimap_index in (1, 2):
        inputs, trimaps, truths = _alphamatting_folders(root, resolution, trimap_index)
        for folder in (inputs, trimaps, truths):
            folder.mkdir(parents=True, exist_ok=True)
        for name, composite in zip(names, composites):
            save_image(trimaps / f"{name}.png", composite.trimap)
            if trimap_index == 1:
                save_image(inputs / f"{name}.png", composite.image)
                save_image(truths / f"{name}.png", composite.alpha)
    return AlphamattingDataset(root, resolution, 1)
