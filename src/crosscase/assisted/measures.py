"""Measures of assisted coding, with percentile bootstrap 95% intervals over the units.

Agreement of two codings (:func:`agreement`, by scikit-learn and ``krippendorff``): percent
agreement, Cohen's kappa, Krippendorff's alpha at the nominal level (codes are categories, not
quantities) and macro F1. Under the bootstrap the same statistics, and calibration error,
accuracy at coverage and AUROC, are computed by hand from unit weights, all resamples at once
(:func:`bootstrap_weights`; tested against the libraries resample by resample).

Dimension coding left out case by case (:class:`~crosscase.assisted.dimensions.DimensionCoding`)
is measured beside two baselines, the most frequent dimension of the training cases and chance;
per case left out; for how far its calibrated score can be trusted (calibration error,
reliability, abstention); for its conformal prediction sets; and against a human ceiling (the
dimension of each observation against that of the narrative its evidence lies in).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score, confusion_matrix, precision_recall_fscore_support

from ..model import Study
from .dimensions import DimensionCoding, reference_ranks
from .settings import DECLARED, Settings

SENTENCE = "suggestion, sentence alone"
IN_CONTEXT = "suggestion with neighbouring sentences"
MAJORITY = "baseline: most frequent dimension"
CHANCE = "baseline: chance (random ranking)"


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
        values = {
            "units": float(self.n_units),
            "percent agreement": round(self.percent_agreement, 3),
            "Cohen's kappa": round(self.cohen_kappa, 3),
            "Krippendorff's alpha (nominal)": round(self.krippendorff_alpha, 3),
            "macro F1": round(float(self.per_code["f1"].mean()), 3),
        }
        return pd.DataFrame(values.items(), columns=["statistic", "value"])


def agreement(
    coder_a: Sequence[str], coder_b: Sequence[str], codes: Sequence[str] | None = None
) -> Agreement:
    """Agreement of two codings of the same units (``coder_a`` the reference for precision and
    recall)."""
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
    per_code = {"code": labels, "precision": p, "recall": r, "f1": f}
    cm = confusion_matrix(a, b, labels=labels)
    return Agreement(
        n_units=len(a),
        percent_agreement=float(np.mean([x == y for x, y in zip(a, b, strict=True)])),
        cohen_kappa=float(cohen_kappa_score(a, b, labels=labels)),
        krippendorff_alpha=alpha,
        per_code=pd.DataFrame(per_code).round(3).assign(support=s),
        confusion=pd.DataFrame(
            cm, index=pd.Index(labels, name="reference"), columns=pd.Index(labels, name="suggested")
        ),
    )


def bootstrap_weights(n: int, resamples: int, seed: int) -> np.ndarray:
    """Unit weights (rows x units): first the units as they are, then ``resamples`` bootstrap
    resamples as multiplicities (drawing ``n`` units with replacement draws these counts)."""
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples)
    return np.vstack([np.ones(n), counts]).astype(float)


def confusion_matrices(
    reference: np.ndarray, coded: np.ndarray, k: int, weights: np.ndarray
) -> np.ndarray:
    """Weighted confusion matrices of codes ``0..k-1`` (rows: reference), one per row of
    ``weights`` (and of ``coded``, when it holds one coding per row)."""
    rows = k * k * np.arange(len(weights))[:, None]
    cells = (np.broadcast_to(reference * k + coded, weights.shape) + rows).ravel()
    counts = np.bincount(cells, weights.ravel(), minlength=k * k * len(weights))
    return counts.reshape(-1, k, k)


def confusion_statistics(confusion: np.ndarray) -> dict[str, np.ndarray]:
    """Percent agreement, Cohen's kappa, Krippendorff's alpha (nominal, two coders, no missing
    values) and macro F1 over all codes (0 for a code neither coding uses, as scikit-learn's
    ``zero_division=0``) of confusion matrices (rows: reference)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        total = confusion.sum(axis=(1, 2))
        agree = np.trace(confusion, axis1=1, axis2=2)
        rows, cols = confusion.sum(axis=2), confusion.sum(axis=1)
        observed = agree / total
        expected = (rows * cols).sum(axis=1) / total**2
        values = rows + cols  # the coincidence matrix's marginals
        pairs = 2 * total
        alpha = 1 - (pairs - 1) * (pairs - 2 * agree) / (pairs**2 - (values**2).sum(axis=1))
        kappa = (observed - expected) / (1 - expected)
        f1 = np.where(values > 0, 2 * np.diagonal(confusion, axis1=1, axis2=2) / values, 0.0)
    return {
        "percent agreement": observed,
        "Cohen's kappa": kappa,
        "Krippendorff's alpha (nominal)": alpha,
        "macro F1": f1.mean(axis=1),
    }


def agreement_statistics(
    reference: Sequence[str], coded: Sequence[str], codes: Sequence[str], weights: np.ndarray
) -> dict[str, np.ndarray]:
    """:func:`confusion_statistics` of two codings for each row of unit ``weights``."""
    index = {c: i for i, c in enumerate(codes)}
    ref = np.array([index[str(x)] for x in reference])
    got = np.array([index[str(x)] for x in coded])
    return confusion_statistics(confusion_matrices(ref, got, len(codes), np.atleast_2d(weights)))


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((weights @ values) / weights.sum(axis=1))


def interval(values: np.ndarray) -> dict[str, float]:
    """A statistic's point value (``values[0]``) and 95% percentile interval (the rest)."""
    low, high = np.nanquantile(values[1:], [0.025, 0.975]) if len(values) > 1 else (np.nan,) * 2
    bounds = {"value": values[0], "ci_low": low, "ci_high": high}
    return {name: round(float(v), 3) for name, v in bounds.items()}


def intervals(statistics: Mapping[str, np.ndarray], **extra: object) -> list[dict[str, object]]:
    """One row per statistic: its name, the ``extra`` columns and its :func:`interval`."""
    return [{"statistic": s, **extra, **interval(v)} for s, v in statistics.items()]


def bootstrap_agreement(
    reference: Sequence[str],
    coded: Sequence[str],
    codes: Sequence[str],
    resamples: int = DECLARED.resamples,
    seed: int = DECLARED.seed,
) -> pd.DataFrame:
    """:func:`confusion_statistics` of two codings with their bootstrap intervals. Columns:
    statistic, value, ci_low, ci_high."""
    weights = bootstrap_weights(len(reference), resamples, seed)
    return pd.DataFrame(intervals(agreement_statistics(reference, coded, codes, weights)))


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


def dimension_coding_summary(
    coding: DimensionCoding, settings: Settings = DECLARED
) -> pd.DataFrame:
    """Agreement of the suggestions with the reference coding, and top-3 accuracy, beside the
    baselines: the most frequent dimension of the training cases, and chance (a uniformly
    random ranking of the codes: the mean and the 95% range of ``resamples`` random codings).
    Columns: coder, statistic, units, value, ci_low, ci_high."""
    ref, k, top = coding.reference, len(coding.codes), 3
    weights = bootstrap_weights(len(ref), settings.resamples, settings.seed)
    coders = {
        SENTENCE: (coding.probabilities.argmax(1), reference_ranks(coding.probabilities, ref)),
        IN_CONTEXT: (coding.context.argmax(1), reference_ranks(coding.context, ref)),
        MAJORITY: (coding.majority[:, 0], np.argmax(coding.majority == ref[:, None], axis=1) + 1),
    }
    rows = []
    for coder, (coded, ranks) in coders.items():
        stats = confusion_statistics(confusion_matrices(ref, coded, k, weights))
        stats[f"top-{top} accuracy"] = weighted_mean((ranks <= top).astype(float), weights)
        rows += intervals(stats, coder=coder, units=len(ref))
    rng = np.random.default_rng(settings.seed)
    rankings = rng.permuted(np.tile(np.arange(k), (settings.resamples, len(ref), 1)), axis=2)
    ones = np.ones(rankings.shape[:2])
    chance = confusion_statistics(confusion_matrices(ref, rankings[:, :, 0], k, ones))
    chance[f"top-{top} accuracy"] = (rankings[:, :, :top] == ref[:, None]).any(axis=2).mean(1)
    chance = {s: np.concatenate([[v.mean()], v]) for s, v in chance.items()}
    rows += intervals(chance, coder=CHANCE, units=len(ref))
    return pd.DataFrame(rows, columns=["coder", "statistic", "units", "value", "ci_low", "ci_high"])


def dimension_coding_by_case(coding: DimensionCoding) -> pd.DataFrame:
    """Per case left out: sentences, percent agreement, Cohen's kappa and top-3 accuracy (the
    spread behind the pooled figures)."""
    rows = []
    for number, part in coding.units.groupby("case_number", sort=True):
        reference, suggested = part["reference"].tolist(), part["suggested"].tolist()
        stats = agreement_statistics(reference, suggested, coding.codes, np.ones(len(part)))
        rows.append(
            {
                "case_number": number,
                "sentences": len(part),
                "percent_agreement": round(float(stats["percent agreement"][0]), 3),
                "cohen_kappa": round(float(stats["Cohen's kappa"][0]), 3),
                "top_3_accuracy": round(float((part["rank"] <= 3).mean()), 3),
            }
        )
    return pd.DataFrame(rows)


def confidence_summary(coding: DimensionCoding, settings: Settings = DECLARED) -> pd.DataFrame:
    """How far the calibrated score can be trusted: mean score and accuracy, expected
    calibration error, and the share and accuracy of the suggestions flagged sure and unsure."""
    confidence, hits = coding.confidence, coding.correct.astype(float)
    sure = (coding.units["unsure"] == "").to_numpy()
    w = bootstrap_weights(len(hits), settings.resamples, settings.seed)
    bins, cover = settings.calibration_bins, f"{settings.unsure_coverage:.0%}"
    statistics = {
        "mean calibrated score": weighted_mean(confidence, w),
        "accuracy": weighted_mean(hits, w),
        f"expected calibration error ({bins} bins)": calibration_error(confidence, hits, bins, w),
        f"share flagged sure (the {cover} set holds the suggestion alone)": weighted_mean(
            sure.astype(float), w
        ),
        "accuracy when sure": weighted_mean(hits, w * sure),
        "accuracy when unsure": weighted_mean(hits, w * ~sure),
    }
    return pd.DataFrame(intervals(statistics))


def accuracy_coverage_table(coding: DimensionCoding, settings: Settings = DECLARED) -> pd.DataFrame:
    """Abstention: the accuracy of the most confident suggestions at each declared coverage
    (the others left to the researcher)."""
    n, coverages = len(coding.units), settings.abstention_coverages
    w = bootstrap_weights(n, settings.resamples, settings.seed)
    accuracy = accuracy_at_coverage(coding.confidence, coding.correct, coverages, w)
    rows = [
        {"coverage": q, "units": int(np.ceil(q * n - 1e-9)), **interval(values)}
        for q, values in zip(coverages, accuracy, strict=True)
    ]
    return pd.DataFrame(rows).rename(columns={"value": "accuracy"})


def prediction_set_summary(coding: DimensionCoding, settings: Settings = DECLARED) -> pd.DataFrame:
    """Conformal prediction sets at each stated coverage: how often the set holds the reference
    dimension, how many dimensions it holds (mean), and how often one dimension or none."""
    ref = coding.reference
    w = bootstrap_weights(len(ref), settings.resamples, settings.seed)
    rows = []
    for coverage in settings.set_coverages:
        size = coding.sets[coverage].sum(axis=1)
        statistics = {
            "holds the reference dimension": coding.sets[coverage][np.arange(len(ref)), ref],
            "dimensions in the set (mean)": size,
            "sets of one dimension": size == 1,
            "empty sets": size == 0,
        }
        means = {s: weighted_mean(v.astype(float), w) for s, v in statistics.items()}
        rows += intervals(means, stated_coverage=f"{coverage:.0%}")
    columns = ["stated_coverage", "statistic", "value", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns)


def reliability_table(
    coding: DimensionCoding, bins: int = DECLARED.calibration_bins
) -> pd.DataFrame:
    """The reliability diagram's data: per equal-width bin of calibrated score, its units, mean
    score and accuracy."""
    confidence, correct = coding.confidence, coding.correct
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    rows = [
        {
            "bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}",
            "units": int((which == b).sum()),
            "mean_score": round(float(confidence[which == b].mean()), 3),
            "accuracy": round(float(correct[which == b].mean()), 3),
        }
        for b in np.unique(which)
    ]
    return pd.DataFrame(rows, columns=["bin", "units", "mean_score", "accuracy"])


def coverage_curve(coding: DimensionCoding) -> pd.DataFrame:
    """Accuracy of the k most confident suggestions, for every k (the accuracy-coverage curve)."""
    order = np.lexsort((np.arange(len(coding.units)), -coding.confidence))
    k = np.arange(1, len(order) + 1)
    return pd.DataFrame(
        {"coverage": k / len(order), "accuracy": np.cumsum(coding.correct[order]) / k}
    )


def evidence_agreement(study: Study, settings: Settings = DECLARED) -> pd.DataFrame:
    """A human ceiling for dimension coding: the dimension of each first-order observation
    against the dimension of the narrative its evidence passage lies in."""
    located = [co for co in study.observations if co.evidence_dimension]
    return bootstrap_agreement(
        [co.observation.dimension for co in located],
        [str(co.evidence_dimension) for co in located],
        [d.id for d in study.framework.dimensions],
        settings.resamples,
        settings.seed,
    )
