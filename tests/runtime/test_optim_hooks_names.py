"""Optimizer hook dictionaries carry torch's attribute names: wrapper optimizers that skip
``Optimizer.__init__`` and set them themselves (timm's Lookahead) still step through the hooks."""

from __future__ import annotations

from collections import OrderedDict, defaultdict

import numpy as np

import ctorch
from ctorch.optim import SGD, Optimizer


class Wrapper(Optimizer):
    """Lookahead's pattern: no super().__init__(), torch's hook dicts set by hand."""

    def __init__(self, base):
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self.base = base
        self.param_groups = base.param_groups
        self.defaults = base.defaults
        self.state = defaultdict(dict)
        self.calls = 0

    def step(self, closure=None):
        self.calls += 1
        return self.base.step(closure)


def test_wrapper_without_super_init_steps_and_runs_hooks():
    p = ctorch.nn.Parameter(ctorch.ones(3))
    opt = Wrapper(SGD([p], lr=0.5))
    seen = []
    opt.register_step_pre_hook(lambda o, a, k: seen.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: seen.append("post"))
    p.grad = ctorch.full((3,), 2.0)
    opt.step()
    assert opt.calls == 1 and seen == ["pre", "post"]
    np.testing.assert_allclose(p.detach().numpy(), [0.0, 0.0, 0.0])


def test_hook_dicts_have_torch_names():
    opt = SGD([ctorch.nn.Parameter(ctorch.ones(1))], lr=0.1)
    h = opt.register_step_pre_hook(lambda *a: None)
    assert len(opt._optimizer_step_pre_hooks) == 1
    h.remove()
    assert len(opt._optimizer_step_pre_hooks) == 0
    for name in (
        "_optimizer_step_post_hooks",
        "_optimizer_state_dict_pre_hooks",
        "_optimizer_state_dict_post_hooks",
        "_optimizer_load_state_dict_pre_hooks",
        "_optimizer_load_state_dict_post_hooks",
    ):
        assert isinstance(getattr(opt, name), OrderedDict)
