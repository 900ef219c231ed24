"""Extending the study: case sets, uncoded cases, parameters, the what-changed report,
robustness, new cases from the template, and failed runs leaving earlier outputs intact."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from crosscase import Layout, StudyDataError, analysis, load_study
from crosscase.cli import main
from crosscase.runner import ParameterError, check_parameters, execute

ROOT = Path(__file__).resolve().parents[1]
PAPER = ["data/raw/cases"]
WITH_EXAMPLE = [*PAPER, "examples/illustrative/cases"]


def themes_of(cases: list[str], rule: analysis.DiscriminatorRule) -> pd.DataFrame:
    return analysis.second_order_themes(load_study(Layout(ROOT, ROOT), cases), rule)


def test_compare_discriminators_statuses() -> None:
    def frame(rows: list[tuple[str, str, bool]]) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "theme": t,
                    "dimension_label": "D",
                    "label": t.upper(),
                    "cases": c,
                    "discriminator": d,
                }
                for t, c, d in rows
            ]
        )

    before = frame([("a", "1, 2, 3", True), ("b", "1, 2, 3", True), ("c", "1", False)])
    after = frame(
        [("a", "1, 2, 3", True), ("b", "1, 2", False), ("c", "1, 4, 5", True), ("d", "6", False)]
    )
    out = analysis.compare_discriminators(before, after).set_index("theme")
    assert out["status"].to_dict() == {
        "a": "holds",
        "b": "falls below the rule",
        "c": "newly qualifies",
        "d": "below the rule",
    }
    assert out.loc["d", "label"] == "D (new theme)" and out.loc["d", "baseline_cases"] == ""


def test_worked_example_adds_a_case_and_a_candidate_theme() -> None:
    rule = analysis.DiscriminatorRule(3)
    changes = analysis.compare_discriminators(themes_of(PAPER, rule), themes_of(WITH_EXAMPLE, rule))
    assert changes["status"].value_counts().to_dict() == {"holds": 19, "below the rule": 1}
    new = changes[changes["label"].str.endswith("(new theme)")]
    assert list(new["cases"]) == ["6"]


def test_a_share_rule_makes_three_case_discriminators_fall() -> None:
    paper = themes_of(PAPER, analysis.DiscriminatorRule(3))
    run = themes_of(WITH_EXAMPLE, analysis.DiscriminatorRule(3, 0.6))  # 60% of 6 cases: 4
    changes = analysis.compare_discriminators(paper, run).set_index("theme")
    fell = set(changes.index[changes["status"] == "falls below the rule"])
    assert fell == {
        "rationalised-upstream-supply-network",
        "modular-build-process",
        "integration-of-design-and-manufacture",
        "ip-driven-partnerships",
        "component-rationalisation",
        "service-repair-offering",
        "distributed-physical-infrastructure",
    }


def test_case_with_narratives_only_is_not_yet_coded(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    shutil.copy(ROOT / "examples/illustrative/cases/hospital-splints.yaml", tmp_path / "cases")
    study = load_study(Layout(ROOT, ROOT), [*PAPER, str(tmp_path / "cases")])
    assert [c.id for c in study.uncoded_cases] == ["hospital-splints"]
    themes = analysis.second_order_themes(study, analysis.DiscriminatorRule(3))
    assert not themes["cases"].str.contains("6").any()
    table3 = analysis.data_display(study)
    assert (table3["Hospital point-of-care splints (illustrative)"] == "").all()


def test_robustness_of_the_paper() -> None:
    study = load_study(Layout(ROOT, ROOT))
    rule = analysis.DiscriminatorRule(3)
    summary = analysis.robustness_summary(study, rule).set_index("theme")
    stable = set(summary.index[summary["verdict"] == "stable"])
    assert stable == {
        "close-proximity-to-end-use",
        "proliferation-of-manufacturing-sites",
        "short-lead-time",
        "centralised-design-expertise",
        "distributed-production-expertise",
    }
    assert summary.loc["agile-regulation", "pivotal_cases"] == "1, 2, 3"
    loo = analysis.leave_one_case_out(study, rule)
    assert loo.shape == (19, 5) and not bool(loo.loc["agile-regulation", 1])
    sweep = analysis.threshold_sweep(study, [1, 2, 3, 4, 5])
    assert sweep.sum().to_list() == [19, 19, 19, 5, 2]


def test_misspelt_notebook_parameter_is_an_error() -> None:
    nb = ROOT / "notebooks" / "03-second-order-themes.ipynb"
    check_parameters(nb, {"min_cases": 4, "run": "x"})
    with pytest.raises(ParameterError, match="min_case"):
        check_parameters(nb, {"min_case": 4})
    assert main(["run", str(nb), "/tmp/never-written.ipynb", "-p", "min_case=4"]) == 2
    assert not Path("/tmp/never-written.ipynb").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["MIN_CASE=4"], "unknown variable(s) MIN_CASE"),
        (["MIN_CASES=4"], "RUN=paper is the paper's reproduction"),
        (["RUN=paper", "CASES=examples/illustrative/cases"], "RUN=paper is the paper's"),
    ],
)
def test_make_refuses_misspelt_variables_and_guards_the_paper_run(args, message) -> None:
    out = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode != 0 and message in out.stderr


def test_make_accepts_a_named_run() -> None:
    out = subprocess.run(
        ["make", "-n", "RUN=t4", "MIN_CASES=4", "MIN_SHARE=0.6"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "-p min_cases=4 -p min_share=0.6" in out.stdout and "build/t4/" in out.stdout


def test_new_case_from_template(tmp_path: Path, capsys) -> None:
    into = tmp_path / "my-set"
    assert main(["new-case", "--id", "my-case", "--name", "My case", "--into", str(into)]) == 0
    assert main(["new-case", "--id", "my-case", "--name", "x", "--into", str(into)]) == 1
    assert main(["new-case", "--id", "../bad", "--name", "x", "--into", str(into)]) == 2
    with pytest.raises(StudyDataError) as err:
        load_study(Layout(ROOT, ROOT), [*PAPER, str(into / "cases")])
    empty = [p for p in err.value.problems if p.message == "empty text"]
    assert len(empty) == 6 + 7 and all(p.case == "my-case" for p in empty)
    text = (into / "cases" / "my-case.yaml").read_text()
    (into / "cases" / "my-case.yaml").write_text(text.replace('""', '"Filled in."'))
    study = load_study(Layout(ROOT, ROOT), [*PAPER, str(into / "cases")])
    assert [c.number for c in study.cases] == [1, 2, 3, 4, 5, 6]
    assert [c.id for c in study.uncoded_cases] == ["my-case"]


def test_failed_run_writes_nothing_and_keeps_earlier_outputs(tmp_path: Path, monkeypatch) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "data" / "raw", project / "data" / "raw")
    (project / "pyproject.toml").write_text("[tool.crosscase]\n")
    monkeypatch.setenv("CROSSCASE_ROOT", str(project))
    monkeypatch.setenv("CROSSCASE_OUTPUT_ROOT", str(project))
    nb = ROOT / "notebooks" / "01-cases.ipynb"
    execute(nb, tmp_path / "ok.ipynb", {"run": "kept"}, cwd=project)
    out = project / "data" / "processed" / "kept"

    def snapshot() -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir()}

    before = snapshot()
    assert len(before) == 4
    case = project / "data" / "raw" / "cases" / "customised-insoles.yaml"
    case.write_text(case.read_text().replace("id: customised-insoles", "id: ../insoles"))
    with pytest.raises(Exception, match="not a safe identifier"):
        execute(nb, tmp_path / "bad.ipynb", {"run": "kept"}, cwd=project)
    assert snapshot() == before


def test_the_reproduction_run_only_takes_the_study_cases(monkeypatch) -> None:
    from crosscase import notebook

    monkeypatch.chdir(ROOT)
    with pytest.raises(ValueError, match="name of its own"):
        notebook.start("paper", WITH_EXAMPLE)
    assert len(notebook.start("illustrative", WITH_EXAMPLE).study.cases) == 6
