"""Import a REFI-QDA project (``.qdpx``) into a case set (``crosscase import-qdpx``).

The way back from a QDA tool: the study is exported (:mod:`crosscase.qda.export`), opened in NVivo,
ATLAS.ti, MAXQDA or QualCoder, a case is added and coded there, the tool exports REFI-QDA, and
this module turns that project into the compendium's own files (written with
:mod:`crosscase.casefiles`):

- a source whose passages carry the study's codes is a case's text; its case is the ``Case``
  element that refers to it (``SourceRef``), codes it with a code of its own (the case-code
  convention of NVivo and QualCoder), or has its name;
- a passage coded with a dimension is part of that dimension's narrative;
- a passage coded with a second-order theme (a code under a dimension), or carrying a memo
  (``Description``, or a note it refers to), is a first-order observation: the passage is its
  evidence, the memo its text (the passage itself when there is no memo), the themes its themes.
  One observation may arrive as several selections over the same span (tools keep one code a
  selection): they are one observation. An observation's passage outside every narrative passage
  joins the narrative of its dimension;
- a note coded with the study's codes, tied to a case (a ``NoteRef`` inside the case's source,
  or a name ending in ``(<case name>)``), is an observation that rests on no passage;
- a code under a dimension that the study does not know is a new candidate theme;
- the case's variables are its protocol (by field label or id) and its number
  (:data:`crosscase.qda.export.NUMBER_VARIABLE`, Integer or Float).

Codes, cases, sources and variables are matched by name and hierarchy, never by GUID (tools
regenerate GUIDs on every export). The file is read defensively: the zip's member count and
sizes are bounded, the XML is parsed without DTDs, entities or network access and validated
against the official schema, file names come only from the archive's own ``sources/`` folder,
and case ids (file names) are safe slugs, so that nothing in the file chooses a path outside
the case set. Every problem is collected and reported at once; nothing is written when there is
one.
"""

from __future__ import annotations

import re
import sys
import tempfile
import unicodedata
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from .casefiles import case_text, observations_text, themes_text
from .casesets import find_case_files
from .checks import ThemeIndex
from .model import Case, Framework, Observation, Theme
from .outputs import atomic_write
from .paths import Layout
from .problems import Problem, StudyDataError
from .qda.errors import QdpxError, fail
from .qda.export import NUMBER_VARIABLE
from .qda.project import CaseItem, QdaProject, Selection, TextItem
from .reading import normalise_space
from .study import Study, load_study

_OBSERVATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def key(name: str) -> str:
    """How names are compared: white space collapsed, case folded."""
    return normalise_space(name).casefold()


def slug(text: str, limit: int = 80) -> str:
    """A safe identifier from a name: ASCII lowercase letters, digits and single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return out[:limit].rstrip("-")


# -----------------------------------------------------------------------------------------------
# From the project to cases


Role = Literal["dimension", "theme", "new-theme", "case", "misplaced", "other"]


@dataclass(frozen=True)
class CodeRole:
    """What a code of the project is to the study."""

    role: Role
    ref: str = ""  # dimension id, theme id, new theme's key, or why it is misplaced


@dataclass(frozen=True)
class ImportedCase:
    """A case as the project holds it, and how it compares with the study's case of that name."""

    case: Case
    observations: tuple[Observation, ...]
    sources: tuple[str, ...]
    known: Case | None
    differences: tuple[str, ...]
    memo_less: int  # observations whose text is their passage (no memo)

    @property
    def changed(self) -> bool:
        return self.known is not None and bool(self.differences)


@dataclass(frozen=True)
class Imported:
    """A project mapped onto the study: its cases, the new candidate themes they use, and what
    each kind of element of the file became."""

    project: QdaProject
    cases: tuple[ImportedCase, ...]
    new_themes: tuple[Theme, ...]
    roles: Mapping[str, CodeRole]
    narrative_passages: int
    case_links: int  # selections coded with a case's code only
    ignored_selections: int  # selections of a case's text with none of the study's codes
    ignored_sources: tuple[str, ...]
    protocol_values: int
    ignored_variables: tuple[str, ...]
    note_observations: int
    ignored_notes: int
    numbered_by_import: tuple[str, ...] = ()  # case ids given the next free number

    @property
    def new(self) -> tuple[ImportedCase, ...]:
        return tuple(c for c in self.cases if c.known is None)

    @property
    def changed(self) -> tuple[ImportedCase, ...]:
        return tuple(c for c in self.cases if c.changed)

    @property
    def unchanged(self) -> tuple[ImportedCase, ...]:
        return tuple(c for c in self.cases if c.known is not None and not c.differences)


def classify_codes(
    project: QdaProject, framework: Framework, themes: ThemeIndex
) -> dict[str, CodeRole]:
    """Each code's role, by name and place in the hierarchy: a dimension (label, alias or id), a
    known theme (label or id; under its own dimension when under one), a new candidate theme (an
    unknown code directly under a dimension), a case's code (the GUID or name of a case), or
    other."""
    dims: dict[str, str] = {}
    for d in framework.dimensions:
        for name in (d.id, d.label, *d.aliases):
            dims.setdefault(key(name), d.id)
    case_guids = {c.guid for c in project.cases}
    case_names = {key(c.name) for c in project.cases if c.name}
    roles: dict[str, CodeRole] = {}
    for code in project.codes.values():  # parents before their children
        k = key(code.name)
        parent = roles.get(code.parent or "")
        theme = themes.resolve(code.name)
        if k in dims:
            roles[code.guid] = CodeRole("dimension", dims[k])
        elif parent is not None and parent.role == "dimension":
            if theme is None:
                roles[code.guid] = CodeRole("new-theme", f"{parent.ref}\n{k}")
            elif theme.dimension == parent.ref:
                roles[code.guid] = CodeRole("theme", theme.id)
            else:
                roles[code.guid] = CodeRole(
                    "misplaced",
                    f"code {code.name!r} is theme {theme.id!r} of dimension {theme.dimension!r} "
                    f"but sits under dimension {parent.ref!r}",
                )
        elif code.guid in case_guids or k in case_names:
            roles[code.guid] = CodeRole("case")
        elif theme is not None:
            roles[code.guid] = CodeRole("theme", theme.id)
        else:
            roles[code.guid] = CodeRole("other")
    return roles


@dataclass
class _Group:
    """The selections of one span of one text (tools keep one code a selection)."""

    item: int
    start: int
    end: int
    selections: list[Selection] = field(default_factory=list)


@dataclass
class _Draft:
    """One case being assembled."""

    name: str
    element: CaseItem | None
    sources: list[int]
    line: int | None


class _Builder:
    def __init__(
        self,
        project: QdaProject,
        study: Study,
        extra_themes: Sequence[Theme],
        display: str,
        origin_note: str,
    ) -> None:
        self.project = project
        self.study = study
        self.display = f"{display}:{project.document}"  # lines are the project document's
        self.origin_note = origin_note
        self.problems: list[Problem] = []
        self.themes = ThemeIndex([*study.themes, *extra_themes])
        self.known_theme_ids = set(self.themes.by_id)
        self.roles = classify_codes(project, study.framework, self.themes)
        self.new_theme_ids: dict[str, Theme] = {}  # new theme key -> theme
        self.other_selections: Counter[str] = Counter()
        self.labels = study.dimension_labels

    def problem(self, message: str, case: str | None = None, line: int | None = None) -> None:
        self.problems.append(Problem(self.display, case, None, message, line))

    # -- codes ----------------------------------------------------------------------------------

    def study_codes(self, codes: Iterable[str]) -> list[str]:
        return [
            c
            for c in codes
            if self.roles[c].role in ("dimension", "theme", "new-theme", "misplaced")
        ]

    def new_theme(self, ref: str) -> Theme:
        if ref not in self.new_theme_ids:
            dimension, _ = ref.split("\n", 1)
            label = next(
                normalise_space(c.name)
                for g, c in self.project.codes.items()
                if self.roles[g].ref == ref
            )
            base = slug(label) or "theme"
            ident, n = base, 1
            taken = self.known_theme_ids | {t.id for t in self.new_theme_ids.values()}
            while ident in taken:
                n += 1
                ident = f"{base}-{n}"
            self.new_theme_ids[ref] = Theme(id=ident, dimension=dimension, label=label)
        return self.new_theme_ids[ref]

    def meaning(
        self, codes: Iterable[str], what: str = "", case: str | None = None, line: int | None = None
    ) -> tuple[set[str], list[str], bool]:
        """The dimensions and themes (ids) of some codes; reports codes that are neither (when
        told ``what`` holds them)."""
        dims: set[str] = set()
        themes: list[str] = []
        ok = True
        for c in codes:
            role = self.roles[c]
            if role.role == "dimension":
                dims.add(role.ref)
            elif role.role == "theme":
                themes.append(role.ref)
            elif role.role == "new-theme":
                themes.append(self.new_theme(role.ref).id)
            elif role.role == "misplaced":
                if what:
                    self.problem(f"{what}: {role.ref}", case, line)
                ok = False
            elif role.role == "other" and what:
                code = self.project.codes[c]
                self.problem(
                    f"{what}: code {code.name!r} is neither a dimension nor a theme (a code "
                    "directly under a dimension); known dimensions: "
                    + ", ".join(self.labels.values()),
                    case,
                    line,
                )
                ok = False
        return dims, list(dict.fromkeys(themes)), ok

    def theme_dimension(self, theme_id: str) -> str:
        theme = self.themes.by_id.get(theme_id) or next(
            t for t in self.new_theme_ids.values() if t.id == theme_id
        )
        return theme.dimension

    # -- cases ----------------------------------------------------------------------------------

    def drafts(self) -> tuple[list[_Draft], list[str]]:
        """Which sources make which case."""
        p = self.project
        index = {s.guid: i for i, s in enumerate(p.sources)}
        by_name: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(p.sources):
            by_name[key(s.name)].append(i)
        coded_by_case: dict[str, set[int]] = defaultdict(set)  # case key -> sources it codes
        for i, s in enumerate(p.sources):
            for sel in s.selections:
                for g in sel.codes:
                    if self.roles[g].role == "case":
                        coded_by_case[key(p.codes[g].name)].add(i)
                        coded_by_case[g].add(i)
        drafts: list[_Draft] = []
        claimed: dict[int, str] = {}
        names: Counter[str] = Counter()
        for c in p.cases:
            linked = [index[r] for r in c.sources if r in index]
            name = c.name or (p.sources[linked[0]].name if len(linked) == 1 else "")
            if not name:
                self.problem(f"Case {c.guid} has no name and no single source", line=c.line)
                continue
            names[key(name)] += 1
            linked += sorted(coded_by_case.get(c.guid, set()) | coded_by_case.get(key(name), set()))
            if not linked:
                linked = by_name.get(key(name), [])
            linked = list(dict.fromkeys(linked))
            for i in linked:
                if i in claimed and claimed[i] != name:
                    self.problem(
                        f"{p.sources[i].describe()} belongs to two cases, {claimed[i]!r} and "
                        f"{name!r}",
                        line=p.sources[i].line,
                    )
                claimed[i] = name
            drafts.append(_Draft(name, c, linked, c.line))
        for name, n in names.items():
            if n > 1:
                self.problem(f"{n} cases are named {name!r}: case names must be unique")
        ignored = []
        for i, s in enumerate(p.sources):
            if i in claimed:
                continue
            if any(self.study_codes(sel.codes) for sel in s.selections):
                if key(s.name) in names:  # a case of that name exists, linked elsewhere
                    self.problem(
                        f"{s.describe()} carries the study's codes but its case {s.name!r} is "
                        "linked to other sources",
                        line=s.line,
                    )
                    continue
                drafts.append(_Draft(s.name, None, [i], s.line))
            else:
                ignored.append(s.name)
        return drafts, ignored

    def observation_notes(self) -> dict[str, TextItem]:
        return {
            g: n
            for g, n in self.project.notes.items()
            if any(self.study_codes(sel.codes) for sel in n.selections)
        }

    def build(self) -> Imported:
        p = self.project
        drafts, ignored_sources = self.drafts()
        obs_notes = self.observation_notes()
        note_case: dict[str, int] = {}
        for d, draft in enumerate(drafts):
            for i in draft.sources:
                s = p.sources[i]
                for g in (*s.notes, *(n for sel in s.selections for n in sel.notes)):
                    if g in obs_notes:
                        note_case.setdefault(g, d)
        by_case_name = {key(d.name): n for n, d in enumerate(drafts)}
        for g, note in obs_notes.items():
            if g not in note_case:
                m = re.search(r"\(([^()]*)\)\s*$", note.name)
                if m and key(m.group(1)) in by_case_name:
                    note_case[g] = by_case_name[key(m.group(1))]
                else:
                    self.problem(
                        f"{note.describe()} carries the study's codes but belongs to no case: "
                        "refer to it (NoteRef) from its case's source, or end its name with "
                        "'(<case name>)'",
                        line=note.line,
                    )
        notes_of: dict[int, list[TextItem]] = defaultdict(list)
        for g, note in obs_notes.items():
            if g in note_case:
                notes_of[note_case[g]].append(note)
        study_by_name = {key(c.name): c for c in self.study.cases}
        used_ids = {co.observation.id for co in self.study.observations}
        cases: list[ImportedCase] = []
        passages = 0
        protocol_values = 0
        ignored_vars: set[str] = set()
        plans = []
        for d, draft in enumerate(drafts):
            known = study_by_name.get(key(draft.name))
            label = known.id if known else draft.name
            notes = notes_of.get(d, [])
            built = self.case_content(draft, notes, label)
            if built is None:
                continue
            narratives, obs, n_passages, memo_less = built
            passages += n_passages
            protocol, number, ignored = self.protocol(draft, label)
            protocol_values += len(protocol)
            ignored_vars |= ignored
            plans.append((draft, known, narratives, obs, protocol, number, memo_less))
        owner = {c.number: c.id for c in self.study.cases}  # number -> the case that has it
        for draft, known, _, _, _, number, _ in plans:
            mine = known.id if known else draft.name
            if number is not None and owner.setdefault(number, mine) != mine:
                self.problem(
                    f"case {draft.name!r}: number {number} is already case {owner[number]!r}",
                    line=draft.line,
                )
        next_number = max(owner, default=0) + 1
        taken_ids = {c.id for c in self.study.cases}
        numbered: list[str] = []
        for draft, known, narratives, obs, protocol, number, memo_less in plans:
            if known is not None:
                ident = known.id
                number = number if number is not None else known.number
            else:
                base = slug(draft.name)
                ident, n = base or "case", 1
                while ident in taken_ids:
                    n += 1
                    ident = f"{base or 'case'}-{n}"
                if number is None:
                    while next_number in owner:
                        next_number += 1
                    number = next_number
                    owner[number] = ident
                    numbered.append(ident)
            taken_ids.add(ident)
            try:
                case = Case(
                    id=ident,
                    number=number,
                    name=draft.name,
                    protocol=protocol,
                    narratives=narratives,
                )
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    self.problem(
                        f"case {draft.name!r}: {'.'.join(map(str, err['loc']))}: {err['msg']}",
                        line=draft.line,
                    )
                continue
            observations = self.observations(case, obs, known, used_ids)
            differences = self.compare(case, observations, known) if known else ()
            cases.append(
                ImportedCase(
                    case,
                    tuple(observations),
                    tuple(p.sources[i].name for i in draft.sources),
                    known,
                    tuple(differences),
                    memo_less,
                )
            )
        if self.problems:
            raise QdpxError(self.display.rsplit(":", 1)[0], self.problems)
        used = {t for c in cases for o in c.observations for t in o.themes}
        new_themes = tuple(t for t in self.new_theme_ids.values() if t.id in used)
        return Imported(
            project=p,
            cases=tuple(cases),
            new_themes=new_themes,
            roles=self.roles,
            narrative_passages=passages,
            case_links=self.other_selections["case"],
            ignored_selections=self.other_selections["none"],
            ignored_sources=tuple(ignored_sources),
            protocol_values=protocol_values,
            ignored_variables=tuple(sorted(ignored_vars)),
            note_observations=len(note_case),
            ignored_notes=len(p.notes) - len(note_case),
            numbered_by_import=tuple(numbered),
        )

    def case_content(
        self, draft: _Draft, notes: Sequence[TextItem], label: str
    ) -> tuple[dict[str, str], list[dict[str, Any]], int, int] | None:
        """Narratives and raw observations of a case, from its sources and notes."""
        p = self.project
        ok = True
        groups: dict[tuple[int, int, int], _Group] = {}
        for i in draft.sources:
            for sel in p.sources[i].selections:
                g = groups.setdefault((i, sel.start, sel.end), _Group(i, sel.start, sel.end))
                g.selections.append(sel)
        narrative: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        raw: list[dict[str, Any]] = []
        memo_less = 0
        for (i, start, end), g in sorted(groups.items()):
            line = g.selections[0].line
            what = f"{p.sources[i].describe()}, selection {start}-{end}"
            _, _, good = self.meaning((c for s in g.selections for c in s.codes), what, label, line)
            ok &= good
            passage = normalise_space(p.sources[i].text[start:end])
            for sel in g.selections:
                if not self.study_codes(sel.codes):  # a case's link to its text, or not ours
                    self.other_selections[
                        "case" if any(self.roles[c].role == "case" for c in sel.codes) else "none"
                    ] += 1
            for dims, themes, memo in self.span_meanings(g.selections):
                if not themes and not memo:
                    for dim in dims:
                        narrative[dim].append((i, start, end))
                    continue
                dimension = self.observation_dimension(dims, themes, what, label, line)
                if dimension is None:
                    ok = False
                    continue
                memo_less += not memo
                raw.append(
                    {
                        "names": [s.name for s in g.selections],
                        "dimension": dimension,
                        "text": memo or passage,
                        "themes": themes,
                        "evidence": passage,
                        "span": (i, start, end),
                        "line": line,
                    }
                )
        for note in notes:
            codes = [c for sel in note.selections for c in sel.codes]
            what = note.describe()
            dims, themes, good = self.meaning(codes, what, label, note.line)
            ok &= good
            dimension = self.observation_dimension(dims, themes, what, label, note.line)
            text = normalise_space(note.text)
            if not text:
                self.problem(f"{what}: the note has no text", label, note.line)
                ok = False
            if dimension is None or not text:
                ok = False
                continue
            stem = re.sub(r"\s*\([^()]*\)\s*$", "", note.name)
            raw.append(
                {
                    "names": [*(s.name for s in note.selections), stem],
                    "dimension": dimension,
                    "text": text,
                    "themes": themes,
                    "evidence": None,
                    "span": None,
                    "line": note.line,
                }
            )
        # An observation's passage outside every narrative passage joins its dimension's narrative
        covered = _merge(x for spans in narrative.values() for x in spans)
        for o in raw:
            if o["span"] is not None and not _inside(covered, o["span"]):
                narrative[o["dimension"]].append(o["span"])
        narratives: dict[str, str] = {}
        for d in self.study.framework.dimensions:
            spans = _merge(narrative.get(d.id, []))
            if not spans:
                self.problem(
                    f"case {draft.name!r} has no passage coded with dimension {d.label!r}: every "
                    "dimension needs a narrative"
                    + ("" if any(narrative.values()) else " (the case has no text coded at all)"),
                    label,
                    draft.line,
                )
                ok = False
                continue
            narratives[d.id] = normalise_space(
                " ".join(p.sources[i].text[a:b] for i, a, b in spans)
            )
        if not ok:
            return None
        return narratives, raw, sum(len(v) for v in narrative.values()), memo_less

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
                and not any(self.study_codes(s.codes) for s in note.selections)
            ):
                return normalise_space(note.text)
        return ""

    def dimensions_of(self, codes: Iterable[str]) -> set[str]:
        out = set()
        for c in codes:
            role = self.roles[c]
            if role.role == "dimension":
                out.add(role.ref)
            elif role.role == "theme":
                out.add(self.theme_dimension(role.ref))
            elif role.role == "new-theme":
                out.add(role.ref.split("\n", 1)[0])
        return out

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
        own = {m: self.dimensions_of(codes) for m, codes in memos.items()}
        left: dict[str, list[str]] = defaultdict(list)
        for code in pool:
            for dim in self.dimensions_of([code]):
                targets = [m for m, d in own.items() if dim in d] or [
                    m for m, d in own.items() if not d
                ][:1]
                for m in targets:
                    memos[m].append(code)
                if not targets:
                    left[dim].append(code)
        out = []
        for memo, codes in memos.items():
            dims, themes, _ = self.meaning(codes)
            if dims or themes:
                out.append((dims, themes, memo))
        for codes in left.values():
            dims, themes, _ = self.meaning(codes)
            out.append((dims, themes, ""))
        return out

    def observation_dimension(
        self, dims: set[str], themes: list[str], what: str, case: str, line: int | None
    ) -> str | None:
        of_themes = {self.theme_dimension(t) for t in themes}
        together = of_themes | dims
        if len(together) == 1:
            return next(iter(together))
        if not together:
            self.problem(f"{what}: a memo but no dimension or theme code", case, line)
        else:
            self.problem(
                f"{what}: coded with {', '.join(sorted(together))}: an observation belongs to one "
                "dimension and evidences themes of that dimension only",
                case,
                line,
            )
        return None

    def protocol(self, draft: _Draft, label: str) -> tuple[dict[str, str], int | None, set[str]]:
        fields = {}
        for f in self.study.framework.case_protocol:
            fields[key(f.label)] = f.id
            fields[key(f.id)] = f.id
        values: dict[str, str] = {}
        number: int | None = None
        ignored: set[str] = set()
        element = draft.element
        own = element.values if element else ()
        given = {var for var, _ in own}
        from_sources = [  # variables kept on the sources (MAXQDA), where the case has none
            (var, value)
            for i in draft.sources
            for var, value in self.project.sources[i].values
            if var not in given
        ]
        for var, value in [*own, *from_sources]:
            name, _ = self.project.variables[var]
            k = key(name)
            if _is_number(name):
                number = self.case_number(value, draft, label) if number is None else number
            elif k in fields:
                values.setdefault(fields[k], normalise_space(value))
            else:
                ignored.add(name)
        values = {f.id: values[f.id] for f in self.study.framework.case_protocol if f.id in values}
        for f in self.study.framework.case_protocol:
            if not values.get(f.id):
                self.problem(
                    f"case {draft.name!r} has no value for the variable {f.label!r} (protocol "
                    f"field {f.id})"
                    + ("" if element or from_sources else ": no case carries its variables"),
                    label,
                    draft.line,
                )
        return values, number, ignored

    def case_number(self, value: str, draft: _Draft, label: str) -> int | None:
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not number.is_integer() or number < 1:
            self.problem(
                f"case {draft.name!r}: {NUMBER_VARIABLE} {value!r} is not a whole number of 1 or "
                "more",
                label,
                draft.line,
            )
            return None
        return int(number)

    def observations(
        self,
        case: Case,
        raw: list[dict[str, Any]],
        known: Case | None,
        used_ids: set[str],
    ) -> list[Observation]:
        known_obs = [
            co.observation for co in self.study.observations if known and co.case == known.id
        ]
        by_id = {o.id: o for o in known_obs}
        by_content = {
            (o.dimension, normalise_space(o.evidence) if o.evidence else key(o.text)): o
            for o in known_obs
        }
        out = []
        mine: set[str] = set()

        def free(ident: str) -> bool:  # the case's own ids in the study are free for it
            return ident not in mine and (ident in by_id or ident not in used_ids)

        for o in raw:
            evidence = o["evidence"]
            names = o["names"]
            ident = next(
                (
                    n
                    for n in names
                    if _OBSERVATION_ID.fullmatch(n)
                    and len(n) <= 100
                    and not _is_passage(n, evidence or o["text"])
                    and free(n)
                ),
                None,
            )
            match = by_id.get(ident or "") or by_content.get(
                (o["dimension"], evidence if evidence else key(o["text"]))
            )
            if ident is None and match is not None and free(match.id):
                ident = match.id
            if ident is None:
                k = 1
                while not free(f"c{case.number}-{k}"):
                    k += 1
                ident = f"c{case.number}-{k}"
            mine.add(ident)
            source = match.source if match is not None and match.id == ident else self.origin_note
            note = match.note if match is not None and match.id == ident else None
            try:
                out.append(
                    Observation(
                        id=ident,
                        dimension=o["dimension"],
                        text=o["text"],
                        themes=o["themes"],
                        evidence=evidence,
                        source=source,
                        note=note,
                    )
                )
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    self.problem(
                        f"observation {ident}: {'.'.join(map(str, err['loc']))}: {err['msg']}",
                        case.id,
                        o["line"],
                    )
        used_ids |= mine
        # In the order of the study's files: by dimension, then as the study's case has them
        # (an observation the study lacks after those), then by place in the text
        dims = {d.id: n for n, d in enumerate(self.study.framework.dimensions)}
        order = {o.id: n for n, o in enumerate(known_obs)}
        position = {o.id: n for n, o in enumerate(out)}
        return sorted(
            out, key=lambda o: (dims[o.dimension], order.get(o.id, len(order)), position[o.id])
        )

    def compare(self, case: Case, observations: Sequence[Observation], known: Case) -> list[str]:
        out = []
        if case.number != known.number:
            out.append(f"number {known.number} -> {case.number}")
        for f in self.study.framework.case_protocol:
            if case.protocol.get(f.id) != known.protocol.get(f.id):
                out.append(f"protocol {f.id} differs")
        for d in self.study.framework.dimensions:
            if case.narratives.get(d.id) != known.narratives.get(d.id):
                out.append(f"narrative {d.id} differs")
        theirs = {
            co.observation.id: co.observation
            for co in self.study.observations
            if co.case == known.id
        }
        ours = {o.id: o for o in observations}
        for ident in sorted(theirs.keys() - ours.keys()):
            out.append(f"observation {ident} is not in the project")
        for ident in sorted(ours.keys() - theirs.keys()):
            o = ours[ident]
            out.append(f"observation {ident} is new ({o.dimension}: {o.text!r})")
        for ident in sorted(ours.keys() & theirs.keys()):
            a, b = theirs[ident], ours[ident]
            for name in ("dimension", "text", "evidence"):
                va, vb = getattr(a, name), getattr(b, name)
                if (normalise_space(va) if va else va) != (normalise_space(vb) if vb else vb):
                    out.append(f"observation {ident}: {name} {va!r} -> {vb!r}")
            if sorted(a.themes) != sorted(b.themes):
                out.append(f"observation {ident}: themes {sorted(a.themes)} -> {sorted(b.themes)}")
        return out


def _is_number(variable: str) -> bool:
    return key(variable) in (key(NUMBER_VARIABLE), "number")


def _is_passage(name: str, passage: str) -> bool:
    """Whether a selection's name is (the start of) its selected text, as tools name them."""
    n = key(name.rstrip(".… "))
    return bool(n) and key(passage).startswith(n)


def _merge(spans: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Overlapping or touching spans of the same text merged, in order."""
    out: list[tuple[int, int, int]] = []
    for i, a, b in sorted(spans):
        if out and out[-1][0] == i and a <= out[-1][2]:
            out[-1] = (i, out[-1][1], max(out[-1][2], b))
        else:
            out.append((i, a, b))
    return out


def _inside(merged: list[tuple[int, int, int]], span: tuple[int, int, int]) -> bool:
    at = bisect_right(merged, (span[0], span[1], sys.maxsize)) - 1
    return (
        at >= 0
        and merged[at][0] == span[0]
        and merged[at][1] <= span[1]
        and span[2] <= merged[at][2]
    )


def interpret(
    project: QdaProject,
    study: Study,
    extra_themes: Sequence[Theme] = (),
    display: str = "project",
    origin_note: str = "coded in a QDA tool",
) -> Imported:
    """Map a project onto the study (raise :class:`QdpxError` with every problem)."""
    return _Builder(project, study, extra_themes, display, origin_note).build()


# -----------------------------------------------------------------------------------------------
# Writing the case set


@dataclass(frozen=True)
class Written:
    """The files of an import: written, already identical, and how to run the case set."""

    written: tuple[Path, ...]
    unchanged: tuple[Path, ...]
    cases_option: tuple[str, ...]  # the CASES of a run on the study plus the case set


def _header(kind: str, source: str) -> str:
    return (
        f"{kind} imported from the REFI-QDA project {source} by `crosscase import-qdpx`.\n"
        "Narratives are the passages coded with each dimension; each first-order observation is\n"
        "a passage coded with a theme (or carrying a memo), its text the memo. Fields: see the\n"
        "data dictionary (data/README.md). Code in the QDA tool and import again to change it."
    )


def planned_files(
    imported: Imported, into: Path, existing_themes: Sequence[Theme], source: str, cases: str
) -> dict[Path, str]:
    """Path -> content of every file the import writes (``cases``: new, changed or all)."""
    chosen = [
        c
        for c in imported.cases
        if c.known is None or cases == "all" or (cases == "changed" and c.changed)
    ]
    files: dict[Path, str] = {}
    for c in chosen:
        case = c.case
        files[into / "cases" / f"{case.id}.yaml"] = case_text(
            case.id,
            case.number,
            case.name,
            case.protocol,
            case.narratives,
            header=_header(f"Case {case.number} ({case.name})", source),
        )
        obs = [o.model_dump(exclude_defaults=True) for o in c.observations]
        for o, model in zip(obs, c.observations, strict=True):
            o["themes"] = list(model.themes)  # written even when empty, as the study's files do
        files[into / "observations" / f"{case.id}.yaml"] = observations_text(
            case.id,
            [
                {
                    k: o[k]
                    for k in ("id", "dimension", "text", "themes", "evidence", "source", "note")
                    if k in o
                }
                for o in obs
            ],
            header=_header(f"First-order observations of case {case.number} ({case.name})", source),
        )
    used = {t for c in chosen for o in c.observations for t in o.themes}
    new = [t for t in imported.new_themes if t.id in used]
    if new:
        themes = [
            *existing_themes,
            *(t for t in new if t.id not in {e.id for e in existing_themes}),
        ]
        files[into / "themes.yaml"] = themes_text(
            [{"id": t.id, "dimension": t.dimension, "label": t.label} for t in themes],
            _header("New candidate second-order themes", source),
        )
    return files


def existing_themes(layout: Layout, into: Path) -> list[Theme]:
    """The themes a case set already adds (``<into>/themes.yaml``)."""
    path = into / "themes.yaml"
    if not path.is_file():
        return []
    from .reading import Reader

    reader = Reader(layout)
    parsed = reader.items(path, "themes", Theme)
    if reader.problems or parsed is None:
        raise StudyDataError(reader.problems)
    return [t for _, t in parsed.items]


def write_case_set(
    layout: Layout,
    imported: Imported,
    into: Path,
    source: str,
    *,
    cases: str = "new",
    overwrite: bool = False,
    themes: Sequence[Theme] = (),
) -> Written:
    """Write the imported cases into the case set ``into`` after checking the result as a run
    would load it (the study's cases not replaced, plus the set's); nothing is written when a
    check fails or a file would be overwritten without ``overwrite``."""
    display = layout.relative(into)
    if into.resolve().is_relative_to(layout.raw.resolve()):
        fail(
            display,
            f"is inside the study's own data ({layout.relative(layout.raw)}): import into "
            "a case set folder of your own, e.g. data/extensions/<set>",
        )
    files = planned_files(imported, into, themes, source, cases)
    clashes = [
        Problem(
            layout.relative(p),
            None,
            None,
            "exists with other content: not overwritten (use --overwrite)",
        )
        for p, text in files.items()
        if p.is_file() and p.read_text(encoding="utf-8") != text and not overwrite
    ]
    if clashes:
        raise QdpxError(display, clashes)
    with tempfile.TemporaryDirectory(prefix="crosscase-import-") as tmp:
        stage = Path(tmp).resolve() / "set"
        for sub in ("cases", "observations"):
            (stage / sub).mkdir(parents=True)
            if (into / sub).is_dir():
                for f in sorted((into / sub).glob("*.yaml")):
                    (stage / sub / f.name).write_bytes(f.read_bytes())
        if (into / "themes.yaml").is_file():
            (stage / "themes.yaml").write_bytes((into / "themes.yaml").read_bytes())
        for p, text in files.items():
            (stage / p.relative_to(into)).write_text(text, encoding="utf-8")
        set_ids = {
            f.stem for f in (stage / "cases").glob("*.yaml") if not f.name.startswith(("_", "."))
        }
        study_files, _ = find_case_files([layout.cases_dir])
        kept = [f for f in study_files if f.stem not in set_ids]
        try:
            if set_ids:
                load_study(layout, [*kept, stage / "cases"], require_theme_evidence=False)
        except StudyDataError as exc:
            prefix = (stage).as_posix()
            raise QdpxError(
                display,
                [
                    Problem(p.file.replace(prefix, display), p.case, p.field, p.message, p.line)
                    for p in exc.problems
                ],
            ) from None
    written, same = [], []
    for p, text in files.items():
        if p.is_file() and p.read_text(encoding="utf-8") == text:
            same.append(p)
        else:
            written.append(atomic_write(p, text))
    if len(kept) == len(study_files):
        option: tuple[str, ...] = (layout.relative(layout.cases_dir), f"{display}/cases")
    else:
        option = (*(layout.relative(f) for f in kept), f"{display}/cases")
    return Written(tuple(written), tuple(same), option)


# -----------------------------------------------------------------------------------------------
# The command's report


def _n(count: int, word: str) -> str:
    """``1 case``, ``2 cases``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def _also(count: int, text: str) -> str:
    return f", {count} {text}" if count else ""


def summary(imported: Imported) -> list[str]:
    """What each kind of element of the file became (counts in and out)."""
    p, cases = imported.project, imported.cases
    roles = Counter(r.role for r in imported.roles.values())
    located = sum(1 for c in cases for o in c.observations if o.evidence)
    unlocated = sum(1 for c in cases for o in c.observations if not o.evidence)
    memo_less = sum(c.memo_less for c in cases)
    numbers = sum(1 for c in p.cases for v, _ in c.values if _is_number(p.variables[v][0]))
    number_vars = sum(1 for name, _ in p.variables.values() if _is_number(name))
    fields = len(p.variables) - len(imported.ignored_variables) - number_vars
    rows = [
        (
            "sources",
            len(p.sources) + p.other_sources,
            f"the text of {_n(len(cases), 'case')}"
            + _also(len(imported.ignored_sources), "without the study's codes (ignored)")
            + _also(p.other_sources, "not text (ignored)"),
        ),
        (
            "codes",
            len(p.codes),
            f"{_n(roles['dimension'], 'dimension')}, {_n(roles['theme'], 'theme')}, "
            f"{_n(roles['new-theme'], 'new theme')} ({len(imported.new_themes)} used), "
            f"{_n(roles['case'], 'case code')}"
            + _also(roles["other"] + roles["misplaced"], "other (unused)"),
        ),
        (
            "cases",
            len(p.cases),
            f"{_n(len(cases), 'case')}: {len(imported.new)} new, {len(imported.unchanged)} as in "
            f"the study, {len(imported.changed)} changed",
        ),
        (
            "variables",
            len(p.variables),
            f"{_n(fields, 'protocol field')}, {_n(number_vars, 'case number')}"
            + _also(len(imported.ignored_variables), "other (ignored)"),
        ),
        (
            "variable values",
            p.variable_values,
            f"{_n(imported.protocol_values, 'protocol value')}, {_n(numbers, 'case number')}",
        ),
        (
            "coded selections",
            p.selections,
            f"{_n(imported.narrative_passages, 'narrative passage')}, "
            f"{_n(located, 'first-order observation')}"
            + (f" ({memo_less} with no memo: their text is the passage)" if memo_less else "")
            + _also(imported.case_links, "case links")
            + _also(imported.ignored_selections, "with none of the study's codes (ignored)")
            + f"; {_n(p.codings, 'coding')}",
        ),
        (
            "notes",
            len(p.notes),
            f"{_n(unlocated, 'first-order observation')} with no passage"
            + _also(imported.ignored_notes, "other (ignored)"),
        ),
        ("users", p.users, "not imported"),
        (
            "files",
            p.members,
            f"{p.members - len(p.extra_files)} read"
            + _also(len(p.extra_files), "unreferenced (ignored)"),
        ),
    ]
    width = max(len(r[0]) for r in rows)
    return [f"  {name:<{width}} {n:>5} -> {what}" for name, n, what in rows]
