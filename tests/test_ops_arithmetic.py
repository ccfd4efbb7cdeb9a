"""Binary arithmetic, comparisons, logical ops, where, clamp and in-place forms."""

import numpy as np
import pytest
from helpers import HAS_TORCH, assert_close, check_op

import ctorch

BCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 3, 1), (3, 4)), ((), (2, 3)), ((1, 3), (2, 1))]


@pytest.mark.parametrize("sa,sb", BCAST)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_broadcast(op, sa, sb):
    ref = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[op]
    low = 0.5 if op == "div" else -2.0
    check_op(lambda T, a, b: getattr(T, op)(a, b), [sa, sb], ref=ref, low=low)


@pytest.mark.parametrize(
    "expr",
    [
        lambda T, a, b: a + b,
        lambda T, a, b: a - b,
        lambda T, a, b: a * b,
        lambda T, a, b: a / b,
        lambda T, a, b: a**b,
        lambda T, a, b: a @ b.t(),
        lambda T, a, b: T.maximum(a, b),
        lambda T, a, b: T.minimum(a, b),
        lambda T, a, b: T.add(a, b, alpha=2.5),
        lambda T, a, b: T.sub(a, b, alpha=-1.5),
        lambda T, a, b: T.atan2(a, b),
    ],
)
def test_operators_tensor_tensor(expr):
    check_op(expr, [(3, 4), (3, 4)], low=0.5, high=2.0)


@pytest.mark.parametrize(
    "expr",
    [
        lambda T, a: a + 2,
        lambda T, a: 2 + a,
        lambda T, a: a - 1.5,
        lambda T, a: 1.5 - a,
        lambda T, a: a * 3,
        lambda T, a: 3 * a,
        lambda T, a: a / 4,
        lambda T, a: 4 / a,
        lambda T, a: a**2,
        lambda T, a: a**3,
        lambda T, a: a**0.5,
        lambda T, a: a**-1,
        lambda T, a: 2**a,
        lambda T, a: 2.5**a,
        lambda T, a: a**0,
        lambda T, a: a**1,
        lambda T, a: -a,
        lambda T, a: +a,
        lambda T, a: abs(a),
        lambda T, a: 0 + a,
        lambda T, a: T.pow(a, 2),
        lambda T, a: T.pow(2, a),
        lambda T, a: T.rsub(a, 1.0),
        lambda T, a: T.float_power(a, 2),
    ],
)
def test_operators_scalar(expr):
    check_op(expr, [(3, 4)], low=0.5, high=2.0)


def test_reflected_and_python_sum():
    check_op(lambda T, a, b, c: sum([a, b, c]), [(2, 3)] * 3)


@pytest.mark.parametrize("op", ["floor_divide", "remainder", "fmod"])
@pytest.mark.parametrize("sign", [1, -1])
def test_floor_mod_float(op, sign):
    check_op(
        lambda T, a, b: getattr(T, op)(a * sign, b), [(3, 4), (4,)], low=0.5, high=3, grad=False
    )


@pytest.mark.parametrize(
    "expr",
    [
        lambda T, a, b: a // b,
        lambda T, a, b: a % b,
        lambda T, a, b: a // 3,
        lambda T, a, b: a % 3,
        lambda T, a, b: a / b,
        lambda T, a, b: a * b,
        lambda T, a, b: a + b,
        lambda T, a, b: a - 1,
        lambda T, a, b: a * 2.5,
        lambda T, a, b: a**2,
        lambda T, a, b: 7 // b,
        lambda T, a, b: -7 % b,
        lambda T, a, b: T.div(a, b, rounding_mode="floor"),
        lambda T, a, b: T.div(-a, b, rounding_mode="trunc"),
        lambda T, a, b: a & b,
        lambda T, a, b: a | b,
        lambda T, a, b: a ^ b,
        lambda T, a, b: ~a,
    ],
)
def test_integer_arithmetic(expr):
    a = np.array([[7, -8, 9], [10, 0, -3]], dtype=np.int64)
    b = np.array([[2, 3, -4], [5, 1, 2]], dtype=np.int64)
    check_op(expr, [a, b])


def test_division_modes_float():
    check_op(
        lambda T, a, b: T.div(a, b, rounding_mode="trunc"), [(3, 4), (3, 4)], low=0.5, grad=False
    )
    check_op(
        lambda T, a, b: T.div(a, b, rounding_mode="floor"), [(3, 4), (3, 4)], low=0.5, grad=False
    )


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons(op):
    a = np.array([[1.0, 2.0, np.nan], [3.0, -1.0, 2.0]], np.float32)
    b = np.array([2.0, 2.0, np.nan], np.float32)
    r = check_op(lambda T, x, y: getattr(T, op)(x, y), [a, b])
    assert r.dtype == ctorch.bool
    check_op(lambda T, x, y: getattr(x, op)(2.0), [a, b])
    sym = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[op]
    f = eval(f"lambda T, x, y: x {sym} y")  # noqa: S307
    check_op(f, [a, b])
    g = eval(f"lambda T, x, y: 2 {sym} x")  # noqa: S307
    check_op(g, [a, b])


def test_comparison_mixed_dtypes():
    a = np.array([1, 2, 3], np.int64)
    b = np.array([1.0, 2.5, 3.0], np.float32)
    check_op(lambda T, x, y: x == y, [a, b])
    check_op(lambda T, x, y: x < 2.5, [a, b])


def test_equal():
    a = ctorch.tensor([1.0, 2.0])
    assert ctorch.equal(a, a.clone())
    assert not ctorch.equal(a, ctorch.tensor([1.0, 3.0]))
    assert not ctorch.equal(a, ctorch.tensor([1.0, 2.0, 3.0]))


@pytest.mark.parametrize("op", ["logical_and", "logical_or", "logical_xor"])
def test_logical(op):
    a = np.array([True, False, True, False])
    b = np.array([1.0, 1.0, 0.0, 0.0], np.float32)
    check_op(lambda T, x, y: getattr(T, op)(x, y), [a, b], ref=getattr(np, op))
    check_op(lambda T, x, y: getattr(x, op)(x), [a, b], ref=lambda x, y: getattr(np, op)(x, x))
    check_op(lambda T, x, y: T.logical_not(y), [a, b], ref=lambda x, y: np.logical_not(y))
    check_op(lambda T, x, y: ~x, [a, b], ref=lambda x, y: ~x)


def test_bool_ops():
    a = np.array([True, False, True, False])
    b = np.array([True, True, False, False])
    check_op(lambda T, x, y: x & y, [a, b], ref=np.logical_and)
    check_op(lambda T, x, y: x | y, [a, b], ref=np.logical_or)
    check_op(lambda T, x, y: x ^ y, [a, b], ref=np.logical_xor)
    check_op(lambda T, x, y: x + y, [a, b])
    check_op(lambda T, x, y: x * y, [a, b])
    check_op(lambda T, x, y: x + 1, [a, b])
    check_op(lambda T, x, y: x + 1.5, [a, b])


def test_where():
    c = np.array([[True, False, True], [False, False, True]])
    check_op(
        lambda T, cond, x, y: T.where(cond, x, y),
        [c, (2, 3), (3,)],
        ref=lambda cond, x, y: np.where(cond, x, y),
    )
    check_op(lambda T, cond, x, y: T.where(cond, x, 0.0), [c, (2, 3), (3,)])
    check_op(lambda T, cond, x, y: T.where(cond, 1.0, y), [c, (2, 3), (3,)])
    check_op(lambda T, cond, x, y: x.where(cond, y), [c, (2, 3), (3,)])
    check_op(lambda T, cond, x, y: T.where(x > 0, x, y), [c, (2, 3), (3,)])
    check_op(lambda T, cond, x, y: T.where(cond, 1.0, 2.0), [c, (2, 3), (3,)], grad=False)
    check_op(lambda T, cond, x, y: T.where(cond, 1, 2), [c, (2, 3), (3,)], grad=False)
    nz = ctorch.where(ctorch.tensor(c))
    assert isinstance(nz, tuple) and len(nz) == 2
    np.testing.assert_array_equal(nz[0].numpy(), np.nonzero(c)[0])


@pytest.mark.parametrize(
    "expr",
    [
        lambda T, x: T.clamp(x, -0.5, 0.7),
        lambda T, x: x.clamp(min=0.1),
        lambda T, x: x.clamp(max=0.3),
        lambda T, x: T.clip(x, -1, 1),
        lambda T, x: x.clamp_min(0.2),
        lambda T, x: x.clamp_max(0.2),
    ],
)
def test_clamp(expr):
    check_op(expr, [(4, 5)])


def test_clamp_tensor_bounds():
    check_op(
        lambda T, x, lo, hi: T.clamp(x, lo, hi),
        [(3, 4), (4,), (3, 1)],
        low=-1,
        high=1,
        grad_inputs=[0],
    )
    with pytest.raises(RuntimeError, match="At least one"):
        ctorch.clamp(ctorch.ones(2))


def test_clamp_int():
    a = np.array([-3, 0, 5, 9])
    check_op(lambda T, x: x.clamp(0, 4), [a], ref=lambda x: np.clip(x, 0, 4))


def test_maximum_minimum_ties_and_nan():
    a = np.array([1.0, 2.0, np.nan, 3.0], np.float32)
    b = np.array([1.0, 3.0, 0.0, np.nan], np.float32)
    check_op(lambda T, x, y: T.maximum(x, y), [a, b], ref=np.maximum)
    check_op(lambda T, x, y: T.minimum(x, y), [a, b], ref=np.minimum)
    check_op(lambda T, x, y: T.fmax(x, y), [a, b], ref=np.fmax)
    check_op(lambda T, x, y: T.fmin(x, y), [a, b], ref=np.fmin)
    # equal inputs share the gradient (torch: half each)
    x = ctorch.tensor([1.0, 2.0], requires_grad=True)
    y = ctorch.tensor([1.0, 1.0], requires_grad=True)
    ctorch.maximum(x, y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 1.0])
    np.testing.assert_allclose(y.grad.numpy(), [0.5, 0.0])


@pytest.mark.parametrize("op", ["maximum", "minimum", "fmax", "fmin"])
def test_maximum_minimum_refuse_complex(op):
    # torch has no ordering of complex numbers: these raise instead of comparing like NumPy
    z = ctorch.tensor([1 + 2j, 3 - 1j])
    for a, b in ((z, z), (z, ctorch.tensor([1.0, 2.0])), (ctorch.tensor([1.0, 2.0]), z)):
        with pytest.raises(RuntimeError, match=f"{op} not implemented for complex tensors"):
            getattr(ctorch, op)(a, b)
        with pytest.raises(RuntimeError, match=f"{op} not implemented for complex tensors"):
            getattr(a, op)(b)
    if HAS_TORCH:
        import torch

        with pytest.raises(RuntimeError, match=f"{op} not implemented for complex tensors"):
            getattr(torch, op)(torch.tensor([1 + 2j]), torch.tensor([1 + 2j]))


def test_pow_tensor_exponent_broadcast():
    check_op(lambda T, x, e: x**e, [(3, 4), (4,)], low=0.5, high=2.0)
    check_op(lambda T, x, e: T.pow(x, e), [(3, 1), (1, 4)], low=0.5, high=2.0)


def test_pow_grad_at_zero():
    for lib_name in ["ctorch"] + (["torch"] if HAS_TORCH else []):
        lib = __import__(lib_name)
        x = lib.tensor([0.0, 1.0, 2.0], requires_grad=True)
        (x**2).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [0.0, 2.0, 4.0])
        x.grad = None
        (x**0.0).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_int_negative_power_raises():
    with pytest.raises(RuntimeError, match="negative integer powers"):
        ctorch.tensor([1, 2]) ** -1


# ------------------------------------------------------------------ in-place
@pytest.mark.parametrize(
    "name,arg",
    [
        ("add_", 1.5),
        ("sub_", 0.5),
        ("mul_", 2.0),
        ("div_", 4.0),
        ("pow_", 2),
        ("clamp_", (-0.5, 0.5)),
        ("clip_", (-0.5, 0.5)),
        ("neg_", None),
        ("abs_", None),
        ("exp_", None),
        ("sigmoid_", None),
        ("tanh_", None),
        ("relu_", None),
        ("floor_", None),
        ("ceil_", None),
        ("round_", None),
        ("sign_", None),
        ("sin_", None),
        ("cos_", None),
        ("zero_", None),
        ("fill_", 3.0),
        ("clamp_min_", 0.0),
        ("clamp_max_", 0.0),
        ("reciprocal_", None),
        ("square_", None),
        ("trunc_", None),
        ("frac_", None),
    ],
)
def test_inplace_methods(name, arg):
    a = np.random.default_rng(1).uniform(-2, 2, (3, 4)).astype(np.float32)

    def run(lib):
        t = lib.from_numpy(a.copy())
        args = () if arg is None else arg if isinstance(arg, tuple) else (arg,)
        r = getattr(t, name)(*args)
        assert r is t
        return t

    c = run(ctorch)
    if HAS_TORCH:
        import torch

        assert_close(c, run(torch))


def test_inplace_with_tensor_and_broadcast():
    a = np.random.default_rng(2).uniform(-2, 2, (3, 4)).astype(np.float32)
    b = np.random.default_rng(3).uniform(0.5, 2, (4,)).astype(np.float32)
    for name, ref in [("add_", a + b), ("sub_", a - b), ("mul_", a * b), ("div_", a / b)]:
        t = ctorch.tensor(a)
        getattr(t, name)(ctorch.tensor(b))
        np.testing.assert_allclose(t.numpy(), ref, rtol=1e-6)
    t = ctorch.tensor(a)
    t.add_(ctorch.tensor(b), alpha=2)
    np.testing.assert_allclose(t.numpy(), a + 2 * b, rtol=1e-6)
    t = ctorch.tensor(a)
    t += 1
    t -= ctorch.tensor(b)
    t *= 2
    t /= 4
    np.testing.assert_allclose(t.numpy(), (a + 1 - b) * 2 / 4, rtol=1e-6)
    with pytest.raises(RuntimeError, match=r"\[4\].*\[3, 4\]|doesn't match"):
        ctorch.tensor(b).add_(ctorch.tensor(a))


def test_inplace_int_result_type_errors():
    t = ctorch.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        t.add_(1.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        t /= 2
    t += 2
    assert t.tolist() == [3, 4, 5]
    f = ctorch.tensor([1.0, 2.0])
    f += ctorch.tensor([1, 1])
    assert f.dtype == ctorch.float32 and f.tolist() == [2.0, 3.0]


def test_inplace_autograd_on_nonleaf():
    def run(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * 2
        y.add_(1)
        y.mul_(x)
        y.clamp_(max=10)
        y.relu_()
        y.sum().backward()
        return y, x.grad, y.grad_fn.name()

    y, g, name = run(ctorch)
    np.testing.assert_allclose(y.detach().numpy(), [3.0, 6.0, 10.0])
    if HAS_TORCH:
        import torch

        yt, gt, _ = run(torch)
        assert_close(g, gt)


def test_inplace_on_leaf_requiring_grad_raises():
    x = ctorch.ones(3, requires_grad=True)
    for f in [
        lambda: x.add_(1),
        lambda: x.mul_(2),
        lambda: x.zero_(),
        lambda: x.fill_(2),
        lambda: x.clamp_(0, 1),
        lambda: x.exp_(),
    ]:
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            f()
    with ctorch.no_grad():
        x.add_(1)
        x.mul_(2)
    np.testing.assert_allclose(x.detach().numpy(), [4.0, 4.0, 4.0])
    x.data.add_(1)
    np.testing.assert_allclose(x.detach().numpy(), [5.0, 5.0, 5.0])


def test_copy_and_fill_tensor():
    t = ctorch.zeros(2, 3)
    t.copy_(ctorch.tensor([1.0, 2.0, 3.0]))
    assert t.tolist() == [[1.0, 2.0, 3.0]] * 2
    t.copy_(np.ones((2, 3)))
    assert t.sum().item() == 6
    t.fill_(ctorch.tensor(2.0))
    assert t.sum().item() == 12
    ti = ctorch.zeros(2, dtype=ctorch.int64)
    ti.copy_(ctorch.tensor([1.7, -2.2]))
    assert ti.tolist() == [1, -2]
    with pytest.raises(RuntimeError, match="broadcast"):
        t.copy_(ctorch.ones(4))


def test_copy_differentiable():
    x = ctorch.tensor([1.0, 2.0], requires_grad=True)
    y = ctorch.zeros(2)
    y.copy_(x * 3)
    assert y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_out_keyword():
    a, b = ctorch.ones(2, 3), ctorch.full((2, 3), 2.0)
    out = ctorch.empty(2, 3)
    r = ctorch.add(a, b, out=out)
    assert r is out and out.tolist() == [[3.0] * 3] * 2
    ctorch.mul(a, b, out=out)
    assert out.sum().item() == 12
    ctorch.matmul(a, b.t(), out=ctorch.empty(2, 2))


@pytest.mark.parametrize("scalar", [np.float64(2.0), np.int64(2), np.float32(2.0)])
def test_numpy_scalars(scalar):
    t = ctorch.ones(3)
    assert (t * scalar).dtype == ctorch.float32
    assert (scalar * t).dtype == ctorch.float32
    assert isinstance(scalar * t, ctorch.Tensor)
    assert (t + scalar).tolist() == [3.0, 3.0, 3.0]
