"""REFI-QDA export: valid against the official schemas, and a round trip keeps every code,
selection and case."""

from __future__ import annotations

from pathlib import Path

import pytest

from crosscase import qda
from crosscase.paths import Layout
from crosscase.study import load_study

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "data" / "external" / "refi-qda"


@pytest.fixture(scope="module")
def study():
    return load_study(Layout.at(ROOT))


def test_codebook_is_valid(study) -> None:
    assert qda.validate(qda.codebook_xml(study), SCHEMAS / "Codebook.xsd") == []


def test_project_is_valid(study) -> None:
    xml, _ = qda.project_xml(study, "test")
    assert qda.validate(xml, SCHEMAS / "Project.xsd") == []


def test_an_invalid_document_is_rejected(study) -> None:
    xml = qda.codebook_xml(study).replace(b'isCodable="true"', b'isCodable="maybe"', 1)
    assert qda.validate(xml, SCHEMAS / "Codebook.xsd")


def test_round_trip_keeps_every_code_selection_and_case(study) -> None:
    archive = qda.project_archive(study, "test")
    assert archive == qda.project_archive(study, "test"), "byte-identical exports"
    back = qda.read_project(archive)
    dims = study.framework.dimensions
    assert sorted(back.codes.values()) == sorted(
        [p.label for p in study.framework.perspectives]
        + [d.label for d in dims]
        + [t.label for t in study.themes]
    )
    assert sorted(back.cases.values()) == sorted(c.name for c in study.cases)
    located = [co for co in study.observations if co.start is not None]
    assert len(back.selections) == len(study.cases) * len(dims) + len(located)
    assert back.notes == len(study.observations) - len(located)
    for co in located:
        name, text, refs = back.selections[qda.guid("observation", co.observation.id)]
        assert name == co.observation.id
        assert text == " ".join(co.observation.evidence.split())
        expected = {qda.guid("dimension", co.observation.dimension)}
        expected |= {qda.guid("theme", t) for t in co.observation.themes}
        assert set(refs) == expected and set(refs) <= set(back.codes)
    for case in study.cases:
        for d in dims:
            _, text, refs = back.selections[qda.guid("narrative", f"{case.id}:{d.id}")]
            assert text == case.narratives[d.id] and refs == [qda.guid("dimension", d.id)]
