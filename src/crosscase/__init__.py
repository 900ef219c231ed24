"""crosscase: cross-case qualitative analysis for multiple-case studies.

Load and validate case data against a research framework (:mod:`crosscase.study`), build the
cross-case displays and second-order theme tables (:mod:`crosscase.analysis`), write tables and
figures deterministically (:mod:`crosscase.outputs`, :mod:`crosscase.figures`), and run
parameterised notebooks (:mod:`crosscase.notebook`, :mod:`crosscase.runner`).

The names below are imported on first use, so that light commands (``make``'s output map) do
not pay for pandas and pydantic.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .analysis import DiscriminatorRule
    from .paths import Layout, project_root
    from .problems import Problem, StudyDataError
    from .study import Study, load_framework, load_study

_WHERE = {
    "DiscriminatorRule": "analysis",
    "Layout": "paths",
    "project_root": "paths",
    "Problem": "problems",
    "StudyDataError": "problems",
    "Study": "study",
    "load_framework": "study",
    "load_study": "study",
}
__all__ = [
    "DiscriminatorRule",
    "Layout",
    "Problem",
    "Study",
    "StudyDataError",
    "load_framework",
    "load_study",
    "project_root",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'crosscase' has no attribute {name!r}")
