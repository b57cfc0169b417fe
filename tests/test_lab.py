"""JupyterLab, the interactive half: a Jupyter server from the project's venv offers the
"Python (bnnet)" kernel, and a notebook runs through that server's kernel."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from jupyter_client import BlockingKernelClient
from jupyter_client.channels import HBChannel

from tests.conftest import stop_process_group, write_fake_cifar
from tests.report_checks import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, token: str, runtime: Path):
        self.url, self.token, self.runtime = url, token, runtime

    def api(self, path: str, method: str = "GET", body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}/api/{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")


@pytest.fixture
def jupyter_server(tmp_path):
    """`jupyter server` from the venv on 127.0.0.1 and a free port; stopped afterwards."""
    port, token = free_port(), secrets.token_hex(16)
    runtime = tmp_path / "runtime"
    data = write_fake_cifar(tmp_path / "data", n_per_batch=1700)
    # as from a fresh shell: no BLAS setting inherited from this process (the kernelspec's)
    env = {**{k: v for k, v in os.environ.items()
              if k not in ("OPENBLAS_CORETYPE", "BNNET_BLAS_CORETYPE")},
           "JUPYTER_RUNTIME_DIR": str(runtime),
           "BNNET_DATA_DIR": str(data), "BNNET_CACHE_DIR": str(tmp_path / "cache"),
           "BNNET_FIGURES_DIR": str(tmp_path / "figures"),
           "BNNET_RESULTS_DIR": str(tmp_path / "results")}
    command = [str(Path(sys.executable).parent / "jupyter"), "server", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={ROOT / 'notebooks'}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    with open(tmp_path / "server.log", "w") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", token, runtime)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                server.api("status")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "server.log").read_text()) from None
                time.sleep(0.3)
        yield server
    finally:
        stop_process_group(proc)


class PatientHeartbeat(HBChannel):
    """A heartbeat that waits 30 s for the kernel's answer, not 1 s: the bnnet kernel imports
    bnnet before ipykernel starts its heartbeat, which takes more than a second on a loaded
    machine (the suite on 2 cores), and a client that misses one beat while it waits for
    ``kernel_info`` takes the kernel for dead ("Kernel died before replying")."""

    time_to_dead = 30.0


def run_cells(client: BlockingKernelClient, sources: list[str]) -> list[dict]:
    """Execute code through the kernel's channels; return every output message content."""
    outputs = []

    def keep(msg):
        if msg["msg_type"] in ("display_data", "execute_result", "stream", "error"):
            outputs.append({"msg_type": msg["msg_type"], **msg["content"]})

    for source in sources:
        reply = client.execute_interactive(source, output_hook=keep, timeout=600)
        assert reply["content"]["status"] == "ok", outputs[-1:]
    return outputs


@pytest.mark.slow
def test_jupyter_server_offers_the_bnnet_kernel_and_runs_a_notebook(jupyter_server):
    specs = jupyter_server.api("kernelspecs")["kernelspecs"]
    assert specs["bnnet"]["spec"]["display_name"] == "Python (bnnet)"
    assert "02_three_vs_nine_layers.ipynb" in {
        f["name"] for f in jupyter_server.api("contents")["content"]}

    kernel = jupyter_server.api("kernels", "POST", {"name": "bnnet"})
    try:
        client = BlockingKernelClient(
            connection_file=str(jupyter_server.runtime / f"kernel-{kernel['id']}.json"),
            hb_channel_class=PatientHeartbeat)
        client.load_connection_file()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        nb = nbformat.read(ROOT / "notebooks" / "02_three_vs_nine_layers.ipynb", as_version=4)
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        # the parameters cell, then what papermill would inject, then the rest
        outputs = run_cells(client, [code[0], "quick = True\nn_jobs = 1", *code[1:]])
        # the notebook imported pandas (NumPy) before bnnet: the kernelspec pinned the kernel
        kernel_line = run_cells(client, ["from bnnet import blas\nprint(blas.describe())"])
        client.stop_channels()
    finally:
        jupyter_server.api(f"kernels/{kernel['id']}", "DELETE")
    assert not [o for o in outputs if o["msg_type"] == "error"]
    printed = "".join(o.get("text", "") for o in kernel_line)
    assert "Haswell kernel (pinned by bnnet" in printed, printed
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("<table" in h and "3-layer" in h for h in html)  # the tables appear
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2  # and the figures
