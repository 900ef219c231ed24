"""The export read by a second, independent REFI-QDA reader (qualitative-coding), when its
environment exists (`make qda-check` builds it in build/qc-env and runs the same comparison;
CI runs that target after `make test`)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import second_reader
from conftest import ROOT, project_archive
from lxml import etree

from crosscase.paths import Layout
from crosscase.qda.format import PROJECT_NS
from crosscase.study import load_study

QC = ROOT / "build" / "qc-env" / "bin" / "qc"


@pytest.mark.skipif(
    not (QC.parent.parent / ".installed").is_file(), reason="no build/qc-env: make qda-check"
)
def test_the_second_reader_sees_every_source_code_and_coded_selection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = load_study(Layout.at(ROOT))
    export = tmp_path / "project.qdpx"
    export.write_bytes(project_archive(study, "test"))
    work = tmp_path / "qc"
    assert second_reader.main(["--qc", str(QC), "--qdpx", str(export), "--work", str(work)]) == 0
    out = capsys.readouterr().out
    assert f"{len(study.cases)} sources with their text" in out
    # And it can fail: one coding without its creatingUser stops qualitative-coding's reader
    with zipfile.ZipFile(export) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    root = etree.fromstring(files["project.qde"])
    del root.find(".//q:Coding", {"q": PROJECT_NS}).attrib["creatingUser"]
    files["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    with zipfile.ZipFile(export, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    assert second_reader.main(["--qc", str(QC), "--qdpx", str(export), "--work", str(work)]) == 1
    assert "KeyError: 'creatingUser'" in capsys.readouterr().err
