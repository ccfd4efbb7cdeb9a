"""Gradient clipping by total norm or by value (in place on ``p.grad``)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

import ctorch

from ... import _dtype as D
from ... import _warnings
from ..._backend import xp_of
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad

__all__ = [
    "clip_grad_norm_",
    "clip_grad_norm",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
]

_tensor_or_tensors = Tensor | Iterable[Tensor]


def _grads(parameters: _tensor_or_tensors) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _total_norm(grads: list[Tensor], norm_type: float) -> float:
    if any("_spec" in g.__dict__ for g in grads):
        # DTensor gradients (FSDP2): local norms, reduced over the sharded mesh dimensions
        from ...distributed.tensor._api import _total_norm as _dtensor_total_norm

        return _dtensor_total_norm(grads, norm_type, _local_total_norm)
    return _local_total_norm(grads, norm_type)


def _local_total_norm(grads: list[Tensor], norm_type: float) -> float:
    if norm_type == math.inf:
        return max(float(xp_of(g._a).abs(g._a).max()) if g._a.size else 0.0 for g in grads)
    if norm_type == -math.inf:
        return min(float(xp_of(g._a).abs(g._a).min()) if g._a.size else math.inf for g in grads)
    acc = 0.0
    if norm_type == 2.0:
        for g in grads:
            a = g._a.reshape(-1)
            acc += (
                float(xp_of(a).dot(a, a).astype(np.float64))
                if a.dtype.kind in "fV"
                else float((a.astype(np.float64) ** 2).sum())
            )
        return math.sqrt(acc)
    if norm_type == 1.0:
        return float(sum(float(xp_of(g._a).abs(g._a).sum(dtype=np.float64)) for g in grads))
    if norm_type == 0:
        return float(sum(int(xp_of(g._a).count_nonzero(g._a)) for g in grads))
    for g in grads:
        acc += float((xp_of(g._a).abs(g._a).astype(np.float64) ** norm_type).sum())
    return acc ** (1.0 / norm_type)


def _meta_norm(like: Tensor, error_if_nonfinite: bool) -> Tensor:
    """The norm of meta gradients: a 0-d meta tensor (nothing is read or scaled, as torch);
    the finiteness check reads its value and raises torch's error."""
    if error_if_nonfinite:
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")
    return ctorch.empty((), dtype=like.dtype, device="meta")


def _norm_tensor(total: float, like: Tensor) -> Tensor:
    out = ctorch.tensor(total, dtype=D.from_numpy_dtype(like._a.dtype))
    return out.to(like.device) if like.is_cuda else out


def _check_finite(total: float, norm_type: float) -> None:
    if math.isnan(total) or math.isinf(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )


def get_total_norm(
    tensors: _tensor_or_tensors,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The ``norm_type`` norm of all of ``tensors`` together (as if concatenated), a 0-d
    tensor of the first one's dtype (torch 2.6's building block of ``clip_grad_norm_``)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return ctorch.tensor(0.0)
    if tensors[0].is_meta:
        return _meta_norm(tensors[0], error_if_nonfinite)
    total = _total_norm(tensors, norm_type)
    if error_if_nonfinite:
        _check_finite(total, norm_type)
    return _norm_tensor(total, tensors[0])


def clip_grads_with_norm_(
    parameters: _tensor_or_tensors,
    max_norm: float,
    total_norm: Tensor | float,
    foreach: bool | None = None,
) -> None:
    """Scale the gradients by ``max_norm / (total_norm + 1e-6)`` where that is below 1 (the
    second half of ``clip_grad_norm_``, with a total norm computed elsewhere)."""
    grads = _grads(parameters)
    if len(grads) == 0:
        return
    clip_coef = float(max_norm) / (float(total_norm) + 1e-6)
    if clip_coef < 1.0 or math.isnan(clip_coef):
        with no_grad():
            for g in grads:
                a = g._a
                a *= a.dtype.type(clip_coef) if a.dtype.kind in "fV" else clip_coef
                g._vref[0] += 1


def clip_grad_norm_(
    parameters: _tensor_or_tensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale all gradients so that their joint ``norm_type`` norm is at most ``max_norm``.

    Returns the total norm before clipping (a 0-d tensor), as torch.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)  # read twice: the norm, then the scaling
    grads = _grads(parameters)
    if len(grads) == 0:
        return ctorch.tensor(0.0)
    if grads[0].is_meta:
        return _meta_norm(grads[0], error_if_nonfinite)
    total = _total_norm(grads, float(norm_type))
    if error_if_nonfinite:
        _check_finite(total, float(norm_type))
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return _norm_tensor(total, grads[0])


def clip_grad_norm(
    parameters: _tensor_or_tensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    _warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
        "`torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(
    parameters: _tensor_or_tensors, clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        xp_of(g._a).clip(g._a, -clip_value, clip_value, out=g._a)
        g._vref[0] += 1


class _ClipGradModule:
    clip_grad_norm_ = staticmethod(clip_grad_norm_)
    clip_grad_norm = staticmethod(clip_grad_norm)
    clip_grad_value_ = staticmethod(clip_grad_value_)


clip_grad = _ClipGradModule()
