"""REFI-QDA import (``crosscase import-qdpx``): the study's own export comes back unchanged, a
sixth case coded the way a QDA tool leaves it arrives as the illustrative case it was made from,
a changed coding is reported, and bad input gets one report with nothing written."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, project_archive, project_copy
from fixtures import make_tool_export
from lxml import etree

from crosscase.cli import main
from crosscase.evidence import changes, collect
from crosscase.model import DiscriminatorRule, Study
from crosscase.paths import Layout
from crosscase.qda import archive as qdpx_archive
from crosscase.qda import export
from crosscase.qda.errors import QdpxError
from crosscase.qda.interpret import interpret
from crosscase.qda.project import read_qdpx
from crosscase.qda.write import write_case_set
from crosscase.study import load_study
from crosscase.study.passages import normalise_space

LAYOUT = Layout.at(ROOT)
SCHEMA = ROOT / "data" / "external" / "refi-qda" / "Project.xsd"
EXAMPLE = ROOT / "examples" / "illustrative"
FIXTURE = ROOT / "tests" / "fixtures" / "tool-export"
NS = {"q": export.PROJECT_NS}


@pytest.fixture(scope="module")
def study() -> Study:
    return load_study(LAYOUT)


def zipped(files: dict[str, bytes], path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            zf.writestr(name, files[name])
    return path


def fixture_files() -> dict[str, bytes]:
    return {
        p.relative_to(FIXTURE).as_posix(): p.read_bytes()
        for p in sorted(FIXTURE.rglob("*"))
        if p.is_file()
    }


def observation_content(observations) -> list[tuple]:
    """What an observation says, without its id (ids of a tool's export are made on import)."""
    return sorted(
        (
            o.dimension,
            normalise_space(o.text),
            normalise_space(o.evidence) if o.evidence else None,
            tuple(sorted(o.themes)),
        )
        for o in observations
    )


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    from contextlib import redirect_stderr, redirect_stdout

    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


# -----------------------------------------------------------------------------------------------
# Round trip: the study's export comes back as the study


def test_the_study_exported_then_imported_is_the_study(study: Study, tmp_path: Path) -> None:
    path = tmp_path / "study.qdpx"
    path.write_bytes(project_archive(study, "test"))
    imported = interpret(read_qdpx(path, SCHEMA), study)
    assert [c.known for c in imported.cases] == list(study.cases)
    for c in imported.cases:
        assert c.case == c.known, "id, number, name, protocol and every narrative"
        assert c.differences == ()
    by_case = {c.case.id: c for c in imported.cases}
    for case in study.cases:
        mine = [co.observation for co in study.observations if co.case == case.id]
        back = by_case[case.id].observations
        assert [o.id for o in back] and {o.id for o in back} == {o.id for o in mine}
        assert observation_content(back) == observation_content(mine)
    assert imported.new_themes == ()
    # Written as files (every case), the case set loads as the study
    written = write_case_set(LAYOUT, imported, tmp_path / "set", "study.qdpx", cases="all")
    assert len(written.written) == 2 * len(study.cases) and written.cases_option[-1].endswith(
        "set/cases"
    )
    again = load_study(LAYOUT, [tmp_path / "set" / "cases"])
    assert again.cases == study.cases
    assert observation_content(co.observation for co in again.observations) == (
        observation_content(co.observation for co in study.observations)
    )
    assert [co.observation.id for co in again.observations] == [
        co.observation.id for co in study.observations
    ]
    # What the project does not carry is kept from the study: each observation's source, note
    # and the basis of each theme link
    assert again.observations == study.observations


def test_the_command_says_the_export_is_the_study_and_writes_nothing(
    study: Study, tmp_path: Path
) -> None:
    path = tmp_path / "study.qdpx"
    path.write_bytes(project_archive(study, "test"))
    code, out, err = run("import-qdpx", str(path), "--into", str(tmp_path / "set"))
    assert (code, err) == (0, "")
    n = len(study.cases)
    assert f"{n} cases: 0 new, {n} as in the study, 0 changed" in out
    notes = sum(1 for co in study.observations if co.start is None)
    assert f"{notes} first-order observations with no passage" in out
    assert f"{n} case links" in out
    assert "Nothing to write" in out and "Imported in" in out
    assert not (tmp_path / "set").exists()


def summary_row(out: str, element: str) -> tuple[int, str]:
    """A row of the import's summary: how many elements of that kind, and what they became."""
    line = next(x for x in out.splitlines() if x.strip().startswith(f"{element} "))
    count, became = line.strip().removeprefix(element).split(" -> ", 1)
    return int(count), became


def test_the_import_summary_accounts_for_every_selection(study: Study, tmp_path: Path) -> None:
    """What the selections became adds up to how many the file holds: the notes' selections
    and an observation kept as several selections (one code a selection) included."""
    root = etree.fromstring(_export_files(study)["project.qde"])
    held = len(root.findall(".//q:PlainTextSelection", NS))
    notes = len(root.findall("q:Notes/q:Note/q:PlainTextSelection", NS))
    rows = {}
    for name, files in (("study", _export_files(study)), ("tool", fixture_files())):
        path = zipped(files, tmp_path / f"{name}.qdpx")
        code, out, err = run("import-qdpx", str(path), "--into", str(tmp_path / name))
        assert (code, err) == (0, "")
        rows[name] = count, became = summary_row(out, "coded selections")
        items = re.sub(r"\([^()]*\)", "", became.split(";")[0]).split(", ")
        assert sum(int(item.split()[0]) for item in items) == count, became
    assert rows["study"][0] == held
    assert notes and f"{notes} in notes" in rows["study"][1]


def test_the_import_summary_names_the_codes_it_does_not_use(study: Study, tmp_path: Path) -> None:
    """The codes that are neither the study's dimensions and themes nor a case's are named: all
    of them when they are few, else the first three and how many more."""
    others = [p.label for p in study.framework.perspectives] + [export.CASES_CODE]
    files = _export_files(study)
    path = zipped(files, tmp_path / "study.qdpx")
    code, out, _ = run("import-qdpx", str(path), "--into", str(tmp_path / "set"))
    assert code == 0
    _, became = summary_row(out, "codes")
    assert became.endswith(
        f"{len(others)} other (unused): " + ", ".join(repr(n) for n in others)
    ), became
    root = etree.fromstring(files["project.qde"])
    codes = root.find("q:CodeBook/q:Codes", NS)
    extra = ["Ideas", "Quotes for the paper", "To discuss"]
    for name in extra:
        etree.SubElement(
            codes,
            f"{{{export.PROJECT_NS}}}Code",
            guid=export.guid("extra", name),
            name=name,
            isCodable="true",
        )
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    path = zipped(files, tmp_path / "more.qdpx")
    code, out, _ = run("import-qdpx", str(path), "--into", str(tmp_path / "set"))
    assert code == 0
    _, became = summary_row(out, "codes")
    named = ", ".join(repr(n) for n in [*others, *extra][:3])
    assert became.endswith(f"{len(others) + 3} other (unused): {named} and 3 more"), became


def _mutated_export(study: Study, tmp_path: Path) -> tuple[Path, str, str]:
    """The study's export with one theme coding removed: (archive, observation, theme)."""
    archive = project_archive(study, "test")
    co = next(co for co in study.observations if co.start is not None and co.observation.themes)
    theme = co.observation.themes[0]
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    root = etree.fromstring(files["project.qde"])
    sel = root.find(
        f".//q:PlainTextSelection[@guid='{export.guid('observation', co.observation.id)}']", NS
    )
    (coding,) = [
        c
        for c in sel.iterfind("q:Coding", NS)
        if c.find("q:CodeRef", NS).get("targetGUID") == export.guid("theme", theme)
    ]
    sel.remove(coding)
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return zipped(files, tmp_path / "changed.qdpx"), co.observation.id, theme


def test_a_changed_coding_is_reported_and_written_only_when_asked(
    study: Study, tmp_path: Path
) -> None:
    path, ident, theme = _mutated_export(study, tmp_path)
    case = next(co.case for co in study.observations if co.observation.id == ident)
    into = tmp_path / "set"
    code, out, _ = run("import-qdpx", str(path), "--into", str(into))
    assert code == 0
    assert f"Case {case} differs from the study (1 difference):" in out
    assert f"observation {ident}: themes" in out and theme in out
    assert "not written: add --with-changed" in out and not into.exists()
    code, out, _ = run("import-qdpx", str(path), "--into", str(into), "--with-changed")
    assert code == 0
    assert sorted(p.name for p in into.rglob("*.yaml")) == [f"{case}.yaml"] * 2
    observations = yaml.safe_load((into / "observations" / f"{case}.yaml").read_text())
    changed = next(o for o in observations["observations"] if o["id"] == ident)
    assert theme not in changed["themes"]
    # The run of that set replaces the study's file of that case, and keeps the others
    cases = out.split('make RUN=set CASES="')[1].split('"')[0].split()
    assert f"data/raw/cases/{case}.yaml" not in cases and len(cases) == len(study.cases)
    reloaded = load_study(LAYOUT, cases, require_theme_evidence=False)
    assert len(reloaded.cases) == len(study.cases)


# -----------------------------------------------------------------------------------------------
# A sixth case in a tool's form


def test_the_fixture_is_what_its_script_makes() -> None:
    assert fixture_files() == make_tool_export.build(), (
        "run python tests/fixtures/make_tool_export.py"
    )


def test_a_sixth_case_from_a_tool_arrives_as_the_illustrative_case(
    study: Study, tmp_path: Path
) -> None:
    """BOM, regenerated upper-case GUIDs, one code a selection, names that are the selected
    text, a Float case number, an unlinked case, an extra file, a quotation with a comment only:
    the case arrives as the one in examples/illustrative, with its new candidate theme."""
    path = zipped(fixture_files(), tmp_path / "tool.qdpx")
    imported = interpret(read_qdpx(path, SCHEMA), study)
    (case,) = imported.cases
    expected = load_study(LAYOUT, [EXAMPLE / "cases"], require_theme_evidence=False)
    (want,) = expected.cases
    assert case.known is None and case.memo_less == 0
    got = case.case.model_dump(exclude={"id"})
    assert got == want.model_dump(exclude={"id"})
    (new,) = imported.new_themes
    (candidate,) = yaml.safe_load((EXAMPLE / "themes.yaml").read_text())["themes"]
    assert (new.dimension, new.label) == (candidate["dimension"], candidate["label"])
    label = {t.id: t.label for t in [*expected.themes, new]}
    mine = [
        o.model_copy(update={"themes": sorted(label[t] for t in o.themes)})
        for o in case.observations
    ]
    theirs = [
        co.observation.model_copy(
            update={"themes": sorted(label[t] for t in co.observation.themes)}
        )
        for co in expected.observations
    ]
    assert observation_content(mine) == observation_content(theirs)
    assert imported.project.extra_files == tuple(n for n in fixture_files() if n.endswith(".rtf"))
    assert len({o.id for o in case.observations}) == len(theirs)


def test_the_imported_sixth_case_validates_as_a_case_set(tmp_path: Path) -> None:
    path = zipped(fixture_files(), tmp_path / "tool.qdpx")
    into = tmp_path / "splints"
    code, out, err = run("import-qdpx", str(path), "--into", str(into))
    assert (code, err) == (0, "")
    assert "1 unreferenced (ignored)" in out and "1 new, 0 as in the study" in out
    assert "20 first-order observations, 1 with none of the study's codes (ignored)" in out
    study = load_study(LAYOUT, [LAYOUT.cases_dir, into / "cases"])
    assert len(study.cases) == 6 and len(study.themes) == 20
    # A second import of the same project finds the files up to date
    code, out, _ = run("import-qdpx", str(path), "--into", str(into))
    assert code == 0 and "2 files already up to date" in out, "the theme is now known"


# -----------------------------------------------------------------------------------------------
# Bad input: one report naming the file, the element and what is wrong; nothing written


def _fixture_with(old: bytes, new: bytes, count: int = 1) -> dict[str, bytes]:
    files = fixture_files()
    assert old in files["project.qde"], old
    files["project.qde"] = files["project.qde"].replace(old, new, count)
    return files


def _source_name() -> str:
    return next(n for n in fixture_files() if n.endswith(".txt"))


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol2;"/>"""


BAD = {
    "not a zip": (lambda: b"just text", "not a zip archive"),
    "no project.qde": (lambda: {"sources/a.txt": b"text"}, "no project.qde in the archive"),
    "not XML": (lambda: {"project.qde": b"<Project"}, "not well-formed XML"),
    "entities": (lambda: {"project.qde": BILLION_LAUGHS}, "has a DOCTYPE"),
    "another document": (
        lambda: {"project.qde": b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"/>'},
        "not a REFI-QDA Project",
    ),
    "schema-invalid": (
        lambda: _fixture_with(b'isCodable="true"', b'isCodable="maybe"'),
        "not valid against Project.xsd",
    ),
    "selection outside the text": (
        lambda: _fixture_with(b'endPosition="', b'endPosition="9', 1),
        "is outside its TextSource's text",
    ),
    "code neither dimension nor theme": (
        lambda: _fixture_with(  # a coding of the theme made the user's own code's
            b'CodeRef targetGUID="' + make_tool_export.gid("code", "short-lead-time").encode(),
            b'CodeRef targetGUID="' + make_tool_export.gid("code", "own").encode(),
        ),
        "code 'Memorable quote' is neither a dimension nor a theme",
    ),
    "case with no text": (
        lambda: _fixture_with(
            b"</Cases>",
            b'<Case guid="00000000-0000-0000-0000-000000000001" name="A case with no text" />'
            b"</Cases>",
        ),
        "case 'A case with no text' has no passage coded with dimension",
    ),
    "path outside the archive's sources": (
        lambda: _fixture_with(b'plainTextPath="internal://', b'plainTextPath="internal://../../'),
        "no such file in the archive's sources/ folder",
    ),
    "external text": (
        lambda: _fixture_with(b'plainTextPath="internal://', b'plainTextPath="absolute:///etc/'),
        "is outside the project",
    ),
    "a case id that is no id": (
        lambda: _fixture_with(b'name="Case number"', b'name="Case id"'),
        "Case id '6.0' is not an id",
    ),
    "a number already taken": (
        lambda: _fixture_with(b"<FloatValue>6.0<", b"<FloatValue>3.0<"),
        "number 3 is already case",
    ),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_gets_one_report_and_nothing_is_written(name: str, tmp_path: Path) -> None:
    make, message = BAD[name]
    content = make()
    path = tmp_path / "bad.qdpx"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        files = dict(content)
        if name not in ("no project.qde", "not XML", "entities", "another document"):
            files.setdefault(_source_name(), fixture_files()[_source_name()])
        zipped(files, path)
    into = tmp_path / "set"
    code, out, err = run("import-qdpx", str(path), "--into", str(into))
    assert code == 1 and out == ""
    assert message in err and str(path.name) in err.splitlines()[0]
    assert "Traceback" not in err and "(nothing was written)" in err.splitlines()[0]
    assert not into.exists()


def test_archive_bounds_are_enforced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = zipped(fixture_files(), tmp_path / "tool.qdpx")
    monkeypatch.setattr(qdpx_archive, "MAX_MEMBERS", 2)
    code, _, err = run("import-qdpx", str(path), "--into", str(tmp_path / "a"))
    assert code == 1 and "3 members (the limit is 2)" in err
    monkeypatch.setattr(qdpx_archive, "MAX_MEMBERS", 10)
    monkeypatch.setattr(qdpx_archive, "MAX_MEMBER_BYTES", 2000)
    code, _, err = run("import-qdpx", str(path), "--into", str(tmp_path / "a"))
    assert code == 1 and "project.qde" in err and "(the limit is 2,000)" in err
    assert not (tmp_path / "a").exists()


def test_a_name_from_the_file_never_chooses_a_path(tmp_path: Path) -> None:
    name = make_tool_export.load(EXAMPLE / "cases" / "hospital-splints.yaml")["name"]
    files = _fixture_with(f'name="{name}"'.encode(), b'name="../../../tmp/evil case"', 2)
    path = zipped(files, tmp_path / "tool.qdpx")
    into = tmp_path / "set"
    assert run("import-qdpx", str(path), "--into", str(into))[0] == 0
    assert sorted(p.relative_to(tmp_path).as_posix() for p in into.rglob("*.yaml")) == [
        "set/cases/tmp-evil-case.yaml",
        "set/observations/tmp-evil-case.yaml",
        "set/themes.yaml",
    ]


def test_an_earlier_import_is_not_overwritten_unasked(tmp_path: Path) -> None:
    path = zipped(fixture_files(), tmp_path / "tool.qdpx")
    into = tmp_path / "set"
    assert run("import-qdpx", str(path), "--into", str(into))[0] == 0
    (case_file,) = (into / "cases").glob("*.yaml")
    case_file.write_text(case_file.read_text().replace("number: 6", "number: 7"))
    before = case_file.read_bytes()
    code, _, err = run("import-qdpx", str(path), "--into", str(into))
    assert (
        code == 1 and "exists with other content: not overwritten" in err and "OVERWRITE=1" in err
    )
    assert case_file.read_bytes() == before
    assert run("import-qdpx", str(path), "--into", str(into), "--overwrite")[0] == 0
    assert b"number: 6" in case_file.read_bytes()


# -----------------------------------------------------------------------------------------------
# The loop, end to end: import a tool's project, run, what changed


def test_a_tools_case_imports_and_runs_to_the_what_changed_report(tmp_path: Path) -> None:
    project = project_copy(tmp_path / "project")
    # project_copy leaves out data/external: the schemas the export is checked against
    shutil.copytree(ROOT / "data" / "external", project / "data" / "external", dirs_exist_ok=True)
    zipped(fixture_files(), project / "splints.qdpx")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSCASE_")}

    def make(*args: str) -> str:
        done = subprocess.run(
            ["make", *args], cwd=project, capture_output=True, text=True, env=env, timeout=600
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    out = make("import-qdpx", "QDPX=splints.qdpx", "INTO=data/extensions/splints")
    assert "wrote data/extensions/splints/themes.yaml" in out
    # make builds what the what-changed report of the themes needs (notebook 03, and the run's
    # record once its case set validates); the other notebooks are not what this tests. (The
    # study's own export, `make qda`, and its import are tested apart.)
    cases = "CASES=data/raw/cases data/extensions/splints/cases"
    make("RUN=splints", cases, "build/splints/03-second-order-themes.ipynb")
    out = subprocess.run(
        [str(project / ".venv" / "bin" / "crosscase"), "outputs", "--run", "splints"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    report = out.split("What changed in Table 3 (")[1]
    # The same as the illustrative case's run: computed from examples/illustrative's files
    rule = DiscriminatorRule(3)
    baseline = collect(load_study(LAYOUT), rule)
    current = collect(load_study(LAYOUT, [LAYOUT.cases_dir, EXAMPLE / "cases"]), rule)
    got = sorted(line.strip() for line in report.splitlines()[1:] if line.strip())

    def cases(c) -> str:  # type: ignore[no-untyped-def]
        now = ", ".join(map(str, c.current.cases)) or "no case"
        then = ", ".join(map(str, c.baseline.cases)) if c.baseline else ""
        return now if not then or then == now else f"{then} -> {now}"

    want = sorted(
        f"{c.status:<29} {c.current.theme.label}{' (new theme)' if c.baseline is None else ''} "
        f"({cases(c)})"
        for c in changes(baseline, current)
    )
    assert sum(c.baseline is None for c in changes(baseline, current)) == 1
    assert got == want


def _export_files(study: Study) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(project_archive(study, "test"))) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_notes_are_tied_to_their_case_by_reference_or_by_name(study: Study, tmp_path: Path) -> None:
    files = _export_files(study)
    root = etree.fromstring(files["project.qde"])
    for ref in root.findall(".//q:NoteRef", NS):
        ref.getparent().remove(ref)
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    path = zipped(files, tmp_path / "by-name.qdpx")
    imported = interpret(read_qdpx(path, SCHEMA), study)
    assert imported.changed == () and imported.note_observations == len(
        root.findall(".//q:Note", NS)
    )
    note = root.find(".//q:Note", NS)
    note.set("name", "a note of no case")
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    path = zipped(files, tmp_path / "no-case.qdpx")
    with pytest.raises(QdpxError, match="belongs to no case") as err:
        interpret(read_qdpx(path, SCHEMA), study)
    line = etree.fromstring(files["project.qde"]).find(".//q:Note", NS).sourceline
    assert f":project.qde:{line}: Note 'a note of no case'" in err.value.report()


def test_the_study_own_data_is_never_an_import_target(study: Study, tmp_path: Path) -> None:
    path = zipped(_export_files(study), tmp_path / "study.qdpx")
    before = sorted(p.name for p in LAYOUT.raw.rglob("*"))
    code, _, err = run("import-qdpx", str(path), "--into", str(LAYOUT.raw), "--all")
    assert code == 1 and "is inside the study's own data" in err
    assert sorted(p.name for p in LAYOUT.raw.rglob("*")) == before


def test_a_large_project_imports_in_proportion(study: Study, tmp_path: Path) -> None:
    """150 copies of the sixth case (6,150 selections): no step grows faster than the input."""
    import copy
    import time

    files = fixture_files()
    root = etree.fromstring(files["project.qde"])
    case = root.find("q:Cases/q:Case", NS)
    source = root.find("q:Sources/q:TextSource", NS)
    text = files[_source_name()]
    for i in range(2, 151):
        c = copy.deepcopy(case)
        c.set("name", f"Copy {i}")
        c.set("guid", f"00000000-0000-0000-0000-{i:012d}")
        c.find("q:VariableValue/q:FloatValue", NS).text = f"{i + 5}.0"
        case.getparent().append(c)
        s = copy.deepcopy(source)
        guid = f"10000000-0000-0000-0000-{i:012d}"
        s.set("name", f"Copy {i}")
        s.set("guid", guid)
        s.set("plainTextPath", f"internal://{guid}.txt")
        source.getparent().append(s)
        files[f"sources/{guid}.txt"] = text
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    path = zipped(files, tmp_path / "large.qdpx")
    started = time.perf_counter()
    imported = interpret(read_qdpx(path, SCHEMA), study)
    elapsed = time.perf_counter() - started
    assert len(imported.cases) == 150
    assert sum(len(c.observations) for c in imported.cases) == 150 * 20
    assert elapsed < 60, f"{elapsed:.1f} s (about 0.5 s on a quiet machine)"


def test_a_source_with_its_own_variables_and_no_case_element_is_a_case(
    study: Study, tmp_path: Path
) -> None:
    """MAXQDA's way: the variables on the source, no Case element; the source, coded with the
    study's codes, becomes the case."""
    files = fixture_files()
    root = etree.fromstring(files["project.qde"])
    cases = root.find("q:Cases", NS)
    source = root.find("q:Sources/q:TextSource", NS)
    source.extend(cases.find("q:Case", NS).findall("q:VariableValue", NS))
    root.remove(cases)
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    path = zipped(files, tmp_path / "maxqda.qdpx")
    (case,) = interpret(read_qdpx(path, SCHEMA), study).cases
    expected = load_study(LAYOUT, [EXAMPLE / "cases"], require_theme_evidence=False).cases[0]
    assert case.case.model_dump(exclude={"id"}) == expected.model_dump(exclude={"id"})


def test_a_case_set_exported_and_coded_again_imports_back_into_its_own_folder(
    tmp_path: Path,
) -> None:
    """The loop for a researcher's own case: export a run with the case set, code more in the
    tool, import into the same folder. The set's case is matched by name: same id, same file,
    replaced only when asked (OVERWRITE=1 / --overwrite), never doubled under a new id."""
    into = tmp_path / "my-study"
    for sub in ("cases", "observations"):
        shutil.copytree(EXAMPLE / sub, into / sub)
    shutil.copy(EXAMPLE / "themes.yaml", into / "themes.yaml")
    study = load_study(LAYOUT, [LAYOUT.cases_dir, into / "cases"])
    project = tmp_path / "mine.qdpx"
    project.write_bytes(project_archive(study, "mine"))
    before = {p.name: p.read_bytes() for p in (into / "cases").glob("*.yaml")}

    code, out, err = run("import-qdpx", str(project), "--into", str(into))
    assert code == 0, err
    assert {p.name: p.read_bytes() for p in (into / "cases").glob("*.yaml")} == before

    # The researcher recodes a memo in the tool: the observation's text changes.
    files = {}
    with zipfile.ZipFile(project) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    qde = files["project.qde"].decode("utf-8")
    first = next(o for o in study.observations if o.case == "hospital-splints")
    assert first.observation.text in qde
    files["project.qde"] = qde.replace(first.observation.text, "Recoded in the tool", 1).encode()
    edited = zipped(files, tmp_path / "edited.qdpx")

    code, out, err = run("import-qdpx", str(edited), "--into", str(into))
    assert code == 1
    assert "hospital-splints" in out + err and "OVERWRITE=1" in err, err
    assert "/crosscase-import-" not in err, "problems name real files, not a staging folder"
    assert {p.name: p.read_bytes() for p in (into / "cases").glob("*.yaml")} == before

    code, out, err = run("import-qdpx", str(edited), "--into", str(into), "--overwrite")
    assert code == 0, err
    assert sorted(p.name for p in (into / "cases").glob("*.yaml")) == sorted(before)
    coding = yaml.safe_load((into / "observations" / "hospital-splints.yaml").read_text())
    assert "Recoded in the tool" in {o["text"] for o in coding["observations"]}


# -----------------------------------------------------------------------------------------------
# Identity (issue 19): what the export writes comes back as it was


def _example_study() -> Study:
    """The study plus the illustrative sixth case and its candidate theme (make example)."""
    return load_study(LAYOUT, [LAYOUT.cases_dir, EXAMPLE / "cases"])


def _example_files() -> dict[str, bytes]:
    """The export of the study plus the illustrative case (make qda RUN=illustrative ...)."""
    with zipfile.ZipFile(io.BytesIO(project_archive(_example_study(), "illustrative"))) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _load_yaml(path: Path) -> tuple[list[str], object]:
    """A YAML file's opening comment lines and its content."""
    text = path.read_text(encoding="utf-8")
    comments = [x for x in text.splitlines() if x.startswith("#")]
    head = comments[: next((i for i, x in enumerate(text.splitlines()) if not x.startswith("#")))]
    return head, yaml.safe_load(text)


def test_the_worked_example_round_trips_through_export_and_import(tmp_path: Path) -> None:
    """Export the study with examples/illustrative, import into a fresh case set: case 6 comes
    back with its id, its observations' ids in their order, its theme's id; every field of its
    three files is as in examples/illustrative. Only what the export has no place for differs:
    the files' opening comments (the import says where the files came from) and each
    observation's free-text ``source`` (the import says it was imported)."""
    path = zipped(_example_files(), tmp_path / "illustrative.qdpx")
    into = tmp_path / "fresh"
    code, _, err = run("import-qdpx", str(path), "--into", str(into))
    assert (code, err) == (0, ""), err
    written = sorted(p.relative_to(into).as_posix() for p in into.rglob("*.yaml"))
    assert written == [
        "cases/hospital-splints.yaml",
        "observations/hospital-splints.yaml",
        "themes.yaml",
    ]
    for name in written:
        head, got = _load_yaml(into / name)
        want_head, want = _load_yaml(EXAMPLE / name)
        assert head and head != want_head, "the import's own opening comment"
        if name.startswith("observations/"):
            assert {o.pop("source") for o in got["observations"]} == {
                "coded in a QDA tool, imported from illustrative.qdpx"
            }
            assert {o.pop("source") for o in want["observations"]} == {"illustrative"}
        assert got == want, name


def _regenerated(root: etree._Element, files: dict[str, bytes]) -> dict[str, bytes]:
    """Every GUID of a project replaced by a new one (upper case), the files renamed with them."""
    import uuid

    new = {}
    for el in root.iter():
        if el.get("guid"):
            new[el.get("guid")] = str(uuid.uuid5(uuid.NAMESPACE_OID, el.get("guid"))).upper()
    for el in root.iter():
        for attr in ("guid", "targetGUID", "creatingUser", "modifyingUser"):
            if el.get(attr) in new:
                el.set(attr, new[el.get(attr)])
        for attr in ("creatingUserGUID", "modifyingUserGUID"):
            if el.get(attr) in new:
                el.set(attr, new[el.get(attr)])
        path = el.get("plainTextPath") or ""
        if path.startswith("internal://"):
            stem = path.removeprefix("internal://").removesuffix(".txt")
            el.set("plainTextPath", f"internal://{new[stem]}.txt")
    return {
        (f"sources/{new[n[8:-4]]}.txt" if n.startswith("sources/") else n): v
        for n, v in files.items()
    }


def qualcoder_like(files: dict[str, bytes]) -> dict[str, bytes]:
    """What QualCoder makes of an export it imported and exports again (docs/qda-tools.md):
    every GUID regenerated, one code a selection (the memo copied onto each), each selection
    named by its selected text, the case's link to its source and its whole-text coding lost,
    Integer variables made Float, the notes' descriptions, codes and links lost (they become
    journals)."""
    import copy

    root = etree.fromstring(files["project.qde"])
    q = f"{{{export.PROJECT_NS}}}"
    cases = {case.get("guid") for case in root.iterfind("q:Cases/q:Case", NS)}
    for source in root.iterfind("q:Sources/q:TextSource", NS):
        text = files["sources/" + source.get("plainTextPath")[11:]].decode("utf-8")
        for sel in source.findall("q:PlainTextSelection", NS):
            codings = sel.findall("q:Coding", NS)
            name = text[int(sel.get("startPosition")) : int(sel.get("endPosition"))]
            for ref in sel.findall("q:NoteRef", NS):
                sel.remove(ref)
            if all(c.find("q:CodeRef", NS).get("targetGUID") in cases for c in codings):
                source.remove(sel)
                continue
            for i, coding in enumerate(codings):
                one = copy.deepcopy(sel)
                for other in one.findall("q:Coding", NS):
                    one.remove(other)
                one.append(copy.deepcopy(coding))
                one.set("guid", f"{sel.get('guid')}-{i}")
                one.set("name", name)
                sel.addprevious(one)
            source.remove(sel)
    for case in root.iterfind("q:Cases/q:Case", NS):
        for ref in case.findall("q:SourceRef", NS):
            case.remove(ref)
    for var in root.iterfind("q:Variables/q:Variable", NS):
        if var.get("typeOfVariable") == "Integer":
            var.set("typeOfVariable", "Float")
    for value in root.iter(f"{q}IntegerValue"):
        value.tag = f"{q}FloatValue"
        value.text = f"{float(value.text)}"
    for note in root.iterfind("q:Notes/q:Note", NS):
        for child in note.findall("q:Description", NS) + note.findall("q:PlainTextSelection", NS):
            note.remove(child)
    files = _regenerated(root, files)
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return files


def test_a_round_trip_through_a_qualcoder_like_tool_keeps_every_id(tmp_path: Path) -> None:
    """Selection names replaced by their text, GUIDs regenerated, Integer made Float, the notes
    uncoded, the cases unlinked: the study's cases come back unchanged (their no-passage
    observations read from the notes named by their ids), case 6 with its id, its observations'
    ids in their order and its theme's id."""
    study = _example_study()
    path = zipped(qualcoder_like(_example_files()), tmp_path / "qualcoder.qdpx")
    imported = interpret(read_qdpx(path, SCHEMA), load_study(LAYOUT))
    assert [c.case.id for c in imported.cases] == [c.id for c in study.cases]
    for c in imported.cases[:-1]:
        assert c.differences == (), (c.case.id, c.differences)
        mine = [co.observation.id for co in study.observations if co.case == c.case.id]
        assert [o.id for o in c.observations] == mine
    six = imported.cases[-1]
    assert six.known is None and six.case.id == "hospital-splints"
    want = [co.observation for co in study.observations if co.case == "hospital-splints"]
    assert [(o.id, o.text, o.themes) for o in six.observations] == [
        (o.id, o.text, o.themes) for o in want
    ]
    assert [t.id for t in imported.new_themes] == ["clinical-sign-off-at-point-of-care"]


def test_an_exported_case_set_imports_back_into_itself_unchanged_where_unchanged(
    tmp_path: Path,
) -> None:
    """Export a run with a case set, recode one memo in the tool, import into the same set: the
    case file is left as it is (byte for byte), the observation file keeps its opening comment,
    its order (here not the dimensions' order) and every other observation's fields."""
    into = tmp_path / "my-study"
    for sub in ("cases", "observations"):
        shutil.copytree(EXAMPLE / sub, into / sub)
    shutil.copy(EXAMPLE / "themes.yaml", into / "themes.yaml")
    obs_file = into / "observations" / "hospital-splints.yaml"
    text = obs_file.read_text(encoding="utf-8")
    head, body = text.split("observations:\n", 1)
    items = ["  - id:" + x for x in body.split("  - id:")[1:]]
    obs_file.write_text(head + "observations:\n" + "".join(reversed(items)), encoding="utf-8")
    study = load_study(LAYOUT, [LAYOUT.cases_dir, into / "cases"])
    before = {p: p.read_bytes() for p in into.rglob("*.yaml")}
    with zipfile.ZipFile(io.BytesIO(project_archive(study, "mine"))) as zf:
        files = qualcoder_like({n: zf.read(n) for n in zf.namelist()})
    code, out, err = run(
        "import-qdpx", str(zipped(files, tmp_path / "a.qdpx")), "--into", str(into)
    )
    assert (code, err) == (0, ""), err
    assert {p: p.read_bytes() for p in into.rglob("*.yaml")} == before, out
    target = next(co.observation for co in study.observations if co.case == "hospital-splints")
    files["project.qde"] = files["project.qde"].replace(
        target.text.encode(), b"Recoded in the tool"
    )
    path = zipped(files, tmp_path / "b.qdpx")
    code, out, err = run("import-qdpx", str(path), "--into", str(into), "--overwrite")
    assert (code, err) == (0, ""), err
    changed = [p for p in before if p.read_bytes() != before[p]]
    assert changed == [obs_file], out
    new_text = obs_file.read_text(encoding="utf-8")
    assert new_text.splitlines()[:6] == text.splitlines()[:6], "its opening comment"
    got = yaml.safe_load(new_text)["observations"]
    want = list(reversed(yaml.safe_load(text)["observations"]))
    assert [o["id"] for o in got] == [o["id"] for o in want]
    assert [o["source"] for o in got] == ["illustrative"] * len(want)
    for o in want:
        if o["id"] == target.id:
            o["text"] = "Recoded in the tool"
    assert got == want


def test_a_source_named_with_its_file_extension_is_its_case_s_text(
    study: Study, tmp_path: Path
) -> None:
    """QualCoder names a text file it imports with its extension: 'My case.txt' is the text of
    the case 'My case' (the case is not linked to its source)."""
    name = make_tool_export.load(EXAMPLE / "cases" / "hospital-splints.yaml")["name"]
    old, new = f'name="{name}" plainText', f'name="{name}.txt" plainText'
    files = _fixture_with(old.encode(), new.encode())
    root = etree.fromstring(files["project.qde"])
    assert root.find("q:Sources/q:TextSource", NS).get("name") == f"{name}.txt"
    (case,) = interpret(read_qdpx(zipped(files, tmp_path / "ext.qdpx"), SCHEMA), study).cases
    assert (case.case.name, len(case.observations)) == (name, 20)


def test_a_case_named_in_any_script_gets_a_readable_id(study: Study, tmp_path: Path) -> None:
    """A name with no letters a file name can hold: the case's number makes its id."""
    import copy

    name = make_tool_export.load(EXAMPLE / "cases" / "hospital-splints.yaml")["name"]
    files = _fixture_with(f'name="{name}"'.encode(), 'name="病院の副木"'.encode(), 2)
    root = etree.fromstring(files["project.qde"])
    case = root.find("q:Cases/q:Case", NS)
    source = root.find("q:Sources/q:TextSource", NS)
    other = copy.deepcopy(case)
    other.set("name", "工場のスペアパーツ")
    other.set("guid", "00000000-0000-0000-0000-000000000007")
    other.find("q:VariableValue/q:FloatValue", NS).text = "7.0"
    case.addnext(other)
    s = copy.deepcopy(source)
    s.set("name", "工場のスペアパーツ")
    s.set("guid", "10000000-0000-0000-0000-000000000007")
    s.set("plainTextPath", "internal://10000000-0000-0000-0000-000000000007.txt")
    source.addnext(s)
    files["sources/10000000-0000-0000-0000-000000000007.txt"] = files[_source_name()]
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    imported = interpret(read_qdpx(zipped(files, tmp_path / "ja.qdpx"), SCHEMA), study)
    assert [(c.case.id, c.case.name) for c in imported.cases] == [
        ("case-6", "病院の副木"),
        ("case-7", "工場のスペアパーツ"),
    ]


def test_a_project_coded_with_another_codebook_is_told_which_codebook_to_use(
    tmp_path: Path,
) -> None:
    """None of the project's codes is the study's (a MAXQDA project of another study): the
    import stops with that reason and where the study's codebook is, not 'Nothing to write'."""
    root = etree.fromstring(fixture_files()["project.qde"])
    codes = list(root.iter(f"{{{export.PROJECT_NS}}}Code"))
    for i, code in enumerate(codes):
        code.set("name", f"Other study's code {i}")
    root.remove(root.find("q:Cases", NS))
    files = fixture_files()
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    into = tmp_path / "set"
    code, out, err = run(
        "import-qdpx", str(zipped(files, tmp_path / "other.qdpx")), "--into", str(into)
    )
    assert (code, out) == (1, "")
    assert (
        f"none of the project's {len(codes)} codes is a dimension or second-order theme of the "
        "study: code with the study's codebook, data/processed/<run>/codebook.qdc (make qda)"
    ) in err, err
    assert len(err.splitlines()) == 2 and not into.exists()


def test_a_duplicate_guid_is_named_once(tmp_path: Path) -> None:
    """Two codes with one GUID: one problem naming the GUID and both codes with their lines, and
    none of the problems it would cause further on."""
    files = fixture_files()
    dimension = make_tool_export.gid("code", "relationships").encode()
    own = make_tool_export.gid("code", "own").encode()
    qde = files["project.qde"]
    files["project.qde"] = qde.replace(b'guid="' + own + b'"', b'guid="' + dimension + b'"')
    lines = files["project.qde"].decode().splitlines()
    at = [n for n, x in enumerate(lines, 1) if f'<Code guid="{dimension.decode()}"' in x]
    assert len(at) == 2
    into = tmp_path / "set"
    code, out, err = run(
        "import-qdpx", str(zipped(files, tmp_path / "dup.qdpx")), "--into", str(into)
    )
    assert (code, out) == (1, "")
    (problem,) = err.splitlines()[1:]
    assert f"project.qde:{at[1]}: " in problem and dimension.decode() in problem, problem
    assert (
        "'Inter-firm and intra-firm relationships'" in problem and "'Memorable quote'" in problem
    ), problem
    assert f"line {at[0]}" in problem and not into.exists()


def test_two_cases_given_one_id_are_refused(tmp_path: Path) -> None:
    """A case copied in the tool with its variables: its Case id is another case's."""
    files = _example_files()
    qde = files["project.qde"].decode("utf-8")
    files["project.qde"] = qde.replace(
        "<TextValue>hospital-splints</TextValue>", "<TextValue>customised-insoles</TextValue>"
    ).encode()
    line = (
        files["project.qde"]
        .decode()
        .split('<Case guid="' + export.guid("case", "hospital-splints"))[0]
    )
    into = tmp_path / "set"
    code, out, err = run(
        "import-qdpx", str(zipped(files, tmp_path / "two.qdpx")), "--into", str(into)
    )
    assert (code, out) == (1, "") and not into.exists()
    (problem,) = err.splitlines()[1:]
    assert f"project.qde:{line.count(chr(10)) + 1}: " in problem
    assert (
        "its id 'customised-insoles' is also the id of case 'Fully customised insoles through 3DP'"
    ) in problem
