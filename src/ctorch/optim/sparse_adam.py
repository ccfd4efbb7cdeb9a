"""SparseAdam. ctorch has no sparse tensors (``Embedding(sparse=True)`` produces dense
gradients), so like torch given dense gradients, ``step`` raises."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from ._common import check_betas, check_nonneg, lr_value
from .optimizer import Optimizer

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """``torch.optim.SparseAdam``: construction and state as torch; ``step`` raises torch's
    error for the dense gradients that are all ctorch produces."""

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        lr = lr_value(lr)
        check_nonneg("learning rate", lr)
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, maximize=maximize))
        sparse = [
            [i, j]
            for i, g in enumerate(self.param_groups)
            for j, p in enumerate(g["params"])
            if p.is_sparse
        ]
        if sparse:
            raise ValueError(
                f"Sparse params at indices {sparse}: SparseAdam requires dense parameter tensors"
            )

    def step(self, closure: Any = None) -> Any:
        loss = self._run_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is not None and not p._grad.is_sparse:
                    raise RuntimeError(
                        "SparseAdam does not support dense gradients, please consider Adam instead"
                    )
        return loss
