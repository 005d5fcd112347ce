"""Helpers shared by the benchmark scripts (run them as ``python benchmarks/X.py``;
this folder is then on ``sys.path``)."""

from __future__ import annotations

import argparse
import ast
import os
import platform
import shlex
import sys
import time
from datetime import datetime

import numpy as np
import sklearn
import torch
from sklearn.metrics import log_loss

import skff
from skff import FFConvClassifier


def parse_param(text: str) -> tuple[str, object]:
    """Split ``key=value``; the value is a Python literal if it parses as one."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        return key.strip(), ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key.strip(), value


def add_param_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """``--param KEY=VALUE`` (repeatable): estimator parameters as a list of
    ``(key, value)`` pairs, parsed by :func:`parse_param`."""
    parser.add_argument(
        "--param",
        type=parse_param,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=help,
    )


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else the machine type."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table: one header row, a separator, then one line per row
    of already formatted cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def warm_up_torch() -> None:
    """Fit a tiny FFClassifier, so that torch's lazy start-up (about 2 s on
    the first fit of a process) is not counted in the first timed fit."""
    X = np.random.default_rng(0).normal(size=(64, 4))
    skff.FFClassifier(hidden_size=8, max_iter=1, device="cpu").fit(X, np.arange(64) % 2)


def timed(fn, *args):
    """``fn(*args)`` and its wall time in seconds."""
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def score(clf, X_test, y_test) -> tuple[float, float, float]:
    """Accuracy and log-loss of ``clf.predict_proba`` on the test rows, and
    its time."""
    proba, predict_time = timed(clf.predict_proba, X_test)
    acc = float(np.mean(clf.classes_[proba.argmax(1)] == y_test))
    return acc, log_loss(y_test, proba, labels=clf.classes_), predict_time


def fit_and_score(clf, X_train, y_train, X_test, y_test) -> dict:
    """Fit ``clf`` and score it (:func:`score`): accuracy, log-loss, fit and
    predict times and the epochs it trained."""
    _, fit_time = timed(clf.fit, X_train, y_train)
    accuracy, loss, predict_time = score(clf, X_test, y_test)
    return dict(
        accuracy=accuracy,
        log_loss=loss,
        fit_time=fit_time,
        predict_time=predict_time,
        epochs=clf.n_iter_,
    )


def digits_validation_splits():
    """The three inner 70/30 splits of the digits' training part (the 70% of
    the stratified 70/30 split with ``random_state=0``; its test part is
    never read), pixels / 16: ``(X_train, X_val, y_train, y_val)`` each."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_fit, _, y_fit, _ = train_test_split(
        X / 16.0, y, test_size=0.3, stratify=y, random_state=0
    )
    for seed in range(3):
        yield train_test_split(
            X_fit, y_fit, test_size=0.3, stratify=y_fit, random_state=100 + seed
        )


def fashion_mnist_validation_splits(sizes):
    """For each size ``n``: the first ``n`` Fashion-MNIST training images
    train and training images 50,000-54,999 are scored (the test set is
    never read): ``(X_train, X_val, y_train, y_val)``."""
    from skff.datasets import load_fashion_mnist

    X, y = load_fashion_mnist(subset="train", return_X_y=True)
    for n in sizes:
        yield X[:n], X[50_000:55_000], y[:n], y[50_000:55_000]


def print_provenance(threads: int, started: datetime) -> None:
    """The command line, thread count, machine and library versions of a run."""
    command = " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv])
    print(f"command: {command}")
    print(
        f"threads: {threads} (torch.get_num_threads() = "
        f"{torch.get_num_threads()}, threadpoolctl limit {threads})"
    )
    print(
        f"machine: {cpu_name()}, {os.cpu_count()} logical CPUs; "
        f"started {started:%Y-%m-%d %H:%M} UTC"
    )
    print(
        f"versions: skff {skff.__version__}, torch {torch.__version__}, "
        f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
        f"python {platform.python_version()}"
    )


def learning_rate_at(epoch: int, n_epochs: int, initial: float, schedule: str) -> float:
    """The rate of ``epoch`` (from 0) under skff's ``learning_rate`` schedule:
    constant, or with ``"linear"`` constant for the first half of the epochs,
    then decaying linearly towards zero (the formula skff uses; skff has no
    public function for it)."""
    if schedule == "linear" and epoch >= n_epochs // 2:
        return initial * 2.0 * (n_epochs - epoch) / (n_epochs + 1)
    return initial


class BackpropCNN:
    """FFConvClassifier's blocks (conv 'same', ReLU, 2x2 pooling, batch
    normalization when it has it) and a linear output layer, trained with
    backprop: cross-entropy, Adam, the same learning rate, schedule, epochs and
    batch size: the twin of ``fashion_mnist.py`` and ``validation.py``, for
    any input shape."""

    def __init__(self, **params):
        self.ff = FFConvClassifier(**params)  # validates nothing yet: its settings
        self.random_state = params.get("random_state", 0)

    def fit(self, X, y):
        from torch import nn

        ff = self.ff
        c_in, *spatial = ff.input_shape
        torch.manual_seed(self.random_state)
        layers = []
        for c in ff.channels:
            layers += [nn.Conv2d(c_in, c, ff.kernel_size, padding="same"), nn.ReLU()]
            if ff.pooling is not None:
                pool = nn.MaxPool2d if ff.pooling == "max" else nn.AvgPool2d
                kernel = tuple(2 if s >= 2 else 1 for s in spatial)
                layers.append(pool(kernel))
                spatial = [s // k for s, k in zip(spatial, kernel, strict=True)]
            if ff.normalization == "batch":
                layers.append(nn.BatchNorm2d(c, eps=1e-4))
            c_in = c
        self.classes_, y_index = np.unique(y, return_inverse=True)
        n_out = c_in * int(np.prod(spatial))
        self.net_ = nn.Sequential(
            *layers, nn.Flatten(), nn.Linear(n_out, len(self.classes_))
        )
        net = self.net_
        opt = torch.optim.Adam(net.parameters(), lr=ff.learning_rate_init)
        X = torch.as_tensor(X, dtype=torch.float32).reshape(-1, *ff.input_shape)
        y = torch.as_tensor(y_index, dtype=torch.int64)
        gen = torch.Generator().manual_seed(self.random_state)
        net.train()
        for epoch in range(ff.max_iter):
            lr = learning_rate_at(
                epoch, ff.max_iter, ff.learning_rate_init, ff.learning_rate
            )
            for group in opt.param_groups:
                group["lr"] = lr
            order = torch.randperm(len(X), generator=gen)
            for start in range(0, len(X), ff.batch_size):
                idx = order[start : start + ff.batch_size]
                if len(idx) < 2 and ff.normalization == "batch":
                    continue  # batch normalization needs two rows
                loss = nn.functional.cross_entropy(net(X[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        net.eval()
        self.n_iter_ = ff.max_iter
        return self

    def _logits(self, X):
        X = torch.as_tensor(X, dtype=torch.float32).reshape(-1, *self.ff.input_shape)
        with torch.no_grad():
            return torch.cat(
                [self.net_(X[i : i + 1000]) for i in range(0, len(X), 1000)]
            ).double()

    def predict_proba(self, X):
        return torch.softmax(self._logits(X), 1).numpy()

    def predict_log_proba(self, X):
        return torch.log_softmax(self._logits(X), 1).numpy()
