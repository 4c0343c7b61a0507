import numpy as np
import pytest

import matting
from matting.compare import COLUMNS, compare
from matting.methods import METHODS, get_method


@pytest.fixture(scope="module")
def small():
    return matting.datasets.synthetic_composite((48, 64), seed=3)


def test_registry_lists_every_public_method_with_its_paper():
    for name, method in METHODS.items():
        assert method.name == name
        assert getattr(matting, name) is method.function
        assert method.bibtex.startswith("@") and method.bibtex.rstrip().endswith("}")
        # BibTeX braces balance, so the entry parses.
        assert method.bibtex.count("{") == method.bibtex.count("}")
        assert "20" in method.citation or "19" in method.citation
    assert {"closed_form", "knn", "bayesian"} <= set(METHODS)


def test_rows_match_running_each_method_and_scoring_it_by_hand(small):
    table = compare(
        small.image, small.trimap, ["closed_form", "knn"], gt=small.alpha, return_alpha=True
    )
    assert [row["method"] for row in table] == ["closed_form", "knn"]
    for row in table:
        assert set(COLUMNS) | {"alpha"} == set(row)
        expected = METHODS[row["method"]](small.image, small.trimap)
        np.testing.assert_allclose(row["alpha"], expected, atol=1e-9)
        assert row["sad"] == pytest.approx(matting.metrics.sad(expected, small.alpha, small.trimap))
        assert row["mse"] == pytest.approx(matting.metrics.mse(expected, small.alpha, small.trimap))
        assert row["gradient"] == pytest.approx(
            matting.metrics.gradient_error(expected, small.alpha, small.trimap)
        )
        assert row["connectivity"] == pytest.approx(
            matting.metrics.connectivity_error(expected, small.alpha, small.trimap)
        )
        assert row["seconds"] > 0


def test_without_ground_truth_errors_are_none_and_alpha_is_left_out(small):
    table = compare(small.image, small.trimap, ["closed_form"])
    assert table[0]["sad"] is None and table[0]["connectivity"] is None
    assert "alpha" not in table[0]
    text = str(table)
    assert "closed_form" in text and text.splitlines()[0].split()[0] == "method"
    assert "<table>" in table._repr_html_()


def test_shared_options_go_only_where_accepted_and_named_options_to_one_method(small):
    seen = {}

    def recorder(image, trimap, *, rtol=None, eps=None):
        seen["rtol"], seen["eps"] = rtol, eps
        return np.clip(trimap, 0, 1)

    table = compare(
        small.image,
        small.trimap,
        [recorder, "bayesian"],
        rtol=1e-5,
        recorder={"eps": 0.5},
        bayesian={"max_iterations": 3},
    )
    assert seen == {"rtol": 1e-5, "eps": 0.5}
    assert [row["method"] for row in table] == ["recorder", "bayesian"]


def test_named_options_change_the_result(small):
    loose, tight = (
        compare(
            small.image, small.trimap, ["closed_form"], return_alpha=True, closed_form={"eps": eps}
        )[0]["alpha"]
        for eps in (1e-1, 1e-7)
    )
    assert np.abs(loose - tight).max() > 1e-3


def test_bad_arguments_are_named(small):
    with pytest.raises(ValueError, match="method must be one of"):
        compare(small.image, small.trimap, ["no_such_method"])
    with pytest.raises(ValueError, match="gt"):
        compare(small.image, small.trimap, ["closed_form"], gt=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="at least one"):
        compare(small.image, small.trimap, [])
    with pytest.raises(TypeError, match="closed_form"):
        compare(small.image, small.trimap, ["closed_form"], closed_form=1e-6)
    # A misspelt option would otherwise do nothing.
    with pytest.raises(ValueError, match="no selected method accepts the option.s. rtool"):
        compare(small.image, small.trimap, ["closed_form"], rtool=1e-6)
    with pytest.raises(ValueError, match="true alpha as gt=, got ground_truth="):
        compare(small.image, small.trimap, ["closed_form"], ground_truth=small.alpha)

    def guided(image, trimap, *, truth=None):  # a method of one's own may take such a name
        return np.asarray(truth, dtype=np.float64)

    table = compare(small.image, small.trimap, [guided], gt=small.alpha, truth=small.alpha)
    assert table[0]["sad"] == 0.0


def test_one_method_may_be_given_as_a_plain_name(small):
    table = compare(small.image, small.trimap, "closed_form")
    assert [row["method"] for row in table] == ["closed_form"]


def test_get_method_accepts_names_and_callables():
    assert get_method("knn") == ("knn", matting.knn)

    def mine(image, trimap):
        return trimap

    assert get_method(mine) == ("mine", mine)


def test_return_alpha_must_be_a_switch(small):
    with pytest.raises(ValueError, match="return_alpha must be True or False"):
        compare(small.image, small.trimap, ["closed_form"], return_alpha="no")


def test_a_method_returning_a_bad_alpha_is_refused_without_gt_too(small):
    def broken(image, trimap):
        return np.full(trimap.shape, np.nan)

    def wrong_shape(image, trimap):
        return np.zeros((3, 3))

    for method in (broken, wrong_shape):
        with pytest.raises(ValueError, match="alpha"):
            compare(small.image, small.trimap, [method])
