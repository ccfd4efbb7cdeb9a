"""``torch.distributed.elastic.multiprocessing.errors``: ``@record`` on a rank's entry point.

torch's ``record`` writes an uncaught exception to the file named by ``TORCHELASTIC_ERROR_FILE``
(for torchrun's failure summary) and re-raises. ctorch does the same: the error file is written
as torch writes it (a JSON ``message`` with ``message``, ``extraInfo.py_callstack`` and
``extraInfo.timestamp``) when that variable is set, and the exception always propagates."""

from __future__ import annotations

import functools
import json
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["ChildFailedError", "ErrorHandler", "ProcessFailure", "get_error_handler", "record"]

T = TypeVar("T")


@dataclass
class ProcessFailure:
    """One failed rank: its local rank, pid, exit code and error file."""

    local_rank: int
    pid: int
    exitcode: int
    error_file: str
    message: str = ""
    timestamp: int = field(default_factory=lambda: int(time.time()))

    def signal_name(self) -> str:
        if self.exitcode < 0:
            import signal

            try:
                return signal.Signals(-self.exitcode).name
            except ValueError:
                return "<Unknown>"
        return "<N/A>"


class ChildFailedError(Exception):
    """Raised by a launcher when ranks fail; ``failures`` maps global rank to ProcessFailure."""

    def __init__(self, name: str, failures: dict[int, ProcessFailure]) -> None:
        self.name = name
        self.failures = failures
        if not failures:
            raise AssertionError("created a ChildFailedError with no failures")
        super().__init__(self.format_msg())

    def get_first_failure(self) -> tuple[int, ProcessFailure]:
        rank = min(self.failures, key=lambda r: self.failures[r].timestamp)
        return rank, self.failures[rank]

    def format_msg(self) -> str:
        lines = [f"{self.name} FAILED"]
        for rank, f in sorted(self.failures.items()):
            lines.append(
                f"  rank {rank} (local_rank {f.local_rank}, pid {f.pid}): exitcode "
                f"{f.exitcode} ({f.signal_name()}) {f.message}".rstrip()
            )
        return "\n".join(lines)


class ErrorHandler:
    """Writes an uncaught exception to ``TORCHELASTIC_ERROR_FILE`` (when set)."""

    def _get_error_file_path(self) -> str | None:
        return os.environ.get("TORCHELASTIC_ERROR_FILE")

    def initialize(self) -> None:
        """torch installs faulthandler here; nothing else is needed."""

    def record_exception(self, e: BaseException) -> None:
        path = self._get_error_file_path()
        if not path:
            return
        data = {
            "message": {
                "message": f"{type(e).__name__}: {e}",
                "extraInfo": {
                    "py_callstack": traceback.format_exc(),
                    "timestamp": str(int(time.time())),
                },
            }
        }
        with open(path, "w") as fp:
            json.dump(data, fp)


def get_error_handler() -> ErrorHandler:
    return ErrorHandler()


def record(fn: Callable[..., T] | None = None, error_handler: ErrorHandler | None = None) -> Any:
    """Decorator for a rank's entry point (``@record`` or ``@record(error_handler=...)``)."""

    def wrap(f: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            handler = error_handler or get_error_handler()
            handler.initialize()
            try:
                return f(*args, **kwargs)
            except SystemExit as se:
                if se.code == 0 or se.code is None:  # a clean exit is not a failure
                    return None  # type: ignore[return-value]
                raise
            except ChildFailedError:
                raise
            except Exception as e:
                handler.record_exception(e)
                raise

        return wrapper

    return wrap(fn) if fn is not None else wrap
