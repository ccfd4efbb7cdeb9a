"""DTensor: a ctorch.Tensor whose array is this rank's local piece of a global tensor laid out
over a DeviceMesh.

``DTensor`` subclasses ``ctorch.Tensor``: its storage (``_a``) is the *local* shard, so kernels,
optimizers (which update ``p._a`` in place) and in-place methods act on the local shard, while
``shape``/``size``/``dim``/``numel``/``stride`` describe the *global* tensor, as torch's. Shape-
preserving elementwise methods (``+ - * /``, ``clone``, ``detach``, ``to``, ``sqrt``...) between
DTensors of the same layout, or with Python scalars, return DTensors of that layout; anything
else runs on ``to_local()``. Redistribution goes through collectives on the mesh's groups
(gathering to the full tensor and slicing again: simple, not torch's minimal-communication plans);
``redistribute``/``full_tensor``/``to_local``/``from_local`` are not differentiable here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._tensor import Tensor
from ..._torch_function import _disabled_torch_function_impl
from ...nn.parameter import Parameter
from ..device_mesh import DeviceMesh
from .placement_types import Partial, Placement, Replicate, Shard

__all__ = [
    "DTensor",
    "distribute_module",
    "distribute_tensor",
    "empty",
    "full",
    "ones",
    "zeros",
]


def _xp(a: Any) -> Any:
    if type(a) is np.ndarray:
        return np
    import cupy

    return cupy


def _dist():
    from ... import distributed

    return distributed


def _chunk(size: int, n: int, i: int) -> tuple[int, int]:
    """``[start, end)`` of chunk ``i`` of ``n`` of ``size`` rows (torch.chunk, empty tails)."""
    c = -(-size // n) if size else 0
    return min(i * c, size), min((i + 1) * c, size)


class _Spec:
    __slots__ = ("mesh", "placements", "shape", "stride")

    def __init__(
        self, mesh: DeviceMesh, placements: tuple[Placement, ...], shape: tuple[int, ...]
    ) -> None:
        self.mesh = mesh
        self.placements = placements
        self.shape = tuple(int(s) for s in shape)
        st, acc = [], 1
        for s in reversed(self.shape):
            st.append(acc)
            acc *= max(s, 1)
        self.stride = tuple(reversed(st))

    def same_layout(self, other: _Spec) -> bool:
        return (
            self.mesh == other.mesh
            and self.placements == other.placements
            and self.shape == other.shape
        )


def _norm_placements(
    mesh: DeviceMesh, placements: Sequence[Placement] | None, ndim: int
) -> tuple[Placement, ...]:
    if placements is None:
        return tuple(Replicate() for _ in range(mesh.ndim))
    pls = list(placements)
    if len(pls) != mesh.ndim:
        raise ValueError(
            f"`placements` must have the same length as `device_mesh.ndim`! Found placements "
            f"length: {len(pls)}, and device_mesh.ndim: {mesh.ndim}."
        )
    out: list[Placement] = []
    for p in pls:
        if not isinstance(p, Placement):
            raise TypeError(f"placements must be Placement objects, got {type(p).__name__}")
        if isinstance(p, Shard):
            d = p.dim
            if not -ndim <= d < max(ndim, 1):
                raise IndexError(f"Shard(dim={d}) is out of range for a {ndim}-D tensor")
            p = Shard(d % ndim) if d < 0 else p
        out.append(p)
    return tuple(out)


def _boxes(spec: _Spec, coord: Sequence[int]) -> list[tuple[list[int], list[int]]]:
    """Offsets and sizes of the region held after each prefix of the placements (index k:
    after placements[:k]); the last is the local shard of the rank at ``coord``."""
    off = [0] * len(spec.shape)
    size = list(spec.shape)
    out = [(list(off), list(size))]
    for md, p in enumerate(spec.placements):
        if isinstance(p, Shard):
            s, e = _chunk(size[p.dim], spec.mesh.size(md), coord[md])
            off[p.dim] += s
            size[p.dim] = e - s
        out.append((list(off), list(size)))
    return out


def _local_box(spec: _Spec) -> tuple[list[int], list[int]]:
    coord = spec.mesh.get_coordinate()
    if coord is None:
        return [0] * len(spec.shape), [0] * len(spec.shape)
    return _boxes(spec, coord)[-1]


_REDUCE = {"sum": "SUM", "avg": "AVG", "max": "MAX", "min": "MIN"}


def _gather_dim(a: Any, dim: int, total: int, group: Any, n: int) -> Any:
    """All-gather the chunks of ``total`` rows along ``dim`` (chunk rule) of a group of n."""
    dist = _dist()
    xp = _xp(a)
    c = -(-total // n) if total else 0
    moved = xp.moveaxis(a, dim, 0)
    rest = moved.shape[1:]
    pad = xp.zeros((c, *rest), dtype=a.dtype)
    pad[: moved.shape[0]] = moved
    out = xp.empty((n * c, *rest), dtype=a.dtype)
    if n == 1:
        out[...] = pad
    else:
        dist.all_gather_into_tensor(Tensor._make(out), Tensor._make(pad), group=group)
    # rank i's rows sit at [i*c, i*c + its chunk length); only the tails carry padding
    pieces = []
    for i in range(n):
        s, e = _chunk(total, n, i)
        pieces.append(out[i * c : i * c + (e - s)])
    full = xp.concatenate(pieces, axis=0)
    return xp.ascontiguousarray(xp.moveaxis(full, 0, dim))


def _to_full(local: Any, spec: _Spec) -> Any:
    """The global array from this rank's local one (collective over the mesh's groups)."""
    dist = _dist()
    coord = spec.mesh.get_coordinate()
    boxes = _boxes(spec, coord)
    a = local
    for md in reversed(range(len(spec.placements))):
        p = spec.placements[md]
        g = spec.mesh.get_group(md)
        n = spec.mesh.size(md)
        if isinstance(p, Shard):
            total = boxes[md][1][p.dim]
            a = _gather_dim(a, p.dim, total, g, n)
        elif isinstance(p, Partial) and n > 1:
            t = Tensor._make(a.copy(order="C"))
            dist.all_reduce(t, op=getattr(dist.ReduceOp, _REDUCE[p.reduce_op]), group=g)
            a = t._a
    return a


def _from_full(full: Any, spec: _Spec) -> Any:
    """This rank's local array of ``spec`` from the global array every rank holds."""
    off, size = _local_box(spec)
    idx = tuple(slice(o, o + s) for o, s in zip(off, size, strict=True))
    a = full[idx].copy(order="C")
    coord = spec.mesh.get_coordinate()
    for md, p in enumerate(spec.placements):
        if isinstance(p, Partial) and p.reduce_op == "sum" and coord[md] != 0:
            a[...] = 0  # the value lives on coordinate 0, the others add nothing
    return a


class DTensor(Tensor):
    """A distributed tensor (``torch.distributed.tensor.DTensor``): this rank's local shard,
    the DeviceMesh and one Placement per mesh dimension. Build one with
    :func:`distribute_tensor` or :meth:`DTensor.from_local`."""

    __torch_function__ = _disabled_torch_function_impl  # as torch's DTensor

    def __new__(cls, *args: Any, **kwargs: Any) -> DTensor:
        raise TypeError(
            "DTensor is not built directly: use distribute_tensor(...) or DTensor.from_local(...)"
        )

    @classmethod
    def _wrap(cls, local: Any, spec: _Spec, requires_grad: bool = False) -> DTensor:
        """A DTensor of class ``cls`` over the array (or Tensor) ``local``."""
        t = object.__new__(cls)
        Tensor._init_slots(t)
        if isinstance(local, Tensor):
            t._a = local._a
            t._vref = local._vref
        else:
            t._a = local
        t.__dict__["_spec"] = spec
        if requires_grad:
            t._rg = True
        return t

    # ---------------------------------------------------------------- layout
    @property
    def device_mesh(self) -> DeviceMesh:
        return self._spec.mesh

    @property
    def placements(self) -> tuple[Placement, ...]:
        return self._spec.placements

    @property
    def _local_tensor(self) -> Tensor:
        return self.to_local()

    @property
    def shape(self):
        from ..._tensor import Size

        return Size(self._spec.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return self.shape
        nd = len(self._spec.shape)
        if not -nd <= dim < nd:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got "
                f"{dim})"
            )
        return self._spec.shape[dim]

    @property
    def ndim(self) -> int:
        return len(self._spec.shape)

    def dim(self) -> int:
        return len(self._spec.shape)

    ndimension = dim

    def numel(self) -> int:
        return int(math.prod(self._spec.shape))

    nelement = numel

    def stride(self, dim: int | None = None):
        if dim is None:
            return self._spec.stride
        return self._spec.stride[dim]

    def __len__(self) -> int:
        if not self._spec.shape:
            raise TypeError("len() of a 0-d tensor")
        return self._spec.shape[0]

    def __repr__(self) -> str:
        return (
            f"DTensor(local_tensor={Tensor.__repr__(self.to_local())}, device_mesh="
            f"{self.device_mesh}, placements={self.placements})"
        )

    __str__ = __repr__

    # ---------------------------------------------------------------- conversions
    def to_local(self, *, grad_placements: Sequence[Placement] | None = None) -> Tensor:
        """This rank's shard, a plain Tensor sharing the storage."""
        t = Tensor._make(self._a)
        t._vref = self._vref
        return t

    def full_tensor(self, *, grad_placements: Sequence[Placement] | None = None) -> Tensor:
        """The global tensor on every rank (collective)."""
        return Tensor._make(_to_full(self._a, self._spec))

    def redistribute(
        self,
        device_mesh: DeviceMesh | None = None,
        placements: Sequence[Placement] | None = None,
        *,
        async_op: bool = False,
        forward_dtype: Any = None,
        backward_dtype: Any = None,
    ) -> DTensor:
        """The same global tensor with ``placements`` (collective)."""
        mesh = device_mesh if device_mesh is not None else self.device_mesh
        if mesh != self.device_mesh:
            raise NotImplementedError(
                "DTensor.redistribute: changing the DeviceMesh is not supported"
            )
        if placements is None:
            raise RuntimeError("placements is needed for redistribute!")
        pls = _norm_placements(mesh, placements, self.ndim)
        for p in pls:
            if isinstance(p, Partial) and p.reduce_op != "sum" and p not in self.placements:
                raise RuntimeError(
                    f"redistribute to {p} is only supported from the same Partial placement"
                )
        if pls == self.placements:
            return self
        spec = _Spec(mesh, pls, self._spec.shape)
        out = _from_full(_to_full(self._a, self._spec), spec)
        if forward_dtype is not None:
            from ..._dtype import to_numpy_dtype

            out = out.astype(to_numpy_dtype(forward_dtype))
        return DTensor._wrap(out, spec)

    @staticmethod
    def from_local(
        local_tensor: Tensor,
        device_mesh: DeviceMesh | None = None,
        placements: Sequence[Placement] | None = None,
        *,
        run_check: bool = False,
        shape: Sequence[int] | None = None,
        stride: Sequence[int] | None = None,
    ) -> DTensor:
        """A DTensor over each rank's ``local_tensor``. Without ``shape`` the global shape
        assumes even shards (local size times the mesh size along each sharded dimension), as
        torch's; ``run_check`` broadcasts the replicated ranks' data from coordinate 0."""
        mesh = device_mesh if device_mesh is not None else _default_mesh()
        if not isinstance(local_tensor, Tensor):
            raise TypeError("from_local: local_tensor must be a Tensor")
        pls = _norm_placements(mesh, placements, local_tensor.dim())
        if shape is None:
            gshape = list(local_tensor.shape)
            for md, p in enumerate(pls):
                if isinstance(p, Shard):
                    gshape[p.dim] *= mesh.size(md)
        else:
            gshape = list(shape)
        spec = _Spec(mesh, pls, tuple(gshape))
        a = local_tensor._a
        if run_check:
            dist = _dist()
            for md, p in enumerate(pls):
                if isinstance(p, Replicate) and mesh.size(md) > 1:
                    t = Tensor._make(a.copy(order="C"))
                    g = mesh.get_group(md)
                    dist.broadcast(t, src=dist.get_global_rank(g, 0), group=g)
                    a = t._a
        return DTensor._wrap(a if a is not local_tensor._a else local_tensor, spec)

    # ---------------------------------------------------------------- ops
    def _like(self, out: Any) -> Any:
        if isinstance(out, Tensor) and tuple(out._a.shape) == tuple(self._a.shape):
            return DTensor._wrap(out, self._spec, requires_grad=out.requires_grad)
        return out

    def detach(self) -> DTensor:
        return DTensor._wrap(self.to_local().detach(), self._spec)

    def clone(self, *, memory_format: Any = None) -> DTensor:
        return DTensor._wrap(Tensor._make(self._a.copy()), self._spec)

    def __deepcopy__(self, memo: dict) -> DTensor:
        if id(self) in memo:
            return memo[id(self)]
        out = type(self)._wrap(self._a.copy(), self._spec, requires_grad=self._rg)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, proto: int) -> Any:
        raise RuntimeError(
            "DTensor cannot be pickled by ctorch (its DeviceMesh holds process groups): save "
            "with ctorch.distributed.checkpoint.save, or save full_tensor()/to_local()"
        )


def _local_of(x: Any, spec: _Spec, what: str) -> Any:
    if isinstance(x, DTensor):
        if not x._spec.same_layout(spec):
            raise RuntimeError(
                f"DTensor.{what}: operands have different layouts ({x.placements} shape "
                f"{tuple(x.shape)} vs {spec.placements} shape {spec.shape}); redistribute first"
            )
        return x.to_local()
    if isinstance(x, Tensor) and x._a.ndim > 0:
        raise RuntimeError(
            f"DTensor.{what}: got a mix of DTensor and plain Tensor operands; wrap the plain one "
            "with distribute_tensor or DTensor.from_local"
        )
    return x


def _make_elementwise(name: str, inplace: bool) -> Any:
    def method(self: DTensor, *args: Any, **kwargs: Any) -> Any:
        if any(isinstance(p, Partial) for p in self.placements) and name not in _LINEAR:
            raise RuntimeError(
                f"DTensor.{name} on a Partial DTensor is not supported: redistribute it to "
                "Replicate or Shard first"
            )
        args = tuple(_local_of(a, self._spec, name) for a in args)
        kwargs = {k: _local_of(v, self._spec, name) for k, v in kwargs.items()}
        out = getattr(Tensor, name)(self.to_local(), *args, **kwargs)
        if inplace:
            return self
        return self._like(out)

    method.__name__ = name
    method.__qualname__ = f"DTensor.{name}"
    method.__doc__ = f"``Tensor.{name}`` on the local shard (same layout operands)."
    return method


_LINEAR = {
    "add", "add_", "sub", "sub_", "neg", "neg_", "__add__", "__radd__", "__sub__", "__rsub__",
    "__neg__", "mul_", "div_", "zero_", "copy_", "to", "float", "double", "half", "bfloat16",
    "cpu", "cuda", "contiguous", "clone", "detach",
}  # fmt: skip
for _name in (
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__neg__", "__pow__", "add", "sub", "mul", "div", "neg", "abs", "sqrt",
    "square", "exp", "log", "sign", "to", "float", "double", "half", "bfloat16", "lerp",
    "maximum", "minimum", "clamp", "sigmoid", "tanh", "relu", "contiguous", "type_as", "cpu",
    "cuda",
):  # fmt: skip
    if hasattr(Tensor, _name):
        setattr(DTensor, _name, _make_elementwise(_name, False))
for _name in (
    "add_", "sub_", "mul_", "div_", "neg_", "zero_", "fill_", "copy_", "addcmul_", "addcdiv_",
    "lerp_", "sqrt_", "abs_", "clamp_", "clamp_min_", "clamp_max_", "pow_", "exp_", "uniform_",
    "normal_", "__iadd__", "__isub__", "__imul__", "__itruediv__",
):  # fmt: skip
    if hasattr(Tensor, _name):
        setattr(DTensor, _name, _make_elementwise(_name, True))


class _DTensorParameter(DTensor, Parameter):
    """``nn.Parameter(dtensor)``: a DTensor that modules register as a parameter."""

    def __repr__(self) -> str:
        return "Parameter containing:\n" + DTensor.__repr__(self)

    __str__ = __repr__

    def __reduce_ex__(self, proto: int) -> Any:
        return DTensor.__reduce_ex__(self, proto)

    def __deepcopy__(self, memo: dict) -> Any:
        return DTensor.__deepcopy__(self, memo)


_DTensorParameter.__name__ = _DTensorParameter.__qualname__ = "DTensor"


def _as_parameter(dt: DTensor, requires_grad: bool = True) -> DTensor:
    """``nn.Parameter(dt)``: the same local storage and layout, registered as a parameter."""
    p = _DTensorParameter._wrap(dt, dt._spec)
    if requires_grad:
        p._rg = True
    return p


DTensor._as_parameter = staticmethod(_as_parameter)


def _default_mesh() -> DeviceMesh:
    from ..device_mesh import init_device_mesh

    dist = _dist()
    if not dist.is_initialized():
        dist.init_process_group()
    return init_device_mesh("cpu", (dist.get_world_size(),))


def distribute_tensor(
    tensor: Tensor,
    device_mesh: DeviceMesh | None = None,
    placements: Sequence[Placement] | None = None,
    *,
    src_data_rank: int | None = 0,
) -> DTensor:
    """Lay ``tensor`` (the global value) out over ``device_mesh`` with ``placements``
    (``Replicate()`` on every mesh dimension by default). As torch's, the data comes from
    coordinate ``src_data_rank`` of each mesh dimension (broadcast); ``src_data_rank=None``
    uses every rank's own ``tensor``."""
    mesh = device_mesh if device_mesh is not None else _default_mesh()
    if isinstance(tensor, DTensor):
        if tensor.device_mesh != mesh:
            raise ValueError("distribute_tensor: the DTensor is already on another mesh")
        return tensor.redistribute(mesh, placements)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"distribute_tensor expects a Tensor, got {type(tensor).__name__}")
    pls = _norm_placements(mesh, placements, tensor.dim())
    for p in pls:
        if isinstance(p, Partial):
            raise RuntimeError("distribute_tensor: Partial placements are not supported")
    a = tensor._a if tensor._a.flags.c_contiguous else tensor._a.copy(order="C")
    if src_data_rank is not None and mesh.size() > 1:
        dist = _dist()
        t = Tensor._make(a.copy())
        for md in range(mesh.ndim):
            if mesh.size(md) > 1:
                g = mesh.get_group(md)
                dist.broadcast(t, src=dist.get_global_rank(g, src_data_rank), group=g)
        a = t._a
    spec = _Spec(mesh, pls, tuple(tensor.shape))
    return DTensor._wrap(_from_full(a, spec), spec, requires_grad=tensor.requires_grad)


def distribute_module(module: Any, device_mesh: DeviceMesh | None = None, *args: Any, **kw: Any):
    """Replicate every parameter of ``module`` over the mesh (no ``partition_fn`` support)."""
    if args or any(v is not None for v in kw.values()):
        raise NotImplementedError(
            "distribute_module: partition_fn/input_fn/output_fn are not supported by ctorch"
        )
    from ...nn.parameter import Parameter

    mesh = device_mesh if device_mesh is not None else _default_mesh()
    for m in module.modules():
        for name, p in list(m._parameters.items()):
            if p is not None and not isinstance(p, DTensor):
                m._parameters[name] = Parameter(
                    distribute_tensor(p.detach(), mesh, [Replicate()] * mesh.ndim),
                    p.requires_grad,
                )
    return module


def _factory(fill: Any, name: str):
    def make(
        *size: Any,
        dtype: Any = None,
        device_mesh: DeviceMesh | None = None,
        placements: Sequence[Placement] | None = None,
        requires_grad: bool = False,
        **kwargs: Any,
    ) -> DTensor:
        import ctorch

        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        mesh = device_mesh if device_mesh is not None else _default_mesh()
        pls = _norm_placements(mesh, placements, len(shape))
        spec = _Spec(mesh, pls, tuple(int(s) for s in shape))
        _, local = _local_box(spec)
        if fill is None:
            t = ctorch.empty(*local, dtype=dtype)
        else:
            t = ctorch.full(tuple(local), kwargs.pop("fill_value", fill), dtype=dtype)
        return DTensor._wrap(t, spec, requires_grad=requires_grad)

    make.__name__ = name
    make.__doc__ = f"``torch.distributed.tensor.{name}``: each rank allocates its local shard."
    return make


zeros = _factory(0.0, "zeros")
ones = _factory(1.0, "ones")
empty = _factory(None, "empty")


def full(size: Sequence[int], fill_value: Any, **kwargs: Any) -> DTensor:
    """``torch.distributed.tensor.full``: each rank allocates its local shard."""
    return _factory(fill_value, "full")(*size, **kwargs)


def _total_norm(grads: list[Tensor], norm_type: float, local: Any) -> float:
    """``clip_grad_norm_``'s total norm when some gradients are DTensors: each layout's local
    norm is reduced over the mesh dimensions it is sharded on (plain tensors count once)."""
    dist = _dist()
    groups: dict[Any, list[Tensor]] = {}
    plain = []
    for g in grads:
        if isinstance(g, DTensor):
            dims = tuple(i for i, p in enumerate(g.placements) if p.is_shard())
            groups.setdefault((g.device_mesh, dims), []).append(g)
        else:
            plain.append(g)
    parts = [local(plain, norm_type)] if plain else []
    inf = math.isinf(norm_type)
    for (mesh, dims), gs in groups.items():
        v = local(gs, norm_type)
        if not inf and norm_type != 0:
            v = v**norm_type
        if inf:
            op = dist.ReduceOp.MAX if norm_type > 0 else dist.ReduceOp.MIN
        else:
            op = dist.ReduceOp.SUM
        t = Tensor._make(np.array([v], dtype=np.float64))
        for d in dims:
            if mesh.size(d) > 1:
                dist.all_reduce(t, op=op, group=mesh.get_group(d))
        v = float(t._a[0])
        parts.append(v if inf or norm_type == 0 else v ** (1.0 / norm_type))
    if inf:
        return max(parts) if norm_type > 0 else min(parts)
    if norm_type == 0:
        return float(sum(parts))
    return float(sum(p**norm_type for p in parts)) ** (1.0 / norm_type)
