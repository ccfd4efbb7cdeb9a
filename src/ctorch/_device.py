"""ctorch.device: where a tensor's storage lives (NumPy on 'cpu', CuPy on 'cuda:N')."""

from __future__ import annotations

__all__ = ["device"]

_TYPES = ("cpu", "cuda", "mps", "xpu", "meta")


class device:
    """``ctorch.device("cpu" | "cuda" | "cuda:N")`` or ``ctorch.device("cuda", N)``."""

    __slots__ = ("type", "index", "_prev")

    def __init__(self, type: str | device | int, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int):
            self.type, self.index = "cuda", type
            return
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string or device, got {type!r}")
        s = type.strip()
        if ":" in s:
            if index is not None:
                raise ValueError(f"device(): type {s!r} already has an index")
            s, idx = s.split(":", 1)
            try:
                index = int(idx)
            except ValueError:
                raise RuntimeError(f"Invalid device string: '{type}'") from None
        if s not in _TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(_TYPES)} device type at start of device string: {type}"
            )
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type, self.index = s, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):
        from . import _creation

        self._prev = _creation._default_device[0]
        _creation._default_device[0] = self
        return self

    def __exit__(self, *exc):
        from . import _creation

        _creation._default_device[0] = self._prev
        return False


CPU = device("cpu")
META = device("meta")


def as_device(d) -> device:
    if d is None:
        return CPU
    if isinstance(d, device):
        return d
    return device(d)


def unsupported(device_type: str) -> Exception:
    """The error for putting a tensor on a device ctorch has no backend for; for ``xpu`` torch's
    CPU wheel's own (its ``_lazy_init`` assertion), which code probing for an XPU expects."""
    if device_type == "xpu":
        return AssertionError("Torch not compiled with XPU enabled")
    return RuntimeError(
        f"ctorch supports the 'cpu', 'cuda' and 'meta' devices, not {device_type!r}"
    )


def get_device_module(device=None):
    """``torch.get_device_module``: the module for a device type (``ctorch.cuda``,
    ``ctorch.cpu``, ``ctorch.xpu``, ...); ``None``: the current accelerator's, or ``ctorch.cpu``
    when there is none."""
    import ctorch

    if isinstance(device, _device_cls):
        name = device.type
    elif isinstance(device, str):
        name = _device_cls(device).type
    elif device is None:
        acc = ctorch.accelerator.current_accelerator()
        name = acc.type if acc is not None else "cpu"
    else:
        raise RuntimeError(f"Invalid value of device '{device}', expect torch.device, str, or None")
    module = getattr(ctorch, name, None)
    if module is None:
        raise RuntimeError(
            f"Device '{name}' does not have a corresponding module registered as 'torch.{name}'."
        )
    return module


_device_cls = device
