import numpy as np
import pytest

from matting.datasets import synthetic_composite
from matting.laplacian.random_walk import (
    MIN_WEIGHT,
    edge_weights,
    lpp_colour_transform,
    random_walk_laplacian,
)
from matting.methods.random_walk import random_walk
from matting.metrics import mse, sad


def _dense_random_walk_laplacian(image, sigma, connectivity):
    """D - W straight from the definition: every pixel pair at lattice distance one."""
    height, width, _ = image.shape
    n = height * width
    weights = np.zeros((n, n))
    for y in range(height):
        for x in range(width):
            for ny in range(height):
                for nx in range(width):
                    step = max(abs(ny - y), abs(nx - x)) if connectivity == 8 else None
                    if connectivity == 4:
                        step = abs(ny - y) + abs(nx - x)
                    if step != 1:
                        continue
                    distance = np.sum((image[y, x] - image[ny, nx]) ** 2)
                    weight = max(np.exp(-distance / sigma**2), MIN_WEIGHT)
                    weights[y * width + x, ny * width + nx] = weight
    return np.diag(weights.sum(axis=1)) - weights


def _dense_dirichlet(laplacian, trimap):
    flat = trimap.ravel()
    unknown = flat == 0.5
    alpha = flat.copy()
    alpha[unknown] = np.linalg.solve(
        laplacian[np.ix_(unknown, unknown)], -laplacian[np.ix_(unknown, ~unknown)] @ flat[~unknown]
    )
    return alpha.reshape(trimap.shape)


@pytest.mark.parametrize("connectivity", [4, 8])
@pytest.mark.parametrize("sigma", [1 / 30, 0.2])
def test_laplacian_matches_dense_construction(connectivity, sigma):
    image = np.random.default_rng(connectivity).random((5, 6, 3)) * 0.3
    expected = _dense_random_walk_laplacian(image, sigma, connectivity)
    laplacian = random_walk_laplacian(
        image, sigma=sigma, connectivity=connectivity, colour_transform=None
    )
    np.testing.assert_allclose(laplacian.toarray(), expected, rtol=1e-13, atol=1e-300)
    assert laplacian.format == "csr" and laplacian.has_sorted_indices
    assert laplacian.indices.dtype == np.int32
    assert abs(laplacian - laplacian.T).max() == 0.0  # exactly symmetric
    np.testing.assert_allclose(laplacian @ np.ones(30), 0.0, atol=1e-12)
    # The default weights measure colours through the LPP map.
    transform = lpp_colour_transform(image, sigma=sigma, connectivity=connectivity)
    mapped = _dense_random_walk_laplacian(image @ transform.T, sigma, connectivity)
    default = random_walk_laplacian(image, sigma=sigma, connectivity=connectivity)
    np.testing.assert_allclose(default.toarray(), mapped, rtol=1e-12, atol=1e-300)


def test_row_mask_keeps_only_the_selected_rows():
    image = synthetic_composite((16, 18), seed=3).image
    mask = np.zeros((16, 18), dtype=bool)
    mask[3:7, 2:11] = True
    full = random_walk_laplacian(image, connectivity=8).toarray()
    partial = random_walk_laplacian(image, connectivity=8, row_mask=mask)
    assert partial.has_sorted_indices
    rows = mask.ravel()
    np.testing.assert_array_equal(partial.toarray()[rows], full[rows])
    assert not partial.toarray()[~rows].any()
    for bad in (mask.astype(int), mask[:, :-1]):
        with pytest.raises(ValueError):
            random_walk_laplacian(image, row_mask=bad)


def test_sigma_sets_the_weights_as_the_formula_says():
    image = synthetic_composite((20, 24), seed=0).image
    first = edge_weights(random_walk_laplacian(image, sigma=0.1, colour_transform=None))
    second = edge_weights(random_walk_laplacian(image, sigma=0.2, colour_transform=None))
    assert (first != second).nnz > 0
    # w = exp(-d^2 / sigma^2), so w(0.2) = w(0.1) ** (0.1^2 / 0.2^2) = w(0.1) ** 0.25,
    # wherever the weight is above the floor.
    above = first.data > MIN_WEIGHT
    np.testing.assert_allclose(second.data[above], first.data[above] ** 0.25, rtol=1e-12)
    # And one edge by hand: the pixel right of (3, 4).
    distance = np.sum((image[3, 4] - image[3, 5]) ** 2)
    i, j = 3 * 24 + 4, 3 * 24 + 5
    assert first[i, j] == pytest.approx(max(np.exp(-distance / 0.01), MIN_WEIGHT), rel=1e-13)


def test_colour_transform_maps_the_differences():
    image = synthetic_composite((16, 18), seed=1).image
    # Q = 2 I is sigma / 2; a single row projects onto one direction (here: gray level).
    doubled = random_walk_laplacian(image, sigma=0.2, colour_transform=2 * np.eye(3))
    plain = random_walk_laplacian(image, sigma=0.1, colour_transform=None)
    np.testing.assert_allclose(doubled.data, plain.data)
    gray = np.full((1, 3), 1 / 3)
    projected = edge_weights(random_walk_laplacian(image, sigma=0.1, colour_transform=gray))
    level = image.mean(axis=2)
    expected = np.exp(-((level[5, 6] - level[5, 7]) ** 2) / 0.01)
    assert projected[5 * 18 + 6, 5 * 18 + 7] == pytest.approx(max(expected, MIN_WEIGHT))
    for bad in (np.eye(2), np.ones((4, 3)), [[np.nan, 0, 0]], "pca"):
        with pytest.raises(ValueError):
            random_walk_laplacian(image, colour_transform=bad)


def _dense_lpp_moments(image, sigma, connectivity):
    """X^T L X and X^T D X over trace(D), from the dense lattice Laplacian of RGB weights."""
    laplacian = _dense_random_walk_laplacian(image, sigma, connectivity)
    degree = np.diag(laplacian)
    colours = image.reshape(-1, 3)
    centred = colours - degree @ colours / degree.sum()
    local = centred.T @ laplacian @ centred / degree.sum()
    spread = centred.T @ np.diag(degree) @ centred / degree.sum()
    return local, spread


@pytest.mark.parametrize("connectivity", [4, 8])
def test_lpp_transform_solves_the_generalised_eigenproblem(connectivity):
    image = synthetic_composite((16, 18), seed=4).image[:9, :11]
    local, spread = _dense_lpp_moments(image, 0.2, connectivity)
    transform = lpp_colour_transform(image, sigma=0.2, connectivity=connectivity)
    # Rows are the generalised eigenvectors (local q = lambda spread q) by increasing
    # lambda, spread-orthogonal, scaled so that the mapped colours keep the RGB variance.
    scale = np.trace(spread) / 3
    np.testing.assert_allclose(transform @ spread @ transform.T, scale * np.eye(3), atol=1e-12)
    eigenvalues = np.diag(transform @ local @ transform.T) / scale
    np.testing.assert_allclose(
        transform @ local @ transform.T, scale * np.diag(eigenvalues), atol=1e-12
    )
    assert np.all(np.diff(eigenvalues) > 0)
    # The metric of the weights is the inverse colour covariance, whatever the graph.
    np.testing.assert_allclose(transform.T @ transform, scale * np.linalg.inv(spread), rtol=1e-9)


def test_lpp_transform_of_gray_and_uniform_images():
    assert np.array_equal(lpp_colour_transform(np.full((6, 7, 3), 0.3)), np.eye(3))
    # One pixel has no pair to learn from: a clear error, not LAPACK's.
    with pytest.raises(ValueError, match="at least 2 pixels"):
        lpp_colour_transform(np.zeros((1, 1, 3)))
    # A gray image has no colour spread across channels: the floor keeps the map finite,
    # and it stretches gray steps the same for every pixel pair.
    gray = synthetic_composite((16, 16), seed=5).image[:12, :14].mean(axis=2)
    gray = np.repeat(gray[..., None], 3, axis=2)
    transform = lpp_colour_transform(gray)
    assert np.all(np.isfinite(transform))
    mapped = gray @ transform.T
    steps = np.abs(np.diff(mapped, axis=1)).sum(axis=2)
    gray_steps = np.abs(np.diff(gray[..., 0], axis=1))
    moving = gray_steps > 1e-3
    ratio = steps[moving] / gray_steps[moving]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    trimap = np.full((12, 14), 0.5)
    trimap[:, :2], trimap[:, -2:] = 0, 1
    alpha = random_walk(gray, trimap)
    assert np.all(np.isfinite(alpha)) and 0 <= alpha.min() and alpha.max() <= 1


def test_method_default_is_the_lpp_map():
    composite = synthetic_composite((30, 40), seed=6)
    transform = lpp_colour_transform(composite.image)
    np.testing.assert_array_equal(
        random_walk(composite.image, composite.trimap),
        random_walk(composite.image, composite.trimap, colour_transform=transform),
    )
    plain = random_walk(composite.image, composite.trimap, colour_transform=None)
    assert np.abs(plain - random_walk(composite.image, composite.trimap)).max() > 1e-3


def test_default_sigma_is_beta_900():
    image = np.zeros((1, 2, 3))
    image[0, 1] = 0.03  # ||d||^2 = 0.0027
    weights = edge_weights(random_walk_laplacian(image, colour_transform=None))
    assert weights[0, 1] == pytest.approx(np.exp(-900 * 0.0027), rel=1e-12)


def test_weights_never_underflow_to_zero():
    image = np.zeros((5, 5, 3))
    image[2, 2] = 1.0  # a white pixel walled in by black: exp(-2700) underflows
    laplacian = random_walk_laplacian(image)
    assert edge_weights(laplacian)[12, 13] == MIN_WEIGHT
    trimap = np.full((5, 5), 0.5)
    trimap[:, 0], trimap[:, -1] = 0, 1
    alpha = random_walk(image, trimap, solver="direct")
    assert np.all(np.isfinite(alpha))


def test_uniform_image_gives_the_linear_ramp():
    # All weights equal: the harmonic function between a background column and a foreground
    # column of a 4-connected strip is linear in x.
    image = np.full((6, 9, 3), 0.4)
    trimap = np.full((6, 9), 0.5)
    trimap[:, 0], trimap[:, -1] = 0, 1
    alpha = random_walk(image, trimap)
    np.testing.assert_allclose(alpha, np.tile(np.arange(9) / 8, (6, 1)), atol=1e-12)


def test_method_uses_sigma():
    composite = synthetic_composite((30, 40), seed=1)
    sharp = random_walk(composite.image, composite.trimap, sigma=0.05)
    soft = random_walk(composite.image, composite.trimap, sigma=0.2)
    assert np.abs(sharp - soft).max() > 0.05
    # With a huge sigma every weight is 1 (to 1e-12): colour no longer matters, and the
    # result is the walk on a uniform image.
    blind = random_walk(composite.image, composite.trimap, sigma=1e6)
    uniform = random_walk(np.full_like(composite.image, 0.5), composite.trimap)
    np.testing.assert_allclose(blind, uniform, atol=1e-9)


@pytest.mark.parametrize("connectivity", [4, 8])
def test_matches_dense_dirichlet_solution(connectivity):
    image = synthetic_composite((16, 18), seed=2, n_strands=2).image
    trimap = np.full((16, 18), 0.5)
    trimap[:, :3], trimap[:, 15:] = 0, 1
    trimap[6:9, 7:10] = 1
    transform = lpp_colour_transform(image, sigma=0.1, connectivity=connectivity)
    expected = _dense_dirichlet(
        _dense_random_walk_laplacian(image @ transform.T, 0.1, connectivity), trimap
    )
    # The maximum principle: the exact probabilities lie in [0, 1] without clipping.
    assert expected.min() >= -1e-12 and expected.max() <= 1 + 1e-12
    for solver in ("direct", "ichol"):
        alpha = random_walk(
            image, trimap, sigma=0.1, connectivity=connectivity, solver=solver, rtol=1e-12
        )
        np.testing.assert_allclose(alpha, expected, atol=1e-8)


def test_synthetic_composite_error():
    composite = synthetic_composite((120, 160), seed=1, band=6)
    alpha, info = random_walk(composite.image, composite.trimap, return_info=True)
    # Measured: SAD 0.884, MSE 0.0586 (4-connected, sigma 1/30, LPP map; plain RGB
    # distances give 1.157 and 0.0973).
    assert sad(alpha, composite.alpha, composite.trimap) < 0.95
    assert mse(alpha, composite.alpha, composite.trimap) < 0.065
    assert info.converged


def test_known_pixels_exact_range_dtype_and_inputs_untouched():
    composite = synthetic_composite((40, 50), seed=3)
    image, trimap = composite.image.copy(), composite.trimap.copy()
    alpha = random_walk(image, trimap)
    known = trimap != 0.5
    assert alpha.dtype == np.float64 and alpha.shape == trimap.shape
    np.testing.assert_array_equal(alpha[known], trimap[known])
    assert alpha.min() >= 0 and alpha.max() <= 1
    np.testing.assert_array_equal(alpha, random_walk(image, trimap))
    np.testing.assert_array_equal(image, composite.image)
    np.testing.assert_array_equal(trimap, composite.trimap)


def test_uint8_inputs_foreground_and_no_unknown_pixels():
    composite = synthetic_composite((30, 40), seed=0)
    image = (composite.image * 255).round().astype(np.uint8)
    trimap = (composite.trimap * 255).astype(np.uint8)
    alpha, foreground, background = random_walk(image, trimap, return_foreground=True)
    assert alpha.shape == trimap.shape and foreground.shape == background.shape == image.shape
    full = (composite.alpha > 0.5).astype(np.float64)
    alpha, info = random_walk(composite.image, full, return_info=True)
    np.testing.assert_array_equal(alpha, full)
    assert info is None


@pytest.mark.parametrize(
    "options",
    [
        {"sigma": 0.0},
        {"sigma": -0.1},
        {"sigma": float("nan")},
        {"sigma": True},
        {"sigma": 1e-200},  # 1 / sigma^2 overflows
        {"sigma": 1e200},
        {"connectivity": 6},
        {"connectivity": [4]},  # unhashable: used to raise TypeError
        {"connectivity": True},
        {"solver": "magic"},
        {"rtol": -1.0},
    ],
)
def test_bad_arguments_raise(options):
    image = np.random.default_rng(0).random((16, 16, 3))
    trimap = np.full((16, 16), 0.5)
    trimap[:, :3], trimap[:, -3:] = 0, 1
    with pytest.raises(ValueError):
        random_walk(image, trimap, **options)
