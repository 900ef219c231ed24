"""Wall time of the workflow (``make`` after ``make clean``) against its floor, in one run.

``make bench`` (or ``python benchmarks/workflow.py --out DIR``). Three copies of the project
share the environment and differ only in their notebooks:

- ``workflow``: the notebooks as they are;
- ``imports floor``: each notebook cut down to its parameters cell and its own import lines
  (the runner process, the kernel start and the imports the notebook needs, no work);
- ``bare floor``: each notebook cut down to its parameters cell (the runner and the kernel).

Each copy runs ``make clean && make`` (``-j2``, as on the command line) ``--repeat`` times,
interleaved so that the three see the same machine load; the median is reported, with the ratio
to each floor. ``make``'s own steps (recording the run, validating the case set once) are in all
three, as they are in every ``make``. With ``--test``, ``make test`` in the project itself (its
outputs go to a temporary folder) is timed in the same rounds, against the same floors.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("workflow", "imports floor", "bare floor")


def _cut(notebook: dict, keep_imports: bool) -> dict:
    """The notebook with its parameters cell and (optionally) the import lines of its code."""
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if "parameters" in cell["metadata"].get("tags", []):
            cells.append(cell)
        elif keep_imports:
            lines = [ln for ln in source.splitlines() if ln.startswith(("import ", "from "))]
            if lines:
                cells.append({**cell, "source": "\n".join(lines), "outputs": []})
    return {**notebook, "cells": cells}


def project(base: Path, variant: str) -> Path:
    """A copy of the project for ``variant`` (environment and package shared by symlink)."""
    target = base / variant.replace(" ", "-")
    target.mkdir(parents=True)
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy2(ROOT / name, target / name)
    shutil.copytree(ROOT / "data" / "raw", target / "data" / "raw")
    for name in (".venv", "src"):
        (target / name).symlink_to(ROOT / name)
    for name in ("pyproject.toml", "requirements.lock"):  # never remake the shared environment
        os.utime(target / name, (0, 0))
    (target / "notebooks").mkdir()
    shutil.copy2(ROOT / "notebooks" / "paper-map.yaml", target / "notebooks" / "paper-map.yaml")
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        data = json.loads(nb.read_text(encoding="utf-8"))
        if variant != "workflow":
            data = _cut(data, keep_imports=variant == "imports floor")
        (target / "notebooks" / nb.name).write_text(json.dumps(data, indent=1), encoding="utf-8")
    return target


def time_make(folder: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CROSSCASE_", "MAKE"))}
    subprocess.run(["make", "clean"], cwd=folder, env=env, check=True, capture_output=True)
    start = time.perf_counter()
    done = subprocess.run(["make"], cwd=folder, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"make failed in {folder}:\n{done.stderr[-2000:]}")
    return took


def time_test() -> float:
    """``make test`` in the project, timed (it writes its outputs to a temporary folder)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CROSSCASE_", "MAKE"))}
    start = time.perf_counter()
    done = subprocess.run(["make", "test"], cwd=ROOT, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"make test failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return took


def measure(repeat: int, test: bool) -> dict[str, list[float]]:
    variants = [*VARIANTS, *(["make test"] if test else [])]
    times: dict[str, list[float]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory(prefix="crosscase-workflow-bench-") as tmp:
        folders = {v: project(Path(tmp), v) for v in VARIANTS}
        if repeat > 1:  # warm the file cache and the kernel spec lookup once
            for folder in folders.values():
                time_make(folder)
        for i in range(repeat):
            for v in variants:
                times[v].append(time_test() if v == "make test" else time_make(folders[v]))
                print(f"  round {i + 1}: {v} {times[v][-1]:.1f} s", file=sys.stderr)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/workflow.py", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="folder of the table")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each variant (default 3)")
    parser.add_argument("--test", action="store_true", help="also time `make test`")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    import pandas as pd

    from crosscase.outputs import to_markdown, write_table

    times = measure(args.repeat, args.test)
    median = {v: statistics.median(t) for v, t in times.items()}
    table = pd.DataFrame(
        [
            {
                "variant": v,
                "median_seconds": round(median[v], 2),
                "min_seconds": round(min(times[v]), 2),
                "ratio_to_imports_floor": round(median[v] / median["imports floor"], 2),
                "ratio_to_bare_floor": round(median[v] / median["bare floor"], 2),
            }
            for v in times
        ]
    )
    write_table(table, args.out, "bench-workflow")
    print(f"`make` after `make clean` (and `make test`), seconds (median of {args.repeat}):\n")
    print(to_markdown(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
