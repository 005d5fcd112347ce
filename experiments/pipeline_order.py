"""Does the pipeline's order cost FFClassifier accuracy, and what do its
stages cost in one process?

``accuracy`` (default): FFClassifier trained in one process and in the order
of a pipeline of ``--stages`` stages, simulated in this process
(:class:`skff.core.parallel.SimulatedPipeline` as the epoch loop's trainer:
the model that many worker processes train), on the first ``--n-train``
Fashion-MNIST training rows; rows 50,000-59,999 of the training set are
scored (a validation split, not the test set).

``stages``: the time of each stage's share of a mini-batch (belief and
training passes, by the stage methods of the core) against the core's own
``train_step``, in one process and one thread: whether splitting a network
into stages costs anything before any communication.

    python experiments/pipeline_order.py --n-train 20000 --threads 2
    python experiments/pipeline_order.py --what stages --batch 200
"""

import argparse
import time

import numpy as np
import torch

from skff import FFClassifier
from skff.core import FFNet
from skff.core.parallel import SimulatedPipeline, plan_stages
from skff.datasets import load_fashion_mnist


def accuracy(args) -> None:
    X, y = load_fashion_mnist(subset="train", return_X_y=True)
    X_tr, y_tr = X[: args.n_train], y[: args.n_train]
    X_va, y_va = X[50_000:], y[50_000:]
    settings = FFClassifier._loop_settings

    def simulated(self, *a, **k):
        out = settings(self, *a, **k)
        return type(out)(**{**out.__dict__, "trainer": SimulatedPipeline(args.stages)})

    print("| seed | one process | pipeline order |")
    print("|---|---:|---:|")
    for seed in args.seeds:
        scores = []
        for trainer in (settings, simulated):
            FFClassifier._loop_settings = trainer
            clf = FFClassifier(
                hidden_layer_sizes=(args.width,) * args.layers,
                max_iter=args.epochs,
                calibrate=False,
                random_state=seed,
            ).fit(X_tr, y_tr)
            scores.append(clf.score(X_va, y_va))
        FFClassifier._loop_settings = settings
        print(f"| {seed} | {scores[0]:.4f} | {scores[1]:.4f} |", flush=True)


def stages(args) -> None:
    gen = torch.Generator().manual_seed(0)
    n = args.batch * 30
    x = torch.rand(n, 784, generator=gen)
    y = torch.randint(0, 10, (n,), generator=gen)
    core = FFNet(784, 10, [args.width] * args.layers, seed=1)
    core.configure_training(learning_rate=0.01)
    plan = plan_stages(core, args.stages)
    spent = np.zeros(args.stages)
    whole = 0.0
    owner = [
        next(r for r, (a, b) in enumerate(plan) if a <= i < b)
        for i in range(args.layers)
    ]

    def timed(r, rep, fn, *a):
        started = time.perf_counter()
        out = fn(*a)
        if rep:
            spent[r] += time.perf_counter() - started
        return out

    for rep in range(30):
        xb, yb = (
            x[rep * args.batch : (rep + 1) * args.batch],
            y[rep * args.batch : (rep + 1) * args.batch],
        )
        c = timed(0, rep, core.belief_begin, xb)
        for i in range(args.layers):
            c = timed(owner[i], rep, core.belief_layer, i, c)
        _, probs = timed(args.stages - 1, rep, core.belief_end, c, yb)
        c = timed(0, rep, core.train_begin, xb, yb, probs, gen)
        for i in range(args.layers):
            c, _ = timed(owner[i], rep, core.train_layer, i, c, yb)
        started = time.perf_counter()
        core.train_step(xb, yb, gen)
        if rep:
            whole += time.perf_counter() - started
    print(f"stages {plan}: " + ", ".join(f"{s:.3f} s" for s in spent))
    print(f"sum {spent.sum():.3f} s; train_step {whole:.3f} s (29 batches)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--what", choices=["accuracy", "stages"], default="accuracy")
    parser.add_argument("--n-train", type=int, default=20_000)
    parser.add_argument("--stages", type=int, default=2)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--width", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    (accuracy if args.what == "accuracy" else stages)(args)


if __name__ == "__main__":
    main()
