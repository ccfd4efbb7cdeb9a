"""``python -m ctorch.distributed.run``: a ``torchrun``-like launcher.

::

    python -m ctorch.distributed.run --nproc-per-node 2 train.py --epochs 3
    python -m ctorch.distributed.run --nproc-per-node 4 -m my_package.train
    python -m ctorch.distributed.run --standalone --nnodes 1 --nproc_per_node=2 train.py

Each rank runs the script under ``ctorch.run`` (so ``import torch`` is ctorch) with torchrun's
environment: ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``GROUP_RANK``,
``ROLE_RANK``, ``ROLE_WORLD_SIZE``, ``ROLE_NAME``, ``GROUP_WORLD_SIZE``, ``MASTER_ADDR``,
``MASTER_PORT``, ``TORCHELASTIC_RUN_ID``/``_RESTART_COUNT``/``_MAX_RESTARTS``, and
``OMP_NUM_THREADS=1`` when it was unset and more than one rank shares the machine (as torchrun).
``init_process_group("gloo" | "nccl" | "mpi")`` with the default ``env://`` then joins them.

How the ranks start (``--launcher``):

* ``mpi`` (the default when ``mpirun`` and ``mpi4py`` are installed): one ``mpirun -n N``
  (``--oversubscribe``, and ``--allow-run-as-root`` as root, added for OpenMPI); each process
  derives the variables above from its MPI rank, and ctorch's collectives run over MPI.
  ``--mpirun-args "..."`` passes extra options (a hostfile for several machines);
* ``subprocess``: N child processes with the variables set, no MPI (the default when MPI is
  missing). ``init_process_group("gloo" | "nccl")`` then meets the ranks over TCP at
  ``MASTER_ADDR:MASTER_PORT`` (``_tcp.py``): every collective, point-to-point operation and
  DDP works; the traffic goes through rank 0 (fine for a machine's worth of ranks).

The launcher waits for every rank; when one fails, the others are stopped and the launcher
exits with the failed rank's status (torchrun's ``ChildFailedError`` summary is printed).
``--nnodes`` other than 1 needs MPI's own multi-host launch (``--mpirun-args``, see
``docs/distributed.md``); rendezvous options (``--rdzv-*``, ``--max-restarts``) are accepted
for compatibility and have no effect beyond the variables above.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence

__all__ = ["main", "parse_args", "rank_environment", "worker_main"]

_RANK_SOURCES = (
    # (rank, size, local rank, local size) as MPI launchers export them
    (
        "OMPI_COMM_WORLD_RANK",
        "OMPI_COMM_WORLD_SIZE",
        "OMPI_COMM_WORLD_LOCAL_RANK",
        "OMPI_COMM_WORLD_LOCAL_SIZE",
    ),
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
    ("PMIX_RANK", "PMIX_SIZE", "PMIX_LOCAL_RANK", "PMIX_LOCAL_SIZE"),
    ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"),
)


# set by ctorch.distributed.launch: the option name each rank gets its local rank through
_LOCAL_RANK_ARG = "CTORCH_LAUNCH_LOCAL_RANK_ARG"


def _nproc(value: str) -> int:
    if value in ("cpu", "auto"):
        return os.cpu_count() or 1
    if value == "gpu":
        try:
            from .. import cuda

            n = cuda.device_count()
        except Exception:  # noqa: BLE001 - no CuPy / no driver: no GPUs
            n = 0
        if n == 0:
            raise ValueError("--nproc-per-node=gpu: no CUDA device is available")
        return n
    n = int(value)
    if n < 1:
        raise ValueError(f"--nproc-per-node must be at least 1, got {n}")
    return n


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m ctorch.distributed.run",
        description="Start N ranks of a training script, as torchrun does (ranks under MPI).",
    )
    p.add_argument("--nnodes", default="1", help="number of machines (only 1: see the docs)")
    p.add_argument(
        "--nproc-per-node", "--nproc_per_node", default="1", help="ranks per machine (int|cpu|gpu)"
    )
    p.add_argument("--node-rank", "--node_rank", type=int, default=0)
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1")
    p.add_argument("--master-port", "--master_port", type=int, default=29500)
    p.add_argument("--standalone", action="store_true", help="single machine (the default)")
    p.add_argument("--rdzv-backend", "--rdzv_backend", default="static")
    p.add_argument("--rdzv-endpoint", "--rdzv_endpoint", default="")
    p.add_argument("--rdzv-id", "--rdzv_id", default=None)
    p.add_argument("--rdzv-conf", "--rdzv_conf", default="")
    p.add_argument("--max-restarts", "--max_restarts", type=int, default=0)
    p.add_argument("--monitor-interval", "--monitor_interval", type=float, default=0.1)
    p.add_argument("--start-method", "--start_method", default="spawn")
    p.add_argument("--role", default="default")
    p.add_argument("--log-dir", "--log_dir", default=None)
    p.add_argument("-r", "--redirects", default="0")
    p.add_argument("-t", "--tee", default="0")
    p.add_argument("--local-addr", "--local_addr", default=None)
    p.add_argument("--no-python", "--no_python", action="store_true")
    p.add_argument("-m", "--module", action="store_true", help="run the script as a module")
    p.add_argument(
        "--launcher",
        choices=("auto", "mpi", "subprocess"),
        default="auto",
        help="start the ranks with mpirun (default when available) or as plain subprocesses",
    )
    p.add_argument("--mpirun", default="mpirun", help="the MPI launcher executable")
    p.add_argument("--mpirun-args", "--mpirun_args", default="", help="extra mpirun options")
    p.add_argument("training_script")
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return p.parse_args(argv)


def _mpi_available(mpirun: str) -> bool:
    return shutil.which(mpirun) is not None and importlib.util.find_spec("mpi4py") is not None


def _base_env(args: argparse.Namespace, nproc: int) -> dict[str, str]:
    env = dict(os.environ)
    nnodes = int(str(args.nnodes).split(":")[-1])
    env.update(
        MASTER_ADDR=str(args.master_addr),
        MASTER_PORT=str(args.master_port),
        LOCAL_WORLD_SIZE=str(nproc),
        WORLD_SIZE=str(nproc * nnodes),
        GROUP_RANK=str(args.node_rank),
        GROUP_WORLD_SIZE=str(nnodes),
        ROLE_NAME=str(args.role),
        ROLE_WORLD_SIZE=str(nproc * nnodes),
        TORCHELASTIC_RUN_ID=str(args.rdzv_id or uuid.uuid4().hex[:12]),
        TORCHELASTIC_RESTART_COUNT="0",
        TORCHELASTIC_MAX_RESTARTS=str(args.max_restarts),
        TORCHELASTIC_USE_AGENT_STORE="False",
        TORCH_NCCL_ASYNC_ERROR_HANDLING=env.get("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1"),
        CTORCH_LAUNCHER="ctorch.distributed.run",
    )
    if "OMP_NUM_THREADS" not in os.environ and nproc > 1:
        env["OMP_NUM_THREADS"] = "1"
        sys.stderr.write(
            "ctorch.distributed.run: setting OMP_NUM_THREADS=1 for each rank (as torchrun); "
            "set it yourself to use more threads per rank\n"
        )
    return env


def rank_environment(
    local_rank: int, nproc: int, node_rank: int = 0, nnodes: int = 1
) -> dict[str, str]:
    """The per-rank variables torchrun sets for ``local_rank`` on node ``node_rank``."""
    rank = node_rank * nproc + local_rank
    return {
        "RANK": str(rank),
        "LOCAL_RANK": str(local_rank),
        "ROLE_RANK": str(rank),
        "LOCAL_WORLD_SIZE": str(nproc),
        "WORLD_SIZE": str(nproc * nnodes),
        "GROUP_RANK": str(node_rank),
    }


def _script_command(args: argparse.Namespace) -> list[str]:
    """What each rank runs after the interpreter."""
    if args.no_python:
        return [args.training_script, *args.training_script_args]
    head = ["-m", args.training_script] if args.module else [args.training_script]
    return [*head, *args.training_script_args]


def _wait_all(procs: list[subprocess.Popen], ranks: list[int], under_mpi: bool = False) -> int:
    """Wait for every process; on the first failure stop the rest. Returns the exit status."""
    failed: tuple[int, int] | None = None
    try:
        while True:
            running = False
            for proc, rank in zip(procs, ranks, strict=True):
                rc = proc.poll()
                if rc is None:
                    running = True
                elif rc != 0 and failed is None:
                    failed = (rank, rc)
            if failed is not None or not running:
                break
            time.sleep(0.05)
    except KeyboardInterrupt:
        failed = (-1, 130)
    if failed is not None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.time() + 10
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        rank, rc = failed
        if under_mpi:
            sys.stderr.write(
                f"ctorch.distributed.run: ChildFailedError: mpirun exited with code {rc} (a rank "
                "failed; mpirun's report above names it)\n"
            )
        elif rank >= 0:
            sys.stderr.write(
                f"ctorch.distributed.run: ChildFailedError: rank {rank} exited with code {rc}; "
                "the other ranks were stopped\n"
            )
        return rc if rc > 0 else 128 - rc if rc < 0 else 1
    return 0


def _run_subprocesses(args: argparse.Namespace, nproc: int) -> int:
    env = _base_env(args, nproc)
    nnodes = int(str(args.nnodes).split(":")[-1])
    procs, ranks = [], []
    for local_rank in range(nproc):
        e = dict(env)
        e.update(rank_environment(local_rank, nproc, args.node_rank, nnodes))
        if args.no_python:
            cmd = _script_command(args)
        else:
            cmd = [sys.executable, "-m", "ctorch.run", *_script_command(args)]
        if e.get(_LOCAL_RANK_ARG):
            cmd.append(f"{e[_LOCAL_RANK_ARG]}={local_rank}")
        procs.append(subprocess.Popen(cmd, env=e))
        ranks.append(int(e["RANK"]))
    return _wait_all(procs, ranks)


def _run_mpi(args: argparse.Namespace, nproc: int) -> int:
    env = _base_env(args, nproc)
    cmd = [args.mpirun, "-n", str(nproc)]
    extra = shlex.split(args.mpirun_args)
    if "Open MPI" in _mpirun_version(args.mpirun):
        if "--oversubscribe" not in extra:
            cmd.append("--oversubscribe")
        if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-run-as-root" not in extra:
            cmd.append("--allow-run-as-root")
    cmd += extra
    if args.no_python:
        cmd += [sys.executable, "-m", "ctorch.distributed.run", "--_rank-exec"]
    else:
        cmd += [sys.executable, "-m", "ctorch.distributed.run", "--_rank"]
    cmd += _script_command(args)
    proc = subprocess.Popen(cmd, env=env)
    return _wait_all([proc], [0], under_mpi=True)


def _mpirun_version(mpirun: str) -> str:
    try:
        out = subprocess.run([mpirun, "--version"], capture_output=True, text=True, timeout=30)
        return out.stdout + out.stderr
    except (OSError, subprocess.SubprocessError):
        return ""


def _env_from_mpi() -> None:
    """Inside an MPI-launched rank: torchrun's per-rank variables from the MPI launcher's."""
    for rank_k, size_k, lrank_k, lsize_k in _RANK_SOURCES:
        if rank_k in os.environ:
            rank = int(os.environ[rank_k])
            size = int(os.environ.get(size_k, os.environ.get("WORLD_SIZE", "1")))
            lrank = int(os.environ.get(lrank_k, rank))
            lsize = int(os.environ.get(lsize_k, os.environ.get("LOCAL_WORLD_SIZE", size)))
            break
    else:
        raise RuntimeError(
            "ctorch.distributed.run --_rank: no MPI rank in the environment (this entry point "
            "is started by the launcher under mpirun)"
        )
    os.environ.update(
        RANK=str(rank),
        ROLE_RANK=str(rank),
        LOCAL_RANK=str(lrank),
        WORLD_SIZE=str(size),
        ROLE_WORLD_SIZE=str(size),
        LOCAL_WORLD_SIZE=str(lsize),
        GROUP_RANK=str(rank // max(lsize, 1)),
    )


def worker_main(argv: Sequence[str], exec_program: bool = False) -> int:
    """One rank started by mpirun: set the torchrun variables, then run the script under
    ``ctorch.run`` (or exec the program as given, for ``--no-python``)."""
    _env_from_mpi()
    argv = list(argv)
    if os.environ.get(_LOCAL_RANK_ARG):
        argv.append(f"{os.environ[_LOCAL_RANK_ARG]}={os.environ['LOCAL_RANK']}")
    if exec_program:
        os.execvp(argv[0], list(argv))
    from .. import run as _run

    return _run.main(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("--_rank", "--_rank-exec"):
        return worker_main(argv[1:], exec_program=argv[0] == "--_rank-exec")
    args = parse_args(argv)
    nproc = _nproc(str(args.nproc_per_node))
    nnodes = int(str(args.nnodes).split(":")[-1])
    launcher = args.launcher
    if launcher == "auto":
        launcher = "mpi" if _mpi_available(args.mpirun) else "subprocess"
    if nnodes != 1 and launcher == "mpi" and not args.mpirun_args:
        raise SystemExit(
            "ctorch.distributed.run: --nnodes > 1 starts ranks on several machines through MPI: "
            "pass a hostfile with --mpirun-args '--hostfile hosts' and set --nproc-per-node to "
            "the total number of ranks, or run mpirun yourself (docs/distributed.md)"
        )
    if launcher == "mpi" and not _mpi_available(args.mpirun):
        raise SystemExit(
            f"ctorch.distributed.run: --launcher mpi needs {args.mpirun!r} on PATH and mpi4py "
            "(apt-get install openmpi-bin libopenmpi-dev; pip install 'ctorch[distributed]')"
        )
    # build/import ctorch once here, not in N ranks at once (see docs/development.md)
    import ctorch  # noqa: F401

    if launcher == "mpi":
        return _run_mpi(args, nproc)
    return _run_subprocesses(args, nproc)


if __name__ == "__main__":
    sys.exit(main())
