import numpy as np
import pytest

from matting.datasets import synthetic_composite
from matting.laplacian.closed_form import matting_laplacian
from matting.laplacian.learning_based import learning_based_laplacian
from matting.methods.learning_based import learning_based
from matting.metrics import mse, sad
from matting.trimap import windows_touching


def _dense_learning_based_laplacian(image, radius=1, lambda_=1e-7, window_mask=None):
    """Brute force from the paper: per window, ridge regression on [colour, 1] with the offset
    unpenalised (I_0), prediction matrix F, and (I - F)^T (I - F) added to the window."""
    height, width, _ = image.shape
    size = (2 * radius + 1) ** 2
    penalty = np.diag([1.0, 1.0, 1.0, 0.0])
    laplacian = np.zeros((height * width, height * width))
    for row in range(radius, height - radius):
        for col in range(radius, width - radius):
            if window_mask is not None and not window_mask[row, col]:
                continue
            rows, cols = np.mgrid[row - radius : row + radius + 1, col - radius : col + radius + 1]
            pixels = (rows * width + cols).ravel()
            design = np.hstack([image[rows, cols].reshape(-1, 3), np.ones((size, 1))])
            prediction = design @ np.linalg.solve(design.T @ design + lambda_ * penalty, design.T)
            residual = np.eye(size) - prediction
            laplacian[np.ix_(pixels, pixels)] += residual.T @ residual
    return laplacian


@pytest.mark.parametrize(("radius", "lambda_"), [(1, 1e-3), (1, 1e-7), (2, 1e-2)])
def test_laplacian_matches_dense_construction(radius, lambda_):
    image = np.random.default_rng(3).random((8, 9, 3))
    expected = _dense_learning_based_laplacian(image, radius, lambda_)
    laplacian = learning_based_laplacian(image, radius=radius, lambda_=lambda_)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(laplacian.toarray(), expected, atol=1e-9 * scale)


def test_laplacian_with_window_mask_matches_dense_construction():
    image = np.random.default_rng(5).random((9, 10, 3))
    unknown = np.zeros((9, 10), bool)
    unknown[3:5, 4:7] = True
    mask = windows_touching(unknown, 1)
    expected = _dense_learning_based_laplacian(image, 1, 1e-4, mask)
    laplacian = learning_based_laplacian(image, lambda_=1e-4, window_mask=mask)
    np.testing.assert_allclose(laplacian.toarray(), expected, atol=1e-9)


def test_window_block_is_the_square_of_the_closed_form_block():
    # One window: I - F is the closed-form block with eps = lambda, and L = (I - F)^2.
    image = np.random.default_rng(8).random((3, 3, 3))
    closed_form = matting_laplacian(image, eps=1e-3).toarray()
    learning = learning_based_laplacian(image, lambda_=1e-3).toarray()
    np.testing.assert_allclose(learning, closed_form @ closed_form, atol=1e-10)


def test_laplacian_structure():
    image = synthetic_composite((20, 24), seed=0).image
    laplacian = learning_based_laplacian(image)
    assert laplacian.format == "csr" and laplacian.has_canonical_format
    assert abs(laplacian - laplacian.T).max() == 0.0
    assert np.abs(laplacian @ np.ones(laplacian.shape[0])).max() < 1e-8
    # Positive semidefinite.
    assert np.linalg.eigvalsh(laplacian.toarray()).min() > -1e-8
    # A colour-linear alpha is predicted exactly by every window (up to the ridge).
    alpha = image @ np.array([0.2, -0.5, 0.7]) + 0.1
    assert np.abs(laplacian @ alpha.ravel()).max() < 1e-5


def test_synthetic_composite_error():
    composite = synthetic_composite((80, 100), seed=1)
    alpha = learning_based(composite.image, composite.trimap)
    # Measured: SAD 0.257, MSE 0.0239 (the paper's soft constraints, c = 800).
    assert sad(alpha, composite.alpha, composite.trimap) < 0.28
    assert mse(alpha, composite.alpha, composite.trimap) < 0.026
    hard = learning_based(composite.image, composite.trimap, constraints="hard")
    # Hard constraints (c -> infinity) barely differ.
    assert np.abs(hard - alpha).max() < 0.01
    assert sad(hard, composite.alpha, composite.trimap) < 0.28


def test_soft_constraints_on_support_match_a_solve_over_all_pixels():
    from scipy.sparse import diags
    from scipy.sparse.linalg import spsolve

    composite = synthetic_composite((30, 36), seed=2)
    alpha = learning_based(composite.image, composite.trimap, constraints="soft", c=800.0)
    laplacian = learning_based_laplacian(composite.image)
    known = (composite.trimap != 0.5).ravel().astype(float)
    values = np.where(composite.trimap == 0.5, 0.0, composite.trimap).ravel()
    full = spsolve((laplacian + diags(800.0 * known)).tocsc(), 800.0 * known * values)
    full = np.clip(full, 0, 1).reshape(composite.trimap.shape)
    unknown = composite.trimap == 0.5
    np.testing.assert_allclose(alpha[unknown], full[unknown], atol=1e-6)


def test_known_pixels_exact_range_info_and_foreground():
    composite = synthetic_composite((40, 50), seed=3)
    alpha, foreground, background, info = learning_based(
        composite.image, composite.trimap, return_foreground=True, return_info=True
    )
    known = composite.trimap != 0.5
    assert alpha.dtype == np.float64 and alpha.shape == composite.trimap.shape
    np.testing.assert_array_equal(alpha[known], composite.trimap[known])
    assert alpha.min() >= 0 and alpha.max() <= 1
    assert info.converged
    assert foreground.shape == background.shape == composite.image.shape


def test_uint8_inputs_no_unknown_pixels_and_inputs_untouched():
    composite = synthetic_composite((30, 40), seed=0)
    image = (composite.image * 255).round().astype(np.uint8)
    trimap = (composite.trimap * 255).astype(np.uint8)
    image_copy, trimap_copy = image.copy(), trimap.copy()
    first = learning_based(image, trimap)
    np.testing.assert_array_equal(first, learning_based(image, trimap))
    np.testing.assert_array_equal(image, image_copy)
    np.testing.assert_array_equal(trimap, trimap_copy)
    full = (composite.alpha > 0.5).astype(np.float64)
    alpha, info = learning_based(composite.image, full, return_info=True)
    np.testing.assert_array_equal(alpha, full)
    assert info is None


@pytest.mark.parametrize(
    "options",
    [
        {"radius": 0},
        {"radius": 1.5},
        {"lambda_": 0.0},
        {"lambda_": float("nan")},
        {"c": -1.0},
        {"c": float("inf")},
        {"constraints": "medium"},
        {"solver": "magic"},
    ],
)
def test_bad_arguments_raise(options):
    image = np.random.default_rng(0).random((16, 16, 3))
    trimap = np.full((16, 16), 0.5)
    trimap[:, :3], trimap[:, -3:] = 0, 1
    with pytest.raises(ValueError):
        learning_based(image, trimap, **options)


def test_laplacian_bad_arguments_raise():
    image = np.random.default_rng(0).random((5, 5, 3))
    for options in ({"radius": 3}, {"lambda_": -1.0}, {"window_mask": np.ones((4, 4), bool)}):
        with pytest.raises(ValueError):
            learning_based_laplacian(image, **options)
