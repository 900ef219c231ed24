"""Text features of assisted coding: text normalised for keyword matching, and word and
character TF-IDF (:func:`features`), computed fast for many training subsets from n-gram counts
made once (:class:`Ngrams`, :class:`TrainingTfidf`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix, hstack
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from .settings import DECLARED, Settings


def normalise_text(text: str) -> str:
    """Fold case, typographic dashes and quotes, and white space (for keyword matching)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    text = re.sub(r"[\u2018\u2019\u201b\u2032]", "'", text)
    text = re.sub(r"[\u201c\u201d\u201f\u2033]", '"', text)
    return " ".join(text.split())


def _vectorizers(settings: Settings) -> dict[str, dict[str, object]]:
    """The word and the character vectorizers' arguments (:class:`Settings`)."""
    return {
        "word": {
            "preprocessor": normalise_text,
            "ngram_range": settings.word_ngrams,
            "stop_words": "english",
            "token_pattern": r"(?u)\b[\w/]*[a-z][\w/-]*\b",
        },
        "char": {
            "preprocessor": normalise_text,
            "analyzer": "char_wb",
            "ngram_range": settings.char_ngrams,
        },
    }


def features(settings: Settings = DECLARED) -> FeatureUnion:
    """Word and character TF-IDF features, joined (:class:`Settings`): the definition that
    :class:`Ngrams` and :class:`TrainingTfidf` compute faster."""
    vectorizers = _vectorizers(settings).items()
    return FeatureUnion([(n, TfidfVectorizer(sublinear_tf=True, **kw)) for n, kw in vectorizers])


class Ngrams:
    """Word and character n-gram counts of a set of texts, counted once.

    Counting is per text, so :class:`TrainingTfidf` fitted on the counts of any subset of the
    texts gives the same matrix as :func:`features` fitted on that subset's texts (its
    vocabulary is the n-grams the subset contains), without counting again for every fold.
    """

    def __init__(self, texts: Sequence[str], settings: Settings = DECLARED) -> None:
        unique = list(dict.fromkeys(str(t) for t in texts))
        self._row = {t: i for i, t in enumerate(unique)}
        self._vectorizers = [CountVectorizer(**kw) for kw in _vectorizers(settings).values()]
        counts = [v.fit_transform(unique) for v in self._vectorizers]
        self.split = int(counts[0].shape[1])  # the word columns come first
        self._counts = hstack(counts).tocsr()

    def counts(self, texts: Sequence[str]) -> csr_matrix:
        """The n-gram counts of ``texts`` (n-grams of the counted texts only)."""
        texts = [str(t) for t in texts]
        if all(t in self._row for t in texts):
            return self._counts[[self._row[t] for t in texts]]
        return hstack([v.transform(texts) for v in self._vectorizers]).tocsr()


class TrainingTfidf(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """TF-IDF (sublinear, l2 per block) of :class:`Ngrams` counts, with the vocabulary and
    inverse document frequencies of the rows it is fitted on: word columns before ``split``,
    character columns after, each weighted by scikit-learn's ``TfidfTransformer``."""

    def __init__(self, split: int = 0) -> None:
        self.split = split

    def fit(self, x: csr_matrix, y: object = None) -> TrainingTfidf:
        x = csc_matrix(x)  # column selection is fast on columns
        used = np.flatnonzero(np.diff(x.indptr) > 0)  # n-grams the rows contain
        self.columns_ = [used[used < self.split], used[used >= self.split]]
        self.weights_ = [
            TfidfTransformer(sublinear_tf=True).fit(x[:, cols]) for cols in self.columns_
        ]
        return self

    def transform(self, x: csr_matrix) -> csr_matrix:
        x = csc_matrix(x)
        parts = [w.transform(x[:, c]) for w, c in zip(self.weights_, self.columns_, strict=True)]
        return hstack(parts).tocsr()
