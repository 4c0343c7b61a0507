"""Run every registered method on one image, time and score them, and draw them side by side.

    python examples/compare_methods.py [IMAGE TRIMAP [TRUE_ALPHA]] [--out FOLDER]

Without arguments the example uses the shipped sample, whose true alpha is known, so the
table has the four standard errors (SAD, MSE, gradient, connectivity) as well as times.
"""

import argparse
from pathlib import Path

import matting


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", help="photo (PNG, JPEG, ...)")
    parser.add_argument("trimap", nargs="?", help="trimap: black background, white foreground")
    parser.add_argument("true_alpha", nargs="?", help="ground-truth alpha, if you have one")
    parser.add_argument("--methods", help="comma-separated names (default: all)")
    parser.add_argument("--out", default="compare-example", help="output folder")
    arguments = parser.parse_args(argv)

    if arguments.image:
        image = matting.read_image(arguments.image)
        trimap = matting.read_trimap(arguments.trimap)
        true_alpha = arguments.true_alpha and matting.read_image(arguments.true_alpha)[:, :, 0]
    else:
        image, trimap, true_alpha = matting.datasets.load_sample()
    methods = arguments.methods.split(",") if arguments.methods else list(matting.METHODS)

    table = matting.compare(image, trimap, methods, gt=true_alpha, return_alpha=True)
    print(table)
    for row in table:
        print(f"{row['method']:>16}: {matting.METHODS[row['method']].citation}")

    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    figure = matting.plot.comparison(image, trimap, table, true_alpha)
    figure.savefig(out / "comparison.png", dpi=100)
    print(f"wrote {out / 'comparison.png'}")
    return table


if __name__ == "__main__":
    main()
