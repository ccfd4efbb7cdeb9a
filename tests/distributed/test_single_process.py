"""ctorch.distributed without a launcher: errors, samplers, wrappers, autograd hooks, and a
world of one rank (an MPI singleton in this process) running every collective and DDP."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import ctorch
import ctorch.distributed as dist
from ctorch import nn
from ctorch.nn.parallel import DataParallel, DistributedDataParallel
from ctorch.utils.data import DistributedSampler

R = dist.ReduceOp


@pytest.fixture
def no_group():
    if dist.is_initialized():
        dist.destroy_process_group()
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


@pytest.fixture
def world1():
    pytest.importorskip("mpi4py")
    if not dist.is_initialized():
        try:
            dist.init_process_group(backend="mpi")
        except ImportError as e:  # mpi4py installed, MPI library missing
            pytest.skip(str(e))
    assert dist.get_world_size() == 1, "run these tests without mpirun"
    yield
    dist.destroy_process_group()


# ---------------------------------------------------------------------------- import and errors
def test_import_needs_no_mpi4py_and_does_not_initialise_mpi() -> None:
    code = (
        "import sys, ctorch.distributed, ctorch.nn.parallel, ctorch.utils.data.distributed\n"
        "assert 'mpi4py' not in sys.modules and 'mpi4py.MPI' not in sys.modules\n"
        "assert not ctorch.distributed.is_initialized()\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


@pytest.mark.parametrize(
    "call",
    [
        lambda: dist.all_reduce(ctorch.ones(2)),
        lambda: dist.broadcast(ctorch.ones(2), 0),
        lambda: dist.all_gather([ctorch.ones(2)], ctorch.ones(2)),
        lambda: dist.barrier(),
        lambda: dist.get_rank(),
        lambda: dist.get_world_size(),
        lambda: dist.send(ctorch.ones(2), 1),
        lambda: DistributedDataParallel(nn.Linear(2, 2)),
    ],
)
def test_use_before_init_raises(no_group, call) -> None:
    with pytest.raises(RuntimeError, match="Default process group has not been initialized"):
        call()


def test_sampler_needs_group_or_explicit_replicas(no_group) -> None:
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(10))
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(range(10), num_replicas=2, rank=2)


def test_missing_mpi4py_gives_install_hint(no_group, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", None)
    assert not dist.is_mpi_available()
    with pytest.raises(ImportError) as ei:
        dist.init_process_group(backend="mpi")
    msg = str(ei.value)
    assert 'pip install "ctorch[distributed]"' in msg and "OpenMPI" in msg
    assert not dist.is_initialized()


def test_bad_backend(no_group) -> None:
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.init_process_group(backend="ucc")


# ---------------------------------------------------------------------------- sampler
CASES = [(n, r, d) for n in (1, 7, 10, 11, 64) for r in (1, 2, 3, 4) for d in (False, True)]


@pytest.mark.parametrize("n,replicas,drop_last", CASES)
def test_sampler_arithmetic(n: int, replicas: int, drop_last: bool) -> None:
    shares = [
        list(DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last))
        for r in range(replicas)
    ]
    if drop_last and n % replicas:
        per = math.ceil((n - replicas) / replicas)
    else:
        per = math.ceil(n / replicas)
    assert all(len(s) == per for s in shares)
    assert [
        len(DistributedSampler(range(n), replicas, r, drop_last=drop_last)) for r in range(replicas)
    ] == [per] * replicas
    flat = [i for s in shares for i in s]
    if drop_last:
        assert len(set(flat)) == len(flat)  # disjoint
    else:
        assert set(flat) == set(range(n))  # everything covered, padded by wrapping
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for r in range(replicas):
        ts = TorchSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last)
        assert shares[r] == list(ts)
        ts = TorchSampler(range(n), replicas, r, shuffle=True, seed=3, drop_last=drop_last)
        assert len(ts) == len(
            DistributedSampler(range(n), replicas, r, seed=3, drop_last=drop_last)
        )
    del torch


def test_sampler_shuffle_epochs() -> None:
    def share(rank, epoch, seed=0):
        s = DistributedSampler(range(20), 2, rank, shuffle=True, seed=seed)
        s.set_epoch(epoch)
        return list(s)

    assert share(0, 0) == share(0, 0)  # deterministic
    assert sorted(share(0, 1) + share(1, 1)) == list(range(20))  # a permutation, split
    assert set(share(0, 1)).isdisjoint(share(1, 1))
    assert share(0, 0) != share(0, 1)  # set_epoch reshuffles
    assert share(0, 0) != share(0, 0, seed=1)
    assert share(0, 0, seed=0) != list(range(0, 20, 2))


# ---------------------------------------------------------------------------- wrappers, hooks
def test_data_parallel_wrapper() -> None:
    ctorch.manual_seed(0)
    lin = nn.Linear(3, 2)
    dp = nn.DataParallel(lin)
    assert isinstance(dp, DataParallel) and dp.module is lin
    x = ctorch.randn(4, 3)
    np.testing.assert_array_equal(dp(x).detach().numpy(), lin(x).detach().numpy())
    assert sorted(dp.state_dict()) == ["module.bias", "module.weight"]


def test_post_accumulate_grad_hook_and_final_callback() -> None:
    from ctorch.autograd import Variable

    w = ctorch.ones(3, requires_grad=True)
    log = []
    h = w.register_post_accumulate_grad_hook(lambda t: log.append(("acc", t.grad.sum().item())))

    def pre(g):
        Variable._execution_engine.queue_callback(lambda: log.append(("end", w.grad.sum().item())))

    w.register_hook(pre)
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    assert log == [("acc", 6.0), ("end", 6.0), ("acc", 15.0), ("end", 15.0)]
    h.remove()
    (w * 1).sum().backward()
    assert log[-1] == ("end", 18.0) and log[-2] == ("end", 15.0)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="during backward"):
        Variable._execution_engine.queue_callback(print)


# ---------------------------------------------------------------------------- one rank
def test_world_of_one_every_collective(world1) -> None:
    assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_backend() == "mpi"
    with pytest.raises(ValueError, match="twice"):
        dist.init_process_group(backend="mpi")
    base = np.arange(6, dtype=np.float32).reshape(2, 3) - 2
    for op in (R.SUM, R.AVG, R.PRODUCT, R.MIN, R.MAX):
        for dt in (np.float32, np.float64, np.int32, np.int64):
            t = ctorch.from_numpy(base.astype(dt))
            dist.all_reduce(t, op=op)
            np.testing.assert_array_equal(t.numpy(), base.astype(dt))
            w = dist.all_reduce(t, op=op, async_op=True)
            assert w.wait() and w.is_completed()
            dist.reduce(t, 0, op=op)
            np.testing.assert_array_equal(t.numpy(), base.astype(dt))
            out = ctorch.zeros(2, 3, dtype=t.dtype)
            dist.reduce_scatter(out, [t], op=op)
            np.testing.assert_array_equal(out.numpy(), base.astype(dt))
            out = ctorch.zeros(2, 3, dtype=t.dtype)
            dist.reduce_scatter_tensor(out, t, op=op)
            np.testing.assert_array_equal(out.numpy(), base.astype(dt))
    b = ctorch.tensor([True, False])
    dist.all_reduce(b)
    assert b.tolist() == [True, False]
    with pytest.raises(ValueError, match="AVG"):
        dist.all_reduce(b, op=R.AVG)
    t = ctorch.from_numpy(base.copy())
    dist.broadcast(t, 0)
    lst = [ctorch.zeros(2, 3)]
    dist.all_gather(lst, t)
    np.testing.assert_array_equal(lst[0].numpy(), base)
    flat = ctorch.zeros(6)
    dist.all_gather_into_tensor(flat, t)
    np.testing.assert_array_equal(flat.numpy(), base.ravel())
    with pytest.raises(ValueError, match=r"all_gather_into_tensor.*\(5,\)"):
        dist.all_gather_into_tensor(ctorch.zeros(5), t)
    with pytest.raises(ValueError, match="tensor_list"):
        dist.all_gather([ctorch.zeros(2, 3), ctorch.zeros(2, 3)], t)
    gl = [ctorch.zeros(2, 3)]
    dist.gather(t, gl, dst=0)
    np.testing.assert_array_equal(gl[0].numpy(), base)
    s = ctorch.zeros(2, 3)
    dist.scatter(s, [t], src=0)
    np.testing.assert_array_equal(s.numpy(), base)
    with pytest.raises(ValueError, match="same as the rank"):
        dist.send(t, 0)
    objs = [None]
    dist.all_gather_object(objs, {"a": 1})
    assert objs == [{"a": 1}]
    dist.barrier()
    g = dist.new_group([0])
    assert dist.get_world_size(g) == 1 and dist.get_process_group_ranks(g) == [0]
    with pytest.raises(ValueError, match="out of range"):
        dist.new_group([3])
    with pytest.raises(ValueError, match="the 'mpi' backend takes CPU tensors"):
        dist.distributed_c10d._world("x")._impl(_FakeCuda(), "all_reduce")


class _FakeCuda:
    """Stands in for a CUDA tensor: a non-NumPy array and a device to name in the error."""

    _a = object()
    device = "cuda:0"


def test_world_of_one_ddp_matches_plain_training(world1) -> None:
    ctorch.manual_seed(0)
    ddp = DistributedDataParallel(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)))
    ctorch.manual_seed(0)
    ref = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = ctorch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    ropt = ctorch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    for step in range(3):
        ctorch.manual_seed(step)
        x = ctorch.randn(5, 4)
        for m, o in ((ddp, opt), (ref, ropt)):
            o.zero_grad()
            m(x).pow(2).mean().backward()
            o.step()
    for p, q in zip(ddp.module.parameters(), ref.parameters(), strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6)
    assert sorted(ddp.state_dict())[0].startswith("module.")
    with pytest.raises(ValueError, match="device_ids"):
        DistributedDataParallel(nn.Linear(2, 2), device_ids=[0])


def test_world_size_must_match_launcher(no_group) -> None:
    pytest.importorskip("mpi4py")
    try:
        dist.init_process_group(backend="mpi", world_size=2, rank=0)
    except ImportError as e:  # mpi4py installed, MPI library missing
        pytest.skip(str(e))
    except ValueError as e:
        assert "mpirun -n 2" in str(e)
    else:
        raise AssertionError("world_size=2 in a one-process world should raise")
    assert not dist.is_initialized()


# ---------------------------------------------------------------------------- NCCL (one GPU)
@pytest.mark.cuda
def test_nccl_single_rank(no_group) -> None:
    pytest.importorskip("mpi4py")
    if not dist.is_nccl_available():
        pytest.skip("CuPy has no NCCL")
    dist.init_process_group(backend="nccl")
    assert dist.get_backend() == "nccl"
    t = ctorch.arange(6.0, device="cuda").reshape(2, 3)
    for op in (R.SUM, R.AVG, R.MAX, R.MIN, R.PRODUCT):
        dist.all_reduce(t, op=op)
    w = dist.all_reduce(t, async_op=True)
    w.wait()
    dist.broadcast(t, 0)
    lst = [ctorch.zeros(2, 3, device="cuda")]
    dist.all_gather(lst, t)
    out = ctorch.zeros(2, 3, device="cuda")
    dist.reduce_scatter_tensor(out, t)
    np.testing.assert_allclose(out.cpu().numpy(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(lst[0].cpu().numpy(), np.arange(6.0).reshape(2, 3))
    c = ctorch.ones(2)  # CPU tensors go over MPI in an nccl group
    dist.all_reduce(c)
    ctorch.manual_seed(0)
    model = nn.Linear(4, 2).to("cuda")
    ddp = DistributedDataParallel(model, device_ids=[0])
    ddp(ctorch.randn(3, 4, device="cuda")).sum().backward()
    assert model.weight.grad is not None and model.weight.grad.device.type == "cuda"
