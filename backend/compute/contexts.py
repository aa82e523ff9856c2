"""The files an ImageSpec pulls in, as the server builds its environment from them.

    contexts = ImageContexts(store, home / "image-contexts")
    root = contexts.root(bundle_digest)   # a folder: requirements.txt, source_root, copy paths

A registration ships the files a task's ImageSpec reads (requirements, the
source_root tree, copy paths) inside its code bundle, under `_plait_image/`
(`plait.remote.bundle.IMAGE_FILES`), and marks the task's code with
`image_files`. The server extracts that part of the bundle once per bundle,
and builds the environment with it as the spec's root, as a local build reads
the current folder: the same files, the same environment hash.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
import threading
from pathlib import Path
from typing import Any

from plait.model.home import ensure_private

IMAGE_FILES = "_plait_image"  # as plait.remote.bundle writes it


class ImageContexts:
    """Extracted image files of code bundles, one folder per bundle, made once."""

    def __init__(self, store: Any, folder: str | os.PathLike[str]) -> None:
        self.store = store
        self.folder = Path(folder)
        self._lock = threading.Lock()

    def root(self, bundle: str) -> Path:
        """The folder holding the image files of bundle `bundle` (extracted now if needed)."""
        if len(bundle) != 64 or any(c not in "0123456789abcdef" for c in bundle):
            raise ValueError(f"bundle digest {bundle!r} is not a sha256 (64 lowercase hex digits)")
        final = self.folder / bundle
        with self._lock:
            if final.is_dir():
                return final
            ensure_private(self.folder)
            data = self.store.get_bytes(f"bundles/{bundle}.tar.gz")
            work = Path(tempfile.mkdtemp(prefix=f".{bundle[:12]}-", dir=self.folder))
            try:
                with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                    members = [m for m in tar.getmembers()
                               if m.isfile() and m.name.startswith(f"{IMAGE_FILES}/")]
                    for m in members:
                        m.name = m.name[len(IMAGE_FILES) + 1:]
                    tar.extractall(work, members=members, filter="data")  # no links, no paths out
                work.rename(final)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
            return final
