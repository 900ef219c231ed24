"""The ``crosscase`` command: check study data, make runs, and the tools around them.

Each subcommand is a few lines over library functions. A problem in the data or the request is
reported as one clear message on stderr (no traceback), with a non-zero exit; nothing is written
when a command fails.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

# The commands that need heavier libraries (nbconvert, QDA, assisted coding) import them.
from .evidence import collect
from .model import SLUG_PATTERN
from .outputs import atomic_write, plural, to_csv
from .paths import Layout
from .study import load_framework, load_study
from .study.load import check_cases
from .study.problems import StudyDataError
from .workflow.dependencies import notebook_rules
from .workflow.execute import NotebookFailed, ParameterError, execute
from .workflow.papermap import output_map, what_changed
from .workflow.runs import Run, RunError, record, reproduction, resolve

Handler = Callable[[argparse.Namespace, Layout], int]


def _run(args: argparse.Namespace, layout: Layout) -> Run:
    """The run the arguments name (recorded, or the reproduction), as given."""
    given = vars(args)  # a command without a case set or rule has no such options
    cases, min_cases, min_share = (given.get(k) for k in ("cases", "min_cases", "min_share"))
    return resolve(layout, args.run, cases, min_cases, min_share, given.get("overwrite", False))


def _error(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _validate(args: argparse.Namespace, layout: Layout) -> int:
    print(check_cases(layout, args.cases, args.allow_unevidenced_themes))
    return 0


def _record(args: argparse.Namespace, layout: Layout) -> int:
    if checked := record(layout, _run(args, layout)):
        print(checked)
    return 0


def _execute(args: argparse.Namespace, layout: Layout) -> int:
    params = {}
    for item in args.parameter or []:
        key, sep, value = item.partition("=")
        if not sep:
            return _error(f"parameter {item!r}: expected NAME=VALUE (VALUE is YAML)", 2)
        params[key] = yaml.safe_load(value)
    run = _run(args, layout).parameters() if args.run else None
    started = time.perf_counter()
    execute(Path(args.notebook), Path(args.output), params, args.kernel, layout.root, run)
    took = time.perf_counter() - started
    print(f"{run['run'] + ': ' if run else ''}{Path(args.notebook).name} done in {took:.1f} s")
    return 0


def _notebook_rules(args: argparse.Namespace, layout: Layout) -> int:
    text, out = notebook_rules(layout), Path(args.out)
    if not out.is_file() or out.read_text(encoding="utf-8") != text:
        atomic_write(out, text)
    return 0


def _outputs(args: argparse.Namespace, layout: Layout) -> int:
    run = _run(args, layout)
    if run.name == reproduction(layout).name:
        print(output_map(layout, run.name))
        return 0
    where = [("tables", layout.tables_dir), ("figures", layout.figures_dir)]
    where.append(("notebooks", layout.executed_dir))
    folders = ", ".join(f"{what} in {layout.relative(folder(run.name))}/" for what, folder in where)
    print(f"Run {run.name} ({run.command_line()}): {folders}")
    print("\n".join(what_changed(layout, run.name)))
    return 0


def _report(args: argparse.Namespace, layout: Layout) -> int:
    from .report.build import build_report

    run = _run(args, layout)
    folder = layout.executed_dir(run.name)
    notebooks = [folder / nb.name for nb in layout.notebooks() if (folder / nb.name).is_file()]
    if not notebooks:
        return _error(f"no executed notebooks in {layout.relative(folder)}: run `make` first")
    study = load_study(layout, run.cases)
    out = Path(args.out) if args.out else layout.report_dir(run.name)
    pages = build_report(layout, run, notebooks, out, study, collect(study, run.rule))
    print(f"wrote {plural(len(pages), 'page')} to {layout.relative(out)}/ (open index.html)")
    return 0


def _qda(args: argparse.Namespace, layout: Layout) -> int:
    from .qda.export import InvalidExport, write_export
    from .qda.project import read_qdpx
    from .qda.summary import export_summary

    run = _run(args, layout)
    study = load_study(layout, run.cases)
    try:
        qdc, qdpx = write_export(layout, study, layout.tables_dir(run.name))
    except InvalidExport as exc:
        return _error(str(exc))
    back = read_qdpx(qdpx, layout.refi_qda_dir / "Project.xsd", layout.relative(qdpx))
    shown = f"{layout.relative(qdc)} and {layout.relative(qdpx)}"
    print(f"wrote {shown} (valid against the REFI-QDA schemas):")
    print("\n".join(export_summary(study, back)))
    return 0


def _import_qdpx(args: argparse.Namespace, layout: Layout) -> int:
    from .qda.importing import Which, import_project

    which: Which = "all" if args.all else "changed" if args.with_changed else "new"
    import_project(layout, Path(args.project), layout.resolve(args.into), which, args.overwrite)
    return 0


def _new_case(args: argparse.Namespace, layout: Layout) -> int:
    from .study.casefiles import new_case, next_case_number

    if not re.fullmatch(SLUG_PATTERN, args.id):
        message = f"case id {args.id!r} is not safe as a file name: use lowercase letters, digits"
        return _error(message + " and hyphens", 2)
    folder = layout.resolve(args.into or layout.extensions_dir / "my-study")
    number = args.number or next_case_number(layout, folder)
    study = load_study(layout)
    try:
        written = new_case(study.framework, study.themes, folder, args.id, number, args.name)
    except FileExistsError as exc:
        return _error(str(exc))
    for p in written:
        print(f"wrote {layout.relative(p)}")
    cases = f"{layout.relative(layout.cases_dir)} {layout.relative(folder / 'cases')}"
    print(f'Next: fill in the empty fields, then `make validate CASES="{cases}"`.')
    return 0


def _suggest(args: argparse.Namespace, layout: Layout) -> int:
    from .assisted.review import dimension_suggestions

    study = load_study(layout, args.cases)
    try:
        table, said = dimension_suggestions(study, Path(args.text).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return _error(f"{args.text}: cannot read as UTF-8 text ({exc})")
    except ValueError as exc:
        return _error(str(exc))
    atomic_write(Path(args.out), to_csv(table))
    print(f"wrote {args.out}: " + "\n".join(said))
    return 0


def _suggest_themes(args: argparse.Namespace, layout: Layout) -> int:
    from .assisted.review import theme_suggestions

    study = load_study(layout, args.cases, require_theme_evidence=False)
    if args.case not in study.case_numbers:
        return _error(f"no case {args.case!r} among the cases loaded")
    table, said = theme_suggestions(study, args.case, args.threshold)
    atomic_write(Path(args.out), to_csv(table))
    print(f"wrote {said} to {args.out}")
    return 0


def _accept(args: argparse.Namespace, layout: Layout) -> int:
    from .assisted.review import accepted_narratives
    from .study.casefiles import CASE_HEADER, case_document, dump

    framework = load_framework(layout)
    narratives, problems = accepted_narratives(Path(args.suggestions), framework)
    path = layout.resolve(args.into or layout.extensions_dir / "my-study") / "cases"
    path = path / f"{args.id}.yaml"
    if problems or path.exists():
        return _error("\n".join(problems) or f"{path} exists: not overwritten")
    protocol = {f.id: "" for f in framework.case_protocol}
    case = case_document(args.id, args.number, args.name, protocol, narratives)
    atomic_write(path, dump(case, CASE_HEADER))
    empty = ", ".join(d for d, text in narratives.items() if not text)
    missing = f"; no segment for: {empty}" if empty else ""
    print(f"wrote {path} with the accepted segments as narratives{missing}")
    return 0


def _agreement(args: argparse.Namespace, layout: Layout) -> int:
    from .assisted.review import agreement_of_files

    try:
        coders = Path(args.coder_a), Path(args.coder_b)
        result, alone = agreement_of_files(*coders, args.unit, args.code)
    except ValueError as exc:
        return _error(str(exc))
    if alone:
        print(f"note: {plural(alone, 'unit')} coded by one coder only left out", file=sys.stderr)
    tables = [result.summary().to_string(index=False), result.per_code.to_string(index=False)]
    print("\n\n".join([*tables, result.confusion.to_string()]))
    return 0


def _run_arguments(p: argparse.ArgumentParser, rule: bool = True) -> None:
    p.add_argument("--run", help="run name (default: the study's reproduction)")
    if rule:
        p.add_argument("--cases", nargs="*", help="case folders or files (default: the record)")
        p.add_argument("--min-cases", type=int, help="discriminator rule: minimum cases")
        p.add_argument("--min-share", type=float, help="... and/or minimum share of coded cases")
        p.add_argument("--overwrite", action="store_true", help="re-make a run with new settings")


Command = Callable[[str, Handler, str], argparse.ArgumentParser]


def _workflow_commands(command: Command) -> None:
    """Checking a case set, making runs, and what make calls."""
    v = command("validate", _validate, "check a case set and report every problem")
    v.add_argument("cases", nargs="*", help="case folders or files (default: the study's own)")
    v.add_argument(
        "--allow-unevidenced-themes", action="store_true", help="allow themes no case has"
    )
    _run_arguments(command("record", _record, "validate a run's case set and record the run"))
    x = command("execute", _execute, "execute a notebook with papermill, with its run's parameters")
    x.add_argument("notebook")
    x.add_argument("output")
    x.add_argument("--run", help="give the notebook this run's parameters (from its record)")
    x.add_argument("-p", "--parameter", action="append", metavar="NAME=VALUE", help="YAML value")
    x.add_argument("-k", "--kernel", help="Jupyter kernel name")
    r = command("notebook-rules", _notebook_rules, "write the make rules of what notebooks read")
    r.add_argument("--out", required=True, help="the file of make rules to write")
    _run_arguments(command("outputs", _outputs, "say where a run's outputs are"), rule=False)
    p = command("report", _report, "static HTML report of a run (offline)")
    _run_arguments(p, rule=False)
    p.add_argument("--out", help="folder to write (default: build/<run>/report)")
    n = command("new-case", _new_case, "start a new case (and its observation file)")
    n.add_argument("--id", required=True, help="case id: lowercase letters, digits, hyphens")
    n.add_argument("--name", required=True, help="case name (a table column header)")
    n.add_argument("--into", help="case-set folder (default: data/extensions/my-study)")
    n.add_argument("--number", type=int, help="case number (default: the next free one)")


def _tool_commands(command: Command) -> None:
    """REFI-QDA and assisted coding."""
    q = command("qda", _qda, "export a run's study as REFI-QDA codebook (.qdc) and project (.qdpx)")
    _run_arguments(q, rule=False)
    i = command("import-qdpx", _import_qdpx, "import a REFI-QDA project (.qdpx) as a case set")
    i.add_argument("project", help="the .qdpx file a QDA tool exported")
    i.add_argument("--into", required=True, help="case-set folder, e.g. data/extensions/my-study")
    i.add_argument("--with-changed", action="store_true", help="also the study's changed cases")
    i.add_argument("--all", action="store_true", help="write every case of the project")
    i.add_argument("--overwrite", action="store_true", help="replace files of an earlier import")
    g = command("suggest", _suggest, "segment a raw text and suggest a dimension per segment")
    g.add_argument("text", help="a UTF-8 text file (e.g. interview notes of a new case)")
    g.add_argument("--out", required=True, help="the suggestions CSV to write")
    g.add_argument("--cases", nargs="*", help="case folders or files to learn from")
    t = command("suggest-themes", _suggest_themes, "suggest a theme for each observation of a case")
    t.add_argument("case", help="the case id whose observations to suggest themes for")
    t.add_argument("--out", required=True, help="the suggestions CSV to write")
    t.add_argument("--cases", nargs="*", help="case folders or files (default: the study's)")
    t.add_argument("--threshold", type=float, help="similarity below which 'no theme'")
    a = command("accept", _accept, "turn reviewed suggestions into a new case file")
    a.add_argument("suggestions", help="the reviewed suggestions CSV")
    a.add_argument("--id", required=True)
    a.add_argument("--name", required=True)
    a.add_argument("--number", type=int, required=True)
    a.add_argument("--into", help="case-set folder (default: data/extensions/my-study)")
    m = command("agreement", _agreement, "agreement of two coders' codings of the same units")
    m.add_argument("coder_a", help="CSV of coder A (the reference for precision and recall)")
    m.add_argument("coder_b", help="CSV of coder B")
    m.add_argument("--unit", default="segment", help="column identifying the unit")
    m.add_argument("--code", default="dimension", help="column holding the code")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crosscase", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=handler)
        return p

    _workflow_commands(command)
    _tool_commands(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args, Layout.discover()))
    except StudyDataError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    except NotebookFailed as exc:
        print(f"{exc.notebook.name} failed:\n{exc.message}", file=sys.stderr)
        print(f"(the failed notebook is in {exc.saved})", file=sys.stderr)
        return 1
    except (RunError, ParameterError) as exc:
        return _error(str(exc), 2)


if __name__ == "__main__":
    raise SystemExit(main())
