"""FFLanguageModel: a character-level language model trained with Forward-Forward."""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np
from scipy.special import log_softmax
from sklearn.base import DensityMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseFF, resolve_device
from ._batching import ContextSource
from ._typing import Self, fit_context
from .core import FFNet

#: Stands for every character that was not seen in ``fit``.
UNKNOWN = "\ufffd"


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


class FFLanguageModel(DensityMixin, BaseFF):
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
        Number of hidden layers.
    hidden_size : int, default=500
        Width of each hidden layer.
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
        on The Devil's Dictionary (perplexity 6.84 vs 7.15) for 1.2x the fit
        time; 8 was about as good for twice the time, 16 worse.
    readout : {"softmax", "goodness", "both"}, default="softmax"
        How next-character probabilities are computed: one pass with a neutral
        candidate through a locally trained softmax head, a softmax over the
        goodness of every candidate (the context's part of layer 1 is computed
        once), or the normalized geometric mean of both (the most accurate and
        the lowest perplexity on The Devil's Dictionary, at the cost of one
        pass per candidate).
    alpha, learning_rate_init, learning_rate, max_iter, batch_size
        Optimization, as in :class:`FFClassifier`; the learning rate decays
        linearly over the second half of the epochs by default
        (``learning_rate="linear"``, which validated better than a constant
        rate on The Devil's Dictionary).
    early_stopping, validation_fraction, n_iter_no_change, tol
        Early stopping on the mean log-likelihood of a random held-out share of
        the predicted characters.
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
        "context_size": [Interval(Integral, 1, None, closed="left")],
        "lowercase": ["boolean"],
        "alphabet": [str, None],
        "loss": [StrOptions({"symba", "logistic"})],
        "goodness": [StrOptions({"mean", "sum"})],
        "threshold": [Interval(Real, None, None, closed="neither")],
        "symba_scale": [Interval(Real, 0, None, closed="neither")],
        "label_strength": [Interval(Real, 0, None, closed="neither")],
        "negatives": [StrOptions({"hard", "uniform", "hardest"})],
        "n_negatives": [Interval(Integral, 1, None, closed="left")],
        "peer_normalization": [Interval(Real, 0, None, closed="left")],
        "readout": [StrOptions({"goodness", "softmax", "both"})],
    }

    def __init__(
        self,
        context_size=10,
        n_layers=2,
        hidden_size=500,
        *,
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
        readout="softmax",
        alpha=0.0,
        learning_rate_init=0.003,
        learning_rate="linear",
        max_iter=10,
        batch_size=100,
        early_stopping=False,
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
    def _prepare(self, docs: list) -> list:
        return [d.lower() for d in docs] if self.lowercase else docs

    def _build_vocabulary(self, docs: list) -> None:
        chars = set().union(*map(set, docs))
        if self.alphabet is not None:
            chars &= set(self.alphabet)
        chars.discard(UNKNOWN)
        symbols = sorted(chars) + [UNKNOWN]
        self.vocabulary_ = {c: i for i, c in enumerate(symbols)}
        self.classes_ = np.array(symbols)

    def _encode(self, doc: str) -> np.ndarray:
        unk = self.vocabulary_[UNKNOWN]
        get = self.vocabulary_.get
        return np.fromiter((get(c, unk) for c in doc), dtype=np.int64, count=len(doc))

    def _windows(self, docs: list, *, min_length: int):
        """Concatenated ids and, per document, the positions to predict."""
        k = self.context_size
        ids, positions, offset = [], [], 0
        for i, doc in enumerate(docs):
            if len(doc) < min_length:
                raise ValueError(
                    f"Document {i} has {len(doc)} characters; FFLanguageModel with "
                    f"context_size={k} needs at least {min_length}."
                )
            enc = self._encode(doc)
            ids.append(enc)
            positions.append(np.arange(offset + k, offset + len(doc)))
            offset += len(doc)
        return np.concatenate(ids), positions

    # -- fitting -----------------------------------------------------------------------
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Iterable[str], y: object = None) -> Self:
        """Learn the vocabulary and train the model on the documents ``X``.

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
        docs = self._prepare(_check_documents(X))
        warm = self.warm_start and hasattr(self, "core_")
        if not warm:
            self._build_vocabulary(docs)
        ids, positions = self._windows(docs, min_length=self.context_size + 1)
        positions = np.concatenate(positions)
        device = resolve_device(self.device)
        self.device_ = str(device)
        n_tokens = len(self.classes_)
        if warm:
            self.core_.to(device)
            self.n_iter_ = 0
        else:
            self._seed = self._make_seed()
            self.core_ = FFNet(
                self.context_size * n_tokens,
                n_tokens,
                [self.hidden_size] * self.n_layers,
                label_strength=self.label_strength,
                goodness=self.goodness,
                loss=self.loss,
                threshold=self.threshold,
                alpha=self.symba_scale,
                peer_normalization=self.peer_normalization,
                seed=self._seed,
            ).to(device)
            self._reset_history()
        self._configure_training(self.core_, reset=True)
        validation = None
        if self.early_stopping:
            rng = check_random_state(self._seed)
            order = rng.permutation(len(positions))
            n_val = max(1, int(round(self.validation_fraction * len(positions))))
            if n_val >= len(positions):
                raise ValueError("Too few characters to hold out a validation set.")
            val_pos, positions = positions[order[:n_val]], positions[order[n_val:]]
            if self.validation_scores_ is None:
                self.validation_scores_ = []
            val = ContextSource(ids, val_pos, self.context_size, n_tokens, device)
            validation = (val, val.targets().numpy())
        source = ContextSource(ids, positions, self.context_size, n_tokens, device)
        self._run_epochs(
            self.core_, source, source.targets(), self.max_iter, validation=validation
        )
        return self

    def _validation_score(self, core, source, y_val) -> float:
        logp = self._log_proba_source(source)
        return float(logp[np.arange(len(y_val)), y_val].mean())

    # -- scoring -----------------------------------------------------------------------
    def _log_proba_source(self, source) -> np.ndarray:
        return self._map_rows(
            source, self._log_scores_batch, len(self.classes_) * self.hidden_size
        )

    def _source(self, ids, positions) -> ContextSource:
        return ContextSource(
            ids, positions, self.context_size, len(self.classes_), self._core_device()
        )

    def _char_log_likelihoods(self, X) -> list:
        """Per document, the log-probability of each predicted character."""
        check_is_fitted(self)
        docs = self._prepare(_check_documents(X))
        ids, positions = self._windows(docs, min_length=self.context_size + 1)
        flat = np.concatenate(positions)
        logp = self._log_proba_source(self._source(ids, flat))
        ll = logp[np.arange(len(flat)), ids[flat]]
        return np.split(ll, np.cumsum([len(p) for p in positions])[:-1])

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
    def _last_contexts(self, X):
        check_is_fitted(self)
        docs = self._prepare(_check_documents(X))
        k = self.context_size
        for i, doc in enumerate(docs):
            if len(doc) < k:
                raise ValueError(
                    f"String {i} has {len(doc)} characters; predicting the next "
                    f"character needs at least context_size={k}."
                )
        # each context followed by a placeholder slot for the character to predict
        ids = np.concatenate([np.append(self._encode(d[-k:]), 0) for d in docs])
        positions = np.arange(1, len(docs) + 1) * (k + 1) - 1
        return ids, positions

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
        ids, pos = self._last_contexts(X)
        return self._log_proba_source(self._source(ids, pos))

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
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_log_proba(X), axis=1)]

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
            Text of at least ``context_size`` characters to continue.
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
        check_is_fitted(self)
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a string, got {type(prompt).__name__}.")
        if not isinstance(n_chars, Integral) or n_chars < 0:
            raise ValueError(
                f"n_chars must be a non-negative integer, got {n_chars!r}."
            )
        if not isinstance(temperature, Real) or temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature!r}.")
        rng = check_random_state(random_state)
        text = self._prepare([prompt])[0]
        out = []
        for _ in range(n_chars):
            logp = self.predict_log_proba([text])[0]
            if temperature == 0:
                k = int(np.argmax(logp))
            else:
                p = np.exp(log_softmax(logp / temperature))
                k = int(rng.choice(len(p), p=p / p.sum()))
            out.append(self.classes_[k])
            text = text[-self.context_size :] + out[-1]
        return prompt + "".join(out)
