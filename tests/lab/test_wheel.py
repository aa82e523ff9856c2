"""`pip install` of plait's wheel gives JupyterLab the prebuilt extension, enabled.

The wheel is built from this checkout (the extension already built by `make
install`) and unpacked the way an installer lays it out under a prefix (its
`.data/data/` tree goes to the prefix itself). Installing it for real would
replace the editable install the tests run from. Jupyter is pointed at that
prefix, so what it finds there came from the wheel.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_the_wheel_installs_the_lab_and_server_extensions_enabled(tmp_path: Path) -> None:
    wheels, prefix = tmp_path / "wheels", tmp_path / "prefix"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                    "-q", "-w", str(wheels)], check=True, capture_output=True, timeout=300)
    wheel = next(wheels.glob("plait-*.whl"))
    site = prefix / "lib" / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            data = re.match(r"[^/]+\.data/data/(.*)", name)
            target = prefix / data.group(1) if data else site / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(name))
    env = {**os.environ, "PYTHONPATH": str(site), "JUPYTER_PATH": str(prefix / "share" / "jupyter"),
           "JUPYTER_CONFIG_PATH": str(prefix / "etc" / "jupyter"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}

    labext = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"], env=env,
                            capture_output=True, text=True, timeout=120)
    listing = labext.stdout + labext.stderr
    section = listing.split(str(prefix / "share" / "jupyter" / "labextensions"))[1]
    assert re.search(r"plait-jupyterlab v[\d.]+ \S*enabled", section.splitlines()[1]), listing

    # pip puts this under sys.prefix/etc/jupyter, which every Jupyter server reads
    config = json.loads((prefix / "etc/jupyter/jupyter_server_config.d/plait.json").read_text())
    assert config == {"ServerApp": {"jpserver_extensions": {"plait.lab": True}}}
    assert str(site / "plait" / "lab") in subprocess.run(
        [sys.executable, "-c", "import plait.lab; print(plait.lab.__file__)"], env=env, capture_output=True,
        text=True).stdout
