"""ctorch dtypes: torch's names, aliases and type-promotion rules over NumPy dtypes."""

from __future__ import annotations

import builtins as _builtins
import math

import ml_dtypes as _ml_dtypes
import numpy as np

from . import _display

__all__ = [
    "dtype",
    "float32",
    "float64",
    "float16",
    "bfloat16",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
    "complex64",
    "complex128",
    "get_default_dtype",
    "set_default_dtype",
    "promote_types",
    "result_type",
    "to_numpy_dtype",
    "from_numpy_dtype",
]

# category: 0 bool, 1 integer, 2 floating, 3 complex
_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3
_pybool = _builtins.bool


class dtype:
    """A tensor element type (like ``torch.dtype``); wraps one NumPy dtype."""

    __slots__ = ("_name", "_np", "_cat", "is_floating_point", "is_complex", "is_signed", "itemsize")

    def __init__(self, name: str, np_dtype, cat: int) -> None:
        self._name = name
        self._np = np.dtype(np_dtype) if np_dtype is not None else None
        self._cat = cat
        self.is_floating_point = cat == _FLOAT
        self.is_complex = cat == _COMPLEX
        self.is_signed = name not in ("uint8", "uint16", "uint32", "uint64", "bool")
        self.itemsize = self._np.itemsize if self._np is not None else 2

    def __repr__(self) -> str:
        return f"{_display.prefix}{self._name}"

    def __reduce__(self):
        return (_dtype_by_name, (self._name,))

    def to_real(self) -> dtype:
        return {"complex64": float32, "complex128": float64}.get(self._name, self)

    def to_complex(self) -> dtype:
        # torch: bfloat16 -> complex64; float16 -> complex32, which ctorch does not have:
        # complex64 (a documented difference, docs/compat.md)
        return {
            "float32": complex64,
            "float64": complex128,
            "bfloat16": complex64,
            "float16": complex64,
        }.get(self._name, self)


float32 = dtype("float32", np.float32, _FLOAT)
float64 = dtype("float64", np.float64, _FLOAT)
float16 = dtype("float16", np.float16, _FLOAT)
# bfloat16 storage is ml_dtypes' NumPy extension type (the one JAX uses)
bfloat16 = dtype("bfloat16", _ml_dtypes.bfloat16, _FLOAT)
int8 = dtype("int8", np.int8, _INT)
int16 = dtype("int16", np.int16, _INT)
int32 = dtype("int32", np.int32, _INT)
int64 = dtype("int64", np.int64, _INT)
uint8 = dtype("uint8", np.uint8, _INT)
# torch's "shell" unsigned dtypes (torch 2.3+): storage, casts, indexing and a few ops in
# torch; ctorch computes more of them through NumPy (docs/compat.md, "uint16/uint32/uint64")
uint16 = dtype("uint16", np.uint16, _INT)
uint32 = dtype("uint32", np.uint32, _INT)
uint64 = dtype("uint64", np.uint64, _INT)
bool = dtype("bool", np.bool_, _BOOL)  # noqa: A001 - torch.bool
complex64 = dtype("complex64", np.complex64, _COMPLEX)
complex128 = dtype("complex128", np.complex128, _COMPLEX)

_ALL = [
    float32,
    float64,
    float16,
    bfloat16,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
    bool,
    complex64,
    complex128,
]
_BY_NAME = {d._name: d for d in _ALL}
_BY_NP = {d._np: d for d in _ALL if d._np is not None}
#: the unsigned dtypes torch only half supports (its "barebones" uint16/uint32/uint64)
_SHELL_UINTS = frozenset((uint16, uint32, uint64))


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


def to_numpy_dtype(dt: dtype) -> np.dtype:
    if dt._np is None:
        raise TypeError(f"ctorch: dtype {dt} has no NumPy storage and is not supported")
    return dt._np


def from_numpy_dtype(npdt) -> dtype:
    try:
        return _BY_NP[np.dtype(npdt)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{_np_type_name(npdt)}. The only supported "
            "types are: "
            "float64, float32, float16, bfloat16, complex64, complex128, int64, int32, int16, int8, "
            "uint64, uint32, uint16, uint8, and bool."
        ) from None


def _np_type_name(npdt) -> str:
    try:
        return np.dtype(npdt).type.__name__  # as torch spells it: numpy.longdouble, numpy.str_
    except TypeError:
        return str(npdt)


_default = [float32]


def get_default_dtype() -> dtype:
    """The default floating dtype (float32 unless changed)."""
    return _default[0]


def set_default_dtype(d: dtype) -> None:
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(
            f"set_default_dtype: only floating-point types are supported as the default type, "
            f"got {d}"
        )
    _default[0] = d


# torch's ScalarType names by dtype name (as torch's error messages spell dtypes)
SCALAR_TYPE_NAMES = {
    "float32": "Float",
    "float64": "Double",
    "float16": "Half",
    "bfloat16": "BFloat16",
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "uint16": "UInt16",
    "uint32": "UInt32",
    "uint64": "UInt64",
    "bool": "Bool",
    "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
}


def promote_types(a: dtype, b: dtype) -> dtype:
    """torch.promote_types: the smallest dtype both can be cast to.

    uint16/uint32/uint64 promote only with themselves and with the floating dtypes (the
    float wins); any other pair holding one of them raises torch's RuntimeError (torch
    2.13 has no promotion rule for them, and ctorch follows it rather than invent one)."""
    if a is b:
        return a
    if (a in _SHELL_UINTS or b in _SHELL_UINTS) and a._cat != _FLOAT and b._cat != _FLOAT:
        raise RuntimeError(
            "Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
            f"{SCALAR_TYPE_NAMES[a._name]} and {SCALAR_TYPE_NAMES[b._name]}"
        )
    return _promote(a, b)


def _promote(a: dtype, b: dtype) -> dtype:
    """promote_types without the unsigned check: the category order alone decides a pair of
    different categories (the uint16 tensor * complex 0-d tensor of result_type)."""
    if a is b:
        return a
    if a._cat != b._cat:
        hi, lo = (a, b) if a._cat > b._cat else (b, a)
        if hi._cat == _COMPLEX and lo is float64:
            return complex128
        return hi
    return _BY_NP[np.promote_types(a._np, b._np)]


def dtype_name(s: str) -> str:
    """``"torch.float32"``/``"ctorch.float32"``/``"float32"`` -> ``"float32"``."""
    return s.removeprefix("ctorch.").removeprefix("torch.")


def _as_dtype(d) -> dtype:
    """Accept ctorch dtypes, NumPy dtypes/types, Python types and names."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return float64
    if d is int:
        return int64
    if d is _pybool:
        return bool
    if isinstance(d, str):
        name = dtype_name(d)
        name = _ALIASES.get(name, name)
        if name in _BY_NAME:
            return _BY_NAME[name]
    try:
        return from_numpy_dtype(d)
    except TypeError:
        raise TypeError(f"ctorch: cannot interpret {d!r} as a dtype") from None


_ALIASES = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "long": "int64",
    "int": "int32",
    "short": "int16",
    "cfloat": "complex64",
    "cdouble": "complex128",
}


_C_INT_NAMES = {
    "uint8": "uint8_t",
    "int8": "int8_t",
    "int16": "int16_t",
    "uint16": "uint16_t",
    "int32": "int",
    "uint32": "uint32_t",
    "int64": "int64_t",
    "uint64": "uint64_t",
}


def _int_range(v, dt):
    """np.iinfo of ``dt`` when ``v`` is a Python int outside it (the two conversions below
    have work to do), else None."""
    if type(v) is not int or dt.kind not in "iu":
        return None
    info = _iinfo(dt)
    return None if info.min <= v <= info.max else info


_IINFO: dict = {}


def _iinfo(dt):
    """np.iinfo(dt) of an integer dtype, cached (np.iinfo costs ~2 us a call)."""
    info = _IINFO.get(dt)
    if info is None:
        info = _IINFO[dt] = np.iinfo(dt)
    return info


def _check_parser_int(v) -> None:
    """torch's argument parser refuses a Python int outside [-2**63, 2**64), whatever the
    dtype it goes to: its OverflowError."""
    if type(v) is int and not -(2**63) <= v < 2**64:
        if v < 0:
            raise OverflowError("can't convert negative int to unsigned")
        raise OverflowError("int too big to convert")


def wrap_int(v, dt):
    """A Python int operand of an integer-dtype op, as torch casts it: to ``dt`` with
    wrap-around when it lies outside ``dt``'s range (``uint8 + -1`` is 255 - 1 = 254,
    ``int8 > 200`` compares with -56), where NumPy 2 refuses it (OverflowError). ``v`` as it
    is when it fits or ``dt`` is not an integer dtype; outside [-2**63, 2**64), whatever the
    dtype (a float one too), the OverflowError of torch's argument parser."""
    _check_parser_int(v)
    if _int_range(v, dt) is None:
        return v
    return np.array(v & 0xFFFFFFFFFFFFFFFF, np.uint64).astype(dt)[()]


_C_FLOAT_LIMITS = {
    np.dtype(np.float16): ("c10::Half", 65504.0),
    np.dtype(_ml_dtypes.bfloat16): ("c10::BFloat16", 3.3895313892515355e38),
    np.dtype(np.float32): ("float", 3.4028234663852886e38),
    np.dtype(np.float64): ("double", 1.7976931348623157e308),
}


def _check_float_range(v, dt) -> None:
    """torch's refusal (c10's ``overflows``) to store a finite Python number beyond a
    floating dtype's largest value (``fill_(1e39)`` on float32) where a cast would give inf;
    inf and NaN themselves are stored."""
    if -65504.0 <= v <= 65504.0:  # within every floating dtype (the common case, cheaply)
        return
    spec = _C_FLOAT_LIMITS.get(dt)
    if spec is not None and abs(v) > spec[1] and (type(v) is int or abs(v) != math.inf):
        raise RuntimeError(f"value cannot be converted to type {spec[0]} without overflow")


def checked_int(v, dt):
    """A Python int stored into an integer NumPy dtype ``dt`` (``fill_``, ``full``, item
    assignment) as torch converts it: as it is within ``dt``'s range; for an unsigned ``dt``
    also a negative value down to -max, wrapped by two's complement (uint8 -1 is 255, as
    c10's ``overflows`` allows); else torch's overflow error.  Anything else (floats, bool
    dtypes) comes back unchanged. A Python number into a floating ``dt`` past its range
    raises as torch does (``_check_float_range``)."""
    _check_parser_int(v)
    if dt.kind in "fV" and (type(v) is float or type(v) is int):
        _check_float_range(v, dt)
        return v
    if type(v) is float and dt.kind in "iu":
        # c10's overflows() for a double into an integer type, compared in double: NaN, inf
        # and values past the range (for an unsigned type any negative one) are refused;
        # the rest truncate toward zero, as NumPy's cast does
        info = _iinfo(dt)
        if v == v and float(info.min) <= v <= float(info.max):
            return v
        name = _C_INT_NAMES.get(dt.name, dt.name)
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")
    info = _int_range(v, dt)
    if info is None:
        return v
    if info.min == 0 and -info.max <= v < 0:
        return v & info.max
    name = _C_INT_NAMES.get(dt.name, dt.name)
    raise RuntimeError(f"value cannot be converted to type {name} without overflow")


def result_type(*operands) -> dtype:
    """torch.result_type over tensors and Python scalars.

    Dimensioned tensors outrank 0-d tensors, which outrank Python scalars: a lower-ranked
    operand changes the result only when its category (bool < int < float < complex) is
    higher. A Python float with an integer tensor gives the default dtype.
    """
    from ._tensor import Tensor

    dim_r = zero_r = wrap_r = None
    for o in operands:
        if isinstance(o, Tensor):
            d = o.dtype
            if o._a.ndim:
                dim_r = d if dim_r is None else promote_types(dim_r, d)
            else:
                zero_r = d if zero_r is None else promote_types(zero_r, d)
        else:
            d = _scalar_dtype(o)
            wrap_r = d if wrap_r is None else promote_types(wrap_r, d)
    r = dim_r
    for other in (zero_r, wrap_r):
        if other is None:
            continue
        if r is None:
            r = other
        elif other._cat > r._cat:
            if other is wrap_r and other._cat == _FLOAT:
                r = get_default_dtype() if r._cat < _FLOAT else r
            elif other is wrap_r and other._cat == _COMPLEX:
                # a Python complex keeps a float tensor's width (float64 -> complex128)
                r = (r if r._cat == _FLOAT else get_default_dtype()).to_complex()
            elif other._cat == _COMPLEX and r._cat == _FLOAT:
                r = r.to_complex()  # torch's combine_categories keeps the float's width
            elif r is bool:
                r = promote_types(r, other)  # bool tensor, uint16 0-d: torch's error
            else:
                # an integer tensor, a 0-d tensor of a higher category: torch's
                # combine_categories takes the latter as it is (no promotion rule, so a
                # uint16 tensor * complex128 0-d tensor is complex128 in torch too)
                r = _promote(r, other)
    if r is None:
        raise TypeError("result_type: no operands")
    return r


def _scalar_dtype(s) -> dtype:
    t = type(s)
    if t is float:
        return float64
    if t is int:
        return int64
    if t is _pybool:
        return bool
    if t is complex:
        return complex128
    if isinstance(s, np.generic):
        return from_numpy_dtype(s.dtype)
    if isinstance(s, np.ndarray):
        return from_numpy_dtype(s.dtype)
    raise TypeError(f"unsupported operand type {t.__name__}")
