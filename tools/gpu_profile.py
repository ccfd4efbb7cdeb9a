"""Where the host time of tiny CUDA ops goes: cProfile of a few ops on 16-element tensors.

    python tools/gpu_profile.py [--device cuda] [--calls 2000] [--top 14]

For each op, prints the wall time per call (k calls, one synchronization) and the functions
with the most own time. Run on a GPU machine (tools/gpu_session.sh does); ``--device cpu``
only checks the script.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--top", type=int, default=14)
    args = ap.parse_args(argv)
    import ctorch

    dev = args.device
    sync = ctorch.cuda.synchronize if dev == "cuda" else (lambda: None)
    a = ctorch.tensor(np.linspace(-1, 1, 16, dtype=np.float32), device=dev)
    b = ctorch.tensor(np.linspace(1, 2, 16, dtype=np.float32), device=dev)
    ag = a.detach().requires_grad_(True)
    big = ctorch.tensor(np.ones(1 << 26, np.float32), device=dev)

    def fwd_bwd():
        ag.grad = None
        (ag * b).sum().backward()

    ctorch.manual_seed(0)
    nn = ctorch.nn
    mlp = nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)
    ).to(dev)
    opt = ctorch.optim.SGD(mlp.parameters(), lr=0.01, momentum=0.9)
    xb = ctorch.randn(256, 784, device=dev)
    yb = ctorch.randint(0, 10, (256,), device=dev)

    def mlp_step():
        opt.zero_grad()
        ctorch.nn.functional.cross_entropy(mlp(xb), yb).backward()
        opt.step()

    ops = {
        "a + b": lambda: a + b,
        "relu(a)": lambda: ctorch.relu(a),
        "a.exp()": lambda: a.exp(),
        "a.sum()": lambda: a.sum(),
        "a * 2.0": lambda: a * 2.0,
        "(a*b).sum().backward()": fwd_bwd,
        "relu 64M": lambda: ctorch.relu(big),
        "MLP step b256 SGD": mlp_step,
    }
    for name, fn in ops.items():
        for _ in range(20):
            fn()
        sync()
        n = args.calls if ("64M" not in name and "step" not in name) else 50
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        sync()
        per = (time.perf_counter() - t0) / n
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(n):
            fn()
        sync()
        pr.disable()
        s = io.StringIO()
        st = pstats.Stats(pr, stream=s)
        st.sort_stats("tottime").print_stats(args.top)
        body = s.getvalue()
        body = body[body.find("ncalls") :] if "ncalls" in body else body
        print(f"=== {name}: {per * 1e6:.1f} us/call ({n} calls)\n{body}")


if __name__ == "__main__":
    main()
