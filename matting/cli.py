"""The ``matting`` command (also ``python -m matting``).

    matting alpha IMAGE --trimap T | --scribbles S [-m METHOD] [-o OUT] [-p NAME=VALUE ...]
    matting cutout IMAGE --trimap T | --scribbles S | --alpha A [-m METHOD] [-o OUT]
    matting composite IMAGE --background B --trimap T | --scribbles S | --alpha A [-o OUT]
    matting compare IMAGE --trimap T [--gt GT] [-m M1,M2] [--csv F] [--figure F]
    matting batch IMAGES_DIR --trimaps DIR --out DIR [-m METHOD] [--scheduler ADDRESS]
                  [-p NAME=VALUE ...]
    matting demo [--out DIR]

User mistakes (a missing file, a bad trimap, an unknown method) print one line starting with
``matting: error:`` and exit with status 1; argparse's own usage errors exit with 2.
"""

from __future__ import annotations

import argparse
import ast
import csv
import inspect
import sys
import time
from pathlib import Path

import numpy as np


def _checkerboard(shape: tuple[int, int], square: int = 16) -> np.ndarray:
    """Light/dark gray squares, the usual backdrop that shows transparency."""
    rows, cols = np.indices(shape)
    light = ((rows // square + cols // square) % 2).astype(np.float64)
    gray = 0.6 + 0.3 * light
    return np.repeat(gray[:, :, np.newaxis], 3, axis=2)


def parse_options(pairs: list[str]) -> dict:
    """``["eps=1e-6", "solver=ichol"]`` -> ``{"eps": 1e-6, "solver": "ichol"}`` (``-p`` of
    ``alpha``, ``cutout``, ``composite``, ``compare`` and ``batch``); ``true`` and ``false``
    in any case are booleans."""
    options = {}
    for pair in pairs:
        name, separator, text = pair.partition("=")
        if not separator or not name.isidentifier():
            raise ValueError(f"option {pair!r} must look like NAME=VALUE, e.g. eps=1e-6")
        if text.lower() in ("true", "false"):  # "false" as text would count as true
            options[name] = text.lower() == "true"
            continue
        try:
            options[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            options[name] = text  # a bare word such as solver=ichol
    return options


def _accepts(function, keyword: str) -> bool:
    try:
        return keyword in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def check_options(name: str, function, options: dict) -> None:
    """ValueError unless every option is a keyword option of the method."""
    parameters = inspect.signature(function).parameters
    # return_* options change what a method returns, which the command decides itself.
    keywords = [
        key
        for key, parameter in parameters.items()
        if parameter.kind is parameter.KEYWORD_ONLY and not key.startswith("return_")
    ]
    unknown = sorted(set(options) - set(keywords))
    if unknown:
        raise ValueError(f"method {name!r} has no option {unknown[0]!r}; its options: {keywords}")
    # Values typed on a command line: a word where the default is a switch or a number is a
    # mistake the method itself might not catch (any non-empty text counts as true).
    for key, value in options.items():
        expected = _expected_kind(parameters[key].default, value)
        if expected:
            raise ValueError(f"option {key!r} of method {name!r} must be {expected}, got {value!r}")


def _expected_kind(default, value) -> str | None:
    """What ``value`` should be, given the option's ``default``; None if it fits."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "True or False"
    if isinstance(default, (int, float)):
        fits = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if fits else "a number"
    return None


def _check_size(kind: str, path, array: np.ndarray, image_path, image: np.ndarray) -> None:
    """ValueError naming both files unless ``array`` (read from ``path``) has the image's size."""
    if array.shape[:2] != image.shape[:2]:
        raise ValueError(
            f"{kind} {path} is {array.shape[1]}x{array.shape[0]} but image {image_path} is "
            f"{image.shape[1]}x{image.shape[0]}; they must match"
        )


def _read_constraints(arguments, image: np.ndarray) -> tuple[str, np.ndarray]:
    """("trimap" or "scribbles", the constraint map) from --trimap or --scribbles."""
    import matting

    if arguments.trimap is not None:
        trimap = matting.read_trimap(arguments.trimap)
        _check_size("trimap", arguments.trimap, trimap, arguments.image, image)
        return "trimap", trimap
    scribbled = matting.read_image(arguments.scribbles)
    _check_size("scribbles", arguments.scribbles, scribbled, arguments.image, image)
    return "scribbles", matting.scribbles_from_image(scribbled, image)


def _estimate(arguments, image: np.ndarray, *, foreground: bool = False):
    """Run the chosen method; returns alpha, or (alpha, foreground) with ``foreground``."""
    import matting
    from matting.methods import METHODS, get_method

    name, function = get_method(arguments.method or "closed_form")
    options = parse_options(arguments.option)
    check_options(name, function, options)
    kind, constraints = _read_constraints(arguments, image)
    if kind == "scribbles":
        if _accepts(function, "scribbles"):
            options["scribbles"] = constraints
            constraints = None
        elif not METHODS[name].scribbles:
            scribble_methods = sorted(key for key, method in METHODS.items() if method.scribbles)
            raise ValueError(
                f"method {name!r} needs a trimap; methods that take scribbles: {scribble_methods}"
            )
    if _accepts(function, "progress") and "progress" not in options:
        options["progress"] = sys.stderr.isatty()
    print(f"{name}: matting {image.shape[1]}x{image.shape[0]} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    if foreground and METHODS[name].foreground:
        # (alpha, foreground, background, ...): some methods add more (a confidence map).
        result = function(image, constraints, return_foreground=True, **options)
        alpha, colours = result[0], result[1]
    else:
        alpha = function(image, constraints, **options)
        colours = matting.estimate_foreground(image, alpha)[0] if foreground else None
    print(f"{name}: done in {time.perf_counter() - start:.2f} s", file=sys.stderr, flush=True)
    return (alpha, colours) if foreground else alpha


def _output_path(arguments, suffix: str) -> Path:
    if arguments.out is not None:
        out = Path(arguments.out)
    else:
        out = Path(arguments.image).with_name(Path(arguments.image).stem + suffix)
    inputs = ("image", "trimap", "scribbles", "alpha", "background")
    for name in inputs:
        given = getattr(arguments, name, None)
        # (A colour given as --background is no file; only existing files can clash.)
        if given is not None and Path(given).is_file() and Path(given).resolve() == out.resolve():
            raise ValueError(f"the output {out} is the --{name} input; it would be overwritten")
    return out


def _alpha(arguments) -> int:
    import matting

    image = matting.read_image(arguments.image)
    alpha = _estimate(arguments, image)
    out = _output_path(arguments, "_alpha.png")
    matting.save_image(out, alpha, bits=arguments.bits)
    print(f"wrote {out}")
    return 0


def _alpha_and_foreground(arguments, image: np.ndarray):
    import matting

    if arguments.alpha is not None:
        if arguments.method is not None or arguments.option:
            raise ValueError("--alpha gives the matte: -m/--method and -p/--option do not apply")
        alpha = matting.read_alpha(arguments.alpha)
        _check_size("alpha", arguments.alpha, alpha, arguments.image, image)
        return alpha, matting.estimate_foreground(image, alpha)[0]
    return _estimate(arguments, image, foreground=True)


def _cutout(arguments) -> int:
    import matting

    image = matting.read_image(arguments.image)
    alpha, foreground = _alpha_and_foreground(arguments, image)
    out = _output_path(arguments, "_cutout.png")
    matting.save_image(out, matting.cutout(image, alpha, foreground))
    print(f"wrote {out}")
    return 0


def _composite(arguments) -> int:
    import matting
    from matting.batch import IMAGE_SUFFIXES

    image = matting.read_image(arguments.image)
    alpha, foreground = _alpha_and_foreground(arguments, image)
    if Path(arguments.background).exists():
        background = matting.read_image(arguments.background)
        if background.shape[:2] != image.shape[:2]:
            from skimage.transform import resize

            # A new background rarely has the photo's size: fill it, like "cover" in CSS.
            background = _cover(background, image.shape[:2], resize)
    elif Path(arguments.background).suffix.lower() in IMAGE_SUFFIXES:
        # Looks like a file name, so a missing file, not an unknown colour name.
        raise ValueError(f"no such file: {arguments.background}")
    else:
        background = arguments.background  # a colour name or hex code
    out = _output_path(arguments, "_composite.png")
    matting.save_image(out, matting.composite(foreground, alpha, background))
    print(f"wrote {out}")
    return 0


def _cover(background: np.ndarray, shape: tuple[int, int], resize) -> np.ndarray:
    """Scale ``background`` to cover ``shape`` and crop its centre to it."""
    scale = max(shape[0] / background.shape[0], shape[1] / background.shape[1])
    size = (
        max(shape[0], round(background.shape[0] * scale)),
        max(shape[1], round(background.shape[1] * scale)),
    )
    scaled = resize(background, size, order=1, anti_aliasing=scale < 1)
    top = (size[0] - shape[0]) // 2
    left = (size[1] - shape[1]) // 2
    return scaled[top : top + shape[0], left : left + shape[1]]


def _compare(arguments) -> int:
    import matting
    from matting.compare import COLUMNS, ComparisonTable, accepted_options, check_options_used
    from matting.methods import METHODS, get_method

    image = matting.read_image(arguments.image)
    trimap = matting.read_trimap(arguments.trimap)
    gt = None if arguments.gt is None else matting.read_alpha(arguments.gt)
    names = list(METHODS) if arguments.methods is None else arguments.methods.split(",")
    options = parse_options(arguments.option)
    functions = [get_method(name)[1] for name in names]
    check_options_used(functions, options)  # each method then gets the options it accepts
    rows = ComparisonTable()
    for index, (name, function) in enumerate(zip(names, functions), start=1):
        print(f"[{index}/{len(names)}] {name} ...", file=sys.stderr, flush=True)
        accepted = accepted_options(function, options)
        row = matting.compare(image, trimap, [name], gt, return_alpha=True, **accepted)[0]
        print(f"[{index}/{len(names)}] {name}: {row['seconds']:.2f} s", file=sys.stderr)
        rows.append(row)
    print(rows)
    if arguments.csv is not None:
        with open(arguments.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows({key: row[key] for key in COLUMNS} for row in rows)
        print(f"wrote {arguments.csv}")
    if arguments.figure is not None:
        figure = matting.plot.comparison(image, trimap, rows, gt)
        figure.savefig(arguments.figure, dpi=100)
        print(f"wrote {arguments.figure}")
    return 0


def _demo(arguments: argparse.Namespace) -> int:
    import matting

    out = Path(arguments.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; the demo writes into a folder")
    out.mkdir(parents=True, exist_ok=True)
    image, trimap, true_alpha = matting.datasets.load_sample()
    start = time.perf_counter()
    alpha, foreground, _ = matting.closed_form(image, trimap, return_foreground=True)
    seconds = time.perf_counter() - start
    rgba = matting.cutout(image, alpha, foreground)
    over_checkerboard = matting.composite(foreground, alpha, _checkerboard(alpha.shape))
    trimap_rgb = np.repeat(trimap[:, :, np.newaxis], 3, axis=2)
    alpha_rgb = np.repeat(alpha[:, :, np.newaxis], 3, axis=2)
    side_by_side = np.hstack([image, trimap_rgb, alpha_rgb, over_checkerboard])
    matting.save_image(out / "alpha.png", alpha)
    matting.save_image(out / "cutout.png", rgba)
    matting.save_image(out / "side_by_side.png", side_by_side)
    sad = matting.metrics.sad(alpha, true_alpha, trimap)
    mse = matting.metrics.mse(alpha, true_alpha, trimap)
    print(
        f"closed-form matting of the {image.shape[1]}x{image.shape[0]} sample in {seconds:.2f} s "
        "(the first run also compiles and caches the Numba kernels)"
    )
    print(f"error to the true alpha over the unknown region: SAD {sad:.3f}, MSE {mse:.5f}")
    for name in ("alpha.png", "cutout.png", "side_by_side.png"):
        print(f"wrote {out / name}")
    return 0


def _add_input_arguments(parser: argparse.ArgumentParser, *, allow_alpha: bool) -> None:
    parser.add_argument("image", help="the photograph (PNG, JPEG, ...)")
    constraints = parser.add_mutually_exclusive_group(required=True)
    constraints.add_argument(
        "--trimap", "-t", help="trimap image: black background, white foreground, gray unknown"
    )
    constraints.add_argument(
        "--scribbles",
        "-s",
        help="the photograph with white (foreground) and black (background) strokes painted on",
    )
    if allow_alpha:
        constraints.add_argument("--alpha", "-a", help="an alpha matte to use as it is")
    # Default None, so that a method given together with --alpha (which needs none) is
    # noticed; _estimate uses closed_form when none is given.
    parser.add_argument("--method", "-m", help="matting method (default: closed_form)")
    parser.add_argument(
        "--option",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a method option, e.g. -p eps=1e-6 -p solver=ichol (repeatable)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="matting", description="Classical alpha matting from the command line."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    alpha = commands.add_parser("alpha", help="estimate the alpha matte of an image")
    _add_input_arguments(alpha, allow_alpha=False)
    alpha.add_argument("--out", "-o", help="output PNG (default: IMAGE_alpha.png)")
    alpha.add_argument("--bits", type=int, default=8, choices=(8, 16), help="PNG bit depth")
    alpha.set_defaults(run=_alpha)

    cutout = commands.add_parser("cutout", help="cut the foreground out as a transparent PNG")
    _add_input_arguments(cutout, allow_alpha=True)
    cutout.add_argument("--out", "-o", help="output PNG (default: IMAGE_cutout.png)")
    cutout.set_defaults(run=_cutout)

    composite = commands.add_parser("composite", help="put the foreground on a new background")
    _add_input_arguments(composite, allow_alpha=True)
    composite.add_argument(
        "--background",
        "-b",
        required=True,
        help="background image (scaled to cover) or a colour such as white or '#00ff00'",
    )
    composite.add_argument("--out", "-o", help="output PNG (default: IMAGE_composite.png)")
    composite.set_defaults(run=_composite)

    compare = commands.add_parser("compare", help="run several methods, time and score them")
    compare.add_argument("image", help="the photograph")
    compare.add_argument("--trimap", "-t", required=True, help="trimap image")
    compare.add_argument("--gt", help="true alpha, to score the methods")
    compare.add_argument(
        "--methods", "-m", help="comma-separated method names (default: all registered)"
    )
    compare.add_argument(
        "--option",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an option for every method that accepts it (repeatable)",
    )
    compare.add_argument("--csv", help="also write the table as CSV")
    compare.add_argument("--figure", help="also write a comparison figure (PNG)")
    compare.set_defaults(run=_compare)

    from .batch import add_batch_parser

    add_batch_parser(commands)

    demo = commands.add_parser(
        "demo", help="matte the sample image shipped with the package and write the results"
    )
    demo.add_argument("--out", default="matting-demo", help="output folder (default: %(default)s)")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    arguments = _parser().parse_args(argv)
    try:
        return arguments.run(arguments)
    except (ValueError, OSError, KeyError) as error:
        # User mistakes (bad file, bad trimap, unknown method) get one line, not a traceback.
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"matting: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
