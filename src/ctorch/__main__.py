"""``python -m ctorch``: ``demo [...]`` trains the digits demo, ``run script.py [...]`` runs a
PyTorch script on ctorch. With no command it runs the demo."""

from __future__ import annotations

import sys

_USAGE = """usage: python -m ctorch [demo [options]]   train the handwritten-digits demo
       python -m ctorch run script.py [args]  run a PyTorch script on ctorch
(also: python -m ctorch.demo --help, python -m ctorch.run --help)"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(_USAGE)
        return 0
    if argv and argv[0] == "run":
        from .run import main as run_main

        return run_main(argv[1:])
    if argv and argv[0] == "demo":
        argv = argv[1:]
    from .demo import main as demo_main

    demo_main(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
