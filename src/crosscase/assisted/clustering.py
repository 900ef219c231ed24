"""Clustering of each dimension's themed first-order observations by textual affinity into
candidate second-order themes, scored against the reference themes with adjusted mutual
information beside a permutation null; its table, and panels for its dendrograms."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.special import gammaln
from scipy.stats import entropy
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score
from sklearn.preprocessing import normalize

from ..model import Study
from .features import Ngrams, TrainingTfidf
from .settings import DECLARED, Settings


def _expected_mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """Expected mutual information of two labellings with row sums ``a`` and column sums ``b``
    under random permutation (Vinh, Epps and Bailey 2010), in nats: each cell's count
    ``nij`` is hypergeometric."""
    n = int(a.sum())
    total = 0.0
    for ai in a:
        for bj in b:
            margins = gammaln(ai + 1) + gammaln(bj + 1) + gammaln(n - ai + 1) + gammaln(n - bj + 1)
            for nij in range(max(1, int(ai + bj - n)), int(min(ai, bj)) + 1):
                log_p = margins - gammaln(n + 1) - gammaln(nij + 1) - gammaln(ai - nij + 1)
                log_p = log_p - gammaln(bj - nij + 1) - gammaln(n - ai - bj + nij + 1)
                total += nij / n * np.log(n * nij / (ai * bj)) * np.exp(log_p)
    return total


def ami_null(
    labels: Sequence[object], clusters: Sequence[object], permutations: int, seed: int
) -> tuple[float, np.ndarray]:
    """Adjusted mutual information (scikit-learn's, arithmetic normalisation) of ``clusters``
    with ``labels``, and its value under each of ``permutations`` seeded permutations of the
    clusters (``numpy.random.default_rng(seed).permutation``, in turn). Permutations keep the
    marginals, hence the entropies and the expected mutual information; only the mutual
    information is recomputed, for all permutations at once."""
    observed = float(adjusted_mutual_info_score(labels, clusters))
    _, a = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    _, b = np.unique(np.asarray(clusters, dtype=str), return_inverse=True)
    ka, kb, n = int(a.max()) + 1, int(b.max()) + 1, len(a)
    if ka == kb == 1 or ka == kb == n:
        return observed, np.ones(permutations)
    rng = np.random.default_rng(seed)
    perms = np.array([rng.permutation(b) for _ in range(permutations)]).reshape(permutations, n)
    cells = (np.arange(permutations)[:, None] * ka * kb + a * kb + perms).ravel()
    table = np.bincount(cells, minlength=permutations * ka * kb).reshape(-1, ka, kb).astype(float)
    rows, cols = np.bincount(a).astype(float)[:, None], np.bincount(b).astype(float)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = table / n * (np.log(table) + np.log(n) - np.log(rows) - np.log(cols))
    mi = np.clip(np.nansum(np.where(table > 0, terms, 0.0), axis=(1, 2)), 0.0, None)
    emi = _expected_mutual_information(rows.ravel(), cols.ravel())
    denominator = (entropy(rows.ravel()) + entropy(cols.ravel())) / 2 - emi
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
        mine = (co.observation for co in study.observations)
        coded = [o for o in mine if o.dimension == dim.id and o.themes]
        k = len({t.id for t in study.themes if t.dimension == dim.id})
        if len(coded) < 2 or k < 2:
            continue
        counts = ngrams.counts([o.text for o in coded])
        x = normalize(TrainingTfidf(ngrams.split).fit_transform(counts)).toarray()
        tree = linkage(x, method=settings.linkage, metric="cosine")
        clusters = [int(c) for c in fcluster(tree, t=k, criterion="maxclust")]
        labels = [o.themes[0] for o in coded]
        null = ami_null(labels, clusters, settings.permutations, settings.seed)
        out.append(Clustering(dim.id, [o.id for o in coded], labels, tree, clusters, *null))
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
    partitions = {
        "clusters, per dimension": [f"{c.dimension}:{k}" for c in clusterings for k in c.clusters],
        "one cluster per dimension": [c.dimension for c in clusterings for _ in c.labels],
    }
    return pd.DataFrame(
        {
            "partition": list(partitions),
            "pooled_adjusted_rand_index": [
                round(float(adjusted_rand_score(ref, p)), 3) for p in partitions.values()
            ],
        }
    )


def dendrogram_panels(
    clusterings: Sequence[Clustering], study: Study
) -> list[tuple[str, object, list[str]]]:
    """Panels for :func:`crosscase.assisted.figures.dendrogram_figure`: leaves named by
    observation id and reference theme."""
    dims = study.dimension_labels
    themes = {t.id: t.label for t in study.themes}
    return [
        (
            f"{dims[c.dimension]} (AMI {c.ami:.2f}, permutation p {c.p_value:.2f})",
            c.linkage,
            [
                f"{o}: {textwrap.shorten(themes[t], 40, placeholder='…')}"
                for o, t in zip(c.observations, c.labels, strict=True)
            ],
        )
        for c in clusterings
    ]
