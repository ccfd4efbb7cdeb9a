"""Download, checksum and archive helpers (``torchvision.datasets.utils``)."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from typing import Any

__all__ = [
    "calculate_md5",
    "check_md5",
    "check_integrity",
    "download_url",
    "extract_archive",
    "download_and_extract_archive",
    "DownloadError",
    "manual_download_message",
]

USER_AGENT = "ctorch.vision"
# Seconds to wait for a server; offline, name resolution fails at once anyway.
DOWNLOAD_TIMEOUT = 30.0


class DownloadError(RuntimeError):
    """A file could not be fetched (network error) or failed its md5 check."""


def calculate_md5(fpath: str | os.PathLike, chunk_size: int = 1024 * 1024) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath: str | os.PathLike, md5: str, **kwargs: Any) -> bool:
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath: str | os.PathLike, md5: str | None = None) -> bool:
    """True when ``fpath`` is a file and (if ``md5`` is given) its md5 matches."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def download_url(
    url: str,
    root: str | os.PathLike,
    filename: str | None = None,
    md5: str | None = None,
    timeout: float = DOWNLOAD_TIMEOUT,
) -> str:
    """Download ``url`` into ``root/filename`` (skipped if already there with the right md5).

    Writes to a temporary name first, so an interrupted download never looks complete. Raises
    :class:`DownloadError` on network failure or checksum mismatch.
    """
    root = os.path.expanduser(os.fspath(root))
    filename = filename or os.path.basename(url)
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return fpath
    tmp = fpath + ".part"
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as fh:
            shutil.copyfileobj(response, fh, 1024 * 1024)
    except (urllib.error.URLError, OSError, ValueError) as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise DownloadError(f"could not download {url}: {e}") from e
    if md5 is not None and not check_md5(tmp, md5):
        got = calculate_md5(tmp)
        os.remove(tmp)
        raise DownloadError(f"{url} downloaded but its md5 is {got}, expected {md5}")
    os.replace(tmp, fpath)
    return fpath


def _safe_members(tar: tarfile.TarFile, to_path: str) -> Iterable[tarfile.TarInfo]:
    base = os.path.realpath(to_path)
    for member in tar.getmembers():
        target = os.path.realpath(os.path.join(to_path, member.name))
        if os.path.commonpath([base, target]) != base:
            raise RuntimeError(f"refusing to extract {member.name!r} outside {to_path}")
        yield member


def extract_archive(
    from_path: str | os.PathLike,
    to_path: str | os.PathLike | None = None,
    remove_finished: bool = False,
) -> str:
    """Extract a .tar / .tar.gz / .tgz / .zip archive, or decompress a single .gz file."""
    from_path = os.fspath(from_path)
    to_path = os.path.dirname(from_path) if to_path is None else os.fspath(to_path)
    lower = from_path.lower()
    if lower.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
        with tarfile.open(from_path, "r:*") as tar:
            tar.extractall(to_path, members=list(_safe_members(tar, to_path)))
        out = to_path
    elif lower.endswith(".zip"):
        with zipfile.ZipFile(from_path) as z:
            z.extractall(to_path)
        out = to_path
    elif lower.endswith(".gz"):
        out = os.path.join(to_path, os.path.basename(from_path)[: -len(".gz")])
        with gzip.open(from_path, "rb") as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        raise RuntimeError(f"Extraction of {from_path} not supported")
    if remove_finished:
        os.remove(from_path)
    return out


def download_and_extract_archive(
    url: str,
    download_root: str | os.PathLike,
    extract_root: str | os.PathLike | None = None,
    filename: str | None = None,
    md5: str | None = None,
    remove_finished: bool = False,
) -> None:
    download_root = os.path.expanduser(os.fspath(download_root))
    extract_root = download_root if extract_root is None else extract_root
    filename = filename or os.path.basename(url)
    archive = download_url(url, download_root, filename, md5)
    extract_archive(archive, extract_root, remove_finished)


def manual_download_message(
    dataset: str, folder: str, files: Iterable[tuple[str, str | None]], urls: Iterable[str]
) -> str:
    """The text that tells a user without network access which files to put where."""
    lines = [
        f"{dataset}: could not download the dataset (no network access?). Download these "
        f"files by hand and place them in {folder}:"
    ]
    for name, md5 in files:
        lines.append(f"  {name}" + (f"  (md5 {md5})" if md5 else ""))
    urls = list(urls)
    if urls:
        lines.append("from " + (urls[0] if len(urls) == 1 else "one of: " + ", ".join(urls)))
    return "\n".join(lines)
