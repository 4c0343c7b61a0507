"""Closed-form matting (Levin, Lischinski, Weiss 2008)."""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy import ndimage
from skimage.transform import resize

from .._inputs import UNKNOWN, image_and_trimap
from ..laplacian import matting_laplacian
from ..linalg.constraints import solve_hard_constraints, solve_soft_constraints
from ..trimap import windows_touching

__all__ = ["closed_form"]


def _solve_at_one_level(
    image, constraints, radius, eps, solve_constraints, solver_options, initial_alpha=None
):
    free = constraints == UNKNOWN
    if not free.any():
        return constraints.copy(), None
    laplacian = matting_laplacian(
        image, radius=radius, eps=eps, window_mask=windows_touching(free, radius)
    )
    return solve_constraints(
        laplacian, constraints, initial_alpha=initial_alpha, return_info=True, **solver_options
    )


def _downsample(values: np.ndarray) -> np.ndarray:
    """Blur with the binomial [1 4 6 4 1]/16 filter and keep every second pixel, as the
    authors' ``downSmpIm`` does."""
    weights = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    blurred = ndimage.correlate1d(values, weights, axis=0, mode="reflect")
    blurred = ndimage.correlate1d(blurred, weights, axis=1, mode="reflect")
    return blurred[::2, ::2]


def _downsample_constraints(constraints: np.ndarray) -> np.ndarray:
    """Constraints of the half-size image: a coarse pixel is constrained where most of its
    footprint is, to the rounded value (``round(downSmpIm(...))`` of the authors' code)."""
    known = _downsample((constraints != UNKNOWN).astype(np.float64)) >= 0.5
    values = np.round(_downsample((constraints == 1.0).astype(np.float64)))
    return np.where(known, values, UNKNOWN)


def _affine_upsample(coarse_alpha, coarse_image, image, radius, eps):
    """Carry a coarse alpha to full resolution through the local model ``alpha = a.I + b``.

    The coefficients of every coarse window are fitted by regularised least squares (the
    closed-form model itself), averaged over the windows containing each pixel (as in He et
    al.'s guided filter, where the authors' ``upSampleAlphaUsingImg`` takes the centre
    window's), interpolated bilinearly to full size and applied to the full-size colours.
    """
    size = 2 * radius + 1

    def mean(values):
        return ndimage.uniform_filter(values, size=size, mode="reflect")

    colour_mean = np.stack([mean(coarse_image[:, :, c]) for c in range(3)], axis=2)
    alpha_mean = mean(coarse_alpha)
    covariance = np.empty(coarse_alpha.shape + (3, 3))
    for i in range(3):
        for j in range(i, 3):
            value = mean(coarse_image[:, :, i] * coarse_image[:, :, j])
            value -= colour_mean[:, :, i] * colour_mean[:, :, j]
            covariance[:, :, i, j] = covariance[:, :, j, i] = value
    covariance += eps / size**2 * np.eye(3)
    cross = (
        np.stack([mean(coarse_image[:, :, c] * coarse_alpha) for c in range(3)], axis=2)
        - colour_mean * alpha_mean[:, :, np.newaxis]
    )
    slope = np.linalg.solve(covariance, cross[..., np.newaxis])[..., 0]
    offset = alpha_mean - np.einsum("hwc,hwc->hw", slope, colour_mean)
    coefficients = np.dstack([slope, offset])
    coefficients = np.dstack([mean(coefficients[:, :, c]) for c in range(4)])
    coefficients = resize(coefficients, image.shape[:2], order=1, mode="edge")
    alpha = np.einsum("hwc,hwc->hw", coefficients[:, :, :3], image) + coefficients[:, :, 3]
    return np.clip(alpha, 0.0, 1.0)


def _coarse_to_fine(
    image, constraints, levels, confident_alpha, radius, eps, solve_constraints, solver_options
):
    """The authors' ``solveAlphaC2F``: solve a half-size problem, carry its alpha up with the
    local affine model, fix the pixels it finds clearly foreground or background, and solve
    only for the rest at full size."""
    coarse_constraints = _downsample_constraints(constraints) if levels > 1 else None
    usable = (
        coarse_constraints is not None
        and min(coarse_constraints.shape) >= 2 * radius + 1
        and (coarse_constraints == 1.0).any()
        and (coarse_constraints == 0.0).any()
        and (coarse_constraints == UNKNOWN).any()
    )
    if not usable:
        return _solve_at_one_level(
            image, constraints, radius, eps, solve_constraints, solver_options
        )
    coarse_image = np.stack([_downsample(image[:, :, c]) for c in range(3)], axis=2)
    coarse_alpha, _ = _coarse_to_fine(
        coarse_image,
        coarse_constraints,
        levels - 1,
        confident_alpha,
        radius,
        eps,
        solve_constraints,
        solver_options,
    )
    guess = _affine_upsample(coarse_alpha, coarse_image, image, radius, eps)
    confident = (guess < confident_alpha) | (guess > 1.0 - confident_alpha)
    # Only pixels whose neighbours are confident too are fixed (the code's erosion).
    confident = ndimage.binary_erosion(confident, np.ones((3, 3), bool), border_value=1)
    refined = constraints.copy()
    newly_fixed = confident & (constraints == UNKNOWN)
    refined[newly_fixed] = np.round(guess[newly_fixed])
    return _solve_at_one_level(
        image, refined, radius, eps, solve_constraints, solver_options, initial_alpha=guess
    )


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
        Relative residual at which the iterative solver stops.
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
    return_foreground : bool
        Also return the foreground and background colours, estimated from ``alpha`` with
        :func:`matting.estimate_foreground`.
    return_info : bool
        Also return the solver's :class:`matting.linalg.SolveInfo` (iterations, residual
        history; None when the trimap had no unknown pixel), as the last element. With
        ``levels > 1`` it describes the full-size solve.

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
    if (trimap is None) == (scribbles is None):
        raise ValueError(
            "give exactly one of trimap= (hard constraints) or scribbles= (soft constraints)"
        )
    constraint_name = "trimap" if trimap is not None else "scribbles"
    image, constraints = image_and_trimap(
        image, trimap if trimap is not None else scribbles, trimap_name=constraint_name
    )
    if int(levels) != levels or levels < 1:
        raise ValueError(f"levels must be a whole number >= 1, got {levels}")
    if not 0.0 <= confident_alpha < 0.5:
        raise ValueError(f"confident_alpha must be in [0, 0.5), got {confident_alpha}")
    if trimap is not None:
        solve_constraints = solve_hard_constraints
    else:
        solve_constraints = partial(solve_soft_constraints, lambda_=lambda_)
    solver_options = {"solver": solver, "rtol": rtol, "maxiter": maxiter}
    alpha, info = _coarse_to_fine(
        image,
        constraints,
        int(levels),
        confident_alpha,
        radius,
        eps,
        solve_constraints,
        solver_options,
    )
    outputs = [alpha]
    if return_foreground:
        from ..foreground import estimate_foreground

        outputs.extend(estimate_foreground(image, alpha))
    if return_info:
        outputs.append(info)
    return outputs[0] if len(outputs) == 1 else tuple(outputs)
