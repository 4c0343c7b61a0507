"""Information-flow matting (Aksoy, Aydin, Pollefeys, CVPR 2017)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from scipy import ndimage

from .._inputs import (
    UNKNOWN,
    as_finite,
    as_image,
    as_integer,
    as_trimap,
    check_switches,
    image_and_trimap,
)
from ..laplacian.information_flow import (
    _neighbours_among,
    information_flow_laplacian,
    known_to_unknown_prior,
)
from ..linalg.constraints import WEIGHT_LIMIT, solve_on_support
from ._outputs import method_outputs

__all__ = ["information_flow", "trim_from_edges", "trim_from_patches"]

#: The solver ``solver="auto"`` runs (see the Notes of :func:`information_flow`).
AUTO_SOLVER = "jacobi"

#: Histogram reconstruction error above which the expected matte is taken to be highly
#: transparent and the K-to-U flow is left out (authors' code: 0.0099).
TRANSPARENCY_THRESHOLD = 0.0099

#: Regulariser added to the diagonal of each window's colour covariance in patch-based
#: trimming, so that flat windows have a finite Bhattacharyya distance (authors' code: 1e-8).
PATCH_COVARIANCE_REGULARISER = 1e-8


def _histogram10(values: np.ndarray) -> np.ndarray:
    # Counts in 10 bins centred on 0, 1/9, ..., 1 (each 1/9 wide, the outer ones half inside
    # [0, 1]), as MATLAB's imhist(values, 10) bins floating-point values in the authors' code.
    bins = np.floor(np.asarray(values, dtype=np.float64) * 9.0 + 0.5).astype(np.int64)
    return np.bincount(np.clip(bins, 0, 9), minlength=10)


def looks_highly_transparent(image: np.ndarray, trimap: np.ndarray) -> bool:
    """The paper's choice between its two energies (with and without the K-to-U flow).

    The colour histograms (10 bins per channel, centred on 0, 1/9, ..., 1 as MATLAB's
    ``imhist`` in the authors' code) of the unknown region are fitted, by least
    squares, as a mix of those of the foreground and background near it (within a 20 x 20
    box). In an opaque object's boundary the unknown pixels are mostly either foreground or
    background and the fit is good; when it is poor the unknown region holds colours of
    neither (a highly transparent object seen over its background), and the K-to-U flow,
    which mixes known colours, would mislead.

    Parameters
    ----------
    image : ndarray, float64 HxWx3
    trimap : ndarray, float64 HxW, normalised (0, 0.5, 1)
    """
    unknown = trimap == UNKNOWN
    near = ndimage.maximum_filter(unknown, size=20, mode="constant", cval=False)
    regions = (trimap == 1.0) & near, (trimap == 0.0) & near, unknown
    histograms = []
    for region in regions:
        pixels = image[region]
        if pixels.shape[0] == 0:
            return False
        counts = [_histogram10(pixels[:, c]) for c in range(3)]
        histograms.append(np.concatenate(counts) / pixels.shape[0])
    basis = np.column_stack(histograms[:2])
    mix, *_ = np.linalg.lstsq(basis, histograms[2], rcond=None)
    residual = basis @ mix - histograms[2]
    return bool(np.sqrt(residual @ residual) / residual.size > TRANSPARENCY_THRESHOLD)


def information_flow(
    image,
    trimap,
    *,
    k_cm: int = 20,
    k_ku: int = 7,
    k_u: int = 5,
    sigma_cm: float = 1.0,
    sigma_ku: float = 0.05,
    sigma_iu: float = 0.01,
    sigma_l: float = 1.0,
    lambda_: float = 100.0,
    eps: float = 1e-6,
    known_to_unknown="auto",
    trim_edges: bool = True,
    trim_patches: bool = True,
    post_trim: bool = True,
    solver: str = "auto",
    rtol: float = 1e-7,
    maxiter: int | None = None,
    return_foreground: bool = False,
    return_info: bool = False,
):
    """Information-flow matting: alpha agrees with several flows of information between
    pixels: colour mixtures, known-to-unknown mixtures, similar unknown pixels, and the
    local colour-line model.

    Minimises the energy of the paper

    .. math::

        E = \\sigma_{CM} E_{CM} + \\sigma_{KU} E_{KU} + \\sigma_{IU} E_{IU} + \\sigma_L E_L
            + \\lambda E_T

    where :math:`E_T = \\sum_{p \\in K} (\\alpha_p - t_p)^2` pulls the known pixels to the
    trimap and the flows are described in :mod:`matting.laplacian.information_flow`. The
    minimiser solves :math:`(L_{IFM} + \\lambda T + \\sigma_{KU} H) \\alpha = \\lambda T t +
    \\sigma_{KU} H \\hat\\alpha` (``H`` the diagonal of K-to-U confidences), with the
    library's preconditioned conjugate gradients.

    Parameters
    ----------
    image : array_like, HxW, HxWx3 or HxWx4
        ``uint8``, ``uint16`` or float in [0, 1].
    trimap : array_like, HxW
        0 background, 1 foreground (255 for uint8), anything between unknown.
    k_cm, k_ku, k_u : int
        Neighbour counts of the colour-mixture (:math:`K_{CM}` = 20), K-to-U
        (:math:`K_{KU}` = 7 in each of foreground and background) and intra-U
        (:math:`K_U` = 5) flows. Paper values.
    sigma_cm, sigma_ku, sigma_iu, sigma_l : float
        Flow weights. Paper: 1, 0.05, 0.01, 1 (``sigma_l`` weighs the normalised local
        flow, the matting Laplacian over 9; see Notes).
    lambda_ : float
        Weight of the trimap term. Paper: 100.
    eps : float
        Regulariser of the local flow's matting Laplacian (authors' code: 1e-6).
    known_to_unknown : {"auto", True, False}
        Whether to use the K-to-U flow. ``"auto"`` (the paper) leaves it out when the
        unknown region looks highly transparent (:func:`looks_highly_transparent`).
    trim_edges : bool
        Give unknown pixels that edge-based trimming labels (:func:`trim_from_edges`) their
        label as K-to-U estimate, with confidence 1 (the paper). Only with the K-to-U flow.
    trim_patches : bool
        Before the K-to-U neighbour search, label the unknown pixels whose 3x3 colour
        statistics match one side's and clearly not the other's (patch-based trimming,
        :func:`trim_from_patches`), as the paper and the authors' code do: they become
        foreground or background samples of the search, and their K-to-U estimate is their
        label with confidence 1. Only with the K-to-U flow; the final matte is not set to
        these labels.
    post_trim : bool
        Set the final alpha of the edge-trimmed pixels to their label (the paper).
    solver : str
        Linear solver (see :func:`matting.linalg.solve`); "auto" runs the one measured
        fastest on these systems (see Notes).
    rtol : float
        Relative residual at which the iterative solver stops.
    maxiter : int, optional
        Iteration limit of the iterative solver; a warning is issued if it is reached.
    return_foreground : bool
        Also return the foreground and background colours, estimated from ``alpha`` with
        :func:`matting.estimate_foreground` (not the paper's multi-channel layer colour
        extension).
    return_info : bool
        Also return the solver's :class:`matting.linalg.SolveInfo` (None when nothing had to
        be solved), as the last element.

    Returns
    -------
    alpha : ndarray, float64 HxW in [0, 1]
        Exactly 0 and 1 on the trimap's known pixels.
    foreground, background : ndarray, float64 HxWx3
        Only with ``return_foreground=True``.
    info : SolveInfo
        Only with ``return_info=True``.

    Raises
    ------
    ValueError
        For bad images or trimaps, neighbour counts that are not positive integers, negative
        or non-finite weights, ``lambda_ <= 0``, a bad ``known_to_unknown`` or solver option.

    Notes
    -----
    Only pixels the flows reach enter the linear system: a known pixel coupled to nothing has
    the equation :math:`\\lambda \\alpha_p = \\lambda t_p` and keeps its value exactly, so the
    solution is the paper's over the whole image. After solving, alpha is clipped to [0, 1]
    and the known pixels are set to their trimap values.

    ``solver="auto"`` runs Jacobi-preconditioned CG: the colour-mixture term makes the
    system much denser than a grid Laplacian (about 100 entries per row), so incomplete
    Cholesky's setup costs more than its fewer iterations save. On four ~0.3 MP photographs
    (31k-74k unknowns, 2 busy cores, rtol 1e-7) the whole method took 3.4-11.1 s with Jacobi
    against 6.3-9.0 s with ichol (23.7 s against 30.3 s over the four), with less memory.

    Deviations from the paper and the authors' code, and why:

    - Both trimap trimming steps are used as in the paper and the authors' code:
      patch-based trimming (:func:`trim_from_patches`) before the K-to-U neighbour search,
      and edge-based trimming (Shahrian et al. 2013, nine passes of label expansion,
      :func:`trim_from_edges`) whose pixels get their label as the K-to-U estimate with
      confidence 1 (``trim_edges``) and in the final matte (``post_trim``; the paper
      reports it on, the authors' public code leaves it off by default).
    - The local flow is Levin et al.'s matting Laplacian divided by the window size 9
      (its ``eps`` is the authors' code's 1e-6). The authors' code symmetrises the window
      affinities and divides each row by its sum, 2 x 9 for a pixel in 9 windows, which
      gives that same matrix on every unknown pixel at least two pixels from the image
      border; its row-normalised matrix is not symmetric (rows of known pixels next to the
      region and of pixels near the border differ), which conjugate gradients is not meant
      for, so the symmetric ninth is used. (Earlier versions used the whole matting
      Laplacian, a local flow 9 times the authors'; see docs/information_flow.md.)
    - The intra-U flow uses the paper's single search of :math:`K_U` neighbours; the
      authors' code adds one more, nearly position-free neighbour (a habit of KNN
      matting's code).
    - The transparency test uses the R, G and B histograms; the authors' code uses R and
      B twice (an apparent typo), with the same threshold 0.0099 and the same bins (those
      of MATLAB's ``imhist``, centred on 0, 1/9, ..., 1). On our four benchmark images
      either choice of channels takes the same decisions.
    - Edge-based trimming breaks ties between equally near known pixels in column-major
      order, as the authors' MATLAB code does (no pixel of the four benchmark images is
      affected).

    References
    ----------
    .. [1] Y. Aksoy, T. O. Aydin and M. Pollefeys, "Designing Effective Inter-Pixel
       Information Flow for Natural Image Matting", CVPR 2017.
    .. [2] S. T. Roweis and L. K. Saul, "Nonlinear Dimensionality Reduction by Locally
       Linear Embedding", Science 290, 2000.
    .. [3] E. Shahrian, D. Rajan, B. Price and S. Cohen, "Improving Image Matting using
       Comprehensive Sampling Sets", CVPR 2013 (edge-based trimming).

    Examples
    --------
    >>> import matting
    >>> from matting.methods.information_flow import information_flow
    >>> image, trimap, true_alpha = matting.datasets.load_sample()
    >>> alpha = information_flow(image, trimap)
    >>> alpha.shape == trimap.shape
    True
    """
    check_switches(
        trim_edges=trim_edges,
        trim_patches=trim_patches,
        post_trim=post_trim,
        return_foreground=return_foreground,
        return_info=return_info,
    )
    image, trimap = image_and_trimap(image, trimap)
    lambda_ = as_finite(lambda_, "lambda_", positive=False, limits=(0.0, WEIGHT_LIMIT))
    if lambda_ == 0:
        raise ValueError("lambda_ must be > 0, got 0")
    sigma_ku = as_finite(sigma_ku, "sigma_ku", positive=False)
    is_auto = isinstance(known_to_unknown, str) and known_to_unknown == "auto"
    if not (is_auto or isinstance(known_to_unknown, (bool, np.bool_))):
        raise ValueError(
            f"known_to_unknown must be 'auto', True or False, got {known_to_unknown!r}"
        )
    unknown = trimap == UNKNOWN
    # Built first, even without unknown pixels, so that bad options are reported before any
    # other work. Kept in a list that the solve empties (laplacian.pop), so that the solve
    # holds the only reference and frees the matrix once its system is split from it.
    laplacian = [
        information_flow_laplacian(
            image,
            trimap,
            k_cm=k_cm,
            k_u=k_u,
            sigma_cm=sigma_cm,
            sigma_iu=sigma_iu,
            sigma_l=sigma_l,
            eps=eps,
        )
    ]
    if is_auto:
        use_ku = bool(unknown.any()) and not looks_highly_transparent(image, trimap)
    else:
        use_ku = bool(known_to_unknown)
    use_ku = use_ku and sigma_ku > 0
    # Unknown pixels whose colour matches a nearby known pixel's, labelled like it.
    need_trimming = unknown.any() and (post_trim or (use_ku and trim_edges))
    trimmed = trim_from_edges(image, trimap) if need_trimming else trimap
    trimmed_known = unknown & (trimmed != UNKNOWN)
    if use_ku:
        search_trimap = trim_from_patches(image, trimap) if trim_patches else trimap
        alpha_hat, confidence = known_to_unknown_prior(image, search_trimap, k_ku=k_ku)
        patch_known = unknown & (search_trimap != UNKNOWN)
        alpha_hat[patch_known] = search_trimap[patch_known]
        confidence[patch_known] = 1.0
        if trim_edges:
            # As in the authors' code: trimmed pixels get their label as the K-to-U
            # estimate, with full confidence.
            alpha_hat[trimmed_known] = trimmed[trimmed_known]
            confidence[trimmed_known] = 1.0
    else:
        alpha_hat, confidence = trimap, np.zeros(trimap.shape)
    if not unknown.any():
        alpha, info = trimap.copy(), None
    else:
        # (L + lambda T + sigma_KU H) a = lambda T t + sigma_KU H a_hat
        known = (trimap != UNKNOWN).astype(np.float64)
        prior_weight = sigma_ku * confidence
        alpha, info = solve_on_support(
            laplacian.pop,
            trimap,
            (lambda_ * known + prior_weight).ravel(),
            (lambda_ * known * trimap + prior_weight * alpha_hat).ravel(),
            # The K-to-U estimate (or the trimap without it) is a fair first guess: about
            # 20% fewer iterations with it than from zero.
            x0=np.clip(alpha_hat, 0.0, 1.0).ravel(),
            solver=AUTO_SOLVER if solver == "auto" else solver,
            rtol=rtol,
            maxiter=maxiter,
            return_info=True,
        )
    if post_trim:
        alpha[trimmed_known] = trimmed[trimmed_known]
    alpha[~unknown] = trimap[~unknown]
    return method_outputs(
        image, alpha, info, return_foreground=return_foreground, return_info=return_info
    )


@njit(cache=True, parallel=True, nogil=True)
def _expand_labels(image, trimap, radius, threshold):  # pragma: no cover - compiled
    # One pass of label expansion: an unknown pixel takes the label of the nearest known pixel
    # (Euclidean distance) within `radius` (square window) whose colour is closer than
    # `threshold`; all pixels read the trimap as it was before the pass. Among equally near
    # pixels the first in column-major order wins (column by column, top to bottom), as
    # MATLAB's min over the window's pixels does in the authors' code.
    height, width = trimap.shape
    result = trimap.copy()
    for y in prange(height):
        for x in range(width):
            if trimap[y, x] != 0.5:
                continue
            best = np.inf
            for u in range(max(x - radius, 0), min(x + radius + 1, width)):
                for v in range(max(y - radius, 0), min(y + radius + 1, height)):
                    label = trimap[v, u]
                    if label == 0.5:
                        continue
                    d0 = image[v, u, 0] - image[y, x, 0]
                    d1 = image[v, u, 1] - image[y, x, 1]
                    d2 = image[v, u, 2] - image[y, x, 2]
                    if d0 * d0 + d1 * d1 + d2 * d2 >= threshold * threshold:
                        continue
                    distance = (v - y) * (v - y) + (u - x) * (u - x)
                    if distance < best:
                        best = distance
                        result[y, x] = label
    return result


def trim_from_edges(image: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """Edge-based trimap trimming (Shahrian et al. 2013) with the information-flow authors'
    settings.

    Nine passes of label expansion with growing search radius (1 to 9 pixels, so at most 45
    pixels in all) and colour threshold shrinking from 9/256 to 1/256 (Euclidean RGB
    distance): an unknown pixel whose colour is that close to a known pixel within the
    radius takes the label of the nearest such pixel.

    Parameters
    ----------
    image : array_like, HxW, HxWx3 or HxWx4
        ``uint8``, ``uint16`` or float in [0, 1].
    trimap : array_like, HxW
        0 background, 1 foreground (255 for uint8), anything between unknown.

    Returns
    -------
    ndarray, float64 HxW
        The trimmed trimap, normalised to 0, 0.5 and 1 (a new array).

    Raises
    ------
    ValueError
        For a bad image or trimap (as :func:`information_flow`).
    """
    image = as_image(image)
    trimmed = as_trimap(trimap, image.shape[:2], require_known=False)
    upper, lower, passes = 9.0 / 256.0, 1.0 / 256.0, 9
    for step in range(1, passes + 1):
        threshold = upper - step * (upper - lower) / passes
        trimmed = _expand_labels(image, trimmed, step, threshold)
    return trimmed


@njit(cache=True, nogil=True)
def _window_gaussian(image, y, x, radius, regulariser, mean, covariance):  # pragma: no cover
    # Mean and covariance (plus regulariser * I) of the colours of the (2 radius + 1)^2
    # window centred on (y, x), rows and columns outside the image replicated from the edge
    # (the authors' box filter pads so); returns the covariance's determinant.
    height, width = image.shape[:2]
    mean[:] = 0.0
    covariance[:, :] = 0.0
    for v in range(y - radius, y + radius + 1):
        row = min(max(v, 0), height - 1)
        for u in range(x - radius, x + radius + 1):
            col = min(max(u, 0), width - 1)
            for a in range(3):
                mean[a] += image[row, col, a]
                for b in range(3):
                    covariance[a, b] += image[row, col, a] * image[row, col, b]
    count = (2 * radius + 1) ** 2
    for a in range(3):
        mean[a] /= count
    for a in range(3):
        for b in range(3):
            covariance[a, b] = covariance[a, b] / count - mean[a] * mean[b]
        covariance[a, a] += regulariser
    return _determinant3(covariance)


@njit(cache=True, nogil=True)
def _determinant3(m):  # pragma: no cover - compiled
    return (
        m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1])
        - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
        + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0])
    )


@njit(cache=True, parallel=True, nogil=True)
def _closest_patch_distance(image, queries, neighbours, radius, regulariser):  # pragma: no cover
    # For each query pixel, the smallest Bhattacharyya distance between the Gaussian of its
    # window's colours and that of one of its neighbours' windows:
    #   D = 1/8 d^T S^-1 d + 1/2 ln(det S / sqrt(det S_p det S_q)),  S = (S_p + S_q) / 2.
    width = image.shape[1]
    m, k = neighbours.shape
    closest = np.empty(m)
    for i in prange(m):
        mean_p, covariance_p = np.empty(3), np.empty((3, 3))
        mean_q, covariance_q = np.empty(3), np.empty((3, 3))
        pooled = np.empty((3, 3))
        y, x = divmod(queries[i], width)
        det_p = _window_gaussian(image, y, x, radius, regulariser, mean_p, covariance_p)
        best = np.inf
        for j in range(k):
            v, u = divmod(neighbours[i, j], width)
            det_q = _window_gaussian(image, v, u, radius, regulariser, mean_q, covariance_q)
            for a in range(3):
                for b in range(3):
                    pooled[a, b] = 0.5 * (covariance_p[a, b] + covariance_q[a, b])
            det_pooled = _determinant3(pooled)
            d0 = mean_q[0] - mean_p[0]
            d1 = mean_q[1] - mean_p[1]
            d2 = mean_q[2] - mean_p[2]
            # d^T S^-1 d = d^T adj(S) d / det S (S symmetric positive definite).
            a00 = pooled[1, 1] * pooled[2, 2] - pooled[1, 2] * pooled[1, 2]
            a01 = pooled[0, 2] * pooled[1, 2] - pooled[0, 1] * pooled[2, 2]
            a02 = pooled[0, 1] * pooled[1, 2] - pooled[0, 2] * pooled[1, 1]
            a11 = pooled[0, 0] * pooled[2, 2] - pooled[0, 2] * pooled[0, 2]
            a12 = pooled[0, 1] * pooled[0, 2] - pooled[0, 0] * pooled[1, 2]
            a22 = pooled[0, 0] * pooled[1, 1] - pooled[0, 1] * pooled[0, 1]
            quadratic = (
                a00 * d0 * d0
                + a11 * d1 * d1
                + a22 * d2 * d2
                + 2.0 * (a01 * d0 * d1 + a02 * d0 * d2 + a12 * d1 * d2)
            ) / det_pooled
            distance = 0.125 * quadratic + 0.5 * np.log(det_pooled / np.sqrt(det_p * det_q))
            best = min(best, distance)
        closest[i] = best
    return closest


def trim_from_patches(
    image: np.ndarray,
    trimap: np.ndarray,
    *,
    n_neighbors: int = 5,
    radius: int = 1,
    match_distance: float = 0.25,
    reject_distance: float = 0.9,
) -> np.ndarray:
    """Patch-based trimap trimming of information-flow matting (Aksoy et al. 2017).

    The colours of the (2 ``radius`` + 1)^2 window around each pixel are modelled as a 3-D
    normal distribution (window mean and covariance, plus 1e-8 on the diagonal). For every
    unknown pixel, the ``n_neighbors`` foreground and the ``n_neighbors`` background pixels
    with the nearest window means are found, and the smallest Bhattacharyya distance
    between the pixel's distribution and theirs is taken on each side. An unknown pixel is
    labelled foreground when its foreground distance is below ``match_distance`` and its
    background distance above ``reject_distance``, and background the other way round.

    Parameters
    ----------
    image : array_like, HxW, HxWx3 or HxWx4
        ``uint8``, ``uint16`` or float in [0, 1].
    trimap : array_like, HxW
        0 background, 1 foreground (255 for uint8), anything between unknown.
    n_neighbors : int
        Candidates searched per side (the authors' information-flow code: 5).
    radius : int
        Window radius (authors' code: 1, 3x3 windows).
    match_distance, reject_distance : float
        Distance of a good match, and distance beyond which the other side counts as no
        match (authors' code: 0.25 and 0.9).

    Returns
    -------
    ndarray, float64 HxW
        The trimmed trimap, normalised to 0, 0.5 and 1 (a new array); unknown pixels only
        ever become known.

    Raises
    ------
    ValueError
        For a bad image or trimap, ``n_neighbors`` or ``radius`` not positive integers, or
        distances that are negative or not finite.

    References
    ----------
    .. [1] Y. Aksoy, T. O. Aydin and M. Pollefeys, "Designing Effective Inter-Pixel
       Information Flow for Natural Image Matting", CVPR 2017 (trimap trimming; thresholds
       and window size from the authors' public code, ``patchBasedTrimming.m``).
    """
    image = as_image(image)
    trimap = as_trimap(trimap, image.shape[:2], require_known=False)
    n_neighbors = as_integer(n_neighbors, "n_neighbors")
    radius = as_integer(radius, "radius")
    match_distance = as_finite(match_distance, "match_distance", positive=False)
    reject_distance = as_finite(reject_distance, "reject_distance", positive=False)
    trimmed = trimap.copy()
    flat = trimap.ravel()
    unknown = np.flatnonzero(flat == UNKNOWN)
    sides = [np.flatnonzero(flat == value) for value in (1.0, 0.0)]
    if unknown.size == 0 or min(known.size for known in sides) == 0:
        return trimmed
    size = 2 * radius + 1
    mean_colours = ndimage.uniform_filter(image, size=(size, size, 1), mode="nearest")
    mean_colours = mean_colours.reshape(-1, 3)
    foreground, background = (
        _closest_patch_distance(
            image,
            unknown,
            _neighbours_among(mean_colours, known, unknown, min(n_neighbors, known.size), False),
            radius,
            PATCH_COVARIANCE_REGULARISER,
        )
        for known in sides
    )
    trimmed.ravel()[unknown[(foreground < match_distance) & (background > reject_distance)]] = 1.0
    trimmed.ravel()[unknown[(background < match_distance) & (foreground > reject_distance)]] = 0.0
    return trimmed
