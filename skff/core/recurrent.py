"""Placeholder replaced by the recurrent core."""

from torch import nn


class RecurrentFFNet(nn.Module):
    """Recurrent (top-down) Forward-Forward network (not yet implemented)."""
