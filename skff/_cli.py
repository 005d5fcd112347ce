"""The ``skff`` command line: ``python -m skff demo`` or the ``skff`` console script
(``skff --version`` prints the installed version).

``skff/__main__.py`` only calls :func:`main`; the ``skff`` entry point in
``pyproject.toml`` is ``skff._cli:main``.
"""

import argparse
import sys
import time

from ._version import __version__

_IMAGE_SHAPES = {"digits": (1, 8, 8), "fashion-mnist": (1, 28, 28)}


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr (no usage block), exit 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _UsageError(Exception):
    """A value that only the data shows to be bad: ``main`` reports it as the
    subcommand's parser reports a bad option (one line, exit status 2)."""


def _integer(low: int, high: int | None = None, note: str = ""):
    """``type=`` for an integer option in ``[low, high]``."""
    if high is not None:
        allowed = f"an integer from {low} to {high}"
    else:
        allowed = "a positive integer" if low == 1 else f"an integer >= {low}"
    allowed += note

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}")
        return value

    return parse


def _temperature(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            "must be a finite number >= 0 (0 picks the likeliest character), "
            f"got {text!r}"
        )
    return value


def _device(text: str) -> str:
    from skff import resolve_device

    try:
        resolve_device(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _corpus(text: str) -> str:
    from pathlib import Path

    if text not in ("default", "devil", "bible") and not Path(text).is_file():
        raise argparse.ArgumentTypeError(
            f"must be 'default', 'devil', 'bible' or a text file; {text!r} is none "
            "of these"
        )
    return text


def _demo(args) -> int:
    import numpy as np
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    from skff import FFClassifier

    if args.threads:
        torch.set_num_threads(args.threads)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    print(
        f"scikit-learn digits: {len(X_tr)} training / {len(X_te)} test images, "
        f"8x8 pixels scaled to [0, 1]; torch threads: {torch.get_num_threads()}"
    )
    rows = []
    # torch's lazy start-up (about 2 s on a process's first fit) is not timed
    FFClassifier(hidden_size=8, max_iter=1, device=args.device).fit(X_tr, y_tr)
    ff = FFClassifier(
        device=args.device, random_state=args.random_state, verbose=args.verbose
    )

    def timed(name, est):
        started = time.perf_counter()
        est.fit(X_tr, y_tr)
        seconds = time.perf_counter() - started
        rows.append(
            (name, est.score(X_te, y_te), seconds, getattr(est, "device_", "cpu"))
        )

    timed("FFClassifier (Forward-Forward)", ff)
    mlp = MLPClassifier(
        hidden_layer_sizes=(500, 500), max_iter=300, random_state=args.random_state
    )
    with threadpool_limits(torch.get_num_threads()):
        timed("MLPClassifier (backprop)", mlp)
    print(f"\n{'model':<32} {'test accuracy':>13} {'fit time':>9}  device")
    for name, acc, secs, dev in rows:
        print(f"{name:<32} {acc:>13.4f} {secs:>8.1f}s  {dev}")
    print(
        f"\nFFClassifier: {ff.n_layers} x {ff.hidden_size} units, {ff.n_iter_} epochs;"
        f" per-layer losses in the last epoch: "
        f"{np.round(ff.loss_curve_[-1], 4).tolist()}"
    )
    return 0


def _load_dataset(name: str, subset: int | None):
    """The training and test split of ``name``, the first ``subset`` rows of
    each; a subset too small to train on (a single class) is a usage error."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if name == "digits":
        X, y = load_digits(return_X_y=True)
        X_tr, X_te, y_tr, y_te = train_test_split(
            X / 16.0, y, test_size=0.3, stratify=y, random_state=0
        )
    else:
        from skff.datasets import load_fashion_mnist

        X_tr, y_tr = load_fashion_mnist(subset="train", return_X_y=True)
        X_te, y_te = load_fashion_mnist(subset="test", return_X_y=True)
    y_tr, y_te = np.asarray(y_tr), np.asarray(y_te)
    if subset is not None:
        # the first training row whose class differs from the first row's
        other = np.flatnonzero(y_tr != y_tr[0])
        if len(other) and subset <= other[0]:
            raise _UsageError(
                f"argument --subset: the first {subset} training row(s) of {name} "
                f"hold a single class; at least {other[0] + 1} are needed"
            )
        X_tr, y_tr = X_tr[:subset], y_tr[:subset]
        X_te, y_te = X_te[:subset], y_te[:subset]
    return np.asarray(X_tr), np.asarray(X_te), y_tr, y_te


#: Training rows MLPClassifier(early_stopping=True) needs: it holds out 10% of
#: them, rounded up, and at least 2.
_MLP_MIN_ROWS = 11


def _make_model(name: str, args):
    from sklearn.neural_network import MLPClassifier

    common = dict(
        device=args.device, random_state=args.random_state, verbose=args.verbose
    )
    if args.max_iter is not None:
        common["max_iter"] = args.max_iter
    if name == "ff":
        from skff import FFClassifier

        return FFClassifier(**common)
    if name == "recurrent":
        from skff import FFRecurrentClassifier

        return FFRecurrentClassifier(**common)
    if name == "conv":
        from skff import FFConvClassifier

        # two blocks instead of the default four: a quick benchmark
        return FFConvClassifier(
            input_shape=_IMAGE_SHAPES[args.dataset], channels=(32, 64), **common
        )
    if name == "unsupervised":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        from skff import FFTransformer

        return make_pipeline(
            FFTransformer(input_shape=_IMAGE_SHAPES[args.dataset], **common),
            LogisticRegression(max_iter=1000),
        )
    return MLPClassifier(
        hidden_layer_sizes=(500, 500),
        early_stopping=True,
        random_state=args.random_state,
        max_iter=args.max_iter or 200,
    )


def _describe(model) -> tuple[str, int]:
    """The table's model name and epochs (a pipeline's: its first step's)."""
    steps = [step for _, step in getattr(model, "steps", [("", model)])]
    return " + ".join(type(step).__name__ for step in steps), steps[0].n_iter_


def _bench(args) -> int:
    import torch
    from threadpoolctl import threadpool_limits

    if args.threads:
        torch.set_num_threads(args.threads)
    X_tr, X_te, y_tr, y_te = _load_dataset(args.dataset, args.subset)
    if "mlp" in args.model and len(y_tr) < _MLP_MIN_ROWS:
        raise _UsageError(
            f"argument --subset: {args.subset} rows are too few for --model mlp, "
            "whose early stopping holds out 10% of them (at least 2); at least "
            f"{_MLP_MIN_ROWS} are needed"
        )
    print(
        f"{args.dataset}: {len(X_tr)} training / {len(X_te)} test samples, "
        f"{X_tr.shape[1]} features; torch threads: {torch.get_num_threads()}"
    )
    print("\n| model | test accuracy | fit time (s) | epochs |\n|---|---|---|---|")
    for name in args.model:
        model = _make_model(name, args)
        with threadpool_limits(torch.get_num_threads()):
            t = time.perf_counter()
            model.fit(X_tr, y_tr)
            secs = time.perf_counter() - t
            acc = model.score(X_te, y_te)
        label, epochs = _describe(model)
        print(f"| {label} | {acc:.4f} | {secs:.1f} | {epochs} |", flush=True)
    return 0


def _read_corpus(corpus: str) -> list:
    from pathlib import Path

    from skff import datasets

    if corpus == "default":
        return datasets.load_default_text()
    if corpus == "devil":
        return [datasets.load_devils_dictionary()]
    if corpus == "bible":
        return [datasets.load_bible_kjv()]
    try:
        return [Path(corpus).read_text(encoding="utf-8", errors="replace")]
    except OSError as exc:
        raise _UsageError(
            f"argument --corpus: cannot read {corpus!r} ({exc.strerror})"
        ) from None


def _lm(args) -> int:
    import torch

    from skff import FFLanguageModel

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.max_chars is not None and args.max_chars <= args.context_size:
        raise _UsageError(
            f"argument --max-chars: must be more than --context-size "
            f"({args.context_size}), got {args.max_chars}"
        )
    docs = [d for d in _read_corpus(args.corpus) if len(d) > args.context_size]
    if not docs:
        raise _UsageError(
            f"argument --corpus: {args.corpus!r} holds no document longer than "
            f"--context-size ({args.context_size} characters)"
        )
    if args.max_chars is not None:
        budget, kept = args.max_chars, []
        for d in docs:
            if budget <= args.context_size:
                break
            kept.append(d[:budget])
            budget -= len(kept[-1])
        docs = [d for d in kept if len(d) > args.context_size]
    n_chars = sum(map(len, docs))
    print(
        f"corpus {args.corpus!r}: {len(docs)} document(s), {n_chars} characters; "
        f"torch threads: {torch.get_num_threads()}"
    )
    lm = FFLanguageModel(
        context_size=args.context_size,
        hidden_size=args.hidden_size,
        max_iter=args.max_iter,
        device=args.device,
        random_state=args.random_state,
        verbose=args.verbose,
    )
    t = time.perf_counter()
    lm.fit(docs)
    print(
        f"fit in {time.perf_counter() - t:.1f}s; training perplexity per "
        f"character: {lm.perplexity(docs):.3f}"
    )
    if args.generate:
        prompt = args.prompt or docs[0][: args.context_size]
        print(
            lm.generate(
                prompt,
                n_chars=args.generate,
                temperature=args.temperature,
                random_state=args.random_state,
            )
        )
    return 0


def main(argv=None) -> int:
    """Entry point of the ``skff`` command."""
    import os

    parser = _Parser(
        prog="skff", description="Forward-Forward networks as scikit-learn estimators."
    )
    parser.add_argument("--version", action="version", version=f"skff {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="train FFClassifier on scikit-learn's digits beside MLPClassifier",
        description="Train the default FFClassifier on scikit-learn's digits (70/30 "
        "stratified split) and print its test accuracy and fit time beside a "
        "backprop MLPClassifier(500, 500).",
    )
    bench = sub.add_parser(
        "bench",
        help="accuracy and fit time of FF models and an MLP on a dataset",
        description="Fit each model on the training split and print a table of "
        "test accuracy, fit time and epochs. Models: 'ff' FFClassifier, "
        "'recurrent' FFRecurrentClassifier, 'conv' FFConvClassifier (two blocks, "
        "32 and 64 channels, on the images' shape), 'unsupervised' FFTransformer "
        "features + LogisticRegression, 'mlp' MLPClassifier(500, 500) with early "
        "stopping.",
    )
    bench.add_argument(
        "--dataset", choices=["digits", "fashion-mnist"], default="digits"
    )
    bench.add_argument(
        "--model",
        choices=["ff", "recurrent", "conv", "unsupervised", "mlp"],
        nargs="+",
        default=["ff", "mlp"],
    )
    bench.add_argument(
        "--max-iter",
        type=_integer(1),
        default=None,
        help="epochs (default: each model's own)",
    )
    bench.add_argument(
        "--subset",
        type=_integer(1),
        default=None,
        metavar="N",
        help="use only the first N training and test samples",
    )
    lm = sub.add_parser(
        "lm",
        help="train FFLanguageModel on a corpus and generate text",
        description="Train a character-level Forward-Forward language model and "
        "print its perplexity and, with --generate, sampled text.",
    )
    lm.add_argument(
        "--corpus",
        type=_corpus,
        default="default",
        help="'default' (Python's documentation), 'devil' (Debian "
        "package dict-devil), 'bible' (bible-kjv) or a text file",
    )
    lm.add_argument(
        "--generate",
        type=_integer(0),
        default=0,
        metavar="N",
        help="generate N characters after training",
    )
    lm.add_argument("--prompt", default=None)
    lm.add_argument(
        "--temperature",
        type=_temperature,
        default=0.8,
        help="sampling temperature, >= 0 (0: the likeliest character)",
    )
    lm.add_argument("--context-size", type=_integer(1), default=10)
    lm.add_argument("--hidden-size", type=_integer(1), default=500)
    lm.add_argument("--max-iter", type=_integer(1), default=3)
    lm.add_argument(
        "--max-chars",
        type=_integer(1),
        default=None,
        metavar="N",
        help="train on the first N characters only (more than --context-size)",
    )
    cpus = os.cpu_count() or 1
    for p, func in ((demo, _demo), (bench, _bench), (lm, _lm)):
        p.add_argument(
            "--device",
            type=_device,
            default="auto",
            help="'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', available here",
        )
        p.add_argument("--random-state", type=_integer(0, 2**32 - 1), default=0)
        p.add_argument(
            "--threads",
            type=_integer(0, cpus, note=" (0 keeps torch's default)"),
            default=1,
            help=f"torch threads, 0 to {cpus} (default 1; 0 keeps torch's default)",
        )
        p.add_argument("--verbose", type=_integer(0), default=0)
        p.set_defaults(func=func)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except _UsageError as exc:
        sub.choices[args.command].error(str(exc))
    except FileNotFoundError as exc:
        print(f"skff {args.command}: {exc}", file=sys.stderr)
        return 2
