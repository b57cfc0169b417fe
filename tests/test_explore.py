"""The explorer (bnnet.explore) driven from code, as the notebook's widgets drive it,
and its engine (bnnet.explore.live)."""

from __future__ import annotations

import base64
import io
import shlex
import threading
import time

import numpy as np
import pandas as pd
import pytest

import bnnet
from bnnet import Config, ConfigError, Dataset
from bnnet.explore import Explorer
from bnnet.explore.controls import value_range
from bnnet.explore.live import LiveRun
from bnnet.explore.runs import COLUMNS
from bnnet.explore.settings import (
    DEFAULTS,
    as_code,
    config_from,
    papermill_line,
    parse_widths,
)
from bnnet.report.notebook import NOTEBOOKS

PNG = b"\x89PNG"


def images(n: int | None, scale: float = 1.0) -> Dataset:
    """Separable synthetic 32 x 32 x 3 'images' (flips and shifts need that shape)."""
    n = n or 45_000
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(10, 3072)).astype(np.float32)

    def draw(m):
        y = rng.integers(0, 10, m)
        return scale * (centres[y] + rng.normal(size=(m, 3072)).astype(np.float32)), y

    return Dataset.from_arrays(*draw(min(n, 1000)), *draw(200), *draw(200))


@pytest.fixture
def explorer():
    e = Explorer(loader=images, preload=False, redraw_seconds=0.0)
    e.set(n_s=10)
    yield e
    # a run that never stops would train on into the next tests
    assert e.close(timeout=30), "the explorer's run did not stop within 30 s of close()"


#: control -> (a value a user may set, the Config field it sets, the field's value)
CONTROLS = {
    "layers": (4, "hidden", (50, 50, 50)),
    "widths": ("20, 10", "hidden", (20, 10)),
    "bn": ("after", "bn", "after"),
    "init": ("xavier", "init", "xavier"),
    "sigma": (1e-3, "sigma", 1e-3),
    "eps": (1e-12, "eps", 1e-12),
    "lam": (1e-4, "lam", 1e-4),
    "eta_max": (1e-2, "eta_max", 1e-2),
    "n_s": (30, "n_s", 30),
    "cycles": (3, "cycles", 3),
    "optimizer": ("adam", "optimizer", "adam"),
    "flip": (True, "flip", True),
    "shift": (2, "shift", 2),
    "seed": (7, "seed", 7),
}


def test_every_control_maps_to_its_config_field():
    base, n_train = config_from({})
    assert n_train == 10_000 and base.hidden == (50, 50) and base.bn == "before"
    assert CONTROLS.keys() | {"n_train"} == DEFAULTS.keys()
    for name, (value, field, expected) in CONTROLS.items():
        values = ({"widths": "50"} if name == "layers" else
                  {"init": "normal"} if name == "sigma" else {})
        config, _ = config_from({**values, name: value})
        assert getattr(config, field) == expected, name
        assert getattr(base, field) != expected, name  # the test value is not the default
    # the sigma slider counts only with a fixed-sigma init (Config refuses it otherwise)
    assert config_from({"sigma": 1e-3})[0].sigma == base.sigma
    assert config_from({"bn": "none"})[0].bn == "none"
    assert config_from({"n_train": 45_000})[1] is None  # all images
    assert config_from({"n_s": 100, "cycles": 2})[0].log_every == 10  # 40 points a run


def test_widths_one_for_all_or_one_per_hidden_layer():
    assert parse_widths("50", 4) == (50, 50, 50)
    assert parse_widths("50, 30 20", 4) == (50, 30, 20)
    with pytest.raises(ConfigError, match="3 layers have 2 hidden widths; widths gives 3"):
        parse_widths("50, 50, 50", 3)
    with pytest.raises(ConfigError, match="whole numbers"):
        parse_widths("50, a", 3)
    with pytest.raises(ConfigError, match="has no control 'sigam' \\(did you mean 'sigma'"):
        config_from({"sigam": 1e-3})


def test_an_impossible_combination_is_a_status_line_not_a_traceback(explorer):
    explorer.set(widths="50, 50, 50")  # the 3-layer net has two hidden layers
    explorer.buttons["train"].click()
    assert not explorer.runs
    assert explorer.status.text.startswith("Cannot train: 3 layers have 2 hidden widths")
    # from code the same reason is an error, so that a script cannot read on past it
    with pytest.raises(ConfigError, match="Cannot train: 3 layers have 2 hidden widths"):
        explorer.train()
    assert not explorer.runs
    with pytest.raises(ConfigError, match=r"no control 'layer'.*'layers'"):
        explorer.set(layer=9)


def test_the_layer_count_fills_in_widths_that_no_longer_fit(explorer):
    explorer.set(layers=9)
    assert explorer.controls["widths"].value == "50, 30, 20, 20, 10, 10, 10, 10"
    explorer.set(layers=5)
    assert explorer.controls["widths"].value == "50, 50, 50, 50"
    explorer.set(widths="64")
    explorer.set(layers=6)
    assert explorer.controls["widths"].value == "64"  # one width for all still fits
    explorer.reset()
    assert explorer.values() == DEFAULTS


def test_a_run_trains_in_the_background_and_ends_in_the_status_line(explorer):
    run = explorer.train()
    assert explorer.wait(60)
    assert run.live.state == "done"
    assert explorer.status.text.startswith("Run 1 done: test accuracy")
    assert explorer.status.kind == "done" and not explorer.status.detail
    assert bytes(explorer.figure.value).startswith(PNG)
    history = run.live.history()
    assert history["step"].iloc[-1] == 20 and len(history) == 21
    layers = run.live.layers_latest
    assert list(layers["layer"]) == [1, 2, 3] and (layers["pre_std"] > 0).all()
    assert run.live.layers_at_init is not None and run.live.layers_step == 20


def test_a_frame_drawn_mid_run_differs_from_the_first_and_the_final_frames(explorer):
    frames = []  # (the step of the run's latest row, the PNG shown)
    draw = explorer.view.painter.draw

    def recorded(title, history, *rest):
        frames.append((int(history["step"].iloc[-1]), draw(title, history, *rest)))
        return frames[-1][1]

    explorer.view.painter.draw = recorded
    explorer.set(n_s=200)
    run = explorer.train()
    assert explorer.wait(60) and run.live.state == "done"
    (first_step, first), (last_step, last) = frames[0], frames[-1]
    assert first_step == 0 and last_step == 400 and last == bytes(explorer.figure.value)
    middle = [png for step, png in frames if 0 < step < 400]
    assert middle, "no frame was drawn while the run trained"
    assert all(png.startswith(PNG) and png not in (first, last) for png in middle)


def wait_for_rows(run, n: int = 1, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(run.live.rows) < n:
        assert time.monotonic() < deadline and not run.live.ended, run.live.message
        time.sleep(0.01)


def test_stop_ends_the_run_after_its_current_update(explorer):
    explorer.set(n_s=100_000)  # minutes of training
    run = explorer.train()
    wait_for_rows(run)
    assert run.live.state == "running"
    explorer.buttons["stop"].click()
    assert explorer.status.text == "Run 1: stopping..."
    assert explorer.wait(30)  # the time it takes is measured by scripts/explore_latency.py
    result = run.live.result
    assert run.live.state == "stopped" and result.stopped
    last = int(result.history["step"].iloc[-1])
    assert 0 < last < result.config.n_updates
    assert explorer.status.text.startswith(
        f"Run 1 stopped at update step {last} of 200000: test accuracy")
    assert explorer.table()["state"].tolist() == ["stopped"]
    explorer.stop()  # a second Stop, after the end, changes nothing
    assert "stopped at update step" in explorer.status.text


def gated_explorer() -> tuple[Explorer, threading.Event]:
    """An explorer whose data load waits until the returned event is set."""
    gate = threading.Event()

    def slow(n):
        gate.wait(30)
        return images(n)

    return Explorer(loader=slow, preload=False), gate


def test_stop_while_the_data_load_ends_the_run_before_it_trains():
    explorer, gate = gated_explorer()
    run = explorer.train()
    explorer.stop()
    gate.set()
    assert explorer.wait(30)
    assert run.live.state == "stopped" and run.live.result is None and not run.live.rows
    assert explorer.status.text == "Run 1 stopped before training."
    assert explorer.table()["state"].tolist() == ["stopped"]


def test_train_while_a_run_loads_or_trains_returns_at_once_and_queues_the_next():
    explorer, gate = gated_explorer()
    explorer.set(n_s=10)
    clicks = threading.Thread(target=lambda: [explorer.train() for _ in range(3)])
    clicks.start()
    clicks.join(5)
    assert not clicks.is_alive(), "Train blocked while a run was loading its data"
    gate.set()
    assert explorer.wait(60)
    assert [r.live.state for r in explorer.runs] == ["stopped", "stopped", "done"]
    assert [r.live.result is None for r in explorer.runs] == [True, True, False]


def test_train_while_a_run_trains_stops_it_and_starts_the_next(explorer):
    explorer.set(n_s=100_000)
    first = explorer.train()
    wait_for_rows(first)
    explorer.set(n_s=10)
    second = explorer.train()
    assert explorer.wait(60) and second.live.state == "done"
    assert first.live.state == "stopped" and first.live.result.stopped


def test_a_diverging_run_says_so_with_its_step():
    explorer = Explorer(loader=lambda n: images(n, scale=1e30), preload=False)
    explorer.set(n_s=10, bn="none")
    run = explorer.train()
    assert explorer.wait(60)
    assert run.live.state == "diverged" and run.live.diverged_step <= 1
    assert explorer.status.text.startswith(
        f"Run 1 diverged at update step {run.live.diverged_step}: training diverged")
    assert explorer.table()["state"].tolist() == ["diverged"]
    assert explorer.table()["note"].tolist() == [f"diverged at update step "
                                                 f"{run.live.diverged_step}"]


def test_a_bad_setting_and_a_bug_read_differently():
    explorer = Explorer(loader=_few, preload=False)
    run = explorer.train()
    assert explorer.wait(60) and run.live.state == "failed" and run.live.failure == "setting"
    assert explorer.status.text.startswith(
        "Run 1 cannot train with these settings: ValueError: batch_size=100 is larger than "
        "the training set")
    assert not explorer.status.detail  # the message says it all

    explorer = Explorer(loader=lambda n: _not_a_dataset, preload=False)
    run = explorer.train()
    assert explorer.wait(60) and run.live.state == "failed" and run.live.failure == "bug"
    text = explorer.status.text
    assert text.startswith("Run 1 failed with an unexpected error, a bug in bnnet "
                           "(AttributeError: ") and text.endswith("the traceback is below.")
    assert text.count(". ") == 0  # one sentence
    assert explorer.status.detail.startswith("Traceback (most recent call last)")
    assert "<details" in explorer.status.value and "<summary>" in explorer.status.value
    note = explorer.table()["note"].iloc[0]
    assert note.startswith("bug: AttributeError")
    assert 'class="bnnet-failed"' in explorer.table_view.value


_not_a_dataset = object()


def test_data_that_cannot_be_loaded_fail_in_the_status_line():
    def missing(n):
        raise bnnet.DataError("CIFAR-10 not found in /nowhere; set BNNET_DATA_DIR")

    explorer = Explorer(loader=missing, preload=True)
    deadline = time.monotonic() + 10
    while "Cannot load the data" not in explorer.status.text:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    run = explorer.train()
    assert explorer.wait(10) and run.live.state == "failed" and run.live.failure == "data"
    assert explorer.status.text.startswith(
        "Run 1 could not load its data: DataError: CIFAR-10 not found in /nowhere")
    assert explorer.table()["note"].tolist() == [
        "no data: DataError: CIFAR-10 not found in /nowhere; set BNNET_DATA_DIR"]
    assert [n for _, n in explorer.picker.options] == []  # no curves to overlay
    with pytest.raises(ConfigError, match="run 1 has no curves"):
        explorer.select(1)


def _few(n):
    data = images(n)
    return Dataset.from_arrays(data.X_train[:50], data.y_train[:50], data.X_val, data.y_val)


def test_a_value_outside_a_controls_range_is_refused(explorer):
    for name, value, message in (("layers", 30, "2 to 20"), ("sigma", 1e-7, "1e-05 to 1"),
                                 ("n_train", 500, "1000 to 45000"),
                                 ("bn", "middle", "one of 'none'")):
        before = explorer.values()[name]
        with pytest.raises(ConfigError, match=message):
            explorer.set(**{name: value})
        assert explorer.values()[name] == before  # refused, not clamped
    with pytest.raises(ConfigError, match="n_train=500: between 1,000 and 45,000"):
        config_from({"n_train": 500})


def test_an_error_of_the_view_is_kept_and_the_run_goes_on():
    data = images(1000)

    def broken(run):
        raise RuntimeError("no display")

    run = LiveRun(Config(hidden=(20,), n_s=10, cycles=1, log_every=5), data,
                  on_update=broken).run()
    assert run.state == "done" and run.view_error == "RuntimeError: no display"
    assert run.view_traceback.startswith("Traceback") and "no display" in run.view_traceback


def test_a_view_that_fails_says_so_in_the_status_line_and_the_table(explorer):
    seen = []

    def broken(title, history, *rest):
        if len(history) > 3:
            raise RuntimeError("the painter broke")
        return PNG

    explorer.view.painter.draw = broken
    explorer.status.widget.observe(lambda change: seen.append(explorer.status.text), "value")
    run = explorer.train()
    assert explorer.wait(60) and run.live.state == "done"  # the run goes on
    assert run.live.view_error == "RuntimeError: the painter broke"
    failed = [t for t in seen if "the view failed" in t]
    assert failed[0] == ("Run 1: the view failed (RuntimeError: the painter broke); the run "
                         "goes on and its figure stays at its last frame.")
    text = explorer.status.text
    assert text.startswith("Run 1 done: test accuracy") and text.endswith(
        "Its view failed (RuntimeError: the painter broke): the figure stopped at its last "
        "frame; the traceback is below.")
    assert explorer.status.kind == "error" and "the painter broke" in explorer.status.detail
    assert explorer.table()["note"].tolist() == ["view failed: RuntimeError: the painter broke"]
    assert 'class="bnnet-failed"' in explorer.table_view.value


def test_a_live_run_starts_once():
    run = LiveRun(Config(hidden=(20,), n_s=10, cycles=1), images(1000)).start()
    with pytest.raises(RuntimeError, match="already started; a run trains once"):
        run.start()
    with pytest.raises(RuntimeError, match="already started"):
        run.run()
    assert run.wait(60) and run.state == "done"
    steps = [row["step"] for row in run.rows]
    assert steps == sorted(set(steps)) and steps[-1] == 20  # one run's rows, once each


def test_the_status_line_belongs_to_the_newest_run():
    """The old overwrite: run 1's thread ended (writing "Run 1 stopped...") after Train had
    started run 2, whose data were still loading, so the line showed a stopped run and
    nothing happening."""
    gate = threading.Event()
    loads = []

    def loader(n):
        loads.append(n)
        if len(loads) > 1:  # run 2 loads slowly
            gate.wait(30)
        return images(n)

    explorer = Explorer(loader=loader, preload=False, redraw_seconds=0.0)
    try:
        explorer.set(n_s=100_000)
        first = explorer.train()
        wait_for_rows(first)
        explorer.set(n_s=10)
        second = explorer.train()
        assert first.live.wait(30) and first.live.state == "stopped"
        assert explorer.status.text == "Run 2: loading the data (10,000 training images)..."
        assert explorer.table()["state"].tolist() == ["stopped", "waiting"]  # run 1 is listed
        gate.set()
        assert explorer.wait(60) and second.live.state == "done"
        assert explorer.status.text.startswith("Run 2 done")
    finally:
        gate.set()
        explorer.close(timeout=30)


def test_a_refused_train_holds_the_status_line_while_the_run_trains_on(explorer):
    """The old overwrite: Train with a bad setting while a run trained said "Cannot train:
    ...", and the run's next progress update wrote "Run 1 training..." over it."""
    explorer.set(n_s=20_000)  # 40 progress updates, 1,000 updates apart, over many seconds
    training = threading.Event()
    explorer.status.widget.observe(
        lambda _: explorer.status.text.startswith("Run 1 training") and training.set(), "value")
    run = explorer.train()
    assert training.wait(30)  # the run reports its progress in the line
    explorer.set(widths="50, 50, 50")  # the 3-layer net has two hidden layers
    with pytest.raises(ConfigError, match=r"^Cannot train: 3 layers have 2 hidden widths"):
        explorer.train()
    refused, shown = explorer.status.text, explorer.status.value
    assert refused.startswith("Cannot train: 3 layers have 2 hidden widths")
    wait_for_rows(run, len(run.live.rows) + 5)  # five more progress updates of run 1
    assert explorer.status.text == refused and explorer.status.kind == "error"
    # the run that was kept trains on, and reports beneath the refusal: its sentence moved
    # there when the refusal took the line, and it goes on reporting
    assert run.live.state == "running" and not run.live.stopping
    assert "Run 1 training: epoch" in shown
    assert explorer.status.aside.startswith("Run 1 training: epoch")
    assert explorer.status.aside not in shown
    assert explorer.status.value.index("Cannot train") < explorer.status.value.index(
        "Run 1 training")
    explorer.stop()  # acting on the run gives it the line back
    assert explorer.status.text == "Run 1: stopping..." and not explorer.status.aside
    assert explorer.wait(30)
    assert explorer.status.text.startswith("Run 1 stopped at update step")


def test_trains_error_is_the_refusal_itself_never_the_status_lines_text():
    """train() raised ConfigError(status.text): a run's thread that wrote the line between
    the refusal and the raise put its own progress into the error. Here the run's write is
    made at the worst moment, when the refusal has just been shown."""
    explorer, gate = gated_explorer()  # run 1 waits for its data: it owns the line
    try:
        explorer.train()

        def the_run_reports(_):  # what run 1's thread says at its next logged step
            if explorer.status.text.startswith("Cannot train"):
                explorer.status.say("Run 1 training: epoch 0.10 of 2", owner=1)

        explorer.status.widget.observe(the_run_reports, "value")
        explorer.set(widths="50, 50, 50")
        with pytest.raises(ConfigError) as refused:
            explorer.train()
        assert str(refused.value) == ("Cannot train: 3 layers have 2 hidden widths; widths "
                                      "gives 3 (50, 50, 50). Give 2 numbers, or one for all")
        assert explorer.status.text == str(refused.value)
        assert explorer.status.aside == "Run 1 training: epoch 0.10 of 2"
    finally:
        gate.set()
        explorer.close(timeout=30)


def test_a_preload_that_fails_late_leaves_the_runs_status_line_alone():
    gate = threading.Event()

    def loader(n):
        if threading.current_thread().name == "bnnet-explorer-preload":
            gate.wait(30)
            raise bnnet.DataError("gone")
        return images(n)

    explorer = Explorer(loader=loader, preload=True)
    explorer.set(n_s=10)
    run = explorer.train()
    assert explorer.wait(60) and run.live.state == "done"
    gate.set()
    deadline = time.monotonic() + 5
    while any(t.name == "bnnet-explorer-preload" for t in threading.enumerate()):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert explorer.status.text.startswith("Run 1 done")


def test_the_runs_table_and_the_overlay(explorer):
    explorer.train()
    assert explorer.wait(60)
    explorer.set(layers=9, init="normal", sigma=1e-3)
    explorer.train()
    assert explorer.wait(60)
    table = explorer.table()
    assert list(table.columns) == list(COLUMNS)
    assert table["run"].tolist() == [1, 2] and table["layers"].tolist() == [3, 9]
    assert table["init"].tolist() == ["he", "sigma 0.001"]
    assert table["state"].tolist() == ["done", "done"]
    assert table["test %"].between(0, 100).all() and (table["seconds"] > 0).all()
    assert "<table" in explorer.table_view.value
    assert [label for label, _ in explorer.picker.options] == [
        "run 1: 3×50, BN, 0.2 epochs", "run 2: 9 layers 50→10, BN, σ 0.001, 0.2 epochs"]
    assert [n for _, n in explorer.picker.options] == [1, 2]
    assert bytes(explorer.overlay.value) == b""
    explorer.select(1, 2)
    assert bytes(explorer.overlay.value).startswith(PNG)
    one = bytes(explorer.overlay.value)
    explorer.select(2)
    assert bytes(explorer.overlay.value) != one
    explorer.train()  # a third run keeps the selection and its overlay
    assert explorer.wait(60)
    assert explorer.picker.value == (2,) and explorer.overlay.layout.display is None
    assert [n for _, n in explorer.picker.options] == [1, 2, 3]


def test_as_code_names_only_what_differs_from_the_defaults():
    config = Config(hidden=(20,), sigma=1e-3, init="normal", n_s=10, log_every=1)
    code = as_code(config, 1000)
    assert "bnnet.load_cifar10(n_train=1000)" in code
    assert ("bnnet.Config(hidden=[20], init='normal', sigma=0.001, n_s=10, log_every=1)"
            in code)
    assert "bnnet.load_cifar10('/data')" in as_code(config, None, "/data")


def test_the_papermill_line_uses_the_notebooks_own_parameters():
    course = config_from({"n_s": 100, "seed": 3})[0]
    line = papermill_line(course, 10_000)
    assert line.startswith("papermill notebooks/02_three_vs_nine_layers.ipynb")
    sigma = config_from({"layers": 9, "widths": "50, 30, 20, 20, 10, 10, 10, 10",
                         "init": "normal", "sigma": 1e-3, "bn": "none"})[0]
    assert papermill_line(sigma, None).startswith("papermill notebooks/04_init_sensitivity")
    for config, n_train in ((course, 10_000), (sigma, None)):
        words = shlex.split(papermill_line(config, n_train))
        notebook = words[1].split("/")[-1].removesuffix(".ipynb")
        names = [words[i + 1].split(":")[0] for i, w in enumerate(words) if w in ("-p", "-y")]
        assert names and set(names) <= NOTEBOOKS[notebook].parameters.keys()
    assert papermill_line(config_from({"optimizer": "adam"})[0], None) is None
    assert papermill_line(config_from({"widths": "64, 64"})[0], None) is None
    assert papermill_line(config_from({"eps": 1e-8})[0], None) is None


def test_as_code_reproduces_the_runs_final_accuracy_exactly(real_data_dir):
    explorer = Explorer(str(real_data_dir), preload=False)
    explorer.set(n_train=1000, n_s=20, layers=4, widths="30", flip=True)
    run = explorer.train()
    assert explorer.wait(120) and run.live.state == "done"
    code = explorer.code(1)
    assert f"# run 1: {run.live.result.test_accuracy:.2%}" in code
    namespace = {}
    exec(code.split("\n\n# a notebook")[0], namespace)  # the code shown to users
    assert namespace["result"].test_accuracy == run.live.result.test_accuracy
    for again, shown in zip(namespace["result"].params, run.live.result.params, strict=True):
        for key in shown:
            np.testing.assert_array_equal(again[key], shown[key], err_msg=key)


def test_a_live_run_can_be_watched_from_another_thread():
    data = images(1000)
    updates, seen = [], set()
    config = Config(hidden=(20,), n_s=200, cycles=1, log_every=5)
    run = LiveRun(config, data,
                  on_update=lambda r: updates.append((len(r.rows), r.finished is not None)))
    assert run.state == "waiting" and run.progress == 0 and run.remaining is None
    run.start()
    while not run.ended:  # this thread reads the rows while the run's thread appends
        seen.add(len(run.rows))
    assert run.wait(60) and run.state == "done" and run.progress == 1
    assert len(seen) > 2
    # every logged step, then once more at the end, before wait() returns
    assert updates == [(n, False) for n in range(1, 82)] + [(81, True)]
    assert bnnet.fit(config, data, progress=False).test_accuracy == run.result.test_accuracy


def test_each_run_draws_its_first_frame_at_once_then_at_most_every_redraw_seconds():
    explorer = Explorer(loader=images, preload=False, redraw_seconds=600)
    frames = []
    draw = explorer.view.painter.draw
    explorer.view.painter.draw = lambda title, history, *rest: frames.append(
        (title[:5], len(history))) or draw(title, history, *rest)
    explorer.set(n_s=10)
    for _ in range(2):
        explorer.train()
        assert explorer.wait(60)
    # step 0 and the end of each run; nothing in between within 600 s
    assert frames == [("run 1", 1), ("run 1", 21), ("run 2", 1), ("run 2", 21)]


def test_the_runs_table_sorts_and_goes_away_as_csv(explorer, tmp_path):
    for seed in (0, 1, 2):
        explorer.set(seed=seed)
        explorer.train()
        assert explorer.wait(60)
    table = explorer.table()
    explorer.sort_by.value = "test %"
    explorer.descending.value = True
    shown = [int(r.split("<td>")[1].split("<")[0])
             for r in explorer.table_view.value.split("<tr")[2:]]
    assert shown == table.sort_values("test %", ascending=False, kind="stable")["run"].tolist()
    link = explorer.csv_link.value
    assert 'download="explorer_runs.csv"' in link
    csv = base64.b64decode(link.split("base64,")[1].split('"')[0]).decode()
    assert pd.read_csv(io.StringIO(csv))["run"].tolist() == shown
    path = explorer.save_table(tmp_path / "runs.csv")
    saved = pd.read_csv(path)
    assert saved["run"].tolist() == [1, 2, 3]
    assert saved["test %"].round(6).tolist() == table["test %"].round(6).tolist()


def test_sets_docstring_lists_every_control_with_its_range(explorer):
    lines = Explorer.set.__doc__.splitlines()
    for name, control in explorer.controls.items():
        line = next((line.strip() for line in lines if line.strip().startswith(name + " ")),
                    None)
        assert line is not None, f"Explorer.set's docstring does not list {name}"
        taken = value_range(control)
        if taken != "text":
            assert taken in line, f"{name}: the docstring says {line!r}, the control {taken}"
        default = repr(DEFAULTS[name]) if isinstance(DEFAULTS[name], str) else \
            f"{DEFAULTS[name]:g}" if isinstance(DEFAULTS[name], float) else str(DEFAULTS[name])
        assert line.endswith(default) or f'"{DEFAULTS[name]}"' in line, (name, line)
