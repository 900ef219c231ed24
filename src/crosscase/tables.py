"""The tables of a multiple-case study, computed from a :class:`~crosscase.model.Study` and its
:class:`~crosscase.evidence.Evidence`.

This is the edge where results become :class:`pandas.DataFrame` s of text and integers in a fixed
order (cases by number, dimensions and themes in framework order), so that the same data always
give the same table. Which cases evidence a theme and whether it qualifies is decided once, in
:mod:`crosscase.evidence`; nothing here recomputes it. Headers that a publication prints come
from the study's description (``data/raw/study.yaml``). A table of records is declared as its
columns, each with how its value is read from a record (:func:`_table`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import pandas as pd

from .evidence import (
    BASIS_LABELS,
    GROUNDS,
    Evidence,
    case_list,
    changes,
    discriminator_changes,
    discriminator_statuses,
    leave_one_case_out,
    robustness,
    theme_grounds,
    threshold_sweep,
)
from .model import Comparison, Framework, Study

T = TypeVar("T")


def _table(items: Iterable[T], columns: Mapping[str, Callable[[T], object]]) -> pd.DataFrame:
    """One row per item, one column per entry of ``columns`` (its header, and how its value is
    read from an item)."""
    rows = [[value(item) for value in columns.values()] for item in items]
    return pd.DataFrame(rows, columns=list(columns))


def _by_theme(
    cells: Mapping[str, Mapping[int, object]], columns: list[int], name: str
) -> pd.DataFrame:
    """Theme x ``columns`` (named ``name``): each theme's value in each column, themes in order."""
    rows = [[by[c] for c in columns] for by in cells.values()]
    index = pd.Index(list(cells), name="theme")
    return pd.DataFrame(rows, index=index, columns=pd.Index(columns, name=name))


# Cases and the framework -------------------------------------------------------------------------


def case_protocol_table(study: Study) -> pd.DataFrame:
    """The case-protocol table: one row a case, one column a protocol field. The first field is
    the row label, prefixed with the case number ("Case 1: ...") unless it already is."""
    fields = [f.id for f in study.framework.case_protocol]
    rows = []
    for case in study.cases:
        row = [case.protocol.get(f, "") for f in fields]
        label = f"{study.headers.case_prefix} {case.number}:"
        if row and not row[0].startswith(label):
            row[0] = f"{label} {row[0]}"
        rows.append(row)
    return pd.DataFrame(rows, columns=[f.label for f in study.framework.case_protocol])


def interview_protocol_table(framework: Framework) -> pd.DataFrame:
    """The interview protocol: each dimension's question under its perspective's question, with
    the dimension's coding keywords."""
    persp = {p.id: p for p in framework.perspectives}
    return _table(
        framework.dimensions,
        {
            "Perspective": lambda d: persp[d.perspective].label,
            "Perspective question": lambda d: persp[d.perspective].question or "",
            "Dimension": lambda d: d.label,
            "Question": lambda d: d.question or "",
            "Coding keywords": lambda d: ", ".join(d.keywords),
        },
    )


def narratives_table(study: Study) -> pd.DataFrame:
    """Within-case narratives: one row a dimension, one column a case."""
    rows = [
        [d.label, *(c.narratives.get(d.id, "") for c in study.cases)]
        for d in study.framework.dimensions
    ]
    return pd.DataFrame(rows, columns=["Dimension", *(c.name for c in study.cases)])


# First-order coding ------------------------------------------------------------------------------


def observations_table(study: Study) -> pd.DataFrame:
    """All first-order observations, long form, with their located evidence."""
    number = study.case_numbers
    return _table(
        study.observations,
        {
            "case": lambda co: co.case,
            "case_number": lambda co: number[co.case],
            "dimension": lambda co: co.observation.dimension,
            "observation": lambda co: co.observation.id,
            "text": lambda co: co.observation.text,
            "themes": lambda co: "; ".join(co.observation.themes),
            "evidence": lambda co: co.observation.evidence or "",
            "evidence_dimension": lambda co: co.evidence_dimension or "",
            "evidence_start": lambda co: -1 if co.start is None else co.start,
            "evidence_end": lambda co: -1 if co.end is None else co.end,
            "source": lambda co: co.observation.source or "",
        },
    )


def themes_column(evidence: Evidence, separator: str = "; ") -> dict[str, str]:
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
    """The cross-case data display: dimensions x cases, first-order observations in the cells;
    with ``evidence``, a last column of each dimension's qualifying themes and their cases."""
    cells: dict[tuple[str, str], list[str]] = {}
    for co in study.observations:
        cells.setdefault((co.observation.dimension, co.case), []).append(co.observation.text)
    perspective = study.perspective_of
    last = themes_column(evidence, separator) if evidence is not None else None
    rows = []
    for d in study.framework.dimensions:
        row = [perspective[d.id], d.label]
        row += [separator.join(cells.get((d.id, c.id), [])) for c in study.cases]
        rows.append(row + ([last.get(d.id, "")] if last is not None else []))
    columns = ["Perspective", "Dimension", *(c.name for c in study.cases)]
    columns += [study.headers.themes_column] if last is not None else []
    return pd.DataFrame(rows, columns=columns)


def _union_length(spans: list[tuple[int, int]]) -> int:
    total, end = 0, -1
    for s, e in sorted(spans):
        if e <= end:
            continue
        total += e - max(s, end)
        end = e
    return total


def coverage_matrix(study: Study) -> pd.DataFrame:
    """Coding coverage, case x dimension: observations, themed observations, and the share of
    the narrative's characters that evidence passages cover (located in that dimension)."""
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    n_obs: Counter[tuple[str, str]] = Counter()
    n_themed: Counter[tuple[str, str]] = Counter()
    for co in study.observations:
        key = (co.case, co.observation.dimension)
        n_obs[key] += 1
        n_themed[key] += bool(co.observation.themes)
        if (span := co.span) is not None:
            spans.setdefault((co.case, span[0]), []).append(span[1:])
    rows = []
    for case in study.cases:
        for dim in study.framework.dimensions:
            key, text = (case.id, dim.id), case.narratives.get(dim.id, "")
            share = round(100 * _union_length(spans.get(key, [])) / len(text)) if text else 0
            rows.append([case.id, case.number, dim.id, n_obs[key], n_themed[key], len(text), share])
    columns = ["case", "case_number", "dimension", "observations", "themed_observations"]
    columns += ["narrative_characters", "evidence_coverage_percent"]
    return pd.DataFrame(rows, columns=columns)


# Second-order themes -----------------------------------------------------------------------------


def theme_case_matrix(study: Study, evidence: Evidence) -> pd.DataFrame:
    """Theme x case: how many first-order observations of the case evidence the theme."""
    counts = {t.theme.id: t.counts for t in evidence.themes}  # a Counter: 0 for a case not in it
    return _by_theme(counts, [c.number for c in study.cases], "case")


def second_order_themes(study: Study, evidence: Evidence) -> pd.DataFrame:
    """Each second-order theme with the cases that evidence it and whether it qualifies as a
    discriminator under the rule."""
    labels = study.dimension_labels
    return _table(
        evidence.themes,
        {
            "theme": lambda t: t.theme.id,
            "dimension": lambda t: t.theme.dimension,
            "dimension_label": lambda t: labels[t.theme.dimension],
            "label": lambda t: t.theme.label,
            "cases": lambda t: case_list(t.cases),
            "n_cases": lambda t: len(t.cases),
            "n_observations": lambda t: len(t.observations),
            "qualifies": lambda t: t.theme.id in evidence.qualified,
        },
    )


# The chain of evidence: where each theme link comes from -----------------------------------------


def links_table(study: Study, evidence: Evidence) -> pd.DataFrame:
    """Every observation-theme link with its basis (where the link comes from) and its grounds
    (independent, by construction, or a reconstructed observation)."""
    observations = {co.observation.id: co for co in study.observations}
    links = [(tg, link) for tg in theme_grounds(study, evidence) for link in tg.links]
    return _table(
        links,
        {
            "theme": lambda x: x[1].theme,
            "dimension": lambda x: x[0].evidence.theme.dimension,
            "case_number": lambda x: x[1].case,
            "case": lambda x: observations[x[1].observation].case,
            "observation": lambda x: x[1].observation,
            "text": lambda x: observations[x[1].observation].observation.text,
            "basis": lambda x: x[1].basis,
            "basis_label": lambda x: BASIS_LABELS[x[1].basis],
            "grounds": lambda x: x[1].grounds,
            "source": lambda x: observations[x[1].observation].observation.source or "",
        },
    )


def theme_grounds_table(study: Study, evidence: Evidence) -> pd.DataFrame:
    """Per theme: its cases by the grounds they rest on (the strongest link of each case), their
    counts, and what a check of its computed case list against a printed one proves."""
    labels = study.dimension_labels
    names = [g.replace(" ", "_") for g in GROUNDS]
    rows = []
    for tg in theme_grounds(study, evidence):
        t = tg.evidence
        row: list[object] = [t.theme.id, labels[t.theme.dimension], t.theme.label]
        row += [case_list(t.cases), t.theme.id in evidence.qualified]
        row += [case_list(tg.cases(g)) for g in GROUNDS] + [len(tg.cases(g)) for g in GROUNDS]
        rows.append([*row, tg.check])
    columns = ["theme", "dimension_label", "label", "cases", "qualifies"]
    columns += [*names, *(f"n_{name}" for name in names), "case_list_check"]
    return pd.DataFrame(rows, columns=columns)


# The comparison with alternatives, its discriminators, and the propositions ----------------------


def _comparison(study: Study) -> Comparison:
    if study.comparison is None:
        raise ValueError("the study has no comparison with alternatives")
    return study.comparison


def _cite(text: str, citations: list[str]) -> str:
    return f"{text} ({'; '.join(citations)})" if citations else text


def comparison_table(study: Study, evidence: Evidence, separator: str = "; ") -> pd.DataFrame:
    """The comparison with alternatives: dimensions x alternatives (the literature's
    characteristics), with the discriminators that hold under the rule (and the asserted ones)."""
    comp, head = _comparison(study), study.headers
    perspective = study.perspective_of
    holding = [s.discriminator for s in discriminator_statuses(comp, evidence) if s.holds]
    rows = []
    for d in study.framework.dimensions:
        row = [perspective[d.id], d.label]
        for m in comp.alternatives:
            said = [c for c in comp.characteristics if (c.alternative, c.dimension) == (m.id, d.id)]
            row.append(separator.join(_cite(c.text, c.citations) for c in said))
        rows.append([*row, separator.join(x.label for x in holding if x.dimension == d.id)])
    alternatives = [
        head.alternative_column.format(number=i, label=m.label, basis=m.basis)
        for i, m in enumerate(comp.alternatives, start=1)
    ]
    columns = ["Perspective", "Dimension", *alternatives, head.discriminators_column]
    return pd.DataFrame(rows, columns=columns)


def discriminators_table(study: Study, evidence: Evidence) -> pd.DataFrame:
    """Each discriminator of the comparison with its themes, their cases, and whether it holds."""
    return _table(
        discriminator_statuses(_comparison(study), evidence),
        {
            "discriminator": lambda s: s.discriminator.id,
            "dimension": lambda s: s.discriminator.dimension,
            "label": lambda s: s.discriminator.label,
            "themes": lambda s: "; ".join(s.discriminator.themes),
            "cases": lambda s: case_list(s.cases),
            "holds": lambda s: s.holds,
            "basis": lambda s: f"asserted: {s.discriminator.basis}" if s.asserted else "cases",
        },
    )


def propositions_table(study: Study, evidence: Evidence) -> pd.DataFrame:
    """The propositions, each with the discriminators it states and how many of them hold."""
    found = discriminator_statuses(study.comparison, evidence) if study.comparison else ()
    statuses = {s.discriminator.id: s for s in found}
    persp = {p.id: p.label for p in study.framework.perspectives}
    labels, head = study.dimension_labels, study.headers

    def stated(r: Any) -> list[Any]:
        return [statuses[d] for d in r.discriminators]

    return _table(
        study.propositions,
        {
            head.proposition_number: lambda r: r.number,
            "Perspective": lambda r: persp[r.perspective],
            "Dimension": lambda r: labels[r.dimension],
            head.proposition: lambda r: r.text,
            "Discriminators": lambda r: "; ".join(s.discriminator.label for s in stated(r)),
            "Holding": lambda r: f"{sum(s.holds for s in stated(r))} of {len(stated(r))}",
        },
    )


# Robustness and what changed ---------------------------------------------------------------------


def robustness_table(study: Study, evidence: Evidence) -> pd.DataFrame:
    """Per theme: its cases, its margin over the threshold, the cases it rests on, the verdict."""
    labels = study.dimension_labels
    return _table(
        robustness(evidence),
        {
            "theme": lambda r: r.evidence.theme.id,
            "dimension_label": lambda r: labels[r.evidence.theme.dimension],
            "label": lambda r: r.evidence.theme.label,
            "cases": lambda r: case_list(r.evidence.cases),
            "n_cases": lambda r: len(r.evidence.cases),
            "margin": lambda r: r.margin,
            "pivotal_cases": lambda r: case_list(r.pivotal),
            "verdict": lambda r: r.verdict,
        },
    )


def leave_one_case_out_table(evidence: Evidence) -> pd.DataFrame:
    """Theme x left-out case: does the theme still qualify without that case?"""
    return _by_theme(leave_one_case_out(evidence), list(evidence.coded_cases), "left_out_case")


def threshold_sweep_table(evidence: Evidence, thresholds: list[int]) -> pd.DataFrame:
    """Theme x minimum number of cases: does the theme qualify at that minimum?"""
    return _by_theme(threshold_sweep(evidence, thresholds), thresholds, "min_cases")


def changes_table(study: Study, baseline: Evidence, current: Evidence) -> pd.DataFrame:
    """What changed between a baseline and the current run, theme by theme."""
    labels = study.dimension_labels
    return _table(
        changes(baseline, current),
        {
            "theme": lambda c: c.current.theme.id,
            "dimension_label": lambda c: labels[c.current.theme.dimension],
            "label": lambda c: c.current.theme.label + ("" if c.baseline else " (new theme)"),
            "baseline_cases": lambda c: case_list(c.baseline.cases) if c.baseline else "",
            "cases": lambda c: case_list(c.current.cases),
            "status": lambda c: c.status,
        },
    )


def discriminator_changes_table(
    study: Study, baseline_study: Study, baseline: Evidence, current: Evidence
) -> pd.DataFrame:
    """What changed for each discriminator of the comparison against the baseline: its cases
    then and now, and whether it holds."""
    labels, before = study.dimension_labels, _comparison(baseline_study)
    return _table(
        discriminator_changes(before, baseline, _comparison(study), current),
        {
            "discriminator": lambda c: c.current.discriminator.id,
            "dimension_label": lambda c: labels[c.current.discriminator.dimension],
            "label": lambda c: c.current.discriminator.label,
            "themes": lambda c: "; ".join(c.current.discriminator.themes),
            "baseline_cases": lambda c: case_list(c.baseline.cases) if c.baseline else "",
            "cases": lambda c: case_list(c.current.cases),
            "status": lambda c: c.status,
        },
    )
