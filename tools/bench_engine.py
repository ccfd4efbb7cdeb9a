"""Autograd-engine and small-op overhead: ctorch vs torch in one process, interleaved.

(a) a chain of N small differentiable ops (add/mul/tanh/relu cycling on a (16,) tensor),
    forward + backward, reported per op; (b) ``a + b``, ``a * 2``, ``a.relu()`` on 16
    elements under no_grad and with a grad-requiring input; (c) an MLP step (3x Linear
    64-64, batch 16: forward, MSE loss, backward, SGD step).

Each case alternates ctorch and torch in rounds and reports medians of process CPU time
(the machine may be loaded by other processes; both libraries run one thread). Ratio = ctorch time / torch time (lower is better).

usage: OMP_NUM_THREADS=1 python tools/bench_engine.py [--rounds 15] [--chain 1000] [--wall]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import ctorch

# CPU time of this process, not wall time: the machine is shared, and a process waiting
# for a core would otherwise count the wait (torch runs with 1 thread, as ctorch)
_clock = time.process_time


def _per_call(fn, number):
    t0 = _clock()
    for _ in range(number):
        fn()
    return (_clock() - t0) / number


def compare(name, fc, ft, number, rounds, unit_div=1.0):
    fc()
    ft()  # warm up
    tc, tt = [], []
    for _ in range(rounds):
        tc.append(_per_call(fc, number))
        tt.append(_per_call(ft, number))
    mc = statistics.median(tc) / unit_div * 1e6
    mt = statistics.median(tt) / unit_div * 1e6
    print(f"{name:<34} ctorch {mc:9.3f} us   torch {mt:9.3f} us   ratio {mc / mt:5.2f}x")
    return mc / mt


def chain_fn(lib, n):
    x0 = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    x = lib.tensor(x0, requires_grad=True)
    c = lib.tensor(np.full(16, 0.5, np.float32))

    def run():
        y = x
        for i in range(n):
            k = i & 3
            if k == 0:
                y = y + c
            elif k == 1:
                y = y * c
            elif k == 2:
                y = y.tanh()
            else:
                y = y.relu()
        y.sum().backward()
        x.grad = None

    return run


def small_ops(lib, grad):
    a = lib.tensor(np.linspace(-1, 1, 16, dtype=np.float32), requires_grad=grad)
    b = lib.tensor(np.linspace(1, 2, 16, dtype=np.float32))
    return {"a + b": lambda: a + b, "a * 2": lambda: a * 2, "a.relu()": lambda: a.relu()}


def mlp_fn(lib):
    lib.manual_seed(0)
    nn = lib.nn
    model = nn.Sequential(
        nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64)
    )
    opt = lib.optim.SGD(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(1)
    x = lib.tensor(rng.standard_normal((16, 64)).astype(np.float32))
    t = lib.tensor(rng.standard_normal((16, 64)).astype(np.float32))
    loss_fn = nn.MSELoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        opt.step()

    return step


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--chain", type=int, default=1000)
    p.add_argument("--wall", action="store_true", help="time wall clock, not process CPU time")
    args = p.parse_args()
    if args.wall:
        global _clock
        _clock = time.perf_counter
    torch.set_num_threads(1)
    ctorch.set_num_threads(1)
    r = args.rounds
    n = args.chain
    compare(
        f"chain {n} ops fwd+bwd, per op",
        chain_fn(ctorch, n),
        chain_fn(torch, n),
        number=3,
        rounds=r,
        unit_div=n,
    )
    for grad in (False, True):
        oc, ot = small_ops(ctorch, grad), small_ops(torch, grad)
        for key in oc:
            label = f"{key} (16) {'requires_grad' if grad else 'no_grad'}"
            if grad:
                compare(label, oc[key], ot[key], 2000, r)
            else:
                # the op itself, inside one no_grad block (not the context manager's cost)
                with ctorch.no_grad(), torch.no_grad():
                    compare(label, oc[key], ot[key], 2000, r)
    compare("MLP step 3x Linear(64,64) b16", mlp_fn(ctorch), mlp_fn(torch), 50, r)


if __name__ == "__main__":
    main()
