from __future__ import annotations

import ctorch

from . import constraints
from ._special import lgamma
from .binomial import Binomial
from .categorical import Categorical, CategoricalParams
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Multinomial"]


class Multinomial(CategoricalParams, Distribution):
    """Counts of ``total_count`` draws from a Categorical(``probs`` or ``logits``) over the
    last dim.  ``sample`` needs an integer ``total_count``; ``log_prob`` does not."""

    arg_constraints = {
        "probs": constraints.simplex,
        "logits": constraints.independent(constraints.real, 1),
    }

    def __init__(
        self, total_count: int = 1, probs=None, logits=None, validate_args: bool | None = None
    ) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = ctorch.Size(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        new._binomial = Binomial(total_count=self.total_count, probs=new._categorical.probs)
        super(Multinomial, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self) -> ctorch.Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> ctorch.Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        # torch's algorithm (total_count categorical draws, counted), so a seeded run draws the
        # counts torch does
        sample_shape = ctorch.Size(sample_shape)
        if self.total_count == 0:  # torch 2.13 raises "cannot sample n_sample <= 0 samples"
            return ctorch.zeros(
                tuple(self._extended_shape(sample_shape)),
                dtype=self.probs.dtype,
                device=self.probs.device,
            )
        with ctorch.no_grad():
            samples = self._categorical.sample(ctorch.Size((self.total_count,)) + sample_shape)
            # (total_count, *sample_shape, *batch_shape) -> (*sample_shape, *batch_shape, total_count)
            samples = samples.permute(*range(1, samples.dim()), 0)
            counts = ctorch.zeros(
                tuple(self._extended_shape(sample_shape)),
                dtype=samples.dtype,
                device=samples.device,
            )
            counts.scatter_add_(-1, samples, ctorch.ones_like(samples))
        return counts.type_as(self.probs)

    def entropy(self) -> ctorch.Tensor:
        n = ctorch.tensor(float(self.total_count), dtype=self.probs.dtype)
        support = self._binomial.enumerate_support()
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = lgamma(support + 1)
        return (
            self.total_count * self._categorical.entropy()
            - lgamma(n + 1)
            + (binomial_probs * weights).sum([0, -1])
        )

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = lgamma(value.sum(-1) + 1)
        log_factorial_xs = lgamma(value + 1).sum(-1)
        # 0 * log(0): a category that cannot occur and does not, contributes nothing
        logits = ctorch.where((value == 0) & (logits == -float("inf")), 0.0, logits)
        log_powers = (logits * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers
