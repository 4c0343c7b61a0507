"""Tests for the closed-form matting Laplacian (Levin, Lischinski, Weiss, TPAMI 2008)."""

from __future__ import annotations

import tracemalloc

import numba
import numpy as np
import pytest
import scipy.sparse
from reference import dense_matting_laplacian

from matting.laplacian import matting_laplacian, matting_laplacian_system
from matting.laplacian._windows import box_any
from matting.linalg import split_system
from matting.trimap import windows_touching

# --------------------------------------------------------------------------------------------
# Brute-force references: plain loops that follow eq. 12 literally.
# --------------------------------------------------------------------------------------------


def windows_containing_both(shape, radius):
    """count[i, j] = number of full windows containing pixels i and j (brute force)."""
    height, width = shape
    count = np.zeros((height * width, height * width))
    for ky in range(radius, height - radius):
        for kx in range(radius, width - radius):
            pixels = [
                y * width + x
                for y in range(ky - radius, ky + radius + 1)
                for x in range(kx - radius, kx + radius + 1)
            ]
            count[np.ix_(pixels, pixels)] += 1
    return count


def assert_canonical_csr(matrix, n_pixels):
    assert isinstance(matrix, scipy.sparse.csr_matrix)
    assert matrix.shape == (n_pixels, n_pixels)
    assert matrix.dtype == np.float64
    assert matrix.has_canonical_format
    # Recompute canonical form from scratch and compare: the flag must not lie.
    rebuilt = scipy.sparse.csr_matrix(matrix.toarray())
    np.testing.assert_array_equal(matrix.indptr, rebuilt.indptr)
    np.testing.assert_array_equal(matrix.indices, rebuilt.indices)
    np.testing.assert_array_equal(matrix.data, rebuilt.data)


@pytest.fixture
def rng():
    return np.random.default_rng(20080201)


# --------------------------------------------------------------------------------------------
# Agreement with the formula
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("radius", [1, 2])
@pytest.mark.parametrize("eps", [1e-7, 1e-3])
def test_matches_dense_matting_laplacian(rng, radius, eps):
    image = rng.random((7, 9, 3))
    laplacian = matting_laplacian(image, radius=radius, eps=eps)
    assert_canonical_csr(laplacian, 63)
    expected = dense_matting_laplacian(image, radius, eps)
    np.testing.assert_allclose(laplacian.toarray(), expected, rtol=0, atol=1e-10)
    # Exactly the pairs that share a window are stored (random colours: no exact zeros).
    shares_window = windows_containing_both((7, 9), radius) > 0
    np.testing.assert_array_equal(laplacian.toarray() != 0, shares_window)


@pytest.mark.parametrize(
    ("shape", "radius"),
    [((3, 3), 1), ((3, 8), 1), ((8, 3), 1), ((5, 5), 2), ((5, 11), 2), ((6, 4), 1)],
)
def test_small_and_narrow_images(rng, shape, radius):
    # One window row or column, and widths below the 4r+1 stencil: checks index ordering.
    image = rng.random((*shape, 3))
    laplacian = matting_laplacian(image, radius=radius)
    assert_canonical_csr(laplacian, shape[0] * shape[1])
    np.testing.assert_allclose(
        laplacian.toarray(), dense_matting_laplacian(image, radius, 1e-7), rtol=0, atol=1e-10
    )


@pytest.mark.parametrize("radius", [1, 2])
def test_symmetric_rows_sum_to_zero_and_psd(rng, radius):
    image = rng.random((7, 9, 3))
    laplacian = matting_laplacian(image, radius=radius)
    # Exactly symmetric: each pair term is computed once and written to both entries.
    assert abs(laplacian - laplacian.T).max() == 0.0
    # Constant alpha costs nothing: L 1 = 0.
    scale = abs(laplacian).max()
    assert np.abs(laplacian @ np.ones(63)).max() <= 1e-12 * scale * 63
    # Positive semidefinite: a sum of per-window PSD blocks.
    eigenvalues = np.linalg.eigvalsh(laplacian.toarray())
    assert eigenvalues.min() >= -1e-9
    assert eigenvalues[0] < 1e-9  # and singular: the constants are in the nullspace


def test_constant_image_has_analytic_values():
    # Constant colour: I_i - mu_k = 0, so each window adds delta_ij - 1/|w_k| whatever eps.
    height, width, radius = 8, 10, 1
    image = np.full((height, width, 3), 0.3)
    expected = windows_containing_both((height, width), radius)
    expected = np.diag(np.diag(expected)) - expected / 9.0
    for eps in (1e-7, 1e-2):
        laplacian = matting_laplacian(image, radius=radius, eps=eps).toarray()
        np.testing.assert_allclose(laplacian, expected, rtol=0, atol=1e-12)
    # Interior pixel: 9 windows, diagonal 9 * (1 - 1/9) = 8, neighbour at offset (dy, dx)
    # shares (3 - |dy|) (3 - |dx|) windows.
    laplacian = matting_laplacian(image, radius=radius)
    i = 4 * width + 5
    assert laplacian[i, i] == pytest.approx(8.0)
    assert laplacian[i, i + 1] == pytest.approx(-6 / 9)
    assert laplacian[i, i + width + 1] == pytest.approx(-4 / 9)
    assert laplacian[i, i + 2] == pytest.approx(-3 / 9)
    assert laplacian[i, i + 2 * width + 2] == pytest.approx(-1 / 9)
    assert laplacian[i, i + 3] == 0.0
    # A single window: L = I - 1/9.
    single = matting_laplacian(np.full((3, 3, 3), 0.7)).toarray()
    np.testing.assert_allclose(single, np.eye(9) - 1.0 / 9.0, atol=1e-12)


def two_colour_image(rng, height=12, width=14):
    """I = alpha F + (1 - alpha) B with constant F, B and random alpha: colours on a line."""
    foreground = np.array([0.9, 0.6, 0.2])
    background = np.array([0.1, 0.3, 0.7])
    alpha = rng.random((height, width))
    return alpha[..., None] * foreground + (1.0 - alpha[..., None]) * background, alpha.ravel()


def test_alpha_linear_in_colour_is_in_nullspace(rng):
    # Theorem 2 of the paper: with F and B constant over each window, alpha is an affine
    # function of I in every window, so L alpha -> 0 as eps -> 0 (linearly in eps).
    image, alpha = two_colour_image(rng)
    residual = {
        eps: np.abs(matting_laplacian(image, radius=1, eps=eps) @ alpha).max()
        for eps in (1e-3, 1e-5, 1e-7, 1e-9)
    }
    assert residual[1e-7] < 1e-5
    assert residual[1e-9] < 1e-7
    for larger, smaller in ((1e-3, 1e-5), (1e-5, 1e-7), (1e-7, 1e-9)):
        assert residual[smaller] < residual[larger] / 50
    # A vector that is not affine in the colour is far from the nullspace.
    other = rng.random(alpha.size)
    assert np.abs(matting_laplacian(image) @ other).max() > 1e-2


@pytest.mark.parametrize("eps", [1e-5, 1e-7])
def test_accurate_when_colours_lie_on_a_line(rng, eps):
    # Nearly singular regularised covariance: the 3x3 inverse must stay accurate (an adjugate
    # formula loses about 1e-4 here at eps = 1e-7).
    image, _ = two_colour_image(rng, 7, 9)
    laplacian = matting_laplacian(image, radius=1, eps=eps).toarray()
    np.testing.assert_allclose(laplacian, dense_matting_laplacian(image, 1, eps), rtol=0, atol=1e-8)


def test_accepts_uint8_and_gray(rng):
    image = rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    laplacian = matting_laplacian(image)
    expected = matting_laplacian(image / 255.0)
    np.testing.assert_array_equal(laplacian.toarray(), expected.toarray())
    gray = rng.random((6, 7))
    np.testing.assert_array_equal(
        matting_laplacian(gray).toarray(),
        matting_laplacian(np.repeat(gray[..., None], 3, axis=2)).toarray(),
    )


# --------------------------------------------------------------------------------------------
# window_mask
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("radius", [1, 2])
def test_window_mask_restricts_exactly(rng, radius):
    image = rng.random((7, 9, 3))
    window_mask = rng.random((7, 9)) < 0.4
    window_mask[0, 0] = True  # a border centre: its window is not inside, so it is ignored
    laplacian = matting_laplacian(image, radius=radius, window_mask=window_mask)
    assert_canonical_csr(laplacian, 63)
    expected = dense_matting_laplacian(image, radius, 1e-7, window_mask)
    np.testing.assert_allclose(laplacian.toarray(), expected, rtol=0, atol=1e-10)
    assert abs(laplacian - laplacian.T).max() == 0.0


def test_window_mask_all_false_gives_empty_matrix(rng):
    laplacian = matting_laplacian(rng.random((5, 6, 3)), window_mask=np.zeros((5, 6), bool))
    assert laplacian.shape == (30, 30)
    assert laplacian.nnz == 0
    np.testing.assert_array_equal(laplacian.indptr, np.zeros(31))


@pytest.mark.parametrize("radius", [1, 2])
def test_rows_of_unknown_pixels_equal_the_full_laplacian(rng, radius):
    # What the caller relies on: every window containing an unknown pixel is active, so the
    # unknown rows (hence L_UU and L_UK) are those of the full Laplacian.
    image = rng.random((16, 19, 3))
    unknown = np.zeros((16, 19), bool)
    unknown[5:9, 6:12] = True
    unknown[0:2, 0:3] = True  # touching the border
    full = matting_laplacian(image, radius=radius)
    masked = matting_laplacian(image, radius=radius, window_mask=windows_touching(unknown, radius))
    rows = np.flatnonzero(unknown)
    np.testing.assert_allclose(masked[rows].toarray(), full[rows].toarray(), rtol=0, atol=1e-12)
    # Rows far from the unknown region are empty.
    far = np.ones((16, 19), bool)
    far[: 2 + 2 * radius, : 3 + 2 * radius] = False
    far[5 - 2 * radius : 9 + 2 * radius, 6 - 2 * radius : 12 + 2 * radius] = False
    assert masked[np.flatnonzero(far)].nnz == 0


@pytest.mark.parametrize("radius", [1, 2])
def test_system_equals_the_split_laplacian_bit_for_bit(rng, radius):
    image = rng.random((17, 21, 3))
    free = rng.random((17, 21)) < 0.3  # scattered free pixels, some on the border
    free[0, 0] = free[-1, -1] = True
    fixed = rng.random((17, 21))  # fractional fixed values, as a tile's boundary ring
    fixed[free] = np.nan  # never read
    image_before, free_before, fixed_before = image.copy(), free.copy(), fixed.copy()
    system, right_hand_side = matting_laplacian_system(image, free, fixed, radius=radius)
    laplacian = matting_laplacian(image, radius=radius, window_mask=windows_touching(free, radius))
    expected, expected_rhs = split_system(
        laplacian, np.flatnonzero(free), np.nan_to_num(fixed).ravel()
    )
    assert_canonical_csr(system, free.sum())
    np.testing.assert_array_equal(system.indptr, expected.indptr)
    np.testing.assert_array_equal(system.indices, expected.indices)
    np.testing.assert_array_equal(system.data, expected.data)
    np.testing.assert_array_equal(right_hand_side, expected_rhs)
    # The same system as from the whole Laplacian (every window), to rounding.
    whole, whole_rhs = split_system(
        matting_laplacian(image, radius=radius), np.flatnonzero(free), np.nan_to_num(fixed).ravel()
    )
    np.testing.assert_allclose(system.toarray(), whole.toarray(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(right_hand_side, whole_rhs, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(image, image_before)
    np.testing.assert_array_equal(free, free_before)
    np.testing.assert_array_equal(fixed, fixed_before)


def test_system_with_no_free_pixel_is_empty(rng):
    system, right_hand_side = matting_laplacian_system(
        rng.random((5, 6, 3)), np.zeros((5, 6), bool), np.zeros((5, 6))
    )
    assert system.shape == (0, 0) and right_hand_side.shape == (0,)


def test_system_arguments_are_checked(rng):
    image = rng.random((6, 7, 3))
    free = np.zeros((6, 7), bool)
    free[2:4, 2:5] = True
    with pytest.raises(ValueError, match="free must be a boolean"):
        matting_laplacian_system(image, free.astype(int), np.zeros((6, 7)))
    with pytest.raises(ValueError, match="free has shape"):
        matting_laplacian_system(image, free[:5], np.zeros((6, 7)))
    with pytest.raises(ValueError, match="fixed_values has shape"):
        matting_laplacian_system(image, free, np.zeros((6, 6)))
    fixed = np.zeros((6, 7))
    fixed[0, 0] = np.inf
    with pytest.raises(ValueError, match="fixed_values contains NaN"):
        matting_laplacian_system(image, free, fixed)
    with pytest.raises(ValueError, match="eps"):
        matting_laplacian_system(image, free, np.zeros((6, 7)), eps=-1.0)


def test_memory_follows_the_active_windows(rng):
    # A small unknown region on a large image must not cost a full rows x stencil buffer.
    image = rng.random((300, 400, 3))
    unknown = np.zeros((300, 400), bool)
    unknown[100:110, 100:120] = True
    window_mask = windows_touching(unknown, 1)
    matting_laplacian(image[:5, :5], window_mask=window_mask[:5, :5])  # compile outside

    def peak(**kwargs):
        tracemalloc.start()
        try:
            matting_laplacian(image, **kwargs)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    full_peak = peak()
    masked_peak = peak(window_mask=window_mask)
    # Full: about 12 bytes x 25 stencil slots per pixel; masked: O(H*W) bookkeeping only
    # (the float64 image copy, a row map and row pointers), about 40 bytes per pixel.
    assert full_peak > 300 * 400 * 25 * 12
    assert masked_peak < 300 * 400 * 48
    assert masked_peak < full_peak / 5


def test_result_does_not_depend_on_thread_count(rng):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs at least 2 Numba threads")
    image = rng.random((70, 40, 3))
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        serial = matting_laplacian(image, radius=2)
        numba.set_num_threads(2)
        parallel = matting_laplacian(image, radius=2)
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(serial.indptr, parallel.indptr)
    np.testing.assert_array_equal(serial.indices, parallel.indices)
    np.testing.assert_array_equal(serial.data, parallel.data)


# --------------------------------------------------------------------------------------------
# Against pymatting (same conventions: eps / |w_k| on the covariance diagonal)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("radius", "eps"), [(1, 1e-7), (2, 1e-7), (1, 1e-3)])
def test_matches_pymatting(rng, radius, eps):
    cf_laplacian = pytest.importorskip("pymatting.laplacian.cf_laplacian").cf_laplacian
    image = rng.random((20, 20, 3))
    ours = matting_laplacian(image, radius=radius, eps=eps)
    theirs = cf_laplacian(image, epsilon=eps, radius=radius)
    scale = max(1.0, abs(theirs).max())
    assert abs(ours - theirs).max() <= 1e-10 * scale
    # pymatting's is_known skips the windows that are entirely known: our window mask.
    is_known = rng.random((20, 20)) < 0.7
    ours = matting_laplacian(
        image, radius=radius, eps=eps, window_mask=windows_touching(~is_known, radius)
    )
    theirs = cf_laplacian(image, epsilon=eps, radius=radius, is_known=is_known)
    assert abs(ours - theirs).max() <= 1e-10 * scale


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((6, 6, 2)),  # two channels
        np.full((6, 6, 3), 2.0),  # outside [0, 1]
        np.full((6, 6, 3), np.nan),
        np.zeros((2, 6, 3)),  # smaller than a 3x3 window
        np.zeros((6, 2, 3)),
        np.zeros((0, 6, 3)),
    ],
)
def test_bad_image_raises(image):
    with pytest.raises(ValueError):
        matting_laplacian(image)


def test_image_smaller_than_window_raises():
    with pytest.raises(ValueError, match="at least 5x5"):
        matting_laplacian(np.zeros((4, 9, 3)), radius=2)


@pytest.mark.parametrize("radius", [0, -1, 1.5, 2.0, True, "1", None])
def test_bad_radius_raises(radius):
    with pytest.raises(ValueError, match="radius"):
        matting_laplacian(np.zeros((9, 9, 3)), radius=radius)


@pytest.mark.parametrize("eps", [0.0, -1e-7, np.inf, np.nan, True, "1e-7", None])
def test_bad_eps_raises(eps):
    with pytest.raises(ValueError, match="eps"):
        matting_laplacian(np.zeros((9, 9, 3)), eps=eps)


def test_numpy_scalars_are_accepted(rng):
    image = rng.random((6, 6, 3))
    expected = matting_laplacian(image, radius=1, eps=1e-5).toarray()
    got = matting_laplacian(image, radius=np.int64(1), eps=np.float32(1e-5)).toarray()
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize(
    "window_mask",
    [np.ones((5, 6), bool), np.ones((6, 5), bool), np.ones((6, 6)), np.ones((6, 6, 1), bool)],
)
def test_bad_window_mask_raises(window_mask):
    with pytest.raises(ValueError, match="window_mask"):
        matting_laplacian(np.zeros((6, 6, 3)), window_mask=window_mask)


def test_system_compaction_with_64_bit_indices(rng):
    # The int64 path (systems with 2**31 or more stored entries) on a small case, against the
    # int32 one.
    from matting.laplacian._windows import compress_to_system

    image = rng.random((9, 11, 3))
    free = rng.random((9, 11)) < 0.5
    fixed = rng.random((9, 11))
    expected, expected_rhs = matting_laplacian_system(image, free, fixed)
    laplacian = matting_laplacian(image)  # every window: the buffer below holds every pixel
    n_free = int(free.sum())
    new_index = np.full(free.size, -1, np.int64)
    new_index[np.flatnonzero(free)] = np.arange(n_free)
    values = np.zeros(free.size * 25)
    rows = laplacian.tocoo()  # each entry into its row's stencil slot
    offsets = np.array([dy * 11 + dx for dy in range(-2, 3) for dx in range(-2, 3)])
    slots = np.searchsorted(offsets, rows.col - rows.row)
    values[rows.row * 25 + slots] = rows.data
    indptr = np.empty(n_free + 1, np.int64)
    indices = np.empty(n_free * 25, np.int64)
    right_hand_side = np.empty(n_free)
    nnz = compress_to_system(
        values, np.arange(free.size), 11, 1, new_index, fixed.ravel(), indptr, indices,
        right_hand_side,
    )  # fmt: skip
    np.testing.assert_array_equal(indptr, expected.indptr)
    np.testing.assert_array_equal(indices[:nnz], expected.indices)
    np.testing.assert_allclose(values[:nnz], expected.data, rtol=0, atol=1e-12)
    np.testing.assert_allclose(right_hand_side, expected_rhs, rtol=0, atol=1e-12)


def test_box_any_matches_brute_force_up_to_the_border():
    # Pixels outside the image count as False; radii up to 4 take shifted slices, larger
    # ones scipy's maximum filter, and radii beyond the image size must not fail.
    rng = np.random.default_rng(3)
    for shape in ((1, 1), (1, 6), (7, 1), (12, 9)):
        mask = rng.random(shape) > 0.8
        mask.flat[0] = True
        height, width = shape
        for radius in range(8):
            expected = np.zeros(shape, bool)
            for row in range(height):
                for col in range(width):
                    rows = slice(max(row - radius, 0), row + radius + 1)
                    cols = slice(max(col - radius, 0), col + radius + 1)
                    expected[row, col] = mask[rows, cols].any()
            np.testing.assert_array_equal(box_any(mask, radius), expected)
