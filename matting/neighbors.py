"""Exact k-nearest-neighbour queries over low-dimensional features.

KNN matting (Chen, Li, Tang 2012) and other non-local methods need, for every pixel, the
``k`` pixels closest to it in a feature space of 5 to 8 dimensions (colour and position);
information-flow matting also asks for the pixels of one set (the foreground, say) closest
to those of another (the unknown pixels). :func:`knn_query` answers both exactly, with a
KD-tree.

Which KD-tree
-------------
Two exact backends answer the same query: a KD-tree written here in Numba (the default) and
:class:`scipy.spatial.cKDTree` (C++, parallel over queries with ``workers=-1``). Measured on
the KNN-matting features of four ~0.3 MP photographs (2 cores, all 300k points queried for
``k = 10`` neighbours plus themselves, build and query, best of 3, after compilation):

==========  ===============  ====================  ==================
features    Numba, leaf 32   cKDTree, unbalanced   cKDTree, defaults
==========  ===============  ====================  ==================
HSV, 6-D    0.73-1.20 s      1.18-1.46 s           1.19-2.08 s
RGB, 5-D    0.49-0.64 s      0.73-0.98 s           0.62-0.75 s
==========  ===============  ====================  ==================

Per image, the Numba tree took 0.59-1.01 times the time of the faster cKDTree configuration
(1.01 on one image, 0.59-0.90 on the seven others), so it is the default. It splits at
medians, prunes with node bounding boxes and runs the queries in tree order, so that
consecutive queries share their path. Its distances are bit-identical to cKDTree's. For
queries of another set (``queries=``), on information-flow matting's searches of the
unknown pixels among all pixels, the foreground and the background (0.3 MP photographs),
the two took the same time within the run-to-run spread.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from scipy.spatial import cKDTree

__all__ = ["BACKENDS", "knn_query"]

#: Accepted values of ``backend=``.
BACKENDS = ("numba", "ckdtree")

# Points per leaf of the Numba tree: 24-64 were within 10% of each other on KNN-matting
# features; 32 was best or near it on all of them.
_LEAF_SIZE = 32


def knn_query(
    points,
    k: int,
    *,
    queries=None,
    exclude_self: bool | None = None,
    backend: str = "numba",
    workers: int = -1,
) -> tuple[np.ndarray, np.ndarray]:
    """Find the ``k`` nearest neighbours (Euclidean distance) of every point among the points,
    or of other query points among them.

    Parameters
    ----------
    points : array_like, shape (n, d)
        Finite coordinates; any float or integer dtype (used as float64).
    k : int
        Number of neighbours per point, ``1 <= k < n`` with ``exclude_self`` (``<= n``
        without).
    queries : array_like, shape (m, d), optional
        Points whose neighbours are sought among ``points`` (for example the unknown pixels
        among the foreground); finite, like ``points``. Default: ``points`` themselves.
    exclude_self : bool, optional
        Leave each point out of its own neighbour list. Only the point itself is left out:
        other points at distance zero (duplicates) are neighbours like any other. Default:
        True without ``queries``; with ``queries`` nothing is left out (a query that equals
        one of ``points`` finds it at distance zero), and True is refused.
    backend : {"numba", "ckdtree"}, default "numba"
        ``"numba"``: this module's KD-tree (median splits, bounding-box pruning, parallel over
        queries with Numba's threads); ``"ckdtree"``: :class:`scipy.spatial.cKDTree`. Both are
        exact and return the same distances (see the module docstring for timings).
    workers : int, default -1
        Threads of the ``"ckdtree"`` query (``-1``: all cores), as in
        :meth:`scipy.spatial.cKDTree.query`; the Numba backend uses ``numba.get_num_threads()``.

    Returns
    -------
    indices : ndarray of int64, shape (n, k), or (m, k) with ``queries``
        Row ``i`` lists the neighbours (indices into ``points``) of point ``i`` (or query
        ``i``) by increasing distance; neighbours at equal distance are listed by increasing
        index.
    distances : ndarray of float64, same shape
        The matching Euclidean distances, non-decreasing along each row.

    Raises
    ------
    ValueError
        For points or queries that are not non-empty finite 2-D arrays (of the same width),
        ``k`` out of range, ``exclude_self=True`` with ``queries``, or an unknown backend.

    Notes
    -----
    The result is exact: the distances are those of a brute-force search (bit-identical to
    cKDTree's, which sums squares in the same order). When several points tie for the last
    place (the ``k``-th distance), which of them is returned is decided by the KD-tree,
    deterministically for the same input and backend (the two backends may choose
    different ones); the order within a row is then made canonical by sorting on
    (distance, index). With ``exclude_self``, ``k + 1``
    neighbours are queried and the point itself is removed; if it was not among them (more
    than ``k`` duplicates of it), the last one is dropped instead, which is also at distance
    zero, so the distances stay exact.

    Examples
    --------
    >>> import numpy as np
    >>> from matting.neighbors import knn_query
    >>> indices, distances = knn_query(np.array([[0.0], [1.0], [3.0]]), 1)
    >>> indices.ravel().tolist(), distances.ravel().tolist()
    ([1, 0, 1], [1.0, 1.0, 2.0])
    """
    array = _as_points(points, "points")
    n = array.shape[0]
    if queries is not None:
        if exclude_self:
            raise ValueError(
                "exclude_self=True needs queries=None: other query points have no 'self' "
                "among the points"
            )
        exclude_self = False
        queries = _as_points(queries, "queries")
        if queries.shape[1] != array.shape[1]:
            raise ValueError(
                f"queries have {queries.shape[1]} coordinates but points have {array.shape[1]}"
            )
    elif exclude_self is None:
        exclude_self = True
    if isinstance(k, bool) or int(k) != k:
        raise ValueError(f"k must be a whole number, got {k!r}")
    k = int(k)
    limit = n - 1 if exclude_self else n
    if not 1 <= k <= limit:
        raise ValueError(
            f"k must be between 1 and {limit} for {n} points"
            f"{' (the point itself is excluded)' if exclude_self else ''}, got {k}"
        )
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    query_k = k + 1 if exclude_self else k
    m = n if queries is None else queries.shape[0]
    if backend == "numba":
        order, *nodes = _build_tree(array, _LEAF_SIZE)
        data = array[order]
        if queries is None:
            # Queried in tree order, so that consecutive queries touch the same nodes.
            indices, distances = _query(data, order, *nodes, data, order, query_k)
        else:
            # In the order given (callers pass pixels in image order, which keeps consecutive
            # queries close).
            rows = np.arange(m)
            indices, distances = _query(data, order, *nodes, queries, rows, query_k)
    else:
        tree = cKDTree(array, balanced_tree=False, compact_nodes=False)
        distances, indices = tree.query(
            array if queries is None else queries, k=query_k, workers=workers
        )
        distances = distances.reshape(m, query_k)
        indices = indices.reshape(m, query_k).astype(np.int64, copy=False)
    indices, distances = _finish_rows(indices, distances, k, exclude_self)
    return indices, distances


def _as_points(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty (n, d) array, got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    array = np.ascontiguousarray(array, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contain NaN or infinite values")
    return array


@njit(cache=True, parallel=True)
def _finish_rows(indices, distances, k, exclude_self):  # pragma: no cover
    # Drops the point itself (or, when more than k duplicates hid it, the last neighbour, at
    # distance zero too) and orders equal distances by index: KD-trees list ties in an order
    # that depends on the tree, so this makes rows canonical. Rows are already sorted by
    # distance, so an insertion sort on (distance, index) costs one pass without ties.
    n = indices.shape[0]
    out_indices = np.empty((n, k), dtype=np.int64)
    out_distances = np.empty((n, k))
    for i in prange(n):
        skip = indices.shape[1] - 1
        if exclude_self:
            for t in range(indices.shape[1]):
                if indices[i, t] == i:
                    skip = t
                    break
        else:
            skip = indices.shape[1]
        position = 0
        for t in range(indices.shape[1]):
            if t == skip:
                continue
            index, distance = indices[i, t], distances[i, t]
            j = position
            while j > 0 and out_distances[i, j - 1] == distance and out_indices[i, j - 1] > index:
                out_indices[i, j] = out_indices[i, j - 1]
                out_distances[i, j] = out_distances[i, j - 1]
                j -= 1
            out_indices[i, j] = index
            out_distances[i, j] = distance
            position += 1
    return out_indices, out_distances


@njit(cache=True)
def _nth_element(order, points, start, end, nth, dim):  # pragma: no cover
    # Hoare quickselect: reorders order[start:end] so that points[order[nth], dim] is the
    # value a full sort would put there, smaller or equal ones before, greater or equal after.
    low, high = start, end - 1
    while high > low:
        middle = (low + high) // 2
        a, b, c = points[order[low], dim], points[order[middle], dim], points[order[high], dim]
        pivot = max(min(a, b), min(max(a, b), c))
        i, j = low, high
        while i <= j:
            while points[order[i], dim] < pivot:
                i += 1
            while points[order[j], dim] > pivot:
                j -= 1
            if i <= j:
                order[i], order[j] = order[j], order[i]
                i += 1
                j -= 1
        if nth <= j:
            high = j
        elif nth >= i:
            low = i
        else:
            return


@njit(cache=True)
def _build_tree(points, leaf_size):  # pragma: no cover
    # Nodes are split at the median of their widest dimension, so the tree is balanced and
    # its depth (hence the fixed stacks here and in the query) is at most log2(n) + 1. Nodes
    # keep their bounding box: the query's lower bounds are box distances, tighter than the
    # distance to the splitting plane. Children of node i are left[i] and left[i] + 1.
    n, dims = points.shape
    order = np.arange(n)
    max_nodes = 2 * (n // max(leaf_size // 2, 1) + 1) + 1
    start = np.empty(max_nodes, np.int64)
    end = np.empty(max_nodes, np.int64)
    left = np.full(max_nodes, -1, np.int64)
    low = np.empty((max_nodes, dims))
    high = np.empty((max_nodes, dims))
    stack = np.empty(128, np.int64)
    start[0], end[0] = 0, n
    count = 1
    top = 1
    stack[0] = 0
    while top > 0:
        top -= 1
        node = stack[top]
        s, e = start[node], end[node]
        for c in range(dims):
            low[node, c] = np.inf
            high[node, c] = -np.inf
        for p in range(s, e):
            for c in range(dims):
                value = points[order[p], c]
                low[node, c] = min(low[node, c], value)
                high[node, c] = max(high[node, c], value)
        best_dim, spread = 0, 0.0
        for c in range(dims):
            if high[node, c] - low[node, c] > spread:
                best_dim, spread = c, high[node, c] - low[node, c]
        if e - s <= leaf_size or spread == 0.0:
            continue
        middle = (s + e) // 2
        _nth_element(order, points, s, e, middle, best_dim)
        left[node] = count
        start[count], end[count] = s, middle
        start[count + 1], end[count + 1] = middle, e
        stack[top] = count
        stack[top + 1] = count + 1
        top += 2
        count += 2
    return order, start[:count], end[:count], left[:count], low[:count], high[:count]


@njit(cache=True, inline="always")
def _squared_distance(point, query, dims):  # pragma: no cover
    # The summation order of cKDTree's sqeuclidean_distance_double (four partial sums over
    # blocks of four dimensions, then the rest in order), so that distances are identical.
    s0 = s1 = s2 = s3 = 0.0
    c = 0
    while c + 4 <= dims:
        d0 = point[c] - query[c]
        d1 = point[c + 1] - query[c + 1]
        d2 = point[c + 2] - query[c + 2]
        d3 = point[c + 3] - query[c + 3]
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
        c += 4
    total = s0 + s1 + s2 + s3
    while c < dims:
        d = point[c] - query[c]
        total += d * d
        c += 1
    return total


@njit(cache=True, parallel=True)
def _query(data, order, start, end, left, low, high, queries, rows, k):  # pragma: no cover
    # The k nearest tree points (data: the points in tree order, so that a leaf's points are
    # contiguous in memory) of each query, written to output row rows[q]: depth-first
    # search, nearer child first, keeping the k best squared distances sorted by insertion.
    # Squared distances are summed as cKDTree sums them and rooted once at the end, as it
    # does, which makes them bit-identical to cKDTree's.
    dims = data.shape[1]
    m = queries.shape[0]
    out_d = np.empty((m, k))
    out_i = np.empty((m, k), np.int64)
    for q in prange(m):
        query = queries[q]
        best_d = np.full(k, np.inf)
        best_i = np.full(k, -1, np.int64)
        stack = np.empty(128, np.int64)
        bounds = np.empty(128)
        stack[0] = 0
        bounds[0] = 0.0
        top = 1
        worst = np.inf
        while top > 0:
            top -= 1
            node = stack[top]
            if bounds[top] > worst:
                continue
            child = left[node]
            if child < 0:
                for p in range(start[node], end[node]):
                    distance = _squared_distance(data[p], query, dims)
                    if distance < worst:
                        j = k - 1
                        while j > 0 and best_d[j - 1] > distance:
                            best_d[j] = best_d[j - 1]
                            best_i[j] = best_i[j - 1]
                            j -= 1
                        best_d[j] = distance
                        best_i[j] = order[p]
                        worst = best_d[k - 1]
                continue
            bound_a = 0.0
            bound_b = 0.0
            for c in range(dims):
                value = query[c]
                if value < low[child, c]:
                    bound_a += (low[child, c] - value) ** 2
                elif value > high[child, c]:
                    bound_a += (value - high[child, c]) ** 2
                if value < low[child + 1, c]:
                    bound_b += (low[child + 1, c] - value) ** 2
                elif value > high[child + 1, c]:
                    bound_b += (value - high[child + 1, c]) ** 2
            if bound_a <= bound_b:
                near, far, near_bound, far_bound = child, child + 1, bound_a, bound_b
            else:
                near, far, near_bound, far_bound = child + 1, child, bound_b, bound_a
            if far_bound <= worst:
                stack[top] = far
                bounds[top] = far_bound
                top += 1
            if near_bound <= worst:
                stack[top] = near
                bounds[top] = near_bound
                top += 1
        for j in range(k):
            out_d[rows[q], j] = np.sqrt(best_d[j])
            out_i[rows[q], j] = best_i[j]
    return out_i, out_d
