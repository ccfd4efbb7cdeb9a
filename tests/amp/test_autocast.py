"""Autocast: every op of torch's CPU autocast lists that ctorch has, against torch's CPU
autocast (output dtype equal, values within bfloat16/float16 tolerance, gradients in the
parameters' dtype); the context/decorator/nesting/state API; the cast cache; thread-locality;
the Function.apply hook's cost-free path and its handling of non-dense tensors."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import ctorch
from ctorch import _autocast
from ctorch.amp import _lists
from ctorch.autograd import function as _function

torch = pytest.importorskip("torch")


def _F(L):
    return L.nn.functional


def _ints(L, v):
    return L.tensor(v)


# name -> (fn(L, *tensors), input shapes or ("int", values) / ("pos", shape) markers)
CASES = {
    # lower precision
    "conv1d": (lambda L, x, w, b: _F(L).conv1d(x, w, b, padding=1), [(2, 3, 9), (4, 3, 3), (4,)]),
    "conv2d": (
        lambda L, x, w, b: _F(L).conv2d(x, w, b, stride=2),
        [(2, 3, 9, 9), (4, 3, 3, 3), (4,)],
    ),
    "conv3d": (lambda L, x, w: _F(L).conv3d(x, w), [(1, 2, 5, 5, 5), (3, 2, 2, 2, 2)]),
    "conv_transpose1d": (lambda L, x, w: _F(L).conv_transpose1d(x, w), [(2, 3, 6), (3, 4, 3)]),
    "conv_transpose2d": (
        lambda L, x, w: _F(L).conv_transpose2d(x, w, stride=2),
        [(2, 3, 5, 5), (3, 4, 3, 3)],
    ),
    "bmm": (lambda L, x, y: L.bmm(x, y), [(2, 5, 7), (2, 7, 3)]),
    "mm": (lambda L, x, y: L.mm(x, y), [(5, 7), (7, 3)]),
    "baddbmm": (lambda L, b, x, y: L.baddbmm(b, x, y), [(2, 5, 3), (2, 5, 7), (2, 7, 3)]),
    "addmm": (lambda L, b, x, y: L.addmm(b, x, y), [(3,), (5, 7), (7, 3)]),
    "addbmm": (lambda L, b, x, y: L.addbmm(b, x, y), [(5, 3), (2, 5, 7), (2, 7, 3)]),
    "linear": (lambda L, x, w, b: _F(L).linear(x, w, b), [(5, 7), (3, 7), (3,)]),
    "matmul": (lambda L, x, y: L.matmul(x, y), [(2, 5, 7), (7, 3)]),
    "matmul_op": (lambda L, x, y: x @ y, [(5, 7), (7, 3)]),
    "linalg.vecdot": (lambda L, x, y: L.linalg.vecdot(x, y), [(5, 7), (5, 7)]),
    "prelu": (lambda L, x, w: _F(L).prelu(x, w), [(2, 3, 4), (3,)]),
    "scaled_dot_product_attention": (
        lambda L, q, k, v: _F(L).scaled_dot_product_attention(q, k, v),
        [(2, 4, 8), (2, 6, 8), (2, 6, 8)],
    ),
    # float32
    "avg_pool3d": (lambda L, x: _F(L).avg_pool3d(x, 2), [(1, 2, 4, 4, 4)]),
    "max_pool3d": (lambda L, x: _F(L).max_pool3d(x, 2), [(1, 2, 4, 4, 4)]),
    "adaptive_avg_pool3d": (lambda L, x: _F(L).adaptive_avg_pool3d(x, 2), [(1, 2, 4, 4, 4)]),
    "binary_cross_entropy": (
        lambda L, p, t: _F(L).binary_cross_entropy(p.sigmoid(), t.sigmoid()),
        [(4, 5), (4, 5)],
    ),
    "binary_cross_entropy_with_logits": (
        lambda L, x, t: _F(L).binary_cross_entropy_with_logits(x, t.sigmoid()),
        [(4, 5), (4, 5)],
    ),
    "prod": (lambda L, x: L.prod(x, 1), [(4, 5)]),
    "cdist": (lambda L, x, y: L.cdist(x, y), [(4, 5), (3, 5)]),
    "trace": (lambda L, x: L.trace(x), [(4, 4)]),
    "mse_loss": (lambda L, x, y: _F(L).mse_loss(x, y), [(4, 5), (4, 5)]),
    "l1_loss": (lambda L, x, y: _F(L).l1_loss(x, y), [(4, 5), (4, 5)]),
    "smooth_l1_loss": (lambda L, x, y: _F(L).smooth_l1_loss(x, y), [(4, 5), (4, 5)]),
    "huber_loss": (lambda L, x, y: _F(L).huber_loss(x, y), [(4, 5), (4, 5)]),
    "soft_margin_loss": (
        lambda L, x, y: _F(L).soft_margin_loss(x, y.sign().detach()),
        [(4, 5), (4, 5)],
    ),
    "kl_div": (
        lambda L, x, y: _F(L).kl_div(x.log_softmax(1), y.softmax(1), reduction="batchmean"),
        [(4, 5), (4, 5)],
    ),
    "poisson_nll_loss": (lambda L, x, y: _F(L).poisson_nll_loss(x, y.abs()), [(4, 5), (4, 5)]),
    "hinge_embedding_loss": (
        lambda L, x, y: _F(L).hinge_embedding_loss(x, y.sign()),
        [(4, 5), (4, 5)],
    ),
    "margin_ranking_loss": (
        lambda L, x, y, t: _F(L).margin_ranking_loss(x, y, t.sign()),
        [(6,), (6,), (6,)],
    ),
    "cosine_embedding_loss": (
        lambda L, x, y, t: _F(L).cosine_embedding_loss(x, y, t.sign()),
        [(4, 5), (4, 5), (4,)],
    ),
    "triplet_margin_loss": (
        lambda L, a, p, n: _F(L).triplet_margin_loss(a, p, n),
        [(4, 5), (4, 5), (4, 5)],
    ),
    "multi_margin_loss": (
        lambda L, x: _F(L).multi_margin_loss(x, _ints(L, [0, 2, 1, 4])),
        [(4, 5)],
    ),
    "multilabel_margin_loss": (
        lambda L, x: _F(L).multilabel_margin_loss(x, _ints(L, [[0, 2, -1, 0, 0]] * 4)),
        [(4, 5)],
    ),
    "ctc_loss": (
        lambda L, x: _F(L).ctc_loss(
            x.log_softmax(2), _ints(L, [[1, 2], [3, 1]]), (5, 4), (2, 2), reduction="sum"
        ),
        [(5, 2, 4)],
    ),
    "nll_loss": (lambda L, x: _F(L).nll_loss(x.log_softmax(1), _ints(L, [0, 2, 1, 4])), [(4, 5)]),
    "cross_entropy": (lambda L, x: _F(L).cross_entropy(x, _ints(L, [0, 2, 1, 4])), [(4, 5)]),
    "max_unpool2d": (
        lambda L, x: _F(L).max_unpool2d(*_F(L).max_pool2d(x, 2, return_indices=True), 2),
        [(1, 2, 4, 4)],
    ),
    "grid_sample": (
        lambda L, x, g: _F(L).grid_sample(x, g.tanh(), align_corners=False),
        [(1, 2, 4, 4), (1, 3, 3, 2)],
    ),
    "adaptive_max_pool3d": (lambda L, x: _F(L).adaptive_max_pool3d(x, 2), [(1, 2, 4, 4, 4)]),
    "conv_transpose3d": (
        lambda L, x, w: _F(L).conv_transpose3d(x, w, stride=2),
        [(1, 2, 3, 3, 3), (2, 3, 2, 2, 2)],
    ),
    "max_unpool3d": (
        lambda L, x: _F(L).max_unpool3d(*_F(L).max_pool3d(x, 2, return_indices=True), 2),
        [(1, 2, 4, 4, 4)],
    ),
    "fractional_max_pool2d": (
        lambda L, x, u: _F(L).fractional_max_pool2d(
            x, 2, 3, _random_samples=(u.detach().abs() * 0.99)
        ),
        [(2, 3, 6, 6), (2, 3, 2)],
    ),
    "fractional_max_pool3d": (
        lambda L, x, u: _F(L).fractional_max_pool3d(
            x, 2, 3, _random_samples=(u.detach().abs() * 0.99)
        ),
        [(1, 2, 6, 6, 6), (1, 2, 3)],
    ),
    # promote
    "cat": (lambda L, x, y: L.cat([x, y]), [(2, 3), (4, 3)]),
    "stack": (lambda L, x, y: L.stack([x, y]), [(2, 3), (2, 3)]),
    "index_copy": (lambda L, x, s: x.index_copy(0, _ints(L, [2, 0]), s), [(4, 3), (2, 3)]),
}


def _available(case: str) -> bool:
    """ctorch has the op (ops of the lists that ctorch lacks are not parametrised)."""
    import ctorch.nn.functional as F

    name = case.removesuffix("_op")
    if "." in name:
        sub, attr = name.split(".")
        return hasattr(getattr(ctorch, sub, None), attr)
    return hasattr(ctorch, name) or hasattr(F, name) or hasattr(ctorch.Tensor, name)


def _inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, s).astype(np.float32) for s in shapes]


def _run(L, fn, arrays, dtypes, device_dtype, grad=True):
    if L is ctorch:
        ts = [ctorch.tensor(a).to(getattr(ctorch, d)) for a, d in zip(arrays, dtypes, strict=True)]
    else:
        ts = [
            torch.from_numpy(a.copy()).to(getattr(torch, d))
            for a, d in zip(arrays, dtypes, strict=True)
        ]
    for t in ts:
        t.requires_grad_(grad)
    with L.autocast("cpu", dtype=getattr(L, device_dtype)):
        out = fn(L, *ts)
    return out, ts


def _f32(t):
    return t.detach().float().numpy()


def _name(dt):
    return str(dt).split(".")[-1]


@pytest.mark.parametrize("ac_dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("in_dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("case", [c for c in CASES if _available(c)])
def test_listed_op_matches_torch_autocast(case, in_dtype, ac_dtype):
    fn, shapes = CASES[case]
    arrays = _inputs(shapes)
    dts = [in_dtype] * len(arrays)
    try:
        t, tin = _run(torch, fn, arrays, dts, ac_dtype)
    except RuntimeError as e:  # torch refuses (e.g. bfloat16 inputs to a float16 promote op)
        with pytest.raises(RuntimeError, match=str(e).splitlines()[0][:40]):
            _run(ctorch, fn, arrays, dts, ac_dtype)
        return
    c, cin = _run(ctorch, fn, arrays, dts, ac_dtype)
    assert _name(c.dtype) == _name(t.dtype), (case, c.dtype, t.dtype)
    tol = 1e-2 if "bfloat16" in (in_dtype, ac_dtype, _name(t.dtype)) else 2e-3
    np.testing.assert_allclose(_f32(c), _f32(t), rtol=4 * tol, atol=4 * tol)
    if case in ("max_unpool2d", "max_unpool3d"):
        return
    g = np.random.default_rng(1).uniform(-1, 1, tuple(t.shape)).astype(np.float32)
    c.backward(ctorch.tensor(g).to(c.dtype))
    t.backward(torch.from_numpy(g).to(t.dtype))
    for ci, ti in zip(cin, tin, strict=True):
        if ti.grad is None:
            assert ci.grad is None
            continue
        assert _name(ci.grad.dtype) == _name(ti.grad.dtype) == in_dtype  # the input's dtype
        np.testing.assert_allclose(_f32(ci.grad), _f32(ti.grad), rtol=8 * tol, atol=8 * tol)


def test_every_listed_op_ctorch_has_is_tested():
    """The parity table covers each torch autocast-list op ctorch implements."""
    import ctorch.fft  # noqa: F401  (the namespaces the lists are looked up in: imported
    import ctorch.linalg  # noqa: F401  here so the answer does not depend on test order)
    import ctorch.nn.functional  # noqa: F401

    have = {
        n for (m, n, p) in _lists.public_targets() if getattr(m, n, None) is not None and "cpu" in p
    }
    have |= {
        f"linalg.{n}"
        for (m, n, p) in _lists.public_targets()
        if m.__name__ == "ctorch.linalg" and getattr(m, n, None) is not None and "cpu" in p
    }
    tested = set(CASES) | set(FP32_CASES)
    untested = {n for n in have if n not in tested and f"linalg.{n}" not in tested}
    assert not untested, sorted(untested)


def test_unlisted_ops_keep_input_dtype_and_promote_like_torch():
    x = np.random.default_rng(0).uniform(-1, 1, (3, 4)).astype(np.float32)
    for L in (ctorch, torch):
        with L.autocast("cpu"):
            a = L.tensor(x) if L is ctorch else torch.from_numpy(x)
            h = L.mm(a, a.t())
            r = (
                h.relu().dtype,
                (h + a[:, :3]).dtype,
                h.exp().dtype,
                L.softmax(h, 1).dtype,
                h.sum().dtype,
            )
        if L is ctorch:
            cr = tuple(map(_name, r))
        else:
            assert cr == tuple(map(_name, r))


def test_float64_is_not_cast():
    a = ctorch.randn(3, 3, dtype=ctorch.float64)
    with ctorch.autocast("cpu"):
        assert ctorch.mm(a, a).dtype is ctorch.float64


def test_nesting_state_and_decorator():
    assert not ctorch.is_autocast_enabled("cpu")
    assert ctorch.get_autocast_dtype("cpu") is ctorch.bfloat16
    assert ctorch.get_autocast_dtype("cuda") is ctorch.float16
    a = ctorch.randn(3, 3)
    with ctorch.autocast("cpu"):
        assert ctorch.is_autocast_enabled("cpu") and not ctorch.is_autocast_enabled()
        with ctorch.autocast("cpu", dtype=ctorch.float16):
            assert ctorch.mm(a, a).dtype is ctorch.float16
            with ctorch.autocast("cpu", enabled=False):
                assert ctorch.mm(a, a).dtype is ctorch.float32
                assert not ctorch.is_autocast_enabled("cpu")
            assert ctorch.get_autocast_dtype("cpu") is ctorch.float16
        assert ctorch.mm(a, a).dtype is ctorch.bfloat16
    assert not ctorch.is_autocast_enabled("cpu")
    assert _function._autocast is None  # the hot path is back to one global read

    @ctorch.amp.autocast("cpu")
    def f(x):
        return ctorch.mm(x, x)

    assert f(a).dtype is ctorch.bfloat16 and ctorch.mm(a, a).dtype is ctorch.float32
    # an exception inside leaves the state restored
    with pytest.raises(ValueError), ctorch.autocast("cpu"):
        raise ValueError
    assert not ctorch.is_autocast_enabled("cpu") and _function._autocast is None


def test_state_functions():
    ctorch.set_autocast_enabled("cpu", True)
    try:
        assert ctorch.is_autocast_enabled("cpu") and ctorch.is_autocast_cpu_enabled()
        ctorch.set_autocast_dtype("cpu", ctorch.float16)
        assert ctorch.get_autocast_cpu_dtype() is ctorch.float16
        a = ctorch.randn(2, 2)
        assert (a @ a).dtype is ctorch.float16
    finally:
        ctorch.set_autocast_enabled("cpu", False)
        ctorch.set_autocast_dtype("cpu", ctorch.bfloat16)
    assert ctorch.is_autocast_cache_enabled()
    ctorch.set_autocast_cache_enabled(False)
    assert not ctorch.is_autocast_cache_enabled()
    ctorch.set_autocast_cache_enabled(True)
    assert ctorch.autocast_increment_nesting() == 1
    assert ctorch.autocast_decrement_nesting() == 0
    with pytest.raises(ValueError, match="device_type"):
        ctorch.autocast(0)
    with pytest.raises(RuntimeError, match="unsupported autocast device_type"):
        ctorch.autocast("xla")


def test_unsupported_dtype_and_missing_cuda_warn_and_disable():
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        ac = ctorch.autocast("cpu", dtype=ctorch.float64)
    with ac:
        assert not ctorch.is_autocast_enabled("cpu")
    if not ctorch.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available"):
            with ctorch.autocast("cuda"):
                assert not ctorch.is_autocast_enabled("cuda")
        with pytest.warns(FutureWarning, match="deprecated"):
            ctorch.cuda.amp.autocast()
    # torch's text, quotes included
    legacy = r"`torch.cpu.amp.autocast\(args...\)` is deprecated. Please use `torch.amp.autocast\('cpu', args...\)` instead."
    with pytest.warns(FutureWarning, match=legacy):
        with ctorch.cpu.amp.autocast():
            assert ctorch.is_autocast_enabled("cpu")


def test_cast_cache_reuses_weight_copy_within_region():
    m = ctorch.nn.Linear(4, 4)
    x = ctorch.randn(2, 4)
    with ctorch.autocast("cpu"):
        y1 = m(x)
        y2 = m(x)
        assert len(_autocast._tls.cache) == 2  # weight and bias, cast once each
        w, _, w16 = _autocast._tls.cache[id(m.weight)]
        assert w is m.weight and w16.dtype is ctorch.bfloat16
        (y1 + y2).sum().backward()
    assert not _autocast._tls.cache  # cleared with the outermost region
    assert m.weight.grad.dtype is ctorch.float32
    with ctorch.autocast("cpu", cache_enabled=False):
        m(x)
        assert not _autocast._tls.cache


def test_autocast_is_thread_local():
    seen = {}
    a = ctorch.randn(3, 3)

    def other():
        seen["other"] = (ctorch.is_autocast_enabled("cpu"), ctorch.mm(a, a).dtype)

    with ctorch.autocast("cpu"):
        th = threading.Thread(target=other)
        th.start()
        th.join()
        assert ctorch.mm(a, a).dtype is ctorch.bfloat16
    assert seen["other"] == (False, ctorch.float32)


def test_hook_never_touches_non_dense_tensors():
    class Sparseish(ctorch.Tensor):
        is_sparse = True

        @property
        def _a(self):
            raise AssertionError("the autocast hook read the array of a non-dense tensor")

    s = object.__new__(Sparseish)
    d = ctorch.randn(2, 2)
    from ctorch.ops.linalg import MatMul

    with ctorch.autocast("cpu"):
        out = _autocast.function_hook(MatMul, (s, d))
        assert out[0] is s and out[1].dtype is ctorch.bfloat16
        out = _autocast.function_hook(MatMul, (s,))
        assert out[0] is s


def test_custom_fwd_bwd():
    class MyMM(ctorch.autograd.Function):
        @staticmethod
        @ctorch.amp.custom_fwd(device_type="cpu", cast_inputs=ctorch.float32)
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            assert not ctorch.is_autocast_enabled("cpu")
            return a.mm(b)

        @staticmethod
        @ctorch.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g.mm(b.t()), a.t().mm(g)

    a = ctorch.randn(3, 3, requires_grad=True)
    with ctorch.autocast("cpu"):
        y = MyMM.apply(a.bfloat16(), a)
    assert y.dtype is ctorch.float32
    y.sum().backward()
    assert a.grad.dtype is ctorch.float32


def test_promote_mixing_16bit_types_raises_like_torch():
    a, b = ctorch.ones(2).bfloat16(), ctorch.ones(2).half()
    with ctorch.autocast("cpu"), pytest.raises(RuntimeError, match="prioritize"):
        ctorch.cat([b, a])


def test_banned_op_message_on_cuda_policy():
    ds = _autocast.state("cuda")
    with pytest.raises(RuntimeError, match="unsafe to autocast"):
        _autocast.cast_args("banned", ds, (), {})


def test_warning_free_import():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import ctorch.amp  # noqa: F401
        import ctorch.cuda.amp  # noqa: F401


# torch's CPU autocast fp32-list ops from linalg, fft/complex and their legacy names: under
# autocast they run in float32 whatever the input dtype (forward dtype and values vs torch).
_SPD = lambda L, x: x @ x.mT + 4 * L.eye(4, dtype=x.dtype)  # noqa: E731
FP32_CASES = {
    "cholesky": lambda L, x: L.cholesky(_SPD(L, x)),
    "linalg.cholesky": lambda L, x: L.linalg.cholesky(_SPD(L, x)),
    "cholesky_ex": lambda L, x: L.linalg.cholesky_ex(_SPD(L, x))[0],
    "linalg.cholesky_ex": lambda L, x: L.linalg.cholesky_ex(_SPD(L, x))[0],
    "cholesky_inverse": lambda L, x: L.cholesky_inverse(L.linalg.cholesky(_SPD(L, x))),
    "cholesky_solve": lambda L, x: L.cholesky_solve(x, L.linalg.cholesky(_SPD(L, x))),
    "cond": lambda L, x: L.linalg.cond(_SPD(L, x)),
    "linalg.cond": lambda L, x: L.linalg.cond(_SPD(L, x)),
    "eig": lambda L, x: L.linalg.eigvals(_SPD(L, x)).real.sort().values,
    "linalg.eig": lambda L, x: L.linalg.eig(_SPD(L, x))[0].real.sort().values,
    "eigh": lambda L, x: L.linalg.eigh(_SPD(L, x))[0],
    "linalg.eigh": lambda L, x: L.linalg.eigh(_SPD(L, x))[0],
    "eigvals": lambda L, x: L.linalg.eigvals(_SPD(L, x)).real.sort().values,
    "linalg.eigvals": lambda L, x: L.linalg.eigvals(_SPD(L, x)).real.sort().values,
    "eigvalsh": lambda L, x: L.linalg.eigvalsh(_SPD(L, x)),
    "linalg.eigvalsh": lambda L, x: L.linalg.eigvalsh(_SPD(L, x)),
    "geqrf": lambda L, x: L.geqrf(_SPD(L, x))[1].abs(),
    "householder_product": lambda L, x: L.linalg.householder_product(*L.geqrf(_SPD(L, x))).abs(),
    "linalg.householder_product": lambda L, x: L.linalg.householder_product(
        *L.geqrf(_SPD(L, x))
    ).abs(),
    "orgqr": lambda L, x: L.orgqr(*L.geqrf(_SPD(L, x))).abs(),
    "ormqr": lambda L, x: L.ormqr(*L.geqrf(_SPD(L, x)), x).abs(),
    "inv": lambda L, x: L.linalg.inv(_SPD(L, x)),
    "linalg.inv": lambda L, x: L.linalg.inv(_SPD(L, x)),
    "inv_ex": lambda L, x: L.linalg.inv_ex(_SPD(L, x))[0],
    "linalg.inv_ex": lambda L, x: L.linalg.inv_ex(_SPD(L, x))[0],
    "inverse": lambda L, x: L.inverse(_SPD(L, x)),
    "lstsq": lambda L, x: L.linalg.lstsq(_SPD(L, x), x)[0],
    "linalg.lstsq": lambda L, x: L.linalg.lstsq(_SPD(L, x), x)[0],
    "lu_solve": lambda L, x: L.linalg.lu_solve(*L.linalg.lu_factor(_SPD(L, x)), x),
    "matrix_rank": lambda L, x: L.linalg.matrix_rank(_SPD(L, x)),
    "linalg.matrix_rank": lambda L, x: L.linalg.matrix_rank(_SPD(L, x)),
    "pinverse": lambda L, x: L.pinverse(_SPD(L, x)),
    "qr": lambda L, x: L.linalg.qr(_SPD(L, x))[1].abs(),
    "linalg.qr": lambda L, x: L.linalg.qr(_SPD(L, x))[1].abs(),
    "solve": lambda L, x: L.linalg.solve(_SPD(L, x), x),
    "linalg.solve": lambda L, x: L.linalg.solve(_SPD(L, x), x),
    "svd": lambda L, x: L.linalg.svd(_SPD(L, x))[1],
    "linalg.svd": lambda L, x: L.linalg.svd(_SPD(L, x))[1],
    "svdvals": lambda L, x: L.linalg.svdvals(_SPD(L, x)),
    "linalg.svdvals": lambda L, x: L.linalg.svdvals(_SPD(L, x)),
    "tensorinv": lambda L, x: L.linalg.tensorinv(_SPD(L, x), ind=1),
    "linalg.tensorinv": lambda L, x: L.linalg.tensorinv(_SPD(L, x), ind=1),
    "tensorsolve": lambda L, x: L.linalg.tensorsolve(_SPD(L, x), x[:, 0]),
    "linalg.tensorsolve": lambda L, x: L.linalg.tensorsolve(_SPD(L, x), x[:, 0]),
    "triangular_solve": lambda L, x: L.triangular_solve(x, _SPD(L, x).triu())[0],
    "quantile": lambda L, x: L.quantile(x, L.tensor([0.25, 0.5], dtype=x.dtype), dim=1),
    "nanquantile": lambda L, x: L.nanquantile(x, 0.3, dim=0),
    "polar": lambda L, x: L.view_as_real(L.polar(x.abs(), x)),
    "view_as_complex": lambda L, x: L.view_as_real(L.view_as_complex(x.reshape(4, 2, 2))),
    "stft": lambda L, x: L.stft(x.reshape(-1), 4, return_complex=True).abs(),
    # torch.fft: complex results compared as their real views (resolve_conj: torch returns
    # ifft/ihfft of a real input with its lazy conjugate bit set, which view_as_real refuses)
    "fft": lambda L, x: L.view_as_real(L.fft.fft(x).resolve_conj()),
    "ifft": lambda L, x: L.view_as_real(L.fft.ifft(x).resolve_conj()),
    "fft2": lambda L, x: L.view_as_real(L.fft.fft2(x).resolve_conj()),
    "ifft2": lambda L, x: L.view_as_real(L.fft.ifft2(x).resolve_conj()),
    "fftn": lambda L, x: L.view_as_real(L.fft.fftn(x).resolve_conj()),
    "ifftn": lambda L, x: L.view_as_real(L.fft.ifftn(x).resolve_conj()),
    "rfft": lambda L, x: L.view_as_real(L.fft.rfft(x).resolve_conj()),
    "rfft2": lambda L, x: L.view_as_real(L.fft.rfft2(x).resolve_conj()),
    "rfftn": lambda L, x: L.view_as_real(L.fft.rfftn(x).resolve_conj()),
    "irfft": lambda L, x: L.fft.irfft(x),
    "irfft2": lambda L, x: L.fft.irfft2(x),
    "irfftn": lambda L, x: L.fft.irfftn(x),
    "hfft": lambda L, x: L.fft.hfft(x),
    "ihfft": lambda L, x: L.view_as_real(L.fft.ihfft(x).resolve_conj()),
}


@pytest.mark.parametrize("ac_dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("in_dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("case", sorted(FP32_CASES))
def test_fp32_listed_op_matches_torch_autocast(case, in_dtype, ac_dtype):
    fn = FP32_CASES[case]
    a = np.random.default_rng(3).uniform(-1, 1, (4, 4)).astype(np.float32)
    res = []
    for L in (ctorch, torch):
        x = (L.tensor(a) if L is ctorch else torch.from_numpy(a.copy())).to(getattr(L, in_dtype))
        with L.autocast("cpu", dtype=getattr(L, ac_dtype)):
            try:
                r = fn(L, x)
            except RuntimeError as e:
                res.append(e)
                continue
        res.append(r)
    c, t = res
    if isinstance(t, Exception):  # torch refuses: ctorch must too
        assert isinstance(c, Exception), (case, t)
        return
    assert not isinstance(c, Exception), (case, c)
    assert _name(c.dtype) == _name(t.dtype), (case, c.dtype, t.dtype)
    if c.dtype.is_floating_point:
        tol = 1e-2 if in_dtype == "bfloat16" else 1e-4
        np.testing.assert_allclose(_f32(c), _f32(t), rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(c.numpy(), t.numpy())


@pytest.mark.parametrize("dev", ["cpu", "xpu"])
def test_unsupported_autocast_dtype_warns_torchs_text(dev):
    torch = pytest.importorskip("torch")
    import warnings

    msgs = []
    for L in (torch, ctorch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with L.autocast(dev, dtype=L.float32):
                assert not L.is_autocast_enabled(dev)
        msgs.append([str(x.message) for x in w if "autocast" in str(x.message)])
    assert msgs[0] == msgs[1] and len(msgs[0]) == 1


def test_policies_hold_when_a_tensor_subclass_was_defined_before_autocast():
    """A subclass installs the __torch_function__ dispatchers first; autocast then wrapped the
    dispatcher only, and the Tensor method (bound to the raw function) ran without its policy
    (a fresh interpreter: the order of first use is what matters)."""
    import subprocess
    import sys

    code = (
        "import ctorch\n"
        "class Sub(ctorch.Tensor): pass\n"
        "x = ctorch.zeros(4, 3, dtype=ctorch.bfloat16); s = ctorch.ones(2, 3, dtype=ctorch.bfloat16)\n"
        "i = ctorch.tensor([2, 0])\n"
        "with ctorch.autocast('cpu', dtype=ctorch.float16):\n"
        "    for f in (lambda: x.index_copy(0, i, s), lambda: ctorch.index_copy(x, 0, i, s)):\n"
        "        try:\n"
        "            f()\n"
        "            print('no error')\n"
        "        except RuntimeError as e:\n"
        "            print(str(e)[:30])\n"
        "with ctorch.autocast('cpu'):\n"
        "    a = ctorch.randn(2, 2)\n"
        "    print((a @ a).dtype, ctorch.mm(a, a).dtype)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "Unexpected floating ScalarType",
        "Unexpected floating ScalarType",
        "ctorch.bfloat16 ctorch.bfloat16",
    ], out.stdout + out.stderr
