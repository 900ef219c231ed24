"""Load and cross-check the data of a multiple-case study.

:func:`load_study` reads the framework, the case files (one per case), their first-order coding
(one observation file per case), the second-order themes and, where present, the comparison with
other models and the design rules. It checks each file against its schema and the files against
each other, and raises one :class:`~crosscase.problems.StudyDataError` listing every problem.

Conventions: a case file ``<set>/cases/<case-id>.yaml`` has its observations in
``<set>/observations/<case-id>.yaml``; a case with no observation file is *not yet coded*. File
names starting with ``_`` or ``.`` (templates, drafts) are not cases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from .model import (
    Case,
    ComparisonFile,
    DesignRule,
    DesignRuleFile,
    Framework,
    Observation,
    ObservationFile,
    Theme,
    ThemeFile,
)
from .paths import Layout
from .problems import Problem, StudyDataError, YamlDocument, read_yaml, schema_problems

M = TypeVar("M", bound=BaseModel)


def normalise_space(text: str) -> str:
    """Collapse runs of white space (line breaks of folded YAML included) to single spaces."""
    return " ".join(text.split())


@dataclass(frozen=True)
class CodedObservation:
    """A first-order observation with its case and the located evidence passage."""

    case: str
    observation: Observation
    evidence_dimension: str | None = None
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class Study:
    """Validated study data, cases in the order of their numbers."""

    framework: Framework
    cases: tuple[Case, ...]
    observations: tuple[CodedObservation, ...]
    themes: tuple[Theme, ...]
    coded_cases: frozenset[str]
    comparison: ComparisonFile | None = None
    design_rules: tuple[DesignRule, ...] = ()
    files: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def uncoded_cases(self) -> tuple[Case, ...]:
        """Cases that arrived with narratives only (no observation file yet)."""
        return tuple(c for c in self.cases if c.id not in self.coded_cases)


class _Loader:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.problems: list[Problem] = []
        self.files: list[Path] = []

    def display(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.layout.root).as_posix()
        except ValueError:
            return path.as_posix()

    def parse(
        self, path: Path, model: type[M], case: str | None = None, normalise: Sequence[str] = ()
    ) -> tuple[M, YamlDocument] | None:
        self.files.append(path)
        doc = read_yaml(path, self.display(path), self.problems)
        if doc is None:
            return None
        data = doc.data
        for key in normalise:  # narrative-like text: fold white space before checks
            if isinstance(data.get(key), dict):
                data[key] = {
                    k: normalise_space(v) if isinstance(v, str) else v for k, v in data[key].items()
                }
        if case is None and isinstance(data.get("id"), str):
            case = data["id"]
        try:
            return model.model_validate(data), doc
        except ValidationError as exc:
            self.problems.extend(schema_problems(doc, case, exc))
            return None

    def problem(
        self,
        file: Path | str,
        case: str | None,
        field_: str | None,
        message: str,
        line: int | None = None,
    ) -> None:
        shown = self.display(file) if isinstance(file, Path) else file
        self.problems.append(Problem(shown, case, field_, message, line))


def _case_files(sources: Iterable[Path], loader: _Loader) -> list[Path]:
    files: list[Path] = []
    for src in sources:
        if src.is_dir():
            found = sorted(p for p in src.glob("*.yaml") if not p.name.startswith(("_", ".")))
            if not found:
                loader.problem(src, None, None, "no case files (*.yaml) in this folder")
            files.extend(found)
        elif src.is_file():
            files.append(src)
        else:
            loader.problem(src, None, None, "no such case file or folder")
    seen: set[Path] = set()
    unique = []
    for f in files:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            unique.append(f)
    return unique


def extra_theme_files(layout: Layout, sources: Sequence[Path]) -> list[Path]:
    """Theme files that case sets add: ``<set>/themes.yaml`` beside a ``<set>/cases`` folder."""
    found: dict[Path, None] = {}
    for src in sources:
        folder = src.parent if src.is_dir() else src.parent.parent
        candidate = (folder / "themes.yaml").resolve()
        if candidate.is_file() and candidate != layout.themes_file.resolve():
            found[candidate] = None
    return list(found)


def observation_file_for(case_file: Path) -> Path:
    """Where the first-order coding of a case file lives (see the module docstring)."""
    return case_file.parent.parent / "observations" / case_file.name


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
    ld = _Loader(layout)

    fw = ld.parse(layout.framework_file, Framework)
    framework = fw[0] if fw else None
    th = ld.parse(layout.themes_file, ThemeFile)
    comparison, comparison_doc = None, None
    if layout.production_models_file.exists():
        cmp_ = ld.parse(layout.production_models_file, ComparisonFile)
        comparison, comparison_doc = cmp_ if cmp_ else (None, None)
    rules: tuple[DesignRule, ...] = ()
    rules_doc = None
    if layout.design_rules_file.exists():
        dr = ld.parse(layout.design_rules_file, DesignRuleFile)
        if dr:
            rules, rules_doc = tuple(dr[0].design_rules), dr[1]

    sources = [layout.resolve(c) for c in (cases or [layout.cases_dir])]
    case_files = _case_files(sources, ld)
    loaded: list[tuple[Case, YamlDocument, Path]] = []
    unreadable: set[str] = set()  # cases whose file failed: already reported, not cross-checked
    for path in case_files:
        parsed = ld.parse(path, Case, case=path.stem, normalise=("narratives",))
        if parsed:
            loaded.append((parsed[0], parsed[1], path))
        else:
            unreadable.add(path.stem)

    # Duplicate ids and numbers across case files; file named after its case.
    ids = Counter(c.id for c, _, _ in loaded)
    numbers = Counter(c.number for c, _, _ in loaded)
    for case, doc, path in loaded:
        if path.stem != case.id:
            ld.problems.append(
                doc.problem(
                    case.id,
                    ("id",),
                    f"case id {case.id!r} differs from the file name "
                    f"{path.name!r} (name the file {case.id}.yaml)",
                )
            )
        if ids[case.id] > 1:
            ld.problems.append(doc.problem(case.id, ("id",), f"duplicate case id {case.id!r}"))
        if numbers[case.number] > 1:
            ld.problems.append(
                doc.problem(case.id, ("number",), f"duplicate case number {case.number}")
            )

    dims = {d.id: d for d in framework.dimensions} if framework else {}
    # The study's themes, then those a case set adds (a themes.yaml beside its cases/ folder).
    theme_docs: list[tuple[Theme, YamlDocument, int]] = []
    if th:
        theme_docs += [(t, th[1], i) for i, t in enumerate(th[0].themes)]
    for extra in extra_theme_files(layout, sources):
        parsed_themes = ld.parse(extra, ThemeFile)
        if parsed_themes:
            theme_docs += [(t, parsed_themes[1], i) for i, t in enumerate(parsed_themes[0].themes)]
    theme_list = tuple(t for t, _, _ in theme_docs)
    themes = {t.id: t for t in theme_list}

    if framework and fw:
        _check_framework(ld, framework, fw[1])
        fields = [f.id for f in framework.case_protocol]
        for case, doc, _ in loaded:
            for dim_id in dims:
                if dim_id not in case.narratives:
                    ld.problems.append(
                        doc.problem(
                            case.id, ("narratives",), f"missing narrative for dimension {dim_id!r}"
                        )
                    )
            for key in case.narratives:
                if key not in dims:
                    ld.problems.append(
                        doc.problem(
                            case.id,
                            ("narratives", key),
                            f"unknown dimension {key!r} (known: {', '.join(dims)})",
                        )
                    )
            for f in fields:
                if f not in case.protocol:
                    ld.problems.append(
                        doc.problem(case.id, ("protocol",), f"missing protocol field {f!r}")
                    )
            for key in case.protocol:
                if key not in fields:
                    ld.problems.append(
                        doc.problem(case.id, ("protocol", key), f"unknown protocol field {key!r}")
                    )

    seen_themes: set[str] = set()
    for t, tdoc, i in theme_docs:
        if dims and t.dimension not in dims:
            ld.problems.append(
                tdoc.problem(None, ("themes", i, "dimension"), f"unknown dimension {t.dimension!r}")
            )
        if t.id in seen_themes:
            ld.problems.append(
                tdoc.problem(None, ("themes", i, "id"), f"duplicate theme id {t.id!r}")
            )
        seen_themes.add(t.id)

    # First-order coding: one observation file per case, next to the case files.
    by_id = {c.id: c for c, _, _ in loaded}
    coded: set[str] = set()
    observations: list[CodedObservation] = []
    obs_ids: Counter[str] = Counter()
    obs_files: dict[Path, None] = {}
    for _case, _, path in loaded:
        obs_path = observation_file_for(path)
        if obs_path.exists():
            obs_files[obs_path.resolve()] = None
    for src in sources:  # every observation file of a given case folder must name a loaded case
        folder = src.parent / "observations" if src.is_dir() else None
        if folder is not None and folder.is_dir():
            for p in sorted(folder.glob("*.yaml")):
                if not p.name.startswith(("_", ".")):
                    obs_files[p.resolve()] = None
    for obs_path in obs_files:
        parsed_obs = ld.parse(obs_path, ObservationFile, case=obs_path.stem)
        if not parsed_obs:
            continue
        ofile, odoc = parsed_obs
        case_ = by_id.get(ofile.case)
        if case_ is None and ofile.case in unreadable:
            continue
        if case_ is None:
            ld.problems.append(
                odoc.problem(
                    ofile.case,
                    ("case",),
                    f"unknown case {ofile.case!r}: no case file "
                    f"{ofile.case}.yaml among the cases loaded",
                )
            )
            continue
        if obs_path.stem != ofile.case:
            ld.problems.append(
                odoc.problem(
                    ofile.case,
                    ("case",),
                    f"observations of case {ofile.case!r} are in "
                    f"{obs_path.name!r} (name the file {ofile.case}.yaml)",
                )
            )
        if ofile.observations:  # an empty coding file (a template) is not yet coded
            coded.add(case_.id)
        for i, o in enumerate(ofile.observations):
            obs_ids[o.id] += 1
            loc = ("observations", i)
            if dims and o.dimension not in dims:
                ld.problems.append(
                    odoc.problem(
                        case_.id,
                        (*loc, "dimension"),
                        f"observation {o.id}: unknown dimension {o.dimension!r}",
                    )
                )
            for j, theme_id in enumerate(o.themes):
                theme = themes.get(theme_id)
                if theme is None:
                    ld.problems.append(
                        odoc.problem(
                            case_.id,
                            (*loc, "themes", j),
                            f"observation {o.id}: unknown theme {theme_id!r}",
                        )
                    )
                elif theme.dimension != o.dimension:
                    ld.problems.append(
                        odoc.problem(
                            case_.id,
                            (*loc, "themes", j),
                            f"observation {o.id} ({o.dimension}) cannot evidence theme "
                            f"{theme_id!r} of dimension {theme.dimension!r}",
                        )
                    )
            located = CodedObservation(case_.id, o)
            if o.evidence is not None:
                located = _locate(case_, o)
                if located.start is None:
                    ld.problems.append(
                        odoc.problem(
                            case_.id,
                            (*loc, "evidence"),
                            f"observation {o.id}: evidence passage not "
                            f"found in the narratives of case {case_.id}",
                        )
                    )
            observations.append(located)
    for ident, n in obs_ids.items():
        if n > 1:
            ld.problem(
                layout.observations_dir,
                None,
                "observations.id",
                f"duplicate observation id {ident!r} ({n} times)",
            )

    if require_theme_evidence and coded:
        used = {t for co in observations for t in co.observation.themes}
        for t, tdoc, i in theme_docs:
            if t.id not in used:
                ld.problems.append(
                    tdoc.problem(None, ("themes", i), f"theme {t.id!r} has no observations")
                )

    if comparison is not None and framework is not None:
        assert comparison_doc is not None
        _check_comparison(ld, comparison_doc, comparison, dims, themes)
    if rules and framework is not None and rules_doc is not None:
        discs = {d.id for d in comparison.discriminators} if comparison else set()
        persp_ids = {p.id for p in framework.perspectives}
        for i, r in enumerate(rules):
            if r.perspective not in persp_ids:
                ld.problems.append(
                    rules_doc.problem(
                        None,
                        ("design_rules", i, "perspective"),
                        f"unknown perspective {r.perspective!r}",
                    )
                )
            if r.dimension not in dims:
                ld.problems.append(
                    rules_doc.problem(
                        None, ("design_rules", i, "dimension"), f"unknown dimension {r.dimension!r}"
                    )
                )
            for j, disc in enumerate(r.discriminators):
                if disc not in discs:
                    ld.problems.append(
                        rules_doc.problem(
                            None,
                            ("design_rules", i, "discriminators", j),
                            f"rule {r.number}: unknown discriminator {disc!r}",
                        )
                    )

    if ld.problems:
        raise StudyDataError(ld.problems)
    assert framework is not None
    order = {d: i for i, d in enumerate(dims)}
    cases_sorted = tuple(sorted(by_id.values(), key=lambda c: c.number))
    case_order = {c.id: c.number for c in cases_sorted}
    observations.sort(key=lambda co: (case_order[co.case], order[co.observation.dimension]))
    return Study(
        framework=framework,
        cases=cases_sorted,
        observations=tuple(observations),
        themes=theme_list,
        coded_cases=frozenset(coded),
        comparison=comparison,
        design_rules=rules,
        files=tuple(ld.files),
    )


def _locate(case: Case, obs: Observation) -> CodedObservation:
    """Find the evidence passage, in the observation's own dimension first."""
    assert obs.evidence is not None
    passage = normalise_space(obs.evidence)
    order = [obs.dimension, *(d for d in case.narratives if d != obs.dimension)]
    for dim in order:
        text = case.narratives.get(dim)
        if text is None:
            continue
        at = text.find(passage)
        if at >= 0:
            return CodedObservation(case.id, obs, dim, at, at + len(passage))
    return CodedObservation(case.id, obs)


def _check_comparison(
    ld: _Loader,
    doc: YamlDocument,
    comparison: ComparisonFile,
    dims: Mapping[str, object],
    themes: Mapping[str, Theme],
) -> None:
    """Characteristics and discriminators name known models, dimensions and themes."""
    models = {m.id for m in comparison.production_models}

    def problem(loc: tuple[str | int, ...], message: str) -> None:
        ld.problems.append(doc.problem(None, loc, message))

    for i, c in enumerate(comparison.characteristics):
        if c.model not in models:
            problem(("characteristics", i, "model"), f"unknown model {c.model!r}")
        if c.dimension not in dims:
            problem(("characteristics", i, "dimension"), f"unknown dimension {c.dimension!r}")
    seen: set[str] = set()
    for i, d in enumerate(comparison.discriminators):
        if d.dimension not in dims:
            problem(("discriminators", i, "dimension"), f"unknown dimension {d.dimension!r}")
        for j, t in enumerate(d.themes):
            if t not in themes:
                problem(
                    ("discriminators", i, "themes", j), f"discriminator {d.id}: unknown theme {t!r}"
                )
        if not d.themes and not d.basis:
            problem(
                ("discriminators", i),
                f"discriminator {d.id} has no theme: say on what it rests (basis)",
            )
        if d.id in seen:
            problem(("discriminators", i, "id"), f"duplicate discriminator id {d.id!r}")
        seen.add(d.id)


def load_framework(layout: Layout | None = None) -> Framework:
    """Load and check the framework file alone (for outputs that depend on nothing else)."""
    layout = layout or Layout.discover()
    ld = _Loader(layout)
    parsed = ld.parse(layout.framework_file, Framework)
    if parsed:
        _check_framework(ld, *parsed)
    if ld.problems or not parsed:
        raise StudyDataError(ld.problems)
    return parsed[0]


def _check_framework(ld: _Loader, framework: Framework, doc: YamlDocument) -> None:
    """Dimensions name a known perspective; perspective and dimension ids are unique."""
    persp = {p.id for p in framework.perspectives}
    for i, d in enumerate(framework.dimensions):
        if d.perspective not in persp:
            ld.problems.append(
                doc.problem(
                    None, ("dimensions", i, "perspective"), f"unknown perspective {d.perspective!r}"
                )
            )
    for kind, items in (
        ("perspective", framework.perspectives),
        ("dimension", framework.dimensions),
    ):
        for ident, n in Counter(x.id for x in items).items():
            if n > 1:
                ld.problems.append(
                    doc.problem(None, (f"{kind}s",), f"duplicate {kind} id {ident!r}")
                )
