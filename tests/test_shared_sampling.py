import itertools
import math

import numpy as np
import pytest

from matting.datasets import synthetic_composite
from matting.linalg import SolveInfo
from matting.methods import shared_sampling as module
from matting.methods.shared_sampling import shared_sampling
from matting.metrics import mse, sad

# ---------------------------------------------------------------------------------------------
# Straightforward references, written from the paper's definitions, for tiny inputs.
# ---------------------------------------------------------------------------------------------


def _project(colour, fg, bg):
    """Alpha (clamped) and squared distortion of ``colour`` for the pair (fg, bg)."""
    direction = fg - bg
    length_sq = direction @ direction
    alpha = 0.5 if length_sq < 1e-12 else np.clip((colour - bg) @ direction / length_sq, 0, 1)
    residual = colour - bg - alpha * direction
    return alpha, residual @ residual


def _reference_rays(image, labels, row, col, n_rays):
    """Walk every ray pixel by pixel: first F / B hit and the energy up to it."""
    height, width = labels.shape
    turn = (3 * (row % 3) + col % 3) / 9
    result = []
    for ray in range(n_rays):
        angle = 2 * math.pi * (ray + turn) / n_rays
        row_step, col_step = math.sin(angle), math.cos(angle)
        major = max(abs(row_step), abs(col_step))
        row_step, col_step, step_length = row_step / major, col_step / major, 1 / major
        hits = {1: (-1, math.inf), 0: (-1, math.inf)}
        energy, previous, t = 0.0, image[row, col], 1
        while True:
            r = math.floor(row + t * row_step + 0.5)
            c = math.floor(col + t * col_step + 0.5)
            if not (0 <= r < height and 0 <= c < width):
                break
            energy += np.sum((image[r, c] - previous) ** 2) / step_length
            previous = image[r, c]
            label = int(labels[r, c])
            if label in hits and hits[label][0] < 0:
                hits[label] = (r * width + c, energy)
            if hits[0][0] >= 0 and hits[1][0] >= 0:
                break
            t += 1
        result.append(hits)
    return result


def _reference_cost(image, row, col, fg, bg, fg_energy, bg_energy):
    """g_p = N^3 A^2 D(f) D(b)^4 for one pair (flat indices fg, bg)."""
    height, width, _ = image.shape
    flat = image.reshape(-1, 3)
    colour = image[row, col]
    total = fg_energy + bg_energy
    fg_probability = bg_energy / total if total > 0 else 0.5
    alpha, _ = _project(colour, flat[fg], flat[bg])
    affinity = fg_probability + (1 - 2 * fg_probability) * alpha
    distortion = sum(
        _project(image[r, c], flat[fg], flat[bg])[1]
        for r in range(max(row - 1, 0), min(row + 2, height))
        for c in range(max(col - 1, 0), min(col + 2, width))
    )
    fg_distance = math.hypot(fg // width - row, fg % width - col)
    bg_distance = math.hypot(bg // width - row, bg % width - col)
    return distortion**3 * affinity**2 * fg_distance * bg_distance**4


def _window_variance(image, flat_index, radius=2):
    _height, width, _ = image.shape
    row, col = divmod(flat_index, width)
    window = image[
        max(row - radius, 0) : row + radius + 1, max(col - radius, 0) : col + radius + 1
    ].reshape(-1, 3)
    return np.mean(np.sum((window - window.mean(axis=0)) ** 2, axis=1))


def _random_case(shape, seed, known_fraction=0.15):
    rng = np.random.default_rng(seed)
    image = rng.random(shape + (3,))
    labels = np.full(shape, -1, dtype=np.int8)
    known = rng.random(shape) < known_fraction
    labels[known] = (rng.random(shape) < 0.5)[known]
    return image, labels


# ---------------------------------------------------------------------------------------------
# Step 1: expansion.
# ---------------------------------------------------------------------------------------------


def test_expansion_labels_by_distance_and_colour():
    red, blue, gray = (1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.5, 0.5, 0.5)
    image = np.zeros((3, 8, 3))
    image[:, :] = gray
    trimap = np.full((3, 8), 0.5)
    trimap[1, 0], image[1, 0] = 1.0, red
    trimap[1, 7], image[1, 7] = 0.0, blue
    image[1, 1] = (1.0, 0.01, 0.0)  # 1 px from the red pixel, colour distance 0.01
    image[1, 3] = red  # 3 px away
    image[0, 0] = (1.0, 0.03, 0.0)  # next to red but colour distance 0.03 > 5/256
    image[1, 6] = (0.0, 0.0, 0.99)  # next to blue
    expanded = module._expand_known(image, trimap, 10, 5 / 256)
    expected = trimap.copy()
    expected[1, 1] = expected[1, 3] = 1.0
    expected[1, 6] = 0.0
    np.testing.assert_array_equal(expanded, expected)
    # A radius of 2 no longer reaches (1, 3); a threshold of 0 or radius 0 expands nothing.
    assert module._expand_known(image, trimap, 2, 5 / 256)[1, 3] == 0.5
    np.testing.assert_array_equal(module._expand_known(image, trimap, 10, 0.0), trimap)
    np.testing.assert_array_equal(module._expand_known(image, trimap, 0, 5 / 256), trimap)


def test_expansion_takes_the_nearest_matching_label_and_does_not_chain():
    image = np.full((1, 9, 3), 0.3)
    trimap = np.full((1, 9), 0.5)
    trimap[0, 0], trimap[0, 8] = 1.0, 0.0  # same colour on both sides
    expanded = module._expand_known(image, trimap, 5, 5 / 256)
    # Columns 1-3 are nearer the foreground, 5-7 the background, 4 is tied (raster order
    # puts the left pixel first), column 4 is 4 away from both.
    np.testing.assert_array_equal(expanded[0], [1, 1, 1, 1, 1, 0, 0, 0, 0])
    # Only the original known pixels count: with radius 1, only the direct neighbours.
    narrow = module._expand_known(image, trimap, 1, 5 / 256)
    np.testing.assert_array_equal(narrow[0], [1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0, 0])


# ---------------------------------------------------------------------------------------------
# Step 2: sample gathering.
# ---------------------------------------------------------------------------------------------


def test_ray_hits_by_hand():
    # Background in column 0, foreground from column 4; pixel (4, 2) has n = 3 * 1 + 2 = 5,
    # so its rays leave at 50, 140, 230 and 320 degrees. Ray 0 (sin 50 > cos 50) steps one
    # row at a time and 0.839 columns: (5, 2.84) -> (5, 3), then (6, 3.68) -> (6, 4), which
    # is foreground. Ray 1 (140 degrees) steps one column left and 0.839 rows down:
    # (4.84, 1) -> (5, 1), (5.68, 0) -> (6, 0), background.
    labels = np.full((9, 7), -1, dtype=np.int8)
    labels[:, 0] = 0
    labels[:, 4:] = 1
    image = np.random.default_rng(0).random((9, 7, 3))
    distances = module._chessboard_distances(labels)
    fg_hit, bg_hit, fg_energy, _bg_energy = module._ray_kernel(
        image, distances, np.array([4 * 7 + 2]), 4
    )
    assert fg_hit[0, 0] == 6 * 7 + 4
    assert bg_hit[0, 1] == 6 * 7 + 0
    path = [image[4, 2], image[5, 3], image[6, 4]]
    expected = sum(np.sum((b - a) ** 2) for a, b in itertools.pairwise(path)) * math.sin(
        math.radians(50)
    )
    # Ray 0's foreground hit is 2 steps away, the nearest of all rays' foreground hits.
    reference = _reference_rays(image, labels, 4, 2, 4)
    assert fg_energy[0] == pytest.approx(min(hits[1][1] for hits in reference))
    assert reference[0][1] == (6 * 7 + 4, pytest.approx(expected))


@pytest.mark.parametrize("n_rays", [4, 5])
def test_rays_match_a_pixel_by_pixel_walk(n_rays):
    # Sparse known pixels: long rays, so the chessboard-distance skipping is exercised.
    image, labels = _random_case((17, 23), seed=n_rays, known_fraction=0.05)
    pixels = np.flatnonzero(labels.ravel() < 0)
    distances = module._chessboard_distances(labels)
    fg_hit, bg_hit, fg_energy, bg_energy = module._ray_kernel(image, distances, pixels, n_rays)
    width = labels.shape[1]
    for k, pixel in enumerate(pixels):
        reference = _reference_rays(image, labels, pixel // width, pixel % width, n_rays)
        assert list(fg_hit[k]) == [hits[1][0] for hits in reference]
        assert list(bg_hit[k]) == [hits[0][0] for hits in reference]
        assert fg_energy[k] == pytest.approx(min(hits[1][1] for hits in reference), rel=1e-12)
        assert bg_energy[k] == pytest.approx(min(hits[0][1] for hits in reference), rel=1e-12)


def test_chessboard_distances_match_brute_force():
    _, labels = _random_case((13, 17), seed=3, known_fraction=0.05)
    distances = module._chessboard_distances(labels)
    rows, cols = np.mgrid[:13, :17]
    for side, label in ((0, 1), (1, 0)):
        targets = np.argwhere(labels == label)
        brute = np.max(
            np.abs(np.stack([rows, cols], -1)[:, :, None, :] - targets[None, None]), axis=-1
        ).min(axis=-1)
        np.testing.assert_array_equal(distances[:, :, side], np.minimum(brute, 255))


def test_objective_value_by_hand():
    # Background, unknown, foreground in a row. Pixel (0, 1) has n = 1: its rays leave at
    # 10, 100, 190 and 280 degrees; ray 0 meets the foreground at (0, 2), ray 2 the
    # background at (0, 0), the others leave the image.
    image = np.array([[[0.0, 0.0, 0.0], [0.5, 0.5, 0.2], [1.0, 1.0, 1.0]]])
    labels = np.array([[0, -1, 1]], dtype=np.int8)
    pixels = np.array([1])
    fg_hit, bg_hit, fg_energy, bg_energy = module._cast_rays(image, labels, pixels, 4)
    assert list(fg_hit[0]) == [2, -1, -1, -1] and list(bg_hit[0]) == [-1, -1, 0, -1]
    major = math.cos(math.radians(10))
    assert fg_energy[0] == pytest.approx(1.14 * major)  # |(0.5, 0.5, 0.8)|^2 / (1 / major)
    assert bg_energy[0] == pytest.approx(0.54 * major)
    fg, bg, cost, fg_variance, bg_variance = module._gather_samples(image, labels, pixels, 4)
    assert (fg[0], bg[0]) == (2, 0)
    # alpha = (C - B).(F - B) / |F - B|^2 = 1.2 / 3 = 0.4; C - 0.4 F = (0.1, 0.1, -0.2), so
    # N_p = 0.06 (both neighbours fit exactly); PF = 0.54 / 1.68; A = PF + (1 - 2 PF) 0.4;
    # D(f) = D(b) = 1.
    fg_probability = 0.54 / 1.68
    affinity = fg_probability + (1 - 2 * fg_probability) * 0.4
    assert cost[0] == pytest.approx(0.06**3 * affinity**2)
    # 5x5 windows clipped to the 1x3 image: variance of the three colours.
    assert fg_variance[0] == pytest.approx(_window_variance(image, 2))
    assert bg_variance[0] == pytest.approx(_window_variance(image, 0))


def test_pair_choice_matches_the_objective():
    image, labels = _random_case((15, 19), seed=7, known_fraction=0.2)
    pixels = np.flatnonzero(labels.ravel() < 0)
    fg_hit, bg_hit, fg_energy, bg_energy = module._cast_rays(image, labels, pixels, 4)
    fg, bg, cost, fg_variance, bg_variance = module._gather_samples(image, labels, pixels, 4)
    width = labels.shape[1]
    for k, pixel in enumerate(pixels):
        row, col = divmod(pixel, width)
        best = (math.inf, -1, -1)
        for f in fg_hit[k][fg_hit[k] >= 0]:
            for b in bg_hit[k][bg_hit[k] >= 0]:
                value = _reference_cost(image, row, col, f, b, fg_energy[k], bg_energy[k])
                if value < best[0]:
                    best = (value, f, b)
        assert cost[k] == pytest.approx(best[0], rel=1e-10, abs=1e-300)
        assert (fg[k], bg[k]) == (best[1], best[2])
        assert fg_variance[k] == pytest.approx(_window_variance(image, fg[k]))
        assert bg_variance[k] == pytest.approx(_window_variance(image, bg[k]))


def test_pixel_that_no_ray_reaches_falls_back_to_the_nearest_sample():
    # Pixel (2, 2) has n = 8: rays at 80, 170, 260 and 350 degrees, none of which passes
    # through the lone foreground pixel (0, 4).
    labels = np.full((5, 5), -1, dtype=np.int8)
    labels[4, :] = 0
    labels[0, 4] = 1
    image = np.random.default_rng(1).random((5, 5, 3))
    pixels = np.array([2 * 5 + 2])
    distances = module._chessboard_distances(labels)
    assert (module._ray_kernel(image, distances, pixels, 4)[0] < 0).all()
    fg_hit, _, fg_energy, _ = module._cast_rays(image, labels, pixels, 4)
    assert fg_hit[0, 0] == 4
    # Straight segment (2, 2) -> (1, 3) -> (0, 4), steps of length sqrt(2).
    path = [image[2, 2], image[1, 3], image[0, 4]]
    expected = sum(np.sum((b - a) ** 2) for a, b in itertools.pairwise(path)) / math.sqrt(2)
    assert fg_energy[0] == pytest.approx(expected)


# ---------------------------------------------------------------------------------------------
# Steps 3 and 4: sharing and local smoothing, against direct implementations.
# ---------------------------------------------------------------------------------------------


def _reference_sharing(image, index_of, pixels, fg, bg, fg_variance, bg_variance, radius):
    height, width = index_of.shape
    results = []
    for pixel in pixels:
        row, col = divmod(pixel, width)
        colour = image[row, col]
        candidates = []
        for r in range(height):
            for c in range(width):
                q = index_of[r, c]
                distance_sq = (r - row) ** 2 + (c - col) ** 2
                if q >= 0 and distance_sq <= radius**2:
                    cost = _project(colour, fg[q], bg[q])[1]
                    candidates.append((cost, distance_sq, r, c, q))
        kept = [q for *_, q in sorted(candidates)[:3]]
        f, b = fg[kept].mean(axis=0), bg[kept].mean(axis=0)
        f_var, b_var = fg_variance[kept].mean(), bg_variance[kept].mean()
        confidence = math.exp(-10 * math.sqrt(_project(colour, f, b)[1]))
        fg_gap, bg_gap = np.sum((colour - f) ** 2), np.sum((colour - b) ** 2)
        near_fg, near_bg = fg_gap <= f_var, bg_gap <= b_var
        if near_fg and near_bg:
            near_fg, near_bg = fg_gap / f_var <= bg_gap / b_var, fg_gap / f_var > bg_gap / b_var
        f = colour if near_fg else f
        b = colour if near_bg else b
        results.append((f, b, _project(colour, f, b)[0], confidence))
    return results


def _reference_smoothing(image, labels, index_of, pixels, fg, bg, alpha, confidence):
    height, width = labels.shape
    variance = 100 / (9 * math.pi)
    results = []
    for k, pixel in enumerate(pixels):
        row, col = divmod(pixel, width)
        sums = {"f": np.zeros(3), "wf": 0.0, "b": np.zeros(3), "wb": 0.0, "gap": 0.0, "wgap": 0.0}
        sums.update(a=0.0, wa=0.0)
        for r in range(height):
            for c in range(width):
                distance_sq = (r - row) ** 2 + (c - col) ** 2
                if distance_sq > 9 * variance:
                    continue
                q = index_of[r, c]
                if q >= 0:
                    f, b, a, conf, known = fg[q], bg[q], alpha[q], confidence[q], 0
                else:
                    f = b = image[r, c]
                    a, conf, known = float(labels[r, c]), 1.0, 1
                gauss = math.exp(-distance_sq / (2 * variance))
                weight = gauss * conf * (abs(alpha[k] - a) if distance_sq else 1.0)
                sums["f"] += weight * a * f
                sums["wf"] += weight * a
                sums["b"] += weight * (1 - a) * b
                sums["wb"] += weight * (1 - a)
                sums["gap"] += conf * a * (1 - a) * np.linalg.norm(f - b)
                sums["wgap"] += conf * a * (1 - a)
                sums["a"] += (conf * gauss + known) * a
                sums["wa"] += conf * gauss + known
        f = sums["f"] / sums["wf"] if sums["wf"] > 0 else fg[k]
        b = sums["b"] / sums["wb"] if sums["wb"] > 0 else bg[k]
        alpha_fb, distortion_sq = _project(image[row, col], f, b)
        separation = 1.0
        if sums["wgap"] > 0 and sums["gap"] > 0:
            separation = min(1.0, np.linalg.norm(f - b) / (sums["gap"] / sums["wgap"]))
        conf = separation * math.exp(-10 * math.sqrt(distortion_sq))
        final = conf * alpha_fb + (1 - conf) * sums["a"] / sums["wa"]
        results.append((f, b, final, conf))
    return results


def _pipeline_inputs(seed):
    image, labels = _random_case((14, 16), seed=seed, known_fraction=0.3)
    pixels = np.flatnonzero(labels.ravel() < 0)
    fg, bg, _, fg_variance, bg_variance = module._gather_samples(image, labels, pixels, 4)
    index_of = np.full(labels.shape, -1, dtype=np.int32)
    index_of.ravel()[pixels] = np.arange(pixels.size)
    flat = image.reshape(-1, 3)
    return image, labels, pixels, index_of, flat[fg], flat[bg], fg_variance, bg_variance


def test_sharing_matches_reference():
    image, _labels, pixels, index_of, fg, bg, fg_var, bg_var = _pipeline_inputs(seed=11)
    rows, cols = module._disk_offsets(5, include_centre=True)
    out_fg, out_bg, out_alpha, out_confidence = module._sharing_kernel(
        image, index_of, pixels, fg, bg, fg_var, bg_var, rows, cols, 3, 10.0
    )
    expected = _reference_sharing(image, index_of, pixels, fg, bg, fg_var, bg_var, 5)
    for k, (f, b, alpha, confidence) in enumerate(expected):
        np.testing.assert_allclose(out_fg[k], f, atol=1e-12)
        np.testing.assert_allclose(out_bg[k], b, atol=1e-12)
        assert out_alpha[k] == pytest.approx(alpha, abs=1e-12)
        assert out_confidence[k] == pytest.approx(confidence, abs=1e-12)


def test_sharing_keeps_the_best_three_and_replaces_by_the_pixel_colour():
    # One unknown row; every pixel's own pair explains only itself. With radius 0 a pixel
    # keeps its own pair; here its colour is within the (large) foreground variance, so F
    # becomes the colour itself and alpha is 1.
    image = np.array([[[0.2, 0.2, 0.2], [0.6, 0.6, 0.6], [0.9, 0.1, 0.1]]])
    index_of = np.array([[0, 1, 2]], dtype=np.int32)
    fg = np.array([[0.7, 0.7, 0.7], [0.65, 0.6, 0.6], [1.0, 0.0, 0.0]])
    bg = np.zeros((3, 3))
    fg_variance = np.array([0.0, 0.01, 0.0])
    bg_variance = np.zeros(3)
    rows, cols = module._disk_offsets(0, include_centre=True)
    out_fg, _, out_alpha, out_confidence = module._sharing_kernel(
        image, index_of, np.arange(3), fg, bg, fg_variance, bg_variance, rows, cols, 3, 10.0
    )
    np.testing.assert_allclose(out_fg[1], image[0, 1])  # |C - F|^2 = 0.0025 <= 0.01
    assert out_alpha[1] == pytest.approx(1.0)
    np.testing.assert_allclose(out_fg[0], fg[0])  # variance 0: F kept
    assert out_alpha[0] == pytest.approx(0.2 / 0.7)
    # Confidence from the averaged pair: pixel 2 is off the line through F and B = 0.
    _alpha, distortion_sq = _project(image[0, 2], fg[2], bg[2])
    assert out_confidence[2] == pytest.approx(math.exp(-10 * math.sqrt(distortion_sq)))


def test_smoothing_matches_reference():
    image, labels, pixels, index_of, fg, bg, fg_var, bg_var = _pipeline_inputs(seed=12)
    rows, cols = module._disk_offsets(5, include_centre=True)
    shared = module._sharing_kernel(
        image, index_of, pixels, fg, bg, fg_var, bg_var, rows, cols, 3, 10.0
    )
    rows, cols, gaussian = module._smoothing_weights(100.0)
    result = module._smoothing_kernel(
        image, labels, index_of, pixels, *shared, rows, cols, gaussian, 10.0
    )
    expected = _reference_smoothing(image, labels, index_of, pixels, *shared)
    for k, (f, b, alpha, confidence) in enumerate(expected):
        np.testing.assert_allclose(result[0][k], f, atol=1e-12)
        np.testing.assert_allclose(result[1][k], b, atol=1e-12)
        assert result[2][k] == pytest.approx(alpha, abs=1e-12)
        assert result[3][k] == pytest.approx(confidence, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# The public function.
# ---------------------------------------------------------------------------------------------


def test_synthetic_composite_error():
    composite = synthetic_composite((80, 100), seed=1)
    alpha = shared_sampling(composite.image, composite.trimap)
    # Measured: SAD 0.292, MSE 0.0362 (pymatting's estimate_alpha_sm: 0.262, 0.0277).
    assert sad(alpha, composite.alpha, composite.trimap) < 0.31
    assert mse(alpha, composite.alpha, composite.trimap) < 0.039
    refined, info = shared_sampling(
        composite.image, composite.trimap, refine=True, return_info=True
    )
    # Measured: SAD 0.247, MSE 0.0223: the Laplacian solve improves on sampling alone.
    assert sad(refined, composite.alpha, composite.trimap) < 0.26
    assert mse(refined, composite.alpha, composite.trimap) < 0.024
    assert isinstance(info, SolveInfo) and info.converged


def test_outputs_known_pixels_and_foreground():
    composite = synthetic_composite((40, 50), seed=3)
    alpha, foreground, background, confidence = shared_sampling(
        composite.image, composite.trimap, return_foreground=True
    )
    known = composite.trimap != 0.5
    assert alpha.dtype == np.float64 and alpha.shape == composite.trimap.shape
    np.testing.assert_array_equal(alpha[known], composite.trimap[known])
    assert alpha.min() >= 0 and alpha.max() <= 1
    assert foreground.shape == background.shape == composite.image.shape
    assert foreground.min() >= 0 and foreground.max() <= 1
    np.testing.assert_array_equal(foreground[known], composite.image[known])
    np.testing.assert_array_equal(background[known], composite.image[known])
    assert confidence.min() >= 0 and confidence.max() <= 1
    np.testing.assert_array_equal(confidence[known], 1.0)
    # The compositing equation holds where confidence is high.
    unknown = ~known
    recomposed = alpha[..., None] * foreground + (1 - alpha[..., None]) * background
    error = np.abs(recomposed - composite.image).max(axis=2)
    assert np.median(error[unknown & (confidence > 0.9)]) < 0.02


def test_refine_keeps_trimap_and_uses_solver_options():
    composite = synthetic_composite((40, 50), seed=4)
    alpha, info = shared_sampling(
        composite.image, composite.trimap, refine=True, solver="ichol", return_info=True
    )
    known = composite.trimap != 0.5
    np.testing.assert_array_equal(alpha[known], composite.trimap[known])
    assert info.solver == "ichol" and info.converged
    assert shared_sampling(composite.image, composite.trimap, return_info=True)[1] is None


def test_uint8_inputs_and_no_unknown_pixels():
    composite = synthetic_composite((30, 40), seed=0)
    image = (composite.image * 255).round().astype(np.uint8)
    trimap = (composite.trimap * 255).astype(np.uint8)
    assert shared_sampling(image, trimap).shape == trimap.shape
    full = (composite.alpha > 0.5).astype(np.float64)
    alpha, foreground, background, confidence = shared_sampling(
        composite.image, full, refine=True, return_foreground=True
    )
    np.testing.assert_array_equal(alpha, full)
    np.testing.assert_array_equal(foreground, composite.image)
    np.testing.assert_array_equal(background, composite.image)
    np.testing.assert_array_equal(confidence, 1.0)


def test_deterministic_and_inputs_untouched():
    composite = synthetic_composite((40, 50), seed=2)
    image, trimap = composite.image.copy(), composite.trimap.copy()
    first = shared_sampling(image, trimap, return_foreground=True)
    second = shared_sampling(image, trimap, return_foreground=True)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(image, composite.image)
    np.testing.assert_array_equal(trimap, composite.trimap)


def test_options_change_the_result():
    composite = synthetic_composite((40, 50), seed=5)
    base = shared_sampling(composite.image, composite.trimap)
    for options in ({"n_rays": 8}, {"sharing_radius": 0}, {"expansion_radius": 0}):
        other = shared_sampling(composite.image, composite.trimap, **options)
        assert np.abs(other - base).max() > 1e-3, options


@pytest.mark.parametrize(
    "options",
    [
        {"expansion_radius": -1},
        {"expansion_radius": 2.5},
        {"expansion_radius": True},
        {"expansion_threshold": -0.1},
        {"expansion_threshold": float("nan")},
        {"expansion_threshold": "small"},
        {"expansion_threshold": 1e200},
        {"n_rays": 0},
        {"n_rays": float("inf")},
        {"n_rays": 4.0},  # whole-number options are integers, as everywhere in the library
        {"sharing_radius": -2},
        {"lambda_": 0.0},
        {"solver": "magic"},
        # Checked even without refine=True, which alone uses them.
        {"rtol": float("nan")},
        {"maxiter": -1},
    ],
)
def test_bad_arguments_raise(options):
    image = np.random.default_rng(0).random((16, 16, 3))
    trimap = np.full((16, 16), 0.5)
    trimap[:, :3], trimap[:, -3:] = 0, 1
    with pytest.raises(ValueError):
        shared_sampling(image, trimap, **options)


def test_bad_inputs_raise():
    image = np.random.default_rng(0).random((16, 16, 3))
    with pytest.raises(ValueError, match="trimap"):
        shared_sampling(image, np.full((16, 15), 0.5))
    with pytest.raises(ValueError, match="foreground"):
        shared_sampling(image, np.zeros((16, 16)))


def test_radii_beyond_the_image_diagonal_are_capped_not_allocated():
    image = np.random.default_rng(3).random((12, 14, 3))
    trimap = np.full((12, 14), 0.5)
    trimap[:, :3], trimap[:, -3:] = 0, 1
    diagonal = int(np.ceil(np.hypot(12, 14)))
    capped = shared_sampling(image, trimap, expansion_radius=diagonal, sharing_radius=diagonal)
    huge = shared_sampling(image, trimap, expansion_radius=10**6, sharing_radius=10**6)
    np.testing.assert_array_equal(huge, capped)
