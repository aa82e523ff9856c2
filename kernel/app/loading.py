"""`plait.app.load_apps(path)`: the apps a Python file declares, found by importing it.

The file is imported as the CLI imports a workflow file (under its stem, with
its folder on `sys.path`), so an app's `framework_app` and its helpers import
as they will on the backend, where the file sits in the app's working directory.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from ..errors import InputError
from .declaration import App


class AppNotFoundError(InputError, LookupError):
    """`load_app` was asked for a name the file does not declare; lists the names it does."""


def load_apps(path: str | Path) -> list[App]:
    """Import `path` and return the `App` objects it declares at module level, in declaration order."""
    file = Path(path)
    if file.suffix != ".py" or not file.is_file():
        found = "a folder" if file.is_dir() else "no such file" if not file.exists() else f"a {file.suffix} file"
        raise InputError(f"load_apps: expected a Python file (.py) declaring plait.app.App objects, got "
                         f"{str(path)!r} ({found}); pass the path of the app's .py file")
    file = file.resolve()
    folder = str(file.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(file.stem, file)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has a loader
        raise InputError(f"load_apps: cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(file.stem)
    sys.modules[file.stem] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if previous is not None:
            sys.modules[file.stem] = previous
        else:
            sys.modules.pop(file.stem, None)
        raise
    apps: list[App] = []
    for value in vars(module).values():
        if isinstance(value, App) and all(value is not a for a in apps):
            apps.append(value)
    return apps


def load_app(path: str | Path, name: str) -> App:
    """The app called `name` (its `App(name=...)`) declared in `path`."""
    apps = load_apps(path)
    for app in apps:
        if app.name == name:
            return app
    known = ", ".join(a.name for a in apps) or "none"
    raise AppNotFoundError(f"{path} declares no app named {name!r}; it declares: {known}; pass one of those "
                           "names (the App's name=, not its variable)")
