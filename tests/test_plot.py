import numpy as np
import pytest
from matplotlib.figure import Figure

import matting
from matting import plot


@pytest.fixture(scope="module")
def small():
    return matting.datasets.synthetic_composite((40, 60), seed=1)


def test_comparison_grid_shows_inputs_alphas_and_error_maps(small):
    other = np.clip(small.alpha + 0.1, 0, 1)
    figure = plot.comparison(
        small.image, small.trimap, {"truth": small.alpha, "off": other}, small.alpha
    )
    assert isinstance(figure, Figure)
    axes = figure.axes
    assert len(axes) == 2 * 4
    titles = [ax.get_title() for ax in axes]
    assert titles[:4] == ["image", "trimap", "truth", "off"]
    assert titles[5] == "ground truth"
    assert titles[6].startswith("SAD 0.00")  # the true alpha has no error
    # The error map under "off" is |alpha - gt|.
    shown = axes[7].images[0].get_array()
    np.testing.assert_allclose(shown, np.abs(other - small.alpha))


def test_comparison_takes_compare_rows_and_works_without_truth(small):
    rows = matting.compare(small.image, small.trimap, ["closed_form"], return_alpha=True)
    figure = plot.comparison(small.image, small.trimap, rows)
    assert len(figure.axes) == 3
    with pytest.raises(ValueError, match="return_alpha"):
        plot.comparison(
            small.image, small.trimap, matting.compare(small.image, small.trimap, ["closed_form"])
        )
    with pytest.raises(ValueError, match="at least one"):
        plot.comparison(small.image, small.trimap, {})


def test_convergence_draws_each_residual_history(small):
    _, first = matting.closed_form(small.image, small.trimap, solver="cg", return_info=True)
    _, second = matting.closed_form(small.image, small.trimap, solver="ichol", return_info=True)
    figure = plot.convergence({"cg": first, "ichol": second}, rtol=1e-7)
    lines = figure.axes[0].get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), first.residuals)
    np.testing.assert_allclose(lines[1].get_ydata(), second.residuals)
    assert [text.get_text() for text in figure.axes[0].get_legend().get_texts()][:2] == [
        "cg",
        "ichol",
    ]
    assert len(plot.convergence(first).axes[0].get_lines()) == 1
    with pytest.raises(ValueError, match="labels"):
        plot.convergence([first, second], labels=["one"])


def test_plot_is_loaded_lazily():
    import subprocess
    import sys

    code = "import sys, matting; print('matplotlib' in sys.modules); matting.plot; print('matplotlib' in sys.modules)"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert output == ["False", "True"]
