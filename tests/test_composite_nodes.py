"""Ops that were composites of several graph nodes and are now one node with torch's name and
backward: squeeze's three overloads, scatter with a value, scatter_add, kthvalue, addcmul and
addcdiv (including complex inputs and the in-place forms)."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")


def _node(t):
    return type(t.grad_fn).__name__


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.squeeze(),
        lambda x: x.squeeze(0),
        lambda x: x.squeeze(1),
        lambda x: x.squeeze((0, 2)),
        lambda x: x.squeeze((1,)),
        lambda x: x.scatter(1, x.new_zeros(1, 1, 1).long(), 2.0),
        lambda x: x.scatter(1, x.new_zeros(1, 1, 1).long(), x[:, :1] * 3),
        lambda x: x.scatter_add(1, x.new_zeros(1, 2, 1).long(), x[:, :2] * 3),
        lambda x: x.kthvalue(2, 1)[0],
        lambda x: x.kthvalue(1, 1, keepdim=True)[0],
        lambda x: x.addcmul(x, x * 2, value=0.5),
        lambda x: x.addcdiv(x, x * 2 + 3, value=0.5),
    ],
)
def test_node_name_value_and_gradient_match_torch(call):
    a = np.random.default_rng(0).random((1, 3, 1)) + 0.5
    res = []
    for L in (ctorch, torch):
        x = L.tensor(a, requires_grad=True)
        y = call(x * 1)
        (y * L.arange(1.0, y.numel() + 1, dtype=y.dtype).reshape(tuple(y.shape))).sum().backward()
        res.append((_node(y), y.detach().numpy(), x.grad.numpy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)
    np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-12)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_kthvalue_with_nan_and_gradients(dim, keepdim):
    a = np.random.default_rng(1).random((3, 5))
    a[1, 2] = np.nan  # NaN sorts last, as torch
    res = []
    for L in (ctorch, torch):
        x = L.tensor(a, requires_grad=True)
        v, i = x.kthvalue(2, dim, keepdim=keepdim)
        (v * L.arange(float(v.numel()), dtype=v.dtype).reshape(tuple(v.shape))).sum().backward()
        res.append((v.detach().numpy(), i.numpy(), x.grad.numpy(), _node(v)))
    (cv, ci, cg, cn), (tv, ti, tg, tn) = res
    np.testing.assert_allclose(cv, tv, equal_nan=True)
    np.testing.assert_array_equal(ci, ti)  # distinct values: torch's index is the only one
    np.testing.assert_allclose(cg, tg)
    assert cn == tn == "KthvalueBackward0"


def test_kthvalue_0d_and_finite_differences():
    for L in (ctorch, torch):
        x = L.tensor(2.0, requires_grad=True)
        v, i = x.kthvalue(1)
        v.backward()
        assert (v.item(), i.item(), x.grad.item()) == (2.0, 0, 1.0)
    x = ctorch.tensor(np.random.default_rng(2).random((4, 3)), requires_grad=True)
    assert gradcheck(lambda t: t.kthvalue(2, 0)[0], (x,))
    assert gradgradcheck(lambda t: t.kthvalue(3, 1, True)[0], (x,))
    with pytest.raises(RuntimeError, match="out of range"):
        x.kthvalue(4, 1)


CASES = [((3, 4), (3, 4), (3, 4), 1), ((3, 1), (1, 4), (3, 4), 0.5), ((4,), (3, 4), (1,), -2)]


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("shapes", CASES)
@pytest.mark.parametrize("op", ["addcmul", "addcdiv"])
def test_addc_ops_match_torch(op, shapes, dtype):
    rng = np.random.default_rng(4)
    *sh, value = shapes
    arrs = [rng.random(s) + 0.5 for s in sh]
    if dtype is np.complex128:
        arrs = [a + 1j * rng.random(a.shape) for a in arrs]
    res = []
    for L in (ctorch, torch):
        ts = [L.tensor(a, requires_grad=True) for a in arrs]
        out = getattr(L, op)(*ts, value=value)
        w = np.full(tuple(out.shape), 0.7) + (0.1j if dtype is np.complex128 else 0)
        s = (out * L.tensor(w)).sum()
        (s.abs() if dtype is np.complex128 else s).backward()
        res.append([out.detach().numpy(), *(t.grad.numpy() for t in ts), _node(out)])
    assert (
        res[0][-1] == res[1][-1] == ("AddcmulBackward0" if op == "addcmul" else "AddcdivBackward0")
    )
    for c, t in zip(res[0][:-1], res[1][:-1], strict=True):
        np.testing.assert_allclose(c, t, rtol=1e-12)


@pytest.mark.parametrize("op", ["addcmul", "addcdiv"])
def test_addc_ops_finite_differences_and_no_grad(op):
    rng = np.random.default_rng(5)
    xs = tuple(ctorch.tensor(rng.random((3, 4)) + 0.5, requires_grad=True) for _ in range(3))
    f = getattr(ctorch, op)
    assert gradcheck(lambda a, b, c: f(a, b, c, value=0.3), xs)
    assert gradgradcheck(lambda a, b, c: f(a, b, c, value=0.3), xs)
    with ctorch.no_grad():
        assert f(*xs).grad_fn is None
    y = xs[0] * 1
    getattr(y, op + "_")(xs[1], xs[2], value=2)
    assert _node(y) == ("AddcmulBackward0" if op == "addcmul" else "AddcdivBackward0")
    ints = [ctorch.ones(2, dtype=ctorch.int64)] * 3
    if op == "addcmul":
        assert ctorch.addcmul(*ints, value=2).tolist() == [3, 3]
    else:
        with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
            ctorch.addcdiv(*ints)


# ------------------------------------------------------------------ group_norm, glu
@pytest.mark.parametrize("affine", ["none", "weight", "both"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "shape, groups",
    [((2, 6, 5), 3), ((4, 4, 3, 3), 2), ((3, 4), 4), ((2, 6, 2, 2, 2), 1), ((0, 4, 3), 2)],
)
def test_group_norm_one_node_matches_torch(shape, groups, dtype, affine):
    rng = np.random.default_rng(8)
    a = rng.standard_normal(shape).astype(dtype)
    a.flat[:1] = 40.0  # an outlier in the first group
    c = shape[1]
    w, b = rng.random(c).astype(dtype) + 0.5, rng.random(c).astype(dtype)
    g = np.linspace(-1, 2, int(np.prod(shape))).reshape(shape).astype(dtype)
    res = []
    for L in (ctorch, torch):
        x = L.tensor(a, requires_grad=True)
        W = L.tensor(w, requires_grad=True) if affine != "none" else None
        B = L.tensor(b, requires_grad=True) if affine == "both" else None
        y = L.nn.functional.group_norm(x, groups, W, B)
        y.backward(L.tensor(g))
        res.append(
            [_node(y), y.detach().numpy(), x.grad.numpy()]
            + [t.grad.numpy() for t in (W, B) if t is not None]
        )
    assert res[0][0] == res[1][0] == "NativeGroupNormBackward0"
    # float32: torch's gradient of a one-element group is rounding noise up to ~4e-4 (exactly 0)
    tol = 1e-10 if dtype is np.float64 else 1e-3
    for c_, t_ in zip(res[0][1:], res[1][1:], strict=True):
        np.testing.assert_allclose(c_, t_, rtol=tol, atol=tol)


def test_group_norm_finite_differences_half_and_errors():
    rng = np.random.default_rng(9)
    x = ctorch.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    w = ctorch.tensor(rng.random(4) + 0.5, requires_grad=True)
    b = ctorch.tensor(rng.random(4), requires_grad=True)

    def f(x, w, b):
        return ctorch.nn.functional.group_norm(x, 2, w, b)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))
    for dt in ("bfloat16", "float16"):
        xh = x.detach().to(getattr(ctorch, dt)).requires_grad_()
        y = ctorch.nn.functional.group_norm(xh, 2)
        y.sum().backward()
        assert y.dtype == xh.grad.dtype == getattr(ctorch, dt)
        ty = torch.nn.functional.group_norm(
            torch.tensor(x.detach().numpy()).to(getattr(torch, dt)), 2
        )
        np.testing.assert_allclose(y.detach().float().numpy(), ty.float().numpy(), atol=2e-2)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        ctorch.nn.functional.group_norm(ctorch.ones(2, 4, 3), 3)
    with pytest.raises(RuntimeError, match="Expected weight to be a vector of size equal"):
        ctorch.nn.functional.group_norm(ctorch.ones(2, 4, 3), 2, ctorch.ones(3))
    with pytest.raises(NotImplementedError, match="GroupNormKernelImpl"):
        ctorch.nn.functional.group_norm(ctorch.ones(2, 4, 3, dtype=ctorch.int64), 2)


@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_glu_one_node_matches_torch(dim):
    a = np.random.default_rng(10).random((4, 6, 2))
    a[0, 0, 0], a[1, 4, 1] = np.nan, np.inf
    res = []
    for L in (ctorch, torch):
        x = L.tensor(a, requires_grad=True)
        y = L.nn.functional.glu(x, dim)
        y.backward(L.ones_like(y) * L.arange(float(y.shape[-1]), dtype=y.dtype))
        res.append((_node(y), y.detach().numpy(), x.grad.numpy()))
    assert res[0][0] == res[1][0] == "GluBackward0"
    np.testing.assert_allclose(res[0][1], res[1][1], equal_nan=True)
    np.testing.assert_allclose(res[0][2], res[1][2], equal_nan=True)


def test_glu_finite_differences_and_errors():
    x = ctorch.tensor(np.random.default_rng(11).random((4, 6)), requires_grad=True)
    assert gradcheck(lambda t: ctorch.nn.functional.glu(t, 1), (x,))
    assert gradgradcheck(lambda t: ctorch.nn.functional.glu(t, 0), (x,))
    with pytest.raises(
        RuntimeError, match="Halving dimension must be even, but dimension 1 is size 3"
    ):
        ctorch.nn.functional.glu(ctorch.ones(2, 3), 1)
    with pytest.raises(RuntimeError, match="glu does not support scalars"):
        ctorch.nn.functional.glu(ctorch.tensor(1.0))
    with pytest.raises(IndexError):
        ctorch.nn.functional.glu(ctorch.ones(2, 4), 2)


@pytest.mark.parametrize(
    "n, c, length, oc, k, stride, pad, dil, groups, bias",
    [
        (2, 4, 10, 6, 3, 1, 1, 1, 1, True),
        (1, 4, 9, 4, 3, 2, 0, 2, 2, False),
        (3, 6, 7, 6, 1, 1, 0, 1, 6, True),
        (2, 3, 5, 2, 5, 1, 2, 1, 1, True),
        (0, 3, 5, 2, 3, 1, 0, 1, 1, True),
    ],
)
def test_conv1d_is_one_convolution_node(n, c, length, oc, k, stride, pad, dil, groups, bias):
    rng = np.random.default_rng(12)
    a = rng.standard_normal((n, c, length))
    w = rng.standard_normal((oc, c // groups, k))
    b = rng.standard_normal(oc)
    res = []
    for L in (ctorch, torch):
        x = L.tensor(a, requires_grad=True)
        W = L.tensor(w, requires_grad=True)
        B = L.tensor(b, requires_grad=True) if bias else None
        y = L.nn.functional.conv1d(x, W, B, stride, pad, dil, groups)
        y.backward(L.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape))))
        res.append(
            [_node(y), y.detach().numpy(), x.grad.numpy(), W.grad.numpy()]
            + ([B.grad.numpy()] if bias else [])
        )
    assert res[0][0] == res[1][0] == "ConvolutionBackward0"
    for c_, t_ in zip(res[0][1:], res[1][1:], strict=True):
        np.testing.assert_allclose(c_, t_, rtol=1e-10, atol=1e-12)


def test_conv1d_finite_differences():
    rng = np.random.default_rng(13)
    x = ctorch.tensor(rng.standard_normal((2, 4, 8)), requires_grad=True)
    w = ctorch.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    b = ctorch.tensor(rng.standard_normal(4), requires_grad=True)

    def f(x, w, b):
        return ctorch.nn.functional.conv1d(x, w, b, 2, 1, 1, 2)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


# ------------------------------------------------------------------ names of resampling nodes
def _f(L):
    return L.nn.functional


RESAMPLE = {
    "nearest2d": lambda L, x: _f(L).interpolate(x, scale_factor=2),
    "nearest_exact": lambda L, x: _f(L).interpolate(x, scale_factor=2, mode="nearest-exact"),
    "bilinear": lambda L, x: _f(L).interpolate(x, scale_factor=2, mode="bilinear"),
    "bilinear_ac": lambda L, x: _f(L).interpolate(
        x, size=(7, 7), mode="bilinear", align_corners=True
    ),
    "bilinear_aa": lambda L, x: _f(L).interpolate(
        x, scale_factor=0.5, mode="bilinear", antialias=True
    ),
    "bicubic": lambda L, x: _f(L).interpolate(x, scale_factor=2, mode="bicubic"),
    "linear1d": lambda L, x: _f(L).interpolate(x[0], scale_factor=2, mode="linear"),
    "nearest1d": lambda L, x: _f(L).interpolate(x[0], scale_factor=2),
    "trilinear": lambda L, x: _f(L).interpolate(x[None], scale_factor=2, mode="trilinear"),
    "nearest3d": lambda L, x: _f(L).interpolate(x[None], scale_factor=2),
    "reflect2d": lambda L, x: _f(L).pad(x, (1, 1, 1, 1), mode="reflect"),
    "reflect1d": lambda L, x: _f(L).pad(x[0], (1, 2), mode="reflect"),
    "replicate3d": lambda L, x: _f(L).pad(x[None], (1, 1, 1, 1, 1, 1), mode="replicate"),
    "triu": lambda L, x: x.triu(1),
    "tril": lambda L, x: x.tril(-1),
    "diag_embed": lambda L, x: L.diag_embed(x),
    "erfinv": lambda L, x: (x * 0.5).erfinv(),
}


@pytest.mark.parametrize("name", sorted(RESAMPLE))
def test_named_nodes_match_torch(name):
    a = np.random.default_rng(14).random((2, 3, 4, 4)) + 0.1
    res = []
    for L in (ctorch, torch):
        x = L.tensor(a, requires_grad=True)
        y = RESAMPLE[name](L, x)
        (y * L.arange(float(y.numel()), dtype=y.dtype).reshape(tuple(y.shape))).sum().backward()
        res.append((_node(y), y.detach().numpy(), x.grad.numpy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------ piecewise activations (table rows)
SPECIAL = [np.nan, -np.inf, np.inf, -0.5, 0.5, 0.0, -3.0, 3.0, -0.2, 2.9, -2.9, 0.75, -0.75]
ACTS = {
    "softshrink": lambda F, x: F.softshrink(x, 0.5),
    "hardshrink": lambda F, x: F.hardshrink(x, 0.5),
    "threshold": lambda F, x: F.threshold(x, 0.5, -1.0),
    "hardsigmoid": lambda F, x: F.hardsigmoid(x),
}


@pytest.mark.parametrize("n", [13, 40000])  # the NumPy path and the kernel path
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(ACTS))
def test_piecewise_activations_match_torch(name, dtype, n):
    # torch's reference always comes from a large tensor: its vectorized kernels give the
    # answers every element of a real tensor gets (its scalar tail loop differs at NaN and
    # -lambd for the shrinks), and ctorch gives them at every size
    a = np.resize(np.array(SPECIAL), n)
    res = []
    for L, arr in ((ctorch, a), (torch, np.resize(a, 40000))):
        x = L.tensor(arr, dtype=getattr(L, dtype), requires_grad=True)
        y = ACTS[name](L.nn.functional, x)
        y.sum().backward()
        res.append((_node(y), y.detach().numpy()[:n], x.grad.numpy()[:n]))
    (cn, cy, cg), (tn, ty, tg) = res
    assert cn == tn
    np.testing.assert_array_equal(cy, ty)
    real = ~np.isnan(ty)  # a NaN's sign bit is not specified (torch's comes out negative)
    np.testing.assert_array_equal(np.signbit(cy[real]), np.signbit(ty[real]))
    if name == "hardsigmoid" and dtype == "float64":
        # torch 2.13's float64 kernel scales by float32's 1/6 (0.1666666716...); ctorch's is
        # float64's 1/6
        np.testing.assert_allclose(cg, tg, rtol=1e-7)
        assert cg.max() == 1 / 6
    else:
        np.testing.assert_array_equal(cg, tg)


def test_piecewise_activations_int_inplace_and_errors():
    F = ctorch.nn.functional
    assert F.threshold(ctorch.tensor([1, 5, 3]), 2, -7).tolist() == [-7, 5, 3]
    x = ctorch.tensor([-1.0, 0.2, 3.0])
    assert F.threshold(x, 0.5, 9.0, inplace=True) is x and x.tolist() == [9.0, 9.0, 3.0]
    y = ctorch.tensor([-4.0, 0.0, 4.0])
    assert F.hardsigmoid(y, inplace=True) is y and y.tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(RuntimeError, match="lambda must be greater or equal to 0"):
        F.softshrink(ctorch.ones(2), -1.0)
    z = ctorch.tensor([-2.0, -0.3, 0.4, 1.7], dtype=ctorch.float64, requires_grad=True)
    for name in ACTS:
        assert gradcheck(lambda t, f=ACTS[name]: f(F, t), (z,))
        assert gradgradcheck(lambda t, f=ACTS[name]: f(F, t), (z,))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("fn", ["median", "nanmedian"])
def test_median_one_node_matches_torch(fn, dim, keepdim):
    if dim is None and keepdim:
        return  # no keepdim without a dim
    a = np.random.default_rng(15).random((4, 6))
    a[1, 2] = np.nan
    a[3, 1] = a[3, 4] = 0.5  # a tie
    # (an all-NaN slice is left out: torch's nanmedian index there is its selection
    # algorithm's leftover position, 0/2/3/5 for 3..7 elements; ctorch returns the first)
    res = []
    for L in (ctorch, torch):
        x = L.tensor(a, requires_grad=True)
        r = getattr(x, fn)() if dim is None else getattr(x, fn)(dim, keepdim=keepdim)
        v = r if dim is None else r.values
        (v * L.arange(1.0, v.numel() + 1, dtype=v.dtype).reshape(tuple(v.shape))).sum().backward()
        idx = None if dim is None else r.indices.numpy()
        res.append((_node(v), v.detach().numpy(), idx, x.grad.numpy()))
    (cn, cv, ci, cg), (tn, tv, ti, tg) = res
    assert cn == tn
    np.testing.assert_array_equal(cv, tv)
    if ci is not None:
        np.testing.assert_array_equal(ci, ti)
    np.testing.assert_array_equal(cg, tg)


def test_median_0d_and_finite_differences():
    for L in (ctorch, torch):
        x = L.tensor(3.0, requires_grad=True)
        v, i = x.median(0)
        v.backward()
        assert (v.item(), i.item(), x.grad.item(), _node(v)) == (3.0, 0, 1.0, "MedianBackward1")
        assert i.shape == ()
    x = ctorch.tensor(np.random.default_rng(16).random((4, 5)), requires_grad=True)
    assert gradcheck(lambda t: t.median(1)[0], (x,))
    assert gradgradcheck(lambda t: t.nanmedian(0, True)[0], (x,))


# ------------------------------------------------------------------ logcumsumexp
LCSE_CASES = [
    [0.0, 1000.0],  # the old max-shift composite gave -inf for the first element
    [1000.0, 0.0],
    [np.nan, 1.0],
    [np.inf, 1.0],  # was NaN
    [0.0, -np.inf, 2.0],
    [1.0, 2.0, 3.0, -5.0, 100.0],
]


@pytest.mark.parametrize("values", LCSE_CASES)
def test_logcumsumexp_values_and_gradients_match_torch(values):
    res = []
    for L in (ctorch, torch):
        x = L.tensor(values, requires_grad=True)
        y = x.logcumsumexp(0)
        y.backward(L.tensor(np.linspace(1, -2, len(values)), dtype=y.dtype))
        res.append((_node(y), y.detach().numpy(), x.grad.numpy()))
    assert res[0][0] == res[1][0] == "LogcumsumexpBackward0"
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-5, atol=1e-7, equal_nan=True)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logcumsumexp_random_and_double_backward(dtype, dim):
    rng = np.random.default_rng(17)
    a = rng.standard_normal((3, 5, 4)) * 5
    w = rng.standard_normal((3, 5, 4))
    res = []
    for L in (ctorch, torch):
        x = L.tensor(a, dtype=getattr(L, dtype), requires_grad=True)
        y = x.logcumsumexp(dim)
        y.backward(L.tensor(w, dtype=getattr(L, dtype)))
        res.append((y.detach().numpy(), x.grad.numpy()))
    tol = 1e-12 if dtype == "float64" else 2e-5
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=tol, atol=tol)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=tol, atol=tol)
    x = ctorch.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda t: t.logcumsumexp(1), (x,))
    assert gradgradcheck(lambda t: t.logcumsumexp(0), (x,))


def test_logcumsumexp_edges():
    # all -inf: the value is -inf as torch; the gradient is 0 (torch 2.13 gives NaN:
    # -inf - (-inf) in its formula)
    x = ctorch.full((3,), -np.inf, requires_grad=True)
    y = x.logcumsumexp(0)
    y.sum().backward()
    assert np.isneginf(y.detach().numpy()).all() and (x.grad.numpy() == 0).all()
    assert ctorch.tensor(2.0).logcumsumexp(0).item() == 2.0
    with pytest.raises(RuntimeError, match="logcumsumexp_out_cpu"):
        ctorch.tensor([1, 2]).logcumsumexp(0)


def test_logcumsumexp_nan_gradient_propagates():
    # torch 2.13 splits g by sign and a NaN falls out of both halves: its gradient here is
    # finite, hiding the NaN. ctorch passes it on to every position at or before it.
    x = ctorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.logcumsumexp(0).backward(ctorch.tensor([1.0, np.nan, 2.0]))
    g = x.grad.numpy()
    assert np.isnan(g[:2]).all() and np.isfinite(g[2])
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tx.logcumsumexp(0).backward(torch.tensor([1.0, np.nan, 2.0]))
    np.testing.assert_allclose(g[2], tx.grad.numpy()[2], rtol=1e-6)


# ------------------------------------------------------------------ logit, nan_to_num, fmod, remainder
LOGIT_X = np.array([0.0, 0.3, 1.0, 1.2, -0.1, np.nan, 0.9])
MOD_A = np.array([5.0, -5.0, 3.5, -7.25, 0.0])
MOD_B = np.array([3.0, 3.0, -2.0, -2.0, 1.5])
POINTWISE = {
    "logit": (lambda L, x: L.logit(x), [LOGIT_X]),
    "logit_eps": (lambda L, x: L.logit(x, 0.2), [LOGIT_X]),
    "nan_to_num": (lambda L, x: x.nan_to_num(), [np.array([np.nan, np.inf, -np.inf, 1.0])]),
    "nan_to_num_args": (
        lambda L, x: L.nan_to_num(x, 1.0, 2.0, -3.0),
        [np.array([np.nan, np.inf, -np.inf, 1.0])],
    ),
    "fmod": (lambda L, a, b: L.fmod(a, b), [MOD_A, MOD_B]),
    "fmod_scalar": (lambda L, a: L.fmod(a, 2.0), [MOD_A]),
    "fmod_broadcast": (lambda L, a, b: a.fmod(b), [MOD_A, MOD_B.reshape(5, 1)]),
    "remainder": (lambda L, a, b: L.remainder(a, b), [MOD_A, MOD_B]),
    "remainder_scalar": (lambda L, a: L.remainder(a, 2.0), [MOD_A]),
    "remainder_broadcast": (lambda L, a, b: a.remainder(b[:1]), [MOD_A, MOD_B]),
}


@pytest.mark.parametrize("name", sorted(POINTWISE))
def test_pointwise_nodes_match_torch(name):
    f, arrays = POINTWISE[name]
    res = []
    for L in (ctorch, torch):
        ts = [L.tensor(a, requires_grad=True) for a in arrays]
        y = f(L, *ts)
        y.backward(L.ones_like(y))
        res.append((_node(y), y.detach().numpy(), [t.grad.numpy() for t in ts]))
    assert res[0][0] == res[1][0]
    np.testing.assert_allclose(res[0][1], res[1][1], equal_nan=True)
    for c, t in zip(res[0][2], res[1][2], strict=True):
        np.testing.assert_allclose(c, t, equal_nan=True)


def test_pointwise_nodes_finite_differences_and_dtypes():
    rng = np.random.default_rng(18)
    x = ctorch.tensor(rng.random(5) * 0.8 + 0.1, requires_grad=True)
    y = ctorch.tensor(rng.random(5) + 1, requires_grad=True)
    assert gradcheck(lambda t: t.logit(), (x,))
    assert gradgradcheck(lambda t: t.logit(0.05), (x,))
    assert gradcheck(lambda a, b: ctorch.fmod(a * 7, b), (x, y))
    assert gradcheck(lambda a, b: ctorch.remainder(a * 7, b), (x, y))
    np.testing.assert_array_equal(
        ctorch.logit(ctorch.tensor([1, 2])).numpy(), torch.logit(torch.tensor([1, 2])).numpy()
    )
    a = ctorch.tensor([5, -5])
    assert ctorch.remainder(a, 3).tolist() == [2, 1] and ctorch.fmod(a, 3).tolist() == [2, -2]
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        ctorch.remainder(a, 0)


PRELU_X = np.array([[-1.0, 2.0, np.nan, 0.0], [-0.0, -3.0, 1.0, -2.0]])


@pytest.mark.parametrize(
    "weights, shape",
    [
        ([0.25], (2, 4)),
        ([0.25], (8,)),
        ([0.25], (2, 2, 2)),
        ([0.25, 0.5], (4, 2)),
        ([0.25, 0.5], (2, 2, 2)),
        ([0.25, 0.5], (2, 2, 1, 2)),
    ],
)
def test_prelu_one_node_matches_torch(weights, shape):
    res = []
    for L in (ctorch, torch):
        x = L.tensor(PRELU_X.reshape(shape), requires_grad=True)
        w = L.tensor(weights, dtype=L.float64, requires_grad=True)
        y = L.nn.functional.prelu(x, w)
        y.backward(L.arange(float(y.numel()), dtype=L.float64).reshape(tuple(y.shape)))
        res.append((_node(y), y.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    assert res[0][0] == res[1][0] == "PreluKernelBackward0"
    for c, t in zip(res[0][1:], res[1][1:], strict=True):
        np.testing.assert_allclose(c, t, equal_nan=True)


def test_prelu_module_finite_differences_and_errors():
    m = ctorch.nn.PReLU(3)
    y = m(ctorch.randn(2, 3, 4))
    y.sum().backward()
    assert _node(y) == "PreluKernelBackward0" and m.weight.grad.shape == (3,)
    rng = np.random.default_rng(19)
    x = ctorch.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    w = ctorch.tensor(rng.random(3), requires_grad=True)
    assert gradcheck(ctorch.nn.functional.prelu, (x, w))
    assert gradgradcheck(ctorch.nn.functional.prelu, (x, w))
    assert ctorch.nn.functional.prelu(ctorch.tensor(-2.0), ctorch.tensor([0.25])).item() == -0.5
    with pytest.raises(RuntimeError, match="Type promoting not supported. Got Double and Float"):
        ctorch.nn.functional.prelu(x, w.float())
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        ctorch.nn.functional.prelu(x, ctorch.ones(2, dtype=ctorch.float64))


def test_conv_transpose1d_errors_name_the_1d_shapes():
    for L in (ctorch, torch):
        with pytest.raises(
            RuntimeError, match=r"weight of size \[3, 2, 2\], expected input\[3, 4, 4\]"
        ):
            L.nn.functional.conv_transpose1d(L.ones(3, 4, 4), L.ones(3, 2, 2))
        with pytest.raises(
            RuntimeError, match="Expected 2D \\(unbatched\\) or 3D \\(batched\\) input"
        ):
            L.nn.functional.conv_transpose1d(L.ones(2, 3, 4, 4), L.ones(3, 2, 2))


INT_REFUSED = "elu selu celu gelu silu mish softplus logsigmoid hardswish hardsigmoid softshrink hardshrink leaky_relu glu softmax log_softmax softmin".split()


@pytest.mark.parametrize("name", INT_REFUSED)
def test_activations_refuse_integers_as_torch(name):
    msgs = []
    for L in (ctorch, torch):
        f = getattr(L.nn.functional, name)
        x = L.tensor([[-2, 1], [3, -4]])
        with pytest.raises(NotImplementedError) as e:
            f(x, 1) if name in ("glu", "softmax", "log_softmax", "softmin") else f(x)
        msgs.append(str(e.value).splitlines()[0])
    assert msgs[0] == msgs[1]


def test_integer_activations_that_torch_allows():
    x = ctorch.tensor([[-2, 1], [3, -4]])
    F = ctorch.nn.functional
    assert F.relu(x).dtype == ctorch.int64 and F.hardtanh(x).dtype == ctorch.int64
    assert F.softmax(x, 1, dtype=ctorch.float64).dtype == ctorch.float64


INT_REFUSED_OPS = {
    "frac": lambda L, x: x.frac(),
    "hypot": lambda L, x: L.hypot(x, x),
    "logaddexp": lambda L, x: L.logaddexp(x, x),
    "logaddexp2": lambda L, x: L.logaddexp2(x, x),
    "nanmean": lambda L, x: x.nanmean(),
    "mse_loss": lambda L, x: L.nn.functional.mse_loss(x, x),
    "layer_norm": lambda L, x: L.nn.functional.layer_norm(x, (2,)),
    "dropout": lambda L, x: L.nn.functional.dropout(x, 0.5),
    "lerp": lambda L, x: L.lerp(x, x, 0.5),
    "lerp_tensor": lambda L, x: L.lerp(x, x, x),
    "lerp_": lambda L, x: x.lerp_(x, 0.5),
}


@pytest.mark.parametrize("name", sorted(INT_REFUSED_OPS))
def test_ops_refuse_integers_as_torch(name):
    errs = []
    for L in (ctorch, torch):
        with pytest.raises(RuntimeError) as e:  # NotImplementedError is a RuntimeError
            INT_REFUSED_OPS[name](L, L.tensor([[1, 2], [3, 4]]))
        errs.append((type(e.value), str(e.value).splitlines()[0]))
    assert errs[0] == errs[1]
    x = ctorch.tensor([[1, 2], [3, 4]])  # still fine: no dropout, or exp on integers
    assert ctorch.nn.functional.dropout(x, 0.0) is x and x.exp().dtype == ctorch.float32


# ------------------------------------------------------------------ pixel shuffle, masked_select, take
@pytest.mark.parametrize(
    "op, r, shape",
    [
        ("pixel_shuffle", 2, (2, 8, 3, 3)),
        ("pixel_shuffle", 2, (8, 3, 3)),
        ("pixel_shuffle", 1, (3, 4, 4)),
        ("pixel_shuffle", 2, (2, 2, 8, 3, 3)),
        ("pixel_unshuffle", 2, (2, 2, 6, 6)),
        ("pixel_unshuffle", 3, (1, 6, 3)),
    ],
)
def test_pixel_shuffle_one_node(op, r, shape):
    a = np.random.default_rng(20).random(shape)
    res = []
    for L in (ctorch, torch):
        x = L.tensor(a, requires_grad=True)
        y = getattr(L.nn.functional, op)(x, r)
        y.backward(L.arange(float(y.numel()), dtype=y.dtype).reshape(tuple(y.shape)))
        res.append((_node(y), y.detach().numpy(), x.grad.numpy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_array_equal(res[0][1], res[1][1])
    np.testing.assert_array_equal(res[0][2], res[1][2])


@pytest.mark.parametrize(
    "xs, ms",
    [
        ((3, 4), (3, 4)),
        ((3, 4), (4,)),
        ((4,), (3, 4)),
        ((1, 4), (3, 1)),
        ((), (3,)),
        ((0, 3), (0, 3)),
    ],
)
def test_masked_select_one_node_with_broadcasting(xs, ms):
    rng = np.random.default_rng(21)
    a, m = rng.random(xs), rng.random(ms) > 0.4
    res = []
    for L in (ctorch, torch):
        x = L.tensor(a, requires_grad=True)
        y = x.masked_select(L.tensor(m))
        y.backward(L.arange(float(y.numel()), dtype=y.dtype))
        res.append((_node(y), y.detach().numpy(), x.grad.numpy()))
    assert res[0][0] == res[1][0] == "MaskedSelectBackward0"
    np.testing.assert_array_equal(res[0][1], res[1][1])
    np.testing.assert_array_equal(res[0][2], res[1][2])


@pytest.mark.parametrize("idx", [[[0, -1], [2, 1]], [0, 0, 3], 5, [[5]]])
def test_take_one_node(idx):
    res = []
    for L in (ctorch, torch):
        x = L.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        y = x.take(L.tensor(idx))
        y.backward(L.ones_like(y) * 2)
        res.append((_node(y), y.detach().numpy(), x.grad.numpy()))
    assert res[0][0] == res[1][0] == "TakeBackward0"
    np.testing.assert_array_equal(res[0][1], res[1][1])
    np.testing.assert_array_equal(res[0][2], res[1][2])  # repeated picks add up


def test_masked_select_take_double_backward_and_errors():
    x = ctorch.tensor(np.random.default_rng(22).random((3, 4)), requires_grad=True)
    m = ctorch.tensor(np.array([True, False, True, True]))
    assert gradgradcheck(lambda t: t.masked_select(m) ** 2, (x,))
    assert gradgradcheck(lambda t: t.take(ctorch.tensor([1, 1, -2])) ** 2, (x,))
    for L in (ctorch, torch):  # an integer mask was read as indices before
        with pytest.raises(RuntimeError, match="masked_select: expected BoolTensor for mask"):
            L.ones(2, 2).masked_select(L.tensor([1, 0]))
        with pytest.raises(RuntimeError, match="take\\(\\): Expected a long tensor for index"):
            L.ones(2, 2).take(L.tensor([0.0]))
        with pytest.raises(IndexError, match="out of range"):
            L.ones(2, 2).take(L.tensor([4]))


@pytest.mark.parametrize("n", [12, 40000])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["selu", "elu"])
def test_selu_is_the_elu_row_bitwise_as_torch(name, dtype, n):
    v = np.array([np.nan, -np.inf, np.inf, -0.5, 0.5, 0.0, -3.0, 3.0, -0.2, -1e-8, 20.0, -20.0])
    a = np.resize(v, n)
    res = []
    for L in (ctorch, torch):
        x = L.tensor(a, dtype=getattr(L, dtype), requires_grad=True)
        y = getattr(L.nn.functional, name)(x)
        y.sum().backward()
        res.append((_node(y), y.detach().numpy(), x.grad.numpy()))
    assert res[0][0] == res[1][0] == "EluBackward0"
    np.testing.assert_array_equal(res[0][1], res[1][1])
    real = ~np.isnan(a)  # at a NaN input torch's vectorized loop gives NaN, its scalar one g
    np.testing.assert_array_equal(res[0][2][real], res[1][2][real])
    x = ctorch.tensor([-1.0, 2.0])
    assert ctorch.nn.functional.selu(x, inplace=True) is x
    np.testing.assert_allclose(x.numpy(), torch.selu(torch.tensor([-1.0, 2.0])).numpy())
