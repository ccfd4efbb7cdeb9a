"""Layers: Linear/Bilinear/Flatten/activations/Dropout/Embedding vs torch and NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH, check_op

import ctorch
from ctorch import nn
from ctorch.nn import functional as F


def _copy_from_torch(ours, theirs):
    ours.load_state_dict(
        {k: ctorch.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
    )


def _compare_module(ours, theirs, *shapes, rtol=1e-5, atol=1e-6, seed=0, train=True):
    """Same weights, same inputs: outputs and input/parameter gradients agree."""
    import torch

    _copy_from_torch(ours, theirs)
    ours.train(train)
    theirs.train(train)
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    xc = [ctorch.from_numpy(x.copy()).requires_grad_() for x in xs]
    xt = [torch.from_numpy(x.copy()).requires_grad_() for x in xs]
    yc, yt = ours(*xc), theirs(*xt)
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    g = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    (yc * ctorch.from_numpy(g)).sum().backward()
    (yt * torch.from_numpy(g)).sum().backward()
    for a, b in zip(xc, xt, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol * 10, atol=atol * 10)
    tp = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), tp[n].grad.numpy(), rtol=rtol * 10, atol=atol * 10, err_msg=n
        )


needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")


# ------------------------------------------------------------------ linear family
def test_linear_forward_backward_numpy():
    lin = nn.Linear(4, 3)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    xt = ctorch.from_numpy(x.copy()).requires_grad_()
    y = lin(xt)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), x @ w.T + b, rtol=1e-5, atol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), np.ones((5, 3)).T @ x, rtol=1e-5)
    np.testing.assert_allclose(lin.bias.grad.numpy(), np.full(3, 5.0))
    np.testing.assert_allclose(xt.grad.numpy(), np.ones((5, 3)) @ w, rtol=1e-5)
    assert lin(ctorch.randn(2, 7, 4)).shape == (2, 7, 3)
    assert nn.Linear(4, 3, bias=False).bias is None
    assert nn.Linear(4, 3, dtype=ctorch.float64).weight.dtype == ctorch.float64


def test_linear_gradcheck():
    lin = nn.Linear(3, 2).double()
    x = ctorch.randn(4, 3, dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradcheck(lambda x, w, b: F.linear(x, w, b), (x, lin.weight, lin.bias))
    bil = nn.Bilinear(2, 3, 2).double()
    x1 = ctorch.randn(4, 2, dtype=ctorch.float64, requires_grad=True)
    x2 = ctorch.randn(4, 3, dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradcheck(
        lambda a, b, w, c: F.bilinear(a, b, w, c), (x1, x2, bil.weight, bil.bias)
    )


@needs_torch
def test_linear_bilinear_vs_torch():
    import torch

    _compare_module(nn.Linear(6, 4), torch.nn.Linear(6, 4), (3, 2, 6))
    _compare_module(nn.Linear(6, 4, bias=False), torch.nn.Linear(6, 4, bias=False), (5, 6))
    _compare_module(nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5), (6, 3), (6, 4))
    _compare_module(nn.PReLU(3), torch.nn.PReLU(3), (4, 3, 5))
    _compare_module(nn.PReLU(), torch.nn.PReLU(), (4, 3))


def test_identity_flatten_unflatten():
    x = ctorch.randn(2, 3, 4, 5)
    assert nn.Identity(54, unused="x")(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Unflatten(1, (3, 1))(ctorch.randn(2, 3)).shape == (2, 3, 1)
    with pytest.raises(TypeError):
        nn.Unflatten(1, 3)


# ------------------------------------------------------------------ activations
ACTS = [
    ("ReLU", {}),
    ("ReLU6", {}),
    ("LeakyReLU", {"negative_slope": 0.2}),
    ("ELU", {}),
    ("ELU", {"alpha": 0.5}),
    ("GELU", {}),
    ("GELU", {"approximate": "tanh"}),
    ("SiLU", {}),
    ("Mish", {}),
    ("Sigmoid", {}),
    ("Tanh", {}),
    ("Softplus", {"beta": 2.0}),
    ("Hardtanh", {"min_val": -0.5, "max_val": 0.7}),
    ("Softmax", {"dim": 1}),
    ("LogSoftmax", {"dim": -1}),
    ("SELU", {}),
    ("CELU", {"alpha": 0.7}),
    ("Softsign", {}),
    ("Tanhshrink", {}),
    ("LogSigmoid", {}),
    ("Hardsigmoid", {}),
    ("Hardswish", {}),
    ("Softmin", {"dim": 1}),
    ("GLU", {}),
    ("Softshrink", {}),
    ("Hardshrink", {}),
    ("Threshold", {"threshold": 0.1, "value": -1.0}),
]


@pytest.mark.parametrize("name,kw", ACTS)
def test_activation_modules(name, kw):
    check_op(
        lambda lib, x: getattr(lib.nn, name)(**kw)(x),
        [(4, 6)],
        low=-3,
        high=3,
        gradcheck=name
        not in (
            "Hardtanh",
            "ReLU6",
            "Softshrink",
            "Hardshrink",
            "Threshold",
            "Hardsigmoid",
            "Hardswish",
        ),
    )


@pytest.mark.parametrize("name", ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SiLU", "Hardtanh"])
def test_inplace_activations(name):
    x = ctorch.randn(3, 4)
    ref = getattr(nn, name)()(x.clone())
    y = getattr(nn, name)(inplace=True)(x)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.numpy(), ref.numpy(), rtol=1e-6)
    # inplace inside a graph still gives correct gradients
    a = ctorch.randn(3, 4, requires_grad=True)
    h = a * 2
    out = getattr(nn, name)(inplace=True)(h)
    out.sum().backward()
    b = a.detach().clone().requires_grad_()
    getattr(nn, name)()(b * 2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6)


def test_relu_positional_inplace_true():
    m = nn.ReLU(True)
    assert m.inplace is True and repr(m) == "ReLU(inplace=True)"


# ------------------------------------------------------------------ dropout
def test_dropout_statistics_and_eval():
    ctorch.manual_seed(0)
    d = nn.Dropout(0.3)
    x = ctorch.ones(200, 500)
    y = d(x).numpy()
    keep = y != 0
    assert abs(keep.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[keep], 1 / 0.7, rtol=1e-6)
    d.eval()
    assert d(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert not F.dropout(x, 1.0).numpy().any()
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_dropout_gradient_uses_mask():
    x = ctorch.randn(50, 40, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    mask = y.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), mask * 2.0)


def test_dropout2d_zeroes_channels():
    ctorch.manual_seed(1)
    x = ctorch.ones(8, 16, 5, 5)
    y = nn.Dropout2d(0.5)(x).numpy()
    per_channel = y.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0.2 < (per_channel == 0).all(-1).mean() < 0.8
    y1 = nn.Dropout1d(0.5)(ctorch.ones(4, 6, 10)).numpy()
    assert np.all((y1 == 0).all(-1) | (y1 == 2.0).all(-1))


def test_dropout_reproducible_with_seed():
    ctorch.manual_seed(5)
    a = F.dropout(ctorch.ones(100)).numpy()
    ctorch.manual_seed(5)
    b = F.dropout(ctorch.ones(100)).numpy()
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ embedding
def test_embedding_forward_backward():
    emb = nn.Embedding(10, 4, padding_idx=0)
    assert not emb.weight.detach().numpy()[0].any()
    idx = ctorch.tensor([[0, 2, 2], [5, 9, 0]])
    y = emb(idx)
    np.testing.assert_array_equal(y.detach().numpy(), emb.weight.detach().numpy()[idx.numpy()])
    y.sum().backward()
    g = emb.weight.grad.numpy()
    assert not g[0].any()
    np.testing.assert_allclose(g[2], 2.0)
    np.testing.assert_allclose(g[5], 1.0)
    assert not g[1].any()
    with pytest.raises(IndexError):
        emb(ctorch.tensor([10]))
    emb2 = nn.Embedding(5, 3, padding_idx=-1)
    assert emb2.padding_idx == 4


def test_embedding_large_kernel_path():
    emb = nn.Embedding(1000, 64)
    idx = np.random.default_rng(0).integers(0, 1000, size=(64, 32))
    emb(ctorch.from_numpy(idx)).sum().backward()
    expect = np.zeros((1000, 64), np.float32)
    np.add.at(expect, idx.reshape(-1), 1.0)
    np.testing.assert_allclose(emb.weight.grad.numpy(), expect)


def test_embedding_from_pretrained_and_max_norm():
    w = ctorch.randn(4, 3)
    e = nn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad
    np.testing.assert_array_equal(e(ctorch.tensor([1])).numpy()[0], w.numpy()[1])
    e2 = nn.Embedding.from_pretrained(w, freeze=False)
    assert e2.weight.requires_grad
    e3 = nn.Embedding(5, 3, max_norm=1.0)
    with ctorch.no_grad():
        e3.weight.mul_(10)
    out = e3(ctorch.tensor([1, 2]))
    assert np.all(np.linalg.norm(out.detach().numpy(), axis=1) <= 1.0 + 1e-5)
    e4 = nn.Embedding(5, 3, scale_grad_by_freq=True)
    e4(ctorch.tensor([1, 1, 2])).sum().backward()
    np.testing.assert_allclose(e4.weight.grad.numpy()[1], 1.0)


@needs_torch
def test_embedding_vs_torch():
    import torch

    ours, theirs = nn.Embedding(12, 5, padding_idx=3), torch.nn.Embedding(12, 5, padding_idx=3)
    _copy_from_torch(ours, theirs)
    idx = np.random.default_rng(0).integers(0, 12, (4, 6))
    yc, yt = ours(ctorch.from_numpy(idx)), theirs(torch.from_numpy(idx))
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy())
    (yc**2).sum().backward()
    (yt**2).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-5)


# ------------------------------------------------------------------ default init statistics
def _stats(a):
    a = np.asarray(a, np.float64).ravel()
    return a.min(), a.max(), a.mean(), a.std()


@needs_torch
@pytest.mark.parametrize(
    "ctor",
    [
        "Linear(300, 200)",
        "Bilinear(30, 20, 40)",
        "Embedding(500, 64)",
        "PReLU(4)",
        "LSTM(64, 128, 2)",
        "GRU(32, 64, bidirectional=True)",
        "RNN(16, 100)",
        "LSTMCell(40, 50)",
        "MultiheadAttention(64, 4)",
    ],
)
def test_default_init_statistics_match_torch(ctor):
    import torch

    torch.manual_seed(0)
    ctorch.manual_seed(0)
    ours = eval("nn." + ctor)
    theirs = eval("torch.nn." + ctor)
    tp = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(tp)
    for n, p in ours.named_parameters():
        a, b = p.detach().numpy(), tp[n].detach().numpy()
        assert a.shape == b.shape and a.dtype == b.dtype, n
        (amin, amax, amean, astd), (bmin, bmax, bmean, bstd) = _stats(a), _stats(b)
        scale = max(bstd, 1e-3)
        if bstd == 0:
            np.testing.assert_array_equal(a, b)
            continue
        assert abs(astd - bstd) / bstd < 0.1, (n, astd, bstd)
        assert abs(amean - bmean) < 0.1 * scale + 3 * bstd / np.sqrt(a.size), (n, amean, bmean)
        if "Embedding" not in ctor and "bias_k" not in n:  # bounded (uniform) inits
            assert amin >= bmin - 0.05 * scale and amax <= bmax + 0.05 * scale, n


def test_linear_init_bounds():
    lin = nn.Linear(100, 50)
    bound = 1 / np.sqrt(100)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.05 * bound


def _count_sgemm(monkeypatch):
    from ctorch._backend import cpu_kernels

    calls = []
    real = cpu_kernels.sgemm

    def spy(*a, **k):
        calls.append(a[0].shape)
        return real(*a, **k)

    monkeypatch.setattr(cpu_kernels, "sgemm", spy)
    return calls


def test_linear_float32_runs_on_sgemm_and_matches(monkeypatch):
    """float32 Linear products of >= 2**18 MACs go through ctorch's sgemm (forward, dX, dW):
    checked against a float64 reference, bitwise equal for 1 and 2 threads; small batches
    stay with NumPy."""
    from helpers import threads

    from ctorch._core import gemm

    calls = _count_sgemm(monkeypatch)
    rng = np.random.default_rng(3)
    xa = rng.standard_normal((64, 300)).astype(np.float32)
    lin = nn.Linear(300, 200)
    wa, ba = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    ga = rng.standard_normal((64, 200)).astype(np.float32)

    def run():
        x = ctorch.tensor(xa, requires_grad=True)
        lin.zero_grad()
        y = lin(x)
        y.backward(ctorch.tensor(ga))
        return y.detach().numpy().copy(), x.grad.numpy().copy(), lin.weight.grad.numpy().copy()

    with threads(1):
        one = run()
    with threads(2):
        two = run()
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(a, b)
    x64, w64, g64 = (a.astype(np.float64) for a in (xa, wa, ga))
    refs = (x64 @ w64.T + ba, g64 @ w64, g64.T @ x64)
    for got, ref in zip(one, refs, strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)
    assert len(calls) == (6 if gemm.SGEMM_AVX512 else 0)  # 3 products x 2 runs
    calls.clear()
    lin(ctorch.tensor(xa[:4]))  # 4 rows: NumPy
    assert calls == []


def test_linear_double_backward_float32():
    """create_graph through a Linear big enough for the sgemm path keeps the graph."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    xa = rng.standard_normal((32, 128)).astype(np.float32)
    wa = (0.1 * rng.standard_normal((96, 128))).astype(np.float32)
    res = []
    for lib in (ctorch, torch):
        x = lib.tensor(xa, requires_grad=True)
        w = lib.tensor(wa, requires_grad=True)
        y = lib.nn.functional.linear(x, w).tanh().sum()
        (gx,) = lib.autograd.grad(y, x, create_graph=True)
        (gw,) = lib.autograd.grad((gx * gx).sum(), w)
        res.append(gw.detach().numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-4, atol=1e-5)
