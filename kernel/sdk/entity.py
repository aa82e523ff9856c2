"""What every callable plait object shares: a name, an interface and `__call__`.

Inside a workflow definition a call adds a node; inside an `@eager` body it
returns an awaitable that runs the entity as a node of the eager run
(`plait.sdk.eager`); anywhere else it runs the entity with the local engine and
returns plain Python values.
"""

from __future__ import annotations

import os
import re
import sys
from contextvars import ContextVar
from pathlib import PurePath
from typing import Any

from ..errors import InputError
from .compiler import current_builder
from .interface import Interface

# The driver of the @eager body running in this context (plait.sdk.eager), if any.
EAGER_DRIVER: ContextVar[Any] = ContextVar("plait_eager_driver", default=None)


def qualified_name(fn: Any) -> str:
    """`package.module.function`, with scripts and notebooks named after their file."""
    module = getattr(fn, "__module__", None) or "__main__"
    if module == "__main__":
        module = main_module_name()
    return f"{module}.{fn.__qualname__}".replace(".<locals>", "")


def main_module_name() -> str:
    """What code run as `__main__` is named after: a script's file, a notebook's name, else `__main__`.

    A kernel learns its notebook's path from the frontend: ipykernel puts it
    in `__session__` (from `JPY_SESSION_NAME`, JupyterLab 4 and later), VS
    Code in `__vsc_ipynb_file__`. So a task defined in `training.ipynb` is
    `training.fn` whether it is launched from the kernel or registered with
    `plait register training.ipynb`.
    """
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    if main_file:
        return os.path.splitext(os.path.basename(str(main_file)))[0]
    for found in (getattr(main, "__session__", None), getattr(main, "__vsc_ipynb_file__", None),
                  os.environ.get("JPY_SESSION_NAME")):
        if isinstance(found, str) and found.endswith(".ipynb"):
            return notebook_module(found)
    return "__main__"


def notebook_module(path: str | os.PathLike[str]) -> str:
    """The module a notebook's tasks are named in: `my analysis.ipynb` -> `my_analysis`."""
    name = re.sub(r"\W", "_", PurePath(path).stem) or "_"
    return f"_{name}" if name[0].isdigit() else name


def description_of(fn: Any, docs: Any = None) -> dict[str, str]:
    if docs is not None:
        if isinstance(docs, str):
            return {"short": docs.strip().split("\n\n")[0], "long": docs.strip()}
        short = getattr(docs, "short_description", None) or ""
        long = getattr(getattr(docs, "long_description", None), "value", None) or ""
        return {"short": short, "long": long}
    doc = (getattr(fn, "__doc__", None) or "").strip()
    if not doc:
        return {"short": "", "long": ""}
    import inspect

    doc = inspect.cleandoc(doc)
    return {"short": doc.split("\n\n")[0].replace("\n", " "), "long": doc}


def version_for_cache(entity: Any, cache: Any) -> str:
    """The version `cache` gives `entity`'s results, worked out once per entity and cache.

    Explicit, or derived by the cache's policies (which may read the source).
    Kept in the entity's `_cache_versions`, which a notebook task replaces with
    one that forgets when its file changes.
    """
    versions = entity.__dict__.setdefault("_cache_versions", {})
    v = versions.get(id(cache))
    if v is None:
        v = versions[id(cache)] = cache.get_version(entity)
    return v  # type: ignore[no-any-return]


class Entity:
    """Base of tasks, workflows, launch plans, map tasks and branches."""

    kind: str = "entity"
    name: str
    interface: Interface

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        builder = current_builder()
        if builder is not None:
            return builder.add(self, args, kwargs)
        driver = EAGER_DRIVER.get()
        if driver is not None:  # awaited in an @eager body: a node of the eager run
            return driver.call(self, self.kwargs_from_call(args, kwargs))
        return self.local_call(*args, **kwargs)

    def kwargs_from_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Outside a workflow, positional arguments map onto inputs in order."""
        if not args:
            return kwargs
        names = list(self.interface.inputs)
        if len(args) > len(names):
            raise InputError(
                f"`{self.name}` takes {len(names)} input(s) {names} but got {len(args)} "
                "positional arguments"
            )
        out = dict(zip(names, args, strict=False))
        clash = set(out) & set(kwargs)
        if clash:
            raise InputError(f"`{self.name}` got input(s) {sorted(clash)} twice")
        out.update(kwargs)
        return out

    def local_call(self, *args: Any, **kwargs: Any) -> Any:
        """Run the entity now, in this process, and return its outputs as plain values."""
        from ..run.engine import execute  # the run layer runs what the SDK describes

        return execute(self, self.kwargs_from_call(args, kwargs)).native()

    def to_spec(self) -> dict[str, Any]:  # pragma: no cover - every entity overrides
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"
