"""Cross-validate FFClassifier settings on the training part of the digits.

scikit-learn's digits are split 70/30 (stratified, ``random_state=0``, the split
the tests and ``python -m skff demo`` use); only the 70% training part is used
here, in a stratified 3-fold cross-validation, so the test part stays untouched.
Every setting is fitted once per fold and scored with the three readouts
(the readout only affects prediction).

Run it from the repository root::

    python experiments/digits_cv.py    # learning_rate x hidden_size, 1 thread
    python experiments/digits_cv.py --grid max_iter=60,120 --grid batch_size=50,100
    python experiments/digits_cv.py --param hidden_size=1000 --repeats 2 --folds 5

``--grid KEY=V1,V2,...`` (repeatable) crosses the listed values of FFClassifier
parameters; ``--param KEY=VALUE`` fixes one for every setting. Values are read
as Python literals when they parse as one. ``--repeats R`` repeats the k-fold
split R times with different shuffles (``RepeatedStratifiedKFold``).
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import torch
from _common import add_param_argument, parse_param
from sklearn.datasets import load_digits
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split

from skff import FFClassifier

READOUTS = ("goodness", "softmax", "both")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="FFClassifier parameter values to cross (repeatable)",
    )
    add_param_argument(
        parser, "FFClassifier parameter fixed for every setting (repeatable)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(
        X / 16.0, y, test_size=0.3, stratify=y, random_state=0
    )
    fixed = dict(args.param)
    if args.grid:
        axes = []
        for spec in args.grid:
            key, _, values = spec.partition("=")
            axes.append([parse_param(f"{key}={v}") for v in values.split(",")])
        settings = [dict(combo) for combo in itertools.product(*axes)]
    else:
        settings = [
            dict(learning_rate=lr, hidden_size=h)
            for h in (500, 1000)
            for lr in ("constant", "linear")
        ]
    cv = RepeatedStratifiedKFold(
        n_splits=args.folds, n_repeats=args.repeats, random_state=args.random_state
    )
    print(
        f"{args.folds}-fold CV x {args.repeats} on {len(X_train)} training digits, "
        f"1 fit per fold; fixed: {fixed or 'defaults'}"
    )
    print("| setting | " + " | ".join(READOUTS) + " | time (s) |")
    print("|---|" + "---|" * (len(READOUTS) + 1))
    for setting in settings:
        scores = {r: [] for r in READOUTS}
        start = time.perf_counter()
        for tr, va in cv.split(X_train, y_train):
            clf = FFClassifier(
                device="cpu", random_state=args.random_state, **fixed, **setting
            ).fit(X_train[tr], y_train[tr])
            for readout in READOUTS:
                clf.set_params(readout=readout)
                scores[readout].append(clf.score(X_train[va], y_train[va]))
        cells = " | ".join(f"{100 * np.mean(scores[r]):.2f}%" for r in READOUTS)
        print(f"| {setting} | {cells} | {time.perf_counter() - start:.0f} |")
    print(f"torch threads: {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
