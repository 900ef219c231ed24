"""Which sources and notes of a REFI-QDA project make which case:

- a source whose passages carry the study's codes is a case's text; its case is the ``Case``
  element that refers to it (``SourceRef``), codes it with a code of its own (the case-code
  convention of NVivo and QualCoder), or has its name (a file extension such as ``.txt``, which
  tools keep in a source's name, ignored); a source with the study's codes and no case is a case
  of its own (MAXQDA's way: the document is the case);
- a note is a case's observation resting on no passage when it carries the study's codes, or
  when its name starts with the id of such an observation of the study (tools that turn notes
  into memos of their own drop the codes and keep the name); it is tied to its case by a
  ``NoteRef`` inside the case's source, or by a name ending in ``(<case name>)``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from .codes import CodeMeanings
from .errors import ProblemLog
from .format import key
from .project import CaseItem, QdaProject, TextItem

#: Extensions tools keep in the name of a source made from a file.
_EXTENSION = re.compile(r"\.(txt|text|md|rtf|docx?|odt|pdf|html?)$", re.IGNORECASE)


def name_key(name: str) -> str:
    """How a case's or source's name is compared: :func:`.format.key`, with no file extension."""
    return key(_EXTENSION.sub("", name.strip()))


def note_stem(name: str) -> str:
    """A note's name without the ``(<case name>)`` that ends it (a case name may hold
    parentheses of its own)."""
    return re.sub(r"\s*\(.*\)\s*$", "", name, flags=re.DOTALL)


@dataclass
class Draft:
    """One case being assembled: its name, its ``Case`` element (if any), its sources (indices in
    the project) and notes."""

    name: str
    element: CaseItem | None
    sources: list[int]
    line: int | None
    notes: tuple[TextItem, ...] = ()


class _SourceIndex:
    """The project's text sources by GUID, by name, and by the case codes coding them."""

    def __init__(self, project: QdaProject, codes: CodeMeanings) -> None:
        self.project = project
        self.index = {s.guid: i for i, s in enumerate(project.sources)}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.coded_by_case: dict[str, set[int]] = defaultdict(set)  # case key -> sources it codes
        for i, s in enumerate(project.sources):
            self.by_name[name_key(s.name)].append(i)
            for g in (g for sel in s.selections for g in sel.codes if codes.is_case_code(g)):
                self.coded_by_case[name_key(project.codes[g].name)].add(i)
                self.coded_by_case[g].add(i)

    def of_case(self, c: CaseItem) -> tuple[str, list[int]]:
        """A case's name (its own, or its one source's) and its sources: those it refers to and
        those its case code codes, or else those of its name."""
        linked = [self.index[r] for r in c.sources if r in self.index]
        name = c.name or (self.project.sources[linked[0]].name if len(linked) == 1 else "")
        codes = self.coded_by_case
        linked += sorted(codes.get(c.guid, set()) | codes.get(name_key(name), set()))
        return name, list(dict.fromkeys(linked or self.by_name.get(name_key(name), [])))


def drafts(
    project: QdaProject, codes: CodeMeanings, log: ProblemLog
) -> tuple[list[Draft], list[str]]:
    """Which sources make which case; the names of the sources that make none."""
    sources = _SourceIndex(project, codes)
    out: list[Draft] = []
    claimed: dict[int, str] = {}
    names: Counter[str] = Counter()
    for c in project.cases:
        name, linked = sources.of_case(c)
        if not name:
            log.add(f"Case {c.guid} has no name and no single source", line=c.line)
            continue
        names[name_key(name)] += 1
        for i in linked:
            if claimed.setdefault(i, name) != name:
                s = project.sources[i]
                log.add(
                    f"{s.describe()} belongs to two cases, {claimed[i]!r} and {name!r}", line=s.line
                )
        out.append(Draft(name, c, linked, c.line))
    for name, n in names.items():
        if n > 1:
            log.add(f"{n} cases are named {name!r}: case names must be unique")
    ignored = []
    for i, s in enumerate(project.sources):  # a source with the study's codes and no case
        if i in claimed:
            continue
        if not any(codes.study_codes(sel.codes) for sel in s.selections):
            ignored.append(s.name)
        elif name_key(s.name) in names:  # a case of that name exists, linked elsewhere
            log.add(
                f"{s.describe()} carries the study's codes but its case {s.name!r} is linked to "
                "other sources",
                line=s.line,
            )
        else:
            out.append(Draft(_EXTENSION.sub("", s.name.strip()), None, [i], s.line))
    return out, ignored


def tie_notes(
    project: QdaProject,
    cases: Sequence[Draft],
    codes: CodeMeanings,
    passage_less: Collection[str],
    log: ProblemLog,
) -> None:
    """Give each case its notes (:attr:`Draft.notes`): the notes coded with the study's codes,
    or named by the id of one of the study's observations ``passage_less`` (that rest on no
    passage), tied to the case whose sources refer to them or whose name ends theirs."""
    notes = {
        g: n
        for g, n in project.notes.items()
        if any(codes.study_codes(sel.codes) for sel in n.selections)
        or note_stem(n.name) in passage_less
    }
    owner: dict[str, int] = {}
    for d, draft in enumerate(cases):
        for s in (project.sources[i] for i in draft.sources):
            for g in (*s.notes, *(n for sel in s.selections for n in sel.notes)):
                if g in notes:
                    owner.setdefault(g, d)
    by_name = {key(d.name): n for n, d in enumerate(cases)}
    tied: dict[int, list[TextItem]] = defaultdict(list)
    for g, note in notes.items():
        if g not in owner:
            # The case whose name, in parentheses, ends the note's name; a case name may hold
            # parentheses itself ("... therapy (CATBT)"), so it is matched whole, the longest.
            name = key(note.name)
            found = max((k for k in by_name if name.endswith(f"({k})")), key=len, default=None)
            if found is None and not any(codes.study_codes(s.codes) for s in note.selections):
                continue  # named like an observation of the study, but of no case here
            if found is None:
                log.add(
                    f"{note.describe()} carries the study's codes but belongs to no case: refer "
                    "to it (NoteRef) from its case's source, or end its name with '(<case name>)'",
                    line=note.line,
                )
                continue
            owner[g] = by_name[found]
        tied[owner[g]].append(note)
    for d, draft in enumerate(cases):
        draft.notes = tuple(tied.get(d, ()))
