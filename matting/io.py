"""Reading and writing images, trimaps and alpha mattes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ._inputs import as_alpha, as_image, as_trimap

__all__ = ["read_alpha", "read_image", "read_trimap", "save_image"]


def _read_array(path) -> np.ndarray:
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not an image file")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        with Image.open(path) as opened:
            # Phone photos store their rotation in EXIF; show pixels as viewers do.
            picture = ImageOps.exif_transpose(opened)
            if picture.mode in ("I;16", "I;16B", "I;16L", "I"):
                array = np.asarray(picture)
                if array.min() < 0 or array.max() > 65535:
                    raise ValueError(f"{path}: 32-bit integer image values exceed 16 bits")
                return array.astype(np.uint16)
            if picture.mode == "F":
                return np.asarray(picture, dtype=np.float64)
            if picture.mode not in ("L", "RGB", "RGBA"):
                picture = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
            return np.array(picture)
    except (OSError, SyntaxError) as error:
        raise ValueError(f"cannot read {path} as an image: {error}") from None


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as float64 HxWx3 in [0, 1].

    Gray images are repeated to three channels, an alpha channel is dropped, and EXIF
    orientation is applied. 16-bit gray PNGs keep their precision; 16-bit colour PNGs are
    read at 8 bits (Pillow decodes them so).
    """
    return as_image(_read_array(path), name=str(path))


def read_alpha(path: str | os.PathLike) -> np.ndarray:
    """Read an alpha matte file as float64 HxW in [0, 1].

    Parameters
    ----------
    path : str or path-like
        A gray matte (8 or 16 bits) or a cutout with an alpha channel (RGBA, gray + alpha).

    Returns
    -------
    ndarray, float64, HxW
        The alpha channel of a cutout, else the gray levels, scaled to [0, 1].

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        For a folder, an unreadable file, or a colour image without an alpha channel (it is
        not a matte).
    """
    array = _read_array(path)
    if array.ndim == 3 and array.shape[2] == 4:  # (gray + alpha files are read as RGBA)
        array = array[:, :, 3]
    elif array.ndim == 3 and not (array == array[:, :, :1]).all():
        raise ValueError(
            f"{path} is a colour image without an alpha channel; expected a gray matte or an "
            "RGBA cutout"
        )
    elif array.ndim == 3:
        array = array[:, :, 0]
    return as_alpha(array, name=str(path))


def read_trimap(path: str | os.PathLike) -> np.ndarray:
    """Read a trimap (or scribble map) file as float64 HxW with values 0, 0.5 and 1.

    Any gray level strictly between black and white is unknown; RGB files must be gray.
    The file need not contain both foreground and background (scribble maps may not).
    """
    return as_trimap(_read_array(path), name=str(path), require_known=False)


def save_image(path: str | os.PathLike, array, *, bits: int = 8) -> None:
    """Save an alpha matte (HxW) or an RGB / RGBA image (HxWx3, HxWx4) as a PNG or TIFF,
    or, for 8-bit images without alpha, also JPEG, BMP, PPM/PGM or WebP (chosen by the file
    extension; other formats would silently lose data and are refused).

    Parameters
    ----------
    path : str or path-like
        Where to write; the parent folder must exist.
    array : array_like
        Float in [0, 1], uint8 or uint16.
    bits : {8, 16}
        Bit depth. 16 bits are available for gray images (alpha mattes) only.
    """
    if bits not in (8, 16):
        raise ValueError(f"bits must be 8 or 16, got {bits}")
    _check_format(path, bits, np.ndim(array) == 3 and np.shape(array)[2] == 4)
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 3 and array.shape[2] == 4:
        values = np.dstack([as_image(array), as_alpha(array[:, :, 3], name="alpha channel")])
    elif array.ndim == 3:
        values = as_image(array)
    else:
        values = as_alpha(array, name="array")
    if bits == 16:
        if values.ndim != 2:
            raise ValueError(
                "16-bit output is supported for gray images (alpha mattes) only; "
                "use bits=8 for colour images"
            )
        scaled = np.round(values * 65535.0).astype(np.uint16)
        Image.fromarray(scaled).save(path)
        return
    Image.fromarray(np.round(values * 255.0).astype(np.uint8)).save(path)


#: Formats that hold every kind of output exactly (8 and 16-bit gray, RGB, RGBA).
_LOSSLESS = (".png", ".tif", ".tiff")
#: Formats for 8-bit opaque output only (JPEG and WebP compress it lossily): Pillow would
#: otherwise drop an alpha channel (BMP, PPM), scramble 16-bit values (WebP, GIF) or resize
#: (ICO) without a word, so other formats are refused.
_EIGHT_BIT_OPAQUE = (".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".webp")


def _check_format(path, bits: int, has_alpha: bool) -> None:
    suffix = Path(path).suffix.lower()
    if suffix in _LOSSLESS or (suffix in _EIGHT_BIT_OPAQUE and bits == 8 and not has_alpha):
        return
    what = "16-bit data" if bits == 16 else "an RGBA image" if has_alpha else "an image"
    raise ValueError(
        f"{os.fspath(path)!r}: cannot save {what} as {suffix or 'a file without extension'!r} "
        f"without losing data; use .png or .tif"
        + ("" if has_alpha or bits == 16 else f" (or one of {', '.join(_EIGHT_BIT_OPAQUE)})")
    )
