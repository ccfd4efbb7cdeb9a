"""Integer and bool inputs to ``nn.functional`` (issue #14): for every (function, dtype) pair
ctorch does what torch does: the same output dtype and values where torch accepts, an error
of torch's class naming the dtype where torch refuses. The survey runs torch live, so a rule
that drifts from torch fails here."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

S1, S2, S3 = (2, 3, 8), (2, 3, 6, 6), (1, 2, 4, 4, 4)
# name -> (input shape, fn(L, F, x))
CASES = {
    "adaptive_avg_pool1d": (S1, lambda L, F, x: F.adaptive_avg_pool1d(x, 3)),
    "adaptive_avg_pool2d": (S2, lambda L, F, x: F.adaptive_avg_pool2d(x, 3)),
    "adaptive_avg_pool2d_1": (S2, lambda L, F, x: F.adaptive_avg_pool2d(x, 1)),
    "adaptive_avg_pool3d": (S3, lambda L, F, x: F.adaptive_avg_pool3d(x, 2)),
    "adaptive_max_pool1d": (S1, lambda L, F, x: F.adaptive_max_pool1d(x, 3)),
    "adaptive_max_pool2d": (S2, lambda L, F, x: F.adaptive_max_pool2d(x, 3)),
    "adaptive_max_pool2d_odd": (S2, lambda L, F, x: F.adaptive_max_pool2d(x, 4)),
    "adaptive_max_pool3d": (S3, lambda L, F, x: F.adaptive_max_pool3d(x, 2)),
    "avg_pool1d": (S1, lambda L, F, x: F.avg_pool1d(x, 2)),
    "avg_pool2d": (S2, lambda L, F, x: F.avg_pool2d(x, 2)),
    "avg_pool2d_pad": (S2, lambda L, F, x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    "avg_pool3d": (S3, lambda L, F, x: F.avg_pool3d(x, 2)),
    "max_pool1d": (S1, lambda L, F, x: F.max_pool1d(x, 2)),
    "max_pool2d": (S2, lambda L, F, x: F.max_pool2d(x, 2)),
    "max_pool2d_idx": (S2, lambda L, F, x: F.max_pool2d(x, 3, 2, 1, return_indices=True)[0]),
    "max_pool3d": (S3, lambda L, F, x: F.max_pool3d(x, 2)),
    "lp_pool1d": (S1, lambda L, F, x: F.lp_pool1d(x, 2, 2)),
    "lp_pool2d": (S2, lambda L, F, x: F.lp_pool2d(x, 2, 2)),
    "fractional_max_pool2d": (
        S2,
        lambda L, F, x: F.fractional_max_pool2d(
            x, 2, output_size=3, _random_samples=L.full((2, 3, 2), 0.5, dtype=x.dtype)
        ),
    ),
    "max_unpool2d": (S2, lambda L, F, x: F.max_unpool2d(x, L.zeros(S2, dtype=L.int64), 1)),
    "interp_nearest1d": (S1, lambda L, F, x: F.interpolate(x, scale_factor=2)),
    "interp_nearest2d": (S2, lambda L, F, x: F.interpolate(x, scale_factor=2)),
    "interp_nearest3d": (S3, lambda L, F, x: F.interpolate(x, scale_factor=2)),
    "interp_nearest_exact2d": (
        S2,
        lambda L, F, x: F.interpolate(x, size=(4, 9), mode="nearest-exact"),
    ),
    "interp_linear": (S1, lambda L, F, x: F.interpolate(x, scale_factor=2, mode="linear")),
    "interp_bilinear": (S2, lambda L, F, x: F.interpolate(x, scale_factor=2, mode="bilinear")),
    "interp_bicubic": (S2, lambda L, F, x: F.interpolate(x, scale_factor=2, mode="bicubic")),
    "interp_trilinear": (S3, lambda L, F, x: F.interpolate(x, scale_factor=2, mode="trilinear")),
    "interp_area": (S2, lambda L, F, x: F.interpolate(x, size=(3, 3), mode="area")),
    "upsample_nearest": (S2, lambda L, F, x: F.upsample_nearest(x, scale_factor=2)),
    "pad_constant": (S2, lambda L, F, x: F.pad(x, (1, 2, 0, 1), value=3)),
    "pad_reflect1d": (S1, lambda L, F, x: F.pad(x, (2, 1), mode="reflect")),
    "pad_reflect2d": (S2, lambda L, F, x: F.pad(x, (2, 1, 1, 1), mode="reflect")),
    "pad_replicate1d": (S1, lambda L, F, x: F.pad(x, (2, 1), mode="replicate")),
    "pad_replicate2d": (S2, lambda L, F, x: F.pad(x, (2, 1, 1, 1), mode="replicate")),
    "pad_replicate3d": (S3, lambda L, F, x: F.pad(x, (1, 1, 1, 1, 1, 1), mode="replicate")),
    "pad_circular2d": (S2, lambda L, F, x: F.pad(x, (2, 1, 1, 1), mode="circular")),
    "pixel_shuffle": (S2[:1] + (4, 3, 3), lambda L, F, x: F.pixel_shuffle(x, 2)),
    "pixel_unshuffle": (S2, lambda L, F, x: F.pixel_unshuffle(x, 2)),
    "channel_shuffle": ((2, 4, 3), lambda L, F, x: F.channel_shuffle(x, 2)),
    "unfold": (S2, lambda L, F, x: F.unfold(x, 2)),
    "fold": ((2, 12, 4), lambda L, F, x: F.fold(x, (3, 3), 2)),
    "relu": (S1, lambda L, F, x: F.relu(x)),
    "relu6": (S1, lambda L, F, x: F.relu6(x)),
    "hardtanh": (S1, lambda L, F, x: F.hardtanh(x)),
    "threshold": (S1, lambda L, F, x: F.threshold(x, 1, 5)),
    "leaky_relu": (S1, lambda L, F, x: F.leaky_relu(x)),
    "elu": (S1, lambda L, F, x: F.elu(x)),
    "selu": (S1, lambda L, F, x: F.selu(x)),
    "celu": (S1, lambda L, F, x: F.celu(x)),
    "gelu": (S1, lambda L, F, x: F.gelu(x)),
    "silu": (S1, lambda L, F, x: F.silu(x)),
    "mish": (S1, lambda L, F, x: F.mish(x)),
    "sigmoid": (S1, lambda L, F, x: F.sigmoid(x)),
    "tanh": (S1, lambda L, F, x: F.tanh(x)),
    "hardsigmoid": (S1, lambda L, F, x: F.hardsigmoid(x)),
    "hardswish": (S1, lambda L, F, x: F.hardswish(x)),
    "hardshrink": (S1, lambda L, F, x: F.hardshrink(x)),
    "softshrink": (S1, lambda L, F, x: F.softshrink(x)),
    "tanhshrink": (S1, lambda L, F, x: F.tanhshrink(x)),
    "softsign": (S1, lambda L, F, x: F.softsign(x)),
    "softplus": (S1, lambda L, F, x: F.softplus(x)),
    "logsigmoid": (S1, lambda L, F, x: F.logsigmoid(x)),
    "glu": (S1, lambda L, F, x: F.glu(x)),
    "rrelu": (S1, lambda L, F, x: F.rrelu(x)),
    "prelu": (S1, lambda L, F, x: F.prelu(x, L.full((1,), 0.25, dtype=x.dtype))),
    "softmax": (S1, lambda L, F, x: F.softmax(x, -1)),
    "softmin": (S1, lambda L, F, x: F.softmin(x, -1)),
    "log_softmax": (S1, lambda L, F, x: F.log_softmax(x, -1)),
    "softmax_dtype": (S1, lambda L, F, x: F.softmax(x, -1, dtype=L.float64)),
    "gumbel_softmax": (S1, lambda L, F, x: F.gumbel_softmax(x)),
    "normalize": (S1, lambda L, F, x: F.normalize(x)),
    "layer_norm": (S1, lambda L, F, x: F.layer_norm(x, (8,))),
    "group_norm": (S2, lambda L, F, x: F.group_norm(x, 3)),
    "instance_norm": (S2, lambda L, F, x: F.instance_norm(x)),
    "batch_norm": (S2, lambda L, F, x: F.batch_norm(x, None, None, training=True)),
    "local_response_norm": (S2, lambda L, F, x: F.local_response_norm(x, 2)),
    "rms_norm": (S1, lambda L, F, x: F.rms_norm(x, (8,))),
    "dropout_eval": (S1, lambda L, F, x: F.dropout(x, 0.5, training=False)),
    "dropout_p0": (S1, lambda L, F, x: F.dropout(x, 0.0)),
    "dropout2d_eval": (S2, lambda L, F, x: F.dropout2d(x, 0.5, training=False)),
    "alpha_dropout_eval": (S1, lambda L, F, x: F.alpha_dropout(x, 0.5, training=False)),
    "linear": (S1, lambda L, F, x: F.linear(x, L.ones((2, 8), dtype=x.dtype))),
    "bilinear": ((2, 3), lambda L, F, x: F.bilinear(x, x, L.ones((2, 3, 3), dtype=x.dtype))),
    "conv1d": (S1, lambda L, F, x: F.conv1d(x, L.ones((2, 3, 3), dtype=x.dtype))),
    "conv2d": (S2, lambda L, F, x: F.conv2d(x, L.ones((2, 3, 3, 3), dtype=x.dtype))),
    "conv_transpose2d": (
        S2,
        lambda L, F, x: F.conv_transpose2d(x, L.ones((3, 2, 3, 3), dtype=x.dtype)),
    ),
    "embedding_weight": ((5, 3), lambda L, F, x: F.embedding(L.tensor([0, 4, 2]), x)),
    "one_hot": ((6,), lambda L, F, x: F.one_hot(x, 4)),
    "cosine_similarity": (S1, lambda L, F, x: F.cosine_similarity(x, x)),
    "pairwise_distance": (S1[1:], lambda L, F, x: F.pairwise_distance(x, x)),
    "pdist": (S1[1:], lambda L, F, x: F.pdist(x)),
    "l1_loss": (S1, lambda L, F, x: F.l1_loss(x, x)),
    "mse_loss": (S1, lambda L, F, x: F.mse_loss(x, x)),
    "smooth_l1_loss": (S1, lambda L, F, x: F.smooth_l1_loss(x, x)),
    "huber_loss": (S1, lambda L, F, x: F.huber_loss(x, x)),
    "soft_margin_loss": (S1, lambda L, F, x: F.soft_margin_loss(x, x)),
    "kl_div": (S1, lambda L, F, x: F.kl_div(x, x, reduction="sum")),
    "poisson_nll_loss": (S1, lambda L, F, x: F.poisson_nll_loss(x, x)),
    "bce": (S1, lambda L, F, x: F.binary_cross_entropy(x, x)),
    "bce_with_logits": (S1, lambda L, F, x: F.binary_cross_entropy_with_logits(x, x)),
    "cross_entropy": ((2, 4), lambda L, F, x: F.cross_entropy(x, L.tensor([0, 3]))),
    "nll_loss": ((2, 4), lambda L, F, x: F.nll_loss(x, L.tensor([0, 3]))),
    "hinge_embedding_loss": (S1, lambda L, F, x: F.hinge_embedding_loss(x, x)),
    "margin_ranking_loss": ((4,), lambda L, F, x: F.margin_ranking_loss(x, x, x)),
    "multi_margin_loss": ((2, 4), lambda L, F, x: F.multi_margin_loss(x, L.tensor([0, 3]))),
    "multilabel_soft_margin_loss": ((2, 4), lambda L, F, x: F.multilabel_soft_margin_loss(x, x)),
    "cosine_embedding_loss": (
        (2, 4),
        lambda L, F, x: F.cosine_embedding_loss(x, x, L.tensor([1, -1])),
    ),
    "triplet_margin_loss": ((2, 4), lambda L, F, x: F.triplet_margin_loss(x, x, x)),
    "gaussian_nll_loss": ((2, 4), lambda L, F, x: F.gaussian_nll_loss(x, x, x + 1)),
    "grid_sample": (
        S2,
        lambda L, F, x: F.grid_sample(x, L.zeros((2, 2, 2, 2)), align_corners=False),
    ),
    "affine_grid": ((1, 2, 3), lambda L, F, x: F.affine_grid(x, [1, 1, 2, 2], align_corners=False)),
    "conv3d": (S3, lambda L, F, x: F.conv3d(x, L.ones((2, 2, 2, 2, 2), dtype=x.dtype))),
    "conv_transpose1d": (
        S1,
        lambda L, F, x: F.conv_transpose1d(x, L.ones((3, 2, 2), dtype=x.dtype)),
    ),
    "conv_transpose3d": (
        S3,
        lambda L, F, x: F.conv_transpose3d(x, L.ones((2, 1, 2, 2, 2), dtype=x.dtype)),
    ),
    "conv2d_bias_stride": (
        S2,
        lambda L, F, x: F.conv2d(
            x, L.ones((2, 3, 2, 2), dtype=x.dtype), L.ones(2, dtype=x.dtype), 2, 1
        ),
    ),
    "adaptive_max_pool1d_idx": (S1, lambda L, F, x: F.adaptive_max_pool1d_with_indices(x, 3)[0]),
    "adaptive_max_pool2d_idx": (S2, lambda L, F, x: F.adaptive_max_pool2d_with_indices(x, 3)[0]),
    "adaptive_max_pool3d_idx": (S3, lambda L, F, x: F.adaptive_max_pool3d_with_indices(x, 2)[0]),
    "max_pool1d_idx": (S1, lambda L, F, x: F.max_pool1d_with_indices(x, 2)[0]),
    "max_pool2d_with_indices": (S2, lambda L, F, x: F.max_pool2d_with_indices(x, 2)[0]),
    "max_pool3d_idx": (S3, lambda L, F, x: F.max_pool3d_with_indices(x, 2)[0]),
    "max_unpool1d": (S1, lambda L, F, x: F.max_unpool1d(x, L.zeros(S1, dtype=L.int64), 1)),
    "max_unpool3d": (S3, lambda L, F, x: F.max_unpool3d(x, L.zeros(S3, dtype=L.int64), 1)),
    "lp_pool3d": (S3, lambda L, F, x: F.lp_pool3d(x, 2, 2)),
    "fractional_max_pool3d": (
        S3,
        lambda L, F, x: F.fractional_max_pool3d(
            x, 2, output_size=2, _random_samples=L.full((1, 2, 3), 0.5, dtype=x.dtype)
        ),
    ),
    "upsample_bilinear": (S2, lambda L, F, x: F.upsample_bilinear(x, scale_factor=2)),
    "upsample": (S2, lambda L, F, x: F.upsample(x, scale_factor=2)),
    "interp_area1d": (S1, lambda L, F, x: F.interpolate(x, size=3, mode="area")),
    "interp_area3d": (S3, lambda L, F, x: F.interpolate(x, size=2, mode="area")),
    "pad_reflect3d": (S3, lambda L, F, x: F.pad(x, (1, 1, 1, 1, 1, 1), mode="reflect")),
    "pad_circular1d": (S1, lambda L, F, x: F.pad(x, (2, 1), mode="circular")),
    "relu_": (S1, lambda L, F, x: F.relu_(x)),
    "relu_inplace": (S1, lambda L, F, x: F.relu(x, inplace=True)),
    "hardtanh_": (S1, lambda L, F, x: F.hardtanh_(x, 0.0, 2.0)),
    "leaky_relu_": (S1, lambda L, F, x: F.leaky_relu_(x)),
    "elu_": (S1, lambda L, F, x: F.elu_(x)),
    "celu_": (S1, lambda L, F, x: F.celu_(x)),
    "selu_": (S1, lambda L, F, x: F.selu_(x)),
    "threshold_": (S1, lambda L, F, x: F.threshold_(x, 1, 5)),
    "rrelu_": (S1, lambda L, F, x: F.rrelu_(x)),
    "dropout1d_eval": (S1, lambda L, F, x: F.dropout1d(x, 0.5, training=False)),
    "dropout3d_eval": (S3, lambda L, F, x: F.dropout3d(x, 0.5, training=False)),
    "feature_alpha_dropout_eval": (
        S2,
        lambda L, F, x: F.feature_alpha_dropout(x, 0.5, training=False),
    ),
    "multilabel_margin_loss": (
        (2, 4),
        lambda L, F, x: F.multilabel_margin_loss(x, L.tensor([[1, 0, -1, 0], [2, -1, 0, 0]])),
    ),
    "ctc_loss": (
        (5, 1, 3),
        lambda L, F, x: F.ctc_loss(x, L.tensor([[1, 2]]), L.tensor([5]), L.tensor([2])),
    ),
    "embedding_bag_weight": (
        (5, 3),
        lambda L, F, x: F.embedding_bag(L.tensor([0, 4, 2, 1]), x, L.tensor([0, 2])),
    ),
    "embedding_bag_max": (
        (5, 3),
        lambda L, F, x: F.embedding_bag(L.tensor([0, 4, 2, 1]), x, L.tensor([0, 2]), mode="max"),
    ),
    "cross_entropy_probs": ((2, 4), lambda L, F, x: F.cross_entropy(x, x)),
    "triplet_with_distance": ((2, 4), lambda L, F, x: F.triplet_margin_with_distance_loss(x, x, x)),
    "alpha_dropout_train": ((2, 8), lambda L, F, x: F.alpha_dropout(x, 0.5, True)),
    "feature_alpha_dropout_train": (S2, lambda L, F, x: F.feature_alpha_dropout(x, 0.5, True)),
    "alpha_dropout_p0": ((2, 8), lambda L, F, x: F.alpha_dropout(x, 0.0, True)),
    "embedding_indices": ((3,), lambda L, F, x: F.embedding(x, L.ones((5, 2)))),
    "native_channel_shuffle": ((2, 4, 3), lambda L, F, x: F.native_channel_shuffle(x, 2)),
    "max_pool2d_ceil": ((1, 1, 5, 5), lambda L, F, x: F.max_pool2d(x, 2, ceil_mode=True)),
    "avg_pool1d_pad": ((1, 2, 7), lambda L, F, x: F.avg_pool1d(x, 3, 2, 1, True, False)),
    "sdpa": ((1, 2, 3, 4), lambda L, F, x: F.scaled_dot_product_attention(x, x, x)),
}

DTYPES = ["int64", "int32", "uint8", "bool"]
TORCH_NAMES = {"int64": "Long", "int32": "Int", "uint8": "Byte", "bool": "Bool"}


def _run(L, fn, a):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        L.manual_seed(0)
        try:
            return fn(L, L.nn.functional, L.tensor(a)), None
        except Exception as e:  # noqa: BLE001 - the survey compares whatever torch raises
            return None, e


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(CASES))
def test_integer_inputs_match_torch(name, dtype):
    shape, fn = CASES[name]
    a = np.random.default_rng(abs(hash(name)) % 2**32).integers(0, 4, shape).astype(dtype)
    tr, te = _run(torch, fn, a)
    cr, ce = _run(ctorch, fn, a)
    if te is not None:
        assert ce is not None, f"torch raises {te!r}; ctorch returns {cr.dtype}"
        assert isinstance(ce, type(te)) or (
            isinstance(ce, RuntimeError) and isinstance(te, RuntimeError)
        ), (ce, te)
        msg = str(ce)
        assert TORCH_NAMES[dtype] in msg or str(te)[:40] in msg, (msg, str(te))
        return
    assert ce is None, f"torch accepts ({tr.dtype}); ctorch raises {ce!r}"
    assert str(cr.dtype).split(".")[-1] == str(tr.dtype).split(".")[-1]
    assert tuple(cr.shape) == tuple(tr.shape)
    if name.startswith(("gumbel", "rrelu", "dropout_p0")):
        return
    c, t = cr.numpy().astype(np.float64), tr.numpy().astype(np.float64)
    uint8_interp = ("interp_bilinear", "interp_bicubic", "upsample_bilinear")
    atol = 1 if name in uint8_interp else 1e-5  # torch's fixed-point uint8 weights round
    np.testing.assert_allclose(c, t, rtol=1e-5, atol=atol, equal_nan=True)


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=2),
        dict(kernel_size=2, stride=1, padding=1),
        dict(kernel_size=2, stride=1, padding=1, count_include_pad=False),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
        dict(kernel_size=2, divisor_override=3),
    ],
)
def test_integer_average_pooling_truncates_as_torch(kw):
    a = np.random.default_rng(3).integers(-9, 10, (2, 3, 5, 7))
    r = ctorch.nn.functional.avg_pool2d(ctorch.tensor(a), **kw)
    t = torch.nn.functional.avg_pool2d(torch.tensor(a), **kw)
    assert r.dtype == ctorch.int64
    np.testing.assert_array_equal(r.numpy(), t.numpy())
    a3 = a.reshape(1, 2, 3, 5, 7)
    kw3 = {k: v for k, v in kw.items() if k != "padding"}
    r = ctorch.nn.functional.avg_pool3d(ctorch.tensor(a3), **kw3)
    t = torch.nn.functional.avg_pool3d(torch.tensor(a3), **kw3)
    np.testing.assert_array_equal(r.numpy(), t.numpy())
    # the NumPy reference of the plain case: window sums // 4 toward zero
    if kw == dict(kernel_size=2):
        s = a[:, :, :4, :6].reshape(2, 3, 2, 2, 3, 2).sum((3, 5))
        np.testing.assert_array_equal(
            ctorch.nn.functional.avg_pool2d(ctorch.tensor(a), 2).numpy(), np.trunc(s / 4)
        )


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_integer_convolutions_wrap_as_torch(dtype):
    a = np.random.default_rng(4).integers(0, 200, (1, 2, 5, 5)).astype(dtype)
    w = np.random.default_rng(5).integers(0, 50, (3, 2, 3, 3)).astype(dtype)
    for fn in ("conv2d",):
        r = getattr(ctorch.nn.functional, fn)(ctorch.tensor(a), ctorch.tensor(w), padding=1)
        t = getattr(torch.nn.functional, fn)(torch.tensor(a), torch.tensor(w), padding=1)
        assert str(r.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(r.numpy(), t.numpy())  # uint8 wraps modulo 256


def test_rules_apply_to_keyword_inputs_and_keep_float_calls():
    F = ctorch.nn.functional
    with pytest.raises(RuntimeError, match="Integral inputs not supported"):
        F.kl_div(input=ctorch.ones(2, dtype=ctorch.int64), target=ctorch.ones(2))
    r = F.margin_ranking_loss(input1=ctorch.ones(2), input2=ctorch.zeros(2), target=ctorch.ones(2))
    assert r.item() == 0.0
    # nn modules and ctorch.<op> reach the same rules (one function object)
    b = ctorch.ones(1, 1, 2, 2, dtype=ctorch.bool)
    with pytest.raises(NotImplementedError, match="slow_conv2d_cpu"):
        ctorch.conv2d(b, b)
    assert ctorch.nn.Conv2d._conv is F.conv2d
