"""Negative labels: wrong labels drawn uniformly, by the model's beliefs, or the
model's favourite wrong labels. None of them ever returns the true label.

Each function returns ``k`` distinct wrong labels per row, shape ``(n, k)``;
``k`` must be at most ``n_classes - 1``."""

import torch


def uniform_wrong_labels(
    y: torch.Tensor,
    n_classes: int,
    generator: torch.Generator | None = None,
    k: int = 1,
) -> torch.Tensor:
    """``k`` distinct labels drawn uniformly among the ``n_classes - 1`` classes
    other than ``y``."""
    if k == 1:
        shift = torch.randint(
            1, n_classes, y.shape, generator=generator, device=y.device, dtype=y.dtype
        )
        return ((y + shift) % n_classes).unsqueeze(1)
    keys = torch.rand(y.shape[0], n_classes - 1, generator=generator, device=y.device)
    shift = keys.argsort(dim=1)[:, :k].to(y.dtype) + 1
    return (y.unsqueeze(1) + shift) % n_classes


def _wrong_class_probs(
    probs: torch.Tensor, y: torch.Tensor, floor: float
) -> torch.Tensor:
    # a small floor keeps every wrong class possible, and a row whose mass sits
    # entirely on the true class (or that is not finite, in a diverging model)
    # falls back to uniform
    p = torch.nan_to_num(probs.float(), nan=0.0, posinf=1.0, neginf=0.0)
    p = p.clamp_min(0.0) + floor
    p.scatter_(1, y.unsqueeze(1), 0.0)
    return p


def sample_wrong_labels(
    probs: torch.Tensor,
    y: torch.Tensor,
    generator: torch.Generator | None = None,
    floor: float = 1e-6,
    k: int = 1,
) -> torch.Tensor:
    """Hard negatives: ``k`` distinct wrong labels drawn in proportion to
    ``probs`` (true class excluded, without replacement), as in Hinton's code."""
    p = _wrong_class_probs(probs, y, floor)
    return torch.multinomial(p, k, generator=generator)


def hardest_wrong_labels(
    probs: torch.Tensor, y: torch.Tensor, k: int = 1
) -> torch.Tensor:
    """The ``k`` most probable wrong labels of each row (teacher forcing in the
    language model of the Forward-Forward paper)."""
    p = _wrong_class_probs(probs, y, 0.0)
    p.scatter_(1, y.unsqueeze(1), -1.0)
    if k == 1:
        return p.argmax(dim=1, keepdim=True)
    return p.topk(k, dim=1).indices
