"""Dimension coding: the framework dimension of each sentence suggested with a calibrated score, a
conformal prediction set and its evidence (:class:`DimensionCoder`, :func:`suggest_dimensions`),
trained on a study's coded passages and on domain documents; and the leave-one-case-out coding
of every narrative sentence that the measures read (:func:`dimension_coding_loco`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.ndimage import correlate1d
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import normalize

from ..model import Framework, Study
from .features import Ngrams, TrainingTfidf, normalise_text
from .segmentation import narrative_segments, segment
from .settings import DECLARED, Settings


def domain_documents(study: Study) -> pd.DataFrame:
    """Training documents per dimension that code no case: from the framework, each dimension's
    label, aliases and keywords (one document), the sentences of its definition and of its
    interview question; from the comparison with alternatives, each literature
    characteristic. Columns: dimension, source, text."""
    rows = []
    for d in study.framework.dimensions:
        rows.append(
            (d.id, "label, aliases and keywords", " ".join([d.label, *d.aliases, *d.keywords]))
        )
        for source, text in (("definition", d.definition), ("question", d.question)):
            rows += [(d.id, source, t) for _, _, t in segment(text or "")]
    if study.comparison is not None:
        characteristics = study.comparison.characteristics
        rows += [(c.dimension, "literature characteristic", c.text) for c in characteristics]
    return pd.DataFrame(rows, columns=["dimension", "source", "text"])


def document_counts(documents: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """How many domain documents each dimension (by its label) has from each source."""
    counts = documents.groupby(["dimension", "source"], sort=False).size().unstack(fill_value=0)
    return counts.rename(index=labels).reset_index()


def training_passages(study: Study, segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Coded passages of a study, each with its case, dimension, text and unit: the narrative
    sentences (``segments``, if the caller has them) and the first-order observations."""
    sentences = narrative_segments(study) if segments is None else segments
    sentences = sentences[["case", "dimension", "text"]].assign(unit="sentence")
    observations = [
        (co.case, co.observation.dimension, co.observation.text, "observation")
        for co in study.observations
    ]
    observed = pd.DataFrame(observations, columns=sentences.columns)
    return pd.concat([sentences, observed], ignore_index=True)


def reference_ranks(probabilities: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """1-based rank of each reference code (ties: the earlier code first, as argmax)."""
    order = np.argsort(-probabilities, axis=1, kind="stable")
    return np.asarray(np.argmax(order == reference[:, None], axis=1) + 1)


def candidate_sets(
    proba: np.ndarray, members: np.ndarray, codes: Sequence[str]
) -> tuple[list[list[str]], list[str]]:
    """Each unit's prediction set (``members``: units x codes), most probable first, and its
    ``unsure`` flag: "yes" unless the set holds the suggestion (the most probable) alone."""
    order = np.argsort(-proba, axis=1, kind="stable")  # order[:, 0] is the suggestion
    candidates = [[codes[j] for j in row if members[i, j]] for i, row in enumerate(order)]
    unsure = ["" if c == [codes[o[0]]] else "yes" for c, o in zip(candidates, order, strict=True)]
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


class DimensionCoder:
    """Suggest the framework dimension of text segments, with a calibrated score.

    Trained on coded passages (:func:`training_passages`) and ``documents`` (e.g.
    :func:`domain_documents`) as :class:`Settings` declares. For each case with narrative
    sentences (at least two), a classifier trained without the case is calibrated on its
    sentences (temperature scaling of the frozen classifier); the score is the mean of these
    calibrated classifiers' probabilities, which is what ``CalibratedClassifierCV(...,
    cv=<those splits>, ensemble=True)`` computes, and what they gave the held-out sentences'
    codes calibrates the conformal sets. ``ngrams`` (counts of a corpus that holds the passages
    and documents) and ``cache`` (fitted classifiers by training data) let repeated coders share
    work; they change no result.
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
        self.codes = [d.id for d in framework.dimensions]
        data = pd.concat([passages, documents], ignore_index=True)  # documents: no case, no unit
        texts = data["text"].astype(str).to_numpy(dtype=object)
        labels = data["dimension"].astype(str).to_numpy(dtype=str)
        case = data["case"].fillna("").astype(str).to_numpy(dtype=object)
        sentence = (data["unit"] == "sentence").to_numpy()
        held_out = list(dict.fromkeys(case[sentence]))
        if len(held_out) < 2:
            raise ValueError("calibration needs the narratives of at least two coded cases")
        self._ngrams = ngrams if ngrams is not None else Ngrams(texts.tolist(), settings)
        cache = {} if cache is None else cache
        x = self._ngrams.counts(texts.tolist())
        index = {c: i for i, c in enumerate(self.codes)}
        self._folds: list[CalibratedClassifierCV] = []
        self._calibration: list[np.ndarray] = []
        for c in held_out:
            train = np.flatnonzero(case != c)
            test = np.flatnonzero((case == c) & sentence)
            key = (tuple(texts[train]), tuple(labels[train]))
            if key not in cache:
                cache[key] = make_pipeline(
                    TrainingTfidf(self._ngrams.split),
                    LogisticRegression(
                        C=settings.c,
                        class_weight=settings.class_weight,
                        solver=settings.solver,
                        max_iter=5000,
                    ),
                ).fit(x[train], labels[train])
            everything = np.arange(len(test))  # one split: the frozen model is never refitted
            fold = CalibratedClassifierCV(
                FrozenEstimator(cache[key]),
                method=settings.calibration,
                cv=[(everything, everything)],
            ).fit(x[test], labels[test])
            self._folds.append(fold)
            p = self._probabilities(fold, x[test])
            self._calibration.append(p[everything, [index[y] for y in labels[test]]])

    def _probabilities(self, model: CalibratedClassifierCV, x: object) -> np.ndarray:
        """Columns in framework order (a code the training data lack has probability 0)."""
        p = pd.DataFrame(model.predict_proba(x), columns=[str(c) for c in model.classes_])
        return p.reindex(columns=self.codes, fill_value=0.0).to_numpy()

    def predict(
        self, texts: Sequence[str], coverages: Sequence[float] = ()
    ) -> tuple[np.ndarray, dict[float, np.ndarray]]:
        """Calibrated probabilities (units x codes; the mean over the calibrated fold
        classifiers) and the prediction set at each coverage (:func:`conformal_sets`)."""
        x = self._ngrams.counts(list(texts))
        folds = [self._probabilities(fold, x) for fold in self._folds]
        sets = {c: conformal_sets(self._calibration, folds, c) for c in coverages}
        return np.mean(folds, axis=0), sets

    def suggest(self, texts: Sequence[str]) -> pd.DataFrame:
        """For each text: suggested dimension, calibrated score, ``unsure`` ("yes" unless the
        prediction set at the declared coverage holds the suggestion alone), ``candidates``
        (that set, most probable first), the dimension's keywords it holds, and the most similar
        coded passage of the dimension."""
        if not len(texts):
            columns = ["text", "dimension", "score", "unsure", "candidates", "keywords"]
            return pd.DataFrame(columns=[*columns, "neighbour_case", "neighbour"])
        coverage = self.settings.unsure_coverage
        proba, sets = self.predict(texts, [coverage])
        candidates, unsure = candidate_sets(proba, sets[coverage], self.codes)
        suggested = [self.codes[i] for i in proba.argmax(axis=1)]
        keywords = {d.id: d.keywords for d in self.framework.dimensions}
        counts = self._ngrams.counts(self.passages["text"].astype(str).tolist())
        tfidf = TrainingTfidf(self._ngrams.split).fit(counts)
        x = normalize(tfidf.transform(self._ngrams.counts(list(texts))))
        sims = (x @ normalize(tfidf.transform(counts)).T).toarray()
        same = self.passages["dimension"].to_numpy()[None, :] == np.array(suggested)[:, None]
        nearest = np.where(same, sims, -np.inf).argmax(axis=1)
        found = same.any(axis=1)

        def neighbour(column: str) -> list[str]:
            values = self.passages[column]
            return [str(values.iloc[j]) if ok else "" for j, ok in zip(nearest, found, strict=True)]

        return pd.DataFrame(
            {
                "text": list(texts),
                "dimension": suggested,
                "score": [round(float(s), 3) for s in proba.max(axis=1)],
                "unsure": unsure,
                "candidates": ["; ".join(c) for c in candidates],
                "keywords": [
                    "; ".join(k for k in keywords[d] if normalise_text(k) in normalise_text(t))
                    for t, d in zip(texts, suggested, strict=True)
                ],
                "neighbour_case": neighbour("case"),
                "neighbour": neighbour("text"),
            }
        )


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
    total = correlate1d(np.ones(len(probabilities)), weights, mode="constant")
    return np.asarray(correlate1d(probabilities, weights, axis=0, mode="constant") / total[:, None])


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

    @property
    def reference(self) -> np.ndarray:
        """Each unit's reference code, as its index in ``codes``."""
        return self.units["reference"].map({c: i for i, c in enumerate(self.codes)}).to_numpy()

    @property
    def confidence(self) -> np.ndarray:
        """Each unit's calibrated score (the probability of the suggestion)."""
        return np.asarray(self.probabilities.max(axis=1))

    @property
    def correct(self) -> np.ndarray:
        return (self.units["suggested"] == self.units["reference"]).to_numpy()


def dimension_coding_loco(
    study: Study,
    documents: pd.DataFrame | None = None,
    settings: Settings = DECLARED,
    only: Sequence[str] | None = None,
) -> DimensionCoding:
    """Leave-one-case-out dimension coding of every narrative sentence (of the cases in
    ``only``, if given): for each case, train on the other cases' coding and the ``documents``,
    code the case's sentences."""
    segments = narrative_segments(study)
    passages = training_passages(study, segments)
    texts = [*passages["text"], *([] if documents is None else documents["text"])]
    ngrams = Ngrams(texts, settings)
    cache: dict[tuple[tuple[str, ...], tuple[str, ...]], Pipeline] = {}
    coverages = sorted({*settings.set_coverages, settings.unsure_coverage})
    parts = []
    for case in study.cases:
        test = segments[segments["case"] == case.id]
        if test.empty or (only is not None and case.id not in only):
            continue
        train = passages[passages["case"] != case.id]
        coder = DimensionCoder(study.framework, train, documents, settings, ngrams, cache)
        parts.append(_held_out(coder, test, train, coverages))
    return DimensionCoding(
        codes=[d.id for d in study.framework.dimensions],
        units=pd.concat([part.units for part in parts], ignore_index=True),
        probabilities=np.vstack([part.probabilities for part in parts]),
        context=np.vstack([part.context for part in parts]),
        sets={c: np.vstack([part.sets[c] for part in parts]) for c in coverages},
        majority=np.vstack([part.majority for part in parts]),
    )


def _held_out(
    coder: DimensionCoder, test: pd.DataFrame, train: pd.DataFrame, coverages: Sequence[float]
) -> DimensionCoding:
    """The coding of one case's sentences (``test``) by a coder trained without the case."""
    codes, settings = coder.codes, coder.settings
    p, sets = coder.predict(test["text"].tolist(), coverages)
    context = neighbour_context(p, settings.context_weights)
    reference = test["dimension"].map({c: i for i, c in enumerate(codes)}).to_numpy()
    candidates, unsure = candidate_sets(p, sets[settings.unsure_coverage], codes)
    units = pd.DataFrame(
        {
            "case_number": test["case_number"].to_numpy(),
            "segment": test["segment"].to_numpy(),
            "reference": test["dimension"].to_numpy(),
            "suggested": [codes[i] for i in p.argmax(axis=1)],
            "score": p.max(axis=1).round(3),
            "rank": reference_ranks(p, reference),
            "candidates": ["; ".join(c) for c in candidates],
            "unsure": unsure,
            "in_context": [codes[i] for i in context.argmax(axis=1)],
            "text": test["text"].to_numpy(),
        }
    )
    counts = train[train["unit"] == "sentence"]["dimension"].value_counts()
    order = np.argsort([-counts.get(c, 0) for c in codes], kind="stable")
    return DimensionCoding(codes, units, p, context, sets, np.tile(order, (len(p), 1)))
