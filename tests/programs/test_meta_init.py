"""The meta-device initialisation program (``meta_init.py``) through ``python -m ctorch.run``,
against torch when it is installed (issue #14)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from test_programs import check  # noqa: E402


def test_meta_init(tmp_path: Path) -> None:
    out = check(
        "meta_init.py",
        tmp_path,
        [
            "meta params True meta Parameter",
            "param count 7360",
            "wte Parameter containing:",
            "tied True",
            "meta forward (2, 8, 32) meta () torch.float32",
            "meta grad (16, 16) meta",
            "cpu params True",
            "still tied False",
            "assign [] []",
            "assigned True",
            "parameters True",
            "same outputs True",
            "shares storage True",
        ],
        rtol=1e-4,
    )
    losses = [float(line.split()[3]) for line in out.splitlines() if line.startswith("step")]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert all(line.endswith("finite True") for line in out.splitlines() if line.startswith("step"))
