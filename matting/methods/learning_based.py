"""Learning-based digital matting (Zheng and Kambhamettu, ICCV 2009)."""

from __future__ import annotations

import numpy as np

from .._inputs import UNKNOWN, as_finite, as_integer, check_switches, image_and_trimap
from ..laplacian.learning_based import learning_based_laplacian
from ..linalg.constraints import WEIGHT_LIMIT, solve_hard_constraints, solve_on_support
from ..trimap import windows_touching
from ._outputs import method_outputs

__all__ = ["learning_based"]


def learning_based(
    image,
    trimap,
    *,
    radius: int = 1,
    lambda_: float = 1e-7,
    c: float = 800.0,
    constraints: str = "soft",
    solver: str = "auto",
    rtol: float = 1e-7,
    maxiter: int | None = None,
    return_foreground: bool = False,
    return_info: bool = False,
):
    """Learning-based matting: in every small window, alpha is learnt from colour by ridge
    regression, and the matte is the one these local models predict best.

    The local learning cost is ``alpha^T L alpha`` with the Laplacian
    :func:`matting.laplacian.learning_based.learning_based_laplacian` (each window adds
    ``(I - F)^T (I - F)``, ``F`` the ridge regression's prediction matrix), minimised under
    the trimap's constraints.

    Parameters
    ----------
    image : array_like, HxW, HxWx3 or HxWx4
        ``uint8``, ``uint16`` or float in [0, 1].
    trimap : array_like, HxW
        0 background, 1 foreground (255 for uint8), anything between unknown. Scribbles work
        too with the default soft constraints.
    radius : int
        Window radius r; windows are (2r+1) x (2r+1). Paper: 3x3 windows (r = 1).
    lambda_ : float
        Ridge parameter lambda of the local linear models. Authors' code: 1e-7.
    c : float
        Weight c of the constraints (paper's objective ``alpha^T L alpha + (alpha -
        alpha*)^T C (alpha - alpha*)`` with ``C = c`` on known pixels). Authors' code: 800.
        Only used with ``constraints="soft"``.
    constraints : {"soft", "hard"}
        ``"soft"`` (the paper): known pixels are pulled to their value with weight ``c``.
        ``"hard"``: known pixels are fixed and only the unknown ones are solved for (the
        limit ``c -> infinity``, as closed-form matting does with a trimap).
    solver : str
        Linear solver (see :func:`matting.linalg.solve`); "auto" picks by system size.
    rtol : float
        Relative residual at which the iterative solver stops.
    maxiter : int, optional
        Iteration limit of the iterative solver; a warning is issued if it is reached.
    return_foreground : bool
        Also return the foreground and background colours, estimated from ``alpha`` with
        :func:`matting.estimate_foreground`.
    return_info : bool
        Also return the solver's :class:`matting.linalg.SolveInfo` (None when nothing had to
        be solved), as the last element.

    Returns
    -------
    alpha : ndarray, float64 HxW in [0, 1]
        Exactly 0 and 1 on the trimap's known pixels.
    foreground, background : ndarray, float64 HxWx3
        Only with ``return_foreground=True``.
    info : SolveInfo
        Only with ``return_info=True``.

    Raises
    ------
    ValueError
        For bad images or trimaps, a radius that is not a positive integer, ``lambda_`` or
        ``c`` not finite and positive, an unknown ``constraints`` name or a bad solver option.

    Notes
    -----
    The paper's soft constraints with ``c = 800`` and hard constraints gave errors within
    0.1% of each other on our benchmark photographs, and similar times.

    Only windows touching an unknown pixel are built (a window inside the known region adds
    nothing that involves an unknown), and with soft constraints only the pixels those
    windows touch are solved for: every other known pixel is coupled to nothing and keeps its
    value exactly. The result is the paper's over the whole image. After solving, alpha is
    clipped to [0, 1] and the known pixels are set to their trimap values (soft constraints
    leave them within about ``1/c`` of it), as every method of this library returns them.

    The paper's local models may also use a nonlinear kernel (its "kernel trick"); like the
    authors' released code and pymatting, this implements the linear model. The paper's
    global learning variant (for trimaps, with a global kernel over all pixels) is not
    implemented. The ridge penalty leaves the model's offset free, as in the paper's
    :math:`I_0`; see :func:`~matting.laplacian.learning_based.learning_based_laplacian` for
    how the authors' code and pymatting differ (by terms of order ``lambda_``).

    References
    ----------
    .. [1] Y. Zheng and C. Kambhamettu, "Learning Based Digital Matting", ICCV 2009.

    Examples
    --------
    >>> import matting
    >>> from matting.methods.learning_based import learning_based
    >>> image, trimap, true_alpha = matting.datasets.load_sample()
    >>> alpha = learning_based(image, trimap)
    >>> alpha.shape == trimap.shape
    True
    """
    check_switches(return_foreground=return_foreground, return_info=return_info)
    image, trimap = image_and_trimap(image, trimap)
    radius = as_integer(radius, "radius")  # windows_touching reads it before the builder
    c = as_finite(c, "c", limits=(0.0, WEIGHT_LIMIT))
    if constraints not in ("soft", "hard"):
        raise ValueError(f"constraints must be 'soft' or 'hard', got {constraints!r}")
    unknown = trimap == UNKNOWN
    # Built even without unknown pixels (on an empty window set), so bad options always raise.
    # Kept in a list that the solve empties (laplacian.pop), so that the solve holds the only
    # reference and frees the matrix once its system is split from it.
    laplacian = [
        learning_based_laplacian(
            image, radius=radius, lambda_=lambda_, window_mask=windows_touching(unknown, radius)
        )
    ]
    solver_options = {"solver": solver, "rtol": rtol, "maxiter": maxiter}
    if not unknown.any():
        alpha, info = trimap.copy(), None
    elif constraints == "soft":
        # Minimise a^T L a + c (a - t)^T C (a - t), C the known-pixel indicator.
        known = (trimap != UNKNOWN).astype(np.float64).ravel()
        alpha, info = solve_on_support(
            laplacian.pop,
            trimap,
            c * known,
            c * known * trimap.ravel(),
            return_info=True,
            **solver_options,
        )
    else:
        alpha, info = solve_hard_constraints(
            laplacian.pop, trimap, return_info=True, **solver_options
        )
    alpha[~unknown] = trimap[~unknown]
    return method_outputs(
        image, alpha, info, return_foreground=return_foreground, return_info=return_info
    )
