"""Information-flow matting against closed-form matting (both ours), side by side.

The target is accuracy: information flow should reach at most 0.9 times the error of
closed-form matting on the same inputs. Every (method, image) measurement runs in a fresh
process, after a warm-up call on a small image (so Numba compilation is not timed), and
reports the fastest of ``--repeat`` wall times, the peak resident memory the call added, and
the four Deep Image Matting errors to the ground truth over the trimap's unknown pixels. Both
use relative tolerance 1e-7 and ``solver="auto"`` unless ``--solvers`` lists others for
information flow (the first one is the ratio columns').

Data: the composites with exact ground truth in ../shared/data/composites (``--data`` points
elsewhere; the layout is {name}.png, {name}_trimap.png, {name}_alpha.png).

    python benchmarks/information_flow.py                    # ~0.3 MP, defaults
    python benchmarks/information_flow.py --solvers auto,jacobi,cg --repeat 1
    python benchmarks/information_flow.py --options '{"post_trim": false}' --tag no_post_trim
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


def _method(library: str, solver: str, options: dict):
    if library == "closed_form":
        from matting.methods.closed_form import closed_form

        return lambda image, trimap: closed_form(image, trimap, solver=solver, rtol=1e-7)
    from matting.methods.information_flow import information_flow

    return lambda image, trimap: information_flow(
        image, trimap, solver=solver, rtol=1e-7, **options
    )


def _worker(arguments) -> None:
    """Runs in its own process: one method on one case; prints one JSON line."""
    image, trimap, truth = load_case(arguments.data, arguments.case, arguments.megapixels)
    options = json.loads(arguments.options)
    method = _method(arguments.library, arguments.solver, options)
    row = measure(method, image, trimap, truth, arguments.repeat, all_errors=True)
    row.update(
        library="matting",
        method=arguments.library,
        case=arguments.case,
        solver=arguments.solver,
        options=arguments.options if arguments.library == "information_flow" else "{}",
    )
    print(json.dumps(row))


def _run_worker(method, case, megapixels, arguments, solver="auto") -> dict:
    return run_worker(
        __file__,
        method,
        case,
        megapixels,
        "--data",
        str(arguments.data),
        "--solver",
        solver,
        "--options",
        arguments.options,
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
        ("ifm s", 7, ".2f"),
        ("cf s", 7, ".2f"),
        ("|", 0, ""),
        ("ifm MB", 7, ".0f"),
        ("cf MB", 7, ".0f"),
        ("|", 0, ""),
        ("ifm SAD", 8, ".3f"),
        ("cf SAD", 8, ".3f"),
        ("ratio", 7, ".2f"),
        ("|", 0, ""),
        ("ifm MSE", 9, ".5f"),
        ("cf MSE", 9, ".5f"),
        ("ratio", 7, ".2f"),
        ("|", 0, ""),
        ("grad r", 7, ".2f"),
        ("conn r", 7, ".2f"),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument(
        "--solvers", default="auto", help="comma-separated solvers of ours (default: auto)"
    )
    parser.add_argument(
        "--options", default="{}", help="information_flow keyword options as JSON (default: {})"
    )
    parser.add_argument("--tag", default="", help="suffix of the CSV file name")
    add_worker_arguments(parser)
    parser.add_argument("--solver", default="auto", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        _worker(arguments)
        return

    rows = []
    TABLE.header()
    for megapixels in (float(size) for size in arguments.sizes.split(",")):
        for case in arguments.cases.split(","):
            reference = _run_worker("closed_form", case, megapixels, arguments)
            rows.append(reference)
            for solver in arguments.solvers.split(","):
                ours = _run_worker("information_flow", case, megapixels, arguments, solver)
                rows.append(ours)
                TABLE.row(
                    case,
                    ours["megapixels"],
                    ours["unknown"],
                    solver,
                    ours["seconds"],
                    reference["seconds"],
                    ours["peak_mb"],
                    reference["peak_mb"],
                    ours["sad"],
                    reference["sad"],
                    ratio(ours["sad"], reference["sad"]),
                    ours["mse"],
                    reference["mse"],
                    ratio(ours["mse"], reference["mse"]),
                    ratio(ours["gradient"], reference["gradient"]),
                    ratio(ours["connectivity"], reference["connectivity"]),
                )
    suffix = f"_{arguments.tag}" if arguments.tag else ""
    write_csv(rows, arguments.out / f"information_flow{suffix}.csv")


if __name__ == "__main__":
    main()
