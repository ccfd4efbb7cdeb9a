"""``torch.autograd.profiler``: ``record_function`` and the legacy ``profile`` context manager
(``with profile() as prof: ...; prof.key_averages().table()``) over ``ctorch.profiler``."""

from __future__ import annotations

from typing import Any

from ..profiler import EventList, FunctionEvent, FunctionEventAvg, _KinetoProfile, record_function

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "profile", "record_function"]


class profile(_KinetoProfile):
    """Records the ``record_function`` ranges opened inside the block (when ``enabled``)."""

    def __init__(
        self,
        enabled: bool = True,
        *,
        use_cuda: bool = False,
        use_device: str | None = None,
        record_shapes: bool = False,
        with_flops: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        with_modules: bool = False,
        use_kineto: bool = False,
        use_cpu: bool = True,
        experimental_config: Any = None,
        acc_events: bool = False,
        custom_trace_id_callback: Any = None,
    ) -> None:
        super().__init__(record_shapes=record_shapes, profile_memory=profile_memory)
        self.enabled = enabled
        self.entered = False

    def __enter__(self) -> profile:
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._start_trace()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self._stop_trace()

    @property
    def function_events(self) -> EventList | None:
        return self._events

    def table(self, sort_by: str | None = None, row_limit: int = 100, **kw: Any) -> str:
        if self._events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self._events.table(sort_by=sort_by, row_limit=row_limit, **kw)

    @property
    def self_cpu_time_total(self) -> float:
        if self._events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self._events.self_cpu_time_total

    def __str__(self) -> str:
        return self.table() if self._events is not None else "<unfinished profiler>"
