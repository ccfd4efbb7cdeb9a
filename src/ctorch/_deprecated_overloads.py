"""torch's deprecated scalar-first overloads, still accepted (with one warning) as old training
loops use them: ``torch.add(x, 2, y)``, ``p.data.add_(-lr, grad)``, ``x.addcmul_(value, t1, t2)``,
``torch.addmm(beta, M, alpha, m1, m2)`` and the rest of the beta-first family.

torch's argument parser keeps these signatures as ``deprecated`` and, on a match, raises
``UserWarning("This overload of <name> is deprecated: ...")`` through ``TORCH_WARN_ONCE`` at one
place: the first deprecated call of the process warns, every later one of any op is silent
(checked against torch 2.13). ctorch does the same, with the same text up to torch's
``(Triggered internally at <C++ file>)`` suffix, attributed to the user's line.

:func:`install` wraps the functions (``ctorch.add``, ...) and the Tensor methods; the wrapper
costs a ``len(args)`` test on the ordinary calls. The ops themselves are untouched, so ctorch's
own calls (``a + b`` included) never pay for it.
"""

from __future__ import annotations

import functools
import numbers

from . import _warnings

_warned = False
_NO = object()  # an argument not given

# op -> (kind, names of its two tensor arguments)
_ALPHA = {"add": "other", "sub": "other"}
_VALUE = ("addcmul", "addcdiv")
_BETA = {
    "addmm": ("mat1", "mat2"),
    "addmv": ("mat", "vec"),
    "addr": ("vec1", "vec2"),
    "baddbmm": ("batch1", "batch2"),
    "addbmm": ("batch1", "batch2"),
}
_OUT_DTYPE = ("addmm", "baddbmm")  # torch lists a second modern signature for these


def _warn_once(name: str, used: str, alternatives: list[str]) -> None:
    global _warned
    if _warned:
        return
    _warned = True
    text = f"This overload of {name} is deprecated:\n\t{name}({used})\n"
    text += "Consider using one of the following signatures instead:"
    text += "".join(f"\n\t{name}({a})" for a in alternatives)
    _warnings.warn(text, UserWarning)


def _number(name: str, what: str, v):
    from ._tensor import Tensor

    if isinstance(v, Tensor) and v.ndim == 0:  # torch's parser takes a 0-d tensor as a Number
        return v.item()
    if isinstance(v, numbers.Number):
        return v
    raise TypeError(
        f"{name}() received an invalid combination of arguments - expected a Number for "
        f"{what}, got {type(v).__name__}"
    )


def _alpha_first(fn, name: str, method: bool):
    base = name.rstrip("_")
    out = "" if method else ", *, Tensor out = None"
    out_kw = "" if method else ", Tensor out = None"  # after other keywords
    inp = "" if method else "Tensor input, "
    used = f"{inp}Number alpha, Tensor other{out}"
    alt = f"{inp}Tensor other, *, Number alpha = 1{out_kw}"
    assert base in _ALPHA

    def deprecated(input, alpha, args, kwargs):
        if len(args) > 1 or "alpha" in kwargs or (args and "other" in kwargs):
            raise TypeError(
                f"{name}() received an invalid combination of arguments - got "
                f"{2 + len(args)} positional arguments and keywords {sorted(kwargs)}"
            )
        alpha = _number(name, "alpha", alpha)
        other = args[0] if args else kwargs.pop("other")
        _warn_once(name, used, [alt])
        return fn(input, other, alpha=alpha, **kwargs)

    # add/sub are hot: the ordinary calls (x, y) and (x, y, alpha=a) pay one call layer
    # without a keyword dict; other keywords (out=, other=) and extra arguments take the
    # longer road
    @functools.wraps(fn)
    def wrapper(input=_NO, other=_NO, /, *args, alpha=_NO, **kwargs):
        if args or kwargs or other is _NO:
            if alpha is not _NO:
                kwargs["alpha"] = alpha
            if input is _NO:
                return fn(**kwargs)
            if other is _NO:
                return fn(input, **kwargs)
            if not args and "other" not in kwargs:
                return fn(input, other, **kwargs)
            return deprecated(input, other, args, kwargs)
        if alpha is _NO:
            return fn(input, other)
        return fn(input, other, alpha=alpha)

    return wrapper


def _value_first(fn, name: str, method: bool):
    out = "" if method else ", *, Tensor out = None"
    out_kw = "" if method else ", Tensor out = None"  # after other keywords
    inp = "" if method else "Tensor input, "
    used = f"{inp}Number value, Tensor tensor1, Tensor tensor2{out}"
    alt = f"{inp}Tensor tensor1, Tensor tensor2, *, Number value = 1{out_kw}"

    def slow(args, kwargs):
        # the deprecated form, also with its tensors by keyword: (input, value, tensor1,
        # tensor2=t2) or (input, value, tensor1=t1, tensor2=t2), as torch's parser takes it
        if len(args) < 4 and not (
            2 <= len(args) and isinstance(args[1], numbers.Number) and "tensor2" in kwargs
        ):
            return fn(*args, **kwargs)
        if len(args) > 4 or "value" in kwargs:
            raise TypeError(f"{name}() takes 3 positional arguments but {len(args)} were given")
        value = _number(name, "value", args[1])
        rest = list(args[2:])
        for key in ("tensor1", "tensor2")[len(rest) :]:
            if key not in kwargs:
                raise TypeError(f"{name}() missing required argument '{key}'")
            rest.append(kwargs.pop(key))
        _warn_once(name, used, [alt])
        return fn(args[0], rest[0], rest[1], value=value, **kwargs)

    # the optimizers' addcmul_(t1, t2, value=v): no keyword dict on the ordinary calls
    @functools.wraps(fn)
    def wrapper(input=_NO, t1=_NO, t2=_NO, /, *args, value=_NO, **kwargs):
        if args or kwargs or t2 is _NO:
            if value is not _NO:
                kwargs["value"] = value
            return slow(tuple(a for a in (input, t1, t2) if a is not _NO) + args, kwargs)
        if value is _NO:
            return fn(input, t1, t2)
        return fn(input, t1, t2, value=value)

    return wrapper


def _beta_first(fn, name: str, method: bool):
    base = name.rstrip("_")
    m1, m2 = _BETA[base]
    out = "" if method else ", *, Tensor out = None"
    out_kw = "" if method else ", Tensor out = None"  # after other keywords
    inp = "" if method else "Tensor input, "
    alts = [f"{inp}Tensor {m1}, Tensor {m2}, *, Number beta = 1, Number alpha = 1{out_kw}"]
    if base in _OUT_DTYPE and not method:
        alts.append(
            f"{inp}Tensor {m1}, Tensor {m2}, torch.dtype out_dtype, *, Number beta = 1, "
            f"Number alpha = 1{out_kw}"
        )

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        n = len(args)
        if n < 4:
            return fn(*args, **kwargs)
        if n > 5 or "beta" in kwargs or "alpha" in kwargs:
            raise TypeError(f"{name}() takes 3 positional arguments but {n} were given")
        # function: (beta, input, [alpha,] m1, m2); method: (self, beta, [alpha,] m1, m2)
        if method:
            self, beta, rest = args[0], args[1], args[2:]
        else:
            beta, self, rest = args[0], args[1], args[2:]
        beta = _number(name, "beta", beta)
        if len(rest) == 3:
            alpha = _number(name, "alpha", rest[0])
            rest = rest[1:]
            used = f"Number beta, {inp}Number alpha, Tensor {m1}, Tensor {m2}{out}"
            if method:
                used = f"Number beta, Number alpha, Tensor {m1}, Tensor {m2}"
        else:
            alpha = 1
            used = f"Number beta, {inp}Tensor {m1}, Tensor {m2}{out}"
        _warn_once(name, used, alts)
        return fn(self, rest[0], rest[1], beta=beta, alpha=alpha, **kwargs)

    return wrapper


def wrap(fn, name: str, *, method: bool):
    """``fn`` (the function or Tensor method ``name``) taking torch's deprecated overloads."""
    base = name.rstrip("_")
    if base in _ALPHA:
        w = _alpha_first(fn, name, method)
    elif base in _VALUE:
        w = _value_first(fn, name, method)
    else:
        w = _beta_first(fn, name, method)
    w.__ctorch_deprecated_overloads__ = True
    return w


_FUNCTIONS = ("add", "sub", *_VALUE, *_BETA)


def install(T: type, namespace: dict) -> None:
    """Wrap the Tensor methods (and their in-place forms) and the functions in ``namespace``
    (the ``ctorch`` module's globals)."""
    for base in _FUNCTIONS:
        for name in (base, base + "_"):
            fn = T.__dict__.get(name)
            if fn is not None and not getattr(fn, "__ctorch_deprecated_overloads__", False):
                setattr(T, name, wrap(fn, name, method=True))
        fn = namespace.get(base)
        if fn is not None and not getattr(fn, "__ctorch_deprecated_overloads__", False):
            namespace[base] = wrap(fn, base, method=False)
