# cython: language_level=3
"""ctorch CPU kernels: pooling family (max/avg pooling 2-D over NCHW planes).

Windows follow torch's CPU kernels exactly: a max window is clipped to the input (padding
counts as -inf), the max index is an int64 offset into the H*W plane, and a NaN wins
(the last NaN in scan order).  Average windows are clipped at the padded border first
(that size is the count_include_pad divisor), then at the input.  Work is split over the
N*C planes; every plane is produced by one thread in a fixed order, so results are
identical for any thread count.  Backward kernels overwrite gx (they zero it themselves).
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t
from libc.string cimport memset

cdef extern from "_pool_simd.h" nogil:
    void ct_pool_init()
    void ct_maxpool22_row_f32(const float *r0, const float *r1, float *y, int64_t *idx,
                              int64_t ow, int64_t j0, int64_t W)
    void ct_maxpool22_row_f64(const double *r0, const double *r1, double *y, int64_t *idx,
                              int64_t ow, int64_t j0, int64_t W)

cdef Py_ssize_t THRESHOLD = 32768
ct_pool_init()


cdef inline void _maxpool22_row(const floating *r0, const floating *r1, floating *y,
                                int64_t *idx, Py_ssize_t ow, Py_ssize_t j0,
                                Py_ssize_t W) noexcept nogil:
    if floating is float:
        ct_maxpool22_row_f32(r0, r1, y, idx, ow, j0, W)
    else:
        ct_maxpool22_row_f64(r0, r1, y, idx, ow, j0, W)


include "_check.pxi"


include "_window.pxi"


cdef int _pool_window(win2d *g, str kernel, object geo, bint dilated) except -1:
    """g = geo, validated as a pooling window (dilated False: the dilation must be 1)."""
    _window(g, kernel, geo)
    if not dilated and (g.dh != 1 or g.dw != 1):
        raise ValueError(f"{kernel}: dilation ({g.dh}, {g.dw}) is not supported (must be 1)")
    cdef Py_ssize_t ekh = (g.kh - 1) * g.dh + 1, ekw = (g.kw - 1) * g.dw + 1
    if 2 * g.ph > ekh or 2 * g.pw > ekw:
        raise ValueError(f"{kernel}: padding ({g.ph}, {g.pw}) exceeds half the effective "
                         f"kernel ({ekh}, {ekw})")
    if (g.oh > 0 and (g.oh - 1) * g.sh - g.ph >= g.H) or \
            (g.ow > 0 and (g.ow - 1) * g.sw - g.pw >= g.W):
        raise ValueError(f"{kernel}: output ({g.oh}, {g.ow}) has windows starting past the "
                         f"input ({g.H}, {g.W}) with stride ({g.sh}, {g.sw}) padding "
                         f"({g.ph}, {g.pw})")
    return 0


def maxpool2d_forward(const floating[::1] x, floating[::1] y, int64_t[::1] idx, geo):
    """Max pooling; y and idx are (N, C, oh, ow), idx indexing each H*W input plane."""
    cdef win2d g
    _pool_window(&g, "maxpool2d_forward", geo, True)
    cdef Py_ssize_t N = g.N, C = g.C, H = g.H, W = g.W, kh = g.kh, kw = g.kw, sh = g.sh
    cdef Py_ssize_t sw = g.sw, ph = g.ph, pw = g.pw, dh = g.dh, dw = g.dw, oh = g.oh, ow = g.ow
    _check("maxpool2d_forward", "x", x.shape[0], N * C * H * W)
    _check("maxpool2d_forward", "y", y.shape[0], N * C * oh * ow)
    _check("maxpool2d_forward", "idx", idx.shape[0], N * C * oh * ow)
    if N * C * oh * ow == 0:
        return
    cdef Py_ssize_t nc, oy, ox, ih, iw, ih0, ih1, iw0, iw1, maxi
    cdef Py_ssize_t HW = H * W, OHW = oh * ow
    cdef const floating *xp
    cdef floating *yp
    cdef int64_t *ip
    cdef floating v, maxv
    cdef floating ninf = -float("inf")
    cdef bint fast22 = (kh == 2 and kw == 2 and sh == 2 and sw == 2 and ph == 0 and pw == 0
                        and dh == 1 and dw == 1 and 2 * oh <= H and 2 * ow <= W)
    with nogil:
        for nc in prange(N * C, schedule='static',
                         use_threads_if=N * C * (HW + OHW) > THRESHOLD):
            xp = &x[nc * HW]
            yp = &y[nc * OHW]
            ip = &idx[nc * OHW]
            if fast22:
                for oy in range(oh):
                    _maxpool22_row(xp + 2 * oy * W, xp + 2 * oy * W + W, yp + oy * ow,
                                   ip + oy * ow, ow, 2 * oy * W, W)
            else:
                for oy in range(oh):
                    ih0 = oy * sh - ph
                    ih1 = ih0 + (kh - 1) * dh + 1
                    if ih1 > H:
                        ih1 = H
                    while ih0 < 0:
                        ih0 = ih0 + dh
                    for ox in range(ow):
                        iw0 = ox * sw - pw
                        iw1 = iw0 + (kw - 1) * dw + 1
                        if iw1 > W:
                            iw1 = W
                        while iw0 < 0:
                            iw0 = iw0 + dw
                        maxi = ih0 * W + iw0
                        maxv = ninf
                        ih = ih0
                        while ih < ih1:
                            iw = iw0
                            while iw < iw1:
                                v = xp[ih * W + iw]
                                if v > maxv or v != v:
                                    maxv = v
                                    maxi = ih * W + iw
                                iw = iw + dw
                            ih = ih + dh
                        yp[oy * ow + ox] = maxv
                        ip[oy * ow + ox] = maxi


ctypedef fused pool_index:
    int32_t
    int64_t


def maxpool2d_backward(const floating[::1] gy, const pool_index[::1] idx, floating[::1] gx,
                       Py_ssize_t NC, Py_ssize_t HW, Py_ssize_t OHW):
    """gx (NC, HW) = scatter-add of gy (NC, OHW) at idx; gx is zeroed here first. idx is
    int64 or int32 (what max pooling keeps for backward when a plane has < 2**31 elements).

    Raises IndexError if an index lies outside [0, HW) (that plane is left partial).
    """
    if NC < 0 or HW < 0 or OHW < 0:
        raise ValueError(f"maxpool2d_backward: negative size ({NC}, {HW}, {OHW})")
    _check("maxpool2d_backward", "gy", gy.shape[0], NC * OHW)
    _check("maxpool2d_backward", "idx", idx.shape[0], NC * OHW)
    _check("maxpool2d_backward", "gx", gx.shape[0], NC * HW)
    if NC * HW == 0:
        return
    cdef Py_ssize_t nc, j
    cdef int64_t k
    cdef floating *gp
    cdef int bad[1]
    bad[0] = 0
    with nogil:
        for nc in prange(NC, schedule='static', use_threads_if=NC * (HW + OHW) > THRESHOLD):
            gp = &gx[nc * HW]
            memset(gp, 0, HW * sizeof(floating))
            for j in range(OHW):
                k = idx[nc * OHW + j]
                if k < 0 or k >= HW:
                    bad[0] = 1
                else:
                    gp[k] = gp[k] + gy[nc * OHW + j]
    if bad[0]:
        raise IndexError(f"maxpool2d_backward: an index lies outside [0, {HW})")


ctypedef struct avgwin:
    Py_ssize_t h0, h1, w0, w1, div


cdef inline avgwin _avg_window(Py_ssize_t ih0, Py_ssize_t iw0, Py_ssize_t H, Py_ssize_t W,
                               Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t ph, Py_ssize_t pw,
                               Py_ssize_t dov, bint count_include_pad) noexcept nogil:
    """The average-pooling window starting at (ih0, iw0): its rows [h0, h1) and columns
    [w0, w1) inside the image, and its divisor (divisor_override ``dov``, else the window
    clipped to the padded image if count_include_pad, else the inside count); div 0 when the
    window holds no input element."""
    cdef avgwin r
    cdef Py_ssize_t ih1 = ih0 + kh, iw1 = iw0 + kw, pool
    if ih1 > H + ph:
        ih1 = H + ph
    if iw1 > W + pw:
        iw1 = W + pw
    pool = (ih1 - ih0) * (iw1 - iw0)
    if ih0 < 0:
        ih0 = 0
    if iw0 < 0:
        iw0 = 0
    if ih1 > H:
        ih1 = H
    if iw1 > W:
        iw1 = W
    r.h0, r.h1, r.w0, r.w1 = ih0, ih1, iw0, iw1
    if ih0 >= ih1 or iw0 >= iw1:
        r.div = 0
    elif dov:
        r.div = dov
    elif count_include_pad:
        r.div = pool
    else:
        r.div = (ih1 - ih0) * (iw1 - iw0)
    return r


def avgpool2d_forward(const floating[::1] x, floating[::1] y, geo,
                      bint count_include_pad, divisor_override=None):
    """Average pooling; divisor_override None or 0 means none."""
    cdef win2d g
    _pool_window(&g, "avgpool2d_forward", geo, False)
    cdef Py_ssize_t N = g.N, C = g.C, H = g.H, W = g.W, kh = g.kh, kw = g.kw, sh = g.sh
    cdef Py_ssize_t sw = g.sw, ph = g.ph, pw = g.pw, oh = g.oh, ow = g.ow
    _check("avgpool2d_forward", "x", x.shape[0], N * C * H * W)
    _check("avgpool2d_forward", "y", y.shape[0], N * C * oh * ow)
    cdef Py_ssize_t dov = 0 if divisor_override is None else divisor_override
    if dov < 0:
        raise ValueError(f"avgpool2d_forward: divisor_override {dov} < 0")
    if N * C * oh * ow == 0:
        return
    cdef Py_ssize_t nc, oy, ox, ih, iw
    cdef avgwin wd
    cdef Py_ssize_t HW = H * W, OHW = oh * ow
    cdef const floating *xp
    cdef floating *yp
    cdef floating s
    with nogil:
        for nc in prange(N * C, schedule='static',
                         use_threads_if=N * C * (HW + OHW) > THRESHOLD):
            xp = &x[nc * HW]
            yp = &y[nc * OHW]
            for oy in range(oh):
                for ox in range(ow):
                    wd = _avg_window(oy * sh - ph, ox * sw - pw, H, W, kh, kw, ph, pw, dov,
                                     count_include_pad)
                    if wd.div == 0:
                        yp[oy * ow + ox] = 0
                        continue
                    s = 0
                    for ih in range(wd.h0, wd.h1):
                        for iw in range(wd.w0, wd.w1):
                            s = s + xp[ih * W + iw]
                    yp[oy * ow + ox] = s / <floating>wd.div


def avgpool2d_backward(const floating[::1] gy, floating[::1] gx, geo,
                       bint count_include_pad, divisor_override=None):
    """Gradient of average pooling; gx is zeroed here first."""
    cdef win2d g
    _pool_window(&g, "avgpool2d_backward", geo, False)
    cdef Py_ssize_t N = g.N, C = g.C, H = g.H, W = g.W, kh = g.kh, kw = g.kw, sh = g.sh
    cdef Py_ssize_t sw = g.sw, ph = g.ph, pw = g.pw, oh = g.oh, ow = g.ow
    _check("avgpool2d_backward", "gy", gy.shape[0], N * C * oh * ow)
    _check("avgpool2d_backward", "gx", gx.shape[0], N * C * H * W)
    cdef Py_ssize_t dov = 0 if divisor_override is None else divisor_override
    if dov < 0:
        raise ValueError(f"avgpool2d_backward: divisor_override {dov} < 0")
    if N * C * H * W == 0:
        return
    cdef Py_ssize_t nc, oy, ox, ih, iw
    cdef avgwin wd
    cdef Py_ssize_t HW = H * W, OHW = oh * ow
    cdef const floating *gyp
    cdef floating *gp
    cdef floating d
    with nogil:
        for nc in prange(N * C, schedule='static',
                         use_threads_if=N * C * (HW + OHW) > THRESHOLD):
            gp = &gx[nc * HW]
            memset(gp, 0, HW * sizeof(floating))
            if OHW == 0:
                continue
            gyp = &gy[nc * OHW]
            for oy in range(oh):
                for ox in range(ow):
                    wd = _avg_window(oy * sh - ph, ox * sw - pw, H, W, kh, kw, ph, pw, dov,
                                     count_include_pad)
                    if wd.div == 0:
                        continue
                    d = gyp[oy * ow + ox] / <floating>wd.div
                    for ih in range(wd.h0, wd.h1):
                        for iw in range(wd.w0, wd.w1):
                            gp[ih * W + iw] = gp[ih * W + iw] + d
