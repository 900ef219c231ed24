"""Map a REFI-QDA project onto the study (``crosscase import-qdpx``): which sources and notes
make which case, and the cases, their observations and the new candidate themes they use, as an
:class:`Imported` case set (written by :mod:`crosscase.qda.write`).

The way back from a QDA tool: the study is exported (:mod:`crosscase.qda.export`), opened in
NVivo, ATLAS.ti, MAXQDA or QualCoder, a case is added and coded there, the tool exports
REFI-QDA, and the project is read (:mod:`crosscase.qda.project`) and mapped here:

- its sources and notes make cases (:mod:`crosscase.qda.sources`), whose passages and notes are
  the cases' narratives and first-order observations (:mod:`crosscase.qda.content`), with ids
  (:mod:`crosscase.qda.observations`); a code under a dimension that the study does not know is
  a new candidate theme (:mod:`crosscase.qda.codes`);
- the case's variables are its protocol (by field label or id), its number
  (:data:`~crosscase.qda.format.NUMBER_VARIABLE`, Integer or Float) and its id
  (:data:`~crosscase.qda.format.ID_VARIABLE`);
- a case's id is the one its ``Case id`` variable gives, else the one its Description ends with
  (``Case 6 (my-case)``), as the export writes them; else the id of the study's case of its name;
  else one made from its name (``case-<number>`` for a name in a script with no ASCII spelling).

Codes, cases, sources and variables are matched by name and hierarchy, never by GUID (tools
regenerate GUIDs on every export), and case ids (file names) are safe slugs, so that nothing in
the file chooses a path outside the case set. Every problem is collected and reported at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from ..model import SLUG_PATTERN, Case, Observation, Study, Theme
from ..outputs import plural
from ..study.passages import normalise_space
from .codes import CodeMeanings, CodeRole
from .content import CaseContent, ContentReader
from .errors import ProblemLog, fail
from .format import (
    ID_VARIABLE,
    NUMBER_VARIABLE,
    case_mark,
    is_id_variable,
    is_number_variable,
    key,
    readable_slug,
)
from .observations import compare, observations
from .project import QdaProject
from .sources import Draft, drafts, name_key, tie_notes


@dataclass(frozen=True)
class ImportedCase:
    """A case as the project holds it, and how it differs from the study's case it is: in its
    own fields (the first ``own_differences``) and in its observations."""

    case: Case
    observations: tuple[Observation, ...]
    known: Case | None
    differences: tuple[str, ...]
    memo_less: int  # observations whose text is their passage (no memo)
    own_differences: int = 0  # how many of the differences are of the case's own fields
    known_observations: tuple[Observation, ...] = ()  # the study's case's

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
    codebook: str = "codebook.qdc",
) -> Imported:
    """Map a project onto the study (raise :class:`~crosscase.qda.errors.QdpxError` with every
    problem; ``codebook`` says where the study's codebook is, for a project coded with another
    one)."""
    log = ProblemLog(f"{display}:{project.document}")  # lines are the project document's
    codes = CodeMeanings(project, study, extra_themes, log)
    if codes.is_foreign():
        fail(
            display,
            f"none of the project's {plural(len(project.codes), 'code')} is a dimension or "
            f"second-order theme of the study: code with the study's codebook, {codebook}",
        )
    cases, ignored_sources = drafts(project, codes, log)
    passage_less = {co.observation.id for co in study.observations if co.span is None}
    tie_notes(project, cases, codes, passage_less, log)
    reader = ContentReader(project, study.framework, codes, log)
    plans = [p for d in cases if (p := _plan(d, study, reader, log)) is not None]
    built = _Cases(study, origin_note, log).build(plans)
    log.check()
    used = {t for c in built for o in c.observations for t in o.themes}
    note_observations = sum(p.content.from_notes for p in plans)
    return Imported(
        project=project,
        cases=tuple(built),
        new_themes=codes.used_new_themes(used),
        roles=codes.roles,
        selections=dict(reader.selections),
        ignored_sources=tuple(ignored_sources),
        protocol_values=sum(len(p.protocol) for p in plans),
        ignored_variables=tuple(sorted(set().union(*(p.ignored for p in plans)))),
        note_observations=note_observations,
        ignored_notes=len(project.notes) - note_observations,
    )


@dataclass
class _Plan:
    """A case whose content and variables were read: what its id and number are made from."""

    draft: Draft
    known: Case | None  # the study's case it is
    given: str | None  # the id the project gives it
    content: CaseContent = field(init=False)
    protocol: dict[str, str] = field(default_factory=dict)
    number: int | None = None
    ignored: set[str] = field(default_factory=set)  # variables neither protocol, number nor id
    variables: int = 0  # how many values the case's element and sources give


def _plan(draft: Draft, study: Study, reader: ContentReader, log: ProblemLog) -> _Plan | None:
    """A case's variables, identity and content (None when its content has a problem)."""
    plan = _Plan(draft, None, None)
    _read_variables(plan, reader.project, study, log)
    ident = plan.given or case_mark(draft.element.description if draft.element else "")
    by_id = {c.id: c for c in study.cases}
    by_name = {name_key(c.name): c for c in study.cases}
    plan.known = by_id.get(ident or "") or by_name.get(name_key(draft.name))
    plan.given = ident or (plan.known.id if plan.known else None)
    label = plan.given or draft.name
    for f in study.framework.case_protocol:
        if not plan.protocol.get(f.id):
            log.add(
                f"case {draft.name!r} has no value for the variable {f.label!r} (protocol "
                f"field {f.id})" + ("" if plan.variables else ": no case carries its variables"),
                label,
                draft.line,
            )
    known = {
        co.observation.id: co.observation
        for co in study.observations
        if plan.known and co.case == plan.known.id and co.span is None
    }
    content = reader.content(draft, known, label)
    if content is None:
        return None
    plan.content = content
    return plan


def _read_variables(plan: _Plan, project: QdaProject, study: Study, log: ProblemLog) -> None:
    """A case's protocol values, number, id and the variables that are none of these (ignored):
    the case element's variables, and those kept on its sources (MAXQDA) that it lacks."""
    draft, fields = plan.draft, {}
    for f in study.framework.case_protocol:
        fields[key(f.label)] = fields[key(f.id)] = f.id
    own = draft.element.values if draft.element else ()
    given = {var for var, _ in own}
    from_sources = [  # variables kept on the sources (MAXQDA), where the case has none
        (var, value)
        for i in draft.sources
        for var, value in project.sources[i].values
        if var not in given
    ]
    plan.variables = len(own) + len(from_sources)
    for var, value in [*own, *from_sources]:
        name = project.variables[var]
        if is_number_variable(name):
            plan.number = plan.number or _case_number(value, draft, log)
        elif is_id_variable(name):
            plan.given = plan.given or _case_id(value, draft, log)
        elif key(name) in fields:
            plan.protocol.setdefault(fields[key(name)], normalise_space(value))
        else:
            plan.ignored.add(name)
    order = [f.id for f in study.framework.case_protocol]
    plan.protocol = {f: plan.protocol[f] for f in order if f in plan.protocol}


def _case_number(value: str, draft: Draft, log: ProblemLog) -> int | None:
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number.is_integer() or number < 1:
        log.add(
            f"case {draft.name!r}: {NUMBER_VARIABLE} {value!r} is not a whole number of 1 or more",
            line=draft.line,
        )
        return None
    return int(number)


def _case_id(value: str, draft: Draft, log: ProblemLog) -> str | None:
    value = value.strip()
    if value and not (re.fullmatch(SLUG_PATTERN, value) and len(value) <= 100):
        log.add(
            f"case {draft.name!r}: {ID_VARIABLE} {value!r} is not an id (lowercase letters, "
            "digits and hyphens; leave it empty for a new case)",
            line=draft.line,
        )
        return None
    return value or None


class _Cases:
    """The imported cases, with their ids, numbers and observations, compared with the study's:
    a case keeps the id the project gives it (each id one case's only) and the number it gives,
    or else its known number; a new case without an id has one made from its name, and the next
    free number."""

    def __init__(self, study: Study, origin_note: str, log: ProblemLog) -> None:
        self.study = study
        self.origin_note = origin_note
        self.log = log
        self.owner = {c.number: c.id for c in study.cases}  # number -> the case that has it
        self.taken = {c.id for c in study.cases}
        self.used_ids = {co.observation.id for co in study.observations}

    def build(self, plans: Sequence[_Plan]) -> list[ImportedCase]:
        claimed: dict[str, str] = {}
        for plan in plans:  # the ids the project gives, each one case's only
            ident, name = plan.given, plan.draft.name
            if ident is not None and claimed.setdefault(ident, name) != name:
                self.log.add(
                    f"case {name!r}: its id {ident!r} is also the id of case {claimed[ident]!r}: "
                    f"each case needs its own {ID_VARIABLE}",
                    line=plan.draft.line,
                )
        self.taken |= claimed.keys()
        for plan in plans:  # the numbers the project gives, each one case's only
            mine, number = plan.given or plan.draft.name, plan.number
            if number is not None and self.owner.setdefault(number, mine) != mine:
                self.log.add(
                    f"case {plan.draft.name!r}: number {number} is already case "
                    f"{self.owner[number]!r}",
                    line=plan.draft.line,
                )
        out = []
        for plan in plans:
            case = self._case(plan)
            if case is not None:
                out.append(self._imported(plan, case))
        return out

    def _number(self, plan: _Plan) -> int:
        """The number the project gives, or the known case's, or the next free one."""
        if plan.number is None:
            return plan.known.number if plan.known else max(self.owner, default=0) + 1
        return plan.number

    def _case(self, plan: _Plan) -> Case | None:
        number = self._number(plan)
        ident = plan.given
        if ident is None:
            base = readable_slug(plan.draft.name) or f"case-{number}"
            ident, n = base, 1
            while ident in self.taken:
                n += 1
                ident = f"{base}-{n}"
            self.taken.add(ident)
        self.owner.setdefault(number, ident)
        try:
            return Case(
                id=ident,
                number=number,
                name=plan.draft.name,
                protocol=plan.protocol,
                narratives=plan.content.narratives,
            )
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                self.log.add(
                    f"case {plan.draft.name!r}: {'.'.join(map(str, err['loc']))}: {err['msg']}",
                    line=plan.draft.line,
                )
            return None

    def _imported(self, plan: _Plan, case: Case) -> ImportedCase:
        known = plan.known
        obs = observations(
            self.study,
            case,
            plan.content.observations,
            known,
            self.used_ids,
            self.origin_note,
            self.log,
        )
        own, of_observations = compare(self.study, case, obs, known) if known else ([], [])
        mine = tuple(
            co.observation for co in self.study.observations if known and co.case == known.id
        )
        differences = (*own, *of_observations)
        memo_less = plan.content.memo_less
        return ImportedCase(case, tuple(obs), known, differences, memo_less, len(own), mine)
