"""The one entry point through which every matting method solves its linear system."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from ._common import SolveInfo, check_solve_arguments
from .amg import amg
from .cg import run_cg
from .direct import direct_solve
from .ichol import ichol
from .multigrid import multigrid
from .preconditioners import jacobi

__all__ = ["SOLVERS", "check_solver", "solve"]

#: Accepted values of ``solver=``.
SOLVERS = ("auto", "cg", "jacobi", "ichol", "amg", "amg-sa", "amg-rn", "multigrid", "direct")

# "auto" by system size, measured on closed-form matting systems (four photographs with
# user-drawn trimaps, rtol 1e-7, 2 cores):
# - up to _DIRECT_MAX_UNKNOWNS, sparse LU: exact and fastest on tiny systems; already at
#   31k-37k unknowns incomplete-Cholesky PCG was faster (0.08 s vs 0.13 s, 0.17 s vs 0.20 s).
#   LU fill grows quickly on 2-D regions (25 s and 2.3 GB at 480k scribble unknowns).
# - up to _ICHOL_MAX_UNKNOWNS, incomplete-Cholesky PCG: at 147k unknowns 1.36 s against
#   1.89 s for geometric multigrid.
# - beyond, geometric multigrid when pixel coordinates are known: at 295k 4.7 s against
#   5.2 s, at 614k 8.4 s against 17 s (and 958 MB against 1.2 GB peak).
_DIRECT_MAX_UNKNOWNS = 10_000
_ICHOL_MAX_UNKNOWNS = 250_000


def _choose_solver(n: int, has_pixels: bool = False) -> str:
    """The solver ``solver="auto"`` uses for a system with ``n`` unknowns."""
    if n <= _DIRECT_MAX_UNKNOWNS:
        return "direct"
    if n <= _ICHOL_MAX_UNKNOWNS or not has_pixels:
        return "ichol"
    return "multigrid"


def check_solver(solver) -> str:
    """Return ``solver`` if it names one of :data:`SOLVERS`, else raise ``ValueError`` listing
    them (for methods that check their options before building a system)."""
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(map(repr, SOLVERS))}; got {solver!r}")
    return solver


def solve(
    A: sp.spmatrix | sp.sparray,
    b: np.ndarray,
    *,
    solver: str = "auto",
    rtol: float = 1e-7,
    maxiter: int | None = None,
    x0: np.ndarray | None = None,
    return_info: bool = False,
    callback: Callable[[np.ndarray], object] | None = None,
    pixel_rows: np.ndarray | None = None,
    pixel_cols: np.ndarray | None = None,
    options: dict | None = None,
) -> np.ndarray | tuple[np.ndarray, SolveInfo]:
    """Solve the symmetric positive definite system ``A x = b``.

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
        Symmetric positive definite (CSR float64 is used without conversion).
    b : numpy.ndarray, shape (n,)
        Right-hand side.
    solver : str, default "auto"
        ``"cg"`` (no preconditioner), ``"jacobi"``, ``"ichol"`` (incomplete Cholesky),
        ``"amg"`` or ``"amg-sa"`` (pyamg smoothed aggregation), ``"amg-rn"`` (pyamg
        root-node), ``"multigrid"`` (geometric multigrid on the pixel grid, needs
        ``pixel_rows`` and ``pixel_cols``): conjugate gradients with that preconditioner;
        ``"direct"``: sparse LU. ``"auto"`` picks by size (see Notes).
    rtol : float, default 1e-7
        Iterative solvers stop when ``||b - A x|| <= rtol ||b||``.
    maxiter : int, optional
        Iteration limit; default ``min(10 n, 10000)``.
    x0 : numpy.ndarray, shape (n,), optional
        Initial guess for the iterative solvers (a previous alpha, for instance).
    return_info : bool, default False
        Also return a :class:`SolveInfo` (iterations, residual history, timings).
    callback : callable, optional
        ``callback(xk)`` after each iteration of the iterative solvers.
    pixel_rows, pixel_cols : numpy.ndarray of int, shape (n,), optional
        Image coordinates of each unknown; required by ``"multigrid"``, ignored otherwise.
    options : dict, optional
        Keyword arguments for the preconditioner constructor (:func:`ichol`, :func:`amg`,
        :func:`multigrid`), e.g. ``{"threshold": 1e-3}``; ignored by ``"cg"`` and
        ``"direct"`` (so also when ``"auto"`` picks the direct solver).

    Returns
    -------
    x : numpy.ndarray, shape (n,)
    info : SolveInfo
        Only with ``return_info=True``.

    Raises
    ------
    ValueError
        For an unknown solver name (the message lists the choices), bad shapes or values,
        ``"multigrid"`` without pixel coordinates, or an ``A`` that a sample of its entries
        shows is not symmetric (:func:`matting.linalg._common.check_symmetric`).

    Warns
    -----
    ConvergenceWarning
        When an iterative solver stops short of ``rtol``.

    Notes
    -----
    ``"auto"`` uses the direct solver up to 10 000 unknowns, incomplete-Cholesky PCG up to
    250 000, and geometric multigrid PCG beyond when pixel coordinates are given (ichol
    otherwise): crossovers measured on closed-form matting systems of photographs (figures
    beside ``_choose_solver``, which benchmarks can move).

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from matting.linalg import solve
    >>> A = sp.diags([-1.0, 2.01, -1.0], [-1, 0, 1], shape=(500, 500)).tocsr()
    >>> x, info = solve(A, np.ones(500), solver="ichol", return_info=True)
    >>> info.solver, info.converged
    ('ichol', True)
    """
    check_solver(solver)
    matrix, b, x0, rtol, maxiter = check_solve_arguments(A, b, x0, rtol, maxiter, callback)
    n = matrix.shape[0]
    if options is not None and not isinstance(options, dict):
        raise ValueError(f"options must be a dict or None, got {type(options).__name__}")
    options = {} if options is None else options

    has_pixels = pixel_rows is not None and pixel_cols is not None
    name = _choose_solver(n, has_pixels) if solver == "auto" else solver
    name = "amg-sa" if name == "amg" else name
    if name == "multigrid" and (pixel_rows is None or pixel_cols is None):
        raise ValueError(
            "solver='multigrid' needs pixel_rows and pixel_cols (the image coordinates of "
            "each unknown)"
        )
    if not np.any(b):
        x = np.zeros(n)
        return (x, SolveInfo(0, np.zeros(1), True, name, 0.0, 0.0)) if return_info else x

    if name == "direct":
        x, info = direct_solve(matrix, b, return_info=True)
        return (x, info) if return_info else x

    start = time.perf_counter()
    if name == "cg":
        M = None
    elif name == "jacobi":
        M = _build(jacobi, name, options, matrix)
    elif name == "ichol":
        M = _build(ichol, name, options, matrix)
    elif name in ("amg-sa", "amg-rn"):
        M = _build(amg, name, options, matrix, kind=name[4:])
    else:
        M = _build(multigrid, name, options, matrix, pixel_rows, pixel_cols)
    setup = time.perf_counter() - start
    x, info = run_cg(matrix, b, M, x0, rtol, maxiter, callback, stacklevel=3)
    info = replace(info, solver=name, seconds_setup=setup)
    return (x, info) if return_info else x


def _build(constructor, name: str, options: dict, *args, **kwargs):
    """Call a preconditioner constructor, reporting options it does not take as ValueError."""
    try:
        inspect.signature(constructor).bind(*args, **kwargs, **options)
    except TypeError as error:
        raise ValueError(f"options do not fit solver={name!r}: {error}") from None
    return constructor(*args, **kwargs, **options)
