"""Command line: ``python -m skff demo`` (or the ``skff`` console script)."""

import argparse
import sys
import time


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
    ff = FFClassifier(
        device=args.device, random_state=args.random_state, verbose=args.verbose
    )
    t = time.perf_counter()
    ff.fit(X_tr, y_tr)
    rows.append(
        (
            "FFClassifier (Forward-Forward)",
            ff.score(X_te, y_te),
            time.perf_counter() - t,
            ff.device_,
        )
    )
    mlp = MLPClassifier(
        hidden_layer_sizes=(500, 500), max_iter=300, random_state=args.random_state
    )
    with threadpool_limits(torch.get_num_threads()):
        t = time.perf_counter()
        mlp.fit(X_tr, y_tr)
        rows.append(
            (
                "MLPClassifier (backprop)",
                mlp.score(X_te, y_te),
                time.perf_counter() - t,
                "cpu",
            )
        )
    print(f"\n{'model':<32} {'test accuracy':>13} {'fit time':>9}  device")
    for name, acc, secs, dev in rows:
        print(f"{name:<32} {acc:>13.4f} {secs:>8.1f}s  {dev}")
    print(
        f"\nFFClassifier: {ff.n_layers} x {ff.hidden_size} units, {ff.n_iter_} epochs;"
        f" per-layer losses in the last epoch: "
        f"{np.round(ff.loss_curve_[-1], 4).tolist()}"
    )
    return 0


def main(argv=None) -> int:
    """Entry point of the ``skff`` command."""
    parser = argparse.ArgumentParser(
        prog="skff", description="Forward-Forward networks as scikit-learn estimators."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="train FFClassifier on scikit-learn's digits beside MLPClassifier",
        description="Train the default FFClassifier on scikit-learn's digits (70/30 "
        "stratified split) and print its test accuracy and fit time beside a "
        "backprop MLPClassifier(500, 500).",
    )
    demo.add_argument("--device", default="auto", help="'auto', 'cpu', 'cuda', ...")
    demo.add_argument("--random-state", type=int, default=0)
    demo.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1; 0 keeps torch's default)",
    )
    demo.add_argument("--verbose", type=int, default=0)
    demo.set_defaults(func=_demo)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
