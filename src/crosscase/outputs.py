"""Writing tables and figures: atomically, deterministically, in canonical and readable forms.

Tables are written as CSV (the canonical form) and as Markdown (for reading); figures as PNG and
SVG with no timestamps, version strings or random ids, so that the same data give byte-identical
files. Every file is written to a temporary name in its folder and then renamed, so an interrupted
run never leaves a half-written output behind.
"""

from __future__ import annotations

import hashlib
import html
import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure
from tabulate import tabulate

#: Fixed salt for the ids matplotlib writes into SVG files (otherwise random per run).
SVG_HASH_SALT = "crosscase"


def atomic_write(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _cell(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    # Case text is data: escape anything HTML-like, and the pipes that delimit Markdown cells.
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def to_markdown(table: pd.DataFrame) -> str:
    """A complete Markdown rendering (no truncation) of ``table``, with cell text escaped."""
    rows = [[_cell(v) for v in row] for row in table.itertuples(index=False, name=None)]
    headers = [_cell(c) for c in table.columns]
    return tabulate(rows, headers=headers, tablefmt="pipe", disable_numparse=True) + "\n"


def to_csv(table: pd.DataFrame) -> str:
    """The canonical CSV form: UTF-8, LF line ends, no index."""
    return str(table.to_csv(index=False, lineterminator="\n"))


def write_table(table: pd.DataFrame, folder: Path, name: str) -> list[Path]:
    """Write ``<name>.csv`` and ``<name>.md`` into ``folder``; return their paths."""
    return [
        atomic_write(folder / f"{name}.csv", to_csv(table)),
        atomic_write(folder / f"{name}.md", to_markdown(table)),
    ]


def figure_bytes(fig: Figure, fmt: str, dpi: int = 150) -> bytes:
    """Render ``fig`` to PNG or SVG bytes with no timestamps, software versions or random ids."""
    buf = io.BytesIO()
    metadata: dict[str, str | None]
    if fmt == "png":
        metadata = {"Software": None}
    elif fmt == "svg":
        metadata = {"Date": None, "Creator": None}
    else:
        raise ValueError(f"unsupported figure format {fmt!r}")
    with mpl.rc_context({"svg.hashsalt": SVG_HASH_SALT, "svg.fonttype": "path"}):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata, bbox_inches="tight")
    return buf.getvalue()


def write_figure(fig: Figure, folder: Path, name: str) -> list[Path]:
    """Write ``<name>.png`` and ``<name>.svg`` into ``folder``; return their paths."""
    return [
        atomic_write(folder / f"{name}.{fmt}", figure_bytes(fig, fmt)) for fmt in ("png", "svg")
    ]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(paths: Iterable[Path], relative_to: Path) -> pd.DataFrame:
    """File, size and SHA-256 of each output, for the record (and for nbval to lock)."""
    rows = []
    for p in paths:
        try:
            shown = p.resolve().relative_to(relative_to.resolve()).as_posix()
        except ValueError:
            shown = p.name
        rows.append({"file": shown, "bytes": p.stat().st_size, "sha256": sha256(p)})
    return pd.DataFrame(rows, columns=["file", "bytes", "sha256"])
