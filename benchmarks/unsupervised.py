"""Unsupervised features for a linear classifier: FFTransformer against raw
pixels, random ReLU features of the same width, BernoulliRBM and (for
convolutional blocks) the same blocks left at random weights.

Every feature map is followed by the same ``StandardScaler`` and
``LogisticRegression``; only the classifier sees labels. Run from the
repository root::

    python benchmarks/unsupervised.py --dataset digits --threads 1
    python benchmarks/unsupervised.py --dataset fashion_mnist --threads 1

Convolutional features (``random_conv``: the same blocks, untrained)::

    python benchmarks/unsupervised.py --dataset fashion_mnist --threads 1 \
        --param 'channels=[32,64,128]' --param input_shape=image \
        --models raw,random_conv,ff

``--holdout 5000`` validates on part of the training set instead of the test
set (use it to choose settings); ``--param KEY=VALUE`` sets FFTransformer
parameters (repeatable).
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

import numpy as np
import torch
from _common import add_param_argument, print_provenance, timed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skff import FFTransformer
from skff.core import UnsupervisedConvNet
from skff.core.unsupervised import RECIPE_SETTINGS
from skff.datasets import load_fashion_mnist

MODELS = ("raw", "random", "rbm", "ff")  # and random_conv with channels


class RandomReLUFeatures(TransformerMixin, BaseEstimator):
    """A fixed random ReLU layer: ``max(0, X @ W + b)`` with ``W`` drawn from
    ``N(0, 1 / n_features)`` and ``b`` from ``N(0, 0.1)``; nothing is learned."""

    def __init__(self, n_components=500, random_state=None):
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X, y=None):
        rng = np.random.RandomState(self.random_state)
        n = X.shape[1]
        self.weight_ = rng.normal(0, 1 / np.sqrt(n), (n, self.n_components))
        self.bias_ = rng.normal(0, 0.1, self.n_components)
        return self

    def transform(self, X):
        return np.maximum(X @ self.weight_ + self.bias_, 0)


class RandomConvFeatures(TransformerMixin, BaseEstimator):
    """The convolutional blocks of a convolutional ``FFTransformer``
    (``channels`` set) left at their initial weights: the same shapes,
    activation, input normalization, pooling and feature normalization;
    nothing is learned but the training mean the rows are centered on."""

    def __init__(self, transformer=None):
        self.transformer = transformer

    def fit(self, X, y=None):
        ff = self.transformer
        X = np.asarray(X, dtype=np.float32)
        core = UnsupervisedConvNet(
            X.shape[1],
            ff.input_shape,
            ff.channels,
            kernel_size=ff.kernel_size,
            feature_grid=ff.feature_grid,
            goodness_scope=ff.goodness_scope,
            negatives=ff.negatives,
            output_layers=ff.output_layers,
            seed=0 if ff.random_state is None else int(ff.random_state),
            **{name: getattr(ff, name) for name in RECIPE_SETTINGS},
        )
        core.set_input_offset(X.mean(axis=0))
        self.core_ = core.eval()
        return self

    def transform(self, X):
        X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        with torch.inference_mode():
            parts = [
                self.core_.features(X[i : i + 1000]) for i in range(0, len(X), 1000)
            ]
        return torch.cat(parts).numpy()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--dataset", choices=("digits", "fashion_mnist"), default="digits"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument(
        "--subset", type=int, default=None, help="first N training (and test) rows"
    )
    parser.add_argument(
        "--holdout",
        type=int,
        default=0,
        help="validate on N rows held out of the training set (the test set "
        "is not read)",
    )
    parser.add_argument("--rbm-iter", type=int, default=20, help="BernoulliRBM n_iter")
    parser.add_argument(
        "--per-layer",
        action="store_true",
        help="fit FFTransformer once with every layer as output and print the "
        "linear probe's accuracy on each layer, on all and on all but the first",
    )
    add_param_argument(parser, "FFTransformer parameter (repeatable)")
    return parser.parse_args(argv)


def load(args):
    if args.dataset == "digits":
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=0
        )
    else:
        X_train, y_train = load_fashion_mnist(subset="train", return_X_y=True)
        X_test, y_test = load_fashion_mnist(subset="test", return_X_y=True)
        X_test, y_test = X_test[: args.subset], y_test[: args.subset]
    X_train, y_train = X_train[: args.subset], y_train[: args.subset]
    if args.holdout:
        X_train, X_test, y_train, y_test = train_test_split(
            X_train,
            y_train,
            test_size=args.holdout,
            stratify=y_train,
            random_state=args.random_state,
        )
    return X_train, X_test, y_train, y_test


def probe():
    """The linear classifier every feature map is followed by."""
    return [StandardScaler(), LogisticRegression(max_iter=1000)]


def layer_sizes(ff) -> list[int]:
    """The width of every hidden layer, from FFTransformer's public parameters:
    ``hidden_layer_sizes`` when given (an int is one layer), else ``n_layers``
    layers of ``hidden_size`` units."""
    given = ff.hidden_layer_sizes
    if given is None:
        return [int(ff.hidden_size)] * int(ff.n_layers)
    return [int(given)] if np.isscalar(given) else [int(h) for h in given]


def per_layer(ff, X_train, X_test, y_train, y_test, split):
    """The probe's accuracy on each layer's features and on groups of layers,
    from one fit with every layer as output."""
    sizes = layer_sizes(ff)
    ff.set_params(output_layers=list(range(len(sizes))))
    _, fit_time = timed(ff.fit, X_train)
    F_train, F_test = ff.transform(X_train), ff.transform(X_test)
    edges = np.cumsum([0, *sizes])
    groups = {f"layer {i}": [i] for i in range(len(sizes))}
    if len(sizes) > 1:
        groups["all layers"] = list(range(len(sizes)))
        groups["all but layer 0"] = list(range(1, len(sizes)))
    print(f"FFTransformer fit: {fit_time:.0f} s")
    print(f"| negatives | layers used | width | {split} accuracy |")
    print("|---|---|---|---|")
    for name, layers in groups.items():
        cols = np.concatenate([np.arange(edges[i], edges[i + 1]) for i in layers])
        pipe = make_pipeline(*probe()).fit(F_train[:, cols], y_train)
        score = pipe.score(F_test[:, cols], y_test)
        print(
            f"| {ff.negatives} | {name} | {len(cols)} | {100 * score:.2f}% |",
            flush=True,
        )


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    started = datetime.now(timezone.utc)
    X_train, X_test, y_train, y_test = load(args)
    split = "validation" if args.holdout else "test"
    image = (1, 8, 8) if args.dataset == "digits" else (1, 28, 28)
    params = dict(random_state=args.random_state)
    params.update(args.param)
    if params.get("input_shape") == "image":
        params["input_shape"] = image
    ff = FFTransformer(**params)
    if ff.channels is None:
        sizes = layer_sizes(ff)
        layers = ff.output_layers
        if layers is None:
            layers = range(len(sizes))
        width = sum(sizes[i] for i in layers)
    else:  # the pooled features of the convolutional blocks
        width = RandomConvFeatures(ff).fit(X_train[:2]).core_.n_features_out
    print(
        f"{args.dataset}: {len(X_train)} train, {len(X_test)} {split} rows, "
        f"{X_train.shape[1]} features; feature width {width}; {ff}",
        flush=True,
    )
    conv = ff.channels is not None
    models = {
        "raw": [],
        "random_conv": [RandomConvFeatures(ff)] if conv else [],
        "random": [RandomReLUFeatures(width, random_state=args.random_state)],
        "rbm": [
            BernoulliRBM(
                n_components=width,
                learning_rate=0.05,
                n_iter=args.rbm_iter,
                random_state=args.random_state,
            )
        ],
        "ff": [ff],
    }
    names = {
        "random_conv": f"random convolutional blocks, the same shape ({width})",
        "raw": "raw pixels",
        "random": f"random ReLU features ({width})",
        "rbm": f"BernoulliRBM ({width})",
        "ff": f"FFTransformer ({width})",
    }
    rows = []
    with threadpool_limits(limits=args.threads):
        if args.per_layer:
            per_layer(ff, X_train, X_test, y_train, y_test, split)
            print_provenance(args.threads, started)
            return
        for name in args.models.split(","):
            steps = models[name]
            if steps:
                (step,) = steps
                F_train, map_time = timed(step.fit_transform, X_train)
                F_test = step.transform(X_test)
            else:
                F_train, F_test, map_time = X_train, X_test, 0.0
            pipe = make_pipeline(*probe())
            _, probe_time = timed(pipe.fit, F_train, y_train)
            score = pipe.score(F_test, y_test)
            fit_time = map_time + probe_time
            rows.append((names[name], score, map_time, fit_time))
            print(
                f"{names[name]}: {100 * score:.2f}% (features {map_time:.0f} s, "
                f"with the probe {fit_time:.0f} s)",
                flush=True,
            )
    print()
    print(
        f"| features + LogisticRegression | {split} accuracy | feature fit (s) "
        "| with the probe (s) |"
    )
    print("|---|---|---|---|")
    for name, score, map_time, fit_time in rows:
        print(f"| {name} | {100 * score:.2f}% | {map_time:.0f} | {fit_time:.0f} |")
    print()
    print_provenance(args.threads, started)


if __name__ == "__main__":
    main()
