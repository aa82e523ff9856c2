"""`BatchSize` and iterator outputs: how Flyte programs return many pickled values.

`-> Annotated[list[Hero], BatchSize(100)]` tells Flyte to store a long list of
pickled objects in batches of that many; `-> Iterator[str]` declares a task that
yields its values. plait keeps both spellings: a task's `Iterator[T]` (or
`Generator[T, ...]`) output is a `list[T]` whose items the task yields, consumed
while the attempt runs, so downstream tasks (and the caller) get a list they can
read more than once. `BatchSize` is kept with the type; the values do not change.
"""

from __future__ import annotations

import collections.abc
import typing
from typing import Any

from ..errors import UserError

_ITERATORS = (collections.abc.Iterator, collections.abc.Generator)


class BatchSize:
    """`Annotated[list[T], BatchSize(n)]`: store the items `n` at a time (Flyte's marker)."""

    def __init__(self, val: int) -> None:
        if not isinstance(val, int) or isinstance(val, bool) or val < 1:
            raise UserError(f"BatchSize expects a whole number of items >= 1, got {val!r}; e.g. BatchSize(100)")
        self._val = val

    @property
    def val(self) -> int:
        return self._val

    def __repr__(self) -> str:
        return f"BatchSize({self._val})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BatchSize) and other._val == self._val

    def __hash__(self) -> int:
        return hash(("BatchSize", self._val))


def iterator_as_list(tp: Any) -> Any:
    """`Iterator[T]` / `Generator[T, ...]` (inside `Annotated` too) as `list[T]`; other types as they are."""
    if typing.get_origin(tp) is typing.Annotated:
        inner, *meta = typing.get_args(tp)
        converted = iterator_as_list(inner)
        return tp if converted is inner else typing.Annotated[(converted, *meta)]
    if typing.get_origin(tp) in _ITERATORS or tp in _ITERATORS:
        args = typing.get_args(tp)
        return list[args[0] if args else Any]  # type: ignore[misc]
    return tp


def batch_size_of(tp: Any) -> int | None:
    """The `n` of `Annotated[list[T], BatchSize(n)]`; None for any other type."""
    if typing.get_origin(tp) is not typing.Annotated:
        return None
    inner, *meta = typing.get_args(tp)
    if typing.get_origin(inner) is not list and inner is not list:
        return None
    return next((m.val for m in meta if isinstance(m, BatchSize)), None)
