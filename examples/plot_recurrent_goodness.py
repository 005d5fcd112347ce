"""
Recurrent Forward-Forward: goodness over the iterations
=======================================================

Train :class:`skff.FFRecurrentClassifier` on scikit-learn's 8x8 digits. The
network treats each image as a video: after one bottom-up pass, every hidden
layer is updated from the layer below and the layer above (the label, at the
top) for ``n_iterations`` damped, synchronous iterations.

For a few test images we follow the network's goodness (summed over its
layers) at every iteration, once with the true label clamped at the top and
once with each wrong label. The shaded band is the ``goodness_window`` whose
average scores the labels: the true label should come out on top there.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skff import FFRecurrentClassifier

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

# %%
# Fit the classifier with its defaults and score both readouts.
clf = FFRecurrentClassifier(random_state=0).fit(X_train, y_train)
print(f"goodness readout test accuracy: {clf.score(X_test, y_test):.4f}")
soft = clf.set_params(readout="softmax").score(X_test, y_test)
clf.set_params(readout="goodness")
print(f"softmax readout test accuracy:  {soft:.4f}")

# %%
# Goodness trajectories: the true label against every wrong label.
# ``goodness_trajectory`` returns one column per iteration (column 0 is the
# bottom-up pass, which has not seen the label yet). Every label's goodness
# grows while the top-down input settles in, so the bottom row subtracts the
# mean over the labels at each iteration to show how they separate.
images = [0, 1, 2, 3]
start, stop = clf.goodness_window
steps = np.arange(clf.n_iterations + 1)
fig, axes = plt.subplots(3, len(images), figsize=(3 * len(images), 8.5))
for col, i in enumerate(images):
    x = np.repeat(X_test[i : i + 1], len(clf.classes_), axis=0)
    traj = clf.goodness_trajectory(x, clf.classes_)  # one row per label
    true = clf.classes_ == y_test[i]
    ax = axes[0, col]
    ax.imshow(X_test[i].reshape(8, 8), cmap="gray_r")
    ax.set(title=f"true label {y_test[i]}", xticks=[], yticks=[])
    for ax, curves, name in (
        (axes[1, col], traj, "goodness"),
        (axes[2, col], traj - traj.mean(axis=0), "goodness - mean over labels"),
    ):
        ax.axvspan(start, stop, color="0.9", label="goodness window")
        ax.plot(steps, curves[~true].T, color="tab:red", alpha=0.4, lw=1)
        ax.plot([], [], color="tab:red", alpha=0.4, label="wrong labels")
        ax.plot(steps, curves[true][0], color="tab:blue", lw=2.5, label="true label")
        ax.set(xlabel="iteration")
        if col == 0:
            ax.set(ylabel=f"{name}\n(sum over layers)")
axes[1, 0].legend(fontsize="small")
fig.suptitle("Goodness of the recurrent network over its iterations")
fig.tight_layout()
plt.show()

# %%
# Over the whole test set: mean goodness of the true label and of the best
# wrong label at each iteration.
n = len(X_test)
per_label = np.stack(
    [clf.goodness_trajectory(X_test, np.full(n, c)) for c in clf.classes_], axis=1
)  # (n_samples, n_classes, n_iterations + 1)
true = per_label[np.arange(n), y_test]
wrong = np.where(
    np.eye(len(clf.classes_), dtype=bool)[y_test][:, :, None], -np.inf, per_label
).max(axis=1)
for t in steps:
    print(
        f"iteration {t}: true {true[:, t].mean():.3f}  best wrong "
        f"{wrong[:, t].mean():.3f}  true wins {np.mean(true[:, t] > wrong[:, t]):.3f}"
    )
