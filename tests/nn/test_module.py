"""nn.Module infrastructure: registration, iteration, state_dict, hooks, repr, containers."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
from helpers import HAS_TORCH

import ctorch
from ctorch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(8, 3, bias=False)
        self.scale = nn.Parameter(ctorch.ones(3))
        self.register_buffer("running", ctorch.zeros(3))
        self.register_buffer("tmp", ctorch.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale + self.running


def _torch_net(torch):
    class TNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(4, 8)
            self.act = torch.nn.ReLU()
            self.fc2 = torch.nn.Linear(8, 3, bias=False)
            self.scale = torch.nn.Parameter(torch.ones(3))
            self.register_buffer("running", torch.zeros(3))
            self.register_buffer("tmp", torch.zeros(2), persistent=False)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x))) * self.scale + self.running

    return TNet()


# ------------------------------------------------------------------ Parameter
def test_parameter_basics():
    t = ctorch.randn(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, ctorch.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf
    assert np.shares_memory(p.detach().numpy(), t.numpy())
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    q = pickle.loads(pickle.dumps(p))
    assert isinstance(q, nn.Parameter) and q.requires_grad
    np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())
    d = copy.deepcopy(p)
    assert isinstance(d, nn.Parameter)
    assert not np.shares_memory(d.detach().numpy(), p.detach().numpy())
    assert nn.Parameter().shape == (0,)


def test_parameter_repr_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert repr(nn.Parameter(ctorch.from_numpy(a.copy()))) == repr(
        torch.nn.Parameter(torch.from_numpy(a.copy()))
    )


# ------------------------------------------------------------------ registration
def test_registration_and_iteration():
    m = Net()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert len(list(m.parameters())) == 4
    assert [n for n, _ in m.named_buffers()] == ["running", "tmp"]
    assert [n for n, _ in m.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "act", "fc2"]
    assert [n for n, _ in m.named_parameters(prefix="net", recurse=False)] == ["net.scale"]
    assert m.get_submodule("fc1") is m.fc1
    assert m.get_parameter("fc1.bias") is m.fc1.bias
    assert m.get_buffer("running") is m.running
    with pytest.raises(AttributeError):
        m.get_submodule("nope")
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        _ = m.missing
    # re-assign: a parameter slot accepts None or a Parameter only
    with pytest.raises(TypeError, match="cannot assign"):
        m.scale = ctorch.ones(3)
    m.scale = None
    assert "scale" not in [n for n, _ in m.named_parameters()]
    del m.fc2
    assert "fc2" not in dict(m.named_children())
    assert "running" in dir(m) and "fc1" in dir(m)


def test_shared_parameters_deduplicated():
    a = nn.Linear(3, 3)
    m = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(m.parameters())) == 2
    assert len(list(m.named_parameters(remove_duplicate=False))) == 4
    m2 = nn.Module()
    m2.enc = nn.Linear(3, 4)
    m2.dec = nn.Linear(4, 3)
    m2.dec.weight = nn.Parameter(m2.enc.weight.detach().t().clone())
    assert len(list(m2.parameters())) == 4


def test_register_errors():
    m = nn.Module()
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", None)
    with pytest.raises(TypeError):
        m.register_buffer("x", 3)
    with pytest.raises(TypeError):
        m.register_parameter("w", ctorch.ones(2))
    with pytest.raises(ValueError, match="non-leaf"):
        x = ctorch.ones(2, requires_grad=True)
        m.register_parameter("w", _non_leaf_param(x))
    with pytest.raises(AttributeError, match="before Module.__init__"):

        class Bad(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(ctorch.ones(1))

        Bad()


def _non_leaf_param(x):
    p = nn.Parameter(ctorch.ones(2))
    p.grad_fn = (x * 2).grad_fn
    return p


def test_train_eval_and_user_train_override():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    assert m.training and m[1].training
    m.eval()
    assert not m.training and not m[1].training
    m.train()
    assert m[1].training
    with pytest.raises(ValueError):
        m.train("yes")

    class Agent(nn.Module):  # overrides train() with another signature
        def __init__(self):
            super().__init__()
            self.net = nn.Linear(2, 2)

        def train(self, env, steps):  # noqa: D401
            return env, steps

    a = Agent()
    a.net.eval()  # the library never calls Agent.train internally for children
    outer = nn.Sequential(nn.Linear(2, 2))
    outer.eval()
    assert not outer[0].training
    assert a.train("env", 3) == ("env", 3)


def test_zero_grad_and_requires_grad():
    m = Net()
    m(ctorch.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_apply_to_dtype_keeps_parameter_identity():
    m = Net()
    w = m.fc1.weight
    m(ctorch.randn(2, 4)).sum().backward()
    m.double()
    assert m.fc1.weight is w and w.dtype == ctorch.float64 and w.grad.dtype == ctorch.float64
    assert m.running.dtype == ctorch.float64
    m.to(ctorch.float32)
    assert w.dtype == ctorch.float32
    m.to("cpu")
    m.to(device="cpu", dtype=ctorch.float64)
    assert w.dtype == ctorch.float64
    m.float().cpu()
    with pytest.raises(TypeError, match="floating point"):
        m.to(ctorch.int64)
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Net"]
    assert m.share_memory() is m


# ------------------------------------------------------------------ state dict
def test_state_dict_keys_and_roundtrip():
    m = Net()
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["scale", "running", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert not sd["fc1.weight"].requires_grad
    m2 = Net()
    res = m2.load_state_dict(sd)
    assert repr(res) == "<All keys matched successfully>"
    for k in sd:
        np.testing.assert_array_equal(m2.state_dict()[k].numpy(), sd[k].numpy())
    kv = m.state_dict(keep_vars=True)
    assert kv["fc1.weight"] is m.fc1.weight


def test_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch")
    assert list(Net().state_dict()) == list(_torch_net(torch).state_dict())


def test_load_state_dict_errors():
    m = Net()
    sd = m.state_dict()
    bad = OrderedDict(sd)
    del bad["fc1.bias"]
    bad["extra.weight"] = ctorch.zeros(1)
    bad["fc2.weight"] = ctorch.zeros(2, 2)
    with pytest.raises(RuntimeError) as ei:
        Net().load_state_dict(bad)
    msg = str(ei.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:\n\t")
    assert 'Missing key(s) in state_dict: "fc1.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    assert "size mismatch for fc2.weight: copying a param with shape" in msg
    r = Net().load_state_dict({k: v for k, v in sd.items() if k != "scale"}, strict=False)
    assert r.missing_keys == ["scale"] and r.unexpected_keys == []  # reported, not raised
    r = Net().load_state_dict({**sd, "zzz": ctorch.ones(1)}, strict=False)
    assert r.unexpected_keys == ["zzz"] and r.missing_keys == []
    with pytest.raises(TypeError, match="dict-like"):
        Net().load_state_dict([1, 2])


def test_load_state_dict_error_text_matches_torch():
    torch = pytest.importorskip("torch")
    m, tm = Net(), _torch_net(torch)
    sd, tsd = m.state_dict(), tm.state_dict()
    for d in (sd, tsd):
        del d["fc1.bias"]
    sd["extra.weight"] = ctorch.zeros(1)
    tsd["extra.weight"] = torch.zeros(1)
    sd["fc2.weight"] = ctorch.zeros(2, 2)
    tsd["fc2.weight"] = torch.zeros(2, 2)
    with pytest.raises(RuntimeError) as e1:
        m.load_state_dict(sd)
    with pytest.raises(RuntimeError) as e2:
        tm.load_state_dict(tsd)
    assert str(e1.value).replace("ctorch.Size", "torch.Size").replace("Net", "TNet") == str(
        e2.value
    )


def test_torch_state_dict_into_ctorch_and_back():
    torch = pytest.importorskip("torch")
    tm = _torch_net(torch)
    with torch.no_grad():
        tm.running.add_(0.5)
    m = Net()
    m.load_state_dict(
        {k: ctorch.from_numpy(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    )
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(
        m(ctorch.from_numpy(x)).detach().numpy(),
        tm(torch.from_numpy(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )
    tm2 = _torch_net(torch)
    tm2.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})


def test_extra_state():
    class E(nn.Module):
        def __init__(self):
            super().__init__()
            self.v = 1

        def get_extra_state(self):
            return {"v": self.v}

        def set_extra_state(self, s):
            self.v = s["v"]

    a = E()
    a.v = 7
    b = E()
    b.load_state_dict(a.state_dict())
    assert b.v == 7 and "_extra_state" in a.state_dict()


# ------------------------------------------------------------------ hooks
def test_forward_hooks():
    m = nn.Linear(3, 2)
    calls = []

    def pre(mod, args):
        calls.append("pre")
        return (args[0] * 0,)

    def post(mod, args, out):
        calls.append("post")
        return out + 1

    h1 = m.register_forward_pre_hook(pre)
    h2 = m.register_forward_hook(post)
    y = m(ctorch.randn(4, 3))
    assert calls == ["pre", "post"]
    np.testing.assert_allclose(
        y.detach().numpy(), (m.bias.detach().numpy() + 1)[None].repeat(4, 0), rtol=1e-6
    )
    h1.remove()
    h2.remove()
    calls.clear()
    m(ctorch.randn(1, 3))
    assert calls == []

    def kw_pre(mod, args, kwargs):
        return args, kwargs

    with m.register_forward_pre_hook(kw_pre, with_kwargs=True):
        m(ctorch.randn(1, 3))


def test_full_backward_hook():
    m = nn.Linear(3, 2)
    seen = {}

    def hook(mod, grad_input, grad_output):
        seen["gi"] = grad_input
        seen["go"] = grad_output
        return (grad_input[0] * 2,)

    m.register_full_backward_hook(hook)
    x = ctorch.randn(4, 3, requires_grad=True)
    m(x).sum().backward()
    assert seen["go"][0].shape == (4, 2)
    np.testing.assert_allclose(seen["go"][0].numpy(), np.ones((4, 2)))
    expected = np.ones((4, 2), np.float32) @ m.weight.detach().numpy()
    np.testing.assert_allclose(seen["gi"][0].numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), 2 * expected, rtol=1e-6)
    # no input requires grad: grad_input is (None,)
    seen.clear()
    m2 = nn.Linear(3, 2)
    m2.register_full_backward_hook(lambda mod, gi, go: seen.update(gi=gi, go=go))
    m2(ctorch.randn(2, 3)).sum().backward()
    assert seen["gi"] == (None,) and seen["go"][0].shape == (2, 2)
    # pre-hook can replace grad_output
    m3 = nn.Linear(3, 2)
    m3.register_full_backward_pre_hook(lambda mod, go: (go[0] * 0,))
    x = ctorch.randn(2, 3, requires_grad=True)
    m3(x).sum().backward()
    assert not x.grad.numpy().any()


def test_backward_hook_matches_torch():
    torch = pytest.importorskip("torch")
    lin, tlin = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    lin.load_state_dict(
        {k: ctorch.from_numpy(v.detach().numpy().copy()) for k, v in tlin.state_dict().items()}
    )
    got, exp = [], []
    lin.register_full_backward_hook(lambda m, gi, go: got.append((gi, go)))
    tlin.register_full_backward_hook(lambda m, gi, go: exp.append((gi, go)))
    xa = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    x = ctorch.from_numpy(xa.copy()).requires_grad_()
    tx = torch.from_numpy(xa.copy()).requires_grad_()
    (lin(x) ** 2).sum().backward()
    (tlin(tx) ** 2).sum().backward()
    np.testing.assert_allclose(got[0][0][0].numpy(), exp[0][0][0].numpy(), rtol=1e-5)
    np.testing.assert_allclose(got[0][1][0].numpy(), exp[0][1][0].numpy(), rtol=1e-5)


def test_state_dict_hooks():
    m = nn.Linear(2, 2)
    m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: sd.__setitem__("x", 1))
    assert m.state_dict()["x"] == 1
    called = []
    m.register_load_state_dict_post_hook(lambda mod, inc: called.append(inc))
    sd = nn.Linear(2, 2).state_dict()
    m.load_state_dict(sd)
    assert called


# ------------------------------------------------------------------ repr
def test_repr_layout():
    m = Net()
    assert repr(m) == (
        "Net(\n"
        "  (fc1): Linear(in_features=4, out_features=8, bias=True)\n"
        "  (act): ReLU()\n"
        "  (fc2): Linear(in_features=8, out_features=3, bias=False)\n"
        ")"
    )
    assert repr(nn.Module()) == "Module()"


REPR_CASES = [
    "Sequential(Linear(3, 4), ReLU(inplace=True), Dropout(0.2), Linear(4, 2))",
    "Sequential(OrderedDict([('a', Linear(2, 2)), ('b', Sequential(Tanh(), Sigmoid()))]))",
    "ModuleList([Linear(2, 2), Linear(2, 2), Linear(2, 2), ReLU(), Linear(2, 2)])",
    "ModuleDict({'x': Linear(2, 3), 'y': ReLU()})",
    "ParameterList([nn.Parameter(lib.ones(2, 3)), nn.Parameter(lib.ones(4))])",
    "ParameterDict({'a': nn.Parameter(lib.ones(2)), 'b': nn.Parameter(lib.zeros(3, 1))})",
    "Flatten()",
    "Flatten(0, 1)",
    "Unflatten(1, (2, 5))",
    "Identity()",
    "LeakyReLU(0.2, inplace=True)",
    "ELU(alpha=0.5)",
    "GELU(approximate='tanh')",
    "Softmax(dim=1)",
    "LogSoftmax(dim=-1)",
    "Hardtanh(-2.0, 2.0)",
    "ReLU6()",
    "SiLU()",
    "PReLU(3)",
    "Softplus(beta=2.0)",
    "Mish()",
    "Dropout2d(0.3)",
    "Embedding(10, 3, padding_idx=0)",
    "Embedding(10, 3, max_norm=1.0)",
    "Bilinear(2, 3, 4)",
    "CrossEntropyLoss()",
    "MSELoss(reduction='sum')",
    "LSTM(3, 5, num_layers=2, batch_first=True, dropout=0.1, bidirectional=True)",
    "GRU(3, 5, bias=False)",
    "RNN(3, 5, nonlinearity='relu')",
    "LSTMCell(3, 4)",
    "RNNCell(3, 4, nonlinearity='relu')",
    "GRUCell(3, 4, bias=False)",
    "MultiheadAttention(8, 2)",
    "MultiheadAttention(8, 2, kdim=4, vdim=6)",
]


@pytest.mark.parametrize("expr", REPR_CASES)
def test_repr_matches_torch(expr):
    torch = pytest.importorskip("torch")
    import warnings

    def build(lib, nnmod):
        ns = {name: getattr(nnmod, name) for name in dir(nnmod) if name[0].isupper()}
        ns.update(OrderedDict=OrderedDict, nn=nnmod, lib=lib)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return eval(expr, ns)

    assert repr(build(ctorch, nn)) == repr(build(torch, torch.nn))


# ------------------------------------------------------------------ containers
def test_sequential():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[0], nn.Linear) and isinstance(s[-1], nn.Linear)
    sub = s[:2]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2
    assert s(ctorch.randn(4, 2)).shape == (4, 1)
    s.append(nn.Sigmoid())
    assert len(s) == 4 and isinstance(s[3], nn.Sigmoid)
    s.insert(0, nn.Identity())
    assert isinstance(s[0], nn.Identity) and list(s._modules) == ["0", "1", "2", "3", "4"]
    del s[0]
    assert list(s._modules) == ["0", "1", "2", "3"]
    s[1] = nn.Tanh()
    assert isinstance(s[1], nn.Tanh)
    s.extend([nn.ReLU()])
    assert len(s) == 5
    with pytest.raises(IndexError):
        s[10]
    od = nn.Sequential(OrderedDict([("conv", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert od.conv is od[0] and list(od.state_dict()) == ["conv.weight", "conv.bias"]
    # the classic "drop the head" idiom
    head_less = nn.Sequential(*list(s.children())[:-1])
    assert len(head_less) == 4
    assert len(s + nn.Sequential(nn.ReLU())) == 6
    assert [type(m).__name__ for m in s][:2] == ["Linear", "Tanh"]


def test_module_list_dict():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    ml.insert(1, nn.Sigmoid())
    assert isinstance(ml[1], nn.Sigmoid) and len(ml) == 6
    assert isinstance(ml[1:3], nn.ModuleList)
    del ml[1]
    assert list(ml._modules) == [str(i) for i in range(5)]
    with pytest.raises(TypeError):
        ml.extend(3)
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    md["c"] = nn.Tanh()
    assert list(md.keys()) == ["a", "b", "c"] and "a" in md and len(md) == 3
    assert md.pop("b").__class__ is nn.ReLU
    md.update([("d", nn.Identity())])
    assert list(md) == ["a", "c", "d"]


def test_parameter_list_dict():
    pl = nn.ParameterList([nn.Parameter(ctorch.ones(2)), ctorch.zeros(3)])
    assert isinstance(pl[1], nn.Parameter) and len(pl) == 2
    pl.append(ctorch.ones(1))
    assert len(list(pl.parameters())) == 3
    pd = nn.ParameterDict({"w": ctorch.ones(2)})
    pd["b"] = nn.Parameter(ctorch.zeros(1))
    assert list(pd.keys()) == ["w", "b"] and isinstance(pd["w"], nn.Parameter)
    assert [n for n, _ in pd.named_parameters()] == ["w", "b"]
    m = nn.Module()
    m.pl = pl
    assert list(m.state_dict()) == ["pl.0", "pl.1", "pl.2"]


def test_whole_module_pickle_and_deepcopy():
    m = Net()
    m2 = pickle.loads(pickle.dumps(m))
    assert type(m2.fc1).__module__ == "ctorch.nn.modules.linear"
    x = ctorch.randn(3, 4)
    np.testing.assert_allclose(m(x).detach().numpy(), m2(x).detach().numpy())
    m3 = copy.deepcopy(m)
    assert m3.fc1.weight is not m.fc1.weight
    assert isinstance(m3.fc1.weight, nn.Parameter)
    np.testing.assert_allclose(m(x).detach().numpy(), m3(x).detach().numpy())


def test_class_paths_mirror_torch():
    assert nn.Linear.__module__ == "ctorch.nn.modules.linear"
    assert nn.LSTM.__module__ == "ctorch.nn.modules.rnn"
    assert nn.Sequential.__module__ == "ctorch.nn.modules.container"
    assert nn.ReLU.__module__ == "ctorch.nn.modules.activation"
    assert nn.CrossEntropyLoss.__module__ == "ctorch.nn.modules.loss"
    assert nn.Module.__module__ == "ctorch.nn.modules.module"


def test_missing_forward_and_subclassing_linear():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)

    class MyLinear(nn.Linear):
        def __init__(self, i, o, bias=True, device=None, dtype=None):
            super().__init__(i, o, bias, device, dtype)

    ml = MyLinear(3, 2, dtype=ctorch.float64)
    assert ml.weight.dtype == ctorch.float64
    assert ml(ctorch.randn(1, 3, dtype=ctorch.float64)).shape == (1, 2)


def test_data_parallel_passthrough():
    inner = nn.Linear(3, 2)
    dp = nn.DataParallel(inner)
    assert dp.module is inner
    x = ctorch.randn(4, 3)
    np.testing.assert_array_equal(dp(x).detach().numpy(), inner(x).detach().numpy())
    assert list(dp.state_dict()) == ["module.weight", "module.bias"]
    import ctorch.distributed as dist

    if not dist.is_initialized():  # DDP needs a process group (tests/distributed covers it)
        with pytest.raises(RuntimeError, match="init_process_group"):
            nn.parallel.DistributedDataParallel(inner)


def test_training_step_changes_loss():
    ctorch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    x = ctorch.randn(32, 4)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    lossf = nn.CrossEntropyLoss()
    first = None
    for _ in range(30):
        m.zero_grad()
        loss = lossf(m(x), y)
        loss.backward()
        with ctorch.no_grad():
            for p in m.parameters():
                p -= 0.5 * p.grad
        first = first if first is not None else loss.item()
    assert loss.item() < first * 0.5


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_module_methods_exist_like_torch():
    import torch

    missing = [
        n for n in dir(torch.nn.Module) if not n.startswith("_") and not hasattr(nn.Module, n)
    ]
    assert set(missing) <= {
        "T_destination",
        "ipu",
        "xpu",
        "mtia",
        "set_submodule",
        "register_module",
        "to_empty",
        "get_extra_state",
        "set_extra_state",
        "call_super_init",
        "dump_patches",
        "compile",
    }, missing
