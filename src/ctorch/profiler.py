"""``torch.profiler``: ``profile`` with torch's ``schedule``/``step()`` state machine and
``on_trace_ready``, ``record_function`` ranges, ``key_averages().table()``,
``export_chrome_trace`` and ``tensorboard_trace_handler``.

What is recorded, with wall-clock times on each thread (self time excludes nested ranges):
the ``record_function`` ranges a program opens, the ``ProfilerStep#N`` range of every step,
every op that runs through the autograd ``Function`` layer (every differentiable op, with or
without a graph to record) under torch's operator name (``aten::addmm``, ``aten::softmax``,
... derived from the op's grad_fn name; a user ``Function`` under its class name), and in
``backward()`` each graph node (``autograd::engine::evaluate_function: AddmmBackward0`` around
``AddmmBackward0``, as torch). Not recorded: no-grad elementwise arithmetic, views and indexing
that run their arrays directly (torch records those as ``aten::add``, ``aten::view``, ...),
creation functions, and CUDA kernels (the CUDA columns stay at zero).
"""

from __future__ import annotations

import enum
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "ProfilerAction",
    "ProfilerActivity",
    "profile",
    "record_function",
    "schedule",
    "supported_activities",
    "tensorboard_trace_handler",
]


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5

    def __repr__(self) -> str:
        return f"<ProfilerActivity.{self.name}: {self.value}>"


def supported_activities() -> set[ProfilerActivity]:
    from . import cuda

    acts = {ProfilerActivity.CPU}
    if cuda.is_available():
        acts.add(ProfilerActivity.CUDA)
    return acts


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


def schedule(
    *,
    wait: int,
    warmup: int,
    active: int,
    repeat: int = 0,
    skip_first: int = 0,
    skip_first_wait: int = 0,
) -> Callable[[int], ProfilerAction]:
    """torch's schedule: skip ``skip_first`` steps, then cycles of ``wait`` idle, ``warmup``
    and ``active`` recorded steps (the last one saves), ``repeat`` times (0: forever)."""

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod_step = step % num_steps
        if mod_step < wait:
            return ProfilerAction.NONE
        if mod_step < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod_step < num_steps - 1 else ProfilerAction.RECORD_AND_SAVE

    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
            f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
            f"skip_first={skip_first} (need >= 0)."
        )
    if warmup == 0:
        warnings.warn(
            "Profiler won't be using warmup, this can skew profiler results", stacklevel=2
        )
    return schedule_fn


def _default_schedule_fn(_: int) -> ProfilerAction:
    return ProfilerAction.RECORD


def tensorboard_trace_handler(
    dir_name: str,
    worker_name: str | None = None,
    use_gzip: bool = False,
    use_python_export: bool = False,
) -> Callable[[Any], None]:
    """An ``on_trace_ready`` that writes ``<worker>.<ns>.pt.trace.json`` under ``dir_name``."""

    def handler_fn(prof: Any) -> None:
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            import socket

            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json"
        if use_gzip:
            file_name = file_name + ".gz"
        prof.export_chrome_trace(os.path.join(dir_name, file_name))

    return handler_fn


# ---------------------------------------------------------------------------- events


def _format_time(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _zero_unrecorded_totals(evt: Any) -> None:
    """The device, memory and FLOP totals of torch's events, which ctorch does not record:
    zero on a ``FunctionEvent`` and on a ``FunctionEventAvg`` alike."""
    evt.device_time_total = 0.0
    evt.self_device_time_total = 0.0
    evt.cuda_time_total = 0.0
    evt.self_cuda_time_total = 0.0
    evt.cpu_memory_usage = 0
    evt.self_cpu_memory_usage = 0
    evt.flops = 0


class Interval:
    """A time range in microseconds (torch's ``profiler_util.Interval``)."""

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end

    def elapsed_us(self) -> float:
        return self.end - self.start


class FunctionEvent:
    """One recorded range (times in microseconds)."""

    def __init__(self, id: int, name: str, thread: int, start_us: float, end_us: float) -> None:  # noqa: A002
        self.id = id
        # torch's names: a step is "ProfilerStep*" in tables, "ProfilerStep#N" in traces
        self.trace_name = name
        self.name = "ProfilerStep*" if name.startswith("ProfilerStep#") else name
        self.key = self.name
        self.thread = thread
        self.time_range_start = start_us
        self.time_range_end = end_us
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None
        self.count = 1
        _zero_unrecorded_totals(self)
        self.input_shapes: list = []
        self.stack: list = []
        self.is_async = False
        self.cat = "user_annotation"  # chrome-trace category; "cpu_op" for operators

    @property
    def time_range(self) -> Interval:
        return Interval(self.time_range_start, self.time_range_end)

    @property
    def cpu_time_total(self) -> float:
        return self.time_range_end - self.time_range_start

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total

    def __repr__(self) -> str:
        return (
            f"<FunctionEvent id={self.id} name={self.name} "
            f"cpu_time={_format_time(self.cpu_time_total)} thread={self.thread}>"
        )


class FunctionEventAvg:
    """Events with one key, summed (``key_averages()``)."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        _zero_unrecorded_totals(self)
        self.input_shapes = None
        self.stack = None

    def add(self, evt: Any) -> FunctionEventAvg:
        self.count += evt.count
        self.cpu_time_total += evt.cpu_time_total
        self.self_cpu_time_total += evt.self_cpu_time_total
        return self

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / max(self.count, 1)

    def __repr__(self) -> str:
        return (
            f"<FunctionEventAvg key={self.key} self_cpu_time={_format_time(self.self_cpu_time_total)} "
            f"cpu_time={_format_time(self.cpu_time)} count={self.count}>"
        )


class EventList(list):
    """A list of events with torch's ``table``/``key_averages``/``export_chrome_trace``."""

    def key_averages(
        self, group_by_input_shapes: bool = False, group_by_stack_n: int = 0, **_: Any
    ):
        avgs: dict[str, FunctionEventAvg] = {}
        for evt in self:
            avgs.setdefault(evt.key, FunctionEventAvg(evt.key)).add(evt)
        return EventList(avgs.values())

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for evt in self:
            total.add(evt)
        return total

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def table(
        self,
        sort_by: str | None = None,
        row_limit: int = 100,
        max_src_column_width: int = 75,
        max_name_column_width: int = 55,
        max_shapes_column_width: int = 80,
        header: str | None = None,
        top_level_events_only: bool = False,
        **_: Any,
    ) -> str:
        events = list(self)
        if top_level_events_only:
            events = [e for e in events if getattr(e, "cpu_parent", None) is None]
        if sort_by is not None:
            events.sort(key=lambda e: getattr(e, sort_by, 0), reverse=True)
        events = events[:row_limit] if row_limit > 0 else events
        name_w = min(max([len(e.key) for e in events] + [4]) + 4, max_name_column_width)
        cols = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
        sep = "-" * name_w + "  " + "  ".join("-" * 12 for _ in cols) + "  "
        total_self = sum(e.self_cpu_time_total for e in self) or 1.0
        lines = []
        if header is not None:
            lines += ["=" * len(sep), header]
        lines += [sep, f"{'Name':>{name_w}}  " + "  ".join(f"{c:>12}" for c in cols) + "  ", sep]
        for e in events:
            name = e.key if len(e.key) <= name_w else e.key[: name_w - 3] + "..."
            vals = [
                f"{e.self_cpu_time_total / total_self * 100:.2f}%",
                _format_time(e.self_cpu_time_total),
                f"{e.cpu_time_total / total_self * 100:.2f}%",
                _format_time(e.cpu_time_total),
                _format_time(e.cpu_time),
                str(e.count),
            ]
            lines.append(f"{name:>{name_w}}  " + "  ".join(f"{v:>12}" for v in vals) + "  ")
        lines += [
            sep,
            f"Self CPU time total: {_format_time(sum(e.self_cpu_time_total for e in self))}",
        ]
        return "\n".join(lines) + "\n"

    def export_chrome_trace(self, path: str) -> None:
        import json

        pid = os.getpid()
        trace = {
            "schemaVersion": 1,
            "traceEvents": [
                {
                    "ph": "X",
                    "cat": e.cat,
                    "name": e.trace_name,
                    "pid": pid,
                    "tid": e.thread,
                    "ts": e.time_range_start,
                    "dur": e.cpu_time_total,
                    "args": {},
                }
                for e in self
            ],
            "traceName": path,
            "displayTimeUnit": "ms",
        }
        with open(path, "w") as f:
            json.dump(trace, f)

    def __str__(self) -> str:
        return self.table()


# ---------------------------------------------------------------------------- recording

_lock = threading.Lock()
_collectors: list[_Collector] = []  # the traces being recorded now
_local = threading.local()


class _Collector:
    def __init__(self) -> None:
        self.events: list[FunctionEvent] = []

    def finish(self) -> EventList:
        # parents: the innermost enclosing range on the same thread
        events = sorted(
            self.events, key=lambda e: (e.thread, e.time_range_start, -e.time_range_end)
        )
        stack: list[FunctionEvent] = []
        for e in events:
            while stack and (
                stack[-1].thread != e.thread or stack[-1].time_range_end < e.time_range_end
            ):
                stack.pop()
            if stack:
                e.cpu_parent = stack[-1]
                stack[-1].cpu_children.append(e)
            stack.append(e)
        events.sort(key=lambda e: e.time_range_start)
        for i, e in enumerate(events):
            e.id = i
        return EventList(events)


def _now_us() -> float:
    return time.perf_counter_ns() / 1e3


def _add_event(name: str, start_us: float, end_us: float, cat: str = "") -> None:
    evt = FunctionEvent(0, name, threading.get_ident(), start_us, end_us)
    if cat:
        evt.cat = cat
    with _lock:
        for c in _collectors:
            c.events.append(evt)


# ------------------------------------------------------------------ operator events

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])|(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_op_names: dict = {}


def _op_name(cls) -> str:
    """torch's operator name for Function ``cls``: its grad_fn name without ``Backward<N>``,
    in snake case (``AddmmBackward0`` -> ``aten::addmm``, ``MaxPool2DWithIndicesBackward0``
    -> ``aten::max_pool2d_with_indices``); a user Function keeps its class name."""
    n = _op_names.get(cls)
    if n is None:
        bw = cls._backward_cls
        if bw._user:
            n = cls.__name__
        else:
            base = re.sub(r"Backward\d*$", "", bw.__name__)
            n = "aten::" + _CAMEL.sub("_", base).lower()
        _op_names[cls] = n
    return n


class _OpRecorder:
    """The hook ``ctorch._core._autograd`` calls while a profiler records (``set_op_hook``)."""

    def __init__(self) -> None:
        from ._core import _autograd

        self._apply = _autograd.apply_unhooked

    def op(self, cls, args, kwargs):
        t0 = time.perf_counter_ns()
        try:
            return self._apply(cls, args, kwargs)
        finally:
            _add_event(_op_name(cls), t0 / 1e3, time.perf_counter_ns() / 1e3, "cpu_op")

    def begin(self) -> int:
        return time.perf_counter_ns()

    def end_node(self, t0: int, node) -> None:
        t0u, t1u = t0 / 1e3, time.perf_counter_ns() / 1e3
        name = node.name()
        _add_event("autograd::engine::evaluate_function: " + name, t0u, t1u, "cpu_op")
        _add_event(name, t0u, t1u, "cpu_op")


def _fast_path_block(cls, args):
    """Stands in ``autograd.function._autocast`` while a profiler records and no autocast
    region is open: the ops' direct fast paths (taken only when that slot is None) give way
    to ``Function.apply``, where the op is recorded. Returns the arguments unchanged."""
    return args


def _publish() -> None:
    """Install or remove the operator hooks as recording starts or stops (under ``_lock``)."""
    from ._core import _autograd
    from .autograd import function

    on = bool(_collectors)
    _autograd.set_op_hook(_OpRecorder() if on else None)
    if function._autocast is None or function._autocast is _fast_path_block:
        function._autocast = _fast_path_block if on else None


class record_function:
    """A named range (context manager or decorator), recorded while a profiler records."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self.args = args
        self._start: float | None = None

    def __enter__(self) -> record_function:
        self._start = _now_us() if _collectors else None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._start is None:
            return
        _add_event(self.name, self._start, _now_us())
        self._start = None

    def __call__(self, fn: Callable) -> Callable:
        import functools

        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return wrapped


_cycle_warned = False


def _warn_cycle() -> None:
    global _cycle_warned
    _cycle_warned = True  # torch warns once per process
    warnings.warn(
        "Warning: Profiler clears events at the end of each cycle. Only events from the current "
        "cycle will be reported. To keep events across cycles, set acc_events=True.",
        stacklevel=4,
    )


class _KinetoProfile:
    def __init__(
        self,
        *,
        activities: Iterable[ProfilerActivity] | None = None,
        record_shapes: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        with_flops: bool = False,
        with_modules: bool = False,
        experimental_config: Any = None,
        execution_trace_observer: Any = None,
        acc_events: bool = False,
        custom_trace_id_callback: Any = None,
    ) -> None:
        self.activities = set(activities) if activities else supported_activities()
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.acc_events = acc_events
        self._collector: _Collector | None = None
        self._events: EventList | None = None
        self._metadata: dict[str, str] = {}

    def _prepare_trace(self) -> None:
        """torch's warnings when a profiling cycle is set up."""
        if ProfilerActivity.CUDA in self.activities and not getattr(self, "_cuda_warned", False):
            from . import cuda

            self._cuda_warned = True
            if not cuda.is_available():
                warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=3)
        if self._events is not None and not self.acc_events and not _cycle_warned:
            _warn_cycle()

    def _start_trace(self) -> None:
        self._collector = _Collector()
        with _lock:
            _collectors.append(self._collector)
            _publish()

    def _stop_trace(self) -> None:
        c = self._collector
        if c is None:
            return
        with _lock:
            if c in _collectors:
                _collectors.remove(c)
            _publish()
        self._collector = None
        events = c.finish()
        self._events = EventList(list(self._events or []) + events) if self.acc_events else events

    def events(self) -> EventList | None:
        return self._events

    def key_averages(
        self, group_by_input_shape: bool = False, group_by_stack_n: int = 0, **kw: Any
    ):
        return self._recorded().key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path: str) -> None:
        self._recorded().export_chrome_trace(path)

    def _recorded(self) -> EventList:
        """The recorded events; torch's AssertionError where nothing was recorded yet."""
        if self._events is None:
            raise AssertionError("Expected profiling results")
        return self._events

    def add_metadata(self, key: str, value: str) -> None:
        self._metadata[key] = value

    def add_metadata_json(self, key: str, value: str) -> None:
        self._metadata[key] = value


class profile(_KinetoProfile):
    """The profiler context manager: ``schedule`` decides per ``step()`` whether to record;
    a recording window that ends (or ``stop()`` inside one) calls ``on_trace_ready(self)``."""

    def __init__(
        self,
        *,
        activities: Iterable[ProfilerActivity] | None = None,
        schedule: Callable[[int], ProfilerAction] | None = None,
        on_trace_ready: Callable[..., Any] | None = None,
        record_shapes: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        with_flops: bool = False,
        with_modules: bool = False,
        experimental_config: Any = None,
        execution_trace_observer: Any = None,
        acc_events: bool = False,
        use_cuda: bool | None = None,
        custom_trace_id_callback: Any = None,
    ) -> None:
        if use_cuda is not None:
            warnings.warn(
                "`use_cuda` is deprecated, use `activities` argument instead",
                FutureWarning,
                stacklevel=2,
            )
        super().__init__(
            activities=activities,
            record_shapes=record_shapes,
            profile_memory=profile_memory,
            with_stack=with_stack,
            with_flops=with_flops,
            with_modules=with_modules,
            acc_events=acc_events,
        )
        self.schedule = schedule if schedule is not None else _default_schedule_fn
        self.record_steps = schedule is not None
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self.schedule(self.step_num)
        self.step_rec_fn: record_function | None = None

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        self.stop()

    def _trace_ready(self) -> None:
        if self.on_trace_ready:
            self.on_trace_ready(self)

    def _transit(self, prev: ProfilerAction, cur: ProfilerAction | None) -> None:
        """torch's action map for (previous, current) schedule actions; ``None``: stop()."""
        A = ProfilerAction
        if prev is A.NONE:
            if cur is A.WARMUP or cur in _RECORDING:
                self._prepare_trace()
            if cur in _RECORDING:
                self._start_trace()
        elif prev is A.WARMUP:
            if cur is A.NONE:
                warnings.warn("Incorrect schedule: WARMUP followed by NONE", stacklevel=3)
            if cur in _RECORDING:
                self._start_trace()
            elif cur is not A.WARMUP:
                self._start_trace()
                self._stop_trace()
        elif prev is A.RECORD:
            if cur in (A.NONE, A.WARMUP):
                warnings.warn(f"Incorrect schedule: RECORD followed by {cur.name}", stacklevel=3)
                self._stop_trace()
            elif cur is None:
                self._stop_trace()
                self._trace_ready()
        elif prev is A.RECORD_AND_SAVE:
            self._stop_trace()
            self._trace_ready()
            if cur is A.WARMUP or cur in _RECORDING:
                self._prepare_trace()
            if cur in _RECORDING:
                self._start_trace()

    def _open_step_range(self) -> None:
        """With a schedule: the ``ProfilerStep#N`` range of the step that starts."""
        if self.record_steps:
            self.step_rec_fn = record_function(f"ProfilerStep#{self.step_num}")
            self.step_rec_fn.__enter__()

    def _close_step_range(self) -> None:
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None

    def start(self) -> None:
        self._transit(ProfilerAction.NONE, self.current_action)
        self._open_step_range()

    def stop(self) -> None:
        self._close_step_range()
        self._transit(self.current_action, None)

    def step(self) -> None:
        """The next profiling step starts."""
        self._close_step_range()
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit(prev, self.current_action)
        self._open_step_range()
