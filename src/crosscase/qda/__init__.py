"""REFI-QDA (QDA-XML 1.0): the round trip between the study and QDA tools (NVivo, ATLAS.ti,
MAXQDA, QualCoder).

- :mod:`~crosscase.qda.export`: the study as a codebook (``.qdc``) and a project (``.qdpx``),
  and an export read back (``crosscase qda``).

Import what you use from its module (``from crosscase.qda.export import project_archive``).
"""
