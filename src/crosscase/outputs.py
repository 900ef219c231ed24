"""Writing outputs: atomically, deterministically, in canonical and readable forms.

Tables are written as CSV (the canonical form) and as Markdown (for reading), so that the same
data give byte-identical files (figures: :mod:`crosscase.figures`). Every file is written to a
temporary name in its folder and then renamed, so an interrupted run never leaves a half-written
output behind.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: writing a file does not need pandas
    import pandas as pd


def _file_mode() -> int:
    """The mode a new file gets from the process's umask (e.g. 0644 under umask 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename. The file gets the
    permissions any new file would (the temporary file's private 0600 is not kept)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _cell(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    # Case text is data: escape anything HTML-like, and the pipes that delimit Markdown cells.
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def to_markdown(table: pd.DataFrame) -> str:
    """A complete Markdown rendering (no truncation) of ``table``, with cell text escaped."""
    from tabulate import tabulate

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


def write_jsonl(records: Iterable[Mapping[str, object]], folder: Path, name: str) -> Path:
    """Write ``<name>.jsonl`` into ``folder``, return its path: one JSON object per line, keys in
    the order given, UTF-8 text (not escaped), LF line ends (the same records, the same bytes)."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return atomic_write(folder / f"{name}.jsonl", text)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(paths: Iterable[Path], relative_to: Path) -> pd.DataFrame:
    """File, size and SHA-256 of each output, for the record (and for nbval to lock)."""
    import pandas as pd

    root, rows = relative_to.resolve(), []
    for p in paths:
        full = p.resolve()
        shown = full.relative_to(root).as_posix() if full.is_relative_to(root) else p.name
        rows.append({"file": shown, "bytes": p.stat().st_size, "sha256": sha256(p)})
    return pd.DataFrame(rows, columns=["file", "bytes", "sha256"])


_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)


def in_words(n: int) -> str:
    """A count as a title prints it: "five" (zero to twenty in words, then digits)."""
    words = _WORDS.split()
    return words[n] if 0 <= n < len(words) else str(n)


def plural(n: int, noun: str) -> str:
    """A count with its noun agreeing: "1 case", "2 cases"."""
    return f"{n} {noun if n == 1 else noun + 's'}"
