"""ctorch.linalg vs torch.linalg, side by side in one process (issue #13's target: within 1.2x).

Each call runs on one 512x512 float64 matrix and on a batch of 64 64x64 float64 matrices, at
each thread count (``ctorch.set_num_threads`` sets ctorch's OpenMP pool and NumPy's OpenBLAS;
``torch.set_num_threads`` torch's). Timings are the best of interleaved repeats (ctorch, torch,
ctorch, ...), so a loaded machine disturbs both sides alike.

    python tools/bench_linalg.py                       # all calls, 1 and 2 threads
    python tools/bench_linalg.py --threads 1 --ops inv,svd --budget 0.5
    python tools/bench_linalg.py --out BENCHMARKS.linalg.md   # also write the table there
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import ctorch


def _inputs(shape, rng):
    n = shape[-1]
    a = rng.standard_normal(shape)
    spd = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    well = a + 3 * np.sqrt(n) * np.eye(n)
    b = rng.standard_normal(shape[:-1] + (16,))
    tri = np.triu(well)
    tau = rng.uniform(1.0, 2.0, size=shape[:-2] + (n,))
    return {
        "A": well,
        "spd": spd,
        "B": b,
        "tri": tri,
        "sym": (a + np.swapaxes(a, -1, -2)) / 2,
        "tau": tau,
    }


# name: (input keys, call(lib, *tensors)); LU/LDL factors are made once per library outside
# the timed call where the call needs them
CALLS = {
    "inv": (("A",), lambda L, a: L.linalg.inv(a)),
    "inv_ex": (("A",), lambda L, a: L.linalg.inv_ex(a)),
    "det": (("A",), lambda L, a: L.linalg.det(a)),
    "slogdet": (("A",), lambda L, a: L.linalg.slogdet(a)),
    "solve": (("A", "B"), lambda L, a, b: L.linalg.solve(a, b)),
    "solve_ex": (("A", "B"), lambda L, a, b: L.linalg.solve_ex(a, b)),
    "solve_triangular": (("tri", "B"), lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True)),
    "cholesky": (("spd",), lambda L, a: L.linalg.cholesky(a)),
    "cholesky_ex": (("spd",), lambda L, a: L.linalg.cholesky_ex(a)),
    "qr": (("A",), lambda L, a: L.linalg.qr(a)),
    "svd": (("A",), lambda L, a: L.linalg.svd(a, full_matrices=False)),
    "svdvals": (("A",), lambda L, a: L.linalg.svdvals(a)),
    "eig": (("A",), lambda L, a: L.linalg.eig(a)),
    "eigvals": (("A",), lambda L, a: L.linalg.eigvals(a)),
    "eigh": (("sym",), lambda L, a: L.linalg.eigh(a)),
    "eigvalsh": (("sym",), lambda L, a: L.linalg.eigvalsh(a)),
    "pinv": (("A",), lambda L, a: L.linalg.pinv(a)),
    "matrix_rank": (("A",), lambda L, a: L.linalg.matrix_rank(a)),
    "lstsq": (("A", "B"), lambda L, a, b: L.linalg.lstsq(a, b)),
    "lu": (("A",), lambda L, a: L.linalg.lu(a)),
    "lu_factor": (("A",), lambda L, a: L.linalg.lu_factor(a)),
    "lu_factor_ex": (("A",), lambda L, a: L.linalg.lu_factor_ex(a)),
    "lu_solve": (("LU", "piv", "B"), lambda L, lu, p, b: L.linalg.lu_solve(lu, p, b)),
    "ldl_factor": (("spd",), lambda L, a: L.linalg.ldl_factor(a)),
    "ldl_solve": (("LD", "ldpiv", "B"), lambda L, ld, p, b: L.linalg.ldl_solve(ld, p, b)),
    "householder_product": (("A", "tau"), lambda L, a, t: L.linalg.householder_product(a, t)),
    "matrix_exp": (("A",), lambda L, a: L.linalg.matrix_exp(a * 0.01)),
    "matrix_power": (("A",), lambda L, a: L.linalg.matrix_power(a, 3)),
    "matrix_norm_fro": (("A",), lambda L, a: L.linalg.matrix_norm(a)),
    "matrix_norm_2": (("A",), lambda L, a: L.linalg.matrix_norm(a, 2)),
    "vector_norm": (("A",), lambda L, a: L.linalg.vector_norm(a)),
    "norm": (("A",), lambda L, a: L.linalg.norm(a)),
    "cond": (("A",), lambda L, a: L.linalg.cond(a)),
    "multi_dot": (("A",), lambda L, a: L.linalg.multi_dot([a[..., :32], a[..., :32, :], a])),
    "matmul": (("A",), lambda L, a: L.linalg.matmul(a, a)),
    "tensorinv": (("A",), lambda L, a: L.linalg.tensorinv(a, ind=1)),
}
BATCHED_ONLY_2D = {"multi_dot", "tensorinv"}  # 2-D only in torch as well


def _tensors(lib, arrays, keys):
    ts = {k: lib.from_numpy(arrays[k].copy()) for k in arrays}
    ts["LU"], ts["piv"] = lib.linalg.lu_factor(ts["A"])
    ts["LD"], ts["ldpiv"] = lib.linalg.ldl_factor(ts["spd"])
    return [ts[k] for k in keys]


QUIET_S = 0.15  # as tools/bench_report.py: let the other library's idle threads stop spinning


def _time(fn, budget, threads=1):
    if threads > 1:
        time.sleep(QUIET_S)
    fn()  # warm up
    best = float("inf")
    n = 0
    start = time.perf_counter()
    while n < 3 or (time.perf_counter() - start < budget and n < 50):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        n += 1
    return best


def main() -> None:
    import torch

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", default="1,2")
    p.add_argument("--ops", default=",".join(CALLS))
    p.add_argument("--budget", type=float, default=0.3, help="seconds per timing (per side)")
    p.add_argument("--out", default=None, help="write the markdown table to this file too")
    args = p.parse_args()
    ops = [o for o in args.ops.split(",") if o]
    rng = np.random.default_rng(0)
    shapes = {"512x512": (512, 512), "64x(64x64)": (64, 64, 64)}
    data = {k: _inputs(s, rng) for k, s in shapes.items()}
    rows = []
    lines = [HEADER]
    for nt in (int(t) for t in args.threads.split(",")):
        ctorch.set_num_threads(nt)
        torch.set_num_threads(nt)
        for op in ops:
            keys, call = CALLS[op]
            for sname in shapes:
                if op in BATCHED_ONLY_2D and len(shapes[sname]) > 2:
                    continue
                xc = _tensors(ctorch, data[sname], keys)
                xt = _tensors(torch, data[sname], keys)
                tc1 = _time(lambda c=call, x=xc: c(ctorch, *x), args.budget, nt)
                tt1 = _time(lambda c=call, x=xt: c(torch, *x), args.budget, nt)
                tc2 = _time(lambda c=call, x=xc: c(ctorch, *x), args.budget, nt)
                tt2 = _time(lambda c=call, x=xt: c(torch, *x), args.budget, nt)
                tc, tt = min(tc1, tc2), min(tt1, tt2)
                rows.append((op, sname, nt, tc, tt))
                line = (
                    f"| {op} | {sname} | {nt} | {tc * 1e3:.3f} | {tt * 1e3:.3f} | {tc / tt:.2f} |"
                )
                print(line, flush=True)
                lines.append(line)
    within = sum(r[3] <= 1.2 * r[4] for r in rows)
    summary = f"\n{within}/{len(rows)} calls within 1.2x of torch"
    print(summary)
    if args.out:
        import os

        head = (
            "# ctorch.linalg vs torch.linalg (float64)\n\n"
            f"`python tools/bench_linalg.py --threads {args.threads} --budget {args.budget}`, "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end (a shared "
            "machine: ratios are what to read, not absolute times). Best of interleaved "
            "repeats.\n\n"
        )
        with open(args.out, "w") as f:
            f.write(head + "\n".join(lines) + "\n" + summary + "\n")


HEADER = "| call | shape | threads | ctorch ms | torch ms | ratio |\n|---|---|---|---|---|---|"

if __name__ == "__main__":
    print(HEADER)
    main()
