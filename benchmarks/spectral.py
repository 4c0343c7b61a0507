"""Spectral matting with a trimap, against closed-form matting on the same inputs.

pymatting has no spectral matting, so the reference is this library's ``closed_form`` (hard
trimap constraints, rtol 1e-7), whose errors pymatting's ``estimate_alpha_cf`` matches (see
benchmarks/closed_form.py). Every (method, image) measurement runs in a fresh process, after a
warm-up call on a small image, and reports the fastest of ``--repeat`` wall times, the peak
resident memory the call added, and the errors to the ground truth over the trimap's unknown
pixels. Spectral rows also show the time of each stage, the factor the eigenproblem was
downscaled by, the number of components, and the *oracle* SAD: that of the best binary
grouping of the same components chosen with the ground truth, which separates what the
components can express from what the grouping picks.

Data: the composites with exact ground truth in ../shared/data/composites (``--data`` points
elsewhere; the layout is {name}.png, {name}_trimap.png, {name}_alpha.png).

    python benchmarks/spectral.py                        # ~0.15 and ~0.3 MP, downscale auto
    python benchmarks/spectral.py --sizes 0.15 --downscales auto,1
    python benchmarks/spectral.py --components 20 --eigenvectors 70
"""

from __future__ import annotations

import argparse
import json
import os
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


def _oracle_sad(components: np.ndarray, truth: np.ndarray, trimap: np.ndarray) -> float:
    """SAD of the best binary grouping of ``components`` over the unknown pixels, found with
    the ground truth (chunks of groupings keep memory small)."""
    from matting.methods.spectral import _all_binary

    unknown = (trimap > 0) & (trimap < 1)
    values, target = components[unknown], truth[unknown]
    groupings = _all_binary(components.shape[2])
    best = np.inf
    for start in range(0, len(groupings), 64):
        chunk = values @ groupings[start : start + 64].T
        best = min(best, float(np.abs(chunk - target[:, None]).sum(axis=0).min()))
    return best / 1000.0


def _worker(arguments) -> None:
    """Runs in its own process: one method on one case; prints one JSON line."""
    image, trimap, truth = load_case(arguments.data, arguments.case, arguments.megapixels)
    # Other jobs on the machine change the times; the load average at the start is recorded.
    row = {"library": arguments.library, "case": arguments.case, "load": os.getloadavg()[0]}
    if arguments.library == "closed_form":
        from matting.methods.closed_form import closed_form

        row.update(
            measure(
                lambda i, t: closed_form(i, t, rtol=1e-7), image, trimap, truth, arguments.repeat
            )
        )
    else:
        from matting.methods.spectral import spectral

        downscale = (
            arguments.downscale if arguments.downscale == "auto" else float(arguments.downscale)
        )
        last = {}

        def method(image, trimap):
            alpha, info = spectral(
                image,
                trimap,
                downscale=downscale,
                n_components=arguments.components,
                n_eigenvectors=arguments.eigenvectors,
                return_info=True,
            )
            last["info"] = info
            return alpha

        row.update(measure(method, image, trimap, truth, arguments.repeat))
        info = last["info"]
        row.update(
            downscale=round(info.downscale, 3),
            n_components=int(info.components.shape[2]),
            oracle_sad=_oracle_sad(info.components, truth, trimap),
            **{f"seconds_{stage}": value for stage, value in info.seconds.items()},
        )
    print(json.dumps(row))


def _run_worker(library, case, megapixels, arguments, downscale="auto") -> dict:
    return run_worker(
        __file__,
        library,
        case,
        megapixels,
        "--data",
        str(arguments.data),
        "--repeat",
        str(arguments.repeat),
        "--downscale",
        downscale,
        "--components",
        str(arguments.components),
        "--eigenvectors",
        str(arguments.eigenvectors),
    )


TABLE = Table(
    [
        ("case", 11, "<"),
        ("MP", 6, ".2f"),
        ("unknown", 8, "d"),
        ("down", 6, ".2f"),
        ("K", 4, "d"),
        ("|", 0, ""),
        ("spec s", 8, ".1f"),
        ("eig s", 7, ".1f"),
        ("IRLS s", 7, ".1f"),
        ("cf s", 7, ".2f"),
        ("|", 0, ""),
        ("spec MB", 8, ".0f"),
        ("cf MB", 7, ".0f"),
        ("|", 0, ""),
        ("spec SAD", 9, ".2f"),
        ("oracle", 7, ".2f"),
        ("cf SAD", 7, ".2f"),
        ("SAD x", 6, ".2f"),
        ("|", 0, ""),
        ("spec MSE", 9, ".4f"),
        ("cf MSE", 8, ".4f"),
        ("MSE x", 6, ".2f"),
        ("|", 0, ""),
        ("load", 5, ".1f"),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser, sizes="0.15,0.3")
    parser.set_defaults(repeat=1)
    parser.add_argument(
        "--downscales",
        default="auto",
        help="comma-separated downscale values of spectral ('auto' or a factor; default auto)",
    )
    parser.add_argument("--components", type=int, default=10, help="n_components (default 10)")
    parser.add_argument("--eigenvectors", type=int, default=50, help="n_eigenvectors (default 50)")
    add_worker_arguments(parser)
    parser.add_argument("--downscale", default="auto", help=argparse.SUPPRESS)
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
            for downscale in arguments.downscales.split(","):
                ours = _run_worker("spectral", case, megapixels, arguments, downscale)
                rows.append(ours)
                TABLE.row(
                    case,
                    ours["megapixels"],
                    ours["unknown"],
                    ours["downscale"],
                    ours["n_components"],
                    ours["seconds"],
                    ours["seconds_eigenvectors"],
                    ours["seconds_sparsify"],
                    reference["seconds"],
                    ours["peak_mb"],
                    reference["peak_mb"],
                    ours["sad"],
                    ours["oracle_sad"],
                    reference["sad"],
                    ratio(ours["sad"], reference["sad"]),
                    ours["mse"],
                    reference["mse"],
                    ratio(ours["mse"], reference["mse"]),
                    ours["load"],
                )
    write_csv(rows, arguments.out / "spectral.csv")


if __name__ == "__main__":
    main()
