"""The first-order observations of an imported case, with their ids, and how the case differs
from the study's case it is.

An observation's id is the first of these that is free: the name of one of its selections (or
its note's) when that name is a safe id and not the passage itself; the id in front of its memo
(``[c6-sns-1] ...``, as the export writes it: QualCoder names selections by their text, NVivo
leaves them unnamed, both keep the memo); the id of the study's observation of the case saying
the same (same dimension and evidence, or text); else the case's next ``c<number>-<k>``. An id
the study's other cases use is not free. An observation that keeps its id keeps what the
project does not carry: its ``source``, ``note`` and the basis of each theme it keeps.

Observations come in the order of the study's case (one it lacks after the last of its
dimension), or, for a new case, by dimension in the order of the project.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import ValidationError

from ..model import DEFAULT_LINK_BASIS, Case, Observation, Study
from ..study.passages import normalise_space
from .content import RawObservation
from .errors import ProblemLog
from .format import key

_OBSERVATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def observations(
    study: Study,
    case: Case,
    raw: Sequence[RawObservation],
    known: Case | None,
    used_ids: set[str],
    origin_note: str,
    log: ProblemLog,
) -> list[Observation]:
    """The case's observations, with ids (added to ``used_ids``); an observation of the study's
    case keeps its source, note and theme bases, a new one has ``origin_note`` as its source."""
    known_obs = [co.observation for co in study.observations if known and co.case == known.id]
    ids = _Ids(known_obs, used_ids)
    out = []
    for o in raw:
        ident, match = ids.choose(o, case.number)
        same = match if match is not None and match.id == ident else None
        fields = {"source": same.source, "note": same.note} if same else {"source": origin_note}
        try:
            out.append(
                Observation(
                    id=ident,
                    dimension=o.dimension,
                    text=o.text,
                    themes=o.themes,
                    evidence=o.evidence,
                    theme_basis=_basis(same, o.themes),
                    **fields,
                )
            )
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                where = ".".join(map(str, err["loc"]))
                log.add(f"observation {ident}: {where}: {err['msg']}", case.id, o.line)
    used_ids |= ids.mine
    return _ordered(study, out, known_obs)


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
        ident = next(
            (
                n
                for n in o.names
                if _OBSERVATION_ID.fullmatch(n)
                and len(n) <= 100
                and not _is_passage(n, o.evidence or o.text)
                and self.free(n)
            ),
            None,
        )
        match = self.by_id.get(ident or "") or self.by_content.get(
            (o.dimension, o.evidence if o.evidence else key(o.text))
        )
        if ident is None and match is not None and self.free(match.id):
            ident = match.id
        if ident is None:
            k = 1
            while not self.free(f"c{number}-{k}"):
                k += 1
            ident = f"c{number}-{k}"
        self.mine.add(ident)
        return ident, match


def _is_passage(name: str, passage: str) -> bool:
    """Whether a selection's name is (the start of) its selected text, as tools name them."""
    n = key(name.rstrip(".… "))
    return bool(n) and key(passage).startswith(n)


def compare(
    study: Study, case: Case, observations: Sequence[Observation], known: Case
) -> tuple[list[str], list[str]]:
    """How an imported case differs from the study's case it is: its own fields, and its
    observations."""
    fields = [f"number {known.number} -> {case.number}"] if case.number != known.number else []
    if case.name != known.name:
        fields.append(f"name {known.name!r} -> {case.name!r}")
    for f in study.framework.case_protocol:
        if case.protocol.get(f.id) != known.protocol.get(f.id):
            fields.append(f"protocol {f.id} differs")
    for d in study.framework.dimensions:
        if case.narratives.get(d.id) != known.narratives.get(d.id):
            fields.append(f"narrative {d.id} differs")
    theirs = {co.observation.id: co.observation for co in study.observations if co.case == known.id}
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
