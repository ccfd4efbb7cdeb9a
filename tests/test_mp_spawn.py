"""``torch.multiprocessing.spawn`` / ``start_processes``: ProcessContext, the child's traceback
in ``ProcessRaisedException``, exit codes in ``ProcessExitedException``, compared with torch."""

from __future__ import annotations

import importlib
import os
import sys

import pytest

import ctorch
import ctorch.multiprocessing as cmp

LIBS = ["ctorch", "torch"]


def _mp(lib: str):
    if lib == "torch":
        pytest.importorskip("torch")
    return importlib.import_module(f"{lib}.multiprocessing")


def _ok(i, path):
    with open(os.path.join(path, f"rank{i}"), "w") as f:
        f.write(str(i))


def _fails(i):
    if i == 1:
        raise ValueError("worker one is broken")


def _exits(i):
    if i == 0:
        sys.exit(3)


def _shared_add(i, t):
    t[i] += i + 1


@pytest.mark.parametrize("lib", ["ctorch"])  # torch's children take seconds each to import it
def test_spawn_runs_each_rank(lib: str, tmp_path) -> None:
    mp = _mp(lib)
    assert mp.spawn(_ok, args=(str(tmp_path),), nprocs=2) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rank0", "rank1"]
    ctx = mp.start_processes(_ok, args=(str(tmp_path),), nprocs=1, join=False)
    assert isinstance(ctx, mp.ProcessContext) and len(ctx.pids()) == 1
    while not ctx.join():
        pass
    assert ctx.join() is True


@pytest.mark.parametrize("lib", LIBS)
def test_spawn_forwards_the_child_traceback(lib: str) -> None:
    mp = _mp(lib)
    with pytest.raises(mp.ProcessRaisedException) as info:
        mp.spawn(_fails, nprocs=2)
    e = info.value
    assert e.error_index == 1 and isinstance(e.error_pid, int)
    assert str(e).startswith("\n\n-- Process 1 terminated with the following error:\nTraceback")
    assert str(e).rstrip().endswith("ValueError: worker one is broken")
    with pytest.raises(mp.ProcessExitedException, match="process 0 terminated with exit code 3"):
        mp.spawn(_exits, nprocs=1)


@pytest.mark.parametrize("lib", ["ctorch"])
def test_spawn_workers_write_a_shared_tensor(lib: str) -> None:
    mp = _mp(lib)
    t = importlib.import_module(lib).zeros(3).share_memory_()
    mp.spawn(_shared_add, args=(t,), nprocs=2)
    assert t.tolist() == [1.0, 2.0, 0.0]


@pytest.mark.parametrize("lib", LIBS)
def test_sharing_strategies(lib: str) -> None:
    mp = _mp(lib)
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()
    with pytest.raises(AssertionError, match="invalid sharing strategy 'bogus'"):
        mp.set_sharing_strategy("bogus")
    with pytest.warns(FutureWarning, match="only supports start_method=spawn"):
        mp.spawn(_ok, args=(os.devnull + "_dir_missing",), nprocs=0, start_method="fork")


def test_names() -> None:
    assert ctorch.multiprocessing is cmp
    for name in ("ProcessContext", "ProcessExitedException", "ProcessRaisedException", "Process"):
        assert hasattr(cmp, name)
