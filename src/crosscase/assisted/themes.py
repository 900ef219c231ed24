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
from sklearn.metrics import roc_curve
from sklearn.preprocessing import normalize

from ..model import Study, Theme
from .features import Ngrams, TrainingTfidf
from .measures import auroc, interval_row, point_and_resamples, weighted_mean
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
        self._themes = [t.id for t in themes]
        self._dimension = {t.id: t.dimension for t in themes}
        docs = [*examples["text"].astype(str), *(t.label for t in themes)]
        owners = [*examples["theme"].astype(str), *self._themes]
        self._ngrams = ngrams if ngrams is not None else Ngrams(docs, settings)
        counts = self._ngrams.counts(docs)
        self._tfidf = TrainingTfidf(self._ngrams.split).fit(counts)
        x = normalize(self._tfidf.transform(counts))
        index = {t: i for i, t in enumerate(self._themes)}
        rows = [index[o] for o in owners if o in index]
        cols = [j for j, o in enumerate(owners) if o in index]
        shape = (len(self._themes), len(docs))
        member = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
        self._centroids = normalize(normalize(member, norm="l1") @ x)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine similarity of each text to each theme's centroid (texts x themes)."""
        x = normalize(self._tfidf.transform(self._ngrams.counts(list(texts))))
        return np.asarray((x @ self._centroids.T).toarray())

    def _ranked(self, sims: np.ndarray, dimension: str) -> list[tuple[str, float]]:
        mine = [
            (t, float(sims[i]))
            for i, t in enumerate(self._themes)
            if self._dimension[t] == dimension
        ]
        return sorted(mine, key=lambda ts: -ts[1])

    def rank_all(
        self, texts: Sequence[str], dimensions: Sequence[str]
    ) -> list[list[tuple[str, float]]]:
        """The themes of each text's dimension, most similar first (ties in theme order)."""
        sims = self.scores(texts) if len(texts) else np.zeros((0, len(self._themes)))
        return [self._ranked(row, d) for row, d in zip(sims, dimensions, strict=True)]


def theme_examples(
    study: Study, exclude_case: str | None = None, cases: Sequence[str] | None = None
) -> pd.DataFrame:
    """Training examples for theme assignment: (case, observation text, theme), one row per
    observation and theme, from ``cases`` (default: all) without ``exclude_case``."""
    rows = [
        {"case": co.case, "text": co.observation.text, "theme": t}
        for co in study.observations
        for t in co.observation.themes
        if co.case != exclude_case and (cases is None or co.case in cases)
    ]
    return pd.DataFrame(rows, columns=["case", "text", "theme"])


def _coded_cases(study: Study) -> list[str]:
    return [c.id for c in study.cases if c.id in study.coded_cases]


class _ThemeWork:
    """Theme assigners by training cases, over one count of the study's observation texts and
    theme labels (shared by the folds of one measure; changes no result)."""

    def __init__(self, study: Study, settings: Settings) -> None:
        self.study, self.settings = study, settings
        texts = [co.observation.text for co in study.observations]
        self.ngrams = Ngrams([*texts, *(t.label for t in study.themes)], settings)
        self._assigners: dict[frozenset[str], ThemeAssigner] = {}

    def assigner(self, cases: Sequence[str]) -> ThemeAssigner:
        key = frozenset(cases)
        if key not in self._assigners:
            examples = theme_examples(self.study, cases=sorted(key))
            self._assigners[key] = ThemeAssigner(
                self.study.themes, examples, self.settings, self.ngrams
            )
        return self._assigners[key]

    def ranked(self, case: str, train: Sequence[str]) -> list[list[tuple[str, float]]]:
        """The case's observations, each with its dimension's themes ranked."""
        own = [co.observation for co in self.study.observations if co.case == case]
        return self.assigner(train).rank_all([o.text for o in own], [o.dimension for o in own])

    def threshold(self, cases: Sequence[str]) -> float:
        """The best-score threshold below which an observation is suggested no theme, learnt from
        ``cases`` alone: leaving each out in turn, the threshold that maximises Youden's J (true
        positive rate minus false positive rate) for telling themed observations from the others.
        0 (every observation gets its best theme) when the cases cannot tell them apart."""
        if len(cases) < 2:
            return 0.0
        scores, themed = [], []
        for case in cases:
            ranked = self.ranked(case, [c for c in cases if c != case])
            own = [co.observation for co in self.study.observations if co.case == case]
            scores += [r[0][1] if r else 0.0 for r in ranked]
            themed += [bool(o.themes) for o in own]
        y = np.array(themed)
        if y.all() or not y.any():
            return 0.0
        fpr, tpr, thresholds = roc_curve(y, np.array(scores))
        best = int(np.argmax(tpr - fpr))
        return float(thresholds[best]) if tpr[best] - fpr[best] > 0 else 0.0


_THEME_COLUMNS = [
    "case_number",
    "observation",
    "dimension",
    "text",
    "reference",
    "candidates",
    "suggested",
    "second",
    "score",
    "threshold",
    "decision",
    "rank",
]


def _suggest_themes(work: _ThemeWork, case: str, threshold: float | None = None) -> pd.DataFrame:
    study = work.study
    others = [c for c in _coded_cases(study) if c != case]
    cut = work.threshold(others) if threshold is None else threshold
    number = study.case_numbers
    own = [co for co in study.observations if co.case == case]
    rows = []
    for co, ranked in zip(own, work.ranked(case, others), strict=True):
        order = [t for t, _ in ranked]
        score = ranked[0][1] if ranked else 0.0
        suggested = order[0] if order else NO_THEME
        reference = [order.index(t) + 1 for t in co.observation.themes if t in order]
        rows.append(
            {
                "case_number": number[co.case],
                "observation": co.observation.id,
                "dimension": co.observation.dimension,
                "text": co.observation.text,
                "reference": "; ".join(co.observation.themes),
                "candidates": len(order),
                "suggested": suggested,
                "second": order[1] if len(order) > 1 else "",
                "score": round(score, 3),
                "threshold": round(cut, 3),
                # decided on the values the table shows, so that a reader can check it
                "decision": suggested if order and round(score, 3) >= round(cut, 3) else NO_THEME,
                "rank": min(reference) if reference else 0,
            }
        )
    return pd.DataFrame(rows, columns=_THEME_COLUMNS)


def suggest_themes(
    study: Study, case: str, threshold: float | None = None, settings: Settings = DECLARED
) -> pd.DataFrame:
    """Theme suggestions for each first-order observation of ``case``, learnt from the other
    coded cases only (so a case's own coding never informs its suggestions): the themes of its
    dimension ranked (``suggested``, ``second``, the best ``score``), the ``decision`` (the
    suggestion, or ``NO_THEME`` below ``threshold``: by default learnt from the other cases,
    :meth:`_ThemeWork.threshold`), and the ``rank`` of its best-ranked reference theme (0 when it
    has none)."""
    return _suggest_themes(_ThemeWork(study, settings), case, threshold)


def theme_assignment_loco(study: Study, settings: Settings = DECLARED) -> pd.DataFrame:
    """Leave-one-case-out theme suggestions for every observation of every coded case (themed
    or not); see :func:`suggest_themes`."""
    work = _ThemeWork(study, settings)
    frames = [_suggest_themes(work, c) for c in _coded_cases(study)]
    return pd.concat(frames, ignore_index=True).drop(columns="text")


def _top_k_chance(candidates: np.ndarray, themes: np.ndarray, top: int) -> np.ndarray:
    """Chance of a uniformly random ranking of ``candidates`` themes putting one of an
    observation's ``themes`` among the first ``top``: 1 - C(k - m, top) / C(k, top)."""
    from scipy.special import comb

    return np.asarray(1 - comb(candidates - themes, top) / comb(candidates, top))


def theme_summary(loco: pd.DataFrame, settings: Settings = DECLARED) -> pd.DataFrame:
    """Theme suggestion against the reference coding, with bootstrap 95% intervals and chance:
    top-1 and top-2 accuracy within the dimension (themed observations), the AUROC of the best
    score for telling themed observations from the others (all observations), and the accuracy
    of the decision (theme or no theme) over all observations."""
    themed = (loco["reference"] != "").to_numpy()
    part = loco[themed]
    k = part["candidates"].to_numpy()
    m = part["reference"].str.count("; ").to_numpy() + 1
    w = point_and_resamples(len(part), settings.resamples, settings.seed)
    rows = [
        interval_row(
            f"top-{t} accuracy",
            weighted_mean(((part["rank"] >= 1) & (part["rank"] <= t)).to_numpy(float), w),
            units=len(part),
            chance=round(float(_top_k_chance(k, m, t).mean()), 3),
        )
        for t in (1, 2)
    ]
    w_all = point_and_resamples(len(loco), settings.resamples, settings.seed)
    rows.append(
        interval_row(
            "no-theme AUROC",
            auroc(loco["score"].to_numpy(), themed, w_all),
            units=len(loco),
            chance=0.5,
        )
    )
    right = np.where(
        themed, loco["rank"].eq(1) & (loco["decision"] != NO_THEME), loco["decision"] == NO_THEME
    )
    rows.append(
        interval_row(
            "decision accuracy (theme or no theme)",
            weighted_mean(right.astype(float), w_all),
            units=len(loco),
            chance=np.nan,
        )
    )
    return pd.DataFrame(
        rows, columns=["statistic", "units", "value", "ci_low", "ci_high", "chance"]
    )


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
