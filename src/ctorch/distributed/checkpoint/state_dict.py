"""``torch.distributed.checkpoint.state_dict``: model and optimizer state dicts in canonical
names (no ``module.`` of DDP, no ``_fsdp_wrapped_module.`` of FSDP1), sharded (DTensors, as
FSDP2 keeps them) or full, and loading them back, for plain modules, DDP, FSDP1 and FSDP2.

FSDP1's flat parameters are not DTensors: its "sharded" state dicts here are full (replicated)
tensors, so ``dcp.save`` writes them once (from rank 0) and loading works on any world size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...nn.modules.module import Module, _IncompatibleKeys

__all__ = [
    "StateDictOptions",
    "get_model_state_dict",
    "get_optimizer_state_dict",
    "get_state_dict",
    "set_model_state_dict",
    "set_optimizer_state_dict",
    "set_state_dict",
]


@dataclass
class StateDictOptions:
    """Options of the state_dict functions (torch's fields and defaults).

    ``full_state_dict``: DTensors become full tensors (collective); ``cpu_offload``: tensors on
    the CPU, and with ``full_state_dict`` only rank 0 gets them (the others an empty dict);
    ``broadcast_from_rank0``: loading takes rank 0's full state dict (the others may pass
    ``{}``); ``ignore_frozen_params``: leave out parameters that do not require grad;
    ``strict``: loading raises on missing or unexpected keys."""

    full_state_dict: bool = False
    cpu_offload: bool = False
    ignore_frozen_params: bool = False
    keep_submodule_prefixes: bool = True
    strict: bool = True
    broadcast_from_rank0: bool = False
    flatten_optimizer_state_dict: bool = False
    dsd_fqn_modifiers: str = "_fqn_modifiers"


def _dist():
    from ... import distributed

    return distributed


def _rank() -> int:
    d = _dist()
    return d.get_rank() if d.is_initialized() else 0


def _is_fsdp1(model: Module) -> bool:
    from ..fsdp import FullyShardedDataParallel

    return any(isinstance(m, FullyShardedDataParallel) for m in model.modules())


def _reshard_fsdp2(model: Module) -> None:
    for m in model.modules():
        st = m.__dict__.get("_fsdp_state")
        if st is not None and st.group is not None and not st.group._pending:
            st.group.reshard()


def _ddp_prefixes(model: Module) -> list[str]:
    out = []
    for name, m in model.named_modules():
        if type(m).__name__ == "DistributedDataParallel":
            out.append(name + "." if name else "")
    return out


def _canon(key: str, prefixes: list[str]) -> str:
    for p in prefixes:
        if key.startswith(p + "module."):
            return p + key[len(p) + len("module.") :]
    return key


def _targets(model: Module) -> dict[str, Tensor]:
    """Canonical name -> the model's own tensor (parameter or persistent buffer)."""
    prefixes = _ddp_prefixes(model)
    return {_canon(k, prefixes): v for k, v in model.state_dict(keep_vars=True).items()}


def _frozen(model: Module) -> set[str]:
    prefixes = _ddp_prefixes(model)
    return {_canon(n, prefixes) for n, p in model.named_parameters() if not p.requires_grad}


def _full(v: Any) -> Any:
    from ..tensor import DTensor

    return v.full_tensor() if isinstance(v, DTensor) else v


def get_model_state_dict(
    model: Module,
    *,
    submodules: set[Module] | None = None,
    options: StateDictOptions | None = None,
) -> dict[str, Any]:
    """The model's state dict in canonical names: DTensors for FSDP2 parameters unless
    ``full_state_dict``."""
    opts = options or StateDictOptions()
    if submodules is not None:
        raise NotImplementedError("get_model_state_dict(submodules=...) is not supported by ctorch")
    if _is_fsdp1(model):
        from ..fsdp import FullStateDictConfig, StateDictType
        from ..fsdp import FullyShardedDataParallel as FSDP

        cfg = FullStateDictConfig(
            offload_to_cpu=opts.cpu_offload,
            rank0_only=opts.cpu_offload and opts.full_state_dict,
        )
        with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, cfg):
            sd = dict(model.state_dict())
        if opts.ignore_frozen_params:
            frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
            sd = {k: v for k, v in sd.items() if k not in frozen}
        return sd
    _reshard_fsdp2(model)
    frozen = _frozen(model) if opts.ignore_frozen_params else set()
    out: dict[str, Any] = {}
    for k, v in _targets(model).items():
        if k in frozen:
            continue
        v = v.detach()
        if opts.full_state_dict:
            v = _full(v)
        out[k] = v
    if opts.full_state_dict and opts.cpu_offload and _rank() != 0:
        return {}
    if opts.cpu_offload:
        out = {k: v.cpu() if isinstance(v, Tensor) else v for k, v in out.items()}
    return out


def _broadcast_obj(obj: Any) -> Any:
    d = _dist()
    if not d.is_initialized() or d.get_world_size() == 1:
        return obj
    box = [obj if d.get_rank() == 0 else None]
    d.broadcast_object_list(box, src=0)
    return box[0]


def _load_into(target: Tensor, value: Any, key: str) -> None:
    """Copy ``value`` (a DTensor, or a full tensor) into ``target`` (its shard if a DTensor)."""
    from ..tensor import DTensor
    from ..tensor._api import _from_full

    if not isinstance(value, Tensor):
        raise TypeError(f"state_dict[{key!r}]: expected a Tensor, got {type(value).__name__}")
    if tuple(value.shape) != tuple(target.shape):
        raise RuntimeError(
            f"Error(s) in loading state_dict: size mismatch for {key}: copying a param with "
            f"shape {tuple(value.shape)}, the shape in current model is {tuple(target.shape)}."
        )
    if isinstance(target, DTensor):
        if isinstance(value, DTensor):
            if value._spec.same_layout(target._spec):
                src = value._a
            else:
                src = value.redistribute(target.device_mesh, target.placements)._a
        else:
            src = _from_full(value._a, target._spec)
    else:
        src = _full(value)._a
    with no_grad():
        if target.is_meta:
            # a model built on the meta device: nothing to copy into, the loaded values
            # become its storage (torch's set_model_state_dict assigns when it finds meta
            # tensors)
            target._a = src.astype(target._a.dtype, copy=True)
        else:
            target._a[...] = src.astype(target._a.dtype, copy=False)
        target._vref[0] += 1


def set_model_state_dict(
    model: Module,
    model_state_dict: dict[str, Any],
    *,
    options: StateDictOptions | None = None,
) -> _IncompatibleKeys:
    """Load ``model_state_dict`` (canonical names; DTensors or full tensors, resharded to this
    model's layout) into ``model``."""
    opts = options or StateDictOptions()
    sd = dict(model_state_dict)
    if opts.broadcast_from_rank0:
        sd = _broadcast_obj(sd if _rank() == 0 else None)
    if _is_fsdp1(model):
        sd = {k: _full(v) for k, v in sd.items()}
        res = model.load_state_dict(sd, strict=opts.strict)
        return res
    _reshard_fsdp2(model)
    targets = _targets(model)
    frozen = _frozen(model) if opts.ignore_frozen_params else set()
    missing = [k for k in targets if k not in sd and k not in frozen]
    unexpected = [k for k in sd if k not in targets]
    if opts.strict and (missing or unexpected):
        parts = []
        if missing:
            parts.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing))
        if unexpected:
            parts.append(
                "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected)
            )
        raise RuntimeError(
            f"Error(s) in loading state_dict for {type(model).__name__}:\n\t" + "\n\t".join(parts)
        )
    for k, v in sd.items():
        if k in targets:
            _load_into(targets[k], v, k)
    return _IncompatibleKeys(missing, unexpected)


# ---------------------------------------------------------------------------- optimizers
def _optims(optimizers: Any) -> list[Any]:
    if isinstance(optimizers, Iterable) and not hasattr(optimizers, "param_groups"):
        return list(optimizers)
    return [optimizers]


def _param_names(model: Module) -> dict[int, str]:
    prefixes = _ddp_prefixes(model)
    out: dict[int, str] = {}
    for n, p in model.named_parameters(remove_duplicate=False):
        out.setdefault(id(p), _canon(n, prefixes))
    return out


def _init_optim_state(optim: Any) -> None:
    """Create the optimizer's state with a zero-gradient, zero-lr step (torch's helper of the
    same name), so that a fresh optimizer has state to load into."""
    from ... import zeros_like
    from ..tensor import DTensor

    if optim.state:
        return
    for g in optim.param_groups:
        for p in g["params"]:
            if p.grad is not None:
                return
    for g in optim.param_groups:
        for p in g["params"]:
            if p.requires_grad:
                if isinstance(p, DTensor):
                    p.grad = DTensor._wrap(zeros_like(p.to_local()), p._spec)
                else:
                    p.grad = zeros_like(p)
    lrs = []
    for g in optim.param_groups:
        if "lr" in g:
            lrs.append(g["lr"])
            g["lr"] = g["lr"] * 0.0 if isinstance(g["lr"], Tensor) else 0.0
    optim.step()
    for g, lr in zip((g for g in optim.param_groups if "lr" in g), lrs, strict=True):
        g["lr"] = lr
    optim.zero_grad(set_to_none=True)


def get_optimizer_state_dict(
    model: Module,
    optimizers: Any,
    *,
    submodules: set[Module] | None = None,
    options: StateDictOptions | None = None,
) -> dict[str, Any]:
    """``{"state": {fqn: {name: value}}, "param_groups": [{..., "params": [fqn, ...]}]}``;
    the state of FSDP2 parameters as DTensors (full tensors with ``full_state_dict``)."""
    from ..tensor import DTensor

    opts = options or StateDictOptions()
    if submodules is not None:
        raise NotImplementedError(
            "get_optimizer_state_dict(submodules=...) is not supported by ctorch"
        )
    optims = _optims(optimizers)
    for o in optims:
        _init_optim_state(o)
    if _is_fsdp1(model):
        from ..fsdp import FullyShardedDataParallel as FSDP

        out: dict[str, Any] = {"state": {}, "param_groups": []}
        for o in optims:
            osd = FSDP.full_optim_state_dict(model, o, rank0_only=False)
            out["state"].update(osd["state"])
            out["param_groups"].extend(osd["param_groups"])
    else:
        names = _param_names(model)
        out = {"state": {}, "param_groups": []}
        for o in optims:
            osd = o.state_dict()
            for g, sg in zip(o.param_groups, osd["param_groups"], strict=True):
                fqns = []
                for j, p in enumerate(g["params"]):
                    fqn = names.get(id(p))
                    if fqn is None:
                        raise RuntimeError(
                            "get_optimizer_state_dict: the optimizer holds a parameter that is "
                            "not in the model"
                        )
                    fqns.append(fqn)
                    st = osd["state"].get(sg["params"][j])
                    if st is None:
                        continue
                    ps = {}
                    for k, v in st.items():
                        if (
                            isinstance(p, DTensor)
                            and isinstance(v, Tensor)
                            and not isinstance(v, DTensor)
                            and v.dim() > 0
                            and tuple(v._a.shape) == tuple(p._a.shape)
                        ):
                            v = DTensor._wrap(v, p._spec)
                        ps[k] = v
                    out["state"][fqn] = ps
                out["param_groups"].append(
                    {**{k: v for k, v in sg.items() if k != "params"}, "params": fqns}
                )
    if opts.full_state_dict:
        out["state"] = {n: {k: _full(v) for k, v in st.items()} for n, st in out["state"].items()}
        if opts.cpu_offload and _rank() != 0:
            return {}
    return out


def set_optimizer_state_dict(
    model: Module,
    optimizers: Any,
    optim_state_dict: dict[str, Any],
    *,
    options: StateDictOptions | None = None,
) -> None:
    """Load a state dict from :func:`get_optimizer_state_dict` (sharded or full, any world
    size) into ``optimizers``."""
    from ..tensor import DTensor
    from ..tensor._api import _from_full

    opts = options or StateDictOptions()
    osd = optim_state_dict
    if opts.broadcast_from_rank0:
        osd = _broadcast_obj(osd if _rank() == 0 else None)
    optims = _optims(optimizers)
    if _is_fsdp1(model):
        from ..fsdp import FullyShardedDataParallel as FSDP

        full = {
            "state": {n: {k: _full(v) for k, v in st.items()} for n, st in osd["state"].items()},
            "param_groups": osd["param_groups"],
        }
        for o in optims:
            o.load_state_dict(FSDP.optim_state_dict_to_load(model, o, full))
        return
    names = _param_names(model)
    saved_groups = list(osd["param_groups"])
    for o in optims:
        new_groups, new_state = [], {}
        idx = 0
        for g in o.param_groups:
            fqns = [names[id(p)] for p in g["params"]]
            match = next((sg for sg in saved_groups if set(sg["params"]) == set(fqns)), None)
            if match is None:
                match = next((sg for sg in saved_groups if set(fqns) & set(sg["params"])), None)
            if match is None:
                raise RuntimeError(
                    "set_optimizer_state_dict: no saved param group holds the parameters "
                    f"{fqns[:3]}..."
                )
            ids = []
            for p, fqn in zip(g["params"], fqns, strict=True):
                ids.append(idx)
                st = osd["state"].get(fqn)
                if st is not None:
                    ps = {}
                    for k, v in st.items():
                        if isinstance(v, DTensor):
                            if isinstance(p, DTensor) and v.dim() > 0:
                                if not v._spec.same_layout(p._spec):
                                    v = v.redistribute(p.device_mesh, p.placements)
                                v = DTensor._wrap(v._a.copy(), p._spec)
                            else:
                                v = v.full_tensor()
                        elif (
                            isinstance(p, DTensor)
                            and isinstance(v, Tensor)
                            and v.dim() > 0
                            and tuple(v.shape) == tuple(p.shape)
                        ):
                            v = DTensor._wrap(_from_full(v._a, p._spec), p._spec)
                        ps[k] = v
                    new_state[idx] = ps
                idx += 1
            new_groups.append({**{k: v for k, v in match.items() if k != "params"}, "params": ids})
        o.load_state_dict({"state": new_state, "param_groups": new_groups})


def get_state_dict(
    model: Module,
    optimizers: Any,
    *,
    submodules: set[Module] | None = None,
    options: StateDictOptions | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(get_model_state_dict(model), get_optimizer_state_dict(model, optimizers))``."""
    return (
        get_model_state_dict(model, submodules=submodules, options=options),
        get_optimizer_state_dict(model, optimizers, submodules=submodules, options=options),
    )


def set_state_dict(
    model: Module,
    optimizers: Any,
    *,
    model_state_dict: dict[str, Any],
    optim_state_dict: dict[str, Any],
    options: StateDictOptions | None = None,
) -> _IncompatibleKeys:
    """Load both; returns the model's missing and unexpected keys."""
    res = set_model_state_dict(model, model_state_dict, options=options)
    if optim_state_dict or (options is not None and options.broadcast_from_rank0):
        set_optimizer_state_dict(model, optimizers, optim_state_dict, options=options)
    return res
