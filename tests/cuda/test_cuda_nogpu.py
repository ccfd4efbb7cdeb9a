"""ctorch.cuda checks that need no GPU: lazy import, "no GPU" answers, the kernel namespace,
the NVRTC source assembly and the nvcc compile check of every kernel family."""

from __future__ import annotations

import builtins
import importlib
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ctorch.cuda as cuda
from ctorch._geometry import Window2d
from ctorch.cuda import _loader
from ctorch.cuda.backend import FAMILIES, kernels

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_cuda_state(monkeypatch):
    """Forget the memoized CuPy import and device count (restored after the test)."""
    for name in ("_cupy", "_cupy_error", "_device_count", "_device_error"):
        monkeypatch.setattr(cuda, name, None)
    monkeypatch.setattr(cuda, "_cupy_tried", False)
    return monkeypatch


def test_import_is_lazy():
    code = (
        "import sys, ctorch, ctorch.cuda, ctorch.cuda.backend, ctorch.cuda._loader;"
        "assert 'cupy' not in sys.modules, 'cupy imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=600)


def test_not_available_without_gpu():
    if cuda.is_available():
        pytest.skip("a GPU is present")
    assert cuda.device_count() == 0
    assert cuda.memory_allocated() == 0
    assert cuda.max_memory_allocated() == 0
    cuda.reset_peak_memory_stats()
    cuda.empty_cache()
    with pytest.raises(RuntimeError, match="no usable CUDA GPU|CuPy could not be imported"):
        cuda.require_cupy("a test")
    with pytest.raises(RuntimeError):
        cuda.current_device()


def test_missing_cupy_gives_install_hint(fresh_cuda_state):
    fresh_cuda_state.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail
    assert cuda.is_available() is False
    assert cuda.device_count() == 0
    with pytest.raises(RuntimeError, match=r"ctorch\[cuda12\] or ctorch\[cuda13\]"):
        cuda.require_cupy("moving a tensor to cuda")


class _FakeRuntime:
    def __init__(self, exc=None, count=0):
        self.exc, self.count = exc, count

    def getDeviceCount(self):  # noqa: N802 (CuPy's name)
        if self.exc is not None:
            raise self.exc
        return self.count


class _FakeCupy:
    def __init__(self, runtime):
        self.cuda = type("cuda", (), {"runtime": runtime})()


@pytest.mark.parametrize(
    "runtime",
    [
        _FakeRuntime(exc=RuntimeError("cudaErrorNoDevice")),
        _FakeRuntime(exc=OSError("no lib")),
        _FakeRuntime(count=0),
    ],
    ids=["runtime-error", "other-error", "zero-devices"],
)
def test_device_query_failure_means_no_gpu(fresh_cuda_state, runtime):
    fresh_cuda_state.setitem(sys.modules, "cupy", _FakeCupy(runtime))
    assert cuda.is_available() is False
    with pytest.raises(RuntimeError, match="no usable CUDA GPU"):
        cuda.require_cupy("x")


def test_seeding_without_gpu():
    state = cuda.get_rng_state()
    try:
        cuda.manual_seed(1234)
        assert cuda.initial_seed() == 1234
        assert cuda.get_rng_state() == (1234, 0)
        assert cuda._philox_state(10) == (1234, 0)
        assert cuda._philox_state(5) == (1234, 10)
        cuda.manual_seed_all(7)
        assert cuda.initial_seed() == 7
    finally:
        cuda.set_rng_state(state)


def test_loader_source_assembly():
    fams = _loader.families()
    assert sorted(FAMILIES) == fams
    for fam in fams:
        src = _loader.kernel_source(fam)
        assert src.startswith(f'#line 1 "{(_loader.KERNEL_DIR / (fam + ".cu")).as_posix()}"')
        # local headers are pasted in, so CuPy's cache key covers them; the toolkit's own
        # (<cuda_fp16.h>, behind __has_include) stay includes
        assert not re.search(r'^\s*#\s*include\s*"', src, re.MULTILINE)
        assert "CT_COMMON_CUH" in src
        names = _loader.kernel_names(fam)
        assert names, fam
        exprs = _loader.name_expressions(fam)
        assert len(exprs) == 2 * len(names)
        assert f"{names[0]}<float>" in exprs and f"{names[0]}<double>" in exprs
    with pytest.raises(ValueError):
        _loader.kernel_source("nope")
    assert _loader.ctype(np.dtype(np.float32)) == "float"
    assert _loader.ctype(np.float64) == "double"
    with pytest.raises(ValueError):
        _loader.ctype(np.int32)


def test_line_directive_points_back_at_the_file():
    """After the pasted header, #line resumes at the .cu line following the #include."""
    src = _loader.kernel_source("elementwise")
    text = (_loader.KERNEL_DIR / "elementwise.cu").read_text()
    inc_line = text.splitlines().index('#include "common.cuh"') + 1
    path = (_loader.KERNEL_DIR / "elementwise.cu").as_posix()
    marker = f'#line {inc_line + 1} "{path}"\n'
    assert marker in src
    after = src.split(marker, 1)[1].splitlines()
    assert after[0] == text.splitlines()[inc_line]


def _documented_kernels() -> set[str]:
    doc = (ROOT / "docs" / "kernels.md").read_text()
    names = set(re.findall(r"`([a-z]\w*)\(", doc))  # `binary(op, x, y, out)` etc.
    return names - {"prange", "kernels_for"} - set(dir(builtins))


def _cpu_only_kernels() -> set[str]:
    """Kernels docs/kernels.md names with their family (`conv.im2col_wide(`): the CPU-only
    ones, outside the GPU contract (the ops ask ``has()`` and take another path on the GPU)."""
    doc = (ROOT / "docs" / "kernels.md").read_text()
    return set(re.findall(r"`[a-z_]+\.([a-z]\w*)\(", doc))


def test_backend_covers_the_documented_contract():
    documented = _documented_kernels()
    assert {"binary", "sum_all", "im2col", "adam_step", "layernorm_backward"} <= documented
    missing = sorted(n for n in documented if not hasattr(kernels, n))
    assert not missing, f"documented kernels missing on the GPU: {missing}"
    for n in ("BIN_ADD", "BIN_POW", "UN_NEG", "UN_CLAMP"):
        assert isinstance(getattr(kernels, n), int)
    assert kernels.BIN_POW == 6 and kernels.UN_CLAMP == 29
    with pytest.raises(AttributeError):
        kernels.no_such_kernel  # noqa: B018
    with pytest.raises(AttributeError):
        kernels.launch  # a helper the families import, not a kernel  # noqa: B018


def _cpu_module(fam: str):
    try:
        return importlib.import_module(f"ctorch._core.{fam}")
    except ImportError as e:  # the compiled core is not built
        pytest.skip(f"ctorch._core.{fam} not importable: {e}")


@pytest.mark.parametrize("fam", FAMILIES)
def test_signatures_match_cpu(fam):
    """Every CPU kernel exists on the GPU with the same parameter names, and the op-code
    constants agree (the ops layer calls both backends the same way)."""
    cpu = _cpu_module(fam)
    cpu_only = _cpu_only_kernels()
    for name, fn in vars(cpu).items():
        if name.startswith("_") or name in cpu_only:
            continue
        if name.startswith(("BIN_", "UN_")):
            assert getattr(kernels, name) == fn, name
            continue
        if not callable(fn) or isinstance(fn, type):
            continue
        assert hasattr(kernels, name), f"GPU lacks {fam}.{name}"
        try:
            want = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            continue
        got = list(inspect.signature(getattr(kernels, name)).parameters)
        assert got == want, f"{name}: GPU {got} != CPU {want}"


def test_launchers_reject_numpy_arrays():
    x = np.zeros(4, np.float32)
    with pytest.raises(TypeError, match="binary: out must be a cupy.ndarray"):
        kernels.binary(kernels.BIN_ADD, x, x, x)
    with pytest.raises(ValueError, match="binary: unknown binary op code 99"):
        kernels.binary(99, x, x, x)
    with pytest.raises(ValueError, match="unary_backward: op SIGN has no backward kernel"):
        kernels.unary_backward(kernels.UN_SIGN, x, x, x, x)


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc not found")
def test_every_kernel_family_compiles_with_nvcc():
    """tools/check_cuda.py: nvcc -std=c++17 -arch=sm_90 with float/double instantiations,
    no warnings allowed."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check_cuda.py"), "--arch", "sm_90"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("ok ") == len(FAMILIES)


# --------------------------------------------------------------------------------------------
# Launcher/kernel ABI without a GPU: every launcher runs against fake cupy arrays and a fake
# kernel that records its arguments, which are then checked against the C++ signature parsed
# from the .cu file (pointer element types, and numpy scalar types of the exact C width).
# CuPy packs arguments by their numpy type without checking them, so a mismatch here would
# silently corrupt a launch on a real GPU.
# --------------------------------------------------------------------------------------------


class FakeArray:
    __module__ = "cupy._fake"  # what the launchers' cupy check looks at

    def __init__(self, size, dtype):
        self.size = int(size)
        self.dtype = np.dtype(dtype)
        self.flags = type("flags", (), {"c_contiguous": True})()
        self.data = object()
        self.shape = (self.size,)

    def __getitem__(self, key):
        return FakeArray(self.size, self.dtype)


class FakeCupyModule:
    ndarray = FakeArray

    @staticmethod
    def zeros(shape, dtype):
        return FakeArray(int(np.prod(shape)), dtype)

    empty = zeros

    @staticmethod
    def argsort(a):
        return FakeArray(a.size, np.int64)

    @staticmethod
    def ascontiguousarray(a):
        return a


_SCALAR = {"ct_i64": np.int64, "int": np.int32, "double": np.float64, "ct_u64": np.uint64}
_POINTEE = {"ct_i64": np.int64, "double": np.float64, "ct_u8": np.uint8}


def _signatures(family):
    text = (_loader.KERNEL_DIR / f"{family}.cu").read_text()
    sigs = {}
    for m in re.finditer(
        r"template\s*<\s*typename\s+T\s*>\s*__global__\s+void\s+(\w+)\s*"
        r"\(([^)]*)\)",
        text,
    ):
        params = []
        for p in m.group(2).split(","):
            p = p.replace("const", " ").replace("__restrict__", " ").strip()
            ptr = "*" in p
            typ = p.replace("*", " ").split()[0]
            params.append((typ, ptr))
        sigs[m.group(1)] = params
    return sigs


@pytest.fixture
def recorded_launches(monkeypatch):
    launches = []

    class FakeKernel:
        def __init__(self, family, name, dtype):
            self.family, self.name, self.dtype = family, name, np.dtype(dtype)

        def __call__(self, grid, block, args, shared_mem=0):
            launches.append((self.family, self.name, self.dtype, grid, block, args))

    def fake_get_function(family, name, dtype, dev=None):
        _loader.ctype(dtype)
        return FakeKernel(family, name, dtype)

    monkeypatch.setattr(cuda, "require_cupy", lambda what="": FakeCupyModule)
    monkeypatch.setattr(_loader, "get_function", fake_get_function)
    monkeypatch.setattr(_loader, "max_blocks", lambda dev=None: 132 * 32)
    monkeypatch.setattr(_loader, "_current_device", lambda cp: 0)
    for fam in FAMILIES:
        mod = importlib.import_module(f"ctorch.cuda.{fam}")
        for attr, fake in (
            ("get_function", fake_get_function),
            ("max_blocks", lambda dev=None: 4224),
        ):
            if hasattr(mod, attr):
                monkeypatch.setattr(mod, attr, fake)
    return launches


def _calls(dt):
    """One call of every launcher (small shapes; optional arrays both given and None)."""
    A = lambda n, t=dt: FakeArray(n, t)  # noqa: E731
    i64 = np.int64
    k = kernels
    geo = Window2d(2, 3, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8)
    n_x, n_cols, n_y = 2 * 3 * 64, 2 * 27 * 64, 2 * 3 * 64
    return [
        lambda: k.binary(k.BIN_ADD, A(10), A(10), A(10)),
        lambda: k.binary_scalar(k.BIN_MUL, A(10), 2.0, A(10), True),
        lambda: k.binary_bcast(k.BIN_SUB, A(24), A(3), A(24), 2, 3, 4, False),
        lambda: k.unary(k.UN_CLAMP, A(10), A(10), None, 1.0),
        lambda: k.unary_backward(k.UN_ELU, A(10), A(10), A(10), A(10), 1.0, 0.0),
        lambda: k.where(A(10, np.uint8), A(10), A(10), A(10)),
        lambda: k.fill(A(10), 1.5),
        lambda: k.copy(A(10), A(10)),
        lambda: k.axpy(0.5, A(10), A(10)),
        lambda: k.scale(A(10), 0.5, A(10)),
        lambda: k.sum_all(A(5000)),
        lambda: k.sum_axis(A(24), A(8), 2, 3, 4),
        lambda: k.sum_axis(A(24), A(4), 4, 6, 1),
        lambda: k.max_axis(A(24), A(8), A(8, i64), 2, 3, 4),
        lambda: k.min_axis(A(24), A(4), A(4, i64), 4, 6, 1),
        lambda: k.max_all(A(5000)),
        lambda: k.min_all(A(5000)),
        lambda: k.var_axis(A(24), A(8), 2, 3, 4, 1),
        lambda: k.var_axis(A(24), A(4), 4, 6, 1, 0),
        lambda: k.softmax_lastdim(A(24), A(24), 4, 6),
        lambda: k.log_softmax_lastdim(A(24), A(24), 4, 6),
        lambda: k.logsumexp_lastdim(A(24), A(4), 4, 6),
        lambda: k.logsumexp_lastdim(A(0), A(4), 4, 0),
        lambda: k.softmax_backward_lastdim(A(24), A(24), A(24), 4, 6),
        lambda: k.log_softmax_backward_lastdim(A(24), A(24), A(24), 4, 6),
        lambda: k.im2col(A(n_x), A(n_cols), geo),
        lambda: k.col2im(A(n_cols), A(n_x), geo),
        lambda: k.maxpool2d_forward(A(n_x), A(n_y), A(n_y, i64), geo),
        lambda: k.maxpool2d_backward(A(n_y), A(n_y, i64), A(n_x), 6, 64, 64),
        lambda: k.avgpool2d_forward(A(n_x), A(n_y), geo, True, None),
        lambda: k.avgpool2d_backward(A(n_y), A(n_x), geo, False, 4),
        lambda: k.batchnorm_stats(A(24), A(3), A(3), 2, 3, 4, 1e-5),
        lambda: k.batchnorm_apply(A(24), A(3), A(3), A(3), None, A(24), 2, 3, 4),
        lambda: k.batchnorm_backward(
            A(24), A(24), A(3), A(3), None, A(24), A(3), None, 2, 3, 4, True
        ),
        lambda: k.layernorm_forward(A(24), A(6), A(6), A(24), A(4), A(4), 4, 6, 1e-5),
        lambda: k.layernorm_backward(A(24), A(24), A(4), A(4), A(6), A(24), A(6), A(6), 4, 6),
        lambda: k.layernorm_backward(A(24), A(24), A(4), A(4), None, None, None, A(6), 4, 6),
        lambda: k.cross_entropy_forward(A(20), A(4, i64), A(5), A(20), A(4), 4, 5, -100, 0.1),
        lambda: k.cross_entropy_backward(A(20), A(4, i64), None, A(4), A(20), 4, 5, -100, 0.0),
        lambda: k.embedding_backward(A(12), A(4, i64), A(30), 4, 3, -1),
        lambda: k.embedding_backward_atomic(A(12), A(4, i64), A(30), 4, 3, 2),
        lambda: k.dropout_mask(A(10), A(10), 0.5, 2.0),
        lambda: k.uniform_(A(10), 1, 0),
        lambda: k.dropout_mask_rng(A(10), 0.5, 2.0, 1, 10),
        lambda: k.sgd_step(A(10), A(10), A(10), 0.1, 0.9, 0.0, 0.0, False, False, True),
        lambda: k.sgd_step(A(10), A(10), None, 0.1, 0.0, 0.0, 0.0, False, False, False),
        lambda: k.adam_step(
            A(10), A(10), A(10), A(10), A(10), 1e-3, 0.9, 0.999, 1e-8, 0.0, 1, True, False, True
        ),
        lambda: k.adam_step(
            A(10), A(10), A(10), A(10), None, 1e-3, 0.9, 0.999, 1e-8, 0.0, 2, False, False, False
        ),
        lambda: k.rmsprop_step(
            A(10), A(10), A(10), A(10), A(10), 1e-2, 0.99, 1e-8, 0.0, 0.9, True, False
        ),
        lambda: k.rmsprop_step(
            A(10), A(10), A(10), None, None, 1e-2, 0.99, 1e-8, 0.0, 0.0, False, False
        ),
        lambda: k.adagrad_step(A(10), A(10), A(10), 1e-2, 0.0, 0.0, 1e-10, 1, False),
        lambda: k.adadelta_step(A(10), A(10), A(10), A(10), 1.0, 0.9, 1e-6, 0.0, False),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_launcher_arguments_match_kernel_signatures(recorded_launches, dtype):
    dt = np.dtype(dtype)
    sigs = {fam: _signatures(fam) for fam in FAMILIES}
    for call in _calls(dt):
        call()
    assert len(recorded_launches) >= len(_calls(dt))
    launched = set()
    for family, name, kdt, grid, block, args in recorded_launches:
        where = f"{family}.{name}<{kdt}>"
        launched.add((family, name))
        assert kdt == dt, where
        params = sigs[family][name]
        assert len(args) == len(params), f"{where}: {len(args)} args for {len(params)} params"
        for i, ((typ, ptr), arg) in enumerate(zip(params, args, strict=True)):
            if ptr:
                assert isinstance(arg, FakeArray), f"{where} arg {i}: pointer got {arg!r}"
                want = kdt if typ == "T" else np.dtype(_POINTEE[typ])
                assert arg.dtype == want, f"{where} arg {i}: {arg.dtype} for {typ}*"
            else:
                want = kdt.type if typ == "T" else _SCALAR[typ]
                assert type(arg) is want, f"{where} arg {i} ({typ}): {type(arg).__name__}"
        assert all(g >= 1 for g in grid), where
        threads = int(np.prod(block))
        assert threads % 32 == 0 and threads <= 1024, f"{where}: block {block}"
    every = {(f, n) for f in FAMILIES for n in sigs[f]}
    assert every - launched == set(), f"kernels never launched: {sorted(every - launched)}"


def test_launchers_reject_non_positive_windows():
    """conv and pooling launchers share one positive-integer check (before any device work)."""
    from ctorch.cuda import conv, pooling

    x = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="maxpool2d_forward: sh=0 must be a positive integer"):
        pooling.maxpool2d_forward(x, x, x, Window2d(1, 1, 2, 2, 2, 2, 0, 2, 0, 0, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="avgpool2d_forward: kh=0 must be a positive integer"):
        pooling.avgpool2d_forward(x, x, Window2d(1, 1, 2, 2, 0, 2, 2, 2, 0, 0, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="avgpool2d_forward: dilation .1, 2. is not supported"):
        pooling.avgpool2d_forward(x, x, Window2d(1, 1, 2, 2, 2, 2, 2, 2, 0, 0, 1, 2, 1, 1))
    with pytest.raises(ValueError, match="im2col: dw=0 must be a positive integer"):
        conv.im2col(x, x, Window2d(1, 1, 2, 2, 1, 1, 1, 1, 0, 0, 1, 0, 2, 2))
    with pytest.raises(TypeError, match="col2im: the geometry must be a ctorch._geometry.Window2d"):
        conv.col2im(x, x, (1, 1, 2, 2))


def test_get_function_memo_compiles_each_kernel_once(monkeypatch):
    """The launch path's memo (keyed by the dtype object as given) and the name memo behind it
    hand back one function per (family, kernel, C type, device), whatever spelling of the
    dtype asked for it."""
    asked = []

    class FakeModule:
        def get_function(self, name):
            asked.append(name)
            return ("fn", name)

    monkeypatch.setattr(_loader, "get_module", lambda family: FakeModule())
    monkeypatch.setattr(_loader, "_fast", {})
    monkeypatch.setattr(_loader, "_functions", {})
    f32 = [np.dtype(np.float32), np.float32, "float32", np.dtype("f4")]
    got = {_loader.get_function("elementwise", "unary_kernel", d, 0) for d in f32 * 2}
    assert got == {("fn", "unary_kernel<float>")} and asked == ["unary_kernel<float>"]
    assert _loader.get_function("elementwise", "unary_kernel", np.float64, 0)[1].endswith(
        "<double>"
    )
    assert _loader.get_function("elementwise", "unary_kernel", np.float32, 1) == got.pop()
    assert asked == ["unary_kernel<float>", "unary_kernel<double>", "unary_kernel<float>"]
    with pytest.raises(ValueError, match="float32 or float64"):
        _loader.get_function("elementwise", "unary_kernel", np.int32, 0)
