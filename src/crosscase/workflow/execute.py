"""Execute a parameterised notebook with papermill, strictly, and keep it clean for git.

The parameters of a notebook are known in one place, its cell tagged ``parameters``:
:func:`execute` gives a notebook exactly the run-level parameters it declares (run name, case
set, rule) and refuses an explicit parameter it does not declare (papermill alone only warns and
runs with the default). The notebook is executed into a temporary file and moved into place only
when it succeeds, so a failed run leaves the earlier executed notebook intact; :func:`clean`
removes what papermill and Jupyter stamp on a notebook on every run (timings, random ids), so
that re-executing it with unchanged inputs leaves it byte-identical.
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class ParameterError(ValueError):
    """A parameter the notebook does not declare (probably misspelt)."""


class NotebookFailed(RuntimeError):
    """A notebook stopped with an error; ``message`` says what, ``saved`` where the failed copy
    is (for inspection)."""

    def __init__(self, notebook: Path, message: str, saved: Path) -> None:
        self.notebook, self.message, self.saved = notebook, message, saved
        super().__init__(f"{notebook.name}: {message}")


def declared_parameters(notebook: Path) -> dict[str, Any]:
    """The parameters a notebook declares in its cell tagged ``parameters`` (name -> default
    as written), read from the notebook's JSON without starting anything."""
    for cell in json.loads(notebook.read_text(encoding="utf-8")).get("cells", []):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.get("cell_type") != "code" or "parameters" not in tags:
            continue
        source = "".join(cell.get("source", []))
        names: dict[str, Any] = {}
        for node in ast.parse(source).body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names[target.id] = ast.get_source_segment(source, node.value)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names[node.target.id] = ast.get_source_segment(source, node.value or node)
        return names
    return {}


def parameters_for(
    notebook: Path,
    run_parameters: Mapping[str, object] | None = None,
    parameters: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """The parameters to give ``notebook``: the run-level ones it declares, then the explicit
    ones (each of which it must declare)."""
    declared, explicit = declared_parameters(notebook), dict(parameters or {})
    if unknown := sorted(set(explicit) - set(declared)):
        raise ParameterError(
            f"{notebook.name}: unknown parameter(s) {', '.join(unknown)}; "
            f"this notebook declares: {', '.join(declared) or 'none'}"
        )
    given = {k: v for k, v in (run_parameters or {}).items() if k in declared}
    return {**given, **explicit}


def kernel_manager() -> type:
    """A kernel manager whose kernels talk over local IPC sockets, not TCP (nothing listens on a
    port, and the kernel has no reason to warn about unencrypted TCP on every run), and that
    shuts a finished notebook's kernel down without first interrupting it (jupyter_client sends
    SIGINT before the shutdown request, which a kernel still flushing its last message logs as
    'KeyboardInterrupt caught in kernel')."""
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.transport = "ipc"
            # Socket files of concurrent kernels must not collide: a prefix of their own.
            runtime = Path(jupyter_runtime_dir())
            runtime.mkdir(parents=True, exist_ok=True)
            self.ip = str(runtime / f"crosscase-{uuid.uuid4().hex}")

        async def _async_interrupt_kernel(self) -> None:
            if not self.shutting_down:  # an interrupt asked for while running, not on shutdown
                await super()._async_interrupt_kernel()

    return IPCKernelManager


def _error_text(exc: BaseException) -> str:
    """The notebook's own error, without papermill's traceback: a StudyDataError's report, or the
    exception's last line."""
    name = getattr(exc, "ename", type(exc).__name__)
    value = str(getattr(exc, "evalue", exc))
    return value if name == "StudyDataError" else f"{name}: {value}"


def execute(
    notebook: Path,
    output: Path,
    parameters: Mapping[str, object] | None = None,
    kernel: str | None = None,
    cwd: Path | None = None,
    run_parameters: Mapping[str, object] | None = None,
) -> None:
    """Execute ``notebook`` into ``output`` with its parameters (see :func:`parameters_for`) and
    clean the result; on failure keep ``output`` as it was and raise :class:`NotebookFailed`."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    given = parameters_for(notebook, run_parameters, parameters)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.stem}.running.ipynb")
    try:
        papermill.execute_notebook(
            str(notebook),
            str(partial),
            parameters=given or None,
            kernel_name=kernel,
            cwd=str(cwd) if cwd else None,
            progress_bar=False,
            log_output=False,
            kernel_manager_class=kernel_manager(),
        )
    except PapermillExecutionError as exc:
        failed = output.parent / "failed" / output.name
        failed.parent.mkdir(parents=True, exist_ok=True)
        if partial.exists():
            os.replace(partial, failed)
        raise NotebookFailed(notebook, _error_text(exc), failed) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    clean(partial)
    os.replace(partial, output)


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
