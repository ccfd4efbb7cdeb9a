"""``torch.distributed.device_mesh``: DeviceMesh and init_device_mesh over ctorch's process
groups.

A mesh is an n-D array of global ranks. For every mesh dimension each rank belongs to one 1-D
slice of it (the ranks that differ from it only along that dimension); construction creates one
process group per slice, in the same order on every rank (``new_group`` is collective, as
torch's). A slice that is the whole world in rank order reuses the default group.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["DeviceMesh", "init_device_mesh"]


def _dist():
    from .. import distributed

    return distributed


class DeviceMesh:
    """An n-D arrangement of ranks with a process group per mesh dimension
    (``torch.distributed.device_mesh.DeviceMesh``)."""

    def __init__(
        self,
        device_type: str,
        mesh: Any,
        *,
        mesh_dim_names: tuple[str, ...] | None = None,
        backend_override: Any = None,
        _init_backend: bool = True,
        _groups: list[Any] | None = None,
    ) -> None:
        dist = _dist()
        from .. import tensor as _tensor
        from .._tensor import Tensor

        arr = np.asarray(mesh._a if isinstance(mesh, Tensor) else mesh, dtype=np.int64)
        if arr.ndim == 0:
            raise ValueError("DeviceMesh: mesh must have at least one dimension")
        if len(np.unique(arr)) != arr.size:
            raise RuntimeError(f"DeviceMesh cannot have duplicate values, but found {arr.tolist()}")
        if mesh_dim_names is not None:
            mesh_dim_names = tuple(mesh_dim_names)
            if len(mesh_dim_names) != arr.ndim:
                raise RuntimeError(
                    "mesh_dim_names should have same length as mesh_shape, but found "
                    f"{len(mesh_dim_names)} and {arr.ndim}"
                )
            if len(set(mesh_dim_names)) != len(mesh_dim_names):
                raise RuntimeError(
                    f"Each mesh_dim_name must be unique, but found {list(mesh_dim_names)}"
                )
        self.device_type = str(device_type)
        self.mesh = _tensor(arr)
        self.mesh_dim_names = mesh_dim_names
        self._arr = arr
        if not dist.is_initialized():
            raise RuntimeError(
                "DeviceMesh needs the default process group: call init_process_group (or "
                "init_device_mesh, which does it)"
            )
        self._rank = dist.get_rank()
        where = np.argwhere(arr == self._rank)
        self._coord = None if where.size == 0 else [int(c) for c in where[0]]
        if _groups is not None:
            self._dim_groups = list(_groups)
        elif _init_backend:
            self._dim_groups = self._make_groups(arr)
        else:
            self._dim_groups = [None] * arr.ndim

    def _make_groups(self, arr: np.ndarray) -> list[Any]:
        dist = _dist()
        world = dist.get_world_size()
        if arr.size > world or arr.max() >= world or arr.min() < 0:
            raise RuntimeError(
                f"DeviceMesh: the mesh {arr.tolist()} names ranks outside the world of size {world}"
            )
        groups: list[Any] = []
        for d in range(arr.ndim):
            rows = np.moveaxis(arr, d, -1).reshape(-1, arr.shape[d])
            mine = None
            for row in rows:
                ranks = [int(r) for r in row]
                if ranks == list(range(world)):
                    g = dist.group.WORLD
                else:
                    g = dist.new_group(ranks)
                if self._rank in ranks:
                    mine = g
            groups.append(mine)
        return groups

    # ------------------------------------------------------------------ queries
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self._arr.shape)

    @property
    def ndim(self) -> int:
        return self._arr.ndim

    def size(self, mesh_dim: int | str | None = None) -> int:
        if mesh_dim is None:
            return int(self._arr.size)
        return int(self._arr.shape[self._dim(mesh_dim)])

    def _dim(self, mesh_dim: int | str | None) -> int:
        if mesh_dim is None:
            if self.ndim != 1:
                raise RuntimeError(
                    f"Found the DeviceMesh have {self.ndim} dimensions. Optional kwarg `mesh_dim` "
                    "needs to be specified when device_mesh.ndim > 1."
                )
            return 0
        if isinstance(mesh_dim, str):
            if not self.mesh_dim_names or mesh_dim not in self.mesh_dim_names:
                raise KeyError(
                    f"Mesh dimension '{mesh_dim}' does not exist. Available mesh dimensions "
                    f"are: mesh_dim_names={self.mesh_dim_names}"
                )
            return self.mesh_dim_names.index(mesh_dim)
        d = int(mesh_dim)
        if not -self.ndim <= d < self.ndim:
            raise IndexError(f"mesh_dim {d} is out of range for a {self.ndim}-D DeviceMesh")
        return d % self.ndim

    def get_group(self, mesh_dim: int | str | None = None) -> Any:
        """The process group of this rank's slice along ``mesh_dim``."""
        g = self._dim_groups[self._dim(mesh_dim)]
        if g is None:
            raise RuntimeError("DeviceMesh.get_group: this rank is not part of the mesh")
        return g

    def get_all_groups(self) -> list[Any]:
        return [self.get_group(d) for d in range(self.ndim)]

    def get_rank(self) -> int:
        """This process's global rank."""
        return self._rank

    def get_local_rank(self, mesh_dim: int | str | None = None) -> int:
        """This rank's coordinate along ``mesh_dim`` (its rank in that dimension's group)."""
        d = self._dim(mesh_dim)
        if self._coord is None:
            raise RuntimeError("DeviceMesh.get_local_rank: this rank is not part of the mesh")
        return self._coord[d]

    def get_coordinate(self) -> list[int] | None:
        return None if self._coord is None else list(self._coord)

    def __getitem__(self, mesh_dim_names: str | tuple[str, ...]) -> DeviceMesh:
        names = (mesh_dim_names,) if isinstance(mesh_dim_names, str) else tuple(mesh_dim_names)
        if not self.mesh_dim_names:
            raise RuntimeError("Cannot slice a DeviceMesh without mesh_dim_names!")
        dims = [self._dim(n) for n in names]
        if dims != sorted(dims):
            raise KeyError(
                f"Invalid mesh_dim_names {names} specified. Found mesh dim indices to slice: "
                f"{dims}. Mesh dim indices should be in ascending order."
            )
        if names == self.mesh_dim_names:
            return self
        if len(dims) != 1:
            raise NotImplementedError(
                "DeviceMesh[...]: ctorch slices one mesh dimension at a time (a sub-mesh of "
                "several dimensions would need groups formed over them)"
            )
        if self._coord is None:
            raise RuntimeError("DeviceMesh[...]: this rank is not part of the mesh")
        (d,) = dims
        idx = tuple(slice(None) if i == d else c for i, c in enumerate(self._coord))
        return DeviceMesh(
            self.device_type,
            self._arr[idx],
            mesh_dim_names=names,
            _groups=[self._dim_groups[d]],
        )

    def _strides(self) -> tuple[Any, ...]:
        """The rank step along each dimension (``()`` for a size-1 one, as torch's layout)."""
        arr, out = self._arr, []
        for d, n in enumerate(arr.shape):
            if n > 1:
                idx = tuple(1 if i == d else 0 for i in range(arr.ndim))
                out.append(int(arr[idx] - arr.flat[0]))
            else:
                out.append(())
        return tuple(out)

    def __repr__(self) -> str:
        # torch 2.13's form; TORCH_DISTRIBUTED_DEBUG=DETAIL adds the ranks
        if self.mesh_dim_names:
            sizes = (
                "("
                + ", ".join(
                    f"{k}={v}" for k, v in zip(self.mesh_dim_names, self.shape, strict=True)
                )
                + ")"
            )
        else:
            sizes = str(self.shape)
        out = f"DeviceMesh({sizes}, '{self.device_type}', stride={self._strides()}"
        if os.environ.get("TORCH_DISTRIBUTED_DEBUG", "") == "DETAIL":
            out += f", Mesh: {self._arr.tolist()}"
        return out + ")"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DeviceMesh):
            return False
        return (
            self.device_type == other.device_type
            and self._arr.shape == other._arr.shape
            and bool((self._arr == other._arr).all())
            and self.mesh_dim_names == other.mesh_dim_names
        )

    def __hash__(self) -> int:
        return hash((self.device_type, self._arr.shape, tuple(self._arr.ravel().tolist())))


def init_device_mesh(
    device_type: str,
    mesh_shape: tuple[int, ...],
    *,
    mesh_dim_names: tuple[str, ...] | None = None,
    backend_override: Any = None,
) -> DeviceMesh:
    """A mesh of ``mesh_shape`` over ranks ``0..world-1`` in row-major order
    (``torch.distributed.device_mesh.init_device_mesh``); initialises the default process group
    from the environment first when needed."""
    dist = _dist()
    shape = tuple(int(s) for s in mesh_shape)
    if mesh_dim_names is not None:
        if len(set(mesh_dim_names)) != len(mesh_dim_names):
            raise RuntimeError(
                "Each mesh_dim_name must be unique.",
                f"Found repeated mesh_dim_name in mesh_dim_names {mesh_dim_names}",
            )
        if len(mesh_shape) != len(mesh_dim_names):
            raise RuntimeError(
                "mesh_shape and mesh_dim_names should have same length!",
                f"Found len(mesh_dim_names): {len(mesh_dim_names)} and len(mesh_shape):"
                f"{len(mesh_shape)}.",
            )
    if device_type and not device_type.isalpha():
        raise RuntimeError(
            f"Device type with index is not supported but got {device_type}. If you maintained "
            "a 'torch.device' object, it's recommended to pass in 'device.type'."
        )
    if not dist.is_initialized():
        dist.init_process_group()
    world = dist.get_world_size()
    n = int(np.prod(shape)) if shape else 1
    if n != world:
        raise RuntimeError(
            f"init_device_mesh: mesh_shape {shape} has {n} ranks but the world size is {world}"
        )
    mesh = np.arange(world, dtype=np.int64).reshape(shape)
    return DeviceMesh(device_type, mesh, mesh_dim_names=mesh_dim_names)
