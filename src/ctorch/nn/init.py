"""``nn.init``: in-place initialisers with torch's distributions (drawn from ctorch's RNG).

Every function runs under ``no_grad`` and returns the tensor it filled.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _warnings
from .._methods import _sample_in_memory_order  # torch's memory order off-contiguous
from .._random import gen_for
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "dirac_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
    "sparse_",
    "uniform",
    "normal",
    "constant",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "orthogonal",
    "sparse",
]


def _set(tensor: Tensor, values: np.ndarray) -> Tensor:
    """Write a host array into ``tensor`` (any device) and bump its version."""
    a = tensor._a
    if tensor.is_meta:  # nothing to write (torch's init functions return a meta tensor as is)
        return tensor
    values = np.asarray(values, dtype=np.dtype(a.dtype) if a.dtype.kind in "fcV" else None)
    if type(a) is np.ndarray:
        a[...] = values
    else:
        a[...] = _to_device_like(values, a)
    tensor._vref[0] += 1
    return tensor


def _to_device_like(values: np.ndarray, like: Any) -> Any:
    import cupy

    with cupy.cuda.Device(like.device.id):
        return cupy.asarray(values)


def _draw_dtype(tensor: Tensor) -> np.dtype:
    dt = np.dtype(tensor._a.dtype)
    return dt if dt.kind in "fV" else np.dtype(np.float64)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (torch's table)."""
    linear_fns = [
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
    ]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    dimensions = tensor.dim()
    if dimensions < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    num_input_fmaps = tensor.size(1)
    num_output_fmaps = tensor.size(0)
    receptive_field_size = 1
    if tensor.dim() > 2:
        for s in tensor.shape[2:]:
            receptive_field_size *= s
    return num_input_fmaps * receptive_field_size, num_output_fmaps * receptive_field_size


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _uniform(tensor: Tensor, a: float, b: float, generator: Any) -> Tensor:
    """torch's ``tensor.uniform_(a, b)``: the same draws as torch under the same seed."""
    if tensor.is_meta:  # no storage: nothing drawn (torch: the tensor back, untouched)
        return tensor
    g, dt = gen_for(generator), _draw_dtype(tensor)
    with no_grad():
        return _set(
            tensor, _sample_in_memory_order(tensor._a, lambda shp: g.uniform(shp, dt, a, b))
        )


def _normal(tensor: Tensor, mean: float, std: float, generator: Any) -> Tensor:
    """torch's ``tensor.normal_(mean, std)``."""
    if tensor.is_meta:
        return tensor
    g, dt = gen_for(generator), _draw_dtype(tensor)
    serial = not tensor._a.flags.c_contiguous  # torch's scalar draw off-contiguous
    with no_grad():
        return _set(
            tensor,
            _sample_in_memory_order(tensor._a, lambda shp: g.normal(shp, dt, mean, std, serial)),
        )


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with U(a, b)."""
    return _uniform(tensor, a, b, generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with N(mean, std^2)."""
    return _normal(tensor, mean, std, generator)


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Any = None,
) -> Tensor:
    """Fill with N(mean, std^2) truncated to [a, b] (torch's rejection sampling)."""
    if mean < a - 2 * std or mean > b + 2 * std:
        _warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of "
            "values may be incorrect.",
        )
    # torch 2.13's algorithm, draw for draw (so the same numbers under a seed): with a wide
    # interval (mass > 0.3), normals redrawn where they fall outside; else uniform candidates
    # accepted against the normal density at the mode
    import ctorch

    if tensor.is_meta:
        return tensor

    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    with no_grad():
        mass = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
        if mass > 0.3:
            lo = tensor.new_tensor(a, device="cpu").item()
            hi = tensor.new_tensor(b, device="cpu").item()
            result = tensor.normal_(mean, std, generator=generator)
            while True:
                mask = (result < lo) | (result > hi)
                if not mask.any():
                    break
                fresh = ctorch.empty_like(result).normal_(mean, std, generator=generator)
                result = ctorch.where(mask, fresh, result)
            if tensor is not result:
                tensor.copy_(result)
            return tensor
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2
        candidates = ctorch.empty_like(tensor)
        accept_buf = ctorch.empty_like(tensor)
        tensor.uniform_(a, b, generator=generator)
        candidates.copy_(tensor)
        candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
        pending = accept_buf.uniform_(generator=generator).log_().gt(candidates)
        if pending.any():
            result = tensor
            while True:
                candidates.uniform_(a, b, generator=generator)
                result = ctorch.where(pending, candidates, result)
                candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
                accepted = accept_buf.uniform_(generator=generator).log_().gt(candidates)
                pending = ctorch.where(pending, accepted, pending)
                if not pending.any():
                    break
            tensor.copy_(result)
    return tensor


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    with no_grad():
        a = tensor._a
        a[...] = val
        tensor._vref[0] += 1
    return tensor


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        return _set(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Dirac delta in the centre of each kernel (preserves conv inputs' identity)."""
    dimensions = tensor.dim()
    if dimensions not in [3, 4, 5]:
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tuple(tensor.shape)
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    v = np.zeros(sizes)
    for g in range(groups):
        for d in range(min_dim):
            idx = (g * out_chans_per_grp + d, d) + tuple(s // 2 for s in sizes[2:])
            v[idx] = 1
    with no_grad():
        return _set(tensor, v)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return _uniform(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _normal(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    """gain / sqrt(fan) of the kaiming inits; None (after torch's warning, which names the
    kaiming_* caller's caller) for a zero-element tensor, which they leave as it is."""
    if 0 in tuple(tensor.shape):
        _warnings.warn("Initializing zero-element tensors is a no-op")
        return None
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> Tensor:
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al.)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return _uniform(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> Tensor:
    """N(0, std^2) with std = gain / sqrt(fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return _normal(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator: Any = None) -> Tensor:
    """A (semi-)orthogonal matrix (QR of a Gaussian matrix, sign-corrected), times gain."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0 or tensor.is_meta:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    flattened = gen_for(generator).normal((rows, cols), _draw_dtype(tensor)).astype(np.float64)
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    d = np.diag(r)
    q = q * np.sign(d)
    if rows < cols:
        q = q.T
    with no_grad():
        return _set(tensor, (q * gain).reshape(tuple(tensor.shape)))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: Any = None) -> Tensor:
    """N(0, std^2) with a fraction ``sparsity`` of each column set to zero."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    if tensor.is_meta:
        return tensor
    num_zeros = int(math.ceil(sparsity * rows))
    v = gen_for(generator).normal((rows, cols), _draw_dtype(tensor), 0.0, std)
    for col_idx in range(cols):  # torch draws these from the default generator
        zero_indices = gen_for(None).permutation(rows)[:num_zeros]
        v[zero_indices, col_idx] = 0
    with no_grad():
        return _set(tensor, v)


def _deprecated(meth: Any) -> Any:
    old_name = meth.__name__[:-1]

    def deprecated_init(*args: Any, **kwargs: Any) -> Any:
        _warnings.warn(
            f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{meth.__name__}`.",
            FutureWarning,
        )
        return meth(*args, **kwargs)

    deprecated_init.__name__ = old_name
    return deprecated_init


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
