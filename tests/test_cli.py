"""The ``skff`` command line."""

import argparse
import subprocess
import sys

import pytest
import torch

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


_NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available")

# (argv, the option the message must name); "EMPTY" is an empty text file
_BAD_VALUES = [
    (["bench", "--subset", "-5"], "--subset"),
    (["bench", "--subset", "0"], "--subset"),
    (["bench", "--subset", "1.5"], "--subset"),
    (["bench", "--model", "ff", "--subset", "1"], "--subset"),  # a single class
    (["bench", "--model", "mlp", "--subset", "10"], "--subset"),  # mlp needs 11
    (["bench", "--max-iter", "0"], "--max-iter"),
    (["bench", "--max-iter", "-1"], "--max-iter"),
    (["bench", "--model", "nope"], "--model"),
    (["bench", "--dataset", "nope"], "--dataset"),
    (["bench", "--threads", "-1"], "--threads"),
    (["bench", "--threads", "100000"], "--threads"),
    (["bench", "--random-state", "-1"], "--random-state"),
    (["bench", "--random-state", str(2**32)], "--random-state"),
    (["bench", "--verbose", "-1"], "--verbose"),
    (["bench", "--device", "bogus"], "--device"),
    pytest.param(["bench", "--device", "cuda"], "--device", marks=_NO_CUDA),
    (["demo", "--device", "bogus"], "--device"),
    pytest.param(["demo", "--device", "cuda"], "--device", marks=_NO_CUDA),
    (["demo", "--threads", "-1"], "--threads"),
    (["demo", "--random-state", "x"], "--random-state"),
    (["demo", "--verbose", "-2"], "--verbose"),
    (["lm", "--max-chars", "0"], "--max-chars"),
    (["lm", "--max-chars", "5"], "--max-chars"),  # not more than --context-size
    (["lm", "--corpus", "EMPTY"], "--corpus"),
    (["lm", "--corpus", "/no/such/file.txt"], "--corpus"),
    (["lm", "--context-size", "0"], "--context-size"),
    (["lm", "--hidden-size", "0"], "--hidden-size"),
    (["lm", "--max-iter", "0"], "--max-iter"),
    (["lm", "--generate", "-5"], "--generate"),
    (["lm", "--temperature", "nan"], "--temperature"),
    (["lm", "--temperature", "inf"], "--temperature"),
    (["lm", "--temperature", "-1"], "--temperature"),
    (["lm", "--threads", "-1"], "--threads"),
    (["lm", "--random-state", "-1"], "--random-state"),
    (["lm", "--verbose", "-1"], "--verbose"),
    (["lm", "--device", "bogus"], "--device"),
]


@pytest.mark.parametrize(("argv", "option"), _BAD_VALUES)
def test_bad_value_is_one_line_and_exit_2(argv, option, capsys, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    argv = [str(empty) if a == "EMPTY" else a for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""  # nothing ran
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith(f"skff {argv[0]}: error: argument {option}"), err


def _bench_row(out: str, label: str) -> list[str]:
    row = next(line for line in out.splitlines() if line.startswith(f"| {label} |"))
    return [cell.strip() for cell in row.strip("|").split("|")]


def test_bench_conv(capsys):
    argv = ["bench", "--model", "conv", "--subset", "100", "--max-iter", "2"]
    assert main([*argv, "--device", "cpu"]) == 0
    _, accuracy, _, epochs = _bench_row(capsys.readouterr().out, "FFConvClassifier")
    assert 0.0 <= float(accuracy) <= 1.0
    assert epochs == "2"


def test_bench_unsupervised(capsys):
    argv = ["bench", "--model", "unsupervised", "--subset", "300", "--max-iter", "3"]
    assert main([*argv, "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    _, accuracy, _, epochs = _bench_row(out, "FFTransformer + LogisticRegression")
    assert float(accuracy) > 0.5  # 10 classes: chance is 0.1
    assert epochs == "3"  # the FFTransformer's


@pytest.mark.parametrize(
    ("dataset", "shape"), [("digits", (1, 8, 8)), ("fashion-mnist", (1, 28, 28))]
)
def test_bench_image_models_get_the_image_shape(dataset, shape):
    from skff._cli import _make_model

    args = argparse.Namespace(
        dataset=dataset, device="cpu", random_state=0, verbose=0, max_iter=None
    )
    assert _make_model("conv", args).input_shape == shape
    assert _make_model("unsupervised", args)[0].input_shape == shape
