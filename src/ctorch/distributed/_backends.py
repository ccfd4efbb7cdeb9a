"""Array-level communication backends: MPI (``mpi4py``, NumPy buffers) and NCCL (CuPy).

Nothing here knows tensors: every function takes contiguous arrays and returns a ``Work``.
The tensor layer (``distributed_c10d``) decides layout, copies and argument checking.

* MPI: every call passes the NumPy array itself (buffer protocol, zero-copy). ``async_op``
  uses MPI's nonblocking collectives (``Iallreduce``, ``Ibcast``, ...). OpenMPI has no progress
  thread, so a nonblocking collective advances when MPI is entered again: ``Work.is_completed``
  (``MPI_Test``) drives it, and DDP tests its outstanding buckets from its autograd hooks.
* NCCL: collectives are enqueued on CuPy's current stream (so they are ordered after the
  kernels that produced their inputs and before the ones that consume their outputs, as
  torch's default); ``Work.wait()`` makes the current stream wait on an event recorded after
  the collective; ``is_completed()`` queries that event.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import numpy as np

MPI_HINT = (
    'ctorch.distributed needs mpi4py and an MPI library: pip install "ctorch[distributed]" '
    "(mpi4py), with an MPI implementation such as OpenMPI installed "
    "(Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev)"
)


class ReduceOp(enum.Enum):
    """Reduction operations, as ``torch.distributed.ReduceOp``."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"

    def __repr__(self) -> str:
        return f"<RedOpType.{self.name}>"


# ------------------------------------------------------------------------------ Work handles
class Work:
    """Handle of a (possibly) asynchronous operation, as ``torch.distributed.Work``.

    ``wait()`` blocks until the operation is complete (MPI) or makes the current CUDA stream
    wait for it (NCCL) and then runs the finishing steps (copy back of non-contiguous tensors,
    division for ``AVG``, copies into output lists) exactly once.
    """

    def __init__(self, reqs: list[Any] | None = None, result: list[Any] | None = None) -> None:
        self._reqs = reqs or []  # objects with .wait() and .test() -> bool
        self._posts: list[Callable[[], None]] = []
        self._done = not self._reqs
        self._result = result or []

    def _then(self, fn: Callable[[], None]) -> Work:
        if self._done:
            fn()
        else:
            self._posts.append(fn)
        return self

    def _finish(self) -> None:
        self._done = True
        posts, self._posts = self._posts, []
        for fn in posts:
            fn()

    def wait(self, timeout: Any = None) -> bool:
        if not self._done:
            for r in self._reqs:
                r.wait()
            self._finish()
        return True

    def is_completed(self) -> bool:
        if not self._done and all(r.test() for r in self._reqs):
            self._finish()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def exception(self) -> None:
        return None

    def result(self) -> list[Any]:
        self.wait()
        return list(self._result)

    def synchronize(self) -> None:
        self.wait()

    def __repr__(self) -> str:
        return f"<ctorch.distributed.Work completed={self._done}>"


class _MPIReq:
    __slots__ = ("req", "status", "done")

    def __init__(self, req: Any, status: Any = None) -> None:
        self.req, self.status, self.done = req, status, False

    def wait(self) -> None:
        if not self.done:
            if self.status is not None:
                self.req.Wait(self.status)
            else:
                self.req.Wait()
            self.done = True

    def test(self) -> bool:
        if not self.done:
            self.done = bool(
                self.req.Test(self.status) if self.status is not None else self.req.Test()
            )
        return self.done


def _is_direct_mpi(dt: np.dtype) -> bool:
    return dt.kind in "iufc" and dt.itemsize >= (4 if dt.kind in "fV" else 1)


def _bytes(a: Any) -> Any:
    """A byte view of a contiguous array (data movement needs no MPI datatype)."""
    return a.reshape(-1).view(np.uint8)


class MPIBackend:
    """Collectives on contiguous NumPy arrays over an MPI communicator (zero-copy)."""

    name = "mpi"

    def __init__(self, comm: Any, MPI: Any) -> None:
        self.comm = comm
        self.MPI = MPI
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self._ops = {
            ReduceOp.SUM: MPI.SUM,
            ReduceOp.AVG: MPI.SUM,
            ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX,
            ReduceOp.BAND: MPI.BAND,
            ReduceOp.BOR: MPI.BOR,
            ReduceOp.BXOR: MPI.BXOR,
        }

    # -------------------------------------------------------------- helpers
    def _work(self, req: Any, async_op: bool, status: Any = None) -> Work:
        if req is None:
            return Work()
        w = Work([_MPIReq(req, status)])
        if not async_op:
            w.wait()
        return w

    def _reduction(self, arrays: list[Any], op: ReduceOp, out: int) -> tuple[list[Any], Any, list]:
        """MPI-reducible stand-ins for ``arrays`` (one dtype), the MPI op, and the finishing
        steps for ``arrays[out]`` (the result): AVG division and casting back."""
        dt = arrays[0].dtype
        if dt == np.bool_:
            if op is ReduceOp.AVG:
                raise ValueError("Cannot use ReduceOp.AVG with boolean inputs")
            # as torch's NCCL backend: bools reduce as logical or (SUM, MAX) / and (PRODUCT, MIN)
            mop = {
                ReduceOp.SUM: self.MPI.MAX,
                ReduceOp.MAX: self.MPI.MAX,
                ReduceOp.BOR: self.MPI.MAX,
                ReduceOp.PRODUCT: self.MPI.MIN,
                ReduceOp.MIN: self.MPI.MIN,
                ReduceOp.BAND: self.MPI.MIN,
                ReduceOp.BXOR: self.MPI.BXOR,
            }[op]
            return [None if a is None else a.view(np.uint8) for a in arrays], mop, []
        if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and dt.kind not in "iu":
            raise ValueError(f"ReduceOp.{op.name} needs integer or bool tensors, got {dt}")
        if _is_direct_mpi(dt):
            bufs = arrays
        else:  # float16, bfloat16: MPI has no such type; reduce a float32 copy, cast back
            bufs = [None if a is None else a.astype(np.float32) for a in arrays]
        posts: list[Callable[[], None]] = []
        res, buf = arrays[out], bufs[out]
        if op is ReduceOp.AVG:
            n = self.size
            if buf.dtype.kind in "fcV":
                posts.append(lambda: np.divide(buf, n, out=buf))
            else:  # integers: truncating division, as NCCL's ncclAvg
                posts.append(
                    lambda: np.copyto(buf, np.sign(buf) * (np.abs(buf) // n), casting="unsafe")
                )
        if buf is not res:
            posts.append(lambda: np.copyto(res, buf, casting="unsafe"))
        return bufs, self._ops[op], posts

    def _posted(self, w: Work, posts: list) -> Work:
        for p in posts:
            w._then(p)
        return w

    # -------------------------------------------------------------- collectives
    def all_reduce(self, a: Any, op: ReduceOp, async_op: bool) -> Work:
        (b,), mop, posts = self._reduction([a], op, 0)
        if self.size == 1:
            req = None
        elif async_op:
            req = self.comm.Iallreduce(self.MPI.IN_PLACE, b, op=mop)
        else:
            self.comm.Allreduce(self.MPI.IN_PLACE, b, op=mop)
            req = None
        return self._posted(self._work(req, async_op), posts)

    def broadcast(self, a: Any, root: int, async_op: bool) -> Work:
        if self.size == 1:
            return Work()
        buf = _bytes(a)
        if async_op:
            return self._work(self.comm.Ibcast(buf, root=root), True)
        self.comm.Bcast(buf, root=root)
        return Work()

    def reduce(self, a: Any, op: ReduceOp, root: int, async_op: bool) -> Work:
        (b,), mop, posts = self._reduction([a], op, 0)
        if self.rank != root:
            posts = []  # only the destination receives (and finishes) the result
        if self.size == 1:
            return self._posted(Work(), posts)
        send = self.MPI.IN_PLACE if self.rank == root else b
        recv = b if self.rank == root else None
        if async_op:
            req = self.comm.Ireduce(send, recv, op=mop, root=root)
        else:
            self.comm.Reduce(send, recv, op=mop, root=root)
            req = None
        return self._posted(self._work(req, async_op), posts)

    def all_gather(self, send: Any, recv: Any, counts: list[int] | None, async_op: bool) -> Work:
        """Gather ``send`` from every rank into the flat ``recv``; ``counts`` (bytes per rank)
        for uneven sizes."""
        sb, rb = _bytes(send), _bytes(recv)
        if self.size == 1:
            np.copyto(rb, sb)
            return Work()
        if counts is None:
            if async_op:
                return self._work(self.comm.Iallgather(sb, rb), True)
            self.comm.Allgather(sb, rb)
            return Work()
        displs = np.concatenate([[0], np.cumsum(counts[:-1])]).tolist()
        spec = [rb, (counts, displs), self.MPI.BYTE]
        if async_op:
            return self._work(self.comm.Iallgatherv(sb, spec), True)
        self.comm.Allgatherv(sb, spec)
        return Work()

    def reduce_scatter(self, send: Any, recv: Any, op: ReduceOp, async_op: bool) -> Work:
        (sb, rb), mop, posts = self._reduction([send, recv], op, 1)
        if self.size == 1:
            np.copyto(rb, sb.reshape(rb.shape))
            req = None
        elif async_op:
            req = self.comm.Ireduce_scatter_block(sb, rb, op=mop)
        else:
            self.comm.Reduce_scatter_block(sb, rb, op=mop)
            req = None
        return self._posted(self._work(req, async_op), posts)

    def gather(self, send: Any, recv: Any, root: int, async_op: bool) -> Work:
        sb = _bytes(send)
        rb = _bytes(recv) if recv is not None else None
        if self.size == 1:
            np.copyto(rb, sb)
            return Work()
        if async_op:
            return self._work(self.comm.Igather(sb, rb, root=root), True)
        self.comm.Gather(sb, rb, root=root)
        return Work()

    def scatter(self, send: Any, recv: Any, root: int, async_op: bool) -> Work:
        sb = _bytes(send) if send is not None else None
        rb = _bytes(recv)
        if self.size == 1:
            np.copyto(rb, sb)
            return Work()
        if async_op:
            return self._work(self.comm.Iscatter(sb, rb, root=root), True)
        self.comm.Scatter(sb, rb, root=root)
        return Work()

    def send(self, a: Any, dst: int, tag: int, async_op: bool) -> Work:
        buf = _bytes(a)
        if async_op:
            return self._work(self.comm.Isend(buf, dest=dst, tag=tag), True)
        self.comm.Send(buf, dest=dst, tag=tag)
        return Work()

    def recv(self, a: Any, src: int | None, tag: int, async_op: bool) -> tuple[Work, Any]:
        """Receive into ``a``; returns the work and the MPI status (source, byte count)."""
        buf = _bytes(a)
        status = self.MPI.Status()
        source = self.MPI.ANY_SOURCE if src is None else src
        if async_op:
            req = self.comm.Irecv(buf, source=source, tag=tag)
            return self._work(req, True, status), status
        self.comm.Recv(buf, source=source, tag=tag, status=status)
        return Work(), status

    def barrier(self, async_op: bool) -> Work:
        if async_op:
            return self._work(self.comm.Ibarrier(), True)
        self.comm.Barrier()
        return Work()

    def allgather_obj(self, obj: Any) -> list[Any]:
        return self.comm.allgather(obj)

    def split(self, members: list[int]) -> MPIBackend | None:
        """The backend of the sub-group of ranks ``members`` (None outside it); every rank
        of this communicator calls it."""
        color = 0 if self.rank in members else self.MPI.UNDEFINED
        sub = self.comm.Split(color, key=self.rank)
        return None if sub == self.MPI.COMM_NULL else MPIBackend(sub, self.MPI)

    def bcast_obj(self, obj: Any, root: int) -> Any:
        return self.comm.bcast(obj, root=root)

    def destroy(self) -> None:
        try:
            self.comm.Free()
        except Exception:  # MPI may already be finalized at interpreter exit
            pass


# ------------------------------------------------------------------------------ NCCL
class _CudaEvent:
    __slots__ = ("event",)

    def __init__(self, event: Any) -> None:
        self.event = event

    def wait(self) -> None:
        import cupy

        cupy.cuda.get_current_stream().wait_event(self.event)

    def test(self) -> bool:
        return bool(self.event.done)


class NCCLBackend:
    """Collectives on contiguous CuPy arrays through ``cupy.cuda.nccl`` (current stream)."""

    name = "nccl"

    def __init__(self, comm: Any, rank: int, size: int) -> None:
        import cupy
        from cupy.cuda import nccl

        self.cupy = cupy
        self.nccl = nccl
        self.comm = comm
        self.rank = rank
        self.size = size
        self._types = {
            np.dtype(np.float16): nccl.NCCL_FLOAT16,
            np.dtype(np.float32): nccl.NCCL_FLOAT32,
            np.dtype(np.float64): nccl.NCCL_FLOAT64,
            np.dtype(np.int8): nccl.NCCL_INT8,
            np.dtype(np.uint8): nccl.NCCL_UINT8,
            np.dtype(np.int32): nccl.NCCL_INT32,
            np.dtype(np.uint32): nccl.NCCL_UINT32,
            np.dtype(np.int64): nccl.NCCL_INT64,
            np.dtype(np.uint64): nccl.NCCL_UINT64,
            np.dtype(np.bool_): nccl.NCCL_UINT8,
        }
        self._ops = {
            ReduceOp.SUM: nccl.NCCL_SUM,
            ReduceOp.PRODUCT: nccl.NCCL_PROD,
            ReduceOp.MIN: nccl.NCCL_MIN,
            ReduceOp.MAX: nccl.NCCL_MAX,
        }
        self._avg_op = getattr(nccl, "NCCL_AVG", None)

    def _stream(self) -> Any:
        return self.cupy.cuda.get_current_stream()

    def _dtype(self, a: Any) -> int:
        t = self._types.get(np.dtype(a.dtype))
        if t is None:
            raise TypeError(f"the nccl backend does not support dtype {a.dtype}")
        return t

    def _op(self, a: Any, op: ReduceOp) -> tuple[int, list]:
        posts: list = []
        if a.dtype == np.bool_:
            if op is ReduceOp.AVG:
                raise ValueError("Cannot use ReduceOp.AVG with boolean inputs")
            op = ReduceOp.MAX if op in (ReduceOp.SUM, ReduceOp.MAX) else ReduceOp.MIN
        if op is ReduceOp.AVG:
            if self._avg_op is not None:
                return self._avg_op, posts
            n = self.size
            posts.append(lambda: self.cupy.divide(a, n, out=a, casting="unsafe"))
            return self._ops[ReduceOp.SUM], posts
        if op not in self._ops:
            raise ValueError(f"the nccl backend does not support ReduceOp.{op.name}")
        return self._ops[op], posts

    def _work(self, async_op: bool, posts: list) -> Work:
        for p in posts:  # stream-ordered: safe to enqueue right away
            p()
        if not async_op:
            return Work()
        ev = self.cupy.cuda.Event(disable_timing=True)
        ev.record(self._stream())
        return Work([_CudaEvent(ev)])

    def all_reduce(self, a: Any, op: ReduceOp, async_op: bool) -> Work:
        nop, posts = self._op(a, op)
        self.comm.allReduce(a.data.ptr, a.data.ptr, a.size, self._dtype(a), nop, self._stream().ptr)
        return self._work(async_op, posts)

    def broadcast(self, a: Any, root: int, async_op: bool) -> Work:
        self.comm.bcast(a.data.ptr, a.size, self._dtype(a), root, self._stream().ptr)
        return self._work(async_op, [])

    def reduce(self, a: Any, op: ReduceOp, root: int, async_op: bool) -> Work:
        nop, posts = self._op(a, op)
        self.comm.reduce(
            a.data.ptr, a.data.ptr, a.size, self._dtype(a), nop, root, self._stream().ptr
        )
        return self._work(async_op, posts if self.rank == root else [])

    def all_gather(self, send: Any, recv: Any, counts: list[int] | None, async_op: bool) -> Work:
        if counts is not None:
            raise ValueError("the nccl backend's all_gather needs tensors of one size on all ranks")
        self.comm.allGather(
            send.data.ptr, recv.data.ptr, send.size, self._dtype(send), self._stream().ptr
        )
        return self._work(async_op, [])

    def reduce_scatter(self, send: Any, recv: Any, op: ReduceOp, async_op: bool) -> Work:
        nop, posts = self._op(recv, op)
        self.comm.reduceScatter(
            send.data.ptr, recv.data.ptr, recv.size, self._dtype(recv), nop, self._stream().ptr
        )
        return self._work(async_op, posts)

    def gather(self, send: Any, recv: Any, root: int, async_op: bool) -> Work:
        n, dt, s = send.size, self._dtype(send), self._stream().ptr
        self.nccl.groupStart()
        try:
            if self.rank == root:
                flat = recv.reshape(-1)
                for r in range(self.size):
                    if r == root:
                        flat[r * n : (r + 1) * n] = send.reshape(-1)
                    else:
                        self.comm.recv(flat[r * n :].data.ptr, n, dt, r, s)
            else:
                self.comm.send(send.data.ptr, n, dt, root, s)
        finally:
            self.nccl.groupEnd()
        return self._work(async_op, [])

    def scatter(self, send: Any, recv: Any, root: int, async_op: bool) -> Work:
        n, dt, s = recv.size, self._dtype(recv), self._stream().ptr
        self.nccl.groupStart()
        try:
            if self.rank == root:
                flat = send.reshape(-1)
                for r in range(self.size):
                    if r == root:
                        recv.reshape(-1)[...] = flat[r * n : (r + 1) * n]
                    else:
                        self.comm.send(flat[r * n :].data.ptr, n, dt, r, s)
            else:
                self.comm.recv(recv.data.ptr, n, dt, root, s)
        finally:
            self.nccl.groupEnd()
        return self._work(async_op, [])

    def send(self, a: Any, dst: int, tag: int, async_op: bool) -> Work:
        self.comm.send(a.data.ptr, a.size, self._dtype(a), dst, self._stream().ptr)
        return self._work(async_op, [])

    def recv(self, a: Any, src: int | None, tag: int, async_op: bool) -> tuple[Work, Any]:
        if src is None:
            raise ValueError("the nccl backend cannot receive from any source: pass src")
        self.comm.recv(a.data.ptr, a.size, self._dtype(a), src, self._stream().ptr)
        return self._work(async_op, []), None

    def destroy(self) -> None:
        try:
            self.comm.destroy()
        except Exception:
            pass
