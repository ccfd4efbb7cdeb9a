"""TensorBoard event files without TensorFlow, protobuf or the tensorboard package.

An event file is a TFRecord stream: each record is ``uint64 length``, ``uint32
masked_crc32c(length)``, ``data``, ``uint32 masked_crc32c(data)``, and each ``data`` is a
serialised ``tensorflow.Event`` protobuf. The few messages the writer needs (Event, Summary,
Summary.Value, Summary.Image, HistogramProto, SummaryMetadata, TensorProto, GraphDef, NodeDef)
are encoded here by hand from their field numbers; ``read_events`` decodes them back into
dicts (used by the tests and handy for debugging).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

# --------------------------------------------------------------------------- CRC-32C


def _crc_table() -> list[int]:
    poly = 0x82F63B78  # Castagnoli, reflected
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    t = _TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data: bytes) -> bytes:
    """One TFRecord framing ``data``."""
    header = struct.pack("<Q", len(data))
    return (
        header
        + struct.pack("<I", masked_crc32c(header))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


# --------------------------------------------------------------------------- protobuf encoding


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint((field << 3) | wire)


def f_varint(field: int, v: int) -> bytes:
    return _key(field, 0) + _varint(int(v))


def f_double(field: int, v: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", float(v))


def f_float(field: int, v: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", float(v))


def f_bytes(field: int, v: bytes | str) -> bytes:
    if isinstance(v, str):
        v = v.encode("utf-8")
    return _key(field, 2) + _varint(len(v)) + v


def f_packed_doubles(field: int, values) -> bytes:
    body = b"".join(struct.pack("<d", float(x)) for x in values)
    return f_bytes(field, body)


def event(wall_time: float, step: int | None = None, **payload: bytes) -> bytes:
    """Serialise an Event: exactly one of file_version=str, summary=bytes, graph_def=bytes."""
    out = f_double(1, wall_time)
    if step is not None:
        out += f_varint(2, step)
    if "file_version" in payload:
        out += f_bytes(3, payload["file_version"])
    if "graph_def" in payload:
        out += f_bytes(4, payload["graph_def"])
    if "summary" in payload:
        out += f_bytes(5, payload["summary"])
    return out


def summary(*values: bytes) -> bytes:
    return b"".join(f_bytes(1, v) for v in values)


def value_simple(tag: str, v: float) -> bytes:
    return f_bytes(1, tag) + f_float(2, v)


def value_image(tag: str, height: int, width: int, channels: int, png: bytes) -> bytes:
    img = f_varint(1, height) + f_varint(2, width) + f_varint(3, channels) + f_bytes(4, png)
    return f_bytes(1, tag) + f_bytes(4, img)


def value_histogram(tag: str, vmin, vmax, num, vsum, sum_sq, limits, counts) -> bytes:
    h = (
        f_double(1, vmin)
        + f_double(2, vmax)
        + f_double(3, num)
        + f_double(4, vsum)
        + f_double(5, sum_sq)
        + f_packed_doubles(6, limits)
        + f_packed_doubles(7, counts)
    )
    return f_bytes(1, tag) + f_bytes(5, h)


def value_scalar_tensor(tag: str, v: float, double_precision: bool = False) -> bytes:
    """A new-style scalar: a 0-d DT_FLOAT/DT_DOUBLE TensorProto with the ``scalars`` plugin."""
    metadata = f_bytes(1, f_bytes(1, "scalars"))
    if double_precision:
        tensor = f_varint(1, 2) + f_bytes(2, b"") + f_packed_doubles(6, [v])  # DT_DOUBLE
    else:
        body = struct.pack("<f", float(v))
        tensor = f_varint(1, 1) + f_bytes(2, b"") + f_bytes(5, body)  # DT_FLOAT, float_val
    return f_bytes(1, tag) + f_bytes(8, tensor) + f_bytes(9, metadata)


def value_text(tag: str, text: str) -> bytes:
    """A text summary: a DT_STRING TensorProto with the ``text`` plugin's metadata."""
    plugin = f_bytes(1, "text")  # PluginData.plugin_name
    metadata = f_bytes(1, plugin)  # SummaryMetadata.plugin_data
    shape = f_bytes(2, f_varint(1, 1))  # TensorShapeProto.dim { size: 1 }
    tensor = f_varint(1, 7) + f_bytes(2, shape) + f_bytes(8, text)  # dtype DT_STRING = 7
    return f_bytes(1, tag) + f_bytes(8, tensor) + f_bytes(9, metadata)


def node_def(name: str, op: str, inputs: list[str], attrs: dict[str, str]) -> bytes:
    out = f_bytes(1, name) + f_bytes(2, op)
    for i in inputs:
        out += f_bytes(3, i)
    for k, v in attrs.items():
        attr_value = f_bytes(2, v)  # AttrValue.s
        out += f_bytes(5, f_bytes(1, k) + f_bytes(2, attr_value))
    return out


def graph_def(nodes: list[bytes]) -> bytes:
    # versions { producer: 22 } as tensorboard's own graph writer does
    return b"".join(f_bytes(1, n) for n in nodes) + f_bytes(4, f_varint(1, 22))


# --------------------------------------------------------------------------- decoding


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = n = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n, i
        shift += 7


def parse_fields(buf: bytes) -> list[tuple[int, int, object]]:
    """(field, wire type, raw value) triples of one protobuf message."""
    out = []
    i = 0
    while i < len(buf):
        k, i = _read_varint(buf, i)
        field, wire = k >> 3, k & 7
        if wire == 0:
            v, i = _read_varint(buf, i)
        elif wire == 1:
            v = buf[i : i + 8]
            i += 8
        elif wire == 5:
            v = buf[i : i + 4]
            i += 4
        elif wire == 2:
            n, i = _read_varint(buf, i)
            v = buf[i : i + n]
            i += n
        else:
            raise ValueError(f"tensorboard event: unsupported wire type {wire}")
        out.append((field, wire, v))
    return out


def _decode_value(buf: bytes) -> dict:
    d: dict = {}
    for f, _w, v in parse_fields(buf):
        if f == 1:
            d["tag"] = v.decode()
        elif f == 2:
            d["simple_value"] = struct.unpack("<f", v)[0]
        elif f == 4:
            img = {g: x for g, _, x in parse_fields(v)}
            d["image"] = {
                "height": img.get(1, 0),
                "width": img.get(2, 0),
                "colorspace": img.get(3, 0),
                "encoded_image_string": img.get(4, b""),
            }
        elif f == 5:
            h: dict = {"bucket_limit": [], "bucket": []}
            names = {1: "min", 2: "max", 3: "num", 4: "sum", 5: "sum_squares"}
            for g, _, x in parse_fields(v):
                if g in names:
                    h[names[g]] = struct.unpack("<d", x)[0]
                elif g in (6, 7):
                    key = "bucket_limit" if g == 6 else "bucket"
                    h[key] += list(struct.unpack(f"<{len(x) // 8}d", x))
            d["histo"] = h
        elif f == 8:
            t = parse_fields(v)
            dtype = next((x for g, _, x in t if g == 1), 0)
            if dtype == 7:
                d["tensor_string"] = [x.decode() for g, _, x in t if g == 8]
            elif dtype == 1:
                raw = b"".join(x for g, _, x in t if g == 5)
                d["tensor_value"] = list(struct.unpack(f"<{len(raw) // 4}f", raw))
            elif dtype == 2:
                raw = b"".join(x for g, _, x in t if g == 6)
                d["tensor_value"] = list(struct.unpack(f"<{len(raw) // 8}d", raw))
    return d


def read_events(path: str) -> Iterator[dict]:
    """Decode an event file written by ctorch's SummaryWriter (checks every CRC)."""
    with open(path, "rb") as fh:
        data = fh.read()
    i = 0
    while i < len(data):
        if len(data) - i < 12:
            raise ValueError(f"{path}: truncated record header at byte {i}")
        header = data[i : i + 8]
        (n,) = struct.unpack("<Q", header)
        (hcrc,) = struct.unpack("<I", data[i + 8 : i + 12])
        if hcrc != masked_crc32c(header):
            raise ValueError(f"{path}: bad length CRC at byte {i}")
        body = data[i + 12 : i + 12 + n]
        tail = data[i + 12 + n : i + 16 + n]
        if len(body) != n or len(tail) != 4 or struct.unpack("<I", tail)[0] != masked_crc32c(body):
            raise ValueError(f"{path}: bad or truncated record at byte {i}")
        i += 16 + n
        ev: dict = {}
        for f, _w, v in parse_fields(body):
            if f == 1:
                ev["wall_time"] = struct.unpack("<d", v)[0]
            elif f == 2:
                ev["step"] = v
            elif f == 3:
                ev["file_version"] = v.decode()
            elif f == 4:
                nodes = []
                for g, _, nb in parse_fields(v):
                    if g == 1:
                        nd = {"input": []}
                        for h, _, x in parse_fields(nb):
                            if h == 1:
                                nd["name"] = x.decode()
                            elif h == 2:
                                nd["op"] = x.decode()
                            elif h == 3:
                                nd["input"].append(x.decode())
                        nodes.append(nd)
                ev["graph_def"] = nodes
            elif f == 5:
                ev["summary"] = [_decode_value(x) for g, _, x in parse_fields(v) if g == 1]
        yield ev
