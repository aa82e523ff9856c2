"""Map the folders at the repository root onto the `plait` import names.

`pyproject.toml` holds the metadata; this file only tells setuptools that
`plait` lives in `kernel/`, `plait.backend` in `backend/` and
`plait.workspaces` in `workspaces/`, finding subpackages in each so that new
ones are never silently dropped from the wheel.
"""

from setuptools import find_packages, setup

ROOTS = {"plait": "kernel", "plait.backend": "backend", "plait.workspaces": "workspaces"}

packages: list[str] = []
package_dir: dict[str, str] = {}
for name, folder in ROOTS.items():
    package_dir[name] = folder
    packages.append(name)
    for sub in find_packages(folder):
        packages.append(f"{name}.{sub}")
        package_dir[f"{name}.{sub}"] = f"{folder}/{sub.replace('.', '/')}"

setup(packages=packages, package_dir=package_dir)
