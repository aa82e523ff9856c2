"""What the store raises; api/ maps each class to one HTTP status.

`NotFound` → 404, `Conflict` → 409, `InvalidRequest` → 422. Each carries the
kind and name of the object, and its message says what to do.
"""

from __future__ import annotations

from plait.errors import UserError


class StoreError(UserError):
    """Root of the store's errors: the request does not fit the stored state."""

    def __init__(self, message: str, *, kind: str = "", name: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.name = name


class NotFound(StoreError, LookupError):
    """The named object does not exist."""


class Conflict(StoreError):
    """The request contradicts what is stored (a used version, a finished attempt)."""


class InvalidRequest(StoreError, ValueError):
    """A value is outside what the store accepts (an unknown domain, filter or phase)."""
