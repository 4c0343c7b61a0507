"""Closed-form matting, ours against pymatting's ``estimate_alpha_cf``, side by side.

Every (library, image) measurement runs in a fresh process, after a warm-up call on a small
image (so Numba compilation is not timed), and reports wall time (the fastest of ``--repeat``
runs below 1 MP, one run above), the peak resident memory
the call added, and the errors to the ground truth over the trimap's unknown pixels. The
same inputs and the same relative tolerance (1e-7) are used for both. A ``--cold`` run times
``import`` plus a first call on a small image with empty Numba caches.

Data: the composites with exact ground truth in ../shared/data/composites (``--data`` points
elsewhere; the layout is {name}.png, {name}_trimap.png, {name}_alpha.png).

    python benchmarks/closed_form.py                 # ~0.3 MP and ~5 MP
    python benchmarks/closed_form.py --sizes 0.3 --cases donkey
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "composites"
CASES = ("donkey", "elephant", "pineapple", "plasticbag")


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _load(data: Path, name: str, megapixels: float):
    """Image, trimap and true alpha of one case, resized to about ``megapixels``."""
    from PIL import Image

    def read(path, resample):
        picture = Image.open(path)
        scale = np.sqrt(megapixels * 1e6 / (picture.width * picture.height))
        size = (round(picture.width * scale), round(picture.height * scale))
        return np.asarray(picture.resize(size, resample), dtype=np.float64) / 255.0

    image = read(data / f"{name}.png", Image.Resampling.BICUBIC).clip(0, 1)
    trimap = read(data / f"{name}_trimap.png", Image.Resampling.NEAREST)
    alpha = read(data / f"{name}_alpha.png", Image.Resampling.BICUBIC).clip(0, 1)
    return np.ascontiguousarray(image[:, :, :3]), trimap, alpha


def _small_case():
    rng = np.random.default_rng(0)
    image = rng.random((40, 40, 3))
    trimap = np.full((40, 40), 0.5)
    trimap[:, :8] = 0
    trimap[:, -8:] = 1
    return image, trimap


def _method(library: str, solver: str, levels: int = 1):
    if library == "pymatting":
        from pymatting import estimate_alpha_cf

        return lambda image, trimap: estimate_alpha_cf(image, trimap, cg_kwargs={"rtol": 1e-7})
    import matting

    return lambda image, trimap: matting.closed_form(
        image, trimap, solver=solver, rtol=1e-7, levels=levels
    )


def _worker(arguments) -> None:
    """Runs in its own process: one library on one case; prints one JSON line."""
    import matting

    image, trimap, truth = _load(Path(arguments.data), arguments.case, arguments.megapixels)
    method = _method(arguments.library, arguments.solver, arguments.levels)
    method(*_small_case())  # compile outside the timing
    baseline = _rss_mb()
    seconds = []
    for _ in range(arguments.repeat):
        start = time.perf_counter()
        alpha = method(image, trimap)
        seconds.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    row = {
        "library": arguments.library,
        "levels": arguments.levels if arguments.library == "matting" else "",
        "case": arguments.case,
        "megapixels": round(image.shape[0] * image.shape[1] / 1e6, 2),
        "unknown": int(((trimap > 0) & (trimap < 1)).sum()),
        "seconds": min(seconds),
        "peak_mb": peak - baseline,
        "sad": matting.metrics.sad(alpha, truth, trimap),
        "mse": matting.metrics.mse(alpha, truth, trimap),
        "gradient": matting.metrics.gradient_error(alpha, truth, trimap),
        "connectivity": matting.metrics.connectivity_error(alpha, truth, trimap),
    }
    print(json.dumps(row))


def _run_worker(library, case, megapixels, arguments, levels=1) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--library",
        library,
        "--case",
        case,
        "--megapixels",
        str(megapixels),
        "--data",
        str(arguments.data),
        "--solver",
        arguments.solver,
        "--repeat",
        str(arguments.repeat if megapixels < 1 else 1),
        "--levels",
        str(levels),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def write_csv(rows: list[dict], path: Path) -> None:
    """Write result rows (dicts, possibly with different keys) as one CSV table."""
    fields = sorted({key for row in rows for key in row})
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    """The hidden options with which a benchmark re-runs itself as a one-measurement worker."""
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--library", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--megapixels", type=float, help=argparse.SUPPRESS)


def _cold_start(library: str) -> dict:
    """Seconds for import + first small call with an empty Numba cache, then with it filled."""
    if library == "pymatting":
        call = "from pymatting import estimate_alpha_cf as f"
    else:
        call = "import matting; f = matting.closed_form"
    image, trimap = _small_case()
    with tempfile.TemporaryDirectory() as cache:
        np.save(Path(cache) / "image.npy", image)
        np.save(Path(cache) / "trimap.npy", trimap)
        script = (
            f"import numpy as np; {call}; "
            f"f(np.load(r'{cache}/image.npy'), np.load(r'{cache}/trimap.npy'))"
        )
        environment = dict(os.environ, NUMBA_CACHE_DIR=str(Path(cache) / "numba"))
        timings = {}
        for label in ("cold", "warm"):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", script], env=environment, check=True)
            timings[label] = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", call], env=environment, check=True)
        timings["warm_import"] = time.perf_counter() - start
    return timings


def _print_row(case, levels, ours, theirs) -> None:
    print(
        f"{case:<11}{ours['megapixels']:>5.2f}{ours['unknown']:>9}{levels:>4} | "
        f"{ours['seconds']:>7.2f}{theirs['seconds']:>7.2f}"
        f"{ours['seconds'] / theirs['seconds']:>7.2f} | "
        f"{ours['peak_mb']:>8.0f}{theirs['peak_mb']:>8.0f}"
        f"{ours['peak_mb'] / max(theirs['peak_mb'], 1):>7.2f} | "
        f"{ours['sad']:>9.3f}{theirs['sad']:>8.3f} | "
        f"{ours['mse']:>9.5f}{theirs['mse']:>9.5f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="composites folder")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument(
        "--sizes", default="0.3,5", help="comma-separated image sizes in megapixels"
    )
    parser.add_argument("--solver", default="auto", help="our solver (default: auto)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="CSV folder")
    parser.add_argument("--cold", action="store_true", help="also time cold start")
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="timed runs per measurement below 1 MP; the fastest is reported (default: 5)",
    )
    parser.add_argument(
        "--c2f-levels",
        default="3",
        help="also run our coarse-to-fine variant with these levels above 1 MP "
        "(comma-separated; empty for none; default: %(default)s)",
    )
    parser.add_argument("--levels", type=int, default=1, help=argparse.SUPPRESS)
    add_worker_arguments(parser)
    arguments = parser.parse_args()
    if arguments.worker:
        _worker(arguments)
        return

    rows = []
    header = (
        f"{'case':<11}{'MP':>5}{'unknown':>9}{'lev':>4} | {'ours s':>7}{'pm s':>7}{'ratio':>7} | "
        f"{'ours MB':>8}{'pm MB':>8}{'ratio':>7} | {'ours SAD':>9}{'pm SAD':>8} | "
        f"{'ours MSE':>9}{'pm MSE':>9}"
    )
    print(header)
    print("-" * len(header))
    for megapixels in (float(size) for size in arguments.sizes.split(",")):
        for case in arguments.cases.split(","):
            theirs = _run_worker("pymatting", case, megapixels, arguments)
            rows.append(theirs)
            variants = [1]
            if megapixels >= 1 and arguments.c2f_levels:
                variants += [int(levels) for levels in arguments.c2f_levels.split(",")]
            for levels in variants:
                ours = _run_worker("matting", case, megapixels, arguments, levels)
                rows.append(ours)
                _print_row(case, levels, ours, theirs)
    if arguments.cold:
        for library in ("matting", "pymatting"):
            timings = _cold_start(library)
            print(
                f"{library:<10} cold import+first call {timings['cold']:.1f} s, "
                f"warm {timings['warm']:.1f} s, warm import {timings['warm_import']:.2f} s"
            )
            rows.append({"library": library, "case": "cold-start", **timings})
    arguments.out.mkdir(parents=True, exist_ok=True)
    path = arguments.out / "closed_form.csv"
    write_csv(rows, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
