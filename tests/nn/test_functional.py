"""nn.functional odds and ends, nn.utils (clip_grad, parameters_to_vector) vs torch/NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import HAS_TORCH, check_op

import ctorch
from ctorch import nn
from ctorch.nn import functional as F

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")


def _F(lib):
    return ctorch.nn.functional if lib is ctorch else lib.nn.functional


def test_normalize_cosine_pairwise():
    check_op(lambda lib, x: _F(lib).normalize(x), [(4, 5)])
    check_op(lambda lib, x: _F(lib).normalize(x, p=1.0, dim=0), [(4, 5)], low=0.1)
    check_op(lambda lib, a, b: _F(lib).cosine_similarity(a, b), [(4, 5), (4, 5)])
    check_op(lambda lib, a, b: _F(lib).cosine_similarity(a, b, dim=-1), [(3, 1, 5), (4, 5)])
    check_op(lambda lib, a, b: _F(lib).pairwise_distance(a, b), [(4, 5), (4, 5)])
    check_op(
        lambda lib, a, b: _F(lib).pairwise_distance(a, b, p=1.0, keepdim=True),
        [(4, 5), (4, 5)],
        gradcheck=False,
    )


def test_one_hot():
    t = ctorch.tensor([0, 2, 1])
    oh = F.one_hot(t)
    assert oh.dtype == ctorch.int64 and oh.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert F.one_hot(ctorch.tensor([[1], [0]]), 4).shape == (2, 1, 4)
    with pytest.raises(RuntimeError):
        F.one_hot(ctorch.tensor([3]), 2)


def test_functional_activations():
    for name in [
        "relu",
        "relu6",
        "elu",
        "selu",
        "celu",
        "gelu",
        "silu",
        "mish",
        "softplus",
        "softsign",
        "hardtanh",
        "sigmoid",
        "tanh",
        "logsigmoid",
        "tanhshrink",
        "hardswish",
        "hardsigmoid",
    ]:
        check_op(
            lambda lib, x, n=name: getattr(_F(lib), n)(x),
            [(3, 4)],
            low=-3,
            high=3,
            gradcheck=name not in ("relu6", "hardtanh", "hardswish", "hardsigmoid"),
        )
    check_op(lambda lib, x: _F(lib).leaky_relu(x, 0.3), [(3, 4)])
    check_op(lambda lib, x: _F(lib).softmax(x, dim=0), [(3, 4)])
    check_op(lambda lib, x: _F(lib).log_softmax(x, dim=1), [(3, 4)])
    check_op(lambda lib, x: _F(lib).glu(x, 0), [(4, 3)])
    check_op(lambda lib, x, w: _F(lib).prelu(x, w), [(2, 3, 4), (3,)])


def test_embedding_functional():
    w = ctorch.randn(5, 3, requires_grad=True)
    out = F.embedding(ctorch.tensor([[1, 4]]), w)
    assert out.shape == (1, 2, 3)
    out.sum().backward()
    assert w.grad.numpy()[1].sum() == 3.0


def test_spatial_reexports():
    for name in [
        "conv2d",
        "max_pool2d",
        "avg_pool2d",
        "adaptive_avg_pool2d",
        "batch_norm",
        "layer_norm",
        "pad",
        "interpolate",
    ]:
        fn = getattr(F, name, None)
        if fn is None:
            pytest.skip(f"F.{name} not available yet")
        assert callable(fn)
    with pytest.raises(AttributeError):
        F.not_a_function  # noqa: B018


# ------------------------------------------------------------------ nn.utils
def _params_with_grads(seed=0):
    rng = np.random.default_rng(seed)
    ps = []
    for shape in [(3, 4), (5,), (2, 2, 2)]:
        p = nn.Parameter(ctorch.from_numpy(rng.standard_normal(shape).astype(np.float32)))
        p.grad = ctorch.from_numpy(rng.standard_normal(shape).astype(np.float32) * 3)
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
def test_clip_grad_norm(norm_type):
    ps = _params_with_grads()
    grads = [p.grad.numpy().copy() for p in ps]
    flat = np.concatenate([g.ravel() for g in grads]).astype(np.float64)
    total = (
        np.abs(flat).max()
        if norm_type == math.inf
        else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    )
    out = nn.utils.clip_grad_norm_(ps, 1.0, norm_type=norm_type)
    assert out.item() == pytest.approx(total, rel=1e-5)
    coef = min(1.0, 1.0 / (total + 1e-6))
    for p, g in zip(ps, grads, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), g * coef, rtol=1e-5)
    # below the threshold nothing changes
    ps = _params_with_grads()
    before = [p.grad.numpy().copy() for p in ps]
    nn.utils.clip_grad_norm_(ps, 1e6)
    for p, g in zip(ps, before, strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), g)


def test_clip_grad_nonfinite_and_value():
    ps = _params_with_grads()
    ps[0].grad.numpy()[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    ps = _params_with_grads()
    nn.utils.clip_grad_value_(ps, 0.5)
    assert all(np.abs(p.grad.numpy()).max() <= 0.5 for p in ps)
    single = _params_with_grads()[0]
    nn.utils.clip_grad_norm_(single, 0.1)
    assert np.linalg.norm(single.grad.numpy()) == pytest.approx(0.1, rel=1e-4)
    assert nn.utils.clip_grad_norm_([nn.Parameter(ctorch.ones(2))], 1.0).item() == 0.0


@needs_torch
def test_clip_grad_norm_vs_torch():
    import torch

    ps = _params_with_grads(3)
    tps = [torch.nn.Parameter(torch.from_numpy(p.detach().numpy().copy())) for p in ps]
    for tp, p in zip(tps, ps, strict=True):
        tp.grad = torch.from_numpy(p.grad.numpy().copy())
    a = nn.utils.clip_grad_norm_(ps, 0.7)
    b = torch.nn.utils.clip_grad_norm_(tps, 0.7)
    assert a.dtype == ctorch.float32
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-5)
    for p, tp in zip(ps, tps, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_parameters_vector_roundtrip():
    m = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    v = nn.utils.parameters_to_vector(m.parameters())
    assert v.shape == (3 * 4 + 4 + 4 * 2 + 2,)
    nn.utils.vector_to_parameters(v * 0 + 1, m.parameters())
    assert all(np.all(p.detach().numpy() == 1) for p in m.parameters())
    assert isinstance(m[0].weight, nn.Parameter)
    with pytest.raises(TypeError):
        nn.utils.vector_to_parameters([1, 2], m.parameters())
