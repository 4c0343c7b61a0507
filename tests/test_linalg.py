"""Tests of matting.linalg: PCG, preconditioners, direct solve and the solve() entry point.

The test systems resemble what matting methods build: grid graph Laplacians with random
(widely varying) weights, made definite by a positive diagonal on a few "known" rows and a
tiny regulariser, and a small closed-form matting Laplacian (3x3 windows, eps = 1e-7).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, splu, spsolve
from scipy.sparse.linalg import cg as scipy_cg

from matting.linalg import (
    SOLVERS,
    ConvergenceWarning,
    IsolatedPixelsWarning,
    MultigridPreconditioner,
    SolveInfo,
    amg,
    cg,
    csr_matvec,
    direct_solve,
    ichol,
    jacobi,
    multigrid,
    nested_dissection,
    solve,
    solve_hard_constraints,
    solve_on_support,
    solve_soft_constraints,
)
from matting.linalg.solve import _choose_solver

ITERATIVE = ["cg", "jacobi", "ichol", "amg", "amg-sa", "amg-rn", "multigrid"]

# Small coarse grids, so that the 2000-unknown test systems get a real multigrid hierarchy.
MG_OPTIONS = {"coarse_size": 60}


# --------------------------------------------------------------------------- test systems


def grid_laplacian(height, width, seed=0, mask=None):
    """Random-weight 4-neighbour graph Laplacian on the pixels of ``mask`` (all by default).

    Weights span three orders of magnitude, like affinities across and along image edges.
    Returns the (singular) Laplacian and the row/column of each pixel.
    """
    rng = np.random.default_rng(seed)
    mask = np.ones((height, width), bool) if mask is None else mask
    index = np.full((height, width), -1)
    index[mask] = np.arange(np.count_nonzero(mask))
    pairs = []
    for a, b in (
        (index[:, :-1], index[:, 1:]),
        (index[:-1, :], index[1:, :]),
    ):
        keep = (a >= 0) & (b >= 0)
        pairs.append((a[keep], b[keep]))
    i = np.concatenate([p[0] for p in pairs])
    j = np.concatenate([p[1] for p in pairs])
    weights = 10.0 ** rng.uniform(-3, 0, i.size)
    n = int(np.count_nonzero(mask))
    W = sp.coo_matrix((weights, (i, j)), shape=(n, n)).tocsr()
    W = W + W.T
    L = (sp.diags(np.asarray(W.sum(axis=1)).ravel()) - W).tocsr()
    rows, cols = np.nonzero(mask)
    return L, rows, cols


def make_system(height=40, width=50, seed=0, mask=None):
    """A definite system like a trimap-constrained matting solve, with its exact solution."""
    rng = np.random.default_rng(seed)
    L, rows, cols = grid_laplacian(height, width, seed, mask)
    n = L.shape[0]
    known = rng.uniform(size=n) < 0.03  # "known" pixels pulled towards a value
    diagonal = 1e-7 * L.diagonal() + np.where(known, 1.0, 0.0)
    A = (L + sp.diags(diagonal)).tocsr()
    b = rng.standard_normal(n)
    x_ref = spsolve(A.tocsc(), b)
    return A, b, x_ref, rows, cols


def matting_laplacian(image, eps=1e-7):
    """Closed-form matting Laplacian (Levin et al. 2008) with 3x3 windows, from the formula."""
    height, width, _ = image.shape
    index = np.arange(height * width).reshape(height, width)
    windows = np.stack(
        [
            index[dy : height - 2 + dy, dx : width - 2 + dx].ravel()
            for dy in range(3)
            for dx in range(3)
        ],
        axis=1,
    )
    colours = image.reshape(-1, 3)[windows]
    centred = colours - colours.mean(axis=1, keepdims=True)
    covariance = np.einsum("kia,kib->kab", centred, centred) / 9 + eps / 9 * np.eye(3)
    gram = np.einsum("kia,kab,kjb->kij", centred, np.linalg.inv(covariance), centred)
    values = np.eye(9) - (1.0 + gram) / 9
    rows = np.repeat(windows, 9, axis=1).ravel()
    cols = np.tile(windows, (1, 9)).ravel()
    L = sp.csr_matrix((values.ravel(), (rows, cols)), shape=(height * width,) * 2)
    return ((L + L.T) * 0.5).tocsr()


@pytest.fixture(scope="module")
def system():
    return make_system()


def relative_error(x, x_ref):
    return np.linalg.norm(x - x_ref) / np.linalg.norm(x_ref)


def relative_residual(A, x, b):
    return np.linalg.norm(b - A @ x) / np.linalg.norm(b)


# --------------------------------------------------------------------------- correctness


@pytest.mark.parametrize("solver", SOLVERS)
def test_every_solver_matches_spsolve(system, solver):
    A, b, x_ref, rows, cols = system
    options = MG_OPTIONS if solver == "multigrid" else None
    x, info = solve(
        A, b, solver=solver, rtol=1e-10, pixel_rows=rows, pixel_cols=cols,
        options=options, return_info=True,
    )  # fmt: skip
    assert info.converged
    assert relative_error(x, x_ref) < 1e-6
    expected = {"auto": _choose_solver(A.shape[0]), "amg": "amg-sa"}.get(solver, solver)
    assert info.solver == expected


def test_multigrid_builds_several_levels(system):
    A, _, _, rows, cols = system
    M = multigrid(A, rows, cols, coarse_size=60)
    assert len(M.sizes) >= 4
    assert M.sizes == sorted(M.sizes, reverse=True)
    assert M.sizes[-1] <= 60


@pytest.mark.parametrize("prolongation", ["bilinear", "constant"])
def test_multigrid_on_a_ring_shaped_region(prolongation):
    yy, xx = np.mgrid[0:48, 0:48]
    radius = np.hypot(yy - 23.5, xx - 23.5)
    ring = (radius > 9) & (radius < 21)
    A, b, x_ref, rows, cols = make_system(48, 48, seed=3, mask=ring)
    M = multigrid(A, rows, cols, prolongation=prolongation, coarse_size=30)
    assert len(M.sizes) >= 3
    x, info = cg(A, b, M=M, rtol=1e-10, return_info=True)
    assert info.converged
    assert relative_error(x, x_ref) < 1e-6
    _, plain = cg(A, b, rtol=1e-10, return_info=True)
    assert info.iterations < plain.iterations / 2


def dense_sweep(dense, b, x, forward):
    """One Gauss-Seidel sweep, written out on a dense matrix."""
    x = x.copy()
    n = dense.shape[0]
    for i in range(n) if forward else range(n - 1, -1, -1):
        x[i] = (b[i] - dense[i] @ x + dense[i, i] * x[i]) / dense[i, i]
    return x


def test_minus_triangles_are_the_negated_strict_triangles():
    from matting.linalg.multigrid import _minus_triangles

    A, *_ = make_system(9, 11, seed=5)
    for dtype in (np.float64, np.float32):
        lower, upper = _minus_triangles(A, dtype)
        for triangle, expected in ((lower, -sp.tril(A, -1)), (upper, -sp.triu(A, 1))):
            assert triangle.dtype == dtype and triangle.indices.dtype == np.int32
            assert triangle.has_sorted_indices
            np.testing.assert_allclose(triangle.toarray(), expected.toarray(), rtol=1e-7)


@pytest.mark.parametrize("forward", [True, False])
def test_split_gauss_seidel_sweep_equals_a_dense_sweep(forward):
    from matting.linalg._kernels import gauss_seidel_split
    from matting.linalg.multigrid import _minus_triangles

    A, b, _, _, _ = make_system(9, 11, seed=5)
    dense = A.toarray()
    lower, upper = _minus_triangles(A, np.float64)
    arrays = (lower.indptr, lower.indices, lower.data, upper.indptr, upper.indices, upper.data)
    x0 = np.random.default_rng(1).standard_normal(dense.shape[0])
    x = x0.copy()
    gauss_seidel_split(*arrays, 1.0 / dense.diagonal(), b, x, forward, False)
    np.testing.assert_allclose(x, dense_sweep(dense, b, x0, forward), rtol=1e-12, atol=1e-14)
    if forward:
        # From zero: the upper triangle is not read, and x need not be cleared.
        x = np.full_like(x0, np.nan)
        gauss_seidel_split(*arrays, 1.0 / dense.diagonal(), b, x, True, True)
        expected = dense_sweep(dense, b, np.zeros_like(x0), True)
        np.testing.assert_allclose(x, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("sweeps", [1, 2, 3])
def test_multigrid_presmoothing_leaves_the_residual(sweeps):
    # The residual passed down is computed from the upper triangle alone; it must equal
    # b - A x after the forward sweeps from zero.
    A, b, _, rows, cols = make_system(12, 14, seed=2)
    M = multigrid(A, rows, cols, sweeps=sweeps, coarse_size=30, dtype=np.float64)
    level = M.levels[0]
    level.b[:] = b
    M._presmooth(level)
    dense = A.toarray()
    x = np.zeros_like(b)
    for _ in range(sweeps):
        x = dense_sweep(dense, b, x, True)
    np.testing.assert_allclose(level.x, x, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(level.work, b - dense @ x, rtol=1e-8, atol=1e-10)


def test_multigrid_in_single_precision_solves_as_in_double():
    # The float32 cycle (the default) preconditions as well as the float64 one, and the
    # float64 conjugate gradients still reach the tolerance, on a grid Laplacian and on a
    # closed-form matting system (eps = 1e-7, the nearly singular kind).
    rng = np.random.default_rng(4)
    image = rng.random((30, 36, 3)) * 0.2 + np.linspace(0, 0.8, 36)[None, :, None]
    L = matting_laplacian(image)
    known = rng.random(L.shape[0]) < 0.05
    unknown = np.flatnonzero(~known)
    matting_system = L[unknown][:, unknown].tocsr()
    matting_rhs = -(L[unknown][:, np.flatnonzero(known)] @ rng.random(known.sum()))
    grid_system, grid_rhs, _, rows, cols = make_system(seed=6)
    for A, b, pixels in (
        (grid_system, grid_rhs, (rows, cols)),
        (matting_system, matting_rhs, np.divmod(unknown, 36)),
    ):
        results = {}
        for dtype in (np.float32, np.float64):
            M = multigrid(A, *pixels, coarse_size=40, dtype=dtype)
            assert all(level.minus_lower.dtype == dtype for level in M.levels)
            results[dtype] = cg(A, b, M=M, rtol=1e-9, return_info=True)
        (x32, info32), (x64, info64) = results[np.float32], results[np.float64]
        assert info32.converged and relative_residual(A, x32, b) <= 1e-9
        assert abs(info32.iterations - info64.iterations) <= 1
        assert relative_error(x32, x64) < 1e-6


def test_multigrid_falls_back_to_double_for_values_float32_cannot_hold():
    # Entries beyond float32's safe range would overflow (or their inverses would): the
    # cycle is then built in float64, and still solves.
    A, b, x_ref, rows, cols = make_system(12, 14, seed=2)
    assert multigrid(A, rows, cols, coarse_size=30).dtype == np.float32
    for scale in (1e35, 1e-35):
        M = multigrid(A * scale, rows, cols, coarse_size=30)
        assert M.dtype == np.float64
        assert all(level.minus_lower.dtype == np.float64 for level in M.levels)
        x, info = cg(A * scale, b * scale, M=M, rtol=1e-10, return_info=True)
        assert info.converged and relative_error(x, x_ref) < 1e-6


def make_preconditioners(A, rows, cols):
    return {
        "jacobi": jacobi(A),
        "ichol": ichol(A),
        "amg-sa": amg(A, kind="sa"),
        "amg-rn": amg(A, kind="rn"),
        "multigrid": multigrid(A, rows, cols, coarse_size=60),
        "multigrid-constant": multigrid(A, rows, cols, coarse_size=60, prolongation="constant"),
        "multigrid-float64": multigrid(A, rows, cols, coarse_size=60, dtype=np.float64),
    }


@pytest.fixture(scope="module")
def preconditioners(system):
    A, _, _, rows, cols = system
    return make_preconditioners(A, rows, cols)


@pytest.mark.parametrize(
    "name",
    ["jacobi", "ichol", "amg-sa", "amg-rn", "multigrid", "multigrid-constant", "multigrid-float64"],
)
def test_preconditioners_are_symmetric_positive_definite(system, preconditioners, name):
    # PCG is only valid with an SPD preconditioner: check u.Mv == v.Mu and u.Mu > 0, to the
    # precision the preconditioner works in (the multigrid cycles run in float32 by default).
    M = preconditioners[name]
    single = isinstance(M, MultigridPreconditioner) and M.dtype == np.float32
    tolerance = 1e-5 if single else 1e-9
    rng = np.random.default_rng(7)
    n = system[0].shape[0]
    for _ in range(3):
        u, v = rng.standard_normal(n), rng.standard_normal(n)
        Mu, Mv = M.apply(u), M.apply(v)
        assert abs(u @ Mv - v @ Mu) <= tolerance * np.linalg.norm(u) * np.linalg.norm(Mv)
        assert u @ Mu > 0


def test_preconditioning_reduces_iterations(system, preconditioners):
    A, b, *_ = system
    _, plain = cg(A, b, return_info=True)
    counts = {}
    for name, M in preconditioners.items():
        _, info = cg(A, b, M=M, return_info=True)
        assert info.converged, name
        counts[name] = info.iterations
    assert all(count < plain.iterations for count in counts.values()), (plain, counts)
    assert counts["ichol"] < counts["jacobi"] / 3
    assert counts["multigrid"] < counts["jacobi"] / 3
    assert counts["amg-sa"] < counts["jacobi"] / 3
    # Bilinear prolongation is the better one (see multigrid's Notes).
    assert counts["multigrid"] < counts["multigrid-constant"]


def test_jacobi_solves_a_diagonal_system_in_one_iteration():
    d = np.linspace(1.0, 1e4, 300)
    A = sp.diags(d).tocsr()
    b = np.random.default_rng(0).standard_normal(300)
    x, info = cg(A, b, M=jacobi(A), return_info=True)
    assert info.iterations == 1
    np.testing.assert_allclose(x, b / d, rtol=1e-12)
    # Without the preconditioner, CG needs many iterations on the same system.
    _, plain = cg(A, b, return_info=True)
    assert plain.iterations > 10


def test_cg_on_identity_takes_one_iteration():
    b = np.arange(1.0, 11.0)
    x, info = cg(sp.eye(10, format="csr"), b, return_info=True)
    assert info.iterations == 1
    np.testing.assert_allclose(x, b)
    np.testing.assert_allclose(info.residuals, [1.0, 0.0], atol=1e-15)


def test_exact_incomplete_cholesky_is_an_exact_solver():
    # Without dropping (threshold 0, unlimited fill), the factorisation is the complete one.
    A, b, x_ref, *_ = make_system(12, 15, seed=4)
    M = ichol(A, threshold=0.0, fill=1e9, initial_shift=0.0)
    L = M.factor().toarray()
    np.testing.assert_allclose(L @ L.T, A.toarray(), atol=1e-10 * abs(A).max())
    assert np.allclose(L, np.tril(L))
    x, info = cg(A, b, M=M, rtol=1e-10, return_info=True)
    assert info.iterations <= 2
    assert relative_error(x, x_ref) < 1e-8


def test_ichol_fill_bound_keeps_memory_linear(system):
    A = system[0]
    strictly_lower = (A.nnz - A.shape[0]) // 2
    for fill in (1.0, 2.0):
        M = ichol(A, fill=fill)
        assert M.values.size <= fill * strictly_lower
    assert ichol(A, fill=1.0).values.size < ichol(A, threshold=1e-8, fill=50.0).values.size


def test_ichol_retries_with_a_shift_on_a_singular_laplacian():
    # A graph Laplacian is singular; a tiny regulariser leaves it numerically semidefinite,
    # and incomplete Cholesky's dropping then produces a non-positive pivot.
    rng = np.random.default_rng(1)
    image = rng.uniform(size=(24, 24, 3))
    for axis in (0, 1):  # smooth the noise a little, like an image
        image = (image + np.roll(image, 1, axis) + np.roll(image, -1, axis)) / 3
    L = matting_laplacian(image)
    A = (L + 1e-9 * sp.eye(L.shape[0])).tocsr()
    # Sparse enough dropping that the factorisation meets a non-positive pivot.
    dropping = {"threshold": 1e-4, "fill": 3.0, "initial_shift": 0.0}
    M = ichol(A, **dropping)
    assert M.attempts > 1
    assert M.shift > 0
    b = A @ rng.standard_normal(A.shape[0])
    x, info = cg(A, b, M=M, rtol=1e-8, return_info=True)
    assert info.converged
    assert relative_residual(A, x, b) <= 1e-8
    # With no retry allowed, the same factorisation fails loudly.
    with pytest.raises(ValueError, match="positive definite"):
        ichol(A, max_retries=0, **dropping)


def test_ichol_breaks_down_on_kershaws_matrix_and_recovers():
    # Kershaw (1978): SPD, yet incomplete Cholesky without fill has a negative pivot.
    K = sp.csr_matrix(np.array([[3.0, -2, 0, 2], [-2, 3, -2, 0], [0, -2, 3, -2], [2, 0, -2, 3]]))
    assert np.all(np.linalg.eigvalsh(K.toarray()) > 0)
    M = ichol(
        K, threshold=0.6, initial_shift=0.0
    )  # drops the one fill entry (0.596), as IC(0) would
    assert M.attempts > 1 and M.shift > 0
    b = np.array([1.0, 2.0, 3.0, 4.0])
    x = cg(K, b, M=M, rtol=1e-12)
    np.testing.assert_allclose(K @ x, b, atol=1e-10)


def test_ichol_diagonal_rows_give_a_block_diagonal_preconditioner(system):
    A, b, x_ref, *_ = system
    n = A.shape[0]
    pinned = np.random.default_rng(7).uniform(size=n) < 0.4
    M = ichol(A, diagonal_rows=pinned)
    L = M.factor().tocsr()
    # No entry of the factor couples a pinned row to any other row: L L^T is diag(A) there
    # (times the shift of the attempt), and the free block is the factor of A's free block.
    assert L[:, pinned].nnz == L[pinned].nnz == np.count_nonzero(pinned)
    np.testing.assert_allclose(
        L.diagonal()[pinned] ** 2,
        A.diagonal()[pinned] * (1 + M.shift),
        rtol=1e-12,
    )
    free = np.flatnonzero(~pinned)
    block = ichol(A[free][:, free].tocsr())
    assert block.shift == M.shift
    np.testing.assert_allclose(
        L[free][:, free].toarray(), block.factor().toarray(), rtol=1e-12, atol=1e-300
    )
    # It still preconditions A: PCG reaches the exact solution.
    x, info = cg(A, b, M=M, rtol=1e-10, return_info=True)
    assert info.converged and relative_error(x, x_ref) < 1e-6
    for bad in (pinned.astype(int), pinned[1:]):
        with pytest.raises(ValueError, match="diagonal_rows"):
            ichol(A, diagonal_rows=bad)


def _recorder(store):
    return lambda xk: store.append(xk.copy())


def test_callback_and_linear_operator_paths_agree(system):
    A, b, *_ = system
    for M in (None, jacobi(A), ichol(A)):
        seen = []
        x_plain, plain = cg(A, b, M=M, return_info=True)
        x_seen, info = cg(A, b, M=M, callback=_recorder(seen), return_info=True)
        assert plain.iterations == info.iterations == len(seen)
        np.testing.assert_array_equal(x_plain, x_seen)
        np.testing.assert_array_equal(seen[-1], x_seen)
        assert not np.array_equal(seen[0], seen[-1])
        if M is not None:
            x_op = cg(A, b, M=M.aslinearoperator())
            np.testing.assert_allclose(x_op, x_plain, rtol=1e-12, atol=0)


def test_callback_gets_a_read_only_view(system):
    A, b, *_ = system

    def callback(xk):
        with pytest.raises(ValueError):
            xk[0] = 1.0

    with pytest.warns(ConvergenceWarning):
        cg(A, b, M=jacobi(A), callback=callback, maxiter=3)


# --------------------------------------------------------------------------- convergence


@pytest.mark.parametrize("solver", ITERATIVE)
def test_residual_history(system, solver):
    A, b, _, rows, cols = system
    rtol = 1e-8
    x, info = solve(
        A, b, solver=solver, rtol=rtol, return_info=True, pixel_rows=rows, pixel_cols=cols,
        options=MG_OPTIONS if solver == "multigrid" else None,
    )  # fmt: skip
    history = info.residuals
    assert history.shape == (info.iterations + 1,)
    assert history[0] == pytest.approx(1.0)  # x0 = 0
    assert history[-1] <= rtol
    # The last entry is the true residual, not the recurrence.
    assert history[-1] == pytest.approx(relative_residual(A, x, b), rel=1e-6)
    assert np.all(history[:-1] > rtol)  # stopped as soon as it could
    # CG residuals are not monotone, but they trend down: each quarter of the history
    # reaches a lower minimum than the previous one.
    quarters = np.array_split(history, 4)
    minima = [q.min() for q in quarters if q.size]
    assert all(later < earlier for earlier, later in itertools.pairwise(minima))


def test_nonconvergence_warns_with_iterations_and_residual(system):
    A, b, *_ = system
    with pytest.warns(ConvergenceWarning, match=r"after 2 iterations; final relative residual"):
        _, info = cg(A, b, maxiter=2, return_info=True)
    assert not info.converged
    assert info.iterations == 2
    assert info.residuals.shape == (3,)
    with pytest.warns(ConvergenceWarning) as record:
        _, info = solve(A, b, solver="ichol", maxiter=2, return_info=True)
    message = str(record[0].message)
    assert "ichol" in message and "2 iterations" in message
    assert f"final relative residual {info.residuals[-1]:.3e}" in message
    assert info.residuals[-1] > 1e-7
    assert record[0].filename == __file__  # the warning points at the caller


def test_breakdown_on_indefinite_matrix_warns():
    A = sp.csr_matrix(np.array([[1.0, 2.0], [2.0, 1.0]]))  # eigenvalues 3 and -1
    with pytest.warns(ConvergenceWarning, match="not positive definite"):
        cg(A, np.array([1.0, -1.0]), maxiter=10)


def test_no_warning_when_converged(system):
    A, b, *_ = system
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        solve(A, b, solver="ichol")


def test_return_info_fields(system):
    A, b, *_ = system
    _, info = solve(A, b, solver="ichol", return_info=True)
    assert isinstance(info, SolveInfo)
    assert isinstance(info.iterations, int) and info.iterations > 0
    assert isinstance(info.residuals, np.ndarray) and info.residuals.dtype == np.float64
    assert info.converged is True
    assert info.solver == "ichol"
    assert info.seconds_setup > 0 and info.seconds_solve > 0
    assert info.final_residual == info.residuals[-1]

    _, info = solve(A, b, solver="direct", return_info=True)
    assert info.iterations == 0 and info.solver == "direct" and info.converged
    assert info.residuals.shape == (1,) and info.residuals[0] < 1e-12

    _, info = cg(A, b, return_info=True)
    assert info.solver == "cg" and info.seconds_setup == 0.0


def test_zero_right_hand_side_gives_zeros(system):
    A = system[0]
    n = A.shape[0]
    for solver in ("cg", "ichol", "direct", "auto"):
        x, info = solve(A, np.zeros(n), solver=solver, x0=np.ones(n), return_info=True)
        assert np.array_equal(x, np.zeros(n))
        assert info.iterations == 0 and info.converged
    assert np.array_equal(cg(A, np.zeros(n), x0=np.ones(n)), np.zeros(n))


def test_initial_guess_is_used(system):
    A, b, x_ref, *_ = system
    _, cold = cg(A, b, M=jacobi(A), return_info=True)
    x, warm = cg(A, b, M=jacobi(A), x0=x_ref, return_info=True)
    assert warm.iterations == 0
    assert cold.iterations > 10
    np.testing.assert_array_equal(x, x_ref)


def test_custom_preconditioners(system):
    A, b, x_ref, *_ = system
    inv_d = 1.0 / A.diagonal()
    x1 = cg(A, b, M=lambda r: inv_d * r, rtol=1e-10)
    x2 = cg(A, b, M=LinearOperator(A.shape, matvec=lambda r: inv_d * r), rtol=1e-10)
    for x in (x1, x2):
        assert relative_error(x, x_ref) < 1e-6

    def overwrites_its_input(r):
        r[:] = 0.0
        return r

    with pytest.raises(ValueError, match="read-only"):
        cg(A, b, M=overwrites_its_input)


def test_preconditioner_works_inside_scipy_cg(system, preconditioners):
    A, b, x_ref, *_ = system
    x, status = scipy_cg(A, b, M=preconditioners["ichol"].aslinearoperator(), rtol=1e-10)
    assert status == 0
    assert relative_error(x, x_ref) < 1e-6


def test_amg_accepts_a_near_nullspace(system):
    A, b, x_ref, rows, _ = system
    n = A.shape[0]
    B = np.column_stack([np.ones(n), rows / rows.max()])
    x = cg(A, b, M=amg(A, near_nullspace=B), rtol=1e-10)
    assert relative_error(x, x_ref) < 1e-6
    with pytest.raises(ValueError, match="near_nullspace"):
        amg(A, near_nullspace=np.ones(n + 1))
    with pytest.raises(ValueError, match="refused the options.*bogus"):
        amg(A, bogus=1)


# --------------------------------------------------------------------------- kernels


def test_csr_matvec_matches_scipy():
    rng = np.random.default_rng(5)
    A = sp.random(300, 200, density=0.05, random_state=6, format="csr")
    x = rng.standard_normal(200)
    out = np.empty(300)
    csr_matvec(A.indptr, A.indices, A.data, x, out)
    np.testing.assert_allclose(out, A @ x, rtol=1e-13, atol=1e-13)
    # Unsorted column indices and duplicate entries are fine.
    cols = np.array([2, 0, 2, 1, 0])
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    messy = sp.csr_matrix((values, cols, np.array([0, 3, 5])), shape=(2, 3))
    out = np.empty(2)
    csr_matvec(messy.indptr, messy.indices, messy.data, np.array([1.0, 10.0, 100.0]), out)
    np.testing.assert_allclose(out, [2 + 400, 5 + 40])


def test_csr_matvec_checks_lengths_and_layout_before_the_kernel():
    A = sp.random(30, 20, density=0.2, random_state=1, format="csr")
    x, out = np.ones(20), np.empty(30)
    cases = [
        ((A.indptr, A.indices, A.data, x, np.empty(3)), "out must have length 30"),
        ((A.indptr, A.indices, A.data, np.ones(3), out), "indices must lie in 0 .. len"),
        ((A.indptr, A.indices[:-1], A.data, x, out), "indices and data must have"),
        ((A.indptr[::-1], A.indices, A.data, x, out), "indptr must"),
        ((A.indptr, A.indices, A.data.astype(np.float32), x, out), "data must have dtype"),
        ((A.indptr, A.indices, A.data, x, np.empty(60)[::2]), "C-contiguous"),
        ((A.indptr, A.indices, A.data, list(x), out), "x must be a 1-D numpy array"),
    ]
    for arguments, message in cases:
        with pytest.raises(ValueError, match=message):
            csr_matvec(*arguments)
    square = sp.eye(5, format="csr")
    shared = np.ones(5)
    with pytest.raises(ValueError, match="must not share memory"):
        csr_matvec(square.indptr, square.indices, square.data, shared, shared)


@pytest.mark.parametrize("convert", [sp.csc_matrix, sp.coo_matrix, sp.csr_array, np.asarray])
def test_other_matrix_formats_are_accepted(convert):
    A, b, x_ref, *_ = make_system(10, 12, seed=8)
    matrix = convert(A.toarray()) if convert is np.asarray else convert(A)
    x = solve(matrix, b.tolist(), solver="ichol", rtol=1e-10)
    assert relative_error(x, x_ref) < 1e-6


def test_int64_indices_and_float32_values():
    A, b, *_ = make_system(10, 12, seed=9)
    B = sp.csr_matrix(A, dtype=np.float32)
    B.indices = B.indices.astype(np.int64)
    B.indptr = B.indptr.astype(np.int64)
    x = solve(B, b, solver="jacobi", rtol=1e-10)
    assert relative_error(x, spsolve(B.astype(np.float64).tocsc(), b)) < 1e-6


# --------------------------------------------------------------------------- inputs


@pytest.mark.parametrize("solver", SOLVERS)
def test_inputs_are_not_modified(solver):
    A, b, _, rows, cols = make_system(20, 25, seed=2)
    # Unsorted column indices: pyamg sorts its input in place, which must not reach ours.
    rng = np.random.default_rng(0)
    order = np.concatenate(
        [rng.permutation(np.arange(A.indptr[i], A.indptr[i + 1])) for i in range(A.shape[0])]
    )
    A = sp.csr_matrix((A.data[order], A.indices[order], A.indptr), shape=A.shape)
    assert not A.has_sorted_indices
    x0 = np.full(A.shape[0], 0.5)
    saved = [a.copy() for a in (A.data, A.indices, A.indptr, b, x0, rows, cols)]
    solve(
        A, b, solver=solver, x0=x0, pixel_rows=rows, pixel_cols=cols, rtol=1e-8,
        options=MG_OPTIONS if solver == "multigrid" else None,
    )  # fmt: skip
    for before, after in zip(saved, (A.data, A.indices, A.indptr, b, x0, rows, cols)):
        np.testing.assert_array_equal(before, after)
    assert not hasattr(A, "symmetry")  # nothing was attached to the caller's matrix


def test_preconditioner_apply_does_not_modify_r(preconditioners, system):
    r = np.random.default_rng(3).standard_normal(system[0].shape[0])
    saved = r.copy()
    for M in preconditioners.values():
        M.apply(r)
        np.testing.assert_array_equal(r, saved)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda A, b: solve(A[:, :-1], b), "A must be square"),
        (lambda A, b: solve(A, b[:-1]), "b must be a 1-D array of length"),
        (lambda A, b: solve(A, b[:, None]), "b must be a 1-D array"),
        (lambda A, b: solve(A, b, solver="gmres"), "solver must be one of .*'ichol'.*'direct'"),
        (lambda A, b: solve(A, b, solver="multigrid"), "pixel_rows and pixel_cols"),
        (lambda A, b: solve(A, np.full_like(b, np.nan)), "b contains NaN"),
        (lambda A, b: solve(A, b, rtol=-1.0), "rtol"),
        (lambda A, b: solve(A, b, rtol=2.0), "rtol must be below 1"),  # would solve nothing
        (lambda A, b: solve(A, b, maxiter=-1), "maxiter"),
        (lambda A, b: solve(A, b, maxiter=2.5), "maxiter"),
        (lambda A, b: solve(A, b, x0=np.zeros(3)), "x0"),
        (lambda A, b: solve(A, b, solver="ichol", options={"threshold": -1}), "threshold"),
        (lambda A, b: solve(A, b, callback=3), "callback"),
        (lambda A, b: solve(A, b, solver="jacobi", options={"fill": 2}), "options do not fit"),
        (lambda A, b: solve(A, b, options=[1]), "options must be a dict"),
        (lambda A, b: cg(A, b, M=jacobi(A[:10, :10])), "M has shape"),
        (lambda A, b: cg(A, b, M="ichol"), "M must be"),
        (lambda A, b: cg("A", b), "A must be a scipy.sparse matrix"),
        (lambda A, b: cg(None, b), "A is required"),
        (lambda A, b: direct_solve(A, b.astype(complex)), "b must be a real"),
        (lambda A, b: jacobi(A - sp.diags(A.diagonal())), "diagonal entries are <= 0"),
        (lambda A, b: ichol(-A), "diagonal entries are <= 0"),
        (lambda A, b: amg(A, kind="classical"), "kind must be"),
        (lambda A, b: multigrid(A, np.zeros(4, int), np.zeros(4, int)), "pixel_rows must have"),
        (lambda A, b: multigrid(A, *np.zeros((2, A.shape[0]), int)), "same pixel"),
        (lambda A, b: multigrid(A, *np.zeros((2, A.shape[0]))), "integer array"),
        (lambda A, b: multigrid(A, *np.divmod(np.arange(42), 7), sweeps=0), "sweeps"),
        (lambda A, b: multigrid(A, *np.divmod(np.arange(42), 7), prolongation="x"), "prolong"),
        (lambda A, b: multigrid(A, *np.divmod(np.arange(42), 7), dtype=np.int32), "dtype"),
        (lambda A, b: multigrid(A, *np.divmod(np.arange(42), 7), dtype="half-ish"), "dtype"),
    ],
)
def test_bad_inputs_raise_value_error(call, match):
    A, b, *_ = make_system(6, 7, seed=1)
    with pytest.raises(ValueError, match=match):
        call(A, b)


def test_direct_solve_refuses_singular_matrix():
    singular = sp.csr_matrix(np.array([[1.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="singular"):
        direct_solve(singular, np.ones(2))


def test_direct_solve_warns_on_a_nearly_singular_matrix():
    # The graph Laplacian of a 5x8 grid is singular, but rounding leaves its last LU pivot
    # tiny rather than zero: the factorisation succeeds and the answer is meaningless (about
    # -7e15 everywhere), which the residual shows.
    n = 40
    index = np.arange(n).reshape(5, 8)
    rows = np.r_[index[:, :-1].ravel(), index[:-1].ravel()]
    cols = np.r_[index[:, 1:].ravel(), index[1:].ravel()]
    weights = sp.coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    weights = weights + weights.T
    laplacian = (sp.diags(np.asarray(weights.sum(axis=1)).ravel()) - weights).tocsr()
    b = np.linspace(0.0, 1.0, n)  # not orthogonal to the constants: no solution
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _, info = direct_solve(laplacian, b, return_info=True)
    except ValueError as error:  # another SuperLU build may see the exact zero pivot
        assert "singular" in str(error)
    else:
        assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
        assert not info.converged and info.residuals[-1] > 1e-6
    # A well-posed system stays silent.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, info = direct_solve((laplacian + sp.eye(n)).tocsr(), b, return_info=True)
    assert info.converged and info.residuals[-1] < 1e-12


def test_preconditioner_checks_its_argument(preconditioners):
    with pytest.raises(ValueError, match="r must have shape"):
        preconditioners["jacobi"].apply(np.ones(3))


def test_auto_choice_depends_on_size():
    assert _choose_solver(100) == "direct"
    assert _choose_solver(10**5) == "ichol"
    assert _choose_solver(10**7) == "ichol"
    assert _choose_solver(10**7, has_pixels=True) == "multigrid"


def test_split_system_matches_fancy_indexing():
    from matting.linalg import split_system

    rng = np.random.default_rng(3)
    matrix = sp.random(30, 30, density=0.2, random_state=4, format="csr")
    matrix = (matrix + matrix.T).tocsr()
    free = np.sort(rng.choice(30, size=12, replace=False))
    fixed = np.setdiff1d(np.arange(30), free)
    values = rng.random(30)
    system, right_hand_side = split_system(matrix, free, values)
    dense = matrix.toarray()
    np.testing.assert_allclose(system.toarray(), dense[np.ix_(free, free)])
    np.testing.assert_allclose(right_hand_side, -dense[np.ix_(free, fixed)] @ values[fixed])


def test_constraint_helpers_refuse_wrong_lengths_and_indices():
    from matting.linalg import split_system

    matrix = sp.random(30, 30, density=0.2, random_state=4, format="csr")
    matrix = (matrix + matrix.T + 30 * sp.eye(30)).tocsr()
    values = np.zeros(30)
    for free, message in [
        (np.array([-1, 3]), "free must be strictly increasing indices in 0 .. 29"),
        (np.array([0, 30]), "free must be strictly increasing"),
        (np.array([3, 3]), "free must be strictly increasing"),
        (np.array([0.0, 1.0]), "free must be a 1-D integer array"),
    ]:
        with pytest.raises(ValueError, match=message):
            split_system(matrix, free, values)
    with pytest.raises(ValueError, match="fixed_values must be a 1-D array of length 30"):
        split_system(matrix, np.arange(1, 29), np.ones(3))
    # A malformed matrix (SciPy's constructor accepts these indices): refused, not read out
    # of bounds.
    for bad_column in (-1, 30, 2**31 - 1):
        malformed = matrix.copy()
        malformed.indices[malformed.indptr[4]] = bad_column
        with pytest.raises(ValueError, match="matrix row 4 has a column index outside 0 .. 29"):
            split_system(malformed, np.arange(30), values)
    trimap = np.full((5, 6), 0.5)
    trimap[:, 0], trimap[:, -1] = 0.0, 1.0
    with pytest.raises(ValueError, match="initial_alpha must be a 1-D array of length 30"):
        solve_hard_constraints(matrix, trimap, initial_alpha=np.ones(3))
    with pytest.raises(ValueError, match="diagonal must be a 1-D array of length 30"):
        solve_on_support(matrix, trimap, np.ones(3), np.ones(30))
    with pytest.raises(ValueError, match="right_hand_side contains NaN"):
        solve_on_support(matrix, trimap, np.ones(30), np.full(30, np.nan))


# --------------------------------------------------------------------------------------------
# solve_on_support
# --------------------------------------------------------------------------------------------


def _support_case():
    from matting.laplacian import matting_laplacian
    from matting.trimap import windows_touching

    rng = np.random.default_rng(11)
    image = rng.random((10, 14, 3))
    trimap = np.zeros((10, 14))
    trimap[:, 9:] = 1.0
    trimap[2:8, 5:9] = 0.5
    laplacian = matting_laplacian(image, eps=1e-5, window_mask=windows_touching(trimap == 0.5, 1))
    known = (trimap != 0.5).ravel().astype(float)
    diagonal = 100.0 * known + 0.3 * (1 - known) * rng.random(trimap.size)
    targets = np.where(known > 0, trimap.ravel(), rng.random(trimap.size))
    return laplacian, trimap, diagonal, diagonal * targets


def test_solve_on_support_equals_the_dense_solve_over_all_pixels():
    laplacian, trimap, diagonal, right = _support_case()
    dense = np.linalg.solve(laplacian.toarray() + np.diag(diagonal), right)
    expected = np.clip(dense, 0, 1).reshape(trimap.shape)
    empty_known = (np.diff(laplacian.indptr) == 0) & (trimap.ravel() != 0.5)
    assert empty_known.sum() > 20  # pixels left out of the solve, keeping their value
    for argument in (laplacian, lambda: laplacian):
        alpha, info = solve_on_support(
            argument, trimap, diagonal, right, solver="direct", return_info=True
        )
        np.testing.assert_allclose(alpha, expected, atol=1e-9)
        assert info.solver == "direct"
    # Iterative solvers from a first guess reach the same answer.
    alpha = solve_on_support(laplacian, trimap, diagonal, right, x0=np.full(trimap.size, 0.5))
    np.testing.assert_allclose(alpha, expected, atol=1e-5)
    # The matrix passed in is not modified (the diagonal is added to the split copy).
    before = laplacian.copy()
    solve_on_support(laplacian, trimap, diagonal, right, solver="direct")
    assert abs(laplacian - before).max() == 0


def test_solve_on_support_with_an_uncoupled_unknown_pixel():
    # An unknown pixel with an empty row stores no diagonal entry: its equation is
    # diagonal_i a_i = right_i.
    laplacian, trimap, diagonal, right = _support_case()
    trimap = trimap.copy()
    trimap[0, 0] = 0.5
    diagonal, right = diagonal.copy(), right.copy()
    diagonal[0], right[0] = 2.0, 0.5
    alpha = solve_on_support(laplacian, trimap, diagonal, right, solver="direct")
    assert alpha[0, 0] == pytest.approx(0.25)
    dense = np.linalg.solve(laplacian.toarray() + np.diag(diagonal), right)
    np.testing.assert_allclose(alpha.ravel()[1:], np.clip(dense, 0, 1)[1:], atol=1e-9)
    with pytest.raises(ValueError, match="laplacian has shape"):
        solve_on_support(lambda: laplacian[:-1, :-1], trimap, diagonal, right)


# --------------------------------------------------------------------------------------------
# isolated pixels


def _brute_force_isolated(matrix, anchored):
    from scipy.sparse.csgraph import connected_components

    graph = abs(matrix) + abs(matrix).T  # undirected, whatever the storage
    _, labels = connected_components(graph, directed=False)
    anchored_labels = np.unique(labels[anchored])
    return ~np.isin(labels, anchored_labels)


@pytest.mark.parametrize("seed", range(5))
def test_isolated_pixels_match_connected_components(seed):
    from matting.linalg.constraints import isolated_pixels

    rng = np.random.default_rng(seed)
    n = 200
    matrix = sp.random(n, n, density=0.006, random_state=seed, format="csr")
    matrix = (matrix + matrix.T).tocsr()
    anchored = rng.random(n) < 0.2
    expected = _brute_force_isolated(matrix, anchored)
    assert expected.any() and not expected.all()  # the test has both kinds
    np.testing.assert_array_equal(isolated_pixels(matrix, anchored), expected)
    # Only the unanchored rows stored (as a Dirichlet problem's builder does): same answer.
    rows_only = sp.diags((~anchored).astype(float)) @ matrix
    np.testing.assert_array_equal(isolated_pixels(rows_only.tocsr(), anchored), expected)
    # Explicitly stored zeros link nothing.
    zeroed = matrix.copy()
    zeroed.data[:] = 0.0
    np.testing.assert_array_equal(isolated_pixels(zeroed, anchored), ~anchored)


def test_isolated_unknown_pixels_are_reported_set_to_zero_and_left_out():
    # Two chains: pixels 0-5 linked to the known pixel 0; pixels 6-9 linked to nothing known.
    n = 10
    weights = sp.lil_matrix((n, n))
    for i in list(range(5)) + [6, 7, 8]:
        weights[i, i + 1] = weights[i + 1, i] = 1.0
    weights = weights.tocsr()
    laplacian = (sp.diags(np.asarray(weights.sum(axis=1)).ravel()) - weights).tocsr()
    trimap = np.full((1, n), 0.5)
    trimap[0, 0] = 1.0
    for solve_constraints in (
        solve_hard_constraints,
        lambda L, t, **o: solve_soft_constraints(L, t, 100.0, **o),
    ):
        with pytest.warns(IsolatedPixelsWarning, match="4 unknown pixel"):
            alpha = solve_constraints(laplacian, trimap, solver="direct")
        np.testing.assert_allclose(alpha[0, :6], 1.0, atol=1e-9)  # harmonic: all reach 1
        np.testing.assert_array_equal(alpha[0, 6:], 0.0)
    with pytest.warns(IsolatedPixelsWarning, match="4 unknown pixel"):
        alpha = solve_on_support(
            laplacian, trimap, (trimap.ravel() != 0.5) * 100.0, (trimap.ravel() == 1) * 100.0
        )
    np.testing.assert_array_equal(alpha[0, 6:], 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # skipping the search: no warning
        solve_hard_constraints(laplacian + sp.eye(n), trimap, check_isolated=False)


# --------------------------------------------------------------------------------------------
# Nested dissection
# --------------------------------------------------------------------------------------------


def _factor_entries(A, order):
    """Entries of the Cholesky-pattern factor of ``A`` eliminated in ``order``."""
    permuted = A[order][:, order].tocsc()
    factor = splu(
        permuted, permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
    )
    return factor.L.nnz


@pytest.mark.parametrize(
    "mask",
    [
        np.ones((37, 53), bool),
        np.random.default_rng(3).random((40, 30)) < 0.4,  # scattered pixels
        np.ones((1, 90), bool),  # one row: nothing to separate across
        np.zeros((5, 5), bool),
    ],
)
def test_nested_dissection_is_a_permutation(mask):
    rows, cols = np.nonzero(mask)
    order = nested_dissection(rows, cols, separator_width=2, leaf_size=8)
    assert order.dtype == np.int64
    np.testing.assert_array_equal(np.sort(order), np.arange(rows.size))


def test_nested_dissection_separates_and_cuts_fill():
    height, width = 48, 64
    L, rows, cols = grid_laplacian(height, width)
    A = (L + sp.identity(L.shape[0])).tocsr()
    order = nested_dissection(rows, cols, separator_width=1, leaf_size=16)
    # The last band splits the grid across its longer side: the pixels before it, in two
    # halves, are coupled to no pixel of the other half.
    band = cols[order] == cols[order[-1]]
    separator = np.flatnonzero(~band)[-1] + 1
    before = order[:separator]
    left = before[cols[before] < cols[order[-1]]]
    right = before[cols[before] > cols[order[-1]]]
    assert left.size + right.size == before.size and left.size and right.size
    assert np.all(rows[order[separator:]] == np.arange(height))
    assert A[left][:, right].nnz == 0
    assert set(order[: left.size]) == set(left)  # one half, then the other
    # Fill, against the row-major order of the same grid (a band of bandwidth `width`):
    # measured 64 530 against 195 647 entries.
    assert _factor_entries(A, order) < 0.4 * _factor_entries(A, np.arange(A.shape[0]))


def test_nested_dissection_orders_the_spectral_factorisation_exactly():
    from matting.laplacian import matting_laplacian
    from matting.methods.spectral import _smallest_eigenpairs

    image = np.random.default_rng(4).random((30, 40, 3))
    laplacian = matting_laplacian(image)
    plain = _smallest_eigenpairs(laplacian, 8, "shift-invert", 0, None)
    ordered = _smallest_eigenpairs(laplacian, 8, "shift-invert", 0, None, width=40, radius=1)
    np.testing.assert_allclose(ordered[0], plain[0], rtol=1e-9, atol=1e-12)
    # Eigenvectors up to sign (the eigenvalues of a random image are distinct).
    overlap = np.abs(np.sum(ordered[1] * plain[1], axis=0))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-6)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((np.arange(3), np.arange(4)), "one length"),
        ((np.zeros((2, 2), int), np.zeros((2, 2), int)), "1-D"),
        ((np.arange(3.0), np.arange(3.0)), "integers"),
        ((np.arange(3), np.arange(3), -1, 8), "separator_width"),
        ((np.arange(3), np.arange(3), 2, 0), "leaf_size"),
        ((np.arange(3), np.arange(3), 2.5, 8), "separator_width"),
    ],
)
def test_nested_dissection_refuses_bad_input(arguments, message):
    rows, cols, *rest = arguments
    options = dict(zip(("separator_width", "leaf_size"), rest))
    with pytest.raises(ValueError, match=message):
        nested_dissection(rows, cols, **options)


def test_soft_constraint_rtol_bounds_the_tolerance_by_the_unbalanced_pull():
    from matting.linalg.constraints import soft_constraint_rtol

    # A 1-D chain pinned at both ends with weight w: b grows with w, the pull does not.
    n = 12
    laplacian = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n)).tolil()
    laplacian[0, 0] = laplacian[-1, -1] = 1.0
    pinned = np.zeros(n)
    pinned[-1] = 1.0
    for weight, expected_bound in ((100.0, False), (1e10, True)):
        weights = np.zeros(n)
        weights[[0, -1]] = weight
        system = (laplacian + sp.diags(weights)).tocsr()
        b = weights * pinned
        pull = np.linalg.norm(b - system @ pinned)  # = |L p| = 1 (the row next to the pin)
        rtol = soft_constraint_rtol(system, b, pinned, 1e-7)
        if expected_bound:
            assert rtol == pytest.approx(np.sqrt(1e-7) * pull / np.linalg.norm(b), rel=1e-12)
            assert rtol < 1e-7
        else:
            assert rtol == 1e-7
    assert soft_constraint_rtol(system, np.zeros(n), pinned, 1e-6) == 1e-6
    with pytest.raises(ValueError, match="rtol"):
        soft_constraint_rtol(system, b, pinned, "1e-7")


def test_a_huge_maxiter_costs_no_memory_up_front():
    # The residual history used to be allocated for maxiter + 1 entries (7 PiB here).
    A = sp.diags([-1.0, 2.1, -1.0], [-1, 0, 1], shape=(30, 30)).tocsr()
    x, info = cg(A, np.ones(30), maxiter=10**15, return_info=True)
    assert info.converged and len(info.residuals) == info.iterations + 1
    np.testing.assert_allclose(A @ x, np.ones(30), atol=1e-5)


def test_solve_on_support_with_no_data_term():
    # A zero diagonal anchors nothing: every pixel is isolated (warned, set to 0) and
    # nothing is left to solve; a negative one is refused, naming it.
    trimap = np.full((5, 6), 0.5)
    trimap[:, 0], trimap[:, -1] = 0.0, 1.0
    laplacian = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(30, 30)).tocsr()
    with pytest.warns(IsolatedPixelsWarning):
        alpha = solve_on_support(laplacian, trimap, np.zeros(30), np.zeros(30))
    assert np.all(alpha[trimap == 0.5] == 0.0)
    with pytest.raises(ValueError, match="diagonal must be >= 0"):
        solve_on_support(laplacian, trimap, -np.ones(30), np.ones(30))


def test_default_rtol_is_solves():
    import inspect

    from matting.linalg.constraints import DEFAULT_RTOL

    assert inspect.signature(solve).parameters["rtol"].default == DEFAULT_RTOL


def test_solvers_refuse_a_matrix_that_is_not_symmetric():
    # A row-normalised affinity matrix (as information flow's authors build theirs) is not
    # symmetric; CG would return a wrong answer without a word.
    rng = np.random.default_rng(3)
    affinity = sp.random(60, 60, density=0.2, random_state=rng, format="csr")
    affinity = affinity + affinity.T
    degree = np.asarray(affinity.sum(axis=1)).ravel() + 1.0
    row_normalised = (sp.eye(60) - sp.diags(1.0 / degree) @ affinity).tocsr()
    for solver in ("cg", "ichol", "direct"):
        with pytest.raises(ValueError, match=r"A must be symmetric .* A\[\d+, \d+\] = "):
            solve(row_normalised, np.ones(60), solver=solver)
    with pytest.raises(ValueError, match="symmetric"):
        cg(row_normalised, np.ones(60))
    # The symmetric normalisation D^-1/2 (D - W) D^-1/2 is accepted and solved.
    scale = sp.diags(1.0 / np.sqrt(degree))
    symmetric = (scale @ (sp.diags(degree) - affinity) @ scale).tocsr()
    x = solve(symmetric, np.ones(60), solver="cg", rtol=1e-10)
    np.testing.assert_allclose(symmetric @ x, np.ones(60), atol=1e-8)
