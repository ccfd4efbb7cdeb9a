"""batch_norm / layer_norm / group_norm / instance_norm / rms_norm and the BatchNorm,
LayerNorm, GroupNorm modules vs torch and finite differences (kernel and fallback)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH, assert_close, check_op

import ctorch
from ctorch import nn
from ctorch.ops import normalization as norm_ops

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")


def _F(lib):
    return lib.nn.functional


@pytest.fixture(params=["kernel", "fallback"])
def path(request, monkeypatch):
    if request.param == "fallback":
        monkeypatch.setattr(norm_ops, "float_kernels", lambda a, name: None)
    return request.param


def _stats(lib, c, dtype):
    dt = getattr(lib, dtype)
    return lib.zeros(c, dtype=dt), lib.ones(c, dtype=dt)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (3, 4, 5, 6)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_functional(path, shape, training):
    c = shape[1]

    def fn(lib, x, w, b):
        rm, rv = _stats(lib, c, str(x.dtype).split(".")[-1])
        if not training:
            rm += 0.3
            rv *= 1.7
        return _F(lib).batch_norm(x, rm, rv, w, b, training, 0.1, 1e-5)

    check_op(fn, [shape, (c,), (c,)], atol=1e-4, grad_atol=1e-3)
    check_op(
        lambda lib, x: _F(lib).batch_norm(x, None, None, None, None, True),
        [shape],
        atol=1e-4,
        grad_atol=1e-3,
    )


@needs_torch
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm2d_running_stats_and_eval(path, momentum):
    import torch

    rng = np.random.default_rng(0)
    tm = torch.nn.BatchNorm2d(4, momentum=momentum)
    cm = nn.BatchNorm2d(4, momentum=momentum)
    assert repr(cm) == repr(tm)
    assert list(cm.state_dict()) == list(tm.state_dict())
    for _ in range(4):
        x = (rng.standard_normal((6, 4, 5, 5)) * 3 + 2).astype(np.float32)
        tx = torch.from_numpy(x).requires_grad_()
        cx = ctorch.from_numpy(x).requires_grad_()
        ty, cy = tm(tx), cm(cx)
        assert_close(cy, ty, atol=1e-4)
        ty.pow(3).sum().backward()
        cy.pow(3).sum().backward()
        assert_close(cx.grad, tx.grad, atol=2e-3, rtol=1e-3)
        assert_close(cm.weight.grad, tm.weight.grad, atol=2e-3, rtol=1e-3)
        assert_close(cm.bias.grad, tm.bias.grad, atol=2e-3, rtol=1e-3)
    assert_close(cm.running_mean, tm.running_mean, atol=1e-5)
    assert_close(cm.running_var, tm.running_var, atol=1e-4)
    assert cm.num_batches_tracked.item() == tm.num_batches_tracked.item() == 4
    tm.eval()
    cm.eval()
    x = rng.standard_normal((3, 4, 5, 5)).astype(np.float32)
    tx = torch.from_numpy(x).requires_grad_()
    cx = ctorch.from_numpy(x).requires_grad_()
    ty, cy = tm(tx), cm(cx)
    assert_close(cy, ty, atol=1e-5)
    ty.pow(2).sum().backward()
    cy.pow(2).sum().backward()
    assert_close(cx.grad, tx.grad, atol=1e-4)
    assert cm.num_batches_tracked.item() == 4  # eval leaves the statistics alone


@needs_torch
def test_batchnorm_variants_match_torch():
    import torch

    rng = np.random.default_rng(1)
    cases = [
        (lambda lib: lib.nn.BatchNorm1d(3), (8, 3)),
        (lambda lib: lib.nn.BatchNorm1d(3, affine=False), (4, 3, 5)),
        (lambda lib: lib.nn.BatchNorm1d(3, track_running_stats=False), (4, 3, 5)),
        (lambda lib: lib.nn.BatchNorm2d(3, eps=1e-3, momentum=0.3, bias=False), (4, 3, 2, 2)),
    ]
    for make, shape in cases:
        tm, cm = make(torch), make(ctorch)
        assert repr(cm) == repr(tm)
        assert list(cm.state_dict()) == list(tm.state_dict())
        for mode in ("train", "eval"):
            getattr(tm, mode)()
            getattr(cm, mode)()
            x = rng.standard_normal(shape).astype(np.float32)
            assert_close(cm(ctorch.from_numpy(x)), tm(torch.from_numpy(x)), atol=1e-4)
        for (k, a), (_, b) in zip(cm.state_dict().items(), tm.state_dict().items(), strict=True):
            assert_close(a, b, atol=1e-5, msg=k)


def test_batchnorm_errors_and_state_dict_load():
    m = nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match="4D"):
        m(ctorch.randn(2, 3, 4))
    with pytest.raises(ValueError, match="more than 1 value"):
        nn.BatchNorm1d(3)(ctorch.randn(1, 3))
    sd = {k: v.clone() for k, v in m.state_dict().items()}
    del sd["num_batches_tracked"]
    m2 = nn.BatchNorm2d(3)
    m2.load_state_dict(sd, strict=False)


@pytest.mark.parametrize("shape,ns", [((4, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4))])
def test_layer_norm(path, shape, ns):
    check_op(
        lambda lib, x, w, b: _F(lib).layer_norm(x, ns, w, b),
        [shape, ns, ns],
        atol=1e-4,
        grad_atol=1e-3,
    )
    check_op(lambda lib, x: _F(lib).layer_norm(x, ns), [shape], atol=1e-4, grad_atol=1e-3)


@pytest.mark.parametrize("groups", [1, 2, 6])
def test_group_norm(groups):
    check_op(
        lambda lib, x, w, b: _F(lib).group_norm(x, groups, w, b),
        [(2, 6, 3, 2), (6,), (6,)],
        atol=1e-4,
        grad_atol=1e-3,
    )


def test_instance_and_rms_norm():
    check_op(
        lambda lib, x, w, b: _F(lib).instance_norm(x, weight=w, bias=b),
        [(2, 3, 4, 5), (3,), (3,)],
        atol=1e-4,
        grad_atol=1e-3,
    )
    check_op(
        lambda lib, x, w: _F(lib).rms_norm(x, (5,), w, 1e-6),
        [(3, 4, 5), (5,)],
        atol=1e-4,
        grad_atol=1e-3,
    )


@needs_torch
def test_norm_modules_repr_state_dict_forward():
    import torch

    cases = [
        (lambda lib: lib.nn.LayerNorm(6), (3, 4, 6)),
        (lambda lib: lib.nn.LayerNorm([4, 6], elementwise_affine=False), (3, 4, 6)),
        (lambda lib: lib.nn.LayerNorm(6, bias=False), (3, 6)),
        (lambda lib: lib.nn.GroupNorm(2, 4), (3, 4, 5)),
        (lambda lib: lib.nn.GroupNorm(2, 4, affine=False), (3, 4, 2, 2)),
        (lambda lib: lib.nn.RMSNorm(6), (3, 6)),
        (lambda lib: lib.nn.LocalResponseNorm(3), (2, 5, 4, 4)),
    ]
    rng = np.random.default_rng(2)
    for make, shape in cases:
        tm, cm = make(torch), make(ctorch)
        assert repr(cm) == repr(tm)
        assert list(cm.state_dict()) == list(tm.state_dict())
        x = rng.standard_normal(shape).astype(np.float32)
        assert_close(cm(ctorch.from_numpy(x)), tm(torch.from_numpy(x)), atol=1e-4)


def test_batch_norm_double_backward():
    x = ctorch.randn(4, 3, 2, dtype=ctorch.float64, requires_grad=True)
    w = ctorch.randn(3, dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradgradcheck(
        lambda a, b: ctorch.nn.functional.batch_norm(a, None, None, b, None, True), (x, w)
    )
    assert ctorch.autograd.gradgradcheck(
        lambda a, b: ctorch.nn.functional.layer_norm(a, (2,), b[:2]), (x, w)
    )
