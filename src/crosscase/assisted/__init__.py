"""Assisted coding: suggest dimensions for raw text and themes for observations, cluster
observations into candidate themes, and measure each against a reference coding, with bootstrap
intervals and baselines beside every figure.

The reference coding of a study is its own data: every sentence of a case's narrative for a
dimension is coded with that dimension, and every first-order observation with its themes (or
none). The measures leave each case out in turn: train on the other cases (and the domain
documents the caller gives), code the case left out. The configuration is :data:`DECLARED`,
fixed before it was measured (:class:`Settings` says why each setting is what it is).
Everything is deterministic (seeded randomness only) and built on well-kept libraries (pySBD,
scikit-learn, scipy, ``krippendorff``); what is computed by hand is vectorised over bootstrap
resamples or permutations and tested against them, resample by resample.

The modules: ``settings``, ``segmentation`` (sentences), ``features`` (TF-IDF), ``dimensions``
(dimension coding), ``themes`` (theme suggestion, and its measure), ``clustering`` (candidate
themes), ``measures`` (agreement, calibration, AUROC; dimension coding measured), ``findings``
(what the measures mean, in sentences), ``figures``, and ``review`` (the ``suggest``,
``accept``, ``suggest-themes`` and ``agreement`` commands).
"""

from .settings import DECLARED, Settings

__all__ = ["DECLARED", "Settings"]
