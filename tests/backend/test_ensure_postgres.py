"""scripts/ensure-postgres.sh, which `make test` runs: installs PostgreSQL only when missing.

apt-get and id are stand-ins on PATH, so the test installs nothing.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ensure-postgres.sh"


def executable(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


@pytest.fixture
def machine(tmp_path: Path):
    """A PATH without PostgreSQL, an apt-get that records its calls and 'installs' it."""
    stubs, log, pg = tmp_path / "stubs", tmp_path / "apt.log", tmp_path / "pg"
    executable(
        stubs / "apt-get",
        f'echo "$@" >> {log}\n'
        f'case "$*" in *install*) mkdir -p {pg}/15/bin; '
        f'for b in initdb pg_ctl; do printf "#!/bin/sh\\n" > {pg}/15/bin/$b; '
        f"chmod +x {pg}/15/bin/$b; done;; esac\n",
    )

    def run(uid: int = 0) -> subprocess.CompletedProcess[str]:
        executable(stubs / "id", f"echo {uid}\n")
        env = {
            "PATH": f"{stubs}:/usr/bin:/bin",
            "PLAIT_PG_BINDIRS": f"{pg}/*/bin",
            "HOME": str(tmp_path),
        }
        return subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True)

    run.log = log  # type: ignore[attr-defined]
    run.pg = pg  # type: ignore[attr-defined]
    return run


def test_installs_postgresql_with_apt_when_initdb_is_missing(machine) -> None:
    assert not any(Path(d, "initdb").exists() for d in ("/usr/bin", "/bin")), (
        "test needs a clean PATH"
    )
    result = machine()
    assert result.returncode == 0, result.stderr
    calls = machine.log.read_text().splitlines()
    assert calls[0].startswith("update")
    assert "install" in calls[1] and calls[1].endswith("postgresql")

    os.remove(machine.log)
    assert machine().returncode == 0  # now present: nothing to do
    assert not machine.log.exists()


def test_without_root_it_says_how_to_install(machine) -> None:
    result = machine(uid=1000)
    assert result.returncode == 1
    assert "apt-get install -y postgresql" in result.stderr
    assert not machine.log.exists()
