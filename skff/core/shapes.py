"""The one check of an ``input_shape``: the shape a flat row is read in."""

from __future__ import annotations

import math
from numbers import Integral


def check_input_shape(shape, n_features: int) -> tuple:
    """``shape`` as a tuple of ints, checked: ``(C, H, W)`` for images or
    ``(C, L)`` for 1-D signals, positive integers (not bools) whose product
    is ``n_features``. Raises ``ValueError`` naming ``input_shape``
    otherwise."""
    shape = tuple(shape)
    if (
        len(shape) not in (2, 3)
        or not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
            for s in shape
        )
        or math.prod(shape) != n_features
    ):
        raise ValueError(
            "input_shape must be (C, H, W) or (C, L), positive integers whose "
            f"product is the number of features ({n_features}); got {shape!r}."
        )
    return tuple(int(s) for s in shape)
