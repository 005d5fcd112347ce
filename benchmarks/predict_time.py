"""Prediction time of every readout beside MLPClassifier's predict_proba.

What a prediction costs depends on the network's shape, not on what it has
learned, so each model is fitted for one epoch on a few rows and then timed
(best of ``--repeats``) predicting many: ``predict_proba`` of the 10,000
Fashion-MNIST test images for FFClassifier and FFRecurrentClassifier (their
default sizes, each readout) and for ``MLPClassifier((500, 500))``; the
next-character distribution at every position of the first 10,000
characters of The Devil's Dictionary's test text for FFLanguageModel (each
readout; fitted on the first 100,000 training characters, timed once). Run
from the repository root::

    python benchmarks/predict_time.py --threads 1
"""

from __future__ import annotations

import argparse
import functools
import time
from datetime import datetime, timezone

import torch
from _common import print_provenance, warm_up_torch
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from skff import FFClassifier, FFLanguageModel, FFRecurrentClassifier
from skff.datasets import load_devils_dictionary, load_fashion_mnist, split_text

READOUTS = ("softmax", "goodness", "both")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-lm", action="store_true")
    return parser.parse_args(argv)


def best_time(fn, repeats: int) -> float:
    fn()  # first call: lazy initialization
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None):
    args = parse_args(argv)
    started = datetime.now(timezone.utc)
    torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads):
        warm_up_torch()
        run(args)
    print_provenance(args.threads, started)


def run(args):
    X, y = load_fashion_mnist(subset="train", return_X_y=True)
    X_test = load_fashion_mnist(subset="test", return_X_y=True)[0]
    X_fit, y_fit = X[:2000], y[:2000]
    mlp = MLPClassifier((500, 500), max_iter=1, random_state=0).fit(X_fit, y_fit)
    reference = best_time(lambda: mlp.predict_proba(X_test), args.repeats)
    rows = [("MLPClassifier((500, 500))", "-", reference, 1.0)]
    for est in (FFClassifier(max_iter=1), FFRecurrentClassifier(max_iter=1)):
        est.set_params(random_state=0).fit(X_fit, y_fit)
        for readout in READOUTS:
            est.set_params(readout=readout)
            t = best_time(functools.partial(est.predict_proba, X_test), args.repeats)
            rows.append((type(est).__name__ + "()", readout, t, t / reference))
    if not args.skip_lm:
        train, test = split_text(load_devils_dictionary(), test_size=0.1)
        lm = FFLanguageModel(max_iter=1, random_state=0).fit([train[:100000]])
        text = test[:10000]
        for readout in READOUTS:
            lm.set_params(readout=readout)
            t = best_time(lambda: lm.predict_log_proba_sequence([text]), 1)
            rows.append(
                (f"FFLanguageModel() ({len(text):,} characters)", readout, t, None)
            )
    print(f"\npredict_proba time, {args.threads} thread(s), best of {args.repeats}")
    print("| model | readout | time (s) | ratio to MLPClassifier |")
    print("|---|---|---|---|")
    for model, readout, t, ratio in rows:
        shown = "-" if ratio is None else f"{ratio:.2f}"
        print(f"| {model} | {readout} | {t:.3f} | {shown} |")


if __name__ == "__main__":
    main()
