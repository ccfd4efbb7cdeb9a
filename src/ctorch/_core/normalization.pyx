# cython: language_level=3
"""ctorch CPU kernels: normalization family (batch norm, layer norm).

Contract: docs/kernels.md ("nn families").  All reductions accumulate in double inside one
SIMD call per contiguous segment, and the work is split at boundaries that depend only on
the sizes (channels, fixed row blocks), so results are bitwise identical for any thread
count.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport sqrt
from libc.stdint cimport int64_t, uintptr_t
from libc.string cimport memset

import threading

import numpy as np

cdef extern from "_nn_simd.h" nogil:
    double ct_nn_sum_f32(const float *x, int64_t nseg, int64_t st, int64_t n)
    double ct_nn_sum_f64(const double *x, int64_t nseg, int64_t st, int64_t n)
    double ct_nn_sqdev_f32(const float *x, int64_t nseg, int64_t st, int64_t n, double mean)
    double ct_nn_sqdev_f64(const double *x, int64_t nseg, int64_t st, int64_t n, double mean)
    void ct_nn_sum_dot_f32(const float *gy, const float *x, int64_t nseg, int64_t st,
                           int64_t n, double mean, double *sg, double *sgx)
    void ct_nn_sum_dot_f64(const double *gy, const double *x, int64_t nseg, int64_t st,
                           int64_t n, double mean, double *sg, double *sgx)
    void ct_nn_affine_f32(const float *x, float *y, int64_t n, float a, float b)
    void ct_nn_affine_f64(const double *x, double *y, int64_t n, double a, double b)
    void ct_nn_scale_f32(const float *gy, float *gx, int64_t nseg, int64_t st, int64_t n,
                         float s)
    void ct_nn_scale_f64(const double *gy, double *gx, int64_t nseg, int64_t st, int64_t n,
                         double s)
    void ct_nn_bn_gx_f32(const float *gy, const float *x, float *gx, int64_t nseg, int64_t st,
                         int64_t n, float mean, float k, float gm, float s)
    void ct_nn_bn_gx_f64(const double *gy, const double *x, double *gx, int64_t nseg,
                         int64_t st, int64_t n, double mean, double k, double gm, double s)
    void ct_nn_ln_fwd_row_f32(const float *x, float *y, int64_t D, const float *w,
                              const float *b, double eps, float *mean, float *rstd)
    void ct_nn_ln_fwd_row_f64(const double *x, double *y, int64_t D, const double *w,
                              const double *b, double eps, double *mean, double *rstd)
    void ct_nn_ln_bwd_row_f32(const float *gy, const float *x, float *gx, int64_t D,
                              float mean, float rstd, const float *w, float *pgw,
                              float *pgb)
    void ct_nn_ln_bwd_row_f64(const double *gy, const double *x, double *gx, int64_t D,
                              double mean, double rstd, const double *w, double *pgw,
                              double *pgb)
    void ct_nn_colsum_f32(const float *part, int64_t nb, int64_t D, int64_t j0, int64_t j1,
                          float *out)
    void ct_nn_colsum_f64(const double *part, int64_t nb, int64_t D, int64_t j0, int64_t j1,
                          double *out)

cdef extern from "_rowops_f32.h" nogil:
    void ctr_layernorm_fwd_rows_f32(const float *x, float *y, Py_ssize_t rows, Py_ssize_t D,
                                    const float *w, const float *b, double eps, float *mean,
                                    float *rstd)
    void ctr_layernorm_bwd_rows_f32(const float *gy, const float *x, float *gx,
                                    Py_ssize_t rows, Py_ssize_t D, const float *mean,
                                    const float *rstd, const float *w, float *pgw, float *pgb)

# Below this many elements a kernel runs on the calling thread.
cdef Py_ssize_t THRESHOLD = 32768
# Layer-norm backward reduces gw/gb over rows in blocks whose size depends only on M.
cdef Py_ssize_t LN_MAX_BLOCKS = 256


# A batch-norm channel: nseg (N) segments of n (HW) elements, st (C * HW) apart.
cdef inline double _sum(const floating *x, Py_ssize_t nseg, Py_ssize_t st,
                        Py_ssize_t n) noexcept nogil:
    if floating is float:
        return ct_nn_sum_f32(x, nseg, st, n)
    else:
        return ct_nn_sum_f64(x, nseg, st, n)


cdef inline double _sqdev(const floating *x, Py_ssize_t nseg, Py_ssize_t st, Py_ssize_t n,
                          double mean) noexcept nogil:
    if floating is float:
        return ct_nn_sqdev_f32(x, nseg, st, n, mean)
    else:
        return ct_nn_sqdev_f64(x, nseg, st, n, mean)


cdef inline void _sum_dot(const floating *gy, const floating *x, Py_ssize_t nseg,
                          Py_ssize_t st, Py_ssize_t n, double mean, double *sg,
                          double *sgx) noexcept nogil:
    if floating is float:
        ct_nn_sum_dot_f32(gy, x, nseg, st, n, mean, sg, sgx)
    else:
        ct_nn_sum_dot_f64(gy, x, nseg, st, n, mean, sg, sgx)


cdef inline void _affine(const floating *x, floating *y, Py_ssize_t n, floating a,
                         floating b) noexcept nogil:
    if floating is float:
        ct_nn_affine_f32(x, y, n, a, b)
    else:
        ct_nn_affine_f64(x, y, n, a, b)


cdef inline void _scale(const floating *gy, floating *gx, Py_ssize_t nseg, Py_ssize_t st,
                        Py_ssize_t n, floating s) noexcept nogil:
    if floating is float:
        ct_nn_scale_f32(gy, gx, nseg, st, n, s)
    else:
        ct_nn_scale_f64(gy, gx, nseg, st, n, s)


cdef inline void _bn_gx(const floating *gy, const floating *x, floating *gx, Py_ssize_t nseg,
                        Py_ssize_t st, Py_ssize_t n, floating mean, floating k, floating gm,
                        floating s) noexcept nogil:
    if floating is float:
        ct_nn_bn_gx_f32(gy, x, gx, nseg, st, n, mean, k, gm, s)
    else:
        ct_nn_bn_gx_f64(gy, x, gx, nseg, st, n, mean, k, gm, s)


cdef inline void _ln_fwd_row(const floating *x, floating *y, Py_ssize_t D, const floating *w,
                             const floating *b, double eps, floating *mean,
                             floating *rstd) noexcept nogil:
    if floating is float:
        ct_nn_ln_fwd_row_f32(x, y, D, w, b, eps, mean, rstd)
    else:
        ct_nn_ln_fwd_row_f64(x, y, D, w, b, eps, mean, rstd)


cdef inline void _ln_bwd_row(const floating *gy, const floating *x, floating *gx, Py_ssize_t D,
                             floating mean, floating rstd, const floating *w, floating *pgw,
                             floating *pgb) noexcept nogil:
    if floating is float:
        ct_nn_ln_bwd_row_f32(gy, x, gx, D, mean, rstd, w, pgw, pgb)
    else:
        ct_nn_ln_bwd_row_f64(gy, x, gx, D, mean, rstd, w, pgw, pgb)


cdef inline void _colsum(const floating *part, Py_ssize_t nb, Py_ssize_t D, Py_ssize_t j0,
                         Py_ssize_t j1, floating *out) noexcept nogil:
    if floating is float:
        ct_nn_colsum_f32(part, nb, D, j0, j1, out)
    else:
        ct_nn_colsum_f64(part, nb, D, j0, j1, out)


_tls = threading.local()  # per-thread scratch of the gw/gb partials (_partials)


cdef object _partials(Py_ssize_t nb, Py_ssize_t D, const void *ref, Py_ssize_t shift, dt,
                      int slot):
    """(nb, D) scratch rows for per-block column partials (overwritten by the caller), as a
    strided view whose start sits ``shift`` bytes past ``ref``'s offset in its 4 KiB page.

    Two costs measured at (4096, 1024) float32, backward of gw/gb 2.1 ms -> 1.1 ms:
    - a fresh 1 MiB buffer per call comes from mmap (glibc trims the heap top it was freed
      to), so every call paid ~500 page faults: the buffer is kept per thread (up to 8 MiB;
      the kernels hold no Python callbacks, so a thread never needs two at once per slot);
    - when D * itemsize is a multiple of 4 KiB and the partials share the inputs' page
      offset, each row's loads and the partials' stores land in the same L1 sets: rows are
      padded by three cache lines and start ``shift`` bytes away from the inputs."""
    cdef Py_ssize_t isz = np.dtype(dt).itemsize
    cdef Py_ssize_t Dp = D + 192 // isz
    cdef Py_ssize_t nbytes = (nb * Dp) * isz + 4096
    bufs = getattr(_tls, "bufs", None)
    if bufs is None:
        bufs = _tls.bufs = [None, None]
    raw = bufs[slot]
    if raw is None or raw.nbytes < nbytes:
        raw = np.empty(nbytes, dtype=np.uint8)
        if nbytes <= (8 << 20):
            bufs[slot] = raw
    cdef uintptr_t base = <uintptr_t>raw.ctypes.data
    cdef uintptr_t want = (<uintptr_t>ref + <uintptr_t>shift) % 4096
    cdef Py_ssize_t off = <Py_ssize_t>((want + 4096 - base % 4096) % 4096)
    return raw[off:off + nb * Dp * isz].view(dt).reshape(nb, Dp)[:, :D]


include "_check.pxi"


cdef inline int _check_dims(str kernel, Py_ssize_t a, Py_ssize_t b, Py_ssize_t c) except -1:
    if a < 0 or b < 0 or c < 0:
        raise ValueError(f"{kernel}: negative size ({a}, {b}, {c})")
    return 0


def batchnorm_stats(const floating[::1] x, floating[::1] mean, floating[::1] invstd,
                    Py_ssize_t N, Py_ssize_t C, Py_ssize_t HW, double eps):
    """Per-channel mean and 1/sqrt(biased var + eps) of x viewed as (N, C, HW)."""
    _check_dims("batchnorm_stats", N, C, HW)
    _check("batchnorm_stats", "x", x.shape[0], N * C * HW)
    _check("batchnorm_stats", "mean", mean.shape[0], C)
    _check("batchnorm_stats", "invstd", invstd.shape[0], C)
    cdef Py_ssize_t c
    cdef double s, m, v
    cdef double cnt = <double>(N * HW)
    cdef const floating *xp = &x[0] if x.shape[0] > 0 else NULL
    with nogil:
        for c in prange(C, schedule='static', use_threads_if=N * C * HW > THRESHOLD):
            s = _sum(xp + c * HW, N, C * HW, HW)
            m = s / cnt
            v = _sqdev(xp + c * HW, N, C * HW, HW, m)
            mean[c] = <floating>m
            invstd[c] = <floating>(1.0 / sqrt(v / cnt + eps))


def batchnorm_apply(const floating[::1] x, const floating[::1] mean,
                    const floating[::1] invstd, const floating[::1] weight,
                    const floating[::1] bias, floating[::1] y,
                    Py_ssize_t N, Py_ssize_t C, Py_ssize_t HW):
    """y = (x - mean) * invstd * weight + bias per channel (computed as x*a + b like torch)."""
    _check_dims("batchnorm_apply", N, C, HW)
    _check("batchnorm_apply", "x", x.shape[0], N * C * HW)
    _check("batchnorm_apply", "y", y.shape[0], N * C * HW)
    _check("batchnorm_apply", "mean", mean.shape[0], C)
    _check("batchnorm_apply", "invstd", invstd.shape[0], C)
    cdef const floating *wp = NULL
    cdef const floating *bp = NULL
    if weight is not None:
        _check("batchnorm_apply", "weight", weight.shape[0], C)
        if C > 0:
            wp = &weight[0]
    if bias is not None:
        _check("batchnorm_apply", "bias", bias.shape[0], C)
        if C > 0:
            bp = &bias[0]
    if N * C * HW == 0:
        return
    cdef Py_ssize_t nc, c
    cdef floating a, b
    with nogil:
        for nc in prange(N * C, schedule='static', use_threads_if=N * C * HW > THRESHOLD):
            c = nc % C
            a = invstd[c]
            if wp != NULL:
                a = a * wp[c]
            b = -mean[c] * a
            if bp != NULL:
                b = bp[c] - mean[c] * a
            _affine(&x[nc * HW], &y[nc * HW], HW, a, b)


def batchnorm_backward(const floating[::1] gy, const floating[::1] x,
                       const floating[::1] mean, const floating[::1] invstd,
                       const floating[::1] weight, floating[::1] gx, floating[::1] gw,
                       floating[::1] gb, Py_ssize_t N, Py_ssize_t C, Py_ssize_t HW,
                       bint training):
    """Gradients of batch norm.  gx, gw, gb may each be None (not computed).

    training: mean/invstd are the batch statistics and the gradient flows through them;
    otherwise (eval) they are constants: gx = gy * invstd * weight.
    gw = sum(gy * (x - mean) * invstd), gb = sum(gy) over N and HW, both modes.
    """
    _check_dims("batchnorm_backward", N, C, HW)
    _check("batchnorm_backward", "gy", gy.shape[0], N * C * HW)
    _check("batchnorm_backward", "x", x.shape[0], N * C * HW)
    _check("batchnorm_backward", "mean", mean.shape[0], C)
    _check("batchnorm_backward", "invstd", invstd.shape[0], C)
    cdef const floating *wp = NULL
    cdef floating *gxp = NULL
    cdef floating *gwp = NULL
    cdef floating *gbp = NULL
    if weight is not None:
        _check("batchnorm_backward", "weight", weight.shape[0], C)
        if C > 0:
            wp = &weight[0]
    if gx is not None:
        _check("batchnorm_backward", "gx", gx.shape[0], N * C * HW)
        if gx.shape[0] > 0:
            gxp = &gx[0]
    if gw is not None:
        _check("batchnorm_backward", "gw", gw.shape[0], C)
        if C > 0:
            gwp = &gw[0]
    if gb is not None:
        _check("batchnorm_backward", "gb", gb.shape[0], C)
        if C > 0:
            gbp = &gb[0]
    if C == 0:
        return
    cdef Py_ssize_t c
    cdef double sg, sgx, cnt = <double>(N * HW)
    cdef floating k, gm, s, mc
    cdef const floating *gyp = &gy[0] if gy.shape[0] > 0 else NULL
    cdef const floating *xp = &x[0] if x.shape[0] > 0 else NULL
    cdef bint need_red = gwp != NULL or gbp != NULL or (training and gxp != NULL)
    with nogil:
        for c in prange(C, schedule='static', use_threads_if=N * C * HW > THRESHOLD):
            mc = mean[c]
            sg = 0.0
            sgx = 0.0
            if need_red:
                _sum_dot(gyp + c * HW, xp + c * HW, N, C * HW, HW, <double>mc, &sg, &sgx)
                if gwp != NULL:
                    gwp[c] = <floating>(sgx * <double>invstd[c])
                if gbp != NULL:
                    gbp[c] = <floating>sg
            if gxp != NULL:
                s = invstd[c]
                if wp != NULL:
                    s = s * wp[c]
                if training:
                    k = <floating>(sgx * <double>invstd[c] * <double>invstd[c] / cnt)
                    gm = <floating>(sg / cnt)
                    _bn_gx(gyp + c * HW, xp + c * HW, gxp + c * HW, N, C * HW, HW, mc, k, gm, s)
                else:
                    _scale(gyp + c * HW, gxp + c * HW, N, C * HW, HW, s)


def layernorm_forward(const floating[::1] x, const floating[::1] weight,
                      const floating[::1] bias, floating[::1] y, floating[::1] mean,
                      floating[::1] rstd, Py_ssize_t M, Py_ssize_t D, double eps):
    """Layer norm over the last D elements of M rows; saves per-row mean and rstd."""
    _check_dims("layernorm_forward", M, D, 0)
    _check("layernorm_forward", "x", x.shape[0], M * D)
    _check("layernorm_forward", "y", y.shape[0], M * D)
    _check("layernorm_forward", "mean", mean.shape[0], M)
    _check("layernorm_forward", "rstd", rstd.shape[0], M)
    cdef const floating *wp = NULL
    cdef const floating *bp = NULL
    if weight is not None:
        _check("layernorm_forward", "weight", weight.shape[0], D)
        if D > 0:
            wp = &weight[0]
    if bias is not None:
        _check("layernorm_forward", "bias", bias.shape[0], D)
        if D > 0:
            bp = &bias[0]
    if M == 0 or D == 0:
        if M > 0:
            mean[:] = float("nan")
            rstd[:] = float("nan")
        return
    cdef Py_ssize_t i, rb, nt, t, r0
    if floating is float:
        # float32: chunks of rows (~16 KiB) per task, float lane sums (_rowops_f32.h)
        rb = (4096 + D - 1) // D
        nt = (M + rb - 1) // rb
        with nogil:
            for t in prange(nt, schedule='static', use_threads_if=M * D > THRESHOLD):
                r0 = t * rb
                ctr_layernorm_fwd_rows_f32(&x[r0 * D], &y[r0 * D], min(rb, M - r0), D, wp, bp,
                                           eps, &mean[r0], &rstd[r0])
        return
    with nogil:
        for i in prange(M, schedule='static', use_threads_if=M * D > THRESHOLD):
            _ln_fwd_row(&x[i * D], &y[i * D], D, wp, bp, eps, &mean[i], &rstd[i])


def layernorm_backward(const floating[::1] gy, const floating[::1] x,
                       const floating[::1] mean, const floating[::1] rstd,
                       const floating[::1] weight, floating[::1] gx, floating[::1] gw,
                       floating[::1] gb, Py_ssize_t M, Py_ssize_t D):
    """Gradients of layer norm.  gx, gw, gb may each be None.

    gw/gb are reduced over rows in fixed blocks (at most 256 blocks; the size depends only
    on M) with partials in the input dtype, then the blocks are summed in order in double:
    deterministic for any thread count.
    """
    _check_dims("layernorm_backward", M, D, 0)
    _check("layernorm_backward", "gy", gy.shape[0], M * D)
    _check("layernorm_backward", "x", x.shape[0], M * D)
    _check("layernorm_backward", "mean", mean.shape[0], M)
    _check("layernorm_backward", "rstd", rstd.shape[0], M)
    cdef const floating *wp = NULL
    cdef floating *gxp = NULL
    if weight is not None:
        _check("layernorm_backward", "weight", weight.shape[0], D)
        if D > 0:
            wp = &weight[0]
    if gx is not None:
        _check("layernorm_backward", "gx", gx.shape[0], M * D)
        if gx.shape[0] > 0:
            gxp = &gx[0]
    if gw is not None:
        _check("layernorm_backward", "gw", gw.shape[0], D)
    if gb is not None:
        _check("layernorm_backward", "gb", gb.shape[0], D)
    if D == 0:
        return
    if M == 0:
        if gw is not None:
            gw[:] = 0
        if gb is not None:
            gb[:] = 0
        return
    cdef Py_ssize_t rb = (M + LN_MAX_BLOCKS - 1) // LN_MAX_BLOCKS
    if rb < 16:
        rb = 16
    cdef Py_ssize_t nb = (M + rb - 1) // rb
    dt = np.float32 if floating is float else np.float64
    cdef floating[:, :] pgw_arr = None
    cdef floating[:, :] pgb_arr = None
    cdef floating *pgw = NULL
    cdef floating *pgb = NULL
    cdef Py_ssize_t ps = D  # row stride of the partials
    if gw is not None:
        pgw_arr = _partials(nb, D, &gy[0], 1024, dt, 0)
        pgw = &pgw_arr[0, 0]
        ps = pgw_arr.strides[0] // sizeof(floating)
    if gb is not None:
        pgb_arr = _partials(nb, D, &gy[0], 3072, dt, 1)
        pgb = &pgb_arr[0, 0]
        ps = pgb_arr.strides[0] // sizeof(floating)
    cdef Py_ssize_t blk, i, i1, jb, j1
    cdef Py_ssize_t CB = 256
    cdef Py_ssize_t ncb = (D + CB - 1) // CB
    with nogil:
        for blk in prange(nb, schedule='static', use_threads_if=M * D > THRESHOLD):
            if pgw != NULL:
                memset(pgw + blk * ps, 0, D * sizeof(floating))
            if pgb != NULL:
                memset(pgb + blk * ps, 0, D * sizeof(floating))
            i1 = (blk + 1) * rb
            if i1 > M:
                i1 = M
            if floating is float:
                ctr_layernorm_bwd_rows_f32(&gy[blk * rb * D], &x[blk * rb * D],
                                           (gxp + blk * rb * D) if gxp != NULL else NULL,
                                           i1 - blk * rb, D, &mean[blk * rb], &rstd[blk * rb],
                                           wp, (pgw + blk * ps) if pgw != NULL else NULL,
                                           (pgb + blk * ps) if pgb != NULL else NULL)
            else:
                for i in range(blk * rb, i1):
                    _ln_bwd_row(&gy[i * D], &x[i * D], (gxp + i * D) if gxp != NULL else NULL,
                                D, mean[i], rstd[i], wp,
                                (pgw + blk * ps) if pgw != NULL else NULL,
                                (pgb + blk * ps) if pgb != NULL else NULL)
        if pgw != NULL or pgb != NULL:
            for jb in prange(ncb, schedule='static', use_threads_if=nb * D > THRESHOLD):
                j1 = (jb + 1) * CB
                if j1 > D:
                    j1 = D
                if pgw != NULL:
                    _colsum(pgw, nb, ps, jb * CB, j1, &gw[jb * CB])
                if pgb != NULL:
                    _colsum(pgb, nb, ps, jb * CB, j1, &gb[jb * CB])
