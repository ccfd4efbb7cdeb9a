"""Sliding windows shared by convolution and pooling: argument parsing (``_ntuple``), window
geometry (``_out_size``, ``_kernel_geometry``), im2col/col2im on arrays (our kernels, with a
NumPy/CuPy fallback over the taps) and their differentiable Tensor forms ``unfold``/``fold``.

The lowest module of the conv/pooling family: it imports no other op module, and
``conv_gemm``, ``conv_wide``, ``conv_trim``, ``conv``, ``max_pool``, ``avg_pool`` and ``pooling3d`` import it.
"""

from __future__ import annotations

from .._backend import contiguous, float_kernels, xp_of
from .._geometry import Window2d, out_size
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state

__all__ = ["unfold", "fold"]

_wrap = Tensor._make
_IntOrPair = int | tuple | list


def _int64(v) -> int:
    """int(v), refusing what torch's int64 argument parser refuses (same message)."""
    v = int(v)
    if not -(2**63) <= v < 2**63:
        raise ValueError("Overflow when unpacking long long")
    return v


def _ntuple(v, n: int, name: str = "") -> tuple:
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return (_int64(v[0]),) * n
        if len(v) != n:
            raise RuntimeError(
                f"expected {name} to be a single integer value or a list of {n} "
                f"values, but got {list(v)}"
            )
        return tuple(_int64(a) for a in v)
    return (_int64(v),) * n


_INT_MAX = 2**31 - 1


def _kernel_geometry(op, sizes, ks, stride, padding, dilation, outs, transposed=False):
    """(stride, dilation) for the C kernels, whose geometry fields are 32-bit ints.

    torch takes any int64 here.  A stride only matters between two outputs (or, for the
    transposed conv, two inputs: ``outs`` is then the input size) and a dilation only between
    two taps, so a stride with one output and a dilation of a 1-tap kernel become 1 (same
    result; ``stride=2**32`` reached C as 0 and killed the process with SIGFPE).  What is
    still above 2**31-1 after that (a padding, or a padded size) describes an array far too
    large for memory (torch fails to allocate it): a RuntimeError here instead of a wrapped
    value in the kernel.
    """
    dilation = tuple(1 if k <= 1 else d for d, k in zip(dilation, ks, strict=True))
    # one output: the smallest stride that still gives one (the sizes are recomputed from
    # it); transposed (outs = input sizes), one input: (H - 1) * stride is 0 for any stride
    stride = tuple(
        s if o > 1 else 1 if transposed else max(1, min(s, n + 2 * p - d * (k - 1)))
        for s, o, n, p, d, k in zip(stride, outs, sizes, padding, dilation, ks, strict=True)
    )
    for n, k, s, p, d, o in zip(sizes, ks, stride, padding, dilation, outs, strict=True):
        if max(k, s, p, d, o, n + 2 * p, d * (k - 1) + 1) > _INT_MAX:
            raise RuntimeError(
                f"{op}: geometry too large: kernel_size={tuple(ks)}, stride={tuple(stride)}, "
                f"padding={tuple(padding)}, dilation={tuple(dilation)} for spatial size "
                f"{tuple(sizes)}; ctorch supports values and padded sizes up to 2**31-1"
            )
    return stride, dilation


def _pair(v, name: str = "") -> tuple:
    return _ntuple(v, 2, name)


_out_size = out_size


# --------------------------------------------------------------------------- array level
def _batch_of_one(fn, input, *args):
    """torch's unbatched input: ``fn`` on ``input`` as a batch of one, that batch dim dropped
    again from its result (or from each of its results)."""
    out = fn(input.unsqueeze(0), *args)
    if isinstance(out, tuple):
        return tuple(o.squeeze(0) for o in out)
    return out.squeeze(0)


def _right_pad(n, k, s, p, d, o):
    """Padding after the input so that every window (also ceil_mode's last) is in range."""
    return max(p, (o - 1) * s + d * (k - 1) + 1 - n - p)


def _padded_taps(geo: Window2d) -> tuple[int, int, list[tuple[int, int, slice, slice]]]:
    """The array fallbacks' layout: the padding after the input (rows, columns) and, for
    each kernel tap (ki, kj), the strided rows and columns of the padded input that its
    column entries read (im2col) or add to (col2im)."""
    N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geo
    rh, rw = _right_pad(H, kh, sh, ph, dh, oh), _right_pad(W, kw, sw, pw, dw, ow)
    taps = [
        (
            ki,
            kj,
            slice(ki * dh, ki * dh + sh * (oh - 1) + 1, sh),
            slice(kj * dw, kj * dw + sw * (ow - 1) + 1, sw),
        )
        for ki in range(kh)
        for kj in range(kw)
    ]
    return rh, rw, taps


def im2col_array(x, geo: Window2d, out=None):
    """cols (N, C*kh*kw, oh*ow) from x (N, C, H, W); zero outside the input."""
    xp = xp_of(x)
    x = contiguous(x)
    cols = out if out is not None else xp.empty(geo.cols_shape, x.dtype)
    k = float_kernels(x, "im2col")
    if k is not None:
        k.im2col(x.reshape(-1), cols.reshape(-1), geo)
        return cols
    N, C, H, W, kh, kw, _, _, ph, pw, _, _, oh, ow = geo
    rh, rw, taps = _padded_taps(geo)
    xpad = x.reshape(N, C, H, W)
    if ph or pw or rh or rw:
        xpad = xp.pad(xpad, ((0, 0), (0, 0), (ph, rh), (pw, rw)))
    c6 = cols.reshape(N, C, kh, kw, oh, ow)
    for ki, kj, rows, columns in taps:
        c6[:, :, ki, kj] = xpad[:, :, rows, columns]
    return cols


def col2im_array(cols, geo: Window2d, out=None):
    """x (N, C, H, W) = sum of the patches of cols (the adjoint of im2col)."""
    xp = xp_of(cols)
    cols = contiguous(cols)
    x = out if out is not None else xp.empty(geo.x_shape, cols.dtype)
    k = float_kernels(cols, "col2im")
    if k is not None:
        k.col2im(cols.reshape(-1), x.reshape(-1), geo)
        return x
    N, C, H, W, kh, kw, _, _, ph, pw, _, _, oh, ow = geo
    rh, rw, taps = _padded_taps(geo)
    xpad = xp.zeros((N, C, H + ph + rh, W + pw + rw), cols.dtype)
    c6 = cols.reshape(N, C, kh, kw, oh, ow)
    for ki, kj, rows, columns in taps:
        xpad[:, :, rows, columns] += c6[:, :, ki, kj]
    x[...] = xpad[:, :, ph : ph + H, pw : pw + W]
    return x


# --------------------------------------------------------------------------- unfold / fold
class UnfoldFn(Function):
    _node_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, geo):
        ctx.geo = geo
        return _wrap(im2col_array(x._a, geo))

    @staticmethod
    def backward(ctx, g):
        if state.enabled:
            return FoldFn.apply(g, ctx.geo), None
        return _wrap(col2im_array(g._a, ctx.geo)), None


class FoldFn(Function):
    _node_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, cols, geo):
        ctx.geo = geo
        return _wrap(col2im_array(cols._a, geo))

    @staticmethod
    def backward(ctx, g):
        if state.enabled:
            return UnfoldFn.apply(g, ctx.geo), None
        return _wrap(im2col_array(g._a, ctx.geo)), None


def _check_im2col_args(kh, kw, sh, sw, ph, pw, dh, dw) -> None:
    """torch's im2col/col2im argument errors (unfold/fold)."""
    if kh <= 0 or kw <= 0:
        raise RuntimeError(
            f"kernel size should be greater than zero, but got kernel_height: {kh} "
            f"kernel_width: {kw}"
        )
    if sh <= 0 or sw <= 0:
        raise RuntimeError(
            f"stride should be greater than zero, but got stride_height: {sh} stride_width: {sw}"
        )
    if dh <= 0 or dw <= 0:
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilation_height: {dh} "
            f"dilation_width: {dw}"
        )
    if ph < 0 or pw < 0:
        raise RuntimeError(
            f"padding should be non-negative, but got pad_height: {ph} pad_width: {pw}"
        )


def unfold(
    input: Tensor,
    kernel_size: _IntOrPair,
    dilation: _IntOrPair = 1,
    padding: _IntOrPair = 0,
    stride: _IntOrPair = 1,
) -> Tensor:
    """Extract sliding local blocks: (N, C, H, W) -> (N, C*kh*kw, L)."""
    if input._a.ndim == 3:
        return _batch_of_one(unfold, input, kernel_size, dilation, padding, stride)
    if input._a.ndim != 4:
        raise RuntimeError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {input._a.ndim}D)"
        )
    kh, kw = _pair(kernel_size)
    dh, dw = _pair(dilation)
    ph, pw = _pair(padding)
    sh, sw = _pair(stride)
    _check_im2col_args(kh, kw, sh, sw, ph, pw, dh, dw)
    N, C, H, W = input._a.shape
    oh, ow = _out_size(H, kh, sh, ph, dh), _out_size(W, kw, sw, pw, dw)
    if oh < 1 or ow < 1:
        raise RuntimeError(
            f"Given input with spatial size ({H}, {W}), kernel_size=({kh}, {kw}), "
            f"dilation=({dh}, {dw}), padding=({ph}, {pw}), calculated shape of "
            f"the array of sliding blocks as ({oh}, {ow}), but its components "
            "must be at least one."
        )
    (sh, sw), (dh, dw) = _kernel_geometry(
        "unfold", (H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow)
    )
    return UnfoldFn.apply(input, Window2d(N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow))


def fold(
    input: Tensor,
    output_size: _IntOrPair,
    kernel_size: _IntOrPair,
    dilation: _IntOrPair = 1,
    padding: _IntOrPair = 0,
    stride: _IntOrPair = 1,
) -> Tensor:
    """Combine sliding local blocks into a tensor (sums overlaps): the adjoint of unfold."""
    if input._a.ndim == 2:
        return _batch_of_one(fold, input, output_size, kernel_size, dilation, padding, stride)
    if input._a.ndim != 3:
        raise RuntimeError(
            "Input Error: Only unbatched (2D) or batched (3D) input Tensors are "
            f"supported (got {input._a.ndim}D)"
        )
    H, W = _pair(output_size)
    kh, kw = _pair(kernel_size)
    dh, dw = _pair(dilation)
    ph, pw = _pair(padding)
    sh, sw = _pair(stride)
    _check_im2col_args(kh, kw, sh, sw, ph, pw, dh, dw)
    N, CK, L = input._a.shape
    if CK % (kh * kw):
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product "
            f"of kernel_size, but got input.size(1)={CK} and "
            f"kernel_size=({kh}, {kw})"
        )
    C = CK // (kh * kw)
    oh, ow = _out_size(H, kh, sh, ph, dh), _out_size(W, kw, sw, pw, dw)
    if oh * ow != L:
        raise RuntimeError(
            f"Given output_size=({H}, {W}), kernel_size=({kh}, {kw}), "
            f"dilation=({dh}, {dw}), padding=({ph}, {pw}), stride=({sh}, {sw}), "
            f"expected size of input's dimension 2 to match the calculated number "
            f"of sliding blocks {oh} * {ow} = {oh * ow}, but got input.size(2)={L}."
        )
    (sh, sw), (dh, dw) = _kernel_geometry(
        "fold", (H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow)
    )
    return FoldFn.apply(input, Window2d(N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow))


def _is_1x1(kh, kw, sh, sw, ph, pw):
    """Whether a conv window is 1x1, stride 1, unpadded: its columns are the input itself."""
    return kh == 1 and kw == 1 and sh == 1 and sw == 1 and ph == 0 and pw == 0


def _window(xshape, wshape, stride, padding, dilation, out) -> Window2d:
    """The kernels' window over x (N, C, H, W) with the weight's (kh, kw) taps, giving the
    spatial size ``out`` (for the transposed conv, x is the output and ``out`` the input)."""
    return Window2d(*xshape, *wshape[-2:], *stride, *padding, *dilation, *out)
