"""``ctorch.fft``: torch's discrete Fourier transforms, with gradients.

The transforms are the three primitives of ``ctorch/ops/spectral.py`` (``scipy.fft`` on the
CPU, threaded with ``ctorch.get_num_threads()`` workers; ``cupy.fft`` on the GPU). Output
dtypes as torch: float32/complex64 inputs give complex64 (real outputs float32), float64 and
complex128 give complex128/float64, integer inputs are transformed in the default dtype.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..ops import spectral as _S
from ..ops._util import wrap_dim

__all__ = [
    "fft",
    "ifft",
    "fft2",
    "ifft2",
    "fftn",
    "ifftn",
    "rfft",
    "irfft",
    "rfft2",
    "irfft2",
    "rfftn",
    "irfftn",
    "hfft",
    "ihfft",
    "hfft2",
    "ihfft2",
    "hfftn",
    "ihfftn",
    "fftfreq",
    "rfftfreq",
    "fftshift",
    "ifftshift",
]

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


# ------------------------------------------------------------------ argument handling
def _out(out, r):
    if out is None:
        return r
    from ..ops.binary import _out as o

    return o(out, r)


def _check_n(n):
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _shape_and_dims(x: Tensor, s, dim, name):
    """torch's canonicalize_fft_shape_and_dim_args: (s with -1 resolved or None, dims)."""
    nd = x._a.ndim
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(wrap_dim(int(d), nd, name) for d in dims)
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    elif s is not None:
        if len(s) > nd:
            raise RuntimeError(
                f"Got shape with {len(s)} values but input tensor only has {nd} dimensions."
            )
        dims = tuple(range(nd - len(s), nd))
    else:
        dims = tuple(range(nd))
    if s is not None:
        s = tuple(x._a.shape[d] if int(n) == -1 else int(n) for n, d in zip(s, dims, strict=True))
        for n in s:
            _check_n(n)
    else:
        for d in dims:
            _check_n(x._a.shape[d])
    return s, dims


def _one(x, n, dim, name):
    if x._a.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(int(dim), x._a.ndim, name)
    s = None if n is None else (int(n),)
    _check_n(x._a.shape[d] if n is None else int(n))
    return s, (d,)


def _real_only(x, name):
    if x._a.dtype.kind == "c":
        from ..ops.complex import scalar_name

        raise RuntimeError(f"{name} expects a real input tensor, but got {scalar_name(x._a)}")


def _c2c(x, s, dims, norm, forward, name, out):
    x = _S.float_input(x, name)
    norm = _S.check_norm(norm, name)
    if not dims:  # nothing to transform: torch returns the input as complex
        return _out(out, x.to(x.dtype.to_complex()) if not x.is_complex() else x)
    return _out(out, _S.c2c(x, dims, s, norm, forward))


def _r2c(x, s, dims, norm, name, out):
    x = _S.float_input(x, name)
    _real_only(x, name)
    norm = _S.check_norm(norm, name)
    return _out(out, _S.r2c(x, dims, s, norm))


def _c2r_shape(x, s, dims, last_n):
    """Output sizes of a c2r transform: ``s`` (explicit) or the input sizes with the last
    dim ``2 * (m - 1)``."""
    if s is not None:
        return tuple(s)
    sizes = [x._a.shape[d] for d in dims]
    sizes[-1] = last_n if last_n is not None else 2 * (sizes[-1] - 1)
    _check_n(sizes[-1])
    return tuple(sizes)


def _c2r(x, s, dims, norm, name, out):
    x = _S.float_input(x, name)
    norm = _S.check_norm(norm, name)
    return _out(out, _S.c2r(x, dims, s, norm))


def _nd_args(x, s, dim, name):
    if isinstance(s, int):
        s = (s,)
    return _shape_and_dims(x, s, dim, name)


# ------------------------------------------------------------------ complex-to-complex
def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None):
    """``torch.fft.fft``: the 1-D discrete Fourier transform along ``dim``."""
    s, dims = _one(input, n, dim, "fft")
    return _c2c(input, s, dims, norm, True, "fft", out)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None):
    """``torch.fft.ifft``: the 1-D inverse discrete Fourier transform along ``dim``."""
    s, dims = _one(input, n, dim, "ifft")
    return _c2c(input, s, dims, norm, False, "ifft", out)


def fftn(
    input: Tensor,
    s: Sequence[int] | None = None,
    dim: Sequence[int] | None = None,
    norm: str | None = None,
    *,
    out=None,
):
    """``torch.fft.fftn``: the N-D discrete Fourier transform over ``dim`` (default: all)."""
    s, dims = _nd_args(input, s, dim, "fftn")
    return _c2c(input, s, dims, norm, True, "fftn", out)


def ifftn(
    input: Tensor,
    s: Sequence[int] | None = None,
    dim: Sequence[int] | None = None,
    norm: str | None = None,
    *,
    out=None,
):
    """``torch.fft.ifftn``: the N-D inverse discrete Fourier transform."""
    s, dims = _nd_args(input, s, dim, "ifftn")
    return _c2c(input, s, dims, norm, False, "ifftn", out)


def fft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None):
    """``torch.fft.fft2``: the 2-D discrete Fourier transform (the last two dims)."""
    return fftn(input, s, dim, norm, out=out)


def ifft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None):
    """``torch.fft.ifft2``: the 2-D inverse discrete Fourier transform."""
    return ifftn(input, s, dim, norm, out=out)


# ------------------------------------------------------------------ real-to-complex and back
def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None):
    """``torch.fft.rfft``: the one-sided 1-D transform of a real signal (n // 2 + 1 bins)."""
    s, dims = _one(input, n, dim, "rfft")
    return _r2c(input, s, dims, norm, "rfft", out)


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None):
    """``torch.fft.irfft``: the inverse of ``rfft``: a real signal of length ``n``
    (default ``2 * (m - 1)`` for ``m`` input bins)."""
    if input._a.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(int(dim), input._a.ndim, "irfft")
    s = _c2r_shape(input, None, (d,), None if n is None else int(n))
    _check_n(s[0])
    return _c2r(input, s, (d,), norm, "irfft", out)


def rfftn(
    input: Tensor,
    s: Sequence[int] | None = None,
    dim: Sequence[int] | None = None,
    norm: str | None = None,
    *,
    out=None,
):
    """``torch.fft.rfftn``: the N-D transform of a real signal, the last dim one-sided."""
    s, dims = _nd_args(input, s, dim, "rfftn")
    if not dims:
        raise RuntimeError("rfftn must transform at least one axis")
    return _r2c(input, s, dims, norm, "rfftn", out)


def irfftn(
    input: Tensor,
    s: Sequence[int] | None = None,
    dim: Sequence[int] | None = None,
    norm: str | None = None,
    *,
    out=None,
):
    """``torch.fft.irfftn``: the inverse of ``rfftn`` (a real output)."""
    s, dims = _c2r_args(input, s, dim, "irfftn")
    return _c2r(input, s, dims, norm, "irfftn", out)


def _c2r_args(input, s, dim, name):
    """(output sizes, dims) of an N-D c2r transform: ``s`` as given (-1: the input's size;
    in the last dim -1 means the default ``2 * (m - 1)``)."""
    if isinstance(s, int):
        s = (s,)
    last = None
    if s is not None:
        s = tuple(int(v) for v in s)
        last = None if s[-1] == -1 else s[-1]
        s_res, dims = _shape_and_dims(input, s[:-1] + (1,), dim, name)
        sizes = list(s_res[:-1])
    else:
        _, dims = _shape_and_dims(input, None, dim, name)
        sizes = [input._a.shape[d] for d in dims[:-1]]
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    n = last if last is not None else 2 * (input._a.shape[dims[-1]] - 1)
    _check_n(n)
    return tuple(sizes) + (n,), dims


def rfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None):
    """``torch.fft.rfft2``."""
    return rfftn(input, s, dim, norm, out=out)


def irfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None):
    """``torch.fft.irfft2``."""
    return irfftn(input, s, dim, norm, out=out)


# ------------------------------------------------------------------ Hermitian
def _conj(x):
    from ..ops.complex import conj_physical

    return conj_physical(x)


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None):
    """``torch.fft.hfft``: the transform of a Hermitian-symmetric signal given by its first
    half: a real output of length ``n`` (default ``2 * (m - 1)``); ``irfft`` of the conjugate
    with the dual normalization."""
    norm = _S.check_norm(norm, "hfft")
    return irfft(_conj(_S.float_input(input, "hfft")), n, dim, _DUAL[norm], out=out)


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None):
    """``torch.fft.ihfft``: the inverse of ``hfft``: the conjugate of ``rfft`` with the dual
    normalization (a real input)."""
    norm = _S.check_norm(norm, "ihfft")
    x = _S.float_input(input, "ihfft")
    _real_only(x, "ihfft")
    return _out(out, _conj(rfft(x, n, dim, _DUAL[norm])))


def hfftn(
    input: Tensor,
    s: Sequence[int] | None = None,
    dim: Sequence[int] | None = None,
    norm: str | None = None,
    *,
    out=None,
):
    """``torch.fft.hfftn``: the N-D ``hfft`` (the last dim Hermitian-halved)."""
    norm = _S.check_norm(norm, "hfftn")
    return irfftn(_conj(_S.float_input(input, "hfftn")), s, dim, _DUAL[norm], out=out)


def ihfftn(
    input: Tensor,
    s: Sequence[int] | None = None,
    dim: Sequence[int] | None = None,
    norm: str | None = None,
    *,
    out=None,
):
    """``torch.fft.ihfftn``: the N-D inverse of ``hfftn`` (a real input)."""
    norm = _S.check_norm(norm, "ihfftn")
    x = _S.float_input(input, "ihfftn")
    _real_only(x, "ihfftn")
    return _out(out, _conj(rfftn(x, s, dim, _DUAL[norm])))


def hfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None):
    """``torch.fft.hfft2``."""
    return hfftn(input, s, dim, norm, out=out)


def ihfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None):
    """``torch.fft.ihfft2``."""
    return ihfftn(input, s, dim, norm, out=out)


# ------------------------------------------------------------------ helpers
def _freq_tensor(a, dtype, device, requires_grad):
    from .._creation import _place

    dt = D.get_default_dtype() if dtype is None else D._as_dtype(dtype)
    return _place(a.astype(D.to_numpy_dtype(dt)), device, requires_grad)


def fftfreq(
    n: int,
    d: float = 1.0,
    *,
    out=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
):
    """``torch.fft.fftfreq``: the sample frequencies of an ``n``-point transform."""
    return _out(out, _freq_tensor(np.fft.fftfreq(int(n), float(d)), dtype, device, requires_grad))


def rfftfreq(
    n: int,
    d: float = 1.0,
    *,
    out=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
):
    """``torch.fft.rfftfreq``: the sample frequencies of an ``n``-point ``rfft``."""
    return _out(out, _freq_tensor(np.fft.rfftfreq(int(n), float(d)), dtype, device, requires_grad))


def _shift(input, dim, sign):
    nd = input._a.ndim
    if dim is None:
        dims = tuple(range(nd))
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(wrap_dim(int(d), nd, "fftshift") for d in dims)
    if not dims:
        return input
    shifts = tuple(sign * (input._a.shape[d] // 2) for d in dims)
    return input.roll(shifts, dims)


def fftshift(input: Tensor, dim=None) -> Tensor:
    """``torch.fft.fftshift``: move the zero frequency to the centre (a roll by n // 2)."""
    return _shift(input, dim, 1)


def ifftshift(input: Tensor, dim=None) -> Tensor:
    """``torch.fft.ifftshift``: the inverse of ``fftshift`` (a roll by -(n // 2))."""
    return _shift(input, dim, -1)
