"""ctorch.save / ctorch.load: round trips, safety, corruption, map_location, torch interop."""

from __future__ import annotations

import collections
import io
import os
import pathlib
import pickle
import struct
import zipfile

import numpy as np
import pytest

import ctorch
from ctorch import serialization as S

FIXTURES = pathlib.Path(__file__).parent / "fixtures"

ALL_DTYPES = [
    np.float32,
    np.float64,
    np.float16,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.bool_,
    np.complex64,
    np.complex128,
]


def T(a, requires_grad: bool = False):
    t = ctorch.from_numpy(np.asarray(a))
    if requires_grad:
        t.requires_grad_(True)
    return t


def A(t) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def roundtrip(obj, **load_kw):
    buf = io.BytesIO()
    S.save(obj, buf)
    buf.seek(0)
    return S.load(buf, **load_kw)


def sample(dtype, shape=(3, 4)):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 50
    if np.issubdtype(dtype, np.complexfloating):
        x = x + 1j * rng.standard_normal(shape)
    if dtype is np.bool_:
        return x > 0
    if np.dtype(dtype).kind == "u":  # no negative floats into unsigned (an undefined cast)
        x = np.abs(x)
    return x.astype(dtype)


def assert_same(t, ref: np.ndarray):
    a = A(t)
    assert a.dtype == ref.dtype
    assert a.shape == ref.shape
    np.testing.assert_array_equal(a, ref)
    assert tuple(t.shape) == ref.shape


# ------------------------------------------------------------------------------------------
# round trips
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_roundtrip_each_dtype(dtype):
    ref = sample(dtype)
    out = roundtrip(T(ref.copy()))
    assert isinstance(out, ctorch.Tensor)
    assert out.dtype == ctorch._dtype.from_numpy_dtype(ref.dtype)
    assert_same(out, ref)


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x.T,  # transposed
        lambda x: x[:, ::2],  # strided slice
        lambda x: x[1:, 1:3],  # offset view
        lambda x: x[::-1],  # negative stride (numpy only): saved as a compact copy
        lambda x: np.lib.stride_tricks.as_strided(x[0], (4, 5), (0, 8)),  # expanded (stride 0)
        lambda x: x[2, 3],  # 0-d view with an offset
        lambda x: x[:0],  # empty
    ],
    ids=["T", "step", "offset", "neg", "expand", "0d", "empty"],
)
def test_roundtrip_views_and_noncontiguous(make):
    base = np.arange(20, dtype=np.float64).reshape(4, 5)
    v = make(base)
    ref = np.array(v)
    out = roundtrip({"v": T(v)})["v"]
    assert_same(out, ref)


def test_uint16_round_trips():
    # a uint16 tensor (issue #14; before it, uint16 data was widened to int32)
    t = ctorch.tensor(np.array([0, 7, 65535], dtype=np.uint16))
    assert t.dtype == ctorch.uint16
    out = roundtrip(t)
    assert out.dtype == t.dtype
    assert A(out).tolist() == [0, 7, 65535]


def test_zero_dim_and_scalar_types():
    obj = {"s": T(np.array(3.5)), "i": T(np.array(7, dtype=np.int64)), "b": T(np.array(True))}
    out = roundtrip(obj)
    assert out["s"].shape == () and A(out["s"]) == 3.5
    assert A(out["i"]) == 7 and out["i"].dtype == ctorch.int64
    assert A(out["b"]) and out["b"].dtype == ctorch.bool


def test_shared_views_share_one_record_and_memory():
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = T(base)
    obj = {"x": x, "row": T(base[1]), "t": T(base.T), "col": T(base[:, 2]), "x_again": x}
    buf = io.BytesIO()
    S.save(obj, buf)
    names = zipfile.ZipFile(io.BytesIO(buf.getvalue())).namelist()
    assert sum("/data/" in n for n in names) == 1, names
    buf.seek(0)
    out = S.load(buf)
    assert out["x_again"] is out["x"]
    np.testing.assert_array_equal(A(out["row"]), base[1])
    np.testing.assert_array_equal(A(out["t"]), base.T)
    np.testing.assert_array_equal(A(out["col"]), base[:, 2])
    # the loaded views share the loaded storage, like torch
    A(out["x"])[1, 2] = -1.0
    assert A(out["row"])[2] == -1.0 and A(out["col"])[1] == -1.0 and A(out["t"])[2, 1] == -1.0
    # and a re-save of what was loaded still writes one shared record
    buf2 = io.BytesIO()
    S.save(out, buf2)
    names2 = zipfile.ZipFile(io.BytesIO(buf2.getvalue())).namelist()
    assert sum("/data/" in n for n in names2) == 1, names2


def test_requires_grad_roundtrip():
    out = roundtrip({"a": T(np.ones(3, np.float32), True), "b": T(np.ones(2, np.float32))})
    assert out["a"].requires_grad and not out["b"].requires_grad


def _parameter():
    cls = S._parameter_cls()
    if cls is None:
        pytest.skip("ctorch.nn.Parameter not available")
    return cls


def test_parameter_roundtrip():
    Parameter = _parameter()
    p = Parameter(T(np.arange(4, dtype=np.float32)))
    q = Parameter(T(np.ones(2, np.float32)), requires_grad=False)
    out = roundtrip({"p": p, "q": q, "p_again": p})
    assert isinstance(out["p"], Parameter) and out["p"].requires_grad
    assert isinstance(out["q"], Parameter) and not out["q"].requires_grad
    assert out["p_again"] is out["p"]
    np.testing.assert_array_equal(A(out["p"]), np.arange(4, dtype=np.float32))


def test_state_dict_ordereddict_and_metadata():
    sd = collections.OrderedDict()
    sd["layer.weight"] = T(sample(np.float32, (2, 3)))
    sd["layer.bias"] = T(sample(np.float32, (2,)))
    sd["bn.num_batches_tracked"] = T(np.array(5, dtype=np.int64))
    sd._metadata = collections.OrderedDict({"": {"version": 1}, "layer": {"version": 1}})
    out = roundtrip(sd)
    assert type(out) is collections.OrderedDict
    assert list(out) == list(sd)
    assert out._metadata == sd._metadata
    for k in sd:
        assert_same(out[k], A(sd[k]))


def test_optimizer_style_nested_state():
    state = {
        "state": {
            0: {"step": T(np.array(3.0, np.float32)), "exp_avg": T(sample(np.float32, (2, 2)))},
            1: {"step": T(np.array(3.0, np.float32)), "momentum_buffer": None},
        },
        "param_groups": [
            {
                "lr": 1e-3,
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "weight_decay": 0,
                "amsgrad": False,
                "foreach": None,
                "name": "default",
                "params": [0, 1],
                "big": 2**70,
                "neg": -(2**40),
            }
        ],
    }
    out = roundtrip(state)
    assert out["param_groups"] == state["param_groups"]
    assert out["state"][1]["momentum_buffer"] is None
    assert_same(out["state"][0]["exp_avg"], A(state["state"][0]["exp_avg"]))
    assert A(out["state"][0]["step"]) == 3.0


def test_builtin_payloads():
    obj = {
        "size": ctorch.Size([2, 3]),
        "dtype": ctorch.float16,
        "dtypes": [ctorch.int64, ctorch.bool, ctorch.complex64],
        "dev": ctorch.device("cpu"),
        "cuda_dev": ctorch.device("cuda", 1),
        "bytes": b"\x00\xffab",
        "set": {1, 2, 3},
        "complex": 1 + 2j,
        "tuple": (1, "a", None, 2.5, True),
        "str": "héllo",
    }
    out = roundtrip(obj)
    assert out == obj
    assert type(out["size"]) is ctorch.Size
    assert out["dtype"] is ctorch.float16
    assert out["dtypes"][0] is ctorch.int64
    assert out["cuda_dev"].type == "cuda" and out["cuda_dev"].index == 1


def test_paths_and_file_objects(tmp_path):
    ref = sample(np.float32)
    for target in (str(tmp_path / "a.pt"), tmp_path / "b.pt"):
        S.save({"w": T(ref)}, target)
        assert_same(S.load(target)["w"], ref)
    with open(tmp_path / "c.pt", "wb") as fh:
        S.save(T(ref), fh)
    with open(tmp_path / "c.pt", "rb") as fh:
        assert_same(S.load(fh), ref)
    # archive directory named after the file, as torch does
    assert zipfile.ZipFile(tmp_path / "a.pt").namelist()[0] == "a/data.pkl"


def test_file_format_layout_and_alignment(tmp_path):
    path = tmp_path / "m.pt"
    S.save({"a": T(np.ones(3, np.float32)), "b": T(np.arange(5))}, path)
    zf = zipfile.ZipFile(path)
    names = zf.namelist()
    assert names[0] == "m/data.pkl"
    assert zf.read("m/version") == b"3\n"
    assert zf.read("m/byteorder") == b"little"
    assert "m/.data/serialization_id" in names
    raw = path.read_bytes()
    for info in zf.infolist():
        assert info.compress_type == zipfile.ZIP_STORED
        n, e = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
        assert (info.header_offset + 30 + n + e) % 64 == 0, info.filename
    pkl = zf.read("m/data.pkl")
    assert pkl[:2] == b"\x80\x02"  # protocol 2, as torch writes
    assert b"torch._utils\n_rebuild_tensor_v2\n" in pkl
    assert b"torch\nFloatStorage\n" in pkl and b"torch\nLongStorage\n" in pkl


def test_pickle_protocol_4_roundtrip():
    ref = sample(np.float64)
    buf = io.BytesIO()
    S.save({"x": T(ref), "s": "abc", "n": [1, 2]}, buf, pickle_protocol=4)
    buf.seek(0)
    out = S.load(buf)
    assert_same(out["x"], ref)
    assert out["s"] == "abc" and out["n"] == [1, 2]


def test_numpy_arrays_need_opt_in():
    obj = {"arr": np.arange(3, dtype=np.int64)}
    buf = io.BytesIO()
    S.save(obj, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="add_safe_globals"):
        S.load(buf)
    buf.seek(0)
    np.testing.assert_array_equal(S.load(buf, weights_only=False)["arr"], obj["arr"])
    buf.seek(0)
    allow = [np._core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.int64))]
    with S.safe_globals(allow):
        np.testing.assert_array_equal(S.load(buf)["arr"], obj["arr"])


def test_mmap_load(tmp_path):
    ref = sample(np.float32, (16, 8))
    path = tmp_path / "mm.pt"
    S.save({"w": T(ref), "v": T(ref[:, 3])}, path)
    before = path.read_bytes()
    out = S.load(path, mmap=True)
    assert_same(out["w"], ref)
    np.testing.assert_array_equal(A(out["v"]), ref[:, 3])
    A(out["w"])[0, 0] = 123.0  # copy-on-write: the file stays as it was
    assert path.read_bytes() == before
    with pytest.raises(RuntimeError, match="mmap"):
        S.load(io.BytesIO(before), mmap=True)


# ------------------------------------------------------------------------------------------
# safety
# ------------------------------------------------------------------------------------------


def _touch(path):
    with open(path, "w") as fh:
        fh.write("pwned")
    return "ran"


class Evil:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (_touch, (self.marker,))


class EvilOS:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


def test_malicious_reduce_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    S.save({"w": T(np.ones(2, np.float32)), "payload": Evil(marker)}, path)
    with pytest.raises(pickle.UnpicklingError) as ei:
        S.load(path)
    msg = str(ei.value)
    assert "test_serialization._touch" in msg
    assert "add_safe_globals" in msg and "safe_globals" in msg and "weights_only=False" in msg
    assert "evil.pt" in msg
    assert not marker.exists()
    # the payload is real: a trusted load does run it
    assert S.load(path, weights_only=False)["payload"] == "ran"
    assert marker.exists()


def test_os_system_is_blocked_even_if_allowlisted(tmp_path):
    marker = tmp_path / "marker_os"
    path = tmp_path / "evil_os.pt"
    S.save([EvilOS(marker)], path)
    with pytest.raises(pickle.UnpicklingError, match="blocked"):
        S.load(path)
    with S.safe_globals([os.system]):
        with pytest.raises(pickle.UnpicklingError):
            S.load(path)
    assert not marker.exists()


def test_handcrafted_pickles_are_refused(tmp_path):
    # a raw pickle (no zip) using a GLOBAL: refused before anything is called
    marker = tmp_path / "m3"
    raw = pickle.dumps(Evil(marker), protocol=2)
    with pytest.raises(pickle.UnpicklingError):
        S.load(io.BytesIO(raw))
    assert not marker.exists()
    # calling something that is not an allowed global (a dict built by the pickle) is refused
    crafted = b"\x80\x02}q\x00)R."
    path = tmp_path / "crafted.pt"
    _zip_with_pickle(path, crafted)
    with pytest.raises(pickle.UnpicklingError, match="reduce"):
        S.load(path)


def _zip_with_pickle(path, pkl: bytes, records: dict | None = None):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/byteorder", b"little")
        for k, v in (records or {}).items():
            zf.writestr(f"archive/data/{k}", v)
        zf.writestr("archive/version", b"3\n")


def test_add_safe_globals_and_context_manager(tmp_path):
    path = tmp_path / "pt.pt"
    S.save({"p": Point(1, 2)}, path)
    S.clear_safe_globals()
    try:
        with pytest.raises(pickle.UnpicklingError, match="Point"):
            S.load(path)
        with S.safe_globals([Point]):
            assert Point in S.get_safe_globals()
            assert S.load(path)["p"] == Point(1, 2)
        assert Point not in S.get_safe_globals()
        with pytest.raises(pickle.UnpicklingError):
            S.load(path)
        S.add_safe_globals([Point])
        assert S.load(path)["p"] == Point(1, 2)
        S.clear_safe_globals()
        assert S.get_safe_globals() == []
        with pytest.raises(pickle.UnpicklingError):
            S.load(path)
        # (obj, "full.name") form
        S.add_safe_globals([(Point, f"{Point.__module__}.Point")])
        assert S.load(path)["p"] == Point(1, 2)
    finally:
        S.clear_safe_globals()


def _module_cls():
    try:
        from ctorch.nn.modules.module import Module
    except ImportError:
        pytest.skip("ctorch.nn Module not available")
    return Module


def test_whole_module_pickle_needs_safe_globals(tmp_path):
    Module, Parameter = _module_cls(), _parameter()

    class Net(Module):
        def __init__(self):
            super().__init__()
            self.w = Parameter(T(sample(np.float32, (2, 3))))
            self.register_buffer("running", T(np.arange(3, dtype=np.float32)))

    Net.__qualname__ = "NetForPickle"  # picklable by name from this module
    globals()["NetForPickle"] = Net
    try:
        net = Net()
        path = tmp_path / "model.pt"
        S.save(net, path)
        with pytest.raises(pickle.UnpicklingError, match="NetForPickle"):
            S.load(path)
        with S.safe_globals([Net]):
            m = S.load(path)
        for loaded in (m, S.load(path, weights_only=False)):
            assert type(loaded) is Net
            assert isinstance(loaded.w, Parameter) and loaded.w.requires_grad
            np.testing.assert_array_equal(A(loaded.w), A(net.w))
            np.testing.assert_array_equal(A(loaded.running), [0, 1, 2])
            assert [k for k, _ in loaded.named_parameters()] == ["w"]
    finally:
        del globals()["NetForPickle"]


def test_torch_whole_module_maps_to_ctorch(tmp_path):
    torch = pytest.importorskip("torch")
    import importlib

    try:
        Linear = importlib.import_module("ctorch.nn.modules.linear").Linear
    except (ImportError, AttributeError):
        pytest.skip("ctorch.nn.modules.linear.Linear not available")
    lin = torch.nn.Linear(3, 2)
    path = tmp_path / "lin.pt"
    torch.save(lin, path)
    with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.linear.Linear"):
        S.load(path)
    for m in (S.load(path, weights_only=False), _load_with(path, [Linear])):
        assert type(m) is Linear
        np.testing.assert_array_equal(A(m.weight), lin.weight.detach().numpy())
        x = sample(np.float32, (4, 3))
        np.testing.assert_allclose(
            A(m(T(x))), lin(torch.from_numpy(x)).detach().numpy(), rtol=1e-6, atol=1e-6
        )


def _load_with(path, allowed):
    with S.safe_globals(allowed):
        return S.load(path)


# ------------------------------------------------------------------------------------------
# corrupt, truncated and foreign files
# ------------------------------------------------------------------------------------------


def _saved_bytes():
    buf = io.BytesIO()
    S.save({"w": T(sample(np.float32, (8, 8))), "n": 3}, buf)
    return buf.getvalue()


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9, 0.99])
def test_truncated_file(tmp_path, keep):
    data = _saved_bytes()
    path = tmp_path / "trunc.pt"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(RuntimeError, match="trunc.pt"):
        S.load(path)


def test_corrupted_bytes(tmp_path):
    data = bytearray(_saved_bytes())
    zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = zf.getinfo("archive/data.pkl")
    n, e = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + n + e
    data[start + 10 : start + 40] = b"\xfe" * 30  # scribble over the pickle
    path = tmp_path / "corrupt.pt"
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="corrupt.pt"):
        S.load(path)


def test_plain_pickle_is_not_a_checkpoint(tmp_path):
    p = tmp_path / "plain.pkl"
    p.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(RuntimeError, match="plain pickle"):
        S.load(p)


def test_garbage_empty_and_foreign_files(tmp_path):
    p = tmp_path / "garbage.pt"
    p.write_bytes(os.urandom(1000).replace(b"PK", b"pk").replace(b"\x80", b"\x00"))
    with pytest.raises(RuntimeError, match="not a PyTorch/ctorch checkpoint"):
        S.load(p)
    p = tmp_path / "empty.pt"
    p.write_bytes(b"")
    with pytest.raises(RuntimeError, match="empty"):
        S.load(p)
    p = tmp_path / "foreign.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(RuntimeError, match="data.pkl"):
        S.load(p)


def _crafted_tensor_file(path, numel, size, stride, offset=0, location="cpu", record_bytes=None):
    """A zip whose data.pkl rebuilds one float32 tensor with the given geometry."""

    class Bad:
        def __reduce__(self):
            ref = S._StorageRef(("storage", S._tg("torch", "FloatStorage"), "0", location, numel))
            return (
                S._tg("torch._utils", "_rebuild_tensor_v2"),
                (ref, offset, size, stride, False, collections.OrderedDict()),
            )

    buf = io.BytesIO()
    S._Pickler(buf, 2, S._Saver()).dump({"t": Bad()})
    if record_bytes is None:
        record_bytes = np.arange(numel, dtype=np.float32).tobytes()
    _zip_with_pickle(path, buf.getvalue(), {"0": record_bytes})


def test_storage_bounds_are_checked(tmp_path):
    path = tmp_path / "oob.pt"
    _crafted_tensor_file(path, numel=4, size=(10,), stride=(1,))
    with pytest.raises(RuntimeError, match="too short"):
        S.load(path)
    _crafted_tensor_file(path, numel=4, size=(2, 2), stride=(2, 1), offset=1)
    with pytest.raises(RuntimeError, match="oob.pt"):
        S.load(path)
    _crafted_tensor_file(path, numel=4, size=(2,), stride=(-1,), offset=3)
    with pytest.raises(RuntimeError, match="negative"):
        S.load(path)
    # the record itself is shorter than the storage's declared numel
    _crafted_tensor_file(path, numel=100, size=(4,), stride=(1,), record_bytes=b"\0" * 16)
    with pytest.raises(RuntimeError, match="holds 16 bytes"):
        S.load(path)
    # sane geometry still loads
    _crafted_tensor_file(path, numel=6, size=(2, 2), stride=(1, 2), offset=1)
    np.testing.assert_array_equal(A(S.load(path)["t"]), [[1, 3], [2, 4]])


def test_bfloat16_storage_loads(tmp_path):
    class BF:
        def __reduce__(self):
            ref = S._StorageRef(("storage", S._tg("torch", "BFloat16Storage"), "0", "cpu", 2))
            return (
                S._tg("torch._utils", "_rebuild_tensor_v2"),
                (ref, 0, (2,), (1,), False, collections.OrderedDict()),
            )

    buf = io.BytesIO()
    S._Pickler(buf, 2, S._Saver()).dump(BF())
    path = tmp_path / "bf.pt"
    _zip_with_pickle(path, buf.getvalue(), {"0": b"\x80\x3f\x00\xc0"})  # 1.0, -2.0
    t = S.load(path)
    assert t.dtype is ctorch.bfloat16
    assert t.float().tolist() == [1.0, -2.0]


# ------------------------------------------------------------------------------------------
# map_location
# ------------------------------------------------------------------------------------------


def test_map_location_cpu_forms():
    ref = sample(np.float32)
    for ml in (None, "cpu", ctorch.device("cpu"), {"cpu": "cpu"}, lambda s, loc: s):
        out = roundtrip({"w": T(ref)}, map_location=ml)
        assert out["w"].device.type == "cpu"
        assert_same(out["w"], ref)


def _cuda_ok() -> bool:
    return S._cuda_state()[0]


def test_map_location_from_cuda_file(tmp_path):
    path = tmp_path / "gpu.pt"
    _crafted_tensor_file(path, numel=4, size=(4,), stride=(1,), location="cuda:0")
    if not _cuda_ok():
        with pytest.raises(RuntimeError, match="map_location") as ei:
            S.load(path)
        assert "is_available() is False" in str(ei.value) and "gpu.pt" in str(ei.value)
    for ml in ("cpu", ctorch.device("cpu"), {"cuda:0": "cpu"}):
        t = S.load(path, map_location=ml)["t"]
        assert t.device.type == "cpu"
        np.testing.assert_array_equal(A(t), [0, 1, 2, 3])
    seen = []

    def fn(storage, location):
        seen.append(location)
        return storage

    assert A(S.load(path, map_location=fn)["t"]).tolist() == [0, 1, 2, 3]
    assert seen == ["cuda:0"]
    with pytest.raises(RuntimeError, match="tagged with mps"):
        S.load(path, map_location={"cuda:0": "mps"})
    with pytest.raises(RuntimeError, match="must return the storage"):
        S.load(path, map_location=lambda s, loc: 3)
    with pytest.raises(TypeError, match="map_location"):
        S.load(path, map_location=3.5)


@pytest.mark.cuda
def test_cuda_roundtrip():
    if not _cuda_ok():
        pytest.skip("no usable GPU")
    ref = sample(np.float32)
    g = T(ref).to("cuda")
    buf = io.BytesIO()
    S.save({"g": g, "c": T(ref)}, buf)
    assert b"cuda:0" in zipfile.ZipFile(io.BytesIO(buf.getvalue())).read("archive/data.pkl")
    buf.seek(0)
    out = S.load(buf)
    assert out["g"].device.type == "cuda" and out["c"].device.type == "cpu"
    np.testing.assert_array_equal(A(out["g"].cpu()), ref)
    buf.seek(0)
    out = S.load(buf, map_location="cpu")
    assert out["g"].device.type == "cpu"
    buf.seek(0)
    out = S.load(buf, map_location="cuda")
    assert out["c"].device.type == "cuda"


# ------------------------------------------------------------------------------------------
# files written by torch, loaded without torch (committed fixtures)
# ------------------------------------------------------------------------------------------

FIXTURE_WEIGHT = [
    [-0.004322517663240433, 0.3097158372402191, -0.4751853346824646],
    [-0.4248946011066437, -0.2223689705133438, 0.15482072532176971],
]
FIXTURE_BIAS = [-0.011439144611358643, 0.45777493715286255]


def test_torch_written_fixture_without_torch():
    sd = S.load(FIXTURES / "torch_state_dict.pt")
    assert type(sd) is collections.OrderedDict
    assert list(sd) == ["weight", "bias", "f64", "i64", "mask"]
    assert sd._metadata[""]["version"] == 1
    assert sd["weight"].dtype == ctorch.float32 and tuple(sd["weight"].shape) == (2, 3)
    np.testing.assert_array_equal(A(sd["weight"]), np.array(FIXTURE_WEIGHT, np.float32))
    np.testing.assert_array_equal(A(sd["bias"]), np.array(FIXTURE_BIAS, np.float32))
    assert sd["f64"].dtype == ctorch.float64
    np.testing.assert_array_equal(A(sd["f64"]), [[1.5, -2.25], [3.125, 1e-300]])
    assert sd["i64"].dtype == ctorch.int64
    assert A(sd["i64"]).tolist() == [-(2**40), 0, 7, 2**62]
    assert sd["mask"].dtype == ctorch.bool
    assert A(sd["mask"]).tolist() == [True, False, True]
    assert not any(t.requires_grad for t in sd.values())


def test_torch_written_legacy_fixture_without_torch():
    out = S.load(FIXTURES / "torch_legacy.pt")
    assert A(out["x"]).tolist() == [0, 1, 2, 3, 4, 5]
    assert A(out["tail"]).tolist() == [2, 3, 4, 5]
    assert out["n"] == 3
    assert out["p"].requires_grad
    assert A(out["p"]).tolist() == [1.0, -1.0]
    A(out["x"])[3] = 9.0  # shared storage survives the legacy format too
    assert A(out["tail"])[1] == 9.0
    full = S.load(FIXTURES / "torch_legacy.pt", weights_only=False)
    assert A(full["tail"]).tolist() == [2, 3, 4, 5] and full["n"] == 3


# ------------------------------------------------------------------------------------------
# interop with a real torch
# ------------------------------------------------------------------------------------------


def _torch_dtypes(torch):
    return [
        (torch.float32, np.float32),
        (torch.float64, np.float64),
        (torch.float16, np.float16),
        (torch.int8, np.int8),
        (torch.int16, np.int16),
        (torch.int32, np.int32),
        (torch.int64, np.int64),
        (torch.uint8, np.uint8),
        (torch.uint16, np.uint16),  # saved as untyped bytes + the dtype (_rebuild_tensor_v3)
        (torch.uint32, np.uint32),
        (torch.uint64, np.uint64),
        (torch.bool, np.bool_),
        (torch.complex64, np.complex64),
        (torch.complex128, np.complex128),
    ]


def test_torch_save_then_ctorch_load(tmp_path):
    torch = pytest.importorskip("torch")
    obj = {}
    for tdt, npdt in _torch_dtypes(torch):
        obj[str(tdt)] = torch.from_numpy(sample(npdt))
    base = torch.arange(24, dtype=torch.float64).reshape(4, 6)
    obj.update(
        t=base.t(),
        view=base[1:, ::2],
        zero_d=torch.tensor(2.5),
        expanded=torch.arange(3.0).expand(2, 3),
        grad=torch.ones(3, requires_grad=True),
        param=torch.nn.Parameter(torch.full((2,), 4.0)),
        frozen=torch.nn.Parameter(torch.ones(1), requires_grad=False),
        size=torch.Size([3, 4]),
        dtype=torch.float16,
        device=torch.device("cuda", 0),
        meta={"lr": 0.1, "betas": (0.9, 0.99), "b": b"xy", "s": {1, 2}, "c": 1j},
        u16=torch.tensor([0, 65535], dtype=torch.uint16),
    )
    path = tmp_path / "t.pt"
    torch.save(obj, path)
    out = S.load(path)
    for tdt, _ in _torch_dtypes(torch):
        assert_same(out[str(tdt)], obj[str(tdt)].numpy())
    assert_same(out["t"], base.t().numpy())
    assert_same(out["view"], base[1:, ::2].numpy())
    assert A(out["zero_d"]) == 2.5 and out["zero_d"].shape == ()
    assert_same(out["expanded"], obj["expanded"].numpy())
    assert out["grad"].requires_grad
    assert out["param"].requires_grad and A(out["param"]).tolist() == [4.0, 4.0]
    assert not out["frozen"].requires_grad
    assert out["size"] == ctorch.Size([3, 4]) and type(out["size"]) is ctorch.Size
    assert out["dtype"] is ctorch.float16
    assert out["device"] == ctorch.device("cuda", 0)
    assert out["meta"] == obj["meta"]
    assert A(out["u16"]).tolist() == [0, 65535] and out["u16"].dtype is ctorch.uint16
    # views of one torch storage share memory after loading
    A(out["t"])[0, 1] = -7.0
    assert A(out["view"])[0, 0] == -7.0


def test_ctorch_save_then_torch_load(tmp_path):
    torch = pytest.importorskip("torch")
    obj = {}
    for tdt, npdt in _torch_dtypes(torch):
        obj[str(tdt)] = T(sample(npdt))
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    obj.update(
        t=T(base.T),
        view=T(base[1:, ::2]),
        neg=T(base[::-1]),
        zero_d=T(np.array(2.5)),
        grad=T(np.ones(3, np.float32), True),
        size=ctorch.Size([3, 4]),
        dtype=ctorch.float16,
        device=ctorch.device("cpu"),
        sd=collections.OrderedDict(w=T(np.ones((2, 2), np.float32))),
        opt={"state": {0: {"step": T(np.array(1.0, np.float32))}}, "param_groups": [{"lr": 1}]},
    )
    path = tmp_path / "c.pt"
    S.save(obj, path)
    out = torch.load(path, weights_only=True)
    for tdt, _ in _torch_dtypes(torch):
        assert out[str(tdt)].dtype == tdt
        np.testing.assert_array_equal(out[str(tdt)].numpy(), A(obj[str(tdt)]))
    np.testing.assert_array_equal(out["t"].numpy(), base.T)
    np.testing.assert_array_equal(out["view"].numpy(), base[1:, ::2])
    np.testing.assert_array_equal(out["neg"].numpy(), base[::-1])
    assert out["zero_d"].shape == () and out["zero_d"].item() == 2.5
    assert out["grad"].requires_grad
    assert out["size"] == torch.Size([3, 4]) and out["dtype"] is torch.float16
    assert out["device"] == torch.device("cpu")
    assert type(out["sd"]) is collections.OrderedDict
    assert out["opt"]["state"][0]["step"].item() == 1.0
    # views of one buffer came back as views of one torch storage
    assert out["t"].untyped_storage().data_ptr() == out["view"].untyped_storage().data_ptr()


def test_ctorch_parameter_to_torch(tmp_path):
    torch = pytest.importorskip("torch")
    Parameter = _parameter()
    path = tmp_path / "p.pt"
    S.save({"p": Parameter(T(np.ones(2, np.float32)))}, path)
    out = torch.load(path, weights_only=True)
    assert isinstance(out["p"], torch.nn.Parameter) and out["p"].requires_grad


def test_torch_legacy_format(tmp_path):
    torch = pytest.importorskip("torch")
    x = torch.arange(10, dtype=torch.int32)
    path = tmp_path / "legacy.pt"
    torch.save(
        {"x": x, "v": x[3:7], "f": torch.ones(2, 2)}, path, _use_new_zipfile_serialization=False
    )
    out = S.load(path)
    assert A(out["x"]).tolist() == list(range(10)) and out["x"].dtype == ctorch.int32
    assert A(out["v"]).tolist() == [3, 4, 5, 6]
    assert A(out["f"]).tolist() == [[1, 1], [1, 1]]


def test_torch_bfloat16_loads(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "bf.pt"
    torch.save({"w": torch.tensor([1.5, -3.0], dtype=torch.bfloat16)}, path)
    w = S.load(path)["w"]
    assert w.dtype is ctorch.bfloat16 and w.float().tolist() == [1.5, -3.0]


def test_torch_module_path_remapping():
    pytest.importorskip("ctorch.nn")
    import importlib

    try:
        lin = importlib.import_module("ctorch.nn.modules.linear").Linear
    except (ImportError, AttributeError):
        pytest.skip("ctorch.nn.modules.linear.Linear not available")
    r = S._Resolver("<test>", False, None, None)
    got = r.find_class_full(
        "torch.nn.modules.linear", "Linear", pickle.Unpickler(io.BytesIO()).find_class
    )
    assert got is lin
