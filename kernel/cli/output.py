"""What every `plait` command writes the same way: its help layout, a failure, a table."""

from __future__ import annotations

import sys
import typing
from pathlib import Path
from typing import Any

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def fail(exc: BaseException, verbose: bool, user_code: bool = False) -> typing.NoReturn:
    """Print `exc` on stderr and exit 1: one line for plait's errors, a traceback for the user's."""
    from rich.console import Console

    console = Console(stderr=True)
    if verbose or user_code:
        from rich.traceback import Traceback

        tb = Traceback.from_exception(type(exc), exc, exc.__traceback__, show_locals=False,
                                      suppress=[] if verbose else [str(Path(__file__).parent)],
                                      max_frames=20)
        console.print(tb)
    else:
        console.print(f"[red]Error:[/] {type(exc).__name__}: {exc}", highlight=False)
        for note in getattr(exc, "__notes__", []):
            console.print(f"  {note}", highlight=False)
    sys.exit(1)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    found = Table(title=title or None, title_justify="left", header_style="bold")
    for c in columns:
        found.add_column(c, overflow="fold")
    for r in rows:
        found.add_row(*("" if v is None else str(v) for v in r))
    Console(highlight=False).print(found)
