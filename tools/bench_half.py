"""float16/bfloat16 and autocast benchmark, side by side with torch's CPU autocast (one process).

    python tools/bench_half.py [--quick]

1. elementwise on 16M elements: bfloat16/float16 vs float32 (ctorch and torch), GB/s of the
   16-bit or 32-bit bytes actually moved;
2. an MLP and a LeNet-style CNN training step (forward, backward, SGD step) under bfloat16
   autocast, ctorch vs torch, plus ctorch's float32 step;
3. peak memory of one training step, bfloat16 autocast vs float32: ctorch's NumPy allocations
   via tracemalloc, torch's CPU allocations via torch.profiler(profile_memory=True) (op
   granularity: a lower bound, temporaries freed inside one op are not seen).
Timings: the median wall time of interleaved repeats and the minimum process CPU time (the
machine may be shared: compare columns of the same run, not runs).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np

import ctorch

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None


def _time(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def elementwise(n, reps):
    rows = []
    rng = np.random.default_rng(0)
    a32, b32 = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
    for name, op in (
        ("add", lambda a, b: a + b),
        ("mul_scalar", lambda a, b: a * 1.5),
        ("relu", lambda a, b: a.relu()),
        ("sigmoid", lambda a, b: a.sigmoid()),
    ):
        res = {}
        for dt in ("float32", "bfloat16", "float16"):
            ca, cb = (
                ctorch.tensor(a32).to(getattr(ctorch, dt)),
                ctorch.tensor(b32).to(getattr(ctorch, dt)),
            )
            res[("ctorch", dt)] = _time(lambda ca=ca, cb=cb, op=op: op(ca, cb), reps)
            if torch is not None:
                ta, tb = (
                    torch.from_numpy(a32).to(getattr(torch, dt)),
                    torch.from_numpy(b32).to(getattr(torch, dt)),
                )
                res[("torch", dt)] = _time(lambda ta=ta, tb=tb, op=op: op(ta, tb), reps)
        rows.append((name, res))
    print(f"\n## elementwise, {n / 1e6:.0f}M elements (ms; speed-up of 16-bit vs ctorch float32)")
    print(
        f"{'op':<11}{'ct f32':>9}{'ct bf16':>9}{'ct f16':>9}{'bf16 x':>8}{'f16 x':>8}{'th f32':>9}{'th bf16':>9}{'th f16':>9}"
    )
    for name, r in rows:
        c32, cb, ch = r[("ctorch", "float32")], r[("ctorch", "bfloat16")], r[("ctorch", "float16")]
        t = [r.get(("torch", d), float("nan")) * 1e3 for d in ("float32", "bfloat16", "float16")]
        print(
            f"{name:<11}{c32 * 1e3:9.2f}{cb * 1e3:9.2f}{ch * 1e3:9.2f}{c32 / cb:8.2f}{c32 / ch:8.2f}"
            f"{t[0]:9.2f}{t[1]:9.2f}{t[2]:9.2f}"
        )


def kernels_only(n, reps):
    """The add kernels alone into preallocated outputs (no allocation, no page faults)."""
    import ml_dtypes

    from ctorch import _table
    from ctorch._backend import cpu_kernels
    from ctorch._core import half as H

    BIN_ADD = _table.code_names()["BIN_ADD"]

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
    o = np.empty(n, np.float32)
    t32 = _time(lambda: cpu_kernels.binary(BIN_ADD, a, b, o), reps)
    res = [("float32", t32, 12)]
    for name, kind, dt in (("bfloat16", 1, ml_dtypes.bfloat16), ("float16", 0, np.float16)):
        ah, bh = a.astype(dt).view(np.uint16), b.astype(dt).view(np.uint16)
        oh = np.empty(n, np.uint16)
        res.append(
            (
                name,
                _time(
                    lambda ah=ah, bh=bh, oh=oh, kind=kind: H.h_binary(kind, BIN_ADD, ah, bh, oh),
                    reps,
                ),
                6,
            )
        )
    print(f"\n## add kernel only, {n / 1e6:.0f}M elements, preallocated out")
    for name, t, nbytes in res:
        print(
            f"{name:<9}{t * 1e3:8.2f} ms {n * nbytes / t / 1e9:7.1f} GB/s {n / t / 1e9:6.2f} Gelem/s  x{t32 / t:.2f} vs float32"
        )


def _mlp(L):
    return L.nn.Sequential(
        L.nn.Linear(784, 512), L.nn.ReLU(), L.nn.Linear(512, 512), L.nn.ReLU(), L.nn.Linear(512, 10)
    )


def _cnn(L):
    return L.nn.Sequential(
        L.nn.Conv2d(1, 6, 5, padding=2),
        L.nn.ReLU(),
        L.nn.MaxPool2d(2),
        L.nn.Conv2d(6, 16, 5),
        L.nn.ReLU(),
        L.nn.MaxPool2d(2),
        L.nn.Flatten(),
        L.nn.Linear(16 * 5 * 5, 120),
        L.nn.ReLU(),
        L.nn.Linear(120, 84),
        L.nn.ReLU(),
        L.nn.Linear(84, 10),
    )


def _same_weights(cm, tm):
    with torch.no_grad():
        for cp, tp in zip(cm.parameters(), tm.parameters(), strict=True):
            tp.copy_(torch.from_numpy(cp.detach().numpy().copy()))


def _step_fn(L, model, x, y, amp):
    opt = L.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        if amp:
            with L.autocast("cpu", dtype=L.bfloat16):
                loss = L.nn.functional.cross_entropy(model(x), y)
        else:
            loss = L.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def training(reps, batch):
    rng = np.random.default_rng(0)
    print(f"\n## training step (forward+backward+SGD), batch {batch} (ms; >1 = ctorch faster)")
    print(
        f"{'model':<6}{'ct bf16-ac':>11}{'th bf16-ac':>11}{'th/ct':>7}{'ct f32':>9}{'th f32':>9}"
        f"{'| cpu: ct ac':>13}{'th ac':>8}{'th/ct':>7}"
    )
    for name, make, shape in (("MLP", _mlp, (batch, 784)), ("CNN", _cnn, (batch, 1, 28, 28))):
        x = rng.standard_normal(shape).astype(np.float32)
        y = rng.integers(0, 10, batch)
        cm = make(ctorch)
        steps = {
            "ct_ac": _step_fn(ctorch, cm, ctorch.tensor(x), ctorch.tensor(y), True),
            "ct_32": _step_fn(ctorch, cm, ctorch.tensor(x), ctorch.tensor(y), False),
        }
        if torch is not None:
            tm = make(torch)
            _same_weights(cm, tm)
            steps["th_ac"] = _step_fn(torch, tm, torch.from_numpy(x), torch.from_numpy(y), True)
            steps["th_32"] = _step_fn(torch, tm, torch.from_numpy(x), torch.from_numpy(y), False)
        times = {k: [] for k in steps}
        cpu = {k: [] for k in steps}
        for f in steps.values():
            f()
        for _ in range(reps):  # interleaved
            for k, f in steps.items():
                c, t = time.process_time(), time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t)
                cpu[k].append(time.process_time() - c)
        m = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        mc = {k: min(v) * 1e3 for k, v in cpu.items()}
        th_ac, th_32 = m.get("th_ac", float("nan")), m.get("th_32", float("nan"))
        tc = mc.get("th_ac", float("nan"))
        print(
            f"{name:<6}{m['ct_ac']:11.2f}{th_ac:11.2f}{th_ac / m['ct_ac']:7.2f}{m['ct_32']:9.2f}{th_32:9.2f}"
            f"{mc['ct_ac']:13.2f}{tc:8.2f}{tc / mc['ct_ac']:7.2f}"
        )


def _torch_peak(step):
    """Peak of torch's CPU allocations during ``step()`` (MB), from the profiler's per-op
    memory records in start order (op granularity: a lower bound)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as p:
        step()
    evs = sorted(
        (e for e in p.events() if e.self_cpu_memory_usage), key=lambda e: e.time_range.start
    )
    cur = peak = 0
    for e in evs:
        cur += e.self_cpu_memory_usage
        peak = max(peak, cur)
    return peak / 2**20


def memory(batch):
    rng = np.random.default_rng(0)
    print(
        f"\n## peak memory of one training step, batch {batch} (MB; ctorch: NumPy allocations, "
        "torch: profiler, a lower bound)"
    )
    print(
        f"{'model':<6}{'float32':>9}{'bf16-ac':>9}{'lower':>8}{'th f32':>9}{'th bf16':>9}{'lower':>8}"
    )
    for name, make, shape in (("MLP", _mlp, (batch, 784)), ("CNN", _cnn, (batch, 1, 28, 28))):
        x = ctorch.tensor(rng.standard_normal(shape).astype(np.float32))
        y = ctorch.tensor(rng.integers(0, 10, batch))
        res = {}
        for amp in (False, True):
            model = make(ctorch)
            step = _step_fn(ctorch, model, x, y, amp)
            step()
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            step()
            peak = tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()
            res[amp] = peak / 2**20
            if torch is not None:
                tstep = _step_fn(
                    torch,
                    make(torch),
                    torch.from_numpy(x.numpy()),
                    torch.from_numpy(y.numpy()),
                    amp,
                )
                tstep()
                res["th", amp] = _torch_peak(tstep)
        th = [res.get(("th", a), float("nan")) for a in (False, True)]
        print(
            f"{name:<6}{res[False]:9.1f}{res[True]:9.1f}{1 - res[True] / res[False]:8.0%}"
            f"{th[0]:9.1f}{th[1]:9.1f}{1 - th[1] / th[0]:8.0%}"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.add_argument("--steps-only", action="store_true", help="training steps and memory only")
    args = p.parse_args()
    reps = 3 if args.quick else 7
    print(
        f"ctorch threads: {ctorch.get_num_threads()}"
        + (f", torch threads: {torch.get_num_threads()}" if torch else "")
    )
    if not args.steps_only:
        elementwise(16 * 2**20, reps)
        kernels_only(16 * 2**20, reps)
    training(reps, 256)
    memory(256)
    memory(2048)


if __name__ == "__main__":
    main()
