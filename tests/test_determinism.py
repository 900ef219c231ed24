"""The workflow is deterministic: the session's run of every notebook writes exactly the files
the committed notebooks list in their output manifests, byte for byte (the committed notebooks
are an earlier run, so this compares two runs, on two machines where the notebooks were executed
elsewhere), and it never writes to data/raw."""

from __future__ import annotations

import json
import re

from conftest import NOTEBOOKS, raw_data_unchanged, tree


def _manifests() -> dict[str, str]:
    """File -> SHA-256, from the output manifest that ends each committed notebook."""
    out: dict[str, str] = {}
    for path in NOTEBOOKS:
        cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        text = "".join(cells[-1]["outputs"][0]["data"]["text/markdown"])
        for file, sha in re.findall(r"^\| (\S+)\s*\|\s*\d+\s*\|\s*([0-9a-f]{64}) \|$", text, re.M):
            out[file] = sha
    return out


def test_the_run_writes_exactly_what_the_committed_notebooks_record(workflow) -> None:
    written = tree(workflow.output_root)
    recorded = _manifests()
    assert recorded, "every notebook ends with its output manifest"
    assert sorted(written) == sorted(recorded), "the same files"
    assert {f: s for f, s in written.items() if recorded[f] != s} == {}, "the same bytes"


def test_the_workflow_never_writes_to_the_raw_data(workflow) -> None:
    assert raw_data_unchanged()
