"""nanoGPT's ``bench.py`` with ``profile = True``, shrunk: the model from ``model.py``
(``nanogpt_model.py``), ``torch.profiler.profile`` with CPU and CUDA activities, a
``schedule(wait, warmup, active, repeat=1)``, ``tensorboard_trace_handler`` and ``prof.step()``
after every iteration; then the trace the handler wrote is read back. The data and the starting
weights come from NumPy (bench.py: ``np.memmap`` + ``torch.randint``, random init) so the
losses are the same in torch and ctorch.
"""

import glob
import json
import os
import sys
from ast import literal_eval
from contextlib import nullcontext

import numpy as np
import torch
from nanogpt_model import GPT, GPTConfig

# -----------------------------------------------------------------------------
batch_size = 4
block_size = 16
bias = False
real_data = True
seed = 1337
device = "cuda" if torch.cuda.is_available() else "cpu"
dtype = "bfloat16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "float32"
compile = False
profile = True
for arg in sys.argv[1:]:  # configurator.py
    key, val = arg[2:].split("=")
    globals()[key] = literal_eval(val)
# -----------------------------------------------------------------------------

torch.manual_seed(seed)
torch.cuda.manual_seed(seed)
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
device_type = "cuda" if "cuda" in device else "cpu"
ptdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
ctx = (
    nullcontext()
    if device_type == "cpu"
    else torch.amp.autocast(device_type=device_type, dtype=ptdtype)
)

# data loading init
data = np.random.default_rng(0).integers(0, 50304, 4096).astype(np.uint16)
rng = np.random.default_rng(1)


def get_batch(split):
    ix = torch.from_numpy(rng.integers(0, len(data) - block_size, (batch_size,)))
    x = torch.stack([torch.from_numpy((data[i : i + block_size]).astype(np.int64)) for i in ix])
    y = torch.stack(
        [torch.from_numpy((data[i + 1 : i + 1 + block_size]).astype(np.int64)) for i in ix]
    )
    return x.to(device), y.to(device)


gptconf = GPTConfig(block_size=block_size, n_layer=2, n_head=2, n_embd=32, dropout=0, bias=bias)
model = GPT(gptconf)
init = np.random.default_rng(2)
with torch.no_grad():
    for p in model.parameters():
        if p.dim() >= 2:
            p.copy_(torch.from_numpy(init.standard_normal(tuple(p.shape)) * 0.02))
model.to(device)

optimizer = model.configure_optimizers(
    weight_decay=1e-2, learning_rate=1e-3, betas=(0.9, 0.95), device_type=device_type
)

if compile:
    print("Compiling model...")
    model = torch.compile(model)

if profile:
    wait, warmup, active = 2, 2, 3
    num_steps = wait + warmup + active
    with torch.profiler.profile(
        activities=[torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA],
        schedule=torch.profiler.schedule(wait=wait, warmup=warmup, active=active, repeat=1),
        on_trace_ready=torch.profiler.tensorboard_trace_handler("./bench_log"),
        record_shapes=False,
        profile_memory=False,
        with_stack=False,
        with_flops=True,
        with_modules=False,
    ) as prof:
        X, Y = get_batch("train")
        for k in range(num_steps):
            with ctx:
                with torch.profiler.record_function("forward"):
                    logits, loss = model(X, Y)
            X, Y = get_batch("train")
            optimizer.zero_grad(set_to_none=True)
            with torch.profiler.record_function("backward"):
                loss.backward()
            optimizer.step()
            lossf = loss.item()
            print(f"{k}/{num_steps} loss: {lossf:.6f}")
            prof.step()

    traces = glob.glob(os.path.join("bench_log", "*.pt.trace.json"))
    print("trace files", len(traces))
    with open(traces[0]) as f:
        names = [e.get("name", "") for e in json.load(f)["traceEvents"]]
    print("steps traced", sorted({n for n in names if n.startswith("ProfilerStep#")}))
    print("ranges traced", names.count("forward"), names.count("backward"))
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=100)
    print("table has ranges", all(n in table for n in ("forward", "backward", "ProfilerStep*")))
    avgs = {e.key: e.count for e in prof.key_averages()}
    print("counts", avgs["forward"], avgs["backward"])
