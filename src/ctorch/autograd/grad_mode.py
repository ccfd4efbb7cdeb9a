"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode (context managers
and decorators). The flags live on the module global ``state``, read directly by the hot
paths (``state.enabled``)."""

from __future__ import annotations

import functools
import inspect
import threading

from .._core._gradmode import GradState

__all__ = [
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
]


# Grad mode and inference mode are per thread, as torch's (``GradMode`` and the inference-mode
# dispatch keys are thread-local there): a ``no_grad()`` block in one thread must not stop
# graph recording in another, and the engine turning grad mode off during backward must not
# leak into other threads; each new thread starts with grad enabled. The flags are C
# thread-locals behind attribute access (``_core/_gradmode.pyx``): the hot paths read
# ``state.enabled`` on every op, and a ``threading.local`` made each access ~40 ns. Anomaly
# mode is process-wide, as torch's.
state = GradState()


def is_grad_enabled() -> bool:
    return state.enabled


def is_inference_mode_enabled() -> bool:
    return state.inference


# Inference tensors (torch's rules): a tensor allocated while this thread is in inference mode
# is an inference tensor (``Tensor._make`` gives it the shared marker ``INFERENCE_VERSION``
# as its version counter). ``_make`` is on every op's path, so it must not read the
# thread-local flag every time: ``inference_mode`` keeps a process-wide count of open
# ``inference_mode(True)`` scopes (all threads) and hands it to ``_on_count`` (set by
# ``ctorch._tensor``); while the count is 0, ``_make`` pays one module-global read.
_INPLACE_MSG = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
    "clone to get a normal tensor before doing inplace update.See "
    "https://github.com/pytorch/rfcs/pull/17 for more details."
)


class _InferenceVersion(list):
    """The version "counter" every inference tensor shares (torch's have none): reading it
    gives 0, and a bump (every in-place path ends with ``t._vref[0] += 1``) outside inference
    mode raises torch's in-place error; inside inference mode it is a no-op."""

    __slots__ = ()

    def __setitem__(self, i, v) -> None:
        if not state.inference:
            raise RuntimeError(_INPLACE_MSG)


INFERENCE_VERSION = _InferenceVersion([0])


def check_inference_inplace(t) -> None:
    """Raise torch's error for an in-place update of inference tensor ``t`` outside
    inference mode (called before the write where the in-place path allows it)."""
    if t._vref is INFERENCE_VERSION and not state.inference:
        raise RuntimeError(_INPLACE_MSG)


_count = 0
_count_lock = threading.Lock()
_on_count = None  # ctorch._tensor._set_inference_count


def _add_scope(d: int) -> None:
    global _count
    with _count_lock:
        _count += d
        if _on_count is not None:
            _on_count(_count)


class _DecoratorContextManager:
    """Usable as ``with x():`` and as ``@x()`` (and bare ``@no_grad``)."""

    def __call__(self, func):
        if inspect.isclass(func):
            raise TypeError("grad-mode decorators apply to functions, not classes")
        if inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                gen = func(*args, **kwargs)
                try:
                    with self.clone():
                        response = gen.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            gen.close()
                            raise
                        with self.clone():
                            response = gen.send(request)
                except StopIteration as e:
                    return e.value

            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


class _GradModeScope(_DecoratorContextManager):
    """Sets grad mode to ``_enabled`` inside, restores it on exit; used bare as a decorator
    (``@no_grad``) it wraps the function."""

    _enabled: bool

    def __new__(cls, orig_func=None):
        if orig_func is None or not callable(orig_func):
            return super().__new__(cls)
        return cls()(orig_func)

    def __enter__(self) -> None:
        self.prev = state.enabled
        state.enabled = self._enabled

    def __exit__(self, *exc) -> bool:
        state.enabled = self.prev
        return False


class no_grad(_GradModeScope):
    """Disable graph building: ops under it record nothing and keep no graph memory."""

    _enabled = False


class enable_grad(_GradModeScope):
    _enabled = True


class set_grad_enabled(_DecoratorContextManager):
    """``set_grad_enabled(False)`` as a call takes effect at once; as a context manager it
    restores the previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        self.prev = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode

    def __call__(self, func):
        # as a decorator (``@set_grad_enabled(False)``) construction must not change the mode
        state.enabled = self.prev
        return super().__call__(func)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> bool:
        state.enabled = self.prev
        return False

    def clone(self):
        return self.__class__(self.mode)


class inference_mode(_DecoratorContextManager):
    """``torch.inference_mode(mode=True)``: grad mode off, and tensors allocated inside are
    inference tensors (``Tensor.is_inference``; no version counter, no autograd: an in-place
    update outside inference mode, or saving one for backward, raises torch's errors).
    ``inference_mode(False)`` turns it off and grad mode on (torch's guard), even under no_grad."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return cls(True)(mode)
        return super().__new__(cls)

    def __enter__(self) -> None:
        self.prev = (state.enabled, state.inference)
        if self.mode:
            _add_scope(1)
            state.enabled = False
            state.inference = True
        else:  # torch's InferenceMode(false) guard: grad mode on (even under no_grad)
            state.enabled = True
            state.inference = False

    def __exit__(self, *exc) -> bool:
        state.enabled, state.inference = self.prev
        if self.mode:
            _add_scope(-1)
        return False

    def clone(self):
        return self.__class__(self.mode)
