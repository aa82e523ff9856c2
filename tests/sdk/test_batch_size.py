"""`BatchSize` on lists of pickled values and `Iterator[T]` outputs, as Flyte documents them.

The program is tests/resources/flyte_sdk/hero_batches.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import plait
import pytest
from plait import BatchSize


def test_a_batched_list_of_pickled_objects_reaches_the_next_task_whole(resource) -> None:
    prog = resource("flyte_sdk/hero_batches.py")
    heroes = prog.recruit(names=["Ada", "Grace", "Linus"])
    assert [(h.name, h.level) for h in heroes] == [("Ada", 3), ("Grace", 5), ("Linus", 5)]


def test_a_task_that_yields_returns_a_list_that_can_be_read_twice(resource) -> None:
    prog = resource("flyte_sdk/hero_batches.py")
    lines = prog.rally(names=["Ada", "Bo"])
    assert list(lines) == ["Go Ada (level 3)!", "Go Bo (level 2)!"]
    assert list(lines) == list(lines)


def test_iterator_outputs_feed_list_inputs_and_map_tasks(resource) -> None:
    prog = resource("flyte_sdk/hero_batches.py")
    assert prog.loud_rally(names=["Ada"]) == ["GO ADA (LEVEL 3)!"]
    assert prog.cheer.interface.outputs == {"o0": list[str]}


def test_a_map_task_fans_out_over_a_batched_list_of_pickled_objects(resource) -> None:
    prog = resource("flyte_sdk/hero_batches.py")
    assert prog.roll_call(names=["Ada", "Grace", "Linus"]) == ["Ada:3", "Grace:5", "Linus:5"]


def test_the_generator_runs_inside_the_attempt(resource) -> None:
    @plait.task
    def steps(n: int) -> Iterator[int]:
        for i in range(n):
            yield plait.current_context().attempt_number * 10 + i

    assert steps(n=2) == [10, 11]


def test_batch_size_is_kept_with_the_type_and_checked() -> None:
    assert BatchSize(3).val == 3 and BatchSize(3) == BatchSize(3)
    with pytest.raises(plait.UserError, match=r"BatchSize expects a whole number of items >= 1, got 0"):
        BatchSize(0)


def test_the_flytekit_module_path_names_the_same_marker() -> None:
    from plait.types.pickle.pickle import BatchSize as FromPickle

    assert FromPickle is BatchSize
