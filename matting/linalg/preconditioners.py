"""Preconditioner protocol and the Jacobi (diagonal) preconditioner.

A preconditioner here is an object approximating ``A^-1`` for a symmetric positive definite
``A``: :meth:`Preconditioner.apply` returns ``z = M^-1 r``. Every preconditioner in this
package is itself symmetric positive definite, which is what the preconditioned conjugate
gradient method (:func:`matting.linalg.cg`) requires.

References
----------
.. [1] Y. Saad, *Iterative Methods for Sparse Linear Systems*, 2nd ed., SIAM, 2003,
   Sections 9.2 (preconditioned CG) and 10.2 (Jacobi preconditioning).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from ._common import as_csr, positive_diagonal

__all__ = ["JacobiPreconditioner", "Preconditioner", "jacobi"]


class Preconditioner:
    """Base class: an SPD approximation ``M`` of ``A`` with a cheap ``M^-1``.

    Attributes
    ----------
    name : str
        Short name, used as :attr:`SolveInfo.solver`.
    shape : tuple of int
        ``(n, n)``.
    seconds_setup : float
        Wall-clock seconds spent building it.
    """

    name = "preconditioner"

    def __init__(self, n: int, seconds_setup: float = 0.0):
        self.shape = (n, n)
        self.seconds_setup = seconds_setup

    def apply(self, r: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return ``z = M^-1 r`` (written into ``out`` when given). ``r`` is not modified."""
        r = self._check(r)
        if out is None:
            out = np.empty_like(r)
        elif out.shape != r.shape or out.dtype != np.float64:
            raise ValueError(f"out must be a float64 array of shape {r.shape}")
        self._apply(r, out)
        return out

    __call__ = apply

    def aslinearoperator(self) -> LinearOperator:
        """This preconditioner as a :class:`scipy.sparse.linalg.LinearOperator`.

        It can be passed as ``M=`` to :func:`scipy.sparse.linalg.cg` and friends. The
        operator is symmetric, so ``rmatvec`` is ``matvec``.
        """
        return LinearOperator(self.shape, matvec=self.apply, rmatvec=self.apply, dtype=np.float64)

    def _check(self, r) -> np.ndarray:
        array = np.asarray(r, dtype=np.float64)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]  # LinearOperator.matvec may hand over a column
        if array.shape != (self.shape[0],):
            raise ValueError(f"r must have shape ({self.shape[0]},), got {np.shape(r)}")
        if not array.flags.c_contiguous or not array.flags.writeable:
            array = np.array(array, order="C")
        return array

    def _apply(self, r: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} n={self.shape[0]} setup={self.seconds_setup:.3g}s>"


class JacobiPreconditioner(Preconditioner):
    """``M = diag(A)``; see :func:`jacobi`."""

    name = "jacobi"

    def __init__(self, inv_diagonal: np.ndarray, seconds_setup: float = 0.0):
        super().__init__(inv_diagonal.shape[0], seconds_setup)
        self.inv_diagonal = inv_diagonal

    def _apply(self, r: np.ndarray, out: np.ndarray) -> None:
        np.multiply(self.inv_diagonal, r, out=out)


def jacobi(A: sp.spmatrix | sp.sparray) -> JacobiPreconditioner:
    """Jacobi (diagonal) preconditioner ``M = diag(A)``.

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
        Symmetric positive definite; its diagonal must be positive.

    Returns
    -------
    JacobiPreconditioner
        ``apply(r)`` returns ``r / diag(A)``.

    Notes
    -----
    The cheapest preconditioner: it removes the bad scaling between rows (in a matting
    Laplacian the diagonal varies with the local colour variance), but nothing of the
    ill-conditioning that comes from the graph structure, so iteration counts still grow
    with the image size. See Saad [1]_, Section 10.2.

    References
    ----------
    .. [1] Y. Saad, *Iterative Methods for Sparse Linear Systems*, 2nd ed., SIAM, 2003.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from matting.linalg import jacobi
    >>> import numpy as np
    >>> M = jacobi(sp.diags([2.0, 4.0]).tocsr())
    >>> M.apply(np.array([2.0, 2.0]))
    array([1. , 0.5])
    """
    start = time.perf_counter()
    matrix = as_csr(A)
    inv_diagonal = 1.0 / positive_diagonal(matrix)
    return JacobiPreconditioner(inv_diagonal, time.perf_counter() - start)
