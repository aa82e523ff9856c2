"""Tasks for the tests of what another local user can reach (tests/backend/test_local_users.py)."""

import os
import time

import plait


@plait.task
def whoami() -> str:
    """Where this module was imported from: the worker's folder of extracted bundles (also
    printed, so the attempt has a log in the object store)."""
    print(__file__)
    return __file__


@plait.task
def environment(names: list[str]) -> dict[str, str]:
    """What this task sees of the variables `names` ("<unset>" for a missing one)."""
    return {name: os.environ.get(name, "<unset>") for name in names}


@plait.task(environment={"FROM_SPEC": "spec"})
def declared(names: list[str]) -> dict[str, str]:
    """Like `environment`, for a task that declares a variable of its own."""
    return {name: os.environ.get(name, "<unset>") for name in names}


@plait.task(secret_requests=[plait.Secret(group="db", key="password")])
def with_secret() -> str:
    """A task that requests a secret and reads it as plait's SDK does."""
    return plait.current_context().secrets.get("db", "password")


@plait.task
def slow(seconds: float) -> float:
    time.sleep(seconds)
    return seconds
