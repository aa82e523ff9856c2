"""Actors as their users write them: `ActorEnvironment`, `@actor.task` and `@actor_cache`."""

from __future__ import annotations

import json
import threading
import time

import plait as union
import pytest
from plait.errors import InputError, UserError
from plait.run.engine import CACHE_HIT, execute
from plait.task_types.actors import ActorCacheKeyError, ActorTask

# ---- hello world -------------------------------------------------------------


def test_hello_world_actor_runs_locally(resource):
    prog = resource("tasks/actors_hello.py")
    assert prog.hello_wf() == "hello"
    assert prog.greet() == "hello"
    assert prog.count_up(start=5) == 9


def test_actor_task_takes_the_environment_wide_settings(resource):
    prog = resource("tasks/actors_hello.py")
    settings = prog.shout.settings
    assert settings.environment == {"GREETING": "hello"}
    assert settings.container_image == "ghcr.io/example/greeter:1.0"
    assert settings.requests == union.Resources(cpu="1", mem="256Mi")
    assert settings.retries == 2  # per-task settings come from the decorator
    assert settings.cache is not None
    assert prog.greet.settings.retries == 0


def test_actor_task_is_a_python_task_named_after_its_actor(resource):
    prog = resource("tasks/actors_hello.py")
    assert isinstance(prog.greet, ActorTask)
    assert isinstance(prog.greet, union.PythonFunctionTask)
    assert prog.greet.environment_name == "greeter"
    assert prog.greet.actor is prog.greeter


def test_actor_spec_travels_with_the_task(resource):
    prog = resource("tasks/actors_hello.py")
    spec = json.loads(json.dumps(prog.shout.to_spec()))
    assert spec["environment_name"] == "greeter"
    actor = spec["actor"]
    assert actor["name"] == "greeter"
    assert actor["replica_count"] == 1
    assert actor["ttl_seconds"] == 60
    assert actor["environment"] == {"GREETING": "hello"}
    assert actor["container_image"] == "ghcr.io/example/greeter:1.0"
    assert actor["requests"] == union.Resources(cpu="1", mem="256Mi").to_spec()
    assert spec["settings"]["retries"] == 2


def test_changing_the_actor_changes_the_task_version():
    def make(replicas):
        env = union.ActorEnvironment(name="versioned", replica_count=replicas)

        @env.task
        def plus(x: int) -> int:
            return x + 1

        return plus.to_spec()["version"]

    assert make(1) == make(1)
    assert make(1) != make(3)


def test_actor_tasks_serve_subworkflows_and_launch_plans(resource):
    prog = resource("tasks/actors_hello.py")
    assert prog.parent(name="ada") == "ADA!!"


def test_actor_task_cache_applies_per_task(resource):
    prog = resource("tasks/actors_hello.py")
    execute(prog.child, {"name": "bo"})
    second = execute(prog.child, {"name": "bo"})
    assert [r.phase for r in second.nodes.values()] == [CACHE_HIT]


def test_actor_environment_variables_are_set_only_while_its_task_runs(resource, monkeypatch):
    monkeypatch.delenv("GREETING", raising=False)
    prog = resource("tasks/actors_hello.py")
    assert prog.greet() == "hello"
    import os

    assert "GREETING" not in os.environ


# ---- validation ----------------------------------------------------------------


@pytest.mark.parametrize("count", [0, -1, 1.5, True, "2"])
def test_replica_count_must_be_a_whole_number_of_at_least_one(count):
    with pytest.raises(InputError, match=r"ActorEnvironment `pool`: replica_count expects a whole number >= 1"):
        union.ActorEnvironment(name="pool", replica_count=count)


@pytest.mark.parametrize("ttl", [0, -5, "60", False])
def test_ttl_must_be_positive_seconds(ttl):
    with pytest.raises(InputError, match=r"ActorEnvironment `pool`: ttl_seconds expects a positive number"):
        union.ActorEnvironment(name="pool", ttl_seconds=ttl)


def test_actor_needs_a_name():
    with pytest.raises(InputError, match="non-empty name"):
        union.ActorEnvironment(name="")


def test_bad_environment_settings_name_the_actor():
    with pytest.raises(InputError, match=r"ActorEnvironment `pool`: environment expects a dict of str to str"):
        union.ActorEnvironment(name="pool", environment={"N": 1})
    with pytest.raises(InputError, match=r"ActorEnvironment `pool`: `requests` expects plait.Resources"):
        union.ActorEnvironment(name="pool", requests={"cpu": "1"})


def test_environment_settings_on_an_actor_task_say_where_they_belong():
    env = union.ActorEnvironment(name="pool")
    with pytest.raises(UserError, match=r"\['requests'\] apply to the whole actor; set them on ActorEnvironment"):

        @env.task(requests=union.Resources(cpu="2"))
        def heavy() -> None: ...


def test_unknown_actor_task_parameters_are_rejected():
    env = union.ActorEnvironment(name="pool")
    with pytest.raises(UserError, match=r"@pool.task got unknown parameter\(s\) \['retry'\]"):
        env.task(retry=3)


def test_per_task_settings_are_validated_with_the_task_name():
    env = union.ActorEnvironment(name="pool")
    with pytest.raises(InputError, match=r"task `.*sleepy`: timeout expects"):

        @env.task(timeout="forever")
        def sleepy() -> None: ...


# ---- actor_cache -----------------------------------------------------------------


def test_actor_cache_loads_once_across_tasks_and_runs(resource):
    prog = resource("tasks/actors_cache.py")
    assert prog.score_four_times(start=1, offset=3) == 13
    assert prog.LOADS == [3]
    assert prog.score_four_times(start=0, offset=3) == 12  # the replica is still warm
    assert prog.LOADS == [3]
    assert prog.score_four_times(start=0, offset=5) == 20  # a new key loads again
    assert prog.LOADS == [3, 5]
    info = prog.load_model.cache_info()
    assert (info.misses, info.hits, info.currsize) == (2, 10, 2)


def test_actor_cache_treats_positional_and_keyword_calls_alike(resource):
    prog = resource("tasks/actors_cache.py")
    model = prog.load_model(4)
    assert prog.load_model(offset=4) is model
    assert prog.LOADS == [4]


def test_actor_cache_keys_on_custom_hashable_objects(resource):
    prog = resource("tasks/actors_cache.py")
    assert prog.levels(level=2) == 2
    assert prog.LOADS == [-2]  # three tasks, three equal Settings objects, one load


def test_actor_cache_clear_forgets_results(resource):
    prog = resource("tasks/actors_cache.py")
    prog.level_of(prog.Settings(1))
    prog.level_of.cache_clear()
    prog.level_of(prog.Settings(1))
    assert prog.LOADS == [-1, -1]


def test_actor_cache_is_per_process(resource):
    prog = resource("tasks/actors_cache.py")
    import os

    assert prog.pid_of_replica() == os.getpid()


def test_concurrent_callers_with_one_key_compute_once():
    calls = []

    @union.actor_cache
    def slow(key: str) -> str:
        calls.append(key)
        time.sleep(0.05)
        return key * 2

    results = []
    threads = [threading.Thread(target=lambda: results.append(slow("ab"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["abab"] * 8
    assert calls == ["ab"]


def test_actor_cache_does_not_keep_failures():
    attempts = []

    @union.actor_cache
    def flaky(n: int) -> int:
        attempts.append(n)
        if len(attempts) == 1:
            raise RuntimeError("cold start failed")
        return n

    with pytest.raises(RuntimeError, match="cold start failed"):
        flaky(1)
    assert flaky(1) == 1
    assert flaky(1) == 1
    assert attempts == [1, 1]


def test_unhashable_arguments_get_a_clear_message():
    @union.actor_cache
    def total(values: list[int]) -> int:
        return sum(values)

    with pytest.raises(ActorCacheKeyError, match=r"argument `values` of type `list` cannot be a cache key.*tuple instead of a list"):
        total([1, 2])
    assert total((1, 2)) == 3


def test_actor_cache_keeps_the_function_name_and_docs():
    @union.actor_cache
    def loader(x: int) -> int:
        """Load something."""
        return x

    assert loader.__name__ == "loader"
    assert loader.__doc__ == "Load something."
    assert union.actor_cache()(lambda: 1)() == 1


def test_actor_cache_on_a_task_is_refused():
    @union.task
    def t() -> int:
        return 1

    with pytest.raises(UserError, match="cache a plain helper function"):
        union.actor_cache(t)


# ---- map over an actor task ----------------------------------------------------


def test_map_over_an_actor_task_loads_the_model_once(resource):
    prog = resource("tasks/actors_map.py")
    assert prog.run_inference(values=[1, 2, 3, 4]) == [4, 8, 12, 16]
    assert len(prog.LOADED) == 1


def test_map_over_a_cached_actor_task(resource):
    prog = resource("tasks/actors_map.py")
    assert prog.evens(numbers=[1, 2, 3, 4]) == [False, True, False, True]
    spec = prog.evens.to_spec()
    assert "inference-pool" in json.dumps(prog.is_even.to_spec())
    assert spec["kind"] == "workflow"


def test_declaring_an_actor_first_keeps_union_task_a_decorator():
    # The reference's map example declares the actor before its first `@union.task`.
    import subprocess
    import sys

    code = (
        "import plait as union\n"
        "actor = union.ActorEnvironment(name='first')\n"
        "@union.task\n"
        "def t() -> int:\n"
        "    return 1\n"
        "print(t())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
