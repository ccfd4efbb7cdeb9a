"""``torch.profiler`` / ``torch.autograd.profiler``: the schedule state machine, step ranges,
``record_function`` nesting and the trace handler, compared with torch where torch is there
(the range tests filter operator events out: torch records every ATen operator, ctorch the
ops that run through its autograd Function layer; the operator tests compare those)."""

from __future__ import annotations

import importlib
import json
import time
from pathlib import Path

import pytest
from helpers import lib_by_name

import ctorch

LIBS = ["ctorch", "torch"]


def _ours(names):
    return [n for n in names if n.startswith(("ProfilerStep", "work", "outer", "inner"))]


@pytest.mark.parametrize("lib", LIBS)
def test_schedule_windows_and_step_ranges(lib: str) -> None:
    t = lib_by_name(lib)
    P = t.profiler
    acts = [P.schedule(wait=1, warmup=1, active=2, repeat=2)(s) for s in range(10)]
    assert [a.name for a in acts] == [
        "NONE", "WARMUP", "RECORD", "RECORD_AND_SAVE",
        "NONE", "WARMUP", "RECORD", "RECORD_AND_SAVE", "NONE", "NONE",
    ]  # fmt: skip
    seen = []

    def ready(p):
        seen.append((p.step_num, _ours(e.name for e in p.events())))

    with P.profile(
        activities=[P.ProfilerActivity.CPU],
        schedule=P.schedule(wait=1, warmup=1, active=2, repeat=2),
        on_trace_ready=ready,
    ) as prof:
        for i in range(9):
            with P.record_function(f"work{i}"):
                t.ones(2).sum()
            if i == 4 and lib == "ctorch":  # the second cycle: torch's once-per-process warning
                ctorch.profiler._cycle_warned = False
                with pytest.warns(UserWarning, match="Profiler clears events at the end of each"):
                    prof.step()
            else:
                prof.step()
    assert seen == [
        (4, ["ProfilerStep*", f"work{2}", "ProfilerStep*", "work3"]),
        (8, ["ProfilerStep*", "work6", "ProfilerStep*", "work7"]),
    ]
    with pytest.raises(AssertionError, match="Invalid profiler schedule arguments"):
        P.schedule(wait=0, warmup=0, active=0)
    with pytest.warns(UserWarning, match="won't be using warmup"):
        P.schedule(wait=0, warmup=0, active=1)


@pytest.mark.parametrize("lib", LIBS)
def test_nested_ranges_self_time_and_table(lib: str) -> None:
    t = lib_by_name(lib)
    with t.profiler.profile(activities=[t.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(2):
            with t.profiler.record_function("outer"):
                with t.autograd.profiler.record_function("inner"):
                    time.sleep(0.004)
                time.sleep(0.002)
    avgs = {e.key: e for e in prof.key_averages() if e.key in ("outer", "inner")}
    assert avgs["outer"].count == 2 and avgs["inner"].count == 2
    inner, outer = avgs["inner"], avgs["outer"]
    assert inner.cpu_time_total >= 8000 and outer.cpu_time_total >= 12000  # microseconds
    # outer's self time leaves out inner (torch's operators, if any, are tiny here)
    assert outer.self_cpu_time_total < outer.cpu_time_total - inner.cpu_time_total + 2000
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=10)
    for col in ("Name", "Self CPU %", "CPU total", "# of Calls", "Self CPU time total:"):
        assert col in table
    assert "outer" in table and "inner" in table


@pytest.mark.parametrize("lib", LIBS)
def test_tensorboard_trace_handler_and_legacy_profile(lib: str, tmp_path: Path) -> None:
    t = lib_by_name(lib)
    P = t.profiler
    with P.profile(
        activities=[P.ProfilerActivity.CPU],
        schedule=P.schedule(wait=0, warmup=1, active=1, repeat=1),
        on_trace_ready=P.tensorboard_trace_handler(str(tmp_path / "log"), worker_name="w0"),
    ) as prof:
        for i in range(3):
            with P.record_function(f"work{i}"):
                pass
            prof.step()
    files = list((tmp_path / "log").glob("w0.*.pt.trace.json"))
    assert len(files) == 1
    names = _ours(e.get("name", "") for e in json.loads(files[0].read_text())["traceEvents"])
    assert sorted(names) == ["ProfilerStep#1", "work1"]

    @P.record_function("decorated")
    def f():
        return 3

    with t.autograd.profiler.profile() as legacy:
        assert f() == 3
    assert [e.key for e in legacy.key_averages() if e.key == "decorated"] == ["decorated"]
    assert "decorated" in legacy.key_averages().table()
    assert legacy.self_cpu_time_total >= 0


def test_importable_as_torch_names() -> None:
    for mod in ("ctorch.profiler", "ctorch.autograd.profiler"):
        importlib.import_module(mod)
    assert ctorch.profiler.ProfilerActivity.CPU in ctorch.profiler.supported_activities()
    with ctorch.profiler.record_function("no profiler running"):  # records nothing, costs little
        pass


def _mlp_step(t):
    t.manual_seed(0)
    m = t.nn.Sequential(t.nn.Linear(8, 16), t.nn.ReLU(), t.nn.Linear(16, 3))
    x = t.randn(5, 8)
    return m, x


@pytest.mark.parametrize("lib", LIBS)
def test_operator_and_backward_node_events(lib: str, tmp_path: Path) -> None:
    t = lib_by_name(lib)
    m, x = _mlp_step(t)
    with t.profiler.profile(activities=[t.profiler.ProfilerActivity.CPU]) as prof:
        with t.profiler.record_function("step"):
            loss = t.log_softmax(m(x), -1).sum()
            loss.backward()
        with t.no_grad():
            m(x).exp()
    keys = {e.key for e in prof.key_averages()}
    # the names torch gives these operators and graph nodes, recorded by both libraries
    want = {
        "aten::addmm",
        "aten::relu",
        "aten::log_softmax",
        "aten::sum",
        "aten::exp",
        "AddmmBackward0",
        "ReluBackward0",
        "LogSoftmaxBackward0",
        "SumBackward0",
        "autograd::engine::evaluate_function: AddmmBackward0",
        "autograd::engine::evaluate_function: ReluBackward0",
        "autograd::engine::evaluate_function: torch::autograd::AccumulateGrad",
    }
    assert want <= keys, sorted(want - keys)
    counts = {e.key: e.count for e in prof.key_averages()}
    assert counts["aten::addmm"] == 4 and counts["AddmmBackward0"] == 2
    # operators nest inside the user range, backward nodes inside evaluate_function
    evs = prof.events()
    step = next(e for e in evs if e.name == "step")
    relu = next(e for e in evs if e.name == "aten::relu")
    sr, rr = step.time_range, relu.time_range
    assert sr.start <= rr.start <= rr.end <= sr.end and rr.elapsed_us() >= 0
    node = next(e for e in evs if e.name == "ReluBackward0")
    assert node.cpu_parent is not None
    assert node.cpu_parent.name == "autograd::engine::evaluate_function: ReluBackward0"
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    cats = {e["name"]: e.get("cat") for e in json.loads(path.read_text())["traceEvents"]}
    assert cats["aten::relu"] == "cpu_op" and cats["step"] == "user_annotation"


def test_operator_hook_off_outside_recording() -> None:
    from ctorch.autograd import function

    m, x = _mlp_step(ctorch)
    P = ctorch.profiler
    with P.profile(schedule=P.schedule(wait=1, warmup=1, active=1, repeat=1)) as prof:
        for _ in range(3):
            m(x).relu()
            prof.step()
    # only the active step's ops, and none once the profiler stopped
    assert {e.key: e.count for e in prof.key_averages()}["aten::relu"] == 2
    assert function._autocast is None
    with ctorch.autocast("cpu", dtype=ctorch.bfloat16):
        with P.profile() as prof2:
            y = m(x)
        assert y.dtype == ctorch.bfloat16  # autocast still casts inside the profiler
        assert function._autocast is not None
    assert function._autocast is None
    assert "aten::addmm" in {e.key for e in prof2.key_averages()}
    with P.profile() as prof3:
        with ctorch.autocast("cpu", dtype=ctorch.bfloat16):
            pass
        ctorch.randn(4).exp()  # autocast closed, profiler still recording: recorded
    assert "aten::exp" in {e.key for e in prof3.key_averages()}
    assert function._autocast is None
