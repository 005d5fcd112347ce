"""The convolutional Forward-Forward networks (flat input, reshaped inside).

Each block is ``conv -> ReLU -> pooling -> normalization``; it receives the
previous block's output detached, computes its own loss and takes its own
optimizer step right after its own forward pass. No gradient crosses a block.

The normalization (``normalization``) is either ``"batch"`` (default): each
channel standardized over the mini-batch and its positions, then a learned
scale and shift (batch normalization, with running statistics at prediction;
the block's goodness and the next block's input are its output), or
``"sample"``: each sample's output RMS-normalized over all its channels and
positions before the next block (and, in :class:`ChannelwiseConvNet`, before
the class goodness), so that only the direction of the activity passes on. In
:class:`LabelInputConvNet` the goodness reads the block's output (normalized
by the batch, or not normalized with ``"sample"``), and the batch statistics
are those of the positive and negative rows together.

The label enters in one of two ways, one network each (:data:`CONV_NETS`
maps the estimator's ``label_mode`` to it):

:class:`ChannelwiseConvNet` (``"channelwise"``; CwComp, Papachristodoulou et al.)
    Every block's channels are split into ``n_classes`` groups that compete;
    the block's loss is the cross-entropy of the true class against the
    groups' goodness. No negative data; prediction is one pass.
:class:`LabelInputConvNet` (``"input"``; the FF classic)
    The one-hot label is added as ``n_classes`` constant input channels;
    positives and negatives, the objective's ``loss``; prediction scores every
    label.

Deeper nets (``pooling_schedule="stage"``: only the last block of each run
of equal widths pools) can be residual (``shortcut="add"``): from the second
block on, a block passes on its normalized output plus its detached input
brought to the output's shape without parameters, while its loss still reads
its own output only. ``normalization="layer"`` or ``"group"`` standardizes
each row between blocks (over all channels, or over each class's channel
group) and the goodness then reads the block's activity itself;
``goodness_power=1`` makes a class's goodness its group's mean activity.

Both are a :class:`ConvStackNet`: the blocks (:class:`FFConv`, with
:class:`BatchChannelNorm`), their pooling, and a linear softmax head trained on
the detached, RMS-normalized outputs of every block, average-pooled to at most
``head_grid`` cells per spatial dimension.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .functional import goodness, rms_normalize, take_rows, weighted_mean
from .layers import LinearHead
from .local_training import LocalTrainingCore
from .objective import Objective
from .shapes import check_input_shape

POOLINGS = ("max", "avg", None)
NORMALIZATIONS = ("batch", "sample", "layer", "group")
#: where the blocks pool: after every block, or after the last block of each
#: run of equal widths (a stage)
POOLING_SCHEDULES = ("every", "stage")
SHORTCUTS = (None, "add")
GOODNESS_POWERS = (1, 2)


def _rms_normalize_sample(h: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """RMS-normalize each sample over all its channels and positions."""
    dims = tuple(range(1, h.dim()))
    return h * torch.rsqrt(h.float().pow(2).mean(dim=dims, keepdim=True) + eps).to(
        h.dtype
    )


def _layer_normalize(h: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Standardize each sample over all its channels and positions (layer
    normalization without a learned scale or shift)."""
    return F.layer_norm(h.float(), h.shape[1:], eps=eps).to(h.dtype)


def _group_normalize(h: torch.Tensor, groups: torch.Tensor, eps: float = 1e-5):
    """Standardize each sample over each group of its channels and their
    positions; ``groups`` is the (C, G) one-hot membership of the channels
    (groups may differ in size). No learned scale or shift."""
    hf = h.float()
    flat = hf.flatten(2)  # (n, C, P)
    with torch.autocast(h.device.type, enabled=False):
        size = groups.sum(dim=0) * flat.shape[2]  # values per group
        mean = (flat.sum(dim=2) @ groups) / size  # (n, G)
        centred = flat - (mean @ groups.t()).unsqueeze(2)
        var = (centred.pow(2).sum(dim=2) @ groups) / size
        scale = torch.rsqrt(var + eps) @ groups.t()  # (n, C)
    return (centred * scale.unsqueeze(2)).view_as(hf).to(h.dtype)


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
        size = self.weight.shape[-1]  # the kernel's
        if size % 2:
            return fn(x, w, bias, padding=size // 2)
        # even kernel: pad one more on the right/bottom ('same', as torch does)
        x = F.pad(x, (size // 2 - 1, size // 2) * self.n_spatial)
        return fn(x, w, bias)

    def activate(self, z: torch.Tensor, row_weight=None) -> torch.Tensor:
        """ReLU, pooling and normalization of a pre-activation (``row_weight``:
        the rows' weights in the batch statistics)."""
        h = self.pool(F.relu(z))
        return h if self.norm is None else self.norm(h, row_weight)

    def pool(self, h: torch.Tensor) -> torch.Tensor:
        """The block's pooling of activities ``h`` (``h`` itself without)."""
        if self.pooling is None or self.pool_kernel is None:
            return h
        window = self.pool_kernel
        if self.n_spatial == 2:
            pool = F.max_pool2d if self.pooling == "max" else F.avg_pool2d
        else:
            pool = F.max_pool1d if self.pooling == "max" else F.avg_pool1d
            window = window[0]
        return pool(h, window, window)

    def forward(self, x: torch.Tensor, row_weight=None) -> torch.Tensor:
        return self.activate(self.conv(x, bias=self.bias), row_weight)


class ConvStackNet(LocalTrainingCore):
    """A stack of convolutional blocks trained with Forward-Forward, and a
    softmax head on their pooled outputs: what both convolutional networks
    share. A subclass says how the label enters (:meth:`_label_channels`,
    :meth:`block_outputs`, :meth:`block_scores`, :meth:`train_step`).

    Parameters
    ----------
    n_features, n_classes : int
        Flat input width (``prod(input_shape)``) and number of labels.
    input_shape : tuple of int
        ``(C, H, W)`` for images, ``(C, L)`` for 1-D signals; rows of ``X`` are
        reshaped to it (C-order, as ``X.reshape(n, *input_shape)``).
    channels : sequence of int
        Output channels of each block.
    kernel_size : int
        Odd or even; ``'same'`` padding keeps the spatial size.
    pooling : {"max", "avg", None}
        2-wide pooling after each block, skipped along a dimension of size 1
        (and entirely once every spatial dimension is 1).
    normalization : {"batch", "sample", "layer", "group"}
        Batch normalization after each block, or each sample's output
        RMS-normalized, standardized, or standardized per class group of
        channels before the next block (see the module docstring).
    head_grid : int
        Cells per spatial dimension of each block's average-pooled features
        for the softmax head.
    pooling_schedule : {"every", "stage"}
        Pool after every block, or after the last block of each run of equal
        ``channels`` and after the last block.
    shortcut : {None, "add"}
        Residual blocks (see the module docstring).
    goodness_power : {1, 2}
        Channel-wise class goodness: the mean of the group's activity
        squared (2) or as is (1).
    objective : Objective or dict, optional
        The local objective (what each subclass reads of it, see there).
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
        head_grid: int = 2,
        pooling_schedule: str = "every",
        shortcut: str | None = None,
        goodness_power: int = 2,
        objective: Objective | dict | None = None,
        seed: int = 0,
    ):
        super().__init__(objective)
        input_shape = check_input_shape(input_shape, int(n_features))
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
        if int(head_grid) < 1:
            raise ValueError(f"head_grid must be >= 1, got {head_grid}")
        if pooling_schedule not in POOLING_SCHEDULES:
            raise ValueError(
                f"unknown pooling_schedule {pooling_schedule!r}; expected one of "
                f"{POOLING_SCHEDULES}"
            )
        if shortcut not in SHORTCUTS:
            raise ValueError(
                f"unknown shortcut {shortcut!r}; expected one of {SHORTCUTS}"
            )
        if goodness_power not in GOODNESS_POWERS:
            raise ValueError(
                f"goodness_power must be one of {GOODNESS_POWERS}, got "
                f"{goodness_power!r}"
            )
        self.n_features = int(n_features)
        self.n_classes = int(n_classes)
        self.input_shape = input_shape
        self.channels = channels
        self.kernel_size = int(kernel_size)
        self.pooling = pooling
        self.normalization = normalization
        self.head_grid = int(head_grid)
        self.pooling_schedule = pooling_schedule
        self.shortcut = shortcut
        self.goodness_power = int(goodness_power)
        self.seed = int(seed)

        n_spatial = len(input_shape) - 1
        self.n_spatial = n_spatial
        gen = torch.Generator().manual_seed(self.seed)
        in_ch = input_shape[0] + self._label_channels()
        spatial = input_shape[1:]
        layers, sizes, head_in = [], [], 0
        self.block_shapes = []  # (C, *spatial) of every block's output
        for i, c in enumerate(channels):
            sizes.append(c * math.prod(spatial))
            pool_kernel = None
            stage_end = i + 1 == len(channels) or channels[i + 1] != c
            pools = pooling_schedule == "every" or stage_end
            if pooling is not None and pools and max(spatial) >= 2:
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
                    s // w for s, w in zip(spatial, pool_kernel, strict=True)
                )
            self.block_shapes.append((c, *spatial))
            head_in += c * math.prod(min(s, self.head_grid) for s in spatial)
            in_ch = c
        self.layers = nn.ModuleList(layers)
        self.hidden_sizes = sizes
        self.head = LinearHead(head_in, n_classes)
        self._register_peer_means(channels)

    def _label_channels(self) -> int:
        """Input channels the label adds to the image's (none here)."""
        return 0

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
            head_grid=self.head_grid,
            pooling_schedule=self.pooling_schedule,
            shortcut=self.shortcut,
            goodness_power=self.goodness_power,
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

    def _class_groups(self, i: int) -> torch.Tensor:
        """The (C, n_classes) one-hot class group of each channel of block
        ``i`` (channel-wise networks only)."""
        raise ValueError(
            "normalization='group' normalizes each class's channel group; it "
            "needs label_mode='channelwise'"
        )

    def _normalized(self, i: int, h: torch.Tensor) -> torch.Tensor:
        """Block ``i``'s output as the next block reads it: as is after batch
        normalization, RMS-normalized per sample (``"sample"``), standardized
        per sample (``"layer"``) or per sample and class group of channels
        (``"group"``)."""
        if self.normalization == "batch":
            return h
        if self.normalization == "sample":
            return _rms_normalize_sample(h)
        if self.normalization == "layer":
            return _layer_normalize(h)
        return _group_normalize(h, self._class_groups(i))

    def _shortcut(self, i: int, inp: torch.Tensor) -> torch.Tensor | None:
        """Block ``i``'s input brought to the shape of its output without
        parameters: average-pooled where the block pools, zero channels
        appended where it widens; None where it narrows."""
        out_channels = self.block_shapes[i][0]
        if inp.shape[1] > out_channels:
            return None
        window = self.layers[i].pool_kernel
        if self.layers[i].pooling is not None and window is not None:
            if self.n_spatial == 2:
                inp = F.avg_pool2d(inp, window, window)
            else:
                inp = F.avg_pool1d(inp, window[0], window[0])
        if inp.shape[1] < out_channels:
            pad = (0, 0) * self.n_spatial + (0, out_channels - inp.shape[1])
            inp = F.pad(inp, pad)
        return inp

    def _passed_on(self, i: int, h: torch.Tensor, inp: torch.Tensor) -> torch.Tensor:
        """What block ``i`` passes on (to the next block and the head): its
        normalized output ``h``, plus its input ``inp`` through the shortcut
        (``shortcut="add"``, from the second block on)."""
        out = self._normalized(i, h)
        if self.shortcut == "add" and i > 0:
            skip = self._shortcut(i, inp)
            if skip is not None:
                out = out + skip
        return out

    def _passes_on(self, i: int) -> bool:
        """Whether anything reads what block ``i`` passes on: the next block,
        or (with shortcuts) the head."""
        return i + 1 < len(self.layers) or self.shortcut is not None

    def _propagate(self, h: torch.Tensor) -> tuple[list, list]:
        """Every block's output, and what each passes on (where something
        reads it, :meth:`_passes_on`), given the first block's output."""
        outs, passed = [h], []
        for i, layer in enumerate(self.layers):
            if i > 0:
                h = layer(passed[-1])
                outs.append(h)
            if self._passes_on(i):
                passed.append(self._passed_on(i, h, passed[-1] if i else None))
        return outs, passed

    def _head_inputs(self, outs: list, passed: list) -> list:
        """What the head reads of every block: its output, or what it passes
        on with shortcuts (the output and its shortcut)."""
        return outs if self.shortcut is None else passed

    #: Cost of a block's element-wise work (normalization, goodness, pooling,
    #: their backward) per output activity, in multiply-adds: fitted to the
    #: blocks' 1-thread CPU times (``benchmarks/distributed.py --per-block``).
    ELEMENTWISE_COST = 256

    def layer_costs(self) -> list:
        """Relative compute of each block per row: its convolution's
        multiply-adds (kernel volume times input channels times output
        channels times positions) plus :attr:`ELEMENTWISE_COST` per output
        activity before pooling."""
        costs, in_ch = [], self.input_shape[0] + self._label_channels()
        spatial = self.input_shape[1:]
        for layer, shape in zip(self.layers, self.block_shapes, strict=True):
            kernel = math.prod(layer.weight.shape[2:])
            outputs = shape[0] * math.prod(spatial)
            costs.append(float((kernel * in_ch + self.ELEMENTWISE_COST) * outputs))
            in_ch, spatial = shape[0], shape[1:]
        return costs

    def peer_activity(self, h: torch.Tensor) -> torch.Tensor:
        """Each channel's mean activity over its positions, shape (n, C)."""
        return h.float().flatten(2).mean(dim=2)

    # -- readouts ----------------------------------------------------------------------
    def _passes(self, x: torch.Tensor) -> tuple[list, list]:
        """Every block's output and what it passes on, for flat input ``x``
        (:meth:`_propagate` from the first block's output)."""
        raise NotImplementedError

    def block_outputs(self, x: torch.Tensor) -> list:
        """Every block's output for flat input ``x``."""
        return self._passes(x)[0]

    def block_scores(self, x: torch.Tensor) -> torch.Tensor:
        """Per-block class scores, shape (n_blocks, n, n_classes). Unscaled."""
        raise NotImplementedError

    def label_logits(
        self, x: torch.Tensor, n_valid=None, max_rows=None
    ) -> torch.Tensor:
        """Goodness readout: class scores summed over blocks, times the
        objective's ``logit_scale``, shape (n, n_classes). (``n_valid`` and
        ``max_rows``, the other cores' bounds on label scoring, are accepted
        and not needed.)"""
        return self.objective.logit_scale * self.block_scores(x).sum(dim=0)

    def head_logits(self, x: torch.Tensor) -> torch.Tensor:
        """One-pass readout: the softmax head on the blocks' pooled features."""
        return self.head(self._features(self._head_inputs(*self._passes(x))))


class ChannelwiseConvNet(ConvStackNet):
    """Convolutional blocks whose channels compete by class (CwComp).

    Every block's output channels are split into ``n_classes`` contiguous
    groups (so ``channels`` must be at least ``n_classes`` each); the block's
    loss is the cross-entropy of the true class against its groups' goodness
    (:meth:`class_goodness`) times the objective's ``logit_scale``, plus peer
    normalization. Of the objective it reads ``goodness`` (mean or sum within
    a channel group), ``logit_scale`` and ``peer_normalization``. No negative
    data; prediction is one pass. Parameters as :class:`ConvStackNet`.
    """

    def __init__(self, n_features: int, n_classes: int, *args, **kwargs):
        super().__init__(n_features, n_classes, *args, **kwargs)
        if min(self.channels) < self.n_classes:
            raise ValueError(
                f"label_mode='channelwise' splits each block's channels into "
                f"n_classes={self.n_classes} groups; channels={self.channels} has "
                f"fewer"
            )
        for i, c in enumerate(self.channels):
            # channel j belongs to class floor(j * n_classes / c)
            owner = torch.arange(c) * self.n_classes // c
            m = F.one_hot(owner, self.n_classes).float()
            self.register_buffer(f"group_{i}", m, persistent=False)

    def class_goodness(self, i: int, h: torch.Tensor) -> torch.Tensor:
        """Goodness of every class's channel group in block ``i``'s output,
        shape (n, n_classes), float32.

        The output is normalized (batch normalization, or RMS normalization
        per sample, which makes the groups compete for a fixed energy: a
        group's goodness is then its share, at most ``n_classes`` with
        ``goodness="mean"``), so the block cannot lower its loss by silencing
        every group, and the scores of different blocks are on a similar
        scale when they are summed."""
        h = h.float()
        if self.normalization in ("batch", "sample"):
            h = self._normalized(i, h)
        activity = h.pow(2) if self.goodness_power == 2 else h
        per_channel = activity.flatten(2).mean(dim=2)  # (n, C)
        m = getattr(self, f"group_{i}")
        with torch.autocast(h.device.type, enabled=False):
            g = per_channel @ m
            if self.objective.goodness == "mean":
                g = g / m.sum(dim=0)
            else:
                g = g * h[0, 0].numel()
        return g

    def _class_groups(self, i: int) -> torch.Tensor:
        return getattr(self, f"group_{i}")

    def _class_scores(self, hs) -> torch.Tensor:
        """Every block's class goodness, shape (n_blocks, n, n_classes)."""
        return torch.stack([self.class_goodness(i, h) for i, h in enumerate(hs)])

    def _passes(self, x: torch.Tensor) -> tuple[list, list]:
        return self._propagate(self.layers[0](self._image(x)))

    def block_scores(self, x: torch.Tensor) -> torch.Tensor:
        """Each channel group's goodness in every block, shape (n_blocks, n,
        n_classes). Unscaled."""
        return self._class_scores(self.block_outputs(x))

    def readout_logits(
        self, x: torch.Tensor, n_valid=None, max_rows=None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(label_logits(x), head_logits(x))`` from one pass through the
        blocks."""
        outs, passed = self._passes(x)
        scores = self.objective.logit_scale * self._class_scores(outs).sum(dim=0)
        return scores, self.head(self._features(self._head_inputs(outs, passed)))

    def train_step(
        self, x: torch.Tensor, y: torch.Tensor, generator=None, weight=None
    ) -> torch.Tensor:
        """One mini-batch of layer-local training; returns the losses of each
        block and of the head (1-D tensor). ``weight`` (one float per row,
        optional) makes every loss a weighted mean over the rows.
        ``generator`` is not needed (no negatives)."""
        return self.staged_step(x, y, generator, weight)

    def train_begin(
        self, x, y, probs=None, generator=None, weight=None, shared=None
    ) -> tuple:
        """The image entering block 0, and the (so far empty) features of the
        head."""
        inp = self._image(x)
        return inp, inp.new_zeros((x.shape[0], 0))

    def train_layer(self, i: int, carry: tuple, y, weight=None) -> tuple:
        """Block ``i``'s step on its input: the cross-entropy of the true class
        against the class goodness. Returns what it passes on with the
        head's features so far (its own pooled output added), and its loss."""
        obj = self.objective
        inp, feats = carry
        h = self.layers[i](inp, weight)
        g = self.class_goodness(i, h)
        if weight is None:
            loss = F.cross_entropy(obj.logit_scale * g, y)
        else:
            loss = weighted_mean(
                F.cross_entropy(obj.logit_scale * g, y, reduction="none"), weight
            )
        if obj.peer_normalization > 0:
            loss = loss + obj.peer_normalization * self.peer_penalty(i, h, weight)
        self.update_layer(i, loss)
        h = h.detach()
        if self._passes_on(i):
            inp = self._passed_on(i, h, inp)
        feats = torch.cat(
            [feats, self._features([h if self.shortcut is None else inp])], 1
        )
        if i + 1 == len(self.layers):
            inp = h.new_zeros(0)
        return (inp, feats), loss.detach()

    def train_end(self, carry, y, weight=None):
        """The head's step on every block's pooled output; its loss."""
        return self.update_head(carry[1], y, weight)[0]


class LabelInputConvNet(ConvStackNet):
    """Convolutional blocks reading the label as input channels (the FF
    classic).

    The one-hot label is added as ``n_classes`` constant input channels of
    strength ``label_strength``. Each block sees positives (true label) and
    negatives (wrong labels drawn by the objective's ``negatives``) and
    minimizes the objective's ``loss`` on their goodness
    (:meth:`~LocalTrainingCore.layer_loss`, peer normalization per channel).
    Prediction scores every label (``n_classes`` passes); the first
    convolution of the image is computed once and every label only adds its
    own (precomputed) feature map. The head reads the blocks with the neutral
    label ``label_strength / n_classes``. Parameters as
    :class:`ConvStackNet`; it uses all of the objective.
    """

    def __init__(self, n_features: int, n_classes: int, *args, **kwargs):
        super().__init__(n_features, n_classes, *args, **kwargs)
        if self.normalization == "group" or self.goodness_power != 2:
            raise ValueError(
                "normalization='group' and goodness_power=1 read the class "
                "groups of channels; they need label_mode='channelwise'"
            )

    def _label_channels(self) -> int:
        return self.n_classes

    def _input_part(self, x: torch.Tensor) -> torch.Tensor:
        """First convolution of the image channels, bias included."""
        layer = self.layers[0]
        n_channels = self.input_shape[0]
        return layer.conv(x, layer.weight[:, :n_channels], layer.bias)

    def _label_maps(self, like: torch.Tensor) -> torch.Tensor:
        """(n_classes, out * positions): the first convolution of each one-hot
        label's constant channels (edges included, through the zero padding)."""
        layer = self.layers[0]
        n_channels, n_classes = self.input_shape[0], self.n_classes
        planes = torch.eye(n_classes, device=like.device, dtype=like.dtype)
        planes = planes.reshape(n_classes, n_classes, *([1] * self.n_spatial))
        planes = planes.expand(n_classes, n_classes, *self.input_shape[1:])
        if like.device.type == "cuda" and self.n_spatial == 2:
            planes = planes.contiguous(memory_format=torch.channels_last)
        maps = layer.conv(
            self.objective.label_strength * planes, layer.weight[:, n_channels:]
        )
        return maps.flatten(1)

    def _first_block(
        self, part: torch.Tensor, add: torch.Tensor, row_weight=None
    ) -> torch.Tensor:
        z = part + add.reshape(add.shape[0], *part.shape[1:]).to(part.dtype)
        return self.layers[0].activate(z, row_weight)

    def _passes(self, x: torch.Tensor) -> tuple[list, list]:
        """Every block's output and what it passes on, with the neutral
        label."""
        part = self._input_part(self._image(x))
        neutral = self._label_maps(part).mean(dim=0, keepdim=True)
        return self._propagate(self._first_block(part, neutral.expand(len(x), -1)))

    def block_scores(self, x: torch.Tensor) -> torch.Tensor:
        """Every block's goodness with each label in the input, shape
        (n_blocks, n, n_classes). Unscaled."""
        n, n_classes = x.shape[0], self.n_classes
        part = self._input_part(self._image(x))
        maps = self._label_maps(part)
        rep = part.repeat_interleave(n_classes, dim=0)
        hs = self._propagate(self._first_block(rep, maps.repeat(n, 1)))[0]
        return torch.stack(
            [
                goodness(h.flatten(1), self.objective.goodness).view(n, n_classes)
                for h in hs
            ]
        )

    def train_step(
        self, x: torch.Tensor, y: torch.Tensor, generator=None, weight=None
    ) -> torch.Tensor:
        """One mini-batch of layer-local training; returns the losses of each
        block and of the head (1-D tensor). ``weight`` (one float per row,
        optional) makes every loss a weighted mean over the rows; a row's
        negatives carry its weight (in the batch statistics too)."""
        n = x.shape[0]
        part = self._input_part(self._image(x))
        maps = self._label_maps(part)
        with torch.no_grad():
            # the head's features as prediction computes them (without
            # autograd, batch normalization reads its running averages)
            neutral = maps.detach().mean(dim=0, keepdim=True).expand(n, -1)
            outs, passed = self._propagate(self._first_block(part.detach(), neutral))
            feats = self._features(self._head_inputs(outs, passed))
        head_loss, probs = self.update_head(feats, y, weight)
        y_neg = self.negative_labels(y, self.n_classes, probs, generator)
        n_negatives = y_neg.shape[0] // n
        add = torch.cat([take_rows(maps, y), take_rows(maps, y_neg)])
        row_weight = None if weight is None else weight.repeat(n_negatives + 1)
        h = self._first_block(torch.cat([part] + [part] * n_negatives), add, row_weight)
        losses, inp = [], None
        for i, layer in enumerate(self.layers):
            if i > 0:
                h = layer(inp, row_weight)
            loss = self.layer_loss(i, h, n, weight)
            self.update_layer(i, loss)
            losses.append(loss.detach())
            if i + 1 < len(self.layers):  # the head's features came above
                inp = self._passed_on(i, h.detach(), inp)
        losses.append(head_loss)
        return torch.stack(losses)


#: The convolutional network of each ``label_mode`` (the estimator's parameter;
#: also how models saved with the former single class ``ConvFFNet`` load).
CONV_NETS = {"channelwise": ChannelwiseConvNet, "input": LabelInputConvNet}
