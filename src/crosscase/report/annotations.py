"""The chain of evidence as annotations in the manner of the Annotation for Transparent Inquiry
(ATI): one record per claim (a second-order theme with the cases that evidence it), holding, for
each observation behind it, the analytic note (the first-order observation), the source excerpt
(its evidence passage, located in the case's narratives), where the link comes from, and the link
to the case's page in the report (:mod:`.names`). The fields are documented in
data/processed/README.md."""

from __future__ import annotations

from ..evidence import BASIS_LABELS, GROUNDS, Evidence, Link, ThemeGrounds, case_list, theme_grounds
from ..model import CodedObservation, Study
from . import names


def _annotation(study: Study, co: CodedObservation, link: Link) -> dict[str, object]:
    """The analytic note and source excerpt of one link."""
    o = co.observation
    case = next(c for c in study.cases if c.id == co.case)
    span = co.span
    return {
        "case": case.number,
        "case_id": case.id,
        "case_name": case.name,
        "observation": o.id,
        "analytic_note": o.text,
        "source_excerpt": o.evidence and " ".join(o.evidence.split()),
        "excerpt_dimension": span[0] if span else None,
        "excerpt_start": span[1] if span else None,
        "excerpt_end": span[2] if span else None,
        "basis": link.basis,
        "basis_label": BASIS_LABELS[link.basis],
        "grounds": link.grounds,
        "observation_source": o.source,
        "observation_note": o.note and " ".join(o.note.split()),
        "case_page": names.observation_link(case.id, o.id),
    }


def _claim(study: Study, evidence: Evidence, tg: ThemeGrounds) -> dict[str, object]:
    """One theme with its cases, as a claim, and the annotations of its links."""
    observations = {co.observation.id: co for co in study.observations}
    t = tg.evidence
    return {
        "claim": f"{t.theme.label} ({case_list(t.cases)})",
        "theme": t.theme.id,
        "theme_label": t.theme.label,
        "dimension": t.theme.dimension,
        "dimension_label": study.dimension_labels[t.theme.dimension],
        "perspective": study.perspective_of[t.theme.dimension],
        "cases": list(t.cases),
        "qualifies": t.theme.id in evidence.qualified,
        "rule": evidence.rule.describe(len(evidence.coded_cases)),
        "case_list_check": tg.check,
        "grounds": {g: list(tg.cases(g)) for g in GROUNDS},
        "theme_page": names.theme_file(t.theme.id),
        "annotations": [_annotation(study, observations[k.observation], k) for k in tg.links],
    }


def annotation_records(study: Study, evidence: Evidence) -> list[dict[str, object]]:
    """Every claim of the study (each theme with its cases) with its annotations."""
    return [_claim(study, evidence, tg) for tg in theme_grounds(study, evidence)]
