"""`%plait artifacts`: the artifact catalog from a notebook, local or (`--remote`) the backend's.

    %plait artifacts                              every artifact, the most recent first
    %plait artifacts model --partition region=eu  its latest versions with their partitions
    %plait artifacts model --load latest --out m  the latest version's value, bound to `m`

It reads through the calls a module would make (`plait.catalog()` or the
kernel's `plait.Remote`: `list_artifacts`, `get_artifact`, `record.value()`),
so the two places show and load alike.
"""

from __future__ import annotations

from typing import Any

from ..model.times import time_column
from .cells import CellError

USAGE = ("usage: %plait artifacts [NAME] [--partition KEY=VALUE ...] [--remote] [--limit N] "
         "[--project P] [--domain D] [--load VERSION|latest [--out VAR]]")
_VALUED = ("partition", "limit", "load", "out", "project", "domain")


def artifacts(shell: Any, args: list[str]) -> Any:
    """List artifacts, the versions of one, or load a version's value into the kernel."""
    from IPython.display import display

    from .remote_magics import table

    name, options, remote = _parse(args)
    limit = options.get("limit", ["20"])[-1]
    if not limit.isdigit() or int(limit) < 1:
        raise CellError(f"%plait artifacts --limit expects a whole number >= 1, got {limit!r}")
    partitions = _partitions(options.get("partition", []))
    load, out = options.get("load", [None])[-1], options.get("out", [None])[-1]
    if out is not None and load is None:
        raise CellError("%plait artifacts --out names where --load puts a value; add --load VERSION|latest")
    if out is not None and not out.isidentifier():
        raise CellError(f"%plait artifacts --out expects a variable name, got {out!r}")
    catalog = _catalog(options, remote)
    where = "on the backend" if remote else "in the local store"
    if load is not None:
        if name is None:
            raise CellError(f"%plait artifacts --load needs the artifact's NAME; {USAGE}")
        record = catalog.get_artifact(name=name, partitions=partitions,
                                      version=None if load == "latest" else load)
        value = record.value()
        if out is None:
            return value
        shell.user_ns[out] = value
        parts = f" ({_partition_text(record.partitions)})" if record.partitions else ""
        print(f"{out} = artifact {record.name}@{record.version}{parts}, {record.type_name or 'a value'}")
        return None
    if name is None:
        if partitions:
            raise CellError(f"%plait artifacts --partition filters the versions of one artifact; {USAGE}")
        found = catalog.list_artifacts(limit=int(limit))
        zone, created = time_column([s.latest.created_at for s in found])
        columns = ["NAME", "VERSIONS", "PARTITION KEYS", "LATEST VERSION", f"CREATED ({zone})" if zone else "CREATED"]
        rows = [[s.name, str(s.versions), ", ".join([*s.partition_keys, *(["time"] if s.time_partitioned else [])]),
                 s.latest.version, when] for s, when in zip(found, created, strict=True)]
        display(table(columns, rows, empty=f"no artifacts {where} yet"), raw=True)
        return None
    versions = catalog.list_artifacts(name, partitions=partitions, limit=int(limit))
    zone, created = time_column([r.created_at for r in versions])
    columns = ["VERSION", "PARTITIONS", "TIME PARTITION", "PREVIEW", f"CREATED ({zone})" if zone else "CREATED"]
    rows = [[r.version, _partition_text(r.partitions), r.time_partition or "", _short(r.preview), when]
            for r, when in zip(versions, created, strict=True)]
    matching = f" matching {_partition_text(partitions)}" if partitions else ""
    display(table(columns, rows, empty=f"no versions of artifact {name}{matching} {where}"), raw=True)
    return None


def _parse(args: list[str]) -> tuple[str | None, dict[str, list[str]], bool]:
    name: str | None = None
    options: dict[str, list[str]] = {}
    remote = False
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            if name is not None:
                raise CellError(f"%plait artifacts: unexpected {arg!r} (one NAME at most); {USAGE}")
            name = arg
        elif arg == "--remote":
            remote = True
        else:
            key, eq, value = arg[2:].partition("=")
            if key not in _VALUED:
                raise CellError(f"%plait artifacts: unknown option {arg}; {USAGE}")
            if not eq:
                if i + 1 >= len(args):
                    raise CellError(f"%plait artifacts --{key} needs a value; {USAGE}")
                i += 1
                value = args[i]
            options.setdefault(key, []).append(value)
        i += 1
    return name, options, remote


def _partitions(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise CellError(f"%plait artifacts --partition expects KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def _catalog(options: dict[str, list[str]], remote: bool) -> Any:
    project, domain = options.get("project", [None])[-1], options.get("domain", [None])[-1]
    if remote:
        from .remote_magics import client

        return client(project or "default", domain or "development")
    from ..artifacts import catalog

    return catalog(project, domain)


def _partition_text(partitions: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in partitions.items())


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
