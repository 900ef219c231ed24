"""Figures drawn from the study data, and writing them deterministically.

Figures are written as PNG and SVG with no timestamps, version strings or random ids, so that
the same data give byte-identical files (:func:`figure_bytes`, :func:`write_figure`).
"""

from __future__ import annotations

import io
import math
import textwrap
from contextlib import AbstractContextManager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed; notebooks show the written PNG bytes
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from matplotlib.transforms import Bbox

from .model import Framework
from .outputs import atomic_write, plural

#: Colours that carry a meaning (Okabe and Ito's palette, told apart by colour-blind readers);
#: every figure that uses them names them in a legend.
MEANING = {"holds": "#0072b2", "falls": "#e69f00"}

#: Fixed salt for the ids matplotlib writes into SVG files (otherwise random per run).
SVG_HASH_SALT = "crosscase"


def _tight_bbox(fig: Figure) -> Bbox:
    """The figure's tight bounding box, padded as ``bbox_inches="tight"`` pads it: computed once
    and given to both formats (savefig would otherwise draw the figure an extra time for each)."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    return fig.get_tightbbox(renderer).padded(matplotlib.rcParams["savefig.pad_inches"])


def figure_bytes(fig: Figure, fmt: str, dpi: int = 150, bbox: Bbox | None = None) -> bytes:
    """Render ``fig`` to PNG or SVG bytes with no timestamps, software versions or random ids;
    SVG text stays text (searchable, and independent of how glyphs are outlined)."""
    buf = io.BytesIO()
    metadata: dict[str, str | None]
    if fmt == "png":
        metadata = {"Software": None}
    elif fmt == "svg":
        metadata = {"Date": None, "Creator": None}
    else:
        raise ValueError(f"unsupported figure format {fmt!r}")
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT, "svg.fonttype": "none"}):
        fig.savefig(
            buf, format=fmt, dpi=dpi, metadata=metadata, bbox_inches=bbox or _tight_bbox(fig)
        )
    return buf.getvalue()


def write_figure(fig: Figure, folder: Path, name: str) -> list[Path]:
    """Write ``<name>.png`` and ``<name>.svg`` into ``folder``; return their paths."""
    bbox = _tight_bbox(fig)
    return [
        atomic_write(folder / f"{name}.{fmt}", figure_bytes(fig, fmt, bbox=bbox))
        for fmt in ("png", "svg")
    ]


_FILLS = ["#dbe9f6", "#fde9d0", "#e3f1dd", "#eee0f3"]
_EDGES = ["#2f6690", "#b5651d", "#3c7a3c", "#6a3d7a"]


def _box(
    ax: Axes,
    x: float,
    y: float,
    w: float,
    h: float,
    text: str,
    fill: str,
    edge: str,
    width: int,
    weight: str = "normal",
    lw: float = 1.2,
) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x, y),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=fill,
            edgecolor=edge,
            linewidth=lw,
        )
    )
    ax.text(
        x + w / 2,
        y + h / 2,
        textwrap.fill(text, width),
        ha="center",
        va="center",
        fontweight=weight,
    )


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
    with _style():
        fig, ax = plt.subplots(figsize=(total_w * 0.95, total_h * 0.95))
    ax.set_xlim(-0.1, total_w + 0.1)
    ax.set_ylim(-0.1, total_h + 0.1)
    ax.set_axis_off()
    # Outer frames, outermost first so inner ones draw on top.
    x0, y0, w, h = 0.0, 0.0, total_w, total_h
    frames = []
    for level in range(len(persp) - 1, 0, -1):
        frames.append((level, x0, y0, w, h))
        x0, y0 = x0 + margin, y0 + band + margin
        w, h = w - 2 * margin, h - band - margin - head
    for level, fx, fy, fw, fh in frames:
        p = persp[level]
        _box(ax, fx, fy, fw, fh, "", _FILLS[level % 4], _EDGES[level % 4], 40, lw=2)
        ax.text(
            fx + fw / 2,
            fy + fh - head / 2,
            p.label,
            ha="center",
            va="center",
            fontsize=12,
            fontweight="bold",
            color=_EDGES[level % 4],
        )
        members = dims[p.id]
        bw = (fw - (len(members) + 1) * gap) / max(1, len(members))
        for i, d in enumerate(members):
            _box(
                ax,
                fx + gap + i * (bw + gap),
                fy + gap,
                bw,
                band - gap,
                d.label,
                "white",
                _EDGES[level % 4],
                20,
            )
    # Innermost perspective and its grid of dimensions.
    _box(ax, x0, y0, inner_w, inner_h, "", _FILLS[0], _EDGES[0], 40, lw=2)
    ax.text(
        x0 + inner_w / 2,
        y0 + inner_h - head / 2,
        persp[0].label,
        ha="center",
        va="center",
        fontsize=12,
        fontweight="bold",
        color=_EDGES[0],
    )
    for i, d in enumerate(inner):
        r, c = divmod(i, cols)
        bx = x0 + gap + c * (cell_w + gap)
        by = y0 + inner_h - head - (r + 1) * (cell_h + gap)
        _box(ax, bx, by, cell_w, cell_h, d.label, "white", _EDGES[0], 28)
    if title:
        ax.set_title(title, fontsize=12)
    return fig


def _label_inches(labels: list[str], size: float = 10) -> float:
    """About how wide the longest tick label is, in inches (DejaVu Sans: ~0.55 em a character)."""
    return 0.55 * size / 72 * max((len(str(x)) for x in labels), default=0)


def _style() -> AbstractContextManager[None]:
    """The compendium's figure style."""
    return plt.rc_context({"font.family": "DejaVu Sans", "font.size": 10})


def _counts(data: pd.DataFrame, ax: Axes, vmax: int | None = None) -> None:
    """A heatmap of counts, annotated, in the compendium's blues."""
    sns.heatmap(
        data,
        annot=True,
        fmt="d",
        cmap="Blues",
        cbar=False,
        linewidths=0.5,
        linecolor="white",
        ax=ax,
        vmin=0,
        vmax=vmax,
    )


def theme_heatmap(
    matrix: pd.DataFrame,
    row_labels: list[str],
    threshold: int | None = None,
    title: str | None = None,
) -> Figure:
    """Theme x case heatmap of evidence counts (a labelled colour bar says what the shades
    count); beside each row, how many cases evidence the theme, coloured by whether that meets
    the discriminator rule (named in a legend)."""
    from matplotlib.lines import Line2D

    with _style():
        height = 2.4 + 0.3 * len(matrix)
        width = _label_inches(row_labels) + 0.7 * matrix.shape[1] + 2.8
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
        data = matrix.copy()
        data.index = pd.Index(row_labels)
        sns.heatmap(
            data,
            annot=True,
            fmt="d",
            cmap="Blues",
            cbar=True,
            cbar_kws={
                "label": "first-order observations",
                "shrink": 0.6,
                "pad": 0.12,
                "ticks": range(0, max(2, int(matrix.to_numpy().max())) + 1),
            },
            linewidths=0.5,
            linecolor="white",
            ax=ax,
            vmin=0,
            vmax=max(2, int(data.to_numpy().max())),
        )
        ax.set_xlabel("Case")
        ax.set_ylabel("")
        if threshold is not None:
            for i, (_, row) in enumerate(data.iterrows()):
                n = int((row > 0).sum())
                meets = n >= threshold
                ax.text(
                    data.shape[1] + 0.15,
                    i + 0.5,
                    plural(n, "case"),
                    va="center",
                    color=MEANING["holds" if meets else "falls"],
                    fontsize=9,
                    fontweight="bold" if meets else "normal",
                )
            marks = [
                Line2D(
                    [],
                    [],
                    ls="",
                    marker="s",
                    color=MEANING["holds"],
                    label=f"meets the rule ({threshold}+ {'case' if threshold == 1 else 'cases'})",
                ),
                Line2D([], [], ls="", marker="s", color=MEANING["falls"], label="below the rule"),
            ]
            fig.legend(
                handles=marks,
                loc="outside lower center",
                ncol=2,
                frameon=False,
                title="Cases evidencing the theme",
            )
        if title:
            fig.suptitle(title, x=0.5, ha="center")
    return fig


def robustness_figure(
    loo: pd.DataFrame, sweep: pd.DataFrame, row_labels: list[str], title: str | None = None
) -> Figure:
    """Two panels: does each theme remain a discriminator when one case is left out (left), and
    under each minimum number of cases (right)? The two colours are named in a legend."""
    from matplotlib.patches import Patch

    cmap = sns.color_palette([MEANING["falls"], MEANING["holds"]], as_cmap=True)
    with _style():
        width = _label_inches(row_labels) + 0.5 * (loo.shape[1] + sweep.shape[1]) + 1.2
        height = 2.4 + 0.3 * len(loo)
        fig, (left, right) = plt.subplots(
            1,
            2,
            figsize=(width, height),
            sharey=True,
            gridspec_kw={"width_ratios": [max(1, loo.shape[1]), max(1, sweep.shape[1])]},
            layout="constrained",
        )
        for ax, data, xlabel, panel in (
            (left, loo, "Case left out", "Without\neach case"),
            (right, sweep, "Minimum number\nof cases", "At each\nminimum"),
        ):
            frame = data.astype(int)
            frame.index = pd.Index(row_labels)
            sns.heatmap(
                frame,
                cmap=cmap,
                vmin=0,
                vmax=1,
                cbar=False,
                linewidths=0.5,
                linecolor="white",
                ax=ax,
            )
            ax.set_xlabel(xlabel)
            ax.set_ylabel("")
            ax.set_title(panel)
        right.tick_params(left=False)
        fig.legend(
            handles=[
                Patch(color=MEANING["holds"], label="holds: still a discriminator"),
                Patch(color=MEANING["falls"], label="falls below the rule"),
            ],
            loc="outside lower center",
            ncol=2,
            frameon=False,
        )
        if title:
            fig.suptitle(title, x=0.5, ha="center")
    return fig


def confusion_figure(
    confusion: pd.DataFrame,
    labels: list[str],
    title: str | None = None,
    reference: str = "Reference coding",
) -> Figure:
    """Heatmap of a confusion matrix (rows: the ``reference`` coding, columns: suggested)."""
    with _style():
        fig, ax = plt.subplots(figsize=(2.5 + 0.9 * len(labels), 1.5 + 0.6 * len(labels)))
        data = confusion.copy()
        data.index = pd.Index(labels)
        data.columns = pd.Index(labels)
        _counts(data, ax)
        ax.set_xlabel("Suggested")
        ax.set_ylabel(reference)
        ax.tick_params(axis="x", rotation=30)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
        if title:
            ax.set_title(title)
    return fig


def dendrogram_figure(
    panels: list[tuple[str, object, list[str]]], title: str | None = None
) -> Figure:
    """One dendrogram per panel: (title, scipy linkage matrix, leaf labels)."""
    from scipy.cluster.hierarchy import dendrogram

    cols = 2
    rows = max(1, math.ceil(len(panels) / cols))
    with plt.rc_context({"font.family": "DejaVu Sans", "font.size": 8}):
        fig, axes = plt.subplots(rows, cols, figsize=(14, 3.6 * rows), squeeze=False)
        for ax, (name, tree, leaves) in zip(axes.flat, panels, strict=False):
            dendrogram(
                tree,
                labels=leaves,
                orientation="right",
                ax=ax,
                color_threshold=0,
                above_threshold_color="#2f6690",
                leaf_font_size=7,
            )
            ax.set_title(name, fontsize=10)
            ax.set_xlabel("cosine distance")
        for ax in axes.flat[len(panels) :]:
            ax.set_axis_off()
        height = 3.6 * rows
        if title:
            fig.suptitle(title, y=1 - 0.15 / height)
        fig.subplots_adjust(wspace=0.9, hspace=0.5, top=1 - 0.7 / height)
    return fig


#: Colour-blind-safe colours (Okabe and Ito) for the assisted-coding figures.
_OKABE_ITO = {"blue": "#0072B2", "orange": "#E69F00", "vermillion": "#D55E00", "grey": "#999999"}


def confidence_figure(
    reliability: pd.DataFrame,
    curve: pd.DataFrame,
    marks: pd.DataFrame,
    title: str | None = None,
) -> Figure:
    """Two panels on trusting a suggestion's score. Left, a reliability diagram: per bin of
    score (``reliability``: mean_score, accuracy, units), the accuracy against the mean score,
    beside the diagonal of perfect calibration. Right, the accuracy-coverage curve (``curve``:
    coverage, accuracy of the most confident suggestions), with ``marks`` (coverage, accuracy,
    ci_low, ci_high) drawn with their intervals."""
    with _style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6))
        left.plot([0, 1], [0, 1], ls="--", color=_OKABE_ITO["grey"], label="perfect calibration")
        left.scatter(
            reliability["mean_score"],
            reliability["accuracy"],
            s=20 + 12 * reliability["units"],
            color=_OKABE_ITO["blue"],
            alpha=0.85,
            label="bins of score (area: units)",
        )
        for row in reliability.itertuples():
            left.annotate(
                str(row.units),
                (row.mean_score, row.accuracy),
                textcoords="offset points",
                xytext=(7, -3),
                fontsize=8,
            )
        left.set_xlim(0, 1)
        left.set_ylim(0, 1.05)
        left.set_xlabel("Calibrated score of the suggestion")
        left.set_ylabel("Share of suggestions that are right")
        left.set_title("Reliability")
        left.legend(loc="upper left", frameon=False)
        right.plot(
            curve["coverage"],
            curve["accuracy"],
            color=_OKABE_ITO["blue"],
            label="most confident suggestions first",
        )
        right.errorbar(
            marks["coverage"],
            marks["accuracy"],
            yerr=[marks["accuracy"] - marks["ci_low"], marks["ci_high"] - marks["accuracy"]],
            fmt="o",
            color=_OKABE_ITO["vermillion"],
            capsize=3,
            label="declared coverages (95% interval)",
        )
        right.set_xlim(0, 1.02)
        right.set_ylim(0, 1.05)
        right.set_xlabel("Coverage (share of sentences given a suggestion)")
        right.set_ylabel("Accuracy of those suggestions")
        right.set_title("Accuracy against coverage")
        right.legend(loc="lower left", frameon=False)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
    return fig


#: Colour-blind-safe fills (Okabe and Ito) and hatches of the grounds figure's series, in order:
#: blue, sky blue with dots, orange, then grey with hatching, so that the second and the last also
#: read without colour.
_GROUNDS_STYLE = [("#0072B2", ""), ("#56B4E9", ".."), ("#E69F00", ""), ("#BBBBBB", "///")]


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
    with _style():
        wrapped = [textwrap.fill(label, 60) for label in row_labels]
        lines = sum(label.count("\n") + 1 for label in wrapped)
        fig, ax = plt.subplots(figsize=(11.0, 1.8 + 0.24 * lines), layout="constrained")
        y = list(range(len(counts)))
        left = [0] * len(counts)
        for (column, label), (colour, hatch) in zip(
            zip(counts.columns, legend, strict=True), _GROUNDS_STYLE, strict=False
        ):
            values = [int(v) for v in counts[column]]
            ax.barh(
                y,
                values,
                left=left,
                color=colour,
                hatch=hatch,
                edgecolor="white",
                linewidth=0.8,
                label=label,
            )
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
            ax.axvline(threshold, color="#333333", linestyle="--", linewidth=1)
            ax.annotate(
                f"rule: {plural(threshold, 'case')}",
                (threshold, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
                color="#333333",
            )
        fig.legend(loc="outside lower center", ncols=len(legend), frameon=False, fontsize=9)
        if title:
            fig.suptitle(title)
    return fig
