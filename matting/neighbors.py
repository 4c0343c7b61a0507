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
``k = 10`` neighbours besides themselves, build and query, best of 3, after compilation):

==========  ===============  ====================  ==================
features    Numba, leaf 16   cKDTree, unbalanced   cKDTree, defaults
==========  ===============  ====================  ==================
HSV, 6-D    0.44-0.67 s      1.07-1.57 s           1.18-1.80 s
RGB, 5-D    0.42-0.47 s      0.76-0.85 s           0.71-0.88 s
==========  ===============  ====================  ==================

Per image, the Numba tree took 0.41-0.62 times the time of the faster cKDTree
configuration, so it is the default. It splits nodes at the mean of their dimension of
largest variance (with medians of the widest dimension, and otherwise the same code, its
HSV queries took 1.3-1.8 times longer), prunes with node bounding boxes, and
runs the queries in tree order, so that consecutive queries share their path. Its distances
are bit-identical to cKDTree's. For queries of another set (``queries=``), the unknown
pixels of those photographs among their foreground pixels took 0.10-0.15 s (0.15-0.35 s
with median splits).
"""

from __future__ import annotations

import numbers

import numpy as np
from numba import njit, prange
from scipy.spatial import cKDTree

__all__ = ["BACKENDS", "MAX_COORDINATE", "knn_query"]

#: Accepted values of ``backend=``.
BACKENDS = ("numba", "ckdtree")

#: Largest coordinate magnitude accepted: the squared distance of two such points in up to
#: a thousand dimensions stays finite in float64.
MAX_COORDINATE = 1e150

# Points per leaf of the Numba tree (at most; at least a quarter of it): on KNN-matting
# features (0.3 MP photographs, one thread), 12 and 16 were best, 24-32 took 5-15% longer
# and 48 15-25%.
_LEAF_SIZE = 16


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
        Finite coordinates of magnitude at most :data:`MAX_COORDINATE`; any float or integer
        dtype (used as float64).
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
        For points or queries that are not non-empty finite 2-D arrays (of the same width)
        with coordinates within :data:`MAX_COORDINATE`,
        ``k`` out of range, ``exclude_self=True`` with ``queries``, or an unknown backend.

    Notes
    -----
    The result is exact: the distances are those of a brute-force search (bit-identical to
    cKDTree's, which sums squares in the same order). When several points tie for the last
    place (the ``k``-th distance), which of them is returned is decided by the KD-tree,
    deterministically for the same input and backend (the two backends may choose
    different ones); the order within a row is then made canonical by sorting on
    (distance, index). With ``exclude_self``, the Numba tree leaves each point out of its
    own search; cKDTree is asked for ``k + 1`` neighbours and the point itself is removed
    (if it was not among them, more than ``k`` duplicates of it, the last one is dropped
    instead, which is also at distance zero, so the distances stay exact).

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
    # cKDTree's rule (checked here for both backends): -1 for all cores, else a positive count.
    if (
        isinstance(workers, bool)
        or not isinstance(workers, numbers.Integral)
        or not (workers == -1 or workers >= 1)
    ):
        raise ValueError(f"workers must be -1 (all cores) or a positive integer, got {workers!r}")
    query_k = k + 1 if exclude_self else k
    m = n if queries is None else queries.shape[0]
    if backend == "numba":
        data, order, *nodes = _build_tree(array, _LEAF_SIZE)
        if queries is None:
            # Queried in tree order, so that consecutive queries touch the same nodes; each
            # point skips itself (exclude_self), so only k are sought.
            return _query(data, order, *nodes, data, order, k, exclude_self)
        # In the order given (callers pass pixels in image order, which keeps consecutive
        # queries close).
        return _query(data, order, *nodes, queries, np.arange(m), k, False)
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
    # One pass for both checks: the largest magnitude is NaN or inf if any coordinate is.
    largest = float(np.abs(array).max())
    if not np.isfinite(largest):
        raise ValueError(f"{name} contain NaN or infinite values")
    if largest > MAX_COORDINATE:
        # Squared distances of larger coordinates overflow to inf, and every neighbour
        # comparison then fails.
        raise ValueError(
            f"{name} have coordinates up to {largest:g}; at most {MAX_COORDINATE:g} in "
            "magnitude are supported (their squared distances would overflow)"
        )
    return array


@njit(cache=True, nogil=True, parallel=True)
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


@njit(cache=True, nogil=True)
def _select_rows(data, order, start, end, nth, dim):  # pragma: no cover
    # Hoare quickselect on rows: reorders data[start:end] (and order alongside) so that
    # data[nth, dim] is the value a full sort would put there, smaller or equal ones before,
    # greater or equal after. Whole rows move, so that each node's points stay contiguous.
    dims = data.shape[1]
    low, high = start, end - 1
    while high > low:
        middle = (low + high) // 2
        a, b, c = data[low, dim], data[middle, dim], data[high, dim]
        pivot = max(min(a, b), min(max(a, b), c))
        i, j = low, high
        while i <= j:
            while data[i, dim] < pivot:
                i += 1
            while data[j, dim] > pivot:
                j -= 1
            if i <= j:
                _swap(data, order, i, j, dims)
                i += 1
                j -= 1
        if nth <= j:
            high = j
        elif nth >= i:
            low = i
        else:
            return


@njit(cache=True, nogil=True)
def _partition_below(data, order, s, e, dim, v):  # pragma: no cover
    # Moves the rows of data[s:e] whose value in dimension dim is below v to the front (order
    # alongside); returns where the others start.
    dims = data.shape[1]
    i, j = s, e - 1
    while i <= j:
        if data[i, dim] < v:
            i += 1
        else:
            _swap(data, order, i, j, dims)
            j -= 1
    return i


@njit(cache=True, nogil=True, inline="always")
def _swap(data, order, i, j, dims):  # pragma: no cover
    for c in range(dims):
        data[i, c], data[j, c] = data[j, c], data[i, c]
    order[i], order[j] = order[j], order[i]


@njit(cache=True, nogil=True)
def _build_tree(points, leaf_size):  # pragma: no cover
    # Returns the points in tree order (data, so that each node's points are contiguous:
    # data[start[i]:end[i]]), the permutation (data = points[order]) and the nodes. A node
    # is split in the dimension of largest variance, at the mean: on KNN-matting features
    # this made the query 1.3-1.8 times faster than medians of the widest dimension (which
    # spend splits on a few outlying values, such as the hue of near-gray pixels). When the
    # mean leaves less than a quarter of the points on one side, the split is at the median
    # instead, with the points equal to it moved to one side if that leaves each child a
    # quarter (pixel features repeat values, and children sharing points on the splitting
    # plane would have touching boxes, both searched by every query near that plane). So
    # children have at least a quarter of their parent's points: the depth is at most
    # log(n) / log(4 / 3) + 1 < 160 (the fixed stacks here and in the query hold 256) and
    # leaves have at least leaf_size / 4 points. Nodes keep their bounding box: the query's
    # lower bounds are box distances, tighter than the distance to the splitting plane.
    # Children of node i are left[i] and left[i] + 1.
    n, dims = points.shape
    data = points.copy()
    order = np.arange(n)
    max_nodes = 2 * (n // max(leaf_size // 4, 1) + 1) + 1
    start = np.empty(max_nodes, np.int64)
    end = np.empty(max_nodes, np.int64)
    left = np.full(max_nodes, -1, np.int64)
    low = np.empty((max_nodes, dims))
    high = np.empty((max_nodes, dims))
    mean = np.empty(dims)
    variance = np.empty(dims)
    stack = np.empty(256, np.int64)
    start[0], end[0] = 0, n
    count = 1
    top = 1
    stack[0] = 0
    while top > 0:
        top -= 1
        node = stack[top]
        s, e = start[node], end[node]
        for c in range(dims):
            low[node, c] = data[s, c]
            high[node, c] = data[s, c]
            mean[c] = 0.0
            variance[c] = 0.0
        for p in range(s, e):
            for c in range(dims):
                value = data[p, c]
                low[node, c] = min(low[node, c], value)
                high[node, c] = max(high[node, c], value)
                mean[c] += value
        if e - s <= leaf_size:
            continue
        for c in range(dims):
            mean[c] /= e - s
        for p in range(s, e):
            for c in range(dims):
                variance[c] += (data[p, c] - mean[c]) ** 2
        best_dim, best = -1, -1.0
        for c in range(dims):
            if high[node, c] > low[node, c] and variance[c] > best:
                best_dim, best = c, variance[c]
        if best_dim < 0:
            continue  # all points equal
        quarter = max((e - s) // 4, 1)
        # Below the mean to the left, the rest to the right.
        middle = _partition_below(data, order, s, e, best_dim, mean[best_dim])
        if middle - s < quarter or e - middle < quarter:
            middle = _median_split(data, order, s, e, best_dim, quarter)
        left[node] = count
        start[count], end[count] = s, middle
        start[count + 1], end[count + 1] = middle, e
        stack[top] = count
        stack[top + 1] = count + 1
        top += 2
        count += 2
    return data, order, start[:count], end[:count], left[:count], low[:count], high[:count]


@njit(cache=True, nogil=True)
def _median_split(data, order, s, e, dim, quarter):  # pragma: no cover
    # Splits data[s:e] at the median of dimension dim; the points equal to the median (v),
    # data[below:above] once those before the middle that equal it are moved to its left
    # and those after it to its right, then go to one side if each side keeps a quarter.
    middle = (s + e) // 2
    _select_rows(data, order, s, e, middle, dim)
    dims = data.shape[1]
    v = data[middle, dim]
    below = _partition_below(data, order, s, middle, dim, v)
    i, j = middle, e - 1
    while i <= j:
        if data[i, dim] == v:
            i += 1
        else:
            _swap(data, order, i, j, dims)
            j -= 1
    above = i
    if middle - below <= above - middle:
        if below - s >= quarter:
            return below
        if e - above >= quarter:
            return above
    else:
        if e - above >= quarter:
            return above
        if below - s >= quarter:
            return below
    return middle


@njit(cache=True, nogil=True, inline="always")
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


@njit(cache=True, nogil=True, inline="always")
def _box_distance(low, high, node, query, dims):  # pragma: no cover
    # Squared distance from the query to the node's box, summed in _squared_distance's order
    # (with fewer than 8 dimensions that order is plain left to right): each term is at most
    # the matching term of any point in the box, so the bound is at most the point's computed
    # distance (rounding is monotonic), exactly, not just nearly.
    if dims < 8:
        total = 0.0
        for c in range(dims):
            d = max(low[node, c] - query[c], 0.0) + max(query[c] - high[node, c], 0.0)
            total += d * d
        return total
    s0 = s1 = s2 = s3 = 0.0
    c = 0
    while c + 4 <= dims:
        d0 = max(low[node, c] - query[c], 0.0) + max(query[c] - high[node, c], 0.0)
        d1 = max(low[node, c + 1] - query[c + 1], 0.0) + max(query[c + 1] - high[node, c + 1], 0.0)
        d2 = max(low[node, c + 2] - query[c + 2], 0.0) + max(query[c + 2] - high[node, c + 2], 0.0)
        d3 = max(low[node, c + 3] - query[c + 3], 0.0) + max(query[c + 3] - high[node, c + 3], 0.0)
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
        c += 4
    total = s0 + s1 + s2 + s3
    while c < dims:
        d = max(low[node, c] - query[c], 0.0) + max(query[c] - high[node, c], 0.0)
        total += d * d
        c += 1
    return total


# Queries per task of the parallel loop.
_CHUNK = 128


@njit(cache=True, nogil=True, parallel=True)
def _query(data, order, start, end, left, low, high, queries, rows, k, skip):  # pragma: no cover
    # The k nearest tree points of each query, written to output row rows[q] (see
    # _query_range); in parallel over chunks of consecutive queries.
    m = queries.shape[0]
    out_d = np.empty((m, k))
    out_i = np.empty((m, k), np.int64)
    for chunk in prange((m + _CHUNK - 1) // _CHUNK):
        _query_range(
            data, order, start, end, left, low, high, queries, rows, k, skip,
            chunk * _CHUNK, min(m, (chunk + 1) * _CHUNK), out_d, out_i,
        )  # fmt: skip
    return out_i, out_d


@njit(cache=True, nogil=True)
def _query_range(
    data, order, start, end, left, low, high, queries, rows, k, skip, first, last, out_d, out_i
):  # pragma: no cover
    # Queries first to last - 1, with one set of scratch arrays (called from the parallel
    # loop, once per chunk). data: the points in tree order, so that a leaf's points are
    # contiguous in memory. Depth-first search, nearer child first,
    # keeping the k best squared distances in no particular order, with the slot of the
    # largest (replacing it and finding the next largest costs less than keeping the list
    # sorted). With skip, the queries are data itself and query q leaves out tree point q
    # (itself). Squared distances are summed as cKDTree sums them and rooted once at the
    # end, as it does, which makes them bit-identical to cKDTree's. Nodes whose box is no
    # nearer than the k-th distance found are skipped: their points could not enter the list.
    # Rows come out sorted by (distance, index).
    dims = data.shape[1]
    best_d = np.empty(k)
    best_i = np.empty(k, np.int64)
    stack = np.empty(256, np.int64)
    bounds = np.empty(256)
    for q in range(first, last):
        query = queries[q]
        best_d[:] = np.inf
        best_i[:] = -1
        stack[0] = 0
        bounds[0] = 0.0
        top = 1
        worst = np.inf
        slot = 0
        while top > 0:
            top -= 1
            node = stack[top]
            if bounds[top] >= worst:
                continue
            child = left[node]
            if child < 0:
                for p in range(start[node], end[node]):
                    distance = _squared_distance(data[p], query, dims)
                    if distance < worst and not (skip and p == q):
                        best_d[slot] = distance
                        best_i[slot] = order[p]
                        worst = best_d[0]
                        slot = 0
                        for j in range(1, k):
                            if best_d[j] > worst:
                                worst = best_d[j]
                                slot = j
                continue
            bound_a = _box_distance(low, high, child, query, dims)
            bound_b = _box_distance(low, high, child + 1, query, dims)
            if bound_a <= bound_b:
                near, far, near_bound, far_bound = child, child + 1, bound_a, bound_b
            else:
                near, far, near_bound, far_bound = child + 1, child, bound_b, bound_a
            if far_bound < worst:
                stack[top] = far
                bounds[top] = far_bound
                top += 1
            if near_bound < worst:
                stack[top] = near
                bounds[top] = near_bound
                top += 1
        # Rooted, then sorted by (distance, index) (insertion sort: k is small).
        row = rows[q]
        for t in range(k):
            distance = np.sqrt(best_d[t])
            index = best_i[t]
            j = t
            while j > 0 and (
                out_d[row, j - 1] > distance
                or (out_d[row, j - 1] == distance and out_i[row, j - 1] > index)
            ):
                out_d[row, j] = out_d[row, j - 1]
                out_i[row, j] = out_i[row, j - 1]
                j -= 1
            out_d[row, j] = distance
            out_i[row, j] = index
