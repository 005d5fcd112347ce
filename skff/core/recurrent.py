"""The recurrent Forward-Forward network: a static input treated as a video, with
bottom-up and top-down connections between the hidden layers and the label
clamped at the top."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from numbers import Integral, Real

import torch
import torch.nn.functional as F
from torch import nn

from .functional import goodness, rms_normalize, take_rows
from .layers import LinearHead, RecurrentFFLayer
from .local_training import LocalTrainingCore
from .objective import Objective


@dataclass(frozen=True)
class Dynamics:
    """How the recurrent net iterates (validated, immutable).

    Parameters
    ----------
    n_iterations : int
        Synchronous iterations after the bottom-up pass.
    damping : float
        Weight of the old state in each update (0 <= damping < 1).
    goodness_window : (int, int)
        First and last iteration (inclusive; 0 is the bottom-up pass) whose
        goodness enters the losses and the readouts.
    normalize_input : bool
        RMS-normalize each input row, like the states passed between layers
        (Hinton's code does it); otherwise the input enters as it is.
    """

    n_iterations: int = 8
    damping: float = 0.3
    goodness_window: tuple = (2, 4)
    normalize_input: bool = True

    def __post_init__(self):
        put = object.__setattr__
        n = self.n_iterations
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
            raise ValueError(f"n_iterations must be an integer >= 1, got {n!r}")
        put(self, "n_iterations", int(n))
        damping = self.damping
        if isinstance(damping, bool) or not isinstance(damping, Real):
            raise ValueError(f"damping must be a number in [0, 1), got {damping!r}")
        if not 0.0 <= damping < 1.0:
            raise ValueError(f"damping must be in [0, 1), got {damping!r}")
        put(self, "damping", float(damping))
        w = self.goodness_window
        try:
            start, stop = w
            ok = all(isinstance(t, Integral) and not isinstance(t, bool) for t in w)
        except (TypeError, ValueError):
            ok = False
        if not ok or not 0 <= start <= stop <= self.n_iterations:
            raise ValueError(
                "goodness_window must be a pair (start, stop) of integers with "
                f"0 <= start <= stop <= n_iterations={self.n_iterations}; got {w!r}."
            )
        put(self, "goodness_window", (int(start), int(stop)))
        put(self, "normalize_input", bool(self.normalize_input))

    @classmethod
    def coerce(cls, value: Dynamics | dict | None) -> Dynamics:
        """A :class:`Dynamics` from itself, a dict of its fields, or None."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            return cls(**value)
        raise TypeError(f"expected Dynamics or a dict, got {type(value).__name__}")

    def as_dict(self) -> dict:
        """Plain Python values (for saving)."""
        d = asdict(self)
        d["goodness_window"] = list(self.goodness_window)
        return d


class RecurrentFFNet(LocalTrainingCore):
    """Forward-Forward network with top-down recurrence (Hinton, 2022, §5).

    The input is a static image treated as a video. The hidden layers
    ``0..L-1`` sit between the input (below layer 0) and a one-hot label layer
    (above layer ``L-1``, value ``label_strength`` at the label). At time ``t``
    each hidden layer computes

    ``ReLU(W_up · below(t-1) + W_down · above(t-1) + b)``

    from the RMS-normalized activities of its neighbours at ``t - 1`` (the
    input, RMS-normalized too unless ``normalize_input=False``, and the label
    are clamped), and its new state is
    ``damping * old + (1 - damping) * computed``. Time 0 is a single
    bottom-up pass without top-down input; iterations ``1..n_iterations``
    update all layers synchronously.

    Goodness is taken from the (damped) states at the iterations
    ``goodness_window = (start, stop)``, both inclusive. Each layer's local
    loss pools its goodness over that window; its inputs are detached, so no
    gradient crosses layers or time steps. Iterations after ``stop`` cannot
    change anything in the window, so training and scoring stop there; only
    :meth:`goodness_trajectory` runs all ``n_iterations``.

    Parameters
    ----------
    n_features, n_classes : int
        Input width and number of labels.
    hidden_sizes : sequence of int
        Width of each hidden layer.
    objective : Objective or dict, optional
        The local objective (``label_strength`` is the value of the one-hot
        label entry at the top); replace it with :meth:`set_objective`.
    dynamics : Dynamics or dict, optional
        Iterations, damping, goodness window and input normalization; replace
        them with :meth:`set_dynamics`.
    input_scale : float or None
        Root mean square of the training inputs (the estimator fits it). When
        set, the first layer reads one more input, ``log(rms(x) /
        input_scale)`` (0 with ``normalize_input=False``): the length of a row,
        which the normalization removes, still reaches the net. ``None``
        (networks saved by skff 0.1.0) builds the earlier net's layers,
        without that input, to load their saved weights (its initial weights
        are drawn as the current net's).
    seed : int
        Seed of the initial weights.
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        hidden_sizes=(500, 500),
        *,
        objective: Objective | dict | None = None,
        dynamics: Dynamics | dict | None = None,
        input_scale: float | None = None,
        seed: int = 0,
    ):
        super().__init__(objective)
        if len(hidden_sizes) < 1:
            raise ValueError("RecurrentFFNet needs at least one hidden layer")
        self.dynamics = Dynamics.coerce(dynamics)
        self.n_features = int(n_features)
        self.n_classes = int(n_classes)
        self.hidden_sizes = [int(h) for h in hidden_sizes]
        self.seed = int(seed)
        if input_scale is not None and not (
            math.isfinite(float(input_scale)) and float(input_scale) > 0
        ):
            raise ValueError(f"input_scale must be > 0, got {input_scale!r}")
        self.input_scale = None if input_scale is None else float(input_scale)

        gen = torch.Generator().manual_seed(self.seed)
        length_input = self.input_scale is not None
        below = [self.n_features + length_input, *self.hidden_sizes[:-1]]
        above = [*self.hidden_sizes[1:], self.n_classes]
        self.layers = nn.ModuleList(
            RecurrentFFLayer(b, h, a, gen)
            for b, h, a in zip(below, self.hidden_sizes, above, strict=True)
        )
        self.head = LinearHead(sum(self.hidden_sizes), n_classes)
        self._register_peer_means(self.hidden_sizes)

    def set_dynamics(self, dynamics: Dynamics | dict) -> None:
        """Replace the iteration settings as a whole (validated)."""
        self.dynamics = Dynamics.coerce(dynamics)

    def get_config(self) -> dict:
        """Keyword arguments that rebuild this core (with its current objective
        and dynamics)."""
        return dict(
            n_features=self.n_features,
            n_classes=self.n_classes,
            hidden_sizes=list(self.hidden_sizes),
            seed=self.seed,
            input_scale=self.input_scale,
            dynamics=self.dynamics.as_dict(),
            **super().get_config(),
        )

    # -- the dynamics ----------------------------------------------------------------
    def _input_part(self, x: torch.Tensor) -> torch.Tensor:
        """The clamped bottom-up input of the first layer, ``W_up x + b``: with
        ``normalize_input``, ``x`` RMS-normalized and (given an
        ``input_scale``) the log of its RMS relative to it appended."""
        normalize = self.dynamics.normalize_input
        if self.input_scale is None:  # the earlier net
            return self.layers[0].bottom_up(rms_normalize(x) if normalize else x)
        if normalize:
            rms = torch.sqrt(x.float().pow(2).mean(dim=-1, keepdim=True) + 1e-8)
            length = torch.log(rms / self.input_scale)
            x = torch.cat([x / rms.to(x.dtype), length.to(x.dtype)], dim=1)
        else:
            x = F.pad(x, (0, 1))
        return self.layers[0].bottom_up(x)

    def _label_top(self, labels: torch.Tensor) -> torch.Tensor:
        """Top-down input of the top layer for each row's one-hot label."""
        return self.objective.label_strength * take_rows(
            self.layers[-1].weight_down.t(), labels
        )

    def _neutral_top(self) -> torch.Tensor:
        """Top-down input of the top layer for the neutral label."""
        return self.objective.label_strength * self.layers[-1].weight_down.mean(dim=1)

    def _bottom_up_pass(self, x_in: torch.Tensor) -> list:
        """States at time 0: one bottom-up pass, no top-down input. ``x_in`` is
        the first layer's input part ``W_up x + b``."""
        states = [F.relu(x_in)]
        for layer in self.layers[1:]:
            states.append(F.relu(layer.bottom_up(rms_normalize(states[-1].detach()))))
        return states

    def _iterate(self, x_in: torch.Tensor, top: torch.Tensor, states: list) -> list:
        """One synchronous update of every layer from the (detached) states at
        ``t - 1``; ``x_in`` and ``top`` are the clamped input and label parts."""
        normed = [rms_normalize(h.detach()) for h in states]
        last = len(self.layers) - 1
        new = []
        for i, layer in enumerate(self.layers):
            pre = x_in if i == 0 else layer.bottom_up(normed[i - 1])
            pre = pre + (top if i == last else layer.top_down(normed[i + 1]))
            h = F.relu(pre)
            if self.dynamics.damping > 0:
                h = torch.lerp(h, states[i].detach().to(h.dtype), self.dynamics.damping)
            new.append(h)
        return new

    def _run(self, x_in, top, states, n_steps: int, keep) -> list:
        """Iterate ``n_steps`` times from ``states`` (time 0); ``keep(t, states)``
        sees the states of every time ``t`` from 0. Gradients are recorded only
        at the times inside the goodness window (and only when enabled)."""
        start, _ = self.dynamics.goodness_window
        keep(0, states)
        for t in range(1, n_steps + 1):
            with torch.set_grad_enabled(torch.is_grad_enabled() and t >= start):
                states = self._iterate(x_in, top, states)
            keep(t, states)
        return states

    def _window_goodness(self, x_in, top, states) -> torch.Tensor:
        """Goodness summed over the layers, averaged over the window."""
        start, stop = self.dynamics.goodness_window
        total = torch.zeros(x_in.shape[0], device=x_in.device)  # float32

        def keep(t, hs):
            if t >= start:
                for h in hs:
                    total.add_(goodness(h, self.objective.goodness))

        self._run(x_in, top, states, stop, keep)
        return total / (stop - start + 1)

    def _window_features(self, x_in, top, states) -> torch.Tensor:
        """Normalized states averaged over the window, layers concatenated: the
        input of the softmax head."""
        start, stop = self.dynamics.goodness_window
        acc = [None] * len(self.layers)

        def keep(t, hs):
            if t >= start:
                for i, h in enumerate(hs):
                    hn = rms_normalize(h)
                    acc[i] = hn if acc[i] is None else acc[i] + hn

        self._run(x_in, top, states, stop, keep)
        return torch.cat(acc, dim=1) / (stop - start + 1)

    # -- readouts ------------------------------------------------------------------
    def _label_free(self, x: torch.Tensor) -> tuple:
        """What every readout shares: the input part and the bottom-up states."""
        x_in = self._input_part(x)
        return x_in, self._bottom_up_pass(x_in)

    def head_logits(self, x: torch.Tensor, label_free=None) -> torch.Tensor:
        """One-pass readout: the softmax head on the window-averaged normalized
        states under the neutral label (``label_free``: the input part and the
        bottom-up states, when already computed)."""
        x_in, states = self._label_free(x) if label_free is None else label_free
        return self.head(self._window_features(x_in, self._neutral_top(), states))

    def label_logits(
        self, x: torch.Tensor, n_valid=None, max_rows=None, label_free=None
    ) -> torch.Tensor:
        """Per-label readout, shape (n, n_classes): the goodness summed over the
        layers and averaged over the window, with every label clamped in turn,
        times ``symba_scale`` for the SymBa loss. The label-free parts (input
        part, bottom-up pass) are computed once per row; only the first
        ``n_valid`` rows are scored (the rest are padding), at most
        ``max_rows`` (row, label) pairs at a time. ``label_free``: the input
        part and the bottom-up states, when already computed."""
        x_in, states = self._label_free(x) if label_free is None else label_free
        tops = self._label_top(torch.arange(self.n_classes, device=x.device))

        def score(rows, labels):
            return self._window_goodness(
                x_in[rows], tops[labels], [h[rows] for h in states]
            )

        scores = self._score_pairs(x.shape[0], n_valid, score, max_rows)
        return self.objective.logit_scale * scores

    def readout_logits(
        self, x: torch.Tensor, n_valid=None, max_rows=None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(label_logits(x), head_logits(x))``, the label-free parts (input
        part, bottom-up pass) computed once for both."""
        shared = self._label_free(x)
        return (
            self.label_logits(x, n_valid, max_rows, label_free=shared),
            self.head_logits(x, label_free=shared),
        )

    def goodness_trajectory(self, x: torch.Tensor, labels=None) -> torch.Tensor:
        """Goodness summed over the layers at every time ``0..n_iterations``,
        shape (n, n_iterations + 1), with ``labels`` (int64, one per row) or the
        neutral label (``None``) clamped at the top."""
        x_in, states = self._label_free(x)
        top = self._neutral_top() if labels is None else self._label_top(labels)
        out = []

        def keep(t, hs):
            out.append(sum(goodness(h, self.objective.goodness) for h in hs))

        self._run(x_in, top, states, self.dynamics.n_iterations, keep)
        return torch.stack(out, dim=1)

    # -- training ------------------------------------------------------------------
    def train_step(
        self, x: torch.Tensor, y: torch.Tensor, generator=None, weight=None
    ) -> torch.Tensor:
        """One mini-batch of recurrent Forward-Forward training.

        A neutral-label run (no gradient) trains the softmax head and gives the
        class probabilities that hard negatives are drawn from. Then the
        positives (true label) and negatives (``n_negatives`` wrong labels
        each) run as one batch of ``(1 + n_negatives) n`` rows; each layer
        pools its loss over the goodness window and takes one optimizer step on
        it. ``weight`` (one float per row, optional) makes every loss a
        weighted mean over the rows; a row's negatives, and its states at every
        step of the window, carry its weight.

        Returns the losses of each layer and of the head (1-D tensor).
        """
        n = x.shape[0]
        start, stop = self.dynamics.goodness_window
        x_in = self._input_part(x)
        with torch.set_grad_enabled(torch.is_grad_enabled() and start == 0):
            states = self._bottom_up_pass(x_in)
        with torch.no_grad():
            feats = self._window_features(
                x_in.detach(), self._neutral_top(), [h.detach() for h in states]
            )
        head_loss, probs = self.update_head(feats, y, weight)
        y_neg = self.negative_labels(y, self.n_classes, probs, generator)

        window = [[] for _ in self.layers]

        def keep(t, hs):
            if t >= start:
                for i, h in enumerate(hs):
                    window[i].append(h)

        reps = 1 + y_neg.shape[0] // n
        self._run(
            x_in.repeat(reps, 1),
            self._label_top(torch.cat([y, y_neg])),
            [h.repeat(reps, 1) for h in states],
            stop,
            keep,
        )
        losses = []
        for i, hs in enumerate(window):
            # positives of every window step first, then each block of
            # negatives over the steps in the same order, so that row r of the
            # positives pairs with row r of every negative block (the SymBa
            # loss compares them pairwise)
            blocks = [[h[j * n : (j + 1) * n] for h in hs] for j in range(reps)]
            h = torch.cat([b for block in blocks for b in block])
            w = None if weight is None else weight.repeat(len(hs))
            loss = self.layer_loss(i, h, n * len(hs), w)
            self.update_layer(i, loss)
            losses.append(loss.detach())
        losses.append(head_loss)
        return torch.stack(losses)
