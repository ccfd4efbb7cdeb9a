"""``AdaptiveLogSoftmaxWithLoss`` (Grave et al., "Efficient softmax approximation for GPUs"):
a head softmax over the frequent classes plus one entry per tail cluster, and a low-rank
projection + softmax inside each cluster."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import ctorch

from ..._tensor import Tensor
from .. import functional as F
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax: ``forward(input, target)`` gives each target's log-probability and the
    mean negative log-likelihood; ``log_prob`` the full distribution; ``predict`` the argmax."""

    def __init__(
        self,
        in_features: int,
        n_classes: int,
        cutoffs: Any,
        div_value: float = 4.0,
        head_bias: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (
            cutoffs != sorted(cutoffs)
            or min(cutoffs) <= 0
            or max(cutoffs) > (n_classes - 1)
            or len(set(cutoffs)) != len(cutoffs)
            or any(int(c) != c for c in cutoffs)
        ):
            raise ValueError(
                "cutoffs should be a sequence of unique, positive integers sorted in an "
                "increasing order, where each value is between 1 and n_classes-1"
            )
        factory = {"device": device, "dtype": dtype}
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **factory)
        tails = []
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            tails.append(
                Sequential(
                    Linear(in_features, hsz, bias=False, **factory),
                    Linear(hsz, osz, bias=False, **factory),
                )
            )
        self.tail = ModuleList(tails)

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for proj in self.tail:
            for lin in proj:
                lin.reset_parameters()

    def _check_input(self, input: Tensor, name: str) -> tuple[Tensor, bool]:
        if input.dim() not in (1, 2):
            raise RuntimeError(f"{name}: input should be 1D or 2D, got {input.dim()}D")
        if input.shape[-1] != self.in_features:
            raise RuntimeError(
                f"{name}: input should have {self.in_features} features (in_features), got "
                f"{input.shape[-1]}"
            )
        return (input.unsqueeze(0), True) if input.dim() == 1 else (input, False)

    def forward(self, input: Tensor, target: Tensor) -> _ASMoutput:
        x, unb = self._check_input(input, "AdaptiveLogSoftmaxWithLoss")
        if target.dim() != (0 if unb else 1):
            raise RuntimeError(
                "AdaptiveLogSoftmaxWithLoss: target should be 0D (with 1D input) or 1D (with "
                "2D input)"
            )
        tgt = target.reshape(-1)
        if x.shape[0] != tgt.shape[0]:
            raise RuntimeError("Input and target should have the same size in the batch dimension.")
        if tgt.numel() and (int(tgt.min()) < 0 or int(tgt.max()) >= self.n_classes):
            raise RuntimeError(
                f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                f"[{int(tgt.min())}, {int(tgt.max())}] were found. "
            )
        head_lp = F.log_softmax(self.head(x), dim=1)
        # each row's head column: the class itself (shortlist) or its cluster's entry
        cluster = ctorch.zeros_like(tgt)
        for c in self.cutoffs[1:-1]:
            cluster = cluster + (tgt >= c).long()
        in_short = tgt < self.shortlist_size
        head_col = ctorch.where(in_short, tgt, self.shortlist_size + cluster)
        out = head_lp.gather(1, head_col.unsqueeze(1)).squeeze(1)
        for i in range(self.n_clusters):
            lo, hi = self.cutoffs[i], self.cutoffs[i + 1]
            rows = ((tgt >= lo) & (tgt < hi)).nonzero().squeeze(1)
            if rows.numel() == 0:
                continue
            cl_lp = F.log_softmax(self.tail[i](x.index_select(0, rows)), dim=1)
            rel = (tgt.index_select(0, rows) - lo).unsqueeze(1)
            out = out.index_add(0, rows, cl_lp.gather(1, rel).squeeze(1))
        loss = (-out).mean()
        return _ASMoutput(out.squeeze(0) if unb else out, loss)

    def _full_log_prob(self, x: Tensor, head_out: Tensor) -> Tensor:
        head_lp = F.log_softmax(head_out, dim=1)
        parts = [head_lp[:, : self.shortlist_size]]
        for i in range(self.n_clusters):
            cl_lp = F.log_softmax(self.tail[i](x), dim=1)
            parts.append(cl_lp + head_lp[:, self.shortlist_size + i].unsqueeze(1))
        return ctorch.cat(parts, 1)

    def log_prob(self, input: Tensor) -> Tensor:
        """Log-probabilities of every class, (N, n_classes) (or (n_classes,))."""
        x, unb = self._check_input(input, "log_prob")
        r = self._full_log_prob(x, self.head(x))
        return r.squeeze(0) if unb else r

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class of each row (the head's argmax when it is a shortlist class
        above every cluster's entry, else the full distribution's)."""
        x, unb = self._check_input(input, "predict")
        head_out = self.head(x)
        pred = head_out.argmax(1)
        not_short = pred >= self.shortlist_size
        if bool(not_short.any()):
            full = self._full_log_prob(x, head_out).argmax(1)
            pred = ctorch.where(not_short, full, pred)
        return pred.squeeze(0) if unb else pred
