"""Row operations of transformers, ctorch vs torch side by side (float32, CPU).

layer_norm forward and forward+backward (input, weight and bias gradients), softmax,
log_softmax (forward), sum of 16M floats, and bmm, at the shapes of small transformers:
rows of 128 ((64*128, 128) and a GPT block's (12*64, 128)) and (4096, 1024); bmm (48, 64, 64) and
(12, 128, 128).  ctorch and torch calls are interleaved one by one (the machine may be loaded
by others) and the table gives medians in us and torch/ctorch (> 1: ctorch faster).

usage: python tools/bench_rowops.py [--threads 1 2] [--repeats 31] [--filter softmax] [--min] [--cpu]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import ctorch
import ctorch.nn.functional as CF


def _cases():
    rng = np.random.default_rng(0)
    f32 = np.float32
    for shape in [(64 * 128, 128), (4096, 1024), (12 * 64, 128)]:
        x = rng.standard_normal(shape, dtype=f32)
        D = shape[-1]
        w = rng.standard_normal(D, dtype=f32)
        b = rng.standard_normal(D, dtype=f32)
        gy = rng.standard_normal(shape, dtype=f32)
        yield f"layer_norm fwd {shape}", _ln(x, w, b, None)
        yield f"layer_norm fwd+bwd {shape}", _ln(x, w, b, gy)
        yield f"softmax {shape}", _sm(x, "softmax")
        yield f"log_softmax {shape}", _sm(x, "log_softmax")
        yield f"softmax fwd+bwd {shape}", _sm(x, "softmax", gy)
    x = rng.standard_normal(1 << 24, dtype=f32)
    cx, tx = ctorch.tensor(x), torch.from_numpy(x)
    yield "sum (16M,)", (lambda: cx.sum(), lambda: tx.sum())
    for s in [(48, 64, 64), (12, 128, 128)]:
        a = rng.standard_normal(s, dtype=f32)
        c = rng.standard_normal(s, dtype=f32)
        ca, cc, ta, tc = (
            ctorch.tensor(a),
            ctorch.tensor(c),
            torch.from_numpy(a),
            torch.from_numpy(c),
        )
        yield f"bmm {s}x{s}", (lambda ca=ca, cc=cc: ca @ cc, lambda ta=ta, tc=tc: ta @ tc)


def _ln(x, w, b, gy):
    fns = []
    for lib, F, mk in (
        (ctorch, CF, ctorch.tensor),
        (torch, torch.nn.functional, lambda a: torch.from_numpy(a.copy())),
    ):
        xt, wt, bt = mk(x), mk(w), mk(b)
        D = x.shape[-1]
        if gy is None:

            def f(F=F, xt=xt, wt=wt, bt=bt, lib=lib, D=D):
                with lib.no_grad():
                    return F.layer_norm(xt, (D,), wt, bt)
        else:
            for t in (xt, wt, bt):
                t.requires_grad_()
            g = mk(gy)

            def f(F=F, xt=xt, wt=wt, bt=bt, g=g, D=D):
                xt.grad = wt.grad = bt.grad = None
                F.layer_norm(xt, (D,), wt, bt).backward(g)

        fns.append(f)
    return tuple(fns)


def _sm(x, name, gy=None):
    fns = []
    for lib, F, mk in (
        (ctorch, CF, ctorch.tensor),
        (torch, torch.nn.functional, lambda a: torch.from_numpy(a.copy())),
    ):
        xt = mk(x)
        op = getattr(F, name)
        if gy is None:

            def f(op=op, xt=xt, lib=lib):
                with lib.no_grad():
                    return op(xt, -1)
        else:
            xt.requires_grad_()
            g = mk(gy)

            def f(op=op, xt=xt, g=g):
                xt.grad = None
                op(xt, -1).backward(g)

        fns.append(f)
    return tuple(fns)


def _interleaved(fc, ft, repeats, budget_s=2.0, stat=np.median):
    """Median (or ``stat``) us of each, the two calls alternated one by one after a warm-up."""
    for _ in range(3):
        fc()
        ft()
    tc, tt = [], []
    t_end = _clock() + budget_s
    for i in range(repeats):
        t0 = _clock()
        fc()
        t1 = _clock()
        ft()
        t2 = _clock()
        tc.append(t1 - t0)
        tt.append(t2 - t1)
        if i >= 5 and _clock() > t_end:
            break
    return 1e6 * float(stat(tc)), 1e6 * float(stat(tt))


_clock = time.perf_counter


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=31)
    ap.add_argument("--filter", default="")
    ap.add_argument(
        "--min",
        action="store_true",
        help="best of the repeats instead of the median (a machine loaded by others)",
    )
    ap.add_argument(
        "--cpu",
        action="store_true",
        help="CPU time of the calling thread (time.thread_time) instead of wall time: on a "
        "machine loaded by others the wall time mostly measures waiting for a CPU; only "
        "meaningful at 1 thread (OpenMP workers' time is not counted)",
    )
    args = ap.parse_args()
    stat = np.min if args.min else np.median
    global _clock
    _clock = time.thread_time if args.cpu else time.perf_counter
    print("| case | thr | ctorch us | torch us | torch/ctorch |")
    print("|---|---|---|---|---|")
    for nt in args.threads:
        ctorch.set_num_threads(nt)
        torch.set_num_threads(nt)
        seen = set()
        for name, (fc, ft) in _cases():
            if args.filter not in name or name in seen:
                continue
            seen.add(name)
            c, t = _interleaved(fc, ft, args.repeats, stat=stat)
            print(f"| {name} | {nt} | {c:.1f} | {t:.1f} | {t / c:.2f} |", flush=True)


if __name__ == "__main__":
    main()
