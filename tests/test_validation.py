"""Bad input is rejected with every problem in one report, each naming file, case and field."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from crosscase.cli import main
from crosscase.paths import Layout
from crosscase.study import load_study
from crosscase.study.problems import StudyDataError

ROOT = Path(__file__).resolve().parents[1]
CASE = "medical-diagnostic-devices"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the compendium's data in a project of its own."""
    shutil.copytree(ROOT / "data" / "raw", tmp_path / "data" / "raw")
    (tmp_path / "pyproject.toml").write_text("[tool.crosscase]\n")
    return tmp_path


def problems(project: Path) -> list[str]:
    with pytest.raises(StudyDataError) as err:
        load_study(Layout.at(project))
    return [str(p) for p in err.value.problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def case_file(project: Path, case: str = CASE) -> Path:
    return project / "data" / "raw" / "cases" / f"{case}.yaml"


def obs_file(project: Path, case: str = CASE) -> Path:
    return project / "data" / "raw" / "observations" / f"{case}.yaml"


def test_the_paper_data_are_valid(project: Path) -> None:
    study = load_study(Layout.at(project))
    assert len(study.cases) == 5


def test_yaml_syntax_error_names_the_line(project: Path) -> None:
    edit(case_file(project), "number: 1", "number: [1")
    [p] = problems(project)
    assert p.startswith(f"data/raw/cases/{CASE}.yaml:") and "YAML syntax error" in p


def test_empty_file(project: Path) -> None:
    case_file(project).write_text("# nothing yet\n")
    assert any(f"cases/{CASE}.yaml" in p and "empty file" in p for p in problems(project))


def test_non_utf8_bytes(project: Path) -> None:
    path = case_file(project)
    path.write_bytes(path.read_bytes().replace(b"Medical diagnostic", b"M\xe9dical diagnostic", 1))
    assert any("not UTF-8" in p and f"{CASE}.yaml:" in p for p in problems(project))


def test_missing_and_unknown_dimension(project: Path) -> None:
    """Two narratives under unknown keys: no one-to-one misspelling to pair, so each missing
    dimension and each unknown key is reported."""
    edit(case_file(project), "  human-resources:", "  human-resource:")
    edit(case_file(project), "  relationships:", "  relations:")
    found = problems(project)
    for dim in ("human-resources", "relationships"):
        assert any(
            f"missing narrative for dimension {dim!r}" in p and f"case {CASE}" in p for p in found
        )
    for key in ("human-resource", "relations"):
        assert any(f"field narratives.{key}:" in p and "unknown dimension" in p for p in found)


def test_empty_narrative(project: Path) -> None:
    path = case_file(project)
    text = path.read_text()
    start = text.index("  local-institutions: >-")
    end = text.index("  physical-and-technological-infrastructures:")
    path.write_text(text[:start] + '  local-institutions: ""\n' + text[end:])
    assert any("field narratives.local-institutions: empty text" in p for p in problems(project))


def test_duplicate_case_id(project: Path) -> None:
    src = case_file(project, "field-ready-rescue")
    edit(src, "id: field-ready-rescue", f"id: {CASE}")
    found = problems(project)
    assert sum(f"duplicate case id '{CASE}'" in p for p in found) == 2


@pytest.mark.parametrize("bad", ["../escape", "a/b", "UPPER"])
def test_ids_unsafe_as_file_names(project: Path, bad: str) -> None:
    edit(case_file(project), f"id: {CASE}", f"id: {bad}")
    assert any("field id:" in p and "not a safe identifier" in p for p in problems(project))


def test_observations_naming_unknown_case_dimension_or_theme(project: Path) -> None:
    path = obs_file(project)
    edit(path, f"case: {CASE}", "case: no-such-case")
    assert any("unknown case 'no-such-case'" in p for p in problems(project))
    edit(path, "case: no-such-case", f"case: {CASE}")
    edit(path, "dimension: human-resources", "dimension: human-resourcez")
    edit(path, "themes: [close-proximity-to-end-use]", "themes: [close-proximity]")
    found = problems(project)
    assert any("unknown dimension 'human-resourcez'" in p and "observations[" in p for p in found)
    assert any("unknown theme 'close-proximity'" in p and f"case {CASE}" in p for p in found)


def test_evidence_not_in_narrative(project: Path) -> None:
    edit(
        obs_file(project),
        'evidence: "Devices can be reprocessed',
        'evidence: "Devices can be recycled',
    )
    [p] = problems(project)
    assert "evidence passage not found" in p and "field observations[4].evidence" in p


def test_theme_with_no_observations(project: Path) -> None:
    with (project / "data" / "raw" / "themes.yaml").open("a") as fh:
        fh.write("  - id: orphan-theme\n    dimension: human-resources\n    label: Orphan\n")
    assert any("theme 'orphan-theme' has no observations" in p for p in problems(project))


def test_every_problem_in_one_report(project: Path) -> None:
    edit(case_file(project), "  human-resources:", "  human-resource:")
    edit(
        obs_file(project, "lighting-fixtures"),
        'evidence: "in order to reduce lead times"',
        'evidence: "not in the text"',
    )
    case_file(project, "field-ready-rescue").write_bytes(b"\xff\xfe")
    found = problems(project)
    files = {p.split(":")[0] for p in found}
    assert {
        f"data/raw/cases/{CASE}.yaml",
        "data/raw/cases/field-ready-rescue.yaml",
        "data/raw/observations/lighting-fixtures.yaml",
    } <= files


def test_validate_command_reports_and_writes_nothing(project: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CROSSCASE_ROOT", str(project))
    assert main(["validate"]) == 0
    edit(case_file(project), "  human-resources:", "  human-resource:")
    before = sorted(p for p in project.rglob("*"))
    assert main(["validate"]) == 1
    err = capsys.readouterr().err
    assert "1 problem in the study data" in err and f"case {CASE}" in err
    assert sorted(p for p in project.rglob("*")) == before


def test_comparison_naming_an_unknown_theme_names_its_line(project: Path) -> None:
    path = project / "data" / "raw" / "comparison.yaml"
    edit(path, "themes: [proliferation-of-manufacturing-sites]", "themes: [proliferation]")
    [p] = problems(project)
    assert re.match(r"data/raw/comparison\.yaml:\d+: ", p), p
    assert "unknown theme 'proliferation'" in p
    assert "field discriminators[0].themes[0]" in p


def test_duplicate_observation_id_names_each_file_and_line(project: Path) -> None:
    edit(obs_file(project, "lighting-fixtures"), "id: c4-sns-1", "id: c1-sns-1")
    found = [p for p in problems(project) if "duplicate observation id 'c1-sns-1'" in p]
    assert len(found) == 2, found
    assert {p.split(":")[0] for p in found} == {
        "data/raw/observations/lighting-fixtures.yaml",
        f"data/raw/observations/{CASE}.yaml",
    }
    assert all(re.match(r"[^:]+\.yaml:\d+: ", p) for p in found), found


def test_theme_basis_is_checked_against_the_vocabulary_and_the_themes(project: Path) -> None:
    path = obs_file(project)
    # c1-sns-1: one basis for its one theme; c1-pft-1: one basis per theme
    edit(path, "theme_basis: text-case-list", "theme_basis: section-4")
    edit(path, "      production-to-order: display-case-list\n", "")
    edit(path, "      modular-build-process: display-case-list", "      short-lead-tim: coded")
    edit(
        path,
        'themes: []\n    evidence: "Devices',
        'themes: []\n    theme_basis: coded\n    evidence: "Devices',
    )
    found = problems(project)
    assert any(
        "unknown theme basis 'section-4'" in p
        and "known: coded, highlighted" in p
        and "field observations[0].theme_basis" in p
        for p in found
    ), found
    assert any(
        "theme_basis names 'short-lead-tim', which is not among its themes" in p for p in found
    )
    assert any("gives no basis for its theme 'production-to-order'" in p for p in found)
    assert any(
        "c1-pft-3: theme_basis given, but the observation lists no theme" in p for p in found
    )
    assert all(re.match(r"data/raw/observations/[^:]+\.yaml:\d+: ", p) for p in found), found


def test_theme_basis_may_name_themes_by_label(project: Path) -> None:
    path = obs_file(project)
    edit(path, "      short-lead-time: text-case-list", "      Short lead time: text-case-list")
    study = load_study(Layout.at(project))
    [co] = [co for co in study.observations if co.observation.id == "c1-pft-1"]
    assert co.observation.basis_of("short-lead-time") == "text-case-list"


def test_a_misspelt_dimension_of_a_theme_is_one_problem(project: Path) -> None:
    """Not also each observation's link to the theme, and the theme left without observations."""
    path = project / "data" / "raw" / "themes.yaml"
    edit(
        path,
        "short-lead-time\n    dimension: process-flows-and-technology",
        "short-lead-time\n    dimension: process-flow-and-technology",
    )
    [p] = problems(project)
    assert p.startswith("data/raw/themes.yaml:20: field themes[4].dimension: unknown dimension")


def test_a_duplicate_case_number_is_reported_on_the_later_cases(project: Path) -> None:
    """Each case that takes a number already taken (in the order the cases are read) is told the
    next free number, the second such case the one after."""
    edit(case_file(project, "lighting-fixtures"), "number: 4", "number: 2")
    edit(case_file(project), "number: 1", "number: 2")
    found = [p for p in problems(project) if "duplicate case number" in p]
    assert found == [
        "data/raw/cases/lighting-fixtures.yaml:6: case lighting-fixtures: field number: duplicate "
        "case number 2 (also case cell-and-tissue-based-therapy, "
        "data/raw/cases/cell-and-tissue-based-therapy.yaml:6); next free number: 6",
        f"data/raw/cases/{CASE}.yaml:6: case {CASE}: field number: duplicate case number 2 (also "
        "case cell-and-tissue-based-therapy, data/raw/cases/cell-and-tissue-based-therapy.yaml:6)"
        "; next free number: 7",
    ], found


@pytest.mark.parametrize("rule", ["{}", "{min_cases: 0}", "{min_share: 1.5}"])
def test_a_rule_the_evidence_cannot_apply_is_named_with_its_line(
    project: Path, rule: str, monkeypatch, capsys
) -> None:
    """The study's rule is checked where it is read, as the evidence applies it: `rule: {}` names
    neither a number nor a share of cases (it passed validation, then the run stopped with a
    traceback)."""
    edit(project / "data" / "raw" / "study.yaml", "rule:\n  min_cases: 3", f"rule: {rule}")
    [p] = problems(project)
    assert re.match(r"data/raw/study\.yaml:1[89]: field rule(\.min_\w+)?: [a-z]", p), p
    monkeypatch.setenv("CROSSCASE_ROOT", str(project))
    assert main(["record", "--run", "paper"]) == 1
    err = capsys.readouterr().err
    assert "data/raw/study.yaml:" in err and "Traceback" not in err, err
