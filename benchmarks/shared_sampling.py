"""Shared sampling matting, ours against pymatting's ``estimate_alpha_sm``, side by side.

Every (library, image) measurement runs in a fresh process, after a warm-up call on a small
image (so Numba compilation is not timed), and reports the fastest of ``--repeat`` wall
times, the peak resident memory the call added, and the errors to the ground truth over the
trimap's unknown pixels. Both run with their defaults (the paper's parameters). With
``--variants default,refine`` ours also runs with ``refine=True`` (the paper's high-quality
variant: the sampling result as the data term of a closed-form solve); the ratio column
always compares with pymatting's one (real-time) variant. The load average at the start of
each measurement is recorded, since other work on the machine slows both libraries.

Data: the composites with exact ground truth in ../shared/data/composites (``--data`` points
elsewhere; the layout is {name}.png, {name}_trimap.png, {name}_alpha.png).

    python benchmarks/shared_sampling.py                       # ~0.3 MP, our defaults
    python benchmarks/shared_sampling.py --variants default,refine --sizes 0.3,1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Table,
    add_common_arguments,
    add_worker_arguments,
    load_case,
    measure,
    ratio,
    run_worker,
    write_csv,
)

VARIANTS = {"default": {}, "refine": {"refine": True}}


def _method(library: str, variant: str):
    if library == "pymatting":
        from pymatting import estimate_alpha_sm

        return estimate_alpha_sm
    from matting.methods.shared_sampling import shared_sampling

    options = VARIANTS[variant]
    return lambda image, trimap: shared_sampling(image, trimap, **options)


def _worker(arguments) -> None:
    """Runs in its own process: one library on one case; prints one JSON line."""
    image, trimap, truth = load_case(arguments.data, arguments.case, arguments.megapixels)
    load = os.getloadavg()[0]
    method = _method(arguments.library, arguments.variant)
    row = measure(method, image, trimap, truth, arguments.repeat, all_errors=arguments.all)
    row.update(
        library=arguments.library,
        case=arguments.case,
        variant=arguments.variant if arguments.library == "matting" else "default",
        load=round(load, 2),
    )
    print(json.dumps(row))


def _run_worker(library, case, megapixels, arguments, variant="default") -> dict:
    options = ["--data", str(arguments.data), "--variant", variant]
    options += ["--repeat", str(arguments.repeat)] + (["--all"] if arguments.all else [])
    return run_worker(__file__, library, case, megapixels, *options)


TABLE = Table(
    [
        ("case", 11, "<"),
        ("MP", 6, ".2f"),
        ("unknown", 9, "d"),
        ("variant", 9, ""),
        ("load", 6, ".1f"),
        ("|", 0, ""),
        ("ours s", 8, ".3f"),
        ("pm s", 8, ".3f"),
        ("ratio", 7, ".2f"),
        ("|", 0, ""),
        ("ours MB", 8, ".0f"),
        ("pm MB", 8, ".0f"),
        ("|", 0, ""),
        ("ours SAD", 9, ".3f"),
        ("pm SAD", 8, ".3f"),
        ("|", 0, ""),
        ("ours MSE", 9, ".5f"),
        ("pm MSE", 9, ".5f"),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument(
        "--variants",
        default="default",
        help=f"comma-separated variants of ours among {sorted(VARIANTS)} (default: default)",
    )
    parser.add_argument(
        "--all", action="store_true", help="also the gradient and connectivity errors (slower)"
    )
    add_worker_arguments(parser)
    parser.add_argument("--variant", default="default", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        _worker(arguments)
        return
    variants = arguments.variants.split(",")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose among {sorted(VARIANTS)}")

    rows = []
    TABLE.header()
    for megapixels in (float(size) for size in arguments.sizes.split(",")):
        for case in arguments.cases.split(","):
            theirs = _run_worker("pymatting", case, megapixels, arguments)
            rows.append(theirs)
            for variant in variants:
                ours = _run_worker("matting", case, megapixels, arguments, variant)
                rows.append(ours)
                TABLE.row(
                    case,
                    ours["megapixels"],
                    ours["unknown"],
                    variant,
                    ours["load"],
                    ours["seconds"],
                    theirs["seconds"],
                    ratio(ours["seconds"], theirs["seconds"]),
                    ours["peak_mb"],
                    theirs["peak_mb"],
                    ours["sad"],
                    theirs["sad"],
                    ours["mse"],
                    theirs["mse"],
                )
    write_csv(rows, arguments.out / "shared_sampling.csv")


if __name__ == "__main__":
    main()
