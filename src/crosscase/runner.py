"""Execute a parameterised notebook with papermill, strictly, and keep it clean for git.

papermill only warns about a parameter the notebook does not declare and runs with the default;
:func:`execute` refuses it instead. :func:`clean` removes what papermill and Jupyter stamp on a
notebook on every run (timings, random ids of the injected cell), so that re-executing a notebook
with unchanged inputs leaves it byte-identical.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class ParameterError(ValueError):
    """A parameter the notebook does not declare (probably misspelt)."""


def declared_parameters(notebook: Path) -> dict[str, Any]:
    """The parameters a notebook declares in its cell tagged ``parameters``."""
    import papermill

    return dict(papermill.inspect_notebook(str(notebook)))


def check_parameters(notebook: Path, parameters: Mapping[str, object]) -> None:
    declared = declared_parameters(notebook)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ParameterError(
            f"{notebook.name}: unknown parameter(s) {', '.join(unknown)}; "
            f"this notebook declares: {', '.join(declared) or 'none'}"
        )


def execute(
    notebook: Path,
    output: Path,
    parameters: Mapping[str, object] | None = None,
    kernel: str | None = None,
    cwd: Path | None = None,
) -> None:
    """Check the parameters, execute ``notebook`` into ``output`` and clean the result."""
    import papermill

    parameters = dict(parameters or {})
    check_parameters(notebook, parameters)
    output.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(notebook),
        str(output),
        parameters=parameters or None,
        kernel_name=kernel,
        cwd=str(cwd) if cwd else None,
        progress_bar=False,
    )
    clean(output)


def clean(path: Path) -> None:
    """Strip per-run metadata (papermill timings and status, execution timestamps)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb.get("metadata", {}).pop("papermill", None)
    for i, cell in enumerate(nb.get("cells", [])):
        meta = cell.get("metadata", {})
        meta.pop("papermill", None)
        meta.pop("execution", None)
        if "injected-parameters" in meta.get("tags", []):
            cell["id"] = f"injected-parameters-{i}"
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
