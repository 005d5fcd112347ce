"""skff: Forward-Forward networks as scikit-learn estimators, on PyTorch."""

__version__ = "0.1.0"

from ._api import train_with_forward_forward_algorithm  # noqa: E402
from ._base import resolve_device  # noqa: E402
from ._classifier import FFClassifier  # noqa: E402
from ._language_model import FFLanguageModel  # noqa: E402
from ._recurrent import FFRecurrentClassifier  # noqa: E402
from .exceptions import DivergenceError, ModelFormatError  # noqa: E402

__all__ = [
    "DivergenceError",
    "FFClassifier",
    "FFLanguageModel",
    "FFRecurrentClassifier",
    "ModelFormatError",
    "__version__",
    "resolve_device",
    "train_with_forward_forward_algorithm",
]
