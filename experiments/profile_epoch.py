"""Where an FFClassifier epoch spends its time, beside one MLPClassifier
epoch of the same width on the same rows.

Times one ``partial_fit`` epoch of each (after a first epoch has built the
network). Wraps the steps of ``FFNet.train_step`` with timers (the neutral-label pass
that feeds the head and the hard negatives, the head's update, the draw of
negative labels, each layer's forward pass, loss and update) and prints their
share of one epoch. Run from the repository root::

    python experiments/profile_epoch.py --threads 1
    python experiments/profile_epoch.py --threads 1 --dataset digits
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from datetime import datetime, timezone

import numpy as np
import torch
from _common import print_provenance
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from skff import FFClassifier
from skff.core import FFNet
from skff.datasets import load_fashion_mnist

#: FFNet methods timed, and the name each is reported under
STEPS = {
    "neutral_features": "neutral-label pass (head input, hard negatives)",
    "update_head": "head update",
    "negative_labels": "negative labels",
    "layer_loss": "layer losses",
    "update_layer": "layer updates (backward + Adam)",
}


def auto_batch_size(n_rows: int) -> int:
    """FFClassifier's ``batch_size="auto"`` as its docstring states it:
    ``n_rows // 50`` within [50, 200] (skff has no public attribute for the
    batch size a fit used)."""
    return min(200, max(50, n_rows // 50), n_rows)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--dataset", choices=("fashion_mnist", "digits"), default="fashion_mnist"
    )
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--hidden-size", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args(argv)


def timed_methods(totals):
    """Wrap the methods of :data:`STEPS` (and the layers' forward) so that
    their wall time adds up in ``totals``; returns a function that undoes it."""
    originals = {name: getattr(FFNet, name) for name in STEPS}

    def wrap(name, fn):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            out = fn(*args, **kwargs)
            totals[STEPS[name]] += time.perf_counter() - start
            return out

        return timed

    for name, fn in originals.items():
        setattr(FFNet, name, wrap(name, fn))

    def restore():
        for name, fn in originals.items():
            setattr(FFNet, name, fn)

    return restore


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    started = datetime.now(timezone.utc)
    if args.dataset == "digits":
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
    else:
        X, y = load_fashion_mnist(subset="train", return_X_y=True)
    X, y = X[: args.rows], y[: args.rows]
    width = args.hidden_size
    totals = defaultdict(float)
    with threadpool_limits(limits=args.threads):
        ff = FFClassifier(hidden_size=width, max_iter=1, random_state=0, device="cpu")
        ff.fit(X, y)  # builds the network (and warms torch up)
        restore = timed_methods(totals)
        try:
            start = time.perf_counter()
            ff.partial_fit(X, y)  # one more epoch on the same network
            ff_epoch = time.perf_counter() - start
        finally:
            restore()
        mlp = MLPClassifier((width, width), random_state=0)
        mlp.partial_fit(X, y, classes=np.unique(y))
        start = time.perf_counter()
        mlp.partial_fit(X, y)  # one more epoch
        mlp_epoch = time.perf_counter() - start
    print(
        f"{args.dataset}: {len(X)} rows, 2 x {width} units, "
        f"batch {auto_batch_size(len(X))}, "
        f"{args.threads} thread(s)"
    )
    print("| part of an FFClassifier epoch | seconds | share |")
    print("|---|---|---|")
    rest = ff_epoch - sum(totals.values())
    for name, seconds in [
        *totals.items(),
        ("everything else (forward passes, batching)", rest),
    ]:
        print(f"| {name} | {seconds:.2f} | {100 * seconds / ff_epoch:.0f}% |")
    print(f"| **FFClassifier epoch** | {ff_epoch:.2f} | 100% |")
    print(
        f"| MLPClassifier(({width}, {width})) epoch, same rows | {mlp_epoch:.2f} "
        f"| {100 * mlp_epoch / ff_epoch:.0f}% |"
    )
    print(f"FF / MLP epoch time: {ff_epoch / mlp_epoch:.2f}x")
    print()
    print_provenance(args.threads, started)


if __name__ == "__main__":
    main()
