"""Dimension coding measured against the reference coding (leaving each case out,
:class:`~crosscase.assisted.dimensions.DimensionCoding`): agreement with bootstrap intervals
beside the most-frequent-dimension and chance baselines, per case left out; how far the
calibrated score can be trusted (calibration error, reliability, abstention); the conformal
prediction sets; and a human ceiling."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import Study
from .dimensions import DimensionCoding
from .measures import (
    STATISTIC_NAMES,
    accuracy_at_coverage,
    agreement_statistics,
    bootstrap_agreement,
    calibration_error,
    confusion_matrices,
    confusion_statistics,
    interval_row,
    point_and_resamples,
    reference_ranks,
    weighted_mean,
)
from .settings import DECLARED, Settings

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
    stats = confusion_statistics(confusion_matrices(ref, best, k, weights))
    stats[f"top-{top}"] = weighted_mean((ranks <= top).astype(float), weights)
    names = {**STATISTIC_NAMES, f"top-{top}": f"top-{top} accuracy"}
    return [interval_row(names[s], v, coder=coder, units=len(ref)) for s, v in stats.items()]


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
    weights = point_and_resamples(n, settings.resamples, settings.seed)
    rows: list[dict[str, object]] = []
    for coder, probabilities in ((SENTENCE, coding.probabilities), (IN_CONTEXT, coding.context)):
        best, ranks = probabilities.argmax(1), reference_ranks(probabilities, ref)
        rows += _coder_rows(coder, ref, best, ranks, k, weights, top)
    majority_rank = np.argmax(coding.majority == ref[:, None], axis=1) + 1
    rows += _coder_rows(MAJORITY, ref, coding.majority[:, 0], majority_rank, k, weights, top)
    rows += _chance_rows(ref, k, settings, top)
    return pd.DataFrame(rows, columns=["coder", "statistic", "units", "value", "ci_low", "ci_high"])


def _chance_rows(ref: np.ndarray, k: int, settings: Settings, top: int) -> list[dict[str, object]]:
    """The chance baseline: ``resamples`` uniformly random rankings of the ``k`` codes, their
    mean and 95% range."""
    n = len(ref)
    rng = np.random.default_rng(settings.seed)
    rankings = rng.permuted(np.tile(np.arange(k), (settings.resamples, n, 1)), axis=2)
    guess = rankings[:, :, 0]
    pairs = (np.arange(settings.resamples)[:, None] * k * k + ref * k + guess).ravel()
    confusion = np.bincount(pairs, minlength=settings.resamples * k * k).reshape(-1, k, k)
    chance = confusion_statistics(confusion.astype(float))
    chance["top"] = (rankings[:, :, :top] == ref[None, :, None]).any(axis=2).mean(axis=1)
    names = {**STATISTIC_NAMES, "top": f"top-{top} accuracy"}
    return [
        interval_row(names[s], np.concatenate([[v.mean()], v]), coder=CHANCE, units=n)
        for s, v in chance.items()
    ]


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
    w = point_and_resamples(len(correct), settings.resamples, settings.seed)
    hits = correct.astype(float)
    cover = f"{settings.unsure_coverage:.0%}"
    rows = [
        interval_row("mean calibrated score", weighted_mean(confidence, w)),
        interval_row("accuracy", weighted_mean(hits, w)),
        interval_row(
            f"expected calibration error ({settings.calibration_bins} bins)",
            calibration_error(confidence, correct, settings.calibration_bins, w),
        ),
        interval_row(
            f"share flagged sure (the {cover} set holds the suggestion alone)",
            weighted_mean(sure.astype(float), w),
        ),
        interval_row("accuracy when sure", weighted_mean(hits, w * sure)),
        interval_row("accuracy when unsure", weighted_mean(hits, w * ~sure)),
    ]
    return pd.DataFrame(rows, columns=["statistic", "value", "ci_low", "ci_high"])


def accuracy_coverage_table(coding: DimensionCoding, settings: Settings = DECLARED) -> pd.DataFrame:
    """Abstention: the accuracy of the most confident suggestions at each declared coverage
    (the others left to the researcher), with bootstrap 95% intervals."""
    confidence = coding.probabilities.max(axis=1)
    correct = (coding.units["suggested"] == coding.units["reference"]).to_numpy()
    w = point_and_resamples(len(correct), settings.resamples, settings.seed)
    coverages = settings.abstention_coverages
    rows = [
        {"coverage": q, "units": int(np.ceil(q * len(correct) - 1e-9)), **interval_row("", acc)}
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
    w = point_and_resamples(len(ref), settings.resamples, settings.seed)
    rows = []
    for coverage in settings.set_coverages:
        sets = coding.sets[coverage]
        size = sets.sum(axis=1).astype(float)
        covered = sets[np.arange(len(ref)), ref].astype(float)
        label = f"{coverage:.0%}"
        rows += [
            interval_row(
                "holds the reference dimension", weighted_mean(covered, w), stated_coverage=label
            ),
            interval_row(
                "dimensions in the set (mean)", weighted_mean(size, w), stated_coverage=label
            ),
            interval_row(
                "sets of one dimension",
                weighted_mean((size == 1).astype(float), w),
                stated_coverage=label,
            ),
            interval_row(
                "empty sets", weighted_mean((size == 0).astype(float), w), stated_coverage=label
            ),
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
