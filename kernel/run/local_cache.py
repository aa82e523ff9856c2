"""The local cache: outputs of cached nodes under `$PLAIT_HOME/local-cache/` (0700).

One file per key, written atomically. Serialized nodes take a per-key lock
(a thread lock, then an `flock` on a lock file) so that concurrent identical
nodes, in this process or another, run once and the rest read the result.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..model import home as layout

_MISS = object()


def cache_enabled() -> bool:
    for var in ("PLAIT_LOCAL_CACHE_ENABLED", "FLYTE_LOCAL_CACHE_ENABLED"):
        value = os.environ.get(var)
        if value is not None:
            return value.strip().lower() not in ("0", "false", "no", "off")
    return True


def cache_root() -> str:
    return str(layout.plait_home() / layout.LOCAL_CACHE)


_stores: dict[str, LocalCache] = {}


def store_for_home() -> LocalCache:
    """The store of the current PLAIT_HOME (one object per folder, shared by runs)."""
    root = cache_root()
    store = _stores.get(root)
    if store is None:
        store = _stores.setdefault(root, LocalCache(Path(root)))
    return store


class LocalCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or Path(cache_root())
        self._root = str(self.root)
        self._locks: dict[str, threading.Lock] = {}
        self._private = False  # the root was made private (0700) by this object
        self._guard = threading.Lock()
        # key -> (mtime_ns, size, pickled bytes) of small entries this process read
        # or wrote; a stat() confirms the file is unchanged, and unpickling the
        # bytes hands every run its own copy of the values.
        self._recent: dict[str, tuple[int, int, bytes]] = {}

    _RECENT_MAX_BYTES = 64 * 1024
    _RECENT_MAX_ENTRIES = 4096

    def get(self, key: str) -> Any:
        """The cached outputs for `key`, or `MISS`."""
        path = f"{self._root}/{key[:2]}/{key}.pkl"
        try:
            st = os.stat(path)
            recent = self._recent.get(key)
            if recent is not None and recent[0] == st.st_mtime_ns and recent[1] == st.st_size:
                return pickle.loads(recent[2])
            with open(path, "rb") as fh:
                data = fh.read()
            outputs = pickle.loads(data)
        except FileNotFoundError:
            self._recent.pop(key, None)
            return _MISS
        except (EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            return _MISS  # a damaged or stale entry is a miss, never an error
        self._remember(key, st, data)
        return outputs

    def _remember(self, key: str, st: os.stat_result, data: bytes) -> None:
        if len(data) <= self._RECENT_MAX_BYTES:
            if len(self._recent) >= self._RECENT_MAX_ENTRIES:
                self._recent.clear()
            self._recent[key] = (st.st_mtime_ns, st.st_size, data)

    def _folder(self, key: str) -> Path:
        """The folder of `key`'s entry, made now; the root is made private (0700) first."""
        if not self._private:
            layout.ensure_private(self.root)
            self._private = True
        folder = self.root / key[:2]
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
        except FileNotFoundError:  # the root is gone (another process cleared the cache)
            layout.ensure_private(self.root)
            folder.mkdir(mode=0o700, exist_ok=True)
        return folder

    def put(self, key: str, outputs: dict[str, Any]) -> bool:
        """Store outputs; returns False (and stores nothing) if they cannot be pickled."""
        path = self._folder(key) / f"{key}.pkl"
        try:
            data = pickle.dumps(outputs, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - unpicklable outputs are simply not cached
            return False
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        self._remember(key, os.stat(path), data)
        return True

    @contextlib.contextmanager
    def reservation(self, key: str) -> Iterator[None]:
        """Hold the key so that one run computes it while the others wait."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            lock_path = self._folder(key) / f"{key}.lock"
            with os.fdopen(layout.open_file_private(lock_path), "a") as fh:
                try:
                    import fcntl

                    fcntl.flock(fh, fcntl.LOCK_EX)
                except ImportError:  # pragma: no cover - not on POSIX
                    pass
                yield

    def clear(self) -> int:
        """Remove every entry; returns how many were removed."""
        if not self.root.exists():
            return 0
        count = sum(1 for _ in self.root.rglob("*.pkl"))
        shutil.rmtree(self.root, ignore_errors=True)
        self._recent.clear()
        self._private = False
        return count


MISS = _MISS
