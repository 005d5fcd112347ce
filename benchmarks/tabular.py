"""Tabular benchmark: FF classifiers against scikit-learn baselines on small datasets.

Runs a stratified 5-fold cross-validation (shuffled, ``random_state=0``) on
scikit-learn's small datasets and generators (iris, wine, breast_cancer,
digits, ``make_circles(500, noise=0.1, factor=0.5)``,
``make_moons(500, noise=0.2)``, ``make_classification(1000, n_features=20,
n_informative=5)``) for :class:`skff.FFClassifier`,
:class:`skff.FFRecurrentClassifier`, ``MLPClassifier``, ``LogisticRegression``
and ``HistGradientBoostingClassifier``, each with its default parameters (and
``random_state=0``) behind a ``StandardScaler`` in a ``Pipeline``. It prints
one markdown table, dataset x model: mean accuracy (± standard deviation over
the folds), mean log-loss on the held-out folds and mean fit time per fold,
preceded by a line with the thread count, the CPU and the package versions and
followed by the command line and the rest of the provenance.

Run it from the repository root::

    python benchmarks/tabular.py                       # everything, 1 thread
    python benchmarks/tabular.py --datasets iris,circles --models ff,recurrent
    python benchmarks/tabular.py --models recurrent \
        --recurrent-param normalize_input=False

``--param KEY=VALUE`` (repeatable) overrides an FFClassifier parameter,
``--recurrent-param KEY=VALUE`` an FFRecurrentClassifier one; values are read as
Python literals when they parse as one. ``--threads N`` (default 1) sets torch's
intra-op threads and a threadpoolctl limit for BLAS/OpenMP (the MLP, the
logistic regression and the gradient boosting).
"""

from __future__ import annotations

import argparse
import time
import warnings
from datetime import datetime, timezone

import numpy as np
import sklearn
import torch
from _common import (
    add_param_argument,
    cpu_name,
    parse_param,
    print_provenance,
    warm_up_torch,
)
from sklearn import datasets
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import skff
from skff import FFClassifier, FFRecurrentClassifier

RANDOM_STATE = 0

DATASETS = {
    "iris": lambda: datasets.load_iris(return_X_y=True),
    "wine": lambda: datasets.load_wine(return_X_y=True),
    "breast_cancer": lambda: datasets.load_breast_cancer(return_X_y=True),
    "digits": lambda: datasets.load_digits(return_X_y=True),
    "circles": lambda: datasets.make_circles(
        500, noise=0.1, factor=0.5, random_state=RANDOM_STATE
    ),
    "moons": lambda: datasets.make_moons(500, noise=0.2, random_state=RANDOM_STATE),
    "classification": lambda: datasets.make_classification(
        1000, n_features=20, n_informative=5, random_state=RANDOM_STATE
    ),
}

MODEL_NAMES = {
    "ff": "FFClassifier",
    "recurrent": "FFRecurrentClassifier",
    "mlp": "MLPClassifier",
    "logreg": "LogisticRegression",
    "hgb": "HistGradientBoosting",
}


def make_model(name: str, args) -> object:
    """The estimator ``name`` (defaults, ``random_state=0``, overrides from
    ``--param`` / ``--recurrent-param``) behind a StandardScaler."""
    if name == "ff":
        est = FFClassifier(device="cpu", random_state=RANDOM_STATE, **dict(args.param))
    elif name == "recurrent":
        est = FFRecurrentClassifier(
            device="cpu", random_state=RANDOM_STATE, **dict(args.recurrent_param)
        )
    elif name == "mlp":
        est = MLPClassifier(random_state=RANDOM_STATE)
    elif name == "logreg":
        est = LogisticRegression(random_state=RANDOM_STATE)
    elif name == "hgb":
        est = HistGradientBoostingClassifier(random_state=RANDOM_STATE)
    else:
        raise ValueError(name)
    return make_pipeline(StandardScaler(), est)


def cross_validate(name: str, X, y, args) -> dict:
    """Accuracy, log-loss and fit time of model ``name`` on every fold."""
    cv = StratifiedKFold(args.folds, shuffle=True, random_state=RANDOM_STATE)
    acc, loss, fit_s = [], [], []
    for train, test in cv.split(X, y):
        model = make_model(name, args)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X[train], y[train])
        fit_s.append(time.perf_counter() - start)
        proba = model.predict_proba(X[test])
        pred = model.classes_[proba.argmax(axis=1)]
        acc.append(accuracy_score(y[test], pred))
        loss.append(log_loss(y[test], proba, labels=model.classes_))
    return dict(acc=np.array(acc), loss=np.array(loss), fit_s=np.array(fit_s))


def _subset(text: str, choices) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    unknown = sorted(set(items) - set(choices))
    if unknown or not items:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated subset of {list(choices)}, got {text!r}"
        )
    return items


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads and BLAS/OpenMP threads (threadpoolctl)",
    )
    parser.add_argument(
        "--datasets",
        type=lambda t: _subset(t, DATASETS),
        default=list(DATASETS),
        help=f"comma-separated subset of {','.join(DATASETS)}",
    )
    parser.add_argument(
        "--models",
        type=lambda t: _subset(t, MODEL_NAMES),
        default=list(MODEL_NAMES),
        help=f"comma-separated subset of {','.join(MODEL_NAMES)}",
    )
    parser.add_argument("--folds", type=int, default=5)
    add_param_argument(parser, "FFClassifier parameter (repeatable)")
    parser.add_argument(
        "--recurrent-param",
        type=parse_param,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="FFRecurrentClassifier parameter (repeatable)",
    )
    return parser.parse_args(argv)


def header(threads: int) -> str:
    return (
        f"threads: {threads}; CPU: {cpu_name()}; skff {skff.__version__}, "
        f"torch {torch.__version__}, scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}"
    )


def main(argv=None) -> list[dict]:
    """Run the benchmark; print the table and return its rows."""
    args = parse_args(argv)
    started = datetime.now(timezone.utc)
    torch.set_num_threads(args.threads)
    print(header(args.threads))
    print(
        f"{args.folds}-fold stratified CV (shuffled, random_state={RANDOM_STATE}), "
        "every model behind a StandardScaler; "
        f"FFClassifier overrides: {dict(args.param) or 'none'}; "
        f"FFRecurrentClassifier overrides: {dict(args.recurrent_param) or 'none'}",
        flush=True,
    )
    rows = []
    with threadpool_limits(limits=args.threads):
        warm_up_torch()
        for ds in args.datasets:
            X, y = DATASETS[ds]()
            X = np.asarray(X, dtype=np.float64)
            for name in args.models:
                r = cross_validate(name, X, y, args)
                rows.append(dict(dataset=ds, model=name, shape=X.shape, **r))
                print(
                    f"  {ds} {MODEL_NAMES[name]}: {100 * r['acc'].mean():.1f}% "
                    f"log-loss {r['loss'].mean():.3f} fit {r['fit_s'].mean():.2f} s",
                    flush=True,
                )
    print()
    print("| dataset (n × d) | model | accuracy (± std) | log-loss | fit time (s) |")
    print("|---|---|---|---|---|")
    for r in rows:
        n, d = r["shape"]
        print(
            f"| {r['dataset']} ({n} × {d}) | {MODEL_NAMES[r['model']]} | "
            f"{100 * r['acc'].mean():.1f}% (± {100 * r['acc'].std():.1f}) | "
            f"{r['loss'].mean():.3f} | {r['fit_s'].mean():.2f} |"
        )
    print()
    print_provenance(args.threads, started)
    return rows


if __name__ == "__main__":
    main()
