"""Numba kernels shared by the solvers: CSR products, fused CG updates, Gauss-Seidel sweeps.

All kernels are serial. On the two-core machines the library targets, a ``prange`` CSR
product was 1.2-1.5x faster than this one on an idle machine (250k-unknown matting system:
2.0 ms vs 2.4 ms) but 1.6-3.5x slower while another process kept a core busy, and the
incomplete-Cholesky triangular solves, the other half of a PCG iteration, are sequential
anyway; that did not pay for ``parallel=True``'s longer compilation. Each kernel is called
with few signatures (int32 indices, C-contiguous writeable arrays, float64 values, see
``_common.as_csr``, and float32 in the multigrid cycle), so each compiles once per signature
and is then loaded from Numba's cache.
"""

from __future__ import annotations

from numba import njit, uint64

__all__ = ["csr_matvec"]


@njit(cache=True, nogil=True)
def csr_matvec(indptr, indices, data, x, out):  # pragma: no cover - compiled
    """``out = A @ x`` for a CSR matrix ``A`` given by its three arrays, unchecked (the
    solvers pass arrays they have checked; the public, checked entry point is
    :func:`matting.linalg.csr_matvec`). Duplicate entries are summed; ``out`` must not share
    memory with ``x``."""
    for i in range(indptr.shape[0] - 1):
        acc = 0.0
        # Unsigned indices spare Numba's test for negative (wrap-around) indices on every
        # access, which halves the time of this loop.
        for k in range(uint64(indptr[i]), uint64(indptr[i + 1])):
            acc += data[k] * x[uint64(indices[k])]
        out[i] = acc


@njit(cache=True, nogil=True)
def cg_update(x, r, p, q, alpha):  # pragma: no cover - compiled
    """``x += alpha p``, ``r -= alpha q`` and return the new ``r . r``, in one pass."""
    rr = 0.0
    for i in range(x.shape[0]):
        x[i] += alpha * p[i]
        ri = r[i] - alpha * q[i]
        r[i] = ri
        rr += ri * ri
    return rr


@njit(cache=True, nogil=True)
def dot(x, y):  # pragma: no cover - compiled
    """``x . y``.

    Used instead of ``numpy.dot`` in iteration loops: a multithreaded BLAS called on every
    iteration spends its time waking and spinning threads, which on a busy two-core machine
    made a Python-driven PCG iteration several times slower than the arithmetic.
    """
    acc = 0.0
    for i in range(x.shape[0]):
        acc += x[i] * y[i]
    return acc


@njit(cache=True, nogil=True)
def gauss_seidel_split(
    lower_indptr,
    lower_indices,
    lower_data,
    upper_indptr,
    upper_indices,
    upper_data,
    inv_diag,
    b,
    x,
    forward,
    from_zero,
):  # pragma: no cover - compiled
    """One Gauss-Seidel sweep on ``A x = b`` in place, ``A = D - N_L - N_U`` given by the
    CSR arrays of its strictly lower and strictly upper triangles, both negated (``N_L =
    -L``, ``N_U = -U``), and ``1 / D``.

    Rows are visited in increasing order when ``forward`` is true, else in decreasing order;
    a forward pre-smoother paired with a backward post-smoother is what keeps a multigrid
    V-cycle symmetric. With ``from_zero`` (forward only) the sweep starts from ``x = 0``:
    the upper triangle, which would only read zeros, is not read at all, and ``x`` need not
    be cleared first.

    Storing the two triangles apart drops the test against the diagonal from the inner
    loop, and storing them negated makes the residual after a forward sweep a plain product
    (see :class:`matting.linalg.MultigridPreconditioner`). Values may be float32 or float64;
    the sums are in the values' precision.
    """
    n = inv_diag.shape[0]
    for step in range(n):
        i = step if forward else n - 1 - step
        acc = b[i]
        for k in range(uint64(lower_indptr[i]), uint64(lower_indptr[i + 1])):
            acc += lower_data[k] * x[uint64(lower_indices[k])]
        if not from_zero:
            for k in range(uint64(upper_indptr[i]), uint64(upper_indptr[i + 1])):
                acc += upper_data[k] * x[uint64(upper_indices[k])]
        x[i] = acc * inv_diag[i]


@njit(cache=True, nogil=True)
def _entry(indptr, indices, data, row, column):  # pragma: no cover - compiled
    # A[row, column], duplicates summed as a product sums them; rows need not be sorted.
    total = 0.0
    for q in range(indptr[row], indptr[row + 1]):
        if indices[q] == column:
            total += data[q]
    return total


@njit(cache=True, nogil=True)
def first_asymmetry(indptr, indices, data, samples, tolerance):  # pragma: no cover - compiled
    """Look at about ``samples`` stored entries spread evenly over the matrix; return ``(row,
    column)`` of the first whose mirror differs by more than ``tolerance`` times the larger
    magnitude (a missing mirror counts as 0), or ``(-1, -1)``."""
    n = indptr.shape[0] - 1
    nnz = indptr[n]
    stride = max(1, nnz // max(samples, 1))
    row = 0
    for k in range(0, nnz, stride):
        while indptr[row + 1] <= k:
            row += 1
        column = indices[k]
        value = _entry(indptr, indices, data, row, column)
        mirror = _entry(indptr, indices, data, column, row)
        if abs(value - mirror) > tolerance * max(abs(value), abs(mirror)):
            return row, column
    return -1, -1
