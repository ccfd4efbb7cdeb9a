"""GEMM micro-benchmark on conv shapes: ctorch sgemm vs np.matmul (OpenBLAS) vs torch (MKL).

usage: python tools/bench_gemm.py [--threads 1 2] [--repeats 15]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import ctorch
from ctorch._core import gemm


def trio(fns, r, stat):
    """Time each function in its own block of repeats, the blocks alternated twice (so one
    library's spinning worker threads do not land in another's timing); ms per stat."""
    ts = [[] for _ in fns]
    for _ in range(2):
        for f, t in zip(fns, ts, strict=True):
            f()
            for _ in range(r):
                t0 = time.perf_counter()
                f()
                t.append(time.perf_counter() - t0)
    return [1e3 * float(stat(t)) for t in ts]


def cases():
    rng = np.random.default_rng(0)
    f = np.float32
    # (name, N images, OC, K, L)
    for nm, n, oc, k, l in [
        ("conv b32 32->64 3x3 32x32", 32, 64, 288, 1024),
        ("resblock b32 64 3x3 16x16", 32, 64, 576, 256),
        ("resnet 64->64 3x3 56x56 b8", 8, 64, 576, 3136),
        ("resnet 128 3x3 28x28 b8", 8, 128, 1152, 784),
        ("resnet 256 3x3 14x14 b8", 8, 256, 2304, 196),
        ("resnet 512 3x3 7x7 b8", 8, 512, 4608, 49),
        ("lenet 6 5x5 28x28 b64", 64, 6, 25, 784),
    ]:
        w = rng.standard_normal((oc, k), dtype=f)
        cols = rng.standard_normal((n, k, l), dtype=f)
        gy = rng.standard_normal((n, oc, l), dtype=f)
        yield nm, n, oc, k, l, w, cols, gy


def bench_case(nm, n, oc, k, l, w, cols, gy, r, stat):
    y = np.empty((n, oc, l), np.float32)
    tw, tc, tg = map(torch.from_numpy, (w, cols, gy))
    ty = torch.from_numpy(y)
    fl = 2.0 * n * oc * k * l
    w3 = w[None]
    t_c, t_n, t_t = trio(
        [
            lambda: gemm.sgemm(w3, cols, y),
            lambda: np.matmul(w, cols, out=y),
            lambda: torch.matmul(tw, tc, out=ty),
        ],
        r,
        stat,
    )
    print(f"{nm:30s} {'fwd':6s} {t_c:8.2f} {t_n:8.2f} {t_t:8.2f} {fl / t_c / 1e6:6.0f}")
    dw = np.empty((1, oc, k), np.float32)
    colsT = cols.swapaxes(1, 2)
    t_c, t_n, t_t = trio(
        [
            lambda: gemm.sgemm(gy, colsT, dw, reduce_batch=True),
            lambda: np.matmul(gy, colsT).sum(0),
            lambda: torch.matmul(tg, tc.transpose(1, 2)).sum(0),
        ],
        r,
        stat,
    )
    print(f"{'':30s} {'dW':6s} {t_c:8.2f} {t_n:8.2f} {t_t:8.2f} {fl / t_c / 1e6:6.0f}")
    dc = np.empty((n, k, l), np.float32)
    tdc = torch.from_numpy(dc)
    wT = w.T[None]
    t_c, t_n, t_t = trio(
        [
            lambda: gemm.sgemm(wT, gy, dc),
            lambda: np.matmul(w.T, gy, out=dc),
            lambda: torch.matmul(tw.T, tg, out=tdc),
        ],
        r,
        stat,
    )
    print(f"{'':30s} {'dcols':6s} {t_c:8.2f} {t_n:8.2f} {t_t:8.2f} {fl / t_c / 1e6:6.0f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--only", default="")
    ap.add_argument("--min", action="store_true", help="report the minimum, not the median")
    args = ap.parse_args()
    r = args.repeats
    stat = np.min if args.min else np.median
    for nt in args.threads:
        ctorch.set_num_threads(nt)
        torch.set_num_threads(nt)
        print(f"--- threads={nt}  (ms, {stat.__name__} of {r}, 2 alternating blocks)")
        print(f"{'case':30s} {'gemm':6s} {'ctorch':>8s} {'numpy':>8s} {'torch':>8s} {'GF/s':>6s}")
        for nm, n, oc, k, l, w, cols, gy in cases():
            if args.only and args.only not in nm:
                continue
            bench_case(nm, n, oc, k, l, w, cols, gy, r, stat)


if __name__ == "__main__":
    main()
