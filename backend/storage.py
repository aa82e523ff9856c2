"""The object store: bytes, JSON and growing text files under one root URL.

`ObjectStore("~/.plait/data")`, `ObjectStore("s3://bucket/plait")`,
`ObjectStore("memory://tests")`: anything fsspec opens. Callers pass paths
relative to the root (`executions/a1/n0/1/logs.txt`); a path that would leave
the root is refused. On a local folder writes are atomic (a temporary file
renamed into place, private to the server's user like `mkstemp`) and
`append_text` is a real append; elsewhere a write is one object PUT (a
multipart upload for a big file), atomic as S3 makes it.

Growing text (a running attempt's log) on a store without append: each
`append_text` writes one part object `<path>.parts/<offset>` (the byte offset
where it starts, zero-padded), `close_text` joins the parts into the object
`<path>` and removes them, and `read_text` reads from the whole object and the
parts after it, so a log can be followed while it grows. One writer per log;
`append_interval_s` says how often it should write a part (bounded, so a
chatty task costs a few PUTs per second at most).

`get_bytes(path, follow_links=False)` reads only a regular file reached through
real folders: a folder, a link anywhere below the root, or a device is "no
object". An object store has neither links nor folders: a key is an object or
nothing.

Options for the filesystem (fsspec storage options) come from the `options`
argument and from `PLAIT_STORAGE_OPTIONS` (a JSON object) in the environment,
read once when the store opens. On S3 the usual AWS variables are read then
too (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, `AWS_REGION` or
`AWS_DEFAULT_REGION`), so a worker that clears its environment for its tasks
after opening the store keeps using them. Credentials never go in the URL: the
URL is recorded and sent to every worker.
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
import threading
from dataclasses import dataclass
from typing import IO, Any

import fsspec.core
from fsspec.implementations.local import LocalFileSystem
from plait.errors import UserError

OPTIONS_VARIABLE = "PLAIT_STORAGE_OPTIONS"
PARTS = ".parts"  # `<log>.parts/<offset>`: the parts of a growing log on a store without append
_OFFSET_DIGITS = 16
APPEND_EVERY_S = 1.0  # at most one part per log per second...
PARTS_PER_SECOND_OF_WAIT = 60  # ...and one second more between parts for every 60 parts written

# fsspec's S3 options that say where credentials come from: with one of them given, the
# AWS credential variables are left to botocore.
_S3_CREDENTIAL_OPTIONS = ("key", "secret", "token", "anon", "profile", "session")


class StoragePathError(UserError, ValueError):
    """A path given to the object store is not a plain relative path inside its root."""


class StorageConfigError(UserError, ValueError):
    """The object store's URL or options cannot be used."""


@dataclass
class _Growing:
    """What this process wrote of a growing log on a store without append."""

    end: int  # the log's length: where the next part starts
    parts: int = 0  # parts written by this process
    spool: IO[bytes] | None = None  # a copy of the whole log, when this process wrote all of it


class ObjectStore:
    def __init__(self, url: str, options: dict[str, Any] | None = None) -> None:
        url = os.path.expanduser(str(url))
        protocol = fsspec.core.split_protocol(url)[0] or "file"
        _refuse_credentials_in(url, protocol)
        self.url = url
        local = protocol in ("file", "local")
        self.fs, root = fsspec.core.url_to_fs(url, **({} if local else storage_options(protocol, options)))
        self._local = isinstance(self.fs, LocalFileSystem)
        self.root = root.rstrip("/") or "/"
        if not self._local and self.root == "/":
            raise StorageConfigError(
                f"object store URL {url!r} names no bucket or folder; give one like "
                f"{protocol}://bucket/plait"
            )
        if self._local:
            os.makedirs(self.root, exist_ok=True)
        self._growing: dict[str, _Growing] = {}
        self._growing_lock = threading.Lock()

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

        The object appears whole or not at all: on a local store a temporary file is renamed
        into place; on S3 a single PUT or a multipart upload completes or leaves nothing.
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
        """Add `text` at the end of the growing text file `path` (one writer per file)."""
        full = self._full(path)
        data = text.encode()
        if self._local:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "ab") as handle:
                handle.write(data)
            return
        if not data:
            return
        with self._growing_lock:
            log = self._growing.get(full)
            if log is None:
                end = _end_of(self._pieces(full))
                log = self._growing[full] = _Growing(end, spool=tempfile.TemporaryFile() if end == 0 else None)
        self.fs.pipe_file(f"{full}{PARTS}/{log.end:0{_OFFSET_DIGITS}d}", data)
        if log.spool is not None:
            log.spool.write(data)
        log.end += len(data)
        log.parts += 1

    def append_interval_s(self, path: str) -> float:
        """How long a writer of the growing file `path` should gather text between appends.

        0 on a local folder (an append is cheap); elsewhere each append is a PUT: at most one
        a second, and less often as the parts of a long log add up (a log that grows for an
        hour has about 600 parts, not 3,600).
        """
        if self._local:
            return 0.0
        log = self._growing.get(self._full(path))
        parts = log.parts if log is not None else 0
        return APPEND_EVERY_S + parts / PARTS_PER_SECOND_OF_WAIT

    def close_text(self, path: str) -> None:
        """This process wrote the last of the growing file `path`: on a store without append
        the parts become one object (and are removed). Nothing to do on a local folder, or
        when this process wrote nothing there."""
        if self._local:
            return
        full = self._full(path)
        with self._growing_lock:
            log = self._growing.pop(full, None)
        if log is None:
            return
        spool = log.spool
        try:
            if log.parts == 0:
                return
            if spool is None:  # the log was begun by another writer: read it back
                spool = tempfile.TemporaryFile()
                for _, _, name in self._pieces(full):
                    spool.write(bytes(self.fs.cat_file(name)))
            spool.seek(0)
            with self.fs.open(full, "wb") as out:
                shutil.copyfileobj(spool, out, 1024 * 1024)
            self.fs.rm(f"{full}{PARTS}", recursive=True)
        finally:
            if spool is not None:
                spool.close()

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
        if self._local:
            try:
                with open(full, "rb") as handle:
                    handle.seek(offset)
                    data = handle.read(-1 if max_bytes is None else max_bytes)
            except FileNotFoundError:
                return "", offset
        else:
            data = self._read_growing(full, offset, max_bytes)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        text = decoder.decode(data, final=False)
        pending = len(decoder.getstate()[0])
        return text, offset + len(data) - pending

    def _pieces(self, full: str) -> list[tuple[int, int, str]]:
        """The growing file at `full` as (start, size, name) pieces in order, from 0 to its end:
        the whole object (if joined), then the parts written after it (one listing)."""
        parent, base = posixpath.split(full)
        try:
            found = self.fs.find(parent, prefix=base, detail=True)
        except FileNotFoundError:
            found = {}
        names = {name.rstrip("/"): info for name, info in found.items()}
        pieces: list[tuple[int, int, str]] = []
        whole = names.get(full)
        if whole is not None and whole.get("type") == "file":
            pieces.append((0, int(whole["size"]), full))
        parts = []
        folder = f"{full}{PARTS}/"
        for name, info in names.items():
            offset = name[len(folder):]
            if name.startswith(folder) and offset.isdigit() and info.get("type") == "file":
                parts.append((int(offset), int(info["size"]), name))
        end = _end_of(pieces)
        for start, size, name in sorted(parts):
            if start < end:
                continue  # joined into the whole object already (and about to be removed)
            if start > end:
                break  # a gap: a part not visible yet
            pieces.append((start, size, name))
            end += size
        return pieces

    def _read_growing(self, full: str, offset: int, max_bytes: int | None) -> bytes:
        stop = None if max_bytes is None else offset + max_bytes
        for _ in range(3):
            chunks = []
            try:
                for start, size, name in self._pieces(full):
                    end = start + size
                    if end <= offset or size == 0 or (stop is not None and start >= stop):
                        continue
                    first = max(offset, start) - start
                    last = size if stop is None else min(stop, end) - start
                    chunks.append(bytes(self.fs.cat_file(name, start=first, end=last)))
            except FileNotFoundError:
                continue  # the parts were joined while we read them: read again
            return b"".join(chunks)
        return b""

def storage_options(protocol: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """fsspec options for a store of `protocol`: PLAIT_STORAGE_OPTIONS, then `options`; on S3
    also the AWS variables that s3fs would otherwise read later (credentials, endpoint, region)."""
    merged: dict[str, Any] = {}
    text = os.environ.get(OPTIONS_VARIABLE, "").strip()
    if text:
        try:
            found = json.loads(text)
        except ValueError as exc:
            raise StorageConfigError(
                f"{OPTIONS_VARIABLE} must be a JSON object of fsspec storage options, like "
                f'{{"endpoint_url": "http://127.0.0.1:9000"}}; it is not JSON ({exc})'
            ) from None
        if not isinstance(found, dict):
            raise StorageConfigError(
                f"{OPTIONS_VARIABLE} must be a JSON object of fsspec storage options, like "
                f'{{"endpoint_url": "http://127.0.0.1:9000"}}; found a JSON {type(found).__name__}'
            )
        merged.update(found)
    merged.update(options or {})
    if protocol in ("s3", "s3a"):
        env = os.environ
        client = dict(merged.get("client_kwargs") or {})
        if not any(merged.get(k) for k in _S3_CREDENTIAL_OPTIONS) and env.get("AWS_ACCESS_KEY_ID"):
            merged.update(key=env["AWS_ACCESS_KEY_ID"], secret=env.get("AWS_SECRET_ACCESS_KEY"))
            if env.get("AWS_SESSION_TOKEN"):
                merged["token"] = env["AWS_SESSION_TOKEN"]
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        if endpoint and not merged.get("endpoint_url") and not client.get("endpoint_url"):
            merged["endpoint_url"] = endpoint
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if region and not client.get("region_name"):
            merged["client_kwargs"] = {**client, "region_name": region}
        # Listings are not cached: another process adds objects (an abort marker, a log's parts).
        merged.setdefault("use_listings_cache", False)
    return merged


def _refuse_credentials_in(url: str, protocol: str) -> None:
    if protocol in ("file", "local"):
        return
    authority = url.split("://", 1)[-1].split("/", 1)[0]
    if "@" in authority:
        raise StorageConfigError(
            f"the object store URL names credentials before `@` ({protocol}://...@{authority.rsplit('@', 1)[1]}); "
            "the URL is recorded and sent to every worker, so give credentials in the environment "
            f"(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY on S3) or in {OPTIONS_VARIABLE}"
        )


def _end_of(pieces: list[tuple[int, int, str]]) -> int:
    return pieces[-1][0] + pieces[-1][1] if pieces else 0


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
