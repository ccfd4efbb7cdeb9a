"""Modules real programs import: ctorch.functional, ctorch.multiprocessing.spawn,
ctorch.utils.collect_env, ctorch.cuda.nvtx, compared with torch's."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")


def test_functional_names_point_at_ctorch():
    import torch.functional as tf

    import ctorch.functional as cf

    assert cf.__all__ == tf.__all__
    for name in cf.__all__:
        assert getattr(cf, name) is getattr(ctorch, name), name
    assert ctorch.functional is cf
    # as programs call them
    from ctorch.functional import einsum, norm, split

    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(
        einsum("ij->j", ctorch.tensor(a)).numpy(),
        torch.functional.einsum("ij->j", torch.tensor(a)).numpy(),
    )
    assert float(norm(ctorch.tensor(a))) == pytest.approx(
        float(torch.functional.norm(torch.tensor(a)))
    )
    assert [tuple(p.shape) for p in split(ctorch.tensor(a), 2, dim=1)] == [(2, 2), (2, 1)]


def test_multiprocessing_spawn_module():
    spawn_mod = importlib.import_module("ctorch.multiprocessing.spawn")
    tspawn = importlib.import_module("torch.multiprocessing.spawn")
    assert set(spawn_mod.__all__) == set(tspawn.__all__)
    import ctorch.multiprocessing as cmp
    from ctorch.multiprocessing.spawn import (
        ProcessContext,
        ProcessExitedException,
        ProcessRaisedException,
    )

    # the package attribute is the function, as in torch (the submodule stays importable)
    assert cmp.spawn is spawn_mod.spawn and callable(cmp.spawn)
    assert cmp.ProcessContext is ProcessContext
    assert issubclass(ProcessRaisedException, spawn_mod.ProcessException)
    assert issubclass(ProcessExitedException, spawn_mod.ProcessException)
    assert issubclass(spawn_mod.SpawnContext, ProcessContext)
    with pytest.warns(
        UserWarning, match="SpawnContext is renamed to ProcessContext since 1.4 release."
    ):
        spawn_mod.SpawnContext([], [])
    for name in (
        "get_sharing_strategy",
        "set_sharing_strategy",
        "get_all_sharing_strategies",
        "Queue",
        "Process",
    ):
        assert hasattr(cmp, name)


def test_collect_env():
    from torch.utils import collect_env as tce

    from ctorch.utils import collect_env as cce

    assert cce.SystemEnv._fields == tce.SystemEnv._fields
    info = cce.get_env_info()
    assert info.torch_version == f"ctorch {ctorch.__version__}"
    assert info.is_cuda_available == str(ctorch.cuda.is_available())
    assert info.python_version.startswith(sys.version.split()[0])
    text = cce.get_pretty_env_info()
    assert "ctorch version: ctorch" in text and "Python version:" in text and "CPU:" in text
    assert "numpy" in text.lower()
    if not ctorch.cuda.is_available():
        assert "CUDA runtime version: No CUDA" in text
    assert ctorch.utils.collect_env is cce


def test_collect_env_main_runs_as_a_module():
    r = subprocess.run(
        [sys.executable, "-m", "ctorch.utils.collect_env"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Collecting environment information...\nctorch version: ctorch ")


def test_nvtx_without_cuda_behaves_as_torch_cpu_build():
    from ctorch.cuda import nvtx

    assert nvtx.__all__ == torch.cuda.nvtx.__all__
    assert ctorch.cuda.nvtx is nvtx
    if ctorch.cuda.is_available() or torch.cuda.is_available():
        pytest.skip("a CUDA build/GPU: NVTX works there (checked in the cuda test)")
    msg = "NVTX functions not installed. Are you sure you have a CUDA build?"
    for lib in (torch, ctorch):
        for call in (lambda n: n.range_push("a"), lambda n: n.range_pop(), lambda n: n.mark("m")):
            with pytest.raises(RuntimeError, match=msg):
                call(lib.cuda.nvtx)
        with pytest.raises(RuntimeError, match=msg), lib.cuda.nvtx.range("step {}", 3):
            pass
        with pytest.raises(AttributeError):
            lib.cuda.nvtx.range_start("x")
        with pytest.raises(AttributeError):
            lib.cuda.nvtx.range_end(1)


@pytest.mark.cuda
def test_nvtx_on_a_gpu():
    from ctorch.cuda import nvtx

    assert nvtx.range_push("outer") == 0
    assert nvtx.range_push("inner") == 1
    assert nvtx.range_pop() == 1
    assert nvtx.range_pop() == 0
    nvtx.mark("event")
    with nvtx.range("epoch {}", 1):
        pass
    h = nvtx.range_start("cross-thread")
    nvtx.range_end(h)

    @nvtx.range("decorated")
    def f():
        return 3

    assert f() == 3


@pytest.mark.parametrize("fn", ["svd_lowrank", "pca_lowrank"])
@pytest.mark.parametrize("transpose", [False, True])
def test_lowrank_matches_torch_under_the_same_seed(fn, transpose):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 12))
    A = A.T.copy() if transpose else A
    out = []
    for lib in (ctorch, torch):
        lib.manual_seed(1)  # the same randn test matrix: the same basis
        out.append([t.numpy() for t in getattr(lib, fn)(lib.tensor(A), q=4)])
    (cu, cs, cv), (tu, ts, tv) = out
    np.testing.assert_allclose(cs, ts, rtol=1e-12)
    # singular vectors are defined up to sign; the products are not
    np.testing.assert_allclose(np.abs(np.sum(cu * tu, 0)), 1.0, rtol=1e-10)
    np.testing.assert_allclose(np.abs(np.sum(cv * tv, 0)), 1.0, rtol=1e-10)
    np.testing.assert_allclose((cu * cs) @ cv.T, (tu * ts) @ tv.T, atol=1e-10)


def test_svd_lowrank_with_M_and_errors():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((20, 8))
    M = A.mean(0, keepdims=True)
    ctorch.manual_seed(3)
    u, s, v = ctorch.svd_lowrank(ctorch.tensor(A), q=8, M=ctorch.tensor(M))
    # q = n: exact, the SVD of A - M
    ref = np.linalg.svd(A - M, compute_uv=False)
    np.testing.assert_allclose(s.numpy(), ref, rtol=1e-10)
    np.testing.assert_allclose((u.numpy() * s.numpy()) @ v.numpy().T, A - M, atol=1e-10)
    for lib in (ctorch, torch):
        with pytest.raises(
            ValueError,
            match=r"q\(=9\) must be non-negative integer and not greater than min\(m, n\)=8",
        ):
            lib.pca_lowrank(lib.tensor(A), q=9)
        with pytest.raises(ValueError, match=r"niter\(=-1\) must be non-negative integer"):
            lib.pca_lowrank(lib.tensor(A), niter=-1)


def test_numeric_constants():
    for name in ("inf", "nan", "pi", "e", "newaxis"):
        a, b = getattr(ctorch, name), getattr(torch, name)
        assert a == b or (a != a and b != b), name
