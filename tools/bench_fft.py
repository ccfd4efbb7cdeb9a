"""FFT speed, ctorch (scipy.fft/pocketfft) against torch (its pocketfft/MKL build), same
process, interleaved rounds, at 1 and 2 threads (issue #13 target: within 1.2x of torch for a
2^20-point complex64 FFT).

Usage: python tools/bench_fft.py [--repeat 15] [--sizes 20]
Prints the best and median time per call of each case and the ctorch/torch ratio of the
medians. Two-thread timings on a shared VM are bimodal: compare the interleaved rounds.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import ctorch


def _time(fn, repeat):
    fn()  # warm up (plans, page faults of the first output)
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return ts


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--log2n", type=int, nargs="*", default=[20])
    args = p.parse_args()
    import torch

    rng = np.random.default_rng(0)
    cases = []
    for k in args.log2n:
        n = 1 << k
        a = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
        r = rng.standard_normal(n).astype(np.float32)
        cases += [
            (f"fft 2^{k} complex64", ctorch.from_numpy(a), torch.from_numpy(a), "fft"),
            (f"ifft 2^{k} complex64", ctorch.from_numpy(a), torch.from_numpy(a), "ifft"),
            (f"rfft 2^{k} float32", ctorch.from_numpy(r), torch.from_numpy(r), "rfft"),
        ]
    a2 = (rng.standard_normal((1024, 1024)) + 1j * rng.standard_normal((1024, 1024))).astype(
        np.complex64
    )
    cases.append(("fft2 1024x1024 complex64", ctorch.from_numpy(a2), torch.from_numpy(a2), "fft2"))
    print(f"{'case':28s} {'thr':>3s} {'ctorch ms':>16s} {'torch ms':>16s} {'ratio':>6s}")
    for threads in (1, 2):
        ctorch.set_num_threads(threads)
        torch.set_num_threads(threads)
        for name, xc, xt, fn in cases:
            fc = getattr(ctorch.fft, fn)
            ft = getattr(torch.fft, fn)
            tc, tt = [], []
            for _ in range(3):  # interleaved rounds
                tc += _time(lambda fc=fc, xc=xc: fc(xc), args.repeat // 3 or 1)
                tt += _time(lambda ft=ft, xt=xt: ft(xt), args.repeat // 3 or 1)
            mc, mt = statistics.median(tc) * 1e3, statistics.median(tt) * 1e3
            print(
                f"{name:28s} {threads:3d} {min(tc) * 1e3:7.2f} /{mc:7.2f}  "
                f"{min(tt) * 1e3:7.2f} /{mt:7.2f}  {mc / mt:6.2f}"
            )
    print("(best / median per call; ratio = ctorch median / torch median)")


if __name__ == "__main__":
    main()
