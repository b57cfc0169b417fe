"""A user reproduces a run of the committed report with the public API, in this process, as
the README shows: ``bnnet.fit`` with the run's configuration from the manifest gives the
report's numbers bit for bit (fit trains with one BLAS thread, as every run of the study)."""

from __future__ import annotations

import json
import os

import pytest
from threadpoolctl import threadpool_limits

import bnnet
from tests.report_checks import ROOT

MANIFEST = ROOT / "report" / "results" / "manifest.json"


def committed_run(section: str, **config: object) -> dict:
    runs = json.loads(MANIFEST.read_text())["runs"]
    return next(r for r in runs if r["section"] == section
                and all(r["config"][k] == v for k, v in config.items()))


@pytest.mark.skipif(not os.environ.get("BNNET_DATA_DIR"),
                    reason="set BNNET_DATA_DIR to a CIFAR-10 copy to reproduce a report run")
def test_fit_in_this_process_gives_the_reports_numbers_bit_for_bit():
    if not MANIFEST.is_file():
        pytest.skip("no committed report manifest")
    run = committed_run("02_three_vs_nine_layers", hidden=[50, 50], bn="before", seed=0)
    data = bnnet.load_cifar10(n_val=run["data"]["n_val"], seed=run["data"]["seed"],
                              split=run["data"]["split"], n_train=run["data"]["n_train"])
    config = bnnet.Config(**run["config"])
    # however many BLAS threads the caller's process allows, fit trains with one
    with threadpool_limits(limits=2, user_api="blas"):
        result = bnnet.fit(config, data, progress=False)
    assert result.test_accuracy == run["values"]["test_accuracy"]
    assert result.val_accuracy == run["values"]["val_accuracy"]
    assert result.test["cost"] == run["values"]["test_cost"]
