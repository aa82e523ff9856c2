"""`plait dashboard`: write a notebook's or an execution's dashboard (`--out`), and what it refuses.

The preview itself (`panel serve` in the foreground) is what the served tests of
this folder run through `plait.dashboards.preview`; here the command's files and
messages are checked, and `--execution` reads the outputs of a run on a real server.
"""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from plait.cli import main

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "dashboard.ipynb"
RUN = ROOT / "tests" / "resources" / "dashboards" / "scoring_run.py"


def test_out_writes_the_app_without_serving(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["dashboard", str(NOTEBOOK), "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    app = tmp_path / "site" / "app.py"
    assert f"wrote {app}; serve it with: panel serve {app}" in result.output
    assert "note: cell 1: `%load_ext plait` runs only in a kernel, left out" in result.output
    source = app.read_text()
    ast.parse(source)
    assert "notebook_page(CELLS, PARAMETERS, title='Noisy signal'" in source


def test_the_preview_serves_until_interrupted_and_cleans_up(tmp_path: Path) -> None:
    from plait.dashboards import free_port

    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "plait", "dashboard", str(NOTEBOOK), "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        lines = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.stdout is not None:
            line = process.stdout.readline()
            lines.append(line)
            if "Ctrl-C stops it" in line or not line:
                break
        said = "".join(lines)
        assert f"Noisy signal: http://localhost:{port}/app  (Ctrl-C stops it)" in said, said
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/app", timeout=30) as response:
            assert response.status == 200 and "<title>Noisy signal</title>" in response.read().decode()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("plait-dashboard-")]
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and rest.strip().endswith("stopped")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("plait-dashboard-")]
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/app", timeout=5)
    assert re.search(r"note: cell 1: `%load_ext plait`", said)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a NOTEBOOK or --execution ID (one of them)"),
        ([str(NOTEBOOK), "--execution", "abc"], "give a NOTEBOOK or --execution ID (one of them)"),
        ([str(NOTEBOOK), "--deploy", "--out", "site"], "--deploy serves the dashboard on the backend; --out "
                                                       "only writes it: give one"),
        (["missing.ipynb"], "'missing.ipynb' does not exist"),
        ([str(NOTEBOOK), "--port", "0"], "0 is not in the range 1<=x<=65535"),
    ],
)
def test_what_the_command_refuses_it_says_plainly(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["dashboard", *args], env={"COLUMNS": "200"})
    assert result.exit_code != 0
    assert message in " ".join(result.output.split()), result.output


def test_a_notebook_with_nothing_to_show_fails_with_the_fix(tmp_path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    path = tmp_path / "plain.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), str(path))
    result = CliRunner().invoke(main, ["dashboard", str(path), "--out", str(tmp_path / "site")],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "DashboardError" in said and "tag the cells to show with 'dashboard'" in said
    assert not (tmp_path / "site").exists()


@pytest.mark.slow
def test_execution_writes_the_dashboard_of_a_backend_runs_outputs(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "backend"))
    from server_fixture import running_server

    with running_server(tmp_path / "home") as server, server.remote() as remote:
        remote.register(str(RUN), version="v1")
        run = remote.execute(remote.fetch_workflow("scoring_run.weekly", "v1"), {"weeks": 3}, wait=True,
                             timeout=120)
        assert run.phase == "SUCCEEDED", run.error
        options = {"remote": {"endpoint": server.url, "token": server.token, "autostart": False}}
        result = CliRunner().invoke(main, ["dashboard", "--execution", run.id, "--out", str(tmp_path / "site")],
                                    obj=options)
    assert result.exit_code == 0, result.output
    source = (tmp_path / "site" / "app.py").read_text()
    assert f"Outputs of execution {run.id}" in source
    data = tmp_path / "site" / "data"
    assert sorted(p.name for p in data.iterdir()) == ["o0.pkl", "o1.json", "o2.md"]
    assert list(pd.read_pickle(data / "o0.pkl").signups) == [3, 13, 23]
    assert "the last week had 23" in (data / "o2.md").read_text()
