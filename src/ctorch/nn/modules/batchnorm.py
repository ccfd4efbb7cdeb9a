"""BatchNorm1d/2d/3d: running statistics buffers, momentum (None = cumulative average),
affine, track_running_stats and eval mode, as torch."""

from __future__ import annotations

from typing import Any

import ctorch

from ..._tensor import Tensor
from ...autograd.function import Function
from ...ops import normalization as _N
from ._affine import register_affine, reset_affine
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"]


class _NormBase(Module):
    """Common base of batch norm: parameters, buffers and their (re)initialisation."""

    _version = 2
    __constants__ = ["track_running_stats", "momentum", "eps", "num_features", "affine"]

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        register_affine(self, self.affine, num_features, bias, factory_kwargs)
        if self.track_running_stats:
            self.register_buffer("running_mean", ctorch.zeros(num_features, **factory_kwargs))
            self.register_buffer("running_var", ctorch.ones(num_features, **factory_kwargs))
            self.register_buffer(
                "num_batches_tracked", ctorch.tensor(0, dtype=ctorch.long, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        reset_affine(self, self.affine)

    def _check_input_dim(self, input: Tensor) -> None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        # torch 2.13's layout (it added ``bias``)
        return (
            "{num_features}, eps={eps}, momentum={momentum}, affine={affine}, "
            "bias={use_bias}, track_running_stats={track_running_stats}".format(
                **self.__dict__, use_bias=self.bias is not None
            )
        )

    def _upgrade_state_dict(
        self, state_dict: Any, prefix: str, local_metadata: Any, error_msgs: list
    ) -> None:
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            # checkpoints from before num_batches_tracked existed
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (
                    self.num_batches_tracked
                    if self.num_batches_tracked is not None
                    else ctorch.tensor(0, dtype=ctorch.long)
                )
        super()._upgrade_state_dict(state_dict, prefix, local_metadata, error_msgs)


class _BatchNorm(_NormBase):
    def _batch_stats_step(self) -> tuple[float, bool, Tensor | None, Tensor | None]:
        """Count this batch (training with running stats) and return what ``batch_norm``
        takes besides the input and affine: the running-average factor (momentum, or
        1/batches for ``momentum=None``), whether to use batch statistics, and the running
        buffers to read or update (None in training without running stats)."""
        if self.momentum is None:
            exponential_average_factor = 0.0
        else:
            exponential_average_factor = self.momentum
        if self.training and self.track_running_stats:
            if self.num_batches_tracked is not None:
                self.num_batches_tracked.add_(1)
                if self.momentum is None:  # cumulative moving average
                    exponential_average_factor = 1.0 / float(self.num_batches_tracked)
                else:
                    exponential_average_factor = self.momentum
        if self.training:
            bn_training = True
        else:
            bn_training = (self.running_mean is None) and (self.running_var is None)
        use_running = not self.training or self.track_running_stats
        return (
            exponential_average_factor,
            bn_training,
            self.running_mean if use_running else None,
            self.running_var if use_running else None,
        )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor, bn_training, running_mean, running_var = self._batch_stats_step()
        return _N.batch_norm(
            input, running_mean, running_var, self.weight, self.bias, bn_training, factor, self.eps
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) input."""

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) input."""

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch norm over (N, C, D, H, W) input."""

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")


# ---------------------------------------------------------------------------- SyncBatchNorm
def _all_reduce_sum(t: Tensor, process_group: Any) -> Tensor:
    """Sum ``t`` over the ranks of ``process_group`` (a new tensor; the seam tests replace)."""
    import ctorch.distributed as dist

    out = t.detach().clone()
    dist.all_reduce(out, group=process_group)
    return out


class _AllReduceSum(Function):
    """Differentiable all-reduce: every rank's output is the sum of all ranks' inputs, so the
    gradient of a rank's input is the sum of every rank's upstream gradient."""

    @staticmethod
    def forward(ctx: Any, t: Tensor, process_group: Any) -> Tensor:
        ctx.process_group = process_group
        return _all_reduce_sum(t, process_group)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        return _all_reduce_sum(g.contiguous(), ctx.process_group), None


def _sync_batch_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    eps: float,
    momentum: float,
    process_group: Any,
) -> Tensor:
    """Batch norm in training mode with statistics over the batches of every rank: the mean,
    then the centred second moment, each one differentiable all-reduce of per-channel sums."""
    C = input.shape[1]
    dims = (0, *range(2, input.dim()))
    shape = (1, C) + (1,) * (input.dim() - 2)
    count = input.numel() // C
    local = ctorch.cat([input.sum(dims), ctorch.full((1,), float(count), dtype=input.dtype)])
    total = _AllReduceSum.apply(local, process_group)
    n = float(total[C].item())
    mean = total[:C] / n
    xc = input - mean.reshape(shape)
    var = _AllReduceSum.apply((xc * xc).sum(dims), process_group) / n
    y = xc * (var + eps).rsqrt().reshape(shape)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    if running_mean is not None and running_var is not None:
        with ctorch.no_grad():
            unbiased = var.detach() * (n / max(n - 1.0, 1.0))
            running_mean.mul_(1 - momentum).add_(mean.detach().to(running_mean.dtype) * momentum)
            running_var.mul_(1 - momentum).add_(unbiased.to(running_var.dtype) * momentum)
    return y


class SyncBatchNorm(_BatchNorm):
    """Batch norm whose training statistics cover the batches of every rank of
    ``process_group`` (``torch.nn.SyncBatchNorm``), over ``ctorch.distributed``.

    Without an initialised process group, with world size 1 or in eval mode it is plain batch
    norm. Unlike torch it also synchronises CPU tensors (ctorch's MPI backend)."""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group: Any = None,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input: Tensor) -> None:
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        if self.training and self.track_running_stats:
            assert self.num_batches_tracked is not None
        factor, bn_training, running_mean, running_var = self._batch_stats_step()

        import ctorch.distributed as dist

        need_sync = bn_training and self.training and dist.is_available() and dist.is_initialized()
        if need_sync:
            pg = self.process_group or dist.group.WORLD
            need_sync = dist.get_world_size(pg) > 1
        if not need_sync:
            return _N.batch_norm(
                input,
                running_mean,
                running_var,
                self.weight,
                self.bias,
                bn_training,
                factor,
                self.eps,
            )
        return _sync_batch_norm(
            input, self.weight, self.bias, running_mean, running_var, self.eps, factor, pg
        )

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """Replace every ``BatchNorm*d`` in ``module`` by a ``SyncBatchNorm`` sharing its
        parameters and buffers (the module itself when it is one)."""
        module_output = module
        if isinstance(module, _BatchNorm):
            module_output = SyncBatchNorm(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
                process_group,
            )
            if module.affine:
                with ctorch.no_grad():
                    module_output.weight = module.weight
                    module_output.bias = module.bias
            module_output.running_mean = module.running_mean
            module_output.running_var = module.running_var
            module_output.num_batches_tracked = module.num_batches_tracked
            module_output.training = module.training
            if hasattr(module, "qconfig"):
                module_output.qconfig = module.qconfig
        for name, child in module.named_children():
            module_output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return module_output
