"""Variable-length sequence helpers: pad_sequence, PackedSequence and (un)packing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

import ctorch

from ..._tensor import Tensor

__all__ = [
    "PackedSequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pack_sequence",
    "unpack_sequence",
    "invert_permutation",
]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """Time-major packed rows of a batch of sequences (as ``torch.nn.utils.rnn``)."""

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes, ...)) form
            if isinstance(data, (list, tuple)) and len(data) == 2:
                data, batch_sizes = data
            else:
                raise TypeError("PackedSequence needs data and batch_sizes")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device
        si = self.sorted_indices.to(dev) if self.sorted_indices is not None else None
        ui = self.unsorted_indices.to(dev) if self.unsorted_indices is not None else None
        return type(self)(data, self.batch_sizes, si, ui)

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self.to("cuda")

    def float(self) -> PackedSequence:
        return self.to(dtype=ctorch.float32)

    def double(self) -> PackedSequence:
        return self.to(dtype=ctorch.float64)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    if permutation is None:
        return None
    p = (
        permutation.cpu().numpy()
        if not permutation.requires_grad
        else permutation.detach().cpu().numpy()
    )
    out = np.empty_like(p)
    out[p] = np.arange(p.size, dtype=p.dtype)
    return ctorch.from_numpy(out).to(permutation.device)


def pad_sequence(
    sequences: Tensor | Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack variable-length (L_i, *) tensors into (L_max, B, *) (or (B, L_max, *))."""
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    max_len = max(s.size(0) for s in sequences)
    trailing = tuple(sequences[0].shape[1:])
    padded = []
    for s in sequences:
        n = max_len - s.size(0)
        if n:
            pad = ctorch.full((n,) + trailing, padding_value, dtype=s.dtype, device=s.device)
            s = ctorch.cat([s, pad] if padding_side == "right" else [pad, s], 0)
        padded.append(s)
    return ctorch.stack(padded, 0 if batch_first else 1)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False
) -> list[Tensor]:
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, : int(n)] for i, n in enumerate(lengths.tolist())]


def pack_padded_sequence(
    input: Tensor,
    lengths: Tensor | list[int],
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch (T, B, *) / (B, T, *) given each sequence's length."""
    lens = np.asarray(
        lengths.tolist() if isinstance(lengths, Tensor) else list(lengths), dtype=np.int64
    )
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
        sorted_indices = None
        order = np.arange(lens.size)
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_indices = ctorch.from_numpy(order.astype(np.int64)).to(input.device)
    if lens.size and lens.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in "
            "'lengths' that is <= 0"
        )
    if batch_first:
        input = input.transpose(0, 1)
    slens = lens[order]
    T = int(slens[0]) if slens.size else 0
    batch_sizes = np.array([(slens > t).sum() for t in range(T)], dtype=np.int64)
    idx_t, idx_b = [], []
    for t in range(T):
        bs = int(batch_sizes[t])
        idx_t.extend([t] * bs)
        idx_b.extend(order[:bs].tolist())
    it = ctorch.tensor(idx_t, dtype=ctorch.int64, device=input.device)
    ib = ctorch.tensor(idx_b, dtype=ctorch.int64, device=input.device)
    data = input[it, ib]
    return PackedSequence(data, ctorch.from_numpy(batch_sizes), sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Inverse of ``pack_padded_sequence``: (padded batch, lengths)."""
    data, batch_sizes = sequence.data, sequence.batch_sizes
    bsz = batch_sizes.numpy() if not batch_sizes.is_cuda else batch_sizes.cpu().numpy()
    T = len(bsz)
    B = int(bsz[0]) if T else 0
    if total_length is not None:
        if total_length < T:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being {T}"
            )
        T_out = total_length
    else:
        T_out = T
    lengths = np.array([(bsz > b).sum() for b in range(B)], dtype=np.int64)
    trailing = tuple(data.shape[1:])
    out = ctorch.full((T_out, B) + trailing, padding_value, dtype=data.dtype, device=data.device)
    idx_t, idx_b = [], []
    for t in range(T):
        idx_t.extend([t] * int(bsz[t]))
        idx_b.extend(range(int(bsz[t])))
    if idx_t:
        it = ctorch.tensor(idx_t, dtype=ctorch.int64, device=data.device)
        ib = ctorch.tensor(idx_b, dtype=ctorch.int64, device=data.device)
        out = out.index_put((it, ib), data)
    if sequence.unsorted_indices is not None:
        out = out.index_select(1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices.cpu().numpy()]
    if batch_first:
        out = out.transpose(0, 1)
    return out, ctorch.from_numpy(lengths)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    lengths = ctorch.tensor([v.size(0) for v in sequences], dtype=ctorch.int64)
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
