"""``torch.jit`` for eager ctorch: the decorators and helpers real programs apply at import
time, so that code written for TorchScript runs unchanged.

ctorch has no TorchScript compiler. ``script`` returns its argument; ``trace`` runs the
function or module once on the example inputs (with ``is_tracing()`` true, as torch does) and
returns it, so later calls give the outputs the eager code gives. The decorators (``ignore``,
``unused``, ``export``, ``interface``, ``_overload*``) return what they decorate.
``save``/``load`` raise: there is no TorchScript archive to write or read.
"""

from __future__ import annotations

import contextlib
import importlib
import typing
from collections.abc import Callable, Iterator
from typing import Any, Final  # noqa: F401 - torch.jit.Final

from ..nn.modules.module import Module as _Module

# ``from . import annotations`` would return the __future__ feature bound above under that name
annotations = importlib.import_module(".annotations", __name__)  # noqa: F811

__all__ = [
    "Attribute",
    "CompilationUnit",
    "Error",
    "Final",
    "Future",
    "ScriptFunction",
    "ScriptModule",
    "RecursiveScriptModule",
    "TracerWarning",
    "annotations",
    "enable_onednn_fusion",
    "export",
    "fork",
    "freeze",
    "fuser",
    "ignore",
    "interface",
    "is_scripting",
    "is_tracing",
    "isinstance",
    "load",
    "optimize_for_inference",
    "optimized_execution",
    "save",
    "script",
    "script_if_tracing",
    "script_method",
    "set_fusion_strategy",
    "trace",
    "trace_module",
    "unused",
    "wait",
]

_builtin_isinstance = isinstance
Error = RuntimeError


class TracerWarning(Warning):
    pass


class ScriptModule(_Module):
    """torch's base class of old-style TorchScript modules (``class M(torch.jit.ScriptModule)``
    with ``@torch.jit.script_method``): here an ordinary eager ``nn.Module``. ``script`` and
    ``trace`` never create one, so ``isinstance(m, ScriptModule)`` is false for their results,
    which are the eager modules themselves."""


class RecursiveScriptModule(ScriptModule):
    pass


def script_method(fn: Callable) -> Callable:
    """``@torch.jit.script_method``: the method unchanged."""
    return fn


class ScriptFunction:
    """Stand-in for torch's class in ``isinstance`` checks; ctorch never creates one."""


class CompilationUnit:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "torch.jit.CompilationUnit: ctorch has no TorchScript compiler (code runs eagerly)"
        )


def Attribute(value: Any, type: Any = None) -> Any:  # noqa: N802,A002 - torch's names
    """``torch.jit.Attribute(value, type)``: the value itself in eager mode."""
    return value


_tracing = [0]


def is_scripting() -> bool:
    """False: code under ctorch always runs eagerly, never as TorchScript."""
    return False


def is_tracing() -> bool:
    """True only while :func:`trace` runs the traced function on its example inputs."""
    return _tracing[0] > 0


def script(
    obj: Any,
    optimize: Any = None,
    _frames_up: int = 0,
    _rcb: Any = None,
    example_inputs: Any = None,
) -> Any:
    """Returns ``obj`` (function, module, or class) unchanged: it runs eagerly."""
    return obj


def script_if_tracing(fn: Callable) -> Callable:
    return fn


def _run_example(func: Callable, example_inputs: Any, example_kwarg_inputs: Any) -> None:
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError(
            "torch.jit.trace: example_inputs (or example_kwarg_inputs) must be given"
        )
    from .._tensor import Tensor

    if example_inputs is None:
        args: tuple = ()
    elif _builtin_isinstance(example_inputs, (tuple,)):
        args = example_inputs
    elif _builtin_isinstance(example_inputs, (Tensor, list, dict)):
        args = (example_inputs,)
    else:
        args = (example_inputs,)
    kwargs = dict(example_kwarg_inputs or {})
    from ..autograd.grad_mode import no_grad

    _tracing[0] += 1
    try:
        with no_grad():
            func(*args, **kwargs)
    finally:
        _tracing[0] -= 1


def trace(
    func: Any,
    example_inputs: Any = None,
    optimize: Any = None,
    check_trace: bool = True,
    check_inputs: Any = None,
    check_tolerance: float = 1e-05,
    strict: bool = True,
    _force_outplace: bool = False,
    _module_class: Any = None,
    _compilation_unit: Any = None,
    example_kwarg_inputs: Any = None,
    _store_inputs: bool = True,
) -> Any:
    """Runs ``func`` (a function or module) once on ``example_inputs`` with
    :func:`is_tracing` true, then returns it: calling the result gives the eager outputs,
    which are what a correct trace gives on these inputs."""
    if not callable(func):
        raise TypeError(f"torch.jit.trace: expected a function or module, got {type(func)}")
    _run_example(func, example_inputs, example_kwarg_inputs)
    return func


def trace_module(
    mod: Any,
    inputs: dict[str, Any],
    optimize: Any = None,
    check_trace: bool = True,
    check_inputs: Any = None,
    check_tolerance: float = 1e-05,
    strict: bool = True,
    **kwargs: Any,
) -> Any:
    """Runs each named method of ``mod`` once on its example inputs; returns ``mod``."""
    for name, example in inputs.items():
        _run_example(getattr(mod, name), example, None)
    return mod


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """``@torch.jit.ignore`` and ``@torch.jit.ignore(drop=True)``: the function unchanged."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn: Callable) -> Callable:
    """``@torch.jit.unused``: the function unchanged (it runs eagerly)."""
    return fn


def export(fn: Callable) -> Callable:
    """``@torch.jit.export``: the method unchanged."""
    return fn


def interface(obj: Any) -> Any:
    """``@torch.jit.interface``: the class unchanged."""
    return obj


def _overload(func: Callable) -> Callable:
    return func


def _overload_method(func: Callable) -> Callable:
    return func


def _script_if_tracing(fn: Callable) -> Callable:
    return fn


def isinstance(obj: Any, target_type: Any) -> bool:  # noqa: A001 - torch's name
    """``torch.jit.isinstance``: ``isinstance`` that understands ``List[int]``,
    ``Dict[str, Tensor]``, ``Optional[T]`` and ``Tuple[...]``."""
    origin = typing.get_origin(target_type)
    if origin is None:
        if target_type is Any:
            return True
        return _builtin_isinstance(obj, target_type)
    args = typing.get_args(target_type)
    if origin is typing.Union or str(origin) == "types.UnionType":
        return any(isinstance(obj, a) for a in args)
    if origin is type(None):
        return obj is None
    if not _builtin_isinstance(obj, origin):
        return False
    if origin in (list, set, frozenset):
        return all(isinstance(x, args[0]) for x in obj) if args else True
    if origin is dict:
        return all(isinstance(k, args[0]) and isinstance(v, args[1]) for k, v in obj.items())
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return all(isinstance(x, args[0]) for x in obj)
        return len(obj) == len(args) and all(
            isinstance(x, a) for x, a in zip(obj, args, strict=True)
        )
    return True


class Future:
    """The value of a :func:`fork`: the call already ran (eagerly, in order)."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def wait(self) -> Any:
        return self._value

    def value(self) -> Any:
        return self._value

    def done(self) -> bool:
        return True


def fork(func: Callable, *args: Any, **kwargs: Any) -> Future:
    """``torch.jit.fork``: runs ``func(*args, **kwargs)`` now and returns its :class:`Future`
    (torch also runs it synchronously outside TorchScript)."""
    return Future(func(*args, **kwargs))


def wait(future: Future) -> Any:
    """``torch.jit.wait``: the value of a :func:`fork`."""
    return future.wait()


def _no_archive(what: str) -> NotImplementedError:
    return NotImplementedError(
        f"torch.jit.{what}: ctorch has no TorchScript, so there is no TorchScript archive to "
        f"{'write' if what == 'save' else 'read'}. Save the weights with "
        "torch.save(model.state_dict(), path) and load them with "
        "model.load_state_dict(torch.load(path))."
    )


def save(m: Any, f: Any, _extra_files: Any = None) -> None:
    """Raises :class:`NotImplementedError`: there is no TorchScript archive in ctorch."""
    raise _no_archive("save")


def load(f: Any, map_location: Any = None, _extra_files: Any = None, **kwargs: Any) -> Any:
    """Raises :class:`NotImplementedError`: ctorch cannot read TorchScript archives."""
    raise _no_archive("load")


def freeze(mod: Any, preserved_attrs: Any = None, optimize_numerics: bool = True) -> Any:
    return mod


def optimize_for_inference(mod: Any, other_methods: Any = None) -> Any:
    return mod


def enable_onednn_fusion(enabled: bool) -> None:
    pass


def onednn_fusion_enabled() -> bool:
    return False


def set_fusion_strategy(strategy: Any) -> list:
    return []


@contextlib.contextmanager
def optimized_execution(should_optimize: bool) -> Iterator[None]:
    yield


@contextlib.contextmanager
def fuser(name: str) -> Iterator[None]:
    yield
