"""The inputs of a node as a debug workspace downloaded them, back as Python values.

    inputs = load_inputs(Path("inputs"), task)     # {"readings": {...}, "total": 0.0, ...}
    task.function(**inputs)                        # the failure, under the debugger

The backend writes `inputs/inputs.json` (the node's value refs, each pickle or
dataset it names copied beside it under `blobs/` and its `uri` pointing there)
when it makes a debug workspace (plait.workspaces.debug). The values are rebuilt
under the task's declared input types, as a worker rebuilds them.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

from ..typesys import from_literal


def _value(folder: Path, ref: Any, tp: Any) -> Any:
    if not isinstance(ref, dict):
        return from_literal(tp, ref)
    if "literal" in ref:
        value = from_literal(tp, ref["literal"])
    elif "uri" in ref and ref.get("structured_dataset"):
        from ..types.structured import StructuredDataset

        value = StructuredDataset.__plait_from_stored_bytes__((folder / ref["uri"]).read_bytes(),
                                                              ref["format"], ref.get("columns"))
    elif "uri" in ref:
        import cloudpickle

        value = cloudpickle.loads((folder / ref["uri"]).read_bytes())
    elif "collection" in ref:
        args = typing.get_args(tp)
        value = [_value(folder, r, args[0] if args else Any) for r in ref["collection"]]
    elif "mapping" in ref:
        args = typing.get_args(tp)
        value = {k: _value(folder, r, args[1] if len(args) == 2 else Any) for k, r in ref["mapping"].items()}
    else:
        raise ValueError(f"{folder / 'inputs.json'}: a value ref with keys {sorted(ref)}, which this version "
                         "of plait does not know; update plait in the workspace")
    for step in ref.get("path", ()):
        value = value[step] if isinstance(step, int) or isinstance(value, dict) else getattr(value, step)
    return value


def load_inputs(folder: str | Path, task: Any = None) -> dict[str, Any]:
    """The node's inputs by name, under `task`'s declared types (as stored without a task)."""
    folder = Path(folder)
    refs = json.loads((folder / "inputs.json").read_text(encoding="utf-8"))
    params = getattr(getattr(task, "interface", None), "inputs", None) or {}
    types = {name: getattr(param, "type", Any) for name, param in params.items()}
    return {name: _value(folder, ref, types.get(name, Any)) for name, ref in refs.items()}
