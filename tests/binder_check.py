"""Run by `make binder-check`: the Binder environment built as repo2docker builds it from binder/,
without Docker, then the notebooks run in it as Binder runs them.

1. A fresh virtual environment with the Python that binder/runtime.txt names.
2. The notebook server of repo2docker's base image (tests/binder-base.txt), which Binder installs
   binder/requirements.txt over; then binder/requirements.txt (the lock), and `pip check`.
3. binder/postBuild, from the project root with the environment first on PATH, as repo2docker
   runs it: it installs the package and registers the kernel the notebooks name.
4. The kernel each notebook names resolves to that environment (Jupyter's user folders are
   empty: no kernel of another environment can stand in), and every server extension loads.
5. Every notebook runs under nbval with the kernel its metadata names (no kernel option) and no
   hash seed but the kernel's own: every cell's output equals the committed (locked) one. The
   outputs go under the work folder, not over those of `make`.
6. repo2docker itself (tests/repo2docker.lock) prints the Dockerfile it would build (--no-build):
   it must read binder/ (runtime.txt, requirements.txt, postBuild) and not environment.yml.

A failed step ends the check with its output and exit status 1, no traceback.
(Not collected by pytest: its name does not start with test_.)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


class CheckFailed(Exception):
    pass


def run(
    cmd: list[str], *, env: dict[str, str] | None = None, capture: bool = False
) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, cwd=ROOT, env=env, text=True, capture_output=capture)
    if done.returncode != 0:
        output = (done.stdout or "") + (done.stderr or "") if capture else ""
        raise CheckFailed(f"`{' '.join(cmd)}` exited with {done.returncode}\n{output}")
    return done


def runtime_python() -> str:
    """The interpreter binder/runtime.txt names (``python-3.11`` -> ``python3.11``)."""
    text = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    name, _, version = text.partition("-")
    if name != "python" or not version:
        raise CheckFailed(f"binder/runtime.txt says {text!r}, not python-<major>.<minor>")
    found = shutil.which(f"python{version}")
    if found is None:
        raise CheckFailed(
            f"binder/runtime.txt asks for Python {version}: python{version} not found"
        )
    return found


def jupyter_env(work: Path, env_bin: Path) -> dict[str, str]:
    """The environment of a Binder session: the Binder environment first on PATH, Jupyter's user
    folders empty, no hash seed but the kernel's, outputs under ``work``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTER", "CROSSCASE_", "VIRTUAL_ENV"))
        and k not in {"PYTHONHASHSEED", "PYTHONPATH"}
    }
    env.update(
        {
            "PATH": f"{env_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "JUPYTER_CONFIG_DIR": str(work / "jupyter" / "config"),
            "JUPYTER_DATA_DIR": str(work / "jupyter" / "data"),
            "JUPYTER_RUNTIME_DIR": str(work / "jupyter" / "runtime"),
            "CROSSCASE_OUTPUT_ROOT": str(work / "outputs"),
        }
    )
    return env


def notebook_kernels() -> dict[str, str]:
    """Notebook file name -> the kernel name its metadata gives."""
    return {
        nb.name: json.loads(nb.read_text(encoding="utf-8"))["metadata"]["kernelspec"]["name"]
        for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    }


def check_kernels(env: dict[str, str], env_dir: Path) -> None:
    """Each notebook's kernel is registered in the environment and runs its Python; every
    Jupyter server extension of the environment loads."""
    jupyter = str(env_dir / "bin" / "jupyter")
    specs = json.loads(run([jupyter, "kernelspec", "list", "--json"], env=env, capture=True).stdout)
    for nb, name in notebook_kernels().items():
        spec = specs["kernelspecs"].get(name)
        if spec is None:
            raise CheckFailed(f"{nb} names kernel {name!r}, which the Binder environment lacks")
        where = Path(spec["resource_dir"])
        if env_dir not in where.parents:
            raise CheckFailed(f"kernel {name!r} is registered outside the environment: {where}")
        python = Path(spec["spec"]["argv"][0])
        if python.is_absolute() and python.parent != env_dir / "bin":
            raise CheckFailed(f"kernel {name!r} runs {python}, not the environment's Python")
    print(f"kernels {sorted(set(notebook_kernels().values()))}: in {env_dir}")
    listed = run([jupyter, "server", "extension", "list"], env=env, capture=True)
    text = listed.stdout + listed.stderr
    if "Validation failed" in text or "\x1b[31m X" in text or "Traceback" in text:
        raise CheckFailed(f"a Jupyter server extension does not load:\n{text}")


def check_repo2docker(work: Path) -> None:
    """What repo2docker would build from the project (it needs no Docker engine for this)."""
    tools = work / "repo2docker"
    run([sys.executable, "-m", "venv", str(tools)])
    run(
        [
            str(tools / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--requirement",
            str(ROOT / "tests" / "repo2docker.lock"),
        ]
    )
    done = run(
        [str(tools / "bin" / "repo2docker"), "--no-build", "--debug", str(ROOT)], capture=True
    )
    said = done.stdout + done.stderr
    (work / "repo2docker-no-build.txt").write_text(said, encoding="utf-8")
    version = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip().removeprefix("python-")
    wanted = [
        f"Building conda environment for python={version}",
        'pip install --no-cache-dir -r "binder/requirements.txt"',
        "./binder/postBuild",
    ]
    missing = [w for w in wanted if w not in said]
    if missing or "environment.yml" in said:
        raise CheckFailed(
            f"repo2docker --no-build does not build from binder/ (missing {missing}; "
            f"see {work / 'repo2docker-no-build.txt'}):\n{said[-3000:]}"
        )
    print("repo2docker --no-build reads binder/: " + "; ".join(wanted))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="folder for the environment")
    parser.add_argument("--no-repo2docker", action="store_true", help="skip step 6")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    env_dir = work / "env"
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--requirement"]
    start = time.monotonic()
    try:
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        run([runtime_python(), "-m", "venv", str(env_dir)])
        run([*pip, str(ROOT / "tests" / "binder-base.txt")])
        run([*pip, str(BINDER / "requirements.txt")])
        run([str(env_dir / "bin" / "python"), "-m", "pip", "check"])
        env = jupyter_env(work, env_dir / "bin")
        run([str(BINDER / "postBuild")], env=env)
        check_kernels(env, env_dir)
        run(
            [
                str(env_dir / "bin" / "python"),
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-o",
                "addopts=",
                "--nbval",
                "-q",
                *(f"notebooks/{nb}" for nb in notebook_kernels()),
            ],
            env=env,
        )
        if not args.no_repo2docker:
            check_repo2docker(work)
    except CheckFailed as failure:
        print(f"binder check FAILED: {failure}", file=sys.stderr)
        return 1
    print(f"binder check passed in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
