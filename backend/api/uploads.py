"""Uploads of code: a body streamed to a private temporary file, checked, then stored.

`receive` writes the body to a temporary file (mode 0600, outside the object
store) as it arrives, hashing it on the way, and refuses it past the size
limit (413) or when its sha256 is not the digest the URL names (422).
`check_bundle` reads a code bundle back as a stream and accepts only a gzip
tar of regular files and folders with relative paths, within the expansion
limits of `UploadLimits` (config.py); it never extracts anything. Only what
passes reaches the object store, so a refused upload leaves nothing there.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import tarfile
import tempfile
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from ..config import UploadLimits
from .errors import InvalidField, TooLarge

MiB = 1024 * 1024
# Bundles that expand to less than this are not held to the ratio: tar pads even
# one small file to 10 KiB, which gzip turns into a hundred bytes.
RATIO_FLOOR_BYTES = 1 * MiB
_CHUNK = 1024 * 1024


def _size(n: int) -> str:
    return f"{n / MiB:.0f} MiB" if n >= MiB else f"{n} bytes"


@dataclass(frozen=True)
class Received:
    """A body on disk: its temporary file (the caller removes it), size and sha256."""

    path: str
    size: int


async def receive(chunks: AsyncIterator[bytes], digest: str, *, limit: int,
                  declared: str | None = None) -> Received:
    """Stream `chunks` into a temporary file; TooLarge past `limit`, InvalidField if the sha256
    is not `digest`. On any failure the file is gone."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(
            f"the upload is {_size(int(declared))}; this server accepts uploads of up to "
            f"{_size(limit)} (PLAIT_MAX_UPLOAD_BYTES)", field="body",
        )
    fd, path = tempfile.mkstemp(prefix="plait-upload-")
    try:
        hasher, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as handle:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(
                        f"the upload is larger than {_size(limit)}, the most this server accepts "
                        "(PLAIT_MAX_UPLOAD_BYTES)", field="body",
                    )
                hasher.update(chunk)
                handle.write(chunk)
        found = hasher.hexdigest()
        if found != digest:
            raise InvalidField(
                f"the body's sha256 is {found}, not {digest} as the URL says; upload the bytes "
                "whose digest you name",
                field="digest",
            )
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise
    return Received(path, size)


@contextlib.contextmanager
def removed_after(received: Received) -> Iterator[Received]:
    try:
        yield received
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(received.path)


class _Bounded:
    """A readable stream that stops with TooLarge once more than `cap` bytes came out of it."""

    def __init__(self, inner: io.BufferedIOBase, cap: int, why: str) -> None:
        self.inner, self.cap, self.why, self.count = inner, cap, why, 0

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(self.cap + 1 - self.count if n is None or n < 0 else n)
        self.count += len(data)
        if self.count > self.cap:
            raise TooLarge(self.why, field="body")
        return data


_KINDS = [
    (tarfile.TarInfo.issym, "a symbolic link"),
    (tarfile.TarInfo.islnk, "a hard link"),
    (tarfile.TarInfo.ischr, "a character device"),
    (tarfile.TarInfo.isblk, "a block device"),
    (tarfile.TarInfo.isfifo, "a FIFO"),
]


def _entry_problem(member: tarfile.TarInfo) -> str | None:
    name = member.name
    if not (member.isreg() or member.isdir()):
        kind = next((what for test, what in _KINDS if test(member)), f"of tar type {member.type!r}")
        return f"is {kind}; a bundle holds only regular files and folders"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path; bundle paths are relative to the bundle's root"
    if "\\" in name:
        return "contains a backslash; bundle paths separate folders with '/'"
    if ".." in name.split("/"):
        return "contains '..'; bundle paths may not leave the bundle's root"
    return None


def check_bundle(path: str, size: int, limits: UploadLimits) -> int:
    """Check the gzip tar at `path` (`size` bytes) without extracting it; the number of entries.

    InvalidField (naming the entry) for what may not be in a bundle, TooLarge for one
    that expands past the limits.
    """
    cap = min(limits.max_bundle_bytes, max(limits.max_bundle_ratio * size, RATIO_FLOOR_BYTES))
    if cap == limits.max_bundle_bytes:
        why = (f"the bundle expands to more than {_size(cap)}, the most this server accepts "
               "(PLAIT_MAX_BUNDLE_BYTES)")
    else:
        why = (f"the bundle expands to more than {limits.max_bundle_ratio} times its {_size(size)} "
               f"(PLAIT_MAX_BUNDLE_RATIO); a bundle holds module sources, not data")
    with open(path, "rb") as raw:
        if raw.read(2) != b"\x1f\x8b":
            raise InvalidField("a code bundle must be a gzip-compressed tar file (a .tar.gz)", field="body")
        raw.seek(0)
        stream = _Bounded(gzip.GzipFile(fileobj=raw, mode="rb"), cap, why)
        count = 0
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
                for member in tar:
                    count += 1
                    if count > limits.max_bundle_entries:
                        raise TooLarge(
                            f"the bundle has more than {limits.max_bundle_entries} entries, the most "
                            "this server accepts (PLAIT_MAX_BUNDLE_ENTRIES)", field="body",
                        )
                    problem = _entry_problem(member)
                    if problem is not None:
                        raise InvalidField(f"bundle entry `{member.name}` {problem}", field="body")
            while stream.read(_CHUNK):  # the rest of the gzip stream: bounded, and its CRC checked
                pass
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise InvalidField(
                f"the body is not a readable gzip-compressed tar file ({exc}); upload the .tar.gz "
                "that plait.remote.bundle builds", field="body",
            ) from None
    return count
