"""What can go wrong talking to a plait backend, split by whose it is to fix."""

from __future__ import annotations

from typing import Any

from ..errors import PlaitError, PlatformError, UserError


class AuthenticationError(PlaitError):
    """The server refused the token (HTTP 401)."""


class RemoteUserError(UserError):
    """The server refused a request for a reason the user can fix (404, 409, 422)."""

    def __init__(self, message: str, *, status: int, detail: Any = None, field: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
        self.field = field  # the request's field at fault, when the server named one


class ServerError(PlatformError):
    """The server failed (5xx) or could not be reached."""


class BackendBusy(ServerError):
    """The server kept refusing a launch (HTTP 429: too many executions wait) past the wait allowed."""


class ExecutionFailed(PlaitError):
    """Outputs were asked of an execution that did not succeed.

    With `note_traceback`, the failed task's traceback as the backend recorded it for its
    author (their own frames, files named as registered) is printed below the message, as a
    note; the notebook's `%plait` leaves it out, having streamed the task's log already.
    """

    def __init__(self, message: str, *, execution_id: str, phase: str, error: Any = None,
                 note_traceback: bool = False) -> None:
        super().__init__(message)
        self.execution_id = execution_id
        self.phase = phase
        self.error = error
        trace = error.get("traceback") if isinstance(error, dict) else None
        if note_traceback and isinstance(trace, str) and trace.strip():
            node = error.get("node")
            where = f"node {node}" if node else "the task"
            # `__notes__` rather than add_note(): Python 3.10 has no add_note (and prints no notes).
            self.__notes__ = [*getattr(self, "__notes__", ()), f"{where} failed on the backend:\n{trace.rstrip()}"]


class WaitTimeout(PlaitError, TimeoutError):
    """`RemoteExecution.wait(timeout=...)` ran out before the execution ended."""
