"""The evidence browser of the report: a page per second-order theme and per case, an index of
the themes with their theme x case matrix, and the data display with every observation linked.

A theme page shows the theme's status under the run's rule, the grounds of its case list, and
each case and first-order observation behind it, the observation's evidence passage marked
(``<mark>``) inside the full narrative where it lies; a case page, every narrative of the case
with all its passages marked. Case text is data: the templates are autoescaped, and a narrative
is cut into plain-text segments around the located spans, so that nothing in it reaches the page
as markup. Pages are built from the run's :class:`~crosscase.model.Study` and
:class:`~crosscase.evidence.Evidence`; their file names and anchors come from :mod:`.names`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from jinja2 import Environment

from ..evidence import (
    BASIS_LABELS,
    GROUNDS,
    Evidence,
    ThemeGrounds,
    case_list,
    grounds_of,
    theme_grounds,
)
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
    return [
        Segment(text[a:b], tuple(o for s, e, o in spans if s <= a and b <= e))
        for a, b in pairwise(cuts)
    ]


class _Context:
    """What every page needs: the study, its evidence and the lookups between them."""

    def __init__(self, study: Study, evidence: Evidence) -> None:
        self.study = study
        self.evidence = evidence
        self.grounds = {tg.evidence.theme.id: tg for tg in theme_grounds(study, evidence)}
        self.cases = {c.id: c for c in study.cases}
        self.by_number = {c.number: c for c in study.cases}
        self.observations = {co.observation.id: co for co in study.observations}
        self.dims = study.dimension_labels
        self.themes = {t.id: t for t in study.themes}

    def narrative(self, co: CodedObservation) -> dict[str, Any] | None:
        """The narrative holding an observation's passage, with that passage marked."""
        if (span := co.span) is None:
            return None
        dimension, start, end = span
        marked = segments(
            self.cases[co.case].narratives[dimension], [(start, end, co.observation.id)]
        )
        own = dimension == co.observation.dimension
        return {"dimension": self.dims[dimension], "own": own, "segments": marked}

    def observation(self, co: CodedObservation, theme: str | None = None) -> dict[str, Any]:
        o, where = co.observation, co.evidence_dimension
        links = [
            {
                "theme": t,
                "label": self.themes[t].label,
                "page": names.theme_file(t),
                "basis": BASIS_LABELS[o.basis_of(t)],
                "link_grounds": grounds_of(o, t),
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
            "evidence_dimension": self.dims[where] if where else "",
            "evidence_anchor": names.dimension_anchor(where) if where else "",
        }


def _theme_row(ctx: _Context, theme: str) -> dict[str, Any]:
    tg = ctx.grounds[theme]
    t = tg.evidence
    return {
        "label": t.theme.label,
        "page": names.theme_file(theme),
        "dimension": ctx.dims[t.theme.dimension],
        "cases": [{"number": n, "link": names.theme_case_link(theme, n)} for n in t.cases],
        "case_list": case_list(t.cases),
        "qualifies": ctx.evidence.qualifies(theme),
        "grounds": {g: case_list(tg.cases(g)) for g in GROUNDS},
        "check": tg.check,
    }


def _theme_case(ctx: _Context, tg: ThemeGrounds, n: int) -> dict[str, Any]:
    """Case ``n`` on a theme's page: its grounds, and each observation with its passage."""
    case, theme = ctx.by_number[n], tg.evidence.theme.id
    coded = [ctx.observations[o] for c, o in tg.evidence.observations if c == n]
    return {
        "number": n,
        "name": case.name,
        "anchor": names.case_anchor(n),
        "page": names.case_file(case.id),
        "grounds": tg.by_case[n],
        "observations": [
            {**ctx.observation(co, theme), "narrative": ctx.narrative(co)} for co in coded
        ],
    }


def theme_context(ctx: _Context, theme: str) -> dict[str, Any]:
    """The context of one theme's page."""
    tg = ctx.grounds[theme]
    t = tg.evidence
    verdict = "a discriminator" if ctx.evidence.qualifies(theme) else "below the rule"
    rule = ctx.evidence.rule.requirement(len(ctx.evidence.coded_cases))
    status = f"{verdict} (evidenced in {plural(len(t.cases), 'case')}; the rule asks for {rule})"
    return {
        "theme": _theme_row(ctx, theme),
        "status": status,
        "perspective": ctx.study.perspective_of[t.theme.dimension],
        "cases": [_theme_case(ctx, tg, n) for n in t.cases],
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
            "anchor": names.dimension_anchor(d.id),
            "label": d.label,
            "segments": segments(case.narratives.get(d.id, ""), spans.get(d.id, [])),
            "observations": [
                ctx.observation(co) for co in coded if co.observation.dimension == d.id
            ],
        }
        for d in ctx.study.framework.dimensions
    ]
    themes = sorted({t for co in coded for t in co.observation.themes}, key=list(ctx.themes).index)
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


def _cell(tg: ThemeGrounds, n: int) -> dict[str, Any]:
    """Case ``n``'s cell in the row of a theme of the theme x case matrix."""
    count = tg.evidence.counts.get(n, 0)
    link = names.theme_case_link(tg.evidence.theme.id, n) if count else ""
    return {"count": count, "grounds": tg.by_case.get(n, ""), "link": link, "heat": min(count, 3)}


def index_context(ctx: _Context) -> dict[str, Any]:
    """The context of the browser's index: every theme with its status and grounds, the theme x
    case matrix (each cell a link to the theme's evidence in that case), and the cases."""
    numbers = [c.number for c in ctx.study.cases]
    matrix = [
        {**_theme_row(ctx, t), "cells": [_cell(tg, n) for n in numbers]}
        for t, tg in ctx.grounds.items()
    ]
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
    cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for co in ctx.study.observations:
        cells.setdefault((co.observation.dimension, co.case), []).append(ctx.observation(co))
    rows = []
    for d in ctx.study.framework.dimensions:
        row = [cells.get((d.id, c.id), []) for c in ctx.study.cases]
        themes = [_theme_row(ctx, t.id) for t in ctx.study.themes if t.dimension == d.id]
        perspective = ctx.study.perspective_of[d.id]
        rows.append(
            {"perspective": perspective, "dimension": d.label, "cells": row, "themes": themes}
        )
    return {
        "cases": [{"name": c.name, "page": names.case_file(c.id)} for c in ctx.study.cases],
        "rows": rows,
        "themes_column": ctx.study.headers.themes_column,
    }


def evidence_pages(
    env: Environment, study: Study, evidence: Evidence, **common: Any
) -> dict[str, str]:
    """Every page of the evidence browser: file name -> HTML (``common``: the page template's
    ``css`` and ``nav``, and ``run``)."""
    ctx, run = _Context(study, evidence), common.get("run", "")
    pages = {
        names.EVIDENCE_INDEX: ("evidence", f"{names.EVIDENCE_TITLE}: {run}", index_context(ctx)),
        names.DATA_DISPLAY: ("display", f"Data display: {run}", display_context(ctx)),
    }
    for t in study.themes:
        pages[names.theme_file(t.id)] = ("theme", f"Theme: {t.label}", theme_context(ctx, t.id))
    for c in study.cases:
        pages[names.case_file(c.id)] = ("case", f"Case {c.number}: {c.name}", case_context(ctx, c))
    return {
        page: env.get_template(f"{template}.html.j2").render(title=title, **context, **common)
        for page, (template, title, context) in pages.items()
    }
