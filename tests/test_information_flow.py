import numpy as np
import pytest

from matting.datasets import synthetic_composite
from matting.laplacian.closed_form import matting_laplacian
from matting.laplacian.information_flow import (
    color_mixture_laplacian,
    flow_features,
    information_flow_laplacian,
    intra_unknown_laplacian,
    known_to_unknown_prior,
    lle_weights,
)
from matting.methods.information_flow import (
    _histogram10,
    information_flow,
    looks_highly_transparent,
    trim_from_edges,
    trim_from_patches,
)
from matting.metrics import mse, sad
from matting.trimap import windows_touching

# --------------------------------------------------------------------------------------------
# Brute-force references, straight from the paper's definitions
# --------------------------------------------------------------------------------------------


def _features(image, spatial_weight):
    height, width, _ = image.shape
    rows, cols = np.mgrid[0:height, 0:width]
    return np.column_stack(
        [
            image.reshape(-1, 3),
            spatial_weight * cols.ravel() / width,
            spatial_weight * rows.ravel() / height,
        ]
    )


def _nearest(features, query, candidates, k):
    candidates = candidates[candidates != query]
    distance = np.linalg.norm(features[candidates] - features[query], axis=1)
    return candidates[np.argsort(distance, kind="stable")[:k]]


def _lle(point, neighbours, conditioner=1e-10):
    # Roweis and Saul: w proportional to (G + c I)^-1 1, G the Gram matrix of the differences.
    differences = neighbours - point
    weights = np.linalg.solve(
        differences @ differences.T + conditioner * np.eye(len(neighbours)),
        np.ones(len(neighbours)),
    )
    return weights / weights.sum()


def _lle_lagrangian(point, neighbours, conditioner):
    # The authors' uncentred form: min ||x - N^T w||^2 + c ||w||^2 s.t. sum w = 1 through its
    # Lagrange multiplier; the same minimiser (with sum w = 1 the residuals coincide).
    gram = neighbours @ neighbours.T + conditioner * np.eye(len(neighbours))
    inverse = np.linalg.inv(gram)
    projection = neighbours @ point
    multiplier = (1 - inverse.dot(projection).sum()) / inverse.sum()
    return inverse @ (projection + multiplier)


def _dense_color_mixture(image, trimap, k=20, spatial_weight=1.0):
    features = _features(image, spatial_weight)
    n = len(features)
    unknown = np.flatnonzero(trimap.ravel() == 0.5)
    residual = np.zeros((n, n))
    for p in unknown:
        neighbours = _nearest(features, p, np.arange(n), k)
        residual[p, p] = 1.0
        residual[p, neighbours] -= _lle(features[p, :3], features[neighbours, :3])
    return residual.T @ residual


def _dense_intra_unknown(image, trimap, k=5, spatial_weight=0.05):
    features = _features(image, spatial_weight)
    n = len(features)
    unknown = np.flatnonzero(trimap.ravel() == 0.5)
    weights = np.zeros((n, n))
    for p in unknown:
        for q in _nearest(features, p, unknown, k):
            weights[p, q] = max(1 - np.abs(features[p] - features[q]).sum() / 5, 0)
    affinity = (weights + weights.T) / 2
    return np.diag(affinity.sum(axis=1)) - affinity


def _dense_known_to_unknown(image, trimap, k=7, spatial_weight=10.0):
    features = _features(image, spatial_weight)
    flat = trimap.ravel()
    estimate, confidence = flat.copy(), np.zeros(flat.size)
    foreground, background = np.flatnonzero(flat == 1), np.flatnonzero(flat == 0)
    for p in np.flatnonzero(flat == 0.5):
        fg = _nearest(features, p, foreground, k)
        bg = _nearest(features, p, background, k)
        weights = _lle(features[p, :3], features[np.concatenate([fg, bg]), :3])
        estimate[p] = weights[:k].sum()
        mixed_fg = weights[:k] @ features[fg, :3]
        mixed_bg = weights[k:] @ features[bg, :3]
        confidence[p] = ((mixed_fg - mixed_bg) ** 2).sum() / 3
    return estimate.reshape(trimap.shape), confidence.reshape(trimap.shape)


def _tiny_case(seed=0, shape=(9, 11)):
    rng = np.random.default_rng(seed)
    image = rng.random(shape + (3,))
    trimap = np.full(shape, 0.5)
    trimap[:, :3] = 0.0
    trimap[:, -3:] = 1.0
    trimap[0, 4] = 1.0  # a known pixel inside the band
    return image, trimap


# --------------------------------------------------------------------------------------------
# The parts
# --------------------------------------------------------------------------------------------


def test_lle_weights_reconstruct_each_colour_and_sum_to_one():
    rng = np.random.default_rng(1)
    neighbours_colours = rng.random((6, 3))
    # Points inside the neighbours' affine hull are reconstructed exactly (6 > 3 + 1).
    mixture = rng.dirichlet(np.ones(6), size=4)
    points = np.vstack([neighbours_colours, mixture @ neighbours_colours])
    queries = np.arange(6, 10)
    neighbours = np.tile(np.arange(6), (4, 1))
    weights = lle_weights(points, queries, neighbours)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(weights @ neighbours_colours, points[queries], atol=1e-6)
    # Same weights as the authors' uncentred Lagrangian form (a conditioner that keeps its
    # explicit inverse accurate).
    weights = lle_weights(points, queries, neighbours, conditioner=1e-6)
    for row, query in enumerate(queries):
        expected = _lle_lagrangian(points[query], neighbours_colours, 1e-6)
        np.testing.assert_allclose(weights[row], expected, atol=1e-8)


def test_lle_weights_of_two_neighbours_on_a_line():
    # x = 0.25 a + 0.75 b: with two neighbours the weights are unique.
    points = np.array([[0.0, 0.0, 0.0], [1.0, 0.5, 0.2], [0.75, 0.375, 0.15]])
    weights = lle_weights(points, np.array([2]), np.array([[0, 1]]))
    np.testing.assert_allclose(weights, [[0.25, 0.75]], atol=1e-8)


def test_flow_features():
    image = np.random.default_rng(0).random((4, 5, 3))
    np.testing.assert_allclose(flow_features(image, 2.0), _features(image, 2.0))


def test_color_mixture_laplacian_matches_dense_construction():
    image, trimap = _tiny_case(0)
    expected = _dense_color_mixture(image, trimap, k=6)
    laplacian = color_mixture_laplacian(image, trimap, k_cm=6)
    np.testing.assert_allclose(laplacian.toarray(), expected, atol=1e-5 * np.abs(expected).max())
    # (I_U - W)^T (I_U - W) annihilates constants, as the weights sum to one.
    assert np.abs(laplacian @ np.ones(trimap.size)).max() < 1e-6


def test_intra_unknown_laplacian_matches_dense_construction():
    image, trimap = _tiny_case(1)
    expected = _dense_intra_unknown(image, trimap, k=4)
    laplacian = intra_unknown_laplacian(image, trimap, k_u=4)
    np.testing.assert_allclose(laplacian.toarray(), expected, atol=1e-12)


def test_known_to_unknown_prior_matches_dense_construction():
    image, trimap = _tiny_case(2)
    expected_estimate, expected_confidence = _dense_known_to_unknown(image, trimap, k=3)
    estimate, confidence = known_to_unknown_prior(image, trimap, k_ku=3)
    # LLE weights of 6 neighbours in 3-D colour with the 1e-10 conditioner are large and
    # sensitive: both computations agree to about 1e-6 of their size.
    np.testing.assert_allclose(estimate, expected_estimate, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(confidence, expected_confidence, rtol=1e-5, atol=1e-5)
    known = trimap != 0.5
    np.testing.assert_array_equal(estimate[known], trimap[known])
    assert np.all(confidence[known] == 0)


def test_known_to_unknown_prior_of_an_exact_mixture():
    # A pure two-colour composite: the foreground share is the true alpha, and the weighted
    # colour sums are alpha F and (1 - alpha) B, so the confidence is
    # |alpha F - (1 - alpha) B|^2 / 3.
    foreground, background = np.array([0.9, 0.2, 0.1]), np.array([0.1, 0.3, 0.8])
    alpha = np.tile(np.linspace(0, 1, 12), (6, 1))
    image = alpha[..., None] * foreground + (1 - alpha[..., None]) * background
    trimap = np.where(alpha == 0, 0.0, np.where(alpha == 1, 1.0, 0.5))
    estimate, confidence = known_to_unknown_prior(image, trimap)
    unknown = trimap == 0.5
    np.testing.assert_allclose(estimate[unknown], alpha[unknown], atol=1e-4)
    a = alpha[unknown][:, None]
    expected = ((a * foreground - (1 - a) * background) ** 2).sum(axis=1) / 3
    np.testing.assert_allclose(confidence[unknown], expected, rtol=1e-4)


def test_information_flow_laplacian_is_the_weighted_sum():
    image, trimap = _tiny_case(3)
    laplacian = information_flow_laplacian(
        image, trimap, k_cm=6, k_u=4, sigma_cm=2.0, sigma_iu=0.5, sigma_l=3.0, eps=1e-5
    )
    local = matting_laplacian(image, eps=1e-5, window_mask=windows_touching(trimap == 0.5, 1))
    expected = (
        2.0 * _dense_color_mixture(image, trimap, k=6)
        + 3.0 / 9.0 * local.toarray()
        + 0.5 * _dense_intra_unknown(image, trimap, k=4)
    )
    np.testing.assert_allclose(laplacian.toarray(), expected, atol=1e-5 * np.abs(expected).max())
    assert abs(laplacian - laplacian.T).max() < 1e-10


def _authors_local_laplacian(image, window_mask, eps):
    # The authors' local flow (mattingAffinity.m, affinityMatrixToLaplacian.m), densely:
    # window affinities (1 + (c_p - mu)^T (Sigma + eps/9 I)^-1 (c_q - mu)) / 9 summed over
    # the active windows, W + W^T, each row divided by its sum (left alone below 0.05), and
    # the Laplacian diag(row sums) - W of that row-normalised matrix.
    height, width, _ = image.shape
    n = height * width
    affinity = np.zeros((n, n))
    for y in range(1, height - 1):
        for x in range(1, width - 1):
            if not window_mask[y, x]:
                continue
            rows, cols = np.mgrid[y - 1 : y + 2, x - 1 : x + 2]
            pixels = (rows * width + cols).ravel()
            colours = image[rows, cols].reshape(9, 3)
            centred = colours - colours.mean(axis=0)
            covariance = centred.T @ centred / 9 + eps / 9 * np.eye(3)
            affinity[np.ix_(pixels, pixels)] += (
                1 + centred @ np.linalg.solve(covariance, centred.T)
            ) / 9
    affinity = affinity + affinity.T
    sums = affinity.sum(axis=1)
    sums[sums < 0.05] = 1.0
    affinity = affinity / sums[:, np.newaxis]
    return np.diag(affinity.sum(axis=1)) - affinity


def test_local_flow_is_the_authors_normalised_matting_affinity():
    # On every unknown pixel at least two pixels from the image border (so in 9 windows
    # lying inside the image) the local flow's row is the authors' row-normalised one, i.e.
    # the matting Laplacian's row over 9.
    rng = np.random.default_rng(11)
    image = rng.random((10, 12, 3))
    trimap = np.full((10, 12), 0.5)
    trimap[:, :4] = 0.0
    trimap[:, -4:] = 1.0
    mask = windows_touching(trimap == 0.5, 1)
    laplacian = information_flow_laplacian(image, trimap, sigma_cm=0.0, sigma_iu=0.0, eps=1e-6)
    expected = _authors_local_laplacian(image, mask, 1e-6)
    inner = np.zeros(trimap.shape, dtype=bool)
    inner[2:-2, 2:-2] = trimap[2:-2, 2:-2] == 0.5
    assert inner.sum() == 24
    rows = np.flatnonzero(inner)
    np.testing.assert_allclose(
        laplacian.toarray()[rows], expected[rows], atol=1e-8 * np.abs(expected).max()
    )
    # ... which is a ninth of Levin et al.'s matting Laplacian (not the whole of it).
    levin = matting_laplacian(image, eps=1e-6, window_mask=mask).toarray()
    np.testing.assert_allclose(expected[rows], levin[rows] / 9, atol=1e-8 * np.abs(levin).max())


def test_trim_from_edges_breaks_ties_in_column_major_order():
    # A background pixel to the left and a foreground pixel above, equally near and of the
    # same colour: the authors' MATLAB code scans the window column by column, so the left
    # (background) one comes first.
    image = np.full((3, 3, 3), 0.5)
    trimap = np.full((3, 3), 0.5)
    trimap[0, 1] = 1.0
    trimap[1, 0] = 0.0
    trimap[0, 0] = trimap[0, 2] = trimap[2, 0] = 0.25  # stay unknown (any in-between value)
    trimmed = trim_from_edges(image, trimap)
    assert trimmed[1, 1] == 0.0
    # Transposed, the foreground one is now to the left and wins.
    trimmed = trim_from_edges(image.transpose(1, 0, 2), trimap.T)
    assert trimmed[1, 1] == 1.0


def test_trim_from_edges():
    image = np.zeros((5, 12, 3))
    image[:, 6:] = 1.0
    image[:, 5] = 0.5  # a mixed column stays unknown
    trimap = np.full((5, 12), 0.5)
    trimap[:, 0], trimap[:, -1] = 0.0, 1.0
    trimmed = trim_from_edges(image, trimap)
    # Same-coloured pixels within reach take the label of the nearest matching known pixel.
    np.testing.assert_array_equal(trimmed[:, :5], 0.0)
    np.testing.assert_array_equal(trimmed[:, 6:], 1.0)
    np.testing.assert_array_equal(trimmed[:, 5], 0.5)
    # Nine passes reach at most 1 + 2 + ... + 9 = 45 pixels.
    wide = np.full((1, 60), 0.5)
    wide[0, 0], wide[0, -1] = 0.0, 1.0
    colours = np.zeros((1, 60, 3))
    colours[0, -1] = 1.0
    trimmed = trim_from_edges(colours, wide)
    assert np.all(trimmed[0, 1:46] == 0.0) and np.all(trimmed[0, 46:-1] == 0.5)


def _window_gaussians(image, radius=1, regulariser=1e-8):
    # Mean and covariance of every pixel's window, edges replicated, straight from the
    # definition.
    padded = np.pad(image, ((radius, radius), (radius, radius), (0, 0)), mode="edge")
    height, width, _ = image.shape
    size = 2 * radius + 1
    means = np.empty((height * width, 3))
    covariances = np.empty((height * width, 3, 3))
    for y in range(height):
        for x in range(width):
            colours = padded[y : y + size, x : x + size].reshape(-1, 3)
            means[y * width + x] = colours.mean(axis=0)
            centred = colours - colours.mean(axis=0)
            covariances[y * width + x] = centred.T @ centred / len(colours)
    return means, covariances + regulariser * np.eye(3)


def _bhattacharyya(mean_p, covariance_p, mean_q, covariance_q):
    pooled = (covariance_p + covariance_q) / 2
    d = mean_q - mean_p
    return d @ np.linalg.solve(pooled, d) / 8 + 0.5 * np.log(
        np.linalg.det(pooled) / np.sqrt(np.linalg.det(covariance_p) * np.linalg.det(covariance_q))
    )


def test_trim_from_patches_matches_a_brute_force_reference():
    rng = np.random.default_rng(7)
    image = rng.random((9, 11, 3))
    image[:, 3:6] = 0.9 + 0.1 * image[:, 3:6]  # bright foreground windows
    # Two pixels whose windows repeat a known pixel's exactly (distance 0 to that side).
    image[0:3, 8:11] = image[6:9, 0:3]  # window of (1, 9) copies the background's (7, 1)
    trimap = np.full((9, 11), 0.5)
    trimap[:, :3] = 0.0
    trimap[:, 4] = 1.0
    means, covariances = _window_gaussians(image)
    flat = trimap.ravel()
    expected = flat.copy()
    closest = {}
    for i in np.flatnonzero(flat == 0.5):
        for value in (0.0, 1.0):
            known = np.flatnonzero(flat == value)
            nearest = known[np.argsort(np.linalg.norm(means[known] - means[i], axis=1))[:5]]
            closest[i, value] = min(
                _bhattacharyya(means[i], covariances[i], means[j], covariances[j]) for j in nearest
            )
        if closest[i, 1.0] < 0.25 and closest[i, 0.0] > 0.9:
            expected[i] = 1.0
        elif closest[i, 0.0] < 0.25 and closest[i, 1.0] > 0.9:
            expected[i] = 0.0
    assert abs(closest[1 * 11 + 9, 0.0]) < 1e-9  # the copied window
    assert expected[1 * 11 + 9] == 0.0
    trimmed = trim_from_patches(image, trimap)
    np.testing.assert_array_equal(trimmed.ravel(), expected)
    # Stricter thresholds label nothing; the trimap passed in is left alone.
    strict = trim_from_patches(image, trimap, match_distance=0.0)
    np.testing.assert_array_equal(strict, trimap)


def test_trim_from_patches_checks_its_arguments():
    image = np.random.default_rng(0).random((6, 8, 3))
    trimap = np.full((6, 8), 128, dtype=np.uint8)
    trimap[:, 0], trimap[:, -1] = 0, 255
    # Encoded trimaps are normalised; the argument is not modified.
    np.testing.assert_array_equal(trim_from_patches(image, trimap)[:, 0], 0.0)
    assert trimap[0, 3] == 128
    with pytest.raises(ValueError, match="trimap has shape"):
        trim_from_patches(image, trimap[:, 1:])
    with pytest.raises(ValueError, match="trimap has shape"):
        trim_from_edges(image, trimap[:, 1:])
    np.testing.assert_array_equal(
        trim_from_edges(image, trimap), trim_from_edges(image, trimap / 255.0)
    )
    with pytest.raises(ValueError, match="n_neighbors"):
        trim_from_patches(image, trimap, n_neighbors=0)
    with pytest.raises(ValueError, match="radius"):
        trim_from_patches(image, trimap, radius=1.5)
    with pytest.raises(ValueError, match="reject_distance"):
        trim_from_patches(image, trimap, reject_distance=float("nan"))


def test_trim_from_patches_labels_pure_windows_only():
    # Background red on the left, foreground blue on the right, and a four-column unknown
    # band: its outer columns see only one colour in their 3x3 windows and are labelled,
    # its inner columns see both and stay unknown.
    image = np.zeros((6, 12, 3))
    image[:, :6, 0] = 1.0
    image[:, 6:, 2] = 1.0
    trimap = np.full((6, 12), 0.5)
    trimap[:, :4] = 0.0
    trimap[:, 8:] = 1.0
    trimmed = trim_from_patches(image, trimap)
    np.testing.assert_array_equal(trimmed[:, 4], 0.0)
    np.testing.assert_array_equal(trimmed[:, 7], 1.0)
    np.testing.assert_array_equal(trimmed[:, 5:7], 0.5)
    np.testing.assert_array_equal(trimmed[:, :4], 0.0)
    np.testing.assert_array_equal(trimmed[:, 8:], 1.0)


def test_transparency_histograms_use_imhist_bins():
    # MATLAB's imhist(x, 10) on floats: bins centred on 0, 1/9, ..., 1, edges at
    # (k + 1/2) / 9, so 0.05 falls in the first bin and 0.06 in the second, 0.95 in the last.
    values = np.array([0.0, 0.05, 0.06, 0.45, 0.94, 0.95, 1.0])
    np.testing.assert_array_equal(_histogram10(values), [2, 1, 0, 0, 1, 0, 0, 0, 1, 2])


def test_transparency_detection():
    composite = synthetic_composite((60, 80), seed=0, n_strands=0)
    assert not looks_highly_transparent(composite.image, composite.trimap)
    # An unknown region of a colour found in neither known region looks transparent.
    image = np.zeros((40, 40, 3))
    image[:, 20:] = 1.0
    image[:, 15:25] = [0.9, 0.1, 0.5]
    trimap = np.zeros((40, 40))
    trimap[:, 20:] = 1.0
    trimap[:, 15:25] = 0.5
    assert looks_highly_transparent(image, trimap)


# --------------------------------------------------------------------------------------------
# The method
# --------------------------------------------------------------------------------------------


def _dense_information_flow(image, trimap, estimate, confidence):
    # The paper's linear system over all pixels, k_cm = 6, k_u = 4, default weights, solved
    # densely and clipped: (L + 100 T + 0.05 H) a = 100 T t + 0.05 H a_hat.
    laplacian = information_flow_laplacian(image, trimap, k_cm=6, k_u=4).toarray()
    known = (trimap != 0.5).ravel().astype(float)
    values = np.where(trimap == 0.5, 0.0, trimap).ravel()
    system = laplacian + np.diag(100 * known + 0.05 * confidence.ravel())
    right = 100 * known * values + 0.05 * confidence.ravel() * estimate.ravel()
    return np.clip(np.linalg.solve(system, right), 0, 1).reshape(trimap.shape)


def test_solve_on_support_matches_a_dense_solve_over_all_pixels():
    image, trimap = _tiny_case(4, (10, 12))
    alpha = information_flow(
        image,
        trimap,
        k_cm=6,
        k_ku=3,
        k_u=4,
        known_to_unknown=True,
        trim_edges=False,
        trim_patches=False,
        post_trim=False,
        solver="direct",
    )
    estimate, confidence = _dense_known_to_unknown(image, trimap, k=3)
    expected = _dense_information_flow(image, trimap, estimate, confidence)
    unknown = trimap == 0.5
    np.testing.assert_allclose(alpha[unknown], expected[unknown], atol=1e-6)
    np.testing.assert_array_equal(alpha[~unknown], trimap[~unknown])


def test_patch_trimmed_pixels_enter_the_known_to_unknown_term():
    # Dark background and bright foreground with faint noise, and an unknown band whose
    # outer columns repeat them: patch-based trimming labels those columns, which then
    # serve as K-to-U samples and get their label as estimate with confidence 1.
    rng = np.random.default_rng(5)
    image = np.where(np.arange(12) < 6, 0.2, 0.8)[np.newaxis, :, np.newaxis] * np.ones((10, 12, 3))
    image = image + 0.01 * rng.random(image.shape)
    trimap = np.full((10, 12), 0.5)
    trimap[:, :3] = 0.0
    trimap[:, 9:] = 1.0
    trimmed = trim_from_patches(image, trimap)
    moved = (trimap == 0.5) & (trimmed != 0.5)
    assert moved.sum() >= 20 and np.all(trimmed[:, 5:7] == 0.5)
    options = {"k_cm": 6, "k_ku": 3, "k_u": 4, "known_to_unknown": True, "trim_edges": False}
    alpha = information_flow(image, trimap, post_trim=False, solver="direct", **options)
    estimate, confidence = _dense_known_to_unknown(image, trimmed, k=3)
    estimate[moved], confidence[moved] = trimmed[moved], 1.0
    expected = _dense_information_flow(image, trimap, estimate, confidence)
    unknown = trimap == 0.5
    np.testing.assert_allclose(alpha[unknown], expected[unknown], atol=1e-6)
    # Without patch trimming the answer differs (the term above is what changed it).
    untrimmed = information_flow(
        image, trimap, post_trim=False, solver="direct", trim_patches=False, **options
    )
    assert np.abs(untrimmed - alpha)[unknown].max() > 1e-4


def test_synthetic_composite_error():
    composite = synthetic_composite((80, 100), seed=1)
    alpha, info = information_flow(composite.image, composite.trimap, return_info=True)
    # Measured: SAD 0.26, MSE 0.026 (all defaults).
    assert sad(alpha, composite.alpha, composite.trimap) < 0.29
    assert mse(alpha, composite.alpha, composite.trimap) < 0.029
    assert info.converged


def test_known_pixels_exact_range_determinism_and_untouched_inputs():
    composite = synthetic_composite((40, 50), seed=3)
    image = (composite.image * 255).round().astype(np.uint8)
    trimap = (composite.trimap * 255).astype(np.uint8)
    image_copy, trimap_copy = image.copy(), trimap.copy()
    alpha, foreground, _ = information_flow(image, trimap, return_foreground=True)
    known = composite.trimap != 0.5
    assert alpha.dtype == np.float64 and alpha.shape == trimap.shape
    np.testing.assert_array_equal(alpha[known], composite.trimap[known])
    assert alpha.min() >= 0 and alpha.max() <= 1
    assert foreground.shape == image.shape
    np.testing.assert_array_equal(alpha, information_flow(image, trimap))
    np.testing.assert_array_equal(image, image_copy)
    np.testing.assert_array_equal(trimap, trimap_copy)


def test_no_unknown_pixels():
    composite = synthetic_composite((30, 40), seed=0)
    full = (composite.alpha > 0.5).astype(np.float64)
    alpha, info = information_flow(composite.image, full, return_info=True)
    np.testing.assert_array_equal(alpha, full)
    assert info is None


@pytest.mark.parametrize(
    "options",
    [
        {"k_cm": 0},
        {"k_ku": 2.5},
        {"k_u": -1},
        {"sigma_cm": -1.0},
        {"sigma_ku": float("nan")},
        {"sigma_iu": float("inf")},
        {"lambda_": 0.0},
        {"eps": 0.0},
        {"known_to_unknown": "sometimes"},
        {"solver": "magic"},
    ],
)
def test_bad_arguments_raise(options):
    image = np.random.default_rng(0).random((16, 16, 3))
    trimap = np.full((16, 16), 0.5)
    trimap[:, :3], trimap[:, -3:] = 0, 1
    with pytest.raises(ValueError):
        information_flow(image, trimap, **options)
