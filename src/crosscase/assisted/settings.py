"""The declared configuration of assisted coding (:class:`Settings`, :data:`DECLARED`): fixed,
with the reason for each setting, before any of it was measured."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """The declared configuration of assisted coding, fixed with its reasons before it was
    measured leaving each case out, and measured once. Nothing is tuned on those figures: on
    five cases tuning fits their noise (nested tuning on four training cases did worse than
    fixed settings in an independent re-analysis).

    Dimension coding of a sentence:

    - Features: word TF-IDF (1-2 grams, English stop words removed, sublinear term frequency,
      the tokeniser of the earlier version) joined with character TF-IDF within word boundaries
      (``char_wb`` 2-5 grams, sublinear), which carry the stems and inflections that 100-odd
      sentences cannot teach word by word.
    - Classifier: logistic regression, ``C`` the earlier version's 10 (not tuned), class-balanced
      weights (the dimensions have unequal numbers of sentences and of domain documents).
      Newton-CG, chosen for speed before anything was measured: the L2-regularised problem is
      strictly convex, so the solver changes the time, not the model.
    - Training documents: the other cases' narrative sentences and first-order observations,
      and the caller's domain documents per dimension (the framework's labels, aliases,
      keywords, definitions and questions, the comparison's literature characteristics), each
      definition and question split into sentences, the unit being coded.
    - Calibration: temperature scaling (one parameter: stable on some twenty sentences a fold)
      fitted inside the training cases, leaving each out in turn and calibrating on its
      narrative sentences; the suggestion is the calibrated ensemble's most probable dimension.
    - Prediction sets: cross-conformal (LAC score: one minus the calibrated probability) over the
      same folds, at ``set_coverages``; a suggestion is *unsure* unless its set at
      ``unsure_coverage`` holds it alone.
    - Context: a second coder, reported apart, averages each sentence's probabilities with its
      neighbours' in the text (``context_weights``: previous, own, next), blind to where one
      block of text ends.

    Theme suggestion for an observation: the same features on its text (not its evidence); one
    centroid per theme (the mean unit vector of its training observations and its label); the
    themes of the observation's dimension ranked by cosine similarity; "no theme" below a
    threshold learnt inside the training cases (each left out in turn; maximum Youden's J).

    Clustering a dimension's themed observations: the same features, ``linkage`` on cosine
    distances, as many clusters as the dimension has themes; adjusted mutual information with
    the reference themes against ``permutations`` seeded permutations.

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
