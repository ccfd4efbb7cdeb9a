"""``python -m ctorch.run``: unmodified PyTorch scripts run on ctorch.

Each script under ``scripts/`` runs through ``python -m ctorch.run`` in a subprocess. When real
torch is installed, the scripts that do not import torchvision also run under torch and the
printed lines must agree (numbers to a relative 1e-4; the scripts build their data and weights
from NumPy arrays, since seeds are not comparable across libraries).
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).parent / "scripts"
TIMEOUT = 900  # generous: a cold editable install may rebuild its kernels on import


def _python() -> list[str]:
    # Keep the interpreter's -S (no site) flag so the subprocess sees the same ctorch.
    return [sys.executable] + (["-S"] if sys.flags.no_site else [])


def run_ctorch(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*_python(), "-m", "ctorch.run", str(SCRIPTS / script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def run_torch(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*_python(), str(SCRIPTS / script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


_NUM = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?|-?\d+")


def assert_same_output(ours: str, theirs: str, rtol: float = 1e-4, atol: float = 1e-4) -> None:
    # under ctorch.run, dtypes/Size/layouts print as torch's (ctorch._display): text compared as is
    a, b = ours.strip().splitlines(), theirs.strip().splitlines()
    assert len(a) == len(b), f"ctorch:\n{ours}\ntorch:\n{theirs}"
    for la, lb in zip(a, b, strict=True):
        assert _NUM.sub("#", la) == _NUM.sub("#", lb), f"ctorch: {la!r}\ntorch:  {lb!r}"
        na = [float(x) for x in _NUM.findall(la)]
        nb = [float(x) for x in _NUM.findall(lb)]
        np.testing.assert_allclose(
            na, nb, rtol=rtol, atol=atol, err_msg=f"ctorch: {la!r}\ntorch:  {lb!r}"
        )


def _torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def compare_with_torch(script: str, ours: str, *args: str, cwd: Path) -> None:
    pytest.importorskip("torch")
    theirs = ok(run_torch(script, *args, cwd=cwd))
    assert_same_output(ours, theirs)


# --- tiny MNIST-format folder ----------------------------------------------------------------
def _write_idx(path: Path, arr: np.ndarray) -> None:
    code = {1: 0x0801, 3: 0x0803}[arr.ndim]
    with open(path, "wb") as f:
        f.write(struct.pack(">I", code))
        f.write(struct.pack(">" + "I" * arr.ndim, *arr.shape))
        f.write(arr.astype(np.uint8).tobytes())


def make_mnist_folder(root: Path, n_train: int = 48, n_test: int = 24) -> None:
    """Three classes of 28x28 images: a bright bar at rows 4-7, 12-15 or 20-23, plus noise."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 3
        images = rng.integers(0, 60, size=(n, 28, 28))
        for i, k in enumerate(labels):
            images[i, 4 + 8 * k : 8 + 8 * k, 3:25] = 255
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)


# --- tests -----------------------------------------------------------------------------------
def test_tensor_basics(tmp_path: Path) -> None:
    out = ok(run_ctorch("tensor_basics.py", cwd=tmp_path))
    assert "Shape of tensor: (3, 4)" in out
    assert "numpy shares memory: [2.0, 2.0, 2.0, 2.0, 2.0]" in out
    if _torch_available():
        compare_with_torch("tensor_basics.py", out, cwd=tmp_path)


def test_custom_function(tmp_path: Path) -> None:
    out = ok(run_ctorch("custom_function.py", cwd=tmp_path))
    losses = [float(line.split()[1]) for line in out.splitlines() if line[:1].isdigit()]
    assert len(losses) == 5 and losses[-1] < losses[0]
    if _torch_available():
        compare_with_torch("custom_function.py", out, cwd=tmp_path)


def test_mnist_training_with_workers(tmp_path: Path) -> None:
    make_mnist_folder(tmp_path / "data")
    out = ok(run_ctorch("mnist_training.py", str(tmp_path / "data"), "--epochs", "3", cwd=tmp_path))
    assert "train/test sizes: 48 24 classes: ['0 - zero', '1 - one', '2 - two']" in out
    assert out.count("Train Epoch:") == 3
    correct = int(re.search(r"final correct: (\d+)", out).group(1))
    assert correct >= 20, out  # 24 easy test images


def test_save_load(tmp_path: Path) -> None:
    out = ok(run_ctorch("save_load.py", str(tmp_path), cwd=tmp_path))
    assert "same outputs: True" in out
    assert (tmp_path / "model.pt").is_file()
    if _torch_available():
        theirs_dir = tmp_path / "torch"
        theirs_dir.mkdir()
        compare_with_torch("save_load.py", out, str(theirs_dir), cwd=tmp_path)


def test_missing_module_is_named(tmp_path: Path) -> None:
    proc = run_ctorch("missing_module.py", cwd=tmp_path)
    assert proc.returncode != 0
    assert proc.stdout.strip() == "before"
    assert (
        "ctorch.run: the script imports 'torch.definitely_not_a_module', which ctorch does "
        "not provide"
    ) in proc.stderr


def test_argv_path_and_alias_scope(tmp_path: Path) -> None:
    script = tmp_path / "probe.py"
    (tmp_path / "helper_mod.py").write_text("VALUE = 42\n")
    script.write_text(
        "import sys, torch, torchvision, torch.nn.functional as F\n"
        "from torchvision import transforms\n"
        "import helper_mod\n"
        "print(torch.__name__, torchvision.__name__, F.__name__, transforms.__name__)\n"
        "print(sys.argv[1:], helper_mod.VALUE, __name__)\n"
        "print(torch.tensor([1.0, 2.0]).sum().item())\n"
    )
    proc = subprocess.run(
        [*_python(), "-m", "ctorch.run", str(script), "a", "--b", "3"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    out = ok(proc).splitlines()
    assert out[0] == ("ctorch ctorch.vision ctorch.nn.functional ctorch.vision.transforms")
    assert out[1] == "['a', '--b', '3'] 42 __main__"
    assert out[2] == "3.0"


def test_in_process_run_script_restores_state(tmp_path: Path) -> None:
    from ctorch import run

    script = tmp_path / "s.py"
    script.write_text("import torch\nresult = torch.ones(3).sum().item()\n")
    before_argv = sys.argv[:]
    torch_before = sys.modules.get("torch")  # real torch, if another test imported it
    g = run.run_script(str(script), ["x"])
    assert g["result"] == 3.0
    assert sys.argv == before_argv
    assert sys.modules.get("torch") is torch_before
    assert not any(isinstance(f, run.TorchAliasFinder) for f in sys.meta_path)


def test_usage(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*_python(), "-m", "ctorch.run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 2
    assert "usage: python -m ctorch.run script.py" in proc.stderr


def test_unguarded_script_with_workers(tmp_path: Path) -> None:
    # Tutorial scripts often iterate a multi-worker DataLoader at top level (no main guard).
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import os\n"
        "import torch\n"
        "from torch.utils.data import DataLoader, Dataset\n"
        "class DS(Dataset):\n"
        "    def __len__(self):\n"
        "        return 4\n"
        "    def __getitem__(self, i):\n"
        "        return torch.tensor([float(i)]), os.getpid()\n"
        "for x, pid in DataLoader(DS(), batch_size=2, num_workers=2):\n"
        "    print(x.flatten().tolist(), (pid != os.getpid()).all().item())\n"
    )
    proc = subprocess.run(
        [*_python(), "-m", "ctorch.run", str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert ok(proc).splitlines() == ["[0.0, 1.0] True", "[2.0, 3.0] True"]
