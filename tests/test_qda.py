"""REFI-QDA export: valid against the official schemas, and a round trip keeps every code,
selection and case."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from conftest import project_archive
from lxml import etree

from crosscase.paths import Layout
from crosscase.qda import export
from crosscase.qda.format import CASES_CODE, PROJECT_NS, guid
from crosscase.qda.project import read_qdpx
from crosscase.study import load_study

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "data" / "external" / "refi-qda"


@pytest.fixture(scope="module")
def study():
    return load_study(Layout.at(ROOT))


def test_codebook_is_valid(study) -> None:
    assert export.validate(export.codebook_xml(study), SCHEMAS / "Codebook.xsd") == []


def test_project_is_valid(study) -> None:
    xml, _ = export.project_xml(study, "test")
    assert export.validate(xml, SCHEMAS / "Project.xsd") == []


def test_an_invalid_document_is_rejected(study) -> None:
    xml = export.codebook_xml(study).replace(b'isCodable="true"', b'isCodable="maybe"', 1)
    assert export.validate(xml, SCHEMAS / "Codebook.xsd")


def test_round_trip_keeps_every_code_selection_and_case(study, tmp_path: Path) -> None:
    archive = project_archive(study, "test")
    assert archive == project_archive(study, "test"), "byte-identical exports"
    (tmp_path / "p.qdpx").write_bytes(archive)
    back = read_qdpx(tmp_path / "p.qdpx", SCHEMAS / "Project.xsd")
    dims = study.framework.dimensions
    assert sorted(c.name for c in back.codes.values()) == sorted(
        [p.label for p in study.framework.perspectives]
        + [d.label for d in dims]
        + [t.label for t in study.themes]
        + [CASES_CODE]
        + [c.name for c in study.cases]  # each case's code, coding its whole source
    )
    assert sorted(c.name for c in back.cases) == sorted(c.name for c in study.cases)
    selections = {
        sel.guid: (sel.name, source.text[sel.start : sel.end], list(sel.codes))
        for source in back.sources
        for sel in source.selections
    }
    located = [co for co in study.observations if co.start is not None]
    assert len(selections) == len(study.cases) * (len(dims) + 1) + len(located)
    assert len(back.notes) == len(study.observations) - len(located)
    for co in located:
        name, text, refs = selections[guid("observation", co.observation.id)]
        assert name == co.observation.id
        assert text == " ".join(co.observation.evidence.split())
        expected = {guid("dimension", co.observation.dimension)}
        expected |= {guid("theme", t) for t in co.observation.themes}
        assert set(refs) == expected and set(refs) <= set(back.codes)
    for case in study.cases:
        for d in dims:
            _, text, refs = selections[guid("narrative", f"{case.id}:{d.id}")]
            assert text == case.narratives[d.id] and refs == [guid("dimension", d.id)]


# -----------------------------------------------------------------------------------------------
# What real tools need beyond the schema (QualCoder's and qualitative-coding's importers)

NS = {"q": PROJECT_NS}


def _project(study):
    archive = project_archive(study, "test")
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        root = etree.fromstring(zf.read("project.qde"))
        files = {n: zf.read(n) for n in zf.namelist()}
    return root, files


def test_every_element_tools_date_or_attribute_is_dated_and_attributed(study) -> None:
    """qualitative-coding reads ``creatingUser`` of every Coding; QualCoder calls ``.replace`` on
    the ``creationDateTime`` of every Note and selection: optional in the schema, required by
    them. Each user named must be a User of the project."""
    root, _ = _project(study)
    users = {u.get("guid") for u in root.iterfind("q:Users/q:User", NS)}
    assert users and all(u.get("name") for u in root.iterfind("q:Users/q:User", NS))
    assert root.get("creatingUserGUID") in users and root.get("creationDateTime")
    kinds = {"TextSource": 0, "PlainTextSelection": 0, "Coding": 0, "Note": 0}
    for kind in kinds:
        for el in root.iter(f"{{{PROJECT_NS}}}{kind}"):
            kinds[kind] += 1
            assert el.get("creatingUser") in users, (kind, el.get("guid"))
            assert el.get("creationDateTime"), (kind, el.get("guid"))
            if kind != "Coding":  # the schema gives a Coding no modifying user or date
                assert el.get("modifyingUser") in users and el.get("modifiedDateTime")
    assert all(kinds.values()), kinds


def test_notes_are_text_files_coded_and_tied_to_their_case(study) -> None:
    """QualCoder imports a note only from a file named by ``plainTextPath``: each observation
    that rests on no passage is such a note, coded with its dimension and themes over its whole
    text, and referred to from its case's source."""
    root, files = _project(study)
    unlocated = [co for co in study.observations if co.start is None]
    notes = root.findall("q:Notes/q:Note", NS)
    assert len(notes) == len(unlocated) > 0
    by_text = {co.observation.text: co for co in unlocated}
    codes = {c.get("guid"): c.get("name") for c in root.iter(f"{{{PROJECT_NS}}}Code")}
    labels = study.dimension_labels
    theme_labels = {t.id: t.label for t in study.themes}
    case_names = {c.id: c.name for c in study.cases}
    for note in notes:
        assert note.find("q:PlainTextContent", NS) is None
        path = note.get("plainTextPath")
        assert path.startswith("internal://")
        text = files["sources/" + path.removeprefix("internal://")].decode("utf-8")
        co = by_text[text]
        (sel,) = note.findall("q:PlainTextSelection", NS)
        assert (int(sel.get("startPosition")), int(sel.get("endPosition"))) == (0, len(text))
        coded = {codes[r.get("targetGUID")] for r in sel.iterfind("q:Coding/q:CodeRef", NS)}
        o = co.observation
        assert coded == {labels[o.dimension], *(theme_labels[t] for t in o.themes)}
        holders = [
            s.get("name")
            for s in root.iterfind("q:Sources/q:TextSource", NS)
            if any(
                r.get("targetGUID") == note.get("guid") for r in s.iter(f"{{{PROJECT_NS}}}NoteRef")
            )
        ]
        assert holders == [case_names[co.case]]


def test_cases_are_linked_to_their_sources(study) -> None:
    """Each case refers to its source (SourceRef, the standard's link) and codes that source's
    whole text with a code of the case's own GUID (the link QualCoder reads); its number is an
    Integer variable."""
    root, files = _project(study)
    sources = {s.get("guid"): s for s in root.iterfind("q:Sources/q:TextSource", NS)}
    variables = {v.get("guid"): v for v in root.iterfind("q:Variables/q:Variable", NS)}
    codes = {c.get("guid"): c for c in root.iter(f"{{{PROJECT_NS}}}Code")}
    cases = root.findall("q:Cases/q:Case", NS)
    assert sorted(c.get("name") for c in cases) == sorted(c.name for c in study.cases)
    numbers = {c.name: c.number for c in study.cases}
    for case in cases:
        (ref,) = case.findall("q:SourceRef", NS)
        source = sources[ref.get("targetGUID")]
        assert source.get("name") == case.get("name")
        assert codes[case.get("guid")].get("name") == case.get("name")
        text = files["sources/" + source.get("plainTextPath").removeprefix("internal://")]
        whole = [
            s
            for s in source.iterfind("q:PlainTextSelection", NS)
            if [r.get("targetGUID") for r in s.iterfind("q:Coding/q:CodeRef", NS)]
            == [case.get("guid")]
        ]
        assert [(s.get("startPosition"), s.get("endPosition")) for s in whole] == [
            ("0", str(len(text.decode("utf-8"))))
        ]
        ints = [
            vv.find("q:IntegerValue", NS).text
            for vv in case.iterfind("q:VariableValue", NS)
            if variables[vv.find("q:VariableRef", NS).get("targetGUID")].get("typeOfVariable")
            == "Integer"
        ]
        assert ints == [str(numbers[case.get("name")])]


def test_an_export_invalid_against_the_schemas_is_not_written(
    study, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from crosscase.cli import main

    monkeypatch.setenv("CROSSCASE_OUTPUT_ROOT", str(tmp_path))
    monkeypatch.chdir(ROOT)
    assert main(["qda"]) == 0
    out = Layout.discover().tables_dir("paper")
    assert sorted(p.name for p in out.iterdir()) == ["codebook.qdc", "project.qdpx"]
    for p in out.iterdir():
        p.unlink()
    valid = export.codebook_xml
    monkeypatch.setattr(
        export, "codebook_xml", lambda s: valid(s).replace(b'isCodable="true"', b'isCodable="no"')
    )
    assert main(["qda"]) == 1
    assert "not valid REFI-QDA" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_the_export_summary_counts_every_selection_the_project_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The notes' selections are selections of the project too: the summary counts them, and its
    items add up to what project.qde holds."""
    from crosscase.cli import main

    monkeypatch.setenv("CROSSCASE_OUTPUT_ROOT", str(tmp_path))
    monkeypatch.chdir(ROOT)
    assert main(["qda"]) == 0
    out = capsys.readouterr().out
    archive = Layout.discover().tables_dir("paper") / "project.qdpx"
    with zipfile.ZipFile(archive) as zf:
        root = etree.fromstring(zf.read("project.qde"))
    total = len(root.findall(".//q:PlainTextSelection", NS))
    in_notes = len(root.findall("q:Notes/q:Note/q:PlainTextSelection", NS))
    assert in_notes and total > in_notes
    line = next(x for x in out.splitlines() if "coded selections" in x)
    head, items = line.split(": ", 1)
    assert head.split()[-3:] == [str(total), "coded", "selections"], line
    in_sources, notes = items.split("), ")
    assert in_sources.startswith(f"{total - in_notes} in the case texts (")
    parts = in_sources.split("(", 1)[1].split(", ")
    assert sum(int(p.split()[0]) for p in parts) == total - in_notes, line
    assert notes.startswith(f"{in_notes} in the notes"), line


def test_the_export_writes_ids_where_tools_keep_them(study) -> None:
    """Tools regenerate GUIDs and rename selections (QualCoder names them by their text, NVivo
    leaves them unnamed), but keep variables and memos: each case's id is a Text variable
    ``Case id`` (and ends its Description), each theme's id its code's Description, and each
    observation's id starts its memo, in brackets (docs/qda-tools.md)."""
    root, _ = _project(study)
    variables = {v.get("name"): v for v in root.iterfind("q:Variables/q:Variable", NS)}
    assert variables["Case id"].get("typeOfVariable") == "Text"
    for case in root.iterfind("q:Cases/q:Case", NS):
        (ident,) = [
            vv.find("q:TextValue", NS).text
            for vv in case.iterfind("q:VariableValue", NS)
            if vv.find("q:VariableRef", NS).get("targetGUID") == variables["Case id"].get("guid")
        ]
        assert case.find("q:Description", NS).text.endswith(f"({ident})")
        assert case.get("guid") == guid("case", ident)
    for t in study.themes:
        code = root.find(f".//q:Code[@guid='{guid('theme', t.id)}']", NS)
        assert code.find("q:Description", NS).text == f"Second-order theme ({t.id})"
    for co in (co for co in study.observations if co.start is not None):
        o = co.observation
        sel = root.find(f".//q:PlainTextSelection[@guid='{guid('observation', o.id)}']", NS)
        assert sel.find("q:Description", NS).text == f"[{o.id}] {o.text}"
