"""crosscase: cross-case qualitative analysis for multiple-case studies.

Load and validate case data against a research framework (:mod:`crosscase.study`), compute which
cases evidence each second-order theme and which themes qualify (:mod:`crosscase.evidence`),
build the cross-case tables from that (:mod:`crosscase.analysis`), write tables and figures
deterministically (:mod:`crosscase.outputs`, :mod:`crosscase.figures`), and run parameterised
notebooks (:mod:`crosscase.notebook`, :mod:`crosscase.runner`, :mod:`crosscase.runs`). The
``crosscase`` command (:mod:`crosscase.cli`) gives the same from a shell.

Import what you use from its module (``from crosscase.study import load_study``): importing the
package itself loads nothing, so light commands stay fast.
"""

__version__ = "0.2.0"
