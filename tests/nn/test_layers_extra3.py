"""The nn.functional ops and layers of issues #13/#14 (conv_transpose3d, lp_pool1d/3d,
max_unpool1d/3d, fractional_max_pool2d/3d, channel_shuffle, rrelu, ReflectionPad3d,
CrossMapLRN2d, AdaptiveLogSoftmaxWithLoss): forward and gradients vs torch, finite
differences, the random paths by their distribution and deterministically through
``_random_samples``/eval mode, and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_close, check_op

import ctorch
import ctorch.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
NAN = float("nan")


def _lib_F(lib):
    return lib.nn.functional


# ------------------------------------------------------------------ conv_transpose3d
@pytest.mark.parametrize(
    ("cin", "cout", "groups", "k", "stride", "pad", "opad", "dil"),
    [
        (2, 3, 1, 2, 1, 0, 0, 1),
        (4, 2, 2, (2, 3, 1), (2, 1, 3), (1, 0, 0), (1, 0, 2), (1, 2, 1)),
        (2, 2, 1, 3, 2, 1, 1, 1),
        (3, 6, 3, 1, 1, 0, 0, 1),
    ],
)
def test_conv_transpose3d(cin, cout, groups, k, stride, pad, opad, dil):
    ks = (k,) * 3 if isinstance(k, int) else k
    check_op(
        lambda lib, x, w, b: _lib_F(lib).conv_transpose3d(x, w, b, stride, pad, opad, groups, dil),
        [(2, cin, 3, 4, 3), (cin, cout // groups, *ks), (cout,)],
        atol=1e-4,
    )


def test_conv_transpose3d_unbatched_no_bias_module_and_errors():
    check_op(
        lambda lib, x, w: _lib_F(lib).conv_transpose3d(x, w, stride=2),
        [(2, 3, 2, 2), (2, 1, 2, 2, 2)],
    )
    torch.manual_seed(0)
    tm = torch.nn.ConvTranspose3d(2, 3, 2, stride=2, padding=1, output_padding=1)
    cm = ctorch.nn.ConvTranspose3d(2, 3, 2, stride=2, padding=1, output_padding=1)
    cm.load_state_dict({k: ctorch.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(1, 2, 3, 3, 3)).astype(np.float32)
    assert_close(cm(ctorch.tensor(x)), tm(torch.tensor(x)), atol=1e-5)
    assert_close(
        cm(ctorch.tensor(x), output_size=(4, 5, 4)), tm(torch.tensor(x), output_size=(4, 5, 4))
    )
    assert repr(cm) == repr(tm)
    lazy = ctorch.nn.LazyConvTranspose3d(4, 2)
    assert tuple(lazy(ctorch.ones(1, 3, 2, 2, 2)).shape) == (1, 4, 3, 3, 3)
    assert type(lazy) is ctorch.nn.ConvTranspose3d and lazy.in_channels == 3
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose3d(ctorch.ones(1, 2, 2, 2, 2), ctorch.ones(2, 1, 2, 2, 2), output_padding=1)
    with pytest.raises(RuntimeError):
        F.conv_transpose3d(ctorch.ones(1, 3, 2, 2, 2), ctorch.ones(2, 1, 2, 2, 2))


# ------------------------------------------------------------------ lp_pool
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
@pytest.mark.parametrize(("k", "s", "ceil"), [(2, None, False), (3, 2, True), (2, 1, False)])
def test_lp_pool1d_3d(p, k, s, ceil):
    check_op(lambda lib, x: _lib_F(lib).lp_pool1d(x, p, k, s, ceil), [(2, 3, 7)], low=0.1)
    check_op(lambda lib, x: _lib_F(lib).lp_pool3d(x, p, k, s, ceil), [(1, 2, 5, 4, 5)], low=0.1)
    check_op(lambda lib, x: lib.nn.LPPool1d(p, k, s, ceil)(x), [(3, 7)], low=0.1, grad=False)
    check_op(lambda lib, x: lib.nn.LPPool3d(p, k, s, ceil)(x), [(2, 4, 4, 5)], low=0.1, grad=False)
    check_op(lambda lib, x: lib.nn.LPPool2d(p, k, s, ceil)(x), [(1, 2, 5, 6)], low=0.1, grad=False)
    assert repr(ctorch.nn.LPPool3d(p, k, s, ceil)) == repr(torch.nn.LPPool3d(p, k, s, ceil))


# ------------------------------------------------------------------ max_unpool
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize(("k", "s", "p"), [(2, None, 0), (3, 2, 1)])
def test_max_unpool(nd, k, s, p):
    shape = (2, 3) + ((8 if s is None else 7),) * nd  # windows tiling the input
    x = np.random.default_rng(nd).normal(size=shape).astype(np.float32)
    tpool = getattr(TF, f"max_pool{nd}d")
    ty, ti = tpool(torch.tensor(x), k, s, p, return_indices=True)
    yv, iv = ty.numpy(), ti.numpy()
    name = f"max_unpool{nd}d"
    # overlapping windows can pick one element twice: the unpool keeps one write, and its
    # gradient (a gather) is torch's, not a finite-difference one
    check_op(
        lambda lib, y, i: getattr(_lib_F(lib), name)(y, i, k, s, p),
        [yv, iv],
        grad_inputs=[0],
        gradcheck=s is None,
    )
    check_op(lambda lib, y, i: getattr(lib.nn, f"MaxUnpool{nd}d")(k, s, p)(y, i), [yv[0], iv[0]])
    default = tuple((n - 1) * (s or k) + k - 2 * p for n in yv.shape[2:])
    bigger = tuple(d + 1 for d in default)
    check_op(
        lambda lib, y, i: getattr(_lib_F(lib), name)(y, i, k, s, p, bigger), [yv, iv], grad=False
    )
    with pytest.raises(ValueError, match="invalid output_size"):
        getattr(F, name)(
            ctorch.tensor(yv), ctorch.tensor(iv), k, s, p, tuple(d + 9 for d in default)
        )
    with pytest.raises(ValueError, match=f"containing {nd} or {nd + 2} elements"):
        getattr(F, name)(ctorch.tensor(yv), ctorch.tensor(iv), k, s, p, (5,) * (nd + 1))
    bad = iv.copy()
    bad.reshape(-1)[0] = 10**6
    with pytest.raises(RuntimeError, match="Found an invalid max index: 1000000"):
        getattr(F, name)(ctorch.tensor(yv), ctorch.tensor(bad), k, s, p)
    assert repr(getattr(ctorch.nn, f"MaxUnpool{nd}d")(k, s, p)) == repr(
        getattr(torch.nn, f"MaxUnpool{nd}d")(k, s, p)
    )


# ------------------------------------------------------------------ fractional max pool
def _frac_inputs(nd, dtype, seed=0, nan=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 3) + (9,) * nd).astype(dtype)
    if nan:
        x.reshape(-1)[[0, 1, 50]] = NAN
    return x, rng.random((2, 3, nd)).astype(dtype)


@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("k", "out"), [(2, 4), (3, 5), (2, 8), (1, 9)])
def test_fractional_max_pool_matches_torch_given_samples(nd, dtype, k, out):
    x, smp = _frac_inputs(nd, dtype, nan=k == 3)
    name = f"fractional_max_pool{nd}d"
    if nd == 3 and out + k - 1 >= 9:  # torch's 3-D check is strict (the 2-D one is not)
        for lib in (ctorch, torch):
            with pytest.raises(RuntimeError, match="pool time .* too large"):
                getattr(_lib_F(lib), name)(lib.tensor(x), k, out, _random_samples=lib.tensor(smp))
        return

    def fn(lib, a, u):
        return getattr(_lib_F(lib), name)(a, k, out, return_indices=True, _random_samples=u)

    got = check_op(fn, [x, smp], grad_inputs=[] if k == 3 else [0], dtype=dtype)
    assert got[1].dtype == ctorch.int64
    r = getattr(F, name)(ctorch.tensor(x), k, output_ratio=0.5, _random_samples=ctorch.tensor(smp))
    e = getattr(TF, name)(
        torch.tensor(x), k, output_ratio=(0.5,) * nd, _random_samples=torch.tensor(smp)
    )
    assert_close(r, e)


@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
def test_fractional_max_pool_16bit(nd, dt):
    x, smp = _frac_inputs(nd, np.float32, seed=5, nan=True)
    name = f"fractional_max_pool{nd}d"

    def run(lib):
        d = getattr(lib, dt)
        u = lib.tensor(smp).to(d)
        return getattr(_lib_F(lib), name)(
            lib.tensor(x).to(d), 2, 4, return_indices=True, _random_samples=u
        )

    (cy, ci), (ty, ti) = run(ctorch), run(torch)
    assert str(cy.dtype) == f"ctorch.{dt}"
    np.testing.assert_array_equal(ci.numpy(), ti.numpy())
    np.testing.assert_array_equal(cy.float().numpy(), ty.float().numpy())


@pytest.mark.parametrize("nd", [2, 3])
def test_fractional_max_pool_random_path(nd):
    x, _ = _frac_inputs(nd, np.float64, seed=3)
    name = f"fractional_max_pool{nd}d"
    ct = ctorch.tensor(x)
    ys = [getattr(F, name)(ct, 2, 4, return_indices=True) for _ in range(8)]
    flat = x.reshape(2, 3, -1)
    for y, i in ys:
        assert tuple(y.shape) == (2, 3) + (4,) * nd
        # every output is the input at its index, and that index is the max of a 2^nd window
        np.testing.assert_array_equal(
            np.take_along_axis(flat, i.numpy().reshape(2, 3, -1), 2).reshape(y.shape), y.numpy()
        )
    # the windows are random: not all draws pick the same positions
    assert len({ys[j][1].numpy().tobytes() for j in range(8)}) > 1
    # gradient: ones at the picked positions (windows do not overlap at ratio 4/9 with k=2)
    xg = ctorch.tensor(x, requires_grad=True)
    y, i = getattr(F, name)(xg, 2, 4, return_indices=True)
    y.sum().backward()
    expect = np.zeros(flat.shape)
    np.add.at(
        expect,
        (np.arange(2)[:, None, None], np.arange(3)[None, :, None], i.numpy().reshape(2, 3, -1)),
        1.0,
    )
    np.testing.assert_array_equal(xg.grad.numpy().reshape(2, 3, -1), expect)


def test_fractional_max_pool_unbatched_module_and_errors():
    x, smp = _frac_inputs(2, np.float32)
    r = F.fractional_max_pool2d(ctorch.tensor(x[0]), 2, 4, _random_samples=ctorch.tensor(smp[:1]))
    e = TF.fractional_max_pool2d(torch.tensor(x[0]), 2, 4, _random_samples=torch.tensor(smp[:1]))
    assert_close(r, e)
    m = ctorch.nn.FractionalMaxPool2d(
        3, output_ratio=(0.5, 0.5), _random_samples=ctorch.tensor(smp)
    )
    tm = torch.nn.FractionalMaxPool2d(3, output_ratio=(0.5, 0.5), _random_samples=torch.tensor(smp))
    assert_close(m(ctorch.tensor(x)), tm(torch.tensor(x)))
    m3 = ctorch.nn.FractionalMaxPool3d(2, output_size=4, return_indices=True)
    y, i = m3(ctorch.ones(1, 2, 9, 9, 9))
    assert tuple(y.shape) == (1, 2, 4, 4, 4) and tuple(i.shape) == (1, 2, 4, 4, 4)
    with pytest.raises(ValueError, match="output_size or an output_ratio"):
        F.fractional_max_pool2d(ctorch.ones(1, 1, 5, 5), 2)
    with pytest.raises(ValueError):
        ctorch.nn.FractionalMaxPool2d(2)
    with pytest.raises(RuntimeError, match="pool height 2 too large relative to input height 7"):
        F.fractional_max_pool2d(ctorch.ones(1, 2, 7, 7), 2, 7)
    with pytest.raises(RuntimeError, match="pool time 3 too large relative to input time 4"):
        F.fractional_max_pool3d(ctorch.ones(1, 1, 4, 4, 4), 3, 3)
    u = ctorch.rand(1, 2, 3)
    with pytest.raises(RuntimeError, match=r"_random_samples.size\(2\) equals to 2; got 3"):
        F.fractional_max_pool2d(ctorch.ones(1, 2, 7, 7), 2, 3, _random_samples=u)
    with pytest.raises(RuntimeError, match="input channel size"):
        F.fractional_max_pool2d(ctorch.ones(1, 3, 7, 7), 2, 3, _random_samples=ctorch.rand(1, 2, 2))
    with pytest.raises(RuntimeError, match="same dtype as input"):
        F.fractional_max_pool2d(
            ctorch.ones(1, 2, 7, 7), 2, 3, _random_samples=ctorch.rand(1, 2, 2).double()
        )


# ------------------------------------------------------------------ channel_shuffle
@pytest.mark.parametrize(
    ("shape", "g"), [((2, 6, 3, 3), 3), ((1, 4, 5), 2), ((2, 8, 2, 2, 2), 4), ((0, 4, 2), 2)]
)
def test_channel_shuffle(shape, g):
    check_op(lambda lib, x: _lib_F(lib).channel_shuffle(x, g), [shape])
    check_op(lambda lib, x: lib.nn.ChannelShuffle(g)(x), [shape], grad=False)


def test_channel_shuffle_errors():
    with pytest.raises(RuntimeError, match="Got 5 channels and 2 groups"):
        F.channel_shuffle(ctorch.ones(1, 5, 2), 2)
    with pytest.raises(RuntimeError, match="must be positive. Value of groups:0"):
        F.channel_shuffle(ctorch.ones(1, 4, 2), 0)
    with pytest.raises(RuntimeError, match="> 2 dims"):
        F.channel_shuffle(ctorch.ones(4), 2)
    assert repr(ctorch.nn.ChannelShuffle(3)) == repr(torch.nn.ChannelShuffle(3))


# ------------------------------------------------------------------ rrelu
@pytest.mark.parametrize(("lo", "hi"), [(1 / 8, 1 / 3), (0.1, 0.1), (0.0, 0.5)])
def test_rrelu_eval_matches_torch(lo, hi):
    x = np.array([-3.0, -0.5, 0.0, 0.5, 2.0, NAN, -np.inf], np.float64)
    check_op(lambda lib, v: _lib_F(lib).rrelu(v, lo, hi), [x], gradcheck=False, dtype=np.float64)
    check_op(lambda lib, v: _lib_F(lib).rrelu(v, lo, hi, False), [(4, 5)])
    check_op(lambda lib, v: lib.nn.RReLU(lo, hi).eval()(v), [(4, 5)])


def test_rrelu_training_distribution_and_grad():
    ctorch.manual_seed(0)
    lo, hi = 0.1, 0.4
    x = ctorch.tensor(np.linspace(-5, 5, 20001), requires_grad=True)
    y = F.rrelu(x, lo, hi, training=True)
    assert type(y.grad_fn).__name__ == "RreluWithNoiseBackward0"
    xv, yv = x.detach().numpy(), y.detach().numpy()
    pos, neg = xv > 0, xv < 0
    np.testing.assert_array_equal(yv[pos], xv[pos])
    slopes = yv[neg] / xv[neg]
    assert slopes.min() >= lo and slopes.max() <= hi
    # U(lo, hi): mean (lo+hi)/2, variance (hi-lo)^2/12, 10000 draws
    assert abs(slopes.mean() - (lo + hi) / 2) < 0.005
    assert abs(slopes.var() - (hi - lo) ** 2 / 12) < 0.001
    assert len(np.unique(slopes)) > 9000
    y.sum().backward()
    g = x.grad.numpy()
    np.testing.assert_array_equal(g[pos], 1.0)
    np.testing.assert_allclose(g[neg], slopes)
    # a second draw differs; the module in training mode draws too
    assert not np.array_equal(F.rrelu(x.detach(), lo, hi, True).numpy(), yv)
    m = ctorch.nn.RReLU(lo, hi)
    assert not np.array_equal(m(x.detach()).numpy(), m(x.detach()).numpy())


def test_rrelu_inplace_and_errors():
    x = ctorch.tensor([-2.0, 1.0])
    assert F.rrelu(x, 0.25, 0.25, inplace=True) is x
    assert_close(x, np.array([-0.5, 1.0], np.float32))
    y = ctorch.tensor([-2.0, 1.0])
    assert F.rrelu_(y, 0.5, 0.5, training=True) is y
    assert_close(y, np.array([-1.0, 1.0], np.float32))
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal"):
        F.rrelu(ctorch.ones(3), 0.5, 0.2)
    assert repr(ctorch.nn.RReLU(0.1, 0.3, True)) == repr(torch.nn.RReLU(0.1, 0.3, True))


# ------------------------------------------------------------------ ReflectionPad3d / CrossMapLRN2d
@pytest.mark.parametrize("pad", [1, (1, 0, 2, 1, 0, 2)])
@pytest.mark.parametrize(
    "name", ["ReflectionPad3d", "ReplicationPad3d", "CircularPad3d", "ZeroPad3d", "ConstantPad3d"]
)
def test_padding_3d(name, pad):
    args = (pad, 0.5) if name == "ConstantPad3d" else (pad,)
    check_op(lambda lib, x: getattr(lib.nn, name)(*args)(x), [(2, 2, 3, 4, 3)])
    check_op(lambda lib, x: getattr(lib.nn, name)(*args)(x), [(2, 3, 4, 3)])
    assert repr(getattr(ctorch.nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


def test_circular_pad1d_and_distance_modules():
    check_op(lambda lib, x: lib.nn.CircularPad1d((2, 1))(x), [(2, 3, 5)])
    assert repr(ctorch.nn.CircularPad1d(2)) == repr(torch.nn.CircularPad1d(2))
    check_op(lambda lib, a, b: lib.nn.CosineSimilarity(0, 1e-6)(a, b), [(5, 3), (5, 3)])
    check_op(lambda lib, a, b: lib.nn.PairwiseDistance(1.0, 1e-5, True)(a, b), [(4, 6), (4, 6)])
    check_op(lambda lib, a, b: lib.nn.PairwiseDistance()(a, b), [(4, 6), (6,)])


@pytest.mark.parametrize(
    "call",
    [
        lambda F_, x: F_.celu_(x, 0.7),
        lambda F_, x: F_.selu_(x),
        lambda F_, x: F_.threshold_(x, 0.1, -3.0),
    ],
)
def test_functional_inplace_forms(call):
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    c, t = ctorch.tensor(x), torch.tensor(x)
    assert call(F, c) is c
    call(TF, t)
    assert_close(c, t)


def test_adaptive_max_pool_with_indices():
    for nd, shape in ((1, (2, 3, 9)), (2, (2, 3, 7, 9))):
        name = f"adaptive_max_pool{nd}d_with_indices"
        check_op(lambda lib, x, n=name: getattr(_lib_F(lib), n)(x, 4), [shape])
        check_op(lambda lib, x, n=name: getattr(_lib_F(lib), n)(x, 4, False)[1], [shape])


@pytest.mark.parametrize("channels", [1, 3, 6, 9])
@pytest.mark.parametrize("size", [1, 3, 4, 5])
def test_cross_map_lrn2d(channels, size):
    # torch's backward is a hand-written symmetric window, not the gradient of its own forward
    # (whose running window never drops channel 0): forward vs torch, gradient by differences
    check_op(
        lambda lib, x: lib.nn.CrossMapLRN2d(size, 0.1, 0.75, 2.0)(x),
        [(2, channels, 3, 4)],
        grad=False,
    )
    x = ctorch.tensor(np.random.default_rng(0).normal(size=(1, channels, 2, 3)), requires_grad=True)
    m = ctorch.nn.CrossMapLRN2d(size, 0.1, 0.75, 2.0)
    assert ctorch.autograd.gradcheck(m, (x,))


def test_cross_map_lrn2d_errors_and_repr():
    with pytest.raises(ValueError, match="Expected input to be 4D, got 3D"):
        ctorch.nn.CrossMapLRN2d(3)(ctorch.ones(2, 3, 3))
    assert repr(ctorch.nn.CrossMapLRN2d(3, 1e-3)) == repr(torch.nn.CrossMapLRN2d(3, 1e-3))


# ------------------------------------------------------------------ AdaptiveLogSoftmaxWithLoss
def _asm_pair(head_bias):
    torch.manual_seed(0)
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 12], div_value=2.0, head_bias=head_bias)
    tm = tm.double()
    cm = ctorch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 12], div_value=2.0, head_bias=head_bias)
    cm = cm.double()
    cm.load_state_dict({k: ctorch.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return cm, tm


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax(head_bias):
    cm, tm = _asm_pair(head_bias)
    assert repr(cm) == repr(tm)
    x = np.random.default_rng(0).normal(size=(9, 8))
    t = np.array([0, 4, 5, 11, 12, 19, 3, 7, 13])
    co = cm(ctorch.tensor(x), ctorch.tensor(t))
    to = tm(torch.tensor(x), torch.tensor(t))
    assert_close(co.output, to.output, atol=1e-12)
    assert_close(co.loss, to.loss, atol=1e-12)
    co.loss.backward()
    to.loss.backward()
    for (n, p), (_, q) in zip(cm.named_parameters(), tm.named_parameters(), strict=True):
        assert_close(p.grad, q.grad, atol=1e-12, msg=n)
    assert_close(cm.log_prob(ctorch.tensor(x)), tm.log_prob(torch.tensor(x)), atol=1e-12)
    np.testing.assert_allclose(np.exp(cm.log_prob(ctorch.tensor(x)).detach().numpy()).sum(1), 1.0)
    assert_close(cm.predict(ctorch.tensor(x)), tm.predict(torch.tensor(x)))
    # unbatched
    u = cm(ctorch.tensor(x[0]), ctorch.tensor(t[3]))
    assert_close(u.output, tm(torch.tensor(x[0]), torch.tensor(t[3])).output, atol=1e-12)
    # torch's predict/log_prob take 2-D input only (IndexError on 1-D); ctorch's take both
    assert_close(cm.predict(ctorch.tensor(x[1])), tm.predict(torch.tensor(x[1:2]))[0])


def test_adaptive_log_softmax_gradcheck_and_errors():
    cm, _ = _asm_pair(True)
    x = ctorch.tensor(np.random.default_rng(1).normal(size=(4, 8)), requires_grad=True)
    t = ctorch.tensor([1, 6, 15, 19])
    assert ctorch.autograd.gradcheck(lambda v: cm(v, t).output, (x,))
    with pytest.raises(ValueError, match="cutoffs should be a sequence"):
        ctorch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3])
    with pytest.raises(ValueError):
        ctorch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [])
    with pytest.raises(RuntimeError, match="Target values should be in"):
        cm(ctorch.ones(2, 8).double(), ctorch.tensor([0, 20]))
    with pytest.raises(RuntimeError, match="same size in the batch"):
        cm(ctorch.ones(2, 8).double(), ctorch.tensor([0]))


def test_toplevel_forms():
    # torch.rrelu's fifth argument is a generator; torch.conv_transpose3d/channel_shuffle
    check_op(lambda lib, x: lib.rrelu(x, 0.2, 0.3), [(3, 4)])
    x = ctorch.tensor([-1.0, -2.0, 3.0])
    a = ctorch.rrelu(x, 0.1, 0.3, True, ctorch.Generator().manual_seed(3))
    b = ctorch.rrelu(x, 0.1, 0.3, True, ctorch.Generator().manual_seed(3))
    assert_close(a, b.numpy())
    y = x.clone()
    assert ctorch.rrelu_(y, 0.5, 0.5) is y
    assert_close(y, np.array([-0.5, -1.0, 3.0], np.float32))
    check_op(lambda lib, v: lib.channel_shuffle(v, 2), [(1, 4, 3)])
    check_op(lambda lib, v: lib.native_channel_shuffle(v, 2), [(1, 4, 3)], grad=False)
    check_op(
        lambda lib, v, w: lib.conv_transpose3d(v, w, None, 2), [(1, 2, 2, 2, 2), (2, 1, 2, 2, 2)]
    )


def test_conv_transpose3d_channel_error_names_5d_shapes():
    with pytest.raises(
        RuntimeError, match=r"weight of size \[2, 1, 2, 2, 2\], expected input\[1, 3, 2, 2, 2\]"
    ):
        F.conv_transpose3d(ctorch.ones(1, 3, 2, 2, 2), ctorch.ones(2, 1, 2, 2, 2))
