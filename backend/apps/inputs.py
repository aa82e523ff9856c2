"""An app's inputs: literals, or artifact versions found by their queries when it is deployed.

    resolved = resolve(s, "default", "development", spec)   # at deploy: {name: {...}}, or InputProblem
    env = materialize(resolved, folder, storage)             # at start: {ENV_VAR: value or local path}

A query is resolved once per deploy against the catalog (the newest version
matching it), so a revision serves one version; deploying again picks up a
newer one. `download=True` copies the value into the revision's folder
(`inputs/<file>`) and its variable holds that path; otherwise the variable
holds the value itself (text, JSON, or the file's location).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..storage import ObjectStore


class InputProblem(ValueError):
    """An input that cannot be given: no version matches its query, a duplicate variable."""


def _name(spec: Mapping[str, Any], index: int) -> str:
    return str(spec.get("name") or spec.get("env_var") or f"input{index}")


def resolve(s: Session, project: str, domain: str, app: Mapping[str, Any]) -> dict[str, Any]:
    from ..artifacts.catalog import LaunchArtifacts, QueryProblem

    found = LaunchArtifacts(s, project, domain)
    out: dict[str, Any] = {}
    for index, item in enumerate(app.get("inputs") or []):
        name = _name(item, index)
        value = dict(item.get("value") or {})
        entry: dict[str, Any] = {"env_var": item.get("env_var") or name.upper(), "download": bool(item.get("download"))}
        if "artifact_query" in value:
            try:
                entry["value"] = found(f"app {app.get('name')}", name, value["artifact_query"], {}, {})
            except QueryProblem as exc:
                raise InputProblem(str(exc)) from None
            version = found.resolved[name]
            entry["artifact"] = {"name": version.name, "version": version.version, "id": version.id}
        else:
            entry["value"] = {"literal": value.get("literal")}
        out[name] = entry
    return out


def _file_of(ref: Mapping[str, Any]) -> str | None:
    literal = ref.get("literal")
    if isinstance(literal, Mapping) and isinstance(literal.get("path"), str):
        return str(literal["path"])
    return None


def materialize(resolved: Mapping[str, Any], folder: Path, storage: ObjectStore) -> dict[str, str]:
    """The inputs' environment variables for a replica, downloading what asks for it into
    `folder/inputs/` (once per revision: its files are shared by its replicas)."""
    env: dict[str, str] = {}
    for name, entry in resolved.items():
        ref = dict(entry.get("value") or {})
        var = str(entry["env_var"])
        path = _file_of(ref)
        if entry.get("download"):
            target_dir = folder / "inputs"
            target_dir.mkdir(parents=True, exist_ok=True)
            if path is not None:
                target = target_dir / (Path(path.rstrip("/")).name or name)
                if not target.exists():
                    _copy(path, target, storage)
            elif "uri" in ref:
                target = target_dir / f"{name}.pkl"
                if not target.exists():
                    target.write_bytes(storage.get_bytes(str(ref["uri"])))
            else:
                target = target_dir / f"{name}.json"
                target.write_text(json.dumps(ref.get("literal")))
            env[var] = str(target)
        elif path is not None:
            env[var] = path
        elif "uri" in ref:
            env[var] = storage.uri(str(ref["uri"]))
        else:
            literal = ref.get("literal")
            env[var] = literal if isinstance(literal, str) else json.dumps(literal)
    return env


def _copy(source: str, target: Path, storage: ObjectStore) -> None:
    """A file or folder (a local path, or an fsspec URL such as s3://...) to `target`."""
    partial = target.with_name(target.name + ".partial")
    if Path(source).exists():
        if Path(source).is_dir():
            shutil.copytree(source, partial)
        else:
            shutil.copyfile(source, partial)
    else:
        import fsspec

        fs, _, paths = fsspec.get_fs_token_paths(source)
        fs.get(paths[0], str(partial), recursive=True)
    partial.rename(target)
