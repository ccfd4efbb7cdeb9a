"""``torch.distributed.checkpoint`` (DCP): save a (possibly sharded) state dict from every rank
into a directory and load it back on any number of ranks, resharding to the current layout.

Format (ctorch's own, not torch's byte format): each rank writes ``__<rank>_0.distcp``, the raw
bytes of the pieces it owns (a DTensor's local shard when its replicated mesh coordinates are
0; plain tensors and everything else from rank 0 only), and rank 0 writes ``.metadata`` (a
pickle: every tensor's global shape, dtype and pieces, with their global offsets, and the
non-tensor values). ``load`` fills the given state dict in place: each tensor (a DTensor's local
shard) is assembled from the pieces that overlap it, whatever world size wrote them. As torch's,
a top-level value with ``state_dict``/``load_state_dict`` (a :class:`Stateful`: an app-state
object, a module, an optimizer) is saved through its ``state_dict()`` and loaded back through
``load_state_dict``.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

import numpy as np

from ..._tensor import Tensor
from . import state_dict
from .stateful import Stateful

__all__ = [
    "FileSystemReader",
    "FileSystemWriter",
    "Stateful",
    "load",
    "load_state_dict",
    "save",
    "save_state_dict",
    "state_dict",
]

_META = ".metadata"


class FileSystemWriter:
    """Where :func:`save` writes (a directory)."""

    def __init__(self, path: str | os.PathLike, *args: Any, **kwargs: Any) -> None:
        self.path = os.fspath(path)


class FileSystemReader:
    """Where :func:`load` reads (a directory)."""

    def __init__(self, path: str | os.PathLike, *args: Any, **kwargs: Any) -> None:
        self.path = os.fspath(path)


def _dist():
    from ... import distributed

    return distributed


def _flatten(obj: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """(path, leaf) pairs: dicts, and lists/tuples holding tensors, are traversed."""
    if isinstance(obj, dict):
        out = []
        for k, v in obj.items():
            out += _flatten(v, (*path, k))
        return out
    if isinstance(obj, (list, tuple)) and any(
        isinstance(x, (Tensor, dict, list, tuple)) for x in obj
    ):
        out = []
        for i, v in enumerate(obj):
            out += _flatten(v, (*path, i))
        return out
    return [(path, obj)]


def _key(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def _dir(checkpoint_id: Any, io: Any, what: str) -> str:
    if checkpoint_id is not None:
        return os.fspath(checkpoint_id)
    if io is not None and hasattr(io, "path"):
        return io.path
    raise RuntimeError(f"{what}: pass checkpoint_id (a directory) or a FileSystem storage object")


def _dtype_name(a: np.ndarray) -> str:
    from ..._tensor import _NP2DT

    return str(_NP2DT[a.dtype]).rsplit(".", 1)[-1]


def _np_dtype(name: str) -> Any:
    import ctorch

    from ..._dtype import to_numpy_dtype

    return to_numpy_dtype(getattr(ctorch, name))


def _host(a: Any) -> np.ndarray:
    if type(a) is not np.ndarray:
        a = a.get()
    return a if a.flags.c_contiguous else a.copy(order="C")  # 0-d stays 0-d


def save(
    state_dict: dict[str, Any],
    *,
    checkpoint_id: str | os.PathLike | None = None,
    storage_writer: Any = None,
    planner: Any = None,
    process_group: Any = None,
    no_dist: bool = False,
) -> dict[str, Any]:
    """Write ``state_dict`` (DTensors as their shards) to the directory ``checkpoint_id``;
    collective unless ``no_dist``. Returns the metadata."""
    from ..tensor import DTensor
    from ..tensor._api import _local_box

    dist = _dist()
    state_dict = {k: v.state_dict() if _is_stateful(v) else v for k, v in state_dict.items()}
    path = _dir(checkpoint_id, storage_writer, "dcp.save")
    distributed = dist.is_initialized() and not no_dist
    rank = dist.get_rank(process_group) if distributed else 0
    os.makedirs(path, exist_ok=True)
    fname = f"__{rank}_0.distcp"
    pieces: list[tuple[str, list[int], list[int], int, int]] = []  # key, off, size, start, n
    tensors: dict[str, dict[str, Any]] = {}
    objects: dict[str, Any] = {}
    pos = 0
    with open(os.path.join(path, fname), "wb") as f:
        for p, v in _flatten(state_dict):
            k = _key(p)
            if isinstance(v, DTensor):
                if any(pl.is_partial() for pl in v.placements):
                    v = v.redistribute(v.device_mesh, [_rep(pl) for pl in v.placements])
                coord = v.device_mesh.get_coordinate() or []
                owner = all(
                    c == 0 for c, pl in zip(coord, v.placements, strict=True) if pl.is_replicate()
                )
                tensors[k] = {"shape": list(v.shape), "dtype": _dtype_name(v._a)}
                if owner:
                    off, size = _local_box(v._spec)
                    a = _host(v._a)
                    f.write(a.tobytes())
                    pieces.append((k, off, size, pos, a.nbytes))
                    pos += a.nbytes
            elif isinstance(v, Tensor):
                tensors[k] = {"shape": list(v.shape), "dtype": _dtype_name(v._a)}
                if rank == 0:
                    a = _host(v._a)
                    f.write(a.tobytes())
                    pieces.append((k, [0] * a.ndim, list(a.shape), pos, a.nbytes))
                    pos += a.nbytes
            else:
                objects[k] = v
    mine = {"file": fname, "pieces": pieces}
    if distributed:
        allp: list[Any] = [None] * dist.get_world_size(process_group)
        dist.all_gather_object(allp, mine, group=process_group)
    else:
        allp = [mine]
    for t in tensors.values():
        t["chunks"] = []
    for entry in allp:
        for k, off, size, start, n in entry["pieces"]:
            tensors[k]["chunks"].append(
                {"file": entry["file"], "offsets": off, "sizes": size, "start": start, "nbytes": n}
            )
    meta = {"version": 1, "tensors": tensors, "objects": objects}
    if rank == 0:
        with open(os.path.join(path, _META), "wb") as f:
            pickle.dump(meta, f)
    if distributed:
        dist.barrier(group=process_group)
    return meta


def _rep(pl: Any) -> Any:
    from ..tensor import Replicate

    return Replicate() if pl.is_partial() else pl


def _read_region(
    path: str, entry: dict[str, Any], off: list[int], size: list[int], cache: dict[str, Any]
) -> np.ndarray:
    """The global region ``[off, off + size)`` of a saved tensor, from its pieces (``cache``:
    the files mapped so far)."""
    dt = _np_dtype(entry["dtype"])
    out = np.zeros(size, dtype=dt)
    filled = 0
    for c in entry["chunks"]:
        co, cs = c["offsets"], c["sizes"]
        lo = [max(a, b) for a, b in zip(off, co, strict=True)]
        hi = [min(a + s, b + t) for a, s, b, t in zip(off, size, co, cs, strict=True)]
        if any(h <= lo_ for lo_, h in zip(lo, hi, strict=True)) and len(size) > 0:
            continue
        fn = os.path.join(path, c["file"])
        if fn not in cache:
            cache[fn] = np.memmap(fn, dtype=np.uint8, mode="r") if os.path.getsize(fn) else None
        raw = cache[fn][c["start"] : c["start"] + c["nbytes"]]
        piece = np.frombuffer(raw.tobytes(), dtype=dt).reshape(cs)
        src = tuple(slice(a - b, h - b) for a, h, b in zip(lo, hi, co, strict=True))
        dst = tuple(slice(a - b, h - b) for a, h, b in zip(lo, hi, off, strict=True))
        out[dst] = piece[src]
        filled += int(np.prod([h - a for a, h in zip(lo, hi, strict=True)]))
    if filled < int(np.prod(size)):
        raise RuntimeError(
            "dcp.load: the checkpoint does not cover the requested region of a tensor "
            f"(offsets {off}, sizes {size})"
        )
    return out


def load(
    state_dict: dict[str, Any],
    *,
    checkpoint_id: str | os.PathLike | None = None,
    storage_reader: Any = None,
    planner: Any = None,
    process_group: Any = None,
    no_dist: bool = False,
) -> None:
    """Fill ``state_dict`` in place from the directory ``checkpoint_id``: tensors are copied
    into (DTensors: into their local shards, whatever layout saved them), other values are
    replaced. Raises on keys the checkpoint lacks."""
    from ..tensor import DTensor
    from ..tensor._api import _local_box

    path = _dir(checkpoint_id, storage_reader, "dcp.load")
    mpath = os.path.join(path, _META)
    if not os.path.exists(mpath):
        raise FileNotFoundError(f"dcp.load: no checkpoint metadata at {mpath}")
    with open(mpath, "rb") as f:
        meta = pickle.load(f)
    tensors, objects = meta["tensors"], meta["objects"]
    cache: dict[str, Any] = {}
    given = state_dict
    state_dict = {k: v.state_dict() if _is_stateful(v) else v for k, v in given.items()}
    for p, v in _flatten(state_dict):
        k = _key(p)
        if isinstance(v, Tensor):
            if k not in tensors:
                raise RuntimeError(f"Missing key in checkpoint state_dict: {k}.")
            entry = tensors[k]
            if list(v.shape) != list(entry["shape"]):
                raise RuntimeError(
                    f"dcp.load: size mismatch for {k}: the checkpoint has shape "
                    f"{tuple(entry['shape'])}, the state_dict {tuple(v.shape)}"
                )
            if isinstance(v, DTensor):
                off, size = _local_box(v._spec)
            else:
                off, size = [0] * v.dim(), list(v.shape)
            region = _read_region(path, entry, off, size, cache)
            a = v._a
            if type(a) is np.ndarray:
                a[...] = region.astype(a.dtype, copy=False)
            else:
                import cupy

                a[...] = cupy.asarray(region).astype(a.dtype, copy=False)
            v._vref[0] += 1
        else:
            if k in objects:
                _set(state_dict, p, objects[k])
            elif k in tensors:
                entry = tensors[k]
                full = _read_region(path, entry, [0] * len(entry["shape"]), entry["shape"], cache)
                _set(state_dict, p, Tensor._make(full))
            else:
                raise RuntimeError(f"Missing key in checkpoint state_dict: {k}.")
    for k, v in given.items():
        if _is_stateful(v):
            v.load_state_dict(state_dict[k])
        else:
            given[k] = state_dict[k]
    dist = _dist()
    if dist.is_initialized() and not no_dist:
        dist.barrier(group=process_group)


def _is_stateful(obj: Any) -> bool:
    return isinstance(obj, Stateful)


def _set(root: Any, path: tuple, value: Any) -> None:
    obj = root
    for p in path[:-1]:
        obj = obj[p]
    if isinstance(obj, tuple):
        return
    obj[path[-1]] = value


save_state_dict = save
load_state_dict = load
