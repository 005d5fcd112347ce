"""Is the language model's softmax head the bottleneck? Refit it on frozen features.

Fits FFLanguageModel (defaults, ``random_state=0``) on the first 90% of the
training text of The Devil's Dictionary (the benchmark's validation split: the
test text is never read), then trains its linear softmax head for more epochs on
the final, frozen network's neutral-candidate features, and prints the
validation accuracy and perplexity of the online head and after each refit
epoch. Refits start from the online head ("warm") or from zero, with Adam and a
learning rate decaying linearly to zero over the refit.

Run it from the repository root::

    python experiments/lm_head_refit.py                # 6 FF epochs, 4 refit epochs
    python experiments/lm_head_refit.py --max-iter 1 --train-chars 20000  # smoke
    python experiments/lm_head_refit.py --param n_negatives=1   # the documented run
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
import torch.nn.functional as F
from _common import add_param_argument

from skff import FFLanguageModel
from skff.datasets import load_devils_dictionary, split_text
from skff.text import CharVocabulary, ContextSource


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-iter", type=int, default=6, help="FF epochs")
    parser.add_argument("--refit-epochs", type=int, default=4)
    parser.add_argument("--learning-rates", default="0.001,0.003")
    parser.add_argument("--starts", default="warm,zero")
    parser.add_argument("--train-chars", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1)
    add_param_argument(parser, "any other FFLanguageModel parameter, repeatable")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    train, _ = split_text(load_devils_dictionary(), test_size=0.1)
    train, val = split_text(train, test_size=0.1)
    if args.train_chars is not None:
        train, val = train[: args.train_chars], val[: args.train_chars // 5]
    start = time.perf_counter()
    lm = FFLanguageModel(
        max_iter=args.max_iter, random_state=0, device="cpu", **dict(args.param)
    )
    lm.fit([train])
    print(f"fit: {time.perf_counter() - start:.0f} s, {args.max_iter} epochs")
    core = lm.core_
    vocabulary = CharVocabulary(lm.classes_)

    def features(text):
        """Neutral-candidate features and targets of every position of ``text``."""
        ids = vocabulary.encode(text.lower() if lm.lowercase else text)
        k = lm.context_size
        source = ContextSource(
            ids, np.arange(k, len(ids)), k, len(vocabulary), lm.device_
        )
        chunks = []
        with torch.no_grad():
            for i in range(0, len(source), 4096):
                idx = torch.arange(i, min(i + 4096, len(source)))
                chunks.append(core.neutral_features(source.take(idx)))
        return torch.cat(chunks), source.targets()

    f_train, y_train = features(train)
    f_val, y_val = features(val)

    def evaluate(head) -> str:
        with torch.no_grad():
            logp = F.log_softmax(head(f_val), dim=1)
        nll = -logp[torch.arange(len(y_val)), y_val].mean().item()
        acc = (logp.argmax(dim=1) == y_val).float().mean().item()
        return f"accuracy {100 * acc:.2f}%, perplexity {np.exp(nll):.3f}"

    print("online head:", evaluate(core.head))
    gen = torch.Generator().manual_seed(0)
    batch = lm.batch_size
    for how in args.starts.split(","):
        for lr in map(float, args.learning_rates.split(",")):
            head = copy.deepcopy(core.head)
            if how == "zero":
                torch.nn.init.zeros_(head.weight)
                torch.nn.init.zeros_(head.bias)
            opt = torch.optim.Adam(head.parameters(), lr=lr)
            steps = args.refit_epochs * -(-len(y_train) // batch)
            decay = torch.optim.lr_scheduler.LinearLR(opt, 1.0, 0.0, steps)
            for epoch in range(args.refit_epochs):
                order = torch.randperm(len(y_train), generator=gen)
                for i in range(0, len(y_train), batch):
                    b = order[i : i + batch]
                    loss = F.cross_entropy(head(f_train[b]), y_train[b])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    decay.step()
                print(f"refit {how}, lr {lr}, epoch {epoch + 1}:", evaluate(head))
    print(f"torch threads: {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
