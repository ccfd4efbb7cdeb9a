"""Issue #14: the import-level and top-level torch API that real programs use, compared with
torch where torch is installed."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

import ctorch

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
