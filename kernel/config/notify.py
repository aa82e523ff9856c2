"""Who hears when a launch plan's execution ends: e-mail, Slack, PagerDuty.

A notification names the end phases it fires on and its recipients; the
backend sends it. Slack and PagerDuty recipients are the e-mail addresses
those services give a channel or a service.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

from ..errors import InputError, TypeMismatchError


class WorkflowExecutionPhase(IntEnum):
    """The phases of a workflow execution (numbered as in Flyte)."""

    UNDEFINED = 0
    QUEUED = 1
    RUNNING = 2
    SUCCEEDING = 3
    SUCCEEDED = 4
    FAILING = 5
    FAILED = 6
    ABORTED = 7
    TIMED_OUT = 8
    ABORTING = 9

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        WorkflowExecutionPhase.SUCCEEDED,
        WorkflowExecutionPhase.FAILED,
        WorkflowExecutionPhase.ABORTED,
        WorkflowExecutionPhase.TIMED_OUT,
    }
)
_TERMINAL_NAMES = "SUCCEEDED, FAILED, ABORTED or TIMED_OUT"


def _phase(owner: str, value: Any) -> WorkflowExecutionPhase:
    try:
        if isinstance(value, str):
            phase = WorkflowExecutionPhase[value.upper()]
        elif isinstance(value, int) and not isinstance(value, bool):
            phase = WorkflowExecutionPhase(value)
        else:
            raise KeyError(value)
    except (KeyError, ValueError):
        raise InputError(
            f"{owner}: expected phases from WorkflowExecutionPhase, got {value!r}; "
            "use e.g. WorkflowExecutionPhase.FAILED"
        ) from None
    if phase not in _TERMINAL:
        raise InputError(
            f"{owner}: expected end phases ({_TERMINAL_NAMES}), got {phase.name}; "
            "a notification fires when an execution ends, so pick one of those"
        )
    return phase


@dataclass(frozen=True)
class Notification:
    """Base of the three channels; build `Email`, `Slack` or `PagerDuty`."""

    phases: tuple[WorkflowExecutionPhase, ...]
    recipients_email: tuple[str, ...]
    channel: ClassVar[str] = ""

    def __post_init__(self) -> None:
        if not self.channel:
            raise TypeMismatchError(
                "Notification(...): expected a channel; build Email, Slack or PagerDuty instead",
                entity="Notification",
                expected="Email | Slack | PagerDuty",
                found="Notification",
            )
        owner = f"{type(self).__name__}(phases={self.phases!r})"
        phases = self.phases
        if isinstance(phases, (str, int)):
            phases = (phases,)
        if not isinstance(phases, Iterable) or not (phases := tuple(phases)):
            raise InputError(
                f"{owner}: expected at least one phase ({_TERMINAL_NAMES}), got none; "
                "write phases=[WorkflowExecutionPhase.FAILED]"
            )
        object.__setattr__(self, "phases", tuple(dict.fromkeys(_phase(owner, p) for p in phases)))
        owner = f"{type(self).__name__}(recipients_email={self.recipients_email!r})"
        recipients = self.recipients_email
        if isinstance(recipients, str):
            recipients = (recipients,)
        if not isinstance(recipients, Iterable) or not (recipients := tuple(recipients)):
            raise InputError(
                f"{owner}: expected at least one recipient address, got none; "
                "write recipients_email=['team@example.com']"
            )
        for r in recipients:
            if not isinstance(r, str) or not r.strip():
                raise TypeMismatchError(
                    f"{owner}: expected each recipient to be a non-empty str, got {r!r}",
                    entity=type(self).__name__,
                    name="recipients_email",
                    expected="str",
                    found=type(r).__name__,
                )
        object.__setattr__(self, "recipients_email", recipients)

    def fires_on(self, phase: WorkflowExecutionPhase) -> bool:
        """Whether an execution that ended in `phase` triggers this notification."""
        return phase in self.phases

    def to_spec(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "phases": [p.name for p in self.phases],
            "recipients_email": list(self.recipients_email),
        }

    @classmethod
    def from_spec(cls, d: Mapping[str, Any]) -> Notification:
        """Rebuild from `to_spec()`; on `Notification` itself, pick the class by channel."""
        kinds = {k.channel: k for k in (Email, Slack, PagerDuty)}
        kind = kinds.get(d.get("channel", "")) if cls is Notification else cls
        if kind is None or (
            cls is not Notification and d.get("channel", cls.channel) != cls.channel
        ):
            raise InputError(
                f"{cls.__name__}.from_spec({dict(d)!r}): expected channel "
                f"{', '.join(map(repr, kinds)) if cls is Notification else repr(cls.channel)}"
            )
        return kind(tuple(d["phases"]), tuple(d["recipients_email"]))


@dataclass(frozen=True)
class Email(Notification):
    """E-mail the recipients when the execution ends in one of `phases`."""

    channel: ClassVar[str] = "email"


@dataclass(frozen=True)
class Slack(Notification):
    """Post to the Slack channels whose e-mail addresses are the recipients."""

    channel: ClassVar[str] = "slack"


@dataclass(frozen=True)
class PagerDuty(Notification):
    """Alert the PagerDuty services whose e-mail addresses are the recipients."""

    channel: ClassVar[str] = "pager_duty"
