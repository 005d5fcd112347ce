"""
Preprocessing in a Pipeline
===========================

Goodness is a sum of squared activities, so the scale of the input matters to
a Forward-Forward network as it does to any neural network: scaling a feature
by 100 multiplies its weight's effect on the first layer by 100. Put a scaler
in front of :class:`skff.FFClassifier` in a
:class:`~sklearn.pipeline.Pipeline`, so that the scaling is learned on the
training data only (also inside cross-validation) and travels with the model.

This example feeds the raw 8x8 digits (pixels ``0..16``) to the network
without scaling, through :class:`~sklearn.preprocessing.MinMaxScaler` and
through :class:`~sklearn.preprocessing.StandardScaler`; then it repeats the
comparison after multiplying every pixel column by its own factor between
0.01 and 100 -- as if the features had been measured in different units.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler

from skff import FFClassifier

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)  # raw pixels: integers 0..16
rng = np.random.default_rng(0)
column_scale = 10.0 ** rng.uniform(-2, 2, size=X.shape[1])
datasets = {
    "raw pixels (0..16)": X,
    "columns in mixed units": X * column_scale,
}

# %%
# Three pipelines of the same shape
# ---------------------------------
# ``FunctionTransformer()`` with no function passes the data through
# unchanged: it stands for "no preprocessing".
preprocessors = {
    "no scaling": FunctionTransformer,
    "MinMaxScaler": MinMaxScaler,
    "StandardScaler": StandardScaler,
}


def make_ff_pipeline(preprocessor):
    return make_pipeline(
        preprocessor(),
        FFClassifier(hidden_size=100, max_iter=20, device="cpu", random_state=0),
    )


scores, fitted = {}, {}
for data_name, data in datasets.items():
    X_train, X_test, y_train, y_test = train_test_split(
        data, y, test_size=0.3, stratify=y, random_state=0
    )
    for pre_name, preprocessor in preprocessors.items():
        start = time.perf_counter()
        pipe = make_ff_pipeline(preprocessor).fit(X_train, y_train)
        scores[data_name, pre_name] = pipe.score(X_test, y_test)
        fitted[data_name, pre_name] = pipe
        print(
            f"{data_name:24s} {pre_name:15s} test accuracy "
            f"{scores[data_name, pre_name]:.4f} ({time.perf_counter() - start:.1f} s)"
        )

# %%
# Results
# -------
# Left: test accuracy of every combination. Right: the confusion matrix of the
# standardized pipeline on the mixed-unit data.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
positions = np.arange(len(preprocessors))
for k, data_name in enumerate(datasets):
    values = [scores[data_name, p] for p in preprocessors]
    bars = ax1.bar(positions + (k - 0.5) * 0.4, values, width=0.4, label=data_name)
    ax1.bar_label(bars, fmt="%.3f", fontsize="small")
ax1.set_xticks(positions, list(preprocessors))
ax1.set(ylabel="test accuracy", ylim=(0, 1.22), title="FFClassifier after a scaler")
ax1.legend(loc="upper center", ncol=2)

X_train, X_test, y_train, y_test = train_test_split(
    datasets["columns in mixed units"], y, test_size=0.3, stratify=y, random_state=0
)
ConfusionMatrixDisplay.from_estimator(
    fitted["columns in mixed units", "StandardScaler"],
    X_test,
    y_test,
    ax=ax2,
    colorbar=False,
)
ax2.set_title("StandardScaler, mixed units: test confusion matrix")
fig.tight_layout()
plt.show()

# %%
# The pipeline is one estimator
# -----------------------------
# In cross-validation the scaler is refitted on the training folds of every
# split, so no statistic of the validation fold leaks into the model. The
# pipeline's parameters are reachable as ``<step>__<parameter>`` for
# ``GridSearchCV``, and the fitted pipeline is saved and loaded as a whole
# (see :doc:`/persistence`).
pipe = make_ff_pipeline(StandardScaler)
cv = cross_val_score(pipe, X_train, y_train, cv=3)
print(f"3-fold CV accuracy, StandardScaler, mixed units: {cv.mean():.4f}")
print([k for k in pipe.get_params() if k.startswith("ffclassifier__h")])
