"""GridSearchCV speed-up from joblib parallelism with skff estimators.

Runs the same grid search over FFClassifier on scikit-learn's digits with
``n_jobs=1`` (one process, ``--threads`` torch threads) and with ``n_jobs=2``
(two loky workers; loky gives each ``cores // n_jobs`` threads and torch
follows), checks that both find the same scores, and prints the speed-up.

Run from the repository root::

    python benchmarks/parallel.py              # 2 jobs vs 1 job, 1 thread each
    python benchmarks/parallel.py --threads 2  # the single job gets 2 threads
"""

import argparse
import os
import sys
import time

import numpy as np
import torch
from _common import cpu_name
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from skff import FFClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads of the n_jobs=1 run"
    )
    parser.add_argument("--max-iter", type=int, default=40)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    grid = {"hidden_size": [100, 200], "loss": ["symba", "logistic"]}
    est = FFClassifier(max_iter=args.max_iter, device="cpu", random_state=0)

    torch.set_num_threads(args.threads)
    t = time.perf_counter()
    seq = GridSearchCV(est, grid, cv=3, n_jobs=1).fit(X, y)
    t_seq = time.perf_counter() - t
    t = time.perf_counter()
    par = GridSearchCV(est, grid, cv=3, n_jobs=args.n_jobs).fit(X, y)
    t_par = time.perf_counter() - t
    same = np.array_equal(
        seq.cv_results_["mean_test_score"], par.cv_results_["mean_test_score"]
    )
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(
        f"cpu: {cpu_name()}, {os.cpu_count()} logical cores; torch {torch.__version__}"
    )
    print(
        f"grid: {grid}, cv=3, {len(seq.cv_results_['params']) * 3} fits of "
        f"{args.max_iter} epochs each\n"
    )
    print("| run | torch threads per fit | wall time (s) |")
    print("|---|---|---|")
    print(f"| n_jobs=1 | {args.threads} | {t_seq:.1f} |")
    print(
        f"| n_jobs={args.n_jobs} (loky) | "
        f"{max(1, (os.cpu_count() or 1) // args.n_jobs)} | {t_par:.1f} |"
    )
    print(f"\nspeed-up: {t_seq / t_par:.2f}x; identical scores: {same}")


if __name__ == "__main__":
    main()
