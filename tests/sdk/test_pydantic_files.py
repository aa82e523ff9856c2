"""Pydantic models with FlyteFile / FlyteDirectory / StructuredDataset fields: the data travels.

The program is tests/resources/flyte_sdk/model_files.py: a task packs files, a folder,
a list of nested models whose files share a name, and a data frame into one model; the
next task reads them all after the first task's working directory is gone.
"""

from __future__ import annotations

import os
import warnings

import pandas as pd
import pytest


@pytest.fixture
def prog(resource):
    return resource("flyte_sdk/model_files.py")


def test_every_file_of_the_model_reaches_the_next_task(prog) -> None:
    assert prog.deliver(title="june", rows=["ab", "cde"]) == (
        "june: 2 rows | ['a.png', 'b.png'] | ['s0=ab', 's1=cde'] | 5"
    )


def test_files_with_the_same_name_in_different_fields_stay_apart(prog) -> None:
    delivery = prog.pack(title="t", rows=["one", "two", "three"])
    paths = [os.fspath(s.rows) for s in delivery.shards]
    assert len(set(paths)) == 3
    assert [open(p).read() for p in paths] == ["one", "two", "three"]
    assert sorted(os.listdir(delivery.images)) == ["a.png", "b.png"]
    assert delivery.table.open(pd.DataFrame).all()["row"].tolist() == ["one", "two", "three"]


def test_the_model_round_trips_through_json_with_its_paths(prog) -> None:
    delivery = prog.pack(title="t", rows=["x"])
    again = prog.Delivery.model_validate_json(delivery.model_dump_json())
    assert again.summary == delivery.summary and open(again.shards[0].rows).read() == "x"
    assert again.table.uri == delivery.table.uri


def test_a_model_the_caller_builds_is_passed_as_it_is(prog, tmp_path) -> None:
    (tmp_path / "s.txt").write_text("given: 1 rows")
    (tmp_path / "img").mkdir()
    mine = prog.Delivery(title="given", summary=str(tmp_path / "s.txt"), images=str(tmp_path / "img"),
                         shards=[prog.Shard(label="only", rows=str(tmp_path / "s.txt"))],
                         table=pd.DataFrame({"row": ["a"], "length": [4]}))
    assert prog.unpack(delivery=mine) == "given: 1 rows | [] | ['only=given: 1 rows'] | 4"


def test_a_file_field_refuses_what_is_not_a_path(prog) -> None:
    with pytest.raises(ValueError, match="expected a FlyteFile, a path"):
        prog.Shard(label="x", rows=3)


def test_models_are_not_reported_as_pickled_types(prog) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prog.pack(title="t", rows=[])
