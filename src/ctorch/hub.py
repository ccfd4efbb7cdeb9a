"""``torch.hub``: the cache directory, checkpoint downloads and ``hubconf.py`` entry points.

What programs use from it, with torch's names, defaults and cache layout:

* :func:`get_dir` / :func:`set_dir`: ``$TORCH_HOME/hub`` (``TORCH_HOME`` defaults to
  ``$XDG_CACHE_HOME/torch``, i.e. ``~/.cache/torch``), so ctorch and torch share one cache;
* :func:`download_url_to_file`: a download (``urllib``; ``file://`` URLs work too) into a
  temporary file beside the destination, SHA-256 checked against ``hash_prefix``, then moved
  into place, so an interrupted download never leaves a half file under the final name;
* :func:`load_state_dict_from_url`: ``<hub dir>/checkpoints/<file name>`` when it is cached,
  else downloaded there first. A machine without network gets a ``RuntimeError`` naming the URL
  and the exact path to put the file at, instead of a bare ``URLError``;
* :func:`load` / :func:`list` / :func:`help`: ``hubconf.py`` entry points of a local directory
  (``source="local"``) or of a GitHub repository (``"owner/repo[:ref]"``, taken from the cache
  when present, else downloaded as a zip archive).
"""

from __future__ import annotations

import builtins
import hashlib
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import types
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from . import _warnings

__all__ = [
    "download_url_to_file",
    "get_dir",
    "help",
    "list",
    "load",
    "load_state_dict_from_url",
    "set_dir",
]

# a hash in a checkpoint's file name: resnet18-f37072fd.pth -> "f37072fd"
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
MODULE_HUBCONF = "hubconf.py"
VAR_DEPENDENCY = "dependencies"
READ_DATA_CHUNK = 128 * 1024
DEFAULT_CACHE_DIR = "~/.cache"
ENV_TORCH_HOME = "TORCH_HOME"
ENV_XDG_CACHE_HOME = "XDG_CACHE_HOME"

_hub_dir: str | None = None


def _get_torch_home() -> str:
    return os.path.expanduser(
        os.getenv(
            ENV_TORCH_HOME,
            os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), "torch"),
        )
    )


def get_dir() -> str:
    """The hub cache directory: the one given to :func:`set_dir`, else ``$TORCH_HOME/hub``."""
    if os.getenv("TORCH_HUB"):
        _warnings.warn("TORCH_HUB is deprecated, please use env TORCH_HOME instead")
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_torch_home(), "hub")


def set_dir(d: str | os.PathLike) -> None:
    """Use ``d`` as the hub cache directory from now on (``~`` is expanded)."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def _offline_error(url: str, dst: str, err: BaseException) -> RuntimeError:
    return RuntimeError(
        f"torch.hub: could not download {url!r} ({type(err).__name__}: {err}). "
        f"The file is not cached either: download it on a machine with network access and "
        f"place it at {dst!r} (the hub cache is get_dir() = {get_dir()!r}; set TORCH_HOME or "
        f"call torch.hub.set_dir() to use another directory)."
    )


def download_url_to_file(
    url: str, dst: str, hash_prefix: str | None = None, progress: bool = True
) -> None:
    """Download ``url`` to ``dst``. With ``hash_prefix``, the file's SHA-256 hex digest must
    start with it, else ``RuntimeError`` (and ``dst`` is not written)."""
    dst = os.path.expanduser(os.fspath(dst))
    dst_dir = os.path.dirname(os.path.abspath(dst))
    os.makedirs(dst_dir, exist_ok=True)
    req = urllib.request.Request(url, headers={"User-Agent": "torch.hub"})
    try:
        u = urllib.request.urlopen(req)  # noqa: S310 - the caller's URL, as torch.hub
    except (urllib.error.URLError, OSError) as e:
        raise _offline_error(url, dst, e) from e
    fd, tmp = tempfile.mkstemp(prefix=".partial-", dir=dst_dir)
    try:
        sha256 = hashlib.sha256() if hash_prefix is not None else None
        size = u.headers.get("Content-Length") if hasattr(u, "headers") else None
        total = int(size) if size else None
        done = 0
        with os.fdopen(fd, "wb") as f, u:
            while True:
                buf = u.read(READ_DATA_CHUNK)
                if not buf:
                    break
                f.write(buf)
                done += len(buf)
                if sha256 is not None:
                    sha256.update(buf)
                if progress and total:
                    sys.stderr.write(f"\r{os.path.basename(dst)}: {100 * done // total}%")
        if progress and total:
            sys.stderr.write("\n")
        if sha256 is not None:
            digest = sha256.hexdigest()
            if not digest.startswith(hash_prefix):  # type: ignore[arg-type]
                raise RuntimeError(
                    f'invalid hash value (expected "{hash_prefix}", got "{digest}") for {url!r}'
                )
        shutil.move(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _is_legacy_zip_format(filename: str) -> bool:
    if zipfile.is_zipfile(filename):
        with zipfile.ZipFile(filename) as z:
            infolist = z.infolist()
        return len(infolist) == 1 and not infolist[0].is_dir()
    return False


def _legacy_zip_load(filename: str, model_dir: str, map_location: Any, weights_only: bool) -> Any:
    from .serialization import load as _load

    with zipfile.ZipFile(filename) as f:
        members = f.infolist()
        if len(members) != 1:
            raise RuntimeError("Only one file(not dir) is allowed in the zipfile")
        f.extractall(model_dir)
        extracted = os.path.join(model_dir, members[0].filename)
    return _load(extracted, map_location=map_location, weights_only=weights_only)


def load_state_dict_from_url(
    url: str,
    model_dir: str | None = None,
    map_location: Any = None,
    progress: bool = True,
    check_hash: bool = False,
    file_name: str | None = None,
    weights_only: bool = False,
) -> dict[str, Any]:
    """Load the checkpoint at ``url`` from ``<model_dir>/<file name>`` (default
    ``get_dir()/checkpoints``), downloading it there first when it is not cached.

    ``check_hash`` checks a download against the hash in the file name
    (``name-<sha256 prefix>.ext``). Offline and not cached: ``RuntimeError`` with the path to
    put the file at."""
    from .serialization import load as _load

    if os.getenv("TORCH_MODEL_ZOO"):
        _warnings.warn("TORCH_MODEL_ZOO is deprecated, please use env TORCH_HOME instead")
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name or os.path.basename(urlparse(url).path)
    if not filename:
        raise ValueError(f"load_state_dict_from_url: no file name in url {url!r}")
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')  # as torch, always
        hash_prefix = None
        if check_hash:
            r = HASH_REGEX.search(filename)
            hash_prefix = r.group(1) if r else None
        download_url_to_file(url, cached_file, hash_prefix, progress=progress)
    if _is_legacy_zip_format(cached_file):
        return _legacy_zip_load(cached_file, model_dir, map_location, weights_only)
    return _load(cached_file, map_location=map_location, weights_only=weights_only)


# ---------------------------------------------------------------------------------------------
# hubconf.py entry points
# ---------------------------------------------------------------------------------------------


def _parse_repo_info(github: str) -> tuple[str, str, str]:
    if ":" in github:
        repo_info, ref = github.split(":", 1)
    else:
        repo_info, ref = github, "main"
    if repo_info.count("/") != 1:
        raise ValueError(
            f"torch.hub: repo {github!r} is not of the form 'repo_owner/repo_name[:ref]'"
        )
    owner, name = repo_info.split("/")
    return owner, name, ref


def _get_cache_or_reload(github: str, force_reload: bool, verbose: bool) -> str:
    hub_dir = get_dir()
    os.makedirs(hub_dir, exist_ok=True)
    owner, name, ref = _parse_repo_info(github)
    normalized_ref = ref.replace("/", "_")
    repo_dir = os.path.join(hub_dir, "_".join([owner, name, normalized_ref]))
    if not force_reload and os.path.exists(repo_dir):
        if verbose:
            sys.stderr.write(f"Using cache found in {repo_dir}\n")
        return repo_dir
    url = f"https://github.com/{owner}/{name}/zipball/{ref}"
    cached_zip = os.path.join(hub_dir, normalized_ref + ".zip")
    if os.path.exists(cached_zip):
        os.remove(cached_zip)
    download_url_to_file(url, cached_zip, progress=False)
    with zipfile.ZipFile(cached_zip) as z:
        extracted = z.infolist()[0].filename
        extracted_dir = os.path.join(hub_dir, extracted)
        if os.path.exists(extracted_dir):
            shutil.rmtree(extracted_dir)
        z.extractall(hub_dir)
    os.remove(cached_zip)
    if os.path.exists(repo_dir):
        shutil.rmtree(repo_dir)
    shutil.move(extracted_dir, repo_dir)
    return repo_dir


def _import_module(name: str, path: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"torch.hub: cannot import {path!r}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _hubconf(repo_or_dir: str, source: str, force_reload: bool, verbose: bool) -> Any:
    source = source.lower()
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source == "github":
        repo_or_dir = _get_cache_or_reload(repo_or_dir, force_reload, verbose)
    hubconf_path = os.path.join(repo_or_dir, MODULE_HUBCONF)
    if not os.path.isfile(hubconf_path):
        raise FileNotFoundError(f"torch.hub: no {MODULE_HUBCONF} in {repo_or_dir!r}")
    sys.path.insert(0, repo_or_dir)
    try:
        module = _import_module(MODULE_HUBCONF, hubconf_path)
    finally:
        sys.path.remove(repo_or_dir)
    deps = getattr(module, VAR_DEPENDENCY, None) or []
    missing = [d for d in deps if importlib.util.find_spec(d) is None]
    if missing:
        raise RuntimeError(f"Missing dependencies: {', '.join(missing)}")
    return module


def _load_entry_from_hubconf(m: Any, model: str) -> Callable[..., Any]:
    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    func = getattr(m, model, None)
    if func is None or not callable(func):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return func


def list(  # noqa: A001
    github: str,
    force_reload: bool = False,
    skip_validation: bool = False,
    trust_repo: Any = None,
    verbose: bool = True,
) -> builtins.list[str]:
    """The entry points (public callables) of the repository's ``hubconf.py``."""
    m = _hubconf(github, "github", force_reload, verbose)
    return [
        f
        for f in dir(m)
        if callable(getattr(m, f)) and not f.startswith("_") and f != VAR_DEPENDENCY
    ]


def help(  # noqa: A001
    github: str,
    model: str,
    force_reload: bool = False,
    skip_validation: bool = False,
    trust_repo: Any = None,
) -> str | None:
    """The docstring of the entry point ``model``."""
    m = _hubconf(github, "github", force_reload, True)
    return _load_entry_from_hubconf(m, model).__doc__


def load(
    repo_or_dir: str,
    model: str,
    *args: Any,
    source: str = "github",
    trust_repo: Any = None,
    force_reload: bool = False,
    verbose: bool = True,
    skip_validation: bool = False,
    **kwargs: Any,
) -> Any:
    """Call the entry point ``model`` of ``repo_or_dir``'s ``hubconf.py`` with ``*args,
    **kwargs``: a local directory with ``source="local"``, else a GitHub repository
    ``"owner/repo[:ref]"`` (cached under :func:`get_dir`, downloaded when absent)."""
    m = _hubconf(repo_or_dir, source, force_reload, verbose)
    return _load_entry_from_hubconf(m, model)(*args, **kwargs)
