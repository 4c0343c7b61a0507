import numpy as np

import matting
from matting.cli import main


def test_demo_writes_alpha_cutout_and_side_by_side(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    alpha = matting.read_image(tmp_path / "alpha.png")[:, :, 0]
    _, trimap, true_alpha = matting.datasets.load_sample()
    assert alpha.shape == true_alpha.shape
    # The written matte is closed-form's answer: known pixels exact, unknown ones near truth.
    np.testing.assert_array_equal(alpha[trimap != 0.5], trimap[trimap != 0.5])
    assert matting.metrics.sad(alpha, true_alpha, trimap) < 2.5
    from PIL import Image

    assert Image.open(tmp_path / "cutout.png").mode == "RGBA"
    assert Image.open(tmp_path / "side_by_side.png").size == (4 * alpha.shape[1], alpha.shape[0])
    assert "SAD" in capsys.readouterr().out


def test_user_mistakes_give_one_line_and_non_zero_status(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["demo", "--out", str(blocker / "sub")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("matting: error:") and error.count("\n") == 1
