"""Two-rank SyncBatchNorm check without MPI: two spawned processes whose all-reduce (the
``batchnorm._all_reduce_sum`` seam) exchanges arrays through a pipe. Each rank holds part of a
batch (uneven sizes); its outputs, input gradients, all-reduced parameter gradients and running
statistics must equal plain BatchNorm's on the whole batch. Run by test_layers_extra.py."""

from __future__ import annotations

import multiprocessing as mp
import sys
import traceback

import numpy as np


def rank_main(rank: int, conn) -> None:
    try:
        import ctorch
        import ctorch.distributed as dist
        import ctorch.nn as nn
        from ctorch.nn.modules import batchnorm

        def all_reduce_sum(t, group):
            a = t.detach().numpy()
            conn.send(a)
            b = conn.recv()
            s = a + b if rank == 0 else b + a  # same order on both ranks: same bits
            return ctorch.tensor(s)

        batchnorm._all_reduce_sum = all_reduce_sum
        dist.is_initialized = lambda: True
        dist.get_world_size = lambda group=None: 2

        rng = np.random.default_rng(0)
        for dims, momentum in (((4, 6), 0.1), ((3, 3, 2), None), ((2, 2, 2, 3), 0.3)):
            C = dims[0]
            X = [rng.standard_normal((5,) + dims).astype(np.float64) * 3 + 1 for _ in range(2)]
            G = [rng.standard_normal(x.shape) for x in X]
            W, B = rng.standard_normal(C), rng.standard_normal(C)
            lo, hi = (0, 3) if rank == 0 else (3, 5)  # uneven per-rank batches
            cls = {3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}[len(dims) + 1]
            ref = cls(C, momentum=momentum).double()
            sync = nn.SyncBatchNorm.convert_sync_batchnorm(cls(C, momentum=momentum).double())
            assert type(sync) is nn.SyncBatchNorm
            for m in (ref, sync):
                m.weight.data = ctorch.tensor(W)
                m.bias.data = ctorch.tensor(B)
            for step in range(2):
                x_full = ctorch.tensor(X[step], requires_grad=True)
                y_full = ref(x_full)
                (y_full * ctorch.tensor(G[step])).sum().backward()
                x = ctorch.tensor(X[step][lo:hi], requires_grad=True)
                y = sync(x)
                (y * ctorch.tensor(G[step][lo:hi])).sum().backward()
                np.testing.assert_allclose(
                    y.detach().numpy(), y_full.detach().numpy()[lo:hi], rtol=1e-10, atol=1e-12
                )
                np.testing.assert_allclose(
                    x.grad.numpy(), x_full.grad.numpy()[lo:hi], rtol=1e-9, atol=1e-12
                )
                for p, q in ((sync.weight, ref.weight), (sync.bias, ref.bias)):
                    total = all_reduce_sum(p.grad, None)
                    np.testing.assert_allclose(total.numpy(), q.grad.numpy(), rtol=1e-9)
                    p.grad = None
                    q.grad = None
                np.testing.assert_allclose(
                    sync.running_mean.numpy(), ref.running_mean.numpy(), rtol=1e-12
                )
                np.testing.assert_allclose(
                    sync.running_var.numpy(), ref.running_var.numpy(), rtol=1e-12
                )
                assert int(sync.num_batches_tracked) == step + 1
            # eval: running statistics, no communication
            sync.eval()
            ref.eval()
            xe = ctorch.tensor(X[0][lo:hi])
            np.testing.assert_allclose(
                sync(xe).detach().numpy(), ref(xe).detach().numpy(), rtol=1e-12
            )
        conn.send(("OK", rank))
    except BaseException:
        conn.send(("FAIL", rank, traceback.format_exc()))


def main() -> int:
    ctx = mp.get_context("spawn")
    a, b = ctx.Pipe()
    procs = [ctx.Process(target=rank_main, args=(r, c)) for r, c in ((0, a), (1, b))]
    for p in procs:
        p.start()
    for p in procs:
        p.join(240)
    ok = all(p.exitcode == 0 for p in procs)
    # each rank's last message was left for the other end of the pipe
    msgs = []
    for c in (a, b):
        while c.poll():
            msgs.append(c.recv())
    for m in msgs:
        if isinstance(m, tuple) and m and m[0] == "FAIL":
            print(m[2])
            ok = False
        elif isinstance(m, tuple) and m and m[0] == "OK":
            print(f"OK rank {m[1]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
