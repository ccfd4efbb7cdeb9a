"""Each script in ``examples/`` runs to completion (small and offline by design)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = {
    "numpy_pipeline.py": [],
    "custom_function.py": [],
    "cifar_style_training.py": ["--epochs", "1", "--size", "64"],
    # one process here (an MPI singleton when mpi4py is installed); two ranks under mpirun
    # in tests/distributed/test_multirank.py
    "ddp_mnist.py": ["--epochs", "1", "--limit", "256"],
    "gcn_sparse.py": ["--nodes", "120", "--epochs", "30"],  # exits non-zero on a mismatch
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_example_runs(name: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            *(["-S"] if sys.flags.no_site else []),
            str(EXAMPLES / name),
            *SCRIPTS[name],
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.strip()


def test_every_example_is_tested() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(SCRIPTS)
