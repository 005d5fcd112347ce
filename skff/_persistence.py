"""Portable, checked persistence for every estimator.

A pickled (joblib, pickle, skops) estimator holds numpy arrays and plain Python
values only: its core is saved as ``{"class", "config", "weights"}``, where
``config`` is the core's :meth:`get_config` at the time of saving (so it holds
the objective the weights were last trained with). Loading rebuilds the core
on the CPU and checks everything against it: class, configuration, weight
names, shapes and dtypes, and the estimator's label count. What does not match
raises :class:`~skff.ModelFormatError` naming it.
"""

from __future__ import annotations

import inspect

import numpy as np
import torch

from ._version import __version__
from .core import CONV_NETS, CORES
from .exceptions import ModelFormatError

#: Version of the pickled state layout; bump when it changes. Format 2 saves
#: the core's objective (and the recurrent dynamics) as nested settings.
STATE_FORMAT = 2

#: What a parameter added after a model was saved meant before it existed:
#: models saved before ``n_negatives`` trained with one negative per positive,
#: those saved before ``calibrate`` held rows out only for early stopping.
_VALUES_BEFORE_PARAMETER = {
    "n_negatives": 1,
    "calibrate": False,
    # FFTransformer before the self-contrastive recipe's parts
    "pair_weights": "separate",
    "input_normalization": "center",
    "activation": "relu",
}


def _config_from_format_1(core_state: dict, params: dict) -> dict:
    """Format 1 (skff 0.1.0) kept the objective flat in the core's config, and
    the negatives on the estimator only."""
    config = dict(core_state["config"])
    objective = {
        "goodness": config.pop("goodness"),
        "loss": config.pop("loss"),
        "threshold": config.pop("threshold"),
        "symba_scale": config.pop("alpha"),
        "label_strength": config.pop("label_strength"),
        "peer_normalization": config.pop("peer_normalization"),
        "negatives": params.get("negatives", "hard"),
        "n_negatives": params.get("n_negatives", 1),
    }
    if core_state["class"] == "RecurrentFFNet":
        config["dynamics"] = {
            k: config.pop(k)
            for k in ("n_iterations", "damping", "goodness_window", "normalize_input")
        }
    config["objective"] = objective
    return config


def _core_class(class_name: str, config: dict) -> tuple:
    """The core class a saved state names, and the configuration it takes.

    The one place for class names that no longer exist: ``"ConvFFNet"``
    (before skff split it by how the label enters) is the class its
    ``label_mode`` names in :data:`~skff.core.CONV_NETS`, without that key.
    """
    if class_name == "ConvFFNet":
        config = dict(config)
        return CONV_NETS[config.pop("label_mode", "channelwise")], config
    return CORES[class_name], config


def _load_core(core_state: dict, name: str):
    """Rebuild a core from its saved state, checking every part of it."""
    try:
        cls, config = _core_class(core_state["class"], core_state["config"])
        weights = core_state["weights"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFormatError(
            f"The saved {name} has no valid network ({exc!r}); refit it."
        ) from None
    try:
        core = cls(**config)
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(
            f"The saved {name}'s network configuration is invalid: {exc}"
        ) from None
    expected = core.state_dict()
    if not isinstance(weights, dict) or set(weights) != set(expected):
        have = set(weights) if isinstance(weights, dict) else set()
        missing, unexpected = sorted(set(expected) - have), sorted(have - set(expected))
        raise ModelFormatError(
            f"The saved {name}'s weights do not match its network: missing "
            f"{missing}, unexpected {unexpected}."
        )
    tensors = {}
    for key, ref in expected.items():
        arr = weights[key]
        want = torch.empty(0, dtype=ref.dtype).numpy().dtype
        if not isinstance(arr, np.ndarray) or arr.dtype != want:
            got = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
            raise ModelFormatError(
                f"The saved {name}'s weight {key!r} has dtype {got}; expected {want}."
            )
        if arr.shape != tuple(ref.shape):
            raise ModelFormatError(
                f"The saved {name}'s weight {key!r} has shape {arr.shape}; its "
                f"network expects {tuple(ref.shape)}."
            )
        if not np.all(np.isfinite(arr)):
            raise ModelFormatError(
                f"The saved {name}'s weight {key!r} holds non-finite values."
            )
        tensors[key] = torch.from_numpy(np.array(arr))
    try:
        core.load_state_dict(tensors)
    except RuntimeError as exc:  # pragma: no cover - the checks above come first
        raise ModelFormatError(
            f"The saved {name}'s weights do not load: {exc}"
        ) from None
    return core.eval()


class PersistenceMixin:
    """``__getstate__`` / ``__setstate__`` for the estimators.

    Everything that lets older saved models load lives here: the format-1
    network settings, parameters added since (``_VALUES_BEFORE_PARAMETER``),
    fitted attributes added since (``_migrate_fitted``). A saved model
    without one of the estimator's ``_required_fitted`` attributes does not
    load; ``_check_loaded_core(core)`` raises :class:`ModelFormatError` when
    the fitted attributes disagree with the rebuilt network.
    """

    def __getstate__(self):
        state = dict(super().__getstate__())
        core = state.pop("core_", None)
        if core is not None:
            # numpy arrays and plain Python only: loads on any device, and with
            # skops without trusting torch types
            state["_core_state"] = {
                "class": type(core).__name__,
                "config": core.get_config(),
                "weights": {
                    k: v.detach().cpu().numpy() for k, v in core.state_dict().items()
                },
            }
        state["_skff_state_format"] = STATE_FORMAT
        state["_skff_version"] = __version__
        return state

    def __setstate__(self, state):
        state = dict(state)
        name = type(self).__name__
        fmt = state.pop("_skff_state_format", None)
        saved_version = state.pop("_skff_version", "unknown")
        valid = isinstance(fmt, int) and not isinstance(fmt, bool)
        if not valid or fmt not in (1, STATE_FORMAT):
            what = (
                f"state format {fmt}" if valid else f"an invalid state format {fmt!r}"
            )
            raise ModelFormatError(
                f"This {name} was saved by skff {saved_version} with {what}; skff "
                f"{__version__} reads formats 1 and {STATE_FORMAT}. Refit it, or "
                f"load it with skff {saved_version}."
            )
        core_state = state.pop("_core_state", None)
        if core_state is not None and fmt == 1:
            try:
                core_state = dict(
                    core_state, config=_config_from_format_1(core_state, state)
                )
            except (KeyError, TypeError) as exc:
                raise ModelFormatError(
                    f"This {name} (state format 1) has an invalid network "
                    f"configuration: missing {exc}."
                ) from None
        core = None if core_state is None else _load_core(core_state, name)
        super().__setstate__(state)
        # parameters added to the estimator after the model was saved take the
        # value that reproduces how it was trained, or else their defaults, so
        # get_params and clone still work
        defaults = inspect.signature(type(self).__init__).parameters
        for param in self._get_param_names():
            if not hasattr(self, param):
                value = _VALUES_BEFORE_PARAMETER.get(param, defaults[param].default)
                setattr(self, param, value)
        if core is not None:
            self._migrate_fitted()
            missing = [k for k in self._required_fitted if k not in self.__dict__]
            if missing:
                raise ModelFormatError(
                    f"The saved {name} lacks the fitted attributes "
                    f"{', '.join(missing)}; refit it."
                )
            self._check_loaded_core(core)
            self.core_ = core

    def _migrate_fitted(self) -> None:
        """Fitted attributes that models saved before them lack: their
        ``_fitted_defaults``, and the parameters the network was built with
        (skff 0.1.0 kept none; the saved parameters are the best record)."""
        for attr, value in self._fitted_defaults.items():
            self.__dict__.setdefault(attr, value)
        if "_built_with" not in self.__dict__:
            self._built_with = {k: getattr(self, k) for k in self._fixed_on_warm_start}

    def _check_loaded_core(self, core) -> None:
        classes = getattr(self, "classes_", None)
        if classes is not None and len(classes) != core.n_classes:
            raise ModelFormatError(
                f"The saved {type(self).__name__} has {len(classes)} classes_ but "
                f"its network scores {core.n_classes} classes."
            )
