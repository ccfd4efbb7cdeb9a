# cython: language_level=3
"""Batched LAPACK/BLAS: one compiled loop over a batch of matrices, GIL released.

SciPy exports its LAPACK and BLAS as C function pointers (``scipy.linalg.cython_lapack`` /
``cython_blas``: ``__pyx_capi__`` maps a routine's name to a PyCapsule whose name is its C
signature). ``load`` fetches the pointers once; the types are declared here (Fortran calling
convention: every argument by pointer; matrices as ``void *`` since s/d/c/z differ only in the
element type), so the build does not need SciPy's .pxd files.

Kernels set no policy. Every matrix operand is a base array plus one int64 byte offset per
batch element (``offsets``: broadcast batch dimensions are offset 0), and its leading dimension:
matrices are column-major, as LAPACK wants them. The caller makes the in/out operands
(factored or solved in place) writable, column-major copies; ``t`` is the type code (0 s,
1 d, 2 c, 3 z). ``nthreads > 1`` runs batch elements in parallel (OpenMP), one matrix per
thread at a time: each matrix's LAPACK call is the same as in a serial loop, so results are
bitwise identical for any thread count.
"""

from cpython.buffer cimport PyBUF_RECORDS, PyBUF_RECORDS_RO, PyBuffer_Release, PyObject_GetBuffer
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer
from cython.parallel cimport parallel, prange, threadid
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

cdef extern from "_lapack_small.h" nogil:
    void ct_strsm_small(int lower, int trans, int unit, int m, int n, const float *a, int lda,
                        float *b, int ldb)
    void ct_dtrsm_small(int lower, int trans, int unit, int m, int n, const double *a,
                        int lda, double *b, int ldb)
    void ct_strsm_small_r(int lower, int trans, int unit, int m, int n, const float *a,
                          int lda, float *b, int ldb)
    void ct_dtrsm_small_r(int lower, int trans, int unit, int m, int n, const double *a,
                          int lda, double *b, int ldb)
    int CT_GETRF_SMALL
    int ct_sgetrf_small(int m, int n, float *a, int lda, int *ipiv)
    int ct_dgetrf_small(int m, int n, double *a, int lda, int *ipiv)
    int CT_QR_SMALL
    int CT_POTRF_SMALL
    int ct_spotrf_small(int n, float *a, int lda)
    int ct_dpotrf_small(int n, double *a, int lda)
    void ct_geqr2_s(int m, int n, float *a, int lda, float *tau)
    void ct_geqr2_d(int m, int n, double *a, int lda, double *tau)
    void ct_org2r_s(int m, int n, int k, float *a, int lda, const float *tau)
    void ct_org2r_d(int m, int n, int k, double *a, int lda, const double *tau)

ctypedef void (*getrf_t)(int *m, int *n, void *a, int *lda, int *ipiv,
                         int *info) noexcept nogil
ctypedef void (*getrs_t)(char *trans, int *n, int *nrhs, void *a, int *lda, int *ipiv,
                         void *b, int *ldb, int *info) noexcept nogil
ctypedef void (*getri_t)(int *n, void *a, int *lda, int *ipiv, void *work, int *lwork,
                         int *info) noexcept nogil
ctypedef void (*potrf_t)(char *uplo, int *n, void *a, int *lda, int *info) noexcept nogil
ctypedef void (*sytrf_t)(char *uplo, int *n, void *a, int *lda, int *ipiv, void *work,
                         int *lwork, int *info) noexcept nogil
ctypedef void (*sytrs_t)(char *uplo, int *n, int *nrhs, void *a, int *lda, int *ipiv, void *b,
                         int *ldb, int *info) noexcept nogil
ctypedef void (*geqrf_t)(int *m, int *n, void *a, int *lda, void *tau, void *work, int *lwork,
                         int *info) noexcept nogil
ctypedef void (*orgqr_t)(int *m, int *n, int *k, void *a, int *lda, void *tau, void *work,
                         int *lwork, int *info) noexcept nogil
ctypedef void (*ormqr_t)(char *side, char *trans, int *m, int *n, int *k, void *a, int *lda,
                         void *tau, void *c, int *ldc, void *work, int *lwork,
                         int *info) noexcept nogil
# trcon: (norm, uplo, diag, n, a, lda, rcond, work, iwork (real) / rwork (complex), info)
ctypedef void (*trcon_t)(char *norm, char *uplo, char *diag, int *n, void *a, int *lda,
                         void *rcond, void *work, void *iwork, int *info) noexcept nogil
ctypedef void (*trsm_t)(char *side, char *uplo, char *transa, char *diag, int *m, int *n,
                        void *alpha, void *a, int *lda, void *b, int *ldb) noexcept nogil
ctypedef void (*gemm_t)(char *transa, char *transb, int *m, int *n, int *k, void *alpha,
                        void *a, int *lda, void *b, int *ldb, void *beta, void *c,
                        int *ldc) noexcept nogil

cdef getrf_t _getrf[4]
cdef getrs_t _getrs[4]
cdef getri_t _getri[4]
cdef potrf_t _potrf[4]
cdef sytrf_t _sytrf[4]
cdef sytrs_t _sytrs[4]
cdef sytrf_t _hetrf[4]
cdef sytrs_t _hetrs[4]
cdef geqrf_t _geqrf[4]
cdef orgqr_t _orgqr[4]
cdef ormqr_t _ormqr[4]
cdef trcon_t _trcon[4]
cdef trsm_t _trsm[4]
cdef gemm_t _gemm[4]
cdef bint _loaded = False

# 1 and 0 of each type (alpha/beta of trsm and gemm): complex ones are (re, im) pairs
cdef float _one_s[2]
cdef double _one_d[2]
cdef float _mone_s[2]
cdef double _mone_d[2]
_one_s[0] = 1.0
_one_s[1] = 0.0
_one_d[0] = 1.0
_one_d[1] = 0.0
_mone_s[0] = -1.0
_mone_s[1] = 0.0
_mone_d[0] = -1.0
_mone_d[1] = 0.0

cdef int _ITEMSIZE[4]
_ITEMSIZE[0] = 4
_ITEMSIZE[1] = 8
_ITEMSIZE[2] = 8
_ITEMSIZE[3] = 16


cdef void *_fetch(dict capi, str name) except NULL:
    cap = capi[name]
    return PyCapsule_GetPointer(cap, PyCapsule_GetName(cap))


def load():
    """Fetch the LAPACK/BLAS function pointers from SciPy (once)."""
    global _loaded
    if _loaded:
        return
    from scipy.linalg import cython_blas, cython_lapack

    cdef dict L = cython_lapack.__pyx_capi__
    cdef dict B = cython_blas.__pyx_capi__
    cdef int i
    for i, p in enumerate("sdcz"):
        _getrf[i] = <getrf_t>_fetch(L, p + "getrf")
        _getrs[i] = <getrs_t>_fetch(L, p + "getrs")
        _getri[i] = <getri_t>_fetch(L, p + "getri")
        _potrf[i] = <potrf_t>_fetch(L, p + "potrf")
        _sytrf[i] = <sytrf_t>_fetch(L, p + "sytrf")
        _sytrs[i] = <sytrs_t>_fetch(L, p + "sytrs")
        _hetrf[i] = <sytrf_t>_fetch(L, (p + "hetrf") if i >= 2 else (p + "sytrf"))
        _hetrs[i] = <sytrs_t>_fetch(L, (p + "hetrs") if i >= 2 else (p + "sytrs"))
        _geqrf[i] = <geqrf_t>_fetch(L, p + "geqrf")
        _orgqr[i] = <orgqr_t>_fetch(L, (p + "ungqr") if i >= 2 else (p + "orgqr"))
        _ormqr[i] = <ormqr_t>_fetch(L, (p + "unmqr") if i >= 2 else (p + "ormqr"))
        _trcon[i] = <trcon_t>_fetch(L, p + "trcon")
        _trsm[i] = <trsm_t>_fetch(B, p + "trsm")
        _gemm[i] = <gemm_t>_fetch(B, p + "gemm")
    _loaded = True


cdef char *_ptr(object arr, bint writable) except NULL:
    """The data pointer of a NumPy array (any strides; broadcast views included)."""
    cdef Py_buffer v
    PyObject_GetBuffer(arr, &v, PyBUF_RECORDS if writable else PyBUF_RECORDS_RO)
    cdef char *p = <char *>v.buf
    PyBuffer_Release(&v)
    if p == NULL:
        raise ValueError("lapack_batch: array without data")
    return p


cdef inline void *_one(int t) noexcept nogil:
    return <void *>_one_s if t == 0 or t == 2 else <void *>_one_d


cdef inline void *_mone(int t) noexcept nogil:
    return <void *>_mone_s if t == 0 or t == 2 else <void *>_mone_d


cdef int _check(int t, Py_ssize_t nb, Py_ssize_t n_off) except -1:
    if not _loaded:
        raise RuntimeError("lapack_batch: call load() first")
    if t < 0 or t > 3:
        raise ValueError(f"lapack_batch: bad type code {t}")
    if n_off != nb:
        raise ValueError(f"lapack_batch: {n_off} offsets for a batch of {nb}")
    return 0


# Per-matrix calls with value arguments: the LAPACK routines take every argument by
# pointer, and a prange body must not pass the address of a shared scalar (the core's
# static race guard, tests/core/test_prange_privacy.py): these take copies.
cdef inline int _getrf1(int t, int m, int n, char *a, int lda, int *ipiv) noexcept nogil:
    cdef int info = 0
    if t <= 1 and m <= CT_GETRF_SMALL and n <= CT_GETRF_SMALL:  # real and small: our own
        if t == 0:
            return ct_sgetrf_small(m, n, <float *>a, lda, ipiv)
        return ct_dgetrf_small(m, n, <double *>a, lda, ipiv)
    _getrf[t](&m, &n, a, &lda, ipiv, &info)
    return info


cdef inline void _getrs1(int t, char tr, int n, int nrhs, char *a, int lda, int *ipiv, char *b,
                         int ldb, int block) noexcept nogil:
    cdef int info = 0
    if block > 0:
        _getrs_blocked(t, tr, n, nrhs, a, lda, ipiv, b, ldb, block)
    else:
        _getrs[t](&tr, &n, &nrhs, a, &lda, ipiv, b, &ldb, &info)


cdef inline int _inv1(int t, int n, char *a, int lda, int *ipiv, char *work,
                      int lwork) noexcept nogil:
    cdef int info = _getrf1(t, n, n, a, lda, ipiv)
    cdef int info2 = 0
    if info == 0:
        _getri[t](&n, a, &lda, ipiv, work, &lwork, &info2)
    return info


cdef inline int _potrf1(int t, bint lower, int n, char *a, int lda, bint clean) noexcept nogil:
    cdef char uplo = b'L' if lower else b'U'
    cdef int info = 0, j
    cdef Py_ssize_t it = _ITEMSIZE[t]
    cdef char *col
    if t <= 1 and lower and n <= CT_POTRF_SMALL:  # real, lower and small: ours
        if t == 0:
            info = ct_spotrf_small(n, <float *>a, lda)
        else:
            info = ct_dpotrf_small(n, <double *>a, lda)
    else:
        _potrf[t](&uplo, &n, a, &lda, &info)
    if clean:
        for j in range(n):
            col = a + <Py_ssize_t>j * lda * it
            if lower:
                memset(col, 0, j * it)
            elif j + 1 < n:
                memset(col + (j + 1) * it, 0, (n - j - 1) * it)
    return info


cdef inline int _sytrf1(int t, bint hermitian, int n, char *a, int lda, int *ipiv, char *work,
                        int lwork) noexcept nogil:
    """sytrf (lower), then A's strict upper triangle (left there by sytrf) zeroed."""
    cdef char uplo = b'L'
    cdef int info = 0, j
    cdef Py_ssize_t it = _ITEMSIZE[t]
    (_hetrf[t] if hermitian else _sytrf[t])(&uplo, &n, a, &lda, ipiv, work, &lwork, &info)
    for j in range(1, n):
        memset(a + <Py_ssize_t>j * lda * it, 0, j * it)
    return info


cdef inline void _sytrs1(int t, bint hermitian, int n, int nrhs, char *a, int lda, int *ipiv,
                         char *b, int ldb) noexcept nogil:
    cdef char uplo = b'L'
    cdef int info = 0
    (_hetrs[t] if hermitian else _sytrs[t])(&uplo, &n, &nrhs, a, &lda, ipiv, b, &ldb, &info)


cdef inline void _geqrf1(int t, int m, int n, char *a, int lda, char *tau, char *work,
                         int lwork) noexcept nogil:
    cdef int info = 0
    if t <= 1 and m <= CT_QR_SMALL and n <= CT_QR_SMALL:  # real and small: unblocked, ours
        if t == 0:
            ct_geqr2_s(m, n, <float *>a, lda, <float *>tau)
        else:
            ct_geqr2_d(m, n, <double *>a, lda, <double *>tau)
        return
    _geqrf[t](&m, &n, a, &lda, tau, work, &lwork, &info)


cdef inline void _orgqr1(int t, int m, int n, int k, char *a, int lda, char *tau, char *work,
                         int lwork) noexcept nogil:
    cdef int info = 0
    if t <= 1 and m <= CT_QR_SMALL and n <= CT_QR_SMALL:
        if t == 0:
            ct_org2r_s(m, n, k, <float *>a, lda, <const float *>tau)
        else:
            ct_org2r_d(m, n, k, <double *>a, lda, <const double *>tau)
        return
    _orgqr[t](&m, &n, &k, a, &lda, tau, work, &lwork, &info)


cdef inline void _trsm1(int t, char side, char uplo, char tr, char diag, int m, int n, char *a,
                        int lda, char *b, int ldb, int block) noexcept nogil:
    if block > 0:
        _trsm_blocked(t, side, uplo, tr, diag, m, n, a, lda, b, ldb, block)
    else:
        _trsm[t](&side, &uplo, &tr, &diag, &m, &n, _one(t), a, &lda, b, &ldb)


def getrf(int t, a, const int64_t[::1] a_off, int m, int n, int lda, int[:, ::1] piv,
          int[::1] info, int nthreads=1):
    """LU (getrf) of every matrix, in place; 1-based pivots into ``piv[i]``. (A getrf2-style
    recursion with GEMM updates and the blocked trsm below ran 1.4-2x slower than OpenBLAS's
    getrf from 64x64 to 512x512: not used.)"""
    cdef Py_ssize_t nb = info.shape[0], i
    _check(t, nb, a_off.shape[0])
    if piv.shape[0] != nb or (nb and piv.shape[1] < min(m, n)):
        raise ValueError("lapack_batch.getrf: pivots too small")
    if nb == 0 or m == 0 or n == 0:
        return
    cdef char *pa = _ptr(a, True)
    for i in prange(nb, nogil=True, num_threads=nthreads, use_threads_if=nthreads > 1,
                    schedule='dynamic'):
        info[i] = _getrf1(t, m, n, pa + a_off[i], lda, &piv[i, 0])


def getrs(int t, int trans, lu, const int64_t[::1] lu_off, int ldlu, piv,
          const int64_t[::1] piv_off, b, const int64_t[::1] b_off, int ldb, int n, int nrhs,
          int nthreads=1, int block=0):
    """op(A) X = B with getrf's factors (``trans`` 0: A, 1: A^T, 2: A^H); X over B in place.
    ``piv``: int32 1-based pivots, addressed by ``piv_off`` (byte offsets). ``block > 0``:
    the row swaps and two blocked triangular solves of ``_getrs_blocked`` instead of getrs
    (whose OpenBLAS trsm is ~2x slower)."""
    cdef Py_ssize_t nb = b_off.shape[0], i
    _check(t, nb, lu_off.shape[0])
    _check(t, nb, piv_off.shape[0])
    if nb == 0 or n == 0 or nrhs == 0:
        return
    cdef char *plu = _ptr(lu, False)
    cdef char *pp = _ptr(piv, False)
    cdef char *pb = _ptr(b, True)
    cdef char tr = b'N' if trans == 0 else (b'T' if trans == 1 else b'C')
    for i in prange(nb, nogil=True, num_threads=nthreads, use_threads_if=nthreads > 1,
                    schedule='dynamic'):
        _getrs1(t, tr, n, nrhs, plu + lu_off[i], ldlu, <int *>(pp + piv_off[i]), pb + b_off[i],
                ldb, block)


def solve(int t, a, const int64_t[::1] a_off, int lda, b, const int64_t[::1] b_off, int ldb,
          int n, int nrhs, int[::1] info, int nthreads=1, int block=0):
    """A X = B (gesv's getrf + getrs): A factored in place (a writable scratch copy), X over B;
    ``info[i]`` getrf's, and B[i] untouched where it is non-zero."""
    cdef Py_ssize_t nb = info.shape[0], i
    _check(t, nb, a_off.shape[0])
    _check(t, nb, b_off.shape[0])
    if nb == 0 or n == 0:
        return
    cdef char *pa = _ptr(a, True)
    cdef char *pb = _ptr(b, True)
    cdef int *ipiv
    with nogil, parallel(num_threads=nthreads, use_threads_if=nthreads > 1):
        ipiv = <int *>malloc(n * sizeof(int))
        for i in prange(nb, schedule='dynamic'):
            if ipiv == NULL:
                info[i] = -1000
                continue
            info[i] = _getrf1(t, n, n, pa + a_off[i], lda, ipiv)
            if info[i] == 0 and nrhs > 0:
                _getrs1(t, b'N', n, nrhs, pa + a_off[i], lda, ipiv, pb + b_off[i], ldb, block)
        free(ipiv)


def inv(int t, a, const int64_t[::1] a_off, int lda, int n, int[::1] info, int nthreads=1):
    """Inverse (getrf + getri) of every matrix in place; ``info[i]`` getrf's (the matrix is
    left factored, not inverted, where it is non-zero)."""
    cdef Py_ssize_t nb = info.shape[0], i
    _check(t, nb, a_off.shape[0])
    if nb == 0 or n == 0:
        return
    cdef char *pa = _ptr(a, True)
    cdef int lwork = 64 * n
    cdef int *ipiv
    cdef char *work
    cdef size_t wbytes = <size_t>lwork * _ITEMSIZE[t]
    with nogil, parallel(num_threads=nthreads, use_threads_if=nthreads > 1):
        ipiv = <int *>malloc(n * sizeof(int))
        work = <char *>malloc(wbytes)
        for i in prange(nb, schedule='dynamic'):
            if ipiv == NULL or work == NULL:
                info[i] = -1000
                continue
            info[i] = _inv1(t, n, pa + a_off[i], lda, ipiv, work, lwork)
        free(work)
        free(ipiv)


def potrf(int t, bint lower, a, const int64_t[::1] a_off, int lda, int n, int[::1] info,
          int nthreads=1, bint clean=False):
    """Cholesky (potrf) of every matrix in place; ``clean``: the other triangle zeroed (else
    left as it was)."""
    cdef Py_ssize_t nb = info.shape[0], i
    _check(t, nb, a_off.shape[0])
    if nb == 0 or n == 0:
        return
    cdef char *pa = _ptr(a, True)
    for i in prange(nb, nogil=True, num_threads=nthreads, use_threads_if=nthreads > 1,
                    schedule='dynamic'):
        info[i] = _potrf1(t, lower, n, pa + a_off[i], lda, clean)


def sytrf(int t, bint hermitian, a, const int64_t[::1] a_off, int lda, int n, int[:, ::1] piv,
          int[::1] info, int nthreads=1):
    """Bunch-Kaufman LDL^T (sytrf; hetrf for complex ``hermitian``), lower, in place; the
    strict upper triangle zeroed (torch's LD)."""
    cdef Py_ssize_t nb = info.shape[0], i
    _check(t, nb, a_off.shape[0])
    if piv.shape[0] != nb or (nb and piv.shape[1] < n):
        raise ValueError("lapack_batch.sytrf: pivots too small")
    if nb == 0 or n == 0:
        return
    cdef char *pa = _ptr(a, True)
    cdef int lwork = 64 * n
    cdef char *work
    cdef size_t wbytes = <size_t>lwork * _ITEMSIZE[t]
    with nogil, parallel(num_threads=nthreads, use_threads_if=nthreads > 1):
        work = <char *>malloc(wbytes)
        for i in prange(nb, schedule='dynamic'):
            if work == NULL:
                info[i] = -1000
                continue
            info[i] = _sytrf1(t, hermitian, n, pa + a_off[i], lda, &piv[i, 0], work, lwork)
        free(work)


def sytrs(int t, bint hermitian, a, const int64_t[::1] a_off, int lda, piv,
          const int64_t[::1] piv_off, b, const int64_t[::1] b_off, int ldb, int n, int nrhs,
          int nthreads=1):
    """A X = B with sytrf's (hetrf's) lower factors; X over B in place."""
    cdef Py_ssize_t nb = b_off.shape[0], i
    _check(t, nb, a_off.shape[0])
    _check(t, nb, piv_off.shape[0])
    if nb == 0 or n == 0 or nrhs == 0:
        return
    cdef char *pa = _ptr(a, False)
    cdef char *pp = _ptr(piv, False)
    cdef char *pb = _ptr(b, True)
    for i in prange(nb, nogil=True, num_threads=nthreads, use_threads_if=nthreads > 1,
                    schedule='dynamic'):
        _sytrs1(t, hermitian, n, nrhs, pa + a_off[i], lda, <int *>(pp + piv_off[i]),
                pb + b_off[i], ldb)


cdef inline void _trsm_diag(int t, char side, char uplo, char tr, char diag, int m,
                            int n, char *a, int lda, char *b, int ldb) noexcept nogil:
    """trsm (alpha 1) on a diagonal block: ``_lapack_small.h`` for real types, BLAS else."""
    cdef bint lo = uplo == b'L'
    cdef bint tt = tr != b'N'
    cdef bint un = diag == b'U'
    if t == 0 and side == b'L':
        ct_strsm_small(lo, tt, un, m, n, <float *>a, lda, <float *>b, ldb)
    elif t == 1 and side == b'L':
        ct_dtrsm_small(lo, tt, un, m, n, <double *>a, lda, <double *>b, ldb)
    elif t == 0:
        ct_strsm_small_r(lo, tt, un, m, n, <float *>a, lda, <float *>b, ldb)
    elif t == 1:
        ct_dtrsm_small_r(lo, tt, un, m, n, <double *>a, lda, <double *>b, ldb)
    else:
        _trsm[t](&side, &uplo, &tr, &diag, &m, &n, _one(t), a, &lda, b, &ldb)


cdef void _trsm_blocked(int t, char side, char uplo, char tr, char diag, int m, int n,
                        char *a, int lda, char *b, int ldb, int nbk) noexcept nogil:
    """trsm (alpha 1) as diagonal-block solves (``_trsm_diag``) plus GEMM updates of the rows
    (side L) or columns (side R) not solved yet: OpenBLAS's GEMM runs ~3x faster than its
    trsm kernels. B is m x n; op(A) is the triangular T, effectively upper when
    (uplo U) == (tr N)."""
    cdef Py_ssize_t it = _ITEMSIZE[t]
    cdef gemm_t fg = _gemm[t]
    cdef void *one = _one(t)
    cdef void *mone = _mone(t)
    cdef bint upper_eff = (uplo == b'U') == (tr == b'N')
    cdef bint left = side == b'L'
    cdef int na = m if left else n
    cdef bint forward = left != upper_eff  # L lower / R upper: first block first
    cdef int nblk = (na + nbk - 1) // nbk
    cdef int bi, blk, j0, jb, r0, rn
    cdef char nn = b'N'
    cdef char *pa
    for bi in range(nblk):
        blk = bi if forward else nblk - 1 - bi
        j0 = blk * nbk
        jb = nbk if na - j0 > nbk else na - j0
        if forward:
            r0 = j0 + jb
            rn = na - r0
        else:
            r0 = 0
            rn = j0
        if left:  # T X = B: solve rows j0:j0+jb, then B[R, :] -= T[R, J] X[J, :]
            _trsm_diag(t, side, uplo, tr, diag, jb, n, a + (j0 + <Py_ssize_t>j0 * lda) * it,
                       lda, b + j0 * it, ldb)
            if rn > 0:
                if tr == b'N':
                    pa = a + (r0 + <Py_ssize_t>j0 * lda) * it
                else:  # T[R, J] = op(A[J, R])
                    pa = a + (j0 + <Py_ssize_t>r0 * lda) * it
                fg(&tr, &nn, &rn, &n, &jb, mone, pa, &lda, b + j0 * it, &ldb, one,
                   b + r0 * it, &ldb)
        else:  # X T = B: solve columns J, then B[:, R] -= X[:, J] T[J, R]
            _trsm_diag(t, side, uplo, tr, diag, m, jb, a + (j0 + <Py_ssize_t>j0 * lda) * it,
                       lda, b + <Py_ssize_t>j0 * ldb * it, ldb)
            if rn > 0:
                if tr == b'N':
                    pa = a + (j0 + <Py_ssize_t>r0 * lda) * it
                else:  # T[J, R] = op(A[R, J])
                    pa = a + (r0 + <Py_ssize_t>j0 * lda) * it
                fg(&nn, &tr, &m, &rn, &jb, mone, b + <Py_ssize_t>j0 * ldb * it, &ldb, pa, &lda,
                   one, b + <Py_ssize_t>r0 * ldb * it, &ldb)


def geqrf(int t, a, const int64_t[::1] a_off, int m, int n, int lda, tau,
          const int64_t[::1] tau_off, int nthreads=1):
    """Householder QR (geqrf) of every m x n matrix in place; ``tau`` (k = min(m, n) scalars
    per matrix) addressed by ``tau_off`` (byte offsets)."""
    cdef Py_ssize_t nb = a_off.shape[0], i
    _check(t, nb, tau_off.shape[0])
    if nb == 0 or m == 0 or n == 0:
        return
    cdef char *pa = _ptr(a, True)
    cdef char *pt = _ptr(tau, True)
    cdef int lwork = 64 * n  # blocked (SciPy's default lwork n is the unblocked geqr2)
    cdef size_t wbytes = <size_t>lwork * _ITEMSIZE[t]
    cdef int nt = nthreads if nthreads > 1 else 1
    cdef char *ws = <char *>malloc(wbytes * nt)  # one workspace per thread
    cdef char *work
    if ws == NULL:
        raise MemoryError("lapack_batch.geqrf: no workspace")
    for i in prange(nb, nogil=True, num_threads=nt, use_threads_if=nt > 1, schedule='dynamic'):
        work = ws + wbytes * threadid()
        _geqrf1(t, m, n, pa + a_off[i], lda, pt + tau_off[i], work, lwork)
    free(ws)


def orgqr(int t, a, const int64_t[::1] a_off, int m, int n, int k, int lda, tau,
          const int64_t[::1] tau_off, int nthreads=1):
    """Q (m x n, n <= m) from geqrf's k reflectors (orgqr; ungqr for complex) in place."""
    cdef Py_ssize_t nb = a_off.shape[0], i
    _check(t, nb, tau_off.shape[0])
    if nb == 0 or m == 0 or n == 0:
        return
    cdef char *pa = _ptr(a, True)
    cdef char *pt = _ptr(tau, False)
    cdef int lwork = 64 * n  # SciPy's default (3n) is the unblocked org2r
    cdef size_t wbytes = <size_t>lwork * _ITEMSIZE[t]
    cdef int nt = nthreads if nthreads > 1 else 1
    cdef char *ws = <char *>malloc(wbytes * nt)  # one workspace per thread
    cdef char *work
    if ws == NULL:
        raise MemoryError("lapack_batch.orgqr: no workspace")
    for i in prange(nb, nogil=True, num_threads=nt, use_threads_if=nt > 1, schedule='dynamic'):
        work = ws + wbytes * threadid()
        _orgqr1(t, m, n, k, pa + a_off[i], lda, pt + tau_off[i], work, lwork)
    free(ws)


cdef double _qr_lstsq1(int t, int m, int n, char *a, int lda, char *b, int ldb, int k,
                       char *tau, char *work, int lwork, double thresh,
                       int block) noexcept nogil:
    cdef Py_ssize_t it = _ITEMSIZE[t]
    cdef int info = 0
    cdef char c1 = b'1'
    cdef char cu = b'U'
    cdef char cn = b'N'
    cdef char sl = b'L'
    cdef char trq = b'C' if t >= 2 else b'T'
    cdef float rs = 0
    cdef double rd = 0
    _geqrf[t](&m, &n, a, &lda, tau, work, &lwork, &info)
    if t == 0 or t == 2:  # single precision: rcond is a float
        _trcon[t](&c1, &cu, &cn, &n, a, &lda, &rs, work, work + 3 * n * it, &info)
        rd = rs
    else:
        _trcon[t](&c1, &cu, &cn, &n, a, &lda, &rd, work, work + 3 * n * it, &info)
    if rd > thresh and k > 0:
        _ormqr[t](&sl, &trq, &m, &k, &n, a, &lda, tau, b, &ldb, work, &lwork, &info)
        _trsm_blocked(t, sl, cu, cn, cn, n, k, a, lda, b, ldb, block)
    return rd


def qr_lstsq(int t, a, const int64_t[::1] a_off, int m, int n, int lda, b,
             const int64_t[::1] b_off, int ldb, int k, tau, const int64_t[::1] tau_off,
             double thresh, double[::1] rcond, int nthreads=1, int block=32):
    """Least squares for tall/square (m >= n) matrices by Householder QR where R is clearly
    of full rank: per matrix geqrf (A in place), trcon's 1-norm reciprocal condition number
    of R into ``rcond[i]``, and only where it exceeds ``thresh``: Q^H B (ormqr/unmqr, B in
    place) and R X = (Q^H B)[:n] (blocked trsm), X in B's first n rows."""
    cdef Py_ssize_t nb = a_off.shape[0], i
    _check(t, nb, b_off.shape[0])
    _check(t, nb, tau_off.shape[0])
    _check(t, nb, rcond.shape[0])
    if m < n:
        raise ValueError("lapack_batch.qr_lstsq: needs m >= n")
    if nb == 0 or n == 0:
        return
    cdef char *pa = _ptr(a, True)
    cdef char *pb = _ptr(b, True)
    cdef char *pt = _ptr(tau, True)
    cdef Py_ssize_t it = _ITEMSIZE[t]
    cdef int lwork = 64 * (n if n > k else k)
    cdef size_t wbytes = <size_t>(lwork + 3 * n) * it + <size_t>n * 8 + 64
    cdef int nt = nthreads if nthreads > 1 else 1
    cdef char *ws = <char *>malloc(wbytes * nt)
    cdef char *work
    if ws == NULL:
        raise MemoryError("lapack_batch.qr_lstsq: no workspace")
    for i in prange(nb, nogil=True, num_threads=nt, use_threads_if=nt > 1, schedule='dynamic'):
        work = ws + wbytes * threadid()
        rcond[i] = _qr_lstsq1(t, m, n, pa + a_off[i], lda, pb + b_off[i], ldb, k,
                              pt + tau_off[i], work, lwork, thresh, block)
    free(ws)


cdef void _swap_rows(char *b, int ldb, int nrhs, const int *ipiv, int k0, int k1, int step,
                     Py_ssize_t it) noexcept nogil:
    """LAPACK laswp: swap row i with row ipiv[i] - 1 of the column-major B for i from k0
    towards k1 (exclusive) by ``step``; column by column (contiguous in memory)."""
    cdef int i, j, c
    cdef char tmp[16]
    cdef char *col
    for c in range(nrhs):
        col = b + <Py_ssize_t>c * ldb * it
        i = k0
        while i != k1:
            j = ipiv[i] - 1
            if j != i:
                memcpy(tmp, col + i * it, it)
                memcpy(col + i * it, col + j * it, it)
                memcpy(col + j * it, tmp, it)
            i += step


cdef void _getrs_blocked(int t, char tr, int n, int nrhs, char *a, int lda, const int *ipiv,
                         char *b, int ldb, int nbk) noexcept nogil:
    """getrs as laswp and two blocked trsm (``_trsm_blocked``): A = P L U."""
    cdef Py_ssize_t it = _ITEMSIZE[t]
    cdef char sl = b'L'
    cdef char lo = b'L'
    cdef char up = b'U'
    cdef char unit = b'U'
    cdef char nonunit = b'N'
    if tr == b'N':  # X = U^-1 L^-1 P^T B
        _swap_rows(b, ldb, nrhs, ipiv, 0, n, 1, it)
        _trsm_blocked(t, sl, lo, tr, unit, n, nrhs, a, lda, b, ldb, nbk)
        _trsm_blocked(t, sl, up, tr, nonunit, n, nrhs, a, lda, b, ldb, nbk)
    else:  # op(A) = op(U) op(L) P^T: X = P op(L)^-1 op(U)^-1 B
        _trsm_blocked(t, sl, up, tr, nonunit, n, nrhs, a, lda, b, ldb, nbk)
        _trsm_blocked(t, sl, lo, tr, unit, n, nrhs, a, lda, b, ldb, nbk)
        _swap_rows(b, ldb, nrhs, ipiv, n - 1, -1, -1, it)


def trsm(int t, int side_left, int lower, int trans, int unit, int m, int n, a,
         const int64_t[::1] a_off, int lda, b, const int64_t[::1] b_off, int ldb,
         int nthreads=1, int block=0):
    """BLAS trsm with alpha 1 on every matrix: op(A) X = B (side_left) or X op(A) = B, B m x n,
    X over B in place; ``trans`` 0: A, 1: A^T, 2: A^H; only ``lower`` (or upper) of A is
    read. ``block > 0``: blocked, GEMM updates between ``block``-sized diagonal solves
    (``_trsm_blocked``) when A is larger than one block."""
    cdef Py_ssize_t nb = b_off.shape[0], i
    _check(t, nb, a_off.shape[0])
    if nb == 0 or m == 0 or n == 0:
        return
    cdef char *pa = _ptr(a, False)
    cdef char *pb = _ptr(b, True)
    cdef char cs = b'L' if side_left else b'R'
    cdef char cu = b'L' if lower else b'U'
    cdef char ct = b'N' if trans == 0 else (b'T' if trans == 1 else b'C')
    cdef char cd = b'U' if unit else b'N'
    cdef int na = m if side_left else n
    cdef int blk = block if block > 0 and (na > block or t <= 1) else 0  # real: small kernels
    for i in prange(nb, nogil=True, num_threads=nthreads, use_threads_if=nthreads > 1,
                    schedule='dynamic'):
        _trsm1(t, cs, cu, ct, cd, m, n, pa + a_off[i], lda, pb + b_off[i], ldb, blk)


def tri_unpack(int t, a, Py_ssize_t nb, int r, int c, bint lower_unit):
    """In place on ``nb`` C-ordered r x c matrices stored one after the other: ``lower_unit``:
    the strictly upper part zeroed and the diagonal set to 1 (LU's L), else the strictly
    lower part zeroed (LU's U)."""
    _check(t, nb, nb)
    if nb == 0 or r == 0 or c == 0:
        return
    cdef char *pa = _ptr(a, True)
    cdef Py_ssize_t it = _ITEMSIZE[t], b, i, lo, hi
    cdef char *row
    cdef void *one = _one(t)
    with nogil:
        for b in range(nb):
            for i in range(r):
                row = pa + (b * r + i) * c * it
                if lower_unit:
                    lo = i + 1 if i + 1 < c else c
                    memset(row + lo * it, 0, (c - lo) * it)
                    if i < c:
                        memcpy(row + i * it, one, it)
                else:
                    hi = i if i < c else c
                    memset(row, 0, hi * it)


def perm_matrix(int t, const int64_t[:, ::1] perm, P):
    """``P[b, perm[b, i], i] = 1`` in the zeroed, C-ordered ``P`` (nb, m, m)."""
    cdef Py_ssize_t nb = perm.shape[0], m = perm.shape[1], b, i, j
    _check(t, nb, nb)
    if nb == 0 or m == 0:
        return
    cdef char *pp = _ptr(P, True)
    cdef Py_ssize_t it = _ITEMSIZE[t]
    cdef void *one = _one(t)
    with nogil:
        for b in range(nb):
            for i in range(m):
                j = perm[b, i]
                if 0 <= j < m:
                    memcpy(pp + ((b * m + j) * m + i) * it, one, it)


def perm_from_pivots(const int[:, ::1] piv, int64_t[:, ::1] out):
    """Row permutation ``out[b]`` (``A[perm] = L U``) from LAPACK's sequential 1-based row
    swaps ``piv[b]``; a pivot outside [1, m] raises."""
    cdef Py_ssize_t nb = piv.shape[0], k = piv.shape[1], m = out.shape[1], b, i, j
    cdef int64_t tmp
    cdef int bad = 0
    if out.shape[0] != nb or k > m:
        raise ValueError("lapack_batch.perm_from_pivots: shapes do not match")
    with nogil:
        for b in range(nb):
            for i in range(m):
                out[b, i] = i
            for i in range(k):
                j = piv[b, i] - 1
                if j < 0 or j >= m:
                    bad = 1
                    break
                tmp = out[b, i]
                out[b, i] = out[b, j]
                out[b, j] = tmp
            if bad:
                break
    if bad:
        raise IndexError("pivots out of range")
