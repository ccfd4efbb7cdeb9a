"""Every compiled kernel module imports.

The CPU backend (``ctorch/_backend.py``) skips a family module that fails to import, so the
ops fall back to NumPy and the tests of their values still pass: a build whose module lost
a symbol (an undefined C function after a rename) would only show up as lost speed.  Here
each ``_core/<name>.pyx`` must import."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "src" / "ctorch" / "_core"
NAMES = sorted(p.stem for p in CORE.glob("*.pyx"))


def test_the_core_has_modules():
    assert {"elementwise", "gemm", "conv", "fft"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_core_module_imports(name):
    importlib.import_module(f"ctorch._core.{name}")
