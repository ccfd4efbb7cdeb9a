"""torch names added for issue #14 (group 1, part 2): ``combinations``, ``cumulative_trapezoid``,
``gradient`` (composed of differentiable ops, so autograd follows), ``histogram`` and
``histogramdd`` (counts: not differentiable, as in torch). NumPy's formulas, torch's errors.
"""

from __future__ import annotations

import builtins
import itertools
import numbers
from fractions import Fraction

import numpy as np

from .._backend import xp_of
from .._tensor import Tensor
from ._util import float_dtype_for, return_type, wrap_dim

_wrap = Tensor._make


def _need_tensor(name: str, arg: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


# --------------------------------------------------------------------------- combinations


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """``torch.combinations``: the length-``r`` combinations of a 1-D tensor's elements, one
    per row (``itertools.combinations`` order; with replacement, ``combinations_with_replacement``)."""
    _need_tensor("combinations", "input", input)
    a = input._a
    if a.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(a.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _wrap(xp_of(a).empty((0,), a.dtype))
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.fromiter(itertools.chain.from_iterable(gen(range(a.shape[0]), r)), np.int64)
    m = idx.size // r
    ind = _wrap(xp_of(a).asarray(idx))
    return input.index_select(0, ind).reshape(m, r)


# --------------------------------------------------------------------------- trapezoid


def _float_input(y: Tensor) -> Tensor:
    a = y._a
    return y if a.dtype.kind in "fcV" else y.to(float_dtype_for(a))


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """``torch.cumulative_trapezoid``: the running trapezoid-rule integral of ``y`` along
    ``dim`` (sample points ``x``, or a constant spacing ``dx``, default 1)."""
    _need_tensor("cumulative_trapezoid", "y", y)
    if x is not None and dx is not None:
        raise TypeError(
            "cumulative_trapezoid() received an invalid combination of arguments: give x or dx,"
            " not both"
        )
    if y._a.dtype.kind == "b":
        raise RuntimeError(
            "cumulative_trapezoid: received a bool input for `y`, but bool is not supported"
        )
    if y._a.ndim == 0:
        raise IndexError("cumulative_trapezoid(): slice() cannot be applied to a 0-dim tensor.")
    ax = wrap_dim(dim, y._a.ndim, "cumulative_trapezoid")
    n = y._a.shape[ax]
    yf = _float_input(y)
    if n == 0:
        return yf.narrow(ax, 0, 0)
    mid = (yf.narrow(ax, 1, n - 1) + yf.narrow(ax, 0, n - 1)) / 2
    if x is None:
        step = 1 if dx is None else dx
        return (mid * step).cumsum(ax)
    _need_tensor("cumulative_trapezoid", "x", x)
    xa = x._a
    if xa.ndim == 1:
        if xa.shape[0] != n:
            raise RuntimeError(
                "cumulative_trapezoid: There must be one `x` value for each sample point"
            )
        d = x[1:] - x[:-1]
        shape = [1] * y._a.ndim
        shape[ax] = n - 1
        d = d.reshape(shape)
    else:
        xd = wrap_dim(dim, xa.ndim, "cumulative_trapezoid")
        m = xa.shape[xd]
        if m != n:
            raise RuntimeError(
                "cumulative_trapezoid: There must be one `x` value for each sample point"
            )
        d = x.narrow(xd, 1, m - 1) - x.narrow(xd, 0, m - 1)
    return (mid * d).cumsum(ax)


# --------------------------------------------------------------------------- gradient


def _grad_uniform(f: Tensor, ax: int, h, edge_order: int) -> Tensor:
    n = f._a.shape[ax]
    interior = (f.narrow(ax, 2, n - 2) - f.narrow(ax, 0, n - 2)) / (2 * h)
    f0, f1, fl, fl1 = (f.narrow(ax, i, 1) for i in (0, 1, n - 1, n - 2))
    if edge_order == 1:
        first = (f1 - f0) / h
        last = (fl - fl1) / h
    else:
        f2, fl2 = f.narrow(ax, 2, 1), f.narrow(ax, n - 3, 1)
        first = (-1.5 * f0 + 2 * f1 - 0.5 * f2) / h
        last = (0.5 * fl2 - 2 * fl1 + 1.5 * fl) / h
    from .join import cat

    return cat([first, interior, last], ax)


def _grad_coords(f: Tensor, ax: int, x: Tensor, edge_order: int) -> Tensor:
    """NumPy's second-order formula for unevenly spaced sample points ``x`` (1-D)."""
    from .join import cat

    n = f._a.shape[ax]
    nd = f._a.ndim
    shape = [1] * nd
    shape[ax] = -1
    x = x.to(f.dtype) if x._a.dtype != f._a.dtype else x
    dx = (x[1:] - x[:-1]).reshape(shape)
    dx1 = dx.narrow(ax, 0, n - 2)
    dx2 = dx.narrow(ax, 1, n - 2)
    a = -dx2 / (dx1 * (dx1 + dx2))
    b = (dx2 - dx1) / (dx1 * dx2)
    c = dx1 / (dx2 * (dx1 + dx2))
    interior = a * f.narrow(ax, 0, n - 2) + b * f.narrow(ax, 1, n - 2) + c * f.narrow(ax, 2, n - 2)
    f0, f1, fl, fl1 = (f.narrow(ax, i, 1) for i in (0, 1, n - 1, n - 2))
    d0, dl = dx.narrow(ax, 0, 1), dx.narrow(ax, n - 2, 1)
    if edge_order == 1:
        first = (f1 - f0) / d0
        last = (fl - fl1) / dl
    else:
        d1, dl1 = dx.narrow(ax, 1, 1), dx.narrow(ax, n - 3, 1)
        f2, fl2 = f.narrow(ax, 2, 1), f.narrow(ax, n - 3, 1)
        a0 = -(2.0 * d0 + d1) / (d0 * (d0 + d1))
        b0 = (d0 + d1) / (d0 * d1)
        c0 = -d0 / (d1 * (d0 + d1))
        first = a0 * f0 + b0 * f1 + c0 * f2
        an = dl / (dl1 * (dl1 + dl))
        bn = -(dl + dl1) / (dl1 * dl)
        cn = (2.0 * dl + dl1) / (dl * (dl1 + dl))
        last = an * fl2 + bn * fl1 + cn * fl
    return cat([first, interior, last], ax)


def gradient(input: Tensor, *, spacing=1, dim=None, edge_order: int = 1) -> tuple:
    """``torch.gradient``: central differences in the interior and one-sided ones of order
    ``edge_order`` at the ends, along each of ``dim`` (all dimensions by default); ``spacing``
    is one number, one number per dimension, or one coordinate tensor per dimension."""
    _need_tensor("gradient", "input", input)
    a = input._a
    if a.dtype == np.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    if a.dtype.kind == "b":
        raise RuntimeError(
            "gradient(): Subtraction, the `-` operator, with two bool tensors is not supported."
            " Use the `^` or `logical_xor()` operator instead."
        )
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if dim is None:
        dims = list(range(a.ndim))
    elif isinstance(dim, numbers.Integral):
        dims = [wrap_dim(dim, a.ndim, "gradient")]
    else:
        dims = [wrap_dim(d, a.ndim, "gradient") for d in dim]
    if len(set(dims)) != len(dims):
        raise RuntimeError("torch.gradient: dim has repeated entries")
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(
                f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and"
                f" dim arguments to have the same length, but got a spacing argument of length"
                f" {len(spacing)} and a dim argument of length {len(dims)}."
            )
        sp = list(spacing)
    else:
        sp = [spacing] * len(dims)
    for d in dims:
        if a.shape[d] < edge_order + 1:
            raise RuntimeError(
                "torch.gradient expected each dimension size to be at least edge_order+1"
            )
    f = _float_input(input)
    out = []
    for d, s in zip(dims, sp, strict=True):
        if isinstance(s, Tensor) and s._a.ndim == 1:
            if s._a.shape[0] != a.shape[d]:
                raise RuntimeError(
                    f"torch.gradient expected each tensor to be on the same device and have "
                    f"{a.shape[d]} coordinates along dimension {d}, but got {s._a.shape[0]}"
                )
            out.append(_grad_coords(f, d, s, edge_order))
        else:
            h = s.item() if isinstance(s, Tensor) else s
            out.append(_grad_uniform(f, d, h, edge_order))
    return tuple(out)


# --------------------------------------------------------------------------- histograms


def _hist_dtype_check(name: str, a) -> None:
    if a.dtype.kind not in "f" or a.dtype == np.float16:
        from .surface5a import _SCALAR_NAMES

        scalar = {"float16": "Half", **_SCALAR_NAMES}.get(a.dtype.name, a.dtype.name)
        raise NotImplementedError(f"\"{name}\" not implemented for '{scalar}'")


def _edges(name, col, bins_d, rng, d, dtype):
    """Bin edges of one dimension: ``bins_d`` an int (uniform over ``rng`` or the data's
    min/max, widened by 0.5 when they agree) or a 1-D tensor of edges."""
    if isinstance(bins_d, Tensor):
        e = np.asarray(bins_d.detach().cpu()._a)
        if e.dtype != dtype:
            from .surface5a import _SCALAR_NAMES

            names = {"float32": "float", "float64": "double", **_SCALAR_NAMES}
            raise RuntimeError(
                "torch.histogramdd: input tensor and bins tensors should have the same dtype, but got"
                f" input with dtype {names.get(np.dtype(dtype).name)} and bins for dimension {d}"
                f" with dtype {names.get(e.dtype.name, e.dtype.name)}"
            )
        if e.ndim != 1 or e.size < 1:
            raise RuntimeError(
                "torch.histogramdd: bins tensor should have one dimension, but got {e.ndim} "
                f"dimensions in the bins tensor for dimension {d}"
            )
        return e.astype(dtype)
    nb = int(bins_d)
    if nb <= 0:
        raise RuntimeError(f"torch.{name}(): bins must be > 0, but got {nb} for dimension {d}")
    if rng is not None:
        lo, hi = float(rng[0]), float(rng[1])
    elif col.size:
        lo, hi = float(col.min()), float(col.max())
    else:
        lo, hi = 0.0, 0.0
    if lo > hi:
        raise RuntimeError(
            f"torch.histogramdd: min should not exceed max, but got min {lo:g} max {hi:g} for "
            f"dimension {d}"
        )
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(
            f"torch.histogramdd: dimension {d}'s range [{lo:g}, {hi:g}] is not finite"
        )
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
        if rng is None and not col.size:
            lo, hi = 0.0, 1.0
    return _torch_linspace(lo, hi, nb + 1, dtype)


def _round_to(f: Fraction, dt: np.dtype):
    """The ``dt`` value nearest to the exact rational ``f`` (one rounding, no double rounding)."""
    c = dt.type(float(f))
    if dt == np.float64:
        return c
    near = (np.nextafter(c, dt.type(-np.inf)), c, np.nextafter(c, dt.type(np.inf)))
    bits = np.uint16 if dt.itemsize == 2 else np.uint32
    # nearest; a tie goes to the even significand, as the hardware's fused multiply-add
    return min(near, key=lambda v: (abs(Fraction(float(v)) - f), int(np.array(v).view(bits)) & 1))


def _linspace_f32(s, e, step, steps: int) -> np.ndarray:
    """``_torch_linspace`` for float32, vectorized: ``step * k`` is exact in float64, the sum
    with ``s``/``e`` is made exact as a (hi, lo) pair (Knuth's TwoSum) and rounded to odd in
    float64, and float64 -> float32 of a round-to-odd value is the correctly rounded fma."""
    i = np.arange(steps)
    half = steps // 2
    base = np.where(i < half, np.float64(s), np.float64(e))
    prod = np.where(i < half, i, -(steps - 1 - i)).astype(np.float64) * np.float64(step)
    hi = base + prod
    bb = hi - base
    lo = (base - (hi - bb)) + (prod - bb)
    even = (hi.view(np.int64) & 1) == 0
    toward = np.where(lo > 0, np.inf, -np.inf)
    odd = np.where((lo != 0) & even, np.nextafter(hi, toward), hi)
    return odd.astype(np.float32)


def _torch_linspace(lo: float, hi: float, steps: int, dtype) -> np.ndarray:
    """torch's CPU ``linspace`` bit for bit: ``start + step * i`` for the first half and
    ``end - step * (steps - 1 - i)`` for the rest, each a fused multiply-add (one rounding),
    ``step`` rounded in ``dtype``. Bin edges then agree with torch's, and so do the counts of
    values that sit exactly on an edge (integer data)."""
    dt = np.dtype(dtype)
    s, e = dt.type(lo), dt.type(hi)
    step = dt.type(dt.type(e - s) / dt.type(steps - 1))
    if dt == np.float32 and steps < 2**29:
        return _linspace_f32(s, e, step, steps)
    fs, fe, fst = Fraction(float(s)), Fraction(float(e)), Fraction(float(step))
    half = steps // 2
    vals = [
        _round_to(fs + fst * i if i < half else fe - fst * (steps - 1 - i), dt)
        for i in builtins.range(steps)
    ]
    return np.array(vals, dt)


def _bin_positions(col, e):
    """Bin of each value of ``col`` for the increasing edges ``e`` (torch's rule: the bin whose
    left edge is the last one <= the value; the last bin also takes the rightmost edge), and
    which values fall inside. Uniform edges take a direct index plus one correction step against
    the edges, as torch's kernel; others a binary search."""
    nb = e.size - 1
    inside = (col >= e[0]) & (col <= e[-1])
    lo, hi = float(e[0]), float(e[-1])
    steps = np.diff(e.astype(np.float64))
    if nb > 1 and hi > lo and np.allclose(steps, (hi - lo) / nb, rtol=1e-5, atol=0):
        with np.errstate(all="ignore"):
            pos = ((col.astype(np.float64) - lo) * nb / (hi - lo)).astype(np.int64)
        pos = np.clip(pos, 0, nb - 1)
        pos = np.where(col < e[pos], pos - 1, pos)
        pos = np.clip(pos, 0, nb - 1)
        pos = np.where((pos < nb - 1) & (col >= e[np.minimum(pos + 1, nb)]), pos + 1, pos)
    else:
        pos = np.minimum(np.searchsorted(e, col, side="right") - 1, nb - 1)
    return pos, inside


def _bin_counts(x, edges, weight):
    """Counts (or summed ``weight``) of the rows of ``x`` over the grid of ``edges``."""
    shape = tuple(e.size - 1 for e in edges)
    keep = np.ones(x.shape[0], bool)
    positions = []
    for d, e in enumerate(edges):
        pos, inside = _bin_positions(x[:, d], e)
        keep &= inside
        positions.append(pos)
    flat = np.ravel_multi_index(tuple(p[keep] for p in positions), shape) if shape else None
    w = None if weight is None else weight[keep].astype(np.float64)
    size = int(np.prod(shape))
    return np.bincount(flat, weights=w, minlength=size)[:size].astype(np.float64).reshape(shape)


def _histdd(name, x, bins_list, rng_list, weight, density):
    """(hist, [edges]) of the rows of the 2-D NumPy array ``x``."""
    dims = x.shape[1]
    edges = [
        _edges(name, x[:, d], bins_list[d], rng_list[d] if rng_list else None, d, x.dtype)
        for d in range(dims)
    ]
    valid = [e.size >= 2 and bool(np.all(np.diff(e) >= 0)) for e in edges]
    if not all(valid):  # torch: decreasing edges catch nothing
        shape = tuple(max(e.size - 1, 0) for e in edges)
        return np.zeros(shape, x.dtype), edges
    hist = _bin_counts(x, edges, weight)
    if density:
        total = hist.sum()
        vol = np.ones(hist.shape)
        for d, e in enumerate(edges):
            shape = [1] * dims
            shape[d] = -1
            vol = vol * np.diff(e.astype(np.float64)).reshape(shape)
        with np.errstate(all="ignore"):
            hist = hist / (total * vol)
    return hist.astype(x.dtype), edges


def _host(a):
    return a if type(a) is np.ndarray else a.get()


def _check_weight(name, weight, shape, dtype):
    if weight is None:
        return None
    _need_tensor(name, "weight", weight)
    w = _host(weight._a)
    if w.dtype != dtype:
        raise RuntimeError(
            f"torch.{name}: if weight tensor is provided it should have the same dtype as the input tensor"
        )
    if w.shape != shape:
        raise RuntimeError(
            f"torch.{name}: if weight tensor is provided it should have the same shape as the input tensor excluding its innermost dimension"
        )
    return w.reshape(-1)


def histogram(input: Tensor, bins=100, *, range=None, weight=None, density: bool = False, out=None):
    """``torch.histogram``: counts (or weighted sums, or a density) of ``input``'s elements in
    ``bins`` equal bins over ``range`` (default: min..max), or between the edges of a tensor."""
    _need_tensor("histogram", "input", input)
    a = _host(input._a)
    _hist_dtype_check("histogramdd", a)
    w = _check_weight("histogram", weight, a.shape, a.dtype)
    rngs = None if range is None else [tuple(range)]
    hist, edges = _histdd("histogram", a.reshape(-1, 1), [bins], rngs, w, density)
    xp = xp_of(input._a)
    h, e = _wrap(xp.asarray(hist)), _wrap(xp.asarray(edges[0]))
    if out is not None:
        from ._util import with_out

        h, e = with_out(h, out[0]), with_out(e, out[1])
    return return_type("histogram", ("hist", "bin_edges"))(h, e)


def histogramdd(input: Tensor, bins=10, *, range=None, weight=None, density: bool = False):
    """``torch.histogramdd``: the D-dimensional histogram of the rows of ``input`` (..., D)."""
    _need_tensor("histogramdd", "input", input)
    a = _host(input._a)
    _hist_dtype_check("histogramdd", a)
    if a.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    dims = a.shape[-1]
    if isinstance(bins, (numbers.Integral, Tensor)) and not (
        isinstance(bins, Tensor) and bins._a.ndim == 1 and dims != 1
    ):
        bins_list = [bins] * dims
    else:
        bins_list = list(bins)
        if len(bins_list) != dims:
            raise RuntimeError(
                f"torch.histogramdd: expected {dims} sequences of bin edges for each of the "
                f"{dims} dimensions of the input, but got {len(bins_list)}"
            )
        if all(isinstance(b, Tensor) and b._a.ndim == 0 for b in bins_list):
            bins_list = [int(b.item()) for b in bins_list]
    rngs = None
    if range is not None:
        r = [float(v) for v in range]
        if len(r) != 2 * dims:
            raise RuntimeError(
                f"torch.histogramdd: for a {dims}-dimensional histogram range should have "
                f"{2 * dims} elements, but got {len(r)}"
            )
        rngs = [(r[2 * d], r[2 * d + 1]) for d in builtins.range(dims)]
    w = _check_weight("histogramdd", weight, a.shape[:-1], a.dtype)
    hist, edges = _histdd("histogramdd", a.reshape(-1, dims), bins_list, rngs, w, density)
    xp = xp_of(input._a)
    return return_type("histogramdd", ("hist", "bin_edges"))(
        _wrap(xp.asarray(hist)), tuple(_wrap(xp.asarray(e)) for e in edges)
    )


__all__ = ["combinations", "cumulative_trapezoid", "gradient", "histogram", "histogramdd"]

METHODS = {"histogram": histogram}
