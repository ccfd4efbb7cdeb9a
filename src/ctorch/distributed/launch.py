"""``python -m ctorch.distributed.launch``: torch's legacy launcher.

The same as :mod:`ctorch.distributed.run`, except that each rank also gets its local rank
as a ``--local-rank=N`` argument (``--local_rank=N`` with ``--local_rank`` style scripts is
not needed: argparse scripts declare ``--local-rank`` or ``--local_rank`` and torch passes
``--local-rank``), unless ``--use-env`` / ``--use_env`` is given, as in torch.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from .. import _warnings
from .run import _LOCAL_RANK_ARG
from .run import main as _run_main

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _warnings.warn(
        "ctorch.distributed.launch is deprecated as torch.distributed.launch is: use "
        "python -m ctorch.distributed.run (torchrun); it sets LOCAL_RANK in the environment",
        FutureWarning,
    )
    use_env = False
    for flag in ("--use-env", "--use_env"):
        while flag in argv[: _script_index(argv)]:
            argv.remove(flag)
            use_env = True
    if not use_env:
        os.environ[_LOCAL_RANK_ARG] = "--local-rank"
    return _run_main(argv)


def _script_index(argv: list[str]) -> int:
    """Position of the training script (launcher options come before it)."""
    takes_value = {
        "--nproc-per-node",
        "--nproc_per_node",
        "--nnodes",
        "--node-rank",
        "--node_rank",
        "--master-addr",
        "--master_addr",
        "--master-port",
        "--master_port",
        "--launcher",
        "--mpirun",
        "--mpirun-args",
        "--mpirun_args",
    }
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("-"):
            return i
        i += 2 if a in takes_value else 1
    return len(argv)


if __name__ == "__main__":
    sys.exit(main())
