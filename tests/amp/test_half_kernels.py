"""The float16/bfloat16 CPU kernels (ctorch._core.half): conversions bit-exact against torch
on every 16-bit pattern and on random float32 bits, every float16 conversion path (AVX-512,
F16C, portable) equal, results bitwise equal to torch's CPU and across thread counts, and the
kernels' argument checks."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import threads

import ctorch
from ctorch import _table
from ctorch._core import half as H

torch = pytest.importorskip("torch")

KIND = {"float16": 0, "bfloat16": 1}


def _torch_bits(f32, dt):
    t = torch.from_numpy(f32).to(getattr(torch, dt))
    return t.view(torch.int16).numpy().view(np.uint16)


@pytest.fixture(params=[2, 1, 0], ids=["avx512", "f16c", "portable"])
def isa(request):
    have = H.set_half_isa(-1)
    if request.param > have:
        pytest.skip(f"this CPU lacks the conversion path {request.param}")
    H.set_half_isa(request.param)
    yield request.param
    H.set_half_isa(-1)


def test_float16_conversions_exact(isa):
    bits = np.arange(65536, dtype=np.uint16)
    out = np.empty(65536, np.float32)
    H.widen(0, bits, out)
    ref = bits.view(np.float16).astype(np.float32)
    nan = np.isnan(ref)
    assert np.array_equal(np.isnan(out), nan)
    assert np.array_equal(out[~nan].view(np.uint32), ref[~nan].view(np.uint32))
    rng = np.random.default_rng(0)
    f = rng.integers(0, 2**32, 300_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    f = np.concatenate(
        [
            f,
            (rng.standard_normal(50_000) * 1e-5).astype(np.float32),
            np.float32([65504, 65519.99, 65520, 6e-8, 3e-8, 2.98e-8, -0.0, np.inf]),
        ]
    )
    o = np.empty(f.size, np.uint16)
    H.narrow(0, f, o)
    t = _torch_bits(f, "float16")
    fin = ~np.isnan(f)
    assert np.array_equal(o[fin], t[fin])
    assert np.isnan(o[~fin].view(np.float16)).all()


def test_bfloat16_conversions_exact(isa):
    bits = np.arange(65536, dtype=np.uint16)
    out = np.empty(65536, np.float32)
    H.widen(1, bits, out)
    assert np.array_equal(out.view(np.uint32), bits.astype(np.uint32) << 16)
    rng = np.random.default_rng(1)
    f = rng.integers(0, 2**32, 300_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    o = np.empty(f.size, np.uint16)
    H.narrow(1, f, o)
    assert np.array_equal(o, _torch_bits(f, "bfloat16"))  # NaN too (torch writes 0xFFFF)


ROWS = [op for op in (*_table.UNARY, *_table.BINARY) if op.public and not op.nn_only]


@pytest.mark.parametrize("dt", list(KIND))
@pytest.mark.parametrize("op", ROWS, ids=[op.public for op in ROWS])
def test_kernel_matches_torch_bitwise_and_threads(op, dt):
    rng = np.random.default_rng(2)
    n = 300_001  # several chunks, above the parallel threshold
    lo, hi = (
        (0.5, 2.0)
        if op.public
        in (
            "log",
            "log2",
            "log10",
            "sqrt",
            "rsqrt",
            "reciprocal",
            "pow",
            "div",
            "acosh",
            "xlogy",
            "log1p",
        )
        else (-0.9, 0.9)
    )
    if op.public == "acosh":
        lo, hi = 1.2, 3.0
    xs = [rng.uniform(lo, hi, n).astype(np.float32) for _ in range(1 if op.kind == "unary" else 2)]
    cs = [ctorch.tensor(x).to(getattr(ctorch, dt)) for x in xs]
    ts = [torch.from_numpy(x).to(getattr(torch, dt)) for x in xs]
    with threads(1):
        c1 = getattr(ctorch, op.public)(*cs)
    with threads(2):
        c2 = getattr(ctorch, op.public)(*cs)
    assert np.array_equal(c1.numpy().view(np.uint16), c2.numpy().view(np.uint16))
    t = getattr(torch, op.public)(*ts)
    d = np.abs(c1.float().numpy() - t.float().numpy())
    eps = ctorch.finfo(getattr(ctorch, dt)).eps
    # torch's vectorized float32 math (Sleef) and ours differ in the last float32 bit at most;
    # after rounding to 16 bits, results are equal but for rare one-ulp ties
    assert (d <= eps * np.maximum(1.0, np.abs(t.float().numpy()))).all()
    assert (d == 0).mean() > 0.99


@pytest.mark.parametrize("dt", list(KIND))
def test_broadcast_scalar_and_backward_paths(dt):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 700)).astype(np.float32)
    b = rng.standard_normal(700).astype(np.float32)
    c = rng.standard_normal((300, 1)).astype(np.float32)
    cx, cb, cc = (ctorch.tensor(v).to(getattr(ctorch, dt)) for v in (x, b, c))
    tx, tb, tc = (torch.from_numpy(v).to(getattr(torch, dt)) for v in (x, b, c))
    for f in (
        lambda a, p, q: a + p,
        lambda a, p, q: p - a,
        lambda a, p, q: a * q,
        lambda a, p, q: a * 0.3,
        lambda a, p, q: 2.0 - a,
    ):
        assert np.array_equal(f(cx, cb, cc).float().numpy(), f(tx, tb, tc).float().numpy())
    cx.requires_grad_(True)
    tx.requires_grad_(True)
    g = rng.standard_normal((300, 700)).astype(np.float32)
    for fn in ("sigmoid", "tanh", "relu"):
        cx.grad = tx.grad = None
        getattr(cx, fn)().backward(ctorch.tensor(g).to(cx.dtype))
        getattr(tx, fn)().backward(torch.from_numpy(g).to(tx.dtype))
        np.testing.assert_allclose(
            cx.grad.float().numpy(),
            tx.grad.float().numpy(),
            rtol=2 * ctorch.finfo(cx.dtype).eps,
            atol=1e-6,
        )


def test_kernel_argument_checks():
    a = np.zeros(4, np.uint16)
    with pytest.raises(ValueError, match="kind"):
        H.h_binary(2, 0, a, a, a)
    with pytest.raises(ValueError, match="unknown binary op"):
        H.h_binary(0, 10_000, a, a, a)
    with pytest.raises(ValueError, match="y has 3 elements"):
        H.h_binary(0, 0, a, a[:3], a)
    with pytest.raises(ValueError, match="no backward"):
        H.h_unary_backward(0, 10_000, a, a, a, a)
    with pytest.raises(ValueError, match="isa"):
        H.set_half_isa(7)


@pytest.fixture(params=["amx_bf16", "avx512_bf16"])
def bgemm_path(request):
    """Each bfloat16 GEMM kernel the CPU has: AMX tiles, AVX-512 BF16 dot products."""
    if not getattr(H, f"HAVE_{request.param.upper()}"):
        pytest.skip(f"this CPU has no {request.param}")
    H._set_amx(request.param == "amx_bf16")
    yield request.param
    H._set_amx(True)


@pytest.mark.skipif(not H.HAVE_BF16_DOT, reason="CPU without AVX-512 BF16 (the float32 path runs)")
@pytest.mark.parametrize(
    "mkn",
    [(1, 1, 1), (7, 5, 3), (8, 48, 48), (16, 32, 48), (33, 101, 97), (130, 300, 200), (47, 64, 95)],
)
def test_bgemm_accuracy_strides_and_threads(mkn, bgemm_path):
    import ml_dtypes

    M, K, N = mkn
    rng = np.random.default_rng(4)
    a = rng.standard_normal((M, K)).astype(ml_dtypes.bfloat16)
    b = rng.standard_normal((K, N)).astype(ml_dtypes.bfloat16)
    ref = a.astype(np.float64) @ b.astype(np.float64)

    def run(x, y):
        o = np.empty((M, N), ml_dtypes.bfloat16)
        H.bgemm(x.view(np.uint16), y.view(np.uint16), o.view(np.uint16))
        return o

    with threads(1):
        o1 = run(a, b)
    with threads(2):
        o2 = run(a, b)
        o3 = run(np.asfortranarray(a), np.asfortranarray(b))  # transposed layouts
    assert np.array_equal(o1.view(np.uint16), o2.view(np.uint16))
    assert np.array_equal(o1.view(np.uint16), o3.view(np.uint16))
    # float32 accumulation, one rounding to bfloat16
    scale = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64))
    assert (np.abs(o1.astype(np.float64) - ref) <= 2**-8 * np.abs(ref) + 1e-5 * scale).all()


@pytest.mark.skipif(not H.HAVE_BF16_DOT, reason="CPU without AVX-512 BF16")
def test_bgemm_checks_and_empty(bgemm_path):
    z = np.zeros((2, 3), np.uint16)
    with pytest.raises(ValueError, match="inner sizes"):
        H.bgemm(z, z, np.zeros((2, 3), np.uint16))
    with pytest.raises(ValueError, match="out has shape"):
        H.bgemm(z, z.T, np.zeros((3, 3), np.uint16))
    o = np.full((2, 2), 7, np.uint16)
    H.bgemm(np.zeros((2, 0), np.uint16), np.zeros((0, 2), np.uint16), o)
    assert (o == 0).all()


@pytest.mark.parametrize("dt", list(KIND))
def test_linear_and_matmul_16bit_match_torch(dt):
    rng = np.random.default_rng(5)
    x, w, b = (rng.uniform(-1, 1, s).astype(np.float32) for s in ((64, 200), (96, 200), (96,)))
    cx, cw, cb = (ctorch.tensor(v).to(getattr(ctorch, dt)).requires_grad_() for v in (x, w, b))
    tx, tw, tb = (torch.from_numpy(v).to(getattr(torch, dt)).requires_grad_() for v in (x, w, b))
    c = ctorch.nn.functional.linear(cx, cw, cb)
    t = torch.nn.functional.linear(tx, tw, tb)
    assert c.dtype is getattr(ctorch, dt)
    tol = 4 * ctorch.finfo(c.dtype).eps
    np.testing.assert_allclose(
        c.float().detach().numpy(), t.float().detach().numpy(), rtol=tol, atol=tol * 8
    )
    g = rng.uniform(-1, 1, (64, 96)).astype(np.float32)
    c.backward(ctorch.tensor(g).to(c.dtype))
    t.backward(torch.from_numpy(g).to(t.dtype))
    for ci, ti in ((cx, tx), (cw, tw), (cb, tb)):
        assert ci.grad.dtype is ci.dtype
        np.testing.assert_allclose(
            ci.grad.float().numpy(), ti.grad.float().numpy(), rtol=tol, atol=tol * 16
        )
    m = ctorch.matmul(cx.detach().reshape(4, 16, 200), cw.detach().t())
    tm = torch.matmul(tx.detach().reshape(4, 16, 200), tw.detach().t())
    np.testing.assert_allclose(m.float().numpy(), tm.float().numpy(), rtol=tol, atol=tol * 8)


@pytest.mark.parametrize("dt", list(KIND))
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_fused_softmax_rows_match_torch_and_threads(fn, dt):
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((300, 1000)) * 3).astype(np.float32)
    g = rng.standard_normal((300, 1000)).astype(np.float32)
    res = []
    for nt in (1, 2):
        cx = ctorch.tensor(x).to(getattr(ctorch, dt)).requires_grad_()
        with threads(nt):
            y = getattr(ctorch, fn)(cx, -1)
            y.backward(ctorch.tensor(g).to(y.dtype))
        res.append((y.detach().numpy().view(np.uint16), cx.grad.numpy().view(np.uint16)))
    assert all(np.array_equal(a, b) for a, b in zip(res[0], res[1], strict=True))
    tx = torch.from_numpy(x).to(getattr(torch, dt)).requires_grad_()
    ty = getattr(torch, fn)(tx, -1)
    ty.backward(torch.from_numpy(g).to(ty.dtype))
    eps = ctorch.finfo(getattr(ctorch, dt)).eps
    y32 = y.detach().float().numpy()
    t32 = ty.detach().float().numpy()
    # float32 inside, one rounding: equal to torch's float32 result rounded once (up to the
    # float32 summation order), and within two 16-bit eps (relative, or absolute below 1) of
    # torch's 16-bit result (torch's is sometimes off the correctly rounded value)
    ref = getattr(torch, fn)(torch.from_numpy(x).to(getattr(torch, dt)).float(), -1)
    ref = ref.to(getattr(torch, dt)).float().numpy()
    assert (y32 == ref).mean() > 0.999
    assert (np.abs(y32 - t32) <= 2 * eps * np.maximum(np.abs(t32), 1.0)).all()
    gx, tg = cx.grad.float().numpy(), tx.grad.float().numpy()
    # the gradient cancels (gy - p * s): its error scales with the terms' size, not its own
    p = np.exp(y32) if fn == "log_softmax" else y32
    s = g.sum(-1, keepdims=True) if fn == "log_softmax" else (g * y32).sum(-1, keepdims=True)
    # (log_softmax: p = exp(y) carries y's rounding error, |y| * eps, relative)
    scale = (
        np.abs(g) + p * np.abs(s) * (1 + np.abs(y32))
        if fn == "log_softmax"
        else p * (np.abs(g) + np.abs(s))
    )
    assert (np.abs(gx - tg) <= 4 * eps * scale + 1e-6).all()


def test_softmax_rows_checks():
    a = np.zeros(6, np.uint16)
    with pytest.raises(ValueError, match="mode"):
        H.h_softmax_rows(0, 5, a, a, a, 2, 3)
    with pytest.raises(ValueError, match="a has 6 elements"):
        H.h_softmax_rows(0, 0, a, a, a, 3, 3)


@pytest.mark.skipif(not H.HAVE_BF16_DOT, reason="CPU without AVX-512 BF16")
@pytest.mark.parametrize(
    "mkn", [(8, 16, 16), (17, 33, 49), (40, 784, 100), (64, 31, 130), (48, 96, 50)]
)
def test_bgemm_simd_packing_equals_strided_reference(mkn, bgemm_path):
    """The SIMD packing paths (k contiguous / the other index contiguous) give bitwise the
    products of the reference packing loops (any other strides)."""
    import ml_dtypes

    M, K, N = mkn
    rng = np.random.default_rng(7)
    a = rng.standard_normal((M, K)).astype(ml_dtypes.bfloat16)
    b = rng.standard_normal((K, N)).astype(ml_dtypes.bfloat16)

    def run(x, y):
        o = np.empty((M, N), ml_dtypes.bfloat16)
        H.bgemm(x.view(np.uint16), y.view(np.uint16), o.view(np.uint16))
        return o.view(np.uint16)

    def strided(x):  # same values, neither stride 1
        w = np.zeros((x.shape[0] * 2, x.shape[1] * 3), x.dtype)
        w[::2, ::3] = x
        return w[::2, ::3]

    ref = run(strided(a), strided(b))
    for x in (a, np.asfortranarray(a)):
        for y in (b, np.asfortranarray(b), np.ascontiguousarray(b.T).T):
            assert np.array_equal(run(x, y), ref)
    # and within float32-accumulation tolerance of float64
    f = a.astype(np.float64) @ b.astype(np.float64)
    got = ref.view(ml_dtypes.bfloat16).astype(np.float64)
    scale = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64))
    assert (np.abs(got - f) <= 2**-8 * np.abs(f) + 1e-5 * scale).all()


@pytest.mark.parametrize("dt", list(KIND))
def test_linear_bias_grad_16bit_column_sums(dt):
    """The 16-bit bias gradient (column sums without a float32 copy of the gradient) matches
    torch and the float64 sum rounded once, for any thread count."""
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, (300, 20)).astype(np.float32)
    w = rng.uniform(-1, 1, (600, 20)).astype(np.float32)
    b = rng.uniform(-1, 1, 600).astype(np.float32)
    g = rng.uniform(-1, 1, (300, 600)).astype(np.float32)
    grads = []
    for n in (1, 2):
        with threads(n):
            cb = ctorch.tensor(b).to(getattr(ctorch, dt)).requires_grad_()
            cx, cw = (ctorch.tensor(v).to(getattr(ctorch, dt)) for v in (x, w))
            ctorch.nn.functional.linear(cx, cw, cb).backward(ctorch.tensor(g).to(cb.dtype))
            grads.append(cb.grad.float().numpy())
    assert np.array_equal(grads[0], grads[1])
    g16 = ctorch.tensor(g).to(getattr(ctorch, dt)).float().numpy().astype(np.float64)
    ref = ctorch.tensor(g16.sum(0).astype(np.float32)).to(getattr(ctorch, dt)).float().numpy()
    np.testing.assert_array_equal(grads[0], ref)
    tb = torch.from_numpy(b).to(getattr(torch, dt)).requires_grad_()
    tx, tw = (torch.from_numpy(v).to(getattr(torch, dt)) for v in (x, w))
    torch.nn.functional.linear(tx, tw, tb).backward(torch.from_numpy(g).to(tb.dtype))
    tol = 2 * ctorch.finfo(cb.dtype).eps
    np.testing.assert_allclose(grads[0], tb.grad.float().numpy(), rtol=tol, atol=tol)


def test_h_sum_cols_checks_and_empty():
    k = 1
    with pytest.raises(ValueError, match="h_sum_cols"):
        H.h_sum_cols(k, np.zeros((2, 3), np.uint16), np.zeros(2, np.float32))
    o = np.full(3, 7.0, np.float32)
    H.h_sum_cols(k, np.zeros((0, 3), np.uint16), o)
    assert (o == 0).all()
    H.h_sum_cols(k, np.zeros((4, 0), np.uint16), np.zeros(0, np.float32))


@pytest.mark.skipif(not H.HAVE_AMX_BF16, reason="CPU without AMX-BF16")
def test_bgemm_amx_leaves_no_tile_state_and_takes_none():
    """The AMX kernel loads its tile configuration for every task and releases the tiles at
    its end: torch's own AMX GEMMs (oneDNN, which configures the tiles its way) run between
    two calls on the same threads and neither result moves."""
    import ml_dtypes

    rng = np.random.default_rng(12)
    a = rng.standard_normal((70, 200)).astype(ml_dtypes.bfloat16)
    b = rng.standard_normal((200, 90)).astype(ml_dtypes.bfloat16)
    ta = torch.from_numpy(a.astype(np.float32)).bfloat16()
    tb = torch.from_numpy(b.astype(np.float32)).bfloat16()

    def ours():
        o = np.empty((70, 90), ml_dtypes.bfloat16)
        H.bgemm(a.view(np.uint16), b.view(np.uint16), o.view(np.uint16))
        return o.view(np.uint16).copy()

    H._set_amx(True)
    with threads(1):
        first = ours()
        t1 = (ta @ tb).float().numpy()
        second = ours()
        t2 = (ta @ tb).float().numpy()
    assert np.array_equal(first, second)
    assert np.array_equal(t1, t2)
    # both float32 accumulations of the same bfloat16 products: within two bfloat16 roundings
    ref = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64))
    got = first.view(ml_dtypes.bfloat16).astype(np.float64)
    assert (np.abs(got - t1) <= 2**-7 * np.abs(ref) + 1e-5 * scale).all()


@pytest.mark.parametrize("dt", list(KIND))
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
def test_fused_arithmetic_loops_equal_the_blocked_kernels(name, dt):
    """add/sub/mul/div on AVX-512 take fused load-widen-op-narrow loops; every 16-bit
    pattern (NaN, inf, subnormals, zeros of both signs) against random operands and scalars
    gives the bits of the blocked kernels (the same conversions, the op table's float32 loop
    on a scratch block), with lengths that leave a tail; and the bits torch gives."""
    if not H._set_fused(True):
        pytest.skip("this CPU has no AVX-512 (with BW): no fused loops")
    kind, op = KIND[dt], _table.BINARY_BY_NAME[name].code
    rng = np.random.default_rng(11)
    x = np.concatenate(
        [np.arange(65536, dtype=np.uint16), rng.integers(0, 65536, 37).astype(np.uint16)]
    )
    y = rng.integers(0, 65536, x.size).astype(np.uint16)
    got, want = {}, {}
    for fused, res in ((True, got), (False, want)):
        H._set_fused(fused)
        try:
            for key, fn in (
                ("xy", lambda o: H.h_binary(kind, op, x, y, o)),
                ("xs", lambda o: H.h_binary_scalar(kind, op, x, 1.7, o)),
                ("sx", lambda o: H.h_binary_scalar(kind, op, x, -0.3, o, True)),
                ("x0", lambda o: H.h_binary_scalar(kind, op, x, 0.0, o)),
            ):
                o = np.empty_like(x)
                fn(o)
                res[key] = o
        finally:
            H._set_fused(True)

    def nan(bits):  # NaN payloads are not compared: which operand's NaN propagates
        # depends on the instruction's operand order, which the compiler picks for a + b
        return torch.from_numpy(bits.view(np.int16)).view(getattr(torch, dt)).isnan().numpy()

    for key in got:
        gn, wn = nan(got[key]), nan(want[key])
        np.testing.assert_array_equal(gn, wn, err_msg=key)
        np.testing.assert_array_equal(got[key][~gn], want[key][~wn], err_msg=key)
    # and torch's bits where torch's result is not NaN (NaN payloads are not compared)
    tx = torch.from_numpy(x.view(np.int16)).view(getattr(torch, dt))
    ty = torch.from_numpy(y.view(np.int16)).view(getattr(torch, dt))
    t = getattr(torch, name)(tx, ty).view(torch.int16).numpy().view(np.uint16)
    ok = ~torch.isnan(getattr(torch, name)(tx, ty)).numpy()
    np.testing.assert_array_equal(got["xy"][ok], t[ok])


@pytest.mark.parametrize("dt", list(KIND))
def test_inplace_and_out_16bit_write_the_destination_directly(dt):
    """a.add_(b), a.mul_(2), torch.add(a, b, out=o) in 16 bits: the kernels write the
    destination (no temporary copied back), with the out-of-place op's bits; a destination
    the kernels cannot write (wrong dtype, strided) still gets them through a copy."""
    rng = np.random.default_rng(4)
    n = 70_001
    a0 = ctorch.tensor(rng.standard_normal(n).astype(np.float32)).to(getattr(ctorch, dt))
    b = ctorch.tensor(rng.standard_normal(n).astype(np.float32)).to(getattr(ctorch, dt))
    bits = lambda t: t.numpy().view(np.uint16)  # noqa: E731
    import tracemalloc

    a = a0.clone()
    ptr = a.numpy().ctypes.data
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    a.add_(b)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert peak < n  # bytes: no temporary of the result's size (2n bytes)
    assert a.numpy().ctypes.data == ptr and a._version == 1
    np.testing.assert_array_equal(bits(a), bits(a0 + b))
    a.mul_(2.5)
    np.testing.assert_array_equal(bits(a), bits((a0 + b) * 2.5))
    o = ctorch.empty(n, dtype=a0.dtype)
    r = ctorch.sub(a0, b, out=o)
    assert r is o
    np.testing.assert_array_equal(bits(o), bits(a0 - b))
    o32 = ctorch.empty(n)
    ctorch.sub(a0, b, out=o32)  # float32 out: the 16-bit result widened, as torch
    np.testing.assert_array_equal(o32.numpy(), (a0 - b).float().numpy())
    big = ctorch.zeros(2 * n, dtype=a0.dtype)
    ctorch.mul(a0, b, out=big[::2])
    np.testing.assert_array_equal(bits(big[::2].contiguous()), bits(a0 * b))
    assert not big[1::2].any()
    t = torch.from_numpy(a0.float().numpy()).to(getattr(torch, dt))
    t.add_(torch.from_numpy(b.float().numpy()).to(getattr(torch, dt)))
    np.testing.assert_array_equal(bits(a0 + b), t.view(torch.int16).numpy().view(np.uint16))


@pytest.mark.parametrize("dt", list(KIND))
def test_fused_relu_neg_loops_equal_the_blocked_kernels(dt):
    """relu and neg forward and relu backward take fused AVX-512 loops too: every 16-bit
    pattern gives the blocked kernels' bits (relu(NaN) = NaN, relu(-0) = -0, gradient 0
    where y <= 0)."""
    if not H._set_fused(True):
        pytest.skip("this CPU has no AVX-512 (with BW): no fused loops")
    kind = KIND[dt]
    relu, neg = _table.UNARY_BY_NAME["relu"].code, _table.UNARY_BY_NAME["neg"].code
    rng = np.random.default_rng(12)
    x = np.concatenate(
        [np.arange(65536, dtype=np.uint16), rng.integers(0, 65536, 21).astype(np.uint16)]
    )
    g = rng.integers(0, 65536, x.size).astype(np.uint16)
    res = {}
    for fused in (True, False):
        H._set_fused(fused)
        try:
            for name, fn in (
                ("relu", lambda o: H.h_unary(kind, relu, x, o, 0.0, 0.0)),
                ("neg", lambda o: H.h_unary(kind, neg, x, o, 0.0, 0.0)),
                ("relu_bwd", lambda o: H.h_unary_backward(kind, relu, g, x, x, o, 0.0, 0.0)),
            ):
                o = np.empty_like(x)
                fn(o)
                res[fused, name] = o
        finally:
            H._set_fused(True)
    for name in ("relu", "neg", "relu_bwd"):
        np.testing.assert_array_equal(res[True, name], res[False, name], err_msg=name)
