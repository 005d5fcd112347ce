"""The ``skff`` command line."""

import subprocess
import sys

import pytest

import skff
from skff.__main__ import main


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(cmd in out for cmd in ("demo", "bench", "lm"))


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"skff {skff.__version__}\n"


def test_python_m_skff_version():
    done = subprocess.run(
        [sys.executable, "-m", "skff", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"skff {skff.__version__}\n"


def test_bench_table(capsys):
    assert (
        main(
            [
                "bench",
                "--model",
                "ff",
                "--subset",
                "300",
                "--max-iter",
                "10",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| FFClassifier"))
    accuracy = float(row.split("|")[2])
    assert accuracy > 0.5  # 10 classes: chance is 0.1


def test_bench_missing_dataset_names_package(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SKFF_FASHION_MNIST_DIR", str(tmp_path))
    assert main(["bench", "--dataset", "fashion-mnist", "--model", "ff"]) == 2
    assert "dataset-fashion-mnist" in capsys.readouterr().err


def test_lm_generates(capsys):
    assert (
        main(
            [
                "lm",
                "--max-chars",
                "4000",
                "--max-iter",
                "1",
                "--hidden-size",
                "32",
                "--generate",
                "15",
                "--prompt",
                "The return va",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "perplexity" in out
    start = out.index("The return va")
    assert len(out) - start >= len("The return va") + 15  # prompt + 15 characters


def test_lm_unknown_corpus():
    with pytest.raises(SystemExit, match="neither"):
        main(["lm", "--corpus", "/no/such/file.txt"])
