"""Shape ops (views share memory; view errors when impossible), indexing, linalg, einsum."""

import numpy as np
import pytest
from helpers import check_op

import ctorch

SHAPE_OPS = [
    lambda T, x: x.reshape(6, 4),
    lambda T, x: x.reshape(-1),
    lambda T, x: x.view(2, -1),
    lambda T, x: x.view(4, 3, 2),
    lambda T, x: T.reshape(x, (3, 8)),
    lambda T, x: x.transpose(0, 2),
    lambda T, x: x.permute(2, 0, 1),
    lambda T, x: x.mT,
    lambda T, x: x[0].t(),
    lambda T, x: x[0].T,
    lambda T, x: x.transpose(0, 1).contiguous(),
    lambda T, x: x.unsqueeze(0),
    lambda T, x: x.unsqueeze(-1),
    lambda T, x: x[:, :1].squeeze(),
    lambda T, x: x[:, :1].squeeze(1),
    lambda T, x: x.unsqueeze(1).squeeze(1),
    lambda T, x: x.flatten(),
    lambda T, x: T.flatten(x, 1),
    lambda T, x: x.flatten(0, 1),
    lambda T, x: x.unflatten(2, (2, 2)),
    lambda T, x: x[:, :1].expand(2, 3, 4),
    lambda T, x: x[:1].expand_as(x),
    lambda T, x: x.expand(3, -1, -1, -1),
    lambda T, x: x.repeat(2, 1, 3),
    lambda T, x: x.repeat(2, 1, 1, 1),
    lambda T, x: T.cat([x, x * 2], 1),
    lambda T, x: T.cat((x, x), dim=-1),
    lambda T, x: T.stack([x, x + 1]),
    lambda T, x: T.stack([x, x], dim=2),
    lambda T, x: x.split(2, dim=2),
    lambda T, x: x.split([1, 2], dim=1),
    lambda T, x: x.chunk(2, 2),
    lambda T, x: x.chunk(3, 1),
    lambda T, x: x.unbind(1),
    lambda T, x: T.unbind(x),
    lambda T, x: x.flip(0),
    lambda T, x: x.flip(0, 2),
    lambda T, x: x.roll(1, 2),
    lambda T, x: x.roll((1, -1), (0, 2)),
    lambda T, x: x.roll(3),
    lambda T, x: x.narrow(2, 1, 2),
    lambda T, x: T.narrow(x, 0, 1, 1),
    lambda T, x: x[0].tril(),
    lambda T, x: x[0].triu(1),
    lambda T, x: T.tril(x, -1),
    lambda T, x: x.view_as(x.reshape(4, 6)),
    lambda T, x: x.movedim(0, -1),
    lambda T, x: x.select(1, 2),
    lambda T, x: T.squeeze(x[:1]),
    lambda T, x: x.swapaxes(0, 1),
]


@pytest.mark.parametrize("i", range(len(SHAPE_OPS)))
def test_shape_ops(i):
    check_op(SHAPE_OPS[i], [(2, 3, 4)])


def test_view_shares_memory_and_version():
    x = ctorch.zeros(2, 3)
    v = x.view(3, 2)
    v[0, 0] = 5
    assert x[0, 0].item() == 5
    assert x._version == v._version
    t = x.t()
    t[2, 1] = 7
    assert x[1, 2].item() == 7
    for view in [
        x.reshape(6),
        x[0],
        x[:, 1],
        x.unsqueeze(0),
        x.transpose(0, 1),
        x.flatten(),
        x.expand(4, 2, 3),
        x.narrow(1, 0, 2),
        x.squeeze(),
        x.permute(1, 0),
        x.unflatten(1, (3, 1)),
        x.select(0, 1),
        x.detach(),
        x.T,
        x.split(1)[0],
        x.unbind(0)[1],
        x.chunk(3, 1)[2],
        x.view_as(x),
    ]:
        assert np.shares_memory(view.numpy(), x.numpy())


def test_view_impossible_raises():
    x = ctorch.zeros(2, 3).t()
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.view(6)
    r = x.reshape(6)  # reshape copies instead
    assert r.shape == (6,)
    with pytest.raises(RuntimeError, match=r"shape '\[4, 2\]' is invalid for input of size 6"):
        ctorch.zeros(6).view(4, 2)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        ctorch.zeros(6).view(-1, -1)


def test_contiguous_returns_self_when_contiguous():
    x = ctorch.zeros(2, 3)
    assert x.contiguous() is x
    y = x.t().contiguous()
    assert y.is_contiguous() and not np.shares_memory(y.numpy(), x.numpy())


def test_shape_errors():
    with pytest.raises(RuntimeError, match=r"cat.*\[2, 3\].*\[2, 4\]|Sizes of tensors"):
        ctorch.cat([ctorch.zeros(2, 3), ctorch.zeros(2, 4)])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        ctorch.stack([ctorch.zeros(2), ctorch.zeros(3)])
    with pytest.raises(RuntimeError, match="expand"):
        ctorch.zeros(2, 3).expand(4, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ctorch.zeros(2, 3).transpose(0, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ctorch.zeros(2, 3).unsqueeze(3)


def test_size_object():
    s = ctorch.zeros(2, 3, 4).size()
    assert isinstance(s, tuple) and isinstance(s, ctorch.Size)
    assert s == (2, 3, 4) and len(s) == 3 and s[1] == 3 and list(s) == [2, 3, 4]
    assert isinstance(s[1:], ctorch.Size) and s[1:] == (3, 4)
    assert repr(s) == "ctorch.Size([2, 3, 4])" and str(s) == "ctorch.Size([2, 3, 4])"
    assert s.numel() == 24
    assert ctorch.zeros(2, 3).size(1) == 3 and ctorch.zeros(2, 3).size(-1) == 3
    assert ctorch.Size([2, 3]) + (4,) == (2, 3, 4)
    assert isinstance(ctorch.Size([2, 3]) + (4,), ctorch.Size)
    a, b = ctorch.zeros(5, 6).shape
    assert (a, b) == (5, 6)
    assert ctorch.zeros(s).shape == s


# ------------------------------------------------------------------ indexing
GETITEM = [
    lambda T, x: x[1],
    lambda T, x: x[-1],
    lambda T, x: x[:, 2],
    lambda T, x: x[..., -1],
    lambda T, x: x[1:3],
    lambda T, x: x[::2],
    lambda T, x: x[:, 1:4:2],
    lambda T, x: x[None],
    lambda T, x: x[:, None, 1],
    lambda T, x: x[..., None],
    lambda T, x: x[1, 2, 3],
    lambda T, x: x[T.tensor([0, 2, 2])],
    lambda T, x: x[:, T.tensor([3, 0])],
    lambda T, x: x[T.tensor([0, 1]), T.tensor([2, 3])],
    lambda T, x: x[T.tensor([[0, 1], [2, 0]])],
    lambda T, x: x[x > 0],
    lambda T, x: x[x[:, 0, 0] > 0],
    lambda T, x: x[[0, 2]],
    lambda T, x: x[1, [0, 2]],
    lambda T, x: x[T.tensor([True, False, True])],
    lambda T, x: x[..., T.tensor([1, 1])],
    lambda T, x: x[T.tensor(1)],
    lambda T, x: x[np.int64(2)],
    lambda T, x: x[range(2), T.tensor([1, 2])],
    lambda T, x: x[:, :, -2:],
    lambda T, x: x[0, ..., 1:],
    lambda T, x: x[-3:-1, ::-1][:, 1:] if T is not np else None,
]


@pytest.mark.parametrize("i", range(len(GETITEM)))
def test_getitem(i):
    if i == len(GETITEM) - 1:
        # negative slice steps are a NumPy-only feature (torch raises): ctorch follows torch
        with pytest.raises(ValueError, match="step must be greater than zero"):
            ctorch.zeros(3, 4)[::-1]
        return
    check_op(GETITEM[i], [(3, 4, 5)])


def test_basic_getitem_is_view():
    x = ctorch.arange(12.0).reshape(3, 4)
    v = x[1:, ::2]
    assert np.shares_memory(v.numpy(), x.numpy())
    v.zero_()
    assert x.sum().item() == 66 - (4 + 6 + 8 + 10)
    c = x[ctorch.tensor([0, 1])]  # advanced indexing copies
    assert not np.shares_memory(c.numpy(), x.numpy())


SETITEM = [
    (lambda t, v: t.__setitem__(1, 0.0), None),
    (lambda t, v: t.__setitem__((slice(None), 1), v[0, 0, :]), (3,)),
    (lambda t, v: t.__setitem__((Ellipsis, slice(0, None, 2)), v), (3, 4, 3)),
    (lambda t, v: t.__setitem__(t > 0.5, 0.0), None),
    (lambda t, v: t.__setitem__(t > 0.5, v.reshape(-1)[: int((t > 0.5).sum())]), (60,)),
    (lambda t, v: t.__setitem__(([0, 2], [1, 3]), v[0, 0, :]), (5,)),
    (lambda t, v: t.__setitem__((ctorch_or_torch(t).tensor([0, 2]),), v[0]), (4, 5)),
    (lambda t, v: t.__setitem__((range(3), [0, 1, 2]), 2.5), None),
    (lambda t, v: t.__setitem__((1, 2, 3), 9.0), None),
]


def ctorch_or_torch(t):
    import sys

    return ctorch if isinstance(t, ctorch.Tensor) else sys.modules["torch"]


@pytest.mark.parametrize("i", range(len(SETITEM)))
def test_setitem_differentiable(i):
    fn, vshape = SETITEM[i]

    def f(T, x, *v):
        y = x * 1.0
        fn(y, v[0] if v else None)
        return y

    if vshape is None:
        check_op(f, [(3, 4, 5)], low=0, high=1)
    else:
        vs = (3, 4, 5) if len(vshape) == 1 and vshape != (60,) else vshape
        if vshape == (60,):
            vs = (60,)
        check_op(
            f, [(3, 4, 5), vs if vshape in ((60,), (3, 4, 3), (4, 5)) else (3, 4, 5)], low=0, high=1
        )


def test_setitem_on_leaf_and_views():
    x = ctorch.zeros(3, 4)
    x[1] = 5
    x[:, 0] = ctorch.tensor([1.0, 2.0, 3.0])
    x[x == 5] = -1
    assert x.tolist() == [[1, 0, 0, 0], [2, -1, -1, -1], [3, 0, 0, 0]]
    a = np.zeros((3, 4), np.float32)
    t = ctorch.from_numpy(a)
    t[0, 0] = 3
    assert a[0, 0] == 3
    w = ctorch.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w[0] = 2
    with ctorch.no_grad():
        w[0] = 2
    assert w.sum().item() == 6


def test_index_out_of_range():
    x = ctorch.zeros(3, 4)
    with pytest.raises(IndexError):
        x[3]
    with pytest.raises(IndexError):
        x[0, -5]
    with pytest.raises(IndexError):
        x[ctorch.tensor([0, 3])]
    with pytest.raises(IndexError):
        x[1, 2, 3]
    with pytest.raises(IndexError):
        x[5] = 1.0
    with pytest.raises(IndexError):
        x.index_select(0, ctorch.tensor([7]))
    with pytest.raises((IndexError, RuntimeError)):
        x.gather(1, ctorch.tensor([[4]]))
    with pytest.raises(IndexError, match="mask"):
        x[ctorch.tensor([True, False])]


INDEX_OPS = [
    lambda T, x: x.masked_fill(x > 0, 0.5),
    lambda T, x: T.masked_fill(x, x < 0, -1.0),
    lambda T, x: x.gather(1, T.tensor([[0, 0], [1, 0], [3, 2]])),
    lambda T, x: T.gather(x, 0, T.tensor([[0, 1, 2, 0]])),
    lambda T, x: x.scatter(1, T.tensor([[0], [1], [2]]), x[:, :1] * 2),
    lambda T, x: x.scatter(0, T.tensor([[0, 1, 2, 0]]), 1.5),
    lambda T, x: x.scatter_add(1, T.tensor([[0, 0], [1, 1], [3, 3]]), x[:, :2]),
    lambda T, x: x.index_select(1, T.tensor([3, 0, 0])),
    lambda T, x: T.index_select(x, 0, T.tensor([2])),
    lambda T, x: x.sort(1),
    lambda T, x: x.sort(0, descending=True),
    lambda T, x: x.argsort(1),
    lambda T, x: T.argsort(x, dim=0, descending=True),
    lambda T, x: x.topk(2),
    lambda T, x: x.topk(2, dim=0, largest=False),
    lambda T, x: T.topk(x, 3, 1, True, True),
    lambda T, x: x.masked_select(x > 0),
    lambda T, x: x.index_add(0, T.tensor([0, 0]), x[:2]),
    lambda T, x: x.take(T.tensor([0, 5])),
    lambda T, x: x.cumsum(0).diagonal(),
    lambda T, x: x.nonzero(),
    lambda T, x: T.where(x > 0)[1],
]


@pytest.mark.parametrize("i", range(len(INDEX_OPS)))
def test_index_ops(i):
    check_op(INDEX_OPS[i], [(3, 4)])


def test_scatter_add_duplicates_and_sort_stability():
    check_op(
        lambda T, x: T.zeros(3, dtype=x.dtype).scatter_add(0, T.tensor([0, 0, 2, 0]), x), [(4,)]
    )
    x = np.array([3.0, 1.0, 3.0, 1.0, 2.0], np.float32)
    check_op(lambda T, t: t.sort(stable=True), [x])


# ------------------------------------------------------------------ linalg / einsum
MATMUL = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((3,), (2, 3, 4)),
]


@pytest.mark.parametrize("sa,sb", MATMUL)
def test_matmul_broadcasting(sa, sb):
    check_op(lambda T, a, b: T.matmul(a, b), [sa, sb], ref=np.matmul)
    check_op(lambda T, a, b: a @ b, [sa, sb], gradcheck=False)


def test_matmul_keywords_and_friends():
    check_op(lambda T, a, b: T.matmul(input=a, other=b), [(2, 3), (3, 4)])
    check_op(lambda T, a, b: T.mm(a, b), [(2, 3), (3, 4)], ref=np.matmul)
    check_op(lambda T, a, b: a.mm(b), [(2, 3), (3, 4)])
    check_op(lambda T, a, b: T.bmm(a, b), [(2, 2, 3), (2, 3, 4)], ref=np.matmul)
    check_op(lambda T, a, b: T.dot(a, b), [(5,), (5,)], ref=np.dot)
    check_op(lambda T, a, b: T.outer(a, b), [(3,), (4,)], ref=np.outer)
    check_op(lambda T, a, b: T.mv(a, b), [(3, 4), (4,)])
    check_op(lambda T, a, b, c: T.addmm(c, a, b), [(2, 3), (3, 4), (4,)])
    check_op(lambda T, a, b: a.to(b.dtype) @ b, [np.arange(6).reshape(2, 3), (3, 2)])
    check_op(lambda T, a, b: a @ b, [np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2)])


def test_matmul_errors():
    with pytest.raises(RuntimeError, match=r"\(2x3 and 4x5\)|2x3.*4x5"):
        ctorch.mm(ctorch.zeros(2, 3), ctorch.zeros(4, 5))
    with pytest.raises(RuntimeError, match="2x3.*4x5"):
        ctorch.zeros(2, 3) @ ctorch.zeros(4, 5)
    with pytest.raises(RuntimeError, match="batch1 must be a 3D tensor|3D"):
        ctorch.bmm(ctorch.zeros(2, 3), ctorch.zeros(3, 2))
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        ctorch.dot(ctorch.zeros(3), ctorch.zeros(4))
    with pytest.raises(RuntimeError, match="expected.*same dtype|dtype"):
        ctorch.mm(ctorch.zeros(2, 3), ctorch.zeros(3, 2, dtype=ctorch.float64))


@pytest.mark.parametrize(
    "eq,shapes",
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
        ("ii->i", [(3, 3)]),
        ("ij->ji", [(2, 3)]),
        ("i,i->", [(3,), (3,)]),
        ("i,j->ij", [(2,), (3,)]),
        ("...ij,...jk", [(2, 2, 3), (3, 4)]),
        ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)]),
        ("ij->", [(2, 3)]),
        ("ii", [(3, 3)]),
    ],
)
def test_einsum(eq, shapes):
    check_op(lambda T, *xs: T.einsum(eq, *xs), shapes, ref=lambda *a: np.einsum(eq, *a))
    if len(shapes) == 2:
        check_op(lambda T, *xs: T.einsum(eq, list(xs)), shapes, gradcheck=False)


def test_second_order_matmul_gradient_penalty():
    from helpers import HAS_TORCH, _torch, assert_close

    def run(lib):
        g = lib.Generator().manual_seed(0)
        w = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4), dtype=lib.float64, requires_grad=True)
        x = lib.tensor(np.linspace(-2, 1, 8).reshape(2, 4), dtype=lib.float64, requires_grad=True)
        out = (lib.tanh(x @ w.t()) ** 2).sum()
        (gx,) = lib.autograd.grad(out, x, create_graph=True)
        penalty = ((gx.norm(2, dim=1) - 1) ** 2).mean()
        penalty.backward()
        del g
        return w.grad, x.grad

    gw, gx = run(ctorch)
    assert gw is not None and float(gw.abs().sum()) > 0
    if HAS_TORCH:
        gwt, gxt = run(_torch)
        assert_close(gw, gwt, atol=1e-10)
        assert_close(gx, gxt, atol=1e-10)
