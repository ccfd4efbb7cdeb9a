"""Differential sweep of ``ctorch.nn.functional`` (and the common ``ctorch.nn`` modules)
against torch on edge inputs (issue #14): empty batches, 0-d and wrong-rank inputs,
NaN/inf, int/bool dtypes, out-of-range targets and indices, bad kernel/stride/padding,
weights of the wrong length, mismatched loss shapes.

Each case runs on both libraries; both succeed -> same dtype, shape and values (NaN-aware)
and a UserWarning from both or neither; both raise -> same exception type; one raises ->
a difference. Prints each difference and a count by kind.

    python tools/sweep_functional.py [--modules] [--quiet]

Needs torch installed. The fixed cases live in tests/test_semantics_functional.py; the
differences left are ctorch's deliberate choices (see that file and the issue note)."""

from __future__ import annotations

import argparse
import collections
import math
import warnings

import numpy as np
import torch

import ctorch

nan, inf = math.nan, math.inf
R = np.random.default_rng(0)


class A:  # array spec -> tensor in each lib
    def __init__(self, arr, rg=False):
        self.arr = np.asarray(arr)
        self.rg = rg


def f(*shape, lo=-2, hi=2, dt=np.float32, seed=None):
    r = np.random.default_rng(hash(shape) % 1000 if seed is None else seed)
    return A(r.uniform(lo, hi, shape).astype(dt))


def i(*shape, hi=3, lo=0):
    r = np.random.default_rng(hash(shape) % 997)
    return A(r.integers(lo, hi, shape).astype(np.int64))


def v(x, dt=np.float32):
    return A(np.array(x, dtype=dt))


def conv(lib, x):
    if isinstance(x, A):
        t = (
            lib.from_numpy(x.arr.copy())
            if x.arr.ndim
            else lib.tensor(
                x.arr.item(),
                dtype=getattr(lib, str(x.arr.dtype)) if x.arr.dtype != np.bool_ else lib.bool,
            )
        )
        return t
    if isinstance(x, (list, tuple)):
        return type(x)(conv(lib, y) for y in x)
    if isinstance(x, dict):
        return {k: conv(lib, y) for k, y in x.items()}
    return x


CASES = []


def case(name, *args, **kw):
    CASES.append((name, args, kw))


# ------------------------------------------------------------- losses
X = f(4, 3)
for red in ("none", "sum", "mean"):
    case("cross_entropy", f(0, 3), i(0), reduction=red)
    case("nll_loss", f(0, 3), i(0), reduction=red)
    case("mse_loss", f(0), f(0), reduction=red)
    case("l1_loss", f(0), f(0), reduction=red)
    case("smooth_l1_loss", f(0), f(0), reduction=red)
    case("huber_loss", f(0), f(0), reduction=red)
    case("binary_cross_entropy", f(0, lo=0, hi=1), f(0, lo=0, hi=1), reduction=red)
    case("binary_cross_entropy_with_logits", f(0), f(0), reduction=red)
    case("kl_div", f(0), f(0), reduction=red)
    case("soft_margin_loss", f(0), f(0), reduction=red)
    case("cross_entropy", f(4, 3), i(4), reduction=red, ignore_index=1)
    case("cross_entropy", f(4, 3), v([1, 1, 1, 1], np.int64), reduction=red, ignore_index=1)
    case("nll_loss", f(4, 3), v([1, 1, 1, 1], np.int64), reduction=red, ignore_index=1)
    case("cross_entropy", f(4, 3), i(4), reduction=red, label_smoothing=0.2)
    case("cross_entropy", f(4, 3), i(4), reduction=red, label_smoothing=0.2, ignore_index=0)
    case(
        "cross_entropy",
        f(4, 3),
        i(4),
        weight=f(3, lo=0.1, hi=1),
        reduction=red,
        label_smoothing=0.1,
    )
    case("cross_entropy", f(4, 3), f(4, 3, lo=0, hi=1), reduction=red)
    case("cross_entropy", f(4, 3), f(4, 3, lo=0, hi=1), reduction=red, label_smoothing=0.3)
    case("cross_entropy", f(4, 3, 5), i(4, 5), reduction=red)
    case("nll_loss", f(4, 3, 5), i(4, 5), reduction=red)
    case("multi_margin_loss", f(4, 3), i(4), reduction=red)
    case(
        "multilabel_margin_loss",
        f(4, 3),
        v([[0, 1, -1], [2, -1, 0], [-1, 0, 0], [1, 2, 0]], np.int64),
        reduction=red,
    )
    case("multilabel_soft_margin_loss", f(4, 3), f(4, 3, lo=0, hi=1), reduction=red)
    case("margin_ranking_loss", f(4), f(4), v([1, -1, 1, -1]), reduction=red)
    case("hinge_embedding_loss", f(4), v([1, -1, 1, -1]), reduction=red)
    case("cosine_embedding_loss", f(4, 3), f(4, 3), v([1, -1, 1, -1]), reduction=red)
    case("poisson_nll_loss", f(4), f(4, lo=0, hi=3), reduction=red)
    case("gaussian_nll_loss", f(4, 2), f(4, 2), f(4, 2, lo=0.1, hi=1), reduction=red)
    case("triplet_margin_loss", f(4, 3), f(4, 3), f(4, 3), reduction=red)
    case("l1_loss", f(0, 3), f(0, 3), reduction=red)
    case("cross_entropy", f(3), v(1, np.int64), reduction=red)  # unbatched
    case("nll_loss", f(3), v(1, np.int64), reduction=red)
    case(
        "cross_entropy",
        f(2, 3),
        v([0, 1], np.int64),
        reduction=red,
        weight=f(3, lo=0.5, hi=1),
        ignore_index=0,
    )
    case("nll_loss", f(2, 3), v([0, 0], np.int64), reduction=red, ignore_index=0)  # all ignored
    case("cross_entropy", f(2, 3), v([0, 0], np.int64), reduction=red, ignore_index=0)
    case(
        "cross_entropy",
        f(2, 3),
        v([0, 0], np.int64),
        reduction=red,
        ignore_index=0,
        label_smoothing=0.1,
    )
# out-of-range / wrong targets
case("cross_entropy", X, v([0, 1, 3, 0], np.int64))
case("cross_entropy", X, v([0, 1, -1, 0], np.int64))
case("cross_entropy", X, v([0, 1, -100, 0], np.int64))
case("nll_loss", X, v([0, 1, 3, 0], np.int64))
case("nll_loss", X, v([0, 1, -2, 0], np.int64))
case("nll_loss", X, v([0, 1, 2, 0], np.float32))
case("cross_entropy", X, v([0, 1, 2, 0], np.int32))
case("nll_loss", X, v([0, 1, 2, 0], np.int32))
case("cross_entropy", X, v([0, 1, 2], np.int64))
case("nll_loss", X, v([0, 1, 2], np.int64))
case("cross_entropy", X, i(4), weight=f(2))
case("nll_loss", X, i(4), weight=f(4))
case("cross_entropy", X, i(4), label_smoothing=1.5)
case("cross_entropy", X, i(4), label_smoothing=-0.1)
case("cross_entropy", X, i(4), reduction="bogus")
case("nll_loss", X, i(4), reduction="bogus")
case("mse_loss", X, X, reduction="bogus")
case("cross_entropy", f(4, 3, dt=np.float64), i(4))
case(
    "cross_entropy",
    v([[nan, 0, 1], [inf, 0, 0], [-inf, 0, 0], [1, 2, 3]]),
    v([0, 0, 0, 2], np.int64),
)
case("nll_loss", v([[nan, 0, 1], [inf, 0, 0]]), v([0, 1], np.int64))
case("cross_entropy", A(np.zeros((4, 3), np.int64)), i(4))
case("cross_entropy", f(4, 3), f(4, 2))
case("cross_entropy", f(4, 3), f(4, 3, dt=np.float64))
case("cross_entropy", f(), v(0, np.int64))
case("nll_loss", f(), v(0, np.int64))
case("cross_entropy", f(4, 3), i(4, 1))
case("nll_loss", f(2, 3, 4), i(2, 5))
case("mse_loss", f(4, 3), f(3))  # broadcast warning
case("mse_loss", f(4, 3), f(4, 1))
case("l1_loss", f(4, 3), f(3))
case("smooth_l1_loss", f(4, 3), f(3))
case("huber_loss", f(4, 3), f(3))
case("mse_loss", f(4, 3), f(4, 2))
case("mse_loss", f(4, 3), A(np.ones((4, 3), np.int64)))
case("mse_loss", A(np.ones((4, 3), np.int64)), A(np.ones((4, 3), np.int64)))
case("l1_loss", A(np.ones((4, 3), np.int64)), A(np.ones((4, 3), np.int64)))
case("mse_loss", f(), f())
case("mse_loss", f(4, 3, dt=np.float64), f(4, 3))
case("binary_cross_entropy", f(4, lo=0, hi=1), f(3, lo=0, hi=1))
case("binary_cross_entropy", f(4, lo=0, hi=1), f(4, 1, lo=0, hi=1))
case("binary_cross_entropy", v([0.5, 1.5]), v([0.0, 1.0]))
case("binary_cross_entropy", v([0.0, 1.0]), v([0.0, 1.0]))
case("binary_cross_entropy", v([0.0, 1.0]), v([1.0, 0.0]))
case("binary_cross_entropy", v([nan, 0.5]), v([0.0, 1.0]))
case("binary_cross_entropy", f(4, lo=0, hi=1), f(4, lo=0, hi=1), weight=f(3))
case("binary_cross_entropy_with_logits", f(4), f(3))
case("binary_cross_entropy_with_logits", f(4, 3), f(4, 3), pos_weight=f(3))
case("binary_cross_entropy_with_logits", f(4, 3), f(4, 3), pos_weight=f(2))
case("binary_cross_entropy_with_logits", v([inf, -inf, nan]), v([1.0, 0.0, 1.0]))
case("kl_div", f(4, 3), f(4, 3), reduction="batchmean")
case("kl_div", f(0, 3), f(0, 3), reduction="batchmean")
case("kl_div", f(4, 3), f(4, 3), log_target=True)
case("kl_div", f(4, 3), f(3))
case("poisson_nll_loss", f(4), f(4), log_input=False)
case("gaussian_nll_loss", f(4, 2), f(4, 2), f(4, 2, lo=-1, hi=-0.1))
case("gaussian_nll_loss", f(4, 2), f(4, 2), f(4, 1, lo=0.1, hi=1))
case("gaussian_nll_loss", f(4, 2), f(4, 2), f(4, 3, lo=0.1, hi=1))
case("huber_loss", f(4), f(4), delta=0.0)
case("huber_loss", f(4), f(4), delta=-1.0)
case("smooth_l1_loss", f(4), f(4), beta=0.0)
case("smooth_l1_loss", f(4), f(4), beta=-1.0)
case("multi_margin_loss", f(4, 3), v([0, 1, 3, 0], np.int64))
case("multi_margin_loss", f(4, 3), i(4), p=3)
case("multi_margin_loss", f(4, 3), i(4), weight=f(2))
case("margin_ranking_loss", f(4), f(3), v([1, -1, 1, -1]))
case("cosine_embedding_loss", f(4, 3), f(4, 3), v([1, -1, 1]))
case("triplet_margin_loss", f(4, 3), f(4, 3), f(4, 2))
case(
    "ctc_loss", f(6, 2, 4), v([[1, 2], [3, 3]], np.int64), v([6, 6], np.int64), v([2, 2], np.int64)
)
case(
    "ctc_loss",
    f(6, 2, 4),
    v([[1, 2], [3, 3]], np.int64),
    v([6, 6], np.int64),
    v([2, 2], np.int64),
    reduction="sum",
)
case(
    "ctc_loss", f(6, 2, 4), v([[1, 2], [3, 3]], np.int64), v([6, 7], np.int64), v([2, 2], np.int64)
)
case(
    "ctc_loss",
    f(3, 2, 4),
    v([[1, 2], [3, 3]], np.int64),
    v([3, 1], np.int64),
    v([2, 2], np.int64),
    zero_infinity=True,
)
case(
    "ctc_loss", f(3, 2, 4), v([[1, 2], [3, 3]], np.int64), v([3, 1], np.int64), v([2, 2], np.int64)
)

# ------------------------------------------------------------- softmax family
for fn in ("softmax", "log_softmax", "softmin"):
    case(fn, f(2, 3), dim=-1)
    case(fn, f(2, 3), dim=2)
    case(fn, f(2, 3), dim=-3)
    case(fn, f(), dim=0)
    case(fn, f(), dim=-1)
    case(fn, f(), dim=1)
    case(fn, f(0, 3), dim=1)
    case(fn, f(2, 0), dim=1)
    case(fn, v([[nan, 1.0], [inf, 1.0], [-inf, -inf], [inf, inf]]), dim=1)
    case(fn, A(np.arange(6).reshape(2, 3)), dim=1)
    case(fn, A(np.arange(6).reshape(2, 3)), dim=1, dtype=torch.float64)
    case(fn, f(2, 3), dim=1, dtype=torch.float64)
    case(fn, f(2, 3), dim=1, dtype=torch.int64)
    case(fn, A(np.array([[True, False]])), dim=1)
    case(fn, f(2, 3))
case("gumbel_softmax", f(2, 3), tau=0.0)
case("gumbel_softmax", f(2, 3), dim=3)
case("glu", f(2, 3))
case("glu", f(2, 4), dim=2)
case("glu", f())
case("glu", f(0, 4))
case("normalize", f(2, 3), p=0)
case("normalize", f(0, 3))
case("normalize", f())
case("normalize", f(2, 3), dim=2)
case("normalize", v([[0.0, 0.0]]))
case("normalize", v([[nan, 1.0]]))
case("normalize", A(np.ones((2, 3), np.int64)))

# ------------------------------------------------------------- activations
acts = [
    "relu",
    "relu6",
    "elu",
    "selu",
    "celu",
    "gelu",
    "silu",
    "mish",
    "hardswish",
    "hardsigmoid",
    "hardtanh",
    "leaky_relu",
    "logsigmoid",
    "softplus",
    "softshrink",
    "hardshrink",
    "tanhshrink",
    "softsign",
    "sigmoid",
    "tanh",
    "threshold",
]
for a in acts:
    extra = (0.5, 1.0) if a == "threshold" else ()
    case(a, v([nan, inf, -inf, 0.0, -0.0, 1.0, -1.0, 1e30, -1e30]), *extra)
    case(a, f(), *extra)
    case(a, f(0, 3), *extra)
    case(a, A(np.array([-2, 0, 3], np.int64)), *extra)
    case(a, A(np.array([True, False])), *extra)
    case(a, f(3, dt=np.float64), *extra)
case("softplus", f(3), beta=0.0)
case("softplus", f(3), beta=-1.0, threshold=-5)
case("elu", f(3), alpha=-1.0)
case("celu", f(3), alpha=0.0)
case("leaky_relu", f(3), negative_slope=-2.0)
case("hardtanh", f(3), min_val=1.0, max_val=-1.0)
case("softshrink", f(3), lambd=-1.0)
case("hardshrink", f(3), lambd=-1.0)
case("rrelu", f(3), lower=0.5, upper=0.1, training=True)
case("rrelu", f(3), training=False)
case("prelu", f(2, 3), f(3))
case("prelu", f(2, 3), f(2))
case("prelu", f(2, 3), f(1))
case("prelu", f(), f(1))
case("prelu", f(2, 3), f())
case("gelu", f(3), approximate="bogus")

# ------------------------------------------------------------- embedding / one_hot
W = f(5, 3)
case("embedding", v([0, 4, 2], np.int64), W)
case("embedding", v([0, 5, 2], np.int64), W)
case("embedding", v([0, -1, 2], np.int64), W)
case("embedding", v([0, 1], np.float32), W)
case("embedding", v([0, 1], np.int32), W)
case("embedding", v(2, np.int64), W)
case("embedding", A(np.zeros((0,), np.int64)), W)
case("embedding", A(np.zeros((2, 0), np.int64)), W)
case("embedding", v([0, 1], np.int64), f(5))
case("embedding", v([0, 1], np.int64), W, padding_idx=5)
case("embedding", v([0, 1], np.int64), W, padding_idx=-1)
case("embedding", v([0, 1], np.int64), W, padding_idx=-6)
case("embedding", v([0, 1, 1], np.int64), W, max_norm=1.0)
case("one_hot", v([0, 2, 1], np.int64))
case("one_hot", v([0, 2, 1], np.int64), 5)
case("one_hot", v([0, 2, 1], np.int64), 2)
case("one_hot", v([0, -1, 1], np.int64))
case("one_hot", v([0, 2, 1], np.int64), 0)
case("one_hot", v([0, 2, 1], np.int64), -2)
case("one_hot", A(np.zeros((0,), np.int64)))
case("one_hot", A(np.zeros((0,), np.int64)), 3)
case("one_hot", v(1, np.int64), 3)
case("one_hot", v([0.0, 1.0]), 3)
case("one_hot", v([0, 1], np.int32), 3)
case("one_hot", v([True, False]), 3)
case("embedding_bag", v([0, 1, 2, 4], np.int64), W, v([0, 2], np.int64))
case("embedding_bag", v([0, 1, 2, 5], np.int64), W, v([0, 2], np.int64))
case("embedding_bag", v([0, 1, 2, 4], np.int64), W, v([1, 2], np.int64))
case("embedding_bag", v([[0, 1], [2, 4]], np.int64), W, mode="max")
case("embedding_bag", v([[0, 1], [2, 4]], np.int64), W, mode="bogus")

# ------------------------------------------------------------- conv / pool
x4 = f(2, 3, 5, 6)
w4 = f(4, 3, 3, 3)
case("conv2d", x4, w4)
case("conv2d", f(0, 3, 5, 6), w4)
case("conv2d", f(2, 3, 0, 6), w4)
case("conv2d", f(3, 5, 6), w4)
case("conv2d", f(5, 6), w4)
case("conv2d", x4, f(4, 2, 3, 3))
case("conv2d", x4, w4, stride=0)
case("conv2d", x4, w4, stride=-1)
case("conv2d", x4, w4, padding=-1)
case("conv2d", x4, w4, dilation=0)
case("conv2d", x4, w4, groups=0)
case("conv2d", x4, w4, groups=2)
case("conv2d", x4, f(4, 3, 7, 7))
case("conv2d", x4, w4, f(3))
case("conv2d", x4, w4, padding="same")
case("conv2d", x4, w4, padding="same", stride=2)
case("conv2d", x4, w4, padding="valid")
case("conv2d", x4, w4, padding="bogus")
case("conv2d", A(np.ones((2, 3, 5, 6), np.int64)), A(np.ones((4, 3, 3, 3), np.int64)))
case("conv2d", f(2, 3, 5, 6, dt=np.float64), w4)
case("conv1d", f(2, 3, 5), f(4, 3, 3))
case("conv1d", f(2, 3, 5), f(4, 3, 6))
case("conv1d", f(0, 3, 5), f(4, 3, 3))
case("conv1d", f(2, 3, 5), f(4, 3, 3), stride=0)
case("conv3d", f(1, 2, 3, 4, 5), f(2, 2, 2, 2, 2))
case("conv3d", f(1, 2, 3, 4, 5), f(2, 2, 4, 2, 2))
case("conv_transpose2d", x4, f(3, 2, 3, 3))
case("conv_transpose2d", x4, f(3, 2, 3, 3), output_padding=2, stride=2)
case("conv_transpose2d", x4, f(3, 2, 3, 3), stride=0)
case("conv_transpose2d", f(0, 3, 5, 6), f(3, 2, 3, 3))
case("conv_transpose1d", f(2, 3, 5), f(3, 2, 3), output_padding=1)
for p in ("max_pool2d", "avg_pool2d"):
    case(p, x4, 2)
    case(p, x4, 0)
    case(p, x4, -1)
    case(p, x4, 7)
    case(p, x4, 2, stride=0)
    case(p, x4, 2, stride=-1)
    case(p, x4, 3, padding=2)
    case(p, x4, 3, padding=-1)
    case(p, x4, 2, ceil_mode=True)
    case(p, f(0, 3, 5, 6), 2)
    case(p, f(2, 0, 5, 6), 2)
    case(p, f(3, 5, 6), 2)
    case(p, f(5, 6), 2)
    case(p, A(np.arange(60, dtype=np.int64).reshape(1, 3, 4, 5)), 2)
    case(p, A(np.ones((1, 3, 4, 5), np.bool_)), 2)
    case(p, v([[[[nan, 1.0], [2.0, 3.0]]]]), 2)
    case(p, x4, (2, 2, 2))
    case(p, x4, 2, stride=(1, 1, 1))
for p in ("max_pool1d", "avg_pool1d"):
    case(p, f(2, 3, 5), 2)
    case(p, f(2, 3, 5), 0)
    case(p, f(2, 3, 5), 6)
    case(p, f(0, 3, 5), 2)
    case(p, f(5), 2)
for p in ("max_pool3d", "avg_pool3d"):
    case(p, f(1, 2, 4, 4, 4), 2)
    case(p, f(1, 2, 4, 4, 4), 0)
    case(p, f(1, 2, 4, 4, 4), 5)
    case(p, f(0, 2, 4, 4, 4), 2)
case("avg_pool2d", x4, 2, divisor_override=0)
case("avg_pool2d", x4, 2, divisor_override=-1)
case("avg_pool2d", x4, 2, divisor_override=3)
case("max_pool2d", x4, 2, dilation=0)
case("max_pool2d", x4, 2, dilation=2)
case("max_pool2d", x4, 2, return_indices=True)
case("lp_pool2d", x4, 2, 2)
case("lp_pool2d", x4, 0, 2)
case("lp_pool2d", x4, 2, 0)
case("lp_pool1d", f(2, 3, 5), 2, 2)
for p in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
    case(p, x4, 3)
    case(p, x4, 0)
    case(p, x4, -1)
    case(p, x4, (3, None))
    case(p, x4, 10)
    case(p, f(0, 3, 5, 6), 2)
    case(p, f(2, 0, 5, 6), 2)
    case(p, f(2, 3, 0, 6), 2)
    case(p, f(5, 6), 2)
    case(p, A(np.ones((1, 3, 4, 5), np.int64)), 2)
    case(p, x4, (1, 2, 3))
for p in ("adaptive_avg_pool1d", "adaptive_max_pool1d"):
    case(p, f(2, 3, 5), 2)
    case(p, f(2, 3, 5), 0)
    case(p, f(0, 3, 5), 2)
    case(p, f(5), 2)
case("adaptive_avg_pool3d", f(1, 2, 3, 4, 5), 2)
case("adaptive_max_pool3d", f(1, 2, 3, 4, 5), 2)
case("adaptive_avg_pool3d", f(1, 2, 3, 4, 5), 0)
case("max_unpool2d", f(1, 1, 2, 2), v([[[[0, 3], [8, 15]]]], np.int64), 2)
case("max_unpool2d", f(1, 1, 2, 2), v([[[[0, 3], [8, 16]]]], np.int64), 2)
case("fold", f(1, 12, 4), (3, 3), 2)
case("fold", f(1, 12, 5), (3, 3), 2)
case("unfold", x4, 2)
case("unfold", x4, 7)
case("unfold", x4, 0)
case("unfold", f(3, 5, 6), 2)
case("unfold", f(5, 6), 2)

# ------------------------------------------------------------- normalisation
case("batch_norm", x4, None, None, training=True)
case("batch_norm", f(1, 3), None, None, training=True)
case("batch_norm", f(1, 3, 1, 1), None, None, training=True)
case("batch_norm", f(0, 3, 2, 2), None, None, training=True)
case("batch_norm", f(0, 3, 2, 2), f(3), f(3, lo=0.1, hi=1))
case("batch_norm", x4, f(2), f(2, lo=0.1, hi=1))
case("batch_norm", x4, f(3), f(3, lo=0.1, hi=1), weight=f(2))
case("batch_norm", x4, None, None)
case("batch_norm", f(3), None, None, training=True)
case("batch_norm", f(), None, None, training=True)
case("batch_norm", A(np.ones((2, 3), np.int64)), None, None, training=True)
case("batch_norm", x4, None, None, training=True, eps=-1.0)
case("batch_norm", v([[nan, 1.0], [1.0, 2.0]]), None, None, training=True)
case("layer_norm", x4, (6,))
case("layer_norm", x4, (5,))
case("layer_norm", x4, 6)
case("layer_norm", x4, ())
case("layer_norm", f(0, 6), (6,))
case("layer_norm", f(2, 0), (0,))
case("layer_norm", x4, (6,), weight=f(5))
case("layer_norm", A(np.ones((2, 3), np.int64)), (3,))
case("layer_norm", f(2, 6), (6,), eps=0.0)
case("rms_norm", x4, (6,))
case("rms_norm", x4, (5,))
case("rms_norm", f(0, 6), (6,))
case("rms_norm", x4, (6,), weight=f(5))
case("rms_norm", A(np.ones((2, 3), np.int64)), (3,))
case("group_norm", x4, 3)
case("group_norm", x4, 2)
case("group_norm", x4, 0)
case("group_norm", f(0, 3, 2, 2), 3)
case("group_norm", f(3), 1)
case("group_norm", f(2, 3), 3)
case("group_norm", x4, 3, weight=f(2))
case("group_norm", A(np.ones((2, 3, 2), np.int64)), 3)
case("instance_norm", x4)
case("instance_norm", f(1, 3, 1, 1))
case("instance_norm", f(1, 3, 1))
case("instance_norm", f(0, 3, 2, 2))
case("instance_norm", f(3, 4))
case("instance_norm", x4, weight=f(2))
case("instance_norm", x4, f(3), f(3, lo=0.1, hi=1), use_input_stats=False)
case("local_response_norm", x4, 2)
case("local_response_norm", x4, 0)
case("local_response_norm", f(2, 3), 2)
case("local_response_norm", f(0, 3, 4), 2)

# ------------------------------------------------------------- interpolate / pad
for mode in ("nearest", "bilinear", "bicubic", "area", "nearest-exact"):
    case("interpolate", x4, scale_factor=2, mode=mode)
    case("interpolate", x4, size=(0, 3), mode=mode)
    case("interpolate", x4, size=(-1, 3), mode=mode)
    case("interpolate", x4, scale_factor=0.0, mode=mode)
    case("interpolate", x4, scale_factor=-1.0, mode=mode)
    case("interpolate", f(0, 3, 5, 6), scale_factor=2, mode=mode)
    case("interpolate", x4, mode=mode)
    case("interpolate", x4, size=3, scale_factor=2, mode=mode)
    case("interpolate", x4, size=(3, 4, 5), mode=mode)
    case("interpolate", A(np.ones((1, 1, 2, 2), np.int64)), scale_factor=2, mode=mode)
    case("interpolate", x4, scale_factor=0.3, mode=mode)
case("interpolate", f(2, 3, 5), scale_factor=2, mode="bilinear")
case("interpolate", f(2, 3, 5), scale_factor=2, mode="linear")
case("interpolate", f(2, 3, 5), scale_factor=2, mode="linear", align_corners=True)
case("interpolate", x4, scale_factor=2, mode="nearest", align_corners=True)
case("interpolate", x4, scale_factor=2, mode="bogus")
case("interpolate", f(1, 1, 2, 2, 2), scale_factor=2, mode="trilinear")
case("interpolate", f(1, 1, 2), scale_factor=2, mode="trilinear")
case("interpolate", x4, scale_factor=2, mode="bilinear", antialias=True)
case("interpolate", x4, scale_factor=0.5, mode="bilinear", antialias=True)
case("interpolate", x4, scale_factor=0.5, mode="nearest", antialias=True)
for mode in ("constant", "reflect", "replicate", "circular"):
    case("pad", x4, (1, 1), mode=mode)
    case("pad", x4, (1, 1, 1, 1), mode=mode)
    case("pad", x4, (1, 1, 1), mode=mode)
    case("pad", x4, (6, 6), mode=mode)
    case("pad", x4, (7, 7), mode=mode)
    case("pad", x4, (-1, -1), mode=mode)
    case("pad", x4, (-6, 0), mode=mode)
    case("pad", x4, (-7, 0), mode=mode)
    case("pad", f(0, 3, 5, 6), (1, 1, 1, 1), mode=mode)
    case("pad", f(2, 3, 0, 6), (1, 1, 1, 1), mode=mode)
    case("pad", f(6), (1, 1), mode=mode)
    case("pad", f(), (1, 1), mode=mode)
    case("pad", A(np.arange(12, dtype=np.int64).reshape(1, 3, 4)), (1, 2), mode=mode)
    case("pad", A(np.ones((1, 3, 4), np.bool_)), (1, 2), mode=mode)
    case("pad", x4, (1, 1, 1, 1, 1, 1, 1, 1, 1, 1), mode=mode)
    case("pad", x4, (), mode=mode)
    case("pad", x4, (1, 1), mode=mode, value=2.0)
case("pad", x4, (1, 1), value=nan)
case("pad", A(np.ones((2, 3), np.int64)), (1, 1), value=2.5)
case("pad", x4, (1, 1), mode="bogus")

# ------------------------------------------------------------- dropout / misc
for d in (
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "alpha_dropout",
    "feature_alpha_dropout",
):
    case(d, x4, p=0.0)
    case(d, x4, p=1.0)
    case(d, x4, p=-0.1)
    case(d, x4, p=1.1)
    case(d, x4, p=0.5, training=False)
    case(d, f(0, 3, 2, 2), p=0.5)
    case(d, f(), p=0.0)
    case(d, f(3), p=0.0)
    case(d, f(2, 3), p=0.0)
    case(d, A(np.ones((2, 3), np.int64)), p=0.0)
    case(d, A(np.ones((2, 3), np.int64)), p=0.5, training=False)
case("pixel_shuffle", x4, 2)
case("pixel_shuffle", f(2, 8, 2, 2), 2)
case("pixel_shuffle", f(2, 8, 2, 2), 0)
case("pixel_shuffle", f(2, 8, 2, 2), -2)
case("pixel_shuffle", f(8, 2), 2)
case("pixel_unshuffle", f(2, 2, 4, 4), 2)
case("pixel_unshuffle", f(2, 2, 4, 4), 3)
case("pixel_unshuffle", f(2, 2, 4, 4), 0)
case("channel_shuffle", f(2, 4, 2), 2)
case("channel_shuffle", f(2, 4, 2), 3)
case("channel_shuffle", f(2, 4, 2), 0)
case("channel_shuffle", f(2, 4), 2)
case("linear", f(2, 3), f(4, 3))
case("linear", f(2, 3), f(4, 2))
case("linear", f(2, 3), f(4, 3), f(3))
case("linear", f(), f(4, 3))
case("linear", f(3), f(4, 3))
case("linear", f(0, 3), f(4, 3))
case("linear", f(2, 3), f(3))
case("linear", A(np.ones((2, 3), np.int64)), A(np.ones((4, 3), np.int64)))
case("linear", f(2, 3), f(4, 3, dt=np.float64))
case("bilinear", f(2, 3), f(2, 4), f(5, 3, 4))
case("bilinear", f(2, 3), f(3, 4), f(5, 3, 4))
case("cosine_similarity", f(2, 3), f(2, 3))
case("cosine_similarity", f(2, 3), f(3))
case("cosine_similarity", f(2, 3), f(2, 4))
case("cosine_similarity", f(2, 3), f(2, 3), dim=2)
case("cosine_similarity", v([[0.0, 0.0]]), v([[0.0, 0.0]]))
case("pairwise_distance", f(2, 3), f(2, 3))
case("pairwise_distance", f(2, 3), f(2, 4))
case("pairwise_distance", f(0, 3), f(0, 3))
case("pairwise_distance", f(2, 3), f(2, 3), p=0)
case("pairwise_distance", f(2, 3), f(2, 3), p=-1)
case("pdist", f(3, 2))
case("pdist", f(1, 2))
case("pdist", f(3))
case("pdist", f(3, 2), p=-1)
case("pdist", f(0, 2))
case("grid_sample", f(1, 1, 3, 3), f(1, 2, 2, 2), align_corners=False)
case("grid_sample", f(1, 1, 3, 3), f(1, 2, 2, 3), align_corners=False)
case("grid_sample", f(1, 1, 3, 3), f(2, 2, 2, 2), align_corners=False)
case("grid_sample", f(1, 1, 3, 3), v([[[[nan, 0.0], [5.0, 5.0]]]]), align_corners=False)
case("grid_sample", f(1, 1, 3, 3), f(1, 2, 2, 2), mode="bogus", align_corners=False)
case("affine_grid", f(1, 2, 3), (1, 1, 2, 2), align_corners=False)
case("affine_grid", f(1, 2, 2), (1, 1, 2, 2), align_corners=False)
case("affine_grid", f(1, 2, 3), (1, 1, 2), align_corners=False)
case("affine_grid", f(1, 2, 3), (2, 1, 2, 2), align_corners=False)
case("hardtanh", f(3), 2.0, 1.0)
case("threshold", f(3), nan, 0.0)

case("conv2d", x4, f(4, 3, 0, 3))
case("conv1d", f(2, 3, 5), f(4, 3, 0))
case("conv_transpose2d", x4, f(3, 2, 0, 3))
case("max_pool1d", f(2, 0, 6), 2)
case("avg_pool1d", f(2, 0, 6), 2)
case("max_pool3d", f(2, 0, 6, 4, 4), 2)
case("avg_pool3d", f(2, 0, 6, 4, 4), 2)
case("adaptive_avg_pool2d", f(2, 0, 6, 4), 2)
case("max_pool2d", f(0, 5, 6), 2)
case("binary_cross_entropy", v([0.5, 0.5]), v([0.0, 2.0]))
case("binary_cross_entropy", v([0.5, 0.5]), v([0.0, nan]))
case("binary_cross_entropy", v([0.5, 0.5]), v([0.0, 1.0]), weight=f(2, 2))
case("binary_cross_entropy", v([0.5, 0.5]), v([0.0, 1.0]), weight=f(1))
case("embedding", v([True]), f(3, 2))
case("embedding", v([0, 1], np.int64), f(3, 2, 2))
case("embedding_bag", v([0, -1], np.int64), f(3, 2), v([0], np.int64))
case("affine_grid", f(1, 2, 3), (1, 1, 2, 2, 2), align_corners=False)
case("linear", f(2, 3), f(3), f(2))
case("linear", f(3), f(3))
case("linear", f(2, 3), f(2))
case("cosine_similarity", f(3), f(2, 3))
case("cosine_similarity", f(3), f(3), dim=0)
case("gaussian_nll_loss", f(4, 2), f(4, 2), f(4, lo=0.1, hi=1))
case("gaussian_nll_loss", f(4, 2), f(4, 2), f(2, lo=0.1, hi=1))
case("gaussian_nll_loss", f(4, 2), f(4, 2), 0.5)
case("huber_loss", f(4), f(4), delta=nan)
case("nll_loss", f(2, 3, 4), i(2, 4, 1))
case("nll_loss", f(2, 3, 4), i(2))
case("nll_loss", f(2, 3), i(2, 3))
case("l1_loss", f(4, 3), f(2, 3))
case("batch_norm", f(2, 3), None, None, training=True, eps=0.0)
case("batch_norm", f(2, 3), f(3), f(3, lo=0.1, hi=1), training=False, eps=-1.0)
case("batch_norm", f(2, 3), f(3), f(3, lo=0.1, hi=1), training=False, eps=0.0)
case("pad", f(3, 2, 0), (1, 1), mode="replicate")
case("pad", f(0, 3, 2, 6), (1, 1, 1, 1), mode="replicate")
case("pad", f(0, 3, 2, 6), (1, 1, 1, 1), mode="reflect")
case("pixel_unshuffle", f(2, 2, 4, 4), -2)
case("rms_norm", f(2, 3), 3)
case("layer_norm", f(2, 3), [3])
case("avg_pool2d", x4, 2, divisor_override=-2)
case("adaptive_avg_pool3d", f(1, 2, 3, 4, 5), (0, 1, 1))
case("adaptive_max_pool3d", f(1, 2, 3, 4, 5), 0)
case("cross_entropy", f(4, 3), i(4), label_smoothing=-1.0)
case("cross_entropy", f(4, 3), f(4, 3, lo=0, hi=1), label_smoothing=-0.5)


# ------------------------------------------------------------- second round
q, k, vv = f(2, 4, 3), f(2, 4, 3), f(2, 4, 3)
case("scaled_dot_product_attention", q, k, vv)
case("scaled_dot_product_attention", q, k, vv, is_causal=True)
case("scaled_dot_product_attention", q, k, vv, attn_mask=A(np.ones((4, 4), np.bool_)))
case("scaled_dot_product_attention", q, k, vv, attn_mask=A(np.zeros((4, 4), np.bool_)))
case("scaled_dot_product_attention", q, k, vv, attn_mask=f(4, 4))
case("scaled_dot_product_attention", q, k, vv, attn_mask=f(3, 4))
case("scaled_dot_product_attention", q, k, vv, attn_mask=f(4, 4), is_causal=True)
case("scaled_dot_product_attention", q, k, vv, scale=0.0)
case("scaled_dot_product_attention", q, f(2, 5, 3), f(2, 5, 3))
case("scaled_dot_product_attention", q, f(2, 5, 2), f(2, 5, 3))
case("scaled_dot_product_attention", q, k, f(2, 4, 7))
case("scaled_dot_product_attention", f(0, 4, 3), f(0, 4, 3), f(0, 4, 3))
case("scaled_dot_product_attention", f(2, 0, 3), f(2, 4, 3), f(2, 4, 3))
case("scaled_dot_product_attention", f(2, 4, 3), f(2, 0, 3), f(2, 0, 3))
case("scaled_dot_product_attention", f(3), f(3), f(3))
case(
    "scaled_dot_product_attention",
    A(np.ones((2, 4, 3), np.int64)),
    A(np.ones((2, 4, 3), np.int64)),
    A(np.ones((2, 4, 3), np.int64)),
)
case("scaled_dot_product_attention", q, k, vv, dropout_p=1.5)
case("scaled_dot_product_attention", f(2, 2, 4, 3), f(2, 1, 4, 3), f(2, 1, 4, 3), enable_gqa=True)
case("scaled_dot_product_attention", f(2, 2, 4, 3), f(2, 1, 4, 3), f(2, 1, 4, 3))
for mode in ("bilinear", "nearest", "bicubic"):
    for pm in ("zeros", "border", "reflection"):
        for ac in (False, True):
            case(
                "grid_sample",
                f(1, 2, 3, 4),
                f(1, 2, 5, 2, lo=-1.5, hi=1.5),
                mode=mode,
                padding_mode=pm,
                align_corners=ac,
            )
    case(
        "grid_sample",
        f(1, 2, 3, 4),
        v([[[[nan, 0.0], [inf, -inf]]]]),
        mode=mode,
        align_corners=False,
    )
    case("grid_sample", f(0, 2, 3, 4), f(0, 2, 5, 2), mode=mode, align_corners=False)
    case("grid_sample", f(1, 2, 3, 4, 2), f(1, 2, 2, 5, 3), mode=mode, align_corners=False)
case("grid_sample", f(1, 2, 3, 4), f(1, 2, 5, 2), padding_mode="bogus", align_corners=False)
case("grid_sample", f(1, 2, 3, 4), f(1, 2, 5, 2, dt=np.float64), align_corners=False)
case("grid_sample", f(1, 2, 0, 4), f(1, 2, 5, 2), align_corners=False)
for mode in ("nearest", "bilinear", "bicubic", "area"):
    case("interpolate", x4, scale_factor=1.7, mode=mode, recompute_scale_factor=True)
    case("interpolate", x4, scale_factor=(1.5, 2.5), mode=mode)
    case("interpolate", x4, scale_factor=(1.5,), mode=mode)
    case("interpolate", x4, size=(3,), mode=mode)
    case("interpolate", x4, size=7, mode=mode)
    case("interpolate", x4, size=(3.0, 4.0), mode=mode)
    case("interpolate", x4, scale_factor=1e-3, mode=mode)
    case("interpolate", f(2, 3, 5, 6, dt=np.float64), scale_factor=2, mode=mode)
    case("interpolate", v([[[[nan, 1.0], [2.0, inf]]]]), scale_factor=2, mode=mode)
case("interpolate", x4, size=(3, 4), mode="bicubic", align_corners=True, antialias=True)
case("interpolate", f(2, 3, 5), size=3, mode="linear", recompute_scale_factor=True)
case("interpolate", f(2, 3, 5), scale_factor=2, mode="nearest", recompute_scale_factor=False)
case("interpolate", f(2, 3, 5), scale_factor=2, mode="area")
case("interpolate", f(2, 3), scale_factor=2)
case("interpolate", f(1, 1, 2, 2, 2, 2), scale_factor=2)
case("one_hot", v([0, 2**40], np.int64))
case("one_hot", A(np.zeros((2, 0), np.int64)), 3)
case("one_hot", A(np.zeros((2, 0), np.int64)))
case("one_hot", v([[0, 1], [2, 3]], np.int64))
case("one_hot", v([0, 1], np.int64), 2.0)
case("one_hot", v([0, 1], np.uint8), 3)
case("fractional_max_pool2d", x4, 2, output_size=(3, 3))
case("fractional_max_pool2d", x4, 2, output_size=(6, 3))
case("fractional_max_pool2d", x4, 2, output_ratio=0.5)
case("fractional_max_pool2d", x4, 2, output_ratio=1.5)
case("fractional_max_pool2d", x4, 2)
case("fractional_max_pool2d", x4, 0, output_size=(2, 2))
case("fractional_max_pool2d", f(0, 3, 5, 6), 2, output_size=(2, 2))
case("triplet_margin_loss", f(4, 3), f(4, 3), f(4, 3), p=0)
case("triplet_margin_loss", f(4, 3), f(4, 3), f(4, 3), swap=True)
case("triplet_margin_loss", f(3), f(3), f(3))
case("triplet_margin_loss", f(0, 3), f(0, 3), f(0, 3))
case("triplet_margin_loss", f(4, 3), f(4, 3), f(4, 3), margin=-1.0)
case("triplet_margin_with_distance_loss", f(4, 3), f(4, 3), f(4, 3))
case("triplet_margin_with_distance_loss", f(4, 3), f(4, 3), f(4, 3), margin=0.0)
case("triplet_margin_with_distance_loss", f(4, 3), f(4, 3), f(4, 3), margin=-1.0)
case("poisson_nll_loss", f(4), f(4), full=True)
case("poisson_nll_loss", f(4, lo=0, hi=1), v([0.0, 1.0, 5.0, 0.5]), log_input=False, full=True)
case("poisson_nll_loss", f(0), f(0), full=True)
case("kl_div", f(4, 3), f(4, 3, lo=-1, hi=1))
case("kl_div", v([[0.0, -inf]]), v([[0.0, 0.0]]))
case("kl_div", v([[-1.0, -2.0]]), v([[0.0, 0.5]]), log_target=False)
case("kl_div", A(np.ones((2, 3), np.int64)), A(np.ones((2, 3), np.int64)))
case("soft_margin_loss", f(4), f(3))
case("multilabel_soft_margin_loss", f(4, 3), f(4, 3), weight=f(3))
case("multilabel_soft_margin_loss", f(4, 3), f(4, 3), weight=f(2))
case("multilabel_soft_margin_loss", f(3), f(3))
case("multilabel_margin_loss", f(3), v([0, 1, -1], np.int64))
case("multilabel_margin_loss", f(4, 3), v([[0, 3, -1]] * 4, np.int64))
case("multilabel_margin_loss", f(4, 3), i(4, 2))
case("multi_margin_loss", f(3), v(0, np.int64))
case("multi_margin_loss", f(4, 3), i(4), p=2)
case("multi_margin_loss", f(4, 3), i(4), margin=-1.0)
case("multi_margin_loss", f(0, 3), i(0))
case("margin_ranking_loss", f(), f(), v(1.0))
case("margin_ranking_loss", f(0), f(0), f(0))
case("hinge_embedding_loss", f(4), v([1, -1, 2, 0]))
case("hinge_embedding_loss", f(0), f(0))
case("hinge_embedding_loss", f(4), v([1, -1, 1, -1]), margin=-1.0)
case("cosine_embedding_loss", f(3), f(3), v(1.0))
case("cosine_embedding_loss", f(4, 3), f(4, 3), v([1, -1, 1, 2]))
case("cosine_embedding_loss", f(0, 3), f(0, 3), f(0))
case("cosine_embedding_loss", f(2, 3, 4), f(2, 3, 4), f(2))
case("binary_cross_entropy_with_logits", f(4, 3), f(4, 3), weight=f(4, 1))
case("binary_cross_entropy_with_logits", f(4, 3), f(4, 3), weight=f(5))
case("binary_cross_entropy_with_logits", f(0, 3), f(0, 3), pos_weight=f(3))
case("binary_cross_entropy_with_logits", A(np.ones((4,), np.int64)), f(4))
case("binary_cross_entropy", A(np.ones((4,), np.int64)), A(np.ones((4,), np.int64)))
case("binary_cross_entropy", f(4, lo=0, hi=1, dt=np.float64), f(4, lo=0, hi=1))
case("l1_loss", f(4), f(4), reduction="batchmean")
case("nll_loss", f(4, 3), i(4), reduction="batchmean")
case("smooth_l1_loss", A(np.ones(3, np.int64)), A(np.ones(3, np.int64)))
case("huber_loss", A(np.ones(3, np.int64)), A(np.ones(3, np.int64)))
case("l1_loss", A(np.ones(3, np.bool_)), A(np.ones(3, np.bool_)))
case("softplus", f(3), beta=2, threshold=0)
case("hardtanh", A(np.array([-2, 0, 3], np.int64)), -1, 1)
case("relu6", A(np.array([2, 0, 9], np.uint8)))
case("leaky_relu", A(np.array([-2, 0, 3], np.int64)), 0.5)
case("elu", A(np.array([-2, 0, 3], np.int64)))
case("silu", A(np.array([-2, 0, 3], np.int64)))
case("threshold", A(np.array([-2, 0, 3], np.int64)), 0.5, 2)
case("threshold", A(np.array([-2, 0, 3], np.int64)), 1, 2.5)
case("softmax", f(2, 3), dim=1, dtype=torch.float16)
case("log_softmax", f(2, 3, dt=np.float64), dim=1, dtype=torch.float32)
case("softmax", f(2, 3), dim=None)
case("softmax", f(2, 3, 4), dim=None)
case("softmax", f(3), dim=None)
case("log_softmax", f(), dim=None)
case("embedding", v([[0, 1], [2, 4]], np.int64), f(5, 3), max_norm=0.5, norm_type=1)
case("embedding", v([0, 1], np.int64), f(5, 3), max_norm=-1.0)
case("embedding", v([0, 1], np.int64), f(0, 3))
case("embedding", v([], np.int64), f(0, 3))
case("embedding", v([0, 1], np.int64), f(5, 3), padding_idx=0.5)
case("unfold", x4, (2, 3), dilation=2, padding=1, stride=2)
case("unfold", x4, 2, stride=0)
case("unfold", x4, 2, padding=-1)
case("unfold", x4, 2, dilation=0)
case("unfold", f(0, 3, 5, 6), 2)
case("unfold", A(np.ones((1, 1, 3, 3), np.int64)), 2)
case("fold", f(1, 12, 4), (3, 3), (2, 2), stride=0)
case("fold", f(1, 13, 4), (3, 3), (2, 2))
case("fold", f(12, 4), (3, 3), (2, 2))
case("fold", f(0, 12, 4), (3, 3), (2, 2))
case("fold", f(1, 12, 4), (1, 1), (2, 2))
case("fold", f(1, 4, 4), (3, 3), (2, 2))
case("max_unpool1d", f(1, 1, 2), v([[[0, 3]]], np.int64), 2)
case("max_unpool1d", f(1, 1, 2), v([[[0, 4]]], np.int64), 2)
case("max_unpool2d", f(1, 1, 2, 2), v([[[[0, 3], [8, 15]]]], np.int64), 2, output_size=(5, 5))
case("max_unpool2d", f(1, 1, 2, 2), v([[[[0, 3], [8, 15]]]], np.int64), 2, output_size=(9, 9))
case("max_unpool2d", f(1, 1, 2, 2), v([[[[0, -1], [8, 15]]]], np.int64), 2)
case("max_unpool2d", f(1, 1, 2, 2), v([[[[0, 3], [8, 15]]]], np.int32), 2)
case("adaptive_max_pool2d", v([[[[nan, 1.0], [2.0, 3.0]]]]), 1, return_indices=True)
case("max_pool2d", v([[[[nan, 1.0], [2.0, nan]]]]), 2, return_indices=True)
case("max_pool1d", f(2, 3, 5), 2, return_indices=True)
case("max_pool1d", f(2, 3, 5), 2, padding=2)
case("avg_pool1d", f(2, 3, 5), 3, padding=1, ceil_mode=True, count_include_pad=False)
case("avg_pool2d", x4, 3, 2, 1, True, False)
case("avg_pool2d", x4, 3, 2, 1, True, True, 5)
case("avg_pool3d", f(1, 2, 4, 4, 4), 3, 2, 1, True, False)
case("avg_pool3d", f(1, 2, 4, 4, 4), 2, divisor_override=0)
case("lp_pool2d", x4, -1, 2)
case("lp_pool2d", x4, 1.5, 2)
case("lp_pool2d", x4, inf, 2)
case("lp_pool2d", f(3, 5, 6), 2, 2)
case("lp_pool1d", f(2, 3, 5), 2, 0)
case("lp_pool3d", f(1, 2, 4, 4, 4), 2, 2)
case("group_norm", x4, 3, eps=0.0)
case("group_norm", f(2, 3, 1, 1), 3)
case("layer_norm", v([[inf, 1.0, 2.0]]), (3,))
case("instance_norm", f(2, 3, 1, 1))
case("instance_norm", x4, f(3), f(3, lo=0.1, hi=1))
case("instance_norm", x4, f(4), f(4, lo=0.1, hi=1))
case("batch_norm", x4, f(3), f(3, lo=0.1, hi=1), training=True, momentum=None)
case("batch_norm", x4, f(3), f(3, lo=-1, hi=-0.1))
case("batch_norm", x4, f(3, dt=np.float64), f(3, lo=0.1, hi=1, dt=np.float64))
case("local_response_norm", x4, 2, alpha=-1.0)
case("local_response_norm", f(2, 3, 4, 5, 6), 3)
case("normalize", x4, p=inf, dim=1)
case("normalize", x4, p=-1, dim=1)
case("normalize", x4, dim=-5)
case("dropout", x4, p=0.5, inplace=True, training=False)
case("alpha_dropout", f(0), p=0.5)
case("feature_alpha_dropout", f(3), p=0.5)
case("dropout1d", f(2, 3, 4, 5), p=0.5)
case("dropout2d", f(2, 3, 4), p=0.5)
case("dropout3d", f(2, 3, 4), p=0.5)
case("dropout", A(np.ones((2, 3), np.int64)), p=0.5)
case("rrelu", f(3), lower=-1.0, upper=0.5, training=True)
case("rrelu", A(np.array([-2, 0, 3], np.int64)))
case("glu", f(2, 3), dim=0)
case("glu", f(2, 4), dim=-3)
case("softshrink", A(np.array([-2, 0, 3], np.int64)))
case("hardshrink", A(np.array([-2, 0, 3], np.int64)))
case("tanhshrink", A(np.array([-2, 0, 3], np.int64)))
case("logsigmoid", A(np.array([-2, 0, 3], np.int64)))
case("mish", A(np.array([-2, 0, 3], np.int64)))
case("hardswish", A(np.array([-2, 0, 3], np.int64)))
case("pairwise_distance", f(3), f(3))
case("pairwise_distance", f(), f())
case("pairwise_distance", f(2, 3), f(2, 3), p=inf)
case("pairwise_distance", f(2, 3), f(2, 3), keepdim=True)
case("cosine_similarity", f(), f(), dim=0)
case("cosine_similarity", f(0, 3), f(0, 3))
case("cosine_similarity", f(2, 3), f(2, 3), eps=0.0)
case("pdist", f(3, 2), p=0)
case("pdist", f(3, 2), p=inf)
case("pdist", A(np.ones((3, 2), np.int64)))
case("bilinear", f(2, 3), f(2, 4), f(5, 3, 4), f(5))
case("bilinear", f(2, 3), f(2, 4), f(5, 3, 4), f(4))
case("bilinear", f(0, 3), f(0, 4), f(5, 3, 4))
case("bilinear", f(3), f(4), f(5, 3, 4))
case("linear", f(2, 3), f(0, 3))
case("linear", f(2, 0), f(4, 0))
case("linear", f(2, 3), f(4, 3), f(5))
case("linear", f(2, 3), f(4, 3), f(1))
case("conv2d", x4, f(4, 3, 3, 3), f(4), stride=(1,))
case("conv2d", x4, f(4, 3, 3, 3), stride=(1, 1, 1))
case("conv2d", x4, f(4, 3, 3, 3), padding=(1, 1, 1))
case("conv2d", x4, f(4, 3, 3, 3), padding="same", dilation=2)
case("conv2d", x4, f(6, 1, 3, 3), groups=3)
case("conv2d", x4, f(4, 1, 3, 3), groups=3)
case("conv2d", x4, f(4, 3, 3, 3), f(4), 1, 1, 1, 1)
case("conv1d", f(2, 3, 5), f(4, 3, 3), padding="same", stride=1)
case("conv1d", f(3, 5), f(4, 3, 3))
case("conv3d", f(2, 4, 4, 4), f(2, 2, 2, 2, 2))
case("conv_transpose2d", x4, f(3, 2, 3, 3), output_padding=1)
case("conv_transpose2d", x4, f(3, 2, 3, 3), stride=2, output_padding=1, dilation=2)
case("conv_transpose2d", x4, f(3, 2, 3, 3), padding=-1)
case("conv_transpose2d", x4, f(4, 2, 3, 3))
case("conv_transpose2d", x4, f(3, 2, 3, 3), groups=3)
case("conv_transpose1d", f(3, 5), f(3, 2, 3))
case("conv_transpose3d", f(1, 2, 3, 3, 3), f(2, 2, 2, 2, 2), stride=2, output_padding=1)
case("pixel_shuffle", f(0, 8, 2, 2), 2)
case("pixel_shuffle", f(2, 8, 0, 2), 2)
case("pixel_shuffle", A(np.ones((1, 4, 1, 1), np.int64)), 2)
case("pixel_shuffle", f(3, 2, 4, 1, 1), 2)
case("pixel_unshuffle", f(4, 1, 1), 1)
case("channel_shuffle", f(0, 4, 2), 2)
case("channel_shuffle", f(2, 4, 0), 2)
case("channel_shuffle", f(2, 4, 2), -2)
case("pad", x4, (1, 1), mode="constant", value=True)
case("pad", x4, (1.5, 1))
case("pad", x4, [1, 1])
case("pad", x4, torch.Size([1, 1]))
case("pad", f(1, 2), (2, 2), mode="reflect")
case("pad", f(2, 3), (1, 1), mode="circular")
case("pad", f(3), (1, 1), mode="replicate")
case("pad", f(2, 3, 4, 5, 6), (1, 1, 1, 1, 1, 1), mode="reflect")
case("pad", f(1, 2, 3, 4, 5, 6), (1, 1), mode="replicate")
case("pad", f(2, 3, 4), (-5, 0))
case("pad", f(2, 3, 4), (-2, -2))
case("pad", f(2, 3, 4), (-3, -2))
case("affine_grid", f(2, 2, 3), (2, 3, 4, 5), align_corners=True)
case("affine_grid", f(2, 3, 4), (2, 3, 2, 4, 5), align_corners=False)
case("affine_grid", f(2, 2, 3), (2, 3, 0, 5), align_corners=False)
case("affine_grid", f(2, 2, 3), (2, 3, 1, 5), align_corners=True)
case("affine_grid", A(np.ones((2, 2, 3), np.int64)), (2, 3, 4, 5), align_corners=False)
case("affine_grid", f(2, 2, 3), (2, 3, 4, 5))


def run_one(lib, name, args, kw):
    F = lib.nn.functional
    fn = getattr(F, name)
    a = conv(lib, list(args))
    k = conv(lib, kw)
    if lib is ctorch:
        k = {
            kk: (getattr(ctorch, str(vv).split(".")[-1]) if isinstance(vv, torch.dtype) else vv)
            for kk, vv in k.items()
        }
    if name in (
        "dropout",
        "dropout1d",
        "dropout2d",
        "dropout3d",
        "alpha_dropout",
        "feature_alpha_dropout",
        "rrelu",
        "gumbel_softmax",
    ):
        lib.manual_seed(0)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = fn(*a, **k)
    return r, [str(x.message) for x in w if issubclass(x.category, UserWarning)]


def to_np(r):
    if isinstance(r, (tuple, list)):
        return [to_np(x) for x in r]
    if hasattr(r, "detach"):
        r = r.detach()
        if str(r.dtype).endswith("bfloat16") or str(r.dtype).endswith("float16"):
            r = r.float()
        return (str(r.dtype).split(".")[-1], tuple(r.shape), r.numpy())
    return r


def same(c, t):
    if isinstance(c, list):
        return (
            isinstance(t, list)
            and len(c) == len(t)
            and all(same(a, b) is True for a, b in zip(c, t, strict=True))
        )
    if isinstance(c, tuple) and len(c) == 3 and isinstance(c[2], np.ndarray):
        if c[0] != t[0]:
            return f"dtype {c[0]} vs {t[0]}"
        if c[1] != t[1]:
            return f"shape {c[1]} vs {t[1]}"
        a, b = c[2], t[2]
        if a.dtype.kind in "fc":
            ok = np.allclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True)
        else:
            ok = np.array_equal(a, b)
        return True if ok else "values"
    return c == t or "other"


RANDOM = {
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "alpha_dropout",
    "feature_alpha_dropout",
    "rrelu",
    "gumbel_softmax",
}


def _verdict(c, t, ignore=()) -> str | None:
    """What differs between ctorch's outcome ``c`` and torch's ``t`` (each ("ok", value,
    warnings) or ("exc", type name, message)), or None; value differences of the kinds in
    ``ignore`` do not count (random ops' values), none do when ``ignore`` is None."""
    if c[0] == "ok" and t[0] == "ok":
        s = same(c[1], t[1])
        if s is not True and ignore is not None and s not in ignore:
            return f"VALUES {s}"
        if bool(c[2]) != bool(t[2]):
            return f"WARN ctorch={c[2][:1]} torch={t[2][:1]}"
        return None
    if c[0] == "exc" and t[0] == "exc":
        return f"EXCTYPE ctorch {c[1]}: {c[2]} | torch {t[1]}: {t[2]}" if c[1] != t[1] else None
    if c[0] == "exc":
        return f"CTORCH-RAISES {c[1]}: {c[2]}"
    return f"TORCH-RAISES {t[1]}: {t[2]}"


def main(verbose=True):
    stats = {"same": 0, "diff": 0}
    kinds = collections.Counter()
    diffs = []
    for name, args, kw in CASES:
        out = []
        for lib in (ctorch, torch):
            try:
                r, w = run_one(lib, name, args, kw)
                out.append(("ok", to_np(r), w))
            except Exception as e:
                out.append(("exc", type(e).__name__, str(e).split("\n")[0][:160]))
        c, t = out
        desc = f"{name}({', '.join(repr_arg(x) for x in args)}{', ' if kw else ''}{', '.join(f'{k}={repr_arg(v)}' for k, v in kw.items())})"
        prob = _verdict(c, t, ("values",) if name in RANDOM else ())
        if prob:
            stats["diff"] += 1
            kinds[prob.split()[0]] += 1
            diffs.append((desc, prob))
            if verbose:
                print(f"{desc}\n    {prob}")
        else:
            stats["same"] += 1
    print("functional:", stats, dict(kinds))
    return diffs


def repr_arg(x):
    if isinstance(x, A):
        a = x.arr
        return (
            f"T{tuple(a.shape)}:{a.dtype}"
            if a.size > 4 or a.ndim > 1
            else f"T{a.tolist()}:{a.dtype}"
        )
    return repr(x)


MODS = []


def mod(name, ctor_args, ctor_kw, *inputs, **fkw):
    MODS.append((name, ctor_args, ctor_kw, inputs, fkw))


x4 = f(2, 3, 5, 6)
mod("Conv2d", (3, 4, 3), {}, x4)
mod("Conv2d", (3, 4, 0), {}, x4)
mod("Conv2d", (3, 4, 3), {"groups": 2}, x4)
mod("Conv2d", (0, 4, 3), {}, x4)
mod("Conv2d", (3, 4, 3), {"padding": "same", "stride": 2}, x4)
mod("Conv2d", (3, 4, 3), {"padding_mode": "bogus"}, x4)
mod("Conv2d", (3, 4, 3), {"padding": 1, "padding_mode": "reflect"}, x4)
mod("Conv2d", (3, 4, 3), {"padding": 1, "padding_mode": "circular"}, x4)
mod("Conv2d", (3, 4, 3), {}, f(3, 5, 6))
mod("Conv2d", (3, 4, 3), {}, f(0, 3, 5, 6))
mod("Conv1d", (3, 4, 3), {}, f(2, 3, 5))
mod("Conv1d", (3, 4, -1), {}, f(2, 3, 5))
mod("ConvTranspose2d", (3, 4, 3), {"output_padding": 1}, x4)
mod("ConvTranspose2d", (3, 4, 3), {"output_padding": 1, "stride": 2}, x4)
mod("Linear", (3, 4), {}, f(2, 3))
mod("Linear", (0, 4), {}, f(2, 0))
mod("Linear", (3, 0), {}, f(2, 3))
mod("Linear", (-1, 4), {}, f(2, 3))
mod("Linear", (3, 4), {}, f(2, 4))
mod("Bilinear", (3, 4, 5), {}, f(2, 3), f(2, 4))
mod("Embedding", (5, 3), {}, v([0, 4], np.int64))
mod("Embedding", (5, 3), {"padding_idx": 5}, v([0, 4], np.int64))
mod("Embedding", (5, 3), {"padding_idx": -1}, v([0, 4], np.int64))
mod("Embedding", (5, 3), {}, v([0, 5], np.int64))
mod("Embedding", (0, 3), {}, A(np.zeros((0,), np.int64)))
mod("Embedding", (-1, 3), {}, v([0], np.int64))
mod("EmbeddingBag", (5, 3), {}, v([[0, 4]], np.int64))
mod("EmbeddingBag", (5, 3), {"mode": "bogus"}, v([[0, 4]], np.int64))
mod("BatchNorm2d", (3,), {}, x4)
mod("BatchNorm2d", (4,), {}, x4)
mod("BatchNorm2d", (3,), {}, f(3, 5, 6))
mod("BatchNorm2d", (3,), {}, f(1, 3, 1, 1))
mod("BatchNorm1d", (3,), {}, f(1, 3))
mod("BatchNorm1d", (3,), {}, f(2, 3))
mod("BatchNorm1d", (3,), {}, f(2, 3, 4))
mod("BatchNorm1d", (3,), {}, f(3))
mod("BatchNorm1d", (3,), {"momentum": None}, f(4, 3))
mod("BatchNorm2d", (0,), {}, f(2, 0, 2, 2))
mod("LayerNorm", (6,), {}, x4)
mod("LayerNorm", (5,), {}, x4)
mod("LayerNorm", ((5, 6),), {}, x4)
mod("LayerNorm", (6,), {"elementwise_affine": False, "bias": False}, x4)
mod("LayerNorm", ((),), {}, x4)
mod("RMSNorm", (6,), {}, x4)
mod("RMSNorm", (5,), {}, x4)
mod("GroupNorm", (3, 3), {}, x4)
mod("GroupNorm", (2, 3), {}, x4)
mod("GroupNorm", (0, 3), {}, x4)
mod("GroupNorm", (3, 6), {}, x4)
mod("InstanceNorm2d", (3,), {}, x4)
mod("InstanceNorm2d", (4,), {}, x4)
mod("InstanceNorm2d", (3,), {"affine": True}, x4)
mod("InstanceNorm2d", (4,), {"affine": True}, x4)
mod("InstanceNorm2d", (3,), {"track_running_stats": True}, x4)
mod("InstanceNorm1d", (3,), {}, f(2, 3, 4))
mod("InstanceNorm1d", (3,), {}, f(3, 4))
mod("InstanceNorm1d", (3,), {}, f(2, 3))
mod("MaxPool2d", (2,), {}, x4)
mod("MaxPool2d", (0,), {}, x4)
mod("MaxPool2d", (7,), {}, x4)
mod("AvgPool2d", (2,), {"divisor_override": 0}, x4)
mod("AdaptiveAvgPool2d", ((None, 2),), {}, x4)
mod("AdaptiveAvgPool2d", (-1,), {}, x4)
mod("AdaptiveMaxPool2d", (2,), {"return_indices": True}, x4)
mod("Dropout", (1.5,), {}, x4)
mod("Dropout", (-0.5,), {}, x4)
mod("Dropout2d", (0.0,), {}, f(2, 3))
mod("Dropout2d", (0.0,), {}, f(2, 3, 4))
mod("Dropout1d", (0.0,), {}, f(2, 3))
mod("Dropout1d", (0.0,), {}, f(2, 3, 4, 5))
mod("Dropout3d", (0.0,), {}, f(2, 3, 4))
mod("AlphaDropout", (0.0,), {}, x4)
mod("Softmax", (), {}, f(2, 3))
mod("Softmax", (), {}, f(2, 3, 4))
mod("Softmax", (), {}, f())
mod("Softmax", (3,), {}, f(2, 3))
mod("LogSoftmax", (), {}, f(2, 3, 4, 5))
mod("Softmin", (), {}, f(3))
mod("Softmax2d", (), {}, f(2, 3))
mod("Softmax2d", (), {}, f(2, 3, 4))
mod("Softmax2d", (), {}, x4)
mod("ReLU", (), {}, v([nan, -1.0, 2.0]))
mod("PReLU", (), {}, x4)
mod("PReLU", (3,), {}, x4)
mod("PReLU", (4,), {}, x4)
mod("PReLU", (3,), {}, f())
mod("Hardtanh", (1.0, -1.0), {}, x4)
mod("Threshold", (0.1, 20.0), {}, x4)
mod("Flatten", (), {}, x4)
mod("Flatten", (2, 1), {}, x4)
mod("Unflatten", (1, (3, 1)), {}, x4)
mod("Unflatten", (1, (2, 2)), {}, x4)
mod("Upsample", (), {"scale_factor": 2}, x4)
mod("Upsample", (), {}, x4)
mod("Upsample", (), {"size": 3, "mode": "bilinear"}, x4)
mod("PixelShuffle", (2,), {}, f(2, 8, 2, 2))
mod("ZeroPad2d", (1,), {}, x4)
mod("ZeroPad2d", (-3,), {}, x4)
mod("ReflectionPad2d", (5,), {}, x4)
mod("ReflectionPad2d", (2,), {}, x4)
mod("ReplicationPad2d", ((1, 0, 2, 3),), {}, x4)
mod("ReplicationPad1d", (2,), {}, x4)
mod("CircularPad2d", (1,), {}, x4)
mod("ConstantPad1d", (2, 3.5), {}, f(2, 3))
mod("CrossEntropyLoss", (), {"ignore_index": 1, "label_smoothing": 0.1}, f(4, 3), i(4))
mod("CrossEntropyLoss", (), {"weight": f(2)}, f(4, 3), i(4))
mod("NLLLoss", (), {"reduction": "sum"}, f(0, 3), i(0))
mod("MSELoss", (), {}, f(4, 3), f(3))
mod("BCELoss", (), {}, f(4, lo=0, hi=1), f(4, lo=0, hi=1))
mod("BCEWithLogitsLoss", (), {"pos_weight": f(3)}, f(4, 3), f(4, 3, lo=0, hi=1))
mod("HuberLoss", (), {"delta": 0.0}, f(4), f(4))
mod("SmoothL1Loss", (), {"beta": -1.0}, f(4), f(4))
mod("KLDivLoss", (), {"reduction": "batchmean"}, f(4, 3), f(4, 3))
mod("TripletMarginLoss", (), {"margin": -1.0}, f(4, 3), f(4, 3), f(4, 3))
mod("CosineSimilarity", (), {}, f(2, 3), f(2, 3))
mod("PairwiseDistance", (), {}, f(2, 3), f(2, 3))
mod("Identity", (1, 2), {"x": 3}, f(2))
mod("Fold", ((3, 3), 2), {}, f(1, 12, 4))
mod("Unfold", (2,), {}, x4)
mod("ChannelShuffle", (3,), {}, x4)
mod("ChannelShuffle", (2,), {}, f(2, 4, 2))
mod("MultiheadAttention", (4, 2), {}, f(3, 2, 4), f(3, 2, 4), f(3, 2, 4))
mod("MultiheadAttention", (4, 3), {}, f(3, 2, 4), f(3, 2, 4), f(3, 2, 4))
mod("MultiheadAttention", (4, 2), {"batch_first": True}, f(2, 3, 4), f(2, 3, 4), f(2, 3, 4))
mod("MultiheadAttention", (4, 2), {}, f(3, 4), f(3, 4), f(3, 4))
mod("LSTM", (3, 4), {}, f(5, 2, 3))
mod("LSTM", (3, 4), {}, f(5, 3))
mod("LSTM", (3, 4), {}, f(5, 2, 4))
mod("GRU", (3, 4), {"num_layers": 2, "dropout": 0.0}, f(5, 2, 3))
mod("RNN", (3, 4), {"nonlinearity": "bogus"}, f(5, 2, 3))
mod("RNN", (3, 4), {"batch_first": True}, f(2, 5, 3))
mod("LSTM", (3, 4), {"proj_size": 4}, f(5, 2, 3))
mod("LSTM", (3, 4), {"proj_size": 2}, f(5, 2, 3))
mod("TransformerEncoderLayer", (4, 2), {"dim_feedforward": 8, "dropout": 0.0}, f(3, 2, 4))
mod("TransformerEncoderLayer", (4, 3), {"dim_feedforward": 8, "dropout": 0.0}, f(3, 2, 4))


def main_modules(verbose=True):
    stats = {"same": 0, "diff": 0}
    kinds = collections.Counter()
    for name, cargs, ckw, inputs, fkw in MODS:
        out = []
        mods = {}
        for lib in (ctorch, torch):
            try:
                lib.manual_seed(0)
                m = getattr(lib.nn, name)(*cargs, **conv(lib, ckw))
                mods[lib] = m
                out.append(("ok",))
            except Exception as e:
                out.append(("exc", type(e).__name__, str(e).split("\n")[0][:150]))
        desc = f"{name}({cargs}, {ckw}) on {[repr_arg(x) for x in inputs]}"
        prob = None
        if out[0][0] != out[1][0]:
            prob = f"CTOR ctorch={out[0]} torch={out[1]}"
        elif out[0][0] == "exc":
            if out[0][1] != out[1][1]:
                prob = f"CTOR EXCTYPE {out[0]} | {out[1]}"
        else:
            # copy torch's params into ctorch
            tsd = mods[torch].state_dict()
            csd = mods[ctorch].state_dict()
            if set(tsd) != set(csd):
                prob = f"STATE keys {sorted(set(tsd) ^ set(csd))}"
            else:
                for k in tsd:
                    if tuple(tsd[k].shape) != tuple(csd[k].shape):
                        prob = f"STATE shape {k} {tuple(csd[k].shape)} vs {tuple(tsd[k].shape)}"
                        break
                    csd[k] = ctorch.from_numpy(tsd[k].detach().numpy().copy())
                if prob is None:
                    mods[ctorch].load_state_dict(csd)
                    res = []
                    for lib in (ctorch, torch):
                        try:
                            lib.manual_seed(0)
                            with warnings.catch_warnings(record=True) as w:
                                warnings.simplefilter("always")
                                r = mods[lib](*conv(lib, list(inputs)), **fkw)
                            res.append(
                                (
                                    "ok",
                                    to_np(r),
                                    [
                                        str(x.message)
                                        for x in w
                                        if issubclass(x.category, UserWarning)
                                    ],
                                )
                            )
                        except Exception as e:
                            res.append(("exc", type(e).__name__, str(e).split("\n")[0][:150]))
                    c, t = res
                    prob = _verdict(c, t, None if "Dropout" in name else ())
        if prob:
            stats["diff"] += 1
            kinds[prob.split()[0]] += 1
            if verbose:
                print(desc + "\n    " + prob)
        else:
            stats["same"] += 1
    print("modules:", stats, dict(kinds))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", action="store_true", help="also sweep the nn modules")
    ap.add_argument("--quiet", action="store_true", help="counts only")
    args = ap.parse_args()
    main(not args.quiet)
    if args.modules:
        main_modules(not args.quiet)
