"""Files inside pydantic models: they travel with the model, as top-level files do.

A task may return a model whose `FlyteFile` / `FlyteDirectory` fields (also in
nested models, lists and dicts) point into its working directory. Before that
directory is removed each such file is moved into the node's data folder, one
subfolder per field, so two fields' files of the same name never meet, and the
model handed downstream (or to the caller, or pickled on the backend) names
the moved files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any


def is_model(value: Any) -> bool:
    """A pydantic model instance (pydantic is not imported to find out)."""
    return hasattr(type(value), "model_fields") and hasattr(value, "model_copy")


def persist_model_files(value: Any, ctx: Any, data_dir: Callable[[], str]) -> Any:
    """`value` (a model) with the files it holds moved out of the attempt's working directory."""
    return _persist(value, ctx, data_dir, ())


def _persist(value: Any, ctx: Any, data_dir: Callable[[], str], where: tuple[str, ...]) -> Any:
    persist = getattr(value, "__plait_persist__", None)
    if persist is not None:
        return persist(ctx, lambda: _subfolder(data_dir, where))
    if is_model(value):
        changed = {}
        for name in type(value).model_fields:
            item = getattr(value, name, None)
            moved = _persist(item, ctx, data_dir, (*where, name))
            if moved is not item:
                changed[name] = moved
        return value.model_copy(update=changed) if changed else value
    if isinstance(value, list):
        items = [_persist(v, ctx, data_dir, (*where, str(i))) for i, v in enumerate(value)]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, dict):
        entries = {k: _persist(v, ctx, data_dir, (*where, str(k))) for k, v in value.items()}
        return entries if any(entries[k] is not value[k] for k in value) else value
    return value


def _subfolder(data_dir: Callable[[], str], where: tuple[str, ...]) -> str:
    safe = ["".join(c if c.isalnum() or c in "-_." else "_" for c in part) or "_" for part in where]
    folder = os.path.join(data_dir(), "fields", *safe)
    os.makedirs(folder, exist_ok=True)
    return folder
