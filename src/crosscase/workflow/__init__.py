"""The workflow around the analysis: runs and their records (:mod:`.runs`), executing a
notebook with papermill (:mod:`.execute`), what a notebook calls to write its outputs
(:mod:`.session`), the map of the publication's items to notebooks and outputs
(:mod:`.papermap`), and what each notebook reads, for ``make`` (:mod:`.dependencies`)."""
