"""Convolutions at the Tensor level: conv1d, conv2d, conv3d, conv_transpose1d,
conv_transpose2d (argument checks, torch's errors, autograd).

The array work (im2col + GEMM, the fused float32 kernels, scratch buffers) is in
``ops/conv_gemm.py``; im2col/col2im and unfold/fold, shared with pooling, in ``ops/im2col.py``.
Convolution and transposed convolution stay in one module on purpose: each is the other's
differentiable backward (create_graph), so splitting them would make an import cycle.
"""

from __future__ import annotations

from .._memfmt import conv_format, like_conv_input
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from .conv_gemm import (
    _conv2d_backward_arrays,
    _conv2d_forward_arrays,
    _convT_backward_arrays,
    _convT_forward_arrays,
)
from .conv_half import is_half_cpu
from .conv_trim import _ShapeOnly
from .im2col import _INT_MAX, _batch_of_one, _kernel_geometry, _ntuple, _out_size, _pair, unfold
from .spatial import pad

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d"]

_wrap = Tensor._make
_IntOrPair = int | tuple | list


def _half_native(x, *args) -> bool:
    """float32_compute's test: 16-bit CPU inputs run natively (``conv_half``: the float32
    kernels a batch chunk at a time, no whole-tensor float32 copies)."""
    return is_half_cpu(x._a)


class Conv2dFn(Function):
    _node_name = "ConvolutionBackward0"
    _half_native = staticmethod(_half_native)

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        _save_operands(ctx, x, w)
        ctx.geom = (stride, padding, dilation, groups)
        y = _conv2d_forward_arrays(
            x._a, w._a, None if b is None else b._a, stride, padding, dilation, groups
        )
        return _wrap(like_conv_input(y, x._a, w._a))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.geom
        nx, nw, nb = ctx.needs_input_grad[:3]
        if state.enabled:  # create_graph: the differentiable (slower) formulation
            return _conv2d_backward_graph(g, x, w, ctx, nx, nw, nb)
        xa, wa = _saved_arrays(ctx, x, w)
        grads = _conv2d_backward_arrays(g._a, xa, wa, stride, padding, dilation, groups, nx, nw, nb)
        return _wrapped(grads, 4)


def _save_operands(ctx, x, w) -> None:
    """Keep x for dW and w for dx (only those the backward will compute) and both shapes."""
    ctx.save_for_backward(
        x if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None
    )
    ctx.shapes = (x._a.shape, w._a.shape)


def _saved_arrays(ctx, x, w):
    """The arrays of the saved x and w, a shape-only stand-in for one not saved."""
    xs, ws = ctx.shapes
    return (x._a if x is not None else _ShapeOnly(xs)), (w._a if w is not None else _ShapeOnly(ws))


def _wrapped(grads, n_args: int) -> tuple:
    """(gx, gw, gb) arrays or None as tensors, then None for the ``n_args`` geometry args."""
    return (*(None if a is None else _wrap(a) for a in grads), *(None,) * n_args)


def _conv2d_backward_graph(g, x, w, ctx, nx, nw, nb):
    """Gradients as differentiable ops (only for create_graph=True / double backward)."""
    stride, padding, dilation, groups = ctx.geom
    xs, ws = ctx.shapes
    gx = gw = gb = None
    if nb:
        gb = g.sum((0, 2, 3))
    if nx:
        # dx = conv_transpose2d(g, w) with the geometry that restores the input size
        oh = (g.shape[2] - 1) * stride[0] - 2 * padding[0] + dilation[0] * (ws[2] - 1) + 1
        owd = (g.shape[3] - 1) * stride[1] - 2 * padding[1] + dilation[1] * (ws[3] - 1) + 1
        gx = conv_transpose2d(
            g, w, None, stride, padding, (xs[2] - oh, xs[3] - owd), groups, dilation
        )
    if nw:
        N, C, H, W = xs
        OC, Cg, kh, kw = ws
        cols = unfold(x, (kh, kw), dilation, padding, stride)  # (N, C*kh*kw, L)
        G = groups
        L = cols.shape[2]
        c5 = cols.reshape(N, G, Cg * kh * kw, L)
        g5 = g.reshape(N, G, OC // G, L)
        gw = (g5 @ c5.transpose(-1, -2)).sum(0).reshape(ws)
    return gx, gw, gb, None, None, None, None


def _check_conv_args(op, x, w, b, groups, nd):
    if not isinstance(x, Tensor) or not isinstance(w, Tensor):
        raise TypeError(f"{op}() expected Tensor arguments")
    if w._a.ndim != nd + 2:
        raise RuntimeError(
            f"{op}: Expected {nd + 2}-dimensional weight, but got weight of size {list(w._a.shape)}"
        )
    if x._a.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, "
            f"but got input of size: {list(x._a.shape)}"
        )
    if x._a.dtype != w._a.dtype:
        raise RuntimeError(f"Input type ({x.dtype}) and weight type ({w.dtype}) should be the same")
    if b is not None and b._a.dtype != x._a.dtype:
        raise RuntimeError(f"Input type ({x.dtype}) and bias type ({b.dtype}) should be the same")
    if x._a.dtype.kind not in "fcV":
        raise RuntimeError(f"\"{op}\" not implemented for '{x.dtype}'")
    if groups < 1:
        raise RuntimeError("non-positive groups is not supported")
    if 0 in w._a.shape[2:]:  # torch's oneDNN refuses it with an opaque message
        raise RuntimeError(
            f"{op}: the kernel must be non-empty, but got weight of size {list(w._a.shape)}"
        )


def _check_transposed_channels(input, weight) -> None:
    """torch's check that a batched ``input`` has the channels (dim 1) of a transposed
    convolution's ``weight`` (its dim 0)."""
    cin = input._a.shape[1]
    if weight._a.shape[0] != cin:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight._a.shape)}, expected "
            f"input{list(input._a.shape)} to have {weight._a.shape[0]} channels, but got {cin} "
            "channels instead"
        )


def _check_window(stride, padding, dilation) -> None:
    """torch's errors for a non-positive stride or dilation and a negative padding."""
    if min(stride) < 1:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) < 1:
        raise RuntimeError("dilation should be greater than zero")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")


def _same_padding(ks, dil):
    """Per-dim (left, right) padding for padding='same' (stride 1)."""
    out = []
    for k, d in zip(ks, dil, strict=False):
        total = d * (k - 1)
        out.append((total // 2, total - total // 2))
    return out


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _IntOrPair = 1,
    padding: _IntOrPair | str = 0,
    dilation: _IntOrPair = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution over (N, C, H, W) (or unbatched (C, H, W)) input, as torch's."""
    _check_conv_args("conv2d", input, weight, bias, groups, 2)
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if input._a.ndim == 3:
        return _batch_of_one(conv2d, input, weight, bias, stride, padding, dilation, groups)
    input, stride, padding, dilation = _conv2d_geometry(
        input, weight, bias, stride, padding, dilation, groups
    )
    # no-grad inference goes through apply too: measured (same process, interleaved, 1 thread)
    # +1.5-4.5 us against calling _conv2d_forward_arrays directly on a 1x3x8x8 input (a ~17 us
    # conv), lost in the noise on real layers (ms); one path is worth more than that
    return Conv2dFn.apply(input, weight, bias, stride, padding, dilation, groups)


def _conv2d_geometry(input, weight, bias, stride, padding, dilation, groups):
    """conv2d's checks and geometry: (input, possibly padded for an uneven 'same'; stride,
    padding, dilation as the kernels take them)."""
    ks = weight._a.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            lr = _same_padding(ks, dilation)
            if any(a != b for a, b in lr):
                input = pad(input, (0, lr[1][1] - lr[1][0], 0, lr[0][1] - lr[0][0]))
            padding = (lr[0][0], lr[1][0])
        else:
            raise RuntimeError(
                f"Invalid padding string '{padding}', should be one of ['valid', 'same']"
            )
    else:
        padding = _pair(padding, "padding")
    _check_window(stride, padding, dilation)
    N, C, H, W = input._a.shape
    OC, Cg = weight._a.shape[:2]
    if C != Cg * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight._a.shape)}, expected "
            f"input{list(input._a.shape)} to have {Cg * groups} channels, but got {C} "
            "channels instead"
        )
    if OC % groups:
        raise RuntimeError("out_channels must be divisible by groups")
    if bias is not None and tuple(bias._a.shape) != (OC,):
        raise RuntimeError(
            f"Given weight of size {list(weight._a.shape)}, expected bias to be "
            f"1-dimensional with {OC} elements, but got bias of size "
            f"{list(bias._a.shape)} instead"
        )
    oh = _out_size(H, ks[0], stride[0], padding[0], dilation[0])
    ow = _out_size(W, ks[1], stride[1], padding[1], dilation[1])
    if oh <= 0 or ow <= 0:
        raise RuntimeError(
            f"Calculated padded input size per channel: ({H + 2 * padding[0]} x "
            f"{W + 2 * padding[1]}). Kernel size: ({dilation[0] * (ks[0] - 1) + 1} x "
            f"{dilation[1] * (ks[1] - 1) + 1}). Kernel size can't be greater than actual "
            "input size"
        )
    stride, dilation = _kernel_geometry("conv2d", (H, W), ks, stride, padding, dilation, (oh, ow))
    return input, stride, padding, dilation


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _IntOrPair = 1,
    padding: _IntOrPair | str = 0,
    dilation: _IntOrPair = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution over (N, C, L) (or unbatched (C, L)) input: conv2d with H=1."""
    _check_conv_args("conv1d", input, weight, bias, groups, 1)
    if input._a.ndim == 2:
        return _batch_of_one(conv1d, input, weight, bias, stride, padding, dilation, groups)
    (s,) = _ntuple(stride, 1, "stride")
    (d,) = _ntuple(dilation, 1, "dilation")
    if isinstance(padding, str):  # 'same'/'valid': conv2d's padding logic, over an H of 1
        y = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), padding, (1, d), groups)
        return y.squeeze(2)
    (p,) = _ntuple(padding, 1, "padding")
    x4, w4 = _wrap(input._a[:, :, None]), _wrap(weight._a[:, :, None])  # for the checks only
    _, st, pd, dl = _conv2d_geometry(x4, w4, bias, (1, s), (0, p), (1, d), groups)
    return Conv1dFn.apply(input, weight, bias, st, pd, dl, groups)


class Conv1dFn(Conv2dFn):
    """conv1d as one node (torch's ``ConvolutionBackward0``): the conv2d kernels over an H of 1,
    the 3-D tensors in and out."""

    _node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        _save_operands(ctx, x, w)
        ctx.shapes = tuple(a.shape[:2] + (1,) + a.shape[2:] for a in (x._a, w._a))
        ctx.geom = (stride, padding, dilation, groups)
        ba = None if b is None else b._a
        y = _conv2d_forward_arrays(
            x._a[:, :, None], w._a[:, :, None], ba, stride, padding, dilation, groups
        )
        return _wrap(y[:, :, 0])

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.geom
        nx, nw, nb = ctx.needs_input_grad[:3]
        if state.enabled:  # create_graph: conv2d's differentiable formulation, squeezed
            x4 = None if x is None else x.unsqueeze(2)
            w4 = None if w is None else w.unsqueeze(2)
            gx, gw, gb, *rest = _conv2d_backward_graph(g.unsqueeze(2), x4, w4, ctx, nx, nw, nb)
            return (
                None if gx is None else gx.squeeze(2),
                None if gw is None else gw.squeeze(2),
                gb,
                *rest,
            )
        xs, ws = ctx.shapes
        xa = x._a[:, :, None] if x is not None else _ShapeOnly(xs)
        wa = w._a[:, :, None] if w is not None else _ShapeOnly(ws)
        gx, gw, gb = _conv2d_backward_arrays(
            g._a[:, :, None], xa, wa, stride, padding, dilation, groups, nx, nw, nb
        )
        return _wrapped(
            (None if gx is None else gx[:, :, 0], None if gw is None else gw[:, :, 0], gb), 4
        )


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _IntOrPair = 1,
    padding: _IntOrPair | str = 0,
    dilation: _IntOrPair = 1,
    groups: int = 1,
) -> Tensor:
    """3-D convolution, composed of one conv2d per depth tap (autograd through the ops).

    Not a hot path: correct and torch-compatible, not tuned.
    """
    _check_conv_args("conv3d", input, weight, bias, groups, 3)
    if input._a.ndim == 4:
        return _batch_of_one(conv3d, input, weight, bias, stride, padding, dilation, groups)
    fmt = conv_format(input._a, weight._a)  # torch's output format (channels_last_3d or C)
    sd, sh, sw = _ntuple(stride, 3, "stride")
    dd, dh, dw = _ntuple(dilation, 3, "dilation")
    kd = weight._a.shape[2]
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0)
        elif padding == "same":
            if (sd, sh, sw) != (1, 1, 1):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            lr = _same_padding(weight._a.shape[2:], (dd, dh, dw))
            if any(a != b for a, b in lr):
                input = pad(
                    input, (0, lr[2][1] - lr[2][0], 0, lr[1][1] - lr[1][0], 0, lr[0][1] - lr[0][0])
                )
            pads = tuple(a for a, _ in lr)
        else:
            raise RuntimeError(f"Invalid padding string '{padding}'")
    else:
        pads = _ntuple(padding, 3, "padding")
    pd, ph, pw = pads
    # depth runs through Python slicing (any int64 stride is fine); a depth padding above
    # 2**31-1 would only fail in the allocation of the padded copy
    if pd > _INT_MAX or min(pads) < 0:
        _check_window((sd, sh, sw), pads, (dd, dh, dw))
        raise RuntimeError(
            f"conv3d: geometry too large: padding={tuple(pads)}; ctorch supports values and "
            "padded sizes up to 2**31-1"
        )
    if pd:
        input = pad(input, (0, 0, 0, 0, pd, pd))
    N, C, D = input.shape[:3]
    od = (D - dd * (kd - 1) - 1) // sd + 1
    if od <= 0:
        raise RuntimeError("conv3d: kernel size can't be greater than actual input size")
    y = None
    for k in range(kd):
        xs = input[:, :, k * dd : k * dd + sd * (od - 1) + 1 : sd]  # (N, C, od, H, W)
        x2 = xs.transpose(1, 2).reshape(N * od, C, *xs.shape[3:])
        t = conv2d(x2, weight[:, :, k], None, (sh, sw), (ph, pw), (dh, dw), groups)
        y = t if y is None else y + t
    OC = weight.shape[0]
    y = y.reshape(N, od, OC, *y.shape[2:]).transpose(1, 2)
    if bias is not None:
        y = y + bias.reshape(1, OC, 1, 1, 1)
    return y.contiguous(memory_format=fmt)


class ConvTranspose2dFn(Function):
    _node_name = "ConvolutionBackward0"
    _half_native = staticmethod(_half_native)

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, output_padding, groups, dilation):
        _save_operands(ctx, x, w)
        ctx.geom = (stride, padding, output_padding, groups, dilation)
        y = _convT_forward_arrays(
            x._a,
            w._a,
            None if b is None else b._a,
            stride,
            padding,
            output_padding,
            groups,
            dilation,
        )
        return _wrap(like_conv_input(y, x._a, w._a))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, padding, output_padding, groups, dilation = ctx.geom
        nx, nw, nb = ctx.needs_input_grad[:3]
        xs, ws = ctx.shapes
        if state.enabled:
            gx = gw = gb = None
            if nb:
                gb = g.sum((0, 2, 3))
            if nx:
                gx = conv2d(g, w, None, stride, padding, dilation, groups)
            if nw:
                N, Cin, H, W = xs
                _, OCg, kh, kw = ws
                G = groups
                cols = unfold(g, (kh, kw), dilation, padding, stride)
                c5 = cols.reshape(N, G, OCg * kh * kw, H * W)
                x5 = x.reshape(N, G, Cin // G, H * W)
                gw = (x5 @ c5.transpose(-1, -2)).sum(0).reshape(ws)
            return gx, gw, gb, None, None, None, None, None
        xa, wa = _saved_arrays(ctx, x, w)
        grads = _convT_backward_arrays(g._a, xa, wa, stride, padding, groups, dilation, nx, nw, nb)
        return _wrapped(grads, 5)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _IntOrPair = 1,
    padding: _IntOrPair = 0,
    output_padding: _IntOrPair = 0,
    groups: int = 1,
    dilation: _IntOrPair = 1,
) -> Tensor:
    """Transposed 2-D convolution (the gradient of conv2d w.r.t. its input), as torch's."""
    _check_conv_args("conv_transpose2d", input, weight, bias, groups, 2)
    if input._a.ndim == 3:
        return _batch_of_one(
            conv_transpose2d, input, weight, bias, stride, padding, output_padding, groups, dilation
        )
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    output_padding, dilation = _pair(output_padding, "output_padding"), _pair(dilation, "dilation")
    _check_window(stride, padding, dilation)
    for op_, s, d in zip(output_padding, stride, dilation, strict=False):
        if op_ < 0 or (op_ >= s and op_ >= d):
            raise RuntimeError(
                "output padding must be smaller than either stride or dilation, "
                f"but got output_padding: {output_padding}, stride: {stride}, "
                f"dilation: {dilation}"
            )
    N, Cin, H, W = input._a.shape
    _check_transposed_channels(input, weight)
    if Cin % groups:
        raise RuntimeError("in_channels must be divisible by groups")
    OC = weight._a.shape[1] * groups
    if bias is not None and tuple(bias._a.shape) != (OC,):
        raise RuntimeError(
            f"Given transposed weight of size {list(weight._a.shape)}, expected "
            f"bias to have {OC} elements, but got {list(bias._a.shape)}"
        )
    kh, kw = weight._a.shape[2:]
    for i, (n, k) in enumerate(((H, kh), (W, kw))):
        o = (n - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k - 1) + output_padding[i] + 1
        if o <= 0:
            raise RuntimeError(
                f"Given input size per channel: ({H} x {W}). Calculated output "
                "size per channel is too small"
            )
        if o > _INT_MAX:  # col2im's C ints; torch wraps the stride to int32 here instead
            raise RuntimeError(
                f"conv_transpose2d: calculated output size {o} is above 2**31-1 (stride="
                f"{stride}, padding={padding}, output_padding={output_padding}, dilation="
                f"{dilation})"
            )
    # stride matters between two inputs, dilation between two taps
    stride, dilation = _kernel_geometry(
        "conv_transpose2d", (H, W), (kh, kw), stride, padding, dilation, (H, W), True
    )
    return ConvTranspose2dFn.apply(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _IntOrPair = 1,
    padding: _IntOrPair = 0,
    output_padding: _IntOrPair = 0,
    groups: int = 1,
    dilation: _IntOrPair = 1,
) -> Tensor:
    """Transposed 1-D convolution: conv_transpose2d with H=1 (the 1-D shapes in errors)."""
    _check_conv_args("conv_transpose1d", input, weight, bias, groups, 1)
    if input.dim() == 3:
        _check_transposed_channels(input, weight)
    if input.dim() == 2:
        return _batch_of_one(
            conv_transpose1d, input, weight, bias, stride, padding, output_padding, groups, dilation
        )
    (s,) = _ntuple(stride, 1)
    (p,) = _ntuple(padding, 1)
    (op_,) = _ntuple(output_padding, 1)
    (d,) = _ntuple(dilation, 1)
    y = conv_transpose2d(
        input.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), (0, p), (0, op_), groups, (1, d)
    )
    return y.squeeze(2)
