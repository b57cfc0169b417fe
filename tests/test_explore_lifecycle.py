"""Explorers never outlive their cell or their kernel (bnnet.explore.lifecycle): a new
explorer closes the older ones, close() stops a run, the kernel's shutdown stops it too."""

from __future__ import annotations

import json
import os
import textwrap
import threading
import time
from pathlib import Path

import pytest

from bnnet.core.config import ConfigError
from bnnet.explore import Explorer, lifecycle
from tests.test_explore import images, wait_for_rows

ROOT = Path(__file__).resolve().parents[1]


def long_run(explorer: Explorer):
    explorer.set(n_s=100_000)  # minutes of training
    run = explorer.train()
    wait_for_rows(run)
    return run


def test_a_new_explorer_stops_the_run_of_the_old_one_as_a_cell_run_again_does():
    old = Explorer(loader=images, preload=False)
    first = long_run(old)
    started = time.perf_counter()
    new = Explorer(loader=images, preload=False)  # the cell, run again
    try:
        assert first.live.ended and first.live.state == "stopped"
        assert first.live.finished - started < 2.0  # LiveRun's clock is perf_counter
        step = int(first.live.result.history["step"].iloc[-1])
        assert old.closed == lifecycle.REPLACED
        assert old.status.text.startswith(
            f"This explorer is closed: {lifecycle.REPLACED}: Run 1 stopped at update step")
        assert new.status.text.endswith(
            f"The explorer this cell made before is closed: run 1 was stopped at update "
            f"step {step:,}.")
        assert lifecycle.open_explorers() == [new]
        # the old widget refuses to train; the new one trains alone
        assert old.buttons["train"].disabled
        with pytest.raises(ConfigError, match="Cannot train: This explorer is closed"):
            old.train()
        assert old.status.text.startswith("Cannot train: This explorer is closed")
        new.set(n_s=10)
        run = new.train()
        assert new.wait(60) and run.live.state == "done"
    finally:
        new.close()


def test_close_stops_the_run_and_refuses_new_ones():
    explorer = Explorer(loader=images, preload=False)
    run = long_run(explorer)
    assert explorer.close(timeout=30)
    assert run.live.state == "stopped" and explorer.closed == "closed"
    assert explorer.status.text.startswith("This explorer is closed: closed: Run 1 stopped at")
    assert explorer not in lifecycle.open_explorers()
    assert explorer.close() and explorer.closed == "closed"  # a second close changes nothing
    with pytest.raises(ConfigError, match="Cannot train: This explorer is closed"):
        explorer.train()
    explorer.replay("epsilon")  # nor does a preset train
    assert len(explorer.runs) == 1


def test_close_without_a_run_says_so():
    explorer = Explorer(loader=images, preload=False)
    assert explorer.close(timeout=0)
    assert explorer.status.text == "This explorer is closed: closed."


def test_close_stops_and_waits_for_every_thread_the_explorer_started():
    """The preload, a replay and its run, each held up where it cannot be stopped (the
    preload's load, the run's load): close() waits for all three, and stops what it can."""
    before = set(threading.enumerate())
    preload, load, loading = threading.Event(), threading.Event(), threading.Event()

    def loader(n):
        if threading.current_thread().name == "bnnet-explorer-preload":
            assert preload.wait(30)
        else:  # the replay's first run
            loading.set()
            assert load.wait(30)
        return images(n)

    explorer = Explorer(loader=loader, preload=True)
    explorer.replay("depth")
    assert loading.wait(30)
    started = {t.name for t in set(threading.enumerate()) - before}
    assert started == {"bnnet-explorer-preload", "bnnet-explorer-replay", "bnnet-live-run"}
    assert not explorer.close(timeout=0)  # nothing could end yet
    preload.set()
    load.set()
    assert explorer.close(timeout=30)  # closing again waits again
    assert [t.name for t in set(threading.enumerate()) - before if t.is_alive()] == []
    assert [r.live.state for r in explorer.runs] == ["stopped"]  # the replay went no further
    assert explorer.status.text == "This explorer is closed: closed: Run 1 stopped before " \
                                   "training."


@pytest.mark.slow
def test_the_kernels_shutdown_stops_the_run(tmp_path):
    """A Jupyter kernel (this venv's Python) trains a long run and is asked to shut down, as
    JupyterLab's "Shut Down Kernel" asks: the explorer's atexit hook stops the run before
    the interpreter goes, and the kernel exits at once."""
    manager = pytest.importorskip("jupyter_client.manager")
    out = tmp_path / "states.json"
    km = manager.KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)})
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        code = textwrap.dedent(f"""
            import atexit, json
            states = {{}}
            # atexit calls its hooks last-registered first: this one, registered before
            # bnnet.explore is imported, runs after the explorer's hook
            atexit.register(lambda: open({str(out)!r}, "w").write(json.dumps(
                {{**states, "after": run.live.state}})))
            from bnnet.explore import Explorer
            from tests.test_explore import images, wait_for_rows
            explorer = Explorer(loader=images, preload=False)
            explorer.set(n_s=100_000)
            run = explorer.train()
            wait_for_rows(run)
            # and this one before it
            atexit.register(lambda: states.update(before=run.live.state))
        """)
        reply = client.execute_interactive(code, timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]
        started = time.monotonic()
        km.shutdown_kernel(now=False)  # a shutdown request, as JupyterLab sends
        took = time.monotonic() - started
    finally:
        client.stop_channels()
        if km.is_alive():
            km.shutdown_kernel(now=True)
    assert json.loads(out.read_text()) == {"before": "running", "after": "stopped"}
    assert took < 10, f"the kernel took {took:.1f} s to shut down"
