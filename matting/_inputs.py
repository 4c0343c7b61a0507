"""The one place that checks and normalises what users pass in.

Every public function converts its arguments here, once, at the top. The converters never
modify their argument: they return a new float64, C-contiguous array (a copy whenever the
input would otherwise be shared).

Conventions
-----------
image
    HxW (gray), HxWx1, HxWx3 or HxWx4 (the alpha channel is dropped); ``uint8``, ``uint16``,
    ``bool`` or float with values in [0, 1]. Normalised to float64 HxWx3.
trimap
    HxW (or HxWx3/HxWx4 with equal colour channels); float in [0, 1] with 0 = background,
    1 = foreground and anything strictly between = unknown, or ``uint8`` 0/128/255 (any value
    strictly between 0 and 255 is unknown), or ``uint16`` 0/65535. Normalised to float64 with
    exactly 0.0, 0.5 and 1.0. Boolean masks are refused: they have no unknown region.
alpha
    HxW, float in [0, 1], ``uint8`` or ``uint16``. Normalised to float64.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

__all__ = [
    "UNKNOWN",
    "as_alpha",
    "as_color",
    "as_finite",
    "as_image",
    "as_trimap",
    "check_same_shape",
    "image_and_trimap",
]

#: The value unknown pixels take in a normalised trimap.
UNKNOWN = 0.5

_INTEGER_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def _as_array(value, name: str) -> np.ndarray:
    if value is None:
        raise ValueError(f"{name} is required, got None")
    is_path = isinstance(value, (str, bytes, os.PathLike))
    if is_path:
        raise ValueError(
            f"{name} is a file name ({value!r}), not an array: read it first, e.g. with "
            "matting.read_image, matting.read_trimap or matting.read_alpha"
        )
    if np.ma.is_masked(value):
        # np.asarray would drop the mask and use whatever lies under it.
        raise ValueError(f"{name} has masked values; fill them first, e.g. {name}.filled(0)")
    try:
        array = np.asarray(value)
    except ValueError:  # a ragged nested list
        raise ValueError(f"{name} must be an array of numbers; rows of unequal length?") from None
    if array.dtype == object:
        raise ValueError(f"{name} must be a numeric array, got an array of Python objects")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); expected at least one pixel")
    return array


def _to_unit_float(array: np.ndarray, name: str) -> np.ndarray:
    """Scale integer and boolean arrays to [0, 1]; check that float arrays already are.

    Always returns a new float64 array, so callers may write into it.
    """
    dtype = array.dtype
    if dtype == np.bool_:
        return array.astype(np.float64)
    # Byte order does not matter for the scale: a big-endian uint16 is still 16-bit data.
    native = dtype.newbyteorder("=")
    if native in _INTEGER_SCALE:
        return array.astype(np.float64) / _INTEGER_SCALE[native]
    if np.issubdtype(dtype, np.integer):
        raise ValueError(
            f"{name} has dtype {dtype}; expected uint8 (0..255), uint16 (0..65535), bool or "
            f"float in [0, 1]. Convert it first, e.g. np.asarray({name}, dtype=np.uint8) for "
            f"8-bit data or np.asarray({name}, dtype=float) for values in [0, 1]."
        )
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"{name} has dtype {dtype}; expected uint8, uint16, bool or float")
    result = array.astype(np.float64)  # always a copy
    if not np.all(np.isfinite(result)):
        count = int(np.count_nonzero(~np.isfinite(result)))
        raise ValueError(f"{name} contains {count} NaN or infinite value(s)")
    low, high = float(result.min()), float(result.max())
    if low < 0.0 or high > 1.0:
        hint = " (it looks like 0..255 data: pass uint8 or divide by 255)" if high > 2.0 else ""
        # Enough digits that a value just outside [0, 1] does not print as 0 or 1.
        raise ValueError(
            f"{name} has float values in [{low:.10g}, {high:.10g}]; expected values in [0, 1]{hint}"
        )
    return result


def as_image(image, name: str = "image") -> np.ndarray:
    """Return ``image`` as a float64 HxWx3 C-contiguous array with values in [0, 1].

    Raises
    ------
    ValueError
        For empty arrays, wrong dimensions or channel counts, unsupported dtypes, NaN or
        infinite values, and float values outside [0, 1].
    """
    array = _as_array(image, name)
    if array.ndim == 3 and array.shape[2] == 4:
        array = array[:, :, :3]
    elif array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    elif not (array.ndim == 3 and array.shape[2] == 3):
        raise ValueError(
            f"{name} has shape {array.shape}; expected HxW (gray), HxWx3 (RGB) or HxWx4 (RGBA)"
        )
    result = _to_unit_float(array, name)
    if result.shape[2] == 1:
        result = np.repeat(result, 3, axis=2)
    return np.ascontiguousarray(result)


def _single_channel(array: np.ndarray, name: str) -> np.ndarray:
    """Reduce HxWxC trimaps and masks saved as RGB(A) images to HxW."""
    if array.ndim == 3 and array.shape[2] in (1, 3, 4):
        colour = array[:, :, : min(3, array.shape[2])]
        first = colour[:, :, :1]
        if not np.all(colour == first):
            raise ValueError(
                f"{name} has {array.shape[2]} channels that differ; expected a gray map "
                "(HxW, or an RGB(A) image with equal R, G and B)"
            )
        return first[:, :, 0]
    if array.ndim != 2:
        raise ValueError(f"{name} has shape {array.shape}; expected an HxW map")
    return array


def as_trimap(
    trimap,
    shape: tuple[int, int] | None = None,
    *,
    name: str = "trimap",
    require_known: bool = True,
) -> np.ndarray:
    """Return ``trimap`` as float64 HxW with exactly 0 (background), 0.5 (unknown), 1 (foreground).

    Parameters
    ----------
    trimap : array_like
        See the module docstring for the accepted encodings.
    shape : tuple of int, optional
        The image's (H, W); a mismatch raises ``ValueError`` naming both shapes.
    name : str
        How the argument is called in error messages ("trimap", "scribbles", ...).
    require_known : bool
        Raise if there is no foreground or no background pixel. A trimap without unknown
        pixels is always accepted.
    """
    array = _as_array(trimap, name)
    if array.dtype == np.bool_:
        raise ValueError(
            f"{name} is a boolean mask, which has no unknown region; make a trimap with "
            f"matting.trimap_from_mask(mask, width=10), or pass {name}.astype(float) if "
            "True/False really are foreground/background everywhere"
        )
    array = _single_channel(array, name)
    if shape is not None and array.shape != tuple(shape):
        raise ValueError(
            f"{name} has shape {array.shape} but the image is {tuple(shape)}; they must match"
        )
    values = _to_unit_float(array, name)
    result = np.full(values.shape, UNKNOWN)
    result[values == 0.0] = 0.0
    result[values == 1.0] = 1.0
    if require_known:
        if not np.any(result == 1.0):
            raise ValueError(
                f"{name} has no foreground pixels (value 1, or 255 for uint8); "
                "at least one is needed"
            )
        if not np.any(result == 0.0):
            raise ValueError(f"{name} has no background pixels (value 0); at least one is needed")
    return result


def as_alpha(alpha, shape: tuple[int, int] | None = None, *, name: str = "alpha") -> np.ndarray:
    """Return an alpha matte as float64 HxW in [0, 1] (uint8 and uint16 are scaled)."""
    array = _as_array(alpha, name)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim != 2:
        raise ValueError(f"{name} has shape {array.shape}; expected an HxW matte")
    if shape is not None and array.shape != tuple(shape):
        raise ValueError(
            f"{name} has shape {array.shape} but {tuple(shape)} was expected; they must match"
        )
    return np.ascontiguousarray(_to_unit_float(array, name))


def as_color(color, name: str = "background") -> np.ndarray:
    """Return a colour as a float64 array of 3 values in [0, 1].

    Accepts a gray level, an (R, G, B) sequence in [0, 1], or anything matplotlib names
    ("white", "#00ff00", "tab:blue").
    """
    if isinstance(color, str):
        from matplotlib.colors import to_rgb

        try:
            return np.array(to_rgb(color), dtype=np.float64)
        except ValueError:
            raise ValueError(f"{name} {color!r} is not a colour name matplotlib knows") from None
    values = np.array(color, dtype=np.float64).reshape(-1)
    if values.size == 1:
        values = np.repeat(values, 3)
    if values.size != 3:
        raise ValueError(f"{name} must be a gray level or an (R, G, B) triple, got {color!r}")
    if not np.all(np.isfinite(values)) or values.min() < 0.0 or values.max() > 1.0:
        raise ValueError(
            f"{name} colour {color!r} must have values in [0, 1] (divide 8-bit values by 255)"
        )
    return values


def check_same_shape(first: np.ndarray, second: np.ndarray, names: tuple[str, str]) -> None:
    """Raise ``ValueError`` naming both arguments and shapes when their HxW differ."""
    if first.shape[:2] != second.shape[:2]:
        raise ValueError(
            f"{names[0]} has shape {first.shape[:2]} but {names[1]} has shape "
            f"{second.shape[:2]}; they must match"
        )


def image_and_trimap(image, trimap, *, trimap_name: str = "trimap"):
    """Check and normalise the (image, trimap) pair every method takes.

    Returns
    -------
    image : ndarray, float64 HxWx3
    trimap : ndarray, float64 HxW with values 0, 0.5 and 1
    """
    image = as_image(image)
    trimap = as_trimap(trimap, image.shape[:2], name=trimap_name)
    return image, trimap


def check_switches(**switches) -> None:
    """ValueError unless every keyword's value is True or False: a switch given as text
    (``return_info="no"``) or a number would otherwise count as true, silently."""
    for name, value in switches.items():
        is_switch = isinstance(value, (bool, np.bool_))
        if not is_switch:
            raise ValueError(f"{name} must be True or False, got {value!r}")


#: ``limits`` of :func:`as_finite` for a scale (a sigma) whose square and inverse square the
#: method computes: both stay finite and nonzero in float64.
SCALE_LIMITS = (1e-100, 1e100)


def as_finite(
    value, name: str, *, positive: bool = True, limits: tuple[float, float] | None = None
) -> float:
    """Return a real option (eps, lambda, sigma, a weight) as a float, refusing booleans,
    non-finite values, and values <= 0 (``positive``) or < 0 (``positive=False``), or outside
    the closed interval ``limits`` when given (for options whose square or inverse must stay
    finite)."""
    is_real = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    valid = is_real and np.isfinite(value) and (value > 0 if positive else value >= 0)
    if not valid:
        bound = "positive number" if positive else "number >= 0"
        raise ValueError(f"{name} must be a finite {bound}, got {value!r}")
    if limits is not None and not limits[0] <= value <= limits[1]:
        raise ValueError(f"{name} must be in [{limits[0]:g}, {limits[1]:g}], got {value!r}")
    return float(value)


#: Largest whole-number option accepted: counts and radii beyond it would overflow the
#: 32-bit and 64-bit arithmetic of the compiled kernels (and mean nothing for an image).
MAX_INTEGER_OPTION = 2**31 - 1


def as_integer(value, name: str, minimum: int = 1) -> int:
    """Return a whole-number option (radius, k, iteration counts) as an int, refusing
    booleans (``radius=True`` is surely a mistake), non-integers, values below ``minimum``
    and values above :data:`MAX_INTEGER_OPTION`."""
    is_int = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if not (is_int and value >= minimum):
        bound = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    if value > MAX_INTEGER_OPTION:
        raise ValueError(f"{name} must be at most {MAX_INTEGER_OPTION}, got {value!r}")
    return int(value)
