"""Tensor subclasses and the ``__torch_function__`` protocol (issue #14), each behaviour run
on ctorch and, where installed, on torch with the same code: result classes, the ``func``
names handlers and modes see, values."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import types

import numpy as np
import pytest

import ctorch

try:
    import torch
except ImportError:  # pragma: no cover - torch is a test dependency here
    torch = None

LIBS = [ctorch] + ([torch] if torch is not None else [])


def _norm(v):
    """Make results of the two libraries comparable: class names, nested lists, floats."""
    if isinstance(v, type):
        return v.__name__
    if isinstance(v, (list, tuple)):
        return [_norm(e) for e in v]
    if isinstance(v, dict):
        return {k: _norm(e) for k, e in v.items()}
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, str):
        return v.replace("ctorch", "torch")
    return v


def same(fn):
    """``fn(lib)`` on ctorch, and on torch when installed: the normalized results agree."""
    ours = _norm(fn(ctorch))
    if torch is not None:
        assert ours == _norm(fn(torch))
    return ours


def _logging_class(lib, calls):
    class Logged(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            calls.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs or {})

    return Logged


def test_default_subclass_results_keep_the_class():
    def fn(lib):
        F = lib.nn.functional

        class Sub(lib.Tensor):
            pass

        x = lib.tensor([1.0, -2.0, 3.0]).as_subclass(Sub)
        p = lib.tensor([0.5, 0.5, 0.5])
        m = lib.arange(6.0).reshape(2, 3).as_subclass(Sub)
        exprs = {
            "x+1": lambda: x + 1,
            "1+x": lambda: 1 + x,
            "p+x": lambda: p + x,
            "p-x": lambda: p - x,
            "2/x": lambda: 2 / x,
            "2**x": lambda: 2**x,
            "-x": lambda: -x,
            "abs": lambda: abs(x),
            "x@p": lambda: x @ p,
            "m@p": lambda: m @ p,
            "x<p": lambda: x < p,
            "x==p": lambda: x == p,
            "x.add": lambda: x.add(1),
            "add": lambda: lib.add(p, x),
            "relu": lambda: F.relu(x),
            "linear": lambda: F.linear(m, lib.ones(2, 3)),
            "softmax": lambda: F.softmax(x, 0),
            "getitem": lambda: x[0],
            "sum": lambda: x.sum(),
            "view": lambda: m.view(3, 2),
            "T": lambda: m.T,
            "sort": lambda: x.sort(),
            "max": lambda: lib.max(m, 1),
            "split": lambda: x.split(1),
            "unbind": lambda: m.unbind(),
            "iter": lambda: list(m),
            "cat": lambda: lib.cat([p, x]),
            "stack": lambda: lib.stack([p, x]),
            "where": lambda: lib.where(x > 0, x, p),
            "zeros_like": lambda: lib.zeros_like(x),
            "new_zeros": lambda: x.new_zeros(2),
            "clone": lambda: x.clone(),
            "detach": lambda: x.detach(),
            "to": lambda: x.to(lib.float64),
            "norm": lambda: lib.linalg.norm(x),
            "expit": lambda: lib.special.expit(x),
            "fft": lambda: lib.fft.fft(x).real,
            "item": lambda: x[0].item(),
            "tolist": lambda: x.tolist(),
            "shape": lambda: list(x.shape),
            "dtype": lambda: str(x.dtype),
            "len": lambda: len(m),
        }
        out = {}
        for k, f in exprs.items():
            r = f()
            if isinstance(r, lib.Tensor):
                out[k] = (type(r), r.tolist())
            elif isinstance(r, (tuple, list)):
                out[k] = (
                    type(r).__name__,
                    [(type(e), e.tolist()) if isinstance(e, lib.Tensor) else e for e in r],
                )
            else:
                out[k] = r
        return out

    out = same(fn)
    assert out["x+1"] == ["Sub", [2.0, -1.0, 4.0]]
    assert out["p+x"][0] == "Sub" and out["sort"][1][0][0] == "Sub"
    assert out["max"][0] == "max"  # the return type survives, its tensors converted


def test_inplace_ops_return_self():
    def fn(lib):
        class Sub(lib.Tensor):
            pass

        x = lib.zeros(3).as_subclass(Sub)
        y = x
        r1 = x.add_(1)
        y += 2
        x[0] = 7.0
        r2 = x.mul_(lib.tensor([1.0, 2.0, 3.0]))
        return [r1 is x, y is x, r2 is x, type(y), x.tolist()]

    assert same(fn) == [True, True, True, "Sub", [7.0, 6.0, 9.0]]


def test_logging_subclass_sees_torch_func_names():
    def fn(lib):
        calls = []
        Logged = _logging_class(lib, calls)
        x = lib.ones(2, 3).as_subclass(Logged)
        p = lib.ones(3)
        seen = {}
        for name, f in {
            "add": lambda: x + 1,
            "radd": lambda: 1 + x,
            "plain_left": lambda: p + x,
            "rsub": lambda: 1 - x,
            "rdiv": lambda: 2 / x,
            "floordiv": lambda: x // 2,
            "mod": lambda: x % 2,
            "pow": lambda: x**2,
            "iadd": lambda: x.clone().__iadd__(1),
            "neg": lambda: -x,
            "index": lambda: x[0],
            "setitem": lambda: x.clone().__setitem__(0, 1.0),
            "eq": lambda: x == 1,
            "ne": lambda: x != 1,
            "lt": lambda: x < 1,
            "method": lambda: x.sum(1),
            "float": lambda: x.float(),
            "long_and": lambda: x.long() & 1,
            "property": lambda: x.shape,
            "set_property": lambda: setattr(x.clone(), "requires_grad", True),
            "top": lambda: lib.add(x, 1),
            "functional": lambda: lib.nn.functional.gelu(x),
            "linalg": lambda: lib.linalg.vector_norm(x),
            "special": lambda: lib.special.erf(x),
            "new": lambda: x.new_ones(2),
            "repr": lambda: repr(x[0]),
            "bool": lambda: bool(x[0, 0]),
            "len": lambda: len(x),
        }.items():
            calls.clear()
            f()
            seen[name] = list(calls)
        return seen

    seen = same(fn)
    assert (
        seen["add"] == ["add"] and seen["rsub"] == ["__rsub__"] and seen["index"] == ["__getitem__"]
    )
    assert seen["property"] == ["__get__"] and seen["set_property"] == ["clone", "__set__"]
    assert seen["repr"] == ["__getitem__", "__repr__"]


def test_func_is_the_public_callable():
    seen = []

    class Grab(ctorch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(func)
            return super().__torch_function__(func, types, args, kwargs)

    x = ctorch.ones(2).as_subclass(Grab)
    ctorch.add(x, 1)
    x.add(1)
    x + 1
    ctorch.nn.functional.relu(x)
    assert seen[0] is ctorch.add and seen[1] is ctorch.Tensor.add and seen[2] is ctorch.Tensor.add
    assert seen[3] is ctorch.nn.functional.relu
    # a table keyed by the function read before the wrappers existed still matches
    assert seen[0] == ctorch.add.__wrapped__ and hash(seen[0]) == hash(ctorch.add.__wrapped__)
    assert {ctorch.add.__wrapped__: 1}[seen[0]] == 1


def test_parameter_and_disabled_impl_return_plain_tensors():
    def fn(lib):
        class Off(lib.Tensor):
            __torch_function__ = lib._C._disabled_torch_function_impl

        p = lib.nn.Parameter(lib.ones(2))
        o = lib.ones(2).as_subclass(Off)
        return [type(p * 2), type(p.detach()), type(lib.add(p, 1)), type(o + 1), type(o.sum())]

    assert same(fn) == ["Tensor"] * 5


def test_backward_through_subclass_tensors():
    def fn(lib):
        class Sub(lib.Tensor):
            pass

        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        s = w.as_subclass(Sub)
        y = (s * s + lib.sin(s)).sum()
        y.backward()
        leaf = lib.tensor([1.0, 2.0]).as_subclass(Sub).requires_grad_()
        (leaf * 3).sum().backward()
        z = lib.zeros_like(s, requires_grad=True)
        return [
            type(y),
            s.is_leaf,
            type(s.grad_fn).__name__,
            type(w.grad),
            w.grad.tolist(),
            leaf.is_leaf,
            type(leaf.grad),
            leaf.grad.tolist(),
            z.is_leaf,
        ]

    out = same(fn)
    assert out[:4] == ["Sub", False, "AliasBackward0", "Tensor"]
    np.testing.assert_allclose(
        out[4], 2 * np.array([1.0, 2.0, 3.0]) + np.cos([1.0, 2.0, 3.0]), rtol=1e-6
    )


def test_gradcheck_through_subclass_ops():
    class Sub(ctorch.Tensor):
        pass

    x = ctorch.tensor([0.3, -0.7, 1.2], dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradcheck(lambda t: (t.as_subclass(Sub).exp() * t).sum(), (x,))


def test_not_implemented_handlers_raise_type_error():
    def fn(lib):
        class Refuses(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return NotImplemented

        class Other(lib.Tensor):
            pass

        n = lib.ones(2).as_subclass(Refuses)
        out = []
        for f in (
            lambda: n + 1,
            lambda: 1 + n,
            lambda: lib.add(n, 1),
            lambda: n.sum(),
            lambda: n[0],
            lambda: lib.ones(2).as_subclass(Other) + lib.ones(2).as_subclass(Refuses),
        ):
            try:
                f()
                out.append("no error")
            except TypeError as e:
                msg = str(e)
                out.append("unsupported operand" if "unsupported operand" in msg else msg[:40])
        return out

    out = same(fn)
    assert out[0] == out[1] == "unsupported operand"
    assert out[2] == "Multiple dispatch failed for 'torch.add'"
    assert out[3].startswith("Multiple dispatch failed for 'torch.Tens")


def test_unrelated_subclasses_need_a_handler():
    def fn(lib):
        class A(lib.Tensor):
            pass

        class B(lib.Tensor):
            pass

        class C(A):
            pass

        a, b, c = (lib.ones(2).as_subclass(k) for k in (A, B, C))
        out = [type(a + c), type(c + a), type(lib.add(a, c))]
        with pytest.raises(TypeError):
            lib.add(a, b)
        return out

    assert same(fn) == ["C", "C", "C"]


def test_torch_function_mode_sees_every_call():
    def fn(lib):
        calls = []

        class Mode(lib.overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                # (torch passes plain Tensor among ``types`` for its Python functions only)
                calls.append((func.__name__, [t.__name__ for t in types if t is not lib.Tensor]))
                return func(*args, **(kwargs or {}))

        Logged = _logging_class(lib, calls)
        x = lib.ones(2).as_subclass(Logged)
        with Mode():
            a = lib.ones(2)
            b = a + 1
            c = x * 2
            d = b.sum()
            e = lib.nn.functional.silu(b)
        after = len(calls)
        a + 1  # outside: nothing
        return [calls, len(calls) == after, type(c), d.item(), e.tolist()]

    out = same(fn)
    names = [c if isinstance(c, str) else c[0] for c in out[0]]
    assert names == ["ones", "add", "mul", "mul", "sum", "silu"]
    assert out[0][2] == ["mul", ["Logged"]] and out[0][3] == "mul"  # mode first, then Logged


def test_mode_exit_restores_plain_tensor_members():
    add = ctorch.Tensor.__dict__["add"]
    shape = ctorch.Tensor.__dict__["shape"]
    with ctorch.overrides.BaseTorchFunctionMode():
        assert ctorch.Tensor.__dict__["add"] is not add
        assert (ctorch.ones(2) + 1).tolist() == [2.0, 2.0]
    assert ctorch.Tensor.__dict__["add"] is add and ctorch.Tensor.__dict__["shape"] is shape
    with pytest.raises(KeyError), ctorch.overrides.BaseTorchFunctionMode():
        raise KeyError("inside the mode")
    assert ctorch.Tensor.__dict__["add"] is add  # restored after an exception too


def test_mode_returning_not_implemented_without_subclass_raises():
    def fn(lib):
        class Refuse(lib.overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                return NotImplemented

        x = lib.ones(1)
        with Refuse(), pytest.raises(TypeError, match="Multiple dispatch failed for 'torch.add'"):
            lib.add(x, 1)
        return True

    same(fn)


def test_disable_torch_function_switches():
    def fn(lib):
        calls = []
        Logged = _logging_class(lib, calls)
        x = lib.ones(2).as_subclass(Logged)
        ho = lib.overrides
        out = [ho.has_torch_function((x,)), ho.has_torch_function((lib.ones(1),))]
        out.append(ho.has_torch_function((lib.nn.Parameter(lib.ones(1)),)))
        with lib._C.DisableTorchFunctionSubclass():
            out += [type(x + 1), type(lib.add(x, 1)), ho.has_torch_function((x,))]
            out.append(lib._C._is_torch_function_enabled())
        with lib._C.DisableTorchFunction():
            out += [type(x.sum())]
        out.append(lib._C._is_torch_function_enabled())
        return [out, calls]

    assert same(fn) == [[True, False, False, "Tensor", "Tensor", False, False, "Tensor", True], []]


def test_handle_torch_function_with_subclasses():
    def fn(lib):
        ho = lib.overrides
        calls = []
        Logged = _logging_class(lib, calls)

        def scale(x, k=2):
            if ho.has_torch_function_unary(x):
                return ho.handle_torch_function(scale, (x,), x, k=k)
            return x * k

        r = scale(lib.ones(2).as_subclass(Logged))
        return [type(r), r.tolist(), calls, type(scale(lib.ones(2)))]

    # the handler runs ``scale`` with dispatch off: ``x * k`` inside is not seen
    assert same(fn) == ["Logged", [2.0, 2.0], ["scale", "tolist"], "Tensor"]


def test_tensor_like_that_is_not_a_subclass():
    HANDLED = {}

    class ScalarLike:  # torch's docs' example: no Tensor base, its own __torch_function__
        def __init__(self, n, v):
            self.n, self.v = n, v

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if func not in HANDLED:
                return NotImplemented
            return HANDLED[func](*args, **(kwargs or {}))

    HANDLED[ctorch.mean] = lambda s: s.v  # keyed before or after the wrappers exist
    ctorch._torch_function.install_namespaces()  # (a Tensor subclass or mode installs them)
    assert ctorch.mean(ScalarLike(3, 2.5)) == 2.5
    with pytest.raises(TypeError, match="Multiple dispatch failed for 'torch.sum'"):
        ctorch.sum(ScalarLike(3, 2.5))


def test_subclass_with_metadata_and_make_subclass():
    def fn(lib):
        class Tagged(lib.Tensor):
            @staticmethod
            def __new__(cls, data, tag):
                t = lib.Tensor._make_subclass(cls, data, True)
                t.tag = tag
                return t

            def __init__(self, data, tag):
                pass

            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                out = super().__torch_function__(func, types, args, kwargs)
                tags = [a.tag for a in args if hasattr(a, "tag")]
                if isinstance(out, cls) and not hasattr(out, "tag") and tags:
                    out.tag = tags[0]
                return out

        base = lib.tensor([1.0, 2.0])
        t = Tagged(base, "m")
        y = (t * 2).exp()
        base[0] = 5.0  # the subclass shares base's memory
        return [type(t), t.requires_grad, t.is_leaf, t.tag, type(y), y.tag, t.tolist()]

    assert same(fn) == ["Tagged", True, True, "m", "Tagged", "m", [5.0, 2.0]]


def test_pickle_keeps_the_class():
    def fn(lib):
        class Sub(lib.Tensor):
            pass

        s = lib.tensor([1.0, 2.0]).as_subclass(Sub)
        s.note = "kept"
        globals()["Sub"] = Sub  # picklable by name
        Sub.__qualname__ = "Sub"
        try:
            r = pickle.loads(pickle.dumps(s))
        finally:
            del globals()["Sub"]
        return [type(r), r.tolist(), r.note]

    assert same(fn) == ["Sub", [1.0, 2.0], "kept"]


def test_deepcopy_of_a_subclass():
    # torch refuses (its new_empty, run with dispatch off, gives a plain Tensor); ctorch copies
    class Sub(ctorch.Tensor):
        pass

    s = ctorch.tensor([1.0, 2.0]).as_subclass(Sub)
    s.note = "kept"
    d = copy.deepcopy(s)
    assert type(d) is Sub and d.tolist() == [1.0, 2.0] and d.note == "kept"
    d[0] = 9.0
    assert s.tolist() == [1.0, 2.0]


def test_modules_on_subclass_inputs():
    def fn(lib):
        calls = []
        Logged = _logging_class(lib, calls)
        lib.manual_seed(0)
        lin = lib.nn.Linear(3, 2)
        conv = lib.nn.Conv1d(1, 1, 2)
        x = lib.ones(4, 3).as_subclass(Logged)
        y = lin(x)
        z = conv(lib.ones(1, 1, 4).as_subclass(Logged))
        return [type(y), type(z), "linear" in calls, "conv1d" in calls]

    assert same(fn) == ["Logged", "Logged", True, True]


def test_repr_and_str_use_the_class_name():
    def fn(lib):
        class MyT(lib.Tensor):
            pass

        t = lib.tensor([1.0, 2.0]).as_subclass(MyT)
        return [repr(t), str(t), repr(lib.nn.Parameter(lib.ones(1)))]

    assert same(fn)[:2] == ["MyT([1., 2.])", "MyT([1., 2.])"]


def test_plain_tensor_members_are_untouched_by_subclasses():
    class Sub(ctorch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return super().__torch_function__(func, types, args, kwargs)

    for name in ("__add__", "__radd__", "add", "sum", "__getitem__", "shape", "__iter__"):
        assert not getattr(ctorch.Tensor.__dict__[name], "_tf_wrapper", False)
        assert name in Sub.__dict__  # the subclass carries the dispatching wrapper
    # ctorch's own subclasses get no wrappers
    for cls in (ctorch.nn.Parameter, ctorch.nn.Buffer):
        assert "__add__" not in cls.__dict__


def test_a_program_that_never_subclasses_keeps_plain_functions():
    code = (
        "import types, ctorch\n"
        "import ctorch.nn.functional as F\n"
        "x = ctorch.ones(3)\n"
        "y = ctorch.add(x, 1) + F.relu(x)\n"
        "assert type(ctorch.add) is types.FunctionType, type(ctorch.add)\n"
        "assert type(F.relu) is types.FunctionType\n"
        "assert not ctorch._torch_function.is_installed()\n"
        "class Sub(ctorch.Tensor): pass\n"
        "assert ctorch._torch_function.is_installed()\n"
        "assert type(ctorch.add) is not types.FunctionType\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_dispatchers_keep_function_behaviour():
    ctorch._torch_function.install_namespaces()
    import inspect

    F = ctorch.nn.functional
    assert inspect.signature(F.relu) == inspect.signature(F.relu.__wrapped__)
    assert pickle.loads(pickle.dumps(ctorch.add)) is ctorch.add
    assert copy.deepcopy(F.relu) is F.relu
    orig = F.relu.__wrapped__
    assert pickle.loads(pickle.dumps(orig)) is orig  # read before the wrappers: still picklable
    assert ctorch.linalg.norm.__name__ == "linalg_norm"  # torch's names for handlers
    assert isinstance(ctorch.add, ctorch._torch_function._Dispatcher)
    assert type(F.relu.__wrapped__) is types.FunctionType


def test_internal_subclasses_keep_their_behaviour():
    i = ctorch.tensor([[0, 1], [1, 0]])
    sp = ctorch.sparse_coo_tensor(i, ctorch.tensor([1.0, 2.0]), (2, 2))
    assert sp.__torch_function__ is ctorch._C._disabled_torch_function_impl
    assert type(sp * 2).__name__ == "SparseTensor"
    assert not ctorch.overrides.has_torch_function((sp,))


def test_list_arguments_dispatch_after_a_list_was_probed():
    class Sub(ctorch.Tensor):
        pass

    assert not ctorch.overrides.has_torch_function_unary([1.0])  # a list probed as an argument
    x = ctorch.ones(2).as_subclass(Sub)
    assert type(ctorch.cat([ctorch.ones(2), x])) is Sub
    assert type(ctorch.stack((ctorch.ones(2), x))) is Sub
