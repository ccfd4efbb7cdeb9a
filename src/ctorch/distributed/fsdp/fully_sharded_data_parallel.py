"""FullyShardedDataParallel (torch's FSDP1 API) over ctorch.distributed's collectives.

How it works (torch's ``FlatParamHandle`` design, in Python):

* Construction wraps the submodules an ``auto_wrap_policy`` picks (children first), then
  flattens the parameters of this unit (those of the wrapped module not inside a nested unit or
  an ignored module, in ``named_parameters`` order) into one 1-D buffer, padded to a multiple of
  the world size, and keeps only this rank's contiguous ``1/world`` of it as ``_flat_param``
  (an ``nn.Parameter`` registered on the wrapped module, so ``parameters()`` and the optimizer
  see the shards). The original parameters are removed from their modules.
* Before the unit's forward the shards are all-gathered into a fresh full buffer, a leaf
  tensor; the modules' parameter attributes are set to views of it (split + view, so autograd
  routes their gradients into the leaf). After forward the attributes are dropped.
* A post-accumulate-grad hook on that leaf fires when backward has produced the unit's whole
  gradient: the gradient is reduce-scattered (averaged) into the shard's ``.grad`` (all-reduced
  for ``NO_SHARD``), accumulating into an existing ``.grad`` as torch does. A unit that was
  run but got no gradient contributes zeros in an engine final callback, so every rank issues
  the same collectives.

What is emulated rather than done as torch does: the full parameters of a ``FULL_SHARD`` unit are
not re-gathered in backward: the views that forward's autograd graph saved keep the gathered
buffer alive until backward has used them (so peak memory is that of ``SHARD_GRAD_OP``), and it
is freed when the graph is. Collectives are synchronous (no prefetch, no overlap), mixed
precision casts in ctorch's dtypes, CPU offload is a no-op for CPU modules.
"""

from __future__ import annotations

import contextlib
import math
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

import numpy as np

from ..._tensor import Tensor
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...nn.modules.module import Module
from ...nn.parameter import Parameter
from .api import (
    BackwardPrefetch,
    CPUOffload,
    FullOptimStateDictConfig,
    FullStateDictConfig,
    LocalOptimStateDictConfig,
    LocalStateDictConfig,
    MixedPrecision,
    OptimStateDictConfig,
    ShardedOptimStateDictConfig,
    ShardedStateDictConfig,
    ShardingStrategy,
    StateDictConfig,
    StateDictSettings,
    StateDictType,
)

__all__ = ["FullyShardedDataParallel"]

FSDP_WRAPPED_MODULE = "_fsdp_wrapped_module"
FLAT_PARAM = "_flat_param"
_PREFIX = FSDP_WRAPPED_MODULE + "."


def _clean(name: str) -> str:
    return name.replace(_PREFIX, "")


def _xp(a: Any) -> Any:
    if type(a) is np.ndarray:
        return np
    import cupy

    return cupy


class _ParamInfo:
    __slots__ = ("module", "name", "fqn", "shape", "numel", "offset", "aliases")

    def __init__(self, module: Module, name: str, fqn: str, shape: tuple, numel: int) -> None:
        self.module = module
        self.name = name
        self.fqn = fqn
        self.shape = shape
        self.numel = numel
        self.offset = 0
        self.aliases: list[tuple[Module, str, str]] = []


class _Handle:
    """One unit's flat parameter: layout, shard, gather, gradient reduction."""

    def __init__(self, fsdp: FullyShardedDataParallel, infos: list[_ParamInfo], params: list):
        from ... import distributed as dist

        self.fsdp = fsdp
        self.infos = infos
        self.dist = dist
        pg = fsdp.process_group
        self.world = dist.get_world_size(pg)
        self.rank = dist.get_rank(pg)
        self.sharded = fsdp.sharding_strategy is not ShardingStrategy.NO_SHARD
        off = 0
        for info in infos:
            info.offset = off
            off += info.numel
        self.numel = off
        if self.sharded:
            self.shard_numel = -(-off // self.world) if off else 0
            self.padded = self.shard_numel * self.world
        else:
            self.shard_numel = self.padded = off
        proto = params[0]
        xp = _xp(proto._a)
        with no_grad():
            flat = xp.zeros(self.padded, dtype=proto._a.dtype)
            for info, p in zip(infos, params, strict=True):
                flat[info.offset : info.offset + info.numel] = xp.ascontiguousarray(p._a).reshape(
                    -1
                )
            if self.sharded:
                lo = self.rank * self.shard_numel
                shard = flat[lo : lo + self.shard_numel].copy()
            else:
                shard = flat
        rg = any(p.requires_grad for p in params)
        self.flat_param = Parameter(Tensor._make(shard), requires_grad=rg)
        self.flat_param._fsdp_flattened = True
        self._acc: Tensor | None = None  # no_sync's accumulated unsharded gradient
        self.live: Tensor | None = None  # the full buffer the attributes view until backward
        # use_orig_params: one Parameter per original parameter over its part of the shard
        self.origs: list[Parameter] = []
        self.ranges: list[tuple[int, int]] = []  # each one's [start, end) in the shard
        if fsdp.use_orig_params:
            self._make_orig_params(params)

    def _make_orig_params(self, params: list[Tensor]) -> None:
        fa = self.flat_param._a
        base = self.rank * self.shard_numel if self.sharded else 0
        for info, p in zip(self.infos, params, strict=True):
            if self.sharded:
                a = max(info.offset, base) - base
                b = min(info.offset + info.numel, base + self.shard_numel) - base
                a, b = (a, b) if b > a else (0, 0)
                arr = fa[a:b]
            else:
                a, b = info.offset, info.offset + info.numel
                arr = fa[a:b].reshape(info.shape)
            self.ranges.append((a, b))
            op = Parameter(Tensor._make(arr), requires_grad=p.requires_grad)
            op._fsdp_flattened = True
            self.origs.append(op)

    def sync_orig_grads(self) -> None:
        """use_orig_params: the original parameters' ``.grad`` become views of the shard's."""
        g = self.flat_param.grad
        for info, op, (a, b) in zip(self.infos, self.origs, self.ranges, strict=True):
            if not op.requires_grad or g is None:
                continue
            arr = g._a[a:b]
            op._grad = Tensor._make(arr if self.sharded else arr.reshape(info.shape))

    # ------------------------------------------------------------------ gather
    def gather(self, dtype: Any = None) -> Tensor:
        """The full flat parameter (length ``padded``), a fresh tensor, in ``dtype``."""
        fp = self.flat_param
        xp = _xp(fp._a)
        full = Tensor._make(xp.empty(self.padded, dtype=fp._a.dtype))
        if self.sharded and self.world > 1:
            self.dist.all_gather_into_tensor(
                full, Tensor._make(fp._a), group=self.fsdp.process_group
            )
        else:
            full._a[...] = fp._a
        if dtype is not None and dtype != full.dtype:
            full = full.to(dtype)
        return full

    def views(self, full: Tensor) -> list[Tensor]:
        pieces = full[: self.numel].split([i.numel for i in self.infos]) if self.infos else []
        return [p.view(i.shape) for p, i in zip(pieces, self.infos, strict=True)]

    def set_attrs(self, views: list[Tensor]) -> None:
        for info, v in zip(self.infos, views, strict=True):
            info.module.__dict__[info.name] = v
            for m, n, _ in info.aliases:
                m.__dict__[n] = v

    def drop_attrs(self) -> None:
        if not self.sharded and not self.origs:
            # NO_SHARD: the attributes stay views of the (full) flat parameter
            self.set_attrs(self.views(Tensor._make(self.flat_param._a)))
            return
        for info in self.infos:
            info.module.__dict__.pop(info.name, None)
            for m, n, _ in info.aliases:
                m.__dict__.pop(n, None)

    def write_back(self, full: Tensor) -> None:
        fp = self.flat_param
        src = full._a
        if self.sharded:
            lo = self.rank * self.shard_numel
            fp._a[...] = src[lo : lo + self.shard_numel]
        else:
            fp._a[...] = src[: self.numel]
        fp._bump()

    # ------------------------------------------------------------------ gradients
    def reduce_grad(self, g: Tensor | None) -> None:
        """Average the unsharded gradient ``g`` (None: zeros) across ranks into the shard."""
        fsdp = self.fsdp
        fp = self.flat_param
        mp = fsdp.mixed_precision
        with no_grad():
            if g is None:
                xp = _xp(fp._a)
                dt = mp.param_dtype if mp is not None and mp.param_dtype is not None else None
                g = Tensor._make(xp.zeros(self.padded, dtype=fp._a.dtype))
                if dt is not None:
                    g = g.to(dt)
            if not fsdp._sync_gradients:
                self._acc = g if self._acc is None else self._acc + g
                return
            if self._acc is not None:
                g = g + self._acc
                self._acc = None
            rd = None
            if mp is not None:
                rd = mp.reduce_dtype if mp.reduce_dtype is not None else mp.param_dtype
            if rd is not None and g.dtype != rd:
                g = g.to(rd)
            g = g.contiguous()
            if self.world > 1:
                if self.sharded:
                    out = Tensor._make(_xp(g._a).empty(self.shard_numel, dtype=g._a.dtype))
                    self.dist.reduce_scatter_tensor(
                        out, g, op=self.dist.ReduceOp.AVG, group=fsdp.process_group
                    )
                else:
                    out = g.clone()
                    self.dist.all_reduce(out, op=self.dist.ReduceOp.AVG, group=fsdp.process_group)
            else:
                out = g if self.sharded else g[: self.numel]
            if not (mp is not None and mp.keep_low_precision_grads) and out.dtype != fp.dtype:
                out = out.to(fp.dtype)
            if self.origs and any(op.requires_grad and op._grad is None for op in self.origs):
                fp.grad = None  # the optimizer's zero_grad cleared the original parameters'
            if fp.grad is None:
                fp.grad = out.detach().clone() if out._a is g._a else out.detach()
            else:
                fp.grad.add_(out.to(fp.grad.dtype))
            if self.origs:
                self.sync_orig_grads()


class _State:
    """Per-root bookkeeping of one forward/backward."""

    def __init__(self) -> None:
        self.pending: list[tuple[_Handle, Tensor]] = []
        self.cb_queued = False
        self.active: set[int] = set()  # ids of units inside forward or backward


class FullyShardedDataParallel(Module):
    """Shard a module's parameters, gradients and optimizer state across ranks
    (``torch.distributed.fsdp.FullyShardedDataParallel``, FSDP1 API).

    Each rank keeps ``1/world_size`` of every unit's flattened parameters; a unit's full
    parameters exist only while its forward (and the backward through it) needs them.
    ``parameters()`` yields the flat shards (``use_orig_params=False``) or the original
    parameters as 1-D parts of the shards (``use_orig_params=True``), so build the optimizer
    after wrapping. See ``docs/distributed.md`` for what is emulated.
    """

    def __init__(
        self,
        module: Module,
        process_group: Any = None,
        sharding_strategy: ShardingStrategy | None = None,
        cpu_offload: CPUOffload | None = None,
        auto_wrap_policy: Callable | Any = None,
        backward_prefetch: BackwardPrefetch | None = BackwardPrefetch.BACKWARD_PRE,
        mixed_precision: MixedPrecision | None = None,
        ignored_modules: Iterable[Module] | None = None,
        param_init_fn: Callable[[Module], None] | None = None,
        device_id: Any = None,
        sync_module_states: bool = False,
        forward_prefetch: bool = False,
        limit_all_gathers: bool = True,
        use_orig_params: bool = False,
        ignored_states: Iterable[Any] | None = None,
        device_mesh: Any = None,
    ) -> None:
        super().__init__()
        from ... import distributed as dist
        from ...distributed.distributed_c10d import _group

        if not isinstance(module, Module):
            raise TypeError(
                f"FullyShardedDataParallel expects an nn.Module, got {type(module).__name__}"
            )
        if not dist.is_initialized():
            raise ValueError(
                "Default process group has not been initialized, please make sure to call "
                "init_process_group."
            )
        if device_mesh is not None:
            raise NotImplementedError(
                "FullyShardedDataParallel(device_mesh=...) is not supported by ctorch; pass "
                "process_group (or nothing, for the default group)"
            )
        if isinstance(process_group, tuple):  # HYBRID_SHARD's (intra, inter) pair
            process_group = process_group[0]
        pg = _group(process_group, "FullyShardedDataParallel")
        if pg is None:
            raise ValueError("FullyShardedDataParallel: this rank is not part of process_group")
        if ignored_modules is not None and ignored_states is not None:
            raise ValueError(
                "Cannot pass both ignored_modules and ignored_states at the same time. Please "
                "just pass ignored_states."
            )
        self.process_group = pg
        self.rank = dist.get_rank(pg)
        self.world_size = dist.get_world_size(pg)
        self.sharding_strategy = sharding_strategy or ShardingStrategy.FULL_SHARD
        if self.sharding_strategy is ShardingStrategy._HYBRID_SHARD_ZERO2:
            self.sharding_strategy = ShardingStrategy.SHARD_GRAD_OP
        self.cpu_offload = cpu_offload or CPUOffload()
        self.backward_prefetch = backward_prefetch
        self.forward_prefetch = forward_prefetch
        self.limit_all_gathers = limit_all_gathers
        self.mixed_precision = mixed_precision
        self.use_orig_params = use_orig_params
        self._sync_gradients = True
        self._is_root: bool | None = None
        self._root: FullyShardedDataParallel | None = None
        self._state: _State | None = None
        self._state_dict_type = StateDictType.FULL_STATE_DICT
        self._state_dict_config: StateDictConfig = FullStateDictConfig()
        self._optim_state_dict_config: OptimStateDictConfig = FullOptimStateDictConfig()

        ignored_mods: set[Module] = set()
        ignored_param_ids: set[int] = set()
        for x in list(ignored_modules or []) + list(ignored_states or []):
            if isinstance(x, Module):
                if isinstance(x, FullyShardedDataParallel):
                    raise ValueError("`ignored_modules` should not include FSDP modules")
                ignored_mods.update(x.modules())
            elif isinstance(x, Tensor):
                ignored_param_ids.add(id(x))
            else:
                raise TypeError(
                    "ignored_states expects an iterable of nn.Parameter or nn.Module, got "
                    f"{type(x).__name__}"
                )
        for m in ignored_mods:
            ignored_param_ids.update(id(p) for p in m.parameters())
        self._ignored_modules = ignored_mods
        self._ignored_param_ids = ignored_param_ids

        if device_id is not None:
            from ..._device import device as _device

            dev = _device(f"cuda:{device_id}") if isinstance(device_id, int) else device_id
            dev = _device(dev) if isinstance(dev, str) else dev
            if dev.type != "cpu":
                module = module.to(dev)
        self.device_id = device_id
        if param_init_fn is not None:
            param_init_fn(module)

        if auto_wrap_policy is not None:
            from .wrap import _auto_wrap

            root_kwargs = dict(
                process_group=process_group,
                sharding_strategy=sharding_strategy,
                cpu_offload=cpu_offload,
                backward_prefetch=backward_prefetch,
                mixed_precision=mixed_precision,
                param_init_fn=param_init_fn,
                device_id=device_id,
                sync_module_states=sync_module_states,
                forward_prefetch=forward_prefetch,
                limit_all_gathers=limit_all_gathers,
                use_orig_params=use_orig_params,
                ignored_states=None,
            )
            _auto_wrap(
                module,
                auto_wrap_policy,
                ignored_mods,
                ignored_param_ids,
                root_kwargs,
                FullyShardedDataParallel,
            )
            # children inherit what this root ignores
            for m in module.modules():
                if isinstance(m, FullyShardedDataParallel):
                    m._ignored_modules |= ignored_mods
        self._fsdp_wrapped_module = module

        # this unit's parameters: the wrapped module's, minus nested units' and ignored ones
        infos: list[_ParamInfo] = []
        params: list[Tensor] = []
        by_id: dict[int, _ParamInfo] = {}
        touched: list[Module] = []

        def walk(m: Module, prefix: str) -> None:
            if m in ignored_mods:
                return
            names = []
            for name, p in m._parameters.items():
                if p is None or id(p) in ignored_param_ids:
                    continue
                fqn = prefix + name
                if id(p) in by_id:
                    by_id[id(p)].aliases.append((m, name, fqn))
                else:
                    info = _ParamInfo(m, name, fqn, tuple(p.shape), p.numel())
                    by_id[id(p)] = info
                    infos.append(info)
                    params.append(p)
                names.append(name)
            if names:
                m.__dict__.setdefault("_fsdp_orig_param_order", list(m._parameters.keys()))
                touched.append(m)
            for cname, c in m._modules.items():
                if c is None or isinstance(c, FullyShardedDataParallel):
                    continue
                walk(c, prefix + cname + ".")

        walk(module, "")
        if sync_module_states and self.world_size > 1:
            with no_grad():
                for t in params + [b for b in self._unit_buffers() if b is not None]:
                    dist.broadcast(t, src=pg._ranks[0] if hasattr(pg, "_ranks") else 0, group=pg)
        self._handle: _Handle | None = None
        if params:
            dtypes = {p.dtype for p in params}
            if len(dtypes) > 1:
                raise ValueError(
                    f"Must flatten tensors with uniform dtype but got {sorted(map(str, dtypes))}"
                )
            rgs = {bool(p.requires_grad) for p in params}
            if len(rgs) > 1 and not use_orig_params:
                raise ValueError(
                    "Must flatten tensors with uniform `requires_grad` when `use_orig_params=False`"
                )
            for p in params:
                p._fsdp_flattened = True
            handle = _Handle(self, infos, params)
            index = {id(p): i for i, p in enumerate(params)}
            for m in touched:
                for name in list(m._parameters):
                    p = m._parameters[name]
                    if p is not None and id(p) in by_id:
                        if use_orig_params:  # the shard's part of it, under its name
                            m._parameters[name] = handle.origs[index[id(p)]]
                        else:
                            del m._parameters[name]
            if use_orig_params:
                module.__dict__[FLAT_PARAM] = handle.flat_param  # an attribute, not a parameter
            else:
                module.register_parameter(FLAT_PARAM, handle.flat_param)
            self._handle = handle
            handle.drop_attrs()

    # ------------------------------------------------------------------ module plumbing
    @property
    def module(self) -> Module:
        """The wrapped module."""
        return self._fsdp_wrapped_module

    @property
    def _flat_param(self) -> Parameter | None:
        return self._handle.flat_param if self._handle is not None else None

    @property
    def _has_params(self) -> bool:
        return self._handle is not None

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            mods = self.__dict__.get("_modules")
            if mods is None or FSDP_WRAPPED_MODULE not in mods:
                raise
            return getattr(mods[FSDP_WRAPPED_MODULE], name)

    def __getitem__(self, key: int) -> Any:
        return self._fsdp_wrapped_module.__getitem__(key)

    def named_parameters(self, *args: Any, **kwargs: Any) -> Iterator[tuple[str, Parameter]]:
        for n, p in super().named_parameters(*args, **kwargs):
            yield _clean(n), p

    def named_buffers(self, *args: Any, **kwargs: Any) -> Iterator[tuple[str, Tensor]]:
        for n, b in super().named_buffers(*args, **kwargs):
            yield _clean(n), b

    def _unit_buffers(self) -> Iterator[Tensor]:
        def walk(m: Module) -> Iterator[Tensor]:
            if m in self._ignored_modules:
                return
            yield from (b for b in m._buffers.values() if b is not None)
            for c in m._modules.values():
                if c is not None and not isinstance(c, FullyShardedDataParallel):
                    yield from walk(c)

        yield from walk(self._fsdp_wrapped_module)

    def check_is_root(self) -> bool:
        self._lazy_init()
        return bool(self._is_root)

    @staticmethod
    def fsdp_modules(module: Module, root_only: bool = False) -> list[FullyShardedDataParallel]:
        """The FSDP instances in ``module``'s tree (pre-order); ``root_only``: the roots."""
        if root_only:
            out = []
            for m in module.modules():
                if isinstance(m, FullyShardedDataParallel) and not any(
                    m is not o and any(m is x for x in o.modules()) for o in out
                ):
                    out.append(m)
            return out
        return [m for m in module.modules() if isinstance(m, FullyShardedDataParallel)]

    def _lazy_init(self) -> None:
        if self._is_root is not None:
            return
        state = _State()
        self._is_root = True
        self.__dict__["_root"] = self  # not a child module
        self._state = state
        for m in self.modules():
            if isinstance(m, FullyShardedDataParallel) and m is not self:
                m._is_root = False
                m.__dict__["_root"] = self
                m._state = state
        mp = self.mixed_precision
        if mp is not None and mp.buffer_dtype is not None:
            with no_grad():
                for m in self.modules():
                    for name, b in list(m._buffers.items()):
                        if b is not None and b.is_floating_point():
                            m._buffers[name] = b.to(mp.buffer_dtype)

    # ------------------------------------------------------------------ forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        self._lazy_init()
        state = self._state
        assert state is not None
        mp = self.mixed_precision
        if self._is_root:
            if not state.active:
                state.pending = []
                for u in self.fsdp_modules(self):  # left over from a forward without backward
                    if u._handle is not None and u._handle.live is not None:
                        u._handle.live = None
                        u._handle.drop_attrs()
            if mp is not None and mp.param_dtype is not None and mp.cast_root_forward_inputs:
                args, kwargs = _cast_inputs(mp.param_dtype, args, kwargs)
        elif mp is not None and mp.param_dtype is not None and mp.cast_forward_inputs:
            args, kwargs = _cast_inputs(mp.param_dtype, args, kwargs)
        h = self._handle
        state.active.add(id(self))
        try:
            if h is not None:
                track = is_grad_enabled() and h.flat_param.requires_grad
                if track and h.live is not None:
                    # run again before its backward (called twice in one forward, or rerun by
                    # activation checkpointing in backward): the same buffer, one reduction
                    full = h.live
                else:
                    full = h.gather(mp.param_dtype if mp is not None else None)
                    if track:
                        full.requires_grad_(True)
                        full.register_post_accumulate_grad_hook(self._post_backward_hook)
                        state.pending.append((h, full))
                h.set_attrs(h.views(full))
            ok = False
            try:
                out = self._fsdp_wrapped_module(*args, **kwargs)
                ok = True
                return out
            finally:
                if h is not None:
                    if ok and track:
                        # kept until this unit's backward: activation checkpointing reruns
                        # the forward in backward (the buffer lives in the graph anyway)
                        h.live = full
                    else:
                        h.drop_attrs()
        finally:
            state.active.discard(id(self))

    def _post_backward_hook(self, full: Tensor) -> None:
        from ...autograd.engine import _callback_stack

        h = self._handle
        state = self._state
        assert h is not None and state is not None
        g = full.grad
        full.grad = None
        state.pending = [(hh, f) for hh, f in state.pending if f is not full]
        if not state.cb_queued:
            state.cb_queued = True
            # the outermost backward's: a reentrant checkpoint runs a backward inside it
            _callback_stack()[0].append(self._root._finalize_backward)  # type: ignore[union-attr]
        h.reduce_grad(g)
        if h.live is full:
            h.live = None
            h.drop_attrs()

    def _finalize_backward(self) -> None:
        state = self._state
        assert state is not None
        state.cb_queued = False
        pending, state.pending = state.pending, []
        for h, full in reversed(pending):  # run in forward but reached by no gradient
            h.reduce_grad(None)
            if h.live is full:
                h.live = None
                h.drop_attrs()

    @contextlib.contextmanager
    def no_sync(self) -> Generator[None, None, None]:
        """Inside, backward keeps the (unsharded) gradients locally; the first backward after
        it reduce-scatters their sum."""
        self._lazy_init()
        if not self._is_root:
            raise RuntimeError(
                "`no_sync()` on inner FSDP instances is not supported. Please call `no_sync()` "
                "on root FSDP module."
            )
        units = self.fsdp_modules(self)
        old = [u._sync_gradients for u in units]
        for u in units:
            u._sync_gradients = False
        try:
            yield
        finally:
            for u, o in zip(units, old, strict=True):
                u._sync_gradients = o

    # ------------------------------------------------------------------ full parameters
    @staticmethod
    @contextlib.contextmanager
    def summon_full_params(
        module: Module,
        recurse: bool = True,
        writeback: bool = True,
        rank0_only: bool = False,
        offload_to_cpu: bool = False,
        with_grads: bool = False,
    ) -> Generator[None, None, None]:
        """Inside, the FSDP units' modules hold their full parameters (as views of a gathered
        buffer); with ``writeback`` changes to them are copied back into the shards on exit."""
        if writeback and rank0_only:
            raise NotImplementedError(
                "writeback=True and rank0_only=True is not supported, as model parameter shapes "
                "will be different across ranks, and writing to them can lead to "
                "inconsistencies across ranks when the context is exited."
            )
        if offload_to_cpu and not rank0_only:
            import warnings

            warnings.warn(
                "offload_to_cpu=True and rank0_only=False may result in the unsharded "
                "parameters being redundantly copied to CPU memory for GPUs sharing the same "
                "CPU memory, which risks CPU OOM. We recommend using offload_to_cpu=True with "
                "rank0_only=True.",
                stacklevel=3,
            )
        if isinstance(module, FullyShardedDataParallel):
            units = FullyShardedDataParallel.fsdp_modules(module) if recurse else [module]
        else:
            units = FullyShardedDataParallel.fsdp_modules(module) if recurse else []
        for u in units:
            u._lazy_init()
            if u._state is not None and u._state.active:
                raise AssertionError("Cannot manually unshard parameters during forward/backward")
        gathered: list[tuple[FullyShardedDataParallel, Tensor]] = []
        try:
            with no_grad():
                for u in units:
                    h = u._handle
                    if h is None:
                        continue
                    full = h.gather()
                    gathered.append((u, full))
                    if rank0_only and h.rank != 0:
                        continue
                    views = h.views(full)
                    if with_grads and h.flat_param.grad is not None:
                        g = Tensor._make(h.flat_param.grad._a)
                        if h.sharded and h.world > 1:
                            gfull = Tensor._make(_xp(g._a).empty(h.padded, dtype=g._a.dtype))
                            h.dist.all_gather_into_tensor(gfull, g, group=u.process_group)
                        else:
                            gfull = g
                        for v, gv in zip(views, h.views(gfull), strict=True):
                            v._grad = gv
                    h.set_attrs(views)
            yield
        finally:
            with no_grad():
                for u, full in gathered:
                    h = u._handle
                    assert h is not None
                    if writeback:
                        h.write_back(full)
                    h.drop_attrs()

    @contextlib.contextmanager
    def _orig_params_registered(self) -> Generator[None, None, None]:
        """Inside (and inside summon_full_params), the modules' ``_parameters`` hold their
        original parameters again (as Parameters over the gathered views), in their original
        order, and the flat parameters are hidden: Module.state_dict/load_state_dict then work
        on the original names."""
        saved: list[tuple[Module, dict]] = []
        try:
            for u in self.fsdp_modules(self):
                h = u._handle
                if h is None:
                    continue
                wm = u._fsdp_wrapped_module
                by_mod: dict[int, tuple[Module, dict[str, Tensor]]] = {}
                for info in h.infos:
                    for m, n in [(info.module, info.name)] + [(a, b) for a, b, _ in info.aliases]:
                        v = m.__dict__.get(n)
                        if v is None:
                            continue
                        by_mod.setdefault(id(m), (m, {}))[1][n] = v
                if id(wm) not in by_mod:
                    by_mod[id(wm)] = (wm, {})
                for m, vals in by_mod.values():
                    old = m._parameters
                    order = m.__dict__.get("_fsdp_orig_param_order", list(old))
                    new: dict[str, Any] = {}
                    for n in order:
                        if n == FLAT_PARAM:
                            continue
                        if n in vals:
                            new[n] = Parameter(vals[n], requires_grad=h.flat_param.requires_grad)
                        elif n in old:
                            new[n] = old[n]
                    for n, p in old.items():
                        if n not in new and n != FLAT_PARAM:
                            new[n] = p
                    m.__dict__["_parameters"] = new
                    saved.append((m, old))
            yield
        finally:
            for m, old in reversed(saved):
                m.__dict__["_parameters"] = old

    # ------------------------------------------------------------------ state dicts
    @staticmethod
    def set_state_dict_type(
        module: Module,
        state_dict_type: StateDictType,
        state_dict_config: StateDictConfig | None = None,
        optim_state_dict_config: OptimStateDictConfig | None = None,
    ) -> StateDictSettings:
        """Set the state_dict type of every FSDP unit in ``module``; returns the previous."""
        cfg_cls = {
            StateDictType.FULL_STATE_DICT: (FullStateDictConfig, FullOptimStateDictConfig),
            StateDictType.LOCAL_STATE_DICT: (LocalStateDictConfig, LocalOptimStateDictConfig),
            StateDictType.SHARDED_STATE_DICT: (
                ShardedStateDictConfig,
                ShardedOptimStateDictConfig,
            ),
        }[state_dict_type]
        sd_cfg = state_dict_config if state_dict_config is not None else cfg_cls[0]()
        osd_cfg = optim_state_dict_config if optim_state_dict_config is not None else cfg_cls[1]()
        if not isinstance(sd_cfg, cfg_cls[0]):
            raise RuntimeError(
                f"Expected state_dict_config of type {cfg_cls[0]} but got {type(sd_cfg)}"
            )
        if not isinstance(osd_cfg, cfg_cls[1]):
            raise RuntimeError(
                f"Expected optim_state_dict_config of type {cfg_cls[1]} but got {type(osd_cfg)}"
            )
        units = FullyShardedDataParallel.fsdp_modules(module)
        if not units:
            raise AssertionError("No FSDP modules found in module")  # torch's check
        prev = FullyShardedDataParallel.get_state_dict_type(module)
        for u in units:
            u._state_dict_type = state_dict_type
            u._state_dict_config = sd_cfg
            u._optim_state_dict_config = osd_cfg
        return prev

    @staticmethod
    def get_state_dict_type(module: Module) -> StateDictSettings:
        units = FullyShardedDataParallel.fsdp_modules(module)
        if not units:
            raise AssertionError("No FSDP modules found in module")
        u = units[0]
        for o in units[1:]:
            if o._state_dict_type != u._state_dict_type:
                raise AssertionError("All FSDP modules should have the same state_dict_type")
        return StateDictSettings(
            u._state_dict_type, u._state_dict_config, u._optim_state_dict_config
        )

    @staticmethod
    @contextlib.contextmanager
    def state_dict_type(
        module: Module,
        state_dict_type: StateDictType,
        state_dict_config: StateDictConfig | None = None,
        optim_state_dict_config: OptimStateDictConfig | None = None,
    ) -> Generator[None, None, None]:
        """Inside, ``state_dict``/``load_state_dict`` (and ``optim_state_dict``) of the FSDP
        units in ``module`` use ``state_dict_type``."""
        prev = FullyShardedDataParallel.set_state_dict_type(
            module, state_dict_type, state_dict_config, optim_state_dict_config
        )
        try:
            yield
        finally:
            FullyShardedDataParallel.set_state_dict_type(
                module, prev.state_dict_type, prev.state_dict_config, prev.optim_state_dict_config
            )

    def state_dict(
        self, *args: Any, destination: Any = None, prefix: str = "", keep_vars: bool = False
    ) -> dict[str, Any]:
        """FULL_STATE_DICT (default): the unsharded parameters and buffers under the original
        module's names (every rank, or only rank 0 with ``rank0_only``); LOCAL_STATE_DICT:
        this rank's flat shards (``..._flat_param``)."""
        if _in_state_dict[0]:
            return super().state_dict(
                *args, destination=destination, prefix=prefix, keep_vars=keep_vars
            )
        self._lazy_init()
        kind = self._state_dict_type
        cfg = self._state_dict_config
        if kind is StateDictType.SHARDED_STATE_DICT:
            raise NotImplementedError(
                "FullyShardedDataParallel.state_dict: SHARDED_STATE_DICT is not supported by "
                "ctorch (it needs ShardedTensor/DTensor); use FULL_STATE_DICT or "
                "LOCAL_STATE_DICT"
            )
        _in_state_dict[0] = True
        try:
            if kind is StateDictType.FULL_STATE_DICT:
                rank0_only = getattr(cfg, "rank0_only", False)
                with (
                    self.summon_full_params(self, writeback=False, rank0_only=rank0_only),
                    self._orig_params_registered(),
                ):
                    sd = super().state_dict(prefix=prefix, keep_vars=False)
                if rank0_only and self.rank != 0:
                    return {}
                out = OrderedDict()
                for k, v in sd.items():
                    v = v.clone() if isinstance(v, Tensor) else v
                    if cfg.offload_to_cpu and isinstance(v, Tensor):
                        v = v.cpu()
                    out[_clean(k)] = v
            else:
                sd = super().state_dict(prefix=prefix, keep_vars=keep_vars)
                out = OrderedDict((_clean(k), v) for k, v in sd.items())
        finally:
            _in_state_dict[0] = False
        meta = getattr(sd, "_metadata", None)
        if meta is not None:
            out._metadata = OrderedDict(
                (_clean(k), v) for k, v in meta.items() if not k.endswith(FSDP_WRAPPED_MODULE)
            )
        if destination is not None:
            destination.update(out)
            return destination
        return out

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Load a state_dict of the kind ``state_dict`` produced (FULL: the full tensors on every
        rank; each rank keeps its shard)."""
        from ...nn.modules.module import _IncompatibleKeys

        self._lazy_init()
        kind = self._state_dict_type
        if kind is StateDictType.SHARDED_STATE_DICT:
            raise NotImplementedError(
                "FullyShardedDataParallel.load_state_dict: SHARDED_STATE_DICT is not supported "
                "by ctorch; use FULL_STATE_DICT or LOCAL_STATE_DICT"
            )
        ctx: Any = contextlib.ExitStack()
        with ctx:
            if kind is StateDictType.FULL_STATE_DICT:
                ctx.enter_context(self.summon_full_params(self, writeback=True))
                ctx.enter_context(self._orig_params_registered())
            _in_state_dict[0] = True
            try:
                keys = list(Module.state_dict(self, keep_vars=True).keys())
            finally:
                _in_state_dict[0] = False
            to_prefixed = {_clean(k): k for k in keys}
            mapped = OrderedDict()
            unexpected = []
            for k, v in state_dict.items():
                if k in to_prefixed:
                    mapped[to_prefixed[k]] = v
                else:
                    unexpected.append(k)
            missing = [c for c, k in to_prefixed.items() if k not in mapped]
            if strict and (missing or unexpected):
                msgs = []
                if unexpected:
                    msgs.append(
                        "Unexpected key(s) in state_dict: "
                        + ", ".join(f'"{k}"' for k in unexpected)
                        + ". "
                    )
                if missing:
                    msgs.append(
                        "Missing key(s) in state_dict: "
                        + ", ".join(f'"{k}"' for k in missing)
                        + ". "
                    )
                raise RuntimeError(
                    f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                    + "\n\t".join(msgs)
                )
            with no_grad():
                Module.load_state_dict(self, mapped, strict=False, assign=assign)
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ gradients
    def clip_grad_norm_(self, max_norm: float, norm_type: float = 2.0) -> Tensor:
        """Clip the gradients of all parameters (the shards) so that the norm of the whole
        unsharded gradient is at most ``max_norm``; returns that total norm."""
        from ... import distributed as dist
        from ..._creation import tensor as _tensor

        self._lazy_init()
        if not self._is_root:
            raise RuntimeError(
                "`clip_grad_norm_()` should only be called on the root FSDP instance"
            )
        max_norm = float(max_norm)
        norm_type = float(norm_type)
        sharded, replicated = [], []
        flat_ids = {}
        for u in self.fsdp_modules(self):
            if u._handle is not None:
                flat_ids[id(u._handle.flat_param)] = u._handle.sharded
                for op in u._handle.origs:
                    flat_ids[id(op)] = u._handle.sharded
        for p in self.parameters():
            if p.grad is None:
                continue
            (sharded if flat_ids.get(id(p), False) else replicated).append(p.grad)
        grads = sharded + replicated
        dtypes = {g.dtype for g in grads}
        out_dtype = grads[0].dtype if len(dtypes) == 1 else None

        def local(gs: list[Tensor]) -> float:
            vals = [np.asarray(_to_np(g._a), dtype=np.float64).ravel() for g in gs]
            if not vals:
                return 0.0
            v = np.concatenate(vals)
            if math.isinf(norm_type):
                return float(np.abs(v).max()) if v.size else 0.0
            return float(np.sum(np.abs(v) ** norm_type))

        sh = _tensor([local(sharded)], dtype=_float64())
        if self.world_size > 1:
            op = dist.ReduceOp.MAX if math.isinf(norm_type) else dist.ReduceOp.SUM
            dist.all_reduce(sh, op=op, group=self.process_group)
        s = float(sh.item())
        r = local(replicated)
        if math.isinf(norm_type):
            total = max(s, r)
        else:
            total = (s + r) ** (1.0 / norm_type)
        coef = min(max_norm / (total + 1e-6), 1.0)
        with no_grad():
            for g in grads:
                g.mul_(coef)
        from ..._dtype import float32

        res = _tensor(total, dtype=_float64())
        return res.to(out_dtype if out_dtype is not None else float32)

    # ------------------------------------------------------------------ optimizer state
    @staticmethod
    def full_optim_state_dict(
        model: Module,
        optim: Any,
        optim_input: Any = None,
        rank0_only: bool = True,
        group: Any = None,
    ) -> dict[str, Any]:
        """The optimizer state of the unsharded parameters, keyed by their names (every rank
        calls it; with ``rank0_only`` the others get ``{}``)."""
        return _optim_full(model, optim, rank0_only)

    @staticmethod
    def optim_state_dict(
        model: Module, optim: Any, optim_state_dict: dict[str, Any] | None = None, group: Any = None
    ) -> dict[str, Any]:
        """FULL_STATE_DICT settings: as :meth:`full_optim_state_dict` with the config's
        ``rank0_only``. LOCAL_STATE_DICT: the optimizer's own state_dict (flat shards)."""
        settings = FullyShardedDataParallel.get_state_dict_type(model)
        if settings.state_dict_type is StateDictType.LOCAL_STATE_DICT:
            return optim.state_dict() if optim_state_dict is None else optim_state_dict
        if settings.state_dict_type is StateDictType.SHARDED_STATE_DICT:
            raise NotImplementedError(
                "FullyShardedDataParallel.optim_state_dict: SHARDED_STATE_DICT is not supported "
                "by ctorch; use FULL_STATE_DICT"
            )
        rank0_only = getattr(settings.optim_state_dict_config, "rank0_only", False)
        return _optim_full(model, optim, rank0_only, optim_state_dict)

    @staticmethod
    def optim_state_dict_to_load(
        model: Module,
        optim: Any,
        optim_state_dict: dict[str, Any],
        is_named_optimizer: bool = False,
        load_directly: bool = False,
        group: Any = None,
    ) -> dict[str, Any]:
        """Turn a full (name-keyed) optimizer state dict into one for this rank's optimizer
        over the flat shards (``optim.load_state_dict`` it, or ``load_directly=True``)."""
        settings = FullyShardedDataParallel.get_state_dict_type(model)
        if settings.state_dict_type is StateDictType.LOCAL_STATE_DICT:
            out = optim_state_dict
        else:
            out = _optim_to_load(model, optim, optim_state_dict)
        if load_directly:
            optim.load_state_dict(out)
        return out

    @staticmethod
    def shard_full_optim_state_dict(
        full_optim_state_dict: dict[str, Any],
        model: Module,
        optim_input: Any = None,
        optim: Any = None,
    ) -> dict[str, Any]:
        """This rank's part of a full (name-keyed) optimizer state dict, for
        ``optim.load_state_dict`` (ctorch needs ``optim``)."""
        if optim is None:
            raise ValueError(
                "FullyShardedDataParallel.shard_full_optim_state_dict: ctorch needs the "
                "optimizer (optim=...); optim_input is not supported"
            )
        return _optim_to_load(model, optim, full_optim_state_dict)

    @staticmethod
    def scatter_full_optim_state_dict(
        full_optim_state_dict: dict[str, Any] | None,
        model: Module,
        optim_input: Any = None,
        optim: Any = None,
        group: Any = None,
    ) -> dict[str, Any]:
        """As :meth:`shard_full_optim_state_dict` where only rank 0 holds the full state dict
        (the others pass None): it is broadcast first."""
        from ... import distributed as dist

        obj = [full_optim_state_dict if dist.get_rank(group) == 0 else None]
        if dist.get_world_size(group) > 1:
            dist.broadcast_object_list(obj, src=0, group=group)
        if obj[0] is None:
            raise ValueError("scatter_full_optim_state_dict: rank 0 passed no state dict")
        return FullyShardedDataParallel.shard_full_optim_state_dict(
            obj[0], model, optim_input, optim
        )

    def register_comm_hook(self, state: object, hook: Callable) -> None:
        raise NotImplementedError(
            "FullyShardedDataParallel.register_comm_hook is not supported by ctorch: gradients "
            "are averaged with a reduce-scatter (all-reduce for NO_SHARD) per unit"
        )

    def extra_repr(self) -> str:
        return ""


_in_state_dict = [False]


def _float64() -> Any:
    from ..._dtype import float64

    return float64


def _to_np(a: Any) -> np.ndarray:
    if type(a) is np.ndarray:
        return a
    try:
        return a.get()
    except AttributeError:
        return np.asarray(a)


def _cast_inputs(dtype: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    def cast(x: Any) -> Any:
        if isinstance(x, Tensor):
            return x.to(dtype) if x.is_floating_point() and x.dtype != dtype else x
        if isinstance(x, tuple):
            return tuple(cast(o) for o in x)
        if isinstance(x, list):
            return [cast(o) for o in x]
        if isinstance(x, dict):
            return {k: cast(v) for k, v in x.items()}
        return x

    return cast(args), cast(kwargs)


def _param_names(model: Module) -> dict[int, str]:
    """id(parameter) -> name, for the parameters FSDP does not flatten."""
    return {id(p): n for n, p in model.named_parameters() if not n.endswith(FLAT_PARAM)}


def _units(model: Module) -> list[tuple[_Handle, list[str]]]:
    roots = FullyShardedDataParallel.fsdp_modules(model)
    if not roots:
        raise ValueError("The model has no FullyShardedDataParallel module")
    out = []
    for name, u in model.named_modules():
        if isinstance(u, FullyShardedDataParallel) and u._handle is not None:
            pre = _clean(name + ".") if name else ""
            out.append((u._handle, [pre + i.fqn for i in u._handle.infos]))
    return out


def _optim_full(
    model: Module, optim: Any, rank0_only: bool, osd: dict[str, Any] | None = None
) -> dict[str, Any]:
    from ... import distributed as dist

    osd = optim.state_dict() if osd is None else osd
    flat_params = [p for g in optim.param_groups for p in g["params"]]
    all_units = _units(model)
    units = {id(h.flat_param): (h, names) for h, names in all_units}
    origs = {id(op): (h, i, names[i]) for h, names in all_units for i, op in enumerate(h.origs)}
    others = _param_names(model)
    state_out: dict[str, Any] = {}
    groups_out = []
    idx = 0
    rank = dist.get_rank()
    orig_states: dict[int, tuple[_Handle, dict[int, tuple[str, dict]]]] = {}
    for gi, group in enumerate(osd["param_groups"]):
        names_g: list[str] = []
        for pid in group["params"]:
            p = flat_params[idx]
            idx += 1
            st = osd["state"].get(pid)
            if id(p) in units:
                h, names = units[id(p)]
                names_g.extend(names)
                if st is None:
                    continue
                per: list[dict[str, Any]] = [{} for _ in names]
                for k in sorted(st):
                    v = st[k]
                    if isinstance(v, Tensor) and v.dim() == 1 and v.numel() == h.shard_numel:
                        full = _gather_like(h, v)
                        for d, piece, info in zip(per, h.views(full), h.infos, strict=True):
                            d[k] = piece.clone()
                            del info
                    else:
                        for d in per:
                            d[k] = v.clone() if isinstance(v, Tensor) else v
                for n, d in zip(names, per, strict=True):
                    state_out[n] = d
            elif id(p) in origs:  # use_orig_params: gathered per unit below
                h, i, n = origs[id(p)]
                names_g.append(n)
                state_out[n] = None
                if st is not None:
                    orig_states.setdefault(id(h), (h, {}))[1][i] = (n, st)
            else:
                n = others.get(id(p), str(pid))
                names_g.append(n)
                if st is not None:
                    state_out[n] = dict(st)
        g2 = {k: v for k, v in group.items() if k != "params"}
        g2["params"] = names_g
        groups_out.append(g2)
        del gi
    for h, per_param in orig_states.values():
        _gather_orig_state(h, per_param, state_out)
    state_out = {k: v for k, v in state_out.items() if v is not None}
    if rank0_only and rank != 0:
        return {}
    return {"state": state_out, "param_groups": groups_out}


def _gather_orig_state(
    h: _Handle, per_param: dict[int, tuple[str, dict]], out: dict[str, Any]
) -> None:
    """use_orig_params: each rank holds each original parameter's part of the shard; put the
    parts of every state tensor back into a flat shard, all-gather it, and cut it up."""
    for n, _ in per_param.values():
        out[n] = {}
    keys = sorted({k for _, st in per_param.values() for k in st})
    for k in keys:
        vals = {i: st[k] for i, (_, st) in per_param.items() if k in st}
        tensor_like = all(
            isinstance(v, Tensor) and v.dim() > 0 and v.numel() == b - a
            for i, v in vals.items()
            for a, b in [h.ranges[i]]
        ) and any(isinstance(v, Tensor) and v.dim() > 0 for v in vals.values())
        if not tensor_like:
            for i, v in vals.items():
                out[per_param[i][0]][k] = v.clone() if isinstance(v, Tensor) else v
            continue
        proto = next(iter(vals.values()))
        xp = _xp(proto._a)
        flat = xp.zeros(h.shard_numel if h.sharded else h.numel, dtype=proto._a.dtype)
        for i, v in vals.items():
            a, b = h.ranges[i]
            flat[a:b] = v._a.reshape(-1)
        full = _gather_like(h, Tensor._make(flat))
        for i, piece in enumerate(h.views(full)):
            if i in vals:
                out[per_param[i][0]][k] = piece.clone()


def _gather_like(h: _Handle, v: Tensor) -> Tensor:
    if h.sharded and h.world > 1:
        out = Tensor._make(_xp(v._a).empty(h.padded, dtype=v._a.dtype))
        h.dist.all_gather_into_tensor(out, v.detach().contiguous(), group=h.fsdp.process_group)
        return out
    return v.detach()


def _optim_to_load(model: Module, optim: Any, full: dict[str, Any]) -> dict[str, Any]:
    flat_params = [p for g in optim.param_groups for p in g["params"]]
    all_units = _units(model)
    units = {id(h.flat_param): (h, names) for h, names in all_units}
    origs = {id(op): (h, i, names[i]) for h, names in all_units for i, op in enumerate(h.origs)}
    others = _param_names(model)
    mine = optim.state_dict()
    state: dict[int, Any] = {}
    groups = []
    idx = 0
    for gi, group in enumerate(mine["param_groups"]):
        src_group = full["param_groups"][gi] if gi < len(full["param_groups"]) else {}
        for pid in group["params"]:
            p = flat_params[idx]
            idx += 1
            if id(p) in units:
                h, names = units[id(p)]
                sts = [full["state"].get(n) for n in names]
                if all(s is None for s in sts):
                    continue
                if any(s is None for s in sts):
                    missing = [n for n, s in zip(names, sts, strict=True) if s is None]
                    raise ValueError(
                        f"optim_state_dict_to_load: no optimizer state for {missing} (the other "
                        "parameters of their FSDP unit have state)"
                    )
                d: dict[str, Any] = {}
                for k, v0 in sts[0].items():
                    if isinstance(v0, Tensor) and v0.dim() > 0:
                        xp = _xp(h.flat_param._a)
                        flat = xp.zeros(h.padded, dtype=_to_np(v0._a).dtype)
                        for info, s in zip(h.infos, sts, strict=True):
                            flat[info.offset : info.offset + info.numel] = (
                                _xp(s[k]._a).asarray(s[k]._a).reshape(-1)
                            )
                        if h.sharded:
                            lo = h.rank * h.shard_numel
                            flat = flat[lo : lo + h.shard_numel].copy()
                        else:
                            flat = flat[: h.numel].copy()
                        d[k] = Tensor._make(flat)
                    else:
                        d[k] = v0.clone() if isinstance(v0, Tensor) else v0
                state[pid] = d
            elif id(p) in origs:
                h, i, n = origs[id(p)]
                st = full["state"].get(n)
                if st is None:
                    continue
                info = h.infos[i]
                a, b = h.ranges[i]
                base = h.rank * h.shard_numel - info.offset if h.sharded else 0
                d = {}
                for k, v in st.items():
                    if isinstance(v, Tensor) and tuple(v.shape) == info.shape and v.dim() > 0:
                        d[k] = (
                            v.reshape(-1)[base + a : base + b].clone() if h.sharded else v.clone()
                        )
                    else:
                        d[k] = v.clone() if isinstance(v, Tensor) else v
                state[pid] = d
            else:
                n = others.get(id(p))
                if n is not None and n in full["state"]:
                    state[pid] = dict(full["state"][n])
        g2 = {k: v for k, v in src_group.items() if k != "params"} if src_group else {}
        g2 = {**{k: v for k, v in group.items() if k != "params"}, **g2}
        g2["params"] = list(group["params"])
        groups.append(g2)
    return {"state": state, "param_groups": groups}
