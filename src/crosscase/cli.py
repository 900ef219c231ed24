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


def _suggest(args: argparse.Namespace) -> int:
    from .coding import suggest_dimensions
    from .outputs import atomic_write, to_csv

    layout = Layout.discover()
    try:
        study = load_study(layout, args.cases or None)
    except StudyDataError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    raw = Path(args.text)
    try:
        text = raw.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: {raw}: cannot read as UTF-8 text ({exc})", file=sys.stderr)
        return 1
    table = suggest_dimensions(study, text)
    table.insert(4, "accept", "")
    out = Path(args.out)
    atomic_write(out, to_csv(table))
    counts = table["dimension"].value_counts().sort_index()
    print(
        f"wrote {len(table)} segments to {out}: " + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    print(
        "Review: leave `accept` empty to take the suggestion, write a dimension id to "
        "override it, or '-' to leave the segment out; then `crosscase accept`."
    )
    return 0


def _suggest_themes(args: argparse.Namespace) -> int:
    import pandas as pd

    from .coding import ThemeAssigner, theme_examples
    from .outputs import atomic_write, to_csv

    layout = Layout.discover()
    try:
        study = load_study(layout, args.cases or None, require_theme_evidence=False)
    except StudyDataError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    case = next((c for c in study.cases if c.id == args.case), None)
    if case is None:
        print(f"error: no case {args.case!r} among the cases loaded", file=sys.stderr)
        return 1
    others = theme_examples(study, exclude_case=case.id)
    assigner = ThemeAssigner(study.themes, others, args.threshold)
    rows = []
    for co in study.observations:
        if co.case != case.id:
            continue
        theme, score = assigner.suggest(co.observation.text, co.observation.dimension)
        rows.append(
            {
                "observation": co.observation.id,
                "dimension": co.observation.dimension,
                "text": co.observation.text,
                "coded_themes": "; ".join(co.observation.themes),
                "suggested_theme": theme,
                "score": score,
            }
        )
    out = Path(args.out)
    atomic_write(
        out,
        to_csv(
            pd.DataFrame(
                rows,
                columns=[
                    "observation",
                    "dimension",
                    "text",
                    "coded_themes",
                    "suggested_theme",
                    "score",
                ],
            )
        ),
    )
    print(
        f"wrote {len(rows)} theme suggestions for case {case.id} to {out} (learned from the "
        f"other {len(study.cases) - 1} cases; 'new theme' below similarity {args.threshold})"
    )
    return 0


def _accept(args: argparse.Namespace) -> int:
    import pandas as pd

    from .study import load_framework
    from .templates import CASE_HEADER, case_text

    layout = Layout.discover()
    framework = load_framework(layout)
    dims = [d.id for d in framework.dimensions]
    table = pd.read_csv(args.suggestions, dtype=str, keep_default_na=False)
    missing = {"segment", "text", "dimension", "accept"} - set(table.columns)
    if missing:
        print(
            f"error: {args.suggestions}: missing column(s) {', '.join(sorted(missing))}",
            file=sys.stderr,
        )
        return 1
    narratives: dict[str, list[str]] = {d: [] for d in dims}
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
    from .outputs import atomic_write

    text = case_text(
        args.id,
        args.number,
        args.name,
        {f.id: "" for f in framework.case_protocol},
        {d: " ".join(v) for d, v in narratives.items()},
        header=CASE_HEADER,
    )
    atomic_write(path, text)
    empty = [d for d, v in narratives.items() if not v]
    print(
        f"wrote {path} with the accepted segments as narratives"
        + (f"; no segment for: {', '.join(empty)}" if empty else "")
    )
    return 0


def _agreement(args: argparse.Namespace) -> int:
    import pandas as pd

    from .coding import agreement

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
    g = sub.add_parser("suggest", help="segment a raw text and suggest a dimension per segment")
    g.add_argument("text", help="a UTF-8 text file (e.g. interview notes of a new case)")
    g.add_argument("--out", required=True, help="the suggestions CSV to write")
    g.add_argument(
        "--cases", nargs="*", help="case folders or files to learn from (default: the study's)"
    )
    g.set_defaults(func=_suggest)
    t = sub.add_parser(
        "suggest-themes",
        help="suggest a second-order theme for each observation of a case (or 'new theme')",
    )
    t.add_argument("case", help="the case id whose observations to suggest themes for")
    t.add_argument("--out", required=True, help="the suggestions CSV to write")
    t.add_argument("--cases", nargs="*", help="case folders or files (default: the study's)")
    t.add_argument(
        "--threshold",
        type=float,
        default=0.05,
        help="cosine similarity below which 'new theme' is suggested",
    )
    t.set_defaults(func=_suggest_themes)
    a = sub.add_parser("accept", help="turn reviewed suggestions into a new case file")
    a.add_argument("suggestions", help="the reviewed suggestions CSV")
    a.add_argument("--id", required=True)
    a.add_argument("--name", required=True)
    a.add_argument("--number", type=int, required=True)
    a.add_argument("--into", default="data/extensions/cases-new")
    a.set_defaults(func=_accept)
    m = sub.add_parser("agreement", help="agreement of two coders' codings of the same units")
    m.add_argument("coder_a", help="CSV of coder A (the reference for precision and recall)")
    m.add_argument("coder_b", help="CSV of coder B")
    m.add_argument("--unit", default="segment", help="column identifying the unit")
    m.add_argument("--code", default="dimension", help="column holding the code")
    m.set_defaults(func=_agreement)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
