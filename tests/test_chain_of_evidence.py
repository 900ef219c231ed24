"""The chain of evidence: the ATI-style annotations written by notebook 08 against the data and
the paper's independent transcription (every claim is a theme with section 4's cases; every
excerpt is its narrative's passage at its offsets), and the provenance table's counts."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import yaml
from conftest import ROOT, expected_cases

from crosscase.evidence import GROUNDS, DiscriminatorRule, collect, theme_grounds
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


# -----------------------------------------------------------------------------------------------
# The headline counts of the chain of evidence, as the documentation states them (issue 20)

#: The files that state the headline counts in full, relative to the project root.
HEADLINE_FILES = ["data/README.md", "docs/chain-of-evidence.md"]
#: The sentence that states them (white space folded before matching).
HEADLINE = re.compile(
    r"Of the (?P<links>\d+) theme-case links of section 4, (?P<constructed>\d+) "
    r"\((?P<percent>\d+)%\) agree with the paper by construction: (?P<case_list>\d+) follow a "
    r"printed case list and (?P<reconstructed>\d+) rest on reconstructed observations, whose "
    r"links also follow printed case lists\. Of the other (?P<other>\d+), (?P<highlighted>\d+) "
    r"rest on Table 3's highlighting and (?P<ambiguous>\d+) on ambiguous italics\."
)


def _headline_counts(study: Study) -> dict[str, int]:
    """The headline counts, computed from each link's `theme_basis` through the package's
    evidence functions: a case evidences a theme on the strongest grounds of its links."""
    rule = DiscriminatorRule(3)
    grounds = theme_grounds(study, collect(study, rule))
    n = {g: sum(len(tg.cases(g)) for tg in grounds) for g in GROUNDS}
    links = [lk for tg in grounds for lk in tg.links]
    # What the sentence says of the bases, checked on every link: the reconstructed observations'
    # links follow printed case lists too, the independent links are Table 3's highlighting (no
    # researcher's own coding in the paper's data), the ambiguous ones its italics.
    case_lists = {"display-case-list", "text-case-list"}
    assert all(lk.basis in case_lists for lk in links if lk.grounds == "reconstructed")
    assert all(lk.basis in case_lists for lk in links if lk.grounds == "by construction")
    assert all(lk.basis == "highlighted" for lk in links if lk.grounds == "independent")
    assert all(lk.basis == "ambiguous-italics" for lk in links if lk.grounds == "ambiguous")
    total = sum(n.values())
    constructed = n["by construction"] + n["reconstructed"]
    return {
        "links": total,
        "constructed": constructed,
        "percent": round(100 * constructed / total),
        "case_list": n["by construction"],
        "reconstructed": n["reconstructed"],
        "other": total - constructed,
        "highlighted": n["independent"],
        "ambiguous": n["ambiguous"],
    }


@pytest.mark.parametrize("name", HEADLINE_FILES)
def test_the_headline_counts_are_the_data_s(name: str, study: Study) -> None:
    """The documentation states the chain of evidence's headline counts (how many of section
    4's theme-case links agree with the paper by construction, how many rest on Table 3's
    highlighting or on ambiguous italics) as computed from the data, in every place it states
    them."""
    text = " ".join((ROOT / name).read_text(encoding="utf-8").split())
    stated = [{k: int(v) for k, v in m.groupdict().items()} for m in HEADLINE.finditer(text)]
    assert stated, f"{name} does not state the headline counts"
    want = _headline_counts(study)
    assert all(s == want for s in stated), (stated, want)


def test_the_readme_states_the_headline_in_short(study: Study) -> None:
    """The README's summary of it: 'of the 64 theme-case links, 34 agree with the paper by
    construction', computed from the data."""
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    found = re.search(
        r"of the (\d+) theme-case links, (\d+) agree with the paper by construction", text
    )
    assert found, "README.md does not state the headline"
    want = _headline_counts(study)
    assert (int(found[1]), int(found[2])) == (want["links"], want["constructed"])


# -----------------------------------------------------------------------------------------------
# Evidence passages, read once more (issue 20)

#: Passages the second reading of issue 20 found not to support the observation that rested on
#: them (data/README.md, errata 71): observation -> passage.
NOT_SUPPORTING = {
    # "...skills at central facility": the staff are at the localised sites.
    "c2-hr-2": "A network of localised manufacturing sites will require more staff",
    # "Infrastructure required for biomechanics data handling": nothing about data.
    "c3-pti-3": "The company is keen on setting up research collaborations with biomechanics in "
    "the markets they plan to expand into",
    # "Potential for circular manufacture": sustainability, not circularity.
    "c1-pa-2": "Localised manufacturing close to the point of need and use leads to time and cost "
    "reduction and more sustainable supply chains",
    # "Reduced number of manufacturing steps ...": no steps.
    "c2-pft-2": "responsive manufacture is preferred, especially if cryopreservation is required",
}

#: Observations whose passage supports them only read in its narrative (or with the paper's
#: prose): their note says so, and the evidence pages show it beside the passage.
IN_CONTEXT = {
    "c1-rel-1",
    "c1-pa-4",
    "c2-hr-1",
    "c2-pft-2",
    "c3-pti-3",
    "c5-pft-1",
    "c5-pa-1",
    "c5-rel-2",
}


def _observations() -> dict[str, dict]:
    return {o["id"]: o for f in _raw("observations").values() for o in f["observations"]}


def test_no_observation_rests_on_a_passage_found_not_to_support_it() -> None:
    observations = _observations()
    assert set(NOT_SUPPORTING) <= set(observations)
    wrong = [
        o
        for o, passage in NOT_SUPPORTING.items()
        if " ".join((observations[o].get("evidence") or "").split()) == passage
    ]
    assert not wrong


def test_a_passage_that_supports_its_observation_only_in_context_says_so() -> None:
    """Such an observation keeps its passage and says in its note that the passage supports it
    "only in context", and how; no other note says so."""
    observations = _observations()
    said = {o["id"] for o in observations.values() if "only in context" in (o.get("note") or "")}
    assert said == IN_CONTEXT
    assert all(observations[o].get("evidence") for o in IN_CONTEXT)


def test_case_5_integration_rests_on_design_developed_with_the_makers() -> None:
    """Case 5's link to integration of product design and manufacture (Table 3 and section 4:
    cases 1, 4, 5) rests on the observation whose passage has the design instructions developed
    "in collaboration with engineers on the ground", not on section 4's prosumer model, which does
    not speak of design (data/README.md, errata 70)."""
    case5 = _raw("observations")["field-ready-rescue"]["observations"]
    carriers = [o for o in case5 if "integration-of-design-and-manufacture" in o["themes"]]
    assert carriers
    for o in carriers:
        assert "in collaboration with engineers on the ground" in o.get("evidence", ""), o["id"]
        assert "rosumer" not in o["text"], o["id"]
