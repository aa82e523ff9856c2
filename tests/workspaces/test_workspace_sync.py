"""A workspace's working directory saved to a real object store and restored from it.

The stores are real: a local folder, fsspec's memory filesystem, and an S3-compatible
server (moto's, on a loopback port). What a user would notice: files, folders, modes
and links come back after a stop and a start on another machine; a save sends only
what changed; a crash mid-save loses nothing; a tampered manifest writes nothing
outside the folder; large files do not hold up the start; local edits are never
overwritten by a restore.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plait.backend.storage import ObjectStore
from plait.workspaces.sync import WorkspaceSync, WorkspaceSyncError

PREFIX = "workspaces/default/development/ws"
MiB = 1024 * 1024


class CountingStore(ObjectStore):
    """A real ObjectStore that records the keys it writes and can fail on one."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.puts: list[str] = []
        self.fail_on: str | None = None
        self.during_put_file: Any = None  # called with the source path while a file is sent

    def put_bytes(self, path: str, data: bytes) -> None:
        if path == self.fail_on:
            raise OSError(f"the store went away while writing {path}")
        self.puts.append(path)
        super().put_bytes(path, data)

    def put_file(self, path: str, source: str | os.PathLike[str]) -> None:
        self.puts.append(path)
        if self.during_put_file is not None:
            self.during_put_file(source)
        super().put_file(path, source)

    def object_puts(self) -> list[str]:
        """The packs and blobs written (not the manifest)."""
        return [p for p in self.puts if "/blobs/" in p or "/packs/" in p]


class ReadCounter:
    """The store's filesystem, counting the reads of packs and blobs."""

    def __init__(self, fs: Any) -> None:
        self._fs = fs
        self.reads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fs, name)

    def cat_file(self, path: str, *args: Any, **kwargs: Any) -> Any:
        self.reads += "/packs/" in path or "/blobs/" in path
        return self._fs.cat_file(path, *args, **kwargs)

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        self.reads += "/packs/" in path or "/blobs/" in path
        return self._fs.open(path, mode, **kwargs)


class GatedFS:
    """The store's filesystem, with reads of big blobs held until `release` is set."""

    def __init__(self, fs: Any, min_bytes: int) -> None:
        self._fs = fs
        self.min_bytes = min_bytes
        self.release = threading.Event()
        self.waiting = threading.Event()  # a big blob's read is being held

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fs, name)

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if "r" in mode and "/blobs/" in path and self._fs.size(path) >= self.min_bytes:
            self.waiting.set()
            assert self.release.wait(30), "the test never released the big blobs"
        return self._fs.open(path, mode, **kwargs)


@pytest.fixture(scope="module")
def s3_server() -> Iterator[dict[str, str]]:
    boto3 = pytest.importorskip("boto3")
    moto_server = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        env = {"AWS_ACCESS_KEY_ID": "plait-tests", "AWS_SECRET_ACCESS_KEY": "plait-tests-secret",
               "AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_DEFAULT_REGION": "us-east-1"}
        boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_DEFAULT_REGION"],
                     aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                     aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"]).create_bucket(Bucket="workspaces")
        yield env
    finally:
        server.stop()


@pytest.fixture(params=["folder", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CountingStore:
    if request.param == "folder":
        return CountingStore(str(tmp_path / "store"))
    if request.param == "memory":
        return CountingStore(f"memory://sync-{uuid.uuid4().hex}")
    env = request.getfixturevalue("s3_server")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return CountingStore(f"s3://workspaces/{uuid.uuid4().hex}")


@pytest.fixture
def folder_store(tmp_path: Path) -> CountingStore:
    return CountingStore(str(tmp_path / "store"))


def write(path: Path, data: bytes | str, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        os.chmod(path, mode)
    return path


def tree(root: Path) -> dict[str, Any]:
    """What a user sees in a folder: kinds, bytes, modes, link targets, file mtimes."""
    seen: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            seen[rel] = ("link", os.readlink(path))
        elif stat.S_ISDIR(st.st_mode):
            seen[rel] = ("dir",)
        else:
            seen[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(),
                         stat.S_IMODE(st.st_mode), st.st_mtime_ns)
    return seen


def stored(store: ObjectStore, folder: str) -> set[str]:
    """The names of the objects under `<prefix>/<folder>/` ("packs" or "blobs")."""
    found = store.fs.find(store.uri(f"{PREFIX}/{folder}"))
    return {str(name).rsplit("/", 1)[-1] for name in found}


def sample_workspace(root: Path) -> None:
    write(root / "train.py", "print('training')\n", 0o755)
    write(root / "src" / "model" / "layers.py", "LAYERS = 3\n", 0o644)
    write(root / "src" / "model" / "secret.key", "k" * 64, 0o600)
    write(root / "data" / "weights.bin", os.urandom(3 * MiB))
    write(root / "same-a.txt", "identical\n")
    write(root / "same-b.txt", "identical\n")
    (root / "outputs" / "empty").mkdir(parents=True)
    os.symlink("src/model/layers.py", root / "layers.py")
    os.symlink("/usr/bin/python3", root / "python")  # a link out of the folder stays a link
    os.symlink("missing-target", root / "dangling")


# --- round trip ----------------------------------------------------------------------


def test_a_working_directory_comes_back_whole_on_another_machine(store: CountingStore, tmp_path: Path) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    sample_workspace(here)

    saved = WorkspaceSync(store, PREFIX, here, large_bytes=1 * MiB).save()
    restored = WorkspaceSync(store, PREFIX, there, large_bytes=1 * MiB)
    first = restored.restore(background=False)

    assert tree(there) == tree(here)
    assert saved.files == 6 and first.written == 6 and restored.pending == ()
    assert saved.uploaded == 5  # the two identical files are sent once
    assert len(stored(store, "blobs")) == 1  # the 3 MiB weights
    assert len(stored(store, "packs")) == 1  # every small file, in one object


def test_a_restart_on_the_same_machine_copies_nothing(folder_store: CountingStore, tmp_path: Path) -> None:
    here = tmp_path / "here"
    sample_workspace(here)
    WorkspaceSync(folder_store, PREFIX, here).save()

    report = WorkspaceSync(folder_store, PREFIX, here).restore(background=False)

    assert (report.written, report.unchanged) == (0, 6)


def test_nothing_saved_yet_restores_an_empty_folder(folder_store: CountingStore, tmp_path: Path) -> None:
    sync = WorkspaceSync(folder_store, PREFIX, tmp_path / "new" / "workspace")
    report = sync.restore()
    assert report.written == 0 and (tmp_path / "new" / "workspace").is_dir()
    assert sync.wait(1) is not None


# --- incremental save -------------------------------------------------------------------


def test_a_save_sends_only_what_changed(store: CountingStore, tmp_path: Path) -> None:
    here = tmp_path / "here"
    sample_workspace(here)
    sync = WorkspaceSync(store, PREFIX, here)
    first = sync.save()
    assert len(store.object_puts()) == 2 and first.objects == 2  # one pack of small files, one blob

    store.puts.clear()
    again = sync.save()
    assert store.puts == [] and again.hashed == 0 and again.uploaded == 0  # not even the manifest

    store.puts.clear()
    write(here / "src" / "model" / "layers.py", "LAYERS = 4\n")  # changed
    write(here / "notes.md", "# new\n")  # new
    write(here / "copy-of-train.py", (here / "train.py").read_bytes())  # a copy: its bytes are saved already
    later = sync.save()
    assert (later.hashed, later.uploaded, later.objects) == (3, 2, 1)
    assert later.uploaded_bytes == len("LAYERS = 4\n") + len("# new\n")
    assert len(store.object_puts()) == 1 and store.object_puts()[0].startswith(f"{PREFIX}/packs/")

    store.puts.clear()
    restarted = WorkspaceSync(store, PREFIX, here).save()  # a new server process reads the manifest
    assert store.object_puts() == [] and restarted.hashed == 0
    WorkspaceSync(store, PREFIX, tmp_path / "there").restore(background=False)
    assert tree(tmp_path / "there") == tree(here)


def test_many_small_files_travel_in_a_few_requests(folder_store: CountingStore, tmp_path: Path) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    for i in range(300):
        write(here / f"pkg{i % 7}" / f"module{i}.py", f"VALUE = {i}\n" * 50)
    WorkspaceSync(folder_store, PREFIX, here).save()
    assert len(folder_store.object_puts()) == 1
    reads = ReadCounter(folder_store.fs)
    folder_store.fs = reads

    report = WorkspaceSync(folder_store, PREFIX, there).restore()

    assert report.written == 300 and tree(there) == tree(here)
    assert reads.reads == 1


def test_small_files_are_there_when_the_restore_returns_whatever_large_bytes_says(
        folder_store: CountingStore, tmp_path: Path) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    write(here / "a.py", "A = 1\n" * 100)
    WorkspaceSync(folder_store, PREFIX, here).save()  # packed: under 1 MiB
    sync = WorkspaceSync(folder_store, PREFIX, there, large_bytes=10)  # another server's setting
    report = sync.restore()
    assert report.written == 1 and report.deferred == () and tree(there) == tree(here)


def test_a_pack_mostly_deleted_is_packed_again(folder_store: CountingStore, tmp_path: Path) -> None:
    here = tmp_path / "here"
    for i in range(100):
        write(here / f"f{i}.txt", f"{i}" * 1000)
    sync = WorkspaceSync(folder_store, PREFIX, here)
    sync.save()
    (old_pack,) = stored(folder_store, "packs")
    for i in range(10, 100):
        (here / f"f{i}.txt").unlink()

    report = sync.save()

    (new_pack,) = stored(folder_store, "packs")
    assert new_pack != old_pack and report.removed == 1 and report.uploaded == 10
    assert (tmp_path / "store" / PREFIX / "packs" / new_pack).stat().st_size < 10 * 1000 + 100
    WorkspaceSync(folder_store, PREFIX, tmp_path / "there").restore()
    assert tree(tmp_path / "there") == tree(here)


def test_a_mode_change_alone_is_saved(folder_store: CountingStore, tmp_path: Path) -> None:
    here = tmp_path / "here"
    script = write(here / "run.sh", "echo hi\n", 0o644)
    sync = WorkspaceSync(folder_store, PREFIX, here)
    sync.save()
    os.chmod(script, 0o750)
    sync.save()
    WorkspaceSync(folder_store, PREFIX, tmp_path / "there").restore()
    assert stat.S_IMODE((tmp_path / "there" / "run.sh").stat().st_mode) == 0o750


def test_deleted_files_and_folders_are_gone_after_the_next_start(store: CountingStore, tmp_path: Path) -> None:
    here = tmp_path / "here"
    sample_workspace(here)
    sync = WorkspaceSync(store, PREFIX, here)
    sync.save()
    (here / "data" / "weights.bin").unlink()
    (here / "outputs" / "empty").rmdir()
    (here / "layers.py").unlink()

    report = sync.save()

    WorkspaceSync(store, PREFIX, tmp_path / "there").restore(background=False)
    there = tree(tmp_path / "there")
    assert "data/weights.bin" not in there and "outputs/empty" not in there and "layers.py" not in there
    assert there == tree(here)
    assert report.removed == 1 and stored(store, "blobs") == set()  # the weights' blob is removed


def test_a_missing_working_directory_is_not_saved_as_empty(folder_store: CountingStore, tmp_path: Path) -> None:
    here = tmp_path / "here"
    write(here / "keep.txt", "keep")
    WorkspaceSync(folder_store, PREFIX, here).save()
    with pytest.raises(WorkspaceSyncError, match="working directory .* is missing; nothing was saved"):
        WorkspaceSync(folder_store, PREFIX, tmp_path / "not-mounted").save()
    WorkspaceSync(folder_store, PREFIX, tmp_path / "there").restore()
    assert (tmp_path / "there" / "keep.txt").read_text() == "keep"


# --- crashes and races during a save -------------------------------------------------------


def test_a_crash_before_the_manifest_is_written_leaves_the_previous_save(
        store: CountingStore, tmp_path: Path) -> None:
    here = tmp_path / "here"
    write(here / "a.txt", "version 1")
    sync = WorkspaceSync(store, PREFIX, here)
    sync.save()
    write(here / "a.txt", "version 2, longer")
    write(here / "b.txt", "new file")
    store.fail_on = f"{PREFIX}/manifest.json"

    with pytest.raises(OSError, match="store went away"):
        sync.save()

    assert len(stored(store, "packs")) == 2  # the new pack was sent before the crash
    WorkspaceSync(store, PREFIX, tmp_path / "there").restore()
    assert tree(tmp_path / "there").keys() == {"a.txt"}
    assert (tmp_path / "there" / "a.txt").read_text() == "version 1"

    store.fail_on = None
    sync.save()  # the next save succeeds and drops what nothing names
    WorkspaceSync(store, PREFIX, tmp_path / "later").restore()
    assert tree(tmp_path / "later") == tree(here)
    assert len(stored(store, "packs")) == 1  # the first save's pack is no longer named


def test_a_file_written_while_it_is_sent_keeps_its_previous_save(
        folder_store: CountingStore, tmp_path: Path) -> None:
    here = tmp_path / "here"
    log_file = write(here / "train.log", b"a" * (2 * MiB))
    sync = WorkspaceSync(folder_store, PREFIX, here)
    sync.save()
    write(here / "train.log", b"b" * (3 * MiB))
    folder_store.during_put_file = lambda source: Path(source).open("ab").write(b"more lines\n")

    report = sync.save()

    assert any("train.log: changed while it was read" in note for note in report.notes)
    WorkspaceSync(folder_store, PREFIX, tmp_path / "there").restore(background=False)
    assert (tmp_path / "there" / "train.log").read_bytes() == b"a" * (2 * MiB)
    folder_store.during_put_file = None
    sync.save()  # quiet again: the new contents are saved
    WorkspaceSync(folder_store, PREFIX, tmp_path / "later").restore(background=False)
    assert (tmp_path / "later" / "train.log").read_bytes() == log_file.read_bytes()
    assert len(stored(folder_store, "blobs")) == 1


def test_fifos_and_names_that_are_not_utf8_are_skipped_with_a_note(
        folder_store: CountingStore, tmp_path: Path) -> None:
    here = tmp_path / "here"
    write(here / "a.txt", "a")
    os.mkfifo(here / "pipe")
    with open(os.path.join(os.fsencode(here), b"latin-\xe9t\xe9.txt"), "wb") as odd:
        odd.write(b"bytes")
    report = WorkspaceSync(folder_store, PREFIX, here).save()
    assert report.files == 1
    assert any(note.startswith("pipe: not a file") for note in report.notes)
    assert any("the name is not UTF-8; not saved" in note for note in report.notes)


# --- a manifest that tries to leave the folder ------------------------------------------------


def tampered(store: ObjectStore, entries: dict[str, Any]) -> None:
    sha = hashlib.sha256(b"owned").hexdigest()
    store.put_bytes(f"{PREFIX}/blobs/{sha}", b"owned")
    listed: dict[str, dict[str, Any]] = {
        "ok.txt": {"type": "file", "size": 5, "mtime_ns": 0, "sha256": sha, "mode": 0o644}, **entries}
    for entry in listed.values():
        entry.setdefault("sha256", sha)
    full = {"version": 1, "saved_at": "2026-01-01T00:00:00+00:00", "packs": {}, "entries": listed}
    store.put_bytes(f"{PREFIX}/manifest.json", json.dumps(full).encode())


@pytest.mark.parametrize(("entries", "refusal"), [
    ({"../escaped.txt": {"type": "file", "size": 5, "mtime_ns": 0, "mode": 0o644}}, "'../escaped.txt'"),
    ({"a/../../escaped.txt": {"type": "file", "size": 5, "mtime_ns": 0, "mode": 0o644}}, "'..'"),
    ({"/tmp/escaped.txt": {"type": "file", "size": 5, "mtime_ns": 0, "mode": 0o644}}, "absolute"),
    ({"out": {"type": "link", "target": ".."},
      "out/escaped.txt": {"type": "file", "size": 5, "mtime_ns": 0, "mode": 0o644}}, "below the link 'out'"),
    ({"x.txt": {"type": "file", "size": 5, "mtime_ns": 0, "mode": 0o644, "sha256": "../../etc/passwd"}},
     "without a size, mtime_ns and sha256"),
    ({"x.txt": {"type": "file", "size": 5, "mtime_ns": 0, "mode": 0o644, "pack": "../../../etc", "offset": 0}},
     "pack range is not inside a pack it lists"),
])
def test_a_manifest_that_leaves_the_folder_is_refused_and_writes_nothing(
        folder_store: CountingStore, tmp_path: Path, entries: dict[str, Any], refusal: str) -> None:
    tampered(folder_store, entries)
    inside = tmp_path / "home" / "workspace"
    inside.mkdir(parents=True)
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))

    with pytest.raises(WorkspaceSyncError, match=refusal):
        WorkspaceSync(folder_store, PREFIX, inside).restore()

    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == before
    assert not Path("/tmp/escaped.txt").exists()


def test_a_local_link_in_the_way_never_leads_a_restore_out(folder_store: CountingStore, tmp_path: Path) -> None:
    here = tmp_path / "here"
    write(here / "data" / "table.csv", "a,b\n")
    WorkspaceSync(folder_store, PREFIX, here).save()
    outside = tmp_path / "outside"
    outside.mkdir()
    there = tmp_path / "there"
    there.mkdir()
    os.symlink(outside, there / "data")  # the other machine has a link where the folder was

    report = WorkspaceSync(folder_store, PREFIX, there).restore()

    assert list(outside.iterdir()) == []
    assert any("data/table.csv: not restored" in note and "is a link or a file locally" in note
               for note in report.notes)


# --- large files in the background, local edits kept -------------------------------------------


def gated(store: CountingStore, min_bytes: int) -> GatedFS:
    fs = GatedFS(store.fs, min_bytes)
    store.fs = fs
    return fs


def test_large_files_are_restored_in_the_background_after_the_small_ones(
        folder_store: CountingStore, tmp_path: Path) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    big = os.urandom(4 * MiB)
    write(here / "model.ckpt", big)
    write(here / "notebook.ipynb", "{}")
    write(here / "src" / "train.py", "pass\n")
    WorkspaceSync(folder_store, PREFIX, here).save()
    gate = gated(folder_store, min_bytes=1 * MiB)
    sync = WorkspaceSync(folder_store, PREFIX, there, large_bytes=1 * MiB)

    report = sync.restore()

    assert (there / "notebook.ipynb").read_text() == "{}" and (there / "src" / "train.py").exists()
    assert not (there / "model.ckpt").exists()
    assert report.deferred == ("model.ckpt",) and report.deferred_bytes == 4 * MiB
    assert list(sync.pending) == ["model.ckpt"]
    assert sync.wait(0.05) is None
    gate.release.set()
    done = sync.wait(30)
    assert done is not None and done.written == 1
    assert (there / "model.ckpt").read_bytes() == big and sync.pending == ()
    assert [p.name for p in there.iterdir() if p.name.startswith(".plait-sync-")] == []


def test_a_file_created_locally_during_the_restore_is_not_overwritten(
        folder_store: CountingStore, tmp_path: Path) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    write(here / "model.ckpt", os.urandom(2 * MiB))
    WorkspaceSync(folder_store, PREFIX, here).save()
    gate = gated(folder_store, min_bytes=1 * MiB)
    sync = WorkspaceSync(folder_store, PREFIX, there, large_bytes=1 * MiB)
    sync.restore()
    assert gate.waiting.wait(30)  # the checkpoint is being fetched
    write(there / "model.ckpt", "the user's new checkpoint")

    gate.release.set()
    done = sync.wait(30)

    assert (there / "model.ckpt").read_text() == "the user's new checkpoint"
    assert done is not None and done.kept_local == 1
    assert any("created locally during the restore" in note for note in done.notes)


def test_a_newer_local_file_wins_and_an_older_one_is_replaced(folder_store: CountingStore, tmp_path: Path) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    write(here / "newer.txt", "saved")
    write(here / "older.txt", "saved")
    WorkspaceSync(folder_store, PREFIX, here).save()
    write(there / "newer.txt", "edited after the save")
    write(there / "older.txt", "stale")
    saved_at = (here / "older.txt").stat().st_mtime_ns
    os.utime(there / "older.txt", ns=(saved_at - 10**9, saved_at - 10**9))
    os.utime(there / "newer.txt", ns=(saved_at + 10**9, saved_at + 10**9))

    report = WorkspaceSync(folder_store, PREFIX, there).restore()

    assert (there / "newer.txt").read_text() == "edited after the save"
    assert (there / "older.txt").read_text() == "saved"
    assert (report.written, report.kept_local) == (1, 1)


def test_a_save_during_the_background_restore_keeps_the_files_not_written_yet(
        folder_store: CountingStore, tmp_path: Path) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    big = os.urandom(2 * MiB)
    write(here / "model.ckpt", big)
    WorkspaceSync(folder_store, PREFIX, here).save()
    gate = gated(folder_store, min_bytes=1 * MiB)
    sync = WorkspaceSync(folder_store, PREFIX, there, large_bytes=1 * MiB)
    sync.restore()
    write(there / "notes.md", "written while the checkpoint downloads")

    WorkspaceSync(folder_store, PREFIX, there).save()  # a periodic save while the checkpoint comes
    sync.stop(timeout=0)  # the workspace stops before the checkpoint arrived
    gate.release.set()
    assert sync.wait(30) is not None
    assert not (there / "model.ckpt").exists()
    WorkspaceSync(folder_store, PREFIX, there).save()  # the save on stop

    other = tmp_path / "other"
    WorkspaceSync(folder_store, PREFIX, other).restore(background=False)
    assert (other / "model.ckpt").read_bytes() == big
    assert (other / "notes.md").exists()


# --- periodic saves --------------------------------------------------------------------------


def test_periodic_saves_pick_up_new_files_and_survive_failures(
        folder_store: CountingStore, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    here = tmp_path / "here"
    sync = WorkspaceSync(folder_store, PREFIX, here)
    sync.restore()
    folder_store.fail_on = f"{PREFIX}/manifest.json"
    with caplog.at_level(logging.ERROR, logger="plait.workspaces.sync"):
        sync.start_periodic(0.05)
        write(here / "cell-output.txt", "42")
        deadline = time.monotonic() + 10
        while "the periodic save failed" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "the periodic save failed" in caplog.text
        folder_store.fail_on = None
        while not folder_store.exists(f"{PREFIX}/manifest.json") and time.monotonic() < deadline:
            time.sleep(0.02)
        sync.stop()
    WorkspaceSync(folder_store, PREFIX, tmp_path / "there").restore()
    assert (tmp_path / "there" / "cell-output.txt").read_text() == "42"
    with pytest.raises(ValueError, match="more than 0 seconds"):
        sync.start_periodic(0)
