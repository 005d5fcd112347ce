"""FFClassifier beside MLPClassifier: accuracy, log-loss, fit time and
predict_proba time, side by side in one run.

Each classifier is fitted with its defaults and with ``early_stopping=True``
(its held-out rows also fit FFClassifier's readout temperatures). Run from
the repository root::

    python benchmarks/calibration.py --dataset digits --threads 1
    python benchmarks/calibration.py --dataset breast_cancer --threads 1
    python benchmarks/calibration.py --dataset fashion_mnist --threads 1

digits: a 70/30 stratified split (pixels / 16); breast_cancer: 5-fold
stratified cross-validation behind a StandardScaler (means over the folds);
fashion_mnist: 60k/10k (pixels / 255), ``--subset N`` for the first N rows of
each.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

import numpy as np
import torch
from _common import (
    add_param_argument,
    fit_and_score,
    print_provenance,
    warm_up_torch,
)
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skff import FFClassifier
from skff.datasets import load_fashion_mnist

#: the model every ratio is taken against
REFERENCE = "MLPClassifier((500, 500), early_stopping=True)"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--dataset",
        choices=("digits", "breast_cancer", "fashion_mnist"),
        default="digits",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--subset", type=int, default=None)
    parser.add_argument(
        "--models",
        default="ff,ff_es,mlp,mlp_es",
        help="comma-separated subset of ff, ff_es (early stopping), mlp, mlp_es",
    )
    add_param_argument(parser, "FFClassifier parameter (repeatable)")
    return parser.parse_args(argv)


def splits(args):
    """(X_train, X_test, y_train, y_test) for every fold."""
    if args.dataset == "digits":
        X, y = load_digits(return_X_y=True)
        yield train_test_split(X / 16.0, y, test_size=0.3, stratify=y, random_state=0)
    elif args.dataset == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        for train, test in folds.split(X, y):
            scaler = StandardScaler().fit(X[train])
            yield (
                scaler.transform(X[train]),
                scaler.transform(X[test]),
                y[train],
                y[test],
            )
    else:
        X_train, y_train = load_fashion_mnist(subset="train", return_X_y=True)
        X_test, y_test = load_fashion_mnist(subset="test", return_X_y=True)
        n = args.subset
        yield X_train[:n], X_test[:n], y_train[:n], y_test[:n]


def models(args):
    seed = args.random_state
    ff = dict(random_state=seed)
    ff.update(args.param)
    every = {
        "ff": ("FFClassifier()", FFClassifier(**ff)),
        "ff_es": (
            "FFClassifier(early_stopping=True)",
            FFClassifier(early_stopping=True, **ff),
        ),
        "mlp": (
            "MLPClassifier((500, 500))",
            MLPClassifier((500, 500), random_state=seed),
        ),
        "mlp_es": (
            REFERENCE,
            MLPClassifier((500, 500), early_stopping=True, random_state=seed),
        ),
    }
    return dict(every[name] for name in args.models.split(","))


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    started = datetime.now(timezone.utc)
    results = {}
    with threadpool_limits(limits=args.threads):
        warm_up_torch()
        for fold, (X_train, X_test, y_train, y_test) in enumerate(splits(args)):
            for name, clf in models(args).items():
                row = fit_and_score(clf, X_train, y_train, X_test, y_test)
                print(f"fold {fold} {name}: {row}", flush=True)
                for key, value in row.items():
                    results.setdefault(name, {}).setdefault(key, []).append(value)
    mean = {m: {k: float(np.mean(v)) for k, v in r.items()} for m, r in results.items()}
    mlp = mean.get(REFERENCE)
    if mlp is None:  # no reference in this run: ratios against itself
        mlp = next(iter(mean.values()))
    print()
    print(
        f"{args.dataset}, {args.threads} thread(s); ratios against "
        f"{REFERENCE if REFERENCE in mean else next(iter(mean))}"
    )
    print(
        "| model | accuracy | log-loss | fit time (s) | predict_proba (s) "
        "| epochs | log-loss ratio | fit ratio | predict ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in mean.items():
        print(
            f"| {name} | {100 * r['accuracy']:.2f}% | {r['log_loss']:.4f} "
            f"| {r['fit_time']:.1f} | {r['predict_time']:.3f} | {r['epochs']:.0f} "
            f"| {r['log_loss'] / mlp['log_loss']:.2f} "
            f"| {r['fit_time'] / mlp['fit_time']:.2f} "
            f"| {r['predict_time'] / mlp['predict_time']:.2f} |"
        )
    print()
    print_provenance(args.threads, started)


if __name__ == "__main__":
    main()
