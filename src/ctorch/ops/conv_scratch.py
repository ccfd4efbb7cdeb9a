"""Per-thread scratch buffers for the convolution paths (``conv_gemm``, ``conv_wide``).

Reused im2col columns and GEMM outputs: arrays that die inside one op call.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from .._backend import xp_of

_tls = threading.local()


def _scratch(slot: int, shape, dtype, like):
    """A reusable per-thread work buffer (im2col columns) for CPU arrays.

    The columns are 9x the input for a 3x3 kernel and die right after their GEMM; a fresh
    75 MB np.empty per call cost ~20 ms of page faults on the benchmark layer (a third of the
    forward).  Keeping the largest buffer per slot and dtype trades that memory for speed, as
    torch's own columns buffer does.  Only ever used for arrays that do not escape the op.
    """
    n = math.prod(shape)
    if type(like) is not np.ndarray:
        return xp_of(like).empty(shape, dtype)
    cache = getattr(_tls, "bufs", None)
    if cache is None:
        cache = _tls.bufs = {}
    key = (slot, np.dtype(dtype).str)
    buf = cache.get(key)
    if buf is None or buf.size < n:
        buf = np.empty(n, dtype)
        cache[key] = buf
    return buf[:n].reshape(shape)
