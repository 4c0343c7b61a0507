"""Preconditioned conjugate gradient.

The iteration is a Python loop over Numba kernels (CSR product, a fused update of x and r
returning ``r . r``, dot products) and the preconditioner's own kernels. A variant running
the whole loop in one Numba function for Jacobi and incomplete Cholesky was measured and
dropped: per iteration it was 0-13 % faster (grid Laplacians of 20k and 200k unknowns, a
250k-unknown matting system; 1 % for incomplete Cholesky at 250k, where the triangular
solves dominate), within run-to-run noise on a shared machine, for 0.9 s more compilation
and a second code path.

References
----------
.. [1] Y. Saad, *Iterative Methods for Sparse Linear Systems*, 2nd ed., SIAM, 2003,
   Algorithm 9.1 (preconditioned conjugate gradient).
.. [2] H. A. van der Vorst and Q. Ye, "Residual replacement strategies for Krylov subspace
   iterative methods for the convergence of true residuals", SIAM J. Sci. Comput. 22(3),
   2000.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from ._common import (
    ConvergenceWarning,
    SolveInfo,
    as_vector,
    check_maxiter,
    check_rtol,
    check_solve_arguments,
)
from ._kernels import cg_update, csr_matvec, dot
from .preconditioners import Preconditioner

__all__ = ["cg", "run_cg"]

_CONVERGED, _MAXITER, _BREAKDOWN = 0, 1, 2


def cg(
    A: sp.spmatrix | sp.sparray | LinearOperator,
    b: np.ndarray,
    *,
    M: Preconditioner | object | None = None,
    x0: np.ndarray | None = None,
    rtol: float = 1e-7,
    maxiter: int | None = None,
    callback: Callable[[np.ndarray], object] | None = None,
    return_info: bool = False,
) -> np.ndarray | tuple[np.ndarray, SolveInfo]:
    """Solve ``A x = b`` by the (preconditioned) conjugate gradient method.

    Parameters
    ----------
    A : scipy.sparse matrix or scipy.sparse.linalg.LinearOperator, shape (n, n)
        Symmetric positive definite (CSR float64 is used as is; other formats are converted;
        a matrix that a sample of its entries shows is not symmetric raises ValueError).
        A ``LinearOperator`` is used matrix-free through ``A.matvec`` (for operators whose
        matrix is never formed, such as
        :func:`matting.laplacian.large_kernel.large_kernel_laplacian`).
    b : numpy.ndarray, shape (n,)
        Right-hand side.
    M : Preconditioner or LinearOperator or callable, optional
        Symmetric positive definite preconditioner approximating ``A^-1``: an object from
        :func:`jacobi`, :func:`ichol`, :func:`amg` or :func:`multigrid`, a
        :class:`scipy.sparse.linalg.LinearOperator` (``M.matvec(r)``) or a function
        ``r -> z``. ``None`` runs plain CG.
    x0 : numpy.ndarray, shape (n,), optional
        Initial guess (zeros by default). Not modified.
    rtol : float, default 1e-7
        Stop when ``||b - A x||_2 <= rtol * ||b||_2``.
    maxiter : int, optional
        Iteration limit; default ``min(10 n, 10000)``.
    callback : callable, optional
        Called as ``callback(xk)`` after every iteration with a read-only view of the current
        iterate.
    return_info : bool, default False
        Also return a :class:`SolveInfo`.

    Returns
    -------
    x : numpy.ndarray, shape (n,)
        The solution (a new array).
    info : SolveInfo
        Only with ``return_info=True``.

    Warns
    -----
    ConvergenceWarning
        When the tolerance is not reached within ``maxiter`` iterations, or when the
        iteration breaks down because ``A`` or ``M`` is not positive definite. The message
        gives the iterations done and the final relative residual.

    Notes
    -----
    Algorithm 9.1 of Saad [1]_. Convergence is judged on the relative residual. The
    residual is updated by recurrence; when the recurrence says the tolerance is met, the
    true residual ``b - A x`` is computed and decides, and if it does not pass, it replaces
    the recursive one and the iteration restarts from it (residual replacement, van der
    Vorst and Ye [2]_): with the ill-conditioned systems of matting (eps = 1e-7) the two can
    drift apart, and the answer must satisfy the tolerance it claims. ``b == 0`` returns
    zeros at once.

    References
    ----------
    .. [1] Y. Saad, *Iterative Methods for Sparse Linear Systems*, 2nd ed., SIAM, 2003.
    .. [2] H. A. van der Vorst and Q. Ye, "Residual replacement strategies for Krylov
       subspace iterative methods for the convergence of true residuals", SIAM J. Sci.
       Comput. 22(3), 2000.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from matting.linalg import cg, jacobi
    >>> A = sp.diags([-1.0, 2.5, -1.0], [-1, 0, 1], shape=(100, 100)).tocsr()
    >>> x, info = cg(A, np.ones(100), M=jacobi(A), return_info=True)
    >>> info.converged, info.final_residual <= 1e-7
    (True, True)
    """
    if isinstance(A, LinearOperator):
        matrix, b, x0, rtol, maxiter = _check_operator_arguments(A, b, x0, rtol, maxiter, callback)
    else:
        matrix, b, x0, rtol, maxiter = check_solve_arguments(A, b, x0, rtol, maxiter, callback)
    x, info = run_cg(matrix, b, M, x0, rtol, maxiter, callback)
    return (x, info) if return_info else x


def _check_operator_arguments(A, b, x0, rtol, maxiter, callback):
    """:func:`check_solve_arguments` for a square ``LinearOperator`` instead of a matrix."""
    rows, cols = A.shape
    if rows != cols or rows == 0:
        raise ValueError(f"A must be a non-empty square operator, got shape {A.shape}")
    b = as_vector(b, rows, "b")
    x0 = None if x0 is None else as_vector(x0, rows, "x0")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable, got {type(callback).__name__}")
    return A, b, x0, check_rtol(rtol), check_maxiter(maxiter, rows)


def _matvec(matrix):
    """``matvec(v, out)`` writing ``A v`` into ``out``: the Numba CSR product for a checked
    CSR matrix, ``A.matvec`` for a ``LinearOperator``."""
    if isinstance(matrix, LinearOperator):

        def apply(v, out):
            # A read-only view, as for foreign preconditioners: the operator must not write
            # into the iteration's vectors.
            out[:] = np.ravel(matrix.matvec(_read_only(v)))

        return apply
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data

    def apply(v, out):
        csr_matvec(indptr, indices, data, v, out)

    return apply


def run_cg(matrix, b, M, x0, rtol, maxiter, callback, stacklevel=3):
    """:func:`cg` on arguments that are already checked; returns ``(x, info)``."""
    n = b.shape[0]
    apply, name = _preconditioner(M, n)
    x = np.zeros(n) if x0 is None else x0.copy()
    start = time.perf_counter()
    # Not numpy.linalg.norm: its BLAS dot wakes OpenBLAS's threads above 10 000 entries, and
    # they then spin for a while against the caller's own parallel (Numba) kernels.
    normb = math.sqrt(dot(b, b))
    if normb == 0.0:
        # A is positive definite, so the solution is exactly zero whatever x0 says.
        x[:] = 0.0
        return x, SolveInfo(0, np.zeros(1), True, name, 0.0, time.perf_counter() - start)

    # A list, not an array of maxiter + 1: maxiter may be far above the iterations run
    # (2**31 - 1 would ask for 16 GiB up front).
    history = []
    iterations, status = _pcg(matrix, b, x, apply, rtol * normb, maxiter, history, callback)
    history = np.array(history)
    seconds = time.perf_counter() - start

    residuals = history[: iterations + 1] / normb
    converged = status == _CONVERGED
    if not converged:
        reason = (
            "breakdown: A or the preconditioner is not positive definite"
            if status == _BREAKDOWN
            else f"did not converge to rtol={rtol:g}"
        )
        warnings.warn(
            f"{name}: {reason} after {iterations} iterations; final relative residual "
            f"{residuals[-1]:.3e}",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
    return x, SolveInfo(iterations, residuals, converged, name, 0.0, seconds)


def _preconditioner(M, n: int):
    """Return ``(apply, name)``: ``apply(r, out)`` writes ``M^-1 r`` into ``out``."""
    if M is None:
        return None, "cg"
    if isinstance(M, Preconditioner):
        if M.shape != (n, n):
            raise ValueError(f"M has shape {M.shape}, expected {(n, n)}")
        return M._apply, M.name
    shape = getattr(M, "shape", None)
    if shape is not None and tuple(shape) != (n, n):
        raise ValueError(f"M has shape {tuple(shape)}, expected {(n, n)}")
    # Foreign preconditioners see a read-only residual, for the same reason as the callback.
    if hasattr(M, "matvec"):
        matvec = M.matvec

        def apply(r, out):
            out[:] = np.ravel(matvec(_read_only(r)))

        return apply, "pcg"
    if callable(M):

        def apply(r, out):
            out[:] = np.ravel(M(_read_only(r)))

        return apply, "pcg"
    raise ValueError(
        "M must be None, a preconditioner from matting.linalg, a scipy LinearOperator or a "
        f"callable, got {type(M).__name__}"
    )


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def _pcg(matrix, b, x, apply, tol, maxiter, history, callback):
    """Saad's Algorithm 9.1 with residual replacement; returns ``(iterations, status)``."""
    matvec = _matvec(matrix)
    n = b.shape[0]
    r = np.empty(n)
    q = np.empty(n)
    matvec(x, q)
    np.subtract(b, q, out=r)
    z = r if apply is None else np.empty(n)
    # The callback gets a read-only view: writing into the iterate fails loudly instead of
    # corrupting the iteration.
    x_view = _read_only(x)

    def precondition():
        if apply is not None:
            apply(r, z)
        return dot(r, z)

    rr = dot(r, r)
    history.append(math.sqrt(rr))  # one entry per iteration, the start's first
    if history[0] <= tol:
        return 0, _CONVERGED
    rz = precondition()
    p = z.copy()
    iterations = 0
    status = _MAXITER
    while iterations < maxiter:
        if not rz > 0.0:
            status = _BREAKDOWN
            break
        matvec(p, q)
        pq = dot(p, q)
        if not pq > 0.0:
            status = _BREAKDOWN
            break
        alpha = rz / pq
        rr = cg_update(x, r, p, q, alpha)
        iterations += 1
        history.append(math.sqrt(rr))
        if callback is not None:
            callback(x_view)
        if history[iterations] <= tol:
            matvec(x, q)
            np.subtract(b, q, out=r)
            history[iterations] = math.sqrt(dot(r, r))
            if history[iterations] <= tol:
                status = _CONVERGED
                break
            rz = precondition()
            p[:] = z
            continue
        rz_next = precondition()
        beta = rz_next / rz
        rz = rz_next
        p *= beta
        p += z
    return iterations, status
