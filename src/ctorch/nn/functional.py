"""``ctorch.nn.functional``: the functional forms of the nn layers, losses and attention.

The spatial functionals (convolution, pooling, normalization, interpolation, padding) live
in ``ctorch.ops.{conv,im2col,max_pool,avg_pool,pooling3d,normalization,spatial}`` and are re-exported here on first use.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import _dtype as D
from .. import _warnings
from .._backend import contiguous, xp_of
from .._meta import MetaArray
from .._tensor import NestedInput, Tensor, nested_call
from ..autograd import function as _fn_mod
from ..autograd.grad_mode import state as _grad_state
from ..ops import dropout as _dropout_ops
from ..ops import embedding as _embedding_ops
from ..ops import linalg as _linalg
from ..ops import loss as _loss
from ..ops import loss_pointwise as _loss_pw
from ..ops import math_nodes as _MN
from ..ops import softmax as _softmax
from ..ops import unary as _unary
from ..ops.attention import fused_sdpa

_wrap = Tensor._make

__all__ = [
    "relu",
    "relu_",
    "relu6",
    "leaky_relu",
    "leaky_relu_",
    "elu",
    "elu_",
    "selu",
    "celu",
    "gelu",
    "silu",
    "mish",
    "softplus",
    "softsign",
    "hardtanh",
    "hardtanh_",
    "hardsigmoid",
    "hardswish",
    "sigmoid",
    "tanh",
    "logsigmoid",
    "tanhshrink",
    "softshrink",
    "hardshrink",
    "threshold",
    "glu",
    "prelu",
    "softmax",
    "log_softmax",
    "softmin",
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "alpha_dropout",
    "feature_alpha_dropout",
    "embedding",
    "linear",
    "bilinear",
    "one_hot",
    "normalize",
    "cosine_similarity",
    "pairwise_distance",
    "scaled_dot_product_attention",
    "multi_head_attention_forward",
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "cosine_embedding_loss",
    "triplet_margin_loss",
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "soft_margin_loss",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "multilabel_soft_margin_loss",
]  # + the re-exports of the spatial families that exist (see the end of this file)

# name -> module of ops that defines it (imported on first attribute access)
_REEXPORTS = {
    "conv1d": "conv",
    "conv2d": "conv",
    "conv3d": "conv",
    "conv_transpose1d": "conv",
    "conv_transpose2d": "conv",
    "unfold": "im2col",
    "fold": "im2col",
    "max_pool1d": "max_pool",
    "max_pool2d": "max_pool",
    "avg_pool1d": "avg_pool",
    "avg_pool2d": "avg_pool",
    "adaptive_avg_pool1d": "avg_pool",
    "adaptive_avg_pool2d": "avg_pool",
    "adaptive_max_pool1d": "max_pool",
    "adaptive_max_pool2d": "max_pool",
    "max_pool1d_with_indices": "max_pool",
    "max_pool2d_with_indices": "max_pool",
    "max_unpool2d": "max_pool",
    "lp_pool2d": "avg_pool",
    "max_pool3d": "pooling3d",
    "max_pool3d_with_indices": "pooling3d",
    "avg_pool3d": "pooling3d",
    "adaptive_avg_pool3d": "pooling3d",
    "adaptive_max_pool3d": "pooling3d",
    "adaptive_max_pool3d_with_indices": "pooling3d",
    "batch_norm": "normalization",
    "layer_norm": "normalization",
    "group_norm": "group_norm",
    "instance_norm": "normalization",
    "local_response_norm": "normalization",
    "rms_norm": "normalization",
    "interpolate": "spatial",
    "upsample": "spatial",
    "upsample_nearest": "spatial",
    "upsample_bilinear": "spatial",
    "pad": "spatial",
    "pixel_shuffle": "spatial",
    "pixel_unshuffle": "spatial",
    "grid_sample": "sampling",
    "affine_grid": "sampling",
    "gumbel_softmax": "sampling",
    "embedding_bag": "embedding_bag",
}


def __getattr__(name: str) -> Any:
    fam = _REEXPORTS.get(name)
    if fam is None:
        raise AttributeError(f"module 'ctorch.nn.functional' has no attribute '{name}'")
    import importlib

    try:
        mod = importlib.import_module(f"ctorch.ops.{fam}")
        fn = getattr(mod, name)
    except (ImportError, AttributeError) as e:
        raise AttributeError(
            f"ctorch.nn.functional.{name} is not available (ctorch.ops.{fam}: {e})"
        ) from None
    globals()[name] = fn
    return fn


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_REEXPORTS))


# ====================================================================== reductions (legacy args)
def _legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    _warnings.warn(
        "size_average and reduce args will be deprecated, please use reduction='{}' "
        "instead.".format(
            "mean"
            if (size_average is None or size_average) and (reduce is None or reduce)
            else "sum"
            if reduce is None or reduce
            else "none"
        ),
    )
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        return "mean"
    if reduce:
        return "sum"
    return "none"


def _reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    _loss._check_reduction(reduction)
    return reduction


def _apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    raise ValueError(f"{reduction} is not a valid value for reduction")


# ====================================================================== activations
def _inplace(input: Tensor, name: str, out_fn: Any) -> Tensor:
    meth = getattr(input, name + "_", None)
    if meth is not None:
        return meth()
    return _copy_into(input, out_fn)


def _copy_into(input: Tensor, out_fn: Any) -> Tensor:
    """In-place activation: ``input.copy_(f(input))``. When autograd records, f runs on a
    clone, so the value f saves for its backward is not the one overwritten."""
    from ..autograd.grad_mode import is_grad_enabled

    if is_grad_enabled() and input.requires_grad:
        return input.copy_(out_fn(input.clone()))
    return input.copy_(out_fn(input))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    try:
        if input._a.dtype.kind == "b":  # torch's rule inline (hot path; nn/_int_inputs.py)
            raise RuntimeError("Boolean inputs not supported for relu")
    except NestedInput:  # a nested tensor (ctorch.nested): no cost on the dense path
        return nested_call("relu", input, inplace)
    if inplace:
        return relu_(input)
    return _unary.relu(input)


def relu_(input: Tensor) -> Tensor:
    return _inplace(input, "relu", _unary.relu)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    if inplace:
        r = _unary.act_inplace(input, "leaky_relu", float(negative_slope))
        if r is not None:
            return r
        return _copy_into(input, lambda input: _unary.leaky_relu(input, negative_slope))
    return _unary.leaky_relu(input, negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    if inplace:
        return _copy_into(input, lambda input: _unary.elu(input, alpha))
    return _unary.elu(input, alpha)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, True)


_SELU_ALPHA = _unary.SELU_ALPHA
_SELU_SCALE = _unary.SELU_SCALE


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return _copy_into(input, _unary.selu)
    return _unary.selu(input)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    if inplace:
        return _copy_into(input, lambda input: _unary.celu(input, alpha))
    return _unary.celu(input, alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    try:
        return _unary.gelu(input, approximate)
    except NestedInput:
        return nested_call("gelu", input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    try:
        if inplace:
            return _copy_into(input, lambda input: _unary.silu(input))
        return _unary.silu(input)
    except NestedInput:
        return nested_call("silu", input, inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return _copy_into(input, lambda input: _unary.mish(input))
    return _unary.mish(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return _unary.softplus(input, beta, threshold)


def softsign(input: Tensor) -> Tensor:
    return input / (input.abs() + 1)


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _hardtanh(input, min_val, max_val, inplace)


def _hardtanh(input: Tensor, min_val, max_val, inplace: bool) -> Tensor:
    if input._a.dtype.kind in "bu":  # torch's rules inline (hot path; nn/_int_inputs.py)
        _int_hardtanh(input, (min_val,), {})
    if inplace:
        r = _unary.act_inplace(input, "hardtanh", *_unary.hardtanh_bounds(min_val, max_val))
        if r is not None:
            return r
        return _copy_into(input, lambda input: _unary.hardtanh(input, min_val, max_val))
    return _unary.hardtanh(input, min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    # torch's F.hardtanh_ is the bare ATen op: no min_val <= max_val check (F.hardtanh has
    # it); min_val > max_val clamps everything to max_val, as clamp does
    return _hardtanh(input, min_val, max_val, True)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return _copy_into(input, _unary.hardsigmoid)
    return _unary.hardsigmoid(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return _copy_into(input, _unary.hardswish)
    return _unary.hardswish(input)


def sigmoid(input: Tensor) -> Tensor:
    return _unary.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    return _unary.tanh(input)


def logsigmoid(input: Tensor) -> Tensor:
    return _unary.logsigmoid(input)


def tanhshrink(input: Tensor) -> Tensor:
    return input - _unary.tanh(input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    return _unary.softshrink(input, lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    return _unary.hardshrink(input, lambd)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    def fn(i: Tensor) -> Tensor:
        return _unary.threshold(i, threshold, value)

    return _copy_into(input, fn) if inplace else fn(input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    from ..ops.activation_nodes import glu as _glu

    return _glu(input, dim)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    from ..ops.activation_nodes import prelu as _prelu

    return _prelu(input, weight)


def _get_softmax_dim(name: str, ndim: int) -> int:
    """torch's legacy choice of ``dim`` when F.softmax & co. get none (0 for 0-, 1- and 3-D
    inputs, else 1), with its deprecation warning (at the user's line)."""
    _warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Tensor:
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim())
    return _softmax.softmax(input, dim, dtype=dtype)


def log_softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Tensor:
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim())
    return _softmax.log_softmax(input, dim, dtype=dtype)


def softmin(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Tensor:
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim())
    return _softmax.softmax(-input, dim, dtype=dtype)


# ====================================================================== dropout
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (training)."""
    try:
        return _dropout_ops.dropout(input, p, training, inplace)
    except NestedInput:
        return nested_call("dropout", input, p, training, inplace)


def _feature_dropout(
    input: Tensor, p: float, training: bool, inplace: bool, batched_ndim: int, name: str
) -> Tensor:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    nd = input.dim()
    if nd not in (batched_ndim, batched_ndim - 1):
        raise RuntimeError(
            f"{name}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but received a "
            f"{nd}D input. Note that {name} exists to provide channel-wise dropout on inputs "
            f"with {batched_ndim - 2} spatial dimensions, a channel dimension, and an "
            "optional batch dimension."
        )
    if not training or p == 0.0:
        return input
    shape = tuple(input.shape)
    lead = 2 if nd == batched_ndim else 1
    mask_shape = shape[:lead] + (1,) * (nd - lead)
    return _dropout_ops.dropout(input, p, True, inplace, mask_shape)


def dropout1d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    return _feature_dropout(input, p, training, inplace, 3, "dropout1d")


def _channel_dropout(
    input: Tensor, p: float, training: bool, inplace: bool, mask_shape: tuple
) -> Tensor:
    """torch's ``feature_dropout``: one keep/drop draw per entry of ``mask_shape`` (the
    leading dims, 1 elsewhere); it needs 2 dims, except where nothing is drawn (p 0 or 1)."""
    if not training or p == 0.0:
        return input
    if input.dim() < 2 and p < 1.0:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _dropout_ops.dropout(input, p, True, inplace, mask_shape)


def _odd_rank(name: str, nd: int, spatial: int) -> None:
    lo, hi = spatial + 1, spatial + 2
    _warnings.warn(
        f"{name}: Received a {nd}-D input to {name}, which is deprecated and will result in an "
        f"error in a future release. To retain the behavior and silence this warning, please "
        f"use dropout instead. Note that {name} exists to provide channel-wise dropout on "
        f"inputs with {spatial} spatial dimensions, a channel dimension, and an optional batch "
        f"dimension (i.e. {lo}D or {hi}D inputs).",
    )


def dropout2d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """As torch: any rank (warning outside 3-D/4-D); the mask is drawn per (dim 0, dim 1) pair,
    so a 3-D input is taken as (N, C, L) (with torch's second warning)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    nd = input.dim()
    if nd not in (3, 4):
        _odd_rank("dropout2d", nd, 2)
    if nd == 3:
        _warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
            "is the channel dim. This behavior will change in a future release to interpret "
            "the input as one without a batch dimension, i.e. shape (C, H, W). To maintain "
            "the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
        )
    shape = tuple(input.shape)
    return _channel_dropout(input, p, training, inplace, shape[:2] + (1,) * (nd - 2))


def dropout3d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """As torch: any rank (warning outside 4-D/5-D); a 5-D input draws per (N, C), any other
    is taken as unbatched (torch adds a batch dim of 1): one draw per entry of dim 0."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    nd = input.dim()
    if nd not in (4, 5):
        _odd_rank("dropout3d", nd, 3)
    shape = tuple(input.shape)
    if nd == 5:
        return _channel_dropout(input, p, training, inplace, shape[:2] + (1, 1, 1))
    if nd == 0:  # torch's unsqueezed input is 1-D: feature dropout refuses it
        return _channel_dropout(input, p, training, inplace, shape)
    if not training or p == 0.0:
        return input
    return _dropout_ops.dropout(input, p, True, inplace, shape[:1] + (1,) * (nd - 1))


def _alpha_dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool):
    """torch's ``_dropout_impl`` with alpha: keep ~ Bernoulli(1 - p) (per channel when
    ``feature``), a = 1 / sqrt((alpha^2 p + 1)(1 - p)), out = x * keep * a + (keep - 1) *
    alpha * a + alpha * a * p, the same steps in the input's dtype."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if feature and input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if p == 1.0:
        return input.mul_(0) if inplace else input * 0
    shape = tuple(input.shape)
    if feature:
        shape = shape[:2] + (1,) * (len(shape) - 2)
    noise = _wrap(_dropout_ops.dropout_mask_array(input._a, shape, p) > 0).to(input.dtype)
    alpha = 1.7580993408473766
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    b = noise.add(-1).mul_(alpha * a).add_(alpha * a * p)
    noise.mul_(a)
    if inplace:
        return input.mul_(noise).add_(b)
    return (input * noise).add_(b)


def alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    return _alpha_dropout(input, p, training, inplace, feature=False)


def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Alpha dropout of whole channels (dims 0 and 1 kept, the rest share one draw)."""
    return _alpha_dropout(input, p, training, inplace, feature=True)


# ====================================================================== linear / embedding
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` as one fused op."""
    try:
        if input._a.dtype.kind == "b":  # torch's rule inline (hot path; nn/_int_inputs.py)
            raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    except NestedInput:  # a nested tensor (ctorch.nested): no cost on the dense path
        return nested_call("linear", input, weight, bias)
    return _linalg.linear(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k``."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            "bilinear(): input batch dimensions do not match: got "
            f"{tuple(input1.shape[:-1])} and {tuple(input2.shape[:-1])}"
        )
    return _linalg.bilinear(input1, input2, weight, bias)


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` at ``input``'s indices; ``padding_idx`` rows get no gradient."""
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    if input._a.dtype not in (np.int64, np.int32):
        from ..ops.binary import _scalar_name

        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {_scalar_name(input._a.dtype)} instead (while "
            "checking arguments for embedding)"
        )
    if weight.shape[0] == 0 and input.numel():
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    if padding_idx is not None:
        if not isinstance(padding_idx, numbers.Integral):
            raise TypeError(
                "embedding(): argument 'padding_idx' (position 3) must be int, not "
                f"{type(padding_idx).__name__}"
            )
        if padding_idx > 0:
            if padding_idx >= weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = weight.size(0) + padding_idx
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    if sparse and weight.requires_grad:
        from ..sparse._autograd import EmbeddingSparse  # the weight's gradient is sparse COO

        if _grad_state.enabled:
            return EmbeddingSparse.apply(weight, input, padding_idx, scale_grad_by_freq)
    return _embedding_ops.embedding(input, weight, padding_idx, scale_grad_by_freq)


def _embedding_renorm_(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    wa = weight._a
    xp = xp_of(wa)
    idx = xp.unique(input._a.reshape(-1))
    rows = wa[idx].astype(np.float64)
    norms = (xp.abs(rows) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    wa[idx] = (rows * scale[:, None]).astype(wa.dtype)
    weight._vref[0] += 1


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a trailing class dimension."""
    if not isinstance(num_classes, numbers.Integral) or isinstance(num_classes, bool):
        raise TypeError(
            "one_hot(): argument 'num_classes' (position 2) must be int, not "
            f"{type(num_classes).__name__}"
        )
    a = tensor._a
    if a.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = xp_of(a)
    if type(a) is MetaArray:
        if num_classes == -1:
            raise NotImplementedError(
                "one_hot: num_classes=-1 reads the largest class value, which a meta tensor "
                "does not have; pass num_classes"
            )
        return _wrap(MetaArray(a.shape + (num_classes,), np.int64))
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size and (int(a.min()) < 0):
        raise RuntimeError("Class values must be non-negative.")
    if a.size and int(a.max()) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = (a[..., None] == xp.arange(num_classes)).astype(np.int64)
    return _wrap(contiguous(out))  # contiguous whatever the index's layout (torch)


def normalize(
    input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None
) -> Tensor:
    """``input / max(||input||_p along dim, eps)``."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    r = input / denom
    if out is not None:
        return out.copy_(r)
    return r


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``x1 . x2 / (max(||x1||, eps) * max(||x2||, eps))`` along ``dim`` (broadcasting)."""
    if x1.shape != x2.shape:  # torch broadcasts the two first
        shape = _broadcast_shape(tuple(x1.shape), tuple(x2.shape))
        x1, x2 = x1.expand(*shape), x2.expand(*shape)
    n1 = x1.norm(2, dim, keepdim=True).clamp_min(eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dimension."""
    nd = max(x1.dim(), x2.dim())
    d = x1 - x2 + eps
    if nd == 0:
        return d.abs()
    return d.norm(p, -1, keepdim=keepdim)


# ====================================================================== attention
def _float_mask_from_bool(mask_a, dtype):
    """A bool "may attend" mask -> additive float mask (0 or -inf)."""
    xp = xp_of(mask_a)
    return xp.where(mask_a, 0.0, -np.inf).astype(dtype)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """``softmax(Q K^T * scale + mask) V`` (boolean masks: True = may attend)."""
    if query.is_nested:  # ctorch.nested
        return nested_call(
            "scaled_dot_product_attention",
            query,
            key,
            value,
            attn_mask,
            dropout_p,
            is_causal,
            scale,
            enable_gqa,
        )
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        from .attention.bias import CausalBias

        if isinstance(attn_mask, CausalBias):
            return attn_mask._sdpa(query, key, value, dropout_p, is_causal, scale, enable_gqa)
    if min(query.dim(), key.dim(), value.dim()) < 2:
        raise RuntimeError(
            "scaled_dot_product_attention: Expected query, key, and value to all be at least 2 "
            f"dimensional, but got query.dim: {query.dim()} key.dim: {key.dim()} and "
            f"value.dim: {value.dim()} instead."
        )
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    L, S = query.size(-2), key.size(-2)
    scale_factor = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    if enable_gqa and query.dim() >= 3 and key.size(-3) != query.size(-3):
        rep = query.size(-3) // key.size(-3)
        key = key.repeat_interleave(rep, -3)
        value = value.repeat_interleave(rep, -3)
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
            "is_causal=True"
        )
    r = fused_sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale_factor)
    if r is not None:  # the CPU kernel (ops/attention.py says where it applies)
        return r
    attn = (query @ key.transpose(-2, -1)) * scale_factor
    dt = attn._a.dtype
    if is_causal:
        xp = xp_of(attn._a)
        causal = xp.tril(xp.ones((L, S), dtype=bool))
        attn = attn + _wrap(_float_mask_from_bool(causal, dt))
    if attn_mask is not None:
        if attn_mask.dtype == D.bool:
            attn = attn + _wrap(_float_mask_from_bool(attn_mask._a, dt))
        else:
            attn = attn + attn_mask
    attn = softmax(attn, -1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return attn @ value


def _canonical_mask(
    mask: Tensor | None,
    mask_name: str,
    other_type: Any,
    other_name: str,
    target_type: Any,
    check_other: bool = True,
) -> Tensor | None:
    """Bool masks (True = masked out) -> float additive masks, as torch's MHA does."""
    if mask is None:
        return None
    if mask.dtype == D.bool:
        return _wrap(
            xp_of(mask._a).where(mask._a, -np.inf, 0.0).astype(D.to_numpy_dtype(target_type))
        )
    if not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    return mask


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on (L, N, E) inputs (or unbatched (L, E)), as torch's."""
    import ctorch

    is_batched = query.dim() == 3
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}"
        )
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")

    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask."
        )
    key_padding_mask = _canonical_mask(
        key_padding_mask, "key_padding_mask", None, "attn_mask", query.dtype
    )
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype)
        if key_padding_mask is not None:
            is_causal = False

    # input projections
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        if query is key and key is value:
            q, k, v = linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)
        else:
            w_q, w_k, w_v = in_proj_weight.chunk(3)
            b_q = b_k = b_v = None
            if in_proj_bias is not None:
                b_q, b_k, b_v = in_proj_bias.chunk(3)
            q = linear(query, w_q, b_q)
            k = linear(key, w_k, b_k)
            v = linear(value, w_v, b_v)
    else:
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        q = linear(query, q_proj_weight, b_q)
        k = linear(key, k_proj_weight, b_k)
        v = linear(value, v_proj_weight, b_v)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                    f"{(tgt_len, src_len)}."
                )
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                    f"{(bsz * num_heads, tgt_len, src_len)}."
                )
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        k = ctorch.cat([k, bias_k.repeat(1, bsz, 1)])
        v = ctorch.cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask, 1)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask, 1)

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    if static_k is None:
        k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        k = static_k
    if static_v is None:
        v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        v = static_v

    if add_zero_attn:
        zshape = (bsz * num_heads, 1, head_dim)
        k = ctorch.cat([k, ctorch.zeros(zshape, dtype=k.dtype, device=k.device)], dim=1)
        v = ctorch.cat([v, ctorch.zeros(zshape, dtype=v.dtype, device=v.device)], dim=1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask, 1)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask, 1)

    src_len = k.size(1)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(
                f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                f"{tuple(key_padding_mask.shape)}"
            )
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm

    if not training:
        dropout_p = 0.0

    if need_weights:
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        attn_w = q_scaled @ k.transpose(-2, -1)
        if attn_mask is not None:
            attn_w = attn_w + attn_mask
        attn_w = softmax(attn_w, dim=-1)
        if dropout_p > 0.0:
            attn_w = dropout(attn_w, p=dropout_p)
        attn_output = attn_w @ v
        attn_output = attn_output.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        attn_output = linear(attn_output, out_proj_weight, out_proj_bias)
        attn_output = attn_output.reshape(tgt_len, bsz, attn_output.size(1))
        attn_w = attn_w.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            attn_w = attn_w.mean(dim=1)
        if not is_batched:
            attn_output = attn_output.squeeze(1)
            attn_w = attn_w.squeeze(0)
        return attn_output, attn_w
    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    attn_output = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    attn_output = attn_output.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    attn_output = linear(attn_output, out_proj_weight, out_proj_bias)
    attn_output = attn_output.reshape(tgt_len, bsz, attn_output.size(1))
    if not is_batched:
        attn_output = attn_output.squeeze(1)
    return attn_output, None


def _pad_last(t: Tensor, n: int) -> Tensor:
    import ctorch

    z = ctorch.zeros(tuple(t.shape[:-1]) + (n,), dtype=t.dtype, device=t.device)
    return ctorch.cat([t, z], dim=-1)


# ====================================================================== losses
def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Log-softmax + NLL in one fused op; class-index or class-probability targets."""
    if (
        weight is None
        and not label_smoothing
        and size_average is None
        and reduce is None
        and type(target) is Tensor
        and not (_grad_state.enabled and input._rg)
        and _fn_mod._autocast is None
        and reduction in ("mean", "sum", "none")
    ):  # small (M, C) logits with nothing to record: one compiled call
        r = _loss.cross_entropy_small(input, target, ignore_index, reduction)
        if r is not None:
            return r
    reduction = _reduction(size_average, reduce, reduction)
    if label_smoothing > 1.0:  # torch checks only the upper bound
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    label_smoothing = max(float(label_smoothing), 0.0)  # torch: <= 0 is no smoothing
    ishape, tshape = input._a.shape, target._a.shape  # (hot path: no Size objects)
    if not ishape:
        raise RuntimeError("cross_entropy: input must have at least one dimension")
    if not input.is_floating_point():
        # torch has no log_softmax kernel for integer logits; NumPy would compute a number
        raise NotImplementedError(
            f"\"log_softmax_lastdim_kernel_impl\" not implemented for '{_dtype_name(input)}'"
        )
    cdim = 0 if len(ishape) == 1 else 1
    C = ishape[cdim]
    if weight is not None:
        _check_class_weight(weight, C)
    if target.is_floating_point():
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(
                _class_target_dtype_message(target)  # read as class indices, as torch
                if target.dim() != input.dim()
                else f"Expected target size {list(input.shape)}, got {list(target.shape)}"
            )
        lp = log_softmax(input, cdim)
        tgt = target
        if label_smoothing > 0:
            tgt = tgt * (1 - label_smoothing) + label_smoothing / C
        prod = lp * tgt
        if weight is not None:
            prod = prod * weight.reshape((C,) + (1,) * (input.dim() - cdim - 1))
        loss = -prod.sum(cdim)
        if reduction == "none":
            return loss
        if reduction == "sum":
            return loss.sum()
        n = input.numel() // C if C else 0
        return loss.sum() / n
    if len(ishape) == 1:
        if target.dim() != 0:
            raise RuntimeError(
                f"Expected target to be a 0D tensor for 1D input, got {target.dim()}D"
            )
    elif tshape != ishape[:1] + ishape[2:]:
        if target.dim() == 0 or target.shape[0] != input.shape[0]:
            raise ValueError(
                f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                f"({target.shape[0] if target.dim() else 0})."
            )
        raise RuntimeError(
            f"Expected target size {[input.shape[0]] + list(input.shape[2:])}, got "
            f"{list(target.shape)}"
        )
    _check_class_target(target)
    return _loss.cross_entropy_indices(
        input, target, weight, ignore_index, reduction, float(label_smoothing)
    )


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` at class indices ``target``."""
    reduction = _reduction(size_average, reduce, reduction)
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() <= 2 and target.dim() > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input.dim() >= 2 and target.dim() >= 1 and input.shape[0] != target.shape[0]:
        raise ValueError(
            f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
            f"({target.shape[0]})."
        )
    if input.dim() > 2 and tuple(target.shape) != (input.shape[0], *input.shape[2:]):
        raise RuntimeError(
            f"Expected target size {[input.shape[0], *input.shape[2:]]}, got {list(target.shape)}"
        )
    C = input.shape[0 if input.dim() == 1 else 1]
    if weight is not None:
        _check_class_weight(weight, C)
    _check_class_target(target)
    return _loss.nll_loss(input, target, weight, ignore_index, reduction)


def _dtype_name(t: Tensor) -> str:
    """torch's name of ``t``'s scalar type (``Float``, ``Long``, ...) for the loss messages."""
    from ..ops.binary import _scalar_name

    return _scalar_name(t._a.dtype)


def _class_target_dtype_message(target: Tensor) -> str:
    return f"expected target dtype to be Long or Byte, but got {_dtype_name(target)}"


def _check_class_weight(weight: Tensor, C: int) -> None:
    """A class ``weight`` is 1-D with one entry per class (cross_entropy, nll_loss)."""
    if weight.dim() != 1 or weight.numel() != C:
        raise RuntimeError(
            f"weight tensor should be defined either for all {C} classes or no classes but "
            f"got weight tensor of shape: {list(weight.shape)}"
        )


def _check_class_target(target: Tensor) -> None:
    """Class-index targets are integers: torch refuses float/bool/complex ones (ctorch also
    takes int32/int16 targets, which torch refuses, since their values are exact)."""
    if target._a.dtype.kind not in "iu":
        raise RuntimeError(_class_target_dtype_message(target))


def _warn_size(input: Tensor, target: Tensor) -> None:
    if target._a.shape != input._a.shape:
        _warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
        )


def _broadcast_shape(a: tuple, b: tuple) -> tuple:
    """``np.broadcast_shapes`` with torch's RuntimeError for shapes that do not broadcast."""
    for k in range(1, min(len(a), len(b)) + 1):
        if a[-k] != b[-k] and a[-k] != 1 and b[-k] != 1:
            raise RuntimeError(
                f"The size of tensor a ({a[-k]}) must match the size of tensor b ({b[-k]}) "
                f"at non-singleton dimension {max(len(a), len(b)) - k}"
            )
    return tuple(np.broadcast_shapes(a, b))


def _broadcast_pair(input: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    if target._a.shape == input._a.shape:
        return input, target
    shape = _broadcast_shape(tuple(input.shape), tuple(target.shape))
    return input.expand(*shape), target.expand(*shape)


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean squared error."""
    reduction = _reduction(size_average, reduce, reduction)
    _warn_size(input, target)
    input, target = _broadcast_pair(input, target)
    if weight is not None:
        return _apply_reduction((input - target) ** 2 * weight, reduction)
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    if input._a.dtype.kind in "biu":
        raise NotImplementedError(f"\"mse_cpu\" not implemented for '{_dtype_name(input)}'")
    return _loss.mse_loss(input, target, reduction)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean absolute error."""
    reduction = _reduction(size_average, reduce, reduction)
    _warn_size(input, target)
    loss = (input - target).abs()
    if weight is not None:
        loss = loss * weight
    return _apply_reduction(loss, reduction)


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Quadratic below ``beta`` (0.5 d^2 / beta), linear above (d - 0.5 beta)."""
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _warn_size(input, target)
    if beta == 0.0:  # torch: the L1 loss
        return _apply_reduction((input - target).abs(), reduction)
    _loss._check_reduction(reduction)
    return _loss_pw.smooth_l1_loss(input, target, reduction, beta)


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """Quadratic below ``delta`` (0.5 d^2), linear above (delta (d - 0.5 delta))."""
    import ctorch

    _loss._check_reduction(reduction)
    if not delta > 0:  # NaN too, as torch
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _warn_size(input, target)
    if weight is None:
        return _loss_pw.huber_loss(input, target, reduction, delta)
    d = (input - target).abs()
    loss = ctorch.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    return _apply_reduction(loss * weight, reduction)


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """BCE of probabilities ``input`` (logs clamped at -100)."""
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size."
        )
    if target.dtype != input.dtype:  # torch refuses any mix (it casts nothing)
        raise RuntimeError(
            f"binary_cross_entropy: Found dtype {_dtype_name(target)} but expected "
            f"{_dtype_name(input)}"
        )
    return _loss.binary_cross_entropy(input, target, weight, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid + BCE, computed stably from the logits."""
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Target size ({target.shape}) must be the same as input size ({input.shape})"
        )
    _loss._check_reduction(reduction)
    return _loss_pw.binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """KL divergence with ``input`` given as log-probabilities."""
    import ctorch

    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        _warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.",
        )
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # torch: xlogy(target, target) - target * input (0 where target is 0, NaN where it
        # is negative: a negative "probability" is not silently taken as 0)
        loss = ctorch.xlogy(target, target) - target * input
    if reduction == "batchmean":
        if input.dim() == 0:
            return loss.sum()
        return loss.sum() / input.size(0)
    return _apply_reduction(loss, reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``1 - cos`` for y = 1, ``max(0, cos - margin)`` for y = -1."""
    import ctorch

    reduction = _reduction(size_average, reduce, reduction)
    dim = input1.dim() - 1
    eps = 1e-12
    prod = (input1 * input2).sum(dim)
    m1 = (input1 * input1).sum(dim) + eps
    m2 = (input2 * input2).sum(dim) + eps
    cos = prod / (m1 * m2).sqrt()
    zeros = ctorch.zeros_like(cos)
    pos = 1 - cos
    neg = (cos - margin).clamp_min(0)
    out = ctorch.where(target == 1, pos, zeros) + ctorch.where(target == -1, neg, zeros)
    return _apply_reduction(out, reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with p-norm distances."""
    import ctorch

    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got {margin}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = pairwise_distance(positive, negative, p, eps)
        d_neg = ctorch.minimum(d_neg, d_swap)
    loss = (margin + d_pos - d_neg).clamp_min(0)
    return _apply_reduction(loss, reduction)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} "
        )
    loss = (-target * (input1 - input2) + margin).clamp_min(0)
    return _apply_reduction(loss, reduction)


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    import ctorch

    reduction = _reduction(size_average, reduce, reduction)
    zeros = ctorch.zeros_like(input)
    margin_clamp = (margin - input).clamp_min(0)
    out_margin = ctorch.where(target != 1, margin_clamp, zeros)
    out_self = ctorch.where(target != -1, input, zeros)
    return _apply_reduction(out_margin + out_self, reduction)


def soft_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    reduction = _reduction(size_average, reduce, reduction)
    loss = (-target * input).exp().log1p()
    return _apply_reduction(loss, reduction)


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(dim=input.dim() - 1) / input.size(-1)
    return _apply_reduction(loss, reduction)


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    import ctorch

    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        # differentiable in target, as torch's (target log target - target + ...)
        t = target
        safe = ctorch.where(t > 1, t, ctorch.ones_like(t))
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + ctorch.where(t > 1, stirling, ctorch.zeros_like(t))
    return _apply_reduction(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    import ctorch

    if not isinstance(var, Tensor):
        var = ctorch.full_like(input, float(var))
    if tuple(var.shape) != tuple(input.shape):
        # torch: var of input's shape, or with the last dim 1 or missing (homoscedastic)
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (
            tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.dim() and var.size(-1) == 1
        ):
            raise ValueError("var is of incorrect size")
    if bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    var = var.clamp(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _apply_reduction(loss, reduction)


def _bind_reexports() -> None:
    """Bind (and export) the spatial functionals whose ops module already exists; the rest
    stay reachable through the lazy ``__getattr__`` above."""
    import importlib

    for name, fam in _REEXPORTS.items():
        try:
            fn = getattr(importlib.import_module(f"ctorch.ops.{fam}"), name)
        except (ImportError, AttributeError):
            continue
        globals()[name] = fn
        __all__.append(name)


_bind_reexports()


# ====================================================================== losses composed in
# nn/_margin_losses.py (twice differentiable): torch's signatures and legacy arguments here
def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss: ``sum_{j != y} max(0, margin - x[y] + x[j])^p / C``."""

    reduction = _reduction(size_average, reduce, reduction)
    return _MN.multi_margin_loss(input, target, p, margin, weight, reduction)


def multilabel_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-label hinge loss over the classes each row of ``target`` lists (up to -1)."""
    from . import _margin_losses

    reduction = _reduction(size_average, reduce, reduction)
    return _margin_losses.multilabel_margin_loss(input, target, reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Any = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with a user distance (pairwise_distance)."""
    from . import _margin_losses

    _loss._check_reduction(reduction)
    return _margin_losses.triplet_margin_with_distance_loss(
        anchor, positive, negative, distance_function, margin, swap, reduction
    )


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """Connectionist temporal classification loss of (T, N, C) log-probabilities."""
    from . import _margin_losses

    return _margin_losses.ctc_loss(
        log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity
    )


__all__ += [
    "multi_margin_loss",
    "multilabel_margin_loss",
    "triplet_margin_with_distance_loss",
    "ctc_loss",
]

# ops3 (#14): more functionals, each re-exported from the ops module that defines it
_REEXPORTS.update(
    {
        "pdist": "matrix_build",
        "conv_transpose3d": "conv_transpose3d",
        "lp_pool1d": "avg_pool",
        "lp_pool3d": "avg_pool",
        "max_unpool1d": "max_pool",
        "max_unpool3d": "max_pool",
        "fractional_max_pool2d": "fractional_pool",
        "fractional_max_pool3d": "fractional_pool",
        "fractional_max_pool2d_with_indices": "fractional_pool",
        "fractional_max_pool3d_with_indices": "fractional_pool",
        "channel_shuffle": "math_nodes",
        "native_channel_shuffle": "math_nodes",
        "rrelu": "rrelu",
        "rrelu_": "rrelu",
    }
)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``celu``."""
    return celu(input, alpha, True)


def selu_(input: Tensor) -> Tensor:
    """In-place ``selu``."""
    return selu(input, True)


_threshold = threshold  # threshold_'s argument of the same name hides the function


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold``."""
    return _threshold(input, threshold, value, True)


_REEXPORTS.update(
    {
        "adaptive_max_pool2d_with_indices": "max_pool",
        "adaptive_max_pool1d_with_indices": "max_pool",
    }
)


# torch's integer/bool input rules (issue #14): refusals with torch's errors, and the integer
# convolutions and average pools torch accepts (nn/_int_inputs.py; tests/nn/test_int_inputs.py)
from . import _int_inputs  # noqa: E402

_int_hardtanh = _int_inputs._hardtanh
_int_inputs.install(globals())
