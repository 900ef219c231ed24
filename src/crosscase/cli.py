"""Command line: ``crosscase validate`` and ``crosscase run``."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from .paths import Layout
from .problems import StudyDataError
from .study import load_study


def _validate(args: argparse.Namespace) -> int:
    layout = Layout.discover()
    try:
        study = load_study(
            layout, args.cases or None, require_theme_evidence=not args.allow_unevidenced_themes
        )
    except StudyDataError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    print(
        f"OK: {len(study.cases)} cases, {len(study.observations)} first-order observations, "
        f"{len(study.themes)} second-order themes; {len(study.uncoded_cases)} not yet coded."
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    from .runner import ParameterError, execute

    params: dict[str, object] = {}
    for item in args.parameter or []:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"parameter {item!r}: expected NAME=VALUE (VALUE is YAML)", file=sys.stderr)
            return 2
        params[key] = yaml.safe_load(value)
    try:
        execute(
            Path(args.notebook),
            Path(args.output),
            params,
            kernel=args.kernel,
            cwd=Layout.discover().root,
        )
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _new_case(args: argparse.Namespace) -> int:
    from .study import load_framework
    from .templates import new_case

    layout = Layout.discover()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", args.id):
        print(
            f"error: case id {args.id!r} is not safe as a file name: use lowercase letters, "
            "digits and hyphens",
            file=sys.stderr,
        )
        return 2
    folder = layout.resolve(args.into)
    if args.number is None:
        numbers = [0]
        for d in (layout.cases_dir, folder / "cases"):
            for f in d.glob("*.yaml") if d.is_dir() else []:
                m = re.search(r"^number:\s*(\d+)", f.read_text(encoding="utf-8"), re.M)
                numbers.append(int(m.group(1)) if m else 0)
        args.number = max(numbers) + 1
    try:
        written = new_case(load_framework(layout), folder, args.id, args.number, args.name)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for p in written:
        print(f"wrote {layout.relative(p)}")
    print("Next: fill in the empty fields, then `crosscase validate` (see README, Adding a case).")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crosscase", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check the study data and report every problem")
    v.add_argument("cases", nargs="*", help="case folders or files (default: data/raw/cases)")
    v.add_argument(
        "--allow-unevidenced-themes",
        action="store_true",
        help="do not report themes that no observation evidences",
    )
    v.set_defaults(func=_validate)
    r = sub.add_parser(
        "run", help="execute a notebook with papermill, rejecting unknown parameters"
    )
    r.add_argument("notebook")
    r.add_argument("output")
    r.add_argument(
        "-p",
        "--parameter",
        action="append",
        metavar="NAME=VALUE",
        help="a notebook parameter; VALUE is read as YAML",
    )
    r.add_argument("-k", "--kernel", help="Jupyter kernel name")
    r.set_defaults(func=_run)
    n = sub.add_parser(
        "new-case", help="start a new case (and its observation file) from the template"
    )
    n.add_argument("--id", required=True, help="case id: lowercase letters, digits, hyphens")
    n.add_argument("--name", required=True, help="case name (a table column header)")
    n.add_argument(
        "--into",
        default="data/extensions/cases-new",
        help="case-set folder to create cases/ and observations/ in",
    )
    n.add_argument("--number", type=int, help="case number (default: the next free one)")
    n.set_defaults(func=_new_case)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
