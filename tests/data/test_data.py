"""ctorch.utils.data in the main process: datasets, samplers, collate, DataLoader options."""

from __future__ import annotations

import collections
import importlib
import math
import warnings

import numpy as np
import pytest

import ctorch
from ctorch.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)


class Squares(Dataset):
    def __init__(self, n: int = 10) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if i >= self.n:
            raise IndexError(i)
        return np.array([i, i * i], dtype=np.float32), i


class Counter(IterableDataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


class SizedCounter(Counter):
    def __len__(self) -> int:
        return self.n


# -- module paths ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path, name",
    [
        ("ctorch.utils.data.sampler", "Sampler"),
        ("ctorch.utils.data.sampler", "BatchSampler"),
        ("ctorch.utils.data.dataset", "Subset"),
        ("ctorch.utils.data.dataset", "Dataset"),
        ("ctorch.utils.data.dataloader", "DataLoader"),
        ("ctorch.utils.data.dataloader", "default_collate"),
        ("ctorch.utils.data", "get_worker_info"),
    ],
)
def test_module_paths(path, name):
    assert hasattr(importlib.import_module(path), name)


def test_utils_data_reachable_from_ctorch_utils():
    import ctorch.utils

    assert ctorch.utils.data.DataLoader is DataLoader


def test_get_worker_info_is_none_in_main_process():
    assert get_worker_info() is None


# -- datasets -------------------------------------------------------------------------------------
def test_tensor_dataset():
    x = ctorch.arange(12).reshape(6, 2).float()
    y = ctorch.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[4]
    assert a.tolist() == [8.0, 9.0] and b.item() == 4
    with pytest.raises(AssertionError):
        TensorDataset(x, ctorch.arange(5))


def test_dataset_iterates_by_sequence_protocol():
    assert [int(t) for _, t in Squares(4)] == [0, 1, 2, 3]


def test_concat_and_add():
    a, b = Squares(3), Squares(4)
    c = a + b
    assert isinstance(c, ConcatDataset)
    assert len(c) == 7 and c.cumulative_sizes == [3, 7]
    assert [c[i][1] for i in range(7)] == [0, 1, 2, 0, 1, 2, 3]
    assert c[-1][1] == 3
    with pytest.raises(IndexError):
        c[7]


def test_chain_dataset():
    chained = Counter(2) + Counter(3)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [0, 1, 0, 1, 2]


def test_stack_dataset():
    s = StackDataset(Squares(3), Squares(3))
    assert s[1][0][1] == 1 and len(s) == 3
    d = StackDataset(a=Squares(3), b=Squares(3))
    assert set(d[2]) == {"a", "b"}


def test_subset():
    sub = Subset(Squares(10), [9, 2, 5])
    assert len(sub) == 3
    assert [sub[i][1] for i in range(3)] == [9, 2, 5]


def test_random_split_lengths_and_disjoint():
    parts = random_split(range(10), [3, 7], generator=ctorch.Generator().manual_seed(42))
    assert [len(p) for p in parts] == [3, 7]
    values = sorted(v for p in parts for v in p)
    assert values == list(range(10))


def test_random_split_fractions_distribute_remainder():
    parts = random_split(range(11), [0.5, 0.3, 0.2])
    # floor: 5, 3, 2 = 10; the remainder goes round-robin from the first split
    assert [len(p) for p in parts] == [6, 3, 2]


def test_random_split_reproducible_with_generator_and_manual_seed():
    a = [
        list(p)
        for p in random_split(range(20), [10, 10], generator=ctorch.Generator().manual_seed(1))
    ]
    b = [
        list(p)
        for p in random_split(range(20), [10, 10], generator=ctorch.Generator().manual_seed(1))
    ]
    assert a == b
    ctorch.manual_seed(3)
    c = [list(p) for p in random_split(range(20), [10, 10])]
    ctorch.manual_seed(3)
    d = [list(p) for p in random_split(range(20), [10, 10])]
    assert c == d


def test_random_split_bad_lengths():
    with pytest.raises(ValueError):
        random_split(range(10), [3, 3])


def test_random_split_zero_length_warns():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        random_split(range(2), [0.0, 1.0])
    assert any("Length of split at index 0 is 0" in str(x.message) for x in w)


# -- samplers -------------------------------------------------------------------------------------
def test_sequential_sampler():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    assert len(SequentialSampler(range(5))) == 5


def test_random_sampler_is_a_permutation_and_reproducible():
    ctorch.manual_seed(0)
    a = list(RandomSampler(range(50)))
    b = list(RandomSampler(range(50)))
    assert sorted(a) == list(range(50)) and sorted(b) == list(range(50))
    assert a != b  # a new permutation per iter()
    ctorch.manual_seed(0)
    assert list(RandomSampler(range(50))) == a


def test_random_sampler_generator():
    g1 = ctorch.Generator().manual_seed(5)
    g2 = ctorch.Generator().manual_seed(5)
    assert list(RandomSampler(range(30), generator=g1)) == list(
        RandomSampler(range(30), generator=g2)
    )


def test_random_sampler_num_samples_without_replacement_repeats_permutations():
    s = list(RandomSampler(range(4), num_samples=10))
    assert len(s) == 10
    assert sorted(s[:4]) == [0, 1, 2, 3] and sorted(s[4:8]) == [0, 1, 2, 3]


def test_random_sampler_replacement():
    s = RandomSampler(range(3), replacement=True, num_samples=100)
    out = list(s)
    assert len(out) == 100 and len(s) == 100
    assert set(out) <= {0, 1, 2} and len(set(out)) == 3


def test_random_sampler_validation():
    with pytest.raises(TypeError):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError):
        RandomSampler(range(3), num_samples=0)


def test_subset_random_sampler():
    idx = [3, 7, 11, 15]
    out = list(SubsetRandomSampler(idx))
    assert sorted(out) == idx and len(SubsetRandomSampler(idx)) == 4


def test_weighted_random_sampler():
    ctorch.manual_seed(0)
    s = WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], num_samples=400)
    out = list(s)
    assert len(out) == 400 and set(out) <= {1, 3}
    assert 0.6 < out.count(3) / 400 < 0.9
    no_rep = list(WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False))
    assert sorted(no_rep) == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        WeightedRandomSampler([1.0], num_samples=0)
    with pytest.raises(ValueError):
        WeightedRandomSampler([1.0], num_samples=1, replacement=0)


def test_batch_sampler():
    assert list(BatchSampler(SequentialSampler(range(10)), 3, drop_last=False)) == [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7, 8],
        [9],
    ]
    assert len(BatchSampler(range(10), 3, drop_last=False)) == 4
    assert list(BatchSampler(range(10), 3, drop_last=True))[-1] == [6, 7, 8]
    assert len(BatchSampler(range(10), 3, drop_last=True)) == 3
    with pytest.raises(ValueError):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError):
        BatchSampler(range(3), 2, drop_last=1)


def test_custom_sampler_subclass():
    class Reverse(Sampler[int]):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n - 1, -1, -1))

        def __len__(self):
            return self.n

    dl = DataLoader(Squares(5), batch_size=2, sampler=Reverse(5))
    assert [t.tolist() for _, t in dl] == [[4, 3], [2, 1], [0]]


# -- collate --------------------------------------------------------------------------------------
def test_collate_tensor_int_pairs():
    batch = [(ctorch.full((2, 2), float(i)), i) for i in range(3)]
    x, y = default_collate(batch)
    assert tuple(x.shape) == (3, 2, 2) and x.dtype == ctorch.float32
    assert y.tolist() == [0, 1, 2] and y.dtype == ctorch.int64


def test_collate_tuple_of_three_tensors_gives_list():
    batch = [(ctorch.zeros(2), ctorch.ones(1), ctorch.zeros(3)) for _ in range(4)]
    out = default_collate(batch)
    assert isinstance(out, list) and len(out) == 3  # torch returns a list for tuples
    assert [tuple(t.shape) for t in out] == [(4, 2), (4, 1), (4, 3)]


def test_collate_numbers_and_numpy():
    assert default_collate([1.5, 2.5]).dtype == ctorch.float64
    assert default_collate([True, False]).dtype == ctorch.bool
    arr = default_collate([np.zeros((2,), np.float32), np.ones((2,), np.float32)])
    assert isinstance(arr, ctorch.Tensor) and arr.dtype == ctorch.float32
    assert tuple(arr.shape) == (2, 2)
    sc = default_collate([np.int32(3), np.int32(4)])
    assert sc.dtype == ctorch.int32 and sc.tolist() == [3, 4]


def test_collate_strings_dicts_namedtuples_lists():
    assert default_collate(["a", "b"]) == ["a", "b"]
    d = default_collate([{"x": 1, "s": "p"}, {"x": 2, "s": "q"}])
    assert d["x"].tolist() == [1, 2] and d["s"] == ["p", "q"]
    Point = collections.namedtuple("Point", "x y")
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3] and p.y.dtype == ctorch.float64
    lst = default_collate([[1, 2], [3, 4]])
    assert isinstance(lst, list) and [t.tolist() for t in lst] == [[1, 3], [2, 4]]


def test_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError):
        default_collate([object(), object()])
    with pytest.raises(TypeError):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert():
    out = default_convert({"a": np.arange(3), "b": [np.zeros(2)], "c": "s", "d": 1})
    assert isinstance(out["a"], ctorch.Tensor) and out["a"].tolist() == [0, 1, 2]
    assert isinstance(out["b"][0], ctorch.Tensor)
    assert out["c"] == "s" and out["d"] == 1


# -- DataLoader (single process) -----------------------------------------------------------------
def test_dataloader_basic_batches():
    dl = DataLoader(Squares(10), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and len(batches) == 3
    x, y = batches[0]
    assert tuple(x.shape) == (4, 2) and x.dtype == ctorch.float32
    assert y.tolist() == [0, 1, 2, 3]
    assert batches[-1][1].tolist() == [8, 9]
    assert dl.dataset is not None and dl.batch_size == 4


def test_dataloader_next_iter_and_drop_last():
    dl = DataLoader(Squares(10), batch_size=4, drop_last=True)
    assert len(dl) == 2 and len(list(dl)) == 2
    x, y = next(iter(dl))
    assert y.tolist() == [0, 1, 2, 3]


def test_dataloader_one_giant_batch():
    ds = TensorDataset(ctorch.rand(50, 3), ctorch.arange(50))
    dl = DataLoader(ds, batch_size=len(ds))
    ((x, y),) = list(dl)
    assert tuple(x.shape) == (50, 3) and y.tolist() == list(range(50))


def test_dataloader_shuffle_reproducible_with_manual_seed():
    dl = DataLoader(Squares(20), batch_size=5, shuffle=True)
    ctorch.manual_seed(7)
    a = [y.tolist() for _, y in dl]
    b = [y.tolist() for _, y in dl]
    ctorch.manual_seed(7)
    c = [y.tolist() for _, y in dl]
    assert a == c and a != b
    assert sorted(v for batch in a for v in batch) == list(range(20))


def test_dataloader_shuffle_with_generator():
    dl1 = DataLoader(
        Squares(20), batch_size=5, shuffle=True, generator=ctorch.Generator().manual_seed(3)
    )
    dl2 = DataLoader(
        Squares(20), batch_size=5, shuffle=True, generator=ctorch.Generator().manual_seed(3)
    )
    assert [y.tolist() for _, y in dl1] == [y.tolist() for _, y in dl2]


def test_dataloader_batch_size_none_converts_samples():
    dl = DataLoader(Squares(3), batch_size=None)
    items = list(dl)
    assert len(dl) == 3 and len(items) == 3
    x, y = items[2]
    assert isinstance(x, ctorch.Tensor) and x.tolist() == [2.0, 4.0] and y == 2


def test_dataloader_batch_sampler_and_collate_fn():
    dl = DataLoader(
        Squares(6),
        batch_sampler=[[5, 0], [1, 2, 3]],
        collate_fn=lambda batch: [int(t) for _, t in batch],
    )
    assert list(dl) == [[5, 0], [1, 2, 3]]
    assert len(dl) == 2


def test_dataloader_getitems_is_used():
    class Batched(Squares):
        calls = 0

        def __getitems__(self, idx):
            Batched.calls += 1
            return [self[i] for i in idx]

    list(DataLoader(Batched(6), batch_size=3))
    assert Batched.calls == 2


def test_dataloader_iterable_dataset():
    dl = DataLoader(Counter(7), batch_size=3)
    assert [b.tolist() for b in dl] == [[0, 1, 2], [3, 4, 5], [6]]
    dl = DataLoader(Counter(7), batch_size=3, drop_last=True)
    assert [b.tolist() for b in dl] == [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(SizedCounter(7), batch_size=3)) == 3
    assert len(DataLoader(SizedCounter(7), batch_size=3, drop_last=True)) == 2


def test_dataloader_pin_memory_is_accepted():
    dl = DataLoader(Squares(4), batch_size=2, pin_memory=True)
    if ctorch.accelerator.is_available():
        assert len(list(dl)) == 2
    else:  # torch's warning, once per iterator
        msg = "'pin_memory' argument is set as true but no accelerator is found"
        with pytest.warns(UserWarning, match=msg):
            assert len(list(dl)) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(DataLoader(Squares(4), batch_size=2))) == 2


def test_dataloader_option_validation():
    with pytest.raises(ValueError):
        DataLoader(Squares(4), num_workers=-1)
    with pytest.raises(ValueError):
        DataLoader(Squares(4), timeout=-1)
    with pytest.raises(ValueError):
        DataLoader(Squares(4), prefetch_factor=2)  # needs workers
    with pytest.raises(ValueError):
        DataLoader(Squares(4), persistent_workers=True)
    with pytest.raises(ValueError):
        DataLoader(Squares(4), sampler=SequentialSampler(range(4)), shuffle=True)
    with pytest.raises(ValueError):
        DataLoader(Squares(4), batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError):
        DataLoader(Squares(4), batch_size=None, drop_last=True)
    with pytest.raises(ValueError):
        DataLoader(Counter(4), shuffle=True)
    with pytest.raises(ValueError):
        DataLoader(Squares(4), multiprocessing_context="spawn")  # needs workers
    with pytest.raises(ValueError):
        DataLoader(Squares(4), num_workers=1, multiprocessing_context="no-such-method")


def test_dataloader_attributes_frozen_after_init():
    dl = DataLoader(Squares(4), batch_size=2)
    with pytest.raises(ValueError):
        dl.batch_size = 3
    dl.num_workers = 0  # allowed, as in torch


def test_dataloader_len_matches_ceil():
    for n, bs in [(10, 3), (9, 3), (1, 5)]:
        assert len(DataLoader(Squares(n), batch_size=bs)) == math.ceil(n / bs)
