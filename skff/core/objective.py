"""The local objective of every Forward-Forward layer, as one immutable value.

An :class:`Objective` says what each layer optimizes (goodness, loss and their
constants) and on which data (how strongly the label is written into positive
and negative examples, and how the wrong labels of the negatives are chosen).
A core owns one; it is validated once, saved with the core's configuration,
and only ever replaced as a whole (:meth:`LocalTrainingCore.set_objective`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from numbers import Integral
from typing import Any

from .functional import GOODNESS, LOSSES

NEGATIVES = ("hard", "uniform", "hardest")


def _number(value: Any, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def _choice(value: Any, name: str, options: tuple) -> str:
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; expected one of {options}")
    return str(value)


@dataclass(frozen=True)
class Objective:
    """What every layer of a core is trained on.

    Parameters
    ----------
    goodness : {"mean", "sum"}
        Mean or sum of a layer's squared activities.
    loss : {"symba", "logistic"}
        ``"logistic"``: ``sigmoid(goodness - threshold)`` is the probability of
        a positive; ``"symba"``: ``softplus(-symba_scale * (g_pos - g_neg))``.
    threshold : float
        Goodness threshold of the logistic loss.
    symba_scale : float
        Scale of the SymBa loss (and of the goodness logits it implies).
    label_strength : float
        Value of the one-hot label entry of positive and negative data; the
        neutral label is ``label_strength / n_classes`` for every class.
    peer_normalization : float
        Strength of peer normalization (0 disables it).
    negatives : {"hard", "uniform", "hardest"}
        How the wrong labels of negative data are drawn.
    n_negatives : int
        Wrong labels per positive (at most ``n_classes - 1`` are used).
    """

    goodness: str = "mean"
    loss: str = "symba"
    threshold: float = 2.0
    symba_scale: float = 4.0
    label_strength: float = 1.0
    peer_normalization: float = 0.0
    negatives: str = "hard"
    n_negatives: int = 1

    def __post_init__(self):
        # coerce once (numpy scalars, ints for floats) so that equal settings
        # compare and save alike
        put = object.__setattr__
        put(self, "goodness", _choice(self.goodness, "goodness", GOODNESS))
        put(self, "loss", _choice(self.loss, "loss", LOSSES))
        put(self, "threshold", _number(self.threshold, "threshold"))
        put(
            self,
            "symba_scale",
            _number(self.symba_scale, "symba_scale", positive=True),
        )
        put(
            self,
            "label_strength",
            _number(self.label_strength, "label_strength", positive=True),
        )
        peer = _number(self.peer_normalization, "peer_normalization")
        if peer < 0:
            raise ValueError(f"peer_normalization must be >= 0, got {peer!r}")
        put(self, "peer_normalization", peer)
        put(self, "negatives", _choice(self.negatives, "negatives", NEGATIVES))
        k = self.n_negatives
        if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
            raise ValueError(f"n_negatives must be an integer >= 1, got {k!r}")
        put(self, "n_negatives", int(k))

    @classmethod
    def names(cls) -> tuple:
        """The field names, which are also the estimators' parameter names."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def coerce(cls, value: Objective | dict | None) -> Objective:
        """An :class:`Objective` from itself, a dict of its fields, or None
        (the defaults)."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = set(value) - set(cls.names())
            if unknown:
                raise ValueError(f"unknown objective settings {sorted(unknown)}")
            return cls(**value)
        raise TypeError(f"expected an Objective or a dict, got {type(value).__name__}")

    def as_dict(self) -> dict:
        """Plain Python values (for saving)."""
        return asdict(self)

    @property
    def logit_scale(self) -> float:
        """Factor that turns summed goodness into class logits: ``symba_scale``
        for the SymBa loss (its pairwise loss is a softmax over ``scale * g``),
        1 for the logistic loss."""
        return self.symba_scale if self.loss == "symba" else 1.0
