"""ctorch vs PyTorch on one CUDA GPU, side by side in one process (issue #16's table).

    python tools/bench_gpu.py [--repeats 5] [--filter add] [--out BENCHMARKS.cuda.md]

Each case is built for both libraries from asv_bench/benchmarks/cases.py (the CPU report's
cases, moved to the GPU and with GPU-sized inputs: 64M elements for the elementwise rows). A
sample runs the callable ``k`` times and synchronizes once (``k`` chosen so a sample lasts
>= 20 ms), so per-call launch cost counts but one synchronization per call does not; the two
libraries alternate sample by sample and the table gives medians. **ratio** = ctorch throughput
/ torch throughput; **target** is the issue's goal for it. The NCCL rows run a one-rank
process group in each library (ctorch's over MPI for the rendezvous, torch's over a TCP store).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import statistics
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "asv_bench"))

from benchmarks import cases  # noqa: E402

GPU_BIG = 64 * 1024 * 1024


def _bytes_elem(n_read, n_write):
    return lambda: 4 * GPU_BIG * (n_read + n_write)


def _layernorm(backward, shape=(4096, 4096)):
    def make(lib):
        cases_lib = lib
        cases_lib.manual_seed(0)
        m = cases._dev(lib, lib.nn.LayerNorm(shape[-1]))
        x = cases._rand(lib, *shape, requires_grad=backward)
        if not backward:
            return lambda: m(x)
        g = cases._rand(lib, *shape, seed=3)

        def run():
            x.grad = None
            m.zero_grad()
            m(x).backward(g)

        return run

    return make


def _tiny(kind):
    def make(lib):
        a = cases._rand(lib, 16, requires_grad=kind == "fwd+bwd")
        b = cases._rand(lib, 16, seed=1)
        if kind == "add":
            return lambda: a + b
        if kind == "relu":
            return lambda: lib.relu(a)
        if kind == "sum":
            return lambda: a.sum()

        def run():
            a.grad = None
            (a * b).sum().backward()

        return run

    return make


def _nccl_allreduce(n):
    def make(lib):
        _ensure_group(lib)
        t = cases._rand(lib, n)
        dist = lib.distributed
        return lambda: dist.all_reduce(t)

    return make


def _ddp_step(lib):
    _ensure_group(lib)
    lib.manual_seed(0)
    model = cases._dev(lib, cases._mlp(lib))
    ddp = lib.nn.parallel.DistributedDataParallel(model, device_ids=[0])
    opt = lib.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    x = cases._rand(lib, 256, 784)
    y = cases._labels(lib, 10, 256)
    F = lib.nn.functional

    def run():
        opt.zero_grad()
        F.cross_entropy(ddp(x), y).backward()
        opt.step()

    return run


_GROUPS = {}


def _ensure_group(lib):
    if lib.__name__ in _GROUPS:
        return
    if lib.__name__ == "torch":
        lib.distributed.init_process_group(
            "nccl", init_method="tcp://127.0.0.1:29517", rank=0, world_size=1
        )
    else:
        lib.distributed.init_process_group("nccl")
    _GROUPS[lib.__name__] = True


C = cases
# name -> (make(lib), bytes-or-flops per call (for the rate column) or None, unit, target)
GPU_CASES = {
    "add 64M": (C._binary(lambda a, b: a + b), 12 * GPU_BIG, "B", 0.95),
    "mul 64M": (C._binary(lambda a, b: a * b), 12 * GPU_BIG, "B", 0.95),
    "relu 64M": (C._unary_fwd("relu"), 8 * GPU_BIG, "B", 0.95),
    "gelu 64M": (C._unary_fwd("gelu"), 8 * GPU_BIG, "B", 0.95),
    "sigmoid 64M": (C._unary_fwd("sigmoid"), 8 * GPU_BIG, "B", 0.95),
    "exp 64M": (C._unary_fwd("exp"), 8 * GPU_BIG, "B", 0.95),
    "tanh 64M": (C._unary_fwd("tanh"), 8 * GPU_BIG, "B", 0.95),
    "relu fwd+bwd 64M": (C._unary_fwd_bwd("relu"), None, "", 0.95),
    "gelu fwd+bwd 64M": (C._unary_fwd_bwd("gelu"), None, "", 0.95),
    "sum 64M": (C._reduce("sum_all"), 4 * GPU_BIG, "B", 0.95),
    "sum rows 4096x4096": (C._reduce("sum_rows"), 4 * 4096 * 4096, "B", 0.9),
    "sum cols 4096x4096": (C._reduce("sum_cols"), 4 * 4096 * 4096, "B", 0.9),
    "max rows 4096x4096": (C._reduce("max_rows"), 4 * 4096 * 4096, "B", 0.9),
    "softmax 4096x1024": (C._softmax(False, False), 8 * 4096 * 1024, "B", 0.9),
    "log_softmax 4096x1024": (C._softmax(True, False), 8 * 4096 * 1024, "B", 0.9),
    "softmax fwd+bwd 4096x1024": (C._softmax(False, True), None, "", 0.9),
    "layernorm 4096x4096": (_layernorm(False), 8 * 4096 * 4096, "B", 0.9),
    "layernorm fwd+bwd 4096x4096": (_layernorm(True), None, "", 0.9),
    "matmul fp32 4096": (C._matmul(4096), 2 * 4096**3, "FLOP", 0.95),
    "matmul fp32 8192": (C._matmul(8192), 2 * 8192**3, "FLOP", 0.95),
    "a+b 16 elems": (_tiny("add"), None, "", 1 / 1.2),
    "relu 16 elems": (_tiny("relu"), None, "", 1 / 1.2),
    "sum 16 elems": (_tiny("sum"), None, "", 1 / 1.2),
    "a*b sum bwd 16 elems": (_tiny("fwd+bwd"), None, "", 1 / 1.2),
    "conv2d fwd 32x32x32x32->64": (C._conv(False), None, "", 0.7),
    "conv2d fwd+bwd 32x32x32x32->64": (C._conv(True), None, "", 0.7),
    "cross_entropy fwd+bwd 4096x1000": (C._cross_entropy, None, "", 0.9),
    "MLP step 784-512-256-10 b256 SGD": (
        C._train_step(C._mlp, (256, 784), 10, "SGD", lr=0.01, momentum=0.9),
        None,
        "",
        0.8,
    ),
    "LeNet step b64 Adam": (C._train_step(C._lenet, (64, 1, 28, 28), 10, "Adam"), None, "", 0.7),
    "ResNet basic block step b32": (
        C._train_step(C._basic_block, (32, 64, 32, 32), 10, "SGD", lr=0.01, momentum=0.9),
        None,
        "",
        0.7,
    ),
    "Adam step 10M params": (C._adam_10m, None, "", 0.9),
    "embedding fwd+bwd 50000x256": (C._embedding, None, "", None),
    "NCCL all_reduce 64M fp32 (1 rank)": (_nccl_allreduce(GPU_BIG), 4 * GPU_BIG, "B", 0.9),
    "DDP MLP step (1 GPU, NCCL)": (_ddp_step, None, "", 0.8),
}


def _sample(fn, sync, k):
    sync()
    t0 = time.perf_counter()
    for _ in range(k):
        fn()
    sync()
    return (time.perf_counter() - t0) / k


def bench(name, libs, repeats):
    make = GPU_CASES[name][0]
    fns = {}
    for lib in libs:
        try:
            fn = make(lib)
            if fn is None:
                continue
            sync = lib.cuda.synchronize if cases.DEVICE == "cuda" else (lambda: None)
            for _ in range(3):
                fn()
            sync()
            t1 = _sample(fn, sync, 1)
            k = max(1, min(2000, int(0.02 / max(t1, 1e-7))))
            fns[lib.__name__] = (fn, sync, k)
        except Exception as e:  # noqa: BLE001 - report the case, do not abort the run
            print(f"  {lib.__name__}: {name}: {type(e).__name__}: {e}", file=sys.stderr)
            traceback.print_exc(limit=6, file=sys.stderr)
    samples = {n: [] for n in fns}
    for _ in range(repeats):
        for n, (fn, sync, k) in fns.items():
            gc.collect()
            try:
                samples[n].append(_sample(fn, sync, k))
            except Exception as e:  # noqa: BLE001
                print(f"  {n}: {name}: {type(e).__name__}: {e}", file=sys.stderr)
    return {n: statistics.median(v) for n, v in samples.items() if v}


def _fmt(s):
    if s is None:
        return "-"
    return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.3f} ms"


def _rate(work, unit, s):
    if not work or s is None:
        return "-"
    r = work / s
    return f"{r / 1e12:.2f} T{unit}/s" if r >= 1e12 else f"{r / 1e9:.1f} G{unit}/s"


def _cupy_version() -> str:
    try:
        import cupy
    except ImportError:
        return "absent"
    return cupy.__version__


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--filter", default="")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.cuda.md"))
    ap.add_argument("--device", default="cuda", help="cuda; cpu only checks this script")
    args = ap.parse_args(argv)
    import torch

    import ctorch

    cases.DEVICE = args.device
    cases.BIG = GPU_BIG if args.device == "cuda" else 1 << 16
    libs = [ctorch, torch]
    rows = []
    for name in GPU_CASES:
        if args.filter and args.filter not in name:
            continue
        print(f"{name} ...", file=sys.stderr, flush=True)
        rows.append((name, bench(name, libs, args.repeats)))
    gpu = torch.cuda.get_device_name() if args.device == "cuda" else "CPU (script check only)"
    lines = [
        "# ctorch on the GPU",
        "",
        f"Produced by `python tools/bench_gpu.py` on {datetime.date.today()} — {gpu}, host "
        f"{os.cpu_count()} CPUs; ctorch {ctorch.__version__}, torch {torch.__version__}, "
        f"CuPy {_cupy_version()}. Median of {args.repeats} alternating samples; "
        "each sample runs the op k times and synchronizes once. **ratio** = ctorch throughput / "
        "torch throughput (> 1: ctorch faster).",
        "",
        "| case | ctorch | torch | ctorch rate | torch rate | ratio | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, res in rows:
        _, work, unit, target = GPU_CASES[name]
        c, t = res.get("ctorch"), res.get("torch")
        ratio = t / c if (c and t) else None
        met = "" if ratio is None or target is None else ("yes" if ratio >= target else "**no**")
        lines.append(
            f"| {name} | {_fmt(c)} | {_fmt(t)} | {_rate(work, unit, c)} | {_rate(work, unit, t)} "
            f"| {'-' if ratio is None else f'{ratio:.2f}'} | "
            f"{'-' if target is None else f'{target:.2f}'} | {met} |"
        )
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
