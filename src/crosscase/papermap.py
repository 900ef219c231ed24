"""The map from each table and figure of the paper to the notebook that makes it and the files it
writes (``notebooks/paper-map.yaml``). ``crosscase outputs`` prints it, ``make`` ends with it,
and the report builds its index from it. Kept light (no pandas) so that a ``make`` with nothing
to do stays fast."""

from __future__ import annotations

from typing import Any

import yaml

from .paths import Layout


def load_map(layout: Layout) -> list[dict[str, Any]]:
    """The items of the paper map."""
    text = layout.paper_map_file.read_text(encoding="utf-8")
    items: list[dict[str, Any]] = yaml.safe_load(text)["items"]
    return items


def output_map(layout: Layout, run: str) -> str:
    """Where each item of the paper was written in ``run``: one line per item."""
    tables, figures = layout.tables_dir(run), layout.figures_dir(run)
    lines = [f"{'Paper item':<30}{'Notebook':<38}Output"]
    for item in load_map(layout):
        outs = [f"{layout.relative(tables / t)}.{{csv,md}}" for t in item.get("tables", [])]
        outs += [f"{layout.relative(figures / f)}.{{png,svg}}" for f in item.get("figures", [])]
        outs += [layout.relative(tables / f) for f in item.get("files", [])]
        lines.append(f"{item['item']:<30}{item['notebook']:<38}{', '.join(outs)}")
    lines.append(f"Executed notebooks: {layout.relative(layout.executed_dir(run))}/")
    return "\n".join(lines)


def title(item: dict[str, Any], n_cases: int | None) -> str:
    """An item's title, with ``{cases}`` filled in with the run's number of cases in words."""
    from .outputs import in_words

    return str(item["title"]).format(cases=in_words(n_cases) if n_cases else "the")
