"""The ``crosscase`` command: check study data, make runs, and the tools around them.

Every subcommand reports a problem in the data or the request as one clear message on stderr
(no traceback) and exits non-zero; nothing is written when it fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from .outputs import plural
from .paths import Layout
from .problems import StudyDataError

if TYPE_CHECKING:
    from .runs import RunSpec
    from .study import Study

Handler = Callable[[argparse.Namespace], int]


def _spec(args: argparse.Namespace, layout: Layout) -> RunSpec:
    from .runs import resolve

    return resolve(
        layout,
        args.run,
        args.cases or None,
        getattr(args, "min_cases", None),
        getattr(args, "min_share", None),
        getattr(args, "overwrite", False),
    )


def _load(
    layout: Layout, cases: Sequence[str], require_theme_evidence: bool | None = None
) -> Study:
    from .study import load_study

    if require_theme_evidence is None:  # as the notebooks do (see notebook.start)
        sources = {layout.resolve(c).resolve() for c in cases}
        require_theme_evidence = layout.cases_dir.resolve() in sources
    return load_study(layout, list(cases), require_theme_evidence=require_theme_evidence)


def _validate(args: argparse.Namespace) -> int:
    from .runs import read_record, write_record

    layout = Layout.discover()
    spec = None
    if args.run:
        spec = read_record(layout, args.run, pending=True) or _spec(args, layout)
    cases = list(args.cases) if args.cases else (list(spec.cases) if spec else [])
    require = False if args.allow_unevidenced_themes else None
    study = _load(layout, cases or [layout.relative(layout.cases_dir)], require)
    if spec is not None and args.record:
        write_record(layout, spec)
    print(
        f"OK: {plural(len(study.cases), 'case')}, "
        f"{plural(len(study.observations), 'first-order observation')}, "
        f"{plural(len(study.themes), 'second-order theme')}; "
        f"{len(study.uncoded_cases)} not yet coded."
    )
    return 0


def _record(args: argparse.Namespace) -> int:
    from .casesets import case_set_files
    from .runs import make_rules, write_record

    layout = Layout.discover()
    spec = _spec(args, layout)
    write_record(layout, spec, pending=True)
    if args.make:
        from .outputs import atomic_write

        target = Path(args.make)
        text = make_rules(layout, spec, case_set_files(layout, spec.cases), target)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            atomic_write(target, text)
    return 0


def _run(args: argparse.Namespace) -> int:
    from .runner import execute

    params: dict[str, object] = {}
    for item in args.parameter or []:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"parameter {item!r}: expected NAME=VALUE (VALUE is YAML)", file=sys.stderr)
            return 2
        params[key] = yaml.safe_load(value)
    layout = Layout.discover()
    run_parameters = _spec(args, layout).parameters() if args.run else None
    execute(
        Path(args.notebook),
        Path(args.output),
        params,
        kernel=args.kernel,
        cwd=layout.root,
        run_parameters=run_parameters,
    )
    return 0


def _outputs(args: argparse.Namespace) -> int:
    from .papermap import output_map
    from .paths import REPRODUCTION_RUN

    layout = Layout.discover()
    if args.run == REPRODUCTION_RUN:
        print(output_map(layout, args.run))
        return 0
    spec = _spec(args, layout)
    print(
        f"Run {args.run} ({spec.command_line()}): tables in "
        f"{layout.relative(layout.tables_dir(args.run))}/, figures in "
        f"{layout.relative(layout.figures_dir(args.run))}/, notebooks in "
        f"{layout.relative(layout.executed_dir(args.run))}/"
    )
    import csv

    for name, what in (
        ("theme-changes", "Second-order themes (Table 3's last column)"),
        ("discriminator-changes", "Discriminators of the comparison (Table 4)"),
    ):
        path = layout.tables_dir(args.run) / f"{name}.csv"
        if path.is_file():
            print(f"{what} against the paper ({layout.relative(path)}):")
            with path.open(encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh):
                    now, then = row["cases"] or "no case", row.get("baseline_cases") or ""
                    cases = now if not then or then == now else f"{then} -> {now}"
                    print(f"  {row['status']:<29} {row['label']} ({cases})")
    return 0


def _report(args: argparse.Namespace) -> int:
    from .evidence import DiscriminatorRule, collect
    from .papermap import load_map
    from .report import build_report

    layout = Layout.discover()
    spec = _spec(args, layout)
    folder = layout.executed_dir(args.run)
    notebooks = [folder / nb.name for nb in layout.notebooks() if (folder / nb.name).is_file()]
    if not notebooks:
        print(f"error: no executed notebooks in {layout.relative(folder)}: run `make` first")
        return 1
    study = _load(layout, spec.cases)
    evidence = collect(study, DiscriminatorRule(spec.min_cases, spec.min_share))
    out = Path(args.out) if args.out else layout.report_dir(args.run)
    pages = build_report(
        layout,
        args.run,
        notebooks,
        out,
        load_map(layout),
        study.description,
        spec.describe(),
        study=study,
        evidence=evidence,
        inputs=[layout.resolve(c) for c in spec.cases],
    )
    print(f"wrote {plural(len(pages), 'page')} to {layout.relative(out)}/ (open index.html)")
    return 0


def _qda(args: argparse.Namespace) -> int:
    from .outputs import atomic_write
    from .qda import export
    from .qda.summary import export_summary

    layout = Layout.discover()
    spec = _spec(args, layout)
    study = _load(layout, spec.cases)
    name = study.description.short_title if study.description else args.run
    out = layout.tables_dir(args.run)
    codebook = export.codebook_xml(study)
    project, texts = export.project_xml(study, name)
    schemas = layout.refi_qda_dir
    errors = export.validate(codebook, schemas / "Codebook.xsd")
    errors += export.validate(project, schemas / "Project.xsd")
    if errors:  # the official schemas are the contract with the tools: nothing invalid is written
        print("error: the export is not valid REFI-QDA:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    qdc = atomic_write(out / "codebook.qdc", codebook)
    qdpx = atomic_write(out / "project.qdpx", export.archive_of(project, texts))
    back = export.read_project(qdpx.read_bytes())
    print(
        f"wrote {layout.relative(qdc)} and {layout.relative(qdpx)} (valid against the REFI-QDA "
        "schemas):"
    )
    print("\n".join(export_summary(study, back)))
    return 0


def _import_qdpx(args: argparse.Namespace) -> int:
    import time

    from .qda.interpret import interpret
    from .qda.project import read_qdpx
    from .qda.summary import summary
    from .qda.write import existing_themes, write_case_set

    layout = Layout.discover()
    started = time.perf_counter()
    path = Path(args.project)
    into = layout.resolve(args.into)
    shown = layout.relative(path) if path.is_absolute() else path.as_posix()
    study, set_ids = _study_and_set(layout, into)
    themes = existing_themes(layout, into)
    project = read_qdpx(path, layout.refi_qda_dir / "Project.xsd", shown)
    imported = interpret(
        project, study, themes, shown, f"coded in a QDA tool, imported from {path.name}"
    )
    print(f"Read {shown} ({project.origin or 'unknown origin'}): each element and what it became")
    print("\n".join(summary(imported)))
    which = "all" if args.all else "changed" if args.with_changed else "new"
    for c in imported.changed:
        where = f"its file in {layout.relative(into)}" if c.case.id in set_ids else "the study"
        print(
            f"Case {c.case.id} differs from {where} ({plural(len(c.differences), 'difference')}):"
        )
        print("\n".join(f"  {d}" for d in c.differences))
        if c.case.id not in set_ids and which == "new":
            print("  (not written: add --with-changed to write it into the case set)")
    for t in imported.new_themes:
        print(f"New candidate theme {t.id} ({t.dimension}): {t.label}")
    files = write_case_set(
        layout,
        imported,
        into,
        path.name,
        cases=which,
        overwrite=args.overwrite,
        themes=themes,
        set_ids=set_ids,
    )
    for p in files.written:
        print(f"wrote {layout.relative(p)}")
    if files.unchanged:
        print(f"{plural(len(files.unchanged), 'file')} already up to date")
    if not files.written and not files.unchanged:
        print("Nothing to write: no case that the study does not already have.")
    else:
        cases = " ".join(files.cases_option)
        print(f'Next: make validate CASES="{cases}"; make RUN={into.name} CASES="{cases}"')
    print(f"Imported in {time.perf_counter() - started:.2f} s.")
    return 0


def _study_and_set(layout: Layout, into: Path) -> tuple[Study, frozenset[str]]:
    """The study with the cases already in the case set ``into`` (so that a case exported from
    the set and coded again is matched to its own file), and those cases' ids. A set that does
    not load as it is is left out (the import's own checks then report it)."""
    from .casesets import find_case_files
    from .study import load_study

    folder = into / "cases"
    if folder.is_dir() and find_case_files([folder])[0]:
        try:
            study = load_study(layout, [layout.cases_dir, folder], require_theme_evidence=False)
            # a case's id is its file's name (checked by the load)
            return study, frozenset(p.stem for p in find_case_files([folder])[0])
        except StudyDataError:
            pass
    return load_study(layout), frozenset()


def _new_case(args: argparse.Namespace) -> int:
    import re

    from .casefiles import new_case, next_case_number
    from .study import load_framework

    layout = Layout.discover()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", args.id):
        print(
            f"error: case id {args.id!r} is not safe as a file name: use lowercase letters, "
            "digits and hyphens",
            file=sys.stderr,
        )
        return 2
    folder = layout.resolve(args.into)
    number = args.number or next_case_number(layout, folder)
    try:
        written = new_case(load_framework(layout), folder, args.id, number, args.name)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for p in written:
        print(f"wrote {layout.relative(p)}")
    cases = f"{layout.relative(layout.cases_dir)} {layout.relative(folder / 'cases')}"
    print(f'Next: fill in the empty fields, then `make validate CASES="{cases}"`.')
    return 0


def _suggest(args: argparse.Namespace) -> int:
    from .assisted.dimensions import domain_documents, suggest_dimensions
    from .assisted.settings import DECLARED
    from .outputs import atomic_write, to_csv

    layout = Layout.discover()
    study = _load(layout, args.cases or [layout.relative(layout.cases_dir)])
    raw = Path(args.text)
    try:
        text = raw.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: {raw}: cannot read as UTF-8 text ({exc})", file=sys.stderr)
        return 1
    try:
        table = suggest_dimensions(study, text, domain_documents(study))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    table.insert(4, "accept", "")
    out = Path(args.out)
    atomic_write(out, to_csv(table))
    counts = table["dimension"].value_counts().sort_index()
    print(
        f"wrote {plural(len(table), 'segment')} to {out}: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    unsure = int((table["unsure"] == "yes").sum())
    print(
        f"{unsure} of {len(table)} marked unsure: their {DECLARED.unsure_coverage:.0%} "
        "prediction set (column `candidates`) does not hold the suggestion alone; read those. "
        "`score` is the calibrated probability of the suggestion."
    )
    print(
        "Review: leave `accept` empty to take the suggestion, write a dimension id to "
        "override it, or '-' to leave the segment out; then `crosscase accept`."
    )
    return 0


def _suggest_themes(args: argparse.Namespace) -> int:
    from .assisted.themes import suggest_themes
    from .outputs import atomic_write, to_csv

    layout = Layout.discover()
    study = _load(layout, args.cases or [layout.relative(layout.cases_dir)], False)
    if args.case not in study.case_numbers:
        print(f"error: no case {args.case!r} among the cases loaded", file=sys.stderr)
        return 1
    table = suggest_themes(study, args.case, args.threshold)
    table = table.rename(
        columns={
            "reference": "coded_themes",
            "decision": "suggested_theme",
            "suggested": "best_theme",
            "second": "second_theme",
        }
    )
    columns = ["observation", "dimension", "text", "coded_themes", "suggested_theme", "score"]
    atomic_write(Path(args.out), to_csv(table[[*columns, "best_theme", "second_theme"]]))
    cut = table["threshold"].iloc[0] if len(table) else args.threshold
    how = "given" if args.threshold is not None else "learnt from those cases"
    print(
        f"wrote {plural(len(table), 'theme suggestion')} for case {args.case} to {args.out} "
        f"(learnt from the other coded cases; 'no theme' below similarity {cut}, {how})"
    )
    return 0


def _accept(args: argparse.Namespace) -> int:
    import pandas as pd

    from .casefiles import case_text
    from .outputs import atomic_write
    from .study import load_framework

    layout = Layout.discover()
    framework = load_framework(layout)
    table = pd.read_csv(args.suggestions, dtype=str, keep_default_na=False)
    missing = {"segment", "text", "dimension", "accept"} - set(table.columns)
    if missing:
        print(
            f"error: {args.suggestions}: missing column(s) {', '.join(sorted(missing))}",
            file=sys.stderr,
        )
        return 1
    narratives: dict[str, list[str]] = {d.id: [] for d in framework.dimensions}
    bad = []
    for row in table.to_dict("records"):
        choice = (str(row["accept"]) or str(row["dimension"])).strip()
        if choice == "-":
            continue
        if choice not in narratives:
            bad.append(
                f"{args.suggestions}: segment {row['segment']}: field accept: unknown "
                f"dimension {choice!r}"
            )
            continue
        narratives[choice].append(str(row["text"]))
    if bad:
        print("\n".join(bad), file=sys.stderr)
        return 1
    path = layout.resolve(args.into) / "cases" / f"{args.id}.yaml"
    if path.exists():
        print(f"error: {path} exists: not overwritten", file=sys.stderr)
        return 1
    protocol = {f.id: "" for f in framework.case_protocol}
    texts = {d: " ".join(v) for d, v in narratives.items()}
    atomic_write(path, case_text(args.id, args.number, args.name, protocol, texts))
    empty = [d for d, v in narratives.items() if not v]
    print(
        f"wrote {path} with the accepted segments as narratives"
        + (f"; no segment for: {', '.join(empty)}" if empty else "")
    )
    return 0


def _agreement(args: argparse.Namespace) -> int:
    import pandas as pd

    from .assisted.measures import agreement

    frames = []
    for path in (args.coder_a, args.coder_b):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in (args.unit, args.code):
            if col not in frame.columns:
                print(f"error: {path}: no column {col!r}", file=sys.stderr)
                return 1
        frames.append(frame.set_index(args.unit)[args.code])
    a, b = frames
    units = sorted(set(a.index) & set(b.index))
    only = sorted(set(a.index) ^ set(b.index))
    if only:
        print(f"note: {len(only)} unit(s) coded by one coder only are left out", file=sys.stderr)
    result = agreement([a[u] for u in units], [b[u] for u in units])
    print(result.summary().to_string(index=False))
    print()
    print(result.per_code.to_string(index=False))
    print()
    print(result.confusion.to_string())
    return 0


def _run_arguments(p: argparse.ArgumentParser, rule: bool = True) -> None:
    p.add_argument("--run", default="paper", help="run name (default: paper, the reproduction)")
    p.add_argument("--cases", nargs="*", help="case folders or files (default: the run's record)")
    if rule:
        p.add_argument("--min-cases", type=int, help="discriminator rule: minimum cases")
        p.add_argument("--min-share", type=float, help="... and/or minimum share of coded cases")
        p.add_argument("--overwrite", action="store_true", help="re-make a run with new settings")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crosscase", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=handler)
        return p

    v = command("validate", _validate, "check the study data and report every problem")
    v.add_argument("cases", nargs="*", help="case folders or files (default: the study's own)")
    v.add_argument("--run", help="validate the case set asked for (or recorded) for this run")
    v.add_argument("--record", action="store_true", help="with --run: record the run if valid")
    v.add_argument(
        "--allow-unevidenced-themes",
        action="store_true",
        help="do not report themes that no observation evidences",
    )
    r = command(
        "record",
        _record,
        "ask for a run's case set and rule, refusing one that differs from its record; the "
        "record itself is written by `validate --run --record` once the case set is valid",
    )
    _run_arguments(r)
    r.add_argument("--make", help="also write the make rules of the run's inputs to this file")
    x = command("run", _run, "execute a notebook with papermill, with the run's parameters")
    x.add_argument("notebook")
    x.add_argument("output")
    x.add_argument("--run", help="give the notebook this run's parameters (from its record)")
    x.add_argument("-p", "--parameter", action="append", metavar="NAME=VALUE", help="YAML value")
    x.add_argument("-k", "--kernel", help="Jupyter kernel name")
    x.set_defaults(cases=None)
    o = command("outputs", _outputs, "say where a run's tables and figures were written")
    _run_arguments(o, rule=False)
    p = command("report", _report, "static HTML report of a run (offline)")
    _run_arguments(p, rule=False)
    p.add_argument("--out", help="folder to write (default: build/<run>/report)")
    q = command("qda", _qda, "export a run's study as REFI-QDA codebook (.qdc) and project (.qdpx)")
    _run_arguments(q, rule=False)
    i = command("import-qdpx", _import_qdpx, "import a REFI-QDA project (.qdpx) as a case set")
    i.add_argument("project", help="the .qdpx file a QDA tool exported")
    i.add_argument("--into", required=True, help="case-set folder, e.g. data/extensions/my-study")
    i.add_argument(
        "--with-changed",
        action="store_true",
        help="also write the study's cases that the project codes differently",
    )
    i.add_argument("--all", action="store_true", help="write every case of the project")
    i.add_argument("--overwrite", action="store_true", help="replace files of an earlier import")
    n = command("new-case", _new_case, "start a new case (and its observation file)")
    n.add_argument("--id", required=True, help="case id: lowercase letters, digits, hyphens")
    n.add_argument("--name", required=True, help="case name (a table column header)")
    n.add_argument("--into", default="data/extensions/my-study", help="case-set folder")
    n.add_argument("--number", type=int, help="case number (default: the next free one)")
    g = command("suggest", _suggest, "segment a raw text and suggest a dimension per segment")
    g.add_argument("text", help="a UTF-8 text file (e.g. interview notes of a new case)")
    g.add_argument("--out", required=True, help="the suggestions CSV to write")
    g.add_argument("--cases", nargs="*", help="case folders or files to learn from")
    t = command("suggest-themes", _suggest_themes, "suggest a theme for each observation of a case")
    t.add_argument("case", help="the case id whose observations to suggest themes for")
    t.add_argument("--out", required=True, help="the suggestions CSV to write")
    t.add_argument("--cases", nargs="*", help="case folders or files (default: the study's)")
    t.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="best similarity below which 'no theme' (default: learnt from the other cases)",
    )
    a = command("accept", _accept, "turn reviewed suggestions into a new case file")
    a.add_argument("suggestions", help="the reviewed suggestions CSV")
    a.add_argument("--id", required=True)
    a.add_argument("--name", required=True)
    a.add_argument("--number", type=int, required=True)
    a.add_argument("--into", default="data/extensions/my-study")
    m = command("agreement", _agreement, "agreement of two coders' codings of the same units")
    m.add_argument("coder_a", help="CSV of coder A (the reference for precision and recall)")
    m.add_argument("coder_b", help="CSV of coder B")
    m.add_argument("--unit", default="segment", help="column identifying the unit")
    m.add_argument("--code", default="dimension", help="column holding the code")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .runner import NotebookFailed, ParameterError
    from .runs import RunError

    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except StudyDataError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    except NotebookFailed as exc:
        print(f"{exc.notebook.name} failed:\n{exc.message}", file=sys.stderr)
        print(f"(the failed notebook is in {exc.saved})", file=sys.stderr)
        return 1
    except (RunError, ParameterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
