"""
Unsupervised Forward-Forward features of the digits
===================================================

:class:`skff.FFTransformer` learns features with no labels: each layer learns
to give high goodness to real rows and low goodness to negative rows that the
transformer makes from them. Its defaults follow the self-contrastive
Forward-Forward of Chen et al. (2025), one parameter for each part:

* ``negatives="self_contrastive"`` and ``pair_weights="shared"``: the first
  layer reads a pair of rows through the same weights, so a real row
  :math:`\\hat x` enters as the pair :math:`(\\hat x, \\hat x)`, i.e.
  :math:`2 \\hat x`, and its negative as :math:`\\hat x + \\hat x_j`, with
  :math:`x_j` another row of the mini-batch;
* ``input_normalization="standardize"``: :math:`\\hat x` is the row centered
  on the training mean, then scaled to zero mean and unit variance;
* ``activation="triangle"``: a layer hands on ``relu(z - mean(z))``, the mean
  taken over its units;
* ``goodness="mean"`` and ``loss="symba"``: the mean of the squared ``relu(z)``,
  each real row compared with its own negative.

This example fits two transformers on the training images of scikit-learn's
8x8 digits: the default two fully connected layers of 500 units, and two small
convolutional blocks (``channels=[16, 32]``, ``input_shape=(1, 8, 8)``). It
draws a 2-D :class:`~sklearn.manifold.TSNE` embedding of the test images from
their raw pixels and from each transformer's features, then trains a
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
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skff import FFTransformer

torch.set_num_threads(1)
threadpool_limits(limits=1)  # one BLAS thread too, for scikit-learn
X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixels in [0, 1]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

# %%
# Learn features without labels
# -----------------------------
# ``fit`` takes only the training images. The fully connected transformer has
# the default two layers of 500 units; ``transform`` returns the activities of
# both, each layer-normalized, side by side: 1,000 features.
#
# The convolutional transformer reads every row as a 1 x 8 x 8 image. Each
# block is a 3 x 3 convolution with ``'same'`` padding, the triangle
# activation and 2 x 2 max pooling: 16 channels on a 4 x 4 grid, then 32 on a
# 2 x 2 grid. Its goodness and loss are computed at every position of a
# block's convolution (before the pooling) and averaged
# (``goodness_scope="position"``), and
# ``transform`` returns each block's output average-pooled to at most
# ``feature_grid=4`` cells per side, layer-normalized, side by side:
# 16 x 4 x 4 + 32 x 2 x 2 = 384 features. Both use the self-contrastive recipe
# above.
transformers = {
    "fully connected": FFTransformer(random_state=0),
    "convolutional": FFTransformer(
        channels=[16, 32], input_shape=(1, 8, 8), random_state=0
    ),
}
features_test = {}
for name, ff in transformers.items():
    start = time.perf_counter()
    ff.fit(X_train)
    seconds = time.perf_counter() - start
    features_test[name] = ff.transform(X_test)
    print(
        f"{name:15s} FFTransformer fit in {seconds:.1f} s; test images "
        f"{X_test.shape} -> features {features_test[name].shape}"
    )

# %%
# Three embeddings of the test images
# -----------------------------------
# t-SNE places every test image in the plane from its raw pixels (left) and
# from the features of each transformer. The colours show the digit classes,
# which neither the transformers nor t-SNE were given.
embeddings = {"raw pixels (64 features)": TSNE(random_state=0).fit_transform(X_test)}
for name, features in features_test.items():
    title = f"{name} FFTransformer ({features.shape[1]} features)"
    embeddings[title] = TSNE(random_state=0).fit_transform(features)
fig, axes = plt.subplots(1, 3, figsize=(15, 5), layout="constrained")
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
# the logistic regression sees the labels. The transformers fitted above enter
# the pipelines frozen (:class:`~sklearn.frozen.FrozenEstimator`), so that
# fitting a pipeline does not train them again; ``make_pipeline(FFTransformer(),
# StandardScaler(), LogisticRegression())`` would fit the transformer on the
# same rows. The same classifier reads BernoulliRBM features (500 components,
# as many as one layer of the fully connected transformer) and, with no step
# before it, the raw pixels. Every pipeline is fitted on the training split
# and scored on the test split.
pipelines = {
    f"{name} FFTransformer": make_pipeline(
        FrozenEstimator(ff), StandardScaler(), LogisticRegression(max_iter=1000)
    )
    for name, ff in transformers.items()
}
pipelines["BernoulliRBM"] = make_pipeline(
    BernoulliRBM(n_components=500, learning_rate=0.05, n_iter=20, random_state=0),
    StandardScaler(),
    LogisticRegression(max_iter=1000),
)
pipelines["raw pixels"] = make_pipeline(LogisticRegression(max_iter=1000))
for name, pipe in pipelines.items():
    pipe.fit(X_train, y_train)
    print(
        f"{name + ' + LogisticRegression':50s} "
        f"test accuracy {pipe.score(X_test, y_test):.4f}"
    )
