"""Matting from a few strokes instead of a trimap.

    python examples/scribbles.py [IMAGE SCRIBBLED] [--out FOLDER]

``SCRIBBLED`` is the photo with white strokes painted on the foreground and black strokes on
the background (any paint program will do). ``matting.scribbles_from_image`` turns it into a
constraint map, and the methods made for sparse input (closed-form with soft constraints,
KNN) spread those few values over the image. Without arguments the example paints strokes on
the shipped sample itself.
"""

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage

import matting


def paint_strokes(image: np.ndarray, trimap: np.ndarray, spacing: int = 30) -> np.ndarray:
    """The image with 3-pixel-wide horizontal strokes, white well inside the known
    foreground and black well inside the known background, one every ``spacing`` rows."""
    scribbled = image.copy()
    inside_foreground = ndimage.binary_erosion(trimap == 1, iterations=8)
    inside_background = ndimage.binary_erosion(trimap == 0, iterations=8)
    rows = np.zeros(trimap.shape, dtype=bool)
    for row in range(spacing // 2, trimap.shape[0], spacing):
        rows[row - 1 : row + 2] = True
    scribbled[rows & inside_foreground] = 1.0
    scribbled[rows & inside_background] = 0.0
    return scribbled


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", help="photo (PNG, JPEG, ...)")
    parser.add_argument("scribbled", nargs="?", help="the photo with strokes painted on it")
    parser.add_argument("--out", default="scribbles-example", help="output folder")
    arguments = parser.parse_args(argv)

    true_alpha = trimap = None
    if arguments.image:
        image = matting.read_image(arguments.image)
        scribbled = matting.read_image(arguments.scribbled)
    else:
        image, trimap, true_alpha = matting.datasets.load_sample()
        scribbled = paint_strokes(image, trimap)

    scribbles = matting.scribbles_from_image(scribbled, image)
    known = np.count_nonzero((scribbles == 0) | (scribbles == 1))
    print(f"{known} scribbled pixels ({100 * known / scribbles.size:.1f}% of the image)")

    # KNN's graph may leave a few pixels of colours no stroke reaches linked to no scribble:
    # it then warns (IsolatedPixelsWarning) and sets them to 0.
    results = {
        "closed_form": matting.closed_form(image, scribbles=scribbles),
        "knn": matting.knn(image, scribbles),
    }
    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    matting.save_image(out / "scribbled.png", scribbled)
    errors = {}
    for name, alpha in results.items():
        matting.save_image(out / f"{name}.png", alpha)
        if true_alpha is not None:
            # Scored over the whole image: with scribbles, everything unscribbled was unknown.
            errors[name] = matting.metrics.sad(alpha, true_alpha)
            print(f"{name:>12}: SAD over the whole image {errors[name]:.2f}")
    print(f"wrote scribbled.png and one alpha per method to {out}")
    return errors


if __name__ == "__main__":
    main()
