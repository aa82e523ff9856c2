"""`flytekit.testing` as `plait.testing`: stand-ins for tasks, and the secrets class, in tests.

- `task_mock(t)`: a context manager; inside it, running `t` (alone or as a node of
  a workflow run locally) calls a `MagicMock` with `t`'s inputs as keyword
  arguments instead, and its return value is `t`'s output (a tuple for several).
  It stands in for reference tasks too, which have no code here.
- `patch(t)`: the decorator form; the test function receives the mock first.
- `SecretsManager`: the class of `current_context().secrets`, as in Flyte:
  `SecretsManager().get_secrets_env_var(group, key)` names the variable to set
  in a test, and `unittest.mock.patch.object(SecretsManager, "get")` answers
  every secret read.

Mocks act on local runs in this process; a run on the backend runs the real
code.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any
from unittest.mock import MagicMock

from .errors import UserError
from .sdk.context import SecretsManager

__all__ = ["SecretsManager", "patch", "task_mock"]

MOCK_ATTRIBUTE = "_plait_test_mock"  # where the engine finds the stand-in of any other entity


def _check(target: Any, what: str) -> None:
    from .sdk.entity import Entity

    if not isinstance(target, Entity) or target.kind not in ("task", "dynamic", "workflow", "launch_plan"):
        found = getattr(target, "__qualname__", None) or repr(target)
        raise UserError(
            f"{what} expects a task, workflow or launch plan, got {type(target).__name__} "
            f"`{found}`; pass the object @task or @workflow made (the decorated name)"
        )


@contextlib.contextmanager
def _standing_in(target: Any, mock: MagicMock) -> Iterator[MagicMock]:
    def call(kwargs: dict[str, Any]) -> Any:
        return mock(**kwargs)

    if target.kind == "task":
        saved = target.__dict__.get("invoke")
        target.invoke = call  # the engine calls `invoke` with the checked inputs
        try:
            yield mock
        finally:
            if saved is None:
                del target.invoke
            else:
                target.invoke = saved
        return
    setattr(target, MOCK_ATTRIBUTE, call)
    try:
        yield mock
    finally:
        delattr(target, MOCK_ATTRIBUTE)


@contextlib.contextmanager
def task_mock(t: Any) -> Iterator[MagicMock]:
    """Within the block, `t` runs as a `MagicMock`: set `return_value` or `side_effect`, and
    check its calls (keyword arguments, one per input)."""
    _check(t, "task_mock()")
    with _standing_in(t, MagicMock()) as mock:
        yield mock


def patch(target: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`@patch(t)` on a test function: it runs with `t` mocked, the mock as its first argument."""
    _check(target, "patch()")

    def wrapper(test_fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(test_fn)
        def new_test(*args: Any, **kwargs: Any) -> Any:
            with _standing_in(target, MagicMock()) as mock:
                return test_fn(mock, *args, **kwargs)

        # pytest reads the signature for fixtures: the mock is not one of them
        params = list(inspect.signature(test_fn).parameters.values())[1:]
        new_test.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return new_test

    return wrapper
