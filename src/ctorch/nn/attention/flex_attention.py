"""``torch.nn.attention.flex_attention``: attention with a user ``score_mod`` and a block-sparse
``BlockMask`` built from a ``mask_mod``.

torch runs flex_attention eagerly (without ``torch.compile``) by evaluating the modifications
over the whole score matrix; ctorch does the same, with broadcasting instead of ``vmap``: the
index arguments ``b, h, q_idx, kv_idx`` are int64 tensors of shapes (B,1,1,1), (1,H,1,1),
(1,1,L,1) and (1,1,1,S), so a modification written with tensor arithmetic, comparisons,
``torch.where`` and indexing of captured tensors (``bias[h]``, ``doc_id[q_idx]``) gives the
(B, H, L, S) result torch's vmap gives. Code that calls Python control flow on those indices
(``if q_idx > 3:``) fails under torch's vmap too.

Semantics kept from torch: the block mask is applied block by block (a block absent from the
mask is skipped whatever ``mask_mod`` says, a full block skips ``mask_mod``, a partial one
applies it); a query row that may attend nothing gives an output of 0 and a log-sum-exp of
-inf (not NaN); ``return_lse`` gives the natural-log log-sum-exp of the scaled, modified
scores; ``enable_gqa`` shares key/value heads; gradients flow to q, k, v and to any tensor the
score_mod captured. Computation is the reference one (full scores in memory), so memory grows
with L x S: fine for the sizes that run eagerly, not a flash kernel.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor

__all__ = [
    "AuxOutput",
    "AuxRequest",
    "BlockMask",
    "FlexKernelOptions",
    "and_masks",
    "create_block_mask",
    "create_mask",
    "flex_attention",
    "noop_mask",
    "or_masks",
]

_DEFAULT_SPARSE_BLOCK_SIZE = 128
FlexKernelOptions = dict  # torch: a TypedDict of Triton/C++ tuning knobs; ignored here


class AuxRequest(NamedTuple):
    """Which auxiliary outputs flex_attention should return."""

    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    lse: Tensor | None = None
    max_scores: Tensor | None = None


def noop_mask(batch: Tensor, head: Tensor, token_q: Tensor, token_kv: Tensor) -> Tensor:
    """A mask_mod that keeps every position."""
    import ctorch

    return ctorch.ones((), dtype=ctorch.bool, device=batch.device)


def and_masks(*mask_mods: Callable) -> Callable:
    """A mask_mod that keeps a position only where every ``mask_mods`` keeps it."""
    if not all(callable(m) for m in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def and_mask(b, h, q_idx, kv_idx):
        result = b.new_ones((), dtype=D.bool)
        for m in mask_mods:
            result = result & m(b, h, q_idx, kv_idx)
        return result

    return and_mask


def or_masks(*mask_mods: Callable) -> Callable:
    """A mask_mod that keeps a position where any of ``mask_mods`` keeps it."""
    if not all(callable(m) for m in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def or_mask(b, h, q_idx, kv_idx):
        result = b.new_zeros((), dtype=D.bool)
        for m in mask_mods:
            result = result | m(b, h, q_idx, kv_idx)
        return result

    return or_mask


def _index_grids(B: int, H: int, L: int, S: int, device: Any) -> tuple[Tensor, ...]:
    import ctorch

    def ar(n: int, shape: tuple[int, ...]) -> Tensor:
        return ctorch.arange(n, device=device).reshape(shape)

    return ar(B, (B, 1, 1, 1)), ar(H, (1, H, 1, 1)), ar(L, (1, 1, L, 1)), ar(S, (1, 1, 1, S))


def _is_score_mod(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 5


def _eval_mask(mask_mod: Callable, B: int, H: int, L: int, S: int, device: Any) -> Tensor:
    """mask_mod over the (B, H, L, S) grid, as a bool tensor of that shape."""
    import ctorch

    b, h, q, kv = _index_grids(B, H, L, S, device)
    with ctorch.no_grad():
        m = mask_mod(b, h, q, kv)
    if not isinstance(m, Tensor):
        m = ctorch.tensor(bool(m), device=device)
    return m.to(ctorch.bool).expand(B, H, L, S)


def create_mask(
    mod_fn: Callable, B: int | None, H: int | None, Q_LEN: int, KV_LEN: int, device: Any = None
) -> Tensor:
    """The dense bool (B, H, Q_LEN, KV_LEN) mask of a mask_mod, or of a score_mod (True where
    the score_mod of a zero score is not -inf, as torch does)."""
    import ctorch

    B, H = B or 1, H or 1
    if _is_score_mod(mod_fn):
        b, h, q, kv = _index_grids(B, H, Q_LEN, KV_LEN, device)
        with ctorch.no_grad():
            out = mod_fn(ctorch.zeros(B, H, Q_LEN, KV_LEN, device=device), b, h, q, kv)
        return (~ctorch.isneginf(out)).expand(B, H, Q_LEN, KV_LEN).clone()
    return _eval_mask(mod_fn, B, H, Q_LEN, KV_LEN, device).clone()


def _block_meta(dense: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """num_blocks, indices of a (B, H, R, C) block table, in torch's order: the present blocks
    in increasing order, then the absent ones (a stable descending sort of the table)."""
    num = dense.sum(-1).astype(np.int32)
    idx = np.argsort(~dense, axis=-1, kind="stable").astype(np.int32)
    return num, idx


class BlockMask:
    """A block-sparse attention mask: for each (batch, head, query block) the key/value blocks
    that are partial (``kv_num_blocks``/``kv_indices``: ``mask_mod`` decides inside) and full
    (``full_kv_num_blocks``/``full_kv_indices``: every position kept), with the transposed
    q-side tables torch's backward uses. Build it with ``create_block_mask``."""

    def __init__(
        self,
        seq_lengths: tuple[int, int],
        kv_num_blocks: Tensor,
        kv_indices: Tensor,
        full_kv_num_blocks: Tensor | None,
        full_kv_indices: Tensor | None,
        q_num_blocks: Tensor | None,
        q_indices: Tensor | None,
        full_q_num_blocks: Tensor | None,
        full_q_indices: Tensor | None,
        BLOCK_SIZE: tuple[int, int],
        mask_mod: Callable,
    ) -> None:
        if kv_indices.dim() < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        self.seq_lengths = tuple(seq_lengths)
        self.kv_num_blocks = kv_num_blocks
        self.kv_indices = kv_indices
        self.full_kv_num_blocks = full_kv_num_blocks
        self.full_kv_indices = full_kv_indices
        self.q_num_blocks = q_num_blocks
        self.q_indices = q_indices
        self.full_q_num_blocks = full_q_num_blocks
        self.full_q_indices = full_q_indices
        self.BLOCK_SIZE = tuple(BLOCK_SIZE)
        self.mask_mod = mask_mod

    @classmethod
    def from_kv_blocks(
        cls,
        kv_num_blocks: Tensor,
        kv_indices: Tensor,
        full_kv_num_blocks: Tensor | None = None,
        full_kv_indices: Tensor | None = None,
        BLOCK_SIZE: int | tuple[int, int] = _DEFAULT_SPARSE_BLOCK_SIZE,
        mask_mod: Callable | None = None,
        seq_lengths: tuple[int, int] | None = None,
        compute_q_blocks: bool = True,
    ) -> BlockMask:
        """A BlockMask from its kv-side tables (the q side is derived, as in torch)."""
        import ctorch

        bs = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else tuple(BLOCK_SIZE)
        if seq_lengths is None:
            seq_lengths = (kv_indices.shape[-2] * bs[0], kv_indices.shape[-1] * bs[1])
        part = cls._table(kv_num_blocks, kv_indices)
        full = (
            None if full_kv_num_blocks is None else cls._table(full_kv_num_blocks, full_kv_indices)
        )

        def wrap(a: np.ndarray) -> Tensor:
            return ctorch.from_numpy(np.ascontiguousarray(a)).to(kv_indices.device)

        qn = qi = fqn = fqi = None
        if compute_q_blocks:
            qn, qi = map(wrap, _block_meta(part.swapaxes(-1, -2)))
            if full is not None:
                fqn, fqi = map(wrap, _block_meta(full.swapaxes(-1, -2)))
        return cls(
            seq_lengths, kv_num_blocks, kv_indices, full_kv_num_blocks, full_kv_indices,
            qn, qi, fqn, fqi, bs, mask_mod or noop_mask,
        )  # fmt: skip

    @staticmethod
    def _table(num: Tensor, idx: Tensor) -> np.ndarray:
        """The dense (…, R, C) bool block table of (num_blocks, indices)."""
        n, ix = np.asarray(num.cpu().numpy()), np.asarray(idx.cpu().numpy())
        table = np.zeros(ix.shape, dtype=bool)
        take = np.arange(ix.shape[-1]) < n[..., None]
        np.put_along_axis(table, ix.astype(np.int64), take, axis=-1)
        return table

    # -- inspection ----------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (*tuple(self.kv_indices.shape[:-2]), *self.seq_lengths)

    def _dense_blocks(self) -> tuple[np.ndarray, np.ndarray]:
        part = self._table(self.kv_num_blocks, self.kv_indices)
        if self.full_kv_num_blocks is None:
            return part, np.zeros_like(part)
        return part, self._table(self.full_kv_num_blocks, self.full_kv_indices)

    def to_dense(self) -> Tensor:
        """The (B, H, q_blocks, kv_blocks) int32 table: 1 where a block is computed."""
        import ctorch

        part, full = self._dense_blocks()
        return ctorch.from_numpy((part | full).astype(np.int32)).to(self.kv_indices.device)

    def numel(self) -> int:
        return math.prod(self.shape)

    def sparsity(self) -> float:
        """Percent of the B x H x Q_LEN x KV_LEN positions in blocks that are skipped (torch's
        measure: computed blocks times the block area, against the unpadded size)."""
        computed = int(self.kv_num_blocks.sum())
        if self.full_kv_num_blocks is not None:
            computed += int(self.full_kv_num_blocks.sum())
        size = computed * self.BLOCK_SIZE[0] * self.BLOCK_SIZE[1]
        return 100 * (1 - size / self.numel())

    def to_string(self, grid_size: tuple[int, int] = (20, 20), limit: int = 4) -> str:
        dense = self.to_dense().numpy()
        out = []
        for i, idx in enumerate(np.ndindex(*dense.shape[:-2])):
            if i >= limit:
                out.append("...")
                break
            out.append(f"{idx}")
            for row in dense[idx][: grid_size[0]]:
                out.append("".join("██" if v else "  " for v in row[: grid_size[1]]))
            out.append("")
        return "\n".join(out)

    def __repr__(self) -> str:
        def sz(t: Tensor | None) -> str:
            return "None" if t is None else f"torch.Size({list(t.shape)})"

        name = getattr(self.mask_mod, "__name__", repr(self.mask_mod))
        return (
            "BlockMask(\n"
            f"    kv_num_blocks={sz(self.kv_num_blocks)},\n"
            f"    kv_indices={sz(self.kv_indices)},\n"
            f"    full_kv_num_blocks={sz(self.full_kv_num_blocks)},\n"
            f"    full_kv_indices={sz(self.full_kv_indices)},\n"
            f"    q_num_blocks={sz(self.q_num_blocks)},\n"
            f"    q_indices={sz(self.q_indices)},\n"
            f"    full_q_num_blocks={sz(self.full_q_num_blocks)},\n"
            f"    full_q_indices={sz(self.full_q_indices)},\n"
            f"    BLOCK_SIZE={self.BLOCK_SIZE},\n"
            f"    shape={self.shape},\n"
            f"    sparsity={self.sparsity():.2f}%,\n"
            f"    mask_mod={name}\n"
            ")"
        )

    def to(self, device: Any) -> BlockMask:
        def mv(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.to(device)

        return BlockMask(
            self.seq_lengths, mv(self.kv_num_blocks), mv(self.kv_indices),
            mv(self.full_kv_num_blocks), mv(self.full_kv_indices), mv(self.q_num_blocks),
            mv(self.q_indices), mv(self.full_q_num_blocks), mv(self.full_q_indices),
            self.BLOCK_SIZE, self.mask_mod,
        )  # fmt: skip

    def _dense_mask(self, B: int, H: int, L: int, S: int, device: Any) -> Tensor:
        """The element mask flex_attention applies: absent blocks off, full blocks on, partial
        blocks as ``mask_mod`` says."""
        import ctorch

        part, full = self._dense_blocks()
        qb, kb = self.BLOCK_SIZE
        part_e = part.repeat(qb, -2).repeat(kb, -1)[..., :L, :S]
        full_e = full.repeat(qb, -2).repeat(kb, -1)[..., :L, :S]
        if part_e.shape[-2] < L or part_e.shape[-1] < S:
            raise ValueError(
                f"flex_attention: the block mask covers {self.seq_lengths} but the query/key "
                f"lengths are ({L}, {S})"
            )
        mb, mh = part_e.shape[0], part_e.shape[1]
        mm = _eval_mask(self.mask_mod, mb, mh, L, S, device).numpy()
        dense = full_e | (part_e & mm)
        return ctorch.from_numpy(np.ascontiguousarray(np.broadcast_to(dense, (B, H, L, S))))


def create_block_mask(
    mask_mod: Callable,
    B: int | None,
    H: int | None,
    Q_LEN: int,
    KV_LEN: int,
    device: Any = None,
    BLOCK_SIZE: int | tuple[int, int] = _DEFAULT_SPARSE_BLOCK_SIZE,
    _compile: bool = False,
    separate_full_blocks: bool = True,
    compute_dq_write_order: bool = False,
    dq_kv_order: bool = True,
) -> BlockMask:
    """Evaluate ``mask_mod`` over every (b, h, q, kv) and keep, per block, whether it is absent,
    partial or full. Blocks that reach past Q_LEN/KV_LEN count as partial, as in torch.
    ``B``/``H`` of None mean one mask shared by every batch entry/head."""
    import ctorch

    B, H = B or 1, H or 1
    qb, kb = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else tuple(BLOCK_SIZE)
    nq, nk = math.ceil(Q_LEN / qb), math.ceil(KV_LEN / kb)
    m = _eval_mask(mask_mod, B, H, Q_LEN, KV_LEN, device).cpu().numpy()
    pad = np.zeros((B, H, nq * qb, nk * kb), dtype=bool)
    pad[..., :Q_LEN, :KV_LEN] = m
    inside = np.zeros_like(pad)
    inside[..., :Q_LEN, :KV_LEN] = True
    blocks = pad.reshape(B, H, nq, qb, nk, kb)
    any_ = blocks.any(axis=(3, 5))
    all_ = (blocks | ~inside.reshape(B, H, nq, qb, nk, kb)).all(axis=(3, 5))
    whole = inside.reshape(B, H, nq, qb, nk, kb).all(axis=(3, 5))
    full = any_ & all_ & whole if separate_full_blocks else np.zeros_like(any_)
    part = any_ & ~full

    def wrap(a: np.ndarray) -> Tensor:
        return ctorch.from_numpy(np.ascontiguousarray(a)).to(device or "cpu")

    kvn, kvi = map(wrap, _block_meta(part))
    qn, qi = map(wrap, _block_meta(part.swapaxes(-1, -2)))
    if separate_full_blocks:
        fkvn, fkvi = map(wrap, _block_meta(full))
        fqn, fqi = map(wrap, _block_meta(full.swapaxes(-1, -2)))
    else:
        fkvn = fkvi = fqn = fqi = None
    return BlockMask((Q_LEN, KV_LEN), kvn, kvi, fkvn, fkvi, qn, qi, fqn, fqi, (qb, kb), mask_mod)


def _check_inputs(query: Tensor, key: Tensor, value: Tensor, enable_gqa: bool) -> None:
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        raise NotImplementedError("NYI: query, key, and value must be 4D tensors")
    if not (query.dtype == key.dtype == value.dtype):
        raise ValueError(
            f"Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{query.dtype}, key.dtype: {key.dtype}, and value.dtype: {value.dtype} instead."
        )
    if query.size(-1) != key.size(-1):
        raise ValueError(
            f"Expect query and key/value to have the same embedding dimension but got "
            f"E={query.size(-1)} and E={key.size(-1)}."
        )
    if key.size(-2) != value.size(-2) or key.size(1) != value.size(1):
        raise ValueError("flex_attention: key and value must have the same heads and length")
    bq, bk = query.size(0), key.size(0)
    if bq != bk and bk != 1:
        raise ValueError(f"Expect query and key/value to have the same batch size, got {bq}, {bk}")
    hq, hkv = query.size(1), key.size(1)
    if hq != hkv:
        if not enable_gqa:
            raise ValueError(
                f"Expect query and key/value to have the same number of heads but got "
                f"Hq={hq} and Hkv={hkv}. Try setting enable_gqa=True for GQA."
            )
        if hq % hkv:
            raise ValueError(
                f"Expect number of query heads to be a multiple of kv heads for GQA but got "
                f"Hq={hq} and Hkv={hkv}."
            )


def flex_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    score_mod: Callable | None = None,
    block_mask: BlockMask | None = None,
    scale: float | None = None,
    enable_gqa: bool = False,
    return_lse: bool = False,
    kernel_options: dict | None = None,
    *,
    return_aux: AuxRequest | None = None,
) -> Any:
    """``softmax(score_mod(Q K^T * scale) masked by block_mask) V`` over (B, H, L, E)."""
    import ctorch

    _check_inputs(query, key, value, enable_gqa)
    B, Hq, L, E = query.shape
    S = key.size(-2)
    hkv = key.size(1)
    if hkv != Hq:
        key = key.repeat_interleave(Hq // hkv, 1)
        value = value.repeat_interleave(Hq // hkv, 1)
    if key.size(0) != B:
        key, value = key.expand(B, *key.shape[1:]), value.expand(B, *value.shape[1:])
    scale = 1.0 / math.sqrt(E) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    if score_mod is not None:
        b, h, q, kv = _index_grids(B, Hq, L, S, query.device)
        scores = score_mod(scores, b, h, q, kv)
        if tuple(scores.shape) != (B, Hq, L, S):
            scores = scores.expand(B, Hq, L, S)
    if block_mask is not None:
        keep = block_mask._dense_mask(B, Hq, L, S, query.device).to(query.device)
        scores = scores.masked_fill(~keep, float("-inf"))
    # a row that may attend nothing: output 0 and log-sum-exp -inf, as torch gives
    row_max = scores.detach().amax(-1, keepdim=True)
    dead = ctorch.isinf(row_max) & (row_max < 0)
    shift = row_max.masked_fill(dead, 0.0)
    p = (scores - shift).exp()
    denom = p.sum(-1, keepdim=True)
    safe = denom.masked_fill(dead, 1.0)
    out = (p / safe) @ value
    lse = (safe.log() + shift).masked_fill(dead, float("-inf")).squeeze(-1)
    if return_aux is not None:
        if return_lse:
            raise ValueError("Cannot specify both return_lse and return_aux")
        mx = row_max.squeeze(-1) if return_aux.max_scores else None
        return out, AuxOutput(lse=lse if return_aux.lse else None, max_scores=mx)
    if return_lse:
        return out, lse
    return out
