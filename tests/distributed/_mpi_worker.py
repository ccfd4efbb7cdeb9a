"""Multi-rank checks, run by test_multirank.py as ``mpirun -n 2 python _mpi_worker.py SCENARIO``.

Every rank asserts; a failure prints the traceback and aborts the whole MPI job (so the other
rank cannot hang in a collective), and the pytest side sees a non-zero exit status. Expected
values are computed from every rank's inputs, which each rank can regenerate (seeded by rank).
"""

from __future__ import annotations

import os
import sys
import traceback

import numpy as np

import ctorch
import ctorch.distributed as dist
from ctorch import nn
from ctorch.nn.parallel import DistributedDataParallel as DDP

R = dist.ReduceOp


def inputs(rank: int, dtype: str, shape=(3, 4)) -> np.ndarray:
    rng = np.random.default_rng(1234 + rank)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype in ("float32", "float64"):
        return rng.uniform(-2, 2, shape).astype(dtype)
    if dtype == "uint8":
        return rng.integers(0, 5, shape).astype(dtype)
    return rng.integers(-5, 6, shape).astype(dtype)


def expected_reduce(arrs: list[np.ndarray], op: R) -> np.ndarray:
    dt = arrs[0].dtype
    if dt == np.bool_:
        if op in (R.SUM, R.MAX):
            return np.logical_or.reduce(arrs)
        return np.logical_and.reduce(arrs)
    s = np.stack(arrs).astype(np.float64 if dt.kind == "f" else np.int64)
    if op is R.SUM:
        out = s.sum(0)
    elif op is R.PRODUCT:
        out = s.prod(0)
    elif op is R.MIN:
        out = s.min(0)
    elif op is R.MAX:
        out = s.max(0)
    else:  # AVG
        out = s.sum(0) / len(arrs) if dt.kind == "f" else np.trunc(s.sum(0) / len(arrs))
    return out.astype(dt)


def close(a, b, dt) -> None:
    a = a.numpy() if isinstance(a, ctorch.Tensor) else a
    if np.dtype(dt).kind == "f":
        np.testing.assert_allclose(a, b, rtol=1e-6 if dt == "float32" else 1e-12, atol=1e-6)
    else:
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------- collectives
def scenario_collectives() -> None:
    rank, n = dist.get_rank(), dist.get_world_size()
    assert n >= 2
    ops = [R.SUM, R.AVG, R.PRODUCT, R.MIN, R.MAX]
    checked = 0
    for dt in ["float32", "float64", "int32", "int64", "uint8", "bool"]:
        allin = [inputs(r, dt) for r in range(n)]
        for op in ops:
            if dt == "bool" and op is R.AVG:
                t = ctorch.from_numpy(allin[rank].copy())
                try:
                    dist.all_reduce(t, op=op)
                except ValueError as e:
                    assert "AVG" in str(e)
                else:
                    raise AssertionError("AVG on bool should raise")
                continue
            want = expected_reduce(allin, op)
            for async_op in (False, True):
                t = ctorch.from_numpy(allin[rank].copy())
                v0 = t._version
                w = dist.all_reduce(t, op=op, async_op=async_op)
                if async_op:
                    assert w is not None
                    w.wait()
                    assert w.is_completed()
                else:
                    assert w is None
                close(t, want, dt)
                assert t._version > v0
                checked += 1
            # non-contiguous: reduced through a contiguous copy, copied back in place
            base = ctorch.from_numpy(np.ascontiguousarray(allin[rank].T.copy()))
            t = base.t()
            assert not t.is_contiguous()
            dist.all_reduce(t, op=op)
            close(base.t(), want, dt)
            # reduce to rank 1 (the root's tensor only)
            t = ctorch.from_numpy(allin[rank].copy())
            dist.reduce(t, dst=1, op=op)
            close(t, want if rank == 1 else allin[rank], dt)
            # reduce_scatter_tensor and reduce_scatter (list)
            big = [inputs(r, dt, (2 * n, 3)) for r in range(n)]
            want_big = expected_reduce(big, op)
            out = ctorch.from_numpy(np.zeros((2, 3), dtype=dt))
            dist.reduce_scatter_tensor(out, ctorch.from_numpy(big[rank].copy()), op=op)
            close(out, want_big[2 * rank : 2 * rank + 2], dt)
            out = ctorch.from_numpy(np.zeros((2, 3), dtype=dt))
            chunks = [ctorch.from_numpy(big[rank][2 * i : 2 * i + 2].copy()) for i in range(n)]
            w = dist.reduce_scatter(out, chunks, op=op, async_op=True)
            w.wait()
            close(out, want_big[2 * rank : 2 * rank + 2], dt)
            checked += 4
    # float16 goes through a float32 copy
    t = ctorch.full((5,), 0.5 + rank, dtype=ctorch.float16)
    dist.all_reduce(t)
    assert t.dtype == ctorch.float16
    close(t.float(), np.full(5, sum(0.5 + r for r in range(n))), "float32")

    # broadcast from rank 1, all dtypes incl. a non-contiguous target
    for dt in ["float32", "float64", "int32", "int64", "uint8", "bool"]:
        t = ctorch.from_numpy(inputs(rank, dt).copy())
        dist.broadcast(t, src=1)
        close(t, inputs(1, dt), dt)
    base = ctorch.zeros(4, 3) + rank
    dist.broadcast(base.t(), src=1)
    close(base, np.full((4, 3), 1.0), "float32")
    t = ctorch.full((3,), float(rank))
    dist.broadcast(t, src=0, async_op=True).wait()
    close(t, np.zeros(3), "float32")

    # all_gather (even and uneven), all_gather_into_tensor (flat and stacked)
    lst = [ctorch.zeros(2, 2) for _ in range(n)]
    dist.all_gather(lst, ctorch.full((2, 2), float(rank)))
    for r in range(n):
        close(lst[r], np.full((2, 2), float(r)), "float32")
    lst = [ctorch.zeros(r + 1, dtype=ctorch.int64) for r in range(n)]
    w = dist.all_gather(lst, ctorch.full((rank + 1,), rank + 7, dtype=ctorch.int64), async_op=True)
    w.wait()
    for r in range(n):
        close(lst[r], np.full(r + 1, r + 7), "int64")
    flat = ctorch.zeros(2 * n)
    dist.all_gather_into_tensor(flat, ctorch.tensor([rank, -rank], dtype=ctorch.float32))
    close(flat, np.array([v for r in range(n) for v in (r, -r)]), "float32")
    stacked = ctorch.zeros(n, 2, dtype=ctorch.float64)
    dist.all_gather_into_tensor(stacked, ctorch.tensor([rank, 1.0], dtype=ctorch.float64))
    close(stacked, np.array([[r, 1.0] for r in range(n)]), "float64")

    # gather / scatter with root 1
    gl = [ctorch.zeros(3) for _ in range(n)] if rank == 1 else None
    dist.gather(ctorch.arange(3.0) + 10 * rank, gl, dst=1)
    if rank == 1:
        for r in range(n):
            close(gl[r], np.arange(3.0) + 10 * r, "float32")
    s = ctorch.zeros(2, dtype=ctorch.int32)
    sl = [ctorch.full((2,), 5 + i, dtype=ctorch.int32) for i in range(n)] if rank == 1 else None
    dist.scatter(s, sl, src=1)
    close(s, np.full(2, 5 + rank), "int32")

    # point to point: send/recv, isend/irecv, any-source recv, batch_isend_irecv
    if rank == 0:
        dist.send(ctorch.arange(4.0), dst=1)
        b = ctorch.zeros(4, dtype=ctorch.int64)
        w = dist.irecv(b, src=1, tag=3)
        w.wait()
        close(b, np.arange(4) * 2, "int64")
    elif rank == 1:
        b = ctorch.zeros(4)
        src = dist.recv(b)
        assert src == 0
        close(b, np.arange(4.0), "float32")
        dist.isend(ctorch.arange(4) * 2, dst=0, tag=3).wait()
    peer = 1 - rank if rank < 2 else None
    if peer is not None:
        got = ctorch.zeros(2)
        ws = dist.batch_isend_irecv(
            [
                dist.P2POp(dist.isend, ctorch.full((2,), float(rank)), peer),
                dist.P2POp(dist.irecv, got, peer),
            ]
        )
        for w in ws:
            w.wait()
        close(got, np.full(2, float(peer)), "float32")
        if rank == 0:  # size mismatch on recv is an error, not a silent partial receive
            dist.send(ctorch.zeros(3), dst=1)
        else:
            try:
                dist.recv(ctorch.zeros(5), src=0)
            except RuntimeError as e:
                assert "bytes" in str(e)
            else:
                raise AssertionError("recv of a shorter message should raise")

    # objects, barrier, subgroup
    objs = [None] * n
    dist.all_gather_object(objs, {"rank": rank})
    assert objs == [{"rank": r} for r in range(n)]
    bl = [rank, "x"] if rank == 1 else [None, None]
    dist.broadcast_object_list(bl, src=1)
    assert bl == [1, "x"]
    dist.barrier()
    dist.barrier(async_op=True).wait()
    sub = dist.new_group([1])
    if rank == 1:
        assert dist.get_rank(sub) == 0 and dist.get_world_size(sub) == 1
        t = ctorch.ones(2)
        dist.all_reduce(t, group=sub)
        close(t, np.ones(2), "float32")
        dist.broadcast(t, src=1, group=sub)
    else:
        assert sub is dist.GroupMember.NON_GROUP_MEMBER
        assert dist.get_rank(sub) == -1
        assert dist.all_reduce(ctorch.ones(2), group=sub) is None
    full = dist.new_group()
    t = ctorch.ones(1)
    dist.all_reduce(t, group=full)
    close(t, np.full(1, float(n)), "float32")
    assert dist.get_process_group_ranks(full) == list(range(n))

    # mismatches across ranks: every rank raises the same clear error
    for call in ("all_gather_into_tensor", "all_gather", "reduce_scatter_tensor", "gather"):
        try:
            if call == "all_gather_into_tensor":
                dist.all_gather_into_tensor(ctorch.zeros(n * (rank + 2)), ctorch.zeros(rank + 2))
            elif call == "all_gather":
                dist.all_gather([ctorch.zeros(3) for _ in range(n)], ctorch.zeros(3 + rank))
            elif call == "reduce_scatter_tensor":
                dist.reduce_scatter_tensor(ctorch.zeros(2 + rank), ctorch.zeros(n * (2 + rank)))
            else:
                dt = ctorch.float32 if rank == 0 else ctorch.float64
                gl = [ctorch.zeros(2) for _ in range(n)] if rank == 0 else None
                dist.gather(ctorch.zeros(2, dtype=dt), gl, dst=0)
        except ValueError as e:
            msg = str(e)
            assert call in msg and "rank 1" in msg, msg
        else:
            raise AssertionError(f"{call} with mismatched tensors should raise")
    os.environ["CTORCH_DISTRIBUTED_DEBUG"] = "DETAIL"
    try:
        dist.all_reduce(ctorch.zeros(2 + rank))
    except ValueError as e:
        assert "(2,)" in str(e) and "(3,)" in str(e), str(e)
    else:
        raise AssertionError("debug-mode all_reduce with mismatched shapes should raise")
    finally:
        del os.environ["CTORCH_DISTRIBUTED_DEBUG"]
    dist.barrier()
    print(f"checked {checked} reductions", flush=True)


# ---------------------------------------------------------------------------- DDP training
class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)
        )

    def forward(self, x):
        return self.net(x)


class ConvBN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 6 * 6, 3)

    def forward(self, x):
        return self.fc(ctorch.flatten(ctorch.relu(self.bn(self.conv(x))), 1))


def scenario_transport() -> None:
    """What a transport can get wrong: 16-bit reductions, large messages both ways at once
    (an irecv posted before the isend), tags out of order, sub-groups of a larger world."""
    rank, n = dist.get_rank(), dist.get_world_size()
    # float16 / bfloat16 sums accumulate in float32 and round once: every rank bitwise equal
    for dt in (ctorch.float16, ctorch.bfloat16):
        parts = [ctorch.linspace(-3, 3, 257, dtype=ctorch.float32) * (r + 1) for r in range(n)]
        want = sum(p.float() for p in [q.to(dt) for q in parts]).to(dt)
        t = parts[rank].to(dt)
        dist.all_reduce(t)
        assert t.dtype == dt and ctorch.equal(t, want), (dt, t, want)
    # a ring exchange of 4M floats (16 MB, far above socket buffers), receive posted first
    right, left = (rank + 1) % n, (rank - 1) % n
    big = ctorch.full((1 << 22,), float(rank))
    got = ctorch.empty(1 << 22)
    wr = dist.irecv(got, src=left, tag=7)
    ws = dist.isend(big, dst=right, tag=7)
    wr.wait()
    ws.wait()
    assert bool((got == float(left)).all())
    # two tags sent in one order, received in the other
    if rank == 0:
        dist.send(ctorch.tensor([1.0]), dst=1, tag=1)
        dist.send(ctorch.tensor([2.0]), dst=1, tag=2)
    elif rank == 1:
        b = ctorch.zeros(1)
        dist.recv(b, src=0, tag=2)
        assert b.item() == 2.0
        dist.recv(b, src=0, tag=1)
        assert b.item() == 1.0
    # a collective between point-to-point messages of the same pair
    if rank == 0:
        w = dist.isend(ctorch.arange(5.0), dst=1, tag=9)
    t = ctorch.tensor([float(rank)])
    dist.all_reduce(t)
    assert t.item() == n * (n - 1) / 2
    if rank == 0:
        w.wait()
    elif rank == 1:
        b = ctorch.zeros(5)
        dist.recv(b, src=0, tag=9)
        assert b.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    # a sub-group of the upper ranks (all ranks call new_group), then the world again
    members = list(range(1, n)) if n > 2 else [0, 1]
    sub = dist.new_group(members)
    if rank in members:
        t = ctorch.tensor([float(rank)])
        dist.all_reduce(t, group=sub)
        assert t.item() == sum(members)
        objs = [None] * len(members)
        dist.all_gather_object(objs, {"r": rank}, group=sub)
        assert objs == [{"r": m} for m in members]
    else:
        assert sub is dist.GroupMember.NON_GROUP_MEMBER
    obj = [rank * 10 if rank == n - 1 else None]
    dist.broadcast_object_list(obj, src=n - 1)
    assert obj == [(n - 1) * 10]
    dist.barrier()


def batch(step: int, model: str):
    g = np.random.default_rng(50 + step)
    shape = (8, 6) if model == "mlp" else (8, 2, 6, 6)
    x = ctorch.from_numpy(g.standard_normal(shape).astype(np.float32))
    y = ctorch.from_numpy(g.integers(0, 3, 8).astype(np.int64))
    return x, y


def make_opt(kind: str, params):
    if kind == "sgd":
        return ctorch.optim.SGD(params, lr=0.1, momentum=0.9)
    return ctorch.optim.Adam(params, lr=0.01)


def scenario_ddp_train() -> None:
    rank, n = dist.get_rank(), dist.get_world_size()
    assert n == 2
    loss_fn = nn.CrossEntropyLoss()
    for model_kind in ("mlp", "convbn"):
        cls = MLP if model_kind == "mlp" else ConvBN
        for opt_kind in ("sgd", "adam"):
            ctorch.manual_seed(100 + rank)  # different init on each rank: DDP broadcasts rank 0's
            ddp = DDP(cls())
            ctorch.manual_seed(100)
            ref = cls()
            for p, q in zip(ddp.module.parameters(), ref.parameters(), strict=True):
                close(p.detach(), q.detach().numpy(), "float32")
            opt = make_opt(opt_kind, ddp.parameters())
            ropt = make_opt(opt_kind, ref.parameters())
            for step in range(4):
                x, y = batch(step, model_kind)
                half = slice(4 * rank, 4 * rank + 4)
                opt.zero_grad()
                loss_fn(ddp(x[half]), y[half]).backward()
                opt.step()
                ropt.zero_grad()
                if model_kind == "mlp":  # one process, the whole batch
                    loss_fn(ref(x), y).backward()
                else:  # BatchNorm normalises per replica: average the two halves' gradients
                    for h in range(2):
                        s = slice(4 * h, 4 * h + 4)
                        (loss_fn(ref(x[s]), y[s]) * 0.5).backward()
                ropt.step()
            for (name, p), q in zip(ddp.module.named_parameters(), ref.parameters(), strict=True):
                np.testing.assert_allclose(
                    p.detach().numpy(),
                    q.detach().numpy(),
                    rtol=2e-5,
                    atol=2e-6,
                    err_msg=f"{model_kind}/{opt_kind}: {name}",
                )
            # the replicas agree exactly
            mine = np.concatenate([p.detach().numpy().ravel() for p in ddp.parameters()])
            other = ctorch.from_numpy(mine.copy())
            dist.broadcast(other, src=0)
            np.testing.assert_array_equal(mine, other.numpy())
            print(f"{model_kind}/{opt_kind} matches single-process training", flush=True)


# ---------------------------------------------------------------------------- DDP behaviour
def local_grads(model, x, y) -> list[np.ndarray]:
    for p in model.parameters():
        p.grad = None
    nn.CrossEntropyLoss()(model(x), y).backward()
    return [p.grad.numpy().copy() for p in model.parameters()]


def averaged(gs: list[np.ndarray]) -> list[np.ndarray]:
    out = []
    for g in gs:
        t = ctorch.from_numpy(g.copy())
        dist.all_reduce(t, op=R.AVG)
        out.append(t.numpy())
    return out


def scenario_ddp_features() -> None:
    rank, n = dist.get_rank(), dist.get_world_size()
    loss_fn = nn.CrossEntropyLoss()
    x, y = batch(rank, "mlp")  # a different batch on each rank

    # many small buckets; all-reduces start during backward, in bucket order
    ctorch.manual_seed(0)
    ddp = DDP(MLP(), bucket_cap_mb=0.00005)
    assert len(ddp._buckets) >= 4, len(ddp._buckets)
    ctorch.manual_seed(0)
    plain = MLP()
    want = averaged(local_grads(plain, x, y))
    ddp._ddp_events = []
    loss_fn(ddp(x), y).backward()
    ev = ddp._ddp_events
    launches = [e[1] for e in ev if e[0] == "launch"]
    assert launches == list(range(len(ddp._buckets))), launches
    last_ready = max(i for i, e in enumerate(ev) if e[0] == "ready")
    first_launch = min(i for i, e in enumerate(ev) if e[0] == "launch")
    assert first_launch < last_ready, ev  # overlap: communication began before backward ended
    assert ev[-1] == ("finalize",)
    for p, w in zip(ddp.module.parameters(), want, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), w, rtol=1e-6, atol=1e-7)
    # the same step with the all-reduces after backward (benchmark switch)
    ddp._ddp_overlap = False
    ddp._ddp_events = []
    for p in ddp.parameters():
        p.grad = None
    loss_fn(ddp(x), y).backward()
    ev = ddp._ddp_events
    first_launch = min(i for i, e in enumerate(ev) if e[0] == "launch")
    assert first_launch > max(i for i, e in enumerate(ev) if e[0] == "ready")
    for p, w in zip(ddp.module.parameters(), want, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), w, rtol=1e-6, atol=1e-7)
    assert all(k.startswith("module.") for k in ddp.state_dict())

    # no_sync: local accumulation, then one averaged backward
    ctorch.manual_seed(0)
    ddp = DDP(MLP())
    ctorch.manual_seed(0)
    plain = MLP()
    x2, y2 = batch(10 + rank, "mlp")
    g1 = local_grads(plain, x, y)
    g2 = local_grads(plain, x2, y2)
    with ddp.no_sync():
        loss_fn(ddp(x), y).backward()
    for p, g in zip(ddp.module.parameters(), g1, strict=True):  # not averaged yet
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-6, atol=1e-7)
    loss_fn(ddp(x2), y2).backward()
    want = averaged([a + b for a, b in zip(g1, g2, strict=True)])
    for p, w in zip(ddp.module.parameters(), want, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), w, rtol=1e-5, atol=1e-6)

    # gradient_as_bucket_view: .grad is a view of the bucket, values unchanged
    ctorch.manual_seed(0)
    ddp = DDP(MLP(), gradient_as_bucket_view=True, bucket_cap_mb=0.001)
    ctorch.manual_seed(0)
    want = averaged(local_grads(MLP(), x, y))
    for it in range(2):
        if it:  # zeroing in place keeps the views; the next backward accumulates into them
            ddp.zero_grad(set_to_none=False)
        loss_fn(ddp(x), y).backward()
        for i, (p, w) in enumerate(zip(ddp.module.parameters(), want, strict=True)):
            np.testing.assert_allclose(p.grad.numpy(), w, rtol=1e-6, atol=1e-7)
            assert np.shares_memory(p.grad.numpy(), ddp._where[i][0].buf)

    # unused parameters
    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(6, 3)
            self.b = nn.Linear(6, 3)  # used on rank 0 only
            self.c = nn.Linear(6, 3)  # never used

        def forward(self, x, use_b):
            return self.a(x) + (self.b(x) if use_b else 0)

    ctorch.manual_seed(0)
    ddp = DDP(Branchy())
    try:
        ddp(x, rank == 0).sum().backward()
    except RuntimeError as e:
        assert "find_unused_parameters" in str(e) and "c.weight" in str(e), str(e)
    else:
        raise AssertionError("unused parameters without find_unused_parameters should raise")
    ctorch.manual_seed(0)
    ddp = DDP(Branchy(), find_unused_parameters=True)
    for p in ddp.parameters():
        p.grad = None
    ddp(x, rank == 0).sum().backward()
    m = ddp.module
    assert m.c.weight.grad is None and m.c.bias.grad is None  # unused everywhere
    ga = averaged([x.numpy().sum(0)])[0]
    np.testing.assert_allclose(m.a.weight.grad.numpy(), np.tile(ga, (3, 1)), rtol=1e-5)
    gb = np.tile(batch(0, "mlp")[0].numpy().sum(0) / n, (3, 1))  # rank 0's grad / world size
    np.testing.assert_allclose(m.b.weight.grad.numpy(), gb, rtol=1e-5)

    # buffers are broadcast from rank 0 at construction and at each forward
    bn = nn.BatchNorm1d(6)
    bn.running_mean.fill_(float(rank))
    ddp = DDP(nn.Sequential(nn.Linear(6, 6), bn))
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(6))

    # a different model on each rank: every rank raises
    try:
        DDP(nn.Linear(4, 3 + rank))
    except RuntimeError as e:
        assert "same model" in str(e), str(e)
    else:
        raise AssertionError("different models across ranks should raise")
    print("ddp features ok", flush=True)


def scenario_sampler() -> None:
    from ctorch.utils.data import DataLoader, DistributedSampler, TensorDataset

    rank, n = dist.get_rank(), dist.get_world_size()
    ds = TensorDataset(ctorch.arange(11))
    s = DistributedSampler(ds, shuffle=True, seed=5)
    assert s.num_replicas == n and s.rank == rank
    s.set_epoch(2)
    mine = [int(v) for (b,) in DataLoader(ds, batch_size=3, sampler=s) for v in b.tolist()]
    every = [None] * n
    dist.all_gather_object(every, mine)
    assert all(len(e) == len(mine) for e in every)
    allidx = sorted(v for e in every for v in e)
    assert set(allidx) == set(range(11)) and len(allidx) == 12  # padded by one
    print("sampler ok", flush=True)


def main() -> None:
    which = sys.argv[1:]
    # "mpi" under mpirun; "gloo" under the subprocess launcher meets over TCP (_tcp.py)
    backend = os.environ.get("CTORCH_TEST_BACKEND", "mpi")
    dist.init_process_group(backend=backend)
    try:
        for name in which:
            globals()[f"scenario_{name}"]()
            print(f"OK {name} rank {dist.get_rank()}", flush=True)
    except BaseException:
        traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        if backend != "mpi":  # the other ranks see the closed connection and fail too
            os._exit(1)
        from mpi4py import MPI

        MPI.COMM_WORLD.Abort(1)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
