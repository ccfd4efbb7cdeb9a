"""FSDP2: ``fully_shard`` (torch 2.x's per-parameter-sharding FSDP) over ctorch's collectives.

How it works (torch's ``FSDPParamGroup`` design, in Python):

* ``fully_shard(module)`` makes one *group* of the parameters of ``module`` not already owned by
  an earlier ``fully_shard`` call on a submodule (call it bottom-up: per block, then the root).
  Each parameter is replaced on its module by a DTensor parameter with placement ``Shard(0)``
  (``(Replicate(), Shard(0))`` on a 2-D mesh: HSDP) holding this rank's rows by torch.chunk's
  rule, so ``model.parameters()`` are DTensors and an optimizer steps on the local shards.
  ``module``'s class becomes the dynamic ``FSDP<Name>`` (``FSDPModule`` mixed in).
* A forward pre-hook all-gathers the group (one collective for all its parameters, each padded
  to ``ceil(dim0 / world)`` rows per rank) and registers the unsharded parameters (plain leaf
  Parameters, in ``mp_policy.param_dtype``) on the modules; the forward hook puts the sharded
  ones back when ``reshard_after_forward`` (the root keeps them until after backward, as torch).
* A post-accumulate-grad hook on the unsharded parameters notices when the group's gradients are
  complete and reduce-scatters them (one collective, averaged; in ``reduce_dtype``; then an
  all-reduce over the replicate dimension for HSDP) into the sharded parameters' ``.grad``
  (DTensors), accumulating as torch does. A final callback of the root's backward reduces the
  groups whose gradients were incomplete (parameters unused in forward get no gradient, as
  torch) and reshards everything (``reshard_after_backward``).

Emulated rather than done as torch: the unsharded parameters are not re-all-gathered in
backward; the autograd graph that forward recorded keeps them alive until backward has used them
(so ``reshard_after_forward`` changes what the module has registered, not the peak memory).
Collectives are synchronous: no prefetching or overlap (the prefetch settings are recorded and
ignored), ``CPUOffloadPolicy`` is accepted and is a no-op for CPU modules.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._tensor import Tensor
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...nn.modules.module import Module
from ...nn.parameter import Parameter

__all__ = [
    "CPUOffloadPolicy",
    "DataParallelMeshDims",
    "FSDPModule",
    "MixedPrecisionPolicy",
    "OffloadPolicy",
    "UnshardHandle",
    "fully_shard",
    "register_fsdp_forward_method",
    "share_comm_ctx",
]


@dataclass(frozen=True)
class MixedPrecisionPolicy:
    """``param_dtype``: the unsharded parameters' (compute and all-gather) dtype;
    ``reduce_dtype``: the gradient reduction's (``param_dtype`` when None); ``output_dtype``:
    floating outputs are cast to it; ``cast_forward_inputs``: floating inputs are cast to
    ``param_dtype``."""

    param_dtype: Any = None
    reduce_dtype: Any = None
    output_dtype: Any = None
    cast_forward_inputs: bool = True


@dataclass
class DataParallelMeshDims:
    """Which dimensions of an SPMD mesh are data parallel (torch 2.13's ``fully_shard``
    ``dp_mesh_dims``); accepted as a value, not supported by ctorch's ``fully_shard``."""

    shard: str | tuple[str, ...] | None = None
    replicate: str | tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.shard is None and self.replicate is None:
            raise ValueError(
                "At least one of shard or replicate must be set in DataParallelMeshDims"
            )


@dataclass
class OffloadPolicy:
    """No offloading (the default)."""


@dataclass
class CPUOffloadPolicy(OffloadPolicy):
    """Keep sharded parameters and gradients on the CPU: ctorch's CPU modules already are, so
    this is accepted and changes nothing (GPU modules are not offloaded)."""

    pin_memory: bool = True


def _xp(a: Any) -> Any:
    if type(a) is np.ndarray:
        return np
    from ..._backend import xp_of  # CuPy, or the meta device's namespace (a model built on meta)

    return xp_of(a)


def _np_dtype(dt: Any) -> Any:
    from ..._dtype import to_numpy_dtype

    return to_numpy_dtype(dt)


class _FSDPParam:
    """One parameter: its sharded DTensor, the unsharded leaf while it exists."""

    def __init__(self, group: _ParamGroup, module: Module, name: str, param: Parameter) -> None:
        from ..tensor._api import _DTensorParameter, _Spec
        from ..tensor.placement_types import Replicate, Shard

        self.module = module
        self.name = name
        self.aliases: list[tuple[Module, str]] = []
        self.shape = tuple(int(s) for s in param.shape)
        if not self.shape:
            raise NotImplementedError(
                f"fully_shard: parameter {name!r} is 0-dimensional; ctorch's fully_shard shards "
                "on dim 0 and cannot shard a scalar (pass it in ignored_params)"
            )
        world, rank = group.world, group.rank
        d0 = self.shape[0]
        self.rows = -(-d0 // world) if d0 else 0  # padded rows per rank
        start, end = min(rank * self.rows, d0), min((rank + 1) * self.rows, d0)
        self.local_rows = end - start
        self.inner = int(math.prod(self.shape[1:]))  # elements per row
        xp = _xp(param._a)
        local = xp.ascontiguousarray(param._a[start:end]).copy()
        pls = (Replicate(), Shard(0)) if group.mesh.ndim == 2 else (Shard(0),)
        spec = _Spec(group.mesh, pls, self.shape)
        self.spec = spec
        self.sharded = _DTensorParameter._wrap(local, spec, requires_grad=param.requires_grad)
        if param.__dict__:
            for k, v in param.__dict__.items():
                self.sharded.__dict__.setdefault(k, v)
        self.unsharded: Parameter | None = None
        self.acc_grad: Tensor | None = None  # no-sync accumulated unsharded gradient

    @property
    def requires_grad(self) -> bool:
        return bool(self.sharded.requires_grad)

    @property
    def dtype(self) -> Any:
        """The sharded parameter's (NumPy) dtype: ``module.double()`` and the like change it."""
        return self.sharded._a.dtype

    def adopt(self) -> None:
        """Take over a parameter assigned to the module since (``load_state_dict(...,
        assign=True)``, or a plain assignment): a DTensor of this layout as it is, another
        layout redistributed, a full tensor sliced to this rank's rows."""
        from ..tensor._api import DTensor, _DTensorParameter, _from_full

        cur = self.module._parameters.get(self.name)
        if cur is None or cur is self.sharded or cur is self.unsharded:
            return
        if isinstance(cur, DTensor):
            if not cur._spec.same_layout(self.spec):
                cur = cur.redistribute(self.spec.mesh, self.spec.placements)
            new = cur if isinstance(cur, _DTensorParameter) else None
            if new is None:
                new = _DTensorParameter._wrap(cur, self.spec, requires_grad=cur.requires_grad)
        else:
            if tuple(cur.shape) != self.shape:
                raise RuntimeError(
                    f"fully_shard: parameter {self.name!r} was replaced by a tensor of shape "
                    f"{tuple(cur.shape)}, expected {self.shape}"
                )
            local = _from_full(cur._a, self.spec)
            new = _DTensorParameter._wrap(local, self.spec, requires_grad=cur.requires_grad)
        self.sharded = new
        self.register(new)

    def register(self, value: Tensor) -> None:
        self.module._parameters[self.name] = value
        for m, n in self.aliases:
            m._parameters[n] = value


class _ParamGroup:
    """The parameters one ``fully_shard`` call manages: one all-gather, one reduce-scatter."""

    def __init__(self, state: _FSDPState, params: list[tuple[Module, str, Parameter]]) -> None:
        mesh = state.mesh
        self.state = state
        self.mesh = mesh
        self.shard_group = mesh.get_group(mesh.ndim - 1)
        self.rep_group = mesh.get_group(0) if mesh.ndim == 2 else None
        self.world = mesh.size(mesh.ndim - 1)
        self.rank = mesh.get_local_rank(mesh.ndim - 1)
        self.rep_world = mesh.size(0) if mesh.ndim == 2 else 1
        self.params: list[_FSDPParam] = []
        by_id: dict[int, _FSDPParam] = {}
        for m, n, p in params:
            if id(p) in by_id:
                by_id[id(p)].aliases.append((m, n))
                continue
            fp = _FSDPParam(self, m, n, p)
            by_id[id(p)] = fp
            self.params.append(fp)
        self.is_unsharded = False
        self._ready: set[int] = set()
        self._pending = False  # unsharded with grad enabled, gradients not yet reduced
        for fp in self.params:
            fp.register(fp.sharded)

    # ------------------------------------------------------------------ all-gather
    def adopt(self) -> None:
        if not self.is_unsharded:
            for fp in self.params:
                fp.adopt()

    def unshard(self, forward: bool = False) -> None:
        """All-gather; ``forward``: for a module's forward, whose backward (when grad mode is
        on) will bring gradients."""
        self.adopt()
        track = forward and is_grad_enabled() and any(fp.requires_grad for fp in self.params)
        if self.is_unsharded or not self.params:
            self.is_unsharded = True
            self._pending = self._pending or track
            return
        from ... import distributed as dist

        mp = self.state.mp_policy
        cdt = _np_dtype(mp.param_dtype) if mp.param_dtype is not None else None
        dtypes = {cdt or fp.dtype for fp in self.params}
        # one collective per dtype present (normally one)
        for dt in dtypes:
            fps = [fp for fp in self.params if (cdt or fp.dtype) == dt]
            sizes = [fp.rows * fp.inner for fp in fps]
            total = sum(sizes)
            xp = _xp(fps[0].sharded._a)
            inp = xp.zeros(total, dtype=dt)  # each shard padded to its ``rows`` rows
            off = 0
            for fp, n in zip(fps, sizes, strict=True):
                a = fp.sharded._a
                inp[off : off + a.size] = a.reshape(-1)
                off += n
            out = xp.empty((self.world, total), dtype=dt)
            if self.world > 1:
                dist.all_gather_into_tensor(
                    Tensor._make(out.reshape(-1)), Tensor._make(inp), group=self.shard_group
                )
            else:
                out[0] = inp
            off = 0
            for fp, n in zip(fps, sizes, strict=True):
                full = out[:, off : off + n].reshape(self.world * fp.rows, *fp.shape[1:])
                full = xp.ascontiguousarray(full[: fp.shape[0]])
                off += n
                up = fp.unsharded
                if (
                    up is not None
                    and up._a.shape == full.shape
                    and up._a.dtype == full.dtype
                    and up.requires_grad == fp.requires_grad
                ):
                    # the same leaf again (torch refills its unsharded parameter's storage):
                    # a forward rerun in backward by activation checkpointing must send its
                    # gradients to the leaf the recorded graph accumulates into. The values
                    # equal the saved ones unless the shards changed since (no version bump)
                    up._a[...] = full
                else:
                    up = Parameter(Tensor._make(full), requires_grad=fp.requires_grad)
                    if fp.requires_grad:
                        up.register_post_accumulate_grad_hook(self._on_grad)
                    fp.unsharded = up
                fp.register(up)
        from ...autograd.engine import _callback_stack

        self.is_unsharded = True
        if not _callback_stack():  # a new forward, not a recomputation inside backward
            self._ready = set()
        self._pending = self._pending or track

    def reshard(self) -> None:
        if not self.is_unsharded:
            return
        for fp in self.params:
            fp.register(fp.sharded)
        self.is_unsharded = False
        if not self._pending:
            self._drop_unsharded()

    def _drop_unsharded(self) -> None:
        """Forget the unsharded leaves once no backward will reach them (the graph, if any,
        still holds them)."""
        for fp in self.params:
            fp.unsharded = None

    # ------------------------------------------------------------------ gradients
    def _on_grad(self, up: Tensor) -> None:
        st = self.state
        root = st.ctx.root if st.ctx is not None else st
        root._queue_final_callback()
        self._ready.add(id(up))
        need = {
            id(fp.unsharded) for fp in self.params if fp.requires_grad and fp.unsharded is not None
        }
        if need <= self._ready:
            self.post_backward()
            if st.reshard_after_backward:
                self.reshard()

    def post_backward(self) -> None:
        """Reduce the unsharded gradients into the sharded parameters' ``.grad``."""
        from ... import distributed as dist

        self._pending = False
        self._ready = set()
        st = self.state
        work = []
        for fp in self.params:
            up = fp.unsharded
            g = up._grad if up is not None else None
            if up is not None:
                up._grad = None
            if g is None:
                continue
            if not st.requires_grad_sync:
                fp.acc_grad = g if fp.acc_grad is None else fp.acc_grad + g
                continue
            if fp.acc_grad is not None:
                g = g + fp.acc_grad
                fp.acc_grad = None
            work.append((fp, g))
        if not self.is_unsharded:
            self._drop_unsharded()
        if not work:
            return
        mp = st.mp_policy
        rdt = mp.reduce_dtype if mp.reduce_dtype is not None else mp.param_dtype
        with no_grad():
            groups: dict[Any, list[tuple[_FSDPParam, Tensor]]] = {}
            for fp, g in work:
                dt = _np_dtype(rdt) if rdt is not None else g._a.dtype
                groups.setdefault(dt, []).append((fp, g))
            for dt, items in groups.items():
                xp = _xp(items[0][1]._a)
                sizes = [fp.rows * fp.inner for fp, _ in items]
                total = sum(sizes)
                buf = xp.zeros((self.world, total), dtype=dt)
                off = 0
                for (fp, g), n in zip(items, sizes, strict=True):
                    ga = g._a.reshape(-1)
                    for r in range(self.world):  # rank r's rows; the padding stays zero
                        lo = min(r * fp.rows, fp.shape[0]) * fp.inner
                        hi = min((r + 1) * fp.rows, fp.shape[0]) * fp.inner
                        buf[r, off : off + hi - lo] = ga[lo:hi]
                    off += n
                out = xp.empty(total, dtype=dt)
                if self.world > 1:
                    dist.reduce_scatter_tensor(
                        Tensor._make(out),
                        Tensor._make(buf.reshape(-1)),
                        op=dist.ReduceOp.AVG,
                        group=self.shard_group,
                    )
                else:
                    out[...] = buf[0]
                if self.rep_group is not None and self.rep_world > 1:
                    t = Tensor._make(out)
                    dist.all_reduce(t, op=dist.ReduceOp.AVG, group=self.rep_group)
                    out = t._a
                off = 0
                for (fp, _), n in zip(items, sizes, strict=True):
                    local = out[off : off + fp.local_rows * fp.inner]
                    off += n
                    local = local.reshape(fp.local_rows, *fp.shape[1:])
                    self._accumulate(fp, local)

    def _accumulate(self, fp: _FSDPParam, local: Any) -> None:
        from ..tensor._api import DTensor

        sp = fp.sharded
        if sp._grad is None:
            # a view of this reduction's fresh output buffer (no copy) when the dtypes agree
            sp._grad = DTensor._wrap(local.astype(fp.dtype, copy=False), fp.spec)
        else:
            sp._grad._a += local.astype(fp.dtype, copy=False)
            sp._grad._vref[0] += 1


class _RootCtx:
    def __init__(self, root: _FSDPState) -> None:
        self.root = root
        self.states: list[_FSDPState] = []
        self.cb_queued = False


class _FSDPState:
    """What ``fully_shard`` attaches to a module (``fully_shard.state(module)``)."""

    def __init__(
        self,
        module: Module,
        mesh: Any,
        reshard_after_forward: bool | None,
        mp_policy: MixedPrecisionPolicy,
        offload_policy: OffloadPolicy,
    ) -> None:
        self.module = module
        self.mesh = mesh
        self.reshard_after_forward = reshard_after_forward
        self.mp_policy = mp_policy
        self.offload_policy = offload_policy
        self.group: _ParamGroup | None = None
        self.is_root: bool | None = None
        self.ctx: _RootCtx | None = None
        self.requires_grad_sync = True
        self.reshard_after_backward = True
        self.is_last_backward = True
        self.forward_prefetch: list[Any] = []
        self.backward_prefetch: list[Any] = []
        self.in_forward = False

    # ------------------------------------------------------------------ lazy init
    def lazy_init(self) -> None:
        if self.is_root is not None:
            return
        self.is_root = True
        ctx = _RootCtx(self)
        self.ctx = ctx
        for m in self.module.modules():
            st = m.__dict__.get("_fsdp_state")
            if st is None:
                continue
            if st is not self:
                if st.is_root:
                    raise RuntimeError(
                        "fully_shard: a nested FSDP module ran its forward as a root before its "
                        "parent; run the whole model's forward first"
                    )
                st.is_root = False
                st.ctx = ctx
            ctx.states.append(st)

    def _reshards_after_forward(self) -> bool:
        if self.reshard_after_forward is None:
            return not self.is_root
        return bool(self.reshard_after_forward) and not self.is_root

    # ------------------------------------------------------------------ hooks
    def pre_forward(self, module: Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        self.lazy_init()
        mp = self.mp_policy
        if mp.cast_forward_inputs and mp.param_dtype is not None:
            args, kwargs = _cast_floats(mp.param_dtype, (args, kwargs))
        if self.group is not None:
            self.group.unshard(forward=True)
        self.in_forward = True
        return args, kwargs

    def post_forward(self, module: Module, args: tuple, kwargs: dict, output: Any) -> Any:
        self.in_forward = False
        if self.group is not None and self._reshards_after_forward():
            self.group.reshard()
        if self.mp_policy.output_dtype is not None:
            output = _cast_floats(self.mp_policy.output_dtype, output)
        return output

    def pre_state_dict(self, module: Module, prefix: str, keep_vars: bool) -> None:
        """``state_dict()`` outside forward/backward holds the sharded DTensors, as torch's."""
        g = self.group
        if g is not None and g.is_unsharded and not g._pending and not self.in_forward:
            g.reshard()

    def post_load_state_dict(self, module: Module, incompatible: Any) -> None:
        if self.group is not None:
            self.group.adopt()

    def _queue_final_callback(self) -> None:
        ctx = self.ctx
        if ctx is None or ctx.cb_queued:
            return
        from ...autograd.engine import _callback_stack

        st = _callback_stack()
        if not st:
            return
        ctx.cb_queued = True
        st[0].append(self._final_callback)  # the outermost backward's

    def _final_callback(self) -> None:
        ctx = self.ctx
        assert ctx is not None
        ctx.cb_queued = False
        for st in reversed(ctx.states):
            g = st.group
            if g is None:
                continue
            if g._pending:
                g.post_backward()
            if st.reshard_after_backward:
                g.reshard()


def _cast_floats(dtype: Any, obj: Any) -> Any:
    if isinstance(obj, Tensor):
        if obj.is_floating_point() and obj.dtype != dtype:
            return obj.to(dtype)
        return obj
    if isinstance(obj, tuple):
        return tuple(_cast_floats(dtype, o) for o in obj)
    if isinstance(obj, list):
        return [_cast_floats(dtype, o) for o in obj]
    if isinstance(obj, dict):
        return {k: _cast_floats(dtype, v) for k, v in obj.items()}
    return obj


class UnshardHandle:
    """What ``FSDPModule.unshard(async_op=True)`` returns; ctorch's all-gather is done already."""

    def wait(self) -> None:
        return None


class FSDPModule:
    """Mixed into a module's class by :func:`fully_shard` (the class becomes ``FSDP<Name>``)."""

    def _fsdp(self) -> _FSDPState:
        return self.__dict__["_fsdp_state"]

    def _fsdp_states(self, recurse: bool) -> list[_FSDPState]:
        if not recurse:
            return [self._fsdp()]
        return [
            m.__dict__["_fsdp_state"]
            for m in self.modules()  # type: ignore[attr-defined]
            if "_fsdp_state" in m.__dict__
        ]

    def reshard(self) -> None:
        """Put the sharded parameters back (frees the unsharded ones unless autograd holds
        them)."""
        g = self._fsdp().group
        if g is not None:
            g.reshard()

    def unshard(self, async_op: bool = False) -> UnshardHandle | None:
        """All-gather the parameters and register the unsharded ones (synchronous here)."""
        st = self._fsdp()
        if st.group is not None:
            st.group.unshard()
        return UnshardHandle() if async_op else None

    def set_is_last_backward(self, is_last_backward: bool) -> None:
        for st in self._fsdp_states(True):
            st.is_last_backward = bool(is_last_backward)

    def set_requires_gradient_sync(self, requires_gradient_sync: bool, *, recurse: bool = True):
        """False: backward accumulates unsharded gradients locally (no reduce-scatter) until a
        backward with True reduces their sum (torch's ``no_sync``)."""
        for st in self._fsdp_states(recurse):
            st.requires_grad_sync = bool(requires_gradient_sync)

    def set_requires_all_reduce(self, requires_all_reduce: bool, *, recurse: bool = True):
        if not requires_all_reduce:
            raise NotImplementedError(
                "set_requires_all_reduce(False): ctorch's HSDP always all-reduces over the "
                "replicate dimension"
            )

    def set_reshard_after_forward(self, reshard_after_forward: bool, recurse: bool = True):
        if not isinstance(reshard_after_forward, bool):
            raise ValueError(f"reshard_after_forward should be a bool, got {reshard_after_forward}")
        for st in self._fsdp_states(recurse):
            st.reshard_after_forward = reshard_after_forward

    def set_reshard_after_backward(self, reshard_after_backward: bool, *, recurse: bool = True):
        for st in self._fsdp_states(recurse):
            st.reshard_after_backward = bool(reshard_after_backward)

    def set_modules_to_forward_prefetch(self, modules: list[FSDPModule]) -> None:
        """Recorded; ctorch's all-gathers are synchronous, so nothing is prefetched."""
        self._fsdp().forward_prefetch = list(modules)

    def set_modules_to_backward_prefetch(self, modules: list[FSDPModule]) -> None:
        """Recorded; ctorch's all-gathers are synchronous, so nothing is prefetched."""
        self._fsdp().backward_prefetch = list(modules)

    def set_post_optim_event(self, event: Any) -> None:
        return None

    def set_unshard_in_backward(self, unshard_in_backward: bool) -> None:
        return None


_CLASSES: dict[type, type] = {}


def _fsdp_class(cls: type) -> type:
    if issubclass(cls, FSDPModule):
        return cls
    new = _CLASSES.get(cls)
    if new is None:
        new = type(f"FSDP{cls.__name__}", (FSDPModule, cls), {})
        _CLASSES[cls] = new
    return new


def fully_shard(
    module: Module,
    *,
    mesh: Any = None,
    reshard_after_forward: bool | int | None = None,
    shard_placement_fn: Callable | None = None,
    mp_policy: MixedPrecisionPolicy = MixedPrecisionPolicy(),  # noqa: B008 - torch's default
    offload_policy: OffloadPolicy = OffloadPolicy(),  # noqa: B008 - torch's default
    ignored_params: set[Parameter] | None = None,
    dp_mesh_dims: DataParallelMeshDims | None = None,
) -> Module:
    """Shard ``module``'s parameters (those not already managed by a ``fully_shard`` on a
    submodule) over ``mesh``'s data-parallel dimension; returns ``module``, now an
    ``FSDPModule``. See the module docstring and ``docs/distributed.md``."""
    from ..device_mesh import DeviceMesh, init_device_mesh

    if isinstance(module, (list, tuple)):
        raise NotImplementedError("fully_shard([modules...]): ctorch shards one module per call")
    if not isinstance(module, Module):
        raise ValueError(f"fully_shard does not support containers {type(module).__name__}")
    if "_fsdp_state" in module.__dict__:
        raise RuntimeError(f"fully_shard: {type(module).__name__} already had fully_shard applied")
    if isinstance(reshard_after_forward, int) and not isinstance(reshard_after_forward, bool):
        raise NotImplementedError(
            "fully_shard(reshard_after_forward=<int>): resharding to a smaller world is not "
            "supported by ctorch; pass True or False"
        )
    if dp_mesh_dims is not None:
        raise NotImplementedError(
            "fully_shard(dp_mesh_dims=...): ctorch's fully_shard takes a 1-D (FSDP) or 2-D "
            "(replicate, shard) data-parallel mesh, not dimensions of an SPMD mesh"
        )
    if shard_placement_fn is not None:
        raise NotImplementedError(
            "fully_shard(shard_placement_fn=...): ctorch shards every parameter on dim 0"
        )
    if not isinstance(mp_policy, MixedPrecisionPolicy):
        raise TypeError(f"mp_policy must be a MixedPrecisionPolicy, got {type(mp_policy).__name__}")
    if mesh is None:
        from ... import distributed as dist

        if not dist.is_initialized():
            raise ValueError(
                "Default process group has not been initialized, please make sure to call "
                "init_process_group."
            )
        dev = "cpu"
        for p in module.parameters():
            dev = p.device.type
            break
        mesh = init_device_mesh(dev, (dist.get_world_size(),))
    if not isinstance(mesh, DeviceMesh):
        raise ValueError(f"fully_shard expects a DeviceMesh, got {type(mesh).__name__}")
    if mesh.ndim not in (1, 2):
        raise ValueError(f"fully_shard expects a 1D or 2D DeviceMesh but got {mesh}")

    state = _FSDPState(module, mesh, reshard_after_forward, mp_policy, offload_policy)
    ignored = {id(p) for p in (ignored_params or ())}
    managed: list[tuple[Module, str, Parameter]] = []

    def walk(m: Module) -> None:
        for name, p in m._parameters.items():
            if p is None or id(p) in ignored:
                continue
            from ..tensor._api import DTensor

            if isinstance(p, DTensor):
                raise NotImplementedError(
                    f"fully_shard: parameter {name!r} of {type(m).__name__} is already a DTensor "
                    "(tensor parallelism plus FSDP is not supported by ctorch)"
                )
            managed.append((m, name, p))
        for c in m._modules.values():
            if c is not None and "_fsdp_state" not in c.__dict__:
                walk(c)

    walk(module)
    if managed:
        state.group = _ParamGroup(state, managed)
    module.__dict__["_fsdp_state"] = state
    module.register_forward_pre_hook(state.pre_forward, with_kwargs=True, prepend=True)
    module.register_forward_hook(state.post_forward, with_kwargs=True)
    module.register_state_dict_pre_hook(state.pre_state_dict)
    module.register_load_state_dict_post_hook(state.post_load_state_dict)
    module.__class__ = _fsdp_class(type(module))
    return module


def _state_of(module: Module) -> _FSDPState | None:
    return module.__dict__.get("_fsdp_state")


fully_shard.state = _state_of  # type: ignore[attr-defined]


def register_fsdp_forward_method(module: Module, method_name: str) -> None:
    """Run ``module.<method_name>`` with FSDP's pre/post-forward hooks (as ``forward`` does)."""
    st = _state_of(module)
    if st is None:
        return
    orig = getattr(module, method_name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        args, kwargs = st.pre_forward(module, args, kwargs)
        out = orig(*args, **kwargs)
        return st.post_forward(module, args, kwargs, out)

    setattr(module, method_name, wrapped)


def share_comm_ctx(modules: list[FSDPModule]) -> None:
    """torch shares CUDA streams between these modules' collectives; ctorch's collectives are
    synchronous, so there is nothing to share."""
    for m in modules:
        if not isinstance(m, FSDPModule):
            raise ValueError(f"share_comm_ctx expects FSDPModules, got {type(m).__name__}")


def _fsdp_modules(module: Module) -> Iterable[Module]:
    return [m for m in module.modules() if "_fsdp_state" in m.__dict__]
