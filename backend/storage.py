"""The object store: bytes, JSON and growing text files under one root URL.

`ObjectStore("~/.plait/data")`, `ObjectStore("s3://bucket/plait")`,
`ObjectStore("memory://tests")`: anything fsspec opens. Callers pass paths
relative to the root (`executions/a1/n0/1/logs.txt`); a path that would leave
the root is refused. On a local folder writes are atomic (a temporary file
renamed into place, private to the server's user like `mkstemp`) and
`append_text` is a real append; elsewhere a write is one object PUT and an
append is read-modify-write (one writer per log file). `get_bytes(path,
follow_links=False)` reads only a regular file reached through real folders: a
folder, a link anywhere below the root, or a device is "no object".
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import posixpath
import shutil
import stat
import tempfile
from typing import Any

import fsspec.core
from fsspec.implementations.local import LocalFileSystem
from plait.errors import UserError


class StoragePathError(UserError, ValueError):
    """A path given to the object store is not a plain relative path inside its root."""


class ObjectStore:
    def __init__(self, url: str) -> None:
        url = os.path.expanduser(str(url))
        self.url = url
        self.fs, root = fsspec.core.url_to_fs(url)
        self._local = isinstance(self.fs, LocalFileSystem)
        self.root = root.rstrip("/") or "/"
        if self._local:
            os.makedirs(self.root, exist_ok=True)

    def __repr__(self) -> str:
        return f"ObjectStore({self.url!r})"

    # --- paths -------------------------------------------------------------

    def _full(self, path: str) -> str:
        """The filesystem path of `path`, refusing anything that escapes the root."""
        if not isinstance(path, str) or not path.strip("/"):
            raise StoragePathError(
                f"object store path {path!r} is empty; give a path relative to {self.url}"
            )
        if path.startswith("/") or "\\" in path or "\x00" in path or "://" in path:
            raise StoragePathError(
                f"object store path {path!r} must be relative to the store's root "
                f"({self.url}), like 'executions/<id>/outputs/o0.pkl'"
            )
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise StoragePathError(
                f"object store path {path!r} contains '..'; paths may not leave the "
                f"store's root ({self.url})"
            )
        return posixpath.join(self.root, *parts)

    def uri(self, path: str) -> str:
        """A URL fsspec can open from another process (`file:///...`, `s3://...`)."""
        return str(self.fs.unstrip_protocol(self._full(path)))

    # --- whole objects -----------------------------------------------------

    def put_bytes(self, path: str, data: bytes) -> None:
        full = self._full(path)
        if self._local:
            _atomic_write(full, data)
        else:
            self.fs.pipe_file(full, bytes(data))

    def put_file(self, path: str, source: str | os.PathLike[str]) -> None:
        """Store the contents of the local file `source` under `path`, streamed, never in memory whole.

        On a local store the object appears whole or not at all (a temporary file renamed into place).
        """
        full = self._full(path)
        if self._local:
            with open(source, "rb") as handle:
                _atomic_write(full, handle)
        else:
            self.fs.put_file(os.fspath(source), full)

    def get_bytes(self, path: str, *, follow_links: bool = True) -> bytes:
        """The object's bytes; FileNotFoundError if there is none (or it is a folder).

        With `follow_links=False` a local store reads only a regular file reached through
        real folders: a symbolic link anywhere below the root, a FIFO or a device is
        reported as missing, so a link planted under the root never leads out of it.
        """
        full = self._full(path)
        try:
            if self._local and not follow_links:
                return _read_plain_file(self.root, path)
            return bytes(self.fs.cat_file(full))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise FileNotFoundError(f"no object {path!r} in the object store {self.url}") from None

    def put_json(self, path: str, value: Any) -> None:
        self.put_bytes(path, json.dumps(value, separators=(",", ":")).encode())

    def get_json(self, path: str) -> Any:
        return json.loads(self.get_bytes(path))

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(self._full(path)))

    def delete_prefix(self, prefix: str) -> None:
        """Remove the object or folder at `prefix` (everything under it); no error if absent."""
        full = self._full(prefix)
        if self.fs.exists(full):
            self.fs.rm(full, recursive=True)

    # --- growing text (live logs) ---------------------------------------------

    def append_text(self, path: str, text: str) -> None:
        full = self._full(path)
        data = text.encode()
        if self._local:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "ab") as handle:
                handle.write(data)
            return
        try:
            old = self.fs.cat_file(full)
        except FileNotFoundError:
            old = b""
        self.fs.pipe_file(full, old + data)

    def read_text(
        self, path: str, offset: int = 0, max_bytes: int | None = None
    ) -> tuple[str, int]:
        """Text from byte `offset` on, and the offset to ask for next time.

        A missing file reads as empty (a log that has not started). A UTF-8
        character cut at the end is left for the next read.
        """
        if offset < 0:
            raise ValueError(f"offset must be 0 or more, found {offset}")
        full = self._full(path)
        try:
            if self._local:
                with open(full, "rb") as handle:
                    handle.seek(offset)
                    data = handle.read(-1 if max_bytes is None else max_bytes)
            else:
                end = None if max_bytes is None else offset + max_bytes
                data = self.fs.cat_file(full, start=offset, end=end)
        except FileNotFoundError:
            return "", offset
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        text = decoder.decode(data, final=False)
        pending = len(decoder.getstate()[0])
        return text, offset + len(data) - pending


def _read_plain_file(root: str, path: str) -> bytes:
    """The bytes of the regular file `path` under `root`, opened one folder at a time without
    following any link (so nothing can swap a folder for a link between a check and the open)."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    folder = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, flags | getattr(os, "O_DIRECTORY", 0), dir_fd=folder)
            except OSError as exc:  # ELOOP: a link; ENOTDIR: a file or a link to one
                raise FileNotFoundError(path) from exc
            os.close(folder)
            folder = inner
        try:
            fd = os.open(parts[-1], flags | os.O_NONBLOCK, dir_fd=folder)  # a FIFO must not block
        except OSError as exc:
            raise FileNotFoundError(path) from exc
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise FileNotFoundError(path)
        return handle.read()


def _atomic_write(full: str, data: bytes | Any) -> None:
    """Write `data` (bytes, or a binary file to copy) to `full` through a renamed temporary file."""
    directory = os.path.dirname(full)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, (bytes, bytearray, memoryview)):
                handle.write(data)
            else:
                shutil.copyfileobj(data, handle, 1024 * 1024)
        os.replace(tmp, full)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
