"""Two-rank checks under ``mpirun -n 2`` (see ``_mpi_worker.py`` for what each scenario asserts).

Skipped, with the reason, when ``mpirun`` or ``mpi4py`` is missing. Each run has
OMP_NUM_THREADS=1 (two ranks on two cores).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

pytestmark = [
    pytest.mark.skipif(shutil.which("mpirun") is None, reason="mpirun (OpenMPI) is not installed"),
    pytest.mark.skipif(
        importlib.util.find_spec("mpi4py") is None, reason="mpi4py is not installed"
    ),
]


@pytest.fixture(scope="module", autouse=True)
def _import_once() -> None:
    """Import ctorch once in a child before launching ranks: with an editable install whose
    Cython sources changed, the first import rebuilds the extensions (minutes), which should
    neither happen in two ranks at once nor count against the mpirun timeout (a hang guard)."""
    subprocess.run(
        [sys.executable, "-c", "import ctorch.distributed, ctorch.nn.parallel"],
        capture_output=True,
        timeout=1800,
        cwd=str(ROOT),
    )


def mpirun(args: list[str], n: int = 2, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    cmd = ["mpirun", "--oversubscribe", "-n", str(n)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.insert(1, "--allow-run-as-root")
    return subprocess.run(
        [*cmd, sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=str(ROOT),
    )


@pytest.mark.parametrize(
    "scenarios", [["collectives", "sampler"], ["ddp_train"], ["ddp_features"]], ids="+".join
)
def test_two_ranks(scenarios: list[str]) -> None:
    proc = mpirun([str(HERE / "_mpi_worker.py"), *scenarios])
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for name in scenarios:
        for rank in (0, 1):
            assert f"OK {name} rank {rank}" in proc.stdout, out


def test_ddp_example_two_ranks(tmp_path: Path) -> None:
    proc = mpirun(
        [str(ROOT / "examples" / "ddp_mnist.py"), "--epochs", "1", "--limit", "256"],
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "world size 2" in proc.stdout, out
    assert "test accuracy" in proc.stdout, out
