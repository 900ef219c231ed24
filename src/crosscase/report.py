"""A static HTML report of a run, built from its executed notebooks, that works offline.

``python -m crosscase.report --run paper --out build/report`` writes ``index.html`` (every table
and figure of the paper mapped to its section, notebook page and output files, with their row
counts, and the run's provenance: commit, package versions, date of the data), one page per
executed notebook (nbconvert's ``basic`` template: no scripts, no CDN), and copies of the output
files under ``files/``. Case text is data: it reaches the pages as escaped text (the notebooks
show tables as Markdown with HTML escaped), and the pages carry no scripts.
"""

from __future__ import annotations

import argparse
import html
import shutil
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
from nbconvert import HTMLExporter

from .outputs import atomic_write
from .papermap import DEFAULT_MAP, load_map
from .paths import Layout, check_run_name

PACKAGES = [
    "crosscase",
    "pandas",
    "numpy",
    "scipy",
    "matplotlib",
    "seaborn",
    "scikit-learn",
    "pydantic",
    "papermill",
    "nbconvert",
    "nbval",
]

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2a33;
       line-height: 1.45; }
header { background: #2f6690; color: white; padding: 0.8rem 1.5rem; }
header a { color: white; margin-right: 1rem; }
main { padding: 1rem 1.5rem; max-width: 110rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 0.85rem; }
th, td { border: 1px solid #c9d3da; padding: 0.3rem 0.5rem; vertical-align: top; text-align: left; }
th { background: #eef3f7; }
img { max-width: 100%; height: auto; border: 1px solid #e3e8ec; }
pre { background: #f6f8fa; padding: 0.5rem; overflow-x: auto; font-size: 0.8rem; }
.jp-InputPrompt, .jp-OutputPrompt { display: none; }
.provenance td:first-child { font-weight: 600; }
"""


def _page(title: str, body: str, nav: list[tuple[str, str]]) -> str:
    links = "".join(f'<a href="{html.escape(href)}">{html.escape(text)}</a>' for text, href in nav)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header><strong>{html.escape(title)}</strong><nav>{links}</nav></header>\n"
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _git(root: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return out.stdout.strip()


def provenance(layout: Layout) -> list[tuple[str, str]]:
    """Commit, working-tree state, data date and package versions of this run."""
    root = layout.root
    commit = _git(root, "rev-parse", "HEAD") or "unknown (not a git checkout)"
    dirty = _git(root, "status", "--porcelain", "--", "data/raw", "src", "notebooks")
    data_date = _git(root, "log", "-1", "--format=%cs", "--", "data/raw") or "unknown"
    rows = [
        ("Study", "Srai et al. (2020), IJOPM 40(6), 697-727, doi:10.1108/IJOPM-08-2019-0600"),
        (
            "Commit",
            commit + (" (with uncommitted changes to data, code or notebooks)" if dirty else ""),
        ),
        ("Date of the data (last commit to data/raw)", data_date),
    ]
    for pkg in PACKAGES:
        try:
            rows.append((pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:
            rows.append((pkg, "not installed"))
    return rows


def _notebook_page(path: Path, exporter: HTMLExporter) -> str:
    nb = nbformat.read(path, as_version=4)
    body, _ = exporter.from_notebook_node(nb)
    return str(body)


def build_report(
    layout: Layout,
    run: str,
    notebooks: Sequence[Path],
    out: Path,
    paper_map: list[dict[str, Any]] | None = None,
) -> list[Path]:
    """Write the report of ``run`` into ``out``; return the pages written."""
    check_run_name(run)
    tables_dir, figures_dir = layout.tables_dir(run), layout.figures_dir(run)
    files = out / "files"
    files.mkdir(parents=True, exist_ok=True)
    for src in [*sorted(tables_dir.glob("*")), *sorted(figures_dir.glob("*"))]:
        if src.is_file():
            shutil.copyfile(src, files / src.name)
    exporter = HTMLExporter(template_name="basic")
    nav = [("Index", "index.html")] + [(p.stem, f"{p.stem}.html") for p in notebooks]
    pages = []
    for nb in notebooks:
        page = _page(f"{nb.stem} ({run})", _notebook_page(nb, exporter), nav)
        pages.append(atomic_write(out / f"{nb.stem}.html", page))
    rows = []
    for item in paper_map or []:
        outputs = []
        for name in item.get("tables", []):
            csv = files / f"{name}.csv"
            n = len(pd.read_csv(csv)) if csv.exists() else 0
            outputs.append(
                f'<a href="files/{name}.csv">{name}.csv</a> (<span class="rows" '
                f'data-table="{name}">{n}</span> rows, <a href="files/{name}.md">md</a>)'
            )
        for name in item.get("figures", []):
            outputs.append(
                f'<a href="files/{name}.png">{name}.png</a> (<a href="files/{name}.svg">svg</a>)'
            )
        nb_stem = Path(item["notebook"]).stem
        rows.append(
            f"<tr><td>{html.escape(item['item'])}</td><td>{html.escape(item['title'])}</td>"
            f"<td>{html.escape(item['section'])}</td>"
            f'<td><a href="{nb_stem}.html">{html.escape(item["notebook"])}</a></td>'
            f"<td>{'<br>'.join(outputs)}</td></tr>"
        )
    figures = "".join(
        f'<figure><img src="files/{html.escape(p.name)}" alt="{html.escape(p.stem)}">'
        f"<figcaption>{html.escape(p.stem)}</figcaption></figure>"
        for p in sorted(files.glob("*.png"))
    )
    prov = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
        for k, v in provenance(layout)
    )
    body = (
        "<p>A re-execution of Srai, J.S., Graham, G., Hennelly, P., Phillips, W., Kapletia, D. "
        "and Lorentz, H. (2020), &ldquo;Distributed manufacturing: a new form of localised "
        "production?&rdquo;, <em>International Journal of Operations &amp; Production "
        "Management</em>, 40(6), 697&ndash;727 (CC BY 4.0): every table and figure recomputed "
        f"from the study data by the notebooks of run <code>{html.escape(run)}</code>.</p>"
        "<h2>Tables and figures of the paper</h2>"
        '<table class="map"><thead><tr><th>Paper</th><th>Title</th><th>Section</th>'
        f"<th>Notebook</th><th>Output files</th></tr></thead><tbody>{''.join(rows)}</tbody>"
        "</table><h2>Figures</h2>"
        + figures
        + f'<h2>Provenance</h2><table class="provenance"><tbody>{prov}</tbody></table>'
    )
    pages.insert(0, atomic_write(out / "index.html", _page(f"Report: {run}", body, nav)))
    return pages


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crosscase.report", description=__doc__)
    parser.add_argument("--run", default="paper")
    parser.add_argument(
        "--notebooks", default=None, help="folder of executed notebooks (default: build/<run>)"
    )
    parser.add_argument("--out", default="build/report")
    parser.add_argument("--map", default=DEFAULT_MAP)
    parser.add_argument(
        "--list",
        action="store_true",
        help="only print where each table and figure of the paper was written",
    )
    args = parser.parse_args(argv)
    layout = Layout.discover()
    folder = layout.resolve(args.notebooks or f"build/{args.run}")
    notebooks = sorted(folder.glob("[0-9][0-9]-*.ipynb"))
    if not notebooks:
        parser.error(f"no executed notebooks in {folder}: run `make` first")
    paper_map = load_map(layout.resolve(args.map))
    pages = build_report(layout, args.run, notebooks, layout.resolve(args.out), paper_map)
    print(f"wrote {len(pages)} pages to {layout.resolve(args.out)} (open index.html)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
