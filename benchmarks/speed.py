"""Time and peak memory of every method against image size, ours and pymatting's side by side.

Each (library, method, case, size) is measured in a fresh process after a warm-up call on a
small image (Numba compilation is not timed): the fastest of ``--repeat`` wall times, the peak
resident memory the call added, and SAD/MSE to the exact alpha. pymatting runs its counterpart
of each method (``estimate_alpha_cf``, ``_knn``, ``_lkm``, ``_lbdm``, ``_rw``, ``_sm``) with
the same inputs and relative tolerance 1e-7; methods pymatting lacks get no ratio.

Data: the composites with exact ground truth in ../shared/data/composites (``--data``).

    python benchmarks/speed.py                                   # every method, 0.1-1 MP
    python benchmarks/speed.py --methods closed_form,knn --sizes 0.3,2 --cases donkey
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Table,
    add_common_arguments,
    add_worker_arguments,
    load_case,
    measure,
    our_method,
    pymatting_method,
    ratio,
    run_worker,
    write_csv,
)

TABLE = Table(
    [
        ("method", 16, "<"),
        ("case", 11, "<"),
        ("MP", 6, ".2f"),
        ("|", 0, ""),
        ("ours s", 8, ".2f"),
        ("pm s", 8, ".2f"),
        ("ratio", 7, ".2f"),
        ("|", 0, ""),
        ("ours MB", 8, ".0f"),
        ("pm MB", 8, ".0f"),
        ("ratio", 7, ".2f"),
        ("|", 0, ""),
        ("ours SAD", 9, ".2f"),
        ("pm SAD", 8, ".2f"),
    ]
)


def _worker(arguments) -> None:
    image, trimap, truth = load_case(arguments.data, arguments.case, arguments.megapixels)
    if arguments.library == "pymatting":
        method = pymatting_method(arguments.method)
    else:
        method = our_method(arguments.method)
    row = measure(method, image, trimap, truth, arguments.repeat, all_errors=False)
    row.update(library=arguments.library, method=arguments.method, case=arguments.case)
    print(json.dumps(row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser, sizes="0.1,0.3,1")
    parser.add_argument(
        "--methods", default=None, help="comma-separated method names (default: all registered)"
    )
    parser.add_argument(
        "--no-pymatting", action="store_true", help="measure only ours (no ratio columns)"
    )
    add_worker_arguments(parser)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        _worker(arguments)
        return

    import matting

    methods = arguments.methods.split(",") if arguments.methods else list(matting.METHODS)
    rows = []
    TABLE.header()
    for method in methods:
        for megapixels in (float(size) for size in arguments.sizes.split(",")):
            for case in arguments.cases.split(","):
                options = (
                    "--data",
                    str(arguments.data),
                    "--repeat",
                    str(arguments.repeat),
                    "--method",
                    method,
                )
                ours = run_worker(__file__, "matting", case, megapixels, *options)
                rows.append(ours)
                theirs = None
                if not arguments.no_pymatting and pymatting_method(method) is not None:
                    theirs = run_worker(__file__, "pymatting", case, megapixels, *options)
                    rows.append(theirs)
                missing = {"seconds": "", "peak_mb": "", "sad": ""}
                other = theirs or missing
                TABLE.row(
                    method,
                    case,
                    ours["megapixels"],
                    ours["seconds"],
                    other["seconds"],
                    ratio(ours["seconds"], theirs["seconds"]) if theirs else "",
                    ours["peak_mb"],
                    other["peak_mb"],
                    ratio(ours["peak_mb"], theirs["peak_mb"]) if theirs else "",
                    ours["sad"],
                    other["sad"],
                )
    write_csv(rows, arguments.out / "speed.csv")


if __name__ == "__main__":
    main()
