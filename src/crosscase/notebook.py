"""What a notebook of the compendium calls: start a run, publish tables and figures, close.

A notebook stays thin: its parameters cell, one :func:`start`, then calls into the analysis and
:meth:`Run.table` / :meth:`Run.figure` for each output, and :meth:`Run.close` at the end, which
prints the files written with their checksums (so nbval locks the figures' bytes too).
Plotting and display libraries are imported only by the notebooks that use them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .evidence import DiscriminatorRule, Evidence, collect
from .model import Framework
from .outputs import manifest, plural, to_markdown, write_jsonl, write_table
from .paths import REPRODUCTION_RUN, Layout, check_run_name
from .study import Study, load_framework, load_study

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


def _display_markdown(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


@dataclass
class Run:
    """One notebook's run: where it writes, the study it analyses, what it has written."""

    name: str
    layout: Layout
    study: Study | None
    written: list[Path] = field(default_factory=list)

    @property
    def tables_dir(self) -> Path:
        return self.layout.tables_dir(self.name)

    @property
    def figures_dir(self) -> Path:
        return self.layout.figures_dir(self.name)

    def evidence(self, min_cases: int | None = 3, min_share: float | None = None) -> Evidence:
        """The study's evidence under the rule given (and say which rule it is)."""
        assert self.study is not None, "this run reads the framework only"
        rule = DiscriminatorRule(min_cases, min_share)
        ev = collect(self.study, rule)
        print("Discriminator rule:", rule.describe(len(ev.coded_cases)))
        return ev

    def table(self, table: pd.DataFrame, name: str, title: str, show: bool = True) -> None:
        """Write ``table`` as CSV and Markdown and show it in full under ``title``."""
        self.written += write_table(table, self.tables_dir, name)
        if show:
            _display_markdown(
                f"**{title}** ({len(table)} rows; `{name}.csv`)\n\n" + to_markdown(table)
            )

    def records(self, records: Sequence[Mapping[str, object]], name: str, title: str) -> None:
        """Write ``records`` as JSON Lines (``<name>.jsonl``) and say how many under ``title``."""
        self.written.append(write_jsonl(records, self.tables_dir, name))
        _display_markdown(f"**{title}** ({len(records)} records; `{name}.jsonl`)")

    def figure(self, fig: Figure, name: str, title: str) -> None:
        """Write ``fig`` as PNG and SVG and show it."""
        import matplotlib.pyplot as plt
        from IPython.display import Image, display

        from .figures import write_figure

        written = write_figure(fig, self.figures_dir, name)
        self.written += written
        _display_markdown(f"**{title}** (`{name}.png`, `{name}.svg`)")
        display(Image(data=written[0].read_bytes()))  # the PNG just written, not drawn again
        plt.close(fig)

    def close(self) -> None:
        """Show every file this notebook wrote, with its size and SHA-256."""
        _display_markdown(
            "**Outputs of this notebook**\n\n"
            + to_markdown(manifest(self.written, self.layout.output_root))
        )


def start(
    run: str = REPRODUCTION_RUN,
    cases: Sequence[str | Path] | str | None = None,
    require_theme_evidence: bool | None = None,
) -> Run:
    """Validate the parameters, load and check the study data (raising one report of every
    problem before anything is written), and print what is analysed."""
    check_run_name(run)
    layout = Layout.discover()
    if isinstance(cases, str | Path):
        cases = [cases]
    sources = {layout.resolve(c).resolve() for c in (cases or [layout.cases_dir])}
    if run == REPRODUCTION_RUN and sources != {layout.cases_dir.resolve()}:
        raise ValueError(
            f"run {run!r} is the reproduction of the study's own cases: give a run on another "
            "case set a name of its own (it then writes to its own folders)"
        )
    if require_theme_evidence is None:
        # A theme without observations is a data error in the study's own case set; in a
        # subset or another case set it is a result (the theme is simply not evidenced there).
        require_theme_evidence = layout.cases_dir.resolve() in sources
    study = load_study(layout, cases, require_theme_evidence=require_theme_evidence)
    lines = [
        f"Run {run!r}: {plural(len(study.cases), 'case')}, "
        f"{len(study.framework.dimensions)} dimensions, "
        f"{len(study.observations)} first-order observations, {len(study.themes)} second-order "
        "themes.",
    ]
    if study.uncoded_cases:
        lines.append(
            "Not yet coded (no observations, counted in no theme): "
            + ", ".join(f"{c.number} {c.name}" for c in study.uncoded_cases)
            + "."
        )
    print("\n".join(lines))
    return Run(run, layout, study)


@dataclass
class FrameworkRun(Run):
    """A run that reads the framework only."""

    framework: Framework | None = None


def start_framework(run: str = REPRODUCTION_RUN) -> FrameworkRun:
    """Like :func:`start`, for a notebook that reads the framework file only."""
    check_run_name(run)
    layout = Layout.discover()
    framework = load_framework(layout)
    print(
        f"Run {run!r}: framework with {len(framework.perspectives)} perspectives and "
        f"{len(framework.dimensions)} dimensions."
    )
    return FrameworkRun(run, layout, None, framework=framework)


def load_baseline(cases: Sequence[str | Path] | str) -> Study:
    """The study on a baseline case set (to compare a run with), validated like any other."""
    return load_study(Layout.discover(), [cases] if isinstance(cases, str) else cases)
