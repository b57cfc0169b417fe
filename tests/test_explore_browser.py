"""The explorer in a real browser: JupyterLab on 127.0.0.1 and Debian's headless Chromium,
driven by Playwright, as a student uses it (make setup installs both)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import stop_process_group
from tests.report_checks import ROOT
from tests.test_lab import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# no first-run work and no calls to Google's services, which this network refuses
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage"]
#: where the test leaves its screenshot (the README's is figures/explorer/explorer.png:
#: BNNET_SCREENSHOT=figures/explorer/explorer.png make test PYTEST_ARGS="-k browser")
SCREENSHOT_ENV = "BNNET_SCREENSHOT"


@pytest.fixture
def jupyterlab(tmp_path, real_data_dir):
    """JupyterLab from the venv on 127.0.0.1, a free port and a token, serving a copy of
    00_explore; stopped afterwards, pass or fail."""
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / "00_explore.ipynb", root)
    port, token = free_port(), secrets.token_hex(16)
    news = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces")}
    command = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    url = f"http://127.0.0.1:{port}"
    with open(tmp_path / "lab.log", "w") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "lab.log").read_text()) from None
                time.sleep(0.3)
        yield f"{url}/lab/tree/00_explore.ipynb?token={token}"
    finally:
        stop_process_group(proc)


@pytest.fixture
def page(jupyterlab, tmp_path):
    """A headless Chromium page on the explorer notebook; the browser is closed afterwards
    (pytest does not tell a fixture that its test failed: the test itself saves
    failure.png)."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail("no chromium: make setup installs Debian's chromium package")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2200})
            page.set_default_timeout(120_000)
            page.goto(jupyterlab)
            yield page
        finally:
            browser.close()


def status(page) -> str:
    return page.inner_text(".bnnet-status")


def wait_for_status(page, text: str, timeout: float = 120) -> None:
    page.wait_for_function(
        "text => document.querySelector('.bnnet-status').innerText.includes(text)",
        arg=text, timeout=timeout * 1000)


def type_into_readout(page, control: str, value: str) -> None:
    """Type a value into a slider's readout, as a user edits it."""
    readout = page.locator(f".bnnet-{control} .widget-readout")
    readout.fill(value)  # the readout is contenteditable
    readout.press("Enter")


def test_a_student_trains_stops_and_sees_the_view_change(page, tmp_path):
    try:
        train_then_stop(page, tmp_path)
    except BaseException:
        page.screenshot(path=str(tmp_path / "failure.png"))  # what the browser showed
        raise


def train_then_stop(page, tmp_path: Path) -> None:
    # run the notebook once its kernel is up
    page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget")
    page.evaluate("""async () => {
        const panel = window.jupyterapp.shell.currentWidget;
        await panel.context.ready;
        await panel.sessionContext.ready;
        await window.jupyterapp.commands.execute('notebook:run-all-cells');
    }""")
    page.wait_for_selector(".bnnet-explorer")

    # 9 layers, fixed sigma 1e-3, BN before the ReLU
    type_into_readout(page, "layers", "9")
    page.wait_for_function("document.querySelector('.bnnet-widths input').value"
                           " === '50, 30, 20, 20, 10, 10, 10, 10'")
    page.select_option(".bnnet-init select", label="fixed sigma")
    page.wait_for_selector(".bnnet-sigma .widget-readout[contenteditable=true]")  # enabled
    type_into_readout(page, "sigma", "1e-3")
    page.wait_for_function(
        "document.querySelector('.bnnet-sigma .widget-readout').innerText.startsWith('1.0e-3')",
        timeout=10_000)
    page.click(".bnnet-bn button:has-text('BN → ReLU')")

    page.click(".bnnet-train")
    figure = page.locator(".bnnet-figure")
    page.wait_for_function("document.querySelector('.bnnet-figure').getAttribute('src')")
    early = figure.screenshot()
    wait_for_status(page, "test accuracy")
    assert status(page).startswith("Run 1 done: test accuracy"), status(page)
    assert "\tsigma 0.001\t" in page.inner_text(".bnnet-explorer table")
    late = figure.screenshot()
    assert early != late, "the curve figure did not change while the run trained"
    shot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "explorer.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.locator(".bnnet-explorer").screenshot(path=str(shot))

    # a long second run, stopped
    page.fill(".bnnet-n-s input", "100000")
    page.keyboard.press("Enter")
    page.click(".bnnet-train")
    wait_for_status(page, "Run 2 training")
    pressed = time.monotonic()
    page.click(".bnnet-stop")
    wait_for_status(page, "Run 2 stopped at update step", timeout=10)
    assert time.monotonic() - pressed < 2.0, "the run went on for 2 s after Stop"
    assert shot.stat().st_size > 10_000
