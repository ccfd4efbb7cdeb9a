"""``torch.utils.flop_counter``: ``FlopCounterMode`` counts matmul/conv/attention FLOPs.

torch counts at its dispatcher (``__torch_dispatch__``); ctorch has none, so the mode puts a
hook in the one place every differentiable op passes through, ``Function.apply`` (the
profiler's operator hook, ``ctorch._core._autograd.set_op_hook``), for as long as it is
active, and in the backward loop's per-node bracket. Outside the mode nothing is installed:
zero cost. While it is active the ops' direct fast paths are blocked (as under the profiler),
so every op goes through ``apply``.

Counted, with torch's formulas and under torch's aten names (the keys are
``ctorch.ops.aten.<name>`` packets whose ``str`` is ``aten.<name>``, as torch's are):

- ``matmul``/``mm``/``bmm``/``@``: ``aten.mm`` when torch folds the product into one matrix
  product (2-D @ 2-D, 1-D @ 2-D, N-D @ 2-D), ``aten.bmm`` for batched products
  (``2 * batch * m * n * k``); matrix-vector and dot products are not counted (torch does not
  count ``mv``/``dot`` either). Backward: one product of the same size per input needing a
  gradient, as ``aten.mm``/``aten.bmm``.
- ``addmm``/``baddbmm``: ``aten.addmm``/``aten.baddbmm``; backward ``aten.mm``/``aten.bmm``.
- ``F.linear``/``nn.Linear``: ``aten.addmm`` with a bias (any input rank, as torch 2.13
  folds it), else ``aten.mm``; backward ``aten.mm`` per weight/input gradient.
- ``conv1d``/``conv2d``/``conv_transpose1d``/``conv_transpose2d``: ``aten.convolution`` and
  ``aten.convolution_backward`` (torch's ``conv_flop_count`` and its output-mask rule).
  ctorch's ``conv3d``/``conv_transpose3d`` are built of per-depth 2-D convolutions and count as
  those (for ``conv3d`` the sums equal torch's counts; checked in the tests).
- not counted: ``einsum`` (torch counts its ``bmm`` lowering; ctorch's einsum runs NumPy's),
  matrix-vector/dot products, ``bilinear`` (as torch), and double backward
  (``create_graph=True``) products.
- ``scaled_dot_product_attention``: torch's CPU path decomposes it into two ``aten.bmm``; so
  does this count (``sdpa_flop_count``), and backward counts the bmm products autograd runs
  for the inputs that need gradients.

Module attribution follows torch's ``ModuleTracker``: global forward hooks keep the set of
modules whose forward is running (named ``Root``, ``Root.child``, ...); a counted op is
charged to each of them and to ``Global``, and its backward to the same set.
``get_table`` renders torch's table (tabulate's ``simple`` layout) without tabulate.
Not supported: ``custom_mapping`` formulas for ctorch.library ops, and a profiler *started
inside* the mode takes the operator hook over until it stops (one started before is chained).
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import defaultdict
from typing import Any

__all__ = ["FlopCounterMode", "register_flop_formula"]

_prod = math.prod


def mm_flop(a_shape, b_shape, *args: Any, out_shape=None, **kwargs: Any) -> int:
    m, k = a_shape
    k2, n = b_shape
    assert k == k2
    return m * n * 2 * k


def bmm_flop(a_shape, b_shape, out_shape=None, **kwargs: Any) -> int:
    b, m, k = a_shape
    b2, k2, n = b_shape
    assert b == b2 and k == k2
    return b * m * n * 2 * k


def conv_flop_count(x_shape, w_shape, out_shape, transposed: bool = False) -> int:
    """torch's count: ``prod(conv_shape) * prod(filter) * batch * c_out * c_in * 2`` where the
    convolved positions are the output's (the input's for a transposed conv)."""
    batch_size = x_shape[0]
    conv_shape = (x_shape if transposed else out_shape)[2:]
    c_out, c_in, *filter_size = w_shape
    return _prod(conv_shape) * _prod(filter_size) * batch_size * c_out * c_in * 2


def conv_backward_flop(
    grad_out_shape, x_shape, w_shape, transposed, output_mask, gi_shape, gw_shape
) -> int:
    def t(shape):
        return [shape[1], shape[0], *shape[2:]]

    flops = 0
    if output_mask[0]:
        flops += conv_flop_count(grad_out_shape, w_shape, gi_shape, not transposed)
    if output_mask[1]:
        if transposed:
            flops += conv_flop_count(t(grad_out_shape), t(x_shape), t(gw_shape), False)
        else:
            flops += conv_flop_count(t(x_shape), t(grad_out_shape), t(gw_shape), False)
    return flops


def sdpa_flop_count(query_shape, key_shape, value_shape) -> int:
    """The two bmm products of attention (``q @ k^T`` and ``scores @ v``)."""
    b = _prod(query_shape[:-2])
    s_q, d_q = query_shape[-2:]
    s_k = key_shape[-2]
    d_v = value_shape[-1]
    return bmm_flop((b, s_q, d_q), (b, d_q, s_k)) + bmm_flop((b, s_q, s_k), (b, s_k, d_v))


_formulas: dict = {}


def register_flop_formula(targets: Any, get_raw: bool = False):
    """Accepted for torch compatibility; the formulas are not consulted (ctorch counts the
    ops listed in this module's docstring with its own hook)."""

    def register(f):
        for t in targets if isinstance(targets, (list, tuple)) else (targets,):
            _formulas[t] = f
        return f

    return register


# ---------------------------------------------------------------- per-op counting


_classes: dict | None = None


def _op_classes() -> dict:
    global _classes
    if _classes is None:
        from ..ops import attention, conv, linalg

        _classes = {
            "matmul": linalg.MatMul,
            "addprod": linalg._AddProduct,
            "linear": linalg.Linear,
            "conv": (conv.Conv2dFn,),
            "convt": (conv.ConvTranspose2dFn,),
            "sdpa": attention.ScaledDotProductAttention,
        }
    return _classes


_counted: dict[type, bool] = {}


def _is_counted(cls: type) -> bool:
    r = _counted.get(cls)
    if r is None:
        c = _op_classes()
        r = _counted[cls] = issubclass(
            cls, (c["linear"], c["matmul"], c["addprod"], *c["conv"], *c["convt"], c["sdpa"])
        )
    return r


def _rg(t: Any) -> bool:
    return bool(getattr(t, "requires_grad", False))


def _shape(t: Any) -> tuple:
    return tuple(t._a.shape)


def _matmul_flops(sa: tuple, sb: tuple) -> tuple[str, int] | None:
    """(aten op, flops) of one matmul of these shapes as torch lowers it, or None (mv/dot)."""
    if len(sb) == 1:
        return None  # dot / mv: not counted by torch
    if len(sb) == 2 and len(sa) >= 1:
        m = _prod(sa[:-1]) if len(sa) > 1 else 1
        return "mm", mm_flop((m, sa[-1]), sb)
    a = sa if len(sa) > 1 else (1, sa[0])
    batch = _prod(_broadcast(a[:-2], sb[:-2]))
    return "bmm", bmm_flop((batch, a[-2], a[-1]), (batch, sb[-2], sb[-1]))


def _broadcast(x: tuple, y: tuple) -> tuple:
    n = max(len(x), len(y))
    x, y = (1,) * (n - len(x)) + tuple(x), (1,) * (n - len(y)) + tuple(y)
    return tuple(max(p, q) for p, q in zip(x, y, strict=True))


def _count(cls: type, args: tuple, out: Any) -> tuple[dict, dict] | None:
    """({aten name: forward flops}, {aten name: backward flops}) of one op, or None."""
    c = _op_classes()
    if issubclass(cls, c["linear"]):
        x, w, b = args[0], args[1], args[2]
        sx, sw = _shape(x), _shape(w)
        m = _prod(sx[:-1])
        f = mm_flop((m, sx[-1]), (sw[1], sw[0]))
        fused = b is not None  # torch 2.13 folds any input with a bias into one addmm
        bwd = f * (int(_rg(x)) + int(_rg(w)))
        return {"addmm" if fused else "mm": f}, ({"mm": bwd} if bwd else {})
    if issubclass(cls, c["matmul"]):
        r = _matmul_flops(_shape(args[0]), _shape(args[1]))
        if r is None:
            return None
        name, f = r
        bwd = f * (int(_rg(args[0])) + int(_rg(args[1])))
        return {name: f}, ({name: bwd} if bwd else {})
    if issubclass(cls, c["addprod"]):
        node = cls._backward_cls.__name__
        m1, m2 = args[1], args[2]
        if node.startswith("Addmm"):
            name, f = "addmm", mm_flop(_shape(m1), _shape(m2))
            bname = "mm"
        elif node.startswith("Baddbmm"):
            name, f = "baddbmm", bmm_flop(_shape(m1), _shape(m2))
            bname = "bmm"
        else:
            return None  # addmv / addr: not counted by torch
        bwd = f * (int(_rg(m1)) + int(_rg(m2)))
        return {name: f}, ({bname: bwd} if bwd else {})
    conv_t = issubclass(cls, c["convt"])
    if conv_t or issubclass(cls, c["conv"]):
        x, w = args[0], args[1]
        o = out[0] if isinstance(out, tuple) else out
        sx, sw, so = _shape(x), _shape(w), _shape(o)
        if len(sx) == len(sw) - 1:  # unbatched input: torch adds a batch of one
            sx, so = (1, *sx), (1, *so)
        f = conv_flop_count(sx, sw, so, conv_t)
        bwd = conv_backward_flop(so, sx, sw, conv_t, (_rg(x), _rg(w)), sx, sw)
        return {"convolution": f}, ({"convolution_backward": bwd} if bwd else {})
    if issubclass(cls, c["sdpa"]):
        q, k, v = args[0], args[1], args[2]
        sq, sk, sv = _shape(q), _shape(k), _shape(v)
        b = _prod(sq[:-2])
        s_q, d = sq[-2:]
        s_k, d_v = sk[-2], sv[-1]
        qk = bmm_flop((b, s_q, d), (b, d, s_k))
        av = bmm_flop((b, s_q, s_k), (b, s_k, d_v))
        bwd = 0
        if _rg(q) or _rg(k):
            bwd += av  # grad of the scores: grad_out @ v^T
        if _rg(v):
            bwd += av  # grad_v: scores^T @ grad_out
        if _rg(q):
            bwd += qk
        if _rg(k):
            bwd += qk
        return {"bmm": qk + av}, ({"bmm": bwd} if bwd else {})
    return None


# ---------------------------------------------------------------- the hook


class _Hook:
    """The operator hook while a FlopCounterMode is active (chains a profiler's recorder)."""

    def __init__(self, mode: FlopCounterMode, prev: Any) -> None:
        from .._core import _autograd

        self.mode = mode
        self.prev = prev
        self._apply = prev.op if prev is not None else _autograd.apply_unhooked
        self.local = threading.local()
        self.pending: dict[int, tuple[Any, dict, frozenset]] = {}
        self._prune_at = 1024

    def op(self, cls, args, kwargs):
        loc = self.local
        if getattr(loc, "depth", 0) or getattr(loc, "in_backward", False):
            return self._apply(cls, args, kwargs)
        counted = _is_counted(cls)
        if not counted:  # ops inside it (a composite's matmuls) are counted on their own
            return self._apply(cls, args, kwargs)
        loc.depth = 1  # ops a counted op runs inside are part of its count
        try:
            out = self._apply(cls, args, kwargs)
        finally:
            loc.depth = 0
        r = _count(cls, args, out)
        if r is not None:
            fwd, bwd = r
            parents = frozenset(self.mode._parents)
            for name, f in fwd.items():
                self.mode._add(name, f, parents)
            if bwd:
                o = out[0] if isinstance(out, tuple) else out
                node = getattr(o, "grad_fn", None)
                if node is not None:
                    pend = self.pending
                    if len(pend) > self._prune_at:  # drop the entries of freed graphs
                        for k in [k for k, v in pend.items() if v[0]() is None]:
                            del pend[k]
                        self._prune_at = max(1024, 2 * len(pend))
                    pend[id(node)] = (weakref.ref(node), bwd, parents)
        return out

    def begin(self):
        # ops that a node's backward formula runs are not counted again (its formula counts
        # them); set and cleared per node, so a backward that raised does not leave it set
        # for longer than the next node
        self.local.in_backward = True
        return self.prev.begin() if self.prev is not None else 0

    def end_node(self, t0, node) -> None:
        self.local.in_backward = False
        if self.prev is not None:
            self.prev.end_node(t0, node)
        rec = self.pending.get(id(node))
        if rec is not None and rec[0]() is node:
            for name, f in rec[1].items():
                self.mode._add(name, f, rec[2])


_active: list[FlopCounterMode] = []


def _fmt_suffix(number: int) -> str:
    suffixes = ["", "K", "M", "B", "T"]
    return suffixes[max(0, min(len(suffixes) - 1, (len(str(number)) - 2) // 3))]


def _with_suffix(number: int, suffix: str) -> str:
    suffixes = ["", "K", "M", "B", "T"]
    return f"{number / 1000 ** suffixes.index(suffix):.3f}" + suffix


def _percent(num: int, denom: int) -> str:
    return "0%" if denom == 0 else f"{num / denom:.2%}"


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _tabulate(rows: list[list[str]], headers: list[str]) -> str:
    """tabulate's ``simple`` layout with columns aligned left/right/right (torch's call)."""
    rows = [[v.strip() for v in r] for r in rows]  # tabulate strips cells (torch's pads vanish)
    cols = list(zip(*rows, strict=True)) if rows else [[] for _ in headers]
    cols = [list(c) for c in cols]
    # tabulate formats an all-numeric column with "g" (so "1360.000" prints as 1360)
    for i, c in enumerate(cols):
        if i > 0 and c and all(_is_number(v) for v in c):
            cols[i] = [format(float(v), "g") for v in c]
    widths = [max([len(h) + 2, *(len(v) for v in c)]) for h, c in zip(headers, cols, strict=True)]

    def line(vals: list[str]) -> str:
        out = []
        for i, (v, w) in enumerate(zip(vals, widths, strict=True)):
            out.append(v.ljust(w) if i == 0 else v.rjust(w))
        return "  ".join(out)

    lines = [line(headers), "  ".join("-" * w for w in widths)]
    lines += [line(list(r)) for r in zip(*cols, strict=True)]
    return "\n".join(lines)


class FlopCounterMode:
    """Counts FLOPs of the ops run inside it (see the module docstring); prints torch's
    table on exit when ``display``. Not reentrant, as torch's."""

    def __init__(
        self,
        mods: Any = None,
        depth: int = 2,
        display: bool = True,
        custom_mapping: dict | None = None,
    ) -> None:
        if mods is not None:
            import warnings

            warnings.warn(
                "mods argument is not needed anymore, you can stop passing it", stacklevel=2
            )
        if custom_mapping:
            raise NotImplementedError(
                "FlopCounterMode(custom_mapping=...): ctorch counts its own op list only"
            )
        self.flop_counts: dict[str, dict[Any, int]] = defaultdict(lambda: defaultdict(int))
        self.depth = depth
        self.display = display
        self._parents: set[str] = {"Global"}
        self._names: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._seen: weakref.WeakSet = weakref.WeakSet()
        self._hook: _Hook | None = None
        self._handles: list = []

    # -- counts
    def _add(self, name: str, flops: int, parents: frozenset) -> None:
        from .. import ops

        key = getattr(ops.aten, name)
        for p in parents:
            self.flop_counts[p][key] += flops

    def get_total_flops(self) -> int:
        return sum(self.flop_counts["Global"].values())

    def get_flop_counts(self) -> dict[str, dict[Any, int]]:
        return {k: dict(v) for k, v in self.flop_counts.items()}

    def get_table(self, depth: int | None = None) -> str:
        if depth is None:
            depth = self.depth
        if depth is None:
            depth = 999999
        global_flops = self.get_total_flops()
        suffix = _fmt_suffix(global_flops)
        subsumed = False

        def process(mod: str, d: int) -> list[list[str]]:
            nonlocal subsumed
            total = sum(self.flop_counts[mod].values())
            subsumed |= total >= global_flops
            pad = " " * d
            vals = [[pad + mod, _with_suffix(total, suffix), _percent(total, global_flops)]]
            for k, v in self.flop_counts[mod].items():
                vals.append(
                    [pad + " - " + str(k), _with_suffix(v, suffix), _percent(v, global_flops)]
                )
            return vals

        values: list[list[str]] = []
        for mod in sorted(self.flop_counts.keys()):
            if mod == "Global":
                continue
            d = mod.count(".") + 1
            if d > depth:
                continue
            values.extend(process(mod, d - 1))
        if "Global" in self.flop_counts and not subsumed:
            for v in values:
                v[0] = " " + v[0]
            values = process("Global", 0) + values
        if not values:
            values = [["Global", "0", "0%"]]
        return _tabulate(values, ["Module", "FLOP", "% Total"])

    # -- module tracking (torch's ModuleTracker naming)
    def _mod_name(self, mod: Any) -> str:
        try:
            name = self._names.get(mod)
            if name is None:
                name = self._names[mod] = type(mod).__name__
            if mod not in self._seen:
                for child_name, sub in mod.named_children():
                    self._names[sub] = f"{name}.{child_name}"
                    self._mod_name(sub)
                self._seen.add(mod)
        except TypeError:  # an unhashable / non-weakrefable module
            name = type(mod).__name__
        return name

    def _pre(self, mod: Any, inputs: Any) -> None:
        self._parents.add(self._mod_name(mod))

    def _post(self, mod: Any, inputs: Any, output: Any) -> None:
        self._parents.discard(self._mod_name(mod))

    # -- context
    def __enter__(self) -> FlopCounterMode:
        from .. import profiler
        from .._core import _autograd
        from ..autograd import function
        from ..nn.modules import module as _module

        if self._hook is not None:
            raise RuntimeError("FlopCounterMode is not reentrant")
        self.flop_counts.clear()
        self._parents = {"Global"}
        prev = None
        if profiler._collectors:
            prev = profiler._OpRecorder()
        self._hook = _Hook(self, prev)
        _autograd.set_op_hook(self._hook)
        self._saved_autocast = function._autocast
        if function._autocast is None:
            function._autocast = profiler._fast_path_block
        self._handles = [
            _module.register_module_forward_pre_hook(self._pre),
            _module.register_module_forward_hook(self._post, always_call=True),
        ]
        _active.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        from .. import profiler
        from ..autograd import function

        for h in self._handles:
            h.remove()
        self._handles = []
        if self in _active:
            _active.remove(self)
        if function._autocast is profiler._fast_path_block and self._saved_autocast is None:
            function._autocast = None
        profiler._publish()  # the profiler's hook (if it records) or none
        if function._autocast is None and self._saved_autocast is not None:
            function._autocast = self._saved_autocast
        self._hook = None
        if self.display:
            print(self.get_table(self.depth))
