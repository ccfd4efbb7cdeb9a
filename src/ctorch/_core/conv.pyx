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
    void ctc_im2col1_ld(const float *x, float *cols, const ctc_geom *g, Py_ssize_t ld,
                        int simd)
    void ctc_col2im1_ld(const float *cols, float *x, const ctc_geom *g, Py_ssize_t ld,
                        int simd)
    void ctc_im2col1_f64(const double *x, double *cols, const ctc_geom *g, Py_ssize_t ld)
    void ctc_im2col_wide_small(const float *x, float *cols, const ctc_geom *g, int N, int C,
                               int c)
    void ctc_col2im1_f64(const double *cols, double *x, const ctc_geom *g, Py_ssize_t ld)

cdef Py_ssize_t THRESHOLD = 32768
cdef Py_ssize_t INT_MAX_ = 2147483647
cdef int SIMD = ct_have_avx512()


include "_check.pxi"


include "_window.pxi"


cdef inline void _im2col_plane(const floating *x, floating *cols, const ctc_geom *g,
                               Py_ssize_t ld, int simd) noexcept nogil:
    if floating is float:
        ctc_im2col1_ld(x, cols, g, ld, simd)
    else:
        ctc_im2col1_f64(x, cols, g, ld)


cdef inline void _col2im_plane(const floating *cols, floating *x, const ctc_geom *g,
                               Py_ssize_t ld, int simd) noexcept nogil:
    if floating is float:
        ctc_col2im1_ld(cols, x, g, ld, simd)
    else:
        ctc_col2im1_f64(cols, x, g, ld)


cdef int _plane_geom(ctc_geom *g, str kernel, const win2d *w) except -1:
    """One (n, c) plane's geometry for the C row loops of _conv_f32.h (int sizes)."""
    if max(w.H * w.W, w.kh * w.kw * w.oh * w.ow, w.kh * w.dh + w.H + 2 * w.ph,
           w.kw * w.dw + w.W + 2 * w.pw) > INT_MAX_:
        raise ValueError(f"{kernel}: a plane above 2**31-1 elements is not supported")
    g.N, g.C, g.H, g.W, g.OC = 1, 1, w.H, w.W, 1
    g.kh, g.kw, g.sh, g.sw, g.ph, g.pw = w.kh, w.kw, w.sh, w.sw, w.ph, w.pw
    g.dh, g.dw, g.oh, g.ow = w.dh, w.dw, w.oh, w.ow
    return 0


def im2col(const floating[::1] x, floating[::1] cols, geo):
    """cols (N, C*kh*kw, oh*ow) = patches of x (N, C, H, W); zero outside the input."""
    cdef win2d w
    _window(&w, "im2col", geo)
    cdef Py_ssize_t N = w.N, C = w.C, H = w.H, W = w.W, kh = w.kh, kw = w.kw
    cdef Py_ssize_t oh = w.oh, ow = w.ow
    _check("im2col", "x", x.shape[0], N * C * H * W)
    _check("im2col", "cols", cols.shape[0], N * C * kh * kw * oh * ow)
    if N * C * oh * ow == 0:
        return
    cdef Py_ssize_t OHW = oh * ow, HW = H * W, KK = kh * kw
    cdef Py_ssize_t nc
    cdef ctc_geom g
    _plane_geom(&g, "im2col", &w)
    cdef const ctc_geom *gp = &g  # read-only in the loop, so shared on purpose
    cdef int simd = SIMD
    with nogil:
        for nc in prange(N * C, schedule='static',
                         use_threads_if=N * C * KK * OHW > THRESHOLD):
            _im2col_plane(&x[nc * HW] if HW > 0 else NULL, &cols[nc * KK * OHW], gp, OHW,
                          simd)


def col2im(const floating[::1] cols, floating[::1] x, geo):
    """x (N, C, H, W) = sum of the patches in cols (the adjoint of im2col).

    x is zeroed here first (a caller that pre-zeroes it gets the same result).
    """
    cdef win2d w
    _window(&w, "col2im", geo)
    cdef Py_ssize_t N = w.N, C = w.C, H = w.H, W = w.W, kh = w.kh, kw = w.kw
    cdef Py_ssize_t oh = w.oh, ow = w.ow
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
    _plane_geom(&g, "col2im", &w)
    cdef const ctc_geom *gp = &g  # read-only in the loop, so shared on purpose
    cdef int simd = SIMD
    with nogil:
        for nc in prange(N * C, schedule='static',
                         use_threads_if=N * C * KK * OHW > THRESHOLD):
            _col2im_plane(&cols[nc * KK * OHW], &x[nc * HW], gp, OHW, simd)


def im2col_wide(const floating[::1] x, floating[::1] cols, geo):
    """cols (C*kh*kw, N*oh*ow) = the patches of every image of x (N, C, H, W) side by side
    (image n in columns [n*oh*ow, (n+1)*oh*ow)): one GEMM then convolves the whole batch.
    CPU only (outside the GPU contract)."""
    cdef win2d w
    _window(&w, "im2col_wide", geo)
    cdef Py_ssize_t N = w.N, C = w.C, H = w.H, W = w.W, kh = w.kh, kw = w.kw
    cdef Py_ssize_t oh = w.oh, ow = w.ow
    _check("im2col_wide", "x", x.shape[0], N * C * H * W)
    _check("im2col_wide", "cols", cols.shape[0], N * C * kh * kw * oh * ow)
    if N * C * oh * ow == 0:
        return
    cdef Py_ssize_t OHW = oh * ow, HW = H * W, KK = kh * kw, LD = N * oh * ow
    cdef Py_ssize_t nc, n, c
    cdef ctc_geom g
    _plane_geom(&g, "im2col_wide", &w)
    cdef const ctc_geom *gp = &g
    cdef int simd = SIMD
    if floating is float:
        if simd and OHW <= 16 and 16 * C * HW < INT_MAX_:  # gathers over 16 / OHW images
            with nogil:
                for c in prange(C, schedule='static',
                                use_threads_if=N * C * KK * OHW > THRESHOLD):
                    ctc_im2col_wide_small(&x[0], &cols[0], gp, <int>N, <int>C, <int>c)
            return
    with nogil:
        for nc in prange(N * C, schedule='static',
                         use_threads_if=N * C * KK * OHW > THRESHOLD):
            n = nc // C
            c = nc - n * C
            _im2col_plane(&x[nc * HW] if HW > 0 else NULL, &cols[c * KK * LD + n * OHW], gp,
                          LD, simd)


def col2im_wide(const floating[::1] cols, floating[::1] x, geo):
    """x (N, C, H, W) = sum of the patches in cols (C*kh*kw, N*oh*ow) (im2col_wide's layout;
    its adjoint).  x is overwritten.  CPU only."""
    cdef win2d w
    _window(&w, "col2im_wide", geo)
    cdef Py_ssize_t N = w.N, C = w.C, H = w.H, W = w.W, kh = w.kh, kw = w.kw
    cdef Py_ssize_t oh = w.oh, ow = w.ow
    _check("col2im_wide", "cols", cols.shape[0], N * C * kh * kw * oh * ow)
    _check("col2im_wide", "x", x.shape[0], N * C * H * W)
    cdef Py_ssize_t OHW = oh * ow, HW = H * W, KK = kh * kw, LD = N * oh * ow
    if N * C * HW == 0:
        return
    if OHW == 0:
        memset(&x[0], 0, N * C * HW * sizeof(floating))
        return
    cdef Py_ssize_t nc, n, c
    cdef ctc_geom g
    _plane_geom(&g, "col2im_wide", &w)
    cdef const ctc_geom *gp = &g
    cdef int simd = SIMD
    with nogil:
        for nc in prange(N * C, schedule='static',
                         use_threads_if=N * C * KK * OHW > THRESHOLD):
            n = nc // C
            c = nc - n * C
            _col2im_plane(&cols[c * KK * LD + n * OHW], &x[nc * HW], gp, LD, simd)


cdef extern from "_dwconv.h" nogil:
    ctypedef struct ctdw_geom:
        int N, C, H, W, mult, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow
    void ctdw_fwd_plane_f32(const float *x, const float *w, float bias, float *y,
                            const ctdw_geom *g)
    void ctdw_fwd_plane_f64(const double *x, const double *w, double bias, double *y,
                            const ctdw_geom *g)
    void ctdw_bwdx_plane_f32(const float *gy, const float *w, float *gx, const ctdw_geom *g)
    void ctdw_bwdx_plane_f64(const double *gy, const double *w, double *gx,
                             const ctdw_geom *g)
    void ctdw_bwdw_plane_f32(const float *gy, const float *x, float *acc, const ctdw_geom *g)
    void ctdw_bwdw_plane_f64(const double *gy, const double *x, double *acc,
                             const ctdw_geom *g)

from libc.stdlib cimport calloc, free


cdef int _dw_geom(ctdw_geom *g, win2d *w, str kernel, object geo, Py_ssize_t mult) except -1:
    _window(w, kernel, geo)
    if mult < 1:
        raise ValueError(f"{kernel}: channel multiplier {mult} must be positive")
    if w.oh != (w.H + 2 * w.ph - w.dh * (w.kh - 1) - 1) // w.sh + 1 or \
            w.ow != (w.W + 2 * w.pw - w.dw * (w.kw - 1) - 1) // w.sw + 1:
        raise ValueError(f"{kernel}: output size ({w.oh}, {w.ow}) does not match the geometry")
    if max(w.H * w.W, w.oh * w.ow, w.kh * w.dh + w.H + 2 * w.ph, w.kw * w.dw + w.W + 2 * w.pw,
           w.N, w.C * mult) > INT_MAX_:
        raise ValueError(f"{kernel}: a plane above 2**31-1 elements is not supported")
    g.N, g.C, g.H, g.W, g.mult = w.N, w.C, w.H, w.W, mult
    g.kh, g.kw, g.sh, g.sw, g.ph, g.pw = w.kh, w.kw, w.sh, w.sw, w.ph, w.pw
    g.dh, g.dw, g.oh, g.ow = w.dh, w.dw, w.oh, w.ow
    return 0


def depthwise_conv2d_forward(const floating[::1] x, const floating[::1] w, b,
                             floating[::1] y, geo,
                             Py_ssize_t mult):
    """y (N, C*mult, oh, ow) = depthwise conv2d (groups C) of x (N, C, H, W) with w
    (C*mult, 1, kh, kw) (+ b (C*mult,) or None); flat C-contiguous.  CPU only."""
    cdef str op = "depthwise_conv2d_forward"
    cdef ctdw_geom g
    cdef win2d wg
    _dw_geom(&g, &wg, op, geo, mult)
    cdef Py_ssize_t N = wg.N, C = wg.C, H = wg.H, W = wg.W, kh = wg.kh, kw = wg.kw
    cdef Py_ssize_t oh = wg.oh, ow = wg.ow
    cdef Py_ssize_t OC = C * mult, KK = kh * kw, HW = H * W, OHW = oh * ow
    _check(op, "x", x.shape[0], N * C * HW)
    _check(op, "w", w.shape[0], OC * KK)
    _check(op, "y", y.shape[0], N * OC * OHW)
    cdef const floating[::1] bv
    cdef bint has_b = b is not None
    if has_b:
        bv = b
        _check(op, "bias", bv.shape[0], OC)
    if N * OC * OHW == 0:
        return
    cdef Py_ssize_t no, n, o
    cdef const ctdw_geom *gp = &g
    cdef floating bo
    with nogil:
        for no in prange(N * OC, schedule='static',
                         use_threads_if=N * OC * OHW * KK > THRESHOLD):
            n = no // OC
            o = no - n * OC
            bo = bv[o] if has_b else 0
            if floating is float:
                ctdw_fwd_plane_f32(&x[(n * C + o // mult) * HW] if HW > 0 else NULL,
                                   &w[o * KK], bo, &y[no * OHW], gp)
            else:
                ctdw_fwd_plane_f64(&x[(n * C + o // mult) * HW] if HW > 0 else NULL,
                                   &w[o * KK], bo, &y[no * OHW], gp)


def depthwise_conv2d_backward_input(const floating[::1] gy, const floating[::1] w,
                                    floating[::1] gx, geo,
                                    Py_ssize_t mult):
    """gx (N, C, H, W) (overwritten) of the depthwise conv2d from gy (N, C*mult, oh, ow)."""
    cdef str op = "depthwise_conv2d_backward_input"
    cdef ctdw_geom g
    cdef win2d wg
    _dw_geom(&g, &wg, op, geo, mult)
    cdef Py_ssize_t N = wg.N, C = wg.C, H = wg.H, W = wg.W, kh = wg.kh, kw = wg.kw
    cdef Py_ssize_t oh = wg.oh, ow = wg.ow
    cdef Py_ssize_t OC = C * mult, KK = kh * kw, HW = H * W, OHW = oh * ow
    _check(op, "gy", gy.shape[0], N * OC * OHW)
    _check(op, "w", w.shape[0], OC * KK)
    _check(op, "gx", gx.shape[0], N * C * HW)
    if N * C * HW == 0:
        return
    cdef Py_ssize_t nc, n, c, m, o
    cdef const ctdw_geom *gp = &g
    with nogil:
        for nc in prange(N * C, schedule='static',
                         use_threads_if=N * OC * OHW * KK > THRESHOLD):
            n = nc // C
            c = nc - n * C
            memset(&gx[nc * HW], 0, HW * sizeof(floating))
            if OHW == 0:
                continue
            for m in range(mult):
                o = c * mult + m
                if floating is float:
                    ctdw_bwdx_plane_f32(&gy[(n * OC + o) * OHW], &w[o * KK], &gx[nc * HW], gp)
                else:
                    ctdw_bwdx_plane_f64(&gy[(n * OC + o) * OHW], &w[o * KK], &gx[nc * HW], gp)


def depthwise_conv2d_backward_weight(const floating[::1] gy, const floating[::1] x,
                                     floating[::1] gw, geo,
                                     Py_ssize_t mult):
    """gw (C*mult, 1, kh, kw) (overwritten) of the depthwise conv2d; per output channel and
    tap, each output column sums the images and rows in order, then the columns are added in
    order in double, so any thread count gives the same bits."""
    cdef str op = "depthwise_conv2d_backward_weight"
    cdef ctdw_geom g
    cdef win2d wg
    _dw_geom(&g, &wg, op, geo, mult)
    cdef Py_ssize_t N = wg.N, C = wg.C, H = wg.H, W = wg.W, kh = wg.kh, kw = wg.kw
    cdef Py_ssize_t oh = wg.oh, ow = wg.ow
    cdef Py_ssize_t OC = C * mult, KK = kh * kw, HW = H * W, OHW = oh * ow
    _check(op, "gy", gy.shape[0], N * OC * OHW)
    _check(op, "x", x.shape[0], N * C * HW)
    _check(op, "gw", gw.shape[0], OC * KK)
    if OC * KK == 0:
        return
    cdef floating *acc = <floating *>calloc(OC * KK * max(ow, 1), sizeof(floating))
    if acc == NULL:
        raise MemoryError(f"{op}: could not allocate {OC * KK * ow} work values")
    cdef Py_ssize_t o, n, t, ox
    cdef double s
    cdef floating *ao
    cdef const ctdw_geom *gp = &g
    with nogil:
        for o in prange(OC, schedule='static',
                        use_threads_if=N * OC * OHW * KK > THRESHOLD):
            ao = acc + o * KK * ow
            if OHW > 0 and HW > 0:
                for n in range(N):
                    if floating is float:
                        ctdw_bwdw_plane_f32(&gy[(n * OC + o) * OHW],
                                            &x[(n * C + o // mult) * HW], ao, gp)
                    else:
                        ctdw_bwdw_plane_f64(&gy[(n * OC + o) * OHW],
                                            &x[(n * C + o // mult) * HW], ao, gp)
            for t in range(KK):
                s = 0.0
                for ox in range(ow):
                    s = s + ao[t * ow + ox]
                gw[o * KK + t] = <floating>s
    free(acc)


cdef extern from "_gconv_f32.h" nogil:
    ctypedef struct ctgd_geom:
        int N, C, H, W, OC, G, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow
    int CTGD_MAXKK
    int ctgd_available()
    int ct_max_threads()
    int ctgd_forward(const float *x, const float *w, const float *bias, float *y,
                     const ctgd_geom *g, int nthreads)
    int ctgd_backward_input(const float *gy, const float *w, float *gx, const ctgd_geom *g,
                            int nthreads)
    int ctgd_backward_weight(const float *gy, const float *x, float *gw, const ctgd_geom *g,
                             int nthreads)


#: the direct grouped float32 kernels (``grouped_conv2d_*``) run on this CPU (AVX-512)
GCONV_AVX512 = bool(ctgd_available())


cdef int _gd_geom(ctgd_geom *g, str kernel, object geo, Py_ssize_t groups, Py_ssize_t OC,
                  bint for_dx) except -1:
    cdef win2d w
    _window(&w, kernel, geo)
    if not GCONV_AVX512:
        raise RuntimeError(f"{kernel}: needs an AVX-512 CPU (check conv.GCONV_AVX512)")
    if groups < 1 or w.C % groups or OC < 1 or OC % groups:
        raise ValueError(f"{kernel}: groups={groups} must divide C={w.C} and OC={OC}")
    if w.sw > 2:
        raise ValueError(f"{kernel}: horizontal stride {w.sw} above 2 is not supported")
    if w.kh * w.kw > CTGD_MAXKK:
        raise ValueError(f"{kernel}: kernel ({w.kh}, {w.kw}) has more than {CTGD_MAXKK} taps")
    if for_dx and (w.ph > (w.kh - 1) * w.dh or w.pw > (w.kw - 1) * w.dw):
        raise ValueError(f"{kernel}: padding ({w.ph}, {w.pw}) above the dilated kernel "
                         "extent is not supported")
    if w.oh != (w.H + 2 * w.ph - w.dh * (w.kh - 1) - 1) // w.sh + 1 or \
            w.ow != (w.W + 2 * w.pw - w.dw * (w.kw - 1) - 1) // w.sw + 1:
        raise ValueError(f"{kernel}: output size ({w.oh}, {w.ow}) does not match the geometry")
    # padded planes (the rows of 4-row blocks, 16-lane chunks at stride 2) in C ints
    if max(w.N * max(w.C, OC), (w.H + 2 * w.ph + 4 * w.sh + w.kh * w.dh + 64) *
           (w.W + 2 * w.pw + 64 * w.sw + w.kw * w.dw + 64)) > INT_MAX_ // 4:
        raise ValueError(f"{kernel}: sizes above 2**29 are not supported")
    g.N, g.C, g.H, g.W, g.OC, g.G = w.N, w.C, w.H, w.W, OC, groups
    g.kh, g.kw, g.sh, g.sw, g.ph, g.pw = w.kh, w.kw, w.sh, w.sw, w.ph, w.pw
    g.dh, g.dw, g.oh, g.ow = w.dh, w.dw, w.oh, w.ow
    return 0


def grouped_conv2d_forward(const float[::1] x, const float[::1] w, b, float[::1] y, geo,
                           Py_ssize_t groups, Py_ssize_t OC):
    """y (N, OC, oh, ow) = conv2d of x (N, C, H, W) with w (OC, C/groups, kh, kw) (+ b (OC,)
    or None), direct float32 AVX-512 kernel for groups with few channels (``_gconv_f32.h``);
    horizontal stride 1 or 2, at most 49 taps, floor-mode output size.  CPU only."""
    cdef str op = "grouped_conv2d_forward"
    cdef ctgd_geom g
    _gd_geom(&g, op, geo, groups, OC, False)
    cdef Py_ssize_t Cg = g.C // groups, KK = g.kh * g.kw
    _check(op, "x", x.shape[0], g.N * g.C * g.H * g.W)
    _check(op, "w", w.shape[0], OC * Cg * KK)
    _check(op, "y", y.shape[0], g.N * OC * g.oh * g.ow)
    cdef const float[::1] bv
    cdef const float *bp = NULL
    if b is not None:
        bv = b
        _check(op, "bias", bv.shape[0], OC)
        bp = &bv[0]
    if g.N * OC * g.oh * g.ow == 0:
        return
    cdef int rc, nt = ct_max_threads()
    cdef const float *xp = &x[0] if x.shape[0] > 0 else NULL
    with nogil:
        rc = ctgd_forward(xp, &w[0] if KK * Cg > 0 else NULL, bp, &y[0], &g, nt)
    if rc != 0:
        raise MemoryError(f"{op}: could not allocate the padded planes")


def grouped_conv2d_backward_input(const float[::1] gy, const float[::1] w, float[::1] gx, geo,
                                  Py_ssize_t groups, Py_ssize_t OC):
    """gx (N, C, H, W) (overwritten) of grouped_conv2d_forward from gy (N, OC, oh, ow); also
    needs padding <= (k-1)*dilation per dim, and finite weights (the caller checks: a tap
    over the zero-inserted gy would make inf*0)."""
    cdef str op = "grouped_conv2d_backward_input"
    cdef ctgd_geom g
    _gd_geom(&g, op, geo, groups, OC, True)
    cdef Py_ssize_t Cg = g.C // groups, KK = g.kh * g.kw
    _check(op, "gy", gy.shape[0], g.N * OC * g.oh * g.ow)
    _check(op, "w", w.shape[0], OC * Cg * KK)
    _check(op, "gx", gx.shape[0], g.N * g.C * g.H * g.W)
    if g.N * g.C * g.H * g.W == 0:
        return
    if g.oh * g.ow == 0:
        memset(&gx[0], 0, gx.shape[0] * sizeof(float))
        return
    cdef int rc, nt = ct_max_threads()
    with nogil:
        rc = ctgd_backward_input(&gy[0], &w[0], &gx[0], &g, nt)
    if rc != 0:
        raise MemoryError(f"{op}: could not allocate the padded planes")


def grouped_conv2d_backward_weight(const float[::1] gy, const float[::1] x, float[::1] gw, geo,
                                   Py_ssize_t groups, Py_ssize_t OC):
    """gw (OC, C/groups, kh, kw) (overwritten) of grouped_conv2d_forward: per image a float
    sum over the rows, the images added in order in double, one thread per group (any
    thread count gives the same bits)."""
    cdef str op = "grouped_conv2d_backward_weight"
    cdef ctgd_geom g
    _gd_geom(&g, op, geo, groups, OC, False)
    cdef Py_ssize_t Cg = g.C // groups, KK = g.kh * g.kw
    _check(op, "gy", gy.shape[0], g.N * OC * g.oh * g.ow)
    _check(op, "x", x.shape[0], g.N * g.C * g.H * g.W)
    _check(op, "gw", gw.shape[0], OC * Cg * KK)
    if gw.shape[0] == 0:
        return
    if g.N * g.oh * g.ow == 0 or g.H * g.W == 0:
        memset(&gw[0], 0, gw.shape[0] * sizeof(float))
        return
    cdef int rc, nt = ct_max_threads()
    with nogil:
        rc = ctgd_backward_weight(&gy[0], &x[0], &gw[0], &g, nt)
    if rc != 0:
        raise MemoryError(f"{op}: could not allocate the padded planes")
