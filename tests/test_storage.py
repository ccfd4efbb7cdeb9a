"""``Tensor.untyped_storage()`` / ``Tensor.storage()``: what programs ask of a storage
(``data_ptr``/``nbytes`` to tell tied weights apart, as Hugging Face's ``id_tensor_storage``
does; sizes, sharing, contents), compared with torch."""

from __future__ import annotations

import importlib
import warnings

import pytest
from helpers import lib_by_name

LIBS = ["ctorch", "torch"]


def id_tensor_storage(tensor):
    """transformers.pytorch_utils.id_tensor_storage, CPU branch."""
    unique_id = tensor.untyped_storage().data_ptr()
    return tensor.device, unique_id, tensor.untyped_storage().nbytes()


@pytest.mark.parametrize("lib", LIBS)
def test_untyped_storage_identifies_shared_memory(lib: str) -> None:
    t = lib_by_name(lib)
    base = t.arange(12, dtype=t.float32).reshape(3, 4)
    view = base[1:, ::2]
    other = base.clone()
    assert id_tensor_storage(view) == id_tensor_storage(base)
    assert id_tensor_storage(other) != id_tensor_storage(base)
    assert id_tensor_storage(base)[2] == 48
    lin = t.nn.Linear(4, 4, bias=False)
    emb = t.nn.Embedding(4, 4)
    emb.weight = lin.weight  # tied
    assert id_tensor_storage(emb.weight) == id_tensor_storage(lin.weight)
    s = view.untyped_storage()
    assert s.nbytes() == 48 and s.size() == 48 and len(s) == 48 and s.element_size() == 1
    assert s.device == t.device("cpu") and not s.is_shared() and not s.is_pinned()
    assert s.data_ptr() == base.data_ptr() and view.storage_offset() == 4
    assert s.tolist()[4:8] == list(t.tensor([1.0], dtype=t.float32).numpy().tobytes())


@pytest.mark.parametrize("lib", LIBS)
def test_typed_storage_and_its_warning(lib: str) -> None:
    t = lib_by_name(lib)
    if lib == "ctorch":
        importlib.import_module("ctorch.storage")._TYPED_WARNED[0] = False
    x = t.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=t.float64)[1]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        s = x.storage()
    if lib == "ctorch" or w:  # torch warns once per process
        assert "TypedStorage is deprecated" in str(w[0].message)
    assert s.dtype == t.float64 and s.size() == 4 and len(s) == 4 and s.element_size() == 8
    assert s.tolist() == [1.0, 2.0, 3.0, 4.0] and s[2] == 3.0 and s.nbytes() == 32
    assert s.data_ptr() == x.untyped_storage().data_ptr() and not s.is_shared()
    assert isinstance(s.untyped(), t.UntypedStorage) and isinstance(s, t.TypedStorage)
    y = t.zeros(3).share_memory_()
    assert y.untyped_storage().is_shared() and y.storage().is_shared()
    assert y[1:].untyped_storage().data_ptr() == y.data_ptr()
