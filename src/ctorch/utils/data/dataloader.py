"""DataLoader: batches from a dataset, in the main process or in worker processes.

Worker processes are started with the ``forkserver`` method (``spawn`` where there is none),
never ``fork`` by default: ``fork`` after an OpenMP kernel has run leaves the child's OpenMP
runtime believing its thread pool exists, and the child's next parallel kernel hangs. Workers
get the dataset, collate_fn and worker_init_fn by pickle, so those must be picklable
(module-level functions and classes; no lambdas) and scripts need an
``if __name__ == "__main__":`` guard, as on macOS and Windows with torch. Pass
``multiprocessing_context="fork"`` to opt out (safe only if no kernel ran in the parent).
"""

from __future__ import annotations

import itertools
import math
import pickle
import queue
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from ... import _warnings
from . import _worker
from ._collate import default_collate, default_convert
from ._seed import draw_seed
from ._worker import ExceptionWrapper, _IterableDatasetStopIteration, _ResumeIteration
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]

T_co = TypeVar("T_co", covariant=True)

get_worker_info = _worker.get_worker_info

# While waiting for a batch the parent wakes this often (seconds) to check its workers are alive.
_POLL_INTERVAL = 0.05
# How long shutdown waits for workers to exit on their own before terminating them.
_SHUTDOWN_TIMEOUT = 5.0
# Modules the fork server imports once, so that each worker forked from it starts warm.
_FORKSERVER_PRELOAD = ("ctorch", "ctorch.utils.data._worker")


def _default_context(dataset: Any = None, collate_fn: Any = None, init_fn: Any = None) -> Any:
    """The multiprocessing context workers use unless the loader names one.

    ``forkserver`` where the platform has it: a fresh server process (which never ran an OpenMP
    kernel) imports ctorch once, and every worker is forked from it, so workers start in
    milliseconds instead of paying an interpreter start and an import each; ``spawn`` where
    there is no forkserver. Not ``fork``: forking a parent whose OpenMP pool has run hangs the
    child's next parallel kernel.

    Both need to re-import the main module in each worker, which cannot work for an
    unguarded script (the worker would run the script's top level again) or for objects defined
    in an interactive ``__main__`` (no file to import). torch forks on Linux, so torch programs
    rely on neither; in exactly those two cases ctorch forks too. That is safe here because a
    worker sets one kernel thread before running anything, so OpenMP never starts a team in it.
    """
    import multiprocessing
    from multiprocessing import forkserver

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and _main_module_not_reimportable(dataset, collate_fn, init_fn):
        return multiprocessing.get_context("fork")
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    server = getattr(forkserver, "_forkserver", None)
    preload = list(getattr(server, "_preload_modules", None) or ["__main__"])
    missing = [m for m in _FORKSERVER_PRELOAD if m not in preload]
    if missing:
        # Only takes effect if the server is not running yet; harmless otherwise.
        ctx.set_forkserver_preload(preload + missing)
    return ctx


def _is_main_guard(node: Any) -> bool:
    import ast

    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [n for n in sides if isinstance(n, ast.Name) and n.id == "__name__"]
    consts = [c for c in sides if isinstance(c, ast.Constant) and c.value == "__main__"]
    return len(names) == 1 and len(consts) == 1


def _main_module_not_reimportable(dataset: Any, collate_fn: Any, init_fn: Any) -> bool:
    """True when a spawn/forkserver worker could not rebuild the main module's objects."""
    import os
    import sys

    main = sys.modules.get("__main__")
    if main is None:
        return False
    spec_name = getattr(getattr(main, "__spec__", None), "name", None)
    if spec_name is not None and spec_name.endswith("__main__"):
        return False  # `python -m pkg`: workers do not re-run it
    path = getattr(main, "__file__", None)
    if spec_name is None and path and not os.path.isfile(path):
        return True  # e.g. `python - < script`: workers would fail to re-run "<stdin>"
    if spec_name is None and not path:
        # Interactive session, `python -c` or stdin: nothing to re-import. Only a problem if
        # the pickled worker arguments refer to objects defined there.
        try:
            payload = pickle.dumps((dataset, collate_fn, init_fn), pickle.HIGHEST_PROTOCOL)
        except Exception:
            return False  # reported (or worked around) when the workers start
        return b"__main__" in payload
    if not path or not str(path).endswith(".py"):
        return False
    # A script: is the DataLoader being iterated from unguarded top-level code?
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__main__":
            break
        frame = frame.f_back
    if frame is None:
        return False
    try:
        import ast

        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except Exception:
        return False
    line = frame.f_lineno
    for node in tree.body:
        end = getattr(node, "end_lineno", None) or node.lineno
        if node.lineno <= line <= end:
            return not _is_main_guard(node)
    return False


class _DatasetKind:
    Map = 0
    Iterable = 1


class _InfiniteConstantSampler(Sampler[None]):
    """The sampler of an IterableDataset: ``None`` forever (the dataset decides when to stop)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


class DataLoader(Generic[T_co]):
    """Combines a dataset and a sampler and iterates over batches (``torch.utils.data``'s API).

    ``num_workers > 0`` loads batches in worker processes (``spawn`` by default, see the module
    docstring), ``prefetch_factor`` batches per worker in flight, delivered in sampler order.
    ``pin_memory`` is accepted and ignored (there is no pinned memory on the CPU path); without
    an accelerator it warns as torch does.
    """

    dataset: Dataset[T_co]
    batch_size: int | None
    num_workers: int
    pin_memory: bool
    drop_last: bool
    timeout: float
    sampler: Sampler | Iterable
    prefetch_factor: int | None
    _iterator: _BaseDataLoaderIter | None = None
    __initialized = False

    def __init__(
        self,
        dataset: Dataset[T_co],
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler[Sequence] | Iterable[Sequence] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                "multiprocessing."
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor "
                "to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, "
                    f"but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, "
                    f"but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler "
                    f"option, but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
            else:
                sampler = SequentialSampler(dataset)  # type: ignore[arg-type]

        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator

        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.__multiprocessing_context = None
        self.multiprocessing_context = multiprocessing_context
        self._IterableDataset_len_called: int | None = None
        self._iterator = None
        self.__initialized = True

    # -- configuration -------------------------------------------------------------------------
    @property
    def multiprocessing_context(self) -> Any:
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context: Any) -> None:
        if multiprocessing_context is not None:
            if self.num_workers <= 0:
                raise ValueError(
                    "multiprocessing_context can only be used with multi-process loading "
                    f"(num_workers > 0), but got num_workers={self.num_workers}"
                )
            import multiprocessing
            import multiprocessing.context

            if isinstance(multiprocessing_context, str):
                valid = multiprocessing.get_all_start_methods()
                if multiprocessing_context not in valid:
                    raise ValueError(
                        "multiprocessing_context option should specify a valid start method in "
                        f"{valid!r}, but got multiprocessing_context={multiprocessing_context!r}"
                    )
                multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
            if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
                raise TypeError(
                    "multiprocessing_context option should be a valid context object or a string "
                    "specifying the start method, but got multiprocessing_context="
                    f"{multiprocessing_context}"
                )
        self.__multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr: str, val: Any) -> None:
        if self.__initialized and attr in (
            "batch_size",
            "batch_sampler",
            "sampler",
            "drop_last",
            "dataset",
            "persistent_workers",
        ):
            raise ValueError(
                f"{attr} attribute should not be set after {self.__class__.__name__} is initialized"
            )
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    # -- iteration -----------------------------------------------------------------------------
    def _get_iterator(self) -> _BaseDataLoaderIter:
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self) -> _BaseDataLoaderIter:
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None or self._iterator._shutdown:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self) -> int:
        if self._dataset_kind == _DatasetKind.Iterable:
            length = self._IterableDataset_len_called = len(self.dataset)  # type: ignore[arg-type]
            if self.batch_size is not None:
                if self.drop_last:
                    length = length // self.batch_size
                else:
                    length = math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)


def _accelerator_available() -> bool:
    from ... import accelerator

    return accelerator.is_available()


class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._prefetch_factor = loader.prefetch_factor
        if loader.pin_memory and loader.pin_memory_device:
            _warnings.warn(
                "pin_memory_device is deprecated, the current accelerator will be used as the "
                f"device,ignore pin_memory_device='{loader.pin_memory_device}'."
            )
        if loader.pin_memory and not _accelerator_available():
            _warnings.warn(  # torch's text, each time an iterator starts
                "'pin_memory' argument is set as true but no accelerator is found, "
                "then device pinned memory won't be used."
            )
        self._pin_memory = loader.pin_memory
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._persistent_workers = loader.persistent_workers
        self._base_seed = draw_seed(loader.generator)
        self._sampler_iter: Iterator | None = iter(self._index_sampler)
        self._num_yielded = 0
        self._shutdown = False

    def __iter__(self) -> _BaseDataLoaderIter:
        return self

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self) -> Any:
        assert self._sampler_iter is not None
        return next(self._sampler_iter)

    def _next_data(self) -> Any:
        raise NotImplementedError

    def __next__(self) -> Any:
        if self._sampler_iter is None:
            self._reset(self._loader)
        data = self._next_data()
        self._num_yielded += 1
        if (
            self._dataset_kind == _DatasetKind.Iterable
            and self._IterableDataset_len_called is not None
            and self._num_yielded > self._IterableDataset_len_called
        ):
            _warnings.warn(
                f"Length of IterableDataset {self._dataset} was reported to be "
                f"{self._IterableDataset_len_called} (when accessing len(dataloader)), but "
                f"{self._num_yielded} samples have been fetched."
            )
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self) -> None:
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._dataset_fetcher = _worker.create_fetcher(
            self._dataset_kind == _DatasetKind.Iterable,
            self._dataset,
            self._auto_collation,
            self._collate_fn,
            self._drop_last,
        )

    def _next_data(self) -> Any:
        index = self._next_index()  # may raise StopIteration
        return self._dataset_fetcher.fetch(index)  # may raise StopIteration


def _is_pickling_error(e: BaseException) -> bool:
    if isinstance(e, pickle.PicklingError):
        return True
    text = str(e).lower()
    return isinstance(e, (AttributeError, TypeError)) and "pickle" in text


def _fork_available() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "an unknown exit code"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"exit code {exitcode} (killed by {name})"
    return f"exit code {exitcode}"


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        assert self._num_workers > 0
        assert self._prefetch_factor is not None
        self._max_tasks = max(1, self._prefetch_factor * self._num_workers)
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = _default_context(self._dataset, loader.collate_fn, loader.worker_init_fn)
        self._worker_init_fn = loader.worker_init_fn
        try:
            self._launch(ctx)
        except Exception as e:
            self._shutdown_workers()
            if not _is_pickling_error(e):
                raise
            if loader.multiprocessing_context is None and _fork_available():
                # torch forks on Linux, so torch programs pickle nothing (lambda transforms,
                # local datasets). Do the same rather than fail: workers set one kernel
                # thread before anything else, which keeps a forked OpenMP runtime safe.
                _warnings.warn(
                    f"DataLoader: {type(e).__name__}: {e}; the dataset, collate_fn or "
                    f"worker_init_fn cannot be pickled for {self._start_method!r} workers, so "
                    "the workers are forked instead (they run kernels single-threaded). Make "
                    "them picklable (module-level functions and classes, no lambdas) to avoid "
                    "this.",
                    RuntimeWarning,
                )
                import multiprocessing

                self._shutdown = False
                self._launch(multiprocessing.get_context("fork"))
            else:
                raise RuntimeError(
                    f"DataLoader could not start its worker processes with the "
                    f"{self._start_method!r} start method: {type(e).__name__}: {e}. The "
                    "dataset, collate_fn and worker_init_fn are pickled to each worker, so "
                    "they must be picklable (module-level functions and classes, no lambdas "
                    "or local functions)."
                ) from e
        self._reset(loader, first_iter=True)

    def _launch(self, ctx: Any) -> None:
        """Create the queues and start one process per worker in context ``ctx``."""
        import os

        self._start_method = ctx.get_start_method()
        self._workers: list[Any] = []
        self._index_queues: list[Any] = []
        self._workers_status: list[bool] = []
        self._worker_result_queue = ctx.Queue()
        self._workers_done_event = ctx.Event()
        for i in range(self._num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            w = ctx.Process(
                target=_worker._worker_loop,
                args=(
                    self._dataset_kind == _DatasetKind.Iterable,
                    self._dataset,
                    index_queue,
                    self._worker_result_queue,
                    self._workers_done_event,
                    self._auto_collation,
                    self._collate_fn,
                    self._drop_last,
                    self._base_seed,
                    self._worker_init_fn,
                    i,
                    self._num_workers,
                    self._persistent_workers,
                    os.getpid(),
                ),
                daemon=True,
            )
            self._index_queues.append(index_queue)
            w.start()
            self._workers.append(w)
            self._workers_status.append(True)

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info: dict[int, tuple] = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            for q in self._index_queues:
                q.put(_ResumeIteration())
            pending = self._num_workers
            while pending > 0:
                return_idx, _ = self._get_data()
                if isinstance(return_idx, _ResumeIteration):
                    pending -= 1
        for _ in range(self._max_tasks):
            self._try_put_index()

    # -- receiving -----------------------------------------------------------------------------
    def _check_workers(self) -> None:
        failed = [
            (i, w)
            for i, w in enumerate(self._workers)
            if self._workers_status[i] and not w.is_alive()
        ]
        if not failed:
            return
        details = ", ".join(
            f"worker {i} (pid {w.pid}) with {_describe_exit(w.exitcode)}" for i, w in failed
        )
        hint = ""
        if any(w.exitcode == 1 for _, w in failed) and self._start_method != "fork":
            hint = (
                f" Workers are started with the {self._start_method!r} method: if the worker's "
                "traceback (printed above on stderr) shows it could not import or unpickle the "
                "dataset, make the dataset importable (define it in a module, not in an "
                "interactive session) and guard the script's entry point with "
                "`if __name__ == '__main__':`."
            )
        self._shutdown_workers()
        raise RuntimeError(f"DataLoader worker exited unexpectedly: {details}.{hint}")

    def _try_get_data(self, timeout: float) -> tuple[bool, Any]:
        try:
            raw = self._worker_result_queue.get(timeout=timeout)
        except queue.Empty:
            self._check_workers()
            return False, None
        try:
            return True, pickle.loads(raw)
        except Exception as e:
            raise RuntimeError(
                f"DataLoader could not unpickle a batch sent by a worker: {type(e).__name__}: {e}"
            ) from e

    def _get_data(self) -> tuple[Any, Any]:
        if self._timeout > 0:
            deadline = time.monotonic() + self._timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
                success, data = self._try_get_data(min(remaining, _POLL_INTERVAL))
                if success:
                    return data
        while True:
            success, data = self._try_get_data(_POLL_INTERVAL)
            if success:
                return data

    def _next_data(self) -> Any:
        while True:
            if self._shutdown:
                raise StopIteration
            while self._rcvd_idx < self._send_idx:
                info = self._task_info[self._rcvd_idx]
                worker_id = info[0]
                if len(info) == 2 or self._workers_status[worker_id]:
                    break
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration

            if len(self._task_info[self._rcvd_idx]) == 2:
                data = self._task_info.pop(self._rcvd_idx)[1]
                return self._process_data(data)

            assert not self._shutdown and self._tasks_outstanding > 0
            idx, data = self._get_data()
            if isinstance(idx, _ResumeIteration):
                continue
            self._tasks_outstanding -= 1
            if isinstance(data, _IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                if idx in self._task_info:
                    self._task_info[idx] += (data,)
                continue
            del self._task_info[idx]
            return self._process_data(data)

    def _process_data(self, data: Any) -> Any:
        self._rcvd_idx += 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return _worker._unpack(data)

    # -- sending -------------------------------------------------------------------------------
    def _try_put_index(self) -> None:
        if self._tasks_outstanding >= self._max_tasks:
            return
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_queue_idx = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_queue_idx]:
                break
        else:
            return  # every worker is done (IterableDataset exhausted)
        self._index_queues[worker_queue_idx].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_queue_idx,)
        self._tasks_outstanding += 1
        self._send_idx += 1

    # -- shutdown ------------------------------------------------------------------------------
    def _mark_worker_as_unavailable(self, worker_id: int, shutdown: bool = False) -> None:
        q = self._index_queues[worker_id]
        try:
            q.put(None)
        except Exception:
            pass
        self._workers_status[worker_id] = False

    def _shutdown_workers(self) -> None:
        if self._shutdown:
            return
        self._shutdown = True
        workers = getattr(self, "_workers", [])
        try:
            done_event = getattr(self, "_workers_done_event", None)
            if done_event is not None:
                done_event.set()
            for i in range(len(workers)):
                if self._persistent_workers or self._workers_status[i]:
                    self._mark_worker_as_unavailable(i, shutdown=True)
            deadline = time.monotonic() + _SHUTDOWN_TIMEOUT
            for w in workers:
                w.join(timeout=max(0.0, deadline - time.monotonic()))
            for q in getattr(self, "_index_queues", []):
                q.cancel_join_thread()
                q.close()
            result_queue = getattr(self, "_worker_result_queue", None)
            if result_queue is not None:
                result_queue.cancel_join_thread()
                result_queue.close()
        finally:
            for w in workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=1.0)

    def __del__(self) -> None:
        try:
            self._shutdown_workers()
        except Exception:
            pass
