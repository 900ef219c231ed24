"""Assisted coding: suggest dimensions for raw text and themes for observations, cluster
observations into candidate themes, and measure each against a reference coding, with bootstrap
intervals and baselines beside every figure.

Everything here is deterministic (seeded randomness only) and built on well-kept libraries:
pySBD for sentence segmentation; scikit-learn for TF-IDF features, the classifier, its
calibration (``CalibratedClassifierCV``) and the reference metrics; scipy for hierarchical
clustering; ``krippendorff`` for Krippendorff's alpha at the nominal level (codes are
categories, not quantities). What is computed by hand is vectorised over bootstrap resamples or
permutations (a statistic of weighted counts) and tested against those libraries, resample by
resample; the cross-conformal prediction sets are tested against their definition.

The reference coding of a study is its own data: every sentence of a case's narrative for a
dimension is coded with that dimension, and every first-order observation with its themes (or
none). The measures leave each case out in turn: train on the other cases (and the domain
documents the caller gives), code the case left out. The configuration is :data:`DECLARED`,
fixed before it was measured (:class:`Settings` says why each setting is what it is).
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import krippendorff
import numpy as np
import pandas as pd
import pysbd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csc_matrix, csr_matrix, hstack
from scipy.special import gammaln
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    adjusted_mutual_info_score,
    adjusted_rand_score,
    cohen_kappa_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_curve,
)
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import normalize

from .model import Framework, Theme
from .study import Study

#: The decision for an observation that no theme of its dimension fits well enough.
NO_THEME = "no theme"
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
      coding documents add more to some dimensions than to others). Solved with Newton-CG:
      the L2-regularised problem is strictly convex, so the solver changes the time, not the
      model (chosen for speed, four times L-BFGS's here, before anything was measured).
    - Training documents: the other cases' narrative sentences and first-order observations,
      and domain documents per dimension given by the caller (the framework's labels, aliases,
      keywords, definitions and questions, the comparison's literature characteristics), each
      definition and question split into sentences, the unit being coded.
    - Calibration: scikit-learn's ``CalibratedClassifierCV`` with temperature scaling (one
      parameter: stable on some twenty sentences a fold), fitted inside the training cases by
      leaving each training case out in turn and calibrating on that case's narrative
      sentences; the suggestion is the calibrated ensemble's most probable dimension.
    - Prediction sets: cross-conformal (LAC score, one minus the calibrated probability of the
      code) over the same inner folds, at ``set_coverages``; a suggestion is *unsure* unless its
      set at ``unsure_coverage`` holds the suggested dimension alone.
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
    solver: str = "newton-cg"
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


#: Paragraphs longer than this are segmented in pieces of about ``_PIECE`` characters, cut where
#: a sentence clearly ends: pySBD's cost grows with the square of its input's length, so a pasted
#: transcript would otherwise take minutes. Shorter paragraphs are segmented whole.
_LONG = 5000
_PIECE = 2000
_SENTENCE_END = re.compile(
    r"(?<=[a-z]{2}[.!?])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z])"
)  # "word. Next": not "p. 12", "e.g. a", "Dr. Smith" or "U.S. Army"


def _pieces(paragraph: str) -> list[tuple[int, str]]:
    """``paragraph`` cut into pieces of at most about ``_PIECE`` characters, each ending where a
    sentence clearly ends (or, failing that, at a space, or anywhere), with their offsets."""
    if len(paragraph) <= _LONG:
        return [(0, paragraph)]
    out: list[tuple[int, str]] = []
    start = 0
    while len(paragraph) - start > _PIECE:
        window = paragraph[start : start + _PIECE]
        ends = [m.end() for m in _SENTENCE_END.finditer(window)]
        cut = ends[-1] if ends else (window.rfind(" ") + 1 or len(window))
        out.append((start, paragraph[start : start + cut]))
        start += cut
    out.append((start, paragraph[start:]))
    return out


def segment(text: str) -> list[tuple[int, int, str]]:
    """Split text into sentences: (start, end, sentence) with offsets into ``text``.

    Paragraphs (blank lines) are split first, so a heading or list never joins the next one; a
    long paragraph is segmented in bounded pieces (linear time in the text's length).
    """
    out: list[tuple[int, int, str]] = []
    for para in re.finditer(r"\S(?:.*?)(?=\n\s*\n|\Z)", text, flags=re.S):
        for offset, piece in _pieces(para.group(0)):
            for span in _SEGMENTER.segment(piece):
                sentence = span.sent.strip()
                if sentence:
                    lead = len(span.sent) - len(span.sent.lstrip())
                    start = para.start() + offset + span.start + lead
                    out.append((start, start + len(sentence), " ".join(sentence.split())))
    return out


def narrative_segments(study: Study) -> pd.DataFrame:
    """The reference units of dimension coding: every sentence of every narrative, coded with the
    narrative's dimension, in text order (cases by number, narratives in framework order)."""
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


def _vectorizer_settings(settings: Settings) -> tuple[dict[str, object], dict[str, object]]:
    word: dict[str, object] = {
        "preprocessor": normalise_text,
        "ngram_range": settings.word_ngrams,
        "stop_words": "english",
        "token_pattern": r"(?u)\b[\w/]*[a-z][\w/-]*\b",
    }
    char: dict[str, object] = {
        "preprocessor": normalise_text,
        "analyzer": "char_wb",
        "ngram_range": settings.char_ngrams,
    }
    return word, char


def features(settings: Settings = DECLARED) -> FeatureUnion:
    """Word and character TF-IDF features, joined (:class:`Settings`): the definition that
    :class:`Ngrams` and :class:`TrainingTfidf` compute faster."""
    word, char = _vectorizer_settings(settings)
    return FeatureUnion(
        [
            ("word", TfidfVectorizer(sublinear_tf=True, **word)),
            ("char", TfidfVectorizer(sublinear_tf=True, **char)),
        ]
    )


class Ngrams:
    """Word and character n-gram counts of a set of texts, counted once.

    Counting is per text, so :class:`TrainingTfidf` fitted on the counts of any subset of the
    texts gives the same matrix as :func:`features` fitted on that subset's texts (its
    vocabulary is the n-grams the subset contains), without counting again for every fold.
    """

    def __init__(self, texts: Sequence[str], settings: Settings = DECLARED) -> None:
        unique = list(dict.fromkeys(str(t) for t in texts))
        self._row = {t: i for i, t in enumerate(unique)}
        word, char = _vectorizer_settings(settings)
        self._word = CountVectorizer(**word)
        self._char = CountVectorizer(**char)
        counts = [self._word.fit_transform(unique), self._char.fit_transform(unique)]
        self.split = int(counts[0].shape[1])  # the word columns come first
        self._counts = hstack(counts).tocsr()

    def counts(self, texts: Sequence[str]) -> csr_matrix:
        """The n-gram counts of ``texts`` (n-grams of the counted texts only)."""
        texts = [str(t) for t in texts]
        if all(t in self._row for t in texts):
            return self._counts[[self._row[t] for t in texts]]
        return hstack([self._word.transform(texts), self._char.transform(texts)]).tocsr()


class TrainingTfidf(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """TF-IDF (sublinear, l2 per block) of :class:`Ngrams` counts, with the vocabulary and
    inverse document frequencies of the rows it is fitted on: word columns before ``split``,
    character columns after, each weighted by scikit-learn's ``TfidfTransformer``."""

    def __init__(self, split: int = 0) -> None:
        self.split = split

    def fit(self, x: csr_matrix, y: object = None) -> TrainingTfidf:
        x = csc_matrix(x)  # column selection is fast on columns
        used = np.flatnonzero(np.diff(x.indptr) > 0)  # n-grams the rows contain
        self.columns_ = [used[used < self.split], used[used >= self.split]]
        self.weights_ = [
            TfidfTransformer(sublinear_tf=True).fit(x[:, cols]) for cols in self.columns_
        ]
        return self

    def transform(self, x: csr_matrix) -> csr_matrix:
        x = csc_matrix(x)
        parts = [w.transform(x[:, c]) for w, c in zip(self.weights_, self.columns_, strict=True)]
        return hstack(parts).tocsr()


_DOCUMENT_COLUMNS = ["dimension", "source", "text"]


def domain_documents(study: Study) -> pd.DataFrame:
    """Training documents per dimension that code no case: from the framework, each dimension's
    label, aliases and keywords (one document), the sentences of its definition and of its
    interview question; from the comparison of production models, each literature
    characteristic. Columns: dimension, source, text."""
    rows: list[dict[str, str]] = []
    for d in study.framework.dimensions:
        terms = " ".join([d.label, *d.aliases, *d.keywords])
        rows.append({"dimension": d.id, "source": "label, aliases and keywords", "text": terms})
        for source, text in (("definition", d.definition), ("question", d.question)):
            rows += [
                {"dimension": d.id, "source": source, "text": t} for _, _, t in segment(text or "")
            ]
    if study.production_models is not None:
        rows += [
            {"dimension": c.dimension, "source": "literature characteristic", "text": c.text}
            for c in study.production_models.characteristics
        ]
    return pd.DataFrame(rows, columns=_DOCUMENT_COLUMNS)


def training_passages(study: Study, segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Coded passages of a study: narrative sentences (unit ``sentence``; ``segments``, if the
    caller has them, else :func:`narrative_segments`) and first-order observations (unit
    ``observation``), each with its case and dimension."""
    sentences = narrative_segments(study) if segments is None else segments
    seg = sentences[["case", "dimension", "text"]].assign(unit="sentence")
    obs = pd.DataFrame(
        [
            {
                "case": co.case,
                "dimension": co.observation.dimension,
                "text": co.observation.text,
                "unit": "observation",
            }
            for co in study.observations
        ],
        columns=["case", "dimension", "text", "unit"],
    )
    return pd.concat([seg, obs], ignore_index=True)


def conformal_sets(
    calibration: Sequence[np.ndarray], folds: Sequence[np.ndarray], coverage: float
) -> np.ndarray:
    """Cross-conformal prediction sets (Vovk 2015; the LAC score of Sadinle et al. 2019).

    ``calibration[j]``: the probability fold ``j``'s model gave the true code of each of its
    held-out units; ``folds[j]``: fold ``j``'s probabilities for the new units (units x codes).
    A code is in a unit's set when fewer than ``coverage * (n + 1)`` of the ``n`` held-out
    scores (1 - p) lie below the new score each fold's model gives it. With one fold this is
    split conformal prediction. Returns a boolean matrix, units x codes.
    """
    n = sum(len(c) for c in calibration)
    below = np.zeros(folds[0].shape)
    for held_out, probabilities in zip(calibration, folds, strict=True):
        below += np.searchsorted(np.sort(1.0 - held_out), 1.0 - probabilities, side="left")
    return np.asarray(below < coverage * (n + 1))


def _classifier(split: int, settings: Settings) -> Pipeline:
    """TF-IDF of the training rows and logistic regression, as :class:`Settings` declares."""
    return make_pipeline(
        TrainingTfidf(split),
        LogisticRegression(
            C=settings.c,
            class_weight=settings.class_weight,
            solver=settings.solver,
            max_iter=5000,
        ),
    )


class DimensionCoder:
    """Suggest the framework dimension of text segments, with a calibrated score.

    Trained on coded passages (:func:`training_passages`) and the ``documents`` given (e.g.
    :func:`domain_documents`) as :class:`Settings` declares. Calibrated inside the passages'
    cases: for each case with narrative sentences, a classifier trained without that case is
    calibrated on its sentences (temperature scaling, ``CalibratedClassifierCV`` on the frozen
    classifier), and the score is the mean of these calibrated classifiers' probabilities,
    which is what ``CalibratedClassifierCV(..., cv=<those splits>, ensemble=True)`` computes.
    At least two cases with narrative sentences are needed. Each suggestion carries its
    evidence: the keywords of that dimension found in the segment, and the most similar coded
    passage.

    ``ngrams`` (counts of a corpus that holds the passages and documents) and ``cache`` (fitted
    classifiers by training data) let repeated coders share work; they change no result.
    """

    def __init__(
        self,
        framework: Framework,
        passages: pd.DataFrame,
        documents: pd.DataFrame | None = None,
        settings: Settings = DECLARED,
        ngrams: Ngrams | None = None,
        cache: dict[tuple[tuple[str, ...], tuple[str, ...]], Pipeline] | None = None,
    ) -> None:
        self.framework, self.passages, self.settings = framework, passages, settings
        docs = documents if documents is not None else pd.DataFrame(columns=_DOCUMENT_COLUMNS)
        texts = np.array([*passages["text"].astype(str), *docs["text"].astype(str)], dtype=object)
        labels = np.array([*passages["dimension"].astype(str), *docs["dimension"].astype(str)])
        case = np.array([*passages["case"].astype(str), *[""] * len(docs)], dtype=object)
        sentence = np.array([*(passages["unit"] == "sentence"), *[False] * len(docs)])
        held_out = list(dict.fromkeys(case[sentence]))
        if len(held_out) < 2:
            raise ValueError("calibration needs the narratives of at least two coded cases")
        self._ngrams = ngrams if ngrams is not None else Ngrams(texts.tolist(), settings)
        cache = {} if cache is None else cache
        x = self._ngrams.counts(texts.tolist())
        self.codes = [d.id for d in framework.dimensions]
        index = {c: i for i, c in enumerate(self.codes)}
        self._pairs: list[CalibratedClassifierCV] = []
        self._calibration: list[np.ndarray] = []
        for c in held_out:
            train = np.flatnonzero(case != c)
            test = np.flatnonzero((case == c) & sentence)
            key = (tuple(texts[train]), tuple(labels[train]))
            if key not in cache:
                cache[key] = _classifier(self._ngrams.split, settings).fit(x[train], labels[train])
            everything = np.arange(len(test))  # one split: the frozen model is never refitted
            pair = CalibratedClassifierCV(
                FrozenEstimator(cache[key]),
                method=settings.calibration,
                cv=[(everything, everything)],
            ).fit(x[test], labels[test])
            self._pairs.append(pair)
            p = self._ordered(pair.predict_proba(x[test]), pair.classes_)
            self._calibration.append(p[np.arange(len(test)), [index[y] for y in labels[test]]])
        self._keywords = {
            d.id: [(k, normalise_text(k)) for k in d.keywords] for d in framework.dimensions
        }
        self._neighbours: tuple[TrainingTfidf, csr_matrix] | None = None

    def _ordered(self, probabilities: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """Columns in framework order (a code the training data lack has probability 0)."""
        names = [str(c) for c in classes]
        out = np.zeros((probabilities.shape[0], len(self.codes)))
        for j, code in enumerate(self.codes):
            if code in names:
                out[:, j] = probabilities[:, names.index(code)]
        return out

    def fold_probabilities(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Each calibrated fold classifier's probabilities (units x codes, framework order)."""
        x = self._ngrams.counts(list(texts))
        return [self._ordered(pair.predict_proba(x), pair.classes_) for pair in self._pairs]

    def predict(
        self, texts: Sequence[str], coverages: Sequence[float] = ()
    ) -> tuple[np.ndarray, dict[float, np.ndarray]]:
        """Calibrated probabilities (the mean over the calibrated fold classifiers) and the
        prediction set at each coverage (:func:`conformal_sets`)."""
        folds = self.fold_probabilities(texts)
        sets = {c: conformal_sets(self._calibration, folds, c) for c in coverages}
        return np.mean(folds, axis=0), sets

    def suggest(self, texts: Sequence[str]) -> pd.DataFrame:
        """For each text: suggested dimension, calibrated score, ``unsure`` ("yes" unless the
        prediction set at the declared coverage holds the suggestion alone), ``candidates``
        (that set, most probable first), matching keywords, nearest coded passage."""
        columns = ["text", "dimension", "score", "unsure", "candidates", "keywords"]
        columns += ["neighbour_case", "neighbour"]
        if not len(texts):
            return pd.DataFrame(columns=columns)
        coverage = self.settings.unsure_coverage
        proba, sets = self.predict(texts, [coverage])
        if self._neighbours is None:
            counts = self._ngrams.counts(self.passages["text"].astype(str).tolist())
            tfidf = TrainingTfidf(self._ngrams.split).fit(counts)
            self._neighbours = (tfidf, normalize(tfidf.transform(counts)))
        tfidf, train = self._neighbours
        sims = (normalize(tfidf.transform(self._ngrams.counts(list(texts)))) @ train.T).toarray()
        dims = self.passages["dimension"].to_numpy()
        rows = []
        for i, text in enumerate(texts):
            order = np.argsort(-proba[i], kind="stable")
            dim = self.codes[int(order[0])]
            candidates = [self.codes[int(j)] for j in order if sets[coverage][i, j]]
            norm = normalise_text(text)
            same = np.flatnonzero(dims == dim)
            j = int(same[int(np.argmax(sims[i, same]))]) if len(same) else -1
            rows.append(
                {
                    "text": text,
                    "dimension": dim,
                    "score": round(float(proba[i, order[0]]), 3),
                    "unsure": "" if candidates == [dim] else "yes",
                    "candidates": "; ".join(candidates),
                    "keywords": "; ".join(k for k, nk in self._keywords.get(dim, []) if nk in norm),
                    "neighbour_case": str(self.passages["case"].iloc[j]) if j >= 0 else "",
                    "neighbour": str(self.passages["text"].iloc[j]) if j >= 0 else "",
                }
            )
        return pd.DataFrame(rows, columns=columns)


def suggest_dimensions(
    study: Study, raw_text: str, documents: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Segment raw text (e.g. interview notes of a new case) and suggest a dimension for each
    segment, trained on the whole study's coding and the ``documents`` given."""
    spans = segment(raw_text)
    coder = DimensionCoder(study.framework, training_passages(study), documents)
    out = coder.suggest([t for _, _, t in spans])
    out.insert(0, "segment", range(1, len(spans) + 1))
    out.insert(1, "start", [s for s, _, _ in spans])
    out.insert(2, "end", [e for _, e, _ in spans])
    return out


def neighbour_context(probabilities: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Each row averaged with its neighbours' (weights: previous, own, next; at either end the
    missing neighbour's weight is left out)."""
    before, own, after = weights
    out = own * probabilities
    total = np.full(len(probabilities), own)
    out[1:] += before * probabilities[:-1]
    total[1:] += before
    out[:-1] += after * probabilities[1:]
    total[:-1] += after
    return np.asarray(out / total[:, None])


@dataclass(frozen=True)
class DimensionCoding:
    """Leave-one-case-out dimension coding of every narrative sentence.

    ``units``: one row per sentence (case_number, segment, reference, suggested, score, rank of
    the reference among the codes, candidates and unsure as in :meth:`DimensionCoder.suggest`,
    in_context: the suggestion with neighbouring sentences, text); ``probabilities`` and
    ``context``: calibrated probabilities without and with neighbours (units x ``codes``);
    ``sets``: the prediction sets per coverage; ``majority``: for each unit, the codes ordered
    by their number of sentences in the training cases (the majority baseline).
    """

    codes: list[str]
    units: pd.DataFrame
    probabilities: np.ndarray
    context: np.ndarray
    sets: dict[float, np.ndarray]
    majority: np.ndarray


def _ranks(probabilities: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """1-based rank of each reference code (ties: the earlier code first, as argmax)."""
    order = np.argsort(-probabilities, axis=1, kind="stable")
    return np.asarray(np.argmax(order == reference[:, None], axis=1) + 1)


def dimension_coding_loco(
    study: Study,
    documents: pd.DataFrame | None = None,
    settings: Settings = DECLARED,
    only: Sequence[str] | None = None,
) -> DimensionCoding:
    """Leave-one-case-out dimension coding of every narrative sentence (of the cases in
    ``only``, if given): for each case, train on the other cases' coding and the ``documents``,
    code the case's sentences."""
    codes = [d.id for d in study.framework.dimensions]
    index = {c: i for i, c in enumerate(codes)}
    segments = narrative_segments(study)
    passages = training_passages(study, segments)
    docs = documents if documents is not None else pd.DataFrame(columns=_DOCUMENT_COLUMNS)
    ngrams = Ngrams([*passages["text"], *docs["text"]], settings)
    cache: dict[tuple[tuple[str, ...], tuple[str, ...]], Pipeline] = {}
    coverages = sorted({*settings.set_coverages, settings.unsure_coverage})
    frames, probs, contexts, majority = [], [], [], []
    sets: dict[float, list[np.ndarray]] = {c: [] for c in coverages}
    for case in study.cases:
        test = segments[segments["case"] == case.id]
        if test.empty or (only is not None and case.id not in only):
            continue
        train = passages[passages["case"] != case.id]
        coder = DimensionCoder(study.framework, train, docs, settings, ngrams, cache)
        p, case_sets = coder.predict(test["text"].tolist(), coverages)
        context = neighbour_context(p, settings.context_weights)
        counts = train[train["unit"] == "sentence"]["dimension"].value_counts()
        order = np.argsort([-counts.get(c, 0) for c in codes], kind="stable")
        frame = test[["case_number", "segment", "dimension", "text"]].reset_index(drop=True)
        frame = frame.rename(columns={"dimension": "reference"})
        reference = frame["reference"].map(index).to_numpy()
        best = p.argmax(axis=1)
        frame["suggested"] = [codes[i] for i in best]
        frame["score"] = p.max(axis=1).round(3)
        frame["rank"] = _ranks(p, reference)
        unsure_set = case_sets[settings.unsure_coverage]
        frame["candidates"] = [
            "; ".join(codes[j] for j in np.argsort(-p[i], kind="stable") if unsure_set[i, j])
            for i in range(len(p))
        ]
        frame["unsure"] = [
            "" if unsure_set[i].sum() == 1 and unsure_set[i, best[i]] else "yes"
            for i in range(len(p))
        ]
        frame["in_context"] = [codes[i] for i in context.argmax(axis=1)]
        frames.append(frame)
        probs.append(p)
        contexts.append(context)
        majority.append(np.tile(order, (len(p), 1)))
        for c in coverages:
            sets[c].append(case_sets[c])
    units = pd.concat(frames, ignore_index=True)
    columns = ["case_number", "segment", "reference", "suggested", "score", "rank"]
    units = units[[*columns, "candidates", "unsure", "in_context", "text"]]
    return DimensionCoding(
        codes=codes,
        units=units,
        probabilities=np.vstack(probs),
        context=np.vstack(contexts),
        sets={c: np.vstack(v) for c, v in sets.items()},
        majority=np.vstack(majority),
    )


# --- Agreement, and its intervals --------------------------------------------------------------


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


def resample_weights(n: int, resamples: int, seed: int) -> np.ndarray:
    """Bootstrap resamples of ``n`` units as counts (resamples x units): drawing ``n`` units
    with replacement is drawing these multiplicities."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(float)


def _with_point(n: int, resamples: int, seed: int) -> np.ndarray:
    """Unit weights: first the units as they are, then the bootstrap resamples."""
    return np.vstack([np.ones(n), resample_weights(n, resamples, seed)])


def _confusions(
    reference: np.ndarray, coded: np.ndarray, k: int, weights: np.ndarray
) -> np.ndarray:
    """Weighted confusion matrices (one per row of ``weights``): resamples x k x k."""
    pairs = np.zeros((len(reference), k * k))
    pairs[np.arange(len(reference)), reference * k + coded] = 1.0
    return np.asarray((weights @ pairs).reshape(-1, k, k))


def _statistics(confusion: np.ndarray) -> dict[str, np.ndarray]:
    """Percent agreement, Cohen's kappa, Krippendorff's alpha (nominal, two coders, no missing
    values) and macro F1 over all codes (0 for a code neither coding uses, as scikit-learn's
    ``zero_division=0``), from confusion matrices (rows: reference)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        total = confusion.sum(axis=(1, 2))
        agree = np.trace(confusion, axis1=1, axis2=2)
        rows, cols = confusion.sum(axis=2), confusion.sum(axis=1)
        observed = agree / total
        expected = (rows * cols).sum(axis=1) / total**2
        kappa = (observed - expected) / (1 - expected)
        values = rows + cols  # the coincidence matrix's marginals
        pairs = 2 * total
        alpha = 1 - (pairs - 1) * (pairs - 2 * agree) / (pairs**2 - (values**2).sum(axis=1))
        f1 = np.where(values > 0, 2 * np.diagonal(confusion, axis1=1, axis2=2) / values, 0.0)
    return {"accuracy": observed, "kappa": kappa, "alpha": alpha, "macro_f1": f1.mean(axis=1)}


def agreement_statistics(
    reference: Sequence[str], coded: Sequence[str], codes: Sequence[str], weights: np.ndarray
) -> dict[str, np.ndarray]:
    """Percent agreement (``accuracy``), ``kappa``, ``alpha`` (Krippendorff, nominal) and
    ``macro_f1`` of two codings for each row of unit ``weights`` (e.g. bootstrap resamples)."""
    index = {c: i for i, c in enumerate(codes)}
    ref = np.array([index[str(x)] for x in reference])
    got = np.array([index[str(x)] for x in coded])
    return _statistics(_confusions(ref, got, len(codes), np.atleast_2d(weights)))


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((weights @ values) / weights.sum(axis=1))


_NAMES = {
    "accuracy": "percent agreement",
    "kappa": "Cohen's kappa",
    "alpha": "Krippendorff's alpha (nominal)",
    "macro_f1": "macro F1",
}


def _row(statistic: str, values: np.ndarray, **extra: object) -> dict[str, object]:
    """A statistic's point value (first) and its 95% percentile interval (the rest)."""
    low, high = np.nanquantile(values[1:], [0.025, 0.975]) if len(values) > 1 else (np.nan,) * 2
    return {
        "statistic": statistic,
        **extra,
        "value": round(float(values[0]), 3),
        "ci_low": round(float(low), 3),
        "ci_high": round(float(high), 3),
    }


def bootstrap_agreement(
    reference: Sequence[str],
    coded: Sequence[str],
    codes: Sequence[str],
    resamples: int = DECLARED.resamples,
    seed: int = DECLARED.seed,
    ranks: Sequence[int] | None = None,
    top: int = 3,
) -> pd.DataFrame:
    """Percent agreement, Cohen's kappa, Krippendorff's alpha (nominal) and macro F1 of two
    codings with percentile bootstrap 95% intervals over the units (and top-``top`` accuracy
    when the ``ranks`` of the reference codes are given). Columns: statistic, value, ci_low,
    ci_high."""
    weights = _with_point(len(reference), resamples, seed)
    stats = agreement_statistics(reference, coded, codes, weights)
    rows = [_row(_NAMES[k], v) for k, v in stats.items()]
    if ranks is not None:
        hits = (np.asarray(ranks) <= top).astype(float)
        rows.append(_row(f"top-{top} accuracy", _weighted_mean(hits, weights)))
    return pd.DataFrame(rows, columns=["statistic", "value", "ci_low", "ci_high"])


def calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Expected calibration error: over equal-width bins of confidence, the share of units in
    the bin times the gap between its accuracy and its mean confidence, summed (one value per
    row of unit ``weights``)."""
    w = np.ones((1, len(confidence))) if weights is None else np.atleast_2d(weights)
    which = np.minimum((np.asarray(confidence) * bins).astype(int), bins - 1)
    member = np.zeros((len(confidence), bins))
    member[np.arange(len(confidence)), which] = 1.0
    gap = (np.asarray(correct, dtype=float) - confidence)[:, None] * member
    return np.asarray(np.abs(w @ gap).sum(axis=1) / w.sum(axis=1))


def accuracy_at_coverage(
    confidence: np.ndarray,
    correct: np.ndarray,
    coverages: Sequence[float],
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Accuracy of the most confident units: at coverage q, the first ceil(q n) units by
    descending confidence (ties in unit order). One row per coverage, one column per row of
    unit ``weights``."""
    w = np.ones((1, len(confidence))) if weights is None else np.atleast_2d(weights)
    order = np.lexsort((np.arange(len(confidence)), -np.asarray(confidence)))
    ws = w[:, order]
    hits = np.asarray(correct, dtype=float)[order]
    before = np.cumsum(ws, axis=1) - ws
    out = []
    for q in coverages:
        keep = ws * (before < q * ws.sum(axis=1, keepdims=True))
        out.append((keep * hits).sum(axis=1) / keep.sum(axis=1))
    return np.array(out)


def auroc(score: np.ndarray, positive: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Area under the ROC curve of ``score`` for ``positive`` units, for each row of unit
    ``weights``: the weighted share of (positive, negative) pairs the score orders correctly,
    ties counting one half (the Mann-Whitney statistic)."""
    s = np.asarray(score, dtype=float)
    pos = np.asarray(positive, dtype=bool)
    pairs = (s[:, None] > s[None, :]) + 0.5 * (s[:, None] == s[None, :])
    wp, wn = weights * pos, weights * ~pos
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(
            np.einsum("ri,ij,rj->r", wp, pairs, wn) / (wp.sum(axis=1) * wn.sum(axis=1))
        )


# --- Dimension coding: figures with intervals and baselines ------------------------------------

SENTENCE = "suggestion, sentence alone"
IN_CONTEXT = "suggestion with neighbouring sentences"
MAJORITY = "baseline: most frequent dimension"
CHANCE = "baseline: chance (random ranking)"


def _coder_rows(
    coder: str,
    ref: np.ndarray,
    best: np.ndarray,
    ranks: np.ndarray,
    k: int,
    weights: np.ndarray,
    top: int,
) -> list[dict[str, object]]:
    stats = _statistics(_confusions(ref, best, k, weights))
    stats[f"top-{top}"] = _weighted_mean((ranks <= top).astype(float), weights)
    names = {**_NAMES, f"top-{top}": f"top-{top} accuracy"}
    return [_row(names[s], v, coder=coder, units=len(ref)) for s, v in stats.items()]


def dimension_coding_summary(
    coding: DimensionCoding, settings: Settings = DECLARED
) -> pd.DataFrame:
    """Agreement of the suggestions with the reference coding, with bootstrap 95% intervals,
    beside the baselines: the most frequent dimension of the training cases, and chance (a
    uniformly random ranking of the codes: the mean and the 95% range of ``resamples`` random
    codings). Columns: coder, statistic, units, value, ci_low, ci_high."""
    k = len(coding.codes)
    index = {c: i for i, c in enumerate(coding.codes)}
    ref = coding.units["reference"].map(index).to_numpy()
    n, top = len(ref), 3
    weights = _with_point(n, settings.resamples, settings.seed)
    rows = _coder_rows(
        SENTENCE,
        ref,
        coding.probabilities.argmax(1),
        _ranks(coding.probabilities, ref),
        k,
        weights,
        top,
    )
    rows += _coder_rows(
        IN_CONTEXT, ref, coding.context.argmax(1), _ranks(coding.context, ref), k, weights, top
    )
    majority_rank = np.argmax(coding.majority == ref[:, None], axis=1) + 1
    rows += _coder_rows(MAJORITY, ref, coding.majority[:, 0], majority_rank, k, weights, top)
    rng = np.random.default_rng(settings.seed)
    rankings = rng.permuted(np.tile(np.arange(k), (settings.resamples, n, 1)), axis=2)
    guess = rankings[:, :, 0]
    pairs = (np.arange(settings.resamples)[:, None] * k * k + ref * k + guess).ravel()
    confusion = np.bincount(pairs, minlength=settings.resamples * k * k).reshape(-1, k, k)
    chance = _statistics(confusion.astype(float))
    chance["top"] = (rankings[:, :, :top] == ref[None, :, None]).any(axis=2).mean(axis=1)
    names = {**_NAMES, "top": f"top-{top} accuracy"}
    for s, v in chance.items():
        rows.append(_row(names[s], np.concatenate([[v.mean()], v]), coder=CHANCE, units=n))
    return pd.DataFrame(rows, columns=["coder", "statistic", "units", "value", "ci_low", "ci_high"])


def dimension_coding_by_case(coding: DimensionCoding) -> pd.DataFrame:
    """Per case left out: sentences, percent agreement, Cohen's kappa and top-3 accuracy (the
    spread behind the pooled figures)."""
    rows = []
    for number, part in coding.units.groupby("case_number", sort=True):
        stats = agreement_statistics(
            part["reference"].tolist(), part["suggested"].tolist(), coding.codes, np.ones(len(part))
        )
        rows.append(
            {
                "case_number": number,
                "sentences": len(part),
                "percent_agreement": round(float(stats["accuracy"][0]), 3),
                "cohen_kappa": round(float(stats["kappa"][0]), 3),
                "top_3_accuracy": round(float((part["rank"] <= 3).mean()), 3),
            }
        )
    return pd.DataFrame(rows)


def confidence_summary(coding: DimensionCoding, settings: Settings = DECLARED) -> pd.DataFrame:
    """How far the calibrated score can be trusted, with bootstrap 95% intervals: mean score
    and accuracy, expected calibration error, and the share and accuracy of the suggestions
    flagged sure and unsure."""
    confidence = coding.probabilities.max(axis=1)
    correct = (coding.units["suggested"] == coding.units["reference"]).to_numpy()
    sure = (coding.units["unsure"] == "").to_numpy()
    w = _with_point(len(correct), settings.resamples, settings.seed)
    hits = correct.astype(float)
    cover = f"{settings.unsure_coverage:.0%}"
    rows = [
        _row("mean calibrated score", _weighted_mean(confidence, w)),
        _row("accuracy", _weighted_mean(hits, w)),
        _row(
            f"expected calibration error ({settings.calibration_bins} bins)",
            calibration_error(confidence, correct, settings.calibration_bins, w),
        ),
        _row(
            f"share flagged sure (the {cover} set holds the suggestion alone)",
            _weighted_mean(sure.astype(float), w),
        ),
        _row("accuracy when sure", _weighted_mean(hits, w * sure)),
        _row("accuracy when unsure", _weighted_mean(hits, w * ~sure)),
    ]
    return pd.DataFrame(rows, columns=["statistic", "value", "ci_low", "ci_high"])


def accuracy_coverage_table(coding: DimensionCoding, settings: Settings = DECLARED) -> pd.DataFrame:
    """Abstention: the accuracy of the most confident suggestions at each declared coverage
    (the others left to the researcher), with bootstrap 95% intervals."""
    confidence = coding.probabilities.max(axis=1)
    correct = (coding.units["suggested"] == coding.units["reference"]).to_numpy()
    w = _with_point(len(correct), settings.resamples, settings.seed)
    coverages = settings.abstention_coverages
    rows = [
        {"coverage": q, "units": int(np.ceil(q * len(correct) - 1e-9)), **_row("", acc)}
        for q, acc in zip(
            coverages, accuracy_at_coverage(confidence, correct, coverages, w), strict=True
        )
    ]
    table = pd.DataFrame(rows).drop(columns="statistic")
    return table.rename(columns={"value": "accuracy"})


def prediction_set_summary(coding: DimensionCoding, settings: Settings = DECLARED) -> pd.DataFrame:
    """Conformal prediction sets at each stated coverage: how often the set holds the reference
    dimension, how many dimensions it needs (mean), and how often it holds one dimension or
    none; intervals by bootstrap."""
    index = {c: i for i, c in enumerate(coding.codes)}
    ref = coding.units["reference"].map(index).to_numpy()
    w = _with_point(len(ref), settings.resamples, settings.seed)
    rows = []
    for coverage in settings.set_coverages:
        sets = coding.sets[coverage]
        size = sets.sum(axis=1).astype(float)
        covered = sets[np.arange(len(ref)), ref].astype(float)
        label = f"{coverage:.0%}"
        rows += [
            _row(
                "holds the reference dimension", _weighted_mean(covered, w), stated_coverage=label
            ),
            _row("dimensions in the set (mean)", _weighted_mean(size, w), stated_coverage=label),
            _row(
                "sets of one dimension",
                _weighted_mean((size == 1).astype(float), w),
                stated_coverage=label,
            ),
            _row("empty sets", _weighted_mean((size == 0).astype(float), w), stated_coverage=label),
        ]
    return pd.DataFrame(
        rows, columns=["stated_coverage", "statistic", "value", "ci_low", "ci_high"]
    )


def reliability_table(
    coding: DimensionCoding, bins: int = DECLARED.calibration_bins
) -> pd.DataFrame:
    """The reliability diagram's data: per equal-width bin of calibrated score, its units, mean
    score and accuracy."""
    confidence = coding.probabilities.max(axis=1)
    correct = (coding.units["suggested"] == coding.units["reference"]).to_numpy()
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    rows = [
        {
            "bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}",
            "units": int((which == b).sum()),
            "mean_score": round(float(confidence[which == b].mean()), 3),
            "accuracy": round(float(correct[which == b].mean()), 3),
        }
        for b in range(bins)
        if (which == b).any()
    ]
    return pd.DataFrame(rows, columns=["bin", "units", "mean_score", "accuracy"])


def coverage_curve(coding: DimensionCoding) -> pd.DataFrame:
    """Accuracy of the k most confident suggestions, for every k (the accuracy-coverage curve)."""
    confidence = coding.probabilities.max(axis=1)
    correct = (coding.units["suggested"] == coding.units["reference"]).to_numpy()
    order = np.lexsort((np.arange(len(confidence)), -confidence))
    k = np.arange(1, len(order) + 1)
    return pd.DataFrame({"coverage": k / len(order), "accuracy": np.cumsum(correct[order]) / k})


def evidence_agreement(study: Study, settings: Settings = DECLARED) -> pd.DataFrame:
    """A human ceiling for dimension coding: how far the dimension of each first-order
    observation agrees with the dimension of the narrative its evidence passage lies in, with
    bootstrap 95% intervals."""
    located = [co for co in study.observations if co.evidence_dimension]
    return bootstrap_agreement(
        [co.observation.dimension for co in located],
        [str(co.evidence_dimension) for co in located],
        [d.id for d in study.framework.dimensions],
        settings.resamples,
        settings.seed,
    )


# --- Themes ---------------------------------------------------------------------------------


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

    def rank(self, text: str, dimension: str) -> list[tuple[str, float]]:
        """The themes of ``dimension``, most similar first (ties in theme order)."""
        return self._ranked(self.scores([text])[0], dimension)

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
        """:meth:`rank` for many texts at once."""
        sims = self.scores(texts) if len(texts) else np.zeros((0, len(self._themes)))
        return [self._ranked(row, d) for row, d in zip(sims, dimensions, strict=True)]

    def suggest(self, text: str, dimension: str, threshold: float) -> tuple[str, float]:
        """The most similar theme of ``dimension`` and its score, or (``NO_THEME``, score)
        when the score is below ``threshold``."""
        ranked = self.rank(text, dimension)
        if not ranked:
            return NO_THEME, 0.0
        theme, score = ranked[0]
        return (theme if score >= threshold else NO_THEME), round(score, 3)


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
        """:func:`no_theme_threshold` over ``cases``."""
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


def no_theme_threshold(study: Study, cases: Sequence[str], settings: Settings = DECLARED) -> float:
    """The best-score threshold below which an observation is suggested no theme, learnt from
    ``cases`` alone: leaving each out in turn, the threshold that maximises Youden's J (true
    positive rate minus false positive rate) for telling themed observations from the others.
    0 (every observation gets its best theme) when the cases cannot tell them apart."""
    return _ThemeWork(study, settings).threshold(cases)


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
    :func:`no_theme_threshold`), and the ``rank`` of its best-ranked reference theme (0 when it
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
    w = _with_point(len(part), settings.resamples, settings.seed)
    rows = [
        _row(
            f"top-{t} accuracy",
            _weighted_mean(((part["rank"] >= 1) & (part["rank"] <= t)).to_numpy(float), w),
            units=len(part),
            chance=round(float(_top_k_chance(k, m, t).mean()), 3),
        )
        for t in (1, 2)
    ]
    w_all = _with_point(len(loco), settings.resamples, settings.seed)
    rows.append(
        _row(
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
        _row(
            "decision accuracy (theme or no theme)",
            _weighted_mean(right.astype(float), w_all),
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


# --- Clustering -----------------------------------------------------------------------------


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def _expected_mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """Expected mutual information of two labellings with row sums ``a`` and column sums ``b``
    under random permutation (Vinh, Epps and Bailey 2010), in nats."""
    n = int(a.sum())
    total = 0.0
    for ai in a:
        for bj in b:
            for nij in range(max(1, int(ai + bj - n)), int(min(ai, bj)) + 1):
                log_p = (
                    gammaln(ai + 1)
                    + gammaln(bj + 1)
                    + gammaln(n - ai + 1)
                    + gammaln(n - bj + 1)
                    - gammaln(n + 1)
                    - gammaln(nij + 1)
                    - gammaln(ai - nij + 1)
                    - gammaln(bj - nij + 1)
                    - gammaln(n - ai - bj + nij + 1)
                )
                total += nij / n * np.log(n * nij / (ai * bj)) * np.exp(log_p)
    return total


def ami_null(
    labels: Sequence[object], clusters: Sequence[object], permutations: int, seed: int
) -> tuple[float, np.ndarray]:
    """Adjusted mutual information (scikit-learn's, arithmetic normalisation) of ``clusters``
    with ``labels``, and its value under each of ``permutations`` seeded permutations of the
    clusters (``numpy.random.default_rng(seed).permutation``, in turn): the marginals, so the
    entropies and the expected mutual information, stay fixed; only the mutual information is
    recomputed, vectorised."""
    observed = float(adjusted_mutual_info_score(labels, clusters))
    _, a = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    _, b = np.unique(np.asarray(clusters, dtype=str), return_inverse=True)
    ka, kb, n = int(a.max()) + 1, int(b.max()) + 1, len(a)
    rng = np.random.default_rng(seed)
    perms = np.array([rng.permutation(b) for _ in range(permutations)]).reshape(permutations, n)
    cells = (np.arange(permutations)[:, None] * ka * kb + a * kb + perms).ravel()
    table = np.bincount(cells, minlength=permutations * ka * kb).reshape(-1, ka, kb).astype(float)
    rows, cols = (
        np.bincount(a, minlength=ka).astype(float),
        np.bincount(b, minlength=kb).astype(float),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (
            table / n * (np.log(table) + np.log(n) - np.log(rows)[:, None] - np.log(cols)[None, :])
        )
    mi = np.clip(np.nansum(np.where(table > 0, terms, 0.0), axis=(1, 2)), 0.0, None)
    if ka == kb == 1 or ka == kb == n:
        return observed, np.ones(permutations)
    emi = _expected_mutual_information(rows, cols)
    denominator = (_entropy(rows) + _entropy(cols)) / 2 - emi
    eps = np.finfo(float).eps
    denominator = min(denominator, -eps) if denominator < 0 else max(denominator, eps)
    return observed, np.asarray((mi - emi) / denominator)


@dataclass(frozen=True)
class Clustering:
    """Hierarchical clustering of one dimension's themed observations, and its adjusted mutual
    information with their themes against a permutation null."""

    dimension: str
    observations: list[str]
    labels: list[str]  # the reference theme (first theme) of each observation
    linkage: np.ndarray
    clusters: list[int]
    ami: float
    null: np.ndarray

    @property
    def p_value(self) -> float:
        """Share of permutations (and the clustering itself) scoring at least its AMI."""
        return float((1 + (self.null >= self.ami - 1e-12).sum()) / (1 + len(self.null)))


def cluster_observations(study: Study, settings: Settings = DECLARED) -> list[Clustering]:
    """Cluster the themed first-order observations of each dimension by textual affinity (the
    declared features of the observation text, cosine distance, ``settings.linkage``), cut
    into as many clusters as the dimension has themes, and score the partition against the
    themes with adjusted mutual information, beside its permutation null (an observation with
    several themes counts under its first). Dimensions with fewer than two themes or
    observations are left out."""
    out = []
    ngrams = Ngrams([co.observation.text for co in study.observations], settings)
    for dim in study.framework.dimensions:
        coded = [
            co
            for co in study.observations
            if co.observation.dimension == dim.id and co.observation.themes
        ]
        k = len({t.id for t in study.themes if t.dimension == dim.id})
        if len(coded) < 2 or k < 2:
            continue
        counts = ngrams.counts([co.observation.text for co in coded])
        x = normalize(TrainingTfidf(ngrams.split).fit_transform(counts)).toarray()
        tree = linkage(x, method=settings.linkage, metric="cosine")
        clusters = [int(c) for c in fcluster(tree, t=k, criterion="maxclust")]
        labels = [co.observation.themes[0] for co in coded]
        ami, null = ami_null(labels, clusters, settings.permutations, settings.seed)
        out.append(
            Clustering(
                dimension=dim.id,
                observations=[co.observation.id for co in coded],
                labels=labels,
                linkage=tree,
                clusters=clusters,
                ami=ami,
                null=null,
            )
        )
    return out


def clustering_table(clusterings: Sequence[Clustering], study: Study) -> pd.DataFrame:
    """Per dimension: observations, themes, adjusted mutual information, the 95th percentile of
    its permutation null, and the permutation p-value. No pooled figure: pooling over
    dimensions rewards the split by dimension, which the clustering is given."""
    labels = study.dimension_labels
    return pd.DataFrame(
        [
            {
                "dimension": labels[c.dimension],
                "observations": len(c.observations),
                "themes": len(set(c.labels)),
                "adjusted_mutual_information": round(c.ami, 3),
                "null_95th_percentile": round(float(np.quantile(c.null, 0.95)), 3),
                "p_value": round(c.p_value, 3),
            }
            for c in clusterings
        ]
    )


def pooled_rand_index(clusterings: Sequence[Clustering]) -> pd.DataFrame:
    """Why no pooled figure: the adjusted Rand index pooled over dimensions, of the clusters and
    of putting each dimension's observations in one cluster (which reads no text at all)."""
    ref = [f"{c.dimension}:{t}" for c in clusterings for t in c.labels]
    got = [f"{c.dimension}:{k}" for c in clusterings for k in c.clusters]
    one = [c.dimension for c in clusterings for _ in c.labels]
    return pd.DataFrame(
        [
            {
                "partition": "clusters, per dimension",
                "pooled_adjusted_rand_index": round(float(adjusted_rand_score(ref, got)), 3),
            },
            {
                "partition": "one cluster per dimension",
                "pooled_adjusted_rand_index": round(float(adjusted_rand_score(ref, one)), 3),
            },
        ]
    )


ELLIPSIS = "\u2026"


def dendrogram_panels(
    clusterings: Sequence[Clustering], study: Study
) -> list[tuple[str, object, list[str]]]:
    """Panels for :func:`crosscase.figures.dendrogram_figure`: leaves named by observation id
    and the reference theme."""
    dims = study.dimension_labels
    themes = {t.id: t.label for t in study.themes}
    return [
        (
            f"{dims[c.dimension]} (AMI {c.ami:.2f}, permutation p {c.p_value:.2f})",
            c.linkage,
            [
                f"{o}: {textwrap.shorten(themes[t], 40, placeholder=ELLIPSIS)}"
                for o, t in zip(c.observations, c.labels, strict=True)
            ],
        )
        for c in clusterings
    ]
