"""Closed-form matting on images too large for one solve: memory estimate, the error that
replaces an out-of-memory kill, and the tiled solve."""

import tracemalloc

import numpy as np
import pytest

import matting
from matting._pyramid import affine_coefficients, affine_upsample, affine_upsample_window
from matting.datasets import synthetic_composite
from matting.methods.closed_form import (
    InsufficientMemoryError,
    _available_memory,
    closed_form,
    closed_form_memory,
)


@pytest.fixture(scope="module")
def composite():
    return synthetic_composite((150, 200), seed=2, band=4)


@pytest.fixture(scope="module")
def exact(composite):
    return closed_form(composite.image, composite.trimap)


def _band_trimap(shape, band_columns):
    trimap = np.zeros(shape)
    trimap[:, shape[1] // 2 :] = 1.0
    middle = shape[1] // 2
    trimap[:, middle - band_columns // 2 : middle + band_columns // 2] = 0.5
    return trimap


def test_memory_estimate_grows_with_unknowns_radius_and_solver():
    narrow = closed_form_memory(_band_trimap((1000, 1000), 50))
    wide = closed_form_memory(_band_trimap((1000, 1000), 400))
    # 350 columns more of unknowns: 350k pixels at well over 500 bytes each.
    assert wide - narrow > 350_000 * 500
    assert closed_form_memory(_band_trimap((1000, 1000), 400), radius=2) > 2 * wide
    assert closed_form_memory(_band_trimap((1000, 1000), 400), solver="cg") < wide
    no_unknowns = closed_form_memory(np.zeros((1000, 1000)))
    assert 50e6 < no_unknowns < 150e6  # per-pixel part only: about 80 bytes a pixel
    scribbles = np.full((1000, 1000), 0.5)
    scribbles[:10] = 0
    scribbles[-10:] = 1
    assert closed_form_memory(scribbles=scribbles) > wide  # every pixel is an unknown


def test_tiling_bounds_the_estimate_by_the_largest_tile():
    trimap = _band_trimap((3000, 3000), 1200)
    exact = closed_form_memory(trimap)
    tiled = [closed_form_memory(trimap, tile_size=size) for size in (1024, 512, 256)]
    assert exact > tiled[0] > tiled[1] > tiled[2]
    # What is left is mostly the per-pixel part: full-size image, constraints and alpha.
    assert tiled[2] < 0.3 * exact


@pytest.mark.parametrize("solver", ["auto", "ichol", "cg", "multigrid"])
def test_estimate_is_above_the_memory_numpy_allocates(composite, solver):
    # tracemalloc sees numpy's (not Numba's or SuperLU's) allocations: a lower bound of the
    # real peak, which the estimate must exceed, without being wildly above it ("auto" is
    # the direct LU at this size).
    closed_form(composite.image, composite.trimap, solver=solver)  # compile first
    tracemalloc.start()
    closed_form(composite.image, composite.trimap, solver=solver)
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    estimate = closed_form_memory(composite.trimap, solver=solver)
    assert traced < estimate
    # SuperLU's factors (the direct LU) are invisible to tracemalloc, hence the looser bound.
    assert estimate < (12 if solver == "auto" else 4) * traced


def test_too_little_memory_raises_with_options_that_fit():
    composite = synthetic_composite((300, 400), seed=1, band=12)
    # With the leanest solver, so that tiling is what is left to suggest.
    needed = closed_form_memory(composite.trimap, solver="multigrid")
    limit = 0.75 * needed
    with pytest.raises(InsufficientMemoryError, match="tile_size=") as caught:
        closed_form(composite.image, composite.trimap, max_memory=limit, solver="multigrid")
    message = str(caught.value)
    assert isinstance(caught.value, MemoryError) and isinstance(caught.value, ValueError)
    assert "max_memory" in message and "300" in message and "400" in message
    # The first suggestion really fits the limit, and runs.
    tile_size = int(message.split("tile_size=")[1].split()[0])
    assert closed_form_memory(composite.trimap, tile_size=tile_size, solver="multigrid") <= limit
    alpha = closed_form(
        composite.image,
        composite.trimap,
        max_memory=limit,
        tile_size=tile_size,
        solver="multigrid",
    )
    assert matting.metrics.sad(alpha, composite.alpha, composite.trimap) < 1.1 * (
        matting.metrics.sad(
            closed_form(composite.image, composite.trimap), composite.alpha, composite.trimap
        )
    )
    with pytest.raises(InsufficientMemoryError, match="smaller image"):
        closed_form(composite.image, composite.trimap, max_memory=1000)


def test_available_memory_is_read():
    available = _available_memory()
    assert available is None or available > 0


def test_windowed_upsampling_equals_the_full_size_one(composite):
    image = composite.image
    coarse_image = image[::2, ::2].copy()
    coarse_alpha = composite.alpha[::2, ::2].copy()
    full = affine_upsample(coarse_alpha, coarse_image, image, 1, 1e-7)
    coefficients = affine_coefficients(coarse_alpha, coarse_image, 1, 1e-7)
    for rows, cols in [(slice(0, 150), slice(0, 200)), (slice(17, 90), slice(101, 200))]:
        window = affine_upsample_window(coefficients, image, rows, cols)
        np.testing.assert_allclose(window, full[rows, cols], atol=1e-12)


def test_tiles_larger_than_the_unknown_region_give_the_exact_solution(composite, exact):
    alpha = closed_form(composite.image, composite.trimap, tile_size=200)
    np.testing.assert_array_equal(alpha, exact)


@pytest.mark.parametrize("tile_size, overlap", [(48, 32), (64, 8), (100, 0)])
def test_tiled_solution_is_close_to_the_exact_one(composite, exact, tile_size, overlap):
    alpha, info = closed_form(
        composite.image,
        composite.trimap,
        tile_size=tile_size,
        tile_overlap=overlap,
        return_info=True,
    )
    known = composite.trimap != 0.5
    np.testing.assert_array_equal(alpha[known], composite.trimap[known])
    assert alpha.min() >= 0 and alpha.max() <= 1
    difference = np.abs(alpha - exact)[~known]
    # Measured: mean differences 1e-3 to 4e-3 for these tilings; the coarse solution alone
    # (what the tiles' boundaries come from) differs by about 2e-2.
    assert difference.mean() < 6e-3
    sad = matting.metrics.sad(alpha, composite.alpha, composite.trimap)
    assert sad < 1.1 * matting.metrics.sad(exact, composite.alpha, composite.trimap)
    assert info is not None and info.converged
    again = closed_form(
        composite.image, composite.trimap, tile_size=tile_size, tile_overlap=overlap
    )
    np.testing.assert_array_equal(again, alpha)


def test_tiles_combine_with_coarse_to_fine(composite):
    c2f = closed_form(composite.image, composite.trimap, levels=2)
    tiled = closed_form(composite.image, composite.trimap, levels=2, tile_size=64)
    known = composite.trimap != 0.5
    np.testing.assert_array_equal(tiled[known], composite.trimap[known])
    assert np.abs(tiled - c2f)[~known].mean() < 6e-3


def test_bad_tiling_options_name_the_argument(composite):
    image, trimap = composite.image, composite.trimap
    with pytest.raises(ValueError, match="tile_size must be"):
        closed_form(image, trimap, tile_size=8)
    with pytest.raises(ValueError, match="tile_size must be"):
        closed_form(image, trimap, tile_size=100.5)
    with pytest.raises(ValueError, match="tile_overlap must be"):
        closed_form(image, trimap, tile_size=64, tile_overlap=-1)
    with pytest.raises(ValueError, match="tile_size works with trimap"):
        closed_form(image, scribbles=trimap, tile_size=64)
    with pytest.raises(ValueError, match="max_memory must be"):
        closed_form(image, trimap, max_memory=0)
    with pytest.raises(ValueError, match="max_memory must be"):
        closed_form(image, trimap, max_memory="8GB")
    with pytest.raises(ValueError, match="exactly one"):
        closed_form_memory()
