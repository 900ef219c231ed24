"""Dimension coding: suggest the framework dimension of each sentence, with a calibrated score,
a conformal prediction set and its evidence (:class:`DimensionCoder`,
:func:`suggest_dimensions`), trained on a study's coded passages and on domain documents; and
the leave-one-case-out coding of every narrative sentence that the measures read
(:func:`dimension_coding_loco`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import normalize

from ..model import Framework, Study
from .features import Ngrams, TrainingTfidf, normalise_text
from .measures import reference_ranks
from .segmentation import narrative_segments, segment
from .settings import DECLARED, Settings

_DOCUMENT_COLUMNS = ["dimension", "source", "text"]


def domain_documents(study: Study) -> pd.DataFrame:
    """Training documents per dimension that code no case: from the framework, each dimension's
    label, aliases and keywords (one document), the sentences of its definition and of its
    interview question; from the comparison with alternatives, each literature
    characteristic. Columns: dimension, source, text."""
    rows: list[dict[str, str]] = []
    for d in study.framework.dimensions:
        terms = " ".join([d.label, *d.aliases, *d.keywords])
        rows.append({"dimension": d.id, "source": "label, aliases and keywords", "text": terms})
        for source, text in (("definition", d.definition), ("question", d.question)):
            rows += [
                {"dimension": d.id, "source": source, "text": t} for _, _, t in segment(text or "")
            ]
    if study.comparison is not None:
        rows += [
            {"dimension": c.dimension, "source": "literature characteristic", "text": c.text}
            for c in study.comparison.characteristics
        ]
    return pd.DataFrame(rows, columns=_DOCUMENT_COLUMNS)


def document_counts(documents: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """How many domain documents each dimension (by its label) has from each source."""
    counts = documents.groupby(["dimension", "source"], sort=False).size().unstack(fill_value=0)
    return counts.rename(index=labels).reset_index()


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


def candidate_sets(
    proba: np.ndarray, members: np.ndarray, codes: Sequence[str]
) -> tuple[list[list[str]], list[str]]:
    """Each unit's prediction set (``members``: units x codes), most probable first, and its
    ``unsure`` flag: "yes" unless the set holds the suggestion (the most probable) alone."""
    candidates = [
        [codes[j] for j in np.argsort(-proba[i], kind="stable") if members[i, j]]
        for i in range(len(proba))
    ]
    best = proba.argmax(axis=1) if len(proba) else []
    unsure = ["" if c == [codes[int(b)]] else "yes" for c, b in zip(candidates, best, strict=True)]
    return candidates, unsure


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
        candidates, unsure = candidate_sets(proba, sets[coverage], self.codes)
        rows = []
        for i, text in enumerate(texts):
            best = int(np.argmax(proba[i]))
            dim = self.codes[best]
            norm = normalise_text(text)
            same = np.flatnonzero(dims == dim)
            j = int(same[int(np.argmax(sims[i, same]))]) if len(same) else -1
            rows.append(
                {
                    "text": text,
                    "dimension": dim,
                    "score": round(float(proba[i, best]), 3),
                    "unsure": unsure[i],
                    "candidates": "; ".join(candidates[i]),
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
    segments = narrative_segments(study)
    passages = training_passages(study, segments)
    docs = documents if documents is not None else pd.DataFrame(columns=_DOCUMENT_COLUMNS)
    ngrams = Ngrams([*passages["text"], *docs["text"]], settings)
    cache: dict[tuple[tuple[str, ...], tuple[str, ...]], Pipeline] = {}
    coverages = sorted({*settings.set_coverages, settings.unsure_coverage})
    parts = []
    for case in study.cases:
        test = segments[segments["case"] == case.id]
        if test.empty or (only is not None and case.id not in only):
            continue
        train = passages[passages["case"] != case.id]
        coder = DimensionCoder(study.framework, train, docs, settings, ngrams, cache)
        parts.append(_held_out(coder, test, train, settings, coverages))
    units = pd.concat([part.units for part in parts], ignore_index=True)
    columns = ["case_number", "segment", "reference", "suggested", "score", "rank"]
    units = units[[*columns, "candidates", "unsure", "in_context", "text"]]
    return DimensionCoding(
        codes=codes,
        units=units,
        probabilities=np.vstack([part.probabilities for part in parts]),
        context=np.vstack([part.context for part in parts]),
        sets={c: np.vstack([part.sets[c] for part in parts]) for c in coverages},
        majority=np.vstack([part.majority for part in parts]),
    )


def _held_out(
    coder: DimensionCoder,
    test: pd.DataFrame,
    train: pd.DataFrame,
    settings: Settings,
    coverages: Sequence[float],
) -> DimensionCoding:
    """The coding of one case's sentences (``test``) by a coder trained without the case."""
    codes = coder.codes
    p, sets = coder.predict(test["text"].tolist(), coverages)
    context = neighbour_context(p, settings.context_weights)
    counts = train[train["unit"] == "sentence"]["dimension"].value_counts()
    order = np.argsort([-counts.get(c, 0) for c in codes], kind="stable")
    frame = test[["case_number", "segment", "dimension", "text"]].reset_index(drop=True)
    frame = frame.rename(columns={"dimension": "reference"})
    reference = frame["reference"].map({c: i for i, c in enumerate(codes)}).to_numpy()
    best = p.argmax(axis=1)
    frame["suggested"] = [codes[i] for i in best]
    frame["score"] = p.max(axis=1).round(3)
    frame["rank"] = reference_ranks(p, reference)
    candidates, unsure = candidate_sets(p, sets[settings.unsure_coverage], codes)
    frame["candidates"] = ["; ".join(c) for c in candidates]
    frame["unsure"] = unsure
    frame["in_context"] = [codes[i] for i in context.argmax(axis=1)]
    majority = np.tile(order, (len(p), 1))
    return DimensionCoding(codes, frame, p, context, sets, majority)
