"""The package installs as a wheel: schemas, data files and the local stack's pom travel with it.

A wheel is built from the checkout and installed, without dependencies, into a fresh virtualenv that
borrows the test environment's third-party packages (a .pth line); every command runs outside the
checkout, so nothing can be found by accident next to the sources.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory) -> Path:
    """A fresh virtualenv with the newsflow wheel installed."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        timeout=600,
        capture_output=True,
    )
    (wheel,) = out.glob("newsflow-*.whl")
    env = out / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(env / "bin" / "python"),
            "install",
            "--no-deps",
            "-q",
            "--force-reinstall",
            str(wheel),
        ],
        check=True,
        timeout=600,
        capture_output=True,
        env=_clean_env(),
    )
    (purelib,) = (env / "lib").glob("python3*/site-packages")  # then borrow the third-party packages
    (purelib / "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return env


def _clean_env() -> dict[str, str]:
    """The environment without PYTHONPATH: nothing but the fresh virtualenv decides what is imported."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _run(env: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(env / "bin" / argv[0]), *argv[1:]], cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=600
    )


def test_the_wheel_carries_its_data_and_runs_outside_the_checkout(wheel_env: Path, tmp_path: Path) -> None:
    where = _run(
        wheel_env,
        "python",
        "-c",
        "import json, pipeline, pipeline.contracts as c; "
        "print(json.dumps([pipeline.__file__, sorted(p.name for p in c.SCHEMAS_DIR.glob('*.json'))]))",
        cwd=tmp_path,
    )
    assert where.returncode == 0, where.stderr
    location, schemas = json.loads(where.stdout)
    assert str(wheel_env) in location, f"imported from {location}, not from the wheel"
    assert "news.raw.v1.json" in schemas and "common.v1.json" in schemas

    helped = _run(wheel_env, "newsflow", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "process" in helped.stdout

    out = tmp_path / "out.jsonl"
    done = _run(wheel_env, "newsflow", "process", str(SEEDS), "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 5 and all(r["topic"] == "enriched" and r["persons"] is not None for r in records)
