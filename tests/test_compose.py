import numpy as np
import pytest

import matting


def test_composite_follows_the_compositing_equation():
    rng = np.random.default_rng(0)
    foreground, background = rng.random((2, 5, 6, 3))
    alpha = rng.random((5, 6))
    result = matting.composite(foreground, alpha, background)
    expected = alpha[..., None] * foreground + (1 - alpha[..., None]) * background
    np.testing.assert_allclose(result, expected, atol=1e-15)


def test_composite_over_a_colour():
    foreground = np.zeros((2, 2, 3))
    alpha = np.array([[0, 0.25], [1, 0.5]])
    result = matting.composite(foreground, alpha, "red")
    np.testing.assert_allclose(result[..., 0], 1 - alpha)
    np.testing.assert_array_equal(result[..., 1:], 0)
    np.testing.assert_allclose(matting.composite(foreground, alpha, (0, 0, 1))[..., 2], 1 - alpha)
    np.testing.assert_allclose(matting.composite(foreground, alpha, 1.0)[..., 1], 1 - alpha)


def test_composite_checks_shapes():
    with pytest.raises(ValueError, match="background has shape"):
        matting.composite(np.zeros((4, 4, 3)), np.zeros((4, 4)), np.zeros((5, 4, 3)))
    with pytest.raises(ValueError, match="alpha has shape"):
        matting.composite(np.zeros((4, 4, 3)), np.zeros((4, 5)), "white")


def test_cutout_with_given_foreground_is_straight_rgba():
    rng = np.random.default_rng(1)
    image, foreground = rng.random((2, 4, 5, 3))
    alpha = rng.random((4, 5))
    rgba = matting.cutout(image, alpha, foreground)
    assert rgba.shape == (4, 5, 4)
    np.testing.assert_array_equal(rgba[..., :3], foreground)
    np.testing.assert_array_equal(rgba[..., 3], alpha)
    with pytest.raises(ValueError, match="foreground has shape"):
        matting.cutout(image, alpha, np.zeros((3, 5, 3)))
