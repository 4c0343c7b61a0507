import numpy as np
import pytest
from scipy.spatial import cKDTree

from matting.neighbors import BACKENDS, knn_query

backends = pytest.mark.parametrize("backend", BACKENDS)


def _reference(points, k):
    """cKDTree with the point itself queried and then removed (no duplicates here)."""
    distances, indices = cKDTree(points).query(points, k=k + 1)
    return distances[:, 1:], indices[:, 1:]


def _check_exact(points, k, indices, distances):
    n = len(points)
    assert indices.shape == distances.shape == (n, k)
    assert indices.dtype == np.int64 and distances.dtype == np.float64
    assert np.all((indices >= 0) & (indices < n))
    assert not np.any(indices == np.arange(n)[:, None]), "a point is its own neighbour"
    assert all(len(set(row)) == k for row in indices), "a neighbour is listed twice"
    # The reported distances are the true ones ...
    true = np.linalg.norm(points[indices] - points[:, None, :], axis=2)
    np.testing.assert_allclose(distances, true, rtol=0, atol=1e-12)
    # ... and equal cKDTree's k smallest distances to other points (brute force for those).
    all_distances = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    np.fill_diagonal(all_distances, np.inf)
    expected = np.sort(all_distances, axis=1)[:, :k]
    np.testing.assert_allclose(distances, expected, rtol=0, atol=1e-12)
    # Rows ordered by (distance, index).
    for row_d, row_i in zip(distances, indices):
        pairs = list(zip(row_d, row_i))
        assert pairs == sorted(pairs)


@backends
@pytest.mark.parametrize("dims", [5, 6, 8])
def test_random_points_match_ckdtree_exactly(dims, backend):
    rng = np.random.default_rng(dims)
    points = rng.random((2000, dims))
    indices, distances = knn_query(points, 10, backend=backend)
    ref_distances, ref_indices = _reference(points, 10)
    # Bit-identical distances; no ties in random data, so the same indices too.
    np.testing.assert_array_equal(distances, ref_distances)
    np.testing.assert_array_equal(indices, ref_indices)
    _check_exact(points, 10, indices, distances)


@backends
def test_duplicates_and_ties_give_exact_distances(backend):
    rng = np.random.default_rng(3)
    # Points on a coarse grid: many exact duplicates and many equal distances.
    points = rng.integers(0, 3, size=(400, 5)).astype(np.float64)
    indices, distances = knn_query(points, 7, backend=backend)
    _check_exact(points, 7, indices, distances)
    np.testing.assert_array_equal(distances, _reference(points, 7)[0])
    # More duplicates of a point than k: all neighbours are at distance zero.
    points = np.vstack([np.zeros((20, 5)), rng.random((30, 5))])
    indices, distances = knn_query(points, 5, backend=backend)
    _check_exact(points, 5, indices, distances)
    assert np.all(distances[:20] == 0)


@backends
def test_image_features_match_ckdtree(backend):
    from matting.datasets import synthetic_composite
    from matting.laplacian.knn import knn_features

    image = synthetic_composite((24, 30), seed=2).image
    image[:8, :8] = 0.25  # a flat patch: ties in colour
    for name in ("hsv", "rgb"):
        points = knn_features(image, features=name)
        indices, distances = knn_query(points, 10, backend=backend)
        _check_exact(points, 10, indices, distances)
        np.testing.assert_array_equal(distances, _reference(points, 10)[0])


@backends
def test_exclude_self_false_includes_the_point_itself(backend):
    points = np.random.default_rng(0).random((50, 6))
    indices, distances = knn_query(points, 3, exclude_self=False, backend=backend)
    np.testing.assert_array_equal(indices[:, 0], np.arange(50))
    assert np.all(distances[:, 0] == 0)
    ref_distances, _ = cKDTree(points).query(points, k=3)
    np.testing.assert_array_equal(distances, ref_distances)


@backends
def test_deterministic_and_input_untouched(backend):
    points = np.random.default_rng(1).integers(0, 4, size=(300, 5)).astype(np.float64)
    before = points.copy()
    first = knn_query(points, 6, backend=backend)
    second = knn_query(points, 6, backend=backend)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    np.testing.assert_array_equal(points, before)


@backends
def test_queries_among_other_points_match_ckdtree(backend):
    rng = np.random.default_rng(4)
    points = rng.random((1500, 5))
    queries = rng.random((400, 5))
    queries[:20] = points[:20]  # queries that coincide with a point find it at distance 0
    indices, distances = knn_query(points, 8, queries=queries, backend=backend)
    ref_distances, ref_indices = cKDTree(points).query(queries, k=8)
    np.testing.assert_array_equal(distances, ref_distances)
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_array_equal(indices[:20, 0], np.arange(20))
    assert np.all(distances[:20, 0] == 0)
    # All points may be asked for (k = n), and ties still give exact distances.
    grid = rng.integers(0, 3, size=(60, 3)).astype(np.float64)
    asked = rng.integers(0, 3, size=(25, 3)).astype(np.float64)
    indices, distances = knn_query(grid, 60, queries=asked, backend=backend)
    brute = np.sort(np.linalg.norm(asked[:, None] - grid[None], axis=2), axis=1)
    np.testing.assert_allclose(distances, brute, rtol=0, atol=1e-12)
    assert all(sorted(row) == list(range(60)) for row in indices)


@pytest.mark.parametrize(
    "queries, options, message",
    [
        (np.zeros((3, 2)), {}, "coordinates"),
        (np.array([[0.0, 0.0, np.nan]]), {}, "NaN"),
        (np.zeros((0, 3)), {}, "non-empty"),
        (np.zeros((3, 3)), {"exclude_self": True}, "exclude_self"),
        (np.zeros((3, 3)), {"k": 11}, "k must be between 1 and 10"),
    ],
)
def test_bad_queries_raise(queries, options, message):
    points = np.random.default_rng(0).random((10, 3))
    options = {"k": 2, **options}
    with pytest.raises(ValueError, match=message):
        knn_query(points, queries=queries, **options)


@pytest.mark.parametrize(
    "points, k",
    [
        (np.zeros((5, 2)), 0),
        (np.zeros((5, 2)), 5),
        (np.zeros((5, 2)), 2.5),
        (np.zeros(5), 1),
        (np.zeros((0, 3)), 1),
        (np.array([[0.0, np.nan], [1.0, 1.0]]), 1),
        (np.array([[0.0, 1e200], [1.0, 1.0]]), 1),  # squared distances overflow
        (np.array([["a", "b"], ["c", "d"]]), 1),
    ],
)
def test_bad_arguments_raise(points, k):
    with pytest.raises(ValueError):
        knn_query(points, k)


def test_unknown_backend_raises():
    with pytest.raises(ValueError, match="backend"):
        knn_query(np.random.default_rng(0).random((10, 3)), 2, backend="faiss")


@pytest.mark.parametrize("leaf_heavy", [False, True])
def test_quantised_features_with_repeated_values_match_ckdtree(leaf_heavy):
    # Image-like features: coordinates on coarse grids (many points share each value, so
    # the tree's splits move the points equal to the median to one side), and optionally
    # most points sharing one value (the splits then fall back to plain medians).
    rng = np.random.default_rng(7)
    points = rng.integers(0, 12, size=(6000, 6)) / 11.0
    if leaf_heavy:
        points[:5000, 0] = 0.5
        points[:4000, 4] = 0.25
    indices, distances = knn_query(points, 10)
    reference = cKDTree(points).query(points, k=11)[0]
    # Duplicates are frequent: the point itself may hide behind another at distance zero,
    # so compare with cKDTree's k + 1 distances minus one zero.
    np.testing.assert_array_equal(distances, reference[:, 1:])
    assert not np.any(indices == np.arange(len(points))[:, None])
    true = np.linalg.norm(points[indices] - points[:, None, :], axis=2)
    np.testing.assert_allclose(distances, true, rtol=0, atol=1e-12)
    for row_d, row_i in zip(distances, indices):
        pairs = list(zip(row_d, row_i))
        assert pairs == sorted(pairs)


@pytest.mark.parametrize("backend", ["numba", "ckdtree"])
def test_workers_are_checked_for_both_backends(backend):
    points = np.random.default_rng(0).random((20, 3))
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="workers"):
            knn_query(points, 3, backend=backend, workers=bad)
