"""FFTransformer: unsupervised Forward-Forward features for scikit-learn pipelines."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseFF, FitData, HeldOut
from ._mixins import LayerWidthsMixin
from ._sources import ArraySource
from ._typing import Self, fit_context
from .core import (
    UNSUPERVISED_NEGATIVES,
    UnsupervisedConvNet,
    UnsupervisedFFNet,
    check_input_shape,
)
from .core.unsupervised import (
    ACTIVATIONS,
    GOODNESS_SCOPES,
    INPUT_NORMALIZATIONS,
    LAYER_TRAININGS,
    PAIR_WEIGHTS,
    RECIPE_SETTINGS,
)

#: seed of the negatives the early-stopping score compares real rows with (the
#: same negatives after every epoch, so the scores are comparable)
_VALIDATION_SEED = 12345


class FFTransformer(
    LayerWidthsMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseFF
):
    """Unsupervised Forward-Forward features.

    A stack of layers (fully connected, or convolutional with ``channels``)
    learns, without labels, to give high goodness (mean or sum of squared
    activities) to real rows and low goodness to negative rows it makes from
    them; each layer trains on its own local loss and hands its activities,
    centered and RMS-normalized per row (layer normalization without gain),
    detached, to the next layer. Every row is first centered on the training
    mean (``mean_``) and, by default, standardized. ``transform`` returns the
    normalized activities of the ``output_layers``, concatenated: features
    for a linear model, as in ``make_pipeline(FFTransformer(),
    LogisticRegression())`` (the role of
    :class:`~sklearn.neural_network.BernoulliRBM`).

    The defaults are the self-contrastive recipe of Chen et al. (2025): a
    real row is paired with itself, a negative with another row of the
    mini-batch, both halves read through the same first-layer weights; rows
    standardized; the "triangle" activation. Each part is a parameter
    (``pair_weights``, ``input_normalization``, ``activation``,
    ``negative_threshold`` and ``positive_penalty``, ``goodness_scope``,
    ``layer_training``); what each one is worth is measured on the
    :doc:`/benchmarks` page.

    Parameters
    ----------
    n_layers : int, default=2
        Number of hidden layers (with ``hidden_layer_sizes=None``).
    hidden_size : int, default=500
        Width of each hidden layer (with ``hidden_layer_sizes=None``).
    hidden_layer_sizes : array-like of int, int or None, default=None
        Width of every hidden layer, e.g. ``(1000, 500)`` (an int is one
        layer). ``None`` builds ``n_layers`` layers of ``hidden_size`` units.
        When it is given it sets the layers, and ``n_layers`` and
        ``hidden_size`` must stay at their defaults or agree with it;
        otherwise ``fit`` raises a ``ValueError``.
    negatives : {"hybrid", "self_contrastive", "corrupt"}, \
            default="self_contrastive"
        How negative rows are made, afresh for every mini-batch.
        ``"hybrid"`` mixes two rows through a smooth random mask (random bits
        blurred repeatedly with ``[1/4, 1/2, 1/4]`` and thresholded at 0.5:
        in 2-D for images with ``input_shape=(C, H, W)``, else along the
        features), Hinton's negatives. ``"self_contrastive"`` shows the net
        the pair ``(x, x)`` as positive and ``(x_i, x_j)`` as negative (see
        ``pair_weights``). ``"corrupt"`` takes every feature from another
        row: a generic negative for tables. The default needs no image
        structure.
    input_shape : tuple of int or None, default=None
        ``(C, H, W)`` for images or ``(C, L)`` for signals, whose product is
        the number of features: the shape hybrid masks are smooth in.
    output_layers : list of int or None, default=None
        Indices of the layers whose activities ``transform`` returns, in that
        order. None: all the layers, which validated better than any single
        layer or all but the first (Hinton's choice) for every negative
        kind (:doc:`/benchmarks`).
    channels : list of int or None, default=None
        Channels of convolutional blocks, e.g. ``[32, 64, 128]``, which need
        ``input_shape``; None builds fully connected layers (``n_layers``,
        ``hidden_size``, ``hidden_layer_sizes``). Every block is a
        convolution with ``'same'`` padding (the blocks of
        :class:`FFConvClassifier`), the activation and 2 x 2 max pooling (2
        along a signal); ``transform`` returns each block's output
        average-pooled to at most ``feature_grid`` cells per side,
        layer-normalized.
    kernel_size : int, default=3
        Width of the convolutions' kernels (with ``channels``).
    feature_grid : int, default=4
        Cells per spatial dimension each block's features are pooled to
        (with ``channels``).
    goodness_scope : {"position", "image"}, default="position"
        With ``channels``: the goodness and the loss at every spatial
        position (the loss averaged over them), or over a block's whole
        output.
    pair_weights : {"separate", "shared"}, default="shared"
        With ``negatives="self_contrastive"``: ``"shared"`` reads both rows of
        a pair through the first layer's weights, ``W x1 + W x2 + 2 b`` (a
        positive is then ``2 x``, a negative ``x + x_j``); ``"separate"``
        reads the concatenated pair through weights twice as wide.
    input_normalization : {"center", "standardize"}, default="standardize"
        Every row is centered on the training mean (``mean_``);
        ``"standardize"`` then scales each row to zero mean and unit
        variance over its features.
    activation : {"relu", "triangle"}, default="triangle"
        What a layer hands on and ``transform`` returns: ``relu(z)``, or
        ``relu(z - mean(z))`` with the mean over the units (over the
        channels at every position of a convolution). The goodness reads
        ``relu(z)`` either way.
    negative_threshold : float or None, default=None
        With ``loss="logistic"``, a second threshold for the negatives: the
        loss is ``softplus(threshold - g_pos) + softplus(g_neg -
        negative_threshold)``. None: one threshold.
    positive_penalty : float, default=0.0
        Weight of the real rows' mean goodness added to every layer's loss
        (keeps the goodness from growing without bound).
    layer_training : {"joint", "greedy"}, default="joint"
        ``"joint"`` trains every layer in every epoch; ``"greedy"`` trains
        the layers one after another, each for its share of ``max_iter``
        epochs with its own learning-rate schedule, the earlier ones frozen
        (with fewer epochs than layers, as in ``partial_fit``, every layer
        trains). The loss of a layer not yet reached is reported as 0.
    loss : {"symba", "logistic"}, default="symba"
        Local loss: ``"symba"`` is ``softplus(-symba_scale * (g_pos - g_neg))``
        with each real row paired with its own negative; ``"logistic"`` is
        Hinton's ``sigmoid(goodness - threshold)`` likelihood.
    goodness : {"mean", "sum"}, default="mean"
        Mean or sum of the squared activities of a layer (of a
        convolution's channels at each position with
        ``goodness_scope="position"``).
    threshold : float, default=2.0
        Goodness threshold of the logistic loss (with ``goodness="sum"``,
        scale it with ``hidden_size``); the real rows' threshold when
        ``negative_threshold`` is set.
    symba_scale : float, default=4.0
        Scale of the SymBa loss.
    peer_normalization : float, default=0.0
        Strength of peer normalization, which pulls each unit's running mean
        activity toward the layer's mean (0 disables it).
    alpha : float, default=0.0
        L2 penalty (weight decay) of every layer's optimizer.
    learning_rate_init : float, default=0.001
        Learning rate of each layer's Adam optimizer.
    learning_rate : {"constant", "linear"}, default="linear"
        Schedule: ``"linear"`` keeps the rate for the first half of
        ``max_iter``, then decays it linearly towards zero.
    max_iter : int, default=20
        Number of epochs.
    batch_size : int, default=100
        Mini-batch size (clipped to the number of samples).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, score after every epoch
        how well each layer separates them from negatives (minus the mean
        local loss over the layers, on negatives drawn the same way every
        epoch), stop when it has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and restore the best weights.
    validation_fraction : float, default=0.1
        Share of the rows held out for early stopping.
    n_iter_no_change : int or "inf", default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum improvement of the validation score that resets the patience.
    warm_start : bool, default=False
        Reuse the trained weights on the next call to ``fit``.
    device : str, default="auto"
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"mps"``.
    precision : {"float32", "bf16"}, default="float32"
        ``"bf16"`` runs the layers under bfloat16 autocast.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling and the negatives. With a
        fixed value, refits on the CPU with the same number of torch threads
        are bit-identical (another thread count can change the last bits).
    verbose : int, default=0
        Report per-layer losses after every epoch: a progress bar in a
        terminal or notebook, one line per epoch with its time elsewhere.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during ``fit``, when ``X`` has string column names.
    mean_ : ndarray of shape (``n_features_in_``,)
        Mean of every feature over the training rows of the fit that built
        the network (without the rows held out for early stopping; a warm
        start or ``partial_fit`` keeps it), subtracted from every row before
        the first layer:
        without centering, non-negative inputs such as pixels leave most units
        of the first layer dead after an epoch.
    n_iter_ : int
        Epochs run by the last call to ``fit`` (by all calls to ``partial_fit``).
    loss_curve_ : list of list of float
        For every epoch, the mean loss of each layer.
    validation_scores_ : list of float or None
        Validation score after each epoch, with ``early_stopping=True``.
    best_validation_score_ : float or None
        Best validation score, with ``early_stopping=True``.
    core_ : skff.core.UnsupervisedFFNet
        The trained torch network (on the CPU after unpickling).
    device_ : str
        The device the model was trained on.

    See Also
    --------
    sklearn.neural_network.BernoulliRBM : Unsupervised features from a
        restricted Boltzmann machine.
    FFClassifier : Supervised Forward-Forward network.

    References
    ----------
    G. Hinton, "The Forward-Forward Algorithm: Some Preliminary Investigations",
    2022, arXiv:2212.13345.

    X. Chen et al., "Self-Contrastive Forward-Forward Algorithm", Nature
    Communications, 2025.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import Pipeline
    >>> from skff import FFTransformer
    >>> X, y = load_digits(return_X_y=True)
    >>> pipe = Pipeline([
    ...     ("ff", FFTransformer(n_layers=1, hidden_size=100, max_iter=3,
    ...                          random_state=0)),
    ...     ("lr", LogisticRegression(max_iter=500)),
    ... ])
    >>> pipe.fit(X / 16, y).score(X / 16, y) > 0.9
    True
    >>> pipe[0].transform(X[:2] / 16).shape
    (2, 100)

    Convolutional blocks on the 8 x 8 images:

    >>> conv = FFTransformer(channels=[8, 16], input_shape=(1, 8, 8),
    ...                      max_iter=2, random_state=0).fit(X / 16)
    >>> conv.transform(X[:2] / 16).shape  # 8 x 4 x 4 + 16 x 2 x 2
    (2, 192)
    """

    _parameter_constraints: dict = {
        **BaseFF._parameter_constraints,
        **LayerWidthsMixin._parameter_constraints,
        "negatives": [StrOptions(set(UNSUPERVISED_NEGATIVES))],
        "input_shape": [tuple, list, None],
        "output_layers": [list, tuple, None],
        "channels": [list, tuple, None],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "feature_grid": [Interval(Integral, 1, None, closed="left")],
        "goodness_scope": [StrOptions(set(GOODNESS_SCOPES))],
        "pair_weights": [StrOptions(set(PAIR_WEIGHTS))],
        "input_normalization": [StrOptions(set(INPUT_NORMALIZATIONS))],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "negative_threshold": [Interval(Real, None, None, closed="neither"), None],
        "positive_penalty": [Interval(Real, 0, None, closed="left")],
        "layer_training": [StrOptions(set(LAYER_TRAININGS))],
    }
    _fixed_on_warm_start = (
        *LayerWidthsMixin._fixed_on_warm_start,
        "negatives",
        "input_shape",
        "channels",
        "kernel_size",
        "feature_grid",
        "pair_weights",
        "input_normalization",
        "activation",
    )
    _required_fitted = ("n_features_in_",)

    def __init__(
        self,
        n_layers=2,
        hidden_size=500,
        *,
        hidden_layer_sizes=None,
        negatives="self_contrastive",
        input_shape=None,
        output_layers=None,
        channels=None,
        kernel_size=3,
        feature_grid=4,
        goodness_scope="position",
        pair_weights="shared",
        input_normalization="standardize",
        activation="triangle",
        negative_threshold=None,
        positive_penalty=0.0,
        layer_training="joint",
        loss="symba",
        goodness="mean",
        threshold=2.0,
        symba_scale=4.0,
        peer_normalization=0.0,
        alpha=0.0,
        learning_rate_init=0.001,
        learning_rate="linear",
        max_iter=20,
        batch_size=100,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        device="auto",
        precision="float32",
        random_state=None,
        verbose=0,
    ):
        self.n_layers = n_layers
        self.hidden_size = hidden_size
        self.hidden_layer_sizes = hidden_layer_sizes
        self.negatives = negatives
        self.input_shape = input_shape
        self.output_layers = output_layers
        self.channels = channels
        self.kernel_size = kernel_size
        self.feature_grid = feature_grid
        self.goodness_scope = goodness_scope
        self.pair_weights = pair_weights
        self.input_normalization = input_normalization
        self.activation = activation
        self.negative_threshold = negative_threshold
        self.positive_penalty = positive_penalty
        self.layer_training = layer_training
        self.loss = loss
        self.goodness = goodness
        self.threshold = threshold
        self.symba_scale = symba_scale
        self.peer_normalization = peer_normalization
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- settings ------------------------------------------------------------------
    def _configure_core(self, core) -> None:
        core.set_output_layers(self.output_layers)
        core.set_training(
            negative_threshold=self.negative_threshold,
            positive_penalty=self.positive_penalty,
            layer_training=self.layer_training,
            goodness_scope=self.goodness_scope,
        )
        super()._configure_core(core)

    def _check_warm_start(self, skip: tuple = ()) -> None:
        # convolutional blocks have no layer widths: their channels are fixed
        if self.channels is not None or isinstance(self.core_, UnsupervisedConvNet):
            BaseFF._check_warm_start(self, skip=(*skip, *self._WIDTHS))
        else:
            super()._check_warm_start(skip)

    def _channels(self) -> list | None:
        """The channels of the convolutional blocks (None: fully connected)."""
        if self.channels is None:
            return None
        channels = list(np.atleast_1d(self.channels))
        if not channels or not all(
            isinstance(c, Integral) and not isinstance(c, bool) and c >= 1
            for c in channels
        ):
            raise ValueError(
                "channels must be a non-empty list of positive integers (the "
                f"channels of every convolutional block) or None; got "
                f"{self.channels!r}."
            )
        return [int(c) for c in channels]

    def _n_blocks(self) -> int:
        channels = self._channels()
        return len(self._layer_sizes()) if channels is None else len(channels)

    def _check_settings(self, n_features) -> None:
        """Fail on a bad ``input_shape``, layer sizes, ``channels`` or
        ``output_layers`` before any state changes."""
        super()._check_settings(n_features)
        if self.input_shape is not None and n_features is not None:
            check_input_shape(self.input_shape, n_features)
        if self._channels() is not None:
            if self.input_shape is None:
                raise ValueError(
                    "channels asks for convolutional blocks, which need the "
                    "rows' shape: set input_shape=(C, H, W) for images or "
                    "(C, L) for signals."
                )
            if self.hidden_layer_sizes is not None:
                raise ValueError(
                    "channels (convolutional blocks) and hidden_layer_sizes "
                    "(fully connected layers) were both given; set one of them."
                )
        UnsupervisedFFNet.check_output_layers(self.output_layers, self._n_blocks())

    # -- fitting -------------------------------------------------------------------
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: None = None) -> Self:
        """Train the network on the rows of ``X`` (no labels).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, scaled to comparable ranges (e.g. [0, 1]).
        y : None
            Ignored.

        Returns
        -------
        self : FFTransformer
            The fitted transformer.
        """
        return self._fit(X, None, incremental=False)

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: ArrayLike, y: None = None) -> Self:
        """Train for one epoch on the rows of ``X``, keeping the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : FFTransformer
            The updated transformer.
        """
        return self._fit(X, None, incremental=True)

    def _fit_data(self, X, y, *, warm, classes, device, hold_out, seed) -> FitData:
        X, fitted = self._check_rows(X, reset=not warm)
        self._check_settings(X.shape[1])
        held_out = None
        if hold_out and self._holds_out(X.shape[0]):
            X, X_val = train_test_split(
                X, test_size=self.validation_fraction, random_state=seed
            )
            held_out = HeldOut(
                ArraySource(X_val, device),
                torch.zeros(X_val.shape[0], dtype=torch.int64),
            )
        if not warm:
            fitted["mean_"] = np.asarray(X.mean(axis=0)).ravel()
        return FitData(
            source=ArraySource(X, device),
            targets=torch.zeros(X.shape[0], dtype=torch.int64),
            held_out=held_out,
            fitted=fitted,
        )

    def _build_core(self, fitted: dict, seed: int):
        common = dict(
            negatives=self.negatives,
            output_layers=self.output_layers,
            objective=self._objective(),
            seed=seed,
            **{name: getattr(self, name) for name in RECIPE_SETTINGS},
        )
        channels = self._channels()
        if channels is None:
            core = UnsupervisedFFNet(
                fitted["n_features_in_"],
                self._layer_sizes(),
                input_shape=self.input_shape,
                **common,
            )
        else:
            core = UnsupervisedConvNet(
                fitted["n_features_in_"],
                self.input_shape,
                channels,
                kernel_size=self.kernel_size,
                feature_grid=self.feature_grid,
                goodness_scope=self.goodness_scope,
                **common,
            )
        core.set_input_offset(fitted["mean_"])
        return core

    def _validation_score(self, core, held_out: HeldOut) -> float:
        """Minus the mean local loss of the layers on held-out rows and their
        negatives (the same negatives after every epoch); higher is better."""
        device = next(core.parameters()).device
        generator = torch.Generator(device=device).manual_seed(_VALIDATION_SEED)
        rows = torch.arange(len(held_out.source))
        with torch.inference_mode():
            losses = core.separation(held_out.source.take(rows), generator)
        return -float(losses.float().mean())

    # -- output --------------------------------------------------------------------
    @property
    def _n_features_out(self) -> int:
        """Width of ``transform``'s output (read by ``get_feature_names_out``)."""
        return self.core_.n_features_out

    def _row_elements(self, core) -> int:
        # every layer's activities are held for a row
        return core.row_elements

    def transform(self, X: ArrayLike) -> np.ndarray:
        """The normalized activities of the output layers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            The normalized activities (centered and RMS-normalized per row)
            of ``output_layers``, concatenated,
            in the dtype of ``X`` (float32 or float64).
        """
        fitted = self._fitted_state("core_")
        core = fitted["core_"]
        X, _ = self._check_rows(X, reset=False, state=fitted)
        dtype = X.dtype
        source = ArraySource(X, next(core.parameters()).device, stream=True)
        out = self._map_rows(
            core, source, lambda xb, n_valid: core.features(xb).float().cpu().numpy()
        )
        return out.astype(dtype, copy=False)

    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """Goodness of every row, summed over the layers: high for rows like
        the training data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Summed goodness of each row.
        """
        fitted = self._fitted_state("core_")
        core = fitted["core_"]
        source = self._predict_source(X, fitted)
        out = self._map_rows(
            core, source, lambda xb, n_valid: core.score(xb).float().cpu().numpy()
        )
        return out.astype(np.float64)
