"""FFClassifier, FFRecurrentClassifier and FFConvClassifier settings on
validation splits (never a test set), beside ``MLPClassifier((500, 500),
early_stopping=True)`` or a backprop CNN: accuracy, log-loss, fit time and
epochs, averaged over the splits.

Each ``--config`` is ``mlp_es``, or ``ff`` (FFClassifier), ``recurrent``
(FFRecurrentClassifier), ``conv`` (FFConvClassifier) or ``cnn`` (its backprop
twin) followed by ``+key=value`` parameters (values in JSON:
``ff+batch_size=200``, ``ff+calibrate=false``, ``recurrent+readout="softmax"``,
``conv+calibrate="auto"``). ``conv`` and ``cnn`` read the image datasets only
(``input_shape`` (1, 8, 8) on ``digits``, (1, 28, 28) on ``fashion_mnist``);
``cnn`` has FFConvClassifier's blocks (its parameters set them, as
``cnn+channels=[20,40]``) and a linear output layer, trained with
cross-entropy, Adam, the same learning rate, schedule, epochs and batch size
(the model ``cnn`` of ``fashion_mnist.py``). Run from the repository root::

    python benchmarks/validation.py --dataset digits --config mlp_es --config ff
    python benchmarks/validation.py --dataset fashion_mnist --n-train 50000 --config ff
    python benchmarks/validation.py --dataset digits --config conv --config cnn

Splits: ``digits`` splits the 70% training part of ``calibration.py``'s
70/30 split again, 70/30, with three seeds (its test part is never read);
``breast_cancer``, ``wine`` and ``iris`` have no test split: 5-fold
stratified cross-validation (seed 7, other folds than ``calibration.py``'s)
behind a StandardScaler; ``fashion_mnist``: the first ``--n-train`` training
images (at most 50,000) train, training images 50,000-54,999 are scored;
``classification``: ``make_classification`` (20 features, 10 informative, 5
classes, 5% of the labels flipped, seed 0) of ``--n-train`` + 5,000 rows, the
first ``--n-train`` train and the last 5,000 are scored, behind a
StandardScaler (the generator draws its clusters after the rows, so each
``--n-train`` is a problem of its own: compare settings within one size).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

import numpy as np
import torch
from _common import (
    BackpropCNN,
    digits_validation_splits,
    fashion_mnist_validation_splits,
    fit_and_score,
    print_provenance,
    warm_up_torch,
)
from sklearn.datasets import (
    load_breast_cancer,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skff import FFClassifier, FFConvClassifier, FFRecurrentClassifier

ESTIMATORS = {
    "ff": FFClassifier,
    "recurrent": FFRecurrentClassifier,
    "conv": FFConvClassifier,
}
TABULAR = {"breast_cancer": load_breast_cancer, "wine": load_wine, "iris": load_iris}
IMAGE_SHAPES = {"digits": (1, 8, 8), "fashion_mnist": (1, 28, 28)}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--dataset",
        choices=("digits", *TABULAR, "fashion_mnist", "classification"),
        default="digits",
    )
    parser.add_argument("--n-train", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--config", action="append", default=None, help="repeatable; default: ff"
    )
    args = parser.parse_args(argv)
    if args.n_train > 50_000:
        parser.error("--n-train is at most 50,000 (images 50,000-54,999 are scored)")
    args.config = args.config or ["ff"]
    for config in args.config:
        try:
            make(config, 0, args.dataset)  # a malformed config fails before any fit
        except (ValueError, TypeError) as exc:
            parser.error(f"--config {config}: {exc}")
    return args


def splits(args):
    """(X_train, X_val, y_train, y_val) for every split."""
    if args.dataset == "digits":
        yield from digits_validation_splits()
    elif args.dataset in TABULAR:
        X, y = TABULAR[args.dataset](return_X_y=True)
        folds = StratifiedKFold(5, shuffle=True, random_state=7)
        for train, val in folds.split(X, y):
            scaler = StandardScaler().fit(X[train])
            yield scaler.transform(X[train]), scaler.transform(X[val]), y[train], y[val]
    elif args.dataset == "classification":
        # a synthetic table of any size: the first --n-train rows train, the
        # next 5,000 are scored
        X, y = make_classification(
            args.n_train + 5_000,
            n_features=20,
            n_informative=10,
            n_classes=5,
            flip_y=0.05,
            random_state=0,
        )
        scaler = StandardScaler().fit(X[: args.n_train])
        X = scaler.transform(X)
        yield X[: args.n_train], X[args.n_train :], y[: args.n_train], y[args.n_train :]
    else:
        yield from fashion_mnist_validation_splits([args.n_train])


def make(config: str, seed: int, dataset: str):
    """The estimator of ``config`` (see the module docstring) for ``dataset``."""
    name, *parts = config.split("+")
    if name == "mlp_es":
        if parts:
            raise ValueError("mlp_es takes no parameters")
        return MLPClassifier((500, 500), early_stopping=True, random_state=seed)
    if name not in (*ESTIMATORS, "cnn"):
        raise ValueError(
            f"a config starts with mlp_es, ff, recurrent, conv or cnn, not {name!r}"
        )
    params = dict(random_state=seed)
    if name in ("conv", "cnn"):
        if dataset not in IMAGE_SHAPES:
            raise ValueError(f"{name} reads images: digits or fashion_mnist only")
        params["input_shape"] = IMAGE_SHAPES[dataset]
    for part in parts:
        key, value = part.split("=", 1)
        params[key] = json.loads(value)
    if name == "cnn":
        return BackpropCNN(**params)
    return ESTIMATORS[name](**params)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    started = datetime.now(timezone.utc)
    results = {}
    with threadpool_limits(limits=args.threads):
        warm_up_torch()
        for i, (X_fit, X_val, y_fit, y_val) in enumerate(splits(args)):
            for config in args.config:
                clf = make(config, i, args.dataset)
                r = fit_and_score(clf, X_fit, y_fit, X_val, y_val)
                row = (r["accuracy"], r["log_loss"], r["fit_time"], r["epochs"])
                print(f"split {i} {config}: {row}", flush=True)
                results.setdefault(config, []).append(row)
    where = f" (first {args.n_train} images)" if args.dataset == "fashion_mnist" else ""
    print(f"\n{args.dataset}{where}, {args.threads} thread(s), mean over the splits")
    print("| config | accuracy | log-loss | fit time (s) | epochs |")
    print("|---|---|---|---|---|")
    for config, rows in results.items():
        acc, loss, fit, epochs = np.mean(np.array(rows, dtype=float), axis=0)
        print(
            f"| {config} | {100 * acc:.2f}% | {loss:.4f} | {fit:.1f} | {epochs:.0f} |"
        )
    print()
    print_provenance(args.threads, started)


if __name__ == "__main__":
    main()
