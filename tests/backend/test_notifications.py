"""Launch plan notifications reach real sinks after the phase is committed, at least once.

A real SMTP server (aiosmtpd) receives the e-mails; Slack's incoming webhook
and PagerDuty's Events v2 endpoint are a local HTTP server that records what
it is sent (and can refuse the first requests). In-process tests end
executions through the store's own `set_execution_phase` (the executor's
write) and run the delivery service; the last test runs a real `plait server`
whose executor runs a failing workflow and whose delivery thread e-mails it.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import plait
import pytest
from aiosmtpd.controller import Controller
from fakes import PYTHON, RecordingExecutor
from fastapi.testclient import TestClient
from plait import Email, PagerDuty, Slack, WorkflowExecutionPhase
from plait.backend.api import create_app
from plait.backend.config import NotifySettings, Settings
from plait.backend.notify import DeliveryService, notify_schedule_skipped
from plait.backend.storage import ObjectStore
from plait.backend.store import Database, queries
from plait.backend.store.queries import notifications as nq

TOKEN = "test-token-notifications"
FAILED = WorkflowExecutionPhase.FAILED
SUCCEEDED = WorkflowExecutionPhase.SUCCEEDED
ROUTING_KEY = "0123456789abcdef0123456789abcdef"


# ------------------------------------------------------------------ the program


@plait.task
def add_one(x: int) -> int:
    return x + 1


@plait.workflow
def adder(x: int = 1) -> int:
    return add_one(x=x)


emailed_lp = plait.LaunchPlan(
    "emailed_lp", adder,
    notifications=[Email(phases=[FAILED], recipients_email=["ops@example.com", "lead@example.com"])],
)
chat_lp = plait.LaunchPlan(
    "chat_lp", adder,
    notifications=[Slack(phases=[SUCCEEDED, FAILED], recipients_email=["chan@team.slack.com"]),
                   PagerDuty(phases=[FAILED], recipients_email=["svc@team.pagerduty.com"])],
)
quiet_lp = plait.LaunchPlan("quiet_lp", adder)


# ------------------------------------------------------------------ the sinks


@dataclass
class Inbox:
    """What the SMTP server accepted: (sender, recipients, "Subject: ...\n" + the text body)."""

    messages: list[tuple[str, list[str], str]] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = f"Subject: {' '.join(str(mail['Subject']).split())}\nFrom: {mail['From']}\nTo: {mail['To']}\n\n{mail.get_content()}"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), text))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox(port=_free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class HttpSink:
    """A local HTTP server that records each POST's path and JSON body; `fail[path] = n` makes
    the next n requests to that path answer 500."""

    url: str = ""
    received: list[tuple[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    fail: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self, path: str) -> list[Any]:
        with self.lock:
            return [body for p, body in self.received if p == path]


@pytest.fixture
def http_sink() -> Iterator[HttpSink]:
    sink = HttpSink()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
            with sink.lock:
                sink.requests.append(self.path)
                failing = sink.fail.get(self.path, 0) > 0
                if failing:
                    sink.fail[self.path] -= 1
                else:
                    sink.received.append((self.path, body))
            self.send_response(500 if failing else 202 if self.path == "/pagerduty" else 200)
            self.end_headers()
            self.wfile.write(b"try again later" if failing else b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# ------------------------------------------------------------------ in process


@dataclass
class Api:
    http: TestClient
    db: Database
    home: Path

    def launch(self, plan: str, **extra: Any) -> str:
        answer = self.http.post("/api/v1/executions", json={"kind": "launch_plan", "name": plan,
                                                            "inputs": {"x": 1}, **extra})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def end(self, execution_id: str, phase: str, error: dict[str, Any] | None = None) -> None:
        """What the executor writes: RUNNING, then the end, each in its own transaction."""
        with self.db.session() as s:
            queries.set_execution_phase(s, execution_id, "RUNNING")
        with self.db.session() as s:
            queries.set_execution_phase(s, execution_id, phase, error=error)

    def deliveries(self, execution_id: str) -> list[dict[str, Any]]:
        answer = self.http.get(f"/api/v1/executions/{execution_id}/notifications")
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    def service(self, **notify: Any) -> DeliveryService:
        settings = NotifySettings(**{"backoff_s": 0.05, "poll_s": 0.05, **notify})
        return DeliveryService(self.db, settings, home=self.home, server_url="http://plait.example:8742")


@pytest.fixture
def api(db: Database, tmp_path: Path) -> Iterator[Api]:
    home = tmp_path / "home"
    home.mkdir()
    settings = Settings.from_env(env={}, home=str(home))
    app = create_app(settings, db, ObjectStore(settings.storage_url), RecordingExecutor(), token=TOKEN)
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        specs = [{**e.to_spec(), "version": "v1"} for e in (add_one, adder, emailed_lp, chat_lp, quiet_lp)]
        answer = http.post("/api/v1/register", json={"python_version": PYTHON, "specs": specs, "version": "v1"})
        assert answer.status_code in (200, 201), answer.text
        yield Api(http, db, home)


def wait_for(condition: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not true within {timeout} s: {condition}")


def test_a_failed_execution_is_emailed_through_a_real_smtp_server(api: Api, inbox: Inbox) -> None:
    eid = api.launch("emailed_lp")
    api.end(eid, "SUCCEEDED")  # the plan only asks for FAILED
    ok = api.launch("emailed_lp")
    assert api.deliveries(eid) == []

    api.end(ok, "FAILED", error={"kind": "USER", "message": "ValueError: x must be even", "node": "n0"})
    [row] = api.deliveries(ok)
    assert (row["status"], row["attempts"], row["channel"], row["phase"]) == ("PENDING", 0, "email", "FAILED")

    service = api.service(smtp_host=inbox.host, smtp_port=inbox.port, smtp_from="plait@example.com")
    assert service.deliver_due() == 1
    [(sender, recipients, text)] = inbox.messages
    assert sender == "plait@example.com"
    assert recipients == ["ops@example.com", "lead@example.com"]
    assert f"Subject: plait: execution {ok} FAILED (launch plan emailed_lp)" in text
    assert f"Execution {ok} in default/development ended FAILED." in text
    assert "Launch plan: emailed_lp@v1" in text
    assert re.search(r"Duration: \d+ ms", text), text
    assert "Error: USER in node n0: ValueError: x must be even" in text
    assert f"View: http://plait.example:8742/api/v1/executions/{ok}" in text

    [row] = api.deliveries(ok)
    assert (row["status"], row["sink"], row["attempts"], row["last_error"]) == ("SENT", "email", 1, None)
    assert row["sent_at"] is not None and row["next_attempt_at"] is None
    assert service.deliver_due() == 0  # sent once
    assert len(inbox.messages) == 1


def test_slack_and_pagerduty_get_the_json_their_apis_expect(api: Api, http_sink: HttpSink) -> None:
    eid = api.launch("chat_lp")
    api.end(eid, "FAILED", error={"kind": "SYSTEM", "message": "worker lost"})
    service = api.service(slack_webhook_url=f"{http_sink.url}/slack",
                          pagerduty_url=f"{http_sink.url}/pagerduty", pagerduty_routing_key=ROUTING_KEY,
                          execution_url="https://lab.example/plait/executions/{project}/{domain}/{id}")
    assert service.deliver_due() == 2

    [slack] = http_sink.bodies("/slack")
    assert set(slack) == {"text"}
    assert slack["text"].startswith(f"*plait: execution {eid} FAILED (launch plan chat_lp)*\n")
    assert "Error: SYSTEM: worker lost" in slack["text"]
    assert f"View: https://lab.example/plait/executions/default/development/{eid}" in slack["text"]

    [event] = http_sink.bodies("/pagerduty")
    assert event["routing_key"] == ROUTING_KEY
    assert event["event_action"] == "trigger"
    payload = event["payload"]
    assert payload["summary"] == f"plait: execution {eid} FAILED (launch plan chat_lp)"
    assert payload["severity"] == "error"
    assert payload["source"] and payload["group"] == "default/development"
    assert payload["custom_details"]["execution_id"] == eid
    assert payload["custom_details"]["recipients"] == ["svc@team.pagerduty.com"]
    assert event["links"] == [{"href": f"https://lab.example/plait/executions/default/development/{eid}",
                               "text": "Execution"}]
    assert sorted((r["channel"], r["sink"], r["status"]) for r in api.deliveries(eid)) == [
        ("pager_duty", "pagerduty", "SENT"), ("slack", "slack", "SENT")]

    done = api.launch("chat_lp")  # SUCCEEDED fires Slack only, with PagerDuty's severity for it unused
    api.end(done, "SUCCEEDED")
    assert service.deliver_due() == 1
    assert http_sink.bodies("/slack")[-1]["text"].startswith(f"*plait: execution {done} SUCCEEDED")
    assert len(http_sink.bodies("/pagerduty")) == 1


def test_a_sink_that_fails_twice_gets_the_message_once_on_the_third_attempt(
        api: Api, http_sink: HttpSink) -> None:
    http_sink.fail["/flaky"] = 2
    service = api.service(slack_webhook_url=f"{http_sink.url}/flaky").start()
    try:
        eid = api.launch("chat_lp")
        api.end(eid, "SUCCEEDED")
        [row] = wait_for(lambda: [r for r in api.deliveries(eid) if r["status"] != "PENDING"])
    finally:
        service.stop()
    assert http_sink.requests == ["/flaky"] * 3
    assert len(http_sink.bodies("/flaky")) == 1
    assert (row["status"], row["attempts"], row["sink"]) == ("SENT", 3, "slack")
    assert row["last_error"] == f"Slack webhook {http_sink.url}/flaky answered HTTP 500: try again later"


def test_a_sink_that_never_answers_is_given_up_after_the_last_attempt(api: Api, http_sink: HttpSink) -> None:
    http_sink.fail["/down"] = 100
    service = api.service(slack_webhook_url=f"{http_sink.url}/down", max_attempts=3)
    eid = api.launch("chat_lp")
    api.end(eid, "SUCCEEDED")
    wait_for(lambda: service.deliver_due() == 0 and api.deliveries(eid)[0]["status"] == "FAILED")
    [row] = api.deliveries(eid)
    assert (row["status"], row["attempts"]) == ("FAILED", 3)
    assert "HTTP 500" in row["last_error"]
    assert http_sink.requests == ["/down"] * 3


def test_without_sinks_the_log_sink_shows_what_would_have_been_sent(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    eid = api.launch("chat_lp")
    api.end(eid, "FAILED", error={"kind": "USER", "message": "boom"})
    with caplog.at_level("WARNING", logger="plait.notify"):
        assert api.service().deliver_due() == 2
    lines = [json.loads(line) for line in (api.home / "notifications.log").read_text().splitlines()]
    assert sorted(line["channel"] for line in lines) == ["pager_duty", "slack"]
    for line in lines:
        assert line["execution_id"] == eid and line["phase"] == "FAILED"
        assert line["subject"] == f"plait: execution {eid} FAILED (launch plan chat_lp)"
        assert "Error: USER: boom" in line["body"]
        assert line["link"] == f"http://plait.example:8742/api/v1/executions/{eid}"
    assert f"plait: execution {eid} FAILED" in caplog.text
    assert {(r["sink"], r["status"]) for r in api.deliveries(eid)} == {("log", "SENT")}


def test_notifications_given_at_launch_replace_the_plans(api: Api, inbox: Inbox) -> None:
    mine = [{"channel": "email", "phases": ["SUCCEEDED"], "recipients_email": ["me@example.com"]}]
    eid = api.launch("quiet_lp", notifications=mine)
    silenced = api.launch("emailed_lp", notifications=[])
    api.end(eid, "SUCCEEDED")
    api.end(silenced, "FAILED", error={"kind": "USER", "message": "boom"})
    assert api.service(smtp_host=inbox.host, smtp_port=inbox.port).deliver_due() == 1
    [(_, recipients, text)] = inbox.messages
    assert recipients == ["me@example.com"]
    assert f"Subject: plait: execution {eid} SUCCEEDED" in text
    assert api.deliveries(silenced) == []

    bad = api.http.post("/api/v1/executions", json={
        "kind": "launch_plan", "name": "quiet_lp", "inputs": {"x": 1},
        "notifications": [{"channel": "email", "phases": ["RUNNING"], "recipients_email": ["me@example.com"]}]})
    assert bad.status_code == 422, bad.text


def test_a_phase_rolled_back_sends_nothing(api: Api) -> None:
    eid = api.launch("emailed_lp")
    with pytest.raises(RuntimeError), api.db.session() as s:
        queries.set_execution_phase(s, eid, "FAILED")
        raise RuntimeError("the transaction fails after the phase was written")
    assert api.deliveries(eid) == []
    api.end(eid, "FAILED")
    assert len(api.deliveries(eid)) == 1


def test_a_skipped_scheduled_run_can_be_notified(api: Api, http_sink: HttpSink) -> None:
    import datetime as dt

    tick = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
    with api.db.session() as s:
        ids = notify_schedule_skipped(
            s, project="default", domain="development", launch_plan_name="chat_lp", launch_plan_version="v1",
            notifications=[n.to_spec() for n in chat_lp.notifications], tick=tick,
            reason="concurrency limit (1) reached", active=1)
    assert len(ids) == 2
    service = api.service(slack_webhook_url=f"{http_sink.url}/slack")
    assert service.deliver_due() == 2
    [slack] = http_sink.bodies("/slack")
    assert "*plait: scheduled run of launch plan chat_lp at 2030-01-01T12:00:00+00:00 was not launched*" \
        in slack["text"]
    assert "Reason: concurrency limit (1) reached" in slack["text"]
    listed = api.http.get("/api/v1/notifications", params={"launch_plan": "chat_lp"}).json()["items"]
    assert {(r["event"], r["status"]) for r in listed} == {("schedule_skipped", "SENT")}


def test_two_services_never_send_one_message_twice(api: Api, http_sink: HttpSink) -> None:
    ids = [api.launch("chat_lp") for _ in range(20)]
    for eid in ids:
        api.end(eid, "SUCCEEDED")
    services = [api.service(slack_webhook_url=f"{http_sink.url}/slack") for _ in range(2)]
    threads = [threading.Thread(target=lambda sv=sv: [sv.deliver_due() for _ in range(5)]) for sv in services]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(http_sink.bodies("/slack")) == 20
    with api.db.session(readonly=True) as s:
        assert {(d.status, d.attempts) for d in nq.list_deliveries(s)} == {("SENT", 1)}


def test_malformed_sink_settings_stop_the_server_with_the_variable_named(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    for env, message in (
        ({"PLAIT_SMTP_PORT": "smtp"}, "PLAIT_SMTP_PORT must be a positive number, found 'smtp'"),
        ({"PLAIT_SLACK_WEBHOOK_URL": "hooks.slack.com/x"},
         "PLAIT_SLACK_WEBHOOK_URL must be an http:// or https:// URL, found 'hooks.slack.com/x'"),
        ({"PLAIT_NOTIFY_BACKOFF_S": "0"}, "PLAIT_NOTIFY_BACKOFF_S must be a positive number, found '0'"),
    ):
        with pytest.raises(ValueError) as caught:
            Settings.from_env(env=env, home=home)
        assert str(caught.value) == message
    plain = Settings.from_env(env={}, home=home).notify
    assert (plain.smtp_host, plain.slack_webhook_url, plain.pagerduty_routing_key) == (None, None, None)
    assert plain.pagerduty_url == "https://events.pagerduty.com/v2/enqueue"


# ------------------------------------------------------------------ a real server

PROGRAM = '''
import plait
from plait import Email, WorkflowExecutionPhase


@plait.task
def must_be_even(x: int) -> int:
    if x % 2:
        raise ValueError(f"x must be even, got {x}")
    return x


@plait.workflow
def evens(x: int = 1) -> int:
    return must_be_even(x=x)


evens_lp = plait.LaunchPlan(
    "evens_lp", evens,
    notifications=[Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["ops@example.com"])],
)
'''


@pytest.mark.slow
def test_a_real_server_emails_a_failed_execution(tmp_path: Path, inbox: Inbox) -> None:
    import importlib.util
    import os
    import subprocess
    import sys

    from server_fixture import running_server

    path = tmp_path / "evens.py"
    path.write_text(PROGRAM)
    spec = importlib.util.spec_from_file_location("evens", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["evens"] = module
    spec.loader.exec_module(module)

    env = {"PLAIT_SMTP_HOST": inbox.host, "PLAIT_SMTP_PORT": str(inbox.port),
           "PLAIT_SMTP_FROM": "plait@example.com", "PLAIT_NOTIFY_POLL_S": "0.2"}
    with running_server(tmp_path / "home", env=env) as server:
        remote = server.remote()
        run = remote.execute(module.evens_lp, {"x": 3})
        assert run.wait(timeout=120).phase == "FAILED", server.log_tail()
        wait_for(lambda: inbox.messages, timeout=30)
        [(_, recipients, text)] = inbox.messages
        assert recipients == ["ops@example.com"]
        assert f"Subject: plait: execution {run.id} FAILED (launch plan evens_lp)" in text
        assert "x must be even, got 3" in text
        assert f"View: {server.url}/api/v1/executions/{run.id}" in text

        shown = subprocess.run(
            [sys.executable, "-m", "plait", "get", "execution", run.id], capture_output=True, text=True,
            env={**os.environ, "PLAIT_ENDPOINT": server.url, "PLAIT_TOKEN": server.token, "COLUMNS": "200"},
            timeout=60)
        assert shown.returncode == 0, shown.stderr
        assert "Notifications" in shown.stdout, shown.stdout
        row = next(line for line in shown.stdout.splitlines() if "ops@example.com" in line)
        assert "email" in row and "SENT" in row and "FAILED" in row
