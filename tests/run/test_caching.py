"""The "Caching" chapter: what a user sees when cached nodes run again."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from typing import Annotated

import plait as union
import pytest
from plait.errors import InputError
from plait.run.engine import CACHE_HIT, SUCCEEDED, execute
from plait.run.local_cache import LocalCache

TASKS = Path(__file__).parents[1] / "resources" / "tasks"
_copies = itertools.count()


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """Names of the task bodies that ran, in order (the programs log to $RUN_LOG)."""
    log = tmp_path / "runs.log"
    monkeypatch.setenv("RUN_LOG", str(log))
    return lambda: log.read_text().split() if log.exists() else []


@pytest.fixture
def edited(tmp_path):
    """Load tasks/versioned_square.py as the user edited it; the module name stays the same."""

    def load(*edits: tuple[str, str]):
        source = (TASKS / "versioned_square.py").read_text()
        for old, new in edits:
            assert old in source, old
            source = source.replace(old, new)
        path = tmp_path / f"copy{next(_copies)}" / "user_square.py"
        path.parent.mkdir()
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("user_square", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["user_square"] = module
        spec.loader.exec_module(module)
        return module

    yield load
    sys.modules.pop("user_square", None)


# ---- enabling caching -------------------------------------------------------


def test_second_call_with_same_inputs_reuses_the_result(resource, runs):
    prog = resource("tasks/cached_tasks.py")
    assert prog.cube(n=3) == 27
    assert prog.cube(n=3) == 27
    assert runs() == ["cube"]
    assert prog.cube(n=4) == 64  # new inputs, new entry
    assert runs() == ["cube", "cube"]


def test_uncached_task_runs_every_time(resource, runs):
    prog = resource("tasks/cached_tasks.py")
    prog.plain_cube(n=2)
    prog.plain_cube(n=2)
    assert runs() == ["plain_cube", "plain_cube"]


def test_cache_hit_is_recorded_on_the_node(resource, runs):
    prog = resource("tasks/cached_tasks.py")
    first = execute(prog.cube, {"n": 2})
    assert [r.phase for r in first.nodes.values()] == [SUCCEEDED]
    run = execute(prog.cube_twice, {"n": 2})
    assert run.native() == [8, 8]
    assert [r.phase for r in run.nodes.values()] == [CACHE_HIT, CACHE_HIT]
    assert runs() == ["cube"]


def test_results_are_stored_under_plait_home(resource, runs, plait_home):
    prog = resource("tasks/cached_tasks.py")
    prog.shout(word="hey")
    assert list((plait_home / "local-cache").rglob("*.pkl"))


def test_cache_true_and_cache_function_body_policy(resource, runs):
    prog = resource("tasks/cached_tasks.py")
    assert prog.shout(word="hi") == prog.shout(word="hi") == "HI!"
    assert prog.halve(x=3.0) == prog.halve(x=3.0) == 1.5
    assert runs() == ["shout", "halve"]
    settings = prog.shout.to_spec()["settings"]["cache"]
    assert settings["version"] is None and settings["policies"] == ["CacheFunctionBody"]
    assert settings["serialize"] is False and settings["ignored_inputs"] == []


def test_cache_object_is_carried_in_the_spec(resource):
    prog = resource("tasks/cached_tasks.py")
    assert prog.add_up.to_spec()["settings"]["cache"] == {
        "version": "1.0",
        "serialize": True,
        "ignored_inputs": ["offset"],
        "policies": [],
        "salt": "",
        "resolved_version": "1.0",
    }
    by_body = prog.__dict__
    body_cached = next(v for v in by_body.values() if getattr(getattr(v, "settings", None), "cache", None)
                       and v.settings.cache.version is None)
    resolved = body_cached.to_spec()["settings"]["cache"]["resolved_version"]
    assert len(resolved) == 32  # derived from the function body by CacheFunctionBody


def test_ignored_inputs_do_not_change_the_key(resource, runs):
    prog = resource("tasks/cached_tasks.py")
    assert prog.add_up(offset=1, left=3, right=4) == 8
    # `offset` is ignored: the cached sum comes back although offset changed
    assert prog.add_up(offset=100, left=3, right=4) == 8
    assert runs() == ["add_up"]
    assert prog.add_up(offset=1, left=3, right=5) == 9
    assert runs() == ["add_up", "add_up"]


def test_decorator_spelling_of_the_cache_settings(runs):
    @union.task(cache=True, cache_version="2", cache_ignore_input_vars=["note"])
    def area(w: int, h: int, note: str) -> int:
        from os import environ

        with open(environ["RUN_LOG"], "a") as fh:
            fh.write("area\n")
        return w * h

    assert area(w=2, h=3, note="first") == area(w=2, h=3, note="second") == 6
    assert runs() == ["area"]
    assert area.to_spec()["settings"]["cache"]["version"] == "2"


# ---- invalidation -------------------------------------------------------------


def test_version_bump_invalidates_and_going_back_hits_again(edited, runs):
    first = edited()
    assert first.square_plus(n=3) == 9
    # the author changes the logic but keeps the version: still the cached result
    same_version = edited(("return n * n", "return n * n + 1"))
    assert same_version.square_plus(n=3) == 9
    assert runs() == ["square_plus"]
    # bumping the version recomputes with the new logic
    bumped = edited(("return n * n", "return n * n + 1"), ('version="1.0"', 'version="1.1"'))
    assert bumped.square_plus(n=3) == 10
    assert runs() == ["square_plus", "square_plus"]
    # back to 1.0: the old entry is a hit again
    assert edited(("return n * n", "return n * n + 1")).square_plus(n=3) == 9
    assert runs() == ["square_plus", "square_plus"]


@pytest.mark.parametrize(
    "edit",
    [
        ("def square_plus(n: int) -> int:", "def square_plus(n: int) -> float:"),
        ("def square_plus(n: int) -> int:", "def square_plus(n: int, unused: int = 0) -> int:"),
    ],
    ids=["output-type", "new-input"],
)
def test_signature_change_invalidates(edited, runs, edit):
    edited().square_plus(n=5)
    edited(edit).square_plus(n=5)
    assert runs() == ["square_plus", "square_plus"]


def test_function_body_change_invalidates_cache_true(edited, runs):
    assert edited().body_versioned(n=1) == 101
    assert edited().body_versioned(n=1) == 101  # same text: a hit
    assert runs() == ["body_versioned"]
    assert edited(("n + 100", "n + 200")).body_versioned(n=1) == 201
    assert runs() == ["body_versioned", "body_versioned"]


def test_salt_change_invalidates(edited, runs):
    edited().salted(n=1)
    edited().salted(n=1)
    edited(('salt="pepper"', 'salt="cumin"')).salted(n=1)
    assert runs() == ["salted", "salted"]


def test_overwrite_cache_reruns_and_replaces_the_entry(resource, runs):
    prog = resource("tasks/cached_tasks.py")
    first = prog.ticket(customer="ada")
    assert prog.ticket(customer="ada") == first
    fresh = execute(prog.ticket, {"customer": "ada"}, overwrite_cache=True).native()
    assert fresh != first and fresh.startswith("ada-")
    assert prog.ticket(customer="ada") == fresh  # later runs read the new entry
    assert runs() == ["ticket", "ticket"]


# ---- subworkflows and sub-launch plans -----------------------------------------


@pytest.mark.parametrize("parent", ["parent_with_subwf", "parent_with_sublp"])
def test_with_overrides_caches_subworkflows_and_sub_launch_plans(resource, runs, parent):
    prog = resource("tasks/cached_subworkflows.py")
    wf = getattr(prog, parent)
    expected = [[7, 7]] * 3 if parent.endswith("subwf") else [[3, 3]] * 3
    assert wf(start=0) == expected
    # three identical serialized nodes: the child ran once (its two tasks ran)
    assert runs() == ["add_three", "add_three"]
    # `a` is ignored in the key, so another start value is still a hit
    assert wf(start=5) == expected
    assert runs() == ["add_three", "add_three"]
    top = [r for r in execute(wf, {"start": 5}).nodes.values() if "-" not in r.path]
    assert [r.phase for r in top] == [CACHE_HIT] * 3  # the child nodes show their hits
    node = wf.to_spec()["nodes"][0]
    assert node["overrides"]["cache"]["ignored_inputs"] == ["a"]


def test_subworkflow_without_cache_override_runs_each_time(resource, runs):
    prog = resource("tasks/cached_subworkflows.py")
    assert prog.parent_uncached(start=1) == [8, 8]
    assert prog.parent_uncached(start=1) == [8, 8]
    assert runs() == ["add_three"] * 4


# ---- offloaded objects: HashMethod ---------------------------------------------


def test_hash_method_lets_a_downstream_cached_task_hit(resource, runs):
    prog = resource("tasks/dataframe_cache.py")
    assert prog.scaled_twice(batch=1) is True
    assert runs() == ["load_readings", "scale_readings"]  # the second node was a hit


def test_hash_method_decides_what_the_cache_key_sees(resource, runs):
    prog = resource("tasks/dataframe_cache.py")
    out = prog.scaled_once(batch=1)
    assert out["reading"].tolist() == [20, 40, 60]
    # another batch loads the same readings: the hash ignores the batch column
    prog.scaled_once(batch=2)
    assert runs() == ["load_readings", "scale_readings", "load_readings"]


def test_without_hash_method_the_whole_frame_is_the_key(resource, runs):
    prog = resource("tasks/dataframe_cache.py")
    prog.scaled_once_unhashed(batch=1)
    prog.scaled_once_unhashed(batch=1)
    prog.scaled_once_unhashed(batch=2)
    assert runs().count("scale_readings") == 2


# ---- cache serialization --------------------------------------------------------


def test_serialized_identical_nodes_run_the_body_once(resource, runs):
    prog = resource("tasks/cached_tasks.py")
    assert prog.eight_serialized(n=7) == [49] * 8
    assert runs() == ["slow_square"]


def test_unserialized_identical_nodes_may_all_run(resource, runs):
    # the contrast that shows what serialize=True buys
    prog = resource("tasks/cached_tasks.py")
    assert prog.eight_unserialized(n=7) == [49] * 8
    assert len(runs()) > 1


# ---- the local cache ------------------------------------------------------------


def test_clearing_the_local_cache_forces_a_rerun(resource, runs):
    prog = resource("tasks/cached_tasks.py")
    prog.cube(n=2)
    prog.shout(word="a")
    assert LocalCache().clear() == 2
    assert LocalCache().clear() == 0
    prog.cube(n=2)
    assert runs() == ["cube", "shout", "cube"]


@pytest.mark.parametrize("variable", ["PLAIT_LOCAL_CACHE_ENABLED", "FLYTE_LOCAL_CACHE_ENABLED"])
def test_local_cache_can_be_switched_off(resource, runs, monkeypatch, plait_home, variable):
    monkeypatch.setenv(variable, "false")
    prog = resource("tasks/cached_tasks.py")
    prog.cube(n=2)
    prog.cube(n=2)
    assert runs() == ["cube", "cube"]
    assert not list((plait_home / "local-cache").rglob("*.pkl"))


def test_cache_switch_off_also_bypasses_cached_subworkflows(resource, runs, monkeypatch):
    monkeypatch.setenv("PLAIT_LOCAL_CACHE_ENABLED", "false")
    prog = resource("tasks/cached_subworkflows.py")
    prog.parent_with_subwf(start=0)
    prog.parent_with_subwf(start=0)
    assert runs().count("add_three") == 12


# ---- bad settings ---------------------------------------------------------------


def test_bad_cache_settings_are_explained():
    with pytest.raises(InputError, match=r"cache_version .* caching is off; add `cache=True`"):

        @union.task(cache_version="1")
        def a(n: int) -> int:
            return n

    with pytest.raises(InputError, match=r"`cache` expects True, False or plait.Cache"):

        @union.task(cache="yes")
        def b(n: int) -> int:
            return n

    with pytest.raises(InputError, match=r"Cache\(version=...\): expected a string such as '1.0'"):
        union.Cache(version=1)
    with pytest.raises(InputError, match=r"expected CachePolicy objects such as CacheFunctionBody"):
        union.Cache(policies=["body"])


def test_hash_method_of_a_small_value_is_not_lent_to_other_inputs() -> None:
    @union.task
    def tag(n: int) -> Annotated[int, union.HashMethod(lambda v: "constant")]:
        return n

    @union.task(cache=union.Cache(version="1"))
    def echo(n: int) -> int:
        return n

    @union.workflow
    def tagged(n: int) -> int:
        tag(n=n)
        return echo(n=n)

    assert (tagged(n=1), tagged(n=2)) == (1, 2)
