"""The tables of a multiple-case study, computed from a :class:`Study` and its :class:`Evidence`.

This is the edge where results become :class:`pandas.DataFrame` s of text and integers in a fixed
order (cases by number, dimensions and themes in framework order), so that the same data always
give the same table. Which cases evidence a theme and whether it qualifies is decided once, in
:mod:`crosscase.evidence`; nothing here recomputes it. Headers that a publication prints come
from the study's description (``data/raw/study.yaml``).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from . import pages
from .evidence import (
    GROUNDS,
    Evidence,
    ThemeEvidence,
    case_list,
    changes,
    discriminator_changes,
    discriminator_statuses,
    leave_one_case_out,
    robustness,
    theme_grounds,
    threshold_sweep,
)
from .model import LINK_BASES, Framework, Headers
from .study import Study


def headers(study: Study) -> Headers:
    """The table headers of the study (its description's, or generic ones)."""
    return study.description.headers if study.description else Headers()


def _frame(rows: list[dict[str, object]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


# -----------------------------------------------------------------------------------------------
# Cases and the framework


def case_protocol_table(study: Study) -> pd.DataFrame:
    """The case-protocol table: one row a case, one column a protocol field.

    The first protocol field is the row label, prefixed with the case number ("Case 1: ...");
    a value that already carries that prefix is not prefixed twice.
    """
    fields = study.framework.case_protocol
    prefix = headers(study).case_prefix
    rows = []
    for case in study.cases:
        row: dict[str, object] = {f.label: case.protocol.get(f.id, "") for f in fields}
        if fields:
            first, label = fields[0].label, f"{prefix} {case.number}:"
            value = str(row[first])
            row[first] = value if value.startswith(label) else f"{label} {value}"
        rows.append(row)
    return _frame(rows, [f.label for f in fields])


def interview_protocol_table(framework: Framework) -> pd.DataFrame:
    """The interview protocol: each dimension's question under its perspective's question, with
    the dimension's coding keywords."""
    persp = {p.id: p for p in framework.perspectives}
    rows: list[dict[str, object]] = [
        {
            "Perspective": persp[d.perspective].label,
            "Perspective question": persp[d.perspective].question or "",
            "Dimension": d.label,
            "Question": d.question or "",
            "Coding keywords": ", ".join(d.keywords),
        }
        for d in framework.dimensions
    ]
    return _frame(
        rows, ["Perspective", "Perspective question", "Dimension", "Question", "Coding keywords"]
    )


def narratives_table(study: Study) -> pd.DataFrame:
    """Within-case narratives: one row a dimension, one column a case."""
    rows = []
    for dim in study.framework.dimensions:
        row: dict[str, object] = {"Dimension": dim.label}
        row.update({c.name: c.narratives.get(dim.id, "") for c in study.cases})
        rows.append(row)
    return _frame(rows, ["Dimension", *(c.name for c in study.cases)])


# -----------------------------------------------------------------------------------------------
# First-order coding


OBSERVATION_COLUMNS = [
    "case",
    "case_number",
    "dimension",
    "observation",
    "text",
    "themes",
    "evidence",
    "evidence_dimension",
    "evidence_start",
    "evidence_end",
    "source",
]


def observations_table(study: Study) -> pd.DataFrame:
    """All first-order observations, long form, with their located evidence."""
    number = study.case_numbers
    rows: list[dict[str, object]] = [
        {
            "case": co.case,
            "case_number": number[co.case],
            "dimension": co.observation.dimension,
            "observation": co.observation.id,
            "text": co.observation.text,
            "themes": "; ".join(co.observation.themes),
            "evidence": co.observation.evidence or "",
            "evidence_dimension": co.evidence_dimension or "",
            "evidence_start": -1 if co.start is None else co.start,
            "evidence_end": -1 if co.end is None else co.end,
            "source": co.observation.source or "",
        }
        for co in study.observations
    ]
    return _frame(rows, OBSERVATION_COLUMNS)


def themes_column(study: Study, evidence: Evidence, separator: str = "; ") -> dict[str, str]:
    """The data display's last column: per dimension, 'Label (1, 4, 5)' for each qualifying
    theme."""
    out: dict[str, list[str]] = {}
    for t in evidence.themes:
        if t.theme.id in evidence.qualified:
            out.setdefault(t.theme.dimension, []).append(f"{t.theme.label} ({case_list(t.cases)})")
    return {d: separator.join(v) for d, v in out.items()}


def data_display(
    study: Study, evidence: Evidence | None = None, separator: str = "; "
) -> pd.DataFrame:
    """The cross-case data display: dimensions x cases, first-order observations in the cells.

    With ``evidence``, a last column lists each dimension's qualifying second-order themes with
    their case sources.
    """
    cells: dict[tuple[str, str], list[str]] = {}
    for co in study.observations:
        cells.setdefault((co.observation.dimension, co.case), []).append(co.observation.text)
    perspective = study.perspective_of
    column = headers(study).themes_column
    last = themes_column(study, evidence, separator) if evidence is not None else None
    rows = []
    for dim in study.framework.dimensions:
        row: dict[str, object] = {"Perspective": perspective[dim.id], "Dimension": dim.label}
        for c in study.cases:
            row[c.name] = separator.join(cells.get((dim.id, c.id), []))
        if last is not None:
            row[column] = last.get(dim.id, "")
        rows.append(row)
    columns = ["Perspective", "Dimension", *(c.name for c in study.cases)]
    return _frame(rows, columns + ([column] if last is not None else []))


def coverage_matrix(study: Study) -> pd.DataFrame:
    """Coding coverage, case x dimension: observations, themed observations, and the share of
    the narrative's characters that evidence passages cover (located in that dimension)."""
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    n_obs: dict[tuple[str, str], int] = {}
    n_themed: dict[tuple[str, str], int] = {}
    for co in study.observations:
        key = (co.case, co.observation.dimension)
        n_obs[key] = n_obs.get(key, 0) + 1
        n_themed[key] = n_themed.get(key, 0) + bool(co.observation.themes)
        if co.start is not None and co.end is not None and co.evidence_dimension:
            spans.setdefault((co.case, co.evidence_dimension), []).append((co.start, co.end))
    rows: list[dict[str, object]] = []
    for case in study.cases:
        for dim in study.framework.dimensions:
            text = case.narratives.get(dim.id, "")
            covered = _union_length(spans.get((case.id, dim.id), []))
            rows.append(
                {
                    "case": case.id,
                    "case_number": case.number,
                    "dimension": dim.id,
                    "observations": n_obs.get((case.id, dim.id), 0),
                    "themed_observations": n_themed.get((case.id, dim.id), 0),
                    "narrative_characters": len(text),
                    "evidence_coverage_percent": round(100 * covered / len(text)) if text else 0,
                }
            )
    return _frame(
        rows,
        [
            "case",
            "case_number",
            "dimension",
            "observations",
            "themed_observations",
            "narrative_characters",
            "evidence_coverage_percent",
        ],
    )


def _union_length(spans: list[tuple[int, int]]) -> int:
    total, end = 0, -1
    for s, e in sorted(spans):
        if e <= end:
            continue
        total += e - max(s, end)
        end = e
    return total


# -----------------------------------------------------------------------------------------------
# Second-order themes


def theme_case_matrix(study: Study, evidence: Evidence) -> pd.DataFrame:
    """Theme x case: how many first-order observations of the case evidence the theme."""
    numbers = [c.number for c in study.cases]
    return pd.DataFrame(
        [[t.counts.get(n, 0) for n in numbers] for t in evidence.themes],
        index=pd.Index([t.theme.id for t in evidence.themes], name="theme"),
        columns=pd.Index(numbers, name="case"),
    )


def second_order_themes(study: Study, evidence: Evidence) -> pd.DataFrame:
    """Each second-order theme with the cases that evidence it and whether it qualifies as a
    discriminator under the rule."""
    labels = study.dimension_labels
    rows: list[dict[str, object]] = [
        {
            "theme": t.theme.id,
            "dimension": t.theme.dimension,
            "dimension_label": labels[t.theme.dimension],
            "label": t.theme.label,
            "cases": case_list(t.cases),
            "n_cases": len(t.cases),
            "n_observations": len(t.observations),
            "qualifies": t.theme.id in evidence.qualified,
        }
        for t in evidence.themes
    ]
    return _frame(
        rows,
        [
            "theme",
            "dimension",
            "dimension_label",
            "label",
            "cases",
            "n_cases",
            "n_observations",
            "qualifies",
        ],
    )


# -----------------------------------------------------------------------------------------------
# The chain of evidence: where each theme link comes from


def links_table(study: Study, evidence: Evidence) -> pd.DataFrame:
    """Every observation-theme link with its basis (where the link comes from) and its grounds
    (independent, by construction, or a reconstructed observation)."""
    labels = {b.id: b.label for b in LINK_BASES}
    observations = {co.observation.id: co for co in study.observations}
    rows: list[dict[str, object]] = []
    for tg in theme_grounds(study, evidence):
        for link in tg.links:
            co = observations[link.observation]
            rows.append(
                {
                    "theme": link.theme,
                    "dimension": tg.evidence.theme.dimension,
                    "case_number": link.case,
                    "case": co.case,
                    "observation": link.observation,
                    "text": co.observation.text,
                    "basis": link.basis,
                    "basis_label": labels[link.basis],
                    "grounds": link.grounds,
                    "source": co.observation.source or "",
                }
            )
    return _frame(
        rows,
        [
            "theme",
            "dimension",
            "case_number",
            "case",
            "observation",
            "text",
            "basis",
            "basis_label",
            "grounds",
            "source",
        ],
    )


GROUND_COLUMNS = {g: g.replace(" ", "_") for g in GROUNDS}


def theme_grounds_table(study: Study, evidence: Evidence) -> pd.DataFrame:
    """Per theme: its cases by the grounds they rest on (the strongest link of each case), their
    counts, and what a check of its computed case list against a printed one proves."""
    labels = study.dimension_labels
    rows: list[dict[str, object]] = []
    for tg in theme_grounds(study, evidence):
        t = tg.evidence
        row: dict[str, object] = {
            "theme": t.theme.id,
            "dimension_label": labels[t.theme.dimension],
            "label": t.theme.label,
            "cases": case_list(t.cases),
            "qualifies": t.theme.id in evidence.qualified,
        }
        row.update({col: case_list(tg.cases(g)) for g, col in GROUND_COLUMNS.items()})
        row.update({f"n_{col}": len(tg.cases(g)) for g, col in GROUND_COLUMNS.items()})
        row["case_list_check"] = tg.check
        rows.append(row)
    columns = ["theme", "dimension_label", "label", "cases", "qualifies"]
    columns += [*GROUND_COLUMNS.values(), *(f"n_{c}" for c in GROUND_COLUMNS.values())]
    return _frame(rows, [*columns, "case_list_check"])


def annotation_records(study: Study, evidence: Evidence) -> list[dict[str, object]]:
    """The chain of evidence as annotations in the manner of the Annotation for Transparent
    Inquiry (ATI): one record per claim (a second-order theme with the cases that evidence it),
    holding, for each observation behind it, the analytic note (the first-order observation),
    the source excerpt (its evidence passage, located in the case's narratives), where the link
    comes from, and the link to the case's page in the report. The fields are documented in
    data/processed/README.md."""
    labels = {b.id: b.label for b in LINK_BASES}
    cases = {c.id: c for c in study.cases}
    observations = {co.observation.id: co for co in study.observations}
    dims = study.dimension_labels
    rule = evidence.rule.describe(len(evidence.coded_cases))
    out: list[dict[str, object]] = []
    for tg in theme_grounds(study, evidence):
        t = tg.evidence
        notes: list[dict[str, object]] = []
        for link in tg.links:
            co = observations[link.observation]
            o, case = co.observation, cases[co.case]
            located = co.start is not None and co.end is not None
            notes.append(
                {
                    "case": case.number,
                    "case_id": case.id,
                    "case_name": case.name,
                    "observation": o.id,
                    "analytic_note": o.text,
                    "source_excerpt": o.evidence and " ".join(o.evidence.split()),
                    "excerpt_dimension": co.evidence_dimension if located else None,
                    "excerpt_start": co.start if located else None,
                    "excerpt_end": co.end if located else None,
                    "basis": link.basis,
                    "basis_label": labels[link.basis],
                    "grounds": link.grounds,
                    "observation_source": o.source,
                    "observation_note": o.note and " ".join(o.note.split()),
                    "case_page": pages.observation_link(case.id, o.id),
                }
            )
        out.append(
            {
                "claim": f"{t.theme.label} ({case_list(t.cases)})",
                "theme": t.theme.id,
                "theme_label": t.theme.label,
                "dimension": t.theme.dimension,
                "dimension_label": dims[t.theme.dimension],
                "perspective": study.perspective_of[t.theme.dimension],
                "cases": list(t.cases),
                "qualifies": t.theme.id in evidence.qualified,
                "rule": rule,
                "case_list_check": tg.check,
                "grounds": {g: list(tg.cases(g)) for g in GROUNDS},
                "theme_page": pages.theme_page(t.theme.id),
                "annotations": notes,
            }
        )
    return out


# -----------------------------------------------------------------------------------------------
# The comparison of production models, its discriminators, and the design rules


def _cite(text: str, citations: list[str]) -> str:
    return f"{text} ({'; '.join(citations)})" if citations else text


def comparison_table(study: Study, evidence: Evidence, separator: str = "; ") -> pd.DataFrame:
    """The comparison of production models: dimensions x models (the literature's
    characteristics), with the discriminators that hold under the rule (and the asserted ones)."""
    if study.production_models is None:
        raise ValueError("the study has no comparison of production models")
    comp, head = study.production_models, headers(study)
    perspective = study.perspective_of
    model_cols = {
        m.id: head.production_model_column.format(number=i, label=m.label, basis=m.basis)
        for i, m in enumerate(comp.production_models, start=1)
    }
    statuses = discriminator_statuses(comp, evidence)
    rows = []
    for dim in study.framework.dimensions:
        row: dict[str, object] = {"Perspective": perspective[dim.id], "Dimension": dim.label}
        for m in comp.production_models:
            row[model_cols[m.id]] = separator.join(
                _cite(c.text, c.citations)
                for c in comp.characteristics
                if c.model == m.id and c.dimension == dim.id
            )
        row[head.discriminators_column] = separator.join(
            s.discriminator.label
            for s in statuses
            if s.discriminator.dimension == dim.id and s.holds
        )
        rows.append(row)
    return _frame(
        rows, ["Perspective", "Dimension", *model_cols.values(), head.discriminators_column]
    )


def discriminators_table(study: Study, evidence: Evidence) -> pd.DataFrame:
    """Each discriminator of the comparison with its themes, their cases, and whether it holds."""
    if study.production_models is None:
        raise ValueError("the study has no comparison of production models")
    rows: list[dict[str, object]] = [
        {
            "discriminator": s.discriminator.id,
            "dimension": s.discriminator.dimension,
            "label": s.discriminator.label,
            "themes": "; ".join(s.discriminator.themes),
            "cases": case_list(s.cases),
            "holds": s.holds,
            "basis": f"asserted: {s.discriminator.basis}" if s.asserted else "cases",
        }
        for s in discriminator_statuses(study.production_models, evidence)
    ]
    return _frame(
        rows, ["discriminator", "dimension", "label", "themes", "cases", "holds", "basis"]
    )


def design_rules_table(study: Study, evidence: Evidence) -> pd.DataFrame:
    """The design rules, each with the discriminators it states and how many of them hold."""
    statuses = (
        {s.discriminator.id: s for s in discriminator_statuses(study.production_models, evidence)}
        if study.production_models
        else {}
    )
    persp = {p.id: p.label for p in study.framework.perspectives}
    labels = study.dimension_labels
    rows: list[dict[str, object]] = []
    for r in study.design_rules:
        stated = [statuses[d] for d in r.discriminators]
        rows.append(
            {
                "Rule": r.number,
                "Perspective": persp[r.perspective],
                "Dimension": labels[r.dimension],
                "Design rule": r.text,
                "Discriminators": "; ".join(s.discriminator.label for s in stated),
                "Holding": f"{sum(s.holds for s in stated)} of {len(stated)}",
            }
        )
    return _frame(
        rows, ["Rule", "Perspective", "Dimension", "Design rule", "Discriminators", "Holding"]
    )


# -----------------------------------------------------------------------------------------------
# Robustness and what changed


def robustness_table(study: Study, evidence: Evidence) -> pd.DataFrame:
    """Per theme: its cases, its margin over the threshold, the cases it rests on, the verdict."""
    labels = study.dimension_labels
    rows: list[dict[str, object]] = [
        {
            "theme": r.evidence.theme.id,
            "dimension_label": labels[r.evidence.theme.dimension],
            "label": r.evidence.theme.label,
            "cases": case_list(r.evidence.cases),
            "n_cases": len(r.evidence.cases),
            "margin": r.margin,
            "pivotal_cases": case_list(r.pivotal),
            "verdict": r.verdict,
        }
        for r in robustness(evidence)
    ]
    return _frame(
        rows,
        [
            "theme",
            "dimension_label",
            "label",
            "cases",
            "n_cases",
            "margin",
            "pivotal_cases",
            "verdict",
        ],
    )


def _boolean_matrix(
    values: dict[str, dict[int, bool]],
    themes: Iterable[ThemeEvidence],
    columns: list[int],
    name: str,
) -> pd.DataFrame:
    ids = [t.theme.id for t in themes]
    return pd.DataFrame(
        [[values[t][c] for c in columns] for t in ids],
        index=pd.Index(ids, name="theme"),
        columns=pd.Index(columns, name=name),
    )


def leave_one_case_out_table(evidence: Evidence) -> pd.DataFrame:
    """Theme x left-out case: does the theme still qualify without that case?"""
    return _boolean_matrix(
        leave_one_case_out(evidence), evidence.themes, list(evidence.coded_cases), "left_out_case"
    )


def threshold_sweep_table(evidence: Evidence, thresholds: list[int]) -> pd.DataFrame:
    """Theme x minimum number of cases: does the theme qualify at that minimum?"""
    return _boolean_matrix(
        threshold_sweep(evidence, thresholds), evidence.themes, thresholds, "min_cases"
    )


def changes_table(study: Study, baseline: Evidence, current: Evidence) -> pd.DataFrame:
    """What changed between a baseline and the current run, theme by theme."""
    labels = study.dimension_labels
    rows: list[dict[str, object]] = [
        {
            "theme": c.current.theme.id,
            "dimension_label": labels[c.current.theme.dimension],
            "label": c.current.theme.label + ("" if c.baseline else " (new theme)"),
            "baseline_cases": case_list(c.baseline.cases) if c.baseline else "",
            "cases": case_list(c.current.cases),
            "status": c.status,
        }
        for c in changes(baseline, current)
    ]
    return _frame(rows, ["theme", "dimension_label", "label", "baseline_cases", "cases", "status"])


def discriminator_changes_table(
    study: Study, baseline_study: Study, baseline: Evidence, current: Evidence
) -> pd.DataFrame:
    """What changed for each discriminator of the comparison of production models, against the
    baseline: its cases then and now, and whether it holds."""
    if study.production_models is None or baseline_study.production_models is None:
        raise ValueError("the study has no comparison of production models")
    labels = study.dimension_labels
    rows: list[dict[str, object]] = [
        {
            "discriminator": c.current.discriminator.id,
            "dimension_label": labels[c.current.discriminator.dimension],
            "label": c.current.discriminator.label,
            "themes": "; ".join(c.current.discriminator.themes),
            "baseline_cases": case_list(c.baseline.cases) if c.baseline else "",
            "cases": case_list(c.current.cases),
            "status": c.status,
        }
        for c in discriminator_changes(
            baseline_study.production_models, baseline, study.production_models, current
        )
    ]
    return _frame(
        rows,
        [
            "discriminator",
            "dimension_label",
            "label",
            "themes",
            "baseline_cases",
            "cases",
            "status",
        ],
    )
