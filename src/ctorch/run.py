"""Run an unmodified PyTorch script on ctorch: ``python -m ctorch.run script.py [args...]``.

For the length of the run, ``import torch`` / ``import torch.X`` resolve to ``ctorch`` /
``ctorch.X`` and ``import torchvision`` / ``torchvision.X`` to ``ctorch.vision`` /
``ctorch.vision.X``, through a finder placed first on ``sys.meta_path`` (so it wins over a real
torch that happens to be installed). A module the script imports that ctorch does not have
fails with ``ModuleNotFoundError: ctorch.run: the script imports 'torch.foo', which ctorch does
not provide``.

The script runs as ``__main__`` with ``sys.argv = [script, *args]`` and its directory first on
``sys.path``, as ``python script.py`` would run it. ``python -m ctorch.run -m pkg.mod [args]``
runs a module instead.

DataLoader worker processes started by ``spawn``/``forkserver`` rebuild the main module by
re-running the script; they are fresh interpreters without the alias. So the script's main
module carries ``__spec__.name == "ctorch.run"``: multiprocessing then re-runs *this* module in
the worker (as ``__mp_main__``), which installs the alias and runs the script (named by the
``CTORCH_RUN_SCRIPT`` environment variable) under it, just as the worker would have run it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types
from collections.abc import Sequence
from typing import Any

__all__ = ["TorchAliasFinder", "install_aliases", "uninstall_aliases", "run_script", "main"]

_ENV_SCRIPT = "CTORCH_RUN_SCRIPT"
# alias prefix -> ctorch package it stands for
_ALIASES = {"torch": "ctorch", "torchvision": "ctorch.vision"}


def _target_name(fullname: str) -> str | None:
    """The ctorch module that ``fullname`` (torch.X / torchvision.X) stands for, or None."""
    for alias, target in _ALIASES.items():
        if fullname == alias or fullname.startswith(alias + "."):
            return target + fullname[len(alias) :]
    return None


class _AliasLoader(importlib.abc.Loader):
    """Hands out the already imported ctorch module under the torch name."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.spec = getattr(module, "__spec__", None)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        # Already executed under its ctorch name. importlib has just set __spec__ to the
        # torch-named spec; put the module's own back, or every relative import inside a
        # ctorch function (``from .._tensor import Tensor``) warns "ImportWarning: __package__
        # != __spec__.parent" once the script turns warnings on.
        if self.spec is not None:
            module.__spec__ = self.spec


class TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder mapping ``torch[.X]`` to ``ctorch[.X]`` and ``torchvision[.X]`` to
    ``ctorch.vision[.X]``. The torch name and the ctorch name are the same module object."""

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        real = _target_name(fullname)
        if real is None:
            return None
        try:
            module = importlib.import_module(real)
        except ModuleNotFoundError as e:
            missing = e.name or ""
            if missing == real or real.startswith(missing + ".") and missing.startswith("ctorch"):
                raise ModuleNotFoundError(
                    f"ctorch.run: the script imports {fullname!r}, which ctorch does not provide",
                    name=fullname,
                ) from None
            raise
        return importlib.util.spec_from_loader(
            fullname, _AliasLoader(module), is_package=hasattr(module, "__path__")
        )


_finder: TorchAliasFinder | None = None
_saved_modules: dict[str, types.ModuleType] = {}


def install_aliases() -> None:
    """Put the torch/torchvision alias first on ``sys.meta_path`` (idempotent).

    Real torch/torchvision modules already imported are set aside (and put back by
    :func:`uninstall_aliases`), so the script sees only ctorch under those names.
    """
    global _finder
    from . import _display

    # dtypes, Size, layouts print as torch's while the script runs (see ctorch._display)
    _display.set_prefix("torch.")
    if _finder is None:
        _finder = TorchAliasFinder()
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    for name in [n for n in sys.modules if _target_name(n) is not None]:
        mod = sys.modules[name]
        if not getattr(mod, "__name__", "").startswith("ctorch"):
            _saved_modules[name] = sys.modules.pop(name)


def uninstall_aliases() -> None:
    """Remove the finder and the aliased ``torch*``/``torchvision*`` entries of
    ``sys.modules``, restoring any real torch modules set aside."""
    from . import _display

    _display.set_prefix("ctorch.")
    if _finder is not None and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if _target_name(n) is not None]:
        if getattr(sys.modules[name], "__name__", "").startswith("ctorch"):
            del sys.modules[name]
    sys.modules.update(_saved_modules)
    _saved_modules.clear()


def _script_globals(path: str, run_name: str) -> dict[str, Any]:
    return {
        "__name__": run_name,
        "__file__": path,
        "__cached__": None,
        "__doc__": None,
        "__loader__": None,
        "__package__": None,
        # A real module spec, so that multiprocessing's spawn/forkserver workers rebuild the
        # main module by re-running ctorch.run (alias included), not the bare script.
        "__spec__": importlib.util.find_spec("ctorch.run") if run_name == "__main__" else None,
        "__builtins__": __builtins__,
    }


def _exec_script(path: str, module: types.ModuleType) -> None:
    with open(path, "rb") as f:
        source = f.read()
    code = compile(source, path, "exec", dont_inherit=True)
    exec(code, module.__dict__)


def run_script(path: str, args: Sequence[str] = ()) -> dict[str, Any]:
    """Run the script at ``path`` as ``__main__`` under the torch alias; returns its globals.

    ``sys.argv``, ``sys.path[0]`` and ``sys.modules['__main__']`` are restored afterwards and
    the alias is removed again.
    """
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"ctorch.run: no such script: {path}")
    old_argv, old_path0 = sys.argv[:], sys.path[0] if sys.path else None
    old_main = sys.modules.get("__main__")
    old_env = os.environ.get(_ENV_SCRIPT)
    module = types.ModuleType("__main__")
    module.__dict__.update(_script_globals(path, "__main__"))
    sys.argv = [path, *args]
    if sys.path:
        sys.path[0] = os.path.dirname(path)
    else:
        sys.path.insert(0, os.path.dirname(path))
    os.environ[_ENV_SCRIPT] = path
    sys.modules["__main__"] = module
    install_aliases()
    try:
        _exec_script(path, module)
    finally:
        uninstall_aliases()
        sys.argv = old_argv
        if old_path0 is not None:
            sys.path[0] = old_path0
        if old_main is not None:
            sys.modules["__main__"] = old_main
        if old_env is None:
            os.environ.pop(_ENV_SCRIPT, None)
        else:
            os.environ[_ENV_SCRIPT] = old_env
    return module.__dict__


def _run_module(name: str, args: Sequence[str]) -> None:
    import runpy

    old_argv = sys.argv[:]
    sys.argv = [name, *args]
    install_aliases()
    try:
        runpy.run_module(name, run_name="__main__", alter_sys=True)
    finally:
        uninstall_aliases()
        sys.argv = old_argv


_USAGE = """usage: python -m ctorch.run script.py [args ...]
       python -m ctorch.run -m module [args ...]

Runs a PyTorch script unchanged, with torch/torchvision imports resolved to ctorch."""


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE, file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    if argv[0] == "-m":
        if len(argv) < 2:
            print(_USAGE, file=sys.stderr)
            return 2
        _run_module(argv[1], argv[2:])
        return 0
    run_script(argv[0], argv[1:])
    return 0


def _rebuild_worker_main() -> None:
    """In a spawn/forkserver worker: re-run the script as ``__mp_main__`` under the alias."""
    script = os.environ.get(_ENV_SCRIPT)
    if not script:
        return
    install_aliases()
    g = globals()
    g.update(_script_globals(script, "__mp_main__"))
    with open(script, "rb") as f:
        code = compile(f.read(), script, "exec", dont_inherit=True)
    exec(code, g)


if __name__ == "__main__":
    sys.exit(main())
elif __name__ == "__mp_main__":
    _rebuild_worker_main()
