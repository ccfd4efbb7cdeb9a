"""``torch.onnx``: importable, so that programs which only offer an ONNX export run; the
export itself raises :class:`NotImplementedError` (ctorch records no graph to export)."""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["export", "dynamo_export", "is_in_onnx_export", "OperatorExportTypes", "TrainingMode"]


class OperatorExportTypes(enum.IntEnum):
    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


class TrainingMode(enum.IntEnum):
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


_MSG = (
    "torch.onnx.{}: ctorch cannot export ONNX: it runs eagerly and records no graph. Save the "
    "weights with torch.save(model.state_dict(), path), load them into the same model under "
    "real PyTorch and export from there."
)


def export(model: Any, args: Any = (), f: Any = None, *a: Any, **kw: Any) -> Any:
    """Raises :class:`NotImplementedError` (see the module docstring)."""
    raise NotImplementedError(_MSG.format("export"))


def dynamo_export(model: Any, *args: Any, **kwargs: Any) -> Any:
    """Raises :class:`NotImplementedError` (see the module docstring)."""
    raise NotImplementedError(_MSG.format("dynamo_export"))


def is_in_onnx_export() -> bool:
    return False
