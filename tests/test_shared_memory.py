"""``Tensor.share_memory_`` / ``is_shared`` / ``Module.share_memory`` and the multiprocessing
pickling that hands shared tensors to other processes by descriptor (torch's semantics: a
spawned worker's in-place updates are seen by the parent)."""

from __future__ import annotations

import copy
import io
import multiprocessing
import pickle
import sys
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest

import ctorch

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX descriptor passing")


def test_share_memory_in_place_keeps_values_and_identity():
    t = ctorch.arange(6, dtype=ctorch.float32).reshape(2, 3)
    assert not t.is_shared()
    assert t.share_memory_() is t
    assert t.is_shared() and t[1:].is_shared()
    np.testing.assert_array_equal(t.numpy(), np.arange(6, dtype=np.float32).reshape(2, 3))
    a = t._a
    assert t.share_memory_() is t and t._a is a  # already shared: nothing moves
    assert not t.clone().is_shared()
    assert not copy.deepcopy(t).is_shared()


def test_module_share_memory_keeps_parameters():
    m = ctorch.nn.Linear(3, 2)
    w = m.weight
    before = w.detach().clone()
    opt = ctorch.optim.SGD(m.parameters(), lr=0.1)
    assert m.share_memory() is m
    assert m.weight is w and isinstance(w, ctorch.nn.Parameter) and w.requires_grad
    assert all(p.is_shared() for p in m.parameters())
    assert ctorch.equal(w.detach(), before)
    m(ctorch.ones(4, 3)).sum().backward()
    opt.step()  # the optimizer's in-place update lands in the shared memory
    assert w.is_shared() and not ctorch.equal(w.detach(), before)


def test_forking_pickler_shares_plain_pickle_copies():
    t = ctorch.arange(6, dtype=ctorch.float64).share_memory_()
    view = ForkingPickler.loads(ForkingPickler.dumps(t[2:]))
    assert view.is_shared() and view.tolist() == [2.0, 3.0, 4.0, 5.0]
    view.add_(10)
    assert t.tolist() == [0.0, 1.0, 12.0, 13.0, 14.0, 15.0]
    p = ctorch.nn.Parameter(ctorch.zeros(2).share_memory_())
    q = ForkingPickler.loads(ForkingPickler.dumps(p))
    assert type(q) is ctorch.nn.Parameter and q.requires_grad and q.is_shared()
    q.data.fill_(7)
    assert p.tolist() == [7.0, 7.0]
    copied = pickle.loads(pickle.dumps(t))
    assert not copied.is_shared() and copied.tolist() == t.tolist()
    buf = io.BytesIO()
    ctorch.save(t, buf)
    buf.seek(0)
    assert not ctorch.load(buf).is_shared()


def _worker(t, p, q):
    t.mul_(2)
    with ctorch.no_grad():
        p.add_(1)
    q.put(t.is_shared())


@pytest.mark.parametrize(
    "method",
    [m for m in ("spawn", "fork", "forkserver") if m in multiprocessing.get_all_start_methods()],
)
def test_child_process_updates_shared_tensors(method: str):
    ctx = multiprocessing.get_context(method)
    t = ctorch.tensor([1.0, 2.0, 3.0]).share_memory_()
    p = ctorch.nn.Parameter(ctorch.zeros(2, 2)).share_memory_()
    q = ctx.Queue()
    proc = ctx.Process(target=_worker, args=(t, p, q))
    proc.start()
    assert q.get(timeout=120) is True
    proc.join(120)
    assert proc.exitcode == 0
    assert t.tolist() == [2.0, 4.0, 6.0]
    assert p.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_against_torch():
    torch = pytest.importorskip("torch")
    for lib in (torch, ctorch):
        m = lib.nn.Linear(2, 2)
        assert not m.weight.is_shared()
        m.share_memory()
        assert m.weight.is_shared() and m.bias.is_shared()
        assert lib.ones(2).share_memory_().is_shared()


def _queue_worker(inq, outq):
    t = inq.get(timeout=120)
    t.add_(5)
    outq.put((t.is_shared(), t.tolist()))


def test_queue_hands_a_shared_tensor_to_a_running_process():
    """Through a Queue (not spawn arguments) the descriptor is served by the sender's
    resource sharer; the receiver's in-place write lands in the sender's tensor."""
    ctx = multiprocessing.get_context("spawn")
    inq, outq = ctx.Queue(), ctx.Queue()
    proc = ctx.Process(target=_queue_worker, args=(inq, outq))
    proc.start()
    t = ctorch.zeros(2, 2).share_memory_()
    inq.put(t[1])
    assert outq.get(timeout=120) == (True, [5.0, 5.0])
    proc.join(120)
    assert proc.exitcode == 0
    assert t.tolist() == [[0.0, 0.0], [5.0, 5.0]]


@pytest.mark.skipif(not ctorch.cuda.is_available(), reason="needs a GPU")
def test_cuda_tensors_count_as_shared():
    t = ctorch.ones(2, device="cuda")
    assert t.is_shared() and t.share_memory_() is t  # as torch: always True, a no-op
