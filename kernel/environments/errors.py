"""What building an environment can raise: refused specs, failed builds, a missing builder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, PlatformError, UserError


@dataclass(frozen=True)
class Refusal:
    """One thing a builder cannot honour: the field (a path inside a registered spec, or an
    ImageSpec field) and a message that names what was found and the fix."""

    field: str
    message: str


class EnvironmentRefused(InputError):
    """The spec asks for what the chosen builder cannot make (apt packages in a venv, ...)."""

    def __init__(self, refusals: list[Refusal]) -> None:
        super().__init__("; ".join(r.message for r in refusals))
        self.refusals = list(refusals)

    def __reduce__(self) -> tuple[object, ...]:
        return (EnvironmentRefused, (self.refusals,))


class EnvironmentBuildError(UserError):
    """A build failed. The message ends with the builder's last lines; `log` keeps all of them."""

    def __init__(self, message: str, *, image: str, log: str | Path | None, tail: str) -> None:
        super().__init__(message)
        self.image = image
        self.log = None if log is None else str(log)
        self.tail = tail

    def __reduce__(self) -> tuple[object, ...]:
        return (_build_error, (str(self), self.image, self.log, self.tail))


def _build_error(message: str, image: str, log: str | None, tail: str) -> EnvironmentBuildError:
    return EnvironmentBuildError(message, image=image, log=log, tail=tail)


class BuilderMissing(PlatformError):
    """The builder's tool (uv, docker or podman) is not installed where the build runs."""
