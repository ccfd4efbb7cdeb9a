"""Sample statistics: ``cov`` and ``corrcoef`` (composed of differentiable ops, torch's
algorithm step by step), and ``histc`` (counts: not differentiable, as in torch)."""

from __future__ import annotations

import numpy as np

from .. import _warnings
from .._backend import xp_of
from .._meta import MetaArray
from .._tensor import Tensor
from ._util import float_dtype_for, with_out

_wrap = Tensor._make


def _check_weights(name: str, w: Tensor, n: int, integral: bool) -> None:
    a = w._a
    if a.ndim > 1:
        raise RuntimeError(
            f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
            f"{a.ndim} dimensions"
        )
    if integral and a.dtype.kind not in "iu":
        raise RuntimeError(
            f"cov(): expected {name} to have integral dtype but got {name} with {w.dtype} dtype"
        )
    if not integral and a.dtype.kind not in "fV":
        raise RuntimeError(
            f"cov(): expected {name} to have floating point dtype but got {name} with "
            f"{w.dtype} dtype"
        )
    if a.size != n:
        raise RuntimeError(
            f"cov(): expected {name} to have the same numel as there are observations in the "
            f"input but got {a.size} != {n}"
        )
    if a.size and bool((a < 0).any()):
        raise RuntimeError(f"cov(): {name} cannot be negative")


def cov(
    input: Tensor,
    *,
    correction: int = 1,
    fweights: Tensor | None = None,
    aweights: Tensor | None = None,
) -> Tensor:
    """``torch.cov``: the covariance of the rows (variables) over the columns (observations)."""
    return _cov(input, correction, fweights, aweights, "cov")


def _cov(input, correction, fweights, aweights, op: str) -> Tensor:
    a = input._a
    if a.ndim > 2:
        raise RuntimeError(
            f"{op}(): expected input to have two or fewer dimensions but got an input with "
            f"{a.ndim} dimensions"
        )
    if isinstance(correction, bool) or not isinstance(correction, (int, np.integer)):
        raise TypeError(
            f"cov(): argument 'correction' must be int, not {type(correction).__name__}"
        )
    if a.dtype.kind == "b":
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.reshape(1, -1) if a.ndim < 2 else input
    n = x._a.shape[1]
    w = None
    if fweights is not None:
        _check_weights("fweights", fweights, n, True)
        w = fweights
    if aweights is not None:
        _check_weights("aweights", aweights, n, False)
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = n  # a Python int: no host tensor next to a device input
        avg = x.sum(1) / w_sum
    else:
        w_sum = w.sum()
        if not bool(w_sum._a != 0):
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
        avg = (x * w).sum(1) / w_sum
    if w is not None and aweights is not None and correction != 0:
        norm = w_sum - correction * (w * aweights).sum() / w_sum
    else:
        norm = w_sum - correction
    if bool(norm <= 0):
        _warnings.warn(
            "cov(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "number of observations.",
            UserWarning,
        )
        norm = norm * 0  # torch: the division below then gives inf/NaN
    xc = x - avg.unsqueeze(1)
    rhs = xc * w if w is not None else xc
    if rhs._a.dtype.kind == "c":
        rhs = rhs.conj()
    c = xc @ rhs.t()
    return (c / norm).squeeze()


def corrcoef(input: Tensor) -> Tensor:
    """``torch.corrcoef``: Pearson's correlation coefficients of the rows, clipped to [-1, 1]."""
    c = _cov(input, 1, None, None, "corrcoef")
    if c._a.ndim == 0:
        return c / c
    d = c.diagonal()
    std = (d.real if d._a.dtype.kind == "c" else d).sqrt()
    c = c / std.reshape(-1, 1)
    c = c / std.reshape(1, -1)
    if c._a.dtype.kind == "c":
        return c
    return c.clamp(-1, 1)


def histc(
    input: Tensor,
    bins: int = 100,
    min: float = 0,  # noqa: A002
    max: float = 0,  # noqa: A002
    *,
    out=None,
) -> Tensor:
    """``torch.histc``: ``bins`` equal-width counts over [min, max] (the data's range when both
    are 0); values outside are ignored, ``max`` itself goes in the last bin."""
    a = input._a
    if a.dtype.kind not in "fV":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_tname(input)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    xp = xp_of(a)
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if type(a) is MetaArray:  # the meta device: ``bins`` counts, no range read from the data
        return with_out(_wrap(MetaArray((int(bins),), float_dtype_for(a))), out)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite")
    # torch's linear interpolation, in the input's dtype (its bin boundaries round the same);
    # float16/bfloat16 in float32 ((v - lo) * bins overflowed float16: negative bin indices;
    # torch 2.13 computes it in float16 and counts [1, 2, 65000, -1, 30000] as [5, 0, 0, 0])
    dt = a.dtype if a.dtype.kind == "f" and a.dtype.itemsize >= 4 else np.dtype(np.float32)
    v = a.reshape(-1).astype(dt, copy=False)
    lo_, hi_ = dt.type(lo), dt.type(hi)
    v = v[(v >= lo_) & (v <= hi_)]
    with np.errstate(over="ignore"):
        pos = ((v - lo_) * dt.type(bins) / (hi_ - lo_)).astype(np.int64)
    pos = xp.minimum(pos, bins - 1)  # max itself: the last bin
    counts = xp.bincount(pos, minlength=bins)[:bins]
    return with_out(_wrap(counts.astype(float_dtype_for(a))), out)


def _tname(t: Tensor) -> str:
    from .binary import _scalar_name

    return _scalar_name(t._a.dtype)
