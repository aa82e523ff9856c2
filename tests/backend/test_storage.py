"""The object store on a local folder and on fsspec's in-memory filesystem."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from plait.backend.storage import ObjectStore, StoragePathError


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield ObjectStore(str(tmp_path / "data"))
        return
    root = f"memory://plait-tests/{uuid.uuid4().hex}"
    yield ObjectStore(root)
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


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
