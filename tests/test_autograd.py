"""Autograd: accumulation, retain_graph, grad(), hooks, custom Functions, version counters,
grad modes, anomaly detection, gradcheck, to_dot, and flat memory over many steps."""

import gc
import tracemalloc

import numpy as np
import pytest
from helpers import HAS_TORCH, _torch

import ctorch
from ctorch.autograd import Function


def test_grad_accumulation_and_reset():
    w = ctorch.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * w).sum().backward()
    assert w.grad.tolist() == [5.0, 7.0]
    w.grad = None
    (w * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0]


def test_backward_non_scalar_needs_gradient():
    x = ctorch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        y.backward()
    y.backward(ctorch.tensor([1.0, 0.5]))
    assert x.grad.tolist() == [2.0, 1.0]
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(ctorch.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        ctorch.ones(2).sum().backward()


def test_retain_graph_and_second_backward_error():
    x = ctorch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_weight_sharing_and_diamond():
    w = ctorch.tensor([2.0], requires_grad=True)
    a = w * 3
    b = a * w + a.exp() * 0 + a  # a used twice, w used twice
    b.sum().backward()
    # d/dw (3w*w + 3w) = 6w + 3
    assert w.grad.tolist() == [15.0]


def test_autograd_grad_and_higher_order():
    x = ctorch.tensor([1.0, 2.0, 3.0], dtype=ctorch.float64, requires_grad=True)
    y = (x**3).sum()
    (g,) = ctorch.autograd.grad(y, x, create_graph=True)
    assert g.tolist() == [3.0, 12.0, 27.0] and g.requires_grad
    (gg,) = ctorch.autograd.grad(g.sum(), x, create_graph=True)
    assert gg.tolist() == [6.0, 12.0, 18.0]
    (ggg,) = ctorch.autograd.grad(gg.sum(), x)
    assert ggg.tolist() == [6.0, 6.0, 6.0]
    assert x.grad is None  # grad() does not accumulate
    z = ctorch.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        ctorch.autograd.grad((x * 2).sum(), [x, z])
    gx, gz = ctorch.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None and gx.tolist() == [2.0, 2.0, 2.0]
    gx, gz = ctorch.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)
    assert gz.tolist() == [0.0]
    h = x * 2
    (gh,) = ctorch.autograd.grad(
        (h * h).sum(), h, grad_outputs=ctorch.tensor(2.0, dtype=ctorch.float64)
    )
    assert gh.tolist() == [8.0, 16.0, 24.0]


def test_gradient_penalty_backward_create_graph():
    x = ctorch.tensor([[1.0, -2.0]], requires_grad=True)
    w = ctorch.tensor([[0.5], [1.5]], requires_grad=True)
    out = ctorch.tanh(x @ w).sum()
    out.backward(create_graph=True)
    pen = (x.grad**2).sum()
    x.grad = None
    w.grad = None
    pen.backward()
    assert w.grad is not None and x.grad is not None
    if HAS_TORCH:
        xt = _torch.tensor([[1.0, -2.0]], requires_grad=True)
        wt = _torch.tensor([[0.5], [1.5]], requires_grad=True)
        _torch.tanh(xt @ wt).sum().backward(create_graph=True)
        pt = (xt.grad**2).sum()
        xt.grad = None
        wt.grad = None
        pt.backward()
        np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-5)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5)


def test_is_leaf_requires_grad_and_grad_fn():
    x = ctorch.tensor([1.0], requires_grad=True)
    c = ctorch.tensor([2.0])
    y = x * c + 1
    assert x.is_leaf and c.is_leaf and not y.is_leaf and y.requires_grad
    assert y.grad_fn.name() == "AddBackward0"
    nf = y.grad_fn.next_functions
    assert nf[0][0].name() == "MulBackward0"
    acc = nf[0][0].next_functions[0][0]
    assert acc.name() == "torch::autograd::AccumulateGrad" and acc.variable is x
    assert nf[0][0].next_functions[1][0] is None
    with pytest.warns(UserWarning, match="not a leaf"):
        assert y.grad is None
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad_(False)
    z = ctorch.zeros(2)
    z.requires_grad = True
    assert z.requires_grad and z.is_leaf


def test_retain_grad_and_hooks():
    x = ctorch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    assert y.retains_grad
    seen = []
    h1 = y.register_hook(lambda g: seen.append(g.clone()))
    x.register_hook(lambda g: g * 10)  # replaces x's gradient
    (y * y).sum().backward()
    assert y.grad.tolist() == [4.0, 8.0]
    assert seen[0].tolist() == [4.0, 8.0]
    assert x.grad.tolist() == [80.0, 160.0]
    h1.remove()
    x.grad = None
    y2 = x * 1
    y2.register_hook(lambda g: g + 1)
    y2.sum().backward()
    assert x.grad.tolist() == [20.0, 20.0]
    with pytest.raises(RuntimeError):
        ctorch.ones(1).register_hook(lambda g: g)


def test_detach_and_requires_grad_():
    x = ctorch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad
    z = (y * x).sum()
    z.backward()
    assert x.grad.tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="floating point"):
        ctorch.tensor([1]).requires_grad_()


# ------------------------------------------------------------------ custom Function
class MyExp(Function):
    @staticmethod
    def forward(ctx, x, scale):
        y = x.exp() * scale
        ctx.save_for_backward(y)
        ctx.scale = scale
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * y, None


class SortWithIndex(Function):
    @staticmethod
    def forward(ctx, x):
        v, i = x.sort()
        ctx.mark_non_differentiable(i)
        ctx.save_for_backward(i)
        return v, i

    @staticmethod
    def backward(ctx, gv, gi):
        (i,) = ctx.saved_tensors
        g = ctorch.zeros_like(gv)
        g[i] = gv
        return g


class AddOneInPlace(Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g


class Needs(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.flags = ctx.needs_input_grad
        return a * b

    @staticmethod
    def backward(ctx, g):
        return g, g


def test_custom_function():
    x = ctorch.tensor([0.0, 1.0], dtype=ctorch.float64, requires_grad=True)
    y = MyExp.apply(x, 2.0)
    assert y.grad_fn.name() == "MyExpBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([0.0, 1.0]))
    assert ctorch.autograd.gradcheck(lambda t: MyExp.apply(t, 3.0), (x,))
    v, i = SortWithIndex.apply(ctorch.tensor([3.0, 1.0, 2.0], requires_grad=True))
    assert v.requires_grad and not i.requires_grad and i.dtype is ctorch.int64
    a = ctorch.tensor([1.0], requires_grad=True)
    b = ctorch.tensor([2.0])
    Needs.apply(a, b).sum().backward()
    z = Needs.apply(b, a)
    assert z.grad_fn.flags == (False, True)
    with pytest.raises(RuntimeError):
        MyExp()


def test_custom_function_mark_dirty():
    a = ctorch.tensor([1.0, 2.0], requires_grad=True)
    h = a * 2
    r = AddOneInPlace.apply(h)
    assert r is h and h.tolist() == [3.0, 5.0] and h.grad_fn.name() == "AddOneInPlaceBackward"
    (h * 3).sum().backward()
    assert a.grad.tolist() == [6.0, 6.0]
    with pytest.raises(RuntimeError, match="leaf Variable"):
        AddOneInPlace.apply(ctorch.ones(1, requires_grad=True))


def test_custom_function_saved_output_version_check():
    x = ctorch.tensor([1.0], requires_grad=True)
    y = MyExp.apply(x, 1.0)
    with ctorch.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*MyExpBackward"):
        y.sum().backward()


# ------------------------------------------------------------------ version counters
def test_inplace_after_save_raises_naming_the_op():
    x = ctorch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y.exp()  # ExpBackward0 saves its output
    z.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*ExpBackward0"):
        z.sum().backward()
    a = x * 1
    b = a * a  # MulBackward0 saves a
    a.add_(1)
    with pytest.raises(RuntimeError, match=r"inplace operation.*MulBackward0.*version"):
        b.sum().backward()
    c = x * 1
    d = c.sin()
    c[0] = 0.0
    with pytest.raises(RuntimeError, match="SinBackward0"):
        d.sum().backward()
    if HAS_TORCH:
        xt = _torch.tensor([1.0, 2.0], requires_grad=True)
        at = xt * 1
        bt = at * at
        at.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            bt.sum().backward()


def test_version_counter_shared_by_views():
    x = ctorch.zeros(3)
    v = x[1:]
    v0 = x._version
    v.add_(1)
    assert x._version == v._version and x._version > v0


# ------------------------------------------------------------------ grad modes
@pytest.mark.parametrize("mode", ["no_grad", "inference_mode", "set_grad_enabled"])
def test_grad_modes_build_no_graph(mode):
    x = ctorch.ones(2, requires_grad=True)
    ctx = ctorch.set_grad_enabled(False) if mode == "set_grad_enabled" else getattr(ctorch, mode)()
    with ctx:
        y = (x * 2).exp().sum()
        assert not y.requires_grad and y.grad_fn is None
        assert not ctorch.is_grad_enabled()
        with ctorch.enable_grad():
            assert ctorch.is_grad_enabled()
            assert (x * 2).requires_grad
    assert ctorch.is_grad_enabled()

    deco = getattr(ctorch, mode)(False) if mode == "set_grad_enabled" else getattr(ctorch, mode)()

    @deco
    def f(t):
        return t * 2

    assert not f(x).requires_grad and ctorch.is_grad_enabled()


def test_no_grad_bare_decorator_and_set_grad_enabled_function():
    @ctorch.no_grad
    def f(t):
        return t * 2

    x = ctorch.ones(1, requires_grad=True)
    assert not f(x).requires_grad
    ctorch.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    ctorch.set_grad_enabled(True)
    assert (x * 2).requires_grad
    with ctorch.no_grad():

        @ctorch.enable_grad()
        def g(t):
            return t * 2

        assert g(x).requires_grad
    assert ctorch.is_inference_mode_enabled() is False
    with ctorch.inference_mode():
        assert ctorch.is_inference_mode_enabled()


def test_no_grad_uses_no_graph_memory():
    x = ctorch.ones(1000, requires_grad=True)
    gc.collect()
    with ctorch.no_grad():
        y = x
        for _ in range(50):
            y = y * 1.0001
    assert y.grad_fn is None and y._base is None


# ------------------------------------------------------------------ anomaly detection
def test_detect_anomaly_reports_forward_traceback():
    x = ctorch.tensor([-1.0, 1.0], requires_grad=True)
    with ctorch.autograd.detect_anomaly():
        y = ctorch.sqrt(x * 0.0)  # sqrt'(0) = inf, * 0 -> nan upstream
        z = (y * 0.0).sum()
        with pytest.raises(RuntimeError) as e:
            z.backward()
    msg = str(e.value)
    assert "returned nan values" in msg and "SqrtBackward0" in msg
    assert "test_detect_anomaly_reports_forward_traceback" in msg  # forward traceback
    # without anomaly mode: no error, NaN gradient
    x.grad = None
    (ctorch.sqrt(x * 0.0) * 0.0).sum().backward()
    assert np.isnan(x.grad.numpy()).all()


# ------------------------------------------------------------------ gradcheck / to_dot
def test_gradcheck_and_gradgradcheck():
    x = ctorch.randn(3, dtype=ctorch.float64, requires_grad=True)
    w = ctorch.randn(3, 3, dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradcheck(lambda a, b: (b @ a).tanh(), (x, w))
    assert ctorch.autograd.gradgradcheck(lambda a, b: (b @ a).tanh(), (x, w))

    class BadGrad(Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        ctorch.autograd.gradcheck(BadGrad.apply, (x,))
    assert not ctorch.autograd.gradcheck(BadGrad.apply, (x,), raise_exception=False)


def test_to_dot():
    w = ctorch.randn(2, 3, requires_grad=True)
    x = ctorch.randn(4, 3)
    out = (x @ w.t()).relu().sum()
    dot = ctorch.autograd.graph.to_dot(out, params={"weight": w})
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    for name in ["SumBackward0", "ReluBackward0", "MmBackward0", "weight", "(2x3)"]:
        assert name in dot, name


# ------------------------------------------------------------------ memory
def test_memory_flat_over_10000_iterations():
    rng = np.random.default_rng(0)
    w = ctorch.tensor(rng.standard_normal((8, 4)).astype(np.float32), requires_grad=True)
    b = ctorch.zeros(4, requires_grad=True)
    x = ctorch.tensor(rng.standard_normal((16, 8)).astype(np.float32))

    def step():
        loss = ((x @ w + b).tanh() ** 2).mean()
        loss.backward()
        with ctorch.no_grad():
            w.sub_(w.grad, alpha=0.01)
            b.sub_(b.grad, alpha=0.01)
        w.grad = None
        b.grad = None
        return loss

    for _ in range(200):  # warm caches
        step()
    gc.collect()
    n0 = len(gc.get_objects())
    for _ in range(9300):
        step()
    gc.collect()
    n1 = len(gc.get_objects())
    # every step makes ~15 graph objects: a leak of the graph would add >100,000
    assert n1 - n0 < 200, (n0, n1)
    tracemalloc.start()
    try:
        for _ in range(100):
            step()
        gc.collect()
        base, _ = tracemalloc.get_traced_memory()
        for _ in range(400):
            loss = step()
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert float(loss) < 1.0
    # a leaked graph (arrays + nodes, >1 KiB per step) would grow by > 400 KiB
    assert end - base < 64 * 1024, (base, end)


def test_inplace_on_view_rebases_base():
    def run(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * 1
        v = y[0]
        v.mul_(3)
        y[:, 1].add_(x[:, 0])
        w = y.t()[1]
        w[0] = 7.0
        (y * y).sum().backward()
        return y.detach(), x.grad

    yc, gc_ = run(ctorch)
    # y = [[3, 7], [3, 4 + 3]] ; d/dx of sum(y^2) by hand
    assert yc.tolist() == [[3.0, 7.0], [3.0, 7.0]]
    assert gc_.tolist() == [[18.0, 0.0], [20.0, 14.0]]
    if HAS_TORCH:
        yt, gt = run(_torch)
        np.testing.assert_allclose(gc_.numpy(), gt.numpy())
    leaf = ctorch.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf[0].mul_(2)
    z = ctorch.zeros(3)
    a = ctorch.tensor([1.0, 2.0], requires_grad=True)
    z[1:].copy_(a * 2)  # base that did not require grad now does
    assert z.requires_grad
    (z * ctorch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert a.grad.tolist() == [4.0, 6.0]
