import runpy
import sys
from pathlib import Path

import numpy as np

import matting

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_basic_cutout_example(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["basic_cutout.py", "--out", str(tmp_path)])
    runpy.run_path(str(EXAMPLES / "basic_cutout.py"), run_name="__main__")
    alpha = matting.read_image(tmp_path / "alpha.png")[:, :, 0]
    _, trimap, true_alpha = matting.datasets.load_sample()
    assert matting.metrics.sad(alpha, true_alpha, trimap) < 2.5
    on_blue = matting.read_image(tmp_path / "on_blue.png")
    # Pure background pixels show the new background colour.
    blue = np.array([31, 119, 180]) / 255
    assert np.abs(on_blue[trimap == 0] - blue).max() <= 1 / 255
