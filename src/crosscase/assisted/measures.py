"""Measures of two codings of the same units, with bootstrap intervals: percent agreement, Cohen's
kappa, Krippendorff's alpha (nominal) and macro F1 (:func:`agreement`; vectorised over bootstrap
resamples as statistics of weighted counts, :func:`agreement_statistics`,
:func:`bootstrap_agreement`), expected calibration error, accuracy at coverage and AUROC."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score, confusion_matrix, precision_recall_fscore_support

from .settings import DECLARED


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


def point_and_resamples(n: int, resamples: int, seed: int) -> np.ndarray:
    """Unit weights: first the units as they are, then the bootstrap resamples."""
    return np.vstack([np.ones(n), resample_weights(n, resamples, seed)])


def confusion_matrices(
    reference: np.ndarray, coded: np.ndarray, k: int, weights: np.ndarray
) -> np.ndarray:
    """Weighted confusion matrices (one per row of ``weights``): resamples x k x k."""
    pairs = np.zeros((len(reference), k * k))
    pairs[np.arange(len(reference)), reference * k + coded] = 1.0
    return np.asarray((weights @ pairs).reshape(-1, k, k))


def confusion_statistics(confusion: np.ndarray) -> dict[str, np.ndarray]:
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
    return confusion_statistics(confusion_matrices(ref, got, len(codes), np.atleast_2d(weights)))


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((weights @ values) / weights.sum(axis=1))


STATISTIC_NAMES = {
    "accuracy": "percent agreement",
    "kappa": "Cohen's kappa",
    "alpha": "Krippendorff's alpha (nominal)",
    "macro_f1": "macro F1",
}


def interval_row(statistic: str, values: np.ndarray, **extra: object) -> dict[str, object]:
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
    weights = point_and_resamples(len(reference), resamples, seed)
    stats = agreement_statistics(reference, coded, codes, weights)
    rows = [interval_row(STATISTIC_NAMES[k], v) for k, v in stats.items()]
    if ranks is not None:
        hits = (np.asarray(ranks) <= top).astype(float)
        rows.append(interval_row(f"top-{top} accuracy", weighted_mean(hits, weights)))
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


def reference_ranks(probabilities: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """1-based rank of each reference code (ties: the earlier code first, as argmax)."""
    order = np.argsort(-probabilities, axis=1, kind="stable")
    return np.asarray(np.argmax(order == reference[:, None], axis=1) + 1)
