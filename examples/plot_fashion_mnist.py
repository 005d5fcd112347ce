"""
Goodness of positive and negative data on Fashion-MNIST
=======================================================

Forward-Forward trains every layer to give a high *goodness* (the mean of its
squared activities) to **positive** data -- an image shown with its true label
-- and a low goodness to **negative** data -- the same image with a wrong
label. This example trains :class:`skff.FFClassifier` on a subset of
Fashion-MNIST one epoch at a time with
:meth:`~skff.FFClassifier.partial_fit`, plots the learning curve, and then
looks inside the trained torch network (``clf.core_``) at the goodness each
layer gives to positive and to negative test images.

The images come from :func:`skff.datasets.load_fashion_mnist`, which reads the
Debian/Ubuntu package ``dataset-fashion-mnist`` and downloads nothing. When
the package is not installed, the example falls back to scikit-learn's 8x8
digits and says so.

The settings are small so that the example runs in well under a minute on one
CPU thread; see :doc:`/benchmarks` for the full data set.
"""

# %%
# Load a subset of the data
# -------------------------
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skff import FFClassifier

torch.set_num_threads(1)
N_TRAIN, N_TEST = 5000, 2000

try:
    from skff.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist

    X_train, y_train = load_fashion_mnist(subset="train", return_X_y=True)
    X_test, y_test = load_fashion_mnist(subset="test", return_X_y=True)
    rng = np.random.default_rng(0)
    train_idx = rng.choice(len(X_train), N_TRAIN, replace=False)
    test_idx = rng.choice(len(X_test), N_TEST, replace=False)
    X_train, y_train = X_train[train_idx], y_train[train_idx]
    X_test, y_test = X_test[test_idx], y_test[test_idx]
    class_names = list(FASHION_MNIST_CLASSES)
    dataset = "Fashion-MNIST"
except (ImportError, FileNotFoundError) as exc:
    print(f"Fashion-MNIST is not available ({type(exc).__name__}: {exc}).")
    print("Note: falling back to scikit-learn's 8x8 digits.")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.3, stratify=y, random_state=0
    )
    class_names = [str(c) for c in range(10)]
    dataset = "digits (fallback)"

print(
    f"{dataset}: {len(X_train)} training and {len(X_test)} test images, "
    f"{X_train.shape[1]} pixels in [0, 1]"
)

# %%
# Train one epoch at a time
# -------------------------
# ``partial_fit`` runs one epoch per call and keeps the weights (and the
# optimizers' state) between calls, so we can score the test set after every
# epoch. ``loss_curve_`` holds each layer's mean local loss per epoch, then
# the loss of the softmax head that learns from the detached activities.
N_EPOCHS = 10
clf = FFClassifier(n_layers=2, hidden_size=200, device="cpu", random_state=0)
classes = np.unique(y_train)
test_accuracy = []
start = time.perf_counter()
for _ in range(N_EPOCHS):
    clf.partial_fit(X_train, y_train, classes=classes)
    test_accuracy.append(clf.score(X_test, y_test))
elapsed = time.perf_counter() - start
print(f"{N_EPOCHS} epochs in {elapsed:.1f} s; test accuracy by epoch:")
print(np.round(test_accuracy, 4))

losses = np.array(clf.loss_curve_)
epochs = np.arange(1, N_EPOCHS + 1)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
for i in range(losses.shape[1] - 1):
    ax1.plot(epochs, losses[:, i], marker="o", label=f"layer {i}")
ax1.plot(epochs, losses[:, -1], "--", label="softmax head")
ax1.set(xlabel="epoch", ylabel="mean local loss", yscale="log", title="Training")
ax1.legend()
ax2.plot(epochs, test_accuracy, marker="o", color="C3")
ax2.set(xlabel="epoch", ylabel="test accuracy", title=f"Learning curve, {dataset}")
ax2.grid(alpha=0.3)
fig.tight_layout()
plt.show()

# %%
# Goodness of positive and negative data, layer by layer
# ------------------------------------------------------
# The torch network ``clf.core_`` computes each layer's goodness for given
# labels with ``layer_goodness(x, labels)``; the labels are indices into
# ``clf.classes_``. We compare, for every test image,
#
# * the **positive** pair: the image with its true label;
# * a **uniform negative**: a wrong label drawn at random;
# * the **hardest negative**: the wrong label the model finds most probable --
#   the kind of negative that training mostly practises on
#   (``negatives="hard"`` draws wrong labels in proportion to the model's
#   beliefs).
#
# Goodness varies a lot from one image to the next, so the three
# distributions (top row, log scale) overlap. What the
# layers learn is *relative*: the SymBa loss (``loss="symba"``, the default)
# compares each positive with its own negative, ``softplus(-a (g+ - g-))``.
# The bottom row therefore shows, per image, the goodness of the positive
# minus that of its negative: a layer ranks the true label first when this
# margin is above zero.
rng = np.random.default_rng(0)
n_classes = len(clf.classes_)
true = np.searchsorted(clf.classes_, y_test)
uniform_wrong = (true + rng.integers(1, n_classes, size=len(true))) % n_classes
proba = clf.predict_proba(X_test)
proba[np.arange(len(true)), true] = -1.0
hardest_wrong = proba.argmax(axis=1)

x = torch.as_tensor(X_test, dtype=torch.float32)
with torch.inference_mode():
    positive, uniform, hardest = (
        clf.core_.layer_goodness(x, torch.as_tensor(labels)).numpy()
        for labels in (true, uniform_wrong, hardest_wrong)
    )

n_layers = clf.n_layers
fig, axes = plt.subplots(2, n_layers, figsize=(5 * n_layers, 7), squeeze=False)
for layer in range(n_layers):
    ax = axes[0, layer]
    values = np.concatenate([positive, uniform, hardest])[:, layer]
    bins = np.geomspace(max(values.min(), 1e-3), values.max(), 50)
    for g, color, name in [
        (positive, "C2", "positive (true label)"),
        (uniform, "C0", "negative (uniform wrong label)"),
        (hardest, "C3", "negative (hardest wrong label)"),
    ]:
        ax.hist(
            g[:, layer], bins=bins, histtype="step", lw=1.8, color=color, label=name
        )
    ax.set(xscale="log", xlabel="goodness (mean squared activity)", ylabel="images")
    ax.set_title(f"layer {layer}: goodness")

    ax = axes[1, layer]
    margins = [positive[:, layer] - g[:, layer] for g in (uniform, hardest)]
    lim = np.quantile(np.abs(np.concatenate(margins)), 0.99)
    bins = np.linspace(-lim, lim, 60)
    for m, color, name in zip(
        margins, ["C0", "C3"], ["uniform", "hardest"], strict=True
    ):
        ax.hist(
            m,
            bins=bins,
            histtype="step",
            lw=1.8,
            color=color,
            label=f"vs {name} negative: {np.mean(m > 0):.0%} > 0",
        )
    ax.axvline(0, color="k", lw=0.8)
    ax.set(xlabel="goodness(positive) - goodness(negative)", ylabel="images")
    ax.set_title(f"layer {layer}: margin per image")
    ax.legend(fontsize="small", loc="upper right")
axes[0, 0].legend(fontsize="small")
fig.tight_layout()
plt.show()

for name, g in [
    ("positive", positive),
    ("uniform negative", uniform),
    ("hardest negative", hardest),
]:
    print(f"{name:17s} median goodness per layer: {np.round(np.median(g, 0), 3)}")

# %%
# Which positive images does the network find "bad"?
# --------------------------------------------------
# The default readout (``readout="both"``) predicts the label with the highest
# goodness summed over the layers, combined with the softmax head's
# probability (their geometric mean). Test images whose true label does *not*
# win are the errors; here is how the errors spread over the classes.
pred = clf.predict(X_test)
errors = np.bincount(true[pred != y_test], minlength=n_classes)
support = np.bincount(true, minlength=n_classes)
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.bar(range(n_classes), errors / np.maximum(support, 1), color="C1")
ax.set_xticks(range(n_classes), class_names, rotation=30, ha="right")
ax.set(ylabel="error rate", title="Test errors by true class")
fig.tight_layout()
plt.show()
