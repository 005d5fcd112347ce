"""
Unsupervised Forward-Forward features of the digits
===================================================

:class:`skff.FFTransformer` learns features with no labels: each layer learns
to give high goodness to real rows and low goodness to negative rows that the
transformer makes from them (by default ``negatives="self_contrastive"``: the
real row ``[x_i, x_i]`` against ``[x_i, x_j]``, two different rows side by
side). ``transform`` returns the normalized activities of the last layer.

This example fits it on the training images of scikit-learn's 8x8 digits,
draws a 2-D :class:`~sklearn.manifold.TSNE` embedding of the test images from
their raw pixels and from the learned features, and then trains a
:class:`~sklearn.linear_model.LogisticRegression` on the features, next to the
same classifier on :class:`~sklearn.neural_network.BernoulliRBM` features and
on the raw pixels. See :ref:`user_guide_transformer` for what the transformer
computes.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skff import FFTransformer

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixels in [0, 1]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

# %%
# Learn features without labels
# -----------------------------
# ``fit`` takes only the training images. With the defaults the network has
# two layers of 500 units and ``transform`` returns the RMS-normalized
# activities of the second one.
start = time.perf_counter()
ff = FFTransformer(random_state=0).fit(X_train)
print(f"FFTransformer fit in {time.perf_counter() - start:.1f} s")
features_test = ff.transform(X_test)
print(f"test images: {X_test.shape} -> features: {features_test.shape}")

# %%
# Two embeddings of the test images
# ---------------------------------
# t-SNE places every test image in the plane from its raw pixels (left) and
# from its Forward-Forward features (right). The colours show the digit
# classes, which neither the transformer nor t-SNE was given.
embeddings = {
    "raw pixels (64 features)": TSNE(random_state=0).fit_transform(X_test),
    f"FFTransformer features ({features_test.shape[1]})": TSNE(
        random_state=0
    ).fit_transform(features_test),
}
fig, axes = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
for ax, (title, points) in zip(axes, embeddings.items(), strict=True):
    scatter = ax.scatter(
        points[:, 0], points[:, 1], c=y_test, cmap="tab10", s=12, vmin=-0.5, vmax=9.5
    )
    ax.set(title=title, xticks=[], yticks=[])
fig.suptitle("t-SNE embedding of the test images")
fig.colorbar(scatter, ax=axes, ticks=np.arange(10), label="digit")
plt.show()

# %%
# A linear model on top
# ---------------------
# In a :class:`~sklearn.pipeline.Pipeline` the transformer ignores ``y``; only
# the logistic regression sees the labels. The same classifier reads
# BernoulliRBM features (500 components, like the transformer's 500 features)
# and, with no step before it, the raw pixels. Every pipeline is fitted on the
# training split and scored on the test split.
pipelines = {
    "FFTransformer + LogisticRegression": make_pipeline(
        FFTransformer(random_state=0),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    ),
    "BernoulliRBM + LogisticRegression": make_pipeline(
        BernoulliRBM(n_components=500, learning_rate=0.05, n_iter=20, random_state=0),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    ),
    "raw pixels + LogisticRegression": make_pipeline(LogisticRegression(max_iter=1000)),
}
for name, pipe in pipelines.items():
    start = time.perf_counter()
    pipe.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    print(
        f"{name:36s} test accuracy {pipe.score(X_test, y_test):.4f} "
        f"(fit in {seconds:.1f} s)"
    )
