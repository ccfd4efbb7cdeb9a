"""DataLoader with worker processes: delivery order, seeding, failures, shutdown.

Workers are spawned processes; their datasets live in _ctorch_data_helpers.py so the children
can import them by name.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _ctorch_data_helpers as H  # noqa: E402

import ctorch  # noqa: E402
from ctorch.utils.data import DataLoader  # noqa: E402


def _targets(loader):
    return [y.tolist() for _, y in loader]


def test_workers_deliver_in_order_and_match_single_process():
    ds = H.RangeDataset(23)
    expected = _targets(DataLoader(ds, batch_size=4))
    loader = DataLoader(ds, batch_size=4, num_workers=2)
    got = []
    for x, y in loader:
        assert isinstance(x, ctorch.Tensor) and x.dtype == ctorch.float32
        assert tuple(x.shape)[1:] == (2,)
        got.append(y.tolist())
    assert got == expected
    assert len(loader) == len(expected)


def test_workers_shuffle_reproducible_with_manual_seed_and_persistent_workers():
    ds = H.RangeDataset(16)
    loader = DataLoader(
        ds, batch_size=4, shuffle=True, num_workers=2, persistent_workers=True, prefetch_factor=1
    )
    ctorch.manual_seed(11)
    first = _targets(loader)
    second = _targets(loader)  # same worker processes, new epoch
    ctorch.manual_seed(11)
    again = _targets(DataLoader(ds, batch_size=4, shuffle=True, num_workers=2))
    assert first == again
    assert first != second
    assert sorted(v for b in second for v in b) == list(range(16))
    # persistent workers: an early break, then a full epoch still gives every batch once
    it = iter(loader)
    next(it)
    assert sorted(v for b in _targets(loader) for v in b) == list(range(16))


def test_tensors_and_nested_structures_cross_the_process_boundary():
    loader = DataLoader(H.TensorItemDataset(), batch_size=3, num_workers=1)
    batches = list(loader)
    assert len(batches) == 2
    b = batches[1]
    assert b["x"].tolist() == [[3.0] * 3, [4.0] * 3, [5.0] * 3]
    assert isinstance(b["pair"], list) and tuple(b["pair"][0].shape) == (3, 2)
    assert b["pair"][1].tolist() == [3, 4, 5]
    assert b["name"] == ["s3", "s4", "s5"]


def test_worker_seeds_differ_per_worker_and_reproduce():
    ds = H.SeedDataset()
    ctorch.manual_seed(123)
    a = list(DataLoader(ds, batch_size=None, num_workers=2))
    ctorch.manual_seed(123)
    b = list(DataLoader(ds, batch_size=None, num_workers=2))
    assert a == b
    workers = {item["worker"] for item in a}
    assert workers == {0, 1}
    seeds = {item["worker"]: item["seed"] for item in a}
    assert seeds[1] == seeds[0] + 1  # base_seed + worker_id, as in torch
    by_worker = {w: [item for item in a if item["worker"] == w] for w in (0, 1)}
    for key in ("torch", "numpy", "random"):
        assert by_worker[0][0][key] != by_worker[1][0][key], key
    ctorch.manual_seed(124)
    c = list(DataLoader(ds, batch_size=None, num_workers=2))
    assert c[0]["seed"] != a[0]["seed"]


def test_worker_exception_is_reraised_with_worker_traceback():
    loader = DataLoader(H.FailingDataset(), batch_size=2, num_workers=2)
    it = iter(loader)
    assert next(it).tolist() == [0, 1]
    assert next(it).tolist() == [2, 3]
    with pytest.raises(ValueError) as info:
        next(it)
    msg = str(info.value)
    assert "DataLoader worker process 0" in msg
    assert "bad sample 5 in the dataset" in msg
    assert "Traceback" in msg and "_ctorch_data_helpers.py" in msg
    # the loader keeps going after a failed batch, as torch's does
    assert next(it).tolist() == [6, 7]
    del it


def test_dead_worker_is_reported_not_waited_on():
    loader = DataLoader(H.DyingDataset(), batch_size=1, num_workers=2)
    start = time.monotonic()
    with pytest.raises(RuntimeError) as info:
        list(loader)
    assert time.monotonic() - start < 15
    msg = str(info.value)
    assert "worker 1" in msg and "exit code 7" in msg and "exited unexpectedly" in msg


def test_timeout_raises():
    loader = DataLoader(H.SlowDataset(2.0), batch_size=1, num_workers=1, timeout=0.5)
    it = iter(loader)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="timed out after 0.5 seconds"):
        next(it)
    assert time.monotonic() - start < 5.0
    it._shutdown_workers()


def test_iterable_dataset_with_workers():
    loader = DataLoader(H.ShardedIterable(10), batch_size=2, num_workers=2)
    out = [v for b in loader for v in b.tolist()]
    assert sorted(out) == list(range(10))


def test_iterable_dataset_with_workers_many_epochs_do_not_hang():
    # A worker that exited without flushing its queue's feeder thread could leave the shared
    # write lock held, and the loader then waited forever (seen about 1 run in 25 under load).
    for _ in range(15):
        loader = DataLoader(H.ShardedIterable(10), batch_size=2, num_workers=2, timeout=60)
        assert sorted(v for b in loader for v in b.tolist()) == list(range(10))


class _RecordingQueue:
    def __init__(self, items=()):
        self.items = list(items)
        self.calls = []

    def get(self, timeout=None):
        return self.items.pop(0)

    def put(self, obj):
        self.calls.append("put")

    def cancel_join_thread(self):
        self.calls.append("cancel_join_thread")

    def close(self):
        self.calls.append("close")


class _Flag:
    def __init__(self, value):
        self.value = value

    def is_set(self):
        return self.value


@pytest.mark.parametrize("shutting_down", [False, True])
def test_worker_flushes_its_queue_unless_the_loader_is_shutting_down(shutting_down):
    import random

    import numpy as np

    from ctorch.utils.data import _worker

    index_q = _RecordingQueue([(0, [0, 1]), None])
    data_q = _RecordingQueue()
    # The loop runs in this process here: keep the thread count and the RNGs it sets.
    threads, states = ctorch.get_num_threads(), (random.getstate(), np.random.get_state())
    with ctorch.random.fork_rng():
        try:
            _worker._worker_loop(
                False, H.RangeDataset(4), index_q, data_q, _Flag(shutting_down), True,
                lambda b: b, False, 0, None, 0, 1, False, os.getpid(),
            )  # fmt: skip
        finally:
            ctorch.set_num_threads(threads)
            random.setstate(states[0])
            np.random.set_state(states[1])
    # A shutting-down worker drops its index unread; a running one sends the batch.
    assert data_q.calls.count("put") == (0 if shutting_down else 1)
    assert ("cancel_join_thread" in data_q.calls) == shutting_down


def test_worker_init_fn_runs_in_each_worker():
    loader = DataLoader(
        H.InitEnvDataset(), batch_size=None, num_workers=2, worker_init_fn=H.record_init
    )
    assert sorted(loader) == [0, 0, 1, 1]


def test_worker_init_fn_failure_is_reported():
    loader = DataLoader(
        H.RangeDataset(4), batch_size=2, num_workers=1, worker_init_fn=H.failing_init
    )
    with pytest.raises(RuntimeError, match="init failed in worker 0"):
        list(loader)


def test_unpicklable_batch_is_an_error_not_a_hang():
    loader = DataLoader(
        H.UnpicklableBatchDataset(), batch_size=1, num_workers=1, collate_fn=H.collate_unpicklable
    )
    with pytest.raises(Exception, match="pickl"):
        next(iter(loader))


def test_unpicklable_dataset_falls_back_to_fork_with_a_warning():
    class Local(H.RangeDataset):  # a local class cannot be pickled for a forkserver worker
        pass

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    with pytest.warns(RuntimeWarning, match="forked instead"):
        out = _targets(DataLoader(Local(6), batch_size=2, num_workers=2))
    assert out == [[0, 1], [2, 3], [4, 5]]


def test_unpicklable_dataset_with_explicit_spawn_gives_a_clear_error():
    class Local(H.RangeDataset):
        pass

    with pytest.raises(RuntimeError, match="picklable"):
        iter(DataLoader(Local(4), num_workers=1, multiprocessing_context="spawn"))


def test_workers_exit_after_epoch_and_on_garbage_collection():
    loader = DataLoader(H.RangeDataset(8), batch_size=2, num_workers=2)
    it = iter(loader)
    workers = list(it._workers)
    list(it)
    assert all(not w.is_alive() for w in workers)
    it = iter(loader)
    next(it)
    workers = list(it._workers)
    del it
    deadline = time.monotonic() + 10
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(not w.is_alive() for w in workers)


def test_no_hang_after_openmp_kernel_in_parent():
    from ctorch._core import _threads

    _threads.set_num_threads(2)
    assert float(ctorch.ones(10**6).sum().item()) == 1e6
    loader = DataLoader(H.KernelDataset(), batch_size=None, num_workers=2, timeout=60)
    assert sorted(loader) == [1e6, 1e6 + 1, 1e6 + 2, 1e6 + 3]


_SCRIPT = """
import ctorch
from ctorch.utils.data import DataLoader, Dataset


class DS(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return i


def run():
    ctorch.ones(10**6).sum()  # an OpenMP kernel in the parent first
    it = iter(DataLoader(DS(), batch_size=2, num_workers=2, timeout=30))
    print(it._start_method, [b.tolist() for b in it])

"""


@pytest.mark.parametrize(
    "tail, method",
    [
        ("if __name__ == '__main__':\n    run()\n", "forkserver"),
        ("run()\n", "fork"),  # unguarded: workers cannot re-run the script, so they fork
    ],
)
def test_scripts_with_and_without_main_guard(tmp_path, tail, method):
    import subprocess

    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} here")
    script = tmp_path / "script.py"
    script.write_text(_SCRIPT + tail)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{method} [[0, 1], [2, 3], [4, 5]]"


def test_class_defined_in_interactive_main_uses_fork():
    import subprocess

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork here")
    code = _SCRIPT + "run()\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "fork [[0, 1], [2, 3], [4, 5]]"
