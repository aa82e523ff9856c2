"""A workspace's working directory, saved to the object store and restored from it.

`WorkspaceSync(store, "workspaces/<project>/<domain>/<name>", local_dir)`: the manager
calls `restore()` before it starts code-server, `start_periodic(60)` while it runs, and
`stop()` then `save()` when it stops, so the files survive a restart and a move to
another machine (anything that reaches the same object store). The objects made for
one workspace (store URL, prefix, folder) in one process share their state: saves run
one at a time, and a save knows which files a restore has not written yet, so the
manager may make a new object for each call.

Layout under the prefix:
- `packs/<sha256>`: small files (under 1 MiB, and under `large_bytes`), their bytes one
  after the other, up to 16 MiB a pack. A working directory is mostly small files, and
  an object store charges a request per object: 2,000 source files are one or two PUTs
  and GETs, not 2,000.
- `blobs/<sha256>`: one larger file each, addressed by its contents' SHA-256 (a copy of
  a file, or a file restored then saved again, is one object, sent once).
- `manifest.json`: `{"version": 1, "saved_at", "packs": {id: size}, "entries": {path:
  entry}}`. `path` is relative to the working directory (POSIX, no `.`/`..`); `entry` is
  `{"type": "file", "size", "mtime_ns", "sha256", "mode"}` (plus `"pack"` and
  `"offset"` for a packed file), `{"type": "dir", "mode"}` (every folder, so empty ones
  come back) or `{"type": "link", "target"}` (a symbolic link, kept as a link and never
  followed, wherever it points). Keys are derived from hashes, never stored, so a
  manifest cannot name another key of the store.

Save is incremental: a file whose size and mtime match its entry is not read again (the
rsync rule: a change that keeps both is missed until the next one). Changed small files
are read whole (one read: what is hashed is what is packed) into new packs; a pack whose
live files fall under half its size is repacked from the local copies. Changed large
files are hashed in 1 MiB pieces, then sent with `ObjectStore.put_file` (streamed, a
multipart upload on S3) when no blob has their hash. A file that vanishes while it is
read is left out; one that changes (size, mtime or inode differ after the read or the
upload) is skipped with a note and keeps its previous entry: the last good copy stays.

Packs and blobs go first, the manifest last, in one PUT (none when nothing changed).
The store writes a key whole or not at all (a renamed temporary file on a folder, one
PUT or a multipart upload on S3), so a crash mid-save leaves the previous manifest and
everything it names readable; a manifest history behind a pointer key would add a
second write for nothing. Packs and blobs no manifest names (deleted files, a crashed
save's) are removed after the manifest is written. One writer per prefix: the manager
runs a workspace on one machine at a time.

Restore recreates folders, links and files and never deletes a local file. A local
file with the saved size and mtime is left alone (a restart on the same machine fetches
nothing), a newer local file wins (noted), an older one is replaced. Files under
`large_bytes` are written before `restore()` returns (packs fetched in ranges that skip
what is not needed); larger ones are streamed by a background thread (`pending`,
`wait()`), so a start waits for the small files only. Each file is written to a
temporary name (`.plait-sync-*`, never saved), checked against its hash, then moved
into place: with a hard link when nothing was there (a file the user created meanwhile
is never replaced), or a rename when the local file is still the same older one. Files
not written yet are kept in the manifest by any save made meanwhile, until they are
written or the user puts a file there.

A manifest is checked whole before anything is written: a path that is absolute,
contains `..` or goes through a link or a file of the manifest, or a pack range outside
its pack, is refused (`WorkspaceSyncError`). Every write goes through folder
descriptors opened without following links, so a link in the working directory never
leads a restore out of it either.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import re
import secrets
import stat
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from plait.backend.storage import ObjectStore
from plait.errors import PlatformError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
BLOBS = "blobs"
PACKS = "packs"
VERSION = 1
TEMP_PREFIX = ".plait-sync-"  # a file being restored; never saved
LARGE_BYTES = 8 * 1024 * 1024  # files this big or bigger are restored in the background
PACKED_BYTES = 1024 * 1024  # smaller files go into packs (read whole, one read)
PACK_BYTES = 16 * 1024 * 1024  # a pack is closed once it holds this much
RANGE_GAP = 256 * 1024  # a restore reads two packed files in one request when less lies between...
RANGE_BYTES = 4 * 1024 * 1024  # ...up to about this much a request (requests run in parallel)
CHUNK = 1024 * 1024
WORKERS = 8  # requests at once to a remote store (it answers in parallel)
_IN_PROCESS = {"file", "local", "memory"}  # stores bound by this machine's CPU: half its cores

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_MODE_BITS = 0o777

Entry = dict[str, Any]


class WorkspaceSyncError(PlatformError, ValueError):
    """A saved working directory cannot be read or restored safely."""


class _Cancelled(Exception):
    """`stop()` was called while a background restore was writing."""


@dataclass(frozen=True)
class Manifest:
    """A checked manifest: entries by path (sorted: parents first) and the packs' sizes."""

    entries: dict[str, Entry]
    packs: dict[str, int]


@dataclass(frozen=True)
class SaveReport:
    """What one `save()` did."""

    files: int  # files in the saved manifest
    bytes: int  # their total size
    uploaded: int  # files whose contents were sent (in a pack or a blob)
    uploaded_bytes: int
    hashed: int  # files read and hashed (new, changed, or repacked)
    objects: int  # packs and blobs written
    removed: int  # packs and blobs no manifest names any more, deleted
    notes: tuple[str, ...] = ()  # files skipped, and why
    seconds: float = 0.0


@dataclass(frozen=True)
class RestoreReport:
    """What `restore()` wrote before it returned (or what its background part wrote: `wait()`)."""

    written: int = 0  # files written
    written_bytes: int = 0
    unchanged: int = 0  # files already there with the saved size and mtime
    kept_local: int = 0  # files newer locally (or not a file locally), left alone
    deferred: tuple[str, ...] = ()  # large files left to the background thread
    deferred_bytes: int = 0
    notes: tuple[str, ...] = ()
    seconds: float = 0.0


@dataclass
class _Tally:
    written: int = 0
    written_bytes: int = 0
    unchanged: int = 0
    kept_local: int = 0
    notes: list[str] = field(default_factory=list)

    def report(self, start: float, deferred: tuple[str, ...] = (), deferred_bytes: int = 0) -> RestoreReport:
        return RestoreReport(self.written, self.written_bytes, self.unchanged, self.kept_local,
                             deferred, deferred_bytes, tuple(self.notes), time.perf_counter() - start)


@dataclass
class _Save:
    """One save in progress: what is stored, what the new manifest holds, what was sent."""

    blobs: set[str]  # blob hashes in the store
    packs: dict[str, int]  # packs in the store that the new manifest may name, by size
    entries: dict[str, Entry] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    uploaded: int = 0
    uploaded_bytes: int = 0
    objects: int = 0


@dataclass
class _Shared:
    """What every WorkspaceSync of one workspace in this process shares, so that the manager may
    make a new one for each call: saves one at a time (a save's cleanup must not remove what
    another is sending), and the restore in progress (a save keeps the files it has not written)."""

    save_lock: threading.Lock = field(default_factory=threading.Lock)
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards the fields below
    manifest: Manifest | None = None  # the last one saved or restored
    unrestored: set[str] = field(default_factory=set)  # saved files not written locally (yet)
    pending: set[str] = field(default_factory=set)  # the background restore's files not written yet
    restore_thread: threading.Thread | None = None
    background_report: RestoreReport | None = None
    cancel: threading.Event = field(default_factory=threading.Event)


_SHARED: dict[tuple[str, str, str], _Shared] = {}  # by store URL, prefix and working directory
_SHARED_LOCK = threading.Lock()


class WorkspaceSync:
    """The working directory `local_dir` of one workspace, kept under `prefix` in `store`."""

    def __init__(self, store: ObjectStore, prefix: str, local_dir: str | os.PathLike[str], *,
                 large_bytes: int = LARGE_BYTES) -> None:
        prefix = str(prefix).strip("/")
        if not prefix:
            raise ValueError("WorkspaceSync needs a prefix like 'workspaces/<project>/<domain>/<name>'; found ''")
        store.uri(prefix)  # refuses a prefix that leaves the store's root
        self.store = store
        self.prefix = prefix
        self.local_dir = Path(local_dir)
        self.large_bytes = large_bytes
        self.packed_bytes = min(PACKED_BYTES, large_bytes)
        protocols = store.fs.protocol
        in_process = _IN_PROCESS.intersection([protocols] if isinstance(protocols, str) else protocols)
        self._workers = max(1, min(WORKERS, (os.cpu_count() or 1) // 2)) if in_process else WORKERS
        self.last_save: SaveReport | None = None
        with _SHARED_LOCK:
            key = (store.url, prefix, os.path.abspath(self.local_dir))
            self._shared = _SHARED.setdefault(key, _Shared())
        self._stopping = threading.Event()
        self._periodic: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"WorkspaceSync({self.store.url!r}, {self.prefix!r}, {str(self.local_dir)!r})"

    # --- keys ----------------------------------------------------------------

    @property
    def manifest_key(self) -> str:
        return f"{self.prefix}/{MANIFEST}"

    def blob_key(self, sha256: str) -> str:
        return f"{self.prefix}/{BLOBS}/{sha256}"

    def pack_key(self, pack: str) -> str:
        return f"{self.prefix}/{PACKS}/{pack}"

    def _stored(self, folder: str) -> dict[str, int]:
        """The objects under `<prefix>/<folder>/` named by a hash, with their sizes (one listing)."""
        try:
            found = self.store.fs.find(self.store.uri(f"{self.prefix}/{folder}"), detail=True)
        except FileNotFoundError:
            return {}
        named = {str(path).rstrip("/").rsplit("/", 1)[-1]: info for path, info in found.items()}
        return {name: int(info.get("size") or 0) for name, info in named.items() if _SHA256.match(name)}

    def _read_manifest(self) -> Manifest | None:
        try:
            data = self.store.get_bytes(self.manifest_key)
        except FileNotFoundError:
            return None
        return parse_manifest(data, source=self.store.uri(self.manifest_key))

    # --- save ------------------------------------------------------------------

    def save(self) -> SaveReport:
        """Send what changed since the last save, then write the manifest, then drop what no
        manifest names. Raises what the store raises; the previous save stays whole."""
        with self._shared.save_lock:
            start = time.perf_counter()
            if not self.local_dir.is_dir():
                raise WorkspaceSyncError(
                    f"workspace {self.prefix}: the working directory {self.local_dir} is missing; "
                    "nothing was saved (saving it would drop every saved file). Restore it first")
            notes: list[str] = []
            previous = self._shared.manifest
            previous_stored = previous is not None and bool(previous.entries)
            if previous is None:
                try:
                    previous = self._read_manifest()
                    previous_stored = previous is not None
                except WorkspaceSyncError as exc:
                    notes.append(f"the previous manifest was unreadable and is replaced ({exc})")
                previous = previous or Manifest({}, {})
            with self._shared.lock:
                unrestored = set(self._shared.unrestored)
            stored_packs = self._stored(PACKS)
            run = _Save(blobs=set(self._stored(BLOBS)), packs=dict(stored_packs), notes=notes)
            small, large, scanned = self._compare(previous, run)
            for rel in unrestored - scanned:  # not written locally yet: keep it
                old = previous.entries.get(rel)
                if old is not None and self._still_stored(old, run):
                    run.entries[rel] = old
            small += self._sparse_packs(run, unrestored)
            self._pack_small(small, run, previous)
            self._send_large(large, run, previous)

            entries = dict(sorted(run.entries.items()))
            files = [e for e in entries.values() if e["type"] == "file"]
            packs = {e["pack"] for e in files if "pack" in e}
            manifest = Manifest(entries, {pack: run.packs[pack] for pack in sorted(packs)})
            if manifest != previous or not previous_stored:  # else the stored one says it all
                self.store.put_bytes(self.manifest_key, _manifest_bytes(manifest))
            self._shared.manifest = manifest
            unused_blobs = run.blobs - {e["sha256"] for e in files if "pack" not in e}
            unused_packs = set(run.packs) - packs
            for sha in unused_blobs:
                self.store.delete_prefix(self.blob_key(sha))
            for pack in unused_packs:
                self.store.delete_prefix(self.pack_key(pack))
            report = SaveReport(files=len(files), bytes=sum(e["size"] for e in files), uploaded=run.uploaded,
                                uploaded_bytes=run.uploaded_bytes, hashed=len(small) + len(large),
                                objects=run.objects, removed=len(unused_blobs) + len(unused_packs),
                                notes=tuple(notes), seconds=time.perf_counter() - start)
            self.last_save = report
            for note in notes:
                log.info("workspace %s: %s", self.prefix, note)
            return report

    def _compare(self, previous: Manifest, run: _Save) -> tuple[
            list[tuple[str, Entry | None]], list[tuple[str, Entry | None]], set[str]]:
        """Walk the working directory: folders, links and unchanged files go into the new manifest;
        the changed files are returned, small and large, with their previous entries."""
        small: list[tuple[str, Entry | None]] = []
        large: list[tuple[str, Entry | None]] = []
        scanned: set[str] = set()
        for rel, st in self._scan(run.notes):
            scanned.add(rel)
            kind = stat.S_IFMT(st.st_mode)
            mode = stat.S_IMODE(st.st_mode) & _MODE_BITS
            old = previous.entries.get(rel)
            if kind == stat.S_IFDIR:
                run.entries[rel] = {"type": "dir", "mode": mode}
            elif kind == stat.S_IFLNK:
                try:
                    run.entries[rel] = {"type": "link", "target": os.readlink(self.local_dir / rel)}
                except FileNotFoundError:
                    continue  # removed since the listing
            elif kind == stat.S_IFREG:
                if (old is not None and old["type"] == "file" and old["size"] == st.st_size
                        and old["mtime_ns"] == st.st_mtime_ns and self._still_stored(old, run)):
                    run.entries[rel] = {**old, "mode": mode}
                else:
                    (small if st.st_size < self.packed_bytes else large).append((rel, old))
            else:
                run.notes.append(f"{rel}: not a file, folder or link (a socket, FIFO or device); not saved")
        return small, large, scanned

    def _scan(self, notes: list[str]) -> Iterator[tuple[str, os.stat_result]]:
        """Every folder, file and link below the working directory (links are not followed)."""
        folders = [""]
        while folders:
            rel = folders.pop()
            try:
                listing = os.scandir(self.local_dir / rel if rel else self.local_dir)
            except (FileNotFoundError, NotADirectoryError):
                continue  # removed (or replaced) since it was listed
            with listing:
                for item in listing:
                    if item.name.startswith(TEMP_PREFIX):
                        continue
                    path = f"{rel}/{item.name}" if rel else item.name
                    try:
                        path.encode()
                    except UnicodeEncodeError:
                        notes.append(f"{path.encode(errors='replace').decode()}: the name is not UTF-8; not saved")
                        continue
                    try:
                        st = item.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    yield path, st
                    if stat.S_ISDIR(st.st_mode):
                        folders.append(path)

    @staticmethod
    def _still_stored(entry: Entry, run: _Save) -> bool:
        if entry["type"] != "file":
            return False
        if "pack" in entry:
            return bool(entry["offset"] + entry["size"] <= run.packs.get(entry["pack"], -1))
        return entry["sha256"] in run.blobs

    @staticmethod
    def _sparse_packs(run: _Save, unrestored: set[str]) -> list[tuple[str, Entry | None]]:
        """The unchanged files of packs that are more than half dead, taken out of the manifest to
        be packed again from their local copies (the dead packs are then removed)."""
        live: dict[str, int] = {}
        for entry in run.entries.values():
            if "pack" in entry:
                live[entry["pack"]] = live.get(entry["pack"], 0) + entry["size"]
        sparse = {pack for pack, size in live.items() if size * 2 < run.packs[pack]}
        again: list[tuple[str, Entry | None]] = []
        for rel, entry in list(run.entries.items()):
            if entry.get("pack") in sparse and rel not in unrestored:
                again.append((rel, entry))
                del run.entries[rel]
        return again

    def _open_plain(self, rel: str) -> IO[bytes]:
        fd = os.open(self.local_dir / rel, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        return os.fdopen(fd, "rb")

    def _keep_previous(self, rel: str, old: Entry | None, run: _Save) -> None:
        """`rel` changed while it was read: its previous entry (the last good copy) stays."""
        run.notes.append(f"{rel}: changed while it was read; its previous save (if any) is kept")
        if old is not None and self._still_stored(old, run):
            run.entries[rel] = old

    def _pack_small(self, small: list[tuple[str, Entry | None]], run: _Save, previous: Manifest) -> None:
        """Read each small file whole and add it to the new pack (or name the pack that has its
        bytes already)."""
        known = {e["sha256"]: e for e in run.entries.values() if "pack" in e}
        writer = _PackWriter(self, run)
        for rel, old in small:
            try:
                with self._open_plain(rel) as handle:
                    before = os.fstat(handle.fileno())
                    if not stat.S_ISREG(before.st_mode):
                        continue  # replaced by something else since the listing
                    grew = before.st_size >= self.packed_bytes  # since the listing
                    data = b"" if grew else handle.read(before.st_size + 1)  # more: it is being written
                    same = _same(before, os.fstat(handle.fileno()), len(data))
            except FileNotFoundError:
                continue
            except OSError as exc:
                run.notes.append(f"{rel}: cannot be read ({_reason(exc)}); not saved")
                continue
            if grew:
                self._send_large([(rel, old)], run, previous)
                continue
            if not same:
                self._keep_previous(rel, old, run)
                continue
            sha = hashlib.sha256(data).hexdigest()
            entry = {"type": "file", "size": len(data), "mtime_ns": before.st_mtime_ns, "sha256": sha,
                     "mode": stat.S_IMODE(before.st_mode) & _MODE_BITS}
            there = known.get(sha)
            if there is not None:
                entry.update(pack=there["pack"], offset=there["offset"])
            else:
                writer.add(entry, data)
            run.entries[rel] = entry
        writer.flush()

    def _send_large(self, large: list[tuple[str, Entry | None]], run: _Save, previous: Manifest) -> None:
        """Hash the large files, then send one file for each hash no blob has yet."""
        if not large:
            return
        with ThreadPoolExecutor(self._workers, thread_name_prefix="workspace-save") as pool:
            hashed = list(pool.map(lambda item: self._hash_file(item[0]), large))
            new: dict[str, list[tuple[str, os.stat_result]]] = {}
            for (rel, old), (entry, st, note) in zip(large, hashed, strict=True):
                if note:
                    run.notes.append(note)
                if entry is None:
                    if st is not None:
                        self._keep_previous(rel, old, run)
                    continue
                run.entries[rel] = entry
                if entry["sha256"] not in run.blobs and st is not None:
                    new.setdefault(entry["sha256"], []).append((rel, st))
            sent = list(pool.map(lambda item: self._send(*item), new.items()))
        for (sha, candidates), size in zip(new.items(), sent, strict=True):
            if size is not None:
                run.uploaded += 1
                run.uploaded_bytes += size
                run.objects += 1
                run.blobs.add(sha)
                continue
            for rel, _ in candidates:  # every file with those bytes changed meanwhile
                del run.entries[rel]
                self._keep_previous(rel, previous.entries.get(rel), run)

    def _hash_file(self, rel: str) -> tuple[Entry | None, os.stat_result | None, str | None]:
        """Hash the file `rel` in pieces: (entry, its stat, note). No entry with a stat: the
        file changed while it was read. Neither: it is gone or cannot be read."""
        try:
            with self._open_plain(rel) as handle:
                before = os.fstat(handle.fileno())
                if not stat.S_ISREG(before.st_mode):
                    return None, None, None
                digest = hashlib.sha256()
                size = 0
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                if not _same(before, os.fstat(handle.fileno()), size):
                    return None, before, None
        except FileNotFoundError:
            return None, None, None
        except OSError as exc:
            return None, None, f"{rel}: cannot be read ({_reason(exc)}); not saved"
        entry = {"type": "file", "size": before.st_size, "mtime_ns": before.st_mtime_ns,
                 "sha256": digest.hexdigest(), "mode": stat.S_IMODE(before.st_mode) & _MODE_BITS}
        return entry, before, None

    def _send(self, sha: str, candidates: list[tuple[str, os.stat_result]]) -> int | None:
        """Store the blob `sha` from the first of `candidates` (files hashed to it) that stays the
        same while it is sent: its size, or None if every one of them changed."""
        key = self.blob_key(sha)
        for rel, hashed in candidates:
            try:
                self.store.put_file(key, self.local_dir / rel)
                if _same(hashed, os.stat(self.local_dir / rel, follow_symlinks=False), hashed.st_size):
                    return hashed.st_size
                self.store.delete_prefix(key)  # may not hold the bytes hashed
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
        return None

    # --- restore ---------------------------------------------------------------

    def restore(self, *, background: bool = True) -> RestoreReport:
        """Recreate the working directory from the last save (nothing to do if there is none).

        Files under `large_bytes` are written before this returns; larger ones by a background
        thread when `background` is true (see `pending` and `wait()`), here otherwise. Raises
        WorkspaceSyncError, before writing anything, for a manifest that is not safe to follow.
        """
        if self._shared.restore_thread is not None and self._shared.restore_thread.is_alive():
            raise WorkspaceSyncError(
                f"workspace {self.prefix}: a restore is still writing {len(self.pending)} large files "
                "in the background; call wait() (or stop()) before restoring again")
        start = time.perf_counter()
        self._shared.cancel.clear()
        self._shared.background_report = None
        manifest = self._read_manifest()
        self.local_dir.mkdir(parents=True, exist_ok=True)
        if manifest is None:
            self._shared.manifest = Manifest({}, {})
            return RestoreReport(seconds=time.perf_counter() - start)
        tally = _Tally()
        folders = _Folders(self.local_dir)
        handed_over = False
        try:
            for rel, entry in manifest.entries.items():  # sorted: parents first
                if entry["type"] == "dir":
                    self._restore_dir(folders, rel, entry, tally)
                elif entry["type"] == "link":
                    self._restore_link(folders, rel, entry, tally)
            files = [(rel, e) for rel, e in manifest.entries.items() if e["type"] == "file"]
            packed: dict[str, list[tuple[str, Entry]]] = {}  # small files, by pack
            for rel, entry in files:
                if "pack" in entry:
                    packed.setdefault(entry["pack"], []).append((rel, entry))
            loose = [(rel, e) for rel, e in files if "pack" not in e and e["size"] < self.large_bytes]
            large = [(rel, e) for rel, e in files if "pack" not in e and e["size"] >= self.large_bytes]
            with self._shared.lock:
                self._shared.unrestored = {rel for rel, _ in files}
                self._shared.pending = {rel for rel, _ in large}
            self._shared.manifest = manifest
            with ThreadPoolExecutor(self._workers, thread_name_prefix="workspace-restore") as pool:
                jobs = [pool.submit(self._restore_range, folders, pack, group, tally)
                        for pack, items in packed.items() for group in _ranges(self._to_write(folders, items, tally))]
                jobs += [pool.submit(self._restore_blob, folders, rel, entry, tally) for rel, entry in loose]
                for job in jobs:
                    job.result()
            deferred = tuple(rel for rel, _ in large)
            deferred_bytes = sum(e["size"] for _, e in large)
            if not large:
                return tally.report(start)
            if not background:
                self._restore_blobs(folders, large, tally)
                return tally.report(start)
            thread = threading.Thread(target=self._restore_background, args=(folders, large),
                                      name=f"workspace-restore {self.prefix}", daemon=True)
            self._shared.restore_thread = thread
            thread.start()
            handed_over = True  # the thread closes the folders
            return tally.report(start, deferred, deferred_bytes)
        except _Cancelled:
            raise WorkspaceSyncError(f"workspace {self.prefix}: stop() was called during the restore; "
                                     "what was not written stays saved") from None
        finally:
            if not handed_over:
                folders.close()

    @property
    def pending(self) -> tuple[str, ...]:
        """The large files a background restore has not written yet."""
        with self._shared.lock:
            return tuple(sorted(self._shared.pending))

    def wait(self, timeout: float | None = None) -> RestoreReport | None:
        """Wait for the background part of `restore()`; its report, or None if still running."""
        thread = self._shared.restore_thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                return None
        return self._shared.background_report or RestoreReport()

    def _restore_background(self, folders: _Folders, large: list[tuple[str, Entry]]) -> None:
        start = time.perf_counter()
        tally = _Tally()
        try:
            self._restore_blobs(folders, large, tally)
        except _Cancelled:
            tally.notes.append("stopped before every large file was written; they stay saved")
        except Exception:  # the thread must end with a report, whatever happened
            log.exception("workspace %s: the background restore failed", self.prefix)
            tally.notes.append("the background restore failed (see the server log); the files stay saved")
        finally:
            folders.close()
            with self._shared.lock:
                self._shared.pending.clear()
            self._shared.background_report = tally.report(start)
        for note in tally.notes:
            log.warning("workspace %s: %s", self.prefix, note)

    def _restore_blobs(self, folders: _Folders, files: list[tuple[str, Entry]], tally: _Tally) -> None:
        with ThreadPoolExecutor(self._workers, thread_name_prefix="workspace-restore") as pool:
            for _ in pool.map(lambda item: self._restore_blob(folders, item[0], item[1], tally), files):
                pass

    def _restore_blob(self, folders: _Folders, rel: str, entry: Entry, tally: _Tally) -> None:
        self._restore_file(folders, rel, entry, lambda out: self._copy_blob(entry, out), tally)

    def _to_write(self, folders: _Folders, items: list[tuple[str, Entry]], tally: _Tally) -> list[tuple[str, Entry]]:
        """The packed files that are not already there locally (those are recorded)."""
        needed = []
        for rel, entry in items:
            try:
                with folders.parent(rel) as (folder, name):
                    outcome = _local_outcome(_lstat_at(folder, name), entry)
            except OSError as exc:
                self._record(rel, entry, None, exc, tally)
                continue
            if outcome is None:
                needed.append((rel, entry))
            else:
                self._record(rel, entry, outcome, None, tally)
        return needed

    def _restore_range(self, folders: _Folders, pack: str, group: list[tuple[str, Entry]], tally: _Tally) -> None:
        """Packed files that lie close together in their pack: one ranged read, then each file."""
        first = group[0][1]["offset"]
        last = max(e["offset"] + e["size"] for _, e in group)
        key = self.store.uri(self.pack_key(pack))
        try:
            data = self.store.fs.cat_file(key, start=first, end=last) if last > first else b""
        except FileNotFoundError:
            error = WorkspaceSyncError(f"its pack {self.pack_key(pack)} is missing from the object store")
            for rel, entry in group:
                self._record(rel, entry, None, error, tally)
            return
        for rel, entry in group:
            piece = memoryview(data)[entry["offset"] - first:entry["offset"] - first + entry["size"]]
            self._restore_file(folders, rel, entry, _piece_writer(piece, entry), tally)

    def _restore_file(self, folders: _Folders, rel: str, entry: Entry,
                      fill: Callable[[IO[bytes]], None], tally: _Tally) -> None:
        try:
            outcome = self._write_file(folders, rel, entry, fill)
        except (OSError, WorkspaceSyncError) as exc:
            self._record(rel, entry, None, exc, tally)
            return
        self._record(rel, entry, outcome, None, tally)

    def _record(self, rel: str, entry: Entry, outcome: str | None, error: BaseException | None,
                tally: _Tally) -> None:
        with self._shared.lock:
            self._shared.pending.discard(rel)
            if error is not None:
                tally.notes.append(f"{rel}: not restored ({_reason(error)}); it stays saved")
                return
            self._shared.unrestored.discard(rel)
            if outcome == "written":
                tally.written += 1
                tally.written_bytes += entry["size"]
            elif outcome == "unchanged":
                tally.unchanged += 1
            else:
                tally.kept_local += 1
                tally.notes.append(f"{rel}: {outcome}; the local file is kept")

    def _restore_dir(self, folders: _Folders, rel: str, entry: Entry, tally: _Tally) -> None:
        try:
            with folders.parent(rel) as (folder, name):
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o700, dir_fd=folder)
                fd = os.open(name, _DIR_FLAGS, dir_fd=folder)
                try:
                    os.fchmod(fd, entry["mode"] | 0o700)  # the owner keeps writing into it
                finally:
                    os.close(fd)
        except OSError as exc:
            tally.notes.append(f"{rel}/: not restored ({_reason(exc)})")

    def _restore_link(self, folders: _Folders, rel: str, entry: Entry, tally: _Tally) -> None:
        try:
            with folders.parent(rel) as (folder, name):
                try:
                    os.symlink(entry["target"], name, dir_fd=folder)
                except FileExistsError:
                    if not _is_link_to(folder, name, entry["target"]):
                        tally.kept_local += 1
                        tally.notes.append(f"{rel}: something else is there locally; the link is not restored")
        except OSError as exc:
            tally.notes.append(f"{rel}: link not restored ({_reason(exc)})")

    def _write_file(self, folders: _Folders, rel: str, entry: Entry, fill: Callable[[IO[bytes]], None]) -> str:
        """Write one file through a temporary name: 'written', 'unchanged', or why the local
        one is kept."""
        with folders.parent(rel) as (folder, name):
            before = _lstat_at(folder, name)
            outcome = _local_outcome(before, entry)
            if outcome is not None:
                return outcome
            temp = f"{TEMP_PREFIX}{secrets.token_hex(8)}"
            out = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                          0o600, dir_fd=folder)
            try:
                with os.fdopen(out, "wb") as handle:
                    fill(handle)
                    os.fchmod(handle.fileno(), entry["mode"])
                    handle.flush()
                    os.utime(handle.fileno(), ns=(entry["mtime_ns"], entry["mtime_ns"]))
                return _place(folder, temp, name, before)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp, dir_fd=folder)

    def _copy_blob(self, entry: Entry, out: IO[bytes]) -> None:
        key = self.blob_key(entry["sha256"])
        digest = hashlib.sha256()
        try:
            source = self.store.fs.open(self.store.uri(key), "rb")
        except FileNotFoundError:
            raise WorkspaceSyncError(f"its blob {key} is missing from the object store") from None
        with source:
            while chunk := source.read(CHUNK):
                if self._shared.cancel.is_set():
                    raise _Cancelled()
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != entry["sha256"]:
            raise WorkspaceSyncError(f"its blob {key} does not hold the saved bytes (another hash)")

    # --- periodic save ---------------------------------------------------------

    def start_periodic(self, interval_s: float) -> None:
        """Save every `interval_s` seconds on a thread until `stop()`; failures are logged."""
        if interval_s <= 0:
            raise ValueError(f"the periodic save interval must be more than 0 seconds; found {interval_s}")
        if self._periodic is not None and self._periodic.is_alive():
            raise WorkspaceSyncError(f"workspace {self.prefix}: periodic saves are running already")
        self._stopping.clear()
        self._periodic = threading.Thread(target=self._save_every, args=(interval_s,),
                                          name=f"workspace-save {self.prefix}", daemon=True)
        self._periodic.start()

    def _save_every(self, interval_s: float) -> None:
        while not self._stopping.wait(interval_s):
            try:
                self.save()
            except Exception:  # logged; the next round tries again
                log.exception("workspace %s: the periodic save failed", self.prefix)

    def stop(self, timeout: float | None = None) -> None:
        """End the periodic saves (after the one running) and a background restore.

        Files the background restore had not written stay in the manifest of the next save.
        """
        self._stopping.set()
        self._shared.cancel.set()
        for thread in (self._periodic, self._shared.restore_thread):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)



class _PackWriter:
    """Small files' bytes gathered into packs of about PACK_BYTES, each sent in one PUT."""

    def __init__(self, sync: WorkspaceSync, run: _Save) -> None:
        self._sync = sync
        self._run = run
        self._buffer = bytearray()
        self._offsets: dict[str, int] = {}  # sha256 -> offset in this pack
        self._waiting: list[Entry] = []  # entries that will name this pack

    def add(self, entry: Entry, data: bytes) -> None:
        offset = self._offsets.get(entry["sha256"])
        if offset is None:
            offset = self._offsets[entry["sha256"]] = len(self._buffer)
            self._buffer += data
            self._run.uploaded += 1
            self._run.uploaded_bytes += len(data)
        entry["offset"] = offset
        self._waiting.append(entry)
        if len(self._buffer) >= PACK_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self._waiting:
            return
        data = bytes(self._buffer)
        pack = hashlib.sha256(data).hexdigest()
        self._sync.store.put_bytes(self._sync.pack_key(pack), data)
        self._run.packs[pack] = len(data)
        self._run.objects += 1
        for entry in self._waiting:
            entry["pack"] = pack
        self._buffer = bytearray()
        self._offsets.clear()
        self._waiting = []


# --- manifest ------------------------------------------------------------------


def _manifest_bytes(manifest: Manifest) -> bytes:
    value = {"version": VERSION, "saved_at": dt.datetime.now(dt.timezone.utc).isoformat(),
             "packs": manifest.packs, "entries": manifest.entries}
    return json.dumps(value, separators=(",", ":")).encode()


def parse_manifest(data: bytes, *, source: str = MANIFEST) -> Manifest:
    """A manifest, checked whole: every path stays inside the working directory, every packed
    file inside its pack."""

    def refuse(what: str) -> WorkspaceSyncError:
        return WorkspaceSyncError(
            f"the workspace manifest {source} {what}; nothing was restored. A manifest is written "
            "by plait's save: restore from another save or remove this one")

    try:
        value = json.loads(data)
    except ValueError as exc:
        raise refuse(f"is not JSON ({exc})") from None
    if (not isinstance(value, dict) or value.get("version") != VERSION
            or not isinstance(value.get("entries"), dict) or not isinstance(value.get("packs", {}), dict)):
        raise refuse(f"is not a version {VERSION} manifest (an object with 'version', 'packs' and 'entries')")
    packs = cast(dict[str, Any], value.get("packs", {}))
    for pack, size in packs.items():
        if not _SHA256.match(pack) or not _is_int(size) or size < 0:
            raise refuse(f"names a pack {pack!r} that is not a SHA-256 with a size")
    entries = cast(dict[str, Any], value["entries"])
    for rel, entry in entries.items():
        _check_entry(rel, entry, packs, refuse)
    for rel in entries:
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            above = entries.get("/".join(parts[:depth]))
            if above is not None and above["type"] != "dir":
                raise refuse(f"has {rel!r} below the {above['type']} {'/'.join(parts[:depth])!r}")
    return Manifest({rel: entries[rel] for rel in sorted(entries)}, dict(packs))


def _check_entry(rel: object, entry: object, packs: dict[str, Any],
                 refuse: Callable[[str], WorkspaceSyncError]) -> None:
    if not isinstance(rel, str) or not rel:
        raise refuse(f"has an empty or non-text path {rel!r}")
    if rel.startswith("/") or "\x00" in rel or any(p in ("", ".", "..") for p in rel.split("/")):
        raise refuse(f"has the path {rel!r}, which is not a plain relative path inside the working "
                     "directory (absolute, empty parts, '.' or '..')")
    if not isinstance(entry, dict) or entry.get("type") not in ("file", "dir", "link"):
        raise refuse(f"has an entry {rel!r} that is not a file, folder or link")
    if entry["type"] == "link":
        target = entry.get("target")
        if not isinstance(target, str) or not target or "\x00" in target:
            raise refuse(f"has a link {rel!r} without a target")
        return
    if not _is_int(entry.get("mode")) or not 0 <= entry["mode"] <= _MODE_BITS:
        raise refuse(f"has an entry {rel!r} without a mode from 0 to 0o777")
    if entry["type"] != "file":
        return
    if not (_is_int(entry.get("size")) and entry["size"] >= 0 and _is_int(entry.get("mtime_ns"))
            and isinstance(entry.get("sha256"), str) and _SHA256.match(entry["sha256"])):
        raise refuse(f"has a file {rel!r} without a size, mtime_ns and sha256")
    if "pack" in entry:
        pack, offset = entry["pack"], entry.get("offset")
        if (not isinstance(pack, str) or pack not in packs or not isinstance(offset, int) or not _is_int(offset)
                or offset < 0 or offset + entry["size"] > packs[pack]):
            raise refuse(f"has a file {rel!r} whose pack range is not inside a pack it lists")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ranges(items: list[tuple[str, Entry]]) -> list[list[tuple[str, Entry]]]:
    """Packed files in groups that one ranged read fetches: neighbours less than RANGE_GAP
    apart, up to about RANGE_BYTES a group (or one file)."""
    groups: list[list[tuple[str, Entry]]] = []
    first = end = 0
    for rel, entry in sorted(items, key=lambda item: item[1]["offset"]):
        offset, stop = entry["offset"], entry["offset"] + entry["size"]
        if groups and offset - end <= RANGE_GAP and stop - first <= RANGE_BYTES:
            groups[-1].append((rel, entry))
            end = max(end, stop)
        else:
            groups.append([(rel, entry)])
            first, end = offset, stop
    return groups


def _piece_writer(piece: memoryview, entry: Entry) -> Callable[[IO[bytes]], None]:
    """What writes a packed file's bytes, once they are checked against its hash."""

    def write(out: IO[bytes]) -> None:
        if hashlib.sha256(piece).hexdigest() != entry["sha256"]:
            raise WorkspaceSyncError(f"its bytes in pack {entry['pack']} are not the saved ones (another hash)")
        out.write(piece)

    return write


# --- writing without following links ---------------------------------------------


class _Folders:
    """The folders of the working directory, opened from its root without following any link
    (a link or a file in the way raises NotADirectoryError) and kept open for one restore."""

    def __init__(self, root: Path) -> None:
        self._open: dict[str, int] = {"": os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def parent(self, rel: str) -> Iterator[tuple[int, str]]:
        """The folder of `rel` (made where missing) and the name of `rel` in it."""
        folder, _, name = rel.rpartition("/")
        yield self._folder(folder, rel), name

    def _folder(self, folder: str, rel: str) -> int:
        with self._lock:
            found = self._open.get(folder)
            if found is not None:
                return found
            above, _, part = folder.rpartition("/")
        outer = self._folder(above, rel)
        try:
            inner = os.open(part, _DIR_FLAGS, dir_fd=outer)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o700, dir_fd=outer)
            inner = _open_dir(outer, part, rel)
        except OSError as exc:
            raise _in_the_way(rel, part, exc) from None
        with self._lock:
            if folder in self._open:  # another thread opened it meanwhile
                os.close(inner)
                return self._open[folder]
            self._open[folder] = inner
            return inner

    def close(self) -> None:
        with self._lock:
            for fd in self._open.values():
                os.close(fd)
            self._open.clear()


def _open_dir(folder: int, part: str, rel: str) -> int:
    try:
        return os.open(part, _DIR_FLAGS, dir_fd=folder)
    except OSError as exc:
        raise _in_the_way(rel, part, exc) from None


def _in_the_way(rel: str, part: str, exc: OSError) -> OSError:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return NotADirectoryError(errno.ENOTDIR, f"{part!r} on the way to {rel!r} is a link or a file locally")
    return exc


def _lstat_at(folder: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _local_outcome(before: os.stat_result | None, entry: Entry) -> str | None:
    """Why the local file at a saved file's path is left alone, or None to write it."""
    if before is None:
        return None
    if not stat.S_ISREG(before.st_mode):
        return "not a file locally"
    if before.st_size == entry["size"] and before.st_mtime_ns == entry["mtime_ns"]:
        return "unchanged"
    if before.st_mtime_ns > entry["mtime_ns"]:
        return "newer locally"
    return None


def _is_link_to(folder: int, name: str, target: str) -> bool:
    try:
        return os.readlink(name, dir_fd=folder) == target
    except OSError:
        return False


def _place(folder: int, temp: str, name: str, before: os.stat_result | None) -> str:
    """Move the restored `temp` to `name` unless the local file changed since it was looked at."""
    if before is None:
        try:
            os.link(temp, name, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=False)
            return "written"
        except FileExistsError:
            return "created locally during the restore"
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            # no hard links on this filesystem: check, then rename (a short window)
            if _lstat_at(folder, name) is not None:
                return "created locally during the restore"
            os.rename(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
            return "written"
    now = _lstat_at(folder, name)
    if now is None or (now.st_ino, now.st_size, now.st_mtime_ns) != (before.st_ino, before.st_size, before.st_mtime_ns):
        return "changed locally during the restore"
    os.rename(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
    return "written"


def _same(before: os.stat_result, after: os.stat_result, size: int) -> bool:
    """The file read as `before` is still the same (`size` bytes read; size, mtime and inode kept)."""
    return (size == before.st_size == after.st_size and after.st_mtime_ns == before.st_mtime_ns
            and after.st_ino == before.st_ino)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror if not exc.filename else f"{exc.strerror}: {exc.filename}"
    return str(exc)

