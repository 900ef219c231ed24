"""Load and cross-check the data of a multiple-case study.

:func:`load_study` reads the framework, the case files (one per case), their first-order coding
(one observation file per case), the second-order themes and, where present, the comparison of
production models, the design rules and the study's description (:mod:`crosscase.reading`). It
runs every cross-check that the readable parts allow (:mod:`crosscase.checks`) and raises one
:class:`~crosscase.problems.StudyDataError` listing every problem, each with file and line.

Where the files of a case set are: :mod:`crosscase.casesets`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter

from .casesets import extra_theme_files, find_case_files, observation_file_for, observation_folders
from .checks import (
    CodedObservation,
    ThemeIndex,
    check_case_against_framework,
    check_case_identity,
    check_design_rules,
    check_framework,
    check_observation_files,
    check_observation_ids,
    check_observations,
    check_production_models,
    check_theme_evidence,
    check_themes,
    rejected_themes,
)
from .model import (
    Case,
    DesignRule,
    Framework,
    Observation,
    ProductionModels,
    Slug,
    StudyDescription,
    Theme,
)
from .paths import Layout
from .problems import Problem, StudyDataError
from .reading import Parsed, ParsedCase, ParsedItems, Reader

__all__ = ["CodedObservation", "Study", "load_description", "load_framework", "load_study"]


@dataclass(frozen=True)
class Study:
    """Validated study data, cases in the order of their numbers."""

    framework: Framework
    cases: tuple[Case, ...]
    observations: tuple[CodedObservation, ...]
    themes: tuple[Theme, ...]
    coded_cases: frozenset[str]
    production_models: ProductionModels | None = None
    design_rules: tuple[DesignRule, ...] = ()
    description: StudyDescription | None = None

    @property
    def uncoded_cases(self) -> tuple[Case, ...]:
        """Cases that arrived with narratives only (no observations yet)."""
        return tuple(c for c in self.cases if c.id not in self.coded_cases)

    @property
    def case_numbers(self) -> dict[str, int]:
        """Case id -> case number."""
        return {c.id: c.number for c in self.cases}

    @property
    def dimension_labels(self) -> dict[str, str]:
        return {d.id: d.label for d in self.framework.dimensions}

    @property
    def perspective_of(self) -> dict[str, str]:
        """Dimension id -> the label of its perspective."""
        labels = {p.id: p.label for p in self.framework.perspectives}
        return {d.id: labels[d.perspective] for d in self.framework.dimensions}


def _observation_files(sources: Sequence[Path], cases: Sequence[ParsedCase]) -> list[Path]:
    """The observation file of each case, and every observation file of a given case folder
    (which must then name a loaded case)."""
    found: dict[Path, None] = {}
    for c in cases:
        obs = observation_file_for(c.path)
        if obs.exists():
            found[obs.resolve()] = None
    for folder in observation_folders(sources):
        for p in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            if not p.name.startswith(("_", ".")):
                found[p.resolve()] = None
    return list(found)


_SLUG: TypeAdapter[str] = TypeAdapter(Slug)


@dataclass(frozen=True)
class _Files:
    """What could be read of a study's files, before the cross-checks."""

    framework: Parsed[Framework] | None
    description: Parsed[StudyDescription] | None
    themes: list[ParsedItems[Theme]]
    production_models: Parsed[ProductionModels] | None
    design_rules: ParsedItems[DesignRule] | None
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
    observation_files = _observation_files(sources, cases)
    observations = [
        o
        for p in observation_files
        if (o := reader.items(p, "observations", Observation, {"case": _SLUG}, p.stem, False))
        is not None
    ]
    return _Files(
        framework=reader.whole(layout.framework_file, Framework),
        description=(
            reader.whole(layout.study_file, StudyDescription)
            if layout.study_file.exists()
            else None
        ),
        themes=[t for p in theme_paths if (t := reader.items(p, "themes", Theme)) is not None],
        production_models=(
            reader.whole(layout.production_models_file, ProductionModels)
            if layout.production_models_file.exists()
            else None
        ),
        design_rules=(
            reader.items(layout.design_rules_file, "design_rules", DesignRule)
            if layout.design_rules_file.exists()
            else None
        ),
        cases=cases,
        unreadable={p.stem for p in case_files} - {c.case.id for c in cases},
        observations=observations,
        observations_read=len(observations) == len(observation_files),
    )


def _cross_check(
    files: _Files, require_theme_evidence: bool
) -> tuple[list[Problem], list[CodedObservation], set[str]]:
    """Every cross-check that what was read allows; the located observations and the ids of the
    coded cases."""
    framework = files.framework.model if files.framework else None
    index = ThemeIndex(
        tuple(t for f in files.themes for _, t in f.items), rejected_themes(files.themes)
    )
    by_id = {c.case.id: c for c in files.cases}
    problems = check_framework(files.framework) if files.framework else []
    problems += check_case_identity(files.cases)
    if framework is not None:
        for c in files.cases:
            problems += check_case_against_framework(c, framework)
    problems += check_themes(files.themes, framework)
    problems += check_observation_files(files.observations, by_id, files.unreadable)
    problems += check_observation_ids(files.observations)
    observations: list[CodedObservation] = []
    coded: set[str] = set()
    for f in files.observations:
        case = by_id.get(str(f.head.get("case")))
        if case is not None and f.doc.path.stem == case.case.id and f.items:
            coded.add(case.case.id)
        located, found = check_observations(f, case, index, framework)
        observations += located
        problems += found
    if require_theme_evidence and coded and files.observations_read:
        problems += check_theme_evidence(files.themes, files.observations, index, framework)
    pm = files.production_models
    if pm is not None and framework is not None:
        problems += check_production_models(pm, framework, index)
    if files.design_rules is not None and framework is not None:
        problems += check_design_rules(files.design_rules, framework, pm.model if pm else None)
    return problems, observations, coded


def _assemble(files: _Files, observations: list[CodedObservation], coded: set[str]) -> Study:
    """The study, cases by number and observations by case and dimension."""
    assert files.framework is not None
    framework = files.framework.model
    order = {d.id: i for i, d in enumerate(framework.dimensions)}
    cases = tuple(sorted((c.case for c in files.cases), key=lambda c: c.number))
    number = {c.id: c.number for c in cases}
    observations.sort(key=lambda co: (number[co.case], order[co.observation.dimension]))
    return Study(
        framework=framework,
        cases=cases,
        observations=tuple(observations),
        themes=tuple(t for f in files.themes for _, t in f.items),
        coded_cases=frozenset(coded),
        production_models=files.production_models.model if files.production_models else None,
        design_rules=tuple(r for _, r in files.design_rules.items) if files.design_rules else (),
        description=files.description.model if files.description else None,
    )


def load_study(
    layout: Layout | None = None,
    cases: Sequence[str | Path] | None = None,
    *,
    require_theme_evidence: bool = True,
) -> Study:
    """Load, validate and cross-check the study; raise StudyDataError with every problem found.

    ``cases`` lists case folders or files (relative to the project root or absolute); by default
    the study's own case folder. ``require_theme_evidence`` reports themes that no observation
    evidences (switch it off to analyse a subset of the cases).
    """
    layout = layout or Layout.discover()
    reader = Reader(layout)
    files = _read(layout, [layout.resolve(c) for c in (cases or [layout.cases_dir])], reader)
    problems, observations, coded = _cross_check(files, require_theme_evidence)
    if reader.problems or problems:
        raise StudyDataError(reader.problems + problems)
    return _assemble(files, observations, coded)


def load_framework(layout: Layout | None = None) -> Framework:
    """Load and check the framework file alone (for outputs that depend on nothing else)."""
    layout = layout or Layout.discover()
    reader = Reader(layout)
    fw = reader.whole(layout.framework_file, Framework)
    problems = reader.problems + (check_framework(fw) if fw else [])
    if problems or fw is None:
        raise StudyDataError(problems)
    return fw.model


def load_description(layout: Layout | None = None) -> StudyDescription | None:
    """The study's description alone (title, citation, table headers), if it has one."""
    layout = layout or Layout.discover()
    if not layout.study_file.exists():
        return None
    reader = Reader(layout)
    parsed = reader.whole(layout.study_file, StudyDescription)
    if parsed is None:
        raise StudyDataError(reader.problems)
    return parsed.model
