"""Unsupervised Forward-Forward: a stack of blocks that tells real rows from
negative rows it makes itself, with no labels (Hinton, 2022, section 3;
Chen et al., Self-Contrastive Forward-Forward, 2025).

Two cores share everything but their blocks: :class:`UnsupervisedFFNet`
(fully connected layers) and :class:`UnsupervisedConvNet` (convolutions on
images ``(C, H, W)`` or signals ``(C, L)``, the blocks of the convolutional
classifier). The parts of the self-contrastive recipe are settings of both,
so that each can be switched on its own:

``pair_weights="shared"``
    With self-contrastive negatives the first block reads a pair of rows
    ``(x1, x2)`` (``(x, x)`` for a positive, ``(x, x_j)`` for a negative)
    through the **same** weights: ``W x1 + W x2 + 2 b``.
``input_normalization="standardize"``
    Each row, centered on the training mean, is scaled to zero mean and
    unit variance over its features.
``activation="triangle"``
    What a block hands on (and :meth:`features` reads) is
    ``relu(z - mean(z))``, the mean taken over the units (over the channels
    at each position of a convolution); the goodness reads ``relu(z)``.
``negative_threshold`` and ``positive_penalty``
    The two-threshold loss ``softplus(theta_pos - g_pos) + softplus(g_neg -
    theta_neg) + penalty * g_pos`` (with ``loss="logistic"``).
``goodness_scope="position"`` (convolutions)
    The goodness and the loss are computed at every spatial position and
    averaged over them.
``layer_training="greedy"``
    The blocks are trained one after another, each for its share of the
    epochs, the earlier ones frozen (see :meth:`begin_epoch`).

The negative rows (``"hybrid"``, ``"self_contrastive"``, ``"corrupt"``) are
made in :mod:`skff.core.negatives`, beside the negative labels.
"""

from __future__ import annotations

import math
from numbers import Integral

import torch
import torch.nn.functional as F
from torch import nn

from .conv import FFConv
from .functional import ff_loss, goodness, rms_normalize
from .layers import FFLinear
from .local_training import LocalTrainingCore
from .negatives import UNSUPERVISED_NEGATIVES, negative_rows, other_rows, positive_rows
from .objective import Objective
from .shapes import check_input_shape

PAIR_WEIGHTS = ("separate", "shared")
INPUT_NORMALIZATIONS = ("center", "standardize")
ACTIVATIONS = ("relu", "triangle")
GOODNESS_SCOPES = ("image", "position")
LAYER_TRAININGS = ("joint", "greedy")
#: the settings of the self-contrastive recipe both cores take by name
RECIPE_SETTINGS = (
    "pair_weights",
    "input_normalization",
    "activation",
    "negative_threshold",
    "positive_penalty",
    "layer_training",
)


def layer_normalize(h: torch.Tensor) -> torch.Tensor:
    """Center every row of ``h`` (flattened) on its mean, then RMS-normalize
    it (layer normalization without gain or bias); the shape is kept.

    What a layer hands on and what :meth:`UnsupervisedFFNet.features` returns.
    Without the centering, the next layer reads non-negative ReLU activities
    and, like the first layer on raw pixels, loses most of its units within
    an epoch.
    """
    flat = h.flatten(1)
    return rms_normalize(flat - flat.mean(dim=1, keepdim=True)).view_as(h)


def _choice(value, name: str, options: tuple) -> str:
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; expected one of {options}")
    return value


class _UnsupervisedCore(LocalTrainingCore):
    """What the fully connected and the convolutional unsupervised cores share:
    the input's centering and scaling, the positive and negative rows, the
    local loss, the greedy schedule and the features. A subclass builds
    ``self.layers`` and defines :meth:`pre_activation`, :meth:`hand_on`,
    :meth:`block_features` and :attr:`n_features_out`."""

    def __init__(
        self,
        n_features: int,
        *,
        negatives: str,
        input_shape,
        objective,
        seed: int,
        pair_weights: str,
        input_normalization: str,
        activation: str,
        negative_threshold,
        positive_penalty: float,
        layer_training: str,
    ):
        super().__init__(objective)
        self.n_features = int(n_features)
        self.negatives = _choice(negatives, "negatives", UNSUPERVISED_NEGATIVES)
        self.input_shape = (
            None
            if input_shape is None
            else check_input_shape(input_shape, self.n_features)
        )
        self.seed = int(seed)
        self.pair_weights = _choice(pair_weights, "pair_weights", PAIR_WEIGHTS)
        self.input_normalization = _choice(
            input_normalization, "input_normalization", INPUT_NORMALIZATIONS
        )
        self.activation = _choice(activation, "activation", ACTIVATIONS)
        self.set_training(
            negative_threshold=negative_threshold,
            positive_penalty=positive_penalty,
            layer_training=layer_training,
        )
        #: the layers trained by :meth:`train_step` (all of them, or the one
        #: greedy training has reached)
        self.trained_layers = None
        self.register_buffer("input_offset", torch.zeros(self.n_features))

    def set_training(
        self,
        *,
        negative_threshold=None,
        positive_penalty: float = 0.0,
        layer_training: str = "joint",
        goodness_scope: str | None = None,
    ) -> None:
        """The training settings a warm start may change: the loss's second
        threshold and positive penalty, the layer schedule and (convolutions)
        where the goodness is read; ``goodness_scope=None`` keeps it."""
        self.negative_threshold = (
            None if negative_threshold is None else float(negative_threshold)
        )
        penalty = float(positive_penalty)
        if not penalty >= 0:
            raise ValueError(f"positive_penalty must be >= 0, got {positive_penalty!r}")
        self.positive_penalty = penalty
        self.layer_training = _choice(layer_training, "layer_training", LAYER_TRAININGS)
        if goodness_scope is not None and hasattr(self, "goodness_scope"):
            self.goodness_scope = _choice(
                goodness_scope, "goodness_scope", GOODNESS_SCOPES
            )

    @property
    def shares_pair_weights(self) -> bool:
        """Whether the first block reads a pair through one set of weights."""
        return self.negatives == "self_contrastive" and self.pair_weights == "shared"

    def _first_width(self) -> int:
        """Features of the first block's input row (twice ``n_features`` for
        self-contrastive pairs read through separate weights)."""
        pairs = self.negatives == "self_contrastive" and not self.shares_pair_weights
        return 2 * self.n_features if pairs else self.n_features

    def get_config(self) -> dict:
        return dict(
            n_features=self.n_features,
            negatives=self.negatives,
            input_shape=None if self.input_shape is None else list(self.input_shape),
            output_layers=self._output_layers_param,
            seed=self.seed,
            **{name: getattr(self, name) for name in RECIPE_SETTINGS},
            **super().get_config(),
        )

    # -- input ---------------------------------------------------------------------
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

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Rows as the blocks see them: centered on the input offset, then,
        with ``input_normalization="standardize"``, scaled to zero mean and
        unit variance over each row's features."""
        x = x - self.input_offset.to(x.dtype)
        if self.input_normalization == "standardize":
            x = x - x.mean(dim=1, keepdim=True)
            x = x / x.pow(2).mean(dim=1, keepdim=True).add(1e-8).sqrt()
        return x

    # -- output layers ---------------------------------------------------------------
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
        self.output_layers = self.check_output_layers(output_layers, self.n_layers)
        self._output_layers_param = (
            None if output_layers is None else list(self.output_layers)
        )

    # -- data ----------------------------------------------------------------------
    def positive(self, x: torch.Tensor) -> torch.Tensor:
        """What the first layer reads for prepared rows ``x``: ``x``, the
        pair ``[x, x]`` for self-contrastive negatives, or its sum ``2 x``
        when the pair shares the first layer's weights."""
        if self.shares_pair_weights:
            return x + x
        return positive_rows(x, self.negatives)

    def negative(self, x: torch.Tensor, generator=None) -> torch.Tensor:
        """One negative for every prepared row of ``x`` (what the first layer
        reads): with shared pair weights the sum ``x + x_j`` of the row and
        another row of the batch."""
        if self.shares_pair_weights:
            return x + x[other_rows(x.shape[0], (x.shape[0],), generator, x.device)]
        return negative_rows(x, self.negatives, self.input_shape, generator)

    # -- blocks --------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return len(self.layers)

    def _first_bias(self, bias: torch.Tensor) -> torch.Tensor:
        # W x1 + W x2 + 2 b: the pair's two halves share the weights and the bias
        return bias * 2 if self.shares_pair_weights else bias

    def activate(self, z: torch.Tensor) -> torch.Tensor:
        """``relu(z)``, or ``relu(z - mean over the units)`` (channels, for
        a convolution) with ``activation="triangle"``."""
        if self.activation == "triangle":
            z = z - z.mean(dim=1, keepdim=True)
        return F.relu(z)

    def block_goodness(self, z: torch.Tensor) -> torch.Tensor:
        """Goodness of pre-activations ``z``: of ``relu(z)`` over the units,
        shape ``(n,)``, or ``(n, positions)`` for a convolution with
        ``goodness_scope="position"``."""
        return goodness(F.relu(z).flatten(1), self.objective.goodness)

    def block_input(self, i: int, h: torch.Tensor) -> torch.Tensor:
        """What block ``i`` reads of the previous block's output ``h``
        (layer-normalized; the first block reads its input as it is)."""
        return h if i == 0 else layer_normalize(h)

    def passes(self, inputs: torch.Tensor, upto: int | None = None):
        """``(z, a)`` of every block (pre-activation, handed-on output) for
        first-layer inputs, up to block ``upto`` included."""
        out, h = [], inputs
        last = self.n_layers - 1 if upto is None else upto
        for i in range(last + 1):
            z = self.pre_activation(i, self.block_input(i, h))
            h = self.hand_on(i, z)
            out.append((z, h))
        return out

    def activities(self, inputs: torch.Tensor) -> list:
        """What every block hands on, for first-layer inputs ``inputs``."""
        return [a for _, a in self.passes(inputs)]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The features of real rows ``x``: each output layer's handed-on
        activities (pooled to a small grid, for a convolution), layer-normalized
        and concatenated, shape ``(n, n_features_out)``."""
        passes = self.passes(self.positive(self.prepare(x)), max(self.output_layers))
        return torch.cat(
            [
                layer_normalize(self.block_features(i, passes[i][1]).flatten(1))
                for i in self.output_layers
            ],
            dim=1,
        )

    def layer_goodness(self, inputs: torch.Tensor) -> torch.Tensor:
        """Goodness of every layer (averaged over positions) for first-layer
        inputs, shape (n, n_layers)."""
        return torch.stack(
            [
                self.block_goodness(z).reshape(z.shape[0], -1).mean(dim=1)
                for z, _ in self.passes(inputs)
            ],
            dim=1,
        )

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Goodness of real rows ``x`` summed over the layers."""
        return self.layer_goodness(self.positive(self.prepare(x))).sum(dim=1)

    # -- the loss ------------------------------------------------------------------
    def pair_loss(self, g_pos: torch.Tensor, g_neg: torch.Tensor) -> torch.Tensor:
        """Loss of goodness ``g_pos`` of real rows against ``g_neg`` of their
        negatives (paired row by row; columns are positions): the objective's
        loss, or the two-threshold loss when ``negative_threshold`` is set
        (``loss="logistic"``), plus ``positive_penalty`` times the mean
        positive goodness."""
        obj = self.objective
        if obj.loss == "logistic" and self.negative_threshold is not None:
            loss = (
                F.softplus(obj.threshold - g_pos).mean()
                + F.softplus(g_neg - self.negative_threshold).mean()
            )
        else:  # one pair per row, or per position of a convolution
            loss = ff_loss(
                g_pos.reshape(-1),
                g_neg.reshape(-1),
                kind=obj.loss,
                threshold=obj.threshold,
                symba_scale=obj.symba_scale,
            )
        if self.positive_penalty > 0:
            loss = loss + self.positive_penalty * g_pos.mean()
        return loss

    def block_loss(self, i: int, z: torch.Tensor, n: int) -> torch.Tensor:
        """Loss of block ``i`` on pre-activations ``z``: real rows first, then
        one negative per row (peer normalization added when set)."""
        g = self.block_goodness(z)
        loss = self.pair_loss(g[:n], g[n:])
        if self.objective.peer_normalization > 0:
            loss = loss + self.objective.peer_normalization * self.peer_penalty(
                i, F.relu(z[:n])
            )
        return loss

    def separation(self, x: torch.Tensor, generator=None) -> torch.Tensor:
        """Each layer's loss on real rows ``x`` and negatives made from them
        (no update), shape (n_layers,)."""
        x = self.prepare(x)
        n = x.shape[0]
        inputs = torch.cat([self.positive(x), self.negative(x, generator)])
        losses = []
        for z, _ in self.passes(inputs):
            g = self.block_goodness(z)
            losses.append(self.pair_loss(g[:n], g[n:]))
        return torch.stack(losses)

    # -- training ------------------------------------------------------------------
    def begin_epoch(self, epoch: int, n_epochs: int) -> tuple[int, int]:
        """Select the layers epoch ``epoch`` (from 0) of ``n_epochs`` trains;
        return its place ``(epoch, length)`` in the phase the learning-rate
        schedule runs over.

        ``layer_training="joint"`` trains every layer in every epoch, one
        phase. ``"greedy"`` gives layer ``k`` the epochs from
        ``floor(k * n_epochs / n_layers)`` on, each layer its own phase (the
        schedule starts again for it), the earlier layers frozen; with fewer
        epochs than layers (``partial_fit``) every layer trains.
        """
        self.trained_layers = None
        if self.layer_training != "greedy" or n_epochs < self.n_layers:
            return epoch, n_epochs
        starts = [k * n_epochs // self.n_layers for k in range(self.n_layers + 1)]
        k = max(j for j in range(self.n_layers) if starts[j] <= epoch)
        self.trained_layers = k
        return epoch - starts[k], starts[k + 1] - starts[k]

    def train_step(self, x: torch.Tensor, y=None, generator=None) -> torch.Tensor:
        """One mini-batch: each layer sees the real rows and one negative per
        row, takes one step on its own loss, and hands its detached, normalized
        activities to the next layer. ``y`` is ignored; ``x`` is prepared
        (:meth:`prepare`) first, as in every pass. Under greedy training only
        the selected layer steps: the layers before it run without a graph,
        the layers after it do not run (their loss is reported as 0).

        Returns the loss of each layer (1-D tensor; there is no head).
        """
        x = self.prepare(x)
        n = x.shape[0]
        h = torch.cat([self.positive(x), self.negative(x, generator)])
        active = self.trained_layers
        last = self.n_layers - 1 if active is None else active
        losses = []
        for i in range(last + 1):
            trains = active is None or i == active
            with torch.set_grad_enabled(trains and torch.is_grad_enabled()):
                z = self.pre_activation(i, self.block_input(i, h.detach()))
                loss = self.block_loss(i, z, n)
                if trains:
                    self.update_layer(i, loss)
                h = self.hand_on(i, z).detach()
            losses.append(loss.detach())
        skipped = range(last + 1, self.n_layers)
        losses.extend(torch.zeros((), device=x.device) for _ in skipped)
        return torch.stack(losses)


class UnsupervisedFFNet(_UnsupervisedCore):
    """Fully connected layers trained with Forward-Forward on real rows
    (positives) and negative rows made from them, with no labels and no
    readout head.

    Rows are first prepared (:meth:`prepare`: centered on a fixed offset,
    :meth:`set_input_offset`, the training mean; optionally standardized);
    each later layer's input is the previous layer's output, detached and
    layer-normalized (:func:`layer_normalize`); every layer minimizes its own
    loss. The objective's label settings are unused. The parts of the
    self-contrastive recipe are described in the module's documentation.

    Parameters
    ----------
    n_features : int
        Width of the rows.
    hidden_sizes : sequence of int
        Width of each layer.
    negatives : {"hybrid", "self_contrastive", "corrupt"}
        How negative rows are made (see :mod:`skff.core.negatives`).
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
    pair_weights : {"separate", "shared"}
        Self-contrastive pairs: the first layer reads ``[x1, x2]`` through
        weights of twice the width, or both halves through the same weights.
    input_normalization : {"center", "standardize"}
        Rows centered on the offset, or also standardized per row.
    activation : {"relu", "triangle"}
        What a layer hands on.
    negative_threshold : float or None
        The negatives' threshold of the two-threshold loss (with the
        objective's logistic loss); None: one threshold.
    positive_penalty : float
        Weight of the mean positive goodness added to the loss.
    layer_training : {"joint", "greedy"}
        All layers in every epoch, or one after another
        (:meth:`begin_epoch`).
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
        pair_weights: str = "separate",
        input_normalization: str = "center",
        activation: str = "relu",
        negative_threshold=None,
        positive_penalty: float = 0.0,
        layer_training: str = "joint",
    ):
        super().__init__(
            n_features,
            negatives=negatives,
            input_shape=input_shape,
            objective=objective,
            seed=seed,
            pair_weights=pair_weights,
            input_normalization=input_normalization,
            activation=activation,
            negative_threshold=negative_threshold,
            positive_penalty=positive_penalty,
            layer_training=layer_training,
        )
        if len(hidden_sizes) < 1 or any(int(h) < 1 for h in hidden_sizes):
            raise ValueError(f"hidden_sizes must be positive, got {hidden_sizes!r}")
        self.hidden_sizes = [int(h) for h in hidden_sizes]
        gen = torch.Generator().manual_seed(self.seed)
        sizes = [self._first_width(), *self.hidden_sizes]
        self.layers = nn.ModuleList(
            FFLinear(sizes[i], sizes[i + 1], gen) for i in range(len(hidden_sizes))
        )
        self.set_output_layers(output_layers)
        self._register_peer_means(self.hidden_sizes)

    def get_config(self) -> dict:
        return dict(hidden_sizes=list(self.hidden_sizes), **super().get_config())

    @property
    def n_features_out(self) -> int:
        """Width of :meth:`features`."""
        return sum(self.hidden_sizes[i] for i in self.output_layers)

    @property
    def row_elements(self) -> int:
        """Values held per row in a pass (memory estimate)."""
        return 2 * self._first_width() + 2 * sum(self.hidden_sizes)

    def pre_activation(self, i: int, h: torch.Tensor) -> torch.Tensor:
        """Layer ``i``'s pre-activation of its input ``h``."""
        layer = self.layers[i]
        bias = self._first_bias(layer.bias) if i == 0 else layer.bias
        return F.linear(h, layer.weight, bias)

    def hand_on(self, i: int, z: torch.Tensor) -> torch.Tensor:
        return self.activate(z)

    def block_features(self, i: int, a: torch.Tensor) -> torch.Tensor:
        return a


class UnsupervisedConvNet(_UnsupervisedCore):
    """Convolutional blocks trained with Forward-Forward without labels.

    Every block is a convolution (``'same'`` padding, the convolutional
    classifier's :class:`~skff.core.conv.FFConv`), the activation, and 2 x 2
    max pooling (2 along a signal) while the map is larger than 1; its input
    is the previous block's output, detached and layer-normalized over all
    its values. The features of a block are its output average-pooled to at
    most ``feature_grid`` cells per spatial dimension.

    Parameters
    ----------
    n_features : int
        Width of the flat rows.
    input_shape : tuple of int
        ``(C, H, W)`` or ``(C, L)``, whose product is ``n_features``.
    channels : sequence of int
        Channels of every block.
    kernel_size : int
        Width of the convolutions' kernels.
    feature_grid : int
        Cells per spatial dimension of the pooled features.
    goodness_scope : {"image", "position"}
        Goodness over a whole output, or at every position (averaged loss).
    negatives, output_layers, objective, seed, pair_weights, \
input_normalization, activation, negative_threshold, positive_penalty, \
layer_training
        As in :class:`UnsupervisedFFNet` (hybrid masks are smooth in
        ``input_shape``; separate pair weights read ``2 C`` input channels).
    """

    def __init__(
        self,
        n_features: int,
        input_shape,
        channels=(32, 64, 128),
        *,
        kernel_size: int = 3,
        feature_grid: int = 4,
        goodness_scope: str = "position",
        negatives: str = "self_contrastive",
        output_layers=None,
        objective: Objective | dict | None = None,
        seed: int = 0,
        pair_weights: str = "shared",
        input_normalization: str = "standardize",
        activation: str = "triangle",
        negative_threshold=None,
        positive_penalty: float = 0.0,
        layer_training: str = "joint",
    ):
        if input_shape is None:
            raise ValueError("a convolutional core needs an input_shape")
        super().__init__(
            n_features,
            negatives=negatives,
            input_shape=input_shape,
            objective=objective,
            seed=seed,
            pair_weights=pair_weights,
            input_normalization=input_normalization,
            activation=activation,
            negative_threshold=negative_threshold,
            positive_penalty=positive_penalty,
            layer_training=layer_training,
        )
        if len(channels) < 1 or any(int(c) < 1 for c in channels):
            raise ValueError(f"channels must be positive, got {channels!r}")
        if int(kernel_size) < 1 or int(feature_grid) < 1:
            raise ValueError("kernel_size and feature_grid must be >= 1")
        self.channels = [int(c) for c in channels]
        self.kernel_size = int(kernel_size)
        self.feature_grid = int(feature_grid)
        self.goodness_scope = _choice(goodness_scope, "goodness_scope", GOODNESS_SCOPES)
        self.n_spatial = len(self.input_shape) - 1
        gen = torch.Generator().manual_seed(self.seed)
        in_ch = self._first_width() // math.prod(self.input_shape[1:])
        spatial = tuple(self.input_shape[1:])
        layers, self.block_shapes, self._feature_sizes = [], [], []
        #: values of every block's activity (before pooling) for one row
        self.hidden_sizes = []
        for c in self.channels:
            self.hidden_sizes.append(c * math.prod(spatial))
            pool = None
            if max(spatial) >= 2:
                pool = tuple(2 if s >= 2 else 1 for s in spatial)
            layers.append(
                FFConv(in_ch, c, self.kernel_size, self.n_spatial, "max", pool, gen)
            )
            if pool is not None:
                spatial = tuple(s // w for s, w in zip(spatial, pool, strict=True))
            self.block_shapes.append((c, *spatial))
            grid = tuple(min(s, self.feature_grid) for s in spatial)
            self._feature_sizes.append(c * math.prod(grid))
            in_ch = c
        self.layers = nn.ModuleList(layers)
        self.set_output_layers(output_layers)
        self._register_peer_means(self.channels)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            channels=list(self.channels),
            kernel_size=self.kernel_size,
            feature_grid=self.feature_grid,
            goodness_scope=self.goodness_scope,
        )
        return config

    @property
    def n_features_out(self) -> int:
        """Width of :meth:`features`."""
        return sum(self._feature_sizes[i] for i in self.output_layers)

    @property
    def row_elements(self) -> int:
        """Values held per row in a pass (memory estimate): every block's
        pre-activation before pooling, and its pooled output."""
        total, spatial = 2 * self._first_width(), math.prod(self.input_shape[1:])
        for c, *after in self.block_shapes:
            total += 2 * c * spatial + c * math.prod(after)
            spatial = math.prod(after)
        return total

    def peer_activity(self, h: torch.Tensor) -> torch.Tensor:
        return h.flatten(2).mean(dim=2)

    def block_input(self, i: int, h: torch.Tensor) -> torch.Tensor:
        if i == 0:  # a flat row: its channels and positions
            return h.view(h.shape[0], -1, *self.input_shape[1:])
        return layer_normalize(h)

    def pre_activation(self, i: int, h: torch.Tensor) -> torch.Tensor:
        block = self.layers[i]
        bias = self._first_bias(block.bias) if i == 0 else block.bias
        return block.conv(h, bias=bias)

    def hand_on(self, i: int, z: torch.Tensor) -> torch.Tensor:
        return self.layers[i].pool(self.activate(z))

    def block_goodness(self, z: torch.Tensor) -> torch.Tensor:
        if self.goodness_scope == "image":
            return super().block_goodness(z)
        # over the channels at every position: (n, positions)
        sq = F.relu(z).float().pow(2)
        g = sq.mean(dim=1) if self.objective.goodness == "mean" else sq.sum(dim=1)
        return g.flatten(1)

    def block_features(self, i: int, a: torch.Tensor) -> torch.Tensor:
        grid = tuple(min(s, self.feature_grid) for s in a.shape[2:])
        if self.n_spatial == 2:
            return F.adaptive_avg_pool2d(a, grid)
        return F.adaptive_avg_pool1d(a, grid[0])
