"""Runs: a named analysis of a case set under a discriminator rule, recorded with its outputs.

A run's case set and rule are stored in ``data/processed/<run>/run.yaml`` once its case set has
validated (until then the spec asked for waits in ``build/<run>/run.yaml``, so a failed first
attempt records nothing); later calls with the same run name reuse the record, and a different
case set or rule for a recorded run is refused unless the caller asks to overwrite it. The
reproduction run (``paper``) only ever takes the study's own cases under the default rule.

The record also tells ``make`` what each notebook of the run reads (:func:`make_rules`): the
files of the case set for a notebook that declares a ``cases`` parameter, the framework alone
for one that does not. Only YAML and the standard library are needed here, so that a ``make``
with nothing to do stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .outputs import atomic_write, plural
from .paths import REPRODUCTION_RUN, Layout, check_run_name

#: The default rule of the reproduction (the study's own).
DEFAULT_MIN_CASES = 3


class RunError(ValueError):
    """A run that cannot be made as asked (its record says otherwise, or it is the reproduction)."""


@dataclass(frozen=True)
class RunSpec:
    """What a run analyses: its name, case folders or files (relative to the project root), and
    the discriminator rule."""

    name: str
    cases: tuple[str, ...]
    min_cases: int | None = DEFAULT_MIN_CASES
    min_share: float | None = None

    def parameters(self) -> dict[str, Any]:
        """Every run-level notebook parameter (each notebook takes those it declares)."""
        return {
            "run": self.name,
            "cases": list(self.cases),
            "min_cases": self.min_cases,
            "min_share": self.min_share,
        }

    def describe(self) -> list[tuple[str, str]]:
        rule = []
        if self.min_cases is not None:
            rule.append(f"at least {plural(self.min_cases, 'case')}")
        if self.min_share is not None:
            rule.append(f"at least {self.min_share:.0%} of the coded cases")
        return [
            ("Run", self.name),
            ("Case set", " ".join(self.cases)),
            ("Discriminator rule", " and ".join(rule)),
        ]

    def to_yaml(self) -> str:
        return yaml.safe_dump(
            {
                "run": self.name,
                "cases": list(self.cases),
                "min_cases": self.min_cases,
                "min_share": self.min_share,
            },
            sort_keys=False,
            allow_unicode=True,
        )

    def command_line(self) -> str:
        """The make variables that make this run (those with a value)."""
        parts = [f"RUN={self.name}", f'CASES="{" ".join(self.cases)}"']
        if self.min_cases is not None:
            parts.append(f"MIN_CASES={self.min_cases}")
        if self.min_share is not None:
            parts.append(f"MIN_SHARE={self.min_share}")
        return " ".join(parts)


def default_spec(layout: Layout, name: str) -> RunSpec:
    """A run of the study's own cases under the default rule."""
    return RunSpec(check_run_name(name), (layout.relative(layout.cases_dir),))


def _normalise(layout: Layout, cases: Sequence[str]) -> tuple[str, ...]:
    out = []
    for c in cases:
        path = layout.resolve(c)
        out.append(layout.relative(path) if path.is_relative_to(layout.root) else path.as_posix())
    return tuple(out)


def read_record(layout: Layout, name: str, pending: bool = False) -> RunSpec | None:
    """The recorded spec of run ``name`` (or, with ``pending``, the spec asked for and not yet
    validated), or None if there is none."""
    path = layout.pending_run(name) if pending else layout.run_record(name)
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return RunSpec(
        name=str(data.get("run", name)),
        cases=tuple(str(c) for c in data.get("cases", [])),
        min_cases=data.get("min_cases"),
        min_share=data.get("min_share"),
    )


def resolve(
    layout: Layout,
    name: str,
    cases: Sequence[str] | None = None,
    min_cases: int | None = None,
    min_share: float | None = None,
    overwrite: bool = False,
) -> RunSpec:
    """The spec of run ``name``: what is given, completed from its record (or the defaults).

    Raises :class:`RunError` when the reproduction run is given another case set or rule, or when
    what is given differs from the run's record and ``overwrite`` is not set.
    """
    check_run_name(name)
    recorded = read_record(layout, name)
    given_rule = min_cases is not None or min_share is not None
    if recorded is None and not cases and not given_rule and name != REPRODUCTION_RUN:
        known = recorded_runs(layout)
        raise RunError(
            f"run {name!r} was never made: give its case set (CASES=...) to make it"
            + (f", or use one of the recorded runs: {', '.join(known)}" if known else "")
        )
    base = recorded or default_spec(layout, name)
    spec = RunSpec(
        name,
        _normalise(layout, cases) if cases else base.cases,
        min_cases if given_rule else base.min_cases,
        min_share if given_rule else base.min_share,
    )
    if name == REPRODUCTION_RUN and spec != default_spec(layout, name):
        raise RunError(
            f"RUN={name} is the reproduction of the study's own cases under its own rule: give "
            "another case set or rule a run name of its own, e.g. RUN=my-cases"
        )
    if recorded is not None and spec != recorded and not overwrite:
        raise RunError(
            f"run {name!r} was made with {recorded.command_line()}; now asked for "
            f"{spec.command_line()}. Give the new analysis another RUN name, or add OVERWRITE=1 "
            f"to re-make run {name!r} with it"
        )
    return spec


def recorded_runs(layout: Layout) -> list[str]:
    """The names of the runs that have a record, in order."""
    processed = layout.tables_dir(REPRODUCTION_RUN).parent
    return sorted(p.parent.name for p in processed.glob("*/run.yaml"))


def write_record(layout: Layout, spec: RunSpec, pending: bool = False) -> Path:
    """Store the spec with the run's outputs once its case set has validated (or, with
    ``pending``, as asked, beside the executed notebooks). The file is rewritten only when it
    changes, so that ``make`` re-runs the notebooks only then."""
    path = layout.pending_run(spec.name) if pending else layout.run_record(spec.name)
    text = spec.to_yaml()
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write(path, text)
    return path


def watched_folders(layout: Layout, spec: RunSpec) -> list[Path]:
    """The folders whose listing decides a run's inputs: each case folder, the observation folder
    beside it, and the case set's folder (where a themes file may appear)."""
    out: dict[Path, None] = {}
    for c in spec.cases:
        path = layout.resolve(c)
        folder = path if path.is_dir() else path.parent
        for f in (folder, folder.parent / "observations", folder.parent):
            if f.is_dir():
                out[f] = None
    return list(out)


def make_rules(layout: Layout, spec: RunSpec, inputs: Sequence[Path], rules: Path) -> str:
    """Make rules naming what each notebook of the run reads: the case set's files (``inputs``)
    for a notebook that declares ``cases``, the framework alone otherwise; and the folders the
    rules themselves depend on (``rules`` is their file)."""
    from .runner import declared_parameters

    def rel(p: Path) -> str:
        return layout.relative(p).replace(" ", "\\ ")

    study = " ".join(rel(p) for p in inputs)
    record = layout.run_record(spec.name)
    watched = [*watched_folders(layout, spec), *([record] if record.is_file() else [])]
    lines = [
        "# Written by `crosscase record`: what each notebook of this run reads. Do not edit.",
        *(f"# {line}" for line in spec.to_yaml().splitlines()),
        f"RUN_INPUTS := {study}",
        f"{rel(rules)}: {' '.join(rel(p) for p in watched)}",
    ]
    spec_file = rel(layout.pending_run(spec.name))
    for nb in layout.notebooks():
        target = rel(layout.executed_dir(spec.name) / nb.name)
        declared = declared_parameters(nb)
        reads = study if "cases" in declared else rel(layout.framework_file)
        if {"cases", "min_cases", "min_share"} & set(declared):
            reads += f" {spec_file}"
        lines.append(f"{target}: {reads}")
    return "\n".join(lines) + "\n"
