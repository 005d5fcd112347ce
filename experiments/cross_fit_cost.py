"""How cheap can the cross-fitted temperatures of ``calibrate="auto"`` be?
FFClassifier() on the validation splits of ``benchmarks/validation.py``, with
the cross-fitting varied: how many folds are scored by a network of their own
(2: both halves, today; 1: one half), and whether those networks train with
the batch rows and epochs of a fit on their own rows (``own``) or of the main
fit (``main``: half the steps on half the rows). The main network is the same
in every variant (the accuracy must not move); only the temperatures, the
log-loss and the fit time do::

    PYTHONPATH=$PWD python experiments/cross_fit_cost.py --dataset digits
    PYTHONPATH=$PWD python experiments/cross_fit_cost.py --dataset fashion_mnist \\
        --n-train 2000
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _common import fit_and_score  # noqa: E402
from validation import splits  # noqa: E402

from skff import FFClassifier, FFConvClassifier, FFRecurrentClassifier  # noqa: E402

MODELS = {
    "ff": FFClassifier,
    "recurrent": FFRecurrentClassifier,
    "conv": FFConvClassifier,
}

VARIANTS = {
    "2 own": (2, False),
    "1 own": (1, False),
    "1 main": (1, True),
    "2 main": (2, True),
    "none": None,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--model", default="ff", choices=list(MODELS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    cls = MODELS[args.model]
    shape = {"digits": (1, 8, 8), "fashion_mnist": (1, 28, 28)}.get(args.dataset)
    extra = {"input_shape": shape} if args.model == "conv" else {}
    rows = {v: [] for v in args.variants.split(",")}
    with threadpool_limits(1):
        for k, (X_tr, X_va, y_tr, y_va) in enumerate(splits(args)):
            for name in rows:
                variant = VARIANTS[name]
                params = {"calibrate": False} if variant is None else {}
                if variant is not None:  # class attributes, read at fit
                    cls._CROSS_FIT_NETWORKS, cls._CROSS_FIT_MAIN_SCHEDULE = variant
                clf = cls(random_state=k, **extra, **params)
                res = fit_and_score(clf, X_tr, y_tr, X_va, y_va)
                rows[name].append((res["accuracy"], res["log_loss"], res["fit_time"]))
                print(name, k, rows[name][-1], clf.temperatures_, flush=True)
    label = args.dataset + (
        f" {args.n_train}" if args.dataset == "fashion_mnist" else ""
    )
    print("| data | cross-fitting | accuracy | log-loss | fit (s) |")
    for name, r in rows.items():
        acc, ll, fit = np.mean(r, axis=0)
        print(
            f"| {label} ({args.model}) | {name} | {100 * acc:.2f}% "
            f"| {ll:.4f} | {fit:.1f} |"
        )


if __name__ == "__main__":
    main()
