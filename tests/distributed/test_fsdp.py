"""ctorch.distributed.fsdp: FullyShardedDataParallel (torch's FSDP1 API).

The multi-rank checks run in ``_fsdp_worker.py`` under the subprocess launcher (TCP transport,
no MPI needed), with 2 ranks and with 1; each rank compares FSDP with an unwrapped model trained
on the concatenated batch. Here the 2-rank run is also compared with torch (plain training of the
same initial weights on the concatenated batch, which is what torch's DDP/FSDP compute), and the
wrap policies with torch's own wrapping code.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ctorch
import ctorch.distributed as dist
from ctorch import nn
from ctorch.distributed import fsdp
from ctorch.distributed.fsdp import FullyShardedDataParallel as FSDP
from ctorch.distributed.fsdp import wrap as cwrap

sys.path.insert(0, str(Path(__file__).parent))  # the workers' shared module
from _worker_common import Block, CkptNet  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCENARIOS = [
    "train",
    "state_dict",
    "no_sync",
    "summon_and_errors",
    "mixed_precision",
    "size_policy",
    "orig_params",
    "transformer",
    "grad_scaler",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(n: int, outdir: Path) -> subprocess.CompletedProcess:
    e = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    for k in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"):
        e.pop(k, None)
    cmd = [sys.executable, "-m", "ctorch.distributed.run", "--launcher", "subprocess"]
    cmd += ["--nproc-per-node", str(n), "--master-port", str(free_port())]
    cmd += ["_fsdp_worker.py", str(outdir), *SCENARIOS]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=e, cwd=HERE)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[int, tuple[subprocess.CompletedProcess, Path]]:
    subprocess.run(
        [sys.executable, "-c", "import ctorch.distributed.fsdp"],
        capture_output=True,
        timeout=1800,
        cwd=str(ROOT),
    )
    out = {}
    for n in (2, 1):
        d = tmp_path_factory.mktemp(f"fsdp{n}")
        out[n] = (launch(n, d), d)
    return out


@pytest.mark.parametrize("n", [2, 1])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_worker_scenario(runs, n: int, scenario: str) -> None:
    proc, _ = runs[n]
    for rank in range(n):
        assert f"OK {scenario} rank {rank}" in proc.stdout, proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _torch_blocks():
    import torch

    class Block(torch.nn.Module):
        def __init__(self, d: int) -> None:
            super().__init__()
            self.norm = torch.nn.LayerNorm(d)
            self.fc1 = torch.nn.Linear(d, 2 * d)
            self.fc2 = torch.nn.Linear(2 * d, d)

        def forward(self, x):
            return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.norm(x))))

    return torch, Block


@pytest.mark.parametrize("n", [2, 1])
def test_two_rank_training_matches_torch(runs, n: int) -> None:
    """Losses, clipped norms and final weights of the FULL_SHARD run equal torch training the
    same initial weights on the concatenated batch (Adam, clip_grad_norm_ 0.5)."""
    proc, d = runs[n]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    z = np.load(d / "train.npz")
    torch, Block = _torch_blocks()
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 16), Block(16), Block(16), torch.nn.Linear(16, 3)
    )
    init = {k[5:]: torch.from_numpy(z[k]) for k in z.files if k.startswith("init.")}
    model.load_state_dict(init)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = torch.from_numpy(z["x"]), torch.from_numpy(z["y"])
    losses, norms = [], []
    for _ in range(len(z["losses"])):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)))
        opt.step()
        losses.append(float(loss.detach()))
    np.testing.assert_allclose(z["losses"], losses, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(z["norms"], norms, rtol=2e-5, atol=2e-6)
    for k, v in model.state_dict().items():
        np.testing.assert_allclose(z[f"final.{k}"], v.numpy(), rtol=1e-4, atol=2e-5, err_msg=k)


TORCH_SCRIPT = """
import functools, os
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.distributed.fsdp import (
    FullyShardedDataParallel as FSDP, ShardingStrategy, BackwardPrefetch, CPUOffload,
    StateDictType, FullStateDictConfig,
)
from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy

dist.init_process_group("gloo")
rank = dist.get_rank()
torch.manual_seed(0)
layer = functools.partial(nn.TransformerEncoderLayer, 16, 2, 32, dropout=0.0, batch_first=True)
model = nn.Sequential(nn.Embedding(32, 16), layer(), layer(), nn.Linear(16, 32))
policy = functools.partial(
    transformer_auto_wrap_policy, transformer_layer_cls={nn.TransformerEncoderLayer}
)
model = FSDP(model, auto_wrap_policy=policy, sharding_strategy=ShardingStrategy.FULL_SHARD,
             backward_prefetch=BackwardPrefetch.BACKWARD_PRE, cpu_offload=CPUOffload(),
             device_id=torch.device("cpu"), sync_module_states=True, use_orig_params=True)
opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
g = torch.Generator().manual_seed(rank)
for step in range(3):
    tok = torch.randint(0, 32, (4, 6), generator=g)
    loss = nn.functional.cross_entropy(model(tok).reshape(-1, 32), tok.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    model.clip_grad_norm_(1.0)
    opt.step()
cfg = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, cfg):
    sd = model.state_dict()
os.write(1, f"RANK {rank} KEYS {','.join(sd)}\\n".encode())
dist.destroy_process_group()
"""


def test_torch_fsdp_script_runs_unchanged(tmp_path: Path) -> None:
    """A torchrun-style torch FSDP script (import torch, torch.distributed.fsdp) under ctorch's
    launcher: trains on 2 ranks, rank 0 gets the full state_dict, rank 1 an empty one."""
    (tmp_path / "train.py").write_text(TORCH_SCRIPT)
    e = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "ctorch.distributed.run", "--launcher", "subprocess"]
    cmd += ["--nproc-per-node", "2", "--master-port", str(free_port()), str(tmp_path / "train.py")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=e, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    layer = functools.partial(nn.TransformerEncoderLayer, 16, 2, 32, dropout=0.0)
    want = list(
        nn.Sequential(nn.Embedding(32, 16), layer(), layer(), nn.Linear(16, 32)).state_dict()
    )
    lines = sorted(x for x in proc.stdout.splitlines() if x.startswith("RANK"))
    assert lines == [f"RANK 0 KEYS {','.join(want)}", "RANK 1 KEYS "], proc.stdout


# ---------------------------------------------------------------- single process, in-process


@pytest.fixture
def world1():
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1
    )
    try:
        yield
    finally:
        dist.destroy_process_group()


def _pair_models():
    """The same module tree in ctorch and torch (a small transformer-ish model)."""
    torch, TBlock = _torch_blocks()

    class CBlock(nn.Module):
        def __init__(self, d: int) -> None:
            super().__init__()
            self.norm = nn.LayerNorm(d)
            self.fc1 = nn.Linear(d, 2 * d)
            self.fc2 = nn.Linear(2 * d, d)

    class CModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(50, 16)
            self.layers = nn.ModuleList([CBlock(16) for _ in range(3)])
            self.attn = nn.MultiheadAttention(16, 2)
            self.head = nn.Linear(16, 50)

    class TModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding(50, 16)
            self.layers = torch.nn.ModuleList([TBlock(16) for _ in range(3)])
            self.attn = torch.nn.MultiheadAttention(16, 2)
            self.head = torch.nn.Linear(16, 50)

    return torch, CModel, CBlock, TModel, TBlock


def _torch_wrapped_names(torch, tmodel, policy) -> list[str]:
    """Which submodules torch's FSDP wrapping code picks (run with a marker wrapper class, so no
    process group is needed)."""
    from torch.distributed.fsdp import wrap as twrap

    class Marker(torch.nn.Module):
        def __init__(self, module, **kwargs) -> None:
            super().__init__()
            self.module = module

    if isinstance(policy, twrap._Policy):
        targets = policy._run_policy(tmodel, set(), {})
        return sorted(n for n, m in tmodel.named_modules() if m in targets and n)
    twrap._recursive_wrap(tmodel, policy, Marker, set(), set(), only_wrap_children=True)
    return sorted(
        n.replace(".module", "") for n, m in tmodel.named_modules() if isinstance(m, Marker)
    )


@pytest.mark.parametrize(
    "which", ["transformer", "module_wrap", "size_300", "size_1000", "size_1", "lambda"]
)
def test_wrap_policies_pick_torchs_modules(world1, which: str) -> None:
    torch, CModel, CBlock, TModel, TBlock = _pair_models()
    from torch.distributed.fsdp import wrap as twrap

    if which == "transformer":
        cp = functools.partial(cwrap.transformer_auto_wrap_policy, transformer_layer_cls={CBlock})
        tp = functools.partial(twrap.transformer_auto_wrap_policy, transformer_layer_cls={TBlock})
    elif which == "module_wrap":
        cp = cwrap.ModuleWrapPolicy({CBlock, nn.Embedding})
        tp = twrap.ModuleWrapPolicy({TBlock, torch.nn.Embedding})
    elif which == "lambda":
        cp = functools.partial(
            cwrap.lambda_auto_wrap_policy, lambda_fn=lambda m: isinstance(m, nn.Linear)
        )
        tp = functools.partial(
            twrap.lambda_auto_wrap_policy, lambda_fn=lambda m: isinstance(m, torch.nn.Linear)
        )
    else:
        k = int(which.split("_")[1])
        cp = functools.partial(cwrap.size_based_auto_wrap_policy, min_num_params=k)
        tp = functools.partial(twrap.size_based_auto_wrap_policy, min_num_params=k)
    model = FSDP(CModel(), auto_wrap_policy=cp)
    got = sorted(
        n.replace("_fsdp_wrapped_module.", "").replace("._fsdp_wrapped_module", "")
        for n, m in model.named_modules()
        if isinstance(m, FSDP) and n
    )
    want = _torch_wrapped_names(torch, TModel(), tp)
    assert got == want
    assert got, "the policy wrapped nothing: not a useful check"
    # every parameter is in exactly one unit
    total = sum(p.numel() for p in CModel().parameters())
    assert sum(p.numel() for p in model.parameters()) == total


def test_enable_wrap_and_wrap(world1) -> None:
    lin = nn.Linear(3, 3)
    assert cwrap.wrap(lin) is lin  # outside enable_wrap: unchanged
    with cwrap.enable_wrap(wrapper_cls=FSDP, sharding_strategy=fsdp.ShardingStrategy.NO_SHARD):
        w = cwrap.wrap(nn.Linear(3, 3))
        w2 = cwrap.wrap(nn.Linear(3, 3), sharding_strategy=fsdp.ShardingStrategy.SHARD_GRAD_OP)
    assert isinstance(w, FSDP) and w.sharding_strategy is fsdp.ShardingStrategy.NO_SHARD
    assert w2.sharding_strategy is fsdp.ShardingStrategy.SHARD_GRAD_OP
    model = FSDP(nn.Sequential(w, nn.ReLU(), w2))
    out = model(ctorch.randn(2, 3))
    out.sum().backward()
    assert [n for n, _ in model.named_parameters()] == ["0._flat_param", "2._flat_param"]
    assert all(p.grad is not None for p in model.parameters())


def test_single_process_equals_unwrapped(world1) -> None:
    """World size 1: forward, gradients (through the flat parameter) and an SGD step equal the
    plain module's; NO_SHARD keeps the module's attributes as views of the flat parameter."""
    for strategy in fsdp.ShardingStrategy:
        ctorch.manual_seed(3)
        ref = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
        ctorch.manual_seed(3)
        model = FSDP(
            nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)), sharding_strategy=strategy
        )
        x = ctorch.randn(3, 4)
        o1, o2 = ref(x), model(x)
        np.testing.assert_allclose(o1.detach().numpy(), o2.detach().numpy(), rtol=1e-6)
        o1.square().sum().backward()
        o2.square().sum().backward()
        (fp,) = list(model.parameters())
        want = np.concatenate([p.grad.numpy().ravel() for p in ref.parameters()])
        np.testing.assert_allclose(fp.grad.numpy(), want, rtol=1e-6, atol=1e-7)
        if strategy is fsdp.ShardingStrategy.NO_SHARD:
            assert model.module[0].weight.shape == (5, 4)
        else:
            with pytest.raises(AttributeError):
                model.module[0].weight  # noqa: B018 - freed outside forward
        # __getattr__ reaches the wrapped module, __getitem__ too
        assert model[1] is model.module[1]


def test_api_matches_torch() -> None:
    import torch.distributed.fsdp as tf

    for name in ("ShardingStrategy", "BackwardPrefetch", "StateDictType", "OptimStateKeyType"):
        assert [e.name for e in getattr(fsdp, name)] == [e.name for e in getattr(tf, name)]
    for name in (
        "MixedPrecision",
        "CPUOffload",
        "FullStateDictConfig",
        "ShardedStateDictConfig",
        "FullOptimStateDictConfig",
        "LocalStateDictConfig",
    ):
        ours = [(f.name, f.default) for f in dataclasses.fields(getattr(fsdp, name))]
        theirs = [(f.name, f.default) for f in dataclasses.fields(getattr(tf, name))]
        if name == "MixedPrecision":  # torch's default is (_BatchNorm,): a torch class
            ours, theirs = ours[:-1], theirs[:-1]
        assert ours == theirs, name
    sig = inspect.signature(FSDP.__init__)
    tsig = inspect.signature(tf.FullyShardedDataParallel.__init__)
    assert list(sig.parameters) == list(tsig.parameters)
    for p in sig.parameters.values():
        if p.name not in ("self", "module"):
            tdef = tsig.parameters[p.name].default
            assert (p.default is None) == (tdef is None), p.name
    assert fsdp.FSDP is FSDP
    for name in (
        "summon_full_params",
        "state_dict_type",
        "full_optim_state_dict",
        "optim_state_dict",
        "optim_state_dict_to_load",
        "clip_grad_norm_",
        "no_sync",
    ):
        assert (
            list(inspect.signature(getattr(FSDP, name)).parameters)[:3]
            == list(inspect.signature(getattr(tf.FullyShardedDataParallel, name)).parameters)[:3]
        ), name


def test_errors(world1) -> None:
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2).double())
    with pytest.raises(ValueError, match="uniform dtype"):
        FSDP(m)
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    m[0].weight.requires_grad_(False)
    with pytest.raises(ValueError, match="uniform `requires_grad`"):
        FSDP(m)
    model = FSDP(nn.Linear(2, 2))
    with FSDP.state_dict_type(model, fsdp.StateDictType.SHARDED_STATE_DICT):
        with pytest.raises(NotImplementedError, match="SHARDED_STATE_DICT"):
            model.state_dict()
    with pytest.raises(RuntimeError, match="Expected state_dict_config"):
        FSDP.set_state_dict_type(
            model, fsdp.StateDictType.FULL_STATE_DICT, fsdp.ShardedStateDictConfig()
        )
    # ignored modules keep their own parameters, unsharded
    m = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 2))
    model = FSDP(m, ignored_modules=[m[1]])
    assert [n for n, _ in model.named_parameters()] == ["_flat_param", "1.weight", "1.bias"]
    assert model.state_dict()["0.weight"].shape == (3, 2)


def test_use_orig_params_allows_frozen_parameters(world1) -> None:
    """With use_orig_params=True a unit may mix frozen and trainable parameters (torch's rule);
    the frozen one gets no gradient and SGD leaves it alone."""
    ctorch.manual_seed(0)
    ref = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    ref[0].weight.requires_grad_(False)
    ctorch.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    m[0].weight.requires_grad_(False)
    model = FSDP(m, use_orig_params=True)
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias"]
    opts = [
        ctorch.optim.SGD([p for p in mm.parameters() if p.requires_grad], lr=0.1)
        for mm in (ref, model)
    ]
    x = ctorch.randn(5, 3)
    for _ in range(2):
        for mm, o in zip((ref, model), opts, strict=True):
            o.zero_grad()
            mm(x).square().mean().backward()
            o.step()
    assert dict(model.named_parameters())["0.weight"].grad is None
    sd = model.state_dict()
    for k, v in ref.state_dict().items():
        np.testing.assert_allclose(sd[k].numpy(), v.numpy(), rtol=1e-6, atol=1e-7, err_msg=k)


@pytest.mark.parametrize("around", [False, True], ids=["inside", "around"])
@pytest.mark.parametrize("reentrant", [False, True])
def test_activation_checkpointing(world1, reentrant: bool, around: bool) -> None:
    """Checkpointed blocks rerun their forward in backward, inside a unit or around one: the
    unit's full parameters are still there (the same buffer, reduced once), and the gradients
    equal the plain model's."""
    from ctorch.utils.checkpoint import checkpoint

    class Inner(nn.Module):
        def __init__(self, block) -> None:
            super().__init__()
            self.block = block

        def forward(self, x):
            return checkpoint(self.block, x, use_reentrant=reentrant)

    ctorch.manual_seed(0)
    ref = CkptNet(reentrant)
    ctorch.manual_seed(0)
    net = CkptNet(reentrant)
    if not around:  # checkpoint inside the unit (as apply_activation_checkpointing does)
        net.blocks = nn.ModuleList([Inner(b) for b in net.blocks])
    model = FSDP(net, auto_wrap_policy=cwrap.ModuleWrapPolicy({Block} if around else {Inner}))
    x = ctorch.randn(3, 4, requires_grad=True)
    ref(x, ckpt=False).sum().backward()
    for _ in range(2):  # the second backward accumulates
        model(x, ckpt=around).sum().backward()
    got = {}
    with FSDP.summon_full_params(model, with_grads=True, writeback=False):
        for name, mod in model.named_modules():
            for attr in ("weight", "bias"):
                v = mod.__dict__.get(attr)
                if v is not None:
                    key = name.replace("_fsdp_wrapped_module.", "") + "." + attr
                    got[key.replace(".block.", ".")] = v.grad
    for n, p in ref.named_parameters():
        np.testing.assert_allclose(got[n].numpy(), 2 * p.grad.numpy(), rtol=1e-5, atol=1e-6)
    # after backward the full parameters are gone again
    unit = model.module.blocks[0].module
    assert "weight" not in (unit if around else unit.block).fc1.__dict__


def test_needs_a_process_group() -> None:
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="init_process_group"):
        FSDP(nn.Linear(2, 2))
