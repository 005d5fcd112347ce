"""The one-call API of the reference app."""

import numpy as np
import pytest

from skff import FFClassifier, FFLanguageModel, train_with_forward_forward_algorithm


def test_progressive_on_given_data(small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    clf = train_with_forward_forward_algorithm(
        "progressive",
        n_layers=2,
        hidden_size=64,
        lr=0.01,
        device="cpu",
        epochs=15,
        batch_size=50,
        X=X_tr,
        y=y_tr,
        random_state=0,
    )
    assert isinstance(clf, FFClassifier)
    assert clf.get_params()["max_iter"] == 15
    assert clf.score(X_te, y_te) > 0.8  # chance is 0.1


def test_theta_selects_the_logistic_loss(small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    clf = train_with_forward_forward_algorithm(
        "progressive",
        n_layers=1,
        hidden_size=64,
        lr=0.03,
        epochs=30,
        batch_size=50,
        theta=2.0,
        X=X_tr,
        y=y_tr,
        random_state=0,
        device="cpu",
    )
    assert clf.loss == "logistic" and clf.threshold == 2.0
    assert clf.score(X_te, y_te) > 0.5


def test_default_data_with_message():
    with pytest.warns(UserWarning, match="digits"):
        clf = train_with_forward_forward_algorithm(
            hidden_size=32, epochs=3, device="cpu", random_state=0
        )
    assert clf.n_features_in_ == 64


def test_nlp(tmp_path):
    docs = ["the cat sat on the mat. " * 10, "the dog sat on the log. " * 10]
    lm = train_with_forward_forward_algorithm(
        "nlp",
        n_layers=1,
        hidden_size=64,
        epochs=10,
        X=docs,
        device="cpu",
        random_state=0,
        context_size=4,
    )
    assert isinstance(lm, FFLanguageModel)
    assert lm.perplexity(docs) < 0.5 * len(lm.classes_)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(model_type="cnn"), "Unknown model_type 'cnn'"),
        (
            dict(model_type="progressive", dropout=0.1),
            r"no parameter\(s\) \['dropout'\]",
        ),
        (dict(model_type="nlp", X=["some text here"], y=[1]), "y must be None"),
        (dict(model_type="progressive", X=np.zeros((3, 2))), "needs labels y"),
        (dict(model_type="progressive", device="gpu"), "Unknown device"),
    ],
)
def test_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_with_forward_forward_algorithm(**kwargs, epochs=1)


def test_recurrent(small_digits):
    from skff import FFRecurrentClassifier

    X_tr, X_te, y_tr, y_te = small_digits
    clf = train_with_forward_forward_algorithm(
        "recurrent",
        n_layers=2,
        hidden_size=64,
        epochs=10,
        X=X_tr,
        y=y_tr,
        device="cpu",
        random_state=0,
    )
    assert isinstance(clf, FFRecurrentClassifier)
    assert clf.score(X_te, y_te) > 0.5  # chance is 0.1
