"""Cross-validate FFClassifier settings on the training part of the digits.

scikit-learn's digits are split 70/30 (stratified, ``random_state=0``, the split
the tests and ``python -m skff demo`` use); only the 70% training part is used
here, in a stratified 3-fold cross-validation, so the test part stays untouched.
Every setting is fitted once per fold and scored with the three readouts
(the readout only affects prediction).

Run it from the repository root::

    python benchmarks/digits_cv.py    # learning_rate x hidden_size, 1 thread
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, train_test_split

from skff import FFClassifier

READOUTS = ("goodness", "softmax", "both")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(
        X / 16.0, y, test_size=0.3, stratify=y, random_state=0
    )
    settings = [
        dict(learning_rate=lr, hidden_size=h)
        for h in (500, 1000)
        for lr in ("constant", "linear")
    ]
    cv = StratifiedKFold(args.folds, shuffle=True, random_state=args.random_state)
    print(f"{args.folds}-fold CV on {len(X_train)} training digits, 1 fit per fold")
    print("| setting | " + " | ".join(READOUTS) + " | time (s) |")
    print("|---|" + "---|" * (len(READOUTS) + 1))
    for setting in settings:
        scores = {r: [] for r in READOUTS}
        start = time.perf_counter()
        for tr, va in cv.split(X_train, y_train):
            clf = FFClassifier(
                device="cpu", random_state=args.random_state, **setting
            ).fit(X_train[tr], y_train[tr])
            for readout in READOUTS:
                clf.set_params(readout=readout)
                scores[readout].append(clf.score(X_train[va], y_train[va]))
        cells = " | ".join(f"{100 * np.mean(scores[r]):.2f}%" for r in READOUTS)
        print(f"| {setting} | {cells} | {time.perf_counter() - start:.0f} |")
    print(f"torch threads: {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
