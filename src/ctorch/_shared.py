"""Tensors in shared memory: ``Tensor.share_memory_()`` / ``is_shared()`` and the pickling that
hands them to other processes (torch's ``file_descriptor`` sharing strategy).

``share_memory_`` moves a CPU tensor's array into an anonymous shared mapping (a ``memfd`` on
Linux, an unlinked temporary file elsewhere) and keeps the file descriptor with the mapping.
When multiprocessing pickles such a tensor (``ForkingPickler``: the arguments of a spawned
``Process``, a ``Queue.put``), the descriptor travels instead of the bytes
(``multiprocessing.reduction.DupFd``: passed to a child being spawned, or served by the
sender's resource sharer); the receiver maps the same memory, so in-place updates on either
side (Hogwild SGD on a ``model.share_memory()`` model) are seen by both. Plain ``pickle``,
``copy`` and ``torch.save`` still copy the data. A forked child inherits the mapping itself.
Unlike torch, a tensor that is not shared is not moved into shared memory when multiprocessing
pickles it (a ``Queue.put``, a DataLoader worker's batch): it is copied, as before. And
``share_memory_`` moves the tensor's own array: views taken from it earlier (or its base, for a
view) keep the old memory, where torch moves the storage they all share. Parameters and
buffers, what ``Module.share_memory()`` moves, are not views.
"""

from __future__ import annotations

import mmap
import os
import sys
import tempfile
import weakref
from multiprocessing import reduction

import numpy as np

__all__ = ["share_memory_", "is_shared"]


class _SharedBuffer(mmap.mmap):
    """A shared mapping that keeps the descriptor it maps (closed with the mapping)."""

    fd: int
    addr: int


def _map(fd: int, nbytes: int) -> _SharedBuffer:
    buf = _SharedBuffer(fd, nbytes)
    buf.fd = fd
    buf.addr = np.frombuffer(buf, np.uint8).__array_interface__["data"][0]
    weakref.finalize(buf, os.close, fd)
    return buf


def _new_buffer(nbytes: int) -> _SharedBuffer:
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("ctorch_shared", os.MFD_CLOEXEC)
    else:
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
        fd, path = tempfile.mkstemp(prefix="ctorch_shared_", dir=shm)
        os.unlink(path)
    os.ftruncate(fd, nbytes)
    return _map(fd, nbytes)


def _buffer_of(a) -> _SharedBuffer | None:
    while isinstance(a, np.ndarray):
        a = a.base
    return a if isinstance(a, _SharedBuffer) else None


def is_shared(t) -> bool:
    return _buffer_of(t._a) is not None


def share_memory_(t):
    """Move ``t``'s data into shared memory, in place (a no-op when already shared or not on
    the CPU, as in torch)."""
    a = t._a
    if type(a) is not np.ndarray or _buffer_of(a) is not None:
        return t
    buf = _new_buffer(max(a.nbytes, 1))
    shared = np.ndarray(a.shape, a.dtype, buffer=buf)
    np.copyto(shared, a)
    t._a = shared
    return t


def _rebuild_shared(dupfd, nbytes, offset, shape, strides, dtype, requires_grad):
    from ._tensor import Tensor

    buf = _map(dupfd.detach(), nbytes)
    t = Tensor._make(np.ndarray(shape, dtype, buffer=buf, offset=offset, strides=strides))
    t._rg = requires_grad
    return t


def _reduce_tensor(t):
    buf = _buffer_of(t._a)
    if buf is None:
        return t.__reduce_ex__(2)
    a = t._a
    offset = a.__array_interface__["data"][0] - buf.addr
    args = (reduction.DupFd(buf.fd), len(buf), offset, a.shape, a.strides, a.dtype, t._rg)
    return (_rebuild_shared, args)


def _register() -> None:
    from ._tensor import Tensor

    reduction.ForkingPickler.register(Tensor, _reduce_tensor)


if sys.platform != "win32":  # no descriptor passing there: tensors keep pickling as copies
    _register()
