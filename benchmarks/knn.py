"""KNN matting, ours against pymatting's ``estimate_alpha_knn``, side by side.

Every (library, image) measurement runs in a fresh process, after a warm-up call on a small
image (so Numba compilation is not timed), and reports the fastest of ``--repeat`` wall
times, the peak resident memory the call added, and the errors to the ground truth over the
trimap's unknown pixels. Both use relative tolerance 1e-7. With ``--solvers`` our method is
also run with each of the listed solvers (the first one is the ratio column's).

Data: the composites with exact ground truth in ../shared/data/composites (``--data`` points
elsewhere; the layout is {name}.png, {name}_trimap.png, {name}_alpha.png).

    python benchmarks/knn.py                            # ~0.3 MP, our defaults
    python benchmarks/knn.py --solvers auto,ichol,amg,multigrid
    python benchmarks/knn.py --constraints hard --solvers amg,ichol,direct
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from closed_form import (
    CASES,
    DEFAULT_DATA,
    _load,
    _rss_mb,
    _small_case,
    add_worker_arguments,
    write_csv,
)


def _method(library: str, solver: str, constraints: str):
    if library == "pymatting":
        from pymatting import estimate_alpha_knn

        return lambda image, trimap: estimate_alpha_knn(image, trimap, cg_kwargs={"rtol": 1e-7})
    from matting.methods.knn import knn

    return lambda image, trimap: knn(
        image, trimap, solver=solver, constraints=constraints, rtol=1e-7
    )


def _worker(arguments) -> None:
    """Runs in its own process: one library on one case; prints one JSON line."""
    import matting

    image, trimap, truth = _load(Path(arguments.data), arguments.case, arguments.megapixels)
    method = _method(arguments.library, arguments.solver, arguments.constraints)
    method(*_small_case())  # compile outside the timing
    baseline = _rss_mb()
    seconds = []
    for _ in range(arguments.repeat):
        start = time.perf_counter()
        alpha = method(image, trimap)
        seconds.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    ours = arguments.library == "matting"
    row = {
        "library": arguments.library,
        "solver": arguments.solver if ours else "jacobi-cg",
        "constraints": arguments.constraints if ours else "hard",
        "case": arguments.case,
        "megapixels": round(image.shape[0] * image.shape[1] / 1e6, 2),
        "unknown": int(((trimap > 0) & (trimap < 1)).sum()),
        "seconds": min(seconds),
        "peak_mb": peak - baseline,
        "sad": matting.metrics.sad(alpha, truth, trimap),
        "mse": matting.metrics.mse(alpha, truth, trimap),
    }
    print(json.dumps(row))


def _run_worker(library, case, megapixels, arguments, solver="auto") -> dict:
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
        solver,
        "--constraints",
        arguments.constraints,
        "--repeat",
        str(arguments.repeat),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="composites folder")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument("--sizes", default="0.3", help="comma-separated sizes in megapixels")
    parser.add_argument(
        "--solvers", default="auto", help="comma-separated solvers of ours (default: auto)"
    )
    parser.add_argument(
        "--constraints",
        default="soft",
        choices=("soft", "hard"),
        help="our constraints (default: soft, the paper's)",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results", help="CSV folder")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="timed runs per measurement; the fastest is reported (default: 3)",
    )
    add_worker_arguments(parser)
    parser.add_argument("--solver", default="auto", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        _worker(arguments)
        return

    rows = []
    header = (
        f"{'case':<11}{'MP':>5}{'unknown':>9} {'solver':<10} | {'ours s':>7}{'pm s':>7}"
        f"{'ratio':>7} | {'ours MB':>8}{'pm MB':>8} | {'ours SAD':>9}{'pm SAD':>8} | "
        f"{'ours MSE':>9}{'pm MSE':>9}"
    )
    print(header)
    print("-" * len(header))
    for megapixels in (float(size) for size in arguments.sizes.split(",")):
        for case in arguments.cases.split(","):
            theirs = _run_worker("pymatting", case, megapixels, arguments)
            rows.append(theirs)
            for solver in arguments.solvers.split(","):
                ours = _run_worker("matting", case, megapixels, arguments, solver)
                rows.append(ours)
                print(
                    f"{case:<11}{ours['megapixels']:>5.2f}{ours['unknown']:>9} {solver:<10} | "
                    f"{ours['seconds']:>7.2f}{theirs['seconds']:>7.2f}"
                    f"{ours['seconds'] / theirs['seconds']:>7.2f} | "
                    f"{ours['peak_mb']:>8.0f}{theirs['peak_mb']:>8.0f} | "
                    f"{ours['sad']:>9.3f}{theirs['sad']:>8.3f} | "
                    f"{ours['mse']:>9.5f}{theirs['mse']:>9.5f}",
                    flush=True,
                )
    arguments.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if arguments.constraints == "soft" else f"_{arguments.constraints}"
    path = arguments.out / f"knn{suffix}.csv"
    write_csv(rows, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
