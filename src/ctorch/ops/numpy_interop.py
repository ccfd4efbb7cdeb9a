"""NumPy protocols: ``np.exp(t)``, ``np.add(t, a)``, ``np.sum(t, axis=1)``,
``np.concatenate([t, u])`` ... return ctorch tensors and are differentiable.

Ufuncs and functions ctorch maps run as ctorch ops; anything else receives plain arrays
(as it would with torch, through ``__array__``) and returns NumPy's result.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor


def _t(x):

    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._make(x)
    return x


def _ufunc_map():
    from . import compare as CMP
    from . import division as DV
    from . import linalg as L
    from . import unary as U

    m = {
        "floor_divide": DV.floor_divide,
        "remainder": DV.remainder,
        "fmod": DV.fmod,
        "equal": CMP.eq,
        "not_equal": CMP.ne,
        "less": CMP.lt,
        "less_equal": CMP.le,
        "greater": CMP.gt,
        "greater_equal": CMP.ge,
        "logical_and": CMP.logical_and,
        "logical_or": CMP.logical_or,
        "logical_xor": CMP.logical_xor,
        "logical_not": CMP.logical_not,
        "matmul": L.matmul,
        "isnan": U.isnan,
        "isinf": U.isinf,
        "isfinite": U.isfinite,
    }
    # the op table's rows name the NumPy ufunc that computes the same thing
    from .. import _table
    from . import binary as B

    for op in (*_table.UNARY, *_table.BINARY):
        if op.ufunc and op.public and not op.nn_only:
            m[op.ufunc] = B.table_function(op)
    m["divide"] = DV.div
    return m


_UF = None


def array_ufunc(ufunc, method, inputs, kwargs):
    global _UF
    if _UF is None:
        _UF = _ufunc_map()
    out = kwargs.pop("out", None)
    fn = _UF.get(ufunc.__name__)
    if method == "__call__" and fn is not None and not kwargs and out is None:
        args = [_t(x) for x in inputs]
        if not isinstance(args[0], Tensor):
            # scalar op tensor: lift the scalar
            from ._util import as_tensor_arg

            args[0] = as_tensor_arg(args[0], args[1] if len(args) > 1 else None)
        return fn(*args)
    # fallback: plain arrays; out= may name tensors (written in place)
    arrs = [x._a if isinstance(x, Tensor) else x for x in inputs]
    if out is not None:
        outs = tuple(o._a if isinstance(o, Tensor) else o for o in out)
        kwargs["out"] = outs
    res = getattr(ufunc, method)(*arrs, **kwargs)
    if out is not None:
        for o in out:
            if isinstance(o, Tensor):
                o._bump()
        return out[0] if len(out) == 1 else out
    if isinstance(res, np.ndarray):
        return Tensor._make(res)
    if isinstance(res, tuple):
        return tuple(Tensor._make(r) if isinstance(r, np.ndarray) else r for r in res)
    return res


def _func_map():
    from . import compare as CMP
    from . import extrema as EX
    from . import join as J
    from . import linalg as L
    from . import rearrange as RA
    from . import reduction as R
    from . import scan as SC
    from . import shape as S

    def _axis(f):
        def g(a, axis=None, *args, keepdims=False, **kw):
            return f(_t(a), axis, keepdims) if axis is not None else f(_t(a), None, keepdims)

        return g

    return {
        np.sum: lambda a, axis=None, dtype=None, out=None, keepdims=False, **kw: R.sum(
            _t(a), axis, keepdims
        ),
        np.mean: lambda a, axis=None, dtype=None, out=None, keepdims=False, **kw: R.mean(
            _t(a), axis, keepdims
        ),
        np.prod: lambda a, axis=None, dtype=None, out=None, keepdims=False, **kw: R.prod(
            _t(a), axis, keepdims
        ),
        np.max: lambda a, axis=None, out=None, keepdims=False, **kw: EX.amax(
            _t(a), axis if axis is not None else (), keepdims
        ),
        np.amax: lambda a, axis=None, out=None, keepdims=False, **kw: EX.amax(
            _t(a), axis if axis is not None else (), keepdims
        ),
        np.min: lambda a, axis=None, out=None, keepdims=False, **kw: EX.amin(
            _t(a), axis if axis is not None else (), keepdims
        ),
        np.amin: lambda a, axis=None, out=None, keepdims=False, **kw: EX.amin(
            _t(a), axis if axis is not None else (), keepdims
        ),
        np.var: lambda a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw: R.var(
            _t(a), axis, keepdim=keepdims, correction=ddof
        ),
        np.std: lambda a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw: R.std(
            _t(a), axis, keepdim=keepdims, correction=ddof
        ),
        np.argmax: lambda a, axis=None, out=None, **kw: EX.argmax(_t(a), axis),
        np.argmin: lambda a, axis=None, out=None, **kw: EX.argmin(_t(a), axis),
        np.concatenate: lambda arrays, axis=0, out=None, **kw: J.cat([_t(x) for x in arrays], axis),
        np.stack: lambda arrays, axis=0, out=None, **kw: J.stack([_t(x) for x in arrays], axis),
        np.reshape: lambda a, newshape=None, order="C", shape=None, **kw: S.reshape(
            _t(a), shape if shape is not None else newshape
        ),
        np.transpose: lambda a, axes=None: S.permute(
            _t(a), axes if axes is not None else tuple(range(_t(a).ndim - 1, -1, -1))
        ),
        np.squeeze: lambda a, axis=None: S.squeeze(_t(a), axis),
        np.expand_dims: lambda a, axis: S.unsqueeze(_t(a), axis),
        np.clip: lambda a, a_min=None, a_max=None, out=None, **kw: CMP.clamp(_t(a), a_min, a_max),
        np.where: lambda cond, x=None, y=None: CMP.where(_t(cond), _t(x), _t(y)),
        np.dot: lambda a, b, out=None: L.matmul(_t(a), _t(b)),
        np.outer: lambda a, b, out=None: L.outer(_t(a), _t(b)),
        np.einsum: lambda eq, *ops, **kw: __import__(
            "ctorch.ops.einsum", fromlist=["einsum"]
        ).einsum(eq, *[_t(o) for o in ops]),
        np.tril: lambda m, k=0: RA.tril(_t(m), k),
        np.triu: lambda m, k=0: RA.triu(_t(m), k),
        np.flip: lambda m, axis=None: RA.flip(
            _t(m), axis if axis is not None else tuple(range(_t(m).ndim))
        ),
        np.cumsum: lambda a, axis=None, dtype=None, out=None: SC.cumsum(
            _t(a) if axis is not None else _t(a).reshape(-1), axis if axis is not None else 0
        ),
        np.linalg.norm: lambda x, ord=None, axis=None, keepdims=False: R.norm(
            _t(x), 2 if ord is None else ord, axis, keepdims
        ),
        np.shape: lambda a: tuple(a.shape),
        np.ndim: lambda a: a.ndim,
        np.size: lambda a, axis=None: a.numel() if axis is None else a.shape[axis],
    }


_FN = None


def array_function(func, types, args, kwargs):
    global _FN
    if _FN is None:
        _FN = _func_map()
    f = _FN.get(func)
    if f is not None:
        return f(*args, **kwargs)

    def conv(x):
        if isinstance(x, Tensor):
            return x.detach()._a if type(x._a) is np.ndarray else x.detach()._a.get()
        if isinstance(x, (list, tuple)):
            return type(x)(conv(i) for i in x)
        return x

    return func(*conv(args), **{k: conv(v) for k, v in kwargs.items()})
