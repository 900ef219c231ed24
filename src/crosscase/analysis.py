"""Cross-case analysis: the tables of a multiple-case study, computed from a :class:`Study`.

Every function returns a plain :class:`pandas.DataFrame` of text and integers in a fixed order
(cases by number, dimensions and themes in framework order), so that the same data always give
the same table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .model import Framework
from .study import Study

THEMES_COLUMN = "Emerging constructs (2nd order themes), with case study sources"


def _dimension_labels(study: Study) -> dict[str, str]:
    return {d.id: d.label for d in study.framework.dimensions}


def _perspective_of(study: Study) -> dict[str, str]:
    labels = {p.id: p.label for p in study.framework.perspectives}
    return {d.id: labels[d.perspective] for d in study.framework.dimensions}


def case_protocol_table(study: Study, case_prefix: str = "Case") -> pd.DataFrame:
    """The case-protocol table (Table 1): one row a case, one column a protocol field.

    The first protocol field is the row label, prefixed with the case number.
    """
    fields = study.framework.case_protocol
    rows = []
    for case in study.cases:
        row = {f.label: case.protocol.get(f.id, "") for f in fields}
        if fields:
            first = fields[0].label
            row[first] = f"{case_prefix} {case.number}: {row[first]}"
        rows.append(row)
    return pd.DataFrame(rows, columns=[f.label for f in fields])


def interview_protocol_table(framework: Framework) -> pd.DataFrame:
    """The interview protocol (the paper's Appendix): each dimension's question under its
    perspective's question, with the dimension's coding keywords."""
    persp = {p.id: p for p in framework.perspectives}
    rows = [
        {
            "Perspective": persp[d.perspective].label,
            "Perspective question": persp[d.perspective].question or "",
            "Dimension": d.label,
            "Question": d.question or "",
            "Coding keywords": ", ".join(d.keywords),
        }
        for d in framework.dimensions
    ]
    return pd.DataFrame(
        rows,
        columns=["Perspective", "Perspective question", "Dimension", "Question", "Coding keywords"],
    )


def narratives_table(study: Study) -> pd.DataFrame:
    """Within-case narratives (Table 2): one row a dimension, one column a case."""
    rows = []
    for dim in study.framework.dimensions:
        row = {"Dimension": dim.label}
        row.update({c.name: c.narratives.get(dim.id, "") for c in study.cases})
        rows.append(row)
    return pd.DataFrame(rows, columns=["Dimension", *(c.name for c in study.cases)])


def observations_table(study: Study) -> pd.DataFrame:
    """All first-order observations, long form, with their located evidence."""
    number = {c.id: c.number for c in study.cases}
    rows = [
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
    columns = [
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
    return pd.DataFrame(rows, columns=columns)


def data_display(
    study: Study, themes_column: pd.Series | None = None, separator: str = "; "
) -> pd.DataFrame:
    """The cross-case data display (Table 3): dimensions x cases, observations in the cells.

    With ``themes_column`` (from :func:`themes_by_dimension`), the last column lists each
    dimension's second-order themes with their case sources.
    """
    cells: dict[tuple[str, str], list[str]] = {}
    for co in study.observations:
        cells.setdefault((co.observation.dimension, co.case), []).append(co.observation.text)
    perspective = _perspective_of(study)
    rows = []
    for dim in study.framework.dimensions:
        row = {"Perspective": perspective[dim.id], "Dimension": dim.label}
        for c in study.cases:
            row[c.name] = separator.join(cells.get((dim.id, c.id), []))
        if themes_column is not None:
            row[THEMES_COLUMN] = str(themes_column.get(dim.id, ""))
        rows.append(row)
    columns = ["Perspective", "Dimension", *(c.name for c in study.cases)]
    if themes_column is not None:
        columns.append(THEMES_COLUMN)
    return pd.DataFrame(rows, columns=columns)


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
    rows = []
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
    return pd.DataFrame(rows)


def _union_length(spans: list[tuple[int, int]]) -> int:
    total, end = 0, -1
    for s, e in sorted(spans):
        if e <= end:
            continue
        total += e - max(s, end)
        end = e
    return total


@dataclass(frozen=True)
class DiscriminatorRule:
    """A second-order theme is a discriminator when enough cases evidence it.

    ``min_cases`` is an absolute minimum; ``min_share`` a minimum share of the coded cases
    (0 < share <= 1). With both, the stricter applies.
    """

    min_cases: int | None = 3
    min_share: float | None = None

    def __post_init__(self) -> None:
        if self.min_cases is None and self.min_share is None:
            raise ValueError("a discriminator rule needs min_cases, min_share or both")
        if self.min_cases is not None and self.min_cases < 1:
            raise ValueError(f"min_cases must be at least 1, not {self.min_cases}")
        if self.min_share is not None and not 0 < self.min_share <= 1:
            raise ValueError(f"min_share must be in (0, 1], not {self.min_share}")

    def threshold(self, n_cases: int) -> int:
        """The number of cases a theme needs, out of ``n_cases`` coded cases."""
        need = self.min_cases or 1
        if self.min_share is not None:
            need = max(need, math.ceil(self.min_share * n_cases - 1e-9))
        return need

    def describe(self, n_cases: int) -> str:
        parts = []
        if self.min_cases is not None:
            parts.append(f"at least {self.min_cases} cases")
        if self.min_share is not None:
            parts.append(f"at least {self.min_share:.0%} of the {n_cases} coded cases")
        return " and ".join(parts) + f" (threshold: {self.threshold(n_cases)} cases)"


def theme_case_matrix(study: Study) -> pd.DataFrame:
    """Theme x case: how many first-order observations of the case evidence the theme."""
    counts: dict[tuple[str, str], int] = {}
    for co in study.observations:
        for t in co.observation.themes:
            counts[(t, co.case)] = counts.get((t, co.case), 0) + 1
    data = [[counts.get((t.id, c.id), 0) for c in study.cases] for t in study.themes]
    return pd.DataFrame(
        data,
        index=pd.Index([t.id for t in study.themes], name="theme"),
        columns=pd.Index([c.number for c in study.cases], name="case"),
    )


def second_order_themes(study: Study, rule: DiscriminatorRule) -> pd.DataFrame:
    """Each second-order theme with the cases that evidence it and whether it is a discriminator."""
    matrix = theme_case_matrix(study)
    counts = {
        str(t): [int(x) for x in row]
        for t, row in zip(matrix.index, matrix.to_numpy(), strict=True)
    }
    numbers = [int(c) for c in matrix.columns]
    n_coded = len(study.coded_cases)
    need = rule.threshold(n_coded)
    labels = _dimension_labels(study)
    rows = []
    for t in study.themes:
        cases = [n for n, k in zip(numbers, counts[t.id], strict=True) if k > 0]
        rows.append(
            {
                "theme": t.id,
                "dimension": t.dimension,
                "dimension_label": labels[t.dimension],
                "label": t.label,
                "cases": ", ".join(map(str, cases)),
                "n_cases": len(cases),
                "n_observations": sum(counts[t.id]),
                "discriminator": len(cases) >= need,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "theme",
            "dimension",
            "dimension_label",
            "label",
            "cases",
            "n_cases",
            "n_observations",
            "discriminator",
        ],
    )


def themes_by_dimension(
    themes: pd.DataFrame, only_discriminators: bool = True, separator: str = "; "
) -> pd.Series:
    """Table 3's last column: per dimension, 'Label (1, 4, 5)' for each (discriminating) theme."""
    kept = themes[themes["discriminator"]] if only_discriminators else themes
    out: dict[str, str] = {}
    for dim, group in kept.groupby("dimension", sort=False):
        out[str(dim)] = separator.join(f"{r.label} ({r.cases})" for r in group.itertuples())
    return pd.Series(out, dtype=object)


def _cite(text: str, citations: list[str]) -> str:
    return f"{text} ({'; '.join(citations)})" if citations else text


def comparison_table(
    study: Study,
    themes: pd.DataFrame,
    separator: str = "; ",
    discriminators_label: str = "Emerging discriminators (based on case studies)",
) -> pd.DataFrame:
    """The comparison of production models (Table 4): dimensions x models, with the discriminators
    whose themes qualify under the rule (and the asserted ones that rest on no theme)."""
    if study.comparison is None:
        raise ValueError("the study has no comparison file")
    comp = study.comparison
    qualified = set(themes.loc[themes["discriminator"], "theme"])
    perspective = _perspective_of(study)
    model_cols = {
        m.id: f"{i}. {m.label} (based on {m.basis})"
        for i, m in enumerate(comp.production_models, start=1)
    }
    rows = []
    for dim in study.framework.dimensions:
        row = {"Perspective": perspective[dim.id], "Dimension": dim.label}
        for m in comp.production_models:
            row[model_cols[m.id]] = separator.join(
                _cite(c.text, c.citations)
                for c in comp.characteristics
                if c.model == m.id and c.dimension == dim.id
            )
        row[discriminators_label] = separator.join(
            d.label
            for d in comp.discriminators
            if d.dimension == dim.id and (not d.themes or all(t in qualified for t in d.themes))
        )
        rows.append(row)
    return pd.DataFrame(
        rows, columns=["Perspective", "Dimension", *model_cols.values(), discriminators_label]
    )


def discriminators_table(study: Study, themes: pd.DataFrame) -> pd.DataFrame:
    """Each discriminator of the comparison with its themes, their cases, and whether it holds."""
    if study.comparison is None:
        raise ValueError("the study has no comparison file")
    info = themes.set_index("theme")
    rows = []
    for d in study.comparison.discriminators:
        if d.themes:
            cases = sorted(
                {int(x) for t in d.themes for x in str(info.loc[t, "cases"]).split(", ") if x}
            )
            holds = bool(all(info.loc[t, "discriminator"] for t in d.themes))
            basis = "cases"
        else:
            cases, holds, basis = [], True, f"asserted: {d.basis}"
        rows.append(
            {
                "discriminator": d.id,
                "dimension": d.dimension,
                "label": d.label,
                "themes": "; ".join(d.themes),
                "cases": ", ".join(map(str, cases)),
                "holds": holds,
                "basis": basis,
            }
        )
    return pd.DataFrame(
        rows, columns=["discriminator", "dimension", "label", "themes", "cases", "holds", "basis"]
    )


def design_rules_table(study: Study, discriminators: pd.DataFrame) -> pd.DataFrame:
    """The design rules, each with the discriminators it states and whether all of them hold."""
    info = discriminators.set_index("discriminator")
    persp = {p.id: p.label for p in study.framework.perspectives}
    labels = _dimension_labels(study)
    rows = []
    for r in study.design_rules:
        holding = [d for d in r.discriminators if bool(info.loc[d, "holds"])]
        rows.append(
            {
                "Rule": r.number,
                "Perspective": persp[r.perspective],
                "Dimension": labels[r.dimension],
                "Design rule": r.text,
                "Discriminators": "; ".join(str(info.loc[d, "label"]) for d in r.discriminators),
                "Holding": f"{len(holding)} of {len(r.discriminators)}",
            }
        )
    return pd.DataFrame(
        rows,
        columns=["Rule", "Perspective", "Dimension", "Design rule", "Discriminators", "Holding"],
    )


def compare_discriminators(baseline: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """What changed between two runs' second-order themes (from :func:`second_order_themes`).

    Status: ``holds`` (a discriminator in both), ``falls below the rule`` (only in the baseline),
    ``newly qualifies`` (only now), ``below the rule`` (in neither); themes the baseline does
    not have are marked ``(new theme)``.
    """
    base = {str(r["theme"]): r for r in baseline.to_dict("records")}
    rows = []
    for r in current.to_dict("records"):
        old = base.get(str(r["theme"]))
        was = bool(old["discriminator"]) if old else False
        now = bool(r["discriminator"])
        status = {
            (True, True): "holds",
            (True, False): "falls below the rule",
            (False, True): "newly qualifies",
            (False, False): "below the rule",
        }[(was, now)]
        rows.append(
            {
                "theme": str(r["theme"]),
                "dimension_label": str(r["dimension_label"]),
                "label": str(r["label"]) + ("" if old else " (new theme)"),
                "baseline_cases": str(old["cases"]) if old else "",
                "cases": str(r["cases"]),
                "status": status,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["theme", "dimension_label", "label", "baseline_cases", "cases", "status"],
    )


def _evidence_sets(study: Study) -> tuple[list[int], dict[str, set[int]]]:
    """Numbers of the coded cases, and for each theme the set of cases that evidence it."""
    number = {c.id: c.number for c in study.cases}
    coded = sorted(number[c] for c in study.coded_cases)
    sets: dict[str, set[int]] = {t.id: set() for t in study.themes}
    for co in study.observations:
        for t in co.observation.themes:
            sets[t].add(number[co.case])
    return coded, sets


def leave_one_case_out(study: Study, rule: DiscriminatorRule) -> pd.DataFrame:
    """Theme x left-out case: is the theme still a discriminator without that case?

    Computed from the evidence sets directly (no re-analysis per case, no set copied per cell:
    without case ``c`` a theme keeps ``len(cases) - (c in cases)`` cases), so it costs
    O(themes x cases).
    """
    coded, sets = _evidence_sets(study)
    need = rule.threshold(len(coded) - 1)
    data = [[len(s) - (c in s) >= need for c in coded] for s in (sets[t.id] for t in study.themes)]
    return pd.DataFrame(
        data,
        index=pd.Index([t.id for t in study.themes], name="theme"),
        columns=pd.Index(coded, name="left_out_case"),
    )


def threshold_sweep(study: Study, thresholds: list[int]) -> pd.DataFrame:
    """Theme x minimum number of cases: is the theme a discriminator under that threshold?"""
    _, sets = _evidence_sets(study)
    data = [[len(sets[t.id]) >= k for k in thresholds] for t in study.themes]
    return pd.DataFrame(
        data,
        index=pd.Index([t.id for t in study.themes], name="theme"),
        columns=pd.Index(thresholds, name="min_cases"),
    )


def robustness_summary(study: Study, rule: DiscriminatorRule) -> pd.DataFrame:
    """Per theme: is it a discriminator, and does it survive leaving out any one case?

    ``stable``: a discriminator without any one of the cases; ``rests on a single case``: a
    discriminator that falls below the rule when one of the ``pivotal_cases`` is left out;
    ``not a discriminator``: below the rule with all cases.
    """
    coded, sets = _evidence_sets(study)
    loo = leave_one_case_out(study, rule)
    # Rows of the leave-one-out matrix as plain arrays: one pass, no .loc lookup per cell.
    left_out = [int(c) for c in loo.columns]
    holds = dict(zip(loo.index, loo.to_numpy(dtype=bool), strict=True))
    need = rule.threshold(len(coded))
    labels = _dimension_labels(study)
    rows = []
    for t in study.themes:
        cases = sorted(sets[t.id])
        is_disc = len(cases) >= need
        pivotal = (
            [c for c, ok in zip(left_out, holds[t.id], strict=True) if not ok] if is_disc else []
        )
        if not is_disc:
            verdict = "not a discriminator"
        elif pivotal:
            verdict = "rests on a single case"
        else:
            verdict = "stable"
        rows.append(
            {
                "theme": t.id,
                "dimension_label": labels[t.dimension],
                "label": t.label,
                "cases": ", ".join(map(str, cases)),
                "n_cases": len(cases),
                "margin": len(cases) - need,
                "pivotal_cases": ", ".join(map(str, pivotal)),
                "verdict": verdict,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
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
