"""torch's legacy tensor types (``torch.FloatTensor``, ``torch.sparse.FloatTensor``,
``torch.cuda.FloatTensor``, ...): construction, warnings and ``isinstance``, against torch."""

from __future__ import annotations

import warnings

import pytest
from helpers import lib_by_name

import ctorch

LIBS = ["ctorch", "torch"]


@pytest.mark.parametrize("lib", LIBS)
def test_isinstance_checks_dtype_layout_and_device(lib: str) -> None:
    t = lib_by_name(lib)
    x = t.randn(3)
    assert isinstance(x, t.FloatTensor)
    assert not isinstance(x, t.DoubleTensor)
    assert isinstance(x.double(), t.DoubleTensor)
    assert isinstance(x.long(), t.LongTensor) and isinstance(x > 0, t.BoolTensor)
    assert not isinstance(x, t.sparse.FloatTensor)
    assert not isinstance(x, t.cuda.FloatTensor)
    s = x.to_sparse()
    assert isinstance(s, t.sparse.FloatTensor) and not isinstance(s, t.FloatTensor)
    assert not isinstance(s.double(), t.sparse.FloatTensor)
    assert not isinstance(3.0, t.FloatTensor)
    assert type(t.FloatTensor(2)) is t.Tensor
    assert t.sparse.FloatTensor.__name__ == "FloatTensor"
    assert not hasattr(t.sparse, "BoolTensor")


@pytest.mark.parametrize("lib", LIBS)
def test_sparse_legacy_constructors(lib: str) -> None:
    t = lib_by_name(lib)
    i = t.tensor([[0, 1, 1], [2, 0, 2]])
    v = t.tensor([3.0, 4.0, 5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation warnings: once per process (test below)
        s = t.sparse.FloatTensor(i, v, t.Size([2, 3]))
        s2 = t.sparse.FloatTensor(i, v)
    assert s.is_sparse and s.dtype == t.float32 and tuple(s.shape) == (2, 3)
    assert s.to_dense().tolist() == [[0.0, 0.0, 3.0], [4.0, 0.0, 5.0]]
    assert tuple(s2.shape) == (2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # torch keeps the values' dtype in this form
        assert t.sparse.FloatTensor(i, t.tensor([1, 2, 3]), (2, 3)).dtype == t.int64
        assert t.sparse.FloatTensor(i, v.double()).dtype == t.float64
        for args, shape in (
            ((), (0,)),
            ((4,), (4,)),
            ((2, 3), (2, 3)),
            ((t.Size([5, 1]),), (5, 1)),
        ):
            e = t.sparse.DoubleTensor(*args)
            assert e.is_sparse and e.dtype == t.float64 and tuple(e.shape) == shape
            assert e._nnz() == 0 and e.to_dense().sum().item() == 0
        assert t.sparse.LongTensor(2).dtype == t.int64
        with pytest.raises(TypeError, match="only accepts sizes"):
            t.sparse.FloatTensor([1, 2])
        with pytest.raises(RuntimeError, match="expected scalar type Long but found Int"):
            t.sparse.FloatTensor(i.int(), v)


def test_sparse_legacy_warnings_once_per_form(monkeypatch) -> None:
    """torch warns once per process for each constructor form (TORCH_WARN_ONCE); ctorch too,
    with torch's text (its once-set is reset here, torch's cannot be)."""
    from ctorch import _warnings

    monkeypatch.setattr(_warnings, "_warned_once", set())
    i, v = ctorch.tensor([[0, 1]]), ctorch.tensor([1.0, 2.0])
    for call, text in (
        (lambda: ctorch.sparse.FloatTensor(i, v, (3,)), r"SparseTensor\(indices, values, shape,"),
        (lambda: ctorch.sparse.FloatTensor(i, v), r"SparseTensor\(indices, values, \*, device"),
        (lambda: ctorch.sparse.FloatTensor(2), r"SparseTensor\(shape, \*, device=\)"),
        (lambda: ctorch.sparse.FloatTensor(), r"SparseTensor\(\) is deprecated"),
    ):
        with pytest.warns(UserWarning, match=text):
            call()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            call()  # the second time: silent


def test_cuda_legacy_type_without_a_gpu() -> None:
    if ctorch.cuda.is_available():
        assert ctorch.cuda.FloatTensor(2).is_cuda
        return
    with pytest.raises(TypeError, match=r"type torch.cuda.FloatTensor not available"):
        ctorch.cuda.FloatTensor(2)
    assert ctorch.cuda.DoubleTensor.dtype == ctorch.float64
    with pytest.raises(AttributeError):
        ctorch.cuda.NoSuchTensor  # noqa: B018
