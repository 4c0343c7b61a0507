"""Random-walk matting, ours against pymatting's ``estimate_alpha_rw``, side by side.

Every (library, image) measurement runs in a fresh process, after a warm-up call on a small
image (so Numba compilation is not timed), and reports the fastest of ``--repeat`` wall
times, the peak resident memory the call added, and the errors to the ground truth over the
trimap's unknown pixels. Both solve the Dirichlet problem on the unknown pixels with
relative tolerance 1e-7 (pymatting: 8-connected lattice, weights exp(-900 d^2) whatever its
sigma, 1e-8 added to the diagonal, Jacobi-preconditioned CG; ours: the lattice given by
``--connectivity``, 4 by default, the paper's, and sigma 1/30, i.e. the same beta = 900).
With ``--solvers`` our method is also run with each listed solver (the first one is the
ratio column's).

Data: the composites with exact ground truth in ../shared/data/composites (``--data`` points
elsewhere; the layout is {name}.png, {name}_trimap.png, {name}_alpha.png).

    python benchmarks/random_walk.py                    # ~0.3 MP, our defaults
    python benchmarks/random_walk.py --solvers auto,ichol,direct,amg --repeat 1
    python benchmarks/random_walk.py --connectivity 8
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
    ratio,
    run_worker,
    write_csv,
)


def _method(library: str, solver: str, connectivity: int):
    if library == "pymatting":
        from pymatting import estimate_alpha_rw

        return lambda image, trimap: estimate_alpha_rw(image, trimap, cg_kwargs={"rtol": 1e-7})
    from matting.methods.random_walk import random_walk

    return lambda image, trimap: random_walk(
        image, trimap, connectivity=connectivity, solver=solver, rtol=1e-7
    )


def _worker(arguments) -> None:
    """Runs in its own process: one library on one case; prints one JSON line."""
    image, trimap, truth = load_case(arguments.data, arguments.case, arguments.megapixels)
    method = _method(arguments.library, arguments.solver, arguments.connectivity)
    row = measure(method, image, trimap, truth, arguments.repeat, all_errors=False)
    ours = arguments.library == "matting"
    row.update(
        library=arguments.library,
        case=arguments.case,
        connectivity=arguments.connectivity if ours else 8,
        solver=arguments.solver if ours else "jacobi-cg",
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
        "--connectivity",
        str(arguments.connectivity),
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
        "--connectivity",
        type=int,
        default=4,
        choices=(4, 8),
        help="our pixel lattice (default: 4, the paper's)",
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
    suffix = "" if arguments.connectivity == 4 else f"_{arguments.connectivity}"
    write_csv(rows, arguments.out / f"random_walk{suffix}.csv")


if __name__ == "__main__":
    main()
