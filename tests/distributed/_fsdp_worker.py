"""FSDP checks, run by test_fsdp.py as ``python -m ctorch.distributed.run --launcher subprocess
--nproc-per-node N _fsdp_worker.py OUTDIR SCENARIO...`` (TCP transport, 1 or 2 ranks).

Every rank builds the same model from the same seed and also trains an unwrapped copy of it on
the concatenation of every rank's batch: with a mean loss and equal shards, FSDP's averaged
gradients equal the unwrapped model's, so the losses (averaged over ranks), the clipped total
norms, the final full state_dict and the optimizer state must match it. Rank 0 writes what it
saw to OUTDIR so that the pytest side can compare with torch.
"""

from __future__ import annotations

import os
import sys

import numpy as np
from _worker_common import check_close, run_scenarios, shard  # the script dir is on sys.path

import ctorch
import ctorch.distributed as dist
from ctorch import nn
from ctorch.distributed.fsdp import (
    FullOptimStateDictConfig,
    FullStateDictConfig,
    MixedPrecision,
    ShardingStrategy,
    StateDictType,
)
from ctorch.distributed.fsdp import FullyShardedDataParallel as FSDP
from ctorch.distributed.fsdp.wrap import ModuleWrapPolicy, size_based_auto_wrap_policy

B = 6  # rows per rank
STEPS = 4


class Block(nn.Module):
    """A pre-norm residual MLP block (a transformer block without attention)."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 2 * d)
        self.fc2 = nn.Linear(2 * d, d)

    def forward(self, x):
        return x + self.fc2(nn.functional.gelu(self.fc1(self.norm(x))))


def make_model() -> nn.Module:
    ctorch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), Block(16), Block(16), nn.Linear(16, 3))


def data(world: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((B * 2, 8)).astype(np.float32)
    y = rng.standard_normal((B * 2, 3)).astype(np.float32)
    return x, y


def reference(x, y, steps: int, clip: float | None):
    """The unwrapped model on the whole batch: losses, norms, final state, Adam state."""
    model = make_model()
    opt = ctorch.optim.Adam(model.parameters(), lr=1e-2)
    losses, norms = [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(ctorch.tensor(x)), ctorch.tensor(y))
        loss.backward()
        if clip is not None:
            norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), clip)))
        opt.step()
        losses.append(float(loss))
    return model, opt, losses, norms


def train_fsdp(strategy: ShardingStrategy, policy, steps: int, clip: float | None, **kw):
    rank, world = dist.get_rank(), dist.get_world_size()
    x, y = data(world)
    xs, ys = shard(x, rank, world), shard(y, rank, world)
    model = FSDP(make_model(), sharding_strategy=strategy, auto_wrap_policy=policy, **kw)
    opt = ctorch.optim.Adam(model.parameters(), lr=1e-2)
    losses, norms = [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(ctorch.tensor(xs)), ctorch.tensor(ys))
        loss.backward()
        if clip is not None:
            norms.append(float(model.clip_grad_norm_(clip)))
        opt.step()
        t = loss.detach().clone().reshape(1)
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        losses.append(float(t))
    return model, opt, losses, norms


def scenario_train() -> None:
    """Every strategy, block-wrapped: losses, clipped norms, state_dict, optimizer state."""
    rank, world = dist.get_rank(), dist.get_world_size()
    x, y = data(world)
    ref, ref_opt, ref_losses, ref_norms = reference(x, y, STEPS, clip=0.5)
    ref_sd = ref.state_dict()
    names = [n for n, _ in ref.named_parameters()]
    ref_osd = ref_opt.state_dict()
    for strategy in (
        ShardingStrategy.FULL_SHARD,
        ShardingStrategy.SHARD_GRAD_OP,
        ShardingStrategy.NO_SHARD,
        ShardingStrategy.HYBRID_SHARD,
    ):
        model, opt, losses, norms = train_fsdp(strategy, ModuleWrapPolicy({Block}), STEPS, clip=0.5)
        # the optimizer sees this rank's flat shards: 1/world of each unit
        n_units = len(FSDP.fsdp_modules(model))
        assert n_units == 3, n_units
        flat = list(model.named_parameters())
        assert [n for n, _ in flat] == ["_flat_param", "1._flat_param", "2._flat_param"], flat
        total = sum(p.numel() for p in ref.parameters())
        if strategy is not ShardingStrategy.NO_SHARD:
            assert sum(p.numel() for _, p in flat) * world < total + 3 * world
        check_close(losses, ref_losses, f"{strategy} losses")
        check_close(norms, ref_norms, f"{strategy} clip norms")
        assert min(norms) > 0.5, norms  # the clipping was active
        sd = model.state_dict()
        assert list(sd) == list(ref_sd), (list(sd), list(ref_sd))
        for k in sd:
            check_close(sd[k], ref_sd[k], f"{strategy} state_dict[{k}]")
        osd = FSDP.full_optim_state_dict(model, opt, rank0_only=False)
        # in the optimizer's order: the root unit's parameters first, as torch's
        assert sorted(osd["param_groups"][0]["params"]) == sorted(names), osd["param_groups"]
        assert osd["param_groups"][0]["lr"] == 1e-2
        for i, n in enumerate(names):
            for k in ("exp_avg", "exp_avg_sq"):
                check_close(osd["state"][n][k], ref_osd["state"][i][k], f"{strategy} {n}.{k}")
            assert float(osd["state"][n]["step"]) == STEPS
        if rank == 0 and strategy is ShardingStrategy.FULL_SHARD:
            out = sys.argv[1]
            np.savez(
                os.path.join(out, "train.npz"),
                losses=np.array(losses),
                norms=np.array(norms),
                **{f"final.{k}": v.numpy() for k, v in sd.items()},
                **{f"init.{k}": v.numpy() for k, v in make_model().state_dict().items()},
                x=x,
                y=y,
            )


def scenario_state_dict() -> None:
    """FULL_STATE_DICT with rank-0 offload saved and loaded into a fresh model; LOCAL round
    trip; optimizer state round trip through optim_state_dict / optim_state_dict_to_load."""
    rank, world = dist.get_rank(), dist.get_world_size()
    x, y = data(world)
    model, opt, _, _ = train_fsdp(ShardingStrategy.FULL_SHARD, ModuleWrapPolicy({Block}), 2, None)
    cfg = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, cfg):
        sd = model.state_dict()
    path = os.path.join(sys.argv[1], "ckpt.pt")
    if rank == 0:
        assert "1.fc1.weight" in sd and sd["1.fc1.weight"].shape == (32, 16)
        ctorch.save(sd, path)
    else:
        assert sd == {}, list(sd)
    dist.barrier()
    # the default settings came back after the context
    assert FSDP.get_state_dict_type(model).state_dict_type is StateDictType.FULL_STATE_DICT
    assert FSDP.get_state_dict_type(model).state_dict_config.rank0_only is False

    ctorch.manual_seed(123)
    fresh = FSDP(
        nn.Sequential(nn.Linear(8, 16), Block(16), Block(16), nn.Linear(16, 3)),
        auto_wrap_policy=ModuleWrapPolicy({Block}),
    )
    xt = ctorch.tensor(x)
    assert not np.allclose(fresh(xt).detach().numpy(), model(xt).detach().numpy())
    res = fresh.load_state_dict(ctorch.load(path))
    assert list(res.missing_keys) == [] and list(res.unexpected_keys) == []
    check_close(fresh(xt), model(xt), "loaded model output", 1e-6)

    # LOCAL_STATE_DICT: this rank's flat shards
    with FSDP.state_dict_type(model, StateDictType.LOCAL_STATE_DICT):
        local = model.state_dict()
    assert list(local) == ["_flat_param", "1._flat_param", "2._flat_param"], list(local)
    ctorch.manual_seed(5)
    other = FSDP(make_model(), auto_wrap_policy=ModuleWrapPolicy({Block}))
    with FSDP.state_dict_type(other, StateDictType.LOCAL_STATE_DICT):
        other.load_state_dict(local)
    check_close(other(xt), model(xt), "LOCAL round trip output", 1e-6)

    # strict loading names the keys as the user wrote them
    bad = dict(ctorch.load(path))
    bad["extra.weight"] = ctorch.zeros(1)
    del bad["0.bias"]
    try:
        fresh.load_state_dict(bad)
    except RuntimeError as e:
        assert '"extra.weight"' in str(e) and '"0.bias"' in str(e), e
    else:
        raise AssertionError("strict load_state_dict accepted wrong keys")

    # optimizer: full state out, back in to a new optimizer, one more identical step
    osd_cfg = FullOptimStateDictConfig(rank0_only=False)
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, None, osd_cfg):
        osd = FSDP.optim_state_dict(model, opt)
    opt2 = ctorch.optim.Adam(fresh.parameters(), lr=1e-2)
    FSDP.optim_state_dict_to_load(fresh, opt2, osd, load_directly=True)
    xs, ys = shard(x, rank, world), shard(y, rank, world)
    for m, o in ((model, opt), (fresh, opt2)):
        o.zero_grad()
        nn.functional.mse_loss(m(ctorch.tensor(xs)), ctorch.tensor(ys)).backward()
        o.step()
    check_close(fresh(xt), model(xt), "after a step with the loaded optimizer state", 1e-6)

    # the older API: rank 0 holds the full optimizer state, scattered to the others
    full_osd = FSDP.full_optim_state_dict(model, opt)  # rank0_only=True by default
    assert (full_osd == {}) == (rank != 0)
    opt3 = ctorch.optim.Adam(fresh.parameters(), lr=1e-2)
    opt3.load_state_dict(
        FSDP.scatter_full_optim_state_dict(full_osd if rank == 0 else None, fresh, optim=opt3)
    )
    for k, v in opt.state_dict()["state"].items():
        got = opt3.state_dict()["state"][k]
        for name in ("exp_avg", "exp_avg_sq"):
            check_close(got[name], v[name], f"scattered {k}.{name}", 0.0)


def scenario_no_sync() -> None:
    """Two micro-batches under no_sync() plus a synced one equal one step on all the rows."""
    rank, world = dist.get_rank(), dist.get_world_size()
    x, y = data(world)
    ref = make_model()
    loss = sum(
        nn.functional.mse_loss(ref(ctorch.tensor(x[i::3])), ctorch.tensor(y[i::3])) / 3
        for i in range(3)
    )
    loss.backward()
    ref_grads = {n: p.grad for n, p in ref.named_parameters()}
    model = FSDP(make_model(), auto_wrap_policy=ModuleWrapPolicy({Block}))
    with model.no_sync():
        for i in range(2):
            # batches x[i::3] split over the ranks
            xi, yi = shard(x[i::3], rank, world), shard(y[i::3], rank, world)
            (nn.functional.mse_loss(model(ctorch.tensor(xi)), ctorch.tensor(yi)) / 3).backward()
    # nothing was reduced yet
    assert all(p.grad is None for p in model.parameters())
    xi, yi = shard(x[2::3], rank, world), shard(y[2::3], rank, world)
    (nn.functional.mse_loss(model(ctorch.tensor(xi)), ctorch.tensor(yi)) / 3).backward()
    with FSDP.summon_full_params(model, with_grads=True, writeback=False):
        full_grads = {}
        for name, mod in model.named_modules():
            for attr in ("weight", "bias"):
                v = mod.__dict__.get(attr)
                if v is not None:
                    full_grads[(name.replace("_fsdp_wrapped_module.", "") + "." + attr)] = v.grad
    for n, g in ref_grads.items():
        check_close(full_grads[n], g, f"accumulated grad {n}")


def scenario_summon_and_errors() -> None:
    """summon_full_params writeback, unused units, and torch's errors."""
    rank, world = dist.get_rank(), dist.get_world_size()
    model = FSDP(make_model(), auto_wrap_policy=ModuleWrapPolicy({Block}))
    ref = make_model()
    with FSDP.summon_full_params(model):
        w = model.module[1].module.fc1.weight
        check_close(w, ref[1].fc1.weight, "summoned weight")
        with ctorch.no_grad():
            w.fill_(0.25)
    with FSDP.summon_full_params(model, writeback=False):
        assert float(model.module[1].module.fc1.weight.sum()) == 0.25 * 32 * 16
        model.module[1].module.fc1.weight.fill_(1.0)
    with FSDP.summon_full_params(model):
        assert float(model.module[1].module.fc1.weight.sum()) == 0.25 * 32 * 16
    # outside the context the full parameters are gone
    assert "weight" not in model.module[1].module.fc1.__dict__
    try:
        with FSDP.summon_full_params(model, writeback=True, rank0_only=True):
            pass
    except NotImplementedError as e:
        assert "rank0_only" in str(e)
    else:
        raise AssertionError("writeback with rank0_only accepted")

    inner = model.module[1]
    for call, msg in (
        (lambda: inner.no_sync().__enter__(), "no_sync()` on inner FSDP"),
        (lambda: inner.clip_grad_norm_(1.0), "root FSDP instance"),
    ):
        try:
            call()
        except RuntimeError as e:
            assert msg in str(e), e
        else:
            raise AssertionError(f"expected an error containing {msg!r}")

    class Skip(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = Block(4)
            self.b = Block(4)

        def forward(self, x):
            return self.a(x)

    ctorch.manual_seed(1)
    skip = FSDP(Skip(), auto_wrap_policy=ModuleWrapPolicy({Block}))
    skip(ctorch.randn(2, 4)).sum().backward()  # b ran in no forward: no grad, no hang
    assert skip.module.a._flat_param.grad is not None
    assert skip.module.b._flat_param.grad is None

    class Partly(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = Block(4)
            self.b = Block(4)

        def forward(self, x):
            self.b(x)  # run, result unused: its unit reduces zeros in the final callback
            return self.a(x)

    ctorch.manual_seed(1)
    part = FSDP(Partly(), auto_wrap_policy=ModuleWrapPolicy({Block}))
    part(ctorch.randn(2, 4)).sum().backward()
    g = part.module.b._flat_param.grad
    assert g is not None and float(g.abs().sum()) == 0.0

    class Peek(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            with FSDP.summon_full_params(peek):
                pass
            return self.fc(x)

    peek = FSDP(Peek())
    try:
        peek(ctorch.randn(1, 2))
    except AssertionError as e:
        assert "during forward/backward" in str(e), e
    else:
        raise AssertionError("summon_full_params inside forward accepted")
    del rank, world


def scenario_mixed_precision() -> None:
    """param_dtype float64 compute (a dtype numpy computes exactly, so the result must equal
    the float64 reference), float32 shards and gradients."""
    rank, world = dist.get_rank(), dist.get_world_size()
    x, y = data(world)
    ref = make_model().double()
    loss = nn.functional.mse_loss(ref(ctorch.tensor(x).double()), ctorch.tensor(y).double())
    loss.backward()
    ref_grads = [p.grad for p in ref.parameters()]
    mp = MixedPrecision(param_dtype=ctorch.float64, reduce_dtype=ctorch.float64)
    model = FSDP(make_model(), mixed_precision=mp)  # one unit
    xs, ys = shard(x, rank, world), shard(y, rank, world)
    out = model(ctorch.tensor(xs))
    assert out.dtype == ctorch.float64
    nn.functional.mse_loss(out, ctorch.tensor(ys).double()).backward()
    (fp,) = list(model.parameters())
    assert fp.dtype == ctorch.float32 and fp.grad.dtype == ctorch.float32
    flat = np.concatenate([g.numpy().reshape(-1) for g in ref_grads])
    n = fp.numel()
    padded = np.zeros(n * world, np.float64)
    padded[: flat.size] = flat
    check_close(fp.grad, padded[rank * n : (rank + 1) * n].astype(np.float32), "mp grad", 1e-6)


def scenario_size_policy() -> None:
    """size_based_auto_wrap_policy: units where torch's policy puts them, training matches."""
    import functools

    rank, world = dist.get_rank(), dist.get_world_size()
    x, y = data(world)
    policy = functools.partial(size_based_auto_wrap_policy, min_num_params=1000)
    ref, _, ref_losses, _ = reference(x, y, 2, None)
    model, _, losses, _ = train_fsdp(ShardingStrategy.FULL_SHARD, policy, 2, None)
    names = [n for n, m in model.named_modules() if isinstance(m, FSDP)]
    # a Block has 1104 parameters (its Linears 544 and 528): each Block is a unit, the
    # outer Linears (144, 51) stay in the root
    assert [n.replace("_fsdp_wrapped_module.", "") for n in names] == ["", "1", "2"], names
    check_close(losses, ref_losses, "size-policy losses")
    del rank, ref


def scenario_orig_params() -> None:
    """use_orig_params=True: the optimizer sees the original parameters (1-D parts of the shard
    under their names, as torch's); training, state_dict and optimizer state as the reference."""
    rank, world = dist.get_rank(), dist.get_world_size()
    x, y = data(world)
    ref, ref_opt, ref_losses, ref_norms = reference(x, y, STEPS, clip=0.5)
    ref_sd = ref.state_dict()
    names = [n for n, _ in ref.named_parameters()]
    ref_osd = ref_opt.state_dict()
    for strategy in (ShardingStrategy.FULL_SHARD, ShardingStrategy.NO_SHARD):
        model, opt, losses, norms = train_fsdp(
            strategy, ModuleWrapPolicy({Block}), STEPS, clip=0.5, use_orig_params=True
        )
        got = dict(model.named_parameters())
        assert sorted(got) == sorted(names), sorted(got)
        if strategy is ShardingStrategy.FULL_SHARD:
            assert all(p.dim() == 1 for p in got.values())
            assert sum(p.numel() for p in got.values()) * world < 2403 + 3 * world
        else:
            assert all(tuple(got[n].shape) == tuple(ref_sd[n].shape) for n in names)
        check_close(losses, ref_losses, f"orig {strategy} losses")
        check_close(norms, ref_norms, f"orig {strategy} clip norms")
        sd = model.state_dict()
        assert list(sd) == list(ref_sd), list(sd)
        for k in sd:
            check_close(sd[k], ref_sd[k], f"orig {strategy} state_dict[{k}]")
        osd = FSDP.full_optim_state_dict(model, opt, rank0_only=False)
        assert sorted(osd["param_groups"][0]["params"]) == sorted(names)
        for i, n in enumerate(names):
            for k in ("exp_avg", "exp_avg_sq"):
                check_close(osd["state"][n][k], ref_osd["state"][i][k], f"orig {strategy} {n}.{k}")
        # back into a fresh optimizer: one more step matches the original optimizer's
        ctorch.manual_seed(9)
        fresh = FSDP(
            make_model(),
            sharding_strategy=strategy,
            auto_wrap_policy=ModuleWrapPolicy({Block}),
            use_orig_params=True,
        )
        fresh.load_state_dict(sd)
        opt2 = ctorch.optim.Adam(fresh.parameters(), lr=1e-2)
        opt2.load_state_dict(FSDP.optim_state_dict_to_load(fresh, opt2, osd))
        xs, ys = shard(x, rank, world), shard(y, rank, world)
        for m, o in ((model, opt), (fresh, opt2)):
            o.zero_grad()
            nn.functional.mse_loss(m(ctorch.tensor(xs)), ctorch.tensor(ys)).backward()
            o.step()
        xt = ctorch.tensor(x)
        check_close(fresh(xt), model(xt), f"orig {strategy} step after optimizer reload", 1e-6)


def scenario_transformer() -> None:
    """An embedding + 2 TransformerEncoderLayers + head, each layer its own unit
    (transformer_auto_wrap_policy): losses and final weights as the unwrapped model's on the
    concatenated batch; sync_module_states makes every rank start from rank 0's weights."""
    import functools

    from ctorch.distributed.fsdp.wrap import transformer_auto_wrap_policy

    rank, world = dist.get_rank(), dist.get_world_size()

    def lm(seed: int) -> nn.Module:
        ctorch.manual_seed(seed)
        layer = functools.partial(
            nn.TransformerEncoderLayer, 16, 2, 32, dropout=0.0, batch_first=True
        )
        return nn.Sequential(nn.Embedding(20, 16), layer(), layer(), nn.Linear(16, 20))

    rng = np.random.default_rng(3)
    tok = rng.integers(0, 20, (4, 5))
    tgt = rng.integers(0, 20, (4, 5))

    def loss_of(model, t, g):
        out = model(ctorch.tensor(t))
        return nn.functional.cross_entropy(out.reshape(-1, 20), ctorch.tensor(g).reshape(-1))

    ref = lm(0)
    # SGD, not Adam: the key bias of attention gets a zero gradient up to rounding, which Adam
    # would blow up to +-lr steps differently in any two summation orders
    ref_opt = ctorch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    ref_losses = []
    for _ in range(3):
        ref_opt.zero_grad()
        loss = loss_of(ref, tok, tgt)
        loss.backward()
        ref_opt.step()
        ref_losses.append(float(loss))
    policy = functools.partial(
        transformer_auto_wrap_policy, transformer_layer_cls={nn.TransformerEncoderLayer}
    )
    # every rank initialises differently; sync_module_states broadcasts rank 0's (seed 0)
    model = FSDP(lm(rank), auto_wrap_policy=policy, sync_module_states=True, device_id=None)
    units = [n for n, m in model.named_modules() if isinstance(m, FSDP)]
    assert [n.replace("_fsdp_wrapped_module.", "") for n in units] == ["", "1", "2"], units
    opt = ctorch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = loss_of(model, shard(tok, rank, world), shard(tgt, rank, world))
        loss.backward()
        opt.step()
        t = loss.detach().clone().reshape(1)
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        losses.append(float(t))
    check_close(losses, ref_losses, "transformer losses")
    sd, ref_sd = model.state_dict(), ref.state_dict()
    assert list(sd) == list(ref_sd)
    for k in sd:
        check_close(sd[k], ref_sd[k], f"transformer state_dict[{k}]", 5e-5)


def scenario_grad_scaler() -> None:
    """ShardedGradScaler: an inf in one rank's shard makes every rank skip the step and halve
    the scale; finite gradients step as without scaling."""
    from ctorch.distributed.fsdp.sharded_grad_scaler import ShardedGradScaler

    rank, world = dist.get_rank(), dist.get_world_size()
    model = FSDP(make_model())
    opt = ctorch.optim.SGD(model.parameters(), lr=0.1)
    scaler = ShardedGradScaler("cpu", init_scale=1024.0)
    x, y = data(world)
    xs, ys = ctorch.tensor(shard(x, rank, world)), ctorch.tensor(shard(y, rank, world))
    before = model.state_dict()
    scaler.scale(nn.functional.mse_loss(model(xs), ys)).backward()
    (fp,) = list(model.parameters())
    if rank == world - 1:
        with ctorch.no_grad():
            fp.grad[0] = float("inf")
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 512.0, scaler.get_scale()
    after = model.state_dict()
    for k in before:
        check_close(after[k], before[k], f"skipped step {k}", 0.0)
    # a finite step equals plain SGD on the same gradients
    ref = make_model()
    ref_opt = ctorch.optim.SGD(ref.parameters(), lr=0.1)
    nn.functional.mse_loss(ref(ctorch.tensor(x)), ctorch.tensor(y)).backward()
    ref_opt.step()
    opt.zero_grad()
    scaler.scale(nn.functional.mse_loss(model(xs), ys)).backward()
    scaler.step(opt)
    scaler.update()
    sd, ref_sd = model.state_dict(), ref.state_dict()
    for k in sd:
        check_close(sd[k], ref_sd[k], f"scaled step {k}")


if __name__ == "__main__":
    run_scenarios(globals())
