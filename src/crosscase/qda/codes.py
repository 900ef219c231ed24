"""What the codes, sources and notes of a REFI-QDA project are to the study, by name, description
and place in the hierarchy, never by GUID (tools regenerate GUIDs on every export):

- a code is a dimension, a known second-order theme (the id its Description gives,
  ``Second-order theme (<id>)``, else the theme of its label), a new candidate theme (a code the
  study does not know, directly under a dimension; its id made from its label), a case's code,
  or other;
- a source whose passages carry the study's codes is a case's text; its case is the ``Case``
  that refers to it (``SourceRef``), codes it with a code of its own (the case-code convention
  of NVivo and QualCoder), or has its name (a file extension, which tools keep in a source's
  name, ignored); a source with the study's codes and no case is a case of its own (MAXQDA's
  way: the document is the case);
- a note is a case's observation resting on no passage when it carries the study's codes, or
  when its name starts with the id of such an observation of the study (tools that turn notes
  into memos of their own drop the codes and keep the name); it is tied to its case by a
  ``NoteRef`` inside the case's source, or by a name ending in ``(<case name>)``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ..model import Framework, Study, Theme
from ..study.checks import ThemeIndex
from ..study.passages import normalise_space
from .errors import ProblemLog
from .format import free_id, key, readable_slug, theme_mark
from .project import CaseItem, CodeItem, QdaProject, TextItem

Role = Literal["dimension", "theme", "new-theme", "case", "misplaced", "other"]
#: Extensions tools keep in the name of a source made from a file.
_EXTENSION = re.compile(r"\.(txt|text|md|rtf|docx?|odt|pdf|html?)$", re.IGNORECASE)


@dataclass(frozen=True)
class CodeRole:
    role: Role
    ref: str = ""  # dimension id, theme id (known or new), or why it is misplaced


class CodeMeanings:
    """The roles of a project's codes, the new candidate themes they name (by their dimension
    and label), and what a set of codes says; problems go to ``log``."""

    def __init__(
        self, project: QdaProject, study: Study, extra_themes: Sequence[Theme], log: ProblemLog
    ) -> None:
        self.project, self.log, self.labels = project, log, study.dimension_labels
        known = ThemeIndex([*study.themes, *extra_themes])
        self.new: dict[str, Theme] = {}
        self.roles = self._classify(study.framework, known)
        themes = [*known.by_id.values(), *self.new.values()]
        self.dimension_of = {t.id: t.dimension for t in themes}

    def _classify(self, framework: Framework, themes: ThemeIndex) -> dict[str, CodeRole]:
        """Each code's role; a dimension by label, alias or id, a known theme under its own
        dimension when under one, a case's code by the GUID or name of a case."""
        dims: dict[str, str] = {}  # the first dimension of a name
        for d in framework.dimensions:
            for name in (d.id, d.label, *d.aliases):
                dims.setdefault(key(name), d.id)
        cases = {c.guid for c in self.project.cases}
        cases |= {key(c.name) for c in self.project.cases if c.name}
        roles: dict[str, CodeRole] = {}
        for code in self.project.codes.values():  # parents before their children
            k, parent = key(code.name), roles.get(code.parent or "", CodeRole("other"))
            marked = themes.by_id.get(theme_mark(code.description) or "")
            theme = marked or themes.resolve(code.name)
            if k in dims:
                role = CodeRole("dimension", dims[k])
            elif parent.role != "dimension":
                if code.guid in cases or k in cases:
                    role = CodeRole("case")
                else:
                    role = CodeRole("theme", theme.id) if theme else CodeRole("other")
            elif theme is None:
                role = CodeRole("new-theme", self._new_theme(parent.ref, code, themes))
            elif theme.dimension == parent.ref:
                role = CodeRole("theme", theme.id)
            else:
                where = f"of dimension {theme.dimension!r} but sits under dimension {parent.ref!r}"
                role = CodeRole("misplaced", f"code {code.name!r} is theme {theme.id!r} {where}")
            roles[code.guid] = role
        return roles

    def _new_theme(self, dimension: str, code: CodeItem, themes: ThemeIndex) -> str:
        """The id of a new candidate theme: the one its Description gives when free, else made
        from its label (from its dimension for a label in a script with no ASCII spelling)."""
        label = normalise_space(code.name)
        if (k := f"{dimension}\n{key(label)}") not in self.new:
            taken = set(themes.by_id) | {t.id for t in self.new.values()}
            base = theme_mark(code.description) or ""
            if not base or base in taken:
                base = readable_slug(label) or f"{dimension}-theme"
            self.new[k] = Theme(id=free_id(base, taken), dimension=dimension, label=label)
        return self.new[k].id

    def study_codes(self, codes: Iterable[str]) -> list[str]:
        """The codes that are the study's: dimensions and themes (known, new or misplaced)."""
        return [c for c in codes if self.roles[c].role not in ("case", "other")]

    def carried(self, item: TextItem) -> bool:
        """Whether a selection of a source or note carries the study's codes."""
        return any(self.study_codes(sel.codes) for sel in item.selections)

    def is_case_code(self, code: str) -> bool:
        return self.roles[code].role == "case"

    def meaning(
        self, codes: Iterable[str], what: str = "", case: str | None = None, line: int | None = None
    ) -> tuple[set[str], list[str]]:
        """The dimensions and themes (ids) of some codes; with ``what`` (what holds them), each
        code that is neither is reported."""
        dims: set[str] = set()
        themes: list[str] = []
        for c in codes:
            role = self.roles[c]
            if role.role == "dimension":
                dims.add(role.ref)
            elif role.role in ("theme", "new-theme"):
                themes.append(role.ref)
            elif what and role.role in ("misplaced", "other"):
                neither = (
                    f"code {self.project.codes[c].name!r} is neither a dimension nor a theme (a "
                    "code directly under a dimension); known dimensions: "
                    + ", ".join(self.labels.values())
                )
                self.log.add(f"{what}: {role.ref or neither}", case, line)
        return dims, list(dict.fromkeys(themes))

    def dimensions_of(self, codes: Iterable[str]) -> set[str]:
        """The dimensions of some codes: theirs, or their themes'."""
        dims, themes = self.meaning(codes)
        return dims | {self.dimension_of[t] for t in themes}


def name_key(name: str) -> str:
    """How a case's or source's name is compared: :func:`.format.key`, no file extension."""
    return key(_EXTENSION.sub("", name.strip()))


def note_stem(name: str) -> str:
    """A note's name without the ``(<case name>)`` that ends it (a case name may hold
    parentheses of its own)."""
    return re.sub(r"\s*\(.*\)\s*$", "", name, flags=re.DOTALL)


@dataclass
class Draft:
    """A case being assembled: its name, ``Case`` element, sources (indices) and notes."""

    name: str
    element: CaseItem | None
    sources: list[int]
    line: int | None
    notes: tuple[TextItem, ...] = ()


def drafts(
    project: QdaProject, codes: CodeMeanings, log: ProblemLog
) -> tuple[list[Draft], list[str]]:
    """Which sources make which case; the names of the sources that make none."""
    index = {s.guid: i for i, s in enumerate(project.sources)}
    by_name: dict[str, list[int]] = defaultdict(list)
    coded: dict[str, set[int]] = defaultdict(set)  # by the GUIDs and names of case codes
    for i, s in enumerate(project.sources):
        by_name[name_key(s.name)].append(i)
        for g in (g for sel in s.selections for g in sel.codes if codes.is_case_code(g)):
            coded[name_key(project.codes[g].name)].add(i)
            coded[g].add(i)
    out: list[Draft] = []
    claimed: dict[int, str] = {}
    names: Counter[str] = Counter()
    for c in project.cases:  # its sources: those it refers to and its code codes, or of its name
        linked = [index[r] for r in c.sources if r in index]
        name = c.name or (project.sources[linked[0]].name if len(linked) == 1 else "")
        if not name:
            log.add(f"Case {c.guid} has no name and no single source", line=c.line)
            continue
        linked += sorted(coded.get(c.guid, set()) | coded.get(name_key(name), set()))
        linked = list(dict.fromkeys(linked or by_name.get(name_key(name), [])))
        names[name_key(name)] += 1
        for i in linked:
            if claimed.setdefault(i, name) != name:
                s = project.sources[i]
                message = f"{s.describe()} belongs to two cases, {claimed[i]!r} and {name!r}"
                log.add(message, line=s.line)
        out.append(Draft(name, c, linked, c.line))
    for name, n in names.items():
        if n > 1:
            log.add(f"{n} cases are named {name!r}: case names must be unique")
    ignored = []
    for i, s in enumerate(project.sources):  # a source with the study's codes and no case
        if i in claimed:
            continue
        if not codes.carried(s):
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
    """Give each case its notes: those coded with the study's codes, or named by the id of one
    of the study's observations ``passage_less``, tied to the case whose sources refer to them
    or whose name ends theirs."""
    notes = {
        g: n
        for g, n in project.notes.items()
        if codes.carried(n) or note_stem(n.name) in passage_less
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
            if found is not None:
                owner[g] = by_name[found]
            elif codes.carried(note):  # (not when named like an observation of no case here)
                log.add(
                    f"{note.describe()} carries the study's codes but belongs to no case: refer "
                    "to it (NoteRef) from its case's source, or end its name with '(<case name>)'",
                    line=note.line,
                )
        if g in owner:
            tied[owner[g]].append(note)
    for d, draft in enumerate(cases):
        draft.notes = tuple(tied.get(d, ()))
