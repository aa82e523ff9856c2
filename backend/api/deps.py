"""What routes need from the running server, handed to them as a FastAPI dependency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request


@dataclass(frozen=True)
class Services:
    """The server's parts, set once by `create_app`."""

    settings: Any  # plait.backend.config.Settings
    db: Any  # plait.backend.store.Database
    storage: Any  # plait.backend.storage.ObjectStore
    executor: Any  # plait.backend.execution.executor.Executor (or anything with its interface)


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


Svc = Annotated[Services, Depends(_services)]
