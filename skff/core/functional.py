"""Goodness, Forward-Forward losses and length normalization (pure functions)."""

import torch
import torch.nn.functional as F

GOODNESS = ("mean", "sum")
LOSSES = ("logistic", "symba")


def rms_normalize(h: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Divide each row by its root mean square, so only its direction passes on.

    The length of a layer's activity vector carries its goodness; removing it
    forces the next layer to use the relative activities (Hinton, 2022). The
    statistic is computed in float32 even for bfloat16 activities.
    """
    return h * torch.rsqrt(h.float().pow(2).mean(dim=-1, keepdim=True) + eps)


def take_rows(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``table[index]`` with a deterministic backward pass.

    Indexing's backward adds gradients with an atomic scatter, whose order,
    and so whose float32 rounding, changes between runs on more than one CPU
    thread or on a GPU. A one-hot matrix product gives the same values (each
    output is one entry times 1 plus zeros, exact) and a backward pass that is
    an ordinary matrix product. Autocast is off for it: the rows stay exact.
    """
    onehot = F.one_hot(index, table.shape[0]).to(table.dtype)
    with torch.autocast(table.device.type, enabled=False):
        return onehot @ table


class _SplitColumns(torch.autograd.Function):
    """``(w[:, :at], w[:, at:])`` with one gradient buffer: the backward pass
    concatenates the two parts' gradients. Slicing a weight twice instead
    makes each slice's backward fill a zero tensor of the weight's shape and
    then adds the two, which on a wide first layer cost a quarter of a
    small-batch training step."""

    @staticmethod
    def forward(ctx, w: torch.Tensor, at: int):
        ctx.at, ctx.shape = at, w.shape
        ctx.set_materialize_grads(False)  # an unused part's gradient is None
        return w[:, :at], w[:, at:]

    @staticmethod
    def backward(ctx, g_left, g_right):
        rows, cols = ctx.shape
        if g_left is None and g_right is None:
            return None, None
        if g_left is None:
            g_left = g_right.new_zeros(rows, ctx.at)
        if g_right is None:
            g_right = g_left.new_zeros(rows, cols - ctx.at)
        return torch.cat([g_left, g_right], dim=1), None


def split_columns(w: torch.Tensor, at: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The columns of ``w`` before and from ``at``, sharing one gradient
    buffer in the backward pass (the same values as slicing)."""
    if not (w.requires_grad and torch.is_grad_enabled()):
        return w[:, :at], w[:, at:]
    return _SplitColumns.apply(w, at)


def goodness(h: torch.Tensor, kind: str = "mean") -> torch.Tensor:
    """Goodness of each row of activities: the mean or sum of squares, in
    float32 even for bfloat16 activities (``precision="bf16"``)."""
    sq = h.float().pow(2)
    if kind == "mean":
        return sq.mean(dim=-1)
    if kind == "sum":
        return sq.sum(dim=-1)
    raise ValueError(f"unknown goodness {kind!r}; expected one of {GOODNESS}")


def weighted_mean(values: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``values`` (shape ``(n,)`` or ``(n, k)``) over their rows, row
    ``i`` counting ``weight[i]`` times: ``sum_i w_i l_i / sum_i w_i`` (averaged
    over the ``k`` columns). ``None`` is the plain mean. Rows of zero weight
    contribute nothing; a batch whose weights are all zero has mean 0 (and no
    gradient), not NaN."""
    if weight is None:
        return values.mean()
    w = weight.to(values.dtype)
    per_row = values.reshape(values.shape[0], -1).mean(dim=1)
    total = w.sum().clamp_min(torch.finfo(w.dtype).tiny)
    return (per_row * w).sum() / total


def ff_loss(
    g_pos: torch.Tensor,
    g_neg: torch.Tensor,
    *,
    kind: str = "logistic",
    threshold: float = 2.0,
    symba_scale: float = 4.0,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Local Forward-Forward loss of one layer.

    ``g_pos`` has shape ``(n,)``; ``g_neg`` has shape ``(n,)`` or ``(n, k)``:
    ``k`` negatives for each positive. ``weight`` (shape ``(n,)``, optional)
    weights each positive and the negatives made from it alike: the loss is
    then a weighted mean over the rows (see :func:`weighted_mean`).

    ``logistic``: ``p(positive) = sigmoid(g - threshold)``; the loss is the mean
    negative log-likelihood over the positive and over the negative rows.
    ``symba``: the symmetric pairwise loss ``softplus(-symba_scale * (g_pos - g_neg))``
    of Lee & Song (2023), with each positive paired with its own negative; with
    ``k`` negatives, ``log(1 + sum_j exp(-symba_scale * (g_pos - g_neg_j)))``, the
    cross-entropy of picking the positive among itself and its negatives (the
    same loss for ``k = 1``).
    """
    if kind == "logistic":
        return 0.5 * (
            weighted_mean(F.softplus(threshold - g_pos), weight)
            + weighted_mean(F.softplus(g_neg - threshold), weight)
        )
    if kind == "symba":
        if g_neg.dim() == 1 or g_neg.shape[1] == 1:
            return weighted_mean(
                F.softplus(-symba_scale * (g_pos - g_neg.reshape(g_pos.shape))), weight
            )
        z = -symba_scale * (g_pos.unsqueeze(1) - g_neg)
        return weighted_mean(torch.logsumexp(F.pad(z, (1, 0)), dim=1), weight)
    raise ValueError(f"unknown loss {kind!r}; expected one of {LOSSES}")
