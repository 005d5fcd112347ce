"""Negative labels: wrong labels drawn uniformly, by the model's beliefs, or the
model's favourite wrong label. None of them ever returns the true label."""

import torch


def uniform_wrong_labels(
    y: torch.Tensor, n_classes: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A label drawn uniformly among the ``n_classes - 1`` classes other than ``y``."""
    shift = torch.randint(
        1, n_classes, y.shape, generator=generator, device=y.device, dtype=y.dtype
    )
    return (y + shift) % n_classes


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
) -> torch.Tensor:
    """Hard negatives: a wrong label drawn in proportion to ``probs`` (true class
    excluded), as in Hinton's code."""
    p = _wrong_class_probs(probs, y, floor)
    return torch.multinomial(p, 1, generator=generator).squeeze(1)


def hardest_wrong_labels(probs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The most probable wrong label of each row (teacher forcing in the language
    model of the Forward-Forward paper)."""
    p = _wrong_class_probs(probs, y, 0.0)
    p.scatter_(1, y.unsqueeze(1), -1.0)
    return p.argmax(dim=1)
