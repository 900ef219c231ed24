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

The modules: :mod:`~crosscase.assisted.settings` (the declared configuration),
:mod:`~crosscase.assisted.segmentation` (sentences), :mod:`~crosscase.assisted.features`
(TF-IDF), :mod:`~crosscase.assisted.dimensions` (dimension coding),
:mod:`~crosscase.assisted.measures` (agreement, calibration error, AUROC, with bootstrap
intervals), :mod:`~crosscase.assisted.dimension_measures` (dimension coding measured),
:mod:`~crosscase.assisted.themes` (theme suggestion, and its measure),
:mod:`~crosscase.assisted.clustering` (candidate themes by clustering),
:mod:`~crosscase.assisted.findings` (what the measures mean, in sentences),
:mod:`~crosscase.assisted.figures` (their figures) and :mod:`~crosscase.assisted.review` (the
review loop of the ``suggest``, ``accept``, ``suggest-themes`` and ``agreement`` commands). What
the notebook of assisted coding calls is imported here, once (``assisted.dimension_coding_loco(
...)``), but its figures; the rest is imported from its module.
"""

from .clustering import cluster_observations, clustering_table, dendrogram_panels, pooled_rand_index
from .dimension_measures import (
    IN_CONTEXT,
    MAJORITY,
    SENTENCE,
    accuracy_coverage_table,
    confidence_summary,
    coverage_curve,
    dimension_coding_by_case,
    dimension_coding_summary,
    evidence_agreement,
    prediction_set_summary,
    reliability_table,
)
from .dimensions import dimension_coding_loco, document_counts, domain_documents
from .features import normalise_text
from .findings import findings, reach
from .measures import agreement
from .settings import DECLARED, Settings
from .themes import theme_assignment_loco, theme_case_lists, theme_summary

__all__ = [
    "DECLARED",
    "IN_CONTEXT",
    "MAJORITY",
    "SENTENCE",
    "Settings",
    "accuracy_coverage_table",
    "agreement",
    "cluster_observations",
    "clustering_table",
    "confidence_summary",
    "coverage_curve",
    "dendrogram_panels",
    "dimension_coding_by_case",
    "dimension_coding_loco",
    "dimension_coding_summary",
    "document_counts",
    "domain_documents",
    "evidence_agreement",
    "findings",
    "normalise_text",
    "pooled_rand_index",
    "prediction_set_summary",
    "reach",
    "reliability_table",
    "theme_assignment_loco",
    "theme_case_lists",
    "theme_summary",
]
