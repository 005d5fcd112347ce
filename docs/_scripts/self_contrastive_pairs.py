"""Self-contrastive pairs of ``FFTransformer()`` (the defaults:
``negatives="self_contrastive"``, ``pair_weights="shared"``,
``input_normalization="standardize"``) on the 8x8 digits (drawn for the user
guide).

Run by the ``.. plot::`` directive of matplotlib while the documentation is
built; nothing is trained here. The rows are prepared, paired and summed by
the core's own code (``UnsupervisedFFNet.prepare``, ``positive`` and
``negative``): the first layer reads the pair ``(x, x)`` of a real row as
``2 x̂`` and the pair ``(x, x_j)`` of its negative as ``x̂ + x̂_j``, where
``x̂`` is the row centered on the training mean and standardized, and ``x_j``
another row of the mini-batch.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits

from skff.core import UnsupervisedFFNet

X, y = load_digits(return_X_y=True)
X = torch.as_tensor(X / 16.0, dtype=torch.float32)
core = UnsupervisedFFNet(
    64,
    [8],
    negatives="self_contrastive",
    pair_weights="shared",
    input_normalization="standardize",
)
core.set_input_offset(X.mean(0))

# a mini-batch of ten images, the first of every digit class
batch = X[[int(np.flatnonzero(y == c)[0]) for c in range(10)]]
xp = core.prepare(batch)
positive = core.positive(xp)  # 2 x̂
negative = core.negative(xp, torch.Generator().manual_seed(0))  # x̂ + x̂_j
# which row of the mini-batch each negative took as its partner x_j
residual = (negative[:, None, :] - xp[:, None, :] - xp[None, :, :]).abs().amax(2)
partner = residual.argmin(1)
assert torch.all(residual[torch.arange(len(xp)), partner] < 1e-5)
assert torch.all(partner != torch.arange(len(xp)))

rows = [0, 1, 6]  # digits shown (their partners: 9, 2 and 4)
images = {
    "image $x$": (batch[rows], "gray_r"),
    "other image $x_j$": (batch[partner[rows]], "gray_r"),
    "positive\n$2\\hat{x}$": (positive[rows], "RdBu_r"),
    "negative\n$\\hat{x} + \\hat{x}_j$": (negative[rows], "RdBu_r"),
}
# one symmetric colour scale for the first-layer inputs (0 is white)
vmax = float(torch.cat([positive[rows], negative[rows]]).abs().max())

fig, axes = plt.subplots(len(rows), len(images), figsize=(6.6, 5), layout="constrained")
for col, (title, (values, cmap)) in enumerate(images.items()):
    axes[0, col].set_title(title, fontsize=10)
    limits = (0, 1) if cmap == "gray_r" else (-vmax, vmax)
    for row in range(len(rows)):
        ax = axes[row, col]
        shown = ax.imshow(
            values[row].reshape(8, 8), cmap=cmap, vmin=limits[0], vmax=limits[1]
        )
        ax.set_xticks([])
        ax.set_yticks([])
fig.colorbar(shown, ax=axes[:, 2:], shrink=0.8, label="first-layer input")
