"""The first-order observations of an imported case, with their ids, and how the case differs
from the study's case of that name.

An observation's id is the name of one of its selections (or its note) when that name is a safe
id and not the passage itself, else the id of the study's observation saying the same (same
dimension and evidence, or text), else the case's next free ``c<number>-<k>``; an id the
study's other cases use is not taken. Observations come in the order of the study's files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import ValidationError

from ..model import Case, Observation, Study
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
    case keeps its source and note, a new one has ``origin_note`` as its source."""
    known_obs = [co.observation for co in study.observations if known and co.case == known.id]
    ids = _Ids(known_obs, used_ids)
    out = []
    for o in raw:
        ident, match = ids.choose(o, case.number)
        same = match if match is not None and match.id == ident else None
        source = same.source if same is not None else origin_note
        note = same.note if same is not None else None
        try:
            out.append(
                Observation(
                    id=ident,
                    dimension=o.dimension,
                    text=o.text,
                    themes=o.themes,
                    evidence=o.evidence,
                    source=source,
                    note=note,
                )
            )
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                log.add(
                    f"observation {ident}: {'.'.join(map(str, err['loc']))}: {err['msg']}",
                    case.id,
                    o.line,
                )
    used_ids |= ids.mine
    # In the order of the study's files: by dimension, then as the study's case has them
    # (an observation the study lacks after those), then by place in the text
    dims = {d.id: n for n, d in enumerate(study.framework.dimensions)}
    order = {o.id: n for n, o in enumerate(known_obs)}
    position = {o.id: n for n, o in enumerate(out)}
    return sorted(
        out, key=lambda o: (dims[o.dimension], order.get(o.id, len(order)), position[o.id])
    )


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
        evidence = o.evidence
        ident = next(
            (
                n
                for n in o.names
                if _OBSERVATION_ID.fullmatch(n)
                and len(n) <= 100
                and not _is_passage(n, evidence or o.text)
                and self.free(n)
            ),
            None,
        )
        match = self.by_id.get(ident or "") or self.by_content.get(
            (o.dimension, evidence if evidence else key(o.text))
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
) -> list[str]:
    """How an imported case differs from the study's case of that name."""
    out = []
    if case.number != known.number:
        out.append(f"number {known.number} -> {case.number}")
    for f in study.framework.case_protocol:
        if case.protocol.get(f.id) != known.protocol.get(f.id):
            out.append(f"protocol {f.id} differs")
    for d in study.framework.dimensions:
        if case.narratives.get(d.id) != known.narratives.get(d.id):
            out.append(f"narrative {d.id} differs")
    theirs = {co.observation.id: co.observation for co in study.observations if co.case == known.id}
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
