"""Shared pieces of the solvers: result record, warning class and argument checks.

The checks convert what the user passes into the one layout the Numba kernels are compiled
for (CSR, float64 values, int32 indices, C-contiguous, writeable), without ever writing into
the user's arrays: when an argument already has that layout it is shared, not copied, and the
solvers only read it.
"""

from __future__ import annotations

import numbers
import operator
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ._kernels import csr_matvec as _csr_matvec_kernel
from ._kernels import first_asymmetry as _first_asymmetry

__all__ = [
    "ConvergenceWarning",
    "IsolatedPixelsWarning",
    "SolveInfo",
    "as_csr",
    "as_vector",
    "check_int",
    "csr_matvec",
]

_INT32_MAX = np.iinfo(np.int32).max


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped before reaching the requested tolerance."""


class IsolatedPixelsWarning(UserWarning):
    """Some unknown pixels are linked to no constrained pixel by the Laplacian's graph, so
    nothing determines their alpha (they are set to 0)."""


@dataclass(frozen=True)
class SolveInfo:
    """What happened during a solve.

    Attributes
    ----------
    iterations : int
        Number of iterations performed (0 for the direct solver).
    residuals : numpy.ndarray
        Relative residual ``||b - A x_k||_2 / ||b||_2`` after each iteration, starting with the
        initial guess, so ``len(residuals) == iterations + 1``. Iterative solvers record the
        recursively updated residual, except that a residual that passes the tolerance is
        replaced by the true residual, which decides convergence. All zeros when ``b == 0``.
    converged : bool
        Whether the final relative residual is at most ``rtol``.
    solver : str
        Name of the solver that ran (``"auto"`` is resolved to the solver it chose).
    seconds_setup : float
        Wall-clock seconds spent building the preconditioner or factorisation (0 from
        :func:`cg`, which is handed a ready preconditioner).
    seconds_solve : float
        Wall-clock seconds spent iterating (or in the triangular solves of the direct solver).
    """

    iterations: int
    residuals: np.ndarray = field(repr=False)
    converged: bool
    solver: str
    seconds_setup: float
    seconds_solve: float

    @property
    def final_residual(self) -> float:
        """The last entry of :attr:`residuals`."""
        return float(self.residuals[-1])


def as_csr(A, name: str = "A") -> sp.csr_matrix:
    """Return ``A`` as a square CSR matrix with float64 values and int32 indices.

    The result shares ``A``'s arrays when they already have that layout; callers must treat
    it as read-only. Raises ``ValueError`` (naming ``name``) for anything that is not a
    non-empty, square, finite, real sparse matrix or 2-D array.
    """
    if A is None:
        raise ValueError(f"{name} is required, got None")
    if sp.issparse(A):
        if A.ndim != 2:
            raise ValueError(f"{name} must be 2-D, got {A.ndim}-D")
        matrix = A if A.format == "csr" else A.tocsr()
    elif isinstance(A, np.ndarray):
        if A.ndim != 2:
            raise ValueError(f"{name} must be a square 2-D matrix, got shape {A.shape}")
        matrix = sp.csr_matrix(A)
    else:
        raise ValueError(
            f"{name} must be a scipy.sparse matrix (CSR preferred), got {type(A).__name__}"
        )
    rows, cols = matrix.shape
    if rows != cols:
        raise ValueError(f"{name} must be square, got shape {matrix.shape}")
    if rows == 0:
        raise ValueError(f"{name} is empty (shape {matrix.shape})")
    if matrix.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be real-valued, got dtype {matrix.dtype}")
    data = _kernel_array(matrix.data, np.float64)
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{name} contains NaN or infinite values")
    # One index width keeps one compiled signature per kernel; int32 covers every matrix with
    # fewer than 2**31 stored entries, which is any image a machine can hold this matrix for.
    index_type = np.int32 if matrix.indptr[-1] <= _INT32_MAX else np.int64
    indices = _kernel_array(matrix.indices, index_type)
    indptr = _kernel_array(matrix.indptr, index_type)
    shared = data is matrix.data and indices is matrix.indices and indptr is matrix.indptr
    if shared and type(matrix) is sp.csr_matrix:
        return matrix
    # A new matrix object around the (possibly shared) arrays, so that nothing later done to
    # it (pyamg sets attributes on the matrices it receives) reaches the caller's object.
    result = sp.csr_matrix((data, indices, indptr), shape=matrix.shape, copy=False)
    if result.indices.dtype != index_type or result.indptr.dtype != index_type:
        # scipy picks the index width itself; force ours for the kernels.
        result.indices = indices
        result.indptr = indptr
    return result


def as_vector(v, n: int, name: str) -> np.ndarray:
    """Return ``v`` as a finite float64 vector of length ``n`` (shared when possible).

    Callers must not write into the result.
    """
    if v is None:
        raise ValueError(f"{name} is required, got None")
    array = np.asarray(v)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a real numeric vector, got dtype {array.dtype}")
    if array.ndim != 1 or array.shape[0] != n:
        raise ValueError(f"{name} must be a 1-D array of length {n}, got shape {array.shape}")
    array = _kernel_array(array, np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def check_non_negative(value, name: str) -> float:
    """Return ``value`` as a float, refusing negative or non-finite values, and booleans and
    text (``"1e-7"``), as :func:`matting._inputs.as_finite` does for the methods' options."""
    is_real = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if not (is_real and np.isfinite(value) and value >= 0.0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_rtol(rtol) -> float:
    """Return ``rtol`` as a float in [0, 1): from 1 on, the initial guess (zero) already
    passes and nothing is solved."""
    value = check_non_negative(rtol, "rtol")
    if value >= 1.0:
        raise ValueError(f"rtol must be below 1 (a relative residual), got {rtol!r}")
    return value


#: Stored entries :func:`check_symmetric` compares with their mirror (evenly spread): 0.1 ms
#: on a 0.3 MP closed-form system and 0.5 ms at 5 MP, where comparing every entry would take
#: about 40 ms at 0.3 MP, nearly half the solve.
SYMMETRY_SAMPLES = 2_000


def check_symmetric(matrix: sp.csr_matrix, name: str = "A") -> None:
    """ValueError if a sample of ``matrix``'s entries shows it is not symmetric.

    Conjugate gradients and every preconditioner here assume a symmetric matrix; given
    another (such as a row-normalised affinity matrix) they return a wrong answer without a
    word. The check compares :data:`SYMMETRY_SAMPLES` stored entries, spread evenly, with
    their mirrors, to a relative 1e-8: it catches matrices that are unsymmetric throughout,
    not one stray entry.
    """
    row, column = _first_asymmetry(
        matrix.indptr, matrix.indices, matrix.data, SYMMETRY_SAMPLES, 1e-8
    )
    if row >= 0:
        raise ValueError(
            f"{name} must be symmetric (conjugate gradients and its preconditioners assume "
            f"it), but {name}[{row}, {column}] = {matrix[row, column]:g} and "
            f"{name}[{column}, {row}] = {matrix[column, row]:g}"
        )


def check_solve_arguments(A, b, x0, rtol, maxiter, callback):
    """The checks every solver entry point makes; returns ``(matrix, b, x0, rtol, maxiter)``."""
    matrix = as_csr(A)
    check_symmetric(matrix)
    n = matrix.shape[0]
    b = as_vector(b, n, "b")
    x0 = None if x0 is None else as_vector(x0, n, "x0")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable, got {type(callback).__name__}")
    return matrix, b, x0, check_rtol(rtol), check_maxiter(maxiter, n)


def check_maxiter(maxiter, n: int) -> int:
    """Return the iteration limit: ``maxiter`` itself, or by default ``min(10 n, 10000)``."""
    if maxiter is None:
        return int(min(10 * n, 10_000))
    return check_int(maxiter, "maxiter", 0)


def check_int(value, name: str, minimum: int) -> int:
    """Return ``value`` as an int, refusing non-integers (bool included) and values < minimum."""
    try:
        result = operator.index(value)
    except TypeError:
        result = None
    if result is None or value is True or value is False or result < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(result)


def positive_diagonal(A: sp.csr_matrix, name: str = "A") -> np.ndarray:
    """Return the diagonal of ``A``, raising ``ValueError`` unless every entry is positive."""
    diagonal = A.diagonal()
    bad = np.flatnonzero(~(diagonal > 0.0))
    if bad.size:
        raise ValueError(
            f"{name} must be symmetric positive definite, but {bad.size} diagonal entries are "
            f"<= 0 (first at row {bad[0]}: {diagonal[bad[0]]!r})"
        )
    return diagonal


def _kernel_array(array: np.ndarray, dtype) -> np.ndarray:
    # Numba compiles a separate specialisation for read-only or non-contiguous arrays, so copy
    # those rather than pay another compilation.
    if array.dtype != dtype or not array.flags.c_contiguous or not array.flags.writeable:
        return np.array(array, dtype=dtype, order="C", copy=True)
    return array


def csr_matvec(indptr, indices, data, x, out) -> None:
    """Compute ``out = A @ x`` for a CSR matrix ``A`` given by its three arrays, with the
    Numba product the solvers use.

    Parameters
    ----------
    indptr, indices, data : numpy.ndarray
        The CSR arrays of ``A`` (``A.indptr``, ``A.indices``, ``A.data``): integer
        ``indptr`` of length ``n_rows + 1``, non-decreasing from 0; integer ``indices``
        (non-negative) and float64 ``data`` of length ``indptr[-1]``. Duplicate entries are
        summed and column indices need not be sorted.
    x : numpy.ndarray
        float64 vector longer than every column index.
    out : numpy.ndarray
        Writeable, C-contiguous float64 vector of length ``n_rows``, overwritten. Must not
        share memory with ``x``.

    Raises
    ------
    ValueError
        For arrays of the wrong dtype, dimension, length or layout, or overlapping ``x`` and
        ``out``. The checks read ``indptr`` and ``indices`` once (``O(nnz)``); the solvers
        call the kernel directly.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from matting.linalg import csr_matvec
    >>> A = sp.csr_matrix(np.array([[2.0, 1.0], [0.0, 3.0]]))
    >>> out = np.empty(2)
    >>> csr_matvec(A.indptr, A.indices, A.data, np.array([1.0, 1.0]), out)
    >>> out
    array([3., 3.])
    """
    arrays = {"indptr": indptr, "indices": indices, "data": data, "x": x, "out": out}
    for name, array in arrays.items():
        if not isinstance(array, np.ndarray) or array.ndim != 1:
            raise ValueError(f"{name} must be a 1-D numpy array, got {type(array).__name__}")
    for name in ("indptr", "indices"):
        if arrays[name].dtype.kind not in "iu":
            raise ValueError(f"{name} must have an integer dtype, got {arrays[name].dtype}")
    for name in ("data", "x", "out"):
        if arrays[name].dtype != np.float64:
            raise ValueError(f"{name} must have dtype float64, got {arrays[name].dtype}")
    if indptr.size == 0 or indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        raise ValueError("indptr must be non-empty, start at 0 and never decrease")
    nnz = int(indptr[-1])
    if indices.size != nnz or data.size != nnz:
        raise ValueError(
            f"indices and data must have indptr[-1] = {nnz} entries, got {indices.size} and "
            f"{data.size}"
        )
    if nnz and (int(indices.min()) < 0 or int(indices.max()) >= x.size):
        raise ValueError(
            f"indices must lie in 0 .. len(x) - 1 = {x.size - 1}, got "
            f"{int(indices.min())} .. {int(indices.max())}"
        )
    if out.size != indptr.size - 1:
        raise ValueError(f"out must have length {indptr.size - 1} (rows), got {out.size}")
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise ValueError("out must be a writeable, C-contiguous array")
    if np.shares_memory(x, out):
        raise ValueError("x and out must not share memory")
    _csr_matvec_kernel(indptr, indices, data, x, out)
