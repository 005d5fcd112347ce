"""Layers with seeded initial weights: the feed-forward ReLU layer, the
recurrent layer (bottom-up and top-down weights) and the linear readout head."""

import math

import torch
import torch.nn.functional as F
from torch import nn


def _uniform(shape, bound, generator):
    return (torch.rand(*shape, generator=generator) * 2 - 1) * bound


class FFLinear(nn.Module):
    """A fully connected ReLU layer whose initial weights come from a generator.

    Weights are drawn uniformly in ``±1/sqrt(in_features)`` (PyTorch's default
    scale for ``nn.Linear``), biases start at zero.
    """

    def __init__(self, in_features: int, out_features: int, generator=None):
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        w = torch.rand(out_features, in_features, generator=generator) * 2 - 1
        self.weight = nn.Parameter(w * bound)
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(F.linear(x, self.weight, self.bias))


class LinearHead(nn.Module):
    """A linear readout starting at zero (uniform predictions, no RNG used)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


class RecurrentFFLayer(nn.Module):
    """A hidden layer of the recurrent net: bottom-up weights from the layer
    below, top-down weights from the layer above, one bias.

    Both weight matrices belong to this module, so the layer's own optimizer
    trains both. Each is drawn uniformly in ``±1/sqrt(fan_in)`` of its own
    side (``n_below`` for ``weight_up``, ``n_above`` for ``weight_down``), so
    the layer below and the layer above start with the same share of the
    pre-activation whatever their widths. The bias starts at zero.
    """

    def __init__(self, n_below: int, n_out: int, n_above: int, generator=None):
        super().__init__()
        up, down = 1.0 / math.sqrt(n_below), 1.0 / math.sqrt(n_above)
        self.weight_up = nn.Parameter(_uniform((n_out, n_below), up, generator))
        self.weight_down = nn.Parameter(_uniform((n_out, n_above), down, generator))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def bottom_up(self, below: torch.Tensor) -> torch.Tensor:
        """Bottom-up pre-activation (bias included)."""
        return F.linear(below, self.weight_up, self.bias)

    def top_down(self, above: torch.Tensor) -> torch.Tensor:
        """Top-down pre-activation (no bias)."""
        return F.linear(above, self.weight_down)
