"""Negative data, every draw from a seeded :class:`torch.Generator`.

Negative labels (the classifiers' cores): wrong labels drawn uniformly, by the
model's beliefs, or the model's favourite wrong labels. None of them ever
returns the true label. Each returns ``k`` distinct wrong labels per row, shape
``(n, k)``; ``k`` must be at most ``n_classes - 1``.

Negative rows (the unsupervised core, :data:`UNSUPERVISED_NEGATIVES`; Hinton,
2022, section 3; Chen et al., Self-Contrastive Forward-Forward, 2025):

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

import torch
import torch.nn.functional as F

UNSUPERVISED_NEGATIVES = ("hybrid", "self_contrastive", "corrupt")

#: Number of blurs of the random bits that make a hybrid mask.
BLUR_STEPS = 6


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


# -- negative rows (no labels) -------------------------------------------------------
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


def positive_rows(x: torch.Tensor, kind: str) -> torch.Tensor:
    """What the first layer reads for real rows ``x`` under negatives
    ``kind``: ``[x, x]`` for ``"self_contrastive"``, else ``x``."""
    if kind == "self_contrastive":
        return torch.cat([x, x], dim=1)
    return x


def negative_rows(
    x: torch.Tensor, kind: str, input_shape=None, generator=None
) -> torch.Tensor:
    """One negative row of kind ``kind`` for every row of ``x`` (shaped as
    :func:`positive_rows` is); ``input_shape`` (``(C, H, W)``, ``(C, L)`` or
    None) is the shape the hybrid masks are smooth in."""
    n, d = x.shape
    device = x.device
    if kind == "corrupt":
        idx = other_rows(n, (n, d), generator, device)
        return torch.gather(x, 0, idx)
    partner = x[other_rows(n, (n,), generator, device)]
    if kind == "self_contrastive":
        return torch.cat([x, partner], dim=1)
    spatial = (d,) if input_shape is None else tuple(input_shape[1:])
    mask = blur_mask(n, spatial, generator, device).view(n, 1, -1)
    channels = 1 if input_shape is None else input_shape[0]
    mask = mask.expand(n, channels, mask.shape[2]).reshape(n, d)
    return torch.where(mask, x, partner)
