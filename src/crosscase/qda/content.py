"""The narratives and first-order observations of one imported case, from the coded passages of
its sources and the notes tied to it:

- a passage coded with a dimension is part of that dimension's narrative;
- a passage coded with a second-order theme (a code under a dimension), or carrying a memo
  (``Description``, or a note it refers to), is a first-order observation: the passage is its
  evidence, the memo its text (the passage itself when there is no memo), the themes its themes.
  One observation may arrive as several selections over the same span (tools keep one code a
  selection): they are one observation. An observation's passage outside every narrative passage
  joins the narrative of its dimension;
- a note coded with the study's codes is an observation that rests on no passage.
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..model import Framework
from ..study.passages import normalise_space
from .codes import CodeMeanings
from .errors import ProblemLog
from .project import QdaProject, Selection, TextItem

#: A passage: (index of its source in the project, start, end).
Span = tuple[int, int, int]


@dataclass(frozen=True)
class RawObservation:
    """A first-order observation as the project gives it, before it has an id."""

    names: list[str]  # of its selections (and its note's stem): candidates for its id
    dimension: str
    text: str
    themes: list[str]
    evidence: str | None
    span: Span | None
    line: int | None


@dataclass(frozen=True)
class CaseContent:
    """A case's narratives (by dimension id), its raw observations, and how many observations
    had no memo (their text is their passage)."""

    narratives: dict[str, str]
    observations: list[RawObservation]
    memo_less: int


@dataclass
class _Group:
    """The selections of one span of one text (tools keep one code a selection)."""

    item: int
    start: int
    end: int
    selections: list[Selection] = field(default_factory=list)


class ContentReader:
    """Reads the content of cases; counts the selections of their sources in ``selections``, by
    what each became: ``narrative`` (part of a narrative), ``observation`` (a first-order
    observation, or one of its selections), ``case`` (a case's link to its text) or ``none``
    (none of the study's codes)."""

    def __init__(
        self, project: QdaProject, framework: Framework, codes: CodeMeanings, log: ProblemLog
    ) -> None:
        self.project = project
        self.framework = framework
        self.codes = codes
        self.log = log
        self.selections: Counter[str] = Counter()

    def content(
        self,
        name: str,
        sources: Sequence[int],
        notes: Sequence[TextItem],
        label: str,
        line: int | None,
    ) -> CaseContent | None:
        """Narratives and raw observations of the case ``name`` (``label`` in problems), from
        its sources and notes; None when there is a problem (recorded)."""
        narrative: dict[str, list[Span]] = defaultdict(list)
        raw: list[RawObservation] = []
        ok, memo_less = self._passages(sources, label, narrative, raw)
        ok &= self._notes(notes, label, raw)
        # An observation's passage outside every narrative passage joins its dimension's narrative
        covered = _merge(x for spans in narrative.values() for x in spans)
        for o in raw:
            if o.span is not None and not _inside(covered, o.span):
                narrative[o.dimension].append(o.span)
        narratives = self._narratives(name, narrative, label, line)
        if not ok or narratives is None:
            return None
        return CaseContent(narratives, raw, memo_less)

    def _passages(
        self,
        sources: Sequence[int],
        label: str,
        narrative: dict[str, list[Span]],
        raw: list[RawObservation],
    ) -> tuple[bool, int]:
        """Each span of the sources (its selections together): narrative passages and
        observations. Whether all went well, and how many observations had no memo."""
        groups: dict[Span, _Group] = {}
        for i in sources:
            for sel in self.project.sources[i].selections:
                g = groups.setdefault((i, sel.start, sel.end), _Group(i, sel.start, sel.end))
                g.selections.append(sel)
        ok, memo_less = True, 0
        for _, g in sorted(groups.items()):
            good, n = self._group(g, label, narrative, raw)
            ok &= good
            memo_less += n
        return ok, memo_less

    def _group(
        self,
        g: _Group,
        label: str,
        narrative: dict[str, list[Span]],
        raw: list[RawObservation],
    ) -> tuple[bool, int]:
        source = self.project.sources[g.item]
        line = g.selections[0].line
        what = f"{source.describe()}, selection {g.start}-{g.end}"
        _, _, ok = self.codes.meaning((c for s in g.selections for c in s.codes), what, label, line)
        passage = normalise_space(source.text[g.start : g.end])
        meanings = self.span_meanings(g.selections)
        in_narrative = {
            d for dims, themes, memo in meanings if not themes and not memo for d in dims
        }
        memos = {memo for _, _, memo in meanings if memo}
        for sel in g.selections:
            self.selections[self._role(sel, in_narrative, memos)] += 1
        memo_less = 0
        for dims, themes, memo in meanings:
            if not themes and not memo:
                for dim in dims:
                    narrative[dim].append((g.item, g.start, g.end))
                continue
            dimension = self.observation_dimension(dims, themes, what, label, line)
            if dimension is None:
                ok = False
                continue
            memo_less += not memo
            names = [s.name for s in g.selections]
            span = (g.item, g.start, g.end)
            raw.append(
                RawObservation(names, dimension, memo or passage, themes, passage, span, line)
            )
        return ok, memo_less

    def _role(self, sel: Selection, in_narrative: set[str], memos: set[str]) -> str:
        """What a selection of a span became, given the dimensions whose narrative the span
        joined and the memos of the observations it holds (see :attr:`selections`)."""
        memo = self.memo(sel)
        if memo in memos:
            return "observation"
        ours = self.codes.study_codes(sel.codes)
        if not ours:  # a case's link to its text, or not the study's
            return "case" if any(self.codes.is_case_code(c) for c in sel.codes) else "none"
        dims, themes, _ = self.codes.meaning(ours)
        if themes or memo or not dims <= in_narrative:
            return "observation"
        return "narrative"

    def _notes(self, notes: Sequence[TextItem], label: str, raw: list[RawObservation]) -> bool:
        """The observations that rest on no passage: one a note."""
        ok = True
        for note in notes:
            codes = [c for sel in note.selections for c in sel.codes]
            what = note.describe()
            dims, themes, good = self.codes.meaning(codes, what, label, note.line)
            ok &= good
            dimension = self.observation_dimension(dims, themes, what, label, note.line)
            text = normalise_space(note.text)
            if not text:
                self.log.add(f"{what}: the note has no text", label, note.line)
                ok = False
            if dimension is None or not text:
                ok = False
                continue
            stem = re.sub(r"\s*\([^()]*\)\s*$", "", note.name)
            names = [*(s.name for s in note.selections), stem]
            raw.append(RawObservation(names, dimension, text, themes, None, None, note.line))
        return ok

    def _narratives(
        self, name: str, narrative: dict[str, list[Span]], label: str, line: int | None
    ) -> dict[str, str] | None:
        """Each dimension's narrative: its passages merged, in text order (None, the problem
        recorded, when a dimension has none)."""
        narratives: dict[str, str] = {}
        ok = True
        for d in self.framework.dimensions:
            spans = _merge(narrative.get(d.id, []))
            if not spans:
                self.log.add(
                    f"case {name!r} has no passage coded with dimension {d.label!r}: every "
                    "dimension needs a narrative"
                    + ("" if any(narrative.values()) else " (the case has no text coded at all)"),
                    label,
                    line,
                )
                ok = False
                continue
            narratives[d.id] = normalise_space(
                " ".join(self.project.sources[i].text[a:b] for i, a, b in spans)
            )
        return narratives if ok else None

    def memo(self, sel: Selection) -> str:
        """A selection's memo: its description, or the text of a note it refers to that is not
        itself an observation."""
        if sel.memo:
            return sel.memo
        for n in sel.notes:
            note = self.project.notes.get(n)
            if (
                note is not None
                and note.text.strip()
                and not any(self.codes.study_codes(s.codes) for s in note.selections)
            ):
                return normalise_space(note.text)
        return ""

    def span_meanings(
        self, selections: Sequence[Selection]
    ) -> list[tuple[set[str], list[str], str]]:
        """What the selections of one span say: (dimensions, themes, memo) of each observation
        or narrative passage among them.

        Each distinct memo is one observation (two observations may rest on the same passage).
        A code of a selection with no memo joins the memo of its dimension (a tool keeping one
        code a selection splits one observation into several), or a memo with no code at all;
        otherwise its dimension's codes without a memo are one more observation when they
        include a theme, and a narrative passage when they do not.
        """
        memos: dict[str, list[str]] = {}
        pool: list[str] = []
        for sel in selections:
            memo = self.memo(sel)
            if memo:
                memos.setdefault(memo, []).extend(sel.codes)
            else:
                pool.extend(sel.codes)
        own = {m: self.codes.dimensions_of(codes) for m, codes in memos.items()}
        left: dict[str, list[str]] = defaultdict(list)
        for code in pool:
            for dim in self.codes.dimensions_of([code]):
                targets = [m for m, d in own.items() if dim in d] or [
                    m for m, d in own.items() if not d
                ][:1]
                for m in targets:
                    memos[m].append(code)
                if not targets:
                    left[dim].append(code)
        out = []
        for memo, codes in memos.items():
            dims, themes, _ = self.codes.meaning(codes)
            if dims or themes:
                out.append((dims, themes, memo))
        for codes in left.values():
            dims, themes, _ = self.codes.meaning(codes)
            out.append((dims, themes, ""))
        return out

    def observation_dimension(
        self, dims: set[str], themes: list[str], what: str, case: str, line: int | None
    ) -> str | None:
        """The one dimension of an observation's codes (None, the problem recorded, unless
        there is exactly one)."""
        of_themes = {self.codes.theme_dimension(t) for t in themes}
        together = of_themes | dims
        if len(together) == 1:
            return next(iter(together))
        if not together:
            self.log.add(f"{what}: a memo but no dimension or theme code", case, line)
        else:
            self.log.add(
                f"{what}: coded with {', '.join(sorted(together))}: an observation belongs to one "
                "dimension and evidences themes of that dimension only",
                case,
                line,
            )
        return None


def _merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans of the same text merged, in order."""
    out: list[Span] = []
    for i, a, b in sorted(spans):
        if out and out[-1][0] == i and a <= out[-1][2]:
            out[-1] = (i, out[-1][1], max(out[-1][2], b))
        else:
            out.append((i, a, b))
    return out


def _inside(merged: list[Span], span: Span) -> bool:
    at = bisect_right(merged, (span[0], span[1], sys.maxsize)) - 1
    return (
        at >= 0
        and merged[at][0] == span[0]
        and merged[at][1] <= span[1]
        and span[2] <= merged[at][2]
    )
