"""Unsupervised Forward-Forward: a stack of layers that tells real rows from
negative rows it makes itself, with no labels (Hinton, 2022, section 3;
Chen et al., Self-Contrastive Forward-Forward, 2025).

Negative kinds (every one drawn from a seeded :class:`torch.Generator`):

``"hybrid"``
    Two rows mixed through a smooth random mask: random bits blurred
    :data:`BLUR_STEPS` times with the filter ``[1/4, 1/2, 1/4]`` (along the
    width and the height of an image with ``input_shape=(C, H, W)``, along
    ``L`` of a signal with ``(C, L)``, along the features otherwise), then
    thresholded at 0.5. The mask is shared by the channels.
``"self_contrastive"``
    The positive is ``[x, x]``, the negative ``[x_i, x_j]`` with ``j != i``:
    the network reads twice as many inputs as ``x`` has features.
``"corrupt"``
    Every feature of the negative is taken from another row, drawn
    independently per feature: the marginals are real, the joint is not.
"""

from __future__ import annotations

import math
from numbers import Integral

import torch
import torch.nn.functional as F
from torch import nn

from .functional import ff_loss, goodness, rms_normalize
from .layers import FFLinear
from .local_training import LocalTrainingCore
from .objective import Objective

UNSUPERVISED_NEGATIVES = ("hybrid", "self_contrastive", "corrupt")

#: Number of blurs of the random bits that make a hybrid mask.
BLUR_STEPS = 6


def layer_normalize(h: torch.Tensor) -> torch.Tensor:
    """Center every row of ``h`` on its mean, then RMS-normalize it (layer
    normalization without gain or bias).

    What a layer hands on and what :meth:`UnsupervisedFFNet.features` returns.
    Without the centering, the next layer reads non-negative ReLU activities
    and, like the first layer on raw pixels, loses most of its units within
    an epoch.
    """
    return rms_normalize(h - h.mean(dim=1, keepdim=True))


def other_rows(n: int, shape, generator=None, device=None) -> torch.Tensor:
    """Indices of rows other than their own: ``(i + s) % n`` with ``s``
    uniform in ``1..n-1`` for every entry of ``shape`` (whose first dimension
    is ``n``); a single row can only be paired with itself."""
    own = torch.arange(n, device=device).view(-1, *([1] * (len(shape) - 1)))
    if n < 2:
        return own.expand(*shape).clone()
    shift = torch.randint(1, n, tuple(shape), generator=generator, device=device)
    return (own + shift) % n


def blur_mask(
    n: int, spatial: tuple, generator=None, device=None, steps: int = BLUR_STEPS
) -> torch.Tensor:
    """Binary masks of shape ``(n, *spatial)`` (``spatial`` of length 1 or 2):
    random bits blurred ``steps`` times with ``[1/4, 1/2, 1/4]`` along every
    axis (edges replicated), thresholded at 0.5. The blur runs in float32
    even under autocast, so masks do not depend on ``precision``."""
    bits = torch.rand(n, 1, *spatial, generator=generator, device=device) < 0.5
    m = bits.float()
    kernel = torch.tensor([0.25, 0.5, 0.25], device=device)
    with torch.autocast(m.device.type, enabled=False):
        for _ in range(steps):
            if len(spatial) == 1:
                m = F.pad(m, (1, 1), mode="replicate")
                m = F.conv1d(m, kernel.view(1, 1, 3))
            else:
                m = F.pad(m, (1, 1, 1, 1), mode="replicate")
                m = F.conv2d(m, kernel.view(1, 1, 1, 3))
                m = F.conv2d(m, kernel.view(1, 1, 3, 1))
    return (m > 0.5).reshape(n, *spatial)


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

    #: rows are scored once (read by the estimators' prediction chunking)
    n_classes = 1
    head = None

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
        self.input_shape = self._check_shape(input_shape, self.n_features)
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
    def _check_shape(shape, n_features: int):
        if shape is None:
            return None
        shape = tuple(shape)
        if (
            len(shape) not in (2, 3)
            or not all(
                isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
                for s in shape
            )
            or math.prod(shape) != n_features
        ):
            raise ValueError(
                "input_shape must be (C, H, W) or (C, L), positive integers whose "
                f"product is the number of features ({n_features}); got {shape!r}."
            )
        return [int(s) for s in shape]

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
        if self.negatives == "self_contrastive":
            return torch.cat([x, x], dim=1)
        return x

    def negative(self, x: torch.Tensor, generator=None) -> torch.Tensor:
        """One negative row for every row of ``x`` (the first layer's input)."""
        n, d = x.shape
        device = x.device
        if self.negatives == "corrupt":
            idx = other_rows(n, (n, d), generator, device)
            return torch.gather(x, 0, idx)
        partner = x[other_rows(n, (n,), generator, device)]
        if self.negatives == "self_contrastive":
            return torch.cat([x, partner], dim=1)
        shape = self.input_shape
        spatial = (d,) if shape is None else tuple(shape[1:])
        mask = blur_mask(n, spatial, generator, device).view(n, 1, -1)
        channels = 1 if shape is None else shape[0]
        mask = mask.expand(n, channels, mask.shape[2]).reshape(n, d)
        return torch.where(mask, x, partner)

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
