"""The map from each table and figure of the paper to the notebook that makes it and the files it
writes (``notebooks/paper-map.yaml``). ``crosscase outputs`` prints it (or, for a run compared
with a baseline, what changed), ``make`` ends with it, and the report builds its index from it.
Kept light (no pandas) so that a ``make`` with nothing to do stays fast."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml

from ..paths import Layout


def load_map(layout: Layout) -> list[dict[str, Any]]:
    """The items of the paper map."""
    text = layout.paper_map_file.read_text(encoding="utf-8")
    items: list[dict[str, Any]] = yaml.safe_load(text)["items"]
    return items


def item_tables(item: dict[str, Any], folder: Path) -> list[str]:
    """An item's tables, with those it writes only when compared with a baseline (``compared``)
    when ``folder`` has them."""
    compared = [t for t in item.get("compared", []) if (folder / f"{t}.csv").exists()]
    return [*item.get("tables", []), *compared]


def output_map(layout: Layout, run: str) -> str:
    """Where each item of the paper was written in ``run``: a row per item, each output file on
    a line of its own (the tables of what changed when the run has them: :func:`item_tables`)."""
    tables, figures = layout.tables_dir(run), layout.figures_dir(run)
    rows: list[tuple[str, str, list[str]]] = []
    for item in load_map(layout):
        outs = [f"{layout.relative(tables / t)}.{{csv,md}}" for t in item_tables(item, tables)]
        outs += [f"{layout.relative(figures / f)}.{{png,svg}}" for f in item.get("figures", [])]
        outs += [layout.relative(tables / f) for f in item.get("files", [])]
        rows.append((str(item["item"]), str(item["notebook"]), outs))
    first = max([len("Paper item")] + [len(r[0]) for r in rows]) + 2
    second = max([len("Notebook")] + [len(r[1]) for r in rows]) + 2
    lines = [f"{'Paper item':<{first}}{'Notebook':<{second}}Output"]
    for name, notebook, outs in rows:
        lines.append(f"{name:<{first}}{notebook:<{second}}{outs[0] if outs else ''}")
        lines += [" " * (first + second) + out for out in outs[1:]]
    lines.append(f"Executed notebooks: {layout.relative(layout.executed_dir(run))}/")
    return "\n".join(lines)


def title(item: dict[str, Any], n_cases: int | None) -> str:
    """An item's title, with ``{cases}`` filled in with the run's number of cases in words."""
    from ..outputs import in_words

    return str(item["title"]).format(cases=in_words(n_cases) if n_cases else "the")


def what_changed(layout: Layout, run: str) -> list[str]:
    """What changed in ``run`` against its baseline: each row of the tables its notebooks write
    only when compared (``compared`` in the map: a ``status``, a ``label``, its ``cases`` and
    ``baseline_cases``), item by item."""
    folder = layout.tables_dir(run)
    lines = []
    for item in load_map(layout):
        for name in item.get("compared", []):
            path = folder / f"{name}.csv"
            if not path.is_file():
                continue
            lines.append(f"What changed in {item['item']} ({layout.relative(path)}):")
            with path.open(encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh):
                    now, then = row["cases"] or "no case", row.get("baseline_cases") or ""
                    cases = now if not then or then == now else f"{then} -> {now}"
                    lines.append(f"  {row['status']:<29} {row['label']} ({cases})")
    return lines
