"""conv2d float32 A/B: ctorch's fused per-image kernels vs its unfused im2col path vs torch.

Forward and backward (gx and gw) at the array level, the three alternated in one process
(median ms of --repeats calls each, two alternating blocks), for the benchmark layer and a
few other shapes.

usage: python tools/bench_conv.py [--threads 1 2] [--repeats 15]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from bench_gemm import trio  # tools/ is the script directory

import ctorch
from ctorch._core import gemm
from ctorch._geometry import Window2d
from ctorch.ops import conv_gemm as C
from ctorch.ops.im2col import col2im_array

SHAPES = [
    # N, C, H, W, OC, k, pad
    (32, 32, 32, 32, 64, 3, 1),  # the BENCHMARKS.md layer
    (32, 64, 16, 16, 64, 3, 1),  # ResNet basic block conv
    (64, 6, 14, 14, 16, 5, 0),  # LeNet conv2
    (8, 64, 56, 56, 64, 3, 1),  # ResNet-18 stage 1
]


def _time(fns, repeats):
    """Median ms per call of each function, alternated in blocks (bench_gemm's trio)."""
    return dict(zip(fns, trio(list(fns.values()), repeats, np.median), strict=True))


def run(shape, repeats):
    N, Cc, H, W, OC, k, p = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, Cc, H, W), dtype=np.float32)
    w = rng.standard_normal((OC, Cc, k, k), dtype=np.float32)
    b = rng.standard_normal(OC, dtype=np.float32)
    oh, ow = H + 2 * p - k + 1, W + 2 * p - k + 1
    gy = rng.standard_normal((N, OC, oh, ow), dtype=np.float32)
    geom = (Window2d(N, Cc, H, W, k, k, 1, 1, p, p, 1, 1, oh, ow), OC)
    y, gx, gw = np.empty_like(gy), np.empty_like(x), np.empty_like(w)

    def fused_fwd():
        gemm.conv2d_fused_forward(x.ravel(), w.ravel(), b, y.ravel(), *geom)

    def fused_bwd():
        gemm.conv2d_fused_backward(gy.ravel(), x.ravel(), w.ravel(), gx.ravel(), gw.ravel(), *geom)

    def unfused_fwd():
        cols = C._columns(x, geom[0], Cc, 1)
        out = np.empty((N, OC, oh * ow), np.float32)
        C._gemm(w.reshape(OC, -1), cols.reshape(N, -1, oh * ow), out=out, fast=True)
        C._add_channel_bias(out, b, N, OC, oh * ow)

    def unfused_bwd():
        K, L = Cc * k * k, oh * ow
        g3 = gy.reshape(N, OC, L)
        cols = C._columns(x, geom[0], Cc, 1).reshape(N, K, L)
        C._gemm_batch_sum(g3, cols.swapaxes(-1, -2))
        dcols = C._scratch(1, (N, K, L), np.float32, gy)
        C._gemm(w.reshape(OC, K).T, g3, out=dcols, fast=True)
        col2im_array(dcols, Window2d(N, Cc, H, W, k, k, 1, 1, p, p, 1, 1, oh, ow))

    tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    tgy = torch.from_numpy(gy)

    def torch_fwd():
        with torch.no_grad():
            torch.nn.functional.conv2d(tx, tw, tb, padding=p)

    def torch_fwd_bwd():
        tx.grad = tw.grad = tb.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, padding=p).backward(tgy)

    return _time(
        {
            "fused fwd": fused_fwd,
            "fused bwd": fused_bwd,
            "unfused fwd": unfused_fwd,
            "unfused bwd": unfused_bwd,
            "torch fwd": torch_fwd,
            "torch fwd+bwd": torch_fwd_bwd,
        },
        repeats,
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args(argv)
    if not gemm.SGEMM_AVX512:
        print("no AVX-512 on this CPU: conv2d does not take the fused path here")
    print(
        "| threads | N, C, HxW -> OC, k | fused fwd | fused bwd | unfused fwd | unfused bwd |"
        " torch fwd | torch fwd+bwd | fused fwd+bwd / torch |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for nt in args.threads:
        ctorch.set_num_threads(nt)
        torch.set_num_threads(nt)
        for shape in SHAPES:
            r = run(shape, args.repeats)
            N, Cc, H, W, OC, k, _ = shape
            ratio = r["torch fwd+bwd"] / (r["fused fwd"] + r["fused bwd"])
            cells = " | ".join(f"{r[c]:.2f} ms" for c in r)
            print(f"| {nt} | {N}, {Cc}, {H}x{W} -> {OC}, {k} | {cells} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
