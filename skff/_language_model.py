"""FFLanguageModel: a character-level language model trained with Forward-Forward."""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np
from scipy.special import log_softmax
from sklearn.base import DensityMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ._base import BaseFF, FitData, HeldOut
from ._mixins import LabelledObjectiveMixin, LayerWidthsMixin
from ._readouts import ReadoutMixin
from ._sources import ContextSource
from ._typing import Self, fit_context
from .core import FFNet
from .exceptions import ModelFormatError
from .text import UNKNOWN, CharVocabulary


def _check_documents(X, name: str = "X") -> list:
    """A list of strings from an iterable of documents, or a clear error."""
    if isinstance(X, (str, bytes)):
        raise ValueError(
            f"Iterable over raw text documents expected, {type(X).__name__} object "
            "received. Wrap a single document in a list: [text]."
        )
    if X is None or not isinstance(X, Iterable):
        raise TypeError(
            f"{name} must be an iterable of strings (documents), got "
            f"{type(X).__name__}."
        )
    docs = list(X)
    for i, doc in enumerate(docs):
        if not isinstance(doc, str):
            raise TypeError(
                f"{name} must contain only strings; document {i} is a "
                f"{type(doc).__name__}: {doc!r:.40}"
            )
    if not docs:
        raise ValueError(f"{name} is empty: at least one document is required.")
    return docs


class FFLanguageModel(
    LayerWidthsMixin, ReadoutMixin, LabelledObjectiveMixin, DensityMixin, BaseFF
):
    """Character-level language model trained with the Forward-Forward algorithm.

    The model reads the previous ``context_size`` characters (one-hot, side by
    side) together with a *candidate* next character, as a Forward-Forward
    network whose label is the candidate. Positive data pairs a context with
    the character that really follows it; negative data with wrong ones
    (``n_negatives``, 4 by default) — the model's own favourite wrong
    characters (``negatives="hardest"``, the teacher forcing of Hinton's
    paper), ones drawn in proportion to its predicted probabilities
    (``"hard"``), or uniform ones. Every layer learns
    from its own local loss; no gradient crosses layers.

    ``X`` is an iterable of strings, as for scikit-learn's text vectorizers; a
    bare string is rejected. The first ``context_size`` characters of each
    document are context only: the model predicts every character after them.

    Parameters
    ----------
    context_size : int, default=10
        Number of preceding characters the model reads.
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
    lowercase : bool, default=False
        Lower-case the text before anything else.
    alphabet : str or None, default=None
        If given, only these characters form the vocabulary and every other
        character counts as unknown.
    loss, goodness, threshold, symba_scale, label_strength, peer_normalization
        The local objective, as in :class:`FFClassifier`.
    negatives : {"hard", "hardest", "uniform"}, default="hard"
        How the wrong next character of each negative example is chosen.
    n_negatives : int, default=4
        Number of distinct wrong characters drawn for each positive example (at
        most ``len(classes_) - 1`` are used). With more than one, the SymBa loss
        becomes the cross-entropy of picking the positive among itself and its
        negatives; the logistic loss averages over the negatives. Each negative
        costs one more forward pass per layer. Four validated better than one
        on The Devil's Dictionary for little extra fit time
        (:doc:`/benchmarks`).
    readout : {"softmax", "goodness", "both"}, default="both"
        How next-character probabilities are computed: one pass with a neutral
        candidate through a locally trained softmax head, a softmax over the
        goodness of every candidate (the context's part of layer 0 is computed
        once), or the normalized geometric mean of both (the default: the most
        accurate and the lowest perplexity on The Devil's Dictionary, at the
        cost of one pass per candidate; ``"softmax"``, one pass, is much
        the fastest; :doc:`/benchmarks`).
    alpha, learning_rate_init, learning_rate, max_iter, batch_size
        Optimization, as in :class:`FFClassifier`; the learning rate decays
        linearly over the second half of the epochs by default
        (``learning_rate="linear"``, which validated better than a constant
        rate on The Devil's Dictionary).
    early_stopping, validation_fraction, n_iter_no_change, tol
        Early stopping on the mean log-likelihood of a random held-out share of
        the predicted characters.
    calibrate : bool or "auto", default=False
        Hold out a random share of the predicted characters
        (``validation_fraction``, at most 2,000) to fit the readouts'
        temperatures also without early stopping, as in
        :class:`FFClassifier` (``"auto"``: from 10,000 training characters
        on; a shorter text fits no temperatures: the language model never
        cross-fits). The temperatures never change a prediction, but the
        held-out characters do not train the network. False by default: the
        ``"both"`` readout was as well calibrated without
        (:doc:`/benchmarks`).
    warm_start, device, precision, random_state, verbose
        As in :class:`FFClassifier`.

    Attributes
    ----------
    vocabulary_ : dict
        Character to index. Characters not in it map to ``UNKNOWN``
        (U+FFFD), which is itself a class.
    classes_ : ndarray of str
        The characters the model predicts, in index order (``UNKNOWN`` last).
    n_iter_ : int
        Epochs run by the last call to ``fit``.
    loss_curve_ : list of list of float
        Per-layer (then head) losses for each epoch.
    validation_scores_ : list of float or None
        Validation log-likelihood per character after each epoch, with
        ``early_stopping=True``.
    best_validation_score_ : float or None
        Best validation log-likelihood per character.
    temperatures_ : dict or None
        When characters were held out (``early_stopping=True``, or
        ``calibrate``), the temperature of the chosen
        ``readout`` (of ``"goodness"``, ``"softmax"`` and ``"both"`` when it
        is ``"both"``), fitted on the held-out rows after training: the
        factor in (0, 1] on the readout's log-probabilities that minimizes
        their log-loss there. It softens the probabilities and never changes
        the predicted class (the held-out characters, though, do not train
        the network). With early stopping the same rows chose the
        epoch kept, which pulls the temperature toward 1. None when the last
        fit held out no rows.
    core_ : skff.core.FFNet
        The trained torch network.
    device_ : str
        The device the model was trained on.

    See Also
    --------
    FFClassifier : The feed-forward classifier this model builds on.

    References
    ----------
    G. Hinton, "The Forward-Forward Algorithm: Some Preliminary Investigations",
    2022, arXiv:2212.13345 (section on sequence learning).

    Examples
    --------
    >>> from skff import FFLanguageModel
    >>> docs = ["the cat sat on the mat. " * 20, "the dog sat on the log. " * 20]
    >>> lm = FFLanguageModel(context_size=4, hidden_size=64, max_iter=5,
    ...                      random_state=0).fit(docs)
    >>> lm.predict(["the c"])[0] in lm.classes_
    True
    >>> lm.perplexity(docs) < len(lm.classes_)
    True
    """

    _parameter_constraints: dict = {
        **BaseFF._parameter_constraints,
        **LayerWidthsMixin._parameter_constraints,
        **LabelledObjectiveMixin._parameter_constraints,
        **ReadoutMixin._parameter_constraints,
        "context_size": [Interval(Integral, 1, None, closed="left")],
        "lowercase": ["boolean"],
        "alphabet": [str, None],
    }
    _fixed_on_warm_start = (
        *LayerWidthsMixin._fixed_on_warm_start,
        "context_size",
        "lowercase",
        "alphabet",
    )
    _required_fitted = ("classes_", "vocabulary_")

    def __init__(
        self,
        context_size=10,
        n_layers=2,
        hidden_size=500,
        *,
        hidden_layer_sizes=None,
        lowercase=False,
        alphabet=None,
        loss="symba",
        goodness="mean",
        threshold=2.0,
        symba_scale=4.0,
        label_strength=5.0,
        negatives="hard",
        n_negatives=4,
        peer_normalization=0.0,
        readout="both",
        alpha=0.0,
        learning_rate_init=0.003,
        learning_rate="linear",
        max_iter=10,
        batch_size=100,
        early_stopping=False,
        calibrate=False,
        validation_fraction=0.1,
        n_iter_no_change=3,
        tol=1e-4,
        warm_start=False,
        device="auto",
        precision="float32",
        random_state=None,
        verbose=0,
    ):
        self.context_size = context_size
        self.n_layers = n_layers
        self.hidden_size = hidden_size
        self.hidden_layer_sizes = hidden_layer_sizes
        self.lowercase = lowercase
        self.alphabet = alphabet
        self.loss = loss
        self.goodness = goodness
        self.threshold = threshold
        self.symba_scale = symba_scale
        self.label_strength = label_strength
        self.negatives = negatives
        self.n_negatives = n_negatives
        self.peer_normalization = peer_normalization
        self.readout = readout
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = False
        return tags

    # -- text to ids -------------------------------------------------------------------
    def _snapshot(self) -> dict:
        """The fitted network, classes and temperatures, read together (a
        refit in another thread publishes a new model meanwhile), with the
        context size of that network (not the parameter, which may have
        changed since) and its vocabulary."""
        state = self._fitted_state("core_", "classes_", "temperatures_")
        core = state["core_"]
        state["context"] = core.n_features // core.n_classes
        state["vocabulary"] = CharVocabulary(state["classes_"])
        state["device"] = next(core.parameters()).device
        return state

    def _prepare(self, docs: list) -> list:
        return [d.lower() for d in docs] if self.lowercase else docs

    def _windows(self, docs: list, vocabulary: CharVocabulary, k: int):
        """Concatenated ids and, per document, the positions to predict."""
        ids, positions, offset = [], [], 0
        for i, doc in enumerate(docs):
            if len(doc) <= k:
                raise ValueError(
                    f"Document {i} has {len(doc)} characters; FFLanguageModel with "
                    f"context_size={k} needs at least {k + 1}."
                )
            ids.append(vocabulary.encode(doc))
            positions.append(np.arange(offset + k, offset + len(doc)))
            offset += len(doc)
        return np.concatenate(ids), positions

    # -- fitting -----------------------------------------------------------------------
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Iterable[str], y: object = None) -> Self:
        """Learn the vocabulary and train the model on the documents ``X``.

        With ``warm_start=True`` and a fitted model, the vocabulary is kept
        and training continues; ``context_size``, ``n_layers``,
        ``hidden_size``, ``hidden_layer_sizes``, ``lowercase`` and
        ``alphabet`` may then not change.

        Parameters
        ----------
        X : iterable of str
            Training documents, each longer than ``context_size`` characters.
        y : None
            Ignored.

        Returns
        -------
        self : FFLanguageModel
            The fitted model.
        """
        return self._fit(X, y, incremental=False)

    def _fit_data(self, X, y, *, warm, classes, device, hold_out, seed) -> FitData:
        docs = self._prepare(_check_documents(X))
        fitted = {}
        if warm:
            vocabulary = CharVocabulary(self.classes_)
        else:
            vocabulary = CharVocabulary.from_documents(docs, alphabet=self.alphabet)
            fitted = {
                "vocabulary_": vocabulary.index(),
                "classes_": np.array(vocabulary.symbols),
            }
        k = self.context_size
        ids, positions = self._windows(docs, vocabulary, k)
        positions = np.concatenate(positions)
        held_out = None
        if hold_out and self._holds_out(len(positions)):
            order = check_random_state(seed).permutation(len(positions))
            n_val = max(1, self._n_held_out(len(positions), rounding=round))
            if n_val >= len(positions):
                raise ValueError("Too few characters to hold out a validation set.")
            val_pos, positions = positions[order[:n_val]], positions[order[n_val:]]
            val = ContextSource(ids, val_pos, k, len(vocabulary), device)
            held_out = HeldOut(val, val.targets().numpy())
        source = ContextSource(ids, positions, k, len(vocabulary), device)
        return FitData(
            source=source, targets=source.targets(), held_out=held_out, fitted=fitted
        )

    def _build_core(self, fitted: dict, seed: int) -> FFNet:
        n_tokens = len(fitted["classes_"])
        return FFNet(
            self.context_size * n_tokens,
            n_tokens,
            self._layer_sizes(),
            objective=self._objective(),
            seed=seed,
        )

    def _validation_score(self, core, held_out: HeldOut) -> float:
        """Mean log-likelihood of the held-out characters."""
        logp = self._log_proba(core, held_out.source)
        y_val = held_out.targets
        return float(logp[np.arange(len(y_val)), y_val].mean())

    def _check_loaded_core(self, core) -> None:
        super()._check_loaded_core(core)
        if core.n_features % core.n_classes or len(self.vocabulary_) != core.n_classes:
            raise ModelFormatError(
                f"The saved FFLanguageModel's vocabulary_ has {len(self.vocabulary_)} "
                f"characters but its network reads {core.n_features} inputs and "
                f"scores {core.n_classes} characters."
            )

    # -- scoring -----------------------------------------------------------------------
    def predict_log_proba_sequence(self, X: Iterable[str]) -> list:
        """Log-probabilities of every predicted character of each document.

        Each character after the first ``context_size`` is predicted from the
        ``context_size`` characters before it.

        Parameters
        ----------
        X : iterable of str
            Documents, each longer than ``context_size`` characters.

        Returns
        -------
        log_proba : list of ndarray of shape (len(doc) - context_size, n_classes)
            One array per document; row ``i`` is the distribution of the
            character at position ``context_size + i``, columns in the order
            of ``classes_``.
        """
        return self._sequence_log_proba(self._snapshot(), X)[1]

    def _sequence_log_proba(self, state: dict, X) -> tuple:
        """The prepared documents of ``X`` and the log-probabilities of
        their predicted characters under the fitted ``state``."""
        docs = self._prepare(_check_documents(X))
        vocabulary, k = state["vocabulary"], state["context"]
        ids, positions = self._windows(docs, vocabulary, k)
        source = ContextSource(
            ids, np.concatenate(positions), k, len(vocabulary), state["device"]
        )
        logp = self._log_proba(state["core_"], source, state["temperatures_"])
        return docs, np.split(logp, np.cumsum([len(p) for p in positions])[:-1])

    def _char_log_likelihoods(self, X) -> list:
        """Per document, the log-probability of each predicted character."""
        state = self._snapshot()
        docs, logps = self._sequence_log_proba(state, X)
        vocabulary, k = state["vocabulary"], state["context"]
        out = []
        for doc, logp in zip(docs, logps, strict=True):
            targets = vocabulary.encode(doc)[k:]
            out.append(logp[np.arange(len(targets)), targets])
        return out

    def score_samples(self, X: Iterable[str]) -> np.ndarray:
        """Mean log-likelihood per character of each document (in nats).

        Each character after the first ``context_size`` is predicted from the
        ``context_size`` characters before it.

        Parameters
        ----------
        X : iterable of str
            Documents, each longer than ``context_size`` characters.

        Returns
        -------
        scores : ndarray of shape (n_documents,)
            Mean log-probability of the document's predicted characters.
        """
        return np.array([ll.mean() for ll in self._char_log_likelihoods(X)])

    def score(self, X: Iterable[str], y: object = None) -> float:
        """Mean log-likelihood per character over all documents (higher is better).

        Parameters
        ----------
        X : iterable of str
            Documents, each longer than ``context_size`` characters.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Mean log-probability (nats) of every predicted character in ``X``.
        """
        return float(np.concatenate(self._char_log_likelihoods(X)).mean())

    def perplexity(self, X: Iterable[str]) -> float:
        """Per-character perplexity, ``exp(-score(X))``.

        Parameters
        ----------
        X : iterable of str
            Documents, each longer than ``context_size`` characters.

        Returns
        -------
        perplexity : float
            1 for a perfect model; ``len(classes_)`` for a uniform guess.
        """
        return float(np.exp(-self.score(X)))

    # -- next character ----------------------------------------------------------------
    def _next_log_proba(self, state: dict, X) -> np.ndarray:
        """Log-probabilities of the character after each string of ``X``
        under the fitted ``state``."""
        docs = self._prepare(_check_documents(X))
        k = state["context"]
        for i, doc in enumerate(docs):
            if len(doc) < k:
                raise ValueError(
                    f"String {i} has {len(doc)} characters; predicting the next "
                    f"character needs at least context_size={k}."
                )
        # each context followed by a placeholder slot for the character to predict
        encode = state["vocabulary"].encode
        ids = np.concatenate([np.append(encode(d[-k:]), 0) for d in docs])
        positions = np.arange(1, len(docs) + 1) * (k + 1) - 1
        source = ContextSource(
            ids, positions, k, len(state["classes_"]), state["device"]
        )
        return self._log_proba(state["core_"], source, state["temperatures_"])

    def predict_log_proba(self, X: Iterable[str]) -> np.ndarray:
        """Log-probabilities of the character that follows each string.

        Parameters
        ----------
        X : iterable of str
            Prompts of at least ``context_size`` characters; the last
            ``context_size`` characters are read.

        Returns
        -------
        log_proba : ndarray of shape (n_strings, n_classes)
            Columns in the order of ``classes_``.
        """
        return self._next_log_proba(self._snapshot(), X)

    def predict_proba(self, X: Iterable[str]) -> np.ndarray:
        """Distribution of the character that follows each string.

        Parameters
        ----------
        X : iterable of str
            Prompts of at least ``context_size`` characters.

        Returns
        -------
        proba : ndarray of shape (n_strings, n_classes)
            Rows sum to 1; columns in the order of ``classes_``.
        """
        return np.exp(self.predict_log_proba(X))

    def predict(self, X: Iterable[str]) -> np.ndarray:
        """The most likely character after each string.

        Parameters
        ----------
        X : iterable of str
            Prompts of at least ``context_size`` characters.

        Returns
        -------
        chars : ndarray of str of shape (n_strings,)
            One character per prompt.
        """
        state = self._snapshot()
        logp = self._next_log_proba(state, X)
        return state["classes_"][np.argmax(logp, axis=1)]

    def generate(
        self,
        prompt: str,
        n_chars: int = 100,
        temperature: float = 1.0,
        random_state: int | np.random.RandomState | None = None,
    ) -> str:
        """Continue ``prompt`` by sampling ``n_chars`` characters.

        Parameters
        ----------
        prompt : str
            Text to continue; its last ``context_size`` characters are read.
            A shorter prompt (even an empty one) is padded on the left with
            ``UNKNOWN``.
        n_chars : int, default=100
            Number of characters to generate.
        temperature : float, default=1.0
            Divides the log-probabilities before sampling; 0 picks the most
            likely character each time.
        random_state : int, RandomState instance or None, default=None
            Seeds the sampling.

        Returns
        -------
        text : str
            ``prompt`` followed by the generated characters.
        """
        state = self._snapshot()
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a string, got {type(prompt).__name__}.")
        if (
            isinstance(n_chars, bool)
            or not isinstance(n_chars, Integral)
            or n_chars < 0
        ):
            raise ValueError(
                f"n_chars must be a non-negative integer, got {n_chars!r}."
            )
        if (
            isinstance(temperature, bool)
            or not isinstance(temperature, Real)
            or not np.isfinite(temperature)
            or temperature < 0
        ):
            raise ValueError(
                f"temperature must be a finite number >= 0, got {temperature!r}."
            )
        rng = check_random_state(random_state)
        k = state["context"]
        # a prompt shorter than the context is padded on the left with the
        # unknown character, which stands for anything outside the vocabulary
        text = self._prepare([prompt])[0].rjust(k, UNKNOWN)
        out = []
        for _ in range(n_chars):
            logp = self._next_log_proba(state, [text[-k:]])[0]
            if temperature == 0:
                i = int(np.argmax(logp))
            else:
                # shifted so that the best character has 0: any temperature
                # > 0, however small, gives finite probabilities
                with np.errstate(over="ignore"):  # -inf: never drawn
                    p = np.exp(log_softmax((logp - logp.max()) / temperature))
                i = int(rng.choice(len(p), p=p / p.sum()))
            out.append(state["classes_"][i])
            text = text[-k:] + out[-1]
        return prompt + "".join(out)
