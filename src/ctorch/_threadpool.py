"""Process safety of ctorch's OpenMP thread pool (issue #11, "Processes and memory").

libgomp has three ways to take a process down that torch 2.13 shares; ctorch avoids them:

- **fork.** After ``os.fork()`` the child has only the forking thread, but libgomp still believes
  its pool threads exist: the child's next multi-threaded parallel region waits for them
  forever. ``import ctorch`` registers an at-fork handler that makes ctorch's kernels
  single-threaded in the child (``get_num_threads() == 1``; GEMM through NumPy's OpenBLAS is
  unaffected: OpenBLAS has its own at-fork handling). ``set_num_threads(n > 1)`` in a forked
  child warns and keeps one thread. Use ``spawn``/``forkserver`` for multi-threaded children.
- **Thread creation failure.** libgomp creates its pool inside the first parallel region; when
  ``pthread_create`` fails there (an ``RLIMIT_AS`` memory limit, a thread limit) it prints
  "Thread creation failed" and exits the process. ctorch starts the pool itself, at import
  and whenever ``set_num_threads`` raises the count: it first starts ``n - 1`` joinable POSIX
  threads (libgomp's default attributes) to see that they can be created, and only then runs
  one parallel region on ``n`` threads. If fewer can be created, it warns and uses as many as
  could; the pool then exists and later kernels reuse it, so a memory limit set afterwards
  cannot make a kernel exit the process.
- **OpenBLAS buffers.** NumPy's OpenBLAS allocates a work buffer per thread at its first
  multi-threaded GEMM and exits the process ("Memory allocation still failed after 10 retries,
  giving up") when that fails under a memory limit. ctorch runs one 512x512 float32 GEMM at
  import and whenever ``set_num_threads`` raises the count, so the buffers exist (OpenBLAS
  keeps and reuses them) before any limit is set afterwards.
- **Absurd thread counts.** ``set_num_threads(100000)`` then a conv segfaults in torch.
  ctorch clamps the count to ``max_threads()`` (4 per available CPU, at least 32) with a
  warning.
"""

from __future__ import annotations

import os

from . import _warnings

_forked_child = False
_pool_size = 1  # threads the OpenMP pool is known to hold (1: none started)


def max_threads() -> int:
    """The most threads ``set_num_threads`` accepts (larger requests are clamped)."""
    try:
        ncpu = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        ncpu = os.cpu_count() or 1
    return max(32, 4 * ncpu)


def _creatable(n: int) -> int:
    """How many threads (the caller included, 1..n) to use when ``n`` are asked for: ``n`` when
    ``n - 1`` extra threads could exist at once, else one fewer than could (at a memory or
    thread limit, the last thread's room is left to the kernels and to glibc's and libgomp's
    per-thread overhead beyond the stack, which the probe does not take)."""
    from ._core import _threads

    ok = _threads._creatable_threads(n)
    return n if ok >= n else max(1, ok - 1)


def ensure_pool(n: int) -> int:
    """Make sure the OpenMP pool holds ``n`` threads, started safely; returns the count that
    ctorch will use (``n``, or fewer when not that many threads can be created)."""
    global _pool_size
    from ._core import _threads

    if n <= _pool_size or not _threads.has_openmp():
        return n
    ok = _creatable(n)
    if ok < n:
        _warnings.warn(
            f"ctorch: only {ok} of {n} threads could be created (memory or thread limit); "
            f"the CPU kernels use {ok}",
            RuntimeWarning,
        )
        n = ok
    if n > _pool_size:
        _threads._start_pool(n)
        _pool_size = n
    return n


_blas_warm = 0  # BLAS thread count whose buffers a warm-up GEMM has allocated


def blas_threads(n: int) -> int:
    """The OpenBLAS thread count to set for ``n`` kernel threads: ``n``, or as many as can
    still be created when raising it. OpenBLAS busy-waits forever when it cannot create a
    worker (seen under RLIMIT_AS after the OpenMP pool took the memory, when the process
    started with OMP_NUM_THREADS=1), so it only gets threads that were just shown to fit."""
    from ._blas_threads import get_blas_threads

    cur = get_blas_threads() or 1
    if n <= cur:
        return n
    ok = _creatable(n - cur + 1) + cur - 1  # cur threads exist; n - cur more are needed
    if ok < n:
        _warnings.warn(
            f"ctorch: NumPy's BLAS keeps {ok} of {n} threads (no more could be created: "
            "memory or thread limit)",
            RuntimeWarning,
        )
    return min(n, ok)


def warm_blas(n: int) -> None:
    """One GEMM large enough to run on all ``n`` OpenBLAS threads (see the module notes)."""
    global _blas_warm
    if n <= _blas_warm:
        return
    import numpy as np

    w = np.ones((512, 512), np.float32)
    np.matmul(w, w)
    _blas_warm = n


def set_threads(n: int) -> int:
    """Validate, clamp and apply an OpenMP thread count; returns the count applied."""
    from ._core import _threads

    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    cap = max_threads()
    if n > cap:
        _warnings.warn(
            f"ctorch.set_num_threads({n}): clamped to {cap} threads (ctorch.max_threads())",
            RuntimeWarning,
        )
        n = cap
    if _forked_child and n > 1:
        _warnings.warn(
            "ctorch.set_num_threads: this process was forked from one whose OpenMP pool was "
            "started; its kernels stay single-threaded (more would hang in libgomp). Use the "
            "'spawn' or 'forkserver' start method for multi-threaded child processes.",
            RuntimeWarning,
        )
        n = 1
    n = ensure_pool(n)
    _threads.set_num_threads(n)
    return n


def _after_fork_in_child() -> None:
    global _forked_child, _pool_size, _blas_warm
    _forked_child = True
    _pool_size = 1
    _blas_warm = 0
    try:
        from ._core import _threads

        _threads.set_num_threads(1)
    except Exception:  # noqa: BLE001 - never fail a fork
        pass


def install() -> None:
    """Start the pool for the default thread count and register the at-fork handler."""
    from ._core import _threads

    n = _threads.get_num_threads()
    cap = max_threads()
    if n > cap:  # OMP_NUM_THREADS larger than the cap
        n = cap
    used = ensure_pool(n)
    if used != _threads.get_num_threads():
        _threads.set_num_threads(used)
    warm_blas(used)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
