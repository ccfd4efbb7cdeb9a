"""``ctorch.signal.windows`` (torch.signal.windows): the classic spectral windows, computed
in float64 (SciPy's formulas, with torch's parameter names and checks) and returned in the
requested dtype (float32 by default)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "bartlett",
    "blackman",
    "cosine",
    "exponential",
    "gaussian",
    "general_cosine",
    "general_hamming",
    "hamming",
    "hann",
    "kaiser",
    "nuttall",
]


def _check(name: str, M: int, dtype: Any) -> Any:
    import ctorch

    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    dtype = ctorch.get_default_dtype() if dtype is None else dtype
    if dtype not in (ctorch.float32, ctorch.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _out(w: np.ndarray, dtype: Any, layout: Any, device: Any, requires_grad: bool) -> Any:
    import ctorch

    t = ctorch.tensor(np.asarray(w, np.float64), dtype=dtype, device=device)
    return t.requires_grad_(requires_grad) if requires_grad else t


def _grid(M: int, sym: bool) -> tuple[np.ndarray, int]:
    """n = 0..M-1 over a window of length M (sym) or M + 1 with the last point dropped."""
    n_full = M if sym else M + 1
    return np.arange(M, dtype=np.float64), n_full


def general_cosine(
    M: int,
    *,
    a: Iterable[float],
    sym: bool = True,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    """sum_k (-1)^k a_k cos(2 pi k n / (N - 1))."""
    dtype = _check("general_cosine", M, dtype)
    if not isinstance(a, Iterable) or isinstance(a, str):
        raise TypeError("Coefficients must be a list/tuple")
    a = list(a)
    if not a:
        raise ValueError("Coefficients cannot be empty")
    if M <= 1:
        return _out(np.ones(M), dtype, layout, device, requires_grad)
    n, N = _grid(M, sym)
    x = 2 * math.pi * n / (N - 1)
    w = sum((-1) ** k * c * np.cos(k * x) for k, c in enumerate(a))
    return _out(w, dtype, layout, device, requires_grad)


def general_hamming(
    M: int,
    *,
    alpha: float = 0.54,
    sym: bool = True,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Any:
    return general_cosine(
        M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
        requires_grad=requires_grad,
    )  # fmt: skip


def _fixed_cosine(name: str, a: list[float], doc: str) -> Any:
    """A general_cosine window with fixed coefficients, as its own public function."""

    def window(
        M: int,
        *,
        sym: bool = True,
        dtype: Any = None,
        layout: Any = None,
        device: Any = None,
        requires_grad: bool = False,
    ) -> Any:
        return general_cosine(
            M, a=a, sym=sym, dtype=dtype, layout=layout, device=device,
            requires_grad=requires_grad,
        )  # fmt: skip

    window.__name__ = window.__qualname__ = name
    window.__doc__ = doc
    return window


hann = _fixed_cosine("hann", [0.5, 0.5], "0.5 - 0.5 cos(2 pi n / (N - 1)).")
hamming = _fixed_cosine("hamming", [0.54, 0.46], "0.54 - 0.46 cos(2 pi n / (N - 1)).")
blackman = _fixed_cosine("blackman", [0.42, 0.5, 0.08], "Blackman: cosine terms 0.42, 0.5, 0.08.")
nuttall = _fixed_cosine(
    "nuttall", [0.3635819, 0.4891775, 0.1365995, 0.0106411], "Nuttall's 4-term cosine window."
)


def bartlett(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False) -> Any:  # fmt: skip
    """1 - |2n / (N - 1) - 1| (triangular, zero at the ends)."""
    dtype = _check("bartlett", M, dtype)
    if M <= 1:
        return _out(np.ones(M), dtype, layout, device, requires_grad)
    n, N = _grid(M, sym)
    return _out(1 - np.abs(2 * n / (N - 1) - 1), dtype, layout, device, requires_grad)


def cosine(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None,
           device: Any = None, requires_grad: bool = False) -> Any:  # fmt: skip
    """sin(pi (n + 1/2) / N)."""
    dtype = _check("cosine", M, dtype)
    if M <= 1:
        return _out(np.ones(M), dtype, layout, device, requires_grad)
    n, N = _grid(M, sym)
    return _out(np.sin(math.pi * (n + 0.5) / N), dtype, layout, device, requires_grad)


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True,
                dtype: Any = None, layout: Any = None, device: Any = None,
                requires_grad: bool = False) -> Any:  # fmt: skip
    """exp(-|n - center| / tau), centered by default."""
    dtype = _check("exponential", M, dtype)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if M <= 1:
        return _out(np.ones(M), dtype, layout, device, requires_grad)
    n, N = _grid(M, sym)
    c = (N - 1) / 2 if center is None else center
    return _out(np.exp(-np.abs(n - c) / tau), dtype, layout, device, requires_grad)


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype: Any = None,
             layout: Any = None, device: Any = None, requires_grad: bool = False) -> Any:  # fmt: skip
    """exp(-((n - (N - 1) / 2) / std)^2 / 2)."""
    dtype = _check("gaussian", M, dtype)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    if M <= 1:
        return _out(np.ones(M), dtype, layout, device, requires_grad)
    n, N = _grid(M, sym)
    k = (n - (N - 1) / 2) / std
    return _out(np.exp(-(k**2) / 2), dtype, layout, device, requires_grad)


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype: Any = None,
           layout: Any = None, device: Any = None, requires_grad: bool = False) -> Any:  # fmt: skip
    """I0(beta sqrt(1 - (2n / (N - 1) - 1)^2)) / I0(beta)."""
    dtype = _check("kaiser", M, dtype)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M <= 1:
        return _out(np.ones(M), dtype, layout, device, requires_grad)
    n, N = _grid(M, sym)
    r = 2 * n / (N - 1) - 1
    w = np.i0(beta * np.sqrt(np.clip(1 - r * r, 0.0, None))) / np.i0(beta)
    return _out(w, dtype, layout, device, requires_grad)
