"""Sparse direct solve, for small systems and as a reference in tests."""

from __future__ import annotations

import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from ._common import ConvergenceWarning, SolveInfo, as_csr, as_vector

__all__ = ["direct_solve"]

#: Relative residual above which the answer is reported as failed (a ConvergenceWarning):
#: on the library's SPD systems the LU answer's residual is around 1e-14 to 1e-10.
_MAX_RESIDUAL = 1e-6


def direct_solve(
    A: sp.spmatrix | sp.sparray, b: np.ndarray, *, return_info: bool = False
) -> np.ndarray | tuple[np.ndarray, SolveInfo]:
    """Solve ``A x = b`` by sparse LU factorisation (SuperLU through SciPy).

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
        Symmetric positive definite (any nonsingular matrix works, more slowly).
    b : numpy.ndarray, shape (n,)
        Right-hand side.
    return_info : bool, default False
        Also return a :class:`SolveInfo` (``iterations == 0``; ``residuals`` holds one
        entry, the relative residual of the answer).

    Returns
    -------
    x : numpy.ndarray, shape (n,)
    info : SolveInfo
        Only with ``return_info=True``.

    Raises
    ------
    ValueError
        For bad inputs, or when ``A`` is exactly singular.

    Warns
    -----
    ConvergenceWarning
        When the answer's relative residual exceeds 1e-6 (``A`` nearly singular); the
        info's ``converged`` is then False.

    Notes
    -----
    SuperLU is run in its symmetric mode: a minimum-degree ordering of ``A + A^T`` and
    diagonal pivots, which for SPD matrices gives the sparsity of a Cholesky factorisation
    at about twice its cost. On closed-form matting systems it was about twice as fast as
    :func:`scipy.sparse.linalg.spsolve`'s default (0.39 s against 0.81 s at 62 000 unknowns,
    with 75 MB against 184 MB of extra memory). Fill grows like ``n log n`` on 2-D grids, so
    this is the right tool for small systems and for thin unknown regions (trimap bands);
    see :func:`matting.linalg.solve` for the automatic choice. (CHOLMOD would be faster
    still, but scikit-sparse is not a dependency.)

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from matting.linalg import direct_solve
    >>> direct_solve(sp.diags([2.0, 4.0]).tocsr(), np.array([2.0, 2.0]))
    array([1. , 0.5])
    """
    start = time.perf_counter()
    matrix = as_csr(A)
    n = matrix.shape[0]
    b = as_vector(b, n, "b")
    try:
        factor = splu(
            matrix.tocsc(),
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )
    except RuntimeError as error:  # SuperLU reports an exactly singular matrix this way
        raise ValueError(f"A is singular, the direct solver cannot factor it ({error})") from None
    setup = time.perf_counter() - start
    start = time.perf_counter()
    x = factor.solve(b)
    seconds = time.perf_counter() - start
    # A nearly (not exactly) singular matrix factors without complaint and gives an answer
    # of huge, meaningless values; one product tells.
    normb = float(np.linalg.norm(b))
    final = float(np.linalg.norm(b - matrix @ x)) / normb if normb > 0.0 else 0.0
    converged = bool(final <= _MAX_RESIDUAL)
    if not converged:
        warnings.warn(
            f"the direct solve left a relative residual of {final:.3g} (above "
            f"{_MAX_RESIDUAL:g}): A is singular or too ill-conditioned for this answer to "
            "mean anything",
            ConvergenceWarning,
            stacklevel=2,
        )
    if not return_info:
        return x
    residuals = np.array([final])
    return x, SolveInfo(0, residuals, converged, "direct", setup, seconds)
