"""Errors from plait cells, shown short.

IPython asks an exception for `_render_traceback_()` before formatting its
own traceback; `shorten` attaches one. A plait `UserError` becomes its
message plus the cell line that caused it; any other error (the user's own
code failing inside a task) keeps its traceback but loses the frames of
plait, IPython and the thread pool, which say nothing to the user.
"""

from __future__ import annotations

import linecache
import os
import sys
import types
from typing import Any

from ..errors import PlaitError

_PLAIT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_RED, _BOLD, _DIM, _RESET = "\x1b[31m", "\x1b[1m", "\x1b[2m", "\x1b[0m"


def _internal(filename: str) -> bool:
    if filename.startswith(_PLAIT_DIR + os.sep):
        return True
    parts = filename.replace("\\", "/").split("/")
    return any(p in ("IPython", "ipykernel", "concurrent", "threading.py") for p in parts[-3:])


def cell_frames(tb: types.TracebackType | None, cells: dict[str, int]) -> list[tuple[str, int]]:
    """(filename, line) of every traceback frame that runs code from a notebook cell."""
    out = []
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name in cells:
            out.append((name, tb.tb_lineno))
        tb = tb.tb_next
    return out


def short_lines(exc: BaseException, cells: dict[str, int], where: tuple[str, int] | None = None) -> list[str]:
    """Message lines for a plait error: `Type: message` and the offending cell line."""
    lines = [f"{_RED}{_BOLD}{type(exc).__name__}{_RESET}: {exc}"]
    for note in getattr(exc, "__notes__", ()) or ():
        lines.append(f"  {note}")
    cause: BaseException | None = exc
    while where is None and cause is not None:  # e.g. a CompileError raised from a NameError
        frames = cell_frames(cause.__traceback__, cells)
        where = frames[-1] if frames else None
        cause = cause.__cause__ or cause.__context__
    if where is not None:
        filename, lineno = where
        text = linecache.getline(filename, lineno).strip()
        if text.startswith("# %%"):  # the magic line, kept as a comment in the compiled cell
            text = text[2:]
        count = cells.get(filename)
        label = f"Cell In[{count}]" if count else os.path.basename(filename)
        if text:
            lines.append(f"{_DIM}  at {label}, line {lineno}:{_RESET} {text}")
    return lines


def _user_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback without plait's and IPython's own frames."""
    kept: list[types.TracebackType] = []
    while tb is not None:
        if not _internal(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    new: types.TracebackType | None = None
    for t in reversed(kept):
        new = types.TracebackType(new, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return new


def shorten(exc: BaseException, shell: Any, where: tuple[str, int] | None = None) -> BaseException:
    """Attach a short rendering to `exc` for IPython; returns `exc` to re-raise."""
    cells = cell_files(shell)
    if isinstance(exc, PlaitError):
        lines = short_lines(exc, cells, where)
    else:
        tb = _user_frames(exc.__traceback__)
        try:
            lines = shell.InteractiveTB.structured_traceback(type(exc), exc, tb)
        except Exception:  # noqa: BLE001 - fall back to IPython's own rendering
            return exc
    try:
        exc._render_traceback_ = lambda: lines  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass
    return exc


def cell_files(shell: Any) -> dict[str, int]:
    """Filenames IPython gave to executed cells, with their execution counts."""
    compiler = getattr(shell, "compile", None)
    return dict(getattr(compiler, "_filename_map", None) or {})


def running_cell(shell: Any) -> int:
    """The execution count of the cell that is running now: the number its `In[N]` shows.

    `shell.execution_count` is not it: IPython 8 and later count the cell
    before running it, so while it runs the counter already names the next
    one (a magic that used it labelled cell 15's errors `Cell In[16]`). The
    cell's own number is the one IPython gave the file it compiled the cell
    under; the outermost frame running such a file is the cell (inner ones
    are functions of earlier cells that it calls).
    """
    cells = cell_files(shell)
    found: int | None = None
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        count = cells.get(frame.f_code.co_filename)
        if count is not None:
            found = count
        frame = frame.f_back
    return found if found is not None else int(getattr(shell, "execution_count", 0) or 0)
