"""``torch.distributed.checkpoint.stateful``: the protocol of objects DCP saves through their
own ``state_dict``/``load_state_dict``."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = ["Stateful", "StatefulT"]


@runtime_checkable
class Stateful(Protocol):
    """An object with ``state_dict()`` and ``load_state_dict(state_dict)``: ``dcp.save`` saves
    what ``state_dict()`` returns; ``dcp.load`` loads into it in place, then hands it to
    ``load_state_dict``."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: dict[str, Any]) -> None: ...


StatefulT = TypeVar("StatefulT", bound=Stateful)
