"""Test-suite wide fixtures and markers.

* ``@pytest.mark.cuda`` tests are skipped unless ``ctorch.cuda.is_available()`` is true (any
  failure to import or query the CUDA backend counts as "no GPU").
* every test starts with the default dtype float32 and grad mode on, whatever the previous
  test did.
"""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # tests/helpers.py importable everywhere

import ctorch  # noqa: E402


def _cuda_available() -> bool:
    try:
        from ctorch import cuda
    except Exception:  # the backend may not exist yet, or CuPy may be broken
        return False
    try:
        return bool(cuda.is_available())
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if not any(item.get_closest_marker("cuda") for item in items):
        return
    if _cuda_available():
        return
    skip = pytest.mark.skip(reason="no usable CUDA GPU (ctorch.cuda.is_available() is False)")
    for item in items:
        if item.get_closest_marker("cuda"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _restore_global_state():
    from ctorch.autograd.grad_mode import state

    ctorch.set_default_dtype(ctorch.float32)
    ctorch.set_grad_enabled(True)
    anomaly = (state.anomaly, getattr(state, "anomaly_check_nan", True))
    yield
    ctorch.set_default_dtype(ctorch.float32)
    ctorch.set_grad_enabled(True)
    state.anomaly = anomaly[0]
    if hasattr(state, "anomaly_check_nan"):
        state.anomaly_check_nan = anomaly[1]
