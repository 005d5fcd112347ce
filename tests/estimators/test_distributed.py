"""One fit over several processes (``parallel``, ``n_workers``): 2-process
CPU (gloo) fits started by the estimator and by torchrun, their determinism
and order, and their faults."""

import multiprocessing
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
from sklearn.datasets import load_digits

from skff import DivergenceError, FFClassifier, FFConvClassifier, WorkerError
from skff.core.parallel import SimulatedPipeline

pytestmark = pytest.mark.skipif(
    not dist.is_available(), reason="this torch has no torch.distributed"
)
sys.path.insert(0, str(Path(__file__).parent))
from torchrun_fit import fit_spec  # noqa: E402


def _state(est):
    return {k: v.clone() for k, v in est.core_.state_dict().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


FF = dict(hidden_size=32, n_layers=3, max_iter=3, random_state=0)


@pytest.fixture(scope="module")
def pipeline_fit():
    """The torchrun script's estimator, fitted over 2 local workers."""
    X, y, est = fit_spec()
    return est.fit(X, y)


def test_pipeline_fit_is_deterministic_and_follows_the_documented_order(
    pipeline_fit, monkeypatch
):
    X, y, est = fit_spec()
    again = est.fit(X, y)
    assert _same(_state(pipeline_fit), _state(again))
    # the same order of two stages, simulated in this process
    settings = FFClassifier._loop_settings

    def simulated(self, *args, **kwargs):
        out = settings(self, *args, **kwargs)
        return type(out)(**{**out.__dict__, "trainer": SimulatedPipeline(2)})

    monkeypatch.setattr(FFClassifier, "_loop_settings", simulated)
    _, _, one = fit_spec()
    one.set_params(parallel=None).fit(X, y)
    assert _same(_state(pipeline_fit), _state(one))
    assert np.array_equal(pipeline_fit.predict_proba(X), one.predict_proba(X))
    assert pipeline_fit.score(X, y) > 0.85


def test_the_fitted_estimator_is_whole_in_the_parent(pipeline_fit, digits):
    X, y = digits
    again = pickle.loads(pickle.dumps(pipeline_fit))
    assert np.array_equal(again.predict_proba(X), pipeline_fit.predict_proba(X))
    assert pipeline_fit.n_iter_ == 3 and len(pipeline_fit.loss_curve_) == 3
    assert pipeline_fit.get_params()["parallel"] == "pipeline"


def test_torchrun_fit_equals_the_locally_started_one(pipeline_fit, tmp_path):
    out = tmp_path / "fitted.pkl"
    env = {
        **os.environ,
        "SKFF_TEST_THREADS": str(max(1, torch.get_num_threads() // 2)),
    }
    script = Path(__file__).with_name("torchrun_fit.py")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",  # torchrun
            "--standalone",
            "--nproc-per-node=2",
            str(script),
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    with open(out, "rb") as f:
        launched = pickle.load(f)
    assert _same(_state(launched), _state(pipeline_fit))


def test_data_parallel_fit_is_deterministic(digits):
    X, y = digits
    a = FFClassifier(**FF, parallel="data").fit(X, y)
    b = FFClassifier(**FF, parallel="data").fit(X, y)
    assert _same(_state(a), _state(b))
    assert a.score(X, y) > 0.85


def test_conv_pipeline_trains_the_one_process_model(digits):
    X, y = digits
    kw = dict(channels=(10, 10), input_shape=(1, 8, 8), max_iter=2, random_state=0)
    a = FFConvClassifier(**kw, parallel="pipeline").fit(X, y)
    b = FFConvClassifier(**kw).fit(X, y)
    assert _same(_state(a), _state(b))
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.fixture
def group_of_one():
    """A process group of this process alone."""
    folder = tempfile.mkdtemp()
    dist.init_process_group(
        "gloo", init_method=f"file://{folder}/store", rank=0, world_size=1
    )
    yield
    dist.destroy_process_group()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("parallel", ["pipeline", "data"])
def test_one_worker_trains_todays_model(digits, group_of_one, parallel):
    X, y = digits
    one = FFClassifier(**FF, parallel=parallel).fit(X, y)
    plain = FFClassifier(**FF).fit(X, y)
    assert _same(_state(one), _state(plain))
    assert one.loss_curve_ == plain.loss_curve_


def test_a_wrong_world_size_is_a_clear_error(digits, group_of_one):
    X, y = digits
    with pytest.raises(ValueError, match="n_workers=2, but the process group"):
        FFClassifier(**FF, parallel="data", n_workers=2).fit(X, y)


def test_too_many_pipeline_workers_is_a_clear_error(digits):
    X, y = digits
    with pytest.raises(ValueError, match="3 workers need at least 3 layers"):
        FFClassifier(n_layers=2, parallel="pipeline", n_workers=3).fit(X, y)
    with pytest.raises(ValueError, match="needs label_mode='channelwise'"):
        FFConvClassifier(label_mode="input", parallel="pipeline").fit(X, y)


def test_a_port_in_use_is_a_clear_error(digits, monkeypatch):
    X, y = digits
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for key, value in dict(
            RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
        ).items():
            monkeypatch.setenv(key, value)
        with pytest.raises(ConnectionError, match="the port is in use"):
            FFClassifier(**FF, parallel="data").fit(X, y)
    assert not dist.is_initialized()


def test_an_error_in_a_worker_is_raised_as_itself(digits):
    X, y = digits
    clf = FFClassifier(**FF).fit(X, y)
    before = _state(clf)
    clf.set_params(parallel="data", learning_rate_init=1e30)
    with pytest.raises(DivergenceError, match="diverged"):
        clf.fit(X, y)
    assert _same(before, _state(clf))


def test_a_killed_worker_ends_the_fit_and_keeps_the_model(
    digits, tmp_path, monkeypatch
):
    X, y = digits
    clf = FFClassifier(**FF).fit(X, y)
    before = _state(clf)
    clf.set_params(parallel="pipeline", max_iter=10_000)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    outcome = {}

    def fit():
        try:
            clf.fit(X, y)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=fit)
    thread.start()
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob("skff-workers-*/group")):
        assert time.monotonic() < deadline, "the workers never joined their group"
        time.sleep(0.05)
    time.sleep(1.0)  # training
    workers = multiprocessing.active_children()
    assert len(workers) == 2
    killed = time.monotonic()
    os.kill(workers[-1].pid, signal.SIGKILL)
    thread.join(60)
    assert not thread.is_alive()
    assert time.monotonic() - killed < 15
    assert isinstance(outcome.get("error"), WorkerError), outcome
    assert "signal 9" in str(outcome["error"])
    assert multiprocessing.active_children() == []
    assert _same(before, _state(clf))


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 CUDA devices")
@pytest.mark.parametrize("parallel", ["pipeline", "data"])
def test_nccl_fit_on_two_gpus_is_deterministic(digits, parallel):
    X, y = digits
    a = FFClassifier(**FF, parallel=parallel, device="cuda").fit(X, y)
    b = FFClassifier(**FF, parallel=parallel, device="cuda").fit(X, y)
    assert _same(_state(a), _state(b))
    assert a.score(X, y) > 0.85


def test_workers_fit_inside_a_pipeline_and_a_grid_search(digits):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    X, y = digits
    scores = []
    for n_workers in (None, 1):  # 2 worker processes, and one fit in this one
        clf = FFClassifier(
            **{**FF, "max_iter": 10}, parallel="data", n_workers=n_workers
        )
        search = GridSearchCV(
            make_pipeline(MinMaxScaler(), clf),
            {"ffclassifier__hidden_size": [32]},
            cv=2,
            refit=False,
        )
        scores.append(search.fit(X, y).best_score_)
    # measured 0.797 and 0.777 (300 training rows per fold)
    assert min(scores) > 0.72
    assert abs(scores[0] - scores[1]) < 0.05


CTRL_C = """
import sys
from sklearn.datasets import load_digits
from skff import FFClassifier
if __name__ == "__main__":
    X, y = load_digits(return_X_y=True)
    print("start", flush=True)
    FFClassifier(max_iter=100_000, parallel="pipeline", random_state=0).fit(X / 16, y)
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("pgrep") is None,
    reason="reads the process table of Linux (pgrep, /proc)",
)
def test_ctrl_c_stops_every_worker(tmp_path):
    script = tmp_path / "fit.py"
    script.write_text(CTRL_C)
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        start_new_session=True,  # its own process group, as a terminal's job
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "start"
        deadline = time.monotonic() + 120
        while len(_children(proc.pid)) < 2:  # the workers (and the tracker)
            assert time.monotonic() < deadline, "no workers started"
            time.sleep(0.1)
        time.sleep(3.0)  # importing, then training
        workers = _children(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert "KeyboardInterrupt" in proc.stderr.read()
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in workers if _alive(pid)] == []


def _children(pid: int) -> list:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False
