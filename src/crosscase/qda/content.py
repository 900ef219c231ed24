"""The narratives and first-order observations of one imported case, from the coded passages of
its sources and the notes tied to it:

- a passage coded with a dimension is part of that dimension's narrative;
- a passage coded with a second-order theme, or carrying a memo (``Description``, or a note it
  refers to), is a first-order observation: the passage its evidence, the memo its text (the
  passage itself when there is no memo; an id in brackets in front of the memo, as the export
  writes it, names the observation), the themes its themes. Tools keeping one code a selection
  turn one observation into several selections over the same span: they are one observation.
  An observation's passage outside every narrative passage joins its dimension's narrative;
- a note coded with the study's codes is an observation resting on no passage; so is a note
  without them named by the id of such an observation of the case (whose dimension and themes
  it then has).

Observations come in the order of the project document: the sources' passages, then the notes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..model import Framework, Observation
from ..study.passages import normalise_space
from .codes import CodeMeanings, Draft, note_stem
from .errors import ProblemLog
from .format import unmark
from .project import QdaProject, Selection, TextItem

#: A passage: (index of its source in the project, start, end).
Span = tuple[int, int, int]
#: What the selections of one span say: (dimensions, themes, memo) of each observation or
#: narrative passage among them.
Meaning = tuple[set[str], list[str], str]


@dataclass(frozen=True)
class RawObservation:
    """A first-order observation as the project gives it, before it has an id."""

    names: list[str]  # its selections' names, its memo's id, its note's stem: candidates for id
    dimension: str
    text: str
    themes: list[str]
    evidence: str | None
    span: Span | None  # its passage; None for a note's
    line: int | None


@dataclass(frozen=True)
class CaseContent:
    narratives: dict[str, str]  # by dimension id
    observations: list[RawObservation]
    memo_less: int  # observations with no memo (their text is their passage)


class ContentReader:
    """Reads the content of cases; counts the selections of their sources in ``selections`` by
    what each became: ``narrative``, ``observation`` (one, or one of its selections), ``case``
    (a case's link to its text) or ``none`` (none of the study's codes)."""

    def __init__(
        self, project: QdaProject, framework: Framework, codes: CodeMeanings, log: ProblemLog
    ) -> None:
        self.project, self.framework, self.codes, self.log = project, framework, codes, log
        self.selections: Counter[str] = Counter()
        self.label, self.memo_less = "", 0  # of the case being read

    def content(
        self, draft: Draft, known: Mapping[str, Observation], label: str
    ) -> CaseContent | None:
        """A case's content (``label`` in problems); ``known`` are the observations of the
        study's case that rest on no passage, by id. None when there is a problem (recorded)."""
        self.label, self.memo_less, problems = label, 0, len(self.log.problems)
        narrative: dict[str, list[Span]] = defaultdict(list)
        raw = self._passages(draft.sources, narrative) + self._notes(draft.notes, known)
        covered = _merge(x for s in narrative.values() for x in s)
        for o in raw:
            if o.span and not any(
                i == o.span[0] and a <= o.span[1] and o.span[2] <= b for i, a, b in covered
            ):
                narrative[o.dimension].append(o.span)
        narratives = self._narratives(draft, narrative)
        if narratives is None or len(self.log.problems) > problems:
            return None
        return CaseContent(narratives, raw, self.memo_less)

    def _passages(
        self, sources: Sequence[int], narrative: dict[str, list[Span]]
    ) -> list[RawObservation]:
        """Each span of the sources (its selections together, in the order of their first):
        its narrative passages (added to ``narrative``) and observations."""
        groups: dict[Span, list[Selection]] = {}
        for i in sources:
            for sel in self.project.sources[i].selections:
                groups.setdefault((i, sel.start, sel.end), []).append(sel)
        raw = []
        for span, selections in groups.items():
            i, start, end = span
            source, line = self.project.sources[i], selections[0].line
            what = f"{source.describe()}, selection {start}-{end}"
            self.codes.meaning((c for s in selections for c in s.codes), what, self.label, line)
            passage = normalise_space(source.text[start:end])
            for dims, themes, memo in self._of_span(selections):
                if not themes and not memo:
                    for dim in dims:
                        narrative[dim].append(span)
                elif dimension := self._dimension(dims, themes, what, line):
                    self.memo_less += not memo
                    names, text = _unmarked([s.name for s in selections], memo)
                    observation = (dimension, text or passage, themes, passage, span, line)
                    raw.append(RawObservation(names, *observation))
        return raw

    def _notes(
        self, notes: Sequence[TextItem], known: Mapping[str, Observation]
    ) -> list[RawObservation]:
        """The observations that rest on no passage: one a note."""
        raw = []
        for note in notes:
            codes = [c for sel in note.selections for c in sel.codes]
            what, stem, text = note.describe(), note_stem(note.name), normalise_space(note.text)
            if self.codes.study_codes(codes):
                dims, themes = self.codes.meaning(codes, what, self.label, note.line)
            elif stem in known:  # named by the id of an observation
                dims, themes = {known[stem].dimension}, list(known[stem].themes)
            else:
                continue
            dimension = self._dimension(dims, themes, what, note.line)
            if not text:
                self.log.add(f"{what}: the note has no text", self.label, note.line)
            elif dimension:
                names, text = _unmarked([*(s.name for s in note.selections), stem], text)
                raw.append(RawObservation(names, dimension, text, themes, None, None, note.line))
        return raw

    def _narratives(self, draft: Draft, narrative: dict[str, list[Span]]) -> dict[str, str] | None:
        """Each dimension's passages merged, in text order (None, the problem recorded, when a
        dimension has none)."""
        narratives: dict[str, str] = {}
        for d in self.framework.dimensions:
            spans = _merge(narrative.get(d.id, []))
            texts = [self.project.sources[i].text[a:b] for i, a, b in spans]
            if texts:
                narratives[d.id] = normalise_space(" ".join(texts))
                continue
            self.log.add(
                f"case {draft.name!r} has no passage coded with dimension {d.label!r}: every "
                "dimension needs a narrative"
                + ("" if any(narrative.values()) else " (the case has no text coded at all)"),
                self.label,
                draft.line,
            )
        return narratives if len(narratives) == len(self.framework.dimensions) else None

    def _memo(self, sel: Selection) -> str:
        """A selection's memo: its description, or the text of a note it refers to that is not
        itself an observation."""
        if sel.memo:
            return sel.memo
        for note in filter(None, map(self.project.notes.get, sel.notes)):
            if note.text.strip() and not self.codes.carried(note):
                return normalise_space(note.text)
        return ""

    def _of_span(self, selections: Sequence[Selection]) -> list[Meaning]:
        """What the selections of one span say, each selection counted.

        Each distinct memo is one observation (two may rest on the same passage). A code of a
        selection with no memo joins the memo of its dimension (a tool keeping one code a
        selection splits one observation into several), or a memo with no code at all;
        otherwise its dimension's codes without a memo are one more observation when they
        include a theme, and a narrative passage when they do not.
        """
        memos: dict[str, list[str]] = {}
        pool: list[str] = []
        for sel in selections:
            memo = self._memo(sel)
            if memo:
                memos.setdefault(memo, []).extend(sel.codes)
            else:
                pool.extend(sel.codes)
        own = {m: self.codes.dimensions_of(codes) for m, codes in memos.items()}
        left: dict[str, list[str]] = defaultdict(list)
        for code in pool:
            for dim in self.codes.dimensions_of([code]):
                targets = [m for m, d in own.items() if dim in d]
                targets = targets or [m for m, d in own.items() if not d][:1]
                for m in targets:
                    memos[m].append(code)
                if not targets:
                    left[dim].append(code)
        out = [(*self.codes.meaning(codes), memo) for memo, codes in memos.items()]
        out = [m for m in out if m[0] or m[1]]
        out += [(*self.codes.meaning(codes), "") for codes in left.values()]
        in_narrative = {d for dims, themes, memo in out if not themes and not memo for d in dims}
        observed = {m for _, _, m in out if m}
        for sel in selections:
            self.selections[self._role(sel, in_narrative, observed)] += 1
        return out

    def _role(self, sel: Selection, in_narrative: set[str], memos: set[str]) -> str:
        """What a selection of a span became (see the class), given the dimensions whose
        narrative the span joined and the memos of the observations it holds."""
        memo = self._memo(sel)
        if memo in memos:
            return "observation"
        ours = self.codes.study_codes(sel.codes)
        if not ours:  # a case's link to its text, or not the study's
            return "case" if any(self.codes.is_case_code(c) for c in sel.codes) else "none"
        dims, themes = self.codes.meaning(ours)
        return "observation" if themes or memo or not dims <= in_narrative else "narrative"

    def _dimension(
        self, dims: set[str], themes: list[str], what: str, line: int | None
    ) -> str | None:
        """The one dimension of an observation's codes (None, the problem recorded)."""
        together = {self.codes.dimension_of[t] for t in themes} | dims
        if len(together) == 1:
            return next(iter(together))
        self.log.add(
            f"{what}: coded with {', '.join(sorted(together))}: an observation belongs to one "
            "dimension and evidences themes of that dimension only"
            if together
            else f"{what}: a memo but no dimension or theme code",
            self.label,
            line,
        )
        return None


def _unmarked(names: list[str], memo: str) -> tuple[list[str], str]:
    """An observation's names with the id in front of its memo, and its memo without it."""
    ident, text = unmark(memo)
    return ([*names, ident] if ident else names), text


def _merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans of the same text merged, in order."""
    out: list[Span] = []
    for i, a, b in sorted(spans):
        if out and out[-1][0] == i and a <= out[-1][2]:
            out[-1] = (i, out[-1][1], max(out[-1][2], b))
        else:
            out.append((i, a, b))
    return out
