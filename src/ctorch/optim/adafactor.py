"""Adafactor (torch.optim.Adafactor, torch's variant): second moments factored into row and
column statistics for matrices (O(rows + cols) state), a relative step size, update clipping
by its RMS, and decoupled weight decay."""

from __future__ import annotations

from typing import Any

import ctorch

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ._common import scalar_state
from .optimizer import Optimizer, get_state_step

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """``torch.optim.Adafactor``."""

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= float(lr):
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(
            lr=lr,
            beta2_decay=beta2_decay,
            eps=eps,
            d=d,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def step(self, closure: Any = None) -> Any:
        loss = self._run_closure(closure)
        with no_grad():
            for group in self.param_groups:
                lr = float(group["lr"])
                eps1, eps2 = group["eps"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.is_complex():
                        raise RuntimeError("Adafactor does not support complex parameters")
                    if p.grad.is_sparse:
                        raise RuntimeError("Adafactor does not support sparse gradients")
                    self._update(p, group, lr, eps1, eps2)
        return loss

    def _update(self, p: Tensor, group: dict, lr: float, eps1: Any, eps2: float) -> None:
        grad = -p.grad if group["maximize"] else p.grad
        state = self.state[p]
        if len(state) == 0:
            state["step"] = scalar_state(0.0)
            if grad.dim() > 1:
                row_shape = list(grad.shape)
                row_shape[-1] = 1
                state["row_var"] = grad.new_zeros(row_shape)
                col_shape = list(grad.shape)
                col_shape[-2] = 1
                state["col_var"] = grad.new_zeros(col_shape)
            else:
                state["variance"] = ctorch.zeros_like(grad)
        if eps1 is None:
            eps1 = ctorch.finfo(p.dtype).eps
        step = get_state_step(state)
        one_minus_beta2_t = step ** group["beta2_decay"]
        rho_t = min(lr, 1 / (step**0.5))
        alpha = max(eps2, p.norm(2).item() / (p.numel() ** 0.5)) * rho_t
        if group["weight_decay"] != 0:
            p.mul_(1 - lr * group["weight_decay"])
        if grad.dim() > 1:
            row_mean = ctorch.norm(grad, dim=-1, keepdim=True).square_().div_(grad.size(-1))
            state["row_var"].lerp_(row_mean, one_minus_beta2_t)
            col_mean = ctorch.norm(grad, dim=-2, keepdim=True).square_().div_(grad.size(-2))
            state["col_var"].lerp_(col_mean, one_minus_beta2_t)
            row_var = state["row_var"]
            var_estimate = row_var @ state["col_var"]
            var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
        else:
            state["variance"].lerp_(grad * grad, one_minus_beta2_t)
            var_estimate = state["variance"].clone()
        update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
        update.mul_(grad)
        denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * group["d"]))
        p.add_(update, alpha=-alpha / denom)
