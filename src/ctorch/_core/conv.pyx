# cython: language_level=3
"""ctorch CPU kernels: conv family (im2col / col2im around a BLAS GEMM).

Layout: x is (N, C, H, W) and cols is (N, C*kh*kw, oh*ow), both C-contiguous and flat, the
row index of cols being (c*kh + ki)*kw + kj, so that the forward convolution is the batched
GEMM  y[n] (OC, oh*ow) = weight (OC, C*kh*kw) @ cols[n].

Work is split over the N*C input planes: im2col writes the kh*kw rows of one plane, col2im
accumulates them into that plane only, so there are no races and the summation order is
fixed (bitwise identical for any thread count).

Fast path for the caller: a 1x1 kernel with stride 1, padding 0 and dilation 1 needs no
im2col at all (cols[n] is x[n] viewed as (C, H*W)), and its col2im is the GEMM output itself.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memcpy, memset

cdef Py_ssize_t THRESHOLD = 32768


cdef inline int _check(str kernel, str name, Py_ssize_t got, Py_ssize_t want) except -1:
    if got != want:
        raise ValueError(f"{kernel}: {name} has {got} elements, expected {want}")
    return 0


cdef int _check_geometry(str kernel, Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                         Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
                         Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
                         Py_ssize_t oh, Py_ssize_t ow) except -1:
    if N < 0 or C < 0 or H < 0 or W < 0 or oh < 0 or ow < 0:
        raise ValueError(f"{kernel}: negative size N={N} C={C} H={H} W={W} oh={oh} ow={ow}")
    if kh < 1 or kw < 1 or sh < 1 or sw < 1 or dh < 1 or dw < 1 or ph < 0 or pw < 0:
        raise ValueError(f"{kernel}: invalid geometry kernel=({kh}, {kw}) stride=({sh}, {sw}) "
                         f"padding=({ph}, {pw}) dilation=({dh}, {dw})")
    return 0


cdef inline Py_ssize_t _col_hi(Py_ssize_t ix0, Py_ssize_t W, Py_ssize_t sw,
                               Py_ssize_t ow) noexcept nogil:
    """Output columns ox < hi read input column ix0 + ox*sw < W."""
    cdef Py_ssize_t b = 0
    if W - 1 - ix0 >= 0:
        b = (W - 1 - ix0) // sw + 1
    return ow if b > ow else b


cdef inline Py_ssize_t _col_lo(Py_ssize_t ix0, Py_ssize_t sw, Py_ssize_t hi) noexcept nogil:
    """Output columns ox >= lo read input column ix0 + ox*sw >= 0 (lo <= hi).

    lo and hi are returned, not written through pointers: in a prange body Cython makes a
    variable thread-private only when it is assigned there, and pointer-out left them shared.
    """
    cdef Py_ssize_t a = 0
    if ix0 < 0:
        a = (-ix0 + sw - 1) // sw
    return hi if a > hi else a


def im2col(const floating[::1] x, floating[::1] cols,
           Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
           Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
           Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
           Py_ssize_t oh, Py_ssize_t ow):
    """cols (N, C*kh*kw, oh*ow) = patches of x (N, C, H, W); zero outside the input."""
    _check_geometry("im2col", N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    _check("im2col", "x", x.shape[0], N * C * H * W)
    _check("im2col", "cols", cols.shape[0], N * C * kh * kw * oh * ow)
    if N * C * oh * ow == 0:
        return
    cdef Py_ssize_t K = C * kh * kw, OHW = oh * ow, HW = H * W
    cdef Py_ssize_t nc, n, c, ki, kj, row, oy, ox, iy, ix0, lo, hi
    cdef const floating *xp
    cdef floating *d
    with nogil:
        for nc in prange(N * C, schedule='static',
                         use_threads_if=N * K * OHW > THRESHOLD):
            n = nc // C
            c = nc % C
            xp = &x[nc * HW] if HW > 0 else NULL
            for ki in range(kh):
                for kj in range(kw):
                    row = (c * kh + ki) * kw + kj
                    ix0 = kj * dw - pw
                    hi = _col_hi(ix0, W, sw, ow)
                    lo = _col_lo(ix0, sw, hi)
                    for oy in range(oh):
                        d = &cols[(n * K + row) * OHW + oy * ow]
                        iy = oy * sh - ph + ki * dh
                        if iy < 0 or iy >= H or hi <= lo:
                            memset(d, 0, ow * sizeof(floating))
                            continue
                        if lo > 0:
                            memset(d, 0, lo * sizeof(floating))
                        if sw == 1:
                            memcpy(d + lo, xp + iy * W + ix0 + lo, (hi - lo) * sizeof(floating))
                        else:
                            for ox in range(lo, hi):
                                d[ox] = xp[iy * W + ix0 + ox * sw]
                        if hi < ow:
                            memset(d + hi, 0, (ow - hi) * sizeof(floating))


def col2im(const floating[::1] cols, floating[::1] x,
           Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
           Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
           Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw,
           Py_ssize_t oh, Py_ssize_t ow):
    """x (N, C, H, W) = sum of the patches in cols (the adjoint of im2col).

    x is zeroed here first (a caller that pre-zeroes it gets the same result).
    """
    _check_geometry("col2im", N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    _check("col2im", "cols", cols.shape[0], N * C * kh * kw * oh * ow)
    _check("col2im", "x", x.shape[0], N * C * H * W)
    cdef Py_ssize_t K = C * kh * kw, OHW = oh * ow, HW = H * W
    if N * C * HW == 0:
        return
    cdef Py_ssize_t nc, n, c, ki, kj, row, oy, ox, iy, ix0, lo, hi, base
    cdef floating *xp
    cdef const floating *d
    with nogil:
        for nc in prange(N * C, schedule='static',
                         use_threads_if=N * K * OHW > THRESHOLD):
            n = nc // C
            c = nc % C
            xp = &x[nc * HW]
            memset(xp, 0, HW * sizeof(floating))
            if OHW == 0:
                continue
            for ki in range(kh):
                for kj in range(kw):
                    row = (c * kh + ki) * kw + kj
                    ix0 = kj * dw - pw
                    hi = _col_hi(ix0, W, sw, ow)
                    lo = _col_lo(ix0, sw, hi)
                    if hi <= lo:
                        continue
                    for oy in range(oh):
                        iy = oy * sh - ph + ki * dh
                        if iy < 0 or iy >= H:
                            continue
                        d = &cols[(n * K + row) * OHW + oy * ow]
                        base = iy * W + ix0
                        if sw == 1:
                            for ox in range(lo, hi):
                                xp[base + ox] = xp[base + ox] + d[ox]
                        else:
                            for ox in range(lo, hi):
                                xp[base + ox * sw] = xp[base + ox * sw] + d[ox]
