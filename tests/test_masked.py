"""ctorch.masked against torch.masked: every reduction and normalization with mask= (full,
broadcast, all-masked rows), dims, keepdim, dtypes, gradients, and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ctorch
import ctorch.masked as cmasked

torch = pytest.importorskip("torch")
import torch.masked as tmasked  # noqa: E402

warnings.filterwarnings("ignore", message=".*masked.*prototype.*")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4, 5)).astype(np.float64)
MASK = RNG.random((3, 4, 5)) > 0.4
MASK[1, 2, :] = False  # an all-masked row along the last dim
MASK[2, :, 3] = False  # and along dim 1
MASK_BCAST = RNG.random((4, 1)) > 0.3  # broadcast to (3, 4, 5)
MASK_BCAST[0, 0] = False

REDUCTIONS = {
    "sum": [dict(), dict(dim=2), dict(dim=(0, 2), keepdim=True), dict(dim=-1, dtype="float32")],
    "prod": [dict(), dict(dim=1), dict(dim=(0, 1), keepdim=True)],
    "amax": [dict(), dict(dim=2), dict(dim=(1, 2), keepdim=True)],
    "amin": [dict(), dict(dim=1), dict(dim=(0, 2))],
    "argmax": [dict(dim=2), dict(dim=1, keepdim=True)],
    "argmin": [dict(dim=2), dict(dim=0)],
    "mean": [dict(), dict(dim=2), dict(dim=(0, 2), keepdim=True)],
    "median": [dict(dim=2), dict(dim=1, keepdim=True), dict()],
    "logsumexp": [dict(dim=2), dict(dim=(0, 1)), dict()],
    "var": [
        dict(),
        dict(dim=2),
        dict(dim=1, unbiased=False),
        dict(dim=2, correction=0, keepdim=True),
    ],
    "std": [dict(dim=2), dict(dim=(0, 2), correction=2)],
    "norm": [
        dict(ord=2.0),
        dict(ord=1.0, dim=2),
        dict(ord=float("inf"), dim=1),
        dict(ord=float("-inf"), dim=2),
        dict(ord=3, dim=(1, 2), keepdim=True),
    ],
}
NORMALIZATIONS = {
    "softmax": [dict(dim=2), dict(dim=0)],
    "log_softmax": [dict(dim=2), dict(dim=1)],
    "softmin": [dict(dim=2), dict(dim=-2)],
    "cumsum": [dict(dim=2), dict(dim=0)],
    "cumprod": [dict(dim=2), dict(dim=1)],
    "normalize": [dict(ord=2.0, dim=2), dict(ord=1.0, dim=1, eps=0.5)],
}


def _kw(lib, kw):
    out = dict(kw)
    if "dtype" in out:
        out["dtype"] = getattr(lib, out["dtype"])
    return out


def _call(lib, M, name, kw, x, mask):
    kw = _kw(lib, kw)
    if name == "norm" or name == "normalize":
        ord_ = kw.pop("ord")
        args = (ord_, kw.pop("dim")) if name == "normalize" else (ord_,)
        return getattr(M, name)(
            lib.tensor(x), *args, mask=None if mask is None else lib.tensor(mask), **kw
        )
    return getattr(M, name)(lib.tensor(x), mask=None if mask is None else lib.tensor(mask), **kw)


def _compare(name, kw, x, mask):
    t = _call(torch, tmasked, name, kw, x, mask)
    c = _call(ctorch, cmasked, name, kw, x, mask)
    assert tuple(c.shape) == tuple(t.shape), (name, kw)
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (name, kw, c.dtype, t.dtype)
    # float64 tolerance only where the work is float64: an integer input (logsumexp) computes
    # in float32 before dtype= casts the result, so both libraries round to float32 there
    wide = c.dtype == ctorch.float64 and x.dtype == np.float64
    tol = dict(rtol=1e-10, atol=1e-12) if wide else dict(rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(c.numpy(), t.numpy(), equal_nan=True, err_msg=f"{name} {kw}", **tol)


CASES = [(n, kw) for d in (REDUCTIONS, NORMALIZATIONS) for n, kws in d.items() for kw in kws]


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
@pytest.mark.parametrize("which", ["full", "bcast", "none"])
def test_matches_torch(name, kw, which):
    mask = {"full": MASK, "bcast": MASK_BCAST, "none": None}[which]
    _compare(name, kw, X, mask)


@pytest.mark.parametrize("name", ["sum", "prod", "amax", "amin", "argmax", "argmin", "cumsum"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32])
def test_integer_and_float32_inputs(name, dtype):
    x = RNG.integers(-5, 6, (4, 6)).astype(dtype)
    mask = RNG.random((4, 6)) > 0.5
    mask[2] = False
    _compare(name, dict(dim=1), x, mask)


def test_integer_mean_and_median():
    x = RNG.integers(-5, 6, (4, 6)).astype(np.int64)
    mask = np.ones((4, 6), bool)
    mask[:, 0] = False
    _compare("median", dict(dim=1), x, mask)
    _compare("var", dict(dim=1), x, mask)  # var of ints: float32, as torch
    mask[1] = False
    for lib, M in ((torch, tmasked), (ctorch, cmasked)):
        with pytest.raises(ValueError, match="masked median expects no fully masked out rows"):
            M.median(lib.tensor(x), 1, mask=lib.tensor(mask))
        with pytest.raises(
            ValueError, match=r"mean\(\): Could not infer output dtype. Input dtype must be"
        ):
            M.mean(lib.tensor(x), 1, mask=lib.tensor(mask))


def test_logaddexp_matches_torch():
    a, b = X[0], X[1]
    ma, mb = MASK[0], MASK[1]
    t = tmasked.logaddexp(
        torch.tensor(a), torch.tensor(b), input_mask=torch.tensor(ma), other_mask=torch.tensor(mb)
    )
    c = cmasked.logaddexp(
        ctorch.tensor(a),
        ctorch.tensor(b),
        input_mask=ctorch.tensor(ma),
        other_mask=ctorch.tensor(mb),
    )
    np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize(
    "name,kw",
    [
        ("sum", dict(dim=2)),
        ("mean", dict(dim=2)),
        ("softmax", dict(dim=2)),
        ("log_softmax", dict(dim=1)),
        ("amax", dict(dim=1)),
        ("var", dict(dim=2)),
        ("norm", dict(ord=2.0, dim=2)),
        ("logsumexp", dict(dim=2)),
        ("normalize", dict(ord=2.0, dim=2)),
        ("cumsum", dict(dim=2)),
    ],
)
def test_gradients_match_torch(name, kw):
    mask = MASK.copy()
    # two kept elements on every line along any dim: torch gives NaN/inf gradients otherwise
    mask[:2], mask[:, :2], mask[..., :2] = True, True, True
    g = RNG.standard_normal(_call(torch, tmasked, name, kw, X, mask).shape)
    grads = []
    for lib, M in ((torch, tmasked), (ctorch, cmasked)):
        x = lib.tensor(X, requires_grad=True)
        kw2 = _kw(lib, kw)
        if name in ("norm", "normalize"):
            ord_ = kw2.pop("ord")
            args = (ord_, kw2.pop("dim")) if name == "normalize" else (ord_,)
            y = getattr(M, name)(x, *args, mask=lib.tensor(mask), **kw2)
        else:
            y = getattr(M, name)(x, mask=lib.tensor(mask), **kw2)
        if name == "log_softmax":  # -inf at masked-out places: keep them out of the sum
            y = lib.where(lib.tensor(mask), y, lib.zeros_like(y))
        (y * lib.tensor(g)).sum().backward()
        grads.append(x.grad.numpy())
    assert np.isfinite(grads[0]).all()
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-9, atol=1e-12)
    assert np.all(grads[1][~mask] == 0) or name in ("normalize",)


def test_gradcheck_masked_softmax():
    mask_np = MASK.copy()
    mask_np[..., :2] = True  # at least two kept elements per row along dim 2
    mask = ctorch.tensor(mask_np)
    x = ctorch.tensor(X, requires_grad=True)
    assert ctorch.autograd.gradcheck(lambda x: cmasked.softmax(x, 2, mask=mask), (x,))
    assert ctorch.autograd.gradcheck(lambda x: cmasked.std(x, 2, mask=mask), (x,))
    assert ctorch.autograd.gradcheck(lambda x: cmasked.logsumexp(x, 2, mask=mask), (x,))


def test_errors_match_torch():
    x = X
    for lib, M in ((torch, tmasked), (ctorch, cmasked)):
        with pytest.raises(IndexError, match="_input_mask expected broadcastable mask"):
            M.sum(lib.tensor(x), mask=lib.tensor(np.ones((2, 3, 4, 5), bool)))
        with pytest.raises(RuntimeError, match="dim=1 appears multiple times in the list of dims"):
            M.sum(lib.tensor(x), (1, 1), mask=lib.tensor(MASK))
        with pytest.raises(
            IndexError,
            match=r"Dimension out of range \(expected to be in range of \[-3, 2\], but got 3\)",
        ):
            M.amax(lib.tensor(x), 3, mask=lib.tensor(MASK))
        with pytest.raises(
            AssertionError, match="Only one of unbiased and correction may be given"
        ):
            M.var(lib.tensor(x), 1, True, correction=1, mask=lib.tensor(MASK))


def test_names_and_private_helpers():
    missing = {"MaskedTensor", "masked_tensor", "as_masked_tensor"}  # not implemented
    assert set(tmasked.__all__) - missing == set(cmasked.__all__)
    assert cmasked.is_masked_tensor(ctorch.ones(2)) is False
    assert ctorch.masked is cmasked
    with pytest.raises(AttributeError, match="MaskedTensor"):
        cmasked.MaskedTensor  # noqa: B018
    # the output-mask helper torch's docs use
    om = cmasked._output_mask(cmasked.sum, ctorch.tensor(X), 2, mask=ctorch.tensor(MASK))
    tom = tmasked._output_mask(tmasked.sum, torch.tensor(X), 2, mask=torch.tensor(MASK))
    np.testing.assert_array_equal(om.numpy(), tom.numpy())


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_integer_logsumexp_and_norm_as_torch(dtype):
    """logsumexp of an integer input computes in the default float dtype (the masked-out
    entries, the dtype's minimum, add nothing); norm refuses integers, dtype= or not."""
    x = (np.abs(RNG.standard_normal((3, 5))) * 4).astype(dtype)
    mask = RNG.random((3, 5)) > 0.5
    mask[1] = False
    for kw in (dict(dim=1), dict(dim=1, dtype="float64"), dict(dim=0, keepdim=True)):
        _compare("logsumexp", kw, x, mask)
    for lib, M in ((torch, tmasked), (ctorch, cmasked)):
        for dt in (None, lib.float64):
            with pytest.raises(RuntimeError, match="linalg.vector_norm: Expected a floating point"):
                M.norm(lib.tensor(x), 2.0, 1, mask=lib.tensor(mask), dtype=dt)
    # the plain ops underneath
    big = np.array([3, np.iinfo(np.int64).min, 1])
    assert float(ctorch.logsumexp(ctorch.tensor(big), 0)) == pytest.approx(
        float(torch.logsumexp(torch.tensor(big), 0))
    )
    assert ctorch.logsumexp(ctorch.tensor([3, 1]), 0).dtype == ctorch.float32
