"""Turning a Laplacian and user constraints into the linear system every Laplacian method solves.

Hard constraints (a trimap): known pixels keep their value and only the unknowns are solved,
``L_UU a_U = -L_UK a_K`` (Levin et al. 2008, Sec. 3.1; the system is small when the unknown
band is). Soft constraints (scribbles, Levin et al.'s code): all pixels are unknowns and
constrained ones are pulled towards their value with weight ``lambda_``,
``(L + lambda_ D_S) a = lambda_ D_S b_S``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.sparse
from numba import njit, uint64

from .._inputs import UNKNOWN, as_finite, as_trimap
from ._common import IsolatedPixelsWarning, as_vector, check_rtol
from ._kernels import dot

__all__ = [
    "isolated_pixels",
    "soft_constraint_rtol",
    "solve_hard_constraints",
    "solve_on_support",
    "solve_soft_constraints",
    "split_system",
]


#: The default ``rtol`` of :func:`matting.linalg.solve`, for the solves here that need its
#: value before calling it (a test keeps the two equal).
DEFAULT_RTOL = 1e-7
#: Largest soft-constraint weight accepted: the squared norm of a right-hand side of such
#: weights must stay finite in float64.
WEIGHT_LIMIT = 1e100


def index_map(free: np.ndarray, size: int) -> np.ndarray:
    """For each of ``size`` entries, its position among the indices ``free`` (ascending), or
    -1 if it is not one of them: the row of a pixel in the free pixels' system."""
    positions = np.full(size, -1, dtype=np.int64)
    positions[free] = np.arange(free.size)
    return positions


def split_system(matrix, free: np.ndarray, fixed_values: np.ndarray):
    """Split ``matrix @ x`` into free and fixed parts: ``A = M[free][:, free]`` and
    ``b = -M[free][:, fixed] @ x_fixed``, in one pass over the free rows.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix, N x N
    free : ndarray of int
        Strictly increasing indices of the free unknowns.
    fixed_values : ndarray, float64, length N
        Values of the fixed entries (entries at ``free`` are ignored).

    Returns
    -------
    A : scipy.sparse.csr_matrix, len(free) x len(free)
    b : ndarray, float64
    """
    n = matrix.shape[1]
    free = np.asarray(free)
    if free.ndim != 1 or free.dtype.kind not in "iu":
        raise ValueError(
            f"free must be a 1-D integer array, got dtype {free.dtype}, ndim {free.ndim}"
        )
    if free.size and (free[0] < 0 or free[-1] >= n or np.any(np.diff(free) <= 0)):
        raise ValueError(f"free must be strictly increasing indices in 0 .. {n - 1}")
    fixed_values = as_vector(fixed_values, n, "fixed_values")
    indptr, indices, data, right_hand_side, bad_row = _split_rows(
        matrix.indptr, matrix.indices, matrix.data, free, index_map(free, n), fixed_values
    )
    if bad_row >= 0:
        raise ValueError(
            f"matrix row {int(free[bad_row])} has a column index outside 0 .. {n - 1} "
            "(a malformed sparse matrix)"
        )
    system = scipy.sparse.csr_matrix((data, indices, indptr), shape=(free.size, free.size))
    return system, right_hand_side


@njit(cache=True, nogil=True)
def _split_rows(indptr, indices, data, free, new_index, fixed_values):  # pragma: no cover
    # Scipy's two fancy-indexing steps plus a product read the rows three times and build an
    # intermediate matrix; one counting pass and one filling pass are enough.
    # Returns the row of the first column index outside the matrix (-1 if none) last: cast
    # to unsigned, a negative index is as out of range as one too large, and one test
    # catches both.
    n = free.size
    n_columns = uint64(new_index.shape[0])
    out_indptr = np.zeros(n + 1, dtype=np.int64)
    for row in range(n):
        old = free[row]
        count = 0
        # Unsigned indices spare Numba's negative-index tests (see csr_matvec): 40 % faster.
        for entry in range(uint64(indptr[old]), uint64(indptr[old + 1])):
            column = uint64(indices[entry])
            if column >= n_columns:
                return out_indptr, np.empty(0, np.int32), np.empty(0), np.empty(0), row
            if new_index[column] >= 0:
                count += 1
        out_indptr[row + 1] = out_indptr[row] + count
    out_indices = np.empty(out_indptr[n], dtype=np.int32)
    out_data = np.empty(out_indptr[n], dtype=np.float64)
    right_hand_side = np.zeros(n, dtype=np.float64)
    for row in range(n):
        old = free[row]
        position = out_indptr[row]
        total = 0.0
        for entry in range(uint64(indptr[old]), uint64(indptr[old + 1])):
            old_column = uint64(indices[entry])
            column = new_index[old_column]
            if column >= 0:
                out_indices[position] = column
                out_data[position] = data[entry]
                position += 1
            else:
                total -= data[entry] * fixed_values[old_column]
        right_hand_side[row] = total
    return out_indptr, out_indices, out_data, right_hand_side, -1


@njit(cache=True, nogil=True)
def _add_to_stored_diagonal(indptr, indices, data, values):  # pragma: no cover - compiled
    # data[i, i] += values[i] in place; False (and nothing changed) if a row stores no
    # diagonal entry.
    n = indptr.shape[0] - 1
    positions = np.empty(n, dtype=np.int64)
    for i in range(n):
        positions[i] = -1
        for k in range(indptr[i], indptr[i + 1]):
            if indices[k] == i:
                positions[i] = k
                break
        if positions[i] < 0:
            return False
    for i in range(n):
        data[positions[i]] += values[i]
    return True


@njit(cache=True, nogil=True)
def _root(parent, i):  # pragma: no cover - compiled
    while parent[i] != i:
        parent[i] = parent[parent[i]]  # path halving
        i = parent[i]
    return i


@njit(cache=True, nogil=True)
def _unanchored(indptr, indices, data, anchored):  # pragma: no cover - compiled
    # Union-find over the stored nonzero entries, each read as an undirected edge: callers
    # may store only some rows of a symmetric matrix (a Dirichlet problem's unknown rows),
    # so a search that follows rows from the anchors could not leave them.
    # Edges between two anchored pixels cannot change which pixels reach an anchor, so they
    # are skipped: most of a Laplacian's entries when the known region is large.
    n = anchored.size
    parent = np.arange(n)
    for row in range(n):
        row_anchored = anchored[row]
        for k in range(indptr[row], indptr[row + 1]):
            column = indices[k]
            if data[k] != 0.0 and not (row_anchored and anchored[column]):
                a, b = _root(parent, row), _root(parent, column)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    has_anchor = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        if anchored[i]:
            has_anchor[_root(parent, i)] = True
    isolated = np.empty(n, dtype=np.bool_)
    for i in range(n):
        isolated[i] = not has_anchor[_root(parent, i)]
    return isolated


def isolated_pixels(laplacian, anchored: np.ndarray) -> np.ndarray:
    """Pixels that no path of nonzero entries of ``laplacian`` links to an anchored pixel.

    Their alpha is not determined: the energy does not change if they all move together,
    so the system is singular there (a non-local Laplacian such as KNN matting's can leave
    a colour found nowhere else cut off).

    Parameters
    ----------
    laplacian : scipy.sparse matrix, N x N
        Read as an undirected graph of its stored nonzero entries, so a matrix that stores
        only some rows of a symmetric one (a Dirichlet problem's unknown rows) is fine.
    anchored : array_like of bool, length N
        The known or constrained pixels.

    Returns
    -------
    ndarray of bool, length N
        True for the pixels linked to no anchored pixel (never for an anchored one).

    Notes
    -----
    One union-find pass over the stored entries, skipping those between two anchored
    pixels: about 15 ms for a KNN Laplacian of a 0.3 MP image, 0.1 s for the 5 MP
    closed-form systems.
    """
    matrix = scipy.sparse.csr_matrix(laplacian)
    anchored = np.ascontiguousarray(anchored, dtype=bool)
    return _unanchored(matrix.indptr, matrix.indices, matrix.data, anchored)


def _warn_isolated(count: int) -> None:
    warnings.warn(
        f"{count} unknown pixel(s) are linked to no known or constrained pixel by the "
        "Laplacian (for a non-local one, often a colour found nowhere else): nothing "
        "determines their alpha, which is set to 0",
        IsolatedPixelsWarning,
        stacklevel=3,
    )


def _check_laplacian(laplacian, trimap: np.ndarray) -> None:
    if callable(laplacian):
        return  # checked once it is built
    expected = (trimap.size, trimap.size)
    if laplacian.shape != expected:
        raise ValueError(
            f"laplacian has shape {laplacian.shape} but a {trimap.shape[0]}x{trimap.shape[1]} "
            f"map needs {expected}"
        )


def _built(laplacian, trimap: np.ndarray):
    """The Laplacian, built first when given as a builder, checked against the map."""
    if callable(laplacian):
        laplacian = laplacian()
    _check_laplacian(laplacian, trimap)
    return laplacian


def solve_hard_constraints(
    laplacian,
    trimap: np.ndarray,
    *,
    initial_alpha: np.ndarray | None = None,
    return_info: bool = False,
    check_isolated: bool = True,
    **options,
):
    """Minimise ``a^T L a`` with the trimap's known pixels fixed.

    Parameters
    ----------
    laplacian : scipy.sparse matrix, N x N, or a function of no arguments returning one
        Symmetric positive semidefinite, N = H*W (row-major pixel order). Only rows and
        columns of unknown pixels are read. Given a function, the matrix is built here and
        released as soon as the unknowns' system is split from it, before the solver and
        its preconditioner are set up: the caller holds no reference to it, so the peak
        memory of the solve is lower by the size of the full matrix.
    trimap : ndarray, float64 HxW
        Normalised trimap (0, 0.5, 1).
    initial_alpha : ndarray, float64 HxW, optional
        A guess (e.g. a coarse solution) the iterative solvers start from.
    return_info : bool
        Also return the solver's :class:`SolveInfo` (None when nothing had to be solved).
    check_isolated : bool
        Look for unknown pixels that no path of nonzero entries links to a known pixel
        (:func:`isolated_pixels`, one pass over ``L``): they are set to 0, left out of the
        system (which is singular there) and reported with an
        :class:`IsolatedPixelsWarning`. Callers whose Laplacian cannot have them (the
        matting Laplacian, whose overlapping windows link every unknown pixel to the known
        ones around the region) may skip the pass.
    **options
        Passed to :func:`matting.linalg.solve` (``solver``, ``rtol``, ``maxiter``, ...).

    Returns
    -------
    alpha : ndarray, float64 HxW in [0, 1], equal to the trimap on known pixels.
    """
    trimap = as_trimap(trimap, require_known=False)
    _check_laplacian(laplacian, trimap)
    alpha = trimap.copy()
    unknown = np.flatnonzero(trimap.ravel() == UNKNOWN)
    info = None
    if unknown.size:
        laplacian = scipy.sparse.csr_matrix(_built(laplacian, trimap))
        isolated = None
        if check_isolated:
            isolated = isolated_pixels(laplacian, trimap.ravel() != UNKNOWN)
        if isolated is not None and isolated.any():
            _warn_isolated(int(np.count_nonzero(isolated)))
            alpha.ravel()[isolated] = 0.0
            unknown = unknown[~isolated[unknown]]
    if unknown.size:
        system, right_hand_side = split_system(laplacian, unknown, trimap.ravel())
        del laplacian  # frees the full matrix when it was built here
        x0 = None
        if initial_alpha is not None:
            x0 = as_vector(np.ravel(initial_alpha), trimap.size, "initial_alpha")[unknown]
        alpha, info = solve_free_pixels(system, right_hand_side, unknown, alpha, x0=x0, **options)
    return (alpha, info) if return_info else alpha


def solve_free_pixels(system, right_hand_side, free, values, *, x0=None, **options):
    """Solve ``system a = right_hand_side`` for the pixels ``free`` (ascending flat indices of
    the HxW map ``values``) with :func:`matting.linalg.solve`, which gets their image
    coordinates (for multigrid); return ``(alpha, info)``: a copy of ``values`` with the free
    pixels set to the solution clipped to [0, 1], and the solver's :class:`SolveInfo`."""
    from .solve import solve

    pixel_rows, pixel_cols = np.divmod(free, values.shape[1])
    solution, info = solve(
        system,
        right_hand_side,
        x0=x0,
        pixel_rows=pixel_rows,
        pixel_cols=pixel_cols,
        return_info=True,
        **options,
    )
    alpha = values.copy()
    alpha.ravel()[free] = np.clip(solution, 0.0, 1.0)
    return alpha, info


def soft_constraint_rtol(system, right_hand_side, pinned, rtol) -> float:
    """The relative tolerance at which to stop solving ``A a = b`` when ``A = L + W`` and
    ``b = W p + c``, with ``W`` a non-negative diagonal data term (soft constraints, a prior)
    pulling the pixels towards ``p``.

    Stopping at ``|r| <= rtol |b|``, as for any system, means nothing once ``W`` is large:
    ``|b|`` grows with ``W``, and the solver stops as soon as the pinned rows are right,
    before the other pixels have moved (KNN matting with ``lambda_=1e8`` returned 0 on every
    unknown pixel, "converged" after one iteration). So the tolerance is also bounded by
    ``sqrt(rtol)`` times ``|b - A p|``, the part of ``b`` that the pinned values do not
    balance (their pull on the other pixels): whatever the weight (up to
    :data:`WEIGHT_LIMIT`), the other pixels are resolved to at least half the digits asked
    for. At the methods' default weights the first bound is the tighter one on 0.3 MP
    photographs (by 40-60x on KNN matting's systems; iterations and results of KNN,
    learning-based, large-kernel and information-flow matting unchanged there); on small
    images information flow's prior can make the second one bind slightly (1e-7 became 7e-8
    on a test image). A :class:`ConvergenceWarning` then quotes the tolerance used.

    Parameters
    ----------
    system : sparse matrix or LinearOperator, n x n
    right_hand_side, pinned : ndarray, float64, length n
        ``b`` and ``p`` (0 where no data term pulls).
    rtol : float
        The relative tolerance asked for.

    Returns
    -------
    float
        At most ``rtol``.
    """
    rtol = check_rtol(rtol)
    # Numba's dot, not numpy.linalg.norm: see run_cg.
    norm = math.sqrt(dot(right_hand_side, right_hand_side))
    unbalanced = right_hand_side - np.ravel(system @ pinned)
    pull = math.sqrt(dot(unbalanced, unbalanced))
    if not (0.0 < norm < math.inf and 0.0 < pull < math.inf):
        return rtol
    return min(rtol, math.sqrt(rtol) * pull / norm)


def solve_soft_constraints(
    laplacian,
    constraints: np.ndarray,
    lambda_: float,
    *,
    initial_alpha: np.ndarray | None = None,
    return_info: bool = False,
    overwrite_laplacian: bool = False,
    check_isolated: bool = True,
    **options,
):
    """Minimise ``a^T L a + lambda_ (a - b_S)^T D_S (a - b_S)`` over all pixels.

    Parameters
    ----------
    laplacian : scipy.sparse matrix, N x N, or a function of no arguments returning one
    constraints : ndarray, float64 HxW
        Normalised scribble map: 0 or 1 where constrained, 0.5 elsewhere.
    lambda_ : float
        Constraint weight (Levin et al.'s code uses 100).
    initial_alpha : ndarray, float64 HxW, optional
        A guess (e.g. a coarse solution) the iterative solvers start from.
    overwrite_laplacian : bool
        Allow the constraint weights to be added to the Laplacian's diagonal in place
        (as scipy's ``overwrite_a``): saves a copy of the whole matrix, which is then
        changed. For callers whose Laplacian serves nothing else.
    check_isolated : bool
        As in :func:`solve_hard_constraints`, for pixels linked to no constrained pixel;
        here they are constrained to 0 (which decouples their singular block) rather than
        left out, so that the system is not copied.
    **options
        For :func:`matting.linalg.solve`. With incomplete Cholesky, the constrained rows are
        preconditioned by their diagonal alone (``diagonal_rows`` of
        :func:`matting.linalg.ichol`) unless ``options={"diagonal_rows": ...}`` says
        otherwise: on closed-form and KNN systems of 0.3 MP photographs with every known
        pixel constrained, setup and solve took 0.26-0.74 s against 0.47-1.0 s (closed-form)
        and 0.27-0.82 s against 0.47-1.17 s (KNN); with scribbles on a fifth of the pixels,
        0.92-1.44 s against 0.87-1.43 s.

    Returns
    -------
    alpha : ndarray, float64 HxW, clipped to [0, 1] as in the authors' code.
    """
    from .solve import _choose_solver

    constraints = as_trimap(constraints, name="constraints", require_known=False)
    _check_laplacian(laplacian, constraints)
    lambda_ = as_finite(lambda_, "lambda_", limits=(0.0, WEIGHT_LIMIT))
    laplacian = _built(laplacian, constraints)
    constrained = (constraints != UNKNOWN).ravel().astype(np.float64)
    values = np.where(constraints == UNKNOWN, 0.0, constraints).ravel()
    system = scipy.sparse.csr_matrix(laplacian)
    del laplacian
    x0 = None
    if initial_alpha is not None:
        x0 = as_vector(np.ravel(initial_alpha), constraints.size, "initial_alpha")
    isolated = isolated_pixels(system, constrained > 0) if check_isolated else None
    if isolated is not None and isolated.any():
        # Their block of the system is singular: they are constrained to 0 like scribbled
        # pixels (no copy of the system, unlike leaving them out), which decouples them.
        _warn_isolated(int(np.count_nonzero(isolated)))
        constrained[isolated] = 1.0  # values there are already 0
    # Where the caller allows it, the constraint weights go onto the diagonal in place
    # rather than into a copy of the whole matrix.
    in_place = overwrite_laplacian and _add_to_stored_diagonal(
        system.indptr, system.indices, system.data, lambda_ * constrained
    )
    if not in_place:
        system = (system + scipy.sparse.diags(lambda_ * constrained, format="csr")).tocsr()
    solver = options.get("solver", "auto")
    if (_choose_solver(system.shape[0], True) if solver == "auto" else solver) == "ichol":
        # lambda_ dominates the constrained rows: Jacobi there, incomplete Cholesky on the
        # rest (block diagonal), which costs far less and needs only a few more iterations.
        options["options"] = {"diagonal_rows": constrained > 0, **(options.get("options") or {})}
    pinned = constrained * values
    right_hand_side = lambda_ * pinned
    options["rtol"] = soft_constraint_rtol(
        system, right_hand_side, pinned, options.get("rtol", DEFAULT_RTOL)
    )
    every_pixel = np.arange(constraints.size)
    alpha, info = solve_free_pixels(
        system, right_hand_side, every_pixel, constraints, x0=x0, **options
    )
    if isolated is not None:
        alpha.ravel()[isolated] = 0.0  # exactly, whatever the solver's tolerance left
    return (alpha, info) if return_info else alpha


def solve_on_support(
    laplacian,
    trimap: np.ndarray,
    diagonal: np.ndarray,
    right_hand_side: np.ndarray,
    *,
    x0: np.ndarray | None = None,
    return_info: bool = False,
    **options,
):
    """Solve ``(L + diag(diagonal)) a = right_hand_side`` over the pixels that need solving.

    The systems of Laplacian methods with soft constraints over known pixels (learning-based
    matting, information flow): a known pixel whose row of ``L`` is empty is coupled to
    nothing, so its equation is ``diagonal_i a_i = right_hand_side_i``; the callers make
    that its trimap value, so it keeps it and is left out. Only the other pixels (the
    unknown ones and the known ones ``L`` couples) are solved, so the system's size follows
    the unknown region, not the image.

    Parameters
    ----------
    laplacian : scipy.sparse matrix, N x N, or a function of no arguments returning one
        Symmetric positive semidefinite, N = H*W. Given a function, the matrix is built
        here and released once the system is split from it, before the solver's set-up.
    trimap : ndarray, float64 HxW
        Normalised trimap (0, 0.5, 1): which pixels are known, and the values the pixels
        left out keep.
    diagonal, right_hand_side : ndarray, float64, length N
        The diagonal term and the right-hand side over all pixels; ``diagonal`` must be
        positive on known pixels with an empty row (with ``right_hand_side_i = diagonal_i
        t_i`` the solution there is the trimap value ``t_i``).
    x0 : ndarray, float64, length N, optional
        First guess of the iterative solvers.
    return_info : bool
        Also return the solver's :class:`SolveInfo`.
    **options
        Passed to :func:`matting.linalg.solve`.

    Returns
    -------
    alpha : ndarray, float64 HxW
        The solution clipped to [0, 1] on the solved pixels, the trimap elsewhere. Pixels
        that no path of nonzero entries of ``L`` links to a pixel with a positive
        ``diagonal`` are set to 0 and reported with an :class:`IsolatedPixelsWarning`.

    References
    ----------
    .. [1] Y. Zheng, C. Kambhamettu, "Learning Based Digital Matting", ICCV 2009 (the
       objective ``a^T L a + c (a - t)^T C (a - t)``).
    .. [2] Y. Aksoy, T. O. Aydin, M. Pollefeys, "Designing Effective Inter-Pixel Information
       Flow for Natural Image Matting", CVPR 2017 (the same form with a K-to-U data term).
    """
    trimap = as_trimap(trimap, require_known=False)
    diagonal = as_vector(diagonal, trimap.size, "diagonal")
    if diagonal.min() < 0.0:
        raise ValueError(
            f"diagonal must be >= 0 (a data term's weights), got a minimum of {diagonal.min():g}"
        )
    right_hand_side = as_vector(right_hand_side, trimap.size, "right_hand_side")
    x0 = None if x0 is None else as_vector(x0, trimap.size, "x0")
    laplacian = _built(laplacian, trimap)
    values = trimap.ravel()
    laplacian = scipy.sparse.csr_matrix(laplacian)
    in_system = (np.diff(laplacian.indptr) > 0) | (values == UNKNOWN)
    # (A known pixel with an empty row is in no system and keeps its value whatever.)
    isolated = isolated_pixels(laplacian, diagonal > 0) & in_system
    if isolated.any():
        _warn_isolated(int(np.count_nonzero(isolated)))
    support = np.flatnonzero(in_system & ~isolated)
    if support.size == 0:  # every pixel isolated (a zero diagonal): nothing to solve
        alpha = trimap.copy()
        alpha.ravel()[isolated] = 0.0
        return (alpha, None) if return_info else alpha
    # The diagonal couples no pixels, so it is added to the split system rather than to the
    # full matrix, which would copy it.
    matrix, coupling = split_system(laplacian, support, values)
    del laplacian  # frees the full matrix when it was built here
    extra = diagonal[support]
    if not _add_to_stored_diagonal(matrix.indptr, matrix.indices, matrix.data, extra):
        matrix = (matrix + scipy.sparse.diags(extra, format="csr")).tocsr()
    data_term = right_hand_side[support]
    support_rhs = coupling + data_term
    weighted = extra > 0
    pinned = np.zeros(support.size)
    pinned[weighted] = data_term[weighted] / extra[weighted]
    options["rtol"] = soft_constraint_rtol(
        matrix, support_rhs, pinned, options.get("rtol", DEFAULT_RTOL)
    )
    alpha = trimap.copy()
    alpha.ravel()[isolated] = 0.0
    alpha, info = solve_free_pixels(
        matrix, support_rhs, support, alpha, x0=None if x0 is None else x0[support], **options
    )
    return (alpha, info) if return_info else alpha
