"""Process groups and collectives on tensors, with ``torch.distributed``'s names and semantics.

Rank and world size come from the MPI launcher (``mpirun -n 2 python train.py``) or, for
processes started without MPI, from ``RANK``/``WORLD_SIZE`` (or the arguments), the ranks then
meeting over TCP at ``MASTER_ADDR:MASTER_PORT`` or ``init_method="tcp://host:port"``
(``_tcp.py``; ``timeout`` bounds that rendezvous; ``store`` is not supported and ignored).
``backend="mpi"`` runs everything through ``mpi4py``; ``"gloo"`` (the default) runs CPU tensors
over MPI under mpirun and over TCP otherwise; ``backend="nccl"`` runs CUDA tensors through
``cupy.cuda.nccl`` (the unique id is exchanged over the host backend, which still carries CPU
tensors and Python objects).

Collectives are in place, as torch's: ``all_reduce(t)`` overwrites ``t``; ``async_op=True``
returns a :class:`Work`. ``src``/``dst`` arguments are global ranks, as torch's.

Checks: every call before :func:`init_process_group` raises torch's "Default process group has
not been initialized" error. The gathering/scattering collectives (``all_gather``,
``all_gather_into_tensor``, ``gather``, ``scatter``, ``reduce_scatter``,
``reduce_scatter_tensor``) always exchange the tensors' shapes and dtypes first (a small
pickled ``allgather``, tens of microseconds) so that every rank raises the same clear error
on a mismatch instead of MPI truncating or hanging. ``all_reduce``/``broadcast``/``reduce``,
which DDP calls every step, check only when ``TORCH_DISTRIBUTED_DEBUG`` (or
``CTORCH_DISTRIBUTED_DEBUG``) is ``DETAIL``, as torch checks collective consistency only in
its debug mode.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from datetime import timedelta
from typing import Any

import numpy as np

from .._tensor import Tensor
from . import _tcp
from ._backends import MPI_HINT, MPIBackend, NCCLBackend, ReduceOp, Work

__all__ = [
    "Backend",
    "GroupMember",
    "P2POp",
    "ProcessGroup",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "all_reduce",
    "barrier",
    "batch_isend_irecv",
    "broadcast",
    "broadcast_object_list",
    "destroy_process_group",
    "gather",
    "get_backend",
    "get_default_backend_for_device",
    "get_global_rank",
    "get_group_rank",
    "get_process_group_ranks",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "irecv",
    "is_available",
    "is_gloo_available",
    "is_initialized",
    "is_mpi_available",
    "is_nccl_available",
    "isend",
    "new_group",
    "recv",
    "reduce",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "scatter",
    "send",
]

_NOT_INIT = (
    "Default process group has not been initialized, please make sure to call init_process_group."
)


class Backend(str):
    """Backend names, as ``torch.distributed.Backend`` (``Backend("MPI") == "mpi"``)."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    MPI = "mpi"
    NCCL = "nccl"

    def __new__(cls, name: str) -> Backend:
        return str.__new__(cls, name.lower())


# ------------------------------------------------------------------------------ availability
def is_mpi_available() -> bool:
    """True when ``mpi4py`` is installed (found without importing it: importing
    ``mpi4py.MPI`` initialises MPI)."""
    if "mpi4py" in sys.modules:
        return sys.modules["mpi4py"] is not None
    try:
        return importlib.util.find_spec("mpi4py") is not None
    except (ImportError, ValueError):
        return False


def is_nccl_available() -> bool:
    """True when CuPy with NCCL support is importable."""
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        from cupy.cuda import nccl
    except Exception:
        return False
    return bool(getattr(nccl, "available", True))


def is_available() -> bool:
    """True when a backend can be used (``mpi4py`` installed, or CuPy with NCCL)."""
    return is_mpi_available() or is_nccl_available()


def is_gloo_available() -> bool:
    return True  # the "gloo" backend: CPU tensors over ctorch's TCP transport (or MPI)


def is_torchelastic_launched() -> bool:
    """True under a torchrun-style launcher (``ctorch.distributed.run`` sets the variable)."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def _import_mpi() -> Any:
    try:
        from mpi4py import MPI
    except (ImportError, OSError, RuntimeError) as e:
        raise ImportError(f"{MPI_HINT} ({type(e).__name__}: {e})") from e
    return MPI


def _debug() -> bool:
    v = os.environ.get("CTORCH_DISTRIBUTED_DEBUG") or os.environ.get("TORCH_DISTRIBUTED_DEBUG")
    return (v or "").upper() == "DETAIL"


# ------------------------------------------------------------------------------ groups
class ProcessGroup:
    """A set of ranks with a host backend (``_mpi``: an MPI communicator or the TCP mesh's
    ``TCPBackend``; both carry CPU tensors and the objects) and an NCCL one for nccl."""

    def __init__(
        self,
        backend: str,
        mpi: MPIBackend | _tcp.TCPBackend,
        nccl: NCCLBackend | None,
        ranks: list[int],
    ) -> None:
        self._backend_name = backend
        self._mpi = mpi
        self._nccl = nccl
        self._ranks = ranks  # global ranks, index = group rank

    def rank(self) -> int:
        return self._mpi.rank

    def size(self) -> int:
        return self._mpi.size

    def name(self) -> str:
        return self._backend_name.upper()

    def _impl(self, t: Tensor, call: str) -> Any:
        if type(t._a) is np.ndarray:
            return self._mpi
        if self._nccl is None:
            raise ValueError(
                f"{call}: the '{self._backend_name}' backend takes CPU tensors; got a tensor on "
                f"{t.device} (use init_process_group(backend='nccl') for CUDA tensors)"
            )
        return self._nccl

    def _group_rank(self, global_rank: int, call: str) -> int:
        try:
            return self._ranks.index(int(global_rank))
        except ValueError:
            raise ValueError(
                f"{call}: global rank {global_rank} is not part of the group (ranks {self._ranks})"
            ) from None

    def __repr__(self) -> str:
        return f"<ctorch.distributed.ProcessGroup {self.name()} ranks={self._ranks}>"


class GroupMember:
    """``GroupMember.WORLD`` is the default group once initialised; ``NON_GROUP_MEMBER`` is
    what :func:`new_group` returns on ranks outside the new group."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = object()


group = GroupMember  # torch.distributed.group.WORLD

_state: dict[str, Any] = {"world": None, "groups": []}


def _world(call: str) -> ProcessGroup:
    pg = _state["world"]
    if pg is None:
        raise RuntimeError(f"{call}: {_NOT_INIT}")
    return pg


def _group(group: Any, call: str) -> ProcessGroup | None:
    """The group to run on, or None on a rank outside ``group`` (the call is then a no-op)."""
    w = _world(call)
    if group is None or group is GroupMember.WORLD:
        return w
    if group is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"{call}: group must be a ProcessGroup, got {type(group).__name__}")
    return group


def is_initialized() -> bool:
    return _state["world"] is not None


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
    store: Any = None,
    group_name: str = "",
    pg_options: Any = None,
    device_id: Any = None,
) -> None:
    """Initialise the default process group.

    How the ranks meet: processes started by ``mpirun`` (``python -m ctorch.distributed.run``
    with its default launcher) and the ``"mpi"`` backend use MPI (``world_size``/``rank``, when
    given, must agree with the launcher's); plain processes (torchrun style, ``--launcher
    subprocess``, or started by hand) meet over TCP at ``MASTER_ADDR:MASTER_PORT`` or the
    ``tcp://host:port`` init method, with ``RANK``/``WORLD_SIZE`` from the environment or the
    arguments (``_tcp.py``). ``backend``: ``"gloo"`` (the default) or ``"mpi"`` for CPU tensors,
    ``"nccl"`` for CUDA tensors (rank 0 creates NCCL's unique id and sends it to the others).
    """
    if _state["world"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = "gloo" if backend is None else str(backend).lower()
    explicit_mpi = name in ("mpi", "cpu:mpi")
    if "nccl" in name:
        name = "nccl"
    elif name in ("mpi", "gloo", "cpu:gloo", "cpu:mpi") or name.startswith("cpu:"):
        name = "mpi"
    else:
        raise ValueError(
            f"Invalid backend {backend!r}: ctorch.distributed supports 'gloo' (CPU tensors, over "
            "TCP or MPI), 'mpi' (CPU tensors over MPI) and 'nccl' (CUDA tensors)"
        )
    world_size, rank = _from_init_method(init_method, world_size, rank)
    host: Any = _tcp_host(init_method, explicit_mpi, world_size, rank)
    if host is not None:  # plain processes (torchrun style): meet over TCP
        size = int(world_size)
        host = _tcp.rendezvous(host[0], host[1], int(rank), size, _seconds(timeout))
    else:
        host = _mpi_host(world_size, rank)
        size = host.size
    nccl = _make_nccl(host, device_id) if name == "nccl" else None
    label = "gloo" if isinstance(host, _tcp.TCPBackend) and name == "mpi" else name
    pg = ProcessGroup(label, host, nccl, list(range(size)))
    if backend is not None:  # get_backend() answers the name asked for ("gloo" may run on MPI)
        pg._requested_name = str(backend).lower()
    _state["world"] = pg
    _state["groups"] = [pg]
    GroupMember.WORLD = pg


def _seconds(timeout: Any) -> float | None:
    if timeout is None:
        return None
    return float(timeout.total_seconds()) if hasattr(timeout, "total_seconds") else float(timeout)


def _tcp_host(init_method: Any, explicit_mpi: bool, world_size: Any, rank: Any) -> Any:
    """The rendezvous address when the ranks meet over TCP, else None (MPI): TCP unless the
    'mpi' backend was asked for or mpirun started this process; a world of one needs no
    address at all."""
    if explicit_mpi or _tcp.launched_by_mpi():
        return None
    addr = _tcp.tcp_address(init_method)
    known = world_size not in (-1, None) and rank not in (-1, None)
    if addr is None:
        if known and int(world_size) == 1:
            return ("127.0.0.1", 0)
        return None  # MPI's singleton world (or its clear error without mpi4py)
    if not known:
        raise ValueError(
            "init_process_group: the ranks meet at "
            f"{addr[0]}:{addr[1]} but this process's rank and world size are not known: set "
            "RANK and WORLD_SIZE (a launcher such as python -m ctorch.distributed.run does) or "
            "pass rank= and world_size="
        )
    return addr


def _mpi_host(world_size: Any, rank: Any) -> MPIBackend:
    MPI = _import_mpi()
    comm = MPI.COMM_WORLD.Dup()  # our own communicator: user MPI traffic cannot interleave
    size, me = comm.Get_size(), comm.Get_rank()
    if world_size not in (-1, None) and int(world_size) != size:
        comm.Free()
        raise ValueError(
            f"init_process_group: world_size={world_size} but the MPI launcher started {size} "
            f"process(es). Start the script with "
            f"`python -m ctorch.distributed.run --nproc-per-node {world_size} script.py` or "
            f"`mpirun -n {world_size} python script.py`, or set MASTER_ADDR/MASTER_PORT for "
            "the TCP rendezvous"
        )
    if rank not in (-1, None) and int(rank) != me:
        comm.Free()
        raise ValueError(f"init_process_group: rank={rank} but the MPI rank is {me}")
    return MPIBackend(comm, MPI)


def _from_init_method(init_method: str | None, world_size: Any, rank: Any) -> tuple[Any, Any]:
    """torch's ``env://`` (the default): ``WORLD_SIZE``/``RANK`` from the environment when
    not given (a launcher such as ``ctorch.distributed.run`` sets them); ``tcp://``/``file://``
    addresses are accepted (the ranks meet over MPI) and their ``world_size``/``rank``
    query parameters read. Whatever is found must agree with the MPI launch."""
    method = "env://" if init_method is None else str(init_method)
    if method.startswith("env://"):
        if world_size in (-1, None) and os.environ.get("WORLD_SIZE"):
            world_size = int(os.environ["WORLD_SIZE"])
        if rank in (-1, None) and os.environ.get("RANK"):
            rank = int(os.environ["RANK"])
    elif method.startswith(("tcp://", "file://")):
        from urllib.parse import parse_qs, urlparse

        query = parse_qs(urlparse(method).query)
        if world_size in (-1, None) and "world_size" in query:
            world_size = int(query["world_size"][0])
        if rank in (-1, None) and "rank" in query:
            rank = int(query["rank"][0])
    else:
        raise ValueError(
            f"init_process_group: unsupported init_method {init_method!r} (use env://, "
            "tcp://host:port or file:///path)"
        )
    return world_size, rank


def _make_nccl(mpi: MPIBackend | _tcp.TCPBackend, device_id: Any = None) -> NCCLBackend:
    if not is_nccl_available():
        raise ImportError(
            "the nccl backend needs CuPy with NCCL: pip install 'ctorch[cuda12]' (or cuda13) "
            "and the NCCL library (pip install nvidia-nccl-cu12)"
        )
    import cupy
    from cupy.cuda import nccl

    if device_id is not None:
        idx = getattr(device_id, "index", device_id)
        cupy.cuda.Device(int(idx)).use()
    uid = nccl.get_unique_id() if mpi.rank == 0 else None
    uid = mpi.bcast_obj(uid, 0)
    comm = nccl.NcclCommunicator(mpi.size, uid, mpi.rank)
    return NCCLBackend(comm, mpi.rank, mpi.size)


def destroy_process_group(group: Any = None) -> None:
    """Free the communicators of ``group`` (all groups when None); MPI itself stays
    initialised (it cannot be re-initialised in one process), so init may be called again."""
    if group is None or group is GroupMember.WORLD:
        for pg in _state["groups"]:
            if pg._nccl is not None:
                pg._nccl.destroy()
            pg._mpi.destroy()
        _state["world"] = None
        _state["groups"] = []
        GroupMember.WORLD = None
        return
    if isinstance(group, ProcessGroup):
        if group._nccl is not None:
            group._nccl.destroy()
        group._mpi.destroy()
        if group in _state["groups"]:
            _state["groups"].remove(group)


def new_group(
    ranks: list[int] | None = None,
    timeout: timedelta | None = None,
    backend: str | None = None,
    pg_options: Any = None,
    use_local_synchronization: bool = False,
    group_desc: str | None = None,
    device_id: Any = None,
) -> Any:
    """A group of the given global ranks (all ranks when None). As torch's, every process
    must call it (an MPI ``Comm_split``, or a new group id on the TCP mesh); ranks outside get ``GroupMember.NON_GROUP_MEMBER``."""
    w = _world("new_group")
    members = list(range(w.size())) if ranks is None else sorted({int(r) for r in ranks})
    for r in members:
        if not 0 <= r < w.size():
            raise ValueError(f"new_group: rank {r} is out of range for world size {w.size()}")
    sub = w._mpi.split(members)
    name = w._backend_name if backend is None else str(backend).lower()
    if sub is None:
        return GroupMember.NON_GROUP_MEMBER
    nccl_sub = _make_nccl(sub) if name == "nccl" else None
    pg = ProcessGroup(name, sub, nccl_sub, [w._ranks[r] for r in members])
    _state["groups"].append(pg)
    return pg


def get_rank(group: Any = None) -> int:
    """This process's rank in ``group`` (-1 when it is not a member)."""
    g = _group(group, "get_rank")
    return -1 if g is None else g.rank()


def get_world_size(group: Any = None) -> int:
    g = _group(group, "get_world_size")
    return -1 if g is None else g.size()


def get_default_backend_for_device(device: Any) -> str:
    """The backend torch picks for a device type: "gloo" for the CPU, "nccl" for CUDA."""
    dev = getattr(device, "type", None) or str(device).split(":")[0]
    table = {"cpu": "gloo", "cuda": "nccl"}
    if dev not in table:
        raise ValueError(f"Default backend not registered for device : {dev}")
    return table[dev]


def get_backend(group: Any = None) -> str:
    g = _group(group, "get_backend")
    if g is None:
        raise ValueError("Invalid process group specified")
    return Backend(getattr(g, "_requested_name", g._backend_name))


def get_process_group_ranks(group: Any) -> list[int]:
    g = _group(group, "get_process_group_ranks")
    return [] if g is None else list(g._ranks)


def get_group_rank(group: Any, global_rank: int) -> int:
    g = _group(group, "get_group_rank")
    if g is None:
        raise ValueError("Invalid process group specified")
    return g._group_rank(global_rank, "get_group_rank")


def get_global_rank(group: Any, group_rank: int) -> int:
    g = _group(group, "get_global_rank")
    if g is None:
        raise ValueError("Invalid process group specified")
    return g._ranks[group_rank]


# ------------------------------------------------------------------------------ helpers
def _check_tensor(t: Any, call: str, name: str = "tensor") -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{call}: {name} must be a ctorch.Tensor, got {type(t).__name__}")


def _contig(t: Tensor) -> Any:
    """The tensor's array if C-contiguous, else a contiguous copy (copied back by _finish)."""
    a = t._a
    if a.flags.c_contiguous:
        return a
    if type(a) is np.ndarray:
        return np.ascontiguousarray(a)
    import cupy

    return cupy.ascontiguousarray(a)


def _finish(t: Tensor, buf: Any) -> None:
    """After an in-place collective: copy back a contiguous stand-in, bump the version."""
    if buf is not t._a:
        t._a[...] = buf
    t._bump()


def _meta(t: Tensor | None) -> tuple | None:
    return None if t is None else (tuple(t._a.shape), str(t._a.dtype))


def _fmt(m: tuple | None) -> str:
    return "None" if m is None else f"shape {m[0]} dtype {m[1]}"


def _exchange(g: ProcessGroup, info: Any) -> list[Any]:
    return g._mpi.allgather_obj(info)


def _check_same(g: ProcessGroup, call: str, t: Tensor) -> None:
    """(debug mode) every rank passed a tensor of the same shape and dtype."""
    metas = _exchange(g, _meta(t))
    for r, m in enumerate(metas):
        if m != metas[0]:
            raise ValueError(
                f"{call}: tensors differ across ranks: rank {g._ranks[0]} has {_fmt(metas[0])}, "
                f"rank {g._ranks[r]} has {_fmt(m)}"
            )


def _new_like(a: Any, shape: tuple) -> Any:
    if type(a) is np.ndarray:
        return np.empty(shape, dtype=a.dtype)
    import cupy

    return cupy.empty(shape, dtype=a.dtype)


# ------------------------------------------------------------------------------ collectives
def all_reduce(
    tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False
) -> Work | None:
    """Reduce ``tensor`` across all ranks in place (every rank gets the result)."""
    g = _group(group, "all_reduce")
    _check_tensor(tensor, "all_reduce")
    if g is None:
        return None
    op = _op(op)
    if _debug():
        _check_same(g, "all_reduce", tensor)
    buf = _contig(tensor)
    w = g._impl(tensor, "all_reduce").all_reduce(buf, op, async_op)
    w._result = [tensor]
    w._then(lambda: _finish(tensor, buf))
    return w if async_op else None


def _op(op: Any) -> ReduceOp:
    if isinstance(op, ReduceOp):
        return op
    if isinstance(op, str) and op.upper() in ReduceOp.__members__:
        return ReduceOp[op.upper()]
    raise ValueError(f"unknown reduce op {op!r}")


def broadcast(
    tensor: Tensor, src: int = 0, group: Any = None, async_op: bool = False
) -> Work | None:
    """Copy ``tensor`` from global rank ``src`` to every rank, in place."""
    g = _group(group, "broadcast")
    _check_tensor(tensor, "broadcast")
    if g is None:
        return None
    root = g._group_rank(src, "broadcast")
    if _debug():
        _check_same(g, "broadcast", tensor)
    buf = _contig(tensor)
    w = g._impl(tensor, "broadcast").broadcast(buf, root, async_op)
    w._result = [tensor]
    w._then(lambda: _finish(tensor, buf))
    return w if async_op else None


def reduce(
    tensor: Tensor,
    dst: int = 0,
    op: ReduceOp = ReduceOp.SUM,
    group: Any = None,
    async_op: bool = False,
) -> Work | None:
    """Reduce ``tensor`` onto global rank ``dst`` (in place there; other ranks unchanged)."""
    g = _group(group, "reduce")
    _check_tensor(tensor, "reduce")
    if g is None:
        return None
    root = g._group_rank(dst, "reduce")
    op = _op(op)
    if _debug():
        _check_same(g, "reduce", tensor)
    buf = _contig(tensor)
    w = g._impl(tensor, "reduce").reduce(buf, op, root, async_op)
    w._result = [tensor]
    if g.rank() == root:
        w._then(lambda: _finish(tensor, buf))
    return w if async_op else None


def all_gather(
    tensor_list: list[Tensor], tensor: Tensor, group: Any = None, async_op: bool = False
) -> Work | None:
    """Gather ``tensor`` from every rank into ``tensor_list`` (one tensor per rank; on the MPI
    backend ranks may send different shapes, matching ``tensor_list``'s, as torch's NCCL)."""
    g = _group(group, "all_gather")
    _check_tensor(tensor, "all_gather")
    if g is None:
        return None
    n = g.size()
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != n:
        raise ValueError(
            f"all_gather: tensor_list must be a list of {n} tensors (the world size), got "
            f"{len(tensor_list) if isinstance(tensor_list, (list, tuple)) else tensor_list!r}"
        )
    for i, o in enumerate(tensor_list):
        _check_tensor(o, "all_gather", f"tensor_list[{i}]")
        if o._a.dtype != tensor._a.dtype:
            raise ValueError(
                f"all_gather: tensor_list[{i}] has dtype {o._a.dtype} but the input tensor has "
                f"dtype {tensor._a.dtype}"
            )
    # every rank sees every rank's input and expected shapes, so all raise the same error
    infos = _exchange(g, (_meta(tensor), [_meta(o) for o in tensor_list]))
    for src, (m_src, _) in enumerate(infos):
        for dst, (_, expect) in enumerate(infos):
            if expect[src][1] != m_src[1] or int(np.prod(expect[src][0])) != int(np.prod(m_src[0])):
                raise ValueError(
                    f"all_gather: rank {g._ranks[src]} sends a tensor of {_fmt(m_src)} but "
                    f"tensor_list[{src}] on rank {g._ranks[dst]} has {_fmt(expect[src])}"
                )
    send = _contig(tensor)
    counts = [int(np.prod(m[0][0])) * tensor._a.dtype.itemsize for m in infos]
    recv = _new_like(send, (sum(counts) // max(tensor._a.dtype.itemsize, 1),))
    uneven = len(set(counts)) > 1
    w = g._impl(tensor, "all_gather").all_gather(send, recv, counts if uneven else None, async_op)

    def _copy_out() -> None:
        off = 0
        for o in tensor_list:
            k = o._a.size
            o._a[...] = recv[off : off + k].reshape(o._a.shape)
            o._bump()
            off += k

    w._result = list(tensor_list)
    w._then(_copy_out)
    return w if async_op else None


def all_gather_into_tensor(
    output_tensor: Tensor, input_tensor: Tensor, group: Any = None, async_op: bool = False
) -> Work | None:
    """Gather every rank's ``input_tensor`` into ``output_tensor`` (rank order along dim 0:
    shape ``(world_size * n, ...)`` or ``(world_size, n, ...)``)."""
    g = _group(group, "all_gather_into_tensor")
    _check_tensor(output_tensor, "all_gather_into_tensor", "output_tensor")
    _check_tensor(input_tensor, "all_gather_into_tensor", "input_tensor")
    if g is None:
        return None
    infos = _exchange(g, (_meta(input_tensor), _meta(output_tensor)))
    n = g.size()
    for r, (mi, mo) in enumerate(infos):
        bad = mi != infos[0][0] or mo[1] != mi[1] or int(np.prod(mo[0])) != n * int(np.prod(mi[0]))
        if bad:
            raise ValueError(
                f"all_gather_into_tensor: input tensors must have one shape and dtype on all "
                f"ranks and output_tensor must hold world_size ({n}) of them: rank "
                f"{g._ranks[0]} has input {_fmt(infos[0][0])}, rank {g._ranks[r]} has input "
                f"{_fmt(mi)} and output {_fmt(mo)}"
            )
    send, recv = _contig(input_tensor), _contig(output_tensor)
    w = g._impl(input_tensor, "all_gather_into_tensor").all_gather(send, recv, None, async_op)
    w._result = [output_tensor]
    w._then(lambda: _finish(output_tensor, recv))
    return w if async_op else None


def _scatter_checks(g: ProcessGroup, call: str, t: Tensor, lst: Any, root: int, name: str):
    if g.rank() == root:
        if lst is None or len(lst) != g.size():
            raise ValueError(
                f"{call}: {name} on the source/destination rank must be a list of "
                f"{g.size()} tensors (the world size)"
            )
        for i, o in enumerate(lst):
            _check_tensor(o, call, f"{name}[{i}]")
    elif lst:
        raise ValueError(f"{call}: Argument ``{name}`` must NOT be specified on non-root ranks.")
    infos = _exchange(g, (_meta(t), [_meta(o) for o in lst] if g.rank() == root else None))
    lmeta = infos[root][1]
    for r, (m, _) in enumerate(infos):
        if m != lmeta[r]:
            raise ValueError(
                f"{call}: rank {g._ranks[r]} has a tensor of {_fmt(m)} but {name}[{r}] on rank "
                f"{g._ranks[root]} has {_fmt(lmeta[r])}"
            )


def gather(
    tensor: Tensor,
    gather_list: list[Tensor] | None = None,
    dst: int = 0,
    group: Any = None,
    async_op: bool = False,
) -> Work | None:
    """Gather ``tensor`` from every rank into ``gather_list`` on global rank ``dst``."""
    g = _group(group, "gather")
    _check_tensor(tensor, "gather")
    if g is None:
        return None
    root = g._group_rank(dst, "gather")
    _scatter_checks(g, "gather", tensor, gather_list, root, "gather_list")
    send = _contig(tensor)
    recv = _new_like(send, (g.size() * send.size,)) if g.rank() == root else None
    w = g._impl(tensor, "gather").gather(send, recv, root, async_op)

    def _copy_out() -> None:
        k = send.size
        for i, o in enumerate(gather_list):
            o._a[...] = recv[i * k : (i + 1) * k].reshape(o._a.shape)
            o._bump()

    if g.rank() == root:
        w._result = list(gather_list)
        w._then(_copy_out)
    return w if async_op else None


def scatter(
    tensor: Tensor,
    scatter_list: list[Tensor] | None = None,
    src: int = 0,
    group: Any = None,
    async_op: bool = False,
) -> Work | None:
    """Send ``scatter_list[i]`` from global rank ``src`` into ``tensor`` on rank ``i``."""
    g = _group(group, "scatter")
    _check_tensor(tensor, "scatter")
    if g is None:
        return None
    root = g._group_rank(src, "scatter")
    _scatter_checks(g, "scatter", tensor, scatter_list, root, "scatter_list")
    recv = _contig(tensor)
    send = None
    if g.rank() == root:
        xp = np if type(recv) is np.ndarray else __import__("cupy")
        send = xp.concatenate([xp.ascontiguousarray(o._a).reshape(-1) for o in scatter_list])
    w = g._impl(tensor, "scatter").scatter(send, recv, root, async_op)
    w._result = [tensor]
    w._then(lambda: _finish(tensor, recv))
    return w if async_op else None


def reduce_scatter(
    output: Tensor,
    input_list: list[Tensor],
    op: ReduceOp = ReduceOp.SUM,
    group: Any = None,
    async_op: bool = False,
) -> Work | None:
    """Reduce ``input_list[i]`` over all ranks into ``output`` on rank ``i``."""
    g = _group(group, "reduce_scatter")
    _check_tensor(output, "reduce_scatter", "output")
    if g is None:
        return None
    op = _op(op)
    if not isinstance(input_list, (list, tuple)) or len(input_list) != g.size():
        raise ValueError(
            f"reduce_scatter: input_list must be a list of {g.size()} tensors (the world size)"
        )
    infos = _exchange(g, (_meta(output), [_meta(t) for t in input_list]))
    for r, (mo, ml) in enumerate(infos):
        for i, m in enumerate(ml):
            if m != infos[0][0]:
                raise ValueError(
                    f"reduce_scatter: every input_list entry must match the output's shape and "
                    f"dtype on every rank: rank {g._ranks[0]}'s output has {_fmt(infos[0][0])} "
                    f"but input_list[{i}] on rank {g._ranks[r]} has {_fmt(m)}"
                )
        if mo != infos[0][0]:
            raise ValueError(
                f"reduce_scatter: outputs differ across ranks: rank {g._ranks[0]} has "
                f"{_fmt(infos[0][0])}, rank {g._ranks[r]} has {_fmt(mo)}"
            )
    recv = _contig(output)
    xp = np if type(recv) is np.ndarray else __import__("cupy")
    send = xp.concatenate([xp.ascontiguousarray(t._a).reshape(-1) for t in input_list])
    w = g._impl(output, "reduce_scatter").reduce_scatter(send, recv, op, async_op)
    w._result = [output]
    w._then(lambda: _finish(output, recv))
    return w if async_op else None


def reduce_scatter_tensor(
    output: Tensor,
    input: Tensor,
    op: ReduceOp = ReduceOp.SUM,
    group: Any = None,
    async_op: bool = False,
) -> Work | None:
    """Reduce ``input`` (world_size chunks along dim 0) over all ranks; rank ``i`` gets
    chunk ``i`` in ``output``."""
    g = _group(group, "reduce_scatter_tensor")
    _check_tensor(output, "reduce_scatter_tensor", "output")
    _check_tensor(input, "reduce_scatter_tensor", "input")
    if g is None:
        return None
    op = _op(op)
    n = g.size()
    infos = _exchange(g, (_meta(output), _meta(input)))
    for r, (mo, mi) in enumerate(infos):
        bad = mo != infos[0][0] or mi[1] != mo[1] or int(np.prod(mi[0])) != n * int(np.prod(mo[0]))
        if bad:
            raise ValueError(
                f"reduce_scatter_tensor: input must hold world_size ({n}) outputs, with one "
                f"shape and dtype on all ranks: rank {g._ranks[0]} has output "
                f"{_fmt(infos[0][0])}, rank {g._ranks[r]} has output {_fmt(mo)} and input "
                f"{_fmt(mi)}"
            )
    send, recv = _contig(input), _contig(output)
    w = g._impl(output, "reduce_scatter_tensor").reduce_scatter(send, recv, op, async_op)
    w._result = [output]
    w._then(lambda: _finish(output, recv))
    return w if async_op else None


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Block until every rank of ``group`` has reached the barrier."""
    g = _group(group, "barrier")
    if g is None:
        return None
    if g._nccl is not None:  # queued GPU work first, as torch's NCCL barrier
        import cupy

        cupy.cuda.get_current_stream().synchronize()
    w = g._mpi.barrier(async_op)
    return w if async_op else None


# ------------------------------------------------------------------------------ point to point
def _p2p_group(group: Any, call: str) -> ProcessGroup:
    g = _group(group, call)
    if g is None:
        raise ValueError(f"{call}: this rank is not part of the group")
    return g


def isend(tensor: Tensor, dst: int, group: Any = None, tag: int = 0) -> Work:
    """Send ``tensor`` to global rank ``dst`` without waiting (``wait()`` the handle before
    modifying ``tensor``)."""
    g = _p2p_group(group, "isend")
    _check_tensor(tensor, "isend")
    peer = g._group_rank(dst, "isend")
    if peer == g.rank():
        raise ValueError("isend: invalid destination rank: should not be the same as the rank")
    buf = _contig(tensor)
    return g._impl(tensor, "isend").send(buf, peer, tag, True)


def send(tensor: Tensor, dst: int, group: Any = None, tag: int = 0) -> None:
    """Send ``tensor`` to global rank ``dst`` (blocking)."""
    isend(tensor, dst, group, tag).wait()


def _recv(tensor: Tensor, src: int | None, group: Any, tag: int, call: str) -> tuple[Work, Any]:
    g = _p2p_group(group, call)
    _check_tensor(tensor, call)
    peer = None if src is None else g._group_rank(src, call)
    if peer is not None and peer == g.rank():
        raise ValueError(f"{call}: invalid source rank: should not be the same as the rank")
    buf = _contig(tensor)
    w, status = g._impl(tensor, call).recv(buf, peer, tag, True)
    nbytes = buf.size * buf.dtype.itemsize

    def _check_and_finish() -> None:
        if status is not None:
            got = status.Get_count()  # bytes (mpi4py's default datatype is BYTE)
            if got != nbytes:
                raise RuntimeError(
                    f"{call}: expected {nbytes} bytes ({_fmt(_meta(tensor))}) but rank "
                    f"{g._ranks[status.Get_source()]} sent {got} bytes"
                )
        _finish(tensor, buf)

    w._result = [tensor]
    w._then(_check_and_finish)
    src_of = (lambda: g._ranks[status.Get_source()]) if status is not None else (lambda: src)
    return w, src_of


def irecv(tensor: Tensor, src: int | None = None, group: Any = None, tag: int = 0) -> Work:
    """Receive into ``tensor`` from global rank ``src`` (any rank when None) without waiting."""
    return _recv(tensor, src, group, tag, "irecv")[0]


def recv(tensor: Tensor, src: int | None = None, group: Any = None, tag: int = 0) -> int:
    """Receive into ``tensor`` (blocking); returns the sender's global rank."""
    w, src_of = _recv(tensor, src, group, tag, "recv")
    w.wait()
    return int(src_of())


class P2POp:
    """A point-to-point operation for :func:`batch_isend_irecv` (``op`` is isend or irecv)."""

    def __init__(
        self, op: Any, tensor: Tensor, peer: int | None = None, group: Any = None, tag: int = 0
    ) -> None:
        if op not in (isend, irecv):
            raise ValueError(
                "Invalid ``op``. Expected ``op`` to be of type ``isend`` or ``irecv``."
            )
        self.op, self.tensor, self.peer, self.group, self.tag = op, tensor, peer, group, tag


def batch_isend_irecv(p2p_op_list: list[P2POp]) -> list[Work]:
    """Start every operation of the list; returns their work handles."""
    return [p.op(p.tensor, p.peer, p.group, p.tag) for p in p2p_op_list]


# ------------------------------------------------------------------------------ objects
def all_gather_object(object_list: list[Any], obj: Any, group: Any = None) -> None:
    """Gather picklable ``obj`` from every rank into ``object_list`` (over MPI)."""
    g = _group(group, "all_gather_object")
    if g is None:
        return
    got = g._mpi.allgather_obj(obj)  # mpi4py pickles
    if len(object_list) < len(got):
        raise ValueError(f"all_gather_object: object_list must have {len(got)} entries")
    object_list[: len(got)] = got


def broadcast_object_list(
    object_list: list[Any], src: int = 0, group: Any = None, device: Any = None
) -> None:
    """Replace ``object_list``'s entries with global rank ``src``'s (over MPI)."""
    g = _group(group, "broadcast_object_list")
    if g is None:
        return
    root = g._group_rank(src, "broadcast_object_list")
    got = g._mpi.bcast_obj(list(object_list) if g.rank() == root else None, root)
    object_list[:] = got
