"""FSDP2 (fully_shard), DeviceMesh, DTensor and distributed.checkpoint.

The multi-rank checks run in ``_fsdp2_worker.py`` under the subprocess launcher (TCP transport,
no MPI needed), with 1 and 2 ranks; each rank compares fully_shard training with an unsharded
model trained on the concatenated batch. Checkpoints are saved on 1 rank and on 2, then each
world size loads the other's. Here the 2-rank training is also compared with torch (plain
training of the same initial weights on the concatenated batch, which is what torch's FSDP2
computes), and the API surface with torch's.
"""

from __future__ import annotations

import dataclasses
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
from ctorch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor

sys.path.insert(0, str(Path(__file__).parent))  # the workers' shared module
from _worker_common import Block, CkptNet  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCENARIOS = ["mesh", "dtensor", "train", "variants", "ckpt_save"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(n: int, outdir: Path, ckpt: Path, scenarios: list[str]) -> subprocess.CompletedProcess:
    e = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", FSDP2_CKPT=str(ckpt))
    for k in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"):
        e.pop(k, None)
    cmd = [sys.executable, "-m", "ctorch.distributed.run", "--launcher", "subprocess"]
    cmd += ["--nproc-per-node", str(n), "--master-port", str(free_port())]
    cmd += ["_fsdp2_worker.py", str(outdir), *scenarios]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=e, cwd=HERE)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path, int]]:
    subprocess.run(
        [sys.executable, "-c", "import ctorch.distributed.fsdp"],
        capture_output=True,
        timeout=1800,
        cwd=str(ROOT),
    )
    ckpt = tmp_path_factory.mktemp("ckpt")
    out = {}
    # both world sizes save, then each loads the other's checkpoints
    for n in (1, 2):
        d = tmp_path_factory.mktemp(f"fsdp2_{n}")
        out[f"w{n}"] = (launch(n, d, ckpt, SCENARIOS), d, n)
    for n in (2, 1):
        d = tmp_path_factory.mktemp(f"load_{n}")
        out[f"load{n}"] = (launch(n, d, ckpt, ["ckpt_load"]), d, n)
    return out


@pytest.mark.parametrize("run", ["w2", "w1"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_worker_scenario(runs, run: str, scenario: str) -> None:
    proc, _, n = runs[run]
    for rank in range(n):
        assert f"OK {scenario} rank {rank}" in proc.stdout, proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("run", ["load2", "load1"])
def test_checkpoint_loads_on_the_other_world_size(runs, run: str) -> None:
    """Saved on 1 rank, loaded on 2 (and the reverse): FSDP2, plain, FSDP1 and DDP models and
    their Adam state come back; one more step equals the reference's third step."""
    proc, _, n = runs[run]
    for rank in range(n):
        assert f"OK ckpt_load rank {rank}" in proc.stdout, proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _torch_transformer():
    import torch
    import torch.nn.functional as TF

    V, S, D = 23, 7, 16

    class Attention(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wq = torch.nn.Linear(D, D, bias=False)
            self.wk = torch.nn.Linear(D, D, bias=False)
            self.wv = torch.nn.Linear(D, D, bias=False)
            self.wo = torch.nn.Linear(D, D, bias=False)

        def forward(self, x):
            b, s, _ = x.size()
            q, k, v = (w(x).view(b, s, 2, -1).transpose(1, 2) for w in (self.wq, self.wk, self.wv))
            o = TF.scaled_dot_product_attention(q, k, v, None, 0.0, is_causal=True)
            return self.wo(o.transpose(1, 2).contiguous().view(b, s, -1))

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention_norm = torch.nn.LayerNorm(D)
            self.attention = Attention()
            self.ffn_norm = torch.nn.LayerNorm(D)
            self.w1 = torch.nn.Linear(D, 4 * D)
            self.w2 = torch.nn.Linear(4 * D, D)

        def forward(self, x):
            h = x + self.attention(self.attention_norm(x))
            return h + self.w2(TF.gelu(self.w1(self.ffn_norm(h))))

    class Transformer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok_embeddings = torch.nn.Embedding(V, D)
            self.pos_embeddings = torch.nn.Embedding(S, D)
            self.layers = torch.nn.ModuleList([Block(), Block()])
            self.norm = torch.nn.LayerNorm(D)
            self.output = torch.nn.Linear(D, V, bias=False)

        def forward(self, tokens):
            h = self.tok_embeddings(tokens) + self.pos_embeddings(torch.arange(tokens.size(1)))
            for layer in self.layers:
                h = layer(h)
            return self.output(self.norm(h))

    return torch, Transformer


@pytest.mark.parametrize("run", ["w2", "w1"])
def test_fully_shard_training_matches_torch(runs, run: str) -> None:
    """Losses, clipped norms and final weights of per-block + root fully_shard training equal
    torch training the same initial weights on the concatenated batch (Adam, clip 0.5)."""
    proc, d, _ = runs[run]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    z = np.load(d / "train.npz")
    torch, Transformer = _torch_transformer()
    model = Transformer()
    model.load_state_dict({k[5:]: torch.from_numpy(z[k]) for k in z.files if k.startswith("init.")})
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    tok, tgt = torch.from_numpy(z["tok"]), torch.from_numpy(z["tgt"])
    losses, norms = [], []
    for _ in range(len(z["losses"])):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(tok).reshape(-1, 23), tgt.reshape(-1))
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)))
        opt.step()
        losses.append(float(loss.detach()))
    np.testing.assert_allclose(z["losses"], losses, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(z["norms"], norms, rtol=2e-5, atol=2e-6)
    for k, v in model.state_dict().items():
        np.testing.assert_allclose(z[f"final.{k}"], v.numpy(), rtol=1e-4, atol=5e-5, err_msg=k)


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


def test_api_matches_torch() -> None:
    import torch.distributed.checkpoint.state_dict as tsd
    import torch.distributed.fsdp as tf
    import torch.distributed.tensor as tt

    from ctorch.distributed.checkpoint import state_dict as csd

    for name in ("MixedPrecisionPolicy", "CPUOffloadPolicy"):
        ours = [(f.name, f.default) for f in dataclasses.fields(getattr(fsdp, name))]
        theirs = [(f.name, f.default) for f in dataclasses.fields(getattr(tf, name))]
        assert ours == theirs, name
    ours = [(f.name, f.default) for f in dataclasses.fields(csd.StateDictOptions)]
    theirs = [(f.name, f.default) for f in dataclasses.fields(tsd.StateDictOptions)]
    assert ours == theirs
    sig = inspect.signature(fsdp.fully_shard)
    tsig = inspect.signature(tf.fully_shard)
    assert list(sig.parameters) == list(tsig.parameters)
    for p in sig.parameters.values():
        if p.name not in ("module", "mp_policy", "offload_policy"):
            assert p.default == tsig.parameters[p.name].default, p.name
    assert set(tf.__all__) <= set(fsdp.__all__)
    ours = [(f.name, f.default) for f in dataclasses.fields(fsdp.DataParallelMeshDims)]
    theirs = [(f.name, f.default) for f in dataclasses.fields(tf.DataParallelMeshDims)]
    assert ours == theirs
    with pytest.raises(ValueError, match="At least one"):
        fsdp.DataParallelMeshDims()
    for name in (
        "reshard",
        "unshard",
        "set_is_last_backward",
        "set_requires_gradient_sync",
        "set_reshard_after_backward",
        "set_reshard_after_forward",
        "set_modules_to_forward_prefetch",
        "set_modules_to_backward_prefetch",
    ):
        assert list(inspect.signature(getattr(fsdp.FSDPModule, name)).parameters) == list(
            inspect.signature(getattr(tf.FSDPModule, name)).parameters
        ), name
    for name in (
        "get_model_state_dict",
        "set_model_state_dict",
        "get_optimizer_state_dict",
        "set_optimizer_state_dict",
        "get_state_dict",
        "set_state_dict",
    ):
        assert list(inspect.signature(getattr(csd, name)).parameters) == list(
            inspect.signature(getattr(tsd, name)).parameters
        ), name
    for name in ("DTensor", "Shard", "Replicate", "Partial", "distribute_tensor"):
        assert hasattr(tt, name)
    assert repr(Shard(0)) == repr(tt.Shard(0)) and repr(Replicate()) == repr(tt.Replicate())
    assert repr(Partial()) == repr(tt.Partial())
    import ctorch.distributed._composable.fsdp as comp

    assert comp.fully_shard is fsdp.fully_shard


def test_chunk_rule_matches_torch(world1) -> None:
    """Uneven Shard(0) sizes follow torch.chunk (what torch's DTensor uses): computed here for
    a world of 1 through the same helper a world of n uses, against torch.chunk."""
    import torch

    from ctorch.distributed.tensor._api import _chunk

    for size in (0, 1, 2, 5, 7, 23, 64):
        for n in (1, 2, 3, 4, 8):
            ours = [(lambda se: se[1] - se[0])(_chunk(size, n, i)) for i in range(n)]
            theirs = [c.shape[0] for c in torch.arange(size).chunk(n)] if size else []
            theirs += [0] * (n - len(theirs))
            assert ours == theirs, (size, n)


def test_single_process_fully_shard(world1) -> None:
    """World size 1: fully_shard gives the plain model's outputs, DTensor gradients equal to
    its gradients, and the class/parameter surface torch's FSDP2 has."""

    def build():
        ctorch.manual_seed(0)
        return nn.Sequential(Block(), Block(), nn.Linear(4, 2))

    ref, model = build(), build()
    for b in (model[0], model[1]):
        fsdp.fully_shard(b)
    fsdp.fully_shard(model)
    assert type(model).__name__ == "FSDPSequential" and type(model[0]).__name__ == "FSDPBlock"
    assert isinstance(model, nn.Sequential) and isinstance(model, fsdp.FSDPModule)
    assert all(isinstance(p, DTensor) for p in model.parameters())
    with pytest.raises(RuntimeError, match="already had fully_shard"):
        fsdp.fully_shard(model)
    x = ctorch.randn(3, 4)
    o1, o2 = ref(x), model(x)
    np.testing.assert_allclose(o1.detach().numpy(), o2.detach().numpy(), rtol=1e-6)
    o1.square().sum().backward()
    o2.square().sum().backward()
    for (_, a), b in zip(ref.named_parameters(), model.parameters(), strict=True):
        assert isinstance(b.grad, DTensor)
        np.testing.assert_allclose(b.grad.full_tensor().numpy(), a.grad.numpy(), rtol=1e-6)
    # unshard/reshard by hand
    model.unshard()
    assert not isinstance(model[2].weight, DTensor) and model[2].weight.shape == (2, 4)
    model.reshard()
    assert isinstance(model[2].weight, DTensor)
    # a forward without grad: the root keeps its parameters unsharded, state_dict is sharded
    with ctorch.no_grad():
        model(x)
    assert all(isinstance(v, DTensor) for v in model.state_dict().values())


def test_fully_shard_errors(world1) -> None:
    with pytest.raises(NotImplementedError, match="reshard_after_forward"):
        fsdp.fully_shard(nn.Linear(2, 2), reshard_after_forward=2)
    with pytest.raises(NotImplementedError, match="shard_placement_fn"):
        fsdp.fully_shard(nn.Linear(2, 2), shard_placement_fn=lambda p: Shard(1))
    with pytest.raises(ValueError, match="DeviceMesh"):
        fsdp.fully_shard(nn.Linear(2, 2), mesh="cpu")
    with pytest.raises(NotImplementedError, match="dp_mesh_dims"):
        fsdp.fully_shard(nn.Linear(2, 2), dp_mesh_dims=fsdp.DataParallelMeshDims(shard="dp"))
    with pytest.raises(NotImplementedError, match="one module per call"):
        fsdp.fully_shard([nn.Linear(2, 2)])
    with pytest.raises(NotImplementedError, match="0-dimensional"):
        fsdp.fully_shard(_scalar())


def _scalar() -> nn.Module:
    m = nn.Module()
    m.s = nn.Parameter(ctorch.tensor(1.0))
    return m


def test_needs_a_process_group() -> None:
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="init_process_group"):
        fsdp.fully_shard(nn.Linear(2, 2))
    from ctorch.distributed.device_mesh import DeviceMesh

    with pytest.raises(RuntimeError, match="default process group"):
        DeviceMesh("cpu", [0])


def test_dtensor_single_rank(world1) -> None:
    from ctorch.distributed.device_mesh import init_device_mesh

    mesh = init_device_mesh("cpu", (1,), mesh_dim_names=("dp",))
    assert repr(mesh) == "DeviceMesh((dp=1), 'cpu', stride=((),))"  # torch 2.13's form
    assert repr(init_device_mesh("cpu", (1, 1))) == "DeviceMesh((1, 1), 'cpu', stride=((), ()))"
    x = ctorch.randn(3, 5)
    d = distribute_tensor(x, mesh, [Shard(1)])
    assert repr(d).startswith("DTensor(local_tensor=")
    assert d.shape == (3, 5) and d.placements == (Shard(dim=1),)
    np.testing.assert_array_equal(d.full_tensor().numpy(), x.numpy())
    with pytest.raises(TypeError, match="distribute_tensor"):
        DTensor(x)
    with pytest.raises(ValueError, match="device_mesh.ndim"):
        distribute_tensor(x, mesh, [Shard(0), Shard(1)])
    with pytest.raises(RuntimeError, match="cannot be pickled"):
        import pickle

        pickle.dumps(d)
    p = nn.Parameter(d)
    assert isinstance(p, DTensor) and isinstance(p, nn.Parameter)
    assert repr(p).startswith("Parameter containing:\nDTensor(")


@pytest.mark.parametrize("reentrant", [False, True])
def test_activation_checkpointing_and_frozen(world1, reentrant: bool) -> None:
    """Checkpointed fully_shard blocks rerun their forward in backward (a second all-gather,
    as torch's): gradients equal the plain model's; a frozen parameter in a group gets none and
    SGD leaves it alone."""

    def build():
        ctorch.manual_seed(0)
        net = CkptNet(reentrant)
        net.blocks[0].fc1.weight.requires_grad_(False)
        return net

    ref, net = build(), build()
    for b in net.blocks:
        fsdp.fully_shard(b)
    fsdp.fully_shard(net)
    x = ctorch.randn(3, 4, requires_grad=True)
    ref(x, ckpt=False).sum().backward()
    net(x).sum().backward()
    for (n, a), b in zip(ref.named_parameters(), net.parameters(), strict=True):
        if n == "blocks.0.fc1.weight":
            assert b.grad is None and not b.requires_grad
            continue
        np.testing.assert_allclose(
            b.grad.full_tensor().numpy(), a.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=n
        )
    assert all(isinstance(p, DTensor) for p in net.parameters())
    before = net.blocks[0].fc1.weight.full_tensor().numpy().copy()
    ctorch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.1).step()
    np.testing.assert_array_equal(net.blocks[0].fc1.weight.full_tensor().numpy(), before)


def test_register_fsdp_forward_method_and_share_comm_ctx(world1) -> None:
    """A method other than forward runs with the all-gather around it (torch's helper)."""

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(x)

        def generate(self, x):
            return self.fc(x) * 2

    ctorch.manual_seed(0)
    ref = Net()
    ctorch.manual_seed(0)
    net = Net()
    fsdp.fully_shard(net)
    fsdp.register_fsdp_forward_method(net, "generate")
    x = ctorch.randn(4, 3)
    np.testing.assert_allclose(net.generate(x).detach().numpy(), ref.generate(x).detach().numpy())
    fsdp.share_comm_ctx([net])
    with pytest.raises(ValueError, match="FSDPModule"):
        fsdp.share_comm_ctx([nn.Linear(2, 2)])


def test_dcp_stateful_app_state(world1, tmp_path: Path) -> None:
    """torch's DCP recipe: an AppState (Stateful) wrapping get_state_dict/set_state_dict, and a
    module passed directly, saved and loaded back into fresh objects."""
    import ctorch.distributed.checkpoint as dcp
    from ctorch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
    from ctorch.distributed.checkpoint.stateful import Stateful

    class AppState(Stateful):
        def __init__(self, model, optimizer) -> None:
            self.model, self.optimizer = model, optimizer

        def state_dict(self):
            m, o = get_state_dict(self.model, self.optimizer)
            return {"model": m, "optim": o}

        def load_state_dict(self, state_dict) -> None:
            set_state_dict(
                self.model,
                self.optimizer,
                model_state_dict=state_dict["model"],
                optim_state_dict=state_dict["optim"],
            )

    def build(seed: int):
        ctorch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
        fsdp.fully_shard(model)
        return model, ctorch.optim.Adam(model.parameters(), lr=0.1)

    model, opt = build(0)
    model(ctorch.randn(4, 3)).square().mean().backward()
    opt.step()
    assert isinstance(AppState(model, opt), Stateful)
    dcp.save({"app": AppState(model, opt)}, checkpoint_id=tmp_path / "app")
    dcp.save({"model": model, "step": 7}, checkpoint_id=tmp_path / "mod")
    model2, opt2 = build(1)
    dcp.load({"app": AppState(model2, opt2)}, checkpoint_id=tmp_path / "app")
    for (k, a), b in zip(model.state_dict().items(), model2.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a.full_tensor().numpy(), b.full_tensor().numpy(), k)
    s1, s2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    for i in s1:
        for key in ("exp_avg", "exp_avg_sq", "step"):
            np.testing.assert_array_equal(s1[i][key].numpy(), s2[i][key].numpy())
    model3, _ = build(2)
    sd = {"model": model3, "step": 0}
    dcp.load(sd, checkpoint_id=tmp_path / "mod")
    assert sd["step"] == 7 and sd["model"] is model3
    x = ctorch.randn(2, 3)
    np.testing.assert_array_equal(model3(x).detach().numpy(), model(x).detach().numpy())
