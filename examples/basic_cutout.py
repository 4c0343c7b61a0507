"""Cut an object out of a photo with closed-form matting and put it on a new background.

    python examples/basic_cutout.py [IMAGE TRIMAP] [--out FOLDER]

Without arguments it uses the sample shipped with the package.
"""

import argparse
from pathlib import Path

import matting


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", help="photo (PNG, JPEG, ...)")
    parser.add_argument("trimap", nargs="?", help="trimap: black background, white foreground")
    parser.add_argument("--out", default="cutout-example", help="output folder")
    arguments = parser.parse_args(argv)

    if arguments.image:
        image = matting.read_image(arguments.image)
        trimap = matting.read_trimap(arguments.trimap)
    else:
        image, trimap, _ = matting.datasets.load_sample()

    alpha, foreground, _ = matting.closed_form(image, trimap, return_foreground=True)

    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    matting.save_image(out / "alpha.png", alpha, bits=16)
    matting.save_image(out / "cutout.png", matting.cutout(image, alpha, foreground))
    matting.save_image(out / "on_blue.png", matting.composite(foreground, alpha, "tab:blue"))
    print(f"wrote alpha.png, cutout.png and on_blue.png to {out}")


if __name__ == "__main__":
    main()
