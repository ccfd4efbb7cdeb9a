"""The elementwise op table (``elementwise.def``) as Python data.

The same file is included by the CPU SIMD header and the CUDA kernels as an X-macro; here it
is parsed once at import. Op codes are the row order within each kind (unary, binary), so no
code number is written anywhere else. Each row's expressions are valid Python too: they are
compiled into functions over any namespace of operations (NumPy/CuPy arrays for the small-input
forward, ctorch tensors for the differentiable backward) by :func:`compile_expr`.

This module imports nothing from ctorch: the kernels (``ctorch._core.elementwise``) read their
``BIN_*``/``UN_*`` names from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TABLE = Path(__file__).with_name("elementwise.def")

CHEAP, INT, NN, CUSTOM, NOINT = 1, 2, 4, 8, 16
# grad_fn names where torch's differ from CamelCase(name) + "Backward0"
_NODE_NAMES = {
    "log1p": "Log1PBackward0",
    "square": "PowBackward0",
    "logsigmoid": "LogSigmoidBackward0",
}
_FLAG_BITS = {
    "CT_CHEAP": CHEAP,
    "CT_INT": INT,
    "CT_NN": NN,
    "CT_CUSTOM": CUSTOM,
    "CT_NOINT": NOINT,
    "0": 0,
}
# torch's kernel names in its "not implemented for 'Long'" errors, where not "<name>_cpu"
_KERNEL_NAMES = {
    "gelu": "GeluKernelImpl",
    "gelu_tanh": "GeluKernelImpl",
    "logsigmoid": "log_sigmoid_cpu",
    "softshrink": "softshrink_check",
    "celu": "elu_cpu",
}

#: rows without a bool kernel in torch: its kernel name (NotImplementedError) or its message
_NO_BOOL = {
    "abs": '"abs_cpu"',
    "floor": '"floor_vml_cpu"',
    "ceil": '"ceil_vml_cpu"',
    "round": '"round_vml_cpu"',
    "trunc": '"trunc_vml_cpu"',
    "relu": "Boolean inputs not supported for relu",
    "neg": "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
    "invert a mask, use the `~` or `logical_not()` operator instead.",
}


@dataclass(frozen=True)
class Op:
    """One row of the table."""

    kind: str  # "unary" or "binary"
    NAME: str  # the C name: CT_UN_<NAME> / CT_BIN_<NAME>
    code: int
    flags: int
    public: str | None  # torch's name, None for an internal variant
    aliases: tuple[str, ...]
    ufunc: str | None  # the NumPy ufunc computing the same thing, if any
    forward: str
    grads: tuple[str, ...]  # unary: (backward,); binary: (grad_x, grad_y)
    saves: str = ""  # unary: "", "x", "y" or "xy"

    @property
    def name(self) -> str:
        """The internal name (lower-case C name): ``gelu_tanh``, ``max``."""
        return self.NAME.lower()

    @property
    def cheap(self) -> bool:
        return bool(self.flags & CHEAP)

    @property
    def int_ok(self) -> bool:
        return bool(self.flags & INT)

    @property
    def nn_only(self) -> bool:
        return bool(self.flags & NN)

    @property
    def custom(self) -> bool:
        return bool(self.flags & CUSTOM)

    def refuse_bool(self, dtype) -> None:
        """Raise torch's error for a bool ``dtype`` on a row torch has no bool kernel for
        (abs, the roundings, relu), which NumPy would run as the identity."""
        if np.dtype(dtype).kind == "b" and self.name in _NO_BOOL:
            msg = _NO_BOOL[self.name]
            if msg.startswith('"'):
                raise NotImplementedError(f"{msg} not implemented for 'Bool'")
            raise RuntimeError(msg)

    def refuse_int(self, dtype) -> None:
        """Raise torch's NotImplementedError for an integer/bool ``dtype`` on a CT_NOINT row."""
        if self.flags & NOINT and np.dtype(dtype).kind in "biu":
            from ..ops._util import SCALAR_TYPE_NAMES as names  # ops imports this module

            kernel = _KERNEL_NAMES.get(self.name, f"{self.name}_cpu")
            scalar = names.get(np.dtype(dtype).name, str(dtype))
            raise NotImplementedError(f"\"{kernel}\" not implemented for '{scalar}'")

    @property
    def has_backward_kernel(self) -> bool:
        return self.kind == "unary" and self.saves != ""

    @property
    def node_name(self) -> str:
        """torch's grad_fn name for the op (``Atan2Backward0``)."""
        if self.name in _NODE_NAMES:
            return _NODE_NAMES[self.name]
        base = self.public or self.name.split("_")[0]
        return "".join(p.capitalize() for p in base.split("_")) + "Backward0"


def _strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def _split_args(body: str) -> list[str]:
    """Split a macro argument list on its top-level commas."""
    out, depth, cur, in_str = [], 0, [], False
    for ch in body:
        if in_str:
            cur.append(ch)
            if ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur).strip())
    return [" ".join(a.split()) for a in out]


def _rows(text: str):
    text = _strip_comments(text)
    for m in re.finditer(r"^\s*(UNARY|BINARY)\s*\(", text, flags=re.M):
        i, depth = m.end(), 1
        while depth:
            c = text[i]
            depth += c == "("
            depth -= c == ")"
            i += 1
        yield m.group(1), _split_args(text[m.end() : i - 1])


def _flags(s: str) -> int:
    bits = 0
    for part in s.split("|"):
        bits |= _FLAG_BITS[part.strip()]
    return bits


def _names(s: str) -> tuple[str | None, tuple[str, ...]]:
    words = s.strip('"').split()
    if not words or words[0] == "-":
        return None, ()
    return words[0], tuple(words[1:])


def parse(text: str) -> tuple[list[Op], list[Op]]:
    rows: dict[str, list[Op]] = {"UNARY": [], "BINARY": []}
    for kind, args in _rows(text):
        if len(args) != 7:
            raise ValueError(f"elementwise.def: {kind} row needs 7 fields, got {args}")
        if kind == "UNARY":
            NAME, saves, flags, names, ufunc, fwd, *grads = args
        else:
            NAME, flags, names, ufunc, fwd, *grads = args
            saves = "NONE"
        public, aliases = _names(names)
        lst = rows[kind]
        lst.append(
            Op(
                kind.lower(),
                NAME,
                len(lst),
                _flags(flags),
                public,
                aliases,
                ufunc.strip('"') or None,
                fwd,
                tuple(grads),
                "" if saves == "NONE" else saves.lower(),
            )
        )
    return rows["UNARY"], rows["BINARY"]


def public_functions(rows, make) -> dict:
    """``{torch name or alias: make(op)}`` for the rows with a torch name that ``ops``
    generates (not ``CT_CUSTOM``): the module namespace of the generated public functions."""
    out = {}
    for op in rows:
        if op.public and not op.custom:
            fn = make(op)
            for name in (op.public, *op.aliases):
                out[name] = fn
    return out


UNARY, BINARY = parse(TABLE.read_text(encoding="utf-8"))
UNARY_BY_NAME = {op.name: op for op in UNARY}
BINARY_BY_NAME = {op.name: op for op in BINARY}


def code_names() -> dict[str, int]:
    """``{"UN_EXP": 2, "BIN_ADD": 0, ...}``: the kernel modules' op-code constants."""
    d = {f"UN_{op.NAME}": op.code for op in UNARY}
    d.update({f"BIN_{op.NAME}": op.code for op in BINARY})
    return d


def compile_expr(expr: str, params: str, namespace: dict):
    """A Python function ``lambda <params>: <expr>`` over ``namespace``'s vocabulary."""
    return eval(f"lambda {params}: ({expr})", dict(namespace))  # noqa: S307 - our own table
