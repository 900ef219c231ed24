"""The declared configuration of assisted coding (:class:`Settings`, :data:`DECLARED`): fixed,
with the reason for each setting, before any of it was measured."""

from __future__ import annotations

from dataclasses import dataclass


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
