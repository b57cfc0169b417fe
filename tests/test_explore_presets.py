"""Presets replay the report's findings (bnnet.explore.presets), quoting the report's
committed numbers read by column name from its tables (bnnet.explore.committed)."""

from __future__ import annotations

import html
import json
import re

import pytest

from bnnet.core.config import Config
from bnnet.explore import Explorer
from bnnet.explore.committed import (
    ReportTableError,
    Starts,
    report_scale,
    report_value,
)
from bnnet.explore.presets import BY_KEY, PRESETS, Measured, contrast_lines, finding_lines
from bnnet.explore.settings import config_from
from bnnet.report.notebook import notebook_defaults
from bnnet.study.stats import signed
from tests.test_explore import images

#: the tables of the rebuilt report, in the schema the presets read (a few rows each)
TABLES = {
    "02_test_accuracy": "net,BN,runs,test_accuracy,val_accuracy,seconds per run\n"
                        "3-layer,no,10,52.99 ± 0.25,53.16 ± 0.41,20.4\n"
                        "3-layer,yes,10,53.47 ± 0.23,53.96 ± 0.17,13.1\n"
                        "9-layer,no,10,47.92 ± 1.60,47.48 ± 1.93,18.3\n"
                        "9-layer,yes,10,51.41 ± 0.15,51.73 ± 0.24,23.7\n",
    "04_test_accuracy": "net,sigma,no BN,BN\n"
                        + "".join(f"{n},{s},10.00 ± 0.00,{b}\n" for n in ("3-layer", "9-layer")
                                  for s, b in ((0.1, "51.29 ± 0.17"), (0.001, "50.09 ± 0.86"),
                                               (0.0001, "10.00 ± 0.00"))),
    "04_epsilon_accuracy": 'sigma,eps,test accuracy\n'
                           '0.0001,1e-05,"10.00 ± 0.00%, chance level on every seed"\n'
                           "0.0001,1e-16,50.01 ± 0.62%\n",
    "05_bn_position": "net,BN,runs,test_accuracy\n9-layer,before the ReLU,5,51.41 ± 0.15\n"
                      "9-layer,after the ReLU,5,52.09 ± 0.30\n",
    "05_ablation": "arm,instead,runs,test_accuracy\nbest network,,5,58.12 ± 0.31\n"
                   "width,\"50, 50 units\",5,54.02 ± 0.22\n"
                   "smaller λ (0.002),λ = 0.005,5,57.90 ± 0.40\n"
                   "augmentation,none,5,55.55 ± 0.35\n"
                   "longer schedule,\"4,500 updates\",5,56.01 ± 0.28\n"
                   "extra images,\"45,000 images\",5,57.60 ± 0.30\n"
                   "test-time flips,none,5,57.70 ± 0.29\n",
    # the tests' rows (differences in points, blank where a permutation test gives no
    # interval), a few per table
    "02_bn_ci": "net,runs,diff,low,high,p_value,p_holm,test,verdict\n"
                "3-layer,10/10,0.526,0.2458,0.8062,0.00098,0.00098,Welch t,real\n"
                "9-layer,10/10,3.902,2.6773,5.1267,3.3e-05,6.5e-05,Welch t,real\n",
    "04_bn_ci": "net,sigma,runs,diff,low,high,p_value,p_holm,test,verdict\n"
                "9-layer,0.1,5/5,41.286,41.072,41.500,7.3e-11,8.0e-10,Welch t,real\n"
                "9-layer,0.001,5/5,40.088,,,0.0079,0.040,permutation,real\n"
                "9-layer,0.0001,5/5,0.0,,,,,none,both at chance\n",
    "04_epsilon_ci": "sigma,eps,runs,diff,low,high,p_value,p_holm,test,verdict\n"
                     "0.0001,1e-16,5/5,40.01,39.2447,40.7753,1.4e-08,1.2e-07,Welch t,real\n",
    "05_bn_position_ci": "net,runs,diff,low,high,p_value,p_holm,test,verdict\n"
                         "9-layer,5/5,0.682,0.3078,1.0562,0.0044,0.035,Welch t,real\n",
    "05_ablation_ci": "arm,instead,runs,diff,low,high,p_value,p_holm,test,verdict\n"
                      + "".join(f"{arm},x,5/5,{d},{d - 0.4},{d + 0.4},0.01,0.05,Welch t,{v}\n"
                                for arm, d, v in (("width", -6.016, "real"),
                                                  ("smaller λ (0.002)", -0.564, "inconclusive"),
                                                  ("augmentation", -0.24, "inconclusive"),
                                                  ("longer schedule", -2.592, "real"),
                                                  ("extra images", -0.108, "inconclusive"),
                                                  ("test-time flips", -0.594, "real"))),
}


@pytest.fixture
def results(tmp_path):
    for name, text in TABLES.items():
        (tmp_path / f"{name}.csv").write_text(text)
    nine = Config(hidden=(50, 30, 20, 20, 10, 10, 10, 10), init="normal", sigma=1e-4,
                  eps=1e-16, n_s=2250, cycles=2, log_every=None, train_eval_size=5000)
    runs = [{"section": "04_init_sensitivity", "key": f"k{seed}",
             "config": nine.replace(seed=seed).to_dict(), "data": {"n_val": 5000,
                                                                  "n_train": None}}
            for seed in range(5)]
    # section 2's ten runs of the 9-layer BN net, five of which section 5 reuses
    bn = Config(hidden=nine.hidden, n_s=2250, cycles=2, log_every=None, train_eval_size=5000)
    runs += [{"section": "02_three_vs_nine_layers", "key": f"bn{seed}",
              "config": bn.replace(seed=seed).to_dict(), "data": {"n_val": 5000}}
             for seed in range(10)]
    (tmp_path / "manifest.json").write_text(json.dumps({"runs": runs}))
    return tmp_path


def test_every_preset_arm_is_a_setting_the_controls_take():
    explorer = Explorer(loader=images, preload=False)
    try:
        for preset in PRESETS:
            assert preset.trained, preset.key
            for arm in preset.trained:
                explorer.set(**preset.values(arm))  # refuses a value a control would clamp
                config, _ = config_from(explorer.values(), preset.curve_points)
                assert config == config_from(preset.values(arm), preset.curve_points)[0]
    finally:
        explorer.close()


def test_each_arm_quotes_its_row_of_the_reports_table(results):
    cells = {("02_test_accuracy", "9 layers, BN"): "51.41 ± 0.15%",
             ("04_test_accuracy", "σ 0.001, no BN"): "10.00 ± 0.00%",
             ("04_test_accuracy", "σ 0.001, BN"): "50.09 ± 0.86%",
             ("04_epsilon_accuracy", "ε 1e-05"): "10.00 ± 0.00%, chance level on every seed",
             ("05_bn_position", "BN after the ReLU"): "52.09 ± 0.30%",
             ("05_ablation", "without λ 0.002"): "57.90 ± 0.40%",
             ("05_ablation", "without test-time flips"): "57.70 ± 0.29%"}
    quoted = {}
    for preset in PRESETS:
        lines, problems = finding_lines(preset, results_dir=results)
        assert not problems and len(lines) == len(preset.arms)
        for arm, line in zip(preset.arms, lines, strict=True):
            quoted[arm.table, arm.name] = line
    for key, cell in cells.items():
        assert quoted[key].startswith(f"{key[1]}: report {cell}"), quoted[key]
    assert quoted["05_ablation", "without the extra images"].endswith(
        "not replayed here: the explorer trains on at most 45,000 images.")


def test_the_line_after_a_replay_says_how_the_runs_differ(results):
    preset = BY_KEY["epsilon"]
    lines, _ = finding_lines(preset, {"ε 1e-16": Measured("run 3: 9 layers", 0.219, "done")},
                             results)
    assert lines[1] == ("ε 1e-16: report 50.01 ± 0.62% (5 runs of 20 epochs on 45,000 "
                        "images) · here 21.90% (run 3: 1 run of 2 epochs on 10,000 images).")
    assert lines[0] == ("ε 1e-05: report 10.00 ± 0.00%, chance level on every seed.")


def test_each_contrast_quotes_the_reports_test_and_the_difference_here(results):
    depth = BY_KEY["depth"]
    assert contrast_lines(depth, results_dir=results) == [
        "BN's gain, 3 layers: report +0.53 points [+0.25, +0.81], real (adjusted p < 0.001).",
        "BN's gain, 9 layers: report +3.90 points [+2.68, +5.13], real (adjusted p < 0.001)."]
    measured = {"9 layers, no BN": Measured("run 3: 9 layers", 0.2255, "done"),
                "9 layers, BN": Measured("run 4: 9 layers", 0.2143, "done"),
                "3 layers, BN": Measured("run 2: 3 layers", 0.403, "done")}
    lines = contrast_lines(depth, measured, results)
    assert lines[0].endswith("(adjusted p < 0.001).")  # one arm trained: no difference here
    assert lines[1] == ("BN's gain, 9 layers: report +3.90 points [+2.68, +5.13], real "
                        "(adjusted p < 0.001) · here −1.12 points, one run each.")
    # a permutation test has no interval: the test is named instead; "both at chance" too
    sigma = contrast_lines(BY_KEY["sigma"], results_dir=results)
    assert sigma[1] == ("BN's gain at σ 0.001: report +40.09 points (permutation test), real "
                        "(adjusted p 0.040).")
    assert sigma[2] == "BN's gain at σ 0.0001: report 0.00 points, both at chance."
    # a stopped run has no accuracy: no difference here
    stopped = {"ε 1e-05": Measured("run 1: 9 layers", None, "stopped"),
               "ε 1e-16": Measured("run 2: 9 layers", 0.22, "done")}
    assert contrast_lines(BY_KEY["epsilon"], stopped, results) == [
        "ε 1e-16 against ε 1e-5: report +40.01 points [+39.24, +40.78], real (adjusted p "
        "< 0.001)."]
    # every ingredient the ablation took away has its line, trained here or not
    ingredients = contrast_lines(BY_KEY["ingredients"], results_dir=results)
    assert [line.split(":")[0] for line in ingredients] == [
        "without the width", "without λ 0.002", "without augmentation",
        "without the longer schedule", "without the extra images", "without test-time flips"]
    (results / "05_ablation_ci.csv").unlink()  # finding_lines names a missing table
    assert contrast_lines(BY_KEY["ingredients"], results_dir=results) == []


def test_a_missing_table_or_column_is_named_once(results):
    (results / "05_ablation.csv").unlink()
    lines, problems = finding_lines(BY_KEY["ingredients"], results_dir=results)
    assert problems == [f"the report's table 05_ablation.csv is not in {results} (make report "
                        "writes it; a copy of bnnet installed with pip has no report: pass "
                        "results_dir)"]
    assert all(": report not available" in line for line in lines)
    with pytest.raises(ReportTableError, match=r"05_bn_position\.csv has no column 'test "
                                               r"accuracy'; its columns are 'net', 'BN'"):
        report_value("05_bn_position", "test accuracy", {"net": "9-layer"}, results)
    with pytest.raises(ReportTableError, match="2 rows with net '9-layer'"):
        report_value("05_bn_position", "test_accuracy", {"net": "9-layer"}, results)
    with pytest.raises(ReportTableError, match=r"02_test_accuracy\.csv has no row with net "
                                               r"'best'"):
        report_value("02_test_accuracy", "test_accuracy", {"net": "best"}, results)
    assert report_value("04_epsilon_accuracy", "test accuracy", {"sigma": 1e-4, "eps": 1e-16},
                        results) == "50.01 ± 0.62%"  # numbers compared as numbers
    assert report_value("05_bn_position", "runs", {"BN": Starts("after")}, results) == "5"


def test_the_committed_tables_have_the_columns_and_rows_the_presets_read():
    """Every table of report/results that a preset reads is committed and parses with the
    schema above: each arm's accuracy, each contrast's difference with its verdict."""
    for preset in PRESETS:
        for arm in preset.arms:
            assert re.match(r"\d+\.\d\d ± \d+\.\d\d",
                            report_value(arm.table, arm.column, arm.where)), arm
        lines = contrast_lines(preset)
        assert len(lines) == len(preset.contrasts), preset.key
        for contrast, line in zip(preset.contrasts, lines, strict=True):
            assert re.fullmatch(rf"{re.escape(contrast.name)}: report [−+]?\d+\.\d\d points.*"
                                r", [a-z >δ,]+( \(adjusted p [<\d. ]+\))?\.", line), line
            assert {contrast.base, contrast.other} <= {arm.name for arm in preset.arms}


def test_the_runs_are_the_tables_own_count_where_it_has_one(results):
    depth, = (line for line in finding_lines(BY_KEY["depth"], results_dir=results)[0]
              if line.startswith("9 layers, BN"))
    before, _ = finding_lines(BY_KEY["position"], results_dir=results)[0]
    assert depth.endswith("(10 runs of 20 epochs on 45,000 images).")
    assert before.endswith("(5 runs of 20 epochs on 45,000 images).")  # not the manifest's 10


def test_the_reports_scale_comes_from_its_manifest(results):
    preset = BY_KEY["epsilon"]
    config, _ = config_from(preset.values(preset.arms[1]))
    scale = report_scale(config, "04_init_sensitivity", results)
    assert (scale.runs, scale.updates, scale.images, scale.epochs) == (5, 9000, 45_000, 20)
    assert report_scale(config.replace(eps=1e-5), "04_init_sensitivity", results) is None
    (results / "manifest.json").unlink()
    assert report_scale(config, "04_init_sensitivity", results) is None


def test_the_presets_train_what_the_reports_notebooks_train():
    best = notebook_defaults("05_bn_variants")["best"]
    ingredients = BY_KEY["ingredients"]
    config, _ = config_from(ingredients.values(ingredients.arms[0]))
    assert list(config.hidden) == best["hidden"] and config.lam == best["lam"]
    assert (config.flip, config.shift) == (best["flip"], best["shift"])
    for name in ("02_three_vs_nine_layers", "04_init_sensitivity"):
        assert notebook_defaults(name)["n_train"] is None  # all 45,000 images
    assert notebook_defaults("04_init_sensitivity")["sigmas"] == [1e-1, 1e-3, 1e-4]
    assert 1e-16 in notebook_defaults("04_init_sensitivity")["epsilons"]


def test_a_replay_trains_each_arm_overlays_them_and_quotes_the_report(results):
    explorer = Explorer(loader=images, preload=False, results_dir=results)
    try:
        explorer.preset.value = "epsilon"
        assert explorer.values()["eps"] == 1e-5 and explorer.values()["sigma"] == 1e-4
        assert "ε 1e-16: report 50.01 ± 0.62%" in explorer.findings.value
        explorer.set(n_s=10)  # picking the preset set its first arm; a replay sets each arm
        explorer.replay()
        assert explorer.wait(120)
        runs = explorer.runs
        assert [r.config.eps for r in runs] == [1e-5, 1e-16]
        assert all(r.live.state == "done" and r.config.n_s == 100 for r in runs)
        assert explorer.picker.value == (1, 2) and bytes(explorer.overlay.value)
        for run in runs:
            assert f"here {100 * run.live.result.test_accuracy:.2f}% (run {run.number}: 1 run " \
                   "of 2 epochs on 10,000 images)" in explorer.findings.value
        assert "50.01 ± 0.62%" in explorer.findings.value
        here = runs[1].live.result.test_accuracy - runs[0].live.result.test_accuracy
        line = (f"ε 1e-16 against ε 1e-5: report +40.01 points [+39.24, +40.78], real "
                f"(adjusted p < 0.001) · here {signed(100 * here)} points, one run each.")
        assert line in html.unescape(explorer.findings.value)
        assert line in explorer.findings_text().splitlines()  # the same, as plain text
        assert "<" not in explorer.findings_text().replace("< 0.001", "")
    finally:
        explorer.close()


def test_train_or_stop_ends_a_replay(results):
    explorer = Explorer(loader=images, preload=False, results_dir=results)
    try:
        explorer.replay("depth")
        deadline = 100
        while not explorer.runs and deadline:
            deadline -= 1
            explorer.wait(0.05)
        explorer.stop()
        assert explorer.wait(60)
        assert len(explorer.runs) == 1 and explorer.runs[0].live.state == "stopped"
        with pytest.raises(Exception, match="there is no preset 'dpth' \\(did you mean 'depth'"):
            explorer.replay("dpth")
    finally:
        explorer.close()
