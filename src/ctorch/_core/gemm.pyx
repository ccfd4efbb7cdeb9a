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
"""

cdef extern from "_gemm_f32.h" nogil:
    int ct_max_threads()
    int ctg_have_avx512()
    int ct_sgemm(int nbatch, int M, int N, int K,
                 const float *A, Py_ssize_t a_bs, Py_ssize_t a_rs, Py_ssize_t a_cs,
                 const float *B, Py_ssize_t b_bs, Py_ssize_t b_rs, Py_ssize_t b_cs,
                 float *C, Py_ssize_t c_bs, Py_ssize_t c_rs, Py_ssize_t c_cs,
                 int reduce_batch, int accumulate, int nthreads, int use_simd)

SGEMM_AVX512 = bool(ctg_have_avx512())

cdef Py_ssize_t INT_MAX_ = 2147483647


def sgemm(const float[:, :, :] a, const float[:, :, :] b, float[:, :, :] out,
          bint reduce_batch=False, bint accumulate=False, bint simd=True):
    """out (+)= a @ b batched (or summed over the batch); see the module docstring.

    ``simd=False`` forces the portable micro-kernel (tests)."""
    cdef Py_ssize_t ba = a.shape[0], M = a.shape[1], K = a.shape[2]
    cdef Py_ssize_t bb = b.shape[0], N = b.shape[2]
    cdef Py_ssize_t nb = ba if ba > bb else bb
    if b.shape[1] != K:
        raise ValueError(f"sgemm: a is ({ba}, {M}, {K}) and b is ({bb}, {b.shape[1]}, {N}): "
                         f"inner sizes {K} and {b.shape[1]} differ")
    if (ba != nb and ba != 1) or (bb != nb and bb != 1):
        raise ValueError(f"sgemm: batch sizes {ba} and {bb} do not broadcast")
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
    cdef int rc
    cdef const float *pa = &a[0, 0, 0] if K > 0 and ba > 0 else NULL
    cdef const float *pb = &b[0, 0, 0] if K > 0 and bb > 0 else NULL
    with nogil:
        rc = ct_sgemm(<int>nb, <int>M, <int>N, <int>K,
                      pa, a_bs, a.strides[1] // s, a.strides[2] // s,
                      pb, b_bs, b.strides[1] // s, b.strides[2] // s,
                      &out[0, 0, 0], out.strides[0] // s, out.strides[1] // s,
                      out.strides[2] // s, reduce_batch, accumulate, nt, simd)
    if rc != 0:
        raise MemoryError("sgemm: could not allocate packing buffers")


def sgemm_num_threads():
    """The OpenMP thread count sgemm runs with (ctorch.set_num_threads)."""
    return ct_max_threads()
