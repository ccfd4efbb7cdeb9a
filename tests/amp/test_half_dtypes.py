"""float16 and bfloat16 as tensor dtypes: promotion, creation, printing, conversion, finfo,
torch file interchange, DLPack, ``__array__``, and every op of the op table plus the common nn
ops against torch's CPU (which computes in float32 and rounds once)."""

from __future__ import annotations

import io

import ml_dtypes
import numpy as np
import pytest

import ctorch
from ctorch import _table

torch = pytest.importorskip("torch")

HALF = ["float16", "bfloat16"]
ALL = [
    "bool",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "complex64",
    "complex128",
]


def _ct(name):
    return getattr(ctorch, name)


def _th(name):
    return getattr(torch, name)


def _pair(values, dt, requires_grad=False):
    """The same values as a ctorch and a torch tensor of dtype ``dt``."""
    a = np.asarray(values, dtype=np.float32)
    c = ctorch.tensor(a).to(_ct(dt))
    t = torch.from_numpy(a.copy()).to(_th(dt))
    if requires_grad:
        c.requires_grad_(True)
        t.requires_grad_(True)
    return c, t


def _f32(x):
    if isinstance(x, ctorch.Tensor):
        return x.detach().float().numpy()
    return x.detach().float().numpy()


def _close(c, t, dt, ulps=2.0, atol=None):
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (c.dtype, t.dtype)
    eps = ctorch.finfo(_ct(dt)).eps if dt in HALF else 1e-6
    np.testing.assert_allclose(
        _f32(c), _f32(t), rtol=ulps * eps, atol=atol if atol is not None else ulps * eps
    )


# ------------------------------------------------------------------ dtype basics
@pytest.mark.parametrize("a", ALL)
@pytest.mark.parametrize("b", ALL)
def test_promote_types_matches_torch(a, b):
    want = torch.promote_types(_th(a), _th(b))
    assert str(ctorch.promote_types(_ct(a), _ct(b))).split(".")[-1] == str(want).split(".")[-1]


@pytest.mark.parametrize("dt", HALF)
@pytest.mark.parametrize("other", [1, 2.5, True, "int64", "float32", "float64", "int32"])
def test_result_type_scalars_and_0d(dt, other):
    c = ctorch.ones(2, dtype=_ct(dt))
    t = torch.ones(2, dtype=_th(dt))
    if isinstance(other, str):
        co, to = ctorch.ones((), dtype=_ct(other)), torch.ones((), dtype=_th(other))
        # 0-d tensors do not promote a dimensioned one of the same category
        assert (
            repr(ctorch.result_type(c, co)).split(".")[-1]
            == repr(torch.result_type(t, to)).split(".")[-1]
        )
        co2, to2 = ctorch.ones(2, dtype=_ct(other)), torch.ones(2, dtype=_th(other))
        assert str((c + co2).dtype).split(".")[-1] == str((t + to2).dtype).split(".")[-1]
    else:
        assert str((c + other).dtype).split(".")[-1] == str((t + other).dtype).split(".")[-1]


@pytest.mark.parametrize("dt", HALF)
def test_creation(dt):
    cd, td = _ct(dt), _th(dt)
    for fc, ft in [
        (lambda: ctorch.zeros(2, 3, dtype=cd), lambda: torch.zeros(2, 3, dtype=td)),
        (lambda: ctorch.ones(4, dtype=cd), lambda: torch.ones(4, dtype=td)),
        (lambda: ctorch.full((2,), 0.1, dtype=cd), lambda: torch.full((2,), 0.1, dtype=td)),
        (lambda: ctorch.arange(0, 3, 0.3, dtype=cd), lambda: torch.arange(0, 3, 0.3, dtype=td)),
        (lambda: ctorch.linspace(0, 1, 7, dtype=cd), lambda: torch.linspace(0, 1, 7, dtype=td)),
        (
            lambda: ctorch.tensor([0.1, 1e5, -3.3], dtype=cd),
            lambda: torch.tensor([0.1, 1e5, -3.3], dtype=td),
        ),
        (lambda: ctorch.eye(3, dtype=cd), lambda: torch.eye(3, dtype=td)),
        (
            lambda: ctorch.zeros_like(ctorch.ones(2), dtype=cd),
            lambda: torch.zeros_like(torch.ones(2), dtype=td),
        ),
    ]:
        c, t = fc(), ft()
        assert c.dtype is cd and tuple(c.shape) == tuple(t.shape)
        np.testing.assert_array_equal(_f32(c), _f32(t))
    for f in ("randn", "rand", "empty"):
        assert getattr(ctorch, f)(3, dtype=cd).dtype is cd
    assert ctorch.randint(0, 5, (3,), dtype=cd).dtype is cd


@pytest.mark.parametrize("dt", HALF)
def test_conversions_round_like_torch(dt):
    rng = np.random.default_rng(0)
    v = np.concatenate(
        [
            rng.standard_normal(1000) * 10.0 ** rng.integers(-8, 8, 1000),
            [np.inf, -np.inf, np.nan, 0.0, -0.0, 65504.0, 65520.0, 3e38],
        ]
    ).astype(np.float32)
    c, t = ctorch.tensor(v), torch.from_numpy(v.copy())
    meth = "half" if dt == "float16" else "bfloat16"
    cc, tt = getattr(c, meth)(), getattr(t, meth)()
    assert cc.dtype is _ct(dt)
    np.testing.assert_array_equal(_f32(cc), _f32(tt))
    np.testing.assert_array_equal(_f32(c.to(_ct(dt))), _f32(tt))
    np.testing.assert_array_equal(_f32(c.type(_ct(dt))), _f32(tt))
    # back to every other dtype
    for o in ("float32", "float64", "int32", "float16", "bfloat16"):
        if o.startswith("int"):
            fin = np.isfinite(_f32(tt)) & (np.abs(_f32(tt)) < 2**31)
            np.testing.assert_array_equal(cc.to(_ct(o)).numpy()[fin], tt.to(_th(o)).numpy()[fin])
        else:
            np.testing.assert_array_equal(_f32(cc.to(_ct(o))), _f32(tt.to(_th(o))))


def test_legacy_and_methods():
    x = ctorch.randn(3)
    assert x.half().dtype is ctorch.float16 and x.bfloat16().dtype is ctorch.bfloat16
    assert ctorch.half is ctorch.float16
    assert ctorch.BFloat16Tensor([1.0]).dtype is ctorch.bfloat16
    assert x.bfloat16().is_floating_point()
    assert x.bfloat16().element_size() == 2
    m = ctorch.nn.Linear(2, 2).bfloat16()
    assert m.weight.dtype is ctorch.bfloat16


@pytest.mark.parametrize("dt", [*HALF, "float32", "float64", "complex64"])
def test_finfo_matches_torch(dt):
    c, t = ctorch.finfo(_ct(dt)), torch.finfo(_th(dt))
    assert repr(c) == repr(t)
    for k in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(c, k) == getattr(t, k), k


def test_finfo_rejects_integers():
    with pytest.raises(TypeError, match="floating point"):
        ctorch.finfo(ctorch.int32)


@pytest.mark.parametrize("dt", HALF)
def test_printing_matches_torch(dt):
    for v in (
        [[0.1, -2.5, 1e4], [float("nan"), float("inf"), 3.0]],
        [1.0, 2.0],
        3.5,
        [1e-8, 1.0],
        [123456.0, 1.0],
        list(range(2000)),
    ):
        a = repr(ctorch.tensor(v, dtype=_ct(dt))).replace("ctorch.", "torch.")
        assert a == repr(torch.tensor(v, dtype=_th(dt)))


@pytest.mark.parametrize("dt", HALF)
def test_torch_file_interchange(dt, tmp_path):
    x = torch.randn(5, 3).to(_th(dt))
    torch.save({"x": x, "view": x[1:, 1]}, tmp_path / "t.pt")
    r = ctorch.load(tmp_path / "t.pt")
    assert r["x"].dtype is _ct(dt)
    np.testing.assert_array_equal(_f32(r["x"]), _f32(x))
    np.testing.assert_array_equal(_f32(r["view"]), _f32(x[1:, 1]))
    buf = io.BytesIO()
    ctorch.save({"x": r["x"], "view": r["view"]}, buf)
    buf.seek(0)
    q = torch.load(buf)
    assert q["x"].dtype == _th(dt) and torch.equal(q["x"], x) and torch.equal(q["view"], x[1:, 1])


@pytest.mark.parametrize("dt", HALF)
def test_dlpack_both_ways_shares_memory(dt):
    x = ctorch.randn(4, 3).to(_ct(dt))
    tx = torch.from_dlpack(x)
    assert tx.dtype == _th(dt)
    np.testing.assert_array_equal(_f32(x), _f32(tx))
    tx[0, 0] = 7
    assert x[0, 0].item() == 7.0
    y = torch.randn(3, 2).to(_th(dt))
    cy = ctorch.from_dlpack(y)
    assert cy.dtype is _ct(dt)
    np.testing.assert_array_equal(_f32(cy), _f32(y))
    y[0, 0] = 5
    assert cy[0, 0].item() == 5.0


def test_array_protocol():
    b = ctorch.tensor([1.5, 2.0]).bfloat16()
    a = np.asarray(b)
    assert a.dtype == np.dtype(ml_dtypes.bfloat16)  # the storage itself (torch has no NumPy bf16)
    assert np.shares_memory(a, b.numpy())
    np.testing.assert_array_equal(np.asarray(b, dtype=np.float32), [1.5, 2.0])
    h = ctorch.from_numpy(np.array([1, 2], dtype=ml_dtypes.bfloat16))
    assert h.dtype is ctorch.bfloat16
    assert ctorch.tensor(np.array([1, 2], dtype=np.float16)).dtype is ctorch.float16


# ------------------------------------------------------------------ the op table
DOMAIN = {
    "log": (0.1, 3.0),
    "log1p": (-0.5, 3.0),
    "log2": (0.1, 3.0),
    "log10": (0.1, 3.0),
    "sqrt": (0.1, 3.0),
    "rsqrt": (0.1, 3.0),
    "reciprocal": (0.5, 3.0),
    "asin": (-0.9, 0.9),
    "acos": (-0.9, 0.9),
    "atanh": (-0.9, 0.9),
    "acosh": (1.2, 4.0),
    "tan": (-1.2, 1.2),
    "pow": (0.5, 2.0),
    "div": (0.5, 2.0),
    "xlogy": (0.1, 3.0),
    "fmod": (0.5, 2.0),
    "remainder": (0.5, 2.0),
}
TABLE = [op for op in (*_table.UNARY, *_table.BINARY) if op.public and not op.nn_only]


@pytest.mark.parametrize("dt", HALF)
@pytest.mark.parametrize("n", [7, 20000])
@pytest.mark.parametrize("op", TABLE, ids=[op.public for op in TABLE])
def test_table_op_matches_torch(op, n, dt):
    low, high = DOMAIN.get(op.public, (-2.0, 2.0))
    rng = np.random.default_rng(3)
    ins = [
        _pair(rng.uniform(low, high, n), dt, requires_grad=True)
        for _ in range(1 if op.kind == "unary" else 2)
    ]
    c = getattr(ctorch, op.public)(*[p[0] for p in ins])
    t = getattr(torch, op.public)(*[p[1] for p in ins])
    _close(c, t, dt, ulps=1.0)
    if c.requires_grad and op.public not in ("sign", "floor", "ceil", "round", "trunc"):
        g = rng.uniform(-1, 1, n)
        gc, gt = _pair(g, dt)
        c.backward(gc)
        t.backward(gt)
        for ci, ti in ins:
            # the backward expression rounds its intermediates (torch's fused kernel does not)
            _close(ci.grad, ti.grad, dt, ulps=4.0)


# ------------------------------------------------------------------ other ops
def _ops():
    return {
        "sum": (lambda L, x: x.sum(), [(6, 50)]),
        "sum_dim": (lambda L, x: x.sum(1), [(6, 50)]),
        "mean": (lambda L, x: x.mean(0), [(6, 50)]),
        "var": (lambda L, x: x.var(1), [(6, 50)]),
        "std": (lambda L, x: x.std(), [(6, 50)]),
        "prod": (lambda L, x: x.prod(1), [(6, 5)]),
        "norm": (lambda L, x: x.norm(dim=1), [(6, 50)]),
        "amax": (lambda L, x: x.amax(1), [(6, 50)]),
        "max_dim": (lambda L, x: x.max(1)[0], [(6, 50)]),
        "cumsum": (lambda L, x: x.cumsum(1), [(6, 50)]),
        "logsumexp": (lambda L, x: x.logsumexp(1), [(6, 50)]),
        "softmax": (lambda L, x: L.softmax(x, 1), [(6, 50)]),
        "log_softmax": (lambda L, x: L.log_softmax(x, 1), [(6, 50)]),
        "matmul": (lambda L, x, y: x @ y, [(6, 40), (40, 5)]),
        "bmm": (lambda L, x, y: L.bmm(x, y), [(2, 6, 40), (2, 40, 5)]),
        "linear": (lambda L, x, w, b: _f(L).linear(x, w, b), [(6, 40), (5, 40), (5,)]),
        "layer_norm": (
            lambda L, x, w, b: _f(L).layer_norm(x, (40,), w, b),
            [(6, 40), (40,), (40,)],
        ),
        "batch_norm": (lambda L, x: _f(L).batch_norm(x, None, None, training=True), [(6, 4, 5)]),
        "conv2d": (lambda L, x, w: _f(L).conv2d(x, w, padding=1), [(2, 3, 8, 8), (4, 3, 3, 3)]),
        "max_pool2d": (lambda L, x: _f(L).max_pool2d(x, 2), [(2, 3, 8, 8)]),
        "avg_pool2d": (lambda L, x: _f(L).avg_pool2d(x, 2), [(2, 3, 8, 8)]),
        "mse_loss": (lambda L, x, y: _f(L).mse_loss(x, y), [(6, 50), (6, 50)]),
        "cross_entropy": (
            lambda L, x: _f(L).cross_entropy(x, L.tensor([0, 1, 2, 3, 4, 5])),
            [(6, 8)],
        ),
        "gelu": (lambda L, x: _f(L).gelu(x), [(6, 50)]),
        "silu": (lambda L, x: _f(L).silu(x), [(6, 50)]),
        "relu": (lambda L, x: _f(L).relu(x), [(6, 50)]),
        "dropout_eval": (lambda L, x: _f(L).dropout(x, 0.5, training=False), [(6, 50)]),
        "cat": (lambda L, x, y: L.cat([x, y]), [(6, 5), (2, 5)]),
        "where": (lambda L, x, y: L.where(x > 0, x, y), [(6, 5), (6, 5)]),
        "clamp": (lambda L, x: x.clamp(-0.5, 0.5), [(6, 5)]),
        "index": (lambda L, x: x[1:4, ::2], [(6, 5)]),
        "transpose_mul": (lambda L, x: x.t() * 2.5, [(6, 5)]),
        "embedding": (lambda L, w: _f(L).embedding(L.tensor([[0, 2], [1, 1]]), w), [(4, 6)]),
    }


def _f(L):
    return L.nn.functional


OPS = _ops()


@pytest.mark.parametrize("dt", HALF)
@pytest.mark.parametrize("name", list(OPS))
def test_op_matches_torch(name, dt):
    fn, shapes = OPS[name]
    rng = np.random.default_rng(5)
    ins = [_pair(rng.uniform(-1, 1, s), dt, requires_grad=True) for s in shapes]
    c = fn(ctorch, *[p[0] for p in ins])
    t = fn(torch, *[p[1] for p in ins])
    # reductions and products sum in float32 in a different order than torch
    _close(c, t, dt, ulps=2.0, atol=4 * ctorch.finfo(_ct(dt)).eps)
    g = rng.uniform(-1, 1, tuple(t.shape))
    gc, gt = _pair(g, dt)
    c.backward(gc)
    t.backward(gt)
    for i, (ci, ti) in enumerate(ins):
        assert ci.grad.dtype is _ct(dt), (name, i)
        _close(ci.grad, ti.grad, dt, ulps=4.0, atol=8 * ctorch.finfo(_ct(dt)).eps)


@pytest.mark.parametrize("dt", HALF)
def test_einsum_and_tensordot_without_grad(dt):
    a, ta = _pair(np.random.default_rng(0).uniform(-1, 1, (3, 4)), dt)
    b, tb = _pair(np.random.default_rng(1).uniform(-1, 1, (4, 5)), dt)
    _close(ctorch.einsum("ij,jk->ik", a, b), torch.einsum("ij,jk->ik", ta, tb), dt, ulps=2.0)
    _close(ctorch.tensordot(a, b, 1), torch.tensordot(ta, tb, 1), dt, ulps=2.0)


@pytest.mark.parametrize("dt", HALF)
def test_every_public_function_accepts_16bit_when_float32_works(dt):
    """A sweep over ctorch's top-level functions and Tensor methods: each that runs on a
    float32 (3, 4) tensor (or two) also runs on the 16-bit one."""
    import warnings

    x32 = ctorch.rand(3, 4) + 0.5
    skip = {
        "load",
        "save",
        "manual_seed",
        "set_default_dtype",
        "set_num_threads",
        "compile",
        "set_printoptions",
        "use_deterministic_algorithms",
        "set_grad_enabled",
        "set_default_device",
        "set_rng_state",
        "from_file",
        "promote_types",
        "set_num_interop_threads",
        "set_autocast_dtype",
        "set_autocast_cpu_dtype",
        "set_autocast_gpu_dtype",
        "set_autocast_enabled",
        "set_autocast_cpu_enabled",
        "set_autocast_cache_enabled",
        "empty_strided",
        "seed",
        "initial_seed",
    }
    failures = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in sorted(dir(ctorch)):
            f = getattr(ctorch, name)
            if name.startswith("_") or name in skip or not callable(f) or isinstance(f, type):
                continue
            for args in ((x32,), (x32, x32)):
                try:
                    f(*args)
                except Exception:
                    continue
                try:
                    f(*[a.to(_ct(dt)) for a in args])
                except Exception as e:  # noqa: BLE001 - collected and reported below
                    if not _torch_refuses_16bit(name, args, dt):
                        failures.append(f"{name}: {type(e).__name__}: {e}")
                break
    assert not failures, failures


def _torch_refuses_16bit(name, args, dt) -> bool:
    """torch itself raises for this function on 16-bit inputs (linalg's "Low precision
    dtypes not supported", complex() of half parts, ...): ctorch raising too is parity."""
    if name in ("complex", "polar") and dt == "float16":
        return True  # torch makes complex32 (chalf); ctorch has none (ops/complex.py)
    tf = getattr(torch, name, None)
    if tf is None or not callable(tf):
        return False
    try:
        tf(
            *[
                torch.from_numpy(a.numpy()).to(
                    _ct(dt) is ctorch.float16 and torch.float16 or torch.bfloat16
                )
                for a in args
            ]
        )
    except Exception:  # noqa: BLE001 - any refusal counts
        return True
    return False


@pytest.mark.parametrize("dt", ["bfloat16", "float16"])
@pytest.mark.parametrize(
    "kw",
    [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, stride=1)],
)
def test_max_pool2d_16bit_runs_in_batch_chunks_with_torchs_values(monkeypatch, dt, kw):
    """16-bit max pooling runs the float32 kernels a batch chunk at a time (its float32
    scratch stays one chunk, issue #12's peak memory): values, indices and the gradient
    (overlapping windows too) are torch's, with one chunk or many."""
    torch = pytest.importorskip("torch")
    from ctorch.ops import max_pool

    rng = np.random.default_rng(3)
    a = rng.standard_normal((5, 3, 9, 9)).astype(np.float32)
    g = rng.standard_normal((5, 3, 9, 9)).astype(np.float32)
    tx = torch.from_numpy(a).to(getattr(torch, dt)).requires_grad_()
    ty, ti = torch.nn.functional.max_pool2d(tx, return_indices=True, **kw)
    tg = torch.from_numpy(g[:, :, : ty.shape[2], : ty.shape[3]].copy()).to(tx.dtype)
    ty.backward(tg)
    # the gradient: torch's float32 scatter rounded once (torch's 16-bit kernel rounds after
    # every add where windows overlap; ctorch adds in float32, the more accurate result)
    t32 = tx.detach().float().requires_grad_()
    torch.nn.functional.max_pool2d(t32, **kw).backward(tg.float())
    want_grad = t32.grad.to(tx.dtype).float().numpy()
    if kw.get("stride", kw["kernel_size"]) >= kw["kernel_size"]:
        np.testing.assert_array_equal(want_grad, tx.grad.float().numpy())
    for chunk in (1 << 20, 3 * 9 * 9 * 2):  # one chunk; chunks of 2 images (5 = 2+2+1)
        monkeypatch.setattr(max_pool, "_HALF_CHUNK", chunk)
        x = ctorch.from_numpy(a).to(getattr(ctorch, dt)).requires_grad_()
        y, i = ctorch.nn.functional.max_pool2d(x, return_indices=True, **kw)
        y.backward(ctorch.from_numpy(tg.float().numpy()).to(x.dtype))
        assert y.dtype == x.dtype and x.grad.dtype == x.dtype
        np.testing.assert_array_equal(y.detach().float().numpy(), ty.detach().float().numpy())
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
        np.testing.assert_array_equal(x.grad.float().numpy(), want_grad)
        x2 = ctorch.from_numpy(a).to(getattr(ctorch, dt)).requires_grad_()
        ctorch.nn.functional.max_pool2d(x2, **kw).backward(y.detach() * 0 + 1)
        assert x2.grad.dtype == x2.dtype


def test_max_pool2d_bfloat16_keeps_no_whole_float32_copy(monkeypatch):
    import tracemalloc

    from ctorch.ops import max_pool

    monkeypatch.setattr(max_pool, "_HALF_CHUNK", 8 * 8 * 32 * 32)  # 8 images a chunk
    x = ctorch.randn(64, 8, 32, 32).to(ctorch.bfloat16).requires_grad_()
    y = ctorch.nn.functional.max_pool2d(x, 2)
    g = ctorch.ones_like(y)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    y = ctorch.nn.functional.max_pool2d(x, 2)
    y.backward(g)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    kept = y.numel() * (2 + 8) + x.numel() * 2  # y (bf16), its int64 indices, x.grad (bf16)
    # plus one chunk's float32 scratch (1/8 of x): under half a float32 copy of x, which the
    # whole-tensor widening took on top of these
    assert peak - kept < x.numel() * 4 / 2, (peak, kept)
