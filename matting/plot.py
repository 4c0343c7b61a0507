"""Matplotlib figures: method comparison grids with error maps, solver convergence, and the
components of spectral matting.

Every function returns a :class:`matplotlib.figure.Figure` made without pyplot, so nothing is
kept in pyplot's global state: a notebook shows the figure when it is the cell's value, and
``figure.savefig(path)`` writes it to a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from . import metrics
from ._inputs import as_alpha, as_image, image_and_trimap

__all__ = ["comparison", "components", "convergence"]


def _show(axes, picture, title: str, cmap: str = "gray", vmax: float = 1.0) -> None:
    axes.imshow(picture, cmap=cmap, vmin=0.0, vmax=vmax, interpolation="nearest")
    axes.set_title(title, fontsize=9)
    axes.set_axis_off()


def _alphas_by_name(alphas) -> dict[str, np.ndarray]:
    if isinstance(alphas, Mapping):
        return dict(alphas)
    named = {}
    for row in alphas:
        if "alpha" not in row:
            raise ValueError(
                "alphas rows must have an 'alpha' (use compare(..., return_alpha=True))"
            )
        named[row["method"]] = row["alpha"]
    return named


def comparison(
    image,
    trimap,
    alphas,
    gt=None,
    *,
    error_scale: float = 0.5,
    panel_size: float = 2.6,
) -> Figure:
    """A grid of the image, the trimap and each method's alpha, with error maps under them.

    Parameters
    ----------
    image, trimap : array_like
        The input, as passed to the methods.
    alphas : mapping or list of rows
        ``{name: alpha}``, or the table of ``matting.compare(..., return_alpha=True)``.
    gt : array_like, optional
        The true alpha. With it a second row shows it (under the trimap) and, under each
        method, the absolute error ``|alpha - gt|`` with its SAD and MSE over the unknown
        pixels in the title.
    error_scale : float
        The error that maps to the brightest colour of the error maps.
    panel_size : float
        Width of one panel in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    image, trimap = image_and_trimap(image, trimap)
    named = {
        name: as_alpha(alpha, trimap.shape, name=f"alphas[{name!r}]")
        for name, alpha in _alphas_by_name(alphas).items()
    }
    if not named:
        raise ValueError("alphas must hold at least one alpha matte")
    if gt is not None:
        gt = as_alpha(gt, trimap.shape, name="gt")
    n_rows = 1 if gt is None else 2
    n_cols = 2 + len(named)
    aspect = image.shape[0] / image.shape[1]
    figure = Figure(figsize=(panel_size * n_cols, panel_size * aspect * n_rows + 0.6 * n_rows))
    grid = figure.subplots(n_rows, n_cols, squeeze=False)
    _show(grid[0, 0], image, "image")
    _show(grid[0, 1], trimap, "trimap")
    for column, (name, alpha) in enumerate(named.items(), start=2):
        _show(grid[0, column], alpha, name)
    if gt is not None:
        grid[1, 0].set_axis_off()
        _show(grid[1, 1], gt, "ground truth")
        for column, (name, alpha) in enumerate(named.items(), start=2):
            title = (
                f"SAD {metrics.sad(alpha, gt, trimap):.2f}, "
                f"MSE {metrics.mse(alpha, gt, trimap):.4f}"
            )
            _show(grid[1, column], np.abs(alpha - gt), title, cmap="magma", vmax=error_scale)
    figure.tight_layout()
    return figure


def convergence(
    infos,
    labels: Sequence[str] | None = None,
    *,
    rtol: float | None = None,
) -> Figure:
    """Relative residual against iteration for one or more solves.

    Parameters
    ----------
    infos : SolveInfo, iterable of SolveInfo, or mapping of label to SolveInfo
        What ``return_info=True`` returned (from a method or from :func:`matting.linalg.solve`).
    labels : sequence of str, optional
        A legend label per solve; default: the mapping's keys, else the solver's name.
    rtol : float, optional
        Draw the stopping tolerance as a horizontal line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(infos, Mapping):
        labels = list(infos) if labels is None else labels
        solves = list(infos.values())
    else:
        solves = [infos] if hasattr(infos, "residuals") else list(infos)
    if not solves:
        raise ValueError("infos must hold at least one SolveInfo")
    if labels is not None and len(labels) != len(solves):
        raise ValueError(f"labels has {len(labels)} entries for {len(solves)} solves")
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    for index, info in enumerate(solves):
        residuals = np.asarray(info.residuals, dtype=np.float64)
        label = labels[index] if labels is not None else f"{info.solver} ({info.iterations} it.)"
        # A zero residual (exact solve) cannot be drawn on a log axis.
        axes.semilogy(np.arange(len(residuals)), np.maximum(residuals, 1e-300), label=label)
    if rtol is not None:
        axes.axhline(rtol, color="gray", linestyle="--", linewidth=1, label=f"rtol {rtol:g}")
    axes.set_xlabel("iteration")
    axes.set_ylabel("relative residual")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    return figure


def components(components, *, image=None, columns: int = 5, panel_size: float = 2.0) -> Figure:
    """A grid of spectral matting components (and the image first, if given), to look at them.

    Parameters
    ----------
    components : array_like, HxWxK
        As returned by :func:`matting.methods.spectral.spectral_components`.
    image : array_like, optional
        The image, shown in the first panel.
    columns : int
        Panels per row.
    panel_size : float
        Width of one panel in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Made without pyplot (nothing is kept in pyplot's state); ``figure.savefig(path)``
        writes it.
    """
    components = np.asarray(components, dtype=np.float64)
    if components.ndim != 3 or components.shape[2] < 1:
        raise ValueError(f"components has shape {components.shape}; expected HxWxK")
    if isinstance(columns, bool) or not isinstance(columns, (int, np.integer)) or columns < 1:
        raise ValueError(f"columns must be a whole number >= 1, got {columns!r}")
    panels = [] if image is None else [("image", as_image(image, name="image"))]
    if image is not None and panels[0][1].shape[:2] != components.shape[:2]:
        raise ValueError(
            f"image has shape {panels[0][1].shape[:2]} but components are "
            f"{components.shape[:2]}; they must match"
        )
    for index in range(components.shape[2]):
        share = components[:, :, index].mean()
        panels.append((f"component {index} ({100 * share:.0f}%)", components[:, :, index]))
    rows = -(-len(panels) // columns)
    used_columns = min(columns, len(panels))
    height, width = components.shape[:2]
    figure = Figure(
        figsize=(panel_size * used_columns, panel_size * rows * height / width + 0.3 * rows)
    )
    grid = figure.subplots(rows, used_columns, squeeze=False)
    for axes in grid.ravel():
        axes.set_axis_off()
    for axes, (title, picture) in zip(grid.ravel(), panels, strict=False):
        axes.imshow(picture, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        axes.set_title(title, fontsize=8)
    figure.tight_layout()
    return figure
