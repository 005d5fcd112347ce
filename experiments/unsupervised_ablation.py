"""Unsupervised features, part by part, on validation splits: FFTransformer
configurations beside random features of the same shape, BernoulliRBM and
raw pixels, every one followed by the same StandardScaler and
LogisticRegression (the only step that sees labels).

Data sets (the test sets are not read):

- ``fashion_mnist``: trains on the first ``--n-train`` training images and
  scores images 50,000 to 54,999;
- ``digits``: the mean over three stratified 70/30 splits of scikit-learn's
  digits (``--splits``);

Each ``--config NAME`` names a feature map: ``raw``, ``rbm``, ``random``
(a fixed random ReLU layer as wide as the last ``ff`` configuration's
features), ``random_conv`` (the convolutional core of the last ``ff``
configuration left at its initial weights), or ``ff`` followed by
``+key=value`` FFTransformer parameters (Python literals), e.g.
``'ff+channels=[32,64]+input_shape="image"'``. Run from the repository root::

    python experiments/unsupervised_ablation.py --dataset fashion_mnist \\
        --config raw --config 'ff+max_iter=10'

(``--threads`` torch and BLAS threads, 1 by default.)
"""

from __future__ import annotations

import argparse
import ast
import time
from datetime import datetime, timezone

import numpy as np
import torch
from _common import benchmark_module, print_provenance
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skff import FFTransformer
from skff.datasets import load_fashion_mnist

RandomReLUFeatures = benchmark_module("unsupervised").RandomReLUFeatures
RandomConvFeatures = benchmark_module("unsupervised").RandomConvFeatures

IMAGE = {"fashion_mnist": (1, 28, 28), "digits": (1, 8, 8)}


def parse_config(text: str) -> tuple[str, dict]:
    name, *pairs = text.split("+")
    params = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        params[key] = ast.literal_eval(value)
    return name, params


def splits(args):
    if args.dataset == "fashion_mnist":
        X, y = load_fashion_mnist(subset="train", return_X_y=True)
        yield X[: args.n_train], X[50000:55000], y[: args.n_train], y[50000:55000]
        return
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    for seed in range(args.splits):
        yield train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)


def feature_map(name, params, args, last_ff):
    if name == "raw":
        return None
    if name == "rbm":
        return BernoulliRBM(
            n_components=args.rbm_width,
            learning_rate=0.05,
            n_iter=20,
            random_state=args.seed,
        )
    if name == "random":
        return RandomReLUFeatures(args.width, random_state=args.seed)
    if name == "random_conv":
        return RandomConvFeatures(clone(last_ff))
    if name == "ff":
        params = dict(params)
        if params.get("input_shape") == "image":
            params["input_shape"] = IMAGE[args.dataset]
        params.setdefault("random_state", args.seed)
        return FFTransformer(**params)
    raise ValueError(f"unknown feature map {name!r}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=sorted(IMAGE), default="fashion_mnist")
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, default=1000, help="random features")
    parser.add_argument("--rbm-width", type=int, default=1000)
    parser.add_argument("--config", action="append", required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    started = datetime.now(timezone.utc)
    print(vars(args), flush=True)
    data = list(splits(args))
    last_ff = None
    with threadpool_limits(limits=args.threads):
        for text in args.config:
            name, params = parse_config(text)
            accs, fits, widths = [], [], []
            for X_train, X_val, y_train, y_val in data:
                step = feature_map(name, params, args, last_ff)
                t0 = time.perf_counter()
                if step is None:
                    F_train, F_val = X_train, X_val
                else:
                    F_train = step.fit(X_train).transform(X_train)
                    F_val = step.transform(X_val)
                fits.append(time.perf_counter() - t0)
                probe = make_pipeline(
                    StandardScaler(), LogisticRegression(max_iter=1000)
                )
                accs.append(probe.fit(F_train, y_train).score(F_val, y_val))
                widths.append(F_train.shape[1])
                if name == "ff":
                    last_ff = step
            print(
                f"| {text} | {widths[0]} | {100 * np.mean(accs):.2f}% | "
                f"{np.mean(fits):.1f} s |",
                flush=True,
            )
    print_provenance(args.threads, started)


if __name__ == "__main__":
    main()
