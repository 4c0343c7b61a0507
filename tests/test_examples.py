"""Every example script and the notebook run, and their results are right."""

import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

import matting

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(monkeypatch, script: str, *arguments: str):
    monkeypatch.setattr(sys, "argv", [script, *arguments])
    namespace = runpy.run_path(str(EXAMPLES / script), run_name="example")
    return namespace["main"](list(arguments))


def test_basic_cutout_example(tmp_path, monkeypatch):
    _run(monkeypatch, "basic_cutout.py", "--out", str(tmp_path))
    alpha = matting.read_image(tmp_path / "alpha.png")[:, :, 0]
    _, trimap, true_alpha = matting.datasets.load_sample()
    assert matting.metrics.sad(alpha, true_alpha, trimap) < 2.5
    on_blue = matting.read_image(tmp_path / "on_blue.png")
    # Pure background pixels show the new background colour.
    blue = np.array([31, 119, 180]) / 255
    assert np.abs(on_blue[trimap == 0] - blue).max() <= 1 / 255


def test_background_replacement_example_removes_the_halo(tmp_path, monkeypatch):
    errors = _run(monkeypatch, "background_replacement.py", "--out", str(tmp_path))
    # Estimated foreground colours at least halve the error of compositing the photo itself.
    assert errors["with_foreground"] < 0.5 * errors["naive"]
    assert (tmp_path / "with_foreground.png").exists()


# A few sample pixels of colours no stroke reaches are cut off in KNN's graph; the example's
# comment says so, and the warning is tested in test_knn.py.
@pytest.mark.filterwarnings("ignore::matting.linalg.IsolatedPixelsWarning")
def test_scribbles_example_recovers_the_matte_from_strokes(tmp_path, monkeypatch):
    errors = _run(monkeypatch, "scribbles.py", "--out", str(tmp_path))
    image, _, _ = matting.datasets.load_sample()
    # A few percent of pixels scribbled; the matte is still close to the truth (a constant
    # 0.5 guess would score ~60 over the 400x300 image).
    assert errors["closed_form"] < 8 and errors["knn"] < 10
    assert matting.read_image(tmp_path / "knn.png").shape[:2] == image.shape[:2]


def test_compare_methods_example_scores_every_method(tmp_path, monkeypatch):
    table = _run(monkeypatch, "compare_methods.py", "--out", str(tmp_path))
    assert [row["method"] for row in table] == list(matting.METHODS)
    _, trimap, true_alpha = matting.datasets.load_sample()
    for row in table:
        assert row["sad"] == pytest.approx(matting.metrics.sad(row["alpha"], true_alpha, trimap))
    assert (tmp_path / "comparison.png").stat().st_size > 1000


def test_notebook_runs_top_to_bottom(monkeypatch, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    notebook = json.loads((EXAMPLES / "compare_methods.ipynb").read_text())
    assert all(not cell.get("outputs") for cell in notebook["cells"])  # committed clean
    namespace: dict = {}
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), "notebook", "exec"), namespace)  # noqa: S102
    assert [row["method"] for row in namespace["table"]] == list(matting.METHODS)
    assert set(namespace["infos"]) == {"cg", "jacobi", "ichol", "multigrid"}
    assert all(info.converged for info in namespace["infos"].values())
