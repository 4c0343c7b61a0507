"""KNN matting (Chen, Li, Tang, CVPR 2012 / TPAMI 2013)."""

from __future__ import annotations

from .._inputs import UNKNOWN, as_finite, check_switches, image_and_trimap
from ..laplacian.knn import knn_laplacian
from ..linalg.constraints import WEIGHT_LIMIT, solve_hard_constraints, solve_soft_constraints

__all__ = ["knn"]

#: The solver ``solver="auto"`` runs for each kind of constraints (see the Notes of :func:`knn`).
AUTO_SOLVER = {"soft": "ichol", "hard": "amg"}


def knn(
    image,
    trimap,
    *,
    n_neighbors: int = 10,
    features: str = "hsv",
    spatial_weight: float = 1.0,
    lambda_: float = 100.0,
    constraints: str = "soft",
    solver: str = "auto",
    rtol: float = 1e-7,
    maxiter: int | None = None,
    return_info: bool = False,
):
    """KNN matting: alpha is smooth along the K nearest neighbours of each pixel in a space of
    colour and position, so pixels of similar colour get similar alpha however far apart.

    Parameters
    ----------
    image : array_like, HxW, HxWx3 or HxWx4
        ``uint8``, ``uint16`` or float in [0, 1].
    trimap : array_like, HxW
        0 background, 1 foreground (255 for uint8), anything between unknown. Sparse
        scribbles work too (the paper's soft constraints are made for them).
    n_neighbors : int
        K, neighbours per pixel, not counting the pixel itself. Paper: 10.
    features : {"hsv", "rgb"}
        Feature vector X(i): ``"hsv"`` is the paper's (cos h, sin h, s, v, x, y), ``"rgb"``
        the authors' code's (r, g, b, x, y). See :func:`matting.laplacian.knn_features`.
    spatial_weight : float
        Weight of the pixel position (row and column over the image diagonal), ``level`` in
        the authors' code (1 in its demo). Smaller values make the affinity more non-local.
    lambda_ : float
        Weight lambda of the soft constraints. Paper: 100.
    constraints : {"soft", "hard"}
        ``"soft"`` (the paper): solve ``(L + lambda D_m) alpha = lambda m`` over all pixels,
        with ``D_m`` the diagonal indicator of known pixels and ``m`` their values.
        ``"hard"``: keep known pixels fixed and solve only for the unknown ones (Levin et
        al.'s formulation; ``lambda_`` is not used).
    solver : str
        Linear solver (see :func:`matting.linalg.solve`); "auto" runs the one measured
        fastest on these systems (see Notes).
    rtol : float
        Relative residual at which the iterative solver stops.
    maxiter : int, optional
        Iteration limit of the iterative solver; a warning is issued if it is reached.
    return_info : bool
        Also return the solver's :class:`matting.linalg.SolveInfo` (None when nothing had to
        be solved), as the last element.

    Returns
    -------
    alpha : ndarray, float64 HxW in [0, 1]
        Exactly 0 and 1 on the trimap's known pixels.
    info : SolveInfo
        Only with ``return_info=True``.

    Raises
    ------
    ValueError
        For bad images or trimaps, ``n_neighbors`` outside ``1 .. H*W - 1``, an unknown
        ``features`` or ``constraints`` name, ``lambda_ <= 0`` or a bad solver option.

    Warns
    -----
    matting.linalg.IsolatedPixelsWarning
        When the KNN graph links some unknown pixels to no known pixel (a colour found
        nowhere else): nothing determines their alpha, and they are set to 0.

    Notes
    -----
    The Laplacian is :func:`matting.laplacian.knn_laplacian` (kernel ``1 - ||X(i) - X(j)||_1
    / C`` with C the number of feature dimensions, as the authors' code, and ``A = (W +
    W^T) / 2``). With soft constraints the solution only approaches the known values; after
    solving, the result is clipped to [0, 1] and the known pixels are set to their trimap
    values, as every method of this library returns them.

    Deviations from the paper and the authors' code: the pixel itself does not count among
    its K neighbours (the authors' KD-tree query returns it first, leaving K - 1 others), the
    neighbour search is exact rather than approximate (VLFeat with a bounded number of
    comparisons), there is no second, weakly spatial, 2-neighbour pass (in the authors' code,
    not in the paper), pixel positions get no random jitter (ties are broken
    deterministically by :func:`matting.neighbors.knn_query`), and the affinity is the
    paper's ``(W + W^T) / 2`` where the code uses ``W + W^T`` (twice the Laplacian, which
    amounts to halving lambda).

    ``solver="auto"`` runs incomplete-Cholesky PCG for soft constraints and algebraic
    multigrid (smoothed aggregation) PCG for hard ones, measured fastest on these systems.
    On four ~0.3 MP photographs (2 cores, rtol 1e-7; solver setup plus iterations), soft
    constraints over all ~300k pixels took 0.27-0.82 s with ichol (factored on the unknown
    pixels only, Jacobi on the known ones that lambda pins: see
    :func:`matting.linalg.solve_soft_constraints`; 0.4-1.1 s factoring every row),
    1.3-2.1 s with AMG (its setup alone 0.9-1.6 s) and 3-11 s with geometric multigrid (the
    KNN graph is not a grid); hard constraints over the 31k-74k unknowns took 0.12-0.36 s
    with AMG, 0.07-0.42 s with ichol and 0.17-0.53 s with the direct solver. Soft and hard
    constraints gave errors to ground truth within 0.5% of each other. Building the
    Laplacian (mostly the neighbour search, 0.45-0.6 s) takes about 0.55-0.7 s of the
    total at that size.

    References
    ----------
    .. [1] Q. Chen, D. Li, C.-K. Tang, "KNN Matting", CVPR 2012; IEEE TPAMI 35(9), 2013.

    Examples
    --------
    >>> import matting
    >>> from matting import knn
    >>> image, trimap, true_alpha = matting.datasets.load_sample()
    >>> alpha = knn(image, trimap)
    >>> alpha.shape == trimap.shape
    True
    """
    check_switches(return_info=return_info)
    image, trimap = image_and_trimap(image, trimap)
    lambda_ = as_finite(lambda_, "lambda_", limits=(0.0, WEIGHT_LIMIT))
    if constraints not in ("soft", "hard"):
        raise ValueError(f"constraints must be 'soft' or 'hard', got {constraints!r}")
    # Built even without unknown pixels, so that bad options are always reported. Kept in a
    # list that the solve empties (laplacian.pop), so that the solve owns the only reference.
    laplacian = [
        knn_laplacian(
            image, n_neighbors=n_neighbors, features=features, spatial_weight=spatial_weight
        )
    ]
    unknown = trimap == UNKNOWN
    if not unknown.any():
        alpha, info = trimap.copy(), None
    else:
        options = {
            "solver": AUTO_SOLVER[constraints] if solver == "auto" else solver,
            "rtol": rtol,
            "maxiter": maxiter,
            "return_info": True,
        }
        if constraints == "soft":
            alpha, info = solve_soft_constraints(
                laplacian.pop, trimap, lambda_, overwrite_laplacian=True, **options
            )
        else:
            alpha, info = solve_hard_constraints(laplacian.pop, trimap, **options)
        # Soft constraints leave known pixels near, not at, their values.
        alpha[~unknown] = trimap[~unknown]
    return (alpha, info) if return_info else alpha
