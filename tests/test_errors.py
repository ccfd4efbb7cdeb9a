"""Error messages: shape mismatches name the op and both shapes; dtype/device mismatches say
what was given and expected; out-of-range indices raise IndexError."""

import numpy as np
import pytest

import ctorch


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum", "pow"])
def test_broadcast_error_names_op_and_shapes(op):
    a, b = ctorch.ones(2, 3), ctorch.ones(4)
    with pytest.raises(RuntimeError) as e:
        getattr(ctorch, op)(a, b)
    msg = str(e.value)
    assert op in msg and "(2, 3)" in msg and "(4,)" in msg, msg


@pytest.mark.parametrize("op", ["eq", "lt", "where", "add_", "matmul", "cat", "masked_fill"])
def test_more_shape_errors(op):
    a, b = ctorch.ones(2, 3), ctorch.ones(4)
    f = {
        "eq": lambda: a == b,
        "lt": lambda: a < b,
        "where": lambda: ctorch.where(a > 0, a, b),
        "add_": lambda: a.add_(b),
        "matmul": lambda: a @ b,
        "cat": lambda: ctorch.cat([a, b.reshape(1, 4)]),
        "masked_fill": lambda: a.masked_fill(b > 0, 1.0),
    }[op]
    with pytest.raises(RuntimeError) as e:
        f()
    msg = str(e.value)
    assert "3" in msg and "4" in msg, msg


def test_backward_shape_errors_with_grad():
    a = ctorch.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add.*\(2, 3\).*\(4,\)"):
        a + ctorch.ones(4)


def test_dtype_mismatch_messages():
    with pytest.raises(RuntimeError, match="float32.*float64|same dtype"):
        ctorch.mm(ctorch.ones(2, 2), ctorch.ones(2, 2, dtype=ctorch.float64))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        ctorch.ones(2, dtype=ctorch.int64).mul_(1.5)
    w = ctorch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="different type"):
        w.grad = ctorch.ones(2, dtype=ctorch.float64)
    with pytest.raises(RuntimeError, match="different size"):
        w.grad = ctorch.ones(3)
    with pytest.raises(TypeError):
        ctorch.zeros(2, dtype="float32x")
    with pytest.raises(RuntimeError, match="Float|float"):
        ctorch.ones(2) & ctorch.ones(2)
    with pytest.raises(RuntimeError, match="only supports boolean masks|bool"):
        ctorch.ones(2).masked_fill(ctorch.ones(2), 0.0)
    with pytest.raises(IndexError, match="long, int, byte or bool"):
        ctorch.ones(3)[ctorch.tensor([0.0, 1.0])]


def test_device_errors():
    with pytest.raises(RuntimeError, match="expected.*device|Expected one of|device"):
        ctorch.device("tpu")
    with pytest.raises(RuntimeError, match="cpu"):
        ctorch.zeros(2, device="mps")
    with pytest.raises(TypeError, match="cuda.*numpy|Tensor.cpu"):
        # a non-CPU array behind a tensor: numpy() says what to do
        t = ctorch.zeros(1)
        t._a = type("cupy_like", (), {"device": type("d", (), {"id": 0})()})()
        t.numpy()


def test_index_errors():
    x = ctorch.zeros(3, 4)
    for f in [
        lambda: x[3],
        lambda: x[:, 4],
        lambda: x[-4],
        lambda: x[0, 0, 0],
        lambda: x[ctorch.tensor([5])],
        lambda: x[[0, 9]],
        lambda: x.select(0, 3),
        lambda: x.index_select(1, ctorch.tensor([4])),
        lambda: x.unbind(2),
        lambda: x.size(2),
        lambda: x.sum(-3),
        lambda: x.softmax(2),
        lambda: x.__setitem__((0, 7), 1.0),
    ]:
        with pytest.raises(IndexError):
            f()
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        x.narrow(0, 2, 5)  # torch: RuntimeError
    with pytest.raises(IndexError):
        ctorch.zeros(3).gather(0, ctorch.tensor([3]))
    with pytest.raises(IndexError):
        ctorch.zeros(3).scatter_(0, ctorch.tensor([5]), 1.0)
    with pytest.raises((IndexError, RuntimeError)):
        ctorch.zeros(3).index_add_(0, ctorch.tensor([3]), ctorch.ones(1))


def test_numpy_read_only_and_requires_grad_messages():
    a = np.zeros(2, np.float32)
    a.flags.writeable = False
    with pytest.raises(RuntimeError, match="add_.*read-only"):
        ctorch.from_numpy(a).add_(1)
    with pytest.raises(RuntimeError, match="requires grad"):
        ctorch.ones(1, requires_grad=True).numpy()


def test_view_and_reshape_errors():
    with pytest.raises(RuntimeError, match=r"shape '\[5\]' is invalid for input of size 6"):
        ctorch.zeros(2, 3).reshape(5)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        ctorch.zeros(2, 3).t().view(-1)
    with pytest.raises(RuntimeError, match=r"expand.*\(2, 3\)|must match the existing size"):
        ctorch.zeros(2, 3).expand(2, 4)


@pytest.mark.parametrize(
    "sa, sb, msg",
    [
        ((2, 3), (4,), r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"),
        ((5, 2, 3), (4,), r"size mismatch, got input \(10\), mat \(10x3\), vec \(4\)"),
        ((3,), (4, 2), r"mat1 and mat2 shapes cannot be multiplied \(1x3 and 4x2\)"),
        ((5, 2, 3), (4, 2), r"mat1 and mat2 shapes cannot be multiplied \(10x3 and 4x2\)"),
        ((2, 3), (4, 2), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x2\)"),
    ],
)
def test_matmul_shape_errors_are_torchs(sa, sb, msg):
    with pytest.raises(RuntimeError, match=msg):
        ctorch.ones(*sa) @ ctorch.ones(*sb)


def test_grad_of_an_unused_input_names_its_index():
    x = ctorch.ones(3, requires_grad=True)
    z = ctorch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Tensor at index 1 appears to not have been used"):
        ctorch.autograd.grad((x * 2).sum(), [x, z])


def test_cat_of_no_tensors_is_a_value_error_as_in_torch():
    with pytest.raises(ValueError, match=r"torch.cat\(\): expected a non-empty list of Tensors"):
        ctorch.cat([])
