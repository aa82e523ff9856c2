"""The parts that keep plait's state to its user, one at a time (test_local_users.py runs them
together on a real server): private folders and files whatever the umask, the cluster's
certificates, the Dask TLS settings, signed pokes, the dashboard proxy's paths, the worker's
bundle folder and the environment its tasks see."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import stat
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from other_user import OtherUser, other_user  # noqa: F401 - the fixture
from plait.backend.config import Settings, dask_security
from plait.backend.execution import worker
from plait.backend.execution.proxy import read_poke, sign_poke
from plait.backend.security import cluster_tls, ensure_cluster_tls
from plait.model import home as layout


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


# ------------------------------------------------------------------ private folders and files


def test_folders_are_made_private_whatever_the_umask(tmp_path: Path, permissive_umask: None) -> None:
    made = layout.ensure_private(tmp_path / "a" / "b" / "home")
    assert [mode(p) for p in (tmp_path / "a", tmp_path / "a" / "b", made)] == [0o700] * 3
    open_one = tmp_path / "open"
    open_one.mkdir(mode=0o755)
    layout.ensure_private(open_one)
    assert mode(open_one) == 0o700
    os.close(layout.open_file_private(tmp_path / "log"))
    assert mode(tmp_path / "log") == 0o600
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="should be a folder for plait's state, but it is a file"):
        layout.ensure_private(tmp_path / "file")


def test_the_open_entries_of_a_home_are_found_and_narrowed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "plait.db").write_text("")
    os.chmod(home / "plait.db", 0o644)
    (home / "data").mkdir(mode=0o750)
    (home / "token").write_text("")
    os.chmod(home / "token", 0o600)
    (home / "link").symlink_to("/etc")  # links are not followed
    found = layout.open_paths(home)
    assert {(p.path.name, stat.S_IMODE(p.mode)) for p in found} == {("data", 0o750), ("plait.db", 0o644)}
    assert all(layout.narrow(p) for p in found)
    assert (mode(home / "data"), mode(home / "plait.db")) == (0o700, 0o600)
    assert layout.open_paths(home) == []


def test_the_local_cache_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    permissive_umask: None) -> None:
    from plait.run.local_cache import LocalCache

    monkeypatch.setenv("PLAIT_HOME", str(tmp_path / "home"))
    cache = LocalCache()
    with cache.reservation("ab" * 32):
        assert cache.put("ab" * 32, {"o0": 1})
    assert cache.get("ab" * 32) == {"o0": 1}
    root = tmp_path / "home" / "local-cache"
    assert mode(tmp_path / "home") == mode(root) == mode(root / "ab") == 0o700
    assert {p.name: mode(p) for p in (root / "ab").iterdir()} == {
        f"{'ab' * 32}.pkl": 0o600, f"{'ab' * 32}.lock": 0o600}
    cache.clear()
    assert cache.put("cd" * 32, {"o0": 2}) and mode(root) == 0o700  # made again, private


def test_another_user_cannot_read_the_local_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  permissive_umask: None,
                                                  other_user: OtherUser) -> None:  # noqa: F811
    from plait.run.local_cache import LocalCache

    base = Path("/tmp") / f"plait-cache-check-{os.getpid()}"  # out of pytest's private folder
    base.mkdir(mode=0o755)
    os.chmod(base, 0o755)
    try:
        monkeypatch.setenv("PLAIT_HOME", str(base / "home"))
        LocalCache().put("ef" * 32, {"o0": "private"})
        entry = base / "home" / "local-cache" / "ef" / f"{'ef' * 32}.pkl"
        assert entry.exists()
        found = other_user.run(f"import json\ntry:\n    open({str(entry)!r}, 'rb').read()\n"
                               "    print(json.dumps('read'))\nexcept OSError as exc:\n"
                               "    print(json.dumps(type(exc).__name__))")
        assert found == "PermissionError"
    finally:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def test_the_artifact_store_and_the_local_data_folder_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  permissive_umask: None) -> None:
    from plait.artifacts.store import ArtifactStore

    monkeypatch.setenv("PLAIT_HOME", str(tmp_path / "home"))
    store = ArtifactStore()
    store.add([1, 2], name="numbers", project="p", domain="development")
    assert mode(tmp_path / "home") == mode(store.root) == mode(store.root / "values") == 0o700
    folder = layout.local_data_dir("exe", "n0")
    assert mode(tmp_path / "home" / "data") == 0o700 and folder.parent.parent.parent.name == "data"


# ------------------------------------------------------------------ the cluster's certificates


def test_the_clusters_certificates_are_made_once_private_and_reused(tmp_path: Path, permissive_umask: None) -> None:
    with pytest.raises(FileNotFoundError, match=r"`plait server` makes them in .*tls when it first starts"):
        cluster_tls(tmp_path)
    files = ensure_cluster_tls(tmp_path)
    assert mode(tmp_path / "tls") == 0o700
    assert {p.name: mode(p) for p in (tmp_path / "tls").iterdir()} == {
        "ca.pem": 0o600, "dask.pem": 0o600, "dask-key.pem": 0o600, ".lock": 0o600}
    before = files.cert.read_bytes()
    assert ensure_cluster_tls(tmp_path) == files and files.cert.read_bytes() == before  # reused
    security = dask_security(tmp_path)
    assert security.require_encryption and security.tls_client_cert == str(files.cert)
    files.cert.write_text("not a certificate")
    ensure_cluster_tls(tmp_path)
    assert files.cert.read_bytes() != before  # a broken one is made again


def test_certificates_near_their_end_are_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography import x509
    from plait.backend import security

    monkeypatch.setattr(security, "VALID_DAYS", 3)  # shorter than the margin
    files = ensure_cluster_tls(tmp_path)
    monkeypatch.undo()
    ensure_cluster_tls(tmp_path)
    ends = x509.load_pem_x509_certificate(files.cert.read_bytes()).not_valid_after_utc
    assert ends > dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=365)


# ------------------------------------------------------------------ Dask TLS settings


@pytest.mark.parametrize(("settings", "message"), [
    ({"dask_scheduler": "tls://10.0.0.5:8786"},
     r"the Dask scheduler tls://10.0.0.5:8786 speaks TLS and needs this client's certificate: give "
     r"--dask-tls-ca-file, --dask-tls-cert, --dask-tls-key \(or PLAIT_DASK_TLS_CA_FILE, "
     r"PLAIT_DASK_TLS_CERT, PLAIT_DASK_TLS_KEY\); found none of them"),
    ({"dask_scheduler": "tcp://10.0.0.5:8786", "dask_tls_cert": "c.pem"},
     r"--dask-tls-cert was given but the Dask scheduler address tcp://10.0.0.5:8786 is tcp://, "
     r"which does not use them: write it as tls://..., or leave them out"),
    ({"dask_tls_ca_file": "ca.pem"},
     r"--dask-tls-ca-file is for an external Dask scheduler at a tls:// address"),
])
def test_dask_tls_settings_that_do_not_fit_are_refused(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env({}, **settings)


def test_dask_tls_settings_come_from_the_environment_too(tmp_path: Path) -> None:
    files = ensure_cluster_tls(tmp_path)
    settings = Settings.from_env({"PLAIT_DASK_SCHEDULER": "tls://10.0.0.5:8786",
                                  "PLAIT_DASK_TLS_CA_FILE": str(files.ca_file),
                                  "PLAIT_DASK_TLS_CERT": str(files.cert), "PLAIT_DASK_TLS_KEY": str(files.key)})
    assert settings.dask_tls() == files
    assert settings.dask_security().tls_client_key == str(files.key)
    assert Settings.from_env({"PLAIT_DASK_SCHEDULER": "tcp://10.0.0.5:8786"}).dask_security() is None
    missing = Settings.from_env({}, dask_scheduler="tls://h:1", dask_tls_ca_file=str(tmp_path / "nope.pem"),
                                dask_tls_cert=str(files.cert), dask_tls_key=str(files.key))
    with pytest.raises(ValueError, match=r"--dask-tls-ca-file \(PLAIT_DASK_TLS_CA_FILE\) names .*nope.pem, "
                                         r"which is not a readable file"):
        missing.dask_tls()


# ------------------------------------------------------------------ pokes


def test_only_pokes_signed_with_the_executors_key_count() -> None:
    key = os.urandom(32)
    assert read_poke(key, sign_poke(key, "abort", "e1")) == ("abort", "e1")
    assert read_poke(key, sign_poke(key, "claim", "e2")) == ("claim", "e2")
    for forged in (b"abort e1", b"claim e1", b"0" * 64 + b" abort e1", sign_poke(os.urandom(32), "abort", "e1"),
                   sign_poke(key, "abort", "e1")[:-1], sign_poke(key, "stop", "e1"), sign_poke(key, "abort", ""),
                   b"", b"\xff" * 100):
        assert read_poke(key, forged) is None, forged


def test_the_executor_queues_only_the_pokes_signed_with_its_key(tmp_path: Path) -> None:
    import socket
    import threading

    from plait.backend.execution.executor import Executor
    from plait.backend.storage import ObjectStore
    from plait.backend.store import Database

    executor = Executor(Database(f"sqlite:///{tmp_path / 'plait.db'}"), ObjectStore(str(tmp_path / "data")))
    executor._pokes = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    executor._pokes.bind(("127.0.0.1", 0))
    executor._pokes.settimeout(0.1)
    listener = threading.Thread(target=executor._listen, daemon=True)
    listener.start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for datagram in (b"claim e1", b"abort e1", sign_poke(os.urandom(32), "claim", "e1"),
                             sign_poke(executor.poke_key, "claim", "e2")):
                sock.sendto(datagram, ("127.0.0.1", executor.poke_port))
        assert executor.events.get(timeout=10) == ("claim", "e2")  # the forged ones came first
        assert executor.events.empty()
    finally:
        executor._stopping.set()
        listener.join(timeout=5)
        executor._pokes.close()


# ------------------------------------------------------------------ the dashboard proxy's paths


@pytest.mark.parametrize("path", ["status", "", "static/js/bokeh.min.js", "individual-task-stream",
                                  "info/worker/tls%3A%2F%2F127.0.0.1%3A4000.html", "statics/css/base.css"])
def test_dashboard_paths_are_passed_on(path: str) -> None:
    from plait.backend.api.routes_dask import checked_tail

    assert checked_tail({"path": "", "raw_path": f"/api/v1/dask/{path}".encode()}) == path


@pytest.mark.parametrize("path", ["..", "a/../b", "%2e%2e", "%2E%2e/x", ".%2e/x", "a%2f..%2fb", "./status",
                                  "/etc/passwd", "a//b", "http://example.com/", "%5c..", "a\\b", "x%00",
                                  "x%0d%0aHost:%20evil"])
def test_dashboard_paths_that_could_leave_it_are_refused(path: str) -> None:
    from plait.backend.api.routes_dask import RefusedPath, checked_tail

    with pytest.raises(RefusedPath):
        checked_tail({"path": "", "raw_path": f"/api/v1/dask/{path}".encode()})


def test_redirects_of_the_dashboard_stay_under_the_proxys_prefix() -> None:
    from plait.backend.proxy import relative_location as _relative_location

    base = "https://127.0.0.1:4000"
    assert _relative_location("/status", base, "") == "status"
    assert _relative_location("/status", base, "info/main/workers.html") == "../../status"
    assert _relative_location("https://127.0.0.1:4000/status?x=1", base, "a/") == "../status?x=1"
    assert _relative_location("workers", base, "info/") == "workers"
    assert _relative_location("https://docs.dask.org/", base, "") == "https://docs.dask.org/"


# ------------------------------------------------------------------ the worker


class _Store:
    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs

    def get_bytes(self, path: str) -> bytes:
        return self.blobs[path]


def _bundle(files: dict[str, str]) -> tuple[str, bytes]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    blob = buffer.getvalue()
    return hashlib.sha256(blob).hexdigest(), blob


def test_the_worker_extracts_bundles_into_its_own_private_folder(permissive_umask: None) -> None:
    digest, blob = _bundle({"mod_a.py": "X = 1\n"})
    folder = worker._bundle_dir(_Store({f"bundles/{digest}.tar.gz": blob}), digest)
    root = Path(folder).parent
    assert Path(folder).name == digest and mode(root) == 0o700 and root.stat().st_uid == os.getuid()
    assert root.name.startswith("plait-bundles-") and root.name != f"plait-bundles-{os.getuid()}"
    assert (Path(folder) / "mod_a.py").read_text() == "X = 1\n"
    assert worker._bundle_dir(_Store({}), digest) == folder  # extracted once per process
    assert [p.name for p in root.iterdir()] == [digest]  # no temporary folder left


def test_the_worker_refuses_a_bundle_that_is_not_what_its_digest_names() -> None:
    digest, blob = _bundle({"mod_b.py": "X = 1\n"})
    _, other = _bundle({"mod_b.py": "X = 2\n"})
    with pytest.raises(worker.CodeMismatch, match=f"bundle {digest}: the stored bytes have sha256 "
                                                  f"{hashlib.sha256(other).hexdigest()}, so they are not "
                                                  "the code that was registered"):
        worker._bundle_dir(_Store({f"bundles/{digest}.tar.gz": other}), digest)
    with pytest.raises(worker.CodeMismatch, match="is not a sha256"):
        worker._bundle_dir(_Store({}), "../../etc")
    assert digest not in {p.name for p in Path(worker._private_root()).iterdir()}  # nothing left


@pytest.fixture
def saved_environment() -> Iterator[None]:
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_a_worker_process_keeps_only_what_a_process_needs(saved_environment: None) -> None:
    os.environ.update({"PLAIT_DATABASE_URL": "postgresql://u:p@db/plait", "AWS_SECRET_ACCESS_KEY": "k",
                       "PLAIT_SECRET_DB_PASSWORD": "hunter2", "_FSEC_DB_PASSWORD": "hunter2",
                       "LC_ALL": "C.UTF-8", "PATH": "/usr/bin"})
    worker.clean_environment()
    assert set(os.environ) <= worker.ENV_KEPT | {n for n in os.environ if n.startswith("LC_")}
    assert (os.environ["PATH"], os.environ["LC_ALL"]) == ("/usr/bin", "C.UTF-8")
    # a worker's own secret variables are gone, not kept aside: tasks get secrets from the store
    assert not hasattr(worker, "secret_environment")


def test_the_cli_refuses_tls_options_without_a_tls_scheduler(tmp_path: Path) -> None:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "plait", "server", "--home", str(tmp_path / "h"),
                           "--dask-tls-key", "k.pem"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(
        "plait server: --dask-tls-key is for an external Dask scheduler at a tls:// address")

