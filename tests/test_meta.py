"""The meta device (issue #14): tensors with a shape, a dtype and strides but no storage.

Every case runs the same lambda on torch's meta device and on ctorch's and compares what a
meta tensor has: shape, dtype, device, strides, requires_grad; errors compare by type (and by
message for the data-access errors, whose words torch fixes; shape errors carry ctorch's own
CPU message, checked against ctorch on the CPU).
"""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ctorch  # noqa: E402


def _desc(r):
    """What a meta result is made of, in library-neutral terms."""
    if isinstance(r, (tuple, list)) and not hasattr(r, "shape"):
        return [_desc(x) for x in r]
    if hasattr(r, "shape") and hasattr(r, "device") and hasattr(r, "stride"):
        return (
            tuple(r.shape),
            str(r.dtype).split(".")[-1],
            r.device.type,
            tuple(r.stride()),
            bool(r.requires_grad),
        )
    return r


def _m(T, dev, *shape, **kw):
    return T.randn(*shape, device=dev, **kw)


def _i(T, dev, *shape):
    return T.zeros(*shape, dtype=T.int64, device=dev)


def _F(T):
    return T.nn.functional


def _cl(T, dev, *shape):
    return T.randn(*(shape or (2, 3, 4, 5)), device=dev).contiguous(memory_format=T.channels_last)


# Each lambda takes the library and the device. The cases are the op families of issue #14.
CASES = {
    # creation
    "zeros": lambda T, d: T.zeros(2, 3, device=d),
    "ones int32": lambda T, d: T.ones(2, dtype=T.int32, device=d),
    "empty memory_format": lambda T, d: T.empty(2, 3, 4, 5, device=d).contiguous(
        memory_format=T.channels_last
    ),
    "full": lambda T, d: T.full((2, 3), 7, device=d),
    "full float": lambda T, d: T.full((2,), 1.5, device=d),
    "rand": lambda T, d: T.rand(2, 3, device=d),
    "randn f64": lambda T, d: T.randn(2, 3, dtype=T.float64, device=d),
    "randint": lambda T, d: T.randint(0, 5, (2, 3), device=d),
    "arange": lambda T, d: T.arange(0, 10, 2, device=d),
    "arange float": lambda T, d: T.arange(0.0, 1.0, 0.25, device=d),
    "linspace": lambda T, d: T.linspace(0, 1, 5, device=d),
    "eye": lambda T, d: T.eye(3, 4, device=d),
    "eye square": lambda T, d: T.eye(3, dtype=T.float64, device=d),
    "randperm": lambda T, d: T.randperm(5, device=d),
    "linspace int": lambda T, d: T.linspace(0, 10, 5, dtype=T.int32, device=d),
    "tensor": lambda T, d: T.tensor([[1, 2], [3, 4]], device=d),
    "tensor float": lambda T, d: T.tensor([1.0, 2.0], device=d),
    "empty_like": lambda T, d: T.empty_like(_m(T, d, 2, 3)),
    "zeros_like transposed": lambda T, d: T.zeros_like(_m(T, d, 2, 3).t()),
    "ones_like dtype": lambda T, d: T.ones_like(_m(T, d, 2, 3), dtype=T.float64),
    "full_like": lambda T, d: T.full_like(_m(T, d, 2, 3), 2.0),
    "randn_like": lambda T, d: T.randn_like(_m(T, d, 2, 3)),
    "rand_like": lambda T, d: T.rand_like(_m(T, d, 2, 3)),
    "new_zeros": lambda T, d: _m(T, d, 2).new_zeros(3, 4),
    "new_empty": lambda T, d: _m(T, d, 2).new_empty((3,)),
    "new_ones": lambda T, d: _m(T, d, 2).new_ones(3),
    "new_full": lambda T, d: _m(T, d, 2).new_full((2,), 3.0),
    "new_tensor": lambda T, d: _m(T, d, 2).new_tensor([1.0, 2.0]),
    "requires_grad": lambda T, d: T.zeros(2, 3, device=d, requires_grad=True),
    # moves
    "to": lambda T, d: T.zeros(2, 3).to(d),
    "to device=": lambda T, d: T.zeros(2, 3).to(device=d),
    "to keeps strides": lambda T, d: T.zeros(2, 3).t().to(d),
    "to with dtype": lambda T, d: T.zeros(2, 3).to(d, T.float64),
    "to(other)": lambda T, d: T.zeros(2, 3).to(T.zeros(1, device=d)),
    "type_as": lambda T, d: _m(T, d, 2, 3).type_as(T.zeros(1, dtype=T.float64, device=d)),
    "float()": lambda T, d: _i(T, d, 2).float(),
    "to half": lambda T, d: _m(T, d, 2, 3).to(T.float16),
    "copy_ into meta": lambda T, d: _m(T, d, 2).copy_(T.zeros(2)),
    # elementwise, broadcasting and promotion
    "add": lambda T, d: _m(T, d, 2, 3) + _m(T, d, 3),
    "add scalar": lambda T, d: _m(T, d, 2, 3) + 1,
    "add int and float scalar": lambda T, d: _i(T, d, 2) + 1.5,
    "add int64 int32": lambda T, d: _i(T, d, 2) + T.zeros(2, dtype=T.int32, device=d),
    "mul f32 f64": lambda T, d: _m(T, d, 2, 3) * _m(T, d, 2, 3, dtype=T.float64),
    "true div int": lambda T, d: _i(T, d, 2) / 2,
    "floor div int": lambda T, d: _i(T, d, 2) // 2,
    "pow": lambda T, d: _m(T, d, 2, 3) ** 2,
    "broadcast 3-way": lambda T, d: _m(T, d, 4, 1, 3) * _m(T, d, 5, 1),
    "transposed input keeps layout": lambda T, d: _m(T, d, 2, 3).t() * 2,
    "channels_last relu": lambda T, d: T.relu(_cl(T, d)),
    "channels_last + contiguous": lambda T, d: _cl(T, d) + _m(T, d, 2, 3, 4, 5),
    "contiguous + channels_last": lambda T, d: _m(T, d, 2, 3, 4, 5) + _cl(T, d),
    "channels_last + bias": lambda T, d: _cl(T, d) + _m(T, d, 3, 1, 1),
    "channels_last batch_norm": lambda T, d: _F(T).batch_norm(
        _cl(T, d), T.zeros(3, device=d), T.ones(3, device=d)
    ),
    "channels_last max_pool2d": lambda T, d: _F(T).max_pool2d(_cl(T, d, 2, 3, 4, 4), 2),
    "channels_last double": lambda T, d: _cl(T, d).double(),
    "channels_last empty_like": lambda T, d: T.empty_like(_cl(T, d)),
    "transposed where": lambda T, d: T.where(_m(T, d, 3, 4).t() > 0, 1.0, 0.0),
    "transposed softmax": lambda T, d: _m(T, d, 3, 4).t().softmax(-1),
    "strided slice": lambda T, d: _m(T, d, 4, 6)[:, ::2] * 2,
    "transposed mm": lambda T, d: _m(T, d, 3, 4).t() @ _m(T, d, 3, 2),
    "two transposed": lambda T, d: _m(T, d, 2, 3).t() + _m(T, d, 3, 2),
    "exp": lambda T, d: _m(T, d, 2, 3).exp(),
    "sin of int": lambda T, d: _i(T, d, 2).sin(),
    "neg": lambda T, d: -_m(T, d, 2),
    "abs": lambda T, d: _m(T, d, 2).abs(),
    "sqrt": lambda T, d: T.sqrt(_m(T, d, 2)),
    "sigmoid": lambda T, d: T.sigmoid(_m(T, d, 2)),
    "tanh": lambda T, d: _m(T, d, 2).tanh(),
    "rsqrt": lambda T, d: _m(T, d, 4).rsqrt(),
    "erfinv": lambda T, d: T.erfinv(T.zeros(3, 2, device=d)),
    "lerp": lambda T, d: T.lerp(_m(T, d, 2, 3), _m(T, d, 3), 0.5),
    "addcmul": lambda T, d: T.addcmul(_m(T, d, 2, 3), _m(T, d, 3), _m(T, d, 2, 1), value=0.5),
    "clamp": lambda T, d: _m(T, d, 2, 3).clamp(0, 1),
    "clamp min": lambda T, d: _m(T, d, 2, 3).clamp(min=0),
    "where scalar": lambda T, d: T.where(_m(T, d, 2, 3) > 0, _m(T, d, 2, 3), 0.0),
    "where broadcast": lambda T, d: T.where(_m(T, d, 2, 1) > 0, _m(T, d, 3), _m(T, d, 2, 3)),
    "masked_fill": lambda T, d: _m(T, d, 2, 3).masked_fill(_m(T, d, 3) > 0, float("-inf")),
    "gt": lambda T, d: _m(T, d, 2, 3) > _m(T, d, 3),
    "eq scalar": lambda T, d: _m(T, d, 2, 3) == 0,
    "logical_and": lambda T, d: T.logical_and(_m(T, d, 2) > 0, _m(T, d, 2) < 1),
    "maximum": lambda T, d: T.maximum(_m(T, d, 2), _m(T, d, 2, 1)),
    "half add": lambda T, d: _m(T, d, 4).half() + 1,
    "bfloat16 mul": lambda T, d: _m(T, d, 4).bfloat16() * 2,
    "0-d cpu scalar tensor": lambda T, d: _m(T, d, 2, 3) + T.tensor(2.0),
    # in-place: self back, nothing written
    "add_": lambda T, d: _m(T, d, 2, 3).add_(1),
    "mul_ broadcast": lambda T, d: _m(T, d, 2, 3).mul_(_m(T, d, 3)),
    "zero_": lambda T, d: _m(T, d, 2, 3).zero_(),
    "fill_": lambda T, d: _m(T, d, 2, 3).fill_(2),
    "normal_": lambda T, d: _m(T, d, 2, 3).normal_(),
    "uniform_": lambda T, d: _m(T, d, 2, 3).uniform_(),
    "clamp_": lambda T, d: _m(T, d, 2, 3).clamp_(0, 1),
    # products
    "matmul": lambda T, d: _m(T, d, 2, 3) @ _m(T, d, 3, 4),
    "matmul batched": lambda T, d: _m(T, d, 5, 2, 3) @ _m(T, d, 3, 4),
    "matmul matrix-vector": lambda T, d: _m(T, d, 5, 2, 3) @ _m(T, d, 3),
    "matmul dot": lambda T, d: _m(T, d, 3) @ _m(T, d, 3),
    "mm": lambda T, d: T.mm(_m(T, d, 2, 3), _m(T, d, 3, 4)),
    "bmm": lambda T, d: T.bmm(_m(T, d, 5, 2, 3), _m(T, d, 5, 3, 4)),
    "addmm": lambda T, d: T.addmm(_m(T, d, 4), _m(T, d, 2, 3), _m(T, d, 3, 4)),
    "baddbmm": lambda T, d: T.baddbmm(_m(T, d, 2, 3, 5), _m(T, d, 2, 3, 4), _m(T, d, 2, 4, 5)),
    "bfloat16 matmul": lambda T, d: _m(T, d, 4, 4).bfloat16() @ _m(T, d, 4, 4).bfloat16(),
    "einsum": lambda T, d: T.einsum("bij,bjk->bik", _m(T, d, 5, 2, 3), _m(T, d, 5, 3, 4)),
    "einsum implicit": lambda T, d: T.einsum("ij,jk", _m(T, d, 2, 3), _m(T, d, 3, 4)),
    "einsum sum": lambda T, d: T.einsum("ij->j", _m(T, d, 2, 3)),
    "outer": lambda T, d: T.outer(_m(T, d, 3), _m(T, d, 4)),
    "tensordot": lambda T, d: T.tensordot(_m(T, d, 3, 4), _m(T, d, 4, 5), 1),
    "linear": lambda T, d: _F(T).linear(_m(T, d, 5, 3), _m(T, d, 4, 3), _m(T, d, 4)),
    "linear 3-d no bias": lambda T, d: _F(T).linear(_m(T, d, 2, 5, 3), _m(T, d, 4, 3)),
    # reductions
    "sum": lambda T, d: _m(T, d, 2, 3).sum(),
    "sum dim": lambda T, d: _m(T, d, 2, 3, 4).sum(1),
    "sum dims keepdim": lambda T, d: _m(T, d, 2, 3, 4).sum((0, 2), keepdim=True),
    "sum int32": lambda T, d: T.zeros(2, 3, dtype=T.int32, device=d).sum(),
    "sum bool": lambda T, d: (_m(T, d, 2, 3) > 0).sum(1),
    "sum dtype": lambda T, d: _m(T, d, 4).sum(dtype=T.float64),
    "mean": lambda T, d: _m(T, d, 2, 3).mean(-1),
    "mean dtype": lambda T, d: _m(T, d, 4).mean(dtype=T.float64),
    "max": lambda T, d: _m(T, d, 2, 3).max(),
    "max dim": lambda T, d: _m(T, d, 2, 3).max(1),
    "min dim keepdim": lambda T, d: _m(T, d, 2, 3).min(0, keepdim=True),
    "argmax dim": lambda T, d: _m(T, d, 2, 3).argmax(-1),
    "argmax": lambda T, d: _m(T, d, 2, 3).argmax(),
    "argmin keepdim": lambda T, d: _m(T, d, 2, 3).argmin(keepdim=True),
    "var": lambda T, d: _m(T, d, 2, 3).var(1),
    "std": lambda T, d: _m(T, d, 2, 3).std(),
    "var_mean": lambda T, d: T.var_mean(_m(T, d, 4, 6), 1),
    "norm": lambda T, d: _m(T, d, 2, 3).norm(),
    "norm dim": lambda T, d: _m(T, d, 2, 3).norm(dim=1),
    "softmax": lambda T, d: _m(T, d, 2, 3).softmax(-1),
    "log_softmax": lambda T, d: _F(T).log_softmax(_m(T, d, 2, 3), dim=1),
    "prod": lambda T, d: _m(T, d, 2, 3).prod(1),
    "any": lambda T, d: (_m(T, d, 2, 3) > 0).any(),
    "all dim": lambda T, d: (_m(T, d, 2, 3) > 0).all(1),
    "cumsum": lambda T, d: _m(T, d, 2, 3).cumsum(1),
    "logsumexp": lambda T, d: _m(T, d, 2, 3).logsumexp(1),
    "amax": lambda T, d: _m(T, d, 2, 3).amax(1),
    "topk": lambda T, d: _m(T, d, 4, 5).topk(2),
    "sort": lambda T, d: _m(T, d, 4, 5).sort(1),
    # shape and view ops
    "view": lambda T, d: _m(T, d, 2, 3, 4).view(6, 4),
    "view -1": lambda T, d: _m(T, d, 2, 3, 4).view(-1),
    "view of a split": lambda T, d: _m(T, d, 2, 10, 96).split(32, dim=2)[1].view(2, 10, 4, 8),
    "reshape of transposed": lambda T, d: _m(T, d, 2, 3).t().reshape(6),
    "permute": lambda T, d: _m(T, d, 2, 3, 4).permute(2, 0, 1),
    "transpose": lambda T, d: _m(T, d, 2, 3, 4).transpose(0, 2),
    "expand": lambda T, d: _m(T, d, 3, 1).expand(3, 4),
    "expand new dims": lambda T, d: _m(T, d, 3, 1).expand(2, -1, 4),
    "squeeze": lambda T, d: _m(T, d, 3, 1).squeeze(),
    "unsqueeze": lambda T, d: _m(T, d, 3, 4).unsqueeze(1),
    "flatten": lambda T, d: _m(T, d, 2, 3, 4).flatten(1),
    "contiguous": lambda T, d: _m(T, d, 2, 3).t().contiguous(),
    "clone keeps layout": lambda T, d: _m(T, d, 2, 3).t().clone(),
    "cat": lambda T, d: T.cat([_m(T, d, 2, 3), _m(T, d, 4, 3)]),
    "cat dim 1": lambda T, d: T.cat([_m(T, d, 2, 3), _m(T, d, 2, 1)], 1),
    "stack": lambda T, d: T.stack([_m(T, d, 2, 3), _m(T, d, 2, 3)], 1),
    "split": lambda T, d: _m(T, d, 5, 3).split(2),
    "chunk": lambda T, d: _m(T, d, 6, 3).chunk(3, 1),
    "unbind": lambda T, d: _m(T, d, 2, 3).unbind(1),
    "index int": lambda T, d: _m(T, d, 4, 5)[1],
    "index slices": lambda T, d: _m(T, d, 4, 5)[1:3, ::2],
    "index ellipsis": lambda T, d: _m(T, d, 4, 5, 6)[..., 1],
    "index tensor": lambda T, d: _m(T, d, 4, 5)[_i(T, d, 2)],
    "narrow": lambda T, d: _m(T, d, 4, 5).narrow(1, 1, 2),
    "select": lambda T, d: _m(T, d, 4, 5).select(1, 1),
    "diag": lambda T, d: _m(T, d, 3, 3).diag(),
    "tril": lambda T, d: _m(T, d, 4, 4).tril(),
    "triu": lambda T, d: T.triu(_m(T, d, 4, 4), 1),
    "repeat": lambda T, d: _m(T, d, 2, 3).repeat(2, 1),
    "flip": lambda T, d: _m(T, d, 2, 3).flip(0),
    "roll": lambda T, d: _m(T, d, 2, 3).roll(1, 0),
    "gather": lambda T, d: _m(T, d, 2, 3).gather(1, _i(T, d, 2, 2)),
    "index_select": lambda T, d: _m(T, d, 4, 3).index_select(0, _i(T, d, 2)),
    "empty channels_last": lambda T, d: T.empty(
        2, 3, 4, 5, device=d, memory_format=T.channels_last
    ),
    "empty_strided": lambda T, d: T.empty_strided((2, 3), (1, 2), device=d),
    "new_empty_strided": lambda T, d: T.zeros(1, device=d).new_empty_strided((2, 3), (1, 2)),
    "as_strided": lambda T, d: T.zeros(10, device=d).as_strided((2, 2), (3, 1), 1),
    "as_strided of a view": lambda T, d: T.zeros(10, device=d)[2:].as_strided((2, 2), (3, 1)),
    "expand_as": lambda T, d: T.zeros(3, 1, device=d).expand_as(T.zeros(3, 4, device=d)),
    "clone channels_last": lambda T, d: T.zeros(2, 3, 4, 5, device=d).clone(
        memory_format=T.channels_last
    ),
    "pickle": lambda T, d: pickle.loads(pickle.dumps(T.zeros(2, 3, device=d).t())),
    "isclose": lambda T, d: T.isclose(_m(T, d, 2, 3), _m(T, d, 3)),
    # the functional layers models use
    "conv1d": lambda T, d: _F(T).conv1d(
        _m(T, d, 2, 3, 10), _m(T, d, 4, 3, 3), _m(T, d, 4), padding=1
    ),
    "conv2d": lambda T, d: _F(T).conv2d(_m(T, d, 2, 3, 8, 8), _m(T, d, 4, 3, 3, 3), stride=2),
    "conv2d depthwise same": lambda T, d: _F(T).conv2d(
        _m(T, d, 2, 4, 8, 8), _m(T, d, 4, 1, 3, 3), groups=4, padding="same"
    ),
    "conv_transpose2d": lambda T, d: _F(T).conv_transpose2d(
        _m(T, d, 1, 4, 5, 5), _m(T, d, 4, 2, 3, 3)
    ),
    "max_pool2d": lambda T, d: _F(T).max_pool2d(_m(T, d, 2, 3, 8, 8), 2),
    "avg_pool2d": lambda T, d: _F(T).avg_pool2d(_m(T, d, 2, 3, 8, 8), 2),
    "adaptive_avg_pool2d": lambda T, d: _F(T).adaptive_avg_pool2d(_m(T, d, 2, 3, 8, 8), 1),
    "layer_norm": lambda T, d: _F(T).layer_norm(_m(T, d, 2, 5, 8), (8,), _m(T, d, 8), _m(T, d, 8)),
    "layer_norm 2 dims": lambda T, d: _F(T).layer_norm(_m(T, d, 2, 5, 8), (5, 8)),
    "rms_norm": lambda T, d: _F(T).rms_norm(_m(T, d, 2, 5, 8), (8,), _m(T, d, 8)),
    "batch_norm eval": lambda T, d: _F(T).batch_norm(
        _m(T, d, 4, 3, 5), _m(T, d, 3), _m(T, d, 3), _m(T, d, 3), _m(T, d, 3), training=False
    ),
    "group_norm": lambda T, d: _F(T).group_norm(_m(T, d, 4, 6, 5), 3),
    "embedding": lambda T, d: _F(T).embedding(_i(T, d, 2, 5), _m(T, d, 10, 8)),
    "dropout": lambda T, d: _F(T).dropout(_m(T, d, 2, 3), 0.5),
    "dropout eval": lambda T, d: _F(T).dropout(_m(T, d, 2, 3), 0.5, training=False),
    "gelu": lambda T, d: _F(T).gelu(_m(T, d, 2, 3)),
    "gelu tanh": lambda T, d: _F(T).gelu(_m(T, d, 2, 3), approximate="tanh"),
    "relu": lambda T, d: _F(T).relu(_m(T, d, 2, 3)),
    "silu": lambda T, d: _F(T).silu(_m(T, d, 2, 3)),
    "softplus": lambda T, d: _F(T).softplus(_m(T, d, 2, 3)),
    "glu": lambda T, d: _F(T).glu(_m(T, d, 4, 6)),
    "sdpa causal": lambda T, d: _F(T).scaled_dot_product_attention(
        _m(T, d, 2, 4, 5, 8), _m(T, d, 2, 4, 5, 8), _m(T, d, 2, 4, 5, 8), is_causal=True
    ),
    "sdpa mask": lambda T, d: _F(T).scaled_dot_product_attention(
        _m(T, d, 2, 4, 5, 8), _m(T, d, 2, 4, 6, 8), _m(T, d, 2, 4, 6, 3), attn_mask=_m(T, d, 5, 6)
    ),
    "cross_entropy": lambda T, d: _F(T).cross_entropy(_m(T, d, 4, 10), _i(T, d, 4)),
    "cross_entropy none": lambda T, d: _F(T).cross_entropy(
        _m(T, d, 4, 10), _i(T, d, 4), reduction="none"
    ),
    "cross_entropy 3-d": lambda T, d: _F(T).cross_entropy(_m(T, d, 4, 10, 7), _i(T, d, 4, 7)),
    "cross_entropy smoothing": lambda T, d: _F(T).cross_entropy(
        _m(T, d, 4, 10), _i(T, d, 4), label_smoothing=0.1
    ),
    "cross_entropy probabilities": lambda T, d: _F(T).cross_entropy(
        _m(T, d, 4, 10), _m(T, d, 4, 10)
    ),
    "nll_loss": lambda T, d: _F(T).nll_loss(_m(T, d, 4, 10), _i(T, d, 4)),
    "mse_loss": lambda T, d: _F(T).mse_loss(_m(T, d, 4, 10), _m(T, d, 4, 10)),
    "bce with logits": lambda T, d: _F(T).binary_cross_entropy_with_logits(
        _m(T, d, 3), _m(T, d, 3)
    ),
    "one_hot": lambda T, d: _F(T).one_hot(_i(T, d, 4), 5),
    "pad": lambda T, d: _F(T).pad(_m(T, d, 2, 3), (1, 2)),
    "interpolate nearest": lambda T, d: _F(T).interpolate(_m(T, d, 1, 3, 4, 4), scale_factor=2),
    "interpolate bilinear": lambda T, d: _F(T).interpolate(
        _m(T, d, 1, 3, 4, 4), size=(6, 6), mode="bilinear", align_corners=False
    ),
    "normalize": lambda T, d: _F(T).normalize(_m(T, d, 4, 3), dim=1),
    "cosine_similarity": lambda T, d: _F(T).cosine_similarity(_m(T, d, 4, 6), _m(T, d, 4, 6)),
    "pixel_shuffle": lambda T, d: _F(T).pixel_shuffle(_m(T, d, 1, 8, 3, 3), 2),
    "polar": lambda T, d: T.polar(T.ones(3, device=d), T.ones(3, device=d)),
    "rotary (llama)": lambda T, d: T.view_as_real(
        T.view_as_complex(_m(T, d, 2, 16, 4, 8).reshape(2, 16, 4, 4, 2))
        * T.polar(
            T.ones(16, 4, device=d), T.outer(T.arange(16, device=d).float(), _m(T, d, 4))
        ).view(1, 16, 1, 4)
    ).flatten(3),
    "repeat_interleave kv heads": lambda T, d: _m(T, d, 2, 3, 4, 8).repeat_interleave(2, dim=2),
    "bfloat16 linear": lambda T, d: _F(T).linear(
        _m(T, d, 2, 4, dtype=T.bfloat16), _m(T, d, 3, 4, dtype=T.bfloat16)
    ),
    "bfloat16 sdpa": lambda T, d: _F(T).scaled_dot_product_attention(
        *(_m(T, d, 1, 2, 3, 4, dtype=T.bfloat16) for _ in range(3)), is_causal=True
    ),
    "softmax to float32": lambda T, d: T.softmax(
        _m(T, d, 2, 4, dtype=T.bfloat16), -1, dtype=T.float32
    ),
    "lstm": lambda T, d: T.nn.LSTM(4, 8, device=d)(_m(T, d, 5, 2, 4))[0],
    "transformer encoder layer": lambda T, d: T.nn.TransformerEncoderLayer(
        16, 2, 32, batch_first=True, device=d
    )(_m(T, d, 2, 5, 16)),
}


# torch.special's SciPy-backed functions: elementwise, torch's promoted dtype and layout
def _special_unary(name):
    return lambda T, d: getattr(T.special, name)(_m(T, d, 2, 3))


SPECIAL = {
    **{
        f"special.{name}": _special_unary(name)
        for name in (
            "erfcx",
            "i0",
            "i0e",
            "i1",
            "i1e",
            "bessel_j0",
            "bessel_j1",
            "bessel_y0",
            "bessel_y1",
            "modified_bessel_i0",
            "modified_bessel_k1",
            "scaled_modified_bessel_k0",
            "spherical_bessel_j0",
            "airy_ai",
            "ndtr",
            "ndtri",
            "log_ndtr",
            "entr",
            "digamma",
            "gammaln",
            "sinc",
            "erfc",
        )
    },
    "special.i0 of int": lambda T, d: T.special.i0(_i(T, d, 2, 3)),
    "special.i0e float64": lambda T, d: T.special.i0e(_m(T, d, 3, dtype=T.float64)),
    "special.erfcx float16": lambda T, d: T.special.erfcx(_m(T, d, 3, dtype=T.float16)),
    "special.i1 bfloat16": lambda T, d: T.special.i1(_m(T, d, 3, dtype=T.bfloat16)),
    "special.i0 transposed": lambda T, d: T.special.i0(_m(T, d, 2, 3).t()),
    "special.ndtr channels_last": lambda T, d: T.special.ndtr(_cl(T, d)),
    "special.erfcx requires_grad": lambda T, d: T.special.erfcx(_m(T, d, 2, 3, requires_grad=True)),
    "special.polygamma": lambda T, d: T.special.polygamma(2, _m(T, d, 2, 3)),
    "special.multigammaln": lambda T, d: T.special.multigammaln(_m(T, d, 2, 3), 2),
    "special.zeta": lambda T, d: T.special.zeta(_m(T, d, 2, 3), _m(T, d, 3)),
    "special.xlog1py broadcast": lambda T, d: T.special.xlog1py(_m(T, d, 2, 1), _m(T, d, 3)),
    "special.xlogy scalar": lambda T, d: T.special.xlogy(_m(T, d, 2, 3), 2.0),
    "special.xlogy f32 f64": lambda T, d: T.special.xlogy(
        _m(T, d, 3), _m(T, d, 3, dtype=T.float64)
    ),
    "special.xlogy ints": lambda T, d: T.special.xlogy(_i(T, d, 3), _i(T, d, 3)),
    "special.gammainc": lambda T, d: T.special.gammainc(_m(T, d, 2, 3), _m(T, d, 3)),
    "special.gammaincc requires_grad": lambda T, d: T.special.gammaincc(
        _m(T, d, 3), _m(T, d, 3, requires_grad=True)
    ),
    "special.chebyshev_polynomial_t": lambda T, d: T.special.chebyshev_polynomial_t(
        _m(T, d, 2, 3), _i(T, d, 3)
    ),
    "special.hermite_polynomial_h scalar n": lambda T, d: T.special.hermite_polynomial_h(
        _m(T, d, 2, 3), 3
    ),
    "special.legendre_polynomial_p": lambda T, d: T.special.legendre_polynomial_p(
        _m(T, d, 2, 1), _m(T, d, 4)
    ),
    "i0": lambda T, d: T.i0(_m(T, d, 2, 3)),
    "lgamma": lambda T, d: T.lgamma(_m(T, d, 2, 3)),
    "digamma method": lambda T, d: _m(T, d, 2, 3).digamma(),
    "polygamma": lambda T, d: T.polygamma(1, _m(T, d, 2, 3)),
    "igamma": lambda T, d: T.igamma(_m(T, d, 2, 3), _m(T, d, 3)),
    "mvlgamma": lambda T, d: T.mvlgamma(_m(T, d, 2, 3), 2),
    "sinc": lambda T, d: T.sinc(_m(T, d, 2, 3)),
}
CASES.update(SPECIAL)

# the ops of #14's second list: shapes from shapes, nothing read
CASES.update(
    {
        "embedding_bag 2-d": lambda T, d: _F(T).embedding_bag(_i(T, d, 2, 4), _m(T, d, 10, 3)),
        "embedding_bag offsets sum": lambda T, d: _F(T).embedding_bag(
            _i(T, d, 8), _m(T, d, 10, 3), _i(T, d, 3), mode="sum"
        ),
        "embedding_bag include_last_offset": lambda T, d: _F(T).embedding_bag(
            _i(T, d, 8), _m(T, d, 10, 3), _i(T, d, 3), include_last_offset=True
        ),
        "embedding_bag max": lambda T, d: _F(T).embedding_bag(
            _i(T, d, 2, 4), _m(T, d, 10, 3), mode="max"
        ),
        "embedding_bag per_sample_weights": lambda T, d: _F(T).embedding_bag(
            _i(T, d, 2, 4), _m(T, d, 10, 3), mode="sum", per_sample_weights=_m(T, d, 2, 4)
        ),
        "embedding_bag float64 requires_grad": lambda T, d: _F(T).embedding_bag(
            _i(T, d, 2, 4), _m(T, d, 10, 3, dtype=T.float64, requires_grad=True)
        ),
        "EmbeddingBag": lambda T, d: T.nn.EmbeddingBag(10, 3, device=d)(_i(T, d, 2, 4)),
        "grid_sample": lambda T, d: _F(T).grid_sample(
            _m(T, d, 2, 3, 5, 5), _m(T, d, 2, 4, 6, 2), align_corners=False
        ),
        "grid_sample nearest requires_grad": lambda T, d: _F(T).grid_sample(
            _m(T, d, 2, 3, 5, 5, requires_grad=True),
            _m(T, d, 2, 4, 6, 2),
            mode="nearest",
            align_corners=True,
        ),
        "grid_sample 3-d": lambda T, d: _F(T).grid_sample(
            _m(T, d, 2, 3, 5, 5, 5), _m(T, d, 2, 4, 6, 7, 3), align_corners=False
        ),
        "ctc_loss list lengths": lambda T, d: _F(T).ctc_loss(
            _m(T, d, 10, 2, 5), _i(T, d, 2, 4), [10, 10], [4, 4]
        ),
        "ctc_loss none": lambda T, d: _F(T).ctc_loss(
            _m(T, d, 10, 2, 5, requires_grad=True),
            _i(T, d, 2, 4),
            [10, 9],
            [4, 3],
            reduction="none",
        ),
        "ctc_loss unbatched sum": lambda T, d: _F(T).ctc_loss(
            _m(T, d, 10, 5), _i(T, d, 4), [10], [4], reduction="sum"
        ),
        "multinomial": lambda T, d: T.multinomial(_m(T, d, 3, 5), 2),
        "multinomial 1-d replacement": lambda T, d: T.multinomial(_m(T, d, 5), 7, True),
        "mode": lambda T, d: T.mode(_m(T, d, 3, 5)),
        "mode dim keepdim": lambda T, d: _m(T, d, 3, 5).mode(0, keepdim=True),
        "mode int 0-d": lambda T, d: T.mode(T.zeros((), dtype=T.int32, device=d)),
        "count_nonzero": lambda T, d: T.count_nonzero(_m(T, d, 3, 5)),
        "count_nonzero dim": lambda T, d: T.count_nonzero(_m(T, d, 3, 5), dim=1),
        "count_nonzero dims": lambda T, d: _m(T, d, 3, 5, 2).count_nonzero((0, 2)),
        "histc": lambda T, d: T.histc(_m(T, d, 10), bins=5, min=0, max=1),
        "histc default range": lambda T, d: T.histc(_m(T, d, 4, 10, dtype=T.float64)),
        "repeat_interleave output_size": lambda T, d: T.repeat_interleave(
            _m(T, d, 3, 2, requires_grad=True), _i(T, d, 3), dim=0, output_size=5
        ),
        "repeat_interleave cpu repeats": lambda T, d: T.repeat_interleave(
            _m(T, d, 3), T.tensor([1, 2, 0])
        ),
        "repeat_interleave 0-d cpu repeats": lambda T, d: T.repeat_interleave(
            _m(T, d, 3), T.tensor(2)
        ),
    }
)


def _piv(T, d, *shape):
    return T.ones(*shape, dtype=T.int32, device=d)


def _la(T):
    return T.linalg


# ctorch.linalg and the top-level aliases: torch's meta shapes, dtypes and strides (LAPACK's
# column-major outputs, complex eigen-results, real singular values, int32 info/pivots)
LINALG = {
    "inv": lambda T, d: _la(T).inv(_m(T, d, 2, 3, 3)),
    "inv_ex": lambda T, d: _la(T).inv_ex(_m(T, d, 2, 3, 3)),
    "inv_ex complex128": lambda T, d: _la(T).inv_ex(_m(T, d, 2, 4, 4, dtype=T.complex128)),
    "inv empty": lambda T, d: _la(T).inv(_m(T, d, 0, 0)),
    "inv of transposed": lambda T, d: _la(T).inv(_m(T, d, 3, 3).mT),
    "inverse": lambda T, d: T.inverse(_m(T, d, 3, 3)),
    "det": lambda T, d: _la(T).det(_m(T, d, 2, 3, 3)),
    "det 2-d float64": lambda T, d: T.det(_m(T, d, 3, 3, dtype=T.float64)),
    "slogdet": lambda T, d: _la(T).slogdet(_m(T, d, 2, 3, 3)),
    "slogdet complex": lambda T, d: _la(T).slogdet(_m(T, d, 2, 3, 3, dtype=T.complex64)),
    "slogdet empty batch": lambda T, d: _la(T).slogdet(_m(T, d, 0, 3, 3)),
    "logdet": lambda T, d: T.logdet(_m(T, d, 2, 3, 3)),
    "svd": lambda T, d: _la(T).svd(_m(T, d, 2, 5, 3)),
    "svd reduced wide": lambda T, d: _la(T).svd(_m(T, d, 3, 5), full_matrices=False),
    "svd full wide": lambda T, d: _la(T).svd(_m(T, d, 2, 3, 5)),
    "svd complex": lambda T, d: _la(T).svd(_m(T, d, 3, 5, dtype=T.complex128), full_matrices=False),
    "svd empty batch": lambda T, d: _la(T).svd(_m(T, d, 0, 3, 2)),
    "torch.svd": lambda T, d: T.svd(_m(T, d, 2, 5, 3)),
    "torch.svd some=False": lambda T, d: T.svd(_m(T, d, 5, 3), some=False),
    "torch.svd compute_uv=False": lambda T, d: T.svd(_m(T, d, 2, 3, 2), compute_uv=False)[::2],
    "svdvals": lambda T, d: _la(T).svdvals(_m(T, d, 2, 5, 3)),
    "qr": lambda T, d: _la(T).qr(_m(T, d, 2, 5, 3)),
    "qr complete": lambda T, d: _la(T).qr(_m(T, d, 5, 3), mode="complete"),
    "qr complete wide": lambda T, d: _la(T).qr(_m(T, d, 2, 3, 5), mode="complete"),
    "qr r": lambda T, d: _la(T).qr(_m(T, d, 2, 5, 3), mode="r"),
    "qr wide": lambda T, d: _la(T).qr(_m(T, d, 3, 5)),
    "eig": lambda T, d: _la(T).eig(_m(T, d, 2, 3, 3)),
    "eig complex": lambda T, d: _la(T).eig(_m(T, d, 3, 3, dtype=T.complex128)),
    "eigvals float64": lambda T, d: _la(T).eigvals(_m(T, d, 2, 3, 3, dtype=T.float64)),
    "eigh": lambda T, d: _la(T).eigh(_m(T, d, 2, 3, 3)),
    "eigh complex": lambda T, d: _la(T).eigh(_m(T, d, 3, 3, dtype=T.complex64), UPLO="U"),
    "eigvalsh": lambda T, d: _la(T).eigvalsh(_m(T, d, 3, 3)),
    "cholesky": lambda T, d: _la(T).cholesky(_m(T, d, 2, 3, 3)),
    "cholesky upper": lambda T, d: _la(T).cholesky(_m(T, d, 3, 3), upper=True),
    "cholesky_ex": lambda T, d: _la(T).cholesky_ex(_m(T, d, 2, 3, 3)),
    "torch.cholesky": lambda T, d: T.cholesky(_m(T, d, 3, 3)),
    "cholesky_solve": lambda T, d: T.cholesky_solve(_m(T, d, 2, 3, 2), _m(T, d, 3, 3), True),
    "cholesky_inverse": lambda T, d: T.cholesky_inverse(_m(T, d, 3, 3)),
    "solve": lambda T, d: _la(T).solve(_m(T, d, 2, 3, 3), _m(T, d, 2, 3, 4)),
    "solve vector batch": lambda T, d: _la(T).solve(_m(T, d, 2, 3, 3), _m(T, d, 2, 3)),
    "solve vector": lambda T, d: _la(T).solve(_m(T, d, 3, 3), _m(T, d, 3)),
    "solve broadcast": lambda T, d: _la(T).solve(_m(T, d, 3, 3), _m(T, d, 5, 3, 2)),
    "solve left=False": lambda T, d: _la(T).solve(_m(T, d, 3, 3), _m(T, d, 2, 4, 3), left=False),
    "solve_ex": lambda T, d: _la(T).solve_ex(_m(T, d, 2, 3, 3), _m(T, d, 2, 3, 4)),
    "solve_triangular": lambda T, d: _la(T).solve_triangular(
        _m(T, d, 3, 3), _m(T, d, 3, 4), upper=True
    ),
    "solve_triangular right": lambda T, d: _la(T).solve_triangular(
        _m(T, d, 3, 3), _m(T, d, 2, 4, 3), upper=False, left=False
    ),
    "solve_triangular broadcast": lambda T, d: _la(T).solve_triangular(
        _m(T, d, 2, 1, 3, 3), _m(T, d, 5, 3, 4), upper=True
    ),
    "triangular_solve": lambda T, d: T.triangular_solve(_m(T, d, 3, 4), _m(T, d, 3, 3)),
    "lu": lambda T, d: _la(T).lu(_m(T, d, 2, 5, 3)),
    "lu wide": lambda T, d: _la(T).lu(_m(T, d, 3, 5)),
    "lu_factor": lambda T, d: _la(T).lu_factor(_m(T, d, 2, 5, 3)),
    "lu_factor_ex": lambda T, d: _la(T).lu_factor_ex(_m(T, d, 3, 3)),
    "lu_solve": lambda T, d: _la(T).lu_solve(_m(T, d, 3, 3), _piv(T, d, 3), _m(T, d, 3, 2)),
    "lu_solve adjoint": lambda T, d: _la(T).lu_solve(
        _m(T, d, 2, 3, 3), _piv(T, d, 2, 3), _m(T, d, 2, 3, 2), adjoint=True
    ),
    "lu_solve right": lambda T, d: _la(T).lu_solve(
        _m(T, d, 3, 3), _piv(T, d, 3), _m(T, d, 2, 3), left=False
    ),
    "lu_unpack": lambda T, d: T.lu_unpack(_m(T, d, 3, 3), _piv(T, d, 3)),
    "lu_unpack no data": lambda T, d: T.lu_unpack(_m(T, d, 3, 3), _piv(T, d, 3), unpack_data=False),
    "lu_unpack no pivots": lambda T, d: T.lu_unpack(
        _m(T, d, 2, 4, 3), _piv(T, d, 2, 3), unpack_pivots=False
    ),
    "matrix_norm": lambda T, d: _la(T).matrix_norm(_m(T, d, 2, 3, 4)),
    "matrix_norm nuc": lambda T, d: _la(T).matrix_norm(_m(T, d, 2, 3, 4), "nuc"),
    "matrix_norm 2 keepdim": lambda T, d: _la(T).matrix_norm(_m(T, d, 2, 3, 4), 2, keepdim=True),
    "matrix_norm -2": lambda T, d: _la(T).matrix_norm(_m(T, d, 2, 3, 4), -2),
    "vector_norm dims": lambda T, d: _la(T).vector_norm(_m(T, d, 2, 3, 4), 3, dim=(0, 2)),
    "vector_norm complex": lambda T, d: _la(T).vector_norm(_m(T, d, 2, 3, dtype=T.complex128)),
    "norm ord 2": lambda T, d: _la(T).norm(_m(T, d, 2, 3), 2),
    "norm nuc dim": lambda T, d: _la(T).norm(_m(T, d, 2, 3, 4), "nuc", dim=(1, 2), keepdim=True),
    "cond": lambda T, d: _la(T).cond(_m(T, d, 2, 3, 3)),
    "cond fro": lambda T, d: _la(T).cond(_m(T, d, 3, 3), "fro"),
    "cond -2 complex": lambda T, d: _la(T).cond(_m(T, d, 3, 3, dtype=T.complex64), -2),
    "matrix_rank": lambda T, d: _la(T).matrix_rank(_m(T, d, 2, 5, 3)),
    "matrix_rank hermitian": lambda T, d: _la(T).matrix_rank(_m(T, d, 3, 3), hermitian=True),
    "pinv": lambda T, d: _la(T).pinv(_m(T, d, 2, 5, 3)),
    "pinv hermitian": lambda T, d: _la(T).pinv(_m(T, d, 3, 3), hermitian=True),
    "pinverse": lambda T, d: T.pinverse(_m(T, d, 5, 3)),
    "matrix_exp": lambda T, d: _la(T).matrix_exp(_m(T, d, 2, 3, 3)),
    "matrix_power": lambda T, d: _la(T).matrix_power(_m(T, d, 2, 3, 3), 3),
    "matrix_power -2": lambda T, d: _la(T).matrix_power(_m(T, d, 3, 3), -2),
    "matrix_power 0": lambda T, d: _la(T).matrix_power(_m(T, d, 3, 3), 0),
    "linalg.cross": lambda T, d: _la(T).cross(_m(T, d, 2, 3, 4), _m(T, d, 2, 3, 4), dim=1),
    "householder_product": lambda T, d: _la(T).householder_product(_m(T, d, 5, 3), _m(T, d, 2)),
    "orgqr": lambda T, d: T.orgqr(_m(T, d, 2, 5, 3), _m(T, d, 2, 3)),
    "ormqr": lambda T, d: T.ormqr(_m(T, d, 5, 3), _m(T, d, 2), _m(T, d, 5, 4)),
    "ldl_factor": lambda T, d: _la(T).ldl_factor(_m(T, d, 3, 3)),
    "ldl_solve": lambda T, d: _la(T).ldl_solve(_m(T, d, 2, 3, 3), _piv(T, d, 2, 3), _m(T, d, 3, 2)),
    "tensorinv": lambda T, d: _la(T).tensorinv(_m(T, d, 4, 6, 8, 3), ind=2),
    "tensorsolve": lambda T, d: _la(T).tensorsolve(_m(T, d, 6, 4, 3, 8), _m(T, d, 6, 4)),
    "multi_dot": lambda T, d: _la(T).multi_dot([_m(T, d, 2, 3), _m(T, d, 3, 4), _m(T, d, 4)]),
    "vander": lambda T, d: _la(T).vander(_m(T, d, 2, 3), N=5),
    "vecdot": lambda T, d: _la(T).vecdot(_m(T, d, 2, 3), _m(T, d, 3)),
    # results that require grad, and each function's backward on meta
    "inv requires_grad": lambda T, d: _la(T).inv(_m(T, d, 3, 3, requires_grad=True)),
    "eig requires_grad": lambda T, d: _la(T).eig(_m(T, d, 3, 3, requires_grad=True)),
    "lu_factor_ex requires_grad": lambda T, d: _la(T).lu_factor_ex(
        _m(T, d, 3, 3, requires_grad=True)
    ),
    "svd requires_grad": lambda T, d: _la(T).svd(_m(T, d, 3, 3, requires_grad=True)),
}
CASES.update({f"linalg {k}": v for k, v in LINALG.items()})


def _grad_of(f, *shapes):
    """The gradients ``f``'s inputs get on meta (torch's: C-contiguous, the inputs' shapes)."""

    def run(T, d):
        xs = [_m(T, d, *s, requires_grad=True) for s in shapes]
        y = f(T, *xs)
        y = y if isinstance(y, T.Tensor) else y[0]
        (y.abs() if y.is_complex() else y).sum().backward()
        return [x.grad for x in xs]

    return run


LINALG_GRADS = {
    "inv": _grad_of(lambda T, a: _la(T).inv(a), (2, 3, 3)),
    "det": _grad_of(lambda T, a: _la(T).det(a), (2, 3, 3)),
    "slogdet": _grad_of(lambda T, a: _la(T).slogdet(a)[1], (2, 3, 3)),
    "logdet": _grad_of(lambda T, a: T.logdet(a), (2, 3, 3)),
    "svd": _grad_of(lambda T, a: _la(T).svd(a, full_matrices=False)[0], (2, 4, 3)),
    "svdvals": _grad_of(lambda T, a: _la(T).svdvals(a), (2, 4, 3)),
    "eigh": _grad_of(lambda T, a: _la(T).eigh(a)[1], (2, 3, 3)),
    "eigvalsh": _grad_of(lambda T, a: _la(T).eigvalsh(a), (2, 3, 3)),
    "eigvals": _grad_of(lambda T, a: _la(T).eigvals(a), (2, 3, 3)),
    "qr": _grad_of(lambda T, a: _la(T).qr(a)[0], (2, 4, 3)),
    "cholesky": _grad_of(lambda T, a: _la(T).cholesky(a), (2, 3, 3)),
    "solve": _grad_of(lambda T, a, b: _la(T).solve(a, b), (2, 3, 3), (3, 2)),
    "solve_triangular": _grad_of(
        lambda T, a, b: _la(T).solve_triangular(a, b, upper=True), (3, 3), (3, 2)
    ),
    "lu": _grad_of(lambda T, a: _la(T).lu(a)[1], (2, 3, 3)),
    "lu_factor": _grad_of(lambda T, a: _la(T).lu_factor(a)[0], (2, 3, 3)),
    "lu_solve": _grad_of(
        lambda T, a, b: _la(T).lu_solve(a, _piv(T, a.device.type, 3), b), (3, 3), (3, 2)
    ),
    "matrix_exp": _grad_of(lambda T, a: _la(T).matrix_exp(a), (2, 3, 3)),
    "matrix_power -2": _grad_of(lambda T, a: _la(T).matrix_power(a, -2), (2, 3, 3)),
    "pinv": _grad_of(lambda T, a: _la(T).pinv(a), (2, 4, 3)),
    "matrix_norm nuc": _grad_of(lambda T, a: _la(T).matrix_norm(a, "nuc"), (2, 4, 3)),
    "cond": _grad_of(lambda T, a: _la(T).cond(a), (2, 3, 3)),
    "householder_product": _grad_of(lambda T, a, t: _la(T).householder_product(a, t), (4, 3), (2,)),
}
CASES.update({f"linalg backward {k}": v for k, v in LINALG_GRADS.items()})


def _fft(T):
    return T.fft


def _c(T, d, *shape):
    return _m(T, d, *shape, dtype=T.complex64)


# ctorch.fft, stft: torch's meta layouts (batch dims outermost, transformed dims in the order
# its plan visits them; see ops/spectral.py)
FFT = {
    "fft": lambda T, d: _fft(T).fft(_m(T, d, 8)),
    "fft n": lambda T, d: _fft(T).fft(_m(T, d, 3, 8), n=5),
    "fft dim 0": lambda T, d: _fft(T).fft(_m(T, d, 4, 6), dim=0),
    "fft complex128": lambda T, d: _fft(T).fft(_m(T, d, 4, 6, dtype=T.complex128)),
    "fft int": lambda T, d: _fft(T).fft(_i(T, d, 4)),
    "fft float64": lambda T, d: _fft(T).fft(_m(T, d, 4, dtype=T.float64)),
    "fft ortho": lambda T, d: _fft(T).fft(_m(T, d, 4, 6), norm="ortho"),
    "fft of transposed": lambda T, d: _fft(T).fft(_m(T, d, 4, 6).t()),
    "ifft": lambda T, d: _fft(T).ifft(_m(T, d, 4, 6), n=10, dim=0, norm="forward"),
    "rfft": lambda T, d: _fft(T).rfft(_m(T, d, 3, 8)),
    "rfft odd n": lambda T, d: _fft(T).rfft(_m(T, d, 3, 8), n=7),
    "rfft dim 0": lambda T, d: _fft(T).rfft(_m(T, d, 8, 3), dim=0),
    "rfft of transposed": lambda T, d: _fft(T).rfft(_m(T, d, 4, 6).t()),
    "irfft": lambda T, d: _fft(T).irfft(_c(T, d, 3, 5)),
    "irfft n": lambda T, d: _fft(T).irfft(_c(T, d, 3, 5), n=9),
    "irfft real input": lambda T, d: _fft(T).irfft(_m(T, d, 3, 5)),
    "irfft of transposed": lambda T, d: _fft(T).irfft(_c(T, d, 4, 6).t()),
    "hfft": lambda T, d: _fft(T).hfft(_c(T, d, 3, 5)),
    "ihfft": lambda T, d: _fft(T).ihfft(_m(T, d, 3, 8)),
    "ihfft dim 0": lambda T, d: _fft(T).ihfft(_m(T, d, 8, 3), dim=0),
    "fft2": lambda T, d: _fft(T).fft2(_m(T, d, 2, 4, 6)),
    "fft2 s": lambda T, d: _fft(T).fft2(_m(T, d, 2, 4, 6), s=(3, 5)),
    "ifft2": lambda T, d: _fft(T).ifft2(_c(T, d, 2, 4, 6)),
    "rfft2": lambda T, d: _fft(T).rfft2(_m(T, d, 2, 4, 6)),
    "irfft2": lambda T, d: _fft(T).irfft2(_c(T, d, 2, 4, 4)),
    "irfft2 s": lambda T, d: _fft(T).irfft2(_c(T, d, 2, 4, 4), s=(4, 7)),
    "hfft2": lambda T, d: _fft(T).hfft2(_c(T, d, 2, 4, 4)),
    "hfft2 s": lambda T, d: _fft(T).hfft2(_c(T, d, 2, 4, 4), s=(3, 5)),
    "fftn": lambda T, d: _fft(T).fftn(_m(T, d, 2, 4, 6)),
    "fftn dims": lambda T, d: _fft(T).fftn(_m(T, d, 2, 4, 6), dim=(0, 2)),
    "fftn s dims": lambda T, d: _fft(T).fftn(_m(T, d, 2, 4, 6), s=(3, 3), dim=(0, 1)),
    "fftn 4-d": lambda T, d: _fft(T).fftn(_m(T, d, 2, 3, 4, 6)),
    "fftn 5-d transposed": lambda T, d: _fft(T).fftn(_m(T, d, 2, 3, 4, 5, 6).transpose(1, 3)),
    "ifftn": lambda T, d: _fft(T).ifftn(_m(T, d, 2, 4, 6, dtype=T.complex128)),
    "rfftn": lambda T, d: _fft(T).rfftn(_m(T, d, 2, 4, 6)),
    "rfftn dims 0 1": lambda T, d: _fft(T).rfftn(_m(T, d, 2, 4, 6), dim=(0, 1)),
    "rfftn dims 1 2": lambda T, d: _fft(T).rfftn(_m(T, d, 2, 4, 6), dim=(1, 2)),
    "rfftn dims 0 2": lambda T, d: _fft(T).rfftn(_m(T, d, 2, 4, 6), dim=(0, 2)),
    "rfftn 4-d": lambda T, d: _fft(T).rfftn(_m(T, d, 2, 3, 4, 6)),
    "irfftn": lambda T, d: _fft(T).irfftn(_c(T, d, 2, 4, 6)),
    "irfftn dims": lambda T, d: _fft(T).irfftn(_c(T, d, 2, 4, 6), dim=(0, 1)),
    "irfftn dims 2 0": lambda T, d: _fft(T).irfftn(_c(T, d, 2, 3, 4), dim=(2, 0)),
    "irfftn s": lambda T, d: _fft(T).irfftn(_c(T, d, 2, 3, 4), s=(5, 9), dim=(1, 2)),
    "irfftn 4-d": lambda T, d: _fft(T).irfftn(_c(T, d, 2, 3, 4, 6)),
    "hfftn": lambda T, d: _fft(T).hfftn(_c(T, d, 2, 4, 4)),
    "ihfftn": lambda T, d: _fft(T).ihfftn(_m(T, d, 2, 4, 6)),
    "ihfft2": lambda T, d: _fft(T).ihfft2(_m(T, d, 2, 4, 6)),
    "ihfft2 of transposed": lambda T, d: _fft(T).ihfft2(_m(T, d, 2, 4, 6).transpose(0, 2)),
    "ihfftn dims": lambda T, d: _fft(T).ihfftn(_m(T, d, 2, 4, 6), dim=(0, 2)),
    "ihfftn s dims": lambda T, d: _fft(T).ihfftn(_m(T, d, 2, 4, 6), s=(3, 5), dim=(2, 1)),
    "ihfftn 4-d": lambda T, d: _fft(T).ihfftn(_m(T, d, 2, 3, 4, 5)),
    "ihfft2 backward": _grad_of(lambda T, x: _fft(T).ihfft2(x).abs(), (2, 4, 6)),
    "fftshift": lambda T, d: _fft(T).fftshift(_m(T, d, 4, 6)),
    "ifftshift dim": lambda T, d: _fft(T).ifftshift(_m(T, d, 4, 6), dim=1),
    "fftfreq": lambda T, d: _fft(T).fftfreq(8, device=d),
    "fftfreq d float64": lambda T, d: _fft(T).fftfreq(7, d=0.5, device=d, dtype=T.float64),
    "rfftfreq": lambda T, d: _fft(T).rfftfreq(8, device=d),
    "fft requires_grad": lambda T, d: _fft(T).fft(_m(T, d, 4, 6, requires_grad=True)),
    "fft backward": _grad_of(lambda T, x: _fft(T).fft(x, n=9).abs(), (4, 6)),
    "rfft backward": _grad_of(lambda T, x: _fft(T).rfft(x, n=4).abs(), (4, 6)),
    "irfftn backward": _grad_of(lambda T, x: _fft(T).irfftn(x.to(T.complex64), s=(3, 7)), (4, 6)),
    "stft": lambda T, d: T.stft(_m(T, d, 2, 100), 16, return_complex=True),
    "stft window hop": lambda T, d: T.stft(
        _m(T, d, 100), 16, hop_length=4, window=T.hann_window(16, device=d), return_complex=True
    ),
    "stft two-sided": lambda T, d: T.stft(
        _m(T, d, 100), 16, onesided=False, center=False, return_complex=True
    ),
    "stft return_complex=False": lambda T, d: T.stft(_m(T, d, 100), 16, return_complex=False),
    "view_as_real of transposed": lambda T, d: T.view_as_real(_c(T, d, 5, 3).t()[1:]),
}
CASES.update({f"fft {k}": v for k, v in FFT.items()})

# ctorch's CPU tensors put NumPy's stride 0 on a dim inserted by ``None`` indexing (torch:
# the next dim's extent); the meta device follows ctorch's CPU layout there
STRIDE_AS_CTORCH_CPU = {
    "index none": lambda T, d: _m(T, d, 4, 5)[None, :, 2],
    # torch 2.13's meta conv2d of a channels-last input is C-ordered, its CPU conv2d (and
    # ctorch's) channels-last: the meta device gives what the real kernel gives
    "channels_last conv2d": lambda T, d: _F(T).conv2d(_cl(T, d, 2, 3, 8, 8), _m(T, d, 4, 3, 3, 3)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_meta_matches_torch(name):
    f = CASES[name]
    expected = _desc(f(torch, "meta"))
    got = f(ctorch, "meta")
    assert _desc(got) == expected
    for t in got if isinstance(got, (tuple, list)) else (got,):
        assert t.is_meta and t.device == ctorch.device("meta")


# #14's ops run on ctorch's CPU too: the meta result's shapes and dtypes are the real ones
# (the cases whose random inputs the CPU refuses by value are left out: cholesky of a
# matrix that is not positive-definite, multinomial of negative weights, repeat_interleave
# with zero repeats against an output_size)
_VALUE_REFUSED = {
    "multinomial",
    "multinomial 1-d replacement",
    "repeat_interleave output_size",
    "linalg cholesky",
    "linalg cholesky upper",
    "linalg torch.cholesky",
    "linalg backward cholesky",
}
_ISSUE14_FAMILIES = (
    "linalg",
    "fft",
    "special",
    "i0",
    "lgamma",
    "digamma",
    "polygamma",
    "igamma",
    "mvlgamma",
    "sinc",
    "embedding_bag",
    "EmbeddingBag",
    "grid_sample",
    "ctc_loss",
    "mode",
    "count_nonzero",
    "histc",
    "repeat_interleave",
)


@pytest.mark.parametrize(
    "name",
    [k for k in CASES if k.startswith(_ISSUE14_FAMILIES) and k not in _VALUE_REFUSED],
)
def test_meta_shapes_are_the_cpu_shapes(name):
    def shapes(r):
        rs = r if isinstance(r, (tuple, list)) else (r,)
        return [(tuple(x.shape), x.dtype) for x in rs]

    ctorch.manual_seed(0)
    assert shapes(CASES[name](ctorch, "meta")) == shapes(CASES[name](ctorch, "cpu"))


@pytest.mark.parametrize("name", list(STRIDE_AS_CTORCH_CPU))
def test_meta_layout_as_ctorch_cpu(name):
    f = STRIDE_AS_CTORCH_CPU[name]
    got, ref = f(ctorch, "meta"), f(ctorch, "cpu")
    assert got.shape == ref.shape and got.stride() == ref.stride() and got.is_meta
    if name == "channels_last conv2d":  # (ctorch's CPU layout is torch's CPU layout there)
        assert f(torch, "cpu").stride() == ref.stride()


# errors: torch's type; the message of the same call on ctorch's CPU tensors
ERRORS = {
    "broadcast": lambda T, d: _m(T, d, 4, 3) * _m(T, d, 5),
    "in-place broadcast": lambda T, d: _m(T, d, 3).mul_(_m(T, d, 2, 3)),
    "int div_": lambda T, d: _i(T, d, 3).div_(2),
    "matmul shapes": lambda T, d: _m(T, d, 2, 3) @ _m(T, d, 4, 4),
    "bmm batches": lambda T, d: T.bmm(_m(T, d, 2, 3, 4), _m(T, d, 3, 4, 5)),
    "mean of int": lambda T, d: _i(T, d, 2).mean(),
    "cat sizes": lambda T, d: T.cat([_m(T, d, 2, 3), _m(T, d, 3, 2)], 1),
    "view strides": lambda T, d: _m(T, d, 2, 3).t().view(6),
    "view size": lambda T, d: _m(T, d, 2, 3).view(4, 2),
    "index out of range": lambda T, d: _m(T, d, 4, 5)[7],
    "requires_grad int": lambda T, d: T.zeros(2, dtype=T.int64, device=d, requires_grad=True),
    "item of many": lambda T, d: _m(T, d, 2).item(),
    "bool of many": lambda T, d: bool(_m(T, d, 2)),
}


def _raised(f, *args):
    with pytest.raises(Exception) as info:
        f(*args)
    return info.value


@pytest.mark.parametrize("name", list(ERRORS))
def test_meta_errors(name):
    f = ERRORS[name]
    ref = _raised(f, torch, "meta")
    got = _raised(f, ctorch, "meta")
    assert isinstance(got, type(ref)), (got, ref)
    cpu = _raised(f, ctorch, "cpu")
    assert type(got) is type(cpu) and str(got) == str(cpu)


# data access: torch's exception type and words
DATA_ACCESS = {
    "numpy": lambda T: _m(T, "meta", 2).numpy(),
    "item": lambda T: _m(T, "meta", 1).item(),
    "float": lambda T: float(_m(T, "meta", 1)),
    "int": lambda T: int(_m(T, "meta", 1)),
    "bool": lambda T: bool(_m(T, "meta", 1)),
    "tolist": lambda T: _m(T, "meta", 2).tolist(),
    "np.asarray": lambda T: np.asarray(_m(T, "meta", 2)),
    "to cpu": lambda T: _m(T, "meta", 2).to("cpu"),
    "cpu()": lambda T: _m(T, "meta", 2).cpu(),
    "copy_ out of meta": lambda T: T.zeros(2).copy_(_m(T, "meta", 2)),
    "item of a sum": lambda T: _m(T, "meta", 2, 3).sum().item(),
    "mixed devices": lambda T: _m(T, "meta", 2, 3) + T.zeros(2, 3),
    "mixed devices, cpu first": lambda T: T.zeros(2, 3) + _m(T, "meta", 2, 3),
    "mixed devices in cat": lambda T: T.cat([_m(T, "meta", 2, 3), T.zeros(2, 3)]),
    "allclose": lambda T: T.allclose(_m(T, "meta", 2), _m(T, "meta", 2)),
    "format of 0-d": lambda T: format(T.zeros((), device="meta"), ".2f"),
    "mixed devices in where": lambda T: T.where(
        _m(T, "meta", 2, 3) > 0, _m(T, "meta", 2, 3), T.zeros(2, 3)
    ),
}


@pytest.mark.parametrize("name", list(DATA_ACCESS))
def test_meta_data_access_errors(name):
    f = DATA_ACCESS[name]
    ref = _raised(f, torch)
    got = _raised(f, ctorch)
    assert type(got).__name__ == type(ref).__name__ and isinstance(got, type(ref).__mro__[0])
    assert str(got) == str(ref)


@pytest.mark.parametrize(
    "f",
    [
        lambda T: _m(T, "meta", 2, 3).nonzero(),
        lambda T: _m(T, "meta", 2, 3)[_m(T, "meta", 2, 3) > 0],
        lambda T: _m(T, "meta", 2, 3).masked_select(_m(T, "meta", 2, 3) > 0),
        lambda T: T.unique(_m(T, "meta", 4)),
    ],
)
def test_data_dependent_shapes_raise(f):
    # torch has no meta implementation for these either: the shape comes from the values
    assert isinstance(_raised(f, torch), NotImplementedError)
    got = _raised(f, ctorch)
    assert isinstance(got, NotImplementedError) and "depends on the data" in str(got)


def test_mm_with_a_cpu_operand_raises():
    # torch 2.13 returns a meta tensor for mm(meta, cpu) (and garbage CPU memory for
    # mm(cpu, meta)); ctorch raises its device-mismatch error for both
    for a, b in (
        (_m(ctorch, "meta", 2, 3), ctorch.zeros(3, 2)),
        (ctorch.zeros(2, 3), _m(ctorch, "meta", 3, 2)),
    ):
        with pytest.raises(RuntimeError, match="is not on the expected device"):
            ctorch.mm(a, b)


def test_repr():
    for T in (torch, ctorch):
        assert repr(T.zeros(2, 3, device="meta")) == "tensor(..., device='meta', size=(2, 3))"
        assert repr(T.zeros((), device="meta")) == "tensor(..., device='meta', size=())"
    lines = []
    for T in (torch, ctorch):
        x = T.zeros(2, 3, device="meta", requires_grad=True)
        lines.append(
            [
                repr(x),
                repr(x * 2),
                repr(T.zeros(2, dtype=T.int64, device="meta")).replace("ctorch.", "torch."),
                repr(T.zeros(2, dtype=T.float64, device="meta")).replace("ctorch.", "torch."),
                repr(T.nn.Parameter(T.zeros(2, device="meta"))),
                T.zeros(2, device="meta").type(),
                str(T.zeros(1, device="meta")),
            ]
        )
    assert lines[0] == lines[1]


def test_attributes():
    got = []
    for T in (torch, ctorch):
        x = T.zeros(4, 4, device="meta")[1:, 2:]
        assert x.is_meta and not x.is_cuda
        got.append((x.storage_offset(), x.data_ptr(), x.nbytes, x.numel(), x.element_size()))
        got.append(T.zeros(3, device="meta").data_ptr())
    assert got[:2] == got[2:]
    assert not ctorch.zeros(2).is_meta


def test_huge_meta_tensor_holds_no_memory():
    n = 10**12
    for make in (
        lambda: ctorch.empty(n, device="meta"),
        lambda: ctorch.zeros(n, 4, device="meta"),
        lambda: ctorch.randn(n, device="meta"),
        lambda: ctorch.full((n,), 2.0, device="meta"),
        lambda: ctorch.randint(0, 3, (n,), device="meta"),
        lambda: ctorch.arange(n, device="meta"),
        lambda: ctorch.arange(0.0, 1.0, 1.0 / n, device="meta"),
        lambda: ctorch.linspace(0, 1, n, device="meta"),
        lambda: ctorch.eye(10**6, device="meta"),
        lambda: ctorch.randperm(n, device="meta"),
    ):
        t = make()
        assert t.is_meta and t.numel() >= n
    t = ctorch.empty(n, 8, device="meta")
    assert t.nbytes == torch.empty(n, 8, device="meta").nbytes
    # views, elementwise and reductions of it stay meta and cost nothing
    r = (t.t() * 2 + 1).sum(0)
    assert r.shape == (n,) and r.is_meta
    assert (t @ ctorch.empty(8, 3, device="meta")).shape == (n, 3)


def test_meta_draws_leave_the_generator_alone():
    for T in (torch, ctorch):
        T.manual_seed(3)
        a = T.randn(4)
        T.manual_seed(3)
        T.randn(5, device="meta")
        T.rand(5, device="meta")
        T.nn.init.normal_(T.empty(3, device="meta"))
        assert T.equal(T.randn(4), a)


def test_default_device_and_device_context():
    for T in (torch, ctorch):
        with T.device("meta"):
            lin = T.nn.Linear(3, 4)
            z = T.zeros(2)
            ar = T.arange(3)
        assert lin.weight.is_meta and lin.bias.is_meta and z.is_meta and ar.is_meta
        assert not T.zeros(2).is_meta
        T.set_default_device("meta")
        try:
            assert T.ones(2).is_meta and T.nn.Linear(3, 4).weight.is_meta
            assert not T.ones(2, device="cpu").is_meta
        finally:
            T.set_default_device(None)
        assert not T.ones(2).is_meta


def _mlp(T):
    nn = T.nn
    return nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Dropout(0.1), nn.Linear(16, 4))


def _cnn(T):
    nn = T.nn
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    )


def _gpt_block(T):
    nn = T.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(50, 32)
            self.pos = nn.Embedding(16, 32)
            self.ln1 = nn.LayerNorm(32)
            self.attn = nn.MultiheadAttention(32, 4, batch_first=True)
            self.ln2 = nn.LayerNorm(32)
            self.fc = nn.Linear(32, 128)
            self.proj = nn.Linear(128, 32)
            self.head = nn.Linear(32, 50, bias=False)
            self.register_buffer("mask", T.triu(T.ones(16, 16, dtype=T.bool), 1))

        def forward(self, idx):
            t = idx.shape[1]
            x = self.emb(idx) + self.pos(T.arange(t, device=idx.device))
            h = self.ln1(x)
            a, _ = self.attn(h, h, h, attn_mask=self.mask[:t, :t], need_weights=False)
            x = x + a
            x = x + self.proj(T.nn.functional.gelu(self.fc(self.ln2(x))))
            return self.head(x)

    return Block()


def _sdpa_attention(T):
    nn = T.nn
    F = T.nn.functional

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(32, 96)
            self.o = nn.Linear(32, 32)
            self.norm = nn.RMSNorm(32)

        def forward(self, x):
            B, L, C = x.shape
            q, k, v = self.qkv(self.norm(x)).split(32, dim=2)
            q, k, v = (t.view(B, L, 4, 8).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.o(y.transpose(1, 2).contiguous().view(B, L, C))

    return Attention()


MODELS = {
    "mlp": (_mlp, lambda T: T.randn(5, 8, device="meta")),
    "cnn": (_cnn, lambda T: T.randn(2, 3, 16, 16, device="meta")),
    "gpt block": (_gpt_block, lambda T: T.zeros(2, 10, dtype=T.int64, device="meta")),
    "sdpa attention": (_sdpa_attention, lambda T: T.randn(2, 10, 32, device="meta")),
}


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("name", list(MODELS))
def test_model_forward_backward_on_meta(name, train):
    build, data = MODELS[name]
    out = {}
    for T in (torch, ctorch):
        with T.device("meta"):
            m = build(T)
        m.train(train)
        y = m(data(T))
        y.float().pow(2).mean().backward()
        out[T] = (
            _desc(y),
            sum(p.numel() for p in m.parameters()),
            [(n, _desc(p.grad)) for n, p in m.named_parameters()],
            [(n, _desc(b)) for n, b in m.named_buffers()],
        )
    assert out[ctorch] == out[torch]


def test_module_print_state_dict_and_count():
    got = []
    for T in (torch, ctorch):
        with T.device("meta"):
            m = _cnn(T)
        sd = m.state_dict()
        assert all(v.is_meta for v in sd.values())
        got.append(
            (
                repr(m),
                list(sd),
                [_desc(v) for v in sd.values()],
                sum(p.numel() for p in m.parameters()),
            )
        )
    assert got[0] == got[1]
    assert got[1][3] == sum(p.numel() for p in _cnn(ctorch).parameters())


def test_module_to_meta_and_to_empty():
    for T in (torch, ctorch):
        m = _cnn(T).to("meta")
        assert all(p.is_meta for p in m.parameters()) and all(b.is_meta for b in m.buffers())
        bn = m[1]
        assert bn.num_batches_tracked.dtype == T.int64
        m.to_empty(device="cpu")
        assert all(isinstance(p, T.nn.Parameter) and p.device.type == "cpu" for p in m.parameters())
        assert dict(m.named_buffers()).keys() == dict(_cnn(T).named_buffers()).keys()
        assert bn.num_batches_tracked.dtype == T.int64 and not bn.num_batches_tracked.is_meta
        assert "running_mean" in bn._buffers
        # then re-initialised as real code does, the model runs
        for mod in m.modules():
            if hasattr(mod, "reset_parameters"):
                mod.reset_parameters()
        y = m.eval()(T.randn(2, 3, 16, 16))
        assert y.shape == (2, 10) and bool(T.isfinite(y).all())


def test_module_to_from_meta_names_to_empty():
    for T in (torch, ctorch):
        m = T.nn.Linear(2, 3, device="meta")
        with pytest.raises(
            NotImplementedError, match=r"no data! Please use torch.nn.Module.to_empty"
        ):
            m.to("cpu")
        with pytest.raises(
            NotImplementedError, match=r"^Cannot copy out of meta tensor; no data!$"
        ):
            T.empty(2, device="meta").to("cpu")


def test_to_empty_breaks_ties_like_torch():
    for T in (torch, ctorch):
        with T.device("meta"):
            a = T.nn.Linear(4, 4)
            b = T.nn.Linear(4, 4)
        b.weight = a.weight
        m = T.nn.Sequential(a, b)
        old = a.weight
        m.to_empty(device="cpu")
        # meta -> cpu cannot swap storage under the same Parameter: new ones (ties broken)
        assert a.weight is not old and a.weight is not b.weight
        m2 = T.nn.Linear(2, 2)
        w = m2.weight
        m2.to(T.float64)
        assert m2.weight is w  # same-device moves keep the Parameter


def test_load_state_dict_assign_onto_meta():
    for T in (torch, ctorch):
        T.manual_seed(0)
        src = _mlp(T).eval()
        with T.device("meta"):
            m = _mlp(T).eval()
        res = m.load_state_dict(src.state_dict(), assign=True)
        assert res.missing_keys == [] and res.unexpected_keys == []
        for (n, p), (_, q) in zip(m.named_parameters(), src.named_parameters(), strict=True):
            assert (
                isinstance(p, T.nn.Parameter) and p.requires_grad and p.data_ptr() == q.data_ptr()
            ), n
        x = T.randn(3, 8)
        assert T.equal(m(x), src(x))


def test_load_state_dict_without_assign_warns():
    msgs = []
    for T in (torch, ctorch):
        m = T.nn.Linear(3, 2, device="meta")
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m.load_state_dict(T.nn.Linear(3, 2).state_dict())
        msgs.append([str(x.message) for x in w if "meta" in str(x.message)])
        assert m.weight.is_meta
    assert msgs[0] == msgs[1] and len(msgs[1]) == 2


@pytest.mark.parametrize(
    "init",
    [
        lambda T, t: T.nn.init.normal_(t),
        lambda T, t: T.nn.init.uniform_(t),
        lambda T, t: T.nn.init.trunc_normal_(t, std=0.02),
        lambda T, t: T.nn.init.kaiming_uniform_(t, a=5**0.5),
        lambda T, t: T.nn.init.kaiming_normal_(t),
        lambda T, t: T.nn.init.xavier_uniform_(t),
        lambda T, t: T.nn.init.xavier_normal_(t),
        lambda T, t: T.nn.init.orthogonal_(t),
        lambda T, t: T.nn.init.sparse_(t, 0.5),
        lambda T, t: T.nn.init.constant_(t, 0.3),
        lambda T, t: T.nn.init.ones_(t),
        lambda T, t: T.nn.init.zeros_(t),
        lambda T, t: T.nn.init.eye_(t),
    ],
)
def test_init_returns_the_meta_tensor(init):
    for T in (torch, ctorch):
        t = T.empty(3, 4, device="meta")
        assert init(T, t) is t and t.is_meta


def test_init_errors_still_checked():
    for T in (torch, ctorch):
        with pytest.raises(ValueError):
            T.nn.init.xavier_uniform_(T.empty(3, device="meta"))


def test_reset_parameters_and_skip_init():
    for T in (torch, ctorch):
        with T.device("meta"):
            m = _gpt_block(T)
        for mod in m.modules():
            if hasattr(mod, "_reset_parameters"):
                mod._reset_parameters()
            elif hasattr(mod, "reset_parameters"):
                mod.reset_parameters()
        assert all(p.is_meta for p in m.parameters())
        lin = T.nn.utils.skip_init(T.nn.Linear, 5, 6)
        assert lin.weight.shape == (6, 5) and not lin.weight.is_meta


def test_deepcopy_and_optimizer_step_on_meta():
    for T in (torch, ctorch):
        m = T.nn.Linear(3, 4, device="meta")
        c = copy.deepcopy(m)
        assert c.weight.is_meta and c.weight is not m.weight
        m(T.randn(2, 3, device="meta")).sum().backward()
        T.optim.AdamW(m.parameters()).step()
        assert m.weight.is_meta and m.weight.grad.is_meta


def test_clip_grad_norm_on_meta():
    got = []
    for T in (torch, ctorch):
        m = T.nn.Linear(3, 2, device="meta")
        m(T.randn(4, 3, device="meta")).sum().backward()
        n = T.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        got.append((_desc(n), _desc(m.weight.grad)))
        with pytest.raises(RuntimeError, match="cannot be called on meta tensors"):
            T.nn.utils.clip_grad_norm_(m.parameters(), 1.0, error_if_nonfinite=True)
    assert got[0] == got[1]


def test_autograd_leaf_gradient_is_meta():
    got = []
    for T in (torch, ctorch):
        x = T.randn(3, 4, device="meta", requires_grad=True)
        w = T.randn(4, 2, device="meta", requires_grad=True)
        y = (T.tanh(x @ w) * 2).sum()
        y.backward()
        got.append([_desc(x.grad), _desc(w.grad), _desc(y)])
    assert got[0] == got[1]


# torch 2.13 has no meta kernel for these (their shapes come from values, or nobody wrote
# one): ctorch raises torch's NotImplementedError too, naming the op
REFUSED = {
    "bincount": (lambda T: T.bincount(_i(T, "meta", 5)), "bincount"),
    "bincount minlength": (lambda T: T.bincount(_i(T, "meta", 5), minlength=4), "bincount"),
    "unique": (lambda T: T.unique(_m(T, "meta", 5)), "unique"),
    "unique_consecutive": (lambda T: T.unique_consecutive(_m(T, "meta", 5)), ""),
    "nonzero": (lambda T: T.nonzero(_m(T, "meta", 5)), "nonzero"),
    "masked_select": (lambda T: T.masked_select(_m(T, "meta", 5), _m(T, "meta", 5) > 0), ""),
    "histogram": (lambda T: T.histogram(_m(T, "meta", 10), bins=5), "histogram"),
    "linalg.lstsq": (lambda T: T.linalg.lstsq(_m(T, "meta", 5, 3), _m(T, "meta", 5, 2)), "lin"),
    "geqrf": (lambda T: T.geqrf(_m(T, "meta", 5, 3)), "torch.geqrf"),
    "istft": (lambda T: T.istft(_m(T, "meta", 9, 13, dtype=T.complex64), 16), "istft"),
    "ctc_loss tensor lengths": (
        lambda T: _F(T).ctc_loss(
            _m(T, "meta", 10, 2, 5), _i(T, "meta", 2, 4), T.tensor([10, 10]), T.tensor([4, 4])
        ),
        "ctc_loss",
    ),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_like_torch(name):
    f, op = REFUSED[name]
    ref = _raised(f, torch)
    got = _raised(f, ctorch)
    assert isinstance(ref, NotImplementedError)
    assert isinstance(got, NotImplementedError), got
    assert str(got).startswith(op), got


def test_repeat_interleave_meta_repeats_need_output_size():
    # the result's length is the repeats' sum: torch's RuntimeError without output_size
    for T in (torch, ctorch):
        with pytest.raises(RuntimeError, match="without output_size"):
            T.repeat_interleave(_m(T, "meta", 3), _i(T, "meta", 3))
        with pytest.raises(RuntimeError, match="without output_size"):
            _m(T, "meta", 2, 3).repeat_interleave(_i(T, "meta", 3), dim=1)


def test_fallback_refuses_huge_inputs():
    # cumsum has no shape rule: its fallback computes on stand-ins, which a 10**12-element
    # tensor must not try (small ones take it)
    assert ctorch.zeros(3, 4, device="meta").cumsum(1).shape == (3, 4)
    with pytest.raises(NotImplementedError, match="^cumsum: .*fallback"):
        ctorch.zeros(10**12, device="meta").cumsum(0)


def test_storage_offsets_of_views():
    got = []
    for T in (torch, ctorch):
        base = T.zeros(6, 5, device="meta")
        v = base[2:, 1:].t()[1:]
        got.append((v.storage_offset(), v.stride(), v.as_strided((2,), (1,), 3).storage_offset()))
    assert got[0] == got[1]


@pytest.mark.parametrize(
    "f",
    [
        lambda T, d: T.linalg.inv(_i(T, d, 3, 3)),
        lambda T, d: T.linalg.inv(_m(T, d, 3, 4)),
        lambda T, d: T.linalg.solve(_m(T, d, 3, 3), _m(T, d, 4, 2)),
        lambda T, d: T.linalg.solve(_m(T, d, 3, 3), _m(T, d, 3, dtype=T.float64)),
        lambda T, d: T.linalg.cholesky(_m(T, d, 2, 3)),
        lambda T, d: T.linalg.eigh(_m(T, d, 3, 3), UPLO="X"),
        lambda T, d: T.linalg.qr(_m(T, d, 3, 3), mode="bad"),
        lambda T, d: T.linalg.lu_solve(_m(T, d, 3, 3), _piv(T, d, 3), _m(T, d, 4, 2)),
        lambda T, d: T.linalg.householder_product(_m(T, d, 3, 5), _m(T, d, 2)),
        lambda T, d: T.linalg.lu_solve(_m(T, d, 3, 3), _i(T, d, 3), _m(T, d, 3, 2)),
        lambda T, d: T.linalg.lu_solve(_m(T, d, 3, 3), _piv(T, d, 2), _m(T, d, 3, 2)),
        lambda T, d: T.linalg.ldl_solve(_m(T, d, 2, 3, 3), _piv(T, d, 3), _m(T, d, 3, 2)),
    ],
)
def test_linalg_checks_on_meta(f):
    # the shape and dtype checks run before the meta result: torch's exception type, the
    # message ctorch gives on the CPU
    ref = _raised(f, torch, "meta")
    got = _raised(f, ctorch, "meta")
    assert isinstance(got, type(ref)), (got, ref)
    cpu = _raised(f, ctorch, "cpu")
    assert type(got) is type(cpu) and str(got) == str(cpu)


def test_linalg_refusals_torch_skips_on_meta():
    # torch 2.13's meta kernels skip two checks its CPU kernels make: a CPU operand beside a
    # meta one (it returns a meta result) and half precision (complex32 eigenvalues, an
    # SVD of float16); ctorch raises on meta what it raises on the CPU (torch's CPU refuses
    # both half-precision calls too)
    with pytest.raises(RuntimeError, match="is not on the expected device"):
        ctorch.linalg.solve(ctorch.randn(3, 3, device="meta"), ctorch.randn(3, 2))
    for f in (
        lambda T, d: T.linalg.svd(_m(T, d, 3, 3, dtype=T.float16)),
        lambda T, d: T.linalg.eig(_m(T, d, 3, 3, dtype=T.float16)),
    ):
        _raised(f, torch, "cpu")
        got, cpu = _raised(f, ctorch, "meta"), _raised(f, ctorch, "cpu")
        assert type(got) is type(cpu) and str(got) == str(cpu)


def test_cpu_ops_unchanged_by_meta_support():
    # the CPU path is untouched: same values as torch on a small program
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5)).astype(np.float32)
    outs = []
    for T in (torch, ctorch):
        x = T.from_numpy(a.copy())
        outs.append((T.nn.functional.gelu(x).sum(1) + x.max(1).values).numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-6)


_CALLS: list = []


@torch.library.custom_op("metatest::twice", mutates_args=())
def _torch_twice(x: torch.Tensor) -> torch.Tensor:
    _CALLS.append("kernel")
    return x * 2


@_torch_twice.register_fake
def _(x):
    _CALLS.append("fake")
    return torch.empty_like(x)


@ctorch.library.custom_op("metatest::twice", mutates_args=())
def _ctorch_twice(x: ctorch.Tensor) -> ctorch.Tensor:
    _CALLS.append("kernel")
    return x * 2


@_ctorch_twice.register_fake
def _(x):
    _CALLS.append("fake")
    return ctorch.empty_like(x)


def test_custom_op_runs_its_fake_on_meta():
    got = []
    for T, op in ((torch, _torch_twice), (ctorch, _ctorch_twice)):
        _CALLS.clear()
        r = op(T.randn(3, 4, device="meta"))
        got.append((_desc(r), list(_CALLS)))
    assert got[0] == got[1] and got[1][1] == ["fake"]


def _hf_init_empty_weights(T):
    """accelerate's ``init_empty_weights``: every registered parameter moved to meta."""
    nn = T.nn
    old_register = nn.Module.register_parameter

    def register_empty_parameter(module, name, param):
        old_register(module, name, param)
        if param is not None:
            cls = type(module._parameters[name])
            kwargs = module._parameters[name].__dict__
            kwargs["requires_grad"] = param.requires_grad
            module._parameters[name] = cls(module._parameters[name].to(T.device("meta")), **kwargs)

    nn.Module.register_parameter = register_empty_parameter
    try:
        return nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2))
    finally:
        nn.Module.register_parameter = old_register


def test_accelerate_init_empty_weights_pattern():
    for T in (torch, ctorch):
        m = _hf_init_empty_weights(T)
        assert all(p.is_meta and type(p) is T.nn.Parameter for p in m.parameters())
        T.manual_seed(0)
        src = T.nn.Sequential(T.nn.Linear(4, 8), T.nn.LayerNorm(8), T.nn.Linear(8, 2))
        for name, value in src.state_dict().items():  # accelerate's set_module_tensor_to_device
            mod_name, _, tname = name.rpartition(".")
            mod = m.get_submodule(mod_name)
            old = mod._parameters[tname]
            mod._parameters[tname] = type(old)(value.to("cpu"), requires_grad=old.requires_grad)
        x = T.ones(2, 4)
        assert T.equal(m(x), src(x)) and not any(p.is_meta for p in m.parameters())


def _saved_objects(T):
    t = T.randn(2, 3, device="meta")
    base = T.randn(4, 4, device="meta", dtype=T.float64)
    return {
        "tensor": t,
        "transposed": t.t(),
        "view": base[1:, 2:],
        "base": base,
        "channels_last": T.empty(2, 3, 4, 5, device="meta").contiguous(
            memory_format=T.channels_last
        ),
        "requires_grad": T.randn(2, device="meta", requires_grad=True),
        "parameter": T.nn.Parameter(T.randn(3, device="meta")),
        "int32 0-d": T.zeros((), dtype=T.int32, device="meta"),
        "bfloat16": T.zeros(3, dtype=T.bfloat16, device="meta"),
        "complex": T.zeros(2, 2, dtype=T.complex64, device="meta"),
        "cpu beside": T.arange(3),
    }


def _loaded_desc(r):
    return {
        k: (_desc(v), type(v).__name__, v.storage_offset() if v.is_meta else v.tolist())
        for k, v in r.items()
    }


def _roundtrip(save_lib, load_lib, obj, **kw):
    import io

    buf = io.BytesIO()
    save_lib.save(obj, buf)
    buf.seek(0)
    return load_lib.load(buf, **kw)


@pytest.mark.parametrize(
    "kw", [{}, {"weights_only": True}, {"map_location": "cpu"}, {"map_location": "meta"}]
)
def test_save_load_meta_tensors_as_torch(kw):
    # torch saves a meta tensor without storage (_rebuild_meta_tensor_no_storage: dtype,
    # size, stride, requires_grad; views not shared) and loads it back as a meta tensor,
    # whatever map_location says; files go both ways between the libraries
    ref = _loaded_desc(_roundtrip(torch, torch, _saved_objects(torch), **kw))
    got = _loaded_desc(_roundtrip(ctorch, ctorch, _saved_objects(ctorch), **kw))
    assert got == ref
    assert _loaded_desc(_roundtrip(ctorch, torch, _saved_objects(ctorch), **kw)) == ref
    assert _loaded_desc(_roundtrip(torch, ctorch, _saved_objects(torch), **kw)) == ref


def test_save_load_meta_model_state_dict():
    got = []
    for T in (torch, ctorch):
        with T.device("meta"):
            m = _cnn(T)
        sd = _roundtrip(T, T, m.state_dict(), weights_only=True)
        assert all(v.is_meta for v in sd.values())
        with T.device("meta"):
            m2 = _cnn(T)
        res = m2.load_state_dict(sd, assign=True)
        assert res.missing_keys == [] and res.unexpected_keys == []
        whole = _roundtrip(T, T, m, weights_only=False)
        got.append(
            (
                [(k, _desc(v)) for k, v in sd.items()],
                [(k, _desc(p), type(p).__name__) for k, p in m2.named_parameters()],
                [(k, _desc(p), type(p).__name__) for k, p in whole.named_parameters()],
            )
        )
    assert got[0] == got[1]


def test_load_meta_record_checks():
    # a hand-made record whose size and stride disagree is refused, not built
    from ctorch import serialization as S

    with pytest.raises(Exception, match="meta tensor record"):
        S._rebuild_meta_tensor_no_storage(ctorch.float32, (2, 3), (1,), False)


def test_load_cpu_tensors_onto_meta():
    # map_location="meta": each CPU view keeps its size, stride and storage offset (torch)
    got = []
    for T in (torch, ctorch):
        x = T.arange(10.0)
        obj = {
            "t": x[2:].view(2, 4).t(),
            "step": x[1::3],
            "x": x,
            "i16": T.tensor(3, dtype=T.int16),
        }
        for loc in ("meta", T.device("meta")):
            got.append(_loaded_desc(_roundtrip(T, T, obj, map_location=loc)))
    assert got[0] == got[1] == got[2] == got[3]


@pytest.mark.parametrize(
    "f",
    [
        lambda T: T.add(T.randn(3), 1, out=T.empty(3, device="meta")),
        lambda T: T.add(T.randn(3, device="meta"), 1, out=T.empty(3)),
        lambda T: T.exp(T.randn(3, device="meta"), out=T.empty(3)),
        lambda T: T.matmul(_m(T, "meta", 3, 3), _m(T, "meta", 3, 3), out=T.empty(3, 3)),
        lambda T: T.special.i0(T.randn(3), out=T.empty(3, device="meta")),
        lambda T: T.special.xlogy(_m(T, "meta", 3), 2.0, out=T.empty(3)),
        lambda T: T.fft.fft(T.randn(4, device="meta"), out=T.empty(4, dtype=T.complex64)),
        lambda T: T.linalg.inv(_m(T, "meta", 3, 3), out=T.empty(3, 3)),
        lambda T: T.linalg.inv(T.randn(3, 3), out=T.empty(3, 3, device="meta")),
        lambda T: T.linalg.svd(_m(T, "meta", 3, 3), out=(T.empty(0),) * 3),
    ],
)
def test_out_across_the_meta_device_raises_as_torch(f):
    ref, got = _raised(f, torch), _raised(f, ctorch)
    assert type(got) is type(ref) is RuntimeError and str(got) == str(ref)


@pytest.mark.parametrize("dev", ["cpu", "meta"])
def test_svd_without_uv_gives_zeros_on_the_input_device(dev):
    # torch.svd(compute_uv=False): zero U and V (V column-major) where the input is (they
    # were CPU arrays for a meta input)
    got = []
    for T in (torch, ctorch):
        u, _, v = T.svd(T.randn(2, 3, 2, device=dev, dtype=T.float64), compute_uv=False)
        got.append([(_desc(x), float(x.abs().sum()) if dev == "cpu" else None) for x in (u, v)])
    assert got[0] == got[1]


@pytest.mark.parametrize("dev", ["cpu", "meta"])
def test_slogdet_sign_requires_grad_as_torch(dev):
    # torch's sign output requires grad (real too); a loss of the sign alone gives A no
    # gradient, the log-determinant's does
    got = []
    for T in (torch, ctorch):
        a = T.randn(2, 3, 3, dtype=T.float64, device=dev, requires_grad=True)
        sign, logabs = T.linalg.slogdet(a)
        sign.sum().backward(retain_graph=True)
        row = [_desc(sign), a.grad is None]
        logabs.sum().backward()
        row.append(_desc(a.grad))
        got.append(row)
    assert got[0] == got[1]
