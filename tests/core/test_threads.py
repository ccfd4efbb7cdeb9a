"""Thread policy: one count for ctorch's OpenMP kernels and NumPy's OpenBLAS, and passive
OpenMP waiting set only around the runtime's first load (docs/kernels.md, "Threads")."""

import os
import subprocess
import sys

import ctorch
from ctorch import _blas_threads


def test_set_num_threads_sets_openmp_and_blas():
    old = ctorch.get_num_threads()
    old_blas = _blas_threads.get_blas_threads()
    try:
        for n in (1, 2):
            ctorch.set_num_threads(n)
            assert ctorch.get_num_threads() == n
            if old_blas is not None:  # NumPy without OpenBLAS: only OpenMP is governed
                assert _blas_threads.get_blas_threads() == n
    finally:
        ctorch.set_num_threads(old)
        if old_blas is not None:
            _blas_threads.set_blas_threads(old_blas)


def test_blas_helper_returns_previous_count():
    before = _blas_threads.get_blas_threads()
    prev = _blas_threads.set_blas_threads(1)
    try:
        assert prev == before
    finally:
        if before is not None:
            _blas_threads.set_blas_threads(before)


def _env_after_import(extra_env):
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(extra_env)
    code = (
        "import os, ctorch; "
        "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


def test_wait_policy_is_not_left_in_the_environment():
    # set only around the OpenMP runtime's load, so later OpenMP libraries and child
    # processes see the user's environment
    assert _env_after_import({}) == ["None", "None"]


def test_user_wait_policy_is_kept():
    assert _env_after_import({"OMP_WAIT_POLICY": "ACTIVE"}) == ["ACTIVE", "None"]
    assert _env_after_import({"GOMP_SPINCOUNT": "1000"}) == ["None", "1000"]
