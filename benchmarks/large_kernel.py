"""Large-kernel matting, ours against pymatting's ``estimate_alpha_lkm``, side by side.

Every (library, image) measurement runs in a fresh process, after a warm-up call on a small
image (so Numba compilation is not timed), and reports the fastest of ``--repeat`` wall
times, the peak resident memory the call added, and the errors to the ground truth over the
trimap's unknown pixels. Both use window radius 10, eps 1e-7, relative tolerance 1e-7 and
by default the same soft constraints (lambda 100, all pixels); ``--constraints hard`` runs
ours with hard constraints on the unknown pixels instead. With ``--solvers`` our method is also run with each listed solver (the
first one is the ratio column's).

Data: the composites with exact ground truth in ../shared/data/composites (``--data`` points
elsewhere; the layout is {name}.png, {name}_trimap.png, {name}_alpha.png).

    python benchmarks/large_kernel.py                   # ~0.3 MP, our defaults
    python benchmarks/large_kernel.py --solvers auto,cg --repeat 1
    python benchmarks/large_kernel.py --radius 5
    python benchmarks/large_kernel.py --constraints hard
"""

from __future__ import annotations

import argparse
import json
import sys
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
    write_csv,
)


def _method(library: str, solver: str, radius: int, constraints: str):
    if library == "pymatting":
        from pymatting import estimate_alpha_lkm

        def run(image, trimap):
            # pymatting's box filters need 4r+1 pixels; tile the 40x40 warm-up case.
            repeats = -(-(4 * radius + 2) // min(trimap.shape))
            if repeats > 1:
                image = np.tile(image, (repeats, repeats, 1))
                trimap = np.tile(trimap, (repeats, repeats))
            return estimate_alpha_lkm(
                image,
                trimap,
                laplacian_kwargs={"radius": radius, "epsilon": 1e-7},
                cg_kwargs={"rtol": 1e-7},
            )

        return run
    from matting.methods.large_kernel import large_kernel

    return lambda image, trimap: large_kernel(
        image, trimap, radius=radius, eps=1e-7, constraints=constraints, solver=solver, rtol=1e-7
    )


def _worker(arguments) -> None:
    """Runs in its own process: one library on one case; prints one JSON line."""
    image, trimap, truth = load_case(arguments.data, arguments.case, arguments.megapixels)
    method = _method(arguments.library, arguments.solver, arguments.radius, arguments.constraints)
    row = measure(method, image, trimap, truth, arguments.repeat, all_errors=False)
    ours = arguments.library == "matting"
    row.update(
        library=arguments.library,
        case=arguments.case,
        radius=arguments.radius,
        solver=arguments.solver if ours else "jacobi-cg",
        constraints=arguments.constraints if ours else "soft",
    )
    print(json.dumps(row))


def _run_worker(library, case, megapixels, arguments, solver="auto") -> dict:
    return run_worker(
        __file__,
        library,
        case,
        megapixels,
        "--data",
        str(arguments.data),
        "--solver",
        solver,
        "--radius",
        str(arguments.radius),
        "--constraints",
        arguments.constraints,
        "--repeat",
        str(arguments.repeat),
    )


TABLE = Table(
    [
        ("case", 11, "<"),
        ("MP", 6, ".2f"),
        ("unknown", 9, "d"),
        ("solver", 8, ""),
        ("|", 0, ""),
        ("ours s", 8, ".2f"),
        ("pm s", 8, ".2f"),
        ("ratio", 7, ".3f"),
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
        "--solvers", default="auto", help="comma-separated solvers of ours (default: auto)"
    )
    parser.add_argument(
        "--radius", type=int, default=10, help="window radius, both libraries (default: 10)"
    )
    parser.add_argument(
        "--constraints",
        default="soft",
        choices=("soft", "hard"),
        help="our constraints (default: soft, the paper's and pymatting's)",
    )
    parser.add_argument(
        "--skip-pymatting",
        action="store_true",
        help="time ours only (pymatting's columns are left empty)",
    )
    add_worker_arguments(parser)
    parser.add_argument("--solver", default="auto", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        _worker(arguments)
        return

    rows = []
    TABLE.header()
    empty = {"seconds": float("nan"), "peak_mb": float("nan"), "sad": float("nan")}
    empty["mse"] = float("nan")
    for megapixels in (float(size) for size in arguments.sizes.split(",")):
        for case in arguments.cases.split(","):
            theirs = empty
            if not arguments.skip_pymatting:
                theirs = _run_worker("pymatting", case, megapixels, arguments)
                rows.append(theirs)
            for solver in arguments.solvers.split(","):
                ours = _run_worker("matting", case, megapixels, arguments, solver)
                rows.append(ours)
                TABLE.row(
                    case,
                    ours["megapixels"],
                    ours["unknown"],
                    solver,
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
    suffix = "" if arguments.radius == 10 else f"_r{arguments.radius}"
    suffix += "" if arguments.constraints == "soft" else f"_{arguments.constraints}"
    write_csv(rows, arguments.out / f"large_kernel{suffix}.csv")


if __name__ == "__main__":
    main()
