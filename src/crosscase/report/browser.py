"""The evidence browser of the report: a page per second-order theme and per case, an index of
the themes with their theme x case matrix, and the data display with every observation linked.

Each theme page shows the theme's status under the run's rule, the grounds of its case list,
each case that evidences it and each first-order observation behind it, with its basis and the
evidence passage marked (``<mark>``) inside the full narrative where the passage lies (the
observation's own dimension's, or another's). Each case page shows every narrative of the case
with all its passages marked, and its observations with the themes they evidence. Case
text is data: the templates are autoescaped, and a narrative is cut into plain-text segments
around the located spans (:class:`~crosscase.model.CodedObservation` offsets), so that nothing
in it reaches the page as markup. Nothing here knows the study: pages are built from the
:class:`~crosscase.model.Study` and :class:`~crosscase.evidence.Evidence` of the run; their
file names and anchors come from :mod:`.names`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from jinja2 import Environment

from ..evidence import GROUNDS, Evidence, ThemeGrounds, case_list, theme_grounds
from ..model import LINK_BASES, RECONSTRUCTED, Case, CodedObservation, Study
from ..outputs import plural
from . import names


@dataclass(frozen=True)
class Segment:
    """A stretch of a narrative and the observations whose passage covers it (none: plain)."""

    text: str
    observations: tuple[str, ...] = ()


def segments(text: str, spans: Sequence[tuple[int, int, str]]) -> list[Segment]:
    """``text`` cut at every boundary of the ``spans`` (start, end, observation id), each piece
    with the observations covering it: overlapping passages stay whole for each observation."""
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out = []
    for a, b in pairwise(cuts):
        covering = tuple(o for s, e, o in spans if s <= a and b <= e)
        out.append(Segment(text[a:b], covering))
    return out


class _Context:
    """What every page needs: the study, its evidence and the lookups between them."""

    def __init__(self, study: Study, evidence: Evidence) -> None:
        self.study = study
        self.evidence = evidence
        self.grounds = {tg.evidence.theme.id: tg for tg in theme_grounds(study, evidence)}
        self.cases = {c.id: c for c in study.cases}
        self.number = study.case_numbers
        self.by_number = {c.number: c for c in study.cases}
        self.observations = {co.observation.id: co for co in study.observations}
        self.dims = study.dimension_labels
        self.basis_labels = {b.id: b.label for b in LINK_BASES}
        self.themes = {t.id: t for t in study.themes}

    def narrative(self, co: CodedObservation) -> dict[str, Any] | None:
        """The narrative holding an observation's passage, with that passage marked."""
        if (span := co.span) is None:
            return None
        dimension, start, end = span
        return {
            "dimension": self.dims[dimension],
            "own": dimension == co.observation.dimension,
            "segments": segments(
                self.cases[co.case].narratives[dimension], [(start, end, co.observation.id)]
            ),
        }

    def observation(self, co: CodedObservation, theme: str | None = None) -> dict[str, Any]:
        o = co.observation
        links = [
            {
                "theme": t,
                "label": self.themes[t].label,
                "page": names.theme_file(t),
                "basis": self.basis_labels[o.basis_of(t)],
                "grounds": self.grounds[t].by_case.get(self.number[co.case], ""),
                "link_grounds": _link_grounds(self.grounds[t], o.id),
            }
            for t in o.themes
        ]
        return {
            "id": o.id,
            "anchor": names.observation_anchor(o.id),
            "text": o.text,
            "dimension": self.dims[o.dimension],
            "source": o.source or "",
            "reconstructed": o.source == RECONSTRUCTED,
            "note": o.note or "",
            "evidence": o.evidence or "",
            "case_link": names.observation_link(co.case, o.id),
            "links": links,
            "this": next((lk for lk in links if lk["theme"] == theme), None),
            "evidence_dimension": self.dims[co.evidence_dimension] if co.evidence_dimension else "",
            "evidence_anchor": (
                names.dimension_anchor(co.evidence_dimension) if co.evidence_dimension else ""
            ),
        }


def _link_grounds(tg: ThemeGrounds, observation: str) -> str:
    return next((lk.grounds for lk in tg.links if lk.observation == observation), "")


def _theme_row(ctx: _Context, theme: str) -> dict[str, Any]:
    tg = ctx.grounds[theme]
    t = tg.evidence
    return {
        "id": theme,
        "label": t.theme.label,
        "page": names.theme_file(theme),
        "dimension": ctx.dims[t.theme.dimension],
        "cases": [{"number": n, "link": names.theme_case_link(theme, n)} for n in t.cases],
        "case_list": case_list(t.cases),
        "qualifies": ctx.evidence.qualifies(theme),
        "grounds": {g: case_list(tg.cases(g)) for g in GROUNDS},
        "check": tg.check,
    }


def theme_context(ctx: _Context, theme: str) -> dict[str, Any]:
    """The context of one theme's page."""
    tg = ctx.grounds[theme]
    t = tg.evidence
    cases = []
    for n in t.cases:
        case = ctx.by_number[n]
        observations = [ctx.observations[o] for c, o in t.observations if c == n]
        cases.append(
            {
                "number": n,
                "name": case.name,
                "anchor": names.case_anchor(n),
                "page": names.case_file(case.id),
                "grounds": tg.by_case[n],
                "observations": [
                    {**ctx.observation(co, theme), "narrative": ctx.narrative(co)}
                    for co in observations
                ],
            }
        )
    n_coded, n = len(ctx.evidence.coded_cases), len(t.cases)
    status = "a discriminator" if ctx.evidence.qualifies(theme) else "below the rule"
    return {
        "theme": _theme_row(ctx, theme),
        "status": f"{status} (evidenced in {plural(n, 'case')}; the rule asks for "
        f"{ctx.evidence.rule.requirement(n_coded)})",
        "perspective": ctx.study.perspective_of[t.theme.dimension],
        "cases": cases,
    }


def case_context(ctx: _Context, case: Case) -> dict[str, Any]:
    """The context of one case's page: every narrative with every passage of the case marked,
    and each dimension's observations."""
    coded = [co for co in ctx.study.observations if co.case == case.id]
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for co in coded:
        if (span := co.span) is not None:
            spans.setdefault(span[0], []).append((span[1], span[2], co.observation.id))
    fields = {f.id: f.label for f in ctx.study.framework.case_protocol}
    dimensions = [
        {
            "id": d.id,
            "anchor": names.dimension_anchor(d.id),
            "label": d.label,
            "segments": segments(case.narratives.get(d.id, ""), spans.get(d.id, [])),
            "observations": [
                ctx.observation(co) for co in coded if co.observation.dimension == d.id
            ],
        }
        for d in ctx.study.framework.dimensions
    ]
    themes = sorted(
        {t for co in coded for t in co.observation.themes},
        key=list(ctx.themes).index,
    )
    return {
        "case": case,
        "protocol": [(fields.get(k, k), v) for k, v in case.protocol.items()],
        "coded": case.id in ctx.study.coded_cases,
        "dimensions": dimensions,
        "themes": [
            {
                **_theme_row(ctx, t),
                "grounds_here": ctx.grounds[t].by_case.get(case.number, ""),
                "link": names.theme_case_link(t, case.number),
            }
            for t in themes
        ],
    }


def index_context(ctx: _Context) -> dict[str, Any]:
    """The context of the browser's index: every theme with its status and grounds, the theme x
    case matrix (each cell a link to the theme's evidence in that case), and the cases."""
    numbers = [c.number for c in ctx.study.cases]
    matrix = []
    for theme, tg in ctx.grounds.items():
        cells = []
        for n in numbers:
            count = tg.evidence.counts.get(n, 0)
            cells.append(
                {
                    "count": count,
                    "grounds": tg.by_case.get(n, ""),
                    "link": names.theme_case_link(theme, n) if count else "",
                    "heat": min(count, 3),
                }
            )
        matrix.append({**_theme_row(ctx, theme), "cells": cells})
    totals = {g: sum(len(tg.cases(g)) for tg in ctx.grounds.values()) for g in GROUNDS}
    return {
        "rule": ctx.evidence.rule.requirement(len(ctx.evidence.coded_cases)),
        "cases": [
            {
                "number": c.number,
                "name": c.name,
                "page": names.case_file(c.id),
                "coded": c.id in ctx.study.coded_cases,
            }
            for c in ctx.study.cases
        ],
        "matrix": matrix,
        "totals": totals,
        "n_links": sum(totals.values()),
        "bases": LINK_BASES,
    }


def display_context(ctx: _Context) -> dict[str, Any]:
    """The context of the data display: dimensions x cases, every observation linked to its case
    page (those that evidence a theme in bold), and each dimension's themes linked."""
    rows = []
    for d in ctx.study.framework.dimensions:
        cells = []
        for c in ctx.study.cases:
            cells.append(
                [
                    ctx.observation(co)
                    for co in ctx.study.observations
                    if co.case == c.id and co.observation.dimension == d.id
                ]
            )
        themes = [
            _theme_row(ctx, t)
            for t, tg in ctx.grounds.items()
            if tg.evidence.theme.dimension == d.id
        ]
        rows.append(
            {
                "perspective": ctx.study.perspective_of[d.id],
                "dimension": d.label,
                "cells": cells,
                "themes": themes,
            }
        )
    return {
        "cases": [
            {"number": c.number, "name": c.name, "page": names.case_file(c.id)}
            for c in ctx.study.cases
        ],
        "rows": rows,
        "themes_column": ctx.study.headers.themes_column,
    }


def evidence_pages(
    env: Environment,
    study: Study,
    evidence: Evidence,
    **common: Any,
) -> dict[str, str]:
    """Every page of the evidence browser: file name -> HTML (``common``: the page template's
    ``css`` and ``nav``, and ``run``)."""
    ctx = _Context(study, evidence)
    run = common.get("run", "")
    out = {
        names.EVIDENCE_INDEX: env.get_template("evidence.html.j2").render(
            title=f"{names.EVIDENCE_TITLE}: {run}", **index_context(ctx), **common
        ),
        names.DATA_DISPLAY: env.get_template("display.html.j2").render(
            title=f"Data display: {run}", **display_context(ctx), **common
        ),
    }
    theme_template = env.get_template("theme.html.j2")
    for theme in ctx.grounds:
        out[names.theme_file(theme)] = theme_template.render(
            title=f"Theme: {ctx.themes[theme].label}", **theme_context(ctx, theme), **common
        )
    case_template = env.get_template("case.html.j2")
    for case in study.cases:
        out[names.case_file(case.id)] = case_template.render(
            title=f"Case {case.number}: {case.name}", **case_context(ctx, case), **common
        )
    return out
