"""searchsorted/bucketize/bincount/unique/topk and the max-like reductions on the edges torch
defines: NaN in the boundaries, sorter, out_int32, batched boundaries, unique over a dim and
NaN, empty extents, uint8 all/any, and torch's error messages. Each case states the expected
value (torch 2.13's) and, when torch is installed, also runs it under torch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ctorch

try:
    import torch
except ImportError:  # pragma: no cover - the parity half needs torch
    torch = None

NAN = float("nan")


def _both(fn):
    """fn(lib) under ctorch, and under torch when installed; returns (ours, theirs|None)."""
    ours = fn(ctorch)
    theirs = fn(torch) if torch is not None else None
    return ours, theirs


def _plain(x):
    if isinstance(x, tuple):
        return tuple(_plain(v) for v in x)
    return (x.tolist(), str(x.dtype).split(".")[-1])


def _same(a, b):
    if not isinstance(a[1], str):  # several results, each a (value, dtype) pair
        assert len(a) == len(b)
        for u, v in zip(a, b, strict=True):
            _same(u, v)
        return
    (av, ad), (bv, bd) = a, b
    assert ad == bd
    np.testing.assert_array_equal(np.asarray(av, dtype=object), np.asarray(bv, dtype=object))


def _check(fn, expected):
    ours, theirs = _both(lambda lib: _plain(fn(lib)))
    _same(ours, expected)
    if theirs is not None:
        _same(ours, theirs)


def _nan_safe(v):
    return ["nan" if isinstance(x, float) and math.isnan(x) else x for x in v]


SEARCH_CASES = {
    # torch's binary search: NaN boundaries compare false both ways, so the search walks right
    "nan_tail": (
        lambda t: t.searchsorted(t.tensor([1.0, 3.0] + [NAN] * 5), t.tensor([2.0, 5.0])),
        ([7, 7], "int64"),
    ),
    "nan_value": (
        lambda t: t.searchsorted(t.tensor([1.0, 3.0, NAN]), t.tensor([NAN, 2.0])),
        ([3, 1], "int64"),
    ),
    "out_int32": (
        lambda t: t.searchsorted(t.tensor([1, 3, 5]), t.tensor([2, 6]), out_int32=True),
        ([1, 3], "int32"),
    ),
    "sorter": (
        lambda t: t.searchsorted(t.tensor([5, 1, 3]), t.tensor([2, 4]), sorter=t.tensor([1, 2, 0])),
        ([1, 2], "int64"),
    ),
    "scalar_value": (
        lambda t: t.searchsorted(t.tensor([1.0, 3.0, 5.0]), 3.0, right=True),
        (2, "int64"),
    ),  # fmt: skip
    "batched_right": (
        lambda t: t.searchsorted(
            t.tensor([[1, 3, 5], [0, 2, 9]]), t.tensor([[4, 1, 10], [3, 3, 3]]), side="right"
        ),
        ([[2, 1, 3], [2, 2, 2]], "int64"),
    ),
    "batched_nan": (
        lambda t: t.searchsorted(
            t.tensor([[1.0, NAN, NAN], [0.0, 2.0, 9.0]]), t.tensor([[0.5, 4.0], [9.0, NAN]])
        ),
        ([[3, 3], [2, 3]], "int64"),
    ),
    "empty_boundaries": (lambda t: t.searchsorted(t.tensor([]), t.tensor([2.0])), ([0], "int64")),
    "bucketize_int32": (
        lambda t: t.bucketize(t.tensor([[2, 6]]), t.tensor([1, 3, 5]), out_int32=True),
        ([[1, 3]], "int32"),
    ),
    "bucketize_scalar": (lambda t: t.bucketize(3, t.tensor([1, 3, 5]), right=True), (2, "int64")),
    "bucketize_0d": (
        lambda t: t.bucketize(t.tensor(3), t.tensor([1, 3, 5])),
        (1, "int64"),
    ),
}


@pytest.mark.parametrize("case", sorted(SEARCH_CASES))
def test_searchsorted_and_bucketize_match_torch(case):
    fn, expected = SEARCH_CASES[case]
    _check(fn, expected)


def test_searchsorted_agrees_with_numpy_on_random_sorted_input():
    rng = np.random.default_rng(0)
    b = np.sort(rng.standard_normal(50)).astype(np.float32)
    v = rng.standard_normal((4, 30)).astype(np.float32)
    v[0, :10] = b[:10]  # ties
    for side in ("left", "right"):
        got = ctorch.searchsorted(ctorch.from_numpy(b), ctorch.from_numpy(v), side=side)
        np.testing.assert_array_equal(got.numpy(), np.searchsorted(b, v, side=side))
        # the batched path (a binary search of its own) gives the same rows
        bb = np.broadcast_to(b, (4, 50)).copy()
        got2 = ctorch.searchsorted(ctorch.from_numpy(bb), ctorch.from_numpy(v), side=side)
        np.testing.assert_array_equal(got2.numpy(), np.searchsorted(b, v, side=side))


ERROR_CASES = {
    "bad_side": (
        lambda t: t.searchsorted(t.tensor([1, 3]), t.tensor([2]), side="middle"),
        RuntimeError, "side can only be 'left' or 'right' but got middle",
    ),
    "side_conflict": (
        lambda t: t.searchsorted(t.tensor([1, 3]), t.tensor([2]), right=True, side="left"),
        RuntimeError, "side and right can't be set to opposites",
    ),
    "batch_mismatch": (
        lambda t: t.searchsorted(t.tensor([[1, 3], [2, 4]]), t.tensor([[2], [3], [4]])),
        RuntimeError, "first N-1 dimensions of boundaries tensor and input value tensor must match",
    ),
    "scalar_with_2d": (
        lambda t: t.searchsorted(t.tensor([[1, 3]]), t.tensor(4)),
        RuntimeError, "input value can be a scalar only when boundaries tensor dimension is 1",
    ),
    "0d_boundaries": (
        lambda t: t.searchsorted(t.tensor(1.0), t.tensor([2.0])),
        RuntimeError, "boundaries tensor should have positive dimension",
    ),
    "sorter_size": (
        lambda t: t.searchsorted(t.tensor([5, 1, 3]), t.tensor([2]), sorter=t.tensor([1, 2])),
        RuntimeError, "boundary and sorter must have the same size",
    ),
    "sorter_range": (
        lambda t: t.searchsorted(t.tensor([5, 1, 3]), t.tensor([2]), sorter=t.tensor([1, 2, 5])),
        RuntimeError, "sorter index out of range",
    ),
    "sorter_dtype": (
        lambda t: t.searchsorted(
            t.tensor([5, 1, 3]), t.tensor([2]), sorter=t.tensor([1.0, 2.0, 0.0])
        ),
        RuntimeError, "sorter must be a tensor of long dtype but got dtype Float",
    ),
    "bucketize_2d": (
        lambda t: t.bucketize(t.tensor([2]), t.tensor([[1, 3]])),
        RuntimeError, r"boundaries tensor must be 1 dimension, but got dim\(2\)",
    ),
    "bincount_neg": (
        lambda t: t.bincount(t.tensor([0, -1])),
        RuntimeError, "bincount only supports 1-d non-negative integral inputs",
    ),
    "bincount_2d": (
        lambda t: t.bincount(t.tensor([[0, 1]])),
        RuntimeError, "bincount only supports 1-d non-negative integral inputs",
    ),
    "bincount_float": (
        lambda t: t.bincount(t.tensor([0.0, 1.0])),
        NotImplementedError, "\"bincount_cpu\" not implemented for 'Float'",
    ),
    "bincount_bool": (
        lambda t: t.bincount(t.tensor([True])),
        NotImplementedError, "\"bincount_cpu\" not implemented for 'Bool'",
    ),
    "bincount_weights": (
        lambda t: t.bincount(t.tensor([0, 1]), weights=t.tensor([1.0])),
        RuntimeError, "weights should be 1-d and have the same length as input",
    ),
    "bincount_minlength": (
        lambda t: t.bincount(t.tensor([0, 1]), minlength=-1),
        RuntimeError, "minlength should be >= 0",
    ),
    "unique_zero_size": (
        lambda t: t.unique(t.empty(2, 0), dim=0),
        RuntimeError, "There are 0 sized dimensions, and they aren't selected",
    ),
    "unique_0d_dim": (
        lambda t: t.unique(t.tensor(5), dim=0),
        IndexError, "Dimension specified as 0 but tensor has no dimensions",
    ),
    "amax_empty_dim": (
        lambda t: t.amax(t.empty(0, 3), dim=0),
        IndexError, r"amax\(\): Expected reduction dim 0 to have non-zero size",
    ),
    "amin_empty_all": (
        lambda t: t.amin(t.empty(0, 3)),
        RuntimeError, r"amin\(\): Expected reduction dim to be specified for input.numel\(\) == 0",
    ),
    "argmax_empty_all": (
        lambda t: t.argmax(t.empty(0)),
        IndexError, r"argmax\(\): Expected reduction dim to be specified for input.numel\(\) == 0",
    ),
    "argmin_empty_dim": (
        lambda t: t.argmin(t.empty(0, 3), 0),
        IndexError, r"argmin\(\): Expected reduction dim 0 to have non-zero size",
    ),
    "aminmax_empty": (
        lambda t: t.aminmax(t.empty(0, 3)),
        RuntimeError, "cannot compute aminmax over an empty dimension",
    ),
    "kthvalue_empty": (
        lambda t: t.kthvalue(t.empty(0, 3), 1, 0),
        IndexError, r"kthvalue\(\): Expected reduction dim 0 to have non-zero size",
    ),
    "mean_int": (
        lambda t: t.mean(t.tensor([1, 2])),
        RuntimeError, "Got: Long",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_errors_match_torch(case):
    fn, exc, msg = ERROR_CASES[case]
    with pytest.raises(exc, match=msg):
        fn(ctorch)
    if torch is not None:
        with pytest.raises(exc, match=msg):
            fn(torch)


VALUE_CASES = {
    "bincount_f32_weights": (
        lambda t: t.bincount(t.tensor([0, 2, 2]), weights=t.tensor([0.5, 1.0, 2.0])),
        ([0.5, 0.0, 3.0], "float32"),
    ),
    "bincount_int_weights": (
        lambda t: t.bincount(t.tensor([0, 2, 2]), weights=t.tensor([1, 1, 2])),
        ([1.0, 0.0, 3.0], "float64"),
    ),
    "bincount_empty_weighted": (
        lambda t: t.bincount(t.tensor([], dtype=t.int64), weights=t.tensor([]), minlength=2),
        ([0, 0], "int64"),
    ),
    "bincount_uint8": (
        lambda t: t.bincount(t.tensor([1, 1, 3], dtype=t.uint8), minlength=5),
        ([0, 2, 0, 1, 0], "int64"),
    ),
    "all_uint8": (lambda t: t.all(t.tensor([1, 2], dtype=t.uint8)), (1, "uint8")),
    "any_uint8_dim": (
        lambda t: t.tensor([[0, 0], [0, 3]], dtype=t.uint8).any(1),
        ([0, 1], "uint8"),
    ),
    "any_int32": (lambda t: t.any(t.tensor([0, 3], dtype=t.int32)), (True, "bool")),
    "amax_empty_other_dim": (lambda t: t.amax(t.empty(0, 3), dim=1), ([], "float32")),
    "topk_0d": (lambda t: t.topk(t.tensor(3.0), 1), ((3.0, "float32"), (0, "int64"))),
    "kthvalue_0d": (lambda t: t.kthvalue(t.tensor(3.0), 1), ((3.0, "float32"), (0, "int64"))),
    "unique_dim0": (
        lambda t: t.unique(
            t.tensor([[1, 2], [1, 2], [0, 1]]), dim=0, return_inverse=True, return_counts=True
        ),
        (([[0, 1], [1, 2]], "int64"), ([1, 1, 0], "int64"), ([1, 2], "int64")),
    ),  # fmt: skip
    "unique_dim1": (
        lambda t: t.unique(t.tensor([[3, 1, 3], [0, 2, 0]]), dim=1, return_counts=True),
        (([[1, 3], [2, 0]], "int64"), ([1, 2], "int64")),
    ),
    "unique_dim_empty": (
        lambda t: t.unique(t.empty(0, 2), dim=0, return_inverse=True),
        (([], "float32"), ([], "int64")),
    ),
    "unique_bool": (lambda t: t.unique(t.tensor([True, False, True])), ([False, True], "bool")),
    "unique_unsorted_flag": (
        lambda t: t.unique(t.tensor([3, 1, 3]), sorted=False),
        ([1, 3], "int64"),
    ),  # fmt: skip
}


@pytest.mark.parametrize("case", sorted(VALUE_CASES))
def test_values_match_torch(case):
    fn, expected = VALUE_CASES[case]
    _check(fn, expected)


def test_unique_keeps_every_nan_apart():
    x = [3.0, NAN, 1.0, 3.0, NAN]
    v, inv, cnt = ctorch.unique(ctorch.tensor(x), return_inverse=True, return_counts=True)
    assert _nan_safe(v.tolist()) == [1.0, 3.0, "nan", "nan"]
    assert inv.tolist() == [1, 2, 0, 1, 3] and cnt.tolist() == [1, 2, 1, 1]
    rows = ctorch.unique(ctorch.tensor([[NAN, 1.0], [NAN, 1.0]]), dim=0)
    assert tuple(rows.shape) == (2, 2)
    if torch is not None:
        tv, tinv, tcnt = torch.unique(torch.tensor(x), return_inverse=True, return_counts=True)
        assert _nan_safe(tv.tolist()) == _nan_safe(v.tolist())
        assert tinv.tolist() == inv.tolist() and tcnt.tolist() == cnt.tolist()
        assert tuple(torch.unique(torch.tensor([[NAN, 1.0], [NAN, 1.0]]), dim=0).shape) == (2, 2)


def test_unique_dim_random_against_numpy():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 3, (40, 3, 2))
    for d in (0, 1, -1):
        got = ctorch.unique(ctorch.from_numpy(a), dim=d, return_inverse=True, return_counts=True)
        u, inv, cnt = np.unique(a, axis=d, return_inverse=True, return_counts=True)
        np.testing.assert_array_equal(got[0].numpy(), u)
        np.testing.assert_array_equal(got[1].numpy(), inv.reshape(-1))
        np.testing.assert_array_equal(got[2].numpy(), cnt)
        # the inverse rebuilds the input
        np.testing.assert_array_equal(np.take(got[0].numpy(), got[1].numpy(), axis=d), a)


def test_searchsorted_out_argument():
    out = ctorch.empty(2, dtype=ctorch.int64)
    r = ctorch.searchsorted(ctorch.tensor([1, 3, 5]), ctorch.tensor([2, 6]), out=out)
    assert r is out and out.tolist() == [1, 3]
