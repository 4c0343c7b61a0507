"""What every benchmark script shares: the data, the measurement, the worker protocol, tables.

A benchmark measures one (library, method, image) per fresh process (``run_worker`` re-runs
the calling script with the hidden ``--worker`` options), so that peak memory and Numba
compilation of one measurement do not leak into the next. Inside the worker, ``measure``
warms the method up on a small image, times it and scores it against the ground truth.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "composites"
DEFAULT_OUT = HERE / "results"
CASES = ("donkey", "elephant", "pineapple", "plasticbag")


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak_rss() -> None:
    """Start the peak of :func:`peak_rss_mb` afresh from the current resident memory (Linux:
    writing 5 to clear_refs resets VmHWM), so that what warm-up calls and Numba compilation
    used before a measurement does not count in it."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def peak_rss_mb() -> float:
    """Peak resident memory of this process since the last :func:`reset_peak_rss`, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_case(data: Path, name: str, megapixels: float):
    """Image, trimap and true alpha of one case, resized to about ``megapixels``.

    The layout is ``{name}.png``, ``{name}_trimap.png`` and ``{name}_alpha.png``.
    """
    from PIL import Image

    def read(path, resample):
        picture = Image.open(path)
        scale = np.sqrt(megapixels * 1e6 / (picture.width * picture.height))
        size = (round(picture.width * scale), round(picture.height * scale))
        return np.asarray(picture.resize(size, resample), dtype=np.float64) / 255.0

    data = Path(data)
    image = read(data / f"{name}.png", Image.Resampling.BICUBIC).clip(0, 1)
    trimap = read(data / f"{name}_trimap.png", Image.Resampling.NEAREST)
    alpha = read(data / f"{name}_alpha.png", Image.Resampling.BICUBIC).clip(0, 1)
    return np.ascontiguousarray(image[:, :, :3]), trimap, alpha


def small_case():
    """A 64x64 random image with a trimap, for warm-up calls (Numba compilation). pymatting's
    large-kernel matting needs at least 4 r + 1 = 41 rows and columns."""
    rng = np.random.default_rng(0)
    image = rng.random((64, 64, 3))
    trimap = np.full((64, 64), 0.5)
    trimap[:, :12] = 0
    trimap[:, -12:] = 1
    return image, trimap


def unknown_count(trimap: np.ndarray) -> int:
    return int(((trimap > 0) & (trimap < 1)).sum())


def errors(alpha: np.ndarray, truth: np.ndarray, trimap: np.ndarray, all_four: bool = True):
    """The Deep Image Matting errors over the trimap's unknown pixels."""
    import matting

    scores = {
        "sad": matting.metrics.sad(alpha, truth, trimap),
        "mse": matting.metrics.mse(alpha, truth, trimap),
    }
    if all_four:
        scores["gradient"] = matting.metrics.gradient_error(alpha, truth, trimap)
        scores["connectivity"] = matting.metrics.connectivity_error(alpha, truth, trimap)
    return scores


def measure(method, image, trimap, truth, repeat: int = 1, all_errors: bool = True) -> dict:
    """Warm ``method(image, trimap)`` up on a small case, then time, measure and score it.

    Returns the fastest of ``repeat`` wall times, the peak resident memory the calls added
    above what the process held before them (the warm-up's peak does not count), and the
    errors to ``truth``.
    """
    method(*small_case())  # compile outside the timing
    baseline = rss_mb()
    reset_peak_rss()
    seconds = []
    alpha = None
    for _ in range(repeat):
        start = time.perf_counter()
        alpha = method(image, trimap)
        seconds.append(time.perf_counter() - start)
    return {
        "megapixels": round(image.shape[0] * image.shape[1] / 1e6, 2),
        "unknown": unknown_count(trimap),
        "seconds": min(seconds),
        "peak_mb": peak_rss_mb() - baseline,
        **errors(alpha, truth, trimap, all_errors),
    }


def add_common_arguments(parser: argparse.ArgumentParser, sizes: str = "0.3") -> None:
    """The options every benchmark has: data folder, cases, sizes, repeats, output folder."""
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="composites folder")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument(
        "--sizes", default=sizes, help="comma-separated sizes in megapixels (default: %(default)s)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="timed runs per measurement; the fastest is reported (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV folder")


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    """The hidden options with which a benchmark re-runs itself as a one-measurement worker."""
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--library", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--megapixels", type=float, help=argparse.SUPPRESS)


def run_worker(script: str, library: str, case: str, megapixels: float, *options: str) -> dict:
    """Run ``script --worker`` in a fresh process and return the JSON row it prints last."""
    command = [
        sys.executable,
        script,
        "--worker",
        "--library",
        library,
        "--case",
        case,
        "--megapixels",
        str(megapixels),
        *options,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def write_csv(rows: list[dict], path: Path) -> None:
    """Write result rows (dicts, possibly with different keys) as one CSV table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = sorted({key for row in rows for key in row})
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {path}")


class Table:
    """A fixed-width text table printed row by row as results come in.

    ``columns`` is a list of ``(title, width, format)``; ``format`` is a format spec such as
    ``".2f"`` (``""`` for right-aligned text, ``"<"`` for left-aligned text). A title
    ``"|"`` prints a separator column.
    """

    def __init__(self, columns: list[tuple[str, int, str]]):
        self.columns = columns

    def header(self) -> None:
        line = " ".join(
            "|" if title == "|" else f"{title:{spec if spec == '<' else '>'}{width}}"
            for title, width, spec in self.columns
        )
        print(line)
        print("-" * len(line))

    def row(self, *values) -> None:
        cells = []
        value_iterator = iter(values)
        for title, width, spec in self.columns:
            if title == "|":
                cells.append("|")
                continue
            value = next(value_iterator)
            if spec == "<":
                cells.append(f"{value:<{width}}")
            else:
                cells.append(f"{value:>{width}{spec}}" if value != "" else " " * width)
        print(" ".join(cells), flush=True)


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("nan")


#: pymatting's counterpart of each of our methods, where it has one.
PYMATTING_NAMES = {
    "closed_form": "estimate_alpha_cf",
    "knn": "estimate_alpha_knn",
    "large_kernel": "estimate_alpha_lkm",
    "learning_based": "estimate_alpha_lbdm",
    "random_walk": "estimate_alpha_rw",
    "shared_sampling": "estimate_alpha_sm",
}


def pymatting_method(name: str, rtol: float = 1e-7):
    """pymatting's counterpart of our method ``name`` (same tolerance), or None."""
    if name not in PYMATTING_NAMES:
        return None
    import pymatting

    function = getattr(pymatting, PYMATTING_NAMES[name])
    if name == "shared_sampling":
        return function  # not a linear solve
    return lambda image, trimap: function(image, trimap, cg_kwargs={"rtol": rtol})


def our_method(name: str, rtol: float = 1e-7, **options):
    """Our registered method ``name`` with the benchmark tolerance where it solves a system."""
    import matting

    function = matting.METHODS[name].function
    if "rtol" in inspect.signature(function).parameters:
        options.setdefault("rtol", rtol)
    return lambda image, trimap: function(image, trimap, **options)


# --- one method of ours against a reference, side by side ---------------------------------

SIDE_BY_SIDE = Table(
    [
        ("case", 11, "<"),
        ("MP", 6, ".2f"),
        ("unknown", 8, "d"),
        ("variant", 18, "<"),
        ("|", 0, ""),
        ("ours s", 8, ".2f"),
        ("ref s", 8, ".2f"),
        ("ratio", 6, ".2f"),
        ("|", 0, ""),
        ("ours MB", 8, ".0f"),
        ("ref MB", 7, ".0f"),
        ("ratio", 6, ".2f"),
        ("|", 0, ""),
        ("ours SAD", 9, ".3f"),
        ("ref SAD", 8, ".3f"),
        ("ratio", 6, ".2f"),
        ("|", 0, ""),
        ("ours MSE", 9, ".5f"),
        ("ref MSE", 8, ".5f"),
        ("ratio", 6, ".2f"),
    ]
)


def _parse_variant(text: str) -> tuple[str, dict]:
    label, separator, options = text.partition("=")
    if not separator:
        raise SystemExit(f"--variant {text!r} must look like LABEL='{{\"option\": value}}'")
    return label, json.loads(options)


def side_by_side(doc: str, script: str, method: str, *, reference: str = "pymatting") -> None:
    """The ``main`` of a benchmark of our ``method`` against a reference, side by side.

    The reference is pymatting's counterpart of ``method`` (``reference="pymatting"``) or
    another method of ours (a registered name). Every (library, variant, case, size) runs in
    a fresh process (:func:`run_worker`) measured by :func:`measure`, with relative tolerance
    1e-7 wherever a method solves a linear system. Our method runs once per *variant*: by
    default one per solver in ``--solvers`` with the keyword options of ``--options``, or as
    given by repeated ``--variant LABEL=JSON``. The table prints ratios ours / reference; the
    CSV (``<method>[_tag].csv``) has every measurement with the load average at its start.
    """
    parser = argparse.ArgumentParser(
        description=doc.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=doc.split("\n\n", 1)[1] if "\n\n" in doc else None,
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--solvers", default="auto", help="comma-separated solvers of ours (default: auto)"
    )
    parser.add_argument(
        "--options", default="{}", help="our keyword options as JSON, e.g. '{\"radius\": 5}'"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL=JSON",
        help="run ours with these options under this label (repeatable; replaces --solvers)",
    )
    parser.add_argument("--no-reference", action="store_true", help="measure only ours")
    parser.add_argument("--tag", default="", help="suffix of the CSV file name")
    add_worker_arguments(parser)
    parser.add_argument("--label", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        _side_by_side_worker(arguments, method, reference)
        return

    import matting

    base = json.loads(arguments.options)
    if arguments.variant:
        variants = [_parse_variant(text) for text in arguments.variant]
    elif "solver" in inspect.signature(matting.METHODS[method].function).parameters:
        variants = [(solver, {**base, "solver": solver}) for solver in arguments.solvers.split(",")]
    else:
        variants = [("default", base)]
    rows = []
    SIDE_BY_SIDE.header()
    for megapixels in (float(size) for size in arguments.sizes.split(",")):
        for case in arguments.cases.split(","):
            common = ("--data", str(arguments.data), "--repeat", str(arguments.repeat))
            theirs = None
            if not arguments.no_reference:
                theirs = run_worker(
                    script,
                    "reference",
                    case,
                    megapixels,
                    *common,
                    "--label",
                    "reference",
                    "--options",
                    "{}",
                )
                rows.append(theirs)
            for label, options in variants:
                ours = run_worker(
                    script,
                    "matting",
                    case,
                    megapixels,
                    *common,
                    "--label",
                    label,
                    "--options",
                    json.dumps(options),
                )
                rows.append(ours)
                values = []
                for key in ("seconds", "peak_mb", "sad", "mse"):
                    other = theirs[key] if theirs else ""
                    values += [ours[key], other, ratio(ours[key], other) if theirs else ""]
                SIDE_BY_SIDE.row(case, ours["megapixels"], ours["unknown"], label, *values)
    suffix = f"_{arguments.tag}" if arguments.tag else ""
    write_csv(rows, arguments.out / f"{method}{suffix}.csv")


def _side_by_side_worker(arguments, method: str, reference: str) -> None:
    image, trimap, truth = load_case(arguments.data, arguments.case, arguments.megapixels)
    load = os.getloadavg()[0]
    if arguments.library == "matting":
        function, name = our_method(method, **json.loads(arguments.options)), method
    elif reference == "pymatting":
        function, name = pymatting_method(method), f"pymatting:{PYMATTING_NAMES[method]}"
    else:
        function, name = our_method(reference), reference
    row = measure(function, image, trimap, truth, arguments.repeat)
    row.update(
        library="pymatting" if name.startswith("pymatting") else "matting",
        method=name,
        variant=arguments.label,
        options=arguments.options,
        case=arguments.case,
        load_average=load,
    )
    print(json.dumps(row))
