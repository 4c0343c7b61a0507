import numpy as np
import pytest

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
    assert main(["demo", "--out", str(blocker)]) == 1
    assert "is a file; the demo writes into a folder" in capsys.readouterr().err


# --- alpha, cutout, composite, compare ---------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    case = matting.datasets.synthetic_composite((40, 56), seed=2)
    matting.save_image(folder / "image.png", case.image)
    matting.save_image(folder / "trimap.png", case.trimap)
    matting.save_image(folder / "gt.png", case.alpha)
    scribbled = matting.read_image(folder / "image.png").copy()
    scribbled[18:22, 24:32] = 1.0  # a white stroke inside the foreground
    scribbled[2:4, 2:20] = 0.0  # a black stroke in the background
    matting.save_image(folder / "scribbled.png", scribbled)
    return folder


def _read_alpha(path):
    return matting.read_image(path)[:, :, 0]


def test_alpha_writes_the_methods_matte(files, capsys):
    out = files / "alpha.png"
    assert (
        main(
            [
                "alpha",
                str(files / "image.png"),
                "-t",
                str(files / "trimap.png"),
                "-m",
                "knn",
                "-p",
                "n_neighbors=5",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    image = matting.read_image(files / "image.png")
    trimap = matting.read_trimap(files / "trimap.png")
    expected = matting.knn(image, trimap, n_neighbors=5)
    np.testing.assert_allclose(_read_alpha(out), expected, atol=0.5 / 255 + 1e-9)
    assert f"wrote {out}" in capsys.readouterr().out


def test_alpha_from_scribbles_uses_the_soft_scribble_solve(files):
    out = files / "scribbled_alpha.png"
    arguments = [
        "alpha",
        str(files / "image.png"),
        "-s",
        str(files / "scribbled.png"),
        "-o",
        str(out),
    ]
    assert main(arguments) == 0
    image = matting.read_image(files / "image.png")
    scribbles = matting.scribbles_from_image(matting.read_image(files / "scribbled.png"), image)
    expected = matting.closed_form(image, scribbles=scribbles)
    np.testing.assert_allclose(_read_alpha(out), expected, atol=0.5 / 255 + 1e-9)


def test_cutout_and_composite_from_an_existing_alpha(files):
    image = matting.read_image(files / "image.png")
    alpha = _read_alpha(files / "gt.png")
    foreground = matting.estimate_foreground(image, alpha)[0]
    out = files / "cut.png"
    assert (
        main(["cutout", str(files / "image.png"), "-a", str(files / "gt.png"), "-o", str(out)]) == 0
    )
    from PIL import Image  # read with Pillow to keep the alpha channel

    rgba = np.asarray(Image.open(out), dtype=np.float64) / 255
    np.testing.assert_allclose(rgba[:, :, 3], alpha, atol=0.5 / 255 + 1e-9)
    out = files / "green.png"
    assert (
        main(
            [
                "composite",
                str(files / "image.png"),
                "-a",
                str(files / "gt.png"),
                "-b",
                "#00ff00",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    expected = matting.composite(foreground, alpha, "#00ff00")
    np.testing.assert_allclose(matting.read_image(out), expected, atol=0.5 / 255 + 1e-9)


def test_composite_scales_a_background_image_to_cover(files):
    big = np.zeros((120, 100, 3))
    big[:, :, 2] = 1.0  # blue
    matting.save_image(files / "blue.png", big)
    out = files / "on_blue.png"
    assert (
        main(
            [
                "composite",
                str(files / "image.png"),
                "-a",
                str(files / "gt.png"),
                "-b",
                str(files / "blue.png"),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    result = matting.read_image(out)
    assert result.shape == (40, 56, 3)
    background_only = _read_alpha(files / "gt.png") == 0
    np.testing.assert_allclose(
        result[background_only],
        np.broadcast_to([0.0, 0.0, 1.0], result[background_only].shape),
        atol=1 / 255,
    )


def test_compare_prints_a_table_and_writes_csv_and_figure(files, capsys):
    table, figure = files / "table.csv", files / "figure.png"
    assert (
        main(
            [
                "compare",
                str(files / "image.png"),
                "-t",
                str(files / "trimap.png"),
                "--gt",
                str(files / "gt.png"),
                "-m",
                "closed_form,bayesian",
                "--csv",
                str(table),
                "--figure",
                str(figure),
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "closed_form" in captured.out and "[2/2] bayesian" in captured.err
    import csv

    with open(table) as handle:
        rows = list(csv.DictReader(handle))
    assert [row["method"] for row in rows] == ["closed_form", "bayesian"]
    assert float(rows[0]["sad"]) > 0
    assert figure.stat().st_size > 1000


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["alpha", "{d}/missing.png", "-t", "{d}/trimap.png"], "missing.png"),
        (["alpha", "{d}/image.png", "-t", "{d}/trimap.png", "-m", "nope"], "method must be"),
        (["alpha", "{d}/image.png", "-t", "{d}/trimap.png", "-p", "bogus=1"], "no option"),
        (["alpha", "{d}/image.png", "-t", "{d}/trimap.png", "-p", "eps"], "NAME=VALUE"),
        (["alpha", "{d}/image.png", "-t", "{d}/small.png"], "must match"),
        (["alpha", "{d}/image.png", "-s", "{d}/scribbled.png", "-m", "bayesian"], "needs a trimap"),
        (["cutout", "{d}/image.png", "-a", "{d}/small.png"], "must match"),
        # A colour photo is not a matte (its red channel used to be taken for one).
        (["cutout", "{d}/image.png", "-a", "{d}/image.png"], "without an alpha channel"),
        # Words where the method expects a switch or a number ("false" used to count as true).
        (
            [
                "alpha",
                "{d}/image.png",
                "-t",
                "{d}/trimap.png",
                "-m",
                "shared_sampling",
                "-p",
                "refine=maybe",
            ],
            "must be True or False",
        ),
        (["alpha", "{d}/image.png", "-t", "{d}/trimap.png", "-p", "eps=small"], "a number"),
        # The output must not replace an input.
        (
            ["alpha", "{d}/image.png", "-t", "{d}/trimap.png", "-o", "{d}/trimap.png"],
            "is the --trimap input",
        ),
        (["alpha", "{d}/image.png", "-t", "{d}/trimap.png", "-o", "{d}/x.gif"], "losing data"),
        # Options that would be ignored, and misleading messages.
        (["cutout", "{d}/image.png", "-a", "{d}/gt.png", "-m", "knn"], "do not apply"),
        (["composite", "{d}/image.png", "-a", "{d}/gt.png", "-b", "{d}/beach.jpg"], "no such file"),
        (["alpha", "{d}", "-t", "{d}/trimap.png"], "is a folder, not an image file"),
    ],
)
def test_user_mistakes_in_every_command_give_one_line(files, capsys, arguments, message):
    matting.save_image(files / "small.png", np.repeat([[0.0], [1.0]], 10, axis=1))
    assert main([argument.format(d=files) for argument in arguments]) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("matting: error:") and message in error


def test_the_installed_command_runs(files):
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "matting",
            "alpha",
            str(files / "image.png"),
            "-t",
            str(files / "nothere.png"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "nothere.png" in result.stderr


def test_cutout_uses_the_methods_own_foreground_when_it_has_one(files):
    from PIL import Image

    out = files / "sampled_cutout.png"
    arguments = ["cutout", str(files / "image.png"), "-t", str(files / "trimap.png")]
    assert main([*arguments, "-m", "shared_sampling", "-o", str(out)]) == 0
    image = matting.read_image(files / "image.png")
    trimap = matting.read_trimap(files / "trimap.png")
    alpha, foreground, *_ = matting.shared_sampling(image, trimap, return_foreground=True)
    rgba = np.asarray(Image.open(out), dtype=np.float64) / 255
    np.testing.assert_allclose(rgba[:, :, 3], alpha, atol=0.5 / 255 + 1e-9)
    expected = matting.cutout(image, alpha, foreground)
    np.testing.assert_allclose(rgba, expected, atol=0.5 / 255 + 1e-9)


def test_true_and_false_are_booleans_in_any_case():
    from matting.cli import parse_options

    assert parse_options(["refine=false", "a=TRUE", "b=True", "c=text"]) == {
        "refine": False,
        "a": True,
        "b": True,
        "c": "text",
    }
