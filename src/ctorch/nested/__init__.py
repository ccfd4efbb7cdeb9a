"""``ctorch.nested`` (torch.nested): tensors of tensors with different sizes along some dims.

``NestedTensor`` (``_tensor.py``) is a ``ctorch.Tensor`` subclass holding its component
tensors (``layout=ctorch.strided``) or one ``values`` tensor plus ``offsets``
(``layout=ctorch.jagged``); nested ops are ordinary ctorch ops on those, so autograd needs no
nested node of its own. ``F.linear``/``F.softmax``/``F.log_softmax``/``matmul``/``bmm``/
``F.scaled_dot_product_attention``/``F.relu``/``F.gelu``/``F.silu``/``F.dropout`` take nested
inputs: a dense op reaching a nested tensor's missing array raises ``NestedInput``, which
those functions catch (zero cost on the dense path) to call ``_ops.DISPATCH``.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from . import _ops
from ._tensor import NestedInt, NestedTensor

__all__ = [
    "nested_tensor",
    "as_nested_tensor",
    "to_padded_tensor",
    "narrow",
    "nested_tensor_from_jagged",
    "NestedTensor",
    "NestedInt",
]


def _layout_name(layout) -> str:
    import ctorch

    if layout is None or layout is ctorch.strided:
        return "strided"
    if layout is ctorch.jagged:
        return "jagged"
    raise RuntimeError(
        f"Specified layout is unsupported for nested tensors: {layout} (use ctorch.strided or "
        "ctorch.jagged)"
    )


def _check_comps(comps, lay: str) -> None:
    if not comps:
        return
    nd0 = comps[0].dim()
    for i, c in enumerate(comps):
        if c.dim() != nd0:
            raise RuntimeError(
                "All Tensors given to nested_tensor must have the same dimension. Found "
                f"dimension {c.dim()} for Tensor at index {i} and dimension {nd0} for Tensor at "
                "index 0."
            )
    if lay == "jagged":
        if nd0 == 0:
            raise RuntimeError("Cannot create a jagged nested tensor from 0-dim components")
        rest = {tuple(c.shape[1:]) for c in comps}
        if len(rest) != 1:
            raise RuntimeError(
                "Cannot represent given tensor list as a nested tensor with the jagged layout. "
                "Note that the jagged layout only allows for a single ragged dimension. For "
                "example: (B, *, D_0, D_1, ..., D_N), with ragged * dim."
            )


def _jagged_from_list(comps) -> NestedTensor:
    from ..ops.join import cat

    lens = [c.shape[0] for c in comps]
    off = Tensor._make(np.concatenate([[0], np.cumsum(lens)]).astype(np.int64))
    return NestedTensor._jagged(cat(list(comps), 0), off)


def _to_tensor(x, dtype, device) -> Tensor:
    import ctorch

    if isinstance(x, NestedTensor):
        raise RuntimeError("nested_tensor(): nested components must be dense tensors")
    if isinstance(x, Tensor):
        return x.to(dtype=dtype, device=device) if (dtype or device) else x
    return ctorch.tensor(x, dtype=dtype, device=device)


def nested_tensor(
    tensor_list, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False
) -> NestedTensor:
    """``torch.nested.nested_tensor``: a new nested tensor (a leaf, no autograd history) with
    copies of the given tensors (or nested lists of numbers)."""
    lay = _layout_name(layout)
    if isinstance(tensor_list, Tensor):
        tensor_list = list(tensor_list.unbind(0))
    comps = [_to_tensor(x, dtype, device).detach().clone() for x in tensor_list]
    _check_comps(comps, lay)
    if lay == "jagged":
        if not comps:
            raise RuntimeError("nested_tensor(): cannot create an empty jagged nested tensor")
        nt = _jagged_from_list(comps)
        nt._val = nt._val.detach()
    else:
        nt = NestedTensor._strided(comps)
    if requires_grad:
        nt.requires_grad_(True)
    return nt


def as_nested_tensor(ts, dtype=None, device=None, layout=None) -> NestedTensor:
    """``torch.nested.as_nested_tensor``: a nested tensor of ``ts`` (a list of tensors, or a
    tensor split along dim 0) that keeps their autograd history: gradients flow back to them."""
    lay = _layout_name(layout)
    if isinstance(ts, NestedTensor):
        if _layout_name(ts.layout) != lay:
            raise RuntimeError(
                "as_nested_tensor(): converting between nested layouts is not supported"
            )
        return ts.to(dtype=dtype, device=device) if (dtype or device) else ts
    if isinstance(ts, Tensor):
        if ts.dim() < 1:
            raise RuntimeError("as_nested_tensor(): a dense input needs at least one dim")
        comps = list(ts.unbind(0))
    elif isinstance(ts, (list, tuple)):
        if not all(isinstance(t, Tensor) for t in ts):
            raise TypeError("as_nested_tensor(): expected a list of Tensors or a Tensor")
        comps = list(ts)
    else:
        raise TypeError(
            f"as_nested_tensor(): expected a list of Tensors or a Tensor, got {type(ts).__name__}"
        )
    if dtype is not None or device is not None:
        comps = [c.to(dtype=dtype, device=device) for c in comps]
    _check_comps(comps, lay)
    if lay == "jagged":
        return _jagged_from_list(comps)
    return NestedTensor._strided([c.clone() for c in comps])


def to_padded_tensor(input, padding, output_size=None, *, out=None) -> Tensor:
    """``torch.nested.to_padded_tensor``: a dense tensor, each component padded at the end of
    every dim with ``padding`` up to the largest size (or ``output_size``). Differentiable."""
    from ..ops.join import stack
    from ..ops.spatial import pad

    if out is not None:
        raise _ops.unsupported("to_padded_tensor.out")
    if not isinstance(input, NestedTensor):
        raise NotImplementedError(
            "Could not run 'aten::to_padded_tensor' with arguments from the 'CPU' backend: "
            "to_padded_tensor takes a nested tensor"
        )
    comps = input._components()
    if not comps:
        raise RuntimeError("to_padded_tensor(): empty nested tensor")
    cd = comps[0].dim()
    big = [max(c.shape[d] for c in comps) for d in range(cd)]
    if output_size is not None and input._lay == "jagged":
        # torch's jagged rule: output_size sets the ragged dim only (longer components are
        # cut), the batch and regular dims keep their sizes
        r = input._ridx - 1
        big[r] = int(list(output_size)[input._ridx])
        comps = [c.narrow(r, 0, big[r]) if c.shape[r] > big[r] else c for c in comps]
        output_size = None
    if output_size is not None:
        output_size = [int(s) for s in output_size]
        if len(output_size) != cd + 1:
            raise RuntimeError(
                "Length of output_size does not match NestedTensor dims. Broadcasting is not "
                "supported."
            )
        if output_size[0] != len(comps) and output_size[0] < len(comps):
            raise RuntimeError(
                "Value in output_size is less than NestedTensor padded size. Truncation is not "
                "supported."
            )
        for d in range(cd):
            if output_size[d + 1] < big[d]:
                raise RuntimeError(
                    "Value in output_size is less than NestedTensor padded size. Truncation is "
                    "not supported."
                )
        big = output_size[1:]
    padded = []
    for c in comps:
        widths = []
        for d in reversed(range(cd)):
            widths += [0, big[d] - c.shape[d]]
        padded.append(pad(c, widths, value=padding) if any(widths) else c)
    r = stack(padded, 0)
    if output_size is not None and output_size[0] > len(comps):
        extra = output_size[0] - len(comps)
        r = pad(r, [0, 0] * cd + [0, extra], value=padding)
    return r


def narrow(tensor, dim, start, length, layout=None) -> NestedTensor:
    """``torch.nested.narrow``: along ``dim`` of a dense ``tensor``, keep ``length`` elements
    from ``start`` (ints, or one per batch entry as 1-D tensors). ``layout=ctorch.jagged``
    (dim 1) gives a non-contiguous jagged view (``offsets`` + ``lengths``) of ``tensor``."""
    lay = _layout_name(layout)
    if isinstance(tensor, NestedTensor):
        raise RuntimeError("narrow(): expected a dense tensor to narrow")
    if lay == "strided":
        if dim != 0:
            raise RuntimeError(f"narrow(): only dim=0 supported for nested tensors, but got: {dim}")
        if isinstance(start, Tensor) or isinstance(length, Tensor):
            raise RuntimeError("narrow(): start and length must be ints for the strided layout")
        return as_nested_tensor(tensor.narrow(0, int(start), int(length)))
    if dim != 1:
        raise RuntimeError("jagged layout only supports dim=1")
    if tensor.dim() < 2:
        raise RuntimeError("narrow(): the tensor needs at least 2 dims")
    if not tensor.is_contiguous():
        raise RuntimeError("narrow(): the tensor must be contiguous")
    B, L = tensor.shape[0], tensor.shape[1]
    st = np.broadcast_to(
        np.asarray(start._a if isinstance(start, Tensor) else start, np.int64), (B,)
    )
    ln = np.broadcast_to(
        np.asarray(length._a if isinstance(length, Tensor) else length, np.int64), (B,)
    )
    if np.any(st < 0) or np.any(ln < 0) or np.any(st + ln > L):
        raise RuntimeError("narrow(): start + length exceeds the dimension size")
    off = np.concatenate([st + np.arange(B) * L, [st[-1] + (B - 1) * L + ln[-1]]]).astype(np.int64)
    values = tensor.reshape((B * L,) + tuple(tensor.shape[2:]))
    return NestedTensor._jagged(values, Tensor._make(off), Tensor._make(ln.copy()))


def nested_tensor_from_jagged(
    values, offsets=None, lengths=None, jagged_dim=None, min_seqlen=None, max_seqlen=None
) -> NestedTensor:
    """``torch.nested.nested_tensor_from_jagged``: a jagged nested tensor viewing ``values``
    (its dim ``jagged_dim - 1`` is the packed ragged dim) split by ``offsets`` (B + 1 entries)
    and/or ``lengths``; autograd flows to ``values``."""
    if offsets is None:
        if lengths is None:
            raise RuntimeError(
                "nested_tensor_from_jagged(): At least one of offsets or lengths is required."
            )
        la = np.asarray(lengths._a, np.int64)
        offsets = Tensor._make(np.concatenate([[0], np.cumsum(la)]).astype(np.int64))
        lengths = None
    if offsets.dim() != 1:
        raise RuntimeError("nested_tensor_from_jagged(): offsets must be 1-D")
    if offsets.dtype not in (D.int64, D.int32):
        raise RuntimeError("nested_tensor_from_jagged(): offsets must be an integer tensor")
    jd = 1 if jagged_dim is None else int(jagged_dim)
    if not 1 <= jd <= values.dim():
        raise RuntimeError(
            f"nested_tensor_from_jagged(): jagged_dim {jd} out of range for values of "
            f"{values.dim()} dims"
        )
    if int(offsets._a[-1]) > values.shape[jd - 1] and lengths is None:
        raise RuntimeError(
            "nested_tensor_from_jagged(): the last offset exceeds the size of the ragged dim "
            "of values"
        )
    if offsets.dtype != D.int64:
        offsets = offsets.to(D.int64)
    if lengths is not None and lengths.dtype != D.int64:
        lengths = lengths.to(D.int64)
    vals = values if jd == 1 else values.movedim(jd - 1, 0)
    return NestedTensor._jagged(vals, offsets, lengths, jd)


def _install() -> None:
    """Attach the nested ops to ``NestedTensor``. ``F.linear``/``F.relu``/``F.softmax``/
    ``matmul``/``bmm``/... reach ``_ops.DISPATCH`` by catching ``NestedInput`` (no
    wrappers: the functions keep their identity, so pickling them by name still works)."""
    _ops.install()


_install()
