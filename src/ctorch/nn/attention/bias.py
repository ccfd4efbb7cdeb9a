"""``torch.nn.attention.bias``: causal masks as objects that ``F.scaled_dot_product_attention``
takes for ``attn_mask``. ``causal_upper_left(L, S)`` is the lower triangle from the top-left
corner (``is_causal=True``); ``causal_lower_right(L, S)`` aligns the diagonal with the
bottom-right corner (query i sees keys up to i + S - L), the convention of decoding with a
cache. When L == S the two are the same mask."""

from __future__ import annotations

import enum
from typing import Any

from ..._tensor import Tensor

__all__ = ["CausalBias", "CausalVariant", "causal_lower_right", "causal_upper_left"]


class CausalVariant(enum.IntEnum):
    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias:
    """A causal attention mask of ``seq_len_q`` x ``seq_len_kv`` (build it with
    ``causal_upper_left`` or ``causal_lower_right``)."""

    def __init__(self, variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> None:
        if not isinstance(variant, CausalVariant):
            raise AssertionError("variant must be a CausalVariant")
        self.variant = variant
        self.seq_len_q = seq_len_q
        self.seq_len_kv = seq_len_kv
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            import warnings

            warnings.warn(
                "Lower right causal bias will produce NaNs in the output when seq_len_q > "
                "seq_len_kv!",
                stacklevel=2,
            )

    def _materialize(self, device: Any = None) -> Tensor:
        """The boolean mask (True = may attend)."""
        import ctorch

        ones = ctorch.ones(self.seq_len_q, self.seq_len_kv, dtype=ctorch.bool, device=device)
        if self.variant == CausalVariant.UPPER_LEFT:
            return ones.tril(0)
        return ones.tril(self.seq_len_kv - self.seq_len_q)

    def _sdpa(self, query, key, value, dropout_p, is_causal, scale, enable_gqa) -> Tensor:
        from .. import functional as F

        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        if self.seq_len_q == self.seq_len_kv or self.variant == CausalVariant.UPPER_LEFT:
            return F.scaled_dot_product_attention(
                query, key, value, None, dropout_p, True, scale, enable_gqa
            )
        mask = self._materialize(query.device)
        return F.scaled_dot_product_attention(
            query, key, value, mask, dropout_p, False, scale, enable_gqa
        )

    def __repr__(self) -> str:
        return repr(self._materialize())


def causal_upper_left(*size: int) -> CausalBias:
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    return CausalBias(CausalVariant.UPPER_LEFT, size[0], size[1])


def causal_lower_right(*size: int) -> CausalBias:
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    return CausalBias(CausalVariant.LOWER_RIGHT, size[0], size[1])
