"""Memory formats (issue #14): ``contiguous_format``, ``channels_last``, ``channels_last_3d``
and ``preserve_format`` in ``contiguous``/``is_contiguous``/``clone``/``to``/``empty``/the
``*_like`` family/``nn.Module.to``; the strides every case gives are torch's, and ops on a
channels-last input give torch's values (and, for the ones torch keeps channels-last, its
strides)."""

from __future__ import annotations

import io

import numpy as np
import pytest

import ctorch
import ctorch.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

CL, CL3 = ctorch.channels_last, ctorch.channels_last_3d
CF, PF = ctorch.contiguous_format, ctorch.preserve_format
_T = {
    "channels_last": torch.channels_last,
    "channels_last_3d": torch.channels_last_3d,
    "contiguous_format": torch.contiguous_format,
    "preserve_format": torch.preserve_format,
}


def tfmt(f):
    return _T[f.name]


def pair(shape, seed=0, dtype=np.float32):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ctorch.from_numpy(a.copy()), torch.from_numpy(a.copy())


def same_view(make, c, t):
    """``make`` applied to both: a view (permute/slice/expand/as_strided) of each."""
    return make(c), make(t)


# layouts to test with: (name, shape of the base, view)
VIEWS = [
    ("contig", (2, 3, 4, 5), lambda x: x),
    ("permuted", (2, 3, 4, 5), lambda x: x.permute(0, 2, 3, 1)),
    ("cl", (2, 3, 4, 5), lambda x: x.permute(0, 2, 3, 1).permute(0, 3, 1, 2)),
    ("cl_sliced", (2, 4, 6, 6), lambda x: x.permute(0, 2, 3, 1).permute(0, 3, 1, 2)[:, :, ::2]),
    ("transposed_sliced", (4, 6), lambda x: x.t()[::2]),
    ("expanded", (3, 1), lambda x: x.expand(3, 4)),
    ("sliced", (2, 3, 4, 5), lambda x: x[:, :, 1:3]),
    ("size1_odd_stride", (2, 3), lambda x: x.as_strided((2, 1, 3), (3, 100, 1))),
    ("n111", (4, 1, 1, 1), lambda x: x),
    ("c11_cl", (2, 3, 1, 1), lambda x: x.permute(0, 2, 3, 1).permute(0, 3, 1, 2)),
    ("cl3d", (2, 3, 2, 4, 5), lambda x: x.permute(0, 2, 3, 4, 1).permute(0, 4, 1, 2, 3)),
    ("zero", (0, 3, 4, 5), lambda x: x.permute(0, 2, 3, 1)),
    ("scalar", (), lambda x: x),
]


def _views():
    return [pytest.param(*v[1:], id=v[0]) for v in VIEWS]


# --------------------------------------------------------------------------- contiguous
@pytest.mark.parametrize(
    "shape",
    [(2, 3, 4, 5), (2, 3, 1, 1), (2, 1, 4, 5), (1, 3, 1, 5), (2, 3, 4, 1), (4, 1, 1, 1)],
)
def test_contiguous_channels_last_strides_and_identity(shape):
    c, t = pair(shape)
    cc, tc = c.contiguous(memory_format=CL), t.contiguous(memory_format=torch.channels_last)
    assert cc.stride() == tc.stride()
    assert (cc is c) == (tc is t)
    np.testing.assert_array_equal(cc.numpy(), tc.numpy())
    assert cc.is_contiguous(memory_format=CL)
    assert cc.is_contiguous() == tc.is_contiguous()
    assert c.is_contiguous(memory_format=CL) == t.is_contiguous(memory_format=torch.channels_last)
    # already channels-last: the tensor itself
    assert cc.contiguous(memory_format=CL) is cc
    back = cc.contiguous()
    assert back.stride() == tc.contiguous().stride()
    np.testing.assert_array_equal(back.numpy(), t.numpy())


def test_contiguous_channels_last_3d():
    c, t = pair((2, 3, 4, 5, 6))
    cc = c.contiguous(memory_format=CL3)
    tc = t.contiguous(memory_format=torch.channels_last_3d)
    assert cc.stride() == tc.stride() == (360, 1, 90, 18, 3)
    np.testing.assert_array_equal(cc.numpy(), tc.numpy())
    assert cc.is_contiguous(memory_format=CL3) and not cc.is_contiguous()
    assert not cc.is_contiguous(memory_format=CL)


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4), (2, 3, 4, 5), (2, 3, 4, 5, 6)])
@pytest.mark.parametrize("fmt", [CL, CL3], ids=["cl", "cl3d"])
def test_wrong_rank_errors(shape, fmt):
    c, t = pair(shape)
    for fn in (
        lambda x, f, lib: x.contiguous(memory_format=f),
        lambda x, f, lib: x.clone(memory_format=f),
        lambda x, f, lib: x.to(memory_format=f),
        lambda x, f, lib: lib.empty_like(x, memory_format=f),
        lambda x, f, lib: lib.empty(*x.shape, memory_format=f),
    ):
        try:
            fn(t, tfmt(fmt), torch)
            want = None
        except RuntimeError as e:
            want = str(e)
        if want is None:
            assert fn(c, fmt, ctorch).shape == tuple(shape)
        else:
            with pytest.raises(RuntimeError, match=want):
                fn(c, fmt, ctorch)
    assert c.is_contiguous(memory_format=fmt) == t.is_contiguous(memory_format=tfmt(fmt))


def test_contiguous_preserve_format():
    c, t = pair((2, 3, 4, 5))
    # contiguous already: the tensor itself (torch checks is_contiguous first)
    assert c.contiguous(memory_format=PF) is c
    assert t.contiguous(memory_format=torch.preserve_format) is t
    assert c.is_contiguous(memory_format=PF) is True
    p = c.permute(0, 2, 3, 1)
    with pytest.raises(RuntimeError, match="preserve memory format is unsupported"):
        p.contiguous(memory_format=PF)
    with pytest.raises(RuntimeError, match="preserve memory format is unsupported"):
        t.permute(0, 2, 3, 1).contiguous(memory_format=torch.preserve_format)
    assert p.is_contiguous(memory_format=PF) is False


@pytest.mark.parametrize(("shape", "make"), _views())
@pytest.mark.parametrize("fmt", [CF, CL, CL3], ids=["cf", "cl", "cl3d"])
def test_is_contiguous_matches_torch(shape, make, fmt):
    c, t = same_view(make, *pair(shape))
    assert c.stride() == t.stride()
    assert c.is_contiguous(memory_format=fmt) == t.is_contiguous(memory_format=tfmt(fmt))


# --------------------------------------------------------------------------- preserve
LIKES = [
    ("empty_like", lambda lib, x: lib.empty_like(x)),
    ("zeros_like", lambda lib, x: lib.zeros_like(x)),
    ("ones_like", lambda lib, x: lib.ones_like(x)),
    ("full_like", lambda lib, x: lib.full_like(x, 2.5)),
    ("rand_like", lambda lib, x: lib.rand_like(x)),
    ("randn_like", lambda lib, x: lib.randn_like(x)),
    ("randint_like", lambda lib, x: lib.randint_like(x, 3, 9)),
    ("clone", lambda lib, x: x.clone()),
    ("to_double", lambda lib, x: x.to(lib.float64)),
    ("double", lambda lib, x: x.double()),
    ("to_copy", lambda lib, x: x.to(copy=True)),
]


@pytest.mark.parametrize(("shape", "make"), _views())
@pytest.mark.parametrize(("name", "fn"), LIKES, ids=[n for n, _ in LIKES])
def test_preserve_format_strides_match_torch(shape, make, name, fn):
    c, t = same_view(make, *pair(shape))
    ctorch.manual_seed(7)
    torch.manual_seed(7)
    rc, rt = fn(ctorch, c), fn(torch, t)
    assert rc.shape == tuple(rt.shape)
    assert rc.stride() == rt.stride(), name
    if name != "empty_like":  # random fills walk memory order as torch's do: same values
        np.testing.assert_array_equal(rc.numpy(), rt.numpy())


@pytest.mark.parametrize("fmt", [CF, CL], ids=["cf", "cl"])
@pytest.mark.parametrize(("name", "fn"), LIKES[:7], ids=[n for n, _ in LIKES[:7]])
def test_like_explicit_format(fmt, name, fn):
    c, t = same_view(lambda x: x.permute(0, 2, 3, 1), *pair((2, 3, 4, 5)))
    # the *_like functions take memory_format as a keyword: call them with it
    kw_fn = {
        "empty_like": lambda lib, x, f: lib.empty_like(x, memory_format=f),
        "zeros_like": lambda lib, x, f: lib.zeros_like(x, memory_format=f),
        "ones_like": lambda lib, x, f: lib.ones_like(x, memory_format=f),
        "full_like": lambda lib, x, f: lib.full_like(x, 2.5, memory_format=f),
        "rand_like": lambda lib, x, f: lib.rand_like(x, memory_format=f),
        "randn_like": lambda lib, x, f: lib.randn_like(x, memory_format=f),
        "randint_like": lambda lib, x, f: lib.randint_like(x, 3, 9, memory_format=f),
    }[name]
    ctorch.manual_seed(3)
    torch.manual_seed(3)
    rc, rt = kw_fn(ctorch, c, fmt), kw_fn(torch, t, tfmt(fmt))
    assert rc.stride() == rt.stride()
    if name != "empty_like":
        np.testing.assert_array_equal(rc.numpy(), rt.numpy())


def test_empty_memory_format():
    for fmt in (CF, CL):
        assert (
            ctorch.empty(2, 3, 4, 5, memory_format=fmt).stride()
            == torch.empty(2, 3, 4, 5, memory_format=tfmt(fmt)).stride()
        )
    assert ctorch.empty((2, 3, 4, 5, 6), memory_format=CL3).stride() == (360, 1, 90, 18, 3)
    with pytest.raises(RuntimeError, match="unsupported memory format Preserve"):
        ctorch.empty(2, 3, memory_format=PF)
    with pytest.raises(RuntimeError, match="unsupported memory format Preserve"):
        torch.empty(2, 3, memory_format=torch.preserve_format)
    e = ctorch.empty(2, 3, 4, 5, memory_format=CL, requires_grad=True)
    assert e.requires_grad and e.is_leaf and e.is_contiguous(memory_format=CL)


@pytest.mark.parametrize("fmt", [CF, CL], ids=["cf", "cl"])
def test_clone_with_format(fmt):
    c, t = same_view(lambda x: x.permute(0, 2, 3, 1), *pair((2, 3, 4, 5)))
    rc, rt = c.clone(memory_format=fmt), t.clone(memory_format=tfmt(fmt))
    assert rc.stride() == rt.stride()
    np.testing.assert_array_equal(rc.numpy(), rt.numpy())


def test_clone_grad_flows_back_in_input_layout():
    c, t = pair((2, 3, 4, 5))
    c = c.contiguous(memory_format=CL).requires_grad_()
    t = t.contiguous(memory_format=torch.channels_last).requires_grad_()
    (c.clone(memory_format=CF) * 3).sum().backward()
    (t.clone(memory_format=torch.contiguous_format) * 3).sum().backward()
    assert c.grad.stride() == t.grad.stride() == (60, 1, 15, 3)
    np.testing.assert_array_equal(c.grad.numpy(), t.grad.numpy())


# --------------------------------------------------------------------------- to()
TO_CALLS = [
    ("fmt", lambda lib, x, f: x.to(memory_format=f)),
    ("dtype", lambda lib, x, f: x.to(lib.float64, memory_format=f)),
    ("same_dtype", lambda lib, x, f: x.to(lib.float32, memory_format=f)),
    ("device", lambda lib, x, f: x.to("cpu", memory_format=f)),
    ("device_dtype", lambda lib, x, f: x.to("cpu", lib.float16, memory_format=f)),
    ("kw", lambda lib, x, f: x.to(device="cpu", dtype=lib.float64, memory_format=f)),
    ("other", lambda lib, x, f: x.to(lib.zeros(1, dtype=lib.float64), memory_format=f)),
    ("copy", lambda lib, x, f: x.to(lib.float32, copy=True, memory_format=f)),
    ("float", lambda lib, x, f: x.float(memory_format=f)),
    ("half", lambda lib, x, f: x.half(memory_format=f)),
    ("cpu", lambda lib, x, f: x.cpu(memory_format=f)),
]


@pytest.mark.parametrize(("name", "call"), TO_CALLS, ids=[n for n, _ in TO_CALLS])
@pytest.mark.parametrize("src", ["contig", "cl"])
@pytest.mark.parametrize("fmt", [CF, CL, PF], ids=["cf", "cl", "pf"])
def test_to_memory_format(name, call, src, fmt):
    c, t = pair((2, 3, 4, 5))
    if src == "cl":
        c, t = c.contiguous(memory_format=CL), t.contiguous(memory_format=torch.channels_last)
    rc, rt = call(ctorch, c, fmt), call(torch, t, tfmt(fmt))
    assert rc.stride() == rt.stride()
    assert (rc is c) == (rt is t)
    assert rc.dtype.is_floating_point and str(rc.dtype).split(".")[1] == str(rt.dtype).split(".")[1]
    np.testing.assert_array_equal(rc.float().numpy(), rt.float().numpy())


def test_to_memory_format_autograd():
    c, t = pair((2, 3, 4, 5))
    c.requires_grad_()
    t.requires_grad_()
    yc = c.to(ctorch.float64, memory_format=CL)
    yt = t.to(torch.float64, memory_format=torch.channels_last)
    assert yc.stride() == yt.stride() and yc.grad_fn.name() == yt.grad_fn.name()
    w = np.arange(120.0).reshape(2, 3, 4, 5)
    (yc * ctorch.from_numpy(w)).sum().backward()
    (yt * torch.from_numpy(w)).sum().backward()
    assert c.grad.stride() == t.grad.stride()
    np.testing.assert_array_equal(c.grad.numpy(), t.grad.numpy())


def test_type_as_keeps_default_behaviour():
    c, t = pair((2, 3, 4, 5))
    c, t = c.contiguous(memory_format=CL), t.contiguous(memory_format=torch.channels_last)
    rc = c.type_as(ctorch.zeros(1, dtype=ctorch.float64))
    rt = t.type_as(torch.zeros(1, dtype=torch.float64))
    assert rc.stride() == rt.stride()


# --------------------------------------------------------------------------- nn.Module.to
def test_module_to_channels_last():
    ctorch.manual_seed(0)
    m = ctorch.nn.Sequential(
        ctorch.nn.Conv2d(3, 4, 3), ctorch.nn.BatchNorm2d(4), ctorch.nn.Linear(5, 2)
    )
    tm = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Linear(5, 2)
    )
    tm.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
    w0 = m[0].weight
    assert m.to(memory_format=CL) is m
    tm.to(memory_format=torch.channels_last)
    assert m[0].weight is w0  # parameters keep their identity
    for (n, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters(), strict=True):
        assert p.stride() == tp.stride(), n
        np.testing.assert_array_equal(p.detach().numpy(), tp.detach().numpy())
    assert m[0].weight.stride() == (27, 1, 9, 3)
    # with a dtype too
    m.to(ctorch.float64, memory_format=CL)
    assert m[0].weight.dtype == ctorch.float64 and m[0].weight.stride() == (27, 1, 9, 3)


def test_module_to_channels_last_5d_like_torch():
    m, tm = ctorch.nn.Conv3d(3, 4, 3), torch.nn.Conv3d(3, 4, 3)
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        tm.to(memory_format=torch.channels_last)
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        m.to(memory_format=CL)
    m.to(memory_format=CL3)
    tm.to(memory_format=torch.channels_last_3d)
    assert m.weight.stride() == tm.weight.stride() == (81, 1, 27, 9, 3)


# --------------------------------------------------------------------------- views
def test_view_and_reshape_on_channels_last():
    c, t = pair((2, 3, 4, 5))
    c, t = c.contiguous(memory_format=CL), t.contiguous(memory_format=torch.channels_last)
    with pytest.raises(RuntimeError) as et:
        t.view(2, -1)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        c.view(2, -1)
    assert "view size is not compatible" in str(et.value)
    rc, rt = c.reshape(2, -1), t.reshape(2, -1)
    assert rc.stride() == rt.stride()
    np.testing.assert_array_equal(rc.numpy(), rt.numpy())
    # views that keep the NHWC memory walk are allowed: permute back and flatten H, W
    vc = c.permute(0, 2, 3, 1).view(2, 20, 3)
    vt = t.permute(0, 2, 3, 1).view(2, 20, 3)
    assert vc.stride() == vt.stride()
    np.testing.assert_array_equal(vc.numpy(), vt.numpy())


def test_numpy_shares_memory_with_strides():
    c = ctorch.randn(2, 3, 4, 5).contiguous(memory_format=CL)
    n = c.numpy()
    assert n.strides == tuple(s * 4 for s in c.stride())
    n[0, 1, 2, 3] = 42.0
    assert c[0, 1, 2, 3].item() == 42.0


# --------------------------------------------------------------------------- save / load
def test_save_channels_last_to_torch_and_back():
    c = ctorch.randn(2, 3, 4, 5).contiguous(memory_format=CL)
    buf = io.BytesIO()
    ctorch.save({"x": c}, buf)
    buf.seek(0)
    t = torch.load(buf)["x"]
    assert t.stride() == c.stride()
    np.testing.assert_array_equal(t.numpy(), c.numpy())
    t2 = torch.randn(2, 3, 4, 5).contiguous(memory_format=torch.channels_last)
    buf = io.BytesIO()
    torch.save(t2, buf)
    buf.seek(0)
    c2 = ctorch.load(buf)
    assert c2.stride() == t2.stride()
    np.testing.assert_array_equal(c2.numpy(), t2.numpy())


# --------------------------------------------------------------------------- ops
def _cl_pair(shape, seed=0, dtype=np.float32):
    c, t = pair(shape, seed, dtype)
    return c.contiguous(memory_format=CL), t.contiguous(memory_format=torch.channels_last)


OPS = [
    ("conv2d", lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1), True),
    (
        "conv2d_s2_g",
        lambda lib, x, w: lib.nn.functional.conv2d(x, w[:, :1], stride=2, groups=3),
        True,
    ),
    (
        "conv_transpose2d",
        lambda lib, x, w: lib.nn.functional.conv_transpose2d(x, w.transpose(0, 1)),
        True,
    ),
    ("max_pool2d", lambda lib, x, w: lib.nn.functional.max_pool2d(x, 2), True),
    (
        "max_pool2d_idx",
        lambda lib, x, w: lib.nn.functional.max_pool2d(x, 3, 2, 1, return_indices=True)[1],
        True,
    ),
    ("avg_pool2d", lambda lib, x, w: lib.nn.functional.avg_pool2d(x, 3, 2, 1), True),
    (
        "adaptive_avg_pool2d",
        lambda lib, x, w: lib.nn.functional.adaptive_avg_pool2d(x, (3, 4)),
        True,
    ),
    (
        "adaptive_max_pool2d",
        lambda lib, x, w: lib.nn.functional.adaptive_max_pool2d(x, (3, 4)),
        True,
    ),
    (
        "batch_norm",
        lambda lib, x, w: lib.nn.functional.batch_norm(x, None, None, training=True),
        True,
    ),
    (
        "batch_norm_eval",
        lambda lib, x, w: lib.nn.functional.batch_norm(x, lib.zeros(3) + 0.5, lib.ones(3) * 2),
        True,
    ),
    ("interp_nearest", lambda lib, x, w: lib.nn.functional.interpolate(x, scale_factor=2), True),
    (
        "interp_bilinear",
        lambda lib, x, w: lib.nn.functional.interpolate(x, size=(9, 7), mode="bilinear"),
        True,
    ),
    ("relu", lambda lib, x, w: lib.relu(x), True),
    ("gelu", lambda lib, x, w: lib.nn.functional.gelu(x), True),
    ("add_scalar", lambda lib, x, w: x * 2 + 1, True),
    ("softmax1", lambda lib, x, w: lib.softmax(x, 1), False),
    ("log_softmax_last", lambda lib, x, w: lib.log_softmax(x, -1), False),
    ("sum_hw", lambda lib, x, w: x.sum((2, 3)), False),
    ("mean_c", lambda lib, x, w: x.mean(1), False),
    ("layer_norm", lambda lib, x, w: lib.nn.functional.layer_norm(x, (6, 7)), False),
    ("group_norm", lambda lib, x, w: lib.nn.functional.group_norm(x, 3), True),
    (
        "linear_last",
        lambda lib, x, w: lib.nn.functional.linear(x, w[0, 0, :, :].repeat(1, 3)[:, :7]),
        False,
    ),
    ("matmul", lambda lib, x, w: x @ x.transpose(2, 3), False),
    ("flatten", lambda lib, x, w: lib.flatten(x, 1), False),
    ("cat", lambda lib, x, w: lib.cat([x, x], 1), True),
    ("pad", lambda lib, x, w: lib.nn.functional.pad(x, (1, 2, 0, 1)), True),
    ("dropout_eval", lambda lib, x, w: lib.nn.functional.dropout(x, 0.5, training=False), True),
    (
        "pixel_shuffle",
        lambda lib, x, w: lib.nn.functional.pixel_shuffle(
            lib.cat([x, x, x, x], 0).reshape(2, 12, 6, 7), 2
        ),
        False,
    ),
]


@pytest.mark.parametrize(("name", "fn", "check_strides"), OPS, ids=[o[0] for o in OPS])
def test_ops_on_channels_last_match_torch(name, fn, check_strides):
    c, t = _cl_pair((2, 3, 6, 7))
    wc, wt = pair((3, 3, 3, 3), seed=1)
    rc, rt = fn(ctorch, c, wc), fn(torch, t, wt)
    np.testing.assert_allclose(rc.numpy(), rt.numpy(), rtol=2e-5, atol=2e-5)
    if check_strides:
        assert rc.stride() == rt.stride(), name


def test_conv_weight_channels_last_gives_channels_last_output():
    c, t = pair((2, 3, 6, 7))
    wc, wt = pair((4, 3, 3, 3), seed=1)
    wc, wt = wc.contiguous(memory_format=CL), wt.contiguous(memory_format=torch.channels_last)
    rc, rt = F.conv2d(c, wc), TF.conv2d(t, wt)
    assert rc.stride() == rt.stride()
    np.testing.assert_allclose(rc.numpy(), rt.numpy(), rtol=2e-5, atol=2e-5)


def test_contiguous_input_keeps_contiguous_outputs():
    c, t = pair((2, 3, 6, 7))
    wc, wt = pair((4, 3, 3, 3), seed=1)
    for fc, ft in (
        (lambda x: F.conv2d(x, wc), lambda x: TF.conv2d(x, wt)),
        (lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2)),
        (
            lambda x: F.batch_norm(x, None, None, training=True),
            lambda x: TF.batch_norm(x, None, None, training=True),
        ),
        (lambda x: F.interpolate(x, scale_factor=2), lambda x: TF.interpolate(x, scale_factor=2)),
    ):
        assert fc(c).stride() == ft(t).stride()
        assert fc(c).is_contiguous()


def test_conv_block_gradients_on_channels_last_leaf():
    xc, xt = _cl_pair((2, 3, 6, 7), dtype=np.float64)
    wc, wt = pair((4, 3, 3, 3), seed=1, dtype=np.float64)
    wc, wt = wc.contiguous(memory_format=CL), wt.contiguous(memory_format=torch.channels_last)
    for v in (xc, xt, wc, wt):
        v.requires_grad_()

    def block(lib, x, w):
        fn = lib.nn.functional
        y = fn.conv2d(x, w, padding=1)
        y = fn.batch_norm(y, None, None, training=True)
        y = fn.max_pool2d(fn.relu(y), 2)
        return (fn.adaptive_avg_pool2d(y, 1).flatten(1) ** 2).sum()

    block(ctorch, xc, wc).backward()
    block(torch, xt, wt).backward()
    for a, b in ((xc, xt), (wc, wt)):
        assert a.grad.stride() == b.grad.stride()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-10)


def test_conv2d_channels_last_gradcheck():
    xc, _ = _cl_pair((1, 2, 4, 4), dtype=np.float64)
    wc, _ = pair((2, 2, 3, 3), seed=2, dtype=np.float64)
    xc.requires_grad_()
    wc.requires_grad_()
    assert ctorch.autograd.gradcheck(lambda x, w: F.conv2d(x, w, padding=1), (xc, wc))


def test_leaf_grad_layout_non_dense_is_contiguous():
    c, t = pair((4, 6))
    c, t = c.t()[::2].detach().requires_grad_(), t.t()[::2].detach().requires_grad_()
    (c * 2).sum().backward()
    (t * 2).sum().backward()
    assert c.grad.stride() == t.grad.stride()


def test_memory_format_objects():
    assert repr(CL) == "ctorch.channels_last"
    assert isinstance(CL, ctorch.memory_format)
    import pickle

    assert pickle.loads(pickle.dumps(CL)) is CL
    # real torch's format objects are accepted
    c = ctorch.randn(2, 3, 4, 5).contiguous(memory_format=torch.channels_last)
    assert c.is_contiguous(memory_format=CL)
    with pytest.raises(TypeError, match="memory_format"):
        c.contiguous(memory_format="channels_last")


def test_convert_conv2d_weight_memory_format():
    m = ctorch.nn.Sequential(ctorch.nn.Conv2d(3, 4, 3), ctorch.nn.ReLU())
    tm = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
    ctorch.nn.utils.convert_conv2d_weight_memory_format(m, CL)
    torch.nn.utils.convert_conv2d_weight_memory_format(tm, torch.channels_last)
    assert m[0].weight.stride() == tm[0].weight.stride() == (27, 1, 9, 3)
    x = ctorch.randn(1, 3, 5, 5)
    assert m(x).stride() == tm(torch.from_numpy(x.numpy())).stride()


def test_resize_same_size_keeps_layout():
    c, t = _cl_pair((2, 3, 4, 5))
    assert c.resize_(2, 3, 4, 5).stride() == t.resize_(2, 3, 4, 5).stride()
    np.testing.assert_array_equal(c.numpy(), t.numpy())
    c, t = pair((2, 3, 4, 5))
    rc = c.resize_(2, 3, 4, 5, memory_format=CL)
    rt = t.resize_(2, 3, 4, 5, memory_format=torch.channels_last)
    assert rc.stride() == rt.stride()
    # re-strided over the same storage: the memory holds the same values in the same order
    np.testing.assert_array_equal(
        rc.permute(0, 2, 3, 1).reshape(-1).numpy(), rt.permute(0, 2, 3, 1).reshape(-1).numpy()
    )


OPS3D = [
    ("conv3d", lambda lib, x, w: lib.nn.functional.conv3d(x, w, padding=1)),
    (
        "conv_transpose3d",
        lambda lib, x, w: lib.nn.functional.conv_transpose3d(x, w.transpose(0, 1)),
    ),
    ("batch_norm3d", lambda lib, x, w: lib.nn.functional.batch_norm(x, None, None, training=True)),
    ("max_pool3d", lambda lib, x, w: lib.nn.functional.max_pool3d(x, 2)),
    ("avg_pool3d", lambda lib, x, w: lib.nn.functional.avg_pool3d(x, 2)),
    (
        "trilinear",
        lambda lib, x, w: lib.nn.functional.interpolate(x, scale_factor=2, mode="trilinear"),
    ),
]


@pytest.mark.parametrize(("name", "fn"), OPS3D, ids=[o[0] for o in OPS3D])
def test_ops_on_channels_last_3d_match_torch(name, fn):
    c, t = pair((2, 4, 3, 5, 6))
    c = c.contiguous(memory_format=CL3).requires_grad_()
    t = t.contiguous(memory_format=torch.channels_last_3d).requires_grad_()
    wc, wt = pair((3, 4, 3, 3, 3), seed=1)
    rc, rt = fn(ctorch, c, wc), fn(torch, t, wt)
    np.testing.assert_allclose(rc.detach().numpy(), rt.detach().numpy(), rtol=1e-4, atol=1e-4)
    # a size-1 dim's stride is free (avg_pool3d's depth of 1 here): compared on the others
    sc, st = rc.stride(), rt.stride()
    big = [i for i, n in enumerate(rt.shape) if n > 1]
    assert [sc[i] for i in big] == [st[i] for i in big]
    g = np.random.default_rng(5).standard_normal(rt.shape).astype(np.float32)
    rc.backward(ctorch.from_numpy(g))
    rt.backward(torch.from_numpy(g))
    assert c.grad.stride() == t.grad.stride()
    np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_cat_mixed_formats_is_contiguous_like_torch():
    c, t = pair((2, 3, 4, 5))
    cc, tc = c.contiguous(memory_format=CL), t.contiguous(memory_format=torch.channels_last)
    for xs_c, xs_t in (([cc, c], [tc, t]), ([c, cc], [t, tc]), ([cc, cc], [tc, tc])):
        for d in (0, 1, 3):
            rc, rt = ctorch.cat(xs_c, d), torch.cat(xs_t, d)
            assert rc.stride() == rt.stride()
            np.testing.assert_array_equal(rc.numpy(), rt.numpy())


def test_adaptive_max_pool2d_indices_channels_last():
    c, t = _cl_pair((2, 3, 6, 7))
    for size in ((3, 4), (2, 7)):
        yc, ic = F.adaptive_max_pool2d(c, size, return_indices=True)
        yt, it = TF.adaptive_max_pool2d(t, size, return_indices=True)
        assert yc.stride() == yt.stride() and ic.stride() == it.stride()
        np.testing.assert_array_equal(ic.numpy(), it.numpy())


def test_contiguous_takes_the_format_by_keyword_only():
    x = ctorch.randn(2, 3, 4, 5)
    with pytest.raises(TypeError, match="positional argument"):  # torch: TypeError too
        x.contiguous(ctorch.channels_last)
    assert x.contiguous(memory_format=ctorch.channels_last).stride() == (60, 1, 15, 3)


def test_binary_op_of_mixed_layouts_takes_the_first_operands_layout():
    """torch's TensorIterator: the first operand decides when the layouts differ
    (channels_last + contiguous is channels_last, contiguous + channels_last is contiguous);
    NumPy's order "K" made both C order."""
    for shape in ((2, 3, 4, 5), (8, 16, 32, 32)):  # the ufunc path and the kernel-size path
        a = ctorch.randn(*shape).contiguous(memory_format=ctorch.channels_last)
        b = ctorch.randn(*shape)
        for r in (a + b, a * b, a - b.double(), ctorch.maximum(a, b)):
            assert r.is_contiguous(memory_format=ctorch.channels_last) and not r.is_contiguous()
        assert (b + a).is_contiguous()
        np.testing.assert_array_equal((a + b).numpy(), a.numpy() + b.numpy())
    if torch is not None:
        ta = torch.randn(2, 3, 4, 5).contiguous(memory_format=torch.channels_last)
        tb = torch.randn(2, 3, 4, 5)
        assert (ta + tb).stride() == (
            ctorch.from_numpy(ta.numpy()) + ctorch.from_numpy(tb.numpy())
        ).stride()
