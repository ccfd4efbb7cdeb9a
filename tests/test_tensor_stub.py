"""The typing stub of the attached Tensor methods (src/ctorch/_tensor_methods.pyi) is current."""

import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[1] / "tools" / "gen_tensor_stub.py"


def test_tensor_methods_stub_is_up_to_date():
    r = subprocess.run([sys.executable, str(TOOL), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_stub_lists_table_methods():
    text = (TOOL.parents[1] / "src" / "ctorch" / "_tensor_methods.pyi").read_text()
    for name in ("def exp(", "def atan2(", "def logaddexp2_(", "def __add__("):
        assert name in text
