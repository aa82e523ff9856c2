"""The object store on a local folder, on fsspec's in-memory filesystem and on S3 (a real
S3-compatible server, the `s3` fixture of conftest.py, reached through s3fs)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from plait.backend import storage as storage_module
from plait.backend.storage import ObjectStore, StorageConfigError, StoragePathError
from s3_fixture import S3


def _open(kind: str, request: pytest.FixtureRequest, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[ObjectStore]:
    if kind == "local":
        yield ObjectStore(str(tmp_path / "data"))
        return
    if kind == "s3":
        s3: S3 = request.getfixturevalue("s3")
        for name, value in s3.env.items():  # credentials and endpoint as a deployment gives them
            monkeypatch.setenv(name, value)
        on_s3 = ObjectStore(s3.url())
        yield on_s3
        if on_s3.fs.exists(on_s3.root):
            on_s3.fs.rm(on_s3.root, recursive=True)
        return
    root = f"memory://plait-tests/{uuid.uuid4().hex}"
    yield ObjectStore(root)
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


@pytest.fixture(params=["local", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ObjectStore]:
    yield from _open(request.param, request, tmp_path, monkeypatch)


@pytest.fixture(params=["memory", "s3"])
def remote_store(request: pytest.FixtureRequest, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[ObjectStore]:
    """The stores without append: a growing log is written in parts."""
    yield from _open(request.param, request, tmp_path, monkeypatch)


def test_bytes_and_json_round_trip(store: ObjectStore) -> None:
    store.put_bytes("bundles/abc.tar.gz", b"\x00\x01")
    assert store.get_bytes("bundles/abc.tar.gz") == b"\x00\x01"
    store.put_bytes("bundles/abc.tar.gz", b"new")  # overwrite
    assert store.get_bytes("./bundles//abc.tar.gz") == b"new"
    store.put_json("executions/e1/inputs.json", {"x": [1, 2]})
    assert store.get_json("executions/e1/inputs.json") == {"x": [1, 2]}
    assert store.exists("executions/e1/inputs.json") and store.exists("executions/e1")
    assert not store.exists("executions/e2")
    with pytest.raises(FileNotFoundError, match="no object 'missing.pkl' in the object store"):
        store.get_bytes("missing.pkl")


def test_logs_grow_and_are_read_from_an_offset(store: ObjectStore) -> None:
    path = "executions/e1/n0/1/logs.txt"
    assert store.read_text(path) == ("", 0)  # not started yet
    store.append_text(path, "step 1\n")
    text, offset = store.read_text(path)
    assert (text, offset) == ("step 1\n", 7)
    store.append_text(path, "step 2 ✓\n")
    assert store.read_text(path, offset) == ("step 2 ✓\n", 7 + len("step 2 ✓\n".encode()))
    # a character cut by max_bytes is left for the next read
    text, cut = store.read_text(path, offset, max_bytes=8)
    assert text == "step 2 " and cut == offset + 7
    assert store.read_text(path, cut)[0] == "✓\n"
    end = store.read_text(path)[1]
    assert store.read_text(path, end) == ("", end)  # at the end, and past it: nothing yet
    assert store.read_text(path, end + 5) == ("", end + 5)
    store.close_text(path)  # complete: the same text, from any offset
    assert store.read_text(path) == ("step 1\nstep 2 ✓\n", end)
    assert store.read_text(path, 7, max_bytes=8) == ("step 2 ", 14)
    assert store.get_bytes(path) == "step 1\nstep 2 ✓\n".encode()


def test_a_growing_log_is_written_in_parts_and_joined_when_complete(remote_store: ObjectStore) -> None:
    store, path = remote_store, "executions/e1/n0/1/logs.txt"
    full = store._full(path)
    for i in range(3):
        store.append_text(path, f"line {i}\n")
    parts = sorted(store.fs.ls(full + ".parts", detail=False))
    assert [p.rsplit("/", 1)[1] for p in parts] == ["0" * 16, "7".zfill(16), "14".zfill(16)]
    assert not store.exists(path)  # not one object yet: S3 has no append
    assert store.read_text(path, 3, max_bytes=6) == ("e 0\nli", 9)  # across two parts
    store.close_text(path)
    assert store.get_bytes(path) == b"line 0\nline 1\nline 2\n"
    assert not store.exists(path + ".parts")
    # a log written on (another attempt's writer, say) goes on after the joined object
    again = ObjectStore(store.url)
    again.append_text(path, "line 3\n")
    assert store.read_text(path, 14) == ("line 2\nline 3\n", 28)
    again.close_text(path)
    assert store.get_bytes(path) == b"line 0\nline 1\nline 2\nline 3\n"
    store.close_text("executions/e1/n0/2/logs.txt")  # a log nobody wrote: nothing to join


def test_appends_to_a_store_without_append_are_spaced_out(remote_store: ObjectStore, tmp_path: Path) -> None:
    path = "executions/e1/n0/1/logs.txt"
    assert remote_store.append_interval_s(path) == storage_module.APPEND_EVERY_S
    for _ in range(storage_module.PARTS_PER_SECOND_OF_WAIT):
        remote_store.append_text(path, "x")
    assert remote_store.append_interval_s(path) == storage_module.APPEND_EVERY_S + 1
    assert ObjectStore(str(tmp_path / "data")).append_interval_s(path) == 0.0  # a local append is cheap


def test_delete_prefix_removes_a_folder(store: ObjectStore) -> None:
    store.put_bytes("executions/e1/a.pkl", b"a")
    store.put_bytes("executions/e1/n0/b.pkl", b"b")
    store.put_bytes("executions/e10/c.pkl", b"c")
    store.delete_prefix("executions/e1")
    assert not store.exists("executions/e1/a.pkl")
    assert not store.exists("executions/e1/n0/b.pkl")
    assert store.get_bytes("executions/e10/c.pkl") == b"c"
    store.delete_prefix("executions/nothing-here")


def test_uri_opens_from_elsewhere(store: ObjectStore) -> None:
    store.put_bytes("functions/f.pkl", b"payload")
    with fsspec.open(store.uri("functions/f.pkl"), "rb") as handle:
        assert handle.read() == b"payload"


@pytest.mark.parametrize(
    "path",
    ["../outside", "a/../../outside", "/etc/passwd", "a/..", "", "s3://bucket/x", "a\\..\\b"],
)
def test_paths_may_not_leave_the_root(store: ObjectStore, path: str) -> None:
    with pytest.raises(StoragePathError, match="object store path"):
        store.put_bytes(path, b"x")
    with pytest.raises(StoragePathError):
        store.read_text(path)


def test_local_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    store = ObjectStore(str(tmp_path / "data"))
    for i in range(3):
        store.put_json("executions/e1/outputs.json", {"i": i})
    assert [p.name for p in (tmp_path / "data/executions/e1").iterdir()] == ["outputs.json"]
    assert store.uri("executions/e1/outputs.json").startswith("file://")


def test_files_are_stored_streamed_and_plain_reads_refuse_folders(store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "upload.bin"
    source.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 4096)
    store.put_file("bundles/b.tar.gz", source)
    assert store.get_bytes("bundles/b.tar.gz") == source.read_bytes()
    assert store.get_bytes("bundles/b.tar.gz", follow_links=False) == source.read_bytes()
    for missing in ("bundles", "bundles/none.tar.gz", "bundles/b.tar.gz/inner"):
        with pytest.raises(FileNotFoundError, match="no object .* in the object store"):
            store.get_bytes(missing, follow_links=False)
    with pytest.raises(FileNotFoundError, match="no object 'bundles' in the object store"):
        store.get_bytes("bundles")


def test_plain_reads_never_follow_a_link(tmp_path: Path) -> None:
    store = ObjectStore(str(tmp_path / "data"))
    (tmp_path / "secret").write_text("s")
    store.put_bytes("executions/e1/o0.pkl", b"v")
    (tmp_path / "data/executions/e1/link.pkl").symlink_to(tmp_path / "secret")
    (tmp_path / "data/executions/out").symlink_to(tmp_path)
    assert store.get_bytes("executions/e1/link.pkl") == b"s"  # the default follows links
    for path in ("executions/e1/link.pkl", "executions/out/secret"):
        with pytest.raises(FileNotFoundError):
            store.get_bytes(path, follow_links=False)
    linked_root = ObjectStore(str(tmp_path / "linked"))  # a root reached through a link is fine
    (tmp_path / "linked").rmdir()
    (tmp_path / "linked").symlink_to(tmp_path / "data")
    assert linked_root.get_bytes("executions/e1/o0.pkl", follow_links=False) == b"v"


# ------------------------------------------------------------------ S3 settings


def test_s3_settings_are_read_once_when_the_store_opens(s3: S3, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker opens the store, then clears its environment for its tasks: the store keeps
    its credentials and endpoint, even on a new connection."""
    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)
    store = ObjectStore(s3.url())
    for name in s3.env:
        monkeypatch.delenv(name)
    store.fs.connect(refresh=True)  # a new client, made without the variables
    store.put_bytes("bundles/b.tar.gz", b"code")
    assert store.get_bytes("bundles/b.tar.gz") == b"code"
    assert "plait-tests-secret" not in repr(store) + store.url + store.uri("bundles/b.tar.gz")
    store.delete_prefix("bundles")


def test_storage_options_come_from_plait_storage_options(s3: S3, monkeypatch: pytest.MonkeyPatch) -> None:
    env = s3.env
    for name in env:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PLAIT_STORAGE_OPTIONS", (
        f'{{"key": "{env["AWS_ACCESS_KEY_ID"]}", "secret": "{env["AWS_SECRET_ACCESS_KEY"]}", '
        f'"endpoint_url": "{s3.endpoint}", "client_kwargs": {{"region_name": "us-east-1"}}}}'))
    store = ObjectStore(s3.url())
    store.put_json("executions/e1/inputs.json", {"x": 1})
    assert store.get_json("executions/e1/inputs.json") == {"x": 1}
    store.delete_prefix("executions")


@pytest.mark.parametrize(("value", "found"), [("{endpoint_url:", "it is not JSON"),
                                              ('["s3"]', "found a JSON list")])
def test_bad_storage_options_say_what_is_expected(monkeypatch: pytest.MonkeyPatch, value: str, found: str) -> None:
    monkeypatch.setenv("PLAIT_STORAGE_OPTIONS", value)
    with pytest.raises(StorageConfigError, match=rf"PLAIT_STORAGE_OPTIONS must be a JSON object of fsspec "
                                                 rf"storage options, like .*; {found}"):
        ObjectStore("memory://plait-tests/options")


def test_credentials_never_go_in_the_url() -> None:
    with pytest.raises(StorageConfigError, match=r"the object store URL names credentials before `@` "
                                                 r"\(s3://...@bucket\); the URL is recorded and sent to every "
                                                 r"worker, .*AWS_ACCESS_KEY_ID"):
        ObjectStore("s3://AKIA123:hunter2@bucket/plait")
    with pytest.raises(StorageConfigError, match="names no bucket or folder; give one like s3://bucket/plait"):
        ObjectStore("s3://")
