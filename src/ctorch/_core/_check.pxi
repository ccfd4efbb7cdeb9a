# Included by the kernel modules: the length check every kernel makes on its flat arguments
# before it releases the GIL (with boundscheck=False a wrong length writes out of bounds),
# and the range scan of index arguments (class targets, embedding indices).
from libc.stdint cimport int64_t


cdef inline int _check(str kernel, str name, Py_ssize_t got, Py_ssize_t want) except -1:
    if got != want:
        raise ValueError(f"{kernel}: {name} has {got} elements, expected {want}")
    return 0


cdef inline Py_ssize_t _bad_index(const int64_t[::1] idx, Py_ssize_t n, Py_ssize_t bound,
                                  int64_t skip) noexcept:
    """Position of the first of idx[:n] outside [0, bound) that is not `skip`, else -1."""
    cdef Py_ssize_t i
    cdef int64_t k
    with nogil:
        for i in range(n):
            k = idx[i]
            if k != skip and (k < 0 or k >= bound):
                return i
    return -1
