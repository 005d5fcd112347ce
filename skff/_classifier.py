"""FFClassifier: a feed-forward Forward-Forward network as a scikit-learn classifier."""

from sklearn.utils._param_validation import StrOptions

from ._classifier_base import BaseFFClassifier
from ._mixins import DataScaledScheduleMixin, LayerWidthsMixin
from ._parallel import DistributedFitMixin
from .core import FFNet


class FFClassifier(
    DistributedFitMixin, DataScaledScheduleMixin, LayerWidthsMixin, BaseFFClassifier
):
    """Feed-forward network trained with the Forward-Forward algorithm.

    Every layer is trained on its own local objective: high goodness (mean or
    sum of squared activities) for *positive* data (an input with its true
    label) and low goodness for *negative* data (the same input with a wrong
    label). Each layer updates right after its own forward pass and passes only
    the direction of its activity vector (RMS-normalized, detached) to the next
    layer: no gradient ever crosses a layer.

    Parameters
    ----------
    n_layers : int, default=2
        Number of hidden layers (with ``hidden_layer_sizes=None``).
    hidden_size : int, default=500
        Width of each hidden layer (with ``hidden_layer_sizes=None``).
    hidden_layer_sizes : array-like of int, int or None, default=None
        Width of every hidden layer, e.g. ``(500, 200)``, as in
        :class:`~sklearn.neural_network.MLPClassifier` (an int is one layer).
        ``None`` builds ``n_layers`` layers of ``hidden_size`` units. When it
        is given it sets the layers, and ``n_layers`` and ``hidden_size``
        must stay at their defaults or agree with it (``n_layers ==
        len(hidden_layer_sizes)``, every width equal to ``hidden_size``);
        otherwise ``fit`` raises a ``ValueError``.
    loss : {"symba", "logistic"}, default="symba"
        Local loss. ``"logistic"`` is Hinton's ``sigmoid(goodness - threshold)``
        likelihood; ``"symba"`` the symmetric pairwise loss
        ``softplus(-symba_scale * (g_pos - g_neg))``, which compares each
        positive with its own negative and needs no threshold.
    goodness : {"mean", "sum"}, default="mean"
        Mean or sum of the squared activities of a layer.
    threshold : float, default=2.0
        Goodness threshold of the logistic loss.
    symba_scale : float, default=4.0
        Scale of the SymBa loss.
    label_injection : {"concat", "overlay"}, default="concat"
        ``"concat"`` appends a one-hot label to the features; ``"overlay"``
        writes it over the first ``n_classes`` features (Hinton's choice for
        images with a blank border).
    label_strength : float, default=5.0
        Value of the one-hot label entry; the neutral label used by the
        softmax readout is ``label_strength / n_classes`` for every class.
    negatives : {"hard", "uniform", "hardest"}, default="hard"
        How the wrong label of each negative example is chosen, afresh for every
        mini-batch: in proportion to the softmax head's probabilities of the
        wrong classes (``"hard"``, Hinton's recipe), uniformly among the other
        classes (``"uniform"``), or the most probable wrong class
        (``"hardest"``). The true label is never drawn.
    n_negatives : int, default=1
        Number of distinct wrong labels drawn for each positive example (at
        most ``n_classes - 1`` are used). With more than one, the SymBa loss
        becomes the cross-entropy of picking the positive among itself and its
        negatives; the logistic loss averages over the negatives. Each negative
        costs one more forward pass per layer.
    peer_normalization : float, default=0.0
        Strength of peer normalization, which pulls each unit's running mean
        activity toward the layer's mean (0 disables it; Hinton used 0.03).
    readout : {"goodness", "softmax", "both"}, default="both"
        How ``predict_proba`` scores the classes. ``"goodness"`` runs the net
        with every label and takes a softmax over the summed goodness;
        ``"softmax"`` runs it once with the neutral label through a linear
        softmax head trained on the (detached) normalized activities;
        ``"both"`` is their normalized geometric mean (the mean of the two
        log-probabilities, renormalized: the same predictions as their
        product, better calibrated) and costs about as much as
        ``"goodness"`` (the neutral pass is one more label). It validated best
        on Fashion-MNIST and digits (:doc:`/benchmarks`).
    readout_skip_first : bool, default=False
        Leave the first layer out of both readouts (Hinton's choice for deeper
        nets).
    shortcut : {None, "add"}, default=None
        ``"add"``: residual layers. From the second layer on, where a layer
        is as wide as its input, it passes on its RMS-normalized activities
        plus its own (detached) input, RMS-normalized again, instead of its
        normalized activities alone; no parameters, and each layer still
        trains on its own loss alone. Deeper residual nets were slightly
        more accurate than the default two layers on validation splits, at a
        multiple of the fit time (:doc:`/benchmarks`).
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
        Schedule: ``"linear"`` keeps the rate for the first half of the epochs
        and then decays it linearly towards zero (Hinton's schedule; it
        validated better than ``"constant"`` on Fashion-MNIST and digits).
    max_iter : int or None, default=None
        Number of epochs (passes over the data). None: a budget of 900,000
        training rows seen, ``ceil(900_000 / n_rows)`` epochs, at least 15
        and at most 60, and at most 30 from 2,500 training rows on (30 up
        to 30,000 rows, 15 from 60,000 on). With ``batch_size="auto"`` also
        at most as many steps as 60 epochs of batches of 100 rows: the
        batches of 50 from 51 to 2,499 rows train 30 to 40 epochs (30 on
        most sizes). Small data sets need many steps, large ones converge
        in fewer epochs; on validation splits of mid-size sets more than 30
        epochs gained little at twice the time, and fewer lost accuracy
        (:doc:`/benchmarks`). The epochs run are in ``n_iter_``.
    batch_size : int or "auto", default="auto"
        Mini-batch size (clipped to the number of samples). ``"auto"``:
        ``n_rows // 50`` within [50, 200], where ``n_rows`` are the rows
        that train (after any rows held out), so 50 rows up to 2,500
        training rows, 100 at 5,000 and 200 (as
        :class:`~sklearn.neural_network.MLPClassifier`) from 10,000 on.
        Small data sets need many small steps, large ones train as well
        with fewer, larger ones (:doc:`/benchmarks`).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified), stop
        when its accuracy has not improved by ``tol`` for ``n_iter_no_change``
        epochs, and restore the best weights.
        The held-out rows also fit the readouts' temperatures
        (``temperatures_``).
    calibrate : bool or "auto", default="auto"
        Fit the readouts' temperatures (``temperatures_``): one factor per
        readout that softens over-confident probabilities. The temperatures
        themselves never change a prediction, but holding rows out does:
        True holds out rows of the training data (stratified:
        ``validation_fraction`` of them, at most 2,000), trains the network
        on the other rows and fits the temperatures on the held-out ones
        after training, also without early stopping. ``"auto"``: the same
        from 10,000 training rows on, so the network trains on at most
        2,000 fewer rows and its predictions can differ from
        ``calibrate=False``'s, which trains on every row. From 200 to
        9,999 rows every row trains the network and the temperatures are
        *cross-fitted*: one more network, trained on a stratified half of
        the rows with the fit's settings and its batch size and epochs
        (half the fit's optimizer steps), scores the other half (about
        1.5 times the fit time); the returned network is then the one
        ``calibrate=False`` trains, with the same predictions. The
        temperatures' effect on the log-loss is on :doc:`/benchmarks`.
        Below 200 rows, on a warm refit (the half's network would stand
        for a fresh network, not the continued one), when a split can't
        give every class rows on both sides (a class of one row) and when
        the training half's rows of non-zero weight hold a single class
        (or the scored half's rows all weigh zero), ``"auto"`` fits no
        temperatures (``temperatures_`` is None; a warm refit of a large
        set holds rows out as usual); True then raises a
        ValueError where the held-out rows can't cover the classes. False:
        no temperatures, except from the rows early stopping holds out.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping or
        ``calibrate``.
    n_iter_no_change : int or "inf", default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum improvement of the validation accuracy that resets the patience.
    warm_start : bool, default=False
        Reuse the trained weights on the next call to ``fit`` (the optimizers
        restart).
    device : str, default="auto"
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"mps"``. Resolved in ``fit``; an unavailable device
        raises ``ValueError``.
    precision : {"float32", "bf16"}, default="float32"
        ``"bf16"`` runs the layers under bfloat16 autocast (weights, optimizer
        state and losses stay float32). Meant for GPUs with bfloat16 units;
        on CPUs without bfloat16 instructions it is much slower.
    parallel : {None, "pipeline", "data"}, default=None
        Spread one fit over ``n_workers`` processes (CPU cores, GPUs or
        machines) with ``torch.distributed``: ``"pipeline"`` places the
        layers on the workers, each training its own on the activities the
        one before passes on, all at once on different mini-batches;
        ``"data"`` trains the whole network on every worker, each on its
        share of every mini-batch, the gradients combined after each
        layer's step. Under ``torchrun`` the fit joins the launched process
        group; otherwise it starts the worker processes itself. None: one
        process. See :doc:`/distributed` for the training order and the
        speed-ups measured.
    n_workers : int or None, default=None
        Processes of a fit with ``parallel``: None is the launched group's
        size under ``torchrun``, else 2. Each local worker gets
        ``torch.get_num_threads() // n_workers`` threads.
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
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
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
        The temperature of the chosen ``readout`` (of ``"goodness"``,
        ``"softmax"`` and ``"both"`` when it is ``"both"``): the factor in
        (0, 1] on the readout's log-probabilities that minimizes their
        log-loss on rows the network did not train on, the held-out rows
        (``early_stopping=True``, or ``calibrate``) or, when
        ``calibrate="auto"`` cross-fits, the half of the training rows
        scored by the network trained on the other half. It softens the probabilities
        and never changes the predicted class (held-out rows, though, do
        not train the network: see ``calibrate``). With early stopping the
        held-out rows also chose the epoch kept, which pulls the
        temperature toward 1. None when the last fit fitted none
        (``calibrate=False`` without early stopping, ``partial_fit``, and
        the cases of ``calibrate="auto"`` above).
    core_ : skff.core.FFNet
        The trained torch network (on the CPU after unpickling).
    device_ : str
        The device the model was trained on.

    See Also
    --------
    FFRecurrentClassifier : Forward-Forward network with top-down recurrence.
    sklearn.neural_network.MLPClassifier : A backprop-trained network.

    References
    ----------
    G. Hinton, "The Forward-Forward Algorithm: Some Preliminary Investigations",
    2022, arXiv:2212.13345.

    S. Lee and H. Song, "Symmetric Forward-Forward Algorithm (SymBa)", 2023,
    arXiv:2303.08418.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skff import FFClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = FFClassifier(n_layers=2, hidden_size=100, max_iter=5, random_state=0)
    >>> clf.fit(X / 16, y).score(X / 16, y) > 0.8
    True
    """

    _parameter_constraints: dict = {
        **BaseFFClassifier._parameter_constraints,
        **LayerWidthsMixin._parameter_constraints,
        "label_injection": [StrOptions({"concat", "overlay"})],
        "readout_skip_first": ["boolean"],
        "shortcut": [StrOptions({"add"}), None],
        **DataScaledScheduleMixin._parameter_constraints,
        **DistributedFitMixin._parameter_constraints,
    }
    # max_iter=None and batch_size="auto": DataScaledScheduleMixin's rule
    # and constants as they are (documented above)

    _fixed_on_warm_start = (
        *LayerWidthsMixin._fixed_on_warm_start,
        "label_injection",
        "readout_skip_first",
        "shortcut",
    )

    def _n_blocks(self) -> int:
        return len(self._layer_sizes())

    def __init__(
        self,
        n_layers=2,
        hidden_size=500,
        *,
        hidden_layer_sizes=None,
        loss="symba",
        goodness="mean",
        threshold=2.0,
        symba_scale=4.0,
        label_injection="concat",
        label_strength=5.0,
        negatives="hard",
        n_negatives=1,
        peer_normalization=0.0,
        readout="both",
        readout_skip_first=False,
        shortcut=None,
        class_weight=None,
        alpha=0.0,
        learning_rate_init=0.01,
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
        self.n_layers = n_layers
        self.hidden_size = hidden_size
        self.hidden_layer_sizes = hidden_layer_sizes
        self.loss = loss
        self.goodness = goodness
        self.threshold = threshold
        self.symba_scale = symba_scale
        self.label_injection = label_injection
        self.label_strength = label_strength
        self.negatives = negatives
        self.n_negatives = n_negatives
        self.peer_normalization = peer_normalization
        self.readout = readout
        self.readout_skip_first = readout_skip_first
        self.shortcut = shortcut
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

    def _build_core(self, fitted: dict, seed: int) -> FFNet:
        return FFNet(
            fitted["n_features_in_"],
            len(fitted["classes_"]),
            self._layer_sizes(),
            label_injection=self.label_injection,
            readout_skip_first=self.readout_skip_first,
            shortcut=self.shortcut,
            objective=self._objective(),
            seed=seed,
        )
