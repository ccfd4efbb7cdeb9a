"""ctorch.autograd.functional and ctorch.func against torch on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _pair(*shape):
    a = RNG.standard_normal(shape)
    return ctorch.tensor(a), torch.tensor(a)


def _close(c, t, atol=1e-10):
    """Same nesting (tuple/list/dict), same shapes, same values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(c, ctorch.Tensor), type(c)
        assert tuple(c.shape) == tuple(t.shape)
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), atol=atol, rtol=1e-7)
    elif isinstance(t, dict):
        assert isinstance(c, dict) and list(c) == list(t)
        for k in t:
            _close(c[k], t[k], atol)
    elif isinstance(t, (tuple, list)):
        assert type(c) is type(t) and len(c) == len(t), (type(c), type(t))
        for a, b in zip(c, t, strict=True):
            _close(a, b, atol)
    else:
        assert c == t


def f_single(x):
    return x.sin() * x.pow(2)


def f_scalar(x):
    return (x.exp() * x).sum() + (x.pow(3)).sum()


def f_two(x, y):
    return x * y.cos() + y.pow(2), (x * x).sum()


def f_scalar2(x, y):
    return (x.pow(2) * y.sin()).sum() + (x * y).sum().pow(2)


def f_lin(x):
    return x * 3.0


@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_single_and_tuple(create_graph):
    F, TF = ctorch.autograd.functional, torch.autograd.functional
    x, tx = _pair(3, 2)
    v, tv = _pair(3, 2)
    _close(
        F.vjp(f_single, x, v, create_graph=create_graph),
        TF.vjp(f_single, tx, tv, create_graph=create_graph),
    )
    y, ty = _pair(3, 2)
    v2, tv2 = ctorch.tensor(1.5, dtype=ctorch.float64), torch.tensor(1.5, dtype=torch.float64)
    _close(F.vjp(f_two, (x, y), (v, v2)), TF.vjp(f_two, (tx, ty), (tv, tv2)))
    # v=None for a one-element output
    _close(F.vjp(f_scalar, x), TF.vjp(f_scalar, tx))


def test_vjp_unused_input_and_strict():
    F, TF = ctorch.autograd.functional, torch.autograd.functional
    x, tx = _pair(3)
    y, ty = _pair(3)
    v, tv = _pair(3)
    _close(F.vjp(lambda a, b: a * 2, (x, y), v), TF.vjp(lambda a, b: a * 2, (tx, ty), tv))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        F.vjp(lambda a, b: a * 2, (x, y), v, strict=True)


@pytest.mark.parametrize("create_graph", [False, True])
def test_jvp(create_graph):
    F, TF = ctorch.autograd.functional, torch.autograd.functional
    x, tx = _pair(4)
    v, tv = _pair(4)
    _close(
        F.jvp(f_single, x, v, create_graph=create_graph),
        TF.jvp(f_single, tx, tv, create_graph=create_graph),
    )
    y, ty = _pair(4)
    w, tw = _pair(4)
    _close(F.jvp(f_two, (x, y), (v, w)), TF.jvp(f_two, (tx, ty), (tv, tw)))


@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_nesting(create_graph):
    F, TF = ctorch.autograd.functional, torch.autograd.functional
    x, tx = _pair(3, 2)
    y, ty = _pair(3, 2)
    kw = dict(create_graph=create_graph)
    _close(F.jacobian(f_single, x, **kw), TF.jacobian(f_single, tx, **kw))  # tensor
    _close(F.jacobian(f_two, (x, y), **kw), TF.jacobian(f_two, (tx, ty), **kw))  # tuple of tuples
    _close(
        F.jacobian(lambda a: (a.sin(), a.sum()), x), TF.jacobian(lambda a: (a.sin(), a.sum()), tx)
    )
    _close(
        F.jacobian(lambda a, b: (a * b).sum(1), (x, y)),
        TF.jacobian(lambda a, b: (a * b).sum(1), (tx, ty)),
    )
    # vectorize is accepted; a linear function's jacobian has no graph
    _close(F.jacobian(f_lin, x, vectorize=True), TF.jacobian(f_lin, tx, vectorize=True))
    with pytest.raises(NotImplementedError):
        F.jacobian(f_single, x, vectorize=True, strategy="forward-mode")


def test_jacobian_create_graph_gradient():
    F, TF = ctorch.autograd.functional, torch.autograd.functional
    a = RNG.standard_normal(4)
    x = ctorch.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    F.jacobian(f_single, x, create_graph=True).sum().backward()
    TF.jacobian(f_single, tx, create_graph=True).sum().backward()
    _close(x.grad, tx.grad)
    j = F.jacobian(f_single, x)
    assert not j.requires_grad


@pytest.mark.parametrize("create_graph", [False, True])
def test_hessian(create_graph):
    F, TF = ctorch.autograd.functional, torch.autograd.functional
    x, tx = _pair(3)
    y, ty = _pair(3)
    _close(
        F.hessian(f_scalar, x, create_graph=create_graph),
        TF.hessian(f_scalar, tx, create_graph=create_graph),
    )
    _close(F.hessian(f_scalar2, (x, y)), TF.hessian(f_scalar2, (tx, ty)))
    # a function whose hessian is zero w.r.t. one input
    _close(
        F.hessian(lambda a, b: (a * a).sum() + b.sum(), (x, y)),
        TF.hessian(lambda a, b: (a * a).sum() + b.sum(), (tx, ty)),
    )


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_vhp(name):
    F, TF = ctorch.autograd.functional, torch.autograd.functional
    x, tx = _pair(4)
    v, tv = _pair(4)
    _close(getattr(F, name)(f_scalar, x, v), getattr(TF, name)(f_scalar, tx, tv))
    y, ty = _pair(4)
    w, tw = _pair(4)
    _close(
        getattr(F, name)(f_scalar2, (x, y), (v, w)),
        getattr(TF, name)(f_scalar2, (tx, ty), (tv, tw)),
    )
    # create_graph: gradient through the product
    a = RNG.standard_normal(4)
    xc, txc = ctorch.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    getattr(F, name)(f_scalar, xc, v, create_graph=True)[1].sum().backward()
    getattr(TF, name)(f_scalar, txc, tv, create_graph=True)[1].sum().backward()
    _close(xc.grad, txc.grad)


def test_errors_like_torch():
    F = ctorch.autograd.functional
    x, _ = _pair(3)
    with pytest.raises(RuntimeError, match="single Tensor with a single element"):
        F.vjp(f_single, x)
    with pytest.raises(RuntimeError, match="should contain a single element"):
        F.hessian(f_single, x)
    with pytest.raises(TypeError):
        F.jacobian(f_single, [x])


# ------------------------------------------------------------------ ctorch.func


def test_func_grad_argnums_has_aux():
    fn, tfn = ctorch.func, torch.func
    x, tx = _pair(3)
    y, ty = _pair(3)
    _close(fn.grad(f_scalar)(x), tfn.grad(f_scalar)(tx))
    _close(fn.grad(f_scalar2, argnums=1)(x, y), tfn.grad(f_scalar2, argnums=1)(tx, ty))
    _close(fn.grad(f_scalar2, argnums=(0, 1))(x, y), tfn.grad(f_scalar2, argnums=(0, 1))(tx, ty))

    def with_aux(a, b):
        return (a * b).sum(), {"p": a * 2}

    _close(fn.grad(with_aux, has_aux=True)(x, y), tfn.grad(with_aux, has_aux=True)(tx, ty))
    _close(
        fn.grad_and_value(with_aux, has_aux=True)(x, y),
        tfn.grad_and_value(with_aux, has_aux=True)(tx, ty),
    )
    _close(fn.grad_and_value(f_scalar)(x), tfn.grad_and_value(f_scalar)(tx))
    # a dict argument (pytree) and an unused input (zeros)
    d = {"a": x, "b": y}
    td = {"a": tx, "b": ty}
    _close(fn.grad(lambda p: (p["a"] ** 2).sum())(d), tfn.grad(lambda p: (p["a"] ** 2).sum())(td))
    with pytest.raises(RuntimeError, match="scalar"):
        fn.grad(f_single)(x)


def test_func_nested_grad_and_plain_backward():
    fn, tfn = ctorch.func, torch.func
    x, tx = _pair(3)
    f = lambda a: a.sin().sum()  # noqa: E731
    _close(fn.grad(lambda a: fn.grad(f)(a).sum())(x), tfn.grad(lambda a: tfn.grad(f)(a).sum())(tx))
    # the result of grad is differentiable w.r.t. an input that requires grad
    a = RNG.standard_normal(3)
    xc, txc = ctorch.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    fn.grad(f_scalar)(xc).sum().backward()
    tfn.grad(f_scalar)(txc).sum().backward()
    _close(xc.grad, txc.grad)
    assert not fn.grad(f_scalar)(x).requires_grad


def test_func_vjp():
    fn, tfn = ctorch.func, torch.func
    x, tx = _pair(3)
    y, ty = _pair(3)
    out, f_vjp = fn.vjp(f_two, x, y)
    tout, tf_vjp = tfn.vjp(f_two, tx, ty)
    _close(out, tout)
    v, tv = _pair(3)
    ct = (v, ctorch.tensor(2.0, dtype=ctorch.float64))
    tct = (tv, torch.tensor(2.0, dtype=torch.float64))
    _close(f_vjp(ct), tf_vjp(tct))
    _close(f_vjp(ct), tf_vjp(tct))  # callable twice
    out, f_vjp, aux = fn.vjp(lambda a: (a.sin(), a.cos()), x, has_aux=True)
    tout, tf_vjp, taux = tfn.vjp(lambda a: (a.sin(), a.cos()), tx, has_aux=True)
    _close((out, aux, f_vjp(v)), (tout, taux, tf_vjp(tv)))


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_func_jacobians(name):
    fn, tfn = ctorch.func, torch.func
    x, tx = _pair(3, 2)
    y, ty = _pair(3, 2)
    _close(getattr(fn, name)(f_single)(x), getattr(tfn, name)(f_single)(tx))
    _close(
        getattr(fn, name)(f_two, argnums=(0, 1))(x, y),
        getattr(tfn, name)(f_two, argnums=(0, 1))(tx, ty),
    )
    _close(getattr(fn, name)(f_two, argnums=1)(x, y), getattr(tfn, name)(f_two, argnums=1)(tx, ty))

    def dict_out(p):
        return {"s": p["w"].sum(), "v": p["w"] * p["b"]}

    d, td = {"w": x, "b": y}, {"w": tx, "b": ty}
    _close(getattr(fn, name)(dict_out)(d), getattr(tfn, name)(dict_out)(td))
    _close(
        getattr(fn, name)(lambda a: (a.exp(), a.sum()), has_aux=True)(x),
        getattr(tfn, name)(lambda a: (a.exp(), a.sum()), has_aux=True)(tx),
    )


def test_func_hessian():
    fn, tfn = ctorch.func, torch.func
    x, tx = _pair(4)
    y, ty = _pair(4)
    _close(fn.hessian(f_scalar)(x), tfn.hessian(f_scalar)(tx))
    _close(
        fn.hessian(f_scalar2, argnums=(0, 1))(x, y), tfn.hessian(f_scalar2, argnums=(0, 1))(tx, ty)
    )
    _close(fn.jacrev(fn.jacrev(f_single))(x), tfn.jacrev(tfn.jacrev(f_single))(tx))


def test_vmap_dims_and_nesting():
    fn, tfn = ctorch.func, torch.func
    x, tx = _pair(5, 3)
    y, ty = _pair(3, 5)
    w, tw = _pair(3)
    _close(fn.vmap(ctorch.dot)(x, y.t().contiguous()), tfn.vmap(torch.dot)(tx, ty.t().contiguous()))
    _close(fn.vmap(ctorch.dot, in_dims=(0, 1))(x, y), tfn.vmap(torch.dot, in_dims=(0, 1))(tx, ty))
    _close(
        fn.vmap(lambda a, b: a * b, in_dims=(0, None))(x, w),
        tfn.vmap(lambda a, b: a * b, in_dims=(0, None))(tx, tw),
    )
    _close(
        fn.vmap(lambda a: (a.sum(), a * 2), out_dims=(0, 1))(x),
        tfn.vmap(lambda a: (a.sum(), a * 2), out_dims=(0, 1))(tx),
    )
    _close(fn.vmap(f_single, chunk_size=2)(x), tfn.vmap(f_single, chunk_size=2)(tx))
    _close(
        fn.vmap(lambda d: d["a"] + d["b"])({"a": x, "b": x}),
        tfn.vmap(lambda d: d["a"] + d["b"])({"a": tx, "b": tx}),
    )
    # nested: an outer product table
    _close(
        fn.vmap(fn.vmap(lambda a, b: a * b, in_dims=(None, 0)), in_dims=(0, None))(w, w),
        tfn.vmap(tfn.vmap(lambda a, b: a * b, in_dims=(None, 0)), in_dims=(0, None))(tw, tw),
    )
    _close(
        fn.vmap(lambda a, k: a * k, in_dims=(0, None))(x, 3.0),
        tfn.vmap(lambda a, k: a * k, in_dims=(0, None))(tx, 3.0),
    )
    with pytest.raises(ValueError):
        fn.vmap(ctorch.dot)(x, y)
    with pytest.raises(ValueError):
        fn.vmap(f_single, in_dims=None)(x)


def test_vmap_is_differentiable():
    a = RNG.standard_normal((4, 3))
    x, tx = ctorch.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ctorch.func.vmap(f_single)(x).sum().backward()
    torch.func.vmap(f_single)(tx).sum().backward()
    _close(x.grad, tx.grad)


def _models():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    cm = ctorch.nn.Sequential(
        ctorch.nn.Linear(4, 8), ctorch.nn.Tanh(), ctorch.nn.Linear(8, 3)
    ).double()
    cm.load_state_dict({k: ctorch.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return cm, tm


def test_functional_call_basic_and_restores():
    cm, tm = _models()
    x, tx = _pair(2, 4)
    params = {k: v * 2 for k, v in cm.named_parameters()}
    tparams = {k: v * 2 for k, v in tm.named_parameters()}
    _close(
        ctorch.func.functional_call(cm, params, (x,)),
        torch.func.functional_call(tm, tparams, (tx,)),
    )
    _close(ctorch.func.functional_call(cm, params, x), torch.func.functional_call(tm, tparams, tx))
    # the module is unchanged afterwards
    _close(cm(x), tm(tx))
    assert isinstance(cm[0].weight, ctorch.nn.Parameter)
    # a tuple of dicts, and strict mode
    p0 = {k: v for k, v in params.items() if k.startswith("0.")}
    p2 = {k: v for k, v in params.items() if k.startswith("2.")}
    tp0 = {k: v for k, v in tparams.items() if k.startswith("0.")}
    tp2 = {k: v for k, v in tparams.items() if k.startswith("2.")}
    _close(
        ctorch.func.functional_call(cm, (p0, p2), (x,)),
        torch.func.functional_call(tm, (tp0, tp2), (tx,)),
    )
    with pytest.raises(RuntimeError, match="Missing key"):
        ctorch.func.functional_call(cm, p0, (x,), strict=True)


def test_per_sample_gradients_functional_call_vmap_grad():
    """The torch.func tutorial's per-sample gradients, written as real code writes it."""
    cm, tm = _models()
    a = RNG.standard_normal((6, 4))
    t = RNG.integers(0, 3, 6)

    def run(lib, model):
        from_lib = lib.func
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}

        def compute_loss(params, buffers, sample, target):
            batch = sample.unsqueeze(0)
            targets = target.unsqueeze(0)
            predictions = from_lib.functional_call(model, (params, buffers), (batch,))
            return lib.nn.functional.cross_entropy(predictions, targets)

        ft_compute_grad = from_lib.grad(compute_loss)
        ft_compute_sample_grad = from_lib.vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
        return ft_compute_sample_grad(params, buffers, lib.tensor(a), lib.tensor(t))

    got = run(ctorch, cm)
    want = run(torch, tm)
    _close(got, want)
    # and they average to the batch gradient
    loss = ctorch.nn.functional.cross_entropy(cm(ctorch.tensor(a)), ctorch.tensor(t))
    loss.backward()
    np.testing.assert_allclose(
        got["0.weight"].mean(0).numpy(), cm[0].weight.grad.numpy(), atol=1e-12
    )


def test_run_resolves_torch_func_names():
    import importlib
    import sys

    from ctorch import run

    run.install_aliases()
    try:
        saved = {
            k: sys.modules.pop(k)
            for k in list(sys.modules)
            if k == "torch" or k.startswith("torch.")
        }
        try:
            assert importlib.import_module("torch.func").vmap is ctorch.func.vmap
            assert importlib.import_module("torch.autograd.functional").jacobian is (
                ctorch.autograd.functional.jacobian
            )
        finally:
            for k in [k for k in sys.modules if k == "torch" or k.startswith("torch.")]:
                del sys.modules[k]
            sys.modules.update(saved)
    finally:
        run.uninstall_aliases()


def test_func_jvp():
    fn, tfn = ctorch.func, torch.func
    x, tx = _pair(3, 2)
    y, ty = _pair(3, 2)
    v, tv = _pair(3, 2)
    w, tw = _pair(3, 2)
    _close(fn.jvp(f_single, (x,), (v,)), tfn.jvp(f_single, (tx,), (tv,)))
    _close(fn.jvp(f_two, (x, y), (v, w)), tfn.jvp(f_two, (tx, ty), (tv, tw)))
    _close(
        fn.jvp(lambda a: (a.exp(), a.sum()), (x,), (v,), has_aux=True),
        tfn.jvp(lambda a: (a.exp(), a.sum()), (tx,), (tv,), has_aux=True),
    )
    # a linear function and an output independent of the input
    _close(
        fn.jvp(lambda a: (a * 3.0, y), (x,), (v,)), tfn.jvp(lambda a: (a * 3.0, ty), (tx,), (tv,))
    )
    with pytest.raises(RuntimeError, match="tuple"):
        fn.jvp(f_single, x, (v,))


def test_stack_module_state_ensemble_and_toplevel_vmap():
    torch.manual_seed(1)
    tms = [torch.nn.Linear(3, 2).double() for _ in range(4)]
    cms = [ctorch.nn.Linear(3, 2).double() for _ in range(4)]
    for cm, tm in zip(cms, tms, strict=True):
        cm.load_state_dict(
            {k: ctorch.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()}
        )
    x, tx = _pair(5, 3)

    def run(lib, models, inp):
        params, buffers = lib.func.stack_module_state(models)
        base = models[0]

        def f(p, b, xx):
            return lib.func.functional_call(base, (p, b), (xx,))

        return params, lib.vmap(f, in_dims=(0, 0, None))(params, buffers, inp)

    (cp, cout), (tp, tout) = run(ctorch, cms, x), run(torch, tms, tx)
    _close(cp, tp)
    _close(cout, tout)
    assert cp["weight"].requires_grad and cp["weight"].is_leaf


def test_nn_utils_stateless_functional_call_and_tied_weights():
    cm, tm = _models()
    x, tx = _pair(2, 4)
    p = {"0.weight": cm[0].weight * 0}
    tp = {"0.weight": tm[0].weight * 0}
    _close(
        ctorch.nn.utils.stateless.functional_call(cm, p, (x,)),
        torch.nn.utils.stateless.functional_call(tm, tp, (tx,)),
    )

    # tied weights: replacing one name replaces the other too (tie_weights=True)
    def tied(lib):
        lin = lib.nn.Linear(3, 3, bias=False).double()
        m = lib.nn.Sequential(lin, lib.nn.Tanh(), lin)
        ones = lib.ones(3, 3, dtype=lib.float64)
        inp = lib.ones(1, 3, dtype=lib.float64)
        return lib.func.functional_call(m, {"0.weight": ones}, (inp,))

    _close(tied(ctorch), tied(torch))


def test_linearize_and_replace_batch_norm():
    x, tx = _pair(4)
    v, tv = _pair(4)
    out, fjvp = ctorch.func.linearize(f_single, x)
    tout, tfjvp = torch.func.linearize(f_single, tx)
    _close((out, fjvp(v)), (tout, tfjvp(tv)))

    def bn_model(lib):
        m = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.BatchNorm1d(3)).double()
        lib.func.replace_all_batch_norm_modules_(m)
        return m

    cm, tm = bn_model(ctorch), bn_model(torch)
    assert cm[1].running_mean is None and not cm[1].track_running_stats
    assert tm[1].running_mean is None and not tm[1].track_running_stats
    cm[0].load_state_dict(
        {k: ctorch.tensor(t.detach().numpy()) for k, t in tm[0].state_dict().items()}
    )
    a = RNG.standard_normal((5, 4))
    _close(cm.eval()(ctorch.tensor(a)), tm.eval()(torch.tensor(a)))


def test_vmap_randomness_same_and_different():
    x = ctorch.zeros(4, 3, dtype=ctorch.float64)
    same = ctorch.func.vmap(lambda r: r + ctorch.randn(3, dtype=ctorch.float64), randomness="same")(
        x
    )
    assert all(bool((same[i] == same[0]).all()) for i in range(4))
    diff = ctorch.func.vmap(
        lambda r: r + ctorch.randn(3, dtype=ctorch.float64), randomness="different"
    )(x)
    assert not bool((diff[1] == diff[0]).all())
