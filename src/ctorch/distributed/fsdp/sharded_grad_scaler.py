"""``torch.distributed.fsdp.sharded_grad_scaler.ShardedGradScaler``: a GradScaler whose
inf/NaN check covers every rank's gradient shard."""

from __future__ import annotations

from typing import Any

from ...amp.grad_scaler import GradScaler

__all__ = ["ShardedGradScaler"]


class ShardedGradScaler(GradScaler):
    """As ``GradScaler``, but a non-finite gradient on any rank of ``process_group`` makes every
    rank skip the step and back off the scale (each rank only sees its shards' gradients).
    16-bit gradients may be unscaled (FSDP with ``keep_low_precision_grads``)."""

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        backoff_factor: float = 0.5,
        growth_factor: float = 2.0,
        growth_interval: int = 2000,
        enabled: bool = True,
        process_group: Any = None,
    ) -> None:
        super().__init__(
            device,
            init_scale=init_scale,
            growth_factor=growth_factor,
            backoff_factor=backoff_factor,
            growth_interval=growth_interval,
            enabled=enabled,
        )
        self.process_group = process_group

    def _unscale_grads_(self, optimizer: Any, inv_scale: float, allow_fp16: bool) -> dict:
        import ctorch

        from ... import distributed as dist

        found = super()._unscale_grads_(optimizer, inv_scale, True)
        flag = ctorch.tensor([max((float(v.item()) for v in found.values()), default=0.0)])
        if dist.is_initialized() and dist.get_world_size(self.process_group) > 1:
            dist.all_reduce(flag, op=dist.ReduceOp.MAX, group=self.process_group)
        val = ctorch.full((), float(flag.item()), dtype=ctorch.float32)
        return {d: val for d in found} or {"cpu": val}
