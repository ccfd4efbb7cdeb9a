"""Memoized CuPy RawModules over ``ctorch/cuda/kernels/<family>.cu``.

Harmless to import without CuPy or a GPU: nothing is compiled or imported until a launcher
asks for a kernel.  The source assembly (``kernel_source``, ``kernel_names``) is pure Python
and is shared with ``tools/check_cuda.py``, so the nvcc check compiles exactly what NVRTC
compiles at run time.

- Every ``__global__`` kernel is ``template <typename T>``; its float and double
  instantiations are requested through RawModule's ``name_expressions``.
- ``#include "common.cuh"`` is pasted in (with ``#line`` directives) instead of passing
  ``-I``: CuPy's on-disk kernel cache is keyed by the source text and options only, so an
  edited header would otherwise be served stale from the cache.
- A ``#line 1 "<path>"`` directive makes NVRTC errors point at the real file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

KERNEL_DIR = Path(__file__).resolve().parent / "kernels"
NVRTC_OPTIONS: tuple[str, ...] = ("--std=c++17",)
THREADS = 256  # default block size of the grid-stride launchers

_TEMPLATE_KERNEL = re.compile(
    r"template\s*<\s*typename\s+T\s*>\s*__global__\s+void\s+(\w+)\s*\(", re.MULTILINE
)
_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"[ \t]*$', re.MULTILINE)

_CTYPE = {"float32": "float", "float64": "double"}

_modules: dict[tuple[str, int], Any] = {}
_functions: dict[tuple[str, str, str, int], Any] = {}
_max_blocks: dict[int, int] = {}
# (family, name, dtype as given, device) -> function: the launch path's one-lookup memo
_fast: dict[tuple[str, str, Any, int], Any] = {}


def families() -> list[str]:
    """Names of the kernel families (the .cu files)."""
    return sorted(p.stem for p in KERNEL_DIR.glob("*.cu"))


def _read(name: str) -> str:
    return (KERNEL_DIR / name).read_text(encoding="utf-8")


def _line(n: int, path: Path) -> str:
    return f'#line {n} "{path.as_posix()}"'


def _paste(path: Path) -> str:
    """``path``'s text with its local ``#include "..."`` files pasted in, recursively (a path
    relative to the including file, as a C compiler resolves it), each between ``#line``
    markers so NVRTC errors name the real file and line."""
    text = path.read_text(encoding="utf-8")
    pieces: list[str] = []
    pos = 0
    for m in _INCLUDE.finditer(text):
        header = (path.parent / m.group(1)).resolve()  # e.g. ../../_table/elementwise.def
        pieces.append(text[pos : m.start()])
        after = text.count("\n", 0, m.end()) + 2  # line number following the #include
        pieces.append(_line(1, header) + "\n" + _paste(header) + "\n")
        pieces.append(_line(after, path) + "\n")
        pos = m.end() + 1
    pieces.append(text[pos:])
    return "".join(pieces)


def kernel_source(family: str) -> str:
    """The full source of a family, with local includes pasted in and ``#line`` markers."""
    path = KERNEL_DIR / f"{family}.cu"
    if not path.is_file():
        raise ValueError(f"ctorch.cuda: no kernel family {family!r} (no {path})")
    return _line(1, path) + "\n" + _paste(path)


def kernel_names(family: str) -> list[str]:
    """The templated ``__global__`` kernels defined in ``<family>.cu``."""
    return _TEMPLATE_KERNEL.findall(_read(f"{family}.cu"))


def name_expressions(family: str) -> list[str]:
    return [f"{k}<{t}>" for k in kernel_names(family) for t in ("float", "double")]


def ctype(dtype: Any) -> str:
    """'float' or 'double' for a float32/float64 dtype; ValueError otherwise."""
    try:
        name = np.dtype(dtype).name
        return _CTYPE[name]
    except (KeyError, TypeError):
        raise ValueError(f"ctorch.cuda: kernels take float32 or float64, not {dtype}") from None


def get_module(family: str) -> Any:
    """The compiled RawModule of ``family`` on the current device (memoized)."""
    from . import require_cupy

    cp = require_cupy(f"CUDA kernel family {family!r}")
    key = (family, int(cp.cuda.runtime.getDevice()))
    mod = _modules.get(key)
    if mod is None:
        mod = cp.RawModule(
            code=kernel_source(family),
            options=NVRTC_OPTIONS,
            name_expressions=name_expressions(family),
        )
        _modules[key] = mod
    return mod


def _current_device(cp: Any) -> int:
    return int(cp.cuda.runtime.getDevice())


def get_function(family: str, name: str, dtype: Any, dev: int | None = None) -> Any:
    """The RawKernel ``name<float|double>`` of ``family`` on the current device (memoized).

    The memo is keyed by the dtype object as given (a ``numpy.dtype`` from an array's
    ``.dtype`` on the hot path), so a hit costs one dict lookup: the GPU profile of a
    16-element relu spent a third of its launch time naming the dtype and asking CuPy for
    the device twice per launch."""
    if dev is None:
        from . import require_cupy

        dev = _current_device(require_cupy(f"CUDA kernel {name}"))
    key = (family, name, dtype, dev)
    fn = _fast.get(key)
    if fn is None:
        t = ctype(dtype)
        slow_key = (family, name, t, dev)
        fn = _functions.get(slow_key)
        if fn is None:
            fn = get_module(family).get_function(f"{name}<{t}>")
            _functions[slow_key] = fn
        _fast[key] = fn
    return fn


def max_blocks(dev: int | None = None) -> int:
    """Grid cap for grid-stride loops: 32 blocks of THREADS per SM of the current device."""
    if dev is None:
        from . import require_cupy

        dev = _current_device(require_cupy("a CUDA launch"))
    cap = _max_blocks.get(dev)
    if cap is None:
        from . import require_cupy

        sms = require_cupy("a CUDA launch").cuda.Device(dev).attributes["MultiProcessorCount"]
        cap = _max_blocks[dev] = int(sms) * 32
    return cap


def grid_for(n: int, threads: int = THREADS, dev: int | None = None) -> int:
    """Blocks for a grid-stride loop over ``n`` elements (at least 1)."""
    return max(1, min((int(n) + threads - 1) // threads, max_blocks(dev)))


def launch(
    family: str,
    name: str,
    dtype: Any,
    n: int,
    args: tuple,
    threads: int = THREADS,
    grid: int | None = None,
    shared_mem: int = 0,
) -> None:
    """Launch ``name<T>`` on the current stream over ``n`` work items (no-op if n == 0)."""
    if n <= 0:
        return
    from . import require_cupy

    dev = _current_device(require_cupy(f"CUDA kernel {name}"))
    fn = get_function(family, name, dtype, dev)
    g = grid_for(n, threads, dev) if grid is None else max(1, int(grid))
    fn((g,), (threads,), args, shared_mem=shared_mem)
