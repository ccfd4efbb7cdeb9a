"""ctorch.distributed.run / launch: torchrun's options and per-rank environment, both
launchers (plain subprocesses always; mpirun when OpenMPI and mpi4py are installed), failure
propagation, and init_process_group's env:// / tcp:// handling."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ctorch.distributed.distributed_c10d import _from_init_method
from ctorch.distributed.run import parse_args, rank_environment

HAS_MPI = shutil.which("mpirun") is not None and importlib.util.find_spec("mpi4py") is not None
KEYS = ["RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "ROLE_RANK"]
KEYS += ["MASTER_ADDR", "MASTER_PORT", "OMP_NUM_THREADS"]

ENV_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    import torch  # the launcher runs scripts under ctorch.run
    assert torch.__name__ == "ctorch"
    keys = KEYS_REPR
    line = " ".join(f"{k}={os.environ.get(k)}" for k in keys) + f" argv {sys.argv[1:]}\\n"
    os.write(1, line.encode())  # one write: the ranks share the pipe
    if "fail" in sys.argv:
        if os.environ["RANK"] == "1":
            sys.exit(3)
        time.sleep(60)
    """.replace("KEYS_REPR", repr(KEYS))
)


def _launch(module: str, *args: str, cwd: Path, env: dict | None = None, timeout: int = 300):
    e = dict(os.environ)
    e.pop("OMP_NUM_THREADS", None)
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=e,
    )


def _rank_lines(out: str) -> list[dict]:
    rows = []
    for line in out.splitlines():
        if line.startswith("RANK="):
            head, _, argv = line.partition(" argv ")
            row = dict(kv.split("=", 1) for kv in head.split())
            row["argv"] = argv
            rows.append(row)
    return sorted(rows, key=lambda r: r["RANK"])


def test_parse_args_torchrun_spellings():
    a = parse_args(["--nproc_per_node=3", "--master-port", "1234", "train.py", "--lr", "0.1"])
    assert (a.nproc_per_node, a.master_port, a.training_script) == ("3", 1234, "train.py")
    assert a.training_script_args == ["--lr", "0.1"]
    b = parse_args(["--standalone", "--nnodes=1", "--nproc-per-node", "2", "-m", "pkg.train"])
    assert b.module and b.standalone and b.training_script == "pkg.train"


def test_rank_environment():
    env = rank_environment(1, 4, node_rank=2, nnodes=3)
    assert env["RANK"] == "9" and env["LOCAL_RANK"] == "1" and env["WORLD_SIZE"] == "12"
    assert env["LOCAL_WORLD_SIZE"] == "4" and env["GROUP_RANK"] == "2"


@pytest.mark.parametrize(
    "launcher",
    [
        "subprocess",
        pytest.param(
            "mpi", marks=pytest.mark.skipif(not HAS_MPI, reason="needs mpirun and mpi4py")
        ),
    ],
)
def test_ranks_get_torchrun_environment(tmp_path, launcher):
    (tmp_path / "s.py").write_text(ENV_SCRIPT)
    p = _launch(
        "ctorch.distributed.run",
        "--launcher",
        launcher,
        "--nproc-per-node",
        "2",
        "--master-port",
        "4321",
        "s.py",
        "a",
        "--b=1",
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    rows = _rank_lines(p.stdout)
    assert [r["RANK"] for r in rows] == ["0", "1"]
    for i, r in enumerate(rows):
        assert r["LOCAL_RANK"] == str(i) and r["ROLE_RANK"] == str(i)
        assert r["WORLD_SIZE"] == "2" and r["LOCAL_WORLD_SIZE"] == "2" and r["GROUP_RANK"] == "0"
        assert r["MASTER_ADDR"] == "127.0.0.1" and r["MASTER_PORT"] == "4321"
        assert r["OMP_NUM_THREADS"] == "1"  # set for >1 rank when unset, as torchrun
        assert r["argv"] == "['a', '--b=1']"
    assert "OMP_NUM_THREADS=1" in p.stderr


@pytest.mark.parametrize(
    "launcher",
    [
        "subprocess",
        pytest.param(
            "mpi", marks=pytest.mark.skipif(not HAS_MPI, reason="needs mpirun and mpi4py")
        ),
    ],
)
def test_failed_rank_stops_the_others(tmp_path, launcher):
    (tmp_path / "s.py").write_text(ENV_SCRIPT)
    t0 = time.time()
    p = _launch(
        "ctorch.distributed.run",
        "--launcher",
        launcher,
        "--nproc-per-node",
        "2",
        "s.py",
        "fail",
        cwd=tmp_path,
        env={"OMP_NUM_THREADS": "1"},
    )
    assert p.returncode != 0
    assert time.time() - t0 < 50  # rank 0's 60 s sleep was cut short
    assert "ChildFailedError" in p.stderr
    if launcher == "subprocess":
        assert p.returncode == 3 and "rank 1 exited with code 3" in p.stderr


def test_legacy_launch_passes_local_rank(tmp_path):
    (tmp_path / "s.py").write_text(ENV_SCRIPT)
    p = _launch(
        "ctorch.distributed.launch",
        "--launcher",
        "subprocess",
        "--nproc-per-node",
        "2",
        "s.py",
        "x",
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    assert [r["argv"] for r in _rank_lines(p.stdout)] == [
        "['x', '--local-rank=0']",
        "['x', '--local-rank=1']",
    ]
    p = _launch(
        "ctorch.distributed.launch",
        "--use-env",
        "--launcher",
        "subprocess",
        "--nproc-per-node",
        "2",
        "s.py",
        cwd=tmp_path,
    )
    assert [r["argv"] for r in _rank_lines(p.stdout)] == ["[]", "[]"]


def test_module_mode(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "train.py").write_text(ENV_SCRIPT)
    p = _launch(
        "ctorch.distributed.run",
        "--launcher",
        "subprocess",
        "--nproc-per-node",
        "1",
        "-m",
        "pkg.train",
        "z",
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert p.returncode == 0, p.stderr
    (row,) = _rank_lines(p.stdout)
    assert row["WORLD_SIZE"] == "1" and row["argv"] == "['z']"
    assert row["OMP_NUM_THREADS"] == "None"  # one rank: left alone


def test_init_method_env_and_tcp(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "2")
    assert _from_init_method(None, -1, -1) == (4, 2)
    assert _from_init_method("env://", 3, 1) == (3, 1)  # arguments win
    assert _from_init_method("tcp://10.0.0.1:23456?world_size=2&rank=1", -1, -1) == (2, 1)
    assert _from_init_method("file:///tmp/x", -1, -1) == (-1, -1)
    with pytest.raises(ValueError, match="unsupported init_method"):
        _from_init_method("redis://x", -1, -1)


@pytest.mark.skipif(not HAS_MPI, reason="needs mpirun and mpi4py")
def test_world_size_from_env_without_launcher_names_the_launcher(tmp_path):
    # torchrun's variables but no other rank: rank 0 waits for it (as torch does) until the
    # timeout, then names the launcher
    code = (
        "import datetime, ctorch.distributed as dist\n"
        "try:\n"
        "    dist.init_process_group('gloo', timeout=datetime.timedelta(seconds=2))\n"
        "except RuntimeError as e:\n"
        "    print(e)\n"
    )
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    free = str(port.getsockname()[1])
    port.close()
    env = dict(os.environ, WORLD_SIZE="2", RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT=free)
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert "python -m ctorch.distributed.run --nproc-per-node 2" in p.stdout, p.stderr
