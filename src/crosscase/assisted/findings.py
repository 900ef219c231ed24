"""What the measures of assisted coding mean for a researcher, in sentences: each figure with
its 95% interval, read from the tables the notebook of assisted coding writes, and how much of
the reference coding no text classifier can reach (evidence passages that lie in another
dimension's narrative, sentences with no codebook keyword)."""

from __future__ import annotations

import pandas as pd

from ..model import Study
from .dimensions import DimensionCoding
from .features import normalise_text
from .measures import IN_CONTEXT, MAJORITY, SENTENCE


def ci(table: pd.DataFrame, statistic: str, coder: str | None = None) -> str:
    """A statistic of a measures table with its interval: ``0.47 [0.36, 0.58]``."""
    rows = table[table["statistic"].str.startswith(statistic)]
    row = (rows if coder is None else rows[rows["coder"] == coder]).iloc[0]
    return f"{row['value']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"


def reach(study: Study, coding: DimensionCoding) -> str:
    """How much of the reference coding a classifier of single sentences cannot see."""
    located = [co for co in study.observations if co.evidence_dimension]
    elsewhere = [co for co in located if co.evidence_dimension != co.observation.dimension]
    keywords = [normalise_text(k) for d in study.framework.dimensions for k in d.keywords]
    texts = coding.units["text"]
    bare = sum(not any(k in normalise_text(t) for k in keywords) for t in texts)
    return (
        f"{len(elsewhere)} of {len(located)} evidence passages lie in another dimension's "
        f"narrative ({len(elsewhere) / len(located):.0%}); {bare} of {len(coding.units)} "
        "sentences contain no codebook keyword."
    )


def findings(
    dimensions: pd.DataFrame,
    ceiling: pd.DataFrame,
    confidence: pd.DataFrame,
    coverage: pd.DataFrame,
    themes: pd.DataFrame,
    clustering: pd.DataFrame,
) -> list[str]:
    """One sentence each on dimension coding, trusting its score, theme suggestion and
    clustering, from the notebook's tables of those measures."""
    kappa = "Cohen's kappa"
    quarter = coverage.iloc[0]
    above = clustering["adjusted_mutual_information"] > clustering["null_95th_percentile"]
    return [
        f"Single sentences: kappa {ci(dimensions, kappa, SENTENCE)}; with neighbouring sentences "
        f"{ci(dimensions, kappa, IN_CONTEXT)}; most frequent dimension "
        f"{ci(dimensions, kappa, MAJORITY)}; human ceiling {ci(ceiling, kappa)}; top-3 accuracy "
        f"{ci(dimensions, 'top-3 accuracy', SENTENCE)}.",
        f"Calibration error {ci(confidence, 'expected calibration error')}; the most confident "
        f"{quarter['coverage']:.0%} are right {quarter['accuracy']:.2f} [{quarter['ci_low']:.2f}, "
        f"{quarter['ci_high']:.2f}]; flagged sure {ci(confidence, 'share flagged sure')} "
        f"of sentences, right {ci(confidence, 'accuracy when sure')} (unsure: "
        f"{ci(confidence, 'accuracy when unsure')}).",
        f"Themes: top-1 {ci(themes, 'top-1 accuracy')}, top-2 {ci(themes, 'top-2 accuracy')}; "
        f"no-theme AUROC {ci(themes, 'no-theme AUROC')}; decision right "
        f"{ci(themes, 'decision accuracy (theme or no theme)')}.",
        f"Clustering: {int(above.sum())} of {len(clustering)} dimensions above the 95th "
        "percentile of their permutation null.",
    ]
