"""Scale-out: GridSearchCV on a Dask cluster, and torch threads under joblib."""

import numpy as np
import pytest
from conftest import SPECS
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV

from skff import FFClassifier

FAST = SPECS["FFClassifier"].settings(n_layers=1, hidden_size=32, max_iter=5)
GRID = {"hidden_size": [16, 32], "loss": ["symba", "logistic"]}


def test_grid_search_on_dask_cluster(small_digits):
    distributed = pytest.importorskip("dask.distributed")
    X_tr, _, y_tr, _ = small_digits
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with parallel_config(backend="dask"):
            grid = GridSearchCV(FFClassifier(**FAST, random_state=0), GRID, cv=2)
            grid.fit(X_tr, y_tr)
        workers = client.run(lambda: __import__("os").getpid())
    assert len(workers) == 2
    local = GridSearchCV(FFClassifier(**FAST, random_state=0), GRID, cv=2)
    local.fit(X_tr, y_tr)
    np.testing.assert_array_equal(
        grid.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )


def _torch_threads(_):
    import torch

    return torch.get_num_threads()


def test_loky_workers_get_a_share_of_the_cores():
    """joblib's loky backend caps each worker's threads at cores // n_jobs, and
    torch follows (its thread count is read from OMP_NUM_THREADS at start)."""
    import os

    from joblib import Parallel, delayed

    counts = Parallel(n_jobs=2, backend="loky")(
        delayed(_torch_threads)(i) for i in range(2)
    )
    assert all(c == max(1, (os.cpu_count() or 1) // 2) for c in counts)
