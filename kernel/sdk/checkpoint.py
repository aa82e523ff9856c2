"""`current_context().checkpoint`: progress a task keeps across its retries.

An attempt reads the checkpoint of the attempt before it (`read()`,
`restore()`) and writes its own (`write(bytes)`, `save(path)`), with the
interface of Flyte's `SyncCheckpoint`. If the attempt before wrote nothing
(it failed first), the latest checkpoint of an earlier attempt is read, so
progress is never lost to an attempt that died early.

Where checkpoints live is a `CheckpointPlace`: a folder for local runs
(`<data folder>/checkpoints/<attempt>` of the node), a prefix in the object
store on the backend (the worker gives each attempt its own and its
predecessors'). A save is stored at once, so an attempt that is killed keeps
what it saved.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from ..errors import UserError

BYTES_NAME = "_dst_cp"  # the file `write(bytes)` saves, as Flyte names it


class CheckpointError(UserError, ValueError):
    """A checkpoint used wrongly (a ValueError, as Flyte raises)."""


class CheckpointPlace(Protocol):
    """Where one attempt's checkpoint is kept."""

    def exists(self) -> bool: ...

    def download(self, folder: str) -> None: ...

    def upload(self, source: str, name: str) -> None: ...


class FolderPlace:
    """A checkpoint in a local folder."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = os.fspath(folder)

    def __repr__(self) -> str:
        return f"FolderPlace({self.folder!r})"

    def exists(self) -> bool:
        return os.path.isdir(self.folder) and any(os.scandir(self.folder))

    def download(self, folder: str) -> None:
        shutil.copytree(self.folder, folder, dirs_exist_ok=True)

    def upload(self, source: str, name: str) -> None:
        os.makedirs(self.folder, exist_ok=True)
        target = os.path.join(self.folder, name)
        if os.path.isdir(source):
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(source, target)


class StorePlace:
    """A checkpoint under `prefix` in an object store (anything with `put_file`,
    `put_bytes` and `get_bytes`, like the backend's ObjectStore).

    The store need not list folders: `<prefix>/_index.json` names the files.
    """

    INDEX = "_index.json"

    def __init__(self, store: Any, prefix: str) -> None:
        self.store = store
        self.prefix = prefix.rstrip("/")

    def __repr__(self) -> str:
        return f"StorePlace({self.prefix!r})"

    def _index(self) -> list[str]:
        try:
            names = json.loads(self.store.get_bytes(f"{self.prefix}/{self.INDEX}"))
        except FileNotFoundError:
            return []
        return [n for n in names if isinstance(n, str)]

    def exists(self) -> bool:
        return bool(self._index())

    def download(self, folder: str) -> None:
        for name in self._index():
            target = os.path.join(folder, *name.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(self.store.get_bytes(f"{self.prefix}/{name}"))

    def upload(self, source: str, name: str) -> None:
        if os.path.isdir(source):
            files = [(os.path.join(root, f), os.path.relpath(os.path.join(root, f), source))
                     for root, _, fs in os.walk(source) for f in fs]
            added = [(path, "/".join(filter(None, [name, *rel.split(os.sep)]))) for path, rel in files]
        else:
            added = [(source, name)]
        for path, key in added:
            self.store.put_file(f"{self.prefix}/{key}", path)
        names = sorted({*self._index(), *(key for _, key in added)})
        self.store.put_bytes(f"{self.prefix}/{self.INDEX}", json.dumps(names).encode())


class Checkpoint:
    """One attempt's checkpoint (Flyte's `SyncCheckpoint` interface).

    `destination` is where this attempt saves; `sources` where the attempts
    before it saved, the most recent first: the first that holds anything is
    the previous checkpoint.
    """

    SRC_LOCAL_FOLDER = "prev_cp"
    TMP_DST_PATH = BYTES_NAME

    def __init__(self, destination: CheckpointPlace, sources: Sequence[CheckpointPlace] = ()) -> None:
        self.destination = destination
        self._sources = list(sources)
        self._source: CheckpointPlace | None | bool = False  # False: not looked for yet
        self._restored: Path | None = None
        self._scratch: str | None = None

    def __repr__(self) -> str:
        return f"Checkpoint(to {self.destination!r}, previous: {self._previous()!r})"

    def _previous(self) -> CheckpointPlace | None:
        if self._source is False:
            self._source = next((s for s in self._sources if s.exists()), None)
        return self._source  # type: ignore[return-value]

    def _tmp(self) -> str:
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix="plait-checkpoint-")
        return self._scratch

    def prev_exists(self) -> bool:
        """Did an earlier attempt of this task save a checkpoint?"""
        return self._previous() is not None

    def restore(self, path: str | os.PathLike[str] | None = None) -> Path | None:
        """The previous checkpoint, copied into the folder `path` (by default a fresh
        temporary one); None when there is none. Later calls return the same folder."""
        source = self._previous()
        if source is None:
            return None
        if self._restored is not None:
            return self._restored
        folder = Path(path) if path is not None else Path(self._tmp()) / self.SRC_LOCAL_FOLDER
        if path is None:
            folder.mkdir(exist_ok=True)
        if not folder.is_dir():
            raise CheckpointError(f"checkpoint.restore({os.fspath(folder)!r}): a checkpoint is restored into "
                            "a folder; pass an existing folder or nothing")
        source.download(str(folder))
        self._restored = folder
        return folder

    def save(self, cp: str | os.PathLike[str] | io.IOBase) -> None:
        """Save this attempt's checkpoint: a folder's contents, a file (kept under its
        name), or the bytes of a reader."""
        if isinstance(cp, (str, os.PathLike)):
            source = os.fspath(cp)
            if os.path.isdir(source):
                self.destination.upload(source, "")
            elif os.path.isfile(source):
                self.destination.upload(source, os.path.basename(source))
            else:
                raise CheckpointError(f"checkpoint.save({source!r}): no such file or folder; save an existing "
                                "path, or bytes with checkpoint.write(...)")
            return
        if not isinstance(cp, io.IOBase):
            raise CheckpointError(f"checkpoint.save() takes a path or a binary reader, got {type(cp).__name__}; "
                            "use checkpoint.write(data) for bytes")
        staged = os.path.join(self._tmp(), self.TMP_DST_PATH)
        with open(staged, "wb") as handle:
            handle.write(cp.read())
        self.destination.upload(staged, self.TMP_DST_PATH)

    def read(self) -> bytes | None:
        """The bytes the previous attempt saved (with `write`), or None when there is no
        checkpoint; a checkpoint of several files is read with `restore()` instead."""
        folder = self.restore()
        if folder is None:
            return None
        files = list(folder.iterdir())
        if not files:
            return None
        if len(files) > 1:
            raise CheckpointError(f"checkpoint.read(): the previous checkpoint holds {len(files)} files "
                            f"({sorted(f.name for f in files)}), expected one; use checkpoint.restore()")
        return files[0].read_bytes()

    def write(self, b: bytes) -> None:
        """Save `b` as this attempt's checkpoint (what the next attempt's `read()` returns)."""
        if not isinstance(b, (bytes, bytearray, memoryview)):
            raise CheckpointError(f"checkpoint.write() takes bytes, got {type(b).__name__}; encode text first, "
                            "e.g. checkpoint.write(text.encode())")
        self.save(io.BytesIO(bytes(b)))

    def cleanup(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def local_checkpoint(execution: str, node: str, attempt: int) -> Checkpoint:
    """The checkpoint of a local run's attempt: folders beside the node's data."""
    from ..model.home import local_data_dir

    root = local_data_dir(execution, node) / "checkpoints"
    return Checkpoint(FolderPlace(root / str(attempt)),
                      [FolderPlace(root / str(n)) for n in range(attempt - 1, 0, -1)])
