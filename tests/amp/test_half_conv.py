"""16-bit conv2d / conv_transpose2d on the CPU (ops/conv_half.py): the float32 kernels a batch
chunk at a time. Forward and every gradient rounded once from float32 (against a float64
reference), close to torch's CPU bfloat16/float16 convolution, bitwise the same for 1 and 2
threads, and no whole-tensor float32 copy (peak NumPy allocation)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import ctorch
from ctorch.ops import conv_half

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")

HALF = ["bfloat16", "float16"]
EPS = {"bfloat16": 2.0**-8, "float16": 2.0**-10}

# (x shape, w shape, conv2d keyword arguments)
CONV = {
    "3x3_pad": ((6, 4, 9, 9), (8, 4, 3, 3), dict(padding=1)),
    "stride2": ((5, 3, 11, 10), (6, 3, 3, 3), dict(stride=2, padding=1)),
    "dilation": ((5, 4, 12, 12), (6, 4, 3, 3), dict(dilation=2, padding=2)),
    "groups": ((5, 6, 8, 8), (8, 3, 3, 3), dict(groups=2, padding=1)),
    "1x1": ((6, 8, 7, 7), (5, 8, 1, 1), {}),
    "depthwise": ((5, 6, 9, 9), (6, 1, 3, 3), dict(groups=6, padding=1)),
    "rect_stride_dil": ((5, 3, 13, 11), (4, 3, 2, 3), dict(stride=(2, 1), dilation=(1, 2))),
    "same_even": ((4, 3, 8, 8), (5, 3, 4, 4), dict(padding="same")),
    "fused": ((9, 16, 12, 12), (32, 16, 3, 3), dict(padding=1)),
}


@pytest.fixture(params=[False, True], ids=["one_chunk", "chunked"])
def chunks(request, monkeypatch):
    """Run once with the default chunk size and once with chunks of 4 images (several chunks,
    the last one short)."""
    if request.param:
        monkeypatch.setattr(conv_half, "_HALF_CONV_CHUNK", 1)
    return request.param


def _inputs(xs, ws, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, xs).astype(np.float32)
    w = rng.uniform(-1, 1, ws).astype(np.float32)
    b = rng.uniform(-1, 1, ws[0]).astype(np.float32)
    return x, w, b


def _run(L, fn, arrays, dt, g=None):
    """fn(L, x, w, b) forward + backward with gradient ``g`` (float32 values): (y, gx, gw, gb)
    as float64 NumPy arrays and the dtypes of the result and gradients."""
    ts = [L.tensor(a).to(getattr(L, dt)).requires_grad_() for a in arrays]
    y = fn(L, *ts)
    if g is None:
        g = np.random.default_rng(9).uniform(-1, 1, tuple(y.shape)).astype(np.float32)
    y.backward(L.tensor(g).to(getattr(L, dt)))
    out = [y] + [t.grad for t in ts]
    dts = [str(o.dtype).split(".")[-1] for o in out]
    return [o.detach().double().numpy() for o in out], dts, g


def _reference(fn, arrays, dt, g):
    """float64 torch on the 16-bit values (the exact result before the one rounding)."""
    th = getattr(torch, dt)
    ts = [torch.from_numpy(a).to(th).double().requires_grad_() for a in arrays]
    y = fn(torch, *ts)
    y.backward(torch.from_numpy(g).to(th).double())
    return [o.detach().numpy() for o in [y] + [t.grad for t in ts]]


def _conv(kw):
    return lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, **kw)


def _check_rounded_once(got, ref, dt):
    # rounding a float32 sum once: within half an ulp of the exact value (eps * |ref| bounds
    # one ulp), plus the float32 accumulation's error; a second rounding or a 16-bit
    # accumulation breaks it
    for c, r in zip(got, ref, strict=True):
        tol = EPS[dt] * np.abs(r) + 1e-5 * (np.abs(r).max() + 1)
        assert np.all(np.abs(c - r) <= tol), np.abs(c - r).max()


def _check_close_to_torch(got, dt, fn, arrays, g):
    th = getattr(torch, dt)
    ts = [torch.from_numpy(a).to(th).requires_grad_() for a in arrays]
    y = fn(torch, *ts)
    y.backward(torch.from_numpy(g).to(th))
    for c, t in zip(got, [y] + [t.grad for t in ts], strict=True):
        t = t.detach().double().numpy()
        np.testing.assert_allclose(c, t, rtol=2 * EPS[dt], atol=2 * EPS[dt] * np.abs(t).max())


@pytest.mark.parametrize("dt", HALF)
@pytest.mark.parametrize("name", list(CONV))
def test_conv2d_half_matches_reference_and_torch(name, dt, chunks):
    xs, ws, kw = CONV[name]
    arrays = _inputs(xs, ws)
    fn = _conv(kw)
    got, dts, g = _run(ctorch, fn, arrays, dt)
    assert dts == [dt] * 4  # the gradients keep the parameters' dtype
    _check_rounded_once(got, _reference(fn, arrays, dt, g), dt)
    _check_close_to_torch(got, dt, fn, arrays, g)


@pytest.mark.parametrize("dt", HALF)
@pytest.mark.parametrize(
    "xs,ws,kw",
    [
        ((5, 4, 6, 6), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
        ((6, 4, 5, 5), (4, 2, 3, 3), dict(groups=2, dilation=2)),
        ((9, 32, 8, 8), (32, 16, 4, 4), dict(stride=2, padding=1)),
    ],
)
def test_conv_transpose2d_half(xs, ws, kw, dt, chunks):
    rng = np.random.default_rng(1)
    arrays = [
        rng.uniform(-1, 1, xs).astype(np.float32),
        rng.uniform(-1, 1, ws).astype(np.float32),
        rng.uniform(-1, 1, ws[1] * kw.get("groups", 1)).astype(np.float32),
    ]

    def fn(L, x, w, b):
        return L.nn.functional.conv_transpose2d(x, w, b, **kw)

    got, dts, g = _run(ctorch, fn, arrays, dt)
    assert dts == [dt] * 4
    _check_rounded_once(got, _reference(fn, arrays, dt, g), dt)
    _check_close_to_torch(got, dt, fn, arrays, g)


@pytest.mark.parametrize("dt", HALF)
def test_conv1d_half(dt, chunks):
    arrays = _inputs((6, 4, 17), (5, 4, 3))

    def fn(L, x, w, b):
        return L.nn.functional.conv1d(x, w, b, stride=2, padding=1)

    got, dts, g = _run(ctorch, fn, arrays, dt)
    assert dts == [dt] * 4
    _check_rounded_once(got, _reference(fn, arrays, dt, g), dt)


@pytest.mark.parametrize("dt", HALF)
@pytest.mark.parametrize("name", ["fused", "3x3_pad", "groups", "depthwise"])
def test_conv2d_half_bitwise_across_threads(name, dt, chunks):
    xs, ws, kw = CONV[name]
    arrays = _inputs(xs, ws, seed=3)
    fn = _conv(kw)
    n0 = ctorch.get_num_threads()
    try:
        ctorch.set_num_threads(1)
        one, _, g = _run(ctorch, fn, arrays, dt)
        ctorch.set_num_threads(2)
        two, _, _ = _run(ctorch, fn, arrays, dt, g)
    finally:
        ctorch.set_num_threads(n0)
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("dt", HALF)
def test_conv2d_half_grad_of_one_operand(dt):
    # only x or only w wants a gradient: the other operand is not saved (shape-only stand-in)
    x32, w32, _ = _inputs((5, 4, 9, 9), (6, 4, 3, 3))
    d = getattr(ctorch, dt)
    for want_x in (True, False):
        x = ctorch.tensor(x32).to(d).requires_grad_(want_x)
        w = ctorch.tensor(w32).to(d).requires_grad_(not want_x)
        ctorch.nn.functional.conv2d(x, w, padding=1).sum().backward()
        xt = torch.from_numpy(x32).to(getattr(torch, dt)).requires_grad_(want_x)
        wt = torch.from_numpy(w32).to(getattr(torch, dt)).requires_grad_(not want_x)
        torch.nn.functional.conv2d(xt, wt, padding=1).sum().backward()
        c, t = (x.grad, xt.grad) if want_x else (w.grad, wt.grad)
        assert (x.grad is None) != want_x and (w.grad is None) == want_x
        t = t.double().numpy()
        np.testing.assert_allclose(
            c.double().numpy(), t, rtol=2 * EPS[dt], atol=2 * EPS[dt] * np.abs(t).max()
        )


def test_conv2d_half_empty_batch():
    x = ctorch.zeros(0, 3, 8, 8, dtype=ctorch.bfloat16, requires_grad=True)
    w = ctorch.ones(4, 3, 3, 3, dtype=ctorch.bfloat16, requires_grad=True)
    y = ctorch.nn.functional.conv2d(x, w)
    assert y.shape == (0, 4, 6, 6) and y.dtype == ctorch.bfloat16
    y.sum().backward()
    assert x.grad.shape == x.shape and w.grad.dtype == ctorch.bfloat16
    assert np.array_equal(w.grad.float().numpy(), np.zeros((4, 3, 3, 3), np.float32))


def _peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dt", HALF)
def test_conv2d_half_has_no_whole_batch_float32_copy(dt, monkeypatch):
    """Forward and backward allocate less than a float32 copy of the input: the whole-tensor
    widening (conv_half.NATIVE off) allocates more, so the bound can fail."""
    monkeypatch.setattr(conv_half, "_HALF_CONV_CHUNK", 1 << 14)
    rng = np.random.default_rng(0)
    d = getattr(ctorch, dt)
    x = ctorch.tensor(rng.uniform(-1, 1, (64, 8, 32, 32)).astype(np.float32)).to(d)
    w = ctorch.tensor(rng.uniform(-1, 1, (8, 8, 3, 3)).astype(np.float32)).to(d)
    x.requires_grad_()
    w.requires_grad_()
    g = ctorch.ones(64, 8, 32, 32, dtype=d)
    f32_input = x.numel() * 4

    def step():
        x.grad = w.grad = None
        ctorch.nn.functional.conv2d(x, w, padding=1).backward(g)

    step()
    # the 16-bit output and input gradient (each half the float32 input) are the step's own
    # allocations; the float32 scratch of the chunks comes on top of them
    own = 2 * x.numel() * 2
    assert _peak(step) < own + f32_input // 2
    monkeypatch.setattr(conv_half, "NATIVE", [False])
    assert _peak(step) > own + f32_input
