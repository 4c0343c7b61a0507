"""Sparse symmetric positive definite solvers shared by all matting methods.

Every method that builds a linear system ``A x = b`` calls :func:`solve`, which runs
conjugate gradients (:func:`cg`) with one of the preconditioners below, or a sparse direct
factorisation (:func:`direct_solve`).

Preconditioners (each returns an object with ``apply(r) -> z`` and ``aslinearoperator()``):

- :func:`jacobi`: diagonal scaling.
- :func:`ichol`: thresholded incomplete Cholesky with diagonal-shift retries (Numba).
- :func:`amg`: algebraic multigrid V-cycle from pyamg (smoothed aggregation or root-node).
- :func:`multigrid`: geometric multigrid V-cycle on the pixel grid (Numba smoothers).

:func:`csr_matvec` is the Numba CSR product the solvers use, with argument checks, for reuse.
:func:`nested_dissection` orders the pixels of a whole image for a sparse direct factorisation.
:func:`solve_hard_constraints` and :func:`solve_soft_constraints` turn a Laplacian and a
trimap or scribbles into the system and solve it; :func:`solve_on_support` solves a Laplacian
plus a diagonal data term over the pixels that need it.
"""

from ._common import ConvergenceWarning, IsolatedPixelsWarning, SolveInfo, csr_matvec
from .amg import AMGPreconditioner, amg
from .cg import cg
from .constraints import (
    solve_hard_constraints,
    solve_on_support,
    solve_soft_constraints,
    split_system,
)
from .direct import direct_solve
from .ichol import ICholPreconditioner, ichol
from .multigrid import MultigridPreconditioner, multigrid
from .ordering import nested_dissection
from .preconditioners import JacobiPreconditioner, Preconditioner, jacobi
from .solve import SOLVERS, solve

__all__ = [
    "SOLVERS",
    "AMGPreconditioner",
    "ConvergenceWarning",
    "ICholPreconditioner",
    "IsolatedPixelsWarning",
    "JacobiPreconditioner",
    "MultigridPreconditioner",
    "Preconditioner",
    "SolveInfo",
    "amg",
    "cg",
    "csr_matvec",
    "direct_solve",
    "ichol",
    "jacobi",
    "multigrid",
    "nested_dissection",
    "solve",
    "solve_hard_constraints",
    "solve_on_support",
    "solve_soft_constraints",
    "split_system",
]
