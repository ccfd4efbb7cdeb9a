"""Attaches the op functions to ``Tensor`` as methods, operators and in-place variants."""

from __future__ import annotations

import math

import numpy as np

from . import _dtype as D
from ._backend import xp_of
from ._tensor import Tensor
from .autograd import inplace as IP
from .autograd.grad_mode import state
from .ops import arithmetic as A
from .ops import compare as CMP
from .ops import conversion as C
from .ops import division as DV
from .ops import einsum as E
from .ops import extrema as EX
from .ops import indexing as I
from .ops import join as J
from .ops import linalg as L
from .ops import math_nodes as MN
from .ops import rearrange as RA
from .ops import reduction as R
from .ops import scan as SC
from .ops import shape as S
from .ops import softmax as SM
from .ops import sorting as SO
from .ops import subscript as SB
from .ops import unary as U
from .ops import write_nodes as WN
from .ops._util import dims_outer_to_inner, sum_to_shape

_wrap = Tensor._make


def attach(T) -> None:
    # ---------------------------------------------------------------- operators
    T.__add__ = lambda s, o: A.add(s, o)
    T.__radd__ = lambda s, o: A.add(s, o)
    T.__sub__ = lambda s, o: A.sub(s, o)
    T.__rsub__ = _rsub
    T.__mul__ = lambda s, o: A.mul(s, o)
    T.__rmul__ = lambda s, o: A.mul(s, o)
    T.__truediv__ = lambda s, o: DV.div(s, o)
    T.__rtruediv__ = _rdiv
    T.__floordiv__ = lambda s, o: DV.floor_divide(s, o)
    T.__rfloordiv__ = lambda s, o: DV.floor_divide(_lift(o, s), s)
    T.__mod__ = lambda s, o: DV.remainder(s, o)
    T.__rmod__ = lambda s, o: DV.remainder(_lift(o, s), s)
    T.__pow__ = lambda s, o: A.pow(s, o)
    T.__rpow__ = lambda s, o: A.pow(o, s)
    T.__matmul__ = lambda s, o: L.matmul(s, o) if type(o) is Tensor else _matmul_lifted(s, o, 0)
    T.__rmatmul__ = lambda s, o: L.matmul(o, s) if type(o) is Tensor else _matmul_lifted(s, o, 1)
    T.__neg__ = lambda s: U.neg(s)
    T.__pos__ = lambda s: s
    T.__abs__ = lambda s: U.abs(s)
    T.__invert__ = lambda s: CMP.logical_not(s) if s._a.dtype == np.bool_ else CMP.bitwise_not(s)
    T.__and__ = lambda s, o: CMP.bitwise_and(s, o)
    T.__rand__ = lambda s, o: CMP.bitwise_and(s, o)
    T.__or__ = lambda s, o: CMP.bitwise_or(s, o)
    T.__ror__ = lambda s, o: CMP.bitwise_or(s, o)
    T.__xor__ = lambda s, o: CMP.bitwise_xor(s, o)
    T.__rxor__ = lambda s, o: CMP.bitwise_xor(s, o)
    T.__eq__ = lambda s, o: CMP.eq(s, o) if _cmp_ok(o) else NotImplemented
    T.__ne__ = lambda s, o: CMP.ne(s, o) if _cmp_ok(o) else NotImplemented
    T.__lt__ = lambda s, o: CMP.lt(s, o)
    T.__le__ = lambda s, o: CMP.le(s, o)
    T.__gt__ = lambda s, o: CMP.gt(s, o)
    T.__ge__ = lambda s, o: CMP.ge(s, o)
    T.__iadd__ = lambda s, o: A.binary_inplace(s, A.ADD, o, "add_")
    T.__isub__ = lambda s, o: A.binary_inplace(s, A.SUB, o, "sub_")
    T.__imul__ = lambda s, o: A.binary_inplace(s, A.MUL, o, "mul_")
    T.__itruediv__ = lambda s, o: A.binary_inplace(s, A.DIV, o, "div_")
    T.__ipow__ = lambda s, o: A.binary_inplace(s, A.POW, o, "pow_")
    T.__ifloordiv__ = lambda s, o: IP.inplace(s, "floor_divide_", lambda: DV.floor_divide(s, o), o)
    T.__imod__ = lambda s, o: IP.inplace(s, "remainder_", lambda: DV.remainder(s, o), o)
    T.__iand__ = lambda s, o: IP.inplace(s, "bitwise_and_", lambda: CMP.bitwise_and(s, o), o)
    T.__ior__ = lambda s, o: IP.inplace(s, "bitwise_or_", lambda: CMP.bitwise_or(s, o), o)
    T.__ixor__ = lambda s, o: IP.inplace(s, "bitwise_xor_", lambda: CMP.bitwise_xor(s, o), o)
    T.__getitem__ = SB.getitem
    T.__setitem__ = SB.setitem

    # ---------------------------------------------------------------- plain methods
    plain = {
        # arithmetic
        "floor_divide": DV.floor_divide,
        "remainder": DV.remainder,
        "fmod": DV.fmod,
        "float_power": A.float_power,
        "fmax": A.fmax,
        "fmin": A.fmin,
        "eq": CMP.eq,
        "ne": CMP.ne,
        "lt": CMP.lt,
        "le": CMP.le,
        "gt": CMP.gt,
        "ge": CMP.ge,
        "not_equal": CMP.ne,
        "less": CMP.lt,
        "less_equal": CMP.le,
        "greater": CMP.gt,
        "greater_equal": CMP.ge,
        "equal": CMP.equal,
        "logical_and": CMP.logical_and,
        "logical_or": CMP.logical_or,
        "logical_xor": CMP.logical_xor,
        "logical_not": CMP.logical_not,
        "bitwise_and": CMP.bitwise_and,
        "bitwise_or": CMP.bitwise_or,
        "bitwise_xor": CMP.bitwise_xor,
        "bitwise_not": CMP.bitwise_not,
        "clamp": CMP.clamp,
        "clip": CMP.clamp,
        "clamp_min": CMP.clamp_min,
        "clamp_max": CMP.clamp_max,
        "where": lambda s, cond, other: CMP.where(cond, s, other),
        "rsub": A.rsub,
        # unary
        "isnan": U.isnan,
        "isinf": U.isinf,
        "isfinite": U.isfinite,
        "isposinf": U.isposinf,
        "isneginf": U.isneginf,
        "nan_to_num": U.nan_to_num,
        "logit": U.logit,
        "softplus": U.softplus,
        "silu": U.silu,
        "mish": U.mish,
        "gelu": U.gelu,
        # reductions
        "sum": R.sum,
        "nansum": R.nansum,
        "mean": R.mean,
        "nanmean": R.nanmean,
        "prod": R.prod,
        "max": EX.max,
        "min": EX.min,
        "amax": EX.amax,
        "amin": EX.amin,
        "aminmax": EX.aminmax,
        "argmax": EX.argmax,
        "argmin": EX.argmin,
        "var": R.var,
        "std": R.std,
        "logsumexp": SM.logsumexp,
        "norm": R.norm,
        "dist": MN.dist,
        "all": R.all,
        "any": R.any,
        "count_nonzero": R.count_nonzero,
        "cumsum": SC.cumsum,
        "cumprod": SC.cumprod,
        "logcumsumexp": SC.logcumsumexp,
        "softmax": SM.softmax,
        "log_softmax": SM.log_softmax,
        # shape
        "view": S.view,
        "view_as": S.view_as,
        "reshape": S.reshape,
        "reshape_as": S.reshape_as,
        "flatten": S.flatten,
        "unflatten": S.unflatten,
        "transpose": S.transpose,
        "swapaxes": S.transpose,
        "swapdims": S.transpose,
        "t": S.t,
        "permute": S.permute,
        "movedim": S.movedim,
        "moveaxis": S.movedim,
        "adjoint": S.adjoint,
        "squeeze": S.squeeze,
        "unsqueeze": S.unsqueeze,
        "expand": S.expand,
        "expand_as": S.expand_as,
        "broadcast_to": S.broadcast_to_method,
        "narrow": S.narrow,
        "contiguous": S.contiguous,
        "clone": S.clone,
        "split": J.split,
        "tensor_split": J.tensor_split,
        "chunk": J.chunk,
        "unbind": J.unbind,
        "select": S.select,
        "flip": RA.flip,
        "fliplr": RA.fliplr,
        "flipud": RA.flipud,
        "roll": RA.roll,
        "rot90": RA.rot90,
        "repeat": RA.repeat,
        "tile": RA.tile,
        "repeat_interleave": RA.repeat_interleave,
        "tril": RA.tril,
        "triu": RA.triu,
        "diagonal": RA.diagonal,
        "diag": RA.diag,
        "diag_embed": RA.diag_embed,
        "trace": RA.trace,
        # indexing
        "gather": I.gather,
        "scatter": I.scatter,
        "scatter_add": I.scatter_add,
        "scatter_reduce": I.scatter_reduce,
        "index_select": I.index_select,
        "index_add": I.index_add,
        "index_fill": WN.index_fill,
        "index_copy": WN.index_copy,
        "index_put": SB.index_put,
        "masked_fill": SB.masked_fill,
        "masked_select": SB.masked_select,
        "masked_scatter": WN.masked_scatter,
        "take": SB.take,
        "take_along_dim": SB.take_along_dim,
        "nonzero": SB.nonzero,
        "argwhere": SB.argwhere,
        "sort": SO.sort,
        "argsort": SO.argsort,
        "msort": SO.msort,
        "topk": SO.topk,
        "kthvalue": SO.kthvalue,
        "median": SO.median,
        "nanmedian": SO.nanmedian,
        "put": WN.put,
        "unique": SO.unique,
        "bincount": SO.bincount,
        # linalg
        "matmul": L.matmul,
        "mm": L.mm,
        "bmm": L.bmm,
        "mv": L.mv,
        "dot": L.dot,
        "inner": L.inner,
        "vdot": L.vdot,
        "outer": L.outer,
        "ger": L.outer,
        "addmm": L.addmm,
        "addmv": L.addmv,
        "baddbmm": L.baddbmm,
        # conversion
        "to": C.to,
        "type": C.type_,
        "type_as": C.type_as,
    }
    for name, fn in plain.items():
        setattr(T, name, fn)
    # every op of the table with a torch name: method, aliases, in-place variant
    table_ops = _table_methods()
    for name, fn in table_ops.items():
        setattr(T, name, fn)

    # ---------------------------------------------------------------- in-place variants
    def _mk_inplace(name, fn):
        top = getattr(fn, "table_op", None)  # unary table rows: the kernel writes self
        from_result = name == "relu_"  # recorded in place, its node keeping the result

        def method(self, *args, **kwargs):
            if from_result and state.enabled and self._rg and not args and not kwargs:
                r = U.act_inplace(self, "relu")
                if r is not None:
                    return r
            if (
                top is not None
                and not args
                and not kwargs
                and not (state.enabled and self._rg)
                and not self.is_sparse
                and self._a.dtype.kind in "fV"
            ):
                IP.check_writable(self, name)
                if U.unary_into(top, self._a):
                    self._vref[0] += 1
                    return self
            other = args[0] if args else None
            return IP.inplace(self, name, lambda: fn(self, *args, **kwargs), other)

        method.__name__ = name
        return method

    for name, fn in table_ops.items():
        setattr(T, name + "_", _mk_inplace(name + "_", fn))
    fast_inplace = {"add_": A.ADD, "sub_": A.SUB, "mul_": A.MUL, "div_": A.DIV, "pow_": A.POW}
    for name, op in fast_inplace.items():
        setattr(T, name, _mk_binary_inplace(name, op))
    for base in (
        "clamp clip clamp_min clamp_max nan_to_num logit floor_divide remainder fmod "
        "masked_fill masked_scatter index_add index_fill index_copy index_put scatter "
        "scatter_add scatter_reduce tril triu logical_and logical_or logical_not bitwise_and "
        "bitwise_or bitwise_xor float_power eq ne lt le gt ge silu mish put"
    ).split():
        fn = plain[base]
        if base in ("eq", "ne", "lt", "le", "gt", "ge"):

            def cmp_fn(self, other, _f=fn):
                return _f(self, other).to(self.dtype)

            setattr(T, base + "_", _mk_inplace(base + "_", cmp_fn))
        else:
            setattr(T, base + "_", _mk_inplace(base + "_", fn))

    T.zero_ = _zero_
    T.fill_ = _fill_
    T.copy_ = _copy_
    T.uniform_ = _uniform_
    T.normal_ = _normal_
    T.bernoulli_ = _bernoulli_
    T.random_ = _random_
    T.exponential_ = _exponential_
    T.fill_diagonal_ = _fill_diagonal_
    T.t_ = lambda s: _set_view(s, S.t(s))
    T.transpose_ = lambda s, a, b: _set_view(s, S.transpose(s, a, b))
    T.squeeze_ = lambda s, dim=None: _set_view(s, S.squeeze(s, dim))
    T.unsqueeze_ = lambda s, dim: _set_view(s, S.unsqueeze(s, dim))
    T.resize_ = _resize_
    T.resize = _resize
    T.resize_as_ = lambda s, o: _resize_(s, *o.shape)
    T.share_memory_ = _share_memory_
    T.is_shared = _is_shared
    T.pin_memory = lambda s, device=None: s
    T.is_pinned = lambda s: False
    T.requires_grad_ = Tensor.requires_grad_

    # ---------------------------------------------------------------- conversions
    from . import _dtype as D

    T.float = lambda s, memory_format=None: C.to_impl(s, D.float32, None, False, memory_format)
    T.double = lambda s, memory_format=None: C.to_impl(s, D.float64, None, False, memory_format)
    T.half = lambda s, memory_format=None: C.to_impl(s, D.float16, None, False, memory_format)
    T.bfloat16 = lambda s, memory_format=None: C.to_impl(s, D.bfloat16, None, False, memory_format)
    T.long = lambda s, memory_format=None: C.to_impl(s, D.int64, None, False, memory_format)
    T.int = lambda s, memory_format=None: C.to_impl(s, D.int32, None, False, memory_format)
    T.short = lambda s, memory_format=None: C.to_impl(s, D.int16, None, False, memory_format)
    T.char = lambda s, memory_format=None: C.to_impl(s, D.int8, None, False, memory_format)
    T.byte = lambda s, memory_format=None: C.to_impl(s, D.uint8, None, False, memory_format)
    T.bool = lambda s, memory_format=None: C.to_impl(s, D.bool, None, False, memory_format)
    T.cpu = lambda s, memory_format=None: C.to_impl(s, None, _cpu(), False, memory_format)
    T.cuda = _cuda
    T.xpu = _xpu
    T.new_zeros = _new("zeros")
    T.new_ones = _new("ones")
    T.new_empty = _new("empty")
    T.new_full = _new_full
    T.new_tensor = _new_tensor
    T.sum_to_size = _sum_to_size
    T.apply_ = _apply_
    T.map_ = _map_
    T.conj = lambda s: _wrap(xp_of(s._a).conj(s._a)) if s.is_complex() else s
    T.resolve_conj = lambda s: s
    T.resolve_neg = lambda s: s
    T.einsum = lambda s, eq, *o: E.einsum(eq, s, *o)
    T.untyped_storage = _untyped_storage
    T.storage = _typed_storage
    T.get_device = lambda s: -1 if not s.is_cuda else s._a.device.id


def _table_methods() -> dict:
    """``{method name: function}`` for every op-table row with a torch name (not the
    nn.functional-only activations): the public name and its aliases. Rows marked CT_CUSTOM
    have hand-written public functions, found by name in ``ops.arithmetic``/``ops.unary``."""
    from . import _table
    from .ops import binary as B

    out = {}
    for op in (*_table.UNARY, *_table.BINARY):
        if not op.public or op.nn_only:
            continue
        fn = B.table_function(op)
        for name in (op.public, *op.aliases):
            out[name] = fn
    return out


def _cpu():
    from ._device import CPU

    return CPU


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    from ._device import as_device

    dev = as_device(device if device is not None else "cuda")
    if isinstance(device, int):
        dev = as_device(f"cuda:{device}")
    return C.to_impl(self, None, dev, False, memory_format)


def _sum_to_size(self, *size):
    """``Tensor.sum_to_size``: summed down to ``size``, which must expand to this shape."""
    shape = S._shape_args(size, "sum_to_size")
    have = self._a.shape
    lead = len(have) - len(shape)
    if lead < 0 or any(s != 1 and s != have[lead + i] for i, s in enumerate(shape)):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(have)}}}.")
    return sum_to_shape(self, shape)


def _resize(self, *sizes):
    """The deprecated out-of-place ``Tensor.resize`` (torch's autograd Resize): the same
    elements in a new shape, with torch's warning and error."""
    from . import _warnings

    _warnings.warn("non-inplace resize is deprecated")
    # torch multiplies the arguments as given: resize((6,)) is refused, its "size" printed as is
    n = 1
    for d in sizes:
        n = n * d if isinstance(d, int) else d
    if self.numel() != n:
        have = "x".join(map(str, self.shape))
        raise RuntimeError(
            f"requested resize to {'x'.join(map(str, sizes))} ({n} elements in total), but the "
            f"given tensor has a size of {have} ({self.numel()} elements). autograd's resize "
            "can only change the shape of a given tensor, while preserving the number of "
            "elements. "
        )
    return self.contiguous().view(*sizes)


def _xpu(self, device=None, non_blocking=False, memory_format=None):
    """``Tensor.xpu``: ctorch has no XPU backend; torch's CPU wheel's errors (the lazy-init
    assertion, or the accelerator check when an index is given)."""
    if device is not None:
        raise RuntimeError("Cannot access accelerator device when none is available.")
    from ._device import unsupported

    raise unsupported("xpu")


def _cmp_ok(o):
    # None (and any other object) gives NotImplemented: Python then compares identities, so
    # ``t == None`` is False and ``t != None`` True, as torch
    return isinstance(o, (Tensor, int, float, bool, complex, np.ndarray, np.generic, list, tuple))


def _matmul_lifted(s, o, reverse):
    """``s @ o`` (``o @ s`` when ``reverse``); a NumPy operand promotes with the tensor as
    NumPy's matmul would (torch leaves ``tensor @ ndarray`` to NumPy: float32 @ float64 gives
    float64)."""
    from_numpy = isinstance(o, np.ndarray)
    o = _lift(o, s)
    if from_numpy and o.dtype != s.dtype:
        dt = D.promote_types(s.dtype, o.dtype)
        s, o = s.to(dt), o.to(dt)
    return L.matmul(o, s) if reverse else L.matmul(s, o)


def _lift(o, like):
    if type(o) is Tensor:  # the common case, before the import below
        return o
    from .ops._util import as_tensor_arg  # ops import this module (through _tensor)

    return as_tensor_arg(o, like)


def _rsub(self, other):
    if isinstance(other, Tensor):
        return A.sub(other, self)
    if self._a.dtype.kind == "b":
        A._refuse_bool_sub(self, other)
    if state.enabled and self._rg:
        return A.RSub.apply(self, other)
    return _wrap(A.binary_arrays(A.SUB, self, A._other(other, self, "rsub"), reverse=True))


def _rdiv(self, other):
    if isinstance(other, Tensor):
        return DV.div(other, self)
    o = A._other(other, self, "div")
    if isinstance(o, Tensor):
        return DV.div(o, self)
    if state.enabled and self._rg:
        return DV.RDiv.apply(self, o)
    return _wrap(A.binary_arrays(A.DIV, self, o, reverse=True))


def _mk_binary_inplace(name, op):
    def method(self, other, *, alpha=1, rounding_mode=None):
        if alpha != 1:
            other = other * alpha
        if rounding_mode is not None:
            return IP.inplace(
                self, name, lambda: DV.div(self, other, rounding_mode=rounding_mode), other
            )
        return A.binary_inplace(self, op, other, name)

    method.__name__ = name
    return method


def _untyped_storage(self):
    from . import storage

    return storage.untyped_storage(self)


def _typed_storage(self):
    from . import storage

    return storage.typed_storage(self)


def _share_memory_(self):
    from . import _shared

    return _shared.share_memory_(self)


def _is_shared(self):
    import sys

    if self.is_cuda:  # torch: always True for CUDA tensors
        return True
    shared = sys.modules.get("ctorch._shared")  # nothing is shared before it is imported
    return shared is not None and shared.is_shared(self)


def _zero_(self):
    if state.enabled and self._rg:  # one ZeroBackward0 node, as torch
        return IP.inplace(self, "zero_", lambda: WN.Zero.apply(self))
    return _fill_(self, 0)


def _fill_(self, value):
    IP.check_writable(self, "fill_")
    if isinstance(value, Tensor):
        if value._a.ndim != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value._a.ndim} dimensions."
            )
        if state.enabled and (self._rg or value._rg):
            return IP.inplace(
                self,
                "fill_",
                lambda: WN.FillTensor.apply(self, value),
                value,
            )
        value = value.item()
    if state.enabled and self._rg:
        if self.grad_fn is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        return IP.inplace(self, "fill_", lambda: WN.Fill.apply(self, value))
    a = self._a
    if a.size >= 16384 and a.flags.c_contiguous and a.dtype in (np.float32, np.float64):
        from ._backend import kernels_for

        k = kernels_for(a)
        if k.has("fill"):
            k.fill(a.reshape(-1), float(value))
            self._vref[0] += 1
            return self
    a[...] = D.checked_int(value, a.dtype)
    self._vref[0] += 1
    return self


def _copy_(self, src, non_blocking=False):
    from .ops._util import as_tensor_arg

    src = as_tensor_arg(src, self, "copy_")
    try:
        ok = np.broadcast_shapes(src._a.shape, self._a.shape) == self._a.shape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(
            f"copy_: the source of shape {tuple(src.shape)} cannot be broadcast to the destination "
            f"shape {tuple(self.shape)}"
        )
    if state.enabled and (self._rg or src._rg):
        return IP.inplace(self, "copy_", lambda: IP._Copy.apply(self, src), src)
    IP.check_writable(self, "copy_")
    s = src._a
    if type(s) is not type(self._a):
        s = C._convert_array(s, None, self.device, False)
    if s.dtype != self._a.dtype and s.dtype.name == "bfloat16" and self._a.dtype.kind in "iu":
        s = s.astype(np.float32)  # ml_dtypes' bfloat16 -> integer cast saturates (_half.convert)
    xp_of(self._a).copyto(self._a, s, casting="unsafe")
    self._vref[0] += 1
    return self


def _rand_fill(self, name, sample):
    IP.check_writable(self, name)
    if state.enabled and self._rg and self.grad_fn is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    a = _sample_in_memory_order(self._a, sample)
    if type(self._a) is not np.ndarray:
        from . import _gpu

        a = _gpu.to_device(a, self.device)
    self._a[...] = a
    self._vref[0] += 1
    return self


def _sample_in_memory_order(arr, sample):
    """torch's random fills walk a non-contiguous tensor in memory order (TensorIterator sorts
    the dims by stride): a transposed tensor gets the values its storage would get contiguous."""
    if arr.flags.c_contiguous or arr.ndim < 2:
        return sample(arr.shape)
    perm = dims_outer_to_inner(arr.strides)
    if perm == list(range(arr.ndim)):
        return sample(arr.shape)
    drawn = sample(tuple(arr.shape[d] for d in perm))
    return drawn.transpose(np.argsort(perm))


def _refuse_complex(self, kernel: str) -> None:
    """torch's NotImplementedError for a random fill without a complex kernel."""
    if self._a.dtype.kind == "c":
        from ._creation import not_implemented_for

        raise not_implemented_for(kernel, self._a.dtype)


def _float_only(self, kernel: str) -> None:
    from ._creation import float_only

    float_only(self._a.dtype, kernel)


def _real_draw(self, draw):
    """The sampler ``_rand_fill`` takes: ``draw(shape, dtype)`` in this tensor's dtype, through
    the real view for a complex tensor (``_creation.draw_real_view``)."""
    from ._creation import draw_real_view

    return lambda shp: draw_real_view(self._a.dtype, shp, draw)


def _uniform_(self, a=0.0, b=1.0, *, generator=None):
    from ._random import gen_for

    _float_only(self, "check_uniform_bounds")
    g = gen_for(generator)
    return _rand_fill(
        self, "uniform_", _real_draw(self, lambda shp, dt: g.uniform(shp, dt, float(a), float(b)))
    )


def _normal_(self, mean=0.0, std=1.0, *, generator=None):
    from ._creation import check_std
    from ._random import gen_for

    check_std(std)
    _float_only(self, "normal_kernel_cpu")
    g = gen_for(generator)
    if self._a.dtype.kind == "c":  # torch: the real view with std / sqrt(2)
        std = std / math.sqrt(2)
    # torch's vectorised normal_fill needs a contiguous tensor; any other runs the scalar draw
    serial = not self._a.flags.c_contiguous
    return _rand_fill(
        self,
        "normal_",
        _real_draw(self, lambda shp, dt: g.normal(shp, dt, float(mean), float(std), serial)),
    )


def _bernoulli_(self, p=0.5, *, generator=None):
    from ._creation import check_p
    from ._random import gen_for

    check_p(p)
    g = gen_for(generator)
    _refuse_complex(
        self, "bernoulli_tensor_cpu_self_" if isinstance(p, Tensor) else "bernoulli_scalar_cpu_"
    )
    if isinstance(p, Tensor):
        pp = np.broadcast_to(p.detach().cpu()._a, self._a.shape)
        return _rand_fill(
            self, "bernoulli_", lambda shp: g.bernoulli_probs(pp).astype(self._a.dtype)
        )
    return _rand_fill(
        self, "bernoulli_", lambda shp: g.bernoulli_scalar(shp, float(p), 1.0, self._a.dtype)
    )


def _random_(self, from_=0, to=None, *, generator=None):
    from ._random import gen_for

    g = gen_for(generator)
    dt = self._a.dtype
    if dt.kind == "c":
        if to is None and from_ == 0:
            _refuse_complex(self, "random_kernel_cpu")
        raise RuntimeError(
            "check_random_bounds handles only integral, floating-point and boolean types"
        )
    if to is None and from_ == 0:
        return _rand_fill(self, "random_", lambda shp: g.full_range(shp, dt))
    if to is None:  # torch's random_(to): one argument is the upper bound
        from_, to = 0, from_
    if from_ >= to:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}"
        )
    from ._creation import _check_from_to

    _check_from_to(int(from_), int(to), dt)  # torch's bounds check (randint's too)
    wide = dt == np.int64 or dt == np.uint64 or dt.kind in "fV"
    return _rand_fill(
        self, "random_", lambda shp: g.integers(int(from_), int(to), shp, wide).astype(dt)
    )


def _exponential_(self, lambd=1.0, *, generator=None):
    from ._random import gen_for

    g = gen_for(generator)
    if self._a.dtype.kind not in "fV":  # V: bfloat16
        from .ops.binary import _scalar_name

        raise RuntimeError(
            "Exponential distribution is a continuous probability distribution. dtype must be a "
            f"floating point but you specified {_scalar_name(self._a.dtype)}"
        )
    return _rand_fill(self, "exponential_", lambda shp: g.exponential(shp, self._a.dtype, lambd))


def _fill_diagonal_(self, fill_value, wrap=False):
    IP.check_writable(self, "fill_diagonal_")
    xp_of(self._a).fill_diagonal(self._a, fill_value, wrap=wrap)
    self._vref[0] += 1
    return self


def _set_view(self, v):
    self._a = v._a
    if v.grad_fn is not None:
        self.grad_fn, self._output_nr = v.grad_fn, v._output_nr
    return self


def _resize_(self, *size, memory_format=None):
    """``Tensor.resize_``: the same size is a no-op (a channels-last tensor stays so);
    another size takes the first elements in C order over a storage grown as needed;
    ``memory_format`` re-strides the result over that storage (its values then unspecified,
    as torch's)."""
    if self._rg:
        raise RuntimeError("cannot resize variables that require grad")
    shape = S._shape_args(size, "resize_")
    import math

    from . import _memfmt as MF

    fmt = MF.as_format(memory_format)
    if tuple(shape) == self._a.shape and fmt is MF.preserve_format:
        return self
    if fmt is not MF.preserve_format:
        MF.format_strides(shape, fmt)  # torch's rank error first
    n = math.prod(shape)
    a = self._a.reshape(-1)
    if a.size >= n:
        self._a = a[:n].reshape(shape)
    else:
        new = xp_of(a).empty(n, a.dtype)
        new[: a.size] = a
        self._a = new.reshape(shape)
    if fmt is MF.channels_last or fmt is MF.channels_last_3d:
        st = MF.format_strides(shape, fmt)
        flat = self._a.reshape(-1)
        self._a = S._as_strided(flat, tuple(shape), tuple(s * flat.itemsize for s in st))
    self._vref[0] += 1
    return self


def _new(kind):
    def method(
        self,
        *size,
        dtype=None,
        device=None,
        requires_grad=False,
        layout=None,
        pin_memory=False,
        **kw,
    ):
        from . import _creation

        if "size" in kw and not size:
            size = (kw.pop("size"),)
        if kw:
            raise TypeError(f"new_{kind}() got an unexpected keyword argument '{next(iter(kw))}'")
        if not size:  # torch: size is required (new_zeros() is not a 0-d tensor)
            raise TypeError(f'new_{kind}() missing 1 required positional arguments: "size"')
        fn = getattr(_creation, kind)
        return fn(
            *size,
            dtype=dtype if dtype is not None else self.dtype,
            device=device if device is not None else self.device,
            requires_grad=requires_grad,
        )

    method.__name__ = "new_" + kind
    return method


def _new_full(
    self,
    size,
    fill_value,
    *,
    dtype=None,
    device=None,
    requires_grad=False,
    layout=None,
    pin_memory=False,
):
    from . import _creation

    return _creation.full(
        size,
        fill_value,
        dtype=dtype if dtype is not None else self.dtype,
        device=device if device is not None else self.device,
        requires_grad=requires_grad,
    )


def _new_tensor(
    self, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False
):
    from . import _creation

    return _creation.tensor(
        data,
        dtype=dtype if dtype is not None else self.dtype,
        device=device if device is not None else self.device,
        requires_grad=requires_grad,
    )


def _apply_(self, fn):
    flat = self._a.reshape(-1)
    for i in range(flat.size):
        flat[i] = fn(flat[i].item())
    self._vref[0] += 1
    return self


def _map_(self, other, fn):
    a = self._a.reshape(-1)
    b = np.broadcast_to(other._a, self._a.shape).reshape(-1)
    for i in range(a.size):
        a[i] = fn(a[i].item(), b[i].item())
    self._vref[0] += 1
    return self


# --- methods added for #14 (h-compat) ---
def attach_compat(T) -> None:
    """Tensor methods added for issue #14 (``addcmul_``, ``lerp``, ``unfold``, ...)."""
    from .ops import numerical as NU
    from .ops import pointwise_extra as P
    from .ops import products as PR

    for name in (
        "addcmul",
        "addcmul_",
        "addcdiv",
        "addcdiv_",
        "lerp",
        "lerp_",
        "erfinv",
        "erfinv_",
        "isclose",
        "allclose",
    ):
        setattr(T, name, getattr(P, name))
    T.cross = PR.cross
    T.kron = PR.kron
    T.diff = NU.diff
    T.unfold = S.unfold
    T.expand_copy = RA.expand_copy
    T.is_cpu = property(lambda self: type(self._a) is np.ndarray)


# --- end of methods added for #14 ---


# --- complex tensors (issue #13) ---
def attach_complex(T) -> None:
    """The complex-number methods: differentiable ``real``/``imag`` views, ``conj``,
    ``angle``, ``sgn``, ``polar``-style helpers (``ops/complex.py``)."""
    from .ops import complex as CX

    def _set_part(part):
        def setter(self, value):
            getattr(CX, part)(self).copy_(value)

        return setter

    T.real = property(CX.real, _set_part("real"))
    T.imag = property(CX.imag, _set_part("imag"))
    T.conj = CX.conj
    T.conj_physical = CX.conj_physical
    T.conj_physical_ = lambda s: IP.inplace(
        s, "conj_physical_", lambda: CX.conj_physical(s) if s.is_complex() else s
    )
    T.resolve_conj = CX.resolve_conj
    T.resolve_neg = CX.resolve_neg
    T.is_conj = CX.is_conj
    T.angle = CX.angle
    T.sgn = CX.sgn
    T.isreal = CX.isreal
    T.mH = property(lambda s: CX.conj(s.mT) if s.is_complex() else s.mT)
    from . import _dtype as DT

    real_abs_ = T.abs_

    def abs_(self):
        if self.is_complex():
            raise RuntimeError("In-place abs is not supported for complex tensors.")
        return real_abs_(self)

    T.abs_ = T.absolute_ = abs_
    T.sgn_ = lambda s: IP.inplace(s, "sgn_", lambda: CX.sgn(s)) if s.is_complex() else s.sign_()
    T.cfloat = lambda s, memory_format=None: s.to(DT.complex64, memory_format=memory_format)
    T.cdouble = lambda s, memory_format=None: s.to(DT.complex128, memory_format=memory_format)
    from .ops import signal as SG

    T.stft = SG.stft
    T.istft = SG.istft
