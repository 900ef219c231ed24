"""Runs: a named analysis of a case set under a discriminator rule, recorded with its outputs.

A *run* has a name (its output folders), a case set and a rule. Its record,
``data/processed/<run>/run.yaml``, holds them with the SHA-256 of every file the run reads; it is
written by one command (:func:`record`, ``crosscase record``), and only once the case set
validates, so a failed attempt records nothing. ``make`` re-runs a notebook when the record it
reads changes: when the case set, the rule or any input file changes.

Later calls with the same run name reuse the record (:func:`resolve`); a different case set or
rule for a recorded run is refused unless the caller asks to overwrite it. The *reproduction*
(named in the study's description, ``data/raw/study.yaml``) only ever takes the study's own cases
under the study's own rule. A case set has no order: it is kept with the study's own case folder
first, then the others sorted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..model import DiscriminatorRule
from ..outputs import atomic_write, sha256
from ..paths import Layout, check_run_name
from ..study import load_description
from ..study.casesets import case_set_files
from ..study.load import check_cases

_HEADER = (
    "# The record of a run: its case set and rule, and the SHA-256 of every file it reads.\n"
    "# Written by `crosscase record` (`make`) once the case set validates. Do not edit.\n"
)


class RunError(ValueError):
    """A run that cannot be made as asked (its record says otherwise, or it is the reproduction)."""


@dataclass(frozen=True)
class Run:
    """What a run analyses: its name, case folders or files (relative to the project root), and
    the discriminator rule (a minimum number of cases, a minimum share of the coded cases, or
    both)."""

    name: str
    cases: tuple[str, ...]
    min_cases: int | None
    min_share: float | None

    def parameters(self) -> dict[str, Any]:
        """Every run-level notebook parameter (each notebook takes those it declares)."""
        return {
            "run": self.name,
            "cases": list(self.cases),
            "min_cases": self.min_cases,
            "min_share": self.min_share,
        }

    @property
    def rule(self) -> DiscriminatorRule:
        return DiscriminatorRule(self.min_cases, self.min_share)

    def describe(self) -> list[tuple[str, str]]:
        return [
            ("Run", self.name),
            ("Case set", " ".join(self.cases)),
            ("Discriminator rule", self.rule.words()),
        ]

    def command_line(self) -> str:
        """The make variables that make this run (those with a value)."""
        rule = {"MIN_CASES": self.min_cases, "MIN_SHARE": self.min_share}
        given = [f"{k}={v}" for k, v in rule.items() if v is not None]
        return " ".join([f"RUN={self.name}", f'CASES="{" ".join(self.cases)}"', *given])


def reproduction(layout: Layout) -> Run:
    """The run that reproduces the study: its own cases under its own rule."""
    study, own = load_description(layout), (layout.relative(layout.cases_dir),)
    return Run(study.reproduction, own, study.rule.min_cases, study.rule.min_share)


def case_set(layout: Layout, cases: Sequence[str | Path]) -> tuple[str, ...]:
    """A case set as a run keeps it: paths relative to the project root (absolute outside it),
    each once, the study's own case folder first, then the others sorted. Raises
    :class:`RunError` for a path that does not exist."""
    own = layout.relative(layout.cases_dir)
    out = set()
    for c in cases:
        path = layout.resolve(c)
        if not path.exists():
            raise RunError(f"{c}: no such case file or folder")
        out.add(layout.relative(path) if path.is_relative_to(layout.root) else path.as_posix())
    return tuple(sorted(out, key=lambda c: (c != own, c)))


def read_record(layout: Layout, name: str) -> Run | None:
    """The recorded run ``name``, or None if it has no record."""
    path = layout.run_record(name)
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    cases = tuple(str(c) for c in data.get("cases", []))
    return Run(str(data.get("run", name)), cases, data.get("min_cases"), data.get("min_share"))


def recorded_runs(layout: Layout) -> list[str]:
    """The names of the runs that have a record, in order."""
    processed = layout.run_record("x").parent.parent
    return sorted(p.parent.name for p in processed.glob("*/run.yaml"))


def resolve(
    layout: Layout,
    name: str | None = None,
    cases: Sequence[str | Path] | None = None,
    min_cases: int | None = None,
    min_share: float | None = None,
    overwrite: bool = False,
) -> Run:
    """Run ``name`` (by default the reproduction): what is given, completed from its record
    (or, for the reproduction, the study's own cases and rule); a new run given a rule alone
    analyses the study's own cases.
    Raises :class:`RunError` when the reproduction is given another case set or rule, when a run
    that was never made is given neither, or when what is given differs from the run's record
    and ``overwrite`` is not set."""
    own = reproduction(layout)
    name = check_run_name(name or own.name)
    given_cases = case_set(layout, cases) if cases else None
    given_rule = min_cases is not None or min_share is not None
    base = read_record(layout, name) if name != own.name else own
    if base is None and given_cases is None and not given_rule:
        known = recorded_runs(layout)
        raise RunError(
            f"run {name!r} was never made: give its case set (CASES=...) to make it"
            + (f", or use one of the recorded runs: {', '.join(known)}" if known else "")
        )
    template = base or own  # a new run takes the study's rule unless given one
    rule = (min_cases, min_share) if given_rule else (template.min_cases, template.min_share)
    run = Run(name, given_cases or template.cases, *rule)
    if name == own.name and run != own:
        raise RunError(
            f"RUN={name} is the reproduction of the study's own cases under its own rule: give "
            "another case set or rule a run name of its own, e.g. RUN=my-cases"
        )
    if base is not None and run != base and not overwrite:
        raise RunError(
            f"run {name!r} was made with {base.command_line()} "
            f"({layout.relative(layout.run_record(name))}); now asked for "
            f"{run.command_line()}. Give the new analysis another run name, or add OVERWRITE=1 "
            f"to re-make run {name!r} with it"
        )
    return run


def _record_text(layout: Layout, run: Run) -> str:
    """The record of ``run``: its case set, rule and inputs with their SHA-256."""
    inputs = {layout.relative(p): sha256(p) for p in case_set_files(layout, run.cases)}
    data = {**run.parameters(), "inputs": inputs}
    return _HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def record(layout: Layout, run: Run) -> str | None:
    """Record ``run`` when its record would change: validate its case set (raising
    :class:`~crosscase.study.problems.StudyDataError` with every problem, nothing written), then
    write the record. Returns what was checked ("OK: 5 cases, ...") or None when the record is
    up to date (nothing to check)."""
    path = layout.run_record(run.name)
    text = _record_text(layout, run)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return None
    checked = check_cases(layout, run.cases)
    atomic_write(path, text)
    return checked
