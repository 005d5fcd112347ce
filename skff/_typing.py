"""Typing helpers shared by the estimators (no run-time behaviour)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover - torch depends on typing_extensions
    from typing_extensions import Self

if TYPE_CHECKING:
    # scikit-learn ships no type hints: its untyped decorator would make
    # every decorated ``fit`` return ``Any`` for type checkers
    _F = TypeVar("_F", bound=Callable[..., Any])

    def fit_context(*, prefer_skip_nested_validation: bool) -> Callable[[_F], _F]: ...
else:
    from sklearn.base import _fit_context as fit_context

__all__ = ["Self", "fit_context"]
