# cython: freethreading_compatible=True
"""Thread control for ctorch's OpenMP kernels (process-wide, like torch.set_num_threads)."""

from cython.parallel cimport prange

cdef extern from "_ct_common.h" nogil:
    int ct_max_threads()
    void ct_set_threads(int n)
    int ct_have_openmp()


def get_num_threads() -> int:
    """Number of threads ctorch's CPU kernels use."""
    return ct_max_threads()


def set_num_threads(int n) -> None:
    """Set the number of threads ctorch's CPU kernels use (n >= 1)."""
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    ct_set_threads(n)


def has_openmp() -> bool:
    """True when the core was compiled with OpenMP."""
    return bool(ct_have_openmp())


def _start_pool(int n) -> int:
    """Run one tiny parallel region on ``n`` threads, so that libgomp creates its thread pool
    now (at a moment the caller has checked that ``n - 1`` threads can be created) instead of
    inside the first kernel, where a failed thread creation makes libgomp exit the process.
    Pool threads are kept and reused by later regions of up to ``n`` threads."""
    cdef int _i
    cdef int s = 0
    if n < 1:
        return 0
    for _i in prange(n, nogil=True, num_threads=n, schedule='static', chunksize=1):
        s += 1
    return s
