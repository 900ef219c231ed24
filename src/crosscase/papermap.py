"""The map from each table and figure of the paper to the notebook that makes it and the files it
writes (``notebooks/paper-map.yaml``). ``python -m crosscase.papermap --run paper`` prints it;
``make`` ends with it. Kept light (no pandas) so that a ``make`` with nothing to do stays fast."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .paths import Layout

DEFAULT_MAP = "notebooks/paper-map.yaml"


def load_map(path: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
    return items


def output_map(paper_map: list[dict[str, Any]], run: str) -> str:
    """Where each item of the paper was written: one line per item."""
    lines = [f"{'Paper item':<30}{'Notebook':<38}Output"]
    for item in paper_map:
        outs = [f"data/processed/{run}/{t}.{{csv,md}}" for t in item.get("tables", [])]
        outs += [f"figures/{run}/{f}.{{png,svg}}" for f in item.get("figures", [])]
        lines.append(f"{item['item']:<30}{item['notebook']:<38}{', '.join(outs)}")
    lines.append(f"Executed notebooks: build/{run}/")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crosscase.papermap", description=__doc__)
    parser.add_argument("--run", default="paper")
    parser.add_argument("--map", default=DEFAULT_MAP)
    args = parser.parse_args(argv)
    print(output_map(load_map(Layout.discover().resolve(args.map)), args.run))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
