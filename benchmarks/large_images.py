"""Closed-form matting on large images: time and peak memory against megapixels.

For each case and size (the composites upscaled to 1-16 MP, so the unknown band grows with
the image) every variant runs in a fresh process after a warm-up call, once:

- ``exact``: ``closed_form(image, trimap)``, the exact solution (levels=1, no tiles);
- ``c2f``: ``levels=3``, the authors' coarse-to-fine approximation;
- ``tiled``: ``tile_size=--tile-size``, ``tile_overlap=--tile-overlap`` (our tiled solve);
- ``pymatting``: ``estimate_alpha_cf``, only where its predicted memory (from measured
  365 bytes per pixel plus 1450 bytes per unknown pixel) is below ``--pymatting-max-gb``:
  it builds the Laplacian of the whole image, and larger runs would not fit beside other work.

Columns: seconds, peak resident memory the call added, our memory estimate
(``closed_form_memory``), SAD and MSE to the true alpha over the unknown pixels, and the mean
absolute difference to our exact solution over the unknown pixels.

    python benchmarks/large_images.py                          # 1-16 MP, donkey and plasticbag
    python benchmarks/large_images.py --sizes 1,4 --cases donkey --variants exact,tiled
"""

from __future__ import annotations

import argparse
import json
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
    errors,
    load_case,
    peak_rss_mb,
    ratio,
    reset_peak_rss,
    rss_mb,
    small_case,
    unknown_count,
    write_csv,
)

VARIANTS = ("exact", "c2f", "tiled", "pymatting")

#: pymatting's peak memory, fitted on its 5 MP runs (benchmarks/closed_form.py): bytes per
#: image pixel and per unknown pixel.
PYMATTING_BYTES_PER_PIXEL = 365.0
PYMATTING_BYTES_PER_UNKNOWN = 1450.0


def _method(variant: str, tile_size: int, tile_overlap: int):
    if variant == "pymatting":
        from pymatting import estimate_alpha_cf

        return lambda image, trimap: estimate_alpha_cf(image, trimap, cg_kwargs={"rtol": 1e-7})
    from matting.methods.closed_form import closed_form

    options = {"exact": {}, "c2f": {"levels": 3}}.get(
        variant, {"tile_size": tile_size, "tile_overlap": tile_overlap}
    )
    return lambda image, trimap: closed_form(image, trimap, rtol=1e-7, **options)


def _estimate_mb(variant: str, trimap, tile_size: int, tile_overlap: int) -> float:
    if variant == "pymatting":
        pixels, unknown = trimap.size, unknown_count(trimap)
        return (PYMATTING_BYTES_PER_PIXEL * pixels + PYMATTING_BYTES_PER_UNKNOWN * unknown) / 2**20
    from matting.methods.closed_form import closed_form_memory

    options = {"exact": {}, "c2f": {"levels": 3}}.get(
        variant, {"tile_size": tile_size, "tile_overlap": tile_overlap}
    )
    return closed_form_memory(trimap, **options) / 2**20


def _worker(arguments) -> None:
    """Runs in its own process: one variant on one case and size; prints one JSON line."""
    image, trimap, truth = load_case(arguments.data, arguments.case, arguments.megapixels)
    method = _method(arguments.variant, arguments.tile_size, arguments.tile_overlap)
    method(*small_case())  # compile outside the timing
    baseline = rss_mb()
    reset_peak_rss()
    start = time.perf_counter()
    alpha = method(image, trimap)
    seconds = time.perf_counter() - start
    peak = peak_rss_mb() - baseline
    np.save(arguments.save, alpha.astype(np.float32))
    row = {
        "case": arguments.case,
        "variant": arguments.variant,
        "megapixels": round(image.shape[0] * image.shape[1] / 1e6, 2),
        "unknown": unknown_count(trimap),
        "seconds": seconds,
        "peak_mb": peak,
        "estimate_mb": _estimate_mb(
            arguments.variant, trimap, arguments.tile_size, arguments.tile_overlap
        ),
        **errors(alpha, truth, trimap, all_four=False),
    }
    print(json.dumps(row))


def _run(variant, case, megapixels, arguments, save: Path) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--variant",
        variant,
        "--case",
        case,
        "--megapixels",
        str(megapixels),
        "--data",
        str(arguments.data),
        "--tile-size",
        str(arguments.tile_size),
        "--tile-overlap",
        str(arguments.tile_overlap),
        "--save",
        str(save),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


TABLE = Table(
    [
        ("case", 11, "<"),
        ("MP", 6, ".1f"),
        ("unknown", 9, "d"),
        ("variant", 10, ""),
        ("|", 0, ""),
        ("s", 8, ".1f"),
        ("/pm", 6, ".2f"),
        ("|", 0, ""),
        ("peak MB", 8, ".0f"),
        ("est MB", 8, ".0f"),
        ("/pm", 6, ".2f"),
        ("|", 0, ""),
        ("SAD", 9, ".2f"),
        ("MSE", 9, ".5f"),
        ("|exact|", 9, ".5f"),
    ]
)


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    styles = {"donkey": "-", "plasticbag": "--", "elephant": ":", "pineapple": "-."}
    for variant, colour in zip(VARIANTS, ("C0", "C1", "C2", "C3")):
        for case in sorted({row["case"] for row in rows}):
            points = sorted(
                (row["megapixels"], row["seconds"], row["peak_mb"])
                for row in rows
                if row["variant"] == variant and row["case"] == case
            )
            if not points:
                continue
            mp, seconds, peak = zip(*points)
            label = f"{variant} ({case})"
            axes[0].plot(mp, seconds, styles.get(case, "-"), color=colour, marker="o", label=label)
            axes[1].plot(mp, np.array(peak) / 1024, styles.get(case, "-"), color=colour, marker="o")
    axes[0].set(xlabel="megapixels", ylabel="seconds", title="closed-form: time")
    axes[1].set(xlabel="megapixels", ylabel="peak GB added", title="closed-form: memory")
    axes[0].legend(fontsize=7)
    for axis in axes:
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser, sizes="1,2,4,8,16")
    parser.set_defaults(cases="donkey,plasticbag")
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated (default: %(default)s)"
    )
    parser.add_argument("--tile-size", type=int, default=1024, help="tiled variant's tile_size")
    parser.add_argument("--tile-overlap", type=int, default=64, help="tiled variant's overlap")
    parser.add_argument(
        "--pymatting-max-gb",
        type=float,
        default=5.0,
        help="skip pymatting where its predicted peak memory exceeds this (default: %(default)s)",
    )
    add_worker_arguments(parser)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        _worker(arguments)
        return

    variants = arguments.variants.split(",")
    rows = []
    TABLE.header()
    with tempfile.TemporaryDirectory() as folder:
        for case in arguments.cases.split(","):
            for megapixels in (float(size) for size in arguments.sizes.split(",")):
                _, trimap, _ = load_case(arguments.data, case, megapixels)
                unknown = unknown_count(trimap)
                saved = {variant: Path(folder) / f"{variant}.npy" for variant in variants}
                results = {}
                for variant in variants:
                    if variant == "pymatting":
                        predicted = _estimate_mb("pymatting", trimap, 0, 0) / 1024
                        if predicted > arguments.pymatting_max_gb:
                            print(f"  (pymatting skipped: predicted {predicted:.1f} GB)")
                            continue
                    if variant == "tiled" and max(trimap.shape) <= arguments.tile_size:
                        continue  # one tile: the exact solve
                    results[variant] = _run(variant, case, megapixels, arguments, saved[variant])
                exact = np.load(saved["exact"]) if "exact" in results else None
                unknown_mask = (trimap > 0) & (trimap < 1)
                theirs = results.get("pymatting", {})
                for variant, row in results.items():
                    difference = float("nan")
                    if exact is not None:
                        alpha = np.load(saved[variant])
                        difference = float(np.abs(alpha - exact)[unknown_mask].mean())
                    row["mean_difference_to_exact"] = difference
                    rows.append(row)
                    TABLE.row(
                        case,
                        row["megapixels"],
                        unknown,
                        variant,
                        row["seconds"],
                        ratio(row["seconds"], theirs.get("seconds", float("nan"))),
                        row["peak_mb"],
                        row["estimate_mb"],
                        ratio(row["peak_mb"], theirs.get("peak_mb", float("nan"))),
                        row["sad"],
                        row["mse"],
                        difference,
                    )
    write_csv(rows, arguments.out / "large_images.csv")
    _plot(rows, arguments.out / "large_images.png")


if __name__ == "__main__":
    main()
