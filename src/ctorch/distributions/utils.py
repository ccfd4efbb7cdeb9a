"""Helpers shared by the distributions (``torch.distributions.utils``)."""

from __future__ import annotations

import numbers
from functools import update_wrapper

import ctorch
import ctorch.nn.functional as F

__all__ = [
    "broadcast_all",
    "clamp_probs",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]

euler_constant = 0.57721566490153286060


def broadcast_all(*values):
    """Broadcast numbers and tensors to one shape; numbers take the tensors' dtype."""
    if not all(isinstance(v, (ctorch.Tensor, numbers.Number)) for v in values):
        raise ValueError(
            "Input arguments must all be instances of numbers.Number, "
            "torch.Tensor or objects implementing __torch_function__."
        )
    if not all(isinstance(v, ctorch.Tensor) for v in values):
        dtype = ctorch.get_default_dtype()
        for v in values:
            if isinstance(v, ctorch.Tensor):
                dtype = v.dtype
                break
        values = tuple(
            v if isinstance(v, ctorch.Tensor) else ctorch.tensor(v, dtype=dtype) for v in values
        )
    return ctorch.broadcast_tensors(*values)


def _sum_rightmost(value, dim: int):
    if dim == 0:
        return value
    required_shape = tuple(value.shape[: value.dim() - dim]) + (-1,)
    return value.reshape(required_shape).sum(-1)


def logits_to_probs(logits, is_binary: bool = False):
    if is_binary:
        return ctorch.sigmoid(logits)
    return F.softmax(logits, dim=-1)


def clamp_probs(probs):
    eps = ctorch.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary: bool = False):
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ctorch.log(ps_clamped) - ctorch.log1p(-ps_clamped)
    return ctorch.log(ps_clamped)


class lazy_property:
    """Evaluated once per instance on first access, then cached as a plain attribute."""

    def __init__(self, wrapped) -> None:
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with ctorch.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    def __init__(self, wrapped) -> None:
        property.__init__(self, wrapped)


def _tril_flat_indices(n: int, diag: int) -> list[int]:
    """Row-major flat indices (into an n x n matrix) of the entries on or below diagonal
    ``diag``."""
    return [i * n + j for i in range(n) for j in range(n) if j < i + diag + 1]


def tril_matrix_to_vec(mat, diag: int = 0):
    """The lower-triangular entries (on or below diagonal ``diag``) of a (batch of) D x D
    matrix, in row order."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    idx = ctorch.tensor(_tril_flat_indices(n, diag), dtype=ctorch.int64, device=mat.device)
    flat = mat.reshape(tuple(mat.shape[:-2]) + (n * n,))
    return flat.index_select(-1, idx)


def vec_to_tril_matrix(vec, diag: int = 0):
    """A (batch of) D x D lower-triangular matrix holding ``vec``'s entries in row order on or
    below diagonal ``diag`` (zeros elsewhere)."""
    # +ve root of D**2 + (1+2*diag)*D - |diag| * (diag+1) - 2*vec.shape[-1] = 0
    n = (
        -(1 + 2 * diag)
        + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5
    ) / 2
    eps = ctorch.finfo(vec.dtype).eps
    if round(n) - n > eps:
        raise ValueError(
            f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
            + "the lower triangular part of a square D x D matrix."
        )
    n = round(n)
    positions = _tril_flat_indices(n, diag)
    # gather from [0, vec...]: index 0 (the zero) everywhere but the triangle
    src = [0] * (n * n)
    for k, p in enumerate(positions):
        src[p] = k + 1
    idx = ctorch.tensor(src, dtype=ctorch.int64, device=vec.device)
    padded = F.pad(vec, [1, 0], value=0.0)
    return padded.index_select(-1, idx).reshape(tuple(vec.shape[:-1]) + (n, n))
