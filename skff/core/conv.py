"""The convolutional Forward-Forward network (flat input, reshaped inside).

Each block is ``conv -> ReLU -> pooling -> normalization``; it receives the
previous block's output detached, computes its own loss and takes its own
optimizer step right after its own forward pass. No gradient crosses a block.

The normalization (``normalization``) is either ``"batch"`` (default): each
channel standardized over the mini-batch and its positions, then a learned
scale and shift (batch normalization, with running statistics at prediction;
the block's goodness and the next block's input are its output), or
``"sample"``: each sample's output RMS-normalized over all its channels and
positions before the next block (and, with ``label_mode="channelwise"``,
before the class goodness), so that only the direction of the activity passes
on. With ``label_mode="input"`` the goodness reads the block's output
(normalized by the batch, or not normalized with ``"sample"``), and the batch
statistics are those of the positive and negative rows together.

The label enters in one of two ways (``label_mode``):

``"channelwise"`` (default; CwComp, Papachristodoulou et al., AAAI 2024)
    Every block's output channels are split into ``n_classes`` contiguous
    groups. The goodness of class ``c`` is the mean squared activity of ``c``'s
    group (of the block's output RMS-normalized per sample, so the groups
    compete for a fixed energy); the block's loss is the cross-entropy of the
    true class against the class-goodness vector (times the objective's
    ``logit_scale``). No negative
    data; prediction (the sum of the class goodness over blocks) is one pass.
``"input"`` (the FF classic)
    The one-hot label is added as ``n_classes`` constant input channels of
    strength ``label_strength``. Each block sees positives (true label) and
    negatives (wrong labels drawn by the objective's ``negatives``) and
    minimizes the objective's ``loss`` on their goodness. Prediction scores
    every label (``n_classes`` passes). As in :class:`FFNet`, the first
    convolution of the image is computed once and every label only adds its
    own (precomputed) feature map.

Both modes train a linear softmax head on the detached, RMS-normalized
outputs of every block, average-pooled to at most ``head_grid`` cells per
spatial dimension (with the neutral label ``label_strength / n_classes`` in
``"input"`` mode).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .functional import ff_loss, goodness, rms_normalize, take_rows, weighted_mean
from .layers import LinearHead
from .local_training import LocalTrainingCore
from .objective import Objective

LABEL_MODES = ("channelwise", "input")
POOLINGS = ("max", "avg", None)
NORMALIZATIONS = ("batch", "sample")


def _rms_normalize_sample(h: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """RMS-normalize each sample over all its channels and positions."""
    dims = tuple(range(1, h.dim()))
    return h * torch.rsqrt(h.float().pow(2).mean(dim=dims, keepdim=True) + eps).to(
        h.dtype
    )


class BatchChannelNorm(nn.Module):
    """Batch normalization of a block's output, rows optionally weighted.

    In training mode each channel is standardized with the mean and (biased)
    variance over the rows and positions of the mini-batch, row ``i``
    counting ``row_weight[i]`` times when weights are given, and the running
    averages (momentum ``momentum``) are updated; in evaluation mode, without
    autograd (prediction runs under ``torch.inference_mode``, also while a
    warm refit trains the same network in another thread), or when the rows
    of positive weight hold a single value per channel (a batch of zero
    weight included), the running averages are used and left alone. A
    learned per-channel scale (start 1) and shift (start 0) follow. Computed
    in float32, returned in the input's dtype.
    """

    def __init__(self, channels: int, eps: float = 1e-4, momentum: float = 0.1):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        self.eps = eps
        self.momentum = momentum

    def forward(self, h: torch.Tensor, row_weight=None) -> torch.Tensor:
        shape = (1, -1) + (1,) * (h.dim() - 2)
        hf = h.float()
        values = h.numel() // h.shape[1]  # per channel
        if row_weight is not None and values:
            values = values // h.shape[0] * int((row_weight > 0).sum())
        if self.training and torch.is_grad_enabled() and values > 1:
            dims = (0,) + tuple(range(2, h.dim()))
            if row_weight is None:
                mean = hf.mean(dim=dims)
                var = (hf - mean.view(shape)).pow(2).mean(dim=dims)
            else:  # each row's per-channel means, averaged with its weight
                row_mean = LocalTrainingCore.row_mean
                mean = row_mean(hf.flatten(2).mean(dim=2), row_weight)
                sq = (hf - mean.view(shape)).pow(2).flatten(2).mean(dim=2)
                var = row_mean(sq, row_weight)
            with torch.no_grad():
                self.running_mean.lerp_(mean.detach(), self.momentum)
                self.running_var.lerp_(var.detach(), self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        scale = torch.rsqrt(var + self.eps) * self.weight.float()
        shift = self.bias.float().view(shape)
        return ((hf - mean.view(shape)) * scale.view(shape) + shift).to(h.dtype)


class FFConv(nn.Module):
    """A convolution (``'same'`` padding, stride 1), ReLU, optional pooling and
    optional batch normalization, with initial weights from a generator.

    Weights are drawn uniformly in ``±1/sqrt(fan_in)`` (PyTorch's default scale
    for convolutions), biases start at zero. ``pool_kernel`` is the pooling
    window per spatial dimension (2, or 1 where that dimension is already of
    size 1); ``None`` means no pooling.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        n_spatial: int,
        pooling: str | None = "max",
        pool_kernel: tuple | None = None,
        generator=None,
        batch_norm: bool = False,
    ):
        super().__init__()
        shape = (out_channels, in_channels, *([kernel_size] * n_spatial))
        bound = 1.0 / math.sqrt(in_channels * kernel_size**n_spatial)
        w = torch.rand(*shape, generator=generator) * 2 - 1
        self.weight = nn.Parameter(w * bound)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.n_spatial = n_spatial
        self.pooling = pooling
        self.pool_kernel = tuple(pool_kernel) if pool_kernel else None
        self.norm = BatchChannelNorm(out_channels) if batch_norm else None

    def conv(self, x, weight=None, bias=None):
        """The convolution alone (no ReLU, no pooling)."""
        fn = F.conv2d if self.n_spatial == 2 else F.conv1d
        w = self.weight if weight is None else weight
        k = self.weight.shape[-1]
        if k % 2:
            return fn(x, w, bias, padding=k // 2)
        # even kernel: pad one more on the right/bottom ('same', as torch does)
        x = F.pad(x, (k // 2 - 1, k // 2) * self.n_spatial)
        return fn(x, w, bias)

    def activate(self, z: torch.Tensor, row_weight=None) -> torch.Tensor:
        """ReLU, pooling and normalization of a pre-activation (``row_weight``:
        the rows' weights in the batch statistics)."""
        h = F.relu(z)
        if self.pooling is not None and self.pool_kernel is not None:
            k = self.pool_kernel
            if self.n_spatial == 2:
                pool = F.max_pool2d if self.pooling == "max" else F.avg_pool2d
            else:
                pool = F.max_pool1d if self.pooling == "max" else F.avg_pool1d
                k = k[0]
            h = pool(h, k, k)
        return h if self.norm is None else self.norm(h, row_weight)

    def forward(self, x: torch.Tensor, row_weight=None) -> torch.Tensor:
        return self.activate(self.conv(x, bias=self.bias), row_weight)


class ConvFFNet(LocalTrainingCore):
    """A stack of convolutional blocks trained with Forward-Forward.

    Parameters
    ----------
    n_features, n_classes : int
        Flat input width (``prod(input_shape)``) and number of labels.
    input_shape : tuple of int
        ``(C, H, W)`` for images, ``(C, L)`` for 1-D signals; rows of ``X`` are
        reshaped to it (C-order, as ``X.reshape(n, *input_shape)``).
    channels : sequence of int
        Output channels of each block (at least ``n_classes`` each with
        ``label_mode="channelwise"``).
    kernel_size : int
        Odd or even; ``'same'`` padding keeps the spatial size.
    pooling : {"max", "avg", None}
        2-wide pooling after each block, skipped along a dimension of size 1
        (and entirely once every spatial dimension is 1).
    normalization : {"batch", "sample"}
        Batch normalization after each block, or each sample's output
        RMS-normalized (see the module docstring).
    label_mode : {"channelwise", "input"}
        How the label enters (see the module docstring).
    head_grid : int
        Cells per spatial dimension of each block's average-pooled features
        for the softmax head.
    objective : Objective or dict, optional
        ``"channelwise"`` uses its ``goodness`` (mean or sum within a channel
        group), ``logit_scale`` and ``peer_normalization``; ``"input"`` uses all
        of it.
    seed : int
        Seed of the initial weights.

    ``hidden_sizes`` holds each block's activations per row (channels times
    positions, before pooling): what prediction memory scales with.
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        input_shape=(1, 28, 28),
        channels=(32, 64, 128, 256),
        *,
        kernel_size: int = 3,
        pooling: str | None = "max",
        normalization: str = "batch",
        label_mode: str = "channelwise",
        head_grid: int = 2,
        objective: Objective | dict | None = None,
        seed: int = 0,
    ):
        super().__init__(objective)
        input_shape = tuple(int(s) for s in input_shape)
        if len(input_shape) not in (2, 3) or min(input_shape) < 1:
            raise ValueError(
                f"input_shape must be (C, H, W) or (C, L) of positive sizes, "
                f"got {input_shape}"
            )
        if math.prod(input_shape) != int(n_features):
            raise ValueError(
                f"input_shape {input_shape} holds {math.prod(input_shape)} values, "
                f"but X has {n_features} features"
            )
        channels = [int(c) for c in channels]
        if not channels or min(channels) < 1:
            raise ValueError(f"channels must be positive integers, got {channels}")
        if int(kernel_size) < 1:
            raise ValueError(f"kernel_size must be >= 1, got {kernel_size}")
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; expected one of {POOLINGS}")
        if normalization not in NORMALIZATIONS:
            raise ValueError(
                f"unknown normalization {normalization!r}; expected one of "
                f"{NORMALIZATIONS}"
            )
        if label_mode not in LABEL_MODES:
            raise ValueError(
                f"unknown label_mode {label_mode!r}; expected one of {LABEL_MODES}"
            )
        if label_mode == "channelwise" and min(channels) < n_classes:
            raise ValueError(
                f"label_mode='channelwise' splits each block's channels into "
                f"n_classes={n_classes} groups; channels={channels} has fewer"
            )
        if int(head_grid) < 1:
            raise ValueError(f"head_grid must be >= 1, got {head_grid}")
        self.n_features = int(n_features)
        self.n_classes = int(n_classes)
        self.input_shape = input_shape
        self.channels = channels
        self.kernel_size = int(kernel_size)
        self.pooling = pooling
        self.normalization = normalization
        self.label_mode = label_mode
        self.head_grid = int(head_grid)
        self.seed = int(seed)

        n_spatial = len(input_shape) - 1
        self.n_spatial = n_spatial
        gen = torch.Generator().manual_seed(self.seed)
        in_ch = input_shape[0] + (n_classes if label_mode == "input" else 0)
        spatial = input_shape[1:]
        layers, sizes, head_in = [], [], 0
        self.block_shapes = []  # (C, *spatial) of every block's output
        for c in channels:
            sizes.append(c * math.prod(spatial))
            pool_kernel = None
            if pooling is not None and max(spatial) >= 2:
                pool_kernel = tuple(2 if s >= 2 else 1 for s in spatial)
            layers.append(
                FFConv(
                    in_ch,
                    c,
                    self.kernel_size,
                    n_spatial,
                    pooling,
                    pool_kernel,
                    gen,
                    batch_norm=normalization == "batch",
                )
            )
            if pool_kernel is not None:
                spatial = tuple(
                    s // k for s, k in zip(spatial, pool_kernel, strict=True)
                )
            self.block_shapes.append((c, *spatial))
            head_in += c * math.prod(min(s, self.head_grid) for s in spatial)
            in_ch = c
        self.layers = nn.ModuleList(layers)
        self.hidden_sizes = sizes
        self.head = LinearHead(head_in, n_classes)
        self._register_peer_means(channels)
        if label_mode == "channelwise":
            for i, c in enumerate(channels):
                # channel j belongs to class floor(j * n_classes / c)
                owner = torch.arange(c) * n_classes // c
                m = F.one_hot(owner, n_classes).float()
                self.register_buffer(f"group_{i}", m, persistent=False)

    def get_config(self) -> dict:
        """Keyword arguments that rebuild this core, with its current objective."""
        return dict(
            n_features=self.n_features,
            n_classes=self.n_classes,
            input_shape=list(self.input_shape),
            channels=list(self.channels),
            kernel_size=self.kernel_size,
            pooling=self.pooling,
            normalization=self.normalization,
            label_mode=self.label_mode,
            head_grid=self.head_grid,
            seed=self.seed,
            **super().get_config(),
        )

    # -- shapes ------------------------------------------------------------------------
    def _image(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], *self.input_shape)
        if x.device.type == "cuda" and self.n_spatial == 2:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def _features(self, hs) -> torch.Tensor:
        """Input of the softmax head: every block's output, average-pooled to
        at most ``head_grid`` cells per spatial dimension, RMS-normalized."""
        out = []
        for h in hs:
            h = h.detach()
            grid = tuple(min(s, self.head_grid) for s in h.shape[2:])
            if grid != tuple(h.shape[2:]):
                if self.n_spatial == 2:
                    h = F.adaptive_avg_pool2d(h, grid)
                else:
                    h = F.adaptive_avg_pool1d(h, grid[0])
            out.append(rms_normalize(h.flatten(1)))
        return torch.cat(out, dim=1)

    # -- channel-wise competition ------------------------------------------------------
    def class_goodness(self, i: int, h: torch.Tensor) -> torch.Tensor:
        """Goodness of every class's channel group in block ``i``'s output,
        shape (n, n_classes), float32.

        The output is normalized (batch normalization, or RMS normalization
        per sample, which makes the groups compete for a fixed energy: a
        group's goodness is then its share, at most ``n_classes`` with
        ``goodness="mean"``), so the block cannot lower its loss by silencing
        every group, and the scores of different blocks are on a similar
        scale when they are summed."""
        sq = self._normalized(h.float()).pow(2)
        per_channel = sq.flatten(2).mean(dim=2)  # (n, C)
        m = getattr(self, f"group_{i}")
        with torch.autocast(h.device.type, enabled=False):
            g = per_channel @ m
            if self.objective.goodness == "mean":
                g = g / m.sum(dim=0)
            else:
                g = g * h[0, 0].numel()
        return g

    def _peer_penalty(self, i: int, h_pos: torch.Tensor, weight=None) -> torch.Tensor:
        """Pull each channel's running mean activity toward the block's mean
        (the mean over rows weighted by ``weight`` when it is given)."""
        buf = self.peer_means[i]
        mean = self.row_mean(h_pos.float().flatten(2).mean(dim=2), weight)
        running = 0.9 * buf + 0.1 * mean
        buf.copy_(running.detach())
        return (running - running.mean()).pow(2).mean()

    def _normalized(self, h: torch.Tensor) -> torch.Tensor:
        """A block's output as the goodness and the next block read it: as is
        after batch normalization, RMS-normalized per sample otherwise."""
        return h if self.normalization == "batch" else _rms_normalize_sample(h)

    # -- label-in-input helpers --------------------------------------------------------
    def _input_part(self, x: torch.Tensor) -> torch.Tensor:
        """First convolution of the image channels, bias included."""
        layer = self.layers[0]
        c = self.input_shape[0]
        return layer.conv(x, layer.weight[:, :c], layer.bias)

    def _label_maps(self, like: torch.Tensor) -> torch.Tensor:
        """(n_classes, out * positions): the first convolution of each one-hot
        label's constant channels (edges included, through the zero padding)."""
        layer = self.layers[0]
        c, k = self.input_shape[0], self.n_classes
        planes = torch.eye(k, device=like.device, dtype=like.dtype)
        planes = planes.reshape(k, k, *([1] * self.n_spatial))
        planes = planes.expand(k, k, *self.input_shape[1:])
        if like.device.type == "cuda" and self.n_spatial == 2:
            planes = planes.contiguous(memory_format=torch.channels_last)
        maps = layer.conv(self.objective.label_strength * planes, layer.weight[:, c:])
        return maps.flatten(1)

    def _first_block(
        self, part: torch.Tensor, add: torch.Tensor, row_weight=None
    ) -> torch.Tensor:
        z = part + add.reshape(add.shape[0], *part.shape[1:]).to(part.dtype)
        return self.layers[0].activate(z, row_weight)

    def _propagate(self, h: torch.Tensor) -> list:
        """Outputs of every block, given the first block's output."""
        out = [h]
        for layer in self.layers[1:]:
            h = layer(self._normalized(h))
            out.append(h)
        return out

    # -- readouts ----------------------------------------------------------------------
    def block_outputs(self, x: torch.Tensor) -> list:
        """Every block's output for flat input ``x`` (neutral label in
        ``"input"`` mode)."""
        x = self._image(x)
        if self.label_mode == "channelwise":
            return self._propagate(self.layers[0](x))
        part = self._input_part(x)
        neutral = self._label_maps(part).mean(dim=0, keepdim=True)
        return self._propagate(self._first_block(part, neutral.expand(len(x), -1)))

    def block_scores(self, x: torch.Tensor) -> torch.Tensor:
        """Per-block class scores, shape (n_blocks, n, n_classes): each
        channel group's goodness (``"channelwise"``), or the block's goodness
        with each label in the input (``"input"``). Unscaled."""
        if self.label_mode == "channelwise":
            return self._class_scores(self.block_outputs(x))
        n, k = x.shape[0], self.n_classes
        part = self._input_part(self._image(x))
        maps = self._label_maps(part)
        rep = part.repeat_interleave(k, dim=0)
        hs = self._propagate(self._first_block(rep, maps.repeat(n, 1)))
        return torch.stack(
            [goodness(h.flatten(1), self.objective.goodness).view(n, k) for h in hs]
        )

    def _class_scores(self, hs) -> torch.Tensor:
        """Every block's class goodness, shape (n_blocks, n, n_classes)."""
        return torch.stack([self.class_goodness(i, h) for i, h in enumerate(hs)])

    def label_logits(
        self, x: torch.Tensor, n_valid=None, max_rows=None
    ) -> torch.Tensor:
        """Goodness readout: class scores summed over blocks, times the
        objective's ``logit_scale``, shape (n, n_classes). (``n_valid`` and
        ``max_rows``, the other cores' bounds on label scoring, are accepted
        and not needed: ``"channelwise"`` scores every class in one pass.)"""
        return self.objective.logit_scale * self.block_scores(x).sum(dim=0)

    def head_logits(self, x: torch.Tensor) -> torch.Tensor:
        """One-pass readout: the softmax head on the blocks' pooled features."""
        return self.head(self._features(self.block_outputs(x)))

    def readout_logits(
        self, x: torch.Tensor, n_valid=None, max_rows=None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(label_logits(x), head_logits(x))``; with ``"channelwise"`` both
        from one pass through the blocks."""
        if self.label_mode != "channelwise":
            return super().readout_logits(x, n_valid, max_rows)
        hs = self.block_outputs(x)
        scores = self.objective.logit_scale * self._class_scores(hs).sum(dim=0)
        return scores, self.head(self._features(hs))

    # -- training ----------------------------------------------------------------------
    def train_step(
        self, x: torch.Tensor, y: torch.Tensor, generator=None, weight=None
    ) -> torch.Tensor:
        """One mini-batch of layer-local training; returns the losses of each
        block and of the head (1-D tensor). ``weight`` (one float per row,
        optional) makes every loss a weighted mean over the rows; a row's
        negatives carry its weight."""
        if self.label_mode == "channelwise":
            return self._train_channelwise(self._image(x), y, weight)
        return self._train_input(self._image(x), y, generator, weight)

    def _train_channelwise(self, x, y, weight=None):
        obj = self.objective
        losses, hs = [], []
        h = x
        for i, layer in enumerate(self.layers):
            inp = h.detach() if i == 0 else self._normalized(h.detach())
            h = layer(inp, weight)
            g = self.class_goodness(i, h)
            if weight is None:
                loss = F.cross_entropy(obj.logit_scale * g, y)
            else:
                loss = weighted_mean(
                    F.cross_entropy(obj.logit_scale * g, y, reduction="none"), weight
                )
            if obj.peer_normalization > 0:
                loss = loss + obj.peer_normalization * self._peer_penalty(i, h, weight)
            self.update_layer(i, loss)
            losses.append(loss.detach())
            hs.append(h.detach())
        head_loss, _ = self.update_head(self._features(hs), y, weight)
        losses.append(head_loss)
        return torch.stack(losses)

    def _train_input(self, x, y, generator, weight=None):
        obj = self.objective
        n = x.shape[0]
        part = self._input_part(x)
        maps = self._label_maps(part)
        with torch.no_grad():
            # the head's features as prediction computes them (without
            # autograd, batch normalization reads its running averages)
            neutral = maps.detach().mean(dim=0, keepdim=True).expand(n, -1)
            hs = self._propagate(self._first_block(part.detach(), neutral))
            feats = self._features(hs)
        head_loss, probs = self.update_head(feats, y, weight)
        y_neg = self.negative_labels(y, self.n_classes, probs, generator)
        k = y_neg.shape[0] // n
        add = torch.cat([take_rows(maps, y), take_rows(maps, y_neg)])
        # a row's negatives carry its weight in the batch statistics too
        row_weight = None if weight is None else weight.repeat(k + 1)
        h = self._first_block(torch.cat([part] + [part] * k), add, row_weight)
        losses = []
        for i, layer in enumerate(self.layers):
            if i > 0:
                h = layer(self._normalized(h.detach()), row_weight)
            g = goodness(h.flatten(1), obj.goodness)
            loss = ff_loss(
                g[:n],
                g[n:].view(-1, n).t(),
                kind=obj.loss,
                threshold=obj.threshold,
                symba_scale=obj.symba_scale,
                weight=weight,
            )
            if obj.peer_normalization > 0:
                loss = loss + obj.peer_normalization * self._peer_penalty(
                    i, h[:n], weight
                )
            self.update_layer(i, loss)
            losses.append(loss.detach())
        losses.append(head_loss)
        return torch.stack(losses)
