"""Eager workflows run locally: the body awaits real values, each awaited entity is a node.

The programs are in tests/resources/eager/; the results are the ones Flyte's
documentation gives such programs (an awaited task hands back its value, a
failed one raises EagerException in the body, gather runs tasks at once).
"""

from __future__ import annotations

import asyncio
import time

import plait
import pytest
from plait.errors import InputError, UserError
from plait.run.engine import execute


@pytest.fixture
def orders(resource):
    return resource("eager/orders.py")


def test_calling_an_eager_workflow_runs_its_body_with_real_values(orders):
    assert orders.order_total(items=["apple", "pear"]) == 2.5  # 1.0 + 1.5: no discount
    assert orders.order_total(items=["melon", "pear"]) == 6.75  # 7.5 is over 5: 10% off


def test_each_awaited_entity_is_a_node_of_the_run_with_its_values(orders):
    run = execute(orders.order_total, {"items": ["apple", "melon"]})
    seen = {path: (rec.entity.rsplit(".", 1)[-1], rec.kind, rec.phase) for path, rec in run.nodes.items()}
    assert seen == {
        "": ("order_total", "task", "SUCCEEDED"),
        "n0": ("priced_line", "workflow", "SUCCEEDED"),
        "n0-n0": ("unit_price", "task", "SUCCEEDED"),
        "n0-n1": ("line_total", "task", "SUCCEEDED"),
        "n1": ("priced_line", "workflow", "SUCCEEDED"),
        "n1-n0": ("unit_price", "task", "SUCCEEDED"),
        "n1-n1": ("line_total", "task", "SUCCEEDED"),
        "n2": ("discount", "task", "SUCCEEDED"),
    }
    assert run.nodes["n1-n0"].inputs == {"item": "melon"}
    assert run.nodes["n1-n0"].outputs == {"o0": 3.0}
    assert run.nodes["n2"].inputs == {"total": 7.0}
    assert run.native() == 6.3


def test_an_observer_sees_the_awaited_nodes_as_they_start_and_end(orders):
    events: list[tuple[str, str]] = []
    execute(orders.order_total, {"items": ["pear"]}, observer=lambda rec: events.append((rec.path, rec.phase)))
    assert ("n0-n1", "RUNNING") in events
    assert events.index(("n0-n1", "RUNNING")) < events.index(("n0-n1", "SUCCEEDED"))
    assert events[-1] == ("", "SUCCEEDED")


def test_gather_runs_awaited_tasks_at_once_and_eager_workflows_nest(resource):
    fanout = resource("eager/fanout.py")
    started = time.perf_counter()
    run = execute(fanout.sum_of_squares, {"count": 4})
    took = time.perf_counter() - started
    assert run.native() == 0 + 1 + 4 + 9
    assert took < 1.5, f"four 0.5 s tasks under gather took {took:.2f}s: they did not run at once"
    squares = sorted(p for p, r in run.nodes.items() if r.entity.endswith("slow_square"))
    assert squares == ["n0", "n1", "n2", "n3"]  # paths in call order, whatever finished first
    assert run.nodes["n4"].entity.endswith("sum_up")
    assert run.nodes["n4-n0"].entity.endswith("add_all")
    assert run.nodes["n4-n0"].inputs == {"values": [0, 1, 4, 9]}


def test_a_failed_task_raises_eager_exception_that_the_body_can_catch(resource):
    recovery = resource("eager/recovery.py")
    assert recovery.safe_reading(value=-1.0) == "invalid reading"
    assert recovery.safe_reading(value=2.0) == "reading 2.0"
    run = execute(recovery.safe_reading, {"value": -1.0})
    assert run.nodes["n0"].phase == "FAILED"
    assert "a reading cannot be negative" in run.nodes["n0"].error
    assert run.phase == "SUCCEEDED"


def test_an_uncaught_failure_fails_the_run_with_the_tasks_error(resource):
    recovery = resource("eager/recovery.py")
    with pytest.raises(plait.EagerException, match=r"check_reading` \(node n0\) failed: ValueError: a reading "
                                                   r"cannot be negative: -3.0") as err:
        recovery.strict_reading(value=-3.0)
    assert isinstance(err.value.__cause__, ValueError)
    assert err.value.node == "n0"
    failed = err.value.execution
    assert failed.phase == "FAILED"
    assert failed.nodes[""].phase == "FAILED" and failed.nodes["n0"].phase == "FAILED"


def test_awaited_tasks_keep_their_retries(resource):
    recovery = resource("eager/recovery.py")
    recovery.calls["flaky"] = 0
    run = execute(recovery.sensor_reading, {})
    assert run.native() == 21.5
    assert run.nodes["n0"].attempts == 2


def test_awaited_tasks_use_the_local_cache(resource):
    legacy = resource("eager/legacy_import.py")
    legacy.runs["count"] = 0
    assert legacy.greet(name="ada") == "hello ADA!"
    second = execute(legacy.greet, {"name": "ada"})
    assert second.native() == "hello ADA!"
    assert legacy.runs["count"] == 1
    assert second.nodes["n0"].phase == "CACHE_HIT"


def test_flyte_import_paths_name_the_same_objects():
    from plait.exceptions.eager import EagerException
    from plait.experimental import eager as experimental_eager

    assert experimental_eager is plait.eager
    assert EagerException is plait.EagerException


def test_calling_from_code_that_runs_an_event_loop_still_returns_the_value(orders):
    async def notebook_cell() -> float:  # a kernel runs cells inside its own event loop
        return orders.order_total(items=["apple"])  # type: ignore[no-any-return]

    assert asyncio.run(notebook_cell()) == 1.0


def test_eager_needs_an_async_function():
    with pytest.raises(UserError, match=r"@eager needs an `async def` function, but `.*plain` is a plain "
                                        r"function; write `async def`"):
        @plait.eager
        def plain(x: int) -> int:
            return x


def test_a_wrong_input_to_an_awaited_task_is_raised_where_it_is_called(resource):
    orders = resource("eager/orders.py")

    @plait.eager
    async def wrong(x: int) -> float:
        return await orders.discount(amount=x)

    with pytest.raises(InputError, match=r"has no input\(s\) \['amount'\]"):
        wrong(x=1)


def test_an_eager_workflow_is_a_node_of_a_static_workflow(orders):
    @plait.workflow
    def report(items: list[str]) -> float:
        return orders.order_total(items=items, quantity=1)

    run = execute(report, {"items": ["melon", "pear"]})
    assert run.native() == 3.75
    assert run.nodes["n0"].entity.endswith("order_total")
    assert run.nodes["n0-n0"].entity.endswith("priced_line")


def test_a_call_that_is_never_awaited_still_runs_before_the_workflow_ends(resource):
    orders = resource("eager/orders.py")

    @plait.eager
    async def forgetful(total: float) -> float:
        orders.discount(total=total)  # noqa: RUF006 - never awaited, on purpose
        return total

    with pytest.warns(RuntimeWarning, match="never awaited"):
        run = execute(forgetful, {"total": 10.0})
        import gc

        gc.collect()
    assert run.native() == 10.0
    assert run.nodes["n0"].phase == "SUCCEEDED"
    assert run.nodes["n0"].outputs == {"o0": 9.0}
