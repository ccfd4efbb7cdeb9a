"""Transposed 3-D convolution, composed of one conv_transpose2d per depth tap (as ``conv3d`` is
of conv2d taps): autograd through the ops. Not a hot path: correct and torch-compatible."""

from __future__ import annotations

from .._memfmt import conv_format
from .._tensor import Tensor
from .conv import _check_conv_args, _check_transposed_channels, conv_transpose2d
from .im2col import _batch_of_one, _ntuple
from .join import cat


def _spread_depth(y: Tensor, s: int) -> Tensor:
    """(N, C, D, H, W) -> (N, C, (D-1)*s + 1, H, W): ``s - 1`` zero slices between slices."""
    if s == 1:
        return y
    n, c, d, h, w = y.shape
    z = y.new_zeros((n, c, d, s - 1, h, w))
    return cat([y.unsqueeze(3), z], 3).reshape(n, c, d * s, h, w)[:, :, : (d - 1) * s + 1]


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """``F.conv_transpose3d``: the gradient of conv3d w.r.t. its input, as torch's."""
    _check_conv_args("conv_transpose3d", input, weight, bias, groups, 3)
    if input._a.ndim == 4:
        return _batch_of_one(
            conv_transpose3d, input, weight, bias, stride, padding, output_padding, groups, dilation
        )
    fmt = conv_format(input._a, weight._a)  # torch's output format (channels_last_3d or C)
    sd, sh, sw = _ntuple(stride, 3)
    pd, ph, pw = _ntuple(padding, 3)
    od_, oh_, ow_ = _ntuple(output_padding, 3)
    dd, dh, dw = _ntuple(dilation, 3)
    N, Cin, D = input._a.shape[:3]
    kd = weight._a.shape[2]
    _check_transposed_channels(input, weight)  # the 5-D shapes (the taps see 4-D ones)
    if od_ < 0 or (od_ >= sd and od_ >= dd):
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding: {(od_, oh_, ow_)}, stride: {(sd, sh, sw)}, "
            f"dilation: {(dd, dh, dw)}"
        )
    full = (D - 1) * sd + dd * (kd - 1) + 1 + od_
    out_d = full - 2 * pd
    if out_d <= 0 or pd < 0:
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(str(v) for v in input._a.shape[2:])}). "
            "Calculated output size per channel is too small"
        )
    # every input depth slice through every depth tap of the kernel, as one batch of 2-D ones
    H, W = input._a.shape[3:]
    x2 = input.transpose(1, 2).reshape(N * D, Cin, H, W)
    y = None
    for k in range(kd):
        t = conv_transpose2d(
            x2, weight[:, :, k], None, (sh, sw), (ph, pw), (oh_, ow_), groups, (dh, dw)
        )
        t = t.reshape(N, D, *t.shape[1:]).transpose(1, 2)  # (N, OC, D, OH, OW)
        t = _spread_depth(t, sd)
        before, after = k * dd, full - k * dd - t.shape[2]
        parts = [t]
        if before:
            parts.insert(0, t.new_zeros((N, t.shape[1], before, *t.shape[3:])))
        if after:
            parts.append(t.new_zeros((N, t.shape[1], after, *t.shape[3:])))
        t = cat(parts, 2) if len(parts) > 1 else t
        y = t if y is None else y + t
    y = y[:, :, pd : pd + out_d]
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1, 1)
    return y.contiguous(memory_format=fmt)
