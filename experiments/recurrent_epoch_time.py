"""Epoch time of FFRecurrentClassifier relative to FFClassifier of the same width.

Fits both classifiers for one epoch on the same Fashion-MNIST images
(``--subset`` of the training set), alternating between them ``--repeats``
times, and reports the median wall time and process CPU time per epoch of each
and their ratio. CPU time is the steadier measure on a machine where other jobs
compete for the cores. The data come from :func:`skff.datasets.load_fashion_mnist`
(Debian package ``dataset-fashion-mnist``); with ``--digits`` scikit-learn's
digits are used instead.

Run it from the repository root::

    python experiments/recurrent_epoch_time.py                  # widths 500, 1 thread
    python experiments/recurrent_epoch_time.py --batch-size 100    # same batches
    python experiments/recurrent_epoch_time.py --hidden-size 256 --digits
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch

import skff
from skff import FFClassifier, FFRecurrentClassifier


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden-size", type=int, default=500)
    parser.add_argument("--n-layers", type=int, default=2)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="batch size of both (default: each estimator's own: 100 and 50)",
    )
    parser.add_argument("--subset", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--digits", action="store_true")
    return parser.parse_args(argv)


def load(args):
    if args.digits:
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return (X / 16).astype(np.float32), y
    from skff.datasets import load_fashion_mnist

    X, y = load_fashion_mnist(subset="train", return_X_y=True)
    return X[: args.subset], y[: args.subset]


def one_epoch(est, X, y):
    wall, cpu = time.perf_counter(), time.process_time()
    est.fit(X, y)
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    X, y = load(args)
    common = dict(
        n_layers=args.n_layers,
        hidden_size=args.hidden_size,
        max_iter=1,
        device=args.device,
        random_state=0,
    )
    if args.batch_size is not None:
        common["batch_size"] = args.batch_size
    models = {
        "FFClassifier": FFClassifier(**common),
        "FFRecurrentClassifier": FFRecurrentClassifier(**common),
    }
    for est in models.values():  # warm-up: first-call costs are not throughput
        est.set_params(max_iter=1).fit(X[:200], y[:200])
    times = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, est in models.items():
            times[name].append(one_epoch(est, X, y))
    print(
        f"{len(X)} samples, {X.shape[1]} features, {args.n_layers} x "
        f"{args.hidden_size} units, batch sizes: FF {models['FFClassifier'].batch_size}"
        f", recurrent {models['FFRecurrentClassifier'].batch_size}; "
        f"{args.repeats} alternating repeats; torch threads {torch.get_num_threads()}"
    )
    print("| model | wall s/epoch (median) | CPU s/epoch (median) |")
    print("|---|---|---|")
    med = {}
    for name, ts in times.items():
        med[name] = (
            statistics.median(t[0] for t in ts),
            statistics.median(t[1] for t in ts),
        )
        print(f"| {name} | {med[name][0]:.2f} | {med[name][1]:.2f} |")
    ff, rec = med["FFClassifier"], med["FFRecurrentClassifier"]
    print(
        f"recurrent / feed-forward: {rec[0] / ff[0]:.2f}x (wall), "
        f"{rec[1] / ff[1]:.2f}x (CPU time)"
    )
    print(
        f"versions: skff {skff.__version__}, torch {torch.__version__}, "
        f"python {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
