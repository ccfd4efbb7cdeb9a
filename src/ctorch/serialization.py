"""ctorch.save / ctorch.load: PyTorch's checkpoint format, safe by default.

Format (what ``torch.save`` writes by default since 1.6): a zip archive with every record stored
uncompressed and its data aligned to 64 bytes::

    <archive>/data.pkl              pickle (protocol 2) of the object
    <archive>/.format_version       "1"
    <archive>/.storage_alignment    "64"
    <archive>/byteorder             "little"
    <archive>/data/<key>            raw little-endian bytes of one storage
    <archive>/version               "3\\n"
    <archive>/.data/serialization_id

Inside data.pkl a tensor is ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, OrderedDict())`` where ``storage`` is the persistent id ``('storage',
torch.FloatStorage, key, location, numel)``; a parameter wraps that in
``torch._utils._rebuild_parameter``. ctorch *writes* those torch names (so ``torch.load`` with
``weights_only=True`` reads ctorch files) and *reads* them without torch installed: the unpicklers
map every torch global onto ctorch's own rebuild functions and types.

Safety: ``weights_only=True`` (the default, as in torch >= 2.6) runs a restricted unpickler of
our own. It resolves globals only from an allow-list (plus what the user adds with
``add_safe_globals`` / ``safe_globals``), calls only allowed callables, and builds only
allowed types, so a file cannot run code. ``weights_only=False`` uses the normal unpickler (whole
pickled models), with ``torch.*`` class paths remapped to ``ctorch.*`` and ``torchvision.*`` to
``ctorch.vision.*``.

The legacy (pre-1.6, non-zip) format is read too; the ancient tar format is refused clearly.
"""

from __future__ import annotations

import _compat_pickle
import collections
import contextlib
import io
import os
import pickle
import random
import re
import struct
import sys
import types
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any, BinaryIO, NamedTuple

import numpy as np

from . import _dtype as _dt
from . import _warnings
from ._device import device as _device_cls
from ._size import Size as _Size

__all__ = [
    "save",
    "load",
    "add_safe_globals",
    "get_safe_globals",
    "clear_safe_globals",
    "safe_globals",
    "DEFAULT_PROTOCOL",
]

FileLike = str | os.PathLike | BinaryIO | IO[bytes]

DEFAULT_PROTOCOL = 2
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_ALIGNMENT = 64
_CHUNK = 1 << 24  # bytes copied per read when loading a storage record

# ---------------------------------------------------------------------------------------------
# dtype tables: torch name <-> NumPy dtype, and torch's legacy typed-storage class names
# ---------------------------------------------------------------------------------------------

# torch dtype name -> little-endian NumPy dtype (None: a dtype NumPy cannot hold)
_TORCH_DTYPE_NP: dict[str, str | None] = {
    "float32": "<f4",
    "float64": "<f8",
    "float16": "<f2",
    "bfloat16": "bfloat16",  # ml_dtypes registers the name with NumPy
    "int8": "|i1",
    "int16": "<i2",
    "int32": "<i4",
    "int64": "<i8",
    "uint8": "|u1",
    "bool": "|b1",
    "complex64": "<c8",
    "complex128": "<c16",
    "uint16": "<u2",
    "uint32": "<u4",
    "uint64": "<u8",
    "complex32": None,
}
# every other dtype name torch pickles as GLOBAL 'torch <name>' (refused with a clear error)
_TORCH_OTHER_DTYPES = {
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
    "float4_e2m1fn_x2",
    "qint8",
    "quint8",
    "qint32",
    "quint4x2",
    "quint2x4",
    "bits1x8",
    "bits2x4",
    "bits4x2",
    "bits8",
    "bits16",
    *(f"int{i}" for i in range(1, 8)),
    *(f"uint{i}" for i in range(1, 8)),
}
# torch.<X>Storage -> dtype name
_STORAGE_DTYPE = {
    "FloatStorage": "float32",
    "DoubleStorage": "float64",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "CharStorage": "int8",
    "ShortStorage": "int16",
    "IntStorage": "int32",
    "LongStorage": "int64",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
    "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128",
    "ComplexHalfStorage": "complex32",
    "QInt8Storage": "qint8",
    "QUInt8Storage": "quint8",
    "QInt32Storage": "qint32",
    "QUInt4x2Storage": "quint4x2",
    "QUInt2x4Storage": "quint2x4",
}
_DTYPE_STORAGE = {v: k for k, v in _STORAGE_DTYPE.items()}


class _StorageType:
    """What ``torch.FloatStorage`` / ``torch.storage.UntypedStorage`` resolve to when loading."""

    __slots__ = ("name", "dtype_name")

    def __init__(self, name: str, dtype_name: str | None) -> None:
        self.name = name
        self.dtype_name = dtype_name  # None: untyped (bytes)

    def __repr__(self) -> str:
        return f"StorageType({self.name})"


_STORAGE_TYPES = {n: _StorageType(n, d) for n, d in _STORAGE_DTYPE.items()}
_STORAGE_TYPES["UntypedStorage"] = _StorageType("UntypedStorage", None)
_STORAGE_TYPES["TypedStorage"] = _StorageType("TypedStorage", None)


class _ForeignDType:
    """A torch dtype ctorch has no equivalent for (e.g. torch.float8_e4m3fn); only rebuild
    uses it."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


_FOREIGN_DTYPES: dict[str, _ForeignDType] = {}


def _torch_dtype_object(name: str) -> Any:
    """The object GLOBAL 'torch <name>' loads as: a ctorch dtype when there is one."""
    ct = getattr(_dt, name, None)
    if isinstance(ct, _dt.dtype):
        return ct
    if name not in _FOREIGN_DTYPES:
        _FOREIGN_DTYPES[name] = _ForeignDType(name)
    return _FOREIGN_DTYPES[name]


def _dtype_name(d: Any) -> str:
    if isinstance(d, _ForeignDType):
        return d.name
    name = getattr(d, "_name", None)
    if name is None:
        name = repr(d).rsplit(".", 1)[-1]
    return name


# ---------------------------------------------------------------------------------------------
# lazy access to the rest of ctorch (serialization is imported by ctorch/__init__)
# ---------------------------------------------------------------------------------------------


def _ct() -> Any:
    import ctorch

    return ctorch


def _tensor_cls() -> type:
    return _ct().Tensor


def _parameter_cls() -> type | None:
    try:
        from .nn.parameter import Parameter

        return Parameter
    except Exception:  # nn missing or half-written: tensors still save and load
        pass
    try:
        from .nn import Parameter

        return Parameter
    except Exception:
        return None


def _cuda_state() -> tuple[bool, int]:
    try:
        from . import cuda

        if not cuda.is_available():
            return False, 0
        count = getattr(cuda, "device_count", None)
        return True, int(count()) if count is not None else 1
    except Exception:  # no ctorch.cuda, no CuPy, no driver: all mean "no GPU"
        return False, 0


# ---------------------------------------------------------------------------------------------
# the safe-globals registry
# ---------------------------------------------------------------------------------------------

_user_safe_globals: set[Any] = set()


def add_safe_globals(safe_globals: list[Any]) -> None:
    """Allow these globals (classes/functions, or ``(obj, "module.name")`` pairs) in
    ``load(..., weights_only=True)``. Only add what you trust."""
    for g in safe_globals:
        _global_name_of(g)  # validate early
    _user_safe_globals.update(safe_globals)


def get_safe_globals() -> list[Any]:
    """The globals added by ``add_safe_globals``."""
    return list(_user_safe_globals)


def clear_safe_globals() -> None:
    """Forget every global added by ``add_safe_globals``."""
    _user_safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list[Any]) -> Iterator[None]:
    """Context manager: ``add_safe_globals(safe_globals)`` inside the ``with`` block only."""
    added = [g for g in safe_globals if g not in _user_safe_globals]
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _user_safe_globals.difference_update(added)


def _global_name_of(g: Any) -> str:
    if isinstance(g, tuple):
        if len(g) != 2:
            raise ValueError(
                f"Expected tuple of length 2 (global, str of callable full path), got {len(g)}"
            )
        if not isinstance(g[1], str):
            raise TypeError(
                f"Expected second item in tuple to be str of callable full path, got {type(g[1])}"
            )
        return g[1]
    module = getattr(g, "__module__", None)
    qualname = getattr(g, "__qualname__", None) or getattr(g, "__name__", None)
    if module is None or qualname is None:
        raise TypeError(f"add_safe_globals: cannot determine the global name of {g!r}")
    return f"{module}.{qualname}"


def _user_allowed() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for g in _user_safe_globals:
        name = _global_name_of(g)
        obj = g[0] if isinstance(g, tuple) else g
        out[name] = obj
        # NumPy 2 moved numpy.core to numpy._core; pickles name either
        if name.startswith("numpy._core."):
            out["numpy.core." + name[len("numpy._core.") :]] = obj
        elif name.startswith("numpy.core."):
            out["numpy._core." + name[len("numpy.core.") :]] = obj
    return out


# modules that stay refused even when a user allow-lists something from them (as in torch)
_BLOCKED_MODULES = {"sys", "os", "posix", "nt", "subprocess", "builtins.eval", "builtins.exec"}


class _UnsafeGlobalError(pickle.UnpicklingError):
    """Raised when a weights_only load meets a global or operation that is not allowed."""


_UNSAFE_TAIL = (
    "Re-running `ctorch.load` with `weights_only=False` will likely succeed, but it can result "
    "in arbitrary code execution. Do it only if you got the file from a trusted source."
)


def _unsafe_global_message(where: str, full: str) -> str:
    shown = full[len("builtins.") :] if full.startswith("builtins.") else full
    return (
        f"Weights only load failed for {where}: Unsupported global: GLOBAL {full} was not an "
        f"allowed global by default. Please use "
        f"`ctorch.serialization.add_safe_globals([{shown}])` or the "
        f"`ctorch.serialization.safe_globals([{shown}])` context manager to allowlist this "
        f"global if you trust this class/function. {_UNSAFE_TAIL}"
    )


# ---------------------------------------------------------------------------------------------
# saving
# ---------------------------------------------------------------------------------------------


class _TorchGlobal:
    """Stands for a global the pickle must name (``torch._utils._rebuild_tensor_v2`` ...)
    without torch being importable: the pickler writes it as a raw GLOBAL opcode."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __call__(self, *args: Any) -> Any:  # pickle insists a reduce function be callable
        raise TypeError(f"{self.module}.{self.name} is a placeholder for pickling only")


_TG_CACHE: dict[tuple[str, str], _TorchGlobal] = {}


def _tg(module: str, name: str) -> _TorchGlobal:
    key = (module, name)
    g = _TG_CACHE.get(key)
    if g is None:
        g = _TG_CACHE[key] = _TorchGlobal(module, name)
    return g


class _StorageRef:
    __slots__ = ("pid",)

    def __init__(self, pid: tuple) -> None:
        self.pid = pid


class _ParamData:
    """The plain-tensor payload of a Parameter (pickled as a tensor, requires_grad=False)."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: Any) -> None:
        self.tensor = tensor


class _Saver:
    """Collects storages while pickling: arrays that view one buffer share one record."""

    def __init__(self) -> None:
        self.records: list[tuple[str, np.ndarray]] = []  # (key, 1-D uint8 view of the bytes)
        self._by_root: dict[tuple[int, str, str], tuple[_StorageRef, Any]] = {}
        self._keep: list[Any] = []  # keeps roots alive so ids stay unique while saving

    def _new_record(self, data: np.ndarray, npdt: np.dtype, location: str) -> _StorageRef:
        key = str(len(self.records))
        name = _dtype_name(_dt.from_numpy_dtype(npdt))
        if name in _DTYPE_STORAGE:
            storage = _tg("torch", _DTYPE_STORAGE[name])
            numel = data.nbytes // npdt.itemsize
        else:  # uint16/32/64: torch has no typed storage class; bytes + the dtype (_rebuild_v3)
            storage, numel = _tg("torch.storage", "UntypedStorage"), data.nbytes
        ref = _StorageRef(("storage", storage, key, location, numel))
        self.records.append((key, data))
        return ref

    def tensor_args(self, t: Any) -> tuple[_StorageRef, int, tuple, tuple]:
        """(storage ref, storage_offset, size, stride) for tensor ``t``."""
        dev = t.device
        if dev.type == "cpu":
            a = t.detach().numpy()
            location = "cpu"
        elif dev.type == "cuda":
            a = t.detach().cpu().numpy()
            location = f"cuda:{dev.index or 0}"
        else:
            raise RuntimeError(f"ctorch.save: cannot save a tensor on device {dev}")
        a = np.asarray(a)
        # store what the tensor says it is (e.g. a byte-swapped array): the record's dtype
        # must match its storage class
        target = np.dtype(_TORCH_DTYPE_NP[_dtype_name(t.dtype)] or "|u1")
        if a.dtype != target:
            a = a.astype(target)
        npdt = a.dtype
        itemsize = npdt.itemsize
        shape = tuple(int(s) for s in a.shape)
        if a.size > 0:
            root = a
            while isinstance(root.base, np.ndarray):
                root = root.base
            a_addr = a.__array_interface__["data"][0]
            r_addr = root.__array_interface__["data"][0]
            byte_off = a_addr - r_addr
            if (
                (root.flags.c_contiguous or root.flags.f_contiguous)
                and root.nbytes % itemsize == 0
                and byte_off >= 0
                and byte_off % itemsize == 0
                and all(s >= 0 and s % itemsize == 0 for s in a.strides)
            ):
                rkey = (id(root), npdt.str, location)
                hit = self._by_root.get(rkey)
                if hit is None:
                    data = root.ravel(order="K").view(np.uint8)
                    hit = (self._new_record(data, npdt, location), root)
                    self._by_root[rkey] = hit
                    self._keep.append(root)
                return hit[0], byte_off // itemsize, shape, tuple(s // itemsize for s in a.strides)
        # negative strides, odd strides, empty: save a compact copy of its own
        c = np.ascontiguousarray(a)
        stride = tuple(s // itemsize for s in c.strides) if c.size else _contig_stride(shape)
        ref = self._new_record(c.reshape(-1).view(np.uint8), npdt, location)
        return ref, 0, shape, stride


def _contig_stride(shape: tuple) -> tuple:
    stride, acc = [], 1
    for s in reversed(shape):
        stride.append(acc)
        acc *= max(int(s), 1)
    return tuple(reversed(stride))


class _Pickler(pickle._Pickler):  # the pure-Python pickler: it lets us emit raw GLOBALs
    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file: IO[bytes], protocol: int, saver: _Saver) -> None:
        super().__init__(file, protocol)
        self._saver = saver
        self._tensor_cls = _tensor_cls()
        self._param_cls = _parameter_cls()

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is _StorageRef:
            return obj.pid
        return None

    def save(self, obj: Any, save_persistent_id: bool = True) -> None:
        if type(obj) is _dt.dtype:
            obj = _tg("torch", _dtype_name(obj))
        super().save(obj, save_persistent_id)

    def _save_torch_global(self, obj: _TorchGlobal) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    dispatch[_TorchGlobal] = _save_torch_global

    def save_global(self, obj: Any, name: str | None = None) -> None:
        # ctorch's classes and functions go out under torch's names (a whole model saved
        # under ``ctorch.run`` loads in torch); see ctorch._pickle_names
        from ._pickle_names import torch_global_name

        mapped = torch_global_name(obj, name)
        if mapped is not None and "." not in mapped[1]:
            home = sys.modules.get(obj.__module__)
            if getattr(home, name or obj.__qualname__, None) is obj:  # importable where it is
                self.write(pickle.GLOBAL + f"{mapped[0]}\n{mapped[1]}\n".encode())
                self.memoize(obj)
                return
        super().save_global(obj, name)

    dispatch[types.FunctionType] = save_global

    def _rebuild_args(self, t: Any, requires_grad: bool) -> tuple:
        """torch's reduction of a dense tensor: ``_rebuild_tensor_v2`` over a typed storage,
        or, for the dtypes torch saves as untyped bytes (uint16/32/64), ``_rebuild_tensor_v3``
        with the dtype (what torch itself writes for them). A meta tensor has no storage:
        torch writes ``_rebuild_meta_tensor_no_storage(dtype, size, stride, requires_grad)``
        (no record, no view sharing; it loads as a meta tensor whatever ``map_location``)."""
        if t.is_meta:
            return (
                _tg("torch._utils", "_rebuild_meta_tensor_no_storage"),
                (
                    _tg("torch", _dtype_name(t.dtype)),
                    tuple(int(n) for n in t.shape),
                    tuple(int(s) for s in t.stride()),
                    requires_grad,
                ),
            )
        ref, off, size, stride = self._saver.tensor_args(t)
        args = (ref, off, size, stride, requires_grad, collections.OrderedDict())
        name = _dtype_name(t.dtype)
        if name in _DTYPE_STORAGE:
            return (_tg("torch._utils", "_rebuild_tensor_v2"), args)
        return (_tg("torch._utils", "_rebuild_tensor_v3"), (*args, _tg("torch", name)))

    def reducer_override(self, obj: Any) -> Any:
        t = type(obj)
        if t is _ParamData:
            return self._rebuild_args(obj.tensor, False)
        if self._param_cls is not None and isinstance(obj, self._param_cls):
            return (
                _tg("torch._utils", "_rebuild_parameter"),
                (_ParamData(obj), bool(obj.requires_grad), collections.OrderedDict()),
            )
        if t is _ct().layout:
            return (_tg("torch.serialization", "_get_layout"), (f"torch.{obj.name}",))
        if isinstance(obj, self._tensor_cls) and obj.layout is not _ct().strided:
            from .sparse._serialize import sparse_save_args  # sparse COO / CSR (#13)

            name, data = sparse_save_args(obj)
            return (
                _tg("torch._utils", "_rebuild_sparse_tensor"),
                (getattr(_ct(), name), data),
            )
        if isinstance(obj, self._tensor_cls):
            return self._rebuild_args(obj, bool(obj.requires_grad))
        if t is _Size:
            return (_tg("torch", "Size"), (tuple(obj),))
        if t is _device_cls:
            args = (obj.type,) if obj.index is None else (obj.type, obj.index)
            return (_tg("torch", "device"), args)
        return NotImplemented


def _archive_name(f: Any) -> str:
    if isinstance(f, (str, os.PathLike)):
        stem = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        if re.fullmatch(r"[A-Za-z0-9_.\-]{1,100}", stem):
            return stem
    return "archive"


def _write_record(zf: zipfile.ZipFile, name: str, data: Any) -> None:
    mv = memoryview(data).cast("B") if not isinstance(data, bytes) else data
    nbytes = len(mv)
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = nbytes
    zip64 = nbytes * 1.05 > zipfile.ZIP64_LIMIT  # the rule zipfile itself applies
    pos = zf.fp.tell()  # type: ignore[union-attr]
    header = 30 + len(name.encode("utf-8")) + 4 + (20 if zip64 else 0)
    pad = (-(pos + header)) % _ALIGNMENT
    # an extra field with id 'FB' full of 'Z', as torch pads its records
    info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
    with zf.open(info, "w", force_zip64=zip64) as w:
        w.write(mv)


def save(
    obj: Any,
    f: FileLike,
    pickle_module: Any = None,
    pickle_protocol: int = DEFAULT_PROTOCOL,
    _use_new_zipfile_serialization: bool = True,
) -> None:
    """Save ``obj`` to ``f`` (a path or a binary file object) in PyTorch's zip format.

    Tensors, parameters, ``ctorch.Size``, dtypes and devices are written under torch's names,
    so ``torch.load`` reads the file; anything else is pickled normally.
    """
    if pickle_module is not None and pickle_module is not pickle:
        raise ValueError("ctorch.save: only the standard pickle module is supported")
    if not _use_new_zipfile_serialization:
        raise NotImplementedError(
            "ctorch.save: writing the legacy (non-zip) format is not supported; it can only be read"
        )
    saver = _Saver()
    buf = io.BytesIO()
    _Pickler(buf, pickle_protocol, saver).dump(obj)  # pickle fully before touching f
    archive = _archive_name(f)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            _write_zip(fh, archive, buf.getbuffer(), saver)
    else:
        if not hasattr(f, "write"):
            raise TypeError(f"ctorch.save: expected a path or a binary file object, got {f!r}")
        _write_zip(f, archive, buf.getbuffer(), saver)


def _write_zip(fh: IO[bytes], archive: str, pkl: Any, saver: _Saver) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        _write_record(zf, f"{archive}/data.pkl", pkl)
        _write_record(zf, f"{archive}/.format_version", b"1")
        _write_record(zf, f"{archive}/.storage_alignment", str(_ALIGNMENT).encode())
        _write_record(zf, f"{archive}/byteorder", b"little")
        for key, data in saver.records:
            _write_record(zf, f"{archive}/data/{key}", data)
        _write_record(zf, f"{archive}/version", b"3\n")
        sid = f"{random.getrandbits(64):020d}".encode()
        _write_record(zf, f"{archive}/.data/serialization_id", sid)


# ---------------------------------------------------------------------------------------------
# loading: storages and the rebuild functions torch's globals map to
# ---------------------------------------------------------------------------------------------


class _LoadError(RuntimeError):
    pass


class _Storage:
    """A loaded storage: writable little-endian bytes plus the device its tensors go to."""

    __slots__ = ("raw", "dtype_name", "device", "where")

    def __init__(self, raw: np.ndarray, dtype_name: str | None, device: str, where: str) -> None:
        self.raw = raw  # 1-D uint8
        self.dtype_name = dtype_name  # None for an untyped (byte) storage
        self.device = device
        self.where = where  # for error messages

    def typed(self, dtype_name: str) -> np.ndarray:
        npstr = _TORCH_DTYPE_NP.get(dtype_name)
        if npstr is None:
            raise _LoadError(
                f"{self.where} holds torch.{dtype_name} data, which ctorch cannot represent "
                f"(NumPy has no {dtype_name} type); convert it in PyTorch (e.g. .float()) "
                "before saving"
            )
        npdt = np.dtype(npstr)
        n = self.raw.size // npdt.itemsize
        return self.raw[: n * npdt.itemsize].view(npdt).view(np.ndarray)


def _check_ints(name: str, seq: Any, where: str) -> tuple[int, ...]:
    if not isinstance(seq, (tuple, list)) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in seq
    ):
        raise _LoadError(f"{where}: tensor {name} must be a tuple of ints, got {seq!r}")
    return tuple(seq)


def _view(storage: Any, dtype_name: str, offset: Any, size: Any, stride: Any) -> np.ndarray:
    """A bounds-checked NumPy view of ``storage`` (the check happens before any array exists)."""
    if not isinstance(storage, _Storage):
        raise _LoadError(f"tensor rebuild expected a storage, got {type(storage).__name__}")
    where = storage.where
    size = _check_ints("size", size, where)
    stride = _check_ints("stride", stride, where)
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise _LoadError(f"{where}: invalid storage offset {offset!r}")
    if len(size) != len(stride):
        raise _LoadError(f"{where}: size {size} and stride {stride} differ in length")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise _LoadError(f"{where}: negative size or stride ({size}, {stride})")
    arr = storage.typed(dtype_name)
    if 0 in size:
        return np.zeros(size, dtype=arr.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if last >= arr.size:
        raise _LoadError(
            f"{where} is too short: it holds {arr.size} elements of torch.{dtype_name}, but a "
            f"tensor of size {list(size)}, stride {list(stride)} at offset {offset} needs "
            f"{last + 1} (file truncated or corrupted)"
        )
    it = arr.itemsize
    # np.ndarray over the storage keeps ``base`` pointing at it (as_strided would not), so a
    # re-save of loaded views still finds their shared buffer
    v = np.ndarray(
        size, arr.dtype, buffer=arr, offset=offset * it, strides=[s * it for s in stride]
    )
    return v


def _finish(arr: np.ndarray, storage: _Storage, requires_grad: Any) -> Any:
    if storage.device == "meta" and all(s >= 0 for s in arr.strides):
        # map_location="meta": the view's size, stride and storage offset, no data (torch)
        from ._meta import MetaArray

        root = arr
        while isinstance(root.base, np.ndarray):
            root = root.base
        delta = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        t = _ct().Tensor._make(
            MetaArray(arr.shape, arr.dtype, arr.strides, delta // max(arr.itemsize, 1))
        )
        return t.requires_grad_(True) if requires_grad else t
    t = _ct().from_numpy(arr)
    if storage.device != "cpu":
        t = t.to(_device_cls(storage.device))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _apply_metadata(arr: np.ndarray, metadata: Any) -> np.ndarray:
    if metadata:
        if not isinstance(metadata, dict):
            raise _LoadError(f"tensor metadata must be a dict, got {type(metadata).__name__}")
        if metadata.get("conj"):
            arr = np.conj(arr)
        if metadata.get("neg"):
            arr = np.negative(arr)
    return arr


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any) -> Any:
    arr = _view(storage, _storage_dtype(storage, None), storage_offset, size, stride)
    return _finish(arr, storage, False)


def _storage_dtype(storage: Any, dtype: Any) -> str:
    if dtype is not None:
        return _dtype_name(dtype)
    if not isinstance(storage, _Storage):
        raise _LoadError(f"tensor rebuild expected a storage, got {type(storage).__name__}")
    return storage.dtype_name or "uint8"


def _rebuild_tensor_v2(
    storage: Any,
    storage_offset: Any,
    size: Any,
    stride: Any,
    requires_grad: Any,
    backward_hooks: Any,
    metadata: Any = None,
) -> Any:
    arr = _view(storage, _storage_dtype(storage, None), storage_offset, size, stride)
    return _finish(_apply_metadata(arr, metadata), storage, requires_grad)


def _rebuild_tensor_v3(
    storage: Any,
    storage_offset: Any,
    size: Any,
    stride: Any,
    requires_grad: Any,
    backward_hooks: Any,
    dtype: Any,
    metadata: Any = None,
) -> Any:
    arr = _view(storage, _storage_dtype(storage, dtype), storage_offset, size, stride)
    return _finish(_apply_metadata(arr, metadata), storage, requires_grad)


def _rebuild_meta_tensor_no_storage(dtype: Any, size: Any, stride: Any, requires_grad: Any) -> Any:
    """torch's record of a meta tensor: its dtype, size and stride (a meta tensor, as torch
    loads it, whatever ``map_location`` says)."""
    if not isinstance(dtype, _dt.dtype):
        raise _LoadError(f"meta tensor of dtype torch.{_dtype_name(dtype)} is not supported")
    size = tuple(int(n) for n in size)
    stride = tuple(int(s) for s in stride)
    if len(size) != len(stride) or any(n < 0 for n in size) or any(s < 0 for s in stride):
        raise _LoadError(f"meta tensor record with size {size} and stride {stride}")
    t = _ct().empty_strided(size, stride, dtype=dtype, device="meta")
    if requires_grad:
        t.requires_grad_(True)
    return t


def _make_parameter(data: Any, requires_grad: Any) -> Any:
    if not isinstance(data, _tensor_cls()):
        raise _LoadError(f"parameter rebuild expected a tensor, got {type(data).__name__}")
    cls = _parameter_cls()
    if cls is None:  # ctorch.nn not available: a plain tensor with the flag
        return data.requires_grad_(bool(requires_grad))
    return cls(data, requires_grad=bool(requires_grad))


def _rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any) -> Any:
    return _make_parameter(data, requires_grad)


def _set_state(obj: Any, state: Any) -> None:
    if state is None:
        return
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    for part in (state, slots):
        if part:
            if not isinstance(part, dict):
                raise _LoadError(f"object state must be a dict, got {type(part).__name__}")
            for k, v in part.items():
                setattr(obj, k, v)


def _rebuild_parameter_with_state(
    data: Any, requires_grad: Any, backward_hooks: Any, state: Any
) -> Any:
    p = _make_parameter(data, requires_grad)
    _set_state(p, state)
    return p


def _rebuild_device_tensor_from_cpu_tensor(
    data: Any, dtype: Any, device: Any, requires_grad: Any
) -> Any:
    t = data.to(_device_cls(str(device)))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    if func not in _REBUILD_FUNCS:
        raise _LoadError(f"_rebuild_from_type_v2: unsupported rebuild function {func!r}")
    ret = func(*args)
    if new_type is _tensor_cls() or isinstance(ret, new_type):
        pass
    elif new_type is _parameter_cls():
        ret = _make_parameter(ret, ret.requires_grad)
    else:
        raise _LoadError(f"cannot rebuild a tensor as {new_type!r}")
    _set_state(ret, state)
    return ret


def _get_layout(name: Any) -> Any:
    short = str(name).replace("torch.", "")
    if short in ("strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc"):
        return getattr(_ct(), short)
    raise _LoadError(f"tensors of layout {name} are not supported")


def _rebuild_sparse_tensor(layout: Any, data: Any) -> Any:
    from .sparse._serialize import rebuild_sparse_tensor

    return rebuild_sparse_tensor(layout, data)


def _safe_codecs_encode(obj: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` as pickle protocol 2 uses it for bytes: latin-1 only."""
    if encoding not in ("latin1", "latin-1") or not isinstance(obj, str):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return obj.encode("latin1", errors)


_REBUILD_FUNCS = (
    _rebuild_tensor,
    _rebuild_tensor_v2,
    _rebuild_tensor_v3,
    _rebuild_parameter,
    _rebuild_parameter_with_state,
    _rebuild_device_tensor_from_cpu_tensor,
    _rebuild_meta_tensor_no_storage,
)


def _builtin_table() -> dict[str, Any]:
    """torch/ctorch global name -> what it loads as; every entry is safe for weights_only."""
    ct = _ct()
    rc: dict[str, Any] = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "torch._utils._rebuild_tensor": _rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
        "torch._utils._rebuild_meta_tensor_no_storage": _rebuild_meta_tensor_no_storage,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._utils._rebuild_device_tensor_from_cpu_tensor": (
            _rebuild_device_tensor_from_cpu_tensor
        ),
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.serialization._get_layout": _get_layout,
        "torch._utils._rebuild_sparse_tensor": _rebuild_sparse_tensor,
        "torch.Size": _Size,
        "torch.Tensor": ct.Tensor,
        "torch.device": _device_cls,
        "_codecs.encode": _safe_codecs_encode,
        "builtins.bytearray": bytearray,
        "builtins.set": set,
        "builtins.complex": complex,
    }
    param = _parameter_cls()
    if param is not None:
        rc["torch.nn.parameter.Parameter"] = param
    for name in list(_TORCH_DTYPE_NP) + sorted(_TORCH_OTHER_DTYPES):
        rc[f"torch.{name}"] = _torch_dtype_object(name)
    for name, st in _STORAGE_TYPES.items():
        if name in ("UntypedStorage", "TypedStorage"):
            rc[f"torch.storage.{name}"] = st
            rc[f"torch.{name}"] = st
        else:
            rc[f"torch.{name}"] = st
            rc[f"torch.cuda.{name}"] = st
    return rc


def _fix_name(module: str, name: str) -> tuple[str, str]:
    """Python 2 names (``__builtin__.set``) as Python 3 ones, as pickle's fix_imports does."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    if module in _compat_pickle.IMPORT_MAPPING:
        return _compat_pickle.IMPORT_MAPPING[module], name
    return module, name


def _canonical(full: str) -> str:
    """``ctorch.x`` -> ``torch.x`` so both spellings hit the built-in table."""
    if full.startswith("ctorch."):
        return full[1:]
    return full


def _remap_module(module: str) -> str:
    """torch.* -> ctorch.*, torchvision.* -> ctorch.vision.* (for weights_only=False)."""
    if module == "torch" or module.startswith("torch."):
        return "c" + module
    if module == "torchvision" or module.startswith("torchvision."):
        return "ctorch.vision" + module[len("torchvision") :]
    return module


class _Resolver:
    """Shared state of one load: the allow-lists, storages, map_location."""

    def __init__(
        self,
        where: str,
        weights_only: bool,
        map_location: Any,
        read_record: Callable[[str, int], np.ndarray] | None,
    ) -> None:
        self.where = where
        self.weights_only = weights_only
        self.map_location = map_location
        self.read_record = read_record
        self.table = _builtin_table()
        self.user = _user_allowed() if weights_only else {}
        self.allowed_ids = {id(v) for v in self.table.values()} | {
            id(v) for v in self.user.values()
        }
        self.storages: dict[str, _Storage] = {}
        self.legacy_order: list[tuple[str, int]] = []  # (root key, nbytes) for legacy files

    # -- globals --------------------------------------------------------------------------
    def find_class_safe(self, module: str, name: str) -> Any:
        module, name = _fix_name(module, name)
        full = f"{module}.{name}"
        top = module.split(".")[0]
        if top in _BLOCKED_MODULES or full in _BLOCKED_MODULES:
            raise _UnsafeGlobalError(
                f"Weights only load failed for {self.where}: Trying to load unsupported GLOBAL "
                f"{full} whose module {module} is blocked. {_UNSAFE_TAIL}"
            )
        hit = self.table.get(_canonical(full))
        if hit is not None:
            return hit
        for cand in (full, f"{_remap_module(module)}.{name}"):
            if cand in self.user:
                return self.user[cand]
        raise _UnsafeGlobalError(_unsafe_global_message(self.where, full))

    def find_class_full(self, module: str, name: str, fallback: Callable[[str, str], Any]) -> Any:
        module, name = _fix_name(module, name)
        hit = self.table.get(_canonical(f"{module}.{name}"))
        if hit is not None:
            return hit
        new_module = _remap_module(module)
        try:
            return fallback(new_module, name)
        except (ImportError, AttributeError) as e:
            if new_module != module:
                raise _LoadError(
                    f"{self.where} references {module}.{name}, which ctorch does not provide "
                    f"(looked for {new_module}.{name}: {e})"
                ) from e
            raise

    # -- storages -------------------------------------------------------------------------
    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid:
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        kind = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unsupported persistent id type {kind!r}")
        if len(pid) == 5:
            _, st, key, location, numel = pid
            view_meta = None
        elif len(pid) == 6:  # legacy format
            _, st, key, location, numel, view_meta = pid
        else:
            raise pickle.UnpicklingError(f"malformed storage id {pid!r}")
        if not isinstance(st, _StorageType):
            raise pickle.UnpicklingError(f"storage id names {st!r}, not a storage type")
        if isinstance(location, bytes):
            location = location.decode("ascii")
        key = str(key)
        if not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError(f"invalid storage size {numel!r}")
        dname = st.dtype_name
        if dname is not None and _TORCH_DTYPE_NP.get(dname) is None:
            raise _LoadError(
                f"{self.where} holds a torch.{dname} tensor (storage '{key}'), which ctorch cannot "
                f"represent (NumPy has no {dname} type); convert it in PyTorch (e.g. .float()) "
                "before saving"
            )
        itemsize = 1 if dname is None else np.dtype(_TORCH_DTYPE_NP[dname]).itemsize
        nbytes = numel * itemsize
        s = self.storages.get(key)
        if s is None:
            if self.read_record is not None:
                raw = self.read_record(key, nbytes)
            else:  # legacy: the bytes follow the pickle; filled in afterwards
                raw = np.zeros(nbytes, dtype=np.uint8)
                self.legacy_order.append((key, nbytes))
            raw, dev = self._restore(raw, dname, str(location))
            s = _Storage(raw, dname, dev, f"storage record '{key}' of {self.where}")
            self.storages[key] = s
        if view_meta is not None:
            vkey, voff, vsize = view_meta
            vs = self.storages.get(str(vkey))
            if vs is None:
                b0 = voff * itemsize
                vraw = s.raw[b0 : b0 + vsize * itemsize]
                vs = _Storage(vraw, dname, s.device, s.where)
                self.storages[str(vkey)] = vs
            return vs
        return s

    def _restore(self, raw: np.ndarray, dname: str | None, location: str) -> tuple[Any, str]:
        ml = self.map_location
        if ml is None:
            target: Any = location
        elif isinstance(ml, dict):
            target = ml.get(location, location)
        elif isinstance(ml, (str, bytes, _device_cls)):
            target = ml
        elif callable(ml):
            return self._restore_callable(raw, dname, location)
        else:
            raise TypeError(f"ctorch.load: unsupported map_location {ml!r}")
        if isinstance(target, bytes):
            target = target.decode("ascii")
        return raw, self._validate_device(str(target))

    def _restore_callable(self, raw: np.ndarray, dname: str | None, location: str) -> Any:
        npdt = np.dtype(_TORCH_DTYPE_NP.get(dname or "uint8") or "|u1")
        if _TORCH_DTYPE_NP.get(dname or "uint8") is None:
            npdt = np.dtype(np.uint8)
        typed = raw[: raw.size - raw.size % npdt.itemsize].view(npdt)
        stor = _ct().from_numpy(typed)
        res = self.map_location(stor, location)
        if res is None:
            return raw, self._validate_device(location)
        if not isinstance(res, _tensor_cls()):
            raise _LoadError(
                f"map_location callable must return the storage (a tensor) or None, "
                f"got {type(res).__name__}"
            )
        dev = res.device
        if res is stor:
            return raw, "cpu"
        host = np.ascontiguousarray(np.asarray(res.detach().cpu().numpy()))
        return host.reshape(-1).view(np.uint8), self._validate_device(str(dev))

    def _validate_device(self, target: str) -> str:
        try:
            d = _device_cls(target)
        except (RuntimeError, ValueError, TypeError):
            raise _LoadError(
                f"don't know how to restore data location of a storage in {self.where} "
                f"(tagged with {target})"
            ) from None
        if d.type in ("cpu", "meta"):  # (meta: torch maps the storages to the meta device)
            return d.type
        if d.type == "cuda":
            ok, count = _cuda_state()
            if not ok:
                raise _LoadError(
                    f"Attempting to deserialize object on a CUDA device but "
                    f"ctorch.cuda.is_available() is False (loading {self.where}). If you are "
                    "running on a CPU-only machine, please use ctorch.load with "
                    "map_location=ctorch.device('cpu') (or map_location='cpu') to map your "
                    "storages to the CPU."
                )
            idx = d.index or 0
            if idx >= count:
                raise _LoadError(
                    f"Attempting to deserialize object on CUDA device {idx} but "
                    f"ctorch.cuda.device_count() is {count} (loading {self.where}). Please use "
                    "ctorch.load with map_location to map your storages to an existing device."
                )
            return f"cuda:{idx}"
        raise _LoadError(
            f"don't know how to restore data location of a storage in {self.where} "
            f"(tagged with {target}); ctorch supports 'cpu' and 'cuda'"
        )


# ---------------------------------------------------------------------------------------------
# the unpicklers
# ---------------------------------------------------------------------------------------------


def _make_full_unpickler(base: type) -> type:
    class _FullUnpickler(base):  # type: ignore[valid-type,misc]
        """weights_only=False: the normal unpickler, with torch names mapped onto ctorch."""

        def __init__(self, file: IO[bytes], resolver: _Resolver, **kw: Any) -> None:
            super().__init__(file, **kw)
            self._r = resolver

        def find_class(self, module: str, name: str) -> Any:
            return self._r.find_class_full(module, name, super().find_class)

        def persistent_load(self, pid: Any) -> Any:
            return self._r.persistent_load(pid)

    return _FullUnpickler


_FullUnpickler = _make_full_unpickler(pickle.Unpickler)
_FULL_UNPICKLERS: dict[type, type] = {pickle.Unpickler: _FullUnpickler}


def _full_unpickler(module: Any) -> type:
    """The weights_only=False unpickler over ``module.Unpickler`` (``pickle_module=dill`` and
    the like, as torch's ``UnpicklerWrapper(pickle_module.Unpickler)``)."""
    base = module.Unpickler
    cls = _FULL_UNPICKLERS.get(base)
    if cls is None:
        cls = _FULL_UNPICKLERS[base] = _make_full_unpickler(base)
    return cls


_OP = {k: v[0] for k, v in vars(pickle).items() if k.isupper() and isinstance(v, bytes)}


class _SafeUnpickler:
    """weights_only=True: a restricted pickle VM.

    Globals come only from the allow-list; REDUCE/NEWOBJ call only allowed globals; BUILD
    only touches OrderedDicts, parameters and allowed types; SETITEM(S)/APPEND(S)/ADDITEMS
    only touch plain containers. Opcodes that need arbitrary lookups (INST, OBJ, EXT*) are
    refused.
    """

    def __init__(self, file: IO[bytes], resolver: _Resolver, encoding: str = "ASCII") -> None:
        self.read = file.read
        self.readline = file.readline
        self._r = resolver
        self.encoding = encoding
        self.memo: dict[int, Any] = {}
        self.allowed = resolver.allowed_ids

    def _deny(self, msg: str) -> _UnsafeGlobalError:
        return _UnsafeGlobalError(f"Weights only load failed for {self._r.where}: {msg}")

    def _readn(self, n: int) -> bytes:
        b = self.read(n)
        if len(b) != n:
            raise EOFError("pickle data was truncated")
        return b

    def _memo_index(self, c: int, byte_op: int, long_op: int) -> int:
        """The memo index of a GET or PUT opcode ``c``: one byte after its BIN form
        (``byte_op``), a 4-byte little-endian int after its LONG_BIN form (``long_op``), a
        text line after the protocol-0 form."""
        if c == byte_op:
            return self._readn(1)[0]
        if c == long_op:
            return struct.unpack("<I", self._readn(4))[0]
        return int(self.readline()[:-1])

    def _pop_mark(self) -> list:
        items = self.stack
        if not self.metastack:
            raise pickle.UnpicklingError("could not find MARK")
        self.stack = self.metastack.pop()
        return items

    def _check_callable(self, func: Any) -> None:
        if id(func) not in self.allowed:
            raise self._deny(
                f"Trying to call reduce for unrecognized function {func!r}; only allow-listed "
                "globals may be called"
            )

    def load(self) -> Any:  # noqa: C901 - one branch per opcode is the clearest form
        self.stack: list[Any] = []
        self.metastack: list[list[Any]] = []
        op = _OP
        read, readn = self.read, self._readn
        while True:
            key = read(1)
            if not key:
                raise EOFError("pickle data was truncated")
            c = key[0]
            st = self.stack
            if c == op["PROTO"]:
                proto = readn(1)[0]
                if proto > pickle.HIGHEST_PROTOCOL:
                    raise pickle.UnpicklingError(f"unsupported pickle protocol: {proto}")
            elif c == op["FRAME"]:
                readn(8)
            elif c == op["STOP"]:
                if not st:
                    raise pickle.UnpicklingError("empty stack at STOP")
                return st.pop()
            elif c == op["MARK"]:
                self.metastack.append(st)
                self.stack = []
            elif c == op["POP"]:
                if st:
                    st.pop()
                else:
                    self._pop_mark()
            elif c == op["POP_MARK"]:
                self._pop_mark()
            elif c == op["DUP"]:
                st.append(st[-1])
            elif c == op["NONE"]:
                st.append(None)
            elif c == op["NEWTRUE"]:
                st.append(True)
            elif c == op["NEWFALSE"]:
                st.append(False)
            elif c == op["BININT"]:
                st.append(struct.unpack("<i", readn(4))[0])
            elif c == op["BININT1"]:
                st.append(readn(1)[0])
            elif c == op["BININT2"]:
                st.append(struct.unpack("<H", readn(2))[0])
            elif c == op["LONG1"]:
                n = readn(1)[0]
                st.append(pickle.decode_long(readn(n)))
            elif c == op["LONG4"]:
                n = struct.unpack("<i", readn(4))[0]
                if n < 0 or n > 1 << 20:
                    raise pickle.UnpicklingError("LONG4 too large")
                st.append(pickle.decode_long(readn(n)))
            elif c == op["INT"]:
                data = self.readline()[:-1]
                st.append(False if data == b"00" else True if data == b"01" else int(data))
            elif c == op["LONG"]:
                st.append(int(self.readline()[:-1].rstrip(b"L")))
            elif c == op["BINFLOAT"]:
                st.append(struct.unpack(">d", readn(8))[0])
            elif c == op["FLOAT"]:
                st.append(float(self.readline()[:-1]))
            elif c in (op["BINUNICODE"], op["SHORT_BINUNICODE"], op["BINUNICODE8"]):
                fmt = {op["BINUNICODE"]: "<I", op["SHORT_BINUNICODE"]: "<B"}.get(c, "<Q")
                n = struct.unpack(fmt, readn(struct.calcsize(fmt)))[0]
                st.append(str(readn(n), "utf-8", "surrogatepass"))
            elif c in (op["BINBYTES"], op["SHORT_BINBYTES"], op["BINBYTES8"]):
                fmt = {op["BINBYTES"]: "<I", op["SHORT_BINBYTES"]: "<B"}.get(c, "<Q")
                n = struct.unpack(fmt, readn(struct.calcsize(fmt)))[0]
                st.append(readn(n))
            elif c == op["BYTEARRAY8"]:
                n = struct.unpack("<Q", readn(8))[0]
                st.append(bytearray(readn(n)))
            elif c in (op["SHORT_BINSTRING"], op["BINSTRING"]):
                if c == op["SHORT_BINSTRING"]:
                    n = readn(1)[0]
                else:
                    n = struct.unpack("<i", readn(4))[0]
                    if n < 0:
                        raise pickle.UnpicklingError("BINSTRING pickle has negative byte count")
                data = readn(n)
                st.append(data if self.encoding == "bytes" else data.decode(self.encoding))
            elif c == op["UNICODE"]:
                st.append(str(self.readline()[:-1], "raw-unicode-escape"))
            elif c == op["EMPTY_TUPLE"]:
                st.append(())
            elif c == op["TUPLE"]:
                items = self._pop_mark()
                self.stack.append(tuple(items))
            elif c == op["TUPLE1"]:
                st[-1] = (st[-1],)
            elif c == op["TUPLE2"]:
                st[-2:] = [(st[-2], st[-1])]
            elif c == op["TUPLE3"]:
                st[-3:] = [(st[-3], st[-2], st[-1])]
            elif c == op["EMPTY_LIST"]:
                st.append([])
            elif c == op["LIST"]:
                items = self._pop_mark()
                self.stack.append(list(items))
            elif c == op["EMPTY_DICT"]:
                st.append({})
            elif c == op["DICT"]:
                items = self._pop_mark()
                self.stack.append({items[i]: items[i + 1] for i in range(0, len(items), 2)})
            elif c == op["EMPTY_SET"]:
                st.append(set())
            elif c == op["FROZENSET"]:
                items = self._pop_mark()
                self.stack.append(frozenset(items))
            elif c == op["APPEND"]:
                v = st.pop()
                if type(st[-1]) is not list:
                    raise self._deny(f"Can only append to lists, but got {type(st[-1])}")
                st[-1].append(v)
            elif c == op["APPENDS"]:
                items = self._pop_mark()
                target = self.stack[-1]
                if type(target) is not list:
                    raise self._deny(f"Can only extend lists, but got {type(target)}")
                target.extend(items)
            elif c == op["SETITEM"]:
                v = st.pop()
                k = st.pop()
                self._check_dict(st[-1])
                st[-1][k] = v
            elif c == op["SETITEMS"]:
                items = self._pop_mark()
                target = self.stack[-1]
                self._check_dict(target)
                for i in range(0, len(items), 2):
                    target[items[i]] = items[i + 1]
            elif c == op["ADDITEMS"]:
                items = self._pop_mark()
                target = self.stack[-1]
                if type(target) is not set:
                    raise self._deny(f"Can only add items to sets, but got {type(target)}")
                target.update(items)
            elif c in (op["BINGET"], op["LONG_BINGET"], op["GET"]):
                i = self._memo_index(c, op["BINGET"], op["LONG_BINGET"])
                if i not in self.memo:
                    raise pickle.UnpicklingError(f"Memo value not found at index {i}")
                st.append(self.memo[i])
            elif c in (op["BINPUT"], op["LONG_BINPUT"], op["PUT"]):
                self.memo[self._memo_index(c, op["BINPUT"], op["LONG_BINPUT"])] = st[-1]
            elif c == op["MEMOIZE"]:
                self.memo[len(self.memo)] = st[-1]
            elif c == op["GLOBAL"]:
                module = self.readline()[:-1].decode("utf-8")
                name = self.readline()[:-1].decode("utf-8")
                st.append(self._r.find_class_safe(module, name))
            elif c == op["STACK_GLOBAL"]:
                name = st.pop()
                module = st.pop()
                if type(name) is not str or type(module) is not str:
                    raise pickle.UnpicklingError("STACK_GLOBAL requires str")
                st.append(self._r.find_class_safe(module, name))
            elif c == op["REDUCE"]:
                args = st.pop()
                func = st[-1]
                self._check_callable(func)
                if type(args) is not tuple:
                    raise pickle.UnpicklingError("REDUCE arguments must be a tuple")
                st[-1] = func(*args)
            elif c in (op["NEWOBJ"], op["NEWOBJ_EX"]):
                kwargs = st.pop() if c == op["NEWOBJ_EX"] else {}
                args = st.pop()
                cls = st.pop()
                if not isinstance(cls, type) or id(cls) not in self.allowed:
                    raise self._deny(
                        "Can only create new objects of classes allow-listed via "
                        f"`add_safe_globals`, but got {cls!r}"
                    )
                st.append(cls.__new__(cls, *args, **kwargs))
            elif c == op["BUILD"]:
                state = st.pop()
                self._build(st[-1], state)
            elif c == op["BINPERSID"]:
                pid = st.pop()
                st.append(self._r.persistent_load(pid))
            else:
                name = next((k for k, v in op.items() if v == c), repr(key))
                raise self._deny(f"Unsupported pickle opcode {name}")

    def _check_dict(self, target: Any) -> None:
        if type(target) not in (dict, collections.OrderedDict, collections.Counter):
            raise self._deny(f"Can only set items of dicts, but got {type(target)}")

    def _build(self, inst: Any, state: Any) -> None:
        t = type(inst)
        if t is collections.OrderedDict:
            if not isinstance(state, dict):
                raise pickle.UnpicklingError("OrderedDict state must be a dict")
            inst.__dict__.update(state)
            return
        param = _parameter_cls()
        if (param is not None and t is param) or id(t) in {id(v) for v in self._r.user.values()}:
            setstate = getattr(inst, "__setstate__", None)
            if setstate is not None:
                setstate(state)
            else:  # what pickle's BUILD does without __setstate__
                _set_state(inst, state)
            return
        raise self._deny(
            f"Can only build OrderedDict, Parameter or types allow-listed via "
            f"`add_safe_globals`, but got {t}"
        )


# ---------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------


def _describe(f: Any) -> str:
    if isinstance(f, (str, os.PathLike)):
        return repr(os.fspath(f))
    name = getattr(f, "name", None)
    if isinstance(name, str):
        return repr(name)
    return f"<{type(f).__name__}>"


class _PickleArgs(NamedTuple):
    module: Any  # the pickle module of a weights_only=False load
    kwargs: dict[str, Any]  # torch.load's **pickle_load_args (encoding defaults to utf-8)


_TRUE_VALUES = ("1", "y", "yes", "true")


def _weights_only_and_module(weights_only: bool | None, pickle_module: Any) -> tuple[bool, Any]:
    """torch.load's choice: ``weights_only`` defaults to True only when no ``pickle_module`` is
    given; ``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` forces it on, ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``
    turns it off where the call did not pass ``weights_only`` (with torch's warning); both set
    is an error. A weights_only load refuses an explicit ``pickle_module``."""
    not_set = weights_only is None
    if not_set:
        weights_only = pickle_module is None
    force = os.getenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in _TRUE_VALUES
    force_no = os.getenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0").lower() in _TRUE_VALUES
    if force and force_no:
        raise RuntimeError(
            "Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` "
            "should be set, but both were set."
        )
    if force:
        weights_only = True
    elif force_no and not_set:
        _warnings.warn(
            "Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since the"
            "`weights_only` argument was not explicitly passed to `torch.load`, forcing "
            "weights_only=False.",
            UserWarning,
        )
        weights_only = False
    if weights_only:
        if pickle_module is not None:
            raise RuntimeError(
                "Can not safely load weights when explicit pickle_module is specified"
            )
    elif pickle_module is None:
        pickle_module = pickle
    return bool(weights_only), pickle_module


def load(
    f: FileLike,
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
    **pickle_load_args: Any,
) -> Any:
    """Load an object saved by ``ctorch.save`` or ``torch.save``.

    ``weights_only=True`` (the default) refuses any global outside the allow-list (tensors,
    state dicts, containers, dtypes, Size, device, plus ``add_safe_globals``); pass
    ``weights_only=False`` only for trusted files (whole pickled models). As torch: passing a
    ``pickle_module`` makes the default False and unpickles through ``pickle_module.Unpickler``;
    ``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` / ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` (1/y/yes/true)
    override the choice; ``**pickle_load_args`` go to that unpickler (``encoding`` defaults to
    utf-8; a weights_only load uses only ``encoding``, with torch's warning).
    ``map_location``: None, "cpu", "cuda[:N]", a ``ctorch.device``, a dict mapping saved
    locations to new ones, or ``callable(storage, location)``.
    ``mmap=True`` maps the storages of an on-disk file copy-on-write instead of reading them.
    """
    weights_only, pickle_module = _weights_only_and_module(weights_only, pickle_module)
    if pickle_load_args and weights_only:
        _warnings.warn("pickle_load_args only works if `weights_only=False`.")
    if not (
        map_location is None
        or isinstance(map_location, (str, bytes, dict, _device_cls))
        or callable(map_location)
    ):
        raise TypeError(f"ctorch.load: unsupported map_location {map_location!r}")
    pickle_load_args.setdefault("encoding", "utf-8")  # torch's default
    pargs = _PickleArgs(pickle_module, pickle_load_args)
    where = _describe(f)
    path: str | None = None
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        with open(path, "rb") as fh:
            return _load_stream(fh, where, path, map_location, bool(weights_only), mmap, pargs)
    if not hasattr(f, "read"):
        raise TypeError(f"ctorch.load: expected a path or a binary file object, got {f!r}")
    fh2: Any = f
    if not (hasattr(f, "seekable") and f.seekable()):
        fh2 = io.BytesIO(f.read())
    elif mmap:
        name = getattr(f, "name", None)
        path = name if isinstance(name, str) and os.path.isfile(name) else None
    return _load_stream(fh2, where, path, map_location, bool(weights_only), mmap, pargs)


def _load_stream(
    fh: Any,
    where: str,
    path: str | None,
    map_location: Any,
    weights_only: bool,
    mmap: bool | None,
    pargs: _PickleArgs,
) -> Any:
    start = fh.tell()
    head = fh.read(512)
    fh.seek(start)
    if not head:
        raise RuntimeError(f"ctorch.load: {where} is empty (0 bytes); nothing to load")
    try:
        if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            return _load_zip(fh, where, path, map_location, weights_only, mmap, pargs)
        if mmap:
            raise RuntimeError(
                f"ctorch.load: mmap=True needs a file saved in the zip format; {where} is not one"
            )
        if len(head) >= 262 and head[257:262] == b"ustar":
            raise RuntimeError(
                f"ctorch.load: {where} is in PyTorch's pre-0.4 tar format, which ctorch does "
                "not read; re-save it with a current torch.save"
            )
        if head[:1] == b"\x80" or head[:1] in (b"\x8a", b"("):
            return _load_legacy(fh, where, map_location, weights_only, pargs)
    except _UnsafeGlobalError:
        raise
    except _LoadError as e:
        raise RuntimeError(f"ctorch.load: {e}") from None
    raise RuntimeError(
        f"ctorch.load: {where} is not a PyTorch/ctorch checkpoint (it starts with "
        f"{head[:8]!r}, not a zip archive or a pickle)"
    )


def _corrupt(where: str, what: str, e: BaseException) -> RuntimeError:
    return RuntimeError(f"ctorch.load: {where} is corrupted or truncated ({what}: {e})")


_CORRUPTION = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    struct.error,
    UnicodeDecodeError,
    zipfile.BadZipFile,
    zlib.error,
    OverflowError,
    MemoryError,
)


def _run_unpickler(
    stream: IO[bytes], resolver: _Resolver, weights_only: bool, pargs: _PickleArgs, what: str
) -> Any:
    try:
        if weights_only:
            encoding = pargs.kwargs.get("encoding", "utf-8")
            return _SafeUnpickler(stream, resolver, encoding=encoding).load()
        return _full_unpickler(pargs.module)(stream, resolver, **pargs.kwargs).load()
    except (_UnsafeGlobalError, _LoadError):
        raise
    except RecursionError as e:
        raise _corrupt(resolver.where, what, e) from e
    except _CORRUPTION as e:
        if not weights_only and not isinstance(e, (pickle.UnpicklingError, EOFError)):
            raise  # an exception from trusted user code: let it through unchanged
        raise _corrupt(resolver.where, what, e) from e


def _load_zip(
    fh: Any,
    where: str,
    path: str | None,
    map_location: Any,
    weights_only: bool,
    mmap: bool | None,
    pargs: _PickleArgs,
) -> Any:
    try:
        zf = zipfile.ZipFile(fh, "r")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise _corrupt(where, "not a readable zip archive", e) from e
    with zf:
        infos = {i.filename: i for i in zf.infolist()}
        pkl_name = next((n for n in infos if n.endswith("/data.pkl") and n.count("/") == 1), None)
        if pkl_name is None:
            if "data.pkl" in infos:
                pkl_name = "data.pkl"
            elif any(n.endswith("/constants.pkl") for n in infos):
                raise RuntimeError(
                    f"ctorch.load: {where} is a TorchScript archive (torch.jit.save), which "
                    "ctorch cannot load"
                )
            else:
                raise RuntimeError(
                    f"ctorch.load: {where} is a zip archive but not a PyTorch/ctorch checkpoint "
                    "(no <archive>/data.pkl record)"
                )
        prefix = pkl_name[: -len("data.pkl")]

        def read_small(name: str) -> bytes | None:
            info = infos.get(prefix + name)
            if info is None:
                return None
            try:
                return zf.read(info)
            except (zipfile.BadZipFile, OSError, zlib.error, EOFError) as e:
                raise _corrupt(where, f"record {info.filename}", e) from e

        byteorder = (read_small("byteorder") or b"little").strip()
        if byteorder == b"big":
            raise RuntimeError(
                f"ctorch.load: {where} was written on a big-endian machine; ctorch reads "
                "little-endian checkpoints only"
            )
        if byteorder != b"little":
            raise _corrupt(where, "byteorder record", ValueError(repr(byteorder)))
        version = read_small("version") or read_small(".data/version")
        if version is not None:
            try:
                v = int(version.strip())
            except ValueError as e:
                raise _corrupt(where, "version record", e) from e
            if v > 3:
                raise RuntimeError(
                    f"ctorch.load: {where} uses archive format version {v}; ctorch reads "
                    "versions up to 3"
                )
        mm = None
        if mmap:
            if path is None:
                raise RuntimeError(
                    "ctorch.load: mmap=True needs f to be a file path (or a file object with a "
                    "name on disk)"
                )
            mm = np.memmap(path, dtype=np.uint8, mode="c")

        def read_record(key: str, nbytes: int) -> np.ndarray:
            name = f"{prefix}data/{key}"
            info = infos.get(name)
            if info is None:
                raise _LoadError(f"{where} has no storage record {name} (file corrupted)")
            if info.file_size < nbytes:
                raise _LoadError(
                    f"storage record {name} of {where} holds {info.file_size} bytes but its "
                    f"tensors need {nbytes} (file truncated or corrupted)"
                )
            if mm is not None and info.compress_type == zipfile.ZIP_STORED:
                off = _record_data_offset(fh, info)
                if off + nbytes > mm.size:
                    raise _LoadError(f"storage record {name} runs past the end of {where}")
                out = mm[off : off + nbytes].view(np.ndarray)
            elif info.compress_type == zipfile.ZIP_STORED and hasattr(fh, "readinto"):
                # fast path: one readinto straight into the array (like torch, no CRC check)
                off = _record_data_offset(fh, info)
                out = np.empty(nbytes, dtype=np.uint8)
                pos = fh.tell()
                try:
                    fh.seek(off)
                    got = fh.readinto(memoryview(out))
                finally:
                    fh.seek(pos)
                if got != nbytes:
                    raise _LoadError(
                        f"storage record {name} of {where} ends early ({got} of {nbytes} bytes; "
                        "file truncated)"
                    )
            else:
                out = np.empty(nbytes, dtype=np.uint8)
                mv = memoryview(out)
                try:
                    with zf.open(info) as r:
                        pos = 0
                        while pos < nbytes:
                            chunk = r.read(min(_CHUNK, nbytes - pos))
                            if not chunk:
                                raise EOFError("record ended early")
                            mv[pos : pos + len(chunk)] = chunk
                            pos += len(chunk)
                except (zipfile.BadZipFile, OSError, zlib.error, EOFError) as e:
                    raise _LoadError(f"cannot read storage record {name} of {where}: {e}") from e
            return out

        try:
            pkl = zf.read(infos[pkl_name])
        except (zipfile.BadZipFile, OSError, zlib.error, EOFError) as e:
            raise _corrupt(where, f"record {pkl_name}", e) from e
        resolver = _Resolver(where, weights_only, map_location, read_record)
        return _run_unpickler(io.BytesIO(pkl), resolver, weights_only, pargs, pkl_name)


def _record_data_offset(fh: Any, info: zipfile.ZipInfo) -> int:
    pos = fh.tell()
    try:
        fh.seek(info.header_offset)
        h = fh.read(30)
    finally:
        fh.seek(pos)
    if len(h) != 30 or h[:4] != b"PK\x03\x04":
        raise _LoadError(f"bad local header for record {info.filename}")
    n, e = struct.unpack("<HH", h[26:30])
    return info.header_offset + 30 + n + e


def _load_legacy(
    fh: Any, where: str, map_location: Any, weights_only: bool, pargs: _PickleArgs
) -> Any:
    """The pre-1.6 format: magic, protocol, sys_info, the object, storage keys, raw storages."""
    resolver = _Resolver(where, weights_only, map_location, None)

    def small() -> Any:
        return _run_unpickler(fh, resolver, True, pargs, "legacy header")

    magic = small()
    if magic != MAGIC_NUMBER:
        raise RuntimeError(
            f"ctorch.load: {where} is not a PyTorch/ctorch checkpoint: it is a pickle but not "
            "in the zip format, and lacks the legacy format's magic number (a plain pickle, "
            "or a corrupted file?)"
        )
    proto = small()
    if proto != PROTOCOL_VERSION:
        raise RuntimeError(f"ctorch.load: {where}: invalid legacy protocol version {proto!r}")
    sys_info = small()
    if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
        raise RuntimeError(f"ctorch.load: {where} was written big-endian; not supported")
    result = _run_unpickler(fh, resolver, weights_only, pargs, "legacy pickle")
    keys = small()
    if not isinstance(keys, list):
        raise _corrupt(where, "legacy storage list", TypeError(type(keys).__name__))
    for key in keys:
        s = resolver.storages.get(str(key))
        if s is None:
            raise _corrupt(where, "legacy storage list", KeyError(key))
        if s.device != "cpu":
            raise RuntimeError(
                f"ctorch.load: {where} is in the legacy format; ctorch loads those to the CPU "
                "only: pass map_location='cpu' and move the tensors afterwards"
            )
        hdr = fh.read(8)
        if len(hdr) != 8:
            raise _corrupt(where, f"legacy storage {key}", EOFError("truncated"))
        (count,) = struct.unpack("<q", hdr)
        itemsize = np.dtype(_TORCH_DTYPE_NP[s.dtype_name or "uint8"] or "|u1").itemsize
        nbytes = count * itemsize
        if nbytes != s.raw.size:
            raise _corrupt(
                where,
                f"legacy storage {key}",
                ValueError(f"{nbytes} bytes recorded, {s.raw.size} expected"),
            )
        mv = memoryview(s.raw)
        got = fh.readinto(mv) if hasattr(fh, "readinto") else None
        if got is None:
            data = fh.read(nbytes)
            got = len(data)
            mv[:got] = data
        if got != nbytes:
            raise _corrupt(where, f"legacy storage {key}", EOFError("truncated"))
    return result


if sys.byteorder != "little":  # pragma: no cover - every supported platform is little-endian
    raise ImportError("ctorch.serialization supports little-endian machines only")
