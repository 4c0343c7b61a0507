"""Brute-force reference implementations that the fast code is tested against.

Written for clarity, following the papers' formulas literally; only for tiny inputs.
"""

import numpy as np


def dense_matting_laplacian(image, radius=1, eps=1e-7, window_mask=None):
    """Levin et al. 2008, eq. 12, summed window by window into a dense N x N matrix.

    Only windows fully inside the image whose centre is in ``window_mask`` contribute.
    """
    height, width, _ = image.shape
    size = (2 * radius + 1) ** 2
    laplacian = np.zeros((height * width, height * width))
    for row in range(radius, height - radius):
        for col in range(radius, width - radius):
            if window_mask is not None and not window_mask[row, col]:
                continue
            rows, cols = np.mgrid[row - radius : row + radius + 1, col - radius : col + radius + 1]
            pixels = (rows * width + cols).ravel()
            colours = image[rows, cols].reshape(-1, 3)
            mean = colours.mean(axis=0)
            covariance = colours.T @ colours / size - np.outer(mean, mean)
            inverse = np.linalg.inv(covariance + eps / size * np.eye(3))
            centred = colours - mean
            block = np.eye(size) - (1 + centred @ inverse @ centred.T) / size
            laplacian[np.ix_(pixels, pixels)] += block
    return laplacian


def dense_constrained_alpha(laplacian, trimap):
    """Solve L_UU a_U = -L_UK a_K densely (hard trimap constraints), clipped to [0, 1]."""
    flat = trimap.ravel()
    unknown = flat == 0.5
    alpha = flat.copy()
    alpha[unknown] = np.linalg.solve(
        laplacian[np.ix_(unknown, unknown)],
        -laplacian[np.ix_(unknown, ~unknown)] @ flat[~unknown],
    )
    return np.clip(alpha, 0, 1).reshape(trimap.shape)


def dense_scribble_alpha(laplacian, scribbles, lambda_=100.0):
    """Solve (L + lambda D_S) a = lambda D_S b_S densely (Levin et al.'s solveAlpha), clipped."""
    flat = scribbles.ravel()
    constrained = (flat != 0.5).astype(float)
    system = laplacian + lambda_ * np.diag(constrained)
    alpha = np.linalg.solve(system, lambda_ * constrained * np.where(flat == 0.5, 0, flat))
    return np.clip(alpha, 0, 1).reshape(scribbles.shape)
