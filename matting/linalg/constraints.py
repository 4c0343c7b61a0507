"""Turning a Laplacian and user constraints into the linear system every Laplacian method solves.

Hard constraints (a trimap): known pixels keep their value and only the unknowns are solved,
``L_UU a_U = -L_UK a_K`` (Levin et al. 2008, Sec. 3.1; the system is small when the unknown
band is). Soft constraints (scribbles, Levin et al.'s code): all pixels are unknowns and
constrained ones are pulled towards their value with weight ``lambda_``,
``(L + lambda_ D_S) a = lambda_ D_S b_S``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from .._inputs import UNKNOWN

__all__ = ["restrict_to", "solve_hard_constraints", "solve_soft_constraints"]


def restrict_to(matrix: scipy.sparse.csr_matrix, indices: np.ndarray) -> scipy.sparse.csr_matrix:
    """The principal submatrix ``matrix[indices][:, indices]`` (indices sorted), vectorised.

    Faster and leaner than scipy's two-step fancy indexing, which builds an intermediate
    matrix for the column selection.
    """
    rows = matrix[indices]
    new_index = np.full(matrix.shape[1], -1, dtype=np.int64)
    new_index[indices] = np.arange(indices.size)
    columns = new_index[rows.indices]
    keep = columns >= 0
    row_of_entry = np.repeat(np.arange(indices.size), np.diff(rows.indptr))
    counts = np.bincount(row_of_entry[keep], minlength=indices.size)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return scipy.sparse.csr_matrix(
        (rows.data[keep], columns[keep], indptr), shape=(indices.size, indices.size)
    )


def solve_hard_constraints(laplacian, trimap: np.ndarray, *, return_info: bool = False, **options):
    """Minimise ``a^T L a`` with the trimap's known pixels fixed.

    Parameters
    ----------
    laplacian : scipy.sparse matrix, N x N
        Symmetric positive semidefinite, N = H*W (row-major pixel order). Only rows and
        columns of unknown pixels are read.
    trimap : ndarray, float64 HxW
        Normalised trimap (0, 0.5, 1).
    return_info : bool
        Also return the solver's :class:`SolveInfo` (None when nothing had to be solved).
    **options
        Passed to :func:`matting.linalg.solve` (``solver``, ``rtol``, ``maxiter``, ...).

    Returns
    -------
    alpha : ndarray, float64 HxW in [0, 1], equal to the trimap on known pixels.
    """
    from .solve import solve

    alpha = trimap.copy()
    unknown = np.flatnonzero(trimap.ravel() == UNKNOWN)
    info = None
    if unknown.size:
        known_values = np.where(trimap == UNKNOWN, 0.0, trimap).ravel()
        laplacian = scipy.sparse.csr_matrix(laplacian)
        right_hand_side = -(laplacian[unknown] @ known_values)
        system = restrict_to(laplacian, unknown)
        pixel_rows, pixel_cols = np.divmod(unknown, trimap.shape[1])
        result = solve(
            system,
            right_hand_side,
            pixel_rows=pixel_rows,
            pixel_cols=pixel_cols,
            return_info=return_info,
            **options,
        )
        solution, info = result if return_info else (result, None)
        alpha.ravel()[unknown] = np.clip(solution, 0.0, 1.0)
    return (alpha, info) if return_info else alpha


def solve_soft_constraints(
    laplacian, constraints: np.ndarray, lambda_: float, *, return_info: bool = False, **options
):
    """Minimise ``a^T L a + lambda_ (a - b_S)^T D_S (a - b_S)`` over all pixels.

    Parameters
    ----------
    laplacian : scipy.sparse matrix, N x N
    constraints : ndarray, float64 HxW
        Normalised scribble map: 0 or 1 where constrained, 0.5 elsewhere.
    lambda_ : float
        Constraint weight (Levin et al.'s code uses 100).

    Returns
    -------
    alpha : ndarray, float64 HxW, clipped to [0, 1] as in the authors' code.
    """
    from .solve import solve

    if not (np.isfinite(lambda_) and lambda_ > 0):
        raise ValueError(f"lambda_ must be a positive number, got {lambda_}")
    constrained = (constraints != UNKNOWN).ravel().astype(np.float64)
    values = np.where(constraints == UNKNOWN, 0.0, constraints).ravel()
    system = scipy.sparse.csr_matrix(laplacian) + scipy.sparse.diags(lambda_ * constrained, format="csr")
    pixel_rows, pixel_cols = np.divmod(np.arange(constraints.size), constraints.shape[1])
    result = solve(
        system.tocsr(),
        lambda_ * constrained * values,
        pixel_rows=pixel_rows,
        pixel_cols=pixel_cols,
        return_info=return_info,
        **options,
    )
    solution, info = result if return_info else (result, None)
    alpha = np.clip(solution, 0.0, 1.0).reshape(constraints.shape)
    return (alpha, info) if return_info else alpha
