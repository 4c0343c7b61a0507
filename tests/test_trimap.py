import numpy as np
import pytest

import matting
from matting.trimap import unknown_bounding_box, unknown_mask, windows_touching


def _square_mask(size=41, low=10, high=31):
    mask = np.zeros((size, size), bool)
    mask[low:high, low:high] = True
    return mask


def test_trimap_from_mask_band_has_the_requested_width():
    mask = _square_mask()
    trimap = matting.trimap_from_mask(mask, width=3)
    row = trimap[20]  # a horizontal line through the square's middle
    # Foreground pixels 10..30; the boundary lies between 9 and 10 and between 30 and 31.
    np.testing.assert_array_equal(row[:7], 0.0)
    np.testing.assert_array_equal(row[7:13], 0.5)  # 3 px outside, 3 px inside
    np.testing.assert_array_equal(row[13:28], 1.0)
    np.testing.assert_array_equal(row[28:34], 0.5)
    np.testing.assert_array_equal(row[34:], 0.0)


def test_trimap_from_mask_zero_width_is_the_mask_and_input_untouched():
    mask = _square_mask()
    before = mask.copy()
    np.testing.assert_array_equal(matting.trimap_from_mask(mask, width=0), mask.astype(float))
    np.testing.assert_array_equal(mask, before)
    as_uint8 = mask.astype(np.uint8) * 255
    np.testing.assert_array_equal(
        matting.trimap_from_mask(as_uint8, 2), matting.trimap_from_mask(mask, 2)
    )


def test_trimap_from_mask_rejects_bad_width_and_shape():
    with pytest.raises(ValueError, match="width"):
        matting.trimap_from_mask(_square_mask(), width=-1)
    with pytest.raises(ValueError, match="width must be a finite number >= 0, got None"):
        matting.trimap_from_mask(_square_mask(), width=None)
    with pytest.raises(ValueError, match="fg_threshold"):
        matting.trimap_from_probability(np.zeros((3, 3)), fg_threshold="0.9")
    with pytest.raises(ValueError, match="shape"):
        matting.trimap_from_mask(np.zeros((3, 3, 3), bool))


def test_trimap_from_probability_thresholds_and_band():
    probability = np.linspace(0, 1, 11)[np.newaxis, :].repeat(3, axis=0)
    trimap = matting.trimap_from_probability(probability)
    np.testing.assert_array_equal(trimap[0], [0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1, 1])
    widened = matting.trimap_from_probability(probability, width=1)
    np.testing.assert_array_equal(widened[0], [0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1])
    hard = (probability > 0.5).astype(float)
    np.testing.assert_array_equal(
        matting.trimap_from_probability(hard, width=2), matting.trimap_from_mask(hard > 0.5, 2)
    )
    with pytest.raises(ValueError, match="bg_threshold < fg_threshold"):
        matting.trimap_from_probability(probability, fg_threshold=0.2, bg_threshold=0.5)
    with pytest.raises(ValueError, match="probability"):
        matting.trimap_from_probability(probability * 2)


def test_scribbles_from_image_is_robust_to_blended_edges_and_noise():
    rng = np.random.default_rng(0)
    image = rng.uniform(0.2, 0.8, size=(30, 30, 3))
    scribbled = image.copy()
    scribbled[5, 3:20] = 1.0  # white stroke
    scribbled[25, 3:20] = 0.0  # black stroke
    scribbled[6, 3:20] = 0.5 * image[6, 3:20] + 0.5  # anti-aliased edge of the white stroke
    noisy = np.clip(scribbled + rng.normal(0, 0.02, scribbled.shape), 0, 1)  # JPEG-like noise
    scribbles = matting.scribbles_from_image(noisy, image)
    np.testing.assert_array_equal(scribbles[5, 3:20], 1.0)
    np.testing.assert_array_equal(scribbles[25, 3:20], 0.0)
    others = np.ones((30, 30), bool)
    others[5, 3:20] = others[25, 3:20] = False
    np.testing.assert_array_equal(scribbles[others], 0.5)


def test_scribbles_from_image_checks_inputs():
    image = np.zeros((4, 4, 3))
    with pytest.raises(ValueError, match="must match"):
        matting.scribbles_from_image(np.zeros((5, 4, 3)), image)
    with pytest.raises(ValueError, match="threshold"):
        matting.scribbles_from_image(image, image, threshold=1.5)


def test_unknown_mask_and_bounding_box():
    trimap = np.zeros((10, 12), np.uint8)
    trimap[2:4, 5:9] = 128
    trimap[6, 6] = 255
    unknown = unknown_mask(trimap)
    assert unknown.sum() == 8 and unknown[3, 8] and not unknown[6, 6]
    assert unknown_bounding_box(trimap) == (slice(2, 4), slice(5, 9))
    assert unknown_bounding_box(trimap, margin=3) == (slice(0, 7), slice(2, 12))
    for bad in (1.5, float("nan"), -1, True):  # 1.5 used to give float slices
        with pytest.raises(ValueError, match="margin"):
            unknown_bounding_box(trimap, margin=bad)
    assert unknown_bounding_box(np.zeros((3, 3))) is None


def test_windows_touching_matches_brute_force():
    rng = np.random.default_rng(1)
    # Radii up to 4 take shifted slices, larger ones scipy's maximum filter.
    for shape, radii in (((9, 11), (0, 1, 2)), ((23, 19), (3, 4, 5, 6))):
        mask = rng.random(shape) > 0.9
        height, width = shape
        for radius in radii:
            result = windows_touching(mask, radius)
            expected = np.zeros_like(mask)
            for row in range(radius, height - radius):
                for col in range(radius, width - radius):
                    window = mask[row - radius : row + radius + 1, col - radius : col + radius + 1]
                    expected[row, col] = window.any()
            np.testing.assert_array_equal(result, expected)
    # Images smaller than one window have no window at all.
    assert not windows_touching(np.ones((2, 9), bool), 1).any()


def test_trimap_from_mask_reads_integer_masks_as_nonzero():
    mask = _square_mask()
    for encoded in (mask.astype(np.uint8), mask.astype(np.uint8) * 255, mask.astype(np.int64) * 7):
        np.testing.assert_array_equal(
            matting.trimap_from_mask(encoded, 2), matting.trimap_from_mask(mask, 2)
        )
