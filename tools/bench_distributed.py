"""Distributed benchmarks: MPI all-reduce bandwidth and DDP training-step throughput.

    python tools/bench_distributed.py [--out tools/bench_distributed.md] [--steps 30]

Launches itself under ``mpirun`` (OMP_NUM_THREADS=1 per rank) and writes a markdown fragment
(for BENCHMARKS.md) with:

* all-reduce of a 100 MB float32 buffer between 2 ranks (MPI over shared memory), in place,
  through ``ctorch.distributed.all_reduce``: time, algorithm bandwidth (bytes / time) and bus
  bandwidth (algbw * 2(n-1)/n), as nccl-tests define them;
* training-step throughput (forward, backward, SGD step; synthetic 1x28x28 inputs) of the
  LeNet-5 CNN at batch 64 per rank: 1 rank x 1 thread without DDP, and 2 ranks x 1 thread
  with DDP (and the 2 processes each training alone, without communication, to separate the
  cost of sharing the machine from the cost of DDP); plus the 2-rank step with the bucket all-reduces overlapping backward against the
  same step with all all-reduces started after backward (``ddp._ddp_overlap = False``), for
  LeNet (one 25 MB bucket holds its 0.25 MB of gradients, so there is nothing to overlap;
  also with 0.05 MB buckets) and for a 4 x Linear(1024) MLP (16 MB of gradients) where
  communication matters. Overlap and no-overlap blocks are interleaved and each reported
  time is the median of the per-step medians of the blocks.

The machine's load average is recorded: other processes on a 2-core machine distort the
2-rank numbers, which need both cores.
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

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------ worker side
def _worker(args: argparse.Namespace) -> None:
    import numpy as np

    import ctorch
    import ctorch.distributed as dist
    from ctorch import nn
    from ctorch.nn.parallel import DistributedDataParallel as DDP
    from ctorch.vision.models import LeNet5

    ctorch.set_num_threads(1)
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    out: dict = {"world": world}

    if args.allreduce and world > 1:
        n = 100 * 1000 * 1000 // 4  # 100 MB of float32
        t = ctorch.ones(n)
        times = []
        for i in range(args.allreduce + 2):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(t)
            dt = time.perf_counter() - t0
            if i >= 2:
                times.append(dt)
        out["allreduce_s"] = float(np.median(times))
        out["allreduce_best_s"] = float(min(times))
        out["allreduce_bytes"] = n * 4

    def make(kind: str):
        ctorch.manual_seed(0)
        if kind == "lenet":
            return LeNet5(), (args.batch, 1, 28, 28), 10
        layers = []
        for _ in range(4):
            layers += [nn.Linear(1024, 1024), nn.ReLU()]
        return nn.Sequential(*layers, nn.Linear(1024, 10)), (args.batch, 1024), 10

    def steps(model, opt, x, y, k: int) -> list[float]:
        loss_fn = nn.CrossEntropyLoss()
        ts = []
        for _ in range(k):
            t0 = time.perf_counter()
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
            ts.append(time.perf_counter() - t0)
        return ts

    for spec in args.configs.split(","):
        kind, mode, cap = spec.split(":")  # lenet:plain:0, lenet:ddp:25, mlp:ddp:25
        net, shape, ncls = make(kind)
        g = np.random.default_rng(rank)
        x = ctorch.from_numpy(g.standard_normal(shape).astype(np.float32))
        y = ctorch.from_numpy(g.integers(0, ncls, shape[0]).astype(np.int64))
        if mode in ("plain", "sync"):
            model = net
            if mode == "sync":  # no DDP, but a 4-byte all-reduce per step: lockstep only
                flag = ctorch.ones(1)

                def model(inp, net=net, flag=flag):
                    dist.all_reduce(flag)
                    return net(inp)

                params = net.parameters()
            else:
                params = model.parameters()
            opt = ctorch.optim.SGD(params, lr=0.01, momentum=0.9)
            steps(model, opt, x, y, 5)
            blocks = [steps(model, opt, x, y, args.steps) for _ in range(3)]
            out[spec] = {
                "plain": float(np.median([np.median(b) for b in blocks])),
                "plain_best": float(min(min(b) for b in blocks)),
            }
            continue
        model = DDP(net, bucket_cap_mb=float(cap))
        opt = ctorch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        res: dict = {"overlap": [], "after": []}
        steps(model, opt, x, y, 5)
        for _ in range(3):  # interleaved blocks
            for name, flag in (("overlap", True), ("after", False)):
                model._ddp_overlap = flag
                dist.barrier()
                res[name].append(steps(model, opt, x, y, args.steps))
        out[spec] = {"buckets": len(model._buckets)}
        for name, blocks in res.items():
            out[spec][name] = float(np.median([np.median(b) for b in blocks]))
            out[spec][name + "_best"] = float(min(min(b) for b in blocks))
    if rank == 0:
        print("RESULT " + json.dumps(out), flush=True)
    dist.destroy_process_group()


# ------------------------------------------------------------------------------ driver side
def _launch(n: int, extra: list[str], yield_idle: bool = False) -> dict:
    cmd = ["mpirun", "--oversubscribe", "-n", str(n)]
    if yield_idle:  # waiting ranks yield the CPU instead of busy-polling (OpenMPI setting)
        cmd += ["--mca", "mpi_yield_when_idle", "1"]
    if os.geteuid() == 0:
        cmd.insert(1, "--allow-run-as-root")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(
        [*cmd, sys.executable, __file__, "--worker", *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise SystemExit(f"benchmark run failed:\n{proc.stdout}\n{proc.stderr}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--configs", default="")
    ap.add_argument("--allreduce", type=int, default=0, help="all-reduce repetitions")
    ap.add_argument("--steps", type=int, default=30, help="steps per timed block")
    ap.add_argument("--batch", type=int, default=64, help="batch per rank")
    ap.add_argument("--out", default=str(ROOT / "tools" / "bench_distributed.md"))
    ap.add_argument(
        "--yield-when-idle",
        action="store_true",
        help="run the ranks with OpenMPI's mpi_yield_when_idle=1 (for loaded machines)",
    )
    args = ap.parse_args()
    if args.worker:
        _worker(args)
        return
    if shutil.which("mpirun") is None:
        raise SystemExit("mpirun not found: install OpenMPI (apt-get install openmpi-bin)")

    load0 = os.getloadavg()
    common = ["--steps", str(args.steps), "--batch", str(args.batch)]
    y = args.yield_when_idle
    one = _launch(1, ["--configs", "lenet:plain:0,lenet:ddp:25,mlp:plain:0", *common], y)
    two = _launch(
        2,
        [
            "--allreduce",
            "10",
            "--configs",
            "lenet:plain:0,lenet:sync:0,lenet:ddp:25,lenet:ddp:0.05,"
            "mlp:plain:0,mlp:ddp:25,mlp:ddp:2",
            *common,
        ],
        y,
    )
    load1 = os.getloadavg()

    b = args.batch
    nbytes = two["allreduce_bytes"]
    t = two["allreduce_s"]
    tb = two["allreduce_best_s"]
    algbw = nbytes / t / 1e9
    busbw = algbw * 2 * (2 - 1) / 2
    lines = [
        "## Distributed (MPI, 2 ranks on one machine)",
        "",
        f"Measured with `python tools/bench_distributed.py` (OpenMPI shared memory, "
        f"OMP_NUM_THREADS=1 per rank, batch {b} per rank, median step times"
        f"{', mpi_yield_when_idle=1' if y else ''}). Load average "
        f"{load0[0]:.2f} before, {load1[0]:.2f} after (2 cores; the 2-rank runs need both, so "
        "load from other processes inflates them; the best single step is the least disturbed "
        "figure).",
        "",
        "| all-reduce, 100 MB float32, 2 ranks | time | algbw | busbw |",
        "|---|---|---|---|",
        f"| `dist.all_reduce` (MPI Allreduce, in place), median | {t * 1e3:.1f} ms | "
        f"{algbw:.2f} GB/s | {busbw:.2f} GB/s |",
        f"| same, best of 10 | {tb * 1e3:.1f} ms | {nbytes / tb / 1e9:.2f} GB/s | "
        f"{nbytes / tb / 1e9:.2f} GB/s |",
        "",
        "| training step | 1 rank x 1 thread | 2 ranks x 1 thread (DDP) | speed-up (images/s) |",
        "|---|---|---|---|",
    ]
    for kind, name in (("lenet", "LeNet-5"), ("mlp", "MLP 4x1024")):
        for stat, label in (("", "median"), ("_best", "best step")):
            p1 = one[f"{kind}:plain:0"]["plain" + stat]
            d2 = two[f"{kind}:ddp:25"]["overlap" + stat]
            lines.append(
                f"| {name}, no DDP vs DDP (25 MB buckets), {label} | {p1 * 1e3:.2f} ms "
                f"({b / p1:,.0f} img/s) | {d2 * 1e3:.2f} ms ({2 * b / d2:,.0f} img/s) | "
                f"{2 * p1 / d2:.2f}x |"
            )
    d1 = one["lenet:ddp:25"]["overlap"]
    lines += [
        "",
        "Same 2 processes, each training alone without DDP (no communication; shows what "
        "sharing the machine costs each rank): "
        + ", ".join(
            f"{name} {two[f'{kind}:plain:0']['plain'] * 1e3:.2f} ms per step"
            for kind, name in (("lenet", "LeNet-5"), ("mlp", "MLP 4x1024"))
        )
        + f"; LeNet-5 without DDP but with a 4-byte all-reduce per step (the ranks in "
        f"lockstep, as under DDP, with no gradient traffic): "
        f"{two['lenet:sync:0']['plain'] * 1e3:.2f} ms.",
        "",
        f"DDP overhead at 1 rank (LeNet-5): {d1 * 1e3:.2f} ms per step vs "
        f"{one['lenet:plain:0']['plain'] * 1e3:.2f} ms without DDP.",
        "",
        "| 2 ranks, DDP step | buckets | all-reduce overlapping backward | all-reduce after "
        "backward | gain |",
        "|---|---|---|---|---|",
    ]
    for key, name in (
        ("lenet:ddp:25", "LeNet-5, bucket_cap_mb=25"),
        ("lenet:ddp:0.05", "LeNet-5, bucket_cap_mb=0.05"),
        ("mlp:ddp:25", "MLP 4x1024, bucket_cap_mb=25"),
        ("mlp:ddp:2", "MLP 4x1024, bucket_cap_mb=2"),
    ):
        r = two[key]
        lines.append(
            f"| {name} | {r['buckets']} | {r['overlap'] * 1e3:.2f} ms "
            f"(best {r['overlap_best'] * 1e3:.2f}) | {r['after'] * 1e3:.2f} ms "
            f"(best {r['after_best'] * 1e3:.2f}) | {(r['after'] / r['overlap'] - 1) * 100:+.1f}% |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
