"""Bayesian matting: our time against pymatting's ``estimate_alpha_cf``, our error against ours.

pymatting has no Bayesian matting, so the time reference is its closed-form matting on the
same input (target: Bayesian at most 10x that), and the error reference is our own
closed-form matting (``matting.closed_form``; target: SAD and MSE within 1.3x of it). Errors
are over the trimap's unknown pixels against the exact alpha.

All methods run in this one process after a warm-up call on a small image (Numba compilation
is not timed); each time is the fastest of ``--repeat`` runs.

Data: the composites with exact ground truth in ../shared/data/composites, resized to
``--megapixels`` as benchmarks/closed_form.py does.

    python benchmarks/bayesian.py
    python benchmarks/bayesian.py --cases donkey --repeat 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import CASES, DEFAULT_DATA, DEFAULT_OUT, load_case, small_case, write_csv


def _best_time(function, repeat):
    seconds = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return min(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="composites folder")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument("--megapixels", type=float, default=0.3, help="image size (default 0.3)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs; the fastest is reported (default 3)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV folder")
    arguments = parser.parse_args()

    import numpy as np
    from pymatting import estimate_alpha_cf

    import matting
    from matting.methods.bayesian import bayesian

    def pymatting_cf(image, trimap):
        return estimate_alpha_cf(image, trimap, cg_kwargs={"rtol": 1e-7})

    small = small_case()
    for warm_up in (bayesian, matting.closed_form, pymatting_cf):
        warm_up(*small)

    header = (
        f"{'case':<11}{'MP':>5}{'unknown':>8} | {'bayes s':>8}{'pm cf s':>8}{'ratio':>7} | "
        f"{'bayes SAD':>10}{'cf SAD':>8}{'ratio':>7} | {'bayes MSE':>10}{'cf MSE':>9}"
        f"{'ratio':>7}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for case in arguments.cases.split(","):
        image, trimap, truth = load_case(arguments.data, case, arguments.megapixels)
        bayes_seconds, bayes_alpha = _best_time(
            lambda image=image, trimap=trimap: bayesian(image, trimap), arguments.repeat
        )
        pm_seconds, _ = _best_time(
            lambda image=image, trimap=trimap: pymatting_cf(image, trimap), arguments.repeat
        )
        cf_alpha = matting.closed_form(image, trimap)
        row = {
            "case": case,
            "megapixels": round(image.shape[0] * image.shape[1] / 1e6, 2),
            "unknown": int(((trimap > 0) & (trimap < 1)).sum()),
            "bayesian_seconds": bayes_seconds,
            "pymatting_cf_seconds": pm_seconds,
            "time_ratio": bayes_seconds / pm_seconds,
            "bayesian_sad": matting.metrics.sad(bayes_alpha, truth, trimap),
            "closed_form_sad": matting.metrics.sad(cf_alpha, truth, trimap),
            "bayesian_mse": matting.metrics.mse(bayes_alpha, truth, trimap),
            "closed_form_mse": matting.metrics.mse(cf_alpha, truth, trimap),
            "bayesian_finite": bool(np.isfinite(bayes_alpha).all()),
        }
        row["sad_ratio"] = row["bayesian_sad"] / row["closed_form_sad"]
        row["mse_ratio"] = row["bayesian_mse"] / row["closed_form_mse"]
        rows.append(row)
        print(
            f"{case:<11}{row['megapixels']:>5.2f}{row['unknown']:>8} | "
            f"{bayes_seconds:>8.2f}{pm_seconds:>8.2f}{row['time_ratio']:>7.2f} | "
            f"{row['bayesian_sad']:>10.3f}{row['closed_form_sad']:>8.3f}{row['sad_ratio']:>7.2f} | "
            f"{row['bayesian_mse']:>10.5f}{row['closed_form_mse']:>9.5f}{row['mse_ratio']:>7.2f}",
            flush=True,
        )
    write_csv(rows, arguments.out / "bayesian.csv")


if __name__ == "__main__":
    main()
