"""
Quick start: Forward-Forward on scikit-learn's digits
=====================================================

Train :class:`skff.FFClassifier` on the 8x8 digits, compare its test accuracy
with a backprop :class:`~sklearn.neural_network.MLPClassifier`, and plot each
layer's local loss per epoch and the goodness of the true label versus the best
wrong label on the test images.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from skff import FFClassifier

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

# %%
# Fit both models.
ff = FFClassifier(random_state=0).fit(X_train, y_train)
mlp = MLPClassifier((500, 500), max_iter=300, random_state=0).fit(X_train, y_train)
print(f"FFClassifier  test accuracy: {ff.score(X_test, y_test):.4f}")
print(f"MLPClassifier test accuracy: {mlp.score(X_test, y_test):.4f}")

# %%
# Each layer minimizes its own loss; the softmax head learns from the detached
# activities.
losses = np.array(ff.loss_curve_)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
for i in range(losses.shape[1] - 1):
    ax1.plot(losses[:, i], label=f"layer {i}")
ax1.plot(losses[:, -1], "--", label="softmax head")
ax1.set(xlabel="epoch", ylabel="local loss", yscale="log", title="Training")
ax1.legend()

# Per-label goodness on the test set: the true label against the best wrong one.
# The default readout ("both") also uses the softmax head; readout="goodness"
# scores each label by its goodness alone, and then the difference of two
# log-probabilities is a fixed multiple of the difference of the two labels'
# goodness. The readout is read at prediction time, so the fitted model can
# switch it.
default_readout = ff.readout
ff.set_params(readout="goodness")
scores = ff.predict_log_proba(X_test)
ff.set_params(readout=default_readout)
true = scores[np.arange(len(y_test)), y_test]
wrong = np.where(np.eye(10, dtype=bool)[y_test], -np.inf, scores).max(axis=1)
ax2.hist(true - wrong, bins=40)
ax2.axvline(0, color="k")
ax2.set(
    xlabel="log p(true) - log p(best wrong)",
    ylabel="test images",
    title="Margin of the goodness readout",
)
fig.tight_layout()
plt.show()
