"""SparseAdam: Adam whose moments are updated only at the rows a sparse gradient touches
(torch's algorithm, ``ctorch.sparse._optim.sparse_adam_step``); dense gradients raise."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from ._common import check_betas, check_nonneg, lr_value
from .optimizer import Optimizer

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """``torch.optim.SparseAdam`` for the sparse gradients of ``Embedding(sparse=True)``."""

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
        from ..sparse._optim import sparse_adam_step

        loss = self._run_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is None:
                    continue
                if not p._grad.is_sparse:
                    raise RuntimeError(
                        "SparseAdam does not support dense gradients, please consider Adam instead"
                    )
                sparse_adam_step(p, p._grad, self.state[p], group)
        return loss
