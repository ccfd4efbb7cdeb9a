"""A character-level GPT trainer written the way nanoGPT's ``train.py`` is (its ``model.py`` is
``nanogpt_model.py``):
configurator-style globals overridden by ``--key=value`` arguments, a uint16 ``train.bin`` read
through ``np.memmap``, ``nullcontext``/``torch.amp.autocast``, a GradScaler, fused-AdamW
detection with ``inspect.signature``, decay/no-decay groups, flash attention when
``F.scaled_dot_product_attention`` exists, weight tying, gradient accumulation, clipping,
cosine lr with warmup, ``estimate_loss`` under ``@torch.no_grad()``, a checkpoint dict saved
with ``torch.save`` and resumed with ``--init_from=resume``, and ``generate`` with top-k.

The two libraries' random streams differ, so the program draws its batch offsets from NumPy and,
after the usual random init, copies in NumPy initial weights (``same_init``): the losses are
then the same in torch and ctorch.
"""

import math
import os
import sys
from ast import literal_eval
from contextlib import nullcontext

import numpy as np
import torch
from nanogpt_model import GPT, GPTConfig

# -----------------------------------------------------------------------------
# default config values (nanoGPT: shakespeare_char, shrunk)
out_dir = "out-char"
eval_interval = 4
log_interval = 1
eval_iters = 2
always_save_checkpoint = True
init_from = "scratch"  # 'scratch' or 'resume'
dataset = "generated_char"
gradient_accumulation_steps = 2
batch_size = 4
block_size = 16
n_layer = 2
n_head = 2
n_embd = 32
dropout = 0.0
bias = False
learning_rate = 1e-2
max_iters = 8
weight_decay = 1e-1
beta1 = 0.9
beta2 = 0.99
grad_clip = 1.0
decay_lr = True
warmup_iters = 2
lr_decay_iters = 12
min_lr = 1e-3
device = "cpu"
dtype = (
    "bfloat16"
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    else "float16"
    if torch.cuda.is_available()
    else "float32"
)
compile = False
seed_offset = 0
# -----------------------------------------------------------------------------
config_keys = [
    k
    for k, v in globals().items()
    if not k.startswith("_") and isinstance(v, (int, float, bool, str))
]
# configurator.py, inlined
for arg in sys.argv[1:]:
    assert arg.startswith("--"), arg
    key, val = arg.split("=")
    key = key[2:]
    assert key in globals(), f"Unknown config key: {key}"
    try:
        attempt = literal_eval(val)
    except (SyntaxError, ValueError):
        attempt = val
    assert type(attempt) == type(globals()[key])  # noqa: E721
    print(f"Overriding: {key} = {attempt}")
    globals()[key] = attempt
config = {k: globals()[k] for k in config_keys}
# -----------------------------------------------------------------------------


def same_init(model):
    """The same starting weights in both libraries (their random streams differ)."""
    rng = np.random.default_rng(1234)
    with torch.no_grad():
        for pn, p in model.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * n_layer) if pn.endswith("c_proj.weight") else 0.02
                p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * std))


# -----------------------------------------------------------------------------
# data: prepare.py for a generated text
data_dir = os.path.join("data", dataset)
if not os.path.exists(os.path.join(data_dir, "train.bin")):
    os.makedirs(data_dir, exist_ok=True)
    words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "to", "and", "fro"]
    text_rng = np.random.default_rng(7)
    text = " ".join(words[i] for i in text_rng.integers(0, len(words), 600)) + "\n"
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    ids = np.array([stoi[c] for c in text], dtype=np.uint16)
    n = int(0.9 * len(ids))
    ids[:n].tofile(os.path.join(data_dir, "train.bin"))
    ids[n:].tofile(os.path.join(data_dir, "val.bin"))
    import pickle

    with open(os.path.join(data_dir, "meta.pkl"), "wb") as f:
        pickle.dump({"vocab_size": len(chars), "itos": dict(enumerate(chars)), "stoi": stoi}, f)

tokens_per_iter = gradient_accumulation_steps * batch_size * block_size
print(f"tokens per iteration will be: {tokens_per_iter:,}")

os.makedirs(out_dir, exist_ok=True)
torch.manual_seed(1337 + seed_offset)
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
device_type = "cuda" if "cuda" in device else "cpu"
ptdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
ctx = (
    nullcontext()
    if device_type == "cpu"
    else torch.amp.autocast(device_type=device_type, dtype=ptdtype)
)
batch_rng = np.random.default_rng(2024 + seed_offset)  # nanoGPT: torch.randint


def get_batch(split):
    data = np.memmap(os.path.join(data_dir, f"{split}.bin"), dtype=np.uint16, mode="r")
    ix = torch.from_numpy(batch_rng.integers(0, len(data) - block_size, (batch_size,)))
    x = torch.stack([torch.from_numpy((data[i : i + block_size]).astype(np.int64)) for i in ix])
    y = torch.stack(
        [torch.from_numpy((data[i + 1 : i + 1 + block_size]).astype(np.int64)) for i in ix]
    )
    if device_type == "cuda":
        x, y = (
            x.pin_memory().to(device, non_blocking=True),
            y.pin_memory().to(device, non_blocking=True),
        )
    else:
        x, y = x.to(device), y.to(device)
    return x, y


iter_num = 0
best_val_loss = 1e9

meta_path = os.path.join(data_dir, "meta.pkl")
meta_vocab_size = None
if os.path.exists(meta_path):
    import pickle

    with open(meta_path, "rb") as f:
        meta = pickle.load(f)
    meta_vocab_size = meta["vocab_size"]
    print(f"found vocab_size = {meta_vocab_size} (inside {meta_path})")

model_args = dict(
    n_layer=n_layer,
    n_head=n_head,
    n_embd=n_embd,
    block_size=block_size,
    bias=bias,
    vocab_size=None,
    dropout=dropout,
)
if init_from == "scratch":
    print("Initializing a new model from scratch")
    model_args["vocab_size"] = meta_vocab_size if meta_vocab_size is not None else 50304
    gptconf = GPTConfig(**model_args)
    model = GPT(gptconf)
    std = model.transformer.h[0].attn.c_proj.weight.std().item()
    print(f"c_proj init std near {0.02 / math.sqrt(2 * n_layer):.4f}: {abs(std - 0.01) < 2e-3}")
    print(f"tied {model.transformer.wte.weight is model.lm_head.weight}")
    same_init(model)
elif init_from == "resume":
    print(f"Resuming training from {out_dir}")
    ckpt_path = os.path.join(out_dir, "ckpt.pt")
    checkpoint = torch.load(ckpt_path, map_location=device)
    checkpoint_model_args = checkpoint["model_args"]
    for k in ["n_layer", "n_head", "n_embd", "block_size", "bias", "vocab_size"]:
        model_args[k] = checkpoint_model_args[k]
    gptconf = GPTConfig(**model_args)
    model = GPT(gptconf)
    state_dict = checkpoint["model"]
    unwanted_prefix = "_orig_mod."
    for k, v in list(state_dict.items()):  # noqa: B007
        if k.startswith(unwanted_prefix):
            state_dict[k[len(unwanted_prefix) :]] = state_dict.pop(k)
    model.load_state_dict(state_dict)
    iter_num = checkpoint["iter_num"]
    best_val_loss = checkpoint["best_val_loss"]
    print(f"resumed at iter {iter_num} best val loss {best_val_loss:.6f}")
model.to(device)

scaler = torch.amp.GradScaler("cuda", enabled=(dtype == "float16"))
legacy_scaler = torch.cuda.amp.GradScaler(enabled=False)
print(f"scaler enabled {scaler.is_enabled()} {legacy_scaler.is_enabled()}")

optimizer = model.configure_optimizers(weight_decay, learning_rate, (beta1, beta2), device_type)
if init_from == "resume":
    optimizer.load_state_dict(checkpoint["optimizer"])
checkpoint = None

if compile:
    print("compiling the model... (takes a ~minute)")
    unoptimized_model = model
    model = torch.compile(model)


@torch.no_grad()
def estimate_loss():
    out = {}
    model.eval()
    for split in ["train", "val"]:
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            X, Y = get_batch(split)
            with ctx:
                logits, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    model.train()
    return out


def get_lr(it):
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    assert 0 <= decay_ratio <= 1
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (learning_rate - min_lr)


X, Y = get_batch("train")
local_iter_num = 0
raw_model = model
running_mfu = -1.0
while True:
    lr = get_lr(iter_num) if decay_lr else learning_rate
    for param_group in optimizer.param_groups:
        param_group["lr"] = lr

    if iter_num % eval_interval == 0:
        losses = estimate_loss()
        print(f"step {iter_num}: train loss {losses['train']:.6f}, val loss {losses['val']:.6f}")
        if losses["val"] < best_val_loss or always_save_checkpoint:
            best_val_loss = losses["val"]
            if iter_num > 0:
                checkpoint = {
                    "model": raw_model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "model_args": model_args,
                    "iter_num": iter_num,
                    "best_val_loss": best_val_loss,
                    "config": config,
                }
                print(f"saving checkpoint to {out_dir}")
                torch.save(checkpoint, os.path.join(out_dir, "ckpt.pt"))

    for micro_step in range(gradient_accumulation_steps):  # noqa: B007
        with ctx:
            logits, loss = model(X, Y)
            loss = loss / gradient_accumulation_steps
        X, Y = get_batch("train")
        scaler.scale(loss).backward()
    if grad_clip != 0.0:
        scaler.unscale_(optimizer)
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)

    if iter_num % log_interval == 0:
        lossf = loss.item() * gradient_accumulation_steps
        if local_iter_num >= 5:
            mfu = raw_model.estimate_mfu(batch_size * gradient_accumulation_steps, 0.01)
            running_mfu = mfu if running_mfu == -1.0 else 0.9 * running_mfu + 0.1 * mfu
        print(f"iter {iter_num}: loss {lossf:.6f}, lr {lr:.6f}, grad norm {norm.item():.6f}")
    iter_num += 1
    local_iter_num += 1

    if iter_num > max_iters:
        break

print("compiled keys", all(k.startswith("_orig_mod.") for k in raw_model.state_dict()))

# sample.py: greedy (top_k=1 leaves one token, so multinomial is deterministic) and top-k
itos = meta["itos"]
stoi = meta["stoi"]
model.eval()
start_ids = [stoi[c] for c in "the "]
x = torch.tensor(start_ids, dtype=torch.long, device=device)[None, ...]
with torch.no_grad():
    with ctx:
        y = model.generate(x, 24, temperature=0.8, top_k=1)
        print("greedy:", repr("".join(itos[i] for i in y[0].tolist())))
        y = model.generate(x, 24, temperature=0.8, top_k=5)
        print("sampled", tuple(y.shape), all(0 <= i < meta_vocab_size for i in y[0].tolist()))
