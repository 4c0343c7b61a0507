import numpy as np
import pytest
from reference import dense_constrained_alpha, dense_matting_laplacian, dense_scribble_alpha

import matting
from matting.datasets import synthetic_composite
from matting.trimap import windows_touching


def _two_colour_ramp(height=12, width=30):
    """Constant red foreground over constant blue background with alpha rising left to right."""
    alpha = np.tile(np.clip((np.arange(width) - 5) / (width - 11), 0, 1), (height, 1))
    foreground, background = np.array([0.9, 0.2, 0.1]), np.array([0.1, 0.3, 0.8])
    image = alpha[..., None] * foreground + (1 - alpha[..., None]) * background
    trimap = np.full(alpha.shape, 0.5)
    trimap[:, :3] = 0
    trimap[:, -3:] = 1
    return image, trimap, alpha


def test_two_colour_linear_ramp_is_reproduced():
    # With constant F and B, alpha is an affine function of colour in every window, the case
    # in which the paper proves the true alpha minimises the cost (eps -> 0).
    image, trimap, alpha = _two_colour_ramp()
    result = matting.closed_form(image, trimap)
    assert np.abs(result - alpha).max() < 1e-4


@pytest.mark.parametrize("radius", [1, 2])
def test_hard_constraints_match_a_dense_reference(radius):
    rng = np.random.default_rng(radius)
    image = rng.random((9, 11, 3))
    trimap = np.full((9, 11), 0.5)
    trimap[:, :2] = 0
    trimap[:, -2:] = 1
    trimap[0, 5] = 1
    expected = dense_constrained_alpha(dense_matting_laplacian(image, radius, 1e-5), trimap)
    result = matting.closed_form(image, trimap, radius=radius, eps=1e-5, solver="direct")
    np.testing.assert_allclose(result, expected, atol=1e-8)


def test_scribbles_match_the_authors_formulation_densely():
    # solveAlpha of Levin et al.'s code: all pixels free, scribbles pulled with lambda = 100,
    # and windows whose every pixel is scribbled are skipped (getLaplacian1 erodes the map).
    rng = np.random.default_rng(5)
    image = rng.random((10, 12, 3))
    scribbles = np.full((10, 12), 0.5)
    scribbles[1:4, 1:5] = 1
    scribbles[7:10, 6:12] = 0
    window_mask = windows_touching(scribbles == 0.5, 1)
    expected = dense_scribble_alpha(dense_matting_laplacian(image, 1, 1e-7, window_mask), scribbles)
    result = matting.closed_form(image, scribbles=scribbles, solver="direct")
    np.testing.assert_allclose(result, expected, atol=1e-7)


@pytest.fixture(scope="module")
def composite():
    return synthetic_composite((90, 120), seed=1)


@pytest.mark.parametrize(
    "solver", ["direct", "cg", "jacobi", "ichol", "amg", "amg-rn", "multigrid"]
)
def test_every_solver_gives_the_same_alpha(composite, solver):
    reference = matting.closed_form(composite.image, composite.trimap, solver="direct")
    result = matting.closed_form(
        composite.image, composite.trimap, solver=solver, rtol=1e-10, maxiter=20000
    )
    assert np.abs(result - reference).max() < 1e-4


def test_synthetic_composite_reaches_stated_error(composite):
    alpha = matting.closed_form(composite.image, composite.trimap)
    unknown = composite.trimap == 0.5
    assert np.all(alpha[~unknown] == composite.trimap[~unknown])
    # Measured: MSE 0.0189, SAD 0.260 (pymatting's estimate_alpha_cf gives the same to 1e-6);
    # filling the unknown region with 0.5 gives MSE 0.185, SAD 1.39.
    assert matting.metrics.mse(alpha, composite.alpha, composite.trimap) < 0.021
    assert matting.metrics.sad(alpha, composite.alpha, composite.trimap) < 0.29


def test_outputs_info_determinism_and_untouched_inputs(composite):
    image, trimap = composite.image.copy(), composite.trimap.copy()
    alpha, foreground, background, info = matting.closed_form(
        image, trimap, return_foreground=True, return_info=True
    )
    np.testing.assert_array_equal(image, composite.image)
    np.testing.assert_array_equal(trimap, composite.trimap)
    assert foreground.shape == background.shape == image.shape
    assert info.converged and info.residuals[-1] <= 1e-7
    np.testing.assert_array_equal(alpha, matting.closed_form(image, trimap))


def test_trimap_without_unknown_pixels_is_returned():
    trimap = np.zeros((6, 6))
    trimap[:, 3:] = 1
    alpha, info = matting.closed_form(
        np.random.default_rng(0).random((6, 6, 3)), trimap, return_info=True
    )
    np.testing.assert_array_equal(alpha, trimap)
    assert info is None


def test_bad_arguments_raise_clear_errors():
    image, trimap, _ = _two_colour_ramp()
    with pytest.raises(ValueError, match="exactly one of trimap= .* or scribbles="):
        matting.closed_form(image)
    with pytest.raises(ValueError, match="exactly one of trimap= .* or scribbles="):
        matting.closed_form(image, trimap, scribbles=trimap)
    with pytest.raises(
        ValueError, match=r"trimap has shape \(12, 29\) but the image is \(12, 30\)"
    ):
        matting.closed_form(image, trimap[:, 1:])
    with pytest.raises(ValueError, match="no foreground"):
        matting.closed_form(image, np.minimum(trimap, 0.5))
    with pytest.raises(ValueError, match="solver"):
        matting.closed_form(image, trimap, solver="magic")
    with pytest.raises(ValueError, match="solver must be one of"):
        matting.closed_form(image, trimap, solver=None)
    with pytest.raises(ValueError, match="levels must be a positive integer"):
        matting.closed_form(image, trimap, levels=float("nan"))
    with pytest.raises(ValueError, match="confident_alpha"):
        matting.closed_form(image, trimap, levels=2, confident_alpha=None)
    # The window check comes before the memory estimate, which would otherwise ask for
    # an absurd amount of memory.
    with pytest.raises(ValueError, match="a window of radius 1000000 needs"):
        matting.closed_form(image, trimap, radius=10**6)
    # Options the trimap path does not use are still checked, not silently accepted.
    with pytest.raises(ValueError, match="lambda_"):
        matting.closed_form(image, trimap, lambda_=float("nan"))
    with pytest.raises(ValueError, match="tile_overlap"):
        matting.closed_form(image, trimap, tile_overlap=-1)
    # The trimap path builds its system from arguments it checked itself, eps included.
    for bad in (float("nan"), 0.0, -1e-7, "1e-7"):
        with pytest.raises(ValueError, match="eps must be a finite positive number"):
            matting.closed_form(image, trimap, eps=bad)


def test_constraint_helpers_normalise_trimaps_and_check_the_laplacian():
    from matting.laplacian import matting_laplacian
    from matting.linalg import solve_hard_constraints

    image, trimap, _ = _two_colour_ramp()
    laplacian = matting_laplacian(image)
    encoded = np.where(trimap == 0.5, 128, trimap * 255).astype(np.uint8)
    np.testing.assert_allclose(
        solve_hard_constraints(laplacian, encoded, solver="direct"),
        solve_hard_constraints(laplacian, trimap, solver="direct"),
    )
    with pytest.raises(ValueError, match="laplacian has shape"):
        solve_hard_constraints(laplacian, trimap[:, 1:])


def test_constraint_helpers_take_a_laplacian_builder():
    # A builder gives the same answers as the matrix (it only lets the full matrix be freed
    # early), and what it builds is checked like a matrix passed in.
    from matting.laplacian import matting_laplacian
    from matting.linalg import solve_hard_constraints, solve_soft_constraints

    image, trimap, _ = _two_colour_ramp()
    laplacian = matting_laplacian(image)
    np.testing.assert_array_equal(
        solve_hard_constraints(lambda: matting_laplacian(image), trimap, solver="direct"),
        solve_hard_constraints(laplacian, trimap, solver="direct"),
    )
    np.testing.assert_array_equal(
        solve_soft_constraints(lambda: laplacian, trimap, 100.0, solver="direct"),
        solve_soft_constraints(laplacian, trimap, 100.0, solver="direct"),
    )
    # overwrite_laplacian=True may change the matrix (and must give the same answer); without
    # it the matrix is left alone.
    before = laplacian.copy()
    scratch = laplacian.copy()
    np.testing.assert_allclose(
        solve_soft_constraints(scratch, trimap, 100.0, solver="direct", overwrite_laplacian=True),
        solve_soft_constraints(laplacian, trimap, 100.0, solver="direct"),
        atol=1e-12,
    )
    assert abs(laplacian - before).max() == 0
    assert abs(scratch - before).max() > 0
    with pytest.raises(ValueError, match="laplacian has shape"):
        solve_hard_constraints(lambda: laplacian, trimap[:, 1:])
    with pytest.raises(ValueError, match="laplacian has shape"):
        solve_soft_constraints(lambda: laplacian, trimap[:, 1:], 100.0)


def test_soft_constraints_precondition_constrained_rows_by_their_diagonal(monkeypatch):
    # With incomplete Cholesky, the rows lambda pins get Jacobi (ichol's diagonal_rows),
    # unless the caller's options say otherwise; the answer is the direct solver's.
    import importlib

    from matting.laplacian import matting_laplacian
    from matting.linalg import ichol, solve_soft_constraints

    # (matting.linalg.solve the attribute is the function; the module is imported by name.)
    solve_module = importlib.import_module("matting.linalg.solve")
    seen = []

    def recording_ichol(matrix, **options):
        seen.append(options.get("diagonal_rows"))
        return ichol(matrix, **options)

    monkeypatch.setattr(solve_module, "ichol", recording_ichol)
    composite = synthetic_composite((40, 50), seed=2)
    laplacian = matting_laplacian(composite.image)
    exact = solve_soft_constraints(laplacian, composite.trimap, 100.0, solver="direct")
    alpha = solve_soft_constraints(laplacian, composite.trimap, 100.0, solver="ichol", rtol=1e-10)
    np.testing.assert_allclose(alpha, exact, atol=1e-6)
    np.testing.assert_array_equal(seen[0], (composite.trimap != 0.5).ravel())
    solve_soft_constraints(
        laplacian, composite.trimap, 100.0, solver="ichol", options={"diagonal_rows": None}
    )
    assert seen[1] is None
    solve_soft_constraints(laplacian, composite.trimap, 100.0, solver="jacobi")
    assert len(seen) == 2


def test_affine_upsampling_reproduces_an_alpha_linear_in_colour():
    from matting._pyramid import affine_upsample, downsample

    image, _, alpha = _two_colour_ramp(24, 40)
    coarse_image = np.stack([downsample(image[:, :, c]) for c in range(3)], axis=2)
    coarse_alpha = downsample(alpha)
    upsampled = affine_upsample(coarse_alpha, coarse_image, image, 1, 1e-7)
    # Away from the ramp's kinks (where alpha is clipped) the model is exact.
    interior = (alpha > 0.1) & (alpha < 0.9)
    assert np.abs(upsampled - alpha)[interior].max() < 1e-3


def test_coarse_to_fine_stays_close_to_the_exact_solution():
    case = synthetic_composite((160, 200), seed=2)
    exact = matting.closed_form(case.image, case.trimap)
    alpha = matting.closed_form(case.image, case.trimap, levels=3)
    known = case.trimap != 0.5
    np.testing.assert_array_equal(alpha[known], case.trimap[known])
    sad_exact = matting.metrics.sad(exact, case.alpha, case.trimap)
    sad_coarse = matting.metrics.sad(alpha, case.alpha, case.trimap)
    # Measured: SAD 0.649 exact, 0.662 with three levels; mean difference 0.0016.
    assert sad_coarse < 1.15 * sad_exact
    assert np.abs(alpha - exact).mean() < 0.01


def test_coarse_to_fine_on_an_image_too_small_to_halve_solves_exactly():
    image, trimap, _ = _two_colour_ramp(4, 30)  # halved: 2 rows, less than a window
    np.testing.assert_array_equal(
        matting.closed_form(image, trimap, levels=4, solver="direct"),
        matting.closed_form(image, trimap, solver="direct"),
    )
    with pytest.raises(ValueError, match="levels"):
        matting.closed_form(image, trimap, levels=0)
    with pytest.raises(ValueError, match="confident_alpha"):
        matting.closed_form(image, trimap, levels=2, confident_alpha=0.7)


def test_scribbles_with_huge_lambda_give_the_trimap_answer():
    # Every known pixel scribbled: as lambda grows, the soft solution tends to the hard one.
    composite = synthetic_composite((40, 40), seed=1, band=4)
    hard = matting.closed_form(composite.image, composite.trimap)
    unknown = composite.trimap == 0.5
    for lambda_ in (1e8, 1e20):
        soft = matting.closed_form(
            composite.image, scribbles=composite.trimap, lambda_=lambda_, solver="ichol"
        )
        assert np.abs(soft - hard)[unknown].max() < 1e-3
