"""Figures explain themselves and are readable by colour-blind readers: every colour that carries
meaning is named in the figure (a legend or a labelled colour bar), panels have titles, the title
is centred, and colours that must be told apart stay apart under simulated deuteranopia,
protanopia and tritanopia (CAM02-UCS distance, colorspacious)."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pandas as pd
import pytest
from colorspacious import cspace_convert, deltaE
from matplotlib.colors import to_hex, to_rgb

from crosscase import figures, palette, tables
from crosscase.evidence import Evidence
from crosscase.model import Study

matplotlib.use("Agg")

#: Smallest CAM02-UCS distance between two meaningful colours, for every kind of colour vision.
MIN_DISTANCE = 20.0
CVD = ["deuteranomaly", "protanomaly", "tritanomaly"]


def distinct_for_everyone(a: str, b: str) -> float:
    """The smallest distance between ``a`` and ``b`` as seen with normal and with each
    (complete) colour-vision deficiency."""
    ra, rb = np.array(to_rgb(a)), np.array(to_rgb(b))
    seen = [deltaE(ra, rb, input_space="sRGB1")]
    for kind in CVD:
        space = {"name": "sRGB1+CVD", "cvd_type": kind, "severity": 100}
        sa, sb = (np.clip(cspace_convert(x, space, "sRGB1"), 0, 1) for x in (ra, rb))
        seen.append(deltaE(sa, sb, input_space="sRGB1"))
    return float(min(seen))


def test_the_old_red_green_pair_fails_the_check() -> None:
    assert distinct_for_everyone("#e57373", "#81c784") < MIN_DISTANCE


def test_the_meaning_palette_is_distinct_for_everyone() -> None:
    for a, b in itertools.combinations([palette.HOLDS, palette.FALLS], 2):
        assert distinct_for_everyone(a, b) >= MIN_DISTANCE, (a, b)


def _legend_texts(fig) -> list[str]:  # type: ignore[no-untyped-def]
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return [t.get_text() for lg in legends for t in lg.get_texts()]


def _face_colours(fig) -> set[str]:  # type: ignore[no-untyped-def]
    """The colours of the heatmap cells (QuadMesh face colours), as hex."""
    from matplotlib.collections import QuadMesh
    from matplotlib.colors import to_hex

    out: set[str] = set()
    for ax in fig.axes:
        for c in ax.collections:
            if isinstance(c, QuadMesh):
                out |= {to_hex(f) for f in c.get_facecolors()}
    return out


@pytest.fixture(scope="module")
def robustness(study: Study, evidence: Evidence):  # type: ignore[no-untyped-def]
    labels = [t.theme.label for t in evidence.themes]
    sweep = list(range(1, len(evidence.coded_cases) + 1))
    fig = figures.robustness_figure(
        tables.leave_one_case_out_table(evidence),
        tables.threshold_sweep_table(evidence, sweep),
        labels,
        "Robustness",
    )
    yield fig
    matplotlib.pyplot.close(fig)


def test_robustness_figure_explains_itself(robustness) -> None:  # type: ignore[no-untyped-def]
    texts = _legend_texts(robustness)
    assert any("holds" in t for t in texts) and any("falls" in t for t in texts), texts
    titled = [ax for ax in robustness.axes if ax.get_title()]
    assert len(titled) == 2, "a title for each panel"
    title = robustness._suptitle
    assert title is not None and title.get_ha() == "center" and title.get_position()[0] == 0.5


def test_robustness_colours_are_the_named_ones(robustness) -> None:  # type: ignore[no-untyped-def]
    named = {to_hex(palette.HOLDS), to_hex(palette.FALLS)}
    assert _face_colours(robustness) <= named


def test_heatmap_says_what_its_colours_and_counts_mean(study: Study, evidence: Evidence) -> None:
    fig = figures.theme_heatmap(
        tables.theme_case_matrix(study, evidence),
        [t.theme.label for t in evidence.themes],
        evidence.threshold,
        "Themes",
    )
    texts = _legend_texts(fig)
    assert any("meets the rule" in t for t in texts), texts
    # every theme of the paper meets the rule: the legend names no colour the figure does not use
    assert not any("below" in t for t in texts), texts
    bars = [ax for ax in fig.axes if ax.get_ylabel() or ax.get_xlabel()]
    assert any("observations" in (ax.get_ylabel() + ax.get_xlabel()) for ax in bars), (
        "a labelled colour bar"
    )
    matplotlib.pyplot.close(fig)


def test_dendrogram_leaves_are_not_cut_mid_word(study: Study) -> None:
    """Leaf labels name the observation and its theme; a long theme label is shortened at a word
    boundary with an ellipsis, never cut inside a word."""
    from crosscase.assisted import clustering

    labels = {t.label for t in study.themes}
    words = {w for label in labels for w in label.split()}
    for _, _, leaves in clustering.dendrogram_panels(clustering.cluster_observations(study), study):
        for leaf in leaves:
            theme = leaf.split(": ", 1)[1]
            if theme in labels:
                continue
            assert theme.endswith("\u2026"), leaf
            assert all(w in words for w in theme.removesuffix("\u2026").split()), leaf


def test_a_one_case_count_says_1_case() -> None:
    """The counts beside the heatmap's rows agree with their noun (a theme of a new case alone
    reads "1 case"), as does a one-case rule in the legend."""
    matrix = pd.DataFrame({"1": [1, 1], "2": [0, 2]}, index=["a", "b"])
    fig = figures.theme_heatmap(matrix, ["A", "B"], 1, "Themes")
    texts = {t.get_text() for ax in fig.axes for t in ax.texts} | set(_legend_texts(fig))
    assert "1 case" in texts and "2 cases" in texts, texts
    assert not any("1 cases" in t for t in texts), texts
    matplotlib.pyplot.close(fig)


def test_the_heatmap_scale_legend_and_labels_are_what_it_shows() -> None:
    """Counts of 0 and 1 get a colour bar from 0 to 1 (it ran 0-2); 'below the rule' is in the
    legend only when a theme is below it; cases can be labelled by name (issue 19)."""
    matrix = pd.DataFrame({1: [1, 0], 2: [1, 1]}, index=["a", "b"])
    fig = figures.theme_heatmap(matrix, ["A", "B"], 2, "T", ["1 One", "2 Two"])
    [bar] = [ax for ax in fig.axes if ax.get_ylabel() == "first-order observations"]
    assert bar.get_ylim() == (0.0, 1.0)
    assert [t for t in _legend_texts(fig) if "rule" in t] == [
        "meets the rule (2+ cases)",
        "below the rule",
    ]
    [heat] = [ax for ax in fig.axes if ax.get_xlabel() == "Case"]
    assert [t.get_text() for t in heat.get_xticklabels()] == ["1 One", "2 Two"]
    matplotlib.pyplot.close(fig)


def test_a_case_sets_new_theme_sits_with_its_dimension() -> None:
    """Themes are in framework order of their dimensions, a case set's new candidate theme with
    its dimension's, not after every theme of the study (issue 19)."""
    from conftest import ROOT

    from crosscase.paths import Layout
    from crosscase.study import load_study

    study = load_study(Layout.at(ROOT), ["data/raw/cases", "examples/illustrative/cases"])
    order = [d.id for d in study.framework.dimensions]
    dims = [order.index(t.dimension) for t in study.themes]
    assert dims == sorted(dims)
