"""The feed-forward Forward-Forward network (label in the input)."""

import torch
import torch.nn.functional as F
from torch import nn

from .functional import goodness, rms_normalize, split_columns, take_rows
from .layers import FFLinear, LinearHead
from .local_training import LocalTrainingCore
from .objective import Objective

LABEL_INJECTIONS = ("concat", "overlay")


class FFNet(LocalTrainingCore):
    """A stack of ReLU layers trained with Forward-Forward.

    The label enters the first layer: ``concat`` appends a one-hot vector to the
    features, ``overlay`` writes it over the first ``n_classes`` features
    (Hinton's choice for MNIST, whose border pixels are blank). Either way the
    first layer's pre-activation is ``W_x x + b + s * W_y[:, label]``, so the
    input part ``W_x x + b`` is computed once and each label only adds a column:
    scoring every label costs one first-layer matmul, not ``n_classes``.

    Each layer's output is RMS-normalized before the next layer, and every layer
    minimizes its own loss on its own detached input.

    Parameters
    ----------
    n_features, n_classes : int
        Input width and number of labels.
    hidden_sizes : sequence of int
        Width of each layer.
    label_injection : {"concat", "overlay"}
    readout_skip_first : bool
        Leave the first layer out of the goodness and softmax readouts.
    shortcut : {None, "add"}
        ``"add"``: residual layers. From the second layer on, where a layer
        is as wide as its input, it passes on ``rms(rms(h) + input)`` (its
        normalized activities plus its own detached input, normalized
        again) instead of ``rms(h)``; no parameters, and each layer still
        trains on its own loss alone.
    objective : Objective or dict, optional
        The local objective (see :class:`~skff.core.Objective`); replace it
        with :meth:`set_objective`.
    seed : int
        Seed of the initial weights.
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        hidden_sizes=(500, 500),
        *,
        label_injection: str = "concat",
        readout_skip_first: bool = False,
        shortcut: str | None = None,
        objective: Objective | dict | None = None,
        seed: int = 0,
    ):
        super().__init__(objective)
        if shortcut not in (None, "add"):
            raise ValueError(f"unknown shortcut {shortcut!r}; expected None or 'add'")
        if label_injection not in LABEL_INJECTIONS:
            raise ValueError(f"unknown label_injection {label_injection!r}")
        if label_injection == "overlay" and n_features < n_classes:
            raise ValueError(
                f"label_injection='overlay' writes the label over the first "
                f"n_classes={n_classes} features, but X has only {n_features}."
            )
        if len(hidden_sizes) < 1 or (readout_skip_first and len(hidden_sizes) < 2):
            raise ValueError("readout_skip_first needs at least two layers")
        self.n_features = int(n_features)
        self.n_classes = int(n_classes)
        self.hidden_sizes = [int(h) for h in hidden_sizes]
        self.label_injection = label_injection
        self.readout_skip_first = bool(readout_skip_first)
        self.shortcut = shortcut
        self.seed = int(seed)
        self.first_readout = 1 if readout_skip_first else 0

        gen = torch.Generator().manual_seed(self.seed)
        n_in = n_features + n_classes if label_injection == "concat" else n_features
        sizes = [n_in, *self.hidden_sizes]
        self.layers = nn.ModuleList(
            FFLinear(sizes[i], sizes[i + 1], gen) for i in range(len(hidden_sizes))
        )
        self.head = LinearHead(sum(self.hidden_sizes[self.first_readout :]), n_classes)
        self._register_peer_means(self.hidden_sizes)

    def get_config(self) -> dict:
        """Keyword arguments that rebuild this core, with its current objective."""
        return dict(
            n_features=self.n_features,
            n_classes=self.n_classes,
            hidden_sizes=list(self.hidden_sizes),
            label_injection=self.label_injection,
            readout_skip_first=self.readout_skip_first,
            shortcut=self.shortcut,
            seed=self.seed,
            **super().get_config(),
        )

    # -- first layer: input part once, label part per label ---------------------
    def _first_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Layer 0's weight split into its input columns and its label
        columns (one gradient buffer for both when training)."""
        w = self.layers[0].weight
        if self.label_injection == "concat":
            return split_columns(w, self.n_features)
        cols, inputs = split_columns(w, self.n_classes)
        return inputs, cols

    def _input_part(self, x: torch.Tensor, weights=None) -> torch.Tensor:
        """Layer 0's pre-activation without the label (``weights``: the pair
        of :meth:`_first_weights`, when already split)."""
        w_in = (self._first_weights() if weights is None else weights)[0]
        if self.label_injection == "overlay":
            x = x[:, self.n_classes :]
        return F.linear(x, w_in, self.layers[0].bias)

    def _label_columns(self, weights=None) -> torch.Tensor:
        """(n_classes, width) contribution of each one-hot label to layer 0."""
        cols = (self._first_weights() if weights is None else weights)[1]
        return self.objective.label_strength * cols.t()

    def _neutral_column(self) -> torch.Tensor:
        return self._label_columns().mean(dim=0)

    def _passed_on(self, i: int, h: torch.Tensor, inp) -> torch.Tensor:
        """What layer ``i`` with activities ``h`` and input ``inp`` passes to
        the next layer: ``rms(h)``, or with ``shortcut="add"`` (from the
        second layer on, where the widths match) ``rms(rms(h) + inp)``."""
        out = rms_normalize(h)
        if self.shortcut == "add" and i > 0 and inp.shape[1] == out.shape[1]:
            out = rms_normalize(out + inp)
        return out

    def _propagate(self, h: torch.Tensor) -> list:
        """Activities of every layer, given the first layer's activities."""
        out, inp = [h], None
        for i, layer in enumerate(self.layers):
            if i > 0:
                h = layer(inp)
                out.append(h)
            if i + 1 < len(self.layers):
                inp = self._passed_on(i, h, inp)
        return out

    def neutral_features(self, x: torch.Tensor, input_part=None) -> torch.Tensor:
        """Normalized activities of the readout layers under the neutral label,
        concatenated: the input of the softmax head."""
        if input_part is None:
            input_part = self._input_part(x)
        hs = self._propagate(F.relu(input_part + self._neutral_column()))
        return torch.cat([rms_normalize(h) for h in hs[self.first_readout :]], dim=1)

    # -- readouts ------------------------------------------------------------------
    def head_logits(self, x: torch.Tensor, input_part=None) -> torch.Tensor:
        """One-pass readout: the softmax head on the neutral-label activities
        (layer 0's input part computed here, or given)."""
        return self.head(self.neutral_features(x, input_part))

    def label_logits(
        self, x: torch.Tensor, n_valid=None, max_rows=None, input_part=None
    ) -> torch.Tensor:
        """Per-label readout: goodness summed over the readout layers for every
        label, shape (n, n_classes). The input part of layer 0 is computed once
        per row (or given); only the first ``n_valid`` rows are scored (the
        rest are padding), at most ``max_rows`` (row, label) pairs at a
        time."""
        part = self._input_part(x) if input_part is None else input_part
        cols = self._label_columns()

        def score(rows, labels):
            h = F.relu(part[rows] + cols[labels])
            total = 0
            for i, hi in enumerate(self._propagate(h)):
                if i >= self.first_readout:
                    total = total + goodness(hi, self.objective.goodness)
            return total

        scores = self._score_pairs(x.shape[0], n_valid, score, max_rows)
        return self.objective.logit_scale * scores

    def readout_logits(
        self, x: torch.Tensor, n_valid=None, max_rows=None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(label_logits(x), head_logits(x))``, the input part of layer 0
        computed once for both."""
        part = self._input_part(x)
        return (
            self.label_logits(x, n_valid, max_rows, input_part=part),
            self.head_logits(x, input_part=part),
        )

    def layer_goodness(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Goodness of every layer for the given labels, shape (n, n_layers)."""
        part = self._input_part(x)
        hs = self._propagate(F.relu(part + take_rows(self._label_columns(), labels)))
        return torch.stack([goodness(h, self.objective.goodness) for h in hs], dim=1)

    # -- training ------------------------------------------------------------------
    belief_pass = True

    def layer_costs(self) -> list:
        """Relative compute of each layer per row and step: its matrix
        product (input width times its own) three times (forward, and the
        backward's two) for every positive and negative row, once more for
        the belief pass; layer 0 multiplies its input once per row (the
        labels only add a column)."""
        n_in = self.layers[0].weight.shape[1]
        sizes = [n_in, *self.hidden_sizes]
        rows = 1 + min(self.objective.n_negatives, self.n_classes - 1)
        costs = []
        for i in range(len(self.layers)):
            product = float(sizes[i] * sizes[i + 1])
            costs.append(product * (4 if i == 0 else 3 * rows + 1))
        return costs

    def step_inputs(self, x: torch.Tensor) -> tuple:
        """Layer 0's split weights and input part (its product with ``x``):
        computed once for both passes of a mini-batch in one process."""
        weights = self._first_weights()
        return weights, self._input_part(x, weights)

    def belief_begin(self, x: torch.Tensor, shared=None) -> tuple:
        """The belief pass entering layer 0: its activities under the neutral
        label, and the (so far empty) features of the head."""
        with torch.no_grad():
            part = self._input_part(x) if shared is None else shared[1].detach()
            h = F.relu(part + self._neutral_column())
        return h, h.new_zeros((x.shape[0], 0))

    def belief_layer(self, i: int, carry: tuple) -> tuple:
        """Layer ``i`` in the belief pass (no gradient): its normalized
        activities join the head's features (from ``first_readout`` on)."""
        a, feats = carry
        with torch.no_grad():
            h, inp = (a, None) if i == 0 else (self.layers[i](a), a)
            if i >= self.first_readout:
                feats = torch.cat([feats, rms_normalize(h)], dim=1)
            last = i + 1 == len(self.layers)
            nxt = h.new_zeros(0) if last else self._passed_on(i, h, inp)
        return nxt, feats

    def belief_end(self, carry: tuple, y, weight=None) -> tuple:
        """The head's step on the belief pass's features: its loss and its
        class probabilities (what the negatives are drawn from)."""
        return self.update_head(carry[1], y, weight)

    def train_begin(
        self, x, y, probs=None, generator=None, weight=None, shared=None
    ) -> tuple:
        """Layer 0's activities for the positives and the negatives (wrong
        labels drawn from ``probs``), with the gradient into layer 0."""
        weights, part = self.step_inputs(x) if shared is None else shared
        y_neg = self.negative_labels(y, self.n_classes, probs, generator)
        cols = self._label_columns(weights)
        k = y_neg.shape[0] // x.shape[0]
        pos = part + take_rows(cols, y)
        return (F.relu(torch.cat([pos, part.repeat(k, 1) + take_rows(cols, y_neg)])),)

    def train_layer(self, i: int, carry: tuple, y, weight=None) -> tuple:
        """Layer ``i``'s step on its input (layer 0: on its activities);
        returns what it passes on and its loss."""
        a = carry[0]
        h, inp = (a, None) if i == 0 else (self.layers[i](a), a)
        loss = self.layer_loss(i, h, y.shape[0], weight)
        self.update_layer(i, loss)
        last = i + 1 == len(self.layers)
        nxt = h.new_zeros(0) if last else self._passed_on(i, h.detach(), inp)
        return (nxt,), loss.detach()

    def train_step(
        self, x: torch.Tensor, y: torch.Tensor, generator=None, weight=None
    ) -> torch.Tensor:
        """One mini-batch of Forward-Forward training.

        A neutral-label pass (no gradient into the layers) trains the softmax head
        and gives the class probabilities that hard negatives are drawn from; then
        each layer sees positives (true label) and negatives (``n_negatives``
        wrong labels each) in one batch, takes one step on its own loss, and
        hands its detached, normalized activities to the next layer. ``weight``
        (one float per row, optional) makes every loss a weighted mean over
        the rows; a row's negatives carry its weight.

        Returns the losses of each layer and of the head (1-D tensor).
        """
        return self.staged_step(x, y, generator, weight)
