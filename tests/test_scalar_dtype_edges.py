"""Edges a differential probe against torch 2.13 found (session 19): Python int scalars on
integer tensors (torch casts them to the tensor's dtype with wrap-around; fills check the
range), the parameterised activations at the top level, bool inputs of abs/rounding/relu,
nonzero of a 0-d tensor, float_power of complex operands, trapezoid and cumprod of integer
inputs, and torch.lu on a singular matrix.  Each case states torch's value; with torch
installed the same call also runs under torch and must agree."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ctorch

try:
    import torch
except ImportError:  # pragma: no cover - the parity half needs torch
    torch = None


def _plain(x):
    if isinstance(x, (tuple, list)):
        return tuple(_plain(v) for v in x)
    v = x.tolist()
    if isinstance(v, list) and v and isinstance(v[0], float):
        v = [round(e, 5) for e in v]
    elif isinstance(v, float):
        v = round(v, 5)
    return (v, str(x.dtype).split(".")[-1])


def _check(fn, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _plain(fn(ctorch)) == expected
        if torch is not None:
            assert _plain(fn(torch)) == expected


def _u8(L):
    return L.tensor([0, 255, 7], dtype=L.uint8)


# ---------------------------------------------------------------- int scalars, integer tensors
WRAP_CASES = {
    "add_neg": (lambda L: _u8(L) + (-1), ([255, 254, 6], "uint8")),
    "sub_neg": (lambda L: _u8(L) - (-1), ([1, 0, 8], "uint8")),
    "mul_big": (lambda L: _u8(L) * 300, ([0, 212, 52], "uint8")),
    "eq_neg": (lambda L: _u8(L) == -1, ([False, True, False], "bool")),
    "lt_big": (lambda L: _u8(L) < 300, ([True, False, True], "bool")),
    "int8_gt": (lambda L: _u8(L).to(L.int8) > 200, ([True, True, True], "bool")),
    "floordiv": (lambda L: _u8(L) // -1, ([0, 1, 0], "uint8")),
    "remainder": (lambda L: _u8(L) % -1, ([0, 0, 7], "uint8")),
    "and": (lambda L: _u8(L) & -1, ([0, 255, 7], "uint8")),
    "clamp_min": (lambda L: L.clamp(_u8(L), -1), ([255, 255, 255], "uint8")),
    "clamp_bool": (lambda L: L.clamp(L.tensor([True, False]), 0, 2), ([1, 0], "int64")),
    "fill_neg": (lambda L: L.zeros(2, dtype=L.uint8).fill_(-1), ([255, 255], "uint8")),
    "full_like": (lambda L: L.full_like(_u8(L), -1), ([255, 255, 255], "uint8")),
    "masked_fill": (
        lambda L: _u8(L).masked_fill(L.tensor([True, False, True]), -1),
        ([255, 255, 255], "uint8"),
    ),
}


@pytest.mark.parametrize("name", sorted(WRAP_CASES))
def test_int_scalar_on_integer_tensor(name):
    fn, expected = WRAP_CASES[name]
    _check(fn, expected)


def test_int_scalar_setitem_wraps_negative():
    def fn(L):
        t = L.zeros(3, dtype=L.uint8)
        t[0] = -2
        return t

    _check(fn, ([254, 0, 0], "uint8"))


@pytest.mark.parametrize(
    "fn",
    [
        lambda L: L.full_like(L.zeros(2, dtype=L.uint8), 300),
        lambda L: L.zeros(2, dtype=L.uint8).fill_(300),
        lambda L: L.full((2,), -256, dtype=L.uint8),
        lambda L: L.full((2,), 300, dtype=L.int8),
        lambda L: L.zeros(2, dtype=L.uint8).__setitem__(slice(None), 1000),
    ],
)
def test_fill_value_out_of_range_raises(fn):
    libs = [ctorch] + ([torch] if torch is not None else [])
    for L in libs:
        with pytest.raises(RuntimeError, match="cannot be converted to type .* without overflow"):
            fn(L)


# ---------------------------------------------------------------- activations at the top level
def test_parameterised_activations_at_top_level():
    x = ctorch.tensor([-1.0, 0.0, 2.0])
    F = ctorch.nn.functional
    assert ctorch.celu(x).tolist() == F.celu(x).tolist()
    assert ctorch.celu(x, 2.0).tolist() == F.celu(x, 2.0).tolist()
    assert F.celu(x).tolist()[0] == pytest.approx(np.expm1(-1.0), rel=1e-6)
    # not torch names at the top level, but ctorch has them: they must be the functions
    for name in ("softplus", "elu", "leaky_relu", "hardtanh", "softshrink"):
        assert getattr(ctorch, name)(x).tolist() == getattr(F, name)(x).tolist(), name
    if torch is not None:
        tx = torch.tensor([-1.0, 0.0, 2.0])
        assert np.allclose(ctorch.celu(x, 0.5).numpy(), torch.celu(tx, 0.5).numpy())


# ---------------------------------------------------------------- bool inputs
@pytest.mark.parametrize(
    "name,exc",
    [
        ("abs", NotImplementedError),
        ("ceil", NotImplementedError),
        ("floor", NotImplementedError),
        ("round", NotImplementedError),
        ("trunc", NotImplementedError),
        ("relu", RuntimeError),
    ],
)
def test_bool_input_refused_as_torch(name, exc):
    for L in [ctorch] + ([torch] if torch is not None else []):
        with pytest.raises(exc, match="Bool|Boolean"):
            getattr(L, name)(L.tensor([True, False]))


def test_square_of_bool_is_int64():
    _check(lambda L: L.square(L.tensor([True, False])), ([1, 0], "int64"))


# ---------------------------------------------------------------- shapes and dtypes
def test_nonzero_of_0d():
    _check(lambda L: L.nonzero(L.tensor(2.5)), ([[]], "int64"))
    for L in [ctorch] + ([torch] if torch is not None else []):
        assert tuple(L.nonzero(L.tensor(2.5)).shape) == (1, 0)
        assert tuple(L.argwhere(L.tensor(0.0)).shape) == (0, 0)


def test_float_power_complex_is_complex128():
    _check(lambda L: L.float_power(L.tensor([1 + 1j]), 2).real, ([0.0], "float64"))
    _check(lambda L: L.float_power(L.tensor([1 + 1j]), 2).imag, ([2.0], "float64"))
    z = ctorch.float_power(2, ctorch.tensor([1j]))
    assert z.dtype == ctorch.complex128
    assert np.allclose(z.numpy(), [2**1j])


def test_trapezoid_of_uint8_does_not_wrap():
    # (0 + 255) / 2 + (255 + 7) / 2; torch 2.13 gets this right for trapezoid but its
    # cumulative_trapezoid wraps 255 + 7 in uint8 (130.5): ctorch gives 258.5 for both
    _check(lambda L: L.trapezoid(_u8(L)), (258.5, "float32"))
    assert ctorch.cumulative_trapezoid(_u8(ctorch)).tolist() == [127.5, 258.5]


@pytest.mark.parametrize("dt", ["int32", "uint8", "bool", "int16"])
def test_cumprod_of_integers_is_int64(dt):
    def fn(L):
        return L.cumprod(L.tensor([1, 2, 3]).to(getattr(L, dt)), 0)

    _check(fn, ([1, 1, 1] if dt == "bool" else [1, 2, 6], "int64"))


def test_legacy_lu_accepts_a_singular_matrix():
    def fn(L):
        LU, piv = L.lu(L.ones(3, 3, dtype=L.float64))
        return LU, piv

    _check(
        fn, (([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], "float64"), ([1, 2, 3], "int32"))
    )


# ---------------------------------------------------------------- binary ops (second probe)
def test_integer_pow_with_negative_tensor_exponent():
    _check(lambda L: L.tensor([2, 3]) ** L.tensor([-1, -2]), ([0, 0], "int64"))
    _check(
        lambda L: L.tensor([1, -1, -1, 0, 5]) ** L.tensor([-3, -3, -2, 2, 2]),
        ([1, -1, 1, 0, 25], "int64"),
    )
    # a negative Python int exponent stays torch's error
    with pytest.raises(RuntimeError, match="negative integer powers"):
        ctorch.tensor([2, 3]) ** -1


def test_ldexp_integer_exponent_exact():
    _check(
        lambda L: L.ldexp(L.tensor([1.5, -0.0, 3.0]), L.tensor([0, 200, 7], dtype=L.uint8)),
        ([1.5, -0.0, 384.0], "float32"),
    )
    r = ctorch.ldexp(ctorch.tensor([-3.0], dtype=ctorch.float64), ctorch.tensor([200]))
    assert r.tolist() == [-3.0 * 2.0**200]
    assert ctorch.ldexp(ctorch.tensor([1]), ctorch.tensor([2])).dtype == ctorch.float32
    x = ctorch.tensor([1.0, 2.0], requires_grad=True)
    ctorch.ldexp(x, ctorch.tensor([3, 1])).sum().backward()
    assert x.grad.tolist() == [8.0, 2.0]


def test_bfloat16_with_complex_scalar_is_complex64():
    _check(lambda L: (L.tensor([1.0, 2.0], dtype=L.bfloat16) * 1j).imag, ([1.0, 2.0], "float32"))
    # float16 would be complex32 (chalf) in torch, which ctorch lacks: complex64 here
    assert (ctorch.tensor([1.0], dtype=ctorch.float16) + 1j).dtype == ctorch.complex64


def test_inner_contracts_last_dims():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 5, 3)), rng.standard_normal((4, 3))
    r = ctorch.inner(ctorch.tensor(a), ctorch.tensor(b))
    assert r.shape == (2, 5, 4)
    assert np.allclose(r.numpy(), np.inner(a, b))
    assert ctorch.tensor(b).inner(ctorch.tensor(b)).shape == (4, 4)
    _check(lambda L: L.inner(L.tensor(2.0), L.tensor([1.0, 2.0])), ([2.0, 4.0], "float32"))
    _check(lambda L: L.inner(L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0])), (11.0, "float32"))
    with pytest.raises(RuntimeError, match=r"last dimension must match .*\[2, 3\] and \[2, 4\]"):
        ctorch.inner(ctorch.ones(2, 3), ctorch.ones(2, 4))


@pytest.mark.parametrize(
    "fn,dt",
    [
        (lambda L: L.xlogy(L.tensor([1.0, 2.5], dtype=L.bfloat16), 2), "bfloat16"),
        (lambda L: L.xlogy(L.tensor([1.0], dtype=L.float16), L.tensor(2.0)), "float16"),
        (
            lambda L: L.xlogy(L.tensor([1.0], dtype=L.float16), L.tensor([1.0], dtype=L.bfloat16)),
            "float32",
        ),
        (
            lambda L: L.igamma(L.tensor([1.0], dtype=L.bfloat16), L.tensor([2], dtype=L.int32)),
            "bfloat16",
        ),
        (lambda L: L.special.xlogy(L.tensor([1, 2]), 2.5), "float32"),
    ],
)
def test_special_binary_result_dtype(fn, dt):
    for L in [ctorch] + ([torch] if torch is not None else []):
        assert str(fn(L).dtype).split(".")[-1] == dt


def test_histc_float16_wide_range():
    # torch 2.13 overflows float16 here and puts all five values in the first bin
    h = ctorch.tensor([1.0, 2.0, 65000.0, -1.0, 30000.0], dtype=ctorch.float16)
    r = ctorch.histc(h, bins=4)
    assert r.dtype == ctorch.float16
    assert r.tolist() == [3.0, 1.0, 0.0, 1.0]
    assert ctorch.histc(h.to(ctorch.bfloat16), bins=3).tolist() == [3.0, 1.0, 1.0]


# ---------------------------------------------------------------- inf/NaN upstream gradients
_V = [0.5, -1.0, -2.0, 3.0, 0.0, 2.0]
_W = [1.0, float("inf"), float("nan"), 2.0, float("inf"), -1.0]
GRAD_CASES = {
    # torch zeroes the masked places with where (not a product with 0, which gives NaN)
    "clamp_min": (lambda L, x: x.clamp(min=0), [1, 0, 0, 2, "inf", -1]),
    "clamp_max": (lambda L, x: x.clamp(max=0), [0, "inf", "nan", 0, "inf", 0]),
    "clamp_tensor": (lambda L, x: x.clamp(L.zeros(6, dtype=x.dtype)), [1, 0, 0, 2, "inf", -1]),
    "maximum": (lambda L, x: L.maximum(x, L.zeros(6, dtype=x.dtype)), [1, 0, 0, 2, "inf", -1]),
    "minimum": (
        lambda L, x: L.minimum(x, L.zeros(6, dtype=x.dtype)),
        [0, "inf", "nan", 0, "inf", 0],
    ),
    "pow0": (lambda L, x: x**0, [0, 0, 0, 0, 0, 0]),
    "angle": (lambda L, x: L.angle(x), [0, 0, 0, 0, 0, 0]),
    "sinc": (lambda L, x: L.sinc(x), None),
    # ... and multiplies where torch multiplies
    "nan_to_num": (lambda L, x: L.nan_to_num(x.log()), None),
    "copysign": (lambda L, x: L.copysign(x, -x), None),
    "pow_tensor": (lambda L, x: L.pow(x.abs(), x), None),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradient_with_inf_nan_upstream(name):
    fn, expected = GRAD_CASES[name]
    grads = []
    for L in [ctorch] + ([torch] if torch is not None else []):
        x = L.tensor(_V, dtype=L.float64, requires_grad=True)
        y = fn(L, x)
        (y * L.tensor(_W, dtype=L.float64)).sum().backward()
        grads.append(x.grad.numpy())
    if expected is not None:
        assert np.array_equal(grads[0], np.array(expected, dtype=np.float64), equal_nan=True)
    if len(grads) == 2:
        assert np.allclose(grads[0], grads[1], equal_nan=True), (grads[0], grads[1])


def test_unsigned_right_shift_past_the_width_is_zero():
    _check(lambda L: L.tensor([200, 7], dtype=L.uint8) >> 9, ([0, 0], "uint8"))
    _check(
        lambda L: L.tensor([200, 7], dtype=L.uint8) >> L.tensor([8, 1], dtype=L.uint8),
        ([0, 3], "uint8"),
    )
    _check(lambda L: L.tensor([-8], dtype=L.int8) >> 70, ([-1], "int8"))


def test_out_refuses_arguments_that_require_grad():
    a = ctorch.tensor([1.0, 2.0], requires_grad=True)
    o = ctorch.empty(2)
    for call in (
        lambda: ctorch.add(a, 1, out=o),
        lambda: ctorch.sin(a, out=o),
        lambda: ctorch.addcmul(a, a, a, out=o),
        lambda: ctorch.add(ctorch.ones(2), 1, out=ctorch.zeros(2, requires_grad=True)),
    ):
        with pytest.raises(RuntimeError, match="out=... arguments don't support automatic"):
            call()
    with ctorch.no_grad():
        assert ctorch.add(a, 1, out=o) is o
    assert o.tolist() == [2.0, 3.0]
    if torch is not None:
        with pytest.raises(RuntimeError, match="out=... arguments don't support automatic"):
            torch.add(torch.ones(2, requires_grad=True), 1, out=torch.empty(2))


def test_bfloat16_to_integer_casts_as_float32():
    # ml_dtypes' own cast saturates (-1.0 -> uint8 0, 300.0 -> int8 0)
    def fn(L):
        return L.tensor([1.0, 2.5, -1.0, 300.0, -3.7], dtype=L.bfloat16)

    _check(lambda L: fn(L).to(L.uint8), ([1, 2, 255, 44, 253], "uint8"))
    _check(lambda L: fn(L).to(L.int8), ([1, 2, -1, 44, -3], "int8"))
    _check(lambda L: L.zeros(5, dtype=L.uint8).copy_(fn(L)), ([1, 2, 255, 44, 253], "uint8"))


def test_random_of_16bit_floats_in_their_mantissa_range():
    for L in [ctorch] + ([torch] if torch is not None else []):
        L.manual_seed(0)
        h = L.empty(2000, dtype=L.float16).random_()
        b = L.empty(2000, dtype=L.bfloat16).random_()
        assert 0 <= float(h.min()) and float(h.max()) <= 2048
        assert 0 <= float(b.min()) and float(b.max()) <= 256
    if torch is not None:
        ctorch.manual_seed(3)
        torch.manual_seed(3)
        c = ctorch.empty(64, dtype=ctorch.float16).random_()
        t = torch.empty(64, dtype=torch.float16).random_()
        assert c.tolist() == t.tolist()


ADDC_CASES = {
    "i32_u8": (lambda L: L.tensor([5, -6, 0], dtype=L.int32), 1, [5, 39994, 49]),
    "f32_u8": (lambda L: L.tensor([1.5, 0.0, 2.0]), 1, [1.5, 40000.0, 51.0]),
    "u8_value_float": (lambda L: L.tensor([0, 200, 7], dtype=L.uint8), 2.5, [0, 72, 105]),
    "u8_value_neg": (lambda L: L.tensor([0, 200, 7], dtype=L.uint8), -1, [0, 136, 214]),
}


@pytest.mark.parametrize("name", sorted(ADDC_CASES))
@pytest.mark.parametrize("inplace", [False, True])
def test_addcmul_with_integer_operands(name, inplace):
    mk, value, expected = ADDC_CASES[name]

    def fn(L):
        t = L.tensor([0, 200, 7], dtype=L.uint8)
        x = mk(L)
        return x.addcmul_(t, t, value=value) if inplace else L.addcmul(x, t, t, value=value)

    got = fn(ctorch)
    assert got.tolist() == expected
    if torch is not None:
        assert fn(torch).tolist() == expected


def test_index_fill_wraps_negative_into_unsigned():
    _check(
        lambda L: L.zeros(3, dtype=L.uint8).index_fill_(0, L.tensor([0]), -1),
        ([255, 0, 0], "uint8"),
    )


def test_bfloat16_nan_to_num_and_angle():
    def x(L):
        return L.tensor([float("inf"), -float("inf"), float("nan"), -2.0], dtype=L.bfloat16)

    big = 3.3895313892515355e38
    _check(lambda L: L.nan_to_num(x(L)).float(), ([big, -big, 0.0, -2.0], "float32"))
    _check(
        lambda L: L.nan_to_num(x(L), 1.0, 2.0, -3.0).float(), ([2.0, -3.0, 1.0, -2.0], "float32")
    )
    for L in [ctorch] + ([torch] if torch is not None else []):
        a = L.angle(x(L))
        assert a.dtype == L.bfloat16
        assert np.allclose(a.float().numpy(), [0.0, 3.140625, np.nan, 3.140625], equal_nan=True)


# ---------------------------------------------------------------- complex logaddexp / logcumsumexp
_INF, _NAN = float("inf"), float("nan")
_CA = [1 + 1j, 0j, complex(-_INF, 0), complex(_INF, 1), complex(_NAN, 0), complex(-_INF, 2), 3 - 2j]
_CB = [2 + 0j, complex(-_INF, 0), complex(-_INF, 0), complex(_INF, 2), 1j, 1 + 1j, -1 + 5j]


def test_complex_logaddexp_values_and_special_cases():
    r = ctorch.logaddexp(
        ctorch.tensor(_CA, dtype=ctorch.complex128), ctorch.tensor(_CB, dtype=ctorch.complex128)
    )
    got = r.numpy()
    assert got[0] == pytest.approx(np.log(np.exp(1 + 1j) + np.exp(2)))
    assert got[1] == 0j and got[2] == complex(-_INF, 0) and got[5] == 1 + 1j
    assert got[3].real == _INF and np.isnan(got[3].imag)  # torch: inf + nan i
    assert np.isnan(got[4].real) and np.isnan(got[4].imag)
    assert ctorch.logaddexp(ctorch.tensor([1 + 1j]), ctorch.tensor([2.0])).dtype == ctorch.complex64
    if torch is not None:
        t = torch.logaddexp(
            torch.tensor(_CA, dtype=torch.complex128), torch.tensor(_CB, dtype=torch.complex128)
        )
        assert np.allclose(got, t.numpy(), equal_nan=True)


def test_complex_logaddexp_and_logcumsumexp_gradients():
    from ctorch.autograd import gradcheck

    x = ctorch.tensor([1 + 1j, 0.5 - 2j, 2 + 0.3j], dtype=ctorch.complex128, requires_grad=True)
    y = ctorch.tensor([2 + 0j, 1j, -1 + 1j], dtype=ctorch.complex128, requires_grad=True)
    assert gradcheck(ctorch.logaddexp, (x, y))
    assert gradcheck(lambda v: ctorch.logcumsumexp(v, 0), (x,))
    c = ctorch.logcumsumexp(x, 0).detach().numpy()
    xv = x.detach().numpy()
    assert np.allclose(c, [np.log(np.exp(xv[: k + 1]).sum()) for k in range(3)])
    if torch is not None:
        for fn in (lambda L, v: L.logcumsumexp(v, 0), lambda L, v: L.logaddexp(v, v.flip(0) * 0.5)):
            grads = []
            for L in (ctorch, torch):
                v = L.tensor([1 + 1j, 0.5 - 2j, 2 + 0.3j], dtype=L.complex128, requires_grad=True)
                fn(L, v).abs().sum().backward()
                grads.append(v.grad.resolve_conj().numpy() if L is torch else v.grad.numpy())
            assert np.allclose(grads[0], grads[1])


def test_multigammaln_has_no_domain_check():
    # torch 2.13 returns sum log|Gamma| (inf at the poles) instead of raising
    x = [-1.0, 0.2, 0.5, 0.6, 3.0]
    got = ctorch.special.multigammaln(ctorch.tensor(x, dtype=ctorch.float64), 2).numpy()
    assert got[0] == np.inf and got[2] == np.inf
    assert got[1] == pytest.approx(3.5613, abs=1e-4)
    if torch is not None:
        t = torch.special.multigammaln(torch.tensor(x, dtype=torch.float64), 2).numpy()
        assert np.allclose(got, t)
        assert np.allclose(
            ctorch.mvlgamma(ctorch.tensor([-1.0, 0.5, 3.0]), 1).numpy(),
            torch.mvlgamma(torch.tensor([-1.0, 0.5, 3.0]), 1).numpy(),
        )


@pytest.mark.parametrize("ord_", [2, 1, float("inf"), "nuc", "fro"])
@pytest.mark.parametrize("shape", [(0, 0), (0, 3), (3, 0), (2, 0, 0)])
def test_matrix_norm_of_empty_matrices_is_zero(ord_, shape):
    r = ctorch.linalg.matrix_norm(ctorch.zeros(*shape), ord_)
    assert r.shape == shape[:-2] and not r.numpy().any()
    if torch is not None:
        assert r.tolist() == torch.linalg.matrix_norm(torch.zeros(*shape), ord_).tolist()
    if ord_ == 2:  # the negative orders keep amin's error, as torch's
        with pytest.raises(IndexError):
            ctorch.linalg.matrix_norm(ctorch.zeros(*shape), -2)


# ---------------------------------------------------------------- creation from Python/NumPy data
@pytest.mark.parametrize(
    "data,exc,match",
    [
        ([2**63, 1], ValueError, "Overflow when unpacking long long"),
        ([[2**64]], ValueError, "Overflow when unpacking long long"),
        (2**63, ValueError, "Overflow when unpacking long long"),
        ([None], RuntimeError, "Could not infer dtype of NoneType"),
        ([1, None], RuntimeError, "Could not infer dtype of NoneType"),
        ({1, 2}, RuntimeError, "Could not infer dtype of set"),
        (["a"], ValueError, "too many dimensions 'str'"),
        (np.arange(4, dtype=">f4"), ValueError, "byte order"),
    ],
)
def test_tensor_from_bad_python_data_raises_as_torch(data, exc, match):
    # tensor([2**63]) used to wrap silently to -2**63
    for L in [ctorch] + ([torch] if torch is not None else []):
        with pytest.raises(exc, match=match):
            L.tensor(data)


def test_tensor_big_ints_with_a_float_are_floats():
    _check(lambda L: L.tensor([2**63, 1.5]), ([9.223372036854776e18, 1.5], "float32"))
    assert ctorch.tensor([2**64, 1.0]).tolist() == [2.0**64, 1.0]
    assert ctorch.tensor([-(2**63), 2**63 - 1]).tolist() == [-(2**63), 2**63 - 1]


def test_big_endian_arrays_refused_by_every_entry():
    be = np.arange(4, dtype=">f4")
    for fn in (ctorch.tensor, ctorch.from_numpy, ctorch.as_tensor, ctorch.asarray):
        with pytest.raises(ValueError, match="byte order"):
            fn(be)


def test_asarray_copy_argument():
    a = np.zeros(2)
    t = ctorch.asarray(a, copy=True)
    t.fill_(7)
    assert a.tolist() == [0.0, 0.0]
    ctorch.asarray(a, copy=False).fill_(3)
    assert a.tolist() == [3.0, 3.0]
    with pytest.raises(ValueError, match="copy=False"):
        ctorch.asarray(a, dtype=ctorch.float32, copy=False)
    assert ctorch.asarray([1.0], requires_grad=True).requires_grad
    src = ctorch.ones(2)
    c = ctorch.asarray(src, copy=True, dtype=ctorch.int32)
    assert c.dtype == ctorch.int32 and c._a is not src._a


def test_compare_with_none_and_matmul_with_ndarray():
    t = ctorch.ones(2)
    assert (t == None) is False  # noqa: E711 - the comparison under test
    assert (t != None) is True  # noqa: E711
    _check(lambda L: L.ones(2, 2) @ np.ones(2), ([2.0, 2.0], "float64"))


# ---------------------------------------------------------------- torch names added this session
_DTS = [
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


def test_can_cast_every_pair():
    for a in _DTS:
        for b in _DTS:
            got = ctorch.can_cast(getattr(ctorch, a), getattr(ctorch, b))
            if torch is not None:
                assert got == torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)
    assert not ctorch.can_cast(ctorch.float32, ctorch.int32)
    assert ctorch.can_cast(ctorch.int32, ctorch.float16)


def test_deterministic_debug_mode_and_warn_always():
    try:
        for mode, expect in (("warn", 1), ("error", 2), (0, 0), (1, 1), ("default", 0)):
            ctorch.set_deterministic_debug_mode(mode)
            assert ctorch.get_deterministic_debug_mode() == expect
            assert ctorch.are_deterministic_algorithms_enabled() == (expect != 0)
            assert ctorch.is_deterministic_algorithms_warn_only_enabled() == (expect == 1)
        with pytest.raises(RuntimeError, match="invalid value of debug_mode"):
            ctorch.set_deterministic_debug_mode("loud")
        ctorch.set_warn_always(True)
        assert ctorch.is_warn_always_enabled()
    finally:
        ctorch.set_deterministic_debug_mode(0)
        ctorch.set_warn_always(False)


def test_empty_permuted_nonzero_static_dim_order_get_device():
    def fn(L):
        e = L.empty_permuted((2, 3, 4), (0, 2, 1))
        return (
            tuple(e.shape),
            e.stride(),
            L.nonzero_static(L.tensor([0, 1, 2]), size=4).tolist(),
            L.nonzero_static(L.tensor([[1, 0], [1, 1]]), size=2, fill_value=-5).tolist(),
            L.tensor([0, 1, 2]).nonzero_static(size=1).tolist(),
            L.ones(2, 3).t().dim_order(),
            L.empty_permuted((2, 3, 4), (2, 0, 1)).dim_order(),
            L.get_device(L.ones(1)),
        )

    ours = fn(ctorch)
    assert ours[1] == (12, 1, 3) and ours[2] == [[1], [2], [-1], [-1]]
    if torch is not None:
        assert ours == fn(torch)


def test_as_subclass_is_an_alias_in_the_graph():
    class Sub(ctorch.Tensor):
        pass

    z = ctorch.ones(2, requires_grad=True)
    w = z.as_subclass(Sub)
    assert type(w) is Sub and w.requires_grad
    (w * 3).sum().backward()
    assert z.grad.tolist() == [3.0, 3.0]
    a = ctorch.zeros(2)
    a.as_subclass(Sub)[0] = 5
    assert a.tolist() == [5.0, 0.0]  # same memory
    with pytest.raises(TypeError, match="must be a subclass of torch.Tensor"):
        a.as_subclass(int)
    if torch is not None:
        with pytest.raises(TypeError):
            torch.zeros(2).as_subclass(int)


_FLOAT_INTO_INT = [300.0, -1.0, -200.0, 255.9, 2.0**62, -(2.0**63), 1e19, 3.7, -3.7]
_FLOAT_INTO_INT += [float("nan"), float("inf"), -1e30]
_WRITERS = {
    "fill_": lambda L, dt, v: L.zeros(2, dtype=dt).fill_(v),
    "full": lambda L, dt, v: L.full((2,), v, dtype=dt),
    "index_fill": lambda L, dt, v: L.zeros(2, dtype=dt).index_fill(0, L.tensor([0]), v),
    "setitem": lambda L, dt, v: (lambda t: (t.__setitem__(0, v), t)[1])(L.zeros(2, dtype=dt)),
    "masked_fill": lambda L, dt, v: L.zeros(2, dtype=dt).masked_fill(L.tensor([True, False]), v),
}


@pytest.mark.parametrize("dtn", ["uint8", "int8", "int16", "int32", "int64", "bool"])
@pytest.mark.parametrize("v", _FLOAT_INTO_INT)
@pytest.mark.parametrize("op", sorted(_WRITERS))
def test_float_written_into_integer_tensor_as_torch(dtn, v, op):
    """A Python float written into an integer tensor: truncated toward zero where it fits
    the type, else c10's overflow RuntimeError (NaN, inf, -1.0 into uint8, 255.9 into uint8)
    as torch; before, NaN/-1e30 raised ValueError/OverflowError from int(), and full() of
    -1e30 into int64 stored NumPy's undefined cast silently."""
    torch = pytest.importorskip("torch")
    f = _WRITERS[op]
    try:
        want = f(torch, getattr(torch, dtn), v)
    except Exception as e:  # noqa: BLE001 - the same type must come from ctorch
        with pytest.raises(type(e), match="without overflow"):
            f(ctorch, getattr(ctorch, dtn), v)
        return
    assert f(ctorch, getattr(ctorch, dtn), v).tolist() == want.tolist()


@pytest.mark.parametrize("v", [2**63, -(2**63) - 1, 2**64, 2**70])
@pytest.mark.parametrize("dtn", ["int64", "uint8", "float32", "bool"])
@pytest.mark.parametrize("rg", [False, True])
def test_setitem_python_int_outside_int64_is_value_error(v, dtn, rg):
    """torch's __setitem__ unpacks a Python int as a C long long: one outside int64 is its
    ValueError whatever the tensor's dtype (fill_ and the ops raise OverflowError instead)."""
    rg = rg and dtn == "float32"
    t = ctorch.zeros(2, dtype=getattr(ctorch, dtn), requires_grad=rg)
    t = t.clone() if rg else t
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        t[0] = v
    if torch is not None:
        tt = torch.zeros(2, dtype=getattr(torch, dtn), requires_grad=rg)
        tt = tt.clone() if rg else tt
        with pytest.raises(ValueError, match="Overflow when unpacking long long"):
            tt[0] = v
