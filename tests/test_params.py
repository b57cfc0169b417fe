"""study.yaml and parameters files (bnnet.report.params): the file is the notebooks' own
values, a copy may change any of them, and a wrong name or value is refused with a hint."""

import pytest
import yaml

from bnnet.report.notebook import ParameterError
from bnnet.report.params import (
    STUDY_PARAMS,
    changed,
    describe_changes,
    load_params,
    study_parameters,
    study_yaml,
    yaml_value,
)


def test_study_yaml_holds_exactly_the_notebooks_parameters():
    text = STUDY_PARAMS.read_text(encoding="utf-8")
    assert text == study_yaml(), "run python -m bnnet.report.params to rewrite study.yaml"
    assert yaml.safe_load(text) == study_parameters()
    assert load_params(STUDY_PARAMS) == study_parameters()
    assert changed(load_params(STUDY_PARAMS)) == {}


@pytest.mark.parametrize("value", [1e-05, 1e-16, 0.005, 2250, None, True, [0.1, 1.0],
                                   {"hidden": [500, 500], "flip": True, "lam": 2e-3},
                                   ["9-layer"], [-5.0, -1.0]])
def test_every_value_reads_back_as_itself(value):
    assert yaml.safe_load(f"x: {yaml_value(value)}")["x"] == value


def test_a_file_that_changes_one_value_keeps_the_study_everywhere_else(tmp_path):
    mine = tmp_path / "lam.yaml"
    mine.write_text("02_three_vs_nine_layers:\n  lam: 0.01\n  seeds: [0, 1, 2, 3, 4]\n")
    params = load_params(mine)
    study = study_parameters()
    assert params["02_three_vs_nine_layers"] == {**study["02_three_vs_nine_layers"],
                                                 "lam": 0.01, "seeds": [0, 1, 2, 3, 4]}
    assert {k: v for k, v in params.items() if k != "02_three_vs_nine_layers"} == {
        k: v for k, v in study.items() if k != "02_three_vs_nine_layers"}
    diff = changed(params)
    assert diff == {"02_three_vs_nine_layers": {"lam": 0.01, "seeds": [0, 1, 2, 3, 4]}}
    # in the notebook's order of parameters
    assert describe_changes(diff) == ("02_three_vs_nine_layers: seeds = [0, 1, 2, 3, 4] "
                                      "(study [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), lam = 0.01 "
                                      "(study 0.005)")
    assert describe_changes({}).startswith("none")


@pytest.mark.parametrize("text, message", [
    ("02_three_vs_nine:\n  lam: 0.01\n", "no notebook '02_three_vs_nine'.*did you mean "
                                         "'02_three_vs_nine_layers'"),
    ("02_three_vs_nine_layers:\n  lamda: 0.01\n", "has no parameter 'lamda'.*did you mean 'lam'"),
    ("02_three_vs_nine_layers:\n  lam: -1\n", "lam"),
    ("02_three_vs_nine_layers:\n  seeds: 3\n", "seeds"),
    ("02_three_vs_nine_layers: 0.01\n", "should map parameter names to values"),
    ("- 1\n- 2\n", "one mapping per notebook"),
    ("a: [1, 2\n", "not valid YAML"),
])
def test_a_wrong_file_is_refused_with_what_to_do(tmp_path, text, message):
    mine = tmp_path / "my.yaml"
    mine.write_text(text)
    with pytest.raises(ParameterError, match=message):
        load_params(mine)


def test_a_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ParameterError, match=r"copy study\.yaml"):
        load_params(tmp_path / "nope.yaml")
