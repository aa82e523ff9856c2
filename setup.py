"""Map the folders at the repository root onto the `plait` import names.

`pyproject.toml` holds the metadata; this file tells setuptools that `plait`
lives in `kernel/`, `plait.backend` in `backend/`, `plait.workspaces` in
`workspaces/` and `plait.lab` (the Jupyter server extension) in
`jupyter_ext/server/`, finding subpackages in each so that new ones are never
silently dropped from the wheel. It also ships the built JupyterLab extension
(`jupyter_ext/labextension/`, built with npm when missing) and the config that
enables the server extension.
"""

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent.resolve()
ROOTS = {"plait": "kernel", "plait.backend": "backend", "plait.workspaces": "workspaces",
         "plait.lab": "jupyter_ext/server"}
LABEXT = "jupyter_ext/labextension"
LABEXT_NAME = "plait-jupyterlab"

packages: list[str] = []
package_dir: dict[str, str] = {}
for name, folder in ROOTS.items():
    package_dir[name] = folder
    packages.append(name)
    for sub in find_packages(folder):
        packages.append(f"{name}.{sub}")
        package_dir[f"{name}.{sub}"] = f"{folder}/{sub.replace('.', '/')}"


def _build_labextension() -> None:
    """Build the lab extension when the checkout has no build yet (needs Node 18+ and npm)."""
    if (HERE / LABEXT / "package.json").exists() or os.environ.get("PLAIT_SKIP_LABEXTENSION"):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "plait: building the JupyterLab extension needs Node.js 18+ and npm, and neither was "
            "found; install them (e.g. `apt-get install nodejs npm`) or set "
            "PLAIT_SKIP_LABEXTENSION=1 to install without the lab panels"
        )
    ext = HERE / "jupyter_ext"
    subprocess.run([npm, "ci" if (ext / "package-lock.json").exists() else "install"], cwd=ext, check=True)
    subprocess.run([npm, "run", "build"], cwd=ext, check=True)


def _data_files() -> list[tuple[str, list[str]]]:
    _build_labextension()
    out: dict[str, list[str]] = {}
    root = HERE / LABEXT
    for path in sorted(root.rglob("*")) if root.exists() else []:
        if path.is_file():
            dest = Path("share/jupyter/labextensions", LABEXT_NAME, path.parent.relative_to(root))
            out.setdefault(str(dest), []).append(str(path.relative_to(HERE)))
    out["etc/jupyter/jupyter_server_config.d"] = ["jupyter_ext/plait.json"]
    return sorted(out.items())


setup(packages=packages, package_dir=package_dir, data_files=_data_files())
