import colorsys

import numpy as np
import pytest
from scipy.spatial import cKDTree

from matting.datasets import synthetic_composite
from matting.laplacian.knn import knn_features, knn_laplacian
from matting.linalg import IsolatedPixelsWarning
from matting.methods.knn import knn


def _dense_knn_laplacian(image, k, features, spatial_weight):
    """Brute force, straight from the paper's definitions (with the authors' L1 / C kernel)."""
    height, width = image.shape[:2]
    rows = []
    for y in range(height):
        for x in range(width):
            colour = image[y, x]
            if features == "hsv":
                h, s, v = colorsys.rgb_to_hsv(*colour)
                values = [np.cos(2 * np.pi * h), np.sin(2 * np.pi * h), s, v]
            else:
                values = list(colour)
            scale = spatial_weight / np.hypot(height, width)
            rows.append(values + [y * scale, x * scale])
    feature = np.array(rows)
    n = len(feature)
    distance = np.linalg.norm(feature[:, None] - feature[None], axis=2)
    np.fill_diagonal(distance, np.inf)
    weights = np.zeros((n, n))
    for i in range(n):
        for j in np.argsort(distance[i], kind="stable")[:k]:
            l1 = np.abs(feature[i] - feature[j]).sum()
            weights[i, j] = max(1 - l1 / feature.shape[1], 0)
    affinity = (weights + weights.T) / 2
    return np.diag(affinity.sum(axis=1)) - affinity, feature


@pytest.mark.parametrize("features", ["hsv", "rgb"])
def test_laplacian_matches_dense_construction(features):
    image = np.random.default_rng(4).random((7, 9, 3))
    image[0, 0] = image[0, 1] = 0.5  # a gray pixel: hue undefined, taken as 0
    expected, feature = _dense_knn_laplacian(image, 5, features, 1.0)
    np.testing.assert_allclose(knn_features(image, features=features), feature, atol=1e-12)
    laplacian = knn_laplacian(image, n_neighbors=5, features=features)
    np.testing.assert_allclose(laplacian.toarray(), expected, atol=1e-12)


def test_laplacian_is_symmetric_with_zero_row_sums():
    image = synthetic_composite((20, 24), seed=0).image
    laplacian = knn_laplacian(image, n_neighbors=10, spatial_weight=0.5)
    assert laplacian.format == "csr" and laplacian.has_sorted_indices
    assert abs(laplacian - laplacian.T).max() < 1e-15
    assert np.abs(laplacian.sum(axis=1)).max() < 1e-12
    off_diagonal = laplacian - np.diag(laplacian.diagonal())
    assert off_diagonal.max() <= 0 and laplacian.diagonal().min() > 0
    # Each row: its K neighbours plus those that chose it, plus the diagonal.
    assert laplacian.nnz <= laplacian.shape[0] * (2 * 10 + 1)
    # Kernel values lie in [0, 1] (halved by the symmetrisation, summed when mutual).
    assert -off_diagonal.min() <= 1.0


def test_kernel_value_of_one_pair():
    # Two pixels: each is the other's only neighbour; A_01 = (k + k) / 2 = k.
    image = np.array([[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]])
    laplacian = knn_laplacian(image, n_neighbors=1, features="rgb", spatial_weight=1.0)
    l1 = 1 + 1 + 1 / np.hypot(1, 2)
    np.testing.assert_allclose(laplacian.toarray()[0, 1], -(1 - l1 / 5))


def test_synthetic_composite_error():
    composite = synthetic_composite((80, 100), seed=1)
    from matting.metrics import mse, sad

    alpha = knn(composite.image, composite.trimap)
    # Measured: SAD 0.331, MSE 0.0349 (soft constraints, the defaults).
    assert sad(alpha, composite.alpha, composite.trimap) < 0.36
    assert mse(alpha, composite.alpha, composite.trimap) < 0.038
    hard = knn(composite.image, composite.trimap, constraints="hard")
    # Measured: SAD 0.329; soft and hard constraints barely differ with lambda = 100.
    assert sad(hard, composite.alpha, composite.trimap) < 0.36
    assert np.abs(hard - alpha).max() < 0.05


def test_known_pixels_exact_range_and_dtype():
    composite = synthetic_composite((40, 50), seed=3)
    alpha, info = knn(composite.image, composite.trimap, return_info=True)
    known = composite.trimap != 0.5
    assert alpha.dtype == np.float64 and alpha.shape == composite.trimap.shape
    np.testing.assert_array_equal(alpha[known], composite.trimap[known])
    assert alpha.min() >= 0 and alpha.max() <= 1
    assert info.converged and info.solver == "ichol"


def test_uint8_inputs_and_no_unknown_pixels():
    composite = synthetic_composite((30, 40), seed=0)
    image = (composite.image * 255).round().astype(np.uint8)
    trimap = (composite.trimap * 255).astype(np.uint8)
    alpha = knn(image, trimap)
    assert alpha.shape == trimap.shape
    full = (composite.alpha > 0.5).astype(np.float64)
    alpha, info = knn(composite.image, full, return_info=True)
    np.testing.assert_array_equal(alpha, full)
    assert info is None


def test_deterministic_and_inputs_untouched():
    composite = synthetic_composite((30, 40), seed=2)
    image, trimap = composite.image.copy(), composite.trimap.copy()
    first = knn(image, trimap)
    second = knn(image, trimap)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(image, composite.image)
    np.testing.assert_array_equal(trimap, composite.trimap)


@pytest.mark.parametrize(
    "options",
    [
        {"n_neighbors": 0},
        {"n_neighbors": 16 * 16},
        {"n_neighbors": 2.5},
        {"features": "lab"},
        {"spatial_weight": -1.0},
        {"spatial_weight": 1e300},  # squared feature distances would overflow
        {"n_neighbors": float("nan")},
        {"n_neighbors": None},
        {"lambda_": 0.0},
        {"lambda_": -5.0},
        {"lambda_": float("nan")},
        {"constraints": "medium"},
        {"solver": "magic"},
    ],
)
def test_bad_arguments_raise(options):
    image = np.random.default_rng(0).random((16, 16, 3))
    trimap = np.full((16, 16), 0.5)
    trimap[:, :3], trimap[:, -3:] = 0, 1
    with pytest.raises(ValueError):
        knn(image, trimap, **options)


def test_laplacian_bad_arguments_raise():
    image = np.random.default_rng(0).random((4, 4, 3))
    for options in ({"n_neighbors": 16}, {"features": "HSV"}, {"spatial_weight": np.inf}):
        with pytest.raises(ValueError):
            knn_laplacian(image, **options)


def test_neighbours_agree_with_ckdtree_on_features():
    image = synthetic_composite((16, 20), seed=5).image
    feature = knn_features(image)
    laplacian = knn_laplacian(image, n_neighbors=4)
    _, indices = cKDTree(feature).query(feature, k=5)
    for i in range(0, feature.shape[0], 7):
        row = set(laplacian.indices[laplacian.indptr[i] : laplacian.indptr[i + 1]]) - {i}
        assert set(indices[i, 1:]) <= row


def test_a_colour_found_nowhere_else_is_reported_not_silently_zero():
    # A pure red block inside the unknown band: its pixels' nearest neighbours in feature
    # space are each other, so the KNN graph links them to no known pixel.
    rng = np.random.default_rng(0)
    image = np.clip(np.full((20, 24, 3), 0.5) + rng.normal(0, 0.01, (20, 24, 3)), 0, 1)
    image[8:13, 10:14] = [1.0, 0.0, 0.0]
    trimap = np.zeros((20, 24))
    trimap[:, 12:] = 1.0
    trimap[6:15, 8:16] = 0.5
    for constraints in ("soft", "hard"):
        with pytest.warns(IsolatedPixelsWarning, match="20 unknown pixel"):
            alpha = knn(image, trimap, constraints=constraints)
        np.testing.assert_array_equal(alpha[8:13, 10:14], 0.0)
        assert np.all(np.isfinite(alpha))


def test_huge_lambda_gives_the_hard_constraint_answer():
    # The soft system's right-hand side grows with lambda; stopping relative to it alone
    # left every unknown pixel at 0 ("converged" after one iteration) from lambda 1e8 on.
    composite = synthetic_composite((40, 40), seed=1, band=4)
    hard = knn(composite.image, composite.trimap, constraints="hard")
    unknown = composite.trimap == 0.5
    for lambda_ in (1e8, 1e20):
        soft = knn(composite.image, composite.trimap, lambda_=lambda_)
        assert np.abs(soft - hard)[unknown].max() < 1e-3
    # Beyond WEIGHT_LIMIT the right-hand side's squared norm would overflow.
    with pytest.raises(ValueError, match="lambda_"):
        knn(composite.image, composite.trimap, lambda_=1e200)
