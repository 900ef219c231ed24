"""The chain of evidence: the ATI-style annotations written by notebook 08 against the data and
the paper's independent transcription (every claim is a theme with section 4's cases; every
excerpt is its narrative's passage at its offsets), and the provenance table's counts."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from conftest import ROOT, expected_cases

from crosscase.model import Study

RAW = ROOT / "data" / "raw"


def _raw(folder: str) -> dict[str, dict]:
    """The files of a raw data folder, read as plain YAML (not through the package)."""
    return {
        p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in (RAW / folder).glob("*.yaml")
    }


@pytest.fixture(scope="module")
def records(workflow) -> list[dict]:
    path = (
        workflow.output_root
        / "data"
        / "processed"
        / "paper"
        / "chain-of-evidence-annotations.jsonl"
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_every_claim_is_a_theme_with_the_cases_of_section_4(
    records: list[dict], study: Study, expected: dict
) -> None:
    section4 = expected_cases(study, expected)
    themes = yaml.safe_load((RAW / "themes.yaml").read_text(encoding="utf-8"))["themes"]
    assert [r["theme"] for r in records] == [t["id"] for t in themes]
    for r in records:
        assert tuple(r["cases"]) == section4[r["theme"]], r["theme"]
        assert r["claim"] == f"{r['theme_label']} ({', '.join(map(str, r['cases']))})"
        assert sorted(c for cs in r["grounds"].values() for c in cs) == r["cases"]
        assert sorted({a["case"] for a in r["annotations"]}) == r["cases"]


def test_every_annotation_is_an_observation_of_the_theme_with_its_excerpt(
    records: list[dict],
) -> None:
    cases = _raw("cases")
    coded = {
        o["id"]: (f["case"], o) for f in _raw("observations").values() for o in f["observations"]
    }
    n = 0
    for r in records:
        for a in r["annotations"]:
            case, o = coded[a["observation"]]
            assert (a["case_id"], a["case"]) == (case, cases[case]["number"])
            assert r["theme"] in o["themes"] and a["analytic_note"] == o["text"]
            assert a["case_page"] == f"case-{case}.html#obs-{o['id']}"
            if o.get("evidence") is None:
                assert a["source_excerpt"] is None and a["excerpt_start"] is None
                continue
            narrative = " ".join(cases[case]["narratives"][a["excerpt_dimension"]].split())
            excerpt = " ".join(o["evidence"].split())
            assert a["source_excerpt"] == excerpt
            assert narrative[a["excerpt_start"] : a["excerpt_end"]] == excerpt
            n += 1
    assert n >= 60


def test_the_provenance_table_counts_the_links_of_each_theme(workflow, records: list[dict]) -> None:
    table = pd.read_csv(
        workflow.output_root / "data" / "processed" / "paper" / "theme-evidence-grounds.csv",
        dtype=str,
        keep_default_na=False,
    ).set_index("theme")
    for r in records:
        row = table.loc[r["theme"]]
        for grounds, cases in r["grounds"].items():
            column = grounds.replace(" ", "_")
            assert row[column] == ", ".join(map(str, cases))
            assert int(row[f"n_{column}"]) == len(cases)
        assert row["case_list_check"] == r["case_list_check"]
