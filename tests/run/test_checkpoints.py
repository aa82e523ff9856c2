"""Intra-task checkpoints across the local engine's retries (`current_context().checkpoint`).

The program is tests/resources/flyte_sdk/checkpointed.py: a loop that saves its step
after each one and is interrupted twice, and a task that saves a folder then fails.
"""

from __future__ import annotations

import io

import plait
import pytest
from plait.sdk.checkpoint import Checkpoint, FolderPlace


def test_each_retry_resumes_from_the_step_the_attempt_before_saved(resource) -> None:
    prog = resource("flyte_sdk/checkpointed.py")
    assert prog.counting(n=10) == "attempt 3 started at 6, had a checkpoint: True"


def test_a_first_attempt_that_succeeds_has_no_previous_checkpoint(resource) -> None:
    prog = resource("flyte_sdk/checkpointed.py")
    assert prog.count_to(n=2) == "attempt 1 started at 0, had a checkpoint: False"


def test_a_saved_folder_is_restored_whole_on_the_next_attempt(resource) -> None:
    prog = resource("flyte_sdk/checkpointed.py")
    assert prog.folders(name="part") == ["part.a=first", "part.b=second"]


def test_checkpoints_do_not_leak_between_runs(resource) -> None:
    prog = resource("flyte_sdk/checkpointed.py")
    prog.counting(n=10)
    assert prog.count_to(n=2) == "attempt 1 started at 0, had a checkpoint: False"


def test_an_attempt_that_saved_nothing_reads_the_latest_earlier_checkpoint(tmp_path) -> None:
    first = Checkpoint(FolderPlace(tmp_path / "1"))
    first.write(b"step 4")
    second = Checkpoint(FolderPlace(tmp_path / "2"), [FolderPlace(tmp_path / "1")])
    assert second.read() == b"step 4"  # it died before writing anything
    third = Checkpoint(FolderPlace(tmp_path / "3"), [FolderPlace(tmp_path / "2"), FolderPlace(tmp_path / "1")])
    assert third.prev_exists() and third.read() == b"step 4"


def test_save_takes_a_reader_and_write_refuses_text(tmp_path) -> None:
    cp = Checkpoint(FolderPlace(tmp_path / "1"))
    cp.save(io.BytesIO(b"raw"))
    assert Checkpoint(FolderPlace(tmp_path / "2"), [FolderPlace(tmp_path / "1")]).read() == b"raw"
    with pytest.raises(plait.UserError, match=r"encode text first"):
        cp.write("not bytes")  # type: ignore[arg-type]


def test_read_of_a_checkpoint_with_several_files_points_to_restore(tmp_path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a").write_text("1")
    (tmp_path / "src" / "b").write_text("2")
    Checkpoint(FolderPlace(tmp_path / "1")).save(tmp_path / "src")
    with pytest.raises(plait.UserError, match=r"holds 2 files.*use checkpoint.restore\(\)"):
        Checkpoint(FolderPlace(tmp_path / "2"), [FolderPlace(tmp_path / "1")]).read()


def test_a_checkpoint_in_an_object_store_keeps_folders_and_bytes(tmp_path) -> None:
    from plait.backend.storage import ObjectStore
    from plait.sdk.checkpoint import StorePlace

    store = ObjectStore(str(tmp_path / "store"))
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(b"\x00\x01")
    (tmp_path / "model" / "sub").mkdir()
    (tmp_path / "model" / "sub" / "cfg.json").write_text("{}")
    Checkpoint(StorePlace(store, "ex/n0/1/checkpoint")).save(tmp_path / "model")
    nothing = StorePlace(store, "ex/n0/2/checkpoint")
    later = Checkpoint(StorePlace(store, "ex/n0/3/checkpoint"), [nothing, StorePlace(store, "ex/n0/1/checkpoint")])
    with pytest.raises(ValueError, match="restored into a folder"):
        later.restore(tmp_path / "missing")
    (tmp_path / "back").mkdir()
    restored = later.restore(tmp_path / "back")
    assert restored == tmp_path / "back"
    assert (restored / "weights.bin").read_bytes() == b"\x00\x01" and (restored / "sub" / "cfg.json").read_text() == "{}"
    assert sorted(p.name for p in restored.iterdir()) == ["sub", "weights.bin"]  # not the store's index


def test_an_attempt_stopped_at_its_timeout_keeps_what_it_saved(resource) -> None:
    prog = resource("flyte_sdk/checkpointed.py")
    assert prog.resume_after_hang(label="job") == "job: half done, finished by attempt 2"
