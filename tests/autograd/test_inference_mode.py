"""Inference tensors: torch's rules for tensors allocated under ``inference_mode``, each
checked against torch itself."""

import threading

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

INPLACE_MSG = "Inplace update to inference tensor outside InferenceMode is not allowed"
SAVE_MSG = "Inference tensors cannot be saved for backward"


@pytest.fixture(params=["ctorch", "torch"])
def lib(request):
    return ctorch if request.param == "ctorch" else torch


def test_allocated_in_inference_mode(lib):
    n = lib.ones(3)
    assert not n.is_inference()
    with lib.inference_mode():
        assert lib.is_inference_mode_enabled()
        assert not lib.is_grad_enabled()
        x = lib.ones(3)
        y = n * 2  # an op's output is allocated there too
        v = n[:2]  # a view of a normal tensor is not an inference tensor
        xv = x[:2]  # a view of an inference tensor is one
    assert not lib.is_inference_mode_enabled()
    assert lib.is_grad_enabled()
    assert (x.is_inference(), y.is_inference(), v.is_inference(), xv.is_inference()) == (
        True,
        True,
        False,
        True,
    )
    assert lib.is_inference(x) and not lib.is_inference(n)
    assert x.detach().is_inference() and x.view(3).is_inference()
    # ops outside make normal tensors; clone gives a normal tensor
    c = x.clone()
    assert not c.is_inference()
    assert c._version >= 0  # a normal tensor has a version counter (torch: 1 after the copy)
    assert not (x + 1).is_inference()


def test_no_version_counter(lib):
    with lib.inference_mode():
        x = lib.ones(3)
        with pytest.raises(RuntimeError, match="Inference tensors do not track version counter"):
            _ = x._version
        n = lib.ones(3)
    m = lib.ones(3)
    with lib.inference_mode():
        m.add_(1)  # a normal tensor's counter still moves inside inference mode
    assert m._version == 1
    with pytest.raises(RuntimeError, match="do not track version counter"):
        _ = n._version


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x.add_(1),
        lambda x: x.mul_(2.0),
        lambda x: x.fill_(3.0),
        lambda x: x.zero_(),
        lambda x: x.copy_(x.clone() if not x.is_inference() else x.clone()),
        lambda x: x.relu_(),
        lambda x: x.exp_(),
        lambda x: x.__setitem__(0, 5.0),
        lambda x: x.__iadd__(1.0),
        lambda x: x[:2].add_(1),
    ],
)
def test_inplace_outside_raises(lib, op):
    with lib.inference_mode():
        x = lib.ones(3)
        op(x)  # allowed inside
    with pytest.raises(RuntimeError, match=INPLACE_MSG):
        op(x)
    with lib.no_grad(), pytest.raises(RuntimeError, match=INPLACE_MSG):
        op(x)
    with (
        lib.inference_mode(),
        lib.inference_mode(False),
        pytest.raises(RuntimeError, match=INPLACE_MSG),
    ):
        op(x)


def test_inplace_on_normal_view_made_inside_is_allowed(lib):
    n = lib.ones(3)
    with lib.inference_mode():
        v = n.view(3)
    v.add_(1)
    assert n.tolist() == [2.0, 2.0, 2.0]


def test_requires_grad(lib):
    with lib.inference_mode():
        x = lib.ones(3)
        y = lib.ones(2, requires_grad=True)  # allowed inside
    assert y.requires_grad and y.is_inference()
    with pytest.raises(
        RuntimeError, match="Setting requires_grad=True on inference tensor outside"
    ):
        x.requires_grad_()
    with pytest.raises(
        RuntimeError, match="Setting requires_grad=True on inference tensor outside"
    ):
        x.requires_grad = True
    with pytest.raises(
        RuntimeError, match="Setting requires_grad=True on inference tensor outside"
    ):
        lib.nn.Parameter(x)
    assert x.requires_grad_(False) is x


def test_saved_for_backward_raises(lib):
    with lib.inference_mode():
        x = lib.ones(3)
    w = lib.ones(3, requires_grad=True)
    # add saves nothing: allowed, as in torch
    s = x + w
    assert s.requires_grad and not s.is_inference()
    for f in (
        lambda: x * w,
        lambda: w * x,
        lambda: lib.matmul(x, w),
        lambda: lib.nn.functional.linear(x.view(1, 3), w.view(1, 3)),
    ):
        with pytest.raises(RuntimeError, match=SAVE_MSG):
            f()
    # a clone is a normal tensor and works with autograd
    (x.clone() * w).sum().backward()
    assert w.grad.tolist() == [1.0, 1.0, 1.0]
    # no_grad reads of inference tensors outside are fine
    assert x.sum().item() == 3.0


def test_nesting_and_decorators(lib):
    with lib.inference_mode():
        with lib.inference_mode(mode=False):
            assert not lib.is_inference_mode_enabled()
            assert lib.is_grad_enabled()  # torch's InferenceMode(false) turns grad mode on
            z = lib.ones(2)
        assert lib.is_inference_mode_enabled() and not lib.is_grad_enabled()
    assert not z.is_inference()
    with lib.no_grad():
        with lib.inference_mode(False):
            assert lib.is_grad_enabled()
        assert not lib.is_grad_enabled()

    @lib.inference_mode()
    def f():
        return lib.ones(1)

    @lib.inference_mode
    def g():
        return lib.ones(1)

    @lib.inference_mode(False)
    def h():
        return lib.ones(1)

    assert f().is_inference() and g().is_inference()
    with lib.inference_mode():
        assert not h().is_inference()
    assert not lib.is_inference_mode_enabled()

    @lib.inference_mode()
    def gen():
        yield lib.ones(1)
        yield lib.ones(1)

    assert [t.is_inference() for t in gen()] == [True, True]


def test_exception_restores_state(lib):
    with pytest.raises(ValueError), lib.inference_mode():
        raise ValueError
    assert not lib.is_inference_mode_enabled() and lib.is_grad_enabled()
    assert not lib.ones(1).is_inference()


def test_thread_local():
    """Inference mode in one thread does not make the other thread's tensors inference
    tensors (torch's flag is thread-local)."""
    results = {}
    entered, done = threading.Event(), threading.Event()

    def worker():
        entered.wait()
        results["other"] = (ctorch.is_inference_mode_enabled(), ctorch.ones(1).is_inference())
        done.set()

    t = threading.Thread(target=worker)
    t.start()
    with ctorch.inference_mode():
        entered.set()
        done.wait()
        results["main"] = ctorch.ones(1).is_inference()
    t.join()
    assert results == {"other": (False, False), "main": True}


def test_module_forward_under_inference_mode():
    lin_c = ctorch.nn.Linear(3, 2)
    lin_t = torch.nn.Linear(3, 2)
    with torch.no_grad():
        lin_t.weight.copy_(torch.from_numpy(lin_c.weight.detach().numpy().copy()))
        lin_t.bias.copy_(torch.from_numpy(lin_c.bias.detach().numpy().copy()))
    xc, xt = ctorch.ones(4, 3), torch.ones(4, 3)
    with ctorch.inference_mode():
        yc = lin_c(xc)
    with torch.inference_mode():
        yt = lin_t(xt)
    assert yc.is_inference() and yt.is_inference()
    assert not yc.requires_grad and not yt.requires_grad
    np.testing.assert_allclose(yc.numpy(), yt.numpy(), rtol=1e-6)
    # parameters stay normal tensors: training works afterwards
    assert not lin_c.weight.is_inference()
    lin_c(xc).sum().backward()
    assert lin_c.weight.grad is not None
