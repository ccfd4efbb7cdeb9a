"""Per-op overhead and a few kernel-bound cases, for A/B runs of two ctorch builds.

    python tools/bench_overhead.py            # prints one JSON line of medians (microseconds)

Run it alternately under two environments (e.g. before/after a change to the op machinery)
and compare the lines; every case is timed with the same fixed repeat counts.
"""

from __future__ import annotations

import json
import sys
import timeit

import numpy as np

import ctorch

ctorch.set_num_threads(1)


def med(stmt, glb, number, repeat=15):
    ts = timeit.repeat(stmt, globals=glb, number=number, repeat=repeat)
    return float(np.median(ts)) / number * 1e6


def main() -> int:
    rng = np.random.default_rng(0)
    s16 = ctorch.from_numpy(rng.standard_normal(16).astype(np.float32))
    t16 = ctorch.from_numpy(rng.standard_normal(16).astype(np.float32))
    g16 = s16.clone().requires_grad_()
    big = ctorch.from_numpy(rng.standard_normal(1 << 22).astype(np.float32))
    bigg = big.clone().requires_grad_()
    glb = dict(globals(), s16=s16, t16=t16, g16=g16, big=big, bigg=bigg, ctorch=ctorch)
    out = {
        "a+b 16": med("s16 + t16", glb, 20000),
        "exp 16": med("s16.exp()", glb, 20000),
        "sigmoid 16": med("s16.sigmoid()", glb, 20000),
        "relu 16": med("s16.relu()", glb, 20000),
        "view 16": med("s16.view(4, 4)", glb, 20000),
        "a+b 16 grad": med("g16 + t16", glb, 10000),
        "exp 16 grad": med("g16.exp()", glb, 10000),
        "exp+backward 16": med("g16.exp().sum().backward()", glb, 3000),
        "exp 4M": med("big.exp()", glb, 5, 9),
        "relu fwd+bwd 4M": med("bigg.relu().sum().backward()", glb, 3, 9),
        "add 4M": med("big + big", glb, 5, 9),
    }
    print(json.dumps({k: round(v, 3) for k, v in out.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
