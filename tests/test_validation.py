"""One set of constraints and type rules for Config fields and notebook parameters."""

import numpy as np
import pytest

from bnnet import NETS, Config, ConfigError
from bnnet.core.network import INIT_STDS
from bnnet.core.optimizers import OPTIMIZERS
from bnnet.report.notebook import COMMON, NOTEBOOKS, ParameterError, begin, check_parameters
from bnnet.validation import Integer, Invalid, ListOf, Options, Real, validate


def test_numpy_integers_count_as_integers_everywhere_and_bools_nowhere():
    c = Config(n_s=np.int64(30), hidden=[np.int32(8)], seed=np.uint8(3))
    assert (c.n_s, c.hidden, c.seed) == (30, (8,), 3) and type(c.n_s) is int
    check_parameters({"n_jobs": np.int64(2)}, {"n_jobs": COMMON["n_jobs"]})
    with pytest.raises(ConfigError, match="n_s=True"):
        Config(n_s=True)
    with pytest.raises(ParameterError, match="n_jobs=True"):
        check_parameters({"n_jobs": True}, {"n_jobs": COMMON["n_jobs"]})


def test_constraints_coerce_and_explain():
    assert validate({"x": 3, "y": 1}, {"x": Real(0, 5)}) == {"x": 3.0, "y": 1}
    with pytest.raises(Invalid) as err:
        validate({"x": 2.0}, {"x": Integer(1)})
    assert str(err.value) == "x=2.0: expected a positive integer, got a float; write 2"
    with pytest.raises(Invalid, match=r"x=\[1, -1\]: expected a non-empty list of "
                                      r"non-negative integers, -1 is not"):
        validate({"x": [1, -1]}, {"x": ListOf(Integer(0))})
    with pytest.raises(Invalid, match=r"expected a number in \(0, 1\]"):
        validate({"x": 0.0}, {"x": Real(0, 1, low_open=True)})
    with pytest.raises(Invalid, match="must be finite"):
        validate({"x": float("nan")}, {"x": Real()})
    with pytest.raises(Invalid, match="one of 'a', 'b'"):
        validate({"x": ["a"]}, {"x": Options(("a", "b"))})  # unhashable: not a choice


def test_name_tables_match_the_declared_choices():
    assert set(OPTIMIZERS) == set(Config.constraint("optimizer").choices)
    assert set(INIT_STDS) == set(Config.constraint("init").choices)
    assert set(NETS) == set(NOTEBOOKS["05_bn_variants"].parameters["position_nets"]
                            .item.choices)


def test_notebook_parameters_that_set_a_config_field_reuse_its_constraint():
    for notebook in NOTEBOOKS.values():
        for name in ("n_s", "cycles"):
            if name in notebook.parameters:
                assert notebook.parameters[name] is Config.constraint(name)


def namespace(name, **changes):
    """A notebook's parameters as its parameters cell sets them (read from the notebook)."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "notebooks" / f"{name}.ipynb"
    cell = next(c for c in json.loads(path.read_text())["cells"]
                if "parameters" in c.get("metadata", {}).get("tags", []))
    values: dict = {}
    exec("".join(cell["source"]), {}, values)
    return {**values, **changes}


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_every_notebook_passes_its_own_check_and_quick_preset(name):
    values = namespace(name)
    begin(name, values)
    quick = namespace(name, quick=True)
    begin(name, quick)
    for key, value in NOTEBOOKS[name].quick.items():
        assert quick[key] == ({**values[key], **value} if isinstance(value, dict) else value)
    check_parameters(quick, {**COMMON, **NOTEBOOKS[name].parameters})


def test_a_bad_notebook_parameter_stops_before_any_work():
    values = namespace("05_bn_variants", best={"hidden": [500], "lam": -1})
    with pytest.raises(ParameterError, match=r"parameter best=.*lam=-1.0"):
        begin("05_bn_variants", values)
    with pytest.raises(ParameterError, match="lacks the parameters"):
        begin("05_bn_variants", {"quick": False})


def test_a_parameter_the_notebook_does_not_have_stops_it_with_the_closest_name():
    values = namespace("04_init_sensitivity", quick=True)
    values["In"] = ["", "# Parameters\nquick = True\nsigma = [0.1]\nn_prob = 5\n"]
    with pytest.raises(ParameterError) as err:
        begin("04_init_sensitivity", values)
    message = str(err.value)
    assert "no parameter 'n_prob' (did you mean 'n_probe'?)" in message
    assert "no parameter 'sigma' (did you mean 'sigmas'?)" in message


def test_quick_keeps_the_parameters_a_user_gave(monkeypatch):
    """Given through papermill (its injected cell is in IPython's input history) or changed
    from the saved parameters cell: kept, and the banner says so."""
    shown = []
    monkeypatch.setattr("bnnet.report.notebook.display", shown.append)
    values = namespace("03_lambda_search", quick=True, n_coarse=10, cycles=4)
    values["In"] = ["", "# Parameters\nquick = True\nn_coarse = 10\ncycles = 4\n"]
    begin("03_lambda_search", values)
    assert values["n_coarse"] == 10 and values["cycles"] == 4  # given (cycles = the default)
    assert values["n_s"] == 60 and values["n_fine"] == 4  # quick sizes
    banner = shown[0].text
    assert "`n_s=60`" in banner and "Kept as given: `cycles=4`, `n_coarse=10`" in banner


def test_a_parameter_error_is_one_line_in_a_notebook():
    err = ParameterError("parameter n_jobs='two' (str): expected a positive integer")
    assert err._render_traceback_() == [f"ParameterError: {err}"]
