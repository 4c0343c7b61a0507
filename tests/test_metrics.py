"""Tests for matting.metrics: hand-computed values and brute-force loop references."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest

from matting import metrics
from matting.metrics import connectivity_error, gradient_error, mse, sad

ALL_METRICS = [sad, mse, gradient_error, connectivity_error]


# --------------------------------------------------------------------------------------------
# Brute-force references: explicit loops, written from the MATLAB code, sharing nothing with
# the implementation under test.
# --------------------------------------------------------------------------------------------


def _reference_kernel(sigma: float) -> list[list[float]]:
    """hx of gaussgradient.m, built with the same double loop as the MATLAB code."""

    def gauss(x: float) -> float:
        return math.exp(-(x**2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))

    def dgauss(x: float) -> float:
        return -x * gauss(x) / sigma**2

    halfsize = math.ceil(sigma * math.sqrt(-2 * math.log(math.sqrt(2 * math.pi) * sigma * 1e-2)))
    size = 2 * halfsize + 1
    hx = [[0.0] * size for _ in range(size)]
    for i in range(size):
        for j in range(size):
            hx[i][j] = gauss(i - halfsize) * dgauss(j - halfsize)
    norm = math.sqrt(sum(v * v for row in hx for v in row))
    return [[v / norm for v in row] for row in hx]


def _reference_conv_replicate(image: np.ndarray, kernel: list[list[float]]) -> np.ndarray:
    """imfilter(image, kernel, 'replicate', 'conv'): out(r,c) = sum h(i,j) f(r-i', c-j')."""
    height, width = image.shape
    half = len(kernel) // 2
    out = np.zeros((height, width))
    for r in range(height):
        for c in range(width):
            total = 0.0
            for i in range(len(kernel)):
                for j in range(len(kernel)):
                    rr = min(max(r - (i - half), 0), height - 1)
                    cc = min(max(c - (j - half), 0), width - 1)
                    total += kernel[i][j] * image[rr, cc]
            out[r, c] = total
    return out


def _reference_gradients(image: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    hx = _reference_kernel(sigma)
    hy = [list(row) for row in zip(*hx)]
    return _reference_conv_replicate(image, hx), _reference_conv_replicate(image, hy)


def _reference_gradient_error(alpha, gt, unknown, sigma=1.4) -> float:
    ax, ay = _reference_gradients(alpha, sigma)
    gx, gy = _reference_gradients(gt, sigma)
    total = 0.0
    for r in range(alpha.shape[0]):
        for c in range(alpha.shape[1]):
            if unknown[r, c]:
                amp_a = math.sqrt(ax[r, c] ** 2 + ay[r, c] ** 2)
                amp_g = math.sqrt(gx[r, c] ** 2 + gy[r, c] ** 2)
                total += (amp_a - amp_g) ** 2
    return total / 1000


def _reference_largest_component(mask: np.ndarray) -> np.ndarray:
    """BFS 4-connected labelling, components numbered in MATLAB's column-major scan order,
    first of the largest kept (as ``[~, max_id] = max(size_vec)``)."""
    height, width = mask.shape
    seen = np.zeros(mask.shape, dtype=bool)
    components = []
    for c in range(width):  # column-major scan, like bwconncomp
        for r in range(height):
            if mask[r, c] and not seen[r, c]:
                pixels = []
                queue = deque([(r, c)])
                seen[r, c] = True
                while queue:
                    y, x = queue.popleft()
                    pixels.append((y, x))
                    for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                        ny, nx = y + dy, x + dx
                        inside = 0 <= ny < height and 0 <= nx < width
                        if inside and mask[ny, nx] and not seen[ny, nx]:
                            seen[ny, nx] = True
                            queue.append((ny, nx))
                components.append(pixels)
    omega = np.zeros(mask.shape, dtype=bool)
    if components:
        best = components[0]
        for pixels in components[1:]:
            if len(pixels) > len(best):  # strict: the first maximum wins
                best = pixels
        for y, x in best:
            omega[y, x] = True
    return omega


def _reference_connectivity_error(alpha, gt, unknown, theta=0.15) -> float:
    thresholds = [k / 10 for k in range(11)]
    height, width = alpha.shape
    level = [[-1.0] * width for _ in range(height)]
    for i in range(1, len(thresholds)):
        both = np.zeros(alpha.shape, dtype=bool)
        for r in range(height):
            for c in range(width):
                both[r, c] = alpha[r, c] >= thresholds[i] and gt[r, c] >= thresholds[i]
        omega = _reference_largest_component(both)
        for r in range(height):
            for c in range(width):
                if level[r][c] == -1 and not omega[r, c]:
                    level[r][c] = thresholds[i - 1]
    total = 0.0
    for r in range(height):
        for c in range(width):
            lev = 1.0 if level[r][c] == -1 else level[r][c]
            d_a = alpha[r, c] - lev
            d_g = gt[r, c] - lev
            phi_a = 1 - (d_a if d_a >= theta else 0.0)
            phi_g = 1 - (d_g if d_g >= theta else 0.0)
            if unknown[r, c]:
                total += abs(phi_a - phi_g)
    return total / 1000


def _smooth_random_alpha(rng: np.random.Generator, shape, quantize: bool) -> np.ndarray:
    """Blobby mattes (so components are non-trivial) with saturated 0/1 areas; optionally on
    the 0.05 grid so that values land exactly on thresholds and on d == theta boundaries."""
    noise = rng.random((shape[0] + 4, shape[1] + 4))
    smooth = sum(
        noise[dy : dy + shape[0], dx : dx + shape[1]] for dy in range(5) for dx in range(5)
    )
    smooth = (smooth - smooth.mean()) / smooth.std() * 0.45 + 0.5
    alpha = np.clip(smooth + rng.normal(0, 0.05, shape), 0.0, 1.0)
    if quantize:
        alpha = np.round(alpha * 20) / 20
    return alpha


# --------------------------------------------------------------------------------------------
# SAD and MSE by hand
# --------------------------------------------------------------------------------------------

ALPHA_3X3 = np.array([[0.0, 0.5, 1.0], [0.25, 0.75, 1.0], [0.0, 0.0, 0.0]])
GT_3X3 = np.array([[0.0, 0.25, 1.0], [0.5, 0.5, 1.0], [0.0, 0.0, 0.5]])
# |differences| = [[0, .25, 0], [.25, .25, 0], [0, 0, .5]]


def test_sad_and_mse_by_hand_whole_image():
    assert sad(ALPHA_3X3, GT_3X3) == pytest.approx(1.25 / 1000, rel=1e-15)
    assert mse(ALPHA_3X3, GT_3X3) == pytest.approx((3 * 0.0625 + 0.25) / 9, rel=1e-15)


def test_sad_and_mse_restricted_to_unknown_pixels():
    # Unknown = the middle row only: differences .25, .25, 0.
    trimap = np.array([[0.0, 0.0, 1.0], [0.5, 0.5, 0.5], [0.0, 1.0, 1.0]])
    assert sad(ALPHA_3X3, GT_3X3, trimap) == pytest.approx(0.5 / 1000, rel=1e-15)
    assert mse(ALPHA_3X3, GT_3X3, trimap) == pytest.approx(2 * 0.0625 / 3, rel=1e-15)
    # The same trimap in the 8-bit 0/128/255 encoding.
    trimap8 = np.array([[0, 0, 255], [128, 128, 128], [0, 255, 255]], dtype=np.uint8)
    assert sad(ALPHA_3X3, GT_3X3, trimap8) == sad(ALPHA_3X3, GT_3X3, trimap)
    assert mse(ALPHA_3X3, GT_3X3, trimap8) == mse(ALPHA_3X3, GT_3X3, trimap)


def test_integer_mattes_are_scaled():
    alpha8 = np.array([[255, 0], [51, 102]], dtype=np.uint8)
    gt8 = np.zeros((2, 2), dtype=np.uint8)
    # 51/255 = 0.2 and 102/255 = 0.4.
    assert sad(alpha8, gt8) == pytest.approx((1 + 0.2 + 0.4) / 1000, rel=1e-14)
    assert mse(alpha8, gt8) == pytest.approx((1 + 0.04 + 0.16) / 4, rel=1e-14)
    alpha16 = (alpha8.astype(np.uint16) * 257).astype(np.uint16)  # 255 * 257 = 65535
    assert sad(alpha16, gt8) == pytest.approx(sad(alpha8, gt8), rel=1e-14)
    assert mse(alpha16, gt8.astype(np.uint16)) == pytest.approx(mse(alpha8, gt8), rel=1e-14)
    # Mixed encodings of the same matte agree with floats.
    assert sad(alpha8, np.zeros((2, 2))) == sad(alpha8, gt8)


def test_constant_offset_gives_analytic_values():
    rng = np.random.default_rng(3)
    gt = rng.random((14, 11)) * 0.75
    alpha = gt + 0.25
    trimap = np.full(gt.shape, 0.5)
    trimap[:3] = 0.0
    count = int(np.count_nonzero(trimap == 0.5))
    assert sad(alpha, gt, trimap) == pytest.approx(0.25 * count / 1000, rel=1e-12)
    assert mse(alpha, gt, trimap) == pytest.approx(0.0625, rel=1e-12)
    # The kernel's rows sum to zero, so a constant offset does not change any gradient.
    assert gradient_error(alpha, gt, trimap) == pytest.approx(0.0, abs=1e-20)


# --------------------------------------------------------------------------------------------
# Gradient error
# --------------------------------------------------------------------------------------------


def test_gradient_kernel_size_norm_and_values():
    hx = metrics._gaussian_gradient_kernel(1.4)
    assert hx.shape == (9, 9)  # half size ceil(1.4 * sqrt(-2 log(sqrt(2 pi) 1.4e-2))) = 4
    assert np.sqrt(np.sum(hx**2)) == pytest.approx(1.0, rel=1e-14)
    np.testing.assert_allclose(hx, np.array(_reference_kernel(1.4)), rtol=1e-13, atol=1e-16)
    # dgauss(-x) = -dgauss(x): each row sums to zero and the kernel is odd along columns.
    np.testing.assert_array_equal(hx[:, ::-1], -hx)
    # A larger sigma needs a larger kernel (the truncation rule is not hard-coded):
    # ceil(3 * sqrt(-2 log(sqrt(2 pi) 0.03))) = ceil(6.83) = 7.
    assert metrics._gaussian_gradient_kernel(3.0).shape == (15, 15)
    np.testing.assert_allclose(
        metrics._gaussian_gradient_kernel(3.0), np.array(_reference_kernel(3.0)), atol=1e-15
    )


def test_gradient_filters_match_loop_convolution_with_replicate_borders():
    rng = np.random.default_rng(7)
    image = _smooth_random_alpha(rng, (12, 15), quantize=False)
    gx, gy = metrics._gaussian_gradient(image, 1.4)
    ref_x, ref_y = _reference_gradients(image, 1.4)
    np.testing.assert_allclose(gx, ref_x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(gy, ref_y, rtol=0, atol=1e-12)


def test_gradient_sign_is_that_of_matlab_conv():
    # With 'conv' (kernel flipped) and dgauss(x) = -x g(x) / sigma^2, a ramp increasing to
    # the right has a positive gx; plain correlation would give a negative one.
    ramp = np.tile(np.linspace(0.0, 1.0, 15), (12, 1))
    gx, gy = metrics._gaussian_gradient(ramp, 1.4)
    assert gx[6, 7] > 0
    assert gy[6, 7] == pytest.approx(0.0, abs=1e-15)
    _, gy_t = metrics._gaussian_gradient(np.ascontiguousarray(ramp.T), 1.4)
    assert gy_t[7, 6] > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_error_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    gt = _smooth_random_alpha(rng, (12, 15), quantize=False)
    alpha = _smooth_random_alpha(rng, (12, 15), quantize=False)
    unknown = rng.random(gt.shape) < 0.6
    trimap = np.where(unknown, 0.5, np.where(gt > 0.5, 1.0, 0.0))
    expected = _reference_gradient_error(alpha, gt, unknown)
    assert expected > 1e-4  # the comparison is not vacuous
    assert gradient_error(alpha, gt, trimap) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    everywhere = np.ones(gt.shape, dtype=bool)
    assert gradient_error(alpha, gt) == pytest.approx(
        _reference_gradient_error(alpha, gt, everywhere), rel=1e-12
    )


def test_gradient_error_uses_known_pixels_outside_the_unknown_region():
    # Gradients are computed on the whole image before masking: a step just outside the
    # unknown band still shows up inside it.
    gt = np.zeros((10, 10))
    alpha = gt.copy()
    alpha[:, :3] = 1.0
    trimap = np.zeros((10, 10))
    trimap[:, 4:7] = 0.5
    assert sad(alpha, gt, trimap) == 0.0
    assert gradient_error(alpha, gt, trimap) > 0.0


def test_gradient_sigma_is_used_and_checked():
    rng = np.random.default_rng(11)
    gt = _smooth_random_alpha(rng, (12, 15), quantize=False)
    alpha = _smooth_random_alpha(rng, (12, 15), quantize=False)
    everywhere = np.ones(gt.shape, dtype=bool)
    assert gradient_error(alpha, gt, sigma=2.0) == pytest.approx(
        _reference_gradient_error(alpha, gt, everywhere, sigma=2.0), rel=1e-12
    )
    assert gradient_error(alpha, gt, sigma=2.0) != gradient_error(alpha, gt)
    # 0.02 used to give an all-zero (NaN-normalised) kernel and an error of 0.
    for bad in (0.0, 0.02, -1.0, 50.0, float("nan"), None, True, "1.4"):
        with pytest.raises(ValueError, match="sigma"):
            gradient_error(alpha, gt, sigma=bad)
    assert gradient_error(alpha, gt, sigma=0.1) > 0


# --------------------------------------------------------------------------------------------
# Connectivity error
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("quantize", [False, True])
def test_connectivity_error_matches_brute_force(seed, quantize):
    rng = np.random.default_rng(100 + seed)
    gt = _smooth_random_alpha(rng, (12, 15), quantize)
    alpha = _smooth_random_alpha(rng, (12, 15), quantize)
    unknown = rng.random(gt.shape) < 0.6
    trimap = np.where(unknown, 0.5, np.where(gt > 0.5, 1.0, 0.0))
    expected = _reference_connectivity_error(alpha, gt, unknown)
    assert expected > 1e-4  # the comparison is not vacuous
    assert connectivity_error(alpha, gt, trimap) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    everywhere = np.ones(gt.shape, dtype=bool)
    assert connectivity_error(alpha, gt) == pytest.approx(
        _reference_connectivity_error(alpha, gt, everywhere), rel=1e-12
    )


def test_connectivity_penalises_a_disconnected_blob_but_not_a_connected_one():
    gt = np.zeros((12, 12))
    gt[2:7, 2:7] = 1.0  # the object
    gt[2:7, 7:9] = 0.5  # a half-transparent region attached to it
    gt[10:12, 10:12] = 0.5  # a half-transparent island, smaller than the object
    alpha = gt.copy()
    # The same over-estimate (0.5 -> 0.6) on the attached region and on the island.
    alpha[2:7, 7:9] = 0.6
    alpha[10:12, 10:12] = 0.6
    # Attached region: connected up to t = 0.5, so level 0.5; alpha - level = 0.1 < theta and
    # gt - level = 0: no penalty. Island: never in the largest component, level 0; phi = 0.4
    # for alpha and 0.5 for gt: penalty 0.1 on each of its 4 pixels.
    assert connectivity_error(alpha, gt) == pytest.approx(4 * 0.1 / 1000, rel=1e-12)
    only_attached = np.zeros_like(gt)
    only_attached[2:7, 7:9] = 0.5
    assert connectivity_error(alpha, gt, only_attached) == pytest.approx(0.0, abs=1e-15)
    only_island = np.zeros_like(gt)
    only_island[10:12, 10:12] = 0.5
    assert connectivity_error(alpha, gt, only_island) == pytest.approx(0.4 / 1000, rel=1e-12)
    # SAD cannot tell the two regions apart.
    assert sad(alpha, gt, only_attached) == pytest.approx(
        sad(alpha, gt, only_island) * 10 / 4, rel=1e-12
    )


def test_connectivity_opaque_island_costs_one_per_pixel():
    gt = np.zeros((8, 8))
    gt[2:5, 2:5] = 1.0
    alpha = gt.copy()
    alpha[7, 7] = 1.0
    alpha[0, 7] = 1.0
    assert connectivity_error(alpha, gt) == pytest.approx(2 / 1000, rel=1e-15)


def test_largest_component_ties_are_broken_in_matlab_column_major_order():
    # Two equal 2x2 components: A at the top right (first in row-major order), B at the
    # bottom left (first in MATLAB's column-major order, so bwconncomp + max keep B).
    mask = np.zeros((6, 6), dtype=bool)
    mask[0:2, 4:6] = True  # A
    mask[4:6, 0:2] = True  # B
    expected = np.zeros((6, 6), dtype=bool)
    expected[4:6, 0:2] = True
    np.testing.assert_array_equal(metrics._largest_component(mask), expected)
    np.testing.assert_array_equal(_reference_largest_component(mask), expected)
    # A strictly larger component wins wherever it is.
    mask[0, 3] = True
    np.testing.assert_array_equal(metrics._largest_component(mask), mask & ~expected)
    # No component at all: empty.
    assert not metrics._largest_component(np.zeros((3, 3), dtype=bool)).any()


def test_connectivity_tie_break_changes_the_error_like_matlab():
    # Equal-size components with different values: which one is kept decides the error.
    gt = np.zeros((6, 6))
    gt[0:2, 4:6] = 0.5  # A, first in row-major order
    gt[4:6, 0:2] = 0.5  # B, first in column-major order (kept by MATLAB)
    alpha = gt.copy()
    alpha[0:2, 4:6] = 0.9  # over-estimate on A only
    # A and B tie for t <= 0.5. B kept (MATLAB): A's level is 0, d_alpha = 0.9 -> phi 0.1,
    # d_gt = 0.5 -> phi 0.5, error 0.4 on each of A's 4 pixels. A kept (row-major order): A's
    # level is 0.5, d_alpha = 0.4 < theta -> phi 1 = phi_gt, and B's d = 0.5 is equal for both
    # mattes, so the error would be 0.
    assert connectivity_error(alpha, gt, theta=0.45) == pytest.approx(4 * 0.4 / 1000, rel=1e-12)


def test_connectivity_options_are_checked():
    gt = np.zeros((4, 4))
    for bad in (0.0, -0.1, 1.5, float("nan"), 1e-300, None):  # 1e-300: 1e300 thresholds
        with pytest.raises(ValueError, match="step"):
            connectivity_error(gt, gt, step=bad)
    # Options are checked as every method's are: numbers only (not True, not "0.1").
    for bad in (float("inf"), -0.1, True, "0.15", None):
        with pytest.raises(ValueError, match="theta"):
            connectivity_error(gt, gt, theta=bad)
    for bad in (True, "0.1"):
        with pytest.raises(ValueError, match="step"):
            connectivity_error(gt, gt, step=bad)
    assert connectivity_error(gt, gt, theta=0) == 0.0


def test_thresholds_are_exact_decimals():
    np.testing.assert_array_equal(metrics._thresholds(0.1), np.arange(11) / 10)
    np.testing.assert_array_equal(metrics._thresholds(0.25), [0.0, 0.25, 0.5, 0.75, 1.0])
    assert metrics._thresholds(1.0).tolist() == [0.0, 1.0]


def test_alpha_exactly_on_a_threshold_counts_as_reaching_it():
    gt = np.zeros((5, 5))
    gt[1:4, 1:4] = 0.3
    alpha = gt.copy()
    alpha[2, 2] = 0.5
    # 0.3 reaches the threshold 0.3 but not 0.4, so the block's level is 0.3 and only the
    # centre is penalised: d_alpha = 0.2 -> phi 0.8, d_gt = 0 -> phi 1, error 0.2. With the
    # threshold 3 * 0.1 = 0.30000000000000004 the level would be 0.2 and the error 0.3.
    assert connectivity_error(alpha, gt) == pytest.approx(0.2 / 1000, rel=1e-12)


# --------------------------------------------------------------------------------------------
# Common behaviour
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_identical_mattes_score_zero(metric):
    rng = np.random.default_rng(5)
    gt = _smooth_random_alpha(rng, (12, 15), quantize=False)
    trimap = np.where(rng.random(gt.shape) < 0.5, 0.5, 1.0)
    assert metric(gt, gt.copy()) == 0.0
    assert metric(gt, gt.copy(), trimap) == 0.0


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_empty_unknown_region_scores_zero(metric):
    rng = np.random.default_rng(6)
    gt = rng.random((6, 7))
    alpha = rng.random((6, 7))
    trimap = np.where(gt > 0.5, 255, 0).astype(np.uint8)  # no unknown pixel
    assert metric(alpha, gt) > 0.0  # the mattes do differ
    result = metric(alpha, gt, trimap)
    assert result == 0.0
    assert isinstance(result, float)


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_returns_python_float(metric):
    rng = np.random.default_rng(8)
    result = metric(rng.random((5, 5)), rng.random((5, 5)))
    assert type(result) is float


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_shape_mismatch_names_both_shapes(metric):
    with pytest.raises(ValueError, match=r"alpha.*\(4, 5\).*gt.*\(4, 6\)|gt.*\(4, 6\).*\(4, 5\)"):
        metric(np.zeros((4, 5)), np.zeros((4, 6)))
    with pytest.raises(ValueError, match=r"trimap.*\(5, 5\).*\(4, 5\)"):
        metric(np.zeros((4, 5)), np.zeros((4, 5)), np.full((5, 5), 0.5))


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_nan_and_out_of_range_are_rejected(metric):
    good = np.zeros((4, 4))
    bad = good.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        metric(bad, good)
    with pytest.raises(ValueError, match="NaN"):
        metric(good, bad)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metric(good + 2.0, good)


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_inputs_are_not_modified(metric):
    rng = np.random.default_rng(9)
    alpha = rng.random((8, 9))
    gt = rng.random((8, 9))
    trimap = np.where(rng.random((8, 9)) < 0.5, 128, 255).astype(np.uint8)
    copies = [alpha.copy(), gt.copy(), trimap.copy()]
    for array in (alpha, gt, trimap):
        array.setflags(write=False)  # any attempt to write in place would raise
    metric(alpha, gt, trimap)
    for array, copy in zip((alpha, gt, trimap), copies):
        np.testing.assert_array_equal(array, copy)


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_accepts_hxwx1_and_lists(metric):
    rng = np.random.default_rng(10)
    alpha = rng.random((6, 6))
    gt = rng.random((6, 6))
    assert metric(alpha[:, :, None], gt.tolist()) == metric(alpha, gt)


def test_gradient_error_stretches_mattes_like_mat2gray():
    # The DIM code applies mat2gray before filtering, so a matte that is a scaled copy of the
    # truth has no gradient error, while a matte with a different shape does.
    gt = np.tile(np.linspace(0, 1, 20), (20, 1))
    assert gradient_error(0.2 + 0.5 * gt, gt) == pytest.approx(0.0, abs=1e-15)
    assert gradient_error(gt**2, gt) > 1e-4
