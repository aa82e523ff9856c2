"""The plait exception tree: one root, split by blame.

`UserError` is the user's to fix (compile errors, type mismatches, bad input);
`PlatformError` is infrastructure. Exceptions carry the data of the message
so that the CLI, the magics and the backend can render them.
"""

from __future__ import annotations


class PlaitError(Exception):
    """Root of every error plait raises."""


class UserError(PlaitError):
    """Something in the user's code or input must change."""


class PlatformError(PlaitError):
    """Infrastructure failed (a lost worker, a storage error); retried as SYSTEM."""


class SpecError(UserError, ValueError):
    """A spec (an entity's JSON description) does not have the expected shape."""


class ValueTypeError(UserError, TypeError):
    """A value does not match a type; `found` names what was there."""

    def __init__(self, expected: str, found: str, where: str = "") -> None:
        super().__init__(f"expected {expected}{where}, got {found}")
        self.expected = expected
        self.found = found
        self.where = where

    def __reduce__(self) -> tuple[object, ...]:
        return (ValueTypeError, (self.expected, self.found, self.where))


class CompileError(UserError):
    """A workflow cannot be compiled into a spec."""


class PromiseMisuseError(CompileError, TypeError):
    """A promise was used as a concrete value inside a workflow definition."""


class TypeMismatchError(UserError, TypeError):
    """A value or binding does not match its declared type."""

    def __init__(
        self,
        message: str,
        *,
        entity: str | None = None,
        name: str | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        super().__init__(message)
        self.entity = entity
        self.name = name
        self.expected = expected
        self.found = found

    def __reduce__(self) -> tuple[object, ...]:
        return (_type_mismatch, (str(self), self.entity, self.name, self.expected, self.found))


class InputError(UserError, ValueError):
    """Missing, unknown or unparseable inputs."""


class FlyteError(UserError):
    """What an `on_failure` handler receives: the failed node and its message."""

    def __init__(self, message: str, failed_node_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.failed_node_id = failed_node_id


class FlyteRecoverableException(PlaitError):
    """Raise from a task to ask for a retry (spends the task's `retries`)."""


class TaskTimeoutError(UserError, TimeoutError):
    """An attempt ran past its task's `timeout`."""


class TaskFailure(PlaitError):
    """A node failed during a run; carries the node, the attempt and the cause."""

    def __init__(self, message: str, *, node_id: str, entity: str, kind: str = "USER") -> None:
        super().__init__(message)
        self.node_id = node_id
        self.entity = entity
        self.kind = kind

    def __reduce__(self) -> tuple[object, ...]:
        return (_task_failure, (str(self), self.node_id, self.entity, self.kind))


def _task_failure(message: str, node_id: str, entity: str, kind: str) -> TaskFailure:
    return TaskFailure(message, node_id=node_id, entity=entity, kind=kind)


def _type_mismatch(message: str, entity: str | None, name: str | None, expected: str | None, found: str | None) -> TypeMismatchError:
    return TypeMismatchError(message, entity=entity, name=name, expected=expected, found=found)
