"""The text of a notification: what ended (or was skipped), how, when, and where to look.

Rendered when a message is sent, from the facts its outbox row keeps, so the
link follows the server's current settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plait.model import times

from ..config import NotifySettings


@dataclass(frozen=True)
class Message:
    """A rendered notification: a one-line subject (Slack's text, PagerDuty's summary), a body
    of a few lines, the link to the execution, and the PagerDuty severity."""

    subject: str
    body: str
    link: str | None
    severity: str


def execution_link(settings: NotifySettings, server_url: str | None, facts: dict[str, Any]) -> str | None:
    """Where a reader sees the execution: PLAIT_EXECUTION_URL's template, else the API's URL."""
    eid = facts.get("execution_id")
    if not eid:
        return None
    if settings.execution_url:
        return settings.execution_url.format(
            id=eid, project=facts.get("project", ""), domain=facts.get("domain", ""))
    if server_url:
        return f"{server_url.rstrip('/')}/api/v1/executions/{eid}"
    return None


def duration_text(seconds: float | None) -> str:
    """The duration as the CLI, the notebook and the lab write it (`4.2 s`, `5m 0s`); `not started`
    for none."""
    return "not started" if seconds is None else times.duration_text(seconds)


def _error_text(error: Any) -> str | None:
    if not error:
        return None
    if isinstance(error, dict):
        kind = error.get("kind") or error.get("type")
        text = str(error.get("message") or "")
        node = error.get("node")
        where = f" in node {node}" if node else ""
        return f"{kind}{where}: {text}" if kind else text
    return str(error)


def render(event: str, facts: dict[str, Any], settings: NotifySettings, server_url: str | None) -> Message:
    """The message for an outbox row's event and facts."""
    if event == "schedule_skipped":
        return _skipped(facts)
    link = execution_link(settings, server_url, facts)
    phase = str(facts.get("phase"))
    what = f"{facts.get('project')}/{facts.get('domain')}"
    plan = facts.get("launch_plan_name")
    entity = f"{facts.get('entity_kind', 'workflow')} {facts.get('entity_name')}@{facts.get('entity_version')}"
    subject = f"plait: execution {facts.get('execution_id')} {phase}"
    if plan:
        subject += f" (launch plan {plan})"
    error = _error_text(facts.get("error"))
    lines = [
        f"Execution {facts.get('execution_id')} in {what} ended {phase}.",
        f"Launch plan: {plan}@{facts.get('launch_plan_version')}" if plan else None,
        f"Runs: {entity}",
        f"Duration: {duration_text(facts.get('duration_s'))} "
        f"(started {facts.get('started_at') or '-'}, ended {facts.get('ended_at')})",
        f"Error: {error}" if error else None,
        f"View: {link}" if link else None,
    ]
    severity = {"SUCCEEDED": "info", "ABORTED": "warning"}.get(phase, "error")
    return Message(subject, "\n".join(line for line in lines if line), link, severity)


def _skipped(facts: dict[str, Any]) -> Message:
    plan = facts.get("launch_plan_name")
    subject = f"plait: scheduled run of launch plan {plan} at {facts.get('tick')} was not launched"
    active = facts.get("active")
    lines = [
        f"The scheduled run of launch plan {plan}@{facts.get('launch_plan_version')} in "
        f"{facts.get('project')}/{facts.get('domain')} for {facts.get('tick')} was not launched.",
        f"Reason: {facts.get('reason')}",
        f"Active executions of the plan: {active}" if active is not None else None,
    ]
    return Message(subject, "\n".join(line for line in lines if line), None, "warning")
