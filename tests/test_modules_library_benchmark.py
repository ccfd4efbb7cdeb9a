"""Issue #14: ctorch.library / ctorch.ops.<ns>, utils.benchmark, utils.flop_counter,
futures, utils.cpp_extension, checked against torch where it is installed."""

from __future__ import annotations

import re
import threading
import uuid

import numpy as np
import pytest

import ctorch
import ctorch.nn as nn
import ctorch.nn.functional as F
from ctorch import futures, library
from ctorch.utils import benchmark, cpp_extension, flop_counter

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")


def _ns() -> str:
    return "t" + uuid.uuid4().hex[:10]  # ops live for the whole process: a fresh namespace


# ------------------------------------------------------------------ futures


def test_future_result_then_and_callbacks() -> None:
    f = futures.Future()
    assert not f.done()
    with pytest.raises(RuntimeError, match="not completed"):
        f.value()
    seen = []
    f.add_done_callback(lambda fut: seen.append(fut.value()))
    g = f.then(lambda fut: fut.wait() * 2)
    f.set_result(21)
    assert f.done() and f.wait() == 21 and f.value() == 21
    assert g.wait() == 42 and seen == [21]
    late = f.then(lambda fut: fut.value() + 1)  # already done: runs at once
    assert late.done() and late.value() == 22
    with pytest.raises(RuntimeError, match="only be marked completed once"):
        f.set_result(1)


def test_future_exception_propagates_through_then() -> None:
    f = futures.Future()
    g = f.then(lambda fut: fut.wait() + 1)
    f.set_exception(ValueError("boom"))
    with pytest.raises(ValueError, match="boom"):
        f.wait()
    with pytest.raises(ValueError, match="boom"):
        g.wait()
    with pytest.raises(TypeError, match="not an exception"):
        futures.Future().set_exception("x")


def test_collect_all_and_wait_all_across_threads() -> None:
    fs = [futures.Future() for _ in range(4)]
    all_done = futures.collect_all(fs)
    assert not all_done.done()
    ts = [threading.Thread(target=f.set_result, args=(i * i,)) for i, f in enumerate(fs)]
    for t in ts:
        t.start()
    assert [f.value() for f in all_done.wait()] == [0, 1, 4, 9]
    for t in ts:
        t.join()
    assert futures.wait_all(fs) == [0, 1, 4, 9]
    assert futures.collect_all([]).wait() == []
    bad = futures.Future()
    bad.set_exception(KeyError("k"))
    with pytest.raises(KeyError):
        futures.wait_all([fs[0], bad])


@needs_torch
def test_future_matches_torch_semantics() -> None:
    for lib in (torch.futures, futures):
        f = lib.Future()
        chained = f.then(lambda x: x.value() + 1).then(lambda x: x.value() * 3)
        f.set_result(1)
        assert chained.wait() == 6
        assert [x.value() for x in lib.collect_all([f, chained]).wait()] == [1, 6]


# ------------------------------------------------------------------ cpp_extension


def test_cpp_extension_raises_clearly() -> None:
    assert cpp_extension.include_paths() == []
    assert cpp_extension.library_paths() == []
    for call in (
        lambda: cpp_extension.load("m", ["m.cpp"]),
        lambda: cpp_extension.load_inline("m", "int f();"),
        lambda: cpp_extension.CppExtension("m", ["m.cpp"]),
        lambda: cpp_extension.CUDAExtension("m", ["m.cu"]),
        lambda: cpp_extension.BuildExtension(),
    ):
        with pytest.raises(NotImplementedError, match="no C\\+\\+ ABI"):
            call()
    assert (
        cpp_extension.BuildExtension.with_options(use_ninja=False) is cpp_extension.BuildExtension
    )


def test_new_modules_import_under_the_torch_alias() -> None:
    import importlib

    from ctorch.run import install_aliases, uninstall_aliases

    install_aliases()
    try:
        for name in (
            "torch.utils.benchmark",
            "torch.library",
            "torch.utils.flop_counter",
            "torch.futures",
            "torch.utils.cpp_extension",
        ):
            mod = importlib.import_module(name)
            assert mod.__name__ == "ctorch" + name[len("torch") :]
        t = importlib.import_module("torch")
        assert t.library is library and t.futures is futures
        assert t.utils.benchmark is benchmark and t.utils.flop_counter is flop_counter
    finally:
        uninstall_aliases()


# ------------------------------------------------------------------ library


def _make_mysin(ns: str):
    @library.custom_op(f"{ns}::mysin", mutates_args=())
    def mysin(x: ctorch.Tensor, scale: float = 1.0) -> ctorch.Tensor:
        return ctorch.from_numpy(np.sin(x.detach().numpy()) * scale)

    @mysin.register_fake
    def _(x, scale=1.0):
        return ctorch.empty_like(x)

    def setup_context(ctx, inputs, output):
        x, scale = inputs
        ctx.save_for_backward(x)
        ctx.scale = scale

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.cos() * ctx.scale, None

    mysin.register_autograd(backward, setup_context=setup_context)
    return mysin


def test_custom_op_callable_and_in_ops_namespace() -> None:
    ns = _ns()
    mysin = _make_mysin(ns)
    x = ctorch.tensor([0.1, 0.5, 2.0], dtype=ctorch.float64)
    want = np.sin(x.numpy()) * 2
    np.testing.assert_allclose(mysin(x, 2.0).numpy(), want)
    op = getattr(ctorch.ops, ns).mysin
    np.testing.assert_allclose(op(x, scale=2.0).numpy(), want)
    np.testing.assert_allclose(op.default(x, 2.0).numpy(), want)
    assert str(op) == f"{ns}.mysin" and mysin._qualname == f"{ns}::mysin"
    assert mysin._opoverload.overloadpacket is op
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = getattr(ctorch.ops, ns).nope


def test_register_autograd_gradients_match_finite_differences_and_torch() -> None:
    mysin = _make_mysin(_ns())
    x = ctorch.tensor([0.1, 0.5, 2.0], dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradcheck(lambda t: mysin(t, 3.0), (x,))
    y = mysin(x, 3.0)
    assert y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.cos(x.detach().numpy()))
    with ctorch.no_grad():
        assert mysin(x, 1.0).grad_fn is None
    if torch is not None:
        tns = _ns()

        @torch.library.custom_op(f"{tns}::mysin", mutates_args=())
        def tsin(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
            return torch.from_numpy(np.sin(x.detach().numpy()) * scale)

        def tsetup(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.scale = inputs[1]

        def tbackward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x.cos() * ctx.scale, None

        tsin.register_autograd(tbackward, setup_context=tsetup)
        tx = torch.tensor([0.1, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
        tsin(tx, 3.0).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def _numpy_kernel(lib, inside):
    def scaled_add(a, b, *, alpha=2.0):
        inside.append(lib.is_grad_enabled())
        return lib.from_numpy(a.numpy() + alpha * b.numpy())  # NumPy inside a kernel is fine

    return scaled_add


def test_op_without_autograd_formula_raises_on_backward_as_torch() -> None:
    for lib in (ctorch, torch):
        if lib is None:
            continue
        ns = _ns()
        inside = []

        scaled_add = _numpy_kernel(lib, inside)
        scaled_add.__annotations__ = {"a": lib.Tensor, "b": lib.Tensor, "alpha": float}
        scaled_add.__annotations__["return"] = lib.Tensor
        op = lib.library.custom_op(f"{ns}::scaled_add", mutates_args=())(scaled_add)
        a = lib.ones(3, requires_grad=True)
        b = lib.ones(3, requires_grad=True)
        y = op(a, b, alpha=3.0)
        assert y.tolist() == [4.0, 4.0, 4.0] and inside == [False] and y.requires_grad
        with pytest.raises(RuntimeError, match="no autograd formula was registered"):
            y.sum().backward()
        with pytest.raises(RuntimeError, match="Unknown keyword argument 'beta' for operator"):
            op(a, b, beta=1.0)


def test_mutating_op_bumps_version_and_tuple_outputs() -> None:
    ns = _ns()

    def addone_(x):
        x.numpy()[...] += 1

    addone_.__annotations__ = {"x": ctorch.Tensor, "return": None}
    op = library.custom_op(f"{ns}::addone_", mutates_args=("x",))(addone_)
    assert op._impl.schema == "addone_(Tensor(a0!) x) -> ()"
    a = ctorch.zeros(3, requires_grad=True)
    b = a * 1
    c = b.sin()  # saves b
    assert op(b) is None and b.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="inplace operation"):
        c.sum().backward()

    def split2(x):
        return x * 2, x * 3

    split2.__annotations__ = {"x": ctorch.Tensor, "return": tuple[ctorch.Tensor, ctorch.Tensor]}
    sp = library.custom_op(f"{ns}::split2", mutates_args=())(split2)
    sp.register_autograd(lambda ctx, g1, g2: g1 * 2 + g2 * 3)
    x = ctorch.ones(2, requires_grad=True)
    p, q = sp(x)
    (p + q).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]
    with pytest.raises(NotImplementedError, match="built-in operator aten::add"):
        library.Library("aten", "IMPL").impl("add", lambda *a: None, "CPU")
    with pytest.raises(NotImplementedError, match="no C\\+\\+ ABI"):
        ctorch.ops.load_library("ops.so")


def test_register_kernel_per_device_and_default() -> None:
    ns = _ns()
    calls = []

    @library.custom_op(f"{ns}::f", mutates_args=(), device_types="cpu")
    def f(x: ctorch.Tensor) -> ctorch.Tensor:
        calls.append("cpu")
        return x + 1

    f.register_kernel("cuda", lambda x: x + 2)
    assert f(ctorch.zeros(2)).tolist() == [1.0, 1.0] and calls == ["cpu"]

    @library.custom_op(f"{ns}::g", mutates_args=(), device_types="cuda")
    def g(x: ctorch.Tensor) -> ctorch.Tensor:
        return x

    with pytest.raises(NotImplementedError, match="no kernel registered for device type 'cpu'"):
        g(ctorch.zeros(1))
    library.register_kernel(f"{ns}::g", "cpu", lambda x: x * 5)
    assert g(ctorch.ones(1)).tolist() == [5.0]


def test_library_define_impl_and_functional_forms() -> None:
    ns = _ns()
    lib = library.Library(ns, "DEF")
    assert lib.define("twice(Tensor x, int n=2) -> Tensor") == "twice"
    lib.impl("twice", lambda x, n=2: x * n, "CPU")
    op = getattr(ctorch.ops, ns).twice
    assert op(ctorch.ones(2)).tolist() == [2.0, 2.0]
    assert op(ctorch.ones(2), 3).tolist() == [3.0, 3.0]

    library.define(f"{ns}::neg2", "(Tensor x) -> Tensor")

    @library.impl(f"{ns}::neg2", "default")
    def neg2(x):
        return -2 * x

    library.register_autograd(f"{ns}::neg2", lambda ctx, g: g * -2)
    x = ctorch.ones(2, requires_grad=True)
    getattr(ctorch.ops, ns).neg2(x).sum().backward()
    assert x.grad.tolist() == [-2.0, -2.0]

    @library.impl(lib, "cube", "CompositeImplicitAutograd") if False else (lambda f: f)
    def _unused(x):  # the legacy impl(lib, name, key) decorator form is exercised below
        return x

    lib.define("cube(Tensor x) -> Tensor")
    library.impl(lib, "cube", "CPU")(lambda x: x * x * x)
    assert getattr(ctorch.ops, ns).cube(ctorch.full((1,), 2.0)).tolist() == [8.0]
    with pytest.raises(RuntimeError, match="multiple times"):
        lib.define("cube(Tensor x) -> Tensor")
    with pytest.raises(ValueError, match="Unsupported kind"):
        library.Library(ns, "BAD")
    lib._destroy()
    with pytest.raises(AttributeError):
        _ = getattr(ctorch.ops, ns).cube


def test_custom_op_name_validation_matches_torch() -> None:
    for lib, T in ((ctorch, ctorch.Tensor), (torch, torch and torch.Tensor)):
        if lib is None:
            continue

        def f(x):
            return x

        f.__annotations__ = {"x": T, "return": T}  # real types (this file's are strings)
        # torch 2.13's ValueError is an unpacking message; ctorch says what is wrong
        with pytest.raises(ValueError, match="namespace" if lib is ctorch else None):
            lib.library.custom_op("nonamespace", mutates_args=())(f)
        with pytest.raises(ValueError, match="Parameter x must have a type annotation. Got func"):
            lib.library.custom_op(f"{_ns()}::g", mutates_args=())(lambda x: x)


def test_infer_schema_matches_torch() -> None:
    def mk(T, Opt):
        def f(x, ys, n, w, *, alpha=1.0, flag=False):
            return x

        f.__annotations__ = {
            "x": T,
            "ys": list[T],
            "n": int,
            "w": Opt,
            "alpha": float,
            "flag": bool,
            "return": T,
        }
        return f

    ours = library.infer_schema(mk(ctorch.Tensor, ctorch.Tensor | None), mutates_args=())
    assert (
        ours
        == "(Tensor x, Tensor[] ys, SymInt n, Tensor? w, *, float alpha=1.0, bool flag=False) -> Tensor"
    )
    mut = library.infer_schema(mk(ctorch.Tensor, ctorch.Tensor | None), mutates_args=("x",))
    assert mut.startswith("(Tensor(a0!) x,")
    if torch is not None:
        assert ours == torch.library.infer_schema(
            mk(torch.Tensor, torch.Tensor | None), mutates_args=()
        )
        assert mut == torch.library.infer_schema(
            mk(torch.Tensor, torch.Tensor | None), mutates_args=("x",)
        )
    with pytest.raises(ValueError, match="must have a type annotation"):
        library.infer_schema(lambda x: x, mutates_args=())


def test_opcheck_passes_good_op_and_catches_wrong_backward_and_fake() -> None:
    mysin = _make_mysin(_ns())
    x = ctorch.tensor([0.3, -1.2], dtype=ctorch.float64, requires_grad=True)
    res = library.opcheck(mysin, (x, 2.0))
    assert res == {
        "test_schema": "SUCCESS",
        "test_autograd_registration": "SUCCESS",
        "test_faketensor": "SUCCESS",
        "test_aot_dispatch_dynamic": "SKIPPED (ctorch has no AOTAutograd)",
    }
    ns = _ns()

    @library.custom_op(f"{ns}::bad", mutates_args=())
    def bad(x: ctorch.Tensor) -> ctorch.Tensor:
        return x * 2

    bad.register_autograd(lambda ctx, g: g * 3)  # wrong: should be 2
    bad.register_fake(lambda x: ctorch.empty(5))  # wrong shape
    with pytest.raises(library.OpCheckError, match="test_autograd_registration"):
        library.opcheck(bad, (x,), test_utils="test_autograd_registration")
    r = library.opcheck(bad, (x,), raise_exception=False)
    assert r["test_schema"] == "SUCCESS"
    assert "shape" in r["test_faketensor"] and "Jacobian" in r["test_autograd_registration"]

    @library.custom_op(f"{ns}::sneaky", mutates_args=())
    def sneaky(x: ctorch.Tensor) -> ctorch.Tensor:
        x.add_(1)
        return x.clone()

    with pytest.raises(library.OpCheckError, match="not declared mutable"):
        library.opcheck(sneaky, (ctorch.zeros(2),), test_utils="test_schema")


def test_ops_aten_maps_to_public_functions_and_ops_package_intact() -> None:
    a, b = ctorch.ones(2, 3), ctorch.ones(3, 4)
    assert ctorch.ops.aten.mm(a, b).shape == (2, 4)
    assert ctorch.ops.aten.mm.default(a, b).shape == (2, 4)
    assert ctorch.ops.aten.relu.default(ctorch.tensor([-1.0, 1.0])).tolist() == [0.0, 1.0]
    assert str(ctorch.ops.aten.mm) == "aten.mm" and ctorch.ops.aten.mm == ctorch.ops.aten.mm
    with pytest.raises(AttributeError):
        _ = ctorch.ops.aten.no_such_op_xyz
    import importlib
    import types

    assert isinstance(ctorch.ops.linalg, types.ModuleType)
    # a submodule not yet imported is imported, never mistaken for a namespace
    mod = importlib.import_module("ctorch.ops.taps")
    assert isinstance(mod, types.ModuleType)
    from ctorch.ops import surface5a_misc

    assert isinstance(surface5a_misc, types.ModuleType)
    with pytest.raises(AttributeError):
        _ = ctorch.ops._private_name


# ------------------------------------------------------------------ flop_counter


def _both(build):
    """Run ``build(lib)`` under each library's FlopCounterMode; {str(op): count} per module."""
    out = {}
    libs = [("ctorch", ctorch, flop_counter)]
    if torch is not None:
        from torch.utils import flop_counter as tfc

        libs.append(("torch", torch, tfc))
    for name, lib, fc in libs:
        lib.manual_seed(0)
        with fc.FlopCounterMode(display=False) as m:
            build(lib)
        out[name] = (
            m.get_total_flops(),
            {k: {str(op): v for op, v in d.items()} for k, d in m.get_flop_counts().items()},
            m.get_table(),
        )
    return out


def _mlp(lib, x_shape=(5, 4)):
    m = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 3, bias=False))
    x = lib.randn(*x_shape)
    m(x).sum().backward()


def test_flop_counter_mlp_counts_and_table() -> None:
    r = _both(_mlp)
    total, counts, table = r["ctorch"]
    fwd = 2 * 5 * 4 * 8 + 2 * 5 * 8 * 3
    assert total == 3 * fwd - 2 * 5 * 4 * 8  # no grad wrt the network input
    assert counts["Sequential.0"] == {"aten.addmm": 320, "aten.mm": 320}
    assert counts["Sequential.2"] == {"aten.mm": 720}
    assert table.splitlines()[:2] == [
        "Module          FLOP    % Total",
        "------------  ------  ---------",
    ]
    if "torch" in r:
        assert r["ctorch"] == r["torch"]


@pytest.mark.parametrize(
    "build",
    [
        lambda lib: _mlp(lib, (2, 5, 4)),
        lambda lib: (
            lib.nn.Linear(4, 3)(lib.randn(4)).sum().backward(),
            lib.nn.Linear(4, 3)(lib.randn(2, 2, 2, 4, requires_grad=True)).sum().backward(),
        ),
        lambda lib: (
            lib.nn.Conv3d(2, 3, 3, padding=1)(lib.randn(1, 2, 4, 5, 5, requires_grad=True))
            .sum()
            .backward()
        ),
        lambda lib: (
            lib.nn.ConvTranspose1d(2, 3, 3, stride=2)(lib.randn(2, 2, 5, requires_grad=True))
            .sum()
            .backward()
        ),
        lambda lib: (
            lib.nn.Conv2d(4, 6, 3, groups=2)(lib.randn(1, 4, 6, 6, requires_grad=True))
            .sum()
            .backward()
        ),
        lambda lib: lib.nn.Conv2d(2, 3, 3)(lib.randn(2, 6, 6, requires_grad=True)).sum().backward(),
        lambda lib: lib.nn.Conv2d(3, 4, 3, padding=1)(lib.randn(2, 3, 8, 8)).sum().backward(),
        lambda lib: (
            lib.nn.Conv2d(3, 4, 3, stride=2, groups=1)(lib.randn(2, 3, 9, 9, requires_grad=True))
            .sum()
            .backward()
        ),
        lambda lib: lib.nn.Conv1d(2, 4, 3)(lib.randn(2, 2, 7, requires_grad=True)).sum().backward(),
        lambda lib: (
            lib.nn.ConvTranspose2d(3, 2, 3, stride=2)(lib.randn(1, 3, 4, 4, requires_grad=True))
            .sum()
            .backward()
        ),
        lambda lib: lib.nn.functional.scaled_dot_product_attention(
            lib.randn(2, 3, 5, 4), lib.randn(2, 3, 6, 4), lib.randn(2, 3, 6, 7)
        ),
        lambda lib: (
            lib.nn.functional.scaled_dot_product_attention(
                lib.randn(2, 3, 5, 4, requires_grad=True),
                lib.randn(2, 3, 6, 4),
                lib.randn(2, 3, 6, 7),
            )
            .sum()
            .backward()
        ),
        lambda lib: (
            lib.nn.functional.scaled_dot_product_attention(
                lib.randn(2, 3, 5, 4, requires_grad=True),
                lib.randn(2, 3, 6, 4, requires_grad=True),
                lib.randn(2, 3, 6, 7, requires_grad=True),
            )
            .sum()
            .backward()
        ),
        lambda lib: (
            lib.randn(3, 4) @ lib.randn(4, 5),
            lib.matmul(lib.randn(2, 3, 4), lib.randn(4, 5)),
            lib.randn(2, 3, 4) @ lib.randn(2, 4, 5),
            lib.randn(4) @ lib.randn(4, 5),
            lib.randn(4, 5) @ lib.randn(5),
            lib.randn(4) @ lib.randn(4),
            lib.addmm(lib.randn(5), lib.randn(3, 4), lib.randn(4, 5)),
            lib.baddbmm(lib.randn(2, 3, 5), lib.randn(2, 3, 4), lib.randn(2, 4, 5)),
            lib.bmm(lib.randn(2, 3, 4, requires_grad=True), lib.randn(2, 4, 5)).sum().backward(),
            lib.mm(lib.randn(3, 4, requires_grad=True), lib.randn(4, 5, requires_grad=True))
            .sum()
            .backward(),
        ),
    ],
    ids=[
        "mlp3d",
        "linear1d_4d",
        "conv3d",
        "convT1d",
        "conv_groups",
        "conv_unbatched",
        "conv_w",
        "conv_xw",
        "conv1d",
        "convT",
        "sdpa",
        "sdpa_q",
        "sdpa_all",
        "matmuls",
    ],
)
def test_flop_counter_matches_torch(build) -> None:
    r = _both(build)
    assert r["ctorch"][0] > 0
    if "torch" in r:
        assert r["ctorch"] == r["torch"]


def test_flop_counter_is_removed_after_exit_and_prints() -> None:
    from ctorch.autograd import function

    assert function._autocast is None
    with flop_counter.FlopCounterMode(display=False) as m:
        assert function._autocast is not None
        ctorch.ones(2, 3) @ ctorch.ones(3, 2)
    assert function._autocast is None
    assert m.get_total_flops() == 24
    ctorch.ones(2, 3) @ ctorch.ones(3, 2)  # not counted after exit
    assert m.get_total_flops() == 24
    empty = flop_counter.FlopCounterMode(display=False)
    with empty:
        pass
    assert empty.get_table() == (
        "Module      FLOP    % Total\n--------  ------  ---------\nGlobal         0         0%"
    )


def test_flop_counter_table_depth_and_print(capsys) -> None:
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = nn.Sequential(nn.Linear(8, 8))

        def forward(self, x):
            return self.inner(x)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block = Block()
            self.head = nn.Linear(8, 2)

        def forward(self, x):
            return self.head(self.block(x))

    with flop_counter.FlopCounterMode(depth=1) as m:
        Net()(ctorch.randn(4, 8))
    printed = capsys.readouterr().out
    assert "Net " in printed and "Net.block" not in printed
    counts = m.get_flop_counts()
    assert counts["Net.block.inner.0"] == counts["Net.block"]
    assert "Net.block.inner" in m.get_table(depth=3)


def test_flop_counter_with_profiler_running() -> None:
    from ctorch import profiler

    with profiler.profile() as prof:
        with flop_counter.FlopCounterMode(display=False) as m:
            (ctorch.ones(2, 3, requires_grad=True) @ ctorch.ones(3, 2)).sum().backward()
    assert m.get_total_flops() == 48
    names = {e.key for e in prof.key_averages()}
    assert any("mm" in n for n in names)


# ------------------------------------------------------------------ benchmark


def test_timer_timeit_structure_and_repr() -> None:
    t = benchmark.Timer(
        stmt="x + y",
        setup="x = torch.ones(4); y = torch.ones(4)",
        label="add",
        sub_label="small",
        description="d1",
    )
    m = t.timeit(50)
    assert m.number_per_run == 50 and len(m.raw_times) == 1 and len(m.times) == 1
    assert m.times[0] == pytest.approx(m.raw_times[0] / 50)
    assert m.mean == m.median and m.iqr == 0.0
    assert m.title == "add: small" and m.description == "d1" and m.num_threads == 1
    lines = repr(m).splitlines()
    assert re.fullmatch(r"<ctorch\.utils\.benchmark\.Measurement object at 0x[0-9a-f]+>", lines[0])
    assert lines[1:4] == ["add: small", "d1", "setup: x = torch.ones(4); y = torch.ones(4)"]
    assert re.fullmatch(r"  \d+\.\d\d (ns|us|ms|s)", lines[4])
    assert lines[5] == "  1 measurement, 50 runs , 1 thread"


def test_blocked_and_adaptive_autorange_structure() -> None:
    calls = []
    t = benchmark.Timer(stmt="f()", globals={"f": lambda: None})
    m = t.blocked_autorange(callback=lambda n, s: calls.append(n), min_run_time=0.01)
    assert m.number_per_run >= 1 and len(m.raw_times) == len(calls) >= 1
    assert set(calls) == {m.number_per_run} and sum(m.raw_times) >= 0.01
    m2 = t.adaptive_autorange(threshold=0.5, max_run_time=0.05)
    assert len(m2.raw_times) >= 1 and 1 <= m2.significant_figures <= 4
    with pytest.raises(ValueError, match="only a `str` stmt"):
        benchmark.Timer(stmt=lambda: None)
    with pytest.raises(NotImplementedError, match="C\\+\\+"):
        benchmark.Timer("x", language="cpp")


def test_timer_num_threads_set_during_run_and_restored() -> None:
    seen = []
    before = ctorch.get_num_threads()
    t = benchmark.Timer(
        stmt="seen.append(torch.get_num_threads())", globals={"seen": seen}, num_threads=1
    )
    t.timeit(3)
    assert set(seen) == {1} and ctorch.get_num_threads() == before
    seen.clear()
    benchmark.Timer(
        stmt="seen.append(torch.get_num_threads())", globals={"seen": seen}, num_threads=2
    ).timeit(3)
    ctorch.set_num_threads(2)
    expected = ctorch.get_num_threads()  # 2, or fewer where ctorch clamps the request
    ctorch.set_num_threads(before)
    assert set(seen) == {expected}
    assert ctorch.get_num_threads() == before


def _measurements(mod):
    """The same synthetic Measurements (fixed times) in ctorch's or torch's classes."""
    spec = mod.TaskSpec if hasattr(mod, "TaskSpec") else mod.utils.common.TaskSpec
    rng = np.random.default_rng(0)
    out = []
    for desc, scale in (("n=1", 1.0), ("n=4", 3.3)):
        for sub, threads, base in (("float", 1, 2e-6), ("int", 1, 5e-6), ("float", 2, 1.5e-6)):
            times = list(base * scale * (1 + 0.02 * rng.standard_normal(8)))
            s = spec(
                stmt="f(x)",
                setup="pass",
                label="ReLU",
                sub_label=sub,
                description=desc,
                num_threads=threads,
            )
            out.append(
                mod.Measurement(number_per_run=100, raw_times=[t * 100 for t in times], task_spec=s)
            )
    noisy = spec(stmt="g(x)", setup="x = 1\ny = 2", label=None, description="n=1")
    out.append(
        mod.Measurement(
            number_per_run=10, raw_times=[1e-3, 2e-3, 1e-3, 5e-3, 1e-3], task_spec=noisy
        )
    )
    return out


def test_measurement_and_compare_render_as_torch() -> None:
    ours = _measurements(benchmark)
    m = ours[0]
    assert m.median == pytest.approx(float(np.median(m.times)))
    assert m.iqr == pytest.approx(float(np.quantile(m.times, 0.75) - np.quantile(m.times, 0.25)))
    merged = benchmark.Measurement.merge([ours[0], ours[0]])
    assert len(merged) == 1 and merged[0].number_per_run == 1 and len(merged[0].times) == 16
    c = benchmark.Compare(ours)
    text = str(c)
    assert "[------" in text and "1 threads: " in text and "2 threads: " in text
    assert "Times are in microseconds (us)." in text
    if torch is None:
        return
    import torch.utils.benchmark as tb

    theirs = _measurements(tb)
    for a, b in zip(ours, theirs, strict=True):
        assert repr(a).splitlines()[1:] == repr(b).splitlines()[1:]
        assert a.significant_figures == b.significant_figures
    for setup in (
        lambda c: None,
        lambda c: c.trim_significant_figures(),
        lambda c: c.colorize(),
        lambda c: (c.colorize(rowwise=True), c.highlight_warnings()),
    ):
        c1, c2 = benchmark.Compare(ours), tb.Compare(theirs)
        setup(c1)
        setup(c2)
        assert str(c1) == str(c2)
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
        benchmark.Compare([1])


def test_flop_counter_counts_sdpa_where_torch_cpu_flash_counts_nothing() -> None:
    # torch 2.13 on CPU runs equal-head-dim SDPA in its fused flash kernel, which has no entry
    # in its formula table (its count is 0); ctorch counts the two bmm of the math path.
    q = ctorch.randn(2, 2, 6, 8, requires_grad=True)
    with flop_counter.FlopCounterMode(display=False) as m:
        F.scaled_dot_product_attention(q, q, q).sum().backward()
    qk = av = 2 * 4 * 6 * 6 * 8
    assert m.get_flop_counts()["Global"] == {ctorch.ops.aten.bmm: (qk + av) + 2 * av + 2 * qk}
