"""``SummaryWriter``: torch.utils.tensorboard's writer, writing TensorBoard event files directly.

torch's writer needs the ``tensorboard`` package (and protobuf) to serialise events; ctorch
encodes the few messages itself (see ``_events.py``), so logging works with only NumPy (and
Pillow for images). ``tensorboard --logdir runs`` reads the files as usual.
"""

from __future__ import annotations

import io
import itertools
import os
import socket
import time
from datetime import datetime
from typing import Any

import numpy as np

from . import _events as ev

__all__ = ["SummaryWriter", "FileWriter"]

_uid = itertools.count()


def _to_numpy(x: Any) -> np.ndarray:
    from ..._tensor import Tensor

    if isinstance(x, Tensor):
        x = x.detach().cpu().numpy()
    elif hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch tensor
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _scalar(name: str, v: Any) -> float:
    a = _to_numpy(v)
    if a.size != 1:
        raise ValueError(f"SummaryWriter.{name}: expected a scalar value, got shape {a.shape}")
    return float(a.reshape(-1)[0])


def _default_bins() -> list[float]:
    # tensorboard's exponential buckets (1e-12 * 1.1**k, mirrored), as torch's writer uses
    v, pos = 1e-12, []
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return [-x for x in reversed(pos)] + [0.0] + pos


class FileWriter:
    """Appends events to one ``events.out.tfevents.*`` file in ``log_dir``."""

    def __init__(
        self, log_dir: str, max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = ""
    ) -> None:
        os.makedirs(log_dir, exist_ok=True)
        self.log_dir = str(log_dir)
        name = (
            f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
            f"{os.getpid()}.{next(_uid)}{filename_suffix}"
        )
        self.path = os.path.join(self.log_dir, name)
        self._fh: io.BufferedWriter | None = open(self.path, "wb")  # noqa: SIM115
        self._max_queue = max(1, int(max_queue))
        self._flush_secs = flush_secs
        self._pending = 0
        self._last_flush = time.time()
        self.add_event(ev.event(time.time(), file_version="brain.Event:2"))
        self.flush()

    def get_logdir(self) -> str:
        return self.log_dir

    def add_event(self, data: bytes) -> None:
        if self._fh is None:
            raise RuntimeError(f"SummaryWriter: the event file {self.path} is already closed")
        self._fh.write(ev.record(data))
        self._pending += 1
        if self._pending >= self._max_queue or time.time() - self._last_flush >= self._flush_secs:
            self.flush()

    def add_summary(self, value: bytes, step: int | None, walltime: float | None) -> None:
        wt = time.time() if walltime is None else float(walltime)
        self.add_event(ev.event(wt, None if step is None else int(step), summary=value))

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()
        self._pending = 0
        self._last_flush = time.time()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            self._fh.close()
            self._fh = None


def _to_hwc(a: np.ndarray, dataformats: str, name: str) -> np.ndarray:
    fmt = dataformats.upper()
    if len(set(fmt)) != len(fmt) or not set(fmt) <= set("NCHW") or a.ndim != len(fmt):
        raise ValueError(
            f"SummaryWriter.{name}: dataformats {dataformats!r} does not describe an array of "
            f"shape {a.shape}"
        )
    if "N" in fmt:
        a = a.transpose([fmt.index(c) for c in "NCHW" if c in fmt])
        if "C" not in fmt:
            a = a[:, None]
        a = _grid(a)  # (C, H, W)
        fmt = "CHW"
    if "C" not in fmt:
        a = a.transpose([fmt.index(c) for c in "HW"])[..., None]
    else:
        a = a.transpose([fmt.index(c) for c in "HWC"])
    if a.shape[2] == 1:
        a = np.concatenate([a, a, a], axis=2)
    if a.shape[2] not in (3, 4):
        raise ValueError(f"SummaryWriter.{name}: images need 1, 3 or 4 channels, got {a.shape[2]}")
    return a


def _grid(a: np.ndarray, ncols: int = 8) -> np.ndarray:
    """(N, C, H, W) -> (C, rows*H, cols*W) without padding, as torch's writer tiles images."""
    n, c, h, w = a.shape
    ncols = min(n, ncols)
    nrows = -(-n // ncols) if n else 0
    out = np.zeros((c, h * nrows, w * ncols), a.dtype)
    for i in range(n):
        r, k = divmod(i, ncols)
        out[:, r * h : (r + 1) * h, k * w : (k + 1) * w] = a[i]
    return out


def _png(hwc: np.ndarray) -> bytes:
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError(
            'SummaryWriter.add_image needs Pillow to encode PNG: pip install "ctorch[vision]"'
        ) from e
    buf = io.BytesIO()
    Image.fromarray(hwc).save(buf, format="PNG")
    return buf.getvalue()


class SummaryWriter:
    """Writes scalars, histograms, images, text and model graphs for TensorBoard.

    Same constructor and methods as ``torch.utils.tensorboard.SummaryWriter``; events go to
    ``log_dir`` (default ``runs/<date>_<host><comment>``).
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.default_bins = _default_bins()
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] = {}
        self._get_file_writer()

    def _get_file_writer(self) -> FileWriter:
        if self.file_writer is None:
            self.file_writer = FileWriter(
                self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix
            )
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
        return self.file_writer

    def get_logdir(self) -> str:
        return self.log_dir

    # ---------------------------------------------------------------- scalars
    def add_scalar(
        self,
        tag: str,
        scalar_value: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        v = _scalar("add_scalar", scalar_value)
        if new_style:
            value = ev.value_scalar_tensor(tag, v, double_precision)
        else:
            value = ev.value_simple(tag, v)
        self._get_file_writer().add_summary(ev.summary(value), global_step, walltime)

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict[str, Any],
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """One run per key, in ``log_dir/<main_tag>_<key>``, all under the tag ``main_tag``."""
        walltime = time.time() if walltime is None else walltime
        fw_logdir = self._get_file_writer().get_logdir()
        for tag, scalar in tag_scalar_dict.items():
            path = os.path.join(fw_logdir, f"{main_tag}_{tag}".replace("/", "_"))
            fw = self.all_writers.get(path)
            if fw is None:
                fw = FileWriter(path, self.max_queue, self.flush_secs, self.filename_suffix)
                self.all_writers[path] = fw
            value = ev.value_simple(main_tag, _scalar("add_scalars", scalar))
            fw.add_summary(ev.summary(value), global_step, walltime)

    # ---------------------------------------------------------------- histograms
    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: int | None = None,
        bins: Any = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        a = _to_numpy(values).astype(np.float64).reshape(-1)
        if a.size == 0:
            raise ValueError("SummaryWriter.add_histogram: the input has no element")
        if not np.isfinite(a).all():
            raise ValueError(f"SummaryWriter.add_histogram: {tag!r} has NaN or infinite values")
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        counts, edges = np.histogram(a, bins=bins)
        if max_bins is not None and len(counts) > max_bins:
            k = -(-len(counts) // max_bins)
            pad = (-len(counts)) % k
            counts = np.pad(counts, (0, pad)).reshape(-1, k).sum(axis=1)
            edges = np.concatenate([edges[:-1:k], edges[-1:]])
        # keep the support: from the first to the last non-empty bucket
        nz = np.flatnonzero(counts)
        lo, hi = (nz[0], nz[-1] + 1) if nz.size else (0, len(counts))
        counts, limits = counts[lo:hi], edges[lo + 1 : hi + 1]
        value = ev.value_histogram(
            tag, a.min(), a.max(), a.size, a.sum(), float(a @ a), limits, counts
        )
        self._get_file_writer().add_summary(ev.summary(value), global_step, walltime)

    # ---------------------------------------------------------------- images
    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """An image: float in [0, 1] (scaled by 255) or uint8, laid out as ``dataformats``."""
        a = _to_numpy(img_tensor)
        hwc = _to_hwc(a, dataformats, "add_image")
        if hwc.dtype != np.uint8:
            hwc = np.clip(hwc.astype(np.float64) * 255.0, 0, 255).round().astype(np.uint8)
        h, w, c = hwc.shape
        value = ev.value_image(tag, h, w, c, _png(np.ascontiguousarray(hwc)))
        self._get_file_writer().add_summary(ev.summary(value), global_step, walltime)

    def add_images(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "NCHW",
    ) -> None:
        """A batch of images tiled into one grid (8 per row)."""
        self.add_image(tag, img_tensor, global_step, walltime, dataformats)

    def add_figure(
        self,
        tag: str,
        figure: Any,
        global_step: int | None = None,
        close: bool = True,
        walltime: float | None = None,
    ) -> None:
        """A matplotlib figure (or a list of them) rendered to an image."""
        figs = figure if isinstance(figure, list) else [figure]
        imgs = []
        for fig in figs:
            fig.canvas.draw()
            rgba = np.asarray(fig.canvas.buffer_rgba())
            imgs.append(rgba[..., :3].transpose(2, 0, 1))
            if close:
                import matplotlib.pyplot as plt

                plt.close(fig)
        if isinstance(figure, list):
            self.add_images(tag, np.stack(imgs), global_step, walltime, "NCHW")
        else:
            self.add_image(tag, imgs[0], global_step, walltime, "CHW")

    # ---------------------------------------------------------------- text
    def add_text(
        self,
        tag: str,
        text_string: str,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        value = ev.value_text(f"{tag}/text_summary", str(text_string))
        self._get_file_writer().add_summary(ev.summary(value), global_step, walltime)

    # ---------------------------------------------------------------- graph
    def add_graph(
        self,
        model: Any,
        input_to_model: Any = None,
        verbose: bool = False,
        use_strict_trace: bool = True,
    ) -> None:
        """The model's graph, traced by running it once and walking the autograd graph.

        Nodes are the backward nodes of the ops that ran (``AddmmBackward0`` shows as
        ``Addmm``), the parameters under their ``named_parameters`` names and the inputs
        as ``input/<i>``; ops that record no autograd node (integer ops) do not appear.
        """
        import ctorch

        from ..._tensor import Tensor

        if input_to_model is None:
            raise ValueError("SummaryWriter.add_graph: input_to_model is required to trace")
        args = input_to_model if isinstance(input_to_model, (tuple, list)) else (input_to_model,)
        names = {id(p): n for n, p in model.named_parameters()}
        traced = []
        for i, a in enumerate(args):
            if isinstance(a, Tensor) and a.is_floating_point():
                a = a.detach().requires_grad_(True)
                names[id(a)] = f"input/{i}"
            traced.append(a)
        with ctorch.enable_grad():
            out = model(*traced)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        node_names: dict[int, str] = {}
        nodes: list[bytes] = []
        counter = itertools.count()

        def visit(fn) -> str:
            key = id(fn)
            if key in node_names:
                return node_names[key]
            var = getattr(fn, "variable", None)
            if var is not None:  # a leaf: parameter or input
                name = names.get(id(var), f"leaf/{next(counter)}")
                op = "IO Node" if name.startswith("input/") else "Parameter"
                node_names[key] = name
                shape = str(list(var.shape))
                nodes.append(ev.node_def(name, op, [], {"shape": shape}))
                return name
            op = type(fn).__name__
            base = op[: op.rfind("Backward")] if "Backward" in op else op
            name = f"{base}_{next(counter)}"
            node_names[key] = name
            inputs = [visit(nxt) for nxt, _ in getattr(fn, "next_functions", ()) if nxt]
            nodes.append(ev.node_def(name, base, inputs, {}))
            return name

        for i, o in enumerate(outs):
            if isinstance(o, Tensor) and o.grad_fn is not None:
                src = visit(o.grad_fn)
                nodes.append(ev.node_def(f"output/{i}", "IO Node", [src], {}))
        if verbose:
            print(f"add_graph: {len(nodes)} nodes")
        fw = self._get_file_writer()
        fw.add_event(ev.event(time.time(), graph_def=ev.graph_def(nodes)))

    def add_hparams(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "SummaryWriter.add_hparams is not implemented in ctorch (scalars, histograms, "
            "images, figures, text and graphs are)"
        )

    def add_embedding(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("SummaryWriter.add_embedding is not implemented in ctorch")

    # ---------------------------------------------------------------- lifetime
    def flush(self) -> None:
        for w in self.all_writers.values():
            w.flush()

    def close(self) -> None:
        for w in self.all_writers.values():
            w.close()
        self.file_writer = None
        self.all_writers = {}

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
