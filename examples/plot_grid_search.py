"""
Tuning a Forward-Forward network with GridSearchCV
==================================================

:class:`skff.FFClassifier` is a regular scikit-learn estimator, so
:class:`~sklearn.model_selection.GridSearchCV` can tune it. Here we search
two parameters on the 8x8 digits -- the width of the layers
(``hidden_size``) and the learning rate of every layer's Adam optimizer
(``learning_rate_init``) -- with 3-fold cross-validation, plot the mean
cross-validated accuracy of every combination, and score the refitted best
model on a held-out test set.

The networks are small and trained for few epochs so that the 24 fits run in
well under a minute on one CPU thread. To run the fits in parallel, pass
``n_jobs`` to ``GridSearchCV`` (see :doc:`/parallelism` for how ``n_jobs``
interacts with torch's threads).
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split

from skff import FFClassifier

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixels in [0, 1]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

# %%
# The search
# ----------
# Every fit uses the same seed, so differences come from the parameters (and
# the folds), not from the initial weights.
param_grid = {
    "hidden_size": [32, 128],
    "learning_rate_init": [0.001, 0.003, 0.01, 0.03],
}
base = FFClassifier(n_layers=2, max_iter=10, device="cpu", random_state=0)
search = GridSearchCV(base, param_grid, cv=3, n_jobs=1)
start = time.perf_counter()
search.fit(X_train, y_train)
print(
    f"{len(search.cv_results_['params']) * 3} fits in "
    f"{time.perf_counter() - start:.1f} s"
)
print("best parameters:", search.best_params_)
print(f"best mean CV accuracy: {search.best_score_:.4f}")
print(f"test accuracy of the refitted best model: {search.score(X_test, y_test):.4f}")

# %%
# Mean cross-validated accuracy of every combination
# --------------------------------------------------
# Left: the grid as a heat map. Right: the same scores against the learning
# rate, with the standard deviation over the 3 folds as error bars.
sizes = param_grid["hidden_size"]
rates = param_grid["learning_rate_init"]
results = search.cv_results_
mean = np.empty((len(sizes), len(rates)))
std = np.empty_like(mean)
for params, m, s in zip(
    results["params"],
    results["mean_test_score"],
    results["std_test_score"],
    strict=True,
):
    i = sizes.index(params["hidden_size"])
    j = rates.index(params["learning_rate_init"])
    mean[i, j], std[i, j] = m, s

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
image = ax1.imshow(mean, cmap="viridis", origin="lower", aspect="auto")
ax1.set_xticks(range(len(rates)), [str(r) for r in rates])
ax1.set_yticks(range(len(sizes)), [str(s) for s in sizes])
ax1.set(xlabel="learning_rate_init", ylabel="hidden_size", title="Mean CV accuracy")
threshold = mean.min() + 0.5 * (mean.max() - mean.min())
for i in range(len(sizes)):
    for j in range(len(rates)):
        color = "k" if mean[i, j] > threshold else "w"
        ax1.text(j, i, f"{mean[i, j]:.3f}", ha="center", va="center", color=color)
fig.colorbar(image, ax=ax1)

for i, size in enumerate(sizes):
    ax2.errorbar(
        rates, mean[i], yerr=std[i], marker="o", capsize=3, label=f"hidden_size={size}"
    )
ax2.set(
    xscale="log",
    xlabel="learning_rate_init",
    ylabel="mean CV accuracy",
    title="Accuracy against learning rate",
)
ax2.legend()
fig.tight_layout()
plt.show()

# %%
# With only 10 epochs the small learning rates have not converged yet: the
# best learning rate of a search depends on ``max_iter``, so tune them
# together (or search ``max_iter`` too) when the budget allows. See
# :doc:`/choosing_parameters` for the defaults and the measured recipes.
