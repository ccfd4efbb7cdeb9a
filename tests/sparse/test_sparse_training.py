"""``nn.Embedding(sparse=True)``: sparse COO gradients, consumed by SGD and SparseAdam; training
trajectories against torch with the same weights and batches."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

V, D = 12, 4


def _batches(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, V, size=(3, 5)) for _ in range(n)]


def _models(padding_idx=None, scale_grad_by_freq=False, dtype=np.float32):
    w = np.random.default_rng(1).standard_normal((V, D)).astype(dtype)
    head = np.random.default_rng(2).standard_normal((D, 1)).astype(dtype)
    out = []
    for L in (ctorch, torch):
        emb = L.nn.Embedding(
            V, D, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq, sparse=True
        )
        with L.no_grad():
            emb.weight.copy_(L.tensor(w))
        lin = L.nn.Linear(D, 1, bias=False)
        with L.no_grad():
            lin.weight.copy_(L.tensor(head.T))
        out.append((emb, lin))
    return out


def _loss(L, emb, lin, idx):
    return (lin(emb(L.tensor(idx))).squeeze(-1).tanh() ** 2).mean()


@pytest.mark.parametrize("padding_idx, by_freq", [(None, False), (3, False), (None, True)])
def test_embedding_sparse_gradient_matches_torch(padding_idx, by_freq):
    (ce, cl), (te, tl) = _models(padding_idx, by_freq)
    idx = np.array([[1, 3, 3, 0], [7, 3, 1, 11]])
    if by_freq:  # torch refuses it in backward; so does ctorch
        with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported") as e:
            _loss(ctorch, ce, cl, idx).backward()
        with pytest.raises(RuntimeError) as te_:
            _loss(torch, te, tl, idx).backward()
        assert str(e.value) == str(te_.value).split("\n")[0]
        return
    _loss(ctorch, ce, cl, idx).backward()
    _loss(torch, te, tl, idx).backward()
    g, tg = ce.weight.grad, te.weight.grad
    assert g.layout is ctorch.sparse_coo and tg.layout is torch.sparse_coo
    assert g.is_coalesced() == tg.is_coalesced()
    np.testing.assert_array_equal(g._indices().numpy(), tg._indices().numpy())
    np.testing.assert_allclose(g._values().numpy(), tg._values().numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(cl.weight.grad.numpy(), tl.weight.grad.numpy(), rtol=1e-5)
    # a second backward accumulates (sparse + sparse) like torch
    _loss(ctorch, ce, cl, idx[:, :2]).backward()
    _loss(torch, te, tl, idx[:, :2]).backward()
    np.testing.assert_allclose(
        ce.weight.grad.to_dense().numpy(), te.weight.grad.to_dense().numpy(), rtol=1e-5, atol=1e-7
    )


def test_functional_embedding_sparse_and_no_grad():
    w = ctorch.randn(V, D, requires_grad=True)
    ctorch.nn.functional.embedding(ctorch.tensor([1, 2, 2]), w, sparse=True).sum().backward()
    assert w.grad.is_sparse and w.grad._nnz() == 3
    with ctorch.no_grad():
        out = ctorch.nn.functional.embedding(ctorch.tensor([1]), w, sparse=True)
    assert not out.requires_grad


def _run(make_opt, steps=5, sparse_lin=False):
    (ce, cl), (te, tl) = _models()
    copt, topt = make_opt(ctorch, [ce.weight]), make_opt(torch, [te.weight])
    for idx in _batches(steps):
        for L, e, lin, opt in ((ctorch, ce, cl, copt), (torch, te, tl, topt)):
            opt.zero_grad()
            _loss(L, e, lin, idx).backward()
            opt.step()
    np.testing.assert_allclose(
        ce.weight.detach().numpy(), te.weight.detach().numpy(), rtol=1e-5, atol=1e-6
    )
    return copt, topt


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=0.5),
        dict(lr=0.3, momentum=0.9),
        dict(lr=0.3, momentum=0.9, dampening=0.2),
        dict(lr=0.3, momentum=0.8, nesterov=True),
        dict(lr=0.2, maximize=True),
        dict(lr=0.2, momentum=0.5, maximize=True),
    ],
)
def test_sgd_with_sparse_gradients_matches_torch(kw):
    copt, topt = _run(lambda L, p: L.optim.SGD(p, **kw))
    if kw.get("momentum"):
        (cp,) = copt.state.values()
        (tp,) = topt.state.values()
        cb, tb = cp["momentum_buffer"], tp["momentum_buffer"]
        assert cb.layout is ctorch.sparse_coo and tb.layout is torch.sparse_coo
        np.testing.assert_allclose(
            cb.to_dense().numpy(), tb.to_dense().numpy(), rtol=1e-5, atol=1e-6
        )


def test_sgd_weight_decay_with_sparse_gradient_raises_as_torch():
    (ce, cl), (te, tl) = _models()
    idx = _batches(1)[0]
    opt = ctorch.optim.SGD([ce.weight], lr=0.1, weight_decay=0.1)
    topt = torch.optim.SGD([te.weight], lr=0.1, weight_decay=0.1)
    _loss(ctorch, ce, cl, idx).backward()
    _loss(torch, te, tl, idx).backward()
    with pytest.raises(RuntimeError, match="add\\(sparse, dense\\)") as e:
        opt.step()
    with pytest.raises(RuntimeError) as te_:
        topt.step()
    assert str(te_.value).split(".")[0] in str(e.value)


@pytest.mark.parametrize(
    "kw", [dict(lr=0.05), dict(lr=0.1, betas=(0.8, 0.95), eps=1e-6), dict(lr=0.05, maximize=True)]
)
def test_sparse_adam_matches_torch(kw):
    copt, topt = _run(lambda L, p: L.optim.SparseAdam(p, **kw), steps=6)
    (cs,) = copt.state.values()
    (ts,) = topt.state.values()
    assert cs["step"] == int(ts["step"])
    for k in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_allclose(cs[k].numpy(), ts[k].numpy(), rtol=1e-5, atol=1e-7)


def test_sparse_adam_refuses_dense_gradients():
    w = ctorch.nn.Parameter(ctorch.randn(3, 2))
    opt = ctorch.optim.SparseAdam([w])
    w.sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        opt.step()


def test_zero_grad_and_clip_grad_norm_with_sparse_gradients():
    (ce, cl), (te, tl) = _models()
    idx = _batches(1)[0]
    opt = ctorch.optim.SGD([ce.weight], lr=0.1)
    topt = torch.optim.SGD([te.weight], lr=0.1)
    _loss(ctorch, ce, cl, idx).backward()
    _loss(torch, te, tl, idx).backward()
    with pytest.raises(NotImplementedError):  # torch: vector_norm has no sparse kernel
        torch.nn.utils.clip_grad_norm_([te.weight], 0.1)
    with pytest.raises(NotImplementedError, match="Sparse"):
        ctorch.nn.utils.clip_grad_norm_([ce.weight], 0.1)
    opt.zero_grad(set_to_none=False)
    topt.zero_grad(set_to_none=False)
    g, tg = ce.weight.grad, te.weight.grad
    assert g.is_sparse and tg.is_sparse and g._nnz() == tg._nnz() == 0
    assert tuple(g.shape) == tuple(tg.shape)
    # the emptied sparse gradient accumulates the next backward
    _loss(ctorch, ce, cl, idx).backward()
    _loss(torch, te, tl, idx).backward()
    np.testing.assert_allclose(
        ce.weight.grad.to_dense().numpy(), te.weight.grad.to_dense().numpy(), rtol=1e-5, atol=1e-7
    )
    opt.zero_grad()
    assert ce.weight.grad is None


def test_dense_grad_then_sparse_grad_accumulates_into_dense():
    w, tw = ctorch.randn(V, D, requires_grad=True), None
    tw = torch.tensor(w.detach().numpy().copy(), requires_grad=True)
    (w * 2).sum().backward()
    (tw * 2).sum().backward()
    ctorch.nn.functional.embedding(ctorch.tensor([1, 1, 5]), w, sparse=True).sum().backward()
    torch.nn.functional.embedding(torch.tensor([1, 1, 5]), tw, sparse=True).sum().backward()
    assert w.grad.layout is ctorch.strided and tw.grad.layout is torch.strided
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy())


@pytest.mark.parametrize(
    "kw", [dict(lr=0.3), dict(lr=0.3, lr_decay=0.1, eps=1e-6), dict(lr=0.2, maximize=True)]
)
def test_adagrad_with_sparse_gradients_matches_torch(kw):
    copt, topt = _run(lambda L, p: L.optim.Adagrad(p, **kw))
    (cs,) = copt.state.values()
    (ts,) = topt.state.values()
    np.testing.assert_allclose(cs["sum"].numpy(), ts["sum"].numpy(), rtol=1e-5, atol=1e-7)


def test_lbfgs_with_sparse_gradients_matches_torch():
    (ce, cl), (te, tl) = _models()
    idx = _batches(1)[0]
    copt = ctorch.optim.LBFGS([ce.weight], lr=0.5, max_iter=4)
    topt = torch.optim.LBFGS([te.weight], lr=0.5, max_iter=4)
    for L, e, lin, opt in ((ctorch, ce, cl, copt), (torch, te, tl, topt)):

        def closure(L=L, e=e, lin=lin, opt=opt):
            opt.zero_grad()
            loss = _loss(L, e, lin, idx)
            loss.backward()
            return loss

        opt.step(closure)
    np.testing.assert_allclose(
        ce.weight.detach().numpy(), te.weight.detach().numpy(), rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize(
    "name", ["Adam", "AdamW", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]
)
def test_optimizers_without_sparse_support_raise_as_torch(name):
    msgs = []
    for L in (ctorch, torch):
        e = L.nn.Embedding(5, 2, sparse=True)
        e(L.tensor([1, 2])).sum().backward()
        opt = getattr(L.optim, name)(e.parameters(), lr=0.1)
        with pytest.raises(RuntimeError, match="does not support sparse gradients") as ex:
            opt.step()
        msgs.append(str(ex.value))
    assert msgs[0] == msgs[1]
    with pytest.raises(RuntimeError, match="weight_decay option is not compatible"):
        e = ctorch.nn.Embedding(5, 2, sparse=True)
        e(ctorch.tensor([1, 2])).sum().backward()
        ctorch.optim.Adagrad(e.parameters(), weight_decay=0.1).step()


@pytest.mark.cuda
@pytest.mark.parametrize("opt_name", ["SGD", "SparseAdam", "Adagrad"])
def test_sparse_embedding_training_on_gpu_matches_cpu(opt_name):
    kw = dict(lr=0.1, momentum=0.9) if opt_name == "SGD" else dict(lr=0.1)
    runs = []
    for dev in ("cpu", "cuda"):
        (ce, cl), _ = _models()
        ce.to(dev)
        cl.to(dev)
        opt = getattr(ctorch.optim, opt_name)([ce.weight], **kw)
        for idx in _batches(3):
            opt.zero_grad()
            loss = (cl(ce(ctorch.tensor(idx, device=dev))).squeeze(-1).tanh() ** 2).mean()
            loss.backward()
            assert ce.weight.grad.is_sparse and ce.weight.grad.device.type == dev
            opt.step()
        runs.append(ce.weight.detach().cpu().numpy())
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-4, atol=1e-5)


def test_deepcopy_of_a_model_with_sparse_gradients():
    import copy

    (ce, cl), _ = _models()
    _loss(ctorch, ce, cl, _batches(1)[0]).backward()
    e2 = copy.deepcopy(ce)
    g, g2 = ce.weight.grad, e2.weight.grad
    assert g2.is_sparse and g2._val._a is not g._val._a
    np.testing.assert_array_equal(g2.to_dense().numpy(), g.to_dense().numpy())


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_sparse_gradient_matches_torch(mode, padding_idx):
    w = np.random.default_rng(3).standard_normal((V, D)).astype(np.float32)
    idx = np.array([1, 2, 4, 4, 9, 2, 0])
    off = np.array([0, 3, 5])
    grads = []
    if mode == "max":  # torch refuses it
        for L in (ctorch, torch):
            bag = L.nn.EmbeddingBag(V, D, mode=mode, sparse=True, padding_idx=padding_idx)
            with pytest.raises(ValueError, match="max mode does not support sparse weights"):
                bag(L.tensor(idx), L.tensor(off))
        return
    for L in (ctorch, torch):
        bag = L.nn.EmbeddingBag(V, D, mode=mode, sparse=True, padding_idx=padding_idx)
        with L.no_grad():
            bag.weight.copy_(L.tensor(w))
        out = bag(L.tensor(idx), L.tensor(off))
        (out * L.arange(out.numel(), dtype=L.float32).reshape(out.shape)).sum().backward()
        grads.append(bag.weight.grad)
    g, tg = grads
    assert g.is_sparse and tg.is_sparse
    np.testing.assert_allclose(g.to_dense().numpy(), tg.to_dense().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(g._indices().numpy(), tg._indices().numpy())
