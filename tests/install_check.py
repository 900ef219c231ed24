"""Run by `make install-check` in a fresh virtual environment holding only `pip install .[all]`:
every module of the package imports, the report's templates ship with it, and the command runs.
(Not collected by pytest: its name does not start with test_.)"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import crosscase
from crosscase.report.build import _css, _environment

modules = sorted(m.name for m in pkgutil.walk_packages(crosscase.__path__, "crosscase."))
for name in modules:
    importlib.import_module(name)
assert _css() and _environment().get_template("index.html.j2")
subprocess.run([sys.executable, "-m", "crosscase.cli", "--help"], check=True, capture_output=True)
print(f"install check: {len(modules)} modules imported from {crosscase.__file__}")
