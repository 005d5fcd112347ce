"""One fit over two processes (``parallel=``) against one process.

Fits the same estimator on Fashion-MNIST four ways, each in a fresh Python
process: one process with 1 torch thread, one with 2 threads, and two worker
processes of 1 thread each, as a pipeline of layer stages and data parallel.
Prints the time per epoch (the mean of the epochs after the first, from the
``verbose`` lines, so the workers' start-up is not counted), its speed-up
over 1 process x 1 thread, and the test accuracy.

``--per-block`` instead measures, for the model, each block's training time
on one mini-batch (1 thread) and the time to send its output to another
process (gloo over loopback), and projects the pipeline's speed-up on more
workers from them: on these CPUs, and on GPUs whose block times and links
are given as assumptions (``--gpu-speedup``, ``--link-gbps``).

Run from the repository root::

    python benchmarks/distributed.py --model fc --n-train 20000 --epochs 5
    python benchmarks/distributed.py --model conv --n-train 10000 --epochs 3
    python benchmarks/distributed.py --model conv --per-block
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime

import numpy as np
import torch

CONFIGS = [  # name, processes, threads (per process), parallel
    ("1 process x 1 thread", 1, 1, None),
    ("1 process x 2 threads", 1, 2, None),
    ("pipeline: 2 workers x 1 thread", 2, 1, "pipeline"),
    ("data parallel: 2 workers x 1 thread", 2, 1, "data"),
]


def make_estimator(model: str, epochs: int, parallel, n_workers):
    """The benchmarked estimators: FFClassifier with 4 x 500 layers, and a
    deep residual FFConvClassifier whose 8 blocks split evenly in two."""
    from skff import FFClassifier, FFConvClassifier

    common = dict(
        max_iter=epochs,
        calibrate=False,
        device="cpu",
        random_state=0,
        verbose=1,
        parallel=parallel,
        n_workers=n_workers,
    )
    if model == "fc":
        return FFClassifier(hidden_layer_sizes=(500, 500, 500, 500), **common)
    return FFConvClassifier(
        input_shape=(1, 28, 28),
        channels=(32, 32, 64, 64, 128, 128, 256, 256),
        pooling_schedule="stage",
        shortcut="add",
        normalization="layer",
        **common,
    )


def load(n_train: int):
    from skff.datasets import load_fashion_mnist

    X, y = load_fashion_mnist(subset="train", return_X_y=True)
    X_test, y_test = load_fashion_mnist(subset="test", return_X_y=True)
    return (
        X[:n_train].astype(np.float32),
        y[:n_train],
        X_test.astype(np.float32),
        y_test,
    )


def run_one(args) -> None:
    """One configuration (in its own process): fit, print a JSON result."""
    torch.set_num_threads(args.threads)
    X, y, X_test, y_test = load(args.n_train)
    parallel = None if args.parallel == "none" else args.parallel
    est = make_estimator(
        args.model, args.epochs, parallel, args.processes if parallel else None
    )
    started = time.perf_counter()
    est.fit(X, y)
    fit_s = time.perf_counter() - started
    print(
        json.dumps({"accuracy": float(est.score(X_test, y_test)), "fit_s": fit_s}),
        flush=True,
    )


def run_configs(args) -> None:
    rows = []
    base = None
    for name, processes, threads, parallel in CONFIGS:
        cmd = [
            sys.executable,
            __file__,
            "--one",
            "--model",
            args.model,
            "--n-train",
            str(args.n_train),
            "--epochs",
            str(args.epochs),
            "--threads",
            str(threads * processes),  # the workers get threads // processes
            "--processes",
            str(processes),
            "--parallel",
            parallel or "none",
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode:
            sys.exit(f"{name} failed:\n{out.stderr[-3000:]}")
        epochs = [float(t) for t in re.findall(r"time=([0-9.]+)s", out.stderr)]
        result = json.loads(out.stdout.strip().splitlines()[-1])
        per_epoch = float(np.mean(epochs[1:] if len(epochs) > 1 else epochs))
        base = base or per_epoch
        rows.append((name, per_epoch, base / per_epoch, result["accuracy"]))
        print(
            f"  {name}: {per_epoch:.2f} s/epoch, {result['accuracy']:.4f}", flush=True
        )
    print()
    print(
        f"{args.model}, Fashion-MNIST {args.n_train} training rows, "
        f"{args.epochs} epochs, test accuracy on 10,000 rows"
    )
    print()
    print("| run | s / epoch | speed-up | test accuracy |")
    print("|---|---:|---:|---:|")
    for name, per_epoch, speedup, acc in rows:
        print(f"| {name} | {per_epoch:.2f} | {speedup:.2f}x | {acc:.4f} |")


# -- per block: the projection -------------------------------------------------------
def _transfer_worker(rank, folder, shapes, repeats, queue):
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"file://{folder}/store", rank=rank, world_size=2
    )
    times = []
    for shape in shapes:
        t = torch.zeros(shape)
        dist.barrier()
        started = time.perf_counter()
        for _ in range(repeats):
            if rank == 0:
                dist.send(t, 1)
                dist.recv(t, 1)
            else:
                dist.recv(t, 0)
                dist.send(t, 0)
        times.append((time.perf_counter() - started) / (2 * repeats))
    if rank == 0:
        queue.put(times)
    dist.destroy_process_group()


def per_block(args) -> None:
    import torch.multiprocessing as mp

    from skff.core.parallel import balanced_stages

    torch.set_num_threads(1)
    X, y, _, _ = load(2000)
    est = make_estimator(args.model, 1, None, None).set_params(verbose=0)
    est.fit(X[:200], y[:200])  # builds the core and its optimizers
    core = est.core_
    core.configure_training(learning_rate=0.001)
    batch = 100
    x = torch.as_tensor(X[:batch])
    yb = torch.as_tensor(y[:batch], dtype=torch.int64)
    n_layers = len(core.layers)
    seconds = np.zeros(n_layers)
    shapes = [None] * n_layers
    gen = torch.Generator().manual_seed(0)

    def timed(i, rep, fn, *a):
        started = time.perf_counter()
        out = fn(*a)
        if rep:  # the first is a warm-up
            seconds[i] += time.perf_counter() - started
        return out

    last = n_layers - 1
    for rep in range(args.repeats + 1):
        probs = None
        if core.belief_pass:  # each block's share of the belief pass too
            carry = timed(0, rep, core.belief_begin, x)
            for i in range(n_layers):
                carry = timed(i, rep, core.belief_layer, i, carry)
            _, probs = timed(last, rep, core.belief_end, carry, yb)
        carry = timed(0, rep, core.train_begin, x, yb, probs, gen)
        for i in range(n_layers):
            carry, _ = timed(i, rep, core.train_layer, i, carry, yb)
            shapes[i] = [tuple(t.shape) for t in carry]
        timed(last, rep, core.train_end, carry, yb)
    seconds /= args.repeats
    sizes = [sum(int(np.prod(s)) for s in sh) for sh in shapes]
    folder = tempfile.mkdtemp()
    queue = mp.get_context("spawn").SimpleQueue()
    flat = [(max(1, n),) for n in sizes]
    mp.start_processes(
        _transfer_worker,
        args=(folder, flat, 20, queue),
        nprocs=2,
        start_method="spawn",
    )
    transfer = queue.get()
    print(
        f"{args.model}: per block, mini-batch of {batch} rows, 1 thread (block 0 "
        "with the pass's start, the last block with the head)"
    )
    print()
    print("| block | train ms | output floats | send ms (gloo) |")
    print("|---:|---:|---:|---:|")
    for i in range(n_layers):
        print(
            f"| {i} | {1e3 * seconds[i]:.2f} | {sizes[i]} | {1e3 * transfer[i]:.3f} |"
        )
    print()
    costs = core.layer_costs()
    gpu_seconds = seconds / args.gpu_speedup
    gpu_transfer = [
        args.latency_us * 1e-6 + 4 * n / (args.link_gbps * 1e9) for n in sizes
    ]
    n_batches = -(-60_000 // batch)
    print(
        "Projected pipeline speed-up per epoch of 60,000 rows (the stages the "
        "estimator places; a slot lasts as long as the slowest stage's blocks "
        "plus sending its output, nothing overlapped; fill and drain counted). "
        f"GPU: block times = 1-thread CPU times / {args.gpu_speedup:g}, links "
        f"{args.link_gbps:g} GB/s + {args.latency_us:g} us per message "
        "(assumptions, not measured). Last column: the link speed below which "
        "sending a stage's output takes longer than the slowest GPU stage "
        "computes, i.e. where communication starts to dominate."
    )
    print()
    print("| workers | stages | CPU processes | GPUs | GPU link break-even (GB/s) |")
    print("|---:|---|---:|---:|---:|")
    for workers in (1, 2, 4, 8):
        if workers > n_layers:
            break
        stages = balanced_stages(costs, workers)
        speeds = []
        for comp, send in ((seconds, transfer), (gpu_seconds, gpu_transfer)):
            slot = max(
                comp[a:b].sum() + (send[b - 1] if b < n_layers else 0.0)
                for a, b in stages
            )
            speeds.append(comp.sum() * n_batches / (slot * (n_batches + workers - 1)))
        slowest = max(gpu_seconds[a:b].sum() for a, b in stages)
        sent = max((4 * sizes[b - 1] for a, b in stages if b < n_layers), default=0)
        even = f"{sent / slowest / 1e9:.1f}" if sent else "-"
        print(
            f"| {workers} | {stages} | {speeds[0]:.2f}x | {speeds[1]:.2f}x | {even} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["fc", "conv"], default="fc")
    parser.add_argument("--n-train", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--per-block", action="store_true")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--gpu-speedup", type=float, default=100.0)
    parser.add_argument("--link-gbps", type=float, default=25.0)
    parser.add_argument("--latency-us", type=float, default=20.0)
    # one configuration, in a child process
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--parallel", default="none", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args)
        return
    started = datetime.now()
    print(
        f"{started:%Y-%m-%d %H:%M}, torch {torch.__version__}, {os.cpu_count()} cores"
    )
    if args.per_block:
        per_block(args)
    else:
        run_configs(args)


if __name__ == "__main__":
    main()
