"""How many executions of one launch plan may run at once.

The limit counts active executions of the launch plan's name across all its
versions; the policy of the version being launched decides. It is an "at
most" limit checked at launch time: over it, the new execution is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..errors import InputError, TypeMismatchError


class ConcurrencyLimitBehavior(Enum):
    """What happens to a launch that would pass the limit."""

    SKIP = "SKIP"  # do not create the execution


@dataclass(frozen=True)
class ConcurrencyPolicy:
    """At most `max_concurrency` active executions of a launch plan."""

    max_concurrency: int
    behavior: ConcurrencyLimitBehavior = ConcurrencyLimitBehavior.SKIP

    def __post_init__(self) -> None:
        n = self.max_concurrency
        owner = f"ConcurrencyPolicy(max_concurrency={n!r})"
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeMismatchError(
                f"{owner}: expected an int of at least 1, got {type(n).__name__}; "
                "write max_concurrency=1",
                entity="ConcurrencyPolicy",
                name="max_concurrency",
                expected="int",
                found=type(n).__name__,
            )
        if n < 1:
            raise InputError(
                f"{owner}: expected at least 1 concurrent execution, got {n}; "
                "use 1 to run one at a time, or deactivate the launch plan to run none"
            )
        behavior = self.behavior
        if isinstance(behavior, str) and behavior.upper() in ConcurrencyLimitBehavior.__members__:
            behavior = ConcurrencyLimitBehavior[behavior.upper()]
            object.__setattr__(self, "behavior", behavior)
        if not isinstance(behavior, ConcurrencyLimitBehavior):
            raise InputError(
                f"ConcurrencyPolicy(behavior={behavior!r}): expected "
                f"ConcurrencyLimitBehavior.SKIP, got {behavior!r}; SKIP is the only behavior"
            )

    def allows(self, active: int) -> bool:
        """Whether a new execution may start while `active` executions are running."""
        return active < self.max_concurrency

    def to_spec(self) -> dict[str, Any]:
        return {"max_concurrency": self.max_concurrency, "behavior": self.behavior.value}

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> ConcurrencyPolicy:
        return cls(d["max_concurrency"], d.get("behavior", ConcurrencyLimitBehavior.SKIP.value))
