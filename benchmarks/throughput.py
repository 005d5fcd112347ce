"""Training and prediction throughput of FFClassifier against dense matmul.

Measures, in one run on one machine:

(a) the float32 matmul rate (GFLOP/s) of every GEMM shape one training step
    uses (``F.linear`` forward, the weight-gradient GEMM ``g.T @ x`` and, for
    reference only, the input-gradient GEMM ``g @ W`` that Forward-Forward never
    needs); a warm-up call, then the median of ``--repeats`` samples, each
    long enough (>= 50 ms of back-to-back calls) to time reliably. The *matmul
    baseline* of a batch size is the rate a perfect implementation would reach
    doing exactly the GEMMs of a training step, each at its measured speed:
    ``sum(flops_i) / sum(flops_i / rate_i)``.

(b) FFClassifier's training rate: the FLOPs of one epoch (below) divided by the
    wall time of ``FFClassifier(...).fit`` (end to end: validation, building
    the core, the epoch loop) and of a bare loop of ``core_.train_step`` over
    one epoch on the fitted core, and the ratio of each to the baseline (a).
    A small warm-up fit runs first: the first fit of a process pays one-time
    costs (imports, lazy initialisation) that are not throughput.

(c) prediction throughput (samples/s) of a fitted FFClassifier with the
    goodness readout and the softmax readout (switched with ``set_params``),
    beside ``MLPClassifier(hidden_layer_sizes=(H,) * L).predict`` (the MLP is
    fitted for one iteration on a small subset, just to have weights).

FLOPs of one training epoch over ``n`` samples (GEMMs only; a multiply-add is
2 FLOPs; D features, C classes, L layers of width H, R = H * (number of
readout layers) inputs to the softmax head)::

    F_epoch = n * (4*D*H + 10*(L - 1)*H**2 + 4*R*C)

per sample:

* layer 1: its input part ``W_x x + b`` is computed once on the n rows (the
  label columns are added afterwards, and the neutral pass reuses it):
  ``2*D*H`` forward + ``2*D*H`` for the weight gradient. Layer 1 needs no input
  gradient.
* layers 2..L: a neutral-label forward without gradient (``2*H**2``), the
  positive + negative forward on 2 rows per sample (``4*H**2``) and the weight
  gradient on those rows (``4*H**2``): ``10*H**2``. No layer needs an input
  gradient either: every layer's input is detached.
* the softmax head: forward ``2*R*C`` + weight gradient ``2*R*C``.

Elementwise work (ReLU, RMS normalization, goodness, loss, Adam) is not counted;
it is overhead the ratio exposes. Prediction FLOPs per sample: goodness readout
``2*D*H + C*(L - 1)*2*H**2`` (every label through layers 2..L), softmax readout
``2*D*H + (L - 1)*2*H**2 + 2*R*C``, MLP ``2*D*H + (L - 1)*2*H**2 + 2*H*C``.

Every rate is given by wall time and, on the CPU, also by CPU time per thread
(process CPU time / threads): other jobs competing for the cores stretch the
wall time far more than the CPU time, so the CPU-time ratios are the steadier
ones on a shared machine. On a GPU every timing synchronizes the device and
only wall time is reported. The issue's target: training at >= 50% of the
matmul baseline on the CPU for 784-2000-2000 with batches of 256 or more.

The data are random (uniform in [0, 1), Fashion-MNIST's shape: 784 features,
10 classes); only speed is measured. Run it from the repository root::

    python benchmarks/throughput.py                       # 784-2000-2000, 1 thread
    python benchmarks/throughput.py --threads 2 --batch-size 512
    python benchmarks/throughput.py --n-samples 60000 --epochs 2
    python benchmarks/throughput.py --hidden-size 500 --batch-size 100
    python benchmarks/throughput.py --device cuda         # times with synchronize
    python benchmarks/throughput.py --profile             # + torch.profiler table
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import time
import warnings

import numpy as np
import sklearn
import torch
import torch.nn.functional as F
from _common import cpu_name
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

import skff
from skff import FFClassifier, resolve_device

N_FEATURES = 784
N_CLASSES = 10


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--hidden-size", type=int, default=2000)
    parser.add_argument("--n-layers", type=int, default=2)
    parser.add_argument(
        "--batch-size",
        type=int,
        action="append",
        help="mini-batch size, repeatable; None: 256 and 1024",
    )
    parser.add_argument("--n-samples", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=1, help="epochs of each fit")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch.set_num_threads and the threadpoolctl (BLAS) limit",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N")
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed repeats of each GEMM"
    )
    parser.add_argument(
        "--mlp-fit-samples",
        type=int,
        default=1000,
        help="rows the MLPClassifier is fitted on (1 iteration)",
    )
    parser.add_argument(
        "--precision",
        choices=["float32", "bf16"],
        default="float32",
        help="FFClassifier precision (the matmul baseline stays float32)",
    )
    parser.add_argument("--skip-predict", action="store_true", help="skip part (c)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a torch.profiler table of a few train_steps",
    )
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.batch_size:
        args.batch_size = [256, 1024]
    return args


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Timing:
    """Wall time and CPU time (of the whole process) of some work, in seconds."""

    def __init__(self, wall: float, cpu: float):
        self.wall, self.cpu = wall, cpu

    def __truediv__(self, k: float) -> Timing:
        return Timing(self.wall / k, self.cpu / k)


def timed(fn, device: torch.device) -> Timing:
    """Time one call of ``fn``, device work included."""
    sync(device)
    w, c = time.perf_counter(), time.process_time()
    fn()
    sync(device)
    return Timing(time.perf_counter() - w, time.process_time() - c)


def median_time(fn, device, repeats: int, min_seconds: float = 0.05) -> Timing:
    """Median time of one call of ``fn``: after a warm-up call, each of the
    ``repeats`` samples times enough back-to-back calls to last ``min_seconds``
    (short GEMMs are otherwise lost in timer and scheduling noise)."""
    first = timed(fn, device)
    inner = max(1, int(np.ceil(min_seconds / max(first.wall, 1e-9))))

    def loop():
        for _ in range(inner):
            fn()

    samples = [timed(loop, device) for _ in range(repeats)]
    wall = statistics.median(t.wall for t in samples)
    cpu = statistics.median(t.cpu for t in samples)
    return Timing(wall, cpu) / inner


class Rates:
    """GFLOP/s of ``flops`` done in ``t``: by wall time, and by CPU time per
    thread (``t.cpu / threads``), which other processes competing for the cores
    inflate much less than the wall time; on a GPU only the wall time counts."""

    def __init__(self, flops: float, t: Timing, threads: int, on_cpu: bool):
        self.wall = flops / t.wall / 1e9
        self.cpu = flops / (t.cpu / threads) / 1e9 if on_cpu and t.cpu > 0 else None

    @staticmethod
    def fmt(value) -> str:
        return "-" if value is None else f"{value:.1f}"

    @staticmethod
    def ratio(a, b) -> str:
        return "-" if a is None or b is None else f"{a / b:.0%}"


# -- (a) the GEMMs of one training step ------------------------------------------
def training_gemms(b: int, d: int, h: int, n_layers: int, c: int, r: int) -> list:
    """The GEMMs of one train_step on a batch of ``b`` rows.

    Each entry: (name, kind, rows, k, out, count); ``kind`` is ``fwd``
    (``F.linear(x[rows, k], W[out, k], bias)``), ``dW`` (``g[rows, out].T @
    x[rows, k]``) or ``dX`` (``g[rows, out] @ W[out, k]``); ``count`` is how
    often a step runs it (0 for the input gradients, which FF never needs).
    """
    deep = n_layers - 1
    gemms = [
        ("layer 1 input part", "fwd", b, d, h, 1),
        ("layer 1", "dW", b, d, h, 1),
        ("layer 1", "dX", b, d, h, 0),
    ]
    if deep:
        gemms += [
            ("layers 2+ neutral", "fwd", b, h, h, deep),
            ("layers 2+ pos+neg", "fwd", 2 * b, h, h, deep),
            ("layers 2+ pos+neg", "dW", 2 * b, h, h, deep),
            ("layers 2+ pos+neg", "dX", 2 * b, h, h, 0),
        ]
    gemms += [
        ("softmax head", "fwd", b, r, c, 1),
        ("softmax head", "dW", b, r, c, 1),
    ]
    return gemms


def gemm_time(kind, rows, k, out, device, repeats, gen) -> Timing:
    """Median time of one GEMM (contiguous float32 operands)."""

    def rand(*shape):
        return torch.rand(*shape, generator=gen).to(device)

    if kind == "fwd":
        x, w, bias = rand(rows, k), rand(out, k), rand(out)

        def fn():
            return F.linear(x, w, bias)

    elif kind == "dW":
        g, x = rand(rows, out), rand(rows, k)

        def fn():
            return torch.mm(g.t(), x)

    else:
        g, w = rand(rows, out), rand(out, k)

        def fn():
            return torch.mm(g, w)

    return median_time(fn, device, repeats)


def gemm_shape(kind: str, rows: int, k: int, out: int) -> str:
    return {
        "fwd": f"({rows} x {k}) @ ({k} x {out})",
        "dW": f"({out} x {rows}) @ ({rows} x {k})",
        "dX": f"({rows} x {out}) @ ({out} x {k})",
    }[kind]


def epoch_flops(n: int, d: int, h: int, n_layers: int, c: int, r: int) -> float:
    return float(n) * (4 * d * h + 10 * (n_layers - 1) * h**2 + 4 * r * c)


# -- (b) training ------------------------------------------------------------------
def make_classifier(args, batch_size: int, device: str) -> FFClassifier:
    return FFClassifier(
        n_layers=args.n_layers,
        hidden_size=args.hidden_size,
        batch_size=batch_size,
        max_iter=args.epochs,
        device=device,
        precision=args.precision,
        random_state=args.random_state,
    )


def train_step_epoch(clf: FFClassifier, X: np.ndarray, y: np.ndarray, batch_size):
    """Time of one epoch of bare ``core_.train_step`` calls (data already on the
    device; same batching as the estimator's epoch loop)."""
    core = clf.core_
    device = next(core.parameters()).device
    Xt = torch.from_numpy(X).to(device)
    yt = torch.as_tensor(np.searchsorted(clf.classes_, y), dtype=torch.int64)
    yt = yt.to(device)
    gen = torch.Generator(device=device).manual_seed(1)
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(1))
    order = order.to(device)
    n_losses = len(core.layers) + 1
    core.train()

    bf16 = clf.precision == "bf16"

    def epoch():
        total = torch.zeros(n_losses, device=device)
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                losses = core.train_step(Xt[idx], yt[idx], gen)
            total += losses.float() * len(idx)
        return total

    t = timed(epoch, device)
    core.eval()
    return t


def profile_steps(clf, X, y, batch_size, device, steps: int = 10) -> None:
    from torch.profiler import ProfilerActivity, profile

    core = clf.core_
    Xt = torch.from_numpy(X[: steps * batch_size]).to(device)
    yt = torch.as_tensor(np.searchsorted(clf.classes_, y), dtype=torch.int64)
    yt = yt[: steps * batch_size].to(device)
    gen = torch.Generator(device=device).manual_seed(2)
    activities = [ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    core.train()
    with profile(activities=activities) as prof:
        for start in range(0, len(Xt), batch_size):
            stop = start + batch_size
            core.train_step(Xt[start:stop], yt[start:stop], gen)
        sync(device)
    core.eval()
    print(f"\n### torch.profiler: {steps} train_steps, batch {batch_size}\n")
    sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=sort, row_limit=25))


# -- (c) prediction ------------------------------------------------------------------
def predict_time(fn, X, device) -> Timing:
    fn(X[:512])  # warm-up
    return timed(lambda: fn(X), device)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    limits = threadpool_limits(limits=args.threads)
    device = resolve_device(args.device)
    on_cpu = device.type == "cpu"
    threads = torch.get_num_threads()
    d, c, h, nl = N_FEATURES, N_CLASSES, args.hidden_size, args.n_layers
    r = h * nl  # readout_skip_first=False: every layer feeds the head

    rng = np.random.default_rng(args.random_state)
    X = rng.random((args.n_samples, d), dtype=np.float32)
    y = rng.integers(0, c, args.n_samples)
    gen = torch.Generator().manual_seed(args.random_state)

    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(
        f"cpu: {cpu_name()}, {os.cpu_count()} logical cores; torch threads: "
        f"{threads}; BLAS limit: {args.threads}; device: {device}"
    )
    if device.type == "cuda":
        print(f"gpu: {torch.cuda.get_device_name(device)}")
    print(
        f"torch {torch.__version__}, scikit-learn {sklearn.__version__}, numpy "
        f"{np.__version__}, Python {platform.python_version()}, skff "
        f"{skff.__version__}"
    )
    if hasattr(os, "getloadavg"):
        print(
            "load average at start: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
        )
    print(
        f"net: {d}-{'-'.join([str(h)] * nl)} (+{c} label inputs, head {r}->{c}); "
        f"n={args.n_samples}, epochs={args.epochs}; FLOPs per sample and epoch: "
        f"{epoch_flops(1, d, h, nl, c, r) / 1e6:.2f} M\n"
    )

    gemm_rows, train_rows, clf, cold = [], [], None, None
    for b in args.batch_size:
        # (a) dense baseline: every GEMM of a step at its measured speed
        flops_sum, ideal_wall, ideal_cpu = 0.0, 0.0, 0.0
        for name, kind, rows, k, out, count in training_gemms(b, d, h, nl, c, r):
            t = gemm_time(kind, rows, k, out, device, args.repeats, gen)
            flops = 2.0 * rows * k * out
            gemm_rows.append(
                (b, name, kind, rows, k, out, count, Rates(flops, t, threads, on_cpu))
            )
            flops_sum += flops * count
            ideal_wall += t.wall * count
            ideal_cpu += t.cpu * count
        baseline = Rates(flops_sum, Timing(ideal_wall, ideal_cpu), threads, on_cpu)
        # (b) training
        flops_epoch = epoch_flops(args.n_samples, d, h, nl, c, r)
        # warm-up fit on two batches: the first fit of a process pays one-time
        # costs (imports, lazy initialisation) that are not throughput
        warm = make_classifier(args, b, str(device)).set_params(max_iter=1)
        Xw, yw = X[: 2 * b], y[: 2 * b]
        t = timed(lambda w=warm, Xw=Xw, yw=yw: w.fit(Xw, yw), device)
        cold = t if cold is None else cold
        clf = make_classifier(args, b, str(device))
        t_fit = timed(lambda clf=clf: clf.fit(X, y), device) / args.epochs
        fit = Rates(flops_epoch, t_fit, threads, on_cpu)
        t_step = train_step_epoch(clf, X, y, b)
        step = Rates(flops_epoch, t_step, threads, on_cpu)
        train_rows.append((b, flops_epoch, baseline, t_fit, fit, t_step, step))
        print(
            f"batch {b}: baseline {baseline.wall:.1f} GFLOP/s; fit {t_fit.wall:.2f} "
            f"s/epoch ({fit.wall:.1f} GFLOP/s, {fit.wall / baseline.wall:.0%}); "
            f"train_step {t_step.wall:.2f} s/epoch ({step.wall:.1f} GFLOP/s, "
            f"{step.wall / baseline.wall:.0%}); by CPU time: fit "
            f"{Rates.ratio(fit.cpu, baseline.cpu)}, train_step "
            f"{Rates.ratio(step.cpu, baseline.cpu)}",
            flush=True,
        )
        if args.profile:
            profile_steps(clf, X, y, b, device)

    print(
        f"\nfirst (warm-up) fit of the process, on {2 * args.batch_size[0]} rows: "
        f"{cold.wall:.2f} s (not counted)"
    )
    print(
        "\nGFLOP/s by wall time, and by CPU time per thread (less sensitive to "
        "other processes on the machine; CPU only)."
    )
    print("\n### (a) float32 GEMMs of one training step\n")
    print("| batch | GEMM | op | shape | per step | GFLOP/s | GFLOP/s (CPU time) |")
    print("|---|---|---|---|---|---|---|")
    for b, name, kind, rows, k, out, count, rate in gemm_rows:
        per_step = f"{count}x" if count else "not needed"
        print(
            f"| {b} | {name} | {kind} | {gemm_shape(kind, rows, k, out)} | "
            f"{per_step} | {rate.wall:.1f} | {Rates.fmt(rate.cpu)} |"
        )

    print("\n### (b) training\n")
    print(
        "| batch | GFLOP/epoch | | matmul baseline GFLOP/s | fit s/epoch | "
        "fit GFLOP/s | fit / baseline | train_step s/epoch | train_step GFLOP/s | "
        "train_step / baseline |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for b, fl, base, t_fit, fit, t_step, step in train_rows:
        print(
            f"| {b} | {fl / 1e9:.1f} | wall | {base.wall:.1f} | {t_fit.wall:.2f} | "
            f"{fit.wall:.1f} | {fit.wall / base.wall:.0%} | {t_step.wall:.2f} | "
            f"{step.wall:.1f} | {step.wall / base.wall:.0%} |"
        )
        if on_cpu:
            print(
                f"| {b} | {fl / 1e9:.1f} | CPU time | {Rates.fmt(base.cpu)} | "
                f"{t_fit.cpu / threads:.2f} | {Rates.fmt(fit.cpu)} | "
                f"{Rates.ratio(fit.cpu, base.cpu)} | {t_step.cpu / threads:.2f} | "
                f"{Rates.fmt(step.cpu)} | {Rates.ratio(step.cpu, base.cpu)} |"
            )

    if not args.skip_predict:
        predict_table(args, clf, X, y, device, threads)
    limits.restore_original_limits()


def predict_table(args, clf, X, y, device, threads) -> None:
    """(c) prediction speed of the classifier fitted last, and of an MLP."""
    d, c, h, nl = N_FEATURES, N_CLASSES, args.hidden_size, args.n_layers
    r = h * nl
    per_sample = {
        "goodness": 2 * d * h + c * (nl - 1) * 2 * h**2,
        "softmax": 2 * d * h + (nl - 1) * 2 * h**2 + 2 * r * c,
        "mlp": 2 * d * h + (nl - 1) * 2 * h**2 + 2 * h * c,
    }
    rows = []
    for readout in ("goodness", "softmax"):
        clf.set_params(readout=readout)
        t = predict_time(clf.predict, X, device)
        rows.append((f"FFClassifier ({device})", readout, t, per_sample[readout]))
    m = min(args.mlp_fit_samples, len(X))
    mlp = MLPClassifier(
        hidden_layer_sizes=(h,) * nl, max_iter=1, random_state=args.random_state
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X[:m], y[:m])
    t = predict_time(mlp.predict, X, torch.device("cpu"))
    rows.append(("MLPClassifier (cpu)", "-", t, per_sample["mlp"]))

    print(f"\n### (c) prediction, {len(X)} samples\n")
    print(
        "| model | readout | samples/s | MFLOP/sample | GFLOP/s | "
        "samples/s (CPU time) |"
    )
    print("|---|---|---|---|---|---|")
    for model, readout, t, fl in rows:
        cpu = model.endswith("(cpu)")
        per_cpu = f"{len(X) / (t.cpu / threads):,.0f}" if cpu and t.cpu > 0 else "-"
        print(
            f"| {model} | {readout} | {len(X) / t.wall:,.0f} | {fl / 1e6:.1f} | "
            f"{len(X) * fl / t.wall / 1e9:.1f} | {per_cpu} |"
        )


if __name__ == "__main__":
    main()
