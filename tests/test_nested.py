"""ctorch.nested against torch.nested: construction, shapes and their errors, jagged
accessors, ops, and gradients reaching the components."""

import re

import numpy as np
import pytest

import ctorch
import ctorch.nested  # noqa: F401  (attaches the nested ops)
import ctorch.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

rng = np.random.default_rng(0)
SHAPES = [(2, 4), (3, 4), (1, 4)]


def arrays(shapes=SHAPES, dtype=np.float64):
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def pair(arrs, layout="strided", requires_grad=False):
    c = ctorch.nested.nested_tensor(
        [ctorch.from_numpy(a.copy()) for a in arrs],
        layout=getattr(ctorch, layout),
        requires_grad=requires_grad,
    )
    t = torch.nested.nested_tensor(
        [torch.from_numpy(a.copy()) for a in arrs],
        layout=getattr(torch, layout),
        requires_grad=requires_grad,
    )
    return c, t


def same(c, t, tol=1e-10):
    """Equal values (components of nested results, or dense)."""
    if getattr(t, "is_nested", False):
        assert c.is_nested
        cs, ts = c.unbind(), t.unbind()
        assert len(cs) == len(ts)
        for x, y in zip(cs, ts, strict=True):
            assert tuple(x.shape) == tuple(y.shape)
            np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), rtol=tol, atol=tol)
    else:
        assert not getattr(c, "is_nested", False)
        assert tuple(c.shape) == tuple(t.shape)
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def _nj(s: str) -> str:
    """Ragged sizes are numbered per process (j1, j2...): compare them as "j"."""
    return re.sub(r"\bj\d+\b", "j", s)


def shape_str(x) -> list:
    return [_nj(str(s)) for s in x.shape]


def raises_like(fc, ft):
    """Both raise the same exception type with the same message."""
    with pytest.raises(Exception) as et:
        ft()
    with pytest.raises(type(et.value)) as ec:
        fc()
    assert _nj(str(ec.value).split("\n")[0]) == _nj(str(et.value).split("\n")[0])


def per_comp(t, fn):
    """torch's strided nested tensors lack many kernels: the reference per component."""
    return torch.nested.nested_tensor([fn(x) for x in t.unbind()])


LAYOUTS = ["strided", "jagged"]


# ---------------------------------------------------------------- construction and shapes
@pytest.mark.parametrize("layout", LAYOUTS)
def test_construct_unbind_padded(layout):
    arrs = arrays()
    c, t = pair(arrs, layout)
    assert c.is_nested and t.is_nested and not ctorch.ones(1).is_nested
    assert isinstance(c, ctorch.Tensor)
    assert c.layout is getattr(ctorch, layout)
    assert c.dim() == t.dim() == 3
    assert c.numel() == t.numel()
    assert c.dtype == ctorch.float64
    same(c, t)
    for i in range(3):
        same(c[i], t[i])
    for pad in (0.0, -1.5):
        same(ctorch.nested.to_padded_tensor(c, pad), torch.nested.to_padded_tensor(t, pad))
    same(
        ctorch.nested.to_padded_tensor(c, 2.0, output_size=(3, 5, 6)),
        torch.nested.to_padded_tensor(t, 2.0, output_size=(3, 5, 6)),
    )
    if layout == "strided":
        raises_like(
            lambda: ctorch.nested.to_padded_tensor(c, 0.0, output_size=(3, 2, 4)),
            lambda: torch.nested.to_padded_tensor(t, 0.0, output_size=(3, 2, 4)),
        )
    else:  # jagged: output_size sets the ragged dim only, and cuts longer components
        same(
            ctorch.nested.to_padded_tensor(c, 0.0, output_size=(3, 2, 4)),
            torch.nested.to_padded_tensor(t, 0.0, output_size=(3, 2, 4)),
        )
    raises_like(lambda: c.unbind(1), lambda: t.unbind(1)) if layout == "jagged" else None


def test_strided_sizes_and_errors():
    c, t = pair(arrays())
    assert c.size(0) == t.size(0) == 3
    assert c.size(2) == t.size(2) == 4
    assert c.size(-1) == t.size(-1)
    for f in (lambda x: x.size(1), lambda x: x.shape, lambda x: x.size(), lambda x: len(x)):
        raises_like(lambda f=f: f(c), lambda f=f: f(t))
    raises_like(lambda: c.size(3), lambda: t.size(3))
    # two irregular dims
    arrs = arrays([(2, 3), (3, 4)])
    c2, t2 = pair(arrs)
    raises_like(lambda: c2.size(2), lambda: t2.size(2))
    # components of different dims
    raises_like(
        lambda: ctorch.nested.nested_tensor([ctorch.ones(2, 3), ctorch.ones(2)]),
        lambda: torch.nested.nested_tensor([torch.ones(2, 3), torch.ones(2)]),
    )
    # jagged needs a single ragged dim
    raises_like(
        lambda: ctorch.nested.nested_tensor(
            [ctorch.ones(2, 3), ctorch.ones(3, 4)], layout=ctorch.jagged
        ),
        lambda: torch.nested.nested_tensor(
            [torch.ones(2, 3), torch.ones(3, 4)], layout=torch.jagged
        ),
    )


def test_jagged_shape_values_offsets():
    c, t = pair(arrays(), "jagged")
    assert str(list(c.shape)[0]) == "3" and c.shape[2] == 4
    j = c.shape[1]
    assert repr(j).startswith("j") and j == c.size(1) and j != 3
    with pytest.raises(TypeError):
        int(j)
    assert c.size(-1) == t.size(-1) == 4
    same(c.values(), t.values())
    assert c.offsets().tolist() == t.offsets().tolist() == [0, 2, 5, 6]
    assert c.lengths() is None and t.lengths() is None
    assert (c + 1).shape[1] == j  # ops keep the ragged size
    other = ctorch.nested.nested_tensor([ctorch.ones(2, 4)] * 3, layout=ctorch.jagged)
    assert other.shape[1] != j
    raises_like(lambda: c.size(3), lambda: t.size(3))


def test_nested_tensor_from_lists_and_dtypes():
    c = ctorch.nested.nested_tensor([[1, 2], [3]])
    t = torch.nested.nested_tensor([[1, 2], [3]])
    assert c.dtype == ctorch.int64 and t.dtype == torch.int64
    same(c, t)
    c = ctorch.nested.nested_tensor([ctorch.ones(2, 3)], dtype=ctorch.float64)
    assert c.dtype == ctorch.float64
    # a copy: writes to the source do not reach it
    src = ctorch.zeros(2)
    nt = ctorch.nested.nested_tensor([src])
    src.add_(1)
    assert nt.unbind()[0].tolist() == [0.0, 0.0]


def test_as_nested_tensor():
    arrs = arrays()
    for layout in LAYOUTS:
        c = ctorch.nested.as_nested_tensor(
            [ctorch.from_numpy(a) for a in arrs], layout=getattr(ctorch, layout)
        )
        t = torch.nested.as_nested_tensor(
            [torch.from_numpy(a) for a in arrs], layout=getattr(torch, layout)
        )
        same(c, t)
    x = rng.standard_normal((2, 3, 4))
    c = ctorch.nested.as_nested_tensor(ctorch.from_numpy(x), layout=ctorch.jagged)
    t = torch.nested.as_nested_tensor(torch.from_numpy(x), layout=torch.jagged)
    same(c, t)
    assert c.offsets().tolist() == t.offsets().tolist()


def test_nested_tensor_from_jagged():
    v = rng.standard_normal((5, 2))
    cv, tv = ctorch.from_numpy(v), torch.from_numpy(v)
    c = ctorch.nested.nested_tensor_from_jagged(cv, ctorch.tensor([0, 2, 5]))
    t = torch.nested.nested_tensor_from_jagged(tv, torch.tensor([0, 2, 5]))
    same(c, t)
    assert c.values() is cv or c.values()._a is cv._a  # a view of the given values
    c = ctorch.nested.nested_tensor_from_jagged(cv, lengths=ctorch.tensor([2, 3]))
    t = torch.nested.nested_tensor_from_jagged(tv, lengths=torch.tensor([2, 3]))
    same(c, t)
    c = ctorch.nested.nested_tensor_from_jagged(
        cv, ctorch.tensor([0, 2, 5]), lengths=ctorch.tensor([1, 2])
    )
    t = torch.nested.nested_tensor_from_jagged(
        tv, torch.tensor([0, 2, 5]), lengths=torch.tensor([1, 2])
    )
    same(c, t)
    w = rng.standard_normal((2, 5))
    c = ctorch.nested.nested_tensor_from_jagged(
        ctorch.from_numpy(w), ctorch.tensor([0, 2, 5]), jagged_dim=2
    )
    t = torch.nested.nested_tensor_from_jagged(
        torch.from_numpy(w), torch.tensor([0, 2, 5]), jagged_dim=2
    )
    same(c, t)
    assert c.shape[:2] == (2, 2)
    same(c.values(), t.values())


def test_narrow():
    x = np.arange(20.0).reshape(4, 5)
    cs, ts = ctorch.tensor([0, 1, 2, 0]), torch.tensor([0, 1, 2, 0])
    cl, tl = ctorch.tensor([2, 3, 1, 4]), torch.tensor([2, 3, 1, 4])
    c = ctorch.nested.narrow(ctorch.from_numpy(x), 1, cs, cl, layout=ctorch.jagged)
    t = torch.nested.narrow(torch.from_numpy(x), 1, ts, tl, layout=torch.jagged)
    same(c, t)
    assert c.offsets().tolist() == t.offsets().tolist()
    assert c.lengths().tolist() == t.lengths().tolist()
    assert not c.is_contiguous() and not t.is_contiguous()
    # torch 2.13 cannot pad a jagged tensor with holes; numpy is the reference
    ref = np.zeros((4, 4))
    for i, (s0, n) in enumerate(zip([0, 1, 2, 0], [2, 3, 1, 4], strict=True)):
        ref[i, :n] = x[i, s0 : s0 + n]
    np.testing.assert_array_equal(ctorch.nested.to_padded_tensor(c, 0.0).numpy(), ref)
    same(c * 2, t * 2)
    c = ctorch.nested.narrow(ctorch.from_numpy(x), 1, 1, 2, layout=ctorch.jagged)
    t = torch.nested.narrow(torch.from_numpy(x), 1, 1, 2, layout=torch.jagged)
    same(c, t)
    assert c.offsets().tolist() == t.offsets().tolist()
    c = ctorch.nested.narrow(ctorch.from_numpy(x), 0, 1, 2)
    t = torch.nested.narrow(torch.from_numpy(x), 0, 1, 2)
    same(c, t)
    raises_like(
        lambda: ctorch.nested.narrow(ctorch.from_numpy(x), 1, 1, 2),
        lambda: torch.nested.narrow(torch.from_numpy(x), 1, 1, 2),
    )


# ---------------------------------------------------------------- ops
UNARY = ["abs", "neg", "exp", "sin", "tanh", "sigmoid", "relu"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", UNARY)
def test_unary(layout, name):
    c, t = pair(arrays(), layout)
    if layout == "jagged" or name in ("abs", "neg", "relu", "tanh"):
        ref = getattr(t, name)()
    else:
        ref = per_comp(t, lambda x: getattr(x, name)())
    same(getattr(c, name)(), ref)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_functional_activations(layout):
    c, t = pair(arrays(), layout)
    same(F.relu(c), TF.relu(t))
    same(F.gelu(c), TF.gelu(t))
    same(F.silu(c), TF.silu(t) if layout == "jagged" else per_comp(t, TF.silu))
    same(F.dropout(c, 0.5, training=False), TF.dropout(t, 0.5, training=False))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_binary_nested_and_scalar(layout):
    c, t = pair(arrays(), layout)
    c2 = c * 0.5 + 1
    t2 = t * 0.5 + 1
    same(c2, t2)
    same(c + c2, t + t2)
    same(c - c2, t - t2)
    same(c * c2, t * t2)
    same(c / c2, t / t2)
    if layout == "jagged":
        same(2.0 - c, 2.0 - t)
        same(3.0 / c2, 3.0 / t2)
    else:
        same(2.0 - c, per_comp(t, lambda x: 2.0 - x))
        same(3.0 / c2, per_comp(t2, lambda x: 3.0 / x))
    same(c.add(c2, alpha=2), t.add(t2, alpha=2))
    same(c + ctorch.tensor(2.0, dtype=ctorch.float64), t + torch.tensor(2.0, dtype=torch.float64))
    same(c**2, t**2 if layout == "jagged" else per_comp(t, lambda x: x**2))


def test_binary_errors():
    c, t = pair(arrays())
    raises_like(lambda: c + ctorch.ones(4), lambda: t + torch.ones(4))
    cs, ts = pair(arrays([(2, 4), (3, 4)]))
    raises_like(lambda: c + cs, lambda: t + ts)
    cj, tj = pair(arrays(), "jagged")
    cj2, tj2 = pair(arrays(), "jagged")
    raises_like(lambda: cj + cj2, lambda: tj + tj2)  # different ragged sizes j
    raises_like(
        lambda: cj + ctorch.ones(3, 4, dtype=ctorch.float64),
        lambda: tj + torch.ones(3, 4, dtype=torch.float64),
    )


def test_jagged_dense_broadcast():
    c, t = pair(arrays(), "jagged")
    d = rng.standard_normal(4)
    same(c + ctorch.from_numpy(d), t + torch.from_numpy(d))
    b = rng.standard_normal((3, 1, 4))
    same(c * ctorch.from_numpy(b), t * torch.from_numpy(b))
    same(c - ctorch.from_numpy(b[:1]), t - torch.from_numpy(b[:1]))


def test_reductions():
    c, t = pair(arrays(), "jagged")
    same(c.sum(-1), t.sum(-1))
    same(c.sum(dim=2, keepdim=True), t.sum(dim=2, keepdim=True))
    same(c.mean(-1), t.mean(-1))
    same(c.sum(1), t.sum(1))  # over the ragged dim: dense
    same(c.mean(1), t.mean(1))
    same(c.sum(), t.sum())
    same(c.mean(), t.mean())
    raises_like(lambda: c.sum(0), lambda: t.sum(0))
    raises_like(lambda: c.mean(0), lambda: t.mean(0))
    raises_like(lambda: c.sum((1, 2)), lambda: t.sum((1, 2)))
    q, tq = c.unflatten(-1, [2, 2]), t.unflatten(-1, [2, 2])
    same(q.sum(-1), tq.sum(-1))
    same(q.transpose(1, 2).sum(-1), tq.transpose(1, 2).sum(-1))
    cs, ts = pair(arrays())
    same(cs.sum(-1, keepdim=True), ts.sum(-1, keepdim=True))
    raises_like(lambda: cs.sum(-1), lambda: ts.sum(-1))
    raises_like(lambda: cs.sum(1, keepdim=True), lambda: ts.sum(1, keepdim=True))
    with pytest.raises(NotImplementedError, match="mean"):
        cs.mean(-1)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_softmax(layout):
    c, t = pair(arrays(), layout)
    for d in (-1, 1, 2):
        same(c.softmax(d), t.softmax(d))
        same(F.softmax(c, d), TF.softmax(t, d))
    if layout == "jagged":
        same(F.log_softmax(c, -1), TF.log_softmax(t, -1))
    else:
        same(F.log_softmax(c, -1), per_comp(t, lambda x: TF.log_softmax(x, -1)))
    raises_like(lambda: c.softmax(0), lambda: t.softmax(0))


def test_transpose():
    c, t = pair(arrays(), "strided")
    same(c.transpose(1, 2), t.transpose(1, 2))
    raises_like(lambda: c.transpose(0, 1), lambda: t.transpose(0, 1))
    arrs = arrays([(2, 6), (3, 6)])
    c, t = pair(arrs, "jagged")
    q, tq = c.unflatten(-1, [2, 3]), t.unflatten(-1, [2, 3])
    for a, b in ((1, 2), (2, 3), (1, 3), (-1, -2)):
        r, tr = q.transpose(a, b), tq.transpose(a, b)
        assert shape_str(r) == shape_str(tr)
        same(r, tr)
        same(r.values(), tr.values())
        same(r.transpose(a, b), tq)
    raises_like(lambda: q.transpose(0, 1), lambda: tq.transpose(0, 1))
    assert not q.transpose(1, 2).is_contiguous()
    qc = q.transpose(1, 2).contiguous()
    assert qc.is_contiguous() and tq.transpose(1, 2).contiguous().is_contiguous()
    same(qc, tq.transpose(1, 2).contiguous())
    same(qc.values(), tq.transpose(1, 2).contiguous().values())
    same(q.flatten(-2), tq.flatten(-2))


def test_matmul_bmm_linear():
    c, t = pair(arrays())
    w = rng.standard_normal((5, 4))
    bias = rng.standard_normal(5)
    same(ctorch.matmul(c, c.transpose(1, 2)), torch.matmul(t, t.transpose(1, 2)))
    same(ctorch.bmm(c, c.transpose(1, 2)), torch.bmm(t, t.transpose(1, 2)))
    same(c @ c.transpose(1, 2), t @ t.transpose(1, 2))
    d3 = rng.standard_normal((3, 4, 2))
    same(ctorch.bmm(c, ctorch.from_numpy(d3)), torch.bmm(t, torch.from_numpy(d3)))
    raises_like(lambda: ctorch.bmm(c, c), lambda: torch.bmm(t, t))
    raises_like(
        lambda: ctorch.matmul(c, ctorch.ones(4, 2, dtype=ctorch.float64)),
        lambda: torch.matmul(t, torch.ones(4, 2, dtype=torch.float64)),
    )
    same(
        F.linear(c, ctorch.from_numpy(w), ctorch.from_numpy(bias)),
        TF.linear(t, torch.from_numpy(w), torch.from_numpy(bias)),
    )
    cj, tj = pair(arrays(), "jagged")
    same(cj @ ctorch.from_numpy(w.T), tj @ torch.from_numpy(w.T))
    same(ctorch.matmul(cj, ctorch.from_numpy(w.T)), torch.matmul(tj, torch.from_numpy(w.T)))
    same(F.linear(cj, ctorch.from_numpy(w)), TF.linear(tj, torch.from_numpy(w)))
    raises_like(
        lambda: ctorch.matmul(cj, ctorch.ones(4, dtype=ctorch.float64)),
        lambda: torch.matmul(tj, torch.ones(4, dtype=torch.float64)),
    )
    lin = ctorch.nn.Linear(4, 3).double()
    tlin = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        tlin.weight.copy_(torch.from_numpy(lin.weight.detach().numpy()))
        tlin.bias.copy_(torch.from_numpy(lin.bias.detach().numpy()))
    same(lin(cj), tlin(tj))


def _sdpa_inputs(lib, arrs, wq, H):
    nt = lib.nested.nested_tensor([lib.from_numpy(a) for a in arrs], layout=lib.jagged)
    proj = lib.nn.functional.linear(nt, lib.from_numpy(wq))
    return proj.unflatten(-1, [H, -1 if lib is torch else wq.shape[0] // H]).transpose(1, 2)


def test_sdpa_jagged_pattern():
    """torch's documented pattern: (B, *, E) -> linear -> unflatten(-1, [H, D]) ->
    transpose(1, 2) -> scaled_dot_product_attention -> transpose(1, 2).flatten(-2)."""
    arrs = arrays([(3, 8), (5, 8), (2, 8)])
    wq = rng.standard_normal((8, 8)) * 0.3
    H = 2
    q = _sdpa_inputs(ctorch, arrs, wq, H)
    tq = _sdpa_inputs(torch, arrs, wq, H)
    o = F.scaled_dot_product_attention(q, q, q)
    to = TF.scaled_dot_product_attention(tq, tq, tq)
    assert shape_str(o) == shape_str(to)
    same(o, to, tol=1e-9)
    same(o.transpose(1, 2).flatten(-2), to.transpose(1, 2).flatten(-2), tol=1e-9)
    # torch has no nested backend for is_causal
    with pytest.raises(RuntimeError) as et:
        TF.scaled_dot_product_attention(tq, tq, tq, is_causal=True)
    with pytest.raises(RuntimeError) as ec:
        F.scaled_dot_product_attention(q, q, q, is_causal=True)
    assert str(ec.value).startswith(str(et.value))
    # the (B, *, H, D) layout (ragged dim 1) is refused with the pattern named
    with pytest.raises(RuntimeError, match="transpose"):
        F.scaled_dot_product_attention(q.transpose(1, 2), q.transpose(1, 2), q.transpose(1, 2))


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("layout", LAYOUTS)
def test_grad_leaf_through_padded(layout):
    c, t = pair(arrays(), layout, requires_grad=True)
    assert c.requires_grad and t.requires_grad and c.is_leaf and t.is_leaf
    wp = rng.standard_normal((3, 3, 4))
    (ctorch.nested.to_padded_tensor(c * c, 0.0) * ctorch.from_numpy(wp)).sum().backward()
    (torch.nested.to_padded_tensor(t * t, 0.0) * torch.from_numpy(wp)).sum().backward()
    assert c.grad.is_nested
    same(c.grad, t.grad)


def test_grad_as_nested_to_inputs():
    arrs = arrays()
    cs = [ctorch.from_numpy(a.copy()).requires_grad_() for a in arrs]
    ts = [torch.from_numpy(a.copy()).requires_grad_() for a in arrs]
    w = rng.standard_normal((3, 4))
    for layout in LAYOUTS:
        c = ctorch.nested.as_nested_tensor(cs, layout=getattr(ctorch, layout))
        t = torch.nested.as_nested_tensor(ts, layout=getattr(torch, layout))
        yc = F.linear(c, ctorch.from_numpy(w)).softmax(-1)
        yt = TF.linear(t, torch.from_numpy(w)).softmax(-1)
        ctorch.nested.to_padded_tensor(yc, 0.0).pow(2).sum().backward()
        torch.nested.to_padded_tensor(yt, 0.0).pow(2).sum().backward()
        for a, b in zip(cs, ts, strict=True):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
            a.grad = None
            b.grad = None


def test_grad_sum_regular_dim():
    """Backward through a jagged sum over a regular dim (torch 2.13 has no kernel for this
    backward: checked against the same sums on the components)."""
    arrs = arrays()
    c, _ = pair(arrs, "jagged", requires_grad=True)
    ctorch.nested.to_padded_tensor(c.sum(-1), 0.0).pow(2).sum().backward()
    ref = [2 * a.sum(-1, keepdims=True) * np.ones_like(a) for a in arrs]
    for g, r in zip(c.grad.unbind(), ref, strict=True):
        np.testing.assert_allclose(g.numpy(), r, rtol=1e-12)


def test_grad_sdpa_and_linear():
    arrs = arrays([(3, 8), (5, 8)])
    wq = rng.standard_normal((8, 8)) * 0.3
    wc, wt = (
        ctorch.from_numpy(wq.copy()).requires_grad_(),
        torch.from_numpy(wq.copy()).requires_grad_(),
    )
    res = []
    for lib, w in ((ctorch, wc), (torch, wt)):
        nt = lib.nested.nested_tensor([lib.from_numpy(a) for a in arrs], layout=lib.jagged)
        q = lib.nn.functional.linear(nt, w).unflatten(-1, [2, 4]).transpose(1, 2)
        o = lib.nn.functional.scaled_dot_product_attention(q, q, q)
        o = o.transpose(1, 2).flatten(-2)
        lib.nested.to_padded_tensor(o, 0.0).pow(2).sum().backward()
        res.append(w.grad.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-9, atol=1e-12)


def test_gradcheck_to_padded():
    arrs = arrays([(2, 3), (1, 3)])
    cs = [ctorch.from_numpy(a.copy()).requires_grad_() for a in arrs]

    def f(a, b):
        nt = ctorch.nested.as_nested_tensor([a, b], layout=ctorch.jagged)
        return ctorch.nested.to_padded_tensor((nt * nt).softmax(-1), 0.5)

    assert ctorch.autograd.gradcheck(f, tuple(cs))


# ---------------------------------------------------------------- unsupported ops
def test_unsupported_ops_name_the_op():
    c, _ = pair(arrays())
    for f, op in (
        (lambda: c.cumsum(1), "cumsum"),
        (lambda: ctorch.cumsum(c, 1), "cumsum"),
        (lambda: c.view(-1), "view"),
        (lambda: ctorch.cat([c, c]), "cat"),
        (lambda: c.numpy(), "numpy"),
        (lambda: c.add_(1), "add_"),
        (lambda: c[0:1], "index"),
    ):
        with pytest.raises(NotImplementedError, match=op):
            f()


def test_functionals_keep_identity():
    """Nested dispatch adds no wrappers: functions pickle by name (a module holding
    ``F.relu`` as its activation still pickles) and stay the objects ops import."""
    import pickle

    for f in (F.relu, F.gelu, F.silu, F.linear, F.softmax, F.log_softmax, F.dropout):
        assert pickle.loads(pickle.dumps(f)) is f
    layer = ctorch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    assert pickle.loads(pickle.dumps(layer)).activation is F.relu
