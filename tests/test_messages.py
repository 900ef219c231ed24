"""What a researcher reads when their data are wrong, and the small traps of adding a case.

Each test names a point of the extension path found by trying it as a new user: every check runs
(one round lists every problem), errors name the known alternatives, themes can be named by
label, a YAML error points at the line where the broken token starts, a missing evidence passage
comes with the nearest sentence, and the case-protocol row label is never doubled."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from crosscase.paths import Layout
from crosscase.study import load_study
from crosscase.study.problems import StudyDataError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "illustrative"


@pytest.fixture
def case_set(tmp_path: Path) -> Path:
    """The worked example's case set, copied so that a test can break it."""
    target = tmp_path / "my-study"
    shutil.copytree(EXAMPLE / "cases", target / "cases")
    shutil.copytree(EXAMPLE / "observations", target / "observations")
    shutil.copy(EXAMPLE / "themes.yaml", target / "themes.yaml")
    return target


def problems(case_set: Path) -> list[str]:
    with pytest.raises(StudyDataError) as err:
        load_study(Layout(ROOT, ROOT), ["data/raw/cases", str(case_set / "cases")])
    return [str(p) for p in err.value.problems]


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


CASE = "hospital-splints.yaml"


def test_one_round_lists_every_problem_of_a_file(case_set: Path) -> None:
    """Five mistakes in one observation file, five problems in one report (a schema error in one
    observation does not hide the cross-checks of the others)."""
    obs = case_set / "observations" / CASE
    text = obs.read_text(encoding="utf-8")
    ids = re.findall(r"- id: (\S+)", text)
    edit(obs, f"- id: {ids[0]}\n", f"- id: {ids[0]}\n    colour: red\n")  # unknown field
    edit(obs, "dimension: human-resources", "dimension: human-resourcez")  # unknown dimension
    edit(obs, "themes: [close-proximity-to-end-use]", "themes: [close-proximity]")  # unknown theme
    evidence = re.search(r'evidence: "([^"]{12,})"', text)
    assert evidence
    edit(obs, evidence.group(0), 'evidence: "a passage that is in no narrative"')
    edit(obs, f"- id: {ids[-1]}", f"- id: {ids[0]}")  # duplicate id
    found = problems(case_set)
    assert any("colour" in p and "unknown field" in p for p in found), found
    assert any("unknown dimension 'human-resourcez'" in p for p in found), found
    assert any("unknown theme 'close-proximity'" in p for p in found), found
    assert any("evidence passage not found" in p for p in found), found
    assert sum("duplicate observation id" in p for p in found) == 2, found


def test_a_misspelt_dimension_is_an_unknown_dimension_with_the_known_ones(case_set: Path) -> None:
    edit(case_set / "cases" / CASE, "  supply-network-structure:", "  supply_network_structure:")
    found = problems(case_set)
    [p] = [p for p in found if "supply_network_structure" in p]
    assert "unknown dimension 'supply_network_structure'" in p
    assert "did you mean 'supply-network-structure'" in p
    assert "known: supply-network-structure, process-flows-and-technology" in p
    assert "not a safe identifier" not in p


def test_an_unknown_theme_lists_the_dimensions_themes(case_set: Path) -> None:
    edit(
        case_set / "observations" / CASE,
        "themes: [close-proximity-to-end-use]",
        "themes: [close-proximty-to-end-use]",
    )
    [p] = problems(case_set)
    assert "unknown theme 'close-proximty-to-end-use'" in p
    assert "did you mean 'close-proximity-to-end-use'" in p
    assert "proliferation-of-manufacturing-sites" in p  # another theme of the same dimension


def test_a_theme_may_be_named_by_its_label(case_set: Path) -> None:
    edit(
        case_set / "observations" / CASE,
        "themes: [close-proximity-to-end-use]",
        'themes: ["close proximity to end use or consumption"]',
    )
    study = load_study(Layout(ROOT, ROOT), ["data/raw/cases", str(case_set / "cases")])
    six = [co for co in study.observations if co.case == "hospital-splints"]
    assert any(co.observation.themes == ["close-proximity-to-end-use"] for co in six)


def test_an_unclosed_quote_is_reported_where_it_starts(case_set: Path) -> None:
    path = case_set / "cases" / CASE
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("name:"))
    lines[at] = 'name: "Hospital point-of-care splints (illustrative)'  # no closing quote
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    [p] = [p for p in problems(case_set) if CASE in p]
    assert p.startswith(f"{path}:{at + 1}:") or f"{CASE}:{at + 1}:" in p, p
    assert "case -" not in p and "field -" not in p
    assert "field name" in p


def test_evidence_not_found_names_the_nearest_sentence(case_set: Path) -> None:
    obs = case_set / "observations" / CASE
    evidence = re.search(r'evidence: "([^"]{40,})"', obs.read_text(encoding="utf-8"))
    assert evidence
    passage = evidence.group(1)
    changed = passage.replace(" ", "  ", 1).replace(passage.split()[1], "XX", 1)
    edit(obs, evidence.group(0), f'evidence: "{changed}"')
    [p] = problems(case_set)
    assert "evidence passage not found" in p and "closest narrative sentence" in p
    assert passage.split()[-1] in p.split("closest narrative sentence")[1]


def test_the_case_number_is_not_doubled_in_the_row_label(case_set: Path) -> None:
    from crosscase import tables

    edit(case_set / "cases" / CASE, "context: >-\n    ", "context: >-\n    Case 6: ")
    study = load_study(Layout(ROOT, ROOT), ["data/raw/cases", str(case_set / "cases")])
    table = tables.case_protocol_table(study)
    labels = list(table[table.columns[0]])
    assert labels[-1].startswith("Case 6: ") and not labels[-1].startswith("Case 6: Case 6:")


def test_a_narrative_over_the_limit_is_refused_with_the_limit_named(case_set: Path) -> None:
    long = " ".join(["A sentence of a very long pasted transcript."] * 23_000)  # > 1,000,000
    path = case_set / "cases" / CASE
    text = path.read_text(encoding="utf-8")
    start = text.index("  human-resources: >-")
    path.write_text(text[:start] + f'  human-resources: "{long}"\n', encoding="utf-8")
    [p] = [p for p in problems(case_set) if "narratives.human-resources" in p]
    assert "narrative too long" in p and "1,000,000" in p and "Limits" in p


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(case_set: Path) -> None:
    path = case_set / "cases" / CASE
    path.write_text(path.read_text(encoding="utf-8") + "#" * 5_000_000 + "\n", encoding="utf-8")
    [p] = [p for p in problems(case_set) if CASE in p]
    assert "file too large" in p and "4,194,304 bytes" in p


def test_a_dimension_spelt_otherwise_is_paired_with_the_one_left_without_a_narrative(
    case_set: Path,
) -> None:
    """One misspelt narrative key is one problem: the unknown dimension, with the one it most
    likely is; not also "missing narrative" for that one (the same mistake, twice)."""
    edit(case_set / "cases" / CASE, "  supply-network-structure:", "  supply_chain:")
    [p] = problems(case_set)
    assert "field narratives.supply_chain: unknown dimension 'supply_chain'" in p
    assert "(did you mean 'supply-network-structure'?" in p


def test_an_unclosed_quote_in_the_middle_of_a_file_is_reported_where_it_opens(
    case_set: Path,
) -> None:
    """A quote left open mid-file makes YAML read on to the next quote and fail lines later,
    in another field; the report names the line and field where the quote opens."""
    path = case_set / "cases" / CASE
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("  context:"))
    lines[at : at + 2] = ['  context: "Hospital point-of-care splints']  # the quote never closes
    lines.insert(at + 1, '  respondents: "Two designers"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    [p] = [p for p in problems(case_set) if CASE in p]
    assert f"{CASE}:{at + 1}: case {path.stem}: field protocol.context:" in p, p
    assert "quote" in p and "not closed" in p


# Root causes only: a broken theme, or a rejected observation, is reported once, without the
# problems that follow from it (its links rejected, the theme left without observations).

THEMES = "themes.yaml"
SIGN_OFF = "clinical-sign-off-at-point-of-care"  # evidenced only by c6-li-4


def test_a_themes_misspelt_dimension_is_reported_alone(case_set: Path) -> None:
    edit(case_set / THEMES, "dimension: local-institutions", "dimension: local-institution")
    [p] = problems(case_set)
    assert f"{THEMES}:7: field themes[0].dimension: unknown dimension 'local-institution'" in p


def test_a_theme_rejected_by_its_schema_leaves_its_observations_alone(case_set: Path) -> None:
    edit(
        case_set / THEMES, "    dimension: local-institutions", "    dimention: local-institutions"
    )
    found = problems(case_set)
    assert found and all(p.startswith(f"{(case_set / THEMES).as_posix()}:") for p in found), found


def test_a_rejected_observation_leaves_its_theme_alone(case_set: Path) -> None:
    obs = case_set / "observations" / CASE
    edit(obs, '    text: "Each splint inspected', '    narative: "Each splint inspected')
    found = problems(case_set)
    assert not any("has no observations" in p for p in found), found


def test_an_observation_file_that_does_not_parse_leaves_the_themes_alone(case_set: Path) -> None:
    obs = case_set / "observations" / CASE
    edit(obs, f"themes: [{SIGN_OFF}]", f"themes: [{SIGN_OFF}")
    [p] = problems(case_set)
    assert "YAML syntax error" in p


# A duplicate case number is reported on the case that takes it second, with the next free one.


def test_a_duplicate_case_number_is_reported_on_the_new_case_with_the_next_free_one(
    case_set: Path,
) -> None:
    path = case_set / "cases" / CASE
    edit(path, "number: 6", "number: 5")
    [p] = problems(case_set)
    assert p.startswith(f"{path.as_posix()}:6: case hospital-splints: field number: "), p
    assert "duplicate case number 5 (also case field-ready-rescue" in p
    assert "data/raw/cases/field-ready-rescue.yaml:6" in p
    assert p.endswith("next free number: 6"), p


# An unknown field names the field it most likely is.


def test_an_unknown_field_of_an_observation_names_the_likely_one(case_set: Path) -> None:
    obs = case_set / "observations" / CASE
    edit(obs, f"    themes: [{SIGN_OFF}]", f"    theme: [{SIGN_OFF}]")
    [p] = problems(case_set)
    assert "field observations[15].theme: unknown field 'theme' (did you mean 'themes'?" in p


def test_an_unknown_field_paired_with_the_required_one_missing(case_set: Path) -> None:
    """A misspelt required field is one problem (not also "required field is missing")."""
    path = case_set / "cases" / CASE
    edit(path, "\nnarratives:", "\nnarative:")
    [p] = problems(case_set)
    assert "field narative: unknown field 'narative' (did you mean 'narratives'?" in p
    obs = case_set / "observations" / CASE
    edit(path, "\nnarative:", "\nnarratives:")
    edit(obs, '    text: "Each splint inspected', '    narative: "Each splint inspected')
    [p] = problems(case_set)
    assert "field observations[15].narative: unknown field 'narative' (did you mean 'text'?" in p
    edit(obs, '    narative: "Each splint inspected', '    text: "Each splint inspected')
    edit(
        case_set / THEMES, "    dimension: local-institutions", "    dimention: local-institutions"
    )
    [p] = problems(case_set)
    assert "field themes[0].dimention: unknown field 'dimention' (did you mean 'dimension'?" in p


def test_an_unknown_field_at_the_top_of_a_file_names_the_likely_one(case_set: Path) -> None:
    edit(case_set / "observations" / CASE, "\nobservations:", "\nobservation:")
    edit(case_set / THEMES, "\nthemes:", "\ntheme:")  # `themes` is required there
    found = problems(case_set)
    assert len(found) == 2, found
    assert (
        "field observation: unknown field 'observation' (did you mean 'observations'?" in found[0]
    )
    assert "field theme: unknown field 'theme' (did you mean 'themes'? known: themes)" in found[1]


# A case-set folder given where its cases folder was meant.


def test_a_case_set_folder_given_for_its_cases_folder(case_set: Path) -> None:
    [p] = problems_of(["data/raw/cases", str(case_set)])
    assert p.startswith(f"{case_set.as_posix()}: "), p
    assert f"did you mean {case_set.as_posix()}/cases?" in p


def problems_of(cases: list[str]) -> list[str]:
    with pytest.raises(StudyDataError) as err:
        load_study(Layout(ROOT, ROOT), cases)
    return [str(p) for p in err.value.problems]


def test_the_validate_command_hints_at_the_cases_folder(
    case_set: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from crosscase.cli import main

    monkeypatch.setenv("CROSSCASE_ROOT", str(ROOT))
    assert main(["validate", "data/raw/cases", str(case_set)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("1 problem in the study data"), err
    assert f"did you mean {case_set.as_posix()}/cases?" in err and "Traceback" not in err


# Counts in the command's output agree with their number.


def test_validate_says_1_case(
    case_set: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from crosscase.cli import main

    monkeypatch.setenv("CROSSCASE_ROOT", str(ROOT))
    assert main(["validate", str(case_set / "cases")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: 1 case, "), out


def test_a_tab_used_for_indentation_is_named(case_set: Path) -> None:
    """YAML indents with spaces: a tab is reported as a tab, on its line (it was 'found
    character that cannot start any token'; issue 19)."""
    path = case_set / "cases" / CASE
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("  ") and ":" in ln)
    assert lines[at - 1] == "protocol:"  # the first field of a block: the tab's key is inside it
    key = lines[at].split(":")[0].strip()
    lines[at] = "\t" + lines[at].lstrip()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    [p] = [p for p in problems(case_set) if CASE in p]
    assert f"{CASE}:{at + 1}: case {path.stem}: field protocol.{key}: YAML indents with spaces" in p


def test_a_tab_in_a_list_of_observations_names_the_observation(case_set: Path) -> None:
    """In a file that does not parse, the case is the file's (its name) and the field a best
    guess from the indentation: inside a list it names the entry, and a tab-indented key sits
    where its neighbours do (it was 'field observations.text' for the second observation's
    text, with no case)."""
    path = case_set / "observations" / CASE
    lines = path.read_text(encoding="utf-8").splitlines()
    at = [i for i, ln in enumerate(lines) if ln.startswith("    text:")][1]
    lines[at] = "\t" + lines[at].lstrip()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    [p] = [p for p in problems(case_set) if CASE in p]
    where = f"{CASE}:{at + 1}: case {path.stem}: field observations[1].text"
    assert f"{where}: YAML indents with spaces" in p, p


def test_an_overlong_observation_is_accepted_with_a_warning(case_set: Path, capsys) -> None:
    """An observation's text of a whole passage (329,000 characters in a trial) swells every
    table that shows it: validation accepts it and warns, naming file, line and observation."""
    from crosscase.cli import main

    obs = case_set / "observations" / CASE
    text = obs.read_text(encoding="utf-8")
    first = re.search(r"\n    text: (.*)\n", text)
    assert first
    edit(obs, first.group(0), "\n    text: " + "word " * 2000 + "\n")
    assert main(["validate", "data/raw/cases", str(case_set / "cases")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: 6 cases") and "\nwarning: " in out
    [warning] = [ln for ln in out.splitlines() if ln.startswith("warning: ")]
    assert CASE in warning and "text of 9,999 characters" in warning and "evidence" in warning


def test_the_closest_sentence_of_a_chinese_narrative_is_one_sentence() -> None:
    """The hint for an evidence passage not found quotes a sentence, also where sentences end
    with the ideographic full stop and no space (it quoted the whole narrative; issue 19)."""
    from crosscase.model import Case
    from crosscase.study.passages import nearest_passage

    sentences = [
        "分布式制造把生产带到需求附近。",
        "本地工厂使用三维打印机制造零件。",
        "维修服务在当地提供。",
    ]
    case = Case(id="c", number=1, name="C", narratives={"d": "".join(sentences)})
    hint = nearest_passage(case, "本地工厂使用三维打印机制造零件和工具")
    assert hint == f"; the closest narrative sentence is {sentences[1]!r}"
