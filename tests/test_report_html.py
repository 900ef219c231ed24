"""The report's HTML is built from autoescaped templates: names from the paper map, the notebooks
and the data reach the page as text, never as markup (no browser needed for this check)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from conftest import ROOT, hostile_report
from lxml import html

from crosscase.evidence import collect
from crosscase.model import DiscriminatorRule
from crosscase.paths import Layout
from crosscase.report.build import build_report
from crosscase.study import load_study
from crosscase.workflow.runs import Run

HOSTILE = '"><script>window.__x = 1</script>'
RUN = Run("run", ("data/raw/cases",), 3, None)
THREE = DiscriminatorRule(3)


def _report(
    out: Path,
    notebooks: list[Path] = (),
    paper_map: list | None = None,
    run: Run = RUN,
    rule: DiscriminatorRule = THREE,
    cases: list[str] | None = None,
) -> None:
    """The report of the paper's study (or of ``cases``) under ``rule``, into ``out``, its
    outputs read from ``out``'s parent."""
    study = load_study(Layout.at(ROOT), cases, require_theme_evidence=False)
    layout = Layout(ROOT, out.parent)
    build_report(layout, run, list(notebooks), out, study, collect(study, rule), paper_map)


def test_names_from_the_map_and_the_notebooks_are_escaped(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A notebook")]
    path = tmp_path / f"01-x{HOSTILE.replace('/', '')}.ipynb"
    nbformat.write(nb, path)
    paper_map = [
        {
            "item": f"Table {HOSTILE}",
            "title": HOSTILE,
            "section": HOSTILE,
            "notebook": path.name,
            "tables": [f"t{HOSTILE.replace('/', '')}"],
            "figures": [f"f{HOSTILE.replace('/', '')}"],
        }
    ]
    out = tmp_path / "report"
    _report(out, [path], paper_map)
    for page in out.glob("*.html"):
        tree = html.fromstring(page.read_bytes())
        assert tree.xpath("//script") == [], page.name
        assert all(not a.startswith("on") for el in tree.iter() for a in el.attrib), page.name


def test_case_text_in_the_evidence_pages_is_escaped(tmp_path: Path) -> None:
    out = tmp_path / "report"
    study = hostile_report(out, HOSTILE + '<b onclick="x()">bold</b>')
    pages = sorted(out.glob("*.html"))
    assert len(pages) > 20
    for page in pages:
        tree = html.fromstring(page.read_bytes())
        assert tree.xpath("//script") == [] and tree.xpath("//main//b") == [], page.name
        assert all(not a.startswith("on") for el in tree.iter() for a in el.attrib), page.name
    assert "&lt;script&gt;" in (out / f"case-{study.cases[0].id}.html").read_text()


def test_the_report_command_writes_the_evidence_pages(tmp_path: Path, monkeypatch) -> None:
    """`crosscase report` (what `make report` runs) loads the run's study and evidence from its
    record and writes the evidence browser beside the notebook pages."""
    import shutil

    import yaml

    from crosscase.cli import main

    executed = tmp_path / "build" / "paper"
    executed.mkdir(parents=True)
    shutil.copyfile(ROOT / "notebooks" / "01-cases.ipynb", executed / "01-cases.ipynb")
    monkeypatch.setenv("CROSSCASE_OUTPUT_ROOT", str(tmp_path))
    monkeypatch.setenv("CROSSCASE_ROOT", str(ROOT))
    assert main(["report", "--run", "paper"]) == 0
    out = tmp_path / "build" / "paper" / "report"
    themes = yaml.safe_load((ROOT / "data" / "raw" / "themes.yaml").read_text())["themes"]
    cases = [p.stem for p in (ROOT / "data" / "raw" / "cases").glob("*.yaml")]
    for name in [
        "index.html",
        "01-cases.html",
        "evidence.html",
        "data-display.html",
        *(f"theme-{t['id']}.html" for t in themes),
        *(f"case-{c}.html" for c in cases),
    ]:
        assert (out / name).is_file(), name
    assert 'href="evidence.html"' in (out / "index.html").read_text()


def test_the_index_counts_the_cases_of_the_run(tmp_path: Path) -> None:
    """Table 3's title says how many cases the data display holds: 'five' for the paper's run,
    'six' for a run with the worked example's sixth case (it said 'five' in both)."""
    for cases, words in (
        (["data/raw/cases"], "five"),
        (["data/raw/cases", "examples/illustrative/cases"], "six"),
    ):
        out = tmp_path / words
        _report(out, cases=cases)
        tree = html.fromstring((out / "index.html").read_bytes())
        [row] = tree.xpath("//table[@class='map']//tr[td[1]='Table 3']")
        assert f"analysis of {words} cases" in row.text_content()


def test_the_report_says_which_case_set_and_rule_the_run_used(tmp_path: Path, monkeypatch) -> None:
    """`crosscase report` shows the run's case set and rule in its provenance (from the run's
    record), so a six-case run cannot pass for the paper's."""
    import shutil

    from crosscase.cli import main
    from crosscase.workflow.runs import record

    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("CROSSCASE_OUTPUT_ROOT", str(tmp_path))
    layout = Layout(root, tmp_path)
    cases = ("data/raw/cases", "examples/illustrative/cases")
    record(layout, Run("six", cases, 3, 0.6))
    executed = layout.executed_dir("six")
    executed.mkdir(parents=True)
    shutil.copy(root / "notebooks" / "01-cases.ipynb", executed)  # an executed notebook
    assert main(["report", "--run", "six"]) == 0
    tree = html.fromstring((layout.report_dir("six") / "index.html").read_bytes())
    facts = {
        r.xpath("td[1]")[0].text_content(): r.xpath("td[2]")[0].text_content()
        for r in tree.xpath("//table[@class='provenance']//tr")
    }
    assert facts["Case set"] == " ".join(cases)
    assert facts["Discriminator rule"] == "at least 3 cases and at least 60% of the coded cases"


def test_provenance_counts_the_runs_own_case_set(tmp_path: Path) -> None:
    """An extension run's case set is part of its data: uncommitted files there make the
    commit 'with uncommitted changes', and the data's date covers them too."""
    import subprocess

    from crosscase.report.build import provenance

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "framework.yaml").write_text("x: 1\n")
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "empty")
    git("add", "data")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "raw")
    layout = Layout.at(tmp_path)
    run = Run("mine", ("data/raw/cases", "data/extensions/mine/cases"), 3, None)
    description = load_study(Layout.at(ROOT)).description
    clean = dict(provenance(layout, run, description))
    assert "uncommitted" not in clean["Commit"]
    (tmp_path / "data/extensions/mine/cases").mkdir(parents=True)
    (tmp_path / "data/extensions/mine/cases/c.yaml").write_text("id: c\n")
    dirty = dict(provenance(layout, run, description))
    assert "uncommitted" in dirty["Commit"]
    assert "Date of the data (last commit to the run's data)" in dirty


def test_the_index_links_what_changed_when_the_run_has_it(tmp_path: Path) -> None:
    """An extension run's theme-changes table (written only when compared with a baseline) is
    linked from the index beside Table 3; a run without it shows no dead link."""
    nb = nbformat.v4.new_notebook()
    path = tmp_path / "03-x.ipynb"
    nbformat.write(nb, path)
    paper_map = [
        {"item": "Table 3", "title": "T", "section": "4", "notebook": path.name,
         "tables": ["t3"], "compared": ["theme-changes"]}
    ]  # fmt: skip
    layout = Layout(ROOT, tmp_path)
    ext = Run("ext", ("data/raw/cases",), 3, None)
    layout.tables_dir("ext").mkdir(parents=True)
    (layout.tables_dir("ext") / "t3.csv").write_text("a\n1\n")
    _report(tmp_path / "before", [path], paper_map, ext)
    assert "theme-changes" not in (tmp_path / "before" / "index.html").read_text()
    (layout.tables_dir("ext") / "theme-changes.csv").write_text("theme,change\nx,now holds\n")
    _report(tmp_path / "after", [path], paper_map, ext)
    index = html.fromstring((tmp_path / "after" / "index.html").read_bytes())
    assert "files/theme-changes.csv" in index.xpath("//a/@href")


def _evidence_pages(tmp_path: Path, rule: DiscriminatorRule) -> Path:
    """The evidence browser of the paper's study under ``rule``, with the index."""
    out = tmp_path / "report"
    _report(out, rule=rule)
    return out


def test_the_pages_say_marked_for_the_passages_they_mark(tmp_path: Path) -> None:
    """The pages mark passages (``<mark>``) and call that *marked*; *highlighted* is kept for
    what the publication highlights (the ``highlighted`` basis of a link, and notes on Table 3),
    so that a reader does not take the one for the other."""
    from crosscase.model import LINK_BASES

    out = _evidence_pages(tmp_path, DiscriminatorRule(3))
    (basis,) = [b.label for b in LINK_BASES if b.id == "highlighted"]
    pages = [out / "index.html", out / "evidence.html", *out.glob("case-*.html")]
    pages += out.glob("theme-*.html")
    wheres = 0
    for page in pages:
        tree = html.fromstring(page.read_bytes())
        for note in tree.xpath("//p[@class='note']"):  # the data's own words on Table 3
            note.drop_tree()
        text = " ".join(tree.xpath("//main")[0].text_content().split()).replace(basis, "")
        assert "highlight" not in text.lower(), (
            page.name,
            text[text.lower().find("highlight") - 80 :][:160],
        )
        for where in tree.xpath("//p[@class='where'][a]"):
            assert where.text_content().startswith("Passage marked in the narrative of "), page.name
            wheres += 1
    assert wheres == sum(
        1 for co in load_study(Layout.at(ROOT)).observations if co.evidence_dimension
    )


def test_a_theme_status_reads_without_nested_parentheses(tmp_path: Path) -> None:
    """'Status: a discriminator (evidenced in 4 cases; the rule asks for at least 3 cases)',
    not '(at least 3 cases (threshold: 3 cases))'."""
    import re

    study = load_study(Layout.at(ROOT))
    for rule, asks in (
        (DiscriminatorRule(3), "at least 3 cases"),
        (DiscriminatorRule(4), "at least 4 cases"),
        (
            DiscriminatorRule(3, 0.6),
            "at least 3 cases and at least 60% of the 5 coded cases, that is 3 cases",
        ),
        (DiscriminatorRule(None, 0.7), "at least 70% of the 5 coded cases, that is 4 cases"),
    ):
        out = _evidence_pages(tmp_path / str(rule), rule)
        ev = collect(study, rule)
        for t in ev.themes:
            tree = html.fromstring((out / f"theme-{t.theme.id}.html").read_bytes())
            [status] = tree.xpath("//tr[td[1]='Status']/td[2]")
            text = " ".join(status.text_content().split())
            what = "a discriminator" if ev.qualifies(t.theme.id) else "below the rule"
            n = len(t.cases)
            assert text == (
                f"{what} (evidenced in {n} case{'' if n == 1 else 's'}; the rule asks for {asks})"
            )
            assert not re.search(r"\([^()]*\(", text), text


def test_a_note_is_shown_beside_the_passage(tmp_path: Path) -> None:
    """An observation's note (why its passage supports it only in context, how it was rebuilt)
    is shown right after its passage: on a theme page after the narrative where the passage is
    marked, on a case page after the line that quotes it (or says it rests on none)."""
    out = _evidence_pages(tmp_path, DiscriminatorRule(3))
    notes = 0
    for page in [*out.glob("theme-*.html"), *out.glob("case-*.html")]:
        tree = html.fromstring(page.read_bytes())
        for article in tree.xpath("//article[@class='observation'][p[@class='note']]"):
            note = article.xpath("p[@class='note']")[0]
            before = note.getprevious()
            assert before is not None and before.get("class") in {"narrative", "where"}, (
                page.name,
                article.get("id"),
                before is not None and before.get("class"),
            )
            if before.get("class") == "where":
                assert not article.xpath("p[@class='narrative']"), (page.name, article.get("id"))
            notes += 1
    assert notes >= 20


def test_links_on_ambiguous_italics_show_as_ambiguous(tmp_path: Path) -> None:
    """A link resting on italics that may not be Table 3's highlighting is shown as
    *ambiguous*, on the theme's page and on the case's, not as independent."""
    study = load_study(Layout.at(ROOT))
    links = [
        (co, t)
        for co in study.observations
        for t in co.observation.themes
        if co.observation.basis_of(t) == "ambiguous-italics"
    ]
    assert len(links) == 2
    out = _evidence_pages(tmp_path, DiscriminatorRule(3))
    for co, theme in links:
        anchor = f"obs-{co.observation.id}"
        page = html.fromstring((out / f"theme-{theme}.html").read_bytes())
        (article,) = page.xpath(f"//article[@id='{anchor}']")
        (provenance,) = article.xpath("p[@class='provenance']")
        assert provenance.xpath("span/@class") == ["grounds grounds-ambiguous"]
        case = html.fromstring((out / f"case-{co.case}.html").read_bytes())
        (article,) = case.xpath(f"//article[@id='{anchor}']")
        (link,) = [
            li for li in article.xpath(".//li") if f"theme-{theme}.html" in li.xpath("a/@href")[0]
        ]
        assert link.xpath("span/@class") == ["grounds grounds-ambiguous"]


def test_the_chain_of_evidence_page_has_one_name(tmp_path: Path) -> None:
    """The evidence browser's index is named the same in the navigation, in its own title and
    heading, and in the report's index (it was 'Evidence', 'The chain of evidence' and 'themes x
    cases'; issue 19)."""
    out = tmp_path / "report"
    _report(out)
    page = html.fromstring((out / "evidence.html").read_bytes())
    name = page.xpath("//h1")[0].text_content()
    assert page.xpath("//title")[0].text_content().startswith(f"{name}: ")
    for p in ("index.html", "evidence.html", "data-display.html"):
        tree = html.fromstring((out / p).read_bytes())
        said = {a.text_content().strip().lower() for a in tree.xpath("//a[@href='evidence.html']")}
        assert said == {name.lower()}, (p, said)
