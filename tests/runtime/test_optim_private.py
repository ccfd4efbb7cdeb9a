"""torch.optim.optimizer's type alias and private helpers that optimizer code imports, and
torch._assert."""

from __future__ import annotations

import pytest

import ctorch
from ctorch.optim.optimizer import (
    Optimizer,
    ParamsT,
    _default_to_fused_or_foreach,
    _get_capturable_supported_devices,
    _params_t,
    _use_grad_for_differentiable,
)


class _Probe(Optimizer):
    def __init__(self, params, differentiable=False):
        super().__init__(params, {"differentiable": differentiable})
        self.seen = []

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """step doc"""
        self.seen.append(ctorch.is_grad_enabled())
        return 7


def test_use_grad_for_differentiable_sets_grad_mode():
    p = ctorch.nn.Parameter(ctorch.ones(2))
    opt = _Probe([p])
    assert opt.step() == 7 and opt.seen == [False]
    assert ctorch.is_grad_enabled()
    opt = _Probe([p], differentiable=True)
    with ctorch.no_grad():
        opt.step()
        assert not ctorch.is_grad_enabled()  # restored after the step
    assert opt.seen == [True]
    assert _Probe.step.__doc__ == "step doc"


def test_private_helpers_answer_like_torch_on_cpu():
    torch = pytest.importorskip("torch")
    from torch.optim import optimizer as topt

    ps = [ctorch.ones(2)]
    assert _default_to_fused_or_foreach(ps, False) == (False, False)
    assert _default_to_fused_or_foreach(ps, False) == topt._default_to_fused_or_foreach(
        [torch.ones(2)], False
    )
    assert set(_get_capturable_supported_devices(False)) <= set(
        topt._get_capturable_supported_devices(False)
    ) | {"hpu"}
    assert (
        "xla" in _get_capturable_supported_devices()
        and "cuda" in _get_capturable_supported_devices()
    )
    assert ParamsT is _params_t


def test_torch_assert():
    ctorch._assert(True, "never")
    ctorch._assert(ctorch.tensor(1.0) > 0, "never")
    with pytest.raises(AssertionError, match="shape mismatch"):
        ctorch._assert(False, "shape mismatch")
    with pytest.raises(AssertionError, match="zero"):
        ctorch._assert(ctorch.tensor(0.0) > 0, "zero")
