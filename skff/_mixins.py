"""What some estimators share: a stack of layers set by width
(:class:`LayerWidthsMixin`), an objective that reads labels
(:class:`LabelledObjectiveMixin`), and a batch size and epoch budget that
scale with the data (:class:`DataScaledScheduleMixin`)."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import _comparable
from .core import Objective


def check_widths(name: str, value, *, allow_int: bool = True) -> list:
    """``value`` as a list of positive ints, or a ValueError naming
    ``name``: a positive integer (where ``allow_int``) or a non-empty
    sequence of them; floats, strings and booleans are refused, not cut."""
    sizes = [value] if allow_int and isinstance(value, Integral) else value
    if isinstance(sizes, (str, bytes)):
        sizes = []
    try:
        sizes = list(sizes)
    except TypeError:
        sizes = []
    if not sizes or not all(
        isinstance(h, Integral) and not isinstance(h, bool) and h >= 1 for h in sizes
    ):
        what = "a positive integer or " if allow_int else ""
        raise ValueError(
            f"{name} must be {what}a non-empty sequence of positive integers, "
            f"got {value!r}."
        )
    return [int(h) for h in sizes]


class LayerWidthsMixin:
    """Networks that are stacks of layers: ``hidden_layer_sizes``, or
    ``n_layers`` layers of ``hidden_size`` units."""

    _parameter_constraints: dict = {
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [
            None,
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
    }
    _WIDTHS = ("n_layers", "hidden_size", "hidden_layer_sizes")
    _fixed_on_warm_start: tuple = _WIDTHS

    def _layer_sizes(self) -> list:
        """The width of every hidden layer.

        ``hidden_layer_sizes`` when it is given (an int is one layer), else
        ``n_layers`` layers of ``hidden_size`` units. ``n_layers`` and
        ``hidden_size`` left at their defaults give way to
        ``hidden_layer_sizes``; changed to values that contradict it
        (another number of layers, another width), they raise a ValueError
        naming both.
        """
        given = self.hidden_layer_sizes
        if given is None:
            return [int(self.hidden_size)] * int(self.n_layers)
        sizes = check_widths("hidden_layer_sizes", given)
        defaults = self._param_defaults()
        clashes = []
        if self.n_layers != defaults["n_layers"] and self.n_layers != len(sizes):
            clashes.append(f"n_layers={self.n_layers!r}")
        if self.hidden_size != defaults["hidden_size"] and any(
            h != self.hidden_size for h in sizes
        ):
            clashes.append(f"hidden_size={self.hidden_size!r}")
        if clashes:
            raise ValueError(
                f"hidden_layer_sizes={given!r} contradicts {' and '.join(clashes)}. "
                "hidden_layer_sizes sets every layer's width; leave n_layers and "
                "hidden_size at their defaults (or give them values that agree "
                "with it), or set hidden_layer_sizes=None to use them."
            )
        return sizes

    def _check_settings(self, n_features) -> None:
        self._layer_sizes()  # contradictory sizes fail before any state changes
        super()._check_settings(n_features)

    def _size_settings(self) -> dict:
        if self.hidden_layer_sizes is not None:  # it sets the widths
            return {"hidden_layer_sizes": self.hidden_layer_sizes}
        return {"hidden_size": self.hidden_size, "n_layers": self.n_layers}

    def _check_warm_start(self, skip: tuple = ()) -> None:
        # the widths matter, not how they were spelled: n_layers=2 and
        # hidden_size=16 build the same network as hidden_layer_sizes=(16, 16)
        asked, has = self._layer_sizes(), list(self.core_.hidden_sizes)
        if asked != has:
            defaults = self._param_defaults()
            built = self._built_with
            names = [
                k
                for k in self._WIDTHS
                if _comparable(getattr(self, k))
                != _comparable(built.get(k, defaults[k]))
            ]
            raise ValueError(
                "warm_start/partial_fit continue training the same network, "
                f"but {', '.join(names)} changed since it was built: its layer "
                f"widths are {has}, the parameters now ask for {asked}. Set "
                "warm_start=False to train a new one."
            )
        super()._check_warm_start(skip=(*skip, *self._WIDTHS))


class LabelledObjectiveMixin:
    """Networks that see labels: the label's strength and the negatives."""

    _parameter_constraints: dict = {
        "label_strength": [Interval(Real, 0, None, closed="neither")],
        "negatives": [StrOptions({"hard", "uniform", "hardest"})],
        "n_negatives": [Interval(Integral, 1, None, closed="left")],
    }

    def _objective(self) -> Objective:
        """The local objective, from the parameters of the same names."""
        return Objective(**{name: getattr(self, name) for name in Objective.names()})

    def _negatives_per_row(self) -> int:
        return self.n_negatives


class DataScaledScheduleMixin:
    """``batch_size="auto"`` and ``max_iter=None``: a mini-batch size and an
    epoch budget that scale with the number of training rows.

    ``batch_size="auto"``: ``n_rows // _ROWS_PER_BATCH`` within
    ``[_MIN_BATCH, _MAX_BATCH]``. ``max_iter=None``: ``ceil(_ROWS_SEEN /
    n_rows)`` epochs within ``[_MIN_EPOCHS, _MAX_EPOCHS]``, at most
    ``_LARGE_MAX_EPOCHS`` from ``_LARGE_ROWS`` rows on, and with the auto
    batches at most the steps of ``_MAX_EPOCHS`` epochs of batches of
    ``_STEP_BATCH`` rows (batches below that size take more steps per
    epoch). The constants below are :class:`~skff.FFClassifier`'s rule;
    another estimator overrides those it sets differently (and documents
    its rule)."""

    _parameter_constraints: dict = {
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
    }
    _ROWS_SEEN, _MIN_EPOCHS, _MAX_EPOCHS = 900_000, 15, 60
    _STEP_BATCH = 100
    _LARGE_MAX_EPOCHS, _LARGE_ROWS = 30, 2_500
    _ROWS_PER_BATCH, _MIN_BATCH, _MAX_BATCH = 50, 50, 200

    def _n_epochs(self, n_rows: int) -> int:
        if self.max_iter is not None:
            return self.max_iter
        n_rows = max(1, n_rows)
        epochs = max(self._MIN_EPOCHS, -(-self._ROWS_SEEN // n_rows))
        if n_rows >= self._LARGE_ROWS:
            epochs = min(self._LARGE_MAX_EPOCHS, epochs)
        if self.batch_size != "auto":
            return min(self._MAX_EPOCHS, epochs)
        # the auto batches below _STEP_BATCH rows take more steps per epoch:
        # cap the steps (epochs x batches per epoch), not only the epochs
        steps = self._MAX_EPOCHS * -(-n_rows // self._STEP_BATCH)
        per_epoch = -(-n_rows // self._batch_rows(n_rows))
        most = max(self._MIN_EPOCHS, min(self._MAX_EPOCHS, -(-steps // per_epoch)))
        return min(most, epochs)

    def _batch_rows(self, n_rows: int) -> int:
        if self.batch_size != "auto":
            return min(self.batch_size, n_rows)
        rows = min(
            self._MAX_BATCH, max(self._MIN_BATCH, n_rows // self._ROWS_PER_BATCH)
        )
        return min(rows, n_rows)
