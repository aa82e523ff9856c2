"""The base layer every environment stands on: this Python, and plait with its worker runtime.

An environment is a virtual environment of the running interpreter whose
`site-packages` ends with a `.pth` file that appends this interpreter's own
site folders: the spec's packages come first and shadow the base, while
`plait`, `distributed` and `cloudpickle` are the very ones the server runs
(pickles and the Dask protocol must match on both sides). The distributions
the worker runtime needs (`RUNTIME_ROOTS` and what they require) are pinned to
the server's versions when a spec's packages pull them in, so a copy in an
environment is never another version.

The base layer is part of every environment's hash: another Python, another
set of site folders or another runtime version is another environment.
"""

from __future__ import annotations

import os
import re
import site
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Distributions a task's process needs from the server, with everything they require.
RUNTIME_ROOTS = ("plait", "distributed", "cloudpickle", "psutil")
# plait is never installed from an index: it always comes from the base layer.
NOT_PINNED = frozenset({"plait"})

_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalize(name: str) -> str:
    """A distribution's name as package indexes compare it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class BaseLayer:
    """What an environment takes from the running interpreter."""

    python: str  # "3.11.7"
    implementation: str  # "cpython"
    executable: str  # the interpreter environments are made from
    site_dirs: tuple[str, ...]  # appended after an environment's own site-packages
    runtime: tuple[tuple[str, str], ...]  # (distribution, version), pinned in every environment
    plait_version: str

    @property
    def python_minor(self) -> str:
        return ".".join(self.python.split(".")[:2])

    def identity(self) -> dict[str, Any]:
        """What goes into an environment's hash."""
        return {
            "python": self.python,
            "implementation": self.implementation,
            "executable": self.executable,
            "site_dirs": list(self.site_dirs),
            "runtime": [list(pin) for pin in self.runtime],
            "plait": self.plait_version,
        }

    def pins(self) -> str:
        """The runtime as a constraints file (`name==version` per line)."""
        return "".join(f"{name}=={version}\n" for name, version in self.runtime
                       if name not in NOT_PINNED)

    def pth(self, first: tuple[str, ...] = (), image_name: str | None = None) -> str:
        """The `.pth` file of an environment: the folders `first` (relative to site-packages),
        then the base's site folders (their own `.pth` files are processed, so editable
        installs work), and PLAIT_IMAGE_NAME set to the environment's image."""
        line = f"import site; list(map(site.addsitedir, {self.site_dirs!r}))"
        if image_name is not None:
            line += f"; import os; os.environ['PLAIT_IMAGE_NAME'] = {image_name!r}"
        return "".join(f"{p}\n" for p in first) + line + "\n"


def site_dirs() -> tuple[str, ...]:
    """This interpreter's site folders (system, venv and user), those that exist."""
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return tuple(dict.fromkeys(d for d in dirs if os.path.isdir(d)))


def _installed(dirs: tuple[str, ...]) -> dict[str, tuple[str, Path]]:
    """Every distribution in `dirs`: normalized name -> (version, its .dist-info folder)."""
    found: dict[str, tuple[str, Path]] = {}
    for folder in dirs:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for entry in names:
            if entry.endswith(".dist-info") and "-" in entry:
                name, version = entry[: -len(".dist-info")].rsplit("-", 1)
                found.setdefault(normalize(name), (version, Path(folder) / entry))
    return found


def _requires(dist_info: Path) -> list[str]:
    """The names a distribution requires, leaving out those only its extras need."""
    names: list[str] = []
    try:
        text = (dist_info / "METADATA").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return names
    for line in text.split("\n\n", 1)[0].splitlines():
        if line.startswith("Requires-Dist:"):
            requirement, _, marker = line[len("Requires-Dist:"):].partition(";")
            m = _REQUIREMENT.match(requirement)
            if m and "extra" not in marker:
                names.append(normalize(m[1]))
    return names


def runtime(dirs: tuple[str, ...], roots: tuple[str, ...] = RUNTIME_ROOTS) -> tuple[tuple[str, str], ...]:
    """`roots` and everything they require, as installed in `dirs`: (name, version), sorted."""
    installed = _installed(dirs)
    pins: dict[str, str] = {}
    todo = [normalize(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in pins or name not in installed:
            continue
        version, dist_info = installed[name]
        pins[name] = version
        todo.extend(_requires(dist_info))
    return tuple(sorted(pins.items()))


_CURRENT: BaseLayer | None = None


def current_base(refresh: bool = False) -> BaseLayer:
    """The base layer of the running interpreter (read once per process)."""
    global _CURRENT
    if _CURRENT is None or refresh:
        dirs = site_dirs()
        pins = runtime(dirs)
        _CURRENT = BaseLayer(
            python=".".join(map(str, sys.version_info[:3])),
            implementation=sys.implementation.name,
            executable=sys.executable,
            site_dirs=dirs,
            runtime=pins,
            plait_version=dict(pins).get("plait", "unknown"),
        )
    return _CURRENT
