"""``Distribution``: the base class of every distribution (torch.distributions.Distribution)."""

from __future__ import annotations

from numbers import Number
from typing import Any

import ctorch

from .. import _warnings
from . import constraints
from .utils import broadcast_all, lazy_property

__all__ = ["Distribution"]

_size = ctorch.Size


class Distribution:
    """Abstract base class for probability distributions.

    ``batch_shape`` indexes independent (not identically distributed) draws, ``event_shape``
    is the shape of one draw. ``validate_args`` checks parameters (and ``log_prob``'s value)
    against ``arg_constraints`` / ``support`` with torch's error messages.
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        if value not in [True, False]:
            raise ValueError
        Distribution._validate_args = value

    def __init__(
        self,
        batch_shape=_size(),
        event_shape=_size(),
        validate_args: bool | None = None,
    ) -> None:
        self._batch_shape = _size(batch_shape)
        self._event_shape = _size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:
                arg_constraints = {}
                _warnings.warn(
                    f"{self.__class__} does not define `arg_constraints`. "
                    + "Please set `arg_constraints = {}` or initialize the distribution "
                    + "with `validate_args=False` to turn off validation.",
                )
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue
                if param not in self.__dict__ and isinstance(
                    getattr(type(self), param), lazy_property
                ):
                    continue  # skip checking lazily-constructed args
                value = getattr(self, param)
                valid = constraint.check(value)
                if not bool(valid.all()):
                    raise ValueError(
                        f"Expected parameter {param} "
                        f"({type(value).__name__} of shape {tuple(value.shape)}) "
                        f"of distribution {repr(self)} "
                        f"to satisfy the constraint {repr(constraint)}, "
                        f"but found invalid values:\n{value}"
                    )
        super().__init__()

    def expand(self, batch_shape, _instance=None):
        raise NotImplementedError

    @property
    def batch_shape(self) -> ctorch.Size:
        return self._batch_shape

    @property
    def event_shape(self) -> ctorch.Size:
        return self._event_shape

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        raise NotImplementedError

    @property
    def support(self) -> Any:
        raise NotImplementedError

    @property
    def mean(self) -> ctorch.Tensor:
        raise NotImplementedError(f"{self.__class__} does not implement mean")

    @property
    def mode(self) -> ctorch.Tensor:
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self) -> ctorch.Tensor:
        raise NotImplementedError(f"{self.__class__} does not implement variance")

    @property
    def stddev(self) -> ctorch.Tensor:
        return self.variance.sqrt()

    def sample(self, sample_shape=_size()) -> ctorch.Tensor:
        with ctorch.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=_size()) -> ctorch.Tensor:
        raise NotImplementedError

    def sample_n(self, n: int) -> ctorch.Tensor:
        _warnings.warn(
            "sample_n will be deprecated. Use .sample((n,)) instead",
            UserWarning,
        )
        return self.sample(_size((n,)))

    def log_prob(self, value: ctorch.Tensor) -> ctorch.Tensor:
        raise NotImplementedError

    def cdf(self, value: ctorch.Tensor) -> ctorch.Tensor:
        raise NotImplementedError

    def icdf(self, value: ctorch.Tensor) -> ctorch.Tensor:
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> ctorch.Tensor:
        raise NotImplementedError

    def entropy(self) -> ctorch.Tensor:
        raise NotImplementedError

    def perplexity(self) -> ctorch.Tensor:
        return ctorch.exp(self.entropy())

    def _extended_shape(self, sample_shape=_size()) -> ctorch.Size:
        if not isinstance(sample_shape, ctorch.Size):
            sample_shape = _size(sample_shape)
        return _size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def _validate_sample(self, value) -> None:
        if not isinstance(value, ctorch.Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = len(value.size()) - len(self._event_shape)
        if tuple(value.size()[event_dim_start:]) != tuple(self._event_shape):
            raise ValueError(
                f"The right-most size of value must match event_shape: "
                f"{value.size()} vs {self._event_shape}."
            )
        actual_shape = value.size()
        expected_shape = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual_shape), reversed(expected_shape), strict=False):
            if i != 1 and j != 1 and i != j:
                raise ValueError(
                    f"Value is not broadcastable with batch_shape+event_shape: "
                    f"{actual_shape} vs {expected_shape}."
                )
        try:
            support = self.support
        except NotImplementedError:
            _warnings.warn(
                f"{self.__class__} does not define `support` to enable "
                + "sample validation. Please initialize the distribution with "
                + "`validate_args=False` to turn off validation.",
            )
            return
        assert support is not None
        valid = support.check(value)
        if not bool(valid.all()):
            raise ValueError(
                "Expected value argument "
                f"({type(value).__name__} of shape {tuple(value.shape)}) "
                f"to be within the support ({repr(support)}) "
                f"of the distribution {repr(self)}, "
                f"but found invalid values:\n{value}"
            )

    def _init_broadcast(self, validate_args: bool | None, **params: Any) -> None:
        """Broadcast a family's parameters together (Normal's loc and scale, Gamma's
        concentration and rate...), set them as attributes and initialise the batch shape:
        empty when every parameter is a Python number, else the broadcast shape."""
        values = broadcast_all(*params.values())
        for name, value in zip(params, values, strict=True):
            setattr(self, name, value)
        scalar = all(isinstance(p, Number) for p in params.values())
        Distribution.__init__(
            self, _size() if scalar else values[0].size(), validate_args=validate_args
        )

    def _expand_params(self, cls, names: tuple[str, ...], batch_shape, _instance=None):
        """``expand`` for a family whose parameters ``names`` all have the batch shape."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = _size(batch_shape)
        for name in names:
            setattr(new, name, getattr(self, name).expand(batch_shape))
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom "
                "__init__ method must also define a custom .expand() method."
            )
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self) -> str:
        param_names = [k for k, _ in self.arg_constraints.items() if k in self.__dict__]
        args_string = ", ".join(
            [
                f"{p}: {self.__dict__[p] if self.__dict__[p].numel() == 1 else self.__dict__[p].size()}"
                for p in param_names
            ]
        )
        return self.__class__.__name__ + "(" + args_string + ")"
