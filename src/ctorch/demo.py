"""``python -m ctorch.demo``: train a small CNN on real handwritten digits and show the results.

With no arguments it trains on the UCI 8x8 optical digits that ship with ctorch
(``ctorch.vision.datasets.Digits``: 1,437 training and 360 test images), so it works offline
on a fresh machine. ``--dataset mnist --root DIR`` trains LeNet-5 on MNIST files found in
``DIR/MNIST/raw`` (downloaded there first when the machine is online).

It prints a progress bar per epoch (loss and images/s), the test accuracy after each epoch and
the total time, and writes two pictures (default ``./ctorch_demo_out/``):

- ``curves.png``: training loss and test accuracy per epoch, drawn into a NumPy image here
  (no plotting library) and saved with ``ctorch.vision.utils.save_image``;
- ``predictions.png``: a grid of test digits (``make_grid``), each framed green when the model
  is right and red when it is wrong, with the predicted label drawn under it in a tiny built-in
  3x5 pixel font.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["main", "build_digits_model", "render_curves", "render_predictions"]

# ---------------------------------------------------------------------------------------------
# A 3x5 pixel font: enough for digits, numbers and the chart labels.
_FONT_ROWS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "001", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    ".": ("000", "000", "000", "000", "010"),
    "%": ("101", "001", "010", "100", "101"),
    "-": ("000", "000", "111", "000", "000"),
    "/": ("001", "001", "010", "100", "100"),
    ":": ("000", "010", "000", "010", "000"),
    " ": ("000", "000", "000", "000", "000"),
    "A": ("010", "101", "111", "101", "101"),
    "C": ("111", "100", "100", "100", "111"),
    "D": ("110", "101", "101", "101", "110"),
    "E": ("111", "100", "111", "100", "111"),
    "G": ("111", "100", "101", "101", "111"),
    "H": ("101", "101", "111", "101", "101"),
    "I": ("111", "010", "010", "010", "111"),
    "L": ("100", "100", "100", "100", "111"),
    "N": ("110", "101", "101", "101", "101"),
    "O": ("111", "101", "101", "101", "111"),
    "P": ("111", "101", "111", "100", "100"),
    "R": ("110", "101", "110", "101", "101"),
    "S": ("111", "100", "111", "001", "111"),
    "T": ("111", "010", "010", "010", "010"),
    "U": ("101", "101", "101", "101", "111"),
    "Y": ("101", "101", "010", "010", "010"),
}
_FONT = {
    ch: np.array([[c == "1" for c in row] for row in rows], dtype=bool)
    for ch, rows in _FONT_ROWS.items()
}


def _draw_text(
    img: np.ndarray, text: str, x: int, y: int, color: Sequence[float], scale: int = 1
) -> None:
    """Draw ``text`` (upper-cased) into an H x W x 3 image, top-left corner at (x, y)."""
    for ch in text.upper():
        glyph = _FONT.get(ch, _FONT[" "])
        big = np.kron(glyph, np.ones((scale, scale), dtype=bool))
        h, w = big.shape
        y0, x0 = max(y, 0), max(x, 0)
        y1, x1 = min(y + h, img.shape[0]), min(x + w, img.shape[1])
        if y1 > y0 and x1 > x0:
            region = img[y0:y1, x0:x1]
            region[big[y0 - y : y1 - y, x0 - x : x1 - x]] = color
        x += 4 * scale


def _text_width(text: str, scale: int = 1) -> int:
    return max(len(text) * 4 - 1, 0) * scale


def _draw_line(
    img: np.ndarray,
    p0: tuple[float, float],
    p1: tuple[float, float],
    color: Sequence[float],
    width: int = 2,
) -> None:
    (x0, y0), (x1, y1) = p0, p1
    n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
    xs = np.rint(np.linspace(x0, x1, n)).astype(int)
    ys = np.rint(np.linspace(y0, y1, n)).astype(int)
    for dy in range(width):
        for dx in range(width):
            yy = np.clip(ys + dy - width // 2, 0, img.shape[0] - 1)
            xx = np.clip(xs + dx - width // 2, 0, img.shape[1] - 1)
            img[yy, xx] = color


def _nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    span = max(hi - lo, 1e-12)
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    start = math.ceil(lo / step - 1e-9) * step
    return np.arange(start, hi + step * 1e-6, step)


def _fmt_tick(v: float, step: float) -> str:
    decimals = next((d for d in range(4) if abs(round(step, d) - step) < 1e-9 * max(step, 1)), 3)
    return f"{v:.{decimals}f}"


def _panel(
    values: Sequence[float],
    title: str,
    color: Sequence[float],
    ylim: tuple[float, float],
    width: int = 320,
    height: int = 240,
) -> np.ndarray:
    """One line chart (x = epoch 1..n) as an H x W x 3 float image in [0, 1]."""
    img = np.ones((height, width, 3), dtype=np.float32)
    left, right, top, bottom = 44, 12, 24, 30
    pw, ph = width - left - right, height - top - bottom
    lo, hi = ylim
    if hi <= lo:
        hi = lo + 1.0
    n = len(values)

    def to_px(i: float, v: float) -> tuple[float, float]:
        x = left + (i / max(n - 1, 1)) * pw
        y = top + (1.0 - (v - lo) / (hi - lo)) * ph
        return x, y

    grid, axis, ink = (0.88, 0.88, 0.88), (0.2, 0.2, 0.2), (0.1, 0.1, 0.1)
    ticks = _nice_ticks(lo, hi)
    step = float(ticks[1] - ticks[0]) if len(ticks) > 1 else hi - lo
    for t in ticks:
        _, y = to_px(0, float(t))
        _draw_line(img, (left, y), (left + pw, y), grid, width=1)
        label = _fmt_tick(float(t), step)
        _draw_text(img, label, left - 4 - _text_width(label), int(round(y)) - 2, ink)
    xt = max(1, math.ceil(n / 10))
    for i in range(0, n, xt):
        x, _ = to_px(i, lo)
        _draw_line(img, (x, top + ph), (x, top + ph + 3), axis, width=1)
        label = str(i + 1)
        _draw_text(img, label, int(round(x)) - _text_width(label) // 2, top + ph + 6, ink)
    _draw_line(img, (left, top), (left, top + ph), axis, width=1)
    _draw_line(img, (left, top + ph), (left + pw, top + ph), axis, width=1)
    _draw_text(img, title, left + (pw - _text_width(title, 2)) // 2, 6, ink, scale=2)
    _draw_text(img, "EPOCH", left + (pw - _text_width("EPOCH")) // 2, height - 9, ink)
    pts = [to_px(i, float(v)) for i, v in enumerate(values)]
    for a, b in zip(pts[:-1], pts[1:], strict=False):
        _draw_line(img, a, b, color, width=2)
    for x, y in pts:
        _draw_line(img, (x - 2, y), (x + 2, y), color, width=3)
    return img


def render_curves(train_loss: Sequence[float], test_acc: Sequence[float]) -> np.ndarray:
    """Training loss and test accuracy (in %) per epoch, side by side: 3 x H x W in [0, 1]."""
    lmax = max(max(train_loss), 1e-3) * 1.1
    amin = min(test_acc) * 100
    alo = max(0.0, math.floor((amin - 1) / 5) * 5)
    loss = _panel(train_loss, "TRAIN LOSS", (0.12, 0.35, 0.80), (0.0, lmax))
    acc = _panel([a * 100 for a in test_acc], "TEST ACCURACY %", (0.85, 0.40, 0.05), (alo, 100.0))
    img = np.concatenate([loss, acc], axis=1)
    return np.ascontiguousarray(img.transpose(2, 0, 1))


def render_predictions(
    images: np.ndarray, preds: Sequence[int], targets: Sequence[int], nrow: int = 8, scale: int = 4
) -> Any:
    """A ``make_grid`` of test digits: green frame if right, red if wrong, predicted label below.

    ``images``: N x H x W floats in [0, 1] (white digit on black). Returns a 3 x H x W tensor.
    """
    import ctorch
    from ctorch.vision.utils import make_grid

    border, label_h = 2, 14
    tiles = []
    for img, p, t in zip(images, preds, targets, strict=False):
        big = np.kron(np.asarray(img, dtype=np.float32), np.ones((scale, scale), np.float32))
        h, w = big.shape
        tile = np.zeros((h + 2 * border + label_h, w + 2 * border, 3), dtype=np.float32)
        frame = (0.1, 0.8, 0.2) if int(p) == int(t) else (0.95, 0.15, 0.1)
        tile[: h + 2 * border] = frame
        tile[border : border + h, border : border + w] = big[..., None]
        text = str(int(p))
        _draw_text(
            tile,
            text,
            (tile.shape[1] - _text_width(text, 2)) // 2,
            h + 2 * border + 2,
            frame,
            scale=2,
        )
        tiles.append(tile.transpose(2, 0, 1))
    batch = ctorch.from_numpy(np.ascontiguousarray(np.stack(tiles)))
    return make_grid(batch, nrow=nrow, padding=3, pad_value=0.15)


# ---------------------------------------------------------------------------------------------
def build_digits_model() -> Any:
    """The demo's CNN for 1x8x8 digits: two 3x3 convolutions, one pooling, two linear layers."""
    from ctorch import nn

    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 64, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # 64 x 4 x 4
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(64 * 4 * 4, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def _load_data(args: argparse.Namespace) -> tuple[Any, Any, Any, Any, str]:
    """Float tensors N x 1 x H x W (normalized) and int64 labels for train and test."""
    import ctorch

    if args.dataset == "digits":
        from ctorch.vision.datasets import Digits

        train, test = Digits(args.root, train=True), Digits(args.root, train=False)
        desc = "UCI 8x8 optical digits (bundled, CC BY 4.0)"
    else:
        from ctorch.vision.datasets import MNIST

        root = args.root or os.path.join(os.path.expanduser("~"), ".ctorch", "data")
        try:
            train = MNIST(root, train=True, download=True)
            test = MNIST(root, train=False, download=True)
        except RuntimeError as e:
            raise SystemExit(f"ctorch.demo: cannot load MNIST: {e}") from None
        desc = f"MNIST ({root})"
    xtr = train.data.numpy().astype(np.float32)[:, None] / 255.0
    xte = test.data.numpy().astype(np.float32)[:, None] / 255.0
    mean, std = float(xtr.mean()), float(xtr.std())
    norm = lambda a: np.ascontiguousarray((a - mean) / std)
    return (
        ctorch.from_numpy(norm(xtr)),
        ctorch.from_numpy(train.targets.numpy().astype(np.int64)),
        ctorch.from_numpy(norm(xte)),
        ctorch.from_numpy(test.targets.numpy().astype(np.int64)),
        desc,
    )


class _Progress:
    """A one-line ``\\r`` progress bar; on a non-terminal only the finished line is printed."""

    def __init__(self, total: int, prefix: str, stream: Any = None, width: int = 24) -> None:
        self.total, self.prefix, self.width = total, prefix, width
        self.stream = stream if stream is not None else sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last = 0.0

    def _line(self, done: int, info: str) -> str:
        filled = int(self.width * done / max(self.total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        return f"{self.prefix} [{bar}] {done:>{len(str(self.total))}}/{self.total} {info}"

    def update(self, done: int, info: str) -> None:
        now = time.perf_counter()
        if self.tty and (now - self.last > 0.1 or done >= self.total):
            self.stream.write("\r" + self._line(done, info))
            self.stream.flush()
            self.last = now

    def close(self, done: int, info: str) -> None:
        self.stream.write(("\r" if self.tty else "") + self._line(done, info) + "\n")
        self.stream.flush()


def _evaluate(model: Any, x: Any, y: Any, batch: int = 500) -> tuple[float, np.ndarray]:
    import ctorch

    model.eval()
    preds = []
    with ctorch.no_grad():
        for i in range(0, len(x), batch):
            preds.append(model(x[i : i + batch]).argmax(1).numpy())
    model.train()
    pred = np.concatenate(preds)
    return float((pred == y.numpy()).mean()), pred


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m ctorch.demo",
        description="Train a small CNN on handwritten digits with ctorch and plot the results.",
    )
    p.add_argument(
        "--dataset",
        choices=("digits", "mnist"),
        default="digits",
        help="digits: the bundled UCI 8x8 digits (default); mnist: MNIST in --root",
    )
    p.add_argument("--root", default=None, help="data folder for --dataset mnist")
    p.add_argument(
        "--epochs", type=int, default=None, help="epochs (default 12 for digits, 1 for mnist)"
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="batch size (default 32 for digits, 64 for mnist)",
    )
    p.add_argument(
        "--lr",
        type=float,
        default=None,
        help="Adam learning rate (default 2e-3 for digits, 1e-3 for mnist)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for ctorch's kernels and NumPy's BLAS (default 1 for the 8x8 "
        "digits, whose tensors are too small to gain from threads; ctorch's "
        "default for mnist)",
    )
    p.add_argument("--out", default="ctorch_demo_out", help="where the pictures go")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the demo; returns the history, final accuracy, time and picture paths."""
    args = _parse(argv)
    digits = args.dataset == "digits"
    epochs = args.epochs if args.epochs is not None else (12 if digits else 1)
    batch_size = args.batch_size if args.batch_size is not None else (32 if digits else 64)
    lr = args.lr if args.lr is not None else (2e-3 if digits else 1e-3)
    out = sys.stdout if not args.quiet else open(os.devnull, "w")

    t_start = time.perf_counter()
    import ctorch

    threads = args.threads if args.threads is not None else (1 if digits else None)
    old_threads = ctorch.get_num_threads()
    if threads is not None:
        ctorch.set_num_threads(threads)  # also NumPy's OpenBLAS (ctorch._blas_threads)
    try:
        return _train(args, digits, epochs, batch_size, lr, out, t_start)
    finally:
        ctorch.set_num_threads(old_threads)
        if args.quiet:
            out.close()


def _train(
    args: argparse.Namespace,
    digits: bool,
    epochs: int,
    batch_size: int,
    lr: float,
    out: Any,
    t_start: float,
) -> dict[str, Any]:
    import ctorch
    from ctorch import nn, optim
    from ctorch.utils.data import DataLoader, TensorDataset

    ctorch.manual_seed(args.seed)
    xtr, ytr, xte, yte, desc = _load_data(args)
    if digits:
        model = build_digits_model()
        model_name = "small CNN (2 conv + 2 linear)"
    else:
        from ctorch.vision.models import lenet5

        model = lenet5(num_classes=10)
        model_name = "LeNet-5"
    n_params = sum(p.numel() for p in model.parameters())
    print(f"ctorch {ctorch.__version__} demo: {desc}", file=out)
    print(
        f"  {len(xtr)} training / {len(xte)} test images of {tuple(xtr.shape[1:])}; "
        f"{model_name}, {n_params:,} parameters; {ctorch.get_num_threads()} thread(s); "
        f"Adam lr={lr:g}, batch {batch_size}, {epochs} epochs",
        file=out,
    )

    generator = ctorch.Generator().manual_seed(args.seed)
    loader = DataLoader(
        TensorDataset(xtr, ytr), batch_size=batch_size, shuffle=True, generator=generator
    )
    optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    criterion = nn.CrossEntropyLoss()

    history: dict[str, list[float]] = {"train_loss": [], "test_acc": [], "epoch_time": []}
    pred = np.zeros(len(yte), dtype=np.int64)
    model.train()
    for epoch in range(1, epochs + 1):
        bar = _Progress(len(xtr), f"epoch {epoch:>{len(str(epochs))}}/{epochs}", stream=out)
        t0 = time.perf_counter()
        seen, loss_sum = 0, 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            seen += len(yb)
            loss_sum += loss.item() * len(yb)
            rate = seen / max(time.perf_counter() - t0, 1e-9)
            bar.update(seen, f"loss {loss_sum / seen:.4f}  {rate:,.0f} img/s")
        scheduler.step()
        train_time = time.perf_counter() - t0
        acc, pred = _evaluate(model, xte, yte)
        history["train_loss"].append(loss_sum / max(seen, 1))
        history["test_acc"].append(acc)
        history["epoch_time"].append(time.perf_counter() - t0)
        bar.close(
            seen,
            f"loss {loss_sum / max(seen, 1):.4f}  {seen / train_time:,.0f} img/s  "
            f"test acc {acc * 100:.2f}%",
        )
    total = time.perf_counter() - t_start

    from ctorch.vision.utils import save_image

    os.makedirs(args.out, exist_ok=True)
    curves_path = os.path.join(args.out, "curves.png")
    grid_path = os.path.join(args.out, "predictions.png")
    save_image(
        ctorch.from_numpy(render_curves(history["train_loss"], history["test_acc"])), curves_path
    )
    n_show = min(64, len(xte))
    shown = xte[:n_show].numpy()[:, 0]
    shown = (shown - shown.min()) / max(float(shown.max() - shown.min()), 1e-12)
    y_show = yte.numpy()[:n_show]
    save_image(
        render_predictions(shown, pred[:n_show], y_show, scale=4 if digits else 1), grid_path
    )

    wrong = int((pred != yte.numpy()).sum())
    print(
        f"final test accuracy {history['test_acc'][-1] * 100:.2f}% ({wrong} of {len(yte)} "
        f"wrong); total time {total:.1f} s",
        file=out,
    )
    print("first test digits, predicted (true where wrong):", file=out)
    for r in range(0, n_show, 16):
        row = [
            str(p) if p == t else f"{p}({t})"
            for p, t in zip(pred[r : r + 16].tolist(), y_show[r : r + 16].tolist(), strict=False)
        ]
        print("  " + " ".join(row), file=out)
    print(f"wrote {curves_path} and {grid_path}", file=out)
    return {
        "history": history,
        "test_acc": history["test_acc"][-1] if history["test_acc"] else 0.0,
        "total_time": total,
        "curves": curves_path,
        "predictions": grid_path,
        "epochs": epochs,
    }


if __name__ == "__main__":
    main()
