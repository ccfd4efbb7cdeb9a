"""``torch.futures``: ``Future``, ``collect_all``, ``wait_all``.

A thread-safe future in pure Python with torch's API: ``wait`` blocks until a result or an
exception is set (and raises the exception), ``value`` does not block (it raises when the
future is not done), ``then(callback)`` returns a new future completed with
``callback(self)`` (an exception from the callback becomes that future's exception), and
``add_done_callback`` runs a callback for its side effects. Callbacks added to a future that is
already done run at once, in the calling thread; otherwise in the thread that completes it.
ctorch has no CUDA streams to synchronise, so ``devices`` is accepted and ignored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Future", "collect_all", "wait_all"]

T = TypeVar("T")
S = TypeVar("S")

_UNSET = object()


class Future(Generic[T]):
    """A placeholder for the result of an asynchronous computation (``torch.futures.Future``)."""

    def __init__(self, *, devices: list | None = None) -> None:
        self._cond = threading.Condition()
        self._result: Any = _UNSET
        self._exc: BaseException | None = None
        self._callbacks: list[Callable[[Future[T]], None]] = []

    def done(self) -> bool:
        """True when the future holds a result or an exception."""
        with self._cond:
            return self._result is not _UNSET or self._exc is not None

    def wait(self) -> T:
        """Block until the future completes; its value (or raise its exception)."""
        with self._cond:
            while self._result is _UNSET and self._exc is None:
                self._cond.wait()
        return self.value()

    def value(self) -> T:
        """The result of a completed future (its exception is raised); does not block."""
        with self._cond:
            if self._exc is not None:
                raise self._exc
            if self._result is _UNSET:
                raise RuntimeError("Future.value(): the Future is not completed yet")
            return self._result

    def _complete(self, result: Any, exc: BaseException | None) -> None:
        with self._cond:
            if self._result is not _UNSET or self._exc is not None:
                raise RuntimeError(
                    "Future can only be marked completed once: set_result/set_exception was "
                    "already called"
                )
            if exc is not None:
                self._exc = exc
            else:
                self._result = result
            callbacks, self._callbacks = self._callbacks, []
            self._cond.notify_all()
        for cb in callbacks:
            cb(self)

    def set_result(self, result: T) -> None:
        """Complete the future with ``result`` and run the callbacks."""
        self._complete(result, None)

    def set_exception(self, result: BaseException) -> None:
        """Complete the future with an exception: ``wait``/``value`` raise it."""
        if not isinstance(result, BaseException):
            raise TypeError(
                f"Future.set_exception: {type(result).__name__} object is not an exception"
            )
        self._complete(None, result)

    def _on_done(self, cb: Callable[[Future[T]], None]) -> None:
        with self._cond:
            if self._result is _UNSET and self._exc is None:
                self._callbacks.append(cb)
                return
        cb(self)

    def then(self, callback: Callable[[Future[T]], S]) -> Future[S]:
        """A new future completed with ``callback(self)`` once this one completes."""
        fut: Future[S] = Future()

        def run(f: Future[T]) -> None:
            try:
                r = callback(f)
            except BaseException as e:  # the chained future carries the callback's error
                fut.set_exception(e)
            else:
                fut.set_result(r)

        self._on_done(run)
        return fut

    def add_done_callback(self, callback: Callable[[Future[T]], None]) -> None:
        """Run ``callback(self)`` when the future completes (its return value is ignored; an
        exception it raises is reported and swallowed, as torch does)."""

        def run(f: Future[T]) -> None:
            try:
                callback(f)
            except Exception as e:
                import warnings

                warnings.warn(f"Future.add_done_callback: callback raised {e!r}", stacklevel=2)

        self._on_done(run)

    def __repr__(self) -> str:
        with self._cond:
            if self._exc is not None:
                return f"Future(exception={self._exc!r})"
            if self._result is _UNSET:
                return "Future(pending)"
            return f"Future(result={self._result!r})"


def collect_all(futures: list[Future]) -> Future[list[Future]]:
    """A future completed with the list of ``futures`` once all of them complete."""
    futures = list(futures)
    for f in futures:
        if not isinstance(f, Future):
            raise TypeError(f"collect_all(): expected a list of Futures, got {type(f).__name__}")
    out: Future[list[Future]] = Future()
    if not futures:
        out.set_result([])
        return out
    left = [len(futures)]
    lock = threading.Lock()

    def one(_f: Future) -> None:
        with lock:
            left[0] -= 1
            last = left[0] == 0
        if last:
            out.set_result(futures)

    for f in futures:
        f._on_done(one)
    return out


def wait_all(futures: list[Future]) -> list:
    """Wait for every future; their values (the first exception met is raised)."""
    return [f.wait() for f in collect_all(futures).wait()]
