"""Complex tensors: creation, promotion, ops, views, printing, serialization and autograd
(torch's conjugate-Wirtinger convention), each against torch on the same inputs and against
float64/complex128 finite differences (``ctorch.autograd.gradcheck`` perturbs real and
imaginary parts)."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from helpers import assert_close

import ctorch

torch = pytest.importorskip("torch")


def _c(rng, shape, dt=np.complex128):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)


def _pair(a, rg=False):
    c = ctorch.from_numpy(np.array(a, copy=True))
    t = torch.from_numpy(np.array(a, copy=True))
    if rg:
        c.requires_grad_(True)
        t.requires_grad_(True)
    return c, t


def check_c(fn, arrays, *, grad=True, atol=1e-5, rtol=1e-4, gradcheck=True, seed=1):
    """``fn(lib, *tensors)`` on ctorch and torch: forward values/dtypes; then gradients of
    the inputs for a random (complex where the output is) upstream gradient against torch's,
    and complex128/float64 finite differences."""
    cs, ts = zip(*[_pair(a, grad and a.dtype.kind in "fc") for a in arrays], strict=True)
    oc, ot = fn(ctorch, *cs), fn(torch, *ts)
    assert_close(oc, ot.resolve_conj(), atol, rtol, msg="forward vs torch")
    if not grad:
        return oc
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(tuple(ot.shape))
    if ot.is_complex():
        g = g + 1j * rng.standard_normal(tuple(ot.shape))
    g = np.asarray(g, dtype=ot.resolve_conj().detach().numpy().dtype)
    oc.backward(ctorch.from_numpy(g.copy()))
    ot.backward(torch.from_numpy(g.copy()))
    for i, (c, t) in enumerate(zip(cs, ts, strict=True)):
        if t.grad is None:
            assert c.grad is None or not np.any(c.grad.numpy())
            continue
        assert c.grad is not None, f"input {i}: no grad"
        assert c.grad.dtype == getattr(ctorch, str(t.grad.dtype).split(".")[-1])
        np.testing.assert_allclose(
            c.grad.numpy(), t.grad.resolve_conj().numpy(), atol=1e-4, rtol=1e-3, err_msg=str(i)
        )
    if gradcheck:
        xs = []
        for a in arrays:
            if a.dtype.kind == "c":
                a = a.astype(np.complex128)
            elif a.dtype.kind == "f":
                a = a.astype(np.float64)
            xs.append(ctorch.from_numpy(a.copy()).requires_grad_(a.dtype.kind in "fc"))
        assert ctorch.autograd.gradcheck(lambda *x: fn(ctorch, *x), tuple(xs))
    return oc


# ------------------------------------------------------------------ creation and dtypes
def test_dtype_names_and_aliases():
    assert ctorch.cfloat is ctorch.complex64 and ctorch.cdouble is ctorch.complex128
    assert ctorch.complex64.is_complex and not ctorch.complex64.is_floating_point
    assert ctorch.tensor([1 + 2j]).dtype is ctorch.complex64
    assert ctorch.tensor(1j).dtype is ctorch.complex64
    ctorch.set_default_dtype(ctorch.float64)
    try:
        assert ctorch.tensor([1j]).dtype is ctorch.complex128
    finally:
        ctorch.set_default_dtype(ctorch.float32)
    assert ctorch.tensor(np.array([1j], np.complex128)).dtype is ctorch.complex128


@pytest.mark.parametrize("dt", ["complex64", "complex128"])
def test_creation(dt):
    c, t = getattr(ctorch, dt), getattr(torch, dt)
    for name in ("zeros", "ones", "empty"):
        a, b = getattr(ctorch, name)(2, 3, dtype=c), getattr(torch, name)(2, 3, dtype=t)
        assert a.dtype is c and a.shape == b.shape
        if name != "empty":
            assert_close(a, b)
    assert_close(ctorch.full((2,), 1 - 2j, dtype=c), torch.full((2,), 1 - 2j, dtype=t))
    assert_close(ctorch.full((2,), 1 - 2j), torch.full((2,), 1 - 2j))
    assert ctorch.zeros_like(ctorch.zeros(2), dtype=c).dtype is c


@pytest.mark.parametrize("dt", [ctorch.complex64, ctorch.complex128])
def test_randn_rand_complex(dt):
    ctorch.manual_seed(0)
    z = ctorch.randn(20000, dtype=dt)
    assert z.dtype is dt
    a = z.numpy()
    # torch: real and imaginary parts independent, each N(0, 1/2): E|z|^2 = 1
    assert abs(a.real.var() - 0.5) < 0.03 and abs(a.imag.var() - 0.5) < 0.03
    assert abs(np.mean(np.abs(a) ** 2) - 1) < 0.05
    assert abs(np.corrcoef(a.real, a.imag)[0, 1]) < 0.05
    u = ctorch.rand(20000, dtype=dt).numpy()
    assert u.real.min() >= 0 and u.real.max() < 1 and u.imag.min() >= 0 and u.imag.max() < 1
    assert abs(u.imag.mean() - 0.5) < 0.02


def test_complex_and_polar_forward_errors():
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        re, im = rng.standard_normal((3, 1)).astype(dt), rng.standard_normal((4,)).astype(dt)
        check_c(lambda L, a, b: L.complex(a, b), [re, im], grad=False)
        r = np.abs(re)
        check_c(lambda L, a, b: L.polar(a, b), [r, im], grad=False)
    with pytest.raises(RuntimeError, match="scalar type"):
        ctorch.complex(ctorch.zeros(2), ctorch.zeros(2, dtype=ctorch.float64))
    with pytest.raises(RuntimeError):
        ctorch.complex(ctorch.zeros(2, dtype=ctorch.int64), ctorch.zeros(2, dtype=ctorch.int64))


# ------------------------------------------------------------------ promotion
@pytest.mark.parametrize(
    "expr",
    [
        lambda L: L.ones(2) + L.ones(2, dtype=L.complex64),
        lambda L: L.ones(2, dtype=L.float64) + L.ones(2, dtype=L.complex64),
        lambda L: L.ones(2, dtype=L.int64) * L.ones(2, dtype=L.complex128),
        lambda L: L.ones(2) * 1j,
        lambda L: L.ones(2, dtype=L.float64) * 1j,
        lambda L: L.arange(3) + (2 - 1j),
        lambda L: L.ones(2, dtype=L.complex64) * 2.5,
        lambda L: L.ones(2, dtype=L.complex64) + L.tensor(1.0, dtype=L.float64),
        lambda L: L.ones(2, dtype=L.float32) + L.tensor(1j, dtype=L.complex128),
        lambda L: L.ones(2, dtype=L.complex64) / L.ones(2, dtype=L.complex128),
    ],
)
def test_promotion_matches_torch(expr):
    assert_close(expr(ctorch), expr(torch))


# ------------------------------------------------------------------ elementwise forward + grads
UNARY = [
    "exp",
    "log",
    "log2",
    "log10",
    "log1p",
    "expm1",
    "sqrt",
    "rsqrt",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sinh",
    "cosh",
    "asin",
    "acos",
    "atan",
    "asinh",
    "acosh",
    "atanh",
    "sigmoid",
    "reciprocal",
    "neg",
    "square",
    "abs",
    "angle",
    "sgn",
    "conj",
    "conj_physical",
    "real",
    "imag",
]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dt", [np.complex64, np.complex128])
def test_unary_forward_and_grad(name, dt):
    z = _c(np.random.default_rng(3), (2, 3), dt)
    check_c(
        lambda L, x: getattr(L, name)(x), [z], gradcheck=dt == np.complex128, atol=2e-5, rtol=2e-4
    )


@pytest.mark.parametrize("name", ["exp", "sqrt", "tanh", "abs", "sigmoid", "log"])
def test_unary_methods_large(name):
    # above the kernel threshold: the complex path must not enter the real SIMD kernels
    z = _c(np.random.default_rng(0), (40000,), np.complex64)
    check_c(lambda L, x: getattr(x, name)(), [z], gradcheck=False, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", ["floor", "ceil", "relu", "erf", "trunc"])
def test_unary_unsupported_raise(name):
    z = ctorch.tensor([1 + 1j])
    with pytest.raises(NotImplementedError) as ec:
        getattr(ctorch, name)(z)
    with pytest.raises(NotImplementedError) as et:
        getattr(torch, name)(torch.tensor([1 + 1j]))
    assert type(ec.value) is type(et.value)
    assert "omplex" in str(ec.value)
    with pytest.raises(NotImplementedError, match="sgn"):
        ctorch.sign(z)


@pytest.mark.parametrize(
    "fn",
    [
        lambda L, a, b: a + b,
        lambda L, a, b: a - b,
        lambda L, a, b: a * b,
        lambda L, a, b: a / b,
        lambda L, a, b: a**b,
        lambda L, a, b: a**3,
        lambda L, a, b: a**0.5,
        lambda L, a, b: 2 ** (a * 0.3),
        lambda L, a, b: (1 - 2j) / a,
        lambda L, a, b: a * (2 + 1j) - 1j,
        lambda L, a, b: L.pow(a, 2),
    ],
)
def test_binary_complex(fn):
    rng = np.random.default_rng(5)
    check_c(fn, [_c(rng, (2, 3)), _c(rng, (3,))])


@pytest.mark.parametrize(
    "fn",
    [
        lambda L, z, x: z * x,
        lambda L, z, x: x / z,
        lambda L, z, x: z - x,
        lambda L, z, x: x * 1j + z,
        lambda L, z, x: x.to(L.complex128) * z,
        lambda L, z, x: L.complex(x, x * x) * z,
        lambda L, z, x: L.polar(x.abs() + 0.1, x) / z,
    ],
)
def test_mixed_real_complex_grads(fn):
    # the real operand's gradient is the real part (torch's handle_r_to_c)
    rng = np.random.default_rng(6)
    check_c(fn, [_c(rng, (2, 3)), rng.standard_normal((2, 3))])


def test_comparisons():
    z = ctorch.tensor([1 + 1j, 2 - 1j])
    assert (z == ctorch.tensor([1 + 1j, 2 + 1j])).tolist() == [True, False]
    assert (z != z).tolist() == [False, False]
    for op in ("lt", "le", "gt", "ge"):
        with pytest.raises(RuntimeError, match=f'"{op}_cpu" not implemented for'):
            getattr(ctorch, op)(z, z)
    with pytest.raises(RuntimeError, match="ComplexFloat"):
        z < 1  # noqa: B015
    with pytest.raises(RuntimeError):
        torch.tensor([1 + 1j]) < 1  # noqa: B015


# ------------------------------------------------------------------ reductions, matmul
@pytest.mark.parametrize(
    "fn",
    [
        lambda L, z: z.sum(),
        lambda L, z: z.sum(0),
        lambda L, z: z.mean(),
        lambda L, z: z.mean(1, keepdim=True),
        lambda L, z: z.prod(),
        lambda L, z: z.prod(1),
        lambda L, z: z.cumsum(1),
    ],
)
def test_reductions(fn):
    check_c(fn, [_c(np.random.default_rng(7), (3, 4))])


def test_prod_with_zero():
    z = _c(np.random.default_rng(8), (2, 3))
    z[0, 1] = 0
    check_c(lambda L, x: x.prod(1), [z])


@pytest.mark.parametrize(
    "shapes",
    [((3, 4), (4, 2)), ((4,), (4,)), ((2, 3, 4), (4,)), ((3,), (3, 2)), ((2, 2, 3), (3, 5))],
)
def test_matmul(shapes):
    rng = np.random.default_rng(9)
    check_c(lambda L, a, b: a @ b, [_c(rng, shapes[0]), _c(rng, shapes[1])])


# ------------------------------------------------------------------ views
def test_real_imag_views_share_memory():
    z = ctorch.tensor([1 + 2j, 3 - 4j], dtype=ctorch.complex128)
    z.real[0] = 10
    z.imag[1] = 7
    assert z.tolist() == [10 + 2j, 3 + 7j]
    z.real = ctorch.tensor([0.5, 0.25], dtype=ctorch.float64)
    assert z.tolist() == [0.5 + 2j, 0.25 + 7j]
    x = ctorch.tensor([1.0, 2.0])
    assert x.real is x
    with pytest.raises(RuntimeError, match="non-complex"):
        x.imag  # noqa: B018


def test_view_as_real_complex_share_memory():
    z = ctorch.randn(3, 4, dtype=ctorch.complex64)
    r = ctorch.view_as_real(z)
    assert r.shape == (3, 4, 2) and r.dtype is ctorch.float32
    r[1, 2, 1] = 5.0
    assert z[1, 2].item().imag == 5.0
    # on a non-contiguous complex tensor, as torch (strides double)
    zt = z.t()
    rt = ctorch.view_as_real(zt)
    assert rt.shape == (4, 3, 2)
    rt[0, 2, 0] = -9.0
    assert z[2, 0].item().real == -9.0
    c = ctorch.view_as_complex(r)
    c[0, 0] = 1 + 1j
    assert z[0, 0].item() == 1 + 1j
    assert np.shares_memory(c.numpy(), z.numpy())
    with pytest.raises(RuntimeError, match="last dimension of size 2"):
        ctorch.view_as_complex(ctorch.zeros(3, 3))
    with pytest.raises(RuntimeError, match="stride 1"):
        ctorch.view_as_complex(ctorch.zeros(2, 4)[:, ::2].t().contiguous().t())
    with pytest.raises(RuntimeError):
        ctorch.view_as_real(ctorch.zeros(2))
    for L in (ctorch, torch):
        with pytest.raises(RuntimeError, match="storage_offset divisible by 2"):
            L.view_as_complex(L.zeros(5)[1:].reshape(2, 2))
    assert ctorch.view_as_complex(ctorch.arange(6.0)[2:].reshape(2, 2)).tolist() == [2 + 3j, 4 + 5j]


@pytest.mark.parametrize(
    "fn",
    [
        lambda L, z, x: L.view_as_real(z) * x.unsqueeze(-1),
        lambda L, z, x: L.view_as_complex(L.stack([x, x * x], -1)) * z,
        lambda L, z, x: L.view_as_real(z.t()),
        lambda L, z, x: z.real * x + z.imag,
        lambda L, z, x: z.conj() * z,
        lambda L, z, x: z.abs() * L.angle(z),
    ],
)
def test_view_grads(fn):
    rng = np.random.default_rng(10)
    check_c(fn, [_c(rng, (3, 3)), rng.standard_normal((3, 3))])


def test_conj_helpers():
    z = ctorch.tensor([1 + 2j])
    assert not z.is_conj() and ctorch.resolve_conj(z) is z
    assert ctorch.is_complex(z) and not ctorch.is_complex(ctorch.zeros(1))
    assert ctorch.isreal(ctorch.tensor([1 + 0j, 1j])).tolist() == [True, False]
    m = np.array([[1 + 2j, 3 - 1j]])
    assert_close(ctorch.tensor(m).mH, torch.tensor(m).mH.resolve_conj())
    assert_close(ctorch.tensor(m).adjoint(), torch.tensor(m).adjoint().resolve_conj())
    x = ctorch.zeros(2)
    assert ctorch.conj(x) is x


def test_cast_to_real_warns_like_torch():
    z = ctorch.tensor([1 + 2j])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = z.float()
    assert r.tolist() == [1.0]
    assert any("discards the imaginary part" in str(x.message) for x in w)


def test_backward_of_complex_output_needs_gradient():
    z = ctorch.tensor([1 + 2j], requires_grad=True)
    with pytest.raises(RuntimeError):
        (z * z).sum().backward()


# ------------------------------------------------------------------ printing
@pytest.mark.parametrize(
    "a",
    [
        np.array([1 + 2j, 3 - 1j]),
        np.array([[1.5 + 2j, -3.25 - 1e-3j], [0j, 1e5 + 1j]]),
        np.array(2.5 - 1j),
        (np.arange(40) * (1.3 + 0.7j)).reshape(5, 8),
        np.array([np.nan + 1j, np.inf - np.inf * 1j, 1 + 0j]),
        np.arange(2000) * (1 + 1j),
        np.array([-0.0 - 0.0j, 1e-8 + 1j]),
    ],
)
@pytest.mark.parametrize("dt", [np.complex64, np.complex128])
def test_repr_like_torch(a, dt):
    got = repr(ctorch.tensor(a.astype(dt)))
    want = repr(torch.tensor(a.astype(dt))).replace("torch.", "ctorch.")
    if "\n       dtype" in want and "\n       dtype" not in got:
        # ctorch's dtype suffix is one character longer: torch's line-width rule wraps it
        # at a different point; the values must match
        want = want.replace(",\n       dtype", ", dtype")
    assert got.split("dtype")[0].rstrip(", \n") == want.split("dtype")[0].rstrip(", \n")


# ------------------------------------------------------------------ serialization
@pytest.mark.parametrize("dt", ["complex64", "complex128"])
def test_save_load_torch_interchange(dt):
    t = torch.randn(3, 2, dtype=getattr(torch, dt))
    buf = io.BytesIO()
    torch.save({"t": t, "row": t[1]}, buf)
    buf.seek(0)
    d = ctorch.load(buf)
    assert d["t"].dtype is getattr(ctorch, dt)
    np.testing.assert_array_equal(d["t"].numpy(), t.numpy())
    np.testing.assert_array_equal(d["row"].numpy(), t[1].numpy())
    c = ctorch.randn(4, dtype=getattr(ctorch, dt))
    buf = io.BytesIO()
    ctorch.save(c, buf)
    buf.seek(0)
    back = torch.load(buf)
    assert back.dtype == getattr(torch, dt)
    np.testing.assert_array_equal(back.numpy(), c.numpy())


# ------------------------------------------------------------------ gradcheck itself
def test_gradcheck_catches_wrong_complex_convention():
    class Bad(ctorch.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z * z

        @staticmethod
        def backward(ctx, g):
            (z,) = ctx.saved_tensors
            return g * 2 * z  # torch's convention needs conj(2 z)

    z = ctorch.tensor([1 + 2j, -0.5 + 1j], dtype=ctorch.complex128, requires_grad=True)
    with pytest.raises(ctorch.autograd.GradcheckError):
        ctorch.autograd.gradcheck(Bad.apply, (z,))
    assert ctorch.autograd.gradcheck(lambda v: v * v, (z,))
    assert ctorch.autograd.gradgradcheck(lambda v: (v * v).exp(), (z,))


# ------------------------------------------------------------------ more ops
@pytest.mark.parametrize(
    "fn",
    [
        lambda L, z, w: z.var(),
        lambda L, z, w: z.std(0),
        lambda L, z, w: z.var(1, keepdim=True, correction=0),
        lambda L, z, w: z.norm(),
        lambda L, z, w: z.norm(p=1),
        lambda L, z, w: L.vdot(z[0], w[:, 0]),
        lambda L, z, w: L.dot(z[0], w[:, 0]),
        lambda L, z, w: L.einsum("ij,jk->ik", z, w),
        lambda L, z, w: L.mm(z, w),
        lambda L, z, w: z.t() @ z,
        lambda L, z, w: z.cumprod(1),
        lambda L, z, w: L.where(z.real > 0, z, w[0, 0]),
        lambda L, z, w: z.unsqueeze(0).expand(2, 3, 4).sum(0),
        lambda L, z, w: z[z.real > 0],
        lambda L, z, w: z.diagonal(),
        lambda L, z, w: L.nn.functional.linear(z, w.t()),
    ],
)
def test_more_ops(fn):
    rng = np.random.default_rng(11)
    check_c(fn, [_c(rng, (3, 4)), _c(rng, (4, 2))])


@pytest.mark.parametrize(
    "call",
    [
        lambda L, z: z.max(),
        lambda L, z: z.min(0),
        lambda L, z: z.amax(),
        lambda L, z: z.argmax(),
        lambda L, z: z.clamp(0, 1),
        lambda L, z: z.sort(),
    ],
)
def test_ordering_ops_raise(call):
    z = np.array([1 + 1j, 2 - 1j])
    with pytest.raises((RuntimeError, NotImplementedError)) as ec:
        call(ctorch, ctorch.from_numpy(z))
    with pytest.raises((RuntimeError, NotImplementedError)) as et:
        call(torch, torch.from_numpy(z))
    assert type(ec.value) is type(et.value)


def test_cfloat_cdouble():
    x = ctorch.tensor([1.0, 2.0])
    assert x.cfloat().dtype is ctorch.complex64 and x.cdouble().dtype is ctorch.complex128


def test_testing_assert_close_complex():
    z = ctorch.randn(2, 2, dtype=ctorch.complex64)
    ctorch.testing.assert_close(z, z * (1 + 1e-7))  # torch's complex64 tolerances
    with pytest.raises(AssertionError, match=r"Greatest absolute difference: 0\.00(099|100)"):
        ctorch.testing.assert_close(z, z + 1e-3j)  # an imaginary-only difference counts


def test_matmul_mixed_real_complex_raises_like_torch():
    for L in (ctorch, torch):
        with pytest.raises(RuntimeError, match="same dtype"):
            L.ones(2, 2, dtype=L.complex64) @ L.ones(2, 2)


def test_creation_errors_like_torch():
    for L in (ctorch, torch):
        with pytest.raises(TypeError, match="must be real number, not complex"):
            L.tensor([1 + 2j], dtype=L.float32)
        with pytest.raises(RuntimeError, match="cannot be converted to type float"):
            L.full((2,), 1j, dtype=L.float32)


@pytest.mark.parametrize(
    "call",
    [
        lambda L, z: z.abs_(),
        lambda L, z: z.floor_(),
        lambda L, z: L.nn.functional.gelu(z),
        lambda L, z: L.nn.functional.softplus(z),
        lambda L, z: L.nn.functional.hardtanh(z),
        lambda L, z: L.round(z),
    ],
)
def test_unsupported_complex_ops_raise_like_torch(call):
    errs = []
    for L in (ctorch, torch):
        with pytest.raises(RuntimeError) as e:
            call(L, L.tensor([1 + 2j, -3 - 0.5j]))
        errs.append(e.type)
    assert errs[0] is errs[1]


def test_silu_and_sgn_inplace():
    z = np.array([1 + 2j, -3 - 0.5j])
    # torch computes silu on complex tensors but has no complex gradient for it
    check_c(lambda L, x: L.nn.functional.silu(x), [z], grad=False)
    for L in (ctorch, torch):
        t = L.from_numpy(z.copy())
        t.sgn_()
        np.testing.assert_allclose(t.numpy(), z / np.abs(z))
    a = ctorch.from_numpy(z.copy()).requires_grad_(True)
    b = torch.from_numpy(z.copy()).requires_grad_(True)
    for t in (a, b):
        u = t * 1
        u.sgn_()
        u.real.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())


def test_linspace_complex():
    for args in [(0, 1j, 3), (1 - 1j, 2 + 3j, 6), (0, 1, 4)]:
        for kw in ({}, {"dtype": "complex128"}):
            kc = {k: getattr(ctorch, v) for k, v in kw.items()}
            kt = {k: getattr(torch, v) for k, v in kw.items()}
            assert_close(ctorch.linspace(*args, **kc), torch.linspace(*args, **kt))


@pytest.mark.parametrize("name", ["silu", "gelu"])
def test_complex_silu_with_autograd_and_gelu_raise_as_torch(name):
    """torch computes complex silu without autograd only, and has no complex gelu: the same
    error type and message here (recording off, silu runs)."""
    z = np.array([1 + 2j, -3 - 0.5j], dtype=np.complex64)
    msgs = []
    for L in (ctorch, torch):
        x = L.from_numpy(z.copy()).requires_grad_(True)
        with pytest.raises((RuntimeError, NotImplementedError)) as e:
            getattr(L.nn.functional, name)(x)
        msgs.append((e.type, str(e.value)))
        if name == "silu":
            with L.no_grad():
                y = L.nn.functional.silu(x)
            np.testing.assert_allclose(y.numpy(), z / (1 + np.exp(-z)), rtol=1e-6)
    assert msgs[0] == msgs[1]
