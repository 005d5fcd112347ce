"""
Convolutional Forward-Forward: filters, class goodness maps, blocks
===================================================================

Train :class:`skff.FFConvClassifier` on scikit-learn's 8x8 digits. ``X``
stays a 2-D array of 64 features; ``input_shape=(1, 8, 8)`` tells the network
to read each row as a one-channel 8x8 image.

With the default ``label_mode="channelwise"`` every block splits its output
channels into one group per class. The goodness of class :math:`c` is the
mean squared activity of :math:`c`'s group (the block ends in batch
normalization, so each channel's mean square over the images is held near a
constant and the groups compete for the images), and each block is trained on
its own cross-entropy over these class goodnesses. We look
at

* the filters the first block learned, arranged by the class that owns them,
* where in a test image each class's channel group is active (block 0),
* how well each block classifies on its own
  (:meth:`~skff.FFConvClassifier.block_scores`).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skff import FFConvClassifier

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

# %%
# Three blocks of 20, 40 and 80 channels (two, four and eight per class) with
# 5x5 kernels; each block pools by 2, so the 8x8 image becomes 4x4, 2x2 and
# 1x1.
clf = FFConvClassifier(
    input_shape=(1, 8, 8),
    channels=(20, 40, 80),
    kernel_size=5,
    max_iter=20,
    batch_size=50,
    random_state=0,
).fit(X_train, y_train)
print(f"FFConvClassifier test accuracy: {clf.score(X_test, y_test):.4f}")

# %%
# Filters of block 0
# ------------------
# ``clf.core_.layers[0].weight`` has shape (out channels, in channels, 5, 5).
# Channel ``j`` of a block with ``C`` channels belongs to class
# ``j * n_classes // C``: here channels 0 and 1 are the group of digit 0,
# channels 2 and 3 that of digit 1, and so on. Each column shows one group.
n_classes = len(clf.classes_)
weight = clf.core_.layers[0].weight.detach().cpu().numpy()[:, 0]  # (20, 5, 5)
n_channels = weight.shape[0]
owner = np.arange(n_channels) * n_classes // n_channels
per_group = n_channels // n_classes
lim = np.abs(weight).max()
fig, axes = plt.subplots(per_group, n_classes, figsize=(1.3 * n_classes, 2.9))
for c in range(n_classes):
    for row, j in enumerate(np.flatnonzero(owner == c)):
        ax = axes[row, c]
        ax.imshow(weight[j], cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set(xticks=[], yticks=[])
        if row == 0:
            ax.set_title(f"class {clf.classes_[c]}")
fig.suptitle("Block 0 filters, one column per class's channel group (red > 0)")
fig.tight_layout()
plt.show()

# %%
# Class goodness maps
# -------------------
# ``clf.core_.layers[0]`` is block 0 (convolution, ReLU, 2x2 max pooling,
# batch normalization with its running averages) as a torch module; it takes
# the images as a (n, 1, 8, 8) tensor. Its output squared, then averaged over
# each class's channels, gives one 4x4 map per class. The mean of
# a map over its 16 positions is that class's goodness in block 0, which is
# exactly what :meth:`~skff.FFConvClassifier.block_scores` returns for block 0.
images = [0, 1, 2, 3]
layer = clf.core_.layers[0]
x = torch.as_tensor(X_test[images], dtype=torch.float32, device=layer.weight.device)
with torch.no_grad():
    h = layer(x.reshape(-1, *clf.core_.input_shape)).double()  # (4, 20, 4, 4)
    sq = h.pow(2).cpu().numpy()
maps = np.stack([sq[:, owner == c].mean(axis=1) for c in range(n_classes)], axis=1)
g = maps.mean(axis=(2, 3))  # (4, n_classes): block 0's class goodness
assert np.allclose(g, clf.block_scores(X_test[images])[0], atol=1e-4)

fig, axes = plt.subplots(
    len(images), n_classes + 1, figsize=(1.25 * (n_classes + 1), 1.45 * len(images))
)
for row, i in enumerate(images):
    ax = axes[row, 0]
    ax.imshow(X_test[i].reshape(8, 8), cmap="gray_r")
    ax.set(xticks=[], yticks=[], title=f"digit {y_test[i]}")
    for c in range(n_classes):
        ax = axes[row, c + 1]
        ax.imshow(maps[row, c], cmap="magma", vmin=0, vmax=maps[row].max())
        ax.set(xticks=[], yticks=[])
        best = c == g[row].argmax()
        ax.set_title(
            f"{clf.classes_[c]}: {g[row, c]:.2f}",
            fontsize=9,
            fontweight="bold" if best else "normal",
            color="tab:blue" if clf.classes_[c] == y_test[i] else "black",
        )
fig.suptitle(
    "Block 0: mean squared normalized activity of each class's channels per "
    "position\n(title: class and its goodness; blue: true class; bold: block 0's "
    "choice)",
    fontsize=10,
)
fig.tight_layout()
plt.show()

# %%
# What each block has learned
# ---------------------------
# ``block_scores`` returns every block's class goodness, shape
# (n_blocks, n_samples, n_classes); its argmax is the block's own prediction.
# Block 0 sees 5x5 patches (6x6 after pooling) and judges the whole image by
# how much of each patch type it contains, which is not enough to tell every
# digit apart; the later blocks see the whole image. The goodness readout sums
# the blocks' scores, the softmax readout is a linear head on their outputs.
scores = clf.block_scores(X_test)
accuracies = {
    f"block {b}": np.mean(clf.classes_[s.argmax(axis=1)] == y_test)
    for b, s in enumerate(scores)
}
for readout in ("goodness", "softmax", "both"):
    clf.set_params(readout=readout)
    accuracies[f'readout="{readout}"'] = clf.score(X_test, y_test)
clf.set_params(readout="both")
for name, acc in accuracies.items():
    print(f"{name:<20} test accuracy {acc:.4f}")

fig, ax = plt.subplots(figsize=(8, 3.6))
colors = ["tab:orange"] * len(scores) + ["tab:blue"] * 3
names = [name.replace("=", "=\n") for name in accuracies]
bars = ax.bar(names, list(accuracies.values()), color=colors)
ax.bar_label(bars, fmt="%.3f")
ax.set(
    ylim=(0, 1.08),
    ylabel="test accuracy",
    title="Test accuracy of each block on its own and of the readouts",
)
fig.tight_layout()
plt.show()
