"""``torch.utils.benchmark``: ``Timer``, ``Measurement``, ``Compare``.

The same measuring loops, statistics and text layouts as torch's (Python statements only):
``Timer.timeit(number)`` runs a warm-up of ``number // 100`` then one timed block;
``blocked_autorange`` grows the block size tenfold until the timer's overhead is under 0.01%
(and the block takes at least ``min_run_time / 1000``), then times blocks until
``min_run_time`` has passed; ``adaptive_autorange`` times blocks until the IQR/median is under
``threshold`` (or ``max_run_time`` passes). ``num_threads`` sets ctorch's thread count
(``ctorch.set_num_threads``) for the measurement and restores it afterwards. ``Measurement``
computes median/mean/IQR with linear-interpolated quantiles (torch's ``quantile``) and prints
torch's ``repr``; ``Compare`` merges replicates and renders torch's table, with
``trim_significant_figures``, ``colorize`` (column- or row-wise ANSI colours) and
``highlight_warnings``.

Not provided: C++ statements (``language="cpp"``: ctorch has no C++ ABI), Callgrind
instruction counts (``collect_callgrind``), and the fuzzers.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import enum
import itertools as it
import math
import operator
import textwrap
import timeit as _timeit
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ..._display import object_repr

__all__ = [
    "Timer",
    "timer",
    "Language",
    "Measurement",
    "TaskSpec",
    "Compare",
    "Colorize",
    "select_unit",
    "unit_to_english",
    "trim_sigfig",
    "ordered_unique",
    "set_torch_threads",
]

_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9  # 25 ns
_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.25


def timer() -> float:
    """``timeit.default_timer``, after synchronising the GPU when one is in use."""
    import ctorch

    cuda = ctorch.__dict__.get("cuda")  # only when the program has touched ctorch.cuda
    if cuda is not None and getattr(cuda, "_initialized", False):
        cuda.synchronize()
    return _timeit.default_timer()


@dataclasses.dataclass(init=True, repr=False, eq=True, frozen=True)
class TaskSpec:
    """What a Timer measures (everything but its globals)."""

    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self) -> str:
        if self.label is not None:
            return self.label + (f": {self.sub_label}" if self.sub_label else "")
        if "\n" not in self.stmt:
            return self.stmt + (f": {self.sub_label}" if self.sub_label else "")
        return (
            f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n"
            f"{textwrap.indent(self.stmt, '  ')}"
        )

    def setup_str(self) -> str:
        if self.setup == "pass" or not self.setup:
            return ""
        if "\n" in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f"setup: {self.setup}"

    def summarize(self) -> str:
        sections = [self.title, self.description or "", self.setup_str()]
        return "\n".join([f"{i}\n" if "\n" in i else i for i in sections if i])


_TASKSPEC_FIELDS = tuple(f.name for f in dataclasses.fields(TaskSpec))


def _quantile(sorted_times: tuple[float, ...], q: float) -> float:
    return float(np.quantile(np.asarray(sorted_times, dtype=np.float64), q))


@dataclasses.dataclass(init=True, repr=False)
class Measurement:
    """The result of a Timer measurement: ``raw_times`` of blocks of ``number_per_run``."""

    number_per_run: int
    raw_times: list[float]
    task_spec: TaskSpec
    metadata: dict[Any, Any] | None = None

    def __post_init__(self) -> None:
        self._sorted_times: tuple[float, ...] = ()
        self._warnings: tuple[str, ...] = ()
        self._median = self._mean = self._p25 = self._p75 = -1.0

    def __getattr__(self, name: str) -> Any:
        if name in _TASKSPEC_FIELDS:
            return getattr(self.task_spec, name)
        return super().__getattribute__(name)

    @property
    def times(self) -> list[float]:
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self) -> float:
        self._lazy_init()
        return self._median

    @property
    def mean(self) -> float:
        self._lazy_init()
        return self._mean

    @property
    def iqr(self) -> float:
        self._lazy_init()
        return self._p75 - self._p25

    @property
    def significant_figures(self) -> int:
        """Significant figures the interquartile spread supports (1 to 4)."""
        self._lazy_init()
        n = len(self._sorted_times)
        pts = self._sorted_times[n // 4 : math.ceil(3 * n / 4)]
        std = float(np.std(np.asarray(pts, dtype=np.float32)))
        ci = max(1.645 * std / math.sqrt(len(pts)), _MIN_CONFIDENCE_INTERVAL)
        sig = math.floor(math.log10(self._median / ci))
        return min(max(sig, 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self) -> bool:
        self._lazy_init()
        return bool(self._warnings)

    def _lazy_init(self) -> None:
        if self.raw_times and not self._sorted_times:
            self._sorted_times = tuple(sorted(self.times))
            self._median = _quantile(self._sorted_times, 0.5)
            self._mean = float(np.mean(self._sorted_times))
            self._p25 = _quantile(self._sorted_times, 0.25)
            self._p75 = _quantile(self._sorted_times, 0.75)

            def add_warning(msg: str) -> None:
                rel_iqr = self.iqr / self.median * 100
                self._warnings += (
                    f"  WARNING: Interquartile range is {rel_iqr:.1f}% "
                    f"of the median measurement.\n           {msg}",
                )

            if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
                add_warning("This suggests significant environmental influence.")
            elif not self.meets_confidence(_IQR_WARN_THRESHOLD):
                add_warning("This could indicate system fluctuation.")

    def meets_confidence(self, threshold: float = _IQR_WARN_THRESHOLD) -> bool:
        return self.iqr / self.median < threshold

    @property
    def title(self) -> str:
        return self.task_spec.title

    @property
    def env(self) -> str:
        return "Unspecified env" if self.task_spec.env is None else self.task_spec.env

    @property
    def as_row_name(self) -> str:
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self) -> str:
        self._lazy_init()
        n = len(self._sorted_times)
        unit, scale = select_unit(self._median)
        lines = [
            object_repr(self, "torch.utils.benchmark.utils.common"),
            self.task_spec.summarize(),
            f"  {'Median: ' if n > 1 else ''}{self._median / scale:.2f} {unit}",
        ]
        if n >= 4:
            lines.append(
                f"  IQR:    {self.iqr / scale:.2f} {unit} ({self._p25 / scale:.2f} to "
                f"{self._p75 / scale:.2f})"
            )
        th = self.num_threads
        lines.append(
            f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
            f"{'per measurement,' if n > 1 else ','} {th} thread{'s' if th > 1 else ''}"
        )
        lines.extend(self._warnings)
        return "\n".join("\n".join(lines).strip().splitlines())

    @staticmethod
    def merge(measurements: Iterable[Measurement]) -> list[Measurement]:
        """Merge replicates of the same task (times extrapolated to ``number_per_run=1``)."""
        grouped: dict[TaskSpec, list[Measurement]] = collections.defaultdict(list)
        for m in measurements:
            grouped[m.task_spec].append(m)
        out = []
        for spec, group in grouped.items():
            times: list[float] = []
            for m in group:
                times.extend(m.times)
            out.append(Measurement(number_per_run=1, raw_times=times, task_spec=spec))
        return out


def select_unit(t: float) -> tuple[str, float]:
    """The unit (ns/us/ms/s) that shows ``t`` seconds with O(1) magnitude."""
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(math.log10(t) // 3) if t > 0 else -4, "s")
    if t <= 0:
        unit = "s"
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}[unit]


def unit_to_english(u: str) -> str:
    return {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}[u]


def trim_sigfig(x: float, n: int) -> float:
    """``x`` to ``n`` significant figures (3.14159, 2 -> 3.1)."""
    if n != int(n):
        raise AssertionError("Number of significant figures must be an integer")
    magnitude = math.ceil(math.log10(abs(x)))
    scale = 10 ** (magnitude - n)
    return float(np.round(np.float32(x / scale)) * scale)


def ordered_unique(elements: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(elements))


@contextlib.contextmanager
def set_torch_threads(n: int) -> Iterator[None]:
    """ctorch's thread count set to ``n`` inside, restored after."""
    import ctorch

    prior = ctorch.get_num_threads()
    try:
        ctorch.set_num_threads(n)
        yield
    finally:
        ctorch.set_num_threads(prior)


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


class Timer:
    """Time a Python statement (``torch.utils.benchmark.Timer``)."""

    _timer_cls = _timeit.Timer

    def __init__(
        self,
        stmt: str = "pass",
        setup: str = "pass",
        global_setup: str = "",
        timer: Callable[[], float] = timer,
        globals: dict[str, Any] | None = None,
        label: str | None = None,
        sub_label: str | None = None,
        description: str | None = None,
        env: str | None = None,
        num_threads: int = 1,
        language: Language | str = Language.PYTHON,
    ) -> None:
        import ctorch

        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if language in (Language.CPP, "cpp", "c++"):
            raise NotImplementedError(
                "Timer(language='cpp'): ctorch has no C++ ABI to compile a C++ statement against"
            )
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError(f"Invalid language `{language}`.")
        if global_setup:
            raise ValueError(
                f"global_setup is C++ only, got `{global_setup}`. Most likely this code can "
                "simply be moved to `setup`."
            )
        self._globals = dict(globals or {})
        self._globals.setdefault("torch", ctorch)
        self._language = Language.PYTHON
        stmt = textwrap.dedent(stmt)
        stmt = (stmt[1:] if stmt and stmt[0] == "\n" else stmt).rstrip()
        setup = textwrap.dedent(setup)
        setup = (setup[1:] if setup and setup[0] == "\n" else setup).rstrip()
        self._timer = self._timer_cls(stmt=stmt, setup=setup, timer=timer, globals=self._globals)
        self._task_spec = TaskSpec(
            stmt=stmt,
            setup=setup,
            global_setup=global_setup,
            label=label,
            sub_label=sub_label,
            description=description,
            env=env,
            num_threads=num_threads,
        )

    def _timeit(self, number: int) -> float:
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number: int = 1000000) -> Measurement:
        """Run ``stmt`` ``number`` times (after a warm-up of ``number // 100``)."""
        with set_torch_threads(self._task_spec.num_threads):
            self._timeit(number=max(int(number // 100), 2))
            return Measurement(
                number_per_run=number,
                raw_times=[self._timeit(number=number)],
                task_spec=self._task_spec,
            )

    def repeat(self, repeat: int = -1, number: int = -1) -> None:
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback: Any = None) -> None:
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _measurement_loop(
        self,
        number: int,
        time_hook: Callable[[], float],
        stop_hook: Callable[[list[float]], bool],
        min_run_time: float,
        max_run_time: float | None = None,
        callback: Callable[[int, float], Any] | None = None,
    ) -> list[float]:
        total, can_stop, times = 0.0, False, []
        with set_torch_threads(self._task_spec.num_threads):
            while total < min_run_time or not can_stop:
                t = time_hook()
                times.append(t)
                total += t
                if callback:
                    callback(number, t)
                can_stop = stop_hook(times)
                if max_run_time and total > max_run_time:
                    break
        return times

    def _estimate_block_size(self, min_run_time: float) -> int:
        with set_torch_threads(self._task_spec.num_threads):
            overhead = float(np.median([self._timeit(0) for _ in range(5)]))
            number = 1
            while True:
                taken = self._timeit(number)
                if overhead / taken <= 1e-4 and taken >= min_run_time / 1000:
                    break
                if taken > min_run_time or number * 10 > 2147483647:
                    break
                number *= 10
        return number

    def blocked_autorange(
        self, callback: Callable[[int, float], Any] | None = None, min_run_time: float = 0.2
    ) -> Measurement:
        """Time blocks of an estimated size until ``min_run_time`` seconds have passed."""
        number = self._estimate_block_size(min_run_time)
        times = self._measurement_loop(
            number,
            lambda: self._timeit(number),
            lambda times: True,
            min_run_time=min_run_time,
            callback=callback,
        )
        return Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def adaptive_autorange(
        self,
        threshold: float = 0.1,
        *,
        min_run_time: float = 0.01,
        max_run_time: float = 10.0,
        callback: Callable[[int, float], Any] | None = None,
    ) -> Measurement:
        """Time blocks until IQR/median < ``threshold`` (at least 4 blocks and
        ``min_run_time``) or ``max_run_time`` seconds have passed."""
        number = self._estimate_block_size(min_run_time=0.05)

        def stop(times: list[float]) -> bool:
            if len(times) > 3:
                return Measurement(
                    number_per_run=number, raw_times=times, task_spec=self._task_spec
                ).meets_confidence(threshold=threshold)
            return False

        times = self._measurement_loop(
            number, lambda: self._timeit(number), stop, min_run_time, max_run_time, callback
        )
        return Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def collect_callgrind(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "Timer.collect_callgrind: not provided by ctorch (no valgrind bindings)"
        )


# ---------------------------------------------------------------- Compare

BEST = "\033[92m"
GOOD = "\033[34m"
BAD = "\033[2m\033[91m"
VERY_BAD = "\033[31m"
BOLD = "\033[1m"
TERMINATE = "\033[0m"


class Colorize(enum.Enum):
    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


class _Column:
    def __init__(self, grouped, time_scale, time_unit, trim, highlight) -> None:
        self._grouped = grouped
        flat = [*it.chain.from_iterable(grouped)]
        self._trim = trim
        self._highlight = highlight and any(r.has_warnings for r in flat if r)
        leading = [math.ceil(math.log10(r.median / time_scale)) if r else None for r in flat]
        unit_digits = max(d for d in leading if d is not None)
        decimal = (
            min(
                max(m.significant_figures - d, 0)
                for d, m in zip(leading, flat, strict=True)
                if m is not None and d is not None
            )
            if trim
            else 1
        )
        length = unit_digits + decimal + (1 if decimal else 0)
        self._template = f"{{:>{length}.{decimal}f}}{{:>{7 if self._highlight else 0}}}"

    def get_results_for(self, group):
        return self._grouped[group]

    def num_to_str(self, value, sigfigs, spread) -> str:
        if value is None:
            return " " * len(self.num_to_str(1, sigfigs, None))
        if self._trim:
            value = trim_sigfig(value, sigfigs)
        return self._template.format(
            value, f" (! {spread * 100:.0f}%)" if self._highlight and spread is not None else ""
        )


class _Row:
    def __init__(
        self, results, row_group, render_env, env_str_len, time_scale, colorize, num_threads
    ) -> None:
        self._results = results
        self._row_group = row_group
        self._render_env = render_env
        self._env_str_len = env_str_len
        self._time_scale = time_scale
        self._colorize = colorize
        self._columns: tuple[_Column, ...] = ()
        self._num_threads = num_threads

    def as_column_strings(self) -> list[str]:
        concrete = [r for r in self._results if r is not None]
        env = f"({concrete[0].env})" if self._render_env else ""
        env = env.ljust(self._env_str_len + 4)
        out = ["  " + env + concrete[0].as_row_name]
        for m, col in zip(self._results, self._columns, strict=False):
            if m is None:
                out.append(col.num_to_str(None, 1, None))
            else:
                out.append(
                    col.num_to_str(
                        m.median / self._time_scale,
                        m.significant_figures,
                        m.iqr / m.median if m.has_warnings else None,
                    )
                )
        return out

    @staticmethod
    def color_segment(segment: str, value: float, best: float) -> str:
        if value <= best * 1.01 or value <= best + 100e-9:
            return BEST + BOLD + segment + TERMINATE * 2
        if value <= best * 1.1:
            return GOOD + BOLD + segment + TERMINATE * 2
        if value >= best * 5:
            return VERY_BAD + BOLD + segment + TERMINATE * 2
        if value >= best * 2:
            return BAD + segment + TERMINATE * 2
        return segment

    def row_separator(self, width: int) -> list[str]:
        return (
            [f"{self._num_threads} threads: ".ljust(width, "-")]
            if self._num_threads is not None
            else []
        )

    def finalize(self, strings: list[str], widths: list[int]) -> list[str]:
        best: list[Any] = [-1 for _ in strings]
        if self._colorize == Colorize.ROWWISE:
            row_min = min(r.median for r in self._results if r is not None)
            best = [row_min for _ in strings]
        elif self._colorize == Colorize.COLUMNWISE:
            best = []
            for col in self._columns:
                meds = [r.median for r in col.get_results_for(self._row_group) if r is not None]
                best.append(min(meds) if meds else None)
        row = [strings[0].ljust(widths[0])]
        for s, w, r, b in zip(strings[1:], widths[1:], self._results, best, strict=False):
            s = s.center(w)
            if self._colorize != Colorize.NONE and r is not None and b is not None:
                s = self.color_segment(s, r.median, b)
            row.append(s)
        return row


class _Table:
    def __init__(self, results: list[Measurement], colorize, trim, highlight) -> None:
        self.results = results
        self._colorize, self._trim, self._highlight = colorize, trim, highlight
        self.label = results[0].label
        self.time_unit, self.time_scale = select_unit(min(r.median for r in results))
        self.row_keys = ordered_unique([self.row_fn(r) for r in results])
        self.row_keys.sort(key=operator.itemgetter(slice(2)))
        self.column_keys = ordered_unique([r.description for r in results])
        self.rows = self._populate()

    @staticmethod
    def row_fn(m: Measurement) -> tuple:
        return m.num_threads, m.env, m.as_row_name

    def _populate(self) -> tuple[_Row, ...]:
        ordered: list[list[Measurement | None]] = [
            [None] * len(self.column_keys) for _ in self.row_keys
        ]
        rpos = {k: i for i, k in enumerate(self.row_keys)}
        cpos = {k: i for i, k in enumerate(self.column_keys)}
        for r in self.results:
            ordered[rpos[self.row_fn(r)]][cpos[r.description]] = r
        envs = {r.env for r in self.results}
        render_env = len(envs) > 1
        env_len = max(len(e) for e in envs) if render_env else 0
        rows: list[_Row] = []
        groups: list[list[list[Measurement | None]]] = []
        prior_threads, prior_env, group = -1, "", -1
        for (threads, env, _), row in zip(self.row_keys, ordered, strict=True):
            transition = threads != prior_threads
            if transition:
                prior_threads, prior_env = threads, ""
                group += 1
                groups.append([])
            rows.append(
                _Row(
                    row,
                    group,
                    render_env and env != prior_env,
                    env_len,
                    self.time_scale,
                    self._colorize,
                    threads if transition else None,
                )
            )
            groups[-1].append(row)
            prior_env = env
        columns = tuple(
            _Column(
                [tuple(row[i] for row in g) for g in groups],
                self.time_scale,
                self.time_unit,
                self._trim,
                self._highlight,
            )
            for i in range(len(self.column_keys))
        )
        for r in rows:
            r._columns = columns
        return tuple(rows)

    def render(self) -> str:
        string_rows = [["", *[str(k) if k is not None else "None" for k in self.column_keys]]]
        string_rows.extend(r.as_column_strings() for r in self.rows)
        n = max(len(r) for r in string_rows)
        for sr in string_rows:
            sr.extend([""] * (n - len(sr)))
        widths = [max(len(j) for j in col) for col in zip(*string_rows, strict=True)]
        lines = ["  |  ".join(s.center(w) for s, w in zip(string_rows[0], widths, strict=True))]
        width = len(lines[0])
        for sr, row in zip(string_rows[1:], self.rows, strict=True):
            lines.extend(row.row_separator(width))
            lines.append("  |  ".join(row.finalize(sr, widths)))
        warn = self._highlight and any(r.has_warnings for r in self.results)
        nl = "\n"
        return (
            f"[{(' ' + (self.label or '') + ' ').center(width - 2, '-')}]\n"
            f"{nl.join(lines)}\n\n"
            f"Times are in {unit_to_english(self.time_unit)}s ({self.time_unit}).\n"
            + (
                "(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n"
                if warn
                else ""
            )
        )


class Compare:
    """Print many measurements as one table per label (rows: sub_label or stmt, grouped by
    thread count; columns: description)."""

    def __init__(self, results: list[Measurement]) -> None:
        self._results: list[Measurement] = []
        self.extend_results(results)
        self._trim_significant_figures = False
        self._colorize = Colorize.NONE
        self._highlight_warnings = False

    def __str__(self) -> str:
        return "\n".join(self._render())

    def extend_results(self, results: Iterable[Measurement]) -> None:
        results = list(results)
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        self._trim_significant_figures = True

    def colorize(self, rowwise: bool = False) -> None:
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self) -> None:
        self._highlight_warnings = True

    def print(self) -> None:
        print(str(self))

    def _render(self) -> list[str]:
        grouped: dict[Any, list[Measurement]] = collections.defaultdict(list)
        for r in Measurement.merge(self._results):
            grouped[r.label].append(r)
        return [
            _Table(
                g, self._colorize, self._trim_significant_figures, self._highlight_warnings
            ).render()
            for g in grouped.values()
        ]
