"""A TCP transport for CPU tensors: ``init_process_group("gloo")`` without MPI.

torchrun-style launches (``python -m ctorch.distributed.run --launcher subprocess``, or any
launcher that sets ``MASTER_ADDR``/``MASTER_PORT``/``RANK``/``WORLD_SIZE``) start plain
processes; they meet here:

* **Rendezvous.** Rank 0 listens on ``MASTER_ADDR:MASTER_PORT``; every other rank opens a
  listening socket of its own (an ephemeral port), connects to rank 0 (retrying until the
  timeout) and sends its rank and address. Rank 0 answers with the table of addresses, then
  each rank ``j`` connects to every rank ``0 < i < j`` (rank 0's connection is already there):
  one socket per pair of ranks.
* **Messages.** Each message is a header ``(group id, tag, nbytes)`` and the payload. Tensor
  payloads go from the array's buffer to the socket and from the socket into the receiving
  array without copies. Messages that arrive while a rank waits for another one (a
  point-to-point message during a collective, or one of another group) are kept in a mailbox
  per (group, tag, sender), so per-pair order is FIFO for each tag as MPI's.
* **Sending never blocks the caller.** Every peer has a sender thread with a queue; a send
  enqueues and returns a handle. Collectives wait for their own sends before they return (the
  caller may modify the buffer next), and their data always flows through group rank 0 (gather
  to it, combine there in rank order, send back): two ranks never wait on each other's sends,
  so no exchange can dead-lock on full socket buffers.
* **Collectives** combine in NumPy in rank order, so every rank gets bitwise the same result
  (float16/bfloat16 accumulate in float32 and round once, as the MPI backend).

Sub-groups (``new_group``) share the sockets; their messages carry the group's id, which every
rank numbers the same way because ``new_group`` is called by every rank in the same order.
"""

from __future__ import annotations

import os
import pickle
import queue
import select
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import numpy as np

from ._backends import ReduceOp, Work

_HEADER = struct.Struct("<qqq")  # group id, tag, payload bytes
_COLL = -1  # the tag of collective traffic (user tags are >= 0)
_DEFAULT_TIMEOUT = 1800.0  # seconds, torch's default process-group timeout


class _Status:
    """What a receive learnt: the sender's group rank and the byte count (MPI.Status' API)."""

    __slots__ = ("source", "nbytes")

    def __init__(self) -> None:
        self.source = -1
        self.nbytes = -1

    def Get_source(self) -> int:  # noqa: N802 (mpi4py's name, read by distributed_c10d)
        return self.source

    def Get_count(self, datatype: Any = None) -> int:  # noqa: N802
        return self.nbytes


class _Sent:
    """Handle of one queued send: done when the sender thread wrote it to the socket."""

    __slots__ = ("event", "error")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.error: BaseException | None = None

    def wait(self) -> None:
        self.event.wait()
        if self.error is not None:
            raise RuntimeError(f"ctorch.distributed (tcp): send failed: {self.error}")

    def test(self) -> bool:
        if self.event.is_set():
            self.wait()  # raises a send error
            return True
        return False


class _Peer:
    """The socket to one other rank and its sender thread."""

    def __init__(self, sock: socket.socket, rank: int) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)
        self.sock = sock
        self.rank = rank
        self.q: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(
            target=self._run, name=f"ctorch-dist-send-{rank}", daemon=True
        )
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.q.get()
            if item is None:
                return
            header, payload, handle = item
            try:
                self.sock.sendall(header)
                if len(payload):
                    self.sock.sendall(payload)
            except BaseException as e:  # the peer died: the waiter raises
                handle.error = e
            handle.event.set()

    def send(self, gid: int, tag: int, payload: Any) -> _Sent:
        mv = _bytes_of(payload)
        handle = _Sent()
        self.q.put((_HEADER.pack(gid, tag, mv.nbytes), mv, handle))
        return handle

    def recv_exact(self, mv: memoryview, what: str) -> None:
        got = 0
        n = mv.nbytes
        while got < n:
            k = self.sock.recv_into(mv[got:], n - got)
            if k == 0:
                raise RuntimeError(
                    f"ctorch.distributed (tcp): rank {self.rank} closed the connection while "
                    f"this rank waited for {what} (did it exit or fail?)"
                )
            got += k

    def close(self) -> None:
        self.q.put(None)
        self.thread.join(timeout=30)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class _Mesh:
    """The sockets of the world and the mailbox of messages read ahead of their receive."""

    def __init__(self, rank: int, size: int, peers: dict[int, _Peer]) -> None:
        self.rank, self.size, self.peers = rank, size, peers
        self.mail: dict[tuple[int, int, int], deque] = defaultdict(deque)
        self.next_gid = 1  # 0 is the world

    def _read_header(self, src: int) -> tuple[int, int, int]:
        buf = bytearray(_HEADER.size)
        self.peers[src].recv_exact(memoryview(buf), "a message header")
        return _HEADER.unpack(buf)

    def _read_one(self, src: int) -> tuple[int, int, bytearray]:
        gid, tag, n = self._read_header(src)
        data = bytearray(n)
        if n:
            self.peers[src].recv_exact(memoryview(data), "a message")
        return gid, tag, data

    def recv(self, gid: int, tag: int, src: int, out: Any, what: str) -> int:
        """Receive the next (gid, tag) message from global rank ``src`` into the byte buffer
        ``out`` (read straight from the socket when it is the next message). Returns the
        message's byte count; a message of another size fills ``min`` bytes."""
        box = self.mail.get((gid, tag, src))
        if box:
            data = box.popleft()
            return _fill(out, data)
        while True:
            g, t, n = self._read_header(src)
            if (g, t) == (gid, tag):
                mv = _bytes_of(out)
                if n == mv.nbytes:
                    if n:
                        self.peers[src].recv_exact(mv, what)
                    return n
                data = bytearray(n)
                if n:
                    self.peers[src].recv_exact(memoryview(data), what)
                return _fill(out, data)
            data = bytearray(n)
            if n:
                self.peers[src].recv_exact(memoryview(data), "a message")
            self.mail[(g, t, src)].append(data)

    def recv_any(self, gid: int, tag: int, srcs: list[int], out: Any, block: bool) -> tuple:
        """Receive a (gid, tag) message from whichever of ``srcs`` has one first; returns
        ``(source, nbytes)``, or None when ``block`` is false and none is there yet."""
        while True:
            for s in srcs:
                box = self.mail.get((gid, tag, s))
                if box:
                    return s, _fill(out, box.popleft())
            socks = {self.peers[s].sock: s for s in srcs}
            ready, _, _ = select.select(list(socks), [], [], None if block else 0)
            if not ready:
                return None
            for sk in ready:
                s = socks[sk]
                g, t, data = self._read_one(s)
                self.mail[(g, t, s)].append(data)

    def has_message(self, gid: int, tag: int, src: int) -> bool:
        """Non-blocking: whether a (gid, tag) message from ``src`` can be received now."""
        while not self.mail.get((gid, tag, src)):
            sk = self.peers[src].sock
            ready, _, _ = select.select([sk], [], [], 0)
            if not ready:
                return False
            g, t, data = self._read_one(src)
            self.mail[(g, t, src)].append(data)
        return True

    def close(self) -> None:
        for p in self.peers.values():
            p.close()
        self.peers = {}


def _bytes_of(a: Any) -> memoryview:
    """A flat byte memoryview of a contiguous array (any dtype, bfloat16 included)."""
    if isinstance(a, np.ndarray):
        a = a.reshape(-1).view(np.uint8)
    return memoryview(a).cast("B")


def _fill(out: Any, data: bytearray) -> int:
    mv = _bytes_of(out)
    k = min(mv.nbytes, len(data))
    mv[:k] = data[:k]
    return len(data)


# ------------------------------------------------------------------------------ rendezvous
def _connect(host: str, port: int, deadline: float, what: str) -> socket.socket:
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            return socket.create_connection((host, port), timeout=10)
        except OSError as e:
            last = e
            time.sleep(0.05)
    raise RuntimeError(
        f"init_process_group (tcp): could not connect to {what} at {host}:{port} "
        f"before the timeout ({type(last).__name__}: {last})"
    )


def _send_obj(sock: socket.socket, obj: Any) -> None:
    data = pickle.dumps(obj)
    sock.sendall(struct.pack("<q", len(data)) + data)


def _recv_obj(sock: socket.socket) -> Any:
    def exact(n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise RuntimeError("init_process_group (tcp): a rank closed the connection")
            buf += chunk
        return bytes(buf)

    (n,) = struct.unpack("<q", exact(8))
    return pickle.loads(exact(n))


def rendezvous(host: str, port: int, rank: int, size: int, timeout: float | None) -> TCPBackend:
    """Connect ``size`` processes pairwise; rank 0 listens on ``host:port``."""
    if not 0 <= rank < size:
        raise ValueError(f"init_process_group: rank {rank} is out of range for world size {size}")
    deadline = time.monotonic() + (_DEFAULT_TIMEOUT if timeout is None else float(timeout))
    peers: dict[int, _Peer] = {}
    if size == 1:
        return TCPBackend(_Mesh(0, 1, peers), 0, [0])
    if rank == 0:
        srv = socket.create_server(("", port), backlog=size, reuse_port=False)
        srv.settimeout(max(1.0, deadline - time.monotonic()))
        try:
            table: dict[int, tuple[str, int]] = {}
            socks: dict[int, socket.socket] = {}
            while len(socks) < size - 1:
                try:
                    s, addr = srv.accept()
                except TimeoutError:
                    raise RuntimeError(
                        f"init_process_group (tcp): rank 0 waited for {size - 1} rank(s) on "
                        f"port {port} but only {len(socks)} connected before the timeout: "
                        f"start every rank, e.g. `python -m ctorch.distributed.run "
                        f"--nproc-per-node {size} script.py`"
                    ) from None
                s.settimeout(None)
                r, their_port = _recv_obj(s)
                if r in socks or not 0 < r < size:
                    s.close()
                    raise RuntimeError(
                        f"init_process_group (tcp): a process connected as rank {r}, which is "
                        f"{'taken' if r in socks else 'out of range'} (world size {size}): "
                        "is another job using MASTER_PORT?"
                    )
                socks[r] = s
                table[r] = (addr[0], their_port)
            for r, s in socks.items():
                _send_obj(s, table)
                peers[r] = _Peer(s, r)
        finally:
            srv.close()
        return TCPBackend(_Mesh(0, size, peers), 0, list(range(size)))
    lst = socket.create_server(("", 0), backlog=size)
    try:
        master = _connect(host, port, deadline, "rank 0 (MASTER_ADDR:MASTER_PORT)")
        master.settimeout(None)
        _send_obj(master, (rank, lst.getsockname()[1]))
        table = _recv_obj(master)
        peers[0] = _Peer(master, 0)
        for i in range(1, rank):  # connect to the lower ranks, announce ourselves
            s = _connect(table[i][0], table[i][1], deadline, f"rank {i}")
            s.settimeout(None)
            s.sendall(struct.pack("<q", rank))
            peers[i] = _Peer(s, i)
        lst.settimeout(max(1.0, deadline - time.monotonic()))
        for _ in range(size - 1 - rank):  # the higher ranks connect to us
            s, _addr = lst.accept()
            s.settimeout(None)
            buf = b""
            while len(buf) < 8:
                chunk = s.recv(8 - len(buf))
                if not chunk:
                    raise RuntimeError("init_process_group (tcp): a rank closed the connection")
                buf += chunk
            (j,) = struct.unpack("<q", buf)
            peers[j] = _Peer(s, j)
    finally:
        lst.close()
    return TCPBackend(_Mesh(rank, size, peers), 0, list(range(size)))


# ------------------------------------------------------------------------------ reductions
def _combine(parts: list[np.ndarray], op: ReduceOp, n: int) -> np.ndarray:
    """Reduce same-shape arrays in rank order (checks made before any data moved)."""
    dt = parts[0].dtype
    if dt == np.bool_:  # as the MPI/NCCL backends: logical or (SUM, MAX) / and (PRODUCT, MIN)
        f = {
            ReduceOp.SUM: np.logical_or,
            ReduceOp.MAX: np.logical_or,
            ReduceOp.BOR: np.logical_or,
            ReduceOp.PRODUCT: np.logical_and,
            ReduceOp.MIN: np.logical_and,
            ReduceOp.BAND: np.logical_and,
            ReduceOp.BXOR: np.logical_xor,
        }[op]
        acc = parts[0].copy()
        for p in parts[1:]:
            f(acc, p, out=acc)
        return acc
    f = {
        ReduceOp.SUM: np.add,
        ReduceOp.AVG: np.add,
        ReduceOp.PRODUCT: np.multiply,
        ReduceOp.MIN: np.minimum,
        ReduceOp.MAX: np.maximum,
        ReduceOp.BAND: np.bitwise_and,
        ReduceOp.BOR: np.bitwise_or,
        ReduceOp.BXOR: np.bitwise_xor,
    }[op]
    wide = np.float32 if (dt.kind in "fV" and dt.itemsize < 4) else dt
    acc = parts[0].astype(wide, copy=True)
    for p in parts[1:]:
        f(acc, p.astype(wide, copy=False), out=acc)
    if op is ReduceOp.AVG:
        if acc.dtype.kind in "fc":
            acc /= n
        else:  # integers: truncating division, as NCCL's ncclAvg and the MPI backend
            acc = np.sign(acc) * (np.abs(acc) // n)
    return acc.astype(dt, copy=False)


def _check_op(dt: np.dtype, op: ReduceOp) -> None:
    if dt == np.bool_ and op is ReduceOp.AVG:
        raise ValueError("Cannot use ReduceOp.AVG with boolean inputs")
    if (
        op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR)
        and dt != np.bool_
        and dt.kind not in "iu"
    ):
        raise ValueError(f"ReduceOp.{op.name} needs integer or bool tensors, got {dt}")


def _flat(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1)


class _RecvReq:
    """An ``irecv`` that completes when waited on (or when ``test`` finds its message)."""

    def __init__(self, run: Callable[[bool], bool]) -> None:
        self._run = run
        self.done = False

    def wait(self) -> None:
        if not self.done:
            self._run(True)
            self.done = True

    def test(self) -> bool:
        if not self.done:
            self.done = self._run(False)
        return self.done


# ------------------------------------------------------------------------------ backend
class TCPBackend:
    """The MPIBackend's interface over the TCP mesh, for one group (``ranks``: the global
    ranks of its members, in group-rank order)."""

    name = "gloo"
    MPI = None  # distributed_c10d passes ``MPI.BYTE`` to Status.Get_count: unused here

    def __init__(self, mesh: _Mesh, gid: int, ranks: list[int]) -> None:
        self.mesh, self.gid, self.ranks = mesh, gid, ranks
        self.rank = ranks.index(mesh.rank)
        self.size = len(ranks)

    # -------------------------------------------------------------- plumbing
    def _send(self, to: int, payload: Any, tag: int = _COLL) -> _Sent:
        return self.mesh.peers[self.ranks[to]].send(self.gid, tag, payload)

    def _recv(self, frm: int, out: Any, what: str, tag: int = _COLL) -> int:
        n = self.mesh.recv(self.gid, tag, self.ranks[frm], out, what)
        want = _bytes_of(out).nbytes
        if tag == _COLL and n != want:
            raise RuntimeError(
                f"ctorch.distributed (tcp): {what}: rank {self.ranks[frm]} sent {n} bytes but "
                f"{want} were expected (tensors of different shapes or dtypes across ranks?)"
            )
        return n

    def _gather0(self, a: np.ndarray, what: str) -> list[np.ndarray] | None:
        """Group rank 0 gets every rank's ``a`` (same size), in rank order."""
        if self.rank != 0:
            self._send(0, a).wait()
            return None
        parts = [a]
        for r in range(1, self.size):
            buf = np.empty_like(a)
            self._recv(r, buf, what)
            parts.append(buf)
        return parts

    def _bcast_from0(self, a: np.ndarray, what: str) -> None:
        if self.rank == 0:
            for h in [self._send(r, a) for r in range(1, self.size)]:
                h.wait()
        else:
            self._recv(0, a, what)

    def _obj_from0(self, obj: Any, what: str) -> Any:
        if self.rank == 0:
            data = np.frombuffer(pickle.dumps(obj), dtype=np.uint8)
            n = np.array([data.size], dtype=np.int64)
            self._bcast_from0(n, what)
            self._bcast_from0(data, what)
            return obj
        n = np.empty(1, dtype=np.int64)
        self._recv(0, n, what)
        data = np.empty(int(n[0]), dtype=np.uint8)
        self._recv(0, data, what)
        return pickle.loads(data.tobytes())

    # -------------------------------------------------------------- collectives
    def all_reduce(self, a: Any, op: ReduceOp, async_op: bool) -> Work:
        _check_op(a.dtype, op)
        parts = self._gather0(_flat(a), "all_reduce")
        if parts is not None:
            _flat(a)[...] = _combine(parts, op, self.size)
        self._bcast_from0(_flat(a), "all_reduce")
        return Work()

    def broadcast(self, a: Any, root: int, async_op: bool) -> Work:
        if self.size == 1:
            return Work()
        if self.rank == root:
            for h in [self._send(r, a) for r in range(self.size) if r != root]:
                h.wait()
        else:
            self._recv(root, a, "broadcast")
        return Work()

    def reduce(self, a: Any, op: ReduceOp, root: int, async_op: bool) -> Work:
        _check_op(a.dtype, op)
        if self.rank != root:
            self._send(root, a).wait()
            return Work()
        parts = []
        for r in range(self.size):
            if r == root:
                parts.append(_flat(a).copy())
            else:
                buf = np.empty_like(_flat(a))
                self._recv(r, buf, "reduce")
                parts.append(buf)
        _flat(a)[...] = _combine(parts, op, self.size)
        return Work()

    def all_gather(self, send: Any, recv: Any, counts: list[int] | None, async_op: bool) -> Work:
        sb, rb = _flat(send).view(np.uint8), _flat(recv).view(np.uint8)
        k = sb.nbytes
        counts = [k] * self.size if counts is None else list(counts)
        offs = np.concatenate([[0], np.cumsum(counts)]).astype(int).tolist()
        if self.rank == 0:
            rb[offs[0] : offs[1]] = sb
            for r in range(1, self.size):
                self._recv(r, rb[offs[r] : offs[r + 1]], "all_gather")
        else:
            self._send(0, sb).wait()
        self._bcast_from0(rb, "all_gather")
        return Work()

    def reduce_scatter(self, send: Any, recv: Any, op: ReduceOp, async_op: bool) -> Work:
        _check_op(send.dtype, op)
        parts = self._gather0(_flat(send), "reduce_scatter")
        m = _flat(recv).size
        if parts is not None:
            full = _combine(parts, op, self.size)
            hs = [self._send(r, full[r * m : (r + 1) * m]) for r in range(1, self.size)]
            _flat(recv)[...] = full[:m]
            for h in hs:
                h.wait()
        else:
            self._recv(0, _flat(recv), "reduce_scatter")
        return Work()

    def gather(self, send: Any, recv: Any, root: int, async_op: bool) -> Work:
        sb = _flat(send).view(np.uint8)
        if self.rank != root:
            self._send(root, sb).wait()
            return Work()
        rb = _flat(recv).view(np.uint8)
        k = sb.nbytes
        for r in range(self.size):
            if r == root:
                rb[r * k : (r + 1) * k] = sb
            else:
                self._recv(r, rb[r * k : (r + 1) * k], "gather")
        return Work()

    def scatter(self, send: Any, recv: Any, root: int, async_op: bool) -> Work:
        rb = _flat(recv).view(np.uint8)
        if self.rank != root:
            self._recv(root, rb, "scatter")
            return Work()
        sb = _flat(send).view(np.uint8)
        k = rb.nbytes
        hs = [self._send(r, sb[r * k : (r + 1) * k]) for r in range(self.size) if r != root]
        rb[...] = sb[root * k : (root + 1) * k]
        for h in hs:
            h.wait()
        return Work()

    def barrier(self, async_op: bool) -> Work:
        token = np.zeros(1, dtype=np.uint8)
        self._gather0(token, "barrier")
        self._bcast_from0(token, "barrier")
        return Work()

    # -------------------------------------------------------------- point to point
    def send(self, a: Any, dst: int, tag: int, async_op: bool) -> Work:
        w = Work([self._send(dst, _flat(a).view(np.uint8), tag=int(tag))])
        if not async_op:
            w.wait()
        return w

    def recv(self, a: Any, src: int | None, tag: int, async_op: bool) -> tuple[Work, Any]:
        status = _Status()
        buf = _flat(a).view(np.uint8)
        tag = int(tag)

        def run(block: bool) -> bool:
            if src is None:
                others = [self.ranks[r] for r in range(self.size) if r != self.rank]
                got = self.mesh.recv_any(self.gid, tag, others, buf, block)
                if got is None:
                    return False
                status.source, status.nbytes = self.ranks.index(got[0]), got[1]
                return True
            if not block and not self.mesh.has_message(self.gid, tag, self.ranks[src]):
                return False
            status.nbytes = self._recv(src, buf, "recv", tag=tag)
            status.source = src
            return True

        w = Work([_RecvReq(run)])
        if not async_op:
            w.wait()
        return w, status

    # -------------------------------------------------------------- objects, groups
    def allgather_obj(self, obj: Any) -> list[Any]:
        data = np.frombuffer(pickle.dumps(obj), dtype=np.uint8)
        n = np.array([data.size], dtype=np.int64)
        sizes = self._gather0(n, "all_gather_object")
        if self.rank == 0:
            got = [obj]
            for r in range(1, self.size):
                buf = np.empty(int(sizes[r][0]), dtype=np.uint8)
                self._recv(r, buf, "all_gather_object")
                got.append(pickle.loads(buf.tobytes()))
        else:
            self._send(0, data).wait()
            got = None
        return self._obj_from0(got, "all_gather_object")

    def bcast_obj(self, obj: Any, root: int) -> Any:
        if root != 0:  # route through group rank 0 (one hop more, objects are small)
            if self.rank == root:
                self._send(0, np.frombuffer(pickle.dumps(obj), dtype=np.uint8)).wait()
            elif self.rank == 0:
                return self._obj_from0(pickle.loads(self._recv_bytes(root)), "broadcast")
            return self._obj_from0(None, "broadcast")
        return self._obj_from0(obj, "broadcast")

    def _recv_bytes(self, frm: int) -> bytes:
        # an object of unknown size: read the next collective message whole
        data = bytearray()
        box = self.mesh.mail.get((self.gid, _COLL, self.ranks[frm]))
        if box:
            return bytes(box.popleft())
        while True:
            g, t, d = self.mesh._read_one(self.ranks[frm])
            if (g, t) == (self.gid, _COLL):
                data = d
                return bytes(data)
            self.mesh.mail[(g, t, self.ranks[frm])].append(d)

    def split(self, members: list[int]) -> TCPBackend | None:
        """The backend of a sub-group (group ranks ``members``); None outside it. Every rank
        of this group calls it, in the same order, so the new group's id agrees."""
        gid = self.mesh.next_gid
        self.mesh.next_gid += 1
        if self.rank not in members:
            return None
        return TCPBackend(self.mesh, gid, [self.ranks[m] for m in members])

    def destroy(self) -> None:
        if self.gid == 0:
            self.mesh.close()


def tcp_address(init_method: str | None) -> tuple[str, int] | None:
    """The rendezvous address: ``tcp://host:port`` or ``MASTER_ADDR``/``MASTER_PORT``."""
    if init_method is not None and str(init_method).startswith("tcp://"):
        from urllib.parse import urlparse

        u = urlparse(str(init_method))
        if u.hostname is None or u.port is None:
            raise ValueError(f"init_process_group: {init_method!r} needs tcp://host:port")
        return u.hostname, int(u.port)
    addr, port = os.environ.get("MASTER_ADDR"), os.environ.get("MASTER_PORT")
    if addr and port:
        return addr, int(port)
    return None


def launched_by_mpi() -> bool:
    """Whether this process was started by mpirun/srun-with-PMI (its rank comes from MPI)."""
    keys = (
        "OMPI_COMM_WORLD_SIZE",
        "PMI_SIZE",
        "PMIX_RANK",
        "MPI_LOCALNRANKS",
        "MV2_COMM_WORLD_SIZE",
    )
    return any(k in os.environ for k in keys)
