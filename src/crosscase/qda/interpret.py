"""Map a REFI-QDA project onto the study (``crosscase import-qdpx``): which sources and notes
make which case, and the cases, their observations and the new candidate themes they use, as an
:class:`Imported` case set (written by :mod:`crosscase.qda.write`).

The way back from a QDA tool: the study is exported (:mod:`crosscase.qda.export`), opened in
NVivo, ATLAS.ti, MAXQDA or QualCoder, a case is added and coded there, the tool exports
REFI-QDA, and the project is read (:mod:`crosscase.qda.project`) and mapped here:

- a source whose passages carry the study's codes is a case's text; its case is the ``Case``
  element that refers to it (``SourceRef``), codes it with a code of its own (the case-code
  convention of NVivo and QualCoder), or has its name;
- its passages and notes are the case's narratives and first-order observations
  (:mod:`crosscase.qda.content`); a note coded with the study's codes is tied to its case by a
  ``NoteRef`` inside the case's source, or by a name ending in ``(<case name>)``;
- a code under a dimension that the study does not know is a new candidate theme
  (:mod:`crosscase.qda.codes`);
- the case's variables are its protocol (by field label or id) and its number
  (:data:`crosscase.qda.export.NUMBER_VARIABLE`, Integer or Float).

Codes, cases, sources and variables are matched by name and hierarchy, never by GUID (tools
regenerate GUIDs on every export), and case ids (file names) are safe slugs, so that nothing in
the file chooses a path outside the case set. Every problem is collected and reported at once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from ..model import Case, Observation, Study, Theme
from ..study.passages import normalise_space
from .codes import CodeMeanings, CodeRole
from .content import CaseContent, ContentReader
from .errors import ProblemLog
from .format import NUMBER_VARIABLE, is_number_variable, key, slug
from .observations import compare, observations
from .project import CaseItem, QdaProject, TextItem


@dataclass(frozen=True)
class ImportedCase:
    """A case as the project holds it, and how it compares with the study's case of that name."""

    case: Case
    observations: tuple[Observation, ...]
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
    #: The selections of the cases' sources by what each became (``narrative``,
    #: ``observation``, ``case``: a case's link to its text, ``none``: none of the study's codes)
    selections: Mapping[str, int]
    ignored_sources: tuple[str, ...]
    protocol_values: int
    ignored_variables: tuple[str, ...]
    note_observations: int
    ignored_notes: int

    @property
    def new(self) -> tuple[ImportedCase, ...]:
        return tuple(c for c in self.cases if c.known is None)

    @property
    def changed(self) -> tuple[ImportedCase, ...]:
        return tuple(c for c in self.cases if c.changed)

    @property
    def unchanged(self) -> tuple[ImportedCase, ...]:
        return tuple(c for c in self.cases if c.known is not None and not c.differences)


def interpret(
    project: QdaProject,
    study: Study,
    extra_themes: Sequence[Theme] = (),
    display: str = "project",
    origin_note: str = "coded in a QDA tool",
) -> Imported:
    """Map a project onto the study (raise :class:`~crosscase.qda.errors.QdpxError` with every
    problem)."""
    return _Builder(project, study, extra_themes, display, origin_note).build()


@dataclass
class _Draft:
    """One case being assembled."""

    name: str
    element: CaseItem | None
    sources: list[int]
    line: int | None


@dataclass(frozen=True)
class _Plan:
    """A case whose content was read: what its id and number are made from."""

    draft: _Draft
    known: Case | None  # the study's case of that name
    content: CaseContent
    protocol: dict[str, str]
    number: int | None
    ignored_variables: set[str]


class _SourceIndex:
    """The project's text sources by GUID, by name, and by the case codes coding them."""

    def __init__(self, project: QdaProject, codes: CodeMeanings) -> None:
        self.project = project
        self.index = {s.guid: i for i, s in enumerate(project.sources)}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(project.sources):
            self.by_name[key(s.name)].append(i)
        self.coded_by_case: dict[str, set[int]] = defaultdict(set)  # case key -> sources it codes
        for i, s in enumerate(project.sources):
            for sel in s.selections:
                for g in sel.codes:
                    if codes.is_case_code(g):
                        self.coded_by_case[key(project.codes[g].name)].add(i)
                        self.coded_by_case[g].add(i)

    def of_case(self, c: CaseItem) -> tuple[str, list[int]]:
        """A case's name (its own, or its one source's) and its sources: those it refers to and
        those its case code codes, or else those of its name."""
        linked = [self.index[r] for r in c.sources if r in self.index]
        name = c.name or (self.project.sources[linked[0]].name if len(linked) == 1 else "")
        codes = self.coded_by_case
        linked += sorted(codes.get(c.guid, set()) | codes.get(key(name), set()))
        if not linked:
            linked = self.by_name.get(key(name), [])
        return name, list(dict.fromkeys(linked))


class _Numbering:
    """Ids and numbers of the imported cases: a case of the study keeps its id (and its number
    unless the project gives one); a new case's id is a slug of its name not yet taken, its
    number the one the project gives or the next free one."""

    def __init__(self, study: Study) -> None:
        self.owner = {c.number: c.id for c in study.cases}  # number -> the case that has it
        self.taken = {c.id for c in study.cases}
        self.next_number = 1

    def claim(self, plans: Sequence[_Plan], log: ProblemLog) -> None:
        """The numbers the project gives, each to one case only."""
        for plan in plans:
            draft, number = plan.draft, plan.number
            mine = plan.known.id if plan.known else draft.name
            if number is not None and self.owner.setdefault(number, mine) != mine:
                log.add(
                    f"case {draft.name!r}: number {number} is already case {self.owner[number]!r}",
                    line=draft.line,
                )
        self.next_number = max(self.owner, default=0) + 1

    def assign(self, plan: _Plan) -> tuple[str, int]:
        """A case's id and number (after :meth:`claim`)."""
        known, number = plan.known, plan.number
        if known is not None:
            ident = known.id
            number = number if number is not None else known.number
        else:
            base = slug(plan.draft.name)
            ident, n = base or "case", 1
            while ident in self.taken:
                n += 1
                ident = f"{base or 'case'}-{n}"
            if number is None:
                while self.next_number in self.owner:
                    self.next_number += 1
                number = self.next_number
                self.owner[number] = ident
        self.taken.add(ident)
        return ident, number


class _Builder:
    """One project mapped onto the study, in steps (:meth:`build`): which sources and notes make
    which case, each case's content and variables, ids and numbers, the cases. Every problem
    goes to one log, raised at once."""

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
        self.origin_note = origin_note
        self.log = ProblemLog(f"{display}:{project.document}")  # lines are the project document's
        self.codes = CodeMeanings(project, study, extra_themes, self.log)
        self.reader = ContentReader(project, study.framework, self.codes, self.log)

    def build(self) -> Imported:
        drafts, ignored_sources = self.drafts()
        notes_of = self.notes_of(drafts)
        plans = self.plans(drafts, notes_of)
        numbering = _Numbering(self.study)
        numbering.claim(plans, self.log)
        cases = self.cases(plans, numbering)
        self.log.check()
        used = {t for c in cases for o in c.observations for t in o.themes}
        note_observations = sum(len(notes) for notes in notes_of.values())
        return Imported(
            project=self.project,
            cases=tuple(cases),
            new_themes=self.codes.used_new_themes(used),
            roles=self.codes.roles,
            selections=dict(self.reader.selections),
            ignored_sources=tuple(ignored_sources),
            protocol_values=sum(len(p.protocol) for p in plans),
            ignored_variables=tuple(sorted(set().union(*(p.ignored_variables for p in plans)))),
            note_observations=note_observations,
            ignored_notes=len(self.project.notes) - note_observations,
        )

    # -- which sources and notes make which case -------------------------------------------------

    def drafts(self) -> tuple[list[_Draft], list[str]]:
        """Which sources make which case; the names of the sources that make none."""
        p = self.project
        sources = _SourceIndex(p, self.codes)
        drafts: list[_Draft] = []
        claimed: dict[int, str] = {}
        names: Counter[str] = Counter()
        for c in p.cases:
            name, linked = sources.of_case(c)
            if not name:
                self.log.add(f"Case {c.guid} has no name and no single source", line=c.line)
                continue
            names[key(name)] += 1
            for i in linked:
                if i in claimed and claimed[i] != name:
                    self.log.add(
                        f"{p.sources[i].describe()} belongs to two cases, {claimed[i]!r} and "
                        f"{name!r}",
                        line=p.sources[i].line,
                    )
                claimed[i] = name
            drafts.append(_Draft(name, c, linked, c.line))
        for name, n in names.items():
            if n > 1:
                self.log.add(f"{n} cases are named {name!r}: case names must be unique")
        return drafts, self.caseless_sources(drafts, claimed, names)

    def caseless_sources(
        self, drafts: list[_Draft], claimed: dict[int, str], names: Counter[str]
    ) -> list[str]:
        """A source with the study's codes that no case claims is a case of its own (added to
        ``drafts``); the names of the others, which are ignored."""
        ignored = []
        for i, s in enumerate(self.project.sources):
            if i in claimed:
                continue
            if any(self.codes.study_codes(sel.codes) for sel in s.selections):
                if key(s.name) in names:  # a case of that name exists, linked elsewhere
                    self.log.add(
                        f"{s.describe()} carries the study's codes but its case {s.name!r} is "
                        "linked to other sources",
                        line=s.line,
                    )
                    continue
                drafts.append(_Draft(s.name, None, [i], s.line))
            else:
                ignored.append(s.name)
        return ignored

    def notes_of(self, drafts: Sequence[_Draft]) -> dict[int, list[TextItem]]:
        """The notes coded with the study's codes, by the draft of their case: the case whose
        sources refer to the note, or the case its name ends with."""
        p = self.project
        obs_notes = {
            g: n
            for g, n in p.notes.items()
            if any(self.codes.study_codes(sel.codes) for sel in n.selections)
        }
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
                # The case whose name, in parentheses, ends the note's name; a case name may hold
                # parentheses itself ("... therapy (CATBT)"), so it is matched whole, the longest.
                name = key(note.name)
                owner = max(
                    (k for k in by_case_name if name.endswith(f"({k})")), key=len, default=None
                )
                if owner is not None:
                    note_case[g] = by_case_name[owner]
                else:
                    self.log.add(
                        f"{note.describe()} carries the study's codes but belongs to no case: "
                        "refer to it (NoteRef) from its case's source, or end its name with "
                        "'(<case name>)'",
                        line=note.line,
                    )
        notes_of: dict[int, list[TextItem]] = defaultdict(list)
        for g, note in obs_notes.items():
            if g in note_case:
                notes_of[note_case[g]].append(note)
        return notes_of

    # -- the cases ---------------------------------------------------------------------------------

    def plans(self, drafts: Sequence[_Draft], notes_of: dict[int, list[TextItem]]) -> list[_Plan]:
        """Each case's content and variables (the cases whose content has no problem)."""
        study_by_name = {key(c.name): c for c in self.study.cases}
        plans = []
        for d, draft in enumerate(drafts):
            known = study_by_name.get(key(draft.name))
            label = known.id if known else draft.name
            notes = notes_of.get(d, [])
            content = self.reader.content(draft.name, draft.sources, notes, label, draft.line)
            if content is None:
                continue
            protocol, number, ignored = self.protocol(draft, label)
            plans.append(_Plan(draft, known, content, protocol, number, ignored))
        return plans

    def cases(self, plans: Sequence[_Plan], numbering: _Numbering) -> list[ImportedCase]:
        """The cases, with their ids, numbers and observations, compared with the study's."""
        used_ids = {co.observation.id for co in self.study.observations}
        cases: list[ImportedCase] = []
        for plan in plans:
            known = plan.known
            case = self.case(plan, *numbering.assign(plan))
            if case is None:
                continue
            obs = observations(
                self.study,
                case,
                plan.content.observations,
                known,
                used_ids,
                self.origin_note,
                self.log,
            )
            differences = compare(self.study, case, obs, known) if known else ()
            cases.append(
                ImportedCase(
                    case,
                    tuple(obs),
                    known,
                    tuple(differences),
                    plan.content.memo_less,
                )
            )
        return cases

    def case(self, plan: _Plan, ident: str, number: int) -> Case | None:
        draft = plan.draft
        try:
            return Case(
                id=ident,
                number=number,
                name=draft.name,
                protocol=plan.protocol,
                narratives=plan.content.narratives,
            )
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                self.log.add(
                    f"case {draft.name!r}: {'.'.join(map(str, err['loc']))}: {err['msg']}",
                    line=draft.line,
                )
            return None

    # -- the case's variables ----------------------------------------------------------------------

    def protocol(self, draft: _Draft, label: str) -> tuple[dict[str, str], int | None, set[str]]:
        """A case's protocol values, its number, and the variables that are neither (ignored):
        the case element's variables, and those kept on its sources (MAXQDA) that it lacks."""
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
            if is_number_variable(name):
                number = self.case_number(value, draft, label) if number is None else number
            elif k in fields:
                values.setdefault(fields[k], normalise_space(value))
            else:
                ignored.add(name)
        values = {f.id: values[f.id] for f in self.study.framework.case_protocol if f.id in values}
        for f in self.study.framework.case_protocol:
            if not values.get(f.id):
                self.log.add(
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
            self.log.add(
                f"case {draft.name!r}: {NUMBER_VARIABLE} {value!r} is not a whole number of 1 or "
                "more",
                label,
                draft.line,
            )
            return None
        return int(number)
