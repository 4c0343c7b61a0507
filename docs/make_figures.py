"""Draw the figures of the documentation: each method on the shipped sample.

    python docs/make_figures.py [--methods a,b]

Writes docs/figures/<method>.png (input, trimap, alpha, ground truth and error map) and
docs/figures/comparison.png (all methods side by side), and the spectral matting components
(docs/figures/spectral_components.png). Rerun it when a method changes.
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matting

FIGURES = Path(__file__).resolve().parent / "figures"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", help="comma-separated names (default: all registered)")
    arguments = parser.parse_args()
    names = arguments.methods.split(",") if arguments.methods else list(matting.METHODS)

    image, trimap, true_alpha = matting.datasets.load_sample()
    table = matting.compare(image, trimap, names, gt=true_alpha, return_alpha=True)
    FIGURES.mkdir(exist_ok=True)
    for row in table:
        figure = matting.plot.comparison(image, trimap, [row], true_alpha, panel_size=2.2)
        figure.savefig(FIGURES / f"{row['method']}.png", dpi=72)
        print(f"{row['method']}: SAD {row['sad']:.2f}, wrote {FIGURES / row['method']}.png")
    if "spectral" in names:
        from matting.methods.spectral import spectral_components

        figure = matting.plot.components(spectral_components(image), image=image, columns=6)
        figure.savefig(FIGURES / "spectral_components.png", dpi=60)
    if arguments.methods is None:
        figure = matting.plot.comparison(image, trimap, table, true_alpha, panel_size=2.0)
        figure.savefig(FIGURES / "comparison.png", dpi=72)


if __name__ == "__main__":
    main()
