"""FSDP2 / DTensor / DeviceMesh / DCP checks, run by test_fsdp2.py as ``python -m
ctorch.distributed.run --launcher subprocess --nproc-per-node N _fsdp2_worker.py OUTDIR
SCENARIO...`` (TCP transport, 1 or 2 ranks).

Every rank builds the same model from the same seed and compares fully_shard training with an
unsharded copy trained on the concatenation of every rank's batch (a mean loss over equal
shards: FSDP's averaged gradients equal the unsharded model's). Checkpoints go to
``$FSDP2_CKPT/<kind>_w<world>``; ``ckpt_load`` reads the ones the *other* world size wrote.
"""

from __future__ import annotations

import os
import sys

import numpy as np
from _worker_common import check_close, run_scenarios, shard  # the script dir is on sys.path

import ctorch
import ctorch.distributed as dist
import ctorch.distributed.checkpoint as dcp
from ctorch import nn
from ctorch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    get_state_dict,
    set_state_dict,
)
from ctorch.distributed.device_mesh import DeviceMesh, init_device_mesh
from ctorch.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard
from ctorch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor
from ctorch.nn import functional as F

V, S, D = 23, 7, 16  # vocabulary and positions: uneven over 2 ranks (12/11, 4/3 rows)
STEPS = 3


class Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.n_heads = 2
        self.wq = nn.Linear(D, D, bias=False)
        self.wk = nn.Linear(D, D, bias=False)
        self.wv = nn.Linear(D, D, bias=False)
        self.wo = nn.Linear(D, D, bias=False)

    def forward(self, x):
        b, s, _ = x.size()
        q, k, v = (
            w(x).view(b, s, self.n_heads, -1).transpose(1, 2) for w in (self.wq, self.wk, self.wv)
        )
        o = F.scaled_dot_product_attention(q, k, v, None, 0.0, is_causal=True)
        return self.wo(o.transpose(1, 2).contiguous().view(b, s, -1))


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attention_norm = nn.LayerNorm(D)
        self.attention = Attention()
        self.ffn_norm = nn.LayerNorm(D)
        self.w1 = nn.Linear(D, 4 * D)
        self.w2 = nn.Linear(4 * D, D)

    def forward(self, x):
        h = x + self.attention(self.attention_norm(x))
        return h + self.w2(F.gelu(self.w1(self.ffn_norm(h))))


class Transformer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.tok_embeddings = nn.Embedding(V, D)
        self.pos_embeddings = nn.Embedding(S, D)
        self.layers = nn.ModuleList([Block(), Block()])
        self.norm = nn.LayerNorm(D)
        self.output = nn.Linear(D, V, bias=False)

    def forward(self, tokens):
        h = self.tok_embeddings(tokens) + self.pos_embeddings(ctorch.arange(tokens.size(1)))
        for layer in self.layers:
            h = layer(h)
        return self.output(self.norm(h))


def make_model(seed: int = 0) -> Transformer:
    ctorch.manual_seed(seed)
    return Transformer()


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.integers(0, V, (4, 6)), rng.integers(0, V, (4, 6))


def loss_of(model, tok, tgt):
    out = model(ctorch.tensor(tok))
    return F.cross_entropy(out.reshape(-1, V), ctorch.tensor(tgt).reshape(-1))


def reference(steps: int):
    """The unsharded model on the whole batch: losses, clip norms, model and optimizer."""
    tok, tgt = data()
    model = make_model()
    opt = ctorch.optim.Adam(model.parameters(), lr=1e-2)
    losses, norms = [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_of(model, tok, tgt)
        loss.backward()
        norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), 0.5)))
        opt.step()
        losses.append(float(loss))
    return model, opt, losses, norms


def sharded_model(seed: int = 0, **kw) -> Transformer:
    model = make_model(seed)
    for layer in model.layers:
        fully_shard(layer, **kw)
    fully_shard(model, **kw)
    return model


def train(model, opt, steps: int):
    rank, world = dist.get_rank(), dist.get_world_size()
    tok, tgt = data()
    losses, norms = [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_of(model, shard(tok, rank, world), shard(tgt, rank, world))
        loss.backward()
        if hasattr(model, "clip_grad_norm_"):  # FSDP1: its flat shards need its own norm
            norms.append(float(model.clip_grad_norm_(0.5)))
        else:  # FSDP2's DTensor gradients: the plain function reduces over the mesh
            norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), 0.5)))
        opt.step()
        t = loss.detach().clone().reshape(1)
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        losses.append(float(t))
    return losses, norms


def chunk(n: int, rank: int, world: int) -> int:
    c = -(-n // world)
    return max(0, min((rank + 1) * c, n) - min(rank * c, n))


# ----------------------------------------------------------------------------- scenarios
def scenario_mesh() -> None:
    rank, world = dist.get_rank(), dist.get_world_size()
    mesh = init_device_mesh("cpu", (world,), mesh_dim_names=("dp",))
    assert isinstance(mesh, DeviceMesh) and mesh.ndim == 1 and mesh.shape == (world,)
    assert mesh.size() == world and mesh.size(0) == world and mesh.get_local_rank() == rank
    assert mesh.get_local_rank("dp") == rank and mesh.get_rank() == rank
    assert dist.get_process_group_ranks(mesh.get_group()) == list(range(world))
    assert mesh["dp"] is mesh and mesh.mesh.tolist() == list(range(world))
    assert dist.init_device_mesh is init_device_mesh
    assert repr(mesh) == f"DeviceMesh((dp={world}), 'cpu', stride={(1,) if world > 1 else ((),)})"
    # 2-D: (replicate, shard) both ways round
    for shape in ((1, world), (world, 1)):
        m2 = init_device_mesh("cpu", shape, mesh_dim_names=("rep", "shard"))
        coord = [int(c) for c in np.argwhere(np.arange(world).reshape(shape) == rank)[0]]
        assert m2.get_coordinate() == coord
        for d, name in enumerate(("rep", "shard")):
            assert m2.get_local_rank(name) == coord[d] and m2.size(d) == shape[d]
            g = m2.get_group(name)
            assert dist.get_world_size(g) == shape[d], (shape, d)
            sub = m2[name]
            assert sub.ndim == 1 and sub.size() == shape[d] and sub.get_local_rank() == coord[d]
        try:
            m2.get_group()
        except RuntimeError as e:
            assert "mesh_dim" in str(e)
        else:
            raise AssertionError("get_group() on a 2-D mesh accepted")
    for bad, msg in (
        (lambda: init_device_mesh("cpu", (world + 1,)), "world size"),
        (lambda: init_device_mesh("cpu", (world,), mesh_dim_names=("a", "b")), "same length"),
        (lambda: mesh["tp"], "does not exist"),
    ):
        try:
            bad()
        except (RuntimeError, KeyError) as e:
            assert msg in str(e), e
        else:
            raise AssertionError(msg)


def scenario_dtensor() -> None:
    rank, world = dist.get_rank(), dist.get_world_size()
    mesh = init_device_mesh("cpu", (world,))
    full = np.arange(35, dtype=np.float64).reshape(5, 7)
    # every rank passes different data: distribute_tensor takes coordinate 0's
    mine = ctorch.tensor(full + rank * 100)
    d = distribute_tensor(mine, mesh, [Shard(0)])
    assert isinstance(d, DTensor) and d.placements == (Shard(0),) and d.device_mesh == mesh
    assert tuple(d.shape) == (5, 7) and d.size(0) == 5 and d.numel() == 35 and d.dim() == 2
    assert d.stride() == (7, 1)
    lo = min(rank * -(-5 // world), 5)
    check_close(d.to_local(), full[lo : lo + chunk(5, rank, world)], "Shard(0) local")
    check_close(d.full_tensor(), full, "full_tensor")
    r = d.redistribute(mesh, [Replicate()])
    assert r.placements == (Replicate(),)
    check_close(r.to_local(), full, "Shard(0)->Replicate")
    s1 = r.redistribute(mesh, [Shard(1)])
    c1 = -(-7 // world)
    check_close(s1.to_local(), full[:, rank * c1 : rank * c1 + chunk(7, rank, world)], "Shard(1)")
    check_close(s1.redistribute(mesh, [Shard(0)]).to_local(), d.to_local(), "Shard(1)->Shard(0)")
    # Partial: each rank holds (rank + 1) * x; the tensor is their sum
    p = DTensor.from_local(ctorch.tensor(full * (rank + 1)), mesh, [Partial()])
    total = sum(range(1, world + 1))
    check_close(p.full_tensor(), full * total, "Partial->full")
    ps = p.redistribute(mesh, [Shard(0)])
    check_close(ps.to_local(), (full * total)[lo : lo + chunk(5, rank, world)], "Partial->Shard")
    check_close(p.redistribute(mesh, [Replicate()]).to_local(), full * total, "Partial->Rep")
    # from_local: even global shape by default, an explicit one for uneven shards
    e = DTensor.from_local(ctorch.ones(2, 3), mesh, [Shard(0)])
    assert tuple(e.shape) == (2 * world, 3)
    u = DTensor.from_local(d.to_local(), mesh, [Shard(0)], shape=(5, 7), stride=(7, 1))
    check_close(u.full_tensor(), full, "from_local with shape")
    # one row over two ranks: the second holds an empty shard
    one = distribute_tensor(ctorch.tensor(full[:1]), mesh, [Shard(0)])
    assert tuple(one.to_local().shape) == ((1 if rank == 0 else 0), 7), one.to_local().shape
    check_close(one.full_tensor(), full[:1], "one row")
    # elementwise ops keep the layout; in-place ops act on the shard
    y = (d * 2 + 1) / 4
    assert isinstance(y, DTensor) and y.placements == (Shard(0),)
    check_close(y.full_tensor(), (full * 2 + 1) / 4, "elementwise")
    z = d.clone()
    z.add_(d, alpha=2.0).mul_(0.5)
    check_close(z.full_tensor(), full * 1.5, "in place")
    check_close(d.full_tensor(), full, "clone is a copy")
    try:
        d + r
    except RuntimeError as err:
        assert "different layouts" in str(err)
    else:
        raise AssertionError("Shard + Replicate accepted")
    # as a parameter under an optimizer: the shard steps like the full tensor's rows
    w = nn.Parameter(distribute_tensor(ctorch.tensor(full), mesh, [Shard(0)]))
    assert isinstance(w, nn.Parameter) and isinstance(w, DTensor) and w.requires_grad
    w.grad = distribute_tensor(ctorch.tensor(full / 10), mesh, [Shard(0)])
    opt = ctorch.optim.Adam([w], lr=0.1)
    opt.step()
    ref = nn.Parameter(ctorch.tensor(full))
    ref.grad = ctorch.tensor(full / 10)
    ctorch.optim.Adam([ref], lr=0.1).step()
    check_close(w.full_tensor(), ref, "Adam on a DTensor parameter")
    # 2-D mesh: (Replicate, Shard(0)) and (Shard(0), Shard(1))
    for shape in ((1, world), (world, 1)):
        m2 = init_device_mesh("cpu", shape)
        for pls in ([Replicate(), Shard(0)], [Shard(0), Shard(1)], [Shard(1), Shard(1)]):
            t = distribute_tensor(ctorch.tensor(full), m2, pls)
            check_close(t.full_tensor(), full, f"2-D {shape} {pls}")
            t2 = t.redistribute(m2, [Replicate(), Replicate()])
            check_close(t2.to_local(), full, f"2-D {shape} {pls} -> replicate")


def scenario_train() -> None:
    rank, world = dist.get_rank(), dist.get_world_size()
    ref, ref_opt, ref_losses, ref_norms = reference(STEPS)
    init = make_model().state_dict()
    model = sharded_model()
    assert type(model).__name__ == "FSDPTransformer" and isinstance(model, FSDPModule)
    assert isinstance(model, Transformer)
    assert type(model.layers[0]).__name__ == "FSDPBlock"
    assert not isinstance(model.layers[0].attention, FSDPModule)
    names = [n for n, _ in make_model().named_parameters()]
    got = dict(model.named_parameters())
    assert list(got) == names, list(got)
    for n, p in got.items():
        assert isinstance(p, DTensor) and isinstance(p, nn.Parameter), n
        assert p.placements == (Shard(0),), (n, p.placements)
        assert tuple(p.shape) == tuple(init[n].shape), n
        want = (chunk(p.shape[0], rank, world), *p.shape[1:])
        assert tuple(p.to_local().shape) == want, (n, p.to_local().shape, want)
    opt = ctorch.optim.Adam(model.parameters(), lr=1e-2)
    # registration through one forward: inner blocks reshard after forward, the root does not
    tok, tgt = data()
    loss = loss_of(model, shard(tok, rank, world), shard(tgt, rank, world))
    assert all(isinstance(p, DTensor) for p in model.layers[0].parameters())
    assert not isinstance(model.output.weight, DTensor)
    loss.backward()
    assert all(isinstance(p, DTensor) for p in model.parameters())
    for n, p in model.named_parameters():
        assert isinstance(p.grad, DTensor) and p.grad.placements == (Shard(0),), n
        assert tuple(p.grad.to_local().shape) == tuple(p.to_local().shape), n
    opt.zero_grad()
    losses, norms = train(model, opt, STEPS)
    check_close(losses, ref_losses, "losses")
    check_close(norms, ref_norms, "clip norms")
    assert min(norms) > 0.5, norms  # the clipping was active
    sd = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True))
    ref_sd = ref.state_dict()
    assert list(sd) == list(ref_sd)
    for k in sd:
        check_close(sd[k], ref_sd[k], f"final {k}", 5e-5)
    osd = get_optimizer_state_dict(model, opt, options=StateDictOptions(full_state_dict=True))
    ref_osd = ref_opt.state_dict()
    for i, n in enumerate(names):
        for k in ("exp_avg", "exp_avg_sq"):
            check_close(osd["state"][n][k], ref_osd["state"][i][k], f"{n}.{k}", 5e-5)
        assert float(osd["state"][n]["step"]) == STEPS
    assert osd["param_groups"][0]["params"] == names
    # the sharded state dict: DTensors
    ssd = model.state_dict()
    assert all(isinstance(v, DTensor) for v in ssd.values())
    off = get_model_state_dict(
        model, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
    )
    assert (off == {}) == (rank != 0)
    sharded_cpu = get_model_state_dict(model, options=StateDictOptions(cpu_offload=True))
    for k, v in sharded_cpu.items():
        assert isinstance(v, DTensor) and v.placements == (Shard(0),), k
        check_close(v.full_tensor(), ref_sd[k], f"cpu_offload sharded {k}", 5e-5)
    if rank == 0:
        np.savez(
            os.path.join(sys.argv[1], "train.npz"),
            losses=np.array(losses),
            norms=np.array(norms),
            tok=tok,
            tgt=tgt,
            **{f"final.{k}": v.numpy() for k, v in sd.items()},
            **{f"init.{k}": v.numpy() for k, v in init.items()},
        )


def scenario_variants() -> None:
    """reshard_after_forward=False, reshard_after_backward, gradient accumulation without sync,
    float64 mixed precision."""
    rank, world = dist.get_rank(), dist.get_world_size()
    tok, tgt = data()
    ref = make_model()
    loss_of(ref, tok, tgt).backward()
    ref_grads = {n: p.grad for n, p in ref.named_parameters()}

    def grads_of(model):
        return {n: p.grad.full_tensor() for n, p in model.named_parameters()}

    model = sharded_model(reshard_after_forward=False)
    loss = loss_of(model, shard(tok, rank, world), shard(tgt, rank, world))
    assert not isinstance(model.layers[0].w1.weight, DTensor)  # kept unsharded
    model.set_reshard_after_backward(False)
    loss.backward()
    assert not isinstance(model.layers[1].w1.weight, DTensor)
    for m in (model, *model.layers):
        m.reshard()
    assert all(isinstance(p, DTensor) for p in model.parameters())
    for n, g in grads_of(model).items():
        check_close(g, ref_grads[n], f"no-reshard grad {n}")

    # gradient accumulation: two micro-batches without sync, the third synced
    ref = make_model()
    for i in range(2):
        (loss_of(ref, tok[:, i * 3 : i * 3 + 3], tgt[:, i * 3 : i * 3 + 3]) / 2).backward()
    ref_grads = {n: p.grad for n, p in ref.named_parameters()}
    model = sharded_model()
    tk, tg = shard(tok, rank, world), shard(tgt, rank, world)
    model.set_requires_gradient_sync(False)
    (loss_of(model, tk[:, :3], tg[:, :3]) / 2).backward()
    assert all(p.grad is None for p in model.parameters())
    model.set_requires_gradient_sync(True)
    model.set_is_last_backward(True)
    (loss_of(model, tk[:, 3:], tg[:, 3:]) / 2).backward()
    for n, g in grads_of(model).items():
        check_close(g, ref_grads[n], f"accumulated grad {n}")

    # mixed precision in float64: the float64 reference's numbers, float32 shards and grads
    ref = make_model().double()
    loss_of(ref, tok, tgt).backward()
    mp = MixedPrecisionPolicy(param_dtype=ctorch.float64, reduce_dtype=ctorch.float64)
    model = sharded_model(mp_policy=mp)
    out = model(ctorch.tensor(shard(tok, rank, world)))
    assert out.dtype == ctorch.float64
    loss = F.cross_entropy(out.reshape(-1, V), ctorch.tensor(shard(tgt, rank, world)).reshape(-1))
    loss.backward()
    for n, p in model.named_parameters():
        assert p.dtype == ctorch.float32 and p.grad.dtype == ctorch.float32, n
        check_close(p.grad.full_tensor(), ref.get_parameter(n).grad.float(), f"mp grad {n}", 1e-6)
    # HSDP on a 2-D mesh, both ways round: (Replicate(), Shard(0)) parameters, same gradients
    ref = make_model()
    loss_of(ref, tok, tgt).backward()
    for shape in ((1, world), (world, 1)):
        mesh = init_device_mesh("cpu", shape, mesh_dim_names=("replicate", "shard"))
        model = sharded_model(mesh=mesh)
        for n, p in model.named_parameters():
            assert p.placements == (Replicate(), Shard(0)), (n, p.placements)
            want = chunk(p.shape[0], mesh.get_local_rank("shard"), shape[1])
            assert p.to_local().shape[0] == want, (n, shape)
        loss_of(model, shard(tok, rank, world), shard(tgt, rank, world)).backward()
        for n, p in model.named_parameters():
            check_close(p.grad.full_tensor(), ref.get_parameter(n).grad, f"HSDP {shape} {n}")
    # a parameter with fewer rows than ranks: the last rank's shard is empty
    ctorch.manual_seed(1)
    ref = nn.Sequential(nn.Linear(3, 1), nn.Tanh())
    ctorch.manual_seed(1)
    tiny = nn.Sequential(nn.Linear(3, 1), nn.Tanh())
    fully_shard(tiny)
    assert tuple(tiny[0].weight.to_local().shape) == ((1, 3) if rank == 0 else (0, 3))
    xs = np.random.default_rng(5).standard_normal((4, 3)).astype(np.float32)
    opts = [ctorch.optim.SGD(m.parameters(), lr=0.5, momentum=0.9) for m in (ref, tiny)]
    for _ in range(2):
        for m, o in zip((ref, tiny), opts, strict=True):
            o.zero_grad()
            xb = xs if m is ref else shard(xs, rank, world)
            m(ctorch.tensor(xb)).square().mean().backward()
            o.step()
    for (n, a), b in zip(ref.named_parameters(), tiny.parameters(), strict=True):
        check_close(b.full_tensor(), a, f"tiny {n}")
    # output_dtype
    mp2 = MixedPrecisionPolicy(output_dtype=ctorch.float64)
    m2 = make_model()
    fully_shard(m2, mp_policy=mp2)
    assert m2(ctorch.tensor(tok[:1])).dtype == ctorch.float64


def _ckpt_dir(kind: str, world: int) -> str:
    return os.path.join(os.environ["FSDP2_CKPT"], f"{kind}_w{world}")


def _ddp_model():
    from ctorch.nn.parallel import DistributedDataParallel as DDP

    return DDP(make_model())


def _fsdp1_model():
    from ctorch.distributed.fsdp import FullyShardedDataParallel as FSDP
    from ctorch.distributed.fsdp.wrap import ModuleWrapPolicy

    return FSDP(make_model(), auto_wrap_policy=ModuleWrapPolicy({Block}))


def scenario_ckpt_save() -> None:
    """Train FSDP2, FSDP1 and DDP two steps each and dcp.save model + Adam state."""
    world = dist.get_world_size()
    for kind, build in (("fsdp2", sharded_model), ("fsdp1", _fsdp1_model), ("ddp", _ddp_model)):
        model = build()
        opt = ctorch.optim.Adam(model.parameters(), lr=1e-2)
        train(model, opt, 2)
        msd, osd = get_state_dict(model, opt)
        dcp.save({"model": msd, "optim": osd}, checkpoint_id=_ckpt_dir(kind, world))
    d = _ckpt_dir("fsdp2", world)
    files = sorted(os.listdir(d))
    assert files == [".metadata", *[f"__{r}_0.distcp" for r in range(world)]], files


def _check_restored(model, opt, ref, ref_opt, what: str) -> None:
    sd = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True))
    for k, v in ref.state_dict().items():
        check_close(sd[k], v, f"{what} model {k}", 5e-5)
    osd = get_optimizer_state_dict(model, opt, options=StateDictOptions(full_state_dict=True))
    ref_osd = ref_opt.state_dict()
    for i, (n, _) in enumerate(ref.named_parameters()):
        for k in ("exp_avg", "exp_avg_sq"):
            check_close(osd["state"][n][k], ref_osd["state"][i][k], f"{what} {n}.{k}", 5e-5)
        assert float(osd["state"][n]["step"]) == 2, (what, osd["state"][n]["step"])


def scenario_ckpt_load() -> None:
    """Load what the other world size saved, into FSDP2, a plain model, FSDP1 and DDP; one more
    step then matches the reference trained three steps straight."""
    world = dist.get_world_size()
    other = 1 if world == 2 else 2
    ref, ref_opt, _, _ = reference(2)
    ref3, _, ref3_losses, _ = reference(3)
    for src in ("fsdp2", "fsdp1", "ddp"):
        for kind, build in (
            ("fsdp2", lambda: sharded_model(seed=5)),
            ("plain", lambda: make_model(5)),
            ("fsdp1", _fsdp1_model),
            ("ddp", _ddp_model),
        ):
            if src != "fsdp2" and kind not in ("fsdp2", "plain"):
                continue
            what = f"{src}(w{other}) -> {kind}(w{world})"
            model = build()
            opt = ctorch.optim.Adam(model.parameters(), lr=1e-2)
            msd, osd = get_state_dict(model, opt)
            dcp.load({"model": msd, "optim": osd}, checkpoint_id=_ckpt_dir(src, other))
            set_state_dict(model, opt, model_state_dict=msd, optim_state_dict=osd)
            _check_restored(model, opt, ref, ref_opt, what)
            if kind == "plain":
                tok, tgt = data()
                opt.zero_grad()
                loss = loss_of(model, tok, tgt)
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 0.5)
                opt.step()
                losses = [float(loss)]
            else:
                losses, _ = train(model, opt, 1)
            check_close(losses, ref3_losses[2:], f"{what} next loss")
            sd = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True))
            for k, v in ref3.state_dict().items():
                check_close(sd[k], v, f"{what} after a step {k}", 5e-5)
    # full state dicts from rank 0 only, broadcast to the others
    model = sharded_model(seed=7)
    opt = ctorch.optim.Adam(model.parameters(), lr=1e-2)
    full = ref.state_dict() if dist.get_rank() == 0 else {}
    fo = {}
    if dist.get_rank() == 0:
        fo = get_optimizer_state_dict(ref, ref_opt)
    set_state_dict(
        model,
        opt,
        model_state_dict=full,
        optim_state_dict=fo,
        options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True),
    )
    _check_restored(model, opt, ref, ref_opt, "broadcast_from_rank0")
    try:
        dcp.load({"model": {"nope": ctorch.zeros(2)}}, checkpoint_id=_ckpt_dir("fsdp2", other))
    except RuntimeError as e:
        assert "Missing key in checkpoint state_dict: model.nope" in str(e), e
    else:
        raise AssertionError("a missing key loaded")


if __name__ == "__main__":
    run_scenarios(globals())
