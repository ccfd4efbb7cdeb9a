"""torch._C: the TorchScript fuser switches programs flip at start-up, and absent names stay
absent (so ``getattr(torch._C, name, None)`` probes answer None)."""

from __future__ import annotations

import pytest

import ctorch


def _switch_calls(C):
    """The calls timm's set_jit_fuser and benchmark scripts make, with what each returns."""
    out = [
        C._jit_set_profiling_mode(False),
        C._jit_set_profiling_executor(False),
        C._jit_set_profiling_mode(True),
        C._jit_set_profiling_executor(True),
        C._jit_override_can_fuse_on_cpu(True),
        C._jit_override_can_fuse_on_gpu(False),
        C._jit_set_texpr_fuser_enabled(False),
        C._jit_set_nvfuser_enabled(False),
        C._get_tracing_state(),
        C._jit_texpr_fuser_enabled(),
        C._jit_can_fuse_on_cpu(),
    ]
    C._jit_override_can_fuse_on_cpu(False)
    C._jit_override_can_fuse_on_gpu(True)
    C._jit_set_texpr_fuser_enabled(True)
    return out


def test_jit_switches_record_and_answer():
    C = ctorch._C
    got = _switch_calls(C)
    assert got[:4] == [True, True, False, False]
    assert got[8] is None and got[9] is False and got[10] is True
    assert C._jit_texpr_fuser_enabled() is True  # restored


def test_jit_switches_match_torch():
    torch = pytest.importorskip("torch")
    assert _switch_calls(ctorch._C) == _switch_calls(torch._C)


def test_absent_names_stay_absent():
    C = ctorch._C
    assert getattr(C, "_CudaDeviceProperties", None) is None
    assert not hasattr(C, "_no_such_thing")


def test_grad_mode_and_cudnn_switches():
    C = ctorch._C
    C._set_grad_enabled(False)
    try:
        assert not ctorch.is_grad_enabled() and not C.is_grad_enabled()
    finally:
        C._set_grad_enabled(True)
    assert ctorch.is_grad_enabled()
    assert C._get_cudnn_enabled() is True
    C._set_cudnn_enabled(False)
    try:
        assert ctorch.backends.cudnn.enabled is False
    finally:
        C._set_cudnn_enabled(True)
