"""Theme suggestion: the second-order themes of an observation's dimension ranked by the
similarity of its text to each theme's centroid (:class:`ThemeAssigner`), "no theme" below a
threshold learnt inside the training cases; a case's suggestions learnt from the other cases
only (:func:`suggest_themes`), and measured leaving each case out against the reference coding,
with bootstrap intervals and chance (:func:`theme_summary`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.special import comb
from sklearn.metrics import roc_curve
from sklearn.preprocessing import normalize

from ..model import Observation, Study, Theme
from .features import Ngrams, TrainingTfidf
from .measures import auroc, bootstrap_weights, intervals, weighted_mean
from .settings import DECLARED, Settings

#: The decision for an observation that no theme of its dimension fits well enough.
NO_THEME = "no theme"


class ThemeAssigner:
    """Rank the second-order themes of an observation's dimension by the cosine similarity of
    its text to each theme's centroid (the mean unit vector of the theme's training
    observations and its label; :class:`Settings`). ``ngrams`` (counts of a corpus holding the
    examples and the labels) lets repeated assigners share work; it changes no result."""

    def __init__(
        self,
        themes: Sequence[Theme],
        examples: pd.DataFrame,
        settings: Settings = DECLARED,
        ngrams: Ngrams | None = None,
    ) -> None:
        self._themes = list(themes)
        docs = [*examples["text"].astype(str), *(t.label for t in themes)]
        owners = [*examples["theme"].astype(str), *(t.id for t in themes)]
        self._ngrams = ngrams if ngrams is not None else Ngrams(docs, settings)
        counts = self._ngrams.counts(docs)
        self._tfidf = TrainingTfidf(self._ngrams.split).fit(counts)
        index = {t.id: i for i, t in enumerate(themes)}
        rows = [index[o] for o in owners if o in index]
        cols = [j for j, o in enumerate(owners) if o in index]
        member = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(themes), len(docs)))
        x = normalize(self._tfidf.transform(counts))
        self._centroids = normalize(normalize(member, norm="l1") @ x)

    def rank_all(
        self, texts: Sequence[str], dimensions: Sequence[str]
    ) -> list[list[tuple[str, float]]]:
        """The themes of each text's dimension with their similarity, most similar first (ties
        in theme order)."""
        if not len(texts):
            return []
        x = normalize(self._tfidf.transform(self._ngrams.counts(list(texts))))
        sims = (x @ self._centroids.T).toarray()
        return [
            sorted(
                [
                    (t.id, float(s))
                    for t, s in zip(self._themes, row, strict=True)
                    if t.dimension == d
                ],
                key=lambda ts: -ts[1],
            )
            for row, d in zip(sims, dimensions, strict=True)
        ]


def theme_examples(study: Study, cases: Sequence[str] | None = None) -> pd.DataFrame:
    """Training examples for theme assignment: (case, observation text, theme), one row per
    observation and theme, from ``cases`` (default: all)."""
    rows = [
        (co.case, co.observation.text, t)
        for co in study.observations
        for t in co.observation.themes
        if cases is None or co.case in cases
    ]
    return pd.DataFrame(rows, columns=["case", "text", "theme"])


class _ThemeWork:
    """Theme assigners by training cases, over one count of the study's observation texts and
    theme labels (shared by the folds of one measure; changes no result)."""

    def __init__(self, study: Study, settings: Settings) -> None:
        self.study, self.settings = study, settings
        texts = [co.observation.text for co in study.observations]
        self.ngrams = Ngrams([*texts, *(t.label for t in study.themes)], settings)
        self._assigners: dict[frozenset[str], ThemeAssigner] = {}
        self.coded = [c.id for c in study.cases if c.id in study.coded_cases]

    def ranked(
        self, case: str, train: Sequence[str]
    ) -> tuple[list[Observation], list[list[tuple[str, float]]]]:
        """The case's observations, and for each its dimension's themes ranked by an assigner
        trained on the ``train`` cases."""
        key = frozenset(train)
        if key not in self._assigners:
            examples = theme_examples(self.study, sorted(key))
            self._assigners[key] = ThemeAssigner(
                self.study.themes, examples, self.settings, self.ngrams
            )
        own = [co.observation for co in self.study.observations if co.case == case]
        return own, self._assigners[key].rank_all([o.text for o in own], [o.dimension for o in own])

    def threshold(self, cases: Sequence[str]) -> float:
        """The best-score threshold below which an observation is suggested no theme, learnt from
        ``cases`` alone: leaving each out in turn, the threshold that maximises Youden's J (true
        positive rate minus false positive rate) for telling themed observations from the others.
        0 (every observation gets its best theme) when the cases cannot tell them apart."""
        if len(cases) < 2:
            return 0.0
        scores, themed = [], []
        for case in cases:
            own, ranked = self.ranked(case, [c for c in cases if c != case])
            scores += [r[0][1] if r else 0.0 for r in ranked]
            themed += [bool(o.themes) for o in own]
        y = np.array(themed)
        if y.all() or not y.any():
            return 0.0
        fpr, tpr, thresholds = roc_curve(y, np.array(scores))
        best = int(np.argmax(tpr - fpr))
        return float(thresholds[best]) if tpr[best] - fpr[best] > 0 else 0.0

    def suggest(self, case: str, threshold: float | None = None) -> pd.DataFrame:
        """:func:`suggest_themes`."""
        others = [c for c in self.coded if c != case]
        cut = round(self.threshold(others) if threshold is None else threshold, 3)
        own, ranked = self.ranked(case, others)
        orders = [[t for t, _ in r] for r in ranked]
        scores = [round(r[0][1], 3) if r else 0.0 for r in ranked]
        suggested = [order[0] if order else NO_THEME for order in orders]
        return pd.DataFrame(
            {
                "case_number": [self.study.case_numbers[case]] * len(own),
                "observation": [o.id for o in own],
                "dimension": [o.dimension for o in own],
                "text": [o.text for o in own],
                "reference": ["; ".join(o.themes) for o in own],
                "candidates": [len(order) for order in orders],
                "suggested": suggested,
                "second": [order[1] if len(order) > 1 else "" for order in orders],
                "score": scores,
                "threshold": [cut] * len(own),
                # decided on the values the table shows, so that a reader can check it
                "decision": [
                    order[0] if order and score >= cut else NO_THEME
                    for order, score in zip(orders, scores, strict=True)
                ],
                "rank": [
                    min((order.index(t) + 1 for t in o.themes if t in order), default=0)
                    for o, order in zip(own, orders, strict=True)
                ],
            }
        )


def suggest_themes(
    study: Study, case: str, threshold: float | None = None, settings: Settings = DECLARED
) -> pd.DataFrame:
    """Theme suggestions for each first-order observation of ``case``, learnt from the other
    coded cases only (so a case's own coding never informs its suggestions): its dimension's
    themes ranked (``suggested``, ``second``, the best ``score``), the ``decision`` (the
    suggestion, or ``NO_THEME`` below ``threshold``, by default learnt from the other cases),
    and the ``rank`` of its best-ranked reference theme (0 when it has none)."""
    return _ThemeWork(study, settings).suggest(case, threshold)


def theme_assignment_loco(study: Study, settings: Settings = DECLARED) -> pd.DataFrame:
    """Leave-one-case-out theme suggestions for every observation of every coded case (themed
    or not); see :func:`suggest_themes`."""
    work = _ThemeWork(study, settings)
    frames = [work.suggest(c) for c in work.coded]
    return pd.concat(frames, ignore_index=True).drop(columns="text")


def theme_summary(loco: pd.DataFrame, settings: Settings = DECLARED) -> pd.DataFrame:
    """Theme suggestion against the reference coding, beside chance: top-1 and top-2 accuracy
    within the dimension (themed observations), the AUROC of the best score for telling themed
    observations from the others, and the accuracy of the decision (theme or no theme)."""
    themed = (loco["reference"] != "").to_numpy()
    part = loco[themed]
    k = part["candidates"].to_numpy()
    m = part["reference"].str.count("; ").to_numpy() + 1
    w = bootstrap_weights(len(part), settings.resamples, settings.seed)
    rows = []
    for top in (1, 2):
        hits = ((part["rank"] >= 1) & (part["rank"] <= top)).to_numpy(float)
        # chance: a random ranking of k themes puts one of the m among the first ``top``
        chance = round(float((1 - comb(k - m, top) / comb(k, top)).mean()), 3)
        accuracy = {f"top-{top} accuracy": weighted_mean(hits, w)}
        rows += intervals(accuracy, units=len(part), chance=chance)
    w_all = bootstrap_weights(len(loco), settings.resamples, settings.seed)
    auc = auroc(loco["score"].to_numpy(), themed, w_all)
    rows += intervals({"no-theme AUROC": auc}, units=len(loco), chance=0.5)
    decided = loco["decision"] != NO_THEME
    right = np.where(themed, loco["rank"].eq(1) & decided, ~decided).astype(float)
    decision = {"decision accuracy (theme or no theme)": weighted_mean(right, w_all)}
    rows += intervals(decision, units=len(loco), chance=np.nan)
    columns = ["statistic", "units", "value", "ci_low", "ci_high", "chance"]
    return pd.DataFrame(rows, columns=columns)


def theme_case_lists(study: Study, loco: pd.DataFrame) -> pd.DataFrame:
    """Per theme, the cases the reference coding puts it in and the cases the held-out
    suggestions (decisions) would put it in."""
    number = study.case_numbers
    labels = study.dimension_labels
    rows = []
    for theme in study.themes:
        paper = sorted(
            {number[co.case] for co in study.observations if theme.id in co.observation.themes}
        )
        suggested = sorted(set(loco.loc[loco["decision"] == theme.id, "case_number"].astype(int)))
        rows.append(
            {
                "theme": theme.label,
                "dimension": labels.get(theme.dimension, theme.dimension),
                "reference_cases": ", ".join(map(str, paper)),
                "suggested_cases": ", ".join(map(str, suggested)),
                "missed": ", ".join(str(c) for c in paper if c not in suggested),
                "added": ", ".join(str(c) for c in suggested if c not in paper),
            }
        )
    return pd.DataFrame(rows)
