"""Hybrid negative images of ``FFTransformer(negatives="hybrid")`` on the 8x8
digits (drawn for the user guide).

Run by the ``.. plot::`` directive of matplotlib while the documentation is
built; nothing is trained here. The masks come from the core's own
``blur_mask`` and are mixed as ``UnsupervisedFFNet.negative`` mixes them:
the hybrid takes image a where the mask is set and image b elsewhere.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits

from skff.core.negatives import blur_mask

X, y = load_digits(return_X_y=True)
X = torch.as_tensor(X / 16.0, dtype=torch.float32)
first_of = {int(c): int(np.flatnonzero(y == c)[0]) for c in np.unique(y)}
pairs = [(0, 6), (1, 7), (3, 8), (4, 9)]  # digit classes of image a and image b
a = X[[first_of[i] for i, _ in pairs]]
b = X[[first_of[j] for _, j in pairs]]

n = len(pairs)
generator = torch.Generator().manual_seed(0)
mask = blur_mask(n, (8, 8), generator)  # (n, 8, 8), boolean
hybrid = torch.where(mask.reshape(n, -1), a, b)

columns = {
    "image a": (a, "gray_r"),
    "image b": (b, "gray_r"),
    "mask\n(white: from a)": (mask.float(), "gray"),
    "hybrid\n(negative row)": (hybrid, "gray_r"),
}
fig, axes = plt.subplots(n, len(columns), figsize=(6, 6.4))
for col, (title, (images, cmap)) in enumerate(columns.items()):
    axes[0, col].set_title(title, fontsize=10)
    for row in range(n):
        ax = axes[row, col]
        ax.imshow(images[row].reshape(8, 8), cmap=cmap, vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
fig.tight_layout()
