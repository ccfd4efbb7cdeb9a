# cython: language_level=3
"""ctorch CPU kernels: conv family (im2col / col2im around a BLAS GEMM).

Layout: x is (N, C, H, W) and cols is (N, C*kh*kw, oh*ow), both C-contiguous and flat, the
row index of cols being (c*kh + ki)*kw + kj, so that the forward convolution is the batched
GEMM  y[n] (OC, oh*ow) = weight (OC, C*kh*kw) @ cols[n].

Work is split over the N*C input planes: im2col writes the kh*kw rows of one plane, col2im
accumulates them into that plane only, so there are no races and the summation order is
fixed (bitwise identical for any thread count).  The per-plane loops are the C ones of
_conv_f32.h that the fused float32 conv also uses (AVX-512 masked row copies for float32
with stride 1, scalar loops otherwise).

Fast path for the caller: a 1x1 kernel with stride 1, padding 0 and dilation 1 needs no
im2col at all (cols[n] is x[n] viewed as (C, H*W)), and its col2im is the GEMM output itself.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memset

cdef extern from "_conv_f32.h" nogil:
    ctypedef struct ctc_geom:
        int N, C, H, W, OC, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow
    int ct_have_avx512()
    void ctc_im2col1(const float *x, float *cols, const ctc_geom *g, int simd)
    void ctc_col2im1(const float *cols, float *x, const ctc_geom *g, int simd)
    void ctc_im2col1_f64(const double *x, double *cols, const ctc_geom *g)
    void ctc_col2im1_f64(const double *cols, double *x, const ctc_geom *g)

cdef Py_ssize_t THRESHOLD = 32768
cdef Py_ssize_t INT_MAX_ = 2147483647
cdef int SIMD = ct_have_avx512()


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
    # the row loops hold these in C ints (ctc_geom); a stride of 2**32 would become 0 there
    # (SIGFPE), and the size products below would wrap: refuse before computing them
    if max(H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow) > INT_MAX_:
        raise ValueError(f"{kernel}: a geometry value above 2**31-1 is not supported")
    return 0


cdef inline void _im2col_plane(const floating *x, floating *cols, const ctc_geom *g,
                               int simd) noexcept nogil:
    if floating is float:
        ctc_im2col1(x, cols, g, simd)
    else:
        ctc_im2col1_f64(x, cols, g)


cdef inline void _col2im_plane(const floating *cols, floating *x, const ctc_geom *g,
                               int simd) noexcept nogil:
    if floating is float:
        ctc_col2im1(cols, x, g, simd)
    else:
        ctc_col2im1_f64(cols, x, g)


cdef int _plane_geom(ctc_geom *g, str kernel, Py_ssize_t H, Py_ssize_t W, Py_ssize_t kh,
                     Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                     Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t oh, Py_ssize_t ow) except -1:
    """One (n, c) plane's geometry for the C row loops of _conv_f32.h (int sizes)."""
    if max(H * W, kh * kw * oh * ow, kh * dh + H + 2 * ph, kw * dw + W + 2 * pw) > INT_MAX_:
        raise ValueError(f"{kernel}: a plane above 2**31-1 elements is not supported")
    g.N, g.C, g.H, g.W, g.OC = 1, 1, H, W, 1
    g.kh, g.kw, g.sh, g.sw, g.ph, g.pw = kh, kw, sh, sw, ph, pw
    g.dh, g.dw, g.oh, g.ow = dh, dw, oh, ow
    return 0


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
    cdef Py_ssize_t OHW = oh * ow, HW = H * W, KK = kh * kw
    cdef Py_ssize_t nc
    cdef ctc_geom g
    _plane_geom(&g, "im2col", H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    cdef const ctc_geom *gp = &g  # read-only in the loop, so shared on purpose
    cdef int simd = SIMD
    with nogil:
        for nc in prange(N * C, schedule='static',
                         use_threads_if=N * C * KK * OHW > THRESHOLD):
            _im2col_plane(&x[nc * HW] if HW > 0 else NULL, &cols[nc * KK * OHW], gp, simd)


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
    cdef Py_ssize_t OHW = oh * ow, HW = H * W, KK = kh * kw
    if N * C * HW == 0:
        return
    if OHW == 0:
        memset(&x[0], 0, N * C * HW * sizeof(floating))
        return
    cdef Py_ssize_t nc
    cdef ctc_geom g
    _plane_geom(&g, "col2im", H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    cdef const ctc_geom *gp = &g  # read-only in the loop, so shared on purpose
    cdef int simd = SIMD
    with nogil:
        for nc in prange(N * C, schedule='static',
                         use_threads_if=N * C * KK * OHW > THRESHOLD):
            _col2im_plane(&cols[nc * KK * OHW], &x[nc * HW], gp, simd)
