"""
Data larger than memory: partial_fit over chunks with dask-ml
=============================================================

:meth:`skff.FFClassifier.partial_fit` trains one epoch on the rows it is
given and keeps the weights, so a data set that does not fit in memory can
train the network one chunk of rows at a time. dask-ml's
:class:`~dask_ml.wrappers.Incremental` does the bookkeeping: given a dask
array split into row chunks, it calls ``partial_fit`` on each chunk in turn,
on a Dask cluster, and each chunk is read only when a task needs it.
:class:`~dask_ml.wrappers.ParallelPostFit` (which ``Incremental`` extends)
then predicts a dask array chunk by chunk.

Here the "large" data set is scikit-learn's 8x8 digits, read in chunks of
260 rows, so that the example runs in seconds; nothing in the code depends on
its size. It needs dask-ml (``pip install dask-ml``), which brings Dask and
its ``distributed`` scheduler.
"""

# %%
# A dask array whose chunks are read on demand
# --------------------------------------------
# ``load_rows(start, stop)`` stands for reading one piece of a large data set:
# one file, one Parquet row group, one slice of a Zarr or HDF5 array. Each
# call of it becomes one task in the graph, and :func:`dask.array.from_delayed`
# turns its result into one chunk of a dask array without running it. In real
# use the array comes from :func:`dask.array.from_zarr`, from
# ``dask.dataframe.read_parquet(...).to_dask_array(lengths=True)``, or from
# ``from_delayed`` over your own reader, as here. The first 1,300 rows train
# (5 chunks); the last 497 are held out.
import time

import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
import torch
from dask.distributed import Client, LocalCluster, get_task_stream
from dask_ml.wrappers import Incremental, ParallelPostFit
from sklearn.datasets import load_digits

from skff import FFClassifier

torch.set_num_threads(1)
N_ROWS, N_FEATURES, N_TRAIN, CHUNK_ROWS = 1797, 64, 1300, 260


def load_rows(start, stop):
    """Rows ``start:stop`` of the data set, pixels scaled to [0, 1]."""
    X, y = load_digits(return_X_y=True)
    return X[start:stop] / 16.0, y[start:stop]


def chunked_array(start, stop, name):
    """``(X, y)``: dask arrays with one chunk per call of ``load_rows``."""
    X_chunks, y_chunks = [], []
    for i, lo in enumerate(range(start, stop, CHUNK_ROWS)):
        hi = min(lo + CHUNK_ROWS, stop)
        rows = dask.delayed(load_rows, nout=2)(lo, hi, dask_key_name=f"{name}-{i}")
        X_chunks.append(
            da.from_delayed(rows[0], shape=(hi - lo, N_FEATURES), dtype=np.float64)
        )
        y_chunks.append(da.from_delayed(rows[1], shape=(hi - lo,), dtype=np.int64))
    return da.concatenate(X_chunks), da.concatenate(y_chunks)


X_train, y_train = chunked_array(0, N_TRAIN, "read-train")
X_test, y_test = chunked_array(N_TRAIN, N_ROWS, "read-test")
print(f"training rows: {X_train.shape}, chunks of {X_train.chunks[0]} rows")
print(f"held-out rows: {X_test.shape}, chunks of {X_test.chunks[0]} rows")

# %%
# Train chunk by chunk with ``Incremental``
# -----------------------------------------
# A :class:`~dask.distributed.LocalCluster` with ``processes=False`` runs its
# worker in this process (it starts in milliseconds, and torch keeps its one
# thread); on a real cluster connect with ``Client("tcp://scheduler:8786")``
# instead (:doc:`/parallelism`). Every call of ``Incremental.partial_fit``
# makes one pass over the chunks, in a random order (``random_state``): one
# task per chunk that calls ``FFClassifier.partial_fit`` on the chunk (one
# epoch on its rows) and hands the updated model to the next chunk's task.
# The chunks train one after another: ``Incremental`` does not train in
# parallel (with more worker threads, reading the next chunks can overlap the
# training). ``classes`` must be given, since no chunk need hold every class.
# The held-out score after every pass reads the test chunks the same way.
#
# Between two calls the model travels through the scheduler as a pickle,
# which keeps the network's weights but not its Adam optimizers' state
# (as with a saved model, :doc:`/persistence`): each pass starts with fresh
# optimizer moments. Within a pass the chunks' ``partial_fit`` calls share
# them while the model stays in one worker process (here, always).
N_PASSES = 5
classes = np.arange(10)
cluster = LocalCluster(
    processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
)
client = Client(cluster)

inc = Incremental(
    FFClassifier(n_layers=1, hidden_size=200, device="cpu", random_state=0),
    scoring="accuracy",
    random_state=0,
)
scores = []
for n_pass in range(1, N_PASSES + 1):
    start = time.perf_counter()
    with get_task_stream(client) as tasks:  # what the cluster runs; kept: last pass
        inc.partial_fit(X_train, y_train, classes=classes)
    scores.append(inc.score(X_test, y_test))
    print(
        f"pass {n_pass}: held-out accuracy {scores[-1]:.4f} "
        f"({time.perf_counter() - start:.1f} s)"
    )
clf = inc.estimator_
print(f"partial_fit calls (one epoch on one chunk each): {clf.n_iter_}")

# %%
# For comparison, the same network fitted in memory on the same rows for as
# many epochs (each epoch shuffles all the rows, not only the chunks' order).
X_train_np, y_train_np = load_rows(0, N_TRAIN)
X_test_np, y_test_np = load_rows(N_TRAIN, N_ROWS)
in_memory = FFClassifier(
    n_layers=1, hidden_size=200, max_iter=N_PASSES, device="cpu", random_state=0
).fit(X_train_np, y_train_np)
print(f"fit in memory, {N_PASSES} epochs: {in_memory.score(X_test_np, y_test_np):.4f}")

# %%
# Predict chunk by chunk
# ----------------------
# ``Incremental`` is a :class:`~dask_ml.wrappers.ParallelPostFit`: its
# ``predict`` and ``predict_proba`` on a dask array build a task per chunk
# and return a lazy dask array (its ``score`` above computed the accuracy from
# them), so the predictions of a data set larger than memory can be computed
# in parallel chunks or written out chunk by chunk (``da.to_zarr``). A model
# trained in memory, or loaded from a file, predicts the same way inside
# ``ParallelPostFit``. The predictions are those of the fitted network on the
# same rows in memory.
pred = ParallelPostFit(clf).predict(X_test)
print(pred)
same = np.array_equal(pred.compute(), clf.predict(X_test_np))
print(f"chunk-wise predictions equal the in-memory ones: {same}")
client.close()
cluster.close()

# %%
# What the cluster ran
# --------------------
# Left: the held-out accuracy after each pass, and the in-memory fit's.
# Right: the tasks of the last pass, in time. Each chunk is read by its own
# task shortly before a ``partial_fit`` needs it (the scheduler reads a few
# chunks ahead of the training), and dask drops a chunk once the
# ``partial_fit`` that reads it has run: the data set is never in memory as a
# whole.


def spans(prefix):
    """``(start, duration)`` of every recorded task whose key starts with
    ``prefix``, in seconds from the first recorded task."""
    stops = [(t["key"], s) for t in tasks.data for s in t["startstops"]]
    origin = min(s["start"] for _, s in stops if s["action"] == "compute")
    return [
        (s["start"] - origin, s["stop"] - s["start"])
        for key, s in stops
        # a chunk's key is (name, index); ("fit-...", -1) holds the model
        if s["action"] == "compute"
        and (key[0] if isinstance(key, tuple) else key).startswith(prefix)
        and not (isinstance(key, tuple) and key[-1] == -1)
    ]


fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
passes = range(1, N_PASSES + 1)
ax1.plot(passes, scores, "o-", label="Incremental, chunk by chunk")
ax1.axhline(
    in_memory.score(X_test_np, y_test_np),
    color="k",
    ls="--",
    label=f"fit in memory, {N_PASSES} epochs",
)
ax1.set(
    xlabel="passes over the chunks",
    ylabel="held-out accuracy",
    xticks=passes,
    title="Incremental(FFClassifier)",
)
ax1.legend(loc="lower right")
rows = {"read a chunk": "read-train", "partial_fit on a chunk": "fit-"}
for y, prefix in enumerate(rows.values()):
    ax2.broken_barh(spans(prefix), (y - 0.3, 0.6), color=f"C{y}")
ax2.set_yticks(range(len(rows)), list(rows))
ax2.set(xlabel="seconds from the pass's first task", title="Tasks of the last pass")
fig.tight_layout()
plt.show()
