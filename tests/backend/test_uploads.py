"""Code reaches the server only as checked uploads, and specs name it only by digest.

`PUT /api/v1/bundles/{digest}` accepts a gzip tar of regular files and folders
with relative paths, within the size and expansion limits of
`Settings.upload_limits`; a refused upload leaves nothing in the object store
or the temporary folder. `POST /api/v1/register` accepts in `code.bundle`
only the digest of an uploaded bundle (once, a path there made the worker
import code from any folder).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import random
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import plait
import pytest
from fakes import PYTHON, RecordingExecutor
from fastapi.testclient import TestClient
from plait.backend.api import create_app
from plait.backend.config import Settings, UploadLimits
from plait.backend.storage import ObjectStore
from plait.backend.store import Database
from plait.remote.bundle import build_bundle

TOKEN = "uploads-token"


@plait.task
def greet(name: str) -> str:
    return f"hello {name}"


@dataclasses.dataclass
class Server:
    client: TestClient
    storage: ObjectStore
    uploads: Path  # the temporary folder uploads are streamed to

    def put(self, data: bytes, kind: str = "bundles", digest: str | None = None, **kw: Any) -> Any:
        return self.client.put(f"/api/v1/{kind}/{digest or hashlib.sha256(data).hexdigest()}",
                               content=data, **kw)

    def left_behind(self) -> list[str]:
        """Everything in the object store and the upload folder."""
        root = Path(self.storage.root)
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) + \
            sorted(p.name for p in self.uploads.iterdir())


@pytest.fixture
def make_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Server]]:
    uploads = tmp_path / "tmp"
    uploads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))
    made: list[tuple[TestClient, Database]] = []

    def make(**limits: int) -> Server:
        settings = Settings.from_env(env={}, home=str(tmp_path / f"home{len(made)}"))
        settings = dataclasses.replace(settings, upload_limits=UploadLimits(**limits))
        db = Database(settings.database_url)
        db.migrate()
        storage = ObjectStore(settings.storage_url)
        client = TestClient(create_app(settings, db, storage, RecordingExecutor(), token=TOKEN),
                            headers={"Authorization": f"Bearer {TOKEN}"})
        made.append((client, db))
        return Server(client, storage, uploads)

    yield make
    for client, db in made:
        client.close()
        db.dispose()


@pytest.fixture
def server(make_server: Callable[..., Server]) -> Server:
    return make_server()


def tar_gz(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return gzip.compress(raw.getvalue())


def entry(name: str, kind: bytes = tarfile.REGTYPE, data: bytes | None = b"x = 1\n", **fields: Any) -> Any:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in fields.items():
        setattr(info, key, value)
    return info, data if kind == tarfile.REGTYPE else None


def test_a_bundle_from_plait_remote_is_accepted(server: Server, tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "flows.py").write_text("x = 1\n" * 1000)
    data, digest = build_bundle({"pkg/__init__.py": tmp_path / "pkg" / "__init__.py",
                                 "pkg/flows.py": tmp_path / "pkg" / "flows.py"})
    answer = server.put(data, params={"python_version": PYTHON})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"digest": digest, "size": len(data), "created": True}
    assert server.storage.get_bytes(f"bundles/{digest}.tar.gz") == data
    folders = tar_gz(entry("pkg", tarfile.DIRTYPE), entry("pkg/__init__.py"), entry("./pkg/a.py"))
    assert server.put(folders).status_code == 200
    assert [p for p in server.left_behind() if not p.startswith("bundles/")] == []


@pytest.mark.parametrize(("member", "problem"), [
    (entry("/etc/cron.d/job"), "is an absolute path; bundle paths are relative to the bundle's root"),
    (entry("../outside.py"), "contains '..'; bundle paths may not leave the bundle's root"),
    (entry("pkg/../../outside.py"), "contains '..'; bundle paths may not leave the bundle's root"),
    (entry("pkg\\win.py"), "contains a backslash; bundle paths separate folders with '/'"),
    (entry("evil.py", tarfile.SYMTYPE, linkname="/home/someone/evil.py"),
     "is a symbolic link; a bundle holds only regular files and folders"),
    (entry("hard.py", tarfile.LNKTYPE, linkname="pkg/a.py"),
     "is a hard link; a bundle holds only regular files and folders"),
    (entry("dev", tarfile.CHRTYPE, devmajor=1, devminor=3),
     "is a character device; a bundle holds only regular files and folders"),
    (entry("disk", tarfile.BLKTYPE, devmajor=8, devminor=0),
     "is a block device; a bundle holds only regular files and folders"),
    (entry("pipe", tarfile.FIFOTYPE), "is a FIFO; a bundle holds only regular files and folders"),
], ids=["absolute", "dotdot", "inner-dotdot", "backslash", "symlink", "hardlink", "chardev", "blockdev",
        "fifo"])
def test_a_bundle_entry_that_is_not_a_plain_relative_file_is_refused(
        server: Server, member: Any, problem: str) -> None:
    data = tar_gz(entry("pkg/a.py"), member)
    answer = server.put(data)
    assert answer.status_code == 422, answer.text
    assert answer.json() == {"error": "invalid_field", "field": "body",
                             "message": f"bundle entry `{member[0].name}` {problem}"}
    assert server.left_behind() == []
    refused = server.client.post("/api/v1/register", json={
        "python_version": PYTHON, "bundle_digest": hashlib.sha256(data).hexdigest(), "specs": [greet.to_spec()]})
    assert refused.status_code == 422 and refused.json()["field"] == "bundle_digest"


def test_a_body_that_is_not_a_gzip_tar_is_refused(server: Server) -> None:
    plain = server.put(b"PK\x03\x04 a zip file")
    assert plain.status_code == 422 and plain.json()["message"] == (
        "a code bundle must be a gzip-compressed tar file (a .tar.gz)")
    not_tar = server.put(gzip.compress(b"just some text, not a tar archive" * 40))
    assert not_tar.status_code == 422
    assert not_tar.json()["message"].startswith("the body is not a readable gzip-compressed tar file (")
    whole = tar_gz(entry("pkg/a.py", data=bytes(range(256)) * 400))
    cut = server.put(whole[: len(whole) // 2])
    assert cut.status_code == 422 and "not a readable gzip-compressed tar file" in cut.json()["message"]
    crc = bytearray(whole)
    crc[-8] ^= 0xFF  # the gzip trailer's CRC: every entry reads, the stream does not check out
    assert server.put(bytes(crc)).status_code == 422
    assert server.left_behind() == []


def test_uploads_past_the_size_limit_are_413_whether_announced_or_streamed(
        make_server: Callable[..., Server]) -> None:
    server = make_server(max_upload_bytes=4096)
    data = tar_gz(entry("pkg/a.py", data=random.Random(0).randbytes(6000)))  # does not compress
    assert len(data) > 4096
    announced = server.put(data)
    assert announced.status_code == 413
    assert announced.json() == {
        "error": "too_large", "field": "body",
        "message": f"the upload is {len(data)} bytes; this server accepts uploads of up to 4096 bytes "
                   "(PLAIT_MAX_UPLOAD_BYTES)"}

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        for i in range(0, len(data), 1000):
            yield data[i:i + 1000]

    streamed = server.put(chunks(), digest=hashlib.sha256(data).hexdigest())  # type: ignore[arg-type]
    assert streamed.status_code == 413
    assert streamed.json()["message"] == (
        "the upload is larger than 4096 bytes, the most this server accepts (PLAIT_MAX_UPLOAD_BYTES)")
    function = server.put(b"p" * 5000, kind="functions")
    assert function.status_code == 413
    assert server.left_behind() == []
    assert server.put(b"p" * 4000, kind="functions").json()["created"] is True


def test_a_bundle_that_expands_too_far_is_413(make_server: Callable[..., Server]) -> None:
    bomb = tar_gz(entry("zeros.py", data=bytes(8 * 1024 * 1024)))  # 8 MiB of zeros in ~8 KiB
    server = make_server()
    answer = server.put(bomb)
    assert answer.status_code == 413
    assert answer.json()["message"] == (
        f"the bundle expands to more than 100 times its {len(bomb)} bytes (PLAIT_MAX_BUNDLE_RATIO); "
        "a bundle holds module sources, not data")
    capped = make_server(max_bundle_bytes=2 * 1024 * 1024, max_bundle_ratio=10_000)
    answer = capped.put(bomb)
    assert answer.status_code == 413 and answer.json()["message"] == (
        "the bundle expands to more than 2 MiB, the most this server accepts (PLAIT_MAX_BUNDLE_BYTES)")
    few = make_server(max_bundle_entries=3)
    answer = few.put(tar_gz(*(entry(f"m{i}.py") for i in range(4))))
    assert answer.status_code == 413 and answer.json()["message"] == (
        "the bundle has more than 3 entries, the most this server accepts (PLAIT_MAX_BUNDLE_ENTRIES)")
    assert few.put(tar_gz(*(entry(f"m{i}.py") for i in range(3)))).status_code == 200
    assert server.left_behind() == [] and capped.left_behind() == []


def test_a_body_that_is_not_its_digest_leaves_nothing(server: Server) -> None:
    data = tar_gz(entry("pkg/a.py"))
    for kind in ("bundles", "functions"):
        answer = server.put(data, kind=kind, digest="0" * 64)
        assert answer.status_code == 422 and answer.json()["field"] == "digest"
    assert server.left_behind() == []


def test_upload_limits_come_from_the_environment() -> None:
    limits = Settings.from_env({"PLAIT_MAX_UPLOAD_BYTES": "1048576", "PLAIT_MAX_BUNDLE_BYTES": "2_000_000",
                                "PLAIT_MAX_BUNDLE_RATIO": "50", "PLAIT_MAX_BUNDLE_ENTRIES": "10"}).upload_limits
    assert limits == UploadLimits(max_upload_bytes=1048576, max_bundle_bytes=2_000_000, max_bundle_ratio=50,
                                  max_bundle_entries=10)
    assert Settings.from_env({}).upload_limits == UploadLimits(
        max_upload_bytes=512 * 1024 * 1024, max_bundle_bytes=1024 * 1024 * 1024, max_bundle_ratio=100,
        max_bundle_entries=100_000)
    with pytest.raises(ValueError, match=r"PLAIT_MAX_BUNDLE_RATIO must be a positive whole number, found '-1'"):
        Settings.from_env({"PLAIT_MAX_BUNDLE_RATIO": "-1"})
    with pytest.raises(ValueError, match=r"PLAIT_MAX_UPLOAD_BYTES must be a positive whole number, found '1G'"):
        Settings.from_env({"PLAIT_MAX_UPLOAD_BYTES": "1G"})


# ------------------------------------------------------------------ code.bundle in specs


def _register(server: Server, code: dict[str, Any], **extra: Any) -> Any:
    spec = {**greet.to_spec(), "code": {"module": "flows", "qualname": "greet", **code}}
    return server.client.post("/api/v1/register", json={"python_version": PYTHON, "specs": [spec], **extra})


@pytest.mark.parametrize("bundle", [
    "/home/someone/planted", "../../../tmp/planted", "F" * 64, "a" * 63, "", 12,
])
def test_code_bundle_must_be_a_digest(server: Server, bundle: Any) -> None:
    answer = _register(server, {"bundle": bundle})
    assert answer.status_code == 422, answer.text
    assert answer.json() == {
        "error": "invalid_field", "field": "specs[0].code.bundle",
        "message": f"specs[0].code.bundle must be the sha256 digest (64 lowercase hex digits) of a code "
                   f"bundle uploaded with PUT /api/v1/bundles/{{digest}}, found {bundle!r}; upload the code "
                   "and name it by its digest, as plait.Remote does"}
    assert server.client.get("/api/v1/tasks").json()["items"] == []


def test_code_bundle_must_have_been_uploaded(server: Server) -> None:
    missing = "e" * 64
    answer = _register(server, {"bundle": missing})
    assert answer.status_code == 422
    assert answer.json() == {
        "error": "invalid_field", "field": "specs[0].code.bundle",
        "message": f"specs[0].code.bundle names the bundle `{missing}`, which was not uploaded; "
                   f"PUT /api/v1/bundles/{missing} first"}
    data = tar_gz(entry("flows.py"))
    digest = hashlib.sha256(data).hexdigest()
    assert server.put(data).status_code == 200
    assert _register(server, {"bundle": digest}).status_code == 201
    assert _register(server, {"bundle": None, "pickle": "../bundles/x"}).json()["field"] == "specs[0].code.pickle"
    not_a_dict = server.client.post("/api/v1/register", json={
        "python_version": PYTHON, "specs": [{**greet.to_spec(), "code": ["../x"]}]})
    assert not_a_dict.status_code == 422 and not_a_dict.json()["field"] == "specs[0].code"
