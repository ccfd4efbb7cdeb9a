"""ctorch.utils.tensorboard.SummaryWriter: event files decoded by our reader and, when the
tensorboard package is installed, by TensorBoard's own EventAccumulator."""

import glob
import io
import os
import struct

import numpy as np
import pytest

import ctorch
from ctorch.utils.tensorboard import SummaryWriter
from ctorch.utils.tensorboard import _events as ev


def _events(log_dir):
    (path,) = glob.glob(os.path.join(log_dir, "events.out.tfevents.*"))
    return list(ev.read_events(path))


def test_crc32c_known_values():
    # RFC 3720 test vectors for CRC-32C
    assert ev.crc32c(b"") == 0
    assert ev.crc32c(b"123456789") == 0xE3069283
    assert ev.crc32c(bytes(32)) == 0x8A9136AA
    assert ev.crc32c(bytes([0xFF] * 32)) == 0x62A8AB43


def test_scalars_round_trip(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(5):
            w.add_scalar("loss/train", ctorch.tensor(1.0 / (step + 1)), step)
        w.add_scalar("lr", np.float64(0.1), 7, walltime=123.5)
    evs = _events(tmp_path)
    assert evs[0]["file_version"] == "brain.Event:2"
    scal = [(e["step"], e["summary"][0]["tag"], e["summary"][0]["simple_value"]) for e in evs[1:]]
    assert scal[:5] == [(s, "loss/train", pytest.approx(1.0 / (s + 1))) for s in range(5)]
    assert scal[5] == (7, "lr", pytest.approx(0.1))
    assert evs[-1]["wall_time"] == 123.5


def test_new_style_scalar(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("a", 2.5, 1, new_style=True)
        w.add_scalar("b", 1 / 3, 2, new_style=True, double_precision=True)
    evs = _events(tmp_path)
    assert evs[1]["summary"][0]["tensor_value"] == [2.5]
    assert evs[2]["summary"][0]["tensor_value"] == [1 / 3]


def test_scalar_rejects_non_scalar(tmp_path):
    with SummaryWriter(tmp_path) as w, pytest.raises(ValueError, match="add_scalar.*shape"):
        w.add_scalar("x", ctorch.ones(3), 0)


def test_add_scalars_writes_one_run_per_key(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalars("run", {"a": 1.0, "b/c": 2.0}, 3)
    a = _events(tmp_path / "run_a")
    b = _events(tmp_path / "run_b_c")
    assert a[1]["summary"][0] == {"tag": "run", "simple_value": 1.0}
    assert b[1]["summary"][0]["simple_value"] == 2.0 and b[1]["step"] == 3


def test_histogram_buckets_match_numpy(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1000)
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("w", ctorch.from_numpy(x), 0, bins=10)
        w.add_histogram("w2", x, 1)  # tensorflow-style exponential buckets
    h = _events(tmp_path)[1]["summary"][0]["histo"]
    counts, edges = np.histogram(x, bins=10)
    assert h["bucket"] == counts.tolist()
    np.testing.assert_allclose(h["bucket_limit"], edges[1:])
    assert h["num"] == 1000 and h["min"] == x.min() and h["max"] == x.max()
    np.testing.assert_allclose([h["sum"], h["sum_squares"]], [x.sum(), x @ x])
    h2 = _events(tmp_path)[2]["summary"][0]["histo"]
    assert sum(h2["bucket"]) == 1000
    assert h2["bucket_limit"] == sorted(h2["bucket_limit"])


def test_histogram_errors(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match="no element"):
            w.add_histogram("e", np.zeros(0), 0)
        with pytest.raises(ValueError, match="NaN"):
            w.add_histogram("e", np.array([1.0, np.nan]), 0)


def test_images_decode_to_the_pixels(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    img = np.linspace(0, 1, 3 * 4 * 5).reshape(3, 4, 5).astype(np.float32)
    batch = np.random.default_rng(1).integers(0, 256, (10, 1, 2, 3), dtype=np.uint8)
    with SummaryWriter(tmp_path) as w:
        w.add_image("chw", ctorch.from_numpy(img), 0)
        w.add_image("hw", img[0], 1, dataformats="HW")
        w.add_images("batch", batch, 2)
        with pytest.raises(ValueError, match="dataformats"):
            w.add_image("bad", img, 3, dataformats="NCHW")
        with pytest.raises(ValueError, match="channels, got 5"):
            w.add_image("bad", img, 3, dataformats="HWC")
    evs = _events(tmp_path)
    im = evs[1]["summary"][0]["image"]
    assert (im["height"], im["width"], im["colorspace"]) == (4, 5, 3)
    got = np.asarray(Image.open(io.BytesIO(im["encoded_image_string"])))
    np.testing.assert_array_equal(got, np.round(img.transpose(1, 2, 0) * 255).astype(np.uint8))
    gray = np.asarray(Image.open(io.BytesIO(evs[2]["summary"][0]["image"]["encoded_image_string"])))
    assert gray.shape == (4, 5, 3) and (gray[..., 0] == gray[..., 2]).all()
    grid = evs[3]["summary"][0]["image"]
    assert (grid["height"], grid["width"]) == (2 * 2, 3 * 8)  # 10 images, 8 per row
    g = np.asarray(Image.open(io.BytesIO(grid["encoded_image_string"])))
    np.testing.assert_array_equal(g[2:4, 3:6, 0], batch[9, 0])


def test_text_and_graph(tmp_path):
    model = ctorch.nn.Sequential(ctorch.nn.Linear(3, 4), ctorch.nn.ReLU(), ctorch.nn.Linear(4, 2))
    with SummaryWriter(tmp_path) as w:
        w.add_text("note", "hello *world*", 0)
        w.add_graph(model, ctorch.randn(5, 3))
    evs = _events(tmp_path)
    assert evs[1]["summary"][0]["tensor_string"] == ["hello *world*"]
    assert evs[1]["summary"][0]["tag"] == "note/text_summary"
    nodes = {n["name"]: n for n in evs[2]["graph_def"]}
    assert {"0.weight", "0.bias", "2.weight", "2.bias", "input/0", "output/0"} <= set(nodes)

    def reaches(name, target):
        return name == target or any(reaches(i, target) for i in nodes[name]["input"])

    # output <- linear 2 <- relu <- linear 1 <- input; the first layer's weight is upstream of
    # the second layer's op, the second's is not upstream of the first's
    assert reaches("output/0", "input/0") and reaches("output/0", "0.weight")
    (top,) = nodes["output/0"]["input"]
    assert reaches(top, "2.weight") and nodes[top]["op"] == "Addmm"
    (relu,) = [i for i in nodes[top]["input"] if nodes[i]["op"] == "Relu"]
    assert reaches(relu, "0.weight") and not reaches(relu, "2.weight")


def test_records_are_checked_and_truncation_is_reported(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("x", 1.0, 0)
    (path,) = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    bad = bytearray(data)
    bad[12] ^= 1  # flip a bit in the first record's body
    p2 = tmp_path / "bad"
    p2.write_bytes(bytes(bad))
    with pytest.raises(ValueError, match="bad or truncated record"):
        list(ev.read_events(str(p2)))
    p3 = tmp_path / "trunc"
    p3.write_bytes(data[:-3])
    with pytest.raises(ValueError, match="truncated|bad"):
        list(ev.read_events(str(p3)))


def test_default_log_dir_and_close(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_exp")
    assert w.get_logdir().startswith("runs" + os.sep) and w.get_logdir().endswith("_exp")
    w.close()
    w.close()  # idempotent
    w2 = SummaryWriter(tmp_path / "again")
    w2.file_writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        w2.file_writer.add_event(b"")


def test_tensorboard_reads_our_files(tmp_path):
    """TensorBoard's own loader parses every kind of event we write."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with SummaryWriter(tmp_path) as w:
        for s in range(3):
            w.add_scalar("loss", 1.0 - 0.25 * s, s)
        w.add_histogram("w", np.arange(100.0), 0, bins=5)
        w.add_image("img", np.zeros((3, 2, 2), np.float32), 0)
        w.add_text("t", "hi", 0)
        w.add_graph(ctorch.nn.Linear(2, 1), ctorch.randn(1, 2))
    acc = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    acc.Reload()
    tags = acc.Tags()
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [(0, 1.0), (1, 0.75), (2, 0.5)]
    h = acc.Histograms("w")[0].histogram_value
    assert h.num == 100 and list(h.bucket) == [20, 20, 20, 20, 20]
    im = acc.Images("img")[0]
    assert (im.width, im.height) == (2, 2)
    assert "t/text_summary" in tags["tensors"]
    assert tags["graph"] is True
    graph = acc.Graph()
    assert any(n.name == "weight" for n in graph.node)
