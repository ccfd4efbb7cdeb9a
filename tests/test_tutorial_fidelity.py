"""What the official PyTorch tutorials (pytorch/tutorials: intermediate_source, beginner_source)
print when run under ``python -m ctorch.run``: each test pins one difference found by running a
shrunken copy of a tutorial under torch and under ctorch and diffing the outputs."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

try:
    import torch
except ImportError:  # pragma: no cover - the parity half needs torch
    torch = None


def _seeded_draws_after_gradgradcheck(lib):
    """custom_function_double_backward_tutorial: gradgradcheck, then a seeded rand."""

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x

    lib.manual_seed(0)
    x = lib.rand(3, 3, dtype=lib.float64, requires_grad=True)
    assert lib.autograd.gradgradcheck(Square.apply, x)
    return lib.rand(4, dtype=lib.float64).numpy()


def test_gradgradcheck_draws_grad_outputs_like_torch():
    # torch draws the random grad_outputs with make_tensor(low=-1, high=1) from the default
    # generator; ctorch drew them from a private NumPy stream, so every seeded draw after a
    # gradgradcheck differed from torch's
    got = _seeded_draws_after_gradgradcheck(ctorch)
    ctorch.manual_seed(0)
    ctorch.rand(3, 3, dtype=ctorch.float64)
    ctorch.rand(3, 3, dtype=ctorch.float64)  # the one grad_output, 3x3 float64
    assert np.array_equal(got, ctorch.rand(4, dtype=ctorch.float64).numpy())
    if torch is not None:
        assert np.array_equal(got, _seeded_draws_after_gradgradcheck(torch))


@pytest.mark.parametrize(
    "dtype, kw",
    [
        ("float64", dict(low=-1, high=1)),
        ("float32", {}),
        ("float16", {}),
        ("complex64", dict(low=-2, high=2)),
        ("int16", {}),
        ("uint8", {}),
        ("int64", dict(low=-3, high=4)),
        ("bool", {}),
        ("float64", dict(low=-1e308, high=1e308)),
    ],
)
@pytest.mark.parametrize("noncontiguous", [False, True])
def test_make_tensor_values_match_torch(dtype, kw, noncontiguous):
    ctorch.manual_seed(3)
    t = ctorch.testing.make_tensor(
        (2, 3), dtype=getattr(ctorch, dtype), device="cpu", noncontiguous=noncontiguous, **kw
    )
    assert t.shape == (2, 3) and t.dtype == getattr(ctorch, dtype)
    assert t.is_contiguous() != noncontiguous
    if noncontiguous:
        assert t.stride() == (6, 2) and t.storage_offset() == 1  # torch's [..., 1::2]
    if torch is not None:
        torch.manual_seed(3)
        r = torch.testing.make_tensor(
            (2, 3), dtype=getattr(torch, dtype), device="cpu", noncontiguous=noncontiguous, **kw
        )
        if kw.get("high") == 1e308:  # the halved range, doubled: equal to the last ulp or so
            np.testing.assert_allclose(t.numpy(), r.numpy(), rtol=1e-15, atol=0)
        else:
            assert np.array_equal(t.numpy(), r.numpy())
        assert (t.stride(), t.storage_offset()) == (r.stride(), r.storage_offset())


def test_make_tensor_exclude_zero_and_one_element():
    ctorch.manual_seed(0)
    t = ctorch.testing.make_tensor(
        200, dtype=ctorch.int32, device="cpu", low=-1, high=2, exclude_zero=True
    )
    assert set(t.tolist()) <= {-1, 1}
    one = ctorch.testing.make_tensor((1,), dtype=ctorch.float32, device="cpu", noncontiguous=True)
    assert one.is_contiguous()  # torch: a one-element tensor stays contiguous
    if torch is not None:
        torch.manual_seed(0)
        r = torch.testing.make_tensor(
            200, dtype=torch.int32, device="cpu", low=-1, high=2, exclude_zero=True
        )
        assert t.tolist() == r.tolist()


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("n", [4, 6])
def test_affine_grid_base_coordinates_rounded_in_dtype(n, align_corners):
    # spatial_transformer_tutorial: the STN starts at the identity theta, so every grid point
    # sits on a pixel centre, where grid_sample's bilinear gradient takes one neighbour's slope
    # or the other's; the base grid must be ATen's float32 arithmetic, not float64 rounded once
    th = [[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]
    g = ctorch.nn.functional.affine_grid(
        ctorch.tensor(th), (1, 1, 2, n), align_corners=align_corners
    )
    x = g[0, 0, :, 0].numpy()
    f = np.float32
    step = (f(1) - f(-1)) / f(n - 1)
    half = n // 2
    lin = np.array(
        [f(-1) + step * f(i) if i < half else f(1) - step * f(n - 1 - i) for i in range(n)], f
    )
    want = lin if align_corners else lin * f(n - 1) / f(n)
    assert x.dtype == np.float32 and np.array_equal(x, want)
    if torch is not None:
        r = torch.nn.functional.affine_grid(
            torch.tensor(th), (1, 1, 2, n), align_corners=align_corners
        )
        assert np.array_equal(g.numpy(), r.numpy())


def test_make_dual_copies_a_tangent_with_another_layout():
    # forward_ad_usage: make_dual(primal, tangent.T) gives a tangent with the primal's strides
    # (a copy); a tangent with the primal's layout is used as is
    import ctorch.autograd.forward_ad as fwAD

    p = ctorch.arange(12.0).view(3, 4)
    t = ctorch.arange(12.0).view(4, 3).requires_grad_()
    same = ctorch.ones(3, 4)
    with fwAD.dual_level():
        d = fwAD.make_dual(p, t.T)
        tt = fwAD.unpack_dual(d).tangent
        assert tt is not t and tt.stride() == (4, 1) and ctorch.equal(tt, t.T)
        assert fwAD.unpack_dual(fwAD.make_dual(p, same)).tangent is same
        out = fwAD.unpack_dual(d * 3).tangent
        assert out.stride() == (4, 1) and ctorch.equal(out, 3 * t.T)
        out.sum().backward()  # the copy keeps the tangent's graph
    assert ctorch.equal(t.grad, ctorch.full((4, 3), 3.0))
    if torch is not None:
        import torch.autograd.forward_ad as tfwAD

        with tfwAD.dual_level():
            r = tfwAD.unpack_dual(tfwAD.make_dual(torch.zeros(3, 4), torch.zeros(4, 3).T)).tangent
            assert r.stride() == tt.stride()


def test_is_view():
    x = ctorch.zeros(2, 3)
    assert not x._is_view() and x[0]._is_view() and x.t()._is_view()
    assert x.view(6)._base is x and not x.clone()._is_view()
    if torch is not None:
        y = torch.zeros(2, 3)
        assert (y._is_view(), y[0]._is_view(), y.clone()._is_view()) == (False, True, False)


def _repr_under_run(obj):
    from ctorch import _display

    old = _display.set_prefix("torch.")
    try:
        return repr(obj)
    finally:
        _display.set_prefix(old)


def test_pruning_method_repr_names_torch_module():
    # pruning_tutorial prints module._forward_pre_hooks and the PruningContainer's history
    import ctorch.nn.utils.prune as prune

    m = ctorch.nn.Linear(3, 2)
    prune.l1_unstructured(m, "weight", amount=1)
    (hook,) = m._forward_pre_hooks.values()
    addr = f"{id(hook):#x}"
    assert repr(hook) == f"<ctorch.nn.utils.prune.L1Unstructured object at {addr}>"
    assert _repr_under_run(hook) == f"<torch.nn.utils.prune.L1Unstructured object at {addr}>"

    class Mine(prune.BasePruningMethod):  # a user's method keeps its own module
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            return default_mask

    assert _repr_under_run(Mine()).startswith(f"<{__name__}.")
    if torch is not None:
        import torch.nn.utils.prune as tprune

        th = tprune.L1Unstructured(amount=1)
        assert repr(th) == f"<torch.nn.utils.prune.L1Unstructured object at {id(th):#x}>"


def test_benchmark_measurement_repr_names_torch_module():
    # per_sample_grads / jacobians_hessians print Timer.timeit's Measurement
    from ctorch.utils.benchmark import Timer

    m = Timer("1 + 1").timeit(2)
    first = _repr_under_run(m).splitlines()[0]
    assert first == f"<torch.utils.benchmark.utils.common.Measurement object at {id(m):#x}>"
    assert repr(m).splitlines()[0] == f"<ctorch.utils.benchmark.Measurement object at {id(m):#x}>"
    if torch is not None:
        from torch.utils.benchmark import Timer as TTimer

        r = TTimer("1 + 1").timeit(2)
        assert repr(r).splitlines()[0] == first.replace(f"{id(m):#x}", f"{id(r):#x}")


def _jvp_only_function(lib):
    class Fn(lib.autograd.Function):  # forward_ad_usage's Fn: a jvp and no backward
        @staticmethod
        def forward(ctx, foo):
            result = lib.exp(foo)
            ctx.result = result
            return result

        @staticmethod
        def jvp(ctx, gI):
            gO = gI * ctx.result
            del ctx.result
            return gO

    return Fn


@pytest.mark.parametrize("primal_requires_grad", [False, True])
def test_custom_function_jvp_gives_the_tangent(primal_requires_grad):
    import ctorch.autograd.forward_ad as fwAD

    Fn = _jvp_only_function(ctorch)
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    v = np.arange(6.0).reshape(2, 3)
    primal = ctorch.tensor(x, requires_grad=primal_requires_grad)
    with fwAD.dual_level():
        out = Fn.apply(fwAD.make_dual(primal, ctorch.tensor(v)))
        jvp = fwAD.unpack_dual(out).tangent
        jvp2 = fwAD.unpack_dual(out * 2 + 1).tangent  # the tangent flows on through ops
    np.testing.assert_allclose(out.detach().numpy(), np.exp(x))
    np.testing.assert_allclose(jvp.detach().numpy(), v * np.exp(x))
    np.testing.assert_allclose(jvp2.detach().numpy(), 2 * v * np.exp(x))
    assert jvp.dtype == ctorch.float64
    assert ctorch.equal(Fn.apply(primal), ctorch.exp(primal))  # outside a level: plain forward
    if torch is not None:
        import torch.autograd.forward_ad as tfwAD

        T = _jvp_only_function(torch)
        with tfwAD.dual_level():
            tp = torch.tensor(x, requires_grad=primal_requires_grad)
            r = tfwAD.unpack_dual(T.apply(tfwAD.make_dual(tp, torch.tensor(v)))).tangent
        np.testing.assert_allclose(jvp.detach().numpy(), r.detach().numpy(), rtol=1e-15)


def test_gradcheck_check_forward_ad():
    Fn = _jvp_only_function(ctorch)
    x = ctorch.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), requires_grad=True)
    kw = dict(check_backward_ad=False, check_undefined_grad=False, check_batched_grad=False)
    assert ctorch.autograd.gradcheck(Fn.apply, (x,), check_forward_ad=True, **kw)

    class Wrong(Fn):
        @staticmethod
        def jvp(ctx, gI):
            return 2 * gI * ctx.result

    with pytest.raises(RuntimeError, match=r"forward AD"):  # GradcheckError
        ctorch.autograd.gradcheck(Wrong.apply, (x,), check_forward_ad=True, **kw)
    assert not ctorch.autograd.gradcheck(
        Wrong.apply, (x,), check_forward_ad=True, raise_exception=False, **kw
    )
    # forward AD through ordinary ops, beside the reverse check
    assert ctorch.autograd.gradcheck(lambda t: (t.sin() * t).sum(1), (x,), check_forward_ad=True)
    with pytest.raises(TypeError):
        ctorch.autograd.gradcheck(ctorch.sin, (x,), not_an_option=True)  # as torch's signature
    if torch is not None:
        T = _jvp_only_function(torch)
        tx = torch.tensor(x.detach().numpy(), requires_grad=True)
        assert torch.autograd.gradcheck(T.apply, (tx,), check_forward_ad=True, **kw)


def test_make_dual_is_a_view_of_the_primal():
    # forward_ad_usage: "the dual tensor created by make_dual is a view of the primal"
    import ctorch.autograd.forward_ad as fwAD

    p, q = ctorch.ones(3), ctorch.ones(3, requires_grad=True)
    v = ctorch.ones(6)[:3]
    with fwAD.dual_level():
        d = fwAD.make_dual(p, ctorch.ones(3))
        assert d._base is p and d._is_view() and d._version == p._version
        e = fwAD.make_dual(q, ctorch.ones(3))
        assert e._base is q and e._is_view()
        assert fwAD.make_dual(v, ctorch.ones(3))._base is v._base
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            e.mul_(2)
        p.add_(1)
        assert d._version == p._version and ctorch.equal(d.detach(), ctorch.full((3,), 2.0))
        assert ctorch.equal(fwAD.unpack_dual(d * d).tangent, ctorch.full((3,), 4.0))
    if torch is not None:
        import torch.autograd.forward_ad as tfwAD

        tp = torch.ones(3)
        with tfwAD.dual_level():
            td = tfwAD.make_dual(tp, torch.ones(3))
            assert td._base is tp and td._is_view()


def _dual_reprs(lib):
    import importlib

    fwAD = importlib.import_module(lib.__name__ + ".autograd.forward_ad")
    p, q = lib.ones(2), lib.ones(2, requires_grad=True)
    w = lib.ones(2, requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(p, lib.full((2,), 3.0))
        e = fwAD.make_dual(q, lib.ones(2))
        return [
            repr(d),
            repr(d * 2),
            repr(e),
            repr(e.exp()),
            repr(lib.ones(2, dtype=lib.float64) * d),
            repr(p * 2),
            repr(w * 2),
            repr(d * w).split(",\n")[0],
        ]


def test_dual_tensor_repr_shows_its_tangent():
    got = _dual_reprs(ctorch)
    assert got == [
        "tensor([1., 1.], tangent=tensor([3., 3.]))",
        "tensor([2., 2.], tangent=tensor([6., 6.]))",
        "tensor([1., 1.], grad_fn=<ViewBackward0>, tangent=tensor([1., 1.]))",
        "tensor([2.7183, 2.7183], grad_fn=<ExpBackward0>,\n"
        "       tangent=tensor([2.7183, 2.7183], grad_fn=<MulBackward0>))",
        "tensor([1., 1.], dtype=ctorch.float64,\n"
        "       tangent=tensor([3., 3.], dtype=ctorch.float64))",
        "tensor([2., 2.])",
        "tensor([2., 2.], grad_fn=<MulBackward0>)",
        "tensor([1., 1.], grad_fn=<MulBackward0>",
    ]
    if torch is not None:
        assert [g.replace("ctorch.", "torch.") for g in got] == _dual_reprs(torch)
