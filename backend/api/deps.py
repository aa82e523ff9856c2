"""What routes need from the running server, handed to them as a FastAPI dependency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

if TYPE_CHECKING:
    from ..config import Settings
    from ..execution.ports import ExecutorPort
    from ..storage import ObjectStore
    from ..store import Database


@dataclass(frozen=True)
class Services:
    """The server's parts, set once by `create_app`."""

    settings: Settings
    db: Database
    storage: ObjectStore
    executor: ExecutorPort  # the Executor, an ExecutorProxy in an API worker process, or a test's fake


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


Svc = Annotated[Services, Depends(_services)]
