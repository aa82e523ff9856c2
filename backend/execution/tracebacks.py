"""A failed attempt's traceback as its author reads it: their own frames, their own file names.

A task that fails on a worker raises through plait's frames (the worker, the
attempt runner) before it reaches the user's code, and the user's files sit in
the folder the worker extracted the registered bundle into
(`/tmp/plait-bundles-…/<digest>/workflows/train.py`). `shape` renders the
exception twice:

- `user`: Python's familiar layout (most recent call last, chained exceptions
  kept) with only the frames of the user's code and of the libraries it called,
  each bundle file named as it was registered (`workflows/train.py`);
- `full`: every frame, the bundle files named the same way, for a bug in plait.

An exception with no frame of the user's anywhere in its chain (plait failed
on its own) keeps every frame in `user` too: there is nothing to fold it to.
`trim` shortens a rendering from the middle, so the first frames and the
exception line survive a long text.
"""

from __future__ import annotations

import os
import sysconfig
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

import plait.errors

Where = Literal["user", "plait", "library"]

# plait's own code: the kernel (`plait`) and the backend (`plait.backend`, this package's parent).
PLAIT_DIRS = tuple(sorted({
    os.path.dirname(os.path.abspath(plait.errors.__file__)),
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
}))


def _library_dirs() -> tuple[str, ...]:
    """Python's standard library and the installed packages: code the user calls, not writes."""
    paths = sysconfig.get_paths()
    found: set[str] = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if paths.get(key):
            found.add(os.path.abspath(paths[key]))
            found.add(os.path.realpath(paths[key]))
    return tuple(sorted(found))


LIBRARY_DIRS = _library_dirs()


@dataclass(frozen=True)
class Shaped:
    """An exception rendered for its author (`user`) and in full (`full`)."""

    user: str
    full: str
    folded: int  # frames in `full` that `user` leaves out


def _under(path: str, folders: Iterable[str]) -> bool:
    return any(path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


class _Frames:
    """Where a frame's file belongs, and the name the user knows it by."""

    def __init__(self, bundles: Iterable[str], plait_dirs: Iterable[str], library_dirs: Iterable[str]) -> None:
        # Longest first: a bundle folder lies inside the temporary folder, which may be a library's.
        self.bundles = sorted({os.path.abspath(b).rstrip(os.sep) for b in bundles}, key=len, reverse=True)
        self.plait_dirs = tuple(plait_dirs)
        self.library_dirs = tuple(library_dirs)

    def registered(self, filename: str) -> str | None:
        """`workflows/train.py` for a file of an extracted bundle, else None."""
        for folder in self.bundles:
            if filename.startswith(folder + os.sep):
                return filename[len(folder) + 1:].replace(os.sep, "/")
        return None

    def where(self, filename: str) -> Where:
        if self.registered(filename) is not None:
            return "user"
        if _under(filename, self.plait_dirs):
            return "plait"
        if filename.startswith("<frozen ") or _under(filename, self.library_dirs):
            return "library"
        return "user"  # a file shipped by value keeps its path on the machine that registered it


def _chain(te: traceback.TracebackException) -> Iterator[traceback.TracebackException]:
    """`te` and every exception it was raised from, in, or with (an exception group's members)."""
    seen: set[int] = set()
    todo = [te]
    while todo:
        one = todo.pop()
        if id(one) in seen:
            continue
        seen.add(id(one))
        yield one
        todo.extend(t for t in (one.__cause__, one.__context__) if t is not None)
        todo.extend(getattr(one, "exceptions", None) or ())


def _user_frames(stack: traceback.StackSummary, frames: _Frames) -> list[traceback.FrameSummary]:
    """The frames of the user's code and of what it called outside plait.

    Before the first user frame everything is the machinery that called it (plait, threads,
    the import system); after it, a library frame is shown when the user's code called it,
    and folded when plait did.
    """
    kept: list[traceback.FrameSummary] = []
    called_by_user = False
    for frame in stack:
        where = frames.where(frame.filename)
        if where == "user":
            called_by_user = True
            kept.append(frame)
        elif where == "plait":
            called_by_user = False
        elif called_by_user:
            kept.append(frame)
    return kept


def shape(exc: BaseException, *, bundles: Iterable[str] = (), plait_dirs: Iterable[str] | None = None,
          library_dirs: Iterable[str] | None = None) -> Shaped:
    """`exc` rendered for its author and in full (see the module's docstring).

    `bundles`: the folders registered bundles were extracted into; their files are named
    relative to them, as they were registered. `plait_dirs` and `library_dirs` default to
    plait's own folders (PLAIT_DIRS) and Python's (LIBRARY_DIRS).
    """
    frames = _Frames(bundles, PLAIT_DIRS if plait_dirs is None else plait_dirs,
                     LIBRARY_DIRS if library_dirs is None else library_dirs)
    try:
        return _shape(exc, frames)
    except Exception:  # noqa: BLE001 - the error must reach its record: Python's rendering, every frame
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return Shaped(text, text, 0)


def _shape(exc: BaseException, frames: _Frames) -> Shaped:
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__)  # reads the source lines now
    chain = list(_chain(te))
    kept = {id(one): _user_frames(one.stack, frames) for one in chain}
    in_user_file = any(frames.where(name) == "user" for name in (getattr(one, "filename", None) for one in chain)
                       if name)  # a SyntaxError in the user's code: its file and line are the user's
    for one in chain:
        for frame in one.stack:
            frame.filename = frames.registered(frame.filename) or frame.filename
        if getattr(one, "filename", None):  # a SyntaxError's file (only a SyntaxError has one)
            one.filename = frames.registered(one.filename) or one.filename
    full = "".join(te.format())
    if not any(kept.values()) and not in_user_file:
        return Shaped(full, full, 0)
    folded = sum(len(one.stack) - len(kept[id(one)]) for one in chain)
    for one in chain:
        one.stack = traceback.StackSummary.from_list(kept[id(one)])
    return Shaped("".join(te.format()), full, folded)


def trim(text: str, limit: int) -> str:
    """`text` at most about `limit` characters: its head and its tail (where the exception
    line is), whole lines, with how much was left out between them."""
    if len(text) <= limit:
        return text
    head = text[: limit // 4]
    head = head[: head.rfind("\n") + 1] or head
    tail = text[len(text) - (limit - len(head)):]
    cut = tail.find("\n")
    tail = tail[cut + 1:] if 0 <= cut < len(tail) - 1 else tail
    left_out = len(text) - len(head) - len(tail)
    return f"{head}  … {left_out} characters left out …\n{tail}"
