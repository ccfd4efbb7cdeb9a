"""NumPy's floating-point RuntimeWarnings ("overflow encountered in reduce", "invalid value
encountered in fmod", ...) must not leak out of ctorch ops: torch computes inf/NaN silently.

Each op runs on float16/float32/float64 tensors holding the values that overflow, divide by
zero or make NaN, 1-D and 2-D, with RuntimeWarning turned into an error. Ops that refuse
these arguments with an exception are fine; only a warning fails."""

from __future__ import annotations

import math
import warnings

import pytest

import ctorch
import ctorch.nn.functional as F

_VALS = [3e38, -3e38, math.inf, -math.inf, math.nan, 0.0, 1e-45, -1.0, 1.0, 88.0]
_SKIP = {
    "backward", "register_hook", "retain_grad", "numpy", "tolist", "item", "cuda", "cpu", "to",
    "share_memory_", "pin_memory", "storage", "untyped_storage", "data_ptr", "record_stream",
    "set_", "resize_", "resize_as_", "requires_grad_", "detach_", "apply_", "map_", "map2_",
    "type", "new_tensor", "lu", "resize", "is_set_to",
}  # fmt: skip


def _methods():
    return sorted(
        n
        for n in dir(ctorch.Tensor)
        if not n.startswith("_") and n not in _SKIP and callable(getattr(ctorch.Tensor, n, None))
    )


def _run_quiet(f):
    for dt in (ctorch.float16, ctorch.float32, ctorch.float64):
        for shape in ((10,), (2, 5)):
            x = ctorch.tensor(_VALS, dtype=dt).reshape(shape)
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                warnings.simplefilter("ignore", UserWarning)  # deprecations are not the point
                warnings.simplefilter("ignore", FutureWarning)
                try:
                    f(x)
                except RuntimeWarning:
                    raise
                except Exception:  # noqa: BLE001 - an op refusing these arguments is fine
                    pass


@pytest.mark.parametrize("name", _methods())
def test_tensor_method_without_arguments_is_silent(name):
    _run_quiet(lambda x: getattr(x.clone(), name)())


_BINARY = [
    "add", "sub", "mul", "div", "pow", "atan2", "fmod", "remainder", "hypot", "maximum",
    "minimum", "logaddexp", "xlogy", "floor_divide", "true_divide", "copysign", "nextafter",
    "ldexp",
]  # fmt: skip


@pytest.mark.parametrize("name", _BINARY)
def test_binary_op_is_silent(name):
    _run_quiet(lambda x: getattr(ctorch, name)(x, x.flip(0)))


_FUNCS = {
    "softmax": lambda x: F.softmax(x, -1),
    "log_softmax": lambda x: F.log_softmax(x, -1),
    "softplus": F.softplus,
    "gelu": F.gelu,
    "silu": F.silu,
    "mish": F.mish,
    "elu": F.elu,
    "logsigmoid": F.logsigmoid,
    "mse_loss": lambda x: F.mse_loss(x, x.flip(0)),
    "l1_loss": lambda x: F.l1_loss(x, x.flip(0)),
    "smooth_l1_loss": lambda x: F.smooth_l1_loss(x, x.flip(0)),
    "bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, x.flip(0)),
    "poisson_nll_loss": lambda x: F.poisson_nll_loss(x, x.flip(0)),
    "kl_div": lambda x: F.kl_div(x, x.flip(0), reduction="sum"),
    "cosine_similarity": lambda x: F.cosine_similarity(x, x.flip(0), dim=-1),
    "normalize": lambda x: F.normalize(x, dim=-1),
    "layer_norm": lambda x: F.layer_norm(x, x.shape[-1:]),
    "logsumexp": lambda x: ctorch.logsumexp(x, -1),
    "cumsum": lambda x: x.cumsum(-1),
    "cumprod": lambda x: x.cumprod(-1),
    "prod": lambda x: x.prod(),
    "var": lambda x: x.var(-1),
    "quantile": lambda x: ctorch.quantile(x, 0.5),
    "dist": lambda x: ctorch.dist(x, x.flip(0)),
}


@pytest.mark.parametrize("name", sorted(_FUNCS))
def test_function_is_silent(name):
    _run_quiet(_FUNCS[name])


def test_overflowing_values_are_still_computed():
    x = ctorch.tensor([3e38, 3e38])
    assert x.prod().item() == math.inf
    assert x.sum().item() == math.inf
    assert ctorch.fmod(ctorch.tensor([1.0]), ctorch.tensor([0.0])).isnan().all()
    assert ctorch.tensor([70000.0]).half().exp().item() == math.inf


def test_creation_and_casts_past_float32_range_are_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert ctorch.tensor([3e300]).item() == math.inf
        assert ctorch.tensor([[1e39, 2.0]])[0, 0].item() == math.inf
        assert ctorch.tensor([3e300 + 1j]).real.item() == math.inf
        assert ctorch.tensor([3e300], dtype=ctorch.float64).to(ctorch.float32).item() == math.inf
