"""Python run as another, unprivileged local user: what a second account on a shared machine can do.

    def test_x(other_user: OtherUser) -> None:
        found = other_user.run("import json; print(json.dumps(open('/etc/shadow').read()))")

`run` starts this virtualenv's Python under `setpriv --reuid=65534 --regid=65534
--clear-groups` (the `nobody` account) with a bare environment, in /tmp, and
returns the JSON value the snippet printed on its last line of output. It needs
root (the tests run as root on the project's machines) and setpriv (util-linux);
where either is missing, the tests that use the fixture skip and say which.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

NOBODY = 65534


def unavailable() -> str | None:
    """Why a test cannot act as another user here, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "acting as another local user needs root (setpriv changes the uid); these tests run as uid " \
               f"{os.geteuid() if hasattr(os, 'geteuid') else '?'}"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed: cannot act as another local user"
    return None


@dataclass(frozen=True)
class OtherUser:
    """Another local account: uid and gid NOBODY, no supplementary groups."""

    uid: int = NOBODY

    def run(self, code: str, timeout: float = 60.0) -> Any:
        """Run `code` as this user; the JSON value it printed last."""
        done = subprocess.run(
            ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
             sys.executable, "-c", code],
            capture_output=True, text=True, timeout=timeout, cwd="/tmp",
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent",
                 "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"},
        )
        if done.returncode != 0:
            raise AssertionError(f"the snippet run as uid {self.uid} failed ({done.returncode}):\n"
                                 f"{done.stdout}\n{done.stderr}")
        lines = done.stdout.strip().splitlines()
        if not lines:
            raise AssertionError(f"the snippet run as uid {self.uid} printed nothing:\n{done.stderr}")
        return json.loads(lines[-1])


@pytest.fixture(scope="session")
def other_user() -> OtherUser:
    reason = unavailable()
    if reason is not None:
        print(f"skipped: {reason}")
        pytest.skip(reason)
    return OtherUser()
