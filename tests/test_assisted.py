"""Assisted coding: agreement statistics, suggestions, and the review loop."""

from __future__ import annotations

from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from crosscase import assisted
from crosscase.cli import main
from crosscase.paths import Layout
from crosscase.problems import StudyDataError
from crosscase.study import load_study

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "examples" / "illustrative" / "raw" / "hospital-splints.txt"


def test_agreement_of_identical_codings_is_perfect() -> None:
    a = ["x", "y", "z", "x"]
    result = assisted.agreement(a, a)
    assert result.cohen_kappa == 1.0 and result.krippendorff_alpha == 1.0
    assert result.percent_agreement == 1.0 and (result.per_code["f1"] == 1.0).all()


def test_agreement_matches_the_reference_implementations_at_the_nominal_level() -> None:
    a = ["a", "a", "b", "c", "c", "b", "a", "c"]
    b = ["a", "b", "b", "c", "a", "b", "a", "b"]
    result = assisted.agreement(a, b, ["a", "b", "c"])
    assert result.cohen_kappa == pytest.approx(cohen_kappa_score(a, b))
    codes = {"a": 0, "b": 1, "c": 2}
    data = np.array([[codes[x] for x in a], [codes[x] for x in b]], dtype=float)
    nominal = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    interval = krippendorff.alpha(reliability_data=data)  # the package's default level
    assert result.krippendorff_alpha == pytest.approx(nominal)
    assert nominal != pytest.approx(interval), "codes are categories, not quantities"
    assert result.confusion.to_numpy().sum() == len(a)


def test_agreement_rejects_unequal_codings() -> None:
    with pytest.raises(ValueError, match="same units"):
        assisted.agreement(["a"], ["a", "b"])


def test_segmentation_offsets_point_into_the_text() -> None:
    text = "One sentence, i.e. a clause. Another one (42 days).\n\nA new paragraph."
    spans = assisted.segment(text)
    assert [t for _, _, t in spans] == [
        "One sentence, i.e. a clause.",
        "Another one (42 days).",
        "A new paragraph.",
    ]
    assert all(text[s:e] == t for s, e, t in spans)


def test_leave_one_case_out_is_deterministic_and_covers_every_unit() -> None:
    study = load_study(Layout.at(ROOT))
    first = assisted.dimension_coding_loco(study)
    assert first.equals(assisted.dimension_coding_loco(study))
    assert len(first) == len(assisted.narrative_segments(study))
    themed = sum(1 for co in study.observations if co.observation.themes)
    assert len(assisted.theme_assignment_loco(study)) == themed


def test_theme_assigner_suggests_new_theme_below_threshold() -> None:
    study = load_study(Layout.at(ROOT))
    assigner = assisted.ThemeAssigner(study.themes, assisted.theme_examples(study), threshold=0.99)
    assert assigner.suggest("zzz qqq", "human-resources")[0] == assisted.NEW_THEME
    loose = assisted.ThemeAssigner(study.themes, assisted.theme_examples(study), threshold=0.0)
    theme, score = loose.suggest(
        "Employees trained in 2 weeks on production processes", "human-resources"
    )
    assert theme == "distributed-production-expertise" and score > 0.5


def test_suggest_accept_and_agreement_commands(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "suggestions.csv"
    assert main(["suggest", str(RAW), "--out", str(out)]) == 0
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    dims = {d.id for d in load_study(Layout.at(ROOT)).framework.dimensions}
    assert len(table) > 20 and set(table["dimension"]) <= dims
    text = RAW.read_text(encoding="utf-8")
    assert all(text[int(r.start) : int(r.end)] == r.text for r in table.itertuples())
    assert (table["keywords"] != "").any() and (table["neighbour"] != "").all()
    # The review loop: drop the two header lines, override one segment, accept the rest.
    table.loc[table.index[:2], "accept"] = "-"
    table.loc[table.index[2], "accept"] = "local-institutions"
    table.to_csv(out, index=False)
    into = tmp_path / "set"
    assert (
        main(
            [
                "accept",
                str(out),
                "--id",
                "splints",
                "--name",
                "Splints",
                "--number",
                "6",
                "--into",
                str(into),
            ]
        )
        == 0
    )
    with pytest.raises(StudyDataError) as err:
        load_study(Layout.at(ROOT), ["data/raw/cases", str(into / "cases")])
    fields = {p.field.split(".")[0] for p in err.value.problems if p.field}
    assert "protocol" in fields and fields <= {"protocol", "narratives"}  # left to fill in
    # A second coder who agrees on all but one segment.
    second = table.copy()
    second.loc[second.index[3], "dimension"] = "human-resources"
    second.to_csv(tmp_path / "b.csv", index=False)
    capsys.readouterr()
    assert main(["agreement", str(out), str(tmp_path / "b.csv")]) == 0
    report = capsys.readouterr().out
    assert "Cohen's kappa" in report and "Krippendorff's alpha (nominal)" in report


def test_suggest_themes_for_a_new_case(tmp_path: Path) -> None:
    """The command suggests, for each observation of the case, a theme of the observation's own
    dimension (or 'new theme'), learned from the other cases only: the same suggestions as the
    leave-one-case-out measure gives that case."""
    out = tmp_path / "themes.csv"
    cases = ["data/raw/cases", "examples/illustrative/cases"]
    assert main(["suggest-themes", "hospital-splints", "--cases", *cases, "--out", str(out)]) == 0
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    study = load_study(Layout.at(ROOT), cases, require_theme_evidence=False)
    own = [co for co in study.observations if co.case == "hospital-splints"]
    assert list(table["observation"]) == [co.observation.id for co in own]
    dimension_of = {t.id: t.dimension for t in study.themes}
    for row in table.itertuples():
        assert row.suggested_theme == assisted.NEW_THEME or (
            dimension_of[row.suggested_theme] == row.dimension
        )
    same = assisted.suggest_themes(study, "hospital-splints")
    assert list(same["suggested"]) == list(table["suggested_theme"])
    loco = assisted.theme_assignment_loco(load_study(Layout.at(ROOT), cases[:1]))
    for case in ("medical-diagnostic-devices",):
        mine = assisted.suggest_themes(load_study(Layout.at(ROOT)), case, themed_only=True)
        assert list(mine["suggested"]) == list(loco[loco["case_number"] == 1]["suggested"])
    everything_new = tmp_path / "new.csv"
    argv = ["suggest-themes", "hospital-splints", "--cases", *cases, "--threshold", "1.01"]
    assert main([*argv, "--out", str(everything_new)]) == 0
    assert set(pd.read_csv(everything_new)["suggested_theme"]) == {assisted.NEW_THEME}
    assert main(["suggest-themes", "no-such-case", "--out", str(out)]) == 1


def test_segmenting_long_text_costs_in_proportion_to_its_length() -> None:
    """A long paragraph (a pasted transcript) is segmented in bounded pieces: doubling the text
    doubles the work (pySBD alone grows quadratically). Measured as a ratio within one run, in
    pySBD calls' total input, not in seconds."""
    import pysbd

    calls: list[int] = []
    real = pysbd.Segmenter.segment

    def counting(self, text):  # type: ignore[no-untyped-def]
        calls.append(len(text))
        return real(self, text)

    sentence = "The network prints splints on site in four hospitals. "
    pysbd.Segmenter.segment = counting
    try:
        longest = []
        for n in (200, 400):
            calls.clear()
            spans = assisted.segment(sentence * n)
            assert len(spans) == n
            longest.append(max(calls))
    finally:
        pysbd.Segmenter.segment = real
    assert longest[0] == longest[1] <= 6000, "bounded pieces, whatever the length"


def test_segmenting_in_pieces_keeps_offsets_and_sentences() -> None:
    text = " ".join(f"Sentence {i} ends here (see p. {i}), e.g. a clause." for i in range(800))
    spans = assisted.segment(text)
    assert len(spans) == 800
    assert all(text[s:e] == t for s, e, t in spans)
