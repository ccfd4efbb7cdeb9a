"""The TCP transport (``ctorch/distributed/_tcp.py``): plain processes started the torchrun way
(``python -m ctorch.distributed.run --launcher subprocess``) meet at MASTER_ADDR:MASTER_PORT.

Needs no MPI: these run everywhere. The same worker scenarios as ``test_multirank.py`` (which runs
them under mpirun) run here over TCP, plus the transport's own failure modes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import ctorch
import ctorch.distributed as dist

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", autouse=True)
def _import_once() -> None:
    """Import once first: an editable install may rebuild its extensions on the first import,
    which should not happen in several ranks at once."""
    subprocess.run(
        [sys.executable, "-c", "import ctorch.distributed, ctorch.nn.parallel"],
        capture_output=True,
        timeout=1800,
        cwd=str(ROOT),
    )


def launch(args: list[str], n: int, timeout: int = 300, **env: str) -> subprocess.CompletedProcess:
    e = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", **env)
    for k in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"):
        e.pop(k, None)
    cmd = [sys.executable, "-m", "ctorch.distributed.run", "--launcher", "subprocess"]
    cmd += ["--nproc-per-node", str(n), "--master-port", str(free_port()), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e, cwd=HERE)


@pytest.mark.parametrize(
    "n,scenarios",
    [
        (2, ["collectives", "sampler", "transport"]),
        (3, ["collectives", "transport"]),
        (2, ["ddp_train"]),
        (2, ["ddp_features"]),
    ],
    ids=lambda v: str(v) if isinstance(v, int) else "+".join(v),
)
def test_worker_scenarios_over_tcp(n: int, scenarios: list[str]) -> None:
    proc = launch(["_mpi_worker.py", *scenarios], n, CTORCH_TEST_BACKEND="gloo")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for name in scenarios:
        for rank in range(n):
            assert f"OK {name} rank {rank}" in proc.stdout, out


def test_ddp_example_over_tcp() -> None:
    proc = launch([str(ROOT / "examples" / "ddp_mnist.py"), "--epochs", "1", "--limit", "256"], 2)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "world size 2" in proc.stdout and "test accuracy" in proc.stdout, out


def test_tcp_matches_mpi_world_rules(tmp_path: Path) -> None:
    """torchrun-style script: backend from the environment, get_backend says gloo."""
    (tmp_path / "s.py").write_text(
        textwrap.dedent(
            """
            import os, torch, torch.distributed as dist
            dist.init_process_group("gloo")
            assert dist.get_backend() == "gloo" and dist.is_gloo_available()
            t = torch.tensor([dist.get_rank() + 1.0])
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            # one write per line: the ranks share the pipe and print's pieces interleave
            os.write(1, f"RESULT {dist.get_rank()} {t.item()}\\n".encode())
            dist.destroy_process_group()
            """
        )
    )
    proc = launch([str(tmp_path / "s.py")], 2)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(line for line in proc.stdout.splitlines() if line.startswith("RESULT")) == [
        "RESULT 0 2.0",
        "RESULT 1 2.0",
    ]


def test_mismatched_sizes_raise_clearly(tmp_path: Path) -> None:
    (tmp_path / "s.py").write_text(
        textwrap.dedent(
            """
            import os, torch, torch.distributed as dist
            dist.init_process_group("gloo")
            t = torch.zeros(3 + dist.get_rank())
            dist.all_reduce(t)
            """
        )
    )
    proc = launch([str(tmp_path / "s.py")], 2, timeout=120)
    assert proc.returncode != 0
    assert "all_reduce" in proc.stderr and "bytes but" in proc.stderr, proc.stderr


def test_dead_peer_is_an_error_not_a_hang(tmp_path: Path) -> None:
    (tmp_path / "s.py").write_text(
        textwrap.dedent(
            """
            import os, torch, torch.distributed as dist
            dist.init_process_group("gloo")
            if dist.get_rank() == 1:
                os._exit(0)
            dist.all_reduce(torch.zeros(4))
            """
        )
    )
    t0 = time.time()
    proc = launch([str(tmp_path / "s.py")], 2, timeout=120)
    assert proc.returncode != 0
    assert "closed the connection" in proc.stderr, proc.stderr
    assert time.time() - t0 < 100


def test_single_rank_world_needs_no_address() -> None:
    dist.init_process_group("gloo", rank=0, world_size=1)
    try:
        t = ctorch.arange(4.0)
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        assert t.tolist() == [0.0, 1.0, 2.0, 3.0]
        out = [ctorch.zeros(4)]
        dist.all_gather(out, t)
        assert out[0].tolist() == t.tolist()
        assert dist.get_backend() == "gloo"
    finally:
        dist.destroy_process_group()


def test_tcp_init_method_single_rank() -> None:
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1
    )
    try:
        objs = [None]
        dist.all_gather_object(objs, {"a": 1})
        assert objs == [{"a": 1}]
    finally:
        dist.destroy_process_group()


def test_address_without_rank_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(free_port()))
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    for k in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(ValueError, match="RANK and WORLD_SIZE"):
        dist.init_process_group("gloo")
    assert not dist.is_initialized()


def test_rendezvous_timeout_names_the_missing_ranks() -> None:
    from datetime import timedelta

    with pytest.raises(RuntimeError, match="only 0 connected"):
        dist.init_process_group(
            "gloo",
            init_method=f"tcp://127.0.0.1:{free_port()}",
            rank=0,
            world_size=3,
            timeout=timedelta(seconds=1),
        )
    assert not dist.is_initialized()
