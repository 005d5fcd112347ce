"""Run by tests/estimators/test_distributed.py under torchrun: the fit of
``fit_spec()`` in the launched process group; the first process saves the
fitted estimator to the path given as the first argument."""

import os
import pickle
import sys

from sklearn.datasets import load_digits


def fit_spec():
    """The data and estimator the test fits both ways (launched and local)."""
    from skff import FFClassifier

    X, y = load_digits(return_X_y=True)
    est = FFClassifier(
        hidden_size=32, n_layers=3, max_iter=3, parallel="pipeline", random_state=0
    )
    return X[:600] / 16.0, y[:600], est


if __name__ == "__main__":
    import torch

    torch.set_num_threads(int(os.environ.get("SKFF_TEST_THREADS", "1")))
    X, y, est = fit_spec()
    est.fit(X, y)
    if int(os.environ["RANK"]) == 0:
        with open(sys.argv[1], "wb") as f:
            pickle.dump(est, f)
