"""Do two versions of skff train the same networks? Fits every estimator
(several settings each, ``random_state=0``, one thread) on digits and a
short text, and saves or compares their outputs bit for bit; ``compare``
also loads the models that ``save`` pickled and compares their outputs with
the new fits'. Run from the repository root, at one commit and then another::

    PYTHONPATH=$PWD python experiments/bit_identity.py save /tmp/before.npz
    PYTHONPATH=$PWD python experiments/bit_identity.py compare /tmp/before.npz

(``PYTHONPATH`` makes sure the checkout's skff is the one imported.)
"""

import sys

import joblib
import numpy as np
import torch
from sklearn.datasets import load_digits

from skff import (
    FFClassifier,
    FFConvClassifier,
    FFLanguageModel,
    FFRecurrentClassifier,
    FFTransformer,
)


def fit_all():
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_tr, y_tr, X_te = X[:1200], y[:1200], X[1200:]
    docs = [
        "the quick brown fox jumps over the lazy dog. " * 20,
        "a stitch in time saves nine, said the tailor. " * 20,
    ]
    models = {}
    for kw in [
        {},
        {"calibrate": False},
        {"readout": "goodness"},
        {"early_stopping": True},
    ]:
        name = "ff" + str(sorted(kw.items()))
        models[name] = FFClassifier(max_iter=5, random_state=0, **kw).fit(X_tr, y_tr)
    models["ff-weighted"] = FFClassifier(
        max_iter=3, random_state=0, class_weight="balanced"
    ).fit(X_tr, y_tr, sample_weight=np.linspace(0.1, 1, len(y_tr)))
    conv = dict(input_shape=(1, 8, 8), batch_size=100, random_state=0)
    models["conv"] = FFConvClassifier(
        channels=(20, 30), max_iter=3, calibrate=False, **conv
    ).fit(X_tr, y_tr)
    models["conv-input"] = FFConvClassifier(
        channels=(8, 8), label_mode="input", max_iter=2, calibrate=False, **conv
    ).fit(X_tr, y_tr)
    models["conv-calibrated"] = FFConvClassifier(
        channels=(20, 30), max_iter=2, calibrate="auto", **conv
    ).fit(X_tr, y_tr)
    models["recurrent"] = FFRecurrentClassifier(max_iter=3, random_state=0).fit(
        X_tr, y_tr
    )
    for negatives in ["self_contrastive", "hybrid", "corrupt"]:
        models["transformer-" + negatives] = FFTransformer(
            max_iter=3, random_state=0, negatives=negatives
        ).fit(X_tr)
    models["transformer-image"] = FFTransformer(
        max_iter=2, random_state=0, input_shape=(1, 8, 8), negatives="hybrid"
    ).fit(X_tr)
    models["lm"] = FFLanguageModel(
        context_size=4, hidden_size=64, max_iter=3, random_state=0
    ).fit(docs)
    return models, X_te, docs


def outputs(models, X_te, docs) -> dict:
    out = {}
    for name, est in models.items():
        if isinstance(est, FFLanguageModel):
            out[name] = np.array([est.score(docs)])
            out[name + ".next"] = est.predict_proba(["the quick", "a stit"])
        elif isinstance(est, FFTransformer):
            out[name] = est.transform(X_te)
        else:
            out[name] = est.predict_proba(X_te)
            out[name + ".pred"] = est.predict(X_te)
    return out


def main(argv):
    if len(argv) != 3 or argv[1] not in ("save", "compare"):
        sys.exit(__doc__)
    path = argv[2]
    models, X_te, docs = fit_all()
    out = outputs(models, X_te, docs)
    if argv[1] == "save":
        np.savez(path, **out)
        joblib.dump(models, path + ".models.joblib")
        print(f"saved {len(out)} outputs and {len(models)} models")
        return
    ref = np.load(path)
    differ = [
        k for k in ref.files if k not in out or not np.array_equal(ref[k], out[k])
    ]
    loaded = outputs(joblib.load(path + ".models.joblib"), X_te, docs)
    differ += [f"loaded:{k}" for k in loaded if not np.array_equal(loaded[k], out[k])]
    print(
        f"compared {len(ref.files)} outputs and {len(loaded)} loaded ones; "
        f"differ: {differ or 'none'}"
    )
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main(sys.argv)
