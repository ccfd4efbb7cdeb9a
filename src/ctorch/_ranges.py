"""torch's CPU ``linspace``, bit for bit.

torch (``RangeFactoriesKernel.cpp``) computes ``step = (end - start) / (steps - 1)`` in the
output's floating type (double for an integer output, whose ``start``/``end`` are first cast
to it) and each value as ``start + step * i`` for the first half and ``end - step * (steps -
1 - i)`` for the second, each one fused multiply-add (one rounding; checked against torch
2.13 on thousands of ranges, float32/float64/int8-int64, up to 70001 steps). NumPy has no FMA,
and the plain two-rounding formula differed from torch in the last bit on about a third of
the values: here C's ``fma``/``fmaf`` compute them (``_core._smallops``).
"""

from __future__ import annotations

import numpy as np

from ._core._smallops import fma_apply as _fma_apply


def _fma(a, b: np.ndarray, c: np.ndarray, dt) -> np.ndarray:
    """Correctly rounded ``a * b + c`` in float32/float64 ``dt``, as one hardware FMA gives
    it (C's ``fmaf``/``fma``)."""
    out = np.empty(b.shape[0], dt)
    _fma_apply(float(a), np.ascontiguousarray(b, dt), np.ascontiguousarray(c, dt), out)
    return out


def _fma_exact(a: float, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return _fma(a, b, c, np.float64)


def _fma32(a: np.float32, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return _fma(a, b, c, np.float32)


def linspace_values(start, end, steps: int, dt: np.dtype) -> np.ndarray | None:
    """torch's CPU linspace of a float32/float64/integer ``dt`` (None for other dtypes)."""
    dt = np.dtype(dt)
    if dt.kind not in "fiu" or (dt.kind == "f" and dt.itemsize < 4):
        return None
    if steps <= 1:
        return np.array([start] * steps, dtype=dt)
    if dt.kind == "f":
        ct = dt  # torch computes in the output type
        s, e = ct.type(start), ct.type(end)
    else:  # integer outputs: start/end cast to the type, the step in double
        ct = np.dtype(np.float64)
        s = ct.type(np.array(start).astype(dt))
        e = ct.type(np.array(end).astype(dt))
    with np.errstate(all="ignore"):
        step = (e - s) / ct.type(steps - 1)
    fma = _fma32 if ct == np.float32 else _fma_exact
    half = steps // 2
    lo = np.arange(half).astype(ct)  # i for i < half (float32(i): torch converts the index)
    hi = np.arange(steps - 1 - half, -1, -1).astype(ct)  # steps - 1 - i for the rest
    vals = np.concatenate(
        [fma(step, lo, np.full(half, s, ct)), fma(-step, hi, np.full(steps - half, e, ct))]
    )
    return vals if dt.kind == "f" else vals.astype(dt)


_GRAIN = 32768  # at::internal::GRAIN_SIZE: torch splits a longer arange over its threads


def arange_values(start, end, step, n: int, dt: np.dtype, threads: int = 1) -> np.ndarray | None:
    """torch's CPU ``arange`` of ``n`` values in ``dt`` when a float is involved (None where
    the plain formula is torch's answer: small exact values, half types).

    Floating outputs (``arange_kernel``): the values are computed in double (torch's CPU
    accumulate type) through ``Vectorized`` blocks of 32 bytes (4 doubles, 8 floats; measured
    on an AVX-512 machine, where ``linspace`` uses none), in pairs: a block's first value is
    ``fma(step, i, start)``, rounded to the output type, and its others ``fma(k, step,
    first)``; the values past the last pair are ``fma(step, i, start)``. Past 32768 values
    each of torch's threads starts its own blocks. Integer outputs (with a float start, end or
    step): torch truncates ``start`` and ``step`` to integers and steps in int64; int64
    output truncates ``end`` too and counts in integers, the others count
    ``ceil((end - start) / step)`` in double, so ``arange(0, 3, 1.5, dtype=int64)`` is
    [0, 1, 2] and int32 gives [0, 1]."""
    dt = np.dtype(dt)
    if dt.kind in "iu":
        xs, xst = int(start), int(step)  # C's truncation toward zero
        if dt == np.int64:
            if xst == 0:
                raise ValueError("step must be nonzero")
            xe = int(end)
            sgn = (xst > 0) - (xst < 0)
            num = xe - xs + xst - sgn
            m = abs(num) // abs(xst) * (1 if (num >= 0) == (xst > 0) else -1)  # C division
            m = max(m, 0)
        else:
            m = n
        return (xs + xst * np.arange(m, dtype=np.int64)).astype(dt)
    if dt not in (np.float32, np.float64):
        return None
    lim = 2.0**24 if dt == np.float32 else 2.0**53
    if float(start).is_integer() and float(step).is_integer() and max(abs(start), abs(end)) < lim:
        return None  # every value is an exact integer: the plain formula is torch's
    s, st = float(start), float(step)
    V = 32 // dt.itemsize
    out = np.empty(n, dt)
    nt = min(threads, -(-n // _GRAIN)) if n >= _GRAIN and threads > 1 else 1
    chunk = -(-n // nt) if n else 1
    for b0 in range(0, n, chunk):
        b1 = min(b0 + chunk, n)
        nvec = ((b1 - b0) // (2 * V)) * 2 * V
        firsts = np.arange(b0, b0 + nvec, V, dtype=np.float64)
        base = _fma_exact(st, firsts, np.full(firsts.shape, s))
        if dt == np.float32:  # the block's first value is stored as a float
            base = base.astype(np.float32).astype(np.float64)
        k = np.tile(np.arange(V, dtype=np.float64), firsts.shape[0])
        out[b0 : b0 + nvec] = _fma_exact(st, k, np.repeat(base, V))
        i = np.arange(b0 + nvec, b1, dtype=np.float64)
        out[b0 + nvec : b1] = _fma_exact(st, i, np.full(i.shape, s))
    return out
