"""Assisted coding: suggest dimensions for raw text and themes for observations, cluster
observations into candidate themes, and measure agreement with a reference coding.

Everything here is deterministic (no random state) and built on well-kept libraries: pySBD for
sentence segmentation, scikit-learn for TF-IDF vectors, the classifier and the agreement metrics,
scipy for hierarchical clustering, and ``krippendorff`` for Krippendorff's alpha (at the nominal
level of measurement: codes are categories, not quantities).

The reference coding of a study is its own data: every sentence of a case's narrative for a
dimension is coded with that dimension, and every themed first-order observation with its themes.
:func:`dimension_coding_loco`, :func:`theme_assignment_loco` and :func:`cluster_observations`
measure how well the suggestions reproduce it, leaving each case out in turn (train on the other
cases, code the one left out).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import krippendorff
import numpy as np
import pandas as pd
import pysbd
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    adjusted_rand_score,
    cohen_kappa_score,
    confusion_matrix,
    precision_recall_fscore_support,
)
from sklearn.metrics.pairwise import cosine_similarity

from .model import Framework, Theme
from .study import Study

NEW_THEME = "new theme"
#: Cosine similarity below which a theme suggestion is "new theme" (one default for the
#: command line, the notebook and the measures).
NEW_THEME_THRESHOLD = 0.05
_SEGMENTER = pysbd.Segmenter(language="en", clean=False, char_span=True)


@dataclass(frozen=True)
class Settings:
    """The declared configuration of assisted coding: fixed, with its reasons, before any of it
    was measured leaving each case out, and measured once. Nothing here is tuned on those
    figures (tuning on five cases fits their noise: nested tuning on four training cases did
    worse than fixed settings in an independent re-analysis).

    Dimension coding of a sentence:

    - Features: word TF-IDF (1-2 grams, English stop words removed, sublinear term frequency,
      the tokeniser of the earlier version) joined with character TF-IDF within word boundaries
      (``char_wb`` 2-5 grams, sublinear): character n-grams carry the stems and inflections
      that 100-odd sentences cannot teach word by word.
    - Classifier: logistic regression with ``C`` kept at the earlier version's 10 (not tuned)
      and class-balanced weights (the dimensions have unequal numbers of sentences, and the
      coding documents add more to some dimensions than to others).
    - Training documents: the other cases' narrative sentences and first-order observations,
      and domain documents per dimension given by the caller (the framework's labels, aliases,
      keywords, definitions and questions, the comparison's literature characteristics), each
      definition and question split into sentences, the unit being coded.
    - Calibration: scikit-learn's ``CalibratedClassifierCV`` with temperature scaling (one
      parameter: stable on some twenty sentences a fold), fitted inside the training cases by
      leaving each training case out in turn and calibrating on that case's narrative
      sentences; the suggestion is the calibrated ensemble's most probable dimension.
    - Prediction sets: cross-conformal (LAC score, one minus the calibrated probability of the
      code) over the same inner folds, at ``set_coverages``; a suggestion is *unsure* when its
      set at ``unsure_coverage`` does not hold exactly one dimension.
    - Context: as a second, separately reported coder, each sentence's probabilities averaged
      with its neighbours' in the text's order (weights ``context_weights``: previous, the
      sentence, next), the boundaries between blocks unknown to it.

    Theme suggestion for an observation: the same features on the observation's text (not its
    evidence passage); one centroid per theme (the mean of the unit vectors of its training
    observations and its label); the themes of the observation's dimension ranked by cosine
    similarity. "No theme" when the best similarity is below a threshold learnt inside the
    training cases (leaving each out in turn, the threshold maximising Youden's J).

    Clustering a dimension's themed observations: the same features, ``linkage`` on cosine
    distances, cut into as many clusters as the dimension has themes; adjusted mutual
    information with the reference themes against ``permutations`` seeded permutations.

    Intervals: percentile bootstrap over the units, ``resamples`` resamples from ``seed``;
    calibration error over ``calibration_bins`` equal-width bins of confidence.
    """

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    c: float = 10.0
    class_weight: str | None = "balanced"
    calibration: str = "temperature"
    set_coverages: tuple[float, ...] = (0.9, 0.8, 0.7)
    unsure_coverage: float = 0.8
    abstention_coverages: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
    context_weights: tuple[float, float, float] = (0.25, 0.5, 0.25)
    linkage: str = "average"
    permutations: int = 999
    resamples: int = 2000
    seed: int = 13
    calibration_bins: int = 10


#: The configuration the notebook and the command line use (declared before it was measured).
DECLARED = Settings()


def normalise_text(text: str) -> str:
    """Fold case, typographic dashes and quotes, and white space (for keyword matching)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    text = re.sub(r"[\u2018\u2019\u201b\u2032]", "'", text)
    text = re.sub(r"[\u201c\u201d\u201f\u2033]", '"', text)
    return " ".join(text.split())


def segment(text: str) -> list[tuple[int, int, str]]:
    """Split text into sentences: (start, end, sentence) with offsets into ``text``.

    Paragraphs (blank lines) are split first, so a heading or list never joins the next one.
    """
    out: list[tuple[int, int, str]] = []
    for para in re.finditer(r"\S(?:.*?)(?=\n\s*\n|\Z)", text, flags=re.S):
        for span in _SEGMENTER.segment(para.group(0)):
            sentence = span.sent.strip()
            if sentence:
                start = para.start() + span.start + (len(span.sent) - len(span.sent.lstrip()))
                out.append((start, start + len(sentence), " ".join(sentence.split())))
    return out


def narrative_segments(study: Study) -> pd.DataFrame:
    """The reference units of dimension coding: every sentence of every narrative, coded with the
    narrative's dimension."""
    rows = []
    for case in study.cases:
        for dim in study.framework.dimensions:
            for i, (start, end, text) in enumerate(segment(case.narratives.get(dim.id, ""))):
                rows.append(
                    {
                        "case": case.id,
                        "case_number": case.number,
                        "dimension": dim.id,
                        "segment": f"{case.number}-{dim.id}-{i + 1}",
                        "start": start,
                        "end": end,
                        "text": text,
                    }
                )
    return pd.DataFrame(
        rows, columns=["case", "case_number", "dimension", "segment", "start", "end", "text"]
    )


def _codebook_documents(framework: Framework) -> tuple[list[str], list[str]]:
    """One training document per dimension from the codebook: label, aliases, definition,
    keywords and interview question."""
    docs, labels = [], []
    for d in framework.dimensions:
        parts = [d.label, *d.aliases, d.definition or "", " ".join(d.keywords), d.question or ""]
        docs.append(" ".join(p for p in parts if p))
        labels.append(d.id)
    return docs, labels


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        preprocessor=normalise_text,
        ngram_range=(1, 2),
        sublinear_tf=True,
        stop_words="english",
        token_pattern=r"(?u)\b[\w/]*[a-z][\w/-]*\b",
    )


@dataclass
class DimensionCoder:
    """Suggest the framework dimension of text segments.

    Trained on coded passages (text, dimension) plus the codebook; the score is the classifier's
    probability of the suggested dimension. Each suggestion carries its evidence: the codebook
    keywords of that dimension found in the segment, and the most similar coded passage.
    """

    framework: Framework
    passages: pd.DataFrame  # columns: text, dimension, and optionally case
    c: float = 10.0

    def __post_init__(self) -> None:
        book, book_labels = _codebook_documents(self.framework)
        texts = [*self.passages["text"].astype(str), *book]
        labels = [*self.passages["dimension"].astype(str), *book_labels]
        self._vec = _vectorizer().fit(texts)
        self._train = self._vec.transform(self.passages["text"].astype(str))
        self._clf = LogisticRegression(C=self.c, max_iter=5000).fit(
            self._vec.transform(texts), labels
        )
        self._keywords = {
            d.id: [(k, normalise_text(k)) for k in d.keywords] for d in self.framework.dimensions
        }

    def suggest(self, texts: Sequence[str]) -> pd.DataFrame:
        """For each text: suggested dimension, score, matching keywords, nearest coded passage."""
        if not len(texts):
            return pd.DataFrame(
                columns=["text", "dimension", "score", "keywords", "neighbour_case", "neighbour"]
            )
        x = self._vec.transform(list(texts))
        proba = self._clf.predict_proba(x)
        classes = [str(c) for c in self._clf.classes_]
        best = proba.argmax(axis=1)
        sims = cosine_similarity(x, self._train) if self._train.shape[0] else None
        rows = []
        for i, text in enumerate(texts):
            dim = classes[int(best[i])]
            norm = normalise_text(text)
            found = [k for k, nk in self._keywords.get(dim, []) if nk in norm]
            neighbour, neighbour_case = "", ""
            if sims is not None:
                same = np.flatnonzero(self.passages["dimension"].to_numpy() == dim)
                if len(same):
                    j = int(same[int(np.argmax(sims[i, same]))])
                    neighbour = str(self.passages["text"].iloc[j])
                    if "case" in self.passages:
                        neighbour_case = str(self.passages["case"].iloc[j])
            rows.append(
                {
                    "text": text,
                    "dimension": dim,
                    "score": round(float(proba[i, best[i]]), 3),
                    "keywords": "; ".join(found),
                    "neighbour_case": neighbour_case,
                    "neighbour": neighbour,
                }
            )
        return pd.DataFrame(rows)


def observation_passages(study: Study) -> pd.DataFrame:
    """Coded passages of a study for training: narrative sentences and first-order observations
    (text and evidence), each with its dimension and case."""
    seg = narrative_segments(study)[["case", "dimension", "text"]]
    obs = [
        {"case": co.case, "dimension": co.observation.dimension, "text": co.observation.text}
        for co in study.observations
    ]
    return pd.concat(
        [seg, pd.DataFrame(obs, columns=["case", "dimension", "text"])], ignore_index=True
    )


def suggest_dimensions(study: Study, raw_text: str) -> pd.DataFrame:
    """Segment raw text (e.g. interview notes of a new case) and suggest a dimension for each
    segment, trained on the whole study's coding."""
    spans = segment(raw_text)
    coder = DimensionCoder(study.framework, observation_passages(study))
    out = coder.suggest([t for _, _, t in spans])
    out.insert(0, "segment", range(1, len(spans) + 1))
    out.insert(1, "start", [s for s, _, _ in spans])
    out.insert(2, "end", [e for _, e, _ in spans])
    return out


def dimension_coding_loco(study: Study) -> pd.DataFrame:
    """Leave-one-case-out dimension coding of every narrative sentence: for each case, train on
    the other cases' coding (and the codebook), code the case's sentences."""
    segments = narrative_segments(study)
    passages = observation_passages(study)
    frames = []
    for case in study.cases:
        test = segments[segments["case"] == case.id]
        if test.empty:
            continue
        coder = DimensionCoder(study.framework, passages[passages["case"] != case.id])
        got = coder.suggest(test["text"].tolist())
        frame = test[["case_number", "segment", "dimension", "text"]].reset_index(drop=True)
        frame = frame.rename(columns={"dimension": "reference"})
        frame["suggested"] = got["dimension"].to_numpy()
        frame["score"] = got["score"].to_numpy()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Agreement:
    """Agreement of two codings of the same units."""

    n_units: int
    percent_agreement: float
    cohen_kappa: float
    krippendorff_alpha: float
    per_code: pd.DataFrame  # code, precision, recall, f1, support (coder A as reference)
    confusion: pd.DataFrame  # rows: coder A, columns: coder B

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"statistic": "units", "value": float(self.n_units)},
                {"statistic": "percent agreement", "value": round(self.percent_agreement, 3)},
                {"statistic": "Cohen's kappa", "value": round(self.cohen_kappa, 3)},
                {
                    "statistic": "Krippendorff's alpha (nominal)",
                    "value": round(self.krippendorff_alpha, 3),
                },
                {
                    "statistic": "macro F1",
                    "value": round(float(self.per_code["f1"].mean()), 3),
                },
            ]
        )


def agreement(
    coder_a: Sequence[str], coder_b: Sequence[str], codes: Sequence[str] | None = None
) -> Agreement:
    """Cohen's kappa, Krippendorff's alpha (nominal), per-code F1 and the confusion matrix of two
    codings of the same units (``coder_a`` is the reference for precision and recall)."""
    a, b = [str(x) for x in coder_a], [str(x) for x in coder_b]
    if len(a) != len(b) or not a:
        raise ValueError(f"two codings of the same units are needed ({len(a)} vs {len(b)} units)")
    labels = list(codes) if codes else sorted(set(a) | set(b))
    index = {c: i for i, c in enumerate(labels)}
    unknown = sorted({x for x in a + b if x not in index})
    if unknown:
        raise ValueError(f"codes not in the code list: {', '.join(unknown)}")
    reliability = np.array([[index[x] for x in a], [index[x] for x in b]], dtype=float)
    alpha = (
        1.0
        if len(set(a) | set(b)) == 1
        else float(krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal"))
    )
    p, r, f, s = precision_recall_fscore_support(a, b, labels=labels, zero_division=0)
    per_code = pd.DataFrame(
        {
            "code": labels,
            "precision": np.round(p, 3),
            "recall": np.round(r, 3),
            "f1": np.round(f, 3),
            "support": s,
        }
    )
    cm = confusion_matrix(a, b, labels=labels)
    return Agreement(
        n_units=len(a),
        percent_agreement=float(np.mean([x == y for x, y in zip(a, b, strict=True)])),
        cohen_kappa=float(cohen_kappa_score(a, b, labels=labels)),
        krippendorff_alpha=alpha,
        per_code=per_code,
        confusion=pd.DataFrame(
            cm, index=pd.Index(labels, name="reference"), columns=pd.Index(labels, name="suggested")
        ),
    )


@dataclass
class ThemeAssigner:
    """Suggest the second-order theme a first-order observation evidences, among the themes of
    its dimension; ``new theme`` when no theme is similar enough (cosine below ``threshold``).

    A theme is represented by its label and the observations coded with it; an observation's
    score for a theme is its highest cosine similarity to any of them.
    """

    themes: Sequence[Theme]
    examples: pd.DataFrame  # columns: text, theme (one row per observation and theme)
    threshold: float = NEW_THEME_THRESHOLD

    def __post_init__(self) -> None:
        docs = [*self.examples["text"].astype(str), *(t.label for t in self.themes)]
        owners = [*self.examples["theme"].astype(str), *(t.id for t in self.themes)]
        self._vec = _vectorizer().fit(docs)
        self._docs = self._vec.transform(docs)
        self._owners = np.array(owners)
        self._dimension = {t.id: t.dimension for t in self.themes}

    def suggest(self, text: str, dimension: str) -> tuple[str, float]:
        """The most similar theme of ``dimension`` and its score, or (``new theme``, score)."""
        candidates = [t for t, d in self._dimension.items() if d == dimension]
        if not candidates:
            return NEW_THEME, 0.0
        sims = cosine_similarity(self._vec.transform([text]), self._docs)[0]
        scores = {t: float(sims[self._owners == t].max()) for t in candidates}
        best = max(candidates, key=lambda t: (scores[t], t))
        score = round(scores[best], 3)
        return (best if score >= self.threshold else NEW_THEME), score


def theme_examples(study: Study, exclude_case: str | None = None) -> pd.DataFrame:
    """Training examples for theme assignment: (case, observation text, theme), one row per
    observation and theme, without the observations of ``exclude_case``."""
    rows = [
        {"case": co.case, "text": co.observation.text, "theme": t}
        for co in study.observations
        for t in co.observation.themes
        if co.case != exclude_case
    ]
    return pd.DataFrame(rows, columns=["case", "text", "theme"])


def suggest_themes(
    study: Study, case: str, threshold: float = NEW_THEME_THRESHOLD, themed_only: bool = False
) -> pd.DataFrame:
    """A theme suggestion for each first-order observation of ``case``, learned from the other
    cases' coding (so a case's own coding never informs its suggestions)."""
    assigner = ThemeAssigner(study.themes, theme_examples(study, case), threshold)
    number = study.case_numbers
    rows = []
    for co in study.observations:
        if co.case != case or (themed_only and not co.observation.themes):
            continue
        theme, score = assigner.suggest(co.observation.text, co.observation.dimension)
        rows.append(
            {
                "case_number": number[co.case],
                "observation": co.observation.id,
                "dimension": co.observation.dimension,
                "text": co.observation.text,
                "reference": "; ".join(co.observation.themes),
                "suggested": theme,
                "score": score,
                "correct": theme in co.observation.themes,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "case_number",
            "observation",
            "dimension",
            "text",
            "reference",
            "suggested",
            "score",
            "correct",
        ],
    )


def theme_assignment_loco(study: Study, threshold: float = NEW_THEME_THRESHOLD) -> pd.DataFrame:
    """Leave-one-case-out theme assignment of every themed observation: a suggestion is correct
    when it is one of the themes the observation evidences."""
    frames = [suggest_themes(study, c.id, threshold, themed_only=True) for c in study.cases]
    return pd.concat(frames, ignore_index=True).drop(columns="text")


@dataclass(frozen=True)
class Clustering:
    """Hierarchical clustering of one dimension's themed observations."""

    dimension: str
    observations: list[str]
    labels: list[str]  # the reference theme (first theme) of each observation
    linkage: np.ndarray
    clusters: list[int]
    ari: float


def cluster_observations(study: Study, method: str = "average") -> list[Clustering]:
    """Cluster the themed first-order observations of each dimension by textual affinity
    (TF-IDF of text and evidence, cosine distance, ``method`` linkage), cut into as many
    clusters as the dimension has themes, and score the partition against the study's themes
    with the adjusted Rand index (an observation with several themes counts under its first)."""
    out = []
    for dim in study.framework.dimensions:
        coded = [
            co
            for co in study.observations
            if co.observation.dimension == dim.id and co.observation.themes
        ]
        k = len({t.id for t in study.themes if t.dimension == dim.id})
        if len(coded) < 2 or k < 1:
            continue
        texts = [f"{co.observation.text} {co.observation.evidence or ''}" for co in coded]
        x = _vectorizer().fit_transform(texts).toarray()
        tree = linkage(x, method=method, metric="cosine")
        clusters = [int(c) for c in fcluster(tree, t=k, criterion="maxclust")]
        labels = [co.observation.themes[0] for co in coded]
        out.append(
            Clustering(
                dimension=dim.id,
                observations=[co.observation.id for co in coded],
                labels=labels,
                linkage=tree,
                clusters=clusters,
                ari=float(adjusted_rand_score(labels, clusters)),
            )
        )
    return out


def clustering_table(clusterings: Sequence[Clustering], study: Study) -> pd.DataFrame:
    """ARI per dimension and overall (clusters kept apart across dimensions)."""
    labels = {d.id: d.label for d in study.framework.dimensions}
    rows = [
        {
            "dimension": labels[c.dimension],
            "observations": len(c.observations),
            "themes": len(set(c.labels)),
            "adjusted_rand_index": round(c.ari, 3),
        }
        for c in clusterings
    ]
    ref = [f"{c.dimension}:{lab}" for c in clusterings for lab in c.labels]
    got = [f"{c.dimension}:{k}" for c in clusterings for k in c.clusters]
    rows.append(
        {
            "dimension": "All dimensions",
            "observations": len(ref),
            "themes": len(set(ref)),
            "adjusted_rand_index": round(float(adjusted_rand_score(ref, got)), 3),
        }
    )
    return pd.DataFrame(rows)


def accuracy_by_threshold(study: Study, thresholds: Sequence[float]) -> pd.DataFrame:
    """Leave-one-case-out theme-assignment accuracy at each new-theme threshold. The scores do
    not depend on the threshold, so the suggestions are made once and thresholded after."""
    loco = theme_assignment_loco(study, threshold=-1.0)  # every best theme, with its score
    rows = []
    for t in thresholds:
        new = loco["score"] < t
        correct = loco["correct"] & ~new
        rows.append(
            {
                "threshold": t,
                "observations": len(loco),
                "correct": int(correct.sum()),
                "suggested_new_theme": int(new.sum()),
                "accuracy": round(float(correct.mean()), 3) if len(loco) else 0.0,
            }
        )
    return pd.DataFrame(rows)


def dendrogram_panels(
    clusterings: Sequence[Clustering], study: Study
) -> list[tuple[str, object, list[str]]]:
    """Panels for :func:`crosscase.figures.dendrogram_figure`: leaves named by observation id
    and the reference theme."""
    dims = {d.id: d.label for d in study.framework.dimensions}
    themes = {t.id: t.label for t in study.themes}
    return [
        (
            f"{dims[c.dimension]} (ARI {c.ari:.2f})",
            c.linkage,
            [f"{o}: {themes[t][:40]}" for o, t in zip(c.observations, c.labels, strict=True)],
        )
        for c in clusterings
    ]
