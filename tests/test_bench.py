"""The benchmark harness (benchmarks/bench.py): it measures every stage of every size, its growth
exponents are right on timings of known growth, and its synthetic case sets validate and are
deterministic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from crosscase.study import load_study

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from bench import (  # noqa: E402
    COLUMNS,
    FIT_MIN_CASES,
    STAGES,
    generate_case_set,
    growth_exponents,
    main,
    target_total,
)

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
    assert list(table.columns) == COLUMNS
    assert sorted(zip(table["size"], table["stage"], strict=True)) == sorted(
        (n, s) for n in SIZES for s in STAGES
    )
    assert (table["cases"] == table["size"]).all()
    exponents = pd.read_csv(out / "bench-exponents.csv")
    assert list(exponents["stage"]) == [*STAGES, "total"]
    assert (figs / "bench.png").stat().st_size > 0 and (figs / "bench.svg").is_file()


def _timings(growth: dict[str, float]) -> pd.DataFrame:
    """A benchmark table whose stages grow as cases**b exactly."""
    sizes = [FIT_MIN_CASES, 4 * FIT_MIN_CASES, 16 * FIT_MIN_CASES]
    rows = [
        {
            "size": n,
            "cases": n,
            "observations": 20 * n,
            "stage": s,
            "seconds": 1e-3 * n**b,
            "peak_mib": 1.0,
        }
        for n in [5, *sizes]
        for s, b in growth.items()
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def test_growth_exponents_recover_known_growth() -> None:
    exponents = growth_exponents(_timings({"linear": 1.0, "quadratic": 2.0, "flat": 0.0}))
    got = dict(zip(exponents["stage"], exponents["exponent"], strict=True))
    assert got["linear"] == pytest.approx(1.0)
    assert got["quadratic"] == pytest.approx(2.0)
    assert got["flat"] == pytest.approx(0.0, abs=1e-9)
    assert 1.0 < got["total"] < 2.0  # a sum of the three: between its parts' exponents


def test_total_for_a_target_size_is_labelled_measured_or_estimated() -> None:
    table = _timings({"linear": 1.0})
    assert target_total(table, FIT_MIN_CASES).startswith("measured")
    assert target_total(table, 2 * FIT_MIN_CASES).startswith("interpolated")
    estimate = target_total(table, 100 * FIT_MIN_CASES)
    assert estimate.startswith("extrapolated") and f"{1e-3 * 100 * FIT_MIN_CASES:.2f} s" in estimate


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
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[2]); "
        "from bench import generate_case_set; generate_case_set(Path(sys.argv[1]), 3, seed=0)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    argv = [sys.executable, "-c", code, str(tmp_path / "there"), str(BENCHMARKS)]
    subprocess.run(argv, check=True, env=env)
    assert _files(tmp_path / "here") == _files(tmp_path / "there")
