"""Running the Python examples of the README and the documentation (pytest-examples)."""

from __future__ import annotations

from pytest_examples import CodeExample, EvalExample

# numba registers the builtin print when it is first imported; pytest-examples replaces
# print with a mock while an example runs, so bnnet (and numba) must be imported before
import bnnet  # noqa: F401
from tests.conftest import write_fake_cifar
from tests.report_checks import ROOT


def run_example(example: CodeExample, eval_example: EvalExample, tmp_path, monkeypatch,
                n_per_batch: int = 1300) -> None:
    """An example in the project folder, on a small synthetic CIFAR-10 (so that each takes
    seconds); printed output must match its ``#>`` lines."""
    monkeypatch.chdir(ROOT)
    # 6,500 training images: the course split holds 5,000 out for validation, and the
    # explorer's smallest training set is 1,000
    folder = write_fake_cifar(tmp_path / "data", n_per_batch=n_per_batch)
    monkeypatch.setenv("BNNET_DATA_DIR", str(folder))
    monkeypatch.setenv("BNNET_CACHE_DIR", str(tmp_path / "cache"))
    eval_example.set_config(line_length=1000)
    eval_example.run_print_check(example)
