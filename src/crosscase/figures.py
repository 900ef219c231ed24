"""Figures drawn from the study data, and writing them deterministically.

Figures are written as PNG and SVG with no timestamps, version strings or random ids, so that
the same data give byte-identical files (:func:`figure_bytes`, :func:`write_figure`). Colours
come from :mod:`crosscase.palette`; every colour that carries a meaning is named in a legend.
The figures of assisted coding are in :mod:`crosscase.assisted.figures`.
"""

from __future__ import annotations

import io
import math
import textwrap
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display needed; notebooks show the written PNG bytes
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Patch
from matplotlib.transforms import Bbox

from .model import Framework, Perspective
from .outputs import atomic_write, plural
from .palette import BLUE, FALLS, HOLDS, LIGHT, ORANGE, PERSPECTIVE_EDGES, PERSPECTIVE_FILLS, SKY

#: Fixed salt for the ids matplotlib writes into SVG files (otherwise random per run).
SVG_HASH_SALT = "crosscase"
#: What each format would otherwise stamp on the file (the software's version, the date).
_METADATA: dict[str, dict[str, str | None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
}


def _tight_bbox(fig: Figure) -> Bbox:
    """The figure's tight bounding box, padded as ``bbox_inches="tight"`` pads it: computed once
    and given to both formats (savefig would otherwise draw the figure an extra time for each)."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    return fig.get_tightbbox(renderer).padded(matplotlib.rcParams["savefig.pad_inches"])


def figure_bytes(fig: Figure, fmt: str, dpi: int = 150, bbox: Bbox | None = None) -> bytes:
    """Render ``fig`` to PNG or SVG bytes with no timestamps, software versions or random ids;
    SVG text stays text (searchable, and independent of how glyphs are outlined)."""
    if fmt not in _METADATA:
        raise ValueError(f"unsupported figure format {fmt!r}")
    buf, bbox = io.BytesIO(), bbox or _tight_bbox(fig)
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT, "svg.fonttype": "none"}):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=_METADATA[fmt], bbox_inches=bbox)
    return buf.getvalue()


def write_figure(fig: Figure, folder: Path, name: str) -> list[Path]:
    """Write ``<name>.png`` and ``<name>.svg`` into ``folder``; return their paths."""
    bbox = _tight_bbox(fig)
    return [
        atomic_write(folder / f"{name}.{fmt}", figure_bytes(fig, fmt, bbox=bbox))
        for fmt in ("png", "svg")
    ]


#: The heatmaps' cell borders, and the figures' legends (below the axes).
_GRID = {"linewidths": 0.5, "linecolor": "white"}
_BELOW: dict[str, Any] = {"loc": "outside lower center", "frameon": False}
#: A box: x, y, width, height; and text centred on a point.
XYWH = tuple[float, float, float, float]
_CENTRED: dict[str, Any] = {"ha": "center", "va": "center"}


def style(size: float = 10) -> AbstractContextManager[None]:
    """The compendium's figure style."""
    return plt.rc_context({"font.family": "DejaVu Sans", "font.size": size})


def label_inches(labels: list[str], size: float = 10) -> float:
    """About how wide the longest tick label is, in inches (DejaVu Sans: ~0.55 em a character)."""
    return 0.55 * size / 72 * max((len(str(x)) for x in labels), default=0)


# The framework -----------------------------------------------------------------------------------


def _box(ax: Axes, xywh: XYWH, text: str, fill: str, edge: str, wrap: int, lw: float = 1.2) -> None:
    """A rounded box at ``xywh`` with ``text`` wrapped at ``wrap`` characters."""
    x, y, w, h = xywh
    rounded = "round,pad=0.02,rounding_size=0.12"
    box = FancyBboxPatch((x, y), w, h, rounded, facecolor=fill, edgecolor=edge, linewidth=lw)
    ax.add_patch(box)
    ax.text(x + w / 2, y + h / 2, textwrap.fill(text, wrap), **_CENTRED, fontweight="normal")


def _perspective(ax: Axes, xywh: XYWH, level: int, perspective: Perspective, head: float) -> None:
    """A perspective's frame, its label along the top."""
    x, y, w, h = xywh
    edge = PERSPECTIVE_EDGES[level % 4]
    _box(ax, xywh, "", PERSPECTIVE_FILLS[level % 4], edge, 40, lw=2)
    at = (x + w / 2, y + h - head / 2)
    ax.text(*at, perspective.label, **_CENTRED, fontsize=12, fontweight="bold", color=edge)


def framework_figure(framework: Framework, title: str | None = None) -> Figure:
    """Draw the framework as nested perspectives: the first perspective innermost, each later one
    a frame around it with its dimensions in a band along the bottom (a framework in which one
    perspective is embedded in another)."""
    persp = framework.perspectives
    dims = {p.id: [d for d in framework.dimensions if d.perspective == p.id] for p in persp}
    inner = dims[persp[0].id]
    cols = max(1, math.ceil(math.sqrt(len(inner))))
    rows = max(1, math.ceil(len(inner) / cols))
    cell_w, cell_h, gap, band, margin, head = 3.4, 1.0, 0.3, 1.5, 0.35, 0.6
    inner_w = cols * cell_w + (cols + 1) * gap
    inner_h = rows * cell_h + (rows + 1) * gap + head
    total_w = inner_w + 2 * margin * (len(persp) - 1)
    total_h = inner_h + (band + margin + head) * (len(persp) - 1)
    with style():
        fig, ax = plt.subplots(figsize=(total_w * 0.95, total_h * 0.95))
    ax.set_xlim(-0.1, total_w + 0.1)
    ax.set_ylim(-0.1, total_h + 0.1)
    ax.set_axis_off()
    # Outer frames, outermost first so inner ones draw on top, each with its dimensions' band.
    x0, y0, w, h = 0.0, 0.0, total_w, total_h
    for level in range(len(persp) - 1, 0, -1):
        _perspective(ax, (x0, y0, w, h), level, persp[level], head)
        members = dims[persp[level].id]
        bw = (w - (len(members) + 1) * gap) / max(1, len(members))
        for i, d in enumerate(members):
            xywh = (x0 + gap + i * (bw + gap), y0 + gap, bw, band - gap)
            _box(ax, xywh, d.label, "white", PERSPECTIVE_EDGES[level % 4], 20)
        x0, y0 = x0 + margin, y0 + band + margin
        w, h = w - 2 * margin, h - band - margin - head
    # Innermost perspective and its grid of dimensions.
    _perspective(ax, (x0, y0, inner_w, inner_h), 0, persp[0], head)
    for i, d in enumerate(inner):
        r, c = divmod(i, cols)
        at = (x0 + gap + c * (cell_w + gap), y0 + inner_h - head - (r + 1) * (cell_h + gap))
        _box(ax, (*at, cell_w, cell_h), d.label, "white", PERSPECTIVE_EDGES[0], 28)
    if title:
        ax.set_title(title, fontsize=12)
    return fig


# Second-order themes and their robustness --------------------------------------------------------


def _rule_marks(ax: Axes, data: pd.DataFrame, threshold: int) -> list[Line2D]:
    """Beside each row, how many cases evidence the theme, coloured by whether that meets the
    rule; the legend's marks for the colours used."""
    meet = []
    for i, (_, row) in enumerate(data.iterrows()):
        n = int((row > 0).sum())
        meet.append(n >= threshold)
        colour, weight = (HOLDS, "bold") if meet[-1] else (FALLS, "normal")
        at = (data.shape[1] + 0.15, i + 0.5)
        ax.text(*at, plural(n, "case"), va="center", color=colour, fontsize=9, fontweight=weight)
    rule = f"meets the rule ({threshold}+ {'case' if threshold == 1 else 'cases'})"
    marks = [(True, HOLDS, rule), (False, FALLS, "below the rule")]
    return [Line2D([], [], ls="", marker="s", color=c, label=t) for m, c, t in marks if m in meet]


def theme_heatmap(
    matrix: pd.DataFrame,
    row_labels: list[str],
    threshold: int | None = None,
    title: str | None = None,
    case_labels: list[str] | None = None,
) -> Figure:
    """Theme x case heatmap of evidence counts (a labelled colour bar, from 0 to the highest
    count, says what the shades count), cases labelled ``case_labels`` (by default their
    numbers); beside each row, how many cases evidence the theme, coloured by whether that meets
    the discriminator rule (the colours used named in a legend)."""
    with style():
        height = 2.4 + 0.3 * len(matrix) + label_inches(case_labels or []) / 2  # labels at 30°
        width = label_inches(row_labels) + 0.7 * matrix.shape[1] + 2.8
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
        data = matrix.copy()
        data.index = pd.Index(row_labels)
        if case_labels is not None:
            data.columns = pd.Index(case_labels)
        top = max(1, int(data.to_numpy().max()))
        ticks = range(top + 1)
        bar = {"label": "first-order observations", "shrink": 0.6, "pad": 0.12, "ticks": ticks}
        cells = {"annot": True, "fmt": "d", "cmap": "Blues", "vmin": 0, "vmax": top, **_GRID}
        sns.heatmap(data, cbar=True, cbar_kws=bar, ax=ax, **cells)
        ax.set_xlabel("Case")
        ax.set_ylabel("")
        if case_labels is not None:
            ax.tick_params(axis="x", rotation=30)
            for tick in ax.get_xticklabels():
                tick.set_horizontalalignment("right")
        if threshold is not None:
            marks = _rule_marks(ax, data, threshold)
            fig.legend(handles=marks, ncol=2, title="Cases evidencing the theme", **_BELOW)
        if title:
            fig.suptitle(title, x=0.5, ha="center")
    return fig


def robustness_figure(
    loo: pd.DataFrame, sweep: pd.DataFrame, row_labels: list[str], title: str | None = None
) -> Figure:
    """Two panels: does each theme remain a discriminator when one case is left out (left), and
    under each minimum number of cases (right)? The two colours are named in a legend."""
    cmap = sns.color_palette([FALLS, HOLDS], as_cmap=True)
    with style():
        width = label_inches(row_labels) + 0.5 * (loo.shape[1] + sweep.shape[1]) + 1.2
        height = 2.4 + 0.3 * len(loo)
        ratios = {"width_ratios": [max(1, loo.shape[1]), max(1, sweep.shape[1])]}
        fig, (left, right) = plt.subplots(
            1, 2, figsize=(width, height), sharey=True, gridspec_kw=ratios, layout="constrained"
        )
        for ax, data, xlabel, panel in (
            (left, loo, "Case left out", "Without\neach case"),
            (right, sweep, "Minimum number\nof cases", "At each\nminimum"),
        ):
            frame = data.astype(int)
            frame.index = pd.Index(row_labels)
            sns.heatmap(frame, cmap=cmap, vmin=0, vmax=1, cbar=False, ax=ax, **_GRID)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("")
            ax.set_title(panel)
        right.tick_params(left=False)
        holds = Patch(color=HOLDS, label="holds: still a discriminator")
        falls = Patch(color=FALLS, label="falls below the rule")
        fig.legend(handles=[holds, falls], ncol=2, **_BELOW)
        if title:
            fig.suptitle(title, x=0.5, ha="center")
    return fig


# The chain of evidence ---------------------------------------------------------------------------

#: The grounds figure's series, in order: fill and hatch (the second and the last also read
#: without colour).
_GROUNDS_STYLE = [(BLUE, ""), (SKY, ".."), (ORANGE, ""), (LIGHT, "///")]


def _rule_line(ax: Axes, threshold: int) -> None:
    """The rule as a dashed vertical line, labelled above the axes."""
    grey = "#333333"
    ax.axvline(threshold, color=grey, linestyle="--", linewidth=1)
    text: dict[str, Any] = {"ha": "center", "va": "bottom", "fontsize": 8, "color": grey}
    at, where = (threshold, 1.0), ("data", "axes fraction")
    label = f"rule: {plural(threshold, 'case')}"
    ax.annotate(label, at, xytext=(0, 3), xycoords=where, textcoords="offset points", **text)


def grounds_figure(
    counts: pd.DataFrame,
    row_labels: list[str],
    legend: list[str],
    threshold: int | None = None,
    title: str | None = None,
) -> Figure:
    """One horizontal bar per row (a theme), stacked from the columns of ``counts`` in order (how
    many of its cases rest on each kind of grounds), with a legend saying what each colour means
    (``legend``, one label per column) and, with ``threshold``, the rule as a dashed line."""
    if counts.shape[1] > len(_GROUNDS_STYLE):
        raise ValueError(f"at most {len(_GROUNDS_STYLE)} series, not {counts.shape[1]}")
    with style():
        wrapped = [textwrap.fill(label, 60) for label in row_labels]
        lines = sum(label.count("\n") + 1 for label in wrapped)
        fig, ax = plt.subplots(figsize=(11.0, 1.8 + 0.24 * lines), layout="constrained")
        y = list(range(len(counts)))
        left = [0] * len(counts)
        styles = _GROUNDS_STYLE[: len(legend)]
        for column, label, (colour, hatch) in zip(counts.columns, legend, styles, strict=True):
            values = [int(v) for v in counts[column]]
            bars: dict[str, Any] = {"edgecolor": "white", "linewidth": 0.8, "label": label}
            ax.barh(y, values, left=left, color=colour, hatch=hatch, **bars)
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_yticks(y, wrapped)
        ax.invert_yaxis()  # first row on top
        top = max([*left, threshold or 0, 1])
        ax.set_xlim(0, top + 0.5)
        ax.set_xticks(range(top + 1))
        ax.set_xlabel("Cases")
        ax.grid(axis="x", color="#e3e8ec", linewidth=0.6)
        ax.set_axisbelow(True)
        if threshold is not None:
            _rule_line(ax, threshold)
        fig.legend(ncols=len(legend), fontsize=9, **_BELOW)
        if title:
            fig.suptitle(title)
    return fig
