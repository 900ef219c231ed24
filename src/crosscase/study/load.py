"""Load and cross-check the data of a multiple-case study (:func:`load_study`): every file of the
study and of the case set is read (:mod:`.reading`, :mod:`.casesets`), every cross-check that the
readable parts allow is run (:mod:`.checks`), and one :class:`~.problems.StudyDataError` lists
every problem, each with file and line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..model import (
    CodedObservation,
    Comparison,
    Framework,
    Observation,
    ObservationFile,
    Proposition,
    PropositionFile,
    Study,
    StudyDescription,
    Theme,
    ThemeFile,
)
from ..outputs import plural
from ..paths import Layout
from . import checks
from .casesets import extra_theme_files, find_case_files, observation_files
from .problems import Problem, StudyDataError
from .reading import Parsed, ParsedCase, ParsedItems, Reader


@dataclass(frozen=True)
class _Files:
    """What could be read of a study's files, before the cross-checks."""

    description: Parsed[StudyDescription] | None
    framework: Parsed[Framework] | None
    themes: list[ParsedItems[Theme]]
    comparison: Parsed[Comparison] | None
    propositions: ParsedItems[Proposition] | None
    cases: list[ParsedCase]
    unreadable: set[str]
    observations: list[ParsedItems[Observation]]
    #: every observation file could be read (else which themes they evidence is not known)
    observations_read: bool = True


def _read(layout: Layout, sources: list[Path], reader: Reader) -> _Files:
    """Read every file of the study and of the case set; problems go to ``reader``."""
    theme_paths = [layout.themes_file, *extra_theme_files(layout, sources)]
    case_files, missing = find_case_files(sources, reader.display)
    reader.problems += [Problem(reader.display(p), None, None, why) for p, why in missing]
    cases = [c for path in case_files if (c := reader.case(path)) is not None]
    obs_files = observation_files(case_files, sources)
    observations = [
        o for p in obs_files if (o := reader.items(p, ObservationFile, p.stem)) is not None
    ]
    comparison, propositions = layout.comparison_file, layout.propositions_file
    return _Files(
        description=reader.whole(layout.study_file, StudyDescription),
        framework=reader.whole(layout.framework_file, Framework),
        themes=[t for p in theme_paths if (t := reader.items(p, ThemeFile)) is not None],
        comparison=reader.whole(comparison, Comparison) if comparison.exists() else None,
        propositions=reader.items(propositions, PropositionFile) if propositions.exists() else None,
        cases=cases,
        unreadable={p.stem for p in case_files} - {c.case.id for c in cases},
        observations=observations,
        observations_read=len(observations) == len(obs_files),
    )


def _cross_check(
    files: _Files, require_theme_evidence: bool
) -> tuple[list[Problem], list[CodedObservation], set[str]]:
    """Every cross-check that what was read allows; the located observations and the ids of the
    coded cases."""
    framework = files.framework.model if files.framework else None
    index = checks.ThemeIndex.of(files.themes)
    by_id = {c.case.id: c for c in files.cases}
    problems = checks.check_framework(files.framework) if files.framework else []
    problems += checks.check_case_identity(files.cases)
    if framework is not None:
        for c in files.cases:
            problems += checks.check_case_against_framework(c, framework)
    problems += checks.check_themes(files.themes, framework)
    problems += checks.check_observation_files(files.observations, by_id, files.unreadable)
    problems += checks.check_observation_ids(files.observations)
    observations: list[CodedObservation] = []
    coded: set[str] = set()
    for f in files.observations:
        case = by_id.get(str(f.head.get("case")))
        if case is not None and f.doc.path.stem == case.case.id and f.items:
            coded.add(case.case.id)
        located, found = checks.check_observations(f, case, index, framework)
        observations += located
        problems += found
    if require_theme_evidence and coded and files.observations_read:
        problems += checks.check_theme_evidence(files.themes, files.observations, index, framework)
    comparison = files.comparison
    if comparison is not None and framework is not None:
        problems += checks.check_comparison(comparison, framework, index)
    if files.propositions is not None and framework is not None:
        compared = comparison.model if comparison else None
        problems += checks.check_propositions(files.propositions, framework, compared)
    return problems, observations, coded


def _assemble(files: _Files, observations: list[CodedObservation], coded: set[str]) -> Study:
    """The study: cases by number, observations by case and dimension, themes by dimension."""
    assert files.framework is not None and files.description is not None
    framework = files.framework.model
    order = {d.id: i for i, d in enumerate(framework.dimensions)}
    cases = tuple(sorted((c.case for c in files.cases), key=lambda c: c.number))
    number = {c.id: c.number for c in cases}
    observations.sort(key=lambda co: (number[co.case], order[co.observation.dimension]))
    themes = sorted((t for f in files.themes for _, t in f.items), key=lambda t: order[t.dimension])
    return Study(
        framework=framework,
        description=files.description.model,
        cases=cases,
        observations=tuple(observations),
        themes=tuple(themes),  # by dimension: a case set's new theme beside its dimension's
        coded_cases=frozenset(coded),
        comparison=files.comparison.model if files.comparison else None,
        propositions=tuple(r for _, r in files.propositions.items) if files.propositions else (),
        warnings=tuple(checks.long_observations(files.observations)),
    )


def load_study(
    layout: Layout | None = None,
    cases: Sequence[str | Path] | None = None,
    *,
    require_theme_evidence: bool | None = None,
) -> Study:
    """Load, validate and cross-check the study; raise StudyDataError with every problem found.

    ``cases`` lists case folders or files (relative to the project root or absolute); by default
    the study's own case folder. ``require_theme_evidence`` reports themes that no observation
    evidences: by default when the case set includes the study's own case folder (there a theme
    without observations is a data error; in another case set it is a result: the theme is
    simply not evidenced there).
    """
    layout = layout or Layout.discover()
    sources = [layout.resolve(c) for c in cases or [layout.cases_dir]]
    if require_theme_evidence is None:
        require_theme_evidence = layout.cases_dir.resolve() in {s.resolve() for s in sources}
    reader = Reader(layout)
    files = _read(layout, sources, reader)
    problems, observations, coded = _cross_check(files, require_theme_evidence)
    if reader.problems or problems:
        raise StudyDataError(reader.problems + problems)
    return _assemble(files, observations, coded)


def check_cases(
    layout: Layout, cases: Sequence[str | Path] | None, allow_unevidenced: bool = False
) -> str:
    """Load a case set (by default the study's own cases) with every check (raising
    StudyDataError); what was checked, in a line
    (``OK: 5 cases, 90 first-order observations, 19 second-order themes; 0 not yet coded.``),
    then a line for each warning."""
    require = False if allow_unevidenced else None
    study = load_study(layout, cases, require_theme_evidence=require)
    ok = (
        f"OK: {plural(len(study.cases), 'case')}, "
        f"{plural(len(study.observations), 'first-order observation')}, "
        f"{plural(len(study.themes), 'second-order theme')}; "
        f"{len(study.uncoded_cases)} not yet coded."
    )
    return "\n".join([ok, *(f"warning: {w}" for w in study.warnings)])


def load_framework(layout: Layout | None = None) -> Framework:
    """Load and check the framework file alone (for outputs that depend on nothing else)."""
    layout = layout or Layout.discover()
    reader = Reader(layout)
    fw = reader.whole(layout.framework_file, Framework)
    problems = reader.problems + (checks.check_framework(fw) if fw else [])
    if problems or fw is None:
        raise StudyDataError(problems)
    return fw.model


def load_description(layout: Layout | None = None) -> StudyDescription:
    """The study's description alone (title, citation, rule, reproduction run, headers)."""
    layout = layout or Layout.discover()
    reader = Reader(layout)
    parsed = reader.whole(layout.study_file, StudyDescription)
    if parsed is None:
        raise StudyDataError(reader.problems)
    return parsed.model
