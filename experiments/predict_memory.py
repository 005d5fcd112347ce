"""Memory of one ``predict_proba`` call on 1,000,000 digits-like rows: the
peak resident memory above what the process held before the call (Linux:
``VmHWM`` after clearing it), beside the size of the result. One thread::

    PYTHONPATH=$PWD python experiments/predict_memory.py
"""

import numpy as np
import torch
from sklearn.datasets import load_digits

from skff import FFClassifier


def status(key: str) -> float:
    """A ``/proc/self/status`` field in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def main():
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    clf = FFClassifier(max_iter=2, random_state=0).fit(X, y)
    big = np.tile(X, (1_000_000 // len(X) + 1, 1))[:1_000_000]
    clf.predict_proba(big[:1000])  # torch's first-call allocations
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # the peak restarts from the current size
    start = status("VmRSS")
    proba = clf.predict_proba(big)
    print(
        f"predict_proba of {big.shape}: peak +{status('VmHWM') - start:.0f} MB "
        f"over {start:.0f} MB (the result: {proba.nbytes / 2**20:.0f} MB)"
    )


if __name__ == "__main__":
    main()
