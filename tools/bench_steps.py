"""Fine-grained A/B of one BENCHMARKS.md case: ctorch and torch alternate in short blocks.

Each round runs --block calls of ctorch's case, then of torch's, each after a quiet pause (so
neither library's idle worker threads spin into the other's block); the report gives the
25th-percentile and the median block time per call and their ratios (torch / ctorch, higher
is better for ctorch).  ``--linear-openblas`` routes nn.Linear's float32 products back to
NumPy's OpenBLAS instead of ctorch's sgemm (the A/B behind that choice).

usage: python tools/bench_steps.py "MLP step 784-512-256-10 b256 SGD" [--threads 2]
       (or a whole-program row: "LSTM LM step (2x200, bptt 35, b20, vocab 10k)")
       [--rounds 40] [--block 5] [--quiet 0.15] [--linear-openblas]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "asv_bench"))

from benchmarks.cases import CASES, lib_module  # noqa: E402
from benchmarks.programs import PROGRAMS  # noqa: E402

TABLE = {**CASES, **PROGRAMS}  # kernel/step cases and the whole-program steps


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", choices=sorted(TABLE))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--block", type=int, default=5)
    ap.add_argument("--quiet", type=float, default=0.15)
    ap.add_argument("--linear-openblas", action="store_true")
    args = ap.parse_args(argv)
    libs = {name: lib_module(name) for name in ("ctorch", "torch")}
    for lib in libs.values():
        lib.set_num_threads(args.threads)
    if args.linear_openblas:
        from ctorch.ops import mm_arrays

        mm_arrays._LINEAR_SGEMM = False
    fns = {name: TABLE[args.case][0](lib) for name, lib in libs.items()}
    for fn in fns.values():
        for _ in range(3):
            fn()
    ts = {name: [] for name in fns}
    for _ in range(args.rounds):
        for name, fn in fns.items():
            time.sleep(args.quiet)
            t0 = time.perf_counter()
            for _ in range(args.block):
                fn()
            ts[name].append((time.perf_counter() - t0) / args.block)
    p25 = {k: 1e3 * float(np.percentile(v, 25)) for k, v in ts.items()}
    med = {k: 1e3 * float(np.median(v)) for k, v in ts.items()}
    mode = "nn.Linear on OpenBLAS" if args.linear_openblas else "nn.Linear on sgemm"
    print(
        f"{args.case}, {args.threads} thread(s), {mode}: "
        f"p25 ctorch {p25['ctorch']:.2f} ms torch {p25['torch']:.2f} ms "
        f"ratio {p25['torch'] / p25['ctorch']:.2f}; "
        f"median ctorch {med['ctorch']:.2f} ms torch {med['torch']:.2f} ms "
        f"ratio {med['torch'] / med['ctorch']:.2f}"
    )


if __name__ == "__main__":
    main()
