"""Cost of one long narrative in every stage that handles text, and how it grows.

``make bench`` (or ``python benchmarks/longtext.py --out DIR``). A sixth case is added to a copy of
the study whose narrative for one dimension is N characters of pseudo-text in sentences (a pasted
interview transcript), with one observation whose evidence passage is the narrative's last
sentence. For each N (default 100 KB, 300 KB, 1 MB, 3 MB, 5 MB), each stage runs once timed and
once under tracemalloc (peak memory of the stage):

- ``load``: :func:`crosscase.study.load_study` (YAML, validation, evidence located);
- ``tables``: the tables that carry narratives (Table 2, the data display, observations,
  coverage) rendered as CSV and Markdown;
- ``segment``: every narrative split into sentences
  (:func:`crosscase.assisted.segmentation.narrative_segments`);
- ``report``: the Markdown of Table 2 converted to an HTML page as the report does it (nbconvert).

The limits (:data:`crosscase.study.checks.MAX_NARRATIVE_CHARS`,
:data:`crosscase.study.yamlfile.MAX_FILE_BYTES`)
are lifted for the measurement, and stated in the output. Separately, ``crosscase validate`` is
timed, as a command, on the 5 MB case set with the limits in force: it must refuse it at once.
The growth exponent of each stage is the slope of log(seconds) on log(N) over the sizes measured.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench import _text  # noqa: E402  (the synthetic-text generator of the stage benchmark)

SIZES = [100_000, 300_000, 1_000_000, 3_000_000, 5_000_000]
DIMENSION = 1  # the long narrative is the second dimension's (index in the framework)


def _case_set(root: Path, size: int) -> tuple[Path, Path]:
    """A project copy with a sixth case whose narrative of one dimension has ``size`` characters;
    returns the project root and the case set's cases folder."""
    import yaml

    project = root / f"project-{size}"
    shutil.copytree(ROOT / "data" / "raw", project / "data" / "raw")
    (project / "pyproject.toml").write_text("[tool.crosscase]\n", encoding="utf-8")
    framework = yaml.safe_load((project / "data/raw/framework.yaml").read_text(encoding="utf-8"))
    dims = [d["id"] for d in framework["dimensions"]]
    rng = random.Random(size)
    narratives = {d: _text(rng, 300, 600) for d in dims}
    long = _text(rng, size, size + 200)[:size].rsplit(" ", 1)[0] + "."
    narratives[dims[DIMENSION]] = long
    last = long.rsplit(". ", 1)[-1]
    case = {
        "id": "long-case",
        "number": 6,
        "name": "Long case",
        "protocol": {f["id"]: "synthetic" for f in framework["case_protocol"]},
        "narratives": narratives,
    }
    coding = {
        "case": "long-case",
        "observations": [
            {
                "id": "c6-1",
                "dimension": dims[DIMENSION],
                "text": "The last sentence",
                "evidence": last,
            }
        ],
    }
    cases = project / "extension" / "cases"
    (project / "extension" / "observations").mkdir(parents=True)
    cases.mkdir(parents=True)
    dump = {"width": 10**9, "allow_unicode": True, "sort_keys": False}
    (cases / "long-case.yaml").write_text(yaml.safe_dump(case, **dump), encoding="utf-8")
    (project / "extension/observations/long-case.yaml").write_text(
        yaml.safe_dump(coding, **dump), encoding="utf-8"
    )
    return project, cases


def _measure(stage: Callable[[], Any]) -> tuple[float, float]:
    """Seconds of one run, and peak MiB of another (tracemalloc slows allocation-heavy code)."""
    gc.collect()
    start = time.perf_counter()
    stage()
    seconds = time.perf_counter() - start
    gc.collect()
    tracemalloc.start()
    try:
        stage()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return seconds, peak


def _stages(
    layout: Any, sources: list[str], study: Any, exporter: Any
) -> dict[str, Callable[[], Any]]:
    """The stages measured on one case set (see the module docstring)."""
    import nbformat

    from crosscase import tables
    from crosscase.assisted.segmentation import narrative_segments
    from crosscase.outputs import to_csv, to_markdown
    from crosscase.study import load_study

    table2 = tables.narratives_table(study)

    def render_tables() -> None:
        for t in (
            table2,
            tables.data_display(study),
            tables.observations_table(study),
            tables.coverage_matrix(study),
        ):
            to_csv(t)
            to_markdown(t)

    def report() -> None:
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("nb.table(...)", execution_count=1)
        cell.outputs = [
            nbformat.v4.new_output("display_data", data={"text/markdown": to_markdown(table2)})
        ]
        nb.cells = [cell]
        exporter.from_notebook_node(nb)

    return {
        "load": lambda: load_study(layout, sources, require_theme_evidence=False),
        "tables": render_tables,
        "segment": lambda: narrative_segments(study),
        "report": report,
    }


def measure(sizes: list[int]) -> list[dict[str, Any]]:
    from nbconvert import HTMLExporter

    from crosscase.paths import Layout
    from crosscase.study import checks, load_study, yamlfile

    limits = (checks.MAX_NARRATIVE_CHARS, yamlfile.MAX_FILE_BYTES)
    checks.MAX_NARRATIVE_CHARS, yamlfile.MAX_FILE_BYTES = 10**9, 10**10
    exporter = HTMLExporter(template_name="basic")
    exporter.from_notebook_node(__import__("nbformat").v4.new_notebook())  # compile templates once
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="crosscase-longtext-") as tmp:
            for size in sizes:
                project, cases = _case_set(Path(tmp), size)
                layout = Layout.at(project)
                sources = [str(layout.cases_dir), str(cases)]
                study = load_study(layout, sources, require_theme_evidence=False)
                stages = _stages(layout, sources, study, exporter)
                for name, stage in stages.items():
                    seconds, peak = _measure(stage)
                    rows.append(
                        {"chars": size, "stage": name, "seconds": seconds, "peak_mib": peak}
                    )
                    print(
                        f"  {size:>9,} chars  {name:<8} {seconds:8.2f} s {peak:8.1f} MiB",
                        file=sys.stderr,
                    )
    finally:
        checks.MAX_NARRATIVE_CHARS, yamlfile.MAX_FILE_BYTES = limits
    return rows


def refusal_seconds(size: int = 5_000_000) -> tuple[float, str]:
    """Wall time of ``crosscase validate`` on a case set with a ``size`` narrative, limits in
    force (a new process, as a user runs it), and the first line of what it says."""
    with tempfile.TemporaryDirectory(prefix="crosscase-refusal-") as tmp:
        project, cases = _case_set(Path(tmp), size)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSCASE_")}
        cli = Path(sys.executable).parent / "crosscase"
        start = time.perf_counter()
        done = subprocess.run(
            [str(cli), "validate", "data/raw/cases", str(cases)],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
        )
        took = time.perf_counter() - start
    said = (done.stderr or done.stdout).strip().splitlines()
    return took, " / ".join(line.strip() for line in said[:2])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/longtext.py", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="folder of the tables")
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES, help="characters")
    args = parser.parse_args(argv)
    import numpy as np
    import pandas as pd

    from crosscase.outputs import to_markdown, write_table

    table = pd.DataFrame(measure(args.sizes))
    exponents = []
    for stage, group in table.groupby("stage", sort=False):
        slope = np.polyfit(np.log(group["chars"]), np.log(group["seconds"].clip(lower=1e-6)), 1)[0]
        exponents.append({"stage": stage, "exponent": round(float(slope), 2)})
    exp = pd.DataFrame(exponents)
    took, said = refusal_seconds()
    shown = table.assign(seconds=table["seconds"].round(3), peak_mib=table["peak_mib"].round(1))
    write_table(shown, args.out, "bench-longtext")
    write_table(exp, args.out, "bench-longtext-exponents")
    print("One long narrative (limits lifted for the measurement): seconds and peak MiB\n")
    print(to_markdown(shown))
    print("Growth exponents (seconds ~ chars^b):\n")
    print(to_markdown(exp))
    print(f"crosscase validate on a 5,000,000-character narrative, limits in force: {took:.2f} s")
    print(f"  it says: {said}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
