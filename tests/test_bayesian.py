import numba
import numpy as np
import pytest

import matting
import matting.methods.bayesian as bayesian_module
from matting.datasets import synthetic_composite
from matting.methods.bayesian import _cluster, _projected_alpha, _solve_pair, bayesian

FOREGROUND = np.array([0.9, 0.3, 0.1])
BACKGROUND = np.array([0.1, 0.4, 0.8])


def _two_colour_disc(size=41, radius=10.0, softness=4.0):
    """Constant F over constant B, alpha a disc whose edge ramps linearly over ``softness``."""
    rows, cols = np.mgrid[0:size, 0:size].astype(float)
    distance = np.hypot(rows - size // 2, cols - size // 2)
    alpha = np.clip((radius + softness / 2 - distance) / softness, 0.0, 1.0)
    image = alpha[..., None] * FOREGROUND + (1 - alpha[..., None]) * BACKGROUND
    trimap = np.where(alpha == 1.0, 1.0, 0.0)
    band = (distance > radius - softness / 2 - 2) & (distance < radius + softness / 2 + 2)
    trimap[band] = 0.5
    return image, trimap, alpha


def test_two_colour_disc_is_recovered():
    # With one foreground and one background colour every cluster is that colour, the
    # 6x6 solve returns it, and alpha is the exact projection of C onto the segment FB.
    image, trimap, alpha = _two_colour_disc()
    result, foreground, background = bayesian(image, trimap, return_foreground=True)
    unknown = trimap == 0.5
    assert np.abs(result - alpha).max() < 1e-6  # measured: 3e-9
    assert np.abs(foreground[unknown & (alpha > 0.1)] - FOREGROUND).max() < 1e-6
    assert np.abs(background[unknown & (alpha < 0.9)] - BACKGROUND).max() < 1e-6


def _reference_orchard_bouman(points, weights, max_clusters, min_variance):
    """Plain NumPy weighted Orchard-Bouman with the module's rule, for comparison."""
    total = weights.sum()
    clusters = [np.arange(len(points))]

    def principal(members):
        w = weights[members]
        mean = (w[:, None] * points[members]).sum(0) / w.sum()
        centred = points[members] - mean
        cov = (w[:, None, None] * centred[:, :, None] * centred[:, None, :]).sum(0) / w.sum()
        values, vectors = np.linalg.eigh(cov)
        return values[-1] * w.sum() / total, vectors[:, -1], mean, cov

    keys = [principal(clusters[0])[0]]
    while len(clusters) < max_clusters:
        target = int(np.argmax(keys))
        if not keys[target] > min_variance:
            break
        _, axis, mean, _ = principal(clusters[target])
        members = clusters[target]
        side = points[members] @ axis > mean @ axis
        clusters[target], new = members[~side], members[side]
        clusters.append(new)
        keys[target] = principal(clusters[target])[0]
        keys.append(principal(new)[0])
    return clusters, [principal(members)[2:] for members in clusters]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("max_clusters", [1, 3, 6])
def test_clustering_matches_a_numpy_reference(seed, max_clusters):
    rng = np.random.default_rng(seed)
    centres = rng.random((4, 3))
    points = centres[rng.integers(0, 4, 200)] + 0.05 * rng.normal(size=(200, 3))
    weights = rng.random(200) + 0.01
    labels = np.empty(200, np.int64)
    means = np.empty((max_clusters, 3))
    covariances = np.empty((max_clusters, 3, 3))
    shares = np.empty(max_clusters)
    count = _cluster(points, weights, max_clusters, 1e-3, labels, means, covariances, shares)
    expected, statistics = _reference_orchard_bouman(points, weights, max_clusters, 1e-3)
    assert count == len(expected)
    # The mixture weights: each cluster's share of the total weight.
    for label in range(count):
        np.testing.assert_allclose(
            shares[label], weights[labels == label].sum() / weights.sum(), rtol=1e-12
        )
    # Cluster numbers may differ (an eigenvector's sign decides which half is "new"):
    # compare the partitions and the statistics of matching clusters.
    for members, (mean, cov) in zip(expected, statistics):
        label = labels[members[0]]
        assert set(np.flatnonzero(labels == label)) == set(members)
        np.testing.assert_allclose(means[label], mean, atol=1e-12)
        np.testing.assert_allclose(covariances[label], cov, atol=1e-12)


def test_clustering_stops_when_clusters_are_tight():
    points = np.repeat(np.array([[0.1, 0.1, 0.1], [0.9, 0.9, 0.9]]), 10, axis=0)
    labels = np.empty(20, np.int64)
    means = np.empty((5, 3))
    covariances = np.empty((5, 3, 3))
    shares = np.empty(5)
    count = _cluster(points, np.ones(20), 5, 1e-4, labels, means, covariances, shares)
    assert count == 2
    np.testing.assert_allclose(shares[:2], [0.5, 0.5])
    assert len(set(labels[:10])) == 1 and len(set(labels[10:])) == 1


def test_projected_alpha():
    colour = 0.25 * FOREGROUND + 0.75 * BACKGROUND
    assert _projected_alpha(colour, FOREGROUND, BACKGROUND, 0.5) == pytest.approx(0.25)
    # Clipped to [0, 1]; the fallback when F and B coincide.
    assert _projected_alpha(2 * FOREGROUND - BACKGROUND, FOREGROUND, BACKGROUND, 0.5) == 1.0
    assert _projected_alpha(colour, FOREGROUND, FOREGROUND, 0.3) == 0.3


def test_start_changes_the_local_maximum():
    # Why every pair is solved from several starting alphas: the alternation of eq. 9 and
    # eq. 10 climbs to a local maximum. Here (a colour far from both cluster means) the
    # paper's kind of start, a middle alpha, ends at alpha 0, while a start at 0.9 ends at
    # alpha 1 with a much larger likelihood (measured: -24.3 against -14.9).
    colour = np.array([0.1, 0.4, 0.1])
    mean_f, mean_b = np.array([0.6, 0.3, 0.3]), np.array([0.3, 0.1, 0.7])
    precision = np.eye(3) / 0.01
    results = {}
    for start in (0.5, 0.9):
        f, b = np.empty(3), np.empty(3)
        results[start] = _solve_pair(
            colour, mean_f, precision, mean_b, precision, start, 1e4, 50, 1e-6, f, b
        )
    (middle_likelihood, middle_alpha), (high_likelihood, high_alpha) = results[0.5], results[0.9]
    assert middle_alpha == 0.0 and high_alpha == 1.0
    assert high_likelihood > middle_likelihood + 5


@pytest.fixture(scope="module")
def composite():
    return synthetic_composite((80, 100), seed=1)


def test_synthetic_composite_error(composite):
    alpha = bayesian(composite.image, composite.trimap)
    known = composite.trimap != 0.5
    assert np.array_equal(alpha[known], composite.trimap[known])
    assert np.isfinite(alpha).all() and alpha.min() >= 0 and alpha.max() <= 1
    # Measured: SAD 0.230, MSE 0.0237 (closed-form matting: SAD 0.256, MSE 0.0237).
    assert matting.metrics.sad(alpha, composite.alpha, composite.trimap) < 0.26
    assert matting.metrics.mse(alpha, composite.alpha, composite.trimap) < 0.025


def test_deterministic_and_independent_of_thread_count(composite):
    first = bayesian(composite.image, composite.trimap, return_foreground=True)
    second = bayesian(composite.image, composite.trimap, return_foreground=True)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        single = bayesian(composite.image, composite.trimap, return_foreground=True)
    finally:
        numba.set_num_threads(threads)
    for a, b, c in zip(first, second, single):
        assert np.array_equal(a, b)
        assert np.array_equal(a, c)


def test_known_pixels_and_returned_colours(composite):
    _, foreground, background = bayesian(composite.image, composite.trimap, return_foreground=True)
    known = composite.trimap != 0.5
    assert np.array_equal(foreground[known], composite.image[known])
    assert np.array_equal(background[known], composite.image[known])
    assert foreground.min() >= 0 and foreground.max() <= 1
    assert background.min() >= 0 and background.max() <= 1


def test_inputs_are_not_modified():
    image, trimap, _ = _two_colour_disc(size=21, radius=5)
    image_uint8 = (image * 255).round().astype(np.uint8)
    trimap_uint8 = (trimap * 255).round().astype(np.uint8)
    copies = image.copy(), trimap.copy(), image_uint8.copy(), trimap_uint8.copy()
    bayesian(image, trimap)
    bayesian(image_uint8, trimap_uint8)
    for original, copy in zip((image, trimap, image_uint8, trimap_uint8), copies):
        assert np.array_equal(original, copy)


def test_unknown_region_far_from_known_pixels_finishes(monkeypatch):
    # Foreground only in one corner, background in the opposite one: with a 3-pixel window
    # (grown to at most 9) most pixels find no foreground sample and are deferred.
    deferred_counts = []
    fill = bayesian_module._fill_deferred

    def spy(*arguments):
        deferred_counts.append(int(arguments[-1].sum()))
        fill(*arguments)

    monkeypatch.setattr(bayesian_module, "_fill_deferred", spy)
    rng = np.random.default_rng(0)
    image = rng.random((40, 50, 3))
    trimap = np.full((40, 50), 0.5)
    trimap[:2, :2] = 1
    trimap[-3:, -3:] = 0
    for window in (3, 25):
        alpha, foreground, background = bayesian(
            image, trimap, window=window, return_foreground=True
        )
        for result in (alpha, foreground, background):
            assert np.isfinite(result).all() and result.min() >= 0 and result.max() <= 1
        assert np.all(alpha[:2, :2] == 1) and np.all(alpha[-3:, -3:] == 0)
    # The small window defers every unknown pixel (1987: none has both kinds of sample within
    # 4 pixels); the default window (grown to 97) reaches both corners and defers none.
    assert len(deferred_counts) == 1 and deferred_counts[0] > 1000


def test_no_unknown_pixels_returns_the_trimap():
    trimap = np.zeros((10, 10))
    trimap[:, 5:] = 1
    image = np.random.default_rng(1).random((10, 10, 3))
    assert np.array_equal(bayesian(image, trimap), trimap)


def test_progress_goes_to_stderr(capsys):
    image, trimap, _ = _two_colour_disc(size=21, radius=5)
    bayesian(image, trimap, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "bayesian" in captured.err and "unknown pixels" in captured.err


@pytest.mark.parametrize(
    "options",
    [
        {"window": 2},
        {"window": 4},
        {"window": 1},
        {"window": 25.0},
        {"sigma": 0},
        {"sigma": -1.0},
        {"sigma": float("nan")},
        {"min_samples": 0},
        {"sigma_c": 0.0},
        {"sigma_c": 1e-200},
        {"max_iterations": 2**63},
        {"min_samples": None},
        {"max_iterations": 0},
        {"min_likelihood_change": -1e-3},
    ],
)
def test_bad_options_raise(options):
    image, trimap, _ = _two_colour_disc(size=21, radius=5)
    with pytest.raises(ValueError):
        bayesian(image, trimap, **options)


def test_bad_inputs_raise():
    image, trimap, _ = _two_colour_disc(size=21, radius=5)
    with pytest.raises(ValueError):
        bayesian(image, trimap[:-1])
    with pytest.raises(ValueError):
        bayesian(image, np.full(trimap.shape, 0.5))  # no known pixels
    with pytest.raises(ValueError):
        bayesian(image * 255, trimap)
