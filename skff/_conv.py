"""FFConvClassifier: a convolutional Forward-Forward network as a classifier."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils._param_validation import Interval, Options, StrOptions

from ._classifier_base import BaseFFClassifier
from ._mixins import DataScaledScheduleMixin, check_widths
from ._parallel import DistributedFitMixin
from .core import CONV_NETS, ConvStackNet, check_input_shape


class FFConvClassifier(DistributedFitMixin, DataScaledScheduleMixin, BaseFFClassifier):
    """Convolutional network trained block by block with Forward-Forward.

    ``X`` stays 2-D, as everywhere in scikit-learn: each row is reshaped to
    ``input_shape``, ``(C, H, W)`` for images or ``(C, L)`` for 1-D signals.
    Each block (convolution with ``'same'`` padding, ReLU, 2-wide pooling,
    batch normalization) receives the previous block's output detached,
    computes its own loss and takes its own optimizer step right after its own
    forward pass: no gradient crosses a block.

    With ``label_mode="channelwise"`` (the default; channel-wise competitive
    learning, CwComp) each block's channels are split into one group per
    class; the goodness of a class is the mean squared activity of its group,
    and the block minimizes the cross-entropy of the true class against the
    class goodness, scaled by ``symba_scale``. No negative data is needed and
    prediction is one forward pass. With ``label_mode="input"`` the one-hot
    label enters as ``n_classes`` constant input channels and each block
    separates positive from negative data with the ``loss`` of
    :class:`FFClassifier` (prediction then runs once per label).

    Parameters
    ----------
    input_shape : tuple of int or None, default=None
        ``(C, H, W)`` or ``(C, L)``, with ``C * H * W`` (or ``C * L``) equal to
        ``n_features``. ``None`` reads every row as a one-channel signal of
        length ``n_features``.
    channels : tuple of int, default=(32, 64, 128, 256)
        Output channels of each block (at least ``n_classes`` each with
        ``label_mode="channelwise"``).
    kernel_size : int, default=3
        Width of the (square) convolution kernels.
    pooling : {"max", "avg"} or None, default="max"
        2-wide pooling (see ``pooling_schedule``); a dimension of size 1 is
        not pooled.
    pooling_schedule : {"every", "stage"}, default="every"
        ``"every"``: every block pools its output. ``"stage"``: only the last
        block of each run of equal ``channels`` (a stage) and the last block
        pool, so that ``channels=(32, 32, 64, 64)`` has two blocks per
        resolution; deep nets need it (28 x 28 images are 1 x 1 after five
        pooled blocks).
    shortcut : {None, "add"}, default=None
        ``"add"``: residual blocks. From the second block on, a block passes
        on its normalized output plus its own (detached) input, brought to
        the output's shape without parameters (average-pooled where the
        block pools, zero channels appended where it widens; no shortcut
        where it narrows). Each block still trains on its own loss alone;
        the softmax head reads what every block passes on.
    goodness_power : {1, 2}, default=2
        With ``label_mode="channelwise"``: a class's goodness is the mean of
        its channel group's activity squared (2) or of the activity itself
        (1, "mean goodness": a ReLU that is switched off keeps a gradient
        through its group's mean).
    normalization : {"batch", "sample", "layer", "group"}, default="batch"
        ``"batch"``: batch normalization ends every block (each channel
        standardized over the mini-batch and its positions, weighted by
        ``sample_weight``, then a learned scale and shift; running averages of
        the statistics at prediction), and the goodness and the next block
        read its output. ``"sample"``: each sample's block output is
        RMS-normalized over its channels and positions before the next block
        and, with ``label_mode="channelwise"``, before the class goodness (no
        statistics shared between samples). ``"layer"`` and ``"group"``
        normalize between blocks only (the goodness reads the block's
        activity itself): each sample's output standardized over all its
        channels and positions (layer normalization), or over each class's
        channel group and its positions (``label_mode="channelwise"``), which
        hides from the next block which class group was active; no learned
        scale or shift.
    label_mode : {"channelwise", "input"}, default="channelwise"
        How the label enters the network (see above).
    loss, goodness, threshold, symba_scale, label_strength, negatives, n_negatives, \
peer_normalization
        The local objective, as in :class:`FFClassifier`. With
        ``label_mode="channelwise"`` only ``goodness``, ``peer_normalization``
        and the scale of the class-goodness logits apply: ``symba_scale`` with
        ``loss="symba"``, 1 with ``loss="logistic"``.
    readout : {"goodness", "softmax", "both"}, default="both"
        ``"goodness"``: a softmax over the class goodness summed over the
        blocks; ``"softmax"``: a linear softmax head trained on the blocks'
        (detached, average-pooled, RMS-normalized) outputs; ``"both"``: their
        normalized geometric mean.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, ``{label: weight}``, multiplying the
        ``sample_weight`` of ``fit``, as in :class:`FFClassifier`: every loss
        of a mini-batch (each block's and the head's) is the weighted mean of
        its rows' losses. ``"balanced"`` weighs each class by ``n_samples /
        (n_classes * count)`` (not available in ``partial_fit``). Batch
        normalization centres every channel on the weighted batch, so a class
        prior is learned only through each block's scale and shift: with
        extreme weights (one class 10^7 times another) on a few rows, the
        wide default blocks fit the heavy rows one by one and may still
        predict the light class in its own region; ``normalization="sample"``
        or narrower blocks follow such weights.
    alpha, learning_rate_init, learning_rate
        Optimization, as in :class:`FFClassifier` (Adam per block).
    max_iter : int or None, default=None
        Number of epochs. None: 20.
    batch_size : int or "auto", default="auto"
        Mini-batch size (clipped to the number of samples). ``"auto"``:
        ``n_rows // 20`` within [50, 100], where ``n_rows`` are the rows
        that train: 100 from 2,000 training rows on, and from 1,000 rows
        at least 20 steps per epoch. On Fashion-MNIST subsets of 2,000
        images more steps (smaller batches or more epochs) lost accuracy,
        on the digits they gained (:doc:`/benchmarks`).
    early_stopping, validation_fraction, n_iter_no_change, tol, warm_start
        As in :class:`FFClassifier`. ``input_shape``, ``channels``,
        ``kernel_size``, ``pooling``, ``pooling_schedule``, ``shortcut``,
        ``goodness_power``, ``normalization`` and ``label_mode`` may not change
        between warm-started fits.
    calibrate : bool or "auto", default="auto"
        As in :class:`FFClassifier` (the rule, and when the held-out rows
        make predictions differ from ``calibrate=False``'s, is in its
        ``calibrate``). Without temperatures the default readout is
        over-confident; with them its log-loss is near or below that of a
        backprop CNN of the same blocks, at the same accuracy (the
        measurements are in the benchmarks' history). Small sets then
        train one more network on half of the rows (about 1.5 times the
        fit time); ``calibrate=False`` skips that.
    device, precision, random_state, verbose
        As in :class:`FFClassifier`; on a GPU, 2-D blocks run channels-last.
    parallel, n_workers
        As in :class:`FFClassifier`. The pipeline places blocks by their
        multiply-adds and needs ``label_mode="channelwise"``; its order is
        then exactly that of one process (no block reads a later one).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during ``fit``, when ``X`` has string column names.
    n_iter_ : int
        Epochs run by the last call to ``fit`` (by all calls to ``partial_fit``).
    loss_curve_ : list of list of float
        For every epoch, the mean loss of each block, then of the softmax head.
    validation_scores_ : list of float or None
        Validation accuracy after each epoch, with ``early_stopping=True``.
    best_validation_score_ : float or None
        Best validation accuracy, with ``early_stopping=True``.
    temperatures_ : dict or None
        As in :class:`FFClassifier`: the temperature of the chosen
        ``readout`` (of all three when it is ``"both"``), fitted on rows
        the network did not train on (held out, or scored by the
        cross-fitted network). None when the last fit fitted none.
    core_ : skff.core.ConvStackNet
        The trained torch network (on the CPU after unpickling).
    device_ : str
        The device the model was trained on.

    See Also
    --------
    FFClassifier : Fully connected Forward-Forward network.

    References
    ----------
    G. Hinton, "The Forward-Forward Algorithm: Some Preliminary Investigations",
    2022, arXiv:2212.13345.

    A. Papachristodoulou, C. Kyrkou, S. Timotheou and T. Theocharides,
    "Convolutional Channel-wise Competitive Learning for the Forward-Forward
    Algorithm", AAAI 2024.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skff import FFConvClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = FFConvClassifier(input_shape=(1, 8, 8), channels=(20, 40),
    ...                        max_iter=5, batch_size=50, random_state=0)
    >>> clf.fit(X / 16, y).score(X / 16, y) > 0.8
    True
    >>> clf.block_scores(X[:5] / 16).shape
    (2, 5, 10)
    """

    _parameter_constraints: dict = {
        **BaseFFClassifier._parameter_constraints,
        "input_shape": [tuple, list, None],
        "channels": [tuple, list],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions({"max", "avg"}), None],
        "pooling_schedule": [StrOptions({"every", "stage"})],
        "shortcut": [StrOptions({"add"}), None],
        "goodness_power": [Options(Integral, {1, 2})],
        "normalization": [StrOptions({"batch", "sample", "layer", "group"})],
        "label_mode": [StrOptions({"channelwise", "input"})],
        **DataScaledScheduleMixin._parameter_constraints,
        **DistributedFitMixin._parameter_constraints,
    }
    #: ``max_iter=None``: 20 epochs on every size (the epoch bounds of
    #: :class:`DataScaledScheduleMixin` both 20); ``batch_size="auto"``:
    #: ``n_rows // 20`` within [50, 100]
    _MIN_EPOCHS, _MAX_EPOCHS = 20, 20
    _ROWS_PER_BATCH, _MIN_BATCH, _MAX_BATCH = 20, 50, 100
    _fixed_on_warm_start = (
        "input_shape",
        "channels",
        "kernel_size",
        "pooling",
        "pooling_schedule",
        "shortcut",
        "goodness_power",
        "normalization",
        "label_mode",
    )

    def __init__(
        self,
        input_shape=None,
        channels=(32, 64, 128, 256),
        *,
        kernel_size=3,
        pooling="max",
        pooling_schedule="every",
        shortcut=None,
        goodness_power=2,
        normalization="batch",
        label_mode="channelwise",
        loss="symba",
        goodness="mean",
        threshold=2.0,
        symba_scale=4.0,
        label_strength=1.0,
        negatives="hard",
        n_negatives=1,
        peer_normalization=0.0,
        readout="both",
        class_weight=None,
        alpha=0.0,
        learning_rate_init=0.001,
        learning_rate="linear",
        max_iter=None,
        batch_size="auto",
        early_stopping=False,
        calibrate="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        device="auto",
        precision="float32",
        parallel=None,
        n_workers=None,
        random_state=None,
        verbose=0,
    ):
        self.input_shape = input_shape
        self.channels = channels
        self.kernel_size = kernel_size
        self.pooling = pooling
        self.pooling_schedule = pooling_schedule
        self.shortcut = shortcut
        self.goodness_power = goodness_power
        self.normalization = normalization
        self.label_mode = label_mode
        self.loss = loss
        self.goodness = goodness
        self.threshold = threshold
        self.symba_scale = symba_scale
        self.label_strength = label_strength
        self.negatives = negatives
        self.n_negatives = n_negatives
        self.peer_normalization = peer_normalization
        self.readout = readout
        self.class_weight = class_weight
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.calibrate = calibrate
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.device = device
        self.precision = precision
        self.parallel = parallel
        self.n_workers = n_workers
        self.random_state = random_state
        self.verbose = verbose

    def _shape(self, n_features: int) -> tuple:
        """``input_shape`` checked against the number of features."""
        if self.input_shape is None:
            return (1, n_features)
        return check_input_shape(self.input_shape, n_features)

    def _check_settings(self, n_features) -> None:
        check_widths("channels", self.channels, allow_int=False)
        if isinstance(self.goodness_power, bool):
            raise ValueError(
                f"goodness_power must be 1 or 2, got {self.goodness_power!r}"
            )
        if self.label_mode == "input" and (
            self.normalization == "group" or self.goodness_power != 2
        ):
            raise ValueError(
                "normalization='group' and goodness_power=1 read each class's "
                "group of channels; they need label_mode='channelwise'"
            )
        if self.parallel == "pipeline" and self.label_mode == "input":
            raise ValueError(
                "parallel='pipeline' needs label_mode='channelwise'; "
                "label_mode='input' trains with parallel='data'"
            )
        if n_features is not None:
            self._shape(n_features)
        super()._check_settings(n_features)

    def _n_blocks(self) -> int:
        return len(self.channels)

    def _size_settings(self) -> dict:
        return {"channels": self.channels}

    def _build_core(self, fitted: dict, seed: int) -> ConvStackNet:
        n_features = fitted["n_features_in_"]
        return CONV_NETS[self.label_mode](
            n_features,
            len(fitted["classes_"]),
            self._shape(n_features),
            check_widths("channels", self.channels, allow_int=False),
            kernel_size=self.kernel_size,
            pooling=self.pooling,
            pooling_schedule=self.pooling_schedule,
            shortcut=self.shortcut,
            goodness_power=self.goodness_power,
            normalization=self.normalization,
            objective=self._objective(),
            seed=seed,
        )

    # -- inspection ----------------------------------------------------------------
    def block_scores(self, X: ArrayLike) -> np.ndarray:
        """Each block's own class scores: what every block has learned.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_blocks, n_samples, n_classes)
            The class goodness of every block (``label_mode="channelwise"``)
            or its goodness with each label in the input (``"input"``);
            ``classes_[scores[b].argmax(axis=1)]`` is block ``b``'s prediction.
        """
        fitted = self._fitted_state("core_")
        core = fitted["core_"]
        source = self._predict_source(X, fitted)
        out = self._map_rows(
            core,
            source,
            lambda xb, n_valid: core.block_scores(xb).permute(1, 0, 2).cpu().numpy(),
        )
        return out.transpose(1, 0, 2).astype(np.float64)
