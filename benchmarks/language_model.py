"""Character language model benchmark: FFLanguageModel against n-grams and an MLP.

Splits Ambrose Bierce's *The Devil's Dictionary* contiguously into the first 90%
(training text) and the last 10% (test text) with :func:`skff.datasets.split_text`
and compares, on the test text, next-character accuracy and per-character
perplexity of

(a) a unigram model, add-one smoothed over the vocabulary;
(b) an interpolated Kneser-Ney n-gram model whose maximum order (up to
    ``context_size + 1``, i.e. up to ``context_size`` characters of context) is
    chosen on a held-out tail of the *training* text;
(c) a backprop MLP of the same depth and width as the FF network (one-hot
    context -> ``n_layers`` x ``hidden_size`` ReLU -> linear softmax, Adam,
    cross-entropy, same epochs and batch size);
(d) :class:`skff.FFLanguageModel`, scored with each readout ("softmax",
    "goodness", "both"; the readout only affects prediction, so it is fitted
    once).

All models use the vocabulary that FFLanguageModel learns from the training text
(its ``vocabulary_``, with the unknown character U+FFFD as the last class), so
every model gives a proper distribution over the same classes and their
perplexities are comparable. Every model predicts every character of the test
text after its first ``context_size`` characters, from the characters before
it (at most ``context_size`` of them). Accuracy is the share of those characters
that are the model's most likely class.

The text comes from :func:`skff.datasets.load_devils_dictionary` (Debian/Ubuntu
package ``dict-devil``).

Run it from the repository root::

    python benchmarks/language_model.py                     # defaults
    python benchmarks/language_model.py --train-chars 20000 --max-iter 1  # smoke
    python benchmarks/language_model.py --param negatives=hardest
    python benchmarks/language_model.py --validation 0.1 --skip-mlp   # tune on val

``--param key=value`` (repeatable) passes any other FFLanguageModel parameter;
the value is read as a Python literal when it is one (``0.001``, ``True``) and
as a string otherwise. ``--validation F`` never reads the test text: it scores
on the last share ``F`` of the training text instead and trains on the rest,
for choosing settings without looking at the test set.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone

import numpy as np
import torch
from _common import add_param_argument, markdown_table, print_provenance, timed
from scipy.special import log_softmax
from threadpoolctl import threadpool_limits

from skff import FFLanguageModel
from skff.datasets import load_devils_dictionary, split_text
from skff.text import CharVocabulary, ContextSource

READOUTS = ("softmax", "goodness", "both")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--max-iter", type=int, default=6, help="epochs of the FF model and the MLP"
    )
    parser.add_argument("--hidden-size", type=int, default=500)
    parser.add_argument("--n-layers", type=int, default=2)
    parser.add_argument(
        "--context-size", type=int, default=10, help="characters of context"
    )
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--train-chars",
        type=int,
        default=None,
        metavar="N",
        help="use only the first N characters of the training text (quick runs)",
    )
    parser.add_argument(
        "--validation",
        type=float,
        default=0.0,
        metavar="F",
        help="score on the last share F of the training text, not the test text",
    )
    parser.add_argument(
        "--ngram-holdout",
        type=float,
        default=0.1,
        metavar="F",
        help="share of the training text (its tail) that chooses the n-gram order",
    )
    parser.add_argument(
        "--mlp-learning-rate", type=float, default=0.001, help="Adam step of the MLP"
    )
    parser.add_argument(
        "--early-stopping",
        action="store_true",
        help="hold out a random 10%% of the training positions from FF and from the "
        "MLP; each keeps the weights of its epoch with the best held-out "
        "log-likelihood and stops after --patience epochs without improvement",
    )
    parser.add_argument(
        "--patience", type=int, default=3, help="epochs without improvement"
    )
    parser.add_argument("--device", default="cpu", help="torch device of FF and MLP")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads and BLAS/OpenMP threads (threadpoolctl)",
    )
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--skip-mlp", action="store_true", help="do not fit the MLP")
    parser.add_argument("--skip-ff", action="store_true", help="do not fit FF")
    parser.add_argument(
        "--readouts",
        default=",".join(READOUTS),
        help="comma-separated FF readouts to score",
    )
    add_param_argument(parser, "extra FFLanguageModel parameter (repeatable)")
    parser.add_argument(
        "--verbose", type=int, default=0, help="FFLanguageModel progress bar"
    )
    args = parser.parse_args(argv)
    args.readouts = [r.strip() for r in args.readouts.split(",") if r.strip()]
    unknown = sorted(set(args.readouts) - set(READOUTS))
    if unknown:
        parser.error(f"unknown readout(s) {unknown}; choose from {READOUTS}")
    return args


def load_texts(args) -> tuple[str, str, str]:
    """Training text, evaluation text and the name of the evaluation split."""
    train, test = split_text(load_devils_dictionary(), test_size=0.1)
    split = "test"
    if args.validation > 0:
        train, test = split_text(train, test_size=args.validation)
        split = "validation"
    if args.train_chars is not None:
        train = train[: args.train_chars]
    return train, test, split


# --------------------------------------------------------------------------- #
# Scoring
# --------------------------------------------------------------------------- #


def evaluate(log_proba: np.ndarray, targets: np.ndarray) -> dict:
    """Accuracy and perplexity from per-position log-probabilities."""
    ll = log_proba[np.arange(len(targets)), targets]
    return dict(
        accuracy=float(np.mean(np.argmax(log_proba, axis=1) == targets)),
        perplexity=float(np.exp(-ll.mean())),
        nats=float(-ll.mean()),
    )


def check_distribution(log_proba: np.ndarray, name: str) -> None:
    total = np.exp(log_proba).sum(axis=1)
    if not np.allclose(total, 1.0, atol=1e-6):
        raise AssertionError(f"{name}: probabilities do not sum to 1 ({total[:5]})")


# --------------------------------------------------------------------------- #
# (a) unigram
# --------------------------------------------------------------------------- #


def unigram_log_proba(train_ids: np.ndarray, n_eval: int, n_tokens: int):
    counts = np.bincount(train_ids, minlength=n_tokens).astype(float)
    logp = np.log((counts + 1.0) / (counts.sum() + n_tokens))
    return np.broadcast_to(logp, (n_eval, n_tokens))


# --------------------------------------------------------------------------- #
# (b) interpolated Kneser-Ney
# --------------------------------------------------------------------------- #


class KneserNey:
    """Interpolated Kneser-Ney character n-grams over a fixed vocabulary.

    Orders 1..``max_order`` (an n-gram of order n has n - 1 characters of
    context). The highest order used uses raw counts, the lower ones
    continuation counts (the number of distinct characters seen before the
    n-gram); each order ``n`` has its absolute discount
    ``D = n1 / (n1 + 2 n2)`` from its own counts of counts, and the recursion
    ends at the uniform distribution over all ``n_tokens`` classes, so every
    class (the unknown one too) gets a positive probability and every row sums
    to one. N-grams get exact dense integer ids, order by order, from their
    prefix's id and their last character.
    """

    def __init__(self, ids: np.ndarray, n_tokens: int, max_order: int):
        self.V = int(n_tokens)
        self.max_order = int(max_order)
        L = len(ids)
        prev_gid = np.zeros(L, dtype=np.int64)  # id of the 0-gram ending at t - 1
        gids = []  # gids[n - 1][t]: id of the n-gram ending at t (-1 before start)
        self.keys, self.raw = [], []
        for n in range(1, self.max_order + 1):
            key = np.full(L, -1, dtype=np.int64)
            if n == 1:
                key[:] = ids
            else:
                key[n - 1 :] = prev_gid[n - 2 : L - 1] * self.V + ids[n - 1 :]
            valid = key >= 0
            uniq, inverse, counts = np.unique(
                key[valid], return_inverse=True, return_counts=True
            )
            gid = np.full(L, -1, dtype=np.int64)
            gid[valid] = inverse
            gids.append(gid)
            self.keys.append(uniq)
            self.raw.append(counts.astype(float))
            prev_gid = gid
        # continuation counts of order n: distinct (n+1)-grams with that suffix
        self.cont = []
        for n in range(1, self.max_order):
            longer, shorter = gids[n], gids[n - 1]
            ok = longer >= 0
            _, first = np.unique(longer[ok], return_index=True)
            suffix = shorter[ok][first]
            self.cont.append(
                np.bincount(suffix, minlength=len(self.keys[n - 1])).astype(float)
            )
        self.levels = {}

    def _level(self, n: int, kind: str):
        """Context totals, context type counts and discount of one order."""
        if (n, kind) not in self.levels:
            keys = self.keys[n - 1]
            c = self.raw[n - 1] if kind == "raw" else self.cont[n - 1]
            ctx = keys // self.V
            n_ctx = int(ctx.max()) + 1 if len(ctx) else 1
            total = np.bincount(ctx, weights=c, minlength=n_ctx)
            types = np.bincount(ctx, weights=(c > 0).astype(float), minlength=n_ctx)
            n1, n2 = np.sum(c == 1), np.sum(c == 2)
            d = n1 / (n1 + 2 * n2) if n1 + n2 > 0 else 0.5
            self.levels[n, kind] = (c, total, types, float(min(max(d, 0.05), 1.0)))
        return self.levels[n, kind]

    def _eval_context_ids(self, ids: np.ndarray) -> list:
        """ctx[n - 1][t]: training id of the (n-1)-gram ending at t - 1, or -1."""
        L = len(ids)
        gid = np.zeros(L, dtype=np.int64)  # 0-gram
        ctx = []
        for n in range(1, self.max_order + 1):
            c = np.full(L, -1, dtype=np.int64)
            c[n - 1 :] = gid[n - 2 : L - 1] if n > 1 else 0
            ctx.append(c)
            key = np.full(L, -1, dtype=np.int64)
            key[n - 1 :] = (gid[n - 2 : L - 1] if n > 1 else 0) * self.V + ids[n - 1 :]
            ok = (key >= 0) & (c >= 0)
            gid = np.full(L, -1, dtype=np.int64)
            keys = self.keys[n - 1]
            pos = np.searchsorted(keys, key[ok])
            pos = np.minimum(pos, len(keys) - 1)
            hit = keys[pos] == key[ok]
            gid[np.flatnonzero(ok)[hit]] = pos[hit]
        return ctx

    def _step(self, p_lower, n, kind, ctx_ids):
        """Interpolate order ``n`` over ``p_lower`` for contexts ``ctx_ids``."""
        c, total, types, d = self._level(n, kind)
        keys = self.keys[n - 1]
        p = p_lower.copy()
        seen = ctx_ids >= 0
        seen[seen] = total[np.minimum(ctx_ids[seen], len(total) - 1)] > 0
        seen &= ctx_ids < len(total)
        if not seen.any():
            return p
        h = ctx_ids[seen]
        query = h[:, None] * self.V + np.arange(self.V)[None, :]
        pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
        counts = np.where(keys[pos] == query, c[pos], 0.0)
        t = total[h][:, None]
        p[seen] = (np.maximum(counts - d, 0.0) + d * types[h][:, None] * p[seen]) / t
        return p

    def log_proba(self, ids, positions, orders, chunk: int = 4096) -> dict:
        """Per order N in ``orders``, log p(ids[t] | context) for ``positions``.

        Every requested order is computed in one pass: order N uses raw counts
        at level N over the continuation-count chain of levels 1..N-1.
        """
        ctx = self._eval_context_ids(ids)
        out = {N: [] for N in orders}
        for start in range(0, len(positions), chunk):
            pos = positions[start : start + chunk]
            p = np.full((len(pos), self.V), 1.0 / self.V)
            for n in range(1, max(orders) + 1):
                if n in out:
                    top = self._step(p, n, "raw", ctx[n - 1][pos])
                    out[n].append(np.log(top))
                if n < self.max_order and n < max(orders):
                    p = self._step(p, n, "cont", ctx[n - 1][pos])
        return {N: np.concatenate(v) for N, v in out.items()}


def run_ngram(args, train, test_ids, test_pos, encode, n_tokens):
    """Choose the order on the training tail, refit on all training text, score."""
    max_order = args.context_size + 1
    start = time.perf_counter()
    fit_part, tail = split_text(train, test_size=args.ngram_holdout)
    fit_ids, tail_ids = encode(fit_part), encode(tail)
    tail_pos = np.arange(args.context_size, len(tail_ids))
    kn = KneserNey(fit_ids, n_tokens, max_order)
    orders = list(range(1, max_order + 1))
    per_order = kn.log_proba(tail_ids, tail_pos, orders)
    targets = tail_ids[tail_pos]
    print(
        f"n-gram: choosing the order on the last {len(tail)} characters of the "
        f"training text (fitted on the first {len(fit_part)}):"
    )
    nats = {}
    for N in orders:
        res = evaluate(per_order[N], targets)
        nats[N] = res["nats"]
        print(
            f"  order {N:2d} (context {N - 1:2d}): perplexity {res['perplexity']:.3f}"
            f"  accuracy {res['accuracy']:.4f}"
        )
    best = min(nats, key=nats.get)
    kn = KneserNey(encode(train), n_tokens, best)
    fit_time = time.perf_counter() - start
    logp, pred_time = timed(lambda: kn.log_proba(test_ids, test_pos, [best])[best])
    check_distribution(logp[:1000], "n-gram")
    discounts = " ".join(
        f"{kn._level(n, 'cont' if n < best else 'raw')[3]:.2f}"
        for n in range(1, best + 1)
    )
    print(
        f"n-gram: order {best} (context {best - 1}); discounts by order: "
        f"{discounts}; fit+tune {fit_time:.1f} s, predict {pred_time:.1f} s",
        flush=True,
    )
    return logp, fit_time, f"order {best}"


# --------------------------------------------------------------------------- #
# (c) backprop MLP
# --------------------------------------------------------------------------- #


def build_mlp(n_in: int, n_out: int, widths) -> torch.nn.Module:
    """One-hot context -> ReLU layers of ``widths`` -> linear logits."""
    layers, width = [], n_in
    for hidden in widths:
        layers += [torch.nn.Linear(width, hidden), torch.nn.ReLU()]
        width = hidden
    layers.append(torch.nn.Linear(width, n_out))
    return torch.nn.Sequential(*layers)


def mlp_cross_entropy(model, source, y) -> float:
    """Mean cross-entropy (nats) of the MLP on every position of ``source``."""
    total = 0.0
    with torch.inference_mode():
        for s in range(0, len(source), 4096):
            idx = torch.arange(s, min(s + 4096, len(source)))
            logits = model(source.take(idx)).double()
            total += torch.nn.functional.cross_entropy(
                logits, y[idx.to(y.device)], reduction="sum"
            ).item()
    return total / len(source)


def run_mlp(args, train_ids, test_ids, test_pos, n_tokens):
    torch.manual_seed(args.random_state)
    device = torch.device(args.device if args.device != "auto" else "cpu")
    k = args.context_size
    model = build_mlp(k * n_tokens, n_tokens, [args.hidden_size] * args.n_layers)
    model.to(device)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=args.mlp_learning_rate)
    positions = np.arange(k, len(train_ids))
    val_source = None
    if args.early_stopping:
        # the same kind of hold-out as FFLanguageModel(early_stopping=True)
        order = np.random.RandomState(args.random_state).permutation(len(positions))
        n_val = max(1, int(round(0.1 * len(positions))))
        val_pos, positions = positions[order[:n_val]], positions[order[n_val:]]
        val_source = ContextSource(train_ids, val_pos, k, n_tokens, device)
        y_val = val_source.targets().to(device)
    source = ContextSource(train_ids, positions, k, n_tokens, device)
    y = source.targets().to(device)
    gen = torch.Generator().manual_seed(args.random_state)
    n = len(source)
    print(
        f"MLP: {k * n_tokens} -> {' -> '.join([str(args.hidden_size)] * args.n_layers)}"
        f" -> {n_tokens}, {n_params:,} parameters, Adam lr {args.mlp_learning_rate}, "
        f"batch {args.batch_size}, {args.max_iter} epochs"
        + (" at most (early stopping)" if args.early_stopping else ""),
        flush=True,
    )
    start = time.perf_counter()
    best, best_state, no_improve, epochs_run = -np.inf, None, 0, 0
    for epoch in range(args.max_iter):
        model.train()
        order = torch.randperm(n, generator=gen)
        total = 0.0
        for s in range(0, n, args.batch_size):
            idx = order[s : s + args.batch_size]
            loss = torch.nn.functional.cross_entropy(
                model(source.take(idx)), y[idx.to(device)]
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        epochs_run += 1
        msg = f"  MLP epoch {epoch + 1}: train cross-entropy {total / n:.4f}"
        if val_source is not None:
            model.eval()
            ll = -mlp_cross_entropy(model, val_source, y_val)
            msg += f", held-out log-likelihood {ll:.4f}"
            if ll > best + 1e-4:
                no_improve = 0
            else:
                no_improve += 1
            if ll > best:
                best = ll
                best_state = {
                    key: v.detach().clone() for key, v in model.state_dict().items()
                }
        print(msg + f" ({time.perf_counter() - start:.0f} s)", flush=True)
        if val_source is not None and no_improve >= args.patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
        print(f"MLP: best held-out log-likelihood {best:.4f}, {epochs_run} epochs run")
    fit_time = time.perf_counter() - start
    model.eval()
    test_source = ContextSource(test_ids, test_pos, k, n_tokens, device)
    t0 = time.perf_counter()
    outs = []
    with torch.inference_mode():
        for s in range(0, len(test_source), 4096):
            xb = test_source.take(torch.arange(s, min(s + 4096, len(test_source))))
            outs.append(torch.log_softmax(model(xb).double(), dim=1).cpu().numpy())
    logp = np.concatenate(outs)
    print(f"MLP: fit {fit_time:.1f} s, predict {time.perf_counter() - t0:.1f} s")
    return logp, fit_time, f"{n_params:,} params"


# --------------------------------------------------------------------------- #
# (d) Forward-Forward
# --------------------------------------------------------------------------- #


def fit_ff(args, train):
    params = dict(
        context_size=args.context_size,
        n_layers=args.n_layers,
        hidden_size=args.hidden_size,
        max_iter=args.max_iter,
        batch_size=args.batch_size,
        device=args.device,
        random_state=args.random_state,
        verbose=args.verbose,
    )
    if args.early_stopping:
        params.update(
            early_stopping=True, validation_fraction=0.1, n_iter_no_change=args.patience
        )
    params.update(dict(args.param))
    lm = FFLanguageModel(**params)
    print(f"FFLanguageModel: {lm.get_params()}", flush=True)
    _, fit_time = timed(lm.fit, [train])
    print(
        f"FF fit: {fit_time:.1f} s, {lm.n_iter_} epochs, "
        f"{fit_time / max(lm.n_iter_, 1):.1f} s/epoch, device {lm.device_}",
        flush=True,
    )
    names = [f"layer{i}" for i in range(args.n_layers)] + ["head"]
    print("FF loss curve (mean loss per epoch):")
    print("  epoch  " + "  ".join(f"{n:>8}" for n in names))
    for i, losses in enumerate(lm.loss_curve_, start=1):
        print(f"  {i:5d}  " + "  ".join(f"{v:8.4f}" for v in losses))
    if lm.validation_scores_:
        scores = " ".join(f"{v:.4f}" for v in lm.validation_scores_)
        print(
            f"FF held-out log-likelihood per epoch: {scores}; best "
            f"{lm.best_validation_score_:.4f} (its weights are kept)"
        )
    return lm, fit_time


def ff_log_proba(lm, text, readout, n_positions=None):
    """Log-probabilities of every character of ``text`` after the first
    ``context_size`` (only of the first ``n_positions`` of them when given)."""
    lm.set_params(readout=readout)
    if n_positions is not None:
        text = text[: lm.context_size + n_positions]
    return lm.predict_log_proba_sequence([text])[0]


def ff_readouts(lm, test, readouts):
    """Per readout, log-probabilities of every predicted character of the
    text ``test`` and prediction time.

    "both" is the normalized geometric mean of the "goodness" and "softmax"
    distributions (times its temperature, when the model has them); when
    both of those are scored anyway, it is computed from them (checked
    against the model's own "both" readout on the first 512 positions)
    instead of running the costly goodness pass a second time.
    """
    out = {}
    for readout in readouts:
        if readout == "both" and {"goodness", "softmax"} <= out.keys():
            start = time.perf_counter()
            # the readouts' fitted temperatures (None: 1) scale each one's
            # log-probabilities; dividing by them gives the unscaled ones up
            # to a constant per row, which the softmax ignores
            t = lm.temperatures_ or {}
            mean = (
                out["goodness"][0] / t.get("goodness", 1.0)
                + out["softmax"][0] / t.get("softmax", 1.0)
            ) / 2
            logp = log_softmax(t.get("both", 1.0) * mean, axis=1)
            own = ff_log_proba(lm, test, "both", n_positions=512)
            err = float(np.max(np.abs(own - logp[:512])))
            print(f"FF readout=both from goodness + softmax (max |diff| {err:.1e})")
            if err > 1e-4:
                raise AssertionError(f"readout 'both' differs by {err}")
            out[readout] = (
                logp,
                time.perf_counter() - start + out["goodness"][1] + out["softmax"][1],
            )
        else:
            out[readout] = timed(ff_log_proba, lm, test, readout)
        print(f"FF readout={readout}: predict {out[readout][1]:.1f} s", flush=True)
    return out


# --------------------------------------------------------------------------- #


def results_table(rows: list[dict], split: str) -> str:
    header = ["model", "readout / setting", f"{split} accuracy"]
    header += [f"{split} perplexity", "fit time (s)"]
    cells = [
        [
            str(r["model"]),
            str(r["setting"]),
            f"{100 * r['accuracy']:.2f}%",
            f"{r['perplexity']:.3f}",
            f"{r['fit_time']:.1f}",
        ]
        for r in rows
    ]
    return markdown_table(header, cells)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    started = datetime.now(timezone.utc)
    train, test, split = load_texts(args)
    k = args.context_size

    # the vocabulary of FFLanguageModel on this training text, for every model
    vocab = CharVocabulary.from_documents([train])
    vocabulary = vocab.index()
    n_tokens = len(vocab)
    encode = vocab.encode
    train_ids, test_ids = encode(train), encode(test)
    test_pos = np.arange(k, len(test_ids))
    targets = test_ids[test_pos]
    n_unknown = int(np.sum(targets == n_tokens - 1))
    print(
        f"The Devil's Dictionary: {len(train):,} training characters, "
        f"{len(test):,} {split} characters ({len(test_pos):,} predicted, "
        f"{n_unknown} unknown); vocabulary of {n_tokens} classes (unknown last); "
        f"context {k}",
        flush=True,
    )

    rows = []

    def add(model, setting, logp, fit_time):
        res = evaluate(logp, targets)
        rows.append(dict(model=model, setting=setting, fit_time=fit_time, **res))
        print(
            f"==> {model} [{setting}]: accuracy {res['accuracy']:.4f}, "
            f"perplexity {res['perplexity']:.3f}, fit {fit_time:.1f} s",
            flush=True,
        )

    with threadpool_limits(limits=args.threads):
        start = time.perf_counter()
        logp = unigram_log_proba(train_ids, len(test_pos), n_tokens)
        add("unigram (add-one)", "-", logp, time.perf_counter() - start)

        logp, fit_time, setting = run_ngram(
            args, train, test_ids, test_pos, encode, n_tokens
        )
        add("n-gram, interpolated Kneser-Ney", setting, logp, fit_time)

        if not args.skip_mlp:
            logp, fit_time, setting = run_mlp(
                args, train_ids, test_ids, test_pos, n_tokens
            )
            check_distribution(logp, "MLP")
            add(
                f"backprop MLP {args.n_layers}x{args.hidden_size}",
                setting,
                logp,
                fit_time,
            )

        if not args.skip_ff:
            lm, fit_time = fit_ff(args, train)
            if lm.vocabulary_ != vocabulary:
                raise AssertionError("FFLanguageModel learned another vocabulary")
            scored = ff_readouts(lm, test, args.readouts)
            for readout, (logp, _) in scored.items():
                check_distribution(logp, f"FF {readout}")
                add(
                    f"FFLanguageModel {args.n_layers}x{args.hidden_size}",
                    readout,
                    logp,
                    fit_time,
                )

    mlp = [r for r in rows if r["model"].startswith("backprop")]
    ff = [r for r in rows if r["model"].startswith("FFLanguageModel")]
    if mlp and ff:
        print()
        print(
            "FF relative to the MLP (goals: accuracy >= 0.95x, perplexity "
            f"<= 1.15x, fit time <= 3x; {args.threads} thread(s)):"
        )
        for r in ff:
            acc = r["accuracy"] / mlp[0]["accuracy"]
            ppl = r["perplexity"] / mlp[0]["perplexity"]
            fit = r["fit_time"] / mlp[0]["fit_time"]
            ok = "met" if acc >= 0.95 and ppl <= 1.15 and fit <= 3 else "missed"
            print(
                f"  {r['setting']:<8} accuracy x{acc:.3f}, perplexity x{ppl:.3f}, "
                f"fit time x{fit:.2f}: {ok}"
            )

    print()
    print(results_table(rows, split))
    print()
    print_provenance(args.threads, started)


if __name__ == "__main__":
    main()
