"""``ctorch.random`` (torch.random): the default generator's seed and state, and ``fork_rng``,
which runs a block of code on a copy of the random state and puts the state back after it
(data augmentation or evaluation inside a training loop that must not shift its random
stream).

The functions are those of the ``ctorch`` namespace (``ctorch.manual_seed`` and this module's
are the same function).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from . import _warnings
from ._random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

__all__ = [
    "Generator",
    "default_generator",
    "fork_rng",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]


@contextlib.contextmanager
def fork_rng(
    devices: Iterable[Any] | None = None,
    enabled: bool = True,
    _caller: str = "fork_rng",
    _devices_kw: str = "devices",
    device_type: str = "cuda",
) -> Iterator[None]:
    """Within the block, random draws use and advance a copy of the state: on leaving it (also
    through an exception) the CPU generator and the ``device_type`` generators of ``devices``
    (all visible devices when None) are back where they were."""
    if device_type == "meta":
        yield
        return
    if device_type != "cuda":
        raise RuntimeError(
            f"torch has no module of {device_type}, you should register a module by "
            "`torch._register_device_module`."
        )
    if not enabled:
        yield
        return
    from . import cuda

    if devices is None:
        n = cuda.device_count()
        if n > 1:
            _warnings.warn(
                f"CUDA reports that you have {n} available devices, and you have used "
                f"{_caller} without explicitly specifying which devices are being used. For "
                f"safety, we initialize *every* CUDA device by default, which can be quite "
                f"slow if you have a lot of CUDAs. If you know that you are only making use "
                f"of a few CUDA devices, set the environment variable CUDA_VISIBLE_DEVICES or "
                f"the '{_devices_kw}' keyword argument of {_caller} with the set of devices "
                f"you are actually using.",
                UserWarning,
            )
        devices = list(range(n))
    else:
        devices = list(devices)
    cpu_state = get_rng_state()
    dev_states = []
    for d in devices:
        with _on_device(cuda, d):
            dev_states.append(cuda.get_rng_state())
    try:
        yield
    finally:
        set_rng_state(cpu_state)
        for d, st in zip(devices, dev_states, strict=True):
            with _on_device(cuda, d):
                cuda.set_rng_state(st)


def _on_device(cuda: Any, d: Any) -> Any:
    """A context with GPU ``d`` (an index, "cuda:N" or a device) current."""
    cp = cuda._import_cupy()
    index = d if isinstance(d, int) else cuda._device_index(d)
    return cp.cuda.Device(index)
