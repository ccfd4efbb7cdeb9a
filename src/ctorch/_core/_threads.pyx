# cython: freethreading_compatible=True
"""Thread control for ctorch's OpenMP kernels (process-wide, like torch.set_num_threads)."""

from cython.parallel cimport prange

cdef extern from "_ct_common.h" nogil:
    int ct_max_threads()
    void ct_set_threads(int n)
    int ct_have_openmp()

cdef extern from "<pthread.h>" nogil:
    ctypedef unsigned long pthread_t
    ctypedef struct pthread_mutex_t:
        pass
    int pthread_create(pthread_t *t, const void *attr, void *(*fn)(void *) noexcept nogil,
                       void *arg)
    int pthread_join(pthread_t t, void **ret)
    int pthread_mutex_init(pthread_mutex_t *m, const void *attr)
    int pthread_mutex_lock(pthread_mutex_t *m)
    int pthread_mutex_unlock(pthread_mutex_t *m)
    int pthread_mutex_destroy(pthread_mutex_t *m)
    ctypedef struct pthread_attr_t:
        pass
    int pthread_attr_init(pthread_attr_t *a)
    int pthread_attr_destroy(pthread_attr_t *a)
    int pthread_attr_getstacksize(const pthread_attr_t *a, size_t *size)
    int pthread_attr_setstack(pthread_attr_t *a, void *addr, size_t size)

cdef extern from "<sys/mman.h>" nogil:
    void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)
    int munmap(void *addr, size_t length)
    void *MAP_FAILED
    int PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS

cdef enum:
    _PROBE_MAX = 1024


cdef void *_probe_wait(void *arg) noexcept nogil:
    # Block until the prober has created all its threads, so they all exist at once.
    cdef pthread_mutex_t *m = <pthread_mutex_t *> arg
    pthread_mutex_lock(m)
    pthread_mutex_unlock(m)
    return NULL


def _creatable_threads(int n) -> int:
    """How many of ``n - 1`` extra threads can exist at once (plus the caller): 1..n.

    POSIX threads with libgomp's stack size (the default attributes' size), each on a stack
    this function maps and unmaps itself: when it returns, every byte it took is back, so the
    pool started right after finds the room it measured. (Probing with Python threads raced:
    they are detached and their stacks were released only after ``Thread.join`` returned, so
    under a tight RLIMIT_AS the pool's ``pthread_create`` could still fail and libgomp exited
    the process; joinable threads on glibc's own stacks would leave them in glibc's stack
    cache, still counted against the limit.)"""
    cdef pthread_t tids[_PROBE_MAX]
    cdef void *stacks[_PROBE_MAX]
    cdef pthread_mutex_t m
    cdef pthread_attr_t attr
    cdef size_t size = 0
    cdef int made = 0
    cdef int i
    cdef void *st
    if n > _PROBE_MAX:
        n = _PROBE_MAX
    pthread_attr_init(&attr)
    pthread_attr_getstacksize(&attr, &size)
    pthread_mutex_init(&m, NULL)
    pthread_mutex_lock(&m)
    with nogil:
        while made < n - 1:
            st = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            if st == MAP_FAILED:
                break
            pthread_attr_setstack(&attr, st, size)
            if pthread_create(&tids[made], &attr, _probe_wait, &m) != 0:
                munmap(st, size)
                break
            stacks[made] = st
            made += 1
        pthread_mutex_unlock(&m)
        for i in range(made):
            pthread_join(tids[i], NULL)
            munmap(stacks[i], size)
    pthread_mutex_destroy(&m)
    pthread_attr_destroy(&attr)
    return made + 1


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
