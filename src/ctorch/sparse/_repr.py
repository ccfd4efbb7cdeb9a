"""Printing sparse tensors as torch does (``tensor(indices=tensor(...), values=...)``)."""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._tensor_str import PRINT_OPTS, _fmt_array, _Formatter, _summary_values


def _body(a, indent: int) -> str:
    if type(a) is not np.ndarray:
        a = a.get()
    if a.size == 0:
        return "[]"
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    summarize = a.size > PRINT_OPTS.threshold
    vals = _summary_values(a) if summarize else a
    return _fmt_array(a, _Formatter(np.asarray(vals)), indent, summarize)


def _inner(prefix: str, a, indent: int) -> str:
    s = prefix + _body(a, indent + len(prefix))
    if a.size == 0:
        s += ", size=" + str(tuple(a.shape))
    return s + ")"


def _add_suffixes(text: str, suffixes: list[str], indent: int, force_newline: bool) -> str:
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for sfx in suffixes:
        if force_newline or last + len(sfx) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + sfx)
            last = indent + len(sfx)
            force_newline = False
        else:
            parts.append(", " + sfx)
            last += len(sfx) + 2
    parts.append(")")
    return "".join(parts)


def sparse_repr(t) -> str:
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if t.is_cuda:
        suffixes.append(f"device='{t.device}'")
    suffixes.append("size=" + str(tuple(t._sz)))
    suffixes.append("nnz=" + str(t._nnz()))
    if t.dtype not in (D.get_default_dtype(), D.int64, D.bool):
        suffixes.append(f"dtype={t.dtype}")
    pad = "\n" + " " * indent
    if t._lay == "coo":
        body = (
            _inner("indices=tensor(", t._ind, indent)
            + ","
            + pad
            + _inner("values=tensor(", t._val._a, indent)
        )
        suffixes.append(f"layout={t.layout!r}")
    else:
        from ._compressed import index_names

        cn, pn, _, _ = index_names(t._lay)
        body = (
            _inner(cn + "=tensor(", t._crow, indent)
            + ","
            + pad
            + _inner(pn + "=tensor(", t._col, indent)
            + ","
            + pad
            + _inner("values=tensor(", t._val._a, indent)
        )
        suffixes.append(f"layout={t.layout!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent, t._lay == "coo")
