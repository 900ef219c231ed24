"""The benchmark (crosscase.bench) runs every stage on every size, and its synthetic case sets
validate and are deterministic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from crosscase import load_study
from crosscase.bench import STAGES, generate_case_set, main

SIZES = [3, 6]


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_bench_measures_every_stage_of_every_size(tmp_path: Path) -> None:
    out, figs = tmp_path / "out", tmp_path / "figures"
    argv = ["--sizes", *map(str, SIZES), "--out", str(out), "--figures", str(figs)]
    assert main([*argv, "--repeat", "1", "--no-progress"]) == 0
    table = pd.read_csv(out / "bench.csv")
    assert list(table.columns) == ["size", "cases", "observations", "stage", "seconds", "peak_mib"]
    assert sorted(zip(table["size"], table["stage"], strict=True)) == sorted(
        (n, s) for n in SIZES for s in STAGES
    )
    assert (table["seconds"] > 0).all()
    assert (table["peak_mib"] > 0).all()
    assert (table["cases"] == table["size"]).all()
    # 1-5 observations per case and dimension (7 dimensions).
    assert (
        (table["observations"] >= 7 * table["cases"])
        & (table["observations"] <= 35 * table["cases"])
    ).all()
    exponents = pd.read_csv(out / "bench-exponents.csv")
    assert list(exponents["stage"]) == [*STAGES, "total"]
    assert (out / "bench.md").is_file()
    assert (figs / "bench.png").stat().st_size > 0 and (figs / "bench.svg").is_file()


def test_generated_case_sets_validate_and_are_deterministic(tmp_path: Path) -> None:
    first = generate_case_set(tmp_path / "a", 6, seed=0)
    second = generate_case_set(tmp_path / "b", 6, seed=0)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    other = generate_case_set(tmp_path / "c", 6, seed=1)
    assert _files(tmp_path / "c") != _files(tmp_path / "a")

    study = load_study(first)  # validation, evidence located, every theme evidenced
    assert len(study.cases) == 6
    assert len(list(second.observations_dir.glob("*.yaml"))) == 6
    assert all(co.evidence_dimension == co.observation.dimension for co in study.observations)
    themed = sum(bool(co.observation.themes) for co in study.observations)
    assert 0.2 < themed / len(study.observations) < 0.8
    load_study(other)


def test_generation_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    generate_case_set(tmp_path / "here", 3, seed=0)
    code = (
        "import sys; from pathlib import Path; from crosscase.bench import generate_case_set; "
        "generate_case_set(Path(sys.argv[1]), 3, seed=0)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "there")], check=True, env=env)
    assert _files(tmp_path / "here") == _files(tmp_path / "there")
