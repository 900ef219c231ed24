"""Assisted coding: agreement statistics, suggestions, and the review loop."""

from __future__ import annotations

from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from crosscase.assisted.clustering import ami_null, cluster_observations, clustering_table
from crosscase.assisted.dimensions import (
    DimensionCoder,
    conformal_sets,
    dimension_coding_loco,
    domain_documents,
    neighbour_context,
    training_passages,
)
from crosscase.assisted.features import Ngrams, TrainingTfidf, features, normalise_text
from crosscase.assisted.measures import (
    accuracy_at_coverage,
    agreement,
    agreement_statistics,
    auroc,
    bootstrap_agreement,
    bootstrap_weights,
    calibration_error,
)
from crosscase.assisted.segmentation import narrative_segments, segment
from crosscase.assisted.settings import DECLARED
from crosscase.assisted.themes import (
    NO_THEME,
    ThemeAssigner,
    suggest_themes,
    theme_assignment_loco,
    theme_case_lists,
    theme_examples,
    theme_summary,
)
from crosscase.cli import main
from crosscase.paths import Layout
from crosscase.study import load_study
from crosscase.study.problems import StudyDataError

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "examples" / "illustrative" / "raw" / "hospital-splints.txt"


def test_agreement_of_identical_codings_is_perfect() -> None:
    a = ["x", "y", "z", "x"]
    result = agreement(a, a)
    assert result.cohen_kappa == 1.0 and result.krippendorff_alpha == 1.0
    assert result.percent_agreement == 1.0 and (result.per_code["f1"] == 1.0).all()


def test_agreement_matches_the_reference_implementations_at_the_nominal_level() -> None:
    a = ["a", "a", "b", "c", "c", "b", "a", "c"]
    b = ["a", "b", "b", "c", "a", "b", "a", "b"]
    result = agreement(a, b, ["a", "b", "c"])
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
        agreement(["a"], ["a", "b"])


def test_segmentation_offsets_point_into_the_text() -> None:
    text = "One sentence, i.e. a clause. Another one (42 days).\n\nA new paragraph."
    spans = segment(text)
    assert [t for _, _, t in spans] == [
        "One sentence, i.e. a clause.",
        "Another one (42 days).",
        "A new paragraph.",
    ]
    assert all(text[s:e] == t for s, e, t in spans)


def test_leave_one_case_out_codes_every_sentence_of_the_case_left_out() -> None:
    """Every sentence of the case left out gets calibrated probabilities and a score (its whole
    run, and that two runs agree, are locked by nbval on notebook 07)."""
    study = load_study(Layout.at(ROOT))
    case = study.cases[2]
    coded = dimension_coding_loco(study, domain_documents(study), only=[case.id])
    segments = narrative_segments(study)
    assert list(coded.units["segment"]) == list(segments[segments["case"] == case.id]["segment"])
    assert np.allclose(coded.probabilities.sum(axis=1), 1.0)
    assert (coded.units["score"] == coded.probabilities.max(axis=1).round(3)).all()


def test_theme_assigner_ranks_the_themes_of_the_dimension() -> None:
    study = load_study(Layout.at(ROOT))
    assigner = ThemeAssigner(study.themes, theme_examples(study))
    [ranked] = assigner.rank_all(["Employees trained in 2 weeks"], ["human-resources"])
    dimension_of = {t.id: t.dimension for t in study.themes}
    assert {dimension_of[t] for t, _ in ranked} == {"human-resources"}
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    [[(best, score), *_]] = assigner.rank_all(
        ["Employees trained in 2 weeks on production processes"], ["human-resources"]
    )
    assert best == "distributed-production-expertise" and 0 < score <= 1


def test_suggestions_below_the_threshold_are_no_theme() -> None:
    """The decision is the best theme when its score, as the table shows it, reaches the
    threshold, and no theme otherwise (one rule, the one the suggest-themes command uses)."""
    study = load_study(Layout.at(ROOT))
    case = study.cases[0].id
    assert set(suggest_themes(study, case, threshold=1.01)["decision"]) == {NO_THEME}
    table = suggest_themes(study, case, threshold=0.0)
    assert (table["decision"] == table["suggested"]).all()
    table = suggest_themes(study, case)
    reached = table["score"] >= table["threshold"]
    assert (table.loc[reached, "decision"] == table.loc[reached, "suggested"]).all()
    assert set(table.loc[~reached, "decision"]) <= {NO_THEME}


def test_suggest_accept_and_agreement_commands(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "suggestions.csv"
    assert main(["suggest", str(RAW), "--out", str(out)]) == 0
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    dims = {d.id for d in load_study(Layout.at(ROOT)).framework.dimensions}
    assert len(table) > 20 and set(table["dimension"]) <= dims
    text = RAW.read_text(encoding="utf-8")
    assert all(text[int(r.start) : int(r.end)] == r.text for r in table.itertuples())
    assert (table["keywords"] != "").any() and (table["neighbour"] != "").all()
    # Calibrated scores, the prediction set and the unsure flag (issue 13).
    scores = table["score"].astype(float)
    assert ((scores > 0) & (scores <= 1)).all()
    assert set(table["unsure"]) == {"yes", ""}, "some suggestions sure, some not"
    for row in table.itertuples():
        sure = row.candidates == row.dimension  # the set holds the suggestion alone
        assert (row.unsure == "") == sure
        assert set(row.candidates.split("; ")) - {""} <= dims
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


def test_suggest_themes_for_a_new_case(tmp_path: Path, paper_theme_loco) -> None:  # type: ignore[no-untyped-def]
    """The command suggests, for each observation of the case, a theme of the observation's own
    dimension (or 'no theme'), learnt from the other cases only: the same suggestions as the
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
        assert row.suggested_theme == NO_THEME or (
            dimension_of[row.suggested_theme] == row.dimension
        )
    same = suggest_themes(study, "hospital-splints")
    assert list(same["decision"]) == list(table["suggested_theme"])
    paper = load_study(Layout.at(ROOT), cases[:1])
    loco = paper_theme_loco
    mine = suggest_themes(paper, paper.cases[0].id)
    assert list(mine["decision"]) == list(loco[loco["case_number"] == 1]["decision"])
    everything_new = tmp_path / "new.csv"
    argv = ["suggest-themes", "hospital-splints", "--cases", *cases, "--threshold", "1.01"]
    assert main([*argv, "--out", str(everything_new)]) == 0
    assert set(pd.read_csv(everything_new)["suggested_theme"]) == {NO_THEME}
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
            spans = segment(sentence * n)
            assert len(spans) == n
            longest.append(max(calls))
    finally:
        pysbd.Segmenter.segment = real
    assert longest[0] == longest[1] <= 6000, "bounded pieces, whatever the length"


def test_segmenting_in_pieces_keeps_offsets_and_sentences() -> None:
    text = " ".join(f"Sentence {i} ends here (see p. {i}), e.g. a clause." for i in range(800))
    spans = segment(text)
    assert len(spans) == 800
    assert all(text[s:e] == t for s, e, t in spans)


# --- Issue 13: declared configuration, honest measures, calibrated confidence ----------------


def test_the_declared_configuration_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(AttributeError):
        DECLARED.c = 1.0  # type: ignore[misc]


def _codes(n: int, k: int, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, k, n)
    b = np.where(rng.random(n) < 0.6, a, rng.integers(0, k, n))
    names = [f"c{i}" for i in range(k)]
    return [names[i] for i in a], [names[i] for i in b]


def test_interval_statistics_match_the_reference_implementations() -> None:
    """The vectorised statistics, on the units as they are, are the libraries' own figures."""
    from sklearn.metrics import f1_score

    a, b = _codes(60, 5, 1)
    codes = sorted(set(a) | set(b))
    table = bootstrap_agreement(a, b, codes, resamples=200, seed=3).set_index("statistic")
    idx = {c: i for i, c in enumerate(codes)}
    data = np.array([[idx[x] for x in a], [idx[x] for x in b]], dtype=float)
    expected = {
        "percent agreement": np.mean(np.array(a) == np.array(b)),
        "Cohen's kappa": cohen_kappa_score(a, b, labels=codes),
        "Krippendorff's alpha (nominal)": krippendorff.alpha(
            reliability_data=data, level_of_measurement="nominal"
        ),
        "macro F1": f1_score(a, b, labels=codes, average="macro", zero_division=0),
    }
    for name, value in expected.items():
        row = table.loc[name]
        assert row["value"] == pytest.approx(round(value, 3), abs=1e-9), name
        assert row["ci_low"] <= row["value"] <= row["ci_high"], name
    assert table.equals(
        bootstrap_agreement(a, b, codes, resamples=200, seed=3).set_index("statistic")
    ), "seeded: the same intervals every time"


def test_the_vectorised_bootstrap_is_the_loop_over_resamples() -> None:
    """Each resample's statistic equals the library's statistic on the resampled units."""
    a, b = _codes(40, 4, 2)
    codes = sorted(set(a) | set(b))
    weights = bootstrap_weights(len(a), 25, seed=5)
    assert (weights[0] == 1).all(), "first the units as they are"
    weights = weights[1:]
    assert weights.shape == (25, len(a)) and (weights.sum(axis=1) == len(a)).all()
    stats = agreement_statistics(a, b, codes, weights)
    for r in range(25):
        units = np.repeat(np.arange(len(a)), weights[r].astype(int))
        ra, rb = [a[i] for i in units], [b[i] for i in units]
        kappa = cohen_kappa_score(ra, rb, labels=codes)
        assert stats["Cohen's kappa"][r] == pytest.approx(kappa)
        assert stats["percent agreement"][r] == pytest.approx(np.mean(np.array(ra) == np.array(rb)))


def test_calibration_error_and_coverage_by_their_definitions() -> None:
    confidence = np.array([0.95, 0.95, 0.55, 0.55])
    correct = np.array([True, False, True, True])
    # bin 0.9-1.0: accuracy 0.5 at confidence 0.95; bin 0.5-0.6: accuracy 1 at 0.55.
    assert calibration_error(confidence, correct, bins=10)[0] == pytest.approx(0.45)
    confidence = np.array([0.6, 0.9, 0.7, 0.8])
    correct = np.array([False, True, False, True])
    got = accuracy_at_coverage(confidence, correct, [0.25, 0.5, 0.6, 0.75, 1.0])
    # 60% of 4 units: the ceil(2.4) = 3 most confident.
    assert got[:, 0] == pytest.approx([1.0, 1.0, 2 / 3, 2 / 3, 0.5])


def test_conformal_sets_by_definition_and_their_coverage() -> None:
    rng = np.random.default_rng(0)
    # One fold is split conformal: a code is in the set when its score 1 - p is at most the
    # ceil((n + 1) * coverage)-th smallest calibration score.
    # n = 20 at 80%: the (n + 1) of the definition matters (the 17th score, not the 16th).
    cal = rng.random(20)
    test = rng.dirichlet(np.ones(4), size=200)
    sets = conformal_sets([cal], [test], 0.8)
    scores = np.sort(1 - cal)
    q = scores[int(np.ceil(21 * 0.8)) - 1]
    assert (sets == (1 - test <= q)).all()
    assert ((1 - test > scores[15]) & (1 - test <= q)).any(), "the example tells 16th from 17th"
    # Several folds, exchangeable data: the sets cover the true code about as often as stated.
    for coverage in (0.9, 0.7):
        probs = rng.dirichlet(np.ones(5) * 0.7, size=(3, 400))
        truth = [np.array([rng.choice(5, p=p) for p in fold]) for fold in probs]
        cal_p = [fold[np.arange(400), y] for fold, y in zip(probs, truth, strict=True)]
        new = rng.dirichlet(np.ones(5) * 0.7, size=3000)
        y = np.array([rng.choice(5, p=p) for p in new])
        sets = conformal_sets(cal_p, [new, new, new], coverage)
        assert abs(sets[np.arange(3000), y].mean() - coverage) < 0.03


def test_auroc_matches_scikit_learn_and_its_bootstrap_the_loop() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(4)
    positive = rng.random(50) < 0.4
    score = np.round(rng.random(50) + positive * 0.3, 1)  # ties on purpose
    weights = bootstrap_weights(50, 20, seed=1)
    got = auroc(score, positive, weights)
    assert got[0] == pytest.approx(roc_auc_score(positive, score))
    for r in range(1, 21):
        units = np.repeat(np.arange(50), weights[r].astype(int))
        assert got[r] == pytest.approx(roc_auc_score(positive[units], score[units]))


def test_the_permutation_null_of_ami_is_scikit_learns_ami_on_the_permutations() -> None:
    from sklearn.metrics import adjusted_mutual_info_score

    rng = np.random.default_rng(8)
    labels = rng.integers(0, 3, 21)
    clusters = np.where(rng.random(21) < 0.5, labels, rng.integers(0, 3, 21))
    observed, null = ami_null(labels, clusters, permutations=30, seed=6)
    assert observed == pytest.approx(adjusted_mutual_info_score(labels, clusters))
    again = np.random.default_rng(6)
    for value in null:
        permuted = again.permutation(clusters)
        assert value == pytest.approx(adjusted_mutual_info_score(labels, permuted))


def test_domain_documents_come_from_the_codebook_and_the_literature_only() -> None:
    """No document carries a case's coding: no theme, discriminator or observation text."""
    study = load_study(Layout.at(ROOT))
    docs = domain_documents(study)
    assert set(docs["dimension"]) == {d.id for d in study.framework.dimensions}
    fw = study.framework
    allowed = " ".join(
        [
            *(normalise_text(" ".join([d.label, *d.aliases, *d.keywords])) for d in fw.dimensions),
            *(normalise_text(f"{d.definition} {d.question}") for d in fw.dimensions),
            *(
                normalise_text(c.text)
                for c in (study.comparison.characteristics if study.comparison else [])
            ),
        ]
    )
    for text in docs["text"]:
        assert normalise_text(text) in allowed or all(
            w in allowed for w in normalise_text(text).split()
        ), text
    coded = {normalise_text(t.label) for t in study.themes}
    coded |= {normalise_text(co.observation.text) for co in study.observations}
    assert not coded & {normalise_text(t) for t in docs["text"]}


@pytest.fixture(scope="module")
def paper_study():  # type: ignore[no-untyped-def]
    return load_study(Layout.at(ROOT))


@pytest.fixture(scope="module")
def paper_theme_loco(paper_study):  # type: ignore[no-untyped-def]
    """Leave-one-case-out theme suggestions of the paper's study (computed once)."""
    return theme_assignment_loco(paper_study)


def test_dimension_coding_of_a_case_never_sees_its_coding(paper_study) -> None:  # type: ignore[no-untyped-def]
    """Swapping the left-out case's narratives between dimensions (its reference coding) and
    dropping its observations changes none of its sentence-level suggestions."""
    import dataclasses

    study = paper_study
    docs = domain_documents(study)
    case = study.cases[0]
    dims = [d.id for d in study.framework.dimensions]
    swapped = dict(case.narratives)
    swapped[dims[0]], swapped[dims[1]] = case.narratives[dims[1]], case.narratives[dims[0]]
    other = dataclasses.replace(
        study,
        cases=(case.model_copy(update={"narratives": swapped}), *study.cases[1:]),
        observations=tuple(co for co in study.observations if co.case != case.id),
    )
    first = dimension_coding_loco(study, docs, only=[case.id]).units
    second = dimension_coding_loco(other, docs, only=[case.id]).units
    assert len(first) == len(second) > 0
    mine = first.set_index("text")[["suggested", "score", "unsure"]].sort_index()
    theirs = second.set_index("text")[["suggested", "score", "unsure"]].sort_index()
    assert mine.equals(theirs)
    assert (first["reference"] != second["reference"]).any(), "the coding did change"


def test_theme_suggestions_of_a_case_never_see_its_coding(paper_study) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    study = paper_study
    case = study.cases[1].id
    stripped = tuple(
        co
        if co.case != case
        else dataclasses.replace(co, observation=co.observation.model_copy(update={"themes": []}))
        for co in study.observations
    )
    other = dataclasses.replace(study, observations=stripped)
    a = suggest_themes(study, case)
    b = suggest_themes(other, case)
    cols = ["observation", "suggested", "score", "threshold"]
    assert a[cols].equals(b[cols])


def test_theme_ranking_is_within_the_dimension_and_scored(paper_study, paper_theme_loco) -> None:  # type: ignore[no-untyped-def]
    study, loco = paper_study, paper_theme_loco
    assert len(loco) == len(study.observations), "every observation, themed or not"
    dimension_of = {t.id: t.dimension for t in study.themes}
    themed = loco[loco["reference"] != ""]
    assert (themed["rank"] >= 1).all() and (themed["rank"] <= themed["candidates"]).all()
    for row in loco.itertuples():
        assert dimension_of[row.suggested] == row.dimension
        assert (row.decision == NO_THEME) == (row.score < row.threshold)
    summary = theme_summary(loco).set_index("statistic")
    assert {"top-1 accuracy", "top-2 accuracy", "no-theme AUROC"} <= set(summary.index)
    assert (summary["ci_low"] <= summary["value"]).all()
    assert (summary["value"] <= summary["ci_high"]).all()
    cases = theme_case_lists(study, loco)
    assert set(cases["theme"]) == {t.label for t in study.themes}


def test_clustering_reports_ami_against_a_permutation_null_without_pooling(paper_study) -> None:  # type: ignore[no-untyped-def]
    clusterings = cluster_observations(paper_study)
    table = clustering_table(clusterings, paper_study)
    assert "All dimensions" not in set(table["dimension"])
    assert {"adjusted_mutual_information", "null_95th_percentile", "p_value"} <= set(table)
    assert ((table["p_value"] > 0) & (table["p_value"] <= 1)).all()


def test_shared_counts_and_fits_are_the_scikit_learn_definitions(paper_study) -> None:  # type: ignore[no-untyped-def]
    """TF-IDF fitted on counted n-grams is TfidfVectorizer fitted on the texts, and the coder's
    calibrated probabilities are CalibratedClassifierCV's (temperature, ensemble over the
    leave-one-case-out splits) on the plain pipeline."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    settings = DECLARED
    passages = training_passages(paper_study)
    passages = passages[passages["case"].isin([c.id for c in paper_study.cases[:3]])]
    docs = domain_documents(paper_study)
    texts = [*passages["text"], *docs["text"]]
    subset = texts[::2]
    ngrams = Ngrams(texts)
    fast = TrainingTfidf(ngrams.split).fit(ngrams.counts(subset))
    slow = features().fit(subset)
    new = [*texts[1::2], "an unseen sentence about zzz"]
    assert abs(fast.transform(ngrams.counts(new)) - slow.transform(new)).max() < 1e-12

    coder = DimensionCoder(paper_study.framework, passages, docs)
    labels = np.array([*passages["dimension"], *docs["dimension"]])
    case = np.array([*passages["case"], *[""] * len(docs)], dtype=object)
    sentence = np.array([*(passages["unit"] == "sentence"), *[False] * len(docs)])
    splits = [
        (np.flatnonzero(case != c), np.flatnonzero((case == c) & sentence))
        for c in dict.fromkeys(passages["case"])
    ]
    reference = CalibratedClassifierCV(
        make_pipeline(
            features(),
            LogisticRegression(
                C=settings.c,
                class_weight=settings.class_weight,
                solver=settings.solver,
                max_iter=5000,
            ),
        ),
        method=settings.calibration,
        cv=splits,
        ensemble=True,
    ).fit(np.array(texts, dtype=object), labels)
    order = [list(reference.classes_).index(d.id) for d in paper_study.framework.dimensions]
    expected = reference.predict_proba(np.array(new, dtype=object))[:, order]
    got, _ = coder.predict(new)
    assert np.allclose(got, expected, atol=1e-6)


def test_neighbour_context_by_its_definition() -> None:
    p = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    got = neighbour_context(p, (0.25, 0.5, 0.25))
    assert got[1] == pytest.approx([0.5, 0.5])  # 0.25 * previous + 0.5 * own + 0.25 * next
    assert got[0] == pytest.approx([0.5 / 0.75, 0.25 / 0.75])  # no previous sentence
    assert got[2] == pytest.approx([0.5 / 0.75, 0.25 / 0.75])  # no next sentence
