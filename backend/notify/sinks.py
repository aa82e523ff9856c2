"""The sinks that carry a notification out: SMTP, a Slack incoming webhook, PagerDuty
Events v2, and the `log` sink every channel falls back to when it has none configured.

Each `send_*` returns when the message was accepted and raises (with the sink,
the address and what it answered) when it was not; the delivery thread
retries. HTTP sinks use the standard library (`urllib`), e-mail `smtplib`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
import socket
import threading
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from ..config import NotifySettings
from ..store.queries.notifications import DeliveryRecord
from .messages import Message

log = logging.getLogger("plait.notify")

TIMEOUT_S = 10.0
LOG_FILE = "notifications.log"
_log_lock = threading.Lock()


class SinkError(Exception):
    """A sink refused a message or could not be reached; the delivery is tried again."""


def _slack_targets(delivery: DeliveryRecord, settings: NotifySettings) -> list[str]:
    hooks = [r for r in delivery.recipients if r.startswith(("http://", "https://"))]
    return hooks or ([settings.slack_webhook_url] if settings.slack_webhook_url else [])


def _pagerduty_keys(delivery: DeliveryRecord, settings: NotifySettings) -> list[str]:
    """Recipients that are routing keys (no `@`), else the server's routing key."""
    keys = [r for r in delivery.recipients if "@" not in r]
    return keys or ([settings.pagerduty_routing_key] if settings.pagerduty_routing_key else [])


def sink_for(delivery: DeliveryRecord, settings: NotifySettings) -> str:
    """The sink that carries this delivery: its channel's when configured, else `log`."""
    if delivery.channel == "email" and settings.smtp_host:
        return "email"
    if delivery.channel == "slack" and _slack_targets(delivery, settings):
        return "slack"
    if delivery.channel == "pager_duty" and _pagerduty_keys(delivery, settings):
        return "pagerduty"
    return "log"


def send(sink: str, delivery: DeliveryRecord, message: Message, settings: NotifySettings,
         home: Path | None) -> None:
    """Send through `sink` (as `sink_for` chose); raises SinkError when it fails."""
    if sink == "email":
        send_email(delivery, message, settings)
    elif sink == "slack":
        for url in _slack_targets(delivery, settings):
            post_json(url, slack_body(message), sink="Slack webhook")
    elif sink == "pagerduty":
        for key in _pagerduty_keys(delivery, settings):
            post_json(settings.pagerduty_url, pagerduty_event(key, delivery, message), sink="PagerDuty")
    else:
        send_log(delivery, message, home)


def send_email(delivery: DeliveryRecord, message: Message, settings: NotifySettings) -> None:
    assert settings.smtp_host
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = settings.smtp_from or f"plait@{socket.getfqdn()}"
    mail["To"] = ", ".join(delivery.recipients)
    mail.set_content(message.body + "\n")
    where = f"SMTP server {settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            refused = smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise SinkError(f"{where}: {type(exc).__name__}: {exc}") from exc
    if refused:
        raise SinkError(f"{where} refused recipient(s) {', '.join(sorted(refused))}")


def slack_body(message: Message) -> dict[str, Any]:
    """An incoming webhook's JSON: `text` (Slack's mrkdwn), the subject in bold."""
    return {"text": f"*{message.subject}*\n{message.body}"}


def pagerduty_event(routing_key: str, delivery: DeliveryRecord, message: Message) -> dict[str, Any]:
    """An Events API v2 `trigger` event; one execution's phase is one alert (`dedup_key`)."""
    facts = delivery.message
    subject = facts.get("execution_id") or f"{facts.get('launch_plan_name')}@{facts.get('tick')}"
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": f"plait/{delivery.event}/{subject}/{delivery.phase or ''}",
        "client": "plait",
        "payload": {
            "summary": message.subject[:1024],
            "severity": message.severity,
            "source": socket.getfqdn(),
            "component": facts.get("launch_plan_name") or facts.get("entity_name"),
            "group": f"{delivery.project}/{delivery.domain}",
            "class": delivery.phase or delivery.event,
            "custom_details": {"message": message.body, **facts, "recipients": delivery.recipients},
        },
    }
    if message.link:
        event["client_url"] = message.link
        event["links"] = [{"href": message.link, "text": "Execution"}]
    return event


def post_json(url: str, body: dict[str, Any], *, sink: str) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "plait-notify"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310 - configured URL
            answer.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace")
        raise SinkError(f"{sink} {url} answered HTTP {exc.code}: {detail}") from exc
    except OSError as exc:
        raise SinkError(f"{sink} {url} could not be reached: {exc}") from exc


def send_log(delivery: DeliveryRecord, message: Message, home: Path | None) -> None:
    """Write the message to the server log and append it (one JSON line) to
    `$PLAIT_HOME/notifications.log`: what the channel would have sent."""
    log.warning("notification (%s to %s; no %s sink configured): %s\n%s", delivery.channel,
                ", ".join(delivery.recipients), delivery.channel, message.subject, message.body)
    if home is None:
        return
    line = json.dumps({
        "time": dt.datetime.now(dt.timezone.utc).isoformat(), "delivery": delivery.id,
        "channel": delivery.channel, "recipients": delivery.recipients,
        "execution_id": delivery.execution_id, "phase": delivery.phase, "subject": message.subject,
        "body": message.body, "link": message.link,
    })
    with _log_lock, open(Path(home) / LOG_FILE, "a", encoding="utf-8") as out:
        out.write(line + "\n")
