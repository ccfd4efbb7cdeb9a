"""Issue #14: the import-level and top-level torch API that real programs use, compared with
torch where torch is installed."""

from __future__ import annotations

import importlib
import warnings
import zlib

import numpy as np
import pytest

import ctorch
from ctorch.autograd import gradcheck

torch = pytest.importorskip("torch")


# ------------------------------------------------------------------ 1. backends
@pytest.mark.parametrize("sub", ["cudnn", "cuda", "mps", "mkldnn", "opt_einsum", "cpu", "openmp"])
def test_backend_submodules_import(sub: str) -> None:
    m = importlib.import_module(f"ctorch.backends.{sub}")
    assert getattr(ctorch.backends, sub) is m


def test_cudnn_flags_match_torch_defaults_and_are_settable() -> None:
    from ctorch.backends import cudnn

    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(cudnn, name) == getattr(torch.backends.cudnn, name), name
    assert cudnn.is_available() is False and cudnn.version() is None
    old = cudnn.benchmark
    try:
        ctorch.backends.cudnn.benchmark = True
        assert cudnn.benchmark is True
        with cudnn.flags(enabled=False, deterministic=True):
            assert cudnn.enabled is False and cudnn.deterministic is True
        assert cudnn.enabled is True and cudnn.deterministic is False
    finally:
        cudnn.benchmark = old


def test_cudnn_deterministic_is_separate_from_deterministic_algorithms_as_in_torch() -> None:
    from ctorch.backends import cudnn

    for lib in (torch, ctorch):
        lib.backends.cudnn.deterministic = True
        try:
            assert lib.are_deterministic_algorithms_enabled() is False
        finally:
            lib.backends.cudnn.deterministic = False
    assert cudnn.deterministic is False


def test_tf32_flag_and_matmul_precision_are_one_setting() -> None:
    for lib in (torch, ctorch):
        seen = []
        try:
            lib.backends.cuda.matmul.allow_tf32 = True
            seen.append(lib.get_float32_matmul_precision())
            lib.set_float32_matmul_precision("medium")
            seen.append(lib.backends.cuda.matmul.allow_tf32)
            lib.set_float32_matmul_precision("highest")
            seen.append(lib.backends.cuda.matmul.allow_tf32)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                lib.set_float32_matmul_precision("fastest")
            seen.append(lib.get_float32_matmul_precision())
            seen.append(any("fastest" in str(x.message) for x in w))
        finally:
            lib.set_float32_matmul_precision("highest")
        assert seen == ["high", True, False, "highest", True], lib.__name__
    with pytest.raises(AttributeError):
        ctorch.backends.cuda.matmul.alow_tf32 = True  # typo: torch raises too


def test_other_backend_queries() -> None:
    assert ctorch.backends.mps.is_available() is False and ctorch.backends.mps.is_built() is False
    assert ctorch.backends.cuda.is_built() == (importlib.util.find_spec("cupy") is not None)
    assert ctorch.backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT")
    assert ctorch.backends.opt_einsum.is_available() == (
        importlib.util.find_spec("opt_einsum") is not None
    )
    with ctorch.backends.cuda.sdp_kernel(enable_flash=False):
        assert ctorch.backends.cuda.flash_sdp_enabled() is False
    assert ctorch.backends.cuda.flash_sdp_enabled() is True


# ------------------------------------------------------------------ 2. jit / onnx / fx / dynamo
def test_jit_script_and_decorators_return_what_they_wrap() -> None:
    def f(x):
        return x + 1

    assert ctorch.jit.script(f) is f
    assert ctorch.jit.ignore(f) is f and ctorch.jit.ignore(drop=True)(f) is f
    assert ctorch.jit.unused(f) is f and ctorch.jit.export(f) is f
    m = ctorch.nn.Linear(2, 2)
    assert ctorch.jit.script(m) is m
    assert ctorch.jit.is_scripting() is False and ctorch.jit.is_tracing() is False
    assert ctorch.jit.Final is importlib.import_module("typing").Final
    assert ctorch.jit.annotations.BroadcastingList2 is not None


def test_jit_trace_runs_once_while_tracing_and_gives_same_outputs() -> None:
    calls = []

    def f(x, y):
        calls.append(ctorch.jit.is_tracing())
        return x * y + 1

    x, y = ctorch.arange(3.0), ctorch.full((3,), 2.0)
    g = ctorch.jit.trace(f, (x, y))
    assert calls == [True]
    assert ctorch.equal(g(x, y), f(x, y)) and calls[1:] == [False, False]
    m = ctorch.nn.Linear(3, 2)
    tm = ctorch.jit.trace(m, ctorch.ones(1, 3))
    assert ctorch.equal(tm(ctorch.ones(1, 3)), m(ctorch.ones(1, 3)))
    with pytest.raises(RuntimeError, match="example_inputs"):
        ctorch.jit.trace(f)


def test_jit_fork_wait_isinstance_and_save_load_errors(tmp_path) -> None:
    from typing import Dict, List, Optional, Tuple  # noqa: UP035

    fut = ctorch.jit.fork(ctorch.add, ctorch.ones(2), 1)
    assert ctorch.jit.wait(fut).tolist() == [2.0, 2.0]
    cases = [
        ([1, 2], List[int]),  # noqa: UP006
        ([1.0], List[int]),  # noqa: UP006
        ({"a": ctorch.ones(1)}, Dict[str, ctorch.Tensor]),  # noqa: UP006
        (None, Optional[int]),  # noqa: UP045
        ((1, "a"), Tuple[int, str]),  # noqa: UP006
        ((1, 2), Tuple[int, str]),  # noqa: UP006
    ]
    got = [ctorch.jit.isinstance(v, t) for v, t in cases]
    assert got == [True, False, True, True, True, False]
    for fn in (
        lambda: ctorch.jit.save(ctorch.nn.Linear(1, 1), tmp_path / "m.pt"),
        lambda: ctorch.jit.load(tmp_path / "m.pt"),
    ):
        with pytest.raises(NotImplementedError, match="TorchScript"):
            fn()


def test_jit_decorators_at_class_definition_time() -> None:
    class M(ctorch.nn.Module):
        flag: ctorch.jit.Final[int]

        def __init__(self):
            super().__init__()
            self.flag = 3

        @ctorch.jit.ignore
        def nwd(self):
            return {"x"}

        @ctorch.jit.unused
        def u(self):
            return 1

        @ctorch.jit.export
        def e(self):
            return 2

        def forward(self, x):
            return x

    m = M()
    assert (m.nwd(), m.u(), m.e(), m.flag) == ({"x"}, 1, 2, 3)


@pytest.mark.parametrize("lib", ["torch", "ctorch"])
def test_compile_module_wraps_in_optimized_module(lib: str) -> None:
    """torch.compile(module) -> OptimizedModule: ``_orig_mod.`` keys, attributes and mode go
    through to the original (nanoGPT strips the prefix on resume). torch's own wrapper is
    checked without calling it (that would start its compiler)."""
    t = importlib.import_module(lib)
    m = t.nn.Sequential(t.nn.Linear(2, 3), t.nn.ReLU())
    assert t.compile(m, disable=True) is m
    c = t.compile(m, mode="max-autotune")
    assert (
        type(c).__name__ == "OptimizedModule" and type(c).__module__ == f"{lib}._dynamo.eval_frame"
    )
    assert isinstance(c, t._dynamo.eval_frame.OptimizedModule) and isinstance(c, t.nn.Module)
    assert c._orig_mod is m and not isinstance(c, t.nn.Sequential) and len(c) == 2
    assert list(c.state_dict()) == ["_orig_mod.0.weight", "_orig_mod.0.bias"]
    assert [n for n, _ in c.named_modules()][:2] == ["", "_orig_mod"]
    assert c._modules["_orig_mod"] is m
    with pytest.raises(TypeError, match="not subscriptable"):
        c[0]
    c.eval()
    assert not m.training and not c.training and not m[0].training
    c.train()
    assert m.training and c.training
    c.note = "x"
    assert m.note == "x" and "note" not in c.__dict__
    del c.note
    assert not hasattr(m, "note")
    with pytest.raises(RuntimeError, match="missing|Missing"):
        m.load_state_dict(c.state_dict())
    c.load_state_dict(c.state_dict())
    assert repr(c).startswith("OptimizedModule(\n  (_orig_mod): Sequential(")
    with pytest.raises(RuntimeError, match="Either mode or options"):
        t.compile(m, mode="default", options={})
    with pytest.raises(TypeError, match="Linear does not support len"):
        len(t.compile(m[0]))
    if lib == "ctorch":
        x = ctorch.ones(4, 2)
        assert ctorch.equal(c(x), m(x))
        assert t.compile()(m)._orig_mod is m  # the decorator form


def test_onnx_fx_dynamo_compiler() -> None:
    import ctorch._dynamo
    import ctorch.compiler
    import ctorch.fx
    import ctorch.onnx

    with pytest.raises(NotImplementedError, match="ONNX"):
        ctorch.onnx.export(ctorch.nn.Linear(1, 1), (ctorch.ones(1, 1),), "m.onnx")
    assert ctorch.onnx.is_in_onnx_export() is False

    def f(x):
        return x

    assert ctorch.fx.wrap(f) is f and ctorch.fx.wrap("f") == "f"
    with pytest.raises(NotImplementedError, match="symbolic"):
        ctorch.fx.symbolic_trace(ctorch.nn.Linear(1, 1))
    ctorch._dynamo.config.suppress_errors = True
    assert ctorch._dynamo.config.suppress_errors is True
    ctorch._dynamo.config.suppress_errors = False
    assert ctorch._dynamo.disable(f) is f and ctorch._dynamo.disable(recursive=False)(f) is f
    assert ctorch.compiler.disable(f) is f
    assert ctorch.compiler.is_compiling() is False and ctorch._dynamo.is_compiling() is False
    assert ctorch.compiler.compile(f) is f
    ctorch._dynamo.reset()
    import ctorch._inductor.config

    ctorch._inductor.config.coordinate_descent_tuning = True
    assert ctorch._inductor.config.coordinate_descent_tuning is True
    ctorch._inductor.config.coordinate_descent_tuning = False


# ------------------------------------------------------------------ 3. NumPy subclasses
def test_from_numpy_memmap_is_zero_copy_and_ops_work(tmp_path) -> None:
    path = tmp_path / "m.f32"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(3, 4))
    mm[:] = np.arange(12, dtype=np.float32).reshape(3, 4)
    for make in (ctorch.from_numpy, ctorch.as_tensor):
        t = make(mm)
        assert type(t._a) is np.ndarray and np.shares_memory(t._a, mm)
        assert t.mean(1).tolist() == torch.from_numpy(np.asarray(mm)).mean(1).tolist()
        assert (t @ t.T).sum().item() == float((np.asarray(mm) @ np.asarray(mm).T).sum())
    t = ctorch.from_numpy(mm)
    t[0, 0] = 100.0
    t.add_(1)
    mm.flush()
    assert np.fromfile(path, dtype=np.float32)[:3].tolist() == [101.0, 2.0, 3.0]
    ro = ctorch.from_numpy(np.memmap(path, dtype=np.float32, mode="r", shape=(3, 4)))
    assert ro.sum().item() == float(np.fromfile(path, dtype=np.float32).sum())
    with pytest.raises(RuntimeError, match="read-only"):
        ro.add_(1)


@pytest.mark.parametrize(
    "data",
    [
        np.matrix([[1, 2], [3, 4]]),
        np.matrix([1.5, 2.5, 3.5]),
        np.matrix([[1.0], [2.0]], dtype=np.float32),
        np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0]),
    ],
    ids=["matrix-int", "matrix-row", "matrix-col-f32", "masked"],
)
def test_tensor_of_ndarray_subclasses_matches_torch(data) -> None:
    for make in ("tensor", "as_tensor"):
        ours = getattr(ctorch, make)(data)
        theirs = getattr(torch, make)(data)
        assert type(ours._a) is np.ndarray, make
        assert tuple(ours.shape) == tuple(theirs.shape), make
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1], make
        assert ours.tolist() == theirs.tolist(), make
        if ours.dim() == 2:
            assert (ours @ ours.T).tolist() == (theirs @ theirs.T).tolist()
    m = ctorch.from_numpy(np.matrix([[1.0, 2.0]]))
    assert tuple(m.shape) == (1, 2) and (m * m).tolist() == [[1.0, 4.0]]


# ------------------------------------------------------------------ 4. creation overloads
# Each expression runs with L = ctorch and L = torch; results must agree in shape, dtype and
# values (random ones only in shape/dtype), errors in exception type. ctorch stays lenient
# where torch refuses (full(2, 1), linspace(0, 1, 2.0), tensor() of a list of multi-element
# tensors): those are not listed.
CREATION_CASES = [
    "L.randint(5, size=(2,)).shape",
    "L.randint(5, (2,)).shape",
    "L.randint(2, 5, (3,)).dtype",
    "L.randint(low=2, high=5, size=(3,)).shape",
    "L.randint(high=5, size=(3,)).shape",
    "L.randint(high=5, size=(2,), low=1).shape",
    "L.randint(10, (2,), dtype=L.float32).dtype",
    "L.randint(5, size=3)",
    "L.zeros(size=(2,3))",
    "L.zeros(L.Size([2,3]))",
    "L.zeros([2,3])",
    "L.zeros(())",
    "L.zeros([])",
    "L.ones(size=[2])",
    "L.empty(size=(2,)).shape",
    "L.rand(size=(2,)).shape",
    "L.randn(size=(2,2)).shape",
    "L.full(size=(2,), fill_value=3)",
    "L.empty(2,3,dtype=L.int64).shape",
    "L.zeros(2, 3.0)",
    "L.zeros(2, (3,))",
    "L.ones(L.tensor(3))",
    "L.zeros(np.int64(2), 3)",
    "L.empty(0)",
    "L.rand(2, size=(3,))",
    "L.full((2,),True)",
    "L.full((2,),3)",
    "L.full((2,),3.0)",
    "L.full((2,),L.tensor(3))",
    "L.full((2,),L.tensor(3.5))",
    "L.full([2,2], 1j)",
    "L.full((), 2)",
    "L.full((2,), np.float64(1.5))",
    "L.full((2,), np.int32(2))",
    "L.full((2,), L.tensor(True))",
    "L.full([2], 2, dtype=L.float64)",
    "L.arange(0, 1, 0.1)",
    "L.arange(1, 2.5, 0.5)",
    "L.arange(5.0)",
    "L.arange(0,10,3)",
    "L.arange(-1.0, 1.0, 0.3)",
    "L.arange(0, 0.3, 0.1)",
    "L.arange(10, 0, -3)",
    "L.arange(L.tensor(5))",
    "L.arange(0, 5, dtype=L.float64)",
    "L.arange(0, 1, 0.1, dtype=L.float32)",
    "L.arange(0, 10, 0.1).shape",
    "L.arange(1e-3, 1, 1e-3).shape",
    "L.arange(0, 5, 0.5, dtype=L.float64)",
    "L.arange(L.tensor(0.5), 3)",
    "L.arange(start=1, end=4)",
    "L.arange(end=3)",
    "L.arange(3, dtype=L.int32)",
    "L.arange(0, -1, -0.25)",
    "L.arange(np.float32(0.5), 2)",
    "L.arange(0, 1, 1)",
    "L.arange(5, 5)",
    "L.linspace(0,1,5)",
    "L.linspace(0,1,1)",
    "L.linspace(0,1,0)",
    "L.linspace(0,10,5,dtype=L.int64)",
    "L.linspace(L.tensor(0.),L.tensor(1.),3)",
    "L.linspace(0, 1, steps=4)",
    "L.linspace(-1, 1, 7, dtype=L.float64)",
    "L.linspace(3, -3, 4)",
    "L.logspace(0,2,3)",
    "L.logspace(0,2,3,base=2)",
    "L.logspace(0,3,4,dtype=L.int64)",
    "L.logspace(0, 1, steps=0)",
    "L.logspace(-2, 2, 5, base=3.0, dtype=L.float64)",
    "L.logspace(0, 1, 1)",
    "L.tensor([L.tensor(1.), L.tensor(2.)])",
    "L.tensor([[L.tensor(1), 2],[3, 4]])",
    "L.tensor([L.tensor(1.,dtype=L.float64), L.tensor(2.)])",
    "L.tensor([L.tensor(1), L.tensor(2.5)])",
    "L.tensor([L.tensor(True), L.tensor(False)])",
    "L.tensor([[L.tensor(1.)], [L.tensor(2.)]])",
    "L.tensor((L.tensor(1), L.tensor(2)))",
    "L.tensor([L.tensor(1, dtype=L.int32), L.tensor(2, dtype=L.int32)])",
    "L.tensor([L.tensor(1, dtype=L.int32), 2])",
    "L.tensor([])",
    "L.tensor([[]])",
    "L.tensor(3)",
    "L.tensor(True)",
    "L.tensor([1, 2.0])",
    "L.tensor([True, 2])",
    "L.tensor(np.float32(2.5))",
    "L.tensor([np.float32(2.5)])",
    "L.tensor([np.int32(1)])",
    "L.tensor([np.array([1.0, 2.0]), np.array([3.0, 4.0])])",
    "L.tensor([np.array([1, 2], dtype=np.int32)])",
    "L.tensor([np.zeros(2, np.float32), [1, 2]])",
    "L.tensor([np.array([1, 2]), [3.5, 4]])",
    "L.zeros_like(L.ones(2), dtype=L.int64)",
    "L.ones_like(L.ones(2,dtype=L.int32))",
    "L.rand_like(L.ones(2,dtype=L.int64))",
    "L.randn_like(L.ones(2), dtype=L.float64).dtype",
    "L.full_like(L.ones(2,dtype=L.int64), 2.7)",
    "L.full_like(L.ones(2), 2, dtype=L.int32)",
    "L.randint_like(L.ones(3), 10).dtype",
    "L.randint_like(L.ones(3), 3, 10).dtype",
    "L.empty_like(L.ones(2, 3), dtype=L.float64).shape",
    "L.zeros_like(L.ones(2), device='cpu')",
    "L.ones_like(L.ones(2), device=L.device('cpu'), dtype=L.bool)",
    "L.zeros_like(L.ones(2, requires_grad=True)).requires_grad",
    "L.ones_like(L.ones(2), requires_grad=True).requires_grad",
    "L.full_like(L.ones(2), True)",
    "L.full_like(L.ones(2, dtype=L.bool), 3)",
    "L.eye(2,3)",
    "L.eye(3, dtype=L.int64)",
    "L.eye(2, m=1)",
    "L.rand(3, dtype=L.float64).dtype",
    "L.randn((2,3)).shape",
    "L.randn([]).shape",
    "L.ones(2, 3, dtype=L.bool)",
    "L.zeros(3, requires_grad=True).requires_grad",
    "L.zeros(2, dtype=L.int64, requires_grad=True)",
]


def _creation_result(lib, expr: str):
    try:
        r = eval(expr, {"L": lib, "np": np})
    except Exception as e:  # noqa: BLE001 - the exception type is the result compared
        return ("ERR", type(e).__name__)
    if isinstance(r, (torch.Tensor, ctorch.Tensor)):
        vals = r.detach().reshape(-1).tolist()
        return ("T", tuple(r.shape), str(r.dtype).split(".")[-1], vals)
    if isinstance(r, (torch.Size, ctorch.Size)):
        return tuple(r)
    if isinstance(r, (torch.dtype, ctorch.dtype)):
        return str(r).split(".")[-1]
    return r


@pytest.mark.parametrize("expr", CREATION_CASES)
def test_creation_overloads_match_torch(expr: str) -> None:
    ours, theirs = _creation_result(ctorch, expr), _creation_result(torch, expr)
    is_t = isinstance(ours, tuple) and isinstance(theirs, tuple) and ours[:1] == theirs[:1]
    if is_t and ours[:1] == ("T",):
        assert ours[1:3] == theirs[1:3], (ours, theirs)
        np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-6, atol=1e-12, err_msg=expr)
    else:
        assert ours == theirs


def test_arange_float_steps_match_torch_values() -> None:
    for args in [
        (0, 1, 0.1),
        (-1.0, 1.0, 0.3),
        (0, 0.3, 0.1),
        (1e-3, 1, 1e-3),
        (0, -1, -0.25),
        (0.5, 10.5, 0.7),
        (2.5,),
        (0, 5, 0.5),
    ]:
        for dt in (None, "float64"):
            kw = {} if dt is None else {"dtype": getattr(torch, dt)}
            ckw = {} if dt is None else {"dtype": getattr(ctorch, dt)}
            t, c = torch.arange(*args, **kw), ctorch.arange(*args, **ckw)
            assert tuple(c.shape) == tuple(t.shape), args
            np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-6, atol=1e-7)


def test_size_keyword_and_randint_overloads() -> None:
    for f in ("zeros", "ones", "empty", "rand", "randn"):
        assert tuple(getattr(ctorch, f)(size=(2, 3)).shape) == (2, 3), f
        assert tuple(getattr(ctorch, f)(size=[4]).shape) == (4,), f
        with pytest.raises(TypeError):
            getattr(ctorch, f)(2, size=(2,))
    ctorch.manual_seed(0)
    r = ctorch.randint(3, size=(1000,))
    assert r.dtype is ctorch.int64 and r.min().item() == 0 and r.max().item() == 2
    r = ctorch.randint(low=5, high=7, size=(1000,))
    assert set(r.tolist()) == {5, 6}


# ------------------------------------------------------------------ 5. ops
def _pair(rng, shape):
    a = rng.standard_normal(shape)
    return ctorch.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


_INF = float("inf")
# name -> (L -> the function on library L, input shapes); float64 inputs
DIFFERENTIABLE = {
    "addcmul": (
        lambda L: lambda a, b, c: L.addcmul(a, b, c, value=0.3),
        [(3, 4), (4,), (3, 1)],
    ),
    "addcdiv": (lambda L: lambda a, b, c: L.addcdiv(a, b, c, value=-2), [(3, 4), (3, 4), (3, 4)]),
    "lerp_scalar": (lambda L: lambda a, b: L.lerp(a, b, 0.7), [(3, 4), (4,)]),
    "lerp_tensor": (lambda L: lambda a, b, w: L.lerp(a, b, w), [(3, 4), (3, 4), (4,)]),
    "lerp_method": (lambda L: lambda a, b: a.lerp(b, 0.2), [(5,), (5,)]),
    "erfinv": (lambda L: lambda a: L.erfinv(a.tanh() * 0.99), [(20,)]),
    "cross": (lambda L: lambda a, b: L.cross(a, b, dim=1), [(4, 3), (4, 3)]),
    "cross_bcast": (lambda L: lambda a, b: L.cross(a, b, dim=-1), [(2, 4, 3), (1, 4, 3)]),
    "diff2": (lambda L: lambda a: L.diff(a, n=2, dim=0), [(5, 3)]),
    "diff_pre_app": (
        lambda L: lambda a, p, q: L.diff(a, dim=1, prepend=p, append=q),
        [(3, 4), (3, 1), (3, 2)],
    ),
    "kron": (lambda L: lambda a, b: L.kron(a, b), [(2, 3), (4, 2)]),
    "kron_nd": (lambda L: lambda a, b: L.kron(a, b), [(2,), (2, 3, 2)]),
    "cdist_p0.5": (lambda L: lambda a, b: L.cdist(a, b, p=0.5), [(2, 5, 3), (2, 4, 3)]),
    "cdist_p1": (lambda L: lambda a, b: L.cdist(a, b, p=1), [(2, 5, 3), (2, 4, 3)]),
    "cdist_p2": (lambda L: lambda a, b: L.cdist(a, b), [(5, 3), (4, 3)]),
    "cdist_p3": (lambda L: lambda a, b: L.cdist(a, b, p=3), [(2, 5, 3), (1, 4, 3)]),
    "cdist_p2_mm": (lambda L: lambda a, b: L.cdist(a, b), [(2, 30, 3), (2, 27, 3)]),
    "cdist_p2_mm_forced": (
        lambda L: lambda a, b: L.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
        [(4, 3), (5, 3)],
    ),
    "cdist_pinf": (lambda L: lambda a, b: L.cdist(a, b, p=_INF), [(5, 3), (4, 3)]),
    "cartesian_prod": (lambda L: lambda a, b, c: L.cartesian_prod(a, b, c), [(2,), (3,), (2,)]),
    "trapezoid": (lambda L: lambda y: L.trapezoid(y), [(3, 5)]),
    "trapezoid_dx": (lambda L: lambda y: L.trapezoid(y, dx=0.5, dim=0), [(3, 5)]),
    "trapezoid_x": (lambda L: lambda y, x: L.trapezoid(y, x), [(3, 5), (5,)]),
    "trapezoid_xnd": (lambda L: lambda y, x: L.trapezoid(y, x, dim=0), [(3, 5), (3, 5)]),
    "expand_copy": (lambda L: lambda a: L.expand_copy(a, (3, 4)), [(1, 4)]),
    "unfold": (lambda L: lambda a: a.unfold(1, 3, 2), [(2, 8, 3)]),
    "unfold_overlap": (lambda L: lambda a: a.unfold(0, 4, 1), [(7,)]),
    "unfold_last": (lambda L: lambda a: a.unfold(-1, 2, 2), [(3, 5)]),
    "conv2d": (
        lambda L: lambda x, w, b: L.conv2d(x, w, b, 1, 1),
        [(1, 2, 5, 5), (3, 2, 3, 3), (3,)],
    ),
    "layer_norm": (
        lambda L: lambda x, w, b: L.layer_norm(x, (4,), w, b, 1e-5),
        [(3, 4), (4,), (4,)],
    ),
}


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_differentiable_ops_match_torch_and_gradcheck(name: str) -> None:
    make, shapes = DIFFERENTIABLE[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    pairs = [_pair(rng, s) for s in shapes]
    ours_in, theirs_in = [p[0] for p in pairs], [p[1] for p in pairs]
    ours, theirs = make(ctorch)(*ours_in), make(torch)(*theirs_in)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), 1e-10, 1e-12)
    g = rng.standard_normal(tuple(ours.shape))
    ours.backward(ctorch.tensor(g))
    theirs.backward(torch.tensor(g))
    for a, b in zip(ours_in, theirs_in, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), 1e-8, 1e-10)
    fresh = tuple(ctorch.tensor(a.detach().numpy(), requires_grad=True) for a in ours_in)
    assert gradcheck(make(ctorch), fresh)


def test_unfold_is_a_view_and_checks_arguments() -> None:
    x = ctorch.arange(6.0)
    v = x.unfold(0, 2, 2)
    v[0, 0] = 100.0
    assert x.tolist() == [100.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert ctorch.arange(10).unfold(0, 3, 3).tolist() == torch.arange(10).unfold(0, 3, 3).tolist()
    for args in [(0, 11, 1), (0, 2, 0)]:
        with pytest.raises(RuntimeError):
            ctorch.arange(10).unfold(*args)
        with pytest.raises(RuntimeError):
            torch.arange(10).unfold(*args)


def test_erfinv_values_edges_and_dtypes() -> None:
    x = np.concatenate([np.linspace(-1, 1, 4001), [1 - 1e-12, -(1 - 1e-15), 1.5, np.nan]])
    ours = ctorch.erfinv(ctorch.tensor(x, dtype=ctorch.float64)).numpy()
    theirs = torch.erfinv(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=1e-15)
    x32 = np.linspace(-1, 1, 3001).astype(np.float32)
    np.testing.assert_allclose(
        ctorch.erfinv(ctorch.tensor(x32)).numpy(), torch.erfinv(torch.tensor(x32)).numpy(), 1e-6
    )
    assert ctorch.erfinv(ctorch.tensor([0, 1])).dtype is ctorch.float32


def test_isclose_allclose_match_torch() -> None:
    a = [1.0, float("nan"), float("inf"), 1e-9, -float("inf"), 2.0]
    b = [1.0 + 1e-6, float("nan"), float("inf"), 0.0, float("inf"), 2.1]
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.1}, {"atol": 0.2, "rtol": 0.0}):
        ours = ctorch.isclose(ctorch.tensor(a), ctorch.tensor(b), **kw).tolist()
        assert ours == torch.isclose(torch.tensor(a), torch.tensor(b), **kw).tolist(), kw
        assert ctorch.allclose(ctorch.tensor(a[:1]), ctorch.tensor(b[:1]), **kw) == torch.allclose(
            torch.tensor(a[:1]), torch.tensor(b[:1]), **kw
        )
    assert ctorch.ones(3).allclose(ctorch.ones(3) + 1e-7)
    assert ctorch.isclose(ctorch.tensor([1, 2]), ctorch.tensor([1, 3])).tolist() == [True, False]
    with pytest.raises(RuntimeError, match="did not match"):
        ctorch.allclose(ctorch.ones(3), ctorch.ones(3, dtype=ctorch.float64))


def test_inplace_forms_match_torch_with_and_without_grad() -> None:
    res = []
    for L in (ctorch, torch):
        a = L.tensor([1.0, 2.0, 3.0], dtype=L.float64, requires_grad=True)
        b = L.tensor([0.5, 0.5, 2.0], dtype=L.float64, requires_grad=True)
        h = a * 1.0
        h.addcmul_(b, b, value=2).addcdiv_(a, b, value=0.5).lerp_(b, 0.25)
        h.lerp_(a, L.tensor([0.1, 0.2, 0.3], dtype=L.float64))
        h.sum().backward()
        p, g, v = L.ones(3), L.full((3,), 0.5), L.zeros(3)
        with L.no_grad():
            v.mul_(0.9).addcmul_(g, g, value=0.1)
            p.addcdiv_(g, v.sqrt().add_(1e-8), value=-0.01)
            p.lerp_(L.zeros(3), 0.5).lerp_(L.zeros(3), L.full((3,), 0.2))
        e = L.tensor([0.1, -0.5])
        e.erfinv_()
        res.append(
            [h.tolist(), a.grad.tolist(), b.grad.tolist(), p.tolist(), v.tolist(), e.tolist()]
        )
        with pytest.raises(RuntimeError):
            L.ones(3).addcmul_(L.ones(2, 3), L.ones(2, 3))
        with pytest.raises(RuntimeError, match="leaf Variable"):
            L.ones(3, requires_grad=True).lerp_(L.ones(3), 0.5)
    np.testing.assert_allclose(
        np.concatenate([np.ravel(x) for x in res[0]]),
        np.concatenate([np.ravel(x) for x in res[1]]),
        rtol=1e-6,
    )


def _foreach_lists(L, rng_seed: int = 0):
    rng = np.random.default_rng(rng_seed)
    shapes = [(3,), (2, 2), (4,)]
    a = [L.tensor(rng.standard_normal(s)) for s in shapes]
    b = [L.tensor(rng.standard_normal(s)) for s in shapes]
    c = [L.tensor(np.abs(rng.standard_normal(s)) + 0.5) for s in shapes]
    return a, b, c


FOREACH = [
    ("add", lambda L, a, b, c: (a, 2.0), {}),
    ("add", lambda L, a, b, c: (a, b), {}),
    ("add", lambda L, a, b, c: (a, b), {"alpha": -0.5}),
    ("add", lambda L, a, b, c: (a, [1.0, 2.0, 3.0]), {}),
    ("add", lambda L, a, b, c: (a, L.tensor(2.0, dtype=L.float64)), {}),
    ("sub", lambda L, a, b, c: (a, b), {}),
    ("sub", lambda L, a, b, c: (a, 1), {}),
    ("mul", lambda L, a, b, c: (a, b), {}),
    ("mul", lambda L, a, b, c: (a, 0.5), {}),
    ("mul", lambda L, a, b, c: (a, [1.0, 2.0, 3.0]), {}),
    ("mul", lambda L, a, b, c: (a, L.tensor(3.0, dtype=L.float64)), {}),
    ("div", lambda L, a, b, c: (a, c), {}),
    ("div", lambda L, a, b, c: (a, 4.0), {}),
    ("div", lambda L, a, b, c: (a, [1.0, 2.0, 4.0]), {}),
    ("maximum", lambda L, a, b, c: (a, b), {}),
    ("maximum", lambda L, a, b, c: (a, 0.0), {}),
    ("minimum", lambda L, a, b, c: (a, b), {}),
    ("minimum", lambda L, a, b, c: (a, [0.0, 0.1, 0.2]), {}),
    ("pow", lambda L, a, b, c: (c, 2.0), {}),
    ("pow", lambda L, a, b, c: (c, b), {}),
    ("clamp_min", lambda L, a, b, c: (a, 0.1), {}),
    ("clamp_max", lambda L, a, b, c: (a, b), {}),
    ("addcmul", lambda L, a, b, c: (a, b, c), {}),
    ("addcmul", lambda L, a, b, c: (a, b, c, 0.5), {}),
    ("addcmul", lambda L, a, b, c: (a, b, c, [0.5, 1.0, 2.0]), {}),
    ("addcmul", lambda L, a, b, c: (a, b, c, L.tensor([0.5, 1.0, 2.0], dtype=L.float64)), {}),
    ("addcdiv", lambda L, a, b, c: (a, b, c), {"value": -0.1}),
    ("addcdiv", lambda L, a, b, c: (a, b, c, [0.5, 1.0, 2.0]), {}),
    ("lerp", lambda L, a, b, c: (a, b, 0.3), {}),
    ("lerp", lambda L, a, b, c: (a, b, c), {}),
    ("lerp", lambda L, a, b, c: (a, b, [0.1, 0.2, 0.9]), {}),
] + [
    (u, (lambda L, a, b, c: (c,)), {})
    for u in ("sqrt", "neg", "exp", "abs", "sign", "reciprocal", "log", "sigmoid", "log1p")
]


@pytest.mark.parametrize("inplace", [False, True], ids=["out", "inplace"])
@pytest.mark.parametrize("case", range(len(FOREACH)))
def test_foreach_ops_match_torch(case: int, inplace: bool) -> None:
    name, args, kw = FOREACH[case]
    fn = f"_foreach_{name}" + ("_" if inplace else "")
    got = []
    for L in (ctorch, torch):
        a, b, c = _foreach_lists(L)
        call = args(L, a, b, c)
        r = getattr(L, fn)(*call, **kw)
        assert type(r) is (list if inplace else tuple), L.__name__
        if inplace:
            assert all(x is y for x, y in zip(r, call[0], strict=True))
        got.append([x.tolist() for x in (call[0] if inplace else r)])
    assert len(got[0]) == len(got[1])
    for x, y in zip(*got, strict=True):
        np.testing.assert_allclose(np.array(x), np.array(y), rtol=1e-12, atol=1e-14, err_msg=fn)


def test_foreach_norm_zero_copy_and_errors() -> None:
    out = []
    for L in (ctorch, torch):
        a, b, _ = _foreach_lists(L)
        norms = [L._foreach_norm(a, o) for o in (2, 1, _INF)]
        assert all(n.dim() == 0 for ns in norms for n in ns)
        r = L._foreach_zero_(a)
        assert sum(x.abs().sum().item() for x in r) == 0
        L._foreach_copy_(a, b)
        out.append([[n.item() for n in ns] for ns in norms] + [[x.sum().item() for x in a]])
        with pytest.raises(RuntimeError):
            L._foreach_add(a, b[:2])
    np.testing.assert_allclose(np.array(out[0]), np.array(out[1]), rtol=1e-12)


def test_foreach_pow_scalar_base_and_max() -> None:
    got = []
    for L in (ctorch, torch):
        steps = [L.tensor(2.0, dtype=L.float64), L.tensor([1.0, 3.0], dtype=L.float64)]
        r = L._foreach_pow(0.9, steps)
        m = L._foreach_max([L.tensor([1.0, 5.0]), L.tensor([[2.0, -1.0]])])
        assert type(r) is tuple and type(m) is tuple
        got.append([x.tolist() for x in r] + [x.item() for x in m])
    assert got[0] == got[1]


def test_foreach_autograd_flows_through_out_of_place_forms() -> None:
    a = [ctorch.tensor([1.0, 2.0], requires_grad=True), ctorch.tensor([3.0], requires_grad=True)]
    r = ctorch._foreach_mul(ctorch._foreach_add(a, 1.0), [2.0, 3.0])
    (r[0].sum() + r[1].sum()).backward()
    assert a[0].grad.tolist() == [2.0, 2.0] and a[1].grad.tolist() == [3.0]


def test_toplevel_nn_forms_and_matmul_precision_and_is_cpu() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 8))
    for p, train in [(0.0, True), (0.5, False)]:
        assert (
            ctorch.dropout(ctorch.tensor(x), p, train).tolist()
            == torch.dropout(torch.tensor(x), p, train).tolist()
        )
    ctorch.manual_seed(0)
    d = ctorch.dropout(ctorch.ones(1000), 0.5, True)
    assert set(d.unique().tolist()) == {0.0, 2.0}
    w, b = rng.standard_normal((4, 3, 3)), rng.standard_normal(4)
    np.testing.assert_allclose(
        ctorch.conv1d(ctorch.tensor(x), ctorch.tensor(w), ctorch.tensor(b), padding=1).numpy(),
        torch.conv1d(torch.tensor(x), torch.tensor(w), torch.tensor(b), padding=1).numpy(),
        1e-10,
    )
    rm, rv = np.zeros(3), np.ones(3)
    args = (rng.standard_normal(3), rng.standard_normal(3))
    ours = ctorch.batch_norm(
        ctorch.tensor(x),
        *map(ctorch.tensor, args),
        ctorch.tensor(rm),
        ctorch.tensor(rv),
        False,
        0.1,
        1e-5,
        True,
    )
    theirs = torch.batch_norm(
        torch.tensor(x),
        *map(torch.tensor, args),
        torch.tensor(rm),
        torch.tensor(rv),
        False,
        0.1,
        1e-5,
        True,
    )
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), 1e-10)
    gn = [L.group_norm(L.tensor(x), 3, None, None, 1e-5, True).numpy() for L in (ctorch, torch)]
    np.testing.assert_allclose(gn[0], gn[1], 1e-10, 1e-12)
    assert ctorch.ones(2).is_cpu is True
    assert ctorch.get_float32_matmul_precision() == "highest"


def test_old_style_script_module_subclass_runs_eagerly() -> None:
    class M(ctorch.jit.ScriptModule):
        def __init__(self) -> None:
            super().__init__()
            self.lin = ctorch.nn.Linear(2, 1)

        @ctorch.jit.script_method
        def forward(self, x):
            return self.lin(x) * 2

    m = M()
    x = ctorch.ones(3, 2)
    assert ctorch.equal(m(x), m.lin(x) * 2)
    assert len(list(m.parameters())) == 2
    assert not isinstance(ctorch.jit.script(ctorch.nn.Linear(1, 1)), ctorch.jit.ScriptModule)


def test_cdist_zero_distance_has_zero_gradient_on_both_paths() -> None:
    for mode in ("donot_use_mm_for_euclid_dist", "use_mm_for_euclid_dist"):
        ours = []
        for L in (ctorch, torch):
            a = L.tensor([[0.0, 1.0], [2.0, 3.0]], dtype=L.float64, requires_grad=True)
            L.cdist(a, a, compute_mode=mode).sum().backward()
            ours.append(a.grad.numpy())
        np.testing.assert_allclose(ours[0], ours[1], rtol=1e-12)
    with pytest.raises(ValueError):
        ctorch.cdist(ctorch.ones(2, 2), ctorch.ones(2, 2), compute_mode="fast")
