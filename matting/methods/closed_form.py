"""Closed-form matting (Levin, Lischinski, Weiss 2008)."""

from __future__ import annotations

import math
import os
from dataclasses import replace
from functools import partial

import numpy as np
from scipy import ndimage

from .._inputs import UNKNOWN, as_finite, as_integer, as_trimap, check_switches, image_and_trimap
from .._pyramid import affine_coefficients, affine_upsample, affine_upsample_window, downsample
from ..laplacian import matting_laplacian
from ..laplacian._windows import check_window_fits
from ..laplacian.closed_form import system_from_checked
from ..linalg.constraints import WEIGHT_LIMIT, solve_free_pixels, solve_soft_constraints
from ..linalg.solve import _choose_solver, check_solver
from ..trimap import windows_touching
from ._outputs import method_outputs

__all__ = ["InsufficientMemoryError", "closed_form", "closed_form_memory"]


class InsufficientMemoryError(MemoryError, ValueError):
    """The solve would need more memory than is available (or allowed by ``max_memory``).

    Both a ``MemoryError`` (what happened) and a ``ValueError`` (the options asked too much),
    so that code handling bad arguments reports it in one line.
    """


# --------------------------------------------------------------------------------------------
# Memory estimate
#
# Peak resident memory a call adds, as a linear model calibrated by measurement (fresh
# processes, peak RSS minus RSS before the call; four photographs upscaled to 0.3-4 MP;
# see docs/large_images.md). Per image pixel: the float64 copies of the image and trimap,
# masks, the Laplacian's row pointers and pixel-to-row map, the system split's index map.
# Per free pixel: vectors of the solve plus stored entries of the Laplacian, of the system
# and of the preconditioner, which grow with the stencil (4r+1)^2 of a Laplacian row.
# --------------------------------------------------------------------------------------------

_BYTES_PER_PIXEL = 80.0
_BYTES_PER_FREE = 120.0
#: Bytes per free pixel and stencil slot, by solver.
_BYTES_PER_ENTRY = {
    # Measured, r = 1 (r = 2): cg 19 (24), multigrid 43 (35), ichol 35-62 (39), amg-sa 68.
    # Since the full Laplacian is freed before the solve (2026-12-03, r = 1, 1-4 MP):
    # multigrid 19-29, ichol 38-49; the other figures are the earlier, larger ones. The
    # float32 multigrid cycle, whose finest level keeps its own copy of the matrix, added 3-4
    # (27 and 31 at 5 MP, donkey and plasticbag, 2026-12-03 evening). Since a trimap's
    # system is built without the full Laplacian (2026-12-04) peaks are lower still (5 MP
    # elephant 682 against 749 MB, 0.3 MP plasticbag 64 against 83 MB): these are upper bounds.
    "cg": 26.0,
    "jacobi": 26.0,
    "multigrid": 30.0,
    "amg": 68.0,
    "ichol": 50.0,
    "direct": 100.0,
}
#: Bytes per image pixel a tiled solve keeps at full size (float64 image, constraints and
#: alpha, masks, the half-size image), and extra bytes per pixel of a tile (its guess,
#: interpolation grid and fixed values).
_BYTES_PER_PIXEL_TILED = 56.0
_BYTES_PER_TILE_PIXEL = 60.0
#: Relative margin added to every estimate.
_SAFETY = 1.15

#: Tile sizes suggested when memory is short, largest (most accurate) first.
_SUGGESTED_TILES = (4096, 2048, 1024, 512, 256, 128)


def _solver_family(solver: str, n_free: int) -> str:
    name = _choose_solver(n_free, True) if solver == "auto" else solver
    return "amg" if name.startswith("amg") else name


def _exact_bytes(n_pixels: int, n_free: int, radius: int, solver: str) -> float:
    """Peak bytes of one untiled solve at one level."""
    if n_free == 0:
        return _BYTES_PER_PIXEL * n_pixels
    family = _solver_family(solver, n_free)
    per_entry = _BYTES_PER_ENTRY.get(family, max(_BYTES_PER_ENTRY.values()))
    if family == "direct":
        # LU fill of a 2-D grid grows like n log n (nested dissection); calibrated at 480k
        # unknowns (about 4.8 kB each).
        per_entry *= max(1.0, math.log2(n_free) / 19.0) * 1.9
    stencil = (4 * radius + 1) ** 2
    return _BYTES_PER_PIXEL * n_pixels + n_free * (_BYTES_PER_FREE + per_entry * stencil)


def _free_bounding_box(free: np.ndarray) -> tuple[slice, slice] | None:
    rows = np.flatnonzero(free.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(free.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def _needs_tiles(free: np.ndarray, tile_size: int) -> bool:
    box = _free_bounding_box(free)
    return box is not None and max(box[0].stop - box[0].start, box[1].stop - box[1].start) > (
        tile_size
    )


def _tile_cores(free: np.ndarray, tile_size: int):
    """Cut the bounding box of the free pixels into near-equal cores of at most
    ``tile_size`` pixels a side; yield (rows, cols) slices of the cores with a free pixel."""
    box = _free_bounding_box(free)
    if box is None:
        return
    edges = []
    for extent in box:
        count = -(-(extent.stop - extent.start) // tile_size)
        edges.append(np.linspace(extent.start, extent.stop, count + 1).round().astype(int))
    for top, bottom in zip(edges[0][:-1], edges[0][1:]):
        for left, right in zip(edges[1][:-1], edges[1][1:]):
            rows, cols = slice(int(top), int(bottom)), slice(int(left), int(right))
            if free[rows, cols].any():
                yield rows, cols


def _outer(core: slice, margin: int, size: int) -> slice:
    return slice(max(core.start - margin, 0), min(core.stop + margin, size))


def _tile_margin(tile_overlap: int, radius: int) -> int:
    # At least one free pixel between the core and the fixed ring of width 2r.
    return max(int(tile_overlap), 2 * radius + 1)


def _estimate_bytes(free, radius, solver, levels, tiling, soft) -> float:
    """Estimated peak bytes of :func:`closed_form` on constraints whose free mask is ``free``."""
    n_pixels = free.size
    n_free = n_pixels if soft else int(np.count_nonzero(free))
    if tiling is None or not _needs_tiles(free, tiling[0]):
        coarse = 0.0 if levels == 1 else 48.0 * n_pixels  # the carried-up guess and masks
        return _SAFETY * (_exact_bytes(n_pixels, n_free, radius, solver) + coarse)
    tile_size, overlap = tiling
    margin = _tile_margin(overlap, radius)
    height, width = free.shape
    largest_tile = 0.0
    most_free = 0
    for rows, cols in _tile_cores(free, tile_size):
        outer = free[_outer(rows, margin, height), _outer(cols, margin, width)]
        tile_free = int(np.count_nonzero(outer))
        most_free = max(most_free, tile_free)
        largest_tile = max(
            largest_tile,
            _exact_bytes(outer.size, tile_free, radius, solver)
            + _BYTES_PER_TILE_PIXEL * outer.size,
        )
    # The coarser levels (each a quarter of the pixels) are solved first, tiled the same way
    # once larger than a tile: bound their peak by the finest tile's or their exact solve.
    coarse_pixels, coarse_free, coarse_extent = n_pixels / 4, n_free / 4, max(free.shape) / 2
    coarse_peak = 0.0
    while coarse_free >= 1:
        if coarse_extent <= tile_size:
            coarse_peak = max(
                coarse_peak, _exact_bytes(int(coarse_pixels), int(coarse_free), radius, solver)
            )
            break
        coarse_peak = max(coarse_peak, largest_tile * min(1.0, coarse_free / max(most_free, 1)))
        coarse_pixels, coarse_free, coarse_extent = (
            coarse_pixels / 4,
            coarse_free / 4,
            coarse_extent / 2,
        )
    base = _BYTES_PER_PIXEL_TILED * n_pixels
    return _SAFETY * (base + max(largest_tile, coarse_peak))


def _available_memory() -> int | None:
    """Bytes this process may still use: MemAvailable, capped by a cgroup (container)
    limit; None when neither can be read."""
    limits = []
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
                    break
    except OSError:
        pass
    try:
        with open("/sys/fs/cgroup/memory.max") as limit_file:
            limit = limit_file.read().strip()
        with open("/sys/fs/cgroup/memory.current") as current_file:
            current = int(current_file.read().strip())
        if limit != "max":
            limits.append(int(limit) - current)
    except (OSError, ValueError):
        pass
    if not limits and hasattr(os, "sysconf"):
        try:
            limits.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError):
            pass
    return min(limits) if limits else None


def _gigabytes(count: float) -> str:
    if count < 0.1 * 2**30:  # small limits and needs would all print as 0.0 GB
        return f"{count / 2**20:.3g} MB"
    return f"{count / 2**30:.1f} GB"


def _check_memory(free, radius, solver, levels, tiling, soft, max_memory) -> None:
    """Raise :class:`InsufficientMemoryError`, naming options that would fit, when the
    estimate exceeds ``max_memory`` (or the available memory when it is None)."""
    limit = _available_memory() if max_memory is None else max_memory
    if limit is None:
        return
    needed = _estimate_bytes(free, radius, solver, levels, tiling, soft)
    if needed <= limit:
        return
    source = "max_memory" if max_memory is not None else "available memory"
    message = (
        f"closed_form needs about {_gigabytes(needed)} for this image "
        f"({free.shape[0]}x{free.shape[1]} pixels, {int(np.count_nonzero(free))} unknown) "
        f"but {source} is {_gigabytes(limit)}."
    )
    fitting = []
    if not soft:
        for tile_size in _SUGGESTED_TILES:
            if (tiling is not None and tile_size >= tiling[0]) or not _needs_tiles(free, tile_size):
                continue
            option = (tile_size, tiling[1] if tiling else 32)
            estimate = _estimate_bytes(free, radius, solver, levels, option, soft)
            if estimate <= limit:
                fitting.append(f"tile_size={tile_size} (about {_gigabytes(estimate)})")
            if len(fitting) == 2:
                break
    family = _solver_family(solver, int(np.count_nonzero(free)))
    if family not in ("cg", "multigrid"):
        estimate = _estimate_bytes(free, radius, "multigrid", levels, tiling, soft)
        if estimate <= limit:
            fitting.append(f'solver="multigrid" (about {_gigabytes(estimate)})')
    if fitting:
        message += " Options that would fit: " + ", or ".join(fitting) + "."
    elif soft:
        message += (
            " Scribbles make every pixel an unknown; a trimap (hard constraints) with "
            "tile_size= bounds the memory, or work on a smaller image."
        )
    else:
        message += " No tiling fits either: free memory or work on a smaller image."
    raise InsufficientMemoryError(message)


# --------------------------------------------------------------------------------------------
# Solves
# --------------------------------------------------------------------------------------------


def _solve_at_one_level(
    image, constraints, radius, eps, soft_solve, solver_options, initial_alpha=None
):
    """Solve one level: ``soft_solve`` (:func:`solve_soft_constraints` with its options) for
    scribbles, None for a trimap."""
    free = constraints == UNKNOWN
    if not free.any():
        return constraints.copy(), None
    if soft_solve is None:
        return _solve_free(image, constraints, free, radius, eps, solver_options, initial_alpha)

    def build_laplacian():
        # Windows inside the scribbles are skipped, as in the authors' code.
        return matting_laplacian(
            image, radius=radius, eps=eps, window_mask=windows_touching(free, radius)
        )

    # Passed as a builder so that the caller holds no reference to the Laplacian, which the
    # solve changes in place and frees as soon as it is done with it.
    return soft_solve(
        build_laplacian,
        constraints,
        initial_alpha=initial_alpha,
        return_info=True,
        **solver_options,
    )


def _solve_free(image, values, free, radius, eps, solver_options, initial_alpha=None):
    """Minimise ``a^T L a`` over the ``free`` pixels, the others held at ``values``; return
    ``values`` with the free pixels replaced by the solution, clipped to [0, 1], and the
    solver's info. The unknowns' system is built directly (:func:`matting_laplacian_system`):
    the whole Laplacian never exists, and memory follows the unknown region. The matting
    Laplacian's overlapping windows link every free pixel to the fixed ones around the
    region, so the system is positive definite without the search for isolated pixels that
    :func:`matting.linalg.solve_hard_constraints` makes."""
    system, right_hand_side = system_from_checked(image, free, values, radius, eps)
    index = np.flatnonzero(free)
    x0 = None if initial_alpha is None else initial_alpha.ravel()[index]
    return solve_free_pixels(system, right_hand_side, index, values, x0=x0, **solver_options)


def _downsample_constraints(constraints: np.ndarray) -> np.ndarray:
    """Constraints of the half-size image: a coarse pixel is constrained where most of its
    footprint is, to the rounded value (``round(downSmpIm(...))`` of the authors' code)."""
    known = downsample((constraints != UNKNOWN).astype(np.float64)) >= 0.5
    values = np.round(downsample((constraints == 1.0).astype(np.float64)))
    return np.where(known, values, UNKNOWN)


def _solve_tile(image, constraints, coefficients, rows, cols, radius, eps, solver_options):
    """Solve the tile ``image[rows, cols]``: its unknowns are free except a ring of width 2r
    along the sides inside the image, fixed to the carried-up coarse alpha (a Dirichlet
    boundary), which also starts the iterations."""
    height, width = constraints.shape
    known = constraints[rows, cols]
    guess = affine_upsample_window(coefficients, image, rows, cols)
    free = known == UNKNOWN
    ring = np.zeros_like(free)
    thickness = 2 * radius  # the pixels whose windows reach outside the tile
    ring[:thickness] |= rows.start > 0
    ring[-thickness:] |= rows.stop < height
    ring[:, :thickness] |= cols.start > 0
    ring[:, -thickness:] |= cols.stop < width
    free &= ~ring
    values = np.where(known == UNKNOWN, guess, known)
    if not free.any():
        return values, None
    # The fixed values may be fractional (the ring), which a trimap cannot express.
    return _solve_free(
        np.ascontiguousarray(image[rows, cols]), values, free, radius, eps, solver_options, guess
    )


def _solve_tiled(image, constraints, coefficients, tiling, radius, eps, solver_options):
    """Solve the free pixels tile by tile: cores of at most ``tile_size`` pixels a side, each
    solved with ``overlap`` extra pixels around it whose outer ring is fixed to the coarse
    alpha; only the core's result is kept. Memory follows the largest tile."""
    tile_size, overlap = tiling
    margin = _tile_margin(overlap, radius)
    height, width = constraints.shape
    free = constraints == UNKNOWN
    alpha = constraints.copy()
    infos = []
    for rows, cols in _tile_cores(free, tile_size):
        outer_rows, outer_cols = _outer(rows, margin, height), _outer(cols, margin, width)
        tile_alpha, info = _solve_tile(
            image, constraints, coefficients, outer_rows, outer_cols, radius, eps, solver_options
        )
        inner = tile_alpha[
            rows.start - outer_rows.start : rows.stop - outer_rows.start,
            cols.start - outer_cols.start : cols.stop - outer_cols.start,
        ]
        alpha[rows, cols] = np.where(free[rows, cols], inner, alpha[rows, cols])
        if info is not None:
            infos.append(info)
    if not infos:
        return alpha, None
    # One record for the caller: the tile that needed most iterations, converged only if
    # every tile did, times summed over tiles.
    worst = max(infos, key=lambda info: info.iterations)
    return alpha, replace(
        worst,
        converged=all(info.converged for info in infos),
        seconds_setup=sum(info.seconds_setup for info in infos),
        seconds_solve=sum(info.seconds_solve for info in infos),
    )


def _coarse_to_fine(
    image,
    constraints,
    levels,
    confident_alpha,
    radius,
    eps,
    soft_solve,
    solver_options,
    tiling=None,
):
    """The authors' ``solveAlphaC2F``: solve a half-size problem, carry its alpha up with the
    local affine model, fix the pixels it finds clearly foreground or background, and solve
    only for the rest at full size.

    ``soft_solve`` is :func:`solve_soft_constraints` with its options for scribbles, None
    for a trimap. With ``tiling = (tile_size, overlap)`` (hard constraints only), a level whose unknown
    region spans more than one tile is solved tile by tile (:func:`_solve_tiled`), the tiles'
    boundary values carried up from the half-size solution (itself tiled when large); with
    ``levels == 1`` no pixel is fixed from the coarse solution.
    """
    tiles = tiling is not None and _needs_tiles(constraints == UNKNOWN, tiling[0])
    coarse_constraints = _downsample_constraints(constraints) if levels > 1 or tiles else None
    large_enough = coarse_constraints is not None and min(coarse_constraints.shape) >= (
        2 * radius + 1
    )
    fix_confident = (
        levels > 1
        and large_enough
        and (coarse_constraints == 1.0).any()
        and (coarse_constraints == 0.0).any()
        and (coarse_constraints == UNKNOWN).any()
    )
    if not (fix_confident or (tiles and large_enough)):
        return _solve_at_one_level(image, constraints, radius, eps, soft_solve, solver_options)
    coarse_image = np.stack([downsample(image[:, :, c]) for c in range(3)], axis=2)
    coarse_alpha, _ = _coarse_to_fine(
        coarse_image,
        coarse_constraints,
        levels - 1 if fix_confident else 1,
        confident_alpha,
        radius,
        eps,
        soft_solve,
        solver_options,
        tiling,
    )
    if fix_confident:
        guess = affine_upsample(coarse_alpha, coarse_image, image, radius, eps)
        confident = (guess < confident_alpha) | (guess > 1.0 - confident_alpha)
        # Only pixels whose neighbours are confident too are fixed (the code's erosion).
        confident = ndimage.binary_erosion(confident, np.ones((3, 3), bool), border_value=1)
        refined = constraints.copy()
        newly_fixed = confident & (constraints == UNKNOWN)
        refined[newly_fixed] = np.round(guess[newly_fixed])
        if not tiles:
            return _solve_at_one_level(
                image, refined, radius, eps, soft_solve, solver_options, initial_alpha=guess
            )
        del guess
        constraints = refined
    coefficients = affine_coefficients(coarse_alpha, coarse_image, radius, eps)
    return _solve_tiled(image, constraints, coefficients, tiling, radius, eps, solver_options)


def _check_tiling(tile_size, tile_overlap, soft: bool):
    tile_overlap = as_integer(tile_overlap, "tile_overlap", 0)  # checked even when unused
    if tile_size is None:
        return None
    if soft:
        raise ValueError("tile_size works with trimap= (hard constraints), not scribbles=")
    return as_integer(tile_size, "tile_size", 16), tile_overlap


def _check_options(solver, levels, radius) -> tuple[int, int]:
    """Check the options the memory estimate reads; return ``(levels, radius)``."""
    check_solver(solver)
    return as_integer(levels, "levels"), as_integer(radius, "radius")


def closed_form_memory(
    trimap=None,
    *,
    scribbles=None,
    radius: int = 1,
    solver: str = "auto",
    levels: int = 1,
    tile_size: int | None = None,
    tile_overlap: int = 32,
) -> int:
    """Estimated peak memory, in bytes, of :func:`closed_form` with these constraints and
    options (the image's content does not matter, only its size and the constraints).

    A linear model calibrated by measuring peak resident memory on photographs from 0.3 to
    4 MP: about 80 bytes per image pixel plus, per unknown pixel, about 120 bytes of vectors
    and 30-100 bytes per slot of a Laplacian row (``(4r + 1)^2`` slots) depending on the
    solver (conjugate gradients least, incomplete Cholesky and LU most), with a 15 % margin.
    With ``tile_size``, the unknown-pixel part is that of the largest tile (or of the
    coarser levels, if larger). :func:`closed_form` checks it before building the Laplacian.

    Parameters
    ----------
    trimap, scribbles : array_like, HxW
        As for :func:`closed_form` (give one).
    radius, solver, levels, tile_size, tile_overlap
        As for :func:`closed_form`.

    Returns
    -------
    int
        Bytes.

    Examples
    --------
    >>> import numpy as np
    >>> trimap = np.zeros((4000, 4000)); trimap[:, 2000:] = 1; trimap[:, 1900:2100] = 0.5
    >>> round(closed_form_memory(trimap) / 2**30, 1)  # GB for 16 MP, 0.8 M unknowns
    2.1
    """
    if (trimap is None) == (scribbles is None):
        raise ValueError("give exactly one of trimap= or scribbles=")
    constraints = as_trimap(
        trimap if trimap is not None else scribbles,
        name="trimap" if trimap is not None else "scribbles",
        require_known=False,
    )
    levels, radius = _check_options(solver, levels, radius)
    tiling = _check_tiling(tile_size, tile_overlap, trimap is None)
    free = constraints == UNKNOWN
    return int(_estimate_bytes(free, radius, solver, levels, tiling, trimap is None))


def closed_form(
    image,
    trimap=None,
    *,
    scribbles=None,
    radius: int = 1,
    eps: float = 1e-7,
    lambda_: float = 100.0,
    solver: str = "auto",
    rtol: float = 1e-7,
    maxiter: int | None = None,
    levels: int = 1,
    confident_alpha: float = 0.02,
    tile_size: int | None = None,
    tile_overlap: int = 32,
    max_memory: float | None = None,
    return_foreground: bool = False,
    return_info: bool = False,
):
    """Closed-form matting: the alpha that best fits a local linear colour model.

    In every small window, alpha is assumed to be an affine function of colour (true when the
    foreground and background colours are locally constant or lie on lines in RGB). Eliminating
    the affine coefficients leaves the quadratic cost ``a^T L a`` with the *matting Laplacian*
    ``L`` (:func:`matting.laplacian.matting_laplacian`), minimised under the user's constraints.

    Parameters
    ----------
    image : array_like, HxW, HxWx3 or HxWx4
        ``uint8``, ``uint16`` or float in [0, 1].
    trimap : array_like, HxW, optional
        Hard constraints: 0 background, 1 foreground (255 for uint8), anything between unknown.
        Known pixels keep their value; only the unknown ones are solved for.
    scribbles : array_like, HxW, optional
        Soft constraints in the same encoding, typically a few strokes (see
        :func:`matting.scribbles_from_image`). Give either ``trimap`` or ``scribbles``.
    radius : int
        Window radius r; windows are (2r+1) x (2r+1). Paper: 1.
    eps : float
        Regulariser epsilon of the colour covariance. Paper and authors' code: 1e-7.
    lambda_ : float
        Weight of the scribble constraints (authors' code: 100). Not used with a trimap.
    solver : str
        Linear solver (see :func:`matting.linalg.solve`); "auto" picks from measurements.
    rtol : float
        Relative residual at which the iterative solver stops, on the system actually
        solved: with a trimap, the unknowns' ``L_UU a_U = -L_UK a_K``, stopping when
        ``|residual| <= rtol |L_UK a_K|``. This is stricter than the same number on a
        soft-constraint system over all pixels (pymatting's ``estimate_alpha_cf``), whose
        right-hand side holds ``lambda`` for every foreground pixel: on a 5 MP photograph
        its answer at 1e-7 had relative residual 5e-5 on the unknowns' system (yet, once
        clipped to [0, 1], it was as close to the exact alpha as ours at 1e-7).
    maxiter : int, optional
        Iteration limit of the iterative solver; a warning is issued if it is reached.
    levels : int
        Coarse-to-fine levels (``levels_num`` of the authors' ``solveAlphaC2F``). 1 (the
        default) solves the exact problem at full size. With ``levels = n > 1`` the problem
        is first solved on the image halved ``n - 1`` times; each finer level takes the
        coarser alpha through the local affine model, fixes pixels where it is below
        ``confident_alpha`` or above ``1 - confident_alpha`` (and so are their 8 neighbours)
        and solves only for the rest. Faster on large images, at the price of an
        approximation (see the benchmarks).
    confident_alpha : float
        ``thr_alpha`` of the authors' coarse-to-fine code (0.02).
    tile_size : int, optional
        For very large images (with a trimap): solve the unknown region in tiles of at most
        ``tile_size`` x ``tile_size`` pixels, so memory follows the largest tile instead of
        the whole unknown region. Each tile is solved exactly with ``tile_overlap`` extra
        pixels around it, whose outermost ``2 * radius`` rows and columns are fixed to the
        solution of the half-size image (itself tiled when large) carried up with the local
        affine model; only the tile's own pixels are kept. An approximation, not in the
        paper: see Notes. Default None: one solve over the whole unknown region.
    tile_overlap : int
        Extra pixels solved on each side of a tile (at least ``2 * radius + 1`` are used).
    max_memory : float, optional
        Bytes the call may use. Before building the Laplacian the peak memory is estimated
        (:func:`closed_form_memory`); above ``max_memory`` (default: the memory available
        now, from ``/proc/meminfo`` and any container limit) an
        :class:`InsufficientMemoryError` names the options that would fit, instead of the
        process being killed for lack of memory. ``float("inf")`` disables the check.
    return_foreground : bool
        Also return the foreground and background colours, estimated from ``alpha`` with
        :func:`matting.estimate_foreground`.
    return_info : bool
        Also return the solver's :class:`matting.linalg.SolveInfo` (iterations, residual
        history; None when the trimap had no unknown pixel), as the last element. With
        ``levels > 1`` it describes the full-size solve; with tiles, the tile that took most
        iterations, ``converged`` only if all did, and times summed over tiles.

    Returns
    -------
    alpha : ndarray, float64 HxW in [0, 1]
        With a trimap, exactly 0 and 1 on its known pixels.
    foreground, background : ndarray, float64 HxWx3
        Only with ``return_foreground=True``.
    info : SolveInfo
        Only with ``return_info=True``.

    Notes
    -----
    Windows lying entirely in the known region contribute nothing to the unknowns' equations
    (and with scribbles, the authors' code skips them too), so the Laplacian is built only for
    windows that touch an unconstrained pixel: time and memory grow with the unknown region,
    not with the image. Results are clipped to [0, 1] as in the authors' code.

    Memory is about 80 bytes per image pixel plus 1-2 kB per unknown pixel with the default
    solvers (see :func:`closed_form_memory`): a 16 MP photograph with 4 million unknown
    pixels needs about 6 GB. ``tile_size`` bounds the unknown-pixel part by the largest tile.
    Tiling is our addition for images that do not fit: the tiles' boundary values come from
    the half-size solution, so the result differs from the exact one where alpha depends on
    constraints far away (wide transparent regions); ``benchmarks/large_images.py``
    measures time, memory and the difference to the exact solution.

    References
    ----------
    .. [1] A. Levin, D. Lischinski, Y. Weiss, "A Closed-Form Solution to Natural Image
       Matting", IEEE TPAMI 30(2), 2008 (CVPR 2006).

    Examples
    --------
    >>> import matting
    >>> image, trimap, true_alpha = matting.datasets.load_sample()
    >>> alpha = matting.closed_form(image, trimap)
    >>> round(matting.metrics.sad(alpha, true_alpha, trimap), 1) < 10
    True
    """
    check_switches(return_foreground=return_foreground, return_info=return_info)
    if (trimap is None) == (scribbles is None):
        raise ValueError(
            "give exactly one of trimap= (hard constraints) or scribbles= (soft constraints)"
        )
    constraint_name = "trimap" if trimap is not None else "scribbles"
    image, constraints = image_and_trimap(
        image, trimap if trimap is not None else scribbles, trimap_name=constraint_name
    )
    levels, radius = _check_options(solver, levels, radius)  # the memory estimate reads them
    eps = as_finite(eps, "eps")  # as matting_laplacian checks it: the system builder does not
    lambda_ = as_finite(lambda_, "lambda_", limits=(0.0, WEIGHT_LIMIT))  # used by scribbles only
    if not as_finite(confident_alpha, "confident_alpha", positive=False) < 0.5:
        raise ValueError(f"confident_alpha must be in [0, 0.5), got {confident_alpha!r}")
    free = constraints == UNKNOWN
    if free.any():  # before the memory estimate, which assumes it fits
        check_window_fits(constraints.shape, radius)
    tiling = _check_tiling(tile_size, tile_overlap, trimap is None)
    if max_memory is not None and not (
        isinstance(max_memory, (int, float, np.integer, np.floating)) and max_memory > 0
    ):
        raise ValueError(f"max_memory must be a positive number of bytes, got {max_memory!r}")
    _check_memory(free, radius, solver, levels, tiling, trimap is None, max_memory)
    # The matting Laplacian's overlapping windows link every pixel to the constrained ones,
    # so the search for isolated pixels (10-20 ms at 0.3 MP, several per cent) is skipped.
    # A trimap's unknowns' system is built directly (_solve_free).
    soft_solve = None
    if scribbles is not None:
        soft_solve = partial(
            solve_soft_constraints,
            lambda_=lambda_,
            overwrite_laplacian=True,
            check_isolated=False,
        )
    solver_options = {"solver": solver, "rtol": rtol, "maxiter": maxiter}
    alpha, info = _coarse_to_fine(
        image,
        constraints,
        levels,
        confident_alpha,
        radius,
        eps,
        soft_solve,
        solver_options,
        tiling,
    )
    return method_outputs(
        image, alpha, info, return_foreground=return_foreground, return_info=return_info
    )
