"""Large-kernel matting (He, Sun, Tang, CVPR 2010)."""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._inputs import UNKNOWN, image_and_trimap
from ..laplacian.large_kernel import (
    DEFAULT_RADIUS,
    _check_eps,
    _check_radius,
    large_kernel_laplacian,
)
from ..linalg import JacobiPreconditioner, cg
from ..trimap import unknown_bounding_box

__all__ = ["large_kernel"]

#: Solvers a matrix-free system allows: preconditioners that need the matrix (incomplete
#: Cholesky, AMG, multigrid on the matrix) cannot be built without forming it.
SOLVERS = ("auto", "jacobi", "cg")


def _unknown_system(laplacian, trimap_crop: np.ndarray):
    """``L_UU`` as an operator, ``b = -L_UK a_K`` and ``diag(L_UU)`` for the crop's unknowns."""
    flat = trimap_crop.ravel()
    unknown = np.flatnonzero(flat == UNKNOWN)
    known_values = np.where(flat == UNKNOWN, 0.0, flat)
    right_hand_side = -(laplacian @ known_values)[unknown]
    embedded = np.zeros(flat.size)

    def matvec(x):
        # L_UU x: put x on the unknown pixels, zeros elsewhere, and read the unknown rows.
        embedded[unknown] = np.ravel(x)
        return (laplacian @ embedded)[unknown]

    system = LinearOperator(
        (unknown.size, unknown.size), matvec=matvec, rmatvec=matvec, dtype=np.float64
    )
    return system, right_hand_side, laplacian.diagonal()[unknown], unknown


def large_kernel(
    image,
    trimap,
    *,
    radius: int = DEFAULT_RADIUS,
    eps: float = 1e-7,
    solver: str = "auto",
    rtol: float = 1e-7,
    maxiter: int | None = None,
    return_foreground: bool = False,
    return_info: bool = False,
):
    """Large-kernel matting: closed-form matting with large windows, solved matrix-free.

    He et al. [1]_ keep Levin et al.'s local linear colour model (alpha is an affine function
    of colour in every window) but with windows of radius ``r`` far beyond the 3x3 of
    closed-form matting. The Laplacian is never formed: its product with a vector is a few
    box filters (:func:`matting.laplacian.large_kernel_laplacian`), so each conjugate-gradient
    iteration costs O(N) whatever the radius, and larger windows propagate information
    further per iteration, so fewer iterations are needed.

    Parameters
    ----------
    image : array_like, HxW, HxWx3 or HxWx4
        ``uint8``, ``uint16`` or float in [0, 1].
    trimap : array_like, HxW
        0 background, 1 foreground (255 for uint8), anything between unknown.
    radius : int
        Window radius r; windows are (2r+1) x (2r+1). Default 10 (see Notes). The image must
        be at least 2r+1 pixels in each direction.
    eps : float
        Regulariser epsilon of the colour covariance, as in closed-form matting (1e-7).
    solver : {"auto", "jacobi", "cg"}
        ``"jacobi"``: conjugate gradients with the Laplacian's diagonal (computed with box
        filters) as preconditioner; ``"cg"``: without preconditioner. ``"auto"`` is
        ``"jacobi"``. Preconditioners that need the matrix itself are not available.
    rtol : float
        Relative residual at which conjugate gradients stop.
    maxiter : int, optional
        Iteration limit; a :class:`matting.linalg.ConvergenceWarning` is issued if reached.
        Default ``min(10 n, 10000)`` for n unknowns.
    return_foreground : bool
        Also return the foreground and background colours, estimated from ``alpha`` with
        :func:`matting.estimate_foreground`.
    return_info : bool
        Also return the solver's :class:`matting.linalg.SolveInfo` (None when the trimap had
        no unknown pixel), as the last element.

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
        For bad images or trimaps, a ``radius`` that is not a positive integer or too large
        for the image, ``eps <= 0``, an unknown solver or bad solver options.

    Notes
    -----
    The paper minimises ``a^T L a`` with the trimap as constraints, solved by conjugate
    gradients with the matrix-free product (its eqs. 8-10). Deviations, and why:

    - The paper picks the radius per region from the width of the unknown band (after a
      KD-tree segmentation of the trimap, ``r`` about a third of a segment's band width) and
      solves the segments in turn; here one radius serves the whole image (default 10,
      within the range of the paper's experiments and the usual global choice), and one
      system is solved for all unknown pixels. The adaptive scheme is a speed-up; its
      fixed point is not the same matte.
    - Known pixels are hard constraints (only the unknowns are solved, ``L_UU a_U = -L_UK
      a_K``) rather than the soft ``lambda`` penalty: the answer is exactly 0/1 on known
      pixels and the system has only the unknowns.
    - Only the pixels within ``2r`` of the unknown region are processed (the windows
      touching an unknown pixel cover no others), so time and memory follow that region's
      bounding box, not the whole image.

    Windows count only when they lie fully inside the image, as in
    :func:`matting.laplacian.matting_laplacian`: with ``radius=1`` this method solves the
    same system as :func:`matting.closed_form`.

    References
    ----------
    .. [1] K. He, J. Sun, X. Tang, "Fast Matting Using Large Kernel Matting Laplacian
       Matrices", CVPR 2010.
    .. [2] A. Levin, D. Lischinski, Y. Weiss, "A Closed-Form Solution to Natural Image
       Matting", IEEE TPAMI 30(2), 2008.

    Examples
    --------
    >>> import matting
    >>> from matting.methods.large_kernel import large_kernel
    >>> image, trimap, true_alpha = matting.datasets.load_sample()
    >>> alpha = large_kernel(image, trimap)
    >>> alpha.shape == trimap.shape
    True
    """
    image, trimap = image_and_trimap(image, trimap)
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError(
            f"solver must be one of {', '.join(map(repr, SOLVERS))} for this matrix-free "
            f"method; got {solver!r}"
        )
    radius, eps = _check_radius(radius), _check_eps(eps)
    height, width = trimap.shape
    if min(height, width) < 2 * radius + 1:
        raise ValueError(
            f"image is {height}x{width} but a window of radius {radius} needs at least "
            f"{2 * radius + 1}x{2 * radius + 1} pixels"
        )
    box = unknown_bounding_box(trimap, margin=2 * radius)
    if box is None:
        alpha, info = trimap.copy(), None
    else:
        laplacian = large_kernel_laplacian(image[box], radius=radius, eps=eps)
        system, right_hand_side, diagonal, unknown = _unknown_system(laplacian, trimap[box])
        preconditioner = None
        if solver in ("auto", "jacobi"):
            preconditioner = JacobiPreconditioner(1.0 / np.maximum(diagonal, 1e-300))
        solution, info = cg(
            system,
            right_hand_side,
            M=preconditioner,
            rtol=rtol,
            maxiter=maxiter,
            return_info=True,
        )
        alpha = trimap.copy()
        rows, cols = np.divmod(unknown, trimap[box].shape[1])
        alpha[box][rows, cols] = np.clip(solution, 0.0, 1.0)  # alpha[box] is a view
    outputs = [alpha]
    if return_foreground:
        from ..foreground import estimate_foreground

        outputs.extend(estimate_foreground(image, alpha))
    if return_info:
        outputs.append(info)
    return outputs[0] if len(outputs) == 1 else tuple(outputs)
