"""Exceptions and warnings raised by skff."""


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss.

    The estimator keeps the weights it had at the start of the epoch that
    diverged, so it stays usable; lower ``learning_rate_init`` and fit again.
    """


class ModelFormatError(ValueError):
    """A saved model's state layout does not match this version of skff."""
