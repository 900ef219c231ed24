"""Benchmark of the workflow's stages on synthetic case sets of growing size.

``make bench``, or ``python benchmarks/bench.py --sizes 5 50 500 2000 --out DIR --figures DIR``.

A harness for the compendium, not part of the ``crosscase`` package: it measures the package.

For each size N, a case set of N synthetic cases is generated into a temporary project (a
``pyproject.toml`` with ``[tool.crosscase]`` and a ``data/raw`` folder holding copies of the real
framework, themes, production models and design rules), as real YAML files:

- ``cases/<id>.yaml``: the framework's protocol fields and one narrative per dimension, 300-600
  characters of pseudo-text drawn from a fixed word list;
- ``observations/<id>.yaml``: 1-5 observations per case and dimension, drawn with the paper's
  frequencies (95 observations in 35 cells: mean 2.7 per cell); each has an ``evidence`` that is
  a verbatim passage of the case's narrative of its dimension (so that evidence location is
  exercised), and about half carry ``themes`` drawn from the real themes of their dimension.
  Every theme is evidenced by at least one observation.

Generation is deterministic: one ``random.Random`` seeded from ``--seed`` and the size (integer
seeding: nothing depends on ``PYTHONHASHSEED``), no iteration over sets. It is not timed.

The stages, run in this process one after the other on each case set:

- ``load``: :func:`crosscase.study.load_study` (YAML parsing, validation, evidence location);
- ``first-order``: ``data_display``, ``observations_table``, ``coverage_matrix``;
- ``second-order``: :func:`crosscase.evidence.collect` (``DiscriminatorRule(3)``),
  ``second_order_themes``, ``theme_case_matrix``, ``data_display`` with the themes column;
- ``comparison``: ``comparison_table``, ``discriminators_table``, ``propositions_table``;
- ``robustness``: ``robustness_table``, ``leave_one_case_out_table``, ``threshold_sweep_table``
  (1..10);
- ``write``: :func:`crosscase.outputs.write_table` of the six tables of the first-order and
  second-order stages (CSV and Markdown) into a temporary folder.

Measurement (one pass, two runs of each stage): each stage is run twice in a row on the same
inputs, then the next stage. The *timing* run (``time.perf_counter``) has tracemalloc off, since
tracing slows allocation-heavy code (YAML parsing, pydantic) several-fold; a cheap stage (under
0.5 s) is repeated, up to ``--repeat`` times, and the fastest run kept. The *memory* run then
traces allocations with tracemalloc, started afresh for the stage (so its peak is reset between
stages): ``peak_mib`` is the highest amount of memory allocated during the stage and still held
at that moment, i.e. the stage's working memory and results, not what earlier stages hold. Before
each run, untimed, ``gc.collect()``; the objects that existed when the benchmark started (the
imported modules) are frozen (``gc.freeze``) so that collections scan only the benchmark's own.

Outputs: ``bench.csv``/``.md`` (size, cases, observations, stage, seconds, peak_mib) in ``--out``,
``bench-exponents.csv``/``.md`` (the slope of log(seconds) against log(cases), by
:func:`scipy.stats.linregress` over the sizes of at least 50 cases, per stage and for the total),
``bench.png``/``.svg`` (log-log, seconds against cases, one line per stage) in ``--figures``, and
a printed summary with the total time for about 1,000 cases (measured, or estimated from the fit
of the total, and labelled so).
"""

from __future__ import annotations

import argparse
import bisect
import gc
import math
import random
import re
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure
from tqdm import tqdm  # type: ignore[import-untyped]

from crosscase import tables
from crosscase.evidence import Evidence, collect
from crosscase.figures import write_figure
from crosscase.model import DiscriminatorRule, Study
from crosscase.outputs import to_markdown, write_table
from crosscase.paths import Layout, project_root
from crosscase.study import load_study

try:  # libyaml's emitter is much faster; both give the same data back
    from yaml import CSafeDumper as _Dumper
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]

STAGES = ("load", "first-order", "second-order", "comparison", "robustness", "write")
COLUMNS = ["size", "cases", "observations", "stage", "seconds", "peak_mib"]
#: Sizes below this are too small (and too noisy) to fit a growth exponent on.
FIT_MIN_CASES = 50
#: The size the summary reports the total time for.
TARGET_CASES = 1000
#: Observations per case and dimension, with the paper's frequencies (5, 11, 10, 7, 2 cells).
CELL_SIZES = (1, 2, 3, 4, 5)
CELL_WEIGHTS = (5, 11, 10, 7, 2)
THEMED_SHARE = 0.5
THRESHOLDS = list(range(1, 11))
#: A stage is repeated (best of) while its runs take less than this many seconds in all.
REPEAT_BUDGET = 0.5

_WORD_TEXT = (
    "supply network production local distributed manufacturing capacity demand regional hub "
    "site facility partner customer patient product process design component assembly module "
    "platform digital data service repair quality standard regulation compliance institution "
    "infrastructure skill expertise engineer operator training logistics inventory lead time "
    "order forecast stock batch customisation prototype technology printing additive tooling "
    "material supplier upstream downstream integration collaboration intellectual property "
    "licence agreement cost capital investment risk reward ownership maintenance governance "
    "sustainability waste energy transport delivery proximity consumer user community "
    "centre scale volume variety flexibility responsiveness reliability traceability provenance "
    "certification audit validation testing monitoring control efficiency automation sensor "
    "software model simulation analysis mapping workshop interview respondent evidence case "
    "configuration structure flow relationship architecture policy support funding programme "
    "university research development innovation market region country city hospital factory"
)
#: The fixed vocabulary of the pseudo-text.
WORDS = tuple(_WORD_TEXT.split())


# --------------------------------------------------------------------------------------------
# Synthetic case sets


def _sentence(rng: random.Random, n_words: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n_words)]
    if len(words) > 5 and rng.random() < 0.3:
        words[rng.randrange(2, len(words) - 2)] += ","
    return " ".join(words).capitalize() + "."


def _text(rng: random.Random, low: int, high: int) -> str:
    """Pseudo-text of ``low`` to ``high`` characters, in sentences."""
    target = rng.randint(low, high)
    sentences: list[str] = []
    length = -1
    while length < target:
        s = _sentence(rng, rng.randint(5, 14))
        sentences.append(s)
        length += 1 + len(s)
    text = " ".join(sentences)
    if len(text) > high:  # cut at a word boundary and close the sentence
        text = text[: text.rfind(" ", 0, high - 1)].rstrip(",") + "."
    return text


def _word_bounds(text: str) -> tuple[list[int], list[int]]:
    """Where the words of ``text`` start and end."""
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    return [a for a, _ in spans], [b for _, b in spans]


def _passage(rng: random.Random, text: str, bounds: tuple[list[int], list[int]]) -> str:
    """A verbatim passage of ``text``, of whole words, about 30 to 170 characters."""
    starts, ends = bounds
    begin = starts[rng.randrange(max(1, bisect.bisect_right(starts, len(text) - 30)))]
    lo, hi = bisect.bisect_left(ends, begin + 30), bisect.bisect_right(ends, begin + 170)
    end = ends[rng.randrange(lo, hi)] if hi > lo else min(len(text), begin + 170)
    return text[begin:end].strip(" ,.")


def _dump(data: dict[str, Any], header: str) -> str:
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=96,
        default_flow_style=False,
    )
    return header + str(body)


def generate_case_set(
    root: Path, n_cases: int, seed: int = 0, source: Layout | None = None
) -> Layout:
    """Write a project of ``n_cases`` synthetic cases under ``root``; return its layout.

    The framework, themes, production models and design rules are copies of ``source``'s (by
    default the compendium's own data). The same ``n_cases`` and ``seed`` give the same files.
    """
    if n_cases < 1:
        raise ValueError(f"a case set needs at least one case, not {n_cases}")
    source = source or Layout.at(project_root())
    layout = Layout.at(root)
    layout.cases_dir.mkdir(parents=True, exist_ok=True)
    layout.observations_dir.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[tool.crosscase]\nstudy = "synthetic case set for benchmarks/bench.py"\n', encoding="utf-8"
    )
    for name in (
        "framework_file",
        "themes_file",
        "comparison_file",
        "propositions_file",
        "study_file",
    ):
        shutil.copyfile(getattr(source, name), getattr(layout, name))

    framework = yaml.safe_load(layout.framework_file.read_text(encoding="utf-8"))
    dimensions = [str(d["id"]) for d in framework["dimensions"]]
    fields = [str(f["id"]) for f in framework.get("case_protocol", [])]
    themes_of: dict[str, list[str]] = {d: [] for d in dimensions}
    theme_list = yaml.safe_load(layout.themes_file.read_text(encoding="utf-8"))["themes"]
    for t in theme_list:
        themes_of.setdefault(str(t["dimension"]), []).append(str(t["id"]))

    rng = random.Random(seed * 1_000_003 + n_cases)
    width = len(str(n_cases))
    cases: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    by_dimension: dict[str, list[dict[str, Any]]] = {d: [] for d in dimensions}
    for number in range(1, n_cases + 1):
        case_id = f"case-{number:0{width}d}"
        narratives = {d: _text(rng, 300, 600) for d in dimensions}
        bounds = {d: _word_bounds(text) for d, text in narratives.items()}
        case = {
            "id": case_id,
            "number": number,
            "name": f"Synthetic case {number}",
            "protocol": {f: _text(rng, 20, 90) for f in fields},
            "narratives": narratives,
        }
        observations: list[dict[str, Any]] = []
        for i, dim in enumerate(dimensions, start=1):
            (k,) = rng.choices(CELL_SIZES, CELL_WEIGHTS)
            for j in range(1, k + 1):
                pool = themes_of[dim]
                themes: list[str] = []
                if pool and rng.random() < THEMED_SHARE:
                    themes = rng.sample(pool, 2 if len(pool) > 1 and rng.random() < 0.05 else 1)
                obs = {
                    "id": f"c{number}-d{i}-{j}",
                    "dimension": dim,
                    "text": _text(rng, 20, 120),
                    "themes": themes,
                    "evidence": _passage(rng, narratives[dim], bounds[dim]),
                    "source": "synthetic",
                }
                observations.append(obs)
                by_dimension[dim].append(obs)
        cases.append((case_id, case, {"case": case_id, "observations": observations}))

    # Every theme evidenced at least once (the loader requires it): give an unused theme to an
    # observation of its dimension.
    for t in theme_list:
        tid, dim = str(t["id"]), str(t["dimension"])
        if by_dimension.get(dim) and not any(tid in o["themes"] for o in by_dimension[dim]):
            rng.choice(by_dimension[dim])["themes"].append(tid)

    for case_id, case, obs_file in cases:
        (layout.cases_dir / f"{case_id}.yaml").write_text(
            _dump(case, "# Synthetic case (benchmarks/bench.py): pseudo-text, not data.\n"),
            encoding="utf-8",
        )
        (layout.observations_dir / f"{case_id}.yaml").write_text(
            _dump(obs_file, "# Synthetic first-order coding (benchmarks/bench.py).\n"),
            encoding="utf-8",
        )
    return layout


# --------------------------------------------------------------------------------------------
# Stages


@dataclass
class _State:
    layout: Layout
    out: Path
    rule: DiscriminatorRule = field(default_factory=lambda: DiscriminatorRule(3))
    study_: Study | None = None
    evidence: Evidence | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    results: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def study(self) -> Study:
        assert self.study_ is not None, "the load stage runs first"
        return self.study_


def _load(s: _State) -> None:
    s.study_ = load_study(s.layout)


def _first_order(s: _State) -> None:
    s.tables["table-3-first-order-observations"] = tables.data_display(s.study)
    s.tables["first-order-observations"] = tables.observations_table(s.study)
    s.tables["coding-coverage"] = tables.coverage_matrix(s.study)


def _second_order(s: _State) -> None:
    ev = s.evidence = collect(s.study, s.rule)
    s.tables["second-order-themes"] = tables.second_order_themes(s.study, ev)
    s.tables["theme-case-matrix"] = tables.theme_case_matrix(s.study, ev).reset_index()
    s.tables["table-3-cross-case-data-display"] = tables.data_display(s.study, ev)


def _comparison(s: _State) -> None:
    assert s.evidence is not None, "the second-order stage runs first"
    s.results["comparison"] = tables.comparison_table(s.study, s.evidence)
    s.results["discriminators"] = tables.discriminators_table(s.study, s.evidence)
    s.results["design-rules"] = tables.propositions_table(s.study, s.evidence)


def _robustness(s: _State) -> None:
    assert s.evidence is not None, "the second-order stage runs first"
    s.results["robustness-summary"] = tables.robustness_table(s.study, s.evidence)
    s.results["leave-one-case-out"] = tables.leave_one_case_out_table(s.evidence)
    s.results["threshold-sweep"] = tables.threshold_sweep_table(s.evidence, THRESHOLDS)


def _write(s: _State) -> None:
    for name, table in s.tables.items():
        write_table(table, s.out, name)


_RUN: dict[str, Callable[[_State], None]] = {
    "load": _load,
    "first-order": _first_order,
    "second-order": _second_order,
    "comparison": _comparison,
    "robustness": _robustness,
    "write": _write,
}


def _time(stage: Callable[[_State], None], state: _State, repeat: int) -> float:
    """Seconds of the fastest of up to ``repeat`` runs (repeated only while cheap)."""
    best, spent, runs = math.inf, 0.0, 0
    while runs < max(1, repeat) and (runs == 0 or spent < REPEAT_BUDGET):
        gc.collect()
        start = time.perf_counter()
        stage(state)
        took = time.perf_counter() - start
        best, spent, runs = min(best, took), spent + took, runs + 1
    return best


def _peak(stage: Callable[[_State], None], state: _State) -> int:
    """Peak bytes allocated during one traced run of the stage."""
    gc.collect()
    tracemalloc.start()
    try:
        stage(state)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run_benchmark(
    sizes: Sequence[int], seed: int = 0, repeat: int = 3, progress: bool = True
) -> pd.DataFrame:
    """Generate a case set of each size and measure every stage on it (see the module doc)."""
    rows: list[dict[str, Any]] = []
    # Objects that exist now (imported modules, mostly) are moved out of the collector's way, so
    # that the gc.collect() before each run costs what the benchmark itself allocated.
    gc.collect()
    gc.freeze()
    try:
        with tqdm(
            total=len(sizes) * len(STAGES), file=sys.stderr, disable=not progress, unit="stage"
        ) as bar:
            for size in sizes:
                rows += _measure_size(size, seed, repeat, bar)
    finally:
        gc.unfreeze()
    return pd.DataFrame(rows, columns=COLUMNS)


def _measure_size(size: int, seed: int, repeat: int, bar: Any) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="crosscase-bench-") as tmp:
        bar.set_description(f"{size} cases: generating")
        layout = generate_case_set(Path(tmp) / "project", size, seed)
        state = _State(layout, Path(tmp) / "tables")
        measured: list[tuple[str, float, int]] = []
        for stage in STAGES:
            bar.set_description(f"{size} cases: {stage}")
            seconds = _time(_RUN[stage], state, repeat)
            peak = _peak(_RUN[stage], state)
            measured.append((stage, seconds, peak))
            bar.update(1)
        return [
            {
                "size": size,
                "cases": len(state.study.cases),
                "observations": len(state.study.observations),
                "stage": stage,
                "seconds": seconds,
                "peak_mib": peak / 2**20,
            }
            for stage, seconds, peak in measured
        ]


# --------------------------------------------------------------------------------------------
# Analysis of the measurements


def totals(table: pd.DataFrame) -> pd.DataFrame:
    """Seconds of all stages together, per size (and the largest stage peak)."""
    out = table.groupby(["size", "cases", "observations"], sort=False, as_index=False).agg(
        seconds=("seconds", "sum"), peak_mib=("peak_mib", "max")
    )
    out.insert(3, "stage", "total")
    return out[COLUMNS]


def _fit(cases: Sequence[float], seconds: Sequence[float]) -> tuple[float, float, float] | None:
    """Slope, intercept and r² of log(seconds) on log(cases), over sizes >= FIT_MIN_CASES."""
    points = sorted((c, s) for c, s in zip(cases, seconds, strict=True) if c >= FIT_MIN_CASES)
    if len({c for c, _ in points}) < 2:
        return None
    x = np.log([c for c, _ in points])
    y = np.log([max(s, 1e-9) for _, s in points])
    from scipy.stats import linregress  # imported when needed: it takes a second

    res = linregress(x, y)
    return float(res.slope), float(res.intercept), float(res.rvalue) ** 2


def growth_exponents(table: pd.DataFrame) -> pd.DataFrame:
    """Per stage and for the total: the exponent b of seconds ~ cases^b, and the fit's r²."""
    rows = []
    for stage, group in pd.concat([table, totals(table)]).groupby("stage", sort=False):
        fit = _fit(list(group["cases"]), list(group["seconds"]))
        rows.append(
            {
                "stage": stage,
                "exponent": fit[0] if fit else math.nan,
                "r_squared": fit[2] if fit else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=["stage", "exponent", "r_squared"])


def bench_figure(table: pd.DataFrame, title: str | None = None) -> Figure:
    """Log-log plot of seconds against cases, one line per stage, the total dashed."""
    with plt.rc_context({"font.family": "DejaVu Sans", "font.size": 10}):
        fig, ax = plt.subplots(figsize=(7.5, 5))
        for stage, group in table.groupby("stage", sort=False):
            g = group.sort_values("cases")
            ax.plot(g["cases"], g["seconds"].clip(lower=1e-6), marker="o", label=str(stage))
        tot = totals(table).sort_values("cases")
        ax.plot(tot["cases"], tot["seconds"], "k--", marker="s", label="total")
        if len(tot) > 1:  # a slope-1 reference through the largest total
            c1, s1 = float(tot["cases"].iloc[-1]), float(tot["seconds"].iloc[-1])
            c0 = float(tot["cases"].iloc[0])
            ax.plot([c0, c1], [s1 * c0 / c1, s1], ":", color="grey", label="linear (slope 1)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("Cases")
        ax.set_ylabel("Seconds")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(title or "crosscase stages on synthetic case sets")
    return fig


def _format(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    for col, fmt in (
        ("seconds", "{:.4f}"),
        ("peak_mib", "{:.2f}"),
        ("exponent", "{:.2f}"),
        ("r_squared", "{:.3f}"),
    ):
        if col in out:
            out[col] = [fmt.format(v) if not pd.isna(v) else "" for v in out[col]]
    return out


def target_total(table: pd.DataFrame, target: int = TARGET_CASES) -> str:
    """The total time for about ``target`` cases, measured or estimated, labelled."""
    tot = totals(table)
    if tot.empty:
        return "no measurements"
    closest = tot.iloc[int(np.argmin([abs(math.log(c / target)) for c in tot["cases"]]))]
    c, s = int(closest["cases"]), float(closest["seconds"])
    measured = f"measured: {s:.2f} s for {c} cases (the measured size closest to {target})"
    if target / 1.25 <= c <= target * 1.25:
        return measured
    fit = _fit(list(tot["cases"]), list(tot["seconds"]))
    if fit is None:
        return measured + f"; too few sizes >= {FIT_MIN_CASES} to estimate {target} cases"
    slope, intercept, _ = fit
    fitted = [x for x in tot["cases"] if x >= FIT_MIN_CASES]
    how = "interpolated" if min(fitted) <= target <= max(fitted) else "extrapolated"
    estimate = math.exp(intercept) * target**slope
    return f"{how} from the fit of the total: {estimate:.2f} s for {target} cases; {measured}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="benchmarks/bench.py",
        description="Time every stage of the workflow on synthetic case sets of growing size.",
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", required=True, help="numbers of cases, e.g. 5 50 500"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder of the tables")
    parser.add_argument("--figures", type=Path, required=True, help="folder of the figure")
    parser.add_argument("--seed", type=int, default=0, help="seed of the case sets (default 0)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="best of up to this many runs for stages under 0.5 s (default 3)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.sizes):
        parser.error("every size must be at least 1")

    table = run_benchmark(args.sizes, args.seed, args.repeat, progress=not args.no_progress)
    exponents = growth_exponents(table)
    written = write_table(table, args.out, "bench")
    written += write_table(exponents, args.out, "bench-exponents")
    fig = bench_figure(table)
    written += write_figure(fig, args.figures, "bench")
    plt.close(fig)

    print("Seconds and peak traced memory (MiB) per stage and size:\n")
    print(to_markdown(_format(table)))
    print("Total per size:\n")
    print(to_markdown(_format(totals(table))))
    print(f"Growth exponents (seconds ~ cases^b, sizes >= {FIT_MIN_CASES}):\n")
    print(to_markdown(_format(exponents)))
    print(f"Total for {TARGET_CASES} cases: {target_total(table)}")
    print("Wrote: " + ", ".join(p.as_posix() for p in written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
