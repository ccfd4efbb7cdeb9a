"""Fused optimizer kernels (ctorch._core.optim) against NumPy references of torch's formulas
and against torch.optim (single-tensor path) over several steps; 1 vs 2 threads bitwise;
ValueError on bad lengths."""

import numpy as np
import pytest
from helpers import threads

from ctorch._core import optim

DTYPES = [np.float32, np.float64]
SIZES = [1, 37, 100003]  # 100003 is above the threading threshold
STEPS = 5
TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


def lerp(a, b, w):
    return a + w * (b - a) if abs(w) < 0.5 else b + (w - 1) * (b - a)


# NumPy references in float64, following torch/optim/<name>.py single-tensor code.


def sgd_ref(
    p,
    g,
    st,
    step,
    lr,
    momentum=0.0,
    dampening=0.0,
    weight_decay=0.0,
    nesterov=False,
    maximize=False,
):
    d = -g if maximize else g
    if weight_decay:
        d = d + weight_decay * p
    if momentum:
        st["buf"] = d.copy() if step == 1 else st["buf"] * momentum + (1 - dampening) * d
        d = d + momentum * st["buf"] if nesterov else st["buf"]
    return p - lr * d


def adam_ref(
    p,
    g,
    st,
    step,
    lr,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    decoupled=False,
):
    b1, b2 = betas
    d = -g if maximize else g
    if weight_decay:
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            d = d + weight_decay * p
    st["m"] = lerp(st["m"], d, 1 - b1)
    st["v"] = st["v"] * b2 + (1 - b2) * d * d
    v = st["v"]
    if amsgrad:
        st["vmax"] = np.maximum(st["vmax"], v)
        v = st["vmax"]
    den = np.sqrt(v) / np.sqrt(1 - b2**step) + eps
    return p - lr / (1 - b1**step) * st["m"] / den


def rmsprop_ref(
    p,
    g,
    st,
    step,
    lr,
    alpha=0.99,
    eps=1e-8,
    weight_decay=0.0,
    momentum=0.0,
    centered=False,
    maximize=False,
):
    d = -g if maximize else g
    if weight_decay:
        d = d + weight_decay * p
    st["sq"] = st["sq"] * alpha + (1 - alpha) * d * d
    if centered:
        st["ga"] = lerp(st["ga"], d, 1 - alpha)
        avg = np.sqrt(st["sq"] - st["ga"] ** 2) + eps
    else:
        avg = np.sqrt(st["sq"]) + eps
    if momentum > 0:
        st["buf"] = st["buf"] * momentum + d / avg
        return p - lr * st["buf"]
    return p - lr * d / avg


def adagrad_ref(
    p,
    g,
    st,
    step,
    lr,
    lr_decay=0.0,
    weight_decay=0.0,
    eps=1e-10,
    initial_accumulator_value=0.0,
    maximize=False,
):
    d = -g if maximize else g
    if weight_decay:
        d = d + weight_decay * p
    clr = lr / (1 + (step - 1) * lr_decay)
    st["sum"] = st["sum"] + d * d
    return p - clr * d / (np.sqrt(st["sum"]) + eps)


def adadelta_ref(p, g, st, step, lr, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    d = -g if maximize else g
    if weight_decay:
        d = d + weight_decay * p
    st["sq"] = st["sq"] * rho + (1 - rho) * d * d
    delta = np.sqrt(st["acc"] + eps) / np.sqrt(st["sq"] + eps) * d
    st["acc"] = st["acc"] * rho + (1 - rho) * delta * delta
    return p - lr * delta


# ctorch kernels driven like an optimizer class would drive them.


def make_state(name, n, dtype, kw):
    z = lambda: np.zeros(n, dtype)
    if name == "sgd":
        return {"buf": z()}
    if name == "adam":
        return {"m": z(), "v": z(), "vmax": z()}
    if name == "rmsprop":
        return {"sq": z(), "ga": z(), "buf": z()}
    if name == "adagrad":
        return {"sum": np.full(n, kw.get("initial_accumulator_value", 0.0), dtype)}
    if name == "adadelta":
        return {"sq": z(), "acc": z()}
    raise AssertionError(name)


def ct_step(name, p, g, st, step, lr, kw):
    if name == "sgd":
        mom = kw.get("momentum", 0.0)
        optim.sgd_step(
            p,
            g,
            st["buf"] if mom else None,
            lr,
            mom,
            kw.get("dampening", 0.0),
            kw.get("weight_decay", 0.0),
            kw.get("nesterov", False),
            kw.get("maximize", False),
            step == 1,
        )
    elif name == "adam":
        b1, b2 = kw.get("betas", (0.9, 0.999))
        ams = kw.get("amsgrad", False)
        optim.adam_step(
            p,
            g,
            st["m"],
            st["v"],
            st["vmax"] if ams else None,
            lr,
            b1,
            b2,
            kw.get("eps", 1e-8),
            kw.get("weight_decay", 0.0),
            step,
            ams,
            kw.get("maximize", False),
            kw.get("decoupled", False),
        )
    elif name == "rmsprop":
        c = kw.get("centered", False)
        mom = kw.get("momentum", 0.0)
        optim.rmsprop_step(
            p,
            g,
            st["sq"],
            st["ga"] if c else None,
            st["buf"] if mom > 0 else None,
            lr,
            kw.get("alpha", 0.99),
            kw.get("eps", 1e-8),
            kw.get("weight_decay", 0.0),
            mom,
            c,
            kw.get("maximize", False),
        )
    elif name == "adagrad":
        optim.adagrad_step(
            p,
            g,
            st["sum"],
            lr,
            kw.get("lr_decay", 0.0),
            kw.get("weight_decay", 0.0),
            kw.get("eps", 1e-10),
            step,
            kw.get("maximize", False),
        )
    elif name == "adadelta":
        optim.adadelta_step(
            p,
            g,
            st["sq"],
            st["acc"],
            lr,
            kw.get("rho", 0.9),
            kw.get("eps", 1e-6),
            kw.get("weight_decay", 0.0),
            kw.get("maximize", False),
        )


REFS = {
    "sgd": sgd_ref,
    "adam": adam_ref,
    "rmsprop": rmsprop_ref,
    "adagrad": adagrad_ref,
    "adadelta": adadelta_ref,
}

CONFIGS = [
    ("sgd", 0.1, {}),
    ("sgd", 0.05, {"momentum": 0.9}),
    ("sgd", 0.05, {"momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("sgd", 0.05, {"momentum": 0.8, "nesterov": True, "weight_decay": 0.1, "maximize": True}),
    ("adam", 1e-3, {}),
    ("adam", 1e-2, {"weight_decay": 0.1, "amsgrad": True}),
    ("adam", 1e-2, {"weight_decay": 0.1, "decoupled": True}),
    (
        "adam",
        1e-2,
        {
            "betas": (0.3, 0.9),
            "eps": 1e-6,
            "maximize": True,
            "amsgrad": True,
            "decoupled": True,
            "weight_decay": 0.05,
        },
    ),
    ("rmsprop", 1e-2, {}),
    ("rmsprop", 1e-2, {"centered": True, "weight_decay": 0.1}),
    ("rmsprop", 1e-2, {"momentum": 0.9}),
    ("rmsprop", 1e-3, {"momentum": 0.5, "centered": True, "alpha": 0.3, "maximize": True}),
    ("adagrad", 0.1, {}),
    ("adagrad", 0.1, {"lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("adagrad", 0.05, {"eps": 1e-6, "maximize": True}),
    ("adadelta", 1.0, {}),
    ("adadelta", 0.5, {"rho": 0.3, "weight_decay": 0.1, "eps": 1e-4, "maximize": True}),
]


def cfg_id(c):
    return c[0] + "-" + "-".join(f"{k}={v}" for k, v in c[2].items())


def run_ct(name, lr, kw, p0, grads, dtype):
    p = p0.astype(dtype)
    st = make_state(name, p.size, dtype, kw)
    out = []
    for k, g in enumerate(grads, start=1):
        ct_step(name, p, g.astype(dtype), st, k, lr, kw)
        out.append(p.copy())
    return out, st


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(n)
    grads = [rng.standard_normal(n) for _ in range(STEPS)]
    return p0, grads


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("cfg", CONFIGS, ids=cfg_id)
def test_optimizer_vs_numpy_reference(cfg, n, dtype):
    name, lr, kw = cfg
    p0, grads = data(n)
    with threads(1):
        ours1, _ = run_ct(name, lr, kw, p0, grads, dtype)
    with threads(2):
        ours2, _ = run_ct(name, lr, kw, p0, grads, dtype)
    for a, b in zip(ours1, ours2, strict=True):
        np.testing.assert_array_equal(a, b)
    # reference in float64 from the same (dtype-rounded) inputs
    p = p0.astype(dtype).astype(np.float64)
    st = {k: v.astype(np.float64) for k, v in make_state(name, n, dtype, kw).items()}
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    for k, g in enumerate(grads, start=1):
        p = REFS[name](p, g.astype(dtype).astype(np.float64), st, k, lr, **kw)
        np.testing.assert_allclose(ours1[k - 1], p, **tol)


def torch_optimizer(torch, name, params, lr, kw):
    kw = dict(kw)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, foreach=False, **kw)
    if name == "adam":
        dec = kw.pop("decoupled", False)
        cls = torch.optim.AdamW if dec else torch.optim.Adam
        if dec:
            kw.setdefault("weight_decay", 0.0)
        return cls(params, lr=lr, foreach=False, **kw)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, foreach=False, **kw)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, foreach=False, **kw)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, foreach=False, **kw)
    raise AssertionError(name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [37, 100003])
@pytest.mark.parametrize("cfg", CONFIGS, ids=cfg_id)
def test_optimizer_vs_torch(cfg, n, dtype):
    torch = pytest.importorskip("torch")
    name, lr, kw = cfg
    p0, grads = data(n, seed=1)
    ours, _ = run_ct(name, lr, kw, p0, grads, dtype)
    tdt = torch.float32 if dtype == np.float32 else torch.float64
    pt = torch.tensor(p0, dtype=tdt, requires_grad=True)
    opt = torch_optimizer(torch, name, [pt], lr, kw)
    for k, g in enumerate(grads):
        pt.grad = torch.tensor(g, dtype=tdt)
        opt.step()
        np.testing.assert_allclose(ours[k], pt.detach().numpy(), **TOL[dtype])


def test_adam_decoupled_zero_weight_decay_is_adam():
    p0, grads = data(101, seed=3)
    a, _ = run_ct("adam", 1e-3, {"decoupled": True}, p0, grads, np.float64)
    b, _ = run_ct("adam", 1e-3, {}, p0, grads, np.float64)
    np.testing.assert_array_equal(a[-1], b[-1])


def test_optimizer_length_checks():
    p = np.zeros(10, np.float32)
    g = np.zeros(10, np.float32)
    short = np.zeros(9, np.float32)
    z = lambda: np.zeros(10, np.float32)
    with pytest.raises(ValueError, match="sgd_step: g"):
        optim.sgd_step(p, short, None, 0.1, 0.0, 0.0, 0.0, False, False, True)
    with pytest.raises(ValueError, match="sgd_step: buf"):
        optim.sgd_step(p, g, short, 0.1, 0.9, 0.0, 0.0, False, False, True)
    with pytest.raises(ValueError, match="sgd_step: momentum"):
        optim.sgd_step(p, g, None, 0.1, 0.9, 0.0, 0.0, False, False, True)
    with pytest.raises(ValueError, match="adam_step: exp_avg_sq"):
        optim.adam_step(p, g, z(), short, None, 1e-3, 0.9, 0.999, 1e-8, 0.0, 1, False, False, False)
    with pytest.raises(ValueError, match="adam_step: amsgrad"):
        optim.adam_step(p, g, z(), z(), None, 1e-3, 0.9, 0.999, 1e-8, 0.0, 1, True, False, False)
    with pytest.raises(ValueError, match="adam_step: max_exp_avg_sq"):
        optim.adam_step(p, g, z(), z(), short, 1e-3, 0.9, 0.999, 1e-8, 0.0, 1, True, False, False)
    with pytest.raises(ValueError, match="adam_step: step"):
        optim.adam_step(p, g, z(), z(), None, 1e-3, 0.9, 0.999, 1e-8, 0.0, 0, False, False, False)
    with pytest.raises(ValueError, match="rmsprop_step: grad_avg"):
        optim.rmsprop_step(p, g, z(), short, None, 1e-2, 0.99, 1e-8, 0.0, 0.0, True, False)
    with pytest.raises(ValueError, match="rmsprop_step: momentum_buffer"):
        optim.rmsprop_step(p, g, z(), None, short, 1e-2, 0.99, 1e-8, 0.0, 0.9, False, False)
    with pytest.raises(ValueError, match="rmsprop_step: centered"):
        optim.rmsprop_step(p, g, z(), None, None, 1e-2, 0.99, 1e-8, 0.0, 0.0, True, False)
    with pytest.raises(ValueError, match="adagrad_step: state_sum"):
        optim.adagrad_step(p, g, short, 0.1, 0.0, 0.0, 1e-10, 1, False)
    with pytest.raises(ValueError, match="adadelta_step: acc_delta"):
        optim.adadelta_step(p, g, z(), short, 1.0, 0.9, 1e-6, 0.0, False)
    with pytest.raises(ValueError, match="adadelta_step: g"):
        optim.adadelta_step(p, short, z(), z(), 1.0, 0.9, 1e-6, 0.0, False)


def test_empty_params_are_fine():
    e = np.zeros(0, np.float64)
    optim.sgd_step(e, e, None, 0.1, 0.0, 0.0, 0.0, False, False, True)
    optim.adam_step(e, e, e, e, None, 1e-3, 0.9, 0.999, 1e-8, 0.0, 1, False, False, False)
    optim.rmsprop_step(e, e, e, None, None, 1e-2, 0.99, 1e-8, 0.0, 0.0, False, False)
    optim.adagrad_step(e, e, e, 0.1, 0.0, 0.0, 1e-10, 1, False)
    optim.adadelta_step(e, e, e, e, 1.0, 0.9, 1e-6, 0.0, False)
