"""What real programs print and parse (session 20): ``torch.iinfo`` is torch's class (its repr,
``bits``/``min``/``max``/``dtype``, its errors), and the package name in the reprs of dtypes,
``Size``, layouts, memory formats and ``return_types`` follows ``ctorch._display`` (``ctorch.``
normally, ``torch.`` under ``python -m ctorch.run``, where tests/run compares whole outputs)."""

from __future__ import annotations

import pytest

import ctorch
from ctorch import _display

try:
    import torch
except ImportError:  # pragma: no cover - the parity half needs torch
    torch = None

INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", INTS)
def test_iinfo_matches_torch(name):
    ii = ctorch.iinfo(getattr(ctorch, name))
    expected = {"uint8": (8, 0, 255), "int8": (8, -128, 127), "int16": (16, -(2**15), 2**15 - 1)}
    expected.update(int32=(32, -(2**31), 2**31 - 1), int64=(64, -(2**63), 2**63 - 1))
    assert (ii.bits, ii.min, ii.max, ii.dtype) == (*expected[name], name)
    assert repr(ii) == f"iinfo(min={ii.min:g}, max={ii.max:g}, dtype={name})"
    assert ii == ctorch.iinfo(getattr(ctorch, name))
    assert (ii != ctorch.iinfo(ctorch.int8)) == (name != "int8")
    if torch is not None:
        t = torch.iinfo(getattr(torch, name))
        assert (repr(ii), ii.bits, ii.min, ii.max, ii.dtype) == (
            repr(t),
            t.bits,
            t.min,
            t.max,
            t.dtype,
        )


@pytest.mark.parametrize(
    "arg, match",
    [
        ("bool", "bool is not supported by torch.iinfo"),
        ("float32", "requires an integer input type"),
    ],
)
def test_iinfo_refuses_like_torch(arg, match):
    with pytest.raises(TypeError, match=match):
        ctorch.iinfo(getattr(ctorch, arg))
    if torch is not None:
        with pytest.raises(TypeError, match=match):
            torch.iinfo(getattr(torch, arg))


def test_display_prefix_switches_every_repr():
    old = _display.set_prefix("torch.")
    try:
        got = [
            repr(ctorch.float16),
            str(ctorch.Size([2, 3])),
            repr(ctorch.strided),
            repr(ctorch.channels_last),
            repr(ctorch.zeros(2, dtype=ctorch.int8)),
            repr(ctorch.ones(1, 1).max(1)).splitlines()[0],
        ]
    finally:
        _display.set_prefix(old)
    assert got == [
        "torch.float16",
        "torch.Size([2, 3])",
        "torch.strided",
        "torch.channels_last",
        "tensor([0, 0], dtype=torch.int8)",
        "torch.return_types.max(",
    ]
    assert repr(ctorch.float16) == "ctorch.float16" and str(ctorch.Size([1])) == "ctorch.Size([1])"


def test_run_aliases_set_and_restore_the_prefix():
    from ctorch import run

    run.install_aliases()
    try:
        assert repr(ctorch.float32) == "torch.float32"
    finally:
        run.uninstall_aliases()
    assert repr(ctorch.float32) == "ctorch.float32"
