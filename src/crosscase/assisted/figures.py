"""Figures of assisted coding: the confusion matrix of dimension coding, the reliability diagram
and accuracy-coverage curve of its calibrated score, and the dendrograms of clustering (written
like every figure by :func:`crosscase.figures.write_figure`)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ..figures import style
from ..palette import BLUE, GREY, PERSPECTIVE_EDGES, VERMILLION


def confusion_figure(
    confusion: pd.DataFrame,
    labels: list[str],
    title: str | None = None,
    reference: str = "Reference coding",
) -> Figure:
    """Heatmap of a confusion matrix (rows: the ``reference`` coding, columns: suggested)."""
    with style():
        fig, ax = plt.subplots(figsize=(2.5 + 0.9 * len(labels), 1.5 + 0.6 * len(labels)))
        data = pd.DataFrame(confusion.to_numpy(), index=labels, columns=labels)
        kw = {"linewidths": 0.5, "linecolor": "white", "vmin": 0}
        sns.heatmap(data, annot=True, fmt="d", cmap="Blues", cbar=False, ax=ax, **kw)
        ax.set(xlabel="Suggested", ylabel=reference)
        ax.tick_params(axis="x", rotation=30)
        plt.setp(ax.get_xticklabels(), horizontalalignment="right")
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
    with style(8):
        fig, axes = plt.subplots(rows, cols, figsize=(14, 3.6 * rows), squeeze=False)
        for ax, (name, tree, leaves) in zip(axes.flat, panels, strict=False):
            dendrogram(
                tree,
                labels=leaves,
                orientation="right",
                ax=ax,
                color_threshold=0,
                above_threshold_color=PERSPECTIVE_EDGES[0],
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
    with style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6))
        left.plot([0, 1], [0, 1], ls="--", color=GREY, label="perfect calibration")
        left.scatter(
            reliability["mean_score"],
            reliability["accuracy"],
            s=20 + 12 * reliability["units"],
            color=BLUE,
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
        left.set(xlim=(0, 1), ylim=(0, 1.05), title="Reliability")
        left.set(xlabel="Calibrated score of the suggestion")
        left.set(ylabel="Share of suggestions that are right")
        left.legend(loc="upper left", frameon=False)
        right.plot(
            curve["coverage"],
            curve["accuracy"],
            color=BLUE,
            label="most confident suggestions first",
        )
        right.errorbar(
            marks["coverage"],
            marks["accuracy"],
            yerr=[marks["accuracy"] - marks["ci_low"], marks["ci_high"] - marks["accuracy"]],
            fmt="o",
            color=VERMILLION,
            capsize=3,
            label="declared coverages (95% interval)",
        )
        right.set(xlim=(0, 1.02), ylim=(0, 1.05), title="Accuracy against coverage")
        right.set(xlabel="Coverage (share of sentences given a suggestion)")
        right.set(ylabel="Accuracy of those suggestions")
        right.legend(loc="lower left", frameon=False)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
    return fig
