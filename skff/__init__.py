"""skff: Forward-Forward networks as scikit-learn estimators, on PyTorch."""

from ._api import train_with_forward_forward_algorithm
from ._classifier import FFClassifier
from ._conv import FFConvClassifier
from ._device import resolve_device
from ._language_model import FFLanguageModel
from ._recurrent import FFRecurrentClassifier
from ._transformer import FFTransformer
from ._version import __version__
from .exceptions import DivergenceError, ModelFormatError, WorkerError

__all__ = [
    "DivergenceError",
    "FFClassifier",
    "FFConvClassifier",
    "FFLanguageModel",
    "FFRecurrentClassifier",
    "FFTransformer",
    "ModelFormatError",
    "WorkerError",
    "__version__",
    "resolve_device",
    "train_with_forward_forward_algorithm",
]
