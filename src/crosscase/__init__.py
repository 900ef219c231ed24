"""crosscase: cross-case qualitative analysis for multiple-case studies.

Load and validate case data against a research framework (:mod:`crosscase.study`), build the
cross-case displays and second-order theme tables (:mod:`crosscase.analysis`), write tables and
figures deterministically (:mod:`crosscase.outputs`, :mod:`crosscase.figures`), and run
parameterised notebooks (:mod:`crosscase.notebook`, :mod:`crosscase.runner`).
"""

from .analysis import DiscriminatorRule
from .paths import Layout, project_root
from .problems import Problem, StudyDataError
from .study import Study, load_framework, load_study

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
