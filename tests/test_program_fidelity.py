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


def _format_cases(lib):
    w = lib.tensor([[1.5], [-2.25]])
    got = [
        "{:+.2f} x^{}".format(w.view(-1)[0], 1),  # noqa: UP032 (the program did)
        f"{lib.tensor(3):04d}",
        f"{w.view(-1)[1]:.3e}",
    ]
    got.append(format(lib.tensor([1, 2]), "") == str(lib.tensor([1, 2])))
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        f"{w:.2f}"
    return got


def test_tensor_format_specs_like_torch():
    assert _format_cases(ctorch) == ["+1.50 x^1", "0003", "-2.250e+00", True]
    if torch is not None:
        assert _format_cases(torch) == _format_cases(ctorch)


@pytest.mark.parametrize(
    "shape, dims", [((3,), ()), ((2, 3), (1,)), ((2, 3), (1, 1)), ((2, 3), (-1, -1))]
)
def test_flatten_of_one_dim_returns_the_tensor_itself(shape, dims):
    for lib in (ctorch, torch) if torch is not None else (ctorch,):
        x = lib.ones(*shape, requires_grad=True)
        assert x.flatten(*dims) is x and lib.flatten(x, *dims) is x
    y = ctorch.ones(2, 3, requires_grad=True) * 1
    assert y.flatten().grad_fn.name() == "ViewBackward0" and ctorch.ones(()).flatten().shape == (1,)


def test_accumulate_grad_repr_like_torch():
    x = ctorch.ones(2, requires_grad=True)
    node = (x * 2).grad_fn.next_functions[0][0]
    assert repr(node).startswith("<AccumulateGrad object at 0x")
    assert node.name() == "torch::autograd::AccumulateGrad"
    if torch is not None:
        t = (torch.ones(2, requires_grad=True) * 2).grad_fn.next_functions[0][0]
        assert repr(t).startswith("<AccumulateGrad object at 0x")
        assert t.name() == node.name()
