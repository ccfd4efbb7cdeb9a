"""detect_anomaly: record forward tracebacks, fail on NaN gradients naming the op."""

from __future__ import annotations

from .grad_mode import _DecoratorContextManager, state

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]


class detect_anomaly(_DecoratorContextManager):
    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self.prev = (state.anomaly, state.anomaly_check_nan)
        state.anomaly = True
        state.anomaly_check_nan = self.check_nan

    def __exit__(self, *exc) -> bool:
        state.anomaly, state.anomaly_check_nan = self.prev
        return False

    def clone(self):
        return self.__class__(self.check_nan)


class set_detect_anomaly(_DecoratorContextManager):
    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = (state.anomaly, state.anomaly_check_nan)
        state.anomaly = bool(mode)
        state.anomaly_check_nan = check_nan
        self.mode, self.check_nan = mode, check_nan

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> bool:
        state.anomaly, state.anomaly_check_nan = self.prev
        return False

    def clone(self):
        return self.__class__(self.mode, self.check_nan)


def is_anomaly_enabled() -> bool:
    return state.anomaly
