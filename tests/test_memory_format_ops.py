"""Issue #14: the layout ~100 nn.functional / top-level ops give a channels-last
(channels_last_3d) input, as torch 2.13 gives it.

Each case names the layout torch gives (``cl``: channels-last only, ``c``: C order only,
``both``: contiguous in both, as a ``(N, C, 1, 1)`` result is; ``-``: neither, e.g. a 5-D
stack of channels-last tensors). Without torch the test checks that layout and that the
values equal the op's on the same input in C order; with torch it also compares the exact
strides and values with torch's."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

try:
    import torch
except ImportError:  # the torch comparisons are skipped, the layout checks still run
    torch = None


def _fmt(lib, nd):
    return lib.channels_last if nd == 4 else lib.channels_last_3d


def _mk(lib, shape, seed=0, cl=False):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    t = lib.from_numpy(a)
    return t.contiguous(memory_format=_fmt(lib, len(shape))) if cl else t


def F(lib):
    return lib.nn.functional


OPS_2D = [
    ("conv2d", "cl", lambda m, x: F(m).conv2d(x, _mk(m, (4, 3, 3, 3), 1), padding=1)),
    (
        "conv2d_1x1_bias",
        "cl",
        lambda m, x: F(m).conv2d(x, _mk(m, (4, 3, 1, 1), 1), _mk(m, (4,), 2)),
    ),
    (
        "conv_transpose2d",
        "cl",
        lambda m, x: F(m).conv_transpose2d(x, _mk(m, (3, 2, 3, 3), 1), stride=2),
    ),
    ("batch_norm_train", "cl", lambda m, x: F(m).batch_norm(x, None, None, training=True)),
    (
        "batch_norm_eval_affine",
        "cl",
        lambda m, x: F(m).batch_norm(x, m.zeros(3), m.ones(3), _mk(m, (3,), 1), _mk(m, (3,), 2)),
    ),
    ("relu", "cl", lambda m, x: F(m).relu(x)),
    ("relu_inplace", "cl", lambda m, x: F(m).relu(x.clone(), inplace=True)),
    ("gelu", "cl", lambda m, x: F(m).gelu(x)),
    ("gelu_tanh", "cl", lambda m, x: F(m).gelu(x, approximate="tanh")),
    ("silu", "cl", lambda m, x: F(m).silu(x)),
    ("sigmoid", "cl", lambda m, x: m.sigmoid(x)),
    ("tanh", "cl", lambda m, x: m.tanh(x)),
    ("leaky_relu", "cl", lambda m, x: F(m).leaky_relu(x, 0.1)),
    ("hardswish", "cl", lambda m, x: F(m).hardswish(x)),
    ("elu", "cl", lambda m, x: F(m).elu(x)),
    ("mish", "cl", lambda m, x: F(m).mish(x)),
    ("softplus", "cl", lambda m, x: F(m).softplus(x)),
    ("prelu", "cl", lambda m, x: F(m).prelu(x, m.full((3,), 0.2))),
    ("hardtanh", "cl", lambda m, x: F(m).hardtanh(x)),
    ("relu6", "cl", lambda m, x: F(m).relu6(x)),
    ("selu", "cl", lambda m, x: F(m).selu(x)),
    ("threshold", "cl", lambda m, x: F(m).threshold(x, 0.1, 2.0)),
    ("glu", "cl", lambda m, x: F(m).glu(m.cat([x, x], 1), 1)),
    # torch's log_sigmoid_forward allocates its result in C order whatever the input
    ("logsigmoid", "c", lambda m, x: F(m).logsigmoid(x)),
    ("add_scalar", "cl", lambda m, x: x + 1),
    ("rmul_scalar", "cl", lambda m, x: 2 * x),
    ("add_same_layout", "cl", lambda m, x: x + x),
    ("mul_same_layout", "cl", lambda m, x: x * _mk(m, (2, 3, 6, 7), 3, cl=True)),
    ("add_c_order", "cl", lambda m, x: x + _mk(m, (2, 3, 6, 7), 3)),
    ("c_order_add", "c", lambda m, x: _mk(m, (2, 3, 6, 7), 3) + x),
    ("add_per_channel", "cl", lambda m, x: x + _mk(m, (1, 3, 1, 1), 3)),
    ("add_per_row", "cl", lambda m, x: x * _mk(m, (2, 3, 6, 1), 3)),
    ("add_batch_broadcast", "cl", lambda m, x: x[:1] + _mk(m, (2, 3, 6, 7), 3)),
    ("c_order_sub_batch_broadcast", "c", lambda m, x: _mk(m, (2, 3, 6, 7), 3) - x[:1]),
    ("where", "cl", lambda m, x: m.where(x > 0, x, 0.0)),
    ("addcmul", "cl", lambda m, x: m.addcmul(x, x, x)),
    ("max_pool2d", "cl", lambda m, x: F(m).max_pool2d(x, 2)),
    ("max_pool2d_indices", "cl", lambda m, x: F(m).max_pool2d(x, 2, return_indices=True)[1]),
    ("max_pool2d_ceil", "cl", lambda m, x: F(m).max_pool2d(x, 3, 2, ceil_mode=True)),
    ("avg_pool2d", "cl", lambda m, x: F(m).avg_pool2d(x, 2)),
    ("avg_pool2d_pad", "cl", lambda m, x: F(m).avg_pool2d(x, 3, 1, 1, count_include_pad=False)),
    ("lp_pool2d", "cl", lambda m, x: F(m).lp_pool2d(x.abs(), 2, 2)),
    ("adaptive_avg_pool2d", "cl", lambda m, x: F(m).adaptive_avg_pool2d(x, (3, 4))),
    # torch restrides its (N, C, 1, 1) mean to (C, 1, C, C)
    ("adaptive_avg_pool2d_1", "both", lambda m, x: F(m).adaptive_avg_pool2d(x, 1)),
    ("adaptive_max_pool2d", "cl", lambda m, x: F(m).adaptive_max_pool2d(x, (3, 4))),
    ("interp_nearest", "cl", lambda m, x: F(m).interpolate(x, scale_factor=2)),
    (
        "interp_nearest_exact",
        "cl",
        lambda m, x: F(m).interpolate(x, size=(5, 9), mode="nearest-exact"),
    ),
    ("interp_bilinear", "cl", lambda m, x: F(m).interpolate(x, size=(9, 7), mode="bilinear")),
    (
        "interp_bilinear_ac",
        "cl",
        lambda m, x: F(m).interpolate(x, size=(9, 7), mode="bilinear", align_corners=True),
    ),
    ("interp_bicubic", "cl", lambda m, x: F(m).interpolate(x, size=(9, 7), mode="bicubic")),
    ("interp_area", "cl", lambda m, x: F(m).interpolate(x, size=(3, 7), mode="area")),
    ("Upsample", "cl", lambda m, x: m.nn.Upsample(scale_factor=2)(x)),
    ("pad_constant", "cl", lambda m, x: F(m).pad(x, (1, 2, 0, 1))),
    ("pad_negative", "cl", lambda m, x: F(m).pad(x, (-1, 0, 0, -1))),
    ("pad_channels", "cl", lambda m, x: F(m).pad(x, (0, 0, 0, 0, 1, 1))),
    ("pad_reflect", "cl", lambda m, x: F(m).pad(x, (1, 2, 0, 1), mode="reflect")),
    ("pad_replicate", "cl", lambda m, x: F(m).pad(x, (1, 2, 0, 1), mode="replicate")),
    ("pad_replicate_w", "cl", lambda m, x: F(m).pad(x, (1, 2, 0, 0), mode="replicate")),
    ("pad_reflect_zero", "cl", lambda m, x: F(m).pad(x, (0, 0, 0, 0), mode="reflect")),
    # torch's circular padding is a composite of slices: C order
    ("pad_circular", "c", lambda m, x: F(m).pad(x, (1, 2, 0, 1), mode="circular")),
    ("pixel_shuffle", "cl", lambda m, x: F(m).pixel_shuffle(m.cat([x] * 4, 1), 2)),
    ("pixel_unshuffle", "cl", lambda m, x: F(m).pixel_unshuffle(x[:, :, :6, :6], 2)),
    ("channel_shuffle", "cl", lambda m, x: F(m).channel_shuffle(m.cat([x, x], 1), 2)),
    ("dropout_eval", "cl", lambda m, x: F(m).dropout(x, 0.5, training=False)),
    ("dropout_p0", "cl", lambda m, x: F(m).dropout(x, 0.0)),
    ("dropout2d_eval", "cl", lambda m, x: F(m).dropout2d(x, 0.5, training=False)),
    ("alpha_dropout_eval", "cl", lambda m, x: F(m).alpha_dropout(x, 0.5, training=False)),
    ("layer_norm", "c", lambda m, x: F(m).layer_norm(x, (6, 7))),
    ("layer_norm_chw", "c", lambda m, x: F(m).layer_norm(x, (3, 6, 7))),
    ("rms_norm", "cl", lambda m, x: F(m).rms_norm(x, (7,))),
    ("group_norm", "cl", lambda m, x: F(m).group_norm(x, 3)),
    (
        "group_norm_affine",
        "cl",
        lambda m, x: F(m).group_norm(x, 1, _mk(m, (3,), 1), _mk(m, (3,), 2)),
    ),
    # torch views input.contiguous(): C order
    ("instance_norm", "c", lambda m, x: F(m).instance_norm(x)),
    ("instance_norm_batch1", "c", lambda m, x: F(m).instance_norm(x[:1])),
    ("local_response_norm", "cl", lambda m, x: F(m).local_response_norm(x, 2)),
    ("normalize", "cl", lambda m, x: F(m).normalize(x, dim=1)),
    ("cat_channels", "cl", lambda m, x: m.cat([x, x], 1)),
    ("cat_batch", "cl", lambda m, x: m.cat([x, x], 0)),
    ("stack0", "-", lambda m, x: m.stack([x, x], 0)),
    ("stack1", "-", lambda m, x: m.stack([x, x], 1)),
    ("stack2", "-", lambda m, x: m.stack([x, x], 2)),
    ("stack_last", "-", lambda m, x: m.stack([x, x], 4)),
    ("stack_mixed", "-", lambda m, x: m.stack([x, x.contiguous()], 2)),
    ("clone", "cl", lambda m, x: x.clone()),
    ("contiguous", "c", lambda m, x: x.contiguous()),
    ("to_float64", "cl", lambda m, x: x.to(m.float64)),
    ("half", "cl", lambda m, x: x.half()),
    ("softmax_channels", "c", lambda m, x: m.softmax(x, 1)),
    ("softmax_last", "c", lambda m, x: F(m).softmax(x, -1)),
    ("log_softmax_channels", "c", lambda m, x: F(m).log_softmax(x, 1)),
    ("neg", "cl", lambda m, x: -x),
    ("pow", "cl", lambda m, x: x**2),
    ("clamp", "cl", lambda m, x: x.clamp(-0.5, 0.5)),
    ("gt", "cl", lambda m, x: x > 0),
    ("masked_fill", "c", lambda m, x: x.masked_fill(x > 0, 0.0)),
    ("zeros_like", "cl", lambda m, x: m.zeros_like(x)),
    ("flip", "cl", lambda m, x: x.flip(3)),
    ("flip_batch", "cl", lambda m, x: x.flip(0)),
    ("roll", "cl", lambda m, x: x.roll(1, 2)),
    ("roll_two_dims", "cl", lambda m, x: x.roll((1, 2), (1, 3))),
    ("roll_flat", "c", lambda m, x: x.roll(3)),
    ("cumsum", "c", lambda m, x: x.cumsum(1)),
    ("sum_hw_keepdim", "both", lambda m, x: x.sum((2, 3), keepdim=True)),
    ("mean_hw_keepdim", "both", lambda m, x: x.mean((2, 3), keepdim=True)),
    (
        "grid_sample",
        "c",
        lambda m, x: F(m).grid_sample(x, _mk(m, (2, 4, 5, 2), 4).tanh(), align_corners=False),
    ),
]

OPS_3D = [
    ("conv3d", "cl", lambda m, x: F(m).conv3d(x, _mk(m, (4, 3, 3, 3, 3), 1), padding=1)),
    ("batch_norm", "cl", lambda m, x: F(m).batch_norm(x, None, None, training=True)),
    ("relu", "cl", lambda m, x: F(m).relu(x)),
    ("silu", "cl", lambda m, x: F(m).silu(x)),
    ("logsigmoid", "c", lambda m, x: F(m).logsigmoid(x)),
    ("add_per_channel", "cl", lambda m, x: x + _mk(m, (1, 3, 1, 1, 1), 3)),
    ("max_pool3d", "cl", lambda m, x: F(m).max_pool3d(x, 2)),
    # torch's CPU avg_pool3d / adaptive 3-D pools return C order for channels_last_3d
    ("avg_pool3d", "c", lambda m, x: F(m).avg_pool3d(x, 2)),
    ("adaptive_avg_pool3d", "c", lambda m, x: F(m).adaptive_avg_pool3d(x, (2, 3, 3))),
    ("adaptive_avg_pool3d_1", "both", lambda m, x: F(m).adaptive_avg_pool3d(x, 1)),
    ("adaptive_max_pool3d", "c", lambda m, x: F(m).adaptive_max_pool3d(x, (2, 3, 3))),
    ("interp_nearest", "cl", lambda m, x: F(m).interpolate(x, scale_factor=2)),
    ("trilinear", "cl", lambda m, x: F(m).interpolate(x, scale_factor=2, mode="trilinear")),
    ("pad_constant", "cl", lambda m, x: F(m).pad(x, (1, 2, 0, 1, 1, 0))),
    ("pad_reflect", "cl", lambda m, x: F(m).pad(x, (1, 2, 0, 1, 1, 0), mode="reflect")),
    ("pad_replicate", "cl", lambda m, x: F(m).pad(x, (1, 2, 0, 1, 1, 0), mode="replicate")),
    ("pad_circular", "c", lambda m, x: F(m).pad(x, (1, 2, 0, 1, 1, 0), mode="circular")),
    ("group_norm", "cl", lambda m, x: F(m).group_norm(x, 3)),
    ("instance_norm", "c", lambda m, x: F(m).instance_norm(x)),
    ("rms_norm", "cl", lambda m, x: F(m).rms_norm(x, (7,))),
    ("cat_channels", "cl", lambda m, x: m.cat([x, x], 1)),
    ("stack0", "-", lambda m, x: m.stack([x, x], 0)),
    ("flip", "cl", lambda m, x: x.flip(3)),
    ("roll", "cl", lambda m, x: x.roll(1, 2)),
    ("softmax_channels", "c", lambda m, x: m.softmax(x, 1)),
]


def _check(shape, layout, fn):
    nd = len(shape)
    x = _mk(ctorch, shape, cl=True)
    r = fn(ctorch, x)
    in_cl = r.is_contiguous(memory_format=_fmt(ctorch, nd)) if r.dim() == nd else False
    want = {"cl": (True, False), "c": (False, True), "both": (True, True)}.get(layout)
    if want is not None:
        assert (in_cl, r.is_contiguous()) == want, (r.shape, r.stride())
    # the layout never changes the values: the same op on the input in C order
    ref = fn(ctorch, _mk(ctorch, shape))
    np.testing.assert_allclose(r.float().numpy(), ref.float().numpy(), rtol=1e-5, atol=1e-5)
    if torch is None:
        return
    t = fn(torch, _mk(torch, shape, cl=True))
    assert r.stride() == t.stride(), (r.stride(), t.stride())
    if r.dim() == nd:
        assert in_cl == t.is_contiguous(memory_format=_fmt(torch, nd))
    np.testing.assert_allclose(r.float().numpy(), t.float().numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("name", "layout", "fn"), OPS_2D, ids=[o[0] for o in OPS_2D])
def test_channels_last_op_layout_as_torch(name, layout, fn):
    _check((2, 3, 6, 7), layout, fn)


@pytest.mark.parametrize(("name", "layout", "fn"), OPS_3D, ids=[o[0] for o in OPS_3D])
def test_channels_last_3d_op_layout_as_torch(name, layout, fn):
    _check((2, 3, 4, 6, 7), layout, fn)


def test_pad_with_nothing_to_pad_is_a_copy():
    # torch returns a new tensor (never the input) for an all-zero reflect/replicate pad
    x = _mk(ctorch, (2, 3, 4, 5), cl=True)
    for mode in ("reflect", "replicate", "circular"):
        r = F(ctorch).pad(x, (0, 0, 0, 0), mode=mode)
        assert r is not x and r.data_ptr() != x.data_ptr()
        r.add_(1)
        assert not np.array_equal(r.numpy(), x.numpy())


def test_stack_of_channels_last_after_size1_dims_torch_strides():
    # stack inserts the new dim just outside the stacked one in the inputs' memory order
    x = _mk(ctorch, (2, 3, 4, 5), cl=True)
    assert ctorch.stack([x, x], 0).stride() == (120, 60, 1, 15, 3)
    assert ctorch.stack([x, x], 1).stride() == (120, 3, 1, 30, 6)
    assert ctorch.stack([x, x], 3).stride() == (120, 1, 30, 15, 3)
    assert ctorch.stack([x, x], 4).is_contiguous()  # after the last dim: C order


@pytest.mark.parametrize("perm", [(0, 2, 3, 1), (3, 2, 1, 0), (1, 0, 2, 3)])
@pytest.mark.parametrize(
    "other", [(2, 3, 4, 5), (2, 3, 4, 1), (1, 3, 1, 1), (3, 4, 5), (2, 1, 4, 5), (1, 3, 4, 5)]
)
def test_binary_broadcast_layout_follows_first_operand(perm, other):
    """TensorIterator orders the result's dims by the first operand's strides, deferring to
    the next operand where one is broadcast (NumPy's order "K" gives C order here)."""
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal(other).astype(np.float32)
    inv = tuple(int(i) for i in np.argsort(perm))
    libs = [ctorch] if torch is None else [ctorch, torch]
    out = []
    for m in libs:
        x = m.from_numpy(a.copy()).permute(*perm).contiguous().permute(*inv)
        y = m.from_numpy(b.copy())
        out.append([x + y, y * x, m.maximum(x, y)])
    for r, ref in zip(out[0], (a + b, b * a, np.maximum(a, b)), strict=True):
        np.testing.assert_array_equal(r.numpy(), ref)
    # the first operand's dim order wherever both have more than one element along it
    for r in (out[0][0], out[0][2]):  # x + y, maximum(x, y); y * x has y first
        xs = libs[0].from_numpy(a.copy()).permute(*perm).contiguous().permute(*inv).stride()
        big = sorted((d for d in range(4) if a.shape[d] > 1), key=lambda d: -xs[d])
        st = [r.stride()[d] for d in big]
        assert st == sorted(st, reverse=True), (r.stride(), xs)
    if torch is not None:
        for rc, rt in zip(out[0], out[1], strict=True):
            assert rc.stride() == rt.stride()
