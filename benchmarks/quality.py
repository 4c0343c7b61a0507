"""Quality of every method on every dataset: the four standard errors, a CSV and a bar chart.

Datasets (``--datasets``, comma-separated):

- ``composites``: the real photographs made into composites with exact alpha in
  ../shared/data/composites (``--data``), resized to ``--megapixels``;
- ``synthetic``: ``matting.datasets.synthetic_dataset`` (generated, exact alpha, no files);
- ``alphamatting``: the alphamatting.com training set from ``--alphamatting ROOT`` (its
  layout; ``--download`` fetches the low-resolution archives), with ``--trimap 1`` or ``2``.

Times are single calls after a warm-up call (Numba compilation excluded), for orientation;
benchmarks/speed.py measures time properly. Errors are SAD, MSE, gradient and connectivity over each trimap's unknown pixels, as the
Deep Image Matting evaluation code computes them (``matting.metrics``). With ``--pymatting``
pymatting's counterparts run too, as rows ``pymatting:<method>``.

    python benchmarks/quality.py                                  # composites + synthetic
    python benchmarks/quality.py --datasets alphamatting --alphamatting ~/data/am --download
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    CASES,
    DEFAULT_DATA,
    DEFAULT_OUT,
    Table,
    errors,
    load_case,
    our_method,
    pymatting_method,
    small_case,
    write_csv,
)

METRICS = ("sad", "mse", "gradient", "connectivity")

TABLE = Table(
    [
        ("dataset", 13, "<"),
        ("case", 11, "<"),
        ("method", 26, "<"),
        ("|", 0, ""),
        ("seconds", 8, ".2f"),
        ("|", 0, ""),
        ("SAD", 9, ".2f"),
        ("MSE", 9, ".4f"),
        ("gradient", 9, ".2f"),
        ("connect.", 9, ".2f"),
    ]
)


def _cases(arguments):
    """Yield (dataset, case, image, trimap, true alpha) for every selected dataset."""
    import matting

    for dataset in arguments.datasets.split(","):
        if dataset == "composites":
            for case in arguments.cases.split(","):
                yield (dataset, case, *load_case(arguments.data, case, arguments.megapixels))
        elif dataset == "synthetic":
            for index, composite in enumerate(
                matting.datasets.synthetic_dataset(arguments.synthetic, (240, 320))
            ):
                yield (
                    dataset,
                    f"synthetic{index}",
                    composite.image,
                    composite.trimap,
                    composite.alpha,
                )
        elif dataset == "alphamatting":
            if arguments.alphamatting is None and not arguments.download:
                raise SystemExit("--datasets alphamatting needs --alphamatting ROOT or --download")
            samples = matting.datasets.alphamatting(
                arguments.alphamatting, trimap=arguments.trimap, download=arguments.download
            )
            for sample in samples:
                if sample.alpha is not None:
                    yield dataset, sample.name, sample.image, sample.trimap, sample.alpha
        else:
            raise SystemExit(f"unknown dataset {dataset!r}")


def _bar_chart(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    from matplotlib.figure import Figure

    cases = list(dict.fromkeys(f"{row['dataset']}/{row['case']}" for row in rows))
    methods = list(dict.fromkeys(row["method"] for row in rows))
    # One colour per method, the same for ours and pymatting's (hatched) implementation.
    names = list(dict.fromkeys(method.removeprefix("pymatting:") for method in methods))
    palette = matplotlib.colormaps["tab10" if len(names) <= 10 else "tab20"]
    figure = Figure(figsize=(max(8, 0.9 * len(cases) * max(1, len(methods) / 4)), 11))
    width = 0.8 / len(methods)
    for axes, metric in zip(figure.subplots(len(METRICS), 1), METRICS):
        for index, method in enumerate(methods):
            values = {
                f"{r['dataset']}/{r['case']}": r[metric] for r in rows if r["method"] == method
            }
            heights = [float(values.get(case, np.nan)) for case in cases]
            colour = palette(names.index(method.removeprefix("pymatting:")))
            hatch = "///" if method.startswith("pymatting:") else None
            axes.bar(
                np.arange(len(cases)) + index * width,
                heights,
                width,
                label=method,
                color=colour,
                hatch=hatch,
                edgecolor="white",
                linewidth=0,
            )
        axes.set_ylabel(metric)
        axes.set_xticks(
            np.arange(len(cases)) + 0.4 - width / 2, cases, rotation=30, ha="right", fontsize=8
        )
    figure.axes[0].legend(ncol=min(len(methods), 5), fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="composites,synthetic", help="%(default)s")
    parser.add_argument("--methods", help="comma-separated method names (default: all)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="composites folder")
    parser.add_argument("--cases", default=",".join(CASES), help="composite case names")
    parser.add_argument("--megapixels", type=float, default=0.3, help="composite size")
    parser.add_argument("--synthetic", type=int, default=4, help="number of synthetic images")
    parser.add_argument("--alphamatting", type=Path, help="alphamatting.com folder")
    parser.add_argument("--download", action="store_true", help="download alphamatting.com")
    parser.add_argument("--trimap", type=int, default=1, choices=(1, 2), help="Trimap1 or 2")
    parser.add_argument("--pymatting", action="store_true", help="also run pymatting's")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV and PNG folder")
    parser.add_argument("--replot", type=Path, help="only redraw the chart from this CSV")
    arguments = parser.parse_args()
    if arguments.replot:
        import csv

        with open(arguments.replot) as handle:
            _bar_chart(list(csv.DictReader(handle)), arguments.out / "quality.png")
        return

    import matting

    names = arguments.methods.split(",") if arguments.methods else list(matting.METHODS)
    methods = [(name, our_method(name)) for name in names]
    if arguments.pymatting:
        methods += [
            (f"pymatting:{name}", pymatting_method(name))
            for name in names
            if pymatting_method(name) is not None
        ]
    for _, method in methods:
        method(*small_case())  # compile outside the timing
    rows = []
    TABLE.header()
    for dataset, case, image, trimap, truth in _cases(arguments):
        for label, method in methods:
            start = time.perf_counter()
            alpha = method(image, trimap)
            seconds = time.perf_counter() - start
            row = {
                "dataset": dataset,
                "case": case,
                "method": label,
                "seconds": seconds,
                **errors(alpha, truth, trimap),
            }
            rows.append(row)
            TABLE.row(dataset, case, label, seconds, *(row[metric] for metric in METRICS))
    write_csv(rows, arguments.out / "quality.csv")
    _bar_chart(rows, arguments.out / "quality.png")


if __name__ == "__main__":
    main()
