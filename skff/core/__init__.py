"""Torch cores of skff: Forward-Forward networks with strictly layer-local training.

Nothing in this subpackage imports scikit-learn. A core is a small
:class:`torch.nn.Module` (a :class:`LocalTrainingCore`) with the interface the
estimators rely on:

``train_step(x, y, generator, weight=None)``
    One mini-batch of Forward-Forward training; every layer updates from its own
    loss right after its own forward pass. ``weight`` (one float per row, the
    classifiers' cores) makes every loss a weighted mean over the rows. Returns
    a 1-D tensor of losses (one per layer, then the readout head's when the
    core has one).
``label_logits(x)`` / ``head_logits(x)``
    Scores for every class: per-label goodness, or the one-pass softmax head.
``objective`` / ``set_objective(objective)``
    The local objective, an immutable :class:`Objective`, replaced as a whole
    (the recurrent core has its :class:`Dynamics` the same way).
``configure_training(learning_rate=, alpha=, reset=)``, ``set_learning_rate(lr)``
    Optimizers.
``get_config()``
    Keyword arguments that rebuild the core with its current settings (used
    for persistence: ``CORES[class name](**config)``).
"""

from .conv import CONV_NETS, ChannelwiseConvNet, ConvStackNet, LabelInputConvNet
from .feedforward import FFNet
from .functional import ff_loss, goodness, rms_normalize
from .layers import FFLinear, LinearHead, RecurrentFFLayer
from .local_training import ROW_QUANTUM, LocalTrainingCore, quantized_rows
from .negatives import (
    UNSUPERVISED_NEGATIVES,
    hardest_wrong_labels,
    sample_wrong_labels,
    uniform_wrong_labels,
)
from .objective import Objective
from .recurrent import Dynamics, RecurrentFFNet
from .shapes import check_input_shape
from .unsupervised import UnsupervisedConvNet, UnsupervisedFFNet

CORES = {
    cls.__name__: cls
    for cls in (
        FFNet,
        RecurrentFFNet,
        ChannelwiseConvNet,
        LabelInputConvNet,
        UnsupervisedFFNet,
        UnsupervisedConvNet,
    )
}

__all__ = [
    "CONV_NETS",
    "CORES",
    "ChannelwiseConvNet",
    "ConvStackNet",
    "Dynamics",
    "FFLinear",
    "FFNet",
    "LabelInputConvNet",
    "LinearHead",
    "LocalTrainingCore",
    "Objective",
    "RecurrentFFLayer",
    "ROW_QUANTUM",
    "RecurrentFFNet",
    "UNSUPERVISED_NEGATIVES",
    "UnsupervisedConvNet",
    "UnsupervisedFFNet",
    "check_input_shape",
    "ff_loss",
    "goodness",
    "hardest_wrong_labels",
    "quantized_rows",
    "rms_normalize",
    "sample_wrong_labels",
    "uniform_wrong_labels",
]
