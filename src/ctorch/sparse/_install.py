"""Wires sparse tensors into ctorch: layouts, top-level functions, Tensor methods.

Top-level functions that torch runs on sparse operands (``add``, ``mul``, ``mm``, ``matmul``,
``addmm``, ``sum``, zero-preserving unary ops...) are wrapped: one ``type(x) is
SparseTensor`` test on the first operands, then the dense function unchanged.
"""

from __future__ import annotations

import functools

from .._tensor import Tensor
from ..ops import join as J
from . import _compressed as C
from . import _inplace as IP
from . import _linalg as L
from . import _ops as O
from . import _select as SEL
from ._autograd import coalesce, map_values, values_of
from ._tensor import SparseTensor, install_stubs, unsupported

# zero-preserving elementwise ops torch runs on COO and CSR values
UNARY = (
    "abs",
    "neg",
    "negative",
    "sin",
    "sinh",
    "tan",
    "tanh",
    "asin",
    "arcsin",
    "asinh",
    "arcsinh",
    "atan",
    "arctan",
    "atanh",
    "arctanh",
    "sqrt",
    "square",
    "expm1",
    "log1p",
    "sign",
    "sgn",
    "floor",
    "ceil",
    "round",
    "trunc",
    "fix",
    "frac",
    "relu",
    "erf",
    "erfinv",
    "deg2rad",
    "rad2deg",
    "signbit",
    "isnan",
    "isinf",
    "isposinf",
    "isneginf",
)


_LINEAR = {"neg", "negative", "deg2rad", "rad2deg"}


def _unary(name: str, dense_fn):
    """A zero-preserving op on the values; a nonlinear one coalesces first (as torch: the
    op of a sum of duplicates is not the sum of the ops)."""
    if name in ("neg", "negative"):  # linear: a dense gradient stays dense (NegBackward0)
        return O.neg
    if name in _LINEAR:
        return lambda s, *a, **k: map_values(s, lambda v: dense_fn(v, *a, **k))
    return lambda s, *a, **k: map_values(
        coalesce(s) if s._lay == "coo" else s, lambda v: dense_fn(v, *a, **k)
    )


def _indices(s: SparseTensor) -> Tensor:
    if s._lay != "coo":
        raise RuntimeError(
            f"indices expected sparse coordinate tensor layout but got Sparse{s._lay.capitalize()}"
        )
    if not s._coal:
        raise RuntimeError(
            "Cannot get indices on an uncoalesced tensor, please call .coalesce() first"
        )
    return Tensor._make(s._ind)


def _raw_indices(s: SparseTensor) -> Tensor:
    if s._lay != "coo":
        raise RuntimeError(
            f"_indices expected sparse coordinate tensor layout but got Sparse{s._lay.capitalize()}"
        )
    return Tensor._make(s._ind)


def _values(s: SparseTensor) -> Tensor:
    if s._lay == "coo" and not s._coal:
        raise RuntimeError(
            "Cannot get values on an uncoalesced tensor, please call .coalesce() first"
        )
    return values_of(s)


def _radd(s, o):
    if isinstance(o, Tensor):
        return O.add(o, s)
    return O.add(s, o)


def _rsub(s, o):
    if isinstance(o, Tensor):
        return O.add(o, s, alpha=-1)
    raise RuntimeError(
        f"sub: expected 'self' and 'other' to have same size, but self has size [] while "
        f"other has size {list(s.shape)} (FYI: dense-sparse subtraction does not currently "
        "support broadcasting)"
    )


def _mv(s, vec):
    """``torch.mv(sparse, vec)``: the sparse matrix times a 1-D dense vector."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got {len(s._sz)}, "
            f"{vec.ndim if isinstance(vec, Tensor) else '?'}"
        )
    if len(s._sz) != 2:
        raise RuntimeError(f"mv: expected a 2-D sparse matrix, got size {list(s._sz)}")
    return L.matmul(s, vec)


def _attach_conversions(T) -> None:
    """``to_sparse_csr``/``csc``/``bsr``/``bsc`` on dense and sparse tensors."""
    T.to_sparse_csr = lambda self, dense_dim=None: C.to_compressed(self, "csr", None, dense_dim)
    T.to_sparse_csc = lambda self, dense_dim=None: C.to_compressed(self, "csc", None, dense_dim)
    T.to_sparse_bsr = lambda self, blocksize, dense_dim=None: C.to_compressed(
        self, "bsr", blocksize, dense_dim
    )
    T.to_sparse_bsc = lambda self, blocksize, dense_dim=None: C.to_compressed(
        self, "bsc", blocksize, dense_dim
    )


def _to_dev(s, device=None, non_blocking=False, **kw):
    return O.to(s, device if device is not None else "cuda")


def _attach_sparse_methods() -> None:
    M = SparseTensor
    M.to_dense = O.to_dense
    M.coalesce = coalesce
    M.indices = _indices
    M._indices = _raw_indices
    M.values = _values
    M._values = lambda s: Tensor._make(s._val._a)
    for name in ("crow_indices", "col_indices", "ccol_indices", "row_indices"):
        setattr(M, name, getattr(C, name))
    M.to_sparse = O.to_sparse
    M.to_sparse_coo = lambda s: O.to_sparse(s)
    _attach_conversions(M)
    M.sparse_mask = O.sparse_mask
    M.add = lambda s, o, *, alpha=1: O.add(s, o, alpha=alpha)
    M.__add__ = lambda s, o: O.add(s, o)
    M.__radd__ = _radd
    M.sub = lambda s, o, *, alpha=1: O.sub(s, o, alpha=alpha)
    M.subtract = M.sub
    M.__sub__ = lambda s, o: O.sub(s, o)
    M.__rsub__ = _rsub
    M.mul = O.mul
    M.multiply = O.mul
    M.__mul__ = O.mul
    M.__rmul__ = O.mul
    M.div = O.div
    M.divide = O.div
    M.true_divide = O.div
    M.__truediv__ = O.div
    M.pow = O.pow_
    M.__pow__ = O.pow_
    M.__neg__ = O.neg
    M.__pos__ = lambda s: s
    M.__abs__ = lambda s: s.abs()
    M.__matmul__ = lambda s, o: L.matmul(s, o)
    M.__rmatmul__ = lambda s, o: L.matmul(o, s)
    M.mm = L.mm
    M.mv = _mv
    M.matmul = L.matmul
    M.t = O.t
    M.transpose = O.transpose
    M.T = property(O.t)
    M.sum = L.sum_method
    M.clone = O.clone
    M.to = O.to
    M.cpu = lambda s: O.to(s, "cpu")
    M.cuda = _to_dev
    for name, dt in (
        ("double", "float64"),
        ("float", "float32"),
        ("half", "float16"),
        ("bfloat16", "bfloat16"),
        ("long", "int64"),
        ("int", "int32"),
        ("bool", "bool"),
    ):
        import ctorch

        setattr(M, name, (lambda d: lambda s: O.to(s, d))(getattr(ctorch, dt)))
    M.index_select = SEL.index_select
    M.zero_ = IP.zero_
    M.copy_ = IP.copy_
    M.mul_ = IP.mul_
    M.div_ = IP.div_
    M.add_ = IP.add_
    import ctorch

    for name in UNARY:
        fn = getattr(ctorch, name, None)
        if fn is not None:
            setattr(M, name, _unary(name, fn))


def _wrap_top(dense_fn, sparse_fn, positions=(0, 1)):
    p0 = 0 in positions
    p1 = 1 in positions
    p2 = 2 in positions

    @functools.wraps(dense_fn)
    def f(*args, **kwargs):
        n = len(args)
        if (
            (p0 and n > 0 and type(args[0]) is SparseTensor)
            or (p1 and n > 1 and type(args[1]) is SparseTensor)
            or (p2 and n > 2 and type(args[2]) is SparseTensor)
        ):
            return sparse_fn(*args, **kwargs)
        return dense_fn(*args, **kwargs)

    f._sparse_wrapped = True
    return f


def _wrap_cat(dense_cat):
    @functools.wraps(dense_cat)
    def cat(tensors, dim=0, *, out=None):
        if out is None:  # small dense CPU tensors: the compiled join (no sparse part)
            r = J.join_fast(tensors, dim, False)
            if r is not None:
                return r
        if isinstance(tensors, (list, tuple)) and any(type(t) is SparseTensor for t in tensors):
            return SEL.cat(tensors, dim, out=out)
        return dense_cat(tensors, dim, out=out)

    return cat


def _addmm_top(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    if out is not None:
        raise unsupported("addmm.out", mat1 if isinstance(mat1, SparseTensor) else mat2)
    return L.addmm(input, mat1, mat2, beta=beta, alpha=alpha, _named=True)


def _sum_top(input, dim=None, keepdim=False, *, dtype=None):
    return L.sum_method(input, dim, keepdim, dtype=dtype)


def _transpose_top(input, dim0, dim1):
    return O.transpose(input, dim0, dim1)


def _dense_add_(self, other, *, alpha=1):
    """``dense.add_(sparse)`` (torch supports it: optimizers use it)."""
    from ..autograd.grad_mode import state

    if state.enabled and (self._rg or other._rg):
        d = other.to_dense()
        return Tensor.__dict__["_ct_dense_add_"](self, d if alpha == 1 else d * alpha)
    O._same_size(self, other, "add_")
    return IP.dense_add_sparse_(self, other, alpha)


def sparse_zeros(size, dtype=None, device=None, layout=None, requires_grad=False):
    """An all-zero sparse tensor (nnz 0) of ``layout``: ``zeros(..., layout=torch.sparse_coo)``."""
    import numpy as np

    import ctorch

    size = tuple(int(s) for s in size)
    vals = ctorch.zeros(0, dtype=dtype, device=device)
    xp = np if not vals.is_cuda else __import__("cupy")
    lay = C.layout_key(layout) if layout is not None else "coo"
    if lay in ("bsr", "bsc"):
        raise RuntimeError(
            "zeros_sparse_compressed expected sparse compressed (non-block) tensor layout but "
            f"got {C._KIND[lay]}"
        )
    if lay in ("csr", "csc"):  # batched when len(size) > 2
        if len(size) < 2:
            raise RuntimeError(
                "torch.zeros: Only batched sparse compressed (non-block) tensors are supported, "
                f"but got size {list(size)}"
            )
        batch = size[:-2]
        ncomp = size[-2] if lay == "csr" else size[-1]
        vals = ctorch.zeros(batch + (0,), dtype=dtype, device=device)
        cidx = xp.zeros(batch + (ncomp + 1,), np.int64)
        t = SparseTensor._compressed(lay, cidx, xp.zeros(batch + (0,), np.int64), vals, size)
    else:
        t = SparseTensor._coo(xp.zeros((len(size), 0), np.int64), vals, size, True)
    return t.requires_grad_(True) if requires_grad else t


def _size_args(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _is_sparse_layout(layout) -> bool:
    import ctorch

    return layout is not None and layout is not ctorch.strided


def _wrap_creation(dense_fn, name: str):
    """``zeros``/``empty`` with a sparse ``layout`` give an empty sparse tensor; other
    factories refuse a sparse layout as torch does, instead of silently making it dense."""

    @functools.wraps(dense_fn)
    def f(*args, **kwargs):
        layout = kwargs.get("layout")
        if layout is None or not _is_sparse_layout(layout):
            return dense_fn(*args, **kwargs)
        if name in ("zeros", "empty"):
            kwargs.pop("out", None)
            kwargs.pop("memory_format", None)
            kwargs.pop("pin_memory", None)
            return sparse_zeros(_size_args(args), **kwargs)
        if name in ("ones", "full"):
            raise RuntimeError("full(...) is not implemented for sparse layout")
        raise unsupported("uniform_" if name == "rand" else "normal_")

    return f


def _wrap_like(dense_fn, name: str):
    @functools.wraps(dense_fn)
    def f(input, *args, **kwargs):
        layout = kwargs.get("layout")
        src_sparse = type(input) is SparseTensor
        if not src_sparse and (layout is None or not _is_sparse_layout(layout)):
            return dense_fn(input, *args, **kwargs)
        if layout is None:
            layout = input.layout
        if not _is_sparse_layout(layout):  # a dense result of a sparse input's shape
            kwargs.pop("layout")
            kwargs.pop("memory_format", None)
            import ctorch

            return getattr(ctorch, name.replace("_like", ""))(
                tuple(input.shape),
                *args,
                dtype=kwargs.get("dtype") or input.dtype,
                device=kwargs.get("device") or input.device,
                requires_grad=kwargs.get("requires_grad", False),
            )
        if name in ("zeros_like", "empty_like"):
            return sparse_zeros(
                tuple(input.shape),
                dtype=kwargs.get("dtype") or input.dtype,
                device=kwargs.get("device") or input.device,
                layout=layout,
                requires_grad=kwargs.get("requires_grad", False),
            )
        raise unsupported("fill_", input if src_sparse else None)

    return f


def install(ns: dict) -> None:
    """Called once from ``ctorch/__init__.py`` with its namespace."""
    layout = ns["layout"]
    for name in ("sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc"):
        ns.setdefault(name, layout(name))
    ns["sparse_coo_tensor"] = O.sparse_coo_tensor
    for lay in ("csr", "csc", "bsr", "bsc"):
        ns[f"sparse_{lay}_tensor"] = getattr(C, f"sparse_{lay}_tensor")
    ns["sparse_compressed_tensor"] = C.sparse_compressed_tensor
    ns["spmm"] = L.spmm

    # dense Tensor members
    T = Tensor
    T.is_sparse_csr = False
    T.to_sparse = O.dense_to_sparse
    T.to_sparse_coo = lambda self: O.dense_to_sparse(self)
    _attach_conversions(T)
    for name in ("crow_indices", "col_indices", "ccol_indices", "row_indices"):
        setattr(T, name, getattr(C, name))
    T.to_dense = lambda self, dtype=None, *, masked_grad=None: (
        self if dtype is None else self.to(dtype)
    )
    T.sparse_mask = O.sparse_mask
    T.sparse_dim = lambda self: 0
    T.dense_dim = lambda self: self.ndim
    T._ct_dense_add_ = T.add_
    T.add_ = _wrap_top(T.add_, _dense_add_, positions=(1,))
    T.__iadd__ = _wrap_top(T.__iadd__, _dense_add_, positions=(1,))
    T.__isub__ = _wrap_top(T.__isub__, lambda d, s: _dense_add_(d, s, alpha=-1), positions=(1,))
    for meth, sp in (("mm", L.mm), ("matmul", L.matmul), ("add", O.add), ("mul", O.mul)):
        setattr(T, meth, _wrap_top(getattr(T, meth), sp, positions=(1,)))

    _attach_sparse_methods()
    install_stubs()

    # top-level functions
    binary = {
        "add": O.add,
        "sub": O.sub,
        "subtract": O.sub,
        "mul": O.mul,
        "multiply": O.mul,
        "div": O.div,
        "divide": O.div,
        "true_divide": O.div,
        "mm": L.mm,
        "matmul": L.matmul,
        "mv": _mv,
    }
    for name, sp in binary.items():
        if name in ns:
            ns[name] = _wrap_top(ns[name], sp)
    unary = {
        "sum": _sum_top,
        "transpose": _transpose_top,
        "t": O.t,
        "clone": O.clone,
        "pow": O.pow_,
    }
    for name in UNARY:
        if name in ns:
            unary[name] = getattr(SparseTensor, name)
    for name, sp in unary.items():
        if name in ns:
            ns[name] = _wrap_top(ns[name], sp, positions=(0,))
    if "index_select" in ns:
        ns["index_select"] = _wrap_top(ns["index_select"], SEL.index_select, positions=(0,))
    if "cat" in ns:
        ns["cat"] = _wrap_cat(ns["cat"])
    for name in ("zeros", "empty", "ones", "full", "rand", "randn"):
        if name in ns:
            ns[name] = _wrap_creation(ns[name], name)
    for name in ("zeros_like", "empty_like", "ones_like", "full_like", "rand_like", "randn_like"):
        if name in ns:
            ns[name] = _wrap_like(ns[name], name)
    if "addmm" in ns:
        ns["addmm"] = _wrap_top(ns["addmm"], _addmm_top, positions=(1, 2))
