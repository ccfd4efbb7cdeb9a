"""``ctorch.load``'s choice of ``weights_only`` and pickle module, as torch 2.13's
``torch.load``: the default follows ``pickle_module`` (None -> weights_only), the
``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` / ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` environment variables
override it (read at each call), an explicit ``pickle_module`` is used for the unpickling.
Each scenario runs on both libraries where torch is installed and must come out the same."""

from __future__ import annotations

import io
import pickle
import types
import warnings

import pytest

import ctorch


class Thing:
    """A global outside every allow-list: only a weights_only=False load may build it."""

    def __init__(self, v):
        self.v = v


def _checkpoint(lib) -> bytes:
    buf = io.BytesIO()
    lib.save({"w": lib.arange(3.0), "thing": Thing(7)}, buf)
    return buf.getvalue()


def _outcome(lib, data: bytes, **kw):
    """What ``lib.load`` does: ('ok', thing.v, warnings) or ('error', type, first words)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            r = lib.load(io.BytesIO(data), **kw)
        except (RuntimeError, pickle.UnpicklingError) as e:
            kind = "UnpicklingError" if isinstance(e, pickle.UnpicklingError) else "RuntimeError"
            msg = str(e)
            head = msg if kind == "RuntimeError" else msg.split(":")[0].split(" for ")[0]
            return ("error", kind, head)
    texts = [str(w.message) for w in caught if "TypedStorage" not in str(w.message)]
    return ("ok", r["thing"].v, r["w"].tolist(), texts)


def _libs():
    libs = [ctorch]
    try:
        import torch
    except ImportError:
        return libs
    return [*libs, torch]


SCENARIOS = [
    # (env, load keywords, expected ctorch outcome kind)
    ({}, {}, "error"),
    ({}, {"weights_only": False}, "ok"),
    ({}, {"pickle_module": pickle}, "ok"),  # weights_only defaults to False with a module
    ({}, {"pickle_module": pickle, "weights_only": True}, "error"),
    ({"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "1"}, {"weights_only": False}, "error"),
    ({"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "YES"}, {"pickle_module": pickle}, "error"),
    ({"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "0"}, {"weights_only": False}, "ok"),
    ({"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "2"}, {"weights_only": False}, "ok"),
    ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "true"}, {}, "ok"),
    ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "y"}, {"weights_only": True}, "error"),
    ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1", "TORCH_FORCE_WEIGHTS_ONLY_LOAD": "1"}, {}, "error"),
    ({}, {"weights_only": True, "encoding": "latin1"}, "error"),
    ({}, {"weights_only": False, "encoding": "latin1"}, "ok"),
]


@pytest.mark.parametrize(("env", "kw", "kind"), SCENARIOS)
def test_weights_only_choice_as_torch(monkeypatch, env, kw, kind):
    for name in ("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"):
        monkeypatch.delenv(name, raising=False)
    outcomes = []
    for lib in _libs():
        data = _checkpoint(lib)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        outcomes.append(_outcome(lib, data, **kw))
        for k in env:
            monkeypatch.delenv(k)
    ours = outcomes[0]
    assert ours[0] == kind, ours
    if ours[0] == "ok":
        assert ours[1:3] == (7, [0.0, 1.0, 2.0])
    for theirs in outcomes[1:]:
        if ours[0] == "error" and ours[1] == "UnpicklingError":
            # the text differs (ctorch names the file); the kind and its start agree
            assert theirs[:2] == ours[:2] and theirs[2].startswith("Weights only load failed")
        else:
            assert theirs == ours


def test_env_messages(monkeypatch):
    data = _checkpoint(ctorch)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.warns(UserWarning) as rec:
        line = test_env_messages.__code__.co_firstlineno + 5
        ctorch.load(io.BytesIO(data))
    assert str(rec[0].message) == (
        "Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since the`weights_only` "
        "argument was not explicitly passed to `torch.load`, forcing weights_only=False."
    )
    assert rec[0].filename == __file__ and rec[0].lineno == line
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(RuntimeError, match=r"^Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or "):
        ctorch.load(io.BytesIO(data))
    monkeypatch.delenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    with pytest.raises(RuntimeError, match="^Can not safely load weights when explicit pickle_"):
        ctorch.load(io.BytesIO(data), pickle_module=pickle)
    monkeypatch.delenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD")
    with pytest.warns(UserWarning, match=r"^pickle_load_args only works if `weights_only=False`"):
        ctorch.load(io.BytesIO(_checkpoint_plain()), encoding="latin1")


def _checkpoint_plain() -> bytes:
    buf = io.BytesIO()
    ctorch.save({"w": ctorch.ones(2)}, buf)
    return buf.getvalue()


def test_explicit_pickle_module_is_used():
    """A ``pickle_module`` other than pickle (dill, a wrapper) unpickles the file: its
    ``Unpickler.find_class`` sees the non-tensor globals, as under torch."""
    for lib in _libs():
        seen: list[tuple[str, str]] = []
        mod = _recording_pickle(seen)
        r = lib.load(io.BytesIO(_checkpoint(lib)), pickle_module=mod)
        assert r["thing"].v == 7
        assert (__name__, "Thing") in seen, (lib.__name__, seen)


def _recording_pickle(seen: list) -> types.SimpleNamespace:
    class Recording(pickle.Unpickler):
        def find_class(self, module, name):
            seen.append((module, name))
            return super().find_class(module, name)

    return types.SimpleNamespace(Unpickler=Recording, load=pickle.load, __name__="recording")


def test_default_encoding_is_utf8():
    """A protocol-2 pickle holding a Python 2 ``str`` (SHORT_BINSTRING): torch decodes it
    with utf-8 unless told otherwise."""
    raw = b"\x80\x02U\x05caf\xc3\xa9q\x00."  # SHORT_BINSTRING b'caf\xc3\xa9', then STOP
    pickled = _legacy(raw)
    for lib in _libs():
        assert lib.load(io.BytesIO(pickled)) == "caf\u00e9"
        assert (
            lib.load(io.BytesIO(pickled), weights_only=False, encoding="latin1")
            == "caf\u00c3\u00a9"
        )


def _legacy(obj_pickle: bytes) -> bytes:
    """A pre-1.6 (legacy) checkpoint around one raw pickle: magic, protocol, sys_info, the
    object, an empty storage key list."""
    from ctorch.serialization import MAGIC_NUMBER, PROTOCOL_VERSION

    out = io.BytesIO()
    for v in (MAGIC_NUMBER, PROTOCOL_VERSION, {"little_endian": True}):
        pickle.dump(v, out, protocol=2)
    out.write(obj_pickle)
    pickle.dump([], out, protocol=2)
    return out.getvalue()
