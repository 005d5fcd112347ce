"""The benchmarks' helpers (``benchmarks/_common.py``), for the experiments.

Run an experiment as ``python experiments/X.py`` from the repository root;
this folder is then on ``sys.path`` and ``from _common import ...`` finds this
module, which loads the one copy of the helpers from ``benchmarks/``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def benchmark_module(name: str):
    """The module of ``benchmarks/<name>.py``, loaded from its path."""
    spec = importlib.util.spec_from_file_location(
        f"_benchmarks_{name}", BENCHMARKS / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_module = benchmark_module("_common")
add_param_argument = _module.add_param_argument
cpu_name = _module.cpu_name
markdown_table = _module.markdown_table
parse_param = _module.parse_param
print_provenance = _module.print_provenance
score = _module.score
timed = _module.timed
warm_up_torch = _module.warm_up_torch

__all__ = [
    "benchmark_module",
    "add_param_argument",
    "cpu_name",
    "markdown_table",
    "parse_param",
    "print_provenance",
    "score",
    "timed",
    "warm_up_torch",
]
