"""Evidence passages in narratives: text compared with white space folded, a passage located in
its case's narratives, and, for a passage not found, the narrative sentence closest to it."""

from __future__ import annotations

import difflib
import re

from ..model import Case, CodedObservation, Observation

#: A sentence (roughly: for hints, not for coding) ends after '.', '!', '?' or ';' and white
#: space, or after the ideographic full stop and the full-width '!' and '?' of Chinese and
#: Japanese (U+3002, U+FF01, U+FF1F), which no space follows.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|(?<=[\u3002\uff01\uff1f])")


def normalise_space(text: str) -> str:
    """Collapse runs of white space (line breaks of folded YAML included) to single spaces."""
    return " ".join(text.split())


def locate(case: Case, obs: Observation) -> CodedObservation:
    """Find the evidence passage, in the observation's own dimension first."""
    if obs.evidence is None:
        return CodedObservation(case.id, obs)
    passage = normalise_space(obs.evidence)
    for dim in [obs.dimension, *(d for d in case.narratives if d != obs.dimension)]:
        at = case.narratives[dim].find(passage) if dim in case.narratives else -1
        if at >= 0:
            return CodedObservation(case.id, obs, dim, at, at + len(passage))
    return CodedObservation(case.id, obs)


def nearest_passage(case: Case, passage: str, limit: int = 5000) -> str:
    """A hint for an evidence passage not found: the narrative sentence that holds most of it
    (sentences sharing the most words, or characters where words are not spaced, first; then the
    share of the passage's characters found in order in the sentence). At most ``limit``
    sentences are looked at."""
    found = [s for text in case.narratives.values() for s in _SENTENCE_END.split(text) if s]
    words = set(passage.lower().split())

    def rough(sentence: str) -> tuple[int, float]:
        shared = len(words & set(sentence.lower().split()))
        return shared, difflib.SequenceMatcher(None, passage, sentence).quick_ratio()

    ranked = sorted(found[:limit], key=rough, reverse=True)

    def covered(sentence: str) -> float:
        matcher = difflib.SequenceMatcher(None, passage, sentence, autojunk=False)
        blocks = matcher.get_matching_blocks()  # runs of 5+ characters: words, not letters
        return sum(b.size for b in blocks if b.size >= 5) / max(1, len(passage))

    score, best = max(((covered(s), s) for s in ranked[:10]), default=(0.0, ""))
    if score < 0.6:
        return ""
    shown = best if len(best) <= 200 else best[:197] + "..."
    return f"; the closest narrative sentence is {shown!r}"
