"""``torch.distributions`` used the way real programs do, through ``python -m ctorch.run``."""

from __future__ import annotations

from pathlib import Path

from programs.test_programs import check


def test_distributions_policy_vae(tmp_path: Path) -> None:
    check(
        "distributions_policy_vae.py",
        tmp_path,
        ["rsample (6, 2) True", "policy loss -0.40025150 grad 0.94484468"],
    )
