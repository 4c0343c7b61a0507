"""Spectral matting (Levin, Rav-Acha, Lischinski, CVPR 2007 / TPAMI 2008).

The smallest eigenvectors of the matting Laplacian span (nearly) every matte the image's local
colour-line model allows. Spectral matting rotates that span into a handful of *matting
components*, soft layers that are as close to binary as possible and sum to one at every pixel,
and then builds a foreground matte as a sum of some of them: the subset chosen by the user's
trimap or scribbles, or, without any input, the subsets of lowest matting cost.

Pipeline (one small function each below):

1. eigenvectors: ``matting_laplacian`` of the whole (possibly downscaled) image, its smallest
   eigenpairs by ARPACK in shift-invert mode around a tiny shift, with one sparse LU
   factorisation (dense ``eigh`` on tiny images);
2. initialisation: seeded k-means on the first non-constant eigenvectors, each scaled by
   ``1 / sqrt(eigenvalue)``;
3. sparsification: iteratively reweighted least squares on the coefficients ``y^k`` of the
   components ``a^k = E y^k`` with the last component eliminated by the sum-to-one constraint;
4. (large images) the components are carried to full resolution through the local affine
   colour model of the closed-form coarse-to-fine solver;
5. grouping: a binary vector ``b`` over the components minimising a quadratic cost.
"""

from __future__ import annotations

import numbers
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh, splu

from .._inputs import UNKNOWN, as_finite, as_image, as_integer, as_trimap, check_switches

# The local affine upsampling of closed-form's coarse-to-fine solver, reused as is (the lead
# engineer may move it to a shared module).
from .._pyramid import affine_upsample
from ..laplacian import matting_laplacian
from ..linalg import ConvergenceWarning, nested_dissection
from ..linalg._common import check_rtol
from ..trimap import windows_touching

__all__ = ["SpectralInfo", "spectral", "spectral_components"]

#: ``downscale="auto"`` shrinks the image until the eigenproblem has at most this many pixels.
#: Measured on the benchmark photographs (2 cores): the shift-invert eigensolver takes
#: about 2 s at 40 000 pixels and 12-14 s at 150 000 (LU fill grows like n log n and ARPACK
#: needs about 2 K solves), see benchmarks/spectral.py.
AUTO_EIGEN_PIXELS = 40_000

#: Up to this many pixels ``solver="auto"`` uses dense ``numpy.linalg.eigh``.
_DENSE_MAX_PIXELS = 1_200

#: Eigenvectors used for the k-means initialisation (besides the constant one).
_KMEANS_EIGENVECTORS = 20

#: Pixels the k-means centres are fitted on (all of them in smaller images).
_KMEANS_SAMPLE = 20_000

#: IRLS weights ``|a|^(gamma - 2)`` are capped by flooring ``|a|`` here (authors' code: 1e-10).
_WEIGHT_FLOOR = 1e-10

#: Components whose largest absolute value falls below this are dropped (authors' code: 0.1).
_EMPTY_COMPONENT = 0.1

#: A reweighted least-squares step is reported as unreliable when the squared ratio of its
#: Cholesky pivots (a lower bound of its condition number) exceeds this. Measured on noise, a
#: synthetic composite and the shipped sample: at most 1.3e7 at the paper's sparsity 0.9,
#: 2e12-1e13 at 0.2, and about 1e14 just before the factorisation fails (0.05-0.1).
_MAX_CONDITION = 1e12

#: Exhaustive grouping up to this many free components (2^16 = 65 536 binary vectors).
_MAX_EXHAUSTIVE = 16

#: A component with more than this fraction of its mass in the known foreground (background)
#: is assigned to the foreground (background) before the search (the paper's "mostly").
_KNOWN_FRACTION = 0.5

_SOLVERS = ("auto", "shift-invert", "dense")


@dataclass(frozen=True)
class SpectralInfo:
    """What :func:`spectral_components` and :func:`spectral` computed on the way.

    Attributes
    ----------
    eigenvalues : ndarray
        The Laplacian eigenvalues whose eigenvectors were used (ascending; of the
        downscaled image's Laplacian when ``downscale > 1``).
    downscale : float
        The factor the eigenproblem's image was shrunk by (1.0: full resolution).
    eigen_solver : str
        ``"shift-invert"`` or ``"dense"``.
    n_dropped : int
        Components removed during sparsification because they became empty.
    seconds : dict
        Wall-clock seconds of each stage (``laplacian``, ``eigenvectors``, ``kmeans``,
        ``sparsify``, ``upsample``, and ``grouping`` from :func:`spectral`).
    components : ndarray or None
        HxWxK components (set by :func:`spectral`, so that they can be passed back through
        ``components=`` to group again with other constraints).
    groupings : ndarray of bool or None
        From :func:`spectral`: the chosen binary vector over the components (shape (K,)), or
        one row per candidate in the unsupervised mode.
    costs : ndarray or None
        The grouping cost of each entry of ``groupings``.
    """

    eigenvalues: np.ndarray = field(repr=False)
    downscale: float
    eigen_solver: str
    n_dropped: int
    seconds: dict
    components: np.ndarray | None = field(default=None, repr=False)
    groupings: np.ndarray | None = field(default=None, repr=False)
    costs: np.ndarray | None = field(default=None, repr=False)


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------


def _check_downscale(downscale, n_pixels: int) -> float:
    if isinstance(downscale, str):
        if downscale != "auto":
            raise ValueError(f"downscale must be 'auto' or a number >= 1, got {downscale!r}")
        return max(1.0, float(np.sqrt(n_pixels / AUTO_EIGEN_PIXELS)))
    is_real = isinstance(downscale, numbers.Real) and not isinstance(downscale, (bool, np.bool_))
    if not (is_real and np.isfinite(downscale) and downscale >= 1.0):
        raise ValueError(f"downscale must be 'auto' or a number >= 1, got {downscale!r}")
    return float(downscale)


def _check_component_options(n_eigenvectors, n_components, sparsity, n_iterations, solver):
    n_eigenvectors = as_integer(n_eigenvectors, "n_eigenvectors", 2)
    n_components = as_integer(n_components, "n_components", 2)
    if n_components > n_eigenvectors:
        raise ValueError(
            f"n_components ({n_components}) must not exceed n_eigenvectors ({n_eigenvectors})"
        )
    is_real = isinstance(sparsity, numbers.Real) and not isinstance(sparsity, (bool, np.bool_))
    if not (is_real and 0.0 < sparsity <= 1.0):
        raise ValueError(f"sparsity must be in (0, 1] (paper: 0.9), got {sparsity!r}")
    n_iterations = as_integer(n_iterations, "n_iterations", 1)
    if not isinstance(solver, str) or solver not in _SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(map(repr, _SOLVERS))}; got {solver!r}")
    return n_eigenvectors, n_components, float(sparsity), n_iterations


# --------------------------------------------------------------------------------------------
# 1. Eigenvectors
# --------------------------------------------------------------------------------------------


def _smallest_eigenpairs(
    laplacian, k: int, solver: str, rtol: float, maxiter, width=None, radius=1
):
    """The ``k`` smallest eigenpairs of the PSD ``laplacian``, ascending.

    Shift-invert: the Laplacian is singular (constants cost nothing), so it is factorised
    with a tiny positive shift ``s``; ARPACK then finds the largest eigenvalues
    ``1 / (lambda + s)`` of the inverse, which separates the clustered small eigenvalues
    well, so Lanczos converges in about ``2 k`` solves. Given the image ``width`` (the
    Laplacian of a whole image, pixels in row-major order, windows of ``radius``), the
    factorisation follows a nested dissection of the grid, else SuperLU's minimum degree.
    """
    n = laplacian.shape[0]
    if solver == "dense":
        values, vectors = np.linalg.eigh(laplacian.toarray())
        return values[:k], np.ascontiguousarray(vectors[:, :k])
    shift = 1e-8 * float(laplacian.diagonal().mean())
    shifted = (laplacian + shift * sp.identity(n, format="csr")).tocsr()
    if width is None:
        permutation, ordering = None, "MMD_AT_PLUS_A"
    else:
        rows, cols = np.divmod(np.arange(n), width)
        permutation = nested_dissection(rows, cols, separator_width=2 * radius)
        shifted, ordering = shifted[permutation][:, permutation], "NATURAL"
    # Symmetric mode with diagonal pivots (threshold 0): the Cholesky pattern of the given
    # order. SuperLU's default threshold picks off-diagonal pivots here, which spoils the
    # ordering: 1.7x the fill and 2-3x the factorisation time at 40 000 pixels.
    factor = splu(
        shifted.tocsc(), permc_spec=ordering, diag_pivot_thresh=0.0, options={"SymmetricMode": True}
    )
    if permutation is None:
        apply_inverse = factor.solve
    else:

        def apply_inverse(vector):
            result = np.empty_like(vector)
            result[permutation] = factor.solve(vector[permutation])
            return result

    inverse = LinearOperator((n, n), matvec=apply_inverse, dtype=np.float64)
    # A fixed starting vector makes ARPACK (and so the whole method) reproducible.
    start = np.random.default_rng(0).standard_normal(n)
    try:
        inverted, vectors = eigsh(inverse, k=k, which="LM", tol=rtol, maxiter=maxiter, v0=start)
    except ArpackNoConvergence as error:
        if error.eigenvalues.size < 2:
            raise RuntimeError(
                "the eigensolver found fewer than 2 eigenvectors; raise maxiter"
            ) from None
        warnings.warn(
            f"the eigensolver converged for {error.eigenvalues.size} of {k} eigenvectors "
            "within maxiter; using those",
            ConvergenceWarning,
            stacklevel=4,
        )
        inverted, vectors = error.eigenvalues, error.eigenvectors
    values = 1.0 / inverted - shift
    order = np.argsort(values)
    return values[order], np.ascontiguousarray(vectors[:, order])


def _with_exact_constant(vectors: np.ndarray) -> np.ndarray:
    """Replace the first eigenvector by the exact constant (it is constant up to the solver's
    tolerance) and re-orthonormalise the others against it, so that the sum-to-one
    constraint is representable exactly in the span."""
    n = vectors.shape[0]
    basis = np.column_stack([np.full(n, 1.0 / np.sqrt(n)), vectors[:, 1:]])
    orthonormal, triangle = np.linalg.qr(basis)
    # QR's signs are arbitrary; keep each column's orientation (and the constant positive).
    return orthonormal * np.sign(np.diag(triangle) + (np.diag(triangle) == 0))


# --------------------------------------------------------------------------------------------
# 2. k-means initialisation
# --------------------------------------------------------------------------------------------


def _kmeans(points: np.ndarray, n_clusters: int, rng, n_init: int = 5, max_iter: int = 100):
    """Lloyd's k-means with k-means++ seeding; the labelling of lowest inertia of ``n_init``."""
    from scipy.cluster.vq import vq

    squared_norms = np.einsum("ij,ij->i", points, points)
    best_labels, best_inertia = None, np.inf
    for _ in range(n_init):
        centres = _kmeans_plus_plus(points, squared_norms, n_clusters, rng)
        labels = None
        for _ in range(max_iter):
            new_labels, distances = vq(points, centres, check_finite=False)
            if labels is not None and np.array_equal(new_labels, labels):
                break
            labels = new_labels
            counts = np.bincount(labels, minlength=n_clusters)
            for cluster in np.flatnonzero(counts == 0):
                # An empty cluster takes the point farthest from its centre.
                farthest = int(np.argmax(distances))
                labels[farthest] = cluster
                distances[farthest] = 0.0
            counts = np.bincount(labels, minlength=n_clusters)
            sums = np.stack(
                [np.bincount(labels, points[:, d], n_clusters) for d in range(points.shape[1])],
                axis=1,
            )
            centres = sums / counts[:, None]
        inertia = float(np.square(distances).sum())
        if inertia < best_inertia:
            best_labels, best_inertia = labels, inertia
    return best_labels


def _kmeans_plus_plus(points, squared_norms, n_clusters, rng):
    first = int(rng.integers(points.shape[0]))
    centres = [points[first]]
    closest = np.maximum(squared_norms - 2.0 * points @ points[first] + squared_norms[first], 0)
    for _ in range(1, n_clusters):
        total = closest.sum()
        if total <= 0:  # fewer distinct points than clusters
            index = int(rng.integers(points.shape[0]))
        else:
            index = int(rng.choice(points.shape[0], p=closest / total))
        centres.append(points[index])
        distance = squared_norms - 2.0 * points @ points[index] + squared_norms[index]
        closest = np.minimum(closest, np.maximum(distance, 0))
    return np.array(centres)


def _initial_labels(vectors, eigenvalues, n_components, seed):
    """k-means on the first non-constant eigenvectors scaled by ``1 / sqrt(lambda)``.

    The centres are fitted on at most ``_KMEANS_SAMPLE`` pixels drawn with the seed (a
    cluster of 0.5% of the image still gets about 100 of them), then every pixel takes its
    nearest centre: the same clustering at a fraction of the cost on large images.
    """
    from scipy.cluster.vq import vq

    used = min(_KMEANS_EIGENVECTORS, vectors.shape[1] - 1)
    scale = 1.0 / np.sqrt(np.maximum(np.abs(eigenvalues[1 : used + 1]), 1e-14))
    points = vectors[:, 1 : used + 1] * scale
    rng = np.random.default_rng(seed)
    if points.shape[0] <= _KMEANS_SAMPLE:
        return _kmeans(points, n_components, rng)
    sample = np.sort(rng.choice(points.shape[0], _KMEANS_SAMPLE, replace=False))
    labels = _kmeans(points[sample], n_components, rng)
    centres = np.stack([points[sample][labels == c].mean(axis=0) for c in range(n_components)])
    return vq(points, centres, check_finite=False)[0]


# --------------------------------------------------------------------------------------------
# 3. Sparsification
# --------------------------------------------------------------------------------------------


def _weighted_gram(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``E^T diag(w) E`` for positive ``w`` (NumPy runs ``S^T S`` as a symmetric rank-k
    update, half a GEMM).

    The reweighted least squares calls NumPy's BLAS and LAPACK only: SciPy ships an OpenBLAS
    of its own, and alternating between the two libraries' spinning worker threads made
    the whole step 1.5-2x slower, even on an idle machine."""
    scaled = vectors * np.sqrt(weights)[:, None]
    return scaled.T @ scaled


def _solve_reweighted(system: np.ndarray, right_hand_side: np.ndarray, sparsity: float):
    """Solve one reweighted least-squares system (symmetric positive definite in exact
    arithmetic); also say whether it is so ill-conditioned that the answer is mostly rounding
    error (see ``_MAX_CONDITION``). Refused when rounding has made it indefinite. Both happen
    only far below the paper's sparsity of 0.9, where the weights ``|a|^(g-2)`` span too many
    orders of magnitude."""
    try:
        pivots = np.diag(np.linalg.cholesky(system))
    except np.linalg.LinAlgError:
        raise ValueError(
            f"the sparsification's least-squares system is numerically singular with "
            f"sparsity={sparsity:g}; use a sparsity closer to the paper's 0.9"
        ) from None
    # The squared ratio of the Cholesky pivots is a lower bound of the condition number.
    ill_conditioned = (pivots.max() / pivots.min()) ** 2 > _MAX_CONDITION
    # A second factorisation (LU, 2-3 ms here): NumPy has no triangular solve to reuse the
    # Cholesky factor with, and SciPy's would bring its BLAS threads back into the loop.
    return np.linalg.solve(system, right_hand_side), ill_conditioned


def _sparsify(vectors, eigenvalues, labels, n_components, sparsity, n_iterations):
    """Minimise ``sum_k sum_i |a_i^k|^g + |1 - a_i^k|^g`` over ``a^k = E y^k`` with
    ``sum_k a^k = 1``, by iteratively reweighted least squares (Newton on the reweighted
    quadratic), starting from the k-means indicators.

    With weights ``u = |a|^(g-2)`` and ``v = |1-a|^(g-2)`` from the current components, each
    step minimises ``sum_k sum_i u_i^k (a_i^k)^2 + v_i^k (1 - a_i^k)^2 + y^k' Lambda y^k``
    (the last term, the components' matting cost, is the authors' code's regulariser), with
    ``a^K = 1 - sum_{k<K} a^k`` eliminated: a dense SPD system of ``(K-1) x n_eigenvectors``
    unknowns. Components that vanish are dropped every quarter of the iterations.
    """
    n_pixels, n_vectors = vectors.shape
    components = np.zeros((n_pixels, n_components))
    components[np.arange(n_pixels), labels] = 1.0
    regulariser = np.diag(np.abs(eigenvalues))
    exponent = sparsity - 2.0
    cycle = int(np.ceil(n_iterations / 4))
    next_removal = cycle
    n_dropped = 0
    unreliable_steps = 0
    for iteration in range(n_iterations):
        count = components.shape[1]
        to_zero = np.maximum(np.abs(components), _WEIGHT_FLOOR) ** exponent
        to_one = np.maximum(np.abs(1.0 - components), _WEIGHT_FLOOR) ** exponent
        last = count - 1
        shared = _weighted_gram(vectors, to_zero[:, last] + to_one[:, last]) + regulariser
        system = np.tile(shared, (last, last))
        right_hand_side = np.tile(vectors.T @ to_zero[:, last], last)
        for k in range(last):
            block = slice(k * n_vectors, (k + 1) * n_vectors)
            system[block, block] += (
                _weighted_gram(vectors, to_zero[:, k] + to_one[:, k]) + regulariser
            )
            right_hand_side[block] += vectors.T @ to_one[:, k]
        coefficients, ill_conditioned = _solve_reweighted(system, right_hand_side, sparsity)
        unreliable_steps += ill_conditioned
        components[:, :last] = vectors @ coefficients.reshape(last, n_vectors).T
        components[:, last] = 1.0 - components[:, :last].sum(axis=1)
        if iteration + 1 > next_removal and iteration + 1 < n_iterations:
            next_removal += cycle
            alive = np.abs(components).max(axis=0) > _EMPTY_COMPONENT
            if 2 <= alive.sum() < count:
                n_dropped += count - int(alive.sum())
                components = np.ascontiguousarray(components[:, alive])
    if unreliable_steps:
        warnings.warn(
            f"{unreliable_steps} of {n_iterations} sparsification steps solved an "
            f"ill-conditioned system (sparsity={sparsity:g}; condition number above "
            f"{_MAX_CONDITION:g}): the components are unreliable, use a sparsity closer to "
            "the paper's 0.9",
            ConvergenceWarning,
            stacklevel=4,
        )
    return components, n_dropped


def _normalised(components: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] and rescale so that the components sum to one at every pixel."""
    clipped = np.clip(components, 0.0, 1.0)
    total = clipped.sum(axis=-1, keepdims=True)
    return clipped / np.maximum(total, 1e-12)


# --------------------------------------------------------------------------------------------
# Public: components
# --------------------------------------------------------------------------------------------


def _downscaled(image: np.ndarray, factor: float) -> np.ndarray:
    from skimage.transform import resize

    shape = tuple(max(3, round(size / factor)) for size in image.shape[:2])
    return np.clip(resize(image, shape, order=1, anti_aliasing=True, mode="reflect"), 0, 1)


def _components_with_info(
    image,
    *,
    n_eigenvectors,
    n_components,
    sparsity,
    n_iterations,
    downscale,
    radius,
    eps,
    solver,
    rtol,
    maxiter,
    seed,
):
    image = as_image(image)
    n_eigenvectors, n_components, sparsity, n_iterations = _check_component_options(
        n_eigenvectors, n_components, sparsity, n_iterations, solver
    )
    rtol = check_rtol(rtol)
    seed = as_integer(seed, "seed", 0)
    if maxiter is not None:
        maxiter = as_integer(maxiter, "maxiter", 1)
    height, width = image.shape[:2]
    factor = _check_downscale(downscale, height * width)
    seconds = {}

    start = time.perf_counter()
    coarse = _downscaled(image, factor) if factor > 1.0 else image
    laplacian = matting_laplacian(coarse, radius=radius, eps=eps)
    n_pixels = laplacian.shape[0]
    if n_pixels < n_components + 1:
        raise ValueError(
            f"image has {n_pixels} pixels (after downscale={factor:g}); n_components="
            f"{n_components} needs at least {n_components + 1}"
        )
    k = min(n_eigenvectors, n_pixels - 1)
    seconds["laplacian"] = time.perf_counter() - start

    start = time.perf_counter()
    if solver == "auto":
        solver = "dense" if n_pixels <= _DENSE_MAX_PIXELS else "shift-invert"
    eigenvalues, vectors = _smallest_eigenpairs(
        laplacian, k, solver, rtol, maxiter, width=coarse.shape[1], radius=radius
    )
    vectors = _with_exact_constant(vectors)
    seconds["eigenvectors"] = time.perf_counter() - start

    start = time.perf_counter()
    labels = _initial_labels(vectors, eigenvalues, n_components, seed)
    seconds["kmeans"] = time.perf_counter() - start

    start = time.perf_counter()
    flat, n_dropped = _sparsify(vectors, eigenvalues, labels, n_components, sparsity, n_iterations)
    components = flat.reshape(coarse.shape[0], coarse.shape[1], -1)
    seconds["sparsify"] = time.perf_counter() - start

    start = time.perf_counter()
    if coarse.shape != image.shape:
        # The affine model is linear in alpha, so the upsampled components still sum to one
        # before clipping; _normalised restores the sum after it.
        components = np.stack(
            [
                affine_upsample(components[:, :, c], coarse, image, radius, eps)
                for c in range(components.shape[2])
            ],
            axis=2,
        )
    components = _normalised(components)
    # Largest first, so that plots and indices are stable and meaningful.
    order = np.argsort(-components.sum(axis=(0, 1)), kind="stable")
    components = np.ascontiguousarray(components[:, :, order])
    seconds["upsample"] = time.perf_counter() - start
    info = SpectralInfo(eigenvalues, factor, solver, n_dropped, seconds)
    return image, components, info


def spectral_components(
    image,
    *,
    n_eigenvectors: int = 50,
    n_components: int = 10,
    sparsity: float = 0.9,
    n_iterations: int = 20,
    downscale: float | str = "auto",
    radius: int = 1,
    eps: float = 1e-7,
    solver: str = "auto",
    rtol: float = 1e-6,
    maxiter: int | None = None,
    seed: int = 0,
    return_info: bool = False,
):
    """The matting components of an image (spectral matting, Levin et al. 2008).

    Matting components are soft layers ``a^1 .. a^K``, each a linear combination of the
    smallest eigenvectors ``E`` of the matting Laplacian, that sum to one at every pixel and
    are as binary as possible: they minimise ``sum_k sum_i |a_i^k|^g + |1 - a_i^k|^g``
    (``g`` = ``sparsity``) subject to ``a^k = E y^k`` and ``sum_k a^k = 1`` ([1]_, Sec. 4).
    Any sum of components is a plausible matte; :func:`spectral` picks one.

    Parameters
    ----------
    image : array_like, HxW, HxWx3 or HxWx4
        ``uint8``, ``uint16`` or float in [0, 1].
    n_eigenvectors : int
        Number of smallest Laplacian eigenvectors spanning the components (paper: 50-70).
    n_components : int
        Number of components to start from (k-means clusters; paper: 10-20). Components that
        vanish during the optimisation are dropped, so fewer may be returned.
    sparsity : float
        The exponent ``gamma`` in (0, 1] of the sparsity cost. Paper: 0.9. Far below it the
        reweighted systems become ill-conditioned (a ``ConvergenceWarning``, measured from
        about 0.2) and then numerically singular (``ValueError``, from 0.05-0.1).
    n_iterations : int
        Reweighted least-squares (Newton) iterations. Authors' code: 20.
    downscale : float or "auto"
        Compute the eigenvectors and components on the image shrunk by this factor (1: full
        resolution), then carry the components to full resolution with the local affine
        colour model (see Notes). ``"auto"`` (default) shrinks images larger than
        :data:`AUTO_EIGEN_PIXELS` pixels to that size.
    radius, eps : int, float
        Window radius and regulariser of the matting Laplacian
        (:func:`matting.laplacian.matting_laplacian`). Paper: 1 and 1e-7.
    solver : {"auto", "shift-invert", "dense"}
        Eigensolver: ARPACK Lanczos on the inverse of the (slightly shifted) Laplacian through
        one sparse LU factorisation, or dense ``numpy.linalg.eigh`` (tiny images only).
        ``"auto"`` uses dense up to 1 200 pixels.
    rtol : float
        Relative accuracy of the eigenvalues requested from ARPACK (0: machine precision).
    maxiter : int, optional
        ARPACK restart limit; a :class:`matting.linalg.ConvergenceWarning` is issued and the
        converged eigenvectors are used when it is reached.
    seed : int
        Seed of the k-means initialisation; the result depends only on the arguments.
    return_info : bool
        Also return a :class:`SpectralInfo` (eigenvalues, timings, dropped components).

    Returns
    -------
    components : ndarray, float64 HxWxK
        ``K <= n_components`` components in [0, 1] that sum to one at every pixel, in
        decreasing order of total mass.
    info : SpectralInfo
        Only with ``return_info=True``.

    Raises
    ------
    ValueError
        For a bad image, ``n_eigenvectors`` < 2, ``n_components`` < 2 or more than
        ``n_eigenvectors``, ``sparsity`` outside (0, 1], ``n_iterations`` < 1, a bad
        ``downscale``, ``solver``, ``rtol`` or ``maxiter``.

    Notes
    -----
    Following the authors' code, k-means runs on the first 20 non-constant eigenvectors
    scaled by ``1 / sqrt(eigenvalue)`` (5 k-means++ restarts, seeded), its cluster
    indicators start the optimisation, the weights are ``|a|^(gamma-2)`` with ``|a|``
    floored at 1e-10, the components' matting cost ``y' Lambda y`` is added to each
    reweighted problem, and components whose largest value falls below 0.1 are dropped every
    quarter of the iterations.

    Deviations, and why: the first eigenvector is replaced by the exact constant vector (it
    is constant up to the eigensolver's tolerance) so that sum-to-one is exact; the returned
    components are clipped to [0, 1] and renormalised to sum to one (the optimisation leaves
    them outside by up to about 0.2 where it has not converged), so that any group of them is
    a valid matte.

    Cost: the eigenproblem covers the whole image (not only an unknown band): the LU factor
    of a 2-D Laplacian grows like ``n log n`` and ARPACK needs about ``2 K`` solves with it:
    about 2 s and 200 MB at 40 000 pixels, 12-14 s and 770 MB at 150 000 (2 cores). Hence
    ``downscale="auto"``.
    The upsampling fits, in every window of the small image, each component as an affine
    function of colour (closed-form's model, the authors' ``upSampleAlphaUsingImg``),
    interpolates the coefficients and applies them to the full-size colours; since the fit is
    linear in the component, the sum to one is kept. What this costs in accuracy is measured
    in benchmarks/spectral.py (docs/spectral.md). LOBPCG with an algebraic multigrid
    preconditioner (pyamg) was measured too and was far slower (over 190 s without
    converging on a 40 000-pixel photograph for 50 eigenvectors), so it is not offered.

    References
    ----------
    .. [1] A. Levin, A. Rav-Acha, D. Lischinski, "Spectral Matting", IEEE TPAMI 30(10),
       pp. 1699-1712, 2008 (CVPR 2007).

    Examples
    --------
    >>> import matting
    >>> from matting.methods.spectral import spectral_components
    >>> image, trimap, true_alpha = matting.datasets.load_sample()
    >>> components = spectral_components(image[::4, ::4], n_components=6)
    >>> components.shape[:2], bool(abs(components.sum(axis=2) - 1).max() < 1e-9)
    ((75, 100), True)
    """
    check_switches(return_info=return_info)
    _, components, info = _components_with_info(
        image,
        n_eigenvectors=n_eigenvectors,
        n_components=n_components,
        sparsity=sparsity,
        n_iterations=n_iterations,
        downscale=downscale,
        radius=radius,
        eps=eps,
        solver=solver,
        rtol=rtol,
        maxiter=maxiter,
        seed=seed,
    )
    return (components, info) if return_info else components


# --------------------------------------------------------------------------------------------
# 5. Grouping
# --------------------------------------------------------------------------------------------


def _all_binary(count: int) -> np.ndarray:
    """Every binary vector of length ``count``, one per row (2^count rows)."""
    codes = np.arange(2**count, dtype=np.int64)
    return ((codes[:, None] >> np.arange(count)) & 1).astype(np.float64)


def _quadratic_costs(groupings: np.ndarray, quadratic: np.ndarray, linear: np.ndarray):
    """``b' Q b + 2 r' b`` for every row ``b`` of ``groupings``."""
    return np.einsum("ij,jk,ik->i", groupings, quadratic, groupings) + 2.0 * groupings @ linear


def _best_grouping(quadratic, linear, fixed: np.ndarray):
    """Minimise ``b' Q b + 2 r' b`` over binary ``b`` with ``b[fixed >= 0] = fixed``.

    Exhaustive over the free components when there are at most 16 of them; beyond, the
    continuous minimiser over [0, 1] rounded, then single flips while they lower the cost.
    """
    free = np.flatnonzero(fixed < 0)
    base = np.where(fixed < 0, 0.0, fixed).astype(np.float64)
    # Restrict the cost to the free entries: b = base + P c.
    sub_quadratic = quadratic[np.ix_(free, free)]
    sub_linear = linear[free] + quadratic[free] @ base
    if free.size <= _MAX_EXHAUSTIVE:
        candidates = _all_binary(free.size)
        costs = _quadratic_costs(candidates, sub_quadratic, sub_linear)
        choice = candidates[int(np.argmin(costs))]
    else:
        relaxed = np.linalg.lstsq(sub_quadratic, -sub_linear, rcond=None)[0]
        choice = (np.clip(relaxed, 0, 1) > 0.5).astype(np.float64)
        improved = True
        while improved:
            improved = False
            for index in range(free.size):
                flipped = choice.copy()
                flipped[index] = 1.0 - flipped[index]
                pair = np.stack([choice, flipped])
                costs = _quadratic_costs(pair, sub_quadratic, sub_linear)
                if costs[1] < costs[0] - 1e-15 * abs(costs[0]):
                    choice, improved = flipped, True
    grouping = base.copy()
    grouping[free] = choice
    return grouping.astype(bool), float(_quadratic_costs(grouping[None], quadratic, linear)[0])


def _group_with_trimap(image, trimap, components, radius, eps):
    """Components with most of their mass in the known foreground (background) are assigned
    to it, as in the paper; the others minimise the matting cost of the resulting alpha,
    ``(t + P_U Phi b)' L (t + P_U Phi b)``, with ``P_U`` keeping unknown pixels and ``t`` the
    trimap's known values (the hard-constraint closed-form cost restricted to sums of
    components). Known pixels keep their trimap value."""
    unknown = trimap == UNKNOWN
    flat = components.reshape(-1, components.shape[2])
    laplacian = matting_laplacian(
        image, radius=radius, eps=eps, window_mask=windows_touching(unknown, radius)
    )
    in_unknown = flat * unknown.reshape(-1, 1)
    known_values = np.where(unknown, 0.0, trimap).ravel()
    quadratic = in_unknown.T @ (laplacian @ in_unknown)
    linear = in_unknown.T @ (laplacian @ known_values)
    mass = flat.sum(axis=0)
    foreground_share = flat[trimap.ravel() == 1.0].sum(axis=0) / np.maximum(mass, 1e-12)
    background_share = flat[trimap.ravel() == 0.0].sum(axis=0) / np.maximum(mass, 1e-12)
    fixed = np.full(flat.shape[1], -1.0)
    fixed[foreground_share > _KNOWN_FRACTION] = 1.0
    fixed[background_share > _KNOWN_FRACTION] = 0.0
    grouping, cost = _best_grouping(quadratic, linear, fixed)
    alpha = np.where(unknown, (flat @ grouping).reshape(trimap.shape), trimap)
    return np.clip(alpha, 0.0, 1.0), grouping, cost


def _group_with_scribbles(image, scribbles, components, radius, eps, lambda_):
    """Minimise ``a' L a + lambda (a - s)' D_S (a - s)`` over ``a = Phi b`` (the soft
    constraint cost of closed-form matting restricted to sums of components)."""
    flat = components.reshape(-1, components.shape[2])
    laplacian = matting_laplacian(image, radius=radius, eps=eps)
    scribbled = (scribbles != UNKNOWN).ravel()
    on_scribbles = flat[scribbled]
    values = scribbles.ravel()[scribbled]
    quadratic = flat.T @ (laplacian @ flat) + lambda_ * on_scribbles.T @ on_scribbles
    linear = -lambda_ * on_scribbles.T @ values
    grouping, cost = _best_grouping(quadratic, linear, np.full(flat.shape[1], -1.0))
    alpha = np.clip((flat @ grouping).reshape(scribbles.shape), 0.0, 1.0)
    alpha[scribbles != UNKNOWN] = scribbles[scribbles != UNKNOWN]
    return alpha, grouping, cost + lambda_ * float(values @ values)


def _unsupervised_candidates(image, components, radius, eps, n_candidates):
    """All groupings but the empty and the full one, ranked by matting cost ``b' Phi' L Phi b``.

    A grouping and its complement have the same cost (constants cost nothing), so one of
    each pair is enumerated and then oriented so that the matte covers less of the image
    border (objects tend to lie inside the frame; the paper leaves the choice to the user).
    """
    count = components.shape[2]
    if count - 1 > _MAX_EXHAUSTIVE + 4:
        raise ValueError(
            f"the unsupervised mode enumerates 2^(K-1) groupings; K = {count} components is "
            "too many (use n_components <= 21)"
        )
    flat = components.reshape(-1, count)
    laplacian = matting_laplacian(image, radius=radius, eps=eps)
    quadratic = flat.T @ (laplacian @ flat)
    # The last component is left out of every grouping: the complement covers the rest.
    groupings = _all_binary(count - 1)[1:]
    groupings = np.column_stack([groupings, np.zeros(len(groupings))])
    costs = _quadratic_costs(groupings, quadratic, np.zeros(count))
    order = np.argsort(costs, kind="stable")[:n_candidates]
    groupings, costs = groupings[order].astype(bool), costs[order]
    border = np.zeros(components.shape[:2], dtype=bool)
    border[[0, -1], :] = border[:, [0, -1]] = True
    border_share = components[border].mean(axis=0)  # each component's share of the border
    for row in groupings:
        if border_share[row].sum() > 0.5:
            row[:] = ~row
    mattes = np.stack([np.clip(components @ row, 0.0, 1.0) for row in groupings])
    return mattes, costs, groupings


def _check_components(components, shape) -> np.ndarray:
    array = np.asarray(components)
    if array.ndim != 3 or array.shape[:2] != tuple(shape) or array.shape[2] < 2:
        raise ValueError(
            f"components has shape {array.shape}; expected {tuple(shape)} + (K,) with K >= 2, "
            "as spectral_components returns"
        )
    if array.dtype.kind not in "fiu" or not np.all(np.isfinite(array)):
        raise ValueError("components must be a finite numeric array")
    return np.ascontiguousarray(array, dtype=np.float64)


def spectral(
    image,
    trimap=None,
    *,
    scribbles=None,
    n_eigenvectors: int = 50,
    n_components: int = 10,
    sparsity: float = 0.9,
    n_iterations: int = 20,
    downscale: float | str = "auto",
    radius: int = 1,
    eps: float = 1e-7,
    lambda_: float = 100.0,
    n_candidates: int = 5,
    components=None,
    solver: str = "auto",
    rtol: float = 1e-6,
    maxiter: int | None = None,
    seed: int = 0,
    return_foreground: bool = False,
    return_info: bool = False,
):
    """Spectral matting: a foreground matte as a sum of matting components.

    The image is decomposed into matting components (:func:`spectral_components`), and the
    matte is ``alpha = sum_k b_k a^k`` for the binary vector ``b`` minimising the matting cost
    ``alpha' L alpha`` under the user's constraints ([1]_, Sec. 5-6). Three modes:

    - ``trimap``: known pixels keep their values; ``b`` minimises the closed-form cost of the
      resulting alpha with the known pixels fixed.
    - ``scribbles``: ``b`` minimises ``alpha' L alpha + lambda (alpha - s)' D_S (alpha - s)``,
      the soft-constraint cost of closed-form matting.
    - neither (the paper's unsupervised mode): every grouping is ranked by ``b' Phi' L Phi b``
      and the ``n_candidates`` of lowest cost are returned.

    Parameters
    ----------
    image : array_like, HxW, HxWx3 or HxWx4
        ``uint8``, ``uint16`` or float in [0, 1].
    trimap : array_like, HxW, optional
        0 background, 1 foreground (255 for uint8), anything between unknown.
    scribbles : array_like, HxW, optional
        Sparse constraints in the trimap encoding. Give at most one of ``trimap`` and
        ``scribbles``.
    n_eigenvectors, n_components, sparsity, n_iterations, downscale, seed
        See :func:`spectral_components` (paper: 50-70 eigenvectors, 10-20 components,
        sparsity 0.9).
    radius, eps : int, float
        Matting Laplacian window radius and regulariser. Paper: 1 and 1e-7.
    lambda_ : float
        Weight of the scribble constraints (as closed-form matting's code: 100).
    n_candidates : int
        Number of mattes returned in the unsupervised mode.
    components : array_like, HxWxK, optional
        Components from :func:`spectral_components` (or a previous call's
        ``info.components``), to group again without recomputing them; the component
        options are then ignored.
    solver, rtol, maxiter
        Eigensolver options, see :func:`spectral_components`.
    return_foreground : bool
        Also return the foreground and background colours estimated from alpha with
        :func:`matting.estimate_foreground` (trimap and scribble modes).
    return_info : bool
        Also return a :class:`SpectralInfo` with the components, the chosen grouping(s) and
        their costs, as the last element.

    Returns
    -------
    With a trimap or scribbles:

    alpha : ndarray, float64 HxW in [0, 1]
        Exactly 0 and 1 on the known (or scribbled) pixels.
    foreground, background : ndarray, float64 HxWx3
        Only with ``return_foreground=True``.
    info : SpectralInfo
        Only with ``return_info=True``.

    Without constraints:

    mattes : ndarray, float64 (n, H, W)
        The ``n <= n_candidates`` candidate mattes, lowest cost first, each oriented so that
        it covers less of the image border than its complement.
    costs : ndarray, float64 (n,)
        Their matting costs, ascending.
    info : SpectralInfo
        Only with ``return_info=True``.

    Raises
    ------
    ValueError
        For bad inputs or options (see :func:`spectral_components`), both ``trimap`` and
        ``scribbles``, ``return_foreground`` without constraints, ``lambda_ <= 0``,
        ``n_candidates < 1`` or ``components`` of the wrong shape.

    Notes
    -----
    With a trimap, as in the paper, a component with more than half of its mass in the known
    foreground (background) is assigned to it; the others are chosen by exhaustive search
    over their ``2^m`` groupings (milliseconds for ``m <= 16``). If more than 16 remain, the
    continuous minimiser is rounded and improved by single flips (not guaranteed optimal).
    With scribbles and in the unsupervised mode all groupings are searched.

    The unsupervised ranking is the paper's bare matting cost, which grows with the length
    and softness of a matte's boundary: on cluttered photographs the cheapest candidates are
    often small pieces (a corner, a thin arc) rather than the object. Looking at the
    components (:func:`plot_components`) or adding a few scribbles is then the way.

    The matte can only be a sum of components, so it inherits their limits: a soft
    transition that no component captures (for instance lost by ``downscale``) cannot be
    recovered. Error and time against :func:`matting.closed_form` are measured in
    benchmarks/spectral.py.

    References
    ----------
    .. [1] A. Levin, A. Rav-Acha, D. Lischinski, "Spectral Matting", IEEE TPAMI 30(10),
       pp. 1699-1712, 2008 (CVPR 2007).

    Examples
    --------
    >>> import matting
    >>> from matting.methods.spectral import spectral
    >>> image, trimap, true_alpha = matting.datasets.load_sample()
    >>> alpha = spectral(image[::2, ::2], trimap[::2, ::2])
    >>> alpha.shape
    (150, 200)
    """
    check_switches(return_foreground=return_foreground, return_info=return_info)
    if trimap is not None and scribbles is not None:
        raise ValueError("give at most one of trimap= (hard) and scribbles= (soft constraints)")
    lambda_ = as_finite(lambda_, "lambda_")
    n_candidates = as_integer(n_candidates, "n_candidates", 1)
    unsupervised = trimap is None and scribbles is None
    if unsupervised and return_foreground:
        raise ValueError("return_foreground needs a trimap or scribbles")
    image = as_image(image)
    name = "trimap" if trimap is not None else "scribbles"
    constraints = None
    if not unsupervised:
        constraints = as_trimap(
            trimap if trimap is not None else scribbles,
            image.shape[:2],
            name=name,
        )

    if components is None:
        _, components, info = _components_with_info(
            image,
            n_eigenvectors=n_eigenvectors,
            n_components=n_components,
            sparsity=sparsity,
            n_iterations=n_iterations,
            downscale=downscale,
            radius=radius,
            eps=eps,
            solver=solver,
            rtol=rtol,
            maxiter=maxiter,
            seed=seed,
        )
    else:
        components = _check_components(components, image.shape[:2])
        info = SpectralInfo(np.zeros(0), 1.0, "given", 0, {})

    start = time.perf_counter()
    if unsupervised:
        mattes, costs, groupings = _unsupervised_candidates(
            image, components, radius, eps, n_candidates
        )
        outputs = [mattes, costs]
    else:
        if trimap is not None:
            alpha, groupings, costs = _group_with_trimap(
                image, constraints, components, radius, eps
            )
        else:
            alpha, groupings, costs = _group_with_scribbles(
                image, constraints, components, radius, eps, float(lambda_)
            )
        outputs = [alpha]
        if return_foreground:
            from ..foreground import estimate_foreground

            outputs.extend(estimate_foreground(image, alpha))
    info.seconds["grouping"] = time.perf_counter() - start
    if return_info:
        outputs.append(
            SpectralInfo(
                info.eigenvalues,
                info.downscale,
                info.eigen_solver,
                info.n_dropped,
                info.seconds,
                components,
                np.asarray(groupings),
                np.atleast_1d(np.asarray(costs, dtype=np.float64)),
            )
        )
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


# --------------------------------------------------------------------------------------------
# Plot
# --------------------------------------------------------------------------------------------
