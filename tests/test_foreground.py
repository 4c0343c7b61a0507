"""Tests for matting.foreground.estimate_foreground.

The synthetic composite has smooth random foreground and background colour fields (sums of
low-frequency sinusoids), and an alpha with a soft-edged disc and a linear ramp, so the true
F and B are known exactly. Error thresholds are set a little above what the implementation
measured (numbers in the comments), so a regression of the methods shows up here.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg

from matting.foreground import METHODS, _closed_form_system, estimate_foreground
from matting.linalg import ConvergenceWarning


def _smooth_field(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    field = np.empty((height, width, 3))
    for c in range(3):
        waves = np.zeros((height, width))
        for _ in range(4):
            fy, fx = rng.uniform(-3.0, 3.0, 2)
            waves += np.sin(2 * np.pi * (fy * y + fx * x) + rng.uniform(0.0, 2 * np.pi))
        field[..., c] = rng.uniform(0.3, 0.7) + 0.25 * waves / 4
    return np.clip(field, 0.0, 1.0)


def _synthetic(height: int = 120, width: int = 160, seed: int = 0):
    """(image, alpha, foreground, background) with image = a F + (1 - a) B exactly."""
    rng = np.random.default_rng(seed)
    foreground = _smooth_field(rng, height, width)
    background = _smooth_field(rng, height, width)
    y, x = np.mgrid[0:height, 0:width].astype(float)
    radius, soft = 0.25 * min(height, width), 0.08 * min(height, width)
    disc = np.clip((radius + soft / 2 - np.hypot(y - 0.5 * height, x - 0.6 * width)) / soft, 0, 1)
    in_strip = (y > 0.2 * height) & (y < 0.8 * height) & (x < 0.3 * width)
    ramp = np.clip((x - 0.05 * width) / (0.2 * width), 0.0, 1.0) * in_strip
    alpha = np.maximum(disc, ramp)
    image = alpha[..., None] * foreground + (1 - alpha[..., None]) * background
    return image, alpha, foreground, background


@pytest.fixture(scope="module")
def composite():
    return _synthetic()


@pytest.fixture(scope="module")
def results(composite):
    image, alpha, _, _ = composite
    return {method: estimate_foreground(image, alpha, method=method) for method in METHODS}


# Measured on the 120x160 composite: multilevel F 0.0149, B 0.0055; closed form F 0.0123,
# B 0.0053 (mean absolute error; F over alpha > 0.1, B over alpha < 0.9).
@pytest.mark.parametrize(
    ("method", "f_limit", "b_limit"), [("multilevel", 0.018, 0.007), ("closed_form", 0.015, 0.007)]
)
def test_recovers_true_foreground_and_background(composite, results, method, f_limit, b_limit):
    _, alpha, true_f, true_b = composite
    foreground, background = results[method]
    f_error = np.abs(foreground - true_f)[alpha > 0.1].mean()
    b_error = np.abs(background - true_b)[alpha < 0.9].mean()
    assert f_error < f_limit
    assert b_error < b_limit


@pytest.mark.parametrize("method", METHODS)
def test_output_shape_dtype_and_range(composite, results, method):
    image, _, _, _ = composite
    for result in results[method]:
        assert result.shape == image.shape
        assert result.dtype == np.float64
        assert result.min() >= 0.0 and result.max() <= 1.0


# Measured: mean residual 1.6e-5 (multilevel), 6.2e-5 (closed form); max 2.9e-3, 8.7e-3.
@pytest.mark.parametrize("method", METHODS)
def test_compositing_identity_holds(composite, results, method):
    image, alpha, _, _ = composite
    foreground, background = results[method]
    recomposed = alpha[..., None] * foreground + (1 - alpha[..., None]) * background
    residual = np.abs(recomposed - image)
    assert residual.mean() < 1e-4
    assert residual.max() < 1.5e-2


# Measured max |F - I| where alpha == 1: 9.7e-4 (multilevel), 3.3e-7 (closed form: its
# weight-100 prior pins F to I there).
@pytest.mark.parametrize(("method", "limit"), [("multilevel", 2e-3), ("closed_form", 1e-5)])
def test_opaque_pixels_keep_the_image_colour(composite, results, method, limit):
    image, alpha, _, _ = composite
    foreground, _ = results[method]
    opaque = alpha == 1.0
    assert opaque.sum() > 1000
    assert np.abs(foreground - image)[opaque].max() < limit


def _constant_case(alpha: np.ndarray, method: str):
    colour = np.array([0.8, 0.35, 0.1])
    image = np.broadcast_to(colour, alpha.shape + (3,))
    foreground, background = estimate_foreground(image, alpha, method=method)
    return np.abs(foreground - colour).max(axis=2), np.abs(background - colour).max(axis=2)


def _noisy_alpha(height: int = 40, width: int = 50) -> np.ndarray:
    rng = np.random.default_rng(3)
    alpha = _synthetic(height, width)[1] + 0.05 * rng.standard_normal((height, width))
    return np.clip(alpha, 0.0, 1.0)


def test_constant_colour_is_exact_multilevel():
    # Every local 2x2 solve maps F = B = colour to itself, on every level. Measured 5e-15.
    f_error, b_error = _constant_case(_noisy_alpha(), "multilevel")
    assert f_error.max() < 1e-12 and b_error.max() < 1e-12


def test_constant_colour_closed_form():
    # With every alpha inside [0.02, 0.98] none of solveFB's pull-to-black priors is active,
    # F = B = colour has zero cost, and the solve must keep it
    # (it is also the starting guess, so this checks the system, not the iterations).
    f_error, b_error = _constant_case(np.clip(_noisy_alpha(), 0.05, 0.95), "closed_form")
    assert f_error.max() < 1e-6 and b_error.max() < 1e-6
    # Otherwise solveFB's prior 0.01^2 F^2 where alpha < 0.02 (and 0.01^2 B^2 where
    # alpha > 0.98) biases the colours slightly: measured max 2.0e-3 (F over alpha > 0.02)
    # and 9.2e-4 (B over alpha < 0.98) on the clean matte. A faithful property of the
    # authors' formulation, not a solver error.
    alpha = _synthetic(40, 50)[1]
    f_error, b_error = _constant_case(alpha, "closed_form")
    assert f_error[alpha > 0.02].max() < 3e-3
    assert b_error[alpha < 0.98].max() < 1.5e-3
    assert f_error[alpha > 0.3].max() < 1.2e-3  # measured 8.1e-4


def test_multilevel_matches_pymatting(composite):
    pymatting = pytest.importorskip("pymatting")
    image, alpha, _, _ = composite
    foreground, background = estimate_foreground(image, alpha, method="multilevel")
    # Same algorithm and parameters; pymatting computes in float32. Measured max 4e-6.
    ref_f, ref_b = pymatting.estimate_foreground_ml(
        image, alpha, regularization=5e-3, gradient_weight=0.1, return_background=True
    )
    assert np.abs(foreground - ref_f).max() < 1e-4
    assert np.abs(background - ref_b).max() < 1e-4


def _solvefb_reference(image: np.ndarray, alpha: np.ndarray):
    """A loop-by-loop transcription of the authors' getGMatByMask and solveFB (MATLAB),
    kept in MATLAB's column-major pixel order, returning (A^T A, A^T b) of channel 0."""
    h, w = alpha.shape
    n = h * w
    a = alpha.ravel(order="F")
    band = (alpha >= 0.02) & (alpha <= 0.98)

    def vec(y, x):
        return y + x * h

    blocks = []
    for dy, dx, ys, xs in [
        (0, 1, range(h), range(w - 1)),
        (1, 0, range(h - 1), range(w)),
        (1, 1, range(h - 1), range(w - 1)),
        (-1, 1, range(1, h), range(w - 1)),
    ]:
        g = scipy.sparse.lil_matrix((n, n))
        for x in xs:
            for y in ys:
                if not band[y, x] and not band[y + dy, x + dx]:
                    continue
                g[vec(y, x), vec(y, x)] = 1.0
                g[vec(y, x), vec(y + dy, x + dx)] = -1.0
        blocks.append(g.tocsr())
    g = scipy.sparse.vstack(blocks).tocsr()
    ga = g @ a
    wgf = np.sqrt(np.abs(ga)) + 0.003 * np.tile(1 - a, 4)
    wgb = np.sqrt(np.abs(ga)) + 0.003 * np.tile(a, 4)
    wf = (a > 0.98) * 100 + 0.03 * a * (a > 0.7) + 0.01 * (a < 0.02)
    wb = (a < 0.02) * 100 + 0.03 * (1 - a) * (a < 0.3) + 0.01 * (a > 0.98)
    intensity = image[:, :, 0].ravel(order="F")
    diag = scipy.sparse.diags
    ag = scipy.sparse.block_diag([diag(wgf) @ g, diag(wgb) @ g])
    ai = scipy.sparse.block_diag([diag(wf), diag(wb)])
    as_ = scipy.sparse.hstack([diag(a), diag(1 - a)])
    big = scipy.sparse.vstack([ai, as_, ag]).tocsr()
    rhs = np.concatenate(
        [wf * intensity * (a > 0.02), wb * intensity * (a < 0.98), intensity, np.zeros(8 * n)]
    )
    return (big.T @ big).tocsr(), big.T @ rhs


def test_closed_form_system_matches_the_authors_formulation():
    rng = np.random.default_rng(5)
    h, w = 7, 9
    alpha = np.clip(rng.uniform(-0.3, 1.3, (h, w)), 0.0, 1.0)
    alpha[0, :4] = 0.01  # just below the band, and
    alpha[-1, -3:] = 0.99  # just above it
    image = rng.uniform(0.0, 1.0, (h, w, 3))
    ref_matrix, ref_rhs = _solvefb_reference(image, alpha)
    matrix, (weight_f, weight_b) = _closed_form_system(alpha)
    # Our unknowns are row-major; map MATLAB's column-major index to ours.
    n = h * w
    order = np.arange(n).reshape(h, w).ravel(order="F")
    perm = np.concatenate([order, order + n])
    ours = matrix[perm][:, perm].toarray()
    np.testing.assert_allclose(ours, ref_matrix.toarray(), rtol=1e-12, atol=1e-14)
    # The right-hand side as estimate_foreground forms it.
    a = alpha.ravel()
    red = image[:, :, 0].ravel()
    rhs = np.concatenate(
        [(weight_f**2 * (a > 0.02) + a) * red, (weight_b**2 * (a < 0.98) + (1 - a)) * red]
    )
    np.testing.assert_allclose(rhs[perm], ref_rhs, rtol=1e-12, atol=1e-14)


def test_closed_form_matches_a_direct_solve():
    image, alpha, _, _ = _synthetic(30, 40, seed=2)
    foreground, background = estimate_foreground(image, alpha, method="closed_form")
    matrix, (weight_f, weight_b) = _closed_form_system(alpha)
    a = alpha.ravel()
    colours = image.reshape(-1, 3)
    rhs = np.concatenate(
        [
            (weight_f**2 * (a > 0.02) + a)[:, None] * colours,
            (weight_b**2 * (a < 0.98) + (1 - a))[:, None] * colours,
        ]
    )
    exact = np.clip(scipy.sparse.linalg.spsolve(matrix.tocsc(), rhs), 0.0, 1.0)
    n = a.size
    assert np.abs(foreground.reshape(n, 3) - exact[:n]).max() < 1e-4
    assert np.abs(background.reshape(n, 3) - exact[n:]).max() < 1e-4


@pytest.mark.parametrize("method", METHODS)
def test_inputs_are_not_modified(method):
    image, alpha, _, _ = _synthetic(24, 32)
    image_u8 = np.round(image * 255).astype(np.uint8)
    for img, alp in [(image, alpha), (image_u8, alpha.astype(np.float32))]:
        img_copy, alp_copy = img.copy(), alp.copy()
        img.setflags(write=False)  # read-only input must be fine too
        estimate_foreground(img, alp, method=method)
        np.testing.assert_array_equal(img, img_copy)
        np.testing.assert_array_equal(alp, alp_copy)


@pytest.mark.parametrize("method", METHODS)
def test_other_input_kinds_and_tiny_images(method):
    image, alpha, _, _ = _synthetic(20, 30)
    gray = image.mean(axis=2)
    foreground, background = estimate_foreground(
        gray, np.round(alpha * 255).astype(np.uint8), method=method
    )
    assert foreground.shape == background.shape == (20, 30, 3)
    rgba = np.concatenate([image, np.ones((20, 30, 1))], axis=2)
    np.testing.assert_allclose(
        estimate_foreground(rgba, alpha, method=method)[0],
        estimate_foreground(image, alpha, method=method)[0],
    )
    for shape in [(1, 1), (1, 7), (5, 1)]:
        f, b = estimate_foreground(np.full(shape + (3,), 0.5), np.full(shape, 0.5), method=method)
        assert f.shape == b.shape == shape + (3,)
        assert np.all(np.isfinite(f)) and np.all(np.isfinite(b))


@pytest.mark.parametrize("method", METHODS)
def test_alpha_without_opaque_or_transparent_pixels(method):
    image, _, _, _ = _synthetic(20, 30)
    for alpha in [np.zeros((20, 30)), np.ones((20, 30)), np.full((20, 30), 0.5)]:
        foreground, background = estimate_foreground(image, alpha, method=method)
        assert np.all(np.isfinite(foreground)) and np.all(np.isfinite(background))
        recomposed = alpha[..., None] * foreground + (1 - alpha[..., None]) * background
        assert np.abs(recomposed - image).mean() < 1e-2


def test_bad_inputs_raise_value_error():
    image, alpha, _, _ = _synthetic(10, 12)
    with pytest.raises(ValueError, match="multilevel, closed_form"):
        estimate_foreground(image, alpha, method="bayesian")
    with pytest.raises(ValueError, match=r"\(10, 12\).*\(10, 11\)"):
        estimate_foreground(image, alpha[:, :11])
    with pytest.raises(ValueError, match="alpha"):
        estimate_foreground(image, alpha * 2.0)
    with pytest.raises(ValueError, match="alpha"):
        estimate_foreground(image, np.stack([alpha] * 3, axis=2))
    with pytest.raises(ValueError, match="image"):
        estimate_foreground(image * 255.0, alpha)
    with pytest.raises(ValueError, match="image"):
        estimate_foreground(image[..., :2], alpha)
    # 1e-17 used to round the 2x2 determinant to zero (ZeroDivisionError inside Numba).
    for bad in (0.0, 1e-17, 1e300, "x", True):
        with pytest.raises(ValueError, match="epsilon"):
            estimate_foreground(image, alpha, epsilon=bad)
    for bad in (True, 2**40):
        with pytest.raises(ValueError, match="n_small_iterations"):
            estimate_foreground(image, alpha, n_small_iterations=bad)
    # Each method's options are checked with the other method too, and text is refused.
    for bad in ("x", 5.0, -1.0):
        with pytest.raises(ValueError, match="rtol"):
            estimate_foreground(image, alpha, rtol=bad)
    for bad in (True, 2.5, 0):
        with pytest.raises(ValueError, match="maxiter"):
            estimate_foreground(image, alpha, maxiter=bad)
    with pytest.raises(ValueError, match="epsilon"):
        estimate_foreground(image, alpha, method="closed_form", epsilon=-1.0)
    with pytest.raises(ValueError, match="omega"):
        estimate_foreground(image, alpha, omega=-1.0)
    with pytest.raises(ValueError, match="n_big_iterations"):
        estimate_foreground(image, alpha, n_big_iterations=1.5)
    with pytest.raises(ValueError, match="rtol"):
        estimate_foreground(image, alpha, method="closed_form", rtol=0.0)
    with pytest.raises(ValueError, match="maxiter"):
        estimate_foreground(image, alpha, method="closed_form", maxiter=0)


def test_closed_form_warns_when_maxiter_cuts_the_solve_short():
    image, alpha, _, _ = _synthetic(30, 40)
    with pytest.warns(ConvergenceWarning, match="after 2 iterations; final relative residual"):
        foreground, _ = estimate_foreground(image, alpha, method="closed_form", maxiter=2)
    assert foreground.min() >= 0.0 and foreground.max() <= 1.0


def test_multilevel_recovers_flat_colours_across_a_wide_ramp():
    # The docstring's example: measured max error 2.5e-4 (F where alpha > 0.1, B where
    # alpha < 0.9). (solveFB's priors bias the closed form here: mean F error 0.11.)
    alpha = np.tile(np.linspace(0.0, 1.0, 64), (48, 1))
    fg, bg = np.array([0.9, 0.2, 0.1]), np.array([0.1, 0.3, 0.8])
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    foreground, background = estimate_foreground(image, alpha, method="multilevel")
    assert np.abs(foreground - fg)[alpha > 0.1].max() < 1e-3
    assert np.abs(background - bg)[alpha < 0.9].max() < 1e-3


def test_smallest_epsilon_gives_the_exact_layers_of_a_flat_image():
    # alpha 0.5 over one colour C: F = B = C costs nothing, and it is also the starting
    # guess (the image mean), so every per-pixel solve must return it, at the smallest
    # epsilon accepted too (the determinant of its 2x2 system is then about 1e-9).
    colour = np.array([0.2, 0.6, 0.9])
    image = np.broadcast_to(colour, (12, 14, 3)).copy()
    foreground, background = estimate_foreground(image, np.full((12, 14), 0.5), epsilon=1e-10)
    # To about 1e-7: the solution is a difference of O(1) terms that leaves O(epsilon).
    np.testing.assert_allclose(foreground, image, rtol=0, atol=1e-6)
    np.testing.assert_allclose(background, image, rtol=0, atol=1e-6)
