"""Closed-form matting (Levin, Lischinski, Weiss 2008)."""

from __future__ import annotations

from .._inputs import UNKNOWN, image_and_trimap
from ..laplacian import matting_laplacian
from ..linalg.constraints import solve_hard_constraints, solve_soft_constraints
from ..trimap import windows_touching

__all__ = ["closed_form"]


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
    return_foreground : bool
        Also return the foreground and background colours, estimated from ``alpha`` with
        :func:`matting.estimate_foreground`.
    return_info : bool
        Also return the solver's :class:`matting.linalg.SolveInfo` (iterations, residual
        history; None when the trimap had no unknown pixel), as the last element.

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
    options = {"solver": solver, "rtol": rtol, "maxiter": maxiter, "return_info": True}
    free = constraints == UNKNOWN
    info = None
    if not free.any():
        alpha = constraints
    else:
        laplacian = matting_laplacian(
            image, radius=radius, eps=eps, window_mask=windows_touching(free, radius)
        )
        if trimap is not None:
            alpha, info = solve_hard_constraints(laplacian, constraints, **options)
        else:
            alpha, info = solve_soft_constraints(laplacian, constraints, lambda_, **options)
    outputs = [alpha]
    if return_foreground:
        from ..foreground import estimate_foreground

        outputs.extend(estimate_foreground(image, alpha))
    if return_info:
        outputs.append(info)
    return outputs[0] if len(outputs) == 1 else tuple(outputs)
