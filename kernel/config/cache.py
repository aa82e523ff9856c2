"""Cache configuration (`Cache`, policies, `HashMethod`) and cache keys.

The key of a cached node is the hash of: its cache version (explicit, or from
its policies: `CacheFunctionBody` by default), its signature (name, input
names and types, output names and types) and its input values minus the
ignored ones. The same function computes keys locally and in the backend.
"""

from __future__ import annotations

import hashlib
import inspect
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..model.keys import signature_from_spec


class CachePolicy:
    """Derives a cache version from a task; subclass and implement `get_version`."""

    def get_version(self, salt: str, task: Any) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class CacheFunctionBody(CachePolicy):
    """Version = hash of the function's source text (not of what it calls)."""

    def get_version(self, salt: str, task: Any) -> str:
        fn = getattr(task, "function", None)
        source = getattr(task, "source", None)
        if source is None and fn is not None:
            try:
                source = textwrap.dedent(inspect.getsource(fn))
            except (OSError, TypeError):
                code = getattr(fn, "__code__", None)
                source = repr(code.co_code) if code is not None else repr(fn)
        return hashlib.sha256(f"{salt}\0{source}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class HashMethod:
    """`Annotated[T, HashMethod(fn)]`: `fn(value)` stands for the value in cache keys."""

    function: Callable[[Any], str]

    def calculate(self, value: Any) -> str:
        return str(self.function(value))

    def to_spec(self) -> dict[str, Any]:
        return {"hash_method": getattr(self.function, "__qualname__", "hash")}


@dataclass(frozen=True)
class Cache:
    """Caching settings for a task, or for a subworkflow / sub-launch-plan node."""

    version: str | None = None
    serialize: bool = False
    ignored_inputs: tuple[str, ...] | str = field(default_factory=tuple)
    policies: list[CachePolicy] | CachePolicy | None = None
    salt: str = ""

    def __post_init__(self) -> None:
        ignored = self.ignored_inputs
        if isinstance(ignored, str):
            ignored = (ignored,)
        object.__setattr__(self, "ignored_inputs", tuple(ignored))
        policies = self.policies
        if policies is not None and not isinstance(policies, list):
            policies = [policies]
        for p in policies or []:
            if not isinstance(p, CachePolicy):
                raise InputError(
                    f"Cache(policies=...): expected CachePolicy objects such as "
                    f"CacheFunctionBody(), got {type(p).__name__}"
                )
        object.__setattr__(self, "policies", policies)
        if self.version is not None and not isinstance(self.version, str):
            raise InputError(
                f"Cache(version=...): expected a string such as '1.0', got {self.version!r}"
            )

    def get_version(self, task: Any) -> str:
        if self.version is not None:
            return self.version
        policies = self.policies or [CacheFunctionBody()]
        assert isinstance(policies, list)
        parts = [p.get_version(self.salt, task) for p in policies]
        return parts[0] if len(parts) == 1 else hashlib.sha256("".join(parts).encode()).hexdigest()[:32]

    def to_spec(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "serialize": self.serialize,
            "ignored_inputs": list(self.ignored_inputs),
            "policies": [type(p).__name__ for p in self.policies or []],
            "salt": self.salt,
        }


def normalize_cache(
    owner: str,
    cache: bool | Cache | None,
    cache_version: str = "",
    cache_serialize: bool = False,
    cache_ignore_input_vars: Iterable[str] = (),
) -> Cache | None:
    """One `Cache` (or None) from the decorator's several spellings."""
    ignored = tuple(cache_ignore_input_vars or ())
    if cache is None or cache is False:
        if cache_version or cache_serialize or ignored:
            raise InputError(
                f"{owner}: cache_version / cache_serialize / cache_ignore_input_vars are set "
                "but caching is off; add `cache=True` (or pass `cache=Cache(...)`)"
            )
        return None
    if cache is True:
        return Cache(
            version=cache_version or None,
            serialize=cache_serialize,
            ignored_inputs=ignored,
            policies=None if cache_version else [CacheFunctionBody()],
        )
    if isinstance(cache, Cache):
        return cache
    raise InputError(
        f"{owner}: `cache` expects True, False or plait.Cache(...), got {cache!r}"
    )


def signature_text(entity: Any) -> str:
    """Name plus input and output names/types: part of every cache key."""
    return signature_from_spec(entity.name, entity.interface.to_spec())


