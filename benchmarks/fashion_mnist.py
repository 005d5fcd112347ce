"""Fashion-MNIST benchmark: FF classifiers against a backprop MLPClassifier.

Fits :class:`skff.FFClassifier` on the 60,000 Fashion-MNIST training images,
reports its test accuracy for each readout ("goodness", "softmax", "both"; the
readout only affects prediction, so the network is fitted once), optionally
fits :class:`skff.FFRecurrentClassifier` with as many parameters as the
FFClassifier's layers (``--models ff,recurrent,mlp``), then fits
``sklearn.neural_network.MLPClassifier(hidden_layer_sizes=(500, 500),
early_stopping=True)`` on the same data for comparison (``--mlp-hidden-size``
sets the width of its layers, ``--n-layers`` their number). It ends with a
markdown table, the parameter counts of the networks, the exact command line,
the thread count and the library versions.

The data come from :func:`skff.datasets.load_fashion_mnist` (Debian/Ubuntu
package ``dataset-fashion-mnist``, or ``SKFF_FASHION_MNIST_DIR``).

Run it from the repository root::

    python benchmarks/fashion_mnist.py               # defaults (FF: 16 epochs here)
    python benchmarks/fashion_mnist.py --max-iter 30 --threads 2
    python benchmarks/fashion_mnist.py --subset 2000 --max-iter 2   # smoke test
    python benchmarks/fashion_mnist.py --param learning_rate=linear --skip-mlp
    python benchmarks/fashion_mnist.py --holdout 0.1 --skip-mlp     # tune on val
    python benchmarks/fashion_mnist.py --models ff,recurrent,mlp    # + recurrent
    python benchmarks/fashion_mnist.py --models conv,cnn            # convolutional

``--models conv,cnn`` fits :class:`skff.FFConvClassifier` (``--conv-channels``,
``--conv-max-iter``, ``--conv-param``) and a backprop CNN with the same
convolutional blocks and a linear output layer (plain torch, cross-entropy,
Adam with the same learning rate, schedule, epochs and batch size), and prints
each FF block's own accuracy and the accuracy and epoch-time ratios.

``--param key=value`` (repeatable) passes any other FFClassifier parameter; the
value is read as a Python literal when it is one (``0.03``, ``True``) and as a
string otherwise. ``--holdout F`` scores on a stratified share ``F`` of the
training data instead of the test set, for choosing settings without looking at
the test set.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

import numpy as np
import torch
from _common import (
    BackpropCNN,
    add_param_argument,
    markdown_table,
    parse_param,
    print_provenance,
    score,
    timed,
)
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from skff import FFClassifier, FFConvClassifier, FFRecurrentClassifier
from skff.datasets import load_fashion_mnist

READOUTS = ("goodness", "softmax", "both")
MODELS = ("ff", "recurrent", "mlp", "conv", "cnn")


def parse_models(text: str) -> list[str]:
    models = [m.strip() for m in text.split(",") if m.strip()]
    unknown = sorted(set(models) - set(MODELS))
    if unknown or not models:
        raise argparse.ArgumentTypeError(
            f"--models takes a comma-separated subset of {MODELS}, got {text!r}"
        )
    return models


def recurrent_width_for(
    n_params: int, n_features: int, n_classes: int, n_layers: int
) -> int:
    """Width of an FFRecurrentClassifier with about ``n_params`` layer weights."""

    def count(h):
        return recurrent_n_params(h, n_features, n_classes, n_layers)

    return min(range(1, 20_000), key=lambda h: abs(count(h) - n_params))


def recurrent_n_params(h: int, n_features: int, n_classes: int, n_layers: int) -> int:
    """Bottom-up, top-down weights and biases of the recurrent net's layers."""
    sizes = [n_features] + [h] * n_layers + [n_classes]
    return sum(h * (sizes[i - 1] + sizes[i + 1] + 1) for i in range(1, n_layers + 1))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--max-iter",
        type=int,
        default=None,
        help="FF epochs; None: FFClassifier's own rule (16 on the 58,000 images "
        "that train)",
    )
    parser.add_argument("--hidden-size", type=int, default=500)
    parser.add_argument("--n-layers", type=int, default=2)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="batch size of the FF models (and the CNN); None: each one's own",
    )
    parser.add_argument("--device", default="cpu", help="FFClassifier device")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads and BLAS/OpenMP threads (threadpoolctl)",
    )
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument(
        "--models",
        type=parse_models,
        default=["ff", "mlp"],
        help="comma-separated models to fit, from " + ",".join(MODELS),
    )
    parser.add_argument(
        "--skip-mlp", action="store_true", help="drop mlp from --models"
    )
    parser.add_argument(
        "--recurrent-hidden-size",
        type=int,
        default=None,
        help="FFRecurrentClassifier width (default: as many layer parameters "
        "as the FFClassifier's layers)",
    )
    parser.add_argument(
        "--recurrent-max-iter",
        type=int,
        default=None,
        help="FFRecurrentClassifier epochs (default: its own default)",
    )
    parser.add_argument(
        "--recurrent-param",
        type=parse_param,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra FFRecurrentClassifier parameter (repeatable)",
    )
    parser.add_argument(
        "--conv-channels",
        type=lambda t: tuple(int(c) for c in t.split(",")),
        default=None,
        help="FFConvClassifier channels, comma-separated (default: its own)",
    )
    parser.add_argument(
        "--conv-max-iter",
        type=int,
        default=None,
        help="FFConvClassifier and CNN epochs (default: FFConvClassifier's)",
    )
    parser.add_argument(
        "--conv-param",
        type=parse_param,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra FFConvClassifier parameter (repeatable)",
    )
    parser.add_argument(
        "--subset",
        type=int,
        default=None,
        metavar="N",
        help="use the first N training and at most N test images (quick runs)",
    )
    parser.add_argument(
        "--holdout",
        type=float,
        default=0.0,
        metavar="F",
        help="score on a stratified share F of the training data, not the test set",
    )
    add_param_argument(parser, "extra FFClassifier parameter (repeatable)")
    parser.add_argument(
        "--mlp-hidden-size",
        type=int,
        default=500,
        help="width of each of the MLP's layers (as many layers as --n-layers)",
    )
    parser.add_argument(
        "--verbose", type=int, default=0, help="FFClassifier progress bar"
    )
    return parser.parse_args(argv)


def load_data(args):
    X_train, y_train = load_fashion_mnist(subset="train", return_X_y=True)
    X_test, y_test = load_fashion_mnist(subset="test", return_X_y=True)
    if args.subset is not None:
        X_train, y_train = X_train[: args.subset], y_train[: args.subset]
        X_test, y_test = X_test[: args.subset], y_test[: args.subset]
    if args.holdout > 0:
        X_train, X_test, y_train, y_test = train_test_split(
            X_train,
            y_train,
            test_size=args.holdout,
            stratify=y_train,
            random_state=args.random_state,
        )
    return X_train, X_test, y_train, y_test


def n_params_ff(clf: FFClassifier) -> tuple[int, int]:
    """Parameters of the FF layers and of the softmax head."""
    layers = sum(p.numel() for p in clf.core_.layers.parameters())
    head = sum(p.numel() for p in clf.core_.head.parameters())
    return layers, head


def n_params_mlp(clf: MLPClassifier) -> int:
    return sum(w.size for w in clf.coefs_) + sum(b.size for b in clf.intercepts_)


def ff_params(args) -> dict:
    params = dict(
        n_layers=args.n_layers,
        hidden_size=args.hidden_size,
        max_iter=args.max_iter,
        device=args.device,
        random_state=args.random_state,
        verbose=args.verbose,
    )
    if args.batch_size is not None:
        params["batch_size"] = args.batch_size
    params.update(dict(args.param))
    return params


def recurrent_params(args, n_features: int, n_classes: int) -> dict:
    ff = FFClassifier(**ff_params(args))
    width = args.recurrent_hidden_size
    if width is None:
        target = (n_features + n_classes + 1) * ff.hidden_size + (ff.n_layers - 1) * (
            ff.hidden_size + 1
        ) * ff.hidden_size
        width = recurrent_width_for(target, n_features, n_classes, ff.n_layers)
    params = dict(
        n_layers=ff.n_layers,
        hidden_size=width,
        device=args.device,
        random_state=args.random_state,
        verbose=args.verbose,
    )
    if args.recurrent_max_iter is not None:
        params["max_iter"] = args.recurrent_max_iter
    params.update(dict(args.recurrent_param))
    return params


def run_ff(clf, X_train, X_test, y_train, y_test) -> list[dict]:
    """Fit a Forward-Forward classifier once, score it with every readout."""
    name = type(clf).__name__
    print(f"{name}: {clf.get_params()}", flush=True)
    _, fit_time = timed(clf.fit, X_train, y_train)
    epochs = clf.n_iter_
    print(
        f"{name} fit: {fit_time:.1f} s, {epochs} epochs, "
        f"{fit_time / epochs:.1f} s/epoch, device {clf.device_}",
        flush=True,
    )
    names = [f"layer{i}" for i in range(clf.n_layers)] + ["head"]
    print(f"{name} loss curve (mean loss per epoch):")
    print("  epoch  " + "  ".join(f"{n:>8}" for n in names))
    for i, losses in enumerate(clf.loss_curve_, start=1):
        print(f"  {i:5d}  " + "  ".join(f"{v:8.4f}" for v in losses))
    if clf.validation_scores_:
        scores = " ".join(f"{s:.4f}" for s in clf.validation_scores_)
        print(f"{name} early-stopping validation scores: {scores}")

    layers, head = n_params_ff(clf)
    rows = []
    for readout in READOUTS:
        clf.set_params(readout=readout)
        acc, loss, predict_time = score(clf, X_test, y_test)
        print(
            f"{name} readout={readout:<8} accuracy {acc:.4f} log-loss {loss:.4f} "
            f"(predict {predict_time:.1f} s)",
            flush=True,
        )
        rows.append(
            dict(
                model=f"{name} {clf.n_layers}x{clf.hidden_size}",
                readout=readout,
                accuracy=acc,
                log_loss=loss,
                fit_time=fit_time,
                epochs=epochs,
                params=f"{layers:,} + {head:,} head",
            )
        )
    print(f"{name} parameters: {layers:,} in the FF layers + {head:,} in the head")
    return rows


def run_mlp(args, X_train, X_test, y_train, y_test) -> list[dict]:
    clf = MLPClassifier(
        hidden_layer_sizes=(args.mlp_hidden_size,) * args.n_layers,
        early_stopping=True,
        random_state=args.random_state,
    )
    print(f"MLPClassifier: {clf.get_params()}", flush=True)
    _, fit_time = timed(clf.fit, X_train, y_train)
    acc, loss, _ = score(clf, X_test, y_test)
    n = n_params_mlp(clf)
    print(
        f"MLP fit: {fit_time:.1f} s, {clf.n_iter_} epochs, "
        f"{fit_time / clf.n_iter_:.1f} s/epoch; accuracy {acc:.4f}; "
        f"log-loss {loss:.4f}; "
        f"best validation score {clf.best_validation_score_:.4f}",
        flush=True,
    )
    print(f"MLP parameters: {n:,}")
    return [
        dict(
            model=f"MLPClassifier {args.n_layers}x{args.mlp_hidden_size}",
            readout="-",
            accuracy=acc,
            log_loss=loss,
            fit_time=fit_time,
            epochs=clf.n_iter_,
            params=f"{n:,}",
        )
    ]


def conv_params(args) -> dict:
    params = dict(
        input_shape=(1, 28, 28),
        device=args.device,
        **({} if args.batch_size is None else {"batch_size": args.batch_size}),
        random_state=args.random_state,
        verbose=args.verbose,
    )
    if args.conv_channels is not None:
        params["channels"] = args.conv_channels
    if args.conv_max_iter is not None:
        params["max_iter"] = args.conv_max_iter
    params.update(dict(args.conv_param))
    return params


def run_conv(args, X_train, X_test, y_train, y_test) -> list[dict]:
    """Fit FFConvClassifier once; score every readout and every block."""
    clf = FFConvClassifier(**conv_params(args))
    print(f"FFConvClassifier: {clf.get_params()}", flush=True)
    _, fit_time = timed(clf.fit, X_train, y_train)
    print(
        f"FFConvClassifier fit: {fit_time:.1f} s, {clf.n_iter_} epochs, "
        f"{fit_time / clf.n_iter_:.1f} s/epoch, device {clf.device_}",
        flush=True,
    )
    for i, losses in enumerate(clf.loss_curve_, start=1):
        print(f"  epoch {i:3d} losses " + " ".join(f"{v:.4f}" for v in losses))
    blocks = clf.block_scores(X_test)
    per_block = [float((clf.classes_[b.argmax(1)] == y_test).mean()) for b in blocks]
    print(
        "FFConvClassifier accuracy of each block's own readout: "
        + ", ".join(f"block {i}: {a:.4f}" for i, a in enumerate(per_block))
    )
    n = sum(p.numel() for p in clf.core_.parameters())
    rows = []
    for readout in READOUTS:
        clf.set_params(readout=readout)
        acc, loss, predict_time = score(clf, X_test, y_test)
        print(
            f"FFConvClassifier readout={readout:<8} accuracy {acc:.4f} "
            f"log-loss {loss:.4f} (predict {predict_time:.1f} s)",
            flush=True,
        )
        rows.append(
            dict(
                model=f"FFConvClassifier {tuple(clf.channels)}",
                readout=readout,
                accuracy=acc,
                log_loss=loss,
                fit_time=fit_time,
                epochs=clf.n_iter_,
                params=f"{n:,}",
            )
        )
    return rows


def run_cnn(args, X_train, X_test, y_train, y_test) -> list[dict]:
    """The backprop twin of FFConvClassifier (:class:`_common.BackpropCNN`:
    its blocks and a linear output layer; cross-entropy, Adam, the same
    learning rate, schedule, epochs and batch size)."""
    cnn = BackpropCNN(**conv_params(args))
    _, fit_time = timed(cnn.fit, X_train, y_train)
    logp = cnn.predict_log_proba(X_test)
    acc = float((cnn.classes_[logp.argmax(1)] == y_test).mean())
    loss = float(
        -logp[np.arange(len(y_test)), np.searchsorted(cnn.classes_, y_test)].mean()
    )
    ff = cnn.ff
    n = sum(p.numel() for p in cnn.net_.parameters())
    print(
        f"backprop CNN fit: {fit_time:.1f} s, {ff.max_iter} epochs, "
        f"{fit_time / ff.max_iter:.1f} s/epoch; accuracy {acc:.4f}, "
        f"log-loss {loss:.4f}",
        flush=True,
    )
    return [
        dict(
            model=f"backprop CNN {tuple(ff.channels)}",
            readout="-",
            accuracy=acc,
            log_loss=loss,
            fit_time=fit_time,
            epochs=ff.max_iter,
            params=f"{n:,}",
        )
    ]


def results_table(rows: list[dict], split: str) -> str:
    header = ["model", "readout", f"{split} accuracy", "log-loss", "fit time (s)"]
    header += ["epochs", "parameters"]
    cells = []
    for r in rows:
        loss = r.get("log_loss")
        cells.append(
            [
                str(r["model"]),
                str(r["readout"]),
                f"{100 * r['accuracy']:.2f}%",
                "-" if loss is None else f"{loss:.4f}",
                f"{r['fit_time']:.0f}",
                str(r["epochs"]),
                str(r["params"]),
            ]
        )
    return markdown_table(header, cells)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    started = datetime.now(timezone.utc)
    X_train, X_test, y_train, y_test = load_data(args)
    split = "validation" if args.holdout > 0 else "test"
    print(
        f"Fashion-MNIST: {X_train.shape[0]} train, {X_test.shape[0]} {split} "
        f"images, {X_train.shape[1]} features, {X_train.dtype}",
        flush=True,
    )
    models = [m for m in args.models if not (args.skip_mlp and m == "mlp")]
    rows = []
    with threadpool_limits(limits=args.threads):
        if "ff" in models:
            clf = FFClassifier(**ff_params(args))
            rows += run_ff(clf, X_train, X_test, y_train, y_test)
        if "recurrent" in models:
            params = recurrent_params(args, X_train.shape[1], len(set(y_train)))
            clf = FFRecurrentClassifier(**params)
            rows += run_ff(clf, X_train, X_test, y_train, y_test)
        if "mlp" in models:
            rows += run_mlp(args, X_train, X_test, y_train, y_test)
        if "conv" in models:
            rows += run_conv(args, X_train, X_test, y_train, y_test)
        if "cnn" in models:
            rows += run_cnn(args, X_train, X_test, y_train, y_test)
    conv = {r["readout"]: r for r in rows if r["model"].startswith("FFConv")}
    cnn = [r for r in rows if r["model"].startswith("backprop CNN")]
    if conv and cnn:
        cnn_epoch = cnn[0]["fit_time"] / cnn[0]["epochs"]
        for readout, r in conv.items():
            print(
                f"FFConvClassifier ({readout}) / backprop CNN: accuracy "
                f"{r['accuracy'] / cnn[0]['accuracy']:.3f}x, epoch time "
                f"{r['fit_time'] / r['epochs'] / cnn_epoch:.2f}x "
                f"({args.threads} thread(s))"
            )

    print()
    print(results_table(rows, split))
    print()
    print_provenance(args.threads, started)


if __name__ == "__main__":
    main()
