"""What a notebook of the compendium calls: a *session* writes one notebook's tables and figures
for its run, and lists them at the end.

A notebook stays thin: its parameters cell, one :func:`start` (:func:`start_framework` for one
that reads only the framework), calls into the analysis with :meth:`Session.table` /
:meth:`Session.figure` for each output, and :meth:`Session.close`, which prints the files written
with their checksums (so nbval locks the figures' bytes too). The run is resolved as ``make``
resolves it (:func:`.runs.resolve`), so that a notebook run by hand (papermill, JupyterLab) never
mixes two analyses in one run's folders. Plotting and display libraries are imported only by the
notebooks that use them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..evidence import Evidence, collect
from ..model import DiscriminatorRule, Framework, Study
from ..outputs import manifest, plural, to_markdown, write_jsonl, write_table
from ..paths import Layout, check_run_name
from ..study import load_framework, load_study
from .runs import Run, reproduction, resolve

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


def _display_markdown(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


@dataclass
class Session:
    """One notebook's session: the run it writes for (its name), and what it has written."""

    name: str
    layout: Layout
    framework: Framework
    written: list[Path] = field(default_factory=list)

    def table(self, table: pd.DataFrame, name: str, title: str, show: bool = True) -> None:
        """Write ``table`` as CSV and Markdown and show it in full under ``title``."""
        self.written += write_table(table, self.layout.tables_dir(self.name), name)
        if show:
            head = f"**{title}** ({len(table)} rows; `{name}.csv`)"
            _display_markdown(f"{head}\n\n{to_markdown(table)}")

    def records(self, records: Sequence[Mapping[str, object]], name: str, title: str) -> None:
        """Write ``records`` as JSON Lines (``<name>.jsonl``) and say how many under ``title``."""
        self.written.append(write_jsonl(records, self.layout.tables_dir(self.name), name))
        _display_markdown(f"**{title}** ({len(records)} records; `{name}.jsonl`)")

    def figure(self, fig: Figure, name: str, title: str) -> None:
        """Write ``fig`` as PNG and SVG and show it."""
        import matplotlib.pyplot as plt
        from IPython.display import Image, display

        from ..figures import write_figure

        written = write_figure(fig, self.layout.figures_dir(self.name), name)
        self.written += written
        _display_markdown(f"**{title}** (`{name}.png`, `{name}.svg`)")
        display(Image(data=written[0].read_bytes()))  # the PNG just written, not drawn again
        plt.close(fig)

    def close(self) -> None:
        """Show every file this notebook wrote, with its size and SHA-256."""
        files = to_markdown(manifest(self.written, self.layout.output_root))
        _display_markdown(f"**Outputs of this notebook**\n\n{files}")


@dataclass(frozen=True)
class Baseline:
    """The case set and rule a run is compared with, and its evidence."""

    study: Study
    evidence: Evidence


@dataclass
class StudySession(Session):
    """The session of a notebook that analyses the run's case set under the run's rule."""

    run: Run = field(kw_only=True)
    study: Study = field(kw_only=True)

    def evidence(self) -> Evidence:
        """The study's evidence under the run's rule (and say which rule it is)."""
        ev = collect(self.study, self.run.rule)
        print("Discriminator rule:", ev.rule.describe(len(ev.coded_cases)))
        return ev

    def baseline(
        self, cases: Sequence[str] | str | None = None, min_cases: int | None = None
    ) -> Baseline | None:
        """The baseline to compare the run with (by default the reproduction: the study's own
        cases under its own rule), validated like any case set; None, saying so, when it has
        the same evidence as the run (nothing changed)."""
        own = reproduction(self.layout)
        cases = [cases] if isinstance(cases, str) else (cases or own.cases)
        rule = DiscriminatorRule(min_cases or own.min_cases, None if min_cases else own.min_share)
        study = load_study(self.layout, cases)
        before = collect(study, rule)
        if before == collect(self.study, self.run.rule):
            print("Same case set, coding and rule as the baseline: nothing changed.")
            return None
        return Baseline(study, before)

    def changes(self, table: pd.DataFrame, name: str, title: str) -> None:
        """Print how many rows of a what-changed ``table`` have each status, and write it."""
        print(table["status"].value_counts().sort_index().to_string())
        self.table(table, name, title)


def start(
    run: str | None = None,
    cases: Sequence[str | Path] | str | None = None,
    min_cases: int | None = None,
    min_share: float | None = None,
) -> StudySession:
    """Resolve the run (its record fills what is left at None), load and check its case set
    (raising one report of every problem before anything is written), and print what is
    analysed."""
    layout = Layout.discover()
    given = [cases] if isinstance(cases, str | Path) else cases
    the_run = resolve(layout, run, given, min_cases, min_share)
    study = load_study(layout, the_run.cases)
    lines = [
        f"Run {the_run.name!r}: {plural(len(study.cases), 'case')}, "
        f"{len(study.framework.dimensions)} dimensions, {len(study.observations)} first-order "
        f"observations, {len(study.themes)} second-order themes."
    ]
    if uncoded := ", ".join(f"{c.number} {c.name}" for c in study.uncoded_cases):
        lines.append(f"Not yet coded (no observations, counted in no theme): {uncoded}.")
    print("\n".join([*lines, *(f"warning: {w}" for w in study.warnings)]))
    return StudySession(the_run.name, layout, study.framework, run=the_run, study=study)


def start_framework(run: str | None = None) -> Session:
    """Like :func:`start`, for a notebook that reads the framework file only."""
    layout = Layout.discover()
    name = check_run_name(run or reproduction(layout).name)
    framework = load_framework(layout)
    shape = f"{len(framework.perspectives)} perspectives and {len(framework.dimensions)} dimensions"
    print(f"Run {name!r}: framework with {shape}.")
    return Session(name, layout, framework)
