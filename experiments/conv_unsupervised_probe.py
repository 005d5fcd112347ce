"""Unsupervised convolutional Forward-Forward features against random ones.

A measurement for a convolutional FFTransformer, which skff does not have: do
FFConvClassifier's blocks (convolution, ReLU, 2x2 max pooling, batch
normalization), trained without labels to tell real images from negatives,
give better features than the same blocks left at their random initial
weights? Each block minimizes the SymBa loss between the goodness (mean
squared output) of real and negative images; the features are every block's
output average-pooled to at most 4x4 cells and layer-normalized, then
StandardScaler and LogisticRegression. Trains on the first ``--n-train``
Fashion-MNIST training images (centered on their mean) and scores images
50,000 to 54,999; the test set is not read. Run from the repository root::

    python experiments/conv_unsupervised_probe.py --negatives self_contrastive
    python experiments/conv_unsupervised_probe.py --negatives hybrid
    python experiments/conv_unsupervised_probe.py --random

(1 torch thread and 1 BLAS thread.)
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone

import torch
import torch.nn.functional as F
from _common import print_provenance
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skff.core.conv import FFConv
from skff.core.functional import ff_loss
from skff.core.negatives import blur_mask, other_rows
from skff.core.unsupervised import layer_normalize
from skff.datasets import load_fashion_mnist


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--negatives",
        default="self_contrastive",
        choices=["self_contrastive", "hybrid"],
    )
    parser.add_argument("--random", action="store_true", help="no training")
    parser.add_argument("--channels", default="32,64,128")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        run(args)


def run(args):
    started = datetime.now(timezone.utc)
    print(vars(args), flush=True)
    X, y = load_fashion_mnist(subset="train", return_X_y=True)
    n = args.n_train
    X_train = torch.as_tensor(X[:n]).reshape(-1, 1, 28, 28)
    X_val = torch.as_tensor(X[50000:55000]).reshape(-1, 1, 28, 28)
    mean = X_train.mean(dim=0, keepdim=True)
    X_train, X_val = X_train - mean, X_val - mean
    gen = torch.Generator().manual_seed(args.seed)
    pairs = args.negatives == "self_contrastive"
    blocks, in_ch = [], 2 if pairs else 1
    for c in (int(v) for v in args.channels.split(",")):
        blocks.append(FFConv(in_ch, c, 3, 2, "max", (2, 2), gen, batch_norm=True))
        in_ch = c
    optimizers = [torch.optim.Adam(b.parameters(), lr=args.lr) for b in blocks]

    def positive(x):
        return torch.cat([x, x], dim=1) if pairs else x

    def negative(x):
        other = x[other_rows(len(x), (len(x),), gen)]
        if pairs:
            return torch.cat([x, other], dim=1)
        mask = blur_mask(len(x), (28, 28), gen).unsqueeze(1).float()
        return mask * x + (1 - mask) * other

    def features(x):
        out, h = [], positive(x)
        for block in blocks:
            h = block(h)
            f = F.adaptive_avg_pool2d(h, min(4, h.shape[-1])).flatten(1)
            out.append(layer_normalize(f))
        return torch.cat(out, dim=1)

    start = time.perf_counter()
    for epoch in range(args.epochs):
        frac = max(0.0, (epoch - args.epochs / 2) / (args.epochs / 2))
        for opt in optimizers:
            for group in opt.param_groups:
                group["lr"] = args.lr * (1 - frac)
        order = torch.randperm(n, generator=gen)
        total = torch.zeros(len(blocks))
        for i in range(0, n, 100):
            xb = X_train[order[i : i + 100]]
            m = len(xb)
            h = torch.cat([positive(xb), negative(xb)])
            for b, (block, opt) in enumerate(zip(blocks, optimizers, strict=True)):
                h = block(h.detach())  # batch statistics update in every mode
                if args.random:
                    continue
                g = h.pow(2).flatten(1).mean(dim=1)
                loss = ff_loss(g[:m], g[m:].view(1, m).t(), kind="symba")
                opt.zero_grad()
                loss.backward()
                opt.step()
                total[b] += loss.item() * m
        print(
            f"epoch {epoch + 1}: losses {[round(v, 4) for v in (total / n).tolist()]}"
            f" ({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    for block in blocks:
        block.eval()
    with torch.no_grad():
        F_train = torch.cat(
            [features(X_train[i : i + 1000]) for i in range(0, n, 1000)]
        )
        F_val = torch.cat([features(X_val[i : i + 1000]) for i in range(0, 5000, 1000)])
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    probe.fit(F_train.numpy(), y[:n])
    accuracy = probe.score(F_val.numpy(), y[50000:55000])
    kind = "random blocks" if args.random else f"FF ({args.negatives})"
    print(
        f"{kind}: {F_train.shape[1]} features, validation accuracy {accuracy:.4f} "
        f"({time.perf_counter() - start:.0f} s)"
    )
    print_provenance(1, started)


if __name__ == "__main__":
    main()
