"""Autograd semantics that must match torch (issue 11, "Autograd"): thread-local grad modes,
views rebased after an in-place change of their base, in-place errors, custom Function
checks, and gradients at NaN/inf losses, zero vectors, tensor clamp bounds and rounding
division.

Each test checks ctorch against a hand-computed (NumPy) value; where torch is installed the
same lambda also runs on torch and the results must agree.
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import ctorch


def _np(t):
    return None if t is None else np.asarray(t.detach().cpu().numpy())


def _torch():
    return pytest.importorskip("torch")


def _same_as_torch(scenario, atol=1e-6, rtol=1e-5):
    """Run ``scenario(lib)`` on ctorch and torch; compare the returned tensors."""
    torch = _torch()
    ours = scenario(ctorch)
    theirs = scenario(torch)
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs, strict=True):
        if t is None or o is None:
            assert o is None and t is None
            continue
        np.testing.assert_allclose(_np(o), _np(t), atol=atol, rtol=rtol)


def _raises_same(scenario, exc=RuntimeError):
    """``scenario(lib)`` raises ``exc`` with the same message on ctorch and on torch."""
    with pytest.raises(exc) as ours:
        scenario(ctorch)
    torch = _torch()
    with pytest.raises(exc) as theirs:
        scenario(torch)
    assert str(ours.value) == str(theirs.value)


# ------------------------------------------------------------------ 1. thread-local modes
def _in_thread(fn):
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - reported to the test thread
            out["error"] = e

    t = threading.Thread(target=run)
    t.start()
    t.join(30)
    assert not t.is_alive()
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with ctorch.no_grad():
            seen["inside"] = ctorch.is_grad_enabled()
            entered.set()
            release.wait(30)

    t = threading.Thread(target=worker)
    t.start()
    try:
        assert entered.wait(30)
        # the worker sits inside no_grad(); this thread must still record a graph
        assert ctorch.is_grad_enabled()
        x = ctorch.tensor([1.0, 2.0], requires_grad=True)
        y = (x * 3).sum()
        assert y.requires_grad and y.grad_fn is not None
        y.backward()
        assert x.grad.tolist() == [3.0, 3.0]
    finally:
        release.set()
        t.join(30)
    assert seen["inside"] is False


def test_new_thread_starts_with_grad_enabled_and_modes_do_not_leak():
    def probe():
        return (
            ctorch.is_grad_enabled(),
            ctorch.is_inference_mode_enabled(),
        )

    with ctorch.no_grad():
        assert _in_thread(probe) == (True, False)
    with ctorch.inference_mode():
        assert _in_thread(probe) == (True, False)

    def disable():
        ctorch.set_grad_enabled(False)  # a call, not a context manager: stays set
        return ctorch.is_grad_enabled()

    assert _in_thread(disable) is False
    assert ctorch.is_grad_enabled()  # ...in that thread only


def test_thread_modes_match_torch():
    torch = _torch()

    def scenario(lib):
        def probe():
            return (lib.is_grad_enabled(), lib.is_inference_mode_enabled())

        with lib.no_grad():
            a = _in_thread(probe)
        with lib.inference_mode():
            b = _in_thread(probe)
        return a, b

    assert scenario(ctorch) == scenario(torch) == ((True, False), (True, False))


def test_anomaly_mode_is_process_wide_like_torch():
    # torch's AnomalyMode is one static flag (not thread-local): a thread started inside
    # detect_anomaly() sees it enabled. ctorch follows torch here.
    torch = _torch()
    for lib in (ctorch, torch):
        with lib.autograd.set_detect_anomaly(True):
            assert _in_thread(lib.is_anomaly_enabled) is True
        assert _in_thread(lib.is_anomaly_enabled) is False


def test_backward_does_not_turn_grad_mode_off_in_other_threads():
    in_backward, release = threading.Event(), threading.Event()

    def worker():
        x = ctorch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2

        def hook(g):
            in_backward.set()
            release.wait(30)
            return g

        y.register_hook(hook)
        y.sum().backward()
        return x.grad.tolist()

    out = {}
    t = threading.Thread(target=lambda: out.setdefault("grad", worker()))
    t.start()
    try:
        assert in_backward.wait(30)
        # the worker is inside backward (grad mode off *there*)
        assert ctorch.is_grad_enabled()
        w = ctorch.tensor([1.0], requires_grad=True)
        z = w * 5
        assert z.requires_grad
        z.backward()
        assert w.grad.tolist() == [5.0]
    finally:
        release.set()
        t.join(30)
    assert out["grad"] == [2.0, 2.0]


def _train(seed, steps, errors, results, key, barrier=None):
    try:
        rng = np.random.default_rng(seed)
        xs = ctorch.tensor(rng.standard_normal((16, 3)))
        ys = ctorch.tensor(rng.standard_normal((16, 1)))
        w = ctorch.zeros(3, 1, dtype=ctorch.float64, requires_grad=True)
        b = ctorch.zeros(1, dtype=ctorch.float64, requires_grad=True)
        for _ in range(steps):
            if barrier is not None:
                barrier.wait(30)
            loss = ((xs @ w + b - ys) ** 2).mean()
            w.grad = None
            b.grad = None
            loss.backward()
            with ctorch.no_grad():
                w -= 0.1 * w.grad
                b -= 0.1 * b.grad
        results[key] = (w.detach().numpy().copy(), b.detach().numpy().copy())
    except BaseException as e:  # noqa: BLE001
        errors.append(e)


def test_two_threads_train_independent_models():
    steps = 60
    ref = {}
    _train(1, steps, [], ref, "a")
    _train(2, steps, [], ref, "b")
    errors: list = []
    results: dict = {}
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave the two loops as finely as the GIL allows
    try:
        ts = [
            threading.Thread(target=_train, args=(1, steps, errors, results, "a")),
            threading.Thread(target=_train, args=(2, steps, errors, results, "b")),
        ]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors
    for k in ("a", "b"):
        np.testing.assert_array_equal(results[k][0], ref[k][0])
        np.testing.assert_array_equal(results[k][1], ref[k][1])


def test_two_threads_lockstep_no_grad_update_does_not_break_other_forward():
    # lockstep: at every step one thread's no_grad() update overlaps the other's forward
    steps = 20
    ref = {}
    _train(3, steps, [], ref, "a")
    _train(4, steps, [], ref, "b")
    barrier = threading.Barrier(2)
    errors: list = []
    results: dict = {}
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        ts = [
            threading.Thread(target=_train, args=(3, steps, errors, results, "a", barrier)),
            threading.Thread(target=_train, args=(4, steps, errors, results, "b", barrier)),
        ]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors
    for k in ("a", "b"):
        np.testing.assert_array_equal(results[k][0], ref[k][0])


# ------------------------------------------------------------------ 2. views of a modified base
def test_issue_example_view_before_base_mul_():
    x = ctorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 2
    b = a[0:2]
    a.mul_(3)
    b.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0, 0.0]
    assert b.grad_fn.name() == "AsStridedBackward0"


_VIEWS = {
    "slice": lambda t: t[1:3],
    "slice_step": lambda t: t[:, ::2],
    "view": lambda t: t.view(12),
    "reshape": lambda t: t.reshape(2, 6),
    "transpose": lambda t: t.transpose(0, 1),
    "t": lambda t: t.t(),
    "select": lambda t: t[1],
    "select_col": lambda t: t.select(1, 2),
    "unsqueeze": lambda t: t.unsqueeze(0),
    "view_of_view": lambda t: t[1:].transpose(0, 1)[1:3],
    "view_of_view_of_view": lambda t: t.view(4, 3)[1:][:, 1].unsqueeze(1),
}


def _np_view(name, a):
    # the same views on NumPy (a C-contiguous (3, 4) array of flat positions)
    return {
        "slice": lambda t: t[1:3],
        "slice_step": lambda t: t[:, ::2],
        "view": lambda t: t.reshape(12),
        "reshape": lambda t: t.reshape(2, 6),
        "transpose": lambda t: t.transpose(1, 0),
        "t": lambda t: t.T,
        "select": lambda t: t[1],
        "select_col": lambda t: t[:, 2],
        "unsqueeze": lambda t: t[None],
        "view_of_view": lambda t: t[1:].transpose(1, 0)[1:3],
        "view_of_view_of_view": lambda t: t.reshape(4, 3)[1:][:, 1][:, None],
    }[name](a)


def _view_scenario(lib, view_name, op):
    x = lib.arange(1.0, 13.0, dtype=lib.float64).reshape(3, 4).requires_grad_(True)
    a = x * 2
    v = _VIEWS[view_name](a)
    if op == "mul_":
        a.mul_(3)
    elif op == "pow_":
        a.pow_(2)
    else:  # setitem on the base (a new value 4 x^2, through the graph)
        a[...] = x * x * 4
    w = lib.arange(1.0, v.numel() + 1.0, dtype=lib.float64).reshape(v.shape)
    (v * w).sum().backward()
    return x.grad, v.detach().clone()


@pytest.mark.parametrize("op", ["mul_", "pow_", "setitem"])
@pytest.mark.parametrize("view_name", list(_VIEWS))
def test_view_taken_before_inplace_on_base(view_name, op):
    g, v = _view_scenario(ctorch, view_name, op)
    x = np.arange(1.0, 13.0).reshape(3, 4)
    pos = _np_view(view_name, np.arange(12).reshape(3, 4))
    w = np.arange(1.0, pos.size + 1.0).reshape(pos.shape)
    # d/dx of the new base value at each position: mul_(3): 6; pow_(2) / a*a: 8x
    d = np.full(12, 6.0) if op == "mul_" else 8.0 * x.reshape(-1)
    expected = np.zeros(12)
    np.add.at(expected, pos.reshape(-1), (w * d[pos]).reshape(-1))
    np.testing.assert_allclose(_np(g), expected.reshape(3, 4))
    newbase = 6.0 * x if op == "mul_" else (2.0 * x) ** 2
    np.testing.assert_allclose(_np(v), newbase.reshape(-1)[pos])


@pytest.mark.parametrize("view_name", ["slice", "transpose", "select", "view_of_view"])
def test_view_taken_before_inplace_on_base_matches_torch(view_name):
    _same_as_torch(lambda lib: _view_scenario(lib, view_name, "pow_"))


def _sibling_scenario(lib):
    x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a = x * 2
    b = a[0:2]
    c = a[1:3]
    b.mul_(3)  # c shares a[1] with b: c's history must go through the new base
    (c * lib.tensor([1.0, 10.0])).sum().backward()
    return x.grad, c.detach().clone()


def test_sibling_view_after_inplace_on_other_view():
    g, c = _sibling_scenario(ctorch)
    assert g.tolist() == [0.0, 6.0, 20.0, 0.0]
    assert c.tolist() == [12.0, 6.0]
    _same_as_torch(_sibling_scenario)


def _view_then_base_scenario(lib):
    x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a = x * 2
    b = a[1:3]
    b.mul_(3)
    (a * lib.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    return x.grad, a.detach().clone()


def test_inplace_on_view_then_read_base():
    g, a = _view_then_base_scenario(ctorch)
    assert g.tolist() == [2.0, 12.0, 18.0, 8.0]
    assert a.tolist() == [2.0, 12.0, 18.0, 8.0]
    _same_as_torch(_view_then_base_scenario)


def _noncontig_base_scenario(lib):
    x = lib.arange(1.0, 7.0, dtype=lib.float64).reshape(2, 3).requires_grad_(True)
    a = x.t() * 2  # elementwise result of a transposed input (NumPy keeps F order)
    b = a[1]
    b.mul_(3)  # ctorch raised "not supported" on a non-contiguous base
    c = a[:, 1]
    a.add_(1)
    (b.sum() + (c * lib.tensor([1.0, 5.0, 7.0], dtype=lib.float64)).sum() + a.sum()).backward()
    return x.grad


def test_inplace_views_of_non_contiguous_base():
    g = _noncontig_base_scenario(ctorch)
    # a = 2 x^T (3, 2); a[1] *= 3; c = a[:, 1]; a += 1. In a's layout, d a / d x^T is 2,
    # and 6 on row 1. a.sum() takes all of it, b = a[1] row 1 again, c column 1 weighted
    da = np.full((3, 2), 2.0)
    da[1] = 6.0
    expected = da.copy()
    expected[1] += da[1]
    expected[:, 1] += np.array([1.0, 5.0, 7.0]) * da[:, 1]
    np.testing.assert_allclose(_np(g), expected.T)
    _same_as_torch(_noncontig_base_scenario)


def _base_gains_grad_scenario(lib):
    a = lib.zeros(3, dtype=lib.float64)
    b = a[:2]  # taken while ``a`` is outside autograd
    w = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    a.add_(w)
    assert b.requires_grad
    (b * lib.tensor([5.0, 7.0], dtype=lib.float64)).sum().backward()
    return w.grad


def test_view_of_base_that_joins_the_graph_in_place():
    assert _base_gains_grad_scenario(ctorch).tolist() == [5.0, 7.0, 0.0]
    _same_as_torch(_base_gains_grad_scenario)


def test_views_kept_alive_only_weakly():
    import gc
    import weakref

    x = ctorch.ones(4, requires_grad=True)
    a = x * 2
    refs = [weakref.ref(a[i : i + 1]) for i in range(100)]
    gc.collect()
    assert all(r() is None for r in refs)
    a.mul_(2)  # no dead view is resurrected; the list of views is pruned
    assert len(a._views) < 100


# ------------------------------------------------------------------ 3. in-place errors, copy_, Function checks
def _nograd_view_of_leaf(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with lib.no_grad():
        v = x[0:2]
    v.mul_(2)


def _nograd_view_of_nonleaf_rg_other(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
    with lib.no_grad():
        v = x.view(3)[1:]
    v.add_(lib.ones(2, requires_grad=True))


def _nograd_view_base_modified(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
    with lib.no_grad():
        v = x[0:2]
    x.mul_(2)
    (v * 1).sum().backward()  # torch raises when v's grad_fn is read; ctorch at backward


@pytest.mark.parametrize(
    "scenario", [_nograd_view_of_leaf, _nograd_view_of_nonleaf_rg_other, _nograd_view_base_modified]
)
def test_inplace_through_view_taken_under_no_grad_raises(scenario):
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode"):
        scenario(ctorch)
    _raises_same(scenario)


def test_inplace_on_no_grad_view_inside_no_grad_is_allowed():
    x = ctorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with ctorch.no_grad():
        v = x[0:2]
        v.mul_(2)
    assert x.tolist() == [2.0, 4.0, 3.0]


def _copy_scenario(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    t = lib.tensor([3.0, 4.0], requires_grad=True)
    s = lib.tensor(5.0, dtype=lib.float64, requires_grad=True)
    a = x * 2
    a.copy_(t)
    b = x * 3
    b.copy_(s)  # broadcast and cast back to the source's dtype
    (a * lib.tensor([1.0, 5.0]) + b).sum().backward()
    return x.grad, t.grad, s.grad


def test_copy_into_non_leaf_stays_in_graph():
    xg, tg, sg = _copy_scenario(ctorch)
    # the old value of a gets a zero gradient (torch: zeros, not None)
    assert xg is not None and xg.tolist() == [0.0, 0.0]
    assert tg.tolist() == [1.0, 5.0]
    assert sg.dtype == ctorch.float64 and sg.item() == 2.0
    _same_as_torch(_copy_scenario)


class _FewerGrads(ctorch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, g):
        return g


class _WrongShape(ctorch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, g):
        return g, g[:1]


class _BroadcastGrad(ctorch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, g):
        return g, g.unsqueeze(0).expand(3, 2)


def _torch_function(torch, cls):
    return type(
        cls.__name__,
        (torch.autograd.Function,),
        {"forward": cls.forward, "backward": cls.backward},
    )


def _custom_scenario(cls):
    def run(lib):
        a = lib.ones(2, requires_grad=True)
        b = lib.ones(2, requires_grad=True)
        fn = cls if lib is ctorch else _torch_function(lib, cls)
        fn.apply(a, b).sum().backward()
        return a.grad, b.grad

    return run


def test_custom_function_fewer_gradients_raises():
    with pytest.raises(
        RuntimeError,
        match=r"function _FewerGradsBackward returned an incorrect number of gradients "
        r"\(expected 2, got 1\)",
    ):
        _custom_scenario(_FewerGrads)(ctorch)
    _raises_same(_custom_scenario(_FewerGrads))


def test_custom_function_wrong_gradient_shape_names_the_function():
    with pytest.raises(
        RuntimeError,
        match=r"Function _WrongShapeBackward returned an invalid gradient at index 1 - got "
        r"\[1\] but expected shape compatible with \[2\]",
    ):
        _custom_scenario(_WrongShape)(ctorch)
    _raises_same(_custom_scenario(_WrongShape))


def test_custom_function_broadcast_gradient_is_summed():
    ga, gb = _custom_scenario(_BroadcastGrad)(ctorch)
    assert ga.tolist() == [1.0, 1.0] and gb.tolist() == [3.0, 3.0]
    _same_as_torch(_custom_scenario(_BroadcastGrad))


# ------------------------------------------------------------------ 4. seeds, norms, clamp, division
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_backward_on_nonfinite_scalar_seeds_ones(value):
    def scenario(lib):
        x = lib.tensor(value, requires_grad=True)
        y = lib.tensor(2.0, requires_grad=True)
        (x * 1 + y * 3).backward()
        return x.grad, y.grad

    xg, yg = scenario(ctorch)
    assert xg.item() == 1.0 and yg.item() == 3.0
    _same_as_torch(scenario)


@pytest.mark.parametrize("p", [2, 3, 1.5, 0.5, "fro"])
@pytest.mark.parametrize("dim", [None, 1])
def test_norm_gradient_at_zero_vector(p, dim):
    def scenario(lib):
        x = lib.tensor([[0.0, 0.0, 0.0], [3.0, -4.0, 1.0]], dtype=lib.float64, requires_grad=True)
        x0 = lib.zeros(2, 3, dtype=lib.float64, requires_grad=True)
        n = x.norm(p, dim) if dim is not None else x.norm(p)
        n0 = lib.norm(x0, p, dim)
        (n.sum() + n0.sum()).backward()
        return n, x.grad, x0.grad

    n, g, g0 = scenario(ctorch)
    assert np.isfinite(_np(g)).all() and not np.any(_np(g0))
    if dim == 1:
        assert not np.any(_np(g)[0])  # the zero row: subgradient 0, not NaN
    if p in (2, "fro"):
        v = np.array([[0.0, 0.0, 0.0], [3.0, -4.0, 1.0]])
        nrm = np.linalg.norm(v, axis=dim) if dim is not None else np.linalg.norm(v)
        np.testing.assert_allclose(_np(n), nrm)
        if dim is None:
            np.testing.assert_allclose(_np(g), v / nrm)
    _same_as_torch(scenario)


def test_norm_double_backward_away_from_zero():
    x = ctorch.tensor([3.0, 4.0], dtype=ctorch.float64, requires_grad=True)
    (g,) = ctorch.autograd.grad(x.norm(dim=0), x, create_graph=True)
    (h,) = ctorch.autograd.grad(g[0], x)
    # d/dx (x0 / |x|) = (|x|^2 - x0 x) / |x|^3
    np.testing.assert_allclose(_np(h), [(25 - 9) / 125, -12 / 125])


def test_normalize_gradient_at_zero_vector():
    def scenario(lib):
        x = lib.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], requires_grad=True)
        y = lib.nn.functional.normalize(x, dim=1)
        (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return y, x.grad

    y, g = scenario(ctorch)
    # at the zero row the denominator is the clamped eps: d/dx (x / eps) = 1 / eps
    np.testing.assert_allclose(_np(g)[0], np.array([1.0, 2.0, 3.0]) * 1e12, rtol=1e-6)
    assert np.isfinite(_np(g)).all()
    _same_as_torch(scenario, atol=1e-6, rtol=1e-4)


def _clamp_scenario(lo_vals, hi_vals, x_rg=True):
    def run(lib):
        x = lib.tensor([-1.0, 0.5, 2.0, 1.0], requires_grad=x_rg)
        lo = None if lo_vals is None else lib.tensor(lo_vals, requires_grad=True)
        hi = None if hi_vals is None else lib.tensor(hi_vals, requires_grad=True)
        y = lib.clamp(x, lo, hi)
        (y * lib.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        return (
            y,
            x.grad,
            None if lo is None else lo.grad,
            None if hi is None else hi.grad,
        )

    return run


def test_clamp_tensor_bounds_get_gradients():
    y, gx, glo, ghi = _clamp_scenario([0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.5, 1.0])(ctorch)
    assert y.tolist() == [0.0, 0.5, 1.5, 1.0]
    assert gx.tolist() == [0.0, 2.0, 0.0, 4.0]  # ties count for x, as torch
    assert glo.tolist() == [1.0, 0.0, 0.0, 0.0]
    assert ghi.tolist() == [0.0, 0.0, 3.0, 0.0]


@pytest.mark.parametrize(
    "lo,hi,x_rg",
    [
        ([0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.5, 1.0], True),
        (0.0, [1.0], True),  # broadcast bounds: gradients summed to their shapes
        ([2.0, 2.0, 2.0, 2.0], [1.0, 1.0, 1.0, 1.0], True),  # min > max: max wins
        ([0.0, 0.0, 0.0, 0.0], None, False),  # only the bound requires grad
        (None, [1.0, 1.0, 1.0, 1.0], True),
    ],
)
def test_clamp_tensor_bounds_match_torch(lo, hi, x_rg):
    _same_as_torch(_clamp_scenario(lo, hi, x_rg))


def test_clamp_bound_only_requires_grad():
    x = ctorch.tensor([-1.0, 0.5, 2.0])
    lo = ctorch.tensor([0.0, 0.0, 0.0], requires_grad=True)
    y = ctorch.clamp(x, min=lo)
    assert y.requires_grad and y.grad_fn.name() == "ClampBackward0"
    y.sum().backward()
    assert lo.grad.tolist() == [1.0, 0.0, 0.0]


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_div_rounding_mode_requires_grad_with_zero_gradient(mode):
    def scenario(lib):
        x = lib.tensor([1.5, -2.5], requires_grad=True)
        y = lib.tensor([2.0, 3.0], requires_grad=True)
        r = lib.div(x, y, rounding_mode=mode)
        assert r.requires_grad and r.grad_fn.name() == "DivBackward2"
        r2 = lib.div(x, 2, rounding_mode=mode)
        (r.sum() + r2.sum()).backward()
        return r, x.grad, y.grad

    r, gx, gy = scenario(ctorch)
    assert gx.tolist() == [0.0, 0.0] and gy.tolist() == [0.0, 0.0]
    _same_as_torch(scenario)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, x: x // 2,
        lambda lib, x: 2 // x,
        lambda lib, x: lib.floor_divide(x, x),
    ],
)
def test_floor_divide_requires_grad_and_backward_raises_like_torch(make):
    def scenario(lib):
        x = lib.tensor([1.5, -2.5], requires_grad=True)
        r = make(lib, x)
        assert r.requires_grad and r.grad_fn is not None
        r.sum().backward()

    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not implemented"):
        scenario(ctorch)
    _raises_same(scenario)


def test_floor_divide_without_grad_is_plain():
    x = ctorch.tensor([1.5, -2.5], requires_grad=True)
    with ctorch.no_grad():
        r = x // 2
    assert not r.requires_grad
    assert (ctorch.tensor([3, 4]) // 2).requires_grad is False


def test_view_of_base_whose_storage_was_replaced_is_left_alone():
    # torch 2.13 is wrong here: it rebases v onto a's new history (x.grad [6, 6, 0]) although
    # v's values, in the old memory, are still 2x. ctorch keeps v's own history.
    x = ctorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 2
    v = a[0:2]
    a.data = ctorch.zeros(3)  # v no longer shares a's memory
    a.mul_(3)
    v.sum().backward()  # v keeps its old history: d(2x)/dx on its two elements
    assert x.grad.tolist() == [2.0, 2.0, 0.0]
