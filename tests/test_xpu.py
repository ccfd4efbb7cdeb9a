"""``ctorch.xpu`` and the ``"xpu"`` device on a machine without one, as torch 2.13's CPU wheel:
every probe below gives the same value or the same exception (type and message) in both."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import pytest

import ctorch

PROBES = {
    # the guards and the answers that need no device
    "is_available": lambda t: t.xpu.is_available(),
    "device_count": lambda t: t.xpu.device_count(),
    "is_initialized": lambda t: t.xpu.is_initialized(),
    "get_arch_list": lambda t: t.xpu.get_arch_list(),
    "get_gencode_flags": lambda t: t.xpu.get_gencode_flags(),
    "is_bf16_supported": lambda t: t.xpu.is_bf16_supported(),
    "is_tf32_supported": lambda t: t.xpu.is_tf32_supported(),
    "default_generators": lambda t: t.xpu.default_generators,
    "empty_cache": lambda t: t.xpu.empty_cache(),
    "manual_seed": lambda t: t.xpu.manual_seed(0),
    "manual_seed_all": lambda t: t.xpu.manual_seed_all(0),
    "seed": lambda t: t.xpu.seed(),
    "seed_all": lambda t: t.xpu.seed_all(),
    "random.manual_seed": lambda t: t.xpu.random.manual_seed(1),
    "get_rng_state_all": lambda t: t.xpu.get_rng_state_all(),
    "set_rng_state": lambda t: t.xpu.set_rng_state(t.zeros(8, dtype=t.uint8)),
    "memory_allocated": lambda t: t.xpu.memory_allocated(),
    "memory_allocated(0)": lambda t: t.xpu.memory_allocated(0),
    "memory.memory_allocated": lambda t: t.xpu.memory.memory_allocated("xpu:0"),
    "max_memory_allocated": lambda t: t.xpu.max_memory_allocated(),
    "memory_reserved": lambda t: t.xpu.memory_reserved(),
    "max_memory_reserved": lambda t: t.xpu.max_memory_reserved(),
    "memory_stats": lambda t: dict(t.xpu.memory_stats()),
    "memory_snapshot": lambda t: t.xpu.memory_snapshot(),
    "set_stream(None)": lambda t: t.xpu.set_stream(None),
    "stream(None)": lambda t: t.xpu.stream(None).__enter__(),
    # the calls that need a device: torch's lazy-init assertion
    "current_device": lambda t: t.xpu.current_device(),
    "set_device": lambda t: t.xpu.set_device(0),
    "synchronize": lambda t: t.xpu.synchronize(),
    "get_device_name": lambda t: t.xpu.get_device_name(0),
    "get_device_properties": lambda t: t.xpu.get_device_properties(),
    "get_device_capability": lambda t: t.xpu.get_device_capability(),
    "current_stream": lambda t: t.xpu.current_stream(),
    "init": lambda t: t.xpu.init(),
    "initial_seed": lambda t: t.xpu.initial_seed(),
    "get_rng_state": lambda t: t.xpu.get_rng_state(),
    "mem_get_info": lambda t: t.xpu.mem_get_info(),
    "can_device_access_peer": lambda t: t.xpu.can_device_access_peer(0, 1),
    "set_per_process_memory_fraction": lambda t: t.xpu.set_per_process_memory_fraction(0.5),
    "Stream()": lambda t: t.xpu.Stream(),
    "Event()": lambda t: t.xpu.Event(),
    "device(0) entered": lambda t: t.xpu.device(0).__enter__(),
    "device('cpu')": lambda t: t.xpu.device("cpu"),
    "device_of(cpu tensor) entered": lambda t: t.xpu.device_of(t.ones(1)).__enter__(),
    # tensors and modules
    "Tensor.xpu()": lambda t: t.ones(1).xpu(),
    "Tensor.xpu(0)": lambda t: t.ones(1).xpu(0),
    "Tensor.xpu(non_blocking)": lambda t: t.ones(1).xpu(non_blocking=True),
    "to('xpu:0')": lambda t: t.ones(1).to("xpu:0"),
    "to(device='xpu')": lambda t: t.ones(1).to(device="xpu"),
    "ones(device='xpu')": lambda t: t.ones(2, device="xpu"),
    "tensor(device='xpu')": lambda t: t.tensor([1.0], device="xpu"),
    "empty(device=xpu:0)": lambda t: t.empty(2, device=t.device("xpu", 0)),
    "zeros_like(device='xpu')": lambda t: t.zeros_like(t.ones(1), device="xpu"),
    "randn(device='xpu')": lambda t: t.randn(2, device="xpu"),
    "Linear.xpu()": lambda t: t.nn.Linear(2, 2).xpu(),
    "Linear.to('xpu')": lambda t: t.nn.Linear(2, 2).to("xpu"),
    "ReLU.xpu() (no parameters)": lambda t: type(t.nn.ReLU().xpu()).__name__,
    "is_xpu": lambda t: t.ones(1).is_xpu,
    "Generator('xpu')": lambda t: t.Generator("xpu"),
    "get_device_module": lambda t: " ".join(
        t.get_device_module(d).__name__ for d in ("xpu", "cpu", t.device("xpu:0"), None)
    ),
    "get_device_module('meta')": lambda t: t.get_device_module("meta"),
    "device('xpu')": lambda t: (str(t.device("xpu")), t.device("xpu").index),
    "device('xpu', 1)": lambda t: (str(t.device("xpu", 1)), t.device("xpu:1").index),
    "autocast available": lambda t: (
        t.amp.is_autocast_available("xpu"),
        str(t.get_autocast_dtype("xpu")).split(".")[-1],
    ),
}


def _outcome(lib, probe):
    try:
        r = probe(lib)
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return ("raises", type(e).__name__, str(e))
    return ("returns", r if not isinstance(r, str) else r.replace("ctorch", "torch"))


@pytest.mark.parametrize("name", list(PROBES))
def test_same_as_torch(name):
    ours = _outcome(ctorch, PROBES[name])
    torch = pytest.importorskip("torch")
    assert ours == _outcome(torch, PROBES[name])


def test_guards_without_torch():
    assert ctorch.xpu.is_available() is False and ctorch.xpu.device_count() == 0
    with pytest.raises(AssertionError, match="^Torch not compiled with XPU enabled$"):
        ctorch.ones(2).xpu()
    with pytest.raises(AssertionError, match="^Torch not compiled with XPU enabled$"):
        ctorch.nn.Linear(2, 2).to("xpu")
    with pytest.raises(AssertionError, match="^Torch not compiled with XPU enabled$"):
        ctorch.xpu.synchronize()
    assert ctorch.xpu.memory_allocated() == 0 and ctorch.xpu.manual_seed(3) is None


def test_autocast_xpu_is_a_region_that_leaves_cpu_ops_alone():
    for lib in (ctorch, pytest.importorskip("torch")):
        with lib.autocast("xpu"):
            assert lib.is_autocast_enabled("xpu")
            assert (lib.ones(2, 2) @ lib.ones(2, 2)).dtype == lib.float32
        assert not lib.is_autocast_enabled("xpu")
        with pytest.warns(UserWarning, match="^In XPU autocast, but the target dtype"):
            with lib.autocast("xpu", dtype=lib.float64):
                assert not lib.is_autocast_enabled("xpu")


def test_device_selection_idiom_runs_unmodified(tmp_path):
    script = tmp_path / "pick.py"
    script.write_text(
        textwrap.dedent(
            """
            import torch
            import torch.xpu
            if torch.cuda.is_available():
                device = torch.device("cuda")
            elif torch.xpu.is_available():
                device = torch.device("xpu")
                torch.xpu.manual_seed(0)
            else:
                device = torch.device("cpu")
            torch.xpu.empty_cache()
            print(device, torch.xpu.device_count(), torch.ones(2, device=device).sum().item())
            """
        )
    )
    with warnings.catch_warnings():
        out = subprocess.run(
            [sys.executable, "-m", "ctorch.run", str(script)],
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["cpu", "0", "2.0"]
