"""Which iterations of FFRecurrentClassifier's dynamics carry the class?

Fits one FFRecurrentClassifier on a Fashion-MNIST validation split (the first
``--subset`` training images, a stratified ``--holdout`` share of them held
out; the test set is never read), then scores the held-out images with the
goodness readout computed over other windows of iterations than the one it was
trained on: single iterations ``0..n_iterations`` and a few wider or later
windows. It answers whether a different scoring window (no retraining) would
help, and shows how the label's effect builds up and fades over the
iterations. Scores come from the public
:meth:`~skff.FFRecurrentClassifier.goodness_trajectory`, run once per label.

Run it from the repository root::

    python experiments/recurrent_readout.py --threads 1      # 2 x 404, 20 epochs
    python experiments/recurrent_readout.py --param n_negatives=1
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

import numpy as np
import torch
from _common import add_param_argument, benchmark_module, print_provenance, timed
from threadpoolctl import threadpool_limits

from skff import FFRecurrentClassifier

# the Fashion-MNIST split of benchmarks/fashion_mnist.py
load_data = benchmark_module("fashion_mnist").load_data

WINDOWS = [(2, 4), (1, 4), (3, 5), (2, 5), (2, 6), (2, 8), (4, 8)]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=12_000)
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--hidden-size", type=int, default=404)
    parser.add_argument("--max-iter", type=int, default=20)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    add_param_argument(parser, "any other FFRecurrentClassifier parameter")
    args = parser.parse_args(argv)
    if not 0 < args.holdout < 1:
        parser.error("--holdout must be in (0, 1): the test set is never scored")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    started = datetime.now(timezone.utc)
    torch.set_num_threads(args.threads)
    # the split of ``fashion_mnist.py --subset S --holdout F``
    X_train, X_val, y_train, y_val = load_data(args)
    print(f"Fashion-MNIST: {len(X_train)} train, {len(X_val)} validation images")
    params = dict(
        hidden_size=args.hidden_size,
        max_iter=args.max_iter,
        random_state=args.random_state,
        device="cpu",
    )
    params.update(args.param)
    clf = FFRecurrentClassifier(**params)
    with threadpool_limits(limits=args.threads):
        _, fit_time = timed(clf.fit, X_train, y_train)
        print(f"fit: {fit_time:.0f} s; goodness_window={clf.goodness_window}")
        # all iterations of every label once; each window is a slice of them
        n_iter = clf.n_iterations
        traj = np.stack(
            [
                clf.goodness_trajectory(X_val, np.full(len(X_val), c))
                for c in clf.classes_
            ],
            axis=1,
        )  # (n, C, n_iterations + 1)
    y_idx = np.searchsorted(clf.classes_, y_val)

    def accuracy(scores):
        return 100 * np.mean(scores.argmax(axis=1) == y_idx)

    score = 100 * clf.score(X_val, y_val)
    print(f"estimator score (readout={clf.readout!r}): {score:.2f}%")
    print("| scoring window | validation accuracy |")
    print("|---|---|")
    for t in range(n_iter + 1):
        print(f"| iteration {t} only | {accuracy(traj[:, :, t]):.2f}% |")
    for start, stop in WINDOWS:
        if stop <= n_iter:
            cells = accuracy(traj[:, :, start : stop + 1].mean(axis=2))
            print(f"| iterations {start} to {stop} | {cells:.2f}% |")
    print_provenance(args.threads, started)


if __name__ == "__main__":
    main()
