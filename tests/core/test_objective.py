"""The immutable settings a core owns: the local Objective of every layer and
the recurrent net's Dynamics (validated once, saved as plain values, replaced
only as a whole)."""

import dataclasses
import json
import math

import numpy as np
import pytest

from skff import FFClassifier, FFLanguageModel, FFRecurrentClassifier
from skff.core import Dynamics, FFNet, Objective, RecurrentFFNet

CUSTOM_OBJECTIVE = dict(
    goodness="sum",
    loss="logistic",
    threshold=3.5,
    symba_scale=2.0,
    label_strength=5.0,
    peer_normalization=0.03,
    negatives="hardest",
    n_negatives=3,
)
CUSTOM_DYNAMICS = dict(
    n_iterations=6, damping=0.5, goodness_window=(1, 6), normalize_input=False
)


# -- validation: every error names its field --------------------------------------
@pytest.mark.parametrize(
    "field, value",
    [
        ("goodness", "max"),
        ("loss", "hinge"),
        ("threshold", math.nan),
        ("threshold", math.inf),
        ("threshold", "high"),
        ("symba_scale", 0.0),
        ("symba_scale", -1.0),
        ("label_strength", 0),
        ("label_strength", math.inf),
        ("peer_normalization", -0.1),
        ("negatives", "random"),
        ("n_negatives", 0),
        ("n_negatives", 1.5),
        ("n_negatives", True),
    ],
)
def test_objective_errors_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        Objective(**{field: value})
    # replacing one field of a valid objective is validated the same way
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(Objective(), **{field: value})


@pytest.mark.parametrize(
    "field, value",
    [
        ("n_iterations", 0),
        ("n_iterations", 2.5),
        ("n_iterations", True),
        ("damping", 1.0),
        ("damping", -0.1),
        ("damping", math.nan),
        ("goodness_window", (3, 2)),
        ("goodness_window", (0, 9)),
        ("goodness_window", (-1, 2)),
        ("goodness_window", 3),
        ("goodness_window", (1, 2, 3)),
        ("goodness_window", (1.0, 2)),
        ("goodness_window", (True, 1)),
    ],
)
def test_dynamics_errors_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        Dynamics(**{field: value})
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(Dynamics(), **{field: value})


def test_unknown_objective_setting_is_named():
    with pytest.raises(ValueError, match=r"unknown objective settings \['alpha'\]"):
        Objective.coerce({"loss": "logistic", "alpha": 4.0})
    with pytest.raises(TypeError, match="n_iteration"):
        Dynamics.coerce({"n_iteration": 3})
    with pytest.raises(TypeError, match="expected an Objective or a dict"):
        Objective.coerce([("loss", "logistic")])
    with pytest.raises(TypeError, match="expected Dynamics or a dict"):
        Dynamics.coerce("fast")


# -- as_dict / coerce round trips -----------------------------------------------------
@pytest.mark.parametrize(
    "cls, settings",
    [
        (Objective, {}),
        (Objective, CUSTOM_OBJECTIVE),
        (Dynamics, {}),
        (Dynamics, CUSTOM_DYNAMICS),
    ],
    ids=["objective-default", "objective", "dynamics-default", "dynamics"],
)
def test_as_dict_round_trip_rebuilds_an_equal_object(cls, settings):
    value = cls(**settings)
    saved = value.as_dict()
    # plain Python values: JSON survives the trip too
    assert json.loads(json.dumps(saved)) == saved
    rebuilt = cls(**saved)
    assert rebuilt == value and hash(rebuilt) == hash(value)
    assert cls.coerce(json.loads(json.dumps(saved))) == value
    for key, want in settings.items():
        assert getattr(rebuilt, key) == want
    # a different value compares unequal
    other = dataclasses.replace(
        value, **({"threshold": 9.0} if cls is Objective else {"damping": 0.1})
    )
    assert other != value


def test_numpy_and_int_settings_are_coerced_to_plain_values():
    """Equal settings compare and save alike, whatever the number types."""
    a = Objective(threshold=np.float32(1.5), n_negatives=np.int64(3), label_strength=2)
    b = Objective(threshold=1.5, n_negatives=3, label_strength=2.0)
    assert a == b
    assert type(a.threshold) is float and type(a.n_negatives) is int
    assert type(a.label_strength) is float
    d = Dynamics(n_iterations=np.int64(4), damping=0, goodness_window=[1, 3])
    assert d == Dynamics(n_iterations=4, damping=0.0, goodness_window=(1, 3))
    assert d.goodness_window == (1, 3) and type(d.damping) is float
    assert d.as_dict()["goodness_window"] == [1, 3]


def test_coerce_passes_objects_through_and_defaults_none():
    objective = Objective(**CUSTOM_OBJECTIVE)
    assert Objective.coerce(objective) is objective
    assert Objective.coerce(None) == Objective()
    dynamics = Dynamics(**CUSTOM_DYNAMICS)
    assert Dynamics.coerce(dynamics) is dynamics
    assert Dynamics.coerce(None) == Dynamics()


# -- immutability -----------------------------------------------------------------
@pytest.mark.parametrize(
    "value, field, new",
    [
        (Objective(), "loss", "logistic"),
        (Objective(), "n_negatives", 4),
        (Dynamics(), "damping", 0.5),
        (Dynamics(), "goodness_window", (1, 2)),
    ],
)
def test_frozen_assignment_raises(value, field, new):
    before = getattr(value, field)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, new)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(value, field)
    assert getattr(value, field) == before


def test_core_replaces_its_objective_whole_and_saves_it():
    net = FFNet(6, 3, [8], objective=CUSTOM_OBJECTIVE)
    assert net.objective == Objective(**CUSTOM_OBJECTIVE)
    assert net.get_config()["objective"] == Objective(**CUSTOM_OBJECTIVE).as_dict()
    old = net.objective
    net.set_objective({"loss": "symba"})
    # the new objective is built whole: unspecified fields take the defaults
    assert net.objective == Objective(loss="symba")
    assert old == Objective(**CUSTOM_OBJECTIVE)  # the old value is unchanged
    with pytest.raises(ValueError, match="negatives"):
        net.set_objective({"negatives": "random"})
    assert net.objective == Objective(loss="symba")
    rec = RecurrentFFNet(6, 3, [8, 8], dynamics=CUSTOM_DYNAMICS)
    assert rec.dynamics == Dynamics(**CUSTOM_DYNAMICS)
    assert rec.get_config()["dynamics"] == Dynamics(**CUSTOM_DYNAMICS).as_dict()
    assert RecurrentFFNet(**rec.get_config()).dynamics == rec.dynamics


def test_logit_scale():
    assert Objective(loss="symba", symba_scale=2.5).logit_scale == 2.5
    assert Objective(loss="logistic", symba_scale=2.5).logit_scale == 1.0


@pytest.mark.parametrize("est", [FFClassifier, FFRecurrentClassifier, FFLanguageModel])
def test_field_names_are_the_estimators_parameter_names(est):
    params = est().get_params()
    assert set(Objective.names()) <= set(params)
    assert Objective.names() == tuple(f.name for f in dataclasses.fields(Objective))
    if est is FFRecurrentClassifier:
        assert {f.name for f in dataclasses.fields(Dynamics)} <= set(params)


@pytest.mark.parametrize(
    "cls, kwargs, field",
    [
        (Objective, {"n_negatives": "a"}, "n_negatives"),
        (Objective, {"n_negatives": None}, "n_negatives"),
        (Dynamics, {"damping": "abc"}, "damping"),
        (Dynamics, {"damping": None}, "damping"),
        (Dynamics, {"n_iterations": "x"}, "n_iterations"),
    ],
)
def test_settings_of_the_wrong_type_name_their_field(cls, kwargs, field):
    with pytest.raises(ValueError, match=field):
        cls(**kwargs)
