"""Printing tensors the way torch does (precision 4, sci mode, summarization, suffixes)."""

from __future__ import annotations

import math
import sys

import numpy as np

from . import _dtype as D


class _Opts:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


PRINT_OPTS = _Opts()


def set_printoptions(
    precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None
):
    if profile == "default":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = (
            4,
            1000,
            3,
            80,
        )
    elif profile == "short":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = (
            2,
            1000,
            2,
            80,
        )
    elif profile == "full":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = (
            4,
            math.inf,
            3,
            80,
        )
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


class _Formatter:
    """Follows torch._tensor_str._Formatter: the width and the int/sci modes come from the
    nonzero finite values only; nan/inf print bare."""

    def __init__(self, a: np.ndarray) -> None:
        self.kind = a.dtype.kind
        self.int_mode = True
        self.sci = False
        self.width = 1
        p = PRINT_OPTS.precision
        if self.kind in "biuc":
            self.int_mode = self.kind != "c"
            self.width = max((len(self.fmt(v)) for v in a.reshape(-1).tolist()), default=1)
            return
        vals = a.reshape(-1).astype(np.float64)
        nz = vals[np.isfinite(vals) & (vals != 0)]
        if nz.size:
            nza = np.abs(nz)
            lo, hi = nza.min(), nza.max()
            self.int_mode = bool(np.all(np.ceil(nz) == nz))
            # torch decides the mode first (a set sci_mode wins), then sizes the columns in it
            if PRINT_OPTS.sci_mode is None:
                self.sci = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)
            else:
                self.sci = bool(PRINT_OPTS.sci_mode)
            if self.sci:
                self.width = max(len(f"{v:.{p}e}") for v in nz.tolist())
            elif self.int_mode:
                self.width = max(len(f"{v:.0f}") + 1 for v in nz.tolist())
            else:
                self.width = max(len(f"{v:.{p}f}") for v in nz.tolist())
        # no nonzero finite value: torch keeps the defaults (int mode, no sci) whatever sci_mode

    def fmt(self, v) -> str:
        if self.kind == "b":
            return str(bool(v))
        if self.kind in "iu":
            return str(int(v))
        if self.kind == "c":
            return str(complex(v)).strip("()")
        v = float(v)
        if self.sci:
            return f"{v:.{PRINT_OPTS.precision}e}"
        if self.int_mode:
            r = f"{v:.0f}"
            return r if math.isinf(v) or math.isnan(v) else r + "."
        return f"{v:.{PRINT_OPTS.precision}f}"


class _ComplexFormatter:
    """torch's complex printing: one formatter for the real parts and one for the imaginary
    parts; an element is ``real`` padded + ``imag`` (sign kept, padding stripped) + ``j``."""

    kind = "c"

    def __init__(self, a: np.ndarray) -> None:
        self.re = _Formatter(np.ascontiguousarray(a.real))
        self.im = _Formatter(np.ascontiguousarray(a.imag))
        self.width = 0  # elements are not right-justified as a whole
        self.line_width = self.re.width + self.im.width + 1

    def fmt(self, v) -> str:
        v = complex(v)
        re = self.re.fmt(v.real).rjust(self.re.width)
        im = (self.im.fmt(v.imag).rjust(self.im.width) + "j").lstrip()
        return re + im if im[0] in "+-" else re + "+" + im


def _fmt_array(a, f, indent, summarize):
    if a.ndim == 0:
        return f.fmt(a.item()).rjust(f.width)
    e = PRINT_OPTS.edgeitems
    n = a.shape[0]
    if a.ndim == 1:
        items = [
            f.fmt(v).rjust(f.width)
            for v in (
                a[:e].tolist() + a[n - e :].tolist() if summarize and n > 2 * e else a.tolist()
            )
        ]
        if summarize and n > 2 * e:
            items = items[:e] + [" ..."] + items[e:]
        per_line = max(
            1, int((PRINT_OPTS.linewidth - indent) // (getattr(f, "line_width", f.width) + 2))
        )
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    if summarize and n > 2 * e:
        rows = (
            [_fmt_array(a[i], f, indent + 1, summarize) for i in range(e)]
            + ["..."]
            + [_fmt_array(a[i], f, indent + 1, summarize) for i in range(n - e, n)]
        )
    else:
        rows = [_fmt_array(a[i], f, indent + 1, summarize) for i in range(n)]
    sep = "," + "\n" * (a.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(rows) + "]"


def _summary_values(a):
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a.reshape(1)
    if a.shape[0] > 2 * e:
        parts = [a[:e], a[-e:]]
    else:
        parts = [a]
    out = []
    for p in parts:
        if p.ndim == 1:
            out.append(p)
        else:
            out.extend(_summary_values(x) for x in p)
    return np.concatenate([o.reshape(-1) for o in out]) if out else a.reshape(-1)


_in_tangent: list = []  # non-empty while a dual tensor's tangent is being printed


def tensor_repr(t) -> str:
    a = t._a
    meta = False
    if type(a) is not np.ndarray:
        meta = t.is_meta  # torch: no values, the size instead
        if not meta:
            a = a.get()
    cls = type(t)
    # torch prints a user's Tensor subclass under its class name: ``MyTensor([1., 2.])``
    prefix = "tensor(" if cls.__module__.startswith("ctorch") else f"{cls.__name__}("
    indent = len(prefix)
    summarize = a.size > PRINT_OPTS.threshold
    suffixes = []
    if t.is_cuda or meta:
        suffixes.append(f"device='{t.device}'")
    if meta:
        body = "..."
        suffixes.append(f"size={tuple(a.shape)}")
    elif a.size == 0:
        body = "[]"
        if a.shape != (0,):
            suffixes.append(f"size={tuple(a.shape)}")
    else:
        vals = _summary_values(a) if summarize else a
        fcls = _ComplexFormatter if a.dtype.kind == "c" else _Formatter
        f = fcls(
            np.asarray(vals)
            if a.dtype.itemsize != 2 or a.dtype.kind not in "fV"
            else np.asarray(vals, dtype=np.float32)
        )
        body = _fmt_array(
            a if a.dtype.itemsize != 2 or a.dtype.kind not in "fV" else a.astype(np.float32),
            f,
            indent,
            summarize,
        )
    dt = t.dtype
    if meta:
        if dt is not D.get_default_dtype():
            suffixes.append(f"dtype={dt}")
    elif dt not in (D.get_default_dtype(), D.get_default_dtype().to_complex(), D.int64, D.bool) or (
        a.size == 0 and dt is not D.get_default_dtype()
    ):
        suffixes.append(f"dtype={dt}")
    tangent, show_grad = None, True
    fad = sys.modules.get("ctorch.autograd.forward_ad")
    if t._rg and fad is not None and fad._current is not None and not _in_tangent:
        # inside a forward-AD level, as torch prints a dual tensor: its tangent, and the
        # grad marks only for what needs a gradient outside forward AD (ctorch's duals
        # require grad: the graph carries their tangents)
        tangent, show_grad = fad._print_parts(t)
    if show_grad and t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif show_grad and t._rg:
        suffixes.append("requires_grad=True")
    if tangent is not None:
        _in_tangent.append(True)  # the tangent prints as a plain tensor (no tangent of its own)
        try:
            suffixes.append(f"tangent={tangent}")
        finally:
            _in_tangent.pop()
    s = prefix + body
    # torch's _add_suffixes: a suffix that would pass the line width goes on its own line
    last = len(s) - s.rfind("\n") + 1
    for sfx in suffixes:
        if last + len(sfx) + 2 > PRINT_OPTS.linewidth:
            s += ",\n" + " " * indent + sfx
            last = indent + len(sfx)
        else:
            s += ", " + sfx
            last += len(sfx) + 2
    return s + ")"
