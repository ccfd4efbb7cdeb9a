"""InstanceNorm, 3-D pooling, EmbeddingBag, grid_sample/affine_grid, gumbel_softmax and the
Lazy modules: forward and gradients against torch with identical weights, float64 gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
import ctorch.nn as nn
import ctorch.nn.functional as F
from ctorch.autograd import gradcheck

torch = pytest.importorskip("torch")


def _pair(a, requires_grad=True):
    c = ctorch.tensor(a.copy(), requires_grad=requires_grad)
    t = torch.tensor(a.copy(), requires_grad=requires_grad)
    return c, t


def _close(c, t, tol=1e-5):
    assert tuple(c.shape) == tuple(t.shape)
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def _fwd_bwd(fc, ft, arrays, tol=1e-5, seed=0):
    """Run fc on ctorch tensors and ft on torch tensors; compare output and input grads."""
    cs, ts = zip(*(_pair(a) for a in arrays), strict=True)
    yc, yt = fc(*cs), ft(*ts)
    _close(yc, yt, tol)
    g = np.random.default_rng(seed).standard_normal(tuple(yt.shape)).astype(arrays[0].dtype)
    (yc * ctorch.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    for c, t in zip(cs, ts, strict=True):
        _close(c.grad, t.grad, tol)


def _rand(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ------------------------------------------------------------------------- InstanceNorm
@pytest.mark.parametrize(
    "cls,shape",
    [
        ("InstanceNorm1d", (3, 4, 7)),
        ("InstanceNorm2d", (2, 3, 5, 4)),
        ("InstanceNorm3d", (2, 3, 3, 4, 2)),
    ],
)
@pytest.mark.parametrize("affine,track", [(False, False), (True, False), (True, True)])
def test_instance_norm_matches_torch(cls, shape, affine, track):
    x = _rand(*shape)
    mc = getattr(nn, cls)(shape[1], affine=affine, track_running_stats=track, momentum=0.3)
    mt = getattr(torch.nn, cls)(shape[1], affine=affine, track_running_stats=track, momentum=0.3)
    if affine:
        w, b = _rand(shape[1], seed=1), _rand(shape[1], seed=2)
        mc.weight.data = ctorch.tensor(w)
        mc.bias.data = ctorch.tensor(b)
        with torch.no_grad():
            mt.weight.copy_(torch.tensor(w))
            mt.bias.copy_(torch.tensor(b))
    assert sorted(mc.state_dict()) == sorted(mt.state_dict())
    _fwd_bwd(mc, mt, [x])
    if affine:
        _close(mc.weight.grad, mt.weight.grad, 1e-4)
        _close(mc.bias.grad, mt.bias.grad, 1e-4)
    if track:
        _close(mc.running_mean, mt.running_mean)
        _close(mc.running_var, mt.running_var)
        mc.eval()
        mt.eval()
        _fwd_bwd(mc, mt, [x])
    # unbatched input
    _fwd_bwd(mc, mt, [x[0]])
    assert repr(mc) == repr(mt)


def test_instance_norm_errors_and_gradcheck():
    m = nn.InstanceNorm2d(3, affine=True)
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        m(ctorch.zeros(2, 3))
    with pytest.raises(ValueError, match="match num_features"):
        m(ctorch.zeros(1, 4, 2, 2))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(ctorch.randn(2, 5, 4))
    x = ctorch.randn(2, 3, 4, dtype=ctorch.float64, requires_grad=True)
    w = ctorch.randn(3, dtype=ctorch.float64, requires_grad=True)
    b = ctorch.randn(3, dtype=ctorch.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))


# ------------------------------------------------------------------------- 3-D pooling
POOL3D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0), ceil_mode=True),
]


@pytest.mark.parametrize("kw", POOL3D + [dict(kernel_size=3, stride=1, dilation=2)])
def test_max_pool3d_matches_torch(kw):
    x = _rand(2, 3, 6, 7, 5)
    x[0, 0, :2, :2, :2] = 1.0  # ties: the first maximum wins, as torch
    _fwd_bwd(
        lambda t: F.max_pool3d(t, **kw), lambda t: torch.nn.functional.max_pool3d(t, **kw), [x]
    )
    yc, ic = F.max_pool3d(ctorch.tensor(x), return_indices=True, **kw)
    yt, it = torch.nn.functional.max_pool3d(torch.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(ic.numpy(), it.numpy())
    m = nn.MaxPool3d(**kw)
    _close(m(ctorch.tensor(x[0])), torch.nn.MaxPool3d(**kw)(torch.tensor(x[0])))
    assert repr(m) == repr(torch.nn.MaxPool3d(**kw))


@pytest.mark.parametrize("kw", POOL3D)
@pytest.mark.parametrize("cip", [True, False])
@pytest.mark.parametrize("div", [None, 5])
def test_avg_pool3d_matches_torch(kw, cip, div):
    x = _rand(2, 3, 6, 7, 5)
    kw = dict(kw, count_include_pad=cip, divisor_override=div)
    _fwd_bwd(
        lambda t: F.avg_pool3d(t, **kw), lambda t: torch.nn.functional.avg_pool3d(t, **kw), [x]
    )
    _close(nn.AvgPool3d(**kw)(ctorch.tensor(x)), torch.nn.AvgPool3d(**kw)(torch.tensor(x)))


@pytest.mark.parametrize("out", [1, (3, 2, 4), (2, None, 3), (6, 7, 5)])
def test_adaptive_pool3d_matches_torch(out):
    x = _rand(2, 3, 6, 7, 5)
    _fwd_bwd(
        lambda t: F.adaptive_avg_pool3d(t, out),
        lambda t: torch.nn.functional.adaptive_avg_pool3d(t, out),
        [x],
    )
    _fwd_bwd(
        lambda t: F.adaptive_max_pool3d(t, out),
        lambda t: torch.nn.functional.adaptive_max_pool3d(t, out),
        [x],
    )
    _, ic = nn.AdaptiveMaxPool3d(out, return_indices=True)(ctorch.tensor(x))
    _, it = torch.nn.AdaptiveMaxPool3d(out, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(ic.numpy(), it.numpy())
    _close(
        nn.AdaptiveAvgPool3d(out)(ctorch.tensor(x[0])),
        torch.nn.AdaptiveAvgPool3d(out)(torch.tensor(x[0])),
    )


def test_pool3d_gradcheck_and_errors():
    x = ctorch.randn(1, 2, 4, 5, 3, dtype=ctorch.float64, requires_grad=True)
    assert gradcheck(lambda t: F.max_pool3d(t, 2, 1, 1), (x,))
    assert gradcheck(lambda t: F.avg_pool3d(t, 3, 2, 1, ceil_mode=True), (x,))
    assert gradcheck(lambda t: F.adaptive_max_pool3d(t, (3, 2, 2)), (x,))
    assert gradcheck(lambda t: F.adaptive_avg_pool3d(t, (3, 2, 2)), (x,))
    with pytest.raises(RuntimeError, match="Expected 4D or 5D"):
        F.max_pool3d(ctorch.zeros(2, 3, 4), 2)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.avg_pool3d(ctorch.zeros(1, 1, 4, 4, 4), 2, padding=2)


# ------------------------------------------------------------------------- EmbeddingBag
BAG_CASES = [
    dict(mode="sum"),
    dict(mode="mean"),
    dict(mode="max"),
    dict(mode="mean", padding_idx=2),
    dict(mode="max", padding_idx=2),
    dict(mode="sum", padding_idx=0, per_sample_weights=True),
    dict(mode="sum", include_last_offset=True),
    dict(mode="mean", include_last_offset=True),
]


@pytest.mark.parametrize("kw", BAG_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_bag_matches_torch(kw, dtype):
    kw = dict(kw)
    psw = kw.pop("per_sample_weights", False)
    w = _rand(10, 4, dtype=dtype)
    w[3] = w[5]  # equal rows: max picks the first, as torch
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 2, 2, 7], np.int64)
    # bags of length 3, 0 (empty), 4, 1, 1 (padding only), rest
    off = np.array([0, 3, 3, 7, 8, 9], np.int64)
    if kw.get("include_last_offset"):
        off = np.array([0, 3, 3, 7, 8, 12], np.int64)
    weights = _rand(idx.size, dtype=dtype, seed=3)
    wc, wt = _pair(w)
    pc, pt = _pair(weights)
    yc = F.embedding_bag(
        ctorch.tensor(idx), wc, ctorch.tensor(off), per_sample_weights=pc if psw else None, **kw
    )
    yt = torch.nn.functional.embedding_bag(
        torch.tensor(idx), wt, torch.tensor(off), per_sample_weights=pt if psw else None, **kw
    )
    tol = 1e-6 if dtype == np.float32 else 1e-12
    _close(yc, yt, tol)
    g = _rand(*yt.shape, dtype=dtype, seed=4)
    (yc * ctorch.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    _close(wc.grad, wt.grad, tol)
    if psw:
        _close(pc.grad, pt.grad, tol)
    # 2-D input: fixed-length bags
    idx2 = idx[:12].reshape(3, 4)
    _close(
        F.embedding_bag(ctorch.tensor(idx2), wc, mode=kw["mode"]),
        torch.nn.functional.embedding_bag(torch.tensor(idx2), wt, mode=kw["mode"]),
        tol,
    )


def test_embedding_bag_module_and_errors():
    torch.manual_seed(0)
    mt = torch.nn.EmbeddingBag(10, 3, mode="sum", padding_idx=1)
    mc = nn.EmbeddingBag(10, 3, mode="sum", padding_idx=1)
    assert repr(mc) == repr(mt)
    assert float(mc.weight[1].abs().sum()) == 0.0
    mc.load_state_dict({k: ctorch.tensor(v.numpy()) for k, v in mt.state_dict().items()})
    idx = np.array([[1, 2, 3], [4, 1, 9]])
    _close(mc(ctorch.tensor(idx)), mt(torch.tensor(idx)))
    pre = ctorch.tensor(_rand(5, 2))
    m2 = nn.EmbeddingBag.from_pretrained(pre, mode="max")
    assert not m2.weight.requires_grad
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(ctorch.tensor(idx), mc.weight, ctorch.tensor([0, 1]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(ctorch.tensor([1, 2]), mc.weight)
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(
            ctorch.tensor(idx), mc.weight, mode="mean", per_sample_weights=ctorch.ones(2, 3)
        )
    with pytest.raises(ValueError, match="mode has to be one of"):
        F.embedding_bag(ctorch.tensor(idx), mc.weight, mode="min")


def test_embedding_bag_max_norm_renormalizes_rows_like_torch():
    w = _rand(6, 3, dtype=np.float64) * 3
    idx, off = np.array([0, 2, 2, 5]), np.array([0, 1])
    wc, wt = ctorch.tensor(w.copy()), torch.tensor(w.copy())
    yc = F.embedding_bag(ctorch.tensor(idx), wc, ctorch.tensor(off), max_norm=1.0, mode="sum")
    yt = torch.nn.functional.embedding_bag(
        torch.tensor(idx), wt, torch.tensor(off), max_norm=1.0, mode="sum"
    )
    _close(yc, yt, 1e-7)
    _close(wc, wt, 1e-7)  # the looked-up rows were renormalized in place


def test_embedding_bag_gradcheck():
    w = ctorch.randn(6, 3, dtype=ctorch.float64, requires_grad=True)
    psw = ctorch.randn(7, dtype=ctorch.float64, requires_grad=True)
    idx = ctorch.tensor([0, 2, 2, 5, 1, 3, 4])
    off = ctorch.tensor([0, 2, 5])
    assert gradcheck(
        lambda w, p: F.embedding_bag(idx, w, off, mode="sum", per_sample_weights=p), (w, psw)
    )
    assert gradcheck(lambda w: F.embedding_bag(idx, w, off, mode="mean"), (w,))
    assert gradcheck(lambda w: F.embedding_bag(idx, w, off, mode="max"), (w,))


# ------------------------------------------------------------------------- grid_sample
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_2d_matches_torch(mode, padding_mode, align_corners):
    x = _rand(2, 3, 5, 6, dtype=np.float64)
    grid = np.random.default_rng(1).uniform(-1.6, 1.6, (2, 4, 7, 2))
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    _fwd_bwd(
        lambda a, g: F.grid_sample(a, g, **kw),
        lambda a, g: torch.nn.functional.grid_sample(a, g, **kw),
        [x, grid],
        tol=1e-10,
    )


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_3d_matches_torch(mode, padding_mode):
    x = _rand(2, 2, 4, 5, 3, dtype=np.float64)
    grid = np.random.default_rng(2).uniform(-1.4, 1.4, (2, 3, 2, 4, 3))
    for ac in (False, True):
        kw = dict(mode=mode, padding_mode=padding_mode, align_corners=ac)
        _fwd_bwd(
            lambda a, g, kw=kw: F.grid_sample(a, g, **kw),
            lambda a, g, kw=kw: torch.nn.functional.grid_sample(a, g, **kw),
            [x, grid],
            tol=1e-10,
        )


def test_grid_sample_gradcheck_and_float32():
    x = ctorch.randn(1, 2, 4, 5, dtype=ctorch.float64, requires_grad=True)
    g = (ctorch.rand(1, 3, 3, 2, dtype=ctorch.float64) * 1.8 - 0.9).requires_grad_(True)
    for pm in ("zeros", "border", "reflection"):
        for mode in ("bilinear", "bicubic"):
            assert gradcheck(
                lambda x, g, pm=pm, mode=mode: F.grid_sample(
                    x, g, mode=mode, padding_mode=pm, align_corners=False
                ),
                (x, g),
            )
    x32 = _rand(1, 3, 8, 8)
    g32 = np.random.default_rng(0).uniform(-1, 1, (1, 5, 5, 2)).astype(np.float32)
    _fwd_bwd(
        lambda a, g: F.grid_sample(a, g, align_corners=False),
        lambda a, g: torch.nn.functional.grid_sample(a, g, align_corners=False),
        [x32, g32],
        tol=1e-5,
    )
    with pytest.raises(ValueError, match="expected mode"):
        F.grid_sample(ctorch.zeros(1, 1, 2, 2), ctorch.zeros(1, 1, 1, 2), mode="area")
    with pytest.warns(UserWarning, match="align_corners"):
        F.grid_sample(ctorch.zeros(1, 1, 2, 2), ctorch.zeros(1, 1, 1, 2))


@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 3), (2, 3, 2, 3, 4)])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_torch(size, align_corners):
    theta = _rand(2, len(size) - 2, len(size) - 1, dtype=np.float64)
    _fwd_bwd(
        lambda t: F.affine_grid(t, size, align_corners=align_corners),
        lambda t: torch.nn.functional.affine_grid(t, size, align_corners=align_corners),
        [theta],
        tol=1e-12,
    )
    with pytest.raises(ValueError, match="affine matrices"):
        F.affine_grid(ctorch.zeros(2, 3, 3), (2, 3, 4, 5), align_corners=False)


def test_affine_grid_then_grid_sample_identity():
    x = ctorch.randn(2, 3, 5, 6)
    theta = ctorch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]] * 2)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    np.testing.assert_allclose(
        F.grid_sample(x, grid, align_corners=False).numpy(), x.numpy(), atol=1e-6
    )


# ------------------------------------------------------------------------- gumbel_softmax
def test_gumbel_softmax_soft_and_hard():
    ctorch.manual_seed(0)
    logits = ctorch.tensor(np.log(np.array([[0.1, 0.2, 0.7]] * 4000)), requires_grad=True)
    y = F.gumbel_softmax(logits, tau=0.5)
    assert y.shape == (4000, 3)
    np.testing.assert_allclose(y.sum(-1).detach().numpy(), 1.0, rtol=1e-6)
    assert (y.detach().numpy() > 0).all()
    yh = F.gumbel_softmax(logits, tau=0.5, hard=True)
    h = yh.detach().numpy()
    assert set(np.unique(h)) == {0.0, 1.0}
    np.testing.assert_array_equal(h.sum(-1), 1.0)
    # argmax of (logits + Gumbel noise) samples the categorical distribution
    freq = h.mean(0)
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.7], atol=0.03)
    # straight-through: the hard sample's gradient is the soft sample's gradient
    ctorch.manual_seed(1)
    w = ctorch.randn(4000, 3)
    (F.gumbel_softmax(logits, tau=0.5, hard=True) * w).sum().backward()
    g_hard = logits.grad.numpy().copy()
    logits.grad = None
    ctorch.manual_seed(1)
    _ = ctorch.randn(4000, 3)
    (F.gumbel_softmax(logits, tau=0.5) * w).sum().backward()
    np.testing.assert_allclose(g_hard, logits.grad.numpy(), rtol=1e-6, atol=1e-9)
    assert np.abs(g_hard).sum() > 0


def test_gumbel_softmax_dim_and_low_tau():
    ctorch.manual_seed(0)
    logits = ctorch.randn(3, 5, 2)
    y = F.gumbel_softmax(logits, tau=1e-3, dim=1)
    np.testing.assert_allclose(y.sum(1).numpy(), 1.0, rtol=1e-5)
    # very low temperature: samples are (nearly) one-hot already
    assert np.allclose(y.numpy().max(1), 1.0, atol=1e-3)


# ------------------------------------------------------------------------- Lazy modules
LAZY = [
    ("LazyLinear", (4,), {}, (2, 3, 7), "Linear", (7, 4)),
    ("LazyConv1d", (4, 3), {"padding": 1}, (2, 5, 9), "Conv1d", (5, 4, 3)),
    ("LazyConv2d", (4, 3), {"groups": 2, "bias": False}, (2, 6, 7, 7), "Conv2d", (6, 4, 3)),
    ("LazyConv3d", (2, 2), {}, (1, 3, 4, 4, 4), "Conv3d", (3, 2, 2)),
    ("LazyConvTranspose2d", (4, 3), {"stride": 2}, (2, 5, 4, 4), "ConvTranspose2d", (5, 4, 3)),
    ("LazyBatchNorm1d", (), {}, (4, 3), "BatchNorm1d", (3,)),
    ("LazyBatchNorm2d", (), {"momentum": 0.2}, (2, 3, 4, 4), "BatchNorm2d", (3,)),
    ("LazyBatchNorm3d", (), {}, (2, 3, 2, 2, 2), "BatchNorm3d", (3,)),
    ("LazyInstanceNorm1d", (), {"affine": True}, (2, 3, 5), "InstanceNorm1d", (3,)),
    ("LazyInstanceNorm2d", (), {"track_running_stats": True}, (2, 3, 4, 4), "InstanceNorm2d", (3,)),
    ("LazyInstanceNorm3d", (), {}, (2, 3, 2, 3, 2), "InstanceNorm3d", (3,)),
]


@pytest.mark.parametrize("name,args,kw,xshape,becomes,eager_args", LAZY)
def test_lazy_module_matches_torch(name, args, kw, xshape, becomes, eager_args):
    mc = getattr(nn, name)(*args, **kw)
    mt = getattr(torch.nn, name)(*args, **kw)
    assert mc.has_uninitialized_params()
    params = [p for p in mc.parameters()]
    assert all(isinstance(p, nn.UninitializedParameter) for p in params)
    x = _rand(*xshape)
    # the inferred shapes and the class switch
    mt(torch.tensor(x))
    mc(ctorch.tensor(x))
    assert type(mc) is getattr(nn, becomes)
    assert type(mt) is getattr(torch.nn, becomes)
    assert not any(isinstance(p, nn.UninitializedParameter) for p in mc.parameters())
    assert {k: tuple(v.shape) for k, v in mc.state_dict().items()} == {
        k: tuple(v.shape) for k, v in mt.state_dict().items()
    }
    assert repr(mc) == repr(mt)
    # the materialized parameters are the very objects created at construction
    assert all(a is b for a, b in zip(params, mc.parameters(), strict=False))
    # identical weights: identical forward and gradients
    mc.load_state_dict({k: ctorch.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})
    xc, xt = _pair(x)
    yc, yt = mc(xc), mt(xt)
    _close(yc, yt, 1e-4)
    yc.sum().backward()
    yt.sum().backward()
    _close(xc.grad, xt.grad, 1e-4)
    for (_n, pc), (_, pt) in zip(mc.named_parameters(), mt.named_parameters(), strict=True):
        _close(pc.grad, pt.grad, 1e-4)


def test_lazy_state_dict_load_materializes_and_moves():
    src = nn.Linear(5, 3)
    m = nn.LazyLinear(3)
    m.load_state_dict(src.state_dict())
    np.testing.assert_array_equal(m.weight.detach().numpy(), src.weight.detach().numpy())
    assert type(m) is nn.LazyLinear  # as torch: the class switches at the first forward
    m(ctorch.zeros(2, 5))
    assert type(m) is nn.Linear and m.in_features == 5
    m2 = nn.LazyConv2d(4, 3).double()
    assert m2.weight.dtype == ctorch.float64 and m2.has_uninitialized_params()
    m2(ctorch.randn(1, 2, 5, 5, dtype=ctorch.float64))
    assert m2.weight.shape == (4, 2, 3, 3) and m2.weight.dtype == ctorch.float64
    with pytest.raises(RuntimeError, match="uninitialized parameter"):
        _ = nn.LazyLinear(2).weight.shape
    seq = nn.Sequential(
        nn.LazyConv2d(8, 3), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2)
    )
    out = seq(ctorch.randn(2, 3, 6, 6))
    assert out.shape == (2, 2)
    assert [type(m).__name__ for m in seq] == ["Conv2d", "BatchNorm2d", "ReLU", "Flatten", "Linear"]
    opt = ctorch.optim.SGD(seq.parameters(), lr=0.1)
    out.sum().backward()
    opt.step()


def test_lazy_class_paths_and_pickle():
    import pickle

    for name in ("LazyLinear", "LazyConv2d", "LazyBatchNorm2d", "LazyInstanceNorm3d"):
        ours = getattr(nn, name).__module__.split(".")[-1]
        theirs = getattr(torch.nn, name).__module__.split(".")[-1]
        assert ours == theirs, name
    m = pickle.loads(pickle.dumps(nn.LazyConv2d(3, 3)))
    assert m.has_uninitialized_params()
    m(ctorch.randn(1, 2, 5, 5))
    assert type(m) is nn.Conv2d and m.weight.shape == (3, 2, 3, 3)
    assert len(m._forward_pre_hooks) == 0


# ------------------------------------------------------------------------- SyncBatchNorm
def test_sync_batchnorm_without_process_group_matches_torch():
    x = _rand(4, 3, 5, 2, dtype=np.float64)
    mc = nn.SyncBatchNorm(3, momentum=0.2).double()
    mt = torch.nn.SyncBatchNorm(3, momentum=0.2).double()
    w, b = _rand(3, dtype=np.float64, seed=1), _rand(3, dtype=np.float64, seed=2)
    mc.weight.data, mc.bias.data = ctorch.tensor(w), ctorch.tensor(b)
    with torch.no_grad():
        mt.weight.copy_(torch.tensor(w))
        mt.bias.copy_(torch.tensor(b))
    assert repr(mc) == repr(mt)
    _fwd_bwd(mc, mt, [x], tol=1e-10)
    _close(mc.weight.grad, mt.weight.grad, 1e-10)
    _close(mc.running_var, mt.running_var, 1e-12)
    mc.eval()
    mt.eval()
    _fwd_bwd(mc, mt, [x], tol=1e-10)
    with pytest.raises(ValueError, match="expected at least 2D input"):
        mc(ctorch.zeros(3))


def test_convert_sync_batchnorm_matches_torch_structure():
    def build(lib):
        return lib.nn.Sequential(
            lib.nn.Conv2d(3, 4, 3),
            lib.nn.BatchNorm2d(4),
            lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2)),
            lib.nn.InstanceNorm2d(4),
        )

    mc = build(ctorch)
    mc[1].eval()
    w = mc[1].weight
    sc = nn.SyncBatchNorm.convert_sync_batchnorm(mc)
    st = torch.nn.SyncBatchNorm.convert_sync_batchnorm(build(torch))
    assert [type(m).__name__ for m in sc.modules()] == [type(m).__name__ for m in st.modules()]
    assert sorted(sc.state_dict()) == sorted(st.state_dict())
    assert sc[1].weight is w and not sc[1].training  # shares parameters, keeps the mode


def test_sync_batchnorm_two_ranks():
    """Two spawned ranks (pipe all-reduce): outputs, gradients and running statistics equal
    BatchNorm's over the concatenated batch (see ``_syncbn_worker.py``)."""
    import subprocess
    import sys
    from pathlib import Path

    worker = Path(__file__).with_name("_syncbn_worker.py")
    proc = subprocess.run(
        [sys.executable, str(worker)], capture_output=True, text=True, timeout=600
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "OK rank 0" in proc.stdout and "OK rank 1" in proc.stdout, out


def test_program_runs_unmodified_under_ctorch_run():
    """A torch-style script using this file's layers, parametrizations, checkpoint, NAdam and
    CyclicLR runs through ``python -m ctorch.run`` and trains (the loss goes down)."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parent / "programs" / "issue14_nn_optim.py"
    proc = subprocess.run(
        [sys.executable, "-m", "ctorch.run", str(script)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("losses")][-1]
    losses = [float(v) for v in line.split()[1:]]
    assert len(losses) == 10 and losses[-1] < 0.8 * losses[0], losses
