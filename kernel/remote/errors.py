"""What can go wrong talking to a plait backend, split by whose it is to fix."""

from __future__ import annotations

from typing import Any

from ..errors import PlaitError, PlatformError, UserError


class AuthenticationError(PlaitError):
    """The server refused the token (HTTP 401)."""


class RemoteUserError(UserError):
    """The server refused a request for a reason the user can fix (404, 409, 422)."""

    def __init__(self, message: str, *, status: int, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class ServerError(PlatformError):
    """The server failed (5xx) or could not be reached."""


class BackendBusy(ServerError):
    """The server kept refusing a launch (HTTP 429: too many executions wait) past the wait allowed."""


class ExecutionFailed(PlaitError):
    """Outputs were asked of an execution that did not succeed."""

    def __init__(self, message: str, *, execution_id: str, phase: str, error: Any = None) -> None:
        super().__init__(message)
        self.execution_id = execution_id
        self.phase = phase
        self.error = error


class WaitTimeout(PlaitError, TimeoutError):
    """`RemoteExecution.wait(timeout=...)` ran out before the execution ended."""
