import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from matting.datasets import synthetic_composite
from matting.laplacian.closed_form import matting_laplacian
from matting.laplacian.large_kernel import large_kernel_laplacian, large_kernel_product
from matting.linalg import ConvergenceWarning, cg, jacobi
from matting.methods.closed_form import closed_form
from matting.methods.large_kernel import large_kernel
from matting.metrics import mse, sad


def _dense_large_window_laplacian(image, radius, eps):
    """Levin et al.'s eq. 12, window by window, for windows fully inside the image."""
    height, width, _ = image.shape
    size = (2 * radius + 1) ** 2
    laplacian = np.zeros((height * width, height * width))
    for row in range(radius, height - radius):
        for col in range(radius, width - radius):
            rows, cols = np.mgrid[row - radius : row + radius + 1, col - radius : col + radius + 1]
            pixels = (rows * width + cols).ravel()
            colours = image[rows, cols].reshape(-1, 3)
            mean = colours.mean(axis=0)
            centred = colours - mean
            covariance = centred.T @ centred / size
            inverse = np.linalg.inv(covariance + eps / size * np.eye(3))
            block = np.eye(size) - (1 + centred @ inverse @ centred.T) / size
            laplacian[np.ix_(pixels, pixels)] += block
    return laplacian


def _dense_hard_solve(laplacian, trimap):
    flat = trimap.ravel()
    unknown = flat == 0.5
    alpha = flat.copy()
    alpha[unknown] = np.linalg.solve(
        laplacian[np.ix_(unknown, unknown)], -laplacian[np.ix_(unknown, ~unknown)] @ flat[~unknown]
    )
    return np.clip(alpha, 0, 1).reshape(trimap.shape)


@pytest.mark.parametrize(("shape", "radius"), [((9, 11), 2), ((12, 10), 3), ((7, 7), 3)])
def test_product_and_diagonal_match_dense_brute_force(shape, radius):
    rng = np.random.default_rng(radius)
    image = rng.random(shape + (3,))
    dense = _dense_large_window_laplacian(image, radius, 1e-5)
    operator = large_kernel_laplacian(image, radius=radius, eps=1e-5)
    vectors = rng.standard_normal((shape[0] * shape[1], 3))
    for vector in vectors.T:
        np.testing.assert_allclose(operator @ vector, dense @ vector, rtol=0, atol=1e-9)
    np.testing.assert_allclose(operator.diagonal(), np.diag(dense), rtol=0, atol=1e-9)


@pytest.mark.parametrize("radius", [1, 2, 4])
def test_product_matches_sparse_matting_laplacian(radius):
    rng = np.random.default_rng(10 + radius)
    image = synthetic_composite((24, 30), seed=radius).image
    sparse = matting_laplacian(image, radius=radius, eps=1e-7)
    operator = large_kernel_laplacian(image, radius=radius, eps=1e-7)
    vector = rng.random(image.shape[0] * image.shape[1])
    expected = sparse @ vector
    scale = np.abs(expected).max()
    np.testing.assert_allclose(operator @ vector, expected, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(operator.diagonal(), sparse.diagonal(), rtol=1e-9)


def test_operator_is_symmetric_psd_with_zero_row_sums():
    rng = np.random.default_rng(3)
    image = synthetic_composite((40, 50), seed=0).image
    operator = large_kernel_laplacian(image, radius=5)
    x, y = rng.standard_normal((2, 2000))
    assert abs(x @ (operator @ y) - y @ (operator @ x)) < 1e-8 * abs(x @ (operator @ y))
    assert x @ (operator @ x) > 0
    ones = operator @ np.ones(2000)
    assert np.abs(ones).max() < 1e-6 * operator.diagonal().max()
    assert isinstance(operator, LinearOperator) and operator.shape == (2000, 2000)
    np.testing.assert_allclose(operator.rmatvec(x), operator.matvec(x))


def test_product_function_keeps_shape_and_checks_it():
    image = np.random.default_rng(0).random((12, 14, 3))
    p = np.random.default_rng(1).random((12, 14))
    product = large_kernel_product(image, p, radius=3)
    assert product.shape == (12, 14)
    np.testing.assert_allclose(
        product.ravel(), large_kernel_laplacian(image, radius=3) @ p.ravel(), rtol=1e-12
    )
    with pytest.raises(ValueError):
        large_kernel_product(image, np.ones((14, 12)), radius=3)


def test_cg_accepts_a_linear_operator():
    # The matrix-free path of the shared PCG gives what the CSR path gives.
    matrix = sp.diags([-1.0, 2.05, -1.0], [-1, 0, 1], shape=(200, 200)).tocsr()
    operator = LinearOperator(matrix.shape, matvec=lambda v: matrix @ v, dtype=np.float64)
    b = np.random.default_rng(0).random(200)
    expected, expected_info = cg(matrix, b, M=jacobi(matrix), return_info=True)
    x, info = cg(operator, b, M=jacobi(matrix), return_info=True)
    np.testing.assert_allclose(x, expected, rtol=1e-12)
    assert info.iterations == expected_info.iterations and info.converged
    with pytest.raises(ValueError):
        cg(LinearOperator((3, 4), matvec=lambda v: v[:3], dtype=float), np.ones(3))


def test_radius_one_solves_the_closed_form_system():
    composite = synthetic_composite((40, 50), seed=2)
    ours = large_kernel(composite.image, composite.trimap, radius=1, constraints="hard", rtol=1e-10)
    reference = closed_form(composite.image, composite.trimap, solver="direct")
    np.testing.assert_allclose(ours, reference, atol=1e-6)


def test_hard_constraints_match_dense_solve():
    composite = synthetic_composite((20, 24), seed=4, n_strands=3)
    image, trimap = composite.image, composite.trimap
    expected = _dense_hard_solve(_dense_large_window_laplacian(image, 3, 1e-7), trimap)
    alpha = large_kernel(image, trimap, radius=3, constraints="hard", rtol=1e-12, maxiter=5000)
    np.testing.assert_allclose(alpha, expected, atol=1e-6)


def test_soft_constraints_match_dense_solve():
    composite = synthetic_composite((20, 24), seed=4, n_strands=3)
    image, trimap = composite.image, composite.trimap
    laplacian = _dense_large_window_laplacian(image, 3, 1e-7)
    known = (trimap != 0.5).ravel().astype(float)
    values = np.where(trimap == 0.5, 0.0, trimap).ravel()
    expected = np.linalg.solve(laplacian + 100 * np.diag(known), 100 * known * values)
    expected = np.clip(expected, 0, 1).reshape(trimap.shape)
    expected[trimap != 0.5] = trimap[trimap != 0.5]
    alpha = large_kernel(image, trimap, radius=3, rtol=1e-12, maxiter=5000)
    np.testing.assert_allclose(alpha, expected, atol=1e-6)


def test_cropping_to_the_unknown_region_changes_nothing():
    # The unknown region is small and far from the borders, so the crop is strict; solving
    # on the full image (by marking a far corner unknown too) gives the same alpha there.
    composite = synthetic_composite((90, 90), seed=0, n_strands=0)
    trimap = np.where(composite.alpha > 0.5, 1.0, 0.0)
    trimap[40:48, 30:60] = 0.5
    alpha = large_kernel(composite.image, trimap, radius=4, constraints="hard", rtol=1e-12)
    wider = trimap.copy()
    wider[0, 0] = 0.5
    reference = large_kernel(composite.image, wider, radius=4, constraints="hard", rtol=1e-12)
    np.testing.assert_allclose(alpha[40:48, 30:60], reference[40:48, 30:60], atol=1e-8)


def test_synthetic_composite_error():
    composite = synthetic_composite((120, 160), seed=1, band=6)
    alpha, info = large_kernel(composite.image, composite.trimap, return_info=True)
    # Measured: SAD 1.002, MSE 0.0406 (radius 10, soft constraints, 46 Jacobi-PCG iterations).
    assert sad(alpha, composite.alpha, composite.trimap) < 1.1
    assert mse(alpha, composite.alpha, composite.trimap) < 0.045
    assert info.converged and info.solver == "jacobi" and info.iterations < 100
    hard = large_kernel(composite.image, composite.trimap, constraints="hard")
    # Measured: SAD 0.905, MSE 0.0366 with hard constraints.
    assert sad(hard, composite.alpha, composite.trimap) < 1.0
    assert mse(hard, composite.alpha, composite.trimap) < 0.04
    small = large_kernel(composite.image, composite.trimap, radius=2)
    # Measured: SAD 0.781 with radius 2 (the thin strands favour small windows).
    assert sad(small, composite.alpha, composite.trimap) < 0.85


def test_known_pixels_exact_range_dtype_and_inputs_untouched():
    composite = synthetic_composite((40, 50), seed=3)
    image, trimap = composite.image.copy(), composite.trimap.copy()
    alpha = large_kernel(image, trimap, radius=3)
    known = trimap != 0.5
    assert alpha.dtype == np.float64 and alpha.shape == trimap.shape
    np.testing.assert_array_equal(alpha[known], trimap[known])
    assert alpha.min() >= 0 and alpha.max() <= 1
    np.testing.assert_array_equal(alpha, large_kernel(image, trimap, radius=3))
    np.testing.assert_array_equal(image, composite.image)
    np.testing.assert_array_equal(trimap, composite.trimap)


def test_uint8_inputs_foreground_and_no_unknown_pixels():
    composite = synthetic_composite((30, 40), seed=0)
    image = (composite.image * 255).round().astype(np.uint8)
    trimap = (composite.trimap * 255).astype(np.uint8)
    alpha, foreground, background = large_kernel(image, trimap, radius=3, return_foreground=True)
    assert alpha.shape == trimap.shape and foreground.shape == background.shape == image.shape
    full = (composite.alpha > 0.5).astype(np.float64)
    alpha, info = large_kernel(composite.image, full, return_info=True)
    np.testing.assert_array_equal(alpha, full)
    assert info is None


def test_unpreconditioned_solver_and_iteration_limit():
    composite = synthetic_composite((40, 50), seed=1)
    _, info = large_kernel(
        composite.image, composite.trimap, radius=3, solver="cg", return_info=True
    )
    assert info.solver == "cg" and info.converged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ConvergenceWarning):
            large_kernel(composite.image, composite.trimap, radius=3, maxiter=2)


@pytest.mark.parametrize(
    "options",
    [
        {"radius": 0},
        {"radius": 2.5},
        {"radius": True},
        {"radius": 8},  # windows of 17 pixels do not fit a 16x16 image
        {"eps": 0.0},
        {"eps": float("nan")},
        {"solver": "ichol"},
        {"constraints": "medium"},
        {"lambda_": 0.0},
        {"lambda_": float("nan")},
        {"solver": "magic"},
        {"rtol": -1.0},
    ],
)
def test_bad_arguments_raise(options):
    image = np.random.default_rng(0).random((16, 16, 3))
    trimap = np.full((16, 16), 0.5)
    trimap[:, :3], trimap[:, -3:] = 0, 1
    with pytest.raises(ValueError):
        large_kernel(image, trimap, **options)


def test_laplacian_bad_arguments_raise():
    image = np.random.default_rng(0).random((6, 6, 3))
    for options in ({"radius": 3}, {"radius": -1}, {"eps": -1.0}, {"eps": "1e-7"}):
        with pytest.raises(ValueError):
            large_kernel_laplacian(image, **options)


def test_huge_lambda_gives_the_hard_constraint_answer():
    # As for KNN matting: from lambda 1e8 on the soft solve used to stop at once with every
    # unknown pixel at 0.
    composite = synthetic_composite((40, 40), seed=1, band=4)
    hard = large_kernel(composite.image, composite.trimap, radius=2, constraints="hard")
    unknown = composite.trimap == 0.5
    for lambda_ in (1e8, 1e20):
        soft = large_kernel(composite.image, composite.trimap, radius=2, lambda_=lambda_)
        # Solved to sqrt(rtol) of the constraints' pull, not to rtol: Jacobi-CG's error.
        assert np.abs(soft - hard)[unknown].max() < 5e-3
