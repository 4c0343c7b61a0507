import warnings

import numpy as np
import pytest
from reference import dense_matting_laplacian

import matting
from matting.datasets import synthetic_composite
from matting.laplacian import matting_laplacian
from matting.methods.closed_form import closed_form
from matting.methods.spectral import (
    SpectralInfo,
    _all_binary,
    _best_grouping,
    _initial_labels,
    _smallest_eigenpairs,
    _sparsify,
    _with_exact_constant,
    spectral,
    spectral_components,
)
from matting.metrics import sad


def _two_layers(height=40, width=48):
    """A soft disc of one smooth colour field over another: I = a F + (1 - a) B exactly."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    distance = np.hypot(rows - height / 2, cols - width / 2)
    alpha = np.clip((12 - distance) / 4 + 0.5, 0, 1)
    foreground = np.stack([0.8 + 0.1 * rows / height, 0.3 + 0.1 * cols / width, 0.2 + 0 * rows], 2)
    background = np.stack([0.1 + 0 * rows, 0.2 + 0.2 * rows / height, 0.7 + 0.2 * cols / width], 2)
    weight = alpha[:, :, None]
    return weight * foreground + (1 - weight) * background, alpha


def _trimap_of(alpha):
    trimap = np.full(alpha.shape, 0.5)
    trimap[alpha == 1] = 1
    trimap[alpha == 0] = 0
    return trimap


@pytest.fixture(scope="module")
def composite():
    return synthetic_composite((48, 64), seed=1, n_strands=10)


@pytest.fixture(scope="module")
def components_and_info(composite):
    return spectral_components(composite.image, return_info=True)


def test_components_sum_to_one_lie_in_unit_range_and_are_reproducible(
    composite, components_and_info
):
    components, info = components_and_info
    assert components.dtype == np.float64
    assert components.shape[:2] == composite.image.shape[:2]
    assert 2 <= components.shape[2] <= 10
    assert components.shape[2] + info.n_dropped == 10
    np.testing.assert_allclose(components.sum(axis=2), 1.0, atol=1e-12)
    assert components.min() >= 0.0 and components.max() <= 1.0
    again = spectral_components(composite.image.copy())
    np.testing.assert_array_equal(components, again)
    # Ordered by decreasing mass.
    mass = components.sum(axis=(0, 1))
    assert np.all(np.diff(mass) <= 0)


def test_sparsification_lowers_the_sparsity_cost(composite):
    laplacian = matting_laplacian(composite.image)
    eigenvalues, vectors = _smallest_eigenpairs(laplacian, 50, "shift-invert", 1e-6, None)
    vectors = _with_exact_constant(vectors)
    labels = _initial_labels(vectors, eigenvalues, 10, 0)

    def excess_cost(n_iterations):
        # sum_k |a^k|^g + |1 - a^k|^g per pixel is exactly K for a binary decomposition.
        values, _ = _sparsify(vectors, eigenvalues, labels, 10, 0.9, n_iterations)
        cost = (np.abs(values) ** 0.9 + np.abs(1 - values) ** 0.9).sum(axis=1) - 10
        np.testing.assert_allclose(values.sum(axis=1), 1.0, atol=1e-10)
        return cost.mean()

    projected, sparsified = excess_cost(1), excess_cost(20)
    # Measured: 0.467 after the projection of the k-means indicators, 0.169 after 20 steps.
    assert sparsified < 0.5 * projected


def test_eigenvalues_match_dense_decomposition(composite):
    image = composite.image[:24, :30]
    laplacian = dense_matting_laplacian(image)
    expected = np.linalg.eigvalsh(laplacian)[:12]
    for solver in ("shift-invert", "dense"):
        _, info = spectral_components(
            image, n_eigenvectors=12, n_components=3, solver=solver, rtol=0, return_info=True
        )
        assert info.eigen_solver == solver
        np.testing.assert_allclose(info.eigenvalues, expected, rtol=1e-6, atol=1e-12)


def test_two_layers_are_separated():
    image, alpha = _two_layers()
    components = spectral_components(image, n_components=2, n_eigenvectors=10)
    # One component is the disc's matte, the other its complement (measured error 0.04).
    disc = int(np.argmin([np.abs(components[:, :, k] - alpha).max() for k in range(2)]))
    assert np.abs(components[:, :, disc] - alpha).max() < 0.06
    assert np.abs(components[:, :, 1 - disc] - (1 - alpha)).max() < 0.06


def test_two_layers_with_trimap_scribbles_and_unsupervised():
    image, alpha = _two_layers()
    options = {"n_eigenvectors": 20, "n_components": 5}
    alpha_trimap = spectral(image, _trimap_of(alpha), **options)
    assert np.abs(alpha_trimap - alpha).max() < 0.08  # measured 0.054
    scribbles = np.full(alpha.shape, 0.5)
    scribbles[20, 22:26] = 1
    scribbles[2, 2:10] = 0
    alpha_scribbles = spectral(image, scribbles=scribbles, **options)
    assert np.abs(alpha_scribbles - alpha).max() < 0.08  # measured 0.056
    assert np.all(alpha_scribbles[scribbles == 1] == 1) and np.all(alpha_scribbles[2, 2:10] == 0)
    mattes, costs = spectral(image, n_components=2, n_eigenvectors=10)
    assert mattes.shape == (1,) + alpha.shape and costs.shape == (1,)
    # Oriented towards the object inside the frame, not the background.
    assert np.abs(mattes[0] - alpha).max() < 0.06


def test_trimap_grouping_is_the_brute_force_minimiser():
    composite = synthetic_composite((24, 30), seed=3, n_strands=3, band=1)
    components = spectral_components(composite.image, n_components=6, n_eigenvectors=20)
    alpha, info = spectral(
        composite.image, composite.trimap, components=components, return_info=True
    )
    laplacian = dense_matting_laplacian(composite.image)
    unknown = composite.trimap == 0.5
    # The paper's rule: a component mostly inside the known foreground (background) is in it.
    mass = components.sum(axis=(0, 1))
    in_foreground = components[composite.trimap == 1].sum(axis=0) / mass > 0.5
    in_background = components[composite.trimap == 0].sum(axis=0) / mass > 0.5
    # Here three components are fixed to the background and three are searched.
    assert in_background.any() and not np.all(in_foreground | in_background)
    best, best_cost = None, np.inf
    for grouping in _all_binary(components.shape[2]).astype(bool):
        if np.any(grouping[in_background]) or not np.all(grouping[in_foreground]):
            continue
        candidate = np.where(unknown, components @ grouping, composite.trimap).ravel()
        cost = candidate @ laplacian @ candidate
        if cost < best_cost:
            best, best_cost = grouping, cost
    np.testing.assert_array_equal(info.groupings, best)
    np.testing.assert_allclose(alpha, np.where(unknown, components @ best, composite.trimap))


def test_greedy_grouping_fixes_given_entries_and_finds_separable_optimum():
    rng = np.random.default_rng(0)
    count = 20
    quadratic = np.diag(rng.uniform(1, 2, count))
    target = rng.integers(0, 2, count).astype(float)
    linear = -quadratic @ target  # minimiser over binary vectors: target itself
    fixed = np.full(count, -1.0)
    fixed[0] = 1 - target[0]
    grouping, _ = _best_grouping(quadratic, linear, fixed)
    assert grouping[0] == bool(fixed[0])
    np.testing.assert_array_equal(grouping[1:], target[1:].astype(bool))


def test_synthetic_composite_error_against_closed_form(composite, components_and_info):
    components, _ = components_and_info
    alpha = spectral(composite.image, composite.trimap, components=components)
    known = composite.trimap != 0.5
    np.testing.assert_array_equal(alpha[known], composite.trimap[known])
    assert alpha.min() >= 0 and alpha.max() <= 1
    ours = sad(alpha, composite.alpha, composite.trimap)
    reference = sad(
        closed_form(composite.image, composite.trimap), composite.alpha, composite.trimap
    )
    flat_guess = sad(composite.trimap, composite.alpha, composite.trimap)  # 0.5 where unknown
    # Measured: 0.262 against closed-form's 0.092 and the flat guess's 0.50 on this small
    # case: a sum of ten components cannot follow the thin strands (see docs/spectral.md).
    assert ours < 0.3 and ours < 3.5 * reference and ours < 0.6 * flat_guess


def test_downscaled_components_stay_valid_and_close():
    image, alpha = _two_layers(80, 96)
    components, info = spectral_components(
        image, n_components=2, n_eigenvectors=10, downscale=2, return_info=True
    )
    assert info.downscale == 2.0
    np.testing.assert_allclose(components.sum(axis=2), 1.0, atol=1e-12)
    assert components.min() >= 0 and components.max() <= 1
    disc = int(np.argmin([np.abs(components[:, :, k] - alpha).mean() for k in range(2)]))
    # The affine upsampling recovers the soft edge from half resolution (measured 0.00054).
    assert np.abs(components[:, :, disc] - alpha).mean() < 0.005


def test_auto_downscale_only_for_large_images():
    image, _ = _two_layers()
    _, info = spectral_components(image, n_components=2, n_eigenvectors=6, return_info=True)
    assert info.downscale == 1.0


def test_return_info_foreground_and_inputs_untouched():
    image, alpha = _two_layers()
    trimap = _trimap_of(alpha)
    image_copy, trimap_copy = image.copy(), trimap.copy()
    alpha_out, foreground, background, info = spectral(
        image, trimap, n_components=3, n_eigenvectors=8, return_foreground=True, return_info=True
    )
    assert isinstance(info, SpectralInfo)
    np.testing.assert_array_equal(alpha_out[trimap != 0.5], trimap[trimap != 0.5])
    assert info.components.shape == image.shape[:2] + (info.groupings.size,)
    assert foreground.shape == background.shape == image.shape
    assert set(info.seconds) >= {"eigenvectors", "sparsify", "grouping"}
    np.testing.assert_array_equal(image, image_copy)
    np.testing.assert_array_equal(trimap, trimap_copy)
    uint8 = spectral(
        (image * 255).round().astype(np.uint8),
        (trimap * 255).astype(np.uint8),
        n_components=3,
        n_eigenvectors=8,
    )
    assert uint8.shape == alpha.shape


def test_unsupervised_candidates_are_ranked():
    image, _ = _two_layers()
    mattes, costs, info = spectral(
        image, n_components=4, n_eigenvectors=12, n_candidates=3, return_info=True
    )
    assert mattes.shape == (3,) + image.shape[:2]
    assert np.all(np.diff(costs) >= 0)
    assert info.groupings.shape == (3, info.components.shape[2])
    for matte, grouping in zip(mattes, info.groupings, strict=True):
        np.testing.assert_allclose(matte, info.components @ grouping, atol=1e-12)


def test_plot_components_makes_a_grid():
    image, _ = _two_layers()
    components = spectral_components(image, n_components=3, n_eigenvectors=8)
    figure = matting.plot.components(components, image=image, columns=2)
    shown = [axes for axes in figure.axes if axes.images]
    assert len(shown) == 1 + components.shape[2]
    with pytest.raises(ValueError):
        matting.plot.components(components[:, :, 0])


@pytest.mark.parametrize(
    "options",
    [
        {"n_eigenvectors": 1},
        {"n_components": 1},
        {"n_components": 12, "n_eigenvectors": 10},
        {"sparsity": 0.0},
        {"sparsity": 1.5},
        {"n_iterations": 0},
        {"downscale": 0.5},
        {"downscale": "half"},
        {"solver": "lobpcg"},
        {"rtol": -1.0},
        {"rtol": 2.0},
        {"rtol": "1e-6"},
        {"maxiter": 0},
        {"n_components": 2.5},
        {"seed": 1.5},
        {"seed": -1},
    ],
)
def test_bad_component_options_raise(options):
    image, _ = _two_layers(20, 20)
    with pytest.raises(ValueError):
        spectral_components(image, **options)


def test_bad_spectral_arguments_raise():
    image, alpha = _two_layers(20, 20)
    trimap = _trimap_of(alpha)
    with pytest.raises(ValueError, match="at most one"):
        spectral(image, trimap, scribbles=trimap)
    with pytest.raises(ValueError, match="lambda_"):
        spectral(image, scribbles=trimap, lambda_=0)
    with pytest.raises(ValueError, match="n_candidates"):
        spectral(image, n_candidates=0)
    with pytest.raises(ValueError, match="return_foreground"):
        spectral(image, return_foreground=True)
    with pytest.raises(ValueError, match="components"):
        spectral(image, trimap, components=np.ones((20, 21, 3)))
    with pytest.raises(ValueError, match="trimap"):
        spectral(image, trimap[:, :10])
    with pytest.raises(ValueError, match="image"):
        spectral(np.full((20, 20, 3), 2.0), trimap)


def test_no_convergence_warning_on_normal_run():
    image, _ = _two_layers()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spectral_components(image, n_components=3, n_eigenvectors=8)


def test_sparsity_far_below_the_papers_is_reported_not_silent():
    # Random colours: the reweighted systems' conditioning grows fastest as sparsity drops
    # (Cholesky pivot bound measured 1.3e7 at 0.9, 1e13 at 0.2, failure at 0.1).
    noise = np.random.default_rng(5).random((40, 50, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spectral_components(noise)  # the paper's 0.9: no warning
    with pytest.warns(matting.linalg.ConvergenceWarning, match="sparsity=0.2"):
        components = spectral_components(noise, sparsity=0.2)
    np.testing.assert_allclose(components.sum(axis=2), 1.0, atol=1e-12)
    with pytest.raises(ValueError, match="sparsity=0.05"):
        spectral_components(noise, sparsity=0.05)
