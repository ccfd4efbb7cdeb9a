"""torch.hub the way model code uses it: weights from a URL cached under TORCH_HOME
(``load_state_dict_from_url``, here a file:// URL prepared by the script), ``model_zoo.load_url``,
``hub.load`` of a local hubconf.py, and the error a machine without network gets."""

import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.utils.model_zoo as model_zoo
from torch.hub import download_url_to_file, get_dir, load_state_dict_from_url

work = Path.cwd()
os.environ["TORCH_HOME"] = str(work / "torch_home")
print("hub dir under TORCH_HOME", get_dir() == str(work / "torch_home" / "hub"))

net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).double()
with torch.no_grad():
    for i, p in enumerate(net.parameters()):
        p.copy_(torch.from_numpy(np.cos(np.arange(p.numel()) + i).reshape(p.shape)))
src = work / "published" / "tinynet.pth"
src.parent.mkdir()
torch.save(net.state_dict(), src)
digest = hashlib.sha256(src.read_bytes()).hexdigest()
named = src.with_name(f"tinynet-{digest[:8]}.pth")
src.rename(named)

sd = load_state_dict_from_url(named.as_uri(), check_hash=True, progress=False)
cached = Path(get_dir()) / "checkpoints" / named.name
print("cached", cached.exists())
fresh = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).double()
fresh.load_state_dict(sd)
x = torch.from_numpy(np.linspace(-1, 1, 8).reshape(2, 4))
print("same outputs", torch.equal(fresh(x), net(x)))
named.unlink()  # later loads come from the cache
print("from cache", sorted(model_zoo.load_url(named.as_uri())) == sorted(sd))

copy = work / "copy.bin"
download_url_to_file(cached.as_uri(), str(copy), hash_prefix=digest[:8], progress=False)
print("downloaded bytes equal", copy.read_bytes() == cached.read_bytes())

repo = work / "repo"
repo.mkdir()
(repo / "hubconf.py").write_text(
    "dependencies = ['numpy']\n"
    "import torch.nn as nn\n"
    "def tiny(width=3):\n"
    "    '''A tiny MLP.'''\n"
    "    return nn.Sequential(nn.Linear(4, width), nn.Tanh())\n"
)
model = torch.hub.load(str(repo), "tiny", source="local", width=5)
print("hub.load", type(model).__name__, model[0].out_features)

try:
    load_state_dict_from_url("http://127.0.0.1:9/missing-0000.pth", progress=False)
except Exception as e:  # noqa: BLE001 - torch raises URLError, ctorch a RuntimeError naming the path
    print("offline error", type(e).__name__ in ("URLError", "RuntimeError"))
sys.stdout.flush()
