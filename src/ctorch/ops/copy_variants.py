"""The ``*_copy`` variants of the view ops (``torch.t_copy``, ``narrow_copy``, ...): the view,
then a fresh copy that never shares memory with the input; gradients are the view op's and
``out=`` takes no cast (torch's checks). Generated from one table, ``COPY_OF``; split from
``surface5b.py`` (issue #14)."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from ._util import named


def _ct():
    import ctorch  # the public namespace: bind at call time

    return ctorch


def _slice(input: Tensor, dim: int = 0, start=None, end=None, step: int = 1) -> Tensor:
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    from ._util import wrap_dim

    d = wrap_dim(dim, input.dim(), "slice")
    return input[(slice(None),) * d + (slice(start, end, step),)]


def _split_with_sizes(input: Tensor, split_sizes, dim: int = 0):
    return _ct().split(input, list(split_sizes), dim)


#: torch.<view>_copy -> the view op it copies (a callable taking the input first)
COPY_OF: dict[str, Any] = {
    "alias_copy": lambda t: t.view_as(t),
    "as_strided_copy": lambda t, *a, **k: t.as_strided(*a, **k),
    "detach_copy": lambda t: t.detach(),
    "diagonal_copy": lambda t, *a, **k: t.diagonal(*a, **k),
    "narrow_copy": lambda t, *a, **k: t.narrow(*a, **k),
    "permute_copy": lambda t, dims: t.permute(*dims),
    "select_copy": lambda t, *a, **k: t.select(*a, **k),
    "slice_copy": _slice,
    "split_copy": lambda t, *a, **k: t.split(*a, **k),
    "split_with_sizes_copy": _split_with_sizes,
    "squeeze_copy": lambda t, *a, **k: t.squeeze(*a, **k),
    "t_copy": lambda t: t.t(),
    "transpose_copy": lambda t, *a, **k: t.transpose(*a, **k),
    "unbind_copy": lambda t, dim=0: t.unbind(dim),
    "unfold_copy": lambda t, *a, **k: t.unfold(*a, **k),
    "unsqueeze_copy": lambda t, *a, **k: t.unsqueeze(*a, **k),
    "view_copy": lambda t, size: t.view(size),
    "view_as_real_copy": lambda t: _ct().view_as_real(t),
    "view_as_complex_copy": lambda t: _ct().view_as_complex(t),
    "indices_copy": lambda t: t.indices(),
    "values_copy": lambda t: t.values(),
    "crow_indices_copy": lambda t: t.crow_indices(),
    "col_indices_copy": lambda t: t.col_indices(),
    "ccol_indices_copy": lambda t: t.ccol_indices(),
    "row_indices_copy": lambda t: t.row_indices(),
}


def _fresh(t: Tensor) -> Tensor:
    from .._tensor import Tensor as T

    if type(t) is not T:  # a sparse tensor's own clone
        return t.clone()
    return t.clone(memory_format=_ct().contiguous_format)


def _copy_out(out, r):
    ct = _ct()
    if isinstance(r, tuple):
        if not isinstance(out, list | tuple) or len(out) != len(r):
            raise RuntimeError(
                f"expected out= to be a list of {len(r)} tensors, got {type(out).__name__}"
            )
        for o, x in zip(out, r, strict=True):
            _copy_out(o, x)
        return None
    if ct.is_grad_enabled() and (r.requires_grad or out.requires_grad):
        raise RuntimeError(
            "functions with out=... arguments don't support automatic differentiation, but "
            "one of the arguments requires grad."
        )
    if out.dtype != r.dtype:  # the *_copy ops take no casting out= (torch's check)
        raise RuntimeError(
            f"Expected out tensor to have dtype {r.dtype}, but got {out.dtype} instead"
        )
    if tuple(out.shape) != tuple(r.shape):
        out.resize_(*r.shape)
    return out.copy_(r)


def _copy_variant(name: str, view):
    def fn(input: Tensor, *args, out=None, **kwargs):
        r = view(input, *args, **kwargs)
        r = tuple(_fresh(x) for x in r) if isinstance(r, list | tuple) else _fresh(r)
        if out is None:
            return r
        _copy_out(out, r)
        return out

    return named(fn, name)


COPY_VARIANTS: dict[str, Any] = {n: _copy_variant(n, v) for n, v in COPY_OF.items()}
