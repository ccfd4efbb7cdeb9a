"""Per-call time of ~55 common ops on small tensors, ctorch and torch side by side.

    python tools/bench_small_ops.py [--threads 1] [--calls 4000] [--rounds 5] [--sort]

Each op runs on an (8, 16) float32 tensor (and the small operands it needs), with no graph
recorded, in blocks of --calls calls; the best block of --rounds (CPU time of this thread,
so other processes on the machine disturb it less) gives microseconds per call. The two
libraries alternate op by op in one process. ratio = torch time / ctorch time (> 1: ctorch
faster). Also a tiny training step (4-64-64-2 MLP, batch 16, Adam) and its one-sample
inference, the shape of small reinforcement-learning policies.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import ctorch


def _best(fn, calls: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.thread_time()
        for _ in range(calls):
            fn()
        best = min(best, (time.thread_time() - t0) / calls)
    return best * 1e6


def _ops(L, a: np.ndarray, wa: np.ndarray, va: np.ndarray) -> dict:
    x, w, v = L.from_numpy(a.copy()), L.from_numpy(wa.copy()), L.from_numpy(va.copy())
    i = L.from_numpy(np.array([0, 2, 3]))
    m = x > 0.5
    gi = i.view(1, 3).expand(8, 3)
    xb, wb = x.view(2, 4, 16), w.expand(2, 16, 16)
    t = L.zeros(8, dtype=L.int64)
    F = L.nn.functional
    return {
        "x * 2": lambda: x * 2,
        "x + x": lambda: x + x,
        "x + bias": lambda: x + v,
        "x / x": lambda: x / x,
        "x ** 2": lambda: x**2,
        "exp": lambda: x.exp(),
        "tanh": lambda: x.tanh(),
        "sigmoid": lambda: x.sigmoid(),
        "relu": lambda: F.relu(x),
        "gelu": lambda: F.gelu(x),
        "abs": lambda: x.abs(),
        "sqrt": lambda: x.sqrt(),
        "clamp": lambda: x.clamp(0.1, 0.9),
        "x == x": lambda: x == x,
        "where": lambda: L.where(m, x, 0.0),
        "masked_fill": lambda: x.masked_fill(m, 0.0),
        "sum()": lambda: x.sum(),
        "mean(-1)": lambda: x.mean(-1),
        "max(-1)": lambda: x.max(-1),
        "argmax(-1)": lambda: x.argmax(-1),
        "var(-1)": lambda: x.var(-1),
        "std()": lambda: x.std(),
        "norm()": lambda: x.norm(),
        "cumsum(-1)": lambda: x.cumsum(-1),
        "softmax(-1)": lambda: x.softmax(-1),
        "softmax(0)": lambda: x.softmax(0),
        "log_softmax(-1)": lambda: F.log_softmax(x, -1),
        "layer_norm": lambda: F.layer_norm(x, (16,)),
        "x @ w": lambda: x @ w,
        "linear": lambda: F.linear(x, w, v),
        "addmm": lambda: L.addmm(v, x, w),
        "bmm": lambda: L.bmm(xb, wb),
        "cross_entropy": lambda: F.cross_entropy(x, t),
        "mse_loss": lambda: F.mse_loss(x, x),
        "x.T": lambda: x.T,
        "permute": lambda: x.permute(1, 0),
        "view": lambda: x.view(16, 8),
        "reshape": lambda: x.reshape(16, 8),
        "flatten": lambda: x.flatten(),
        "unsqueeze": lambda: x.unsqueeze(0),
        "squeeze": lambda: x.squeeze(),
        "expand": lambda: v.expand(8, 16),
        "x[:, :4]": lambda: x[:, :4],
        "x[idx]": lambda: x[i],
        "x[mask]": lambda: x[m],
        "index_select": lambda: x.index_select(0, i),
        "gather": lambda: x.gather(1, gi),
        "cat": lambda: L.cat([x, x]),
        "stack": lambda: L.stack([x, x]),
        "split": lambda: x.split(4, 1),
        "chunk": lambda: x.chunk(2, -1),
        "topk": lambda: x.topk(3),
        "sort": lambda: x.sort(-1),
        "contiguous": lambda: x.T.contiguous(),
        "clone": lambda: x.clone(),
        "to(float64)": lambda: x.to(L.float64),
        "zeros": lambda: L.zeros(8, 16),
        "zeros_like": lambda: L.zeros_like(x),
        "arange": lambda: L.arange(16),
        "tensor(list)": lambda: L.tensor([1.0, 2.0, 3.0]),
        "item": lambda: x[0, 0].item(),
        "embedding": lambda: F.embedding(i, w),
    }


def _tiny(L):
    L.manual_seed(0)
    nn = L.nn
    m = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
    opt = L.optim.Adam(m.parameters(), 1e-3)
    x, y = L.randn(16, 4), L.randint(0, 2, (16,))

    def step():
        loss = L.nn.functional.cross_entropy(m(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def infer():
        with L.no_grad():
            return m(x[:1]).softmax(-1).argmax(-1).item()

    return step, infer


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--calls", type=int, default=4000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sort", action="store_true", help="rows by ratio, slowest first")
    ap.add_argument("--only", default="", help="comma-separated op names (default: all)")
    args = ap.parse_args(argv)
    import torch

    ctorch.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    a = rng.random((8, 16)).astype(np.float32)
    wa = rng.random((16, 16)).astype(np.float32)
    va = rng.random(16).astype(np.float32)
    ours, theirs = _ops(ctorch, a, wa, va), _ops(torch, a, wa, va)
    rows = []
    only = [o for o in args.only.split(",") if o]
    for name in ours:
        if only and name not in only:
            continue
        c = _best(ours[name], args.calls, args.rounds)
        t = _best(theirs[name], args.calls, args.rounds)
        rows.append((name, c, t))
    (cs, ci), (ts, ti) = _tiny(ctorch), _tiny(torch)
    n = max(args.calls // 20, 20)
    for name, c, t in (("tiny MLP train step", cs, ts), ("tiny MLP inference", ci, ti)):
        if not only or name in only:
            rows.append((name, _best(c, n, args.rounds), _best(t, n, args.rounds)))
    if args.sort:
        rows.sort(key=lambda r: r[2] / r[1])
    print(
        f"threads={args.threads}; us per call, best of {args.rounds} blocks; ratio = torch/ctorch"
    )
    print("| op | ctorch | torch | ratio |\n|---|---|---|---|")
    for name, c, t in rows:
        print(f"| {name} | {c:.2f} | {t:.2f} | {t / c:.2f} |")


if __name__ == "__main__":
    main()
