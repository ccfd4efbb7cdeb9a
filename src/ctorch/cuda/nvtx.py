"""ctorch.cuda.nvtx (``torch.cuda.nvtx``): NVTX ranges and marks for profilers.

With a usable GPU the calls go to CuPy's NVTX bindings (``cupy.cuda.nvtx``); ``range_push``
and ``range_pop`` return the zero-based depth as torch's do (counted here, per thread, since
CuPy's calls return nothing). Without one, they behave as in torch's CPU-only build:
``range_push``, ``range_pop`` and ``mark`` raise ``RuntimeError("NVTX functions not installed.
Are you sure you have a CUDA build?")``, while ``range_start``/``range_end`` (absent from the
CPU build's stub) raise ``AttributeError``."""

from __future__ import annotations

import threading
from contextlib import contextmanager

__all__ = ["range_push", "range_pop", "range_start", "range_end", "mark", "range"]

_NOT_INSTALLED = "NVTX functions not installed. Are you sure you have a CUDA build?"


class _NVTXStub:
    """torch's stub when ``torch._C._nvtx`` is absent."""

    @staticmethod
    def _fail(*args, **kwargs):
        raise RuntimeError(_NOT_INSTALLED)

    rangePushA = _fail
    rangePop = _fail
    markA = _fail


class _CupyNVTX:
    def __init__(self, nvtx) -> None:
        self._nvtx = nvtx
        self._local = threading.local()
        self._lock = threading.Lock()
        self._next_id = 1
        self._open: dict[int, str] = {}

    def _depth(self) -> int:
        return getattr(self._local, "depth", 0)

    def rangePushA(self, msg):
        self._nvtx.RangePush(str(msg))
        depth = self._depth()
        self._local.depth = depth + 1
        return depth

    def rangePop(self):
        depth = self._depth()
        self._nvtx.RangePop()
        if depth == 0:
            return -1  # nothing pushed on this thread: NVTX answers a negative value
        self._local.depth = depth - 1
        return depth - 1

    def markA(self, msg):
        self._nvtx.Mark(str(msg))

    def rangeStartA(self, msg):
        # CuPy binds no nvtxRangeStartEx: a pushed range stands in for it on this thread
        with self._lock:
            handle = self._next_id
            self._next_id += 1
            self._open[handle] = str(msg)
        self._nvtx.RangePush(str(msg))
        return handle

    def rangeEnd(self, range_id):
        with self._lock:
            if self._open.pop(int(range_id), None) is None:
                return
        self._nvtx.RangePop()


_backend = None


def _nvtx():
    global _backend
    if _backend is None:
        from . import is_available

        backend = _NVTXStub()
        if is_available():
            try:
                import cupy.cuda.nvtx as cupy_nvtx

                if getattr(cupy_nvtx, "available", True):
                    backend = _CupyNVTX(cupy_nvtx)
            except Exception:  # noqa: BLE001 - no NVTX in this CuPy: behave as a CPU build
                pass
        _backend = backend
    return _backend


def range_push(msg):
    """Push a range on this thread's stack of nested ranges; returns its zero-based depth."""
    return _nvtx().rangePushA(msg)


def range_pop():
    """Pop a range off this thread's stack; returns the zero-based depth of the range ended."""
    return _nvtx().rangePop()


def range_start(msg) -> int:
    """Start a range that may end on another thread; returns the handle for ``range_end``."""
    return _nvtx().rangeStartA(msg)


def range_end(range_id) -> None:
    """End the range started by ``range_start`` with handle ``range_id``."""
    _nvtx().rangeEnd(range_id)


def mark(msg):
    """Mark an instantaneous event."""
    return _nvtx().markA(msg)


@contextmanager
def range(msg, *args, **kwargs):  # noqa: A001 - torch's name
    """Context manager / decorator: push ``msg.format(*args, **kwargs)``, pop at the end."""
    range_push(msg.format(*args, **kwargs))
    try:
        yield
    finally:
        range_pop()
