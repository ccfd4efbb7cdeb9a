"""An FSDP2 training script in the style of pytorch/examples' ``distributed/FSDP2`` (its
example.py + model.py + checkpoint.py in one file), for ``torchrun --nproc-per-node 2``, CPU
and gloo: a small transformer built on the meta device, ``fully_shard`` per block and then on
the root, Adam, ``clip_grad_norm_`` over the DTensor gradients, and a checkpointer that saves
full state dicts on rank 0 and loads them back either through
``torch.distributed.checkpoint.state_dict`` (``--dcp-api``) or by hand with
``distribute_tensor`` and ``load_state_dict(assign=True)``. Run it twice: the second run
resumes from the first run's checkpoint.

The weights and the token batches come from NumPy (the two libraries' random streams differ),
so ctorch and torch print the same numbers.
"""

import argparse
import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    _init_optim_state,
    get_model_state_dict,
    get_optimizer_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
)
from torch.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard
from torch.distributed.tensor import DTensor, Shard, distribute_tensor


@dataclass
class ModelArgs:
    n_layers: int = 2
    vocab_size: int = 37
    max_seq_len: int = 12
    dim: int = 16
    n_heads: int = 4
    dropout_p: float = 0.0


class Attention(nn.Module):
    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.n_heads = args.n_heads
        self.wq = nn.Linear(args.dim, args.dim, bias=False)
        self.wk = nn.Linear(args.dim, args.dim, bias=False)
        self.wv = nn.Linear(args.dim, args.dim, bias=False)
        self.wo = nn.Linear(args.dim, args.dim, bias=False)
        self.resid_dropout = nn.Dropout(args.dropout_p)

    def forward(self, x):
        bsz, seq_len, _ = x.size()
        heads = [
            w(x).view(bsz, seq_len, self.n_heads, -1).transpose(1, 2)
            for w in (self.wq, self.wk, self.wv)
        ]
        out = F.scaled_dot_product_attention(*heads, None, 0.0, is_causal=True)
        out = out.transpose(1, 2).contiguous().view(bsz, seq_len, -1)
        return self.resid_dropout(self.wo(out))


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden_dim: int, dropout_p: float) -> None:
        super().__init__()
        self.w1 = nn.Linear(dim, hidden_dim)
        self.gelu = nn.GELU()
        self.w2 = nn.Linear(hidden_dim, dim)
        self.resid_dropout = nn.Dropout(dropout_p)

    def forward(self, x):
        return self.resid_dropout(self.w2(self.gelu(self.w1(x))))


class TransformerBlock(nn.Module):
    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.attention_norm = nn.LayerNorm(args.dim)
        self.attention = Attention(args)
        self.ffn_norm = nn.LayerNorm(args.dim)
        self.feed_forward = FeedForward(args.dim, 4 * args.dim, args.dropout_p)

    def forward(self, x):
        h = x + self.attention(self.attention_norm(x))
        return h + self.feed_forward(self.ffn_norm(h))


class Transformer(nn.Module):
    def __init__(self, args: ModelArgs) -> None:
        super().__init__()
        self.tok_embeddings = nn.Embedding(args.vocab_size, args.dim)
        self.pos_embeddings = nn.Embedding(args.max_seq_len, args.dim)
        self.dropout = nn.Dropout(args.dropout_p)
        self.layers = nn.ModuleList(TransformerBlock(args) for _ in range(args.n_layers))
        self.norm = nn.LayerNorm(args.dim)
        self.output = nn.Linear(args.dim, args.vocab_size, bias=False)

    def forward(self, tokens):
        _, seq_len = tokens.size()
        h = self.tok_embeddings(tokens)
        h = self.dropout(h + self.pos_embeddings(torch.arange(seq_len, device=tokens.device)))
        for layer in self.layers:
            h = layer(h)
        return self.output(self.norm(h)).float()


def numpy_init(model: nn.Module) -> dict:
    """Rank 0's full initial state dict, from NumPy."""
    rng = np.random.default_rng(0)
    out = {}
    for name, t in model.state_dict().items():
        if name.endswith("norm.weight"):
            a = np.ones(tuple(t.shape), np.float32)
        else:
            a = (rng.standard_normal(tuple(t.shape)) * 0.2).astype(np.float32)
        out[name] = torch.from_numpy(a)
    return out


class Checkpointer:
    def __init__(self, folder: str, dcp_api: bool) -> None:
        self.folder = os.path.join(folder, "dcp_api" if dcp_api else "dtensor_api")
        self.dcp_api = dcp_api
        runs = [int(n) for n in os.listdir(self.folder)] if os.path.isdir(self.folder) else []
        self.last = max(runs) if runs else None

    def _path(self, run: int, what: str) -> str:
        return os.path.join(self.folder, str(run), f"{what}_state_dict.pt")

    def load_model(self, model: FSDPModule) -> None:
        full_sd = torch.load(
            self._path(self.last, "model"), mmap=True, weights_only=True, map_location="cpu"
        )
        if self.dcp_api:
            set_model_state_dict(
                model=model,
                model_state_dict=full_sd,
                options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True),
            )
            return
        meta = model.state_dict()
        sharded = {
            name: nn.Parameter(distribute_tensor(t, meta[name].device_mesh, meta[name].placements))
            for name, t in full_sd.items()
        }
        model.load_state_dict(sharded, strict=False, assign=True)

    def load_optim(self, model: FSDPModule, opt: torch.optim.Optimizer) -> None:
        full_sd = torch.load(
            self._path(self.last, "optim"), mmap=True, weights_only=True, map_location="cpu"
        )
        if self.dcp_api:
            set_optimizer_state_dict(
                model=model,
                optimizers=opt,
                optim_state_dict=full_sd,
                options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True),
            )
            return
        _init_optim_state(opt)
        sd = opt.state_dict()
        for group, full_group in zip(sd["param_groups"], full_sd["param_groups"], strict=True):
            group.update({k: v for k, v in full_group.items() if k != "params"})
            for pid, full_pid in zip(group["params"], full_group["params"], strict=True):
                for attr, full in full_sd["state"][full_pid].items():
                    cur = sd["state"][pid][attr]
                    if isinstance(cur, DTensor):
                        sd["state"][pid][attr] = distribute_tensor(
                            full, cur.device_mesh, cur.placements
                        )
                    else:
                        sd["state"][pid][attr] = full
        opt.load_state_dict(sd)

    def save(self, model: FSDPModule, opt: torch.optim.Optimizer) -> None:
        rank0 = dist.get_rank() == 0
        if self.dcp_api:
            opts = StateDictOptions(full_state_dict=True, cpu_offload=True)
            model_sd = get_model_state_dict(model=model, options=opts)
            optim_sd = get_optimizer_state_dict(model=model, optimizers=opt, options=opts)
        else:
            model_sd = {k: v.full_tensor() for k, v in model.state_dict().items()}
            osd = opt.state_dict()
            state = {
                pid: {k: v.full_tensor() if isinstance(v, DTensor) else v for k, v in st.items()}
                for pid, st in osd["state"].items()
            }
            optim_sd = {"param_groups": osd["param_groups"], "state": state}
        if rank0:
            run = 0 if self.last is None else self.last + 1
            os.makedirs(os.path.join(self.folder, str(run)), exist_ok=True)
            torch.save(model_sd, self._path(run, "model"))
            torch.save(optim_sd, self._path(run, "optim"))
        dist.barrier()


def main(args) -> None:
    dist.init_process_group(backend=dist.get_default_backend_for_device(torch.device("cpu")))
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    margs = ModelArgs()
    with torch.device("meta"):
        model = Transformer(margs)
    fsdp_kwargs = {}
    if args.mixed_precision:
        fsdp_kwargs["mp_policy"] = MixedPrecisionPolicy(
            param_dtype=torch.bfloat16, reduce_dtype=torch.float32
        )
    for layer in model.layers:
        fully_shard(layer, **fsdp_kwargs)
    fully_shard(model, **fsdp_kwargs)
    w = model.layers[0].feed_forward.w1.weight
    if rank == 0:
        print(
            f"model {type(model).__name__} fsdp {isinstance(model, FSDPModule)} "
            f"layer {type(model.layers[0]).__name__} dtensor {isinstance(w, DTensor)} "
            f"shard0 {w.placements == (Shard(0),)} shape {tuple(w.shape)}",
            flush=True,
        )
    print(f"rank {rank} local {tuple(w.to_local().shape)}", flush=True)

    ckpt = Checkpointer(args.folder, dcp_api=args.dcp_api)
    resumed = ckpt.last is not None
    if not resumed:
        model.to_empty(device="cpu")
        set_model_state_dict(
            model,
            numpy_init(model) if rank == 0 else {},
            options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True),
        )
    else:
        ckpt.load_model(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    if resumed:
        ckpt.load_optim(model, opt)
    for step in range(4):
        if args.explicit_prefetching:
            model.unshard()
        rng = np.random.default_rng([rank, step, int(resumed)])
        x = torch.from_numpy(rng.integers(0, margs.vocab_size, (2, margs.max_seq_len)))
        loss = F.cross_entropy(model(x).reshape(-1, margs.vocab_size), x.roll(-1, 1).reshape(-1))
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        opt.zero_grad()
        total = loss.detach().clone()
        dist.all_reduce(total)
        norm = norm.full_tensor() if isinstance(norm, DTensor) else norm
        if rank == 0:
            print(f"step {step} loss {float(total) / world:.6f} norm {float(norm):.6f}", flush=True)
    ckpt.save(model, opt)
    dist.destroy_process_group()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="FSDP2 example (CPU)")
    parser.add_argument("--explicit-prefetching", action="store_true", default=False)
    parser.add_argument("--mixed-precision", action="store_true", default=False)
    parser.add_argument("--dcp-api", action="store_true", default=False)
    parser.add_argument("--folder", default="checkpoints")
    main(parser.parse_args())
