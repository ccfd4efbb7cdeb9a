"""What runs inside a DataLoader worker process, and the messages it exchanges.

Protocol (one index queue per worker, one shared result queue):

- parent -> worker: ``(task_idx, indices)``; ``_ResumeIteration(seed)`` to start a new epoch
  with persistent workers; ``None`` to exit.
- worker -> parent: ``bytes`` = pickle of ``(task_idx, payload)`` where payload is the packed
  batch, an :class:`ExceptionWrapper`, or ``_IterableDatasetStopIteration``; an acknowledgement
  ``(_ResumeIteration, None)`` after a resume.

The worker pickles each result itself, so an unpicklable batch becomes an error the parent
re-raises instead of an item the queue's feeder thread silently drops (which would hang the
parent). Tensors travel as NumPy arrays (:class:`_PackedTensor`) and are wrapped back into
ctorch tensors in the parent.
"""

from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import Any

# How often (seconds) a worker waiting for work checks that its parent is still alive.
_WATCHDOG_INTERVAL = 1.0


@dataclass(frozen=True)
class WorkerInfo:
    """What :func:`get_worker_info` returns inside a worker process."""

    id: int
    num_workers: int
    seed: int
    dataset: Any

    def __repr__(self) -> str:
        return (
            f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
            f"dataset={self.dataset!r})"
        )


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The current worker's :class:`WorkerInfo` (id, num_workers, seed, dataset copy), or
    ``None`` in the main process."""
    return _worker_info


class _ResumeIteration:
    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    worker_id: int


class ExceptionWrapper:
    """An exception caught in a worker, with the worker's formatted traceback."""

    def __init__(self, exc_type: type[BaseException], msg: str, where: str) -> None:
        self.exc_type = exc_type
        self.exc_msg = msg
        self.where = where

    @classmethod
    def from_current(cls, where: str) -> ExceptionWrapper:
        exc_type, exc, _ = sys.exc_info()
        assert exc_type is not None
        tb = "".join(traceback.format_exception(exc_type, exc, exc.__traceback__))  # type: ignore[union-attr]
        try:  # the type travels by reference: a local class cannot, so keep only its text
            pickle.dumps(exc_type)
        except Exception:
            exc_type = RuntimeError
        return cls(exc_type, tb, where)

    def reraise(self) -> None:
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            # KeyError repr()s its message; wrap it so the traceback stays readable.
            msg = _KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            # The type's constructor wants other arguments: keep the text, lose the type.
            raise RuntimeError(msg) from None
        raise exception


class _KeyErrorMessage(str):
    def __repr__(self) -> str:
        return str(self)


class _PackedTensor:
    """A tensor on its way between processes: its NumPy array (pickled by NumPy)."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array

    def __reduce__(self) -> tuple:
        return (_PackedTensor, (self.array,))


def _map_leaves(data: Any, kind: type, convert: Any) -> Any:
    """``data`` with each ``kind`` leaf of its (nested) list/tuple/namedtuple/dict batch
    structures replaced by ``convert(leaf)``."""
    if isinstance(data, kind):
        return convert(data)
    if type(data) in (list, tuple):
        return type(data)(_map_leaves(d, kind, convert) for d in data)
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(_map_leaves(d, kind, convert) for d in data))
    if type(data) is dict:
        return {k: _map_leaves(v, kind, convert) for k, v in data.items()}
    return data


def _pack(data: Any) -> Any:
    """Replace ctorch tensors in (nested) batch structures with their NumPy arrays."""
    import ctorch

    return _map_leaves(
        data,
        ctorch.Tensor,
        lambda t: _PackedTensor(t.detach().numpy() if t.requires_grad else t.numpy()),
    )


def _unpack(data: Any) -> Any:
    """Inverse of :func:`_pack`, run in the parent."""
    import ctorch

    return _map_leaves(data, _PackedTensor, lambda p: ctorch.from_numpy(p.array))


def _seed_everything(seed: int, worker_id: int, base_seed: int) -> None:
    import numpy as np

    import ctorch

    random.seed(seed)
    ctorch.manual_seed(seed)
    # NumPy's legacy global RNG takes 32-bit words: derive them from (base_seed, worker_id) with
    # a SeedSequence so that workers get independent streams (torch hashes the same pair).
    np.random.seed(np.random.SeedSequence(base_seed, spawn_key=(worker_id,)).generate_state(4))


class _BaseDatasetFetcher:
    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Any, drop_last: bool):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last


class _MapFetcher(_BaseDatasetFetcher):
    def fetch(self, index: Any) -> Any:
        if self.auto_collation:
            getitems = getattr(self.dataset, "__getitems__", None)
            if getitems:
                data = getitems(index)
            else:
                data = [self.dataset[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)


class _IterableFetcher(_BaseDatasetFetcher):
    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Any, drop_last: bool):
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


def create_fetcher(
    is_iterable: bool, dataset: Any, auto_collation: bool, collate_fn: Any, drop_last: bool
) -> _MapFetcher | _IterableFetcher:
    cls = _IterableFetcher if is_iterable else _MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


def _parent_alive(parent_pid: int) -> bool:
    """Whether the DataLoader's process still exists (a forkserver child's os.getppid() is the
    server, so ask multiprocessing for the real parent, and fall back on a signal-0 probe)."""
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is not None:
        try:
            return parent.is_alive()
        except Exception:
            pass
    try:
        os.kill(parent_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dumps(obj: Any) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def _worker_loop(
    is_iterable: bool,
    dataset: Any,
    index_queue: Any,
    data_queue: Any,
    done_event: Any,
    auto_collation: bool,
    collate_fn: Any,
    drop_last: bool,
    base_seed: int,
    init_fn: Any,
    worker_id: int,
    num_workers: int,
    persistent_workers: bool,
    parent_pid: int,
) -> None:
    global _worker_info
    # A worker is a single-threaded consumer: don't let kernels start an OpenMP pool per worker.
    try:
        import ctorch

        set_threads = getattr(ctorch, "set_num_threads", None)
        if set_threads is not None:
            set_threads(1)
    except Exception:  # pragma: no cover - a broken import surfaces below, with a traceback
        pass

    init_exception = None
    try:
        seed = base_seed + worker_id
        _seed_everything(seed, worker_id, base_seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = create_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last)
    except Exception:
        init_exception = ExceptionWrapper.from_current(
            f"in DataLoader worker process {worker_id} (while starting)"
        )
        fetcher = None

    iteration_end = False
    while True:
        try:
            r = index_queue.get(timeout=_WATCHDOG_INTERVAL)
        except queue.Empty:
            if done_event.is_set() or not _parent_alive(parent_pid):
                break
            continue
        except (EOFError, OSError):
            break
        if r is None:
            break
        if isinstance(r, _ResumeIteration):
            data_queue.put(_dumps((r, None)))
            iteration_end = False
            if is_iterable and init_exception is None:
                fetcher = create_fetcher(
                    is_iterable, dataset, auto_collation, collate_fn, drop_last
                )
            continue
        if done_event.is_set() or iteration_end:
            continue
        idx, index = r
        if init_exception is not None:
            data: Any = init_exception
            init_exception = None
        else:
            try:
                data = _pack(fetcher.fetch(index))  # type: ignore[union-attr]
            except StopIteration:
                if not is_iterable:
                    data = ExceptionWrapper.from_current(
                        f"in DataLoader worker process {worker_id}"
                    )
                else:
                    data = _IterableDatasetStopIteration(worker_id)
                    iteration_end = True
            except Exception:
                data = ExceptionWrapper.from_current(f"in DataLoader worker process {worker_id}")
        try:
            payload = _dumps((idx, data))
        except Exception:
            err = ExceptionWrapper.from_current(
                f"in DataLoader worker process {worker_id} (pickling its batch for the parent)"
            )
            payload = _dumps((idx, err))
        data_queue.put(payload)
        del data, payload
    # The data queue's feeder thread writes each batch to the pipe holding a lock that every
    # worker shares. On a normal exit (the loader sent None after taking this worker's last
    # message) the exit must wait for that thread, or a worker killed between its last write
    # and the lock's release leaves the lock held and every other worker's batches stuck (a
    # rare hang under load). Only when the loader is gone or shutting down, and may never read
    # again, is the flush given up so that the worker cannot block on a full pipe; torch does
    # the same.
    if done_event.is_set() or not _parent_alive(parent_pid):
        data_queue.cancel_join_thread()
        data_queue.close()
