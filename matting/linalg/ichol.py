"""Thresholded incomplete Cholesky preconditioner with diagonal-shift retries.

References
----------
.. [1] Y. Saad, *Iterative Methods for Sparse Linear Systems*, 2nd ed., SIAM, 2003,
   Sections 10.3-10.4 (incomplete factorisations, threshold dropping) and 10.3.4 (the
   left-looking "IKJ"/Crout organisation with linked lists used here).
.. [2] C.-J. Lin and J. J. Moré, "Incomplete Cholesky factorizations with limited memory",
   SIAM J. Sci. Comput. 21(1), 1999: symmetric scaling to unit diagonal, a per-column memory
   bound and a geometrically growing diagonal shift on breakdown.
.. [3] T. A. Manteuffel, "An incomplete factorization technique for positive definite linear
   systems", Math. Comp. 34(150), 1980: shifted incomplete Cholesky.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp
from numba import njit, uint64

from ._common import as_csr, check_int, check_non_negative, positive_diagonal
from .preconditioners import Preconditioner

__all__ = ["ICholPreconditioner", "ichol"]


class ICholPreconditioner(Preconditioner):
    """``M = L L^T`` from :func:`ichol`.

    Attributes
    ----------
    colptr, rows, values : numpy.ndarray
        The strictly lower triangle of ``L`` in compressed sparse column form, rows sorted
        within each column.
    diagonal : numpy.ndarray
        The diagonal of ``L``.
    shift : float
        The relative diagonal shift that the successful factorisation used (0.0 when the
        first attempt succeeded): ``L L^T`` approximates ``A + shift * diag(A)``.
    attempts : int
        Number of factorisations tried (1 + number of shift retries).
    """

    name = "ichol"

    def __init__(self, colptr, rows, values, diagonal, shift, attempts, seconds_setup=0.0):
        super().__init__(diagonal.shape[0], seconds_setup)
        self.colptr = colptr
        self.rows = rows
        self.values = values
        self.diagonal = diagonal
        self.shift = shift
        self.attempts = attempts

    @property
    def nnz(self) -> int:
        """Stored entries of ``L``, diagonal included."""
        return int(self.values.shape[0] + self.diagonal.shape[0])

    def _apply(self, r: np.ndarray, out: np.ndarray) -> None:
        ichol_solve(self.colptr, self.rows, self.values, self.diagonal, r, out)

    def factor(self) -> sp.csc_matrix:
        """``L`` as a scipy CSC matrix (for inspection and tests)."""
        n = self.shape[0]
        counts = np.diff(self.colptr)
        rows = np.concatenate([np.arange(n), self.rows])
        cols = np.concatenate([np.arange(n), np.repeat(np.arange(n), counts)])
        values = np.concatenate([self.diagonal, self.values])
        return sp.csc_matrix((values, (rows, cols)), shape=(n, n))


def ichol(
    A: sp.spmatrix | sp.sparray,
    *,
    threshold: float = 1e-3,
    fill: float = 5.0,
    shift: float = 1e-4,
    shift_growth: float = 2.0,
    max_retries: int = 20,
    initial_shift: float = 1e-4,
    diagonal_rows=None,
) -> ICholPreconditioner:
    """Thresholded incomplete Cholesky factorisation ``A ~ L L^T`` as a preconditioner.

    Parameters
    ----------
    A : scipy.sparse matrix, shape (n, n)
        Symmetric positive (semi)definite with a positive diagonal. Only the entries on and
        above the diagonal (row by row) are read, so an unsymmetric ``A`` is silently
        treated as its upper triangle mirrored.
    threshold : float, default 1e-3
        Drop tolerance. The factorisation works on the unit-diagonal matrix
        ``D^-1/2 A D^-1/2`` (``D = diag(A)``), so an entry ``L_ij`` is dropped when
        ``|L_ij| < threshold * sqrt(A_ii)``, i.e. relative to the diagonal.
    fill : float, default 5.0
        Memory bound: column ``j`` of ``L`` keeps at most ``ceil(fill * m_j)`` off-diagonal
        entries (the largest), where ``m_j`` is the number of entries below the diagonal in
        column ``j`` of ``A``. This keeps memory linear in ``nnz(A)``: ``L`` has at most
        about ``fill / 2`` times as many entries as ``A``.
    shift : float, default 1e-4
        First diagonal shift tried after a breakdown, relative to the diagonal: the retry
        factors ``A + shift * diag(A)``.
    shift_growth : float, default 2.0
        Factor by which the shift grows on each further breakdown.
    initial_shift : float, default 1e-4
        Shift of the first attempt. Matting Laplacians are only semidefinite before
        regularisation and every one we measured (31k-74k unknowns, four photographs) broke
        down unshifted; the failed attempt cost 5-40 ms, 15-25 % of the whole solve. Pass 0
        to try the unshifted factorisation first (the right choice for well-conditioned
        matrices, and the one that reproduces a complete factorisation exactly).
    max_retries : int, default 20
        Number of shifted retries before giving up, so the largest shift tried is
        ``max(shift, initial_shift) * shift_growth ** max_retries``, about 100 with the
        defaults: for a
        positive definite ``A`` (whose scaled off-diagonal entries are below 1 in
        magnitude) with up to 33 off-diagonal entries per row, ``A + 33 diag(A)`` is
        diagonally dominant, and incomplete Cholesky cannot break down on it.
    diagonal_rows : array_like of bool, shape (n,), optional
        Rows (and columns) whose off-diagonal entries are dropped before factoring, so that
        the preconditioner is block diagonal: their diagonal (Jacobi) on those rows, the
        incomplete factor of the remaining block on the others. For rows that a large
        diagonal term dominates, such as the pixels a soft constraint ``lambda`` pins: the
        factorisation and its triangular solves then cost only what the other rows need.
        On KNN matting's soft-constraint systems (0.3 MP photographs, every known pixel
        pinned with ``lambda = 100`` against at most 2 K = 20 unit affinities) this took
        setup and solve from 0.47-1.17 s to 0.27-0.82 s, with 2-3 more iterations.

    The defaults come from closed-form matting systems of four 0.3 MP photographs with
    user-drawn trimaps (31k-74k unknowns): against ``threshold=1e-4, fill=3, shift=1e-3``,
    setup plus solve fell from 0.12 s to 0.07 s (elephant) and from 0.30 s to 0.19 s
    (pineapple); a smaller threshold keeps more fill and needs fewer iterations but costs
    more in the factorisation than it saves.

    Returns
    -------
    ICholPreconditioner
        ``apply(r)`` solves ``L L^T z = r`` by two triangular solves. Its ``shift`` and
        ``attempts`` attributes tell whether retries were needed.

    Raises
    ------
    ValueError
        If ``A`` is not square, has a non-positive diagonal entry, or breaks down even with
        the largest shift (then it is far from positive definite), or if ``diagonal_rows``
        is not a boolean array of length n.

    Notes
    -----
    Left-looking (Crout) column factorisation with linked lists of the columns that update
    the next one (Saad [1]_, Sec. 10.3-10.4), with a dual dropping rule in the spirit of ICT
    and of Lin and Moré [2]_: first a relative threshold, then a per-column cap on the number
    of entries. Incomplete Cholesky exists for M-matrices (Meijerink and van der Vorst), but
    a matting Laplacian has positive off-diagonal entries and is only semidefinite before
    regularisation, so a pivot may come out non-positive. The first attempt factors
    ``A + initial_shift diag(A)``; after a breakdown the factorisation restarts with
    ``alpha = s * shift_growth, s * shift_growth**2, ...`` and ``s = max(shift,
    initial_shift)`` (Manteuffel [3]_, Lin and Moré [2]_). Every shift costs accuracy: on a
    250 000-unknown closed-form matting system, PCG needed 280-390 iterations with the
    smallest shift that worked (0.005-0.01) and twice as many at 0.05, so the shift grows
    slowly (by 2, as Lin and Moré do). A failed attempt stops at the column that broke down, so it
    costs at most one factorisation and usually much less. Factorisation and triangular
    solves run in Numba, on one thread; memory is linear in ``nnz(A)``.

    Measured and not kept (2026-12-04): ordering the unknowns as two halves and the rows of
    the second half coupled to the first (a separator of one or two image rows on the
    0.3 MP closed-form systems, 87-302 of 31k-74k unknowns) and factoring, then solving, the
    two halves on two threads. Iterations stayed the same (one more on two of four images)
    and on an idle two-core machine ``closed_form`` got 15-20 % faster (donkey 155 to
    126-130 ms, plasticbag 493-508 to 405-422 ms), but with another process keeping one core
    busy it got up to 50 % slower (plasticbag 504-506 to 737-761 ms): each of the 30 or so
    triangular solves of a PCG run waits for the slower thread. With only the factorisation
    split, the gain when idle was about 8 % and the loss when busy up to 20 %.

    References
    ----------
    .. [1] Y. Saad, *Iterative Methods for Sparse Linear Systems*, 2nd ed., SIAM, 2003.
    .. [2] C.-J. Lin and J. J. Moré, "Incomplete Cholesky factorizations with limited
       memory", SIAM J. Sci. Comput. 21(1), 1999.
    .. [3] T. A. Manteuffel, "An incomplete factorization technique for positive definite
       linear systems", Math. Comp. 34(150), 1980.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from matting.linalg import cg, ichol
    >>> A = sp.diags([-1.0, 2.1, -1.0], [-1, 0, 1], shape=(50, 50)).tocsr()
    >>> M = ichol(A)
    >>> x = cg(A, np.ones(50), M=M)
    >>> bool(np.allclose(A @ x, 1.0, atol=1e-6))
    True
    """
    start = time.perf_counter()
    matrix = as_csr(A)
    threshold = check_non_negative(threshold, "threshold")
    fill = check_non_negative(fill, "fill")
    shift = check_non_negative(shift, "shift")
    if not shift > 0.0:
        raise ValueError(f"shift must be > 0, got {shift!r}")
    shift_growth = check_non_negative(shift_growth, "shift_growth")
    if not shift_growth > 1.0:
        raise ValueError(f"shift_growth must be > 1, got {shift_growth!r}")
    max_retries = check_int(max_retries, "max_retries", 0)
    if diagonal_rows is not None:
        matrix = _decouple(matrix, diagonal_rows)

    scale = 1.0 / np.sqrt(positive_diagonal(matrix))
    initial_shift = check_non_negative(initial_shift, "initial_shift")
    caps = _column_caps(matrix.indptr, matrix.indices, fill)
    # Allocated here rather than in the kernel so that they own their memory and can be
    # shrunk in place to the entries kept: pages past the final length are never written,
    # so the unused capacity costs no physical memory, and no trimmed copy is made.
    capacity = int(caps.sum())
    rows = np.empty(capacity, dtype=np.int32)
    values = np.empty(capacity, dtype=np.float64)
    failed_column = -1
    for attempt in range(max_retries + 1):
        alpha = initial_shift
        if attempt > 0:
            alpha = max(shift, initial_shift) * shift_growth**attempt
        colptr, diagonal, failed_column = ichol_factor(
            matrix.indptr, matrix.indices, matrix.data, scale, alpha, threshold, caps, rows, values
        )
        if failed_column < 0:
            entries = int(colptr[-1])
            rows.resize(entries, refcheck=False)
            values.resize(entries, refcheck=False)
            return ICholPreconditioner(
                colptr, rows, values, diagonal, alpha, attempt + 1, time.perf_counter() - start
            )
    raise ValueError(
        f"A does not look positive definite: incomplete Cholesky found a non-positive pivot "
        f"(column {failed_column}) even with a diagonal shift of {alpha:g} * diag(A) after "
        f"{max_retries} retries"
    )


def _decouple(matrix: sp.csr_matrix, diagonal_rows) -> sp.csr_matrix:
    """``matrix`` without the off-diagonal entries in the rows or columns ``diagonal_rows``."""
    mask = np.asarray(diagonal_rows)
    n = matrix.shape[0]
    if mask.dtype != np.bool_ or mask.shape != (n,):
        raise ValueError(
            f"diagonal_rows must be a boolean array of shape ({n},), got dtype {mask.dtype} "
            f"and shape {mask.shape}"
        )
    indptr, indices, data = _decoupled_arrays(matrix.indptr, matrix.indices, matrix.data, mask)
    return sp.csr_matrix((data, indices, indptr), shape=matrix.shape)


@njit(cache=True, nogil=True)
def _decoupled_arrays(indptr, indices, data, mask):  # pragma: no cover - compiled
    n = indptr.shape[0] - 1
    out_indptr = np.zeros(n + 1, dtype=indptr.dtype)
    for i in range(n):
        kept = 0
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if j == i or not (mask[i] or mask[j]):
                kept += 1
        out_indptr[i + 1] = out_indptr[i] + kept
    out_indices = np.empty(out_indptr[n], dtype=indices.dtype)
    out_data = np.empty(out_indptr[n])
    position = 0
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if j == i or not (mask[i] or mask[j]):
                out_indices[position] = j
                out_data[position] = data[k]
                position += 1
    return out_indptr, out_indices, out_data


@njit(cache=True, nogil=True)
def _column_caps(indptr, indices, fill):  # pragma: no cover - compiled
    """Entries column ``j`` of ``L`` may keep: ``ceil(fill * m_j)``, with ``m_j`` the entries
    strictly below the diagonal in column ``j`` of A (by symmetry, right of it in row ``j``)."""
    n = indptr.shape[0] - 1
    caps = np.empty(n, dtype=np.int64)
    for j in range(n):
        below = 0
        for k in range(indptr[j], indptr[j + 1]):
            if indices[k] > j:
                below += 1
        caps[j] = min(math.ceil(fill * below), n - 1 - j)
    return caps


@njit(cache=True, nogil=True)
def ichol_factor(
    indptr, indices, data, scale, alpha, threshold, caps, rows, values
):  # pragma: no cover - compiled
    """Factor ``S + alpha I ~ L L^T`` with ``S = diag(scale) A diag(scale)``, into ``D^1/2 L``.

    The strictly lower triangle goes into ``rows`` and ``values`` (at least ``caps.sum()``
    long), column ``j`` keeping at most ``caps[j]`` entries. Returns ``(colptr, diagonal,
    failed_column)``: ``colptr[-1]`` entries of ``rows`` and ``values`` are used;
    ``failed_column`` is -1 on success, else the column whose pivot was not positive (the
    other outputs are then meaningless).
    """
    n = indptr.shape[0] - 1
    colptr = np.zeros(n + 1, dtype=np.int64)
    diagonal = np.empty(n, dtype=np.float64)

    # The current column, scattered; zero outside its pattern (each column clears its own
    # entries once written out), so that updates can always add.
    work = np.zeros(n, dtype=np.float64)
    marker = np.full(n, -1, dtype=np.int64)  # marker[i] == j: row i is in the pattern of j
    pattern = np.empty(n, dtype=np.int64)  # rows present in the current column
    # Columns k < j that still have entries at or below row j form linked lists keyed by the
    # row of their next entry: head[i] starts the list of columns whose next entry is in row
    # i, nxt[k] continues it, and cursor[k] points at that entry in rows/values.
    head = np.full(n, -1, dtype=np.int64)
    nxt = np.full(n, -1, dtype=np.int64)
    cursor = np.zeros(n, dtype=np.int64)

    position = 0
    for j in range(n):
        colptr[j] = position
        count = 0
        pivot = alpha
        sj = scale[j]
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            if i < j:
                continue
            v = data[k] * scale[i] * sj
            if i == j:
                pivot += v
            else:
                work[i] += v
                pattern[count] = i
                count += marker[i] != j
                marker[i] = j

        k = head[j]
        while k != -1:
            following = nxt[k]
            p = cursor[k]
            ljk = values[p]
            pivot -= ljk * ljk
            end = colptr[k + 1]
            # The hottest loop. Unsigned indices spare Numba's negative-index test (15 % of
            # the factorisation on closed-form systems; see csr_matvec), and the pattern is
            # extended without a branch (the row is written at the end of the pattern always
            # and counted only if new), since whether a row is new is unpredictable: 7 % on
            # plasticbag's 0.3 MP system (125 against 134 ms), none on elephant's.
            for q in range(uint64(p + 1), uint64(end)):
                i = uint64(rows[q])
                work[i] -= values[q] * ljk
                pattern[count] = i
                count += marker[i] != j
                marker[i] = j
            if p + 1 < end:
                cursor[k] = p + 1
                row = rows[p + 1]
                nxt[k] = head[row]
                head[row] = k
            k = following

        if not pivot > 0.0:  # also catches NaN
            return colptr, diagonal, j
        ljj = math.sqrt(pivot)
        diagonal[j] = ljj
        inv_ljj = 1.0 / ljj

        kept = 0
        for c in range(count):
            i = pattern[c]
            v = work[i] * inv_ljj
            if abs(v) >= threshold:
                pattern[kept] = i
                work[i] = v
                kept += 1
            else:
                work[i] = 0.0
        if kept > caps[j]:
            magnitudes = np.empty(kept, dtype=np.float64)
            for c in range(kept):
                magnitudes[c] = -abs(work[pattern[c]])
            order = np.argsort(magnitudes)
            chosen = np.empty(caps[j], dtype=np.int64)
            for c in range(caps[j]):
                chosen[c] = pattern[order[c]]
            for c in range(caps[j], kept):
                work[pattern[order[c]]] = 0.0
            kept = caps[j]
            for c in range(kept):
                pattern[c] = chosen[c]

        # Rows sorted within the column let cursor[] walk each column top-down; columns are
        # short, so insertion sort beats a general sort here.
        for c in range(1, kept):
            i = pattern[c]
            d = c - 1
            while d >= 0 and pattern[d] > i:
                pattern[d + 1] = pattern[d]
                d -= 1
            pattern[d + 1] = i
        for c in range(kept):
            i = pattern[c]
            rows[position + c] = i
            values[position + c] = work[i]
            work[i] = 0.0
        if kept > 0:
            cursor[j] = position
            row = pattern[0]
            nxt[j] = head[row]
            head[row] = j
        position += kept
    colptr[n] = position

    # Undo the scaling once, here, rather than in every application: with S = D^-1/2 A D^-1/2,
    # (D^1/2 L)(D^1/2 L)^T approximates A + alpha D.
    for q in range(position):
        values[q] /= scale[rows[q]]
    for j in range(n):
        diagonal[j] /= scale[j]
    return colptr, diagonal, -1


@njit(cache=True, nogil=True)
def ichol_solve(colptr, rows, values, diagonal, r, z):  # pragma: no cover - compiled
    """Solve ``L L^T z = r`` given the columns of ``L``; ``z`` may not alias ``r``."""
    n = diagonal.shape[0]
    for j in range(n):
        z[j] = r[j]
    # Indices cast to unsigned avoid Numba's negative-index test (see csr_matvec).
    for j in range(n):
        zj = z[j] / diagonal[j]
        z[j] = zj
        for q in range(uint64(colptr[j]), uint64(colptr[j + 1])):
            z[uint64(rows[q])] -= values[q] * zj
    # L^T is L's columns read as rows, so the backward solve reuses the same arrays.
    for j in range(n - 1, -1, -1):
        acc = z[j]
        for q in range(uint64(colptr[j]), uint64(colptr[j + 1])):
            acc -= values[q] * z[uint64(rows[q])]
        z[j] = acc / diagonal[j]
