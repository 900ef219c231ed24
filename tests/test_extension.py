"""Extending the study: case sets, uncoded cases, parameters, run records, the what-changed
report, robustness, new cases from the template, and failed runs leaving earlier outputs intact.
Expected values come from the paper's independent transcription (tests/expected/paper.yaml) and
from the worked example's own files, never from the implementation."""

from __future__ import annotations

import hashlib
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, expected_cases, project_copy

from crosscase import evidence, tables
from crosscase.cli import main
from crosscase.evidence import Evidence, ThemeEvidence
from crosscase.model import DiscriminatorRule, Study, Theme
from crosscase.paths import Layout
from crosscase.study import load_study
from crosscase.study.problems import StudyDataError
from crosscase.workflow.execute import NotebookFailed, ParameterError, execute, parameters_for

PAPER = ["data/raw/cases"]
EXAMPLE = ROOT / "examples" / "illustrative"
WITH_EXAMPLE = [*PAPER, "examples/illustrative/cases"]


def collect(cases: list[str], rule: DiscriminatorRule) -> Evidence:
    return evidence.collect(load_study(Layout.at(ROOT), cases), rule)


def _evidence(cases_of: dict[str, list[int]], coded: list[int], min_cases: int = 3) -> Evidence:
    themes = tuple(
        ThemeEvidence(
            Theme(id=t, dimension="d", label=t.upper()), tuple((n, f"{t}{n}") for n in cases)
        )
        for t, cases in cases_of.items()
    )
    return Evidence(DiscriminatorRule(min_cases), tuple(coded), themes)


def test_change_statuses() -> None:
    before = _evidence({"a": [1, 2, 3], "b": [1, 2, 3], "c": [1]}, [1, 2, 3, 4])
    after = _evidence({"a": [1, 2, 3], "b": [1, 2], "c": [1, 4, 5], "d": [6]}, [1, 2, 3, 4, 5, 6])
    got = {
        c.current.theme.id: (c.status, c.baseline is None) for c in evidence.changes(before, after)
    }
    assert got == {
        "a": ("holds", False),
        "b": ("falls below the rule", False),
        "c": ("newly qualifies", False),
        "d": ("below the rule", True),
    }


def _example_themes() -> set[str]:
    """The themes the worked example's coding names (read from its file, not through the
    package)."""
    data = yaml.safe_load((EXAMPLE / "observations" / "hospital-splints.yaml").read_text())
    return {t for o in data["observations"] for t in o.get("themes", [])}


def _example_new_themes() -> set[str]:
    return {t["id"] for t in yaml.safe_load((EXAMPLE / "themes.yaml").read_text())["themes"]}


def test_worked_example_adds_a_case_and_a_candidate_theme(study: Study, expected: dict) -> None:
    rule = DiscriminatorRule(3)
    got = evidence.changes(collect(PAPER, rule), collect(WITH_EXAMPLE, rule))
    paper = expected_cases(study, expected)
    new = _example_new_themes()
    assert {c.current.theme.id for c in got} == set(paper) | new
    for c in got:
        if c.current.theme.id in new:
            assert (c.status, c.baseline, c.current.cases) == ("below the rule", None, (6,))
        else:  # every paper theme has >= 3 cases (section 4), and adding a case removes none
            assert c.status == "holds"
            extra = (6,) if c.current.theme.id in _example_themes() else ()
            assert c.current.cases == paper[c.current.theme.id] + extra


def test_a_share_rule_makes_three_case_discriminators_fall(study: Study, expected: dict) -> None:
    paper = expected_cases(study, expected)
    run = collect(WITH_EXAMPLE, DiscriminatorRule(3, 0.6))  # 60% of 6 cases: 4
    fell = {
        c.current.theme.id
        for c in evidence.changes(collect(PAPER, DiscriminatorRule(3)), run)
        if c.status == "falls below the rule"
    }
    example = _example_themes()
    assert fell == {t for t, cases in paper.items() if len(cases) + (t in example) < 4}
    assert fell  # the rule matters


def test_case_with_narratives_only_is_not_yet_coded(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    shutil.copy(EXAMPLE / "cases" / "hospital-splints.yaml", tmp_path / "cases")
    study = load_study(Layout.at(ROOT), [*PAPER, str(tmp_path / "cases")])
    assert [c.id for c in study.uncoded_cases] == ["hospital-splints"]
    ev = evidence.collect(study, DiscriminatorRule(3))
    assert all(6 not in t.cases for t in ev.themes)
    table3 = tables.data_display(study)
    assert (table3[study.cases[-1].name] == "").all()


def test_robustness_of_the_paper(study: Study, expected: dict, evidence: Evidence) -> None:
    """With five cases and a three-case rule, a theme of four or five cases survives leaving out
    any one case; a theme of exactly three rests on each of its three (section 4's lists)."""
    paper = expected_cases(study, expected)
    n_cases = len(expected["cases"])
    rows = {r.evidence.theme.id: r for r in _robustness(evidence)}
    assert {t for t, r in rows.items() if r.verdict == "stable"} == {
        t for t, cases in paper.items() if len(cases) > 3
    }
    for t, cases in paper.items():
        assert rows[t].pivotal == (cases if len(cases) == 3 else ())
        if len(cases) == 3:  # not 'rests on a single case': any one of its three makes it fall
            assert rows[t].verdict == "falls without any one of its cases"
    loo = tables.leave_one_case_out_table(evidence)
    assert loo.shape == (len(paper), n_cases)
    sweep = tables.threshold_sweep_table(evidence, list(range(1, n_cases + 1)))
    assert sweep.sum().to_list() == [
        sum(len(c) >= k for c in paper.values()) for k in range(1, n_cases + 1)
    ]


def _robustness(ev: Evidence):  # type: ignore[no-untyped-def]
    from crosscase.evidence import robustness

    return robustness(ev)


def test_misspelt_notebook_parameter_is_an_error(tmp_path: Path) -> None:
    nb = ROOT / "notebooks" / "03-second-order-themes.ipynb"
    assert parameters_for(nb, None, {"min_cases": 4, "run": "x"}) == {"min_cases": 4, "run": "x"}
    with pytest.raises(ParameterError, match="min_case"):
        parameters_for(nb, None, {"min_case": 4})
    out = tmp_path / "never-written.ipynb"
    assert main(["execute", str(nb), str(out), "-p", "min_case=4"]) == 2
    assert not out.exists()


def test_each_notebook_gets_the_run_parameters_it_declares() -> None:
    run = {"run": "x", "cases": ["a"], "min_cases": 4, "min_share": None}
    framework_only = ROOT / "notebooks" / "05-research-framework.ipynb"
    assert parameters_for(framework_only, run) == {"run": "x"}
    themes = ROOT / "notebooks" / "03-second-order-themes.ipynb"
    assert parameters_for(themes, run) == run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return project_copy(tmp_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copy that the tests using it do not edit (they make records of their own)."""
    return project_copy(tmp_path_factory.mktemp("shared"))


def make(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("CROSSCASE_")}
    return subprocess.run(
        ["make", *args], cwd=project, capture_output=True, text=True, env=env, timeout=600
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["MIN_CASE=4"], "unknown variable(s) MIN_CASE"),
        (["MIN_CASES=4"], "RUN=paper is the reproduction"),
        (["RUN=paper", "CASES=examples/illustrative/cases"], "RUN=paper is the reproduction"),
    ],
)
def test_make_refuses_misspelt_variables_and_guards_the_paper_run(shared, args, message) -> None:
    out = make(shared, *args)
    assert out.returncode != 0 and message in out.stderr, out.stderr
    assert not (shared / "build" / "paper").exists(), "refused before any notebook ran"


def test_make_validate_takes_any_case_set_without_a_run_name(shared: Path) -> None:
    out = make(shared, "validate", "CASES=data/raw/cases examples/illustrative/cases")
    assert out.returncode == 0, out.stderr
    assert "OK: 6 cases" in out.stdout


def test_a_run_remembers_its_case_set_and_rule(shared: Path) -> None:
    first = make(shared, "-n", "RUN=t4", "MIN_CASES=4", "MIN_SHARE=0.6")
    assert first.returncode == 0, first.stderr
    assert "record --run t4 --min-cases 4 --min-share 0.6" in first.stdout
    assert "build/t4/03-second-order-themes.ipynb" in first.stdout
    assert not (shared / "data/processed/t4/run.yaml").exists(), "a dry run records nothing"
    record = make(
        shared, "data/processed/t4/run.yaml", "RUN=t4", "CASES=examples/illustrative/cases"
    )
    assert record.returncode == 0, record.stderr
    spec = yaml.safe_load((shared / "data/processed/t4/run.yaml").read_text())
    study = yaml.safe_load((shared / "data/raw/study.yaml").read_text())
    assert {k: v for k, v in spec.items() if k != "inputs"} == {
        "run": "t4",
        "cases": ["examples/illustrative/cases"],
        "min_cases": study["rule"]["min_cases"],  # the study's rule, when none is given
        "min_share": None,
    }
    assert "examples/illustrative/cases/hospital-splints.yaml" in spec["inputs"]
    # Later calls without CASES reuse the record; a different set is refused unless OVERWRITE=1.
    record_only = ["data/processed/t4/run.yaml", "RUN=t4"]
    assert make(shared, *record_only).returncode == 0
    other = make(shared, *record_only, "CASES=data/raw/cases")
    assert other.returncode != 0 and "was made with" in other.stderr, other.stderr
    assert "OVERWRITE=1" in other.stderr
    assert make(shared, *record_only, "CASES=data/raw/cases", "OVERWRITE=1").returncode == 0
    assert yaml.safe_load((shared / "data/processed/t4/run.yaml").read_text())["cases"] == PAPER


def _stand_ins(project: Path, run: str, mtime: float) -> dict[str, str]:
    """Stand-ins for an earlier run's executed notebooks, newer than every input."""
    import os

    build = project / "build" / run
    build.mkdir(parents=True, exist_ok=True)
    for nb in sorted((project / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        (build / nb.name).write_text(f"earlier {nb.name}\n")
        os.utime(build / nb.name, (mtime, mtime))
    return {p.name: p.read_text() for p in sorted(build.glob("*.ipynb"))}


def test_make_on_bad_data_stops_with_one_report_and_keeps_earlier_notebooks(project) -> None:
    import time

    earlier = _stand_ins(project, "paper", time.time() + 100)
    case = project / "data" / "raw" / "cases" / "customised-insoles.yaml"
    case.write_text(case.read_text().replace("  human-resources:", "  human-resource:"))
    out = make(project)
    assert out.returncode != 0
    said = out.stdout + out.stderr
    assert "Traceback" not in said
    assert said.count("in the study data (nothing was written)") == 1, said
    assert "unknown dimension 'human-resource'" in said
    after = {p.name: p.read_text() for p in sorted((project / "build/paper").glob("*.ipynb"))}
    assert after == earlier, "the earlier executed notebooks are kept"
    assert not (project / "data" / "processed").exists(), "nothing written"


def test_a_failed_first_make_records_nothing(shared) -> None:
    bad = make(shared, "RUN=mine", "CASES=data/raw/cases examples/illustrative/casez")
    assert bad.returncode != 0 and "no such case file or folder" in bad.stdout + bad.stderr
    assert not (shared / "data/processed/mine/run.yaml").exists()
    good = make(shared, "-n", "RUN=mine", "CASES=data/raw/cases examples/illustrative/cases")
    assert good.returncode == 0, good.stderr


def test_a_run_is_rerecorded_when_a_file_of_its_case_set_changes(tmp_path: Path) -> None:
    """The record holds every input's SHA-256: editing a case file of the set changes it (and so
    re-runs the notebooks that read it), touching one without a change does not."""
    from crosscase.workflow.runs import Run, record

    shutil.copytree(EXAMPLE, tmp_path / "set")
    layout = Layout(ROOT, tmp_path / "out")
    run = Run("t6", ("data/raw/cases", str(tmp_path / "set" / "cases")), 3, None)
    assert record(layout, run).startswith("OK: 6 cases, ")
    assert record(layout, run) is None, "nothing changed: not even validated again"
    case = tmp_path / "set" / "cases" / "hospital-splints.yaml"
    case.touch()
    assert record(layout, run) is None
    case.write_text(case.read_text().replace("name:", "name: ", 1) + "\n")
    assert record(layout, run) is not None


def test_each_notebook_reads_the_run_record_or_the_framework() -> None:
    """make's rules: a notebook that declares the run's case set depends on the run's record
    (which changes with any input), one that does not (05) on the framework and the study's
    description alone; and each on the package modules it imports, not on every module."""
    from crosscase.workflow.dependencies import notebook_rules

    rules = dict(
        line.split(": ", 1)
        for line in notebook_rules(Layout.at(ROOT)).splitlines()
        if not line.startswith("#")
    )
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        reads = rules[f"$(BUILD)/{nb.name}"].split()
        if "cases" in parameters_for(nb, {"cases": []}):
            assert reads[0] == "$(RECORD)", nb.name
        else:
            assert reads[:2] == ["data/raw/framework.yaml", "data/raw/study.yaml"], nb.name
        assert ("src/crosscase/assisted/dimensions.py" in reads) == nb.name.startswith("07")
        assert "src/crosscase/qda/export.py" not in reads


def test_new_case_from_template(tmp_path: Path) -> None:
    into = tmp_path / "my-set"
    assert main(["new-case", "--id", "my-case", "--name", "My case", "--into", str(into)]) == 0
    assert main(["new-case", "--id", "my-case", "--name", "x", "--into", str(into)]) == 1
    assert main(["new-case", "--id", "../bad", "--name", "x", "--into", str(into)]) == 2
    layout = Layout.at(ROOT)
    framework = load_study(layout).framework
    with pytest.raises(StudyDataError) as err:
        load_study(layout, [*PAPER, str(into / "cases")])
    empty = [p for p in err.value.problems if p.message == "empty text"]
    assert len(empty) == len(framework.case_protocol) + len(framework.dimensions)
    assert all(p.case == "my-case" for p in empty)
    text = (into / "cases" / "my-case.yaml").read_text()
    (into / "cases" / "my-case.yaml").write_text(text.replace('""', '"Filled in."'))
    study = load_study(layout, [*PAPER, str(into / "cases")])
    assert [c.number for c in study.cases] == [*range(1, len(study.cases) + 1)]
    assert [c.id for c in study.uncoded_cases] == ["my-case"]


def test_failed_run_writes_nothing_and_keeps_earlier_outputs(
    tmp_path: Path, monkeypatch, capfd
) -> None:
    project = project_copy(tmp_path / "project")
    monkeypatch.setenv("CROSSCASE_ROOT", str(project))
    monkeypatch.setenv("CROSSCASE_OUTPUT_ROOT", str(project))
    nb = ROOT / "notebooks" / "01-cases.ipynb"
    executed = tmp_path / "01.ipynb"
    execute(nb, executed, {"run": "kept", "cases": PAPER}, cwd=project)
    out = project / "data" / "processed" / "kept"
    # The runner's kernels talk over local sockets: no 'Kernel is running over TCP without
    # encryption' on every run (the kernel's stderr is this process's).
    assert "without encryption" not in capfd.readouterr().err

    def snapshot() -> dict[str, str]:
        files = [*out.iterdir(), executed]
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}

    before = snapshot()
    case = project / "data" / "raw" / "cases" / "customised-insoles.yaml"
    case.write_text(case.read_text().replace("id: customised-insoles", "id: ../insoles"))
    with pytest.raises(NotebookFailed, match="not a safe identifier") as err:
        execute(nb, executed, {"run": "kept", "cases": PAPER}, cwd=project)
    assert "Traceback" not in err.value.message
    assert snapshot() == before, "tables and the earlier executed notebook are left as they were"


def test_the_reproduction_run_only_takes_the_study_cases(monkeypatch) -> None:
    from crosscase.workflow import session

    monkeypatch.chdir(ROOT)
    with pytest.raises(ValueError, match="name of its own"):
        session.start("paper", WITH_EXAMPLE)
    assert len(session.start("illustrative", WITH_EXAMPLE).study.cases) == 6


def test_new_case_says_a_next_step_that_works(tmp_path: Path, capsys) -> None:
    into = tmp_path / "my-set"
    assert main(["new-case", "--id", "c", "--name", "C", "--into", str(into)]) == 0
    said = capsys.readouterr().out
    assert "make validate CASES=" in said and "`crosscase validate`" not in said


def test_what_changed_names_themes_and_table_4_discriminators_apart(study: Study) -> None:
    """Second-order themes (Table 3's last column) and Table 4's discriminators are different
    things: each has its own what-changed table, and a discriminator falls when one of the
    themes it restates falls (under a share rule, 60% of six cases)."""
    before = collect(PAPER, DiscriminatorRule(3))
    after_study = load_study(Layout.at(ROOT), WITH_EXAMPLE)
    after = evidence.collect(after_study, DiscriminatorRule(3, 0.6))
    themes = tables.changes_table(after_study, before, after)
    assert set(themes.columns) >= {"theme", "status"}
    table = tables.discriminator_changes_table(after_study, study, before, after)
    models = yaml.safe_load((ROOT / "data/raw/comparison.yaml").read_text())
    assert list(table["discriminator"]) == [d["id"] for d in models["discriminators"]]
    fell = set(themes.loc[themes["status"] == "falls below the rule", "theme"])
    for d in models["discriminators"]:
        row = table.set_index("discriminator").loc[d["id"]]
        if not d.get("themes"):
            assert row["status"] == "asserted (rests on no theme)"
        elif set(d["themes"]) & fell:
            assert row["status"] == "falls below the rule"
        else:
            assert row["status"] == "holds"


def test_links_of_a_new_case_are_the_researchers_own_coding() -> None:
    """A case set whose observations state no theme_basis (the worked example) loads, and its
    links are `coded`: independent, on the researcher's own coding."""
    study = load_study(Layout.at(ROOT), WITH_EXAMPLE)
    ev = evidence.collect(study, DiscriminatorRule(3))
    links = [link for tg in evidence.theme_grounds(study, ev) for link in tg.links]
    new = [link for link in links if link.case == 6]
    data = yaml.safe_load((EXAMPLE / "observations" / "hospital-splints.yaml").read_text())
    assert len(new) == sum(len(o.get("themes", [])) for o in data["observations"])
    assert {(link.basis, link.grounds) for link in new} == {("coded", "independent")}


def test_a_case_evidences_a_theme_on_the_strongest_grounds_of_its_links() -> None:
    theme = Theme(id="t", dimension="d", label="T")
    te = ThemeEvidence(theme, ((1, "a"), (1, "b"), (2, "c"), (3, "d")))
    links = (
        evidence.Link("t", 1, "a", "text-case-list", "by construction"),
        evidence.Link("t", 1, "b", "highlighted", "independent"),
        evidence.Link("t", 2, "c", "text-case-list", "reconstructed"),
        evidence.Link("t", 3, "d", "display-case-list", "by construction"),
    )
    tg = evidence.ThemeGrounds(te, links)
    assert tg.by_case == {1: "independent", 2: "reconstructed", 3: "by construction"}
    assert (tg.cases("independent"), tg.check) == ((1,), "partly independent")


def test_a_run_name_never_made_is_not_silently_the_paper(tmp_path: Path) -> None:
    """`make report RUN=bike` (meant: bikes) used to run the paper's cases under that name.
    A run with no record and no case set given is refused, naming the recorded runs."""
    from crosscase.workflow.runs import Run, RunError, record, resolve

    layout = Layout(ROOT, tmp_path)
    record(layout, Run("bikes", ("data/raw/cases", "examples/illustrative/cases"), 3, None))
    with pytest.raises(RunError, match=r"run 'bike' was never made.*recorded runs: bikes"):
        resolve(layout, "bike")
    assert resolve(layout, "bikes").cases[-1] == "examples/illustrative/cases"
    assert resolve(layout, "paper").name == "paper"  # the reproduction needs no record
    assert resolve(layout, "t4", min_cases=4).min_cases == 4  # a rule given: a new run


def test_a_share_rule_alone_prints_as_a_command_that_works() -> None:
    from crosscase.workflow.runs import Run

    line = Run("x", ("data/raw/cases",), None, 0.6).command_line()
    assert "None" not in line and "MIN_SHARE=0.6" in line


def test_outputs_print_the_cases_before_and_now(tmp_path: Path, capsys, monkeypatch) -> None:
    """What changed is visible: a theme that gains a case prints its cases before and now."""
    from crosscase.outputs import write_table
    from crosscase.workflow.runs import Run, record

    monkeypatch.setenv("CROSSCASE_OUTPUT_ROOT", str(tmp_path))
    layout = Layout(ROOT, tmp_path)
    record(layout, Run("six", ("data/raw/cases", "examples/illustrative/cases"), 3, None))
    study = load_study(Layout.at(ROOT), WITH_EXAMPLE)
    before, after = (
        collect(PAPER, DiscriminatorRule(3)),
        evidence.collect(study, DiscriminatorRule(3)),
    )
    write_table(
        tables.changes_table(study, before, after), layout.tables_dir("six"), "theme-changes"
    )
    assert main(["outputs", "--run", "six"]) == 0
    said = capsys.readouterr().out
    assert re.search(
        r"holds\s+Close proximity to end use or consumption \(1, 2, 3, 4, 5 -> 1, 2, 3, 4, 5, 6\)",
        said,
    ), said


def _what_changed(study: Study, rule: DiscriminatorRule) -> dict[str, dict[str, int]]:
    """Counts of the example run's what-changed tables (themes and Table 4 discriminators) by
    status, and of those holding with case 6 among their cases."""
    after_study = load_study(Layout.at(ROOT), WITH_EXAMPLE)
    before = collect(PAPER, DiscriminatorRule(3))
    after = evidence.collect(after_study, rule)
    changed = {
        "themes": tables.changes_table(after_study, before, after),
        "discriminators": tables.discriminator_changes_table(after_study, study, before, after),
    }
    counts = {}
    for kind, table in changed.items():
        c = dict(table["status"].value_counts())
        holds = table[table["status"] == "holds"]
        c["with case 6"] = int(holds["cases"].str.split(", ").map(lambda x: "6" in x).sum())
        counts[kind] = {k: int(v) for k, v in c.items()}
    return counts


def test_the_worked_examples_readme_says_what_its_runs_print(study: Study) -> None:
    """examples/illustrative/README.md states what `make example` and the 60% run print: its
    numbers are checked against the same tables (they are prose, so a test keeps them true)."""
    from crosscase.outputs import in_words

    text = " ".join((EXAMPLE / "README.md").read_text(encoding="utf-8").split())
    three = _what_changed(study, DiscriminatorRule(3))
    themes, discs = three["themes"], three["discriminators"]
    assert (
        f"all {themes['holds']} second-order themes of the paper hold "
        f"({themes['with case 6']} now with case 6 among their cases)" in text
    )
    assert (
        f"all {discs['holds']} theme-based discriminators of Table 4 hold "
        f"({discs['with case 6']} with case 6) and its "
        f"{in_words(discs['asserted (rests on no theme)'])} asserted ones stay asserted" in text
    )
    share = _what_changed(study, DiscriminatorRule(3, 0.6))
    fell = "falls below the rule"
    assert (
        f"{in_words(share['themes'][fell])} themes and "
        f"{in_words(share['discriminators'][fell])} discriminators fall" in text
    )


def test_a_finished_notebooks_kernel_is_shut_down_without_an_interrupt(
    tmp_path: Path, monkeypatch
) -> None:
    """jupyter_client interrupts a kernel (SIGINT) before asking it to shut down; a kernel still
    flushing its last message then logs 'KeyboardInterrupt caught in kernel' (seen in about one
    make in three). The runner's kernels are shut down without the interrupt (issue 19)."""
    import signal

    import nbformat
    from jupyter_client.manager import KernelManager

    sent: list[int] = []
    original = KernelManager._async_signal_kernel

    async def spy(self, signum):  # type: ignore[no-untyped-def]
        sent.append(signum)
        await original(self, signum)

    monkeypatch.setattr(KernelManager, "_async_signal_kernel", spy)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, tmp_path / "tiny.ipynb")
    execute(tmp_path / "tiny.ipynb", tmp_path / "out.ipynb", kernel="python3")
    assert signal.SIGINT not in sent


def test_make_says_when_each_notebook_starts_and_how_long_it_took(shared: Path) -> None:
    """A make that runs notebooks for minutes prints a line as each starts, while it runs, and
    one as it ends, with its time (issue 19)."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSCASE_")}
    target = "build/paper/05-research-framework.ipynb"
    with subprocess.Popen(
        ["make", target], cwd=shared, env=env, stdout=subprocess.PIPE, text=True
    ) as made:
        assert made.stdout is not None
        before = [made.stdout.readline().strip() for _ in range(2)]  # the run's record checked
        running = made.poll() is None
        rest = made.stdout.read().splitlines()
    assert before[-1] == "paper: 05-research-framework.ipynb started" and running, before
    assert made.returncode == 0
    assert any(
        re.fullmatch(r"paper: 05-research-framework\.ipynb done in \d+\.\d s", x) for x in rest
    )


def test_a_case_set_has_no_order_and_a_misspelt_folder_is_named(shared: Path) -> None:
    """For a recorded run, the same CASES in another order are the same case set; a misspelt
    folder gets 'no such case file or folder', not the record-mismatch message (issue 19)."""
    record = ["data/processed/o1/run.yaml", "RUN=o1"]
    assert make(shared, *record, "CASES=data/raw/cases examples/illustrative/cases").returncode == 0
    before = (shared / "data/processed/o1/run.yaml").read_text()
    again = make(shared, *record, "CASES=examples/illustrative/cases data/raw/cases")
    assert again.returncode == 0, again.stderr
    assert (shared / "data/processed/o1/run.yaml").read_text() == before
    typo = make(shared, *record, "CASES=data/raw/cases examples/illustrative/case")
    assert typo.returncode != 0
    assert "examples/illustrative/case: no such case file or folder" in typo.stderr, typo.stderr
    assert "was made with" not in typo.stderr


def _quick_start() -> tuple[str, list[list[str]], dict]:
    """docs/extending.md's quick start: its text, its commands (comments dropped) and the
    example observation its comments show."""
    text = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(ln, comments=True) for ln in block.splitlines() if ln.strip()]
    example = "\n".join(
        ln.strip().removeprefix("#")[4:]
        for ln in block.splitlines()
        if ln.lstrip().startswith("#     ")
    )
    return section, [c for c in commands if c], yaml.safe_load(example)[0]


def test_the_quick_start_works_as_written(project: Path) -> None:
    """The quick start says what the first time costs, and its commands run as written in a
    copy of the project: the template, the narratives and the example observation it shows
    give a case set that validates and is recorded as a run (the notebooks themselves are run
    on a sixth case by the worked example's tests)."""
    section, commands, observation = _quick_start()
    assert re.search(r"\d+ minutes and \d+ GB the first time", section)
    new_case, validate, run, report = commands
    assert new_case[:2] == ["make", "new-case"] and validate[:2] == ["make", "validate"]
    assert make(project, *new_case[1:]).returncode == 0
    into = project / dict(a.split("=", 1) for a in new_case[2:])["INTO"]
    case_file = next((into / "cases").glob("*.yaml"))
    passage = observation["evidence"]
    narrative = f'{observation["dimension"]}: ""'
    text = case_file.read_text().replace(narrative, narrative[:-1] + f'Filled in. {passage}."')
    text = text.replace('""', '"Filled in."')
    case_file.write_text(text)
    obs_file = into / "observations" / case_file.name
    entry = yaml.safe_dump([observation], allow_unicode=True)
    head, _ = obs_file.read_text().rsplit("observations: []", 1)  # the last line: the list
    obs_file.write_text(head + "observations:\n" + entry)
    checked = make(project, *validate[1:])
    assert checked.returncode == 0 and "OK: 6 cases" in checked.stdout, checked.stderr
    settings = dict(a.split("=", 1) for a in run[1:])
    recorded = make(project, *run[1:], f"data/processed/{settings['RUN']}/run.yaml")
    assert recorded.returncode == 0, recorded.stderr
    assert report[:2] == ["make", "report"] and f"RUN={settings['RUN']}" in report
