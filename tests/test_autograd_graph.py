"""``ctorch.autograd.graph``: saved-tensor hooks, multi-grad hooks, gradient edges, version
bumps and the Node API. Behaviour asserts stand alone; where torch is installed the same
program runs on torch and the observations (hook call counts, gradients, errors) must match."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from helpers import HAS_TORCH

import ctorch
from ctorch.autograd.graph import (
    GradientEdge,
    get_gradient_edge,
    save_on_cpu,
    saved_tensors_hooks,
)

if HAS_TORCH:
    import torch
LIBS = [ctorch] + ([torch] if HAS_TORCH else [])


def _both(fn):
    """``fn(lib)`` on ctorch and, when installed, on torch: the two results must be equal."""
    got = fn(ctorch)
    if HAS_TORCH:
        assert got == fn(torch)
    return got


def _custom_fn(L):
    class F(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y, x * y)
            return x * y

        @staticmethod
        def backward(ctx, g):
            a, b, _ = ctx.saved_tensors
            ctx.saved_tensors  # noqa: B018 - a second read unpacks again
            return g * b, g * a

    return F


def _counting(L):
    cnt = {"pack": 0, "unpack": 0}

    def pack(t):
        cnt["pack"] += 1
        return t

    def unpack(t):
        cnt["unpack"] += 1
        return t

    return cnt, L.autograd.graph.saved_tensors_hooks(pack, unpack)


# ---------------------------------------------------------------- saved-tensor hooks


def test_counting_hook_on_custom_function():
    def run(L):
        F = _custom_fn(L)
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = L.tensor([4.0, 5.0, 6.0], requires_grad=True)
        cnt, hooks = _counting(L)
        with hooks:
            z = F.apply(x, y)
        after_forward = dict(cnt)
        z.sum().backward(retain_graph=True)
        after_one = dict(cnt)
        z.sum().backward()
        return after_forward, after_one, dict(cnt), x.grad.tolist(), y.grad.tolist()

    fwd, one, two, gx, gy = _both(run)
    assert fwd == {"pack": 3, "unpack": 0}
    assert one == {"pack": 3, "unpack": 6}  # 3 saved tensors, read twice
    assert two == {"pack": 3, "unpack": 12}  # retain_graph: unpacked again
    assert gx == [8.0, 10.0, 12.0] and gy == [2.0, 4.0, 6.0]


def test_none_in_save_for_backward_is_not_packed():
    def run(L):
        class G(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(None, x)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                a, b = ctx.saved_tensors
                assert a is None and b is not None
                return g * 2

        x = L.ones(2, requires_grad=True)
        cnt, hooks = _counting(L)
        with hooks:
            z = G.apply(x)
        z.sum().backward()
        return cnt

    assert _both(run) == {"pack": 1, "unpack": 1}


def test_builtin_mul_packs_its_two_operands():
    def run(L):
        a = L.ones(3, requires_grad=True)
        b = L.ones(3, requires_grad=True) * 2
        cnt, hooks = _counting(L)
        with hooks:
            y = a * b
        y.sum().backward()
        return cnt

    assert _both(run) == {"pack": 2, "unpack": 2}


def _offload():
    """pack: a private NumPy copy of the data (the tensor itself is not kept);
    unpack: a new tensor over it."""
    calls = {"pack": 0, "unpack": 0}

    def pack(t):
        calls["pack"] += 1
        return t.detach().numpy().copy()

    def unpack(a):
        calls["unpack"] += 1
        return ctorch.from_numpy(a)

    return calls, saved_tensors_hooks(pack, unpack)


def _grads(model, x, target, hooks=None):
    model.zero_grad()
    if hooks is None:
        out = model(x)
    else:
        with hooks:
            out = model(x)
    ctorch.nn.functional.cross_entropy(out, target).backward()
    return [p.grad.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_offloading_hook_gives_identical_gradients(kind):
    ctorch.manual_seed(0)
    nn = ctorch.nn
    if kind == "mlp":
        model = nn.Sequential(
            nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.LayerNorm(16),
            nn.Dropout(0.0), nn.Linear(16, 3),
        )  # fmt: skip
        x = ctorch.randn(5, 8)
    else:
        model = nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 4, 3), nn.GELU(), nn.Flatten(), nn.Linear(16, 3),
        )  # fmt: skip
        x = ctorch.randn(5, 2, 8, 8)
    target = ctorch.tensor([0, 2, 1, 1, 0])
    ref = _grads(model, x, target)
    calls, hooks = _offload()
    got = _grads(model, x, target, hooks)
    assert calls["pack"] > 0 and calls["unpack"] > 0
    for r, g in zip(ref, got, strict=True):
        np.testing.assert_array_equal(g, r)


def test_ctx_arrays_of_builtin_ops_are_packed():
    """Built-in ops that keep arrays on their ctx (max_pool2d's indices, nll_loss's target):
    the node holds the packed values until backward, and the gradients do not change."""
    x0 = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    t = ctorch.tensor([1, 0])

    def run(hooks):
        x = ctorch.tensor(x0, requires_grad=True)
        if hooks is None:
            y = ctorch.nn.functional.max_pool2d(x, 2)
            loss = ctorch.nn.functional.cross_entropy(y.flatten(1)[:, :2], t)
        else:
            with hooks:
                y = ctorch.nn.functional.max_pool2d(x, 2)
                loss = ctorch.nn.functional.cross_entropy(y.flatten(1)[:, :2], t)
            held = [v for v in vars(y.grad_fn).values() if isinstance(v, np.ndarray)]
            assert held == []  # the indices went through the pack hook
        loss.backward()
        return x.grad.numpy()

    calls, hooks = _offload()
    np.testing.assert_array_equal(run(hooks), run(None))
    assert calls["unpack"] >= 2


def test_packed_ctx_data_freed_with_graph_and_second_backward_refused():
    calls, hooks = _offload()
    x = ctorch.randn(1, 1, 4, 4, requires_grad=True)
    with hooks:
        y = ctorch.nn.functional.max_pool2d(x, 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_double_backward_through_unpacked_tensors():
    x0 = np.array([0.5, -1.0, 2.0], np.float32)

    def run(hooks):
        x = ctorch.tensor(x0, requires_grad=True)
        if hooks is None:
            y = (x * x * x).tanh().sum()
        else:
            with hooks:
                y = (x * x * x).tanh().sum()
        (g,) = ctorch.autograd.grad(y, x, create_graph=True)
        (gg,) = ctorch.autograd.grad(g.sum(), x)
        return g.detach().numpy(), gg.numpy()

    _, hooks = _offload()
    for a, b in zip(run(hooks), run(None), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_save_on_cpu():
    seen = []

    def run(L):
        x = L.tensor([0.5, 1.0, 2.0], requires_grad=True)
        with L.autograd.graph.save_on_cpu():
            y = (x * x).exp().sum()
        y.backward()
        return [round(v, 4) for v in x.grad.tolist()]

    assert _both(run) == [round(2 * v * np.exp(v * v), 4) for v in (0.5, 1.0, 2.0)]
    # on a CPU tensor the pack is (device, the tensor itself): tensor.cpu() does not copy
    hooks = save_on_cpu()
    t = ctorch.ones(2)
    dev, packed = hooks.pack_hook(t)
    seen.append(packed is t)
    assert str(dev) == "cpu" and seen == [True]
    assert hooks.unpack_hook((dev, packed)) is t
    dev, packed = save_on_cpu(pin_memory=True).pack_hook(t)
    assert packed is not t and packed.tolist() == [1.0, 1.0]


def test_nesting_innermost_wins_and_save_time_hooks_are_kept():
    def run(L):
        log = []
        x = L.ones(2, requires_grad=True)
        y = L.ones(2, requires_grad=True)

        def tag(name):
            return lambda t: (log.append(name), (name, t.detach()))[1]

        def untag(p):
            log.append("unpack-" + p[0])
            return p[1]

        g = L.autograd.graph
        with g.saved_tensors_hooks(tag("outer"), untag):
            with g.saved_tensors_hooks(tag("inner"), untag):
                z = x * y
            w = x * y
        # the hooks active at backward time are not the ones used
        with g.saved_tensors_hooks(lambda t: t, lambda t: (log.append("late"), t)[1]):
            (z + w).sum().backward()
        return log

    log = _both(run)
    assert log[:4] == ["inner", "inner", "outer", "outer"]
    assert sorted(log[4:]) == ["unpack-inner"] * 2 + ["unpack-outer"] * 2


def test_not_a_decorator():
    for L in LIBS:
        with pytest.raises(TypeError, match="not callable"):
            L.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t)(lambda: None)


def test_disable_saved_tensors_hooks():
    for L in LIBS:
        g = L.autograd.graph
        with g.disable_saved_tensors_hooks("no hooks here"):
            with pytest.raises(RuntimeError, match="^no hooks here$"):
                with g.save_on_cpu():
                    pass
            with g.disable_saved_tensors_hooks("inner message"):
                with pytest.raises(RuntimeError, match="^inner message$"):
                    with g.saved_tensors_hooks(lambda t: t, lambda t: t):
                        pass
            with pytest.raises(RuntimeError, match="^no hooks here$"):  # outer one is back
                with g.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
        with g.saved_tensors_hooks(lambda t: t, lambda t: t):  # enabled again
            # disabling while hooks are on raises the message at once (torch's check)
            with pytest.raises(RuntimeError, match="^busy$"):
                with g.disable_saved_tensors_hooks("busy"):
                    pass
        with g.saved_tensors_hooks(lambda t: t, lambda t: t):
            pass


@pytest.mark.parametrize("bad", [1, None])
def test_unpack_must_return_a_tensor(bad):
    msg = (
        "Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
        + type(bad).__name__
    )
    for L in LIBS:
        x = L.ones(2, requires_grad=True)
        with L.autograd.graph.saved_tensors_hooks(lambda t: 0, lambda p: bad):
            y = (x * x).sum()
        with pytest.raises(TypeError, match="^" + msg + "$"):
            y.backward()


def test_pack_hook_may_not_modify_its_input():
    for L in LIBS:
        x = L.ones(2, requires_grad=True).clone()
        with pytest.raises(RuntimeError, match="pack hook is modifying its input in place"):
            with L.autograd.graph.saved_tensors_hooks(lambda t: t.add_(1), lambda t: t):
                x * x


def test_hooks_skip_the_version_check():
    """As torch: with hooks the saved data belongs to the hooks, so an in-place change
    after saving is not an error (the clone taken by the pack hook is used)."""

    def run(L):
        a = L.tensor([1.0, 2.0], requires_grad=True)
        b = a.clone()
        with L.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
            z = (b * b).sum()
        with L.no_grad():
            b.add_(1)
        z.backward()
        return a.grad.tolist()

    assert _both(run) == [2.0, 4.0]


def test_hooks_are_thread_local():
    def run(L):
        cnt, hooks = _counting(L)
        x = L.ones(2, requires_grad=True)

        def other():
            (x * x).sum().backward()

        with hooks:
            th = threading.Thread(target=other)
            th.start()
            th.join()
            before = cnt["pack"]
            (x * x).sum()
        return before, cnt["pack"]

    assert _both(run) == (0, 2)


def test_hooks_do_not_change_the_no_hook_path():
    x = ctorch.ones(2, requires_grad=True)
    y = x * x
    assert all(type(s).__name__ == "SavedTensor" for s in y.grad_fn._saved if s is not None)
    assert y.grad_fn.saved_tensors[0] is x


def test_inference_tensor_cannot_be_saved_with_hooks():
    for L in LIBS:
        with L.inference_mode():
            it = L.ones(2)
        F = _custom_fn(L)
        x = L.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="Inference tensors cannot be saved"):
            with L.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                F.apply(x, it)


# ---------------------------------------------------------------- multi-grad hooks


def test_multi_grad_hook_all_mode():
    def run(L):
        a = L.rand(2, 3, requires_grad=True)
        b = L.rand(2, 3, requires_grad=True)
        c = a * b
        d = a * b
        calls = []
        h = register_or(L)((a, b, c, d), lambda grads: calls.append([g is not None for g in grads]))
        c.sum().backward(retain_graph=True)
        c.sum().backward(inputs=(a,), retain_graph=True)
        # (autograd.grad with a leaf among the tensors: torch refuses, "currently not
        # supported"; ctorch runs it)
        h.remove()
        c.sum().backward()
        return calls

    assert _both(run) == [[True, True, True, False], [True, False, True, False]]


def register_or(L):
    return L.autograd.graph.register_multi_grad_hook


def test_multi_grad_hook_any_mode():
    def run(L):
        a = L.ones(2, requires_grad=True)
        b = L.ones(2, requires_grad=True)
        calls = []
        register_or(L)((a, b), lambda g: calls.append(g.tolist()), mode="any")
        (a * 2 + b * 3).sum().backward()
        (a * 5).sum().backward()
        return calls

    calls = _both(run)
    assert len(calls) == 2 and calls[1] == [5.0, 5.0]


def test_multi_grad_hook_bad_mode():
    for L in LIBS:
        with pytest.raises(ValueError, match="Expects mode to be one of"):
            L.autograd.graph.register_multi_grad_hook([L.ones(1, requires_grad=True)], print,
                                                      mode="some")  # fmt: skip


def test_leaf_hook_runs_on_captured_gradient():
    def run(L):
        a = L.tensor([1.0, 2.0], requires_grad=True)
        fired = []
        a.register_hook(lambda g: (fired.append(g.tolist()), g * 10)[1])
        (g,) = L.autograd.grad((a * 3).sum(), a)
        b = L.tensor([1.0, 2.0], requires_grad=True)
        b.register_hook(lambda g: g * 10)
        (b * 3).sum().backward(inputs=[b])  # the hook runs once, not again on accumulation
        return fired, g.tolist(), b.grad.tolist()

    assert _both(run) == ([[3.0, 3.0]], [30.0, 30.0], [30.0, 30.0])


def test_grad_runs_only_the_needed_nodes():
    def run(L):
        a = L.ones(2, requires_grad=True)
        b = L.ones(2, requires_grad=True)
        hb = b * 2
        fired = []
        hb.register_hook(lambda g: fired.append("b"))
        L.autograd.grad((a * 3).sum() + hb.sum(), a)
        return fired

    assert _both(run) == []


# ---------------------------------------------------------------- edges, versions, nodes


def test_gradient_edge():
    def run(L):
        g = L.autograd.graph
        a = L.tensor([1.0, 2.0], requires_grad=True)
        h = a * 2
        y = (h * h).sum()
        e = g.get_gradient_edge(h)
        ea = g.get_gradient_edge(a)
        by_edge = L.autograd.grad(y, (e, ea), retain_graph=True)
        by_tensor = L.autograd.grad(y, (h, a))
        return (
            e.node is h.grad_fn,
            e.output_nr,
            ea.node.name(),
            [t.tolist() for t in by_edge] == [t.tolist() for t in by_tensor],
            [t.tolist() for t in by_edge],
        )

    got = _both(run)
    assert got == (True, 0, "torch::autograd::AccumulateGrad", True, [[4.0, 8.0], [8.0, 16.0]])
    assert isinstance(get_gradient_edge(ctorch.ones(1, requires_grad=True)), GradientEdge)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        get_gradient_edge(ctorch.ones(1))


def test_increment_version():
    def run(L):
        t = L.ones(2)
        v0 = t._version
        L.autograd.graph.increment_version(t)
        L.autograd.graph.increment_version([t, t])
        with L.inference_mode():
            it = L.ones(2)
        L.autograd.graph.increment_version(it)  # no counter: left alone
        x = L.ones(2, requires_grad=True).clone()
        y = (x * x).sum()
        L.autograd.graph.increment_version(x)
        try:
            y.backward()
            err = None
        except RuntimeError as e:
            err = "modified by an inplace operation" in str(e)
        return t._version - v0, err

    assert _both(run) == (3, True)


def test_node_api():
    def run(L):
        a = L.tensor([1.0, 2.0], requires_grad=True)
        b = a.clone()
        node = b.grad_fn
        md = node.metadata
        md["k"] = 1
        log = []
        node.register_prehook(lambda go: log.append(("pre", type(go).__name__, len(go))))
        h = node.register_hook(lambda gi, go: log.append(("post", go[0].tolist())))
        b.sum().backward(retain_graph=True)
        h.remove()
        b.sum().backward()
        u, _ = L.ones(4, requires_grad=True).split(2)
        got = []
        u.grad_fn.register_prehook(lambda go: got.append([g is None for g in go]))
        u.sum().backward()
        # a prehook's returned tuple replaces the output gradients
        c = L.tensor([1.0, 2.0], requires_grad=True)
        d = c * 1
        d.grad_fn.register_prehook(lambda go: (go[0] * 3,))
        d.sum().backward()
        return (
            node.name(),
            node.metadata is md and md == {"k": 1},
            isinstance(node, L.autograd.graph.Node),
            isinstance(node.next_functions[0][0], L.autograd.graph.Node),
            log,
            got,
            c.grad.tolist(),
        )

    got = _both(run)
    assert got[0] == "CloneBackward0" and got[1:4] == (True, True, True)
    assert got[4] == [("pre", "tuple", 1), ("post", [1.0, 1.0]), ("pre", "tuple", 1)]
    assert got[5] == [[False, True]] and got[6] == [3.0, 3.0]


def test_allow_mutation_on_saved_tensors():
    def run(L):
        amst = L.autograd.graph.allow_mutation_on_saved_tensors
        with amst():
            a = L.ones(2, 3, requires_grad=True)
            b = a.clone()
            out = (b**2).sum()
            b.sin_()  # b was saved by pow: backward still sees the ones
            out.backward()
            g1 = a.grad.tolist()
            e = a * a
            e2 = (e * e).sum()
            e.mul_(3)
            e2.backward()
        with amst():
            y = (a.clone() ** 2).sum()
        try:
            y.backward()
            outside = None
        except AssertionError as ex:
            outside = str(ex)
        try:
            with amst(), amst():
                pass
            nested = None
        except RuntimeError as ex:
            nested = str(ex)
        return g1, a.grad.tolist(), outside, nested

    g1, g2, outside, nested = _both(run)
    assert g1 == [[2.0] * 3] * 2 and g2 == [[6.0] * 3] * 2
    assert outside.startswith("Trying to backward outside of the 'allow_mutation_on_saved")
    assert nested == "allow_mutation_on_saved_tensors contexts cannot be nested"
    # without the context the same program is refused
    a = ctorch.ones(2, requires_grad=True)
    b = a.clone()
    out = (b**2).sum()
    b.sin_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


# ---------------------------------------------------------------- grad_fn._saved_*


def _saved_view(v):
    if v is None or isinstance(v, (int, float)):
        return v
    return (np.round(np.asarray(v.tolist(), dtype=np.float64), 5).tolist(), v.requires_grad)


SAVED_CASES = {
    "x*y": (lambda L, x, y, c: x * y, ["self", "other"]),
    "x*c": (lambda L, x, y, c: x * c, ["self", "other"]),
    "x*2": (lambda L, x, y, c: x * 2, ["self", "other"]),
    "x/y": (lambda L, x, y, c: x / y, ["self", "other"]),
    "x/2": (lambda L, x, y, c: x / 2, ["self", "other"]),
    "exp": (lambda L, x, y, c: x.exp(), ["result"]),
    "tanh": (lambda L, x, y, c: x.tanh(), ["result"]),
    "sigmoid": (lambda L, x, y, c: x.sigmoid(), ["result"]),
    "pow": (lambda L, x, y, c: x**2, ["self", "exponent"]),
    "pow_t": (lambda L, x, y, c: x**y, ["self", "exponent", "result"]),
    "mm": (lambda L, x, y, c: x.view(1, 2) @ y.view(2, 1), ["self", "mat2"]),
    "mm_c": (lambda L, x, y, c: c.view(1, 2) @ x.view(2, 1), ["self", "mat2"]),
}


@pytest.mark.parametrize("case", list(SAVED_CASES))
def test_saved_attributes(case):
    fn, names = SAVED_CASES[case]

    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = L.tensor([3.0, 4.0], requires_grad=True)
        c = L.tensor([5.0, 6.0])
        node = fn(L, x, y, c).grad_fn
        return [_saved_view(getattr(node, "_saved_" + n)) for n in names]

    got = _both(run)
    x, y, c = [1.0, 2.0], [3.0, 4.0], [5.0, 6.0]
    expected = {
        "x*y": [(x, True), (y, True)],
        "x*c": [None, (c, False)],
        "x*2": [None, (2.0, False)],  # a wrapped number: a 0-d tensor
        "exp": [(np.round(np.exp(x), 5).tolist(), True)],
        "mm_c": [([[5.0, 6.0]], False), None],  # self kept for mat2's gradient only
    }
    if case in expected:
        assert got == expected[case]


def test_saved_attribute_identity_release_and_hooks():
    x = ctorch.tensor([1.0, 2.0], requires_grad=True)
    y = ctorch.tensor([3.0, 4.0], requires_grad=True)
    z = x * y
    assert z.grad_fn._saved_self is x and z.grad_fn._saved_other is y
    e = x.exp()
    assert e.grad_fn._saved_result.grad_fn is e.grad_fn
    assert not hasattr(e.grad_fn, "_saved_self")  # exp saves its result only, as torch
    z.sum().backward()
    with pytest.raises(RuntimeError, match="after they have already been freed"):
        z.grad_fn._saved_self  # noqa: B018
    cnt, hooks = _counting(ctorch)
    with hooks:
        z = x * y
    assert z.grad_fn._saved_other.tolist() == [3.0, 4.0] and cnt["unpack"] == 1


@pytest.mark.skipif(not HAS_TORCH, reason="compares with torch")
def test_saved_attributes_of_unary_ops_match_torch():
    from ctorch._table import UNARY

    checked = 0
    for op in UNARY:
        tf = getattr(torch, op.name, None)
        cf = getattr(ctorch, op.name, None)
        if tf is None or cf is None or op.name in ("clamp",):
            continue
        try:
            yt = tf(torch.tensor([0.3, 0.6], requires_grad=True))
        except TypeError:  # takes more arguments (threshold, ...)
            continue
        yc = cf(ctorch.tensor([0.3, 0.6], requires_grad=True))
        if yt.grad_fn is None or yc.grad_fn is None or yt.grad_fn.name() != yc.grad_fn.name():
            continue
        for a in ("_saved_self", "_saved_result"):
            assert hasattr(yt.grad_fn, a) == hasattr(yc.grad_fn, a), (op.name, a)
            if hasattr(yt.grad_fn, a):
                np.testing.assert_allclose(
                    getattr(yc.grad_fn, a).tolist(), getattr(yt.grad_fn, a).tolist(), rtol=1e-6
                )
        checked += 1
    assert checked >= 20


def test_gradient_edge_as_output_and_backward_input():
    def run(L):
        g = L.autograd.graph
        a = L.tensor([1.0, 2.0], requires_grad=True)
        h = a * 2
        y = (h * h).sum()
        (ga,) = L.autograd.grad(
            g.get_gradient_edge(h), a, grad_outputs=L.ones(2), retain_graph=True
        )
        y.backward(inputs=[g.get_gradient_edge(a)])
        try:
            L.autograd.grad(y, g.get_gradient_edge(L.ones(1, requires_grad=True)),
                            materialize_grads=True, allow_unused=True)  # fmt: skip
            err = None
        except RuntimeError as e:
            err = str(e)
        return ga.tolist(), a.grad.tolist(), err

    ga, acc, err = _both(run)
    assert ga == [2.0, 2.0] and acc == [8.0, 16.0]
    assert err == "materialize_grads cannot be used when the given input is a GradientEdge"


@pytest.mark.parametrize("L", LIBS, ids=lambda m: m.__name__)
def test_torch_c_names_behind_the_graph_api(L):
    A = L._C._autograd
    packed = []
    A._push_saved_tensors_default_hooks(lambda t: (packed.append(1), t)[1], lambda t: t)
    try:
        x = L.ones(2, requires_grad=True)
        y = (x * x).sum()
    finally:
        A._pop_saved_tensors_default_hooks()
    assert packed == [1, 1]
    assert A._saved_tensors_hooks_is_enabled()
    assert A._saved_tensors_hooks_get_disabled_error_message() is None
    assert L._C._current_graph_task_id() == -1
    ids = []
    x.register_hook(lambda g: ids.append(L._C._current_graph_task_id()))
    y.backward()
    assert len(ids) == 1 and ids[0] >= 0
    t = L.ones(1)
    v = t._version
    L._C._increment_version([t])
    assert t._version == v + 1


def test_offloading_hook_with_sparse_operands():
    """Sparse tensors saved under hooks come back as sparse tensors (their own detach), and a
    sparse pattern kept on a ctx is left alone: gradients do not change."""
    i = ctorch.tensor([[0, 1, 1], [2, 0, 2]])
    v0 = np.array([3.0, 4.0, 5.0], np.float32)
    d = ctorch.tensor(np.arange(6, dtype=np.float32).reshape(3, 2))

    def run(hooks):
        v = ctorch.tensor(v0, requires_grad=True)
        s = ctorch.sparse_coo_tensor(i, v, (2, 3))
        if hooks is None:
            y = ctorch.sparse.mm(s, d).sum() + s.to_dense().pow(2).sum()
        else:
            with hooks:
                y = ctorch.sparse.mm(s, d).sum() + s.to_dense().pow(2).sum()
        y.backward()
        return v.grad.numpy()

    calls, hooks = _offload_any()
    np.testing.assert_array_equal(run(hooks), run(None))
    assert calls["pack"] > 0


def _offload_any():
    """As ``_offload``, for any tensor: plain ones as a NumPy copy, others as a clone."""
    calls = {"pack": 0}

    def pack(t):
        calls["pack"] += 1
        if type(t) is ctorch.Tensor:
            return t.detach().numpy().copy()
        return t.detach()

    def unpack(p):
        return ctorch.from_numpy(p) if isinstance(p, np.ndarray) else p

    return calls, saved_tensors_hooks(pack, unpack)


def test_gradient_edge_output_implicit_grad_as_torch():
    """A GradientEdge as ``autograd.grad``'s output: ones for a one-element output (torch
    reads the node's input metadata), torch's refusal for a larger one."""

    def run(L):
        g = L.autograd.graph
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        out = []
        for make in (
            lambda: x.sum() * 2,
            lambda: x[:1] * 3,
            lambda: x.double().sum(),
            lambda: L.nn.functional.linear(x, L.ones(1, 3)),
            lambda: x * 2,
            lambda: x,
        ):
            try:
                (r,) = L.autograd.grad(g.get_gradient_edge(make()), x, allow_unused=True)
                out.append(None if r is None else (r.tolist(), str(r.dtype).split(".")[-1]))
            except RuntimeError as e:
                out.append(str(e))
        return out

    scalar = "grad can be implicitly created only for scalar outputs"
    assert _both(run) == [
        ([2.0, 2.0, 2.0], "float32"),
        ([3.0, 0.0, 0.0], "float32"),
        ([1.0, 1.0, 1.0], "float32"),
        ([1.0, 1.0, 1.0], "float32"),
        scalar,
        scalar,
    ]


def test_raw_saved_tensor_register_hooks_as_torch():
    """``grad_fn._raw_saved_<name>``: the SavedTensor (the same object each time), its
    ``data`` (an input as it is, an output without its graph); ``register_hooks`` packs now and unpacks in backward; one pair only;
    a non-Tensor from the unpack hook is a TypeError."""

    def run(L):
        calls = []
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * x
        raw = y.grad_fn._raw_saved_self
        same = raw is y.grad_fn._raw_saved_self
        data = (raw.data.tolist(), raw.data.requires_grad, raw.unpack_hook is None)
        raw.register_hooks(
            lambda t: (calls.append(("pack", t.tolist())), 5)[1],
            lambda p: (calls.append(("unpack", p)), L.ones(3))[1],
        )
        try:
            raw.register_hooks(lambda t: t, lambda t: t)
            again = None
        except RuntimeError as e:
            again = "already been set" in str(e)
        y.sum().backward()
        e = x.exp()
        r = e.grad_fn._raw_saved_result
        data = (*data, r.data.requires_grad)
        r.register_hooks(lambda t: t * 1, lambda t: t)
        e.sum().backward()
        x2 = L.tensor([1.0, 2.0], requires_grad=True)
        y2 = x2 * x2
        y2.grad_fn._raw_saved_other.register_hooks(lambda t: t, lambda p: 3)
        try:
            y2.sum().backward()
            bad = None
        except TypeError as err:
            bad = "expected to be a Tensor" in str(err)
        return same, data, calls, again, x.grad.tolist(), bad

    same, data, calls, again, grad, bad = _both(run)
    assert same and data == ([1.0, 2.0, 3.0], True, True, False)  # an input: the leaf itself
    assert calls == [("pack", [1.0, 2.0, 3.0]), ("unpack", 5)]
    assert again is True and bad is True
    # x * x: d/dx = other * 1 + self * 1, the unpacked "self" replaced by ones; then + exp(x)
    np.testing.assert_allclose(grad, np.array([2.0, 3.0, 4.0]) + np.exp([1.0, 2.0, 3.0]), 1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda L, x: x.clone(),
        lambda L, x: x.flip(0),
        lambda L, x: x.roll(1, 1),
        lambda L, x: x.rot90(),
        lambda L, x: L.nn.functional.pixel_shuffle(x.reshape(1, 4, 1, 1), 2),
        lambda L, x: L.nn.functional.pad(x[None], (1, 1), mode="reflect"),
        lambda L, x: L.nn.functional.pad(x[None], (1, 2), mode="replicate"),
    ],
    ids=["clone", "flip", "roll", "rot90", "pixel_shuffle", "reflect_pad", "replicate_pad"],
)
def test_copy_node_hook_gets_one_grad_input_as_torch(make):
    """A hook on a clone-like node gets one grad_input (the tensor's), as torch's node has one
    input; a hook's replacement of it reaches the leaf."""

    def run(L):
        x = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = make(L, x)
        got = []

        def hook(gi, go):
            got.append((len(gi), len(go), tuple(gi[0].shape)))
            return (gi[0] * 10,)

        y.grad_fn.register_hook(hook)
        y.sum().backward()
        return len(y.grad_fn.next_functions), got, x.grad.tolist()

    n, got, grad = _both(run)
    assert n == 1 and len(got) == 1 and got[0][:2] == (1, 1)
    assert min(min(r) for r in grad) >= 10.0  # every input element is used at least once
