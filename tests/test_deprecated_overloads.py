"""torch's deprecated scalar-first overloads (``torch.add(x, 2, y)``, ``p.add_(-lr, g)``,
``addcmul_(value, t1, t2)``, ``addmm(beta, M, alpha, m1, m2)``, ...): same results and the same
warning as torch 2.13 (text, category, the user's line, once per process)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ctorch
from ctorch import _deprecated_overloads as D


def _env(lib):
    t = lib
    f64 = t.float64
    env = dict(
        torch=t,
        x=t.ones(2, 3, dtype=f64),
        y=t.arange(6.0, dtype=f64).reshape(2, 3),
        t1=t.full((2, 3), 2.0, dtype=f64),
        t2=t.full((2, 3), 3.0, dtype=f64),
        M=t.ones(2, 2, dtype=f64),
        a=t.arange(6.0, dtype=f64).reshape(2, 3),
        b=t.arange(6.0, dtype=f64).reshape(3, 2) - 2,
        v=t.ones(2, dtype=f64),
        vv=t.arange(3.0, dtype=f64),
        A=t.ones(2, 3, dtype=f64),
        u=t.arange(2.0, dtype=f64),
        w=t.arange(3.0, dtype=f64) + 1,
        B1=t.arange(12.0, dtype=f64).reshape(2, 2, 3),
        B2=t.arange(12.0, dtype=f64).reshape(2, 3, 2) / 7,
        Mb=t.ones(2, 2, 2, dtype=f64),
    )
    return env


CASES = [
    "torch.add(x, 2, y)",
    "x.add(2, y)",
    "x.clone().add_(-0.1, y)",
    "x.sub(2, y)",
    "x.clone().sub_(0.5, y)",
    "torch.sub(x, 2, y)",
    "torch.addcmul(x, 0.5, t1, t2)",
    "x.addcmul(0.5, t1, t2)",
    "x.clone().addcmul_(0.5, t1, t2)",
    "torch.addcdiv(x, 0.5, t1, t2)",
    "x.addcdiv(0.5, t1, t2)",
    "x.clone().addcdiv_(-0.5, t1, t2)",
    "x.clone().add_(2, other=y)",
    "x.add(2, other=y)",
    "torch.add(x, 2, other=y)",
    "x.add(torch.tensor(2.0), y)",
    "torch.add(x, 2, y, out=torch.empty(2, 3, dtype=torch.float64))",
]
for _op, (_s, _m1, _m2) in {
    "addmm": ("M", "a", "b"),
    "addmv": ("v", "a", "vv"),
    "addr": ("A", "u", "w"),
    "baddbmm": ("Mb", "B1", "B2"),
    "addbmm": ("M", "B1", "B2"),
}.items():
    CASES += [
        f"torch.{_op}(0.5, {_s}, 2, {_m1}, {_m2})",
        f"torch.{_op}(0.5, {_s}, {_m1}, {_m2})",
        f"{_s}.{_op}(0.5, 2, {_m1}, {_m2})",
        f"{_s}.{_op}(0.5, {_m1}, {_m2})",
        f"{_s}.clone().{_op}_(0.25, 3, {_m1}, {_m2})",
        f"{_s}.clone().{_op}_(0.5, {_m1}, {_m2})",
    ]


@pytest.fixture(autouse=True)
def _fresh_once_flag():
    D._warned = False
    yield
    D._warned = False


def _run(env, expr):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = eval(expr, env)
    return r, [(w.category, str(w.message), w.filename, w.lineno) for w in caught]


@pytest.mark.parametrize("expr", CASES)
def test_same_result_and_warning_as_torch(expr):
    torch = pytest.importorskip("torch")
    ours, ours_w = _run(_env(ctorch), expr)
    always = torch._C._get_warnAlways()
    torch._C._set_warnAlways(True)  # torch warns once per process: see every one here
    try:
        theirs, theirs_w = _run(_env(torch), expr)
    finally:
        torch._C._set_warnAlways(always)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-14)  # GEMM order
    assert len(ours_w) == len(theirs_w) == 1
    (cat, msg, _, _), (tcat, tmsg, _, _) = ours_w[0], theirs_w[0]
    assert cat is tcat is UserWarning
    assert msg == tmsg.split(" (Triggered internally at ")[0]
    assert ours_w[0][2:] == theirs_w[0][2:] == ("<string>", 1)  # the caller's frame


def test_warning_points_at_the_calling_line():
    x = ctorch.ones(3)
    with pytest.warns(UserWarning, match=r"^This overload of add_ is deprecated:\n") as rec:
        line = test_warning_points_at_the_calling_line.__code__.co_firstlineno + 4
        x.add_(-0.5, x)
    assert rec[0].filename == __file__ and rec[0].lineno == line


@pytest.mark.filterwarnings("ignore:This overload")
def test_values_without_torch():
    env = _env(ctorch)
    x, y, t1, t2 = env["x"], env["y"], env["t1"], env["t2"]
    assert x.clone().add_(-0.5, y).tolist() == (x - 0.5 * y).tolist()
    assert ctorch.addcdiv(x, 3, t1, t2).tolist() == (x + 3 * t1 / t2).tolist()
    M, a, b = env["M"], env["a"], env["b"]
    assert M.addmm(0.5, 2, a, b).tolist() == (0.5 * M + 2 * (a @ b)).tolist()


def test_warns_once_per_process_for_all_overloads():
    env = _env(ctorch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for expr in ("x.add(2, y)", "x.clone().addcmul_(0.5, t1, t2)", "torch.add(x, 2, y)"):
            eval(expr, env)
        eval("torch.addmm(0.5, M, a, b)", env)
    assert len(caught) == 1 and "This overload of add is deprecated" in str(caught[0].message)


def test_ordinary_calls_unchanged_and_silent():
    env = _env(ctorch)
    x, y = env["x"], env["y"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ctorch.add(input=x, other=y).tolist() == (x + y).tolist()
        assert x.add(other=y, alpha=2).tolist() == (x + 2 * y).tolist()
        assert x.clone().add_(y, alpha=-1).tolist() == (x - y).tolist()
        assert ctorch.sub(x, y, alpha=3).tolist() == (x - 3 * y).tolist()
        assert (
            ctorch.addmm(env["M"], env["a"], env["b"], beta=0, alpha=2).tolist()
            == (2 * (env["a"] @ env["b"])).tolist()
        )
    assert not D._warned


@pytest.mark.parametrize(
    "expr",
    ["x.add(y, 2)", "torch.addcmul(x, t1, t2, 0.5)", "x.add(2, y, alpha=3)", "x.add(y, y, y)"],
)
def test_bad_combinations_raise_type_error(expr):
    with pytest.raises(TypeError):
        eval(expr, _env(ctorch))
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):
        eval(expr, _env(torch))


def test_gradients_through_deprecated_overloads():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (ctorch, torch):
        p = lib.arange(6.0, dtype=lib.float64).reshape(2, 3).requires_grad_()
        q = lib.ones(2, 3, dtype=lib.float64).requires_grad_()
        m = lib.arange(6.0, dtype=lib.float64).reshape(3, 2).requires_grad_()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = lib.addmm(0.5, lib.add(p, -3, q) @ m, 2, p, m).pow(2).sum()
            r = r + lib.addcmul(q, 0.25, p, p).sum()
        r.backward()
        grads.append([t.grad.numpy() for t in (p, q, m)])
    for g, tg in zip(*grads, strict=True):
        np.testing.assert_allclose(g, tg, rtol=1e-12)


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_value_first_form_with_keyword_tensors(name) -> None:
    """``torch.addcmul(x, value, t1, tensor2=t2)`` / ``(x, value, tensor1=t1, tensor2=t2)``:
    the deprecated overload with its tensors by keyword, as torch's argument parser takes it."""
    torch = pytest.importorskip("torch")
    for kw in ({"tensor2": 1}, {"tensor1": 0, "tensor2": 1}):
        outs = []
        for lib in (ctorch, torch):
            x = lib.arange(1.0, 4.0)
            ts = (x * 2, x + 1)
            pos = [ts[j] for j in range(2) if j not in kw.values()]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outs.append(getattr(lib, name)(x, 0.5, *pos, **{k: ts[j] for k, j in kw.items()}))
                outs.append(getattr(x, name)(0.5, *pos, **{k: ts[j] for k, j in kw.items()}))
        assert [o.tolist() for o in outs[:2]] == [o.tolist() for o in outs[2:]]
