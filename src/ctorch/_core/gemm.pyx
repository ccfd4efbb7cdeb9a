# cython: language_level=3
"""ctorch CPU kernels: single-precision GEMM (AVX-512 micro-kernel, Goto/BLIS packing).

``sgemm(a, b, out, reduce_batch=False, accumulate=False)`` computes, for 3-D float32 arrays
with any element strides (transposed views included),

    out[i] = a[i] @ b[i]                 (reduce_batch=False; a or b may have batch 1)
    out[0] = sum_i a[i] @ b[i]           (reduce_batch=True; out has batch 1)

and adds to ``out`` instead of overwriting it when ``accumulate``.  Work is split over
(batch, column blocks), never over K, so results are bitwise identical for any thread
count.  ``SGEMM_AVX512`` says whether the fast micro-kernel runs on this CPU; without it the
kernel is a portable (slow) C loop and callers should prefer NumPy's matmul.

``conv2d_fused_forward`` / ``conv2d_fused_backward`` run a whole float32 conv2d (groups 1)
one image per thread at a time on this kernel, with im2col/col2im into an L2-sized per-thread
buffer instead of whole-batch column arrays (``_conv_f32.h``).
"""

cdef extern from "_gemm_f32.h" nogil:
    int ct_max_threads()
    int ct_have_avx512()
    int ct_sgemm_bias(int nbatch, int M, int N, int K,
                      const float *A, Py_ssize_t a_bs, Py_ssize_t a_rs, Py_ssize_t a_cs,
                      const float *B, Py_ssize_t b_bs, Py_ssize_t b_rs, Py_ssize_t b_cs,
                      float *C, Py_ssize_t c_bs, Py_ssize_t c_rs, Py_ssize_t c_cs,
                      int reduce_batch, int accumulate, int nthreads, int use_simd,
                      const float *bias)

cdef extern from "_conv_f32.h" nogil:
    ctypedef struct ctc_geom:
        int N, C, H, W, OC, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow
    int ct_conv2d_fwd_f32(const float *x, const float *w, const float *bias, float *y,
                          const ctc_geom *g, int nthreads, int use_simd)
    int ct_conv2d_bwd_f32(const float *gy, const float *x, const float *w, float *gx,
                          float *gw, const ctc_geom *g, int nthreads, int use_simd)

SGEMM_AVX512 = bool(ct_have_avx512())

cdef Py_ssize_t INT_MAX_ = 2147483647


def sgemm(const float[:, :, :] a, const float[:, :, :] b, float[:, :, :] out,
          bint reduce_batch=False, bint accumulate=False, bint simd=True, bias=None,
          int threads=0):
    """out (+)= a @ b batched (or summed over the batch); see the module docstring.
    ``bias`` (N,) float32 C-contiguous, when given, is added to every row of out after its
    sum (nn.Linear: tile by tile while the tile is in cache; the same bits as adding it
    after the product).

    ``simd=False`` forces the portable micro-kernel (tests). ``threads`` > 0 caps the
    OpenMP threads of this call (the result does not depend on it)."""
    cdef Py_ssize_t ba = a.shape[0], M = a.shape[1], K = a.shape[2]
    cdef Py_ssize_t bb = b.shape[0], N = b.shape[2]
    cdef Py_ssize_t nb = ba if ba > bb else bb
    if b.shape[1] != K:
        raise ValueError(f"sgemm: a is ({ba}, {M}, {K}) and b is ({bb}, {b.shape[1]}, {N}): "
                         f"inner sizes {K} and {b.shape[1]} differ")
    if (ba != nb and ba != 1) or (bb != nb and bb != 1):
        raise ValueError(f"sgemm: batch sizes {ba} and {bb} do not broadcast")
    cdef const float[::1] bv
    cdef const float *pbias = NULL
    if bias is not None:
        bv = bias
        if bv.shape[0] != N:
            raise ValueError(f"sgemm: bias has {bv.shape[0]} elements, expected {N}")
        if N > 0:
            pbias = &bv[0]
    cdef Py_ssize_t want = 1 if reduce_batch else nb
    if out.shape[0] != want or out.shape[1] != M or out.shape[2] != N:
        raise ValueError(f"sgemm: out is ({out.shape[0]}, {out.shape[1]}, {out.shape[2]}), "
                         f"expected ({want}, {M}, {N})")
    if M > INT_MAX_ or N > INT_MAX_ or K > INT_MAX_ or nb > INT_MAX_:
        raise ValueError("sgemm: sizes above 2**31-1 are not supported")
    if M == 0 or N == 0 or out.shape[0] == 0:
        return
    cdef Py_ssize_t s = sizeof(float)
    cdef Py_ssize_t a_bs = a.strides[0] // s if ba > 1 else 0
    cdef Py_ssize_t b_bs = b.strides[0] // s if bb > 1 else 0
    if reduce_batch and ba == 1 and bb == 1:
        nb = 1
    cdef int nt = ct_max_threads()
    if 0 < threads < nt:
        nt = threads
    cdef int rc
    cdef const float *pa = &a[0, 0, 0] if K > 0 and ba > 0 else NULL
    cdef const float *pb = &b[0, 0, 0] if K > 0 and bb > 0 else NULL
    with nogil:
        rc = ct_sgemm_bias(<int>nb, <int>M, <int>N, <int>K,
                           pa, a_bs, a.strides[1] // s, a.strides[2] // s,
                           pb, b_bs, b.strides[1] // s, b.strides[2] // s,
                           &out[0, 0, 0], out.strides[0] // s, out.strides[1] // s,
                           out.strides[2] // s, reduce_batch, accumulate, nt, simd, pbias)
    if rc != 0:
        raise MemoryError("sgemm: could not allocate packing buffers")


def sgemm_num_threads():
    """The OpenMP thread count sgemm runs with (ctorch.set_num_threads)."""
    return ct_max_threads()


include "_window.pxi"
include "_rnn_layer.pxi"


cdef int _conv_geom(ctc_geom *g, str op, object geo, Py_ssize_t OC) except -1:
    """g = the window geo (ctorch._geometry.Window2d) with OC output channels, checked."""
    cdef win2d w
    _window(&w, op, geo)
    if OC < 0:
        raise ValueError(f"{op}: invalid geometry OC={OC}")
    if w.oh != (w.H + 2 * w.ph - w.dh * (w.kh - 1) - 1) // w.sh + 1 or \
            w.ow != (w.W + 2 * w.pw - w.dw * (w.kw - 1) - 1) // w.sw + 1:
        raise ValueError(f"{op}: output size ({w.oh}, {w.ow}) does not match the geometry")
    if (w.C * w.kh * w.kw * max(w.oh * w.ow, 1) > INT_MAX_
            or w.N * max(w.C * w.H * w.W, OC * w.oh * w.ow) > INT_MAX_):
        raise ValueError(f"{op}: sizes above 2**31-1 are not supported")
    g.N, g.C, g.H, g.W, g.OC = w.N, w.C, w.H, w.W, OC
    g.kh, g.kw, g.sh, g.sw, g.ph, g.pw = w.kh, w.kw, w.sh, w.sw, w.ph, w.pw
    g.dh, g.dw, g.oh, g.ow = w.dh, w.dw, w.oh, w.ow
    return 0


cdef int _check_size(str op, str name, Py_ssize_t got, Py_ssize_t want) except -1:
    if got != want:
        raise ValueError(f"{op}: {name} has {got} elements, expected {want}")
    return 0


cdef float *_out_ptr(str op, str name, float[::1] a, Py_ssize_t n) except? NULL:
    """Data pointer of a writable flat float32 array of n elements (NULL when empty); the
    caller keeps the array alive."""
    _check_size(op, name, a.shape[0], n)
    return &a[0] if n > 0 else NULL


cdef const float *_in_ptr(str op, str name, const float[::1] a, Py_ssize_t n) except? NULL:
    """Data pointer of a flat float32 input of n elements (NULL when empty)."""
    _check_size(op, name, a.shape[0], n)
    return &a[0] if n > 0 else NULL


def conv2d_fused_forward(x, w, b, y, geo, Py_ssize_t OC, bint simd=True):
    """y (N, OC, oh, ow) = conv2d(x (N, C, H, W), w (OC, C, kh, kw)) (+ b (OC,)), groups 1,
    float32, all flat C-contiguous; geo is the ctorch._geometry.Window2d over x.  One image
    per thread at a time (``_conv_f32.h``)."""
    cdef str op = "conv2d_fused_forward"
    cdef ctc_geom g
    _conv_geom(&g, op, geo, OC)
    cdef Py_ssize_t N = g.N, C = g.C, H = g.H, W = g.W, kh = g.kh, kw = g.kw
    cdef Py_ssize_t oh = g.oh, ow = g.ow
    cdef const float *px = _in_ptr(op, "x", x, N * C * H * W)
    cdef const float *pw_ = _in_ptr(op, "w", w, OC * C * kh * kw)
    cdef const float *pb = NULL if b is None else _in_ptr(op, "bias", b, OC)
    cdef float *py = _out_ptr(op, "y", y, N * OC * oh * ow)
    if py == NULL:
        return
    cdef int nt = ct_max_threads(), rc
    with nogil:
        rc = ct_conv2d_fwd_f32(px, pw_, pb, py, &g, nt, simd)
    if rc != 0:
        raise MemoryError(f"{op}: could not allocate work buffers")


def conv2d_fused_backward(gy, x, w, gx, gw, geo, Py_ssize_t OC, bint simd=True):
    """gx (N, C, H, W) and gw (OC, C, kh, kw) of conv2d (groups 1, float32, flat
    C-contiguous) from gy (N, OC, oh, ow); either output may be None (not computed), x may
    be None when gw is and w when gx is.
    dW sums the images in fixed chunks, so it is bitwise identical for any thread count."""
    cdef str op = "conv2d_fused_backward"
    cdef ctc_geom g
    _conv_geom(&g, op, geo, OC)
    cdef Py_ssize_t N = g.N, C = g.C, H = g.H, W = g.W, kh = g.kh, kw = g.kw
    cdef Py_ssize_t oh = g.oh, ow = g.ow
    cdef const float *pgy = _in_ptr(op, "gy", gy, N * OC * oh * ow)
    cdef const float *px = NULL
    cdef const float *pw_ = NULL
    cdef float *pgx = NULL
    cdef float *pgw = NULL
    if gx is not None:
        if w is None:
            raise ValueError(f"{op}: gx needs w")
        pgx = _out_ptr(op, "gx", gx, N * C * H * W)
        pw_ = _in_ptr(op, "w", w, OC * C * kh * kw)
    if gw is not None:
        if x is None:
            raise ValueError(f"{op}: gw needs x")
        pgw = _out_ptr(op, "gw", gw, OC * C * kh * kw)
        px = _in_ptr(op, "x", x, N * C * H * W)
    if pgx == NULL and pgw == NULL:
        return
    cdef int nt = ct_max_threads(), rc
    with nogil:
        rc = ct_conv2d_bwd_f32(pgy, px, pw_, pgx, pgw, &g, nt, simd)
    if rc != 0:
        raise MemoryError(f"{op}: could not allocate work buffers")


cdef extern from "_winograd_f32.h" nogil:
    Py_ssize_t ctw_work_size(int N, int C, int H, int W, int OC)
    int ctw_conv3x3_f23(const float *x, const float *w, const float *bias, float *y, int N,
                        int C, int H, int W, int OC, int G, float *work, int flip,
                        int nthreads)
    Py_ssize_t ctw_wgrad_work_size(int N, int C, int H, int W, int OC)
    int ctw_conv3x3_f23_wgrad(const float *x, const float *gy, float *gw, int N, int C,
                              int H, int W, int OC, int G, float *work, int nthreads)


cdef int _wino_check(str op, Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                     Py_ssize_t OC, Py_ssize_t G=1) except -1:
    if not SGEMM_AVX512:
        raise RuntimeError(f"{op}: needs an AVX-512 CPU (check gemm.SGEMM_AVX512)")
    if min(N, C, H, W, OC) < 1:
        raise ValueError(f"{op}: sizes must be positive, got N={N} C={C} H={H} W={W} OC={OC}")
    if G < 1 or C % G or OC % G:
        raise ValueError(f"{op}: groups={G} must divide C={C} and OC={OC}")
    cdef Py_ssize_t Np = (N + 15) // 16 * 16, T = ((H + 1) // 2) * ((W + 1) // 2)
    if max(16 * C * T * Np, 16 * OC * T * Np, C * (H + 3) * (W + 3) * Np,
           N * max(C, OC) * H * W, 16 * OC * C) > INT_MAX_ // 4:
        raise ValueError(f"{op}: sizes above 2**29 are not supported")
    return 0


def winograd_work_size(Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OC,
                       bint wgrad=False):
    """Floats of the work buffer winograd_conv3x3 (``wgrad``: winograd_conv3x3_wgrad) needs
    for this shape."""
    _wino_check("winograd_work_size", N, C, H, W, OC)
    if wgrad:
        return ctw_wgrad_work_size(<int>N, <int>C, <int>H, <int>W, <int>OC)
    return ctw_work_size(<int>N, <int>C, <int>H, <int>W, <int>OC)


def winograd_conv3x3(x, w, b, y, Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                     Py_ssize_t OC, float[::1] work, bint flip=False, Py_ssize_t groups=1):
    """y (N, OC, H, W) = conv2d(x (N, C, H, W), w (OC, C, 3, 3), padding=1) (+ b (OC,) or
    None), or with ``flip`` with the kernel w[c][o] rotated by 180 degrees, w (C, OC/groups,
    3, 3) (the input gradient of conv2d(., w, padding=1), from gy as x): stride 1, dilation
    1, any ``groups``, float32, flat C-contiguous; Winograd F(2x2, 3x3)
    over 16 images per vector (``_winograd_f32.h``); ``work`` a float32 scratch buffer of at
    least winograd_work_size(...) elements (overwritten).  AVX-512 only (``SGEMM_AVX512``);
    bitwise identical for any thread count."""
    cdef str op = "winograd_conv3x3"
    _wino_check(op, N, C, H, W, OC, groups)
    cdef const float *px = _in_ptr(op, "x", x, N * C * H * W)
    cdef const float *pw_ = _in_ptr(op, "w", w, OC * (C // groups) * 9)
    cdef const float *pb = NULL if b is None else _in_ptr(op, "bias", b, OC)
    cdef float *py = _out_ptr(op, "y", y, N * OC * H * W)
    cdef Py_ssize_t need = ctw_work_size(<int>N, <int>C, <int>H, <int>W, <int>OC)
    if work.shape[0] < need:
        raise ValueError(f"{op}: work has {work.shape[0]} elements, expected at least {need}")
    cdef int nt = ct_max_threads(), rc
    with nogil:
        rc = ctw_conv3x3_f23(px, pw_, pb, py, <int>N, <int>C, <int>H, <int>W, <int>OC,
                             <int>groups, &work[0], flip, nt)
    if rc != 0:
        raise MemoryError(f"{op}: could not allocate work buffers")


def winograd_conv3x3_wgrad(x, gy, gw, Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                           Py_ssize_t OC, float[::1] work, Py_ssize_t groups=1):
    """gw (OC, C/groups, 3, 3) (overwritten) of conv2d(x (N, C, H, W), w, padding=1) from gy
    (N, OC, H, W): the gradient of the Winograd F(2x2, 3x3) forward (16 sgemm products over
    all tiles and images); ``work`` at least winograd_work_size(..., wgrad=True) floats.
    Bitwise identical for any thread count."""
    cdef str op = "winograd_conv3x3_wgrad"
    _wino_check(op, N, C, H, W, OC, groups)
    cdef const float *px = _in_ptr(op, "x", x, N * C * H * W)
    cdef const float *pgy = _in_ptr(op, "gy", gy, N * OC * H * W)
    cdef float *pgw = _out_ptr(op, "gw", gw, OC * (C // groups) * 9)
    cdef Py_ssize_t need = ctw_wgrad_work_size(<int>N, <int>C, <int>H, <int>W, <int>OC)
    if work.shape[0] < need:
        raise ValueError(f"{op}: work has {work.shape[0]} elements, expected at least {need}")
    cdef int nt = ct_max_threads(), rc
    with nogil:
        rc = ctw_conv3x3_f23_wgrad(px, pgy, pgw, <int>N, <int>C, <int>H, <int>W, <int>OC,
                                   <int>groups, &work[0], nt)
    if rc != 0:
        raise MemoryError(f"{op}: could not allocate work buffers")
