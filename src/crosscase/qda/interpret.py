"""Map a REFI-QDA project read by :mod:`.project` onto the study (``crosscase import-qdpx``):
which sources and notes make which case and what its codes are (:mod:`.codes`), its narratives
and observations (:mod:`.content`), and here the cases' variables, ids and numbers, their
observations' ids, and how each differs from the study's case it is, as an :class:`Imported`
case set (written by :mod:`.write`).

- A case's variables are its protocol (by field label or id), its number
  (:data:`~.format.NUMBER_VARIABLE`, Integer or Float) and its id (:data:`~.format.ID_VARIABLE`).
- A case's id is the one its ``Case id`` variable gives, else the one its Description ends with
  (``Case 6 (my-case)``), as the export writes them; else the id of the study's case of its
  name; else one made from its name (``case-<number>`` for a name in a script with no ASCII
  spelling). Ids are safe slugs, so nothing in the file chooses a path outside the case set.
- An observation's id is the first of these that is free: the name of one of its selections
  (or its note's) when that name is a safe id and not the passage itself; the id in front of its
  memo (``[c6-sns-1] ...``); the id of the study's observation of the case saying the same (same
  dimension and evidence, or text); else the case's next ``c<number>-<k>``. An id the study's
  other cases use is not free. An observation that keeps its id keeps what the project does not
  carry: its ``source``, ``note`` and the basis of each theme it keeps. Observations come in
  the order of the study's case (one it lacks after the last of its dimension), or, for a new
  case, by dimension in the order of the project.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..model import DEFAULT_LINK_BASIS, SLUG_PATTERN, Case, Observation, Study, Theme
from ..outputs import plural
from ..study.passages import normalise_space
from ..study.problems import format_loc
from .codes import CodeMeanings, CodeRole, Draft, drafts, name_key, tie_notes
from .content import CaseContent, ContentReader, RawObservation
from .errors import ProblemLog, fail
from .format import (
    ID_VARIABLE,
    NUMBER_VARIABLE,
    case_mark,
    case_variable,
    free_id,
    key,
    readable_slug,
)
from .project import QdaProject

M = TypeVar("M", bound=BaseModel)
_OBSERVATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class ImportedCase:
    """A case as the project holds it, and how it differs from the study's case it is: in its
    own fields (the first ``own_differences``) and in its observations."""

    case: Case
    observations: tuple[Observation, ...]
    known: Case | None
    differences: tuple[str, ...]
    memo_less: int  # observations whose text is their passage (no memo)
    own_differences: int = 0
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
    selections: Mapping[str, int]  # by what each became (see ContentReader)
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
    """Map a project onto the study (raise :class:`~.errors.QdpxError` with every problem;
    ``codebook`` says where the study's codebook is, for a project coded with another one)."""
    log = ProblemLog(f"{display}:{project.document}")  # lines are the project document's
    codes = CodeMeanings(project, study, extra_themes, log)
    if not any(r.role in ("dimension", "theme") for r in codes.roles.values()):
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
    note_observations = sum(o.span is None for p in plans for o in p.content.observations)
    return Imported(
        project=project,
        cases=tuple(built),
        new_themes=tuple(t for t in codes.new.values() if t.id in used),
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
    known: Case | None = None  # the study's case it is
    given: str | None = None  # the id the project gives it
    content: CaseContent = field(init=False)
    protocol: dict[str, str] = field(default_factory=dict)
    number: int | None = None
    ignored: set[str] = field(default_factory=set)  # variables neither protocol, number nor id
    variables: int = 0  # how many values the case's element and sources give


def _plan(draft: Draft, study: Study, reader: ContentReader, log: ProblemLog) -> _Plan | None:
    """A case's variables, identity and content (None when its content has a problem)."""
    plan = _Plan(draft)
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
    sources = [v for i in draft.sources for v in project.sources[i].values if v[0] not in given]
    plan.variables = len(own) + len(sources)
    for var, value in [*own, *sources]:
        name = project.variables[var]
        if case_variable(name) == "case number":
            plan.number = plan.number or _case_number(value, draft, log)
        elif case_variable(name) == "case id":
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
    if number.is_integer() and number >= 1:
        return int(number)
    message = f"{NUMBER_VARIABLE} {value!r} is not a whole number of 1 or more"
    log.add(f"case {draft.name!r}: {message}", line=draft.line)
    return None


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
    """The imported cases with their ids, numbers and observations, compared with the study's:
    a case keeps the id the project gives it (each id one case's only) and the number it gives,
    or else its known number; a new case without an id has one made from its name, and the next
    free number."""

    def __init__(self, study: Study, origin_note: str, log: ProblemLog) -> None:
        self.study, self.origin_note, self.log = study, origin_note, log
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
        return [self._imported(plan, case) for plan in plans if (case := self._case(plan))]

    def _case(self, plan: _Plan) -> Case | None:
        if plan.number is not None:
            number = plan.number
        else:
            number = plan.known.number if plan.known else max(self.owner, default=0) + 1
        ident = plan.given
        if ident is None:
            ident = free_id(readable_slug(plan.draft.name) or f"case-{number}", self.taken)
            self.taken.add(ident)
        self.owner.setdefault(number, ident)
        name, line = plan.draft.name, plan.draft.line
        fields: dict[str, Any] = dict(id=ident, number=number, name=name, protocol=plan.protocol)
        fields["narratives"] = plan.content.narratives
        return self._valid(Case, fields, f"case {name!r}", None, line)

    def _valid(
        self, model: type[M], fields: dict[str, Any], what: str, case: str | None, line: int | None
    ) -> M | None:
        """The ``model`` of ``fields``, or None with each problem its validation finds."""
        try:
            return model(**fields)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                self.log.add(f"{what}: {format_loc(err['loc'])}: {err['msg']}", case, line)
            return None

    def _imported(self, plan: _Plan, case: Case) -> ImportedCase:
        known = plan.known
        mine = [co.observation for co in self.study.observations if known and co.case == known.id]
        obs = self._observations(case, plan.content.observations, mine)
        own, of_observations = compare(self.study, case, obs, known, mine) if known else ([], [])
        differences = (*own, *of_observations)
        memo_less = plan.content.memo_less
        return ImportedCase(case, tuple(obs), known, differences, memo_less, len(own), tuple(mine))

    def _observations(
        self, case: Case, raw: Sequence[RawObservation], known: list[Observation]
    ) -> list[Observation]:
        """The case's observations with ids (taken from the free ones); one of the study's case
        keeps its source, note and theme bases, a new one has ``origin_note`` as its source."""
        ids = _Ids(known, self.used_ids)
        out = []
        for o in raw:
            ident, match = ids.choose(o, case.number)
            same = match if match is not None and match.id == ident else None
            kept = (
                {"source": same.source, "note": same.note} if same else {"source": self.origin_note}
            )
            fields: dict[str, Any] = dict(
                id=ident, dimension=o.dimension, text=o.text, themes=o.themes, **kept
            )
            fields |= dict(evidence=o.evidence, theme_basis=_basis(same, o.themes))
            if made := self._valid(Observation, fields, f"observation {ident}", case.id, o.line):
                out.append(made)
        self.used_ids |= ids.mine
        return _ordered(self.study, out, known)


def _basis(same: Observation | None, themes: list[str]) -> str | dict[str, str] | None:
    """The theme bases an observation keeps: all of them with the same themes; else those of the
    themes it keeps (a theme new to it is the researcher's coding)."""
    if same is None or same.theme_basis is None or sorted(same.themes) == sorted(themes):
        return same.theme_basis if same else None
    bases = {t: same.basis_of(t) if t in same.themes else DEFAULT_LINK_BASIS for t in themes}
    return bases if set(bases.values()) - {DEFAULT_LINK_BASIS} else None


def _ordered(study: Study, out: list[Observation], known: list[Observation]) -> list[Observation]:
    """In the order of the study's case: an observation it lacks after the last of its dimension
    (or of the dimensions before it); a new case's by dimension, in the order of the project."""
    dims = {d.id: n for n, d in enumerate(study.framework.dimensions)}
    place = {o.id: n for n, o in enumerate(known)}

    def anchor(o: Observation) -> tuple[int, int]:
        if o.id in place:
            return place[o.id], 0
        same = [place[k.id] for k in known if k.dimension == o.dimension]
        before = [place[k.id] for k in known if dims[k.dimension] < dims[o.dimension]]
        return max(same or before or [-1]), 1

    return sorted(out, key=anchor if known else lambda o: (dims[o.dimension], 0))


class _Ids:
    """The ids of one case's observations: the study's case's own ids are free for it, the
    other cases' ids (``used``) are not."""

    def __init__(self, known: Sequence[Observation], used: set[str]) -> None:
        self.by_id = {o.id: o for o in known}
        self.by_content = {
            (o.dimension, normalise_space(o.evidence) if o.evidence else key(o.text)): o
            for o in known
        }
        self.used = used
        self.mine: set[str] = set()

    def free(self, ident: str) -> bool:
        return ident not in self.mine and (ident in self.by_id or ident not in self.used)

    def choose(self, o: RawObservation, number: int) -> tuple[str, Observation | None]:
        """The observation's id, and the study's observation it matches (by id or content)."""
        passage = o.evidence or o.text
        names = [n for n in o.names if _OBSERVATION_ID.fullmatch(n) and not _is_passage(n, passage)]
        ident = next((n for n in names if self.free(n)), None)
        content = (o.dimension, o.evidence or key(o.text))
        match = self.by_id.get(ident or "") or self.by_content.get(content)
        if ident is None and match is not None and self.free(match.id):
            ident = match.id
        if ident is None:
            ident = next(f"c{number}-{k}" for k in count(1) if self.free(f"c{number}-{k}"))
        self.mine.add(ident)
        return ident, match


def _is_passage(name: str, passage: str) -> bool:
    """Whether a selection's name is (the start of) its selected text, as tools name them."""
    n = key(name.rstrip(".… "))
    return bool(n) and key(passage).startswith(n)


def compare(
    study: Study,
    case: Case,
    observations: Sequence[Observation],
    known: Case,
    mine: Sequence[Observation],
) -> tuple[list[str], list[str]]:
    """How an imported case differs from the study's case it is (whose observations are
    ``mine``): in its own fields, and in its observations."""
    fields = [f"number {known.number} -> {case.number}"] if case.number != known.number else []
    if case.name != known.name:
        fields.append(f"name {known.name!r} -> {case.name!r}")
    for f in study.framework.case_protocol:
        if case.protocol.get(f.id) != known.protocol.get(f.id):
            fields.append(f"protocol {f.id} differs")
    for d in study.framework.dimensions:
        if case.narratives.get(d.id) != known.narratives.get(d.id):
            fields.append(f"narrative {d.id} differs")
    theirs = {o.id: o for o in mine}
    ours = {o.id: o for o in observations}
    out = [f"observation {i} is not in the project" for i in sorted(theirs.keys() - ours.keys())]
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
    return fields, out
