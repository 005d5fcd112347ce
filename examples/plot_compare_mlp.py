"""
Forward-Forward versus backpropagation on the digits
====================================================

Compare :class:`skff.FFClassifier` with scikit-learn's backprop-trained
:class:`~sklearn.neural_network.MLPClassifier` of the same shape (two hidden
layers of 200 units) on the 8x8 digits: test accuracy after every epoch
against the training time spent so far, and the final accuracy of each of the
Forward-Forward readouts.

Both models train one epoch per call to ``partial_fit``, on one CPU thread
(torch's and the BLAS used by scikit-learn), with the same mini-batch size.
Times on a shared machine are noisy; the measured full-size comparison is in
:doc:`/benchmarks`.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from skff import FFClassifier

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
classes = np.unique(y)
N_EPOCHS = 30

# %%
# Train both models epoch by epoch
# --------------------------------
# Only the ``partial_fit`` calls are timed; scoring the test set after each
# epoch is not counted. The first fit in a fresh Python process also pays a
# one-time start-up cost of a second or two (torch loads more of itself the
# first time an optimizer takes a step), so a tiny warm-up fit runs first.
FFClassifier(hidden_size=8, max_iter=1, device="cpu").fit(X_train, y_train)

models = {
    "FFClassifier (Forward-Forward)": FFClassifier(
        hidden_size=200, batch_size=100, device="cpu", random_state=0
    ),
    "MLPClassifier (backprop)": MLPClassifier(
        hidden_layer_sizes=(200, 200), batch_size=100, random_state=0
    ),
}
history = {}
with threadpool_limits(limits=1):
    for name, model in models.items():
        seconds, accuracy, elapsed = [], [], 0.0
        for _ in range(N_EPOCHS):
            start = time.perf_counter()
            model.partial_fit(X_train, y_train, classes=classes)
            elapsed += time.perf_counter() - start
            seconds.append(elapsed)
            accuracy.append(model.score(X_test, y_test))
        history[name] = (np.array(seconds), np.array(accuracy))
        print(
            f"{name:31s} {N_EPOCHS} epochs in {elapsed:5.1f} s, "
            f"final test accuracy {accuracy[-1]:.4f}"
        )

# %%
# The readouts of the Forward-Forward network
# -------------------------------------------
# The readout only changes how ``predict_proba`` scores the classes, so one
# fitted network can be scored with each of them: ``"goodness"`` runs the net
# once per label, ``"softmax"`` once with a neutral label through the linear
# head, ``"both"`` combines the two.
ff = models["FFClassifier (Forward-Forward)"]
readout_scores, readout_times = {}, {}
for readout in ["goodness", "softmax", "both"]:
    ff.set_params(readout=readout)
    start = time.perf_counter()
    readout_scores[readout] = ff.score(X_test, y_test)
    readout_times[readout] = time.perf_counter() - start
    print(
        f"readout={readout!r:11s} test accuracy {readout_scores[readout]:.4f}, "
        f"predict time {1000 * readout_times[readout]:.0f} ms"
    )
ff.set_params(readout="goodness")

# %%
# Plots
# -----
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
for name, (seconds, accuracy) in history.items():
    ax1.plot(seconds, accuracy, marker=".", label=name)
ax1.set(
    xlabel="training time (s, partial_fit calls only)",
    ylabel="test accuracy",
    title=f"Test accuracy after each of {N_EPOCHS} epochs",
    ylim=(0.8, 1.0),
)
ax1.grid(alpha=0.3)
ax1.legend(loc="lower right")

labels = [f"FF, readout={r}" for r in readout_scores] + ["MLP (backprop)"]
values = [*readout_scores.values(), history["MLPClassifier (backprop)"][1][-1]]
bars = ax2.barh(labels, values, color=["C0", "C0", "C0", "C1"])
ax2.bar_label(bars, fmt="%.4f", padding=3)
ax2.set(xlim=(0.8, 1.02), xlabel="test accuracy", title="After the last epoch")
ax2.invert_yaxis()
fig.tight_layout()
plt.show()
