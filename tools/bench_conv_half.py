"""bfloat16/float16 conv2d forward+backward on one layer: ctorch (chunked 16-bit path and the
old whole-tensor widening) against torch's CPU, interleaved in one process, best of N.

    python tools/bench_conv_half.py [--threads 1 2] [--reps 7] [--dtype bfloat16]

Default layer: N=64, 32->64, 3x3, padding 1, 32x32 (the float32 conv benchmark's layer).
Peak memory: NumPy's allocations inside one ctorch step via tracemalloc (the step's inputs
and weights exist before it starts and are not counted).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

import ctorch
from ctorch.ops import conv_half

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--dtype", default="bfloat16")
    p.add_argument("--shape", type=int, nargs=5, default=[64, 32, 64, 32, 32], help="N C OC H W")
    a = p.parse_args()
    N, C, OC, H, W = a.shape
    rng = np.random.default_rng(0)
    x32 = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w32 = (rng.standard_normal((OC, C, 3, 3)) * 0.1).astype(np.float32)
    b32 = rng.standard_normal(OC).astype(np.float32)
    g32 = rng.standard_normal((N, OC, H, W)).astype(np.float32)

    def make(lib):
        """One fwd+bwd of the layer in ``lib`` (ctorch or torch), same data and dtype."""
        dt = getattr(lib, a.dtype)
        x, w, b = (lib.from_numpy(v.copy()).to(dt).requires_grad_() for v in (x32, w32, b32))
        g = lib.from_numpy(g32.copy()).to(dt)

        def run():
            x.grad = w.grad = b.grad = None
            lib.nn.functional.conv2d(x, w, b, padding=1).backward(g)

        return run

    def with_native(on, f):
        def run():
            conv_half.NATIVE[0] = on
            try:
                f()
            finally:
                conv_half.NATIVE[0] = True

        return run

    ct = make(ctorch)
    steps = {"ct chunked": with_native(True, ct), "ct widen-all": with_native(False, ct)}
    if torch is not None:
        steps["torch"] = make(torch)
    print(f"## {a.dtype} conv2d fwd+bwd, N={N} {C}->{OC} 3x3 pad 1 {H}x{W} (ms, best of {a.reps})")
    for nt in a.threads:
        ctorch.set_num_threads(nt)
        if torch is not None:
            torch.set_num_threads(nt)
        best = {k: float("inf") for k in steps}
        for f in steps.values():
            f()
        for _ in range(a.reps):
            for k, f in steps.items():
                t = time.perf_counter()
                f()
                best[k] = min(best[k], time.perf_counter() - t)
        print(f"threads {nt}: " + "  ".join(f"{k} {v * 1e3:8.2f}" for k, v in best.items()))
    for k in ("ct chunked", "ct widen-all"):
        f = steps[k]
        tracemalloc.start()
        f()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"peak NumPy allocation in one step, {k}: {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
