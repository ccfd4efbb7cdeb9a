"""torch's legacy tensor types: ``ctorch.FloatTensor`` ..., ``ctorch.sparse.FloatTensor`` ...
and ``ctorch.cuda.FloatTensor`` ...: callables that build a tensor of their dtype, layout and
device (torch's legacy constructors, with torch's deprecation warnings for the sparse ones),
and types that ``isinstance`` answers for as torch does (dtype, layout and device must all
match: a float64 tensor is no ``FloatTensor``, a CPU tensor no ``cuda.FloatTensor``)."""

from __future__ import annotations

import numbers
from typing import Any

from . import _dtype as D

# (name, dtype name); torch.sparse has all but BoolTensor
NAMES = (
    ("FloatTensor", "float32"),
    ("DoubleTensor", "float64"),
    ("HalfTensor", "float16"),
    ("BFloat16Tensor", "bfloat16"),
    ("LongTensor", "int64"),
    ("IntTensor", "int32"),
    ("ShortTensor", "int16"),
    ("CharTensor", "int8"),
    ("ByteTensor", "uint8"),
    ("BoolTensor", "bool"),
)


class tensortype(type):
    """The metaclass of the legacy types (``torch.tensortype``)."""

    dtype: Any
    is_sparse: bool
    is_cuda: bool

    def __instancecheck__(cls, inst: Any) -> bool:
        from ._tensor import Tensor

        if not isinstance(inst, Tensor) or inst.dtype is not cls.dtype:
            return False
        if inst.is_sparse != cls.is_sparse or inst.is_cuda != cls.is_cuda:
            return False
        from . import sparse_coo

        return not cls.is_sparse or inst.layout is sparse_coo


def _dense_new(cls, *args, **kwargs):
    from . import _tensor
    from ._tensor import Tensor

    if cls.is_cuda:
        from . import cuda

        if not cuda.is_available():
            raise TypeError(
                f"type torch.cuda.{cls.__name__} not available. Torch not compiled with CUDA "
                "enabled."
            )
        kwargs.setdefault("device", "cuda")
    return _tensor._legacy_new(Tensor, *args, dtype=cls.dtype, **kwargs)


def _sparse_new(cls, *args, device=None):
    from . import _warnings, sparse_coo_tensor, zeros
    from ._size import Size
    from ._tensor import Tensor

    if args and isinstance(args[0], Tensor):
        if len(args) not in (2, 3) or not isinstance(args[1], Tensor):
            raise TypeError(
                f"{cls.__name__}(): expected (Tensor indices, Tensor values) or (Tensor "
                "indices, Tensor values, tuple of ints size)"
            )
        shape = ", shape" if len(args) == 3 else ""
        msg = (
            f"torch.sparse.SparseTensor(indices, values{shape}, *, device=) is deprecated.  "
            f"Please use torch.sparse_coo_tensor(indices, values{shape}, dtype=, device=)."
        )
        _warnings.warn_once(msg, msg)  # once per process and form, as torch's TORCH_WARN_ONCE
        if args[0].dtype is not D.int64:
            from .ops._util import SCALAR_TYPE_NAMES

            name = args[0]._a.dtype.name
            raise RuntimeError(
                f"expected scalar type Long but found {SCALAR_TYPE_NAMES.get(name, name)}"
            )
        # torch keeps the values' dtype here (FloatTensor(i, int64 values) is int64)
        return sparse_coo_tensor(*args, device=device)
    if not args:
        msg = (
            "torch.sparse.SparseTensor() is deprecated.  Please use "
            "torch.sparse_coo_tensor((0,), dtype=)."
        )
        _warnings.warn_once(msg, msg)
        shape = (0,)
    elif len(args) == 1 and isinstance(args[0], Size):
        shape = tuple(args[0])
    elif all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
        shape = tuple(int(a) for a in args)
    else:
        raise TypeError(
            "torch.sparse.SparseTensor(sequence) only accepts sizes.  Please use "
            "torch.sparse_coo_tensor() or construct a strided tensor and convert it to sparse "
            "via to_sparse."
        )
    if args:
        msg = (
            "torch.sparse.SparseTensor(shape, *, device=) is deprecated.  Please use "
            "torch.sparse_coo_tensor(shape, dtype=, device=)."
        )
        _warnings.warn_once(msg, msg)
    if any(s < 0 for s in shape):
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}"
        )
    return sparse_coo_tensor(
        zeros((len(shape), 0), dtype=D.int64),
        zeros((0,), dtype=cls.dtype),
        shape,
        device=device,
    )


def make(module: str, *, sparse: bool = False, cuda: bool = False) -> dict[str, tensortype]:
    """The legacy types of ``module`` (``"ctorch"``, ``"ctorch.sparse"``, ``"ctorch.cuda"``)."""
    out = {}
    for name, dt in NAMES:
        if sparse and dt == "bool":
            continue
        out[name] = tensortype(
            name,
            (),
            {
                "__new__": _sparse_new if sparse else _dense_new,
                "__module__": module,
                "dtype": getattr(D, dt),
                "_legacy_dtype": getattr(D, dt),
                "is_sparse": sparse,
                "is_cuda": cuda,
            },
        )
    return out
