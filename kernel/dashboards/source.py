"""`DashboardSource`: a generated Panel app, as text and the files it reads, ready to write out."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

APP_FILE = "app.py"


@dataclass
class DashboardSource:
    """The `app.py` of a dashboard and the files beside it (`relative path -> bytes or a file to copy`).

    `write(folder)` lays them out so that `panel serve folder/app.py` serves the page.
    """

    title: str
    source: str
    files: dict[str, bytes | Path] = field(default_factory=dict)
    widgets: list[str] = field(default_factory=list)  # the parameter widgets' names, in page order
    notes: list[str] = field(default_factory=list)  # what was left out of the page, and why

    def write(self, folder: str | Path) -> Path:
        """Write `app.py` and its files into `folder` (created if needed); return the app's path."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for relative, content in self.files.items():
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                if content.resolve() != target.resolve():
                    shutil.copyfile(content, target)
            else:
                target.write_bytes(content)
        app = folder / APP_FILE
        app.write_text(self.source, encoding="utf-8")
        return app
