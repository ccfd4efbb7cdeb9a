# cython: language_level=3
"""ctorch CPU kernels for float16 and bfloat16 (see _half_simd.h and docs/kernels.md).

Arrays are the 16-bit storage viewed as uint16 (``a.view(numpy.uint16)``); ``kind`` is 0 for
float16, 1 for bfloat16. Each kernel widens blocks of the inputs to float32 in L1-resident
scratch, runs the float32 SIMD loop of the op table on them and rounds the result once to
the 16-bit type. Chunks of ``CHUNK`` elements run on OpenMP threads above ``THRESHOLD``;
every element's arithmetic is independent of the thread count (bitwise deterministic).
"""
from cython.parallel cimport prange
from libc.stdint cimport uint16_t, uint32_t
from libc.stdlib cimport free, malloc

include "_elementwise_common.pxi"

cdef extern from "_half_simd.h" nogil:
    int ct_half_init()
    int ct_half_set_isa(int isa)
    int ct_half_set_fused(int on)
    void ct_widen(int kind, const uint16_t *s, float *d, ct_i n)
    void ct_narrow(int kind, const float *s, uint16_t *d, ct_i n)
    void ct_h_binary(int kind, int op, const uint16_t *x, const uint16_t *y, uint16_t *out,
                     ct_i n)
    void ct_h_binary_scalar(int kind, int op, const uint16_t *x, float s, uint16_t *out,
                            ct_i n, int rev)
    void ct_h_unary(int kind, int op, const uint16_t *x, uint16_t *out, ct_i n, float a,
                    float b)
    void ct_h_unary_backward(int kind, int op, const uint16_t *gy, const uint16_t *x,
                             const uint16_t *y, uint16_t *gx, ct_i n, float a, float b)
    float ct_h_sum(int kind, const uint16_t *x, ct_i n)
    int ct_have_avx512bf16()
    void ct_h_softmax_row(int kind, int mode, const uint16_t *a, const uint16_t *b,
                          uint16_t *out, ct_i n, float *scratch) noexcept
    int CTB_MR
    int CTB_NR
    void ctb_pack_a(uint32_t *dst, const uint16_t *a, ct_i rs, ct_i cs, int M, int K, int p)
    void ctb_pack_b(uint32_t *dst, const uint16_t *b, ct_i rs, ct_i cs, int K, int N, int q)
    void ctb_tile(const uint32_t *apk, const uint32_t *bpk, uint16_t *c, ct_i ldc, int M,
                  int N, int K, int p, int q)
    int ct_have_amx_bf16()
    int ctb_amx_set(int on)
    int ctb_amx_on()
    void *ctb_alloc64(size_t n)
    int CTB_AMX_MR
    int CTB_AMX_NR
    int CTB_AMX_KB
    void ctb_amx_pack_a(uint16_t *dst, const uint16_t *a, ct_i rs, ct_i cs, int M, int K,
                        int p, int kb)
    void ctb_amx_pack_b(uint32_t *dst, const uint16_t *b, ct_i rs, ct_i cs, int K, int N,
                        int q, int Kb)
    void ctb_amx_blocks(const uint16_t *apk, const uint32_t *bpk, int Kb, uint16_t *c,
                        ct_i ldc, int M, int N, int p0, int p1, int q)

ct_half_init()


def half_isa():
    """The float16 conversion path in use: 2 AVX-512, 1 F16C (AVX2), 0 portable."""
    return ct_half_init()


def set_half_isa(int isa):
    """Force a float16 conversion path (for tests); -1 picks the CPU's best again."""
    if isa < -1 or isa > 2:
        raise ValueError(f"set_half_isa: isa must be -1, 0, 1 or 2, got {isa}")
    return ct_half_set_isa(isa)


def _set_fused(bint on):
    """Let add/sub/mul/div take the fused AVX-512 loops (True, where the CPU allows) or only
    the blocked kernels (False), for tests; returns whether the fused loops are now used."""
    return bool(ct_half_set_fused(on))


cdef inline void _check_kind(str kernel, int kind) except *:
    if kind != 0 and kind != 1:
        raise ValueError(f"{kernel}: kind must be 0 (float16) or 1 (bfloat16), got {kind}")


cdef enum:
    # the kernels of _h_apply
    H_WIDEN
    H_NARROW
    H_BINARY
    H_BINARY_SCALAR
    H_UNARY
    H_UNARY_BACKWARD


cdef inline void _h_apply(int k, int kind, int op, const uint16_t *x, const uint16_t *y,
                          const uint16_t *z, uint16_t *out, float *f, Py_ssize_t s,
                          Py_ssize_t n, float a, float b, int rev) noexcept nogil:
    """Kernel k (H_*) on elements [s, s + n): x, y, z are 16-bit inputs (unary_backward: gy,
    x, y), out the 16-bit output, f the float32 side of widen (output) and narrow (input)."""
    if k == H_WIDEN:
        ct_widen(kind, x + s, f + s, n)
    elif k == H_NARROW:
        ct_narrow(kind, f + s, out + s, n)
    elif k == H_BINARY:
        ct_h_binary(kind, op, x + s, y + s, out + s, n)
    elif k == H_BINARY_SCALAR:
        ct_h_binary_scalar(kind, op, x + s, a, out + s, n, rev)
    elif k == H_UNARY:
        ct_h_unary(kind, op, x + s, out + s, n, a, b)
    elif k == H_UNARY_BACKWARD:
        ct_h_unary_backward(kind, op, x + s, y + s, z + s, out + s, n, a, b)


cdef inline void _h_chunks(int k, int kind, int op, const uint16_t *x, const uint16_t *y,
                           const uint16_t *z, uint16_t *out, float *f, Py_ssize_t n,
                           Py_ssize_t thr, float a=0.0, float b=0.0, int rev=0) noexcept nogil:
    """Kernel k on [0, n) in work items of CHUNK elements, on threads when n > thr."""
    cdef Py_ssize_t i, s, nch = (n + CHUNK - 1) // CHUNK
    for i in prange(nch, schedule='static', use_threads_if=n > thr):
        s = i * CHUNK
        _h_apply(k, kind, op, x, y, z, out, f, s, min(s + CHUNK, n) - s, a, b, rev)


def widen(int kind, const uint16_t[::1] x, float[::1] out):
    """out = float32(x)."""
    cdef Py_ssize_t n = out.shape[0]
    _check_kind("widen", kind)
    _check("widen", "x", x.shape[0], n)
    with nogil:
        _h_chunks(H_WIDEN, kind, 0, &x[0], NULL, NULL, NULL, &out[0], n, THRESHOLD)


def narrow(int kind, const float[::1] x, uint16_t[::1] out):
    """out = x rounded to nearest even in the 16-bit type."""
    cdef Py_ssize_t n = out.shape[0]
    _check_kind("narrow", kind)
    _check("narrow", "x", x.shape[0], n)
    with nogil:
        _h_chunks(H_NARROW, kind, 0, NULL, NULL, NULL, &out[0], <float *>&x[0], n, THRESHOLD)


def h_binary(int kind, int op, const uint16_t[::1] x, const uint16_t[::1] y, uint16_t[::1] out):
    """out[i] = x[i] op y[i] for BIN_* op, in float32, rounded once."""
    cdef Py_ssize_t n = out.shape[0]
    _check_kind("h_binary", kind)
    _check_bin("h_binary", op)
    _check("h_binary", "x", x.shape[0], n)
    _check("h_binary", "y", y.shape[0], n)
    with nogil:
        _h_chunks(H_BINARY, kind, op, &x[0], &y[0], NULL, &out[0], NULL, n, THRESHOLD)


def h_binary_scalar(int kind, int op, const uint16_t[::1] x, double sc, uint16_t[::1] out,
                    bint reverse=False):
    """out[i] = x[i] op s (s op x[i] if reverse); s is used as float32."""
    cdef Py_ssize_t n = out.shape[0]
    _check_kind("h_binary_scalar", kind)
    _check_bin("h_binary_scalar", op)
    _check("h_binary_scalar", "x", x.shape[0], n)
    with nogil:
        _h_chunks(H_BINARY_SCALAR, kind, op, &x[0], NULL, NULL, &out[0], NULL, n, THRESHOLD,
                  <float>sc, 0.0, reverse)


def h_binary_bcast(int kind, int op, const uint16_t[::1] x, const uint16_t[::1] y,
                   uint16_t[::1] out, Py_ssize_t outer, Py_ssize_t mid, Py_ssize_t inner,
                   bint reverse=False):
    """out[i,j,k] = x[i,j,k] op y[j] (y[j] op x[i,j,k] if reverse)."""
    cdef Py_ssize_t n, t, nch, ntask, rl, row, s
    cdef int rev = reverse
    cdef float yj
    cdef const uint16_t *xr
    _check_kind("h_binary_bcast", kind)
    _check_bin("h_binary_bcast", op)
    n = _bcast_check("h_binary_bcast", x.shape[0], y.shape[0], out.shape[0], outer, mid, inner)
    if n == 0:
        return
    ntask = _bcast_tasks(outer, mid, inner, &rl, &nch)
    with nogil:
        if inner == 1:
            for t in prange(ntask, schedule='static', use_threads_if=n > THRESHOLD):
                row = t // nch
                s = (t - row * nch) * CHUNK
                xr = &x[row * mid]
                _h_apply(H_BINARY, kind, op, &y[0] if rev else xr, xr if rev else &y[0], NULL,
                         &out[row * mid], NULL, s, min(s + CHUNK, rl) - s, 0.0, 0.0, 0)
        else:
            for t in prange(ntask, schedule='static', use_threads_if=n > THRESHOLD):
                row = t // nch
                s = (t - row * nch) * CHUNK
                yj = 0.0  # assigned in the body: thread-private (see test_prange_privacy)
                ct_widen(kind, &y[row % mid], &yj, 1)
                _h_apply(H_BINARY_SCALAR, kind, op, &x[0], NULL, NULL, &out[0], NULL,
                         row * inner + s, min(s + CHUNK, rl) - s, yj, 0.0, rev)


def h_unary(int kind, int op, const uint16_t[::1] x, uint16_t[::1] out, double a=0.0,
            double b=0.0):
    """out[i] = f(x[i]; a, b) for UN_* op, in float32, rounded once."""
    cdef Py_ssize_t n = out.shape[0]
    _check_kind("h_unary", kind)
    _check_un("h_unary", op)
    _check("h_unary", "x", x.shape[0], n)
    _bounds(op, &a, &b)
    with nogil:
        _h_chunks(H_UNARY, kind, op, &x[0], NULL, NULL, &out[0], NULL, n, _unary_threshold(op),
                  <float>a, <float>b)


def h_unary_backward(int kind, int op, const uint16_t[::1] gy, const uint16_t[::1] x,
                     const uint16_t[::1] y, uint16_t[::1] gx, double a=0.0, double b=0.0):
    """gx[i] = gy[i] * f'(x[i]) (given y = f(x)), in float32, rounded once."""
    cdef Py_ssize_t n = gx.shape[0]
    _check_kind("h_unary_backward", kind)
    if op < 0 or op >= CT_UN_COUNT or not ct_unary_has_backward(op):
        raise ValueError(f"h_unary_backward: op code {op} has no backward kernel")
    _check("h_unary_backward", "gy", gy.shape[0], n)
    _check("h_unary_backward", "x", x.shape[0], n)
    _check("h_unary_backward", "y", y.shape[0], n)
    _bounds(op, &a, &b)
    with nogil:
        _h_chunks(H_UNARY_BACKWARD, kind, op, &gy[0], &x[0], &y[0], &gx[0], NULL, n,
                  _unary_threshold(op), <float>a, <float>b)


def h_sum_rows(int kind, const uint16_t[::1] x, float[::1] out, Py_ssize_t m, Py_ssize_t n):
    """out[i] = sum of row i of x (m rows of n), accumulated in float32 (fixed order)."""
    cdef Py_ssize_t i
    _check_kind("h_sum_rows", kind)
    if m < 0 or n < 0:
        raise ValueError(f"h_sum_rows: negative shape ({m}, {n})")
    _check("h_sum_rows", "x", x.shape[0], m * n)
    _check("h_sum_rows", "out", out.shape[0], m)
    with nogil:
        for i in prange(m, schedule='static', use_threads_if=m * n > THRESHOLD):
            out[i] = ct_h_sum(kind, &x[i * n], n)


cdef enum:
    COLBLK = 256  # columns per task of h_sum_cols (a stack block of doubles and floats)


cdef void _sum_cols_block(int kind, const uint16_t *x, Py_ssize_t ld, Py_ssize_t m,
                          Py_ssize_t w, float *out) noexcept nogil:
    """out[j] = sum_i x[i * ld + j] for j < w <= COLBLK, rows in order, float64 sums."""
    cdef double acc[COLBLK]
    cdef float row[COLBLK]
    cdef Py_ssize_t i, j
    for j in range(w):
        acc[j] = 0.0
    for i in range(m):
        ct_widen(kind, x + i * ld, row, w)
        for j in range(w):
            acc[j] = acc[j] + row[j]
    for j in range(w):
        out[j] = <float>acc[j]


def h_sum_cols(int kind, const uint16_t[:, ::1] x, float[::1] out):
    """out[j] = sum over the rows of column j of x (m x n), rows added in order in float64
    (each 16-bit value is exact in float32 and float64): nn.Linear's bias gradient without a
    float32 copy of the whole gradient. Threads split columns, so the result does not depend
    on the thread count."""
    cdef Py_ssize_t m = x.shape[0], n = x.shape[1], nt, t, c0
    _check_kind("h_sum_cols", kind)
    _check("h_sum_cols", "out", out.shape[0], n)
    if n == 0:
        return
    if m == 0:
        out[:] = 0
        return
    nt = (n + COLBLK - 1) // COLBLK
    with nogil:
        for t in prange(nt, schedule='static', use_threads_if=m * n > THRESHOLD):
            c0 = t * COLBLK
            _sum_cols_block(kind, &x[0, c0], n, m, min(n - c0, <Py_ssize_t>COLBLK), &out[c0])


HAVE_AMX_BF16 = bool(ct_have_amx_bf16())
HAVE_AVX512_BF16 = bool(ct_have_avx512bf16())
HAVE_BF16_DOT = HAVE_AVX512_BF16 or HAVE_AMX_BF16

# row panels per AMX task (even: the kernel takes them in pairs): a task keeps one B panel
# hot in L2 and walks up to 8 row panels
DEF AMX_PANELS = 8


def _set_amx(bint on):
    """Route bgemm through AMX (True, where present) or the AVX-512 BF16 kernel (False), for
    tests and benchmarks; returns whether AMX is now used."""
    return bool(ctb_amx_set(on))


def bgemm(const uint16_t[:, :] a, const uint16_t[:, :] b, uint16_t[:, ::1] out):
    """out (M x N, bfloat16) = a (M x K) @ b (K x N), bfloat16 arrays viewed as uint16 (any
    strides), float32 accumulation, rounded once; on AMX tiles where the CPU has them, else by
    AVX-512 BF16 dot products. Each element's sum runs in one fixed order on one thread, so the
    result does not depend on the thread count."""
    cdef int M = a.shape[0], K = a.shape[1], N = b.shape[1]
    if not HAVE_BF16_DOT:
        raise RuntimeError("bgemm: this CPU has no AVX-512 BF16 or AMX-BF16 instructions")
    if b.shape[0] != K:
        raise ValueError(f"bgemm: inner sizes differ ({K} and {b.shape[0]})")
    if out.shape[0] != M or out.shape[1] != N:
        raise ValueError(
            f"bgemm: out has shape ({out.shape[0]}, {out.shape[1]}), expected ({M}, {N})"
        )
    if M == 0 or N == 0:
        return
    if K == 0:
        out[:, :] = 0
        return
    if ctb_amx_on():
        _bgemm_amx(a, b, out)
    elif HAVE_AVX512_BF16:
        _bgemm_avx512(a, b, out)
    else:
        raise RuntimeError("bgemm: AMX is switched off and this CPU has no AVX-512 BF16")


cdef void _bgemm_avx512(const uint16_t[:, :] a, const uint16_t[:, :] b,
                        uint16_t[:, ::1] out) except *:
    cdef int M = a.shape[0], K = a.shape[1], N = b.shape[1]
    cdef int npa, npb, Kp, t, p, q
    cdef ct_i ars = a.strides[0] // 2, acs = a.strides[1] // 2
    cdef ct_i brs = b.strides[0] // 2, bcs = b.strides[1] // 2
    cdef uint32_t *apk
    cdef uint32_t *bpk
    npa = (M + CTB_MR - 1) // CTB_MR
    npb = (N + CTB_NR - 1) // CTB_NR
    Kp = (K + 1) // 2
    apk = <uint32_t *>malloc(<size_t>npa * Kp * CTB_MR * 4)
    bpk = <uint32_t *>malloc(<size_t>npb * Kp * CTB_NR * 4)
    if apk == NULL or bpk == NULL:
        free(apk)
        free(bpk)
        raise MemoryError("bgemm: no memory for the packed operands")
    try:
        with nogil:
            for p in prange(npa, schedule='static', use_threads_if=npa * Kp > 4096):
                ctb_pack_a(&apk[<ct_i>p * Kp * CTB_MR], &a[0, 0], ars, acs, M, K, p)
            for q in prange(npb, schedule='static', use_threads_if=npb * Kp > 4096):
                ctb_pack_b(&bpk[<ct_i>q * Kp * CTB_NR], &b[0, 0], brs, bcs, K, N, q)
            # tiles column-panel-major: a thread's consecutive tiles share one B panel
            for t in prange(npa * npb, schedule='static',
                            use_threads_if=<double>M * N * K > 262144.0):
                q = t // npa
                p = t - q * npa
                ctb_tile(apk, bpk, &out[0, 0], N, M, N, K, p, q)
    finally:
        free(apk)
        free(bpk)


cdef void _bgemm_amx(const uint16_t[:, :] a, const uint16_t[:, :] b,
                     uint16_t[:, ::1] out) except *:
    cdef int M = a.shape[0], K = a.shape[1], N = b.shape[1]
    cdef int npa, npb, Kb, nch, t, p, q, c, p1
    cdef ct_i ars = a.strides[0] // 2, acs = a.strides[1] // 2
    cdef ct_i brs = b.strides[0] // 2, bcs = b.strides[1] // 2
    cdef ct_i ablk = CTB_AMX_MR * CTB_AMX_KB
    cdef uint16_t *apk
    cdef uint32_t *bpk
    npa = (M + CTB_AMX_MR - 1) // CTB_AMX_MR
    npb = (N + CTB_AMX_NR - 1) // CTB_AMX_NR
    Kb = (K + CTB_AMX_KB - 1) // CTB_AMX_KB
    nch = (npa + AMX_PANELS - 1) // AMX_PANELS
    apk = <uint16_t *>ctb_alloc64(<size_t>npa * Kb * ablk * 2)
    bpk = <uint32_t *>ctb_alloc64(<size_t>npb * Kb * 16 * CTB_AMX_NR * 4)
    if apk == NULL or bpk == NULL:
        free(apk)
        free(bpk)
        raise MemoryError("bgemm: no memory for the packed operands")
    try:
        with nogil:
            for t in prange(npa * Kb, schedule='static', use_threads_if=npa * Kb > 64):
                p = t // Kb
                ctb_amx_pack_a(&apk[<ct_i>t * ablk], &a[0, 0], ars, acs, M, K, p, t - p * Kb)
            for q in prange(npb, schedule='static', use_threads_if=npb * Kb > 64):
                ctb_amx_pack_b(&bpk[<ct_i>q * Kb * 16 * CTB_AMX_NR], &b[0, 0], brs, bcs, K, N,
                               q, Kb)
            # a task: one B panel and up to AMX_PANELS row panels
            for t in prange(npb * nch, schedule='static',
                            use_threads_if=<double>M * N * K > 262144.0):
                q = t // nch
                c = t - q * nch
                p1 = min(npa, (c + 1) * AMX_PANELS)
                ctb_amx_blocks(apk, bpk, Kb, &out[0, 0], N, M, N, c * AMX_PANELS, p1, q)
    finally:
        free(apk)
        free(bpk)


def h_softmax_rows(int kind, int mode, const uint16_t[::1] a, const uint16_t[::1] b,
                   uint16_t[::1] out, Py_ssize_t m, Py_ssize_t n):
    """Row-wise over (m, n): mode 0 softmax(a), 1 log_softmax(a), 2 softmax backward
    (gy = a, y = b), 3 log_softmax backward; float32 inside, one rounding per element."""
    cdef Py_ssize_t r
    cdef float *scratch
    _check_kind("h_softmax_rows", kind)
    if mode < 0 or mode > 3:
        raise ValueError(f"h_softmax_rows: mode must be 0..3, got {mode}")
    if m < 0 or n < 1:
        raise ValueError(f"h_softmax_rows: bad shape ({m}, {n})")
    _check("h_softmax_rows", "a", a.shape[0], m * n)
    _check("h_softmax_rows", "out", out.shape[0], m * n)
    if mode >= 2:
        _check("h_softmax_rows", "b", b.shape[0], m * n)
    if m == 0:
        return
    with nogil:
        for r in prange(m, schedule='static', use_threads_if=m * n > THRESHOLD):
            scratch = <float *>malloc(3 * n * sizeof(float))
            if scratch != NULL:
                ct_h_softmax_row(kind, mode, &a[r * n], &b[(r * n) if mode >= 2 else 0],
                                 &out[r * n], n, scratch)
                free(scratch)
