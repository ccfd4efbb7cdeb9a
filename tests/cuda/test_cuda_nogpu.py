"""ctorch.cuda checks that need no GPU: lazy import, "no GPU" answers, the kernel namespace,
the NVRTC source assembly and the nvcc compile check of every kernel family."""

from __future__ import annotations

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
    [_FakeRuntime(exc=RuntimeError("cudaErrorNoDevice")), _FakeRuntime(exc=OSError("no lib")),
     _FakeRuntime(count=0)],
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
        assert '#include "common.cuh"' not in src  # pasted in (CuPy cache key covers it)
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
    return names - {"prange", "kernels_for"}


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
    for name, fn in vars(cpu).items():
        if name.startswith("_"):
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
        capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("ok ") == len(FAMILIES)
