"""Unsupervised Forward-Forward: a stack of layers that tells real rows from
negative rows it makes itself, with no labels (Hinton, 2022, section 3;
Chen et al., Self-Contrastive Forward-Forward, 2025).

The negative rows (``"hybrid"``, ``"self_contrastive"``, ``"corrupt"``) are
made in :mod:`skff.core.negatives`, beside the negative labels.
"""

from __future__ import annotations

from numbers import Integral

import torch
from torch import nn

from .functional import ff_loss, goodness, rms_normalize
from .layers import FFLinear
from .local_training import LocalTrainingCore
from .negatives import UNSUPERVISED_NEGATIVES, negative_rows, positive_rows
from .objective import Objective
from .shapes import check_input_shape


def layer_normalize(h: torch.Tensor) -> torch.Tensor:
    """Center every row of ``h`` on its mean, then RMS-normalize it (layer
    normalization without gain or bias).

    What a layer hands on and what :meth:`UnsupervisedFFNet.features` returns.
    Without the centering, the next layer reads non-negative ReLU activities
    and, like the first layer on raw pixels, loses most of its units within
    an epoch.
    """
    return rms_normalize(h - h.mean(dim=1, keepdim=True))


class UnsupervisedFFNet(LocalTrainingCore):
    """ReLU layers trained with Forward-Forward on real rows (positives) and
    negative rows made from them, with no labels and no readout head.

    Rows are first centered on a fixed offset (:meth:`set_input_offset`, the
    training mean); each later layer's input is the previous layer's output,
    detached and layer-normalized (:func:`layer_normalize`); every layer
    minimizes its own loss (the objective's ``loss``: SymBa pairs each real
    row with its own negative, the logistic loss uses the threshold). The
    objective's label settings are unused.

    Parameters
    ----------
    n_features : int
        Width of the rows.
    hidden_sizes : sequence of int
        Width of each layer.
    negatives : {"hybrid", "self_contrastive", "corrupt"}
        How negative rows are made (see the module's documentation).
    input_shape : tuple of int or None
        ``(C, H, W)`` or ``(C, L)`` whose product is ``n_features``: the shape
        the hybrid masks are smooth in (None: along the features).
    output_layers : sequence of int or None
        Layers whose normalized activities :meth:`features` concatenates
        (None: all of them).
    objective : Objective or dict, optional
        The local objective.
    seed : int
        Seed of the initial weights.
    """

    def __init__(
        self,
        n_features: int,
        hidden_sizes=(500, 500),
        *,
        negatives: str = "hybrid",
        input_shape=None,
        output_layers=None,
        objective: Objective | dict | None = None,
        seed: int = 0,
    ):
        super().__init__(objective)
        if negatives not in UNSUPERVISED_NEGATIVES:
            raise ValueError(
                f"unknown negatives {negatives!r}; expected one of "
                f"{UNSUPERVISED_NEGATIVES}"
            )
        if len(hidden_sizes) < 1 or any(int(h) < 1 for h in hidden_sizes):
            raise ValueError(f"hidden_sizes must be positive, got {hidden_sizes!r}")
        self.n_features = int(n_features)
        self.hidden_sizes = [int(h) for h in hidden_sizes]
        self.negatives = negatives
        self.input_shape = (
            None
            if input_shape is None
            else check_input_shape(input_shape, self.n_features)
        )
        self.seed = int(seed)
        self.set_output_layers(output_layers)

        gen = torch.Generator().manual_seed(self.seed)
        width = 2 * self.n_features if negatives == "self_contrastive" else n_features
        sizes = [width, *self.hidden_sizes]
        self.layers = nn.ModuleList(
            FFLinear(sizes[i], sizes[i + 1], gen) for i in range(len(hidden_sizes))
        )
        self._register_peer_means(self.hidden_sizes)
        self.register_buffer("input_offset", torch.zeros(self.n_features))

    def set_input_offset(self, offset) -> None:
        """Subtract ``offset`` (one value per feature, typically the training
        mean) from every row before the first layer.

        Pixels and counts are non-negative: without centering, most units of
        the first layer die within an epoch (a unit whose activity is higher
        on negatives than on real rows is pushed below zero on both and never
        recovers), and the features lose to a fixed random layer.
        """
        offset = torch.as_tensor(offset, dtype=torch.float32)
        if offset.shape != self.input_offset.shape:
            raise ValueError(
                f"offset has shape {tuple(offset.shape)}, expected "
                f"{tuple(self.input_offset.shape)}"
            )
        self.input_offset.copy_(offset.to(self.input_offset.device))

    def _centered(self, x: torch.Tensor) -> torch.Tensor:
        return x - self.input_offset.to(x.dtype)

    @staticmethod
    def check_output_layers(output_layers, n_layers: int) -> list:
        """The layer indices ``output_layers`` names (validated; None: all
        the layers)."""
        if output_layers is None:
            return list(range(n_layers))
        layers = list(output_layers)
        if (
            not layers
            or not all(
                isinstance(i, Integral) and not isinstance(i, bool) for i in layers
            )
            or any(not 0 <= i < n_layers for i in layers)
            or len(set(layers)) != len(layers)
        ):
            raise ValueError(
                "output_layers must be distinct layer indices in [0, "
                f"{n_layers - 1}] (n_layers={n_layers}), or None; got "
                f"{output_layers!r}."
            )
        return [int(i) for i in layers]

    def set_output_layers(self, output_layers) -> None:
        """Choose the layers :meth:`features` returns (see
        :meth:`check_output_layers`)."""
        self.output_layers = self.check_output_layers(
            output_layers, len(self.hidden_sizes)
        )
        self._output_layers_param = (
            None if output_layers is None else list(self.output_layers)
        )

    def get_config(self) -> dict:
        return dict(
            n_features=self.n_features,
            hidden_sizes=list(self.hidden_sizes),
            negatives=self.negatives,
            input_shape=None if self.input_shape is None else list(self.input_shape),
            output_layers=self._output_layers_param,
            seed=self.seed,
            **super().get_config(),
        )

    @property
    def n_features_out(self) -> int:
        """Width of :meth:`features`."""
        return sum(self.hidden_sizes[i] for i in self.output_layers)

    # -- data ----------------------------------------------------------------------
    def positive(self, x: torch.Tensor) -> torch.Tensor:
        """What the first layer reads for real rows ``x``."""
        return positive_rows(x, self.negatives)

    def negative(self, x: torch.Tensor, generator=None) -> torch.Tensor:
        """One negative row for every row of ``x`` (the first layer's input)."""
        return negative_rows(x, self.negatives, self.input_shape, generator)

    # -- passes --------------------------------------------------------------------
    def activities(self, inputs: torch.Tensor) -> list:
        """Activities of every layer for first-layer inputs ``inputs``."""
        out, h = [], inputs
        for i, layer in enumerate(self.layers):
            h = layer(h if i == 0 else layer_normalize(h))
            out.append(h)
        return out

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The layer-normalized activities of the output layers of real rows
        ``x``, concatenated, shape ``(n, n_features_out)``."""
        hs = self.activities(self.positive(self._centered(x)))
        return torch.cat([layer_normalize(hs[i]) for i in self.output_layers], dim=1)

    def layer_goodness(self, inputs: torch.Tensor) -> torch.Tensor:
        """Goodness of every layer for first-layer inputs, shape (n, n_layers)."""
        kind = self.objective.goodness
        return torch.stack([goodness(h, kind) for h in self.activities(inputs)], dim=1)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Goodness of real rows ``x`` summed over the layers."""
        return self.layer_goodness(self.positive(self._centered(x))).sum(dim=1)

    def separation(self, x: torch.Tensor, generator=None) -> torch.Tensor:
        """Each layer's loss on real rows ``x`` and negatives made from them
        (no update), shape (n_layers,)."""
        obj = self.objective
        x = self._centered(x)
        pos = self.layer_goodness(self.positive(x))
        neg = self.layer_goodness(self.negative(x, generator))
        return torch.stack(
            [
                ff_loss(
                    pos[:, i],
                    neg[:, i],
                    kind=obj.loss,
                    threshold=obj.threshold,
                    symba_scale=obj.symba_scale,
                )
                for i in range(len(self.layers))
            ]
        )

    # -- training ------------------------------------------------------------------
    def train_step(self, x: torch.Tensor, y=None, generator=None) -> torch.Tensor:
        """One mini-batch: each layer sees the real rows and one negative per
        row, takes one step on its own loss, and hands its detached, normalized
        activities to the next layer. ``y`` is ignored; ``x`` is
        centered by :meth:`set_input_offset` first, as in every pass.

        Returns the loss of each layer (1-D tensor; there is no head).
        """
        n = x.shape[0]
        x = self._centered(x)
        h = torch.cat([self.positive(x), self.negative(x, generator)])
        losses = []
        for i, layer in enumerate(self.layers):
            h = layer(h if i == 0 else layer_normalize(h.detach()))
            loss = self.layer_loss(i, h, n)
            self.update_layer(i, loss)
            losses.append(loss.detach())
        return torch.stack(losses)
