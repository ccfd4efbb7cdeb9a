"""Warnings ctorch raises point at the user's line (``ctorch/_warnings.py``), whatever the depth
inside ctorch; F.softmax & co. without ``dim`` warn and choose as torch; F.dropout2d/3d on
inputs of unusual rank warn and draw their masks as torch 2.13 does."""

from __future__ import annotations

import inspect
import subprocess
import sys
import warnings

import numpy as np
import pytest

import ctorch
from ctorch import _warnings


def _record(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    return result, caught


def _here(caught, line):
    return [(w.filename, w.lineno) for w in caught] == [(__file__, line)] * len(caught)


def _torch():
    return pytest.importorskip("torch")


# ------------------------------------------------------------------ the helper
def test_helper_skips_every_ctorch_frame():
    fake = compile(
        "def deep(k):\n    return deep(k - 1) if k else warn('deep one', UserWarning)\n",
        _warnings._PKG + "nn/_fake_deep.py",  # looks like ctorch's own code
        "exec",
    )
    ns = {"warn": _warnings.warn}
    exec(fake, ns)
    _, caught = _record(lambda: ns["deep"](5))  # six ctorch-looking frames deep
    assert len(caught) == 1 and caught[0].filename == __file__
    assert caught[0].lineno == inspect.currentframe().f_lineno - 2


# ------------------------------------------------------------------ converted call sites
def _line_of(fn) -> int:
    """The line of the ``lambda`` body below each case: where the warning must point."""
    return fn.__code__.co_firstlineno


CASES = {
    "mse_loss size mismatch": lambda t: t.nn.functional.mse_loss(t.ones(3, 1), t.ones(3)),
    "legacy size_average": lambda t: t.nn.MSELoss(size_average=False),
    "init on zero elements": lambda t: t.nn.init.kaiming_uniform_(t.empty(0, 3)),
    "var with dof <= 0": lambda t: t.ones(1).var(),
    "std_mean with dof <= 0": lambda t: t.std_mean(t.ones(2, 1), 0, correction=2),
    "kl_div mean": lambda t: t.nn.functional.kl_div(t.zeros(2, 2), t.ones(2, 2) / 2),
    "dropout2d 2-D": lambda t: t.nn.functional.dropout2d(t.ones(2, 2), 0.5, False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_converted_warnings_point_at_the_caller(name):
    fn = CASES[name]
    _, caught = _record(lambda: fn(ctorch))
    assert caught and _here(caught, _line_of(fn)), [(w.filename, w.lineno) for w in caught]
    torch = _torch()
    _, theirs = _record(lambda: fn(torch))

    def texts(ws):
        return [
            str(w.message).split(" (Triggered internally at ")[0].replace("ctorch.", "torch.")
            for w in ws
        ]

    assert texts(caught) == texts(theirs)
    assert [w.category for w in caught] == [w.category for w in theirs]


def test_warning_inside_a_module_points_at_the_user_forward():
    class Net(ctorch.nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = ctorch.nn.Dropout2d(0.5)

        def forward(self, x):
            return self.drop(x)  # <- the warning's line

    net = Net().eval()
    _, caught = _record(lambda: net(ctorch.ones(2, 3)))
    line = Net.forward.__code__.co_firstlineno + 1
    assert len(caught) == 1 and _here(caught, line)


# ------------------------------------------------------------------ implicit softmax dim
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("ndim", [0, 1, 2, 3, 4])
def test_implicit_softmax_dim(name, ndim):
    shape = (2, 3, 4, 5)[:ndim]
    data = np.random.default_rng(ndim).standard_normal(shape)
    fn = getattr(ctorch.nn.functional, name)
    ours, caught = _record(lambda: fn(ctorch.tensor(data)))
    line = inspect.currentframe().f_lineno - 1
    assert len(caught) == 1 and _here(caught, line)
    assert str(caught[0].message) == (
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument."
    )
    expected_dim = 0 if ndim in (0, 1, 3) else 1
    np.testing.assert_allclose(ours.numpy(), fn(ctorch.tensor(data), expected_dim).numpy())
    torch = _torch()
    theirs, tw = _record(lambda: getattr(torch.nn.functional, name)(torch.tensor(data)))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert [str(w.message) for w in tw] == [str(caught[0].message)]


def test_softmax_module_without_dim():
    x = ctorch.tensor(np.arange(6.0).reshape(2, 3))
    y, caught = _record(lambda: ctorch.nn.Softmax()(x))
    assert len(caught) == 1 and "Implicit dimension choice for softmax" in str(caught[0].message)
    np.testing.assert_allclose(y.sum(1).numpy(), [1.0, 1.0])


def test_explicit_dim_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ctorch.nn.functional.softmax(ctorch.ones(2, 3), dim=-1)
        ctorch.nn.functional.log_softmax(ctorch.ones(2, 3), 1)


# ------------------------------------------------------------------ dropout2d / dropout3d
def _varying_axes(y: np.ndarray) -> list[int]:
    """The axes along which the output of dropout on ones changes somewhere."""
    return [ax for ax in range(y.ndim) if y.shape[ax] > 1 and np.ptp(y, axis=ax).any()]


RANKS = [(), (8,), (8, 7), (8, 7, 4), (8, 7, 4, 3), (8, 7, 2, 2, 3), (8, 6, 2, 2, 2, 2)]


@pytest.mark.parametrize("name", ["dropout2d", "dropout3d"])
@pytest.mark.parametrize("shape", RANKS, ids=lambda s: f"{len(s)}d")
def test_dropout_nd_any_rank(name, shape):
    def outcome(lib, training):
        lib.manual_seed(0)
        f = getattr(lib.nn.functional, name)
        try:
            y, caught = _record(lambda: f(lib.ones(shape, dtype=lib.float64), 0.5, training))
        except RuntimeError as e:
            return ("raises", str(e)), None
        arr = y.numpy()
        values = sorted(set(np.unique(arr).tolist()))
        return (arr.shape, values, _varying_axes(arr)), [str(w.message) for w in caught]

    ours = [outcome(ctorch, tr) for tr in (True, False)]
    if len(shape) < (2 if name == "dropout2d" else 1):  # feature dropout needs 2 dims
        assert ours[0][0] == (
            "raises",
            "Feature dropout requires at least 2 dimensions in the input",
        )
    else:
        assert ours[0][0][1] == [0.0, 2.0]  # enough draws that both appear
    assert ours[1][0][1:] == ([1.0], [])  # eval: the input back
    torch = _torch()
    assert ours == [outcome(torch, tr) for tr in (True, False)]


def test_dropout_p_checked_before_the_rank_warning():
    for f in (ctorch.nn.functional.dropout2d, ctorch.nn.functional.dropout3d):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match="between 0 and 1"):
                f(ctorch.ones(4, 6), 2.0)


# ------------------------------------------------------------------ ctorch.run and ImportWarning
def test_run_alias_keeps_ctorch_specs(tmp_path):
    """torch.X is ctorch.X: importing it under the torch name must not leave a torch-named
    ``__spec__`` behind (relative imports inside ctorch functions then raise ImportWarning)."""
    script = tmp_path / "strict.py"
    script.write_text(
        "import warnings\n"
        "warnings.simplefilter('error')\n"
        "import torch\n"
        "from torch.autograd import Variable\n"
        "x = Variable(torch.ones(2), requires_grad=True)\n"
        "(x * 2).sum().backward()\n"
        "print(x.grad.tolist(), torch.autograd.__spec__.name)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "ctorch.run", str(script)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[2.0,", "2.0]", "ctorch.autograd"]
