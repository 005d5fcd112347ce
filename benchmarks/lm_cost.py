"""FFLanguageModel's fit time beside a backprop MLP of the same context and
width, at equal epochs and at equal accuracy.

For each text and size N the model trains on the first N characters and is
scored on the N/10 characters that follow (next-character accuracy and
perplexity; a validation text, for choosing settings). The MLP (plain torch:
one-hot context -> the same hidden layers -> softmax, cross-entropy, Adam
lr 0.001, batches of 256) trains epoch by epoch up to ``--mlp-epochs`` and is
scored after each epoch; its fit time counts training only. Reported: the
MLP after as many epochs as FF ran ("equal epochs"), and after the first
epoch at which it reaches FF's accuracy ("equal accuracy"; its best epoch
when it never does). Run from the repository root::

    python benchmarks/lm_cost.py --text devil --sizes 100000 --threads 1
    python benchmarks/lm_cost.py --text bible --sizes 100000,250000 \\
        --param n_negatives=1
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone

import numpy as np
import torch
from _common import add_param_argument, markdown_table, print_provenance
from language_model import build_mlp, evaluate
from threadpoolctl import threadpool_limits

from skff import FFLanguageModel
from skff.datasets import load_bible_kjv, load_devils_dictionary
from skff.text import CharVocabulary, ContextSource

TEXTS = {"devil": load_devils_dictionary, "bible": load_bible_kjv}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--text", choices=sorted(TEXTS), default="devil")
    parser.add_argument("--sizes", default="100000", help="training characters")
    parser.add_argument("--mlp-epochs", type=int, default=10)
    parser.add_argument("--mlp-batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--random-state", type=int, default=0)
    add_param_argument(parser, "FFLanguageModel parameter (repeatable)")
    return parser.parse_args(argv)


def accuracy_and_perplexity(log_proba: np.ndarray, targets: np.ndarray):
    res = evaluate(log_proba, targets)
    return res["accuracy"], res["perplexity"]


def fit_ff(train: str, valid: str, params: dict):
    lm = FFLanguageModel(**params)
    start = time.perf_counter()
    lm.fit([train])
    fit = time.perf_counter() - start
    logp = lm.predict_log_proba_sequence([valid])[0]
    targets = CharVocabulary(lm.classes_).encode(valid)[lm.context_size :]
    return lm, fit, *accuracy_and_perplexity(logp, targets)


def mlp_curve(train: str, valid: str, lm, args):
    """Accuracy, perplexity and cumulative training time after every epoch
    of a backprop MLP with ``lm``'s context, vocabulary and hidden layers."""
    vocab = CharVocabulary(lm.classes_)
    k, n_tokens = lm.context_size, len(vocab)
    train_ids, valid_ids = vocab.encode(train), vocab.encode(valid)
    source = ContextSource(train_ids, np.arange(k, len(train_ids)), k, n_tokens, "cpu")
    valid_source = ContextSource(
        valid_ids, np.arange(k, len(valid_ids)), k, n_tokens, "cpu"
    )
    y, y_valid = source.targets(), valid_source.targets().numpy()
    torch.manual_seed(args.random_state)
    model = build_mlp(k * n_tokens, n_tokens, lm.core_.hidden_sizes)
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    gen = torch.Generator().manual_seed(args.random_state)
    curve, spent = [], 0.0
    for _ in range(args.mlp_epochs):
        start = time.perf_counter()
        order = torch.randperm(len(source), generator=gen)
        for s in range(0, len(source), args.mlp_batch):
            idx = order[s : s + args.mlp_batch]
            loss = torch.nn.functional.cross_entropy(model(source.take(idx)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        spent += time.perf_counter() - start
        with torch.inference_mode():
            logits = model(valid_source.take(torch.arange(len(valid_source))))
            logp = torch.log_softmax(logits.double(), 1).numpy()
        curve.append((*accuracy_and_perplexity(logp, y_valid), spent))
        print(f"  MLP epoch {len(curve)}: {curve[-1]}", flush=True)
    return curve


def main(argv=None):
    args = parse_args(argv)
    started = datetime.now(timezone.utc)
    torch.set_num_threads(args.threads)
    text = TEXTS[args.text]()
    params = {"random_state": args.random_state, "device": "cpu", **dict(args.param)}
    rows = []
    with threadpool_limits(args.threads):
        for size in (int(s) for s in args.sizes.split(",")):
            train, valid = text[:size], text[size : size + size // 10]
            lm, fit, acc, ppl = fit_ff(train, valid, params)
            print(f"FF {size}: {acc:.4f} {ppl:.3f} {fit:.1f} s, {lm.n_iter_} epochs")
            curve = mlp_curve(train, valid, lm, args)
            # the MLP at FF's epochs (none when it ran fewer)
            equal = curve[lm.n_iter_ - 1] if lm.n_iter_ <= len(curve) else None
            reached = [i for i, c in enumerate(curve) if c[0] >= acc]
            at = reached[0] if reached else int(np.argmax([c[0] for c in curve]))
            same = curve[at]
            rows.append(
                [
                    f"{args.text} {size:,}",
                    f"{100 * acc:.2f}% / {ppl:.3f}",
                    f"{fit:.1f} ({lm.n_iter_} ep.)",
                    "-" if equal is None else f"{100 * equal[0]:.2f}% / {equal[1]:.3f}",
                    "-" if equal is None else f"{equal[2]:.1f}",
                    "-" if equal is None else f"{fit / equal[2]:.2f}",
                    f"{at + 1}{'' if reached else ' (never)'}",
                    f"{100 * same[0]:.2f}%",
                    f"{same[2]:.1f}",
                    f"{fit / same[2]:.2f}",
                    f"{acc / max(c[0] for c in curve):.3f}",
                ]
            )
    header = [
        "text, training chars",
        "FF accuracy / perplexity",
        "FF fit (s)",
        "MLP equal epochs: accuracy / perplexity",
        "its fit (s)",
        "FF / it",
        "MLP epochs to FF's accuracy",
        "its accuracy",
        "its fit (s)",
        "FF / it",
        "FF accuracy / MLP's best",
    ]
    print(f"\nFFLanguageModel({', '.join(f'{k}={v!r}' for k, v in args.param)})")
    print(markdown_table(header, rows))
    print_provenance(args.threads, started)


if __name__ == "__main__":
    main()
