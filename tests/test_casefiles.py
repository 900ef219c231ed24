"""Case files written by the compendium (new-case, accept) are YAML written by a YAML library:
whatever the text, reading the file back gives the text that went in."""

from __future__ import annotations

from pathlib import Path

import yaml

from crosscase.cli import main

AWKWARD = [
    'He said "hi" \\ then left',
    "Key: value # not a comment",
    "tab\there, and a trailing colon:",
    "- looks like a list",
    "'single' quotes, {braces} and [brackets]",
    "Ünïcödé \u2013 dashes \u201cquotes\u201d \u2019",
    "@at and `backtick` and %percent",
    "yes",
    "1e3",
]


def test_new_case_keeps_any_name(tmp_path: Path) -> None:
    for i, name in enumerate(AWKWARD):
        into = tmp_path / f"set-{i}"
        assert main(["new-case", "--id", "x", "--name", name, "--into", str(into)]) == 0
        data = yaml.safe_load((into / "cases" / "x.yaml").read_text(encoding="utf-8"))
        assert data["name"] == name


def test_accept_keeps_any_narrative(tmp_path: Path) -> None:
    import pandas as pd

    rows = [
        {"segment": i + 1, "text": t, "dimension": "human-resources", "accept": ""}
        for i, t in enumerate(AWKWARD)
    ]
    csv = tmp_path / "s.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    argv = ["accept", str(csv), "--id", "y", "--name", AWKWARD[0], "--number", "9"]
    assert main([*argv, "--into", str(tmp_path / "set")]) == 0
    data = yaml.safe_load((tmp_path / "set" / "cases" / "y.yaml").read_text(encoding="utf-8"))
    assert data["name"] == AWKWARD[0]
    assert data["narratives"]["human-resources"] == " ".join(AWKWARD)


def test_a_new_cases_observation_file_lists_the_themes_and_shows_an_observation(
    tmp_path: Path,
) -> None:
    """The observation template names every theme id under its dimension and carries an example
    observation that, once its passage is one of the case's, validates (issue 19)."""
    from crosscase.paths import Layout
    from crosscase.study import load_study

    root = Path(__file__).resolve().parents[1]
    study = load_study(Layout.at(root))
    into = tmp_path / "set"
    assert main(["new-case", "--id", "x", "--name", "X", "--into", str(into)]) == 0
    text = (into / "observations" / "x.yaml").read_text(encoding="utf-8")
    comments = [line[2:] for line in text.splitlines() if line.startswith("# ")]
    for d in study.framework.dimensions:
        ids = [t.id for t in study.themes if t.dimension == d.id]
        assert f"  {d.id}: {', '.join(ids)}" in comments
    start = comments.index("  observations:")
    example = "\n".join(line[2:] for line in comments[start:])
    case = into / "cases" / "x.yaml"
    narrative = "A passage of the case's narrative."
    case.write_text(case.read_text(encoding="utf-8").replace('""', f'"{narrative}"'))
    passage = "a passage copied verbatim from this case's narratives"
    (into / "observations" / "x.yaml").write_text(
        "case: x\n" + example.replace(passage, narrative), encoding="utf-8"
    )
    loaded = load_study(Layout.at(root), ["data/raw/cases", str(into / "cases")])
    [observation] = [co.observation for co in loaded.observations if co.case == "x"]
    assert observation.themes and observation.evidence == narrative


def test_a_draft_is_neither_read_nor_recorded(tmp_path: Path) -> None:
    """Files starting with '_' or '.' are templates and drafts: the loader skips them, and so does
    the run record, which lists what a run reads (it hashed a draft observation file, so that
    editing the draft re-ran every notebook of the run)."""
    import shutil

    from conftest import ROOT

    from crosscase.paths import Layout
    from crosscase.study import load_study
    from crosscase.study.casesets import case_set_files

    target = tmp_path / "my-study"
    for sub in ("cases", "observations"):
        shutil.copytree(ROOT / "examples" / "illustrative" / sub, target / sub)
    shutil.copy(ROOT / "examples" / "illustrative" / "themes.yaml", target)
    for draft in ("cases/_draft.yaml", "observations/_draft.yaml", "observations/.x.yaml"):
        (target / draft).write_text("not: [yaml\n", encoding="utf-8")
    layout, cases = Layout(ROOT, tmp_path), ["data/raw/cases", str(target / "cases")]
    assert len(load_study(layout, cases).cases) == 6
    recorded = {p.name for p in case_set_files(layout, cases)}
    assert "hospital-splints.yaml" in recorded
    assert not {n for n in recorded if n.startswith(("_", "."))}, recorded
