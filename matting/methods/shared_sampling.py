"""Shared sampling matting (Gastal and Oliveira, Eurographics 2010).

Neighbouring pixels tend to have similar foreground and background colours, so rather than
searching for the best (F, B) pair of each unknown pixel independently, every pixel gathers a
few candidate samples and pixels then share their choices with their neighbours. Four steps,
each a Numba kernel running in parallel over the unknown pixels:

1. Expansion: an unknown pixel close in position and colour to a known pixel takes its label.
2. Sample gathering: from each unknown pixel, ``k_g`` rays (rotated from pixel to pixel in a
   3x3 pattern) collect the first foreground and the first background pixel they hit; the
   (F, B) pair minimising the objective ``g_p`` is kept.
3. Sample refinement: each pixel looks at the pairs its neighbours kept, averages the three
   that best explain its own colour, and gets alpha and a confidence from them.
4. Local smoothing: F and B are smoothed with confidence- and alpha-aware Gaussian weights, a
   new confidence is computed, and the final alpha blends the alpha of the smoothed pair with
   a low-frequency alpha according to that confidence.

The sampling result can also serve as the data term of a closed-form (matting Laplacian) solve,
the paper's high-quality variant (``refine=True``).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse
from numba import njit, prange
from scipy import ndimage

from .._inputs import UNKNOWN, as_finite, as_integer, check_switches, image_and_trimap
from ..laplacian import matting_laplacian_system
from ..linalg._common import check_maxiter, check_rtol
from ..linalg.constraints import solve_free_pixels
from ..linalg.solve import check_solver

__all__ = ["shared_sampling"]

#: Exponents (e_N, e_A, e_f, e_b) of the sample-gathering objective (paper, Sec. 4.2).
EXPONENTS = (3.0, 2.0, 1.0, 4.0)

#: Pairs kept per pixel in sample refinement (paper, Sec. 4.3).
PAIRS_KEPT = 3

#: lambda of the confidence ``exp(-lambda M_p(F, B))`` (paper, Sec. 4.3 and 4.4).
CONFIDENCE_LAMBDA = 10.0

#: m, the size in pixels of the local-smoothing neighbourhood (paper, Sec. 4.4): the Gaussian
#: has variance ``m / (9 pi)``, so that a disk of radius 3 sigma holds about m pixels.
SMOOTHING_PIXELS = 100.0

#: Radius of the square window whose colour variance around a sample measures how much the
#: colours near that sample vary (5x5, as in the paper).
SAMPLE_VARIANCE_RADIUS = 2

#: ``|F - B|^2`` below which a pair cannot tell foreground from background: alpha is 0.5.
_DEGENERATE_PAIR = 1e-12

_BACKGROUND, _FOREGROUND, _UNKNOWN_LABEL = 0, 1, -1

#: Pixels per parallel work item: kernels allocate their scratch arrays once per chunk
#: rather than once per pixel.
_CHUNK = 256


# --------------------------------------------------------------------------------------------
# Small scalar helpers, inlined into the kernels.
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def _project(c0, c1, c2, f0, f1, f2, b0, b1, b2):  # pragma: no cover - compiled
    """Alpha of colour C on the segment from B to F (paper eq. 3, clamped to [0, 1]) and the
    squared chromatic distortion ``M^2 = |C - (alpha F + (1 - alpha) B)|^2`` (eq. 2)."""
    d0, d1, d2 = f0 - b0, f1 - b1, f2 - b2
    r0, r1, r2 = c0 - b0, c1 - b1, c2 - b2
    length_sq = d0 * d0 + d1 * d1 + d2 * d2
    if length_sq < _DEGENERATE_PAIR:
        alpha = 0.5
    else:
        alpha = min(max((r0 * d0 + r1 * d1 + r2 * d2) / length_sq, 0.0), 1.0)
    e0, e1, e2 = r0 - alpha * d0, r1 - alpha * d1, r2 - alpha * d2
    return alpha, e0 * e0 + e1 * e1 + e2 * e2


@njit(cache=True, nogil=True, inline="always")
def _colour_distance_sq(image, row, col, c0, c1, c2):  # pragma: no cover - compiled
    e0 = image[row, col, 0] - c0
    e1 = image[row, col, 1] - c1
    e2 = image[row, col, 2] - c2
    return e0 * e0 + e1 * e1 + e2 * e2


@njit(cache=True, nogil=True)
def _window_variance(image, row, col, radius):  # pragma: no cover - compiled
    """Colour variance (mean squared distance to the mean colour) of the window around
    pixel (row, col), clipped to the image."""
    height, width = image.shape[:2]
    sum0 = sum1 = sum2 = sum_sq = 0.0
    count = 0
    for r in range(max(row - radius, 0), min(row + radius + 1, height)):
        for c in range(max(col - radius, 0), min(col + radius + 1, width)):
            v0, v1, v2 = image[r, c, 0], image[r, c, 1], image[r, c, 2]
            sum0 += v0
            sum1 += v1
            sum2 += v2
            sum_sq += v0 * v0 + v1 * v1 + v2 * v2
            count += 1
    mean_sq = (sum0 * sum0 + sum1 * sum1 + sum2 * sum2) / (count * count)
    return max(sum_sq / count - mean_sq, 0.0)


@njit(cache=True, nogil=True)
def _chessboard_distances(labels):  # pragma: no cover - compiled
    """Chessboard (L-infinity) distance from every pixel to the nearest foreground pixel
    (``[..., 0]``) and to the nearest background pixel (``[..., 1]``), capped at 255.

    Two raster passes per label. One byte each, side by side, so that a ray step reads a
    single small word (the labels are implied: distance 0)."""
    height, width = labels.shape
    cap = 255
    distances = np.empty((height, width, 2), dtype=np.uint8)
    for side in range(2):
        label = _FOREGROUND if side == 0 else _BACKGROUND
        for r in range(height):
            for c in range(width):
                best = 0
                if labels[r, c] != label:
                    best = cap
                    if r > 0:
                        best = min(best, distances[r - 1, c, side] + 1)
                        if c > 0:
                            best = min(best, distances[r - 1, c - 1, side] + 1)
                        if c < width - 1:
                            best = min(best, distances[r - 1, c + 1, side] + 1)
                    if c > 0:
                        best = min(best, distances[r, c - 1, side] + 1)
                distances[r, c, side] = best
        for r in range(height - 1, -1, -1):
            for c in range(width - 1, -1, -1):
                best = np.int64(distances[r, c, side])
                if r < height - 1:
                    best = min(best, distances[r + 1, c, side] + 1)
                    if c > 0:
                        best = min(best, distances[r + 1, c - 1, side] + 1)
                    if c < width - 1:
                        best = min(best, distances[r + 1, c + 1, side] + 1)
                if c < width - 1:
                    best = min(best, distances[r, c + 1, side] + 1)
                distances[r, c, side] = best
    return distances


# --------------------------------------------------------------------------------------------
# Step 1: expansion of the known regions.
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, parallel=True)
def _expansion_kernel(
    image, labels, distances, pixels, reach, offset_rows, offset_cols, threshold_sq
):  # pragma: no cover - compiled
    """Label of the nearest known pixel (offsets sorted by distance) within the colour
    threshold, or -1. Pixels whose chessboard distance to every known pixel exceeds
    ``reach`` (so their Euclidean distance does too) are not searched."""
    height, width = labels.shape
    result = np.full(pixels.size, _UNKNOWN_LABEL, dtype=np.int8)
    for k in prange(pixels.size):
        row = pixels[k] // width
        col = pixels[k] % width
        if min(distances[row, col, 0], distances[row, col, 1]) > reach:
            continue
        c0, c1, c2 = image[row, col, 0], image[row, col, 1], image[row, col, 2]
        for o in range(offset_rows.size):
            r = row + offset_rows[o]
            c = col + offset_cols[o]
            if r < 0 or r >= height or c < 0 or c >= width or labels[r, c] < 0:
                continue
            if _colour_distance_sq(image, r, c, c0, c1, c2) <= threshold_sq:
                result[k] = labels[r, c]
                break
    return result


def _disk_offsets(radius: float, include_centre: bool) -> tuple[np.ndarray, np.ndarray]:
    """Row and column offsets of the pixels within ``radius``, nearest first (ties in raster
    order), so that kernels scanning them meet the closest pixels first."""
    reach = math.floor(radius)
    rows, cols = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    rows, cols = rows.ravel(), cols.ravel()
    distance_sq = rows * rows + cols * cols
    keep = distance_sq <= radius * radius
    if not include_centre:
        keep &= distance_sq > 0
    order = np.lexsort((cols[keep], rows[keep], distance_sq[keep]))
    return rows[keep][order].astype(np.int64), cols[keep][order].astype(np.int64)


def _labels(trimap: np.ndarray) -> np.ndarray:
    """int8 labels of a normalised trimap: 0 background, 1 foreground, -1 unknown."""
    labels = np.full(trimap.shape, _UNKNOWN_LABEL, dtype=np.int8)
    labels[trimap == 0.0] = _BACKGROUND
    labels[trimap == 1.0] = _FOREGROUND
    return labels


def _expand_known(image: np.ndarray, trimap: np.ndarray, radius: int, threshold: float):
    """Step 1 (paper, Sec. 4.1): an unknown pixel whose colour is within ``threshold``
    (Euclidean RGB distance) of a known pixel at most ``radius`` pixels away takes the label
    of the nearest such pixel. Only the original known pixels count (no chains).

    Returns the expanded trimap (0, 0.5, 1)."""
    expanded = trimap.copy()
    pixels = np.flatnonzero(trimap.ravel() == UNKNOWN)
    if radius < 1 or threshold <= 0 or pixels.size == 0:
        return expanded
    offset_rows, offset_cols = _disk_offsets(radius, include_centre=False)
    labels = _labels(trimap)
    labels = _expansion_kernel(
        image,
        labels,
        _chessboard_distances(labels),
        pixels,
        radius,
        offset_rows,
        offset_cols,
        float(threshold) ** 2,
    )
    taken = labels >= 0
    expanded.ravel()[pixels[taken]] = labels[taken]
    return expanded


# --------------------------------------------------------------------------------------------
# Step 2: sample gathering.
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def _ray_pixel(row, col, t, row_step, col_step):  # pragma: no cover - compiled
    """Row and column of step ``t`` of a ray (nearest pixel to the exact point)."""
    return math.floor(row + t * row_step + 0.5), math.floor(col + t * col_step + 0.5)


@njit(cache=True, nogil=True)
def _lowest_energy(
    image, row, col, row_steps, col_steps, hit_steps, step_lengths, done
):  # pragma: no cover - compiled
    """Smallest path energy over the rays' hits (``hit_steps`` < 0: no hit; infinity if
    none), nearest hits first. A walk stops as soon as its energy reaches the lowest found so
    far: energy only grows along a ray, and only the minimum is used (in PF_p)."""
    n_rays = hit_steps.size
    lowest = np.inf
    done[:] = False
    for _ in range(n_rays):
        ray = -1
        for j in range(n_rays):
            if hit_steps[j] >= 0 and not done[j] and (ray < 0 or hit_steps[j] < hit_steps[ray]):
                ray = j
        if ray < 0:
            break
        done[ray] = True
        p0, p1, p2 = image[row, col, 0], image[row, col, 1], image[row, col, 2]
        total = 0.0
        bound = lowest * step_lengths[ray]  # energies are accumulated without the 1/h factor
        for t in range(1, hit_steps[ray] + 1):
            r, c = _ray_pixel(row, col, t, row_steps[ray], col_steps[ray])
            q0, q1, q2 = image[r, c, 0], image[r, c, 1], image[r, c, 2]
            total += (q0 - p0) * (q0 - p0) + (q1 - p1) * (q1 - p1) + (q2 - p2) * (q2 - p2)
            if total >= bound:
                break
            p0, p1, p2 = q0, q1, q2
        if total < bound:
            lowest = total / step_lengths[ray]
    return lowest


@njit(cache=True, nogil=True, parallel=True)
def _ray_kernel(image, distances, pixels, n_rays):  # pragma: no cover - compiled
    """First foreground and first background pixel hit by each ray, and the lowest path
    energy to a foreground and to a background hit.

    Ray ``j`` of pixel (row, col) leaves at angle ``2 pi (j + n / 9) / n_rays`` (columns to the
    right, rows down), where ``n = 3 (row mod 3) + (col mod 3)``: the nine pixels of every 3x3
    block sample nine different sets of directions. Rays advance one pixel per step along
    their major axis (and the matching fraction along the other), so no pixel is visited
    twice. The energy ``E_p(s)`` (paper eq. 4, the integral of ``|grad I . dr|^2`` along the
    segment) is the sum over steps of ``|I_k - I_(k-1)|^2 / h`` with h the step length.

    Rays are first walked on the labels, to find the hits: where the chessboard distance to
    the nearest pixel of a label still looked for is d, the next d - 2 steps (each moving at
    most one pixel along either axis, plus one for rounding) cannot meet one, and are
    skipped; so rays crossing a large region, or running through it to the image border, cost
    few steps. Then the image is read along them for the energies (:func:`_lowest_energy`).
    """
    height, width = distances.shape[:2]
    n = pixels.size
    fg_hit = np.full((n, n_rays), -1, dtype=np.int64)
    bg_hit = np.full((n, n_rays), -1, dtype=np.int64)
    fg_energy = np.full(n, np.inf)
    bg_energy = np.full(n, np.inf)
    for chunk in prange((n + _CHUNK - 1) // _CHUNK):
        row_steps = np.empty(n_rays)
        col_steps = np.empty(n_rays)
        step_lengths = np.empty(n_rays)
        fg_steps = np.empty(n_rays, dtype=np.int64)
        bg_steps = np.empty(n_rays, dtype=np.int64)
        done = np.empty(n_rays, dtype=np.bool_)
        for k in range(chunk * _CHUNK, min((chunk + 1) * _CHUNK, n)):
            row = pixels[k] // width
            col = pixels[k] % width
            turn = (3 * (row % 3) + col % 3) / 9.0
            fg_steps[:] = -1
            bg_steps[:] = -1
            for ray in range(n_rays):
                angle = 2.0 * math.pi * (ray + turn) / n_rays
                row_step = math.sin(angle)
                col_step = math.cos(angle)
                major = max(abs(row_step), abs(col_step))
                row_step /= major
                col_step /= major
                row_steps[ray] = row_step
                col_steps[ray] = col_step
                step_lengths[ray] = 1.0 / major
                t = 1
                while True:
                    r, c = _ray_pixel(row, col, t, row_step, col_step)
                    if r < 0 or r >= height or c < 0 or c >= width:
                        break
                    to_fg = np.int64(distances[r, c, 0])
                    to_bg = np.int64(distances[r, c, 1])
                    if to_fg == 0 and fg_steps[ray] < 0:
                        fg_steps[ray] = t
                        fg_hit[k, ray] = r * width + c
                        if bg_steps[ray] >= 0:
                            break
                    elif to_bg == 0 and bg_steps[ray] < 0:
                        bg_steps[ray] = t
                        bg_hit[k, ray] = r * width + c
                        if fg_steps[ray] >= 0:
                            break
                    if fg_steps[ray] < 0 and bg_steps[ray] < 0:
                        clearance = min(to_fg, to_bg)
                    elif fg_steps[ray] < 0:
                        clearance = to_fg
                    else:
                        clearance = to_bg
                    t += max(clearance - 1, 1)
            fg_energy[k] = _lowest_energy(
                image, row, col, row_steps, col_steps, fg_steps, step_lengths, done
            )
            bg_energy[k] = _lowest_energy(
                image, row, col, row_steps, col_steps, bg_steps, step_lengths, done
            )
    return fg_hit, bg_hit, fg_energy, bg_energy


@njit(cache=True, nogil=True)
def _segment_energies(image, starts, ends):  # pragma: no cover - compiled
    """Path energy (as in :func:`_ray_kernel`) along straight segments between pixels."""
    width = image.shape[1]
    energies = np.zeros(starts.size)
    for k in range(starts.size):
        row, col = starts[k] // width, starts[k] % width
        d_row = ends[k] // width - row
        d_col = ends[k] % width - col
        steps = max(abs(d_row), abs(d_col))
        if steps == 0:
            continue
        inverse_step_length = steps / math.sqrt(d_row * d_row + d_col * d_col)
        p0, p1, p2 = image[row, col, 0], image[row, col, 1], image[row, col, 2]
        for t in range(1, steps + 1):
            r = math.floor(row + t * d_row / steps + 0.5)
            c = math.floor(col + t * d_col / steps + 0.5)
            q0, q1, q2 = image[r, c, 0], image[r, c, 1], image[r, c, 2]
            energies[k] += (
                (q0 - p0) * (q0 - p0) + (q1 - p1) * (q1 - p1) + (q2 - p2) * (q2 - p2)
            ) * inverse_step_length
            p0, p1, p2 = q0, q1, q2
    return energies


@njit(cache=True, nogil=True, parallel=True)
def _pair_kernel(
    image, pixels, fg_hit, bg_hit, fg_energy, bg_energy, e_n, e_a, e_f, e_b, variance_radius
):  # pragma: no cover - compiled
    """The (F, B) pair of each pixel's samples minimising the objective (paper eq. 7)

        g_p(f, b) = N_p(f, b)^e_N  A_p(f, b)^e_A  D_p(f)^e_f  D_p(b)^e_b

    with N_p the summed squared distortion over the 3x3 neighbourhood (eq. 5), A_p = PF_p +
    (1 - 2 PF_p) alpha_p (eq. 6), PF_p = min E(b) / (min E(f) + min E(b)) (``fg_energy`` and
    ``bg_energy`` are those minima) and D_p the distance in pixels. Ties go to the first pair
    in ray order. Also returns the colour variance of a 5x5 window around each chosen sample.
    """
    height, width = image.shape[:2]
    n, n_rays = fg_hit.shape
    best_fg = np.full(n, -1, dtype=np.int64)
    best_bg = np.full(n, -1, dtype=np.int64)
    best_cost = np.full(n, np.inf)
    fg_variance = np.zeros(n)
    bg_variance = np.zeros(n)
    for chunk in prange((n + _CHUNK - 1) // _CHUNK):
        window = np.empty((9, 3))
        for k in range(chunk * _CHUNK, min((chunk + 1) * _CHUNK, n)):
            row = pixels[k] // width
            col = pixels[k] % width
            count = 0
            for r in range(max(row - 1, 0), min(row + 2, height)):
                for c in range(max(col - 1, 0), min(col + 2, width)):
                    window[count, 0] = image[r, c, 0]
                    window[count, 1] = image[r, c, 1]
                    window[count, 2] = image[r, c, 2]
                    count += 1
            c0, c1, c2 = image[row, col, 0], image[row, col, 1], image[row, col, 2]
            total_energy = fg_energy[k] + bg_energy[k]
            fg_probability = bg_energy[k] / total_energy if total_energy > 0 else 0.5
            for i in range(n_rays):
                f = fg_hit[k, i]
                if f < 0:
                    continue
                f_row, f_col = f // width, f % width
                f0, f1, f2 = image[f_row, f_col, 0], image[f_row, f_col, 1], image[f_row, f_col, 2]
                fg_distance = math.sqrt((f_row - row) ** 2 + (f_col - col) ** 2) ** e_f
                for j in range(n_rays):
                    b = bg_hit[k, j]
                    if b < 0:
                        continue
                    b_row, b_col = b // width, b % width
                    b0, b1, b2 = (
                        image[b_row, b_col, 0],
                        image[b_row, b_col, 1],
                        image[b_row, b_col, 2],
                    )
                    alpha, _ = _project(c0, c1, c2, f0, f1, f2, b0, b1, b2)
                    affinity = fg_probability + (1.0 - 2.0 * fg_probability) * alpha
                    distortion = 0.0
                    for q in range(count):
                        distortion += _project(
                            window[q, 0], window[q, 1], window[q, 2], f0, f1, f2, b0, b1, b2
                        )[1]
                    bg_distance = math.sqrt((b_row - row) ** 2 + (b_col - col) ** 2) ** e_b
                    cost = distortion**e_n * affinity**e_a * fg_distance * bg_distance
                    if cost < best_cost[k]:
                        best_cost[k] = cost
                        best_fg[k] = f
                        best_bg[k] = b
            if best_fg[k] >= 0:
                fg_variance[k] = _window_variance(
                    image, best_fg[k] // width, best_fg[k] % width, variance_radius
                )
                bg_variance[k] = _window_variance(
                    image, best_bg[k] // width, best_bg[k] % width, variance_radius
                )
    return best_fg, best_bg, best_cost, fg_variance, bg_variance


def _cast_rays(image: np.ndarray, labels: np.ndarray, pixels: np.ndarray, n_rays: int):
    """Ray samples of every pixel in ``pixels``, with a fallback where rays found none.

    A pixel whose rays all miss the foreground (or background) - they leave the image
    first - takes the nearest pixel of that label instead (Euclidean distance transform),
    with the energy of the straight segment to it. The paper does not say what to do then.
    """
    distances = _chessboard_distances(labels)
    fg_hit, bg_hit, fg_energy, bg_energy = _ray_kernel(image, distances, pixels, n_rays)
    for hits, energies, label in (
        (fg_hit, fg_energy, _FOREGROUND),
        (bg_hit, bg_energy, _BACKGROUND),
    ):
        missing = np.flatnonzero((hits < 0).all(axis=1))
        if missing.size == 0:
            continue
        near_rows, near_cols = ndimage.distance_transform_edt(
            labels != label, return_distances=False, return_indices=True
        )
        at = pixels[missing]
        nearest = near_rows.ravel()[at] * labels.shape[1] + near_cols.ravel()[at]
        hits[missing, 0] = nearest
        energies[missing] = _segment_energies(image, pixels[missing], nearest)
    return fg_hit, bg_hit, fg_energy, bg_energy


def _gather_samples(image: np.ndarray, labels: np.ndarray, pixels: np.ndarray, n_rays: int):
    """Step 2 (paper, Sec. 4.2): the best (F, B) sample pair of each pixel in ``pixels``.

    Returns flat indices of the chosen foreground and background samples, the objective
    value, and the colour variances around both samples."""
    fg_hit, bg_hit, fg_energy, bg_energy = _cast_rays(image, labels, pixels, n_rays)
    e_n, e_a, e_f, e_b = EXPONENTS
    return _pair_kernel(
        image,
        pixels,
        fg_hit,
        bg_hit,
        fg_energy,
        bg_energy,
        e_n,
        e_a,
        e_f,
        e_b,
        SAMPLE_VARIANCE_RADIUS,
    )


# --------------------------------------------------------------------------------------------
# Step 3: sample refinement (sharing among neighbours).
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, parallel=True)
def _sharing_kernel(
    image,
    index_of,
    pixels,
    fg,
    bg,
    fg_variance,
    bg_variance,
    offset_rows,
    offset_cols,
    kept,
    confidence_lambda,
):  # pragma: no cover - compiled
    """Average of the ``kept`` neighbour pairs with the smallest distortion M_p(F, B), then the
    paper's tuple (F^g, B^g, alpha^g, f^g) of Sec. 4.4."""
    height, width = index_of.shape
    n = pixels.size
    out_fg = np.empty((n, 3))
    out_bg = np.empty((n, 3))
    out_alpha = np.empty(n)
    out_confidence = np.empty(n)
    for chunk in prange((n + _CHUNK - 1) // _CHUNK):
        costs = np.empty(kept)
        chosen = np.empty(kept, dtype=np.int64)
        for k in range(chunk * _CHUNK, min((chunk + 1) * _CHUNK, n)):
            row = pixels[k] // width
            col = pixels[k] % width
            c0, c1, c2 = image[row, col, 0], image[row, col, 1], image[row, col, 2]
            costs[:] = np.inf
            chosen[:] = -1
            for o in range(offset_rows.size):
                r = row + offset_rows[o]
                c = col + offset_cols[o]
                if r < 0 or r >= height or c < 0 or c >= width:
                    continue
                q = index_of[r, c]
                if q < 0:
                    continue
                cost = _project(
                    c0, c1, c2, fg[q, 0], fg[q, 1], fg[q, 2], bg[q, 0], bg[q, 1], bg[q, 2]
                )[1]
                if cost < costs[kept - 1]:
                    # Insertion into the sorted short list; equal costs keep the nearer pair.
                    slot = kept - 1
                    while slot > 0 and cost < costs[slot - 1]:
                        costs[slot] = costs[slot - 1]
                        chosen[slot] = chosen[slot - 1]
                        slot -= 1
                    costs[slot] = cost
                    chosen[slot] = q
            f0 = f1 = f2 = b0 = b1 = b2 = 0.0
            f_var = b_var = 0.0
            count = 0
            for s in range(kept):
                q = chosen[s]
                if q < 0:
                    break
                f0 += fg[q, 0]
                f1 += fg[q, 1]
                f2 += fg[q, 2]
                b0 += bg[q, 0]
                b1 += bg[q, 1]
                b2 += bg[q, 2]
                f_var += fg_variance[q]
                b_var += bg_variance[q]
                count += 1
            f0, f1, f2, b0, b1, b2 = (
                f0 / count,
                f1 / count,
                f2 / count,
                b0 / count,
                b1 / count,
                b2 / count,
            )
            f_var /= count
            b_var /= count
            distortion_sq = _project(c0, c1, c2, f0, f1, f2, b0, b1, b2)[1]
            out_confidence[k] = math.exp(-confidence_lambda * math.sqrt(distortion_sq))
            # A colour within the spread of the foreground samples is foreground itself (and
            # likewise for the background). When it is within both spreads, only the closer one
            # (relative to its spread) is taken, so that F and B never both become C.
            fg_gap = (c0 - f0) ** 2 + (c1 - f1) ** 2 + (c2 - f2) ** 2
            bg_gap = (c0 - b0) ** 2 + (c1 - b1) ** 2 + (c2 - b2) ** 2
            near_fg = fg_gap <= f_var
            near_bg = bg_gap <= b_var
            if near_fg and near_bg:
                if fg_gap * b_var <= bg_gap * f_var:
                    near_bg = False
                else:
                    near_fg = False
            if near_fg:
                f0, f1, f2 = c0, c1, c2
            if near_bg:
                b0, b1, b2 = c0, c1, c2
            out_fg[k, 0], out_fg[k, 1], out_fg[k, 2] = f0, f1, f2
            out_bg[k, 0], out_bg[k, 1], out_bg[k, 2] = b0, b1, b2
            out_alpha[k] = _project(c0, c1, c2, f0, f1, f2, b0, b1, b2)[0]
    return out_fg, out_bg, out_alpha, out_confidence


# --------------------------------------------------------------------------------------------
# Step 4: local smoothing.
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, parallel=True)
def _smoothing_kernel(
    image,
    labels,
    index_of,
    pixels,
    fg,
    bg,
    alpha,
    confidence,
    offset_rows,
    offset_cols,
    gaussian,
    confidence_lambda,
):  # pragma: no cover - compiled
    """Paper Sec. 4.4. Known pixels (original or expanded) count with F = B = their colour,
    alpha = their label and confidence 1."""
    height, width = index_of.shape
    n = pixels.size
    out_fg = np.empty((n, 3))
    out_bg = np.empty((n, 3))
    out_alpha = np.empty(n)
    out_confidence = np.empty(n)
    for k in prange(n):
        row = pixels[k] // width
        col = pixels[k] % width
        alpha_p = alpha[k]
        sum_f0 = sum_f1 = sum_f2 = weight_f = 0.0
        sum_b0 = sum_b1 = sum_b2 = weight_b = 0.0
        sum_gap = weight_gap = 0.0
        sum_alpha = weight_alpha = 0.0
        for o in range(offset_rows.size):
            r = row + offset_rows[o]
            c = col + offset_cols[o]
            if r < 0 or r >= height or c < 0 or c >= width:
                continue
            q = index_of[r, c]
            if q >= 0:
                f0, f1, f2 = fg[q, 0], fg[q, 1], fg[q, 2]
                b0, b1, b2 = bg[q, 0], bg[q, 1], bg[q, 2]
                alpha_q = alpha[q]
                confidence_q = confidence[q]
                known = 0.0
            else:
                f0, f1, f2 = image[r, c, 0], image[r, c, 1], image[r, c, 2]
                b0, b1, b2 = f0, f1, f2
                alpha_q = float(labels[r, c])
                confidence_q = 1.0
                known = 1.0
            weight = gaussian[o] * confidence_q
            if offset_rows[o] != 0 or offset_cols[o] != 0:
                weight *= abs(alpha_p - alpha_q)
            w_f = weight * alpha_q
            w_b = weight * (1.0 - alpha_q)
            sum_f0 += w_f * f0
            sum_f1 += w_f * f1
            sum_f2 += w_f * f2
            weight_f += w_f
            sum_b0 += w_b * b0
            sum_b1 += w_b * b1
            sum_b2 += w_b * b2
            weight_b += w_b
            w_gap = confidence_q * alpha_q * (1.0 - alpha_q)
            sum_gap += w_gap * math.sqrt((f0 - b0) ** 2 + (f1 - b1) ** 2 + (f2 - b2) ** 2)
            weight_gap += w_gap
            w_alpha = confidence_q * gaussian[o] + known
            sum_alpha += w_alpha * alpha_q
            weight_alpha += w_alpha
        if weight_f > 0:
            f0, f1, f2 = sum_f0 / weight_f, sum_f1 / weight_f, sum_f2 / weight_f
        else:
            f0, f1, f2 = fg[k, 0], fg[k, 1], fg[k, 2]
        if weight_b > 0:
            b0, b1, b2 = sum_b0 / weight_b, sum_b1 / weight_b, sum_b2 / weight_b
        else:
            b0, b1, b2 = bg[k, 0], bg[k, 1], bg[k, 2]
        c0, c1, c2 = image[row, col, 0], image[row, col, 1], image[row, col, 2]
        alpha_fb, distortion_sq = _project(c0, c1, c2, f0, f1, f2, b0, b1, b2)
        separation = 1.0
        if weight_gap > 0 and sum_gap > 0:
            gap = math.sqrt((f0 - b0) ** 2 + (f1 - b1) ** 2 + (f2 - b2) ** 2)
            separation = min(1.0, gap * weight_gap / sum_gap)
        confidence_p = separation * math.exp(-confidence_lambda * math.sqrt(distortion_sq))
        low_frequency = sum_alpha / weight_alpha
        out_alpha[k] = confidence_p * alpha_fb + (1.0 - confidence_p) * low_frequency
        out_confidence[k] = confidence_p
        out_fg[k, 0], out_fg[k, 1], out_fg[k, 2] = f0, f1, f2
        out_bg[k, 0], out_bg[k, 1], out_bg[k, 2] = b0, b1, b2
    return out_fg, out_bg, out_alpha, out_confidence


def _smoothing_weights(pixels: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets within 3 sigma (sigma^2 = m / (9 pi)) and their Gaussian weights, scaled to 1
    at the centre (see the Notes of :func:`shared_sampling` for why not normalised)."""
    variance = pixels / (9.0 * math.pi)
    rows, cols = _disk_offsets(3.0 * math.sqrt(variance), include_centre=True)
    gaussian = np.exp(-(rows * rows + cols * cols) / (2.0 * variance))
    return rows, cols, gaussian


# --------------------------------------------------------------------------------------------
# The pipeline.
# --------------------------------------------------------------------------------------------


def _sampling_matte(image, trimap, expansion_radius, expansion_threshold, n_rays, sharing_radius):
    """Steps 1-4.

    Returns the alpha matte (HxW), the flat indices of the pixels still unknown after the
    expansion, and their foreground and background colours (n x 3) and confidence (n)."""
    expanded = _expand_known(image, trimap, expansion_radius, expansion_threshold)
    labels = _labels(expanded)
    alpha = expanded
    pixels = np.flatnonzero(labels.ravel() == _UNKNOWN_LABEL)
    if pixels.size == 0:
        return alpha, pixels, np.empty((0, 3)), np.empty((0, 3)), np.empty(0)

    best_fg, best_bg, _, fg_variance, bg_variance = _gather_samples(image, labels, pixels, n_rays)
    flat_image = image.reshape(-1, 3)
    index_dtype = np.int32 if pixels.size < np.iinfo(np.int32).max else np.int64
    index_of = np.full(trimap.shape, -1, dtype=index_dtype)
    index_of.ravel()[pixels] = np.arange(pixels.size)
    sharing_rows, sharing_cols = _disk_offsets(sharing_radius, include_centre=True)
    fg, bg, pixel_alpha, confidence = _sharing_kernel(
        image,
        index_of,
        pixels,
        flat_image[best_fg],
        flat_image[best_bg],
        fg_variance,
        bg_variance,
        sharing_rows,
        sharing_cols,
        PAIRS_KEPT,
        CONFIDENCE_LAMBDA,
    )
    smoothing_rows, smoothing_cols, gaussian = _smoothing_weights(SMOOTHING_PIXELS)
    fg, bg, pixel_alpha, confidence = _smoothing_kernel(
        image,
        labels,
        index_of,
        pixels,
        fg,
        bg,
        pixel_alpha,
        confidence,
        smoothing_rows,
        smoothing_cols,
        gaussian,
        CONFIDENCE_LAMBDA,
    )
    alpha.ravel()[pixels] = np.clip(pixel_alpha, 0.0, 1.0)
    return alpha, pixels, np.clip(fg, 0.0, 1.0), np.clip(bg, 0.0, 1.0), confidence


def _scatter(base: np.ndarray, pixels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``base`` with ``values`` written at the flat pixel indices ``pixels``."""
    result = base.copy()
    result.reshape(-1, *base.shape[2:])[pixels] = values  # a view: the copy is contiguous
    return result


def _laplacian_refinement(image, trimap, prior, confidence, lambda_, solver_options):
    """Minimise ``a^T L a + lambda (a - prior)^T Gamma (a - prior)`` with the trimap's known
    pixels fixed, Gamma = diag(confidence) (the paper's high-quality variant, Sec. 5)."""
    unknown = trimap == UNKNOWN
    free = np.flatnonzero(unknown.ravel())
    system, right_hand_side = matting_laplacian_system(image, unknown, trimap, radius=1)
    weights = lambda_ * confidence.ravel()[free]
    system = (system + scipy.sparse.diags(weights, format="csr")).tocsr()
    right_hand_side += weights * prior.ravel()[free]
    return solve_free_pixels(
        system, right_hand_side, free, trimap, x0=prior.ravel()[free], **solver_options
    )


def shared_sampling(
    image,
    trimap,
    *,
    expansion_radius: int = 10,
    expansion_threshold: float = 5 / 256,
    n_rays: int = 4,
    sharing_radius: int = 5,
    return_foreground: bool = False,
    refine: bool = False,
    lambda_: float = 1e-3,
    solver: str = "auto",
    rtol: float = 1e-7,
    maxiter: int | None = None,
    return_info: bool = False,
):
    """Shared sampling matting: each unknown pixel picks a foreground and a background colour
    among samples found along a few rays, then shares its choice with its neighbours.

    The four steps of the paper, each parallel over the unknown pixels:

    1. *Expansion* (Sec. 4.1): an unknown pixel within ``expansion_radius`` pixels of a known
       pixel whose colour differs from it by at most ``expansion_threshold`` (Euclidean RGB
       distance, colours in [0, 1]) takes the label of the nearest such pixel.
    2. *Sample gathering* (Sec. 4.2): ``n_rays`` rays, evenly spaced in angle and rotated by
       ``2 pi n / (9 n_rays)`` with ``n = 3 (row mod 3) + (col mod 3)`` (the nine pixels of a
       3x3 block look in nine different sets of directions), each collect the first foreground
       and the first background pixel they meet. Of all (f, b) sample pairs, the pixel keeps
       the one minimising ``g_p = N_p^3 A_p^2 D_p(f) D_p(b)^4``: N_p the squared chromatic
       distortion summed over the 3x3 neighbourhood, A_p the disagreement of alpha with the
       probability of being foreground (from the image-gradient energy along the paths to
       the samples), D_p the distances to the samples.
    3. *Sample refinement* (Sec. 4.3): among the pairs kept by the unknown pixels within
       ``sharing_radius``, the three with the smallest chromatic distortion
       ``M_p(F, B) = |C_p - (alpha F + (1 - alpha) B)|`` are averaged; F (or B) becomes the
       pixel's own colour when that is within the colour variance around the samples;
       alpha follows, with confidence ``exp(-10 M_p)``.
    4. *Local smoothing* (Sec. 4.4): F and B are averaged over a Gaussian neighbourhood
       (sigma^2 = m / (9 pi), m = 100 pixels, within 3 sigma) with weights favouring
       confident pixels of different alpha; the confidence is recomputed (scaled down where
       F and B are closer than is usual nearby) and the final alpha blends the alpha of the
       smoothed (F, B) with a low-frequency (confidence-weighted average) alpha according to
       it.

    Parameters
    ----------
    image : array_like, HxW, HxWx3 or HxWx4
        ``uint8``, ``uint16`` or float in [0, 1].
    trimap : array_like, HxW
        0 background, 1 foreground (255 for uint8), anything between unknown. Needs at least
        one foreground and one background pixel.
    expansion_radius : int
        k_i, the reach of the expansion in pixels (Euclidean). Paper: 10. 0 disables it.
    expansion_threshold : float
        k_c, the colour distance (RGB in [0, 1]) below which a pixel joins a known region.
        Paper: 5/256. 0 disables the expansion.
    n_rays : int
        k_g, rays (paths) per pixel. Paper: 4.
    sharing_radius : int
        k_r, radius in pixels of the disk whose unknown pixels' pairs are shared. Default 5.
        0 means no sharing (each pixel keeps its own pair).
    return_foreground : bool
        Also return the foreground and background colours and the per-pixel confidence.
    refine : bool
        The paper's high-quality variant (Sec. 5): use the result as the data term of a
        closed-form matting solve, minimising ``a^T L a + lambda (a - a_s)^T Gamma
        (a - a_s)`` with L the matting Laplacian (3x3 windows, eps 1e-7), a_s the sampling
        alpha, Gamma the diagonal of the sampling confidence, and the trimap's known pixels
        fixed.
    lambda_ : float
        lambda of the refinement: the weight of the data term. The paper asks for a small
        value, so that the Laplacian dominates where the image follows the colour-line
        model; default 1e-3. Only used with ``refine=True``.
    solver : str
        Linear solver of the refinement (see :func:`matting.linalg.solve`).
    rtol : float
        Relative residual at which the refinement's iterative solver stops.
    maxiter : int, optional
        Iteration limit of the refinement's iterative solver.
    return_info : bool
        Also return the refinement solver's :class:`matting.linalg.SolveInfo` as the last
        element (None without ``refine`` or without unknown pixels).

    Returns
    -------
    alpha : ndarray, float64 HxW in [0, 1]
        Exactly 0 and 1 on the trimap's known pixels (and on pixels the expansion labelled,
        unless ``refine=True``, which solves for every pixel the trimap leaves unknown).
    foreground, background : ndarray, float64 HxWx3
        Only with ``return_foreground=True``: the smoothed F and B of step 4 on the unknown
        pixels (also with ``refine=True``, which changes only alpha); on known and expanded
        pixels both equal the image (the other layer is not observed there).
    confidence : ndarray, float64 HxW in [0, 1]
        Only with ``return_foreground=True``: the confidence of step 4 on unknown pixels, 1
        on known and expanded ones.
    info : SolveInfo or None
        Only with ``return_info=True``.

    Raises
    ------
    ValueError
        For bad images or trimaps, an ``expansion_radius`` or ``sharing_radius`` that is
        not an integer >= 0, ``n_rays`` not a positive integer, a negative
        ``expansion_threshold``, a non-positive ``lambda_`` or a bad solver option.

    Notes
    -----
    The paper leaves some details open; what we do:

    - Path energy ``E_p(s)``, the integral of ``|grad I . dr|^2`` from p to the sample, is
      summed along the ray that found the sample, one pixel per step along the ray's major
      axis: ``sum |I_k - I_(k-1)|^2 / h`` with h the step length.
    - A pixel whose rays all leave the image without meeting the foreground (or background)
      takes the nearest foreground (background) pixel as its sample, with the energy of the
      straight segment to it.
    - The colour variance ``sigma^2`` around a sample is the variance of the colours of the
      5x5 window around it (mean squared distance to the window's mean colour); the refined
      variance is the mean over the three pairs. When the pixel's colour is within both the
      foreground and the background variance, only the closer one (relative to its
      variance) replaces F or B, so that F and B never both become the pixel's colour.
    - A pair with ``F = B`` (up to 1e-6) gives alpha 0.5.
    - The Gaussian G of step 4 (variance ``m / (9 pi)``, m = 100, cut at 3 sigma) has peak 1
      where the paper normalises it to unit mass. The low-frequency alpha weights pixels by
      ``f_q G + delta_q`` with delta_q = 1 on known pixels; a normalised G (peak 0.045)
      makes each known pixel outweigh an unknown one more than 22 times, so that near the
      known regions the low-frequency alpha copies the trimap. On the four benchmark
      composites the normalised G gave higher SAD and MSE on every image (pymatting's
      implementation does the same). In the other weights of step 4 the scale cancels.
    - In step 4, known pixels of the neighbourhood take part with F = B = their colour,
      alpha = their label and confidence 1; the typical F-B distance ``D_FB`` is averaged
      over the neighbourhood disk with weights ``f_q alpha_q (1 - alpha_q)`` from the step-3
      values, so that step 4 needs a single pass.
    - ``refine=True`` keeps the original trimap's known pixels fixed and solves for all its
      unknown pixels, including those the expansion labelled (their data term has alpha 0 or
      1 and confidence 1).

    Time and memory grow with the number of unknown pixels: each step is one Numba kernel
    over them (besides O(H W) labels and indices); rays stop once they have met both
    regions.

    References
    ----------
    .. [1] E. S. L. Gastal, M. M. Oliveira, "Shared Sampling for Real-Time Alpha Matting",
       Computer Graphics Forum 29(2) (Proc. Eurographics 2010), pp. 575-584.
    .. [2] A. Levin, D. Lischinski, Y. Weiss, "A Closed-Form Solution to Natural Image
       Matting", IEEE TPAMI 30(2), 2008 (the Laplacian of ``refine=True``).

    Examples
    --------
    >>> import matting
    >>> from matting.methods.shared_sampling import shared_sampling
    >>> image, trimap, true_alpha = matting.datasets.load_sample()
    >>> alpha, foreground, background, confidence = shared_sampling(
    ...     image, trimap, return_foreground=True)
    >>> alpha.shape == confidence.shape == trimap.shape
    True
    """
    check_switches(return_foreground=return_foreground, refine=refine, return_info=return_info)
    image, trimap = image_and_trimap(image, trimap)
    # Radii beyond the image's diagonal reach no further pixel; capping them changes nothing
    # but the size of the offset tables.
    diagonal = math.ceil(math.hypot(*trimap.shape))
    expansion_radius = min(as_integer(expansion_radius, "expansion_radius", 0), diagonal)
    n_rays = as_integer(n_rays, "n_rays")
    sharing_radius = min(as_integer(sharing_radius, "sharing_radius", 0), diagonal)
    expansion_threshold = as_finite(
        expansion_threshold, "expansion_threshold", positive=False, limits=(0.0, 1e100)
    )
    lambda_ = as_finite(lambda_, "lambda_")
    # The refinement's options are checked even without refine=True, which ignores them.
    check_solver(solver)
    rtol = check_rtol(rtol)
    maxiter = None if maxiter is None else check_maxiter(maxiter, 1)

    alpha, pixels, fg, bg, pixel_confidence = _sampling_matte(
        image, trimap, expansion_radius, expansion_threshold, n_rays, sharing_radius
    )
    confidence = np.ones(trimap.shape)
    confidence.ravel()[pixels] = pixel_confidence
    info = None
    if refine and (trimap == UNKNOWN).any():
        solver_options = {"solver": solver, "rtol": rtol, "maxiter": maxiter}
        alpha, info = _laplacian_refinement(
            image, trimap, alpha, confidence, lambda_, solver_options
        )
    outputs = [alpha]
    if return_foreground:
        # Only built on request: two more HxWx3 arrays.
        outputs.extend([_scatter(image, pixels, fg), _scatter(image, pixels, bg), confidence])
    if return_info:
        outputs.append(info)
    return outputs[0] if len(outputs) == 1 else tuple(outputs)
