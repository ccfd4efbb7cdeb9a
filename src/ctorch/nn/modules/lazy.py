"""Lazy modules: parameters whose shapes come from the first input.

``LazyModuleMixin`` keeps ``UninitializedParameter``/``UninitializedBuffer`` placeholders,
infers their shapes in a forward pre-hook on the first call (``initialize_parameters``), runs
``reset_parameters`` and turns the module into ``cls_to_become`` (``LazyLinear`` becomes
``Linear``), as torch.  Loading a state dict into an uninitialized module materializes the
placeholders with the saved shapes.
"""

from __future__ import annotations

from typing import Any

import ctorch

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d, _NormBase
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .linear import Linear

__all__ = [
    "LazyModuleMixin",
    "LazyLinear",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
]


class LazyModuleMixin:
    """Mixin of the lazy modules (``torch.nn.modules.lazy.LazyModuleMixin``)."""

    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the hook's id, not its handle: a handle holds weakrefs, which would make an
        # uninitialized lazy module unpicklable
        self._initialize_hook_id = self.register_forward_pre_hook(
            _infer_parameters, with_kwargs=True
        ).id

    def has_uninitialized_params(self) -> bool:
        params = self._parameters.values()
        buffers = self._buffers.values()
        return any(is_lazy(t) for t in (*params, *buffers))

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {self.__class__.__name__}"
        )

    def _apply(self, fn: Any, recurse: bool = True) -> Any:
        # placeholders follow dtype/device moves but stay uninitialized
        lazy = {}
        for d in (self._parameters, self._buffers):
            for k, t in list(d.items()):
                if is_lazy(t):
                    lazy[(id(d), k)] = (d, t)
                    del d[k]
        try:
            super()._apply(fn, recurse)
        finally:
            for (_, k), (d, t) in lazy.items():
                with no_grad():
                    moved = fn(Tensor._make(t._a))
                t._a = moved._a
                d[k] = t
        return self

    def _upgrade_state_dict(
        self, state_dict: Any, prefix: str, local_metadata: Any, error_msgs: list
    ) -> None:
        for d in (self._parameters, self._buffers):
            for name, t in d.items():
                key = prefix + name
                if is_lazy(t) and key in state_dict:
                    src = state_dict[key]
                    if not is_lazy(src):
                        with no_grad():
                            t.materialize(tuple(src.shape))
                        if isinstance(t, Tensor) and d is self._buffers:
                            d[name] = t
        super()._upgrade_state_dict(state_dict, prefix, local_metadata, error_msgs)

    def _finish_lazy(self) -> None:
        hid = self.__dict__.pop("_initialize_hook_id", None)
        if hid is not None:
            self._forward_pre_hooks.pop(hid, None)
            self._forward_pre_hooks_with_kwargs.pop(hid, None)
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become


def _infer_parameters(module: LazyModuleMixin, args: tuple, kwargs: dict | None = None) -> None:
    kwargs = kwargs or {}
    module.initialize_parameters(*args, **kwargs)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._finish_lazy()


class _LazyOf(LazyModuleMixin):
    """Base of ctorch's lazy modules: ``reset_parameters`` waits until the size named by
    ``_inferred`` is known, and ``class LazyX(..., X, becomes=X)`` sets ``cls_to_become``
    and the docstring."""

    _inferred = ""  # the size attribute the first input gives

    def __init_subclass__(cls, becomes: type | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if becomes is not None:
            cls.cls_to_become = becomes
            cls.__doc__ = (
                f"``{becomes.__name__}`` with ``{cls._inferred}`` inferred from the first input."
            )

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and getattr(self, self._inferred) != 0:
            super().reset_parameters()


# ------------------------------------------------------------------------------------- Linear
class LazyLinear(_LazyOf, Linear):
    """``Linear`` whose ``in_features`` is inferred from the first input's last dimension."""

    cls_to_become = Linear
    _inferred = "in_features"

    def __init__(
        self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(**factory_kwargs)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(**factory_kwargs)

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
        if self.in_features == 0:  # materialized by load_state_dict
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(
                    f"The in_features inferred from input: {input.shape[-1]} is not equal to "
                    f"in_features from self.weight: {self.weight.shape[-1]}"
                )
            self.in_features = input.shape[-1]


# --------------------------------------------------------------------------------------- Conv
class _LazyConvXdMixin(_LazyOf):
    _inferred = "in_channels"

    def _get_in_channels(self, input: Tensor) -> int:
        n = len(self.kernel_size)
        if input.dim() not in (n + 1, n + 2):
            raise RuntimeError(
                f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to "
                f"{self.__class__.__name__}, but got input of size: {list(input.shape)}"
            )
        return input.shape[1] if input.dim() == n + 2 else input.shape[0]

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            if self.transposed:
                shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
            else:
                shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
            with no_grad():
                self.weight.materialize(shape)
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()
        if self.in_channels == 0:  # materialized by load_state_dict
            self.in_channels = self._get_in_channels(input)


def _lazy_conv_init(self: Any, out_channels: int, bias: bool, factory: dict) -> None:
    self.weight = UninitializedParameter(**factory)
    self.out_channels = out_channels
    if bias:
        self.bias = UninitializedParameter(**factory)


class _LazyConvNd(_LazyConvXdMixin):
    def __init__(
        self,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        factory = {"device": device, "dtype": dtype}
        super().__init__(
            0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, **factory
        )
        _lazy_conv_init(self, out_channels, bias, factory)


class LazyConv1d(_LazyConvNd, Conv1d, becomes=Conv1d): ...


class LazyConv2d(_LazyConvNd, Conv2d, becomes=Conv2d): ...


class LazyConv3d(_LazyConvNd, Conv3d, becomes=Conv3d): ...


class _LazyConvTransposeNd(_LazyConvXdMixin):
    def __init__(
        self,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        factory = {"device": device, "dtype": dtype}
        super().__init__(
            0,
            0,
            kernel_size,
            stride,
            padding,
            output_padding,
            groups,
            False,
            dilation,
            padding_mode,
            **factory,
        )
        _lazy_conv_init(self, out_channels, bias, factory)


class LazyConvTranspose1d(_LazyConvTransposeNd, ConvTranspose1d, becomes=ConvTranspose1d): ...


class LazyConvTranspose2d(_LazyConvTransposeNd, ConvTranspose2d, becomes=ConvTranspose2d): ...


# -------------------------------------------------------------------------------------- norms
class _LazyNormBase(_LazyOf, _NormBase):
    _inferred = "num_features"

    def __init__(
        self,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        factory = {"device": device, "dtype": dtype}
        super().__init__(0, eps, momentum, False, False, **factory)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = UninitializedParameter(**factory)
            self.bias = UninitializedParameter(**factory) if bias else None
        if self.track_running_stats:
            self.running_mean = UninitializedBuffer(**factory)
            self.running_var = UninitializedBuffer(**factory)
            self.num_batches_tracked = ctorch.tensor(0, dtype=ctorch.long, device=device)

    def _features_of(self, input: Tensor) -> int:
        # the channel dim: 0 for an instance norm's unbatched input, else 1
        nb = getattr(self, "_no_batch_dim", None)
        return input.shape[0] if input.dim() == nb else input.shape[1]

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        if self.has_uninitialized_params():
            self.num_features = self._features_of(input)
            with no_grad():
                if self.affine:
                    self.weight.materialize((self.num_features,))
                    if self.bias is not None:
                        self.bias.materialize((self.num_features,))
                if self.track_running_stats:
                    for name in ("running_mean", "running_var"):
                        buf = self._buffers[name]
                        buf.materialize((self.num_features,))
                        self._buffers[name] = buf
                self.reset_parameters()
        if self.num_features == 0:  # materialized by load_state_dict
            self.num_features = self._features_of(input)


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d, becomes=BatchNorm1d): ...


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d, becomes=BatchNorm2d): ...


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d, becomes=BatchNorm3d): ...


class _LazyInstanceNorm(_LazyNormBase):
    """Note: like torch's, the lazy instance norms default to ``affine=True,
    track_running_stats=True`` (the eager ones to False, False)."""


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d, becomes=InstanceNorm1d): ...


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d, becomes=InstanceNorm2d): ...


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d, becomes=InstanceNorm3d): ...


def _home_lazy_classes() -> None:
    """torch defines each lazy class next to its eager one (``torch.nn.modules.conv.LazyConv2d``):
    give them the same homes, so class paths (pickles, ``repr(type(m))``) match torch's."""
    from . import batchnorm, conv, instancenorm, linear

    homes = {
        linear: ["LazyLinear"],
        conv: [
            "LazyConv1d",
            "LazyConv2d",
            "LazyConv3d",
            "LazyConvTranspose1d",
            "LazyConvTranspose2d",
        ],
        batchnorm: ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d"],
        instancenorm: ["LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"],
    }
    for mod, names in homes.items():
        for name in names:
            cls = globals()[name]
            cls.__module__ = mod.__name__
            setattr(mod, name, cls)


_home_lazy_classes()
