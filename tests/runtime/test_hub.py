"""ctorch.hub: cache directory, downloads (file:// URLs, no network), the offline error,
hash checks, the legacy zip format and hubconf.py entry points."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

import ctorch
import ctorch.hub as hub
from ctorch.utils import model_zoo


@pytest.fixture(autouse=True)
def _fresh_hub_dir(monkeypatch):
    monkeypatch.setattr(hub, "_hub_dir", None)


def _checkpoint(path: Path) -> dict:
    sd = {"w": ctorch.arange(6, dtype=ctorch.float32).reshape(2, 3), "b": ctorch.ones(2)}
    ctorch.save(sd, path)
    return sd


def test_get_dir_follows_torch_home_and_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("TORCH_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.get_dir() == str(tmp_path / "xdg" / "torch" / "hub")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert hub.get_dir() == str(tmp_path / "th" / "hub")
    hub.set_dir(tmp_path / "mine")
    assert hub.get_dir() == str(tmp_path / "mine")


def test_get_dir_matches_torch(monkeypatch, tmp_path):
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert hub.get_dir() == torch.hub.get_dir()
    assert hub._get_torch_home() == torch.hub._get_torch_home()


def test_download_url_to_file_and_hash(tmp_path):
    src = tmp_path / "src.bin"
    data = os.urandom(300_000)
    src.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    dst = tmp_path / "sub" / "dst.bin"
    hub.download_url_to_file(src.as_uri(), str(dst), hash_prefix=digest[:8], progress=False)
    assert dst.read_bytes() == data
    bad = tmp_path / "bad.bin"
    with pytest.raises(RuntimeError, match="invalid hash value"):
        hub.download_url_to_file(src.as_uri(), str(bad), hash_prefix="0" * 8, progress=False)
    assert not bad.exists()
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["dst.bin"]  # no partial left


def test_load_state_dict_from_url_downloads_then_uses_cache(tmp_path):
    src = tmp_path / "net-abc.pth"
    sd = _checkpoint(src)
    hub.set_dir(tmp_path / "hub")
    got = hub.load_state_dict_from_url(src.as_uri(), progress=False)
    cached = tmp_path / "hub" / "checkpoints" / "net-abc.pth"
    assert cached.exists()
    np.testing.assert_array_equal(got["w"].numpy(), sd["w"].numpy())
    src.unlink()  # now only the cache has it
    again = hub.load_state_dict_from_url(src.as_uri(), progress=False)
    np.testing.assert_array_equal(again["b"].numpy(), sd["b"].numpy())
    # the old name
    np.testing.assert_array_equal(model_zoo.load_url(src.as_uri())["w"].numpy(), sd["w"].numpy())


def test_load_state_dict_from_url_check_hash(tmp_path):
    tmp = tmp_path / "x.pth"
    _checkpoint(tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    good = tmp_path / f"net-{digest[:10]}.pth"
    tmp.rename(good)
    sd = hub.load_state_dict_from_url(good.as_uri(), model_dir=str(tmp_path / "m"), check_hash=True)
    assert set(sd) == {"w", "b"}
    wrong = tmp_path / "net-0123456789.pth"
    good.rename(wrong)
    with pytest.raises(RuntimeError, match="invalid hash value"):
        hub.load_state_dict_from_url(wrong.as_uri(), model_dir=str(tmp_path / "m"), check_hash=True)


def test_offline_error_names_url_and_path(tmp_path):
    hub.set_dir(tmp_path / "hub")
    url = "http://127.0.0.1:9/weights/resnet-0000.pth"  # discard port: refused at once
    with pytest.raises(RuntimeError) as info:
        hub.load_state_dict_from_url(url, progress=False)
    msg = str(info.value)
    assert url in msg
    assert str(tmp_path / "hub" / "checkpoints" / "resnet-0000.pth") in msg
    assert not (tmp_path / "hub" / "checkpoints" / "resnet-0000.pth").exists()


def test_legacy_zip_checkpoint(tmp_path):
    inner = tmp_path / "inner.pth"
    sd = _checkpoint(inner)
    z = tmp_path / "old.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.write(inner, "inner.pth")
    got = hub.load_state_dict_from_url(z.as_uri(), model_dir=str(tmp_path / "m"), progress=False)
    np.testing.assert_array_equal(got["w"].numpy(), sd["w"].numpy())


def test_torch_saved_checkpoint_from_url(tmp_path):
    torch = pytest.importorskip("torch")
    src = tmp_path / "t.pth"
    torch.save({"w": torch.linspace(0, 1, 5)}, src)
    got = hub.load_state_dict_from_url(src.as_uri(), model_dir=str(tmp_path / "m"))
    np.testing.assert_allclose(got["w"].numpy(), np.linspace(0, 1, 5, dtype=np.float32))


def test_hubconf_local_load_list_help(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "helper.py").write_text("SCALE = 3\n")
    (repo / "hubconf.py").write_text(
        "dependencies = ['numpy']\n"
        "import ctorch\n"
        "from helper import SCALE\n"
        "def tiny(out=2):\n"
        "    '''A tiny linear model.'''\n"
        "    m = ctorch.nn.Linear(4, out)\n"
        "    m.scale = SCALE\n"
        "    return m\n"
        "def _private():\n"
        "    pass\n"
    )
    m = hub.load(str(repo), "tiny", source="local", out=5)
    assert isinstance(m, ctorch.nn.Linear) and m.out_features == 5 and m.scale == 3
    with pytest.raises(RuntimeError, match="Cannot find callable nope"):
        hub.load(str(repo), "nope", source="local")
    with pytest.raises(ValueError, match="Unknown source"):
        hub.load(str(repo), "tiny", source="svn")
    # a GitHub repo already in the cache is used without a download
    hub.set_dir(tmp_path / "hub")
    cached = tmp_path / "hub" / "owner_repo_main"
    cached.parent.mkdir()
    repo.rename(cached)
    assert hub.list("owner/repo") == ["tiny"]
    assert hub.help("owner/repo", "tiny") == "A tiny linear model."
    assert hub.load("owner/repo", "tiny").in_features == 4
    with pytest.raises(ValueError, match="repo_owner/repo_name"):
        hub.load("not-a-repo", "tiny")


def test_hubconf_missing_dependency(tmp_path):
    (tmp_path / "hubconf.py").write_text(
        "dependencies = ['no_such_module_xyz']\ndef m():\n  pass\n"
    )
    with pytest.raises(RuntimeError, match="Missing dependencies: no_such_module_xyz"):
        hub.load(str(tmp_path), "m", source="local")


def test_torch_hub_name_resolves():
    assert ctorch.hub is hub
