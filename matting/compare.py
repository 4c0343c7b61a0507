"""Run several matting methods on one input, time them and score them against a ground truth."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable

import numpy as np

from . import metrics
from ._inputs import as_alpha, check_switches, image_and_trimap
from .methods import METHODS, get_method

__all__ = ["ComparisonTable", "compare"]

#: The columns of a comparison row, in order.
COLUMNS = ("method", "seconds", "sad", "mse", "gradient", "connectivity")


class ComparisonTable(list):
    """The rows of :func:`compare`: a list of dicts that also prints as an aligned table.

    Each row has the keys ``method, seconds, sad, mse, gradient, connectivity`` (the errors
    are None without a ground truth), plus ``alpha`` when requested.
    """

    def __str__(self) -> str:
        widths = {column: max(len(column), 12) for column in COLUMNS}
        widths["method"] = max([len("method")] + [len(str(row["method"])) for row in self])
        lines = ["  ".join(f"{column:>{widths[column]}}" for column in COLUMNS)]
        for row in self:
            cells = [f"{row['method']:>{widths['method']}}"]
            for column in COLUMNS[1:]:
                value = row[column]
                text = "-" if value is None else f"{value:.4g}"
                cells.append(f"{text:>{widths[column]}}")
            lines.append("  ".join(cells))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        header = "".join(f"<th>{column}</th>" for column in COLUMNS)
        body = "".join(
            "<tr>"
            + "".join(
                f"<td>{'-' if row[column] is None else _html_cell(row[column])}</td>"
                for column in COLUMNS
            )
            + "</tr>"
            for row in self
        )
        return f"<table><tr>{header}</tr>{body}</table>"


def _html_cell(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


#: Keywords people reach for when they mean ``gt=`` (no method takes them).
_GROUND_TRUTH_NAMES = {"ground_truth", "true_alpha", "alpha_true", "truth", "gt_alpha"}


def accepted_options(function: Callable, options: dict) -> dict:
    """The subset of ``options`` that ``function`` accepts as keyword arguments."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return dict(options)
    if any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters.values()):
        return dict(options)
    return {key: value for key, value in options.items() if key in parameters}


def check_options_used(
    functions: Iterable[Callable], options: dict, hints: dict[str, str] | None = None
) -> None:
    """ValueError naming the options that none of ``functions`` accepts: most likely
    misspelt, they would otherwise do nothing. ``hints`` maps option names people use by
    mistake to the message to give instead."""
    accepted = set().union(*(accepted_options(function, options) for function in functions))
    unused = sorted(set(options) - accepted)
    for name in unused:
        if hints and name in hints:
            raise ValueError(hints[name])
    if unused:
        raise ValueError(f"no selected method accepts the option(s) {', '.join(unused)}")


def compare(
    image,
    trimap,
    methods: Iterable[str | Callable] | None = None,
    gt=None,
    *,
    return_alpha: bool = False,
    **options,
) -> ComparisonTable:
    """Run several matting methods on one image and trimap, time them and score them.

    Parameters
    ----------
    image : array_like, HxW, HxWx3 or HxWx4
        ``uint8``, ``uint16`` or float in [0, 1].
    trimap : array_like, HxW
        0 background, 1 foreground (255 for ``uint8``), anything between unknown.
    methods : str, callable, or iterable of them, optional
        Registered method names (see :data:`matting.METHODS`) or callables
        ``f(image, trimap, **options) -> alpha``. Default: every registered method.
    gt : array_like, HxW, optional
        The true alpha. With it, each row gets the four Deep Image Matting errors (SAD,
        MSE, gradient, connectivity) over the trimap's unknown pixels.
    return_alpha : bool
        Add each method's alpha to its row under the key ``"alpha"``.
    **options
        Options for the methods. A keyword that names a method (``closed_form={"eps":
        1e-6}``) gives options to that method only; any other keyword (``rtol=1e-6``) goes
        to every method whose signature accepts it and is ignored by the others; one that
        no selected method accepts raises ``ValueError`` (it is most likely misspelt).

    Returns
    -------
    ComparisonTable
        A list with one dict per method, in the order given, with the keys ``method,
        seconds, sad, mse, gradient, connectivity`` (errors None without ``gt``) and
        ``alpha`` if requested. ``print(table)`` shows it aligned; in a notebook it renders
        as HTML.

    Notes
    -----
    Times are wall-clock seconds of one call each, including Numba compilation the first time
    a method runs in a fresh environment (later runs read the compiled code from the cache).

    Examples
    --------
    >>> import matting
    >>> image, trimap, true_alpha = matting.datasets.load_sample()
    >>> table = matting.compare(image, trimap, ["closed_form", "knn"], gt=true_alpha)
    >>> print(table)  # doctest: +SKIP
    """
    check_switches(return_alpha=return_alpha)
    image, trimap = image_and_trimap(image, trimap)
    if gt is not None:
        gt = as_alpha(gt, trimap.shape, name="gt")
    if methods is None:
        methods = METHODS
    elif isinstance(methods, str) or callable(methods):
        methods = [methods]  # one method; a string would otherwise be read letter by letter
    selected = [get_method(method) for method in methods]
    if not selected:
        raise ValueError("methods must name at least one method")
    names = [name for name, _ in selected]
    per_method = {key: options.pop(key) for key in list(options) if key in names}
    for key, value in per_method.items():
        if not isinstance(value, dict):
            raise TypeError(f"options for method {key!r} must be a dict, got {type(value)}")
    # A method of the user's own may take such a keyword; only an unused one gets the hint.
    hints = {
        name: f"compare takes the true alpha as gt=, got {name}=" for name in _GROUND_TRUTH_NAMES
    }
    check_options_used([function for _, function in selected], options, hints)

    table = ComparisonTable()
    for name, function in selected:
        method_options = {**accepted_options(function, options), **per_method.get(name, {})}
        start = time.perf_counter()
        # Checked with or without gt=: a method of the user's own may return anything.
        alpha = as_alpha(
            function(image, trimap, **method_options), trimap.shape, name=f"{name}'s alpha"
        )
        seconds = time.perf_counter() - start
        row = {"method": name, "seconds": seconds}
        row.update(_scores(alpha, gt, trimap))
        if return_alpha:
            row["alpha"] = alpha
        table.append(row)
    return table


def _scores(alpha: np.ndarray, gt: np.ndarray | None, trimap: np.ndarray) -> dict:
    if gt is None:
        return dict.fromkeys(COLUMNS[2:])
    return {
        "sad": metrics.sad(alpha, gt, trimap),
        "mse": metrics.mse(alpha, gt, trimap),
        "gradient": metrics.gradient_error(alpha, gt, trimap),
        "connectivity": metrics.connectivity_error(alpha, gt, trimap),
    }
