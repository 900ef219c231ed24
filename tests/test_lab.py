"""The reviewer's path, walked as a reviewer walks it (docs/reviewing.md): `make lab` started as
the guide says, the address read from what it prints, a notebook opened from JupyterLab's file
browser in Chromium, its outputs cleared and Run All chosen from JupyterLab's own menus. Every
code cell runs, in order, with no error output and no kernel dialog; the tables it shows equal
the ones the committed notebook locks, and the files its manifest lists are written, byte for
byte.

JupyterLab writes (autosave, checkpoints, workspaces) and so does the kernel: the server runs in
a copy of the project, with Jupyter's settings, runtime files and workspaces and the notebook's
outputs (``CROSSCASE_OUTPUT_ROOT``) in temporary folders, so nothing the compendium tracks or
`make` made is touched. The server is stopped, and its process group and kernels killed, in a
``finally``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from conftest import CHROMIUM_ARGS, ROOT, need_chromium, project_copy

NOTEBOOK = "03-second-order-themes.ipynb"
#: How `make lab` is started: as docs/reviewing.md gives it for a machine without a desktop
#: browser (a server, a container, CI), on a free port.
LAB_COMMAND = ["make", "lab", "LAB_ARGS=--no-browser --port=0"]
#: The address JupyterLab prints, with its token.
ADDRESS = re.compile(r"http://127\.0\.0\.1:\d+/lab\?token=[0-9a-f]+")
#: Seconds `make lab` may take to print its address (it takes a few; the machine may be busy).
STARTUP = 90
SCREENSHOT = ROOT / "build" / "test-artifacts" / "lab-run-all.png"
STDERR = "application/vnd.jupyter.stderr"  # how JupyterLab renders stderr and tracebacks


@dataclass
class Lab:
    """A running `make lab`: its address, how long it took to print it, what it printed."""

    url: str
    seconds: float
    project: Path
    output_root: Path
    printed: list[str] = field(default_factory=list)


def _reviewer_env(tmp: Path) -> dict[str, str]:
    """A reviewer's shell: no make of ours around it (the test runs under `make test`, whose
    MAKEFLAGS would pass its own options down), no desktop, Jupyter's state in ``tmp``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "DISPLAY"}
        and k != "WAYLAND_DISPLAY"
        and not k.startswith(("JUPYTER", "CROSSCASE_"))
    }
    env.update(
        {
            "CROSSCASE_OUTPUT_ROOT": str(tmp / "outputs"),
            "JUPYTER_CONFIG_DIR": str(tmp / "jupyter" / "config"),
            "JUPYTER_DATA_DIR": str(tmp / "jupyter" / "data"),
            "JUPYTER_RUNTIME_DIR": str(tmp / "jupyter" / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(tmp / "jupyter" / "lab-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "jupyter" / "lab-workspaces"),
        }
    )
    return env


def _stop(proc: subprocess.Popen[str]) -> None:
    """Stop `make lab`: SIGTERM to its process group (JupyterLab shuts its kernels down), then
    SIGKILL to whatever is left of the group and of its descendants (kernels run in sessions of
    their own)."""
    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            continue
        break
    _, alive = psutil.wait_procs(family, timeout=10)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """`make lab` in a copy of the project, running until the module's tests are done."""
    tmp = tmp_path_factory.mktemp("lab")
    project = project_copy(tmp / "project")
    env = _reviewer_env(tmp)
    start = time.monotonic()
    proc = subprocess.Popen(
        LAB_COMMAND,
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    printed: list[str] = []
    found: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            printed.append(line)
            match = ADDRESS.search(line)
            if match:
                found.put(match.group(0))
        found.put(None)  # make ended

    threading.Thread(target=read, daemon=True).start()
    try:
        try:
            url = found.get(timeout=STARTUP)
        except queue.Empty:
            url = None
        seconds = time.monotonic() - start
        if url is None:
            pytest.fail(
                f"`{' '.join(LAB_COMMAND)}` printed no address in {seconds:.0f} s; it printed:\n"
                + "".join(printed[-30:])
            )
        yield Lab(url, seconds, project, Path(env["CROSSCASE_OUTPUT_ROOT"]), printed)
    finally:
        _stop(proc)


def test_make_lab_prints_its_address_within_seconds(lab: Lab) -> None:
    """As root too (this machine and CI run as root), with no terminal: the address is printed
    as JupyterLab prints it, not held back until make ends."""
    assert lab.seconds < 60, f"the address took {lab.seconds:.0f} s"


def _cells(path: Path) -> list[dict]:
    return list(json.loads(path.read_text(encoding="utf-8"))["cells"])


def _locked_tables(path: Path) -> list[list[list[str]]]:
    """The Markdown tables a notebook's stored outputs hold: rows of cell texts, header first."""
    tables: list[list[list[str]]] = []
    for cell in _cells(path):
        for out in cell.get("outputs", []):
            rows: list[list[str]] = []
            for line in "".join(out.get("data", {}).get("text/markdown", "")).splitlines():
                if not line.startswith("|"):
                    if rows:
                        tables.append(rows)
                        rows = []
                    continue
                cells = [" ".join(c.split()) for c in line.strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-+:?", c) for c in cells):  # the rule line
                    rows.append(cells)
            if rows:
                tables.append(rows)
    return tables


#: The rendered Markdown tables of the notebook's outputs, rows of cell texts, header first.
_SHOWN_TABLES = """panel => [...panel.querySelectorAll('.jp-OutputArea .jp-RenderedMarkdown table')]
    .map(t => [...t.rows].map(r => [...r.cells].map(c => c.textContent.split(/\\s+/)
    .filter(Boolean).join(' '))))"""
_KERNEL_READY_OR_DIALOG = """() => document.querySelector('.jp-Dialog') !== null ||
    [...document.querySelectorAll('.jp-StatusBar-TextItem')]
    .some(e => e.textContent.trim().endsWith('| Idle'))"""
#: The execution prompts of the notebook's code cells ("[1]:", "[*]:", "[ ]:").
_PROMPTS = """panel => [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .map(e => e.textContent.trim())"""
_ALL_RUN = """n => {
    const prompts = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')]
        .map(e => e.textContent.trim());
    const idle = [...document.querySelectorAll('.jp-StatusBar-TextItem')]
        .some(e => e.textContent.trim().endsWith('| Idle'));
    return idle && prompts.length === n && prompts.every(p => /^\\[\\d+\\]:$/.test(p));
}"""


#: The notebook's tab no longer marks unsaved changes.
_SAVED = """() => {
    const tab = document.querySelector('.lm-TabBar-tab.lm-mod-current');
    return tab !== null && !tab.classList.contains('jp-mod-dirty');
}"""


def _menu(page, menu: str, item: str) -> None:
    """Choose ``item`` from JupyterLab's menu bar menu ``menu``, as a reviewer clicks it."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{menu}$")).click()
    label = page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$"))
    page.locator(".lm-Menu-item").filter(has=label).click()


#: The Python version in a notebook's language_info (codemirror_mode's version is a number).
_LANGUAGE_VERSION = re.compile(r'("language_info": \{.*?"version": ")([^"]*)(")', re.DOTALL)


def _python_version_of(notebook_text: str) -> str:
    return json.loads(notebook_text)["metadata"]["language_info"]["version"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def chromium() -> str:
    return need_chromium()


def test_run_all_in_jupyterlab_reproduces_the_locked_tables(chromium: str, lab: Lab) -> None:
    from playwright.sync_api import sync_playwright

    committed = ROOT / "notebooks" / NOTEBOOK
    committed_before = _sha256(committed)
    code_cells = sum(c["cell_type"] == "code" for c in _cells(committed))
    locked = _locked_tables(committed)
    assert len(locked) >= 4  # three tables of the study and the output manifest
    origin = lab.url.split("/lab?")[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        outside: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(origin) else outside.append(r.url))
        try:
            page.goto(lab.url)
            page.locator(".jp-DirListing-item", has_text=NOTEBOOK).dblclick()
            panel = page.locator(".jp-NotebookPanel")
            panel.wait_for()
            page.wait_for_function(_KERNEL_READY_OR_DIALOG, timeout=60_000)
            dialogs = page.locator(".jp-Dialog")
            assert dialogs.count() == 0, f"a dialog on opening: {dialogs.first.inner_text()}"

            _menu(page, "Edit", "Clear Outputs of All Cells")
            assert panel.evaluate(_SHOWN_TABLES) == []
            _menu(page, "Run", "Run All Cells")
            page.wait_for_function(_ALL_RUN, arg=code_cells, timeout=180_000)

            prompts = panel.evaluate(_PROMPTS)
            assert prompts == [f"[{i}]:" for i in range(1, code_cells + 1)]
            errors = panel.locator(f'.jp-OutputArea-output[data-mime-type="{STDERR}"]')
            assert errors.count() == 0, errors.all_inner_texts()
            assert dialogs.count() == 0, f"a dialog after Run All: {dialogs.first.inner_text()}"
            shown = panel.evaluate(_SHOWN_TABLES)
            _menu(page, "File", "Save Notebook")
            page.wait_for_function(_SAVED, timeout=30_000)
        finally:
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            browser.close()
    assert shown == locked
    # The manifest (the last table: file, bytes, sha256) is what this run wrote, byte for byte.
    manifest = shown[-1]
    assert manifest[0] == ["file", "bytes", "sha256"] and len(manifest) > 1
    for name, size, digest in manifest[1:]:
        written = lab.output_root / name
        assert written.stat().st_size == int(size) and _sha256(written) == digest, name
    assert outside == [], f"requests leaving the machine: {outside}"
    assert _sha256(committed) == committed_before, "the committed notebook was modified"
    # Saved after Run All, the reviewer's copy is the committed notebook again, byte for byte
    # (but for the kernel's Python patch version, which is the machine's).
    saved = (lab.project / "notebooks" / NOTEBOOK).read_text(encoding="utf-8")
    assert _python_version_of(saved) == sys.version.split()[0]
    locked = committed.read_text(encoding="utf-8")
    assert _LANGUAGE_VERSION.sub(rf"\g<1>{_python_version_of(locked)}\g<3>", saved) == locked
