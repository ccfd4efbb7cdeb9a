"""DistributedDataParallel: gradient averaging across ranks, overlapped with backward.

How it works (torch's reducer, in Python):

* At construction rank 0's parameters and buffers are broadcast, the parameter shapes are
  checked across ranks, and the parameters (reverse registration order, which is roughly the
  order backward produces their gradients) are split into buckets per dtype: the first holds
  about 1 MiB (torch's ``_DEFAULT_FIRST_BUCKET_BYTES``, so communication starts early), the
  rest about ``bucket_cap_mb``. Each bucket owns one flat buffer.
* ``forward`` (with grad enabled and outside ``no_sync()``) arms the reducer. During
  backward, a post-accumulate-grad hook on every parameter copies its gradient, scaled by
  ``1/world_size``, into its bucket slot; when the last gradient of a bucket is in, the
  bucket's all-reduce starts asynchronously (MPI ``Iallreduce`` on the flat buffer, or NCCL
  on the current stream), in bucket order so every rank issues the same collective sequence.
  Later hooks poll the outstanding requests (``MPI_Test``) so that MPI progresses them while
  autograd computes the remaining gradients.
* An engine final callback (queued by the first hook) waits for every bucket and copies the
  averaged values back into ``.grad`` (with ``gradient_as_bucket_view=True``, ``.grad`` *is*
  a view of the bucket, and nothing is copied).
* Parameters that get no gradient: with ``find_unused_parameters=False`` the backward ends with
  torch's "Expected to have finished reduction" error naming them; with ``True``, ``forward``
  walks the autograd graph from the outputs, the unused ones contribute zeros, and a parameter
  that no rank used keeps ``.grad`` unchanged (None stays None).

``ddp._ddp_overlap = False`` (private, for benchmarking) starts all all-reduces after backward
instead. ``ddp._ddp_events`` (a list, or None) records ("ready", param index), ("launch",
bucket index) and ("finalize",) in order, for tests.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..._tensor import Tensor
from ...autograd.function import AccumulateGrad
from ...autograd.grad_mode import is_grad_enabled
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024


def _xp(a: Any) -> Any:
    if type(a) is np.ndarray:
        return np
    import cupy

    return cupy


def _tensors_in(obj: Any) -> Iterator[Tensor]:
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _tensors_in(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors_in(o)


class _Bucket:
    __slots__ = ("index", "params", "offsets", "buf", "pending", "work", "launched")

    def __init__(self, index: int, params: list[int], sizes: list[int], proto: Any) -> None:
        self.index = index
        self.params = params
        self.offsets = [0]
        for s in sizes:
            self.offsets.append(self.offsets[-1] + s)
        self.buf = _xp(proto).zeros(self.offsets[-1], dtype=proto.dtype)
        self.pending = len(params)
        self.work: Any = None
        self.launched = False


class DistributedDataParallel(Module):
    """Data-parallel training across processes (``torch.nn.parallel.DistributedDataParallel``).

    Every rank holds a replica; gradients are averaged across ranks during backward, so after
    ``loss.backward()`` every replica holds the same ``.grad`` and the optimizer steps keep the
    replicas identical. ``device_ids``/``output_device`` are accepted for CUDA modules (one
    device per process, as torch's); ``static_graph``, ``check_reduction`` and the other
    tuning arguments are accepted and ignored.
    """

    def __init__(
        self,
        module: Module,
        device_ids: list[Any] | None = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        init_sync: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
        delay_all_reduce_named_params: Any = None,
        param_to_hook_all_reduce: Any = None,
        mixed_precision: Any = None,
        device_mesh: Any = None,
    ) -> None:
        super().__init__()
        from ... import distributed as dist
        from ...distributed.distributed_c10d import _group

        pg = _group(process_group, "DistributedDataParallel")
        if pg is None:
            raise ValueError("DistributedDataParallel: this rank is not part of process_group")
        self.module = module
        self.process_group = pg
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)

        seen: set[int] = set()
        named = []
        for name, p in module.named_parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                named.append((name, p))
        if not named:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any "
                "parameter that requires a gradient."
            )
        self._param_names = [n for n, _ in named]
        self._params = [p for _, p in named]
        on_gpu = {type(p._a) is not np.ndarray for p in self._params}
        if len(on_gpu) > 1:
            raise ValueError("DistributedDataParallel: parameters are on both CPU and GPU")
        if True not in on_gpu and device_ids:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with "
                f"single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                f"{device_ids}, output_device {output_device}, and module parameters "
                "{device(type='cpu')}."
            )
        self.device_ids = list(device_ids) if device_ids else None
        self.output_device = output_device
        self._impl = pg._impl(self._params[0], "DistributedDataParallel")
        self.world_size = pg.size()
        self._root = pg._ranks[0]

        # same model everywhere (torch's _verify_param_shape_across_processes)
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in named]
        everyone = pg._mpi.allgather_obj(mine)
        for r, theirs in enumerate(everyone):
            if theirs != everyone[0]:
                diff = next(
                    ((a, b) for a, b in zip(everyone[0], theirs, strict=False) if a != b),
                    (len(everyone[0]), len(theirs)),
                )
                raise RuntimeError(
                    "DDP expects same model across all ranks, but rank "
                    f"{pg._ranks[r]} differs from rank {pg._ranks[0]}: {diff[1]} vs {diff[0]} "
                    "(parameter name, shape, dtype; or parameter counts)"
                )
        if init_sync:
            self._broadcast_coalesced(self._params + [b for b in module.buffers() if b is not None])

        self._build_buckets()
        self._grad_hook_handles = [
            p.register_post_accumulate_grad_hook(self._make_hook(i))
            for i, p in enumerate(self._params)
        ]
        self._armed = False
        self._queued = False
        self._ready = [False] * len(self._params)
        self._next_launch = 0
        self._unused: list[int] = []
        self._local_used = np.zeros(len(self._params), dtype=np.int32)
        self._grad_views: list[Tensor | None] = [None] * len(self._params)
        self._ddp_overlap = True
        self._ddp_events: list[tuple] | None = None
        self._dist = dist

    # ------------------------------------------------------------------ setup
    def _broadcast_coalesced(self, tensors: list[Tensor]) -> None:
        """Broadcast ``tensors`` from the group's first rank, one flat buffer per dtype."""
        if self.world_size == 1 or not tensors:
            return
        by_dtype: dict[Any, list[Tensor]] = {}
        for t in tensors:
            by_dtype.setdefault(t._a.dtype, []).append(t)
        for group in by_dtype.values():
            xp = _xp(group[0]._a)
            flat = xp.concatenate([xp.ascontiguousarray(t._a).reshape(-1) for t in group])
            self._impl.broadcast(flat, 0, False)
            off = 0
            for t in group:
                n = t._a.size
                t._a[...] = flat[off : off + n].reshape(t._a.shape)
                t._bump()
                off += n

    def _build_buckets(self) -> None:
        """Reverse parameter order, per dtype, first bucket ~1 MiB, then ~bucket_cap_mb."""
        buckets: list[list[int]] = []
        open_: dict[Any, tuple[list[int], int]] = {}
        for i in reversed(range(len(self._params))):
            a = self._params[i]._a
            lst, nbytes = open_.pop(a.dtype, ([], 0))
            lst.append(i)
            nbytes += a.size * a.dtype.itemsize
            cap = (
                min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap)
                if not buckets
                else (self.bucket_bytes_cap)
            )
            if nbytes >= cap:
                buckets.append(lst)
            else:
                open_[a.dtype] = (lst, nbytes)
        buckets.extend(lst for lst, _ in open_.values())
        self._buckets = [
            _Bucket(k, idx, [self._params[i]._a.size for i in idx], self._params[idx[0]]._a)
            for k, idx in enumerate(buckets)
        ]
        self._where = {}
        for b in self._buckets:
            for j, i in enumerate(b.params):
                self._where[i] = (b, b.offsets[j], b.offsets[j + 1])

    # ------------------------------------------------------------------ forward
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if any(self._ready):
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one: a backward pass through this DistributedDataParallel module stopped "
                "before all its gradients were reduced."
            )
        if self.require_forward_param_sync and self.broadcast_buffers:
            self._broadcast_coalesced([b for b in self.module.buffers() if b is not None])
        out = self.module(*inputs, **kwargs)
        self._armed = bool(is_grad_enabled() and self.require_backward_grad_sync)
        if self._armed and self.find_unused_parameters:
            self._unused = self._find_unused(out)
        return out

    def _find_unused(self, out: Any) -> list[int]:
        """Indices of parameters the autograd graph of ``out`` does not reach."""
        used: set[int] = set()
        seen: set[int] = set()
        stack = []
        for t in _tensors_in(out):
            if t.grad_fn is not None:
                stack.append(t.grad_fn)
            elif t.requires_grad:
                used.add(id(t))
        while stack:
            node = stack.pop()
            for nxt, _ in node.next_functions:
                if nxt is None or id(nxt) in seen:
                    continue
                seen.add(id(nxt))
                if isinstance(nxt, AccumulateGrad):
                    var = nxt._var()
                    if var is not None:
                        used.add(id(var))
                else:
                    stack.append(nxt)
        return [i for i, p in enumerate(self._params) if id(p) not in used]

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside, backward accumulates gradients locally; the first backward after it
        averages the accumulated gradients."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ------------------------------------------------------------------ backward
    def _make_hook(self, i: int) -> Any:
        def hook(p: Tensor) -> None:
            if self._armed:
                self._mark_ready(i, p)

        return hook

    def _event(self, *e: Any) -> None:
        if self._ddp_events is not None:
            self._ddp_events.append(e)

    def _mark_ready(self, i: int, p: Tensor | None) -> None:
        if not self._queued:
            self._queued = True
            from ...autograd.engine import queue_callback

            queue_callback(self._finalize)
            unused, self._unused = self._unused, []
            for j in unused:
                self._mark_ready(j, None)
        if self._ready[i]:
            raise RuntimeError(
                f"Expected to mark a variable ready only once: parameter {i} "
                f"({self._param_names[i]}) received two gradients in one backward pass through "
                "DistributedDataParallel (use no_sync() or a single backward per forward)."
            )
        self._ready[i] = True
        self._event("ready", i)
        b, lo, hi = self._where[i]
        view = b.buf[lo:hi]
        xp = _xp(b.buf)
        g = None if p is None else p._grad
        if g is None:
            view[...] = 0
            self._local_used[i] = 0
        else:
            self._local_used[i] = 1
            ga = g._a
            if self._grad_views[i] is not None and g is self._grad_views[i]:
                xp.multiply(view, 1.0 / self.world_size, out=view)
            else:
                xp.multiply(ga.reshape(-1), 1.0 / self.world_size, out=view)
                if self.gradient_as_bucket_view:
                    gv = Tensor._make(view.reshape(ga.shape))
                    self._grad_views[i] = gv
                    p._grad = gv
        b.pending -= 1
        if b.pending == 0 and self._ddp_overlap:
            self._launch_ready()
        else:
            self._progress()

    def _launch_ready(self) -> None:
        bs = self._buckets
        while self._next_launch < len(bs) and bs[self._next_launch].pending == 0:
            b = bs[self._next_launch]
            b.work = self._impl.all_reduce(b.buf, self._dist.ReduceOp.SUM, True)
            b.launched = True
            self._event("launch", b.index)
            self._next_launch += 1

    def _progress(self) -> None:
        """Let MPI advance the outstanding nonblocking all-reduces (no progress thread)."""
        for b in self._buckets[: self._next_launch]:
            if b.work is not None and not b.work._done:
                b.work.is_completed()
                break

    def _wait(self, work: Any) -> None:
        """Wait for a bucket. MPI busy-polls while it waits (OpenMPI's default), which on a
        machine with more runnable processes than cores takes CPU time from the ranks still
        computing; so, after ~50 us of polling, test every ~50 us and sleep in between
        (a Test also progresses the transfer). NCCL work is waited for on the stream."""
        if self._impl.name != "mpi" or work._done:
            work.wait()
            return
        t0 = time.perf_counter()
        while not work.is_completed():
            if time.perf_counter() - t0 > 5e-5:
                time.sleep(5e-5)

    def _reset(self) -> None:
        self._armed = False
        self._queued = False
        self._ready = [False] * len(self._params)
        self._next_launch = 0
        for b in self._buckets:
            b.pending = len(b.params)
            b.work = None
            b.launched = False

    def _finalize(self) -> None:
        self._event("finalize")
        missing = [i for i, r in enumerate(self._ready) if not r]
        if missing:
            if not self.find_unused_parameters:
                self._reset()
                names = ", ".join(self._param_names[i] for i in missing)
                raise RuntimeError(
                    "Expected to have finished reduction in the prior iteration before starting "
                    "a new one. This error indicates that your module has parameters that were "
                    "not used in producing loss. You can enable unused parameter detection by "
                    "passing the keyword argument `find_unused_parameters=True` to "
                    "`ctorch.nn.parallel.DistributedDataParallel`, and by making sure all "
                    "`forward` function outputs participate in calculating loss. Parameter "
                    f"indices which did not receive grad for rank {self._dist.get_rank()}: "
                    f"{' '.join(map(str, missing))} ({names})"
                )
            for i in missing:  # in the graph but got no gradient: contributes zeros
                self._mark_ready(i, None)
        self._launch_ready()
        for b in self._buckets:
            self._wait(b.work)
        globally_used = None
        if self.find_unused_parameters:
            used = self._local_used.copy()
            self.process_group._mpi.all_reduce(used, self._dist.ReduceOp.SUM, False)
            globally_used = used > 0
        for i, p in enumerate(self._params):
            b, lo, hi = self._where[i]
            view = b.buf[lo:hi]
            g = p._grad
            if g is None:
                if globally_used is not None and globally_used[i]:
                    arr = view.reshape(p._a.shape)
                    if self.gradient_as_bucket_view:
                        self._grad_views[i] = p._grad = Tensor._make(arr)
                    else:
                        p._grad = Tensor._make(arr.copy())
                continue
            if self._grad_views[i] is not None and g is self._grad_views[i]:
                g._bump()
                continue
            g._a[...] = view.reshape(g._a.shape)
            g._bump()
        self._local_used[:] = 0
        self._reset()

    def register_comm_hook(self, state: object, hook: Any) -> None:
        raise NotImplementedError(
            "DistributedDataParallel.register_comm_hook is not supported by ctorch: gradients "
            "are averaged with an all-reduce per bucket"
        )

    def join(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "DistributedDataParallel.join (uneven inputs) is not supported by ctorch: give "
            "every rank the same number of batches (DistributedSampler does)"
        )

    def extra_repr(self) -> str:
        return ""
