"""Convolution shapes from real programs, ctorch vs torch side by side (float32, CPU).

ResNet-18 on 28x28 inputs (each stage's conv shapes at batch 32: outputs of 14x14 down to
1x1), depthwise 3x3, grouped and dilated convolutions, and the transposed convolutions of a
DCGAN generator (64x64 output).  Each case runs forward (no grad) and forward+backward
(input, weight and bias gradients) through the public functional API, ctorch and torch
alternated in blocks in one process; the table gives medians in ms and torch/ctorch (> 1:
ctorch faster).  The machine may be loaded: compare only numbers from one run.

usage: python tools/bench_conv_shapes.py [--threads 1 2] [--repeats 7] [--filter resnet] [--min] [--cpu]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import ctorch
import ctorch.nn.functional as CF

# name, transposed, (N, C, H, W), (OC, kernel, stride, padding, dilation, groups, out_pad)
CASES = [
    ("resnet conv1 3->64 7x7 s2 28->14", False, (32, 3, 28, 28), (64, 7, 2, 3, 1, 1, 0)),
    ("resnet s1 64->64 3x3 7x7", False, (32, 64, 7, 7), (64, 3, 1, 1, 1, 1, 0)),
    ("resnet s2 64->128 3x3 s2 7->4", False, (32, 64, 7, 7), (128, 3, 2, 1, 1, 1, 0)),
    ("resnet s2 128->128 3x3 4x4", False, (32, 128, 4, 4), (128, 3, 1, 1, 1, 1, 0)),
    ("resnet s2 down 64->128 1x1 s2", False, (32, 64, 7, 7), (128, 1, 2, 0, 1, 1, 0)),
    ("resnet s3 128->256 3x3 s2 4->2", False, (32, 128, 4, 4), (256, 3, 2, 1, 1, 1, 0)),
    ("resnet s3 256->256 3x3 2x2", False, (32, 256, 2, 2), (256, 3, 1, 1, 1, 1, 0)),
    ("resnet s3 down 128->256 1x1 s2", False, (32, 128, 4, 4), (256, 1, 2, 0, 1, 1, 0)),
    ("resnet s4 256->512 3x3 s2 2->1", False, (32, 256, 2, 2), (512, 3, 2, 1, 1, 1, 0)),
    ("resnet s4 512->512 3x3 1x1", False, (32, 512, 1, 1), (512, 3, 1, 1, 1, 1, 0)),
    ("resnet s4 down 256->512 1x1 s2", False, (32, 256, 2, 2), (512, 1, 2, 0, 1, 1, 0)),
    ("pointwise 1x1 64->128 14x14", False, (32, 64, 14, 14), (128, 1, 1, 0, 1, 1, 0)),
    ("depthwise 3x3 64ch 28x28", False, (32, 64, 28, 28), (64, 3, 1, 1, 1, 64, 0)),
    ("depthwise 3x3 s2 128ch 14x14", False, (32, 128, 14, 14), (128, 3, 2, 1, 1, 128, 0)),
    ("grouped 3x3 g4 64->64 14x14", False, (32, 64, 14, 14), (64, 3, 1, 1, 1, 4, 0)),
    ("grouped 3x3 g32 128->128 7x7", False, (32, 128, 7, 7), (128, 3, 1, 1, 1, 32, 0)),
    ("dilated 3x3 d2 32->32 28x28", False, (32, 32, 28, 28), (32, 3, 1, 2, 2, 1, 0)),
    ("dcgan convT 100->512 4x4 1->4", True, (32, 100, 1, 1), (512, 4, 1, 0, 1, 1, 0)),
    ("dcgan convT 512->256 4x4 s2 4->8", True, (32, 512, 4, 4), (256, 4, 2, 1, 1, 1, 0)),
    ("dcgan convT 256->128 4x4 s2 8->16", True, (32, 256, 8, 8), (128, 4, 2, 1, 1, 1, 0)),
    ("dcgan convT 128->64 4x4 s2 16->32", True, (32, 128, 16, 16), (64, 4, 2, 1, 1, 1, 0)),
    ("dcgan convT 64->3 4x4 s2 32->64", True, (32, 64, 32, 32), (3, 4, 2, 1, 1, 1, 0)),
]


def _make(lib, transposed, xs, spec, rng):
    N, C, H, W = xs
    OC, k, s, p, d, g, op = spec
    x = rng.standard_normal(xs, dtype=np.float32)
    wshape = (C, OC // g, k, k) if transposed else (OC, C // g, k, k)
    w = (rng.standard_normal(wshape, dtype=np.float32) / np.sqrt(C * k * k / g)).astype(np.float32)
    b = rng.standard_normal(OC, dtype=np.float32)
    if lib is torch:
        tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
        F = torch.nn.functional
    else:
        tx, tw, tb = (ctorch.tensor(a, requires_grad=True) for a in (x, w, b))
        F = CF
    if transposed:

        def call():
            return F.conv_transpose2d(tx, tw, tb, s, p, op, g, d)
    else:

        def call():
            return F.conv2d(tx, tw, tb, s, p, d, g)

    def fwd():
        with lib.no_grad():
            call()

    def fwd_bwd():
        tx.grad = tw.grad = tb.grad = None
        call().sum().backward()

    return fwd, fwd_bwd


def _median_ms(fns, repeats, budget_s=1.5, stat=np.median):
    """Median (or ``stat``) ms of each function, the functions alternated one call at a time
    (warm-up first)."""
    ts = [[] for _ in fns]
    for f in fns:
        f()
    t_end = _clock() + budget_s
    for rnd in range(repeats):
        for f, t in zip(fns, ts, strict=True):
            t0 = _clock()
            f()
            t.append(_clock() - t0)
        if rnd >= 2 and _clock() > t_end:
            break
    return [1e3 * float(stat(t)) for t in ts]


_clock = time.perf_counter


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--filter", default="")
    ap.add_argument(
        "--min",
        action="store_true",
        help="best of the repeats instead of the median (a machine loaded by others: the "
        "minimum drops the calls that lost the CPU)",
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
    print("| case | thr | fwd ctorch | fwd torch | fwd x | f+b ctorch | f+b torch | f+b x |")
    print("|---|---|---|---|---|---|---|---|")
    for nt in args.threads:
        ctorch.set_num_threads(nt)
        torch.set_num_threads(nt)
        for name, tr, xs, spec in CASES:
            if args.filter not in name:
                continue
            cf, cfb = _make(ctorch, tr, xs, spec, np.random.default_rng(0))
            tf, tfb = _make(torch, tr, xs, spec, np.random.default_rng(0))
            c1, t1 = _median_ms([cf, tf], args.repeats, stat=stat)
            c2, t2 = _median_ms([cfb, tfb], args.repeats, stat=stat)
            print(
                f"| {name} | {nt} | {c1:.3f} | {t1:.3f} | {t1 / c1:.2f} | {c2:.3f} | {t2:.3f} "
                f"| {t2 / c2:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
