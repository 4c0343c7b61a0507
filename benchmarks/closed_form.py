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
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Table,
    add_common_arguments,
    add_worker_arguments,
    load_case,
    measure,
    ratio,
    run_worker,
    small_case,
    write_csv,
)


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
    image, trimap, truth = load_case(arguments.data, arguments.case, arguments.megapixels)
    method = _method(arguments.library, arguments.solver, arguments.levels)
    row = measure(method, image, trimap, truth, arguments.repeat)
    ours = arguments.library == "matting"
    row.update(
        library=arguments.library, case=arguments.case, levels=arguments.levels if ours else ""
    )
    print(json.dumps(row))


def _run_worker(library, case, megapixels, arguments, levels=1) -> dict:
    return run_worker(
        __file__,
        library,
        case,
        megapixels,
        "--data",
        str(arguments.data),
        "--solver",
        arguments.solver,
        "--repeat",
        str(arguments.repeat if megapixels < 1 else 1),
        "--levels",
        str(levels),
    )


def _cold_start(library: str) -> dict:
    """Seconds for import + first small call with an empty Numba cache, then with it filled."""
    if library == "pymatting":
        call = "from pymatting import estimate_alpha_cf as f"
    else:
        call = "import matting; f = matting.closed_form"
    image, trimap = small_case()
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


TABLE = Table(
    [
        ("case", 11, "<"),
        ("MP", 6, ".2f"),
        ("unknown", 9, "d"),
        ("lev", 4, ""),
        ("|", 0, ""),
        ("ours s", 8, ".2f"),
        ("pm s", 8, ".2f"),
        ("ratio", 7, ".2f"),
        ("|", 0, ""),
        ("ours MB", 8, ".0f"),
        ("pm MB", 8, ".0f"),
        ("ratio", 7, ".2f"),
        ("|", 0, ""),
        ("ours SAD", 9, ".3f"),
        ("pm SAD", 8, ".3f"),
        ("|", 0, ""),
        ("ours MSE", 9, ".5f"),
        ("pm MSE", 9, ".5f"),
    ]
)


def _print_row(case, levels, ours, theirs) -> None:
    TABLE.row(
        case,
        ours["megapixels"],
        ours["unknown"],
        levels,
        ours["seconds"],
        theirs["seconds"],
        ratio(ours["seconds"], theirs["seconds"]),
        ours["peak_mb"],
        theirs["peak_mb"],
        ratio(ours["peak_mb"], theirs["peak_mb"]),
        ours["sad"],
        theirs["sad"],
        ours["mse"],
        theirs["mse"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser, sizes="0.3,5")
    parser.set_defaults(repeat=5)
    parser.add_argument("--solver", default="auto", help="our solver (default: auto)")
    parser.add_argument("--cold", action="store_true", help="also time cold start")
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
    TABLE.header()
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
    write_csv(rows, arguments.out / "closed_form.csv")


if __name__ == "__main__":
    main()
