"""A second, independent reader of the REFI-QDA export: qualitative-coding (``qc``, PyPI), run by
`make qda-check` in an environment of its own (it pulls in spaCy). `qc init --import` unpacks
the project in an empty folder; this script then compares what qc stored (its corpus files, its
codebook, its database) with the study: every source and its text, every code and its place in
the hierarchy, the user, and every coded selection (the text at its offsets, its codes). What qc
cannot hold (cases, variables, notes; positions finer than a line) is reported, not failed.

Expected values come from the study's data and the export's definition of a case's source
(narratives under their dimension headings), not from the exported file.
(Not collected by pytest: its name does not start with test_.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml

from crosscase.model import Study
from crosscase.paths import Layout
from crosscase.qda import export
from crosscase.qda.format import CASES_CODE, EXPORT_USER
from crosscase.study import load_study
from crosscase.study.passages import normalise_space
from crosscase.workflow.runs import resolve


def qc_document(name: str) -> str:
    """The corpus file qc makes of a source named ``name`` (it takes the name as a file name)."""
    return Path(name).with_suffix(".txt").name


def expected_tree(study: Study) -> set[tuple[str, ...]]:
    """Every code as the path of names from the top of the hierarchy."""
    out: set[tuple[str, ...]] = set()
    for p in study.framework.perspectives:
        out.add((p.label,))
        for d in (d for d in study.framework.dimensions if d.perspective == p.id):
            out.add((p.label, d.label))
            out |= {(p.label, d.label, t.label) for t in study.themes if t.dimension == d.id}
    out.add((CASES_CODE,))
    out |= {(CASES_CODE, c.name) for c in study.cases}
    return out


def tree_paths(node: object, above: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The paths of qc's codebook.yaml (a list of names and {name: children} mappings)."""
    out: set[tuple[str, ...]] = set()
    for item in node if isinstance(node, list) else []:
        if isinstance(item, dict):
            for name, children in item.items():
                out.add((*above, name))
                out |= tree_paths(children, (*above, name))
        else:
            out.add((*above, str(item)))
    return out


def compare(study: Study, work: Path) -> tuple[list[str], list[str]]:
    """(mismatches, findings) between what qc stored in ``work`` and the study."""
    bad: list[str] = []
    found: list[str] = []
    labels = study.dimension_labels
    theme_labels = {t.id: t.label for t in study.themes}
    db = sqlite3.connect(work / "qualitative_coding.sqlite3")
    documents = {p for (p,) in db.execute("select file_path from document")}
    want_docs = {qc_document(c.name): c for c in study.cases}
    if documents != set(want_docs):
        bad.append(f"documents: {sorted(documents)} != {sorted(want_docs)}")
    expected_pairs: set[tuple[str, str]] = set()
    selections = 0
    start_lines: dict[tuple[str, str], set[int]] = {}
    for doc, case in want_docs.items():
        text, spans = export.case_source_text(study, case.id)
        path = work / "corpus" / doc
        held = path.read_text(encoding="utf-8") if path.is_file() else None
        if held != text:
            bad.append(f"{doc}: the text qc holds is not the case's source text")
            continue

        def coded(code: str, start: int, doc: str = doc, text: str = text) -> None:
            expected_pairs.add((doc, code))
            start_lines.setdefault((doc, code), set()).add(text.count("\n", 0, start))

        coded(case.name, 0)
        selections += 1
        for d in study.framework.dimensions:
            start, end = spans[d.id]
            if held[start:end] != case.narratives[d.id]:
                bad.append(f"{doc}: the narrative {d.id} is not at its offsets {start}-{end}")
            coded(labels[d.id], start)
            selections += 1
        for co in (co for co in study.observations if co.case == case.id):
            o = co.observation
            if co.start is None or co.end is None or co.evidence_dimension is None:
                continue
            start = spans[co.evidence_dimension][0] + co.start
            end = spans[co.evidence_dimension][0] + co.end
            if held[start:end] != normalise_space(o.evidence or ""):
                bad.append(f"{doc}: observation {o.id}: its evidence is not at {start}-{end}")
            for code in [labels[o.dimension], *(theme_labels[t] for t in o.themes)]:
                coded(code, start)
            selections += 1
    tree = tree_paths(yaml.safe_load((work / "codebook.yaml").read_text(encoding="utf-8")))
    if tree != expected_tree(study):
        bad.append(
            f"codebook: missing {sorted(expected_tree(study) - tree)}, "
            f"unexpected {sorted(tree - expected_tree(study))}"
        )
    codes = {c for (c,) in db.execute("select name from code")}
    if codes != {path[-1] for path in expected_tree(study)}:
        bad.append(f"codes: {sorted(codes ^ {path[-1] for path in expected_tree(study)})} differ")
    coders = {c for (c,) in db.execute("select name from coder")}
    if coders != {EXPORT_USER}:
        bad.append(f"coders: {sorted(coders)} != [{EXPORT_USER!r}]")
    rows = db.execute(
        """select d.file_path, cl.code_id, cl.line from coded_line cl
           join coded_line_location_association a on a.coded_line_id = cl.id
           join location l on l.id = a.location_id
           join document_index di on di.id = l.document_index_id
           join document d on d.file_path = di.document_id"""
    ).fetchall()
    pairs = {(doc, code) for doc, code, _ in rows}
    if pairs != expected_pairs:
        bad.append(
            f"coded (document, code) pairs: missing {sorted(expected_pairs - pairs)[:5]}, "
            f"unexpected {sorted(pairs - expected_pairs)[:5]}"
        )
    on_line = sum(1 for doc, code, line in rows if line in start_lines.get((doc, code), set()))
    lines = {line for _, _, line in rows}
    found.append(
        f"{len(documents)} sources with their text, {len(tree)} codes in their hierarchy, "
        f"{len(coders)} coder, {len(pairs)} coded (source, code) pairs from {selections} coded "
        "selections: as the study has them"
    )
    found.append(
        f"qc keeps one coded line per source, code and line: {len(rows)} coded lines; "
        f"{on_line} on the line where a selection of their code starts; lines used: "
        f"{sorted(lines)[:10]}"
        + (
            " (qc 1.7.8's reader counts positions in characters as lines, so every selection "
            "lands on line 0)"
            if lines == {0}
            else ""
        )
    )
    found.append(
        "not imported by qc (it says so): cases, variables, notes; the text at each selection's "
        "offsets checked in the corpus qc holds"
    )
    return bad, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--qc", required=True, help="the qc command of its own environment")
    parser.add_argument("--run", default="paper", help="the run whose export to read")
    parser.add_argument("--work", required=True, help="an empty folder for qc's project")
    parser.add_argument("--qdpx", help="the export (default: data/processed/<run>/project.qdpx)")
    args = parser.parse_args(argv)
    layout = Layout.discover()
    spec = resolve(layout, args.run)
    study = load_study(layout, list(spec.cases), require_theme_evidence=False)
    qdpx = Path(args.qdpx) if args.qdpx else layout.tables_dir(args.run) / "project.qdpx"
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # qualitative-coding 1.7.8 leaves a breakpoint() in its reader: switched off
    env = {**os.environ, "PYTHONBREAKPOINT": "0"}
    done = subprocess.run(
        [str(Path(args.qc).resolve()), "init", "--import", str(qdpx.resolve())],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 or not (work / "qualitative_coding.sqlite3").is_file():
        print(f"qc could not import {qdpx}:\n{done.stdout}{done.stderr}", file=sys.stderr)
        return 1
    output = (done.stdout + done.stderr).splitlines()
    warnings = sorted({line.split("] ", 1)[-1] for line in output if "warning" in line})
    bad, found = compare(study, work)
    print(f"Second reader: qualitative-coding imported {layout.relative(qdpx)} into {work}")
    for line in found:
        print(f"  {line}")
    if warnings:  # verbatim; qc 1.7.8 prints one of them with its placeholder unfilled
        print("  qc's own warnings, as it prints them:")
    for line in warnings:
        print(f"    {line}")
    if bad:
        print(f"{len(bad)} mismatches between what qc read and the study:", file=sys.stderr)
        for line in bad:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("OK: the second reader sees every source, code and coded selection of the study.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
