"""FFRecurrentClassifier: a Forward-Forward network with top-down recurrence."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.utils._param_validation import Interval

from ._classifier_base import BaseFFClassifier
from ._mixins import LayerWidthsMixin
from .core import Dynamics, RecurrentFFNet


class FFRecurrentClassifier(LayerWidthsMixin, BaseFFClassifier):
    """Forward-Forward network with top-down recurrence, as a classifier.

    The input is treated as a video of a static image (Hinton, 2022, §5). The
    hidden layers sit between the input, at the bottom, and a one-hot label
    layer, at the top. At time ``t`` every hidden layer takes the
    RMS-normalized activities of the layer below and of the layer above at
    ``t - 1`` through its bottom-up and top-down weights, and moves its state
    part of the way to the result::

        state(t) = damping * state(t-1) + (1 - damping) * ReLU(
            W_up @ below(t-1) + W_down @ above(t-1) + b)

    Time 0 is a single bottom-up pass; then ``n_iterations`` synchronous
    iterations follow. Each layer is trained on its own goodness at the
    iterations of ``goodness_window``: high for the input with its true label
    at the top (positive), low with a wrong label (negative). Every layer owns
    both of its weight matrices and its inputs are detached: no gradient
    crosses a layer or a time step.

    Parameters
    ----------
    n_layers : int, default=2
        Number of hidden layers (with ``hidden_layer_sizes=None``).
    hidden_size : int, default=256
        Width of each hidden layer (with ``hidden_layer_sizes=None``).
    hidden_layer_sizes : array-like of int, int or None, default=None
        Width of every hidden layer from the bottom (input side) to the top
        (label side), e.g. ``(256, 128)``; each layer's bottom-up and
        top-down weights take the widths of its neighbours. ``None`` builds
        ``n_layers`` layers of ``hidden_size`` units. When it is given it
        sets the layers, and ``n_layers`` and ``hidden_size`` must stay at
        their defaults or agree with it; otherwise ``fit`` raises a
        ``ValueError``.
    n_iterations : int, default=8
        Synchronous iterations after the bottom-up pass (Hinton used 8).
        Iterations after the end of ``goodness_window`` cannot affect training
        or predictions, so only :meth:`goodness_trajectory` runs them.
    damping : float, default=0.3
        Weight of the old state in each update, in ``[0, 1)``; ``0`` replaces
        the state by the computed activity (Hinton used 0.3).
    goodness_window : tuple of (int, int), default=(2, 4)
        First and last iteration, **both inclusive**, whose goodness trains
        the layers and scores the labels; iteration 0 is the bottom-up pass.
        Requires ``0 <= start <= stop <= n_iterations``. Hinton averaged
        iterations 3 to 5 of a deeper net; with two hidden layers the label
        reaches the bottom layer at iteration 2, and ``(2, 4)`` validated
        better than ``(3, 5)`` on digits.
    loss : {"symba", "logistic"}, default="symba"
        Local loss. ``"logistic"`` is Hinton's ``sigmoid(goodness - threshold)``
        likelihood; ``"symba"`` the symmetric pairwise loss
        ``softplus(-symba_scale * (g_pos - g_neg))``, which compares each
        positive with its own negative and needs no threshold. The logistic
        loss tends to park every goodness at the threshold here, since the
        label enters only at the top; give it a stronger label and a lower
        threshold (e.g. ``label_strength=2.0, threshold=1.0``).
    goodness : {"mean", "sum"}, default="mean"
        Mean or sum of the squared activities of a layer.
    threshold : float, default=2.0
        Goodness threshold of the logistic loss.
    symba_scale : float, default=4.0
        Scale of the SymBa loss.
    label_strength : float, default=1.0
        Value of the one-hot label entry at the top; the neutral label used by
        the softmax readout is ``label_strength / n_classes`` for every class.
    normalize_input : bool, default=True
        RMS-normalize each sample before the first layer, as the states passed
        between layers are (and as in Hinton's code), so that the input and the
        top-down signal reach the first layer on the same scale. The length
        that this removes is not lost: the first layer reads one more input,
        ``log(rms(x) / input_scale_)``, the log of the sample's RMS relative to
        that of the training data (it is what separates the classes of some
        tabular problems, e.g. concentric circles). ``False`` feeds the input
        as it is.
    negatives : {"hard", "uniform", "hardest"}, default="hard"
        How the wrong label of each negative example is chosen, afresh for every
        mini-batch: in proportion to the softmax head's probabilities of the
        wrong classes (``"hard"``, Hinton's recipe), uniformly among the other
        classes (``"uniform"``), or the most probable wrong class
        (``"hardest"``, which learns poorly with this network). The true label
        is never drawn.
    n_negatives : int, default=3
        Number of distinct wrong labels drawn for each positive example (at
        most ``n_classes - 1`` are used). With more than one, the SymBa loss
        becomes the cross-entropy of picking the positive among itself and its
        negatives; the logistic loss averages over the negatives. Each negative
        costs one more run of the iterations. Three validated better than one
        on a Fashion-MNIST split, while the feed-forward net did not gain
        from them (:doc:`/benchmarks`).
    peer_normalization : float, default=0.0
        Strength of peer normalization, which pulls each unit's running mean
        activity toward the layer's mean (0 disables it; Hinton used 0.03).
    readout : {"goodness", "softmax", "both"}, default="goodness"
        How ``predict_proba`` scores the classes. ``"goodness"`` runs the
        iterations once per label (all labels in one batch) and takes a softmax
        over the goodness summed over the layers and averaged over
        ``goodness_window``, multiplied by ``symba_scale`` with the SymBa loss
        (by 1 with the logistic loss); ``"softmax"`` runs them once with the
        neutral label and applies a linear softmax head trained on the
        (detached) normalized states averaged over the window; ``"both"`` is
        their normalized geometric mean (the mean of the two
        log-probabilities, renormalized).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, ``{label: weight}``, multiplying the
        ``sample_weight`` of ``fit``: every loss of a mini-batch is the
        weighted mean of its rows' losses. ``"balanced"`` weighs each class
        by ``n_samples / (n_classes * count)``, with the (weighted) counts of
        ``y`` (not available in ``partial_fit``). None: every class weighs 1.
    alpha : float, default=0.0
        L2 penalty (weight decay) of every layer's optimizer.
    learning_rate_init : float, default=0.01
        Learning rate of each layer's Adam optimizer.
    learning_rate : {"constant", "linear"}, default="linear"
        Schedule: ``"linear"`` keeps the rate for the first half of ``max_iter``
        and then decays it linearly towards zero (Hinton's schedule).
    max_iter : int, default=40
        Number of epochs (passes over the data).
    batch_size : int, default=50
        Mini-batch size (clipped to the number of samples).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified), stop
        when its accuracy has not improved by ``tol`` for ``n_iter_no_change``
        epochs, and restore the best weights.
        The held-out rows also fit the readouts' temperatures
        (``temperatures_``).
    calibrate : bool or "auto", default="auto"
        As in :class:`FFClassifier` (the rule, and when the held-out rows
        make predictions differ from ``calibrate=False``'s, is in its
        ``calibrate``): temperatures fitted on held-out rows on large sets,
        on a cross-fitted network on smaller ones. They lower this
        network's log-loss as they do the feed-forward one's
        (:doc:`/benchmarks`).
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping or
        ``calibrate``.
    n_iter_no_change : int or "inf", default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum improvement of the validation accuracy that resets the patience.
    warm_start : bool, default=False
        Reuse the trained weights on the next call to ``fit`` (the optimizers
        restart). ``n_iterations``, ``damping``, ``goodness_window``,
        ``label_strength`` and ``normalize_input`` may change between calls;
        the layer sizes may not.
    device : str, default="auto"
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"mps"``. Resolved in ``fit``; an unavailable device
        raises ``ValueError``.
    precision : {"float32", "bf16"}, default="float32"
        ``"bf16"`` runs the layers under bfloat16 autocast (weights, optimizer
        state and losses stay float32). Meant for GPUs with bfloat16 units;
        on CPUs without bfloat16 instructions it is much slower.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling and the negative labels. With a
        fixed value, refits on the CPU with the same number of torch threads
        are bit-identical (another thread count can change the last bits).
    verbose : int, default=0
        Report per-layer losses (and validation accuracy) after every epoch:
        a progress bar in a terminal or notebook, one line per epoch with its
        time elsewhere (a log file, a pipe).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during ``fit``.
    input_scale_ : float
        Root mean square of the entries of the training rows of the fit (or
        first ``partial_fit``) that built the network.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when ``X`` has string column names.
    n_iter_ : int
        Epochs run by the last call to ``fit`` (by all calls to ``partial_fit``).
    loss_curve_ : list of list of float
        For every epoch, the mean loss of each layer, then of the softmax head.
    validation_scores_ : list of float or None
        Validation accuracy after each epoch, with ``early_stopping=True``.
    best_validation_score_ : float or None
        Best validation accuracy, with ``early_stopping=True``.
    temperatures_ : dict or None
        As in :class:`FFClassifier`: the temperature of the chosen
        ``readout`` (of all three when it is ``"both"``), fitted on rows
        the network did not train on (held out, or scored by the
        cross-fitted network). None when the last fit fitted none.
    core_ : skff.core.RecurrentFFNet
        The trained torch network (on the CPU after unpickling).
    device_ : str
        The device the model was trained on.

    See Also
    --------
    FFClassifier : Feed-forward Forward-Forward network (label in the input).
    sklearn.neural_network.MLPClassifier : A backprop-trained network.

    Notes
    -----
    The positive and negative runs of a mini-batch go through the network as
    one batch of ``(1 + n_negatives) * batch_size`` rows, and the goodness
    readout scores all labels of a sample in one batch. With the defaults an
    epoch costs about 6 times one of an :class:`FFClassifier` of the same width
    (about 3 to 4.5 times with ``n_negatives=1``), since every iteration up to
    the end of ``goodness_window`` runs every layer for every label.

    The defaults (two layers of 256 units, ``goodness_window=(2, 4)``,
    ``batch_size=50``, 40 epochs with a linear decay) were chosen by 3-fold
    cross-validation on the training part of scikit-learn's digits;
    ``n_negatives=3`` was chosen later on a Fashion-MNIST validation split.
    They reach the test accuracy of :class:`FFClassifier`'s defaults on the
    digits (:doc:`/benchmarks`).

    References
    ----------
    G. Hinton, "The Forward-Forward Algorithm: Some Preliminary Investigations",
    2022, arXiv:2212.13345 (section "Using a recurrent network").

    S. Lee and H. Song, "Symmetric Forward-Forward Algorithm (SymBa)", 2023,
    arXiv:2303.08418.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skff import FFRecurrentClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = FFRecurrentClassifier(hidden_size=64, max_iter=5, random_state=0)
    >>> clf.fit(X / 16, y).score(X / 16, y) > 0.8
    True
    >>> clf.goodness_trajectory(X[:3] / 16, y[:3]).shape
    (3, 9)
    """

    _parameter_constraints: dict = {
        **BaseFFClassifier._parameter_constraints,
        **LayerWidthsMixin._parameter_constraints,
        "n_iterations": [Interval(Integral, 1, None, closed="left")],
        "damping": [Interval(Real, 0, 1, closed="left")],
        "goodness_window": [tuple, list],
        "normalize_input": ["boolean"],
    }

    def __init__(
        self,
        n_layers=2,
        hidden_size=256,
        *,
        hidden_layer_sizes=None,
        n_iterations=8,
        damping=0.3,
        goodness_window=(2, 4),
        loss="symba",
        goodness="mean",
        threshold=2.0,
        symba_scale=4.0,
        label_strength=1.0,
        normalize_input=True,
        negatives="hard",
        n_negatives=3,
        peer_normalization=0.0,
        readout="goodness",
        class_weight=None,
        alpha=0.0,
        learning_rate_init=0.01,
        learning_rate="linear",
        max_iter=40,
        batch_size=50,
        early_stopping=False,
        calibrate="auto",
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
        self.n_iterations = n_iterations
        self.damping = damping
        self.goodness_window = goodness_window
        self.loss = loss
        self.goodness = goodness
        self.threshold = threshold
        self.symba_scale = symba_scale
        self.label_strength = label_strength
        self.normalize_input = normalize_input
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
        self.random_state = random_state
        self.verbose = verbose

    # -- the recurrence settings ---------------------------------------------------
    def _dynamics(self) -> Dynamics:
        """The iteration settings, from the parameters of the same names."""
        return Dynamics(
            n_iterations=self.n_iterations,
            damping=self.damping,
            goodness_window=self.goodness_window,
            normalize_input=self.normalize_input,
        )

    def _check_settings(self, n_features) -> None:
        self._dynamics()
        super()._check_settings(n_features)

    def _fit_data(self, X, y, *, warm, **kwargs):
        data = super()._fit_data(X, y, warm=warm, **kwargs)
        if not warm:
            data.fitted["input_scale_"] = data.source.root_mean_square()
        return data

    def _build_core(self, fitted: dict, seed: int) -> RecurrentFFNet:
        return RecurrentFFNet(
            fitted["n_features_in_"],
            len(fitted["classes_"]),
            self._layer_sizes(),
            objective=self._objective(),
            dynamics=self._dynamics(),
            input_scale=fitted["input_scale_"],
            seed=seed,
        )

    def _configure_core(self, core) -> None:
        super()._configure_core(core)
        core.set_dynamics(self._dynamics())

    def _pair_elements(self, core) -> int:
        # every candidate label of a row carries the states of all the layers
        return sum(core.hidden_sizes)

    # -- inspection ----------------------------------------------------------------
    def goodness_trajectory(
        self, X: ArrayLike, y: ArrayLike | None = None
    ) -> np.ndarray:
        """Goodness of the network at every iteration, for given labels.

        Runs the bottom-up pass and all ``n_iterations`` iterations with the
        label ``y[i]`` (or the neutral label) clamped at the top.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples,), default=None
            A label from ``classes_`` for every sample; ``None`` clamps the
            neutral label (``label_strength / n_classes`` everywhere).

        Returns
        -------
        trajectory : ndarray of shape (n_samples, n_iterations + 1)
            Goodness summed over the hidden layers at iterations
            ``0, 1, ..., n_iterations`` (column 0 is the bottom-up pass). With
            ``readout="goodness"``, the score of a label is the mean of the
            columns ``start..stop`` of ``goodness_window`` (times
            ``symba_scale`` with the SymBa loss).

        See Also
        --------
        predict_proba : Class probabilities from the window-averaged goodness.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_digits
        >>> from skff import FFRecurrentClassifier
        >>> X, y = load_digits(return_X_y=True)
        >>> clf = FFRecurrentClassifier(hidden_size=32, max_iter=2, random_state=0)
        >>> clf = clf.fit(X / 16, y)
        >>> traj = clf.goodness_trajectory(X[:2] / 16, y[:2])
        >>> traj.shape
        (2, 9)
        >>> start, stop = clf.goodness_window
        >>> scores = np.stack(
        ...     [
        ...         clf.goodness_trajectory(X[:5] / 16, np.full(5, c))[
        ...             :, start : stop + 1
        ...         ].mean(axis=1)
        ...         for c in clf.classes_
        ...     ],
        ...     axis=1,
        ... )
        >>> bool(np.all(clf.classes_[scores.argmax(axis=1)] == clf.predict(X[:5] / 16)))
        True
        """
        fitted = self._fitted_state("core_", "classes_")
        core = fitted["core_"]
        source = self._predict_source(X, fitted)
        device = next(core.parameters()).device
        if y is not None:
            y = np.asarray(y)
            if y.shape != (len(source),):
                raise ValueError(
                    f"y must have shape ({len(source)},), one label per sample; "
                    f"got {y.shape}."
                )
            y_enc = torch.as_tensor(self._encode_labels(y, fitted["classes_"]))
        rows = self._chunk_rows(sum(core.hidden_sizes))
        out = []
        with torch.inference_mode():
            for start in range(0, len(source), rows):
                idx = torch.arange(start, min(start + rows, len(source)))
                labels = None if y is None else y_enc[idx].to(device)
                traj = core.goodness_trajectory(source.take(idx), labels)
                out.append(traj.double().cpu().numpy())
        if not out:
            return np.zeros((0, core.dynamics.n_iterations + 1))
        return np.concatenate(out)
