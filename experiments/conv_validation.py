"""Choose FFConvClassifier settings on a Fashion-MNIST validation split.

Trains the convolutional core (``skff.core.CONV_NETS[label_mode]``) on the first
``--n-train`` training images and scores the next 5,000 after every epoch:
the goodness readout, the same without block 0, the softmax head, ``both``,
and each block's own class goodness. The test set is not read. Run from the
repository root::

    python experiments/conv_validation.py --channels 32,64,128,256 --epochs 16

(1 torch thread by default; Adam, the rate constant for the first half of
the epochs, then falling linearly: from epoch ``e >= n / 2`` of ``n``,
``2 (n - e) / n`` times the initial rate, a near twin of the estimator's
``learning_rate="linear"``, which uses ``2 (n - e) / (n + 1)``.)
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone

import torch
from _common import print_provenance
from threadpoolctl import threadpool_limits

from skff.core import CONV_NETS
from skff.datasets import load_fashion_mnist


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--channels", default="32,64,128,256")
    parser.add_argument("--label-mode", default="channelwise")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--alpha", type=float, default=0.0, help="L2 penalty")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--kernel-size", type=int, default=3)
    parser.add_argument("--normalization", default="batch")
    parser.add_argument("--pooling-schedule", default="every")
    parser.add_argument("--shortcut", default=None, help="None or add")
    parser.add_argument("--goodness-power", type=int, default=2)
    parser.add_argument(
        "--symba-scale", type=float, default=4.0, help="class-goodness logit scale"
    )
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--save", help="save the trained core here (torch.save)")
    return parser.parse_args(argv)


def evaluate(core, X, y):
    """Accuracy of every readout on ``(X, y)``."""
    core.eval()
    with torch.no_grad():
        blocks = torch.cat(
            [core.block_scores(X[i : i + 500]) for i in range(0, len(X), 500)], 1
        )
        head = torch.cat(
            [core.head_logits(X[i : i + 500]) for i in range(0, len(X), 500)]
        )
    core.train()

    def acc(scores):
        return round((scores.argmax(1) == y).float().mean().item(), 4)

    scale = core.objective.logit_scale
    both = torch.log_softmax(scale * blocks.sum(0), 1) + torch.log_softmax(head, 1)
    return dict(
        goodness=acc(blocks.sum(0)),
        without_block_0=acc(blocks[1:].sum(0)),
        softmax=acc(head),
        both=acc(both),
        blocks=[acc(b) for b in blocks],
        # the goodness summed from block k on, for every k
        from_block=[acc(blocks[k:].sum(0)) for k in range(len(blocks))],
    )


def main(argv=None):
    args = parse_args(argv)
    with threadpool_limits(limits=args.threads):
        run(args)


def run(args):
    torch.set_num_threads(args.threads)
    started = datetime.now(timezone.utc)
    X, y = load_fashion_mnist(subset="train", return_X_y=True)
    n = args.n_train
    X_train, y_train = torch.as_tensor(X[:n]), torch.as_tensor(y[:n])
    X_val, y_val = torch.as_tensor(X[n : n + 5000]), torch.as_tensor(y[n : n + 5000])
    channels = [int(c) for c in args.channels.split(",")]
    core = CONV_NETS[args.label_mode](
        784,
        10,
        (1, 28, 28),
        channels,
        kernel_size=args.kernel_size,
        normalization=args.normalization,
        pooling_schedule=args.pooling_schedule,
        shortcut=args.shortcut,
        goodness_power=args.goodness_power,
        objective=dict(symba_scale=args.symba_scale),
        seed=args.seed,
    )
    core.configure_training(learning_rate=args.lr, alpha=args.alpha)
    gen = torch.Generator().manual_seed(args.seed)
    print(vars(args), flush=True)
    total = 0.0
    for epoch in range(args.epochs):
        # constant, then linear toward 0 over the second half (see the module
        # docstring for how this differs from the estimator's schedule)
        half = args.epochs / 2
        frac = max(0.0, (epoch - half) / half)
        core.set_learning_rate(args.lr * (1 - frac))
        order = torch.randperm(n, generator=gen)
        start = time.perf_counter()
        for i in range(0, n, args.batch_size):
            idx = order[i : i + args.batch_size]
            core.train_step(X_train[idx], y_train[idx], gen)
        seconds = time.perf_counter() - start
        total += seconds
        scores = evaluate(core, X_val, y_val)
        print(f"epoch {epoch + 1} ({seconds:.1f} s): {scores}", flush=True)
    print(f"training time {total:.0f} s, {total / args.epochs:.1f} s per epoch")
    if args.save:
        torch.save(core, args.save)
    print_provenance(args.threads, started)


if __name__ == "__main__":
    main()
