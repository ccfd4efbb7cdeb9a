"""Optimizer base: param_groups, per-parameter state, zero_grad, step(closure),
state_dict/load_state_dict in torch's format (so torch optimizer state dicts load)."""

from __future__ import annotations

import copy
import functools
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

import numpy as np

from .._backend import kernels_for
from .._tensor import Tensor

__all__ = [
    "Optimizer",
    "required",
    "register_optimizer_step_pre_hook",
    "register_optimizer_step_post_hook",
]


class _Handle:
    """Removes a hook from the dict it was registered in (``torch.utils.hooks.RemovableHandle``)."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        self.id = _Handle._next_id
        _Handle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> _Handle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _add_hook(hooks: OrderedDict, hook: Callable, prepend: bool = False) -> _Handle:
    h = _Handle(hooks)
    hooks[h.id] = hook
    if prepend:
        hooks.move_to_end(h.id, last=False)
    return h


_global_step_pre_hooks: OrderedDict = OrderedDict()
_global_step_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> _Handle:
    """``hook(optimizer, args, kwargs) -> None | (args, kwargs)`` before every optimizer step."""
    return _add_hook(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> _Handle:
    """``hook(optimizer, args, kwargs)`` after every optimizer step."""
    return _add_hook(_global_step_post_hooks, hook)


def _refuse_sparse_grads(opt: Any) -> None:
    """torch's error for an optimizer without a sparse-gradient path (#13)."""
    for group in opt.param_groups:
        for p in group["params"]:
            g = p._grad
            if g is not None and (g.is_sparse or g.is_sparse_csr):
                name = type(opt).__name__
                if name in ("Adam", "AdamW"):
                    raise RuntimeError(
                        "Adam does not support sparse gradients, please consider SparseAdam instead"
                    )
                raise RuntimeError(f"{name} does not support sparse gradients")


def _hooked_step(step: Callable) -> Callable:
    """Wrap a subclass's ``step`` so the step pre/post hooks run once around the outermost call
    (a subclass step that calls ``super().step()`` does not run them twice)."""

    @functools.wraps(step)
    def wrapper(self, *args: Any, **kwargs: Any) -> Any:
        if self.__dict__.get("_in_step"):
            return step(self, *args, **kwargs)
        for hook in chain(_global_step_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            r = hook(self, args, kwargs)
            if r is not None:
                if not (isinstance(r, tuple) and len(r) == 2):
                    raise RuntimeError(
                        f"{hook} must return None or a tuple of (new_args, new_kwargs), "
                        f"but got {r}."
                    )
                args, kwargs = r
        if not self._sparse_grads_ok:
            _refuse_sparse_grads(self)
        self.__dict__["_in_step"] = True
        try:
            out = step(self, *args, **kwargs)
        finally:
            self.__dict__["_in_step"] = False
        for hook in chain(
            self._optimizer_step_post_hooks.values(), _global_step_post_hooks.values()
        ):
            hook(self, args, kwargs)
        return out

    wrapper._hooked = True
    return wrapper


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def _dtensor_state(p: Any, st: Any) -> Any:
    """A DTensor parameter's (FSDP2's) state tensors as DTensors of its layout, as torch's
    ``state_dict`` has them (ctorch's optimizers keep the local arrays; these share them)."""
    spec = p.__dict__.get("_spec")
    if spec is None or not isinstance(st, dict):
        return st
    from ..distributed.tensor._api import DTensor

    out = {}
    for k, v in st.items():
        if (
            isinstance(v, Tensor)
            and not isinstance(v, DTensor)
            and v._a.ndim > 0
            and v._a.shape == p._a.shape
        ):
            v = DTensor._wrap(v, spec)
        out[k] = v
    return out


class Optimizer:
    """Base class of all optimizers (``torch.optim.Optimizer``)."""

    # False on the built-in optimizers with no sparse-gradient path (see optim/__init__.py)
    _sparse_grads_ok = True

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        self.state: dict = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._init_hooks()
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}"
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for g in param_groups:
            self.add_param_group(g)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._init_hooks()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _hooked_step(step)

    def _init_hooks(self) -> None:
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += "\n"
            s += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        s += ")"
        return s

    def add_param_group(self, param_group: dict) -> None:
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)
        for p in param_group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            param_group.setdefault(name, default)
        ids = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in ids for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is not None:
                    if set_to_none:
                        p._grad = None
                    else:
                        g = p._grad
                        if g.grad_fn is not None:
                            p._grad = g.detach()
                        p._grad.requires_grad_(False)
                        p._grad.zero_()

    def step(self, closure=None):
        raise NotImplementedError

    def _run_closure(self, closure):
        if closure is None:
            return None
        from ..autograd.grad_mode import enable_grad

        with enable_grad():
            return closure()

    # ---------------------------------------------------------------- hooks
    def register_step_pre_hook(self, hook: Callable) -> _Handle:
        """``hook(optimizer, args, kwargs) -> None | (new_args, new_kwargs)`` before ``step``."""
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> _Handle:
        """``hook(optimizer, args, kwargs)`` after ``step``."""
        return _add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> _Handle:
        """``hook(optimizer)`` before ``state_dict`` builds the dict."""
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> _Handle:
        """``hook(optimizer, state_dict) -> None | state_dict`` after ``state_dict``."""
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> _Handle:
        """``hook(optimizer, state_dict) -> None | state_dict`` before ``load_state_dict``."""
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> _Handle:
        """``hook(optimizer)`` after ``load_state_dict``."""
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ---------------------------------------------------------------- state dicts
    def state_dict(self) -> dict:
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index = {}
        start = 0

        def pack_group(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {
            index[id(k)]: _dtensor_state(k, v) for k, v in self.state.items() if id(k) in index
        }
        sd = {"state": packed_state, "param_groups": param_groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            r = hook(self, sd)
            if r is not None:
                sd = r
        return sd

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = copy.copy(state_dict)
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            r = hook(self, state_dict)
            if r is not None:
                state_dict = r
        state_dict = copy.deepcopy(state_dict)
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for g, sg in zip(groups, saved_groups, strict=False):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of "
                    "optimizer's group"
                )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
                strict=False,
            )
        )

        def cast(param, value, key=None):
            if key == "step" and isinstance(value, (int, float)):
                # older torch state dicts keep 'step' as a Python number; torch's __setstate__
                # turns it into a 0-d float32 tensor, as the step functions expect
                return Tensor._make(np.asarray(float(value), np.float32))
            if isinstance(value, Tensor):
                if key == "step":
                    return value.to("cpu") if value.is_cuda else value
                if param.is_floating_point():
                    value = value.to(dtype=param.dtype, device=param.device)
                else:
                    value = value.to(device=param.device)
                return value if value._a.flags.c_contiguous else value.contiguous()
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                p = id_map[k]
                state[p] = cast(p, v)
            else:
                state[k] = v
        new_groups = []
        for g, sg in zip(groups, saved_groups, strict=False):
            ng = dict(sg)
            ng["params"] = g["params"]
            new_groups.append(ng)
        self.state = state
        self.param_groups = new_groups
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)


def get_state_step(state: dict) -> float:
    """Increment and return the 'step' counter (kept as a 0-d float32 tensor like torch)."""
    st = state.get("step")
    if st is None:
        st = state["step"] = Tensor._make(np.zeros((), np.float32))
    elif not isinstance(st, Tensor):  # a Python number set by hand
        st = state["step"] = Tensor._make(np.asarray(float(st), np.float32))
    st._a[...] = st._a + 1  # in place: a shared-memory counter (A3C's SharedAdam) stays shared
    return float(st._a.reshape(-1)[0])  # torch takes any singleton tensor, e.g. zeros(1)


def grads_of(group) -> Iterable:
    for p in group["params"]:
        g = p._grad
        if g is None:
            continue
        yield p, g


def kernel_ok(p: Tensor, name: str, fused) -> bool:
    a = p._a
    if fused is False or a.dtype not in (np.float32, np.float64) or not a.flags.c_contiguous:
        return False
    return kernels_for(a).has(name)


# --- torch.optim.optimizer's type alias and private helpers that optimizer code imports ---

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]
_params_t = ParamsT


def _get_capturable_supported_devices(supports_xla: bool = True) -> list[str]:
    """Device types where torch's ``capturable=True`` optimizers may keep their step count."""
    devices = ["cuda", "xpu", "hpu"]
    return [*devices, "xla"] if supports_xla else devices


def _default_to_fused_or_foreach(
    params: list, differentiable: bool, use_fused: bool = False
) -> tuple[bool, bool]:
    """torch's choice of implementation, as ``(fused, foreach)``. ctorch's optimizers pick their
    own kernels, so code asking this gets the plain per-tensor path (False, False), as torch
    answers for CPU tensors."""
    return False, False


def _use_grad_for_differentiable(func: Callable) -> Callable:
    """Run an optimizer's ``step`` without autograd unless the optimizer was built with
    ``differentiable=True`` (torch's decorator for ``step``)."""
    from ..autograd.grad_mode import set_grad_enabled

    @functools.wraps(func)
    def _use_grad(self, *args: Any, **kwargs: Any) -> Any:
        with set_grad_enabled(bool(self.defaults.get("differentiable", False))):
            return func(self, *args, **kwargs)

    return _use_grad
