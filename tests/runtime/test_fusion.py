"""nn.utils.fusion: folding an eval BatchNorm into the conv/linear before it (forward equal to
conv+bn, weights equal to torch's fused weights)."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch import nn
from ctorch.nn.utils.fusion import (
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
)


def _bn_with_stats(bn, seed):
    rng = np.random.default_rng(seed)
    n = bn.num_features
    with ctorch.no_grad():
        bn.running_mean.copy_(ctorch.from_numpy(rng.standard_normal(n)))
        bn.running_var.copy_(ctorch.from_numpy(rng.uniform(0.5, 2.0, n)))
        if bn.affine:
            bn.weight.copy_(ctorch.from_numpy(rng.standard_normal(n)))
            bn.bias.copy_(ctorch.from_numpy(rng.standard_normal(n)))
    return bn


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_fuse_conv_bn_eval_matches_unfused(bias, affine):
    ctorch.manual_seed(0)
    conv = nn.Conv2d(3, 5, 3, padding=1, bias=bias).double().eval()
    bn = _bn_with_stats(nn.BatchNorm2d(5, affine=affine).double().eval(), 1)
    x = ctorch.randn(2, 3, 6, 6, dtype=ctorch.float64)
    fused = fuse_conv_bn_eval(conv, bn)
    assert fused is not conv and isinstance(fused.weight, nn.Parameter)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), atol=1e-12)
    assert conv.bias is None or fused.bias is not conv.bias  # the original is untouched


def test_fuse_conv_transpose_bn_eval_matches_unfused():
    ctorch.manual_seed(0)
    conv = nn.ConvTranspose2d(3, 4, 3, stride=2).double().eval()
    bn = _bn_with_stats(nn.BatchNorm2d(4).double().eval(), 2)
    x = ctorch.randn(1, 3, 5, 5, dtype=ctorch.float64)
    fused = fuse_conv_bn_eval(conv, bn, transpose=True)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_fuse_linear_bn_eval_matches_unfused(bias):
    ctorch.manual_seed(0)
    lin = nn.Linear(6, 4, bias=bias).double().eval()
    bn = _bn_with_stats(nn.BatchNorm1d(4).double().eval(), 3)
    x = ctorch.randn(5, 6, dtype=ctorch.float64)
    fused = fuse_linear_bn_eval(lin, bn)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(lin(x)).detach().numpy(), atol=1e-12)


def test_fusion_refuses_training_mode_and_mismatch():
    conv, bn = nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3)
    with pytest.raises(AssertionError, match="eval"):
        fuse_conv_bn_eval(conv, bn)
    with pytest.raises(AssertionError, match="out_features"):
        fuse_linear_bn_eval(nn.Linear(2, 3).eval(), nn.BatchNorm1d(4).eval())
    with pytest.raises(AssertionError, match="running statistics"):
        fuse_conv_bn_eval(conv.eval(), nn.BatchNorm2d(3, track_running_stats=False).eval())


def test_fused_weights_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    w, b = rng.standard_normal((4, 3, 2, 2)), rng.standard_normal(4)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    g, beta = rng.standard_normal(4), rng.standard_normal(4)
    for transpose in (False, True):
        if transpose:  # a transposed conv's weight is (in, out, kh, kw)
            w = np.ascontiguousarray(w.transpose(1, 0, 2, 3))
        ours = fuse_conv_bn_weights(
            *(ctorch.from_numpy(a) for a in (w, b, rm, rv)),
            1e-3,
            ctorch.from_numpy(g),
            ctorch.from_numpy(beta),
            transpose,
        )
        theirs = torch.nn.utils.fusion.fuse_conv_bn_weights(
            *(torch.from_numpy(a) for a in (w, b, rm, rv)),
            1e-3,
            torch.from_numpy(g),
            torch.from_numpy(beta),
            transpose,
        )
        for o, t in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-12)
            assert o.requires_grad == t.requires_grad
    lw = rng.standard_normal((4, 6))
    ours = fuse_linear_bn_weights(
        ctorch.from_numpy(lw),
        None,
        *(ctorch.from_numpy(a) for a in (rm, rv)),
        1e-5,
        ctorch.from_numpy(g),
        ctorch.from_numpy(beta),
    )
    theirs = torch.nn.utils.fusion.fuse_linear_bn_weights(
        torch.from_numpy(lw),
        None,
        *(torch.from_numpy(a) for a in (rm, rv)),
        1e-5,
        torch.from_numpy(g),
        torch.from_numpy(beta),
    )
    for o, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-12)
