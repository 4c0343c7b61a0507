import numpy as np
import pytest

from matting.datasets import SAMPLE_SHAPE, load_sample, synthetic_composite


@pytest.fixture(scope="module")
def case():
    return synthetic_composite((80, 100), seed=3)


def test_image_is_the_exact_composite(case):
    weight = case.alpha[..., None]
    expected = weight * case.foreground + (1 - weight) * case.background
    np.testing.assert_array_equal(case.image, expected)
    assert case.image.min() >= 0 and case.image.max() <= 1


def test_alpha_is_non_trivial(case):
    soft = (case.alpha > 0) & (case.alpha < 1)
    assert soft.sum() > 0.02 * case.alpha.size
    assert (case.alpha == 1).sum() > 0.05 * case.alpha.size
    assert (case.alpha == 0).sum() > 0.3 * case.alpha.size
    # Thin strands give isolated partial pixels with low coverage; glass gives mid values.
    assert ((case.alpha > 0) & (case.alpha < 0.3)).sum() > 50
    assert ((case.alpha > 0.3) & (case.alpha < 0.7)).sum() > 50


def test_trimap_is_consistent_with_alpha(case):
    assert np.all(case.alpha[case.trimap == 1] == 1)
    assert np.all(case.alpha[case.trimap == 0] == 0)
    soft = (case.alpha > 0) & (case.alpha < 1)
    assert np.all(case.trimap[soft] == 0.5)


def test_generator_is_deterministic_and_seeded():
    first = synthetic_composite((40, 50), seed=7)
    again = synthetic_composite((40, 50), seed=7)
    other = synthetic_composite((40, 50), seed=8)
    np.testing.assert_array_equal(first.image, again.image)
    np.testing.assert_array_equal(first.trimap, again.trimap)
    assert not np.array_equal(first.alpha, other.alpha)


def test_generator_accepts_arrays_and_checks_arguments():
    background = np.full((10, 10, 3), 0.25)
    case = synthetic_composite((30, 40), background=background)
    np.testing.assert_allclose(case.background, 0.25)
    with pytest.raises(ValueError, match="background must be one of"):
        synthetic_composite((30, 40), background="nonexistent")
    with pytest.raises(ValueError, match="at least"):
        synthetic_composite((8, 40))


def test_shipped_sample_is_the_generator_output_in_8_bits():
    image, trimap, alpha = load_sample()
    reference = synthetic_composite(SAMPLE_SHAPE, seed=0)
    assert np.abs(image - reference.image).max() <= 0.5 / 255 + 1e-12
    assert np.abs(alpha - reference.alpha).max() <= 0.5 / 255 + 1e-12
    np.testing.assert_array_equal(trimap, reference.trimap)
