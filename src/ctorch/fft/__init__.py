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
from ..ops._util import named, wrap_dim

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


def _irfft_one(input, n, dim, name):
    """(output size, dim) of a 1-D c2r transform: ``n`` or the default ``2 * (m - 1)``."""
    if input._a.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(int(dim), input._a.ndim, name)
    s = _c2r_shape(input, None, (d,), None if n is None else int(n))
    _check_n(s[0])
    return s, (d,)


def _conj(x):
    from ..ops.complex import conj_physical

    return conj_physical(x)


# ------------------------------------------------------------------ the transforms
# Each transform is one function of (input, size, dim, norm, out, name) below, the size and
# dims resolved by ``args``: ``_one`` / ``_irfft_one`` for the 1-D transforms (size ``n``,
# one ``dim``), ``_nd_args`` / ``_c2r_args`` for the N-D ones (sizes ``s``, dims ``dim``).
def _fft(input, size, dim, norm, out, name, args, forward):
    s, dims = args(input, size, dim, name)
    return _c2c(input, s, dims, norm, forward, name, out)


def _rfft(input, size, dim, norm, out, name, args):
    s, dims = args(input, size, dim, name)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    return _r2c(input, s, dims, norm, name, out)


def _irfft(input, size, dim, norm, out, name, args):
    s, dims = args(input, size, dim, name)
    return _c2r(input, s, dims, norm, name, out)


def _hfft(input, size, dim, norm, out, name, irfft):
    """``irfft`` of the conjugate with the dual normalization."""
    norm = _S.check_norm(norm, name)
    return irfft(_conj(_S.float_input(input, name)), size, dim, _DUAL[norm], out=out)


def _ihfft(input, size, dim, norm, out, name, rfft):
    """The conjugate of ``rfft`` with the dual normalization (a real input)."""
    norm = _S.check_norm(norm, name)
    x = _S.float_input(input, name)
    _real_only(x, name)
    r = _conj(rfft(x, size, dim, _DUAL[norm]))
    if x.is_meta and not isinstance(dim, int):  # ihfft2/ihfftn: torch's meta layout
        s, dims = _nd_args(x, size, dim, name)
        r = r.as_strided(r.shape, _S.meta_ihfftn_strides(x._a, dims, s))
    return _out(out, r)


def _one_dim(name, doc, impl, *consts):
    """The public 1-D transform ``name``: torch's signature, ``impl(..., name, *consts)``."""

    def transform(
        input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None
    ):
        return impl(input, n, dim, norm, out, name, *consts)

    return named(transform, name, doc)


def _n_dim(name, doc, impl, *consts):
    """The public N-D transform ``name``: torch's signature, ``impl(..., name, *consts)``."""

    def transform(
        input: Tensor,
        s: Sequence[int] | None = None,
        dim: Sequence[int] | None = None,
        norm: str | None = None,
        *,
        out=None,
    ):
        return impl(input, s, dim, norm, out, name, *consts)

    return named(transform, name, doc)


def _two_dim(name, doc, nd):
    """The public 2-D transform ``name``: the N-D transform ``nd`` over the last two dims."""

    def transform(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None):
        return nd(input, s, dim, norm, out=out)

    return named(transform, name, doc)


# complex-to-complex
fft = _one_dim(
    "fft",
    """``torch.fft.fft``: the 1-D discrete Fourier transform along ``dim``.""",
    _fft,
    _one,
    True,
)
ifft = _one_dim(
    "ifft",
    """``torch.fft.ifft``: the 1-D inverse discrete Fourier transform along ``dim``.""",
    _fft,
    _one,
    False,
)
fftn = _n_dim(
    "fftn",
    """``torch.fft.fftn``: the N-D discrete Fourier transform over ``dim`` (default: all).""",
    _fft,
    _nd_args,
    True,
)
ifftn = _n_dim(
    "ifftn",
    """``torch.fft.ifftn``: the N-D inverse discrete Fourier transform.""",
    _fft,
    _nd_args,
    False,
)
fft2 = _two_dim(
    "fft2",
    """``torch.fft.fft2``: the 2-D discrete Fourier transform (the last two dims).""",
    fftn,
)
ifft2 = _two_dim(
    "ifft2", """``torch.fft.ifft2``: the 2-D inverse discrete Fourier transform.""", ifftn
)

# real-to-complex and back
rfft = _one_dim(
    "rfft",
    """``torch.fft.rfft``: the one-sided 1-D transform of a real signal (n // 2 + 1 bins).""",
    _rfft,
    _one,
)
irfft = _one_dim(
    "irfft",
    """``torch.fft.irfft``: the inverse of ``rfft``: a real signal of length ``n``
    (default ``2 * (m - 1)`` for ``m`` input bins).""",
    _irfft,
    _irfft_one,
)
rfftn = _n_dim(
    "rfftn",
    """``torch.fft.rfftn``: the N-D transform of a real signal, the last dim one-sided.""",
    _rfft,
    _nd_args,
)
irfftn = _n_dim(
    "irfftn",
    """``torch.fft.irfftn``: the inverse of ``rfftn`` (a real output).""",
    _irfft,
    _c2r_args,
)
rfft2 = _two_dim("rfft2", """``torch.fft.rfft2``.""", rfftn)
irfft2 = _two_dim("irfft2", """``torch.fft.irfft2``.""", irfftn)

# Hermitian
hfft = _one_dim(
    "hfft",
    """``torch.fft.hfft``: the transform of a Hermitian-symmetric signal given by its first
    half: a real output of length ``n`` (default ``2 * (m - 1)``); ``irfft`` of the conjugate
    with the dual normalization.""",
    _hfft,
    irfft,
)
ihfft = _one_dim(
    "ihfft",
    """``torch.fft.ihfft``: the inverse of ``hfft``: the conjugate of ``rfft`` with the dual
    normalization (a real input).""",
    _ihfft,
    rfft,
)
hfftn = _n_dim(
    "hfftn",
    """``torch.fft.hfftn``: the N-D ``hfft`` (the last dim Hermitian-halved).""",
    _hfft,
    irfftn,
)
ihfftn = _n_dim(
    "ihfftn",
    """``torch.fft.ihfftn``: the N-D inverse of ``hfftn`` (a real input).""",
    _ihfft,
    rfftn,
)
hfft2 = _two_dim("hfft2", """``torch.fft.hfft2``.""", hfftn)
ihfft2 = _two_dim("ihfft2", """``torch.fft.ihfft2``.""", ihfftn)


# ------------------------------------------------------------------ helpers
def _freq(name, doc, np_freq):
    """The public ``name``: the sample frequencies ``np_freq(n, d)`` as a tensor."""

    def freq(
        n: int,
        d: float = 1.0,
        *,
        out=None,
        dtype=None,
        layout=None,
        device=None,
        requires_grad: bool = False,
    ):
        from .._creation import _place

        dt = D.get_default_dtype() if dtype is None else D._as_dtype(dtype)
        a = np_freq(int(n), float(d)).astype(D.to_numpy_dtype(dt))
        return _out(out, _place(a, device, requires_grad))

    return named(freq, name, doc)


fftfreq = _freq(
    "fftfreq",
    """``torch.fft.fftfreq``: the sample frequencies of an ``n``-point transform.""",
    np.fft.fftfreq,
)
rfftfreq = _freq(
    "rfftfreq",
    """``torch.fft.rfftfreq``: the sample frequencies of an ``n``-point ``rfft``.""",
    np.fft.rfftfreq,
)


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
