"""The warnings and errors old (2017-2020) programs meet in torch 2.13, and ctorch the same:
``Variable(volatile=True)``, ``torch.tensor(tensor)``, ``torch.range``, ``F.upsample*``,
``loss.data[0]``, ``set_default_tensor_type``, ``x.resize``, ``x.T`` off 2-D, ``meshgrid``
without ``indexing``, ``chain_matmul``/``lu``, ``stft`` without a window, the scheduler stepped
before the optimizer, the legacy ``torch.cuda.amp`` spellings. Each case runs on both
libraries: same outcome (shape or exception), same warning texts and categories; ctorch's point
at the calling line."""

from __future__ import annotations

import warnings

import pytest

import ctorch
from ctorch import _warnings


def _sched_first(t):
    opt = t.optim.SGD([t.nn.Parameter(t.ones(1))], lr=0.1)
    sched = t.optim.lr_scheduler.StepLR(opt, 1)
    sched.step()  # before opt.step(): torch warns
    return sched.get_last_lr()


def _sched_after(t):
    opt = t.optim.SGD([t.nn.Parameter(t.ones(1))], lr=0.1)
    sched = t.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
    opt.step()
    sched.step()
    sched.step()
    return sched.get_last_lr()


def _sched_overridden(t):
    opt = t.optim.SGD([t.nn.Parameter(t.ones(1))], lr=0.1)
    sched = t.optim.lr_scheduler.StepLR(opt, 1)
    opt.step = lambda closure=None: None  # replaced after the scheduler wrapped it
    opt.step()
    sched.step()
    return sched.get_last_lr()


CASES = {
    "Variable volatile": lambda t: t.autograd.Variable(t.ones(2), volatile=True),
    "Variable not volatile": lambda t: t.autograd.Variable(t.ones(2)),
    "tensor(tensor)": lambda t: t.tensor(t.ones(2, 3)),
    "tensor(tensor, dtype)": lambda t: t.tensor(t.ones(2), dtype=t.float64),
    "range": lambda t: t.range(0, 3),
    "upsample": lambda t: t.nn.functional.upsample(t.ones(1, 1, 2, 2), scale_factor=2),
    "upsample_bilinear": lambda t: t.nn.functional.upsample_bilinear(
        t.ones(1, 1, 2, 2), scale_factor=2
    ),
    "upsample_nearest": lambda t: t.nn.functional.upsample_nearest(t.ones(1, 1, 2, 2), size=3),
    "loss.data[0]": lambda t: t.ones(3).sum().data[0],
    "0-d [0] with grad": lambda t: t.ones(3, requires_grad=True).sum()[0],
    "0-d [0, 0]": lambda t: t.tensor(1.0)[0, 0],
    "resize": lambda t: t.ones(2, 3).resize(3, 2),
    "resize tuple": lambda t: t.ones(2, 3).resize((6,)),
    "resize bad": lambda t: t.ones(2, 3).resize(4, 2),
    "T 3-D": lambda t: t.ones(2, 3, 4).T,
    "T 1-D": lambda t: t.ones(3).T,
    "T 0-D": lambda t: t.tensor(1.0).T,
    "H 0-D": lambda t: t.tensor(1.0).H,
    "H 1-D": lambda t: t.ones(3).H,
    "H 3-D": lambda t: t.ones(2, 2, 2).H,
    "H 2-D complex": lambda t: t.ones(2, 3, dtype=t.complex64).H,
    "meshgrid": lambda t: t.meshgrid(t.ones(2), t.ones(3))[0],
    "meshgrid ij": lambda t: t.meshgrid(t.ones(2), t.ones(3), indexing="ij")[0],
    "chain_matmul": lambda t: t.chain_matmul(t.ones(2, 2), t.ones(2, 2)),
    "lu": lambda t: t.lu(t.eye(2))[0],
    "Tensor.lu": lambda t: t.eye(2).lu()[0],
    "scheduler before optimizer": _sched_first,
    "scheduler after optimizer": _sched_after,
    "optimizer.step overridden": _sched_overridden,
    "cuda.amp.autocast": lambda t: t.cuda.amp.autocast(),
    "cuda.amp.GradScaler": lambda t: t.cuda.amp.GradScaler(),
    "autocast cuda": lambda t: t.autocast("cuda"),
}


def _outcome(lib, fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            r = fn(lib)
            res = tuple(r.shape) if hasattr(r, "shape") else r
            res = res if isinstance(res, (tuple, list, float)) else type(res).__name__
        except Exception as e:  # noqa: BLE001 - the exception is what is compared
            res = ("raises", type(e).__name__, str(e))
    texts = [
        (w.category.__name__, str(w.message).split(" (Triggered internally at ")[0]) for w in caught
    ]
    return res, texts, caught


# torch raises these through TORCH_WARN_ONCE: once per process (torch.lu and Tensor.lu share one)
ONCE = {"T 3-D", "T 1-D", "T 0-D", "H 0-D", "meshgrid", "chain_matmul", "lu", "Tensor.lu"}


@pytest.mark.parametrize("name", list(CASES))
def test_same_as_torch(name):
    fn = CASES[name]
    _warnings._warned_once.clear()
    ours, texts, caught = _outcome(ctorch, fn)
    # ctorch's warnings name the line that called ctorch (here: the case's lambda or helper)
    code = fn.__code__
    assert all(w.filename == code.co_filename for w in caught), [w.filename for w in caught]
    if name in ONCE:
        assert len(texts) == 1 and _outcome(ctorch, fn)[1] == []  # the second call is silent
    torch = pytest.importorskip("torch")
    always = torch._C._get_warnAlways()
    torch._C._set_warnAlways(True)  # see torch's once-per-process warnings here too
    try:
        theirs, ttexts, _ = _outcome(torch, fn)
    finally:
        torch._C._set_warnAlways(always)
    assert ours == theirs
    assert texts == ttexts


def test_set_default_tensor_type():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ctorch.set_default_tensor_type(ctorch.DoubleTensor)
            assert ctorch.tensor([1.5]).dtype == ctorch.float64
            assert ctorch.zeros(1).dtype == ctorch.float64
            ctorch.set_default_tensor_type("torch.FloatTensor")
            assert ctorch.zeros(1).dtype == ctorch.float32
            with pytest.raises(TypeError, match="^only floating-point types are supported"):
                ctorch.set_default_tensor_type(ctorch.LongTensor)
            with pytest.raises(TypeError, match="^invalid type object: only floating-point"):
                ctorch.set_default_tensor_type(ctorch.float64)
        finally:
            ctorch.set_default_dtype(ctorch.float32)
    # torch's TORCH_WARN_ONCE: at most one per process (none if an earlier test warned)
    texts = [str(w.message) for w in caught]
    assert texts in ([], [texts[0]] if texts else [])
    assert all(t.startswith("torch.set_default_tensor_type() is deprecated as of") for t in texts)


def test_stft_window_warning_is_once_per_process():
    _warnings._warned_once.discard("stft-window")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="return_complex parameter be given"):
            ctorch.stft(ctorch.ones(64), 16)  # torch warns before its own check
        ctorch.stft(ctorch.ones(64), 16, return_complex=True)
        ctorch.stft(ctorch.ones(64), 16, window=ctorch.ones(16), return_complex=True)
    assert [str(w.message)[:40] for w in caught] == ["A window was not provided. A rectangular"]
    assert caught[0].filename == __file__
