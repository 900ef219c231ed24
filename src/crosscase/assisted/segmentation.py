"""Sentence segmentation (pySBD) of raw text and of a study's narratives: the units that
dimension coding codes, with their offsets into the text (long paragraphs in bounded pieces, so
in time linear in the text's length)."""

from __future__ import annotations

import re

import pandas as pd
import pysbd

from ..model import Study

_SEGMENTER = pysbd.Segmenter(language="en", clean=False, char_span=True)


#: Paragraphs longer than this are segmented in pieces of about ``_PIECE`` characters, cut where
#: a sentence clearly ends: pySBD's cost grows with the square of its input's length, so a pasted
#: transcript would otherwise take minutes. Shorter paragraphs are segmented whole.
_LONG = 5000
_PIECE = 2000
_SENTENCE_END = re.compile(
    r"(?<=[a-z]{2}[.!?])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z])"
)  # "word. Next": not "p. 12", "e.g. a", "Dr. Smith" or "U.S. Army"


def _pieces(paragraph: str) -> list[tuple[int, str]]:
    """``paragraph`` cut into pieces of at most about ``_PIECE`` characters, each ending where a
    sentence clearly ends (or, failing that, at a space, or anywhere), with their offsets."""
    if len(paragraph) <= _LONG:
        return [(0, paragraph)]
    out: list[tuple[int, str]] = []
    start = 0
    while len(paragraph) - start > _PIECE:
        window = paragraph[start : start + _PIECE]
        ends = [m.end() for m in _SENTENCE_END.finditer(window)]
        cut = ends[-1] if ends else (window.rfind(" ") + 1 or len(window))
        out.append((start, paragraph[start : start + cut]))
        start += cut
    out.append((start, paragraph[start:]))
    return out


def segment(text: str) -> list[tuple[int, int, str]]:
    """Split text into sentences: (start, end, sentence) with offsets into ``text``.

    Paragraphs (blank lines) are split first, so a heading or list never joins the next one; a
    long paragraph is segmented in bounded pieces (linear time in the text's length).
    """
    out: list[tuple[int, int, str]] = []
    for para in re.finditer(r"\S(?:.*?)(?=\n\s*\n|\Z)", text, flags=re.S):
        for offset, piece in _pieces(para.group(0)):
            for span in _SEGMENTER.segment(piece):
                sentence = span.sent.strip()
                if sentence:
                    lead = len(span.sent) - len(span.sent.lstrip())
                    start = para.start() + offset + span.start + lead
                    out.append((start, start + len(sentence), " ".join(sentence.split())))
    return out


def narrative_segments(study: Study) -> pd.DataFrame:
    """The reference units of dimension coding: every sentence of every narrative, coded with the
    narrative's dimension, in text order (cases by number, narratives in framework order)."""
    rows = [
        (case.id, case.number, dim.id, f"{case.number}-{dim.id}-{i + 1}", start, end, text)
        for case in study.cases
        for dim in study.framework.dimensions
        for i, (start, end, text) in enumerate(segment(case.narratives.get(dim.id, "")))
    ]
    columns = ["case", "case_number", "dimension", "segment", "start", "end", "text"]
    return pd.DataFrame(rows, columns=columns)
