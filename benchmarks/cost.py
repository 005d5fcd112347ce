"""What ``FFClassifier()`` costs beside ``MLPClassifier((500, 500),
early_stopping=True)`` on every data size (issue 30): accuracy, log-loss, fit
and predict_proba time, their ratios to the MLP's, epochs, and the split of
FFClassifier's fit time between training its network and cross-fitting the
readout temperatures.

Each size fits ``FFClassifier()`` (the defaults), ``FFClassifier(calibrate=
False)`` and the MLP side by side in one run. The split is timed from the
outside: ``calibrate=False`` trains the same network on the same rows as the
default when the default cross-fits (200 to 9,999 rows), so its fit time is
the main training and the rest of the default's is the cross-fitting (one
network on half of the rows, and the temperatures). From 10,000 rows on the default
holds rows out instead and trains on fewer rows; the difference is then not a
cross-fitting share (the table says "held out"). Run from the repository
root::

    python benchmarks/cost.py --dataset fashion_mnist --sizes 500,2000,5000 --threads 1
    python benchmarks/cost.py --dataset digits --threads 1

fashion_mnist: the first N training images train (pixels / 255), training
images 50,000-54,999 are scored (a validation split; the test set is never
read). digits: the three 70/30 splits of ``validation.py`` (of the 70%
training part of a 70/30 split; its test part is never read), means over
the splits; ``--sizes`` is ignored.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

import numpy as np
import torch
from _common import (
    digits_validation_splits,
    fashion_mnist_validation_splits,
    fit_and_score,
    markdown_table,
    print_provenance,
    warm_up_torch,
)
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from skff import FFClassifier

REFERENCE = "MLP-ES"
MODELS = ("FFClassifier()", "FFClassifier(calibrate=False)", REFERENCE)
#: skff's documented bounds of calibrate="auto"'s cross-fitting (rows)
CROSS_FIT_ROWS = (200, 10_000)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--dataset", choices=("fashion_mnist", "digits"), default="fashion_mnist"
    )
    parser.add_argument(
        "--sizes",
        default="500,2000,5000,20000",
        help="training rows, comma-separated (fashion_mnist only)",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes: integers separated by commas, not {args.sizes!r}")
    if any(not 1 <= s <= 50_000 for s in args.sizes):
        parser.error("--sizes: 1 to 50,000 (images 50,000-54,999 are scored)")
    return args


def splits(args):
    """(label, X_train, X_val, y_train, y_val) for every split."""
    if args.dataset == "digits":
        for X_tr, X_val, y_tr, y_val in digits_validation_splits():
            yield f"digits ({len(X_tr)})", X_tr, X_val, y_tr, y_val
    else:
        splits = fashion_mnist_validation_splits(args.sizes)
        for n, split in zip(args.sizes, splits, strict=True):
            yield f"{n:,}", *split


def make(name: str, seed: int):
    return {
        "FFClassifier()": lambda: FFClassifier(random_state=seed),
        "FFClassifier(calibrate=False)": lambda: FFClassifier(
            calibrate=False, random_state=seed
        ),
        REFERENCE: lambda: MLPClassifier(
            (500, 500), early_stopping=True, random_state=seed
        ),
    }[name]()


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    started = datetime.now(timezone.utc)
    results = {}  # (label, model) -> list of row dicts, one per split
    n_rows = {}
    with threadpool_limits(limits=args.threads):
        warm_up_torch()
        for label, X_tr, X_val, y_tr, y_val in splits(args):
            n_rows[label] = len(X_tr)
            for name in MODELS:
                clf = make(name, args.random_state)
                row = fit_and_score(clf, X_tr, y_tr, X_val, y_val)
                print(f"{label} {name}: {row}", flush=True)
                results.setdefault((label, name), []).append(row)
    mean = {
        key: {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        for key, rows in results.items()
    }
    header = [
        "rows",
        "model",
        "accuracy",
        "log-loss",
        "fit (s)",
        "fit / MLP-ES",
        "predict_proba (s)",
        "predict / MLP-ES",
        "epochs",
        "s / epoch",
        "main training (s)",
        "cross-fitting (s)",
    ]
    table = []
    for label in n_rows:
        mlp = mean[(label, REFERENCE)]
        main_fit = mean[(label, "FFClassifier(calibrate=False)")]["fit_time"]
        cross_fits = CROSS_FIT_ROWS[0] <= n_rows[label] < CROSS_FIT_ROWS[1]
        for name in MODELS:
            r = mean[(label, name)]
            # the default's epochs are its main network's: time them alone
            per_epoch = (
                main_fit if name == "FFClassifier()" and cross_fits else r["fit_time"]
            )
            if name == "FFClassifier()":
                extra = r["fit_time"] - main_fit
                split = (
                    [
                        f"{main_fit:.1f} ({100 * main_fit / r['fit_time']:.0f}%)",
                        f"{extra:.1f} ({100 * extra / r['fit_time']:.0f}%)",
                    ]
                    if cross_fits  # else it trains on the rows it does not hold out
                    else [f"{r['fit_time']:.1f}", "none (rows held out)"]
                )
            elif name == REFERENCE:
                split = ["", ""]
            else:
                split = [f"{r['fit_time']:.1f}", "0"]
            table.append(
                [
                    label,
                    name,
                    f"{100 * r['accuracy']:.2f}%",
                    f"{r['log_loss']:.4f}",
                    f"{r['fit_time']:.1f}",
                    f"{r['fit_time'] / mlp['fit_time']:.2f}",
                    f"{r['predict_time']:.3f}",
                    f"{r['predict_time'] / mlp['predict_time']:.2f}",
                    f"{r['epochs']:.0f}",
                    f"{per_epoch / r['epochs']:.2f}",
                    *split,
                ]
            )
    what = (
        "digits, means over 3 splits"
        if args.dataset == "digits"
        else "Fashion-MNIST, first N training images; images 50,000-54,999 scored"
    )
    print(f"\n{what}; {args.threads} thread(s), random_state {args.random_state}")
    print(markdown_table(header, table))
    print()
    print_provenance(args.threads, started)


if __name__ == "__main__":
    main()
