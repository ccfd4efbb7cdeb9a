"""Windows and the short-time Fourier transform: ``hann_window``, ``hamming_window``,
``blackman_window``, ``bartlett_window``, ``kaiser_window``, ``stft`` and ``istft``, as torch.

``stft`` is composed of differentiable ops (pad, ``unfold`` into frames, window multiply,
``fft.rfft``/``fft.fft``), so its gradient is theirs. ``istft`` inverts it by weighted
overlap-add: ``irfft``/``ifft`` of each frame, times the window, summed into the signal
(:class:`_OverlapAdd`, whose backward gathers the frames back), divided by the overlap-added
squared window, as torch's ``istft`` does.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype as D
from .. import _warnings
from .._backend import xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import named

_wrap = Tensor._make


# ------------------------------------------------------------------ windows
def _window(name, n, periodic, dtype, device, requires_grad, fn):
    from .._creation import _place

    if n < 0:
        raise RuntimeError(f"{name} requires non-negative window length, got window_length={n}")
    dt = D.get_default_dtype() if dtype is None else D._as_dtype(dtype)
    if not dt.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    npdt = D.to_numpy_dtype(dt)
    if n == 0:
        a = np.zeros(0, npdt)
    elif n == 1:
        a = np.ones(1, npdt)
    else:
        m = n + 1 if periodic else n
        k = np.arange(m, dtype=np.float64)
        a = fn(k, m - 1)[:n].astype(npdt)
    return _place(a, device, requires_grad)


def _fixed_window(name, formula, doc):
    """The public window ``name`` without parameters of its own: ``formula(k, N - 1)``."""

    def window(
        window_length: int,
        periodic: bool = True,
        *,
        dtype=None,
        layout=None,
        device=None,
        requires_grad: bool = False,
    ) -> Tensor:
        return _window(name, int(window_length), periodic, dtype, device, requires_grad, formula)

    return named(window, name, doc)


hann_window = _fixed_window(
    "hann_window",
    lambda k, d: 0.5 - 0.5 * np.cos(2 * math.pi * k / d),
    """``torch.hann_window``: 0.5 - 0.5 cos(2 pi k / (N - 1)) (N = length + 1 if periodic).""",
)


def hamming_window(
    window_length: int,
    periodic: bool = True,
    alpha: float = 0.54,
    beta: float = 0.46,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    """``torch.hamming_window``: alpha - beta cos(2 pi k / (N - 1))."""
    return _window(
        "hamming_window",
        int(window_length),
        periodic,
        dtype,
        device,
        requires_grad,
        lambda k, d: alpha - beta * np.cos(2 * math.pi * k / d),
    )


blackman_window = _fixed_window(
    "blackman_window",
    lambda k, d: 0.42 - 0.5 * np.cos(2 * math.pi * k / d) + 0.08 * np.cos(4 * math.pi * k / d),
    """``torch.blackman_window``: 0.42 - 0.5 cos(2 pi k / (N-1)) + 0.08 cos(4 pi k / (N-1)).""",
)
bartlett_window = _fixed_window(
    "bartlett_window",
    lambda k, d: 1.0 - np.abs(2.0 * k / d - 1.0),
    """``torch.bartlett_window``: the triangle 1 - |2 k / (N - 1) - 1|.""",
)


def kaiser_window(
    window_length: int,
    periodic: bool = True,
    beta: float = 12.0,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    """``torch.kaiser_window``: I0(beta sqrt(1 - (2 k / (N - 1) - 1)^2)) / I0(beta)."""
    return _window(
        "kaiser_window",
        int(window_length),
        periodic,
        dtype,
        device,
        requires_grad,
        lambda k, d: (
            np.i0(beta * np.sqrt(np.clip(1.0 - (2.0 * k / d - 1.0) ** 2, 0, None))) / np.i0(beta)
        ),
    )


# ------------------------------------------------------------------ stft
def _padded_window(window, n_fft, win_length, ref: Tensor):
    """The window as a length-``n_fft`` tensor (centred, zero-padded), or None (ones)."""
    if window is None:
        if win_length < n_fft:
            from .. import zeros

            w = zeros(n_fft, dtype=ref.dtype.to_real(), device=ref.device)
            left = (n_fft - win_length) // 2
            w[left : left + win_length] = 1.0
            return w
        return None
    if window.dim() != 1 or window.shape[0] != win_length:
        raise RuntimeError(
            f"stft: expected a 1D window tensor of size equal to win_length={win_length}, but "
            f"got window with size {list(window.shape)}"
        )
    if win_length < n_fft:
        import ctorch.nn.functional as F

        left = (n_fft - win_length) // 2
        window = F.pad(window, (left, n_fft - win_length - left))
    return window


def _stft_args(name, n_fft, hop_length, win_length):
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    win = n_fft if win_length is None else int(win_length)
    if n_fft <= 0:
        raise RuntimeError(f"{name}: expected 0 < n_fft, but got n_fft={n_fft}")
    if hop <= 0:
        raise RuntimeError(f"{name}: expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        raise RuntimeError(f"{name}: expected 0 < win_length <= n_fft, but got win_length={win}")
    return hop, win


def stft(
    input: Tensor,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | None = None,
    center: bool = True,
    pad_mode: str = "reflect",
    normalized: bool = False,
    onesided: bool | None = None,
    return_complex: bool | None = None,
    align_to_window: bool | None = None,
) -> Tensor:
    """``torch.stft``: frames of ``n_fft`` samples every ``hop_length``, windowed and
    transformed; (B?, n_fft // 2 + 1 or n_fft, n_frames) complex (or its ``view_as_real``
    when ``return_complex=False``)."""
    from .. import fft as FFT
    from .complex import view_as_real

    n_fft = int(n_fft)
    if window is None:  # torch: TORCH_WARN_ONCE, before its checks
        _warnings.warn_once(
            "stft-window",
            "A window was not provided. A rectangular window will be applied,which is known to "
            "cause spectral leakage. Other windows such as torch.hann_window or "
            "torch.hamming_window are recommended to reduce spectral leakage.To suppress this "
            "warning and use a rectangular window, explicitly set "
            "`window=torch.ones(n_fft, device=<device>)`.",
        )
    is_c = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None:
        if not is_c:
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and will "
                "further require that return_complex=True in a future PyTorch release."
            )
        return_complex = True
    if not return_complex:
        _warnings.warn(
            "stft with return_complex=False is deprecated. In a future pytorch release, stft "
            "will return complex tensors for all inputs, and return_complex=False will raise "
            "an error.",
        )
    hop, win = _stft_args("stft", n_fft, hop_length, win_length)
    if input.dim() not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.dim()}D")
    batched = input.dim() == 2
    x = input if batched else input.unsqueeze(0)
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(D.get_default_dtype())
    if center:
        import ctorch.nn.functional as F

        p = n_fft // 2
        x = F.pad(x.unsqueeze(1), (p, p), mode=pad_mode).squeeze(1)
    length = x.shape[-1]
    if n_fft > length:
        raise RuntimeError(f"stft: expected 0 < n_fft <= {length}, but got n_fft={n_fft}")
    w = _padded_window(window, n_fft, win, x)
    frames = x.unfold(-1, n_fft, hop)  # (B, n_frames, n_fft)
    if w is not None:
        frames = frames * w
    if onesided is None:
        onesided = not is_c
    if onesided and is_c:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    spec = FFT.rfft(frames, dim=-1, norm=norm) if onesided else FFT.fft(frames, dim=-1, norm=norm)
    spec = spec.transpose(-1, -2)
    if not batched:
        spec = spec.squeeze(0)
    return spec if return_complex else view_as_real(spec)


class _OverlapAdd(Function):
    """(B, n_frames, n_fft) frames summed into a (B, n_fft + hop * (n_frames - 1)) signal."""

    _node_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, frames, hop):
        a = frames._a
        xp = xp_of(a)
        b, t, n = a.shape
        idx = (xp.arange(t)[:, None] * hop + xp.arange(n)[None, :]).reshape(-1)
        ctx.idx = idx
        out = xp.zeros((b, n + hop * (t - 1)), a.dtype)
        for i in range(b):
            xp.add.at(out[i], idx, a[i].reshape(-1))
        ctx.shape = a.shape
        return _wrap(out)

    @staticmethod
    def backward(ctx, g):
        return g[:, _wrap(ctx.idx)].reshape(ctx.shape), None


def istft(
    input: Tensor,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: Tensor | None = None,
    center: bool = True,
    normalized: bool = False,
    onesided: bool | None = None,
    length: int | None = None,
    return_complex: bool = False,
) -> Tensor:
    """``torch.istft``: the inverse of ``stft`` by windowed overlap-add (least squares when
    the frames overlap)."""
    from .. import fft as FFT

    n_fft = int(n_fft)
    hop, win = _stft_args("istft", n_fft, hop_length, win_length)
    if not input.is_complex():
        raise RuntimeError(
            "istft requires a complex-valued input tensor matching the output from stft with "
            "return_complex=True."
        )
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"istft: expected a tensor with 2 or 3 dimensions of complex, but got {input.dim()}"
        )
    batched = input.dim() == 3
    spec = input if batched else input.unsqueeze(0)
    fft_size = spec.shape[-2]
    n_frames = spec.shape[-1]
    if onesided is None:
        onesided = fft_size != n_fft
    if onesided:
        if n_fft // 2 + 1 != fft_size:
            raise RuntimeError(
                "istft: expected the frequency dimension (3rd to the last) of the input tensor "
                f"to match n_fft / 2 + 1 when onesided=True, but got {fft_size}"
            )
    elif n_fft != fft_size:
        raise RuntimeError(
            "istft: expected the frequency dimension (3rd to the last) of the input tensor to "
            f"match n_fft when onesided=False, but got {fft_size}"
        )
    if spec.is_meta:  # (its window-envelope check reads values)
        from .._meta import NoMetaImpl

        raise NoMetaImpl("istft: has no meta implementation (torch 2.13 has none either)")
    w = _padded_window(window, n_fft, win, spec)
    if w is None:
        from .. import ones

        w = ones(n_fft, dtype=spec.dtype.to_real(), device=spec.device)
    norm = "ortho" if normalized else "backward"
    frames_spec = spec.transpose(-1, -2)  # (B, n_frames, fft_size)
    if return_complex:
        if onesided:
            raise RuntimeError("cannot have onesided output if window or input is complex")
        frames = FFT.ifft(frames_spec, n=n_fft, dim=-1, norm=norm)
    else:
        if w.is_complex():
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not onesided:
            frames_spec = frames_spec[..., : n_fft // 2 + 1]
        frames = FFT.irfft(frames_spec, n=n_fft, dim=-1, norm=norm)
    frames = frames * w
    y = _OverlapAdd.apply(frames, hop)
    env = _OverlapAdd.apply((w * w).expand(1, n_frames, n_fft).contiguous(), hop).detach()
    expected = n_fft + hop * (n_frames - 1)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + int(length)
    elif center:
        end = expected - n_fft // 2
    else:
        end = expected
    stop = min(end, expected)
    y = y[:, start:stop]
    env = env[:, start:stop]
    if bool((env.abs() < 1e-11).any()):
        raise RuntimeError(
            f"istft(...): window overlap add min: {float(env.abs().min())}, the window and "
            "hop_length do not satisfy the nonzero overlap-add (NOLA) condition"
        )
    y = y / env
    if end > expected:
        _warnings.warn(
            "The length of signal is shorter than the length parameter. Result is being padded "
            "with zeros in the tail. Please check your center and hop_length settings.",
        )
        import ctorch.nn.functional as F

        y = F.pad(y, (0, end - expected))
    return y if batched else y.squeeze(0)
