"""``verbose``: a progress bar in a terminal, one plain line per epoch (with the
epoch's time) anywhere else, e.g. a log file, a pipe or pytest's capture."""

import io
import re
import sys

import pytest
from conftest import SPECS, each_estimator

N_EPOCHS = 3
# "<name> epoch <k>[/<last>]: <losses> time=<seconds>s"
LINE = re.compile(
    r"^(?P<name>\w+) epoch (?P<epoch>\d+)(?:/(?P<last>\d+))?: "
    r"(?P<losses>.+) time=(?P<seconds>\d+\.\d\d)s$"
)


def fit(spec, **params):
    """The registry's estimator fitted for N_EPOCHS epochs."""
    est = spec.make(max_iter=N_EPOCHS, **params)
    if "calibrate" in spec.supports and "calibrate" not in params:
        # only the epochs' lines here (test_calibration: cross-fitting's line)
        est.set_params(calibrate=False)
    return spec.fit(est)


CLASSIFIER = SPECS["FFClassifier"]


def parse(err: str) -> list:
    """The matches of every line of ``err``; fails on a line of another form."""
    assert "\r" not in err
    lines = err.splitlines()
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    return matches


@each_estimator()
def test_one_line_per_epoch_outside_a_terminal(spec, capsys):
    assert not sys.stderr.isatty()  # pytest's capture
    est = fit(spec, verbose=1)
    out, err = capsys.readouterr()
    assert out == ""
    matches = parse(err)
    assert len(matches) == est.n_iter_ == N_EPOCHS
    assert [int(m["epoch"]) for m in matches] == list(range(1, N_EPOCHS + 1))
    assert {m["last"] for m in matches} == {str(N_EPOCHS)}
    assert {m["name"] for m in matches} == {spec.name}
    assert all(float(m["seconds"]) >= 0 for m in matches)
    # the losses of the epoch, as in est.loss_curve_
    for m, losses in zip(matches, est.loss_curve_, strict=True):
        shown = [float(v) for v in re.findall(r"=(-?\d+\.\d+)", m["losses"])]
        assert shown == pytest.approx(losses, abs=1e-4)


def test_validation_score_on_each_line(capsys):
    est = fit(
        CLASSIFIER,
        verbose=1,
        early_stopping=True,
        n_iter_no_change="inf",
    )
    matches = parse(capsys.readouterr().err)
    assert len(matches) == est.n_iter_
    shown = [float(re.search(r"val=(\d+\.\d+)", m["losses"])[1]) for m in matches]
    assert shown == pytest.approx(est.validation_scores_, abs=1e-4)


@each_estimator("partial_fit")
def test_partial_fit_continues_the_count(spec, capsys):
    est = spec.make(verbose=1)
    for _ in range(3):
        spec.partial_fit(est)
    matches = parse(capsys.readouterr().err)
    assert [int(m["epoch"]) for m in matches] == [1, 2, 3]
    assert all(m["last"] is None for m in matches)


@each_estimator()
def test_silent_without_verbose(spec, capsys):
    fit(spec)
    assert capsys.readouterr() == ("", "")


def test_stream_without_isatty_gets_lines(monkeypatch):
    class Log:
        def __init__(self):
            self.text = ""

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    log = Log()
    monkeypatch.setattr(sys, "stderr", log)
    fit(CLASSIFIER, verbose=1)
    assert len(parse(log.text)) == N_EPOCHS


def test_terminal_keeps_the_progress_bar(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    fit(CLASSIFIER, verbose=1)
    shown = terminal.getvalue()
    assert "\r" in shown  # tqdm redraws its bar in place
    assert f"{N_EPOCHS}/{N_EPOCHS}" in shown
    assert LINE.search(shown) is None
